#include "autoconf.h"

#include "server/dashboard-view.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "server/view.h"
#include "util/xalloc.h"

/* UP/DOWN changes kept per backend. */
#define HISTORY_KEEP 20

struct transition {
	int64_t time;
	bool up;
	char *detail;
};

struct backend_history {
	char *name;
	struct transition items[HISTORY_KEEP]; /* a ring: next is the oldest once full */
	size_t next, count;
};

struct section {
	const char *name;
	json_t *(*build)(struct dashboard_view *v);
};

#define NSECTIONS 6

struct dashboard_view {
	struct engine *engine;
	int bus_handle;
	char server[64];
	char *text[NSECTIONS]; /* each section's JSON as last sent; NULL before the first update */
	uint64_t log_seq;      /* the last log line an update carried */
	uint64_t version;      /* the engine's version at the last update */
	int64_t now;           /* wall ms of the build in progress */
	struct backend_history *histories;
	size_t nhistories;
	struct failure *failures; /* DASHBOARD_FAILURES, newest first */
	size_t nfailures;
	int64_t pending[DASHBOARD_FAILURES]; /* failed since the last build, not read yet (the latest kept) */
	size_t npending;
	bool copies_stale; /* tasks were submitted (retry copies among them) since the copies were looked up */
};

struct failure;

/* ---- helpers ---------------------------------------------------------------------------- */

static json_t *str_or_empty(const char *s)
{
	return json_string(s ? s : "");
}

