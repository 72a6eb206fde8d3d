#include "autoconf.h"

#include "server/api.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "server/clean.h"
#include "server/result.h"
#include "server/submit.h"
#include "server/validate.h"
#include "server/view.h"
#include "server/view-rows.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Longest a simq.view or simq.wait call may wait before answering anyway. */
#define MAX_WAIT_S VIEW_MAX_WAIT_S
#define MAX_PAGE VIEW_MAX_PAGE

struct api {
	struct ev_loop *loop;
	struct engine *engine;
	char *state_dir;
	struct api_call *parked;    /* simq.view and simq.wait calls waiting for a change */
	uint64_t seen_version;      /* the engine's version parked calls last looked at */
	bool stopping;
	void (*stop)(void *ud);
	void *stop_ud;
};

/* Answers c.  The dispatcher hands it back (on_done) once run() has returned, since the
 * waiting thread may free c as soon as it has it. */
void api_result(struct api_call *c, xmlrpc_value *result)
{
	c->result = result;
	c->done = true;
	ev_timer_stop(c->api->loop, &c->deadline);
}

void api_fault(struct api_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	c->fault = xvasprintf(fmt, ap);
	va_end(ap);
	c->fault_code = code;
	c->done = true;
	if (c->api)
		ev_timer_stop(c->api->loop, &c->deadline);
}

/* ---- the API and its parked calls ------------------------------------------------------ */

struct api *api_new(struct ev_loop *loop, struct engine *e, const char *state_dir, void (*stop)(void *ud), void *ud)
{
	struct api *a = xcalloc(1, sizeof *a);

	a->loop = loop;
	a->engine = e;
	a->state_dir = xstrdup(state_dir);
	a->stop = stop;
	a->stop_ud = ud;
	return a;
}

void api_free(struct api **ap)
{
	if (*ap == NULL)
		return;
	api_drop_parked(*ap);
	free((*ap)->state_dir);
	xfree(ap);
}

void api_stop(struct api *a)
{
	a->stopping = true;
}

bool api_stopping(const struct api *a)
{
	return a->stopping;
}

struct engine *api_engine(const struct api *a)
{
	return a->engine;
}

static void api_view(struct api *a, struct api_call *c);

void api_run(struct api *a, struct api_call *c)
{
	c->api = a;
	/* A console still gets its view (at once) while the server stops: the log's last lines. */
	if (a->stopping && c->method->run != api_view)
		api_fault(c, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
	else
		c->method->run(a, c);
	/* Not done: parked, answered later by api_wake_if_changed. */
	if (c->done)
		c->on_done(c);
}

static void wake_parked(struct api *a)
{
	struct api_call *list = a->parked;

	a->parked = NULL;
	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->next = NULL;
		/* Stopping: a console gets its last view; a waiter learns that the server stops, as before. */
		if (a->stopping && c->method->run != api_view)
			api_fault(c, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
		else
			c->method->run(a, c);
		if (c->done)
			c->on_done(c);
	}
}

void api_wake_if_changed(struct api *a)
{
	uint64_t version = engine_version(a->engine);

	if (a->parked && a->seen_version != version)
		wake_parked(a);
	a->seen_version = version;
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct api_call *c = w->data;

	c->expired = true;
	wake_parked(c->api);
}

void api_park(struct api_call *c, double wait_s)
{
	struct api *a = c->api;

	c->next = a->parked;
	a->parked = c;
	if (!ev_is_active(&c->deadline)) {
		ev_timer_init(&c->deadline, deadline_cb, wait_s, 0);
		c->deadline.data = c;
		ev_timer_start(a->loop, &c->deadline);
	}
}

void api_drop_parked(struct api *a)
{
	while (a->parked) {
		struct api_call *c = a->parked;

		a->parked = c->next;
		api_fault(c, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
		c->on_done(c);
	}
}

bool api_unpark(struct api *a, struct api_call *c, int code, const char *why)
{
	for (struct api_call **p = &a->parked; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			c->next = NULL;
			if (c->abandon)
				c->abandon(c, why);
			api_fault(c, code, "%s", why);
			c->on_done(c);
			return true;
		}
	}
	return false;
}

/* ---- parameters --------------------------------------------------------------------- */

static int param_count(struct api_call *c)
{
	xmlrpc_env env;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, c->params);
	xmlrpc_env_clean(&env);
	return n;
}

