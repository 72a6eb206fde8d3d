/* bench/queue: queue operations with 1,000,000 queued tasks, against the engine issue's targets. */
#include "autoconf.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/queue.h"
#include "util/time.h"

#define N 1000000
#define SAMPLES 100000

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double median_us(int64_t *ns, size_t n)
{
	qsort(ns, n, sizeof *ns, cmp_i64);
	return (double)ns[n / 2] / 1000.0;
}

static const char *models[10] = {
	"/lab/models/buck.plecs", "/lab/models/rc.plecs",  "/lab/models/rlc.plecs", "/lab/models/llc.plecs",
	"/lab/models/pfc.plecs",  "/lab/models/dab.plecs", "/lab/models/flyback.plecs", "/lab/v2/buck.plecs",
	"/lab/v2/rc.plecs",       "/lab/v2/llc.plecs",
};

static void row(const char *what, double value, double target, const char *unit)
{
	printf("%-34s %10.3f %-6s %10.3f %-6s %8.1fx  %s\n", what, value, unit, target, unit, target / value,
	       value <= target ? "meets" : "MISSES");
}

int main(void)
{
	struct queue *q = queue_new();
	static int64_t ns[SAMPLES];
	static int64_t ids[SAMPLES];
	int64_t next_id = 1;
	struct queue_item page[50], item;
	struct mallinfo2 before = mallinfo2(), after;

	for (; next_id <= N; next_id++)
		queue_push(q, next_id, (uint64_t)next_id, (enum task_priority)(next_rand() % 4), models[next_rand() % 10]);
	after = mallinfo2();
	printf("queue of %d tasks, %d samples per operation\n\n", N, SAMPLES);
	printf("%-34s %17s %17s %9s\n", "operation", "measured", "target", "ratio");

	for (int i = 0; i < SAMPLES; i++) {
		int64_t t0 = time_mono_ns();

		queue_push(q, next_id, (uint64_t)next_id, (enum task_priority)(next_rand() % 4), models[next_rand() % 10]);
		ns[i] = time_mono_ns() - t0;
		ids[i] = next_id++;
	}
	row("push (median)", median_us(ns, SAMPLES), 2, "us");
	for (int i = 0; i < SAMPLES; i++)
		queue_remove(q, ids[i], NULL);

	for (int i = 0; i < SAMPLES; i++) {
		int64_t t0 = time_mono_ns();

		queue_pop(q, &item);
		ns[i] = time_mono_ns() - t0;
		ids[i] = item.id;
	}
	row("pop (median)", median_us(ns, SAMPLES), 2, "us");
	for (int i = 0; i < SAMPLES; i++)
		queue_push(q, ids[i], (uint64_t)ids[i], PRIO_CRITICAL, models[i % 10]);

	for (int i = 0; i < SAMPLES; i++) {
		int64_t id = (int64_t)(next_rand() % N) + 1, t0 = time_mono_ns();

		queue_remove(q, id, &item);
		ns[i] = time_mono_ns() - t0;
		ids[i] = id;
	}
	row("remove, random task (median)", median_us(ns, SAMPLES), 2, "us");
	for (int i = 0; i < SAMPLES; i++)
		queue_push(q, ids[i], (uint64_t)ids[i], PRIO_LOW, models[i % 10]);

	for (int i = 0; i < SAMPLES; i++) {
		int64_t id = (int64_t)(next_rand() % N) + 1, t0 = time_mono_ns();

		queue_reprioritize(q, id, (enum task_priority)(next_rand() % 4));
		ns[i] = time_mono_ns() - t0;
	}
	row("reprioritize, random task (median)", median_us(ns, SAMPLES), 2, "us");

	static const size_t offsets[] = {0, 500000, 999950};

	for (size_t o = 0; o < 3; o++) {
		char what[64];

		for (int i = 0; i < 10000; i++) {
			int64_t t0 = time_mono_ns();

			queue_page(q, offsets[o], 50, page);
			ns[i] = time_mono_ns() - t0;
		}
		snprintf(what, sizeof what, "page(%zu, 50) (median)", offsets[o]);
		row(what, median_us(ns, 10000), 50, "us");
	}
	for (int i = 0; i < 10000; i++) {
		int64_t t0 = time_mono_ns();

		queue_position(q, (int64_t)(next_rand() % N) + 1);
		ns[i] = time_mono_ns() - t0;
	}
	printf("%-34s %10.3f us     (no target)\n", "position, random task (median)", median_us(ns, 10000));
	for (int i = 0; i < 10000; i++) {
		int64_t t0 = time_mono_ns();

		queue_batch(q, 16, page);
		ns[i] = time_mono_ns() - t0;
	}
	printf("%-34s %10.3f us     (no target)\n", "batch candidates, k=16 (median)", median_us(ns, 10000));

	double per_task = (double)queue_memory(q) / (double)queue_size(q);
	double per_task_malloc = (double)(after.uordblks - before.uordblks) / N;

	printf("\n");
	row("bytes per queued task (counted)", per_task, 300, "B");
	row("bytes per queued task (malloc)", per_task_malloc, 300, "B");
	queue_free(&q);
	return 0;
}
