#include "autoconf.h"

#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cache.h"
#include "util/buf.h"
#include "util/idmap.h"
#include "util/time.h"
#include "util/xalloc.h"

struct engine {
	const struct clock *clock;
	struct store *store;
	struct queue *queue;
	struct idmap active;        /* id -> struct task *: every RUNNING task, and QUEUED ones being worked on */
	size_t running;
	struct stats stats;
	struct event_bus *bus;
	struct event_log *log;
	struct scheduler *sched;
	struct retain *retain;      /* archive and retention steps (DESIGN 7) */
	struct pool **pools;        /* [pool NAME]s, borrowed: their owner frees them */
	size_t npools;
	struct cache *cache;        /* the result cache's lookups and its model hashes */
	uint64_t version;           /* bumped by every change a console would show */
	uint64_t alerts;            /* CRITICAL/HIGH failures and backends DOWN */
	uint64_t failures, failures_seen; /* tasks FAILED since the start, and how many of them the operator saw */
	bool paused;
	bool held;                  /* nothing running, and paused or nothing queued: nothing can finish */
	int64_t held_at;            /* since when, while held (ms) */
	struct { int64_t from, to; } held_spans[ENGINE_HELD_SPANS]; /* the last spans held, a ring */
	size_t held_next;
	char *pause_reason;         /* why simq paused dispatch by itself, or NULL */
	bool store_hold;            /* the pause is the scheduler's for a store that cannot save: it lifts it */
	bool stopping;
	bool drained;               /* queue_drained was announced and nothing came since */
	int64_t started_ms;
	int64_t last_id;            /* the highest task id given so far */
	struct task *recent[ENGINE_RECENT]; /* the last tasks to finish, a ring: recent_next is the oldest */
	size_t recent_next;
};

static void changed(struct engine *e)
{
	e->version++;
}

int64_t engine_now_ms(const struct engine *e)
{
	return clock_now_ms(e->clock);
}

/*
 * After every change of e->paused, e->running or the queue's emptiness: the spans in which nothing
 * could finish (no task running, and dispatch paused or nothing queued) are kept for
 * engine_held_ms.  A pause with calls in flight is not one until they end: their tasks finish
 * meanwhile.
 */
static void note_held(struct engine *e)
{
	bool held = e->running == 0 && (e->paused || queue_size(e->queue) == 0);
	int64_t now;

	if (held == e->held)
		return; /* the usual case, on every task's move: no clock read */
	now = engine_now_ms(e);
	if (held) {
		e->held_at = now;
	} else {
		e->held_spans[e->held_next % ENGINE_HELD_SPANS].from = e->held_at;
		e->held_spans[e->held_next % ENGINE_HELD_SPANS].to = now;
		e->held_next++;
	}
	e->held = held;
}

static void set_paused(struct engine *e, bool paused)
{
	e->paused = paused;
	note_held(e);
}

static int64_t overlap(int64_t from, int64_t to, int64_t a, int64_t b)
{
	int64_t lo = from > a ? from : a, hi = to < b ? to : b;

	return hi > lo ? hi - lo : 0;
}

int64_t engine_held_ms(const struct engine *e, int64_t from, int64_t to)
{
	int64_t ms = e->held ? overlap(from, to, e->held_at, engine_now_ms(e)) : 0;

	for (size_t i = 0; i < ENGINE_HELD_SPANS && i < e->held_next; i++)
		ms += overlap(from, to, e->held_spans[i].from, e->held_spans[i].to);
	return ms;
}

void engine_log(struct engine *e, enum log_severity severity, int64_t task_id, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	event_log_add(e->log, engine_now_ms(e), task_id, severity, text);
	free(text);
	changed(e);
}

/* Publishes an event about t (may be NULL) with the common fields filled. */
static void publish(struct engine *e, enum event_type type, const struct task *t, const struct event *extra)
{
	struct event ev = extra ? *extra : (struct event){0};

	ev.type = type;
	ev.time = engine_now_ms(e);
	if (t) {
		ev.task_id = t->id;
		ev.task_name = t->name;
		ev.model = t->model;
		ev.priority = t->priority;
		ev.state = t->state;
		if (ev.attempt == 0)
			ev.attempt = t->attempts;
		if (ev.error == NULL)
			ev.error = t->error;
	}
	if (type == EVENT_BACKEND_DOWN || (type == EVENT_FAILED && t && t->priority <= PRIO_HIGH))
		e->alerts++;
	if (type == EVENT_FAILED)
		e->failures++;
	events_publish(e->bus, &ev);
	changed(e);
}

/* Keeps t (ownership taken) as the newest of the recent finished tasks, the oldest let go. */
static void keep_recent(struct engine *e, struct task *t)
{
	task_free(&e->recent[e->recent_next]);
	e->recent[e->recent_next] = t;
	e->recent_next = (e->recent_next + 1) % ENGINE_RECENT;
}

/* The newest finished tasks, newest first, as store_finished_page() gives them. */
struct newest {
	struct task *t[ENGINE_RECENT];
	size_t n;
};

static void take_newest(struct task *t, void *ud)
{
	struct newest *nw = ud;

	if (nw->n < ENGINE_RECENT)
		nw->t[nw->n++] = t;
	else
		task_free(&t);
}

/* The recent tasks at the start: the last ENGINE_RECENT to finish, hot or archived, in finishing order. */
static void seed_recent(struct engine *e)
{
	struct newest nw = {.n = 0};

	if (store_finished_page(e->store, -1, 0, ENGINE_RECENT, take_newest, &nw) != STORE_OK)
		engine_log(e, SEVERITY_ERROR, 0, "cannot read the history: %s", store_error(e->store));
	while (nw.n > 0)
		keep_recent(e, nw.t[--nw.n]);
}

/* Tasks were purged or cleaned: the recent ones are read again, so that none names a deleted task. */
static void reseed_recent(void *ud)
{
	struct engine *e = ud;

	for (size_t i = 0; i < ENGINE_RECENT; i++)
		task_free(&e->recent[i]);
	e->recent_next = 0;
	seed_recent(e);
	changed(e);
}

/* An archive step moved the tasks that finished before before_ms: the recent ones among them are archived now. */
static void recent_archived(void *ud, int64_t before_ms)
{
	struct engine *e = ud;

	for (size_t i = 0; i < ENGINE_RECENT; i++)
		if (e->recent[i] && e->recent[i]->finished < before_ms)
			e->recent[i]->archived = true;
	changed(e);
}

static void retain_log(void *ud, enum log_severity severity, const char *text)
{
	engine_log(ud, severity, 0, "%s", text);
}

