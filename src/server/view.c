#include "autoconf.h"

#include "server/view.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"
#include "server/view-pool.h"
#include "server/view-rows.h"
#include "util/buf.h"
#include "util/match.h"
#include "util/time.h"
#include "util/xalloc.h"

int view_fault_of(enum engine_status st)
{
	switch (st) {
	case ENGINE_NOT_FOUND:
		return PROTO_FAULT_NOT_FOUND;
	case ENGINE_STATE:
		return PROTO_FAULT_STATE;
	case ENGINE_INVALID:
		return PROTO_FAULT_INVALID;
	default:
		return PROTO_FAULT_STORE;
	}
}

xmlrpc_value *view_id(xmlrpc_env *env, int64_t id)
{
	return id <= INT32_MAX ? xmlrpc_int_new(env, (int)id) : xmlrpc_i8_new(env, id);
}

static void set_member(xmlrpc_env *env, xmlrpc_value *s, const char *key, xmlrpc_value *v)
{
	xmlrpc_struct_set_value(env, s, key, v);
	xmlrpc_DECREF(v);
}

static void append(xmlrpc_env *env, xmlrpc_value *list, xmlrpc_value *v)
{
	xmlrpc_array_append_item(env, list, v);
	xmlrpc_DECREF(v);
}

static void set_time(xmlrpc_env *env, xmlrpc_value *s, const char *key, int64_t ms)
{
	char stamp[TIME_ISO8601_MAX];

	set_member(env, s, key, xmlrpc_string_new(env, ms ? time_iso8601(stamp, ms * 1000000, true) : ""));
}

/* j (NULL: none) as s's member key; a value XML-RPC cannot take as an empty struct. */
static void set_json_value(xmlrpc_env *env, xmlrpc_value *s, const char *key, const json_t *j)
{
	xmlrpc_env local;
	xmlrpc_value *v;

	xmlrpc_env_init(&local);
	v = j ? proto_from_json(&local, j) : NULL;
	set_member(env, s, key, v ? v : xmlrpc_struct_new(env));
	xmlrpc_env_clean(&local);
}

static void set_json(xmlrpc_env *env, xmlrpc_value *s, const char *key, const char *text)
{
	json_t *j = json_loads(text ? text : "{}", JSON_DECODE_ANY, NULL);

	set_json_value(env, s, key, j);
	json_decref(j);
}

/* vars as a row shows them: long vectors, matrices and strings shortened (proto_brief_vars). */
static void set_brief_vars(xmlrpc_env *env, xmlrpc_value *s, const char *text)
{
	json_t *j = proto_brief_vars_json(text);

	set_json_value(env, s, "vars", j);
	json_decref(j);
}

static xmlrpc_value *tags_value(xmlrpc_env *env, const char *text)
{
	xmlrpc_value *tags = xmlrpc_array_new(env);

	if (text) {
		char *copy = xstrdup(text), *save = NULL;

		for (char *tag = strtok_r(copy, ",", &save); tag; tag = strtok_r(NULL, ",", &save))
			append(env, tags, xmlrpc_string_new(env, tag));
		free(copy);
	}
	return tags;
}

/* A task's whole record; brief: its vars as a row shows them. */
static xmlrpc_value *task_record(xmlrpc_env *env, const struct engine *e, const struct task *t, bool brief)
{
	xmlrpc_value *v = xmlrpc_struct_new(env);

	set_member(env, v, "id", view_id(env, t->id));
	/* Text from the store as it is shown, never refused: a model path stored before simq refused what
	 * XML-RPC cannot carry must not make the task unreadable. */
	set_member(env, v, "name", proto_string_new(env, t->name ? t->name : ""));
	set_member(env, v, "model", proto_string_new(env, t->model));
	set_member(env, v, "priority", xmlrpc_string_new(env, task_priority_name(t->priority)));
	set_member(env, v, "state", xmlrpc_string_new(env, task_state_name(t->state)));
	set_member(env, v, "attempts", xmlrpc_int_new(env, t->attempts));
	set_time(env, v, "submitted", t->submitted);
	set_time(env, v, "retry_due", t->retry_due);
	set_member(env, v, "error", proto_string_new(env, t->error ? t->error : ""));
	if (brief)
		set_brief_vars(env, v, t->vars);
	else
		set_json(env, v, "vars", t->vars);
	/* A cached task's source: lists say "completed (cached from 12)". */
	if (t->cached)
		set_member(env, v, "source", view_id(env, t->source));
	set_member(env, v, "retries", xmlrpc_int_new(env, task_retries(t)));
	set_time(env, v, "started", t->started);
	set_time(env, v, "finished", t->finished);
	set_json(env, v, "solver", t->solver);
	set_member(env, v, "timeout", xmlrpc_double_new(env, t->timeout));
	set_member(env, v, "cached", xmlrpc_bool_new(env, t->cached));
	set_member(env, v, "origin", view_id(env, t->origin));
	set_member(env, v, "retried_as", view_id(env, t->retried_as));
	set_member(env, v, "position",
		   xmlrpc_i8_new(env, t->state == TASK_QUEUED ? queue_position(engine_queue(e), t->id) : -1));
	set_member(env, v, "tags", tags_value(env, t->tags));
	set_member(env, v, "archived", xmlrpc_bool_new(env, t->archived));
	return v;
}

