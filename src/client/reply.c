#include "autoconf.h"

#include "client/reply.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

xmlrpc_value *reply_member(xmlrpc_value *v, const char *key)
{
	xmlrpc_env env;
	xmlrpc_value *m = NULL;

	if (v == NULL || xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT)
		return NULL;
	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, v, key, &m);
	xmlrpc_env_clean(&env);
	if (m)
		xmlrpc_DECREF(m); /* the struct keeps it alive */
	return m;
}

static int64_t as_int(xmlrpc_value *m, int64_t def)
{
	xmlrpc_env env;
	int64_t out = def;

	if (m == NULL)
		return def;
	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(m) == XMLRPC_TYPE_I8) {
		xmlrpc_int64 x;

		xmlrpc_read_i8(&env, m, &x);
		out = x;
	} else if (xmlrpc_value_type(m) == XMLRPC_TYPE_INT) {
		int x;

		xmlrpc_read_int(&env, m, &x);
		out = x;
	} else if (xmlrpc_value_type(m) == XMLRPC_TYPE_DOUBLE) {
		double x;

		xmlrpc_read_double(&env, m, &x);
		out = (int64_t)x;
	} else if (xmlrpc_value_type(m) == XMLRPC_TYPE_BOOL) {
		xmlrpc_bool x;

		xmlrpc_read_bool(&env, m, &x);
		out = x ? 1 : 0;
	}
	xmlrpc_env_clean(&env);
	return out;
}

/* A number of any of XML-RPC's numeric types; def when m is missing or holds no number (a string, "inf"). */
static double as_num(xmlrpc_value *m, double def)
{
	xmlrpc_env env;
	double out = def;

	if (m == NULL)
		return def;
	switch (xmlrpc_value_type(m)) {
	case XMLRPC_TYPE_DOUBLE:
		xmlrpc_env_init(&env);
		xmlrpc_read_double(&env, m, &out);
		xmlrpc_env_clean(&env);
		return out;
	case XMLRPC_TYPE_INT:
	case XMLRPC_TYPE_I8:
	case XMLRPC_TYPE_BOOL:
		return (double)as_int(m, 0);
	default:
		return def;
	}
}

const char *reply_str(xmlrpc_value *v, const char *key, char *buf, size_t size)
{
	xmlrpc_value *m = reply_member(v, key);
	xmlrpc_env env;
	const char *s = NULL;

	buf[0] = '\0';
	if (m == NULL || xmlrpc_value_type(m) != XMLRPC_TYPE_STRING)
		return buf;
	xmlrpc_env_init(&env);
	xmlrpc_read_string(&env, m, &s);
	if (!env.fault_occurred) {
		snprintf(buf, size, "%s", s);
		free((void *)s);
	}
	xmlrpc_env_clean(&env);
	return buf;
}

/* An array or a struct as canonical JSON, as the CLI prints one in a table cell. */
static void json_text(xmlrpc_value *m, char *buf, size_t size)
{
	char *err = NULL;
	json_t *j = proto_to_json(m, &err);
	char *text = j ? proto_canonical(j) : NULL;

	snprintf(buf, size, "%s", text ? text : "");
	free(text);
	free(err);
	json_decref(j);
}

const char *reply_text(xmlrpc_value *v, const char *key, char *buf, size_t size)
{
	xmlrpc_value *m = reply_member(v, key);

	buf[0] = '\0';
	if (m == NULL)
		return buf;
	switch (xmlrpc_value_type(m)) {
	case XMLRPC_TYPE_STRING:
		return reply_str(v, key, buf, size);
	case XMLRPC_TYPE_INT:
	case XMLRPC_TYPE_I8:
		snprintf(buf, size, "%lld", (long long)as_int(m, 0));
		break;
	case XMLRPC_TYPE_DOUBLE:
		snprintf(buf, size, "%g", as_num(m, 0));
		break;
	case XMLRPC_TYPE_BOOL:
		snprintf(buf, size, "%s", as_int(m, 0) ? "yes" : "no");
		break;
	default:
		json_text(m, buf, size);
		break;
	}
	return buf;
}

int64_t reply_int(xmlrpc_value *v, const char *key, int64_t def)
{
	return as_int(reply_member(v, key), def);
}

double reply_num(xmlrpc_value *v, const char *key, double def)
{
	return as_num(reply_member(v, key), def);
}

int reply_count(xmlrpc_value *a)
{
	xmlrpc_env env;
	int n;

	if (a == NULL || xmlrpc_value_type(a) != XMLRPC_TYPE_ARRAY)
		return 0;
	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, a);
	xmlrpc_env_clean(&env);
	return n;
}

xmlrpc_value *reply_item(xmlrpc_value *a, int i)
{
	xmlrpc_env env;
	xmlrpc_value *v;

	if (i < 0 || i >= reply_count(a))
		return NULL;
	xmlrpc_env_init(&env);
	v = xmlrpc_array_get_item(&env, a, i);
	xmlrpc_env_clean(&env);
	return v;
}

int64_t reply_item_int(xmlrpc_value *a, int i, int64_t def)
{
	return as_int(reply_item(a, i), def);
}

bool reply_backend_down(xmlrpc_value *b)
{
	return !reply_int(b, "up", 0) && !reply_int(b, "checking", 0);
}

bool reply_log_line(xmlrpc_value *view, int i, struct reply_log_line *line)
{
	xmlrpc_value *l = reply_item(reply_member(view, "log"), i);
	char severity[16];

	if (l == NULL)
		return false;
	line->seq = reply_int(l, "seq", 0);
	reply_str(l, "time", line->time, sizeof line->time);
	reply_str(l, "text", line->text, sizeof line->text);
	/* The line's kind comes as a member; one without it (an older server) is information. */
	if (!log_level_parse(reply_str(l, "severity", severity, sizeof severity), &line->severity))
		line->severity = LOG_INFO;
	return true;
}