/* After a final state is saved: out of the queue and the active set, counted, announced, freed. */
static void retired(struct engine *e, struct task *t, enum task_state from, const struct event *extra)
{
	struct event ev = extra ? *extra : (struct event){0};

	queue_remove(e->queue, t->id, NULL);
	if (from == TASK_RUNNING && e->running > 0)
		e->running--;
	note_held(e);
	stats_record(&e->stats, t);
	idmap_remove(&e->active, t->id);
	if (e->sched)
		scheduler_forget(e->sched, t->id);
	publish(e, t->state == TASK_CANCELLED ? EVENT_CANCELLED : t->state == TASK_FAILED ? EVENT_FAILED : EVENT_COMPLETED,
		t, &ev);
	keep_recent(e, t);
	/* The last task out: once per drain, until new work arrives. */
	if (queue_size(e->queue) == 0 && e->running == 0 && !e->drained) {
		e->drained = true;
		publish(e, EVENT_QUEUE_DRAINED, NULL, NULL);
	}
}

/* ---- the scheduler's host ------------------------------------------------------------------ */

static struct task *host_task(void *ud, int64_t id)
{
	return idmap_get(&((struct engine *)ud)->active, id);
}

/* A queued task's record read for dispatch: kept in memory while it runs (a stray row is let go). */
static void keep_loaded(struct task *t, void *ud)
{
	struct engine *e = ud;

	if (idmap_get(&e->active, t->id) == NULL && queue_get(e->queue, t->id, &(struct queue_item){0}))
		idmap_put(&e->active, t->id, t);
	else
		task_free(&t);
}

/* The store could not give queued tasks their records: say so, and drop those it does not have at all. */
static void load_failed(struct engine *e, const int64_t *ids, size_t n, bool store_failed)
{
	if (store_failed) {
		engine_log(e, SEVERITY_ERROR, 0, "cannot read %zu queued tasks to send them: %s", n, store_error(e->store));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (idmap_get(&e->active, ids[i]) == NULL && queue_remove(e->queue, ids[i], NULL))
			engine_log(e, SEVERITY_ERROR, ids[i], "task %lld is queued but the task database has no record "
				   "of it: taken out of the queue", (long long)ids[i]);
	}
	note_held(e);
}

/* The batch's records: those not in memory yet read from the store in one query (scheduler_host.load). */
static bool host_load(void *ud, const int64_t *ids, size_t n, struct task **out)
{
	struct engine *e = ud;
	int64_t *missing = xcalloc(n ? n : 1, sizeof *missing);
	size_t m = 0;
	bool ok = true;

	for (size_t i = 0; i < n; i++)
		if (idmap_get(&e->active, ids[i]) == NULL)
			missing[m++] = ids[i];
	if (m > 0 && store_get_many(e->store, missing, m, keep_loaded, e) != STORE_OK) {
		load_failed(e, missing, m, true);
		free(missing);
		return false;
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = (out[i] = idmap_get(&e->active, ids[i])) != NULL;
	if (!ok)
		load_failed(e, missing, m, false);
	free(missing);
	return ok;
}

static bool host_held(void *ud)
{
	const struct engine *e = ud;

	return e->paused || e->stopping;
}

static void host_moved(void *ud, struct task *t, enum task_state to)
{
	struct engine *e = ud;

	if (to == TASK_RUNNING)
		e->running++;
	else if (e->running > 0)
		e->running--;
	note_held(e);
}

static void host_retired(void *ud, struct task *t, enum task_state from, const struct event *extra)
{
	retired(ud, t, from, extra);
}

static void host_publish(void *ud, enum event_type type, const struct task *t, const struct event *extra)
{
	publish(ud, type, t, extra);
}

static void host_log(void *ud, enum log_severity severity, const char *text)
{
	engine_log(ud, severity, 0, "%s", text);
}

static void host_changed(void *ud)
{
	changed(ud);
}

static void host_pause(void *ud, const char *why)
{
	struct engine *e = ud;
	struct event ev = {.detail = why};

	set_paused(e, true);
	e->store_hold = false;
	task_set_text(&e->pause_reason, why);
	publish(e, EVENT_PAUSED, NULL, &ev);
}

static void host_store_hold(void *ud, const char *why)
{
	struct engine *e = ud;

	if (why) {
		if (!e->paused) {
			host_pause(ud, why);
			e->store_hold = true;
		}
		return;
	}
	if (!e->store_hold)
		return;
	e->store_hold = false;
	set_paused(e, false);
	task_set_text(&e->pause_reason, NULL);
	engine_log(e, SEVERITY_INFO, 0, "dispatch resumed: the task database takes changes again");
	changed(e);
}

/* ---- opening ---------------------------------------------------------------------------- */

static void load_task(struct task *t, void *ud)
{
	struct engine *e = ud;

	/* A queued task's record stays in the store until it is sent: the queue keeps what orders it. */
	if (t->state == TASK_QUEUED) {
		queue_push(e->queue, t->id, (uint64_t)t->id, t->priority, t->model);
		task_free(&t);
		return;
	}
	idmap_put(&e->active, t->id, t);
	e->running++;
	note_held(e);
}

static void seed_minute(int64_t minute_ms, const struct stats_counts *c, void *ud)
{
	stats_seed_minute(ud, minute_ms, c);
}

/* The store, the active tasks and the statistics; false and *err on failure. */
static bool open_store(struct engine *e, const struct engine_options *opt, struct store_recovery *rec, char **err)
{
	struct store_open_options so = {.durability = opt->durability, .now_ms = engine_now_ms(e)};
	struct stats_counts all;

	e->store = store_open(opt->db_path, &so, rec, err);
	if (e->store == NULL)
		return false;
	if (store_load_active(e->store, load_task, e) != STORE_OK || store_counters(e->store, &all) != STORE_OK) {
		*err = xstrdup(store_error(e->store));
		return false;
	}
	stats_init(&e->stats, e->started_ms, &all);
	if (store_minute_counts(e->store, stats_day_start(e->started_ms), seed_minute, &e->stats) != STORE_OK) {
		*err = xstrdup(store_error(e->store));
		return false;
	}
	return true;
}

static void add_paused_name(const struct sched_backend_info *b, void *ud)
{
	struct buf *names = ud;

	if (b->paused)
		buf_addf(names, "%s%s", names->len ? "," : "", b->name);
}

/* The backends paused now, for the next server: a backend the operator parked stays parked. */
static void save_paused_backends(struct engine *e)
{
	struct buf names = BUF_INIT;

	scheduler_each_backend(e->sched, add_paused_name, &names);
	if (store_setting_put(e->store, "paused_backends", names.len ? buf_str(&names) : NULL) != STORE_OK)
		engine_log(e, SEVERITY_WARNING, 0, "the paused backends could not be saved for the next server: %s",
			   store_error(e->store));
	buf_free(&names);
}

/* The backends a server before this one had paused, paused again (those still configured). */
static void restore_paused_backends(struct engine *e)
{
	char *names = NULL, *save = NULL, *err = NULL;

	if (store_setting_get(e->store, "paused_backends", &names) != STORE_OK || names == NULL)
		return;
	for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		if (scheduler_set_paused(e->sched, name, true, &err))
			engine_log(e, SEVERITY_INFO, 0, "backend %s paused (by simq pause %s before a restart); simq resume "
				   "%s starts it", name, name, name);
		else
			engine_log(e, SEVERITY_WARNING, 0, "backend %s was paused, and is not configured any more", name);
		free(err);
		err = NULL;
	}
	free(names);
	save_paused_backends(e);
}