xmlrpc_value *view_task(xmlrpc_env *env, const struct engine *e, const struct task *t)
{
	return task_record(env, e, t, false);
}

xmlrpc_value *view_result(xmlrpc_env *env, int64_t id, const struct store_result *r)
{
	xmlrpc_value *idv = view_id(env, id);
	xmlrpc_value *v = xmlrpc_build_value(env, "{s:V,s:s,s:s,s:I,s:I}", "id", idv, "path", r->path ? r->path : "",
					     "format", r->format ? r->format : "", "points", (xmlrpc_int64)r->points,
					     "signals", (xmlrpc_int64)r->signals);

	xmlrpc_DECREF(idv);
	set_json(env, v, "summary", r->summary);
	set_time(env, v, "evicted", r->evicted);
	/* A result from the cache names the task whose run made its file. */
	set_member(env, v, "cached", xmlrpc_bool_new(env, r->source != 0));
	set_member(env, v, "source", view_id(env, r->source));
	return v;
}

xmlrpc_value *view_cache_why(xmlrpc_env *env, int64_t id, const struct cache_why *w)
{
	xmlrpc_value *v = xmlrpc_struct_new(env), *reasons = xmlrpc_array_new(env);

	for (size_t i = 0; i < w->n; i++)
		append(env, reasons, xmlrpc_string_new(env, w->reasons[i]));
	set_member(env, v, "id", view_id(env, id));
	set_member(env, v, "cached", xmlrpc_bool_new(env, w->source != 0));
	set_member(env, v, "source", view_id(env, w->source));
	set_member(env, v, "nearest", view_id(env, w->nearest));
	set_member(env, v, "reasons", reasons);
	return v;
}

struct attempts_ctx {
	xmlrpc_env *env;
	xmlrpc_value *list;
};

static void add_attempt(const struct store_attempt *a, void *ud)
{
	struct attempts_ctx *x = ud;
	xmlrpc_value *v = xmlrpc_build_value(x->env, "{s:i,s:s,s:I,s:s,s:s}", "n", a->n, "backend",
					     a->backend ? a->backend : "", "batch", (xmlrpc_int64)a->batch_id, "outcome",
					     attempt_outcome_name(a->outcome), "error", a->error ? a->error : "");

	set_time(x->env, v, "started", a->started);
	set_time(x->env, v, "ended", a->ended);
	append(x->env, x->list, v);
}

/* A running task's call: its backend, seconds elapsed, the estimate and the progress. */
static xmlrpc_value *call_value(xmlrpc_env *env, const struct sched_call_info *c)
{
	return xmlrpc_build_value(env, "{s:s,s:I,s:i,s:d,s:d,s:d}", "backend", c->backend, "batch",
				  (xmlrpc_int64)c->batch, "batch_size", (int)c->n, "elapsed", c->elapsed, "estimate",
				  c->estimate, "progress", c->progress);
}

