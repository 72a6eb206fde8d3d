#include "autoconf.h"

#include "engine/cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/results.h"
#include "util/xalloc.h"

/* Stored runs cache_why() compares a task with: the newest of its model path and bytes. */
#define WHY_CANDIDATES 500
/* Rows of one key a lookup tries (runs, newest first, then rows that reuse a file) before it gives up. */
#define HIT_CANDIDATES 8

struct cache {
	struct cachekey_files *files;
	char **outputs;
	size_t noutputs;
	void (*log)(void *ud, const char *text);
	void *ud;
};

struct cache *cache_new(const char *const *outputs, size_t n, void (*log)(void *ud, const char *text), void *ud)
{
	struct cache *c = xcalloc(1, sizeof *c);

	c->log = log;
	c->ud = ud;
	c->files = cachekey_files_new(CACHEKEY_RACY_MS);
	c->outputs = xcalloc(n ? n : 1, sizeof *c->outputs);
	/* Each format once: a key is looked up once per format, however many backends ask for it. */
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < c->noutputs && !seen; j++)
			seen = strcmp(c->outputs[j], outputs[i]) == 0;
		if (!seen)
			c->outputs[c->noutputs++] = xstrdup(outputs[i]);
	}
	return c;
}

void cache_free(struct cache **cp)
{
	struct cache *c = *cp;

	if (c == NULL)
		return;
	cachekey_files_free(&c->files);
	for (size_t i = 0; i < c->noutputs; i++)
		free(c->outputs[i]);
	free(c->outputs);
	free(c);
	*cp = NULL;
}

struct cachekey_files *cache_files(struct cache *c)
{
	return c->files;
}

/* What one submit has learnt so far: the last model's bytes, whether they ever ran, whether a file is there. */
struct lookup_memo {
	char *model;        /* the last model path hashed, or NULL */
	bool model_ok;      /* it could be read */
	char model_bytes[CACHEKEY_HEX];
	int64_t model_mtime;
	char bytes[CACHEKEY_HEX]; /* the last bytes looked up in the store */
	bool bytes_ran;
	char *file_ok;      /* the last result file found readable */
};

struct hit_search {
	struct cache *c;
	struct lookup_memo *m;
	struct store_result *hit; /* the row taken, or NULL */
	char **dropped;           /* paths of files gone or damaged, to drop once the rows are read */
	size_t ndropped;
};

/* Takes row r when its file may be reused; a file gone or damaged is noted to drop (and logged). */
static bool try_row(const struct store_result *r, void *ud)
{
	struct hit_search *h = ud;
	char *err = NULL;

	for (size_t i = 0; i < h->ndropped; i++)
		if (strcmp(h->dropped[i], r->path) == 0)
			return true; /* another row of a file found wanting */
	if ((h->m->file_ok && strcmp(h->m->file_ok, r->path) == 0) || results_reusable(r, &err)) {
		task_set_text(&h->m->file_ok, r->path);
		h->hit = xmalloc(sizeof *h->hit);
		*h->hit = *r;
		h->hit->path = xstrdup(r->path);
		h->hit->format = xstrdup(r->format);
		h->hit->summary = r->summary ? xstrdup(r->summary) : NULL;
		h->hit->cache_key = xstrdup(r->cache_key);
		cachekey_parts_copy(&h->hit->parts, &r->parts);
		return false;
	}
	/* Gone or damaged for good (not a passing failure to open): no row of it is an entry now. */
	if (errno == ENOENT || errno == EINVAL || errno == EFBIG) {
		h->dropped = xreallocarray(h->dropped, h->ndropped + 1, sizeof *h->dropped);
		h->dropped[h->ndropped++] = xstrdup(r->path);
		if (h->c->log) {
			char *text = xasprintf("result cache: the result of task %lld is not reused and leaves the cache: %s",
					       (long long)(r->source ? r->source : r->task_id), err);

			h->c->log(h->c->ud, text);
			free(text);
		}
	}
	free(err);
	return true;
}

/* The stored result of p's key for any output format whose file may be reused: *hit (heap), or NULL. */
static enum store_status find_hit(struct cache *c, struct store *s, struct cachekey_parts *p, struct lookup_memo *m,
				  struct store_result **hit)
{
	struct hit_search h = {.c = c, .m = m};
	enum store_status st = STORE_OK;

	for (size_t i = 0; i < c->noutputs && h.hit == NULL && st == STORE_OK; i++) {
		char key[CACHEKEY_HEX];

		free(p->output);
		p->output = xstrdup(c->outputs[i]);
		cachekey_of(p, key);
		st = store_cache_hits(s, key, HIT_CANDIDATES, try_row, &h);
		for (size_t j = 0; j < h.ndropped; j++) {
			if (st == STORE_OK)
				st = store_cache_drop(s, h.dropped[j]);
			free(h.dropped[j]);
		}
		h.ndropped = 0;
	}
	free(h.dropped);
	*hit = h.hit;
	return st;
}

