#include "autoconf.h"

#include <stdlib.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "server/api.h"
#include "server/view.h"

/* simq.cache_why(id): the task whose result id reused, or which parts of its key differ from the nearest stored run. */
void api_cache_why(struct api *a, struct api_call *c)
{
	xmlrpc_env env;
	xmlrpc_value *id = NULL, *reasons;
	int64_t n = 0;
	struct cache_why why;
	char *err = NULL;
	enum engine_status st;

	xmlrpc_env_init(&env);
	if (xmlrpc_array_size(&env, c->params) == 1)
		xmlrpc_array_read_item(&env, c->params, 0, &id);
	if (env.fault_occurred || id == NULL || !api_read_int64(id, &n)) {
		api_fault(c, PROTO_FAULT_INVALID, "simq.cache_why: give one task id (a whole number)");
		if (id)
			xmlrpc_DECREF(id);
		xmlrpc_env_clean(&env);
		return;
	}
	xmlrpc_DECREF(id);
	st = engine_cache_why(api_engine(a), n, &why, &err);
	if (st != ENGINE_OK) {
		api_fault(c, st == ENGINE_NOT_FOUND ? PROTO_FAULT_NOT_FOUND : PROTO_FAULT_STORE, "simq.cache_why: %s", err);
		free(err);
		xmlrpc_env_clean(&env);
		return;
	}
	reasons = xmlrpc_array_new(&env);
	for (size_t i = 0; i < why.n; i++) {
		xmlrpc_value *r = xmlrpc_string_new(&env, why.reasons[i]);

		xmlrpc_array_append_item(&env, reasons, r);
		xmlrpc_DECREF(r);
	}
	xmlrpc_value *idv = view_id(&env, n), *src = view_id(&env, why.source), *near = view_id(&env, why.nearest);
	xmlrpc_value *v = xmlrpc_build_value(&env, "{s:V,s:b,s:V,s:V,s:V}", "id", idv, "cached", why.source != 0,
					     "source", src, "nearest", near, "reasons", reasons);

	xmlrpc_DECREF(idv);
	xmlrpc_DECREF(src);
	xmlrpc_DECREF(near);
	xmlrpc_DECREF(reasons);
	cache_why_free(&why);
	if (env.fault_occurred)
		api_fault(c, PROTO_FAULT_STORE, "simq.cache_why: %s", env.fault_string);
	else
		api_result(c, v);
	xmlrpc_env_clean(&env);
}