static bool check_count(struct api_call *c, int min, int max, const char *usage)
{
	int n = param_count(c);

	if (n >= min && n <= max)
		return true;
	api_fault(c, PROTO_FAULT_INVALID, "%s takes %s; it got %d argument%s", c->method->name, usage, n, n == 1 ? "" : "s");
	return false;
}

/* A fault about v, an argument or an item of one, naming it and showing it: "simq.list: offset -1: ...". */
static void __attribute__((format(printf, 4, 5)))
bad_value(struct api_call *c, const char *what, xmlrpc_value *v, const char *fmt, ...)
{
	char *shown = v ? proto_shown(v) : xstrdup("(none)"), *rule;
	va_list ap;

	va_start(ap, fmt);
	rule = xvasprintf(fmt, ap);
	va_end(ap);
	api_fault(c, PROTO_FAULT_INVALID, "%s: %s %s: %s", c->method->name, what, shown, rule);
	free(rule);
	free(shown);
}

/* Borrowed reference to argument i (the params array keeps it alive). */
static xmlrpc_value *param(struct api_call *c, int i)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;

	xmlrpc_env_init(&env);
	xmlrpc_array_read_item(&env, c->params, i, &v);
	xmlrpc_env_clean(&env);
	if (v)
		xmlrpc_DECREF(v);
	return v;
}

/* Task ids: one id or an array of them, each known to the server; a fault otherwise. */
static int64_t *param_ids(struct api_call *c, int i, size_t *n)
{
	xmlrpc_value *v = param(c, i);
	xmlrpc_env env;
	int64_t *ids;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_ARRAY) {
		ids = xmalloc(sizeof *ids);
		*n = 1;
		if (!proto_read_int64(v, &ids[0])) {
			bad_value(c, "ids", v, "allowed: a task id or an array of them");
			free(ids);
			return NULL;
		}
	} else {
		*n = (size_t)xmlrpc_array_size(&env, v);
		ids = xcalloc(*n ? *n : 1, sizeof *ids);
		for (size_t k = 0; k < *n; k++) {
			xmlrpc_value *item;

			xmlrpc_array_read_item(&env, v, (int)k, &item);
			bool ok = !env.fault_occurred && proto_read_int64(item, &ids[k]);

			if (!ok) {
				char what[48];

				snprintf(what, sizeof what, "ids: item %zu", k + 1);
				bad_value(c, what, env.fault_occurred ? NULL : item, "not a task id (a whole number)");
			}
			if (!env.fault_occurred)
				xmlrpc_DECREF(item);
			if (!ok) {
				free(ids);
				xmlrpc_env_clean(&env);
				return NULL;
			}
		}
	}
	xmlrpc_env_clean(&env);
	if (*n == 0) {
		bad_value(c, "ids", v, "give at least one task id");
		free(ids);
		return NULL;
	}
	return ids;
}

/* Answers with v, or with a fault when building it failed. */
static void finish_value(struct api_call *c, xmlrpc_env *env, xmlrpc_value *v)
{
	if (env->fault_occurred) {
		if (v)
			xmlrpc_DECREF(v);
		api_fault(c, PROTO_FAULT_STORE, "building the answer: %s", env->fault_string);
	} else {
		api_result(c, v);
	}
	xmlrpc_env_clean(env);
}

/* Answers with the engine's message; frees it. */
static void engine_fault(struct api_call *c, enum engine_status st, char *err)
{
	api_fault(c, view_fault_of(st), "%s", err ? err : "failed");
	free(err);
}

/* Answers [{id, state}] for ids, or the engine's fault when st is not ENGINE_OK (err is freed). */
static void answer_states(struct api_call *c, enum engine_status st, char *err, const int64_t *ids,
			  const enum task_state *states, size_t n)
{
	xmlrpc_env env;

	if (st != ENGINE_OK) {
		engine_fault(c, st, err);
		return;
	}
	xmlrpc_env_init(&env);
	finish_value(c, &env, view_states(&env, ids, states, NULL, n));
}

/* ---- methods -------------------------------------------------------------------------- */

