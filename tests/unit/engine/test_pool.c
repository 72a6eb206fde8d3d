/* engine/pool: the policy of a [pool NAME] on a fake clock, a fake launcher and a fake host. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/pool.h"
#include "fake.h"
#include "util/xalloc.h"

#define MAX_THINGS 32

struct fake_backend_row {
	char name[64], url[128];
	int busy;
	double idle_for;
	bool down; /* never answered */
};

struct world {
	struct fake_clock *fc;
	struct pool *pool;
	/* the launcher */
	pool_submitted_fn submit_done[MAX_THINGS];
	void *submit_ud[MAX_THINGS];
	size_t submits, submits_answered;
	pool_listed_fn list_done;
	void *list_ud;
	size_t lists;
	char cancelled[MAX_THINGS][16];
	size_t ncancelled;
	char output_ids[MAX_THINGS][16], outputs[MAX_THINGS][128], forgotten[MAX_THINGS][24];
	size_t noutputs, nforgotten;
	/* the host */
	size_t waiting;
	struct fake_backend_row backends[MAX_THINGS];
	size_t nbackends;
	char removed[MAX_THINGS][64], gone[MAX_THINGS][128];
	size_t nremoved;
	char log[16384];
};

static void fl_submit(void *impl, pool_submitted_fn done, void *ud)
{
	struct world *w = impl;

	w->submit_done[w->submits] = done;
	w->submit_ud[w->submits++] = ud;
}

static void fl_cancel(void *impl, const char *id)
{
	struct world *w = impl;

	snprintf(w->cancelled[w->ncancelled++], 16, "%s", id);
}

static void fl_list(void *impl, pool_listed_fn done, void *ud)
{
	struct world *w = impl;

	assert_null(w->list_done); /* one listing out at a time */
	w->list_done = done;
	w->list_ud = ud;
	w->lists++;
}

/* What the jobs left: w->outputs[i] is job ids[i]'s last words (none: it never ran). */
static void fl_output(void *impl, const char *id, struct pool_job_output *out)
{
	struct world *w = impl;

	*out = (struct pool_job_output){.path = xasprintf("/state/pool/simq-emu-%s.out", id)};
	for (size_t i = 0; i < w->noutputs; i++)
		if (strcmp(w->output_ids[i], id) == 0)
			out->tail = xstrdup(w->outputs[i]);
}

static void fl_forget(void *impl, const char *id, bool keep_output)
{
	struct world *w = impl;

	snprintf(w->forgotten[w->nforgotten++ % MAX_THINGS], 24, "%s%s", id, keep_output ? " kept" : "");
}

static const struct pool_launcher_ops launcher = {
    .submit = fl_submit, .cancel = fl_cancel, .list = fl_list, .output = fl_output, .forget = fl_forget};

static size_t h_waiting(void *ud)
{
	return ((struct world *)ud)->waiting;
}

static void h_each(void *ud, void (*fn)(const struct sched_backend_info *b, void *arg), void *arg)
{
	struct world *w = ud;

	for (size_t i = 0; i < w->nbackends; i++) {
		struct sched_backend_info b = {.name = w->backends[i].name,
		                               .url = w->backends[i].url,
		                               .up = !w->backends[i].down,
		                               .checking = w->backends[i].down,
		                               .busy = w->backends[i].busy,
		                               .slots = 1,
		                               .idle_for = w->backends[i].idle_for};

		fn(&b, arg);
	}
}

static bool h_add(void *ud, const struct backend_config *c, char **err)
{
	struct world *w = ud;
	struct fake_backend_row *b = &w->backends[w->nbackends++];

	*b = (struct fake_backend_row){0};
	snprintf(b->name, sizeof b->name, "%s", c->name);
	snprintf(b->url, sizeof b->url, "%s", c->url);
	return true;
}

static bool h_remove(void *ud, const char *name, const char *gone, char **err)
{
	struct world *w = ud;

	for (size_t i = 0; i < w->nbackends; i++) {
		if (strcmp(w->backends[i].name, name) == 0) {
			w->backends[i] = w->backends[--w->nbackends];
			snprintf(w->removed[w->nremoved], 64, "%s", name);
			snprintf(w->gone[w->nremoved++], 128, "%s", gone ? gone : "");
			return true;
		}
	}
	*err = xstrdup("no such backend");
	return false;
}

