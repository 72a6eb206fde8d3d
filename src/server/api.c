#include "autoconf.h"

#include "server/api.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "server/sched.h"
#include "server/server.h"
#include "server/validate.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

/* Longest a simq.view or simq.wait call may wait before answering anyway. */
#define MAX_WAIT_S 3600.0
#define MAX_PAGE 1000

/* Answers c.  The dispatcher hands it back (on_done) once run() has returned, since the
 * waiting thread may free c as soon as it has it. */
void api_result(struct api_call *c, xmlrpc_value *result)
{
	c->result = result;
	c->done = true;
	ev_timer_stop(c->server->loop, &c->deadline);
}

void api_fault(struct api_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	c->fault = xvasprintf(fmt, ap);
	va_end(ap);
	c->fault_code = code;
	c->done = true;
	ev_timer_stop(c->server->loop, &c->deadline);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct api_call *c = w->data;

	c->expired = true;
	api_wake_parked(c->server);
}

void api_park(struct api_call *c, double wait_s)
{
	struct server *s = c->server;

	c->next = s->parked;
	s->parked = c;
	if (!ev_is_active(&c->deadline)) {
		ev_timer_init(&c->deadline, deadline_cb, wait_s, 0);
		c->deadline.data = c;
		ev_timer_start(s->loop, &c->deadline);
	}
}

void api_wake_parked(struct server *s)
{
	struct api_call *list = s->parked;

	s->parked = NULL;
	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->next = NULL;
		c->method->run(s, c);
		if (c->done)
			c->on_done(c);
	}
}

void api_drop_parked(struct server *s)
{
	while (s->parked) {
		struct api_call *c = s->parked;

		s->parked = c->next;
		api_fault(c, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
		c->on_done(c);
	}
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

static bool read_int64(xmlrpc_value *v, int64_t *out)
{
	xmlrpc_env env;
	bool ok = true;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) == XMLRPC_TYPE_INT) {
		int i;

		xmlrpc_read_int(&env, v, &i);
		*out = i;
	} else if (xmlrpc_value_type(v) == XMLRPC_TYPE_I8) {
		xmlrpc_int64 i;

		xmlrpc_read_i8(&env, v, &i);
		*out = i;
	} else if (xmlrpc_value_type(v) == XMLRPC_TYPE_DOUBLE) {
		double d;

		xmlrpc_read_double(&env, v, &d);
		ok = d == floor(d) && fabs(d) < 9e15;
		*out = (int64_t)d;
	} else {
		ok = false;
	}
	ok = ok && !env.fault_occurred;
	xmlrpc_env_clean(&env);
	return ok;
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
		if (!read_int64(v, &ids[0])) {
			api_fault(c, PROTO_FAULT_INVALID, "%s: ids: allowed: a task id or an array of them", c->method->name);
			free(ids);
			return NULL;
		}
	} else {
		*n = (size_t)xmlrpc_array_size(&env, v);
		ids = xcalloc(*n ? *n : 1, sizeof *ids);
		for (size_t k = 0; k < *n; k++) {
			xmlrpc_value *item;

			xmlrpc_array_read_item(&env, v, (int)k, &item);
			bool ok = !env.fault_occurred && read_int64(item, &ids[k]);

			if (!env.fault_occurred)
				xmlrpc_DECREF(item);
			if (!ok) {
				api_fault(c, PROTO_FAULT_INVALID, "%s: ids: item %zu is not a task id", c->method->name, k + 1);
				free(ids);
				xmlrpc_env_clean(&env);
				return NULL;
			}
		}
	}
	xmlrpc_env_clean(&env);
	if (*n == 0) {
		api_fault(c, PROTO_FAULT_INVALID, "%s: give at least one task id", c->method->name);
		free(ids);
		return NULL;
	}
	return ids;
}

/* ---- values ----------------------------------------------------------------------------- */

static xmlrpc_value *id_value(xmlrpc_env *env, int64_t id)
{
	return id <= INT32_MAX ? xmlrpc_int_new(env, (int)id) : xmlrpc_i8_new(env, id);
}

static void set_member(xmlrpc_env *env, xmlrpc_value *s, const char *key, xmlrpc_value *v)
{
	xmlrpc_struct_set_value(env, s, key, v);
	xmlrpc_DECREF(v);
}

static void set_time(xmlrpc_env *env, xmlrpc_value *s, const char *key, int64_t ms)
{
	char stamp[TIME_ISO8601_MAX];

	set_member(env, s, key, xmlrpc_string_new(env, ms ? time_iso8601(stamp, ms * 1000000, true) : ""));
}

static void set_json(xmlrpc_env *env, xmlrpc_value *s, const char *key, const char *text)
{
	json_t *j = json_loads(text ? text : "{}", JSON_DECODE_ANY, NULL);
	xmlrpc_env local;
	xmlrpc_value *v;

	xmlrpc_env_init(&local);
	v = j ? proto_from_json(&local, j) : NULL;
	set_member(env, s, key, v ? v : xmlrpc_struct_new(env));
	xmlrpc_env_clean(&local);
	json_decref(j);
}

