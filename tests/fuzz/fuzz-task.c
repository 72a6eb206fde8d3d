/*
 * libFuzzer target: what clients send.  The input, read as JSON, goes through
 * the server's task validation; read as text, through the CLI's value and
 * sweep syntax.  Neither may crash, leak or accept a task it should not.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/values.h"
#include "proto/proto.h"
#include "server/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *err = NULL;
	xmlrpc_env env;
	json_t *j;

	memcpy(text, data, size);
	text[size] = '\0';
	xmlrpc_env_init(&env);
	j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (j) {
		xmlrpc_value *v = proto_from_json(&env, j);
		struct task *t = NULL;
		struct validate_cache cache = {0};

		if (v) {
			if (validate_task(v, "", &cache, &t, &err) && (t == NULL || t->model[0] != '/'))
				abort(); /* an accepted task has an absolute model path */
			task_free(&t);
			free(err);
			err = NULL;
			xmlrpc_DECREF(v);
		}
		validate_cache_free(&cache);
		json_decref(j);
		xmlrpc_env_clean(&env);
		xmlrpc_env_init(&env);
	}
	xmlrpc_value *value = cli_parse_value(text, &err);

	if (value)
		xmlrpc_DECREF(value);
	free(err);
	err = NULL;
	struct sweep_axis *axis = calloc(1, sizeof *axis);

	sweep_parse_axis(&env, text, axis, &err);
	sweep_axes_free(axis, 1);
	free(err);
	xmlrpc_env_clean(&env);
	free(text);
	return 0;
}
