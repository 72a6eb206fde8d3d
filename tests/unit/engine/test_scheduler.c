/*
 * The scheduler, driven through the real engine (SQLite store, queue, events)
 * on the fake clock and the fake backend of fake.h: DESIGN 4-6 as behaviour.
 * Every test starts at NOW on a fresh state dir; nothing sleeps, nothing forks.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <dirent.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "fake.h"
#include "util/xalloc.h"

#define NOW INT64_C(1795842434000)
#define URL1 "http://plecs-1:1080/RPC2"
#define URL2 "http://plecs-2:1080/RPC2"
/* A fault that matches retry_faults: transient, and no business of the breaker. */
#define LICENCE "License checkout failed: no PLECS licence is free"
#define REFUSED "connect to plecs-1 port 1080 failed: Connection refused"
#define MAX_EVENTS 512

/* Doubles compared as doubles (cmocka 1.1's assert_float_equal compares floats). */
#define assert_near(a, b, eps)                                                                          \
	do {                                                                                            \
		double a_ = (a), b_ = (b);                                                              \
		if (!(fabs(a_ - b_) <= (eps)))                                                          \
			fail_msg("%s is %.17g, expected %.17g", #a, a_, b_);                            \
	} while (0)

struct seen_event {
	enum event_type type;
	int64_t time, task_id, batch_id, retry_at;
	int attempt, max_attempts, batch_size;
	enum task_state state;
	char backend[32], error[256], error_class[16], detail[96];
	char result_path[512];
	bool has_summary;
};

struct fx {
	char *dir, *model_a, *model_b;
	struct fake_clock *fc;
	struct fake_backend *fb;
	struct backend_config backends[2];
	struct engine_options opt;
	struct engine *e;
	struct seen_event ev[MAX_EVENTS];
	size_t nev;
};

static void copy_text(char *to, size_t size, const char *from)
{
	snprintf(to, size, "%s", from ? from : "");
}

static void record_event(const struct event *ev, void *ud)
{
	struct fx *fx = ud;
	struct seen_event *s;

	if (fx->nev == MAX_EVENTS)
		fail_msg("more than %d events", MAX_EVENTS);
	s = &fx->ev[fx->nev++];
	*s = (struct seen_event){.type = ev->type, .time = ev->time, .task_id = ev->task_id, .batch_id = ev->batch_id,
				 .retry_at = ev->retry_at, .attempt = ev->attempt, .max_attempts = ev->max_attempts,
				 .batch_size = ev->batch_size, .state = ev->state,
				 .has_summary = ev->result_summary != NULL};
	copy_text(s->backend, sizeof s->backend, ev->backend);
	copy_text(s->error, sizeof s->error, ev->error);
	copy_text(s->error_class, sizeof s->error_class, ev->error_class);
	copy_text(s->detail, sizeof s->detail, ev->detail);
	copy_text(s->result_path, sizeof s->result_path, ev->result_path);
}

static char *write_model(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("Plecs {\n  Name \"model\"\n}\n", f);
	fclose(f);
	return path;
}

/* A fresh state dir and the defaults; a test changes what it needs, then calls fx_open(). */
static int fx_setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	const char *tmp = getenv("SIMQ_TEST_TMP");

	fx->dir = xasprintf("%s/sched-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	fx->model_a = write_model(fx->dir, "buck.plecs");
	fx->model_b = write_model(fx->dir, "rc.plecs");
	fx->fc = fake_clock_new(NOW);
	fx->fb = fake_backend_new(fx->fc);
	fx->backends[0] = (struct backend_config){.name = "plecs-1", .url = URL1, .slots = 1, .max_batch = 16,
						  .call_timeout = 3600};
	fx->backends[1] = (struct backend_config){.name = "plecs-2", .url = URL2, .slots = 1, .max_batch = 16,
						  .call_timeout = 3600};
	fx->opt = (struct engine_options){
		.db_path = xasprintf("%s/simq.db", fx->dir),
		.log_path = NULL,
		.log_keep = 1000,
		.durability = STORE_DURABILITY_NORMAL,
		.sched = {.max_retries = 3, .down_after = 3, .backoff_base = 5, .backoff_max = 60, .jitter = 0,
			  .probe_max = 60, .retry_faults = "license checkout", .results_dir = xasprintf("%s/results", fx->dir),
			  .seed = 1, .writer_ops = fake_writer_ops(), .writer_impl = fx->fb},
		.backends = fx->backends,
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
	assert_int_not_equal(events_subscribe(engine_bus(fx->e), record_event, fx), 0);
	/* The backends answer the server's first question; tests of the start itself turn this off. */
	fake_backend_answer_probes(fx->fb, true);
	engine_start(fx->e);
	fake_backend_answer_probes(fx->fb, false);
}

/* Ends what still runs (a test that failed half way), closes, and checks every timer was freed. */
static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	struct fake_call *c;

	if (fx->e) {
		engine_stop(fx->e);
		while ((c = fake_backend_running_on(fx->fb, NULL)) != NULL)
			fake_call_transport(fx->fb, c, "the server is stopping");
		engine_close(&fx->e);
		assert_null(fx->e);
		assert_int_equal(fake_clock_live(fx->fc), 0);
	}
	fake_backend_free(&fx->fb);
	fake_clock_free(&fx->fc);
	free((char *)fx->opt.db_path);
	free((char *)fx->opt.sched.results_dir);
	free(fx->model_a);
	free(fx->model_b);
	free(fx->dir);
	free(fx);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* A task of its own case: tasks of one case run once (the result cache's twins), and these tests count runs. */
static struct task *new_case(const char *model, const char *L, enum task_priority prio)
{
	static int n;
	char vars[64];

	snprintf(vars, sizeof vars, "{\"L\":%s,\"case\":%d}", L, ++n);
	return task_new(model, vars, NULL, prio);
}

static int64_t submit_timeout(struct fx *fx, const char *model, enum task_priority prio, double timeout)
{
	struct task *t = new_case(model, "0.001", prio);
	int64_t id = 0;
	char *err = NULL;

	t->timeout = timeout;
	if (engine_submit(fx->e, NULL, &t, 1, &id, &err) != ENGINE_OK)
		fail_msg("engine_submit: %s", err ? err : "(no message)");
	assert_true(id > 0);
	return id;
}

static int64_t submit(struct fx *fx, const char *model, enum task_priority prio)
{
	return submit_timeout(fx, model, prio, 0);
}

/* n tasks in one engine_submit (simq.submit_many): stored together, queued together, then dispatched. */
static void submit_many(struct fx *fx, const char *model, enum task_priority prio, size_t n, int64_t *ids)
{
	struct task **tasks = xcalloc(n, sizeof *tasks);
	char *err = NULL;

	for (size_t i = 0; i < n; i++)
		tasks[i] = new_case(model, "0.002", prio);
	if (engine_submit(fx->e, NULL, tasks, n, ids, &err) != ENGINE_OK)
		fail_msg("engine_submit: %s", err ? err : "(no message)");
	free(tasks);
}

static void pause_all(struct fx *fx, bool paused)
{
	bool now = !paused;
	char *err = NULL;

	assert_int_equal(engine_pause(fx->e, NULL, paused, &now, &err), ENGINE_OK);
	assert_true(now == paused);
}

static enum task_state state_of(struct fx *fx, int64_t id)
{
	const struct task *t = NULL;
	struct task *owned = NULL;
	char *err = NULL;
	enum task_state st;

	if (engine_find(fx->e, id, &t, &owned, &err) != ENGINE_OK)
		fail_msg("engine_find(%lld): %s", (long long)id, err ? err : "(no message)");
	st = t->state;
	task_free(&owned);
	return st;
}

/* Attempts counted against the task (a split is not one). */
static int attempts_of(struct fx *fx, int64_t id)
{
	const struct task *t = NULL;
	struct task *owned = NULL;
	char *err = NULL;
	int n;

	assert_int_equal(engine_find(fx->e, id, &t, &owned, &err), ENGINE_OK);
	n = t->attempts;
	task_free(&owned);
	return n;
}

/* The task's error text, as stored. */
static char *error_of(struct fx *fx, int64_t id)
{
	const struct task *t = NULL;
	struct task *owned = NULL;
	char *err = NULL, *text;

	assert_int_equal(engine_find(fx->e, id, &t, &owned, &err), ENGINE_OK);
	text = xstrdup(t->error ? t->error : "");
	task_free(&owned);
	return text;
}

/* The task's error holds text. */
static void assert_error_has(struct fx *fx, int64_t id, const char *text)
{
	char *error = error_of(fx, id);

	if (strstr(error, text) == NULL)
		fail_msg("task %lld's error \"%s\" does not say \"%s\"", (long long)id, error, text);
	free(error);
}

struct outcomes {
	char text[256];
};

static void add_outcome(const struct store_attempt *a, void *ud)
{
	struct outcomes *o = ud;
	size_t len = strlen(o->text);

	snprintf(o->text + len, sizeof o->text - len, "%s%s", len ? "," : "", attempt_outcome_name(a->outcome));
}

/* The task's attempt outcomes, oldest first: "split,split,permanent". */
static struct outcomes outcomes_of(struct fx *fx, int64_t id)
{
	struct outcomes o = {{0}};

	assert_int_equal(engine_attempts(fx->e, id, add_outcome, &o), ENGINE_OK);
	return o;
}

#define assert_outcomes(fx, id, want) assert_string_equal(outcomes_of((fx), (id)).text, (want))

static size_t count_events(const struct fx *fx, enum event_type type, int64_t task_id)
{
	size_t n = 0;

	for (size_t i = 0; i < fx->nev; i++)
		n += fx->ev[i].type == type && (task_id < 0 || fx->ev[i].task_id == task_id);
	return n;
}

/* The nth (0-based) event of that type about task_id (-1: any). */
static const struct seen_event *nth_event(const struct fx *fx, enum event_type type, int64_t task_id, size_t nth)
{
	for (size_t i = 0; i < fx->nev; i++)
		if (fx->ev[i].type == type && (task_id < 0 || fx->ev[i].task_id == task_id) && nth-- == 0)
			return &fx->ev[i];
	fail_msg("no %s event #%zu for task %lld", event_type_name(type), nth, (long long)task_id);
	return NULL;
}

/* Where the first event of that type about task_id is in the order they were published. */
static size_t event_index(const struct fx *fx, enum event_type type, int64_t task_id)
{
	return (size_t)(nth_event(fx, type, task_id, 0) - fx->ev);
}

struct backend_state {
	size_t want, at;
	bool found, up, paused, checking;
	int busy, slots, failures;
	double probe_in, downtime;
};

static void take_backend(const struct sched_backend_info *b, void *ud)
{
	struct backend_state *s = ud;

	if (s->at++ != s->want)
		return;
	s->found = true;
	s->up = b->up;
	s->paused = b->paused;
	s->checking = b->checking;
	s->busy = b->busy;
	s->slots = b->slots;
	s->failures = b->failures;
	s->probe_in = b->probe_in;
	s->downtime = b->downtime;
}

static struct backend_state backend_state(struct fx *fx, size_t i)
{
	struct backend_state s = {.want = i};

	scheduler_each_backend(engine_scheduler(fx->e), take_backend, &s);
	assert_true(s.found);
	return s;
}

struct retry_list {
	size_t n;
	int64_t id[16];
	double retry_in[16];
};

static void take_retry(const struct task *t, double retry_in, void *ud)
{
	struct retry_list *l = ud;

	if (l->n < 16) {
		l->id[l->n] = t->id;
		l->retry_in[l->n] = retry_in;
	}
	l->n++;
}

static struct retry_list retries_waiting(struct fx *fx)
{
	struct retry_list l = {0};

	scheduler_each_retry(engine_scheduler(fx->e), take_retry, &l);
	return l;
}

/* Asserts call c went to url with exactly these tasks, in this order. */
static void expect_call(const struct fake_call *c, const char *url, size_t n, const int64_t *ids)
{
	assert_non_null(c);
	assert_string_equal(c->url, url);
	assert_false(c->probe);
	if (c->n != n)
		fail_msg("call %zu holds %zu cases, expected %zu", c->index, c->n, n);
	for (size_t i = 0; i < n; i++)
		if (c->ids[i] != ids[i])
			fail_msg("call %zu: case %zu is task %lld, expected %lld", c->index, i, (long long)c->ids[i],
				 (long long)ids[i]);
	assert_true(c->as_list == (n > 1));
}

#define IDS(...) ((const int64_t[]){__VA_ARGS__})
#define NIDS(...) (sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define EXPECT_CALL(c, url, ...) expect_call((c), (url), NIDS(__VA_ARGS__), IDS(__VA_ARGS__))

static struct fake_call *call_at(struct fx *fx, size_t i)
{
	return fake_backend_call(fx->fb, i);
}

/* ---- 1. the batch rule -------------------------------------------------------------------- */

/* Same model, priority within one level of the head, in queue order, up to max_batch. */
static void test_batch_rule(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 4;
	fx_open(fx);
	pause_all(fx, true);
	int64_t a = submit(fx, fx->model_a, PRIO_CRITICAL);
	int64_t b = submit(fx, fx->model_a, PRIO_HIGH);
	int64_t c = submit(fx, fx->model_a, PRIO_LOW);
	int64_t d = submit(fx, fx->model_b, PRIO_CRITICAL);
	int64_t e = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t f = submit(fx, fx->model_a, PRIO_CRITICAL);
	int64_t g = submit(fx, fx->model_a, PRIO_HIGH);
	int64_t h = submit(fx, fx->model_a, PRIO_CRITICAL);

	/* Paused: queued, nothing sent. */
	assert_int_equal(fake_backend_count(fx->fb), 0);
	assert_int_equal(count_events(fx, EVENT_SUBMITTED, -1), 8);
	pause_all(fx, false);

	/*
	 * Queue order: a f h d (CRITICAL) b g (HIGH) e (NORMAL) c (LOW).  The CRITICAL head takes the
	 * CRITICALs and then the HIGHs of its model up to four: d (another model) and g (the fifth) stay.
	 */
	assert_int_equal(fake_backend_count(fx->fb), 1);
	struct fake_call *c0 = call_at(fx, 0);

	EXPECT_CALL(c0, URL1, a, f, h, b);
	assert_string_equal(c0->model_path, fx->model_a);
	assert_true(c0->load);
	const int64_t in_call[] = {a, f, h, b}, waiting[] = {c, d, e, g};

	for (size_t i = 0; i < 4; i++) {
		const struct task *t = engine_loaded(fx->e, in_call[i]);
		const struct seen_event *ev = nth_event(fx, EVENT_STARTED, in_call[i], 0);

		assert_non_null(t);
		assert_int_equal(t->state, TASK_RUNNING);
		assert_int_equal(t->attempts, 1);
		assert_true(scheduler_in_flight(engine_scheduler(fx->e), in_call[i]));
		assert_int_equal(ev->batch_size, 4);
		assert_string_equal(ev->backend, "plecs-1");
		assert_int_equal(ev->batch_id, nth_event(fx, EVENT_STARTED, a, 0)->batch_id);
		assert_int_equal(ev->attempt, 1);
		assert_int_equal(ev->time, NOW);
		assert_int_equal(state_of(fx, waiting[i]), TASK_QUEUED);
		assert_false(scheduler_in_flight(engine_scheduler(fx->e), waiting[i]));
	}
	assert_int_equal(engine_running(fx->e), 4);
	assert_int_equal(queue_size(engine_queue(fx->e)), 4);

	/* One slot: the next batch goes when this one answers.  d's model has no other task: alone. */
	fake_call_ok(fx->fb, c0, 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	EXPECT_CALL(call_at(fx, 1), URL1, d);
	/* It went before this call's results were saved: PLECS works while the loop writes. */
	assert_true(event_index(fx, EVENT_STARTED, d) < event_index(fx, EVENT_COMPLETED, a));
	assert_string_equal(call_at(fx, 1)->model_path, fx->model_b);
	for (size_t i = 0; i < 4; i++) {
		assert_false(engine_is_active(fx->e, in_call[i]));
		assert_int_equal(state_of(fx, in_call[i]), TASK_COMPLETED);
	}
	assert_int_equal(nth_event(fx, EVENT_STARTED, d, 0)->batch_size, 1);
	assert_int_not_equal(nth_event(fx, EVENT_STARTED, d, 0)->batch_id,
			     nth_event(fx, EVENT_STARTED, a, 0)->batch_id);

	/* A HIGH head takes the NORMAL e; the LOW c is two levels away and stays. */
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 3);
	EXPECT_CALL(call_at(fx, 2), URL1, g, e);
	assert_int_equal(state_of(fx, c), TASK_QUEUED);

	fake_call_ok(fx->fb, call_at(fx, 2), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 4);
	EXPECT_CALL(call_at(fx, 3), URL1, c);
	fake_call_ok(fx->fb, call_at(fx, 3), 3, 1);

	/* Everything ran once, and the queue said so once. */
	assert_int_equal(fake_backend_count(fx->fb), 4);
	assert_int_equal(fake_backend_running(fx->fb), 0);
	const int64_t all[] = {a, b, c, d, e, f, g, h};

	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(state_of(fx, all[i]), TASK_COMPLETED);
		assert_int_equal(attempts_of(fx, all[i]), 1);
		assert_outcomes(fx, all[i], "ok");
		assert_int_equal(count_events(fx, EVENT_COMPLETED, all[i]), 1);
	}
	assert_int_equal(count_events(fx, EVENT_QUEUE_DRAINED, -1), 1);
	assert_int_equal(engine_running(fx->e), 0);
	assert_int_equal(queue_size(engine_queue(fx->e)), 0);

	/* The COMPLETED event carries the result file and its summary; the store has the same. */
	const struct seen_event *done = nth_event(fx, EVENT_COMPLETED, a, 0);
	struct store_result r = {0};
	struct stat st;

	assert_true(done->has_summary);
	assert_int_equal(stat(done->result_path, &st), 0);
	assert_int_equal(engine_result(fx->e, a, &r), ENGINE_OK);
	assert_string_equal(r.path, done->result_path);
	assert_int_equal(r.points, 3);
	assert_int_equal(r.signals, 1);
	assert_string_equal(r.format, "mat");
	store_result_free(&r);
}

/* ---- 2. backoff ------------------------------------------------------------------------------ */

/*
 * A case PLECS answered with a number that is not finite fails at once (permanent: another run
 * answers the same); a case's answer garbled otherwise is retried; the batch's other cases complete.
 */
static void test_case_answer_not_finite(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 4;
	fx_open(fx);
	pause_all(fx, true);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL), b = submit(fx, fx->model_a, PRIO_NORMAL);

	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 0), URL1, a, b);
	fake_call_case_error(fx->fb, call_at(fx, 0), 0, "PLECS's signal 1 holds \"inf\" at point 2, which is not a finite number",
			     true);
	assert_int_equal(state_of(fx, a), TASK_FAILED);
	assert_int_equal(state_of(fx, b), TASK_COMPLETED);
	int64_t c = submit(fx, fx->model_a, PRIO_NORMAL);

	fake_call_case_error(fx->fb, fake_backend_last(fx->fb), 0, "PLECS's result is a string", false);
	const struct task *at = engine_loaded(fx->e, c);

	assert_non_null(at);
	assert_int_equal(at->state, TASK_RUNNING);
	assert_true(at->retry_due > 0);
}