static void h_log(void *ud, enum log_severity severity, const char *text)
{
	struct world *w = ud;

	strncat(w->log, text, sizeof w->log - strlen(w->log) - 2);
	strcat(w->log, "\n");
}

static struct world *world_new(int min, int max)
{
	struct world *w = xcalloc(1, sizeof *w);
	struct pool_options o = {.name = "emu",
	                         .min = min,
	                         .max = max,
	                         .idle_after = 60,
	                         .poll = 10,
	                         .backoff = 10,
	                         .answer_within = 30,
	                         .backend = {.slots = 1, .max_batch = 4, .call_timeout = 3600}};
	struct pool_host host = {
	    .ud = w, .waiting = h_waiting, .each_backend = h_each, .add = h_add, .remove = h_remove, .log = h_log};

	w->fc = fake_clock_new(1000000);
	w->pool = pool_new(&o, &launcher, w, fake_clock_get(w->fc), &host);
	return w;
}

static void world_free(struct world **wp)
{
	struct world *w = *wp;

	pool_free(&w->pool);
	assert_int_equal(fake_clock_live(w->fc), 0);
	fake_clock_free(&w->fc);
	xfree(wp);
}

/* The listing out answers with jobs (id, state, url), n of them. */
static void answer_list(struct world *w, const struct pool_job *jobs, size_t n)
{
	pool_listed_fn done = w->list_done;

	assert_non_null(done);
	w->list_done = NULL;
	done(w->list_ud, jobs, n, NULL);
}

/* Submit number i gets job id. */
static void answer_submit(struct world *w, size_t i, const char *id)
{
	assert_true(i < w->submits);
	w->submits_answered++;
	w->submit_done[i](w->submit_ud[i], id, NULL);
}

static void register_backend(struct world *w, const char *name, int busy, double idle_for)
{
	struct backend_config c = {.name = name, .url = "http://node:1/RPC2"};
	char *err = NULL;

	h_add(w, &c, &err);
	w->backends[w->nbackends - 1].busy = busy;
	w->backends[w->nbackends - 1].idle_for = idle_for;
}

/* The listing out fails (err). */
static void fail_list(struct world *w, const char *err)
{
	pool_listed_fn done = w->list_done;

	assert_non_null(done);
	w->list_done = NULL;
	done(w->list_ud, NULL, 0, err);
}

static void fail_submit(struct world *w, size_t i, const char *err)
{
	w->submits_answered++;
	w->submit_done[i](w->submit_ud[i], NULL, err);
}

static bool was_cancelled(const struct world *w, const char *id)
{
	for (size_t i = 0; i < w->ncancelled; i++)
		if (strcmp(w->cancelled[i], id) == 0)
			return true;
	return false;
}

/* Nothing is submitted before the first listing; then max jobs, pending ones counted, never more. */
static void test_max_counts_pending(void **state)
{
	struct world *w = world_new(0, 2);

	w->waiting = 200;
	pool_start(w->pool);
	fake_clock_advance(w->fc, 5000);
	assert_int_equal(w->submits, 0);
	answer_list(w, NULL, 0);
	assert_int_equal(w->submits, 2);
	answer_submit(w, 0, "11");
	answer_submit(w, 1, "12");
	/* Both pending for a minute of ticks and listings: still two. */
	for (int i = 0; i < 6; i++) {
		fake_clock_advance(w->fc, 10000);
		struct pool_job jobs[] = {{.id = "11", .state = POOL_JOB_PENDING},
		                          {.id = "12", .state = POOL_JOB_PENDING}};

		if (w->list_done)
			answer_list(w, jobs, 2);
	}
	assert_int_equal(w->submits, 2);
	assert_non_null(strstr(w->log, "pool emu: job 11 submitted (instance emu-11)"));
	world_free(&w);
}

/* A listing sent before a job's sbatch answered does not call the job lost. */
static void test_listing_older_than_the_job(void **state)
{
	struct world *w = world_new(0, 1);

	w->waiting = 5;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	assert_int_equal(w->submits, 1);
	fake_clock_advance(w->fc, 10000); /* the next listing goes out */
	assert_non_null(w->list_done);
	answer_submit(w, 0, "7");
	answer_list(w, NULL, 0); /* it was asked before job 7 existed */
	assert_null(strstr(w->log, "lost"));
	fake_clock_advance(w->fc, 1000);
	assert_int_equal(w->submits, 1); /* and no second job past max */
	world_free(&w);
}