/* Answers with what submit.c or clean.c made of a call: its value, or its fault. */
static void answer(struct api_call *c, struct submit_answer *ans)
{
	if (ans->fault)
		api_fault(c, ans->fault_code, "%s", ans->fault);
	else
		api_result(c, ans->result);
	free(ans->fault);
}

/* simq.submit and simq.submit_many: submit.c reads them; the answer goes back as it came. */
static void submit_tasks(struct api *a, struct api_call *c, bool many)
{
	struct submit_answer ans;

	submit_call(a->engine, c->params, many, &ans);
	answer(c, &ans);
}

/* simq.clean: clean.c reads its filter and makes one engine call (DESIGN 7). */
static void api_clean(struct api *a, struct api_call *c)
{
	struct submit_answer ans;

	clean_call(a->engine, c->params, &ans);
	answer(c, &ans);
}

static void api_submit(struct api *a, struct api_call *c)
{
	if (check_count(c, 1, 2, "one task struct and an optional request key"))
		submit_tasks(a, c, false);
}

static void api_submit_many(struct api *a, struct api_call *c)
{
	if (check_count(c, 1, 2, "one array of task structs and an optional request key"))
		submit_tasks(a, c, true);
}

/* Argument 0, a task id; max: the most arguments the method takes (simq.result's "csv" is 2). */
static bool read_one_id(struct api_call *c, int max, int64_t *id)
{
	if (!check_count(c, 1, max, max == 1 ? "one task id" : "one task id and an optional \"csv\""))
		return false;
	if (!proto_read_int64(param(c, 0), id)) {
		bad_value(c, "id", param(c, 0), "allowed: a task id (a whole number)");
		return false;
	}
	return true;
}

/* The task of a method that takes one id (*owned: free it after); NULL after a fault. */
static const struct task *find_one(struct api *a, struct api_call *c, int max, struct task **owned)
{
	int64_t id;
	const struct task *t;
	char *err = NULL;

	*owned = NULL;
	if (!read_one_id(c, max, &id))
		return NULL;
	enum engine_status st = engine_find(a->engine, id, &t, owned, &err);

	if (st != ENGINE_OK) {
		engine_fault(c, st, err);
		return NULL;
	}
	return t;
}

static void api_get(struct api *a, struct api_call *c)
{
	struct task *owned;
	const struct task *t = find_one(a, c, 1, &owned);
	xmlrpc_env env;

	if (t == NULL)
		return;
	xmlrpc_env_init(&env);
	finish_value(c, &env, view_get(&env, a->engine, t));
	task_free(&owned);
}

/* simq.cache_why(id): whose result a task reused, or what in its key differs from the nearest stored run. */
static void api_cache_why(struct api *a, struct api_call *c)
{
	int64_t id;
	struct cache_why why;
	char *err = NULL;
	xmlrpc_env env;

	if (!read_one_id(c, 1, &id))
		return;
	enum engine_status st = engine_cache_why(a->engine, id, &why, &err);

	if (st != ENGINE_OK) {
		engine_fault(c, st, err);
		return;
	}
	xmlrpc_env_init(&env);
	finish_value(c, &env, view_cache_why(&env, id, &why));
	cache_why_free(&why);
}

/* Argument i, when given: the options struct the method takes; false after a fault. */
static bool read_options(struct api_call *c, int i, unsigned takes, struct validate_act_options *o)
{
	char *err = NULL;

	if (validate_act_options(param_count(c) > i ? param(c, i) : NULL, takes, o, &err))
		return true;
	api_fault(c, PROTO_FAULT_INVALID, "%s: %s", c->method->name, err);
	free(err);
	return false;
}

/*
 * simq.cancel (prio NULL) and simq.reprioritize: reads the ids of argument 0 and the options
 * {states} of argument opt, acts and answers with the states, and for each whether it is as asked:
 * only an active task in the states allowed (at the moment of acting) changes; any other is
 * refused by name.
 */