xmlrpc_value *view_get(xmlrpc_env *env, struct engine *e, const struct task *t)
{
	xmlrpc_value *v = view_task(env, e, t);
	struct attempts_ctx attempts = {.env = env, .list = xmlrpc_array_new(env)};
	struct sched_call_info call;
	struct store_result r;

	if (scheduler_call_of(engine_scheduler(e), t->id, &call))
		set_member(env, v, "call", call_value(env, &call));
	/* Every attempt with its error, and the result: what the console's details show. */
	engine_attempts(e, t->id, add_attempt, &attempts);
	set_member(env, v, "attempt_list", attempts.list);
	int64_t *copies = NULL;
	size_t n = 0;
	char *err = NULL;

	if (engine_copies(e, t->id, &copies, &n, &err) == ENGINE_OK)
		set_member(env, v, "copies", view_ids(env, copies, n));
	free(copies);
	free(err);
	if (t->state == TASK_COMPLETED && engine_result(e, t->id, &r) == ENGINE_OK) {
		set_member(env, v, "result", view_result(env, t->id, &r));
		store_result_free(&r);
	}
	return v;
}

static xmlrpc_value *counts_value(xmlrpc_env *env, const struct stats_counts *k)
{
	xmlrpc_value *v = xmlrpc_struct_new(env);
	double rate = stats_success_rate(k), eff = stats_retry_effectiveness(k), per = stats_retries_per_failed(k);

#define X(name) set_member(env, v, #name, xmlrpc_i8_new(env, k->name));
	STATS_COUNTERS(X)
#undef X
	/* -1 where a ratio is undefined (nothing finished yet): XML-RPC has no NaN. */
	set_member(env, v, "success_rate", xmlrpc_double_new(env, isnan(rate) ? -1 : rate));
	set_member(env, v, "retry_effectiveness", xmlrpc_double_new(env, isnan(eff) ? -1 : eff));
	set_member(env, v, "avg_retries_per_failed", xmlrpc_double_new(env, isnan(per) ? -1 : per));
	return v;
}

xmlrpc_value *view_stats(xmlrpc_env *env, const struct engine *e)
{
	struct stats_counts k;
	size_t by_prio[PRIO_COUNT], queued = engine_queued(e, by_prio);
	int64_t now = engine_now_ms(e);
	xmlrpc_value *v, *windows = xmlrpc_struct_new(env), *prio = xmlrpc_struct_new(env);
	static const char *const keys[STATS_WINDOW_COUNT] = {"since_start", "day", "all"};

	for (int w = 0; w < STATS_WINDOW_COUNT; w++) {
		engine_stats(e, (enum stats_window)w, &k);
		set_member(env, windows, keys[w], counts_value(env, &k));
	}
	/* The top level is all time: the numbers an operator reads in the morning. */
	engine_stats(e, STATS_ALL, &k);
	v = counts_value(env, &k);
	set_member(env, v, "queued", xmlrpc_i8_new(env, (xmlrpc_int64)queued));
	set_member(env, v, "running", xmlrpc_i8_new(env, (xmlrpc_int64)engine_running(e)));
	for (int p = 0; p < PRIO_COUNT; p++)
		set_member(env, prio, task_priority_name((enum task_priority)p),
			   xmlrpc_i8_new(env, (xmlrpc_int64)by_prio[p]));
	set_member(env, v, "queued_by_priority", prio);
	set_member(env, v, "windows", windows);
	set_member(env, v, "paused", xmlrpc_bool_new(env, engine_paused(e)));
	set_member(env, v, "pause_reason",
		   xmlrpc_string_new(env, engine_pause_reason(e) ? engine_pause_reason(e) : ""));
	set_member(env, v, "uptime", xmlrpc_double_new(env, (double)(now - engine_started_ms(e)) / 1000.0));
	return v;
}

xmlrpc_value *view_ids(xmlrpc_env *env, const int64_t *ids, size_t n)
{
	xmlrpc_value *out = xmlrpc_array_new(env);

	for (size_t i = 0; i < n; i++)
		append(env, out, view_id(env, ids[i]));
	return out;
}

/* "queued or running": the names of the states in mask (heap). */
static char *states_text(unsigned mask)
{
	struct buf b = BUF_INIT;
	int k = 0, n = __builtin_popcount(mask);

	for (int st = 0; st < TASK_STATE_COUNT; st++)
		if (mask & (1u << st))
			buf_addf(&b, "%s%s", k++ == 0 ? "" : k == n ? " or " : ", ", task_state_name((enum task_state)st));
	return buf_detach(&b);
}

/* Why act left task id in state as it is (heap). */
static char *refusal(int64_t id, const char *state, enum engine_act act, unsigned allowed, const char *what)
{
	char *names = states_text(act == ENGINE_ACT_OTHER_STATE ? allowed : allowed & ENGINE_ACTIVE_STATES);
	char *why = act == ENGINE_ACT_OTHER_STATE
			    ? xasprintf("task %lld is %s now; not %s: only %s tasks were asked for", (long long)id,
					state, what, names)
			    : xasprintf("task %lld is %s; only %s tasks can be %s", (long long)id, state, names, what);

	free(names);
	return why;
}