/* A task for the API; brief rows (simq.view's queue page) leave out what a console does not draw. */
static xmlrpc_value *task_fields(xmlrpc_env *env, struct server *s, const struct task *t, bool brief)
{
	xmlrpc_value *v = xmlrpc_struct_new(env), *tags = xmlrpc_array_new(env);

	set_member(env, v, "id", id_value(env, t->id));
	set_member(env, v, "name", xmlrpc_string_new(env, t->name ? t->name : ""));
	set_member(env, v, "model", xmlrpc_string_new(env, t->model));
	set_member(env, v, "priority", xmlrpc_string_new(env, task_priority_name(t->priority)));
	set_member(env, v, "state", xmlrpc_string_new(env, task_state_name(t->state)));
	set_member(env, v, "attempts", xmlrpc_int_new(env, t->attempts));
	set_time(env, v, "submitted", t->submitted);
	set_time(env, v, "retry_due", t->retry_due);
	set_member(env, v, "error", xmlrpc_string_new(env, t->error ? t->error : ""));
	set_json(env, v, "vars", t->vars);
	if (!brief) {
		set_member(env, v, "retries", xmlrpc_int_new(env, task_retries(t)));
		set_time(env, v, "started", t->started);
		set_time(env, v, "finished", t->finished);
		set_json(env, v, "solver", t->solver);
		set_member(env, v, "timeout", xmlrpc_double_new(env, t->timeout));
		set_member(env, v, "cached", xmlrpc_bool_new(env, t->cached));
		set_member(env, v, "origin", id_value(env, t->origin));
		set_member(env, v, "position",
			   xmlrpc_i8_new(env, t->state == TASK_QUEUED ? queue_position(s->queue, t->id) : -1));
	}
	if (t->tags) {
		char *copy = xstrdup(t->tags), *save = NULL;

		for (char *tag = strtok_r(copy, ",", &save); tag; tag = strtok_r(NULL, ",", &save)) {
			xmlrpc_value *x = xmlrpc_string_new(env, tag);

			xmlrpc_array_append_item(env, tags, x);
			xmlrpc_DECREF(x);
		}
		free(copy);
	}
	set_member(env, v, "tags", tags);
	return v;
}

static xmlrpc_value *task_value(xmlrpc_env *env, struct server *s, const struct task *t)
{
	return task_fields(env, s, t, false);
}

/* The task, from memory when it is active, else from the store (caller frees *owned). */
static struct task *find_task(struct server *s, struct api_call *c, int64_t id, struct task **owned)
{
	struct task *t = server_task(s, id);

	*owned = NULL;
	if (t)
		return t;
	enum store_status st = store_get(s->store, id, owned);

	if (st == STORE_NOTFOUND)
		api_fault(c, PROTO_FAULT_NOT_FOUND, "no task %lld", (long long)id);
	else if (st != STORE_OK)
		api_fault(c, PROTO_FAULT_STORE, "%s", store_error(s->store));
	return *owned;
}

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

/* ---- methods -------------------------------------------------------------------------- */

static void submit_tasks(struct server *s, struct api_call *c, xmlrpc_value *list, bool many)
{
	xmlrpc_env env;
	size_t n = 1;
	struct task **tasks;
	char *err = NULL;

	xmlrpc_env_init(&env);
	if (many) {
		if (xmlrpc_value_type(list) != XMLRPC_TYPE_ARRAY) {
			api_fault(c, PROTO_FAULT_INVALID, "simq.submit_many takes an array of tasks");
			return;
		}
		n = (size_t)xmlrpc_array_size(&env, list);
		if (n == 0 || n > PROTO_MAX_BATCH) {
			api_fault(c, PROTO_FAULT_INVALID, "simq.submit_many: %zu tasks; allowed: 1 to %d in one call", n,
				  PROTO_MAX_BATCH);
			return;
		}
	}
	struct validate_cache cache = {0};

	tasks = xcalloc(n, sizeof *tasks);
	for (size_t i = 0; i < n; i++) {
		xmlrpc_value *v = list;
		char where[48] = "";

		if (many) {
			xmlrpc_array_read_item(&env, list, (int)i, &v);
			snprintf(where, sizeof where, "task %zu: ", i + 1);
		}
		bool ok = validate_task(v, where, &cache, &tasks[i], &err);

		if (many)
			xmlrpc_DECREF(v);
		if (!ok) {
			/* One bad task: nothing is stored. */
			api_fault(c, PROTO_FAULT_INVALID, "%s", err);
			free(err);
			for (size_t k = 0; k < n; k++)
				task_free(&tasks[k]);
			free(tasks);
			validate_cache_free(&cache);
			xmlrpc_env_clean(&env);
			return;
		}
	}
	validate_cache_free(&cache);
	int64_t now = server_now_ms();

	for (size_t i = 0; i < n; i++)
		tasks[i]->submitted = now;
	enum store_status st = store_submit_many(s->store, tasks, n);

	if (st != STORE_OK) {
		api_fault(c, PROTO_FAULT_STORE, "%s", store_error(s->store));
		for (size_t k = 0; k < n; k++)
			task_free(&tasks[k]);
		free(tasks);
		xmlrpc_env_clean(&env);
		return;
	}
	xmlrpc_value *result = many ? xmlrpc_array_new(&env) : id_value(&env, tasks[0]->id);

	for (size_t i = 0; many && i < n; i++) {
		xmlrpc_value *id = id_value(&env, tasks[i]->id);

		xmlrpc_array_append_item(&env, result, id);
		xmlrpc_DECREF(id);
	}
	server_accept_tasks(s, tasks, n);
	free(tasks);
	finish_value(c, &env, result);
}

