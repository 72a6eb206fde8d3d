#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/stats.h"

#define NOW INT64_C(1795842434000)

static struct task make(enum task_state state, int attempts, int failed_attempts, bool transient, int64_t finished)
{
	struct task t = {.state = state, .attempts = attempts, .failed_attempts = failed_attempts,
			 .had_transient = transient, .finished = finished};

	return t;
}

/*
 * The seed figures of DESIGN 9: 8,547 completed first time, 453 after
 * retries, 50 failed after exhausting 3 retries; 855 retries over the 503
 * tasks that had a failed attempt (mean 1.7).
 */
static void test_seed_figures(void **state)
{
	struct stats s;
	struct stats_counts c;
	int retries_of_453 = 855 - 50 * 3;

	stats_init(&s, NOW - 3600000, NULL);
	for (int i = 0; i < 8547; i++) {
		struct task t = make(TASK_COMPLETED, 1, 0, false, NOW - i);

		stats_record(&s, &t);
	}
	/* 453 tasks sharing 705 retries: 252 with 2, 201 with 1. */
	for (int i = 0; i < 453; i++) {
		int r = i < retries_of_453 - 453 ? 2 : 1;
		struct task t = make(TASK_COMPLETED, 1 + r, r, true, NOW - i);

		stats_record(&s, &t);
	}
	for (int i = 0; i < 50; i++) {
		struct task t = make(TASK_FAILED, 4, 4, true, NOW - i);

		stats_record(&s, &t);
	}
	stats_window(&s, STATS_SINCE_START, NOW, &c);
	assert_int_equal(c.completed_first, 8547);
	assert_int_equal(c.completed_retry, 453);
	assert_int_equal(c.failed, 50);
	assert_int_equal(c.retries, 855);
	assert_int_equal(c.with_failed_attempt, 503);

	char text[64];

	snprintf(text, sizeof text, "%.1f %%", 100 * stats_success_rate(&c));
	assert_string_equal(text, "99.4 %");
	snprintf(text, sizeof text, "%.0f %%", 100 * stats_retry_effectiveness(&c));
	assert_string_equal(text, "90 %");
	snprintf(text, sizeof text, "%.1f", stats_retries_per_failed(&c));
	assert_string_equal(text, "1.7");
}

static void test_definitions(void **state)
{
	struct stats_counts c = {0};
	struct task permanent = make(TASK_FAILED, 1, 1, false, NOW);
	struct task never_ran = make(TASK_FAILED, 0, 0, false, NOW);
	struct task cancelled = make(TASK_CANCELLED, 2, 1, true, NOW);
	struct task cached = make(TASK_COMPLETED, 0, 0, false, NOW);

	cached.cached = true;
	stats_add_task(&c, &permanent, 1);
	stats_add_task(&c, &never_ran, 1);
	stats_add_task(&c, &cancelled, 1);
	stats_add_task(&c, &cached, 1);
	/* FAILED counts only after an attempt; a permanent failure is not a transient one. */
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.failed_transient, 0);
	assert_int_equal(c.cancelled, 1);
	assert_int_equal(c.cached, 1);
	assert_int_equal(c.completed_first + c.completed_retry, 0);
	assert_int_equal(c.with_failed_attempt, 2);
	assert_int_equal(c.retries, 1);
	assert_true(stats_success_rate(&c) == 0.0);
	assert_true(isnan(stats_retry_effectiveness(&c)));
	stats_add_task(&c, &cancelled, -1);
	assert_int_equal(c.cancelled, 0);
	struct stats_counts empty = {0};

	assert_true(isnan(stats_success_rate(&empty)));
	assert_true(isnan(stats_retries_per_failed(&empty)));
}

/*
 * Every outcome at once, with figures that tell each definition of DESIGN 9 from its near misses:
 * 6 completed first time, 2 after retries (3 retries between them), 1 failed at once on PLECS's
 * own error, 1 failed after exhausting 3 retries, 1 failed before any attempt, 3 cancelled (one
 * after a failed attempt) and 1 cached.
 *   success rate = 8 / (8 + 2) = 0.8 (not 8/13 with the cancelled, not 8/11 with the one that never ran);
 *   retry effectiveness = 2 / (2 + 1) (only the failure that had a transient error counts);
 *   retries per failed task = (3 + 3 + 1) / 5 tasks with a failed attempt = 1.4.
 */
