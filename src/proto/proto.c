#include "autoconf.h"

#include "proto/proto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

json_t *proto_to_json(xmlrpc_value *v, char **err)
{
	xmlrpc_env env;
	json_t *out = NULL;

	xmlrpc_env_init(&env);
	switch (xmlrpc_value_type(v)) {
	case XMLRPC_TYPE_INT: {
		int i;

		xmlrpc_read_int(&env, v, &i);
		out = json_integer(i);
		break;
	}
	case XMLRPC_TYPE_I8: {
		xmlrpc_int64 i;

		xmlrpc_read_i8(&env, v, &i);
		out = json_integer(i);
		break;
	}
	case XMLRPC_TYPE_BOOL: {
		xmlrpc_bool b;

		xmlrpc_read_bool(&env, v, &b);
		out = json_boolean(b);
		break;
	}
	case XMLRPC_TYPE_DOUBLE: {
		double d;

		xmlrpc_read_double(&env, v, &d);
		out = json_real(d);
		break;
	}
	case XMLRPC_TYPE_STRING: {
		const char *s;
		size_t len;

		xmlrpc_read_string_lp(&env, v, &len, &s);
		if (!env.fault_occurred) {
			out = json_stringn(s, len);
			free((void *)s);
			if (out == NULL)
				*err = xstrdup("a string that is not valid UTF-8");
		}
		break;
	}
	case XMLRPC_TYPE_NIL:
		out = json_null();
		break;
	case XMLRPC_TYPE_ARRAY: {
		int n = xmlrpc_array_size(&env, v);

		out = json_array();
		for (int i = 0; i < n && !env.fault_occurred && out; i++) {
			xmlrpc_value *item;
			json_t *j;

			xmlrpc_array_read_item(&env, v, i, &item);
			if (env.fault_occurred)
				break;
			j = proto_to_json(item, err);
			xmlrpc_DECREF(item);
			if (j == NULL) {
				json_decref(out);
				out = NULL;
			} else {
				json_array_append_new(out, j);
			}
		}
		break;
	}
	case XMLRPC_TYPE_STRUCT: {
		int n = xmlrpc_struct_size(&env, v);

		out = json_object();
		for (int i = 0; i < n && !env.fault_occurred && out; i++) {
			xmlrpc_value *key, *val;
			const char *k;
			json_t *j;

			xmlrpc_struct_read_member(&env, v, (unsigned)i, &key, &val);
			if (env.fault_occurred)
				break;
			xmlrpc_read_string(&env, key, &k);
			j = env.fault_occurred ? NULL : proto_to_json(val, err);
			if (j == NULL) {
				json_decref(out);
				out = NULL;
			} else {
				json_object_set_new(out, k, j);
			}
			if (!env.fault_occurred)
				free((void *)k);
			xmlrpc_DECREF(key);
			xmlrpc_DECREF(val);
		}
		break;
	}
	default:
		*err = xstrdup("a value type simq does not take (date-time, base64 or other)");
		break;
	}
	if (env.fault_occurred) {
		json_decref(out);
		out = NULL;
		if (*err == NULL)
			*err = xstrdup(env.fault_string);
	}
	xmlrpc_env_clean(&env);
	return out;
}

xmlrpc_value *proto_from_json(xmlrpc_env *env, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		xmlrpc_value *s = xmlrpc_struct_new(env);
		const char *key;
		json_t *val;

		json_object_foreach((json_t *)j, key, val)
		{
			xmlrpc_value *v = proto_from_json(env, val);

			if (env->fault_occurred)
				break;
			xmlrpc_struct_set_value(env, s, key, v);
			xmlrpc_DECREF(v);
		}
		return s;
	}
	case JSON_ARRAY: {
		xmlrpc_value *a = xmlrpc_array_new(env);
		size_t i;
		json_t *val;

		json_array_foreach(j, i, val)
		{
			xmlrpc_value *v = proto_from_json(env, val);

			if (env->fault_occurred)
				break;
			xmlrpc_array_append_item(env, a, v);
			xmlrpc_DECREF(v);
		}
		return a;
	}
	case JSON_STRING:
		return xmlrpc_string_new_lp(env, json_string_length(j), json_string_value(j));
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(j);

		if (i >= INT_MIN && i <= INT_MAX)
			return xmlrpc_int_new(env, (int)i);
		return xmlrpc_i8_new(env, (xmlrpc_int64)i);
	}
	case JSON_REAL:
		return xmlrpc_double_new(env, json_real_value(j));
	case JSON_TRUE:
		return xmlrpc_bool_new(env, 1);
	case JSON_FALSE:
		return xmlrpc_bool_new(env, 0);
	default:
		return xmlrpc_nil_new(env);
	}
}

char *proto_canonical(const json_t *j)
{
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	char *copy;

	if (s == NULL)
		return xstrdup("null");
	copy = xstrdup(s);
	free(s);
	return copy;
}