xmlrpc_value *view_states(xmlrpc_env *env, const int64_t *ids, const enum task_state *states,
			  const struct view_acts *acts, size_t n)
{
	xmlrpc_value *out = xmlrpc_array_new(env);

	for (size_t i = 0; i < n; i++) {
		/* V takes a reference of its own: the id value is released here. */
		xmlrpc_value *id = view_id(env, ids[i]);
		const char *state = states[i] < TASK_STATE_COUNT ? task_state_name(states[i]) : "unknown";
		xmlrpc_value *item = xmlrpc_build_value(env, "{s:V,s:s}", "id", id, "state", state);

		xmlrpc_DECREF(id);
		if (acts) {
			enum engine_act a = acts->act[i];
			bool done = a == ENGINE_ACT_CHANGED || a == ENGINE_ACT_ALREADY;
			char *why = done ? xstrdup("") : refusal(ids[i], state, a, acts->states, acts->what);

			set_member(env, item, "done", xmlrpc_bool_new(env, done));
			set_member(env, item, "changed", xmlrpc_bool_new(env, a == ENGINE_ACT_CHANGED));
			set_member(env, item, "reason", xmlrpc_string_new(env, why));
			free(why);
		}
		append(env, out, item);
	}
	return out;
}

xmlrpc_value *view_retries(xmlrpc_env *env, const struct engine_retry_answer *a, size_t n, bool each)
{
	xmlrpc_value *out = xmlrpc_array_new(env);

	for (size_t i = 0; i < n; i++) {
		xmlrpc_value *id = view_id(env, a[i].id), *copy = view_id(env, a[i].copy), *item;

		if (!each) {
			xmlrpc_array_append_item(env, out, copy);
		} else {
			item = xmlrpc_build_value(env, "{s:V,s:s,s:b,s:s,s:V,s:s,s:b}", "id", id, "state",
						  task_state_name(a[i].state), "done", (xmlrpc_bool)(a[i].reason == NULL),
						  "reason", a[i].reason ? a[i].reason : "", "copy", copy, "copy_state",
						  a[i].copy ? task_state_name(a[i].copy_state) : "", "new",
						  (xmlrpc_bool)a[i].fresh);
			append(env, out, item);
		}
		xmlrpc_DECREF(id);
		xmlrpc_DECREF(copy);
	}
	return out;
}

/* ---- simq.view ------------------------------------------------------------------------ */

struct view_ctx {
	xmlrpc_env *env;
	const struct engine *e;
	xmlrpc_value *list;
	int64_t now;
	const char *server; /* the server's start id */
};

void view_server_id(const struct engine *e, char *out, size_t size)
{
	snprintf(out, size, "%lld-%d", (long long)engine_started_ms(e), (int)getpid());
}

static void add_log_line(const struct log_entry *line, void *ud)
{
	struct view_ctx *x = ud;
	char stamp[TIME_ISO8601_MAX];

	append(x->env, x->list,
	       xmlrpc_build_value(x->env, "{s:I,s:s,s:s,s:I,s:s,s:s}", "seq", (xmlrpc_int64)line->seq, "server",
				  x->server, "time", time_iso8601(stamp, line->time_ms * 1000000, true), "task",
				  (xmlrpc_int64)line->task_id, "severity", log_severity_name(line->severity), "text",
				  line->text));
}

/* A call in flight, as the running pane draws it. */
static void add_call(const struct sched_call_info *c, void *ud)
{
	struct view_ctx *x = ud;
	xmlrpc_value *ids = xmlrpc_array_new(x->env);
	const struct task *head = NULL;
	int cancelled = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct task *t = engine_loaded(x->e, c->ids[i]);

		append(x->env, ids, xmlrpc_i8_new(x->env, c->ids[i]));
		cancelled += t == NULL;
		/* The head (first id still there) is the batch's most urgent task: it stands for the call (none: all
	 * cancelled, and the priority and name are empty). */
		if (head == NULL)
			head = t;
	}
	append(x->env, x->list,
	       xmlrpc_build_value(x->env, "{s:s,s:A,s:I,s:s,s:i,s:d,s:d,s:d,s:i,s:s,s:s,s:s}", "kind", "call", "ids", ids,
				  "batch", (xmlrpc_int64)c->batch, "backend", c->backend, "attempt", c->attempt,
				  "elapsed", c->elapsed, "estimate", c->estimate, "progress", c->progress, "cancelled",
				  cancelled, "model", c->model, "priority",
				  head ? task_priority_name(head->priority) : "", "name",
				  head && head->name ? head->name : ""));
	xmlrpc_DECREF(ids);
}

