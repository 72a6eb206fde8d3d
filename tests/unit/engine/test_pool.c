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
	/* the host */
	size_t waiting;
	struct fake_backend_row backends[MAX_THINGS];
	size_t nbackends;
	char removed[MAX_THINGS][64], gone[MAX_THINGS][128];
	size_t nremoved;
	char log[8192];
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

static const struct pool_launcher_ops launcher = {.submit = fl_submit, .cancel = fl_cancel, .list = fl_list};

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
		                               .up = true,
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
	answer_list(w, NULL, 0); /* scancelled by hand, node lost: gone */
	assert_int_equal(w->nremoved, 1);
	assert_string_equal(w->removed[0], "emu-3");
	assert_string_equal(w->gone[0], "its job 3 ended");
	assert_non_null(strstr(w->log, "emu-3 lost"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_max_counts_pending), cmocka_unit_test(test_listing_older_than_the_job),
	    cmocka_unit_test(test_lost_job_replaced),  cmocka_unit_test(test_idle_release_down_to_min),
	    cmocka_unit_test(test_adoption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
