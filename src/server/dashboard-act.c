#include "autoconf.h"

#include "server/dashboard-act.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/queue.h"
#include "util/xalloc.h"

/* Queued tasks read from the store at a time when select looks for a name. */
#define SELECT_PAGE 1000

/* What one action got: its ids (when it takes them) and the priority or backend it names. */
struct act_args {
	int64_t *ids;
	size_t n;
	enum task_priority priority;
	bool has_priority;   /* select: priority given */
	const char *name;    /* select: sweep.name; NULL: any */
	const char *backend; /* NULL: dispatch as a whole */
};

struct action {
	const char *name;
	bool takes_ids;
	bool takes_priority;
	bool selects; /* select: an optional priority and sweep {name}, no ids */
	/* Makes the engine call; a JSON results value, or NULL with *err (heap). */
	json_t *(*run)(struct engine *e, const struct act_args *a, char **err);
};

/* [{id, state, done, changed, reason}]: whether each task is as asked (changed now, or so already), and why not. */
static json_t *states_value(const struct act_args *a, const enum engine_act *act, const enum task_state *after,
                            const char *what)
{
	json_t *list = json_array();

	for (size_t i = 0; i < a->n; i++) {
		const char *state = task_state_name(after[i]);
		bool done = act[i] == ENGINE_ACT_CHANGED || act[i] == ENGINE_ACT_ALREADY;
		char *why = done ? xstrdup("")
		                 : xasprintf("task %lld is %s; only queued or running tasks can be %s",
		                             (long long)a->ids[i], state, what);

		json_array_append_new(list,
		                      json_pack("{s:I,s:s,s:b,s:b,s:s}", "id", (json_int_t)a->ids[i], "state", state,
		                                "done", done, "changed", act[i] == ENGINE_ACT_CHANGED, "reason", why));
		free(why);
	}
	return list;
}

/* One engine call over the ids, answered per id (as the API's simq.cancel answers); prio NULL: cancel. */
static json_t *on_ids(struct engine *e, const struct act_args *a, const enum task_priority *prio, const char *what,
                      char **err)
{
	enum task_state *after = xcalloc(a->n, sizeof *after);
	enum engine_act *act = xcalloc(a->n, sizeof *act);
	json_t *out = NULL;
	enum engine_status st =
	    prio ? engine_reprioritize_in(e, a->ids, a->n, *prio, ENGINE_ACTIVE_STATES, after, act, err)
	         : engine_cancel_in(e, a->ids, a->n, ENGINE_ACTIVE_STATES, after, act, err);

	if (st == ENGINE_OK)
		out = states_value(a, act, after, what);
	free(act);
	free(after);
	return out;
}

static json_t *act_cancel(struct engine *e, const struct act_args *a, char **err)
{
	return on_ids(e, a, NULL, "cancelled", err);
}

static json_t *act_reprioritize(struct engine *e, const struct act_args *a, char **err)
{
	return on_ids(e, a, &a->priority, "given another priority", err);
}

/* [{id, new_id, new_state, new, done, reason}] for each distinct id, in the order named: the copy that runs it again. */
static json_t *act_retry(struct engine *e, const struct act_args *a, char **err)
{
	struct engine_retry_answer *answers = xcalloc(a->n, sizeof *answers);
	size_t m = 0;
	json_t *list = NULL;

	if (engine_retry(e, a->ids, a->n, true, answers, &m, err) == ENGINE_OK) {
		list = json_array();
		for (size_t i = 0; i < m; i++)
			json_array_append_new(
			    list, json_pack("{s:I,s:I,s:s,s:b,s:b,s:s}", "id", (json_int_t)answers[i].id, "new_id",
			                    (json_int_t)answers[i].copy, "new_state",
			                    answers[i].copy ? task_state_name(answers[i].copy_state) : "", "new",
			                    answers[i].fresh, "done", answers[i].reason == NULL, "reason",
			                    answers[i].reason ? answers[i].reason : ""));
	}
	engine_retry_answers_free(answers, m);
	free(answers);
	return list;
}

static json_t *set_paused(struct engine *e, const struct act_args *a, bool paused, char **err)
{
	bool now;

	if (engine_pause(e, a->backend, paused, &now, err) != ENGINE_OK)
		return NULL;
	return json_pack("{s:o,s:b}", "backend", a->backend ? json_string(a->backend) : json_null(), "paused", now);
}

static json_t *act_pause(struct engine *e, const struct act_args *a, char **err)
{
	return set_paused(e, a, true, err);
}