static void on_ids(struct api *a, struct api_call *c, int opt, const enum task_priority *prio, const char *what)
{
	size_t n;
	int64_t *ids;
	char *err = NULL;
	struct validate_act_options o;

	if (!read_options(c, opt, VALIDATE_ACT_STATES, &o) || (ids = param_ids(c, 0, &n)) == NULL)
		return;
	enum task_state *after = xcalloc(n, sizeof *after);
	enum engine_act *act = xcalloc(n, sizeof *act);
	struct view_acts acts = {act, o.has_states ? o.states : ENGINE_ACTIVE_STATES, what};
	enum engine_status st = prio ? engine_reprioritize_in(a->engine, ids, n, *prio, acts.states, after, act, &err)
				     : engine_cancel_in(a->engine, ids, n, acts.states, after, act, &err);
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	if (st != ENGINE_OK)
		engine_fault(c, st, err);
	else
		finish_value(c, &env, view_states(&env, ids, after, &acts, n));
	free(act);
	free(after);
	free(ids);
}

static void api_cancel(struct api *a, struct api_call *c)
{
	if (check_count(c, 1, 2, "a task id or an array of them, and an optional {states: [...]}"))
		on_ids(a, c, 1, NULL, "cancelled");
}

static void api_reprioritize(struct api *a, struct api_call *c)
{
	enum task_priority prio;
	char *err = NULL;

	if (!check_count(c, 2, 3, "task ids, a priority and an optional {states: [...]}"))
		return;
	if (!validate_priority(param(c, 1), &prio, &err)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.reprioritize: %s", err);
		free(err);
		return;
	}
	on_ids(a, c, 2, &prio, "given another priority");
}

static void api_retry(struct api *a, struct api_call *c)
{
	size_t n, m;
	int64_t *ids;
	char *err = NULL;
	struct validate_act_options o;

	if (!check_count(c, 1, 2, "a task id or an array of them, and an optional {each: true}") ||
	    !read_options(c, 1, VALIDATE_ACT_EACH, &o) || (ids = param_ids(c, 0, &n)) == NULL)
		return;
	struct engine_retry_answer *answers = xcalloc(n, sizeof *answers);
	enum engine_status st = engine_retry(a->engine, ids, n, o.each, answers, &m, &err);
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	if (st != ENGINE_OK) {
		engine_fault(c, st, err);
	} else {
		finish_value(c, &env, view_retries(&env, answers, m, o.each));
		engine_retry_answers_free(answers, m);
	}
	free(answers);
	free(ids);
}

static void api_list(struct api *a, struct api_call *c)
{
	struct view_filter f;
	int64_t offset = 0, limit = 100;
	xmlrpc_env env;
	char *err = NULL;

	if (!check_count(c, 0, 3, "(filter, offset, limit), all optional"))
		return;
	if (!view_read_filter(param_count(c) >= 1 ? param(c, 0) : NULL, &f, &err)) {
		api_fault(c, PROTO_FAULT_INVALID, "%s", err);
		free(err);
		goto out;
	}
	if (param_count(c) >= 2 && (!proto_read_int64(param(c, 1), &offset) || offset < 0)) {
		bad_value(c, "offset", param(c, 1), "allowed: a whole number from 0");
		goto out;
	}
	if (param_count(c) >= 3 && (!proto_read_int64(param(c, 2), &limit) || limit < 0 || limit > MAX_PAGE)) {
		bad_value(c, "limit", param(c, 2), "allowed: a whole number from 0 to %d", MAX_PAGE);
		goto out;
	}
	xmlrpc_env_init(&env);
	xmlrpc_value *v = view_list(&env, a->engine, &f, offset, limit, &err);

	if (v == NULL) {
		xmlrpc_env_clean(&env);
		engine_fault(c, ENGINE_STORE, err);
	} else {
		finish_value(c, &env, v);
	}
out:
	free(f.model);
	free(f.name);
	free(f.tag);
}

static void api_stats(struct api *a, struct api_call *c)
{
	xmlrpc_env env;

	if (!check_count(c, 0, 0, "no arguments"))
		return;
	xmlrpc_env_init(&env);
	finish_value(c, &env, view_stats(&env, a->engine));
}

/* A status line's counts, never a page (tmux asks every few seconds); seen: failures the caller showed, -1 all. */
static void api_status(struct api *a, struct api_call *c)
{
	int64_t seen = -2;
	xmlrpc_env env;

	if (!check_count(c, 0, 1, "an optional count of failures seen"))
		return;
	if (param_count(c) == 1 && (!proto_read_int64(param(c, 0), &seen) || seen < -1)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.status: seen is a count of failures from 0, or -1 for all");
		return;
	}
	if (seen >= -1)
		engine_failures_seen(a->engine, seen < 0 ? UINT64_MAX : (uint64_t)seen);
	xmlrpc_env_init(&env);
	finish_value(c, &env, view_status(&env, a->engine));
}

