/*
 * view-pool — the pools' instances (engine/pool.h) as the API shows them:
 * simq.view's and simq.backends' pool_instances, and the pool and job of a
 * backend that is one.  Reads the engine; loop thread only.
 */
#ifndef SIMQ_SERVER_VIEW_POOL_H
#define SIMQ_SERVER_VIEW_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

struct engine;

/* The pools' instances, registered or not: [{pool, job, backend, state, node, reason, age}]. */
xmlrpc_value *view_pool_instances(xmlrpc_env *env, const struct engine *e);
/* The pools as a whole: [{name, health (ok, failing, unlisted), failures, next_try, problem, output,
 * pending, started, registered, pending_reason}]. */
xmlrpc_value *view_pools(xmlrpc_env *env, const struct engine *e);
/* The pool and job of the instance that registers as backend; false (and both "") when none does. */
bool view_pool_of(const struct engine *e, const char *backend, char *pool, size_t psize, char *job, size_t jsize);

#endif