static json_t *act_resume(struct engine *e, const struct act_args *a, char **err)
{
	return set_paused(e, a, false, err);
}

struct select_ctx {
	const char *name;
	json_t *ids;
	size_t total;
};

static void select_named(const struct task *t, int64_t position, void *ud)
{
	struct select_ctx *x = ud;

	(void)position;
	if (t->name == NULL || strcmp(t->name, x->name) != 0)
		return;
	if (x->total++ < DASHBOARD_ACT_MAX_IDS)
		json_array_append_new(x->ids, json_integer((json_int_t)t->id));
}

/*
 * {ids, total}: the queued tasks of a priority, of a name, or both, in queue order — the first
 * DASHBOARD_ACT_MAX_IDS, so that the page can act on them in one message.  A priority alone is read
 * from the queue in memory; a name from the queued tasks' records (the store's), a page at a time.
 */
static json_t *act_select(struct engine *e, const struct act_args *a, char **err)
{
	const struct queue *q = engine_queue(e);
	size_t from = 0, count = queue_size(q);
	struct select_ctx x = {.name = a->name, .ids = json_array()};

	if (a->has_priority) {
		for (int p = 0; p < (int)a->priority; p++)
			from += queue_count(q, (enum task_priority)p);
		count = queue_count(q, a->priority);
	}
	if (a->name == NULL) {
		size_t n = count < DASHBOARD_ACT_MAX_IDS ? count : DASHBOARD_ACT_MAX_IDS;
		struct queue_item *items = xcalloc(n ? n : 1, sizeof *items);

		n = queue_page(q, from, n, items);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(x.ids, json_integer((json_int_t)items[i].id));
		free(items);
		x.total = count;
	} else {
		for (size_t off = 0; off < count; off += SELECT_PAGE) {
			size_t n = count - off < SELECT_PAGE ? count - off : SELECT_PAGE;

			if (engine_queue_page(e, from + off, n, select_named, &x, err) != ENGINE_OK) {
				json_decref(x.ids);
				return NULL;
			}
		}
	}
	return json_pack("{s:o,s:I}", "ids", x.ids, "total", (json_int_t)x.total);
}

static const struct action actions[] = {
    {"cancel", true, false, false, act_cancel},  {"reprioritize", true, true, false, act_reprioritize},
    {"retry", true, false, false, act_retry},    {"pause", false, false, false, act_pause},
    {"resume", false, false, false, act_resume}, {"select", false, false, true, act_select},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

const char *dashboard_act_names(void)
{
	return "cancel, reprioritize, retry, pause, resume, select";
}

/* msg's "ids": one id or an array of 1 to DASHBOARD_ACT_MAX_IDS ids; false and *err for anything else. */
static bool read_ids(const json_t *msg, struct act_args *a, char **err)
{
	const json_t *v = json_object_get(msg, "ids");
	size_t n = json_is_array(v) ? json_array_size(v) : json_is_integer(v) ? 1 : 0;

	if (n == 0 || n > DASHBOARD_ACT_MAX_IDS) {
		*err = xasprintf("\"ids\": %s; allowed: a task id or an array of 1 to %d task ids",
		                 v == NULL          ? "missing"
		                 : json_is_array(v) ? "too many or none"
		                                    : "not a task id",
		                 DASHBOARD_ACT_MAX_IDS);
		return false;
	}
	a->ids = xcalloc(n, sizeof *a->ids);
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_is_array(v) ? json_array_get(v, i) : v;

		if (!json_is_integer(item) || json_integer_value(item) <= 0) {
			*err = xasprintf("\"ids\": item %zu is not a task id; allowed: whole numbers from 1", i + 1);
			return false;
		}
		a->ids[i] = (int64_t)json_integer_value(item);
	}
	return true;
}

/* msg's "priority": a name (critical, high, normal, low) or its number, 0 (critical) to 3 (low). */
static bool read_priority(const json_t *prio, enum task_priority *p)
{
	if (json_is_integer(prio) && json_integer_value(prio) >= 0 && json_integer_value(prio) < PRIO_COUNT) {
		*p = (enum task_priority)json_integer_value(prio);
		return true;
	}
	return json_is_string(prio) && task_priority_parse(json_string_value(prio), p);
}