/* A job that vanishes: its backend removed as gone, and a replacement while work waits. */
static void test_lost_job_replaced(void **state)
{
	struct world *w = world_new(0, 1);
	struct pool_job running = {.id = "3", .state = POOL_JOB_RUNNING, .node = "n1"};

	w->waiting = 50;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	answer_submit(w, 0, "3");
	register_backend(w, "emu-3", 1, 0);
	fake_clock_advance(w->fc, 10000);
	answer_list(w, &running, 1);
	assert_non_null(strstr(w->log, "emu-3 registered"));
	fake_clock_advance(w->fc, 10000);
	struct pool_job cancelled = {.id = "3", .state = POOL_JOB_ENDED, .how = "CANCELLED"};

	answer_list(w, &cancelled, 1); /* scancelled by hand: listed as ended */
	assert_int_equal(w->nremoved, 1);
	assert_string_equal(w->removed[0], "emu-3");
	assert_string_equal(w->gone[0], "its job 3 ended (CANCELLED)");
	assert_non_null(strstr(w->log, "emu-3 lost: job 3 ended (CANCELLED)"));
	fake_clock_advance(w->fc, 1000);
	assert_int_equal(w->submits, 2);
	world_free(&w);
}

/* Idle with nothing waiting: released (backend removed, job cancelled) down to min, busy ones kept. */
static void test_idle_release_down_to_min(void **state)
{
	struct world *w = world_new(2, 3);
	struct pool_job jobs[] = {{.id = "1", .state = POOL_JOB_RUNNING},
	                          {.id = "2", .state = POOL_JOB_RUNNING},
	                          {.id = "3", .state = POOL_JOB_RUNNING}};

	pool_start(w->pool);
	register_backend(w, "emu-1", 0, 61);
	register_backend(w, "emu-2", 0, 61);
	register_backend(w, "emu-3", 1, 0);
	answer_list(w, jobs, 3); /* adopted, all registered */
	assert_int_equal(w->submits, 0);
	fake_clock_advance(w->fc, 1000);
	/* One idle instance goes; the other stays for min = 2 with the busy one. */
	assert_int_equal(w->ncancelled, 1);
	assert_int_equal(w->nremoved, 1);
	assert_string_equal(w->gone[0], "");
	assert_non_null(strstr(w->log, "released after"));
	fake_clock_advance(w->fc, 10000);
	assert_int_equal(w->ncancelled, 1);
	world_free(&w);
}

/* A restarted server: running jobs with a URL become backends again; pending ones count against max. */
static void test_adoption(void **state)
{
	struct world *w = world_new(0, 2);
	struct pool_job jobs[] = {{.id = "8", .state = POOL_JOB_RUNNING, .node = "n2", .url = "http://n2:5/RPC2"},
	                          {.id = "9", .state = POOL_JOB_PENDING}};

	w->waiting = 100;
	pool_start(w->pool);
	answer_list(w, jobs, 2);
	assert_int_equal(w->nbackends, 1);
	assert_string_equal(w->backends[0].name, "emu-8");
	assert_string_equal(w->backends[0].url, "http://n2:5/RPC2");
	assert_int_equal(w->submits, 0);
	assert_non_null(strstr(w->log, "adopted job 8 (running on n2)"));
	assert_non_null(strstr(w->log, "2 jobs of a previous server adopted"));
	world_free(&w);
}

/* A listing that cannot be read changes nothing: the instances stay, nothing is submitted until one is read. */
static void test_unreadable_listing_keeps_all(void **state)
{
	struct world *w = world_new(0, 2);
	struct pool_job jobs[] = {{.id = "17", .state = POOL_JOB_RUNNING, .node = "n1"},
	                          {.id = "19", .state = POOL_JOB_RUNNING, .node = "n1"}};

	w->waiting = 3000;
	pool_start(w->pool);
	register_backend(w, "emu-17", 1, 0);
	register_backend(w, "emu-19", 1, 0);
	answer_list(w, jobs, 2);
	for (int i = 0; i < 5; i++) {
		fake_clock_advance(w->fc, 10000);
		fail_list(w, "squeue's answer cannot be read: its first line is \"garbage|x|y\"");
	}
	assert_int_equal(w->submits, 0);
	assert_int_equal(w->nremoved, 0);
	assert_null(strstr(w->log, "lost"));
	struct pool_status st;

	pool_get_status(w->pool, &st);
	assert_int_equal(st.health, POOL_HEALTH_UNLISTED);
	assert_int_equal(st.registered, 2);
	/* Said once, not every poll. */
	assert_non_null(strstr(w->log, "cannot list its jobs: squeue's answer cannot be read"));
	assert_null(strstr(strstr(w->log, "cannot list") + 1, "cannot list"));
	fake_clock_advance(w->fc, 10000);
	answer_list(w, jobs, 2);
	assert_non_null(strstr(w->log, "its jobs can be listed again"));
	assert_int_equal(w->submits, 0);
	world_free(&w);
}

