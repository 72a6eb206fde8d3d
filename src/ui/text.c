#include "autoconf.h"

#include "ui/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/time.h"
#include "util/xalloc.h"

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

const char *text_percent(char *out, size_t size, double fraction)
{
	double tenths = round(fraction * 1000);

	if (fraction < 0) {
		snprintf(out, size, "-");
		return out;
	}
	if (fraction > 0 && fraction < 1)
		tenths = tenths < 1 ? 1 : tenths > 999 ? 999 : tenths;
	snprintf(out, size, "%.1f %%", tenths / 10);
	return out;
}

/* A vector of up to 4 numbers as them, "[1 2.5 3]"; a longer one or a matrix as its size, "[41004 numbers]",
 * "[3x400 matrix]"; one a brief record already gave as its size is a string. */
static void array_text(xmlrpc_env *env, xmlrpc_value *v, char *val, size_t size)
{
	int n = xmlrpc_array_size(env, v);
	xmlrpc_value *first = NULL;

	if (n > 0)
		xmlrpc_array_read_item(env, v, 0, &first);
	if (first && xmlrpc_value_type(first) == XMLRPC_TYPE_ARRAY) {
		snprintf(val, size, "[%dx%d matrix]", n, xmlrpc_array_size(env, first));
	} else if (n > 4) {
		snprintf(val, size, "[%d numbers]", n);
	} else {
		size_t len = (size_t)snprintf(val, size, "[");

		for (int i = 0; i < n && len + 1 < size; i++) {
			xmlrpc_value *item;
			double d = 0;
			int k = 0;

			xmlrpc_array_read_item(env, v, i, &item);
			xmlrpc_int64 big = 0;

			if (xmlrpc_value_type(item) == XMLRPC_TYPE_INT)
				xmlrpc_read_int(env, item, &k), d = k;
			else if (xmlrpc_value_type(item) == XMLRPC_TYPE_I8)
				xmlrpc_read_i8(env, item, &big), d = (double)big;
			else if (xmlrpc_value_type(item) == XMLRPC_TYPE_DOUBLE)
				xmlrpc_read_double(env, item, &d);
			len += (size_t)snprintf(val + len, size - len, "%s%g", i ? " " : "", d);
			xmlrpc_DECREF(item);
		}
		if (len + 1 < size)
			snprintf(val + len, size - len, "]");
	}
	if (first)
		xmlrpc_DECREF(first);
}

/* One var's value as text: a number, a string, or a vector or matrix (array_text). */
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
	case XMLRPC_TYPE_ARRAY:
		array_text(env, v, val, size);
		break;
	default:
		snprintf(val, size, "?");
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

int64_t text_iso_ms(const char *t)
{
	struct tm tm = {0};
	int ms = 0;

	if (t == NULL || t[0] == '\0' ||
	    sscanf(t, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	           &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

const char *text_clock(char *out, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, size, "%H:%M:%S", &tm);
	return out;
}

const char *text_when(char *out, size_t size, const char *iso)
{
	int64_t ms = text_iso_ms(iso);
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0) {
		snprintf(out, size, "-");
		return out;
	}
	localtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
	return out;
}

void text_age(char *out, size_t size, const char *iso, int64_t now_ms)
{
	int64_t t = text_iso_ms(iso), s;

	if (t == 0) {
		snprintf(out, size, "-");
		return;
	}
	s = (now_ms - t) / 1000;
	s = s < 0 ? 0 : s;
	if (s < 60)
		snprintf(out, size, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, size, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
	else
		snprintf(out, size, "%lldd%02lldh", (long long)(s / 86400), (long long)(s / 3600 % 24));
}

const char *text_short_path(char *out, size_t size, const char *path, int width)
{
	const char *home = getenv("HOME"), *last = strrchr(path, '/');
	size_t hl = home ? strlen(home) : 0;

	if (hl > 1 && strncmp(path, home, hl) == 0 && (path[hl] == '/' || path[hl] == '\0'))
		snprintf(out, size, "~%s", path + hl);
	else
		snprintf(out, size, "%s", path);
	if ((int)strlen(out) <= width || last == NULL || last[1] == '\0')
		return out;
	/* The first part (~ or the top directory) and the last: "~/…/simq", "/work/…/state". */
	size_t first = out[0] == '~' ? 1 : strcspn(out + 1, "/") + 1;
	char head[256];

	snprintf(head, sizeof head, "%.*s", (int)first, out);
	if (strcmp(head, out) != 0 && (int)(strlen(head) + 2 + strlen(last)) <= width)
		snprintf(out, size, "%s/\u2026%s", head, last);
	else
		snprintf(out, size, "\u2026%s", last);
	return out;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

const char *text_ids(char *out, size_t size, const int64_t *ids, size_t n, int width)
{
	int64_t *sorted = xcalloc(n ? n : 1, sizeof *sorted);
	size_t len = 0, i = 0, shown = 0, distinct = 0;

	memcpy(sorted, ids, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_id);
	for (size_t k = 0; k < n; k++)
		distinct += k == 0 || sorted[k] != sorted[k - 1];
	out[0] = '\0';
	while (i < n) {
		size_t j = i, count = 1;
		char piece[64];

		/* A run of consecutive ids, duplicates skipped. */
		while (j + 1 < n && (sorted[j + 1] == sorted[j] || sorted[j + 1] == sorted[j] + 1)) {
			count += sorted[j + 1] != sorted[j];
			j++;
		}
		if (count >= 3)
			snprintf(piece, sizeof piece, "%s%lld-%lld", len ? ", " : "", (long long)sorted[i],
			         (long long)sorted[j]);
		else if (count == 2)
			snprintf(piece, sizeof piece, "%s%lld, %lld", len ? ", " : "", (long long)sorted[i],
			         (long long)sorted[j]);
		else
			snprintf(piece, sizeof piece, "%s%lld", len ? ", " : "", (long long)sorted[i]);
		/* Room for the piece and, if more are left after it, for " … +N more"; the first piece always,
		 * so that a narrow screen still names a task and never says only "… +6 more". */
		int tail = shown + count < distinct ? 16 : 0;

		if ((len > 0 && len + strlen(piece) + (size_t)tail > (size_t)width) || len + strlen(piece) + 1 > size) {
			snprintf(out + len, size - len, "%s\u2026 +%zu more", len ? " " : "", distinct - shown);
			break;
		}
		len += (size_t)snprintf(out + len, size - len, "%s", piece);
		shown += count;
		i = j + 1;
	}
	free(sorted);
	return out;
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