/* Task t's hit, if the cache has one: *hit (heap) or NULL. */
static enum store_status lookup_one(struct cache *c, struct store *s, const struct task *t, struct lookup_memo *m,
				    struct store_result **hit)
{
	struct cachekey_parts p;
	enum store_status st = STORE_OK;
	char *err = NULL;

	*hit = NULL;
	if (t->no_cache || c->noutputs == 0)
		return STORE_OK;
	/* A sweep names one model: it is looked at once per submit. */
	if (m->model == NULL || strcmp(m->model, t->model) != 0) {
		task_set_text(&m->model, t->model);
		m->model_ok = cachekey_file(c->files, t->model, NULL, m->model_bytes, &m->model_mtime, &err);
		free(err); /* an unreadable model has no key: the task runs, and PLECS says what is wrong */
	}
	if (!m->model_ok)
		return STORE_OK;
	if (strcmp(m->bytes, m->model_bytes) != 0) {
		st = store_cache_has_bytes(s, m->model_bytes, &m->bytes_ran);
		snprintf(m->bytes, sizeof m->bytes, "%s", st == STORE_OK ? m->model_bytes : "");
	}
	/* Bytes that never ran have no result: no key to compute. */
	if (st != STORE_OK || !m->bytes_ran)
		return st;
	cachekey_parts_of(t->model, m->model_bytes, m->model_mtime, t->vars, t->solver, c->outputs[0],
			  CACHEKEY_NO_VERSION, &p);
	st = find_hit(c, s, &p, m, hit);
	cachekey_parts_free(&p);
	return st;
}

enum store_status cache_lookup(struct cache *c, struct store *s, int64_t now, struct task **tasks, size_t n,
			       struct store_result **hits)
{
	struct lookup_memo m = {.bytes = ""};
	enum store_status st = STORE_OK;

	for (size_t i = 0; i < n; i++)
		hits[i] = NULL;
	for (size_t i = 0; i < n && st == STORE_OK; i++)
		st = lookup_one(c, s, tasks[i], &m, &hits[i]);
	free(m.file_ok);
	free(m.model);
	for (size_t i = 0; i < n; i++) {
		if (hits[i] == NULL)
			continue;
		if (st != STORE_OK) {
			store_result_free(hits[i]);
			xfree(&hits[i]);
			continue;
		}
		tasks[i]->state = TASK_COMPLETED;
		tasks[i]->cached = true;
		tasks[i]->source = hits[i]->source ? hits[i]->source : hits[i]->task_id;
		tasks[i]->finished = now; /* it never started: nothing ran */
	}
	return st;
}

/* ---- why ----------------------------------------------------------------------------------- */

static void add_reason(struct cache_why *w, char *text)
{
	w->reasons = xreallocarray(w->reasons, w->n + 1, sizeof *w->reasons);
	w->reasons[w->n++] = text;
}

/* "2026-11-30 10:02", local time. */
static const char *when(char out[32], int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&secs, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, 32, "an unknown time");
	return out;
}

/* The members of canonical objects here and there that differ, as "what NAME: X here, Y in task N". */
static size_t member_differences(const char *what, const char *here, const char *there, int64_t id,
				 struct cache_why *w)
{
	struct cachekey_member *a, *b;
	size_t na = cachekey_members(here, &a), nb = cachekey_members(there, &b), i = 0, j = 0, count = 0;

	while (i < na || j < nb) {
		int cmp = i == na ? 1 : j == nb ? -1 : 0;

		if (cmp == 0) {
			size_t len = a[i].name_len < b[j].name_len ? a[i].name_len : b[j].name_len;

			cmp = memcmp(a[i].name, b[j].name, len);
			if (cmp == 0)
				cmp = (a[i].name_len > b[j].name_len) - (a[i].name_len < b[j].name_len);
		}
		if (cmp == 0 && a[i].value_len == b[j].value_len && memcmp(a[i].value, b[j].value, a[i].value_len) == 0) {
			i++, j++;
			continue;
		}
		count++;
		if (w) {
			const struct cachekey_member *m = cmp <= 0 ? &a[i] : &b[j];
			char *mine = cmp <= 0 ? xstrndup(a[i].value, a[i].value_len) : xstrdup("not set");
			char *theirs = cmp >= 0 ? xstrndup(b[j].value, b[j].value_len) : xstrdup("not set");

			add_reason(w, xasprintf("%s %.*s: %s here, %s in task %lld", what, (int)m->name_len, m->name, mine,
						theirs, (long long)id));
			free(mine);
			free(theirs);
		}
		i += cmp <= 0;
		j += cmp >= 0;
	}
	free(a);
	free(b);
	return count;
}

