#include "autoconf.h"

#include "util/idmap.h"

#include <stdlib.h>

#include "util/xalloc.h"

static size_t slot_of(const struct idmap *m, int64_t id)
{
	uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 20) & (m->cap - 1);
}

static void grow(struct idmap *m)
{
	struct idmap bigger = {.cap = m->cap ? m->cap * 2 : 64};

	bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
	bigger.values = xcalloc(bigger.cap, sizeof *bigger.values);
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != 0)
			idmap_put(&bigger, m->keys[i], m->values[i]);
	free(m->keys);
	free(m->values);
	*m = bigger;
}

void idmap_put(struct idmap *m, int64_t id, void *value)
{
	size_t i;

	if ((m->size + 1) * 4 > m->cap * 3)
		grow(m);
	for (i = slot_of(m, id); m->keys[i] != 0; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == id) {
			m->values[i] = value;
			return;
		}
	}
	m->keys[i] = id;
	m->values[i] = value;
	m->size++;
}

void *idmap_get(const struct idmap *m, int64_t id)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = slot_of(m, id); m->keys[i] != 0; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == id)
			return m->values[i];
	return NULL;
}

void *idmap_remove(struct idmap *m, int64_t id)
{
	size_t i, j, mask = m->cap - 1;
	void *value;

	if (m->cap == 0)
		return NULL;
	for (i = slot_of(m, id); m->keys[i] != id; i = (i + 1) & mask)
		if (m->keys[i] == 0)
			return NULL;
	value = m->values[i];
	/* Backward-shift: move later members of the probe run into the hole. */
	for (j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->keys[j]);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->values[i] = m->values[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->values[i] = NULL;
	m->size--;
	return value;
}

size_t idmap_memory(const struct idmap *m)
{
	return m->cap * (sizeof *m->keys + sizeof *m->values);
}

void idmap_free(struct idmap *m)
{
	xfree(&m->keys);
	xfree(&m->values);
	m->cap = m->size = 0;
}
