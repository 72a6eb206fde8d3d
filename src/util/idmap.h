/*
 * idmap — a hash map from 64-bit ids to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion, so there
 * are no tombstones and lookups stay short under churn.  Id 0 is reserved
 * (never stored).  Not thread-safe; the owner serialises access.
 */
#ifndef SIMQ_UTIL_IDMAP_H
#define SIMQ_UTIL_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap {
	int64_t *keys;
	void **values;
	size_t cap;  /* a power of two, or 0 */
	size_t size;
};

#define IDMAP_INIT {NULL, NULL, 0, 0}

/* Stores id -> value, replacing an earlier value; id must not be 0. */
void idmap_put(struct idmap *m, int64_t id, void *value);
void *idmap_get(const struct idmap *m, int64_t id);
/* Removes id and returns its value, or NULL if absent. */
void *idmap_remove(struct idmap *m, int64_t id);
size_t idmap_memory(const struct idmap *m);
void idmap_free(struct idmap *m);

#endif
