#include "autoconf.h"

#include "server/proxy-sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "engine/engine.h"
#include "engine/results.h"
#include "proto/doubles.h"
#include "proto/proto.h"
#include "server/api.h"
#include "server/request.h"
#include "server/validate.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* A parked plecs.simulate looks again at least this often, whatever the engine does. */
#define RELOOK_S 3600.0
/* plecs.simulate calls waiting at once: well under the server's cap on all waiting calls (768), so that
 * scripts cannot take the room of consoles' simq.view and simq.wait. */
#define MAX_WAITING 512

static int waiting; /* plecs.simulate calls submitted and not answered yet (loop thread) */

struct proxy_sim {
	bool list; /* the call sent a list of optStructs: answer a list */
	size_t n;
	int64_t *ids;                 /* the cases' tasks, in input order */
	bool *matfile;                /* OutputFormat MatFile, per case */
	struct store_result *results; /* per case, once every one completed (read on the connection's thread) */
};

void proxy_sim_free(struct proxy_sim **sp)
{
	struct proxy_sim *s = *sp;

	if (s == NULL)
		return;
	for (size_t i = 0; s->results && i < s->n; i++)
		store_result_free(&s->results[i]);
	free(s->results);
	free(s->ids);
	free(s->matfile);
	xfree(sp);
}

/* A struct member (a fresh reference), or NULL when v has none by that name. */
static xmlrpc_value *member(xmlrpc_value *v, const char *name)
{
	xmlrpc_env env;
	xmlrpc_value *m = NULL;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, v, name, &m);
	xmlrpc_env_clean(&env);
	return m;
}

/* What read_opt carries from member to member. */
struct opt_reading {
	xmlrpc_env *env;
	xmlrpc_value *task; /* the task struct validate_task reads */
	bool matfile;
	char *fault;       /* PLECS's words for what is wrong (heap) */
	const char *where; /* "case 3: " in a list */
};

/* SolverOpts without Timeout, which is the task's own field (simq sends it as SolverOpts.Timeout). */
static bool put_solver_member(const char *key, xmlrpc_value *value, void *ud)
{
	struct opt_reading *r = ud;
	/* Named here, where Timeout is one of them too (the task's own field for simq's submit). */
	char *rule = strcmp(key, "Timeout") != 0 ? validate_solver_key_rule(key) : NULL;

	if (rule) {
		r->fault = xasprintf("%sSolverOpts.%s: %s, Timeout", r->where, key, rule);
		free(rule);
		return false;
	}
	xmlrpc_value *solver = member(r->task, "solver");

	if (strcmp(key, "Timeout") == 0)
		xmlrpc_struct_set_value(r->env, r->task, "timeout", value);
	else
		xmlrpc_struct_set_value(r->env, solver, key, value);
	xmlrpc_DECREF(solver);
	return !r->env->fault_occurred;
}

/* One member of an optStruct, as plecs.simulate reads it (plecs-emu's words, which are PLECS's). */
static bool read_opt(const char *key, xmlrpc_value *value, void *ud)
{
	struct opt_reading *r = ud;
	xmlrpc_type t = xmlrpc_value_type(value);

	if ((strcmp(key, "ModelVars") == 0 || strcmp(key, "SolverOpts") == 0) && t != XMLRPC_TYPE_STRUCT) {
		r->fault = xasprintf("%s%s must be a struct, not %s", r->where, key, proto_type_name(t));
	} else if (strcmp(key, "ModelVars") == 0) {
		xmlrpc_struct_set_value(r->env, r->task, "vars", value);
	} else if (strcmp(key, "SolverOpts") == 0) {
		char *err = NULL;

		if (!proto_each_member(value, put_solver_member, r, &err) && r->fault == NULL)
			r->fault = xasprintf("%sSolverOpts: %s", r->where, err ? err : r->env->fault_string);
		free(err);
	} else if (strcmp(key, "OutputFormat") == 0) {
		r->matfile = proto_is_string(value, "MatFile");
		if (!r->matfile && !proto_is_string(value, "Plain"))
			r->fault = xasprintf("%sOutputFormat must be 'Plain' or 'MatFile'", r->where);
	} else if (strcmp(key, "Name") == 0) {
		if (t != XMLRPC_TYPE_STRING)
			r->fault = xasprintf("%sName must be a string", r->where);
	} else {
		r->fault = xasprintf("%sunknown field '%s' in the simulation options; allowed: ModelVars, SolverOpts, "
		                     "OutputFormat, Name",
		                     r->where, key);
	}
	return r->fault == NULL;
}