/* A transient failure waits base * 2^retry, capped, and runs again exactly then; the last one fails. */
/* With max_retries = 0 a transient failure fails the task at once, and the error does not speak of retries spent. */
static void test_no_retries(void **state)
{
	struct fx *fx = *state;

	fx->opt.sched.max_retries = 0;
	fx_open(fx);
	int64_t t = submit(fx, fx->model_a, PRIO_NORMAL);

	fake_call_fault(fx->fb, call_at(fx, 0), LICENCE);
	char *error = error_of(fx, t);

	assert_int_equal(state_of(fx, t), TASK_FAILED);
	assert_string_equal(error, "no retry (max_retries = 0): " LICENCE);
	assert_outcomes(fx, t, "transient");
	free(error);
}

static void test_backoff_delays(void **state)
{
	struct fx *fx = *state;

	fx->opt.sched.backoff_max = 12; /* 5 s, 10 s, then 12 s instead of 20 */
	fx_open(fx);
	int64_t t = submit(fx, fx->model_a, PRIO_NORMAL);

	assert_int_equal(fake_backend_count(fx->fb), 1);
	EXPECT_CALL(call_at(fx, 0), URL1, t);
	fake_clock_advance(fx->fc, 1000);
	fake_call_fault(fx->fb, call_at(fx, 0), LICENCE);

	int64_t failed_at = NOW + 1000;
	const struct task *at = engine_loaded(fx->e, t);

	/* Waiting to retry is still RUNNING, with the due time set. */
	assert_non_null(at);
	assert_int_equal(at->state, TASK_RUNNING);
	assert_int_equal(at->retry_due, failed_at + 5000);
	assert_int_equal(at->attempts, 1);
	assert_string_equal(at->error, LICENCE);
	assert_false(scheduler_in_flight(engine_scheduler(fx->e), t));
	const struct seen_event *ev = nth_event(fx, EVENT_ATTEMPT_FAILED, t, 0);

	assert_int_equal(ev->time, failed_at);
	assert_int_equal(ev->retry_at, failed_at + 5000);
	assert_int_equal(ev->attempt, 1);
	assert_int_equal(ev->max_attempts, 4);
	assert_string_equal(ev->error_class, "transient");
	assert_string_equal(ev->error, LICENCE);
	struct retry_list rl = retries_waiting(fx);

	assert_int_equal(rl.n, 1);
	assert_int_equal(rl.id[0], t);
	assert_near(rl.retry_in[0], 5.0, 1e-9);

	/* The slot is free while it waits: other work runs meanwhile. */
	int64_t other = submit(fx, fx->model_b, PRIO_LOW);

	assert_int_equal(fake_backend_count(fx->fb), 2);
	EXPECT_CALL(call_at(fx, 1), URL1, other);
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);

	/* Retry n waits 5 * 2^n s, at most 12 s: not a millisecond early, and at once when due. */
	const int64_t delays[] = {5000, 10000, 12000};

	for (size_t n = 0; n < 3; n++) {
		size_t calls = fake_backend_count(fx->fb);
		int64_t due = fake_clock_now(fx->fc) + delays[n];

		assert_int_equal(engine_loaded(fx->e, t)->retry_due, due);
		assert_int_equal(nth_event(fx, EVENT_ATTEMPT_FAILED, t, n)->retry_at, due);
		fake_clock_advance(fx->fc, delays[n] - 1);
		assert_int_equal(fake_backend_count(fx->fb), calls);
		assert_int_equal(retries_waiting(fx).n, 1);
		assert_near(retries_waiting(fx).retry_in[0], 0.001, 1e-9);
		fake_clock_advance(fx->fc, 1);
		assert_int_equal(fake_backend_count(fx->fb), calls + 1);
		struct fake_call *c = fake_backend_last(fx->fb);

		EXPECT_CALL(c, URL1, t);
		assert_int_equal(c->started_ms, due);
		assert_int_equal(retries_waiting(fx).n, 0);
		assert_int_equal(engine_loaded(fx->e, t)->retry_due, 0);
		assert_int_equal(attempts_of(fx, t), (int)n + 2);
		assert_int_equal(nth_event(fx, EVENT_STARTED, t, n + 1)->attempt, (int)n + 2);
		fake_call_fault(fx->fb, c, LICENCE);
	}

	/* The fourth attempt was the last (max_retries 3): FAILED, saying so. */
	char *error = error_of(fx, t);

	assert_false(engine_is_active(fx->e, t));
	assert_int_equal(state_of(fx, t), TASK_FAILED);
	assert_string_equal(error, "retries exhausted: " LICENCE);
	assert_int_equal(attempts_of(fx, t), 4);
	assert_outcomes(fx, t, "transient,transient,transient,transient");
	assert_int_equal(count_events(fx, EVENT_ATTEMPT_FAILED, t), 3);
	assert_int_equal(count_events(fx, EVENT_FAILED, t), 1);
	assert_string_equal(nth_event(fx, EVENT_FAILED, t, 0)->error, error);
	assert_int_equal(retries_waiting(fx).n, 0);
	free(error);

	/* Nothing is left to run, however long we wait. */
	size_t calls = fake_backend_count(fx->fb);

	fake_clock_advance(fx->fc, 3600 * 1000);
	assert_int_equal(fake_backend_count(fx->fb), calls);

	struct stats_counts sc;

	engine_stats(fx->e, STATS_SINCE_START, &sc);
	assert_int_equal(sc.failed, 1);
	assert_int_equal(sc.failed_transient, 1);
	assert_int_equal(sc.completed_first, 1);
	assert_int_equal(sc.retries, 3);
}