/* A number, or null where it is undefined (NaN has no JSON). */
static json_t *ratio(double x)
{
	return isnan(x) ? json_null() : json_real(x);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Milliseconds rounded to the second: times derived from "seconds ago" do not change every build. */
static json_t *whole_second(double ms)
{
	return json_integer((json_int_t)(llround(ms / 1000.0) * 1000));
}

/* ---- queue ------------------------------------------------------------------------------ */

static json_t *queue_row(const struct task *t, int64_t position)
{
	json_t *vars = proto_brief_vars_json(t->vars); /* a row, whatever the task carries */

	return json_pack("{s:I,s:o,s:s,s:o,s:o,s:I,s:I}", "id", (json_int_t)t->id, "name", str_or_empty(t->name),
	                 "model", base_name(t->model), "path", str_or_empty(t->model), "vars",
	                 vars ? vars : json_object(), "submitted", (json_int_t)t->submitted, "position",
	                 (json_int_t)position);
}

/* engine_queue_page's rows into a JSON list. */
static void add_queue_row(const struct task *t, int64_t position, void *ud)
{
	json_array_append_new(ud, queue_row(t, position));
}

/*
 * Counts by priority and the first rows of each: a page at each priority's offset, read from the
 * store in one query (queued tasks keep only their place in memory), cheap at any length.
 */
static json_t *build_queue(struct dashboard_view *v)
{
	json_t *counts = json_object(), *rows = json_object();
	size_t by_prio[PRIO_COUNT], total = engine_queued(v->engine, by_prio), offset = 0;

	for (int p = 0; p < PRIO_COUNT; p++) {
		const char *name = task_priority_name((enum task_priority)p);
		size_t n = by_prio[p];
		json_t *list = json_array();
		char *err = NULL;

		if (n > 0 && engine_queue_page(v->engine, offset, n < DASHBOARD_QUEUE_ROWS ? n : DASHBOARD_QUEUE_ROWS,
		                               add_queue_row, list, &err) != ENGINE_OK)
			free(err); /* the store said why in the log; the counts stand, the rows wait for the next update */
		json_object_set_new(counts, name, json_integer((json_int_t)n));
		json_object_set_new(rows, name, list);
		offset += n;
	}
	return json_pack("{s:I,s:o,s:o}", "total", (json_int_t)total, "counts", counts, "rows", rows);
}

/* ---- running ---------------------------------------------------------------------------- */

struct list_ctx {
	struct dashboard_view *v;
	json_t *list;
};

static void add_call(const struct sched_call_info *c, void *ud)
{
	struct list_ctx *x = ud;
	json_t *ids = json_array();
	const struct task *head = NULL;
	json_int_t cancelled = 0; /* ids no longer active: cancelled while PLECS runs them */

	for (size_t i = 0; i < c->n; i++) {
		const struct task *t = engine_loaded(x->v->engine, c->ids[i]);

		json_array_append_new(ids, json_integer((json_int_t)c->ids[i]));
		cancelled += t == NULL;
		if (head == NULL)
			head = t;
	}
	/* Started, estimate and timeout, not progress: the page moves the bar (and says "overdue") itself. */
	json_array_append_new(
	    x->list, json_pack("{s:o,s:I,s:s,s:s,s:s,s:i,s:o,s:f,s:f,s:s,s:o,s:I}", "ids", ids, "batch", (json_int_t)c->batch,
	                       "backend", c->backend, "model", base_name(c->model), "path", c->model, "attempt",
	                       c->attempt, "started", whole_second((double)x->v->now - c->elapsed * 1000.0), "estimate",
	                       c->estimate, "timeout", c->timeout, "priority",
	                       head ? task_priority_name(head->priority) : "", "name",
	                       str_or_empty(head ? head->name : NULL), "cancelled", cancelled));
}

/* RUNNING tasks outside a call: waiting for their retry (or, due, for a slot), or their result being written. */
struct waiting_ctx {
	const struct scheduler *sched;
	const struct task **list;
	size_t n, cap, in_calls, writing;
};

static void add_waiting(const struct task *t, void *ud)
{
	struct waiting_ctx *x = ud;
	struct sched_call_info call;

	if (scheduler_call_of(x->sched, t->id, &call)) {
		x->in_calls++;
		return;
	}
	if (t->retry_due == 0 && scheduler_in_flight(x->sched, t->id)) {
		x->writing++;
		return;
	}
	if (x->n == x->cap)
		x->list = xreallocarray(x->list, x->cap = x->cap ? 2 * x->cap : 16, sizeof *x->list);
	x->list[x->n++] = t;
}

/* The soonest retry first. */
static int by_due(const void *a, const void *b)
{
	const struct task *x = *(const struct task *const *)a, *y = *(const struct task *const *)b;

	if (x->retry_due != y->retry_due)
		return (x->retry_due > y->retry_due) - (x->retry_due < y->retry_due);
	return (x->id > y->id) - (x->id < y->id);
}

static json_t *retry_row(const struct task *t, int max_retries, int64_t now)
{
	return json_pack("{s:I,s:i,s:i,s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)t->id, "retry", task_retries(t) + 1,
	                 "max_retries", max_retries, "due", (json_int_t)t->retry_due, "waiting",
	                 t->retry_due > now ? "backoff" : "slot", "error", t->error ? t->error : "", "model",
	                 base_name(t->model), "priority", task_priority_name(t->priority), "name",
	                 t->name ? t->name : "");
}

/*
 * Every RUNNING task accounted for: those in calls, those waiting to retry (the soonest
 * DASHBOARD_RETRY_ROWS listed), those whose result is being written; count is their sum.
 */
static json_t *build_running(struct dashboard_view *v)
{
	const struct scheduler *sched = engine_scheduler(v->engine);
	struct list_ctx calls = {.v = v, .list = json_array()};
	struct waiting_ctx w = {.sched = sched};
	json_t *retries = json_array();
	struct sched_totals tot;

	scheduler_each_call(sched, add_call, &calls);
	engine_each_running(v->engine, add_waiting, &w);
	if (w.n > 1)
		qsort(w.list, w.n, sizeof *w.list, by_due);
	scheduler_totals(sched, &tot);
	for (size_t i = 0; i < w.n && i < DASHBOARD_RETRY_ROWS; i++)
		json_array_append_new(retries, retry_row(w.list[i], tot.max_retries, v->now));
	free(w.list);
	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "count", (json_int_t)engine_running(v->engine), "in_calls",
	                 (json_int_t)w.in_calls, "waiting", (json_int_t)w.n, "writing", (json_int_t)w.writing, "calls",
	                 calls.list, "retries", retries);
}

