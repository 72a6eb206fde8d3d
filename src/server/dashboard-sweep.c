#include "autoconf.h"

#include "server/dashboard-sweep.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "util/xalloc.h"

#define DEFAULT_HOURS 24
#define MAX_HOURS     (24 * 30)
#define MAX_GROUPS    1000 /* names and tags a listing tracks; later ones are not listed */
#define KEEP_MS       1000 /* how long an answer is given again to whoever asks the same */
#define KEPT          8    /* answers kept */
#define STR_(x)       #x
#define STR(x)        STR_(x)

struct kept {
	char *key;      /* the request, canonical */
	json_t *answer; /* without its ref */
	int64_t at;
};

struct dashboard_sweeps {
	struct engine *engine;
	struct kept kept[KEPT];
	size_t next;
	int64_t second; /* the wall second of the budget */
	int computed;   /* new answers in it */
};

static const char *const fields[] = {"name", "tag", "by", "signal", "summary", "hours", NULL};
static const char *const summaries[] = {"final", "mean", "rms", "min", "max", NULL};

/* Which variables of a set of tasks are numbers, and which take more than one value. */
struct varset {
	json_t *first;   /* the first task's vars */
	json_t *varying; /* {name: true}: differs from the first task's (or missing in one) */
	json_t *other;   /* {name: true}: not a number in some task */
};

/* A name or a tag and its tasks' variables. */
struct group {
	const char *kind; /* "name" or "tag" */
	char *key;
	size_t tasks;
	int64_t last; /* the latest finish, for the order of the listing */
	struct varset vars;
};

/* What a request asks and what it collected. */
struct sweep_req {
	const char *kind, *key; /* kind NULL: list the sweeps */
	const char *by, *signal, *summary;
	int64_t since;
	struct group *groups;
	size_t ngroups;
	int64_t *ids;    /* the sweep's tasks, oldest first, up to DASHBOARD_SWEEP_POINTS */
	json_t **vars;   /* each one's vars */
	size_t n, total; /* kept, matched */
};

static void varset_note(struct varset *s, json_t *vars)
{
	const char *key;
	json_t *value;

	if (s->first == NULL) {
		s->first = json_incref(vars);
		s->varying = json_object();
		s->other = json_object();
	}
	json_object_foreach(vars, key, value)
	{
		const json_t *was = json_object_get(s->first, key);

		if (!json_is_number(value))
			json_object_set_new(s->other, key, json_true());
		if (was == NULL || !json_equal(was, value))
			json_object_set_new(s->varying, key, json_true());
	}
	json_object_foreach(s->first, key, value)
	{
		if (json_object_get(vars, key) == NULL)
			json_object_set_new(s->varying, key, json_true());
	}
}

/* ["D", "L"]: the numeric variables that vary, in the first task's order (then any it lacked). */
static json_t *varset_swept(const struct varset *s)
{
	json_t *list = json_array();
	const char *key;
	json_t *value;

	json_object_foreach(s->first, key, value)
	{
		if (json_object_get(s->varying, key) && !json_object_get(s->other, key))
			json_array_append_new(list, json_string(key));
	}
	json_object_foreach(s->varying, key, value)
	{
		if (!json_object_get(s->first, key) && !json_object_get(s->other, key))
			json_array_append_new(list, json_string(key));
	}
	return list;
}

static void varset_free(struct varset *s)
{
	json_decref(s->first);
	json_decref(s->varying);
	json_decref(s->other);
}

static json_t *parse_vars(const struct task *t)
{
	json_t *vars = json_loads(t->vars ? t->vars : "{}", 0, NULL);

	if (!json_is_object(vars)) {
		json_decref(vars);
		vars = json_object();
	}
	return vars;
}

/* Whether tags ("a,b,c") holds tag as one item. */
static bool has_tag(const char *tags, const char *tag)
{
	size_t len = strlen(tag);

	for (const char *p = tags; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, tag, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

/* ---- listing ---------------------------------------------------------------------------- */

static void group_note(struct sweep_req *r, const char *kind, const char *key, size_t len, const struct task *t,
                       json_t *vars)
{
	struct group *g = NULL;

	for (size_t i = 0; i < r->ngroups && g == NULL; i++)
		if (r->groups[i].kind == kind && strlen(r->groups[i].key) == len &&
		    memcmp(r->groups[i].key, key, len) == 0)
			g = &r->groups[i];
	if (g == NULL) {
		if (r->ngroups == MAX_GROUPS)
			return;
		r->groups = xreallocarray(r->groups, r->ngroups + 1, sizeof *r->groups);
		g = &r->groups[r->ngroups++];
		*g = (struct group){.kind = kind, .key = xstrndup(key, len)};
	}
	g->tasks++;
	g->last = t->finished > g->last ? t->finished : g->last;
	varset_note(&g->vars, vars);
}

static void list_task(struct task *t, void *ud)
{
	struct sweep_req *r = ud;
	json_t *vars = parse_vars(t);

	if (t->name && t->name[0])
		group_note(r, "name", t->name, strlen(t->name), t, vars);
	for (const char *p = t->tags; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len > 0)
			group_note(r, "tag", p, len, t, vars);
		p += len + (p[len] == ',');
	}
	json_decref(vars);
	task_free(&t);
}

static int by_last_desc(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->last < y->last) - (x->last > y->last);
}

