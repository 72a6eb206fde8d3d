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
	char *text = malloc(size + 1);
	struct values_error why = {0};
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
			struct validate_error e;

			if (validate_task(v, &cache, &t, &e) && (t == NULL || t->model[0] != '/'))
				abort(); /* an accepted task has an absolute model path */
			if (t == NULL) {
				char *message = validate_error_text(&e, "task 1: ");

				/* Every refusal says something, and "(null)" only when it was given. */
				if (e.rule == NULL || (strstr(message, "(null)") && !strstr(text, "(null)")))
					abort();
				free(message);
			}
			validate_error_clear(&e);
			task_free(&t);
			xmlrpc_DECREF(v);
		}
		validate_cache_free(&cache);
		json_decref(j);
		xmlrpc_env_clean(&env);
		xmlrpc_env_init(&env);
	}
	xmlrpc_value *value = cli_parse_value(text, &why);

	if (value)
		xmlrpc_DECREF(value);
	else if (why.message == NULL || why.at > size)
		abort(); /* a refusal says why, about a byte of the text */
	values_error_clear(&why);
	struct sweep_axis *axis = calloc(1, sizeof *axis);

	if (!sweep_parse_axis(&env, text, axis, &why) && (why.message == NULL || why.at > size))
		abort();
	sweep_axes_free(axis, 1);
	values_error_clear(&why);
	xmlrpc_env_clean(&env);
	free(text);
	return 0;
}
