/*
 * The engine's memory of queued tasks (DESIGN 3, 7): a queued task keeps its
 * place in the queue in memory and its record in the store, and whatever
 * reads it — a dispatch, a console's page, a cancel or a reprioritize — gets
 * it back exactly as submitted, also after a restart.  The real engine on a
 * real SQLite file, with the fake clock and backend of fake.h.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
/* libasan's, declared here: gcc 12 ships no sanitizer/allocator_interface.h. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "engine/engine.h"
#include "fake.h"
#include "util/xalloc.h"

#define NOW INT64_C(1795842434000)
#define URL "http://plecs-1:1080/RPC2"
/* Enough tasks that the store's bounded page cache and the log's kept lines are noise per task. */
#define MANY 50000
#define BATCH 1000
/* DESIGN 3's budget for a queued task in the server's memory. */
#define BYTES_PER_QUEUED 250

struct fx {
	char *dir, *model;
	struct fake_clock *fc;
	struct fake_backend *fb;
	struct backend_config backend;
	struct engine_options opt;
	struct engine *e;
};

static int fx_setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	const char *tmp = getenv("SIMQ_TEST_TMP");
	FILE *f;

	fx->dir = xasprintf("%s/engine-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	fx->model = xasprintf("%s/buck.plecs", fx->dir);
	f = fopen(fx->model, "w");
	assert_non_null(f);
	fputs("Plecs {\n  Name \"buck\"\n}\n", f);
	fclose(f);
	fx->fc = fake_clock_new(NOW);
	fx->fb = fake_backend_new(fx->fc);
	fx->backend = (struct backend_config){.name = "plecs-1", .url = URL, .slots = 1, .max_batch = 16,
					      .call_timeout = 3600};
	fx->opt = (struct engine_options){
		.db_path = xasprintf("%s/simq.db", fx->dir),
		.log_keep = 1000,
		.durability = STORE_DURABILITY_NORMAL,
		.start_paused = true,
		.sched = {.max_retries = 3, .down_after = 3, .backoff_base = 5, .backoff_max = 60, .probe_max = 60,
			  .retry_faults = "license checkout", .results_dir = xasprintf("%s/results", fx->dir), .seed = 1,
			  .writer_ops = fake_writer_ops(), .writer_impl = fx->fb},
		.backends = &fx->backend,
		.nbackends = 1,
		.backend_ops = fake_backend_ops(),
		.backend_impl = fx->fb,
		.clock = fake_clock_get(fx->fc),
		.started_line = "server started (unit test)",
	};
	*state = fx;
	return 0;
}

static void fx_open(struct fx *fx)
{
	char *err = NULL;

	fx->e = engine_open(&fx->opt, &err);
	if (fx->e == NULL)
		fail_msg("engine_open: %s", err ? err : "(no message)");
	fake_backend_answer_probes(fx->fb, true);
	engine_start(fx->e);
	fake_backend_answer_probes(fx->fb, false);
}

static void fx_close(struct fx *fx)
{
	struct fake_call *c;

	engine_stop(fx->e);
	while ((c = fake_backend_running_on(fx->fb, NULL)) != NULL)
		fake_call_transport(fx->fb, c, "the server is stopping");
	engine_close(&fx->e);
}

/* The server dies: the engine goes with its call in flight unanswered, and the store keeps the attempt open. */
static void fx_crash(struct fx *fx)
{
	for (size_t i = 0; i < fake_backend_count(fx->fb); i++) {
		struct fake_call *c = fake_backend_call(fx->fb, i);

		c->ended = true;
		c->call = NULL;
	}
	engine_close(&fx->e);
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	char *rm = xasprintf("rm -rf '%s'", fx->dir);

	if (fx->e)
		fx_close(fx);
	assert_int_equal(fake_clock_live(fx->fc), 0);
	fake_backend_free(&fx->fb);
	fake_clock_free(&fx->fc);
	assert_int_equal(system(rm), 0);
	free(rm);
	free((char *)fx->opt.db_path);
	free((char *)fx->opt.sched.results_dir);
	free(fx->model);
	free(fx->dir);
	free(fx);
	return 0;
}

/* A task as a sweep submits it: a name, tags, ModelVars that differ per task, SolverOpts, a timeout. */
static struct task *sweep_task(const struct fx *fx, int k, enum task_priority prio)
{
	char *vars = xasprintf("{\"D\":0.5,\"K\":%d,\"L\":[1e-3,2.5e-3]}", k);
	struct task *t = task_new(fx->model, vars, "{\"TimeSpan\":0.02,\"MaxStep\":1e-6}", prio);

	free(vars);
	task_set_text(&t->name, "sweep-buck");
	task_set_text(&t->tags, "night,buck");
	t->timeout = 90;
	return t;
}

