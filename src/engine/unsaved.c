#include "autoconf.h"

#include "engine/unsaved.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct unsaved {
	struct store_change *kept; /* each owns its task, backend, error and result */
	size_t n, cap;
	int64_t since;
};

struct unsaved *unsaved_new(void)
{
	return xcalloc(1, sizeof(struct unsaved));
}

static void drop_kept(struct unsaved *u)
{
	for (size_t i = 0; i < u->n; i++) {
		struct store_change *c = &u->kept[i];

		task_free(&c->task);
		free((char *)c->backend);
		free((char *)c->error);
		if (c->result) {
			store_result_free((struct store_result *)c->result);
			free((struct store_result *)c->result);
		}
	}
	u->n = 0;
	u->since = 0;
}

void unsaved_free(struct unsaved **up)
{
	struct unsaved *u = *up;

	if (u == NULL)
		return;
	drop_kept(u);
	free(u->kept);
	free(u);
	*up = NULL;
}

size_t unsaved_count(const struct unsaved *u)
{
	return u->n;
}

int64_t unsaved_since(const struct unsaved *u)
{
	return u->since;
}

size_t unsaved_ids(const struct unsaved *u, int64_t *ids, size_t max)
{
	size_t m = 0;

	for (size_t i = 0; i < u->n && m < max; i++) {
		int64_t id = u->kept[i].task->id;

		if (m == 0 || ids[m - 1] != id)
			ids[m++] = id;
	}
	return m;
}

/* The kept change of task id that comes last, or NULL. */
static const struct store_change *last_of(const struct unsaved *u, int64_t id)
{
	for (size_t i = u->n; i-- > 0;)
		if (u->kept[i].task->id == id)
			return &u->kept[i];
	return NULL;
}

static struct store_result *result_dup(const struct store_result *r)
{
	struct store_result *copy = xcalloc(1, sizeof *copy);

	*copy = *r;
	copy->path = r->path ? xstrdup(r->path) : NULL;
	copy->format = r->format ? xstrdup(r->format) : NULL;
	copy->summary = r->summary ? xstrdup(r->summary) : NULL;
	copy->cache_key = r->cache_key ? xstrdup(r->cache_key) : NULL;
	cachekey_parts_copy(&copy->parts, &r->parts);
	return copy;
}

/* Copies c to the end of the kept ones; its task's stored state is where the kept ones leave it. */
static void keep(struct unsaved *u, const struct store_change *c)
{
	const struct store_change *before = last_of(u, c->task->id);
	struct store_change *k;

	if (u->n == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 16;
		u->kept = xreallocarray(u->kept, u->cap, sizeof *u->kept);
	}
	k = &u->kept[u->n++];
	*k = *c;
	k->task = task_dup(c->task);
	if (before)
		k->task->stored_state = before->task->state;
	k->backend = c->backend ? xstrdup(c->backend) : NULL;
	k->error = c->error ? xstrdup(c->error) : NULL;
	k->result = c->result ? result_dup(c->result) : NULL;
}

enum store_status unsaved_commit(struct unsaved *u, struct store *s, struct store_change *changes, size_t n,
				 int64_t now, void (*saved)(const struct task *copy, void *ud), void *ud)
{
	if (u->n == 0) {
		enum store_status st = n ? store_commit(s, changes, n) : STORE_OK;

		if (st != STORE_OK && st != STORE_STATE && st != STORE_NOTFOUND) {
			for (size_t i = 0; i < n; i++)
				keep(u, &changes[i]);
			u->since = now;
		}
		return st;
	}
	/* The kept ones first, then the new ones, each checked from where those before it leave its task. */
	struct store_change *all = xcalloc(u->n + n, sizeof *all);
	enum task_state *was = xcalloc(n ? n : 1, sizeof *was);

	memcpy(all, u->kept, u->n * sizeof *all);
	if (n)
		memcpy(all + u->n, changes, n * sizeof *all);
	for (size_t i = 0; i < n; i++) {
		const struct store_change *before = last_of(u, changes[i].task->id);

		was[i] = changes[i].task->stored_state;
		if (before)
			changes[i].task->stored_state = before->task->state;
	}
	enum store_status st = store_commit(s, all, u->n + n);

	if (st == STORE_OK) {
		for (size_t i = 0; i < u->n; i++)
			saved(u->kept[i].task, ud);
		/* A task with a kept change and a new one: the new one is what the store has now. */
		for (size_t i = 0; i < n; i++)
			changes[i].task->stored_state = changes[i].task->state;
		drop_kept(u);
	} else {
		for (size_t i = 0; i < n; i++)
			changes[i].task->stored_state = was[i];
		if (st == STORE_STATE || st == STORE_NOTFOUND)
			drop_kept(u); /* a refusal comes back at every try: holding on would hold dispatch for ever */
		else
			for (size_t i = 0; i < n; i++)
				keep(u, &changes[i]);
	}
	free(was);
	free(all);
	return st;
}
