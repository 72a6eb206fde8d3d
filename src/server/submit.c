#include "autoconf.h"

#include "server/submit.h"

#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "server/validate.h"
#include "server/view.h"
#include "util/xalloc.h"

static void __attribute__((format(printf, 3, 4))) fault(struct submit_answer *out, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out->fault = xvasprintf(fmt, ap);
	va_end(ap);
	out->fault_code = code;
}

static int fault_of(enum engine_status st)
{
	return st == ENGINE_INVALID ? PROTO_FAULT_INVALID : st == ENGINE_STATE ? PROTO_FAULT_STATE : PROTO_FAULT_STORE;
}

/* Argument i (borrowed), or NULL. */
static xmlrpc_value *param(xmlrpc_value *params, int i)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;

	xmlrpc_env_init(&env);
	if (i < xmlrpc_array_size(&env, params))
		xmlrpc_array_read_item(&env, params, i, &v);
	xmlrpc_env_clean(&env);
	if (v)
		xmlrpc_DECREF(v);
	return v;
}

/* The request key of argument 1 (heap), NULL when there is none; a fault when it is no key. */
static char *read_key(xmlrpc_value *v, const char *method, struct submit_answer *out)
{
	xmlrpc_env env;
	const char *key = NULL;
	char *rule = NULL, *shown;

	if (v == NULL)
		return NULL;
	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRING)
		xmlrpc_read_string(&env, v, &key);
	xmlrpc_env_clean(&env);
	if (key && key[0] && (rule = validate_text_rule(key, SUBMIT_MAX_KEY)) == NULL)
		return (char *)key;
	shown = proto_shown(v);
	fault(out, PROTO_FAULT_INVALID, "%s: request_key %s: %s%sallowed: text of 1 to %d bytes without control "
	      "characters", method, shown, rule ? rule : "", rule ? "; " : "", SUBMIT_MAX_KEY);
	free(shown);
	free(rule);
	free((void *)key);
	return NULL;
}

/* FNV-1a, 64 bits: enough to tell a repeat from another request under the same key. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* Folds one task, as canonical JSON, into h; false when it is no JSON (validation will say why). */
static bool hash_task(xmlrpc_value *task, uint64_t *h)
{
	char *err = NULL, *text;
	json_t *j = proto_to_json(task, &err);

	free(err);
	if (j == NULL)
		return false;
	text = proto_canonical(j);
	*h = fnv1a(fnv1a(*h, text), "\n");
	free(text);
	json_decref(j);
	return true;
}

/* What was asked, canonical (sorted members, snapped numbers), hashed task by task; NULL if it is no JSON. */
static char *fingerprint(xmlrpc_value *list, bool many)
{
	uint64_t h = UINT64_C(14695981039346656037);
	bool ok = true;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	if (!many || xmlrpc_value_type(list) != XMLRPC_TYPE_ARRAY) {
		ok = hash_task(list, &h);
	} else {
		int n = xmlrpc_array_size(&env, list);

		for (int i = 0; i < n && ok && !env.fault_occurred; i++) {
			xmlrpc_value *item;

			xmlrpc_array_read_item(&env, list, i, &item);
			if (env.fault_occurred)
				break;
			ok = hash_task(item, &h);
			xmlrpc_DECREF(item);
		}
		ok = ok && !env.fault_occurred;
	}
	xmlrpc_env_clean(&env);
	return ok ? xasprintf("fnv1a64:%016llx", (unsigned long long)h) : NULL;
}

static xmlrpc_value *answer_ids(const int64_t *ids, size_t n, bool many, struct submit_answer *out)
{
	xmlrpc_env env;
	xmlrpc_value *v;

	xmlrpc_env_init(&env);
	v = many ? view_ids(&env, ids, n) : view_id(&env, ids[0]);
	if (env.fault_occurred) {
		fault(out, PROTO_FAULT_STORE, "building the answer: %s", env.fault_string);
		if (v)
			xmlrpc_DECREF(v);
		v = NULL;
	}
	xmlrpc_env_clean(&env);
	return v;
}