/* The task of one optStruct (NULL: none sent); NULL with *fault (heap) when it is not one. */
static struct task *case_task(xmlrpc_value *opt, const char *path, const struct proxy_call *pc, const char *where,
                              struct validate_cache *cache, bool *matfile, char **fault)
{
	xmlrpc_env env;
	struct opt_reading r = {.env = &env, .where = where};
	struct task *t = NULL;
	struct validate_error verr = {0};
	char *name = xasprintf("proxy:%s", pc->peer);

	xmlrpc_env_init(&env);
	r.task = xmlrpc_build_value(&env, "{s:s,s:{},s:i,s:s,s:(s)}", "model", path, "solver", "priority",
	                            (int)pc->priority, "name", name, "tags", "proxy");
	/* After a fault xmlrpc-c's answer is no value (not NULL: whatever it left there). */
	if (env.fault_occurred)
		r.task = NULL;
	if (r.task == NULL)
		r.fault = xasprintf("%sthe model's path cannot be carried by XML-RPC: %s", where, env.fault_string);
	else if (opt && xmlrpc_value_type(opt) != XMLRPC_TYPE_STRUCT)
		r.fault = xasprintf("%sthe simulation options must be a struct, not %s", where,
		                    proto_type_name(xmlrpc_value_type(opt)));
	else if (opt && !proto_each_member(opt, read_opt, &r, fault))
		r.fault = r.fault ? r.fault : xasprintf("%sthe simulation options cannot be read", where);
	if (r.fault == NULL && *fault == NULL && !validate_task(r.task, cache, &t, &verr)) {
		r.fault = validate_error_text(&verr, where);
		validate_error_clear(&verr);
	}
	if (r.fault) {
		free(*fault);
		*fault = r.fault;
	}
	*matfile = r.matfile;
	if (r.task)
		xmlrpc_DECREF(r.task);
	xmlrpc_env_clean(&env);
	free(name);
	return t;
}

/* Reads every case of the call and submits them as tasks in one transaction; false after a fault. */
static bool submit_cases(struct engine *e, struct api_call *c, const char *path)
{
	struct proxy_call *pc = c->data;
	xmlrpc_env env;
	xmlrpc_value *opts = NULL;
	struct proxy_sim *s = xcalloc(1, sizeof *s);
	struct validate_cache cache = {0};
	struct task **tasks;
	char *fault = NULL;
	bool given = false;

	xmlrpc_env_init(&env);
	if (xmlrpc_array_size(&env, c->params) == 2)
		xmlrpc_array_read_item(&env, c->params, 1, &opts);
	s->list = opts && xmlrpc_value_type(opts) == XMLRPC_TYPE_ARRAY;
	s->n = s->list ? (size_t)xmlrpc_array_size(&env, opts) : 1;
	if (opts && !s->list && xmlrpc_value_type(opts) != XMLRPC_TYPE_STRUCT)
		fault = xasprintf("plecs.simulate: the second argument must be a struct of simulation options or an "
		                  "array of them, not %s",
		                  proto_type_name(xmlrpc_value_type(opts)));
	else if (waiting >= MAX_WAITING)
		fault =
		    xasprintf("simq: the server already holds %d waiting plecs.simulate calls, the most it keeps; try "
		              "again later",
		              MAX_WAITING);
	else if (s->n > PROTO_MAX_BATCH)
		fault = xasprintf("plecs.simulate: %zu cases in one call; simq's proxy takes at most %d", s->n,
		                  PROTO_MAX_BATCH);
	tasks = xcalloc(s->n + 1, sizeof *tasks);
	s->ids = xcalloc(s->n + 1, sizeof *s->ids);
	s->matfile = xcalloc(s->n + 1, sizeof *s->matfile);
	for (size_t i = 0; i < s->n && fault == NULL; i++) {
		xmlrpc_value *opt = opts;
		char where[48] = "";

		if (s->list) {
			xmlrpc_array_read_item(&env, opts, (int)i, &opt);
			snprintf(where, sizeof where, "case %zu: ", i + 1);
		}
		tasks[i] = case_task(opt, path, pc, where, &cache, &s->matfile[i], &fault);
		if (s->list && opt)
			xmlrpc_DECREF(opt);
	}
	/* engine_submit takes the tasks, stored or not. */
	if (fault == NULL && s->n > 0) {
		engine_submit(e, NULL, tasks, s->n, s->ids, &fault);
		given = true;
	}
	for (size_t i = 0; !given && i < s->n; i++)
		task_free(&tasks[i]);
	free(tasks);
	validate_cache_free(&cache);
	if (opts)
		xmlrpc_DECREF(opts);
	xmlrpc_env_clean(&env);
	if (fault) {
		api_fault(c, PROXY_FAULT_PLECS, "%s", fault);
		free(fault);
		proxy_sim_free(&s);
		return false;
	}
	pc->sim = s;
	waiting++;
	return true;
}

