/*
 * engine/writer.c: the threaded writer writes each job on its own thread ("simq-writer"), hands
 * finished jobs back on the loop thread through the clock's wake, in start order, one owner's
 * jobs in one done(); drain() waits for every job started; a write that fails says why.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/writer.h"
#include "fake.h"
#include "util/xalloc.h"

struct fx {
	char *dir;
	struct fake_clock *fc;
	struct writer *w;
	int64_t back[64];           /* ids handed back, in order */
	size_t nback, calls;        /* ids, and done() calls */
	pthread_t loop_thread;
	bool off_loop;              /* a done() ran on another thread */
	char *error;                /* the last failed job's error */
	int error_errno;
};

static struct fx *the_fx;

static int fx_setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	const char *tmp = getenv("SIMQ_TEST_TMP");
	char *err = NULL;

	fx->dir = xasprintf("%s/writer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	fx->fc = fake_clock_new(1000);
	fx->w = writer_new(fake_clock_get(fx->fc), &err);
	assert_non_null(fx->w);
	fx->loop_thread = pthread_self();
	the_fx = fx;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	writer_free(&fx->w);
	assert_null(fx->w);
	fake_clock_free(&fx->fc);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(fx->error);
	free(fx->dir);
	free(fx);
	return 0;
}

static void done(struct result_job *jobs)
{
	struct fx *fx = the_fx;

	fx->calls++;
	if (!pthread_equal(pthread_self(), fx->loop_thread))
		fx->off_loop = true;
	while (jobs) {
		struct result_job *next = jobs->next;

		assert_true(jobs->ok || jobs->error);
		if (jobs->ok)
			fx->back[fx->nback++] = jobs->id;
		else
			fx->back[fx->nback++] = -jobs->id;
		if (jobs->error) {
			free(fx->error);
			fx->error = xstrdup(jobs->error);
			fx->error_errno = jobs->error_errno;
		}
		result_job_free(&jobs);
		jobs = next;
	}
}

static struct result_job *job(struct fx *fx, const char *dir, int64_t id)
{
	struct result_job *j = xcalloc(1, sizeof *j);

	*j = (struct result_job){.dir = dir, .id = id, .format = RESULTS_MAT, .done = done, .owner = fx};
	j->data.points = 1000;
	j->data.signals = 2;
	j->data.time = xcalloc(1000, sizeof(double));
	j->data.values = xcalloc(2000, sizeof(double));
	for (size_t i = 0; i < 1000; i++)
		j->data.time[i] = (double)i;
	return j;
}

static void test_drain_writes_every_job(void **state)
{
	struct fx *fx = *state;
	struct stat st;

	for (int64_t id = 1; id <= 20; id++)
		writer_thread_ops.start(fx->w, job(fx, fx->dir, id));
	writer_thread_ops.drain(fx->w);
	assert_int_equal(fx->nback, 20);
	for (int64_t id = 1; id <= 20; id++) {
		char *path = xasprintf("%s/0/%lld.mat", fx->dir, (long long)id);

		assert_int_equal(fx->back[id - 1], id);
		assert_int_equal(stat(path, &st), 0);
		free(path);
	}
	assert_false(fx->off_loop);
	/* Nothing left: a second drain hands nothing back. */
	writer_thread_ops.drain(fx->w);
	assert_int_equal(fx->nback, 20);
}

/* The thread wakes the loop (the clock's wake); the loop takes what is written then. */
static void test_wake_hands_back_on_the_loop(void **state)
{
	struct fx *fx = *state;
	struct timespec nap = {0, 1000000};

	writer_thread_ops.start(fx->w, job(fx, fx->dir, 7));
	for (int i = 0; i < 10000 && !fake_clock_wake_pending(fx->fc); i++)
		nanosleep(&nap, NULL);
	assert_true(fake_clock_wake_pending(fx->fc));
	/* Written, but not handed back until the loop runs the wake. */
	assert_int_equal(fx->nback, 0);
	fake_clock_advance(fx->fc, 0);
	assert_int_equal(fx->nback, 1);
	assert_int_equal(fx->back[0], 7);
	assert_int_equal(fx->calls, 1);
	assert_false(fx->off_loop);
}

/* A job that cannot be written comes back with why and errno; the others are written. */
static void test_failure_says_why(void **state)
{
	struct fx *fx = *state;
	char *blocked = xasprintf("%s/blocked", fx->dir), *shard = xasprintf("%s/blocked/0", fx->dir);
	FILE *fp;

	assert_int_equal(mkdir(blocked, 0700), 0);
	fp = fopen(shard, "w"); /* a file where the shard folder should be */
	assert_non_null(fp);
	fclose(fp);
	writer_thread_ops.start(fx->w, job(fx, fx->dir, 2));
	writer_thread_ops.start(fx->w, job(fx, blocked, 3));
	writer_thread_ops.start(fx->w, job(fx, fx->dir, 4));
	writer_thread_ops.drain(fx->w);
	assert_int_equal(fx->nback, 3);
	assert_int_equal(fx->back[0], 2);
	assert_int_equal(fx->back[1], -3);
	assert_int_equal(fx->back[2], 4);
	assert_non_null(strstr(fx->error, shard));
	assert_non_null(strstr(fx->error, "not a folder simq made"));
	assert_int_equal(fx->error_errno, ENOTDIR);
	free(blocked);
	free(shard);
}

/* Jobs of one owner come back in one done(); runs of two owners in one done() each. */
static void test_hand_back_groups_by_owner(void **state)
{
	struct fx *fx = *state;
	struct result_job *a = job(fx, fx->dir, 1), *b = job(fx, fx->dir, 2), *c = job(fx, fx->dir, 3);

	a->ok = b->ok = c->ok = true;
	c->owner = &fx->calls; /* another owner */
	a->next = b;
	b->next = c;
	result_jobs_hand_back(a);
	assert_int_equal(fx->calls, 2);
	assert_int_equal(fx->nback, 3);
	assert_int_equal(fx->back[0], 1);
	assert_int_equal(fx->back[2], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drain_writes_every_job, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wake_hands_back_on_the_loop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failure_says_why, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hand_back_groups_by_owner, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