/* More jobs listed than max (a previous server's): the excess is cancelled, the newest pending first. */
static void test_over_max_trimmed(void **state)
{
	struct world *w = world_new(0, 2);
	struct pool_job jobs[] = {
	    {.id = "17", .state = POOL_JOB_RUNNING}, {.id = "19", .state = POOL_JOB_RUNNING},
	    {.id = "20", .state = POOL_JOB_PENDING}, {.id = "21", .state = POOL_JOB_PENDING},
	    {.id = "9", .state = POOL_JOB_PENDING},
	};

	w->waiting = 100;
	pool_start(w->pool);
	register_backend(w, "emu-17", 1, 0);
	answer_list(w, jobs, 5);
	assert_int_equal(w->ncancelled, 3);
	assert_string_equal(w->cancelled[0], "21");
	assert_string_equal(w->cancelled[1], "20");
	assert_string_equal(w->cancelled[2], "9");
	assert_non_null(strstr(w->log, "5 jobs alive, more than max = 2: job 21 (pending) cancelled"));
	/* Cancelled jobs still listed count against max: nothing is submitted. */
	fake_clock_advance(w->fc, 10000);
	answer_list(w, jobs, 5);
	assert_int_equal(w->submits, 0);
	assert_int_equal(w->ncancelled, 3);
	world_free(&w);
}

/* Jobs that run and end before they register: backoff doubling, FAILING after 3, the output named. */
static void test_jobs_ending_unregistered_back_off(void **state)
{
	struct world *w = world_new(0, 1);
	struct pool_status st;
	char id[8];

	w->waiting = 1;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(w->submits, (size_t)k + 1);
		snprintf(id, sizeof id, "%d", 11 + k);
		answer_submit(w, (size_t)k, id);
		snprintf(w->output_ids[w->noutputs], 16, "%s", id);
		snprintf(w->outputs[w->noutputs++], 128, "sh: 1: exec: /opt/plecs/PLECS: not found");
		do
			fake_clock_advance(w->fc, 1000);
		while (w->list_done == NULL);
		answer_list(w, NULL, 0); /* it ran and ended */
		/* The next submit waits 10 s, 20 s, 40 s (backoff 10 s doubling). */
		size_t before = w->submits;

		fake_clock_advance(w->fc, (int64_t)(10000 << k) - 1000);
		if (w->list_done)
			answer_list(w, NULL, 0);
		assert_int_equal(w->submits, before);
		fake_clock_advance(w->fc, 2000);
		if (w->list_done)
			answer_list(w, NULL, 0);
		assert_int_equal(w->submits, before + 1);
	}
	assert_non_null(strstr(w->log, "job 11 ended before its instance registered (squeue no longer lists it); "
	                               "last output: sh: 1: exec: /opt/plecs/PLECS: not found; next try in 10s "
	                               "(its output: /state/pool/simq-emu-11.out)"));
	assert_non_null(strstr(w->log, "pool emu: 3 jobs in a row ended before they registered; last output: sh: 1: "
	                               "exec: /opt/plecs/PLECS: not found; next try in 40s (job 13's output: "
	                               "/state/pool/simq-emu-13.out)"));
	pool_get_status(w->pool, &st);
	assert_int_equal(st.health, POOL_HEALTH_FAILING);
	assert_int_equal(st.failures, 3);
	assert_string_equal(st.output, "/state/pool/simq-emu-13.out");
	assert_string_equal(w->forgotten[0], "11 kept");
	/* One that registers ends it. */
	answer_submit(w, 3, "14");
	register_backend(w, "emu-14", 0, 0);
	fake_clock_advance(w->fc, 1000);
	pool_get_status(w->pool, &st);
	assert_int_equal(st.health, POOL_HEALTH_OK);
	assert_non_null(strstr(w->log, "back to work after 3 failures in a row: emu-14 registered"));
	world_free(&w);
}

