#include "autoconf.h"

#include "server/clean.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "util/xalloc.h"

/* One state of the filter into *states; false and *err for one that is not a final state. */
static bool read_state(const json_t *j, unsigned *states, char **err)
{
	enum task_state st;
	const char *name = json_string_value(j);

	if (name == NULL || !task_state_parse(name, &st)) {
		char *text = proto_json_text(j, false);

		*err = xasprintf("simq.clean: state %s: allowed: completed, failed or cancelled, or an array of them", text);
		free(text);
		return false;
	}
	if (!task_state_is_final(st)) {
		*err = xasprintf("simq.clean: state %s: clean deletes finished tasks only (completed, failed, cancelled); "
				 "a %s task is never cleaned: cancel it first (simq.cancel), then clean it", name, name);
		return false;
	}
	*states |= 1u << st;
	return true;
}

/* The filter's members into sel (model points into f) and *dry_run; false and *err for a bad one. */
static bool read_filter(json_t *f, struct store_select *sel, int64_t now, bool *dry_run, char **err)
{
	const char *key;
	json_t *v;

	json_object_foreach(f, key, v)
	{
		if (strcmp(key, "older_than") == 0 && json_is_number(v) && json_number_value(v) >= 0) {
			sel->finished_before = now - (int64_t)(json_number_value(v) * 1000);
		} else if (strcmp(key, "model") == 0 && json_is_string(v)) {
			sel->model = json_string_length(v) ? json_string_value(v) : NULL;
		} else if (strcmp(key, "name") == 0 && json_is_string(v)) {
			sel->name = json_string_length(v) ? json_string_value(v) : NULL;
		} else if (strcmp(key, "dry_run") == 0 && json_is_boolean(v)) {
			*dry_run = json_is_true(v);
		} else if (strcmp(key, "state") == 0 && (json_is_string(v) || json_is_array(v))) {
			size_t i;
			json_t *item;

			if (json_is_string(v) && !read_state(v, &sel->states, err))
				return false;
			json_array_foreach(v, i, item)
			{
				if (!read_state(item, &sel->states, err))
					return false;
			}
		} else {
			char *text = proto_json_text(v, false);

			*err = xasprintf("simq.clean: %s %s: allowed: older_than (seconds since the task finished, from 0), "
					 "state (completed, failed, cancelled, or an array of them), model (a string), "
					 "name (a string), dry_run (a boolean)", key, text);
			free(text);
			return false;
		}
	}
	return true;
}

/* Sets the answer's fault (text heap, taken). */
static void fault(struct submit_answer *out, int code, char *text)
{
	out->fault = text;
	out->fault_code = code;
}

/* {dry_run, tasks, completed, failed, cancelled, files, bytes} */
static xmlrpc_value *freed_value(xmlrpc_env *env, bool dry_run, const struct store_freed *f)
{
	return xmlrpc_build_value(env, "{s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "dry_run", (xmlrpc_bool)dry_run, "tasks",
				  (xmlrpc_int64)f->tasks, "completed", (xmlrpc_int64)f->by_state[TASK_COMPLETED], "failed",
				  (xmlrpc_int64)f->by_state[TASK_FAILED], "cancelled",
				  (xmlrpc_int64)f->by_state[TASK_CANCELLED], "files", (xmlrpc_int64)f->files, "bytes",
				  (xmlrpc_int64)f->bytes);
}

void clean_call(struct engine *e, xmlrpc_value *params, struct submit_answer *out)
{
	struct store_select sel = {.from = STORE_HOT | STORE_ARCHIVE};
	struct store_freed freed;
	bool dry_run = false;
	char *err = NULL;
	xmlrpc_env env;
	json_t *f = NULL;
	xmlrpc_value *arg = NULL;

	*out = (struct submit_answer){0};
	xmlrpc_env_init(&env);
	int n = xmlrpc_array_size(&env, params);

	if (n == 1)
		xmlrpc_array_read_item(&env, params, 0, &arg);
	f = n == 0 ? json_object() : arg ? proto_to_json(arg, &err) : NULL;
	if (n > 1 || f == NULL || !json_is_object(f)) {
		char *shown = arg ? proto_shown(arg) : xasprintf("%d arguments", n);

		fault(out, PROTO_FAULT_INVALID, xasprintf("simq.clean: %s: allowed: one struct {older_than, state, model, "
							  "name, dry_run}, every member optional", shown));
		free(shown);
	} else if (!read_filter(f, &sel, engine_now_ms(e), &dry_run, &err)) {
		fault(out, PROTO_FAULT_INVALID, err);
		err = NULL;
	} else if (engine_clean(e, &sel, dry_run, &freed, &err) != ENGINE_OK) {
		fault(out, PROTO_FAULT_STORE, xasprintf("simq.clean: %s", err));
	} else {
		out->result = freed_value(&env, dry_run, &freed);
		if (env.fault_occurred)
			fault(out, PROTO_FAULT_STORE, xasprintf("building the answer: %s", env.fault_string));
	}
	if (arg)
		xmlrpc_DECREF(arg);
	json_decref(f);
	free(err);
	xmlrpc_env_clean(&env);
}