/* A pause the operator gave a server before this one holds: "paused (since TIME, by simq pause)". */
static void restore_pause(struct engine *e)
{
	char *since = NULL, when[TIME_ISO8601_MAX];

	if (store_setting_get(e->store, "paused", &since) != STORE_OK)
		return;
	set_paused(e, true);
	int64_t since_ms = strtoll(since, NULL, 10);

	/* Held since the pause, across the restart: a pause no server saw end must not stretch the ETA. */
	if (e->held && since_ms > 0 && since_ms < e->held_at)
		e->held_at = since_ms;
	time_iso8601(when, since_ms * 1000000, true);
	engine_log(e, SEVERITY_INFO, 0, "dispatch paused (since %s, by simq pause); simq resume starts it", when);
	free(since);
}

/* RUNNING tasks from the store go back to work: waiting for their retry, or in the queue. */
static void adopt_running(struct engine *e)
{
	for (size_t i = 0; i < e->active.cap; i++) {
		struct task *t = e->active.keys && e->active.keys[i] ? e->active.values[i] : NULL;

		if (t && t->state == TASK_RUNNING)
			scheduler_adopt(e->sched, t);
	}
}

static void cache_log(void *ud, const char *text)
{
	engine_log(ud, SEVERITY_WARNING, 0, "%s", text);
}

/* The cache, whose keys name the output format each backend asks for. */
static struct cache *new_cache(struct engine *e, const struct engine_options *opt)
{
	const char **outputs = xcalloc(opt->nbackends ? opt->nbackends : 1, sizeof *outputs);
	struct cache *c;

	for (size_t i = 0; i < opt->nbackends; i++)
		outputs[i] = opt->backends[i].matfile ? "matfile" : "plain";
	c = cache_new(outputs, opt->nbackends, cache_log, e);
	free(outputs);
	return c;
}

struct engine *engine_open(const struct engine_options *opt, char **err)
{
	struct engine *e = xcalloc(1, sizeof *e);
	struct store_recovery rec = {0};
	struct scheduler_host host = {.ud = e, .task = host_task, .load = host_load, .held = host_held, .moved = host_moved,
				      .retired = host_retired, .publish = host_publish, .log = host_log,
				      .changed = host_changed, .pause = host_pause,
				      .store_hold = host_store_hold};

	e->clock = opt->clock;
	e->started_ms = engine_now_ms(e);
	e->paused = opt->start_paused; /* note_held() once the queue is read, at the end */
	e->queue = queue_new();
	e->bus = events_new();
	e->log = event_log_new(opt->log_path, opt->log_keep ? opt->log_keep : 2000, err);
	if (e->log == NULL || !open_store(e, opt, &rec, err)) {
		engine_close(&e);
		return NULL;
	}
	event_log_attach(e->log, e->bus);
	store_last_id(e->store, &e->last_id);
	engine_log(e, SEVERITY_INFO, 0, "%s: %zu queued, %zu running; %lld interrupted attempts requeued, %lld tasks "
		   "waiting to retry", opt->started_line ? opt->started_line : "engine started", queue_size(e->queue),
		   e->running, (long long)rec.interrupted, (long long)rec.waiting_retry);
	restore_pause(e);
	e->cache = new_cache(e, opt);
	struct scheduler_options so = opt->sched;

	so.cache_files = cache_files(e->cache);
	e->sched = scheduler_new(&so, opt->backends, opt->nbackends, opt->backend_ops, opt->backend_impl, opt->clock,
				 e->queue, e->store, &host, err);
	if (e->sched == NULL) {
		engine_close(&e);
		return NULL;
	}
	adopt_running(e);
	restore_paused_backends(e);
	seed_recent(e);
	e->retain = retain_new(&opt->retain, e->store, e->clock,
			       &(struct retain_host){.ud = e, .log = retain_log, .deleted = reseed_recent,
						     .archived = recent_archived});
	e->drained = queue_size(e->queue) == 0 && e->running == 0;
	note_held(e);
	return e;
}

void engine_close(struct engine **ep)
{
	struct engine *e = *ep;

	if (e == NULL)
		return;
	retain_free(&e->retain);
	scheduler_free(&e->sched);
	cache_free(&e->cache);
	queue_free(&e->queue);
	for (size_t i = 0; i < e->active.cap; i++) {
		if (e->active.keys && e->active.keys[i]) {
			struct task *t = e->active.values[i];

			task_free(&t);
		}
	}
	idmap_free(&e->active);
	for (size_t i = 0; i < ENGINE_RECENT; i++)
		task_free(&e->recent[i]);
	event_log_free(&e->log);
	events_free(&e->bus);
	free(e->pause_reason);
	store_close(&e->store);
	free(e->pools);
	free(e);
	*ep = NULL;
}

void engine_start(struct engine *e)
{
	scheduler_start(e->sched);
	scheduler_kick(e->sched);
}

void engine_stop(struct engine *e)
{
	e->stopping = true;
}

void engine_drain(struct engine *e)
{
	scheduler_drain(e->sched);
}

/* ---- task operations --------------------------------------------------------------------- */

/* Takes ownership of tasks that were just stored: queue and announce them; those the cache answered (hits[i]) complete. */
static void accept_tasks(struct engine *e, struct task **tasks, size_t n, int64_t *ids, struct store_result **hits)
{
	for (size_t i = 0; i < n; i++) {
		struct task *t = tasks[i];

		ids[i] = t->id;
		if (t->id > e->last_id)
			e->last_id = t->id;
		if (task_state_is_final(t->state)) {
			const struct store_result *r = hits ? hits[i] : NULL;
			struct event ev = {.result_path = r ? r->path : NULL, .result_summary = r ? r->summary : NULL,
					   .source = r ? (r->source ? r->source : r->task_id) : 0};

			stats_record(&e->stats, t);
			publish(e, EVENT_SUBMITTED, t, NULL);
			publish(e, EVENT_COMPLETED, t, &ev);
			keep_recent(e, t);
			continue;
		}
		queue_push(e->queue, t->id, (uint64_t)t->id, t->priority, t->model);
		e->drained = false;
		publish(e, EVENT_SUBMITTED, t, NULL);
		/* Stored and announced: until it is sent, the queue and the store hold it. */
		task_free(&t);
	}
	note_held(e);
	scheduler_kick(e->sched);
}