/* A repeat of a stored request: true when it answered (the first request's ids, or a fault). */
static bool answered_before(struct engine *e, const struct engine_request *req, struct submit_answer *out)
{
	int64_t *ids = NULL;
	size_t n = 0;
	char *err = NULL;
	enum engine_status st = engine_request_ids(e, req, &ids, &n, &err);

	if (st == ENGINE_OK && (n > 0 && (req->many || n == 1)))
		out->result = answer_ids(ids, n, req->many, out);
	else if (st != ENGINE_NOT_FOUND)
		fault(out, fault_of(st), "%s", err ? err : "the stored request has no tasks");
	free(ids);
	free(err);
	return st != ENGINE_NOT_FOUND;
}

/*
 * Test hook (STYLE 16): SIMQ_TEST_DIE_AFTER_SUBMIT=N in the server's environment kills it with
 * SIGKILL once the Nth submit is stored and before it is answered, the worst moment to die.
 */
static void die_after_submit_if_asked(void)
{
	static long stored;
	const char *n = getenv("SIMQ_TEST_DIE_AFTER_SUBMIT");

	if (n && ++stored == atol(n))
		raise(SIGKILL);
}

/* The tasks of simq.submit (list is one struct) or simq.submit_many (an array), validated; NULL after a fault. */
static struct task **read_tasks(xmlrpc_value *list, bool many, size_t *n, struct submit_answer *out)
{
	struct validate_cache cache = {0};
	struct task **tasks;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	*n = 1;
	if (many) {
		if (xmlrpc_value_type(list) != XMLRPC_TYPE_ARRAY) {
			char *shown = proto_shown(list);

			fault(out, PROTO_FAULT_INVALID, "simq.submit_many: tasks %s: allowed: an array of task structs", shown);
			free(shown);
			return NULL;
		}
		*n = (size_t)xmlrpc_array_size(&env, list);
		if (*n == 0 || *n > PROTO_MAX_BATCH) {
			fault(out, PROTO_FAULT_INVALID, "simq.submit_many: tasks: %zu of them; allowed: 1 to %d in one call",
			      *n, PROTO_MAX_BATCH);
			return NULL;
		}
	}
	tasks = xcalloc(*n, sizeof *tasks);
	for (size_t i = 0; i < *n && out->fault == NULL; i++) {
		xmlrpc_value *v = list;
		struct validate_error err;
		char where[48] = "";

		if (many) {
			xmlrpc_array_read_item(&env, list, (int)i, &v);
			snprintf(where, sizeof where, "task %zu: ", i + 1);
		}
		/* One bad task: nothing is stored. */
		if (!validate_task(v, &cache, &tasks[i], &err)) {
			out->fault = validate_error_text(&err, where);
			out->fault_code = PROTO_FAULT_INVALID;
			validate_error_clear(&err);
		}
		if (many)
			xmlrpc_DECREF(v);
	}
	validate_cache_free(&cache);
	xmlrpc_env_clean(&env);
	if (out->fault) {
		for (size_t k = 0; k < *n; k++)
			task_free(&tasks[k]);
		xfree(&tasks);
	}
	return tasks;
}

void submit_call(struct engine *e, xmlrpc_value *params, bool many, struct submit_answer *out)
{
	xmlrpc_value *list = param(params, 0);
	char *key, *print = NULL, *err = NULL;
	struct task **tasks = NULL;
	size_t n = 0;

	memset(out, 0, sizeof *out);
	key = read_key(param(params, 1), many ? "simq.submit_many" : "simq.submit", out);
	if (out->fault)
		return;
	struct engine_request req = {.key = key, .many = many};

	if (key && (print = fingerprint(list, many)) != NULL) {
		req.fingerprint = print;
		if (answered_before(e, &req, out))
			goto done;
	}
	tasks = read_tasks(list, many, &n, out);
	if (tasks) {
		int64_t *ids = xcalloc(n, sizeof *ids);
		enum engine_status st = engine_submit(e, req.fingerprint ? &req : NULL, tasks, n, ids, &err);

		if (st != ENGINE_OK) {
			fault(out, fault_of(st), "%s", err ? err : "failed");
		} else {
			die_after_submit_if_asked();
			out->result = answer_ids(ids, n, many, out);
		}
		free(ids);
		free(tasks);
	}
done:
	free(err);
	free(print);
	free(key);
}
