#include "autoconf.h"

#include "server/api-backend.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/pool.h"
#include "proto/proto.h"
#include "server/view.h"
#include "server/view-pool.h"
#include "util/xalloc.h"

/* Argument i as a string (heap), or NULL when it is missing or not one. */
static char *string_arg(struct api_call *c, int i)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;
	const char *text = NULL;

	xmlrpc_env_init(&env);
	if (i < xmlrpc_array_size(&env, c->params))
		xmlrpc_array_read_item(&env, c->params, i, &v);
	if (v && xmlrpc_value_type(v) == XMLRPC_TYPE_STRING)
		xmlrpc_read_string(&env, v, &text);
	if (v)
		xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	return (char *)text;
}

static int arg_count(struct api_call *c)
{
	xmlrpc_env env;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, c->params);
	xmlrpc_env_clean(&env);
	return n;
}

/* A backend's name: what a [backend NAME] section may be called, at most 64 bytes. */
static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-@") == n;
}

/* The "job" of the options struct at argument i (heap), or NULL: a pool's job speaking of its own instance. */
static char *job_option_at(struct api_call *c, int i)
{
	xmlrpc_env env;
	xmlrpc_value *opts = NULL, *v = NULL;
	const char *text = NULL;

	if (arg_count(c) <= i)
		return NULL;
	xmlrpc_env_init(&env);
	xmlrpc_array_read_item(&env, c->params, i, &opts);
	if (opts && xmlrpc_value_type(opts) == XMLRPC_TYPE_STRUCT)
		xmlrpc_struct_find_value(&env, opts, "job", &v);
	if (v && xmlrpc_value_type(v) == XMLRPC_TYPE_STRING)
		xmlrpc_read_string(&env, v, &text);
	if (v)
		xmlrpc_DECREF(v);
	if (opts)
		xmlrpc_DECREF(opts);
	xmlrpc_env_clean(&env);
	return (char *)text;
}

/* {slots, max_batch[, job]} of simq.backend_add, within [backend]'s ranges; false after a fault. */
static bool read_sizes(struct api_call *c, struct backend_config *b)
{
	static const char *const keys[] = {"slots", "max_batch"};
	int *fields[] = {&b->slots, &b->max_batch};
	xmlrpc_env env;
	xmlrpc_value *opts = NULL;
	bool ok = true;

	if (arg_count(c) < 3)
		return true;
	xmlrpc_env_init(&env);
	xmlrpc_array_read_item(&env, c->params, 2, &opts);
	if (env.fault_occurred || xmlrpc_value_type(opts) != XMLRPC_TYPE_STRUCT) {
		api_fault(c, PROTO_FAULT_INVALID, "%s: the third argument must be a struct {slots, max_batch, job}",
		          c->method->name);
		ok = false;
	}
	for (size_t k = 0; ok && k < 2; k++) {
		xmlrpc_value *v = NULL;
		const struct option_def *o = option_find("backend", keys[k]);

		xmlrpc_struct_find_value(&env, opts, keys[k], &v);
		if (v == NULL)
			continue;
		if (xmlrpc_value_type(v) == XMLRPC_TYPE_INT)
			xmlrpc_read_int(&env, v, fields[k]);
		if (xmlrpc_value_type(v) != XMLRPC_TYPE_INT || *fields[k] < o->min || *fields[k] > o->max) {
			char *allowed = option_allowed_text(o);

			api_fault(c, PROTO_FAULT_INVALID, "%s: %s: allowed: %s", c->method->name, keys[k], allowed);
			free(allowed);
			ok = false;
		}
		xmlrpc_DECREF(v);
	}
	if (opts)
		xmlrpc_DECREF(opts);
	xmlrpc_env_clean(&env);
	return ok;
}

struct existing {
	const char *name;
	char *url;
};

static void find_existing(const struct sched_backend_info *b, void *ud)
{
	struct existing *x = ud;

	if (strcmp(b->name, x->name) == 0)
		x->url = xstrdup(b->url);
}

static void answer_backend(struct api_call *c, const char *name, const char *url, bool added, bool job_cancelled)
{
	xmlrpc_env env;
	xmlrpc_value *v;

	xmlrpc_env_init(&env);
	v = xmlrpc_build_value(&env, "{s:s,s:s,s:b,s:b}", "name", name, "url", url, "added", (xmlrpc_bool)added,
	                       "job_cancelled", (xmlrpc_bool)job_cancelled);
	if (env.fault_occurred)
		api_fault(c, PROTO_FAULT_STORE, "building the answer: %s", env.fault_string);
	else
		api_result(c, v);
	xmlrpc_env_clean(&env);
}