static enum engine_status store_failed(struct engine *e, char **err)
{
	*err = xstrdup(store_error(e->store));
	return ENGINE_STORE;
}

enum engine_status engine_submit(struct engine *e, const struct engine_request *req, struct task **tasks, size_t n,
				 int64_t *ids, char **err)
{
	int64_t now = engine_now_ms(e);
	struct store_request sr = {0};

	for (size_t i = 0; i < n; i++)
		if (tasks[i]->submitted == 0)
			tasks[i]->submitted = now;
	if (req) {
		sr.key = req->key;
		sr.fingerprint = req->fingerprint;
		sr.many = req->many;
		sr.created = now;
	}
	struct store_result **hits = xcalloc(n ? n : 1, sizeof *hits);
	enum engine_status out = ENGINE_OK;

	/* The cache only saves work: when it cannot be read, the tasks run. */
	if (cache_lookup(e->cache, e->store, now, tasks, n, hits) != STORE_OK)
		engine_log(e, SEVERITY_WARNING, 0, "cannot read the result cache (%s): the %zu submitted tasks run",
			   store_error(e->store), n);
	if (store_submit_cached(e->store, tasks, n, req ? &sr : NULL, (const struct store_result *const *)hits) !=
	    STORE_OK) {
		for (size_t i = 0; i < n; i++)
			task_free(&tasks[i]);
		out = store_failed(e, err);
	} else {
		accept_tasks(e, tasks, n, ids, hits);
	}
	for (size_t i = 0; i < n; i++) {
		if (hits[i])
			store_result_free(hits[i]);
		free(hits[i]);
	}
	free(hits);
	return out;
}

enum engine_status engine_cache_why(struct engine *e, int64_t id, struct cache_why *out, char **err)
{
	const struct task *t;
	struct task *owned;
	enum engine_status st = engine_find(e, id, &t, &owned, err);

	memset(out, 0, sizeof *out);
	if (st == ENGINE_OK && cache_why(e->cache, e->store, t, out) != STORE_OK)
		st = store_failed(e, err);
	task_free(&owned);
	return st;
}

enum engine_status engine_request_ids(struct engine *e, const struct engine_request *req, int64_t **ids, size_t *n,
				      char **err)
{
	struct store_request r;
	enum store_status st = store_request_find(e->store, req->key, &r);
	enum engine_status out = ENGINE_OK;

	*ids = NULL;
	*n = 0;
	if (st == STORE_NOTFOUND)
		return ENGINE_NOT_FOUND;
	if (st != STORE_OK)
		return store_failed(e, err);
	char *key = buf_shown(req->key);

	if (r.many != req->many || strcmp(r.fingerprint, req->fingerprint) != 0) {
		*err = xasprintf("request_key \"%s\" was used for another request (%s of task%s %lld-%lld); a new "
				 "request needs a new key", key, r.many ? "simq.submit_many" : "simq.submit",
				 r.count == 1 ? "" : "s", (long long)r.first_id, (long long)(r.first_id + r.count - 1));
		out = ENGINE_INVALID;
	} else {
		*n = (size_t)r.count;
		*ids = xcalloc(*n ? *n : 1, sizeof **ids);
		for (size_t i = 0; i < *n; i++)
			(*ids)[i] = r.first_id + (int64_t)i;
		engine_log(e, SEVERITY_INFO, 0, "request key \"%s\" came again: answered with the first request's "
			   "%lld task%s (%lld-%lld); nothing new stored", key, (long long)r.count,
			   r.count == 1 ? "" : "s", (long long)r.first_id, (long long)(r.first_id + r.count - 1));
	}
	free(key);
	store_request_free(&r);
	return out;
}

enum engine_status engine_find(struct engine *e, int64_t id, const struct task **t, struct task **owned, char **err)
{
	*owned = NULL;
	*t = idmap_get(&e->active, id);
	if (*t)
		return ENGINE_OK;
	enum store_status st = store_get(e->store, id, owned);

	*t = *owned;
	if (st == STORE_NOTFOUND) {
		*err = xstrdup(store_error(e->store)); /* "no task 374", or when it was purged */
		return ENGINE_NOT_FOUND;
	}
	return st == STORE_OK ? ENGINE_OK : store_failed(e, err);
}

bool engine_is_active(const struct engine *e, int64_t id)
{
	struct queue_item it;

	return idmap_get(&e->active, id) != NULL || queue_get(e->queue, id, &it);
}

bool engine_any_active(const struct engine *e, const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (engine_is_active(e, ids[i]))
			return true;
	return false;
}

/* Every id names a task, or the status of the first that does not. */
static enum engine_status check_ids(struct engine *e, const int64_t *ids, size_t n, char **err)
{
	for (size_t i = 0; i < n; i++) {
		const struct task *t;
		struct task *owned;

		if (engine_is_active(e, ids[i]))
			continue;
		enum engine_status st = engine_find(e, ids[i], &t, &owned, err);

		task_free(&owned);
		if (st != ENGINE_OK)
			return st;
	}
	return ENGINE_OK;
}

/*
 * The record of an active task in memory: a queued one that only the queue and the store hold is
 * read from the store and kept (*loaded says so; unload() lets it go again).  NULL when the task
 * is not active, or the store failed (*st says which).
 */
static struct task *load_active(struct engine *e, int64_t id, bool *loaded, enum engine_status *st, char **err)
{
	struct task *t = idmap_get(&e->active, id);
	struct queue_item it;

	*loaded = false;
	*st = ENGINE_OK;
	if (t || !queue_get(e->queue, id, &it))
		return t;
	if (store_get(e->store, id, &t) != STORE_OK) {
		*st = store_failed(e, err);
		return NULL;
	}
	idmap_put(&e->active, id, t);
	*loaded = true;
	return t;
}

/* Lets go of a record load_active() read, if its task is still only queued. */
static void unload(struct engine *e, int64_t id)
{
	struct task *t = idmap_get(&e->active, id);

	if (t && t->state == TASK_QUEUED) {
		idmap_remove(&e->active, id);
		task_free(&t);
	}
}

/* The state of a task that is not active: it is final, as the store has it. */
static enum task_state stored_state(struct engine *e, int64_t id)
{
	struct task *owned = NULL;
	enum task_state st = TASK_STATE_COUNT;