/* ---- backends --------------------------------------------------------------------------- */

static struct backend_history *history_of(struct dashboard_view *v, const char *name, bool create)
{
	for (size_t i = 0; i < v->nhistories; i++)
		if (strcmp(v->histories[i].name, name) == 0)
			return &v->histories[i];
	if (!create)
		return NULL;
	v->histories = xreallocarray(v->histories, v->nhistories + 1, sizeof *v->histories);
	v->histories[v->nhistories] = (struct backend_history){.name = xstrdup(name)};
	return &v->histories[v->nhistories++];
}

/* A failure to read at the next build (the latest DASHBOARD_FAILURES kept); a submit may be a retry copy. */
static void note_failure(struct dashboard_view *v, const struct event *ev)
{
	if (ev->type == EVENT_SUBMITTED) {
		v->copies_stale = true;
		return;
	}
	if (v->npending == DASHBOARD_FAILURES) {
		memmove(v->pending, v->pending + 1, (DASHBOARD_FAILURES - 1) * sizeof *v->pending);
		v->npending--;
	}
	v->pending[v->npending++] = ev->task_id;
}

/* Keeps each backend's UP and DOWN, with why, as they happen; notes failures and submits. */
static void on_event(const struct event *ev, void *ud)
{
	struct dashboard_view *v = ud;

	if (ev->type == EVENT_FAILED || ev->type == EVENT_SUBMITTED) {
		note_failure(v, ev);
		return;
	}
	if ((ev->type != EVENT_BACKEND_UP && ev->type != EVENT_BACKEND_DOWN) || ev->backend == NULL)
		return;
	struct backend_history *h = history_of(v, ev->backend, true);
	struct transition *slot = &h->items[h->next];

	free(slot->detail);
	/* Why, as the log says it: "after 2 failed calls: PLECS's answer is not XML-RPC: …". */
	*slot = (struct transition){.time = ev->time,
	                            .up = ev->type == EVENT_BACKEND_UP,
	                            .detail = ev->detail && ev->error ? xasprintf("%s: %s", ev->detail, ev->error)
	                                      : xstrdup(ev->detail ? ev->detail : ev->error ? ev->error : "")};
	h->next = (h->next + 1) % HISTORY_KEEP;
	if (h->count < HISTORY_KEEP)
		h->count++;
}

static json_t *history_value(const struct backend_history *h)
{
	json_t *list = json_array();

	for (size_t i = 0; h && i < h->count; i++) {
		const struct transition *t = &h->items[(h->next + HISTORY_KEEP - h->count + i) % HISTORY_KEEP];

		json_array_append_new(
		    list, json_pack("{s:I,s:b,s:s}", "time", (json_int_t)t->time, "up", t->up, "detail", t->detail));
	}
	return list;
}

static void add_backend(const struct sched_backend_info *b, void *ud)
{
	struct list_ctx *x = ud;
	double now = (double)x->v->now;

	json_array_append_new(
	    x->list, json_pack("{s:s,s:s,s:b,s:b,s:b,s:i,s:i,s:i,s:o,s:o,s:o,s:o}", "name", b->name, "url", b->url,
	                       "up", b->up, "checking", b->checking, "paused", b->paused, "busy", b->busy, "slots",
	                       b->slots, "failures", b->failures, "down_since",
	                       b->down_for > 0 ? whole_second(now - b->down_for * 1000) : json_integer(0), "probe_at",
	                       b->probe_in > 0 ? whole_second(now + b->probe_in * 1000) : json_integer(0),
	                       "downtime_before", whole_second((b->downtime - b->down_for) * 1000), "history",
	                       history_value(history_of(x->v, b->name, false))));
}

