/*
 * bench/dashboard: what the web dashboard costs the server's loop with 1,000,000 queued tasks
 * (issue 18), in-process on a real engine (its store in a temporary directory, a backend that
 * never answers): building an update after one change (a task reprioritized), which the server
 * does at most five times a second and once for all viewers, and building a snapshot, which a
 * page gets when it connects.  Target: an update <= 2 ms (median).  The cost of 100 connected
 * viewers next to bench/throughput's unbatched figure is "bench/throughput dashboard".
 */
#include "autoconf.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/lib.h"
#include "engine/engine.h"
#include "engine/writer.h"
#include "server/dashboard-view.h"
#include "server/loopclock.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

#define QUEUE   1000000
#define BATCH   10000
#define SAMPLES 300

static void never_start(void *impl, struct backend_call *call)
{
}

static void never_interrupt(void *impl, struct backend_call *call)
{
}

static const struct backend_ops silent_backend = {.start = never_start, .interrupt = never_interrupt};

static double median_ms(int64_t *ns, int n)
{
	qsort(ns, (size_t)n, sizeof *ns, bench_cmp_i64);
	return (double)ns[n / 2] / 1e6;
}

/* QUEUE tasks of model in batches, priorities mixed as a night's are: mostly LOW, some NORMAL, few above. */
static void fill(struct engine *e, const char *model)
{
	static const enum task_priority mix[] = {PRIO_LOW, PRIO_LOW,    PRIO_LOW, PRIO_NORMAL, PRIO_LOW,
	                                         PRIO_LOW, PRIO_NORMAL, PRIO_LOW, PRIO_HIGH,   PRIO_LOW};
	struct task **tasks = xcalloc(BATCH, sizeof *tasks);
	int64_t *ids = xcalloc(BATCH, sizeof *ids);
	char *err = NULL;

	for (int b = 0; b < QUEUE / BATCH; b++) {
		for (int i = 0; i < BATCH; i++) {
			char vars[64];

			snprintf(vars, sizeof vars, "{\"D\":0.5,\"K\":%d}", b * BATCH + i);
			tasks[i] = task_new(model, vars, "{}", mix[i % 10]);
			task_set_text(&tasks[i]->name, "overnight-sweep");
		}
		if (engine_submit(e, NULL, tasks, BATCH, ids, &err) != ENGINE_OK) {
			fprintf(stderr, "bench/dashboard: submit: %s\n", err);
			exit(1);
		}
	}
	free(tasks);
	free(ids);
}

int main(int argc, char **argv)
{
	static struct backend_config backend = {
	    .name = "emu", .url = "http://127.0.0.1:9/RPC2", .slots = 1, .max_batch = 16, .call_timeout = 3600};
	static int64_t ns[SAMPLES];
	const char *tmp = getenv("TMPDIR");
	/* mkdtemp fills in the XXXXXX. */
	char *dir = xasprintf("%s/simq-bench-dashboard-XXXXXX", tmp && *tmp ? tmp : "/tmp"), *err = NULL;
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	struct ev_loop *loop = ev_default_loop(0);
	struct clock clock = loopclock_new(loop);
	struct writer *writer = writer_new(&clock, &err);

	if (mkdtemp(dir) == NULL || writer == NULL) {
		fprintf(stderr, "bench/dashboard: %s\n", err ? err : dir);
		return 1;
	}
	if (slash)
		*slash = '\0';
	char *rel = xasprintf("%s/../share/models/buck.plecs", slash ? self : "."), *model = realpath(rel, NULL);
	char *db = xasprintf("%s/simq.db", dir), *results = xasprintf("%s/results", dir);
	struct engine_options eo = {
	    .db_path = db,
	    .log_keep = 1000,
	    .durability = STORE_DURABILITY_NORMAL,
	    .start_paused = true,
	    .sched = {.max_retries = 3,
	              .down_after = 3,
	              .backoff_base = 5,
	              .backoff_max = 60,
	              .probe_max = 60,
	              .retry_faults = "license",
	              .results_dir = results,
	              .seed = 1,
	              .writer_ops = &writer_thread_ops,
	              .writer_impl = writer},
	    .backends = &backend,
	    .nbackends = 1,
	    .backend_ops = &silent_backend,
	    .clock = &clock,
	    .started_line = "server started (bench/dashboard)",
	};
	struct engine *e = engine_open(&eo, &err);

	if (e == NULL || model == NULL) {
		fprintf(stderr, "bench/dashboard: %s\n", e ? "no share/models/buck.plecs next to the bench" : err);
		return 1;
	}
	int64_t t0 = time_mono_ns();

	fill(e, model);
	printf("%d tasks queued in %.1f s; median of %d builds\n\n", QUEUE, (double)(time_mono_ns() - t0) / 1e9,
	       SAMPLES);
	struct dashboard_view *view = dashboard_view_new(e);
	struct buf out = BUF_INIT;
	int64_t moved = 0;
	size_t update_bytes = 0;

	dashboard_view_update(view, 1, &out);
	/* One change between builds, as a night has: the last queued task goes to HIGH, then back. */
	for (int i = 0; i < SAMPLES; i++) {
		enum task_state after;

		if (i % 2 == 0) {
			struct queue_item last;

			queue_page(engine_queue(e), queue_size(engine_queue(e)) - 1, 1, &last);
			moved = last.id;
		}
		engine_reprioritize(e, &moved, 1, i % 2 ? PRIO_LOW : PRIO_HIGH, &after, &err);
		buf_truncate(&out, 0);
		int64_t s0 = time_mono_ns();

		if (!dashboard_view_update(view, (uint64_t)i + 2, &out)) {
			fprintf(stderr, "bench/dashboard: a change made no update\n");
			return 1;
		}
		ns[i] = time_mono_ns() - s0;
		update_bytes = out.len;
	}
	double update = median_ms(ns, SAMPLES);

	for (int i = 0; i < SAMPLES; i++) {
		buf_truncate(&out, 0);
		int64_t s0 = time_mono_ns();

		dashboard_view_snapshot(view, (uint64_t)SAMPLES + 1, &out);
		ns[i] = time_mono_ns() - s0;
	}
	double snapshot = median_ms(ns, SAMPLES);

	printf("%-44s %12s %12s %8s\n", "", "measured", "target", "ratio");
	printf("%-44s %10.3fms %10.3fms %7.1fx  %s\n", "an update after one change, 1,000,000 queued", update, 2.0,
	       2.0 / update, update <= 2 ? "meets" : "MISSES");
	printf("%-44s %10.1fKB\n", "  its size", (double)update_bytes / 1024);
	printf("%-44s %10.3fms   (%.1f KB; a page that connects)\n", "a snapshot", snapshot, (double)out.len / 1024);
	buf_free(&out);
	dashboard_view_free(&view);
	engine_close(&e);
	writer_free(&writer);
	char *rm = xasprintf("rm -rf '%s'", dir);

	if (system(rm) != 0)
		fprintf(stderr, "bench/dashboard: could not remove %s\n", dir);
	free(rm);
	return 0;
}