	if (store_get(e->store, id, &owned) == STORE_OK)
		st = owned->state;
	task_free(&owned);
	return st;
}

/* Moves t to a final state and saves it, closing its attempt with `end` (ATTEMPT_RUNNING: none). */
static enum engine_status finish(struct engine *e, struct task *t, enum task_state to, enum attempt_outcome end,
				 char **err)
{
	enum task_state from = t->state;
	int64_t finished = t->finished, retry_due = t->retry_due, now = engine_now_ms(e);
	struct store_change ch = {.task = t};

	if (!task_transition(t, to, now)) {
		*err = xasprintf("task %lld cannot go from %s to %s", (long long)t->id, task_state_name(from),
				 task_state_name(to));
		return ENGINE_STATE;
	}
	if (end != ATTEMPT_RUNNING) {
		ch.attempt = STORE_ATTEMPT_END;
		ch.outcome = end;
		ch.time = now;
	}
	if (store_commit(e->store, &ch, 1) != STORE_OK) {
		/* Not saved: the task stays as it was, in memory as on disk. */
		t->state = from;
		t->finished = finished;
		t->retry_due = retry_due;
		return store_failed(e, err);
	}
	retired(e, t, from, NULL);
	return ENGINE_OK;
}

enum engine_status engine_check_saved(struct engine *e, char **err)
{
	size_t n = e->sched ? scheduler_unsaved(e->sched) : 0;

	if (n == 0)
		return ENGINE_OK;
	*err = xasprintf("%zu changes of running tasks wait to be saved, and the task database does not take them now "
			 "(%s)", n, store_error(e->store));
	return ENGINE_STATE;
}

/* What engine_cancel and engine_reprioritize do to one active task; *after gets its state, *changed whether it moved. */
typedef enum engine_status (*task_op)(struct engine *e, struct task *t, const void *arg, enum task_state *after,
				      bool *changed, char **err);

/*
 * Checks that every id names a task, then applies op to the active ones in `states`; the others
 * keep their state, and a final one in `goal` (-1: none) is already where op would take it.
 */
static enum engine_status on_each(struct engine *e, const int64_t *ids, size_t n, task_op op, const void *arg,
				  unsigned states, int goal, enum task_state *after, enum engine_act *act, char **err)
{
	enum engine_status st = check_ids(e, ids, n, err);

	/* No change to a task may land before the scheduler's earlier ones that wait for the store. */
	if (st == ENGINE_OK && (st = engine_check_saved(e, err)) != ENGINE_OK) {
		char *why = *err;

		*err = xasprintf("nothing was changed: %s", why);
		free(why);
	}
	for (size_t i = 0; i < n && st == ENGINE_OK; i++) {
		bool loaded, moved = false;
		enum engine_act a;
		struct task *t = load_active(e, ids[i], &loaded, &st, err);

		if (st != ENGINE_OK)
			break;
		if (t == NULL) {
			after[i] = stored_state(e, ids[i]);
			a = (int)after[i] == goal ? ENGINE_ACT_ALREADY : ENGINE_ACT_FINAL;
		} else if (!(states & (1u << t->state))) {
			after[i] = t->state;
			a = ENGINE_ACT_OTHER_STATE;
		} else {
			st = op(e, t, arg, &after[i], &moved, err);
			a = moved ? ENGINE_ACT_CHANGED : ENGINE_ACT_ALREADY;
		}
		if (act)
			act[i] = a;
		if (loaded)
			unload(e, ids[i]);
	}
	changed(e);
	return st;
}

static enum engine_status cancel_one(struct engine *e, struct task *t, const void *arg, enum task_state *after,
				     bool *moved, char **err)
{
	/* A running call cannot be stopped: its attempt ends now, its result will be dropped. */
	bool in_flight = scheduler_in_flight(e->sched, t->id);

	(void)arg;
	*after = TASK_CANCELLED;
	*moved = true;
	return finish(e, t, TASK_CANCELLED, in_flight ? ATTEMPT_DISCARDED : ATTEMPT_RUNNING, err);
}

enum engine_status engine_cancel(struct engine *e, const int64_t *ids, size_t n, enum task_state *after, char **err)
{
	return engine_cancel_in(e, ids, n, ENGINE_ANY_STATE, after, NULL, err);
}

enum engine_status engine_cancel_in(struct engine *e, const int64_t *ids, size_t n, unsigned states,
				    enum task_state *after, enum engine_act *act, char **err)
{
	return on_each(e, ids, n, cancel_one, NULL, states, TASK_CANCELLED, after, act, err);
}

static enum engine_status reprioritize_one(struct engine *e, struct task *t, const void *arg, enum task_state *after,
					   bool *moved, char **err)
{
	enum task_priority prio = *(const enum task_priority *)arg, old = t->priority;
	struct store_change ch = {.task = t};

	*after = t->state;
	*moved = prio != old;
	if (prio == old)
		return ENGINE_OK;
	t->priority = prio;
	if (store_commit(e->store, &ch, 1) != STORE_OK) {
		t->priority = old;
		return store_failed(e, err);
	}
	if (t->state == TASK_QUEUED)
		queue_reprioritize(e->queue, t->id, prio);
	struct event extra = {.old_priority = old};

	publish(e, EVENT_REPRIORITIZED, t, &extra);
	return ENGINE_OK;
}

enum engine_status engine_reprioritize(struct engine *e, const int64_t *ids, size_t n, enum task_priority prio,
				       enum task_state *after, char **err)
{
	return engine_reprioritize_in(e, ids, n, prio, ENGINE_ANY_STATE, after, NULL, err);
}

enum engine_status engine_reprioritize_in(struct engine *e, const int64_t *ids, size_t n, enum task_priority prio,
					  unsigned states, enum task_state *after, enum engine_act *act, char **err)
{
	return on_each(e, ids, n, reprioritize_one, &prio, states, -1, after, act, err);
}

/* A new task that runs t again and records where it came from. */
static struct task *retry_of(const struct task *t, int64_t now)
{
	struct task *copy = task_new(t->model, t->vars, t->solver, t->priority);

	task_set_text(&copy->name, t->name);
	task_set_text(&copy->tags, t->tags);
	copy->timeout = t->timeout;
	copy->no_cache = t->no_cache;
	copy->origin = t->id;
	copy->submitted = now;
	return copy;
}

/* ids without repeats, in the order first given (heap); *m gets their count. */
static int64_t *distinct_ids(const int64_t *ids, size_t n, size_t *m)
{
	struct idmap seen = IDMAP_INIT;
	int64_t *out = xcalloc(n ? n : 1, sizeof *out);

	*m = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] > 0 && idmap_get(&seen, ids[i]))
			continue;
		if (ids[i] > 0)
			idmap_put(&seen, ids[i], &out[*m]);
		out[(*m)++] = ids[i];
	}
	idmap_free(&seen);
	return out;
}