static void api_submit(struct server *s, struct api_call *c)
{
	if (check_count(c, 1, 1, "one task struct"))
		submit_tasks(s, c, param(c, 0), false);
}

static void api_submit_many(struct server *s, struct api_call *c)
{
	if (check_count(c, 1, 1, "one array of task structs"))
		submit_tasks(s, c, param(c, 0), true);
}

/* What simq.result answers, and simq.get carries as "result". */
static xmlrpc_value *result_value(xmlrpc_env *env, int64_t id, const struct store_result *r)
{
	xmlrpc_value *idv = id_value(env, id);
	xmlrpc_value *v = xmlrpc_build_value(env, "{s:V,s:s,s:s,s:I,s:I}", "id", idv, "path", r->path ? r->path : "",
					     "format", r->format ? r->format : "", "points", (xmlrpc_int64)r->points,
					     "signals", (xmlrpc_int64)r->signals);

	xmlrpc_DECREF(idv);
	set_json(env, v, "summary", r->summary);
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
	xmlrpc_array_append_item(x->env, x->list, v);
	xmlrpc_DECREF(v);
}

static void api_get(struct server *s, struct api_call *c)
{
	int64_t id;
	struct task *owned, *t;
	xmlrpc_env env;

	if (!check_count(c, 1, 1, "one task id"))
		return;
	if (!read_int64(param(c, 0), &id)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.get: the task id must be an integer");
		return;
	}
	t = find_task(s, c, id, &owned);
	if (t == NULL)
		return;
	xmlrpc_env_init(&env);
	xmlrpc_value *v = task_value(&env, s, t), *call = s->sched ? sched_call_value(&env, s->sched, t->id) : NULL;

	struct attempts_ctx attempts = {.env = &env, .list = xmlrpc_array_new(&env)};
	struct store_result r;

	if (call)
		set_member(&env, v, "call", call);
	/* Every attempt with its error, and the result: what the console's details show. */
	store_attempts(s->store, t->id, add_attempt, &attempts);
	set_member(&env, v, "attempt_list", attempts.list);
	if (t->state == TASK_COMPLETED && store_result_get(s->store, t->id, &r) == STORE_OK) {
		set_member(&env, v, "result", result_value(&env, t->id, &r));
		store_result_free(&r);
	}
	finish_value(c, &env, v);
	task_free(&owned);
}

/* What for_each_task applies: false after a fault; *after gets the task's state once done, since
 * fn may finish the task, which frees it. */
typedef bool (*task_fn)(struct server *s, struct api_call *c, struct task *t, enum task_state *after, void *ud);

/* Applies fn to every task in ids after checking they all exist; answers with their states. */
static void for_each_task(struct server *s, struct api_call *c, int64_t *ids, size_t n, task_fn fn, void *ud)
{
	xmlrpc_env env;
	xmlrpc_value *out;

	for (size_t i = 0; i < n; i++) {
		struct task *owned, *t = find_task(s, c, ids[i], &owned);

		task_free(&owned);
		if (t == NULL)
			return;
	}
	xmlrpc_env_init(&env);
	out = xmlrpc_array_new(&env);
	for (size_t i = 0; i < n; i++) {
		struct task *owned = NULL, *t = server_task(s, ids[i]);

		if (t == NULL && store_get(s->store, ids[i], &owned) == STORE_OK)
			t = owned;
		enum task_state after = t ? t->state : TASK_STATE_COUNT;

		if (t && fn && !fn(s, c, t, &after, ud)) {
			task_free(&owned);
			xmlrpc_DECREF(out);
			xmlrpc_env_clean(&env);
			return;
		}
		/* V takes a reference of its own: the id value is released here. */
		xmlrpc_value *id = id_value(&env, ids[i]);
		xmlrpc_value *item = xmlrpc_build_value(&env, "{s:V,s:s}", "id", id, "state",
							after < TASK_STATE_COUNT ? task_state_name(after) : "unknown");

		xmlrpc_DECREF(id);
		xmlrpc_array_append_item(&env, out, item);
		xmlrpc_DECREF(item);
		task_free(&owned);
	}
	if (fn)
		server_changed(s);
	finish_value(c, &env, out);
}

