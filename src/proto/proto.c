#include "autoconf.h"

#include "proto/proto.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- XML-RPC to JSON: one row per XML-RPC type ---------------------------------- */

/* Reads v, known to be of the row's type, as JSON; NULL on env's fault or with *err (heap). */
typedef json_t *to_json_fn(xmlrpc_env *env, xmlrpc_value *v, char **err);

static json_t *integer_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	xmlrpc_int64 i = 0;

	if (xmlrpc_value_type(v) == XMLRPC_TYPE_INT) {
		int small = 0;

		xmlrpc_read_int(env, v, &small);
		i = small;
	} else {
		xmlrpc_read_i8(env, v, &i);
	}
	return json_integer(i);
}

static json_t *bool_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	xmlrpc_bool b;

	xmlrpc_read_bool(env, v, &b);
	return json_boolean(b);
}

static json_t *double_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	double d;

	xmlrpc_read_double(env, v, &d);
	if (!env->fault_occurred && !isfinite(d)) {
		*err = xasprintf("%s is not a number PLECS takes; allowed: finite numbers", isnan(d) ? "NaN" : d > 0 ? "inf" : "-inf");
		return NULL;
	}
	return json_real(d);
}

static json_t *string_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	const char *s;
	size_t len;
	json_t *out;

	xmlrpc_read_string_lp(env, v, &len, &s);
	if (env->fault_occurred)
		return NULL;
	out = json_stringn(s, len);
	free((void *)s);
	if (out == NULL)
		*err = xstrdup("a string that is not valid UTF-8");
	return out;
}

static json_t *nil_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	return json_null();
}

static json_t *array_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	int n = xmlrpc_array_size(env, v);
	json_t *out = json_array();

	for (int i = 0; i < n && !env->fault_occurred && out; i++) {
		xmlrpc_value *item;
		json_t *j;

		xmlrpc_array_read_item(env, v, i, &item);
		if (env->fault_occurred)
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
	return out;
}

