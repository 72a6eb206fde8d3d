#include "autoconf.h"

#include "ui/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/time.h"

const char *text_grouped(char *out, size_t size, int64_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n)), o = 0;

	if (n < 0 && o + 1 < (int)size)
		out[o++] = '-';
	for (int i = 0; i < len && o + 2 < (int)size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

/* One var's value as text: a number, a string, or "[..]" for a vector or matrix. */
static void value_text(xmlrpc_env *env, xmlrpc_value *v, char *val, size_t size)
{
	switch (xmlrpc_value_type(v)) {
	case XMLRPC_TYPE_DOUBLE: {
		double d;

		xmlrpc_read_double(env, v, &d);
		snprintf(val, size, "%g", d);
		break;
	}
	case XMLRPC_TYPE_INT: {
		int d;

		xmlrpc_read_int(env, v, &d);
		snprintf(val, size, "%d", d);
		break;
	}
	case XMLRPC_TYPE_STRING: {
		const char *s;

		xmlrpc_read_string(env, v, &s);
		snprintf(val, size, "%s", s);
		free((void *)s);
		break;
	}
	default:
		snprintf(val, size, "[..]");
		break;
	}
}

void text_vars(xmlrpc_value *vars, char *out, size_t size)
{
	xmlrpc_env env;
	int n;
	size_t len = 0;

	out[0] = '\0';
	if (vars == NULL || xmlrpc_value_type(vars) != XMLRPC_TYPE_STRUCT)
		return;
	xmlrpc_env_init(&env);
	n = xmlrpc_struct_size(&env, vars);
	for (int i = 0; i < n && len + 2 < size; i++) {
		xmlrpc_value *k, *v;
		const char *name;
		char val[64];

		xmlrpc_struct_read_member(&env, vars, (unsigned)i, &k, &v);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, k, &name);
		value_text(&env, v, val, sizeof val);
		len += (size_t)snprintf(out + len, size - len, "%s%s=%s", i ? " " : "", name, val);
		if (len >= size)
			len = size - 1;
		free((void *)name);
		xmlrpc_DECREF(k);
		xmlrpc_DECREF(v);
	}
	xmlrpc_env_clean(&env);
}

/* "2026-11-28T03:00:05.123Z" in milliseconds since the epoch; 0 when it is none. */
static int64_t iso_ms(const char *t)
{
	struct tm tm = {0};
	int ms = 0;

	if (t[0] == '\0' || sscanf(t, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	                           &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

void text_age(char *out, size_t size, const char *iso)
{
	int64_t t = iso_ms(iso);

	if (t == 0) {
		snprintf(out, size, "-");
		return;
	}
	time_format_duration(out, size, (double)(time_wall_ns() / 1000000 - t) / 1000);
}

const char *text_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int text_wrap(const char *text, int w, int indent, char out[][256], int max)
{
	int n = 0;

	while (n < max) {
		int room = n ? w - indent : w, len = (int)strlen(text), cut = len;

		if (len > room) {
			cut = room;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				for (cut = room; cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80; cut--)
					;
		}
		snprintf(out[n], 256, "%*s%.*s", n ? indent : 0, "", cut, text);
		n++;
		text += cut;
		while (*text == ' ')
			text++;
		if (!*text)
			break;
	}
	return n;
}