struct claim {
	const char *name;
	const char *pool, *job; /* the pool whose NAME-DIGITS it is, and the digits */
	struct pool *owner;
};

static void find_claim(const struct pool *p, void *ud)
{
	struct claim *x = ud;

	if (x->pool == NULL && pool_claims(p, x->name, &x->job)) {
		x->pool = pool_name(p);
		x->owner = (struct pool *)p; /* the engine's pools are the server's, and the loop's */
	}
}

/*
 * NAME-DIGITS of a [pool NAME] is its job DIGITS' instance: only that job registers it (job given,
 * the same digits), and its registration wins over a URL the server had from elsewhere (a file it
 * left, a stale one).  False after a fault.
 */
static bool pool_name_rules(struct api_call *c, struct engine *e, struct backend_config *b, const char *url,
                            const char *job, struct existing *old)
{
	const char *name = old->name;
	struct claim x = {.name = name};
	char *err = NULL, *gone;

	engine_each_pool(e, find_claim, &x);
	if (x.pool == NULL)
		return true;
	if (job == NULL || strcmp(job, x.job) != 0) {
		api_fault(
		    c, PROTO_FAULT_INVALID,
		    "%s: name \"%s\": names %s-DIGITS are [pool %s]'s instances, each registered by its Slurm job "
		    "(job %s's own); choose another name",
		    c->method->name, name, x.pool, x.pool, x.job);
		return false;
	}
	b->probe_timeout = pool_answer_within(x.owner);
	if (old->url == NULL || strcmp(old->url, url) == 0)
		return true;
	gone = xasprintf("its job %s registered it again at %s", job, url);
	if (engine_backend_remove(e, name, gone, &err) != ENGINE_OK)
		free(err);
	free(gone);
	free(old->url);
	old->url = NULL;
	return true;
}

/* Added: a pool's job registering its own instance tells its pool at once. */
static void registered(struct api_call *c, struct engine *e, const struct backend_config *b, const char *job)
{
	struct claim x = {.name = b->name};

	engine_each_pool(e, find_claim, &x);
	if (x.owner && job && strcmp(job, x.job) == 0)
		pool_instance_registered(x.owner, job, b->url);
	answer_backend(c, b->name, b->url, true, false);
}

/* A fault naming an argument and showing its value as DESIGN 10 has it: escaped, cut to 80 characters. */
static void shown_fault(struct api_call *c, const char *what, const char *value, const char *rule)
{
	char *shown = buf_shown(value);

	api_fault(c, PROTO_FAULT_INVALID, "%s: %s \"%s\": %s", c->method->name, what, shown, rule);
	free(shown);
}

/* simq.backend_add(name, url[, {slots, max_batch, job}]): the same name at the same URL again is no change. */
static void backend_add(struct api *a, struct api_call *c)
{
	struct engine *e = api_engine(a);
	char *name = string_arg(c, 0), *url = string_arg(c, 1), *why = NULL, *err = NULL, *job = job_option_at(c, 2);
	struct backend_config b = SCHED_BACKEND_DEFAULTS;
	struct existing old = {.name = name};

	if (arg_count(c) < 2 || arg_count(c) > 3 || name == NULL || url == NULL)
		api_fault(c, PROTO_FAULT_INVALID,
		          "%s takes a name and a URL (strings) and optionally {slots, max_batch}", c->method->name);
	else if (!valid_name(name))
		shown_fault(c, "name", name, "allowed: 1 to 64 of a-z 0-9 _ . - @");
	else if (!config_check_value("backend", "url", url, &why))
		shown_fault(c, "url", url, why);
	else if (read_sizes(c, &b) && (scheduler_each_backend(engine_scheduler(e), find_existing, &old),
	                               pool_name_rules(c, e, &b, url, job, &old))) {
		b.name = name;
		b.url = url;
		if (old.url && strcmp(old.url, url) == 0)
			answer_backend(c, name, url, false, false);
		else if (engine_backend_add(e, &b, &err) == ENGINE_OK)
			registered(c, e, &b, job);
		else
			api_fault(c, PROTO_FAULT_INVALID, "%s: %s", c->method->name, err);
	}
	free(old.url);
	free(err);
	free(why);
	free(name);
	free(url);
	free(job);
}

