#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/task.h"

static void test_names_round_trip(void **state)
{
	enum task_state s;
	enum task_priority p;
	enum attempt_outcome o;

	for (int i = 0; i < TASK_STATE_COUNT; i++) {
		assert_true(task_state_parse(task_state_name((enum task_state)i), &s));
		assert_int_equal(s, i);
	}
	for (int i = 0; i < PRIO_COUNT; i++) {
		assert_true(task_priority_parse(task_priority_name((enum task_priority)i), &p));
		assert_int_equal(p, i);
	}
	for (int i = 0; i < ATTEMPT_OUTCOME_COUNT; i++) {
		assert_true(attempt_outcome_parse(attempt_outcome_name((enum attempt_outcome)i), &o));
		assert_int_equal(o, i);
	}
	assert_true(task_priority_parse("CRITICAL", &p));
	assert_int_equal(p, PRIO_CRITICAL);
	assert_true(task_priority_parse("3", &p));
	assert_int_equal(p, PRIO_LOW);
	assert_true(task_priority_parse("Norm", &p));
	assert_int_equal(p, PRIO_NORMAL);
	assert_false(task_priority_parse("4", &p));
	assert_false(task_priority_parse("urgent", &p));
	assert_false(task_state_parse("done", &s));
	assert_string_equal(task_state_name((enum task_state)99), "?");
}

static void test_transition_table(void **state)
{
	/* Final states go nowhere. */
	for (int to = 0; to < TASK_STATE_COUNT; to++) {
		assert_false(task_transition_allowed(TASK_COMPLETED, (enum task_state)to));
		assert_false(task_transition_allowed(TASK_FAILED, (enum task_state)to));
		assert_false(task_transition_allowed(TASK_CANCELLED, (enum task_state)to));
	}
	assert_false(task_transition_allowed(TASK_QUEUED, TASK_QUEUED));
	assert_true(task_transition_allowed(TASK_QUEUED, TASK_RUNNING));
	assert_true(task_transition_allowed(TASK_QUEUED, TASK_CANCELLED));
	assert_true(task_transition_allowed(TASK_RUNNING, TASK_RUNNING));
	assert_true(task_transition_allowed(TASK_RUNNING, TASK_QUEUED));
	assert_false(task_transition_allowed((enum task_state)7, TASK_QUEUED));
}

static void test_transitions_stamp_times(void **state)
{
	struct task *t = task_new("/m/buck.plecs", NULL, NULL, PRIO_HIGH);
	struct task *copy;

	assert_string_equal(t->vars, "{}");
	assert_int_equal(t->state, TASK_QUEUED);
	assert_true(task_transition(t, TASK_RUNNING, 1000));
	assert_int_equal(t->started, 1000);
	t->retry_due = 5000;
	assert_true(task_transition(t, TASK_RUNNING, 6000));
	assert_int_equal(t->started, 1000);
	assert_true(task_transition(t, TASK_COMPLETED, 9000));
	assert_int_equal(t->finished, 9000);
	assert_int_equal(t->retry_due, 0);
	assert_false(task_transition(t, TASK_CANCELLED, 9500));
	assert_int_equal(t->state, TASK_COMPLETED);
	task_set_text(&t->error, "boom");
	copy = task_dup(t);
	assert_string_equal(copy->error, "boom");
	assert_string_equal(copy->model, "/m/buck.plecs");
	assert_ptr_not_equal(copy->model, t->model);
	task_free(&t);
	task_free(&copy);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_transitions_stamp_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