static json_t *struct_to_json(xmlrpc_env *env, xmlrpc_value *v, char **err)
{
	int n = xmlrpc_struct_size(env, v);
	json_t *out = json_object();

	for (int i = 0; i < n && !env->fault_occurred && out; i++) {
		xmlrpc_value *key, *val;
		const char *k;
		json_t *j;

		xmlrpc_struct_read_member(env, v, (unsigned)i, &key, &val);
		if (env->fault_occurred)
			break;
		xmlrpc_read_string(env, key, &k);
		j = env->fault_occurred ? NULL : proto_to_json(val, err);
		if (j == NULL) {
			json_decref(out);
			out = NULL;
		} else {
			json_object_set_new(out, k, j);
		}
		if (!env->fault_occurred)
			free((void *)k);
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	return out;
}

/* What messages call each XML-RPC type, and how it reads as JSON (NULL: it does not). */
static const struct xmlrpc_type_row {
	const char *name;
	to_json_fn *to_json;
} xmlrpc_types[] = {
	[XMLRPC_TYPE_INT] = {"an integer", integer_to_json},
	[XMLRPC_TYPE_I8] = {"an integer", integer_to_json},
	[XMLRPC_TYPE_BOOL] = {"a boolean", bool_to_json},
	[XMLRPC_TYPE_DOUBLE] = {"a number", double_to_json},
	[XMLRPC_TYPE_STRING] = {"a string", string_to_json},
	[XMLRPC_TYPE_BASE64] = {"base64 data", NULL},
	[XMLRPC_TYPE_ARRAY] = {"an array", array_to_json},
	[XMLRPC_TYPE_STRUCT] = {"a struct", struct_to_json},
	[XMLRPC_TYPE_NIL] = {"nil", nil_to_json},
};

/* The row of type t, or NULL for the types simq never names (date-time, C pointer, dead). */
static const struct xmlrpc_type_row *type_row(xmlrpc_type t)
{
	if ((size_t)t >= sizeof xmlrpc_types / sizeof xmlrpc_types[0] || xmlrpc_types[t].name == NULL)
		return NULL;
	return &xmlrpc_types[t];
}

const char *proto_type_name(xmlrpc_type t)
{
	const struct xmlrpc_type_row *row = type_row(t);

	return row ? row->name : "another type";
}

static const char foreign_type[] = "a value type simq does not take (date-time, base64 or other)";

bool proto_json_takes(xmlrpc_value *v, char **err)
{
	const struct xmlrpc_type_row *row = type_row(xmlrpc_value_type(v));
	xmlrpc_env env;
	bool ok = row && row->to_json;
	int n;

	if (!ok || (xmlrpc_value_type(v) != XMLRPC_TYPE_ARRAY && xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT)) {
		if (!ok)
			*err = xstrdup(foreign_type);
		return ok;
	}
	xmlrpc_env_init(&env);
	n = xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY ? xmlrpc_array_size(&env, v) : xmlrpc_struct_size(&env, v);
	for (int i = 0; i < n && ok && !env.fault_occurred; i++) {
		xmlrpc_value *key = NULL, *item;

		if (xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY)
			xmlrpc_array_read_item(&env, v, i, &item);
		else
			xmlrpc_struct_read_member(&env, v, (unsigned)i, &key, &item);
		if (env.fault_occurred)
			break;
		ok = proto_json_takes(item, err);
		xmlrpc_DECREF(item);
		if (key)
			xmlrpc_DECREF(key);
	}
	xmlrpc_env_clean(&env);
	return ok;
}

json_t *proto_to_json(xmlrpc_value *v, char **err)
{
	const struct xmlrpc_type_row *row = type_row(xmlrpc_value_type(v));
	xmlrpc_env env;
	json_t *out = NULL;

	if (row == NULL || row->to_json == NULL) {
		*err = xstrdup(foreign_type);
		return NULL;
	}
	xmlrpc_env_init(&env);
	out = row->to_json(&env, v, err);
	if (env.fault_occurred) {
		json_decref(out);
		out = NULL;
		if (*err == NULL)
			*err = xstrdup(env.fault_string);
	}
	xmlrpc_env_clean(&env);
	return out;
}

static void add_real(struct buf *b, double x);

/* Appends v as JSON, nan and inf included, until b holds more than limit bytes: enough to show. */
static void add_shown(struct buf *b, xmlrpc_value *v, size_t limit)
{
	xmlrpc_type type = xmlrpc_value_type(v);
	xmlrpc_env env;
	int n;

	xmlrpc_env_init(&env);
	if (type == XMLRPC_TYPE_ARRAY || type == XMLRPC_TYPE_STRUCT) {
		n = type == XMLRPC_TYPE_ARRAY ? xmlrpc_array_size(&env, v) : xmlrpc_struct_size(&env, v);
		buf_addc(b, type == XMLRPC_TYPE_ARRAY ? '[' : '{');
		for (int i = 0; i < n && b->len <= limit && !env.fault_occurred; i++) {
			xmlrpc_value *key = NULL, *item;

			if (type == XMLRPC_TYPE_ARRAY)
				xmlrpc_array_read_item(&env, v, i, &item);
			else
				xmlrpc_struct_read_member(&env, v, (unsigned)i, &key, &item);
			if (env.fault_occurred)
				break;
			buf_adds(b, i ? "," : "");
			if (key) {
				add_shown(b, key, limit);
				buf_addc(b, ':');
				xmlrpc_DECREF(key);
			}
			add_shown(b, item, limit);
			xmlrpc_DECREF(item);
		}
		buf_addc(b, type == XMLRPC_TYPE_ARRAY ? ']' : '}');
	} else if (type == XMLRPC_TYPE_STRING) {
		const char *s = NULL;
		size_t len = 0;

		xmlrpc_read_string_lp(&env, v, &len, &s);
		buf_addc(b, '"');
		if (s)
			buf_add_printable(b, s, len < limit ? len : limit + 1);
		buf_addc(b, '"');
		free((void *)s);
	} else if (type == XMLRPC_TYPE_DOUBLE) {
		double d = 0;

		xmlrpc_read_double(&env, v, &d);
		if (isfinite(d))
			add_real(b, d);
		else
			buf_adds(b, isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
	} else if (type == XMLRPC_TYPE_INT || type == XMLRPC_TYPE_I8) {
		xmlrpc_int64 i = 0;
		int small = 0;

		if (type == XMLRPC_TYPE_INT) {
			xmlrpc_read_int(&env, v, &small);
			i = small;
		} else {
			xmlrpc_read_i8(&env, v, &i);
		}
		buf_addf(b, "%lld", (long long)i);
	} else if (type == XMLRPC_TYPE_BOOL) {
		xmlrpc_bool t = 0;

		xmlrpc_read_bool(&env, v, &t);
		buf_adds(b, t ? "true" : "false");
	} else {
		buf_adds(b, type == XMLRPC_TYPE_NIL ? "null" : proto_type_name(type));
	}
	xmlrpc_env_clean(&env);
}

bool proto_is_string(xmlrpc_value *v, const char *want)
{
	const char *text = NULL;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	if (v && xmlrpc_value_type(v) == XMLRPC_TYPE_STRING)
		xmlrpc_read_string(&env, v, &text);
	xmlrpc_env_clean(&env);
	bool is = text && strcmp(text, want) == 0;

	free((void *)text);
	return is;
}

char *proto_shown(xmlrpc_value *v)
{
	struct buf b = BUF_INIT, out = BUF_INIT;
	size_t len = 0;

	if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRING) {
		/* A string says how long it was when it is cut. */
		xmlrpc_env env;
		const char *s = NULL;

		xmlrpc_env_init(&env);
		xmlrpc_read_string_lp(&env, v, &len, &s);
		xmlrpc_env_clean(&env);
		buf_addc(&out, '"');
		if (s)
			buf_add_shown(&out, s, len);
		buf_addc(&out, '"');
		free((void *)s);
		return buf_detach(&out);
	}
	add_shown(&b, v, 4 * BUF_SHOWN_MAX);
	/* Cut at BUF_SHOWN_MAX characters of the text (it is printable already). */
	for (size_t chars = 0; len < b.len && chars < BUF_SHOWN_MAX; chars++) {
		size_t n = utf8_valid_prefix(b.data + len, b.len - len);

		len += n ? n : 1;
	}
	buf_add(&out, b.data, len);
	if (len < b.len)
		buf_adds(&out, "...");
	buf_free(&b);
	return buf_detach(&out);
}

xmlrpc_value *proto_string_new(xmlrpc_env *env, const char *s)
{
	size_t len = strlen(s), i = 0, n;
	struct buf b = BUF_INIT;

	if (utf8_xml_unsafe(s, len) == len)
		return xmlrpc_string_new_lp(env, len, s);
	while (i < len) {
		if ((n = utf8_xml_char(s + i, len - i)) != 0) {
			buf_add(&b, s + i, n);
		} else {
			/* One U+FFFD for a character beyond U+FFFF, one for each byte that is not UTF-8. */
			buf_adds(&b, "\xef\xbf\xbd");
			n = utf8_valid_prefix(s + i, len - i) ? utf8_valid_prefix(s + i, len - i) : 1;
		}
		i += n;
	}
	xmlrpc_value *v = xmlrpc_string_new_lp(env, b.len, buf_str(&b));

	buf_free(&b);
	return v;
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
			/* The key first: xmlrpc-c refuses some UTF-8 (above U+FFFF), and must fail before v exists. */
			xmlrpc_value *k = xmlrpc_string_new(env, key), *v;

			if (env->fault_occurred)
				break;
			v = proto_from_json(env, val);
			if (env->fault_occurred) {
				xmlrpc_DECREF(k);
				break;
			}
			xmlrpc_struct_set_value_v(env, s, k, v);
			xmlrpc_DECREF(k);
			xmlrpc_DECREF(v);
			if (env->fault_occurred)
				break;
		}
		if (env->fault_occurred) {
			xmlrpc_DECREF(s);
			return NULL;
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
		if (env->fault_occurred) {
			xmlrpc_DECREF(a);
			return NULL;
		}
		return a;
	}
	case JSON_STRING: {
		/* xmlrpc-c's return value after a fault is no value: drop it. */
		xmlrpc_value *v = xmlrpc_string_new_lp(env, json_string_length(j), json_string_value(j));

		return env->fault_occurred ? NULL : v;
	}
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

/* The shortest text that reads back as exactly x. */
/* The significant digits of a number written by %g, trailing zeros aside: "0.00120" has 2, "123000" 3. */
static int significant_digits(const char *text)
{
	int n = 0, zeros = 0;
	bool seen = false;

	for (const char *p = text; *p && *p != 'e'; p++) {
		if (*p < '0' || *p > '9')
			continue;
		if (*p == '0' && !seen)
			continue;
		seen = true;
		if (*p == '0') {
			zeros++;
		} else {
			n += zeros + 1;
			zeros = 0;
		}
	}
	return n > 0 ? n : 1;
}

/* How many digits a number written by %g without an exponent has before its point: "-123.5" has 3. */
static int integer_digits(const char *text)
{
	size_t n = strspn(text + (*text == '-'), "0123456789");

	return n == 1 && text[*text == '-'] == '0' ? 0 : (int)n;
}

/*
 * x as "%.*g" at the fewest significant digits that read back as x, 1 to 17, in text.  When 15 digits
 * read back for a normal number, the fewest are the digits of that writing (a shorter text that read back
 * would be what 15 digits round to), and that writing is what fewer digits write too, but for a number
 * with more integer digits than those: 123000 at 3 digits is 1.23e+05.  A subnormal number has fewer
 * bits, so each count is tried.
 */
static void shortest_text(double x, char *text, size_t size)
{
	if (isnormal(x)) {
		snprintf(text, size, "%.15g", x);
		if (strtod(text, NULL) == x) {
			int p = significant_digits(text);

			if (p < 15 && p < integer_digits(text) && !strchr(text, 'e'))
				snprintf(text, size, "%.*g", p, x);
			return;
		}
	}
	for (int p = isnormal(x) ? 16 : 1; p <= 17; p++) {
		snprintf(text, size, "%.*g", p, x);
		if (strtod(text, NULL) == x)
			return;
	}
}

static void add_real(struct buf *b, double x)
{
	char text[40];

	shortest_text(x, text, sizeof text);
	buf_adds(b, text);
	/* Keep it a real for readers that care: 400.0 is not the integer 400. */
	if (strspn(text, "-0123456789") == strlen(text))
		buf_adds(b, ".0");
}

/* A member's name, quoted as jansson quotes it; a name of letters, digits and '_' (a variable's) as it is. */
static void add_key(struct buf *b, const char *key)
{
	if (key[strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] == '\0') {
		buf_addc(b, '"');
		buf_adds(b, key);
		buf_addc(b, '"');
		return;
	}
	json_t *k = json_string(key);
	char *quoted = json_dumps(k, JSON_ENCODE_ANY);

	buf_adds(b, quoted ? quoted : "\"\"");
	free(quoted);
	json_decref(k);
}

static void add_json(struct buf *b, const json_t *j, bool pretty, int depth)
{
	size_t i, n;
	const char *key;
	json_t *v;

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char **keys;

		n = json_object_size(j);
		if (n == 0) {
			buf_adds(b, "{}");
			break;
		}
		keys = xcalloc(n, sizeof *keys);
		i = 0;
		json_object_foreach((json_t *)j, key, v)
			keys[i++] = key;
		if (!pretty)
			qsort(keys, n, sizeof *keys, compare_keys);
		buf_addc(b, '{');
		for (i = 0; i < n; i++) {
			if (pretty)
				buf_addf(b, "\n%*s", 2 * (depth + 1), "");
			add_key(b, keys[i]);
			buf_adds(b, pretty ? ": " : ":");
			add_json(b, json_object_get(j, keys[i]), pretty, depth + 1);
			if (i + 1 < n)
				buf_addc(b, ',');
		}
		if (pretty)
			buf_addf(b, "\n%*s", 2 * depth, "");
		buf_addc(b, '}');
		free(keys);
		break;
	}
	case JSON_ARRAY:
		n = json_array_size(j);
		if (n == 0) {
			buf_adds(b, "[]");
			break;
		}
		buf_addc(b, '[');
		json_array_foreach(j, i, v)
		{
			/* Arrays of numbers stay on one line: vectors and matrix rows read better so. */
			bool scalar = !json_is_object(v) && !json_is_array(v);

			if (pretty && !scalar)
				buf_addf(b, "\n%*s", 2 * (depth + 1), "");
			else if (pretty && i > 0)
				buf_addc(b, ' ');
			add_json(b, v, pretty, depth + 1);
			if (i + 1 < n)
				buf_addc(b, ',');
		}
		if (pretty && (json_is_object(json_array_get(j, 0)) || json_is_array(json_array_get(j, 0))))
			buf_addf(b, "\n%*s", 2 * depth, "");
		buf_addc(b, ']');
		break;
	case JSON_REAL:
		add_real(b, json_real_value(j));
		break;
	case JSON_INTEGER:
		buf_add_int(b, json_integer_value(j));
		break;
	default: {
		char *text = json_dumps(j, JSON_ENCODE_ANY);

		buf_adds(b, text ? text : "null");
		free(text);
		break;
	}
	}
}