static json_t *build_backends(struct dashboard_view *v)
{
	struct list_ctx x = {.v = v, .list = json_array()};

	scheduler_each_backend(engine_scheduler(v->engine), add_backend, &x);
	return x.list;
}

/* ---- statistics and throughput ------------------------------------------------------------ */

static json_t *counts_value(const struct stats_counts *k)
{
	json_t *o = json_object();

#define X(name) json_object_set_new(o, #name, json_integer((json_int_t)k->name));
	STATS_COUNTERS(X)
#undef X
	json_object_set_new(o, "success_rate", ratio(stats_success_rate(k)));
	json_object_set_new(o, "retry_effectiveness", ratio(stats_retry_effectiveness(k)));
	json_object_set_new(o, "avg_retries_per_failed", ratio(stats_retries_per_failed(k)));
	return o;
}

static json_t *build_stats(struct dashboard_view *v)
{
	static const char *const keys[STATS_WINDOW_COUNT] = {"since_start", "day", "all"};
	json_t *windows = json_object();
	struct stats_counts k;
	struct sched_totals tot;

	for (int w = 0; w < STATS_WINDOW_COUNT; w++) {
		engine_stats(v->engine, (enum stats_window)w, &k);
		json_object_set_new(windows, keys[w], counts_value(&k));
	}
	scheduler_totals(engine_scheduler(v->engine), &tot);
	const char *reason = engine_pause_reason(v->engine);

	return json_pack("{s:o,s:b,s:s,s:I,s:I,s:f,s:I}", "windows", windows, "paused", engine_paused(v->engine),
	                 "pause_reason", reason ? reason : "", "started", (json_int_t)engine_started_ms(v->engine),
	                 "calls", (json_int_t)tot.calls, "mean_batch",
	                 tot.calls ? (double)tot.cases / (double)tot.calls : 0.0, "queued",
	                 (json_int_t)engine_queued(v->engine, NULL));
}

/* Each of the last 24 hours' sums of minutes (the current hour, the last 60 minutes, last). */
static json_t *hours_of(const int64_t *per_minute)
{
	json_t *hours = json_array();

	for (int h = 0; h < 24; h++) {
		int64_t sum = 0;

		for (int m = 0; m < 60; m++)
			sum += per_minute[h * 60 + m];
		json_array_append_new(hours, json_integer((json_int_t)sum));
	}
	return hours;
}

/* Tasks PLECS ran to an end in each of the last 24 hours, and those completed from the cache. */
static json_t *build_throughput(struct dashboard_view *v)
{
	int64_t per_minute[STATS_MINUTES], cached[STATS_MINUTES];
	double rate, eta, cached_rate;

	engine_minutes(v->engine, STATS_MINUTES, per_minute, cached);
	view_rate(v->engine, &rate, &eta, &cached_rate);
	/* The last bucket ends with the current minute: the page labels the buckets from it. */
	return json_pack("{s:o,s:o,s:I,s:I,s:I,s:I}", "per_hour", hours_of(per_minute), "cached_per_hour",
	                 hours_of(cached), "minute", (json_int_t)(v->now / 60000 * 60000), "rate",
	                 (json_int_t)llround(rate), "cached_rate", (json_int_t)llround(cached_rate), "eta",
	                 (json_int_t)(eta < 0 ? -1 : llround(eta)));
}

/* ---- failures --------------------------------------------------------------------------- */

/*
 * The failures section is read from the store, not from the engine's recent tasks (which a restart
 * or a few hundred completions empty of failures): the last DASHBOARD_FAILURES failed tasks of the
 * last FAILURES_DAYS days, seeded when the view is made, kept up to date from the bus's FAILED
 * events, and with the retry copy each has ("retried as N"), looked up again after submits.
 */
