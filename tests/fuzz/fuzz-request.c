/*
 * libFuzzer target: what an API client sends, from the HTTP body to the
 * method.  The input goes the way request.c takes a body: xmlscan with the
 * request limits, then proto_parse_call straight to the method it names,
 * or, for a call it does not take, xmlrpc-c's registry, whose methods are simq's own
 * (api.c) on a real engine with its store in a temporary directory, started
 * paused and with a backend that never answers.  The methods run on this
 * thread, as the loop thread runs them; a call that would wait is answered
 * at once, as a server that stops answers it.  Nothing may crash or leak,
 * whatever a client sends.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/server.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "proto/xmlin.h"
#include "proto/xmlscan.h"
#include "server/api.h"
#include "server/loopclock.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct api *api;
static xmlrpc_registry *registry;

static void never_start(void *impl, struct backend_call *call)
{
}

static void never_interrupt(void *impl, struct backend_call *call)
{
}

static const struct backend_ops silent_backend = {.start = never_start, .interrupt = never_interrupt};

static void keep_serving(void *ud)
{
}

static void handed_back(struct api_call *c)
{
}

/* A method of the registry: runs simq's method c on this thread; one that parks is answered at once. */
static xmlrpc_value *run_method(xmlrpc_env *env, xmlrpc_value *params, void *server_info, void *call_info)
{
	struct api_call c = {.method = server_info, .params = params, .on_done = handed_back};

	api_run(api, &c);
	if (!c.done)
		api_drop_parked(api);
	if (c.finish)
		c.finish(&c);
	if (c.fault_code) {
		xmlrpc_env_set_fault(env, c.fault_code, c.fault);
		free(c.fault);
		return NULL;
	}
	return c.result;
}

/* The engine, the API and the registry, once for the whole run. */
static void set_up(void)
{
	static struct backend_config backend = {.name = "silent", .url = "http://127.0.0.1:9/RPC2", .slots = 1,
						 .max_batch = 16, .call_timeout = 3600};
	static struct clock clock;
	static char *dir, *db_path, *results_dir; /* kept for the whole run */
	static struct writer *eo_writer;
	const char *tmp = getenv("TMPDIR");
	char *err = NULL;
	struct ev_loop *loop = ev_default_loop(0);
	xmlrpc_env env;

	dir = xasprintf("%s/simq-fuzz-request-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
	clock = loopclock_new(loop);
	/* The silent backend answers nothing, so the writer never writes; the engine needs one all the same. */
	eo_writer = writer_new(&clock, &err);
	if (eo_writer == NULL) {
		fprintf(stderr, "writer_new: %s\n", err);
		abort();
	}
	db_path = xasprintf("%s/simq.db", dir);
	results_dir = xasprintf("%s/results", dir);
	struct engine_options eo = {
		.db_path = db_path,
		.log_keep = 100,
		.durability = STORE_DURABILITY_NORMAL,
		.start_paused = true,
		.sched = {.max_retries = 3, .down_after = 3, .backoff_base = 5, .backoff_max = 60, .probe_max = 60,
			  .retry_faults = "license", .results_dir = results_dir, .seed = 1,
			  .writer_ops = &writer_thread_ops, .writer_impl = eo_writer},
		.backends = &backend,
		.nbackends = 1,
		.backend_ops = &silent_backend,
		.clock = &clock,
		.started_line = "server started (fuzz-request)",
	};
	struct engine *e = engine_open(&eo, &err);

	if (e == NULL) {
		fprintf(stderr, "engine_open: %s\n", err);
		abort();
	}
	api = api_new(loop, e, dir, keep_serving, NULL);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, PROTO_MAX_CALL_BYTES);
	xmlrpc_limit_set(XMLRPC_NESTING_LIMIT_ID, PROTO_MAX_NESTING + 1);
	xmlrpc_env_init(&env);
	registry = xmlrpc_registry_new(&env);
	for (size_t i = 0; i < api_method_count; i++) {
		struct xmlrpc_method_info3 info = {.methodName = api_methods[i].name, .methodFunction = run_method,
						   .serverInfo = (void *)&api_methods[i]};

		xmlrpc_registry_add_method3(&env, registry, &info);
	}
	if (env.fault_occurred)
		abort();
	xmlrpc_env_clean(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xmlscan_limits limits = {.max_bytes = PROTO_MAX_CALL_BYTES,
						     .max_nesting = PROTO_MAX_NESTING,
						     .max_depth = PROTO_MAX_XML_DEPTH,
						     .max_text = PROTO_MAX_TEXT};
	struct xmlscan scan;
	xmlrpc_env env;
	xmlrpc_mem_block *out = NULL;
	xmlrpc_value *params = NULL;
	char *method = NULL, *err = NULL;
	bool ran = false;

	if (api == NULL)
		set_up();
	xmlscan_init(&scan, &limits);
	if (!xmlscan_feed(&scan, (const char *)data, size))
		return 0;
	xmlrpc_env_init(&env);
	if (proto_parse_call((const char *)data, size, &method, &params, &err)) {
		for (size_t i = 0; i < api_method_count && !ran; i++) {
			if (strcmp(api_methods[i].name, method) == 0) {
				xmlrpc_value *result = run_method(&env, params, (void *)&api_methods[i], NULL);

				if (result)
					xmlrpc_DECREF(result);
				ran = true;
			}
		}
		xmlrpc_DECREF(params);
		free(method);
	}
	free(err);
	if (!ran)
		xmlrpc_registry_process_call2(&env, registry, (const char *)data, size, NULL, &out);
	if (out)
		xmlrpc_mem_block_free(out);
	xmlrpc_env_clean(&env);
	return 0;
}