/* The end of t's chain of retry copies (t->retried_as, its copy's, ...): *last and its state, *via the one before. */
static enum engine_status last_copy(struct engine *e, const struct task *t, int64_t *last, enum task_state *state,
				    int64_t *via, char **err)
{
	enum engine_status st = ENGINE_OK;

	*via = 0;
	*last = t->retried_as;
	/* A chain is as long as the operator made it; the bound only guards against a damaged store. */
	for (int hop = 0; hop < 10000 && st == ENGINE_OK; hop++) {
		const struct task *c;
		struct task *owned;

		st = engine_find(e, *last, &c, &owned, err);
		if (st == ENGINE_OK) {
			*state = c->state;
			if (c->retried_as == 0) {
				task_free(&owned);
				break;
			}
			*via = *last;
			*last = c->retried_as;
		}
		task_free(&owned);
	}
	return st;
}

/* What a retry of t answers without a new copy: t is not final enough, or a copy was made before. */
static enum engine_status answer_without_copy(struct engine *e, const struct task *t, struct engine_retry_answer *a,
					      char **err)
{
	char via_text[48] = "";
	int64_t via;
	enum engine_status st;

	if (t->state != TASK_FAILED && t->state != TASK_CANCELLED) {
		a->reason = xasprintf("task %lld is %s; only failed or cancelled tasks can be retried", (long long)t->id,
				      task_state_name(t->state));
		return ENGINE_OK;
	}
	if (t->retried_as == 0)
		return ENGINE_OK;
	st = last_copy(e, t, &a->copy, &a->copy_state, &via, err);
	if (st != ENGINE_OK)
		return st;
	if (via)
		snprintf(via_text, sizeof via_text, " (via %lld)", (long long)via);
	if (a->copy_state == TASK_FAILED || a->copy_state == TASK_CANCELLED)
		a->reason = xasprintf("task %lld was retried as %lld%s, which %s; to run it again, retry %lld",
				      (long long)t->id, (long long)a->copy, via_text,
				      a->copy_state == TASK_FAILED ? "failed" : "was cancelled", (long long)a->copy);
	return ENGINE_OK;
}

void engine_retry_answers_free(struct engine_retry_answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(&a[i].reason);
}

/* The answers refused, for a caller that takes all or nothing: the first reason in *err. */
static bool any_refused(const struct engine_retry_answer *out, size_t n, char **err)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].reason) {
			*err = xstrdup(out[i].reason);
			return true;
		}
	return false;
}

enum engine_status engine_retry(struct engine *e, const int64_t *given, size_t n_given, bool each,
				struct engine_retry_answer *out, size_t *n, char **err)
{
	int64_t *ids = distinct_ids(given, n_given, n), *existing = xcalloc(*n ? *n : 1, sizeof *existing);
	struct task **copies = xcalloc(*n ? *n : 1, sizeof *copies);
	enum engine_status st = ENGINE_OK;

	memset(out, 0, *n * sizeof *out);
	for (size_t i = 0; i < *n && st == ENGINE_OK; i++) {
		const struct task *t;
		struct task *owned;

		st = engine_find(e, ids[i], &t, &owned, err);
		if (st == ENGINE_OK) {
			out[i].id = t->id;
			out[i].state = t->state;
			st = answer_without_copy(e, t, &out[i], err);
		}
		if (st == ENGINE_OK && out[i].copy == 0 && out[i].reason == NULL)
			copies[i] = retry_of(t, engine_now_ms(e));
		task_free(&owned);
	}
	if (st == ENGINE_OK && !each && any_refused(out, *n, err))
		st = ENGINE_STATE;
	/* The store makes a copy only of a task that has none, in the transaction that stores it. */
	if (st == ENGINE_OK && store_submit_retries(e->store, copies, *n, existing) != STORE_OK)
		st = store_failed(e, err);
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (copies[i] && copies[i]->id && st == ENGINE_OK) {
			out[i].copy = copies[i]->id;
			out[i].copy_state = copies[i]->state;
			out[i].fresh = true;
			copies[k++] = copies[i]; /* k <= i: the fresh ones gather at the front */
		} else {
			if (copies[i] && existing[i]) {
				out[i].copy = existing[i];
				out[i].copy_state = stored_state(e, existing[i]);
			}
			task_free(&copies[i]);
		}
	}
	accept_tasks(e, copies, k, existing, NULL); /* existing is done with: it takes the new ids */
	if (st != ENGINE_OK)
		engine_retry_answers_free(out, *n);
	free(existing);
	free(copies);
	free(ids);
	return st;
}

enum engine_status engine_pause(struct engine *e, const char *backend, bool paused, bool *now, char **err)
{
	if (backend) {
		if (!scheduler_set_paused(e->sched, backend, paused, err))
			return ENGINE_INVALID;
		engine_log(e, SEVERITY_INFO, 0, "backend %s %s", backend, paused ? "paused" : "resumed");
		*now = paused;
	} else {
		/* The operator's word replaces simq's own pause: it is not lifted by itself any more. */
		e->store_hold = false;
		if (e->paused != paused) {
			char since[32];

			set_paused(e, paused);
			engine_log(e, SEVERITY_INFO, 0, "%s", paused ? "dispatch paused" : "dispatch resumed");
			/* The operator's pause outlives the server: the next one starts paused. */
			snprintf(since, sizeof since, "%lld", (long long)engine_now_ms(e));
			if (store_setting_put(e->store, "paused", paused ? since : NULL) != STORE_OK)
				engine_log(e, SEVERITY_WARNING, 0, "the pause could not be saved for the next server: %s",
					   store_error(e->store));
		}
		if (!paused)
			task_set_text(&e->pause_reason, NULL);
	}
	/* A resume of everything resumes every backend too: nothing stays held that the operator cannot see. */
	if (!paused && backend == NULL)
		scheduler_set_paused(e->sched, NULL, false, err);
	if (backend || !paused)
		save_paused_backends(e);
	if (!paused)
		scheduler_kick(e->sched);
	/* After the kick: a store that still cannot save pauses dispatch again at once, and the caller hears so. */
	if (backend == NULL)
		*now = e->paused;
	return ENGINE_OK;
}

void engine_add_pool(struct engine *e, struct pool *p)
{
	e->pools = xreallocarray(e->pools, e->npools + 1, sizeof *e->pools);
	e->pools[e->npools++] = p;
}

void engine_each_pool(const struct engine *e, void (*fn)(const struct pool *p, void *ud), void *ud)
{
	for (size_t i = 0; i < e->npools; i++)
		fn(e->pools[i], ud);
}