/* A task waiting for its retry: "retry 2/3 in 8s". */
static void add_retry(const struct task *t, double retry_in, void *ud)
{
	struct view_ctx *x = ud;
	struct sched_totals tot;

	scheduler_totals(engine_scheduler(x->e), &tot);
	append(x->env, x->list,
	       xmlrpc_build_value(x->env, "{s:s,s:I,s:i,s:i,s:d,s:s,s:s,s:s,s:s}", "kind", "retry", "id",
				  (xmlrpc_int64)t->id, "retry", task_retries(t) + 1, "max_retries", tot.max_retries,
				  "retry_in", retry_in, "error", t->error ? t->error : "", "model", t->model, "priority",
				  task_priority_name(t->priority), "name", t->name ? t->name : ""));
}

static void add_backend(const struct sched_backend_info *b, void *ud)
{
	struct view_ctx *x = ud;
	char pool[64], job[64];

	view_pool_of(x->e, b->name, pool, sizeof pool, job, sizeof job);
	append(x->env, x->list,
	       xmlrpc_build_value(x->env, "{s:s,s:s,s:b,s:b,s:b,s:i,s:i,s:i,s:d,s:d,s:d,s:i,s:d,s:s,s:s}", "name", b->name,
				  "url", b->url, "up", (xmlrpc_bool)b->up, "checking", (xmlrpc_bool)b->checking, "paused",
				  (xmlrpc_bool)b->paused, "busy", b->busy, "slots", b->slots, "failures", b->failures,
				  "probe_in", b->probe_in, "downtime", b->downtime, "down_for", b->down_for, "max_batch",
				  b->max_batch, "idle_for", b->idle_for, "pool", pool, "job", job));
}

static void add_model(const struct sched_model_info *m, void *ud)
{
	struct view_ctx *x = ud;

	if (m->calls > 0)
		append(x->env, x->list,
		       xmlrpc_build_value(x->env, "{s:s,s:i,s:d,s:d}", "model", m->model, "calls", m->calls, "mean",
					  m->mean, "p95", m->p95));
}

/* {calls, mean_batch, models: [{model, calls, mean, p95}]}: calls since start and each model's recent times. */
static xmlrpc_value *calls_value(xmlrpc_env *env, const struct engine *e)
{
	struct view_ctx x = {.env = env, .e = e, .list = xmlrpc_array_new(env)};
	struct sched_totals tot;

	scheduler_each_model(engine_scheduler(e), add_model, &x);
	scheduler_totals(engine_scheduler(e), &tot);
	xmlrpc_value *v = xmlrpc_build_value(env, "{s:I,s:d,s:A}", "calls", (xmlrpc_int64)tot.calls, "mean_batch",
					     tot.calls ? (double)tot.cases / (double)tot.calls : 0.0, "models", x.list);

	xmlrpc_DECREF(x.list);
	return v;
}

/*
 * Tasks PLECS ran to an end per minute over the last half hour (the console's sparkline), the rate
 * per hour over the last ten minutes, and the time to drain what is queued and running at that
 * rate (-1: nothing finished lately, no estimate); completions from the cache on their own.
 */
static xmlrpc_value *throughput_value(xmlrpc_env *env, const struct engine *e)
{
	int64_t per_minute[VIEW_RATE_MINUTES], cached[VIEW_RATE_MINUTES];
	xmlrpc_value *list = xmlrpc_array_new(env), *clist = xmlrpc_array_new(env), *v;
	double per_hour, eta, cached_per_hour;

	engine_minutes(e, VIEW_RATE_MINUTES, per_minute, cached);
	for (int i = 0; i < VIEW_RATE_MINUTES; i++) {
		append(env, list, xmlrpc_i8_new(env, (xmlrpc_int64)per_minute[i]));
		append(env, clist, xmlrpc_i8_new(env, (xmlrpc_int64)cached[i]));
	}
	view_rate(e, &per_hour, &eta, &cached_per_hour);
	v = xmlrpc_build_value(env, "{s:A,s:d,s:d,s:A,s:d}", "per_minute", list, "per_hour", per_hour, "eta", eta,
			       "cached_per_minute", clist, "cached_per_hour", cached_per_hour);
	xmlrpc_DECREF(list);
	xmlrpc_DECREF(clist);
	return v;
}

