/* simq.result: the stored result checked on the loop, its CSV made on the caller's thread. */
#include "autoconf.h"

#include "server/result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "engine/results.h"
#include "proto/proto.h"
#include "server/view.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

/* The bound on the CSV; the tests lower it (SIMQ_TEST_RESULT_CSV_MAX, in bytes) to meet it cheaply. */
static size_t csv_max(void)
{
	const char *test = getenv("SIMQ_TEST_RESULT_CSV_MAX");

	return test && atol(test) > 0 ? (size_t)atol(test) : RESULT_CSV_MAX;
}

void result_add_csv(struct result_reply *out)
{
	struct store_result *r = out->later;
	struct buf csv = BUF_INIT;
	char *err = NULL;
	xmlrpc_env env;

	out->later = NULL;
	xmlrpc_env_init(&env);
	if (!results_csv_of_file(r, csv_max(), &csv, &err)) {
		if (errno == EFBIG)
			out->fault = xasprintf("task %lld's result: %s, the most simq.result serves: read %s directly (a "
					       "MAT file: MATLAB, Octave, scipy.io.loadmat), or run simq result %lld --csv on "
					       "this machine, which reads it itself", (long long)r->task_id, err, r->path,
					       (long long)r->task_id);
		else
			out->fault = xasprintf("task %lld's result: %s", (long long)r->task_id, err);
	} else {
		xmlrpc_value *text = xmlrpc_string_new_lp(&env, csv.len, buf_str(&csv));

		if (!env.fault_occurred) {
			xmlrpc_struct_set_value(&env, out->value, "csv", text);
			xmlrpc_DECREF(text);
		}
		if (env.fault_occurred)
			out->fault = xasprintf("task %lld's result: %s cannot be sent as CSV: %s", (long long)r->task_id,
					       r->path, env.fault_string);
	}
	if (out->fault) {
		out->fault_code = PROTO_FAULT_FILE;
		xmlrpc_DECREF(out->value);
		out->value = NULL;
	}
	xmlrpc_env_clean(&env);
	buf_free(&csv);
	free(err);
	store_result_free(r);
	free(r);
}

void result_answer(struct engine *e, const struct task *t, bool csv, struct result_reply *out)
{
	struct store_result r = {0};
	char *err = NULL;
	xmlrpc_env env;

	*out = (struct result_reply){0};
	if (engine_result(e, t->id, &r) != ENGINE_OK) {
		out->fault_code = PROTO_FAULT_NOT_FOUND;
		out->fault = xasprintf("task %lld has no result (it is %s)", (long long)t->id, task_state_name(t->state));
		return;
	}
	xmlrpc_env_init(&env);
	if (r.evicted) {
		char when[TIME_ISO8601_MAX];
		int64_t max = engine_retain_options(e)->results_max_size;
		struct buf limit = BUF_INIT;
		/* A cached task's result is its source's file: say whose file went. */
		char *whose = r.source ? xasprintf("the result of task %lld (task %lld's file, reused from the cache)",
						   (long long)t->id, (long long)r.source)
				       : xasprintf("the result of task %lld", (long long)t->id);

		if (max > 0)
			buf_add_bytes(&limit, max);
		else
			buf_adds(&limit, "no bound now");

		out->fault_code = PROTO_FAULT_FILE;
		out->fault = xasprintf("%s was evicted on %s to keep results/ under results_max_size "
				       "(%s, [store] in simq.ini; the least recently used files go first); its "
				       "summary is kept (simq show %lld): submit the task again to have it run again",
				       whose, time_iso8601(when, r.evicted * 1000000, true), buf_str(&limit),
				       (long long)t->id);
		buf_free(&limit);
		free(whose);
	} else if (!results_check(&r, &err)) {
		out->fault_code = PROTO_FAULT_FILE;
		out->fault = xasprintf("task %lld's result: %s", (long long)t->id, err);
	} else {
		engine_result_used(e, t->id);
		out->value = view_result(&env, t->id, &r);
		if (env.fault_occurred) {
			if (out->value)
				xmlrpc_DECREF(out->value);
			out->value = NULL;
			out->fault_code = PROTO_FAULT_STORE;
			out->fault = xasprintf("building the answer: %s", env.fault_string);
		} else if (csv) {
			struct store_result *kept = xmalloc(sizeof *kept);

			*kept = r;
			out->later = kept;
			r = (struct store_result){0};
		}
	}
	xmlrpc_env_clean(&env);
	store_result_free(&r);
	free(err);
}