/* One call for everything a console draws; waits up to wait_ms when the caller is up to date. */
/* Connection thread: the view's answer written with its rows (server/view-rows.h). */
static void finish_view(struct api_call *c)
{
	c->result = view_rows_finish(c->result, c->finish_data);
	c->finish_data = NULL;
}

static void api_view(struct api *a, struct api_call *c)
{
	struct view_request r = {.queue_limit = 50, .log_since = -1, .history_state = -1, .state_dir = a->state_dir};
	int64_t version = -1;
	double wait_ms = 0;
	xmlrpc_env env;
	char *err = NULL;

	if (!check_count(c, 0, 1, "an optional request struct"))
		return;
	if (param_count(c) == 1 && !view_read_request(param(c, 0), &r, &version, &wait_ms, &err)) {
		api_fault(c, PROTO_FAULT_INVALID, "%s", err);
		free(err);
		return;
	}
	/* Up to date and willing to wait: answer at the next change or at the deadline. */
	if (version == (int64_t)engine_version(a->engine) && wait_ms > 0 && !c->expired && !a->stopping) {
		api_park(c, wait_ms / 1000.0);
		return;
	}
	struct view_rows *rows;

	xmlrpc_env_init(&env);
	finish_value(c, &env, view_console(&env, a->engine, &r, &rows));
	c->finish = finish_view;
	c->finish_data = rows;
}

/* simq.wait's timeout in seconds (argument 1), 0 when absent; false after a fault. */
static bool read_wait_timeout(struct api_call *c, double *timeout)
{
	int64_t whole;
	xmlrpc_env env;

	*timeout = 0;
	if (param_count(c) < 2)
		return true;
	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(param(c, 1)) == XMLRPC_TYPE_DOUBLE)
		xmlrpc_read_double(&env, param(c, 1), timeout);
	else if (proto_read_int64(param(c, 1), &whole))
		*timeout = (double)whole;
	else
		*timeout = -1;
	xmlrpc_env_clean(&env);
	if (!(*timeout >= 0 && *timeout <= MAX_WAIT_S)) {
		bad_value(c, "timeout", param(c, 1), "allowed: 0 to %.0f seconds", MAX_WAIT_S);
		return false;
	}
	return true;
}

/* Waits until every task is final, or the timeout, and at most PROTO_WAIT_SLICE_S (a caller calls
 * again); the first run reads every state (an unknown id: a fault at once), a wake reads none. */
static void api_wait(struct api *a, struct api_call *c)
{
	size_t n;
	int64_t *ids;
	double timeout;
	bool all_final, first = !ev_is_active(&c->deadline) && !c->expired;
	char *err = NULL;

	if (!check_count(c, 1, 2, "task ids and an optional timeout in seconds") || !read_wait_timeout(c, &timeout))
		return;
	ids = param_ids(c, 0, &n);
	if (ids == NULL)
		return;
	bool may_wait = timeout > 0 && !c->expired && !a->stopping;

	if (!first && may_wait && engine_any_active(a->engine, ids, n)) {
		api_park(c, 0);
		free(ids);
		return;
	}
	enum task_state *states = xcalloc(n, sizeof *states);
	enum engine_status st = engine_states(a->engine, ids, n, states, &all_final, &err);

	if (st == ENGINE_OK && !all_final && may_wait)
		api_park(c, timeout < PROTO_WAIT_SLICE_S ? timeout : PROTO_WAIT_SLICE_S);
	else
		answer_states(c, st, err, ids, states, n);
	free(states);
	free(ids);
}

/* simq.result's CSV, on the caller's thread once the loop has answered (server/result.h). */
static void add_result_csv(struct api_call *c)
{
	struct result_reply r = {.value = c->result, .later = c->finish_data};

	result_add_csv(&r);
	c->result = r.value;
	c->fault_code = r.fault_code;
	c->fault = r.fault;
}

