#include "autoconf.h"

#include "ui/ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"
#include "util/time.h"
#include "util/xalloc.h"

int64_t ui_now_ms(void)
{
	static int64_t fixed = -1;

	/* SIMQ_TEST_NOW (an ISO time): the clock stands still there, for golden screens (console.c). */
	if (fixed < 0) {
		const char *now = getenv("SIMQ_TEST_NOW");

		fixed = now ? text_iso_ms(now) : 0;
	}
	return fixed > 0 ? fixed : time_wall_ns() / 1000000;
}

void ui_message(struct console *c, bool error, const char *fmt, ...)
{
	va_list ap;

	free(c->message);
	va_start(ap, fmt);
	if (vasprintf(&c->message, fmt, ap) < 0)
		c->message = NULL;
	va_end(ap);
	c->message_error = error;
	c->message_at = ui_now_ms();
	c->dirty = true;
}

/* The server's own words: they say what was wrong and what is allowed. */
static void call_failed(struct console *c, const char *method, enum client_status st, const char *err)
{
	if (st == CLIENT_TIMEOUT)
		ui_message(c, true,
		           "no answer from the server in %d s (stopped or stuck?); it may still do "
		           "the %s when it answers",
		           UI_ACTION_TIMEOUT_MS / 1000, strncmp(method, "simq.", 5) ? method : method + 5);
	else
		ui_message(c, true, "%s", err ? err : "the server did not answer");
	if (st == CLIENT_UNREACHABLE || st == CLIENT_TIMEOUT || st == CLIENT_LOST) {
		c->connected = false;
		free(c->banner);
		c->banner = xstrdup(err ? err : "the server does not answer");
	}
}

xmlrpc_value *ui_call_params(struct console *c, const char *method, xmlrpc_value *params)
{
	xmlrpc_value *result = NULL;
	int fault;
	char *err = NULL;
	enum client_status st = client_call(c->conn, method, params, &result, &fault, &err);

	if (st != CLIENT_OK)
		call_failed(c, method, st, err);
	free(err);
	return st == CLIENT_OK ? result : NULL;
}

xmlrpc_value *ui_call(struct console *c, const char *method, const char *format, ...)
{
	xmlrpc_env env;
	xmlrpc_value *params, *result;
	const char *suffix;
	va_list ap;

	xmlrpc_env_init(&env);
	va_start(ap, format);
	xmlrpc_build_value_va(&env, format, ap, &params, &suffix);
	va_end(ap);
	if (env.fault_occurred) {
		ui_message(c, true, "%s: %s", method, env.fault_string);
		xmlrpc_env_clean(&env);
		return NULL;
	}
	xmlrpc_env_clean(&env);
	result = ui_call_params(c, method, params);
	xmlrpc_DECREF(params);
	return result;
}

void ui_clear_marks(struct console *c)
{
	idmap_free(&c->marks);
	c->marks = (struct idmap)IDMAP_INIT;
}

/* "state:failed model:buck nightly": key:value pairs; a bare word is a model. */
xmlrpc_value *ui_filter_struct(xmlrpc_env *env, const char *text)
{
	xmlrpc_value *f = xmlrpc_struct_new(env);
	char *copy = xstrdup(text), *save = NULL;

	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':');
		const char *key = "model", *value = tok;

		if (colon) {
			*colon = '\0';
			key = tok;
			value = colon + 1;
		}
		xmlrpc_value *s = xmlrpc_string_new(env, value);

		xmlrpc_struct_set_value(env, f, key, s);
		xmlrpc_DECREF(s);
	}
	free(copy);
	/* A pane's rows: a task's long vectors as their size, never megabytes a row. */
	xmlrpc_value *brief = xmlrpc_bool_new(env, 1);

	xmlrpc_struct_set_value(env, f, "brief", brief);
	xmlrpc_DECREF(brief);
	return f;
}