/* sbatch keeps failing: 10 s, 20 s, 40 s ... between tries, up to 10 minutes. */
static void test_failed_submits_back_off(void **state)
{
	struct world *w = world_new(0, 1);
	int64_t waits[] = {10, 20, 40, 80, 160, 320, 600, 600};

	w->waiting = 21;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	for (size_t k = 0; k < sizeof waits / sizeof waits[0]; k++) {
		assert_int_equal(w->submits, k + 1);
		fail_submit(w, k, "sbatch failed (exit status 1): sbatch: error: Invalid license specification");
		fake_clock_advance(w->fc, waits[k] * 1000 - 1000);
		if (w->list_done)
			answer_list(w, NULL, 0);
		assert_int_equal(w->submits, k + 1);
		fake_clock_advance(w->fc, 1000);
		if (w->list_done)
			answer_list(w, NULL, 0);
	}
	assert_non_null(strstr(w->log, "cannot submit a job: sbatch failed (exit status 1): sbatch: error: Invalid "
	                               "license specification; 1 failure in a row, next try in 10s"));
	assert_non_null(strstr(w->log, "7 failures in a row, next try in 10m"));
	world_free(&w);
}

/* The jobs one tick asks for at once fail for one reason: one failure in a row, not one each. */
static void test_one_failure_per_round(void **state)
{
	struct world *w = world_new(0, 3);

	w->waiting = 20;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	assert_int_equal(w->submits, 3);
	for (size_t k = 0; k < 3; k++)
		fail_submit(w, k, "sbatch failed (exit status 1): sbatch: error: Invalid license specification");
	assert_non_null(strstr(w->log, "1 failure in a row, next try in 10s"));
	assert_null(strstr(w->log, "2 failures in a row"));
	fake_clock_advance(w->fc, 10000);
	if (w->list_done)
		answer_list(w, NULL, 0);
	assert_int_equal(w->submits, 6); /* the next round, 10 s on */
	for (size_t k = 3; k < 6; k++)
		fail_submit(w, k, "sbatch failed (exit status 1): sbatch: error: Invalid license specification");
	assert_non_null(strstr(w->log, "2 failures in a row, next try in 20s"));
	assert_null(strstr(w->log, "3 failures in a row"));
	world_free(&w);
}

/* A task waiting for its retry while the one instance is idle asks for no second instance. */
static void test_idle_instance_serves_what_waits(void **state)
{
	struct world *w = world_new(0, 3);
	struct pool_job job = {.id = "25", .state = POOL_JOB_RUNNING};

	w->waiting = 1;
	pool_start(w->pool);
	register_backend(w, "emu-25", 0, 5);
	answer_list(w, &job, 1); /* adopted, registered, idle */
	for (int i = 0; i < 6; i++) {
		fake_clock_advance(w->fc, 2000);
		if (w->list_done)
			answer_list(w, &job, 1);
	}
	assert_int_equal(w->submits, 0);
	/* At work with a full batch waiting besides: one more. */
	w->backends[0].busy = 1;
	w->waiting = 4;
	fake_clock_advance(w->fc, 2000);
	assert_int_equal(w->submits, 1);
	world_free(&w);
}

/* A pending job is not cancelled while tasks wait; once nothing has waited for idle_after, it is. */
static void test_pending_kept_while_work_waits(void **state)
{
	struct world *w = world_new(0, 2);

	w->waiting = 8; /* e.g. all in a retry backoff: the host counts them */
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	answer_submit(w, 0, "6");
	struct pool_job pend = {.id = "6", .state = POOL_JOB_PENDING, .reason = "Licenses"};

	for (int i = 0; i < 12; i++) {
		fake_clock_advance(w->fc, 10000);
		if (w->list_done)
			answer_list(w, &pend, 1);
	}
	assert_int_equal(w->ncancelled, 0);
	w->waiting = 0;
	fake_clock_advance(w->fc, 59000);
	if (w->list_done)
		answer_list(w, &pend, 1);
	assert_int_equal(w->ncancelled, 0);
	fake_clock_advance(w->fc, 2000);
	assert_int_equal(w->ncancelled, 1);
	assert_non_null(strstr(w->log, "job 6 cancelled while pending: nothing has waited for 1m"));
	world_free(&w);
}