static bool cancel_one(struct server *s, struct api_call *c, struct task *t, enum task_state *after, void *ud)
{
	char *err = NULL;

	if (task_state_is_final(t->state))
		return true;
	/* A running call cannot be stopped: its attempt ends now, its result will be dropped. */
	bool in_flight = s->sched && sched_in_flight(s->sched, t->id);

	if (!server_finish(s, t, TASK_CANCELLED, in_flight ? ATTEMPT_DISCARDED : ATTEMPT_RUNNING, &err)) {
		api_fault(c, PROTO_FAULT_STORE, "%s", err);
		free(err);
		return false;
	}
	*after = TASK_CANCELLED;
	return true;
}

static void api_cancel(struct server *s, struct api_call *c)
{
	size_t n;
	int64_t *ids;

	if (!check_count(c, 1, 1, "a task id or an array of them"))
		return;
	ids = param_ids(c, 0, &n);
	if (ids)
		for_each_task(s, c, ids, n, cancel_one, NULL);
	free(ids);
}

static bool reprioritize_one(struct server *s, struct api_call *c, struct task *t, enum task_state *after, void *ud)
{
	enum task_priority prio = *(enum task_priority *)ud, old = t->priority;
	struct store_change ch = {.task = t};

	if (task_state_is_final(t->state) || prio == old)
		return true;
	t->priority = prio;
	if (store_commit(s->store, &ch, 1) != STORE_OK) {
		t->priority = old;
		api_fault(c, PROTO_FAULT_STORE, "%s", store_error(s->store));
		return false;
	}
	if (t->state == TASK_QUEUED)
		queue_reprioritize(s->queue, t->id, prio);
	struct event extra = {.old_priority = old};

	server_publish(s, EVENT_REPRIORITIZED, t, &extra);
	return true;
}

static void api_reprioritize(struct server *s, struct api_call *c)
{
	size_t n;
	int64_t *ids;
	enum task_priority prio;
	char *err = NULL;

	if (!check_count(c, 2, 2, "task ids and a priority"))
		return;
	if (!validate_priority(param(c, 1), &prio, &err)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.reprioritize: %s", err);
		free(err);
		return;
	}
	ids = param_ids(c, 0, &n);
	if (ids)
		for_each_task(s, c, ids, n, reprioritize_one, &prio);
	free(ids);
}

static void api_retry(struct server *s, struct api_call *c)
{
	size_t n;
	int64_t *ids;
	struct task **copies;
	xmlrpc_env env;

	if (!check_count(c, 1, 1, "a task id or an array of them"))
		return;
	ids = param_ids(c, 0, &n);
	if (ids == NULL)
		return;
	copies = xcalloc(n, sizeof *copies);
	for (size_t i = 0; i < n; i++) {
		struct task *owned, *t = find_task(s, c, ids[i], &owned);

		if (t && t->state != TASK_FAILED && t->state != TASK_CANCELLED)
			api_fault(c, PROTO_FAULT_STATE, "task %lld is %s; only failed or cancelled tasks can be retried",
				  (long long)ids[i], task_state_name(t->state));
		if (t && !c->done) {
			copies[i] = task_new(t->model, t->vars, t->solver, t->priority);
			task_set_text(&copies[i]->name, t->name);
			task_set_text(&copies[i]->tags, t->tags);
			copies[i]->timeout = t->timeout;
			copies[i]->no_cache = t->no_cache;
			copies[i]->origin = t->id;
			copies[i]->submitted = server_now_ms();
		}
		task_free(&owned);
		if (c->done)
			break;
	}
	if (!c->done && store_submit_many(s->store, copies, n) != STORE_OK)
		api_fault(c, PROTO_FAULT_STORE, "%s", store_error(s->store));
	if (c->done) {
		for (size_t i = 0; i < n; i++)
			task_free(&copies[i]);
	} else {
		xmlrpc_value *out;

		xmlrpc_env_init(&env);
		out = xmlrpc_array_new(&env);
		for (size_t i = 0; i < n; i++) {
			xmlrpc_value *id = id_value(&env, copies[i]->id);

			xmlrpc_array_append_item(&env, out, id);
			xmlrpc_DECREF(id);
		}
		server_accept_tasks(s, copies, n);
		finish_value(c, &env, out);
	}
	free(copies);
	free(ids);
}

struct list_filter {
	int state;              /* -1: any */
	char *model, *name, *tag;
};