/* {"sweeps": [{"name" or "tag", "tasks", "vars"}]}: groups of two or more with a swept variable, latest first. */
static json_t *list_sweeps(struct sweep_req *r)
{
	json_t *list = json_array();

	if (r->ngroups) /* groups is NULL when there are none */
		qsort(r->groups, r->ngroups, sizeof *r->groups, by_last_desc);
	for (size_t i = 0; i < r->ngroups; i++) {
		json_t *swept = varset_swept(&r->groups[i].vars);

		if (r->groups[i].tasks >= 2 && json_array_size(swept) > 0 &&
		    json_array_size(list) < DASHBOARD_SWEEP_LIST)
			json_array_append_new(list, json_pack("{s:s,s:I,s:O,s:I}", r->groups[i].kind, r->groups[i].key,
			                                      "tasks", (json_int_t)r->groups[i].tasks, "vars", swept,
			                                      "finished", (json_int_t)r->groups[i].last));
		json_decref(swept);
	}
	return json_pack("{s:o}", "sweeps", list);
}

/* ---- one sweep -------------------------------------------------------------------------- */

static void keep_task(struct task *t, void *ud)
{
	struct sweep_req *r = ud;
	bool match = strcmp(r->kind, "name") == 0 ? t->name && strcmp(t->name, r->key) == 0 : has_tag(t->tags, r->key);

	if (match && r->total++ < DASHBOARD_SWEEP_POINTS) {
		r->ids[r->n] = t->id;
		r->vars[r->n++] = parse_vars(t);
	}
	task_free(&t);
}

/* "L=0.002 C=1e-06": the task's values of the swept variables other than by (its series). */
static json_t *series_of(const json_t *vars, const json_t *swept, const char *by)
{
	struct buf b = BUF_INIT;
	size_t i;
	json_t *name;

	json_array_foreach(swept, i, name)
	{
		const char *key = json_string_value(name);
		char *value;

		if (strcmp(key, by) == 0)
			continue;
		const json_t *v = json_object_get(vars, key);

		value = v ? proto_canonical(v) : xstrdup("-"); /* a task without it */
		buf_addf(&b, "%s%s=%s", b.len ? " " : "", key, value);
		free(value);
	}
	json_t *s = json_string(buf_str(&b));

	buf_free(&b);
	return s;
}

/* A task's summary of the chosen signal, or NULL (no result, no such signal); signals listed once. */
static const json_t *summary_of(struct engine *e, int64_t id, struct sweep_req *r, json_t *signals, json_t **held)
{
	struct store_result res = {0};
	json_t *all = NULL;

	if (engine_result(e, id, &res) == ENGINE_OK && res.summary)
		all = json_loads(res.summary, 0, NULL);
	store_result_free(&res);
	if (!json_is_object(all)) {
		json_decref(all);
		return NULL;
	}
	if (json_array_size(signals) == 0) {
		const char *key;
		json_t *value;

		json_object_foreach(all, key, value)
		{
			json_array_append_new(signals, json_string(key));
		}
	}
	*held = all;
	return json_object_get(
	    json_object_get(all, r->signal ? r->signal : json_string_value(json_array_get(signals, 0))), r->summary);
}

/* Whether name is among the strings of list. */
static bool listed(const json_t *list, const char *name)
{
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item)
	{
		if (strcmp(json_string_value(item), name) == 0)
			return true;
	}
	return false;
}

static char *joined(const json_t *list)
{
	struct buf b = BUF_INIT;
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item)
	{
		buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(item));
	}
	char *s = xstrdup(buf_str(&b));

	buf_free(&b);
	return s;
}