/* The call ends unanswered (its client went, or too many calls wait): its queued cases are cancelled. */
static void abandon(struct api_call *c, const char *why)
{
	struct proxy_call *pc = c->data;
	struct proxy_sim *s = pc->sim;
	struct engine *e = api_engine(c->api);
	size_t cancelled = 0;
	char *err = NULL;

	if (s == NULL)
		return;
	waiting--;
	if (s->n == 0)
		return;
	enum task_state *after = xcalloc(s->n, sizeof *after);
	enum engine_act *act = xcalloc(s->n, sizeof *act);

	engine_cancel_in(e, s->ids, s->n, 1u << TASK_QUEUED, after, act, &err);
	for (size_t i = 0; i < s->n && err == NULL; i++)
		cancelled += act[i] == ENGINE_ACT_CHANGED;
	if (cancelled)
		engine_log(e, SEVERITY_INFO, 0, "proxy: cancelled %zu queued task%s of a plecs.simulate from %s: %s",
		           cancelled, cancelled == 1 ? "" : "s", pc->peer, why);
	free(after);
	free(act);
	free(err);
}

/* The fault for a case that did not complete, or NULL when t completed. */
static char *case_fault(const struct task *t, size_t i, const struct proxy_sim *s)
{
	const char *where = s->list ? "case " : "";
	char nth[32] = "";

	if (s->list)
		snprintf(nth, sizeof nth, "%zu: ", i + 1);
	if (t->state == TASK_FAILED)
		return xstrdup(t->error ? t->error : "Simulation error");
	if (t->state == TASK_CANCELLED)
		return xasprintf("%s%ssimq: task %lld running this simulation was cancelled (simq cancel, or the "
		                 "console)",
		                 where, nth, (long long)t->id);
	return NULL;
}

/* Every case is final: PLECS's fault for the first that failed, or the results for the connection's thread. */
static void answer(struct engine *e, struct api_call *c, void (*finish)(struct api_call *c))
{
	struct proxy_sim *s = ((struct proxy_call *)c->data)->sim;
	char *fault = NULL, *err = NULL;

	waiting--;
	s->results = xcalloc(s->n + 1, sizeof *s->results);
	for (size_t i = 0; i < s->n && fault == NULL; i++) {
		const struct task *t;
		struct task *owned = NULL;

		if (engine_find(e, s->ids[i], &t, &owned, &err) != ENGINE_OK) {
			fault = err;
			err = NULL;
		} else if ((fault = case_fault(t, i, s)) == NULL &&
		           engine_result(e, s->ids[i], &s->results[i]) != ENGINE_OK) {
			fault = xasprintf("simq: the result of task %lld cannot be read from the store",
			                  (long long)s->ids[i]);
		} else if (fault == NULL) {
			engine_result_used(e, s->ids[i]);
		}
		task_free(&owned);
	}
	if (fault) {
		api_fault(c, PROXY_FAULT_PLECS, "%s", fault);
		free(fault);
		return;
	}
	c->finish = finish;
	api_result(c, NULL);
}

/* PLECS's Plain result of one case: {Time: [t...], Values: [[signal 0...], ...]}. */
static xmlrpc_value *plain_value(xmlrpc_env *env, const struct result_data *d)
{
	xmlrpc_value *time = xmlrpc_array_new(env), *values = xmlrpc_array_new(env), *out;

	for (size_t i = 0; i < d->points && !env->fault_occurred; i++) {
		xmlrpc_value *x = xmlrpc_double_new(env, d->time[i]);

		xmlrpc_array_append_item(env, time, x);
		xmlrpc_DECREF(x);
	}
	for (size_t sig = 0; sig < d->signals && !env->fault_occurred; sig++) {
		xmlrpc_value *row = xmlrpc_array_new(env);

		for (size_t i = 0; i < d->points && !env->fault_occurred; i++) {
			xmlrpc_value *x = xmlrpc_double_new(env, d->values[sig * d->points + i]);

			xmlrpc_array_append_item(env, row, x);
			xmlrpc_DECREF(x);
		}
		xmlrpc_array_append_item(env, values, row);
		xmlrpc_DECREF(row);
	}
	out = xmlrpc_build_value(env, "{s:A,s:A}", "Time", time, "Values", values);
	xmlrpc_DECREF(time);
	xmlrpc_DECREF(values);
	return out;
}