/* ---- 3. the circuit breaker ---------------------------------------------------------------- */

static size_t count_probes(struct fx *fx, size_t from)
{
	size_t n = 0;

	for (size_t i = from; i < fake_backend_count(fx->fb); i++)
		n += call_at(fx, i)->probe;
	return n;
}

/* down_after consecutive transport failures: DOWN, probed at growing intervals, UP when one answers. */
static void test_breaker_down_probe_up(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 1;
	fx->opt.sched.max_retries = 5;
	fx->opt.sched.probe_max = 20;
	fx_open(fx);
	pause_all(fx, true);
	int64_t t[6];

	for (size_t i = 0; i < 6; i++)
		t[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);

	/* Two failures, then an answer: the count starts again. */
	EXPECT_CALL(call_at(fx, 0), URL1, t[0]);
	fake_call_transport(fx->fb, call_at(fx, 0), REFUSED);
	assert_true(backend_state(fx, 0).up);
	assert_int_equal(backend_state(fx, 0).failures, 1);
	EXPECT_CALL(call_at(fx, 1), URL1, t[1]);
	fake_call_transport(fx->fb, call_at(fx, 1), REFUSED);
	assert_true(backend_state(fx, 0).up);
	assert_int_equal(backend_state(fx, 0).failures, 2);
	EXPECT_CALL(call_at(fx, 2), URL1, t[2]);
	fake_call_ok(fx->fb, call_at(fx, 2), 3, 1);
	assert_int_equal(backend_state(fx, 0).failures, 0);
	assert_int_equal(state_of(fx, t[2]), TASK_COMPLETED);

	/* Three in a row (down_after 3): UP after the second, DOWN after the third, not before. */
	EXPECT_CALL(call_at(fx, 3), URL1, t[3]);
	fake_call_transport(fx->fb, call_at(fx, 3), REFUSED);
	EXPECT_CALL(call_at(fx, 4), URL1, t[4]);
	fake_call_transport(fx->fb, call_at(fx, 4), REFUSED);
	assert_true(backend_state(fx, 0).up);
	assert_int_equal(backend_state(fx, 0).failures, 2);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 0);
	EXPECT_CALL(call_at(fx, 5), URL1, t[5]);
	fake_call_transport(fx->fb, call_at(fx, 5), REFUSED);

	struct backend_state b = backend_state(fx, 0);

	assert_false(b.up);
	assert_int_equal(b.failures, 3);
	assert_int_equal(b.busy, 0);
	assert_near(b.probe_in, 5.0, 1e-9);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 1);
	assert_string_equal(nth_event(fx, EVENT_BACKEND_DOWN, -1, 0)->backend, "plecs-1");
	assert_int_equal(nth_event(fx, EVENT_BACKEND_DOWN, -1, 0)->time, NOW);
	/* Why, as the log and the dashboard say it: "DOWN after 3 failed calls: <the last error>". */
	assert_string_equal(nth_event(fx, EVENT_BACKEND_DOWN, -1, 0)->detail, "after 3 failed calls");
	assert_string_equal(nth_event(fx, EVENT_BACKEND_DOWN, -1, 0)->error, REFUSED);
	assert_int_equal(engine_alerts(fx->e), 1);
	assert_int_equal(fake_backend_count(fx->fb), 6);
	assert_int_equal(fake_backend_running(fx->fb), 0);

	/*
	 * Probes at 5, 10, 20 and 20 s (backoff_base doubling, capped by probe_max), each one not a
	 * millisecond early.  The retries fall due meanwhile; nothing but probes is sent.
	 */
	const int64_t gaps[] = {5000, 10000, 20000, 20000};
	int64_t down_at = fake_clock_now(fx->fc);

	for (size_t i = 0; i < 4; i++) {
		size_t calls = fake_backend_count(fx->fb);

		assert_near(backend_state(fx, 0).probe_in, (double)gaps[i] / 1000, 1e-9);
		fake_clock_advance(fx->fc, gaps[i] - 1);
		assert_int_equal(fake_backend_count(fx->fb), calls);
		fake_clock_advance(fx->fc, 1);
		assert_int_equal(fake_backend_count(fx->fb), calls + 1);
		struct fake_call *p = fake_backend_last(fx->fb);

		assert_true(p->probe);
		assert_int_equal(p->n, 0);
		assert_string_equal(p->url, URL1);
		assert_false(backend_state(fx, 0).up);
		if (i < 3)
			fake_call_transport(fx->fb, p, REFUSED);
	}
	assert_int_equal(count_probes(fx, 6), 4);
	assert_int_equal(fake_backend_count(fx->fb), 10);
	/* An outage spends no retries: the tasks wait with the attempts they had. */
	const int64_t failed[] = {t[0], t[1], t[3], t[4], t[5]};

	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(state_of(fx, failed[i]), TASK_RUNNING);
		assert_int_equal(attempts_of(fx, failed[i]), 1);
	}
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 1);
	assert_int_equal(count_events(fx, EVENT_BACKEND_UP, -1), 0);

	/* The fourth probe answers: UP, and dispatch resumes at once with the head. */
	fake_call_ok(fx->fb, call_at(fx, 9), 0, 0);
	b = backend_state(fx, 0);
	assert_true(b.up);
	assert_int_equal(b.failures, 0);
	assert_near(b.downtime, (double)(fake_clock_now(fx->fc) - down_at) / 1000, 1e-9);
	assert_near(b.downtime, 55.0, 1e-9);
	assert_int_equal(count_events(fx, EVENT_BACKEND_UP, -1), 1);
	assert_string_equal(nth_event(fx, EVENT_BACKEND_UP, -1, 0)->backend, "plecs-1");
	assert_int_equal(fake_backend_count(fx->fb), 11);
	EXPECT_CALL(call_at(fx, 10), URL1, t[0]);
	assert_int_equal(attempts_of(fx, t[0]), 2);

	/* The rest run one by one, in queue order. */
	for (size_t i = 1; i < 5; i++) {
		fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
		EXPECT_CALL(fake_backend_last(fx->fb), URL1, failed[i]);
	}
	fake_call_ok(fx->fb, fake_backend_last(fx->fb), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 15);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(state_of(fx, t[i]), TASK_COMPLETED);
	assert_int_equal(count_probes(fx, 0), 4);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 1);
}

/* ---- 4. the split of a poisoned batch -------------------------------------------------------- */

/* A permanent fault on a batch names no case: halves until the bad case fails alone. */
static void test_split_poisoned_batch(void **state)
{
	struct fx *fx = *state;
	const char *bad_fault = "Error evaluating parameter 'L' in component 'Buck/L1': Value must be positive.";

	fx->backends[0].max_batch = 4;
	fx_open(fx);
	pause_all(fx, true);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t b = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t bad = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t d = submit(fx, fx->model_a, PRIO_NORMAL);

	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 0), URL1, a, b, bad, d);

	/* 4 -> halves of 2: all four back in the queue, no attempt charged; the first half goes at once. */
	fake_call_fault(fx->fb, call_at(fx, 0), bad_fault);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	EXPECT_CALL(call_at(fx, 1), URL1, a, b);
	assert_int_equal(state_of(fx, bad), TASK_QUEUED);
	assert_int_equal(state_of(fx, d), TASK_QUEUED);
	assert_int_equal(attempts_of(fx, bad), 0);
	assert_int_equal(attempts_of(fx, a), 1);
	assert_int_equal(state_of(fx, a), TASK_RUNNING);
	assert_outcomes(fx, bad, "split");
	assert_int_equal(count_events(fx, EVENT_ATTEMPT_FAILED, -1), 0);
	assert_int_equal(count_events(fx, EVENT_FAILED, -1), 0);
	assert_int_equal(retries_waiting(fx).n, 0);
	assert_int_equal(backend_state(fx, 0).failures, 0);

	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	assert_int_equal(state_of(fx, a), TASK_COMPLETED);
	assert_int_equal(state_of(fx, b), TASK_COMPLETED);

	/* The half with the bad case fails again: halves of 1. */
	assert_int_equal(fake_backend_count(fx->fb), 3);
	EXPECT_CALL(call_at(fx, 2), URL1, bad, d);
	fake_call_fault(fx->fb, call_at(fx, 2), bad_fault);
	assert_int_equal(fake_backend_count(fx->fb), 4);
	EXPECT_CALL(call_at(fx, 3), URL1, bad);
	assert_int_equal(state_of(fx, d), TASK_QUEUED);

	/* Alone, the fault is the case's own: FAILED at once with PLECS's message, no retry. */
	fake_call_fault(fx->fb, call_at(fx, 3), bad_fault);
	char *error = error_of(fx, bad);

	assert_int_equal(state_of(fx, bad), TASK_FAILED);
	assert_string_equal(error, bad_fault);
	assert_string_equal(nth_event(fx, EVENT_FAILED, bad, 0)->error, bad_fault);
	free(error);
	assert_int_equal(retries_waiting(fx).n, 0);
	assert_int_equal(count_events(fx, EVENT_ATTEMPT_FAILED, -1), 0);

	assert_int_equal(fake_backend_count(fx->fb), 5);
	EXPECT_CALL(call_at(fx, 4), URL1, d);
	fake_call_ok(fx->fb, call_at(fx, 4), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 5);

	/* Splits are recorded but charged to nobody. */
	assert_int_equal(state_of(fx, d), TASK_COMPLETED);
	assert_outcomes(fx, a, "split,ok");
	assert_outcomes(fx, b, "split,ok");
	assert_outcomes(fx, bad, "split,split,permanent");
	assert_outcomes(fx, d, "split,split,ok");
	assert_int_equal(attempts_of(fx, a), 1);
	assert_int_equal(attempts_of(fx, bad), 1);
	assert_int_equal(attempts_of(fx, d), 1);

	int64_t counts[ATTEMPT_OUTCOME_COUNT];

	engine_attempt_counts(fx->e, counts);
	assert_int_equal(counts[ATTEMPT_SPLIT], 6);
	assert_int_equal(counts[ATTEMPT_OK], 3);
	assert_int_equal(counts[ATTEMPT_PERMANENT], 1);
	assert_int_equal(counts[ATTEMPT_TRANSIENT], 0);

	struct stats_counts sc;

	engine_stats(fx->e, STATS_SINCE_START, &sc);
	assert_int_equal(sc.completed_first, 3);
	assert_int_equal(sc.completed_retry, 0);
	assert_int_equal(sc.failed, 1);
	assert_int_equal(sc.failed_transient, 0);
	assert_int_equal(sc.retries, 0);
}