/* Tasks a second over the last minutes of per_minute (the current one, now's, in part) while e was not held. */
static double recent_rate(const struct engine *e, const int64_t *per_minute, int64_t now)
{
	enum { RECENT = 10 };
	int64_t recent = 0;
	int first = -1;

	for (int i = VIEW_RATE_MINUTES - RECENT; i < VIEW_RATE_MINUTES; i++) {
		recent += per_minute[i];
		if (first < 0 && per_minute[i] > 0)
			first = i;
	}
	/*
	 * The span those minutes cover: from the first of them in which a task finished (the counts come
	 * from the store, so a restart does not shorten it), the current minute only in part.
	 */
	double span = first < 0 ? 0 : (double)(now % 60000) / 1000 + 60.0 * (VIEW_RATE_MINUTES - 1 - first);

	/* Time nothing could finish in (paused, or idle) is no time the queue drained in: no ETA is stretched by it. */
	if (span > 0)
		span -= (double)engine_held_ms(e, now - (int64_t)(span * 1000), now) / 1000;
	if (first >= 0 && span < 10)
		span = 10; /* a task in the first second of a minute is not 3,600 an hour */
	return span > 0 ? (double)recent / span : 0;
}

void view_rate(const struct engine *e, double *per_hour, double *eta, double *cached_per_hour)
{
	int64_t per_minute[VIEW_RATE_MINUTES], cached[VIEW_RATE_MINUTES], now = engine_now_ms(e);

	engine_minutes(e, VIEW_RATE_MINUTES, per_minute, cached);
	/* The ETA is of PLECS's work: a run answered from the cache takes no time and says nothing of it. */
	double rate = recent_rate(e, per_minute, now);
	double left = (double)(engine_queued(e, NULL) + engine_running(e));

	*per_hour = rate * 3600;
	*eta = rate > 0 ? left / rate : left > 0 ? -1.0 : 0.0;
	if (cached_per_hour)
		*cached_per_hour = recent_rate(e, cached, now) * 3600;
}

/* A list filled by one of the iterators above. */
static xmlrpc_value *each(xmlrpc_env *env, const struct engine *e, void (*fill)(struct view_ctx *x))
{
	struct view_ctx x = {.env = env, .e = e, .list = xmlrpc_array_new(env)};

	fill(&x);
	return x.list;
}

static void fill_running(struct view_ctx *x)
{
	/* Calls in flight: progress is elapsed over the model's running mean, an estimate below 100 %. */
	scheduler_each_call(engine_scheduler(x->e), add_call, x);
	scheduler_each_retry(engine_scheduler(x->e), add_retry, x);
}

static void fill_backends(struct view_ctx *x)
{
	scheduler_each_backend(engine_scheduler(x->e), add_backend, x);
}

xmlrpc_value *view_backends(xmlrpc_env *env, const struct engine *e)
{
	return each(env, e, fill_backends);
}

/* What a simq.list page holds so far: VIEW_PAGE_BYTES bounds it. */
struct page_room {
	size_t bytes;
	bool full, brief;
};

/* The bytes of JSON t's record carries in vars and solver; brief: its vars as a row shows them. */
static size_t record_bytes(const struct task *t, bool brief)
{
	size_t vars = t->vars ? strlen(t->vars) : 0, solver = t->solver ? strlen(t->solver) : 0;

	/* Short vars are short either way: only long ones are measured as a row shows them. */
	if (brief && vars > VIEW_PAGE_BYTES / VIEW_MAX_PAGE) {
		char *text = proto_brief_vars(t->vars);

		vars = text ? strlen(text) : vars;
		free(text);
	}
	return vars + solver;
}

/* Whether t fits on the page (the first task always does); false once one did not. */
static bool page_takes(struct page_room *room, const struct task *t)
{
	size_t bytes = record_bytes(t, room->brief);

	if (room->full ||
	    (room->bytes > 0 && (room->bytes >= VIEW_PAGE_BYTES || bytes > VIEW_PAGE_BYTES - room->bytes))) {
		room->full = true;
		return false;
	}
	room->bytes += bytes ? bytes : 1;
	return true;
}