/* "job N started on NODE" is said when a listing first shows it running, registered or not. */
static void test_started_said(void **state)
{
	struct world *w = world_new(0, 1);
	struct pool_job run = {.id = "5", .state = POOL_JOB_RUNNING, .node = "node07"};

	w->waiting = 4;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	answer_submit(w, 0, "5");
	register_backend(w, "emu-5", 1, 0); /* it registers between two listings */
	fake_clock_advance(w->fc, 10000);
	answer_list(w, &run, 1);
	assert_non_null(strstr(w->log, "job 5 started on node07"));
	world_free(&w);
}

/* A registered instance that never answers is given up after twice answer_within, and replaced. */
static void test_silent_instance_given_up(void **state)
{
	struct world *w = world_new(0, 1);
	struct pool_job run = {.id = "3", .state = POOL_JOB_RUNNING};

	w->waiting = 28;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	answer_submit(w, 0, "3");
	register_backend(w, "emu-3", 0, 0);
	w->backends[0].down = true;
	fake_clock_advance(w->fc, 59000);
	if (w->list_done)
		answer_list(w, &run, 1);
	assert_int_equal(w->ncancelled, 0);
	fake_clock_advance(w->fc, 2000);
	assert_int_equal(w->ncancelled, 1);
	assert_string_equal(w->removed[0], "emu-3");
	assert_non_null(strstr(w->gone[0], "it did not answer for 1m"));
	assert_non_null(strstr(w->log, "emu-3 at http://node:1/RPC2 did not answer for 1m"));
	world_free(&w);
}

/* Names: NAME-DIGITS is the pool's; simq backend remove of an instance cancels its job. */
static void test_names_and_removal_by_hand(void **state)
{
	struct world *w = world_new(0, 1);
	const char *job = NULL;

	assert_true(pool_claims(w->pool, "emu-4", &job));
	assert_string_equal(job, "4");
	assert_false(pool_claims(w->pool, "emu-4x", &job));
	assert_false(pool_claims(w->pool, "emu-", &job));
	assert_false(pool_claims(w->pool, "emulator-4", &job));
	w->waiting = 4;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	answer_submit(w, 0, "9");
	register_backend(w, "emu-9", 0, 0);
	fake_clock_advance(w->fc, 1000);
	char *err = NULL;

	h_remove(w, "emu-9", NULL, &err);
	pool_backend_removed(w->pool, "emu-9");
	assert_true(was_cancelled(w, "9"));
	assert_non_null(strstr(w->log, "emu-9 removed by hand (simq backend remove): job 9 cancelled"));
	world_free(&w);
}

/* A job that registered and ended between two ticks has served: lost, not a failure to start. */
static void test_registered_between_ticks(void **state)
{
	struct world *w = world_new(0, 1);
	struct pool_status st;

	w->waiting = 10;
	pool_start(w->pool);
	answer_list(w, NULL, 0);
	answer_submit(w, 0, "4");
	pool_instance_registered(w->pool, "4", "http://n:1/RPC2");
	snprintf(w->output_ids[w->noutputs], 16, "4");
	snprintf(w->outputs[w->noutputs++], 128, "plecs-emu: listening");
	do
		fake_clock_advance(w->fc, 1000);
	while (w->list_done == NULL);
	answer_list(w, NULL, 0);
	assert_non_null(strstr(w->log, "emu-4 lost: job 4 ended"));
	assert_null(strstr(w->log, "before its instance registered"));
	pool_get_status(w->pool, &st);
	assert_int_equal(st.failures, 0);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_max_counts_pending),
	    cmocka_unit_test(test_listing_older_than_the_job),
	    cmocka_unit_test(test_lost_job_replaced),
	    cmocka_unit_test(test_idle_release_down_to_min),
	    cmocka_unit_test(test_adoption),
	    cmocka_unit_test(test_unreadable_listing_keeps_all),
	    cmocka_unit_test(test_over_max_trimmed),
	    cmocka_unit_test(test_jobs_ending_unregistered_back_off),
	    cmocka_unit_test(test_failed_submits_back_off),
	    cmocka_unit_test(test_one_failure_per_round),
	    cmocka_unit_test(test_idle_instance_serves_what_waits),
	    cmocka_unit_test(test_pending_kept_while_work_waits),
	    cmocka_unit_test(test_started_said),
	    cmocka_unit_test(test_silent_instance_given_up),
	    cmocka_unit_test(test_names_and_removal_by_hand),
	    cmocka_unit_test(test_registered_between_ticks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