/* simq.result(id[, "csv"]): "csv" adds the data as the CSV simq writes, a MAT file converted. */
static void api_result_method(struct api *a, struct api_call *c)
{
	struct task *owned;
	const struct task *t = find_one(a, c, 2, &owned);
	struct result_reply r;

	if (t == NULL)
		return;
	if (param_count(c) == 2 && !proto_is_string(param(c, 1), "csv")) {
		bad_value(c, "format", param(c, 1), "allowed: \"csv\" (the data as CSV text), or nothing");
	} else {
		result_answer(a->engine, t, param_count(c) == 2, &r);
		if (r.fault_code) {
			api_fault(c, r.fault_code, "%s", r.fault);
			free(r.fault);
		} else {
			c->finish = r.later ? add_result_csv : NULL;
			c->finish_data = r.later;
			api_result(c, r.value);
		}
	}
	task_free(&owned);
}

static void api_shutdown(struct api *a, struct api_call *c)
{
	xmlrpc_env env;
	xmlrpc_bool force = false;
	char *err = NULL;

	if (!check_count(c, 0, 1, "force, a boolean (optional)"))
		return;
	xmlrpc_env_init(&env);
	if (param_count(c) == 1 && xmlrpc_value_type(param(c, 0)) == XMLRPC_TYPE_BOOL)
		xmlrpc_read_bool(&env, param(c, 0), &force);
	else if (param_count(c) == 1) {
		xmlrpc_env_clean(&env);
		bad_value(c, "force", param(c, 0), "allowed: true or false");
		return;
	}
	/* Changes that wait for a full disk are lost if it stops: the operator decides, knowing it. */
	if (!force && engine_check_saved(a->engine, &err) != ENGINE_OK) {
		api_fault(c, PROTO_FAULT_STORE, "%s: the server keeps running: %s. Stopping now loses them, and PLECS runs "
			  "those tasks again at the next start; make room (they are saved within seconds and dispatch "
			  "resumes), or stop anyway with simq shutdown --force", c->method->name, err);
		free(err);
		xmlrpc_env_clean(&env);
		return;
	}
	finish_value(c, &env, xmlrpc_bool_new(&env, 1));
	a->stop(a->stop_ud);
}

/* Returns its argument: a connection check, and the floor bench/api measures the API against. */
static void api_echo(struct api *a, struct api_call *c)
{
	xmlrpc_value *v;

	if (!check_count(c, 1, 1, "one value"))
		return;
	v = param(c, 0);
	xmlrpc_INCREF(v);
	api_result(c, v);
}

const struct api_method api_methods[] = {
	{"simq.echo", "simq.echo(value) -> value", api_echo},
	{"simq.submit", "simq.submit(task, [request_key]) -> id", api_submit},
	{"simq.submit_many", "simq.submit_many([task...], [request_key]) -> [id...], all or none", api_submit_many},
	{"simq.get", "simq.get(id) -> task", api_get},
	{"simq.cache_why", "simq.cache_why(id) -> {id, cached, source, nearest, reasons}", api_cache_why},
	{"simq.list", "simq.list(filter, offset, limit) -> {total, offset, tasks}", api_list},
	{"simq.cancel", "simq.cancel(ids[, {states}]) -> [{id, state, done, changed, reason}]", api_cancel},
	{"simq.reprioritize", "simq.reprioritize(ids, priority[, {states}]) -> [{id, state, done, changed, reason}]",
	 api_reprioritize},
	{"simq.retry", "simq.retry(ids[, {each}]) -> [copy id...], or with each [{id, state, done, reason, copy, ...}]",
	 api_retry},
	{"simq.result", "simq.result(id[, \"csv\"]) -> {path, format, points, signals, summary[, csv]}",
	 api_result_method},
	{"simq.wait", "simq.wait(ids, timeout) -> [{id, state}]", api_wait},
	{"simq.stats", "simq.stats() -> counts, success rate, retry effectiveness, queue", api_stats},
	{"simq.view", "simq.view(request) -> what a console draws", api_view},
	{"simq.status", "simq.status([seen]) -> the counts of a status line", api_status},
	{"simq.clean", "simq.clean({older_than, state, model, dry_run}) -> {tasks, ..., files, bytes}", api_clean},
	{"simq.shutdown", "simq.shutdown([force]): stop the server; queued tasks stay queued", api_shutdown},
};
const size_t api_method_count = sizeof api_methods / sizeof api_methods[0];