struct page_ctx {
	xmlrpc_env *env;
	const struct engine *e;
	xmlrpc_value *list;
	struct page_room room;
};

static void add_queued(const struct task *t, int64_t position, void *ud)
{
	struct page_ctx *x = ud;

	(void)position; /* a whole record has its position */
	if (page_takes(&x->room, t))
		append(x->env, x->list, task_record(x->env, x->e, t, x->room.brief));
}

/* A page of the queue in its order, whole records (simq.list's); NULL and *err if the store failed. */
static xmlrpc_value *queue_page_value(xmlrpc_env *env, struct engine *e, int64_t offset, int64_t limit, bool brief,
				      char **err)
{
	struct page_ctx x = {.env = env, .e = e, .list = xmlrpc_array_new(env), .room = {.brief = brief}};

	if (engine_queue_page(e, (size_t)offset, (size_t)limit, add_queued, &x, err) != ENGINE_OK) {
		xmlrpc_DECREF(x.list);
		return NULL;
	}
	return x.list;
}

/* A backend as a status line needs it: whether it is DOWN. */
static void add_backend_brief(const struct sched_backend_info *b, void *ud)
{
	struct view_ctx *x = ud;

	append(x->env, x->list,
	       xmlrpc_build_value(x->env, "{s:s,s:b,s:b,s:b}", "name", b->name, "up", (xmlrpc_bool)b->up, "checking",
				  (xmlrpc_bool)b->checking, "paused", (xmlrpc_bool)b->paused));
}

xmlrpc_value *view_status(xmlrpc_env *env, const struct engine *e)
{
	struct view_ctx x = {.env = env, .e = e, .list = xmlrpc_array_new(env)};
	struct stats_counts day;
	uint64_t failures, seen;

	engine_stats(e, STATS_DAY, &day);
	engine_failures(e, &failures, &seen);
	scheduler_each_backend(engine_scheduler(e), add_backend_brief, &x);
	xmlrpc_value *v = xmlrpc_build_value(
		env, "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s,s:A,s:I}", "version", (xmlrpc_int64)engine_version(e), "queued",
		(xmlrpc_int64)engine_queued(e, NULL), "running", (xmlrpc_int64)engine_running(e), "failed",
		(xmlrpc_int64)day.failed, "completed", (xmlrpc_int64)(day.completed_first + day.completed_retry),
		"failures", (xmlrpc_int64)failures, "failures_seen", (xmlrpc_int64)seen, "paused",
		(xmlrpc_bool)engine_paused(e), "pause_reason", engine_pause_reason(e) ? engine_pause_reason(e) : "",
		"backends", x.list, "last_id", (xmlrpc_int64)engine_last_id(e));

	xmlrpc_DECREF(x.list);
	set_member(env, v, "pools", view_pools(env, e));
	return v;
}