static void submit_sweep(struct fx *fx, int from, size_t n, enum task_priority prio, int64_t *ids)
{
	struct task **tasks = xcalloc(n, sizeof *tasks);
	char *err = NULL;

	for (size_t i = 0; i < n; i++)
		tasks[i] = sweep_task(fx, from + (int)i, prio);
	if (engine_submit(fx->e, NULL, tasks, n, ids, &err) != ENGINE_OK)
		fail_msg("engine_submit: %s", err ? err : "(no message)");
	free(tasks);
}

/* Bytes the process has allocated now, less what SQLite holds (its page cache is bounded, not per task). */
static int64_t engine_heap(void)
{
#ifdef __SANITIZE_ADDRESS__
	int64_t all = (int64_t)__sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();
	/* Chunks in the heap, and the large ones malloc maps by themselves. */
	int64_t all = (int64_t)(m.uordblks + m.hblkhd);
#endif
	return all - (int64_t)sqlite3_memory_used();
}

static void resume(struct fx *fx)
{
	bool now = true;
	char *err = NULL;

	assert_int_equal(engine_pause(fx->e, NULL, false, &now, &err), ENGINE_OK);
	assert_false(now);
}

/* The case of the running call for task id, or NULL. */
static const struct backend_case *case_of(struct fx *fx, int64_t id)
{
	for (size_t i = 0; i < fake_backend_count(fx->fb); i++) {
		struct fake_call *c = fake_backend_call(fx->fb, i);

		for (size_t j = 0; c->call && !c->ended && j < c->n; j++)
			if (c->ids[j] == id)
				return &c->call->cases[j];
	}
	return NULL;
}

/* Each sent case carries the ModelVars, SolverOpts and Timeout its task was submitted with. */
static void assert_sent_as_submitted(struct fx *fx, const int64_t *ids, size_t n, int first_k)
{
	struct fake_call *c = fake_backend_last(fx->fb);

	assert_non_null(c);
	assert_string_equal(c->model_path, fx->model);
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct backend_case *bc = case_of(fx, ids[i]);
		char *vars = xasprintf("{\"D\":0.5,\"K\":%d,\"L\":[1e-3,2.5e-3]}", first_k + (int)i);

		assert_non_null(bc);
		assert_string_equal(bc->vars, vars);
		assert_string_equal(bc->solver, "{\"TimeSpan\":0.02,\"MaxStep\":1e-6}");
		assert_true(bc->timeout == 90);
		free(vars);
	}
}

/* ---- tests ------------------------------------------------------------------------------ */

/* A million queued tasks fit in 250 MB: each costs the engine at most 250 bytes of heap. */
static void test_queued_task_footprint(void **state)
{
	struct fx *fx = *state;
	int64_t *ids = xcalloc(BATCH, sizeof *ids);

	fx_open(fx);
	/* One batch first, so the heap's one-time growth (the log's ring, the first tree nodes) is not counted. */
	submit_sweep(fx, 0, BATCH, PRIO_NORMAL, ids);
	int64_t before = engine_heap();

	for (int b = 1; b <= MANY / BATCH; b++)
		submit_sweep(fx, b * BATCH, BATCH, (enum task_priority)(b % PRIO_COUNT), ids);
	int64_t after = engine_heap();
	double per_task = (double)(after - before) / MANY;

	print_message("# %.1f bytes of heap per queued task (%d tasks; budget %d)\n", per_task, MANY, BYTES_PER_QUEUED);
	assert_int_equal(queue_size(engine_queue(fx->e)), MANY + BATCH);
	/* The queue's own nodes are counted: a figure near zero would mean the heap was not measured. */
	assert_true(per_task >= 40);
	assert_true(per_task <= BYTES_PER_QUEUED);
	/* None of them has its record in memory. */
	assert_null(engine_loaded(fx->e, ids[0]));
	assert_true(engine_is_active(fx->e, ids[0]));
	free(ids);
}

struct page {
	int64_t ids[8];
	int64_t positions[8];
	char vars[8][64];
	size_t n;
};

static void take_row(const struct task *t, int64_t position, void *ud)
{
	struct page *p = ud;

	assert_true(p->n < 8);
	assert_string_equal(t->name, "sweep-buck");
	assert_string_equal(t->tags, "night,buck");
	assert_string_equal(t->solver, "{\"TimeSpan\":0.02,\"MaxStep\":1e-6}");
	assert_int_equal(t->state, TASK_QUEUED);
	p->ids[p->n] = t->id;
	p->positions[p->n] = position;
	snprintf(p->vars[p->n], sizeof p->vars[0], "%s", t->vars);
	p->n++;
}