char *proto_json_text(const json_t *j, bool pretty)
{
	struct buf b = BUF_INIT;

	add_json(&b, j, pretty, 0);
	return buf_detach(&b);
}

char *proto_json_text_at(const json_t *j, int depth)
{
	struct buf b = BUF_INIT;

	add_json(&b, j, true, depth);
	return buf_detach(&b);
}

char *proto_canonical(const json_t *j)
{
	return proto_json_text(j, false);
}

/* The end of the JSON string at p (its opening quote), past its closing one; NULL if it has none. */
static const char *string_end(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : NULL;
}

/* The end of the array at p, past its ']': its items, and for a matrix its first row's; NULL if it has no end. */
static const char *array_end(const char *p, size_t *rows, size_t *cols)
{
	size_t commas = 0, row_commas = 0;
	bool items = false, row_items = false;
	int depth = 0;

	for (; *p; p++) {
		char c = *p;

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
			continue;
		if (c == '"') { /* vectors hold numbers only; a string is passed over whole */
			const char *end = string_end(p);

			if (end == NULL)
				return NULL;
			p = end - 1;
		}
		if (c == ']' || c == '}') {
			if (--depth == 0) {
				*rows = items ? commas + 1 : 0;
				*cols = row_items ? row_commas + 1 : 0;
				return p + 1;
			}
		} else if (depth == 1) {
			items = true;
			commas += c == ',';
		} else if (depth == 2 && commas == 0) {
			row_items = true;
			row_commas += c == ',';
		}
		depth += c == '[' || c == '{';
	}
	return NULL;
}

