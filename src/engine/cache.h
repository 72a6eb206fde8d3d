/*
 * cache — the result cache at submit, and why a task missed it (DESIGN 7).
 *
 * cache_lookup() runs over a submit's tasks before they are stored: a task
 * that did not ask for no_cache and whose key (engine/cachekey.h) has a
 * stored result whose file is whole (results_reusable: there, the size it
 * was written with, its header) becomes COMPLETED and cached, and gets that
 * result to reuse: the newest run's, else a row that names a file of that
 * key.  A file gone or damaged is dropped from the cache (logged once); the engine stores it so with a results row
 * naming the file and its source (store_submit_cached), and nothing runs.
 * A task's key is tried with each output format its backends ask for (a
 * case may run on any of them).  A model none of whose bytes ran before is
 * looked up once per submit, not once per task.
 *
 * cache_why() explains a task's place in the cache: the task it reused, or
 * which parts of its key differ from the nearest stored run of the same
 * model path or the same model bytes (fewest differences, newest first).
 * Loop thread only.
 */
#ifndef SIMQ_ENGINE_CACHE_H
#define SIMQ_ENGINE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/cachekey.h"
#include "engine/store.h"
#include "engine/task.h"

struct cache;

/*
 * A cache whose tasks may run with any of the n output formats ("plain", "matfile"); log (may be
 * NULL) hears of an entry dropped because its file is gone or damaged.
 */
struct cache *cache_new(const char *const *outputs, size_t n, void (*log)(void *ud, const char *text), void *ud);
void cache_free(struct cache **c);
/* Its model files' hashes, which the scheduler shares. */
struct cachekey_files *cache_files(struct cache *c);

/*
 * Marks every task of tasks that the cache answers COMPLETED and cached (finished at now), with
 * hits[i] (heap: free each with store_result_free and free) the result it reuses; hits[i] is
 * NULL for a task that must run.  STORE_OK, or the store's failure (nothing is marked then).
 */
enum store_status cache_lookup(struct cache *c, struct store *s, int64_t now, struct task **tasks, size_t n,
			       struct store_result **hits);

struct cache_why {
	int64_t source;    /* the task whose result this one reused, or 0 */
	int64_t nearest;   /* the nearest stored run compared with, or 0 */
	char **reasons;    /* one line each, for a person */
	size_t n;
};

/* Fills out for task t (free with cache_why_free).  STORE_OK, or the store's failure. */
enum store_status cache_why(struct cache *c, struct store *s, const struct task *t, struct cache_why *out);
void cache_why_free(struct cache_why *w);

#endif