enum engine_status engine_backend_add(struct engine *e, const struct backend_config *c, char **err)
{
	if (!scheduler_add_backend(e->sched, c, err))
		return ENGINE_INVALID;
	changed(e);
	return ENGINE_OK;
}

enum engine_status engine_backend_remove(struct engine *e, const char *name, const char *gone, char **err)
{
	int running;

	if (!scheduler_remove_backend(e->sched, name, gone, &running, err))
		return ENGINE_NOT_FOUND;
	if (gone)
		engine_log(e, SEVERITY_WARNING, 0, "backend %s removed: it is gone (%s); %d call%s cut short, %s", name,
			   gone, running, running == 1 ? "" : "s", "its tasks go back to the queue with no retry spent");
	else if (running)
		engine_log(e, SEVERITY_INFO, 0, "backend %s removed; its %d call%s finish%s first", name,
			   running, running == 1 ? "" : "s", running == 1 ? "es" : "");
	else
		engine_log(e, SEVERITY_INFO, 0, "backend %s removed", name);
	scheduler_kick(e->sched);
	return ENGINE_OK;
}

enum engine_status engine_states(struct engine *e, const int64_t *ids, size_t n, enum task_state *states,
				 bool *all_final, char **err)
{
	*all_final = true;
	for (size_t i = 0; i < n; i++) {
		const struct task *t = idmap_get(&e->active, ids[i]);
		struct task *owned = NULL;
		struct queue_item it;

		if (t == NULL && queue_get(e->queue, ids[i], &it)) {
			states[i] = TASK_QUEUED;
			*all_final = false;
			continue;
		}
		enum engine_status st = t ? ENGINE_OK : engine_find(e, ids[i], &t, &owned, err);

		if (st != ENGINE_OK)
			return st;
		states[i] = t->state;
		*all_final &= task_state_is_final(t->state);
		task_free(&owned);
	}
	return ENGINE_OK;
}

/* ---- readers ---------------------------------------------------------------------------- */

const struct task *engine_loaded(const struct engine *e, int64_t id)
{
	return idmap_get(&e->active, id);
}

/* A page's tasks read from the store, by id. */
static void keep_read(struct task *t, void *ud)
{
	struct idmap *read = ud;

	if (idmap_get(read, t->id))
		task_free(&t);
	else
		idmap_put(read, t->id, t);
}

/* Rows a page reads at a time: on the stack, so a view allocates nothing for them (a block of a
 * large bin's size made malloc consolidate every small block the answer before it freed). */
#define PAGE_CHUNK 32

/* Up to PAGE_CHUNK rows of the queue from offset: the ones not in memory read from the store. */
static enum engine_status queue_chunk(struct engine *e, size_t offset, size_t limit,
				      void (*fn)(const struct task *t, int64_t position, void *ud), void *ud,
				      size_t *got, char **err)
{
	struct queue_item items[PAGE_CHUNK];
	int64_t ids[PAGE_CHUNK];
	size_t m = 0;
	struct idmap read = IDMAP_INIT;
	enum engine_status st = ENGINE_OK;

	*got = queue_page(e->queue, offset, limit < PAGE_CHUNK ? limit : PAGE_CHUNK, items);
	for (size_t i = 0; i < *got; i++)
		if (idmap_get(&e->active, items[i].id) == NULL)
			ids[m++] = items[i].id;
	if (m > 0 && store_get_many(e->store, ids, m, keep_read, &read) != STORE_OK)
		st = store_failed(e, err);
	for (size_t i = 0; i < *got && st == ENGINE_OK; i++) {
		const struct task *t = idmap_get(&e->active, items[i].id);

		if (t == NULL)
			t = idmap_get(&read, items[i].id);
		if (t)
			fn(t, (int64_t)(offset + i), ud);
	}
	for (size_t i = 0; i < m; i++) {
		struct task *t = idmap_remove(&read, ids[i]);

		task_free(&t);
	}
	idmap_free(&read);
	return st;
}

/* Rows of the queue in its order, whatever their state, with their positions in the whole queue. */
static enum engine_status queue_rows(struct engine *e, size_t offset, size_t limit,
				     void (*fn)(const struct task *t, int64_t position, void *ud), void *ud, char **err)
{
	enum engine_status st = ENGINE_OK;
	size_t got = PAGE_CHUNK;

	for (size_t done = 0; done < limit && got == PAGE_CHUNK && st == ENGINE_OK; done += got)
		st = queue_chunk(e, offset + done, limit - done, fn, ud, &got, err);
	return st;
}