/* A page of the queue reads its rows from the store in queue order, with everything a console draws. */
static void test_queue_page_reads_the_store(void **state)
{
	struct fx *fx = *state;
	int64_t normal[4], high[2];
	struct page p = {0};
	char *err = NULL;

	fx_open(fx);
	submit_sweep(fx, 0, 4, PRIO_NORMAL, normal);
	submit_sweep(fx, 100, 2, PRIO_HIGH, high);
	assert_int_equal(engine_queue_page(fx->e, 1, 4, take_row, &p, &err), ENGINE_OK);
	assert_int_equal(p.n, 4);
	const int64_t want[] = {high[1], normal[0], normal[1], normal[2]};
	const char *want_vars[] = {"{\"D\":0.5,\"K\":101,\"L\":[1e-3,2.5e-3]}", "{\"D\":0.5,\"K\":0,\"L\":[1e-3,2.5e-3]}",
				   "{\"D\":0.5,\"K\":1,\"L\":[1e-3,2.5e-3]}", "{\"D\":0.5,\"K\":2,\"L\":[1e-3,2.5e-3]}"};

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(p.ids[i], want[i]);
		assert_int_equal(p.positions[i], 1 + (int64_t)i);
		assert_string_equal(p.vars[i], want_vars[i]);
	}
	/* Reading a page keeps nothing in memory. */
	for (size_t i = 0; i < 4; i++)
		assert_null(engine_loaded(fx->e, normal[i]));
	/* Past the end: nothing, and no error. */
	p.n = 0;
	assert_int_equal(engine_queue_page(fx->e, 6, 10, take_row, &p, &err), ENGINE_OK);
	assert_int_equal(p.n, 0);
}

/* Reprioritize and cancel act on queued tasks through the store and leave no record behind in memory. */
static void test_operations_on_queued_tasks(void **state)
{
	struct fx *fx = *state;
	int64_t ids[3];
	enum task_state after[1], states[3];
	bool all_final = true;
	char *err = NULL;
	const struct task *t;
	struct task *owned;
	struct queue_item head;

	fx_open(fx);
	submit_sweep(fx, 0, 3, PRIO_LOW, ids);
	assert_int_equal(engine_reprioritize(fx->e, &ids[2], 1, PRIO_CRITICAL, after, &err), ENGINE_OK);
	assert_int_equal(after[0], TASK_QUEUED);
	assert_true(queue_head(engine_queue(fx->e), &head));
	assert_int_equal(head.id, ids[2]);
	assert_null(engine_loaded(fx->e, ids[2]));
	assert_int_equal(engine_find(fx->e, ids[2], &t, &owned, &err), ENGINE_OK);
	assert_non_null(owned);
	assert_int_equal(t->priority, PRIO_CRITICAL);
	assert_string_equal(t->vars, "{\"D\":0.5,\"K\":2,\"L\":[1e-3,2.5e-3]}");
	task_free(&owned);

	assert_int_equal(engine_cancel(fx->e, &ids[0], 1, after, &err), ENGINE_OK);
	assert_int_equal(after[0], TASK_CANCELLED);
	assert_false(engine_is_active(fx->e, ids[0]));
	assert_int_equal(queue_size(engine_queue(fx->e)), 2);
	assert_int_equal(engine_states(fx->e, ids, 3, states, &all_final, &err), ENGINE_OK);
	assert_int_equal(states[0], TASK_CANCELLED);
	assert_int_equal(states[1], TASK_QUEUED);
	assert_int_equal(states[2], TASK_QUEUED);
	assert_false(all_final);
}

/* A dispatched batch carries what was submitted, read from the store in one go, and again after a restart. */
static void test_dispatch_sends_what_was_submitted(void **state)
{
	struct fx *fx = *state;
	int64_t ids[6];

	fx->backend.max_batch = 4;
	fx_open(fx);
	submit_sweep(fx, 10, 6, PRIO_NORMAL, ids);
	resume(fx);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	assert_sent_as_submitted(fx, ids, 4, 10);
	assert_non_null(engine_loaded(fx->e, ids[0]));
	assert_null(engine_loaded(fx->e, ids[4]));

	/* The server dies with the call in flight: after the restart the same cases go again, as submitted. */
	fx_crash(fx);
	fx->opt.start_paused = false;
	fx_open(fx);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	assert_sent_as_submitted(fx, ids, 4, 10);
	fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 3);
	assert_sent_as_submitted(fx, ids + 4, 2, 14);
}

/*
 * The spans in which nothing could finish (nothing running, and paused or nothing queued) are kept
 * for a rate over the rest: the start paused, idle time, a pause once the calls in flight end, one
 * still going; more than ENGINE_HELD_SPANS old ones are forgotten.
 */