/* Whether every field of msg is one act takes (besides those any first message may carry); else *err. */
static bool fields_known(const struct action *act, const json_t *msg, char **err)
{
	const char *key;
	const json_t *value;

	json_object_foreach((json_t *)msg, key, value)
	{
		if (strcmp(key, "action") == 0 || strcmp(key, "ref") == 0 || strcmp(key, "auth") == 0 ||
		    strcmp(key, "resume") == 0 || (act->takes_ids && strcmp(key, "ids") == 0) ||
		    (act->takes_priority && strcmp(key, "priority") == 0) ||
		    (act->selects && (strcmp(key, "priority") == 0 || strcmp(key, "sweep") == 0)) ||
		    (!act->takes_ids && !act->selects && strcmp(key, "backend") == 0))
			continue;
		char *shown = buf_shown(key);

		*err = xasprintf("\"%s\" is not a field of %s; allowed: action, ref, %s (and auth, resume)", shown,
		                 act->name,
		                 act->takes_priority ? "ids, priority"
		                 : act->takes_ids    ? "ids"
		                 : act->selects      ? "priority, sweep"
		                                     : "backend");
		free(shown);
		return false;
	}
	return true;
}

/* select's priority and sweep {name}, either or both; false and *err (heap) for a bad one. */
static bool read_selection(const json_t *msg, struct act_args *a, char **err)
{
	const json_t *prio = json_object_get(msg, "priority"), *sweep = json_object_get(msg, "sweep");
	const json_t *name = json_object_get(sweep, "name");

	if (prio == NULL && sweep == NULL) {
		*err = xstrdup("select: say which queued tasks: \"priority\" (critical, high, normal, low, or 0 to 3), "
		               "\"sweep\": {\"name\": NAME}, or both");
		return false;
	}
	if (prio && !(a->has_priority = read_priority(prio, &a->priority))) {
		*err = xstrdup("\"priority\": allowed: critical, high, normal or low, or their numbers 0 to 3");
		return false;
	}
	if (sweep && (!json_is_object(sweep) || json_object_size(sweep) != 1 || !json_is_string(name) ||
	              json_string_length(name) == 0)) {
		*err = xstrdup("\"sweep\": allowed with select: {\"name\": NAME}, the tasks' name (not empty)");
		return false;
	}
	a->name = sweep ? json_string_value(name) : NULL;
	return true;
}

/* The action's arguments from msg; false and *err (heap) for a bad one. */
static bool read_args(const struct action *act, const json_t *msg, struct act_args *a, char **err)
{
	const json_t *prio = json_object_get(msg, "priority"), *backend = json_object_get(msg, "backend");

	if (!fields_known(act, msg, err))
		return false;
	if (act->selects)
		return read_selection(msg, a, err);
	if (act->takes_ids && !read_ids(msg, a, err))
		return false;
	if (act->takes_priority && !read_priority(prio, &a->priority)) {
		*err = xstrdup("\"priority\": allowed: critical, high, normal or low, or their numbers 0 to 3");
		return false;
	}
	if (backend != NULL && !json_is_null(backend)) {
		if (act->takes_ids || !json_is_string(backend)) {
			*err = xasprintf("\"backend\": allowed only with pause and resume, as a backend's name");
			return false;
		}
		a->backend = json_string_value(backend);
	}
	return true;
}

static void reply(const json_t *msg, const char *name, json_t *results, const char *error, struct buf *out)
{
	json_t *ref = json_object_get(msg, "ref");
	json_t *r = json_pack("{s:s,s:O,s:s,s:b}", "type", "reply", "ref", ref ? ref : json_null(), "action",
	                      name ? name : "", "ok", results != NULL);

	if (results)
		json_object_set_new(r, "results", results);
	else
		json_object_set_new(r, "error", json_string(error));
	char *text = json_dumps(r, JSON_COMPACT);

	buf_adds(out, text);
	free(text);
	json_decref(r);
}

void dashboard_act(struct engine *e, const json_t *msg, bool authorized, struct buf *out)
{
	const char *name = json_string_value(json_object_get(msg, "action"));
	const struct action *act = NULL;
	struct act_args a = {0};
	char *err = NULL;
	json_t *results = NULL;

	for (size_t i = 0; name && i < NACTIONS; i++)
		if (strcmp(actions[i].name, name) == 0)
			act = &actions[i];
	if (act == NULL)
		err = xasprintf("\"action\": not an action; allowed: %s", dashboard_act_names());
	else if (!authorized)
		err = xasprintf("%s refused: this dashboard is read-only; send {\"auth\": TOKEN} first (the token is "
		                "[server] token, or the file token in the server's state directory)",
		                name);
	else if (read_args(act, msg, &a, &err))
		results = act->run(e, &a, &err);
	if (results == NULL && err == NULL)
		err = xstrdup("the engine refused it without saying why");
	reply(msg, name, results, err, out);
	free(a.ids);
	free(err);
}