/* One case's answer from its stored result; NULL with *err (heap). */
static xmlrpc_value *case_value(xmlrpc_env *env, const struct store_result *r, bool matfile, char **err)
{
	struct result_data d;
	struct buf raw = BUF_INIT;
	xmlrpc_value *v = NULL;

	if (matfile && strcmp(r->format, "mat") != 0) {
		*err = xasprintf("simq: task %lld's result is stored as CSV ([store] results_format = csv), so simq's "
		                 "proxy cannot answer OutputFormat 'MatFile' with PLECS's MAT bytes; ask for 'Plain'",
		                 (long long)r->task_id);
		return NULL;
	}
	if (!results_read_stored(r, &d, matfile ? &raw : NULL, err))
		return NULL;
	v = matfile ? xmlrpc_base64_new(env, raw.len, (const unsigned char *)buf_str(&raw)) : plain_value(env, &d);
	result_data_free(&d);
	buf_free(&raw);
	return v;
}

/* Appends n doubles as XML-RPC's array of them, each exact. */
static void add_doubles(struct buf *xml, const double *v, size_t n)
{
	buf_adds(xml, "<array><data>\n");
	for (size_t i = 0; i < n; i++) {
		buf_adds(xml, "<value><double>");
		proto_add_double(xml, v[i]);
		buf_adds(xml, "</double></value>\n");
	}
	buf_adds(xml, "</data></array>");
}

/* The whole answer of Plain cases, written here: the same XML as xmlrpc-c's, at a fraction of its cost. */
static bool write_plain(const struct proxy_sim *s, struct buf *xml, char **err)
{
	buf_adds(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse>\n<params>\n<param><value>");
	if (s->list)
		buf_adds(xml, "<array><data>\n");
	for (size_t i = 0; i < s->n; i++) {
		struct result_data d;

		if (!results_read_stored(&s->results[i], &d, NULL, err))
			return false;
		buf_adds(xml, s->list ? "<value><struct>\n" : "<struct>\n");
		buf_adds(xml, "<member><name>Time</name>\n<value>");
		add_doubles(xml, d.time, d.points);
		buf_adds(xml, "</value></member>\n<member><name>Values</name>\n<value><array><data>\n");
		for (size_t sig = 0; sig < d.signals; sig++) {
			buf_adds(xml, "<value>");
			add_doubles(xml, d.values + sig * d.points, d.points);
			buf_adds(xml, "</value>\n");
		}
		buf_adds(xml, "</data></array></value></member>\n</struct>");
		buf_adds(xml, s->list ? "</value>\n" : "");
		result_data_free(&d);
	}
	if (s->list)
		buf_adds(xml, "</data></array>");
	buf_adds(xml, "</value></param>\n</params>\n</methodResponse>\n");
	return true;
}

/* Whether every case asked for Plain output. */
static bool all_plain(const struct proxy_sim *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->matfile[i])
			return false;
	return true;
}

/* Connection thread: every case's stored result read and encoded, as PLECS answers. */
static void finish_results(struct api_call *c)
{
	struct proxy_sim *s = ((struct proxy_call *)c->data)->sim;
	xmlrpc_env env;
	xmlrpc_value *list = NULL, *one = NULL;
	char *err = NULL;

	xmlrpc_env_init(&env);
	if (request_single_call() && all_plain(s)) {
		struct buf *xml = xcalloc(1, sizeof *xml);

		if (write_plain(s, xml, &err)) {
			request_answer_xml(xml);
			/* What the registry writes of it is not sent. */
			c->result = xmlrpc_nil_new(&env);
		} else {
			c->fault_code = PROTO_FAULT_FILE;
			c->fault = err;
			buf_free(xml);
			free(xml);
		}
		xmlrpc_env_clean(&env);
		return;
	}
	if (s->list)
		list = xmlrpc_array_new(&env);
	for (size_t i = 0; i < s->n && err == NULL && !env.fault_occurred; i++) {
		xmlrpc_value *v = case_value(&env, &s->results[i], s->matfile[i], &err);

		if (v && list) {
			xmlrpc_array_append_item(&env, list, v);
			xmlrpc_DECREF(v);
		} else if (v) {
			one = v;
		}
	}
	if (err || env.fault_occurred) {
		c->fault_code = PROTO_FAULT_FILE;
		c->fault = err ? err : xasprintf("simq: building the answer: %s", env.fault_string);
		if (list)
			xmlrpc_DECREF(list);
		if (one)
			xmlrpc_DECREF(one);
	} else {
		c->result = list ? list : one;
	}
	xmlrpc_env_clean(&env);
}

void proxy_sim_run(struct engine *e, struct api_call *c, const char *path)
{
	struct proxy_call *pc = c->data;

	if (pc->sim == NULL && !submit_cases(e, c, path))
		return;
	c->abandon = abandon;
	for (size_t i = 0; i < pc->sim->n; i++) {
		if (engine_is_active(e, pc->sim->ids[i])) {
			c->expired = false;
			api_park(c, RELOOK_S);
			return;
		}
	}
	answer(e, c, finish_results);
}