static int by_position(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * RUNNING tasks back in the queue (a retry due, in line for a slot): running by their state, not
 * queued.  How many, each priority's in by_prio (may be NULL), and their positions in the queue,
 * ascending (*positions heap, when not NULL).
 */
static size_t running_in_queue(const struct engine *e, size_t by_prio[PRIO_COUNT], int64_t **positions)
{
	size_t n = 0, cap = 0;

	if (positions)
		*positions = NULL;
	for (size_t i = 0; i < e->active.cap; i++) {
		const struct task *t = e->active.keys && e->active.keys[i] ? e->active.values[i] : NULL;
		int64_t at = t && t->state == TASK_RUNNING ? queue_position(e->queue, t->id) : -1;

		if (at < 0)
			continue;
		if (by_prio)
			by_prio[t->priority]++;
		if (positions && n == cap) {
			cap = cap ? 2 * cap : 16;
			*positions = xreallocarray(*positions, cap, sizeof **positions);
		}
		if (positions)
			(*positions)[n] = at;
		n++;
	}
	if (positions && n > 1)
		qsort(*positions, n, sizeof **positions, by_position);
	return n;
}

size_t engine_queued(const struct engine *e, size_t by_prio[PRIO_COUNT])
{
	size_t running[PRIO_COUNT] = {0}, n = running_in_queue(e, running, NULL);

	for (int p = 0; by_prio && p < PRIO_COUNT; p++)
		by_prio[p] = queue_count(e->queue, (enum task_priority)p) - running[p];
	return queue_size(e->queue) - n;
}

struct queued_rows {
	void (*fn)(const struct task *t, int64_t position, void *ud);
	void *ud;
	size_t offset, left, sent;
};

static void queued_row(const struct task *t, int64_t position, void *ud)
{
	struct queued_rows *r = ud;

	if (t->state != TASK_QUEUED || r->left == 0)
		return;
	r->fn(t, (int64_t)(r->offset + r->sent++), r->ud);
	r->left--;
}

enum engine_status engine_queue_page(struct engine *e, size_t offset, size_t limit,
				     void (*fn)(const struct task *t, int64_t position, void *ud), void *ud, char **err)
{
	int64_t *positions;
	size_t n = running_in_queue(e, NULL, &positions), at = offset, skipped = 0;

	if (n == 0)
		return queue_rows(e, offset, limit, fn, ud, err);
	/* The queued task at `offset` is that far into the queue plus the RUNNING ones before it. */
	while (skipped < n && (size_t)positions[skipped] <= at)
		skipped++, at++;
	free(positions);

	struct queued_rows r = {.fn = fn, .ud = ud, .offset = offset, .left = limit};

	return queue_rows(e, at, limit + (n - skipped), queued_row, &r, err);
}

enum engine_status engine_each_task(struct engine *e, unsigned from, int state, void (*fn)(struct task *t, void *ud),
				    void *ud, char **err)
{
	return store_list(e->store, from, state, fn, ud) == STORE_OK ? ENGINE_OK : store_failed(e, err);
}

enum engine_status engine_finished_since(struct engine *e, int state, int64_t since_ms,
					 void (*fn)(struct task *t, void *ud), void *ud)
{
	return store_finished_since(e->store, state, since_ms, fn, ud) == STORE_OK ? ENGINE_OK : ENGINE_STORE;
}

enum engine_status engine_attempts(struct engine *e, int64_t id,
				   void (*fn)(const struct store_attempt *a, void *ud), void *ud)
{
	return store_attempts(e->store, id, fn, ud) == STORE_OK ? ENGINE_OK : ENGINE_STORE;
}

enum engine_status engine_result(struct engine *e, int64_t id, struct store_result *out)
{
	enum store_status st = store_result_get(e->store, id, out);

	return st == STORE_OK ? ENGINE_OK : st == STORE_NOTFOUND ? ENGINE_NOT_FOUND : ENGINE_STORE;
}

void engine_attempt_counts(const struct engine *e, int64_t out[ATTEMPT_OUTCOME_COUNT])
{
	store_attempt_counts(e->store, out);
}

void engine_result_used(struct engine *e, int64_t id)
{
	store_result_used(e->store, id, engine_now_ms(e));
}

const struct retain_options *engine_retain_options(const struct engine *e)
{
	return retain_options(e->retain);
}

enum engine_status engine_clean(struct engine *e, const struct store_select *sel, bool dry_run, struct store_freed *out,
				char **err)
{
	if (retain_clean(e->retain, sel, dry_run, out) != STORE_OK)
		return store_failed(e, err);
	if (!dry_run && out->tasks > 0) {
		struct buf size = BUF_INIT;

		buf_add_bytes(&size, out->bytes);
		engine_log(e, SEVERITY_INFO, 0, "simq clean: removed %lld finished tasks, %lld result files (%s)",
			   (long long)out->tasks, (long long)out->files, buf_str(&size));
		buf_free(&size);
	}
	return ENGINE_OK;
}

const struct queue *engine_queue(const struct engine *e)
{
	return e->queue;
}

const struct scheduler *engine_scheduler(const struct engine *e)
{
	return e->sched;
}

size_t engine_running(const struct engine *e)
{
	return e->running;
}

enum engine_status engine_copies(struct engine *e, int64_t id, int64_t **ids, size_t *n, char **err)
{
	return store_copies(e->store, id, ids, n) == STORE_OK ? ENGINE_OK : store_failed(e, err);
}

int64_t engine_last_id(const struct engine *e)
{
	return e->last_id;
}

bool engine_paused(const struct engine *e)
{
	return e->paused;
}

const char *engine_pause_reason(const struct engine *e)
{
	return e->pause_reason;
}

int64_t engine_started_ms(const struct engine *e)
{
	return e->started_ms;
}

void engine_stats(const struct engine *e, enum stats_window w, struct stats_counts *out)
{
	stats_window(&e->stats, w, engine_now_ms(e), out);
}

void engine_minutes(const struct engine *e, int n, int64_t *per_minute, int64_t *cached)
{
	stats_minutes(&e->stats, engine_now_ms(e), (size_t)n, per_minute, cached);
}

uint64_t engine_version(const struct engine *e)
{
	return e->version;
}

void engine_each_recent(const struct engine *e, void (*fn)(const struct task *t, void *ud), void *ud)
{
	for (size_t i = 0; i < ENGINE_RECENT; i++) {
		const struct task *t = e->recent[(e->recent_next + ENGINE_RECENT - 1 - i) % ENGINE_RECENT];

		if (t)
			fn(t, ud);
	}
}

struct history_page {
	void (*fn)(const struct task *t, void *ud);
	void *ud;
};

static void history_row(struct task *t, void *ud)
{
	struct history_page *p = ud;

	p->fn(t, p->ud);
	task_free(&t);
}

enum engine_status engine_history(struct engine *e, int state, int64_t offset, int64_t limit,
				  void (*fn)(const struct task *t, void *ud), void *ud, char **err)
{
	struct history_page p = {fn, ud};

	/* The recent tasks are the newest ENGINE_RECENT there are (seeded from the store, kept since). */
	if (offset == 0 && state < 0 && limit <= ENGINE_RECENT) {
		engine_each_recent(e, fn, ud);
		return ENGINE_OK;
	}
	return store_finished_page(e->store, state, offset, limit, history_row, &p) == STORE_OK ? ENGINE_OK
												 : store_failed(e, err);
}

void engine_each_running(const struct engine *e, void (*fn)(const struct task *t, void *ud), void *ud)
{
	for (size_t i = 0; i < e->active.cap; i++) {
		const struct task *t = e->active.keys && e->active.keys[i] ? e->active.values[i] : NULL;

		if (t && t->state == TASK_RUNNING)
			fn(t, ud);
	}
}

uint64_t engine_alerts(const struct engine *e)
{
	return e->alerts;
}

void engine_failures(const struct engine *e, uint64_t *total, uint64_t *seen)
{
	*total = e->failures;
	*seen = e->failures_seen;
}

void engine_failures_seen(struct engine *e, uint64_t upto)
{
	if (upto > e->failures)
		upto = e->failures;
	if (upto > e->failures_seen)
		e->failures_seen = upto;
}

struct event_bus *engine_bus(struct engine *e)
{
	return e->bus;
}

void engine_log_since(const struct engine *e, uint64_t seq, event_log_fn fn, void *ud)
{
	event_log_since(e->log, seq, fn, ud);
}

uint64_t engine_log_seq(const struct engine *e)
{
	return event_log_last_seq(e->log);
}

void engine_log_flush(struct engine *e)
{
	event_log_flush(e->log);
}

bool engine_log_reopen(struct engine *e, char **err)
{
	return event_log_reopen(e->log, err);
}
