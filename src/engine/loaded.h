/*
 * loaded — what one backend's PLECS holds under each model name, by the bytes it loaded, so a
 * call loads a model exactly when the bytes it is about to run are not those (DESIGN 7, 13).
 *
 * The scheduler keeps one struct loaded per backend and asks it for each call of a model file
 * (path, PLECS's name for it, and the hash of its bytes as the cache key has them,
 * engine/cachekey.h): loaded_plan() says whether to load and which name to close first, or
 * refuses while calls in flight on this backend run other bytes or another file under that name
 * (a load now would change the model under them: the call waits for them).  loaded_end() hears
 * how each planned call ended: a load of the planned bytes, still the file's when the call
 * ended (verified), confirms them, so the next call of those bytes sends no load; anything else
 * leaves the next call to load.  An edit that keeps size and mtime (cp -p, rsync -a, touch -d)
 * changes the hash, so it is loaded.  A hash of "" (the file could not be read) is never
 * confirmed.  Owns only its records.  Loop thread only.
 */
#ifndef SIMQ_ENGINE_LOADED_H
#define SIMQ_ENGINE_LOADED_H

#include <stdbool.h>

struct loaded;

struct loaded *loaded_new(void);
void loaded_free(struct loaded **l);
/* PLECS may hold nothing of what it held (it restarted): every model is loaded again. */
void loaded_forget(struct loaded *l);
/*
 * A call of path (name, hash) on this backend: *load, and *close_first (heap, or NULL) the name
 * to close first.  False (nothing planned) while calls in flight hold other bytes under name.
 * Each true is ended by one loaded_end().
 */
bool loaded_plan(struct loaded *l, const char *name, const char *path, const char *hash, bool *load,
                 char **close_first);
/*
 * A planned call ended: did_load when it loaded the model, verified when the file's bytes were
 * still hash after it (a load of other bytes leaves what PLECS holds unknown).
 */
void loaded_end(struct loaded *l, const char *name, const char *path, const char *hash, bool did_load, bool verified);

#endif