/* ---- 5. cancel of a running task ------------------------------------------------------------- */

/* CANCELLED at once; the call runs on (PLECS has no cancel) and its result for the task is dropped. */
static void test_cancel_running(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 3;
	fx_open(fx);
	pause_all(fx, true);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t b = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t c = submit(fx, fx->model_a, PRIO_NORMAL);
	int64_t d = submit(fx, fx->model_a, PRIO_NORMAL);

	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 0), URL1, a, b, c);
	assert_int_equal(state_of(fx, d), TASK_QUEUED);

	/* b is in flight, d queued: both CANCELLED at once. */
	fake_clock_advance(fx->fc, 1500);
	const int64_t ids[] = {b, d};
	enum task_state after[2] = {TASK_QUEUED, TASK_QUEUED};
	char *err = NULL;

	assert_int_equal(engine_cancel(fx->e, ids, 2, after, &err), ENGINE_OK);
	assert_int_equal(after[0], TASK_CANCELLED);
	assert_int_equal(after[1], TASK_CANCELLED);
	assert_false(engine_is_active(fx->e, b));
	assert_false(engine_is_active(fx->e, d));
	assert_int_equal(state_of(fx, b), TASK_CANCELLED);
	assert_int_equal(state_of(fx, d), TASK_CANCELLED);
	assert_int_equal(count_events(fx, EVENT_CANCELLED, b), 1);
	assert_int_equal(count_events(fx, EVENT_CANCELLED, d), 1);
	assert_int_equal(nth_event(fx, EVENT_CANCELLED, b, 0)->time, NOW + 1500);
	assert_outcomes(fx, b, "discarded");
	assert_outcomes(fx, d, "");

	/* The call is not interrupted and still holds the slot. */
	assert_false(call_at(fx, 0)->interrupt_requested);
	assert_int_equal(fake_backend_running(fx->fb), 1);
	assert_int_equal(backend_state(fx, 0).busy, 1);
	assert_int_equal(state_of(fx, a), TASK_RUNNING);
	assert_int_equal(state_of(fx, c), TASK_RUNNING);
	assert_int_equal(queue_size(engine_queue(fx->e)), 0);

	/* It returns: a and c complete, b's result is dropped and b stays CANCELLED. */
	fake_clock_advance(fx->fc, 1500);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	assert_int_equal(state_of(fx, a), TASK_COMPLETED);
	assert_int_equal(state_of(fx, c), TASK_COMPLETED);
	assert_int_equal(state_of(fx, b), TASK_CANCELLED);
	assert_int_equal(count_events(fx, EVENT_COMPLETED, b), 0);
	assert_int_equal(count_events(fx, EVENT_CANCELLED, b), 1);
	assert_outcomes(fx, b, "discarded");
	assert_outcomes(fx, a, "ok");

	struct store_result r = {0};

	assert_int_not_equal(engine_result(fx->e, b, &r), ENGINE_OK);
	store_result_free(&r);
	assert_int_equal(engine_result(fx->e, c, &r), ENGINE_OK);
	assert_int_equal(r.points, 3);
	assert_int_equal(r.signals, 1);
	store_result_free(&r);

	/* Nothing else to run; the slot is free. */
	assert_int_equal(fake_backend_count(fx->fb), 1);
	assert_int_equal(backend_state(fx, 0).busy, 0);
	assert_int_equal(engine_running(fx->e), 0);

	struct stats_counts sc;

	engine_stats(fx->e, STATS_SINCE_START, &sc);
	assert_int_equal(sc.completed_first, 2);
	assert_int_equal(sc.cancelled, 2);
}

/* Cancelled while waiting for its retry: CANCELLED at once, and the retry never comes. */
static void test_cancel_waiting_retry(void **state)
{
	struct fx *fx = *state;

	fx_open(fx);
	int64_t t = submit(fx, fx->model_a, PRIO_HIGH);

	fake_call_fault(fx->fb, call_at(fx, 0), LICENCE);
	assert_int_equal(retries_waiting(fx).n, 1);

	enum task_state after = TASK_RUNNING;
	char *err = NULL;
	size_t timers = fake_clock_active(fx->fc);

	assert_int_equal(engine_cancel(fx->e, &t, 1, &after, &err), ENGINE_OK);
	assert_int_equal(after, TASK_CANCELLED);
	assert_int_equal(state_of(fx, t), TASK_CANCELLED);
	assert_int_equal(retries_waiting(fx).n, 0);
	/* Its retry timer is gone with it. */
	assert_int_equal(fake_clock_active(fx->fc), timers - 1);
	assert_int_equal(count_events(fx, EVENT_CANCELLED, t), 1);
	assert_outcomes(fx, t, "transient");
	fake_clock_advance(fx->fc, 60000);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	assert_int_equal(state_of(fx, t), TASK_CANCELLED);
}

/* ---- 6. two backends ------------------------------------------------------------------------- */

/* Work spreads round robin; one backend DOWN leaves the other working. */
static void test_two_backends(void **state)
{
	struct fx *fx = *state;

	fx->opt.nbackends = 2;
	fx->backends[0].max_batch = 1;
	fx->backends[1].max_batch = 1;
	fx->opt.sched.down_after = 2;
	fx->opt.sched.max_retries = 5;
	fx_open(fx);
	pause_all(fx, true);
	int64_t t[6];

	for (size_t i = 0; i < 6; i++)
		t[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);

	/* One batch each, in turn. */
	assert_int_equal(fake_backend_count(fx->fb), 2);
	EXPECT_CALL(call_at(fx, 0), URL1, t[0]);
	EXPECT_CALL(call_at(fx, 1), URL2, t[1]);
	assert_string_equal(nth_event(fx, EVENT_STARTED, t[0], 0)->backend, "plecs-1");
	assert_string_equal(nth_event(fx, EVENT_STARTED, t[1], 0)->backend, "plecs-2");
	assert_int_equal(backend_state(fx, 0).busy, 1);
	assert_int_equal(backend_state(fx, 1).busy, 1);

	/* plecs-1 refuses twice (down_after 2): DOWN. */
	fake_call_transport(fx->fb, call_at(fx, 0), REFUSED);
	EXPECT_CALL(call_at(fx, 2), URL1, t[2]);
	fake_call_transport(fx->fb, call_at(fx, 2), REFUSED);
	assert_false(backend_state(fx, 0).up);
	assert_true(backend_state(fx, 1).up);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 1);
	assert_string_equal(nth_event(fx, EVENT_BACKEND_DOWN, -1, 0)->backend, "plecs-1");
	assert_int_equal(fake_backend_count(fx->fb), 3);

	/* plecs-2 carries on with the queue alone. */
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	EXPECT_CALL(call_at(fx, 3), URL2, t[3]);
	fake_call_ok(fx->fb, call_at(fx, 3), 3, 1);
	EXPECT_CALL(call_at(fx, 4), URL2, t[4]);
	fake_call_ok(fx->fb, call_at(fx, 4), 3, 1);
	EXPECT_CALL(call_at(fx, 5), URL2, t[5]);
	fake_call_ok(fx->fb, call_at(fx, 5), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 6);

	/* The retries fall due: plecs-2 takes the first, plecs-1 is only probed. */
	fake_clock_advance(fx->fc, 5000);
	assert_int_equal(fake_backend_count(fx->fb), 8);
	struct fake_call *probe = NULL, *retry = NULL;

	for (size_t i = 6; i < 8; i++) {
		struct fake_call *c = call_at(fx, i);

		if (c->probe)
			probe = c;
		else
			retry = c;
	}
	assert_non_null(probe);
	assert_string_equal(probe->url, URL1);
	EXPECT_CALL(retry, URL2, t[0]);
	assert_int_equal(state_of(fx, t[2]), TASK_RUNNING);
	assert_false(scheduler_in_flight(engine_scheduler(fx->e), t[2]));

	/* plecs-1 answers its probe: UP, and it takes the waiting task while plecs-2 is busy. */
	fake_call_ok(fx->fb, probe, 0, 0);
	assert_true(backend_state(fx, 0).up);
	assert_int_equal(count_events(fx, EVENT_BACKEND_UP, -1), 1);
	assert_int_equal(fake_backend_count(fx->fb), 9);
	EXPECT_CALL(call_at(fx, 8), URL1, t[2]);
	fake_call_ok(fx->fb, call_at(fx, 8), 3, 1);
	fake_call_ok(fx->fb, retry, 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 9);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(state_of(fx, t[i]), TASK_COMPLETED);
	/* Only probes went to plecs-1 while it was DOWN. */
	for (size_t i = 3; i < 8; i++)
		assert_true(strcmp(call_at(fx, i)->url, URL2) == 0 || call_at(fx, i)->probe);
}