static bool matches(const struct task *t, const struct list_filter *f)
{
	if (f->state >= 0 && (int)t->state != f->state)
		return false;
	if (f->model && strstr(t->model, f->model) == NULL)
		return false;
	if (f->name && (t->name == NULL || strstr(t->name, f->name) == NULL))
		return false;
	if (f->tag) {
		size_t len = strlen(f->tag);
		const char *p = t->tags;

		while (p && *p) {
			if (strncmp(p, f->tag, len) == 0 && (p[len] == ',' || p[len] == '\0'))
				return true;
			p = strchr(p, ',');
			p = p ? p + 1 : NULL;
		}
		return false;
	}
	return true;
}

static bool read_filter(struct api_call *c, xmlrpc_value *v, struct list_filter *f)
{
	char *err = NULL;
	json_t *j = proto_to_json(v, &err), *x;
	const char *key;

	memset(f, 0, sizeof *f);
	f->state = -1;
	if (j == NULL || !json_is_object(j)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.list: the filter is a struct with state, model, name or tag");
		free(err);
		json_decref(j);
		return false;
	}
	json_object_foreach(j, key, x)
	{
		enum task_state st;

		if (!json_is_string(x) || json_string_value(x)[0] == '\0') {
			if (json_is_string(x))
				continue;
			api_fault(c, PROTO_FAULT_INVALID, "simq.list: filter.%s must be a string", key);
		} else if (strcmp(key, "state") == 0) {
			if (task_state_parse(json_string_value(x), &st))
				f->state = (int)st;
			else
				api_fault(c, PROTO_FAULT_INVALID, "simq.list: filter.state \"%s\"; allowed: queued, running, "
					  "completed, failed, cancelled", json_string_value(x));
		} else if (strcmp(key, "model") == 0) {
			f->model = xstrdup(json_string_value(x));
		} else if (strcmp(key, "name") == 0) {
			f->name = xstrdup(json_string_value(x));
		} else if (strcmp(key, "tag") == 0) {
			f->tag = xstrdup(json_string_value(x));
		} else {
			api_fault(c, PROTO_FAULT_INVALID, "simq.list: unknown filter \"%s\"; allowed: state, model, name, tag",
				  key);
		}
		if (c->done)
			break;
	}
	json_decref(j);
	return !c->done;
}

struct list_ctx {
	struct server *s;
	const struct list_filter *f;
	xmlrpc_env *env;
	xmlrpc_value *tasks;
	int64_t skip, limit, total;
};

static void list_one(struct task *t, void *ud)
{
	struct list_ctx *l = ud;

	if (matches(t, l->f)) {
		if (l->skip > 0) {
			l->skip--;
		} else if (l->limit > 0) {
			xmlrpc_value *v = task_value(l->env, l->s, t);

			xmlrpc_array_append_item(l->env, l->tasks, v);
			xmlrpc_DECREF(v);
			l->limit--;
		}
		l->total++;
	}
	task_free(&t);
}

static void api_list(struct server *s, struct api_call *c)
{
	struct list_filter f;
	int64_t offset = 0, limit = 100;
	xmlrpc_env env;
	xmlrpc_value *out;

	if (!check_count(c, 0, 3, "(filter, offset, limit), all optional"))
		return;
	if (param_count(c) >= 1 && !read_filter(c, param(c, 0), &f))
		goto out;
	if (param_count(c) == 0)
		read_filter(c, NULL, &f);
	if ((param_count(c) >= 2 && (!read_int64(param(c, 1), &offset) || offset < 0)) ||
	    (param_count(c) >= 3 && (!read_int64(param(c, 2), &limit) || limit < 0 || limit > MAX_PAGE))) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.list: offset is a whole number from 0; limit from 0 to %d",
			  MAX_PAGE);
		goto out;
	}
	xmlrpc_env_init(&env);
	struct list_ctx l = {.s = s, .f = &f, .env = &env, .tasks = xmlrpc_array_new(&env), .skip = offset,
			     .limit = limit};

	if (f.state == TASK_QUEUED && !f.model && !f.name && !f.tag) {
		/* The queue in its order, a page at any offset. */
		struct queue_item items[MAX_PAGE];
		size_t got = queue_page(s->queue, (size_t)offset, (size_t)limit, items);

		for (size_t i = 0; i < got; i++) {
			xmlrpc_value *v = task_value(&env, s, items[i].data);

			xmlrpc_array_append_item(&env, l.tasks, v);
			xmlrpc_DECREF(v);
		}
		l.total = (int64_t)queue_size(s->queue);
	} else if (store_list(s->store, f.state, list_one, &l) != STORE_OK) {
		xmlrpc_DECREF(l.tasks);
		xmlrpc_env_clean(&env);
		api_fault(c, PROTO_FAULT_STORE, "%s", store_error(s->store));
		goto out;
	}
	out = xmlrpc_build_value(&env, "{s:I,s:I,s:A}", "total", (xmlrpc_int64)l.total, "offset", (xmlrpc_int64)offset,
				 "tasks", l.tasks);
	xmlrpc_DECREF(l.tasks);
	finish_value(c, &env, out);
