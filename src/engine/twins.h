/*
 * twins — identical tasks in flight: one runs, the others wait for its result (DESIGN 7).
 *
 * The scheduler records each case it sends with its cache key (engine/cachekey.h) and the
 * key's parts; a queued task whose key a running task has, or a task before it in the same
 * batch, is not sent: it waits on that runner here, out of the queue.  When the runner's
 * attempt ends, twins_end() hands back its key, its parts and the tasks that waited: on a
 * result they complete as cached from it; on anything else they go back to the queue and run
 * themselves.  A key may have several runners (a task that must run: no_cache, a retry): the
 * first is the one waited for, the next when it ends.  A waiter that goes away (cancelled) is forgotten.  Owns only its records; the
 * tasks stay the engine's.  Loop thread only.
 */
#ifndef SIMQ_ENGINE_TWINS_H
#define SIMQ_ENGINE_TWINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/cachekey.h"

struct twins;

struct twins *twins_new(void);
/* Frees every record (the tasks are not touched).  Clears the pointer. */
void twins_free(struct twins **tw);
/* The task running with this key, or 0. */
int64_t twins_runner(const struct twins *tw, const char *key);
/* Task id runs now with key and its parts (taken over; *parts is cleared). */
void twins_run(struct twins *tw, int64_t id, const char *key, struct cachekey_parts *parts);
/* Task id waits for runner's result (runner must be running). */
void twins_wait(struct twins *tw, int64_t runner, int64_t id);
/* How many tasks wait for runner. */
size_t twins_waiting(const struct twins *tw, int64_t runner);
/* The task id waits for, or 0. */
int64_t twins_waits_for(const struct twins *tw, int64_t id);

/* What a runner leaves when its attempt ends. */
struct twins_end {
	char key[CACHEKEY_HEX];      /* "" when it ran without a key */
	struct cachekey_parts parts; /* the caller's to free */
	int64_t *waiters;            /* heap, oldest first; NULL when none */
	size_t nwaiters;
};
/* Runner id's attempt ended: its record goes, out gets what it held.  False when id is not running. */
bool twins_end(struct twins *tw, int64_t id, struct twins_end *out);
/* Task id (a waiter) goes away; true when it was one. */
bool twins_forget(struct twins *tw, int64_t id);

#endif