static void test_mixed_outcomes(void **state)
{
	struct stats s;
	struct stats_counts c;
	struct task tasks[] = {
	    make(TASK_COMPLETED, 1, 0, false, NOW), make(TASK_COMPLETED, 1, 0, false, NOW),
	    make(TASK_COMPLETED, 1, 0, false, NOW), make(TASK_COMPLETED, 1, 0, false, NOW),
	    make(TASK_COMPLETED, 1, 0, false, NOW), make(TASK_COMPLETED, 1, 0, false, NOW),
	    make(TASK_COMPLETED, 2, 1, true, NOW), make(TASK_COMPLETED, 3, 2, true, NOW),
	    make(TASK_FAILED, 1, 1, false, NOW),    /* PLECS's own error: permanent */
	    make(TASK_FAILED, 4, 4, true, NOW),     /* retries exhausted */
	    make(TASK_FAILED, 0, 0, false, NOW),    /* never ran: not counted as failed */
	    make(TASK_CANCELLED, 0, 0, false, NOW), make(TASK_CANCELLED, 1, 0, false, NOW),
	    make(TASK_CANCELLED, 2, 1, true, NOW),  /* a failed attempt, then cancelled while waiting */
	    make(TASK_COMPLETED, 0, 0, false, NOW), /* cached */
	};

	tasks[14].cached = true;
	stats_init(&s, NOW - 1000, NULL);
	for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
		stats_record(&s, &tasks[i]);
	stats_window(&s, STATS_SINCE_START, NOW, &c);
	assert_int_equal(c.completed_first, 6);
	assert_int_equal(c.completed_retry, 2);
	assert_int_equal(c.failed, 2);
	assert_int_equal(c.failed_transient, 1);
	assert_int_equal(c.cancelled, 3);
	assert_int_equal(c.cached, 1);
	assert_int_equal(c.with_failed_attempt, 5);
	assert_int_equal(c.retries, 7);
	assert_true(fabs(stats_success_rate(&c) - 0.8) < 1e-12);
	assert_true(fabs(stats_retry_effectiveness(&c) - 2.0 / 3.0) < 1e-12);
	assert_true(fabs(stats_retries_per_failed(&c) - 1.4) < 1e-12);
	/*
	 * The per-minute throughput counts what PLECS ran to an end: completed and failed, not cancelled,
	 * and not cached (on their own: no PLECS time, so no part of an ETA).
	 */
	int64_t per_minute[2], cached[2];

	stats_minutes(&s, NOW, 2, per_minute, cached);
	assert_int_equal(per_minute[0], 0);
	assert_int_equal(per_minute[1], 6 + 2 + 2);
	assert_int_equal(cached[0], 0);
	assert_int_equal(cached[1], 1);
	stats_minutes(&s, NOW, 2, per_minute, NULL);
	assert_int_equal(per_minute[1], 6 + 2 + 2);
}

static void test_windows(void **state)
{
	struct stats s;
	struct stats_counts all = {.completed_first = 100}, c;

	stats_init(&s, NOW, &all);
	/* Before the start: in all time and 24 h, not since start. */
	struct task old = make(TASK_COMPLETED, 1, 0, false, NOW - 3600 * 1000);
	struct task now = make(TASK_COMPLETED, 2, 1, true, NOW + 1000);
	struct task ancient = make(TASK_COMPLETED, 1, 0, false, NOW - 25 * 3600 * 1000LL);

	stats_record(&s, &old);
	stats_record(&s, &now);
	stats_record(&s, &ancient);
	stats_window(&s, STATS_ALL, NOW + 2000, &c);
	assert_int_equal(c.completed_first, 102);
	assert_int_equal(c.completed_retry, 1);
	stats_window(&s, STATS_SINCE_START, NOW + 2000, &c);
	assert_int_equal(c.completed_first, 0);
	assert_int_equal(c.completed_retry, 1);
	stats_window(&s, STATS_DAY, NOW + 2000, &c);
	assert_int_equal(c.completed_first, 1);
	assert_int_equal(c.completed_retry, 1);
	/* A day later the window has moved past them. */
	stats_window(&s, STATS_DAY, NOW + 24 * 3600 * 1000LL + 120000, &c);
	assert_int_equal(c.completed_first + c.completed_retry, 0);
	assert_true(stats_day_start(NOW) <= NOW - 1439 * 60000);
	assert_string_equal(stats_window_name(STATS_DAY), "last 24 h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_figures),
		cmocka_unit_test(test_definitions),
		cmocka_unit_test(test_mixed_outcomes),
		cmocka_unit_test(test_windows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
