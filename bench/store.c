/* bench/store [DIR]: the SQLite store against the engine issue's targets. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/queue.h"
#include "engine/store.h"
#include "util/time.h"
#include "util/xalloc.h"

static struct task *sweep_task(int i)
{
	char vars[96];
	struct task *t;

	snprintf(vars, sizeof vars, "{\"Vin\":%d,\"D\":%.3f,\"L\":1.2e-3}", 300 + i % 200, 0.1 + (i % 800) / 1000.0);
	t = task_new(i % 3 ? "/lab/models/buck.plecs" : "/lab/models/llc.plecs", vars, NULL,
		     (enum task_priority)(i % 4));
	task_set_text(&t->name, "overnight-sweep");
	return t;
}

static struct store *open_store(const char *path, enum store_durability d, struct store_recovery *rec)
{
	struct store_open_options opt = {.durability = d};
	char *err = NULL;
	struct store *s = store_open(path, &opt, rec, &err);

	if (s == NULL) {
		fprintf(stderr, "bench/store: %s\n", err);
		exit(1);
	}
	return s;
}

static void submit_n(struct store *s, int n, int chunk)
{
	struct task **ts = xcalloc((size_t)chunk, sizeof *ts);

	for (int done = 0; done < n; done += chunk) {
		int m = n - done < chunk ? n - done : chunk;

		for (int i = 0; i < m; i++)
			ts[i] = sweep_task(done + i);
		if (store_submit_many(s, ts, (size_t)m) != STORE_OK) {
			fprintf(stderr, "bench/store: %s\n", store_error(s));
			exit(1);
		}
		for (int i = 0; i < m; i++)
			task_free(&ts[i]);
	}
	free(ts);
}

/* Single-task transitions, one transaction each: start an attempt, then complete it. */
static double transitions_per_second(const char *path, enum store_durability d, int n)
{
	struct store *s = open_store(path, d, NULL);
	struct task **ts = xcalloc((size_t)n, sizeof *ts);
	double t0, secs;

	for (int i = 0; i < n; i++)
		ts[i] = sweep_task(i);
	store_submit_many(s, ts, (size_t)n);
	t0 = time_mono();
	for (int i = 0; i < n; i++) {
		struct store_change ch = {.task = ts[i], .attempt = STORE_ATTEMPT_BEGIN, .backend = "ws1", .time = 1};

		task_transition(ts[i], TASK_RUNNING, 1);
		ts[i]->attempts = ts[i]->attempt_rows = 1;
		if (store_commit(s, &ch, 1) != STORE_OK) {
			fprintf(stderr, "bench/store: %s\n", store_error(s));
			exit(1);
		}
	}
	secs = time_mono() - t0;
	for (int i = 0; i < n; i++)
		task_free(&ts[i]);
	free(ts);
	store_close(&s);
	return n / secs;
}

static void push_loaded(struct task *t, void *ud)
{
	struct queue *q = ud;

	/* As the engine does: the queue keeps what orders the task, the store its record. */
	if (t->state == TASK_QUEUED)
		queue_push(q, t->id, (uint64_t)t->id, t->priority, t->model);
	task_free(&t);
}

static void row(const char *what, double value, double target, const char *unit, bool lower_is_better)
{
	double ratio = lower_is_better ? target / value : value / target;

	printf("%-44s %12.2f %-4s %12.2f %-4s %7.1fx  %s\n", what, value, unit, target, unit, ratio,
	       ratio >= 1 ? "meets" : "MISSES");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	char *path = xasprintf("%s/simq-bench-store.db", dir);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	struct store_recovery rec;
	struct store *s;
	double t0, secs;

#define FRESH() (unlink(path), unlink(wal), unlink(shm))
	printf("%-44s %17s %17s %8s\n", "store", "measured", "target", "ratio");

	FRESH();
	s = open_store(path, STORE_DURABILITY_NORMAL, NULL);
	t0 = time_mono();
	submit_n(s, 100000, 100000);
	secs = time_mono() - t0;
	store_close(&s);
	row("submit_many of 100,000 tasks", secs, 2, "s", true);

	FRESH();
	row("single-task transitions, durability=normal", transitions_per_second(path, STORE_DURABILITY_NORMAL, 20000),
	    5000, "/s", false);
	FRESH();
	printf("%-44s %12.2f /s   (no target; fsync per commit)\n", "single-task transitions, durability=full",
	       transitions_per_second(path, STORE_DURABILITY_FULL, 2000));

	FRESH();
	s = open_store(path, STORE_DURABILITY_NORMAL, NULL);
	submit_n(s, 1000000, 100000);
	store_close(&s);
	t0 = time_mono();
	s = open_store(path, STORE_DURABILITY_NORMAL, &rec);
	struct queue *q = queue_new();
	struct stats_counts all;

	if (store_load_active(s, push_loaded, q) != STORE_OK || store_counters(s, &all) != STORE_OK) {
		fprintf(stderr, "bench/store: %s\n", store_error(s));
		return 1;
	}
	secs = time_mono() - t0;
	row("reopen 1,000,000 tasks, queue rebuilt", secs, 5, "s", true);
	printf("(queue holds %zu tasks)\n", queue_size(q));

	queue_free(&q);
	store_close(&s);
	FRESH();
	free(path);
	free(wal);
	free(shm);
	return 0;
}