#define FAILURES_DAYS 7

struct failure {
	struct task *task;
	int64_t copy; /* its newest retry copy; 0: none */
};

/* Newest first; a new failure pushes the oldest out. */
static void failure_push(struct dashboard_view *v, struct task *t)
{
	struct failure *f = v->failures;

	for (size_t i = 0; i < v->nfailures; i++)
		if (f[i].task->id == t->id) {
			task_free(&t);
			return;
		}
	if (v->nfailures == DASHBOARD_FAILURES)
		task_free(&f[--v->nfailures].task);
	memmove(f + 1, f, v->nfailures * sizeof *f);
	f[0] = (struct failure){.task = t};
	v->nfailures++;
	v->copies_stale = true;
}

static void seed_failure(struct task *t, void *ud)
{
	failure_push(ud, t); /* oldest first: the newest ends at the front */
}

/* Failures announced since the last build, read from the store; copies looked up when tasks were submitted. */
static void refresh_failures(struct dashboard_view *v)
{
	for (size_t i = 0; i < v->npending; i++) {
		const struct task *t = NULL;
		struct task *owned = NULL;
		char *err = NULL;

		if (engine_find(v->engine, v->pending[i], &t, &owned, &err) == ENGINE_OK && t->state == TASK_FAILED)
			failure_push(v, owned ? owned : task_dup(t));
		else
			task_free(&owned);
		free(err);
	}
	v->npending = 0;
	for (size_t i = 0; v->copies_stale && i < v->nfailures; i++) {
		int64_t *ids = NULL;
		size_t n = 0;
		char *err = NULL;

		if (engine_copies(v->engine, v->failures[i].task->id, &ids, &n, &err) == ENGINE_OK)
			v->failures[i].copy = n ? ids[n - 1] : 0;
		free(ids);
		free(err);
	}
	v->copies_stale = false;
}

static json_t *build_failures(struct dashboard_view *v)
{
	json_t *list = json_array();

	refresh_failures(v);
	for (size_t i = 0; i < v->nfailures; i++) {
		const struct task *t = v->failures[i].task;

		json_array_append_new(
		    list, json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:I}", "id", (json_int_t)t->id, "name",
		                    t->name ? t->name : "", "model", base_name(t->model), "path", t->model, "priority",
		                    task_priority_name(t->priority), "attempts", t->attempts, "finished",
		                    (json_int_t)t->finished, "error", t->error ? t->error : "", "retried_as",
		                    (json_int_t)v->failures[i].copy));
	}
	return list;
}

static const struct section sections[NSECTIONS] = {
    {"queue", build_queue}, {"running", build_running},       {"backends", build_backends},
    {"stats", build_stats}, {"throughput", build_throughput}, {"failures", build_failures},
};

/* ---- messages --------------------------------------------------------------------------- */

struct log_ctx {
	struct buf *out;
	uint64_t upto;
	bool first;
};

static void add_log_line(const struct log_entry *line, void *ud)
{
	struct log_ctx *x = ud;

	if (line->seq > x->upto)
		return;
	json_t *j =
	    json_pack("{s:I,s:I,s:I,s:s,s:s}", "seq", (json_int_t)line->seq, "time", (json_int_t)line->time_ms, "task",
	              (json_int_t)line->task_id, "severity", log_severity_name(line->severity), "text", line->text);
	char *text = json_dumps(j, JSON_COMPACT);

	buf_adds(x->out, x->first ? "" : ",");
	buf_adds(x->out, text);
	x->first = false;
	free(text);
	json_decref(j);
}

/* "log":[lines after since, up to upto] */
static void add_log(const struct dashboard_view *v, uint64_t since, uint64_t upto, struct buf *out)
{
	struct log_ctx x = {.out = out, .upto = upto, .first = true};

	buf_adds(out, ",\"log\":[");
	engine_log_since(v->engine, since, add_log_line, &x);
	buf_adds(out, "]}");
}