out:
	free(f.model);
	free(f.name);
	free(f.tag);
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

static xmlrpc_value *stats_value(xmlrpc_env *env, struct server *s)
{
	struct stats_counts k;
	int64_t now = server_now_ms();
	xmlrpc_value *v, *windows = xmlrpc_struct_new(env), *prio = xmlrpc_struct_new(env);
	static const char *const keys[STATS_WINDOW_COUNT] = {"since_start", "day", "all"};

	for (int w = 0; w < STATS_WINDOW_COUNT; w++) {
		stats_window(&s->stats, (enum stats_window)w, now, &k);
		set_member(env, windows, keys[w], counts_value(env, &k));
	}
	/* The top level is all time: the numbers an operator reads in the morning. */
	stats_window(&s->stats, STATS_ALL, now, &k);
	v = counts_value(env, &k);
	set_member(env, v, "queued", xmlrpc_i8_new(env, (xmlrpc_int64)queue_size(s->queue)));
	set_member(env, v, "running", xmlrpc_i8_new(env, (xmlrpc_int64)s->running));
	for (int p = 0; p < PRIO_COUNT; p++)
		set_member(env, prio, task_priority_name((enum task_priority)p),
			   xmlrpc_i8_new(env, (xmlrpc_int64)queue_count(s->queue, (enum task_priority)p)));
	set_member(env, v, "queued_by_priority", prio);
	set_member(env, v, "windows", windows);
	set_member(env, v, "paused", xmlrpc_bool_new(env, s->paused));
	set_member(env, v, "uptime", xmlrpc_double_new(env, (double)(now - s->started_ms) / 1000.0));
	return v;
}

static void api_stats(struct server *s, struct api_call *c)
{
	xmlrpc_env env;

	if (!check_count(c, 0, 0, "no arguments"))
		return;
	xmlrpc_env_init(&env);
	finish_value(c, &env, stats_value(&env, s));
}

struct log_ctx {
	xmlrpc_env *env;
	xmlrpc_value *lines;
};

static void add_log_line(uint64_t seq, int64_t time_ms, int64_t task_id, const char *line, void *ud)
{
	struct log_ctx *l = ud;
	char stamp[TIME_ISO8601_MAX];
	xmlrpc_value *v = xmlrpc_build_value(l->env, "{s:I,s:s,s:I,s:s}", "seq", (xmlrpc_int64)seq, "time",
					     time_iso8601(stamp, time_ms * 1000000, true), "task", (xmlrpc_int64)task_id,
					     "text", line);

	xmlrpc_array_append_item(l->env, l->lines, v);
	xmlrpc_DECREF(v);
}

/*
 * Tasks finished per minute over the last half hour (the console's sparkline), the rate per hour
 * over the last ten minutes, and the time to drain what is queued and running at that rate (-1:
 * nothing finished lately, no estimate).
 */
static xmlrpc_value *throughput_value(xmlrpc_env *env, struct server *s)
{
	enum { MINUTES = 30, RECENT = 10 };
	int64_t per_minute[MINUTES], now = server_now_ms(), recent = 0;
	xmlrpc_value *list = xmlrpc_array_new(env), *v;

	stats_minutes(&s->stats, now, MINUTES, per_minute);
	for (int i = 0; i < MINUTES; i++) {
		xmlrpc_value *n = xmlrpc_i8_new(env, (xmlrpc_int64)per_minute[i]);

		xmlrpc_array_append_item(env, list, n);
		xmlrpc_DECREF(n);
		if (i >= MINUTES - RECENT)
			recent += per_minute[i];
	}
	/* The span those minutes cover: the current one only in part, and none before the start. */
	double span = (double)(now % 60000) / 1000 + 60.0 * (RECENT - 1), up = (double)(now - s->started_ms) / 1000;

	if (up < span)
		span = up;
	double rate = span > 0 ? (double)recent / span : 0;
	double left = (double)(queue_size(s->queue) + s->running);

	v = xmlrpc_build_value(env, "{s:A,s:d,s:d}", "per_minute", list, "per_hour", rate * 3600, "eta",
			       rate > 0 ? left / rate : left > 0 ? -1.0 : 0.0);
	xmlrpc_DECREF(list);
	return v;
}

