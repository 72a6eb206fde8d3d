/*
 * retain — archive and retention (DESIGN 7): finished tasks move to the archive after
 * archive_after, archived ones are deleted with their files after purge_after, and results/ is
 * kept under results_max_size by evicting the least recently used result files first.
 *
 * The engine makes one struct retain at open; it works in steps on a timer of the engine's
 * clock, each a bounded transaction of at most RETAIN_STEP rows (a few milliseconds, never a
 * long lock), the first one as the server starts, then again at once while there is more to do
 * and every RETAIN_PERIOD seconds after.  A step that did something logs one line with its
 * counts; none of it is a task event (no hook or webhook hears of it).  retain_clean() is
 * simq clean: the same deletion by hand.  A result used (made, served or reused) in the last
 * RETAIN_GRACE_MS (grace_ms) is never evicted, so a file being written (not in the store yet) or just made
 * for a task waiting on it stays.  Files are deleted after the transaction that lets them go
 * commits; a crash in between leaves a file no row names, never a row without its file.
 * Loop thread only.
 */
#ifndef SIMQ_ENGINE_RETAIN_H
#define SIMQ_ENGINE_RETAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/clock.h"
#include "engine/events.h"
#include "engine/store.h"

#define RETAIN_STEP 2000
#define RETAIN_PERIOD 1.0
#define RETAIN_GRACE_MS 10000

struct retain_options {
	double archive_after;       /* seconds after a task finished; 0: never */
	double purge_after;         /* seconds after an archived task finished; 0: never */
	int64_t results_max_size;   /* bytes; 0: no bound */
	int64_t grace_ms;           /* a result used this recently is never evicted; 0: RETAIN_GRACE_MS */
};

struct retain_host {
	void *ud;
	void (*log)(void *ud, enum log_severity severity, const char *text);
	/* Tasks were deleted (purged or cleaned): what the engine keeps of finished tasks may name them. */
	void (*deleted)(void *ud);
	/* Finished tasks that finished before before_ms were archived: what the engine keeps of them says so. */
	void (*archived)(void *ud, int64_t before_ms);
};

struct retain;

/* Starts the steps on clock (the first at once); store and host outlive it. */
struct retain *retain_new(const struct retain_options *opt, struct store *store, const struct clock *clock,
			  const struct retain_host *host);
void retain_free(struct retain **r);
const struct retain_options *retain_options(const struct retain *r);
/* One step now (the timer's); true when a part of it stopped at RETAIN_STEP rows and more is left. */
bool retain_step(struct retain *r);
/* simq clean: deletes (or with dry_run counts) the finished tasks sel takes and their files. */
enum store_status retain_clean(struct retain *r, const struct store_select *sel, bool dry_run, struct store_freed *out);

#endif
