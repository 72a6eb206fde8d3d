#include "autoconf.h"

#include "server/view-pool.h"

#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/pool.h"

struct instances_ctx {
	xmlrpc_env *env;
	xmlrpc_value *list;
	const char *backend; /* view_pool_of: the one looked for */
	char *pool, *job;
	size_t psize, jsize;
	bool found;
};

static void add_instance(const struct pool_instance_info *i, void *ud)
{
	struct instances_ctx *x = ud;
	xmlrpc_value *v = xmlrpc_build_value(x->env, "{s:s,s:s,s:s,s:s,s:s,s:s,s:d}", "pool", i->pool, "job", i->job,
	                                     "backend", i->backend, "state", pool_state_name(i->state), "node", i->node,
	                                     "reason", i->reason ? i->reason : "", "age", i->age);

	xmlrpc_array_append_item(x->env, x->list, v);
	xmlrpc_DECREF(v);
}

static void each_instance(const struct pool *p, void *ud)
{
	pool_each_instance(p, add_instance, ud);
}

xmlrpc_value *view_pool_instances(xmlrpc_env *env, const struct engine *e)
{
	struct instances_ctx x = {.env = env, .list = xmlrpc_array_new(env)};

	engine_each_pool(e, each_instance, &x);
	return x.list;
}

static void match_instance(const struct pool_instance_info *i, void *ud)
{
	struct instances_ctx *x = ud;

	if (!x->found && strcmp(i->backend, x->backend) == 0) {
		x->found = true;
		snprintf(x->pool, x->psize, "%s", i->pool);
		snprintf(x->job, x->jsize, "%s", i->job);
	}
}

static void match_pool(const struct pool *p, void *ud)
{
	pool_each_instance(p, match_instance, ud);
}

bool view_pool_of(const struct engine *e, const char *backend, char *pool, size_t psize, char *job, size_t jsize)
{
	struct instances_ctx x = {.backend = backend, .pool = pool, .job = job, .psize = psize, .jsize = jsize};

	pool[0] = job[0] = '\0';
	engine_each_pool(e, match_pool, &x);
	return x.found;
}

static void add_pool(const struct pool *p, void *ud)
{
	struct instances_ctx *x = ud;
	struct pool_status st;
	xmlrpc_value *v;

	pool_get_status(p, &st);
	v = xmlrpc_build_value(x->env, "{s:s,s:s,s:i,s:d,s:s,s:s,s:i,s:i,s:i,s:s}", "name", st.name, "health",
	                       pool_health_name(st.health), "failures", st.failures, "next_try", st.next_try, "problem",
	                       st.problem, "output", st.output, "pending", st.pending, "started", st.started,
	                       "registered", st.registered, "pending_reason", st.pending_reason);
	xmlrpc_array_append_item(x->env, x->list, v);
	xmlrpc_DECREF(v);
}

xmlrpc_value *view_pools(xmlrpc_env *env, const struct engine *e)
{
	struct instances_ctx x = {.env = env, .list = xmlrpc_array_new(env)};

	engine_each_pool(e, add_pool, &x);
	return x.list;
}