/* One call for everything a console draws; waits up to wait_ms when the caller is up to date. */
static void api_view(struct server *s, struct api_call *c)
{
	char *err = NULL;
	json_t *req = NULL;
	int64_t version = -1, offset = 0, limit = 50, log_since = -1;
	double wait_ms = 0;
	xmlrpc_env env;

	if (!check_count(c, 0, 1, "an optional request struct"))
		return;
	if (param_count(c) == 1) {
		req = proto_to_json(param(c, 0), &err);
		if (req == NULL || !json_is_object(req)) {
			api_fault(c, PROTO_FAULT_INVALID, "simq.view: the request is a struct of version, wait_ms, "
				  "queue_offset, queue_limit, log_since");
			free(err);
			json_decref(req);
			return;
		}
		const char *key;
		json_t *x;

		json_object_foreach(req, key, x)
		{
			int64_t *target = strcmp(key, "version") == 0	     ? &version
					  : strcmp(key, "queue_offset") == 0 ? &offset
					  : strcmp(key, "queue_limit") == 0  ? &limit
					  : strcmp(key, "log_since") == 0    ? &log_since
									     : NULL;

			if (strcmp(key, "wait_ms") == 0 && json_is_number(x)) {
				wait_ms = json_number_value(x);
			} else if (target && json_is_number(x)) {
				*target = (int64_t)json_number_value(x);
			} else {
				api_fault(c, PROTO_FAULT_INVALID, "simq.view: unknown or non-numeric field \"%s\"; allowed: "
					  "version, wait_ms, queue_offset, queue_limit, log_since", key);
				json_decref(req);
				return;
			}
		}
		json_decref(req);
	}
	if (offset < 0 || limit < 0 || limit > MAX_PAGE || wait_ms < 0 || wait_ms > MAX_WAIT_S * 1000) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.view: queue_offset >= 0, queue_limit from 0 to %d, wait_ms from 0 to "
			  "%.0f", MAX_PAGE, MAX_WAIT_S * 1000);
		return;
	}
	/* Up to date and willing to wait: answer at the next change or at the deadline. */
	if (version == (int64_t)s->version && wait_ms > 0 && !c->expired && !s->stopping) {
		api_park(c, wait_ms / 1000.0);
		return;
	}
	xmlrpc_env_init(&env);
	xmlrpc_value *v = xmlrpc_struct_new(&env), *page = xmlrpc_array_new(&env), *running = xmlrpc_array_new(&env);
	struct queue_item items[MAX_PAGE];
	size_t got = queue_page(s->queue, (size_t)offset, (size_t)limit, items);
	struct log_ctx l = {.env = &env, .lines = xmlrpc_array_new(&env)};

	for (size_t i = 0; i < got; i++) {
		xmlrpc_value *t = task_fields(&env, s, items[i].data, true);

		set_member(&env, t, "position", xmlrpc_i8_new(&env, (xmlrpc_int64)(offset + (int64_t)i)));
		xmlrpc_array_append_item(&env, page, t);
		xmlrpc_DECREF(t);
	}
	if (log_since >= 0)
		event_log_since(s->log, (uint64_t)log_since, add_log_line, &l);
	set_member(&env, v, "version", xmlrpc_i8_new(&env, (xmlrpc_int64)s->version));
	set_member(&env, v, "queue", page);
	set_member(&env, v, "queue_total", xmlrpc_i8_new(&env, (xmlrpc_int64)queue_size(s->queue)));
	xmlrpc_DECREF(running);
	set_member(&env, v, "running", s->sched ? sched_running_value(&env, s->sched) : xmlrpc_array_new(&env));
	set_member(&env, v, "log", l.lines);
	set_member(&env, v, "log_seq", xmlrpc_i8_new(&env, (xmlrpc_int64)event_log_last_seq(s->log)));
	set_member(&env, v, "stats", stats_value(&env, s));
	set_member(&env, v, "backends", s->sched ? sched_backends_value(&env, s->sched) : xmlrpc_array_new(&env));
	set_member(&env, v, "paused", xmlrpc_bool_new(&env, s->paused));
	set_member(&env, v, "state_dir", xmlrpc_string_new(&env, s->state_dir));
	set_member(&env, v, "throughput", throughput_value(&env, s));
	set_member(&env, v, "alerts", xmlrpc_i8_new(&env, (xmlrpc_int64)s->alerts));
	if (s->sched)
		set_member(&env, v, "calls", sched_models_value(&env, s->sched));
	finish_value(c, &env, v);
}

/* Waits until every task is final, or the timeout; answers with their states either way. */
static void api_wait(struct server *s, struct api_call *c)
{
	size_t n;
	int64_t *ids;
	double timeout = 0;
	bool all_final = true;

	if (!check_count(c, 1, 2, "task ids and an optional timeout in seconds"))
		return;
	if (param_count(c) == 2) {
		int64_t whole;
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		if (xmlrpc_value_type(param(c, 1)) == XMLRPC_TYPE_DOUBLE)
			xmlrpc_read_double(&env, param(c, 1), &timeout);
		else if (read_int64(param(c, 1), &whole))
			timeout = (double)whole;
		else
			timeout = -1;
		xmlrpc_env_clean(&env);
		if (!(timeout >= 0 && timeout <= MAX_WAIT_S)) {
			api_fault(c, PROTO_FAULT_INVALID, "simq.wait: timeout: allowed: 0 to %.0f seconds", MAX_WAIT_S);
			return;
		}
	}
	ids = param_ids(c, 0, &n);
	if (ids == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct task *owned, *t = find_task(s, c, ids[i], &owned);

		if (t == NULL) {
			free(ids);
			return;
		}
		all_final &= task_state_is_final(t->state);
		task_free(&owned);
	}
	free(ids);
	if (!all_final && timeout > 0 && !c->expired && !s->stopping) {
		api_park(c, timeout);
		return;
	}
	for_each_task(s, c, (ids = param_ids(c, 0, &n)), n, NULL, NULL);
	free(ids);
}