/* With free slots on both, batches alternate between the backends instead of filling the first. */
static void test_round_robin(void **state)
{
	struct fx *fx = *state;

	fx->opt.nbackends = 2;
	fx->backends[0].slots = 2;
	fx->backends[1].slots = 2;
	fx->backends[0].max_batch = 2;
	fx->backends[1].max_batch = 2;
	fx_open(fx);
	int64_t t[10];

	submit_many(fx, fx->model_a, PRIO_NORMAL, 10, t);

	/* Four slots, four batches of two, taken in turn; two tasks wait. */
	assert_int_equal(fake_backend_count(fx->fb), 4);
	EXPECT_CALL(call_at(fx, 0), URL1, t[0], t[1]);
	EXPECT_CALL(call_at(fx, 1), URL2, t[2], t[3]);
	EXPECT_CALL(call_at(fx, 2), URL1, t[4], t[5]);
	EXPECT_CALL(call_at(fx, 3), URL2, t[6], t[7]);
	assert_int_equal(backend_state(fx, 0).busy, 2);
	assert_int_equal(backend_state(fx, 1).busy, 2);
	assert_int_equal(queue_size(engine_queue(fx->e)), 2);

	/* A slot frees on plecs-2: the rest goes there. */
	fake_call_ok(fx->fb, call_at(fx, 3), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 5);
	EXPECT_CALL(call_at(fx, 4), URL2, t[8], t[9]);
	while (fake_backend_running_on(fx->fb, NULL))
		fake_call_ok(fx->fb, fake_backend_running_on(fx->fb, NULL), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 5);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(state_of(fx, t[i]), TASK_COMPLETED);
}

/* ---- timeouts, the batch cap, linger ---------------------------------------------------------- */

/* A call that outlives call_timeout (or its tasks' Timeout plus a margin) is interrupted: transient. */
static void test_call_timeout(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].call_timeout = 30;
	fx->opt.sched.down_after = 10;
	fx_open(fx);
	int64_t t = submit(fx, fx->model_a, PRIO_NORMAL);
	struct fake_call *c = call_at(fx, 0);

	assert_near(c->timeout[0], 0, 0);
	fake_clock_advance(fx->fc, 29999);
	assert_false(c->interrupt_requested);
	fake_clock_advance(fx->fc, 1);
	assert_true(c->interrupt_requested);
	fake_call_interrupted(fx->fb, c);

	const struct seen_event *ev = nth_event(fx, EVENT_ATTEMPT_FAILED, t, 0);

	assert_string_equal(ev->error_class, "transient");
	assert_string_equal(ev->error, "no answer within 30 s (the call timed out)");
	assert_int_equal(ev->retry_at, NOW + 30000 + 5000);
	assert_int_equal(state_of(fx, t), TASK_RUNNING);
	assert_outcomes(fx, t, "transient");
	assert_true(backend_state(fx, 0).up);
	assert_int_equal(backend_state(fx, 0).failures, 1);

	/* A task's own Timeout (5 s) goes to PLECS; simq waits 10 s more for the answer. */
	int64_t u = submit_timeout(fx, fx->model_b, PRIO_HIGH, 5);
	struct fake_call *cu = call_at(fx, 1);

	EXPECT_CALL(cu, URL1, u);
	assert_near(cu->timeout[0], 5, 0);
	fake_clock_advance(fx->fc, 14999);
	assert_false(cu->interrupt_requested);
	fake_clock_advance(fx->fc, 1);
	assert_true(cu->interrupt_requested);
	fake_call_interrupted(fx->fb, cu);
	assert_string_equal(nth_event(fx, EVENT_ATTEMPT_FAILED, u, 0)->error,
			    "no answer within 15 s (the call timed out)");

	/* An answer in time stops the timer: nothing is interrupted later. */
	fake_clock_advance(fx->fc, 5000);
	struct fake_call *again = fake_backend_last(fx->fb);

	assert_false(again->probe);
	fake_call_ok(fx->fb, again, 3, 1);
	while ((again = fake_backend_running_on(fx->fb, NULL)) != NULL)
		fake_call_ok(fx->fb, again, 3, 1);
	fake_clock_advance(fx->fc, 3600 * 1000);
	for (size_t i = 0; i < fake_backend_count(fx->fb); i++)
		assert_true(call_at(fx, i)->interrupt_requested == (i < 2));
	assert_int_equal(state_of(fx, t), TASK_COMPLETED);
	assert_int_equal(state_of(fx, u), TASK_COMPLETED);
}

/*
 * An answer all in frees its backend's slot before it is decoded: PLECS runs the next batch
 * meanwhile.  Its timeout ends (PLECS is through), its tasks stay RUNNING until done(), and at
 * most `slots` answers of a backend decode at once.
 */
static void test_received_frees_the_slot(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 1;
	fx->backends[0].call_timeout = 30;
	fx_open(fx);
	pause_all(fx, true);
	int64_t t[4];

	for (size_t i = 0; i < 4; i++)
		t[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	struct fake_call *c0 = call_at(fx, 0);

	fake_call_received(fx->fb, c0);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	EXPECT_CALL(call_at(fx, 1), URL1, t[1]);
	assert_int_equal(backend_state(fx, 0).busy, 1);
	assert_int_equal(state_of(fx, t[0]), TASK_RUNNING);

	/* Two answers decoding on a 1-slot backend: the third batch waits for one of them. */
	struct fake_call *c1 = call_at(fx, 1);

	fake_call_received(fx->fb, c1);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	assert_int_equal(backend_state(fx, 0).busy, 0);

	/* PLECS's time is over for both: their timeouts do not fire. */
	fake_clock_advance(fx->fc, 60 * 1000);
	assert_false(c0->interrupt_requested);
	assert_false(c1->interrupt_requested);

	fake_call_ok(fx->fb, c0, 3, 1);
	assert_int_equal(state_of(fx, t[0]), TASK_COMPLETED);
	assert_int_equal(fake_backend_count(fx->fb), 3);
	EXPECT_CALL(call_at(fx, 2), URL1, t[2]);
	fake_call_ok(fx->fb, c1, 3, 1);
	assert_int_equal(state_of(fx, t[1]), TASK_COMPLETED);
	assert_int_equal(backend_state(fx, 0).busy, 1);

	/* A received call whose decoding fails is the answer's failure, as before: a transient one. */
	struct fake_call *c2 = call_at(fx, 2);

	fake_call_received(fx->fb, c2);
	fake_call_transport(fx->fb, c2, "PLECS's answer is not XML-RPC simq reads");
	assert_string_equal(nth_event(fx, EVENT_ATTEMPT_FAILED, t[2], 0)->error_class, "transient");
	while ((c2 = fake_backend_running_on(fx->fb, NULL)) != NULL)
		fake_call_ok(fx->fb, c2, 3, 1);
	assert_int_equal(state_of(fx, t[3]), TASK_COMPLETED);
}

struct call_view {
	bool found;
	size_t n;
	double elapsed, estimate, progress;
};

static struct call_view call_of(struct fx *fx, int64_t id)
{
	struct sched_call_info info;
	struct call_view v = {0};

	if (scheduler_call_of(engine_scheduler(fx->e), id, &info))
		v = (struct call_view){.found = true, .n = info.n, .elapsed = info.elapsed, .estimate = info.estimate,
				       .progress = info.progress};
	return v;
}

/* max_batch_seconds caps a batch by its model's estimate; progress is elapsed over that estimate. */
static void test_max_batch_seconds(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 8;
	fx->opt.sched.max_batch_seconds = 25;
	fx_open(fx);

	/* No estimate yet: progress unknown. */
	int64_t x = submit(fx, fx->model_a, PRIO_NORMAL);
	struct call_view v = call_of(fx, x);

	assert_true(v.found);
	assert_near(v.estimate, 0, 0);
	assert_near(v.progress, -1, 0);
	fake_clock_advance(fx->fc, 10000);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	assert_false(call_of(fx, x).found);

	/* buck.plecs takes 10 s a call: 25 s hold two cases. */
	pause_all(fx, true);
	int64_t y[5];

	for (size_t i = 0; i < 5; i++)
		y[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 1), URL1, y[0], y[1]);
	v = call_of(fx, y[1]);
	assert_true(v.found);
	assert_int_equal(v.n, 2);
	/* Its estimate is by its two cases: none of two yet, so one's 10 s twice (DESIGN 5). */
	assert_near(v.estimate, 20, 1e-9);
	assert_near(v.progress, 0, 1e-9);
	fake_clock_advance(fx->fc, 5000);
	v = call_of(fx, y[0]);
	assert_near(v.elapsed, 5, 1e-9);
	assert_near(v.progress, 0.25, 1e-9);
	fake_clock_advance(fx->fc, 7000);
	assert_near(call_of(fx, y[0]).progress, 0.6, 1e-9);

	/* rc.plecs has no estimate: its batch is not capped. */
	int64_t z[3];

	for (size_t i = 0; i < 3; i++)
		z[i] = submit(fx, fx->model_b, PRIO_HIGH);
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	EXPECT_CALL(call_at(fx, 2), URL1, z[0], z[1], z[2]);
	fake_call_ok(fx->fb, call_at(fx, 2), 3, 1);
	EXPECT_CALL(call_at(fx, 3), URL1, y[2], y[3]);
	fake_clock_advance(fx->fc, 10000);
	fake_call_ok(fx->fb, call_at(fx, 3), 3, 1);
	EXPECT_CALL(call_at(fx, 4), URL1, y[4]);
	fake_call_ok(fx->fb, call_at(fx, 4), 3, 1);
	assert_int_equal(fake_backend_count(fx->fb), 5);
}

/*
 * A call's estimate grows with its batch (DESIGN 5): the mean of the model's calls with as many cases,
 * else the nearest number of cases' scaled to it; a fault that comes at once teaches nothing; the
 * progress a console shows is elapsed over that, so a batch of four is not overdue at a case's time.
 */
static void test_estimate_by_cases(void **state)
{
	struct fx *fx = *state;
	int64_t b[4], c[4], d[3];

	fx->backends[0].max_batch = 4;
	fx_open(fx);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);

	EXPECT_CALL(call_at(fx, 0), URL1, a);
	fake_clock_advance(fx->fc, 2000);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1); /* one case: 2 s */

	pause_all(fx, true);
	for (size_t i = 0; i < 4; i++)
		b[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 1), URL1, b[0], b[1], b[2], b[3]);
	assert_near(call_of(fx, b[2]).estimate, 8, 1e-9); /* no call of four yet: 2 s a case */
	fake_clock_advance(fx->fc, 3000);
	assert_near(call_of(fx, b[0]).progress, 3.0 / 8, 1e-9); /* 3 s into a batch of four: not overdue */
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);            /* four cases: 3 s */

	pause_all(fx, true);
	for (size_t i = 0; i < 4; i++)
		c[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 2), URL1, c[0], c[1], c[2], c[3]);
	assert_near(call_of(fx, c[0]).estimate, 3, 1e-9); /* the calls of four */
	enum task_state after[4];
	char *err = NULL;

	assert_int_equal(engine_cancel(fx->e, c, 4, after, &err), ENGINE_OK); /* its answer is not theirs to act on */
	fake_call_fault(fx->fb, call_at(fx, 2), "Error in model: at once"); /* no time at all: not learned */

	pause_all(fx, true);
	for (size_t i = 0; i < 3; i++)
		d[i] = submit(fx, fx->model_a, PRIO_NORMAL);
	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 3), URL1, d[0], d[1], d[2]);
	assert_near(call_of(fx, d[0]).estimate, 3.0 * 3 / 4, 1e-9); /* the nearest, four, scaled to three */
	fake_call_ok(fx->fb, call_at(fx, 3), 3, 1);

	int64_t e = submit(fx, fx->model_a, PRIO_NORMAL);

	EXPECT_CALL(call_at(fx, 4), URL1, e);
	assert_near(call_of(fx, e).estimate, 2, 1e-9); /* the calls of one */
	fake_call_ok(fx->fb, call_at(fx, 4), 3, 1);
}