/* The points of one sweep, or NULL and *err. */
static json_t *chart_sweep(struct engine *e, struct sweep_req *r, char **err)
{
	struct varset vs = {0};
	json_t *points = json_array(), *signals = json_array(), *swept, *out = NULL;
	size_t missing = 0;

	for (size_t i = 0; i < r->n; i++)
		varset_note(&vs, r->vars[i]);
	swept = vs.first ? varset_swept(&vs) : json_array();
	if (r->n == 0) {
		*err = xasprintf("no task with %s \"%s\" completed in the last %lld h", r->kind, r->key,
		                 (long long)((engine_now_ms(e) - r->since) / 3600000));
	} else if (json_array_size(swept) == 0) {
		*err =
		    xasprintf("the tasks with %s \"%s\" sweep nothing: no numeric variable takes more than one value",
		              r->kind, r->key);
	} else if (r->by && !listed(swept, r->by)) {
		char *allowed = joined(swept);

		*err = xasprintf("\"by\": %s is not swept by %s \"%s\"; allowed: %s", r->by, r->kind, r->key, allowed);
		free(allowed);
	} else {
		const char *by = r->by ? r->by : json_string_value(json_array_get(swept, 0));

		for (size_t i = 0; i < r->n; i++) {
			json_t *held = NULL;
			const json_t *y = summary_of(e, r->ids[i], r, signals, &held);
			const json_t *x = json_object_get(r->vars[i], by);

			if (json_is_number(x) && json_is_number(y))
				json_array_append_new(points,
				                      json_pack("{s:I,s:f,s:f,s:o}", "id", (json_int_t)r->ids[i], "x",
				                                json_number_value(x), "y", json_number_value(y),
				                                "series", series_of(r->vars[i], swept, by)));
			else
				missing++;
			json_decref(held);
		}
		if (r->signal && json_array_size(signals) > 0 && !listed(signals, r->signal)) {
			char *allowed = joined(signals);

			*err = xasprintf("\"signal\": %s is not a signal of these results; allowed: %s", r->signal,
			                 allowed);
			free(allowed);
		} else {
			out = json_pack("{s:s,s:s,s:s,s:o,s:O,s:O,s:I,s:I,s:I}", "by", by, "signal",
			                r->signal                  ? r->signal
			                : json_array_size(signals) ? json_string_value(json_array_get(signals, 0))
			                                           : "",
			                "summary", r->summary, "points", points, "vars", swept, "signals", signals,
			                "tasks", (json_int_t)r->total, "shown", (json_int_t)r->n, "missing",
			                (json_int_t)missing);
		}
	}
	if (out == NULL)
		json_decref(points);
	else
		json_object_set_new(out, r->kind, json_string(r->key));
	json_decref(swept);
	json_decref(signals);
	varset_free(&vs);
	return out;
}

/* ---- the request ------------------------------------------------------------------------ */

/* The request's fields into r; false and *err for a bad one. */
static bool read_req(struct engine *e, const json_t *req, struct sweep_req *r, char **err)
{
	const char *key;
	json_t *value, *hours = json_object_get(req, "hours");

	if (!json_is_object(req)) {
		*err = xstrdup("\"sweep\": not an object; send {} for the list of sweeps, or {\"name\": NAME} (or "
		               "\"tag\") with optional \"by\", \"signal\", \"summary\" and \"hours\"");
		return false;
	}
	json_object_foreach((json_t *)req, key, value)
	{
		size_t i = 0;

		while (fields[i] && strcmp(fields[i], key) != 0)
			i++;
		if (fields[i] == NULL || (strcmp(key, "hours") != 0 && !json_is_string(value))) {
			*err = xasprintf(
			    "\"sweep\": %s \"%.64s\"%s; allowed: name, tag, by, signal, summary (text) and hours",
			    fields[i] ? "the field" : "unknown field", key, fields[i] ? " is not text" : "");
			return false;
		}
	}
	if (json_object_get(req, "name") && json_object_get(req, "tag")) {
		*err = xstrdup("\"sweep\": name and tag both given; allowed: one of them");
		return false;
	}
	r->kind = json_object_get(req, "name") ? "name" : json_object_get(req, "tag") ? "tag" : NULL;
	r->key = r->kind ? json_string_value(json_object_get(req, r->kind)) : NULL;
	r->by = json_string_value(json_object_get(req, "by"));
	r->signal = json_string_value(json_object_get(req, "signal"));
	r->summary = json_string_value(json_object_get(req, "summary"));
	r->summary = r->summary ? r->summary : "final";
	size_t i = 0;

	while (summaries[i] && strcmp(summaries[i], r->summary) != 0)
		i++;
	if (summaries[i] == NULL) {
		*err = xasprintf("\"summary\": %.64s; allowed: final, mean, rms, min or max", r->summary);
		return false;
	}
	if (hours &&
	    (!json_is_integer(hours) || json_integer_value(hours) < 1 || json_integer_value(hours) > MAX_HOURS)) {
		*err = xasprintf("\"hours\": allowed: a whole number from 1 to %d", MAX_HOURS);
		return false;
	}
	r->since = engine_now_ms(e) - (hours ? json_integer_value(hours) : DEFAULT_HOURS) * 3600000;
	return true;
}