/* The length of the escape at p (a backslash): \uD83D\uDE00, a surrogate pair, is one character of 12. */
static size_t escape_length(const char *p, size_t len)
{
	if (p[1] != 'u')
		return 2;
	bool high_surrogate = (p[2] == 'd' || p[2] == 'D') && p[3] && strchr("89abAB", p[3]);

	return len >= 12 && high_surrogate && p[6] == '\\' && p[7] == 'u' ? 12 : 6;
}

/* How many bytes of the JSON string text at p (inside its quotes) make whole characters, at least keep of them. */
static size_t whole_prefix(const char *p, size_t len, size_t keep)
{
	size_t n = 0;

	while (n < keep && n < len) {
		unsigned char c = (unsigned char)p[n];
		size_t unit = c == '\\' ? escape_length(p + n, len - n) : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

		if (n + unit > len)
			break;
		n += unit;
	}
	return n;
}

/* The brief form of the array at p written into b (its end set), or false when it stays as it is. */
static bool brief_array(struct buf *b, const char *p, const char **end)
{
	size_t rows, cols;
	const char *first = p + 1 + strspn(p + 1, " \n\t\r");
	bool matrix = *first == '[';
	char size[64];

	if ((*end = array_end(p, &rows, &cols)) == NULL || (matrix ? rows * cols : rows) <= PROTO_BRIEF_NUMBERS)
		return false;
	if (matrix)
		snprintf(size, sizeof size, "\"[%zux%zu matrix]\"", rows, cols);
	else
		snprintf(size, sizeof size, "\"[%zu numbers]\"", rows);
	buf_adds(b, size);
	return true;
}