/* batch_linger_ms: a short batch waits for company, at most that long; a full one goes at once. */
static void test_batch_linger(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 4;
	fx->opt.sched.linger_s = 2;
	fx_open(fx);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);

	/* The engine stamps the submit time from its clock: the linger counts from it. */
	const struct task *ta = NULL;
	struct task *owned = NULL;
	char *err = NULL;

	assert_int_equal(engine_find(fx->e, a, &ta, &owned, &err), ENGINE_OK);
	assert_int_equal(ta->submitted, NOW);
	task_free(&owned);
	assert_int_equal(fake_backend_count(fx->fb), 0);
	fake_clock_advance(fx->fc, 1000);
	int64_t b = submit(fx, fx->model_a, PRIO_NORMAL);

	assert_int_equal(fake_backend_count(fx->fb), 0);
	fake_clock_advance(fx->fc, 998);
	assert_int_equal(fake_backend_count(fx->fb), 0);
	assert_int_equal(state_of(fx, a), TASK_QUEUED);
	fake_clock_advance(fx->fc, 3);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	EXPECT_CALL(call_at(fx, 0), URL1, a, b);
	assert_true(call_at(fx, 0)->started_ms >= NOW + 2000);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);

	/* Four in quick succession fill the batch: no waiting. */
	int64_t c[4];

	for (size_t i = 0; i < 3; i++) {
		c[i] = submit(fx, fx->model_a, PRIO_NORMAL);
		fake_clock_advance(fx->fc, 100);
	}
	assert_int_equal(fake_backend_count(fx->fb), 1);
	c[3] = submit(fx, fx->model_a, PRIO_NORMAL);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	EXPECT_CALL(call_at(fx, 1), URL1, c[0], c[1], c[2], c[3]);
	assert_int_equal(call_at(fx, 1)->started_ms, fake_clock_now(fx->fc));
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
}

/* ---- whose fault is it (DESIGN 6): the backend's failures cost no task a retry ---------------- */

#define UNREACHABLE "Failed to connect to plecs-1 port 1080: Connection refused"

static int64_t stat_of(struct fx *fx, size_t offset)
{
	struct stats_counts k;

	engine_stats(fx->e, STATS_ALL, &k);
	return *(const int64_t *)((const char *)&k + offset);
}

#define STAT(fx, name) stat_of((fx), offsetof(struct stats_counts, name))

static void test_outage_spends_no_retry(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 4;
	fx->opt.sched.max_retries = 1;
	fx_open(fx);
	pause_all(fx, true);
	int64_t t[8];

	submit_many(fx, fx->model_a, PRIO_NORMAL, 8, t);
	pause_all(fx, false);
	/* Three calls that never reach PLECS: the same head batch each time, then DOWN. */
	for (size_t i = 0; i < 3; i++) {
		EXPECT_CALL(call_at(fx, i), URL1, t[0], t[1], t[2], t[3]);
		assert_true(backend_state(fx, 0).up);
		fake_call_unreachable(fx->fb, call_at(fx, i), UNREACHABLE);
		/* Back at the head of the queue with no attempt spent, and sent again at once while UP. */
		for (size_t k = 0; k < 4; k++) {
			assert_int_equal(state_of(fx, t[k]), i < 2 ? TASK_RUNNING : TASK_QUEUED);
			assert_int_equal(attempts_of(fx, t[k]), i < 2 ? 1 : 0);
		}
	}
	assert_false(backend_state(fx, 0).up);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 1);
	assert_int_equal(count_events(fx, EVENT_ATTEMPT_FAILED, -1), 0);
	assert_int_equal(fake_backend_running(fx->fb), 0);
	/* An outage of any length: hours of failed probes fail nothing. */
	for (int i = 0; i < 200; i++) {
		fake_clock_advance(fx->fc, 60000);
		struct fake_call *p = fake_backend_last(fx->fb);

		assert_true(p->probe);
		if (!p->ended)
			fake_call_unreachable(fx->fb, p, UNREACHABLE);
	}
	for (size_t k = 0; k < 8; k++)
		assert_int_equal(state_of(fx, t[k]), TASK_QUEUED);
	fake_clock_advance(fx->fc, 60000);
	fake_call_ok(fx->fb, fake_backend_last(fx->fb), 0, 0);
	assert_true(backend_state(fx, 0).up);
	for (size_t n = 0; n < 2; n++) {
		struct fake_call *c = fake_backend_last(fx->fb);

		assert_false(c->probe);
		fake_call_ok(fx->fb, c, 3, 1);
	}
	for (size_t k = 0; k < 8; k++) {
		assert_int_equal(state_of(fx, t[k]), TASK_COMPLETED);
		assert_int_equal(attempts_of(fx, t[k]), 1);
	}
	assert_outcomes(fx, t[0], "backend,backend,backend,ok");
	assert_outcomes(fx, t[4], "ok");
	assert_int_equal(STAT(fx, completed_first), 8);
	assert_int_equal(STAT(fx, completed_retry), 0);
	assert_int_equal(STAT(fx, retries), 0);
	assert_int_equal(STAT(fx, failed), 0);
}

/* A transient failure after PLECS could have run the case still spends a retry, and still counts
 * toward the breaker. */
static void test_cut_short_spends_a_retry(void **state)
{
	struct fx *fx = *state;

	fx->opt.sched.max_retries = 1;
	fx_open(fx);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);

	fake_call_transport(fx->fb, call_at(fx, 0), "transfer closed with 812 bytes remaining to read");
	assert_int_equal(state_of(fx, a), TASK_RUNNING);
	assert_int_equal(backend_state(fx, 0).failures, 1);
	assert_int_equal(count_events(fx, EVENT_ATTEMPT_FAILED, a), 1);
	fake_clock_advance(fx->fc, 5000);
	fake_call_transport(fx->fb, call_at(fx, 1), "transfer closed with 812 bytes remaining to read");
	assert_int_equal(state_of(fx, a), TASK_FAILED);
	assert_outcomes(fx, a, "transient,transient");
}

/* A server starting up asks each backend before it sends it work, and says so only when it is DOWN. */
static void test_start_asks_first(void **state)
{
	struct fx *fx = *state;
	char *err = NULL;

	fx->opt.nbackends = 2;
	fx->e = engine_open(&fx->opt, &err);
	assert_non_null(fx->e);
	assert_int_not_equal(events_subscribe(engine_bus(fx->e), record_event, fx), 0);
	engine_start(fx->e);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	assert_true(call_at(fx, 0)->probe);
	assert_true(call_at(fx, 1)->probe);
	assert_false(backend_state(fx, 0).up);
	assert_true(backend_state(fx, 0).checking);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);

	/* Nothing is sent before an answer. */
	assert_int_equal(fake_backend_count(fx->fb), 2);
	assert_int_equal(state_of(fx, a), TASK_QUEUED);
	fake_call_unreachable(fx->fb, call_at(fx, 1), "Failed to connect to plecs-2 port 1080: Connection refused");
	assert_false(backend_state(fx, 1).up);
	assert_false(backend_state(fx, 1).checking);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 1);
	assert_string_equal(nth_event(fx, EVENT_BACKEND_DOWN, -1, 0)->backend, "plecs-2");
	fake_call_ok(fx->fb, call_at(fx, 0), 0, 0);
	assert_true(backend_state(fx, 0).up);
	assert_false(backend_state(fx, 0).checking);
	assert_int_equal(count_events(fx, EVENT_BACKEND_UP, -1), 0);
	EXPECT_CALL(call_at(fx, 2), URL1, a);
	fake_call_ok(fx->fb, call_at(fx, 2), 3, 1);
	/* plecs-2 is probed on the usual schedule and comes UP with an event. */
	fake_clock_advance(fx->fc, 5000);
	assert_true(call_at(fx, 3)->probe);
	assert_string_equal(call_at(fx, 3)->url, URL2);
	fake_call_ok(fx->fb, call_at(fx, 3), 0, 0);
	assert_true(backend_state(fx, 1).up);
	assert_int_equal(count_events(fx, EVENT_BACKEND_UP, -1), 1);
}

/* Probes of a DOWN backend wait at most probe_max, however large backoff_max is. */
static void test_probe_max(void **state)
{
	struct fx *fx = *state;

	fx->opt.sched.backoff_max = 300;
	fx->opt.sched.probe_max = 30;
	fx->opt.sched.down_after = 1;
	fx_open(fx);
	submit(fx, fx->model_a, PRIO_NORMAL);
	fake_call_unreachable(fx->fb, call_at(fx, 0), UNREACHABLE);
	assert_false(backend_state(fx, 0).up);
	const int64_t gaps[] = {5000, 10000, 20000, 30000, 30000, 30000};

	for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++) {
		size_t calls = fake_backend_count(fx->fb);

		fake_clock_advance(fx->fc, gaps[i] - 1);
		assert_int_equal(fake_backend_count(fx->fb), calls);
		fake_clock_advance(fx->fc, 1);
		assert_int_equal(fake_backend_count(fx->fb), calls + 1);
		assert_true(fake_backend_last(fx->fb)->probe);
		fake_call_unreachable(fx->fb, fake_backend_last(fx->fb), UNREACHABLE);
	}
}

/* jitter 0.5: each task's retry waits its own 5 to 7.5 s, so a batch that failed together does not
 * come back all at once; every one of them runs again exactly when its own time is due. */
static void test_jitter_spreads_retries(void **state)
{
	struct fx *fx = *state;
	int64_t t[8], due[8], lo = 0, hi = 0;
	size_t distinct = 0;

	fx->backends[0].max_batch = 8;
	fx->opt.sched.jitter = 0.5;
	fx_open(fx);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 8, t);
	EXPECT_CALL(call_at(fx, 0), URL1, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
	fake_call_fault(fx->fb, call_at(fx, 0), LICENCE);
	for (size_t i = 0; i < 8; i++) {
		due[i] = engine_loaded(fx->e, t[i])->retry_due - NOW;
		if (due[i] < 5000 || due[i] >= 7500)
			fail_msg("task %zu retries after %lld ms, outside 5000 to 7500", i, (long long)due[i]);
		lo = i == 0 || due[i] < lo ? due[i] : lo;
		hi = i == 0 || due[i] > hi ? due[i] : hi;
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen = seen || due[j] == due[i];
		distinct += !seen;
	}
	/* Eight draws of a fair generator: spread, not one value. */
	assert_true(distinct >= 6);
	assert_true(hi - lo >= 1000);
	/* Nothing is sent before the earliest is due; at the latest, all have gone again. */
	fake_clock_advance(fx->fc, lo - 1);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	fake_clock_advance(fx->fc, 1);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	while (fake_backend_running_on(fx->fb, NULL))
		fake_call_ok(fx->fb, fake_backend_running_on(fx->fb, NULL), 3, 1);
	fake_clock_advance(fx->fc, hi - lo);
	while (fake_backend_running_on(fx->fb, NULL))
		fake_call_ok(fx->fb, fake_backend_running_on(fx->fb, NULL), 3, 1);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(state_of(fx, t[i]), TASK_COMPLETED);
		assert_int_equal(attempts_of(fx, t[i]), 2);
	}
}

