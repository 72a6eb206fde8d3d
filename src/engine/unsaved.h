/*
 * unsaved — changes the store could not take, kept until it takes them.
 *
 * When a commit of the scheduler's changes fails for a reason that may pass (a full disk, an
 * I/O error, a lock), the changes are not dropped: each is copied here with a copy of its task
 * as it was, its attempt, and its result row, because a task that reached a final state leaves
 * memory once it is retired.  unsaved_commit() writes the kept changes first and then the new
 * ones, in order, in one transaction: the store ends up with what it would have had if every
 * commit had worked.  Until then the tasks are, in the store, where they were before.
 *
 * A copy's stored_state is the state its task has in the store once the kept changes before it
 * are written, so the store's checks of each move hold along the chain; a new change of a task
 * that has kept changes is checked the same way.  A crash loses what is kept: those tasks run
 * again after a restart, as they would had the crash come before the commit.  Loop thread only.
 */
#ifndef SIMQ_ENGINE_UNSAVED_H
#define SIMQ_ENGINE_UNSAVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/store.h"

struct unsaved;

struct unsaved *unsaved_new(void);
/* Frees the kept changes and their copies (what they held is not saved).  Clears the pointer. */
void unsaved_free(struct unsaved **u);
/* How many changes are kept. */
size_t unsaved_count(const struct unsaved *u);
/* When the oldest kept change was kept (wall ms), 0 when none is. */
int64_t unsaved_since(const struct unsaved *u);
/* The ids of the kept changes' tasks, at most max of them, in order, without repeats; returns how many. */
size_t unsaved_ids(const struct unsaved *u, int64_t *ids, size_t max);

/*
 * Commits the kept changes and then changes[0..n) in one transaction.  On success the kept ones
 * are let go, saved(copy, ud) having been called for each (in order: its task's state is now the
 * copy's), and the tasks of changes[] have their stored_state set as store_commit() sets it.  On
 * a failure that may pass, changes[] are kept too (copied: the caller keeps its own), the tasks'
 * stored_state is as before, and the status is returned.  A refusal (STORE_STATE, STORE_NOTFOUND)
 * comes back at every try: it lets go of the kept changes too, as nothing could save them.  now
 * is the wall time in ms.
 */
enum store_status unsaved_commit(struct unsaved *u, struct store *s, struct store_change *changes, size_t n,
				 int64_t now, void (*saved)(const struct task *copy, void *ud), void *ud);

#endif