char *proto_brief_vars(const char *text)
{
	struct buf b = BUF_INIT;
	const char *p = text;
	bool value = false, changed = false;

	if (text == NULL || (strchr(text, '[') == NULL && strlen(text) <= PROTO_BRIEF_TEXT))
		return NULL;
	/* Stored vars are canonical JSON; anything else is given as it is. */
	for (const char *start = p; *p;) {
		const char *end = p + 1;

		if (*p == '"' && (end = string_end(p)) != NULL && value && (size_t)(end - p - 2) > PROTO_BRIEF_TEXT) {
			buf_add(&b, p, 1 + whole_prefix(p + 1, (size_t)(end - p - 2), PROTO_BRIEF_KEEP));
			buf_adds(&b, "\xe2\x80\xa6\""); /* … */
			changed = true;
			p = end;
			continue;
		}
		if (*p == '[' && brief_array(&b, p, &end)) {
			changed = true;
			p = end;
			continue;
		}
		if (end == NULL) {
			buf_free(&b);
			return xstrdup(start);
		}
		value = *p == ':' ? true : *p == ',' || *p == '{' ? false : value;
		buf_add(&b, p, (size_t)(end - p));
		p = end;
	}
	if (!changed) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

json_t *proto_brief_vars_json(const char *text)
{
	char *brief = proto_brief_vars(text);
	json_t *j = json_loads(brief ? brief : text ? text : "{}", JSON_DECODE_ANY, NULL);

	free(brief);
	if (json_is_object(j))
		return j;
	json_decref(j);
	return NULL;
}

bool proto_each_member(xmlrpc_value *v, bool (*fn)(const char *key, xmlrpc_value *value, void *ud), void *ud,
		       char **err)
{
	xmlrpc_env env;
	bool ok = true;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_struct_size(&env, v);
	for (int i = 0; i < n && ok && !env.fault_occurred; i++) {
		xmlrpc_value *key, *val;
		const char *k;

		xmlrpc_struct_read_member(&env, v, (unsigned)i, &key, &val);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, key, &k);
		if (!env.fault_occurred) {
			ok = fn(k, val, ud);
			free((void *)k);
		}
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	if (ok && env.fault_occurred) {
		*err = xstrdup(env.fault_string);
		ok = false;
	}
	xmlrpc_env_clean(&env);
	return ok;
}

bool proto_read_int64(xmlrpc_value *v, int64_t *out)
{
	xmlrpc_env env;
	bool ok = true;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) == XMLRPC_TYPE_INT) {
		int i;

		xmlrpc_read_int(&env, v, &i);
		*out = i;
	} else if (xmlrpc_value_type(v) == XMLRPC_TYPE_I8) {
		xmlrpc_int64 i;

		xmlrpc_read_i8(&env, v, &i);
		*out = i;
	} else if (xmlrpc_value_type(v) == XMLRPC_TYPE_DOUBLE) {
		double d;

		xmlrpc_read_double(&env, v, &d);
		ok = d == floor(d) && fabs(d) < 9e15;
		*out = (int64_t)d;
	} else {
		ok = false;
	}
	ok = ok && !env.fault_occurred;
	xmlrpc_env_clean(&env);
	return ok;
}
