/*
 * stats — the figures of DESIGN 9, exactly as defined there.
 *
 * A task counts in a window when it reaches a final state inside it:
 * completed_first (COMPLETED after 1 attempt), completed_retry (after more),
 * failed (FAILED after at least one attempt), failed_transient (those of them
 * that had a transient error), cancelled, cached, and for retries per failed
 * task, the retries of tasks that had a failed attempt and how many such
 * tasks there were.  stats_add_task() is the one definition of a task's
 * contribution; the store's recount in SQL mirrors it.  Windows: since the
 * server started, the last 24 hours (the 1,440 whole minutes up to and
 * including the current one) and all time.  Loop thread only.
 */
#ifndef SIMQ_ENGINE_STATS_H
#define SIMQ_ENGINE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/task.h"

#define STATS_COUNTERS(X)        \
	X(completed_first)       \
	X(completed_retry)       \
	X(failed)                \
	X(failed_transient)      \
	X(cancelled)             \
	X(cached)                \
	X(retries)               \
	X(with_failed_attempt)

struct stats_counts {
#define X(name) int64_t name;
	STATS_COUNTERS(X)
#undef X
};

#define STATS_WINDOWS(X)                 \
	X(SINCE_START, "since start")    \
	X(DAY, "last 24 h")              \
	X(ALL, "all time")

enum stats_window {
#define X(id, name) STATS_##id,
	STATS_WINDOWS(X)
#undef X
	STATS_WINDOW_COUNT
};

#define STATS_MINUTES 1440

struct stats {
	int64_t start_ms;                 /* when the server started */
	struct stats_counts since_start;
	struct stats_counts all;
	struct stats_counts minute[STATS_MINUTES]; /* ring, indexed by minute number % 1440 */
	int64_t minute_of[STATS_MINUTES]; /* which minute each slot holds */
};

const char *stats_window_name(enum stats_window w);
/* Adds (sign = 1) or removes (sign = -1) a final task's contribution. */
void stats_add_task(struct stats_counts *c, const struct task *t, int sign);
void stats_counts_add(struct stats_counts *into, const struct stats_counts *c);
bool stats_counts_equal(const struct stats_counts *a, const struct stats_counts *b);

/* completed / (completed + failed); NAN when nothing finished. */
double stats_success_rate(const struct stats_counts *c);
/* completed_retry / (completed_retry + failed_transient); NAN when undefined. */
double stats_retry_effectiveness(const struct stats_counts *c);
/* retries / tasks that had a failed attempt; NAN when none had. */
double stats_retries_per_failed(const struct stats_counts *c);

/* Starts with all-time figures (from the store) and no other history. */
void stats_init(struct stats *s, int64_t start_ms, const struct stats_counts *all);
/* Seeds one past minute of the 24 h window, from the store at start-up. */
void stats_seed_minute(struct stats *s, int64_t minute_ms, const struct stats_counts *c);
/* Records a task that just reached a final state (t->finished). */
void stats_record(struct stats *s, const struct task *t);
void stats_window(const struct stats *s, enum stats_window w, int64_t now_ms, struct stats_counts *out);
/*
 * Tasks PLECS ran to an end (completed or failed) in each of the last n minutes, oldest first, the
 * current one last; cached (may be NULL) the tasks completed from the cache, on their own.
 */
void stats_minutes(const struct stats *s, int64_t now_ms, size_t n, int64_t *out, int64_t *cached);
/* The first millisecond the 24 h window covers at now_ms. */
int64_t stats_day_start(int64_t now_ms);

#endif