xmlrpc_value *view_console(xmlrpc_env *env, struct engine *e, const struct view_request *req, struct view_rows **out)
{
	struct view_rows *rows = *out = xcalloc(1, sizeof *rows);
	xmlrpc_value *v = xmlrpc_struct_new(env);
	char id[64];
	struct view_ctx log = {.env = env, .e = e, .list = xmlrpc_array_new(env), .server = id};
	char *err = NULL;

	view_server_id(e, id, sizeof id);
	if (req->log_since >= 0)
		engine_log_since(e, (uint64_t)req->log_since, add_log_line, &log);
	set_member(env, v, "server_id", xmlrpc_string_new(env, id));
	set_member(env, v, "version", xmlrpc_i8_new(env, (xmlrpc_int64)engine_version(e)));
	char hash[VIEW_HASH_SIZE];

	/* A store that cannot be read leaves the queue pane empty this once; the log says why. */
	if (!view_rows_queue(e, req->queue_offset, req->queue_limit, req->queue_since, hash, &rows->queue, &err)) {
		engine_log(e, SEVERITY_ERROR, 0, "simq.view: %s", err);
		free(err);
		err = NULL;
	}
	set_member(env, v, "queue_hash", xmlrpc_string_new(env, hash));
	set_member(env, v, "queue_total", xmlrpc_i8_new(env, (xmlrpc_int64)engine_queued(e, NULL)));
	/* Where the task under a console's cursor went: it follows its task, not a row. */
	if (req->focus > 0)
		set_member(env, v, "focus",
			   xmlrpc_build_value(env, "{s:I,s:I}", "id", (xmlrpc_int64)req->focus, "position",
					      (xmlrpc_int64)queue_position(engine_queue(e), req->focus)));
	set_member(env, v, "running", each(env, e, fill_running));
	set_member(env, v, "log", log.list);
	set_member(env, v, "log_seq", xmlrpc_i8_new(env, (xmlrpc_int64)engine_log_seq(e)));
	set_member(env, v, "stats", view_stats(env, e));
	set_member(env, v, "backends", each(env, e, fill_backends));
	set_member(env, v, "pool_instances", view_pool_instances(env, e));
	set_member(env, v, "pools", view_pools(env, e));
	set_member(env, v, "paused", xmlrpc_bool_new(env, engine_paused(e)));
	set_member(env, v, "pause_reason",
		   xmlrpc_string_new(env, engine_pause_reason(e) ? engine_pause_reason(e) : ""));
	set_member(env, v, "state_dir", xmlrpc_string_new(env, req->state_dir));
	set_member(env, v, "throughput", throughput_value(env, e));
	set_member(env, v, "alerts", xmlrpc_i8_new(env, (xmlrpc_int64)engine_alerts(e)));
	set_member(env, v, "calls", calls_value(env, e));
	if (req->history > 0) {
		if (!view_rows_history(e, req->history_state, req->history_offset, req->history, req->history_since, hash,
				       &rows->history, &err)) {
			engine_log(e, SEVERITY_ERROR, 0, "simq.view: %s", err);
			free(err);
		}
		set_member(env, v, "history_hash", xmlrpc_string_new(env, hash));
	}
	set_member(env, v, "status", view_status(env, e));
	return v;
}

/* ---- simq.list ------------------------------------------------------------------------ */

static bool has_tag(const char *tags, const char *tag)
{
	size_t len = strlen(tag);

	for (const char *p = tags; p && *p;) {
		if (strncmp(p, tag, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static bool matches(const struct task *t, const struct view_filter *f)
{
	if (f->state >= 0 && (int)t->state != f->state)
		return false;
	if (f->model && !match_model(t->model, f->model))
		return false;
	if (f->name && !match_text(t->name, f->name))
		return false;
	if (f->retried >= 0 && (t->retried_as != 0) != f->retried)
		return false;
	return f->tag == NULL || has_tag(t->tags, f->tag);
}

struct list_ctx {
	struct engine *e;
	const struct view_filter *f;
	xmlrpc_env *env;
	xmlrpc_value *tasks;
	int64_t skip, limit, total;
	struct page_room room;
};

static void list_one(struct task *t, void *ud)
{
	struct list_ctx *l = ud;

	if (matches(t, l->f)) {
		if (l->skip > 0) {
			l->skip--;
		} else if (l->limit > 0 && page_takes(&l->room, t)) {
			append(l->env, l->tasks, task_record(l->env, l->e, t, l->room.brief));
			l->limit--;
		}
		l->total++;
	}
	task_free(&t);
}

xmlrpc_value *view_list(xmlrpc_env *env, struct engine *e, const struct view_filter *f, int64_t offset, int64_t limit,
			char **err)
{
	struct list_ctx l = {.e = e, .f = f, .env = env, .tasks = xmlrpc_array_new(env), .skip = offset,
			     .limit = limit, .room = {.brief = f->brief}};

	if (f->state == TASK_QUEUED && (f->from & STORE_HOT) && !f->model && !f->name && !f->tag && f->retried != 1) {
		/* The queue in its order, a page at any offset. */
		xmlrpc_DECREF(l.tasks);
		l.tasks = queue_page_value(env, e, offset, limit, f->brief, err);
		if (l.tasks == NULL)
			return NULL;
		l.total = (int64_t)engine_queued(e, NULL);
	} else if (engine_each_task(e, f->from, f->state, list_one, &l, err) != ENGINE_OK) {
		xmlrpc_DECREF(l.tasks);
		return NULL;
	}
	xmlrpc_value *out = xmlrpc_build_value(env, "{s:I,s:I,s:A}", "total", (xmlrpc_int64)l.total, "offset",
					       (xmlrpc_int64)offset, "tasks", l.tasks);

	xmlrpc_DECREF(l.tasks);
	return out;
}