static bool differ(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

/* How the key parts here differ from stored run r's: their count, and with w, a line for each. */
static size_t differences(const struct cachekey_parts *here, const struct store_result *r, struct cache_why *w)
{
	const struct cachekey_parts *there = &r->parts;
	long long id = (long long)r->task_id;
	size_t count = 0;
	char t[32];

	if (differ(here->model_bytes, there->model_bytes)) {
		count++;
		if (w && !differ(here->model, there->model))
			add_reason(w, xasprintf("model file changed (bytes differ from task %lld's run, %s)", id,
						when(t, there->created)));
		else if (w)
			add_reason(w, xasprintf("model file differs (bytes differ from task %lld's run of %s, %s)", id,
						there->model, when(t, there->created)));
	}
	count += member_differences("variable", here->vars, there->vars, r->task_id, w);
	count += member_differences("solver option", here->solver, there->solver, r->task_id, w);
	if (differ(here->output, there->output)) {
		count++;
		if (w)
			add_reason(w, xasprintf("output format %s here, %s in task %lld", here->output, there->output, id));
	}
	if (differ(here->plecs, there->plecs)) {
		count++;
		if (w)
			add_reason(w, xasprintf("PLECS version %s here, %s in task %lld", here->plecs, there->plecs, id));
	}
	return count;
}

struct nearest {
	const struct cachekey_parts *here;
	int64_t self;
	struct store_result best;
	size_t best_count;
	bool found;
};

/* Keeps the stored run with the fewest differences (the newest of equals: they come newest first). */
static void consider(const struct store_result *r, void *ud)
{
	struct nearest *n = ud;
	size_t count;

	if (r->task_id == n->self)
		return;
	count = differences(n->here, r, NULL);
	if (n->found && count >= n->best_count)
		return;
	store_result_free(&n->best);
	n->best = *r;
	n->best.path = xstrdup(r->path ? r->path : "");
	n->best.format = r->format ? xstrdup(r->format) : NULL;
	n->best.summary = NULL;
	n->best.cache_key = r->cache_key ? xstrdup(r->cache_key) : NULL;
	cachekey_parts_copy(&n->best.parts, &r->parts);
	n->best_count = count;
	n->found = true;
}

/* The key parts of t: those of its own run, else as it would run now.  False: the model cannot be read. */
static bool parts_of(struct cache *c, struct store *s, const struct task *t, struct cachekey_parts *out,
		     struct cache_why *w)
{
	struct store_result own;
	char *err = NULL;

	if (store_result_get(s, t->id, &own) == STORE_OK) {
		bool ran = own.parts.model != NULL;

		if (ran)
			cachekey_parts_copy(out, &own.parts);
		store_result_free(&own);
		if (ran)
			return true;
	}
	if (cachekey_parts_for(c->files, t->model, NULL, t->vars, t->solver, c->noutputs ? c->outputs[0] : "plain",
			       CACHEKEY_NO_VERSION, out, &err))
		return true;
	add_reason(w, xasprintf("no key: %s", err));
	free(err);
	return false;
}

/* Why task t ran although entry r has its key: r's file was evicted or cannot be reused, or t asked to run. */
static char *same_key_reason(const struct task *t, const struct store_result *r)
{
	char at[32], *err = NULL, *text;
	long long id = (long long)(r->source ? r->source : r->task_id);

	if (r->evicted)
		return xasprintf("task %lld's result was evicted on %s (results_max_size): this case ran again", id,
				 when(at, r->evicted));
	if (r->cache_key == NULL || !results_reusable(r, &err)) {
		text = xasprintf("task %lld's result (%s) cannot be reused: %s", id, when(at, r->parts.created),
				 err ? err : "its file was found gone or damaged and left the cache");
		free(err);
		return text;
	}
	return xasprintf("same key as task %lld's result (%s)%s", id, when(at, r->parts.created),
			 t->no_cache ? ": this task asked for no_cache, so it ran" : ": a submit of this case now reuses it");
}

enum store_status cache_why(struct cache *c, struct store *s, const struct task *t, struct cache_why *out)
{
	struct store_result own;
	struct cachekey_parts here;
	struct nearest n = {.self = t->id};
	enum store_status st;

	memset(out, 0, sizeof *out);
	if (t->cached && store_result_get(s, t->id, &own) == STORE_OK) {
		out->source = own.source;
		add_reason(out, xasprintf("a hit: result reused from task %lld (cached), no PLECS call", (long long)own.source));
		store_result_free(&own);
		return STORE_OK;
	}
	if (!parts_of(c, s, t, &here, out))
		return STORE_OK;
	n.here = &here;
	/* What the cache held when t was submitted: a run made after it is no reason it ran. */
	st = store_cache_entries(s, here.model, here.model_bytes, t->submitted, WHY_CANDIDATES, consider, &n);
	if (st == STORE_OK && !n.found)
		add_reason(out, xstrdup("no stored result of this model (its path or its bytes) when it was submitted"));
	else if (st == STORE_OK && n.best_count == 0)
		add_reason(out, same_key_reason(t, &n.best));
	else if (st == STORE_OK)
		differences(&here, &n.best, out);
	out->nearest = n.found ? n.best.task_id : 0;
	store_result_free(&n.best);
	cachekey_parts_free(&here);
	return st;
}

void cache_why_free(struct cache_why *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->reasons[i]);
	free(w->reasons);
	memset(w, 0, sizeof *w);
}