static void test_paused_spans(void **state)
{
	struct fx *fx = *state;
	bool now;
	char *err = NULL;
	int64_t ids[1], t;

	fx_open(fx); /* start_paused, nothing queued: held since NOW */
	fake_clock_advance(fx->fc, 60000);
	submit_sweep(fx, 1, 1, PRIO_NORMAL, ids); /* queued, but paused: still held */
	fake_clock_advance(fx->fc, 10000);
	resume(fx); /* sent: running */
	assert_int_equal(fake_backend_count(fx->fb), 1);
	fake_clock_advance(fx->fc, 20000);
	assert_int_equal(engine_held_ms(fx->e, NOW, NOW + 90000), 70000);
	assert_int_equal(engine_held_ms(fx->e, NOW + 30000, NOW + 90000), 40000);
	assert_int_equal(engine_held_ms(fx->e, NOW + 70000, NOW + 90000), 0);
	/* Paused with a call in flight: its tasks finish meanwhile, so the time counts only once it ends. */
	assert_int_equal(engine_pause(fx->e, NULL, true, &now, &err), ENGINE_OK);
	fake_clock_advance(fx->fc, 10000);
	assert_int_equal(engine_held_ms(fx->e, NOW + 90000, NOW + 100000), 0);
	fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
	assert_int_equal(engine_running(fx->e), 0);
	fake_clock_advance(fx->fc, 5000);
	assert_int_equal(engine_held_ms(fx->e, NOW + 90000, NOW + 105000), 5000);
	/* Resumed with nothing queued: idle, nothing can finish either, until work comes. */
	resume(fx);
	fake_clock_advance(fx->fc, 7000);
	assert_int_equal(engine_held_ms(fx->e, NOW + 105000, NOW + 112000), 7000);
	/* Idle, then a task, ENGINE_HELD_SPANS + 4 times: the newest ENGINE_HELD_SPANS idle seconds are known. */
	t = fake_clock_now(fx->fc);
	for (int i = 0; i < ENGINE_HELD_SPANS + 4; i++) {
		submit_sweep(fx, 10 + i, 1, PRIO_NORMAL, ids);
		fake_clock_advance(fx->fc, 1000);
		fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
		fake_clock_advance(fx->fc, 1000);
	}
	submit_sweep(fx, 100, 1, PRIO_NORMAL, ids);
	assert_int_equal(engine_held_ms(fx->e, t, fake_clock_now(fx->fc)), 1000 * ENGINE_HELD_SPANS);
	fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
}

/* A server that started dispatching, after a while paused by simq pause [BACKEND]. */
static void open_then_pause(struct fx *fx, int64_t after_ms, const char *backend)
{
	bool now;
	char *err = NULL;

	fx->opt.start_paused = false;
	fx_open(fx);
	fake_clock_advance(fx->fc, after_ms);
	assert_int_equal(engine_pause(fx->e, backend, true, &now, &err), ENGINE_OK);
}

/* A pause the next server restores was held all along: from simq pause, through the time the server was down. */
static void test_pause_across_restart(void **state)
{
	struct fx *fx = *state;
	int64_t ids[1];

	open_then_pause(fx, 1000, NULL);
	submit_sweep(fx, 1, 1, PRIO_NORMAL, ids); /* queued behind the pause */
	fake_clock_advance(fx->fc, 9000);
	fx_close(fx);
	fake_clock_advance(fx->fc, 30000); /* down */
	fx_open(fx);
	assert_true(engine_paused(fx->e));
	fake_clock_advance(fx->fc, 10000);
	assert_int_equal(engine_held_ms(fx->e, NOW + 1000, NOW + 50000), 49000);
}

static void note_paused(const struct sched_backend_info *b, void *ud)
{
	*(bool *)ud = b->paused;
}

static bool backend_paused(struct fx *fx)
{
	bool paused = false;

	scheduler_each_backend(engine_scheduler(fx->e), note_paused, &paused);
	return paused;
}

/* A backend the operator paused stays paused after a restart (the operator's finding: a PLECS parked for
 * service got work again), and one resumed stays resumed. */
static void test_backend_pause_across_restart(void **state)
{
	struct fx *fx = *state;
	bool now;
	char *err = NULL;
	int64_t ids[1];

	open_then_pause(fx, 0, "plecs-1");
	fx_close(fx);
	fx_open(fx);
	assert_true(backend_paused(fx));
	submit_sweep(fx, 1, 1, PRIO_NORMAL, ids);
	assert_int_equal(fake_backend_count(fx->fb), 0);
	assert_int_equal(engine_pause(fx->e, "plecs-1", false, &now, &err), ENGINE_OK);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
	fx_close(fx);
	fx_open(fx);
	assert_false(backend_paused(fx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queued_task_footprint, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_page_reads_the_store, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_paused_spans, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pause_across_restart, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backend_pause_across_restart, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_operations_on_queued_tasks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_sends_what_was_submitted, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