/* A server stopped longer than call_timeout (SIGSTOP, a VM freeze) does not blame PLECS for answers
 * that arrived meanwhile: the late timeout waits a little for them. */
static void test_stall_is_not_a_timeout(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].call_timeout = 5;
	fx_open(fx);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);
	struct fake_call *c = call_at(fx, 0);

	fake_clock_stall(fx->fc, 10000);
	fake_clock_advance(fx->fc, 0);
	assert_false(c->interrupt_requested);
	fake_call_ok(fx->fb, c, 3, 1);
	assert_int_equal(state_of(fx, a), TASK_COMPLETED);
	assert_outcomes(fx, a, "ok");
	/* A call that really hangs is still interrupted, once the grace has passed too. */
	int64_t b = submit(fx, fx->model_a, PRIO_NORMAL);

	c = call_at(fx, 1);
	fake_clock_stall(fx->fc, 10000);
	fake_clock_advance(fx->fc, 1999);
	assert_false(c->interrupt_requested);
	fake_clock_advance(fx->fc, 1);
	assert_true(c->interrupt_requested);
	fake_call_interrupted(fx->fb, c);
	assert_int_equal(state_of(fx, b), TASK_RUNNING);
	assert_outcomes(fx, b, "transient");
}

/* A result simq cannot keep (here a planted symlink where its folder goes) is simq's problem, not
 * PLECS's: no attempt spent, nothing written through the link, dispatch held with the reason. */
static void test_local_failure_holds_dispatch(void **state)
{
	struct fx *fx = *state;
	char *elsewhere = xasprintf("%s/elsewhere", fx->dir), *shard = xasprintf("%s/results/0", fx->dir);
	bool now;
	char *err = NULL;

	fx_open(fx);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	assert_int_equal(symlink(elsewhere, shard), 0);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);

	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	assert_int_equal(state_of(fx, a), TASK_QUEUED);
	assert_int_equal(attempts_of(fx, a), 0);
	assert_outcomes(fx, a, "local");
	assert_error_has(fx, a, "not a folder simq made");
	assert_true(engine_paused(fx->e));
	assert_non_null(engine_pause_reason(fx->e));
	assert_non_null(strstr(engine_pause_reason(fx->e), "MB free"));
	assert_int_equal(count_events(fx, EVENT_PAUSED, -1), 1);
	assert_int_equal(count_events(fx, EVENT_FAILED, -1), 0);
	assert_int_equal(count_events(fx, EVENT_ATTEMPT_FAILED, -1), 0);
	/* Nothing went through the link. */
	DIR *d = opendir(elsewhere);
	struct dirent *de;
	int files = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 0);
	/* Held: nothing is sent until the operator resumes. */
	fake_clock_advance(fx->fc, 60000);
	assert_int_equal(fake_backend_count(fx->fb), 1);
	assert_int_equal(unlink(shard), 0);
	assert_int_equal(engine_pause(fx->e, NULL, false, &now, &err), ENGINE_OK);
	assert_false(now);
	assert_null(engine_pause_reason(fx->e));
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	assert_int_equal(state_of(fx, a), TASK_COMPLETED);
	assert_outcomes(fx, a, "local,ok");
	assert_int_equal(STAT(fx, completed_first), 1);
	free(elsewhere);
	free(shard);
}

/* An answer too large to read is the batch's: split, later batches of the model sized to fit, the
 * backend never DOWN; one case too large fails at once saying which limit. */
static void test_answer_too_large(void **state)
{
	struct fx *fx = *state;
	int64_t t[8];

	fx->backends[0].max_batch = 8;
	fx->backends[0].max_response = 1000000;
	fx->opt.sched.down_after = 1;
	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 8, t);
	pause_all(fx, false);
	assert_int_equal(call_at(fx, 0)->n, 8);
	fake_call_too_large(fx->fb, call_at(fx, 0));
	assert_true(backend_state(fx, 0).up);
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 0);
	/* 8 cases over 1 MB: each over 125 kB, so at most 6 fit (with room); the split says 4. */
	assert_true(call_at(fx, 1)->n <= 4);
	fake_call_ok_bytes(fx->fb, call_at(fx, 1), call_at(fx, 1)->n * 200000);
	/* 200 kB a case: 1 MB holds 4 with room to spare. */
	for (size_t i = 2; i < fake_backend_count(fx->fb) || fake_backend_running(fx->fb); i++) {
		assert_true(call_at(fx, i)->n <= 4);
		fake_call_ok_bytes(fx->fb, call_at(fx, i), call_at(fx, i)->n * 200000);
		if (fake_backend_running(fx->fb) == 0)
			break;
	}
	for (size_t k = 0; k < 8; k++) {
		assert_int_equal(state_of(fx, t[k]), TASK_COMPLETED);
		assert_int_equal(attempts_of(fx, t[k]), 1);
	}
	assert_outcomes(fx, t[0], "split,ok");
	/* One case larger than the limit: FAILED after one attempt, the limit named. */
	int64_t big = submit(fx, fx->model_b, PRIO_NORMAL);

	fake_call_too_large(fx->fb, fake_backend_last(fx->fb));
	assert_int_equal(state_of(fx, big), TASK_FAILED);
	assert_int_equal(attempts_of(fx, big), 1);
	assert_error_has(fx, big, "max_response = 1000000 bytes");
	assert_true(backend_state(fx, 0).up);
}

/* A case that kills PLECS each time it gets it (the connection drops after the request went out) is
 * not requeued for ever: the third drop in a row is charged to it. */
static void test_case_that_kills_plecs(void **state)
{
	struct fx *fx = *state;

	fx->backends[0].max_batch = 1;
	fx->opt.sched.max_retries = 0;
	fx->opt.sched.down_after = 100;
	fx_open(fx);
	int64_t a = submit(fx, fx->model_a, PRIO_NORMAL);

	for (size_t i = 0; i < 2; i++) {
		fake_call_dropped(fx->fb, call_at(fx, i), "Recv failure: Connection reset by peer");
		assert_int_equal(state_of(fx, a), TASK_RUNNING);
		assert_int_equal(attempts_of(fx, a), 1);
	}
	fake_call_dropped(fx->fb, call_at(fx, 2), "Recv failure: Connection reset by peer");
	assert_int_equal(state_of(fx, a), TASK_FAILED);
	assert_outcomes(fx, a, "backend,backend,transient");
	assert_error_has(fx, a, "lost the connection 3 times in a row");
	/* A connection never made costs nothing, however often. */
	int64_t b = submit(fx, fx->model_a, PRIO_NORMAL);

	for (size_t i = 3; i < 9; i++)
		fake_call_unreachable(fx->fb, call_at(fx, i), UNREACHABLE);
	assert_int_equal(state_of(fx, b), TASK_RUNNING);
	fake_call_ok(fx->fb, call_at(fx, 9), 3, 1);
	assert_int_equal(state_of(fx, b), TASK_COMPLETED);
}

/* A backend that answers probes but not work (it flaps) is probed ever more slowly, not every
 * backoff_base, so it does not raise an alert every few seconds. */
static void test_flapping_backend(void **state)
{
	struct fx *fx = *state;

	fx->opt.sched.down_after = 1;
	fx->opt.sched.probe_max = 30;
	fx_open(fx);
	submit(fx, fx->model_a, PRIO_NORMAL);
	const int64_t waits[] = {5000, 10000, 20000, 30000, 30000};

	fake_call_unreachable(fx->fb, call_at(fx, 0), UNREACHABLE);
	for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		size_t calls = fake_backend_count(fx->fb);

		fake_clock_advance(fx->fc, waits[i] - 1);
		assert_int_equal(fake_backend_count(fx->fb), calls);
		fake_clock_advance(fx->fc, 1);
		/* The probe answers: UP; the work goes out and fails at once: DOWN again. */
		fake_call_ok(fx->fb, fake_backend_last(fx->fb), 0, 0);
		assert_true(backend_state(fx, 0).up);
		fake_call_unreachable(fx->fb, fake_backend_last(fx->fb), UNREACHABLE);
		assert_false(backend_state(fx, 0).up);
	}
	assert_int_equal(count_events(fx, EVENT_BACKEND_DOWN, -1), 6);
}

/* DESIGN 20: a request key's second submit gets the first one's ids; another request under it is refused. */
static void test_request_key_repeats(void **state)
{
	struct fx *fx = *state;
	struct engine_request req = {.key = "sweep-7", .fingerprint = "fnv1a64:1", .many = true};
	struct task *tasks[2];
	int64_t ids[2], *again = NULL;
	size_t n = 0;
	char *err = NULL;

	fx_open(fx);
	pause_all(fx, true);
	for (int i = 0; i < 2; i++)
		tasks[i] = task_new(fx->model_a, "{\"L\":0.001}", NULL, PRIO_NORMAL);
	assert_int_equal(engine_request_ids(fx->e, &req, &again, &n, &err), ENGINE_NOT_FOUND);
	assert_int_equal(engine_submit(fx->e, &req, tasks, 2, ids, &err), ENGINE_OK);
	assert_int_equal(engine_request_ids(fx->e, &req, &again, &n, &err), ENGINE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(again[0], ids[0]);
	assert_int_equal(again[1], ids[1]);
	free(again);
	assert_int_equal(count_events(fx, EVENT_SUBMITTED, -1), 2);
	req.fingerprint = "fnv1a64:2";
	assert_int_equal(engine_request_ids(fx->e, &req, &again, &n, &err), ENGINE_INVALID);
	assert_non_null(strstr(err, "request_key \"sweep-7\" was used for another request (simq.submit_many of tasks"));
	free(err);
	err = NULL;
	req.fingerprint = "fnv1a64:1";
	req.many = false;
	assert_int_equal(engine_request_ids(fx->e, &req, &again, &n, &err), ENGINE_INVALID);
	free(err);
}

/* Issue 14: retry([a, a, b, a]) makes one copy of a and one of b. */
static void test_retry_copies_each_distinct_id(void **state)
{
	struct fx *fx = *state;
	int64_t ids[2];
	struct engine_retry_answer copies[4];
	enum task_state after[2];
	size_t n = 0;
	char *err = NULL;

	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 2, ids);
	assert_int_equal(engine_cancel(fx->e, ids, 2, after, &err), ENGINE_OK);
	int64_t asked[4] = {ids[0], ids[0], ids[1], ids[0]};

	assert_int_equal(engine_retry(fx->e, asked, 4, false, copies, &n, &err), ENGINE_OK);
	assert_int_equal(n, 2);
	assert_true(copies[0].copy > ids[1] && copies[1].copy == copies[0].copy + 1);
	assert_true(copies[0].fresh && copies[1].fresh);
	assert_int_equal(state_of(fx, copies[0].copy), TASK_QUEUED);
	assert_int_equal(count_events(fx, EVENT_SUBMITTED, -1), 4);
	engine_retry_answers_free(copies, n);
}