/* simq.backend_remove(name[, {job}]) -> {name, url, added: false, job_cancelled}: its calls in flight finish; a pool
 * instance's job is cancelled. */
static void backend_remove(struct api *a, struct api_call *c)
{
	char *name = string_arg(c, 0), *err = NULL, *job = arg_count(c) == 2 ? job_option_at(c, 1) : NULL;
	struct existing old = {.name = name};

	if (name)
		scheduler_each_backend(engine_scheduler(api_engine(a)), find_existing, &old);
	if (arg_count(c) < 1 || arg_count(c) > 2 || name == NULL)
		api_fault(c, PROTO_FAULT_INVALID, "%s takes a backend's name (a string) and optionally {job}",
		          c->method->name);
	else if (engine_backend_remove(api_engine(a), name, NULL, &err) != ENGINE_OK)
		api_fault(c, PROTO_FAULT_NOT_FOUND, "%s: %s", c->method->name, err);
	else {
		struct claim x = {.name = name};

		engine_each_pool(api_engine(a), find_claim, &x);
		/* Its own job leaving (job given) ends by itself; the operator's remove cancels it. */
		bool cancelled =
		    x.owner && (job == NULL || strcmp(job, x.job) != 0) && pool_backend_removed(x.owner, name);

		answer_backend(c, name, old.url ? old.url : "", false, cancelled);
	}
	free(old.url);
	free(err);
	free(job);
	free(name);
}

/* simq.pause([backend]) and simq.resume([backend]): dispatch as a whole, or one backend's. */
static void set_paused(struct api *a, struct api_call *c, bool paused)
{
	char *name = string_arg(c, 0), *err = NULL;
	bool now;

	if (arg_count(c) > 1 || (arg_count(c) == 1 && name == NULL)) {
		api_fault(c, PROTO_FAULT_INVALID, "%s takes no argument, or a backend's name (a string)", c->method->name);
		free(name);
		return;
	}
	enum engine_status st = engine_pause(api_engine(a), name, paused, &now, &err);

	if (st != ENGINE_OK) {
		api_fault(c, view_fault_of(st), "%s: %s", c->method->name, err);
		free(err);
	} else {
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		api_result(c, xmlrpc_bool_new(&env, now));
		xmlrpc_env_clean(&env);
	}
	free(name);
}

static void pause_dispatch(struct api *a, struct api_call *c)
{
	set_paused(a, c, true);
}

static void resume_dispatch(struct api *a, struct api_call *c)
{
	set_paused(a, c, false);
}

/* simq.backends() -> {backends, pool_instances, pools}. */
static void backends(struct api *a, struct api_call *c)
{
	xmlrpc_env env;
	xmlrpc_value *b, *p, *pools, *v;

	if (arg_count(c) != 0) {
		api_fault(c, PROTO_FAULT_INVALID, "%s takes no arguments", c->method->name);
		return;
	}
	xmlrpc_env_init(&env);
	b = view_backends(&env, api_engine(a));
	p = view_pool_instances(&env, api_engine(a));
	pools = view_pools(&env, api_engine(a));
	v = xmlrpc_build_value(&env, "{s:A,s:A,s:A}", "backends", b, "pool_instances", p, "pools", pools);
	xmlrpc_DECREF(b);
	xmlrpc_DECREF(p);
	xmlrpc_DECREF(pools);
	if (env.fault_occurred)
		api_fault(c, PROTO_FAULT_STORE, "building the answer: %s", env.fault_string);
	else
		api_result(c, v);
	xmlrpc_env_clean(&env);
}

const struct api_method api_backend_methods[] = {
    {"simq.backend_add", "simq.backend_add(name, url[, {slots, max_batch, job}]) -> {name, url, added}", backend_add},
    {"simq.backend_remove",
     "simq.backend_remove(name[, {job}]) -> {name, url, added, job_cancelled}: its calls in flight finish first; a "
     "pool instance's job is cancelled unless it is that job removing it",
     backend_remove},
    {"simq.backends", "simq.backends() -> {backends, pool_instances, pools}", backends},
    {"simq.pause", "simq.pause([backend])", pause_dispatch},
    {"simq.resume", "simq.resume([backend]): true when dispatch is paused again at once (simq.stats says why)",
     resume_dispatch},
};
const size_t api_backend_method_count = sizeof api_backend_methods / sizeof api_backend_methods[0];