/* A new answer to req: the sweeps, one sweep's points, or {"error"}; *ok whether it is not an error. */
static json_t *compute(struct engine *e, const json_t *req, bool *ok)
{
	struct sweep_req r = {0};
	json_t *answer = NULL;
	char *err = NULL;

	if (read_req(e, req, &r, &err)) {
		if (r.kind) {
			r.ids = xcalloc(DASHBOARD_SWEEP_POINTS, sizeof *r.ids);
			r.vars = xcalloc(DASHBOARD_SWEEP_POINTS, sizeof *r.vars);
		}
		if (engine_finished_since(e, TASK_COMPLETED, r.since, r.kind ? keep_task : list_task, &r) != ENGINE_OK)
			err = xstrdup("the store could not list the completed tasks; see the server's log");
		else
			answer = r.kind ? chart_sweep(e, &r, &err) : list_sweeps(&r);
	}
	*ok = err == NULL;
	if (answer == NULL)
		answer = json_pack("{s:s}", "error", err ? err : "no answer");
	free(err);
	for (size_t i = 0; i < r.n; i++)
		json_decref(r.vars[i]);
	free(r.vars);
	free(r.ids);
	for (size_t i = 0; i < r.ngroups; i++) {
		free(r.groups[i].key);
		varset_free(&r.groups[i].vars);
	}
	free(r.groups);
	json_object_set_new(answer, "type", json_string("sweep"));
	json_object_set_new(answer, "ok", json_boolean(*ok));
	return answer;
}

/* The answer to req kept from less than KEEP_MS ago, or a new one within the budget, or NULL. */
static json_t *answer_for(struct dashboard_sweeps *s, const json_t *req)
{
	int64_t now = engine_now_ms(s->engine);
	char *key = req ? proto_canonical(req) : xstrdup("null");
	bool ok;

	for (size_t i = 0; i < KEPT; i++)
		if (s->kept[i].key && strcmp(s->kept[i].key, key) == 0 && now - s->kept[i].at < KEEP_MS) {
			free(key);
			return json_incref(s->kept[i].answer);
		}
	if (now / 1000 != s->second) {
		s->second = now / 1000;
		s->computed = 0;
	}
	if (s->computed >= DASHBOARD_SWEEP_RATE) {
		free(key);
		return NULL;
	}
	s->computed++;
	struct kept *k = &s->kept[s->next];

	s->next = (s->next + 1) % KEPT;
	free(k->key);
	json_decref(k->answer);
	*k = (struct kept){.key = key, .answer = compute(s->engine, req, &ok), .at = now};
	return json_incref(k->answer);
}

void dashboard_sweep(struct dashboard_sweeps *s, const json_t *msg, struct buf *out)
{
	const json_t *ref = json_object_get(msg, "ref");
	json_t *kept = answer_for(s, json_object_get(msg, "sweep"));
	json_t *answer =
	    kept ? json_copy(kept)
	         : json_pack("{s:s,s:b,s:b,s:s}", "type", "sweep", "ok", 0, "busy", 1, "error",
	                     "the server answers at most " STR(DASHBOARD_SWEEP_RATE) " new sweep requests a second; "
	                                                                             "ask again in a moment");

	json_decref(kept);
	json_object_set_new(answer, "ref", ref ? json_incref((json_t *)ref) : json_null());
	char *text = proto_json_text(answer, false); /* numbers as short as they read back exactly */

	buf_adds(out, text);
	free(text);
	json_decref(answer);
}

struct dashboard_sweeps *dashboard_sweeps_new(struct engine *e)
{
	struct dashboard_sweeps *s = xcalloc(1, sizeof *s);

	s->engine = e;
	return s;
}

void dashboard_sweeps_free(struct dashboard_sweeps **sp)
{
	struct dashboard_sweeps *s = *sp;

	if (s == NULL)
		return;
	for (size_t i = 0; i < KEPT; i++) {
		free(s->kept[i].key);
		json_decref(s->kept[i].answer);
	}
	xfree(sp);
}