/* Issue 15: a retry of a task retried before makes no second copy; it answers the first. */
static void test_retry_twice_makes_one_copy(void **state)
{
	struct fx *fx = *state;
	int64_t id, again;
	struct engine_retry_answer a[1];
	enum task_state after;
	size_t n = 0;
	char *err = NULL;

	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 1, &id);
	assert_int_equal(engine_cancel(fx->e, &id, 1, &after, &err), ENGINE_OK);
	assert_int_equal(engine_retry(fx->e, &id, 1, true, a, &n, &err), ENGINE_OK);
	assert_true(a[0].fresh && a[0].copy > id && a[0].reason == NULL);
	int64_t copy = a[0].copy;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_retry(fx->e, &id, 1, true, a, &n, &err), ENGINE_OK);
		assert_false(a[0].fresh);
		assert_int_equal(a[0].copy, copy);
		assert_int_equal(a[0].copy_state, TASK_QUEUED);
		assert_null(a[0].reason);
	}
	assert_int_equal(count_events(fx, EVENT_SUBMITTED, -1), 2);
	/* The copy cancelled too: the original is refused, naming the copy to retry instead. */
	assert_int_equal(engine_cancel(fx->e, &copy, 1, &after, &err), ENGINE_OK);
	assert_int_equal(engine_retry(fx->e, &id, 1, true, a, &n, &err), ENGINE_OK);
	assert_false(a[0].fresh);
	assert_non_null(a[0].reason);
	assert_non_null(strstr(a[0].reason, "retry"));
	engine_retry_answers_free(a, n);
	/* All or nothing without each: the whole call is refused. */
	assert_int_equal(engine_retry(fx->e, &id, 1, false, a, &n, &err), ENGINE_STATE);
	free(err);
	err = NULL;
	/* The copy's own retry is the way on, and a chain answers with its end. */
	assert_int_equal(engine_retry(fx->e, &copy, 1, true, a, &n, &err), ENGINE_OK);
	assert_true(a[0].fresh);
	again = a[0].copy;
	assert_int_equal(engine_retry(fx->e, &id, 1, true, a, &n, &err), ENGINE_OK);
	assert_false(a[0].fresh);
	assert_int_equal(a[0].copy, again);
	assert_null(a[0].reason);
	assert_int_equal(count_events(fx, EVENT_SUBMITTED, -1), 3);
}

/* Issue 15: cancel with allowed states leaves a task that is no longer in them alone. */
static void test_cancel_holds_its_states(void **state)
{
	struct fx *fx = *state;
	int64_t ids[2];
	enum task_state after[2];
	enum engine_act act[2];
	char *err = NULL;

	fx_open(fx);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 1, &ids[0]);
	assert_int_equal(state_of(fx, ids[0]), TASK_RUNNING);
	pause_all(fx, true);
	submit_many(fx, fx->model_b, PRIO_NORMAL, 1, &ids[1]);
	assert_int_equal(engine_cancel_in(fx->e, ids, 2, 1u << TASK_QUEUED, after, act, &err), ENGINE_OK);
	assert_int_equal(act[0], ENGINE_ACT_OTHER_STATE);
	assert_int_equal(after[0], TASK_RUNNING);
	assert_int_equal(state_of(fx, ids[0]), TASK_RUNNING);
	assert_int_equal(act[1], ENGINE_ACT_CHANGED);
	assert_int_equal(state_of(fx, ids[1]), TASK_CANCELLED);
	/* Cancelled already: the goal holds. */
	assert_int_equal(engine_cancel_in(fx->e, &ids[1], 1, ENGINE_ANY_STATE, after, act, &err), ENGINE_OK);
	assert_int_equal(act[0], ENGINE_ACT_ALREADY);
	/* The priority a task has already. */
	assert_int_equal(engine_reprioritize_in(fx->e, &ids[0], 1, PRIO_NORMAL, ENGINE_ANY_STATE, after, act, &err),
			 ENGINE_OK);
	assert_int_equal(act[0], ENGINE_ACT_ALREADY);
}

/* ---- results written off the loop ------------------------------------------------------------ */

/* The answer's results go to the writer: the tasks stay RUNNING, the slot takes its next batch, and
 * the tasks COMPLETE (with their files) only when the writer hands the files back. */
static void test_completed_only_when_written(void **state)
{
	struct fx *fx = *state;
	int64_t ids[4];
	struct store_result r = {0};
	struct stat st;

	fx->backends[0].max_batch = 2;
	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 4, ids);
	pause_all(fx, false);
	EXPECT_CALL(call_at(fx, 0), URL1, ids[0], ids[1]);
	fake_backend_hold_writes(fx->fb, true);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	assert_int_equal(fake_backend_writes_pending(fx->fb), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(engine_loaded(fx->e, ids[i])->state, TASK_RUNNING);
		assert_true(scheduler_in_flight(engine_scheduler(fx->e), ids[i]));
		assert_int_not_equal(engine_result(fx->e, ids[i], &r), ENGINE_OK);
		assert_int_equal(count_events(fx, EVENT_COMPLETED, ids[i]), 0);
		assert_outcomes(fx, ids[i], "running");
	}
	/* PLECS is not kept waiting for the disk. */
	EXPECT_CALL(call_at(fx, 1), URL1, ids[2], ids[3]);
	fake_clock_advance(fx->fc, 250);
	fake_backend_finish_writes(fx->fb);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(state_of(fx, ids[i]), TASK_COMPLETED);
		assert_outcomes(fx, ids[i], "ok");
		assert_int_equal(count_events(fx, EVENT_COMPLETED, ids[i]), 1);
		assert_int_equal(nth_event(fx, EVENT_COMPLETED, ids[i], 0)->time, NOW + 250);
		assert_int_equal(engine_result(fx->e, ids[i], &r), ENGINE_OK);
		assert_int_equal(stat(r.path, &st), 0);
		assert_string_equal(r.format, "mat");
		store_result_free(&r);
	}
	assert_int_equal(fake_backend_writes_pending(fx->fb), 0);
	fake_backend_hold_writes(fx->fb, false);
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	assert_int_equal(STAT(fx, completed_first), 4);
}

/* Cancelled while its file is written: CANCELLED at once, and the file is removed when written. */
static void test_cancel_while_written(void **state)
{
	struct fx *fx = *state;
	int64_t ids[2];
	enum task_state after[1];
	char *err = NULL, *path;
	struct store_result r = {0};
	struct stat st;

	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 2, ids);
	pause_all(fx, false);
	fake_backend_hold_writes(fx->fb, true);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	assert_int_equal(engine_cancel(fx->e, &ids[0], 1, after, &err), ENGINE_OK);
	assert_int_equal(after[0], TASK_CANCELLED);
	assert_outcomes(fx, ids[0], "discarded");
	fake_backend_finish_writes(fx->fb);
	assert_int_equal(state_of(fx, ids[0]), TASK_CANCELLED);
	assert_int_equal(count_events(fx, EVENT_COMPLETED, ids[0]), 0);
	assert_int_not_equal(engine_result(fx->e, ids[0], &r), ENGINE_OK);
	path = xasprintf("%s/results/0/%lld.mat", fx->dir, (long long)ids[0]);
	assert_int_not_equal(stat(path, &st), 0);
	free(path);
	/* The other one is kept. */
	assert_int_equal(state_of(fx, ids[1]), TASK_COMPLETED);
	assert_int_equal(engine_result(fx->e, ids[1], &r), ENGINE_OK);
	assert_int_equal(stat(r.path, &st), 0);
	store_result_free(&r);
}

/* While the writer holds more than write_backlog bytes, nothing more is dispatched (one batch may
 * already be on its way); when it catches up, dispatch goes on. */
static void test_writer_backlog_holds_dispatch(void **state)
{
	struct fx *fx = *state;
	int64_t ids[9];

	fx->backends[0].max_batch = 3;
	/* A 3-point, 1-signal result holds 48 bytes: three of them (144) pass 100. */
	fx->opt.sched.write_backlog = 100;
	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 9, ids);
	pause_all(fx, false);
	fake_backend_hold_writes(fx->fb, true);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	/* The slot took the next batch before the answer's results were handed over. */
	assert_int_equal(fake_backend_count(fx->fb), 2);
	fake_call_ok(fx->fb, call_at(fx, 1), 3, 1);
	fake_clock_advance(fx->fc, 10000);
	assert_int_equal(fake_backend_count(fx->fb), 2);
	assert_int_equal(fake_backend_writes_pending(fx->fb), 6);
	assert_int_equal(engine_running(fx->e), 6);
	fake_backend_finish_writes(fx->fb);
	assert_int_equal(fake_backend_count(fx->fb), 3);
	EXPECT_CALL(call_at(fx, 2), URL1, ids[6], ids[7], ids[8]);
	fake_backend_hold_writes(fx->fb, false);
	fake_call_ok(fx->fb, call_at(fx, 2), 3, 1);
	assert_int_equal(STAT(fx, completed_first), 9);
}

/* The server stops while files are being written: they are written and saved before the store
 * closes, and a server that starts again finds the tasks COMPLETED with their files. */
static void test_close_drains_writes(void **state)
{
	struct fx *fx = *state;
	int64_t ids[2];
	struct store_result r = {0};
	struct stat st;

	fx_open(fx);
	pause_all(fx, true);
	submit_many(fx, fx->model_a, PRIO_NORMAL, 2, ids);
	pause_all(fx, false);
	fake_backend_hold_writes(fx->fb, true);
	fake_call_ok(fx->fb, call_at(fx, 0), 3, 1);
	assert_int_equal(fake_backend_writes_pending(fx->fb), 2);
	engine_stop(fx->e);
	engine_close(&fx->e);
	assert_int_equal(fake_backend_writes_pending(fx->fb), 0);
	fake_backend_hold_writes(fx->fb, false);
	fx_open(fx);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(state_of(fx, ids[i]), TASK_COMPLETED);
		assert_outcomes(fx, ids[i], "ok");
		assert_int_equal(engine_result(fx->e, ids[i], &r), ENGINE_OK);
		assert_int_equal(stat(r.path, &st), 0);
		store_result_free(&r);
	}
	assert_int_equal(fake_backend_count(fx->fb), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_rule, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backoff_delays, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_retries, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_case_answer_not_finite, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_breaker_down_probe_up, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_split_poisoned_batch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_running, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_waiting_retry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_backends, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_round_robin, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_call_timeout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_received_frees_the_slot, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_max_batch_seconds, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_estimate_by_cases, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_linger, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outage_spends_no_retry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cut_short_spends_a_retry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_start_asks_first, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_probe_max, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_jitter_spreads_retries, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stall_is_not_a_timeout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_local_failure_holds_dispatch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_completed_only_when_written, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_while_written, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_writer_backlog_holds_dispatch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_close_drains_writes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_answer_too_large, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_case_that_kills_plecs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flapping_backend, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_request_key_repeats, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_copies_each_distinct_id, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_twice_makes_one_copy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_holds_its_states, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