static void add_head(const struct dashboard_view *v, const char *type, uint64_t seq, struct buf *out)
{
	buf_addf(out, "{\"type\":\"%s\",\"server\":\"%s\",\"seq\":%llu,\"time\":%lld", type, v->server,
	         (unsigned long long)seq, (long long)engine_now_ms(v->engine));
}

bool dashboard_view_update(struct dashboard_view *v, uint64_t seq, struct buf *out)
{
	char *fresh[NSECTIONS];
	bool changed = engine_log_seq(v->engine) != v->log_seq;

	v->now = engine_now_ms(v->engine);
	v->version = engine_version(v->engine);
	for (size_t i = 0; i < NSECTIONS; i++) {
		json_t *j = sections[i].build(v);

		fresh[i] = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (v->text[i] == NULL || strcmp(v->text[i], fresh[i]) != 0)
			changed = true;
	}
	if (!changed) {
		for (size_t i = 0; i < NSECTIONS; i++)
			free(fresh[i]);
		return false;
	}
	add_head(v, "update", seq, out);
	for (size_t i = 0; i < NSECTIONS; i++) {
		if (v->text[i] == NULL || strcmp(v->text[i], fresh[i]) != 0)
			buf_addf(out, ",\"%s\":%s", sections[i].name, fresh[i]);
		free(v->text[i]);
		v->text[i] = fresh[i];
	}
	uint64_t last = engine_log_seq(v->engine), from = v->log_seq;

	if (last - from > DASHBOARD_LOG_UPDATE) {
		from = last - DASHBOARD_LOG_UPDATE;
		buf_addf(out, ",\"log_skipped\":%llu", (unsigned long long)(from - v->log_seq));
	}
	add_log(v, from, last, out);
	v->log_seq = last;
	return true;
}

void dashboard_view_snapshot(const struct dashboard_view *v, uint64_t seq, struct buf *out)
{
	add_head(v, "snapshot", seq, out);
	for (size_t i = 0; i < NSECTIONS; i++)
		buf_addf(out, ",\"%s\":%s", sections[i].name, v->text[i] ? v->text[i] : "null");
	add_log(v, v->log_seq > DASHBOARD_LOG_LINES ? v->log_seq - DASHBOARD_LOG_LINES : 0, v->log_seq, out);
}

uint64_t dashboard_view_version(const struct dashboard_view *v)
{
	return v->version;
}

const char *dashboard_view_server(const struct dashboard_view *v)
{
	return v->server;
}

struct dashboard_view *dashboard_view_new(struct engine *e)
{
	struct dashboard_view *v = xcalloc(1, sizeof *v);

	v->engine = e;
	view_server_id(e, v->server, sizeof v->server);
	v->failures = xcalloc(DASHBOARD_FAILURES, sizeof *v->failures);
	/* Failures before this server started too: a restart does not make the night look clean. */
	engine_finished_since(e, TASK_FAILED, engine_now_ms(e) - (int64_t)FAILURES_DAYS * 86400000, seed_failure, v);
	v->bus_handle = events_subscribe(engine_bus(e), on_event, v);
	return v;
}

void dashboard_view_free(struct dashboard_view **vp)
{
	struct dashboard_view *v = *vp;

	if (v == NULL)
		return;
	events_unsubscribe(engine_bus(v->engine), v->bus_handle);
	for (size_t i = 0; i < NSECTIONS; i++)
		free(v->text[i]);
	for (size_t i = 0; i < v->nhistories; i++) {
		for (size_t k = 0; k < HISTORY_KEEP; k++)
			free(v->histories[i].items[k].detail);
		free(v->histories[i].name);
	}
	free(v->histories);
	for (size_t i = 0; i < v->nfailures; i++)
		task_free(&v->failures[i].task);
	free(v->failures);
	xfree(vp);
}