static void api_result_method(struct server *s, struct api_call *c)
{
	int64_t id;
	struct task *owned, *t;
	struct store_result r;

	if (!check_count(c, 1, 1, "one task id"))
		return;
	if (!read_int64(param(c, 0), &id)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.result: the task id must be an integer");
		return;
	}
	t = find_task(s, c, id, &owned);
	if (t == NULL)
		return;
	if (store_result_get(s->store, id, &r) != STORE_OK) {
		api_fault(c, PROTO_FAULT_NOT_FOUND, "task %lld has no result (it is %s)", (long long)id,
			  task_state_name(t->state));
	} else {
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		xmlrpc_value *v = result_value(&env, id, &r);

		store_result_free(&r);
		finish_value(c, &env, v);
	}
	task_free(&owned);
}

static void set_paused(struct server *s, struct api_call *c, bool paused)
{
	xmlrpc_env env;

	if (!check_count(c, 0, 1, "an optional backend name"))
		return;
	if (param_count(c) == 1) {
		const char *name = NULL;
		char *err = NULL;
		xmlrpc_env e;

		xmlrpc_env_init(&e);
		if (xmlrpc_value_type(param(c, 0)) == XMLRPC_TYPE_STRING)
			xmlrpc_read_string(&e, param(c, 0), &name);
		xmlrpc_env_clean(&e);
		if (name == NULL || !sched_set_paused(s->sched, name, paused, &err)) {
			api_fault(c, PROTO_FAULT_INVALID, "%s: %s", c->method->name, err ? err : "the backend is a name");
			free(err);
			free((void *)name);
			return;
		}
		char *line = xasprintf("backend %s %s", name, paused ? "paused" : "resumed");

		event_log_add(s->log, server_now_ms(), 0, line);
		free(line);
		free((void *)name);
		server_changed(s);
		if (!paused)
			sched_kick(s->sched);
		xmlrpc_env_init(&env);
		finish_value(c, &env, xmlrpc_bool_new(&env, paused));
		return;
	}
	if (s->paused != paused) {
		s->paused = paused;
		event_log_add(s->log, server_now_ms(), 0, paused ? "dispatch paused" : "dispatch resumed");
		server_changed(s);
		if (!paused)
			sched_kick(s->sched);
	}
	xmlrpc_env_init(&env);
	finish_value(c, &env, xmlrpc_bool_new(&env, s->paused));
}

static void api_pause(struct server *s, struct api_call *c)
{
	set_paused(s, c, true);
}

static void api_resume(struct server *s, struct api_call *c)
{
	set_paused(s, c, false);
}

static void api_shutdown(struct server *s, struct api_call *c)
{
	xmlrpc_env env;

	if (!check_count(c, 0, 0, "no arguments"))
		return;
	xmlrpc_env_init(&env);
	finish_value(c, &env, xmlrpc_bool_new(&env, 1));
	server_stop(s);
}

/* Returns its argument: a connection check, and the floor bench/api measures the API against. */
static void api_echo(struct server *s, struct api_call *c)
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
	{"simq.submit", "simq.submit(task) -> id", api_submit},
	{"simq.submit_many", "simq.submit_many([task...]) -> [id...], all or none", api_submit_many},
	{"simq.get", "simq.get(id) -> task", api_get},
	{"simq.list", "simq.list(filter, offset, limit) -> {total, offset, tasks}", api_list},
	{"simq.cancel", "simq.cancel(ids) -> [{id, state}]", api_cancel},
	{"simq.reprioritize", "simq.reprioritize(ids, priority) -> [{id, state}]", api_reprioritize},
	{"simq.retry", "simq.retry(ids) -> [new id...]", api_retry},
	{"simq.result", "simq.result(id) -> {path, format, points, signals, summary}", api_result_method},
	{"simq.wait", "simq.wait(ids, timeout) -> [{id, state}]", api_wait},
	{"simq.stats", "simq.stats() -> the statistics of DESIGN 9", api_stats},
	{"simq.pause", "simq.pause([backend])", api_pause},
	{"simq.resume", "simq.resume([backend])", api_resume},
	{"simq.view", "simq.view(request) -> what a console draws", api_view},
	{"simq.shutdown", "simq.shutdown(): stop the server; queued tasks stay queued", api_shutdown},
};
const size_t api_method_count = sizeof api_methods / sizeof api_methods[0];
