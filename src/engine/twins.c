#include "autoconf.h"

#include "engine/twins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/idmap.h"
#include "util/xalloc.h"

struct twin {
	int64_t runner;
	struct twin *same;       /* the next runner of this key (by_key holds the first) */
	char key[CACHEKEY_HEX];
	struct cachekey_parts parts;
	int64_t *waiters;
	size_t n, cap;
};

struct twins {
	struct idmap by_runner;  /* runner id -> struct twin * */
	struct idmap by_key;     /* the key's first 64 bits -> struct twin * */
	struct idmap by_waiter;  /* waiter id -> struct twin * */
};

/* The map's id for a key: its first 16 hex digits (never 0, which idmap reserves). */
static int64_t key_id(const char *key)
{
	char head[17] = {0};
	uint64_t v;

	memcpy(head, key, strnlen(key, 16));
	v = strtoull(head, NULL, 16);
	return v ? (int64_t)v : 1;
}

struct twins *twins_new(void)
{
	return xcalloc(1, sizeof(struct twins));
}

static void twin_free(struct twin *t)
{
	cachekey_parts_free(&t->parts);
	free(t->waiters);
	free(t);
}

void twins_free(struct twins **twp)
{
	struct twins *tw = *twp;

	if (tw == NULL)
		return;
	for (size_t i = 0; i < tw->by_runner.cap; i++)
		if (tw->by_runner.keys && tw->by_runner.keys[i])
			twin_free(tw->by_runner.values[i]);
	idmap_free(&tw->by_runner);
	idmap_free(&tw->by_key);
	idmap_free(&tw->by_waiter);
	free(tw);
	*twp = NULL;
}

int64_t twins_runner(const struct twins *tw, const char *key)
{
	const struct twin *t = key && *key ? idmap_get(&tw->by_key, key_id(key)) : NULL;

	return t && strcmp(t->key, key) == 0 ? t->runner : 0;
}

void twins_run(struct twins *tw, int64_t id, const char *key, struct cachekey_parts *parts)
{
	struct twin *t = xcalloc(1, sizeof *t);
	int64_t kid = key_id(key);

	t->runner = id;
	snprintf(t->key, sizeof t->key, "%s", key);
	t->parts = *parts;
	memset(parts, 0, sizeof *parts);
	struct twin *first = idmap_get(&tw->by_key, kid);

	idmap_put(&tw->by_runner, id, t);
	/* A second runner of the key (no_cache, a retry) is found once the first ends. */
	if (first == NULL) {
		idmap_put(&tw->by_key, kid, t);
	} else if (strcmp(first->key, t->key) == 0) {
		t->same = first->same;
		first->same = t;
	}
	/* Two keys alike in their first 64 bits: the second is not found by key (it runs, nothing waits). */
}

void twins_wait(struct twins *tw, int64_t runner, int64_t id)
{
	struct twin *t = idmap_get(&tw->by_runner, runner);

	if (t == NULL)
		return;
	if (t->n == t->cap)
		t->waiters = xreallocarray(t->waiters, t->cap = t->cap ? 2 * t->cap : 4, sizeof *t->waiters);
	t->waiters[t->n++] = id;
	idmap_put(&tw->by_waiter, id, t);
}

size_t twins_waiting(const struct twins *tw, int64_t runner)
{
	const struct twin *t = idmap_get(&tw->by_runner, runner);

	return t ? t->n : 0;
}

int64_t twins_waits_for(const struct twins *tw, int64_t id)
{
	const struct twin *t = idmap_get(&tw->by_waiter, id);

	return t ? t->runner : 0;
}

bool twins_end(struct twins *tw, int64_t id, struct twins_end *out)
{
	struct twin *t = idmap_remove(&tw->by_runner, id);

	memset(out, 0, sizeof *out);
	if (t == NULL)
		return false;
	struct twin *first = idmap_get(&tw->by_key, key_id(t->key));

	if (first == t && t->same) {
		idmap_put(&tw->by_key, key_id(t->key), t->same);
	} else if (first == t) {
		idmap_remove(&tw->by_key, key_id(t->key));
	} else {
		for (struct twin *p = first; p; p = p->same) {
			if (p->same == t) {
				p->same = t->same;
				break;
			}
		}
	}
	for (size_t i = 0; i < t->n; i++)
		idmap_remove(&tw->by_waiter, t->waiters[i]);
	memcpy(out->key, t->key, sizeof out->key);
	out->parts = t->parts;
	memset(&t->parts, 0, sizeof t->parts);
	out->waiters = t->waiters;
	out->nwaiters = t->n;
	t->waiters = NULL;
	twin_free(t);
	return true;
}

bool twins_forget(struct twins *tw, int64_t id)
{
	struct twin *t = idmap_remove(&tw->by_waiter, id);

	if (t == NULL)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		if (t->waiters[i] == id) {
			memmove(&t->waiters[i], &t->waiters[i + 1], (t->n - i - 1) * sizeof *t->waiters);
			t->n--;
			break;
		}
	}
	return true;
}
