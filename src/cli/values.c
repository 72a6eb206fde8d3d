/* Values and sweep ranges as people type them on the command line. */
#include "autoconf.h"

#include "cli/values.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "util/utf8.h"
#include "util/xalloc.h"

void values_error_clear(struct values_error *err)
{
	xfree(&err->message);
	err->at = 0;
}

static bool __attribute__((format(printf, 3, 4))) refuse(struct values_error *err, size_t at, const char *fmt, ...)
{
	va_list ap;

	free(err->message);
	va_start(ap, fmt);
	err->message = xvasprintf(fmt, ap);
	va_end(ap);
	err->at = at;
	return false;
}

/* What strtod() reads as NaN or an infinity at p, whole (blanks after allowed): "nan", "inf",
 * "infinity" in any case, nan(...); else NULL.  "info" and "nanometer" are words. */
static const char *nan_or_inf(const char *p)
{
	size_t n = strlen(p);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if ((n == 3 && strncasecmp(p, "nan", 3) == 0) || (n > 4 && strncasecmp(p, "nan(", 4) == 0 && p[n - 1] == ')'))
		return "NaN";
	if ((n == 3 && strncasecmp(p, "inf", 3) == 0) || (n == 8 && strncasecmp(p, "infinity", 8) == 0))
		return "an infinity";
	return NULL;
}

/* Whether text, less leading blanks, looks like a number: [+-] then a digit or .digit, or nan/inf. */
static bool looks_numeric(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+' || *p == '-')
		p++;
	return isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])) || nan_or_inf(p);
}

/* What makes s a number PLECS does not take, or NULL: NaN, an infinity, hexadecimal. */
static const char *foreign_number(const char *s)
{
	s += strspn(s, " \t");
	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return "hexadecimal";
	return nan_or_inf(s);
}

/*
 * The number s[0..len) (blanks around it allowed), strictly decimal and finite; false with err at base +
 * offset.  A subnormal (1e-320) is a double, not 0, but xmlrpc-c writes it with an exponent, which
 * XML-RPC's <double> does not allow: refused, saying so.
 */
static bool read_number(const char *s, size_t len, size_t base, double *out, struct values_error *err)
{
	char *copy = xstrndup(s, len), *end;
	const char *foreign = foreign_number(copy);
	size_t start = strspn(copy, " \t");
	bool ok = false;

	errno = 0;
	*out = strtod(copy + start, &end);
	end += strspn(end, " \t");
	if (foreign && strcmp(foreign, "hexadecimal") == 0)
		refuse(err, base, "hexadecimal numbers are not read; write it in decimal, or in quotes for a string");
	else if (foreign)
		refuse(err, base, "%s is not a number PLECS takes; allowed: finite numbers (in quotes it is a string)",
		       foreign);
	else if (end == copy + start || *end != '\0')
		refuse(err, base + (size_t)(end - copy), "looks like a number but is not one; allowed: a decimal number "
		       "such as -1.5e-3, or text in quotes for a string");
	else if (errno == ERANGE && fabs(*out) > 1)
		refuse(err, base, "is too large for a number (at most about 1.8e308)");
	else if (errno == ERANGE && *out == 0)
		refuse(err, base, "is too small for a number: it would become 0 (the smallest is about 4.9e-324)");
	else if (errno == ERANGE || (*out != 0 && fabs(*out) < DBL_MIN))
		refuse(err, base, "is a subnormal number (nearer 0 than 2.2250738585072014e-308), which XML-RPC, the wire "
		       "to the server and to PLECS, cannot carry; allowed: 0, or a number at least that far from 0");
	else
		ok = true;
	free(copy);
	return ok;
}

/* d as the API takes it: a whole number as an int, -0 as a double (its sign kept). */
static xmlrpc_value *number_value(xmlrpc_env *env, double d)
{
	if (d == floor(d) && fabs(d) < 2147483648.0 && !(d == 0 && signbit(d)))
		return xmlrpc_int_new(env, (int)d);
	return xmlrpc_double_new(env, d);
}

/* Whether p is digits alone, with a sign and blanks around them. */
static bool integer_text(const char *p)
{
	size_t n;

	p += strspn(p, " \t");
	p += *p == '+' || *p == '-';
	n = strspn(p, "0123456789");
	return n > 0 && p[n + strspn(p + n, " \t")] == '\0';
}

/* The number written s[0..len), read as d: digits alone from 2^53 on, where a double rounds
 * (9007199254740993), as the 64-bit integer written; else number_value(d), as every smaller whole number
 * past 32 bits goes, a double that holds it exactly (XML-RPC's own types: PLECS need not read <i8>). */
static xmlrpc_value *written_number(xmlrpc_env *env, const char *s, size_t len, double d)
{
	char *copy = xstrndup(s, len);
	xmlrpc_value *v = NULL;

	if (fabs(d) >= 9007199254740992.0 && integer_text(copy)) {
		long long n;

		errno = 0;
		n = strtoll(copy, NULL, 10);
		if (errno == 0)
			v = xmlrpc_i8_new(env, n);
	}
	free(copy);
	return v ? v : number_value(env, d);
}

/* ---- vectors and matrices ------------------------------------------------------------- */

struct scan {
	xmlrpc_env *env;
	const char *text;
	size_t pos;
	struct values_error *err;
};

/* One number at s->pos, up to a blank, a comma, a semicolon or a bracket; NULL after an error. */
static xmlrpc_value *scan_number(struct scan *s)
{
	size_t start = s->pos, len = strcspn(s->text + start, " \t,;[]");
	char *item = xstrndup(s->text + start, len);
	bool numeric = looks_numeric(item);
	double d;

	free(item);
	s->pos += len;
	if (!numeric) {
		refuse(s->err, start, "not a number; a vector or matrix holds numbers only (in quotes the whole value "
		       "is a string)");
		return NULL;
	}
	if (!read_number(s->text + start, len, start, &d, s->err))
		return NULL;
	return written_number(s->env, s->text + start, len, d);
}

/* Ends the row of a flat [1 2; 3 4]: false (an error) when it is empty. */
static bool end_row(struct scan *s, xmlrpc_value *rows, xmlrpc_value **row)
{
	if (xmlrpc_array_size(s->env, *row) == 0)
		return refuse(s->err, s->pos, "an empty row; allowed: rows of numbers, [1 2; 3 4]");
	xmlrpc_array_append_item(s->env, rows, *row);
	xmlrpc_DECREF(*row);
	*row = xmlrpc_array_new(s->env);
	return true;
}

/*
 * What the [ at s->pos opens, up to its ]: at depth 1 a vector or a matrix ([[1,2],[3,4]] or
 * [1 2; 3 4]), at depth 2 a row.  Items are numbers, separated by commas or blanks; an empty
 * item, a stray bracket or a missing one is an error.  NULL after an error.
 */
static xmlrpc_value *scan_brackets(struct scan *s, int depth)
{
	size_t open = s->pos++;
	xmlrpc_value *rows = xmlrpc_array_new(s->env), *row = xmlrpc_array_new(s->env), *item;
	bool nested = false, semicolons = false, comma = false, ok = true;

	while (ok) {
		char c = s->text[s->pos];

		if (c == ' ' || c == '\t') {
			s->pos++;
		} else if (c == '\0') {
			ok = refuse(s->err, open, "the [ is never closed; allowed: [1,2,3], [[1,2],[3,4]] or [1 2; 3 4]");
		} else if (c == ',' && (comma || xmlrpc_array_size(s->env, nested ? rows : row) == 0)) {
			ok = refuse(s->err, s->pos, "an empty item before the comma; allowed: numbers between commas");
		} else if (c == ',') {
			comma = true;
			s->pos++;
		} else if (c == ']' && comma) {
			ok = refuse(s->err, s->pos, "an empty item after the last comma");
		} else if (c == ']') {
			s->pos++;
			break;
		} else if (c == ';' && (depth > 1 || nested)) {
			ok = refuse(s->err, s->pos, "; separates the rows of [1 2; 3 4] only");
		} else if (c == ';') {
			semicolons = true;
			ok = !comma ? end_row(s, rows, &row) : refuse(s->err, s->pos, "an empty item after the comma");
			s->pos++;
		} else if (c == '[' && (depth > 1 || xmlrpc_array_size(s->env, row) > 0 || semicolons)) {
			ok = refuse(s->err, s->pos, depth > 1 ? "brackets nest two deep at most (a matrix)"
							      : "a vector holds numbers and a matrix holds rows, not both");
		} else {
			bool sub = c == '[';

			if (!sub && nested)
				ok = refuse(s->err, s->pos, "a vector holds numbers and a matrix holds rows, not both");
			else if ((item = sub ? scan_brackets(s, depth + 1) : scan_number(s)) == NULL)
				ok = false;
			else {
				xmlrpc_array_append_item(s->env, sub ? rows : row, item);
				xmlrpc_DECREF(item);
			}
			nested |= sub;
			comma = false;
		}
	}
	/* A last ; may end the last row: [1; 2;] is [1; 2]. */
	if (ok && semicolons && xmlrpc_array_size(s->env, row) > 0 && !end_row(s, rows, &row))
		ok = false;
	if (ok && !nested && !semicolons) {
		xmlrpc_DECREF(rows);
		return row;
	}
	xmlrpc_DECREF(row);
	if (!ok) {
		xmlrpc_DECREF(rows);
		return NULL;
	}
	return rows;
}

/* A vector or matrix: the whole of text, from its [ to its ]. */
static xmlrpc_value *parse_brackets(xmlrpc_env *env, const char *text, struct values_error *err)
{
	struct scan s = {.env = env, .text = text, .pos = strspn(text, " \t"), .err = err};
	xmlrpc_value *v = scan_brackets(&s, 1);

	if (v && text[s.pos + strspn(text + s.pos, " \t")] != '\0') {
		refuse(err, s.pos, "text after the closing ]; a value is one vector or matrix");
		xmlrpc_DECREF(v);
		v = NULL;
	}
	return v;
}

/* ---- values --------------------------------------------------------------------------- */

/*
 * The string of text: 'quoted' or "quoted" as it is inside, else the text itself; NULL with err.
 * Refused here, not by the server's XML reader as a malformed call: a character XML-RPC cannot carry.
 */
static xmlrpc_value *parse_string(xmlrpc_env *env, const char *text, struct values_error *err)
{
	size_t len = strlen(text), quoted = text[0] == '\'' || text[0] == '"', at = utf8_xml_unsafe(text, len);

	if (quoted && (len < 2 || text[len - 1] != text[0])) {
		refuse(err, 0, "the %c is never closed; a quoted string ends with the same quote", text[0]);
		return NULL;
	}
	if (at < len) {
		refuse(err, at, "XML-RPC cannot carry this character (a control character, bytes that are not UTF-8, "
		       "or one beyond U+FFFF such as an emoji); allowed: text, tabs and line breaks");
		return NULL;
	}
	if (quoted) {
		char *inner = xstrndup(text + 1, len - 2);
		xmlrpc_value *v = xmlrpc_string_new(env, inner);

		free(inner);
		return v;
	}
	return xmlrpc_string_new(env, text);
}

xmlrpc_value *cli_parse_value(const char *text, struct values_error *err)
{
	xmlrpc_env env;
	size_t len = strlen(text), bad;
	xmlrpc_value *v = NULL;
	double d;

	memset(err, 0, sizeof *err);
	if (!utf8_validate(text, len, &bad)) {
		refuse(err, bad, "not valid UTF-8");
		return NULL;
	}
	if (text[strspn(text, " \t")] == '\0') {
		refuse(err, 0, "an empty value; allowed: a number, a vector, a matrix or a string ('' is the empty "
		       "string)");
		return NULL;
	}
	xmlrpc_env_init(&env);
	if (text[strspn(text, " \t")] == '[')
		v = parse_brackets(&env, text, err);
	else if (looks_numeric(text))
		v = read_number(text, len, 0, &d, err) ? written_number(&env, text, len, d) : NULL;
	else
		v = parse_string(&env, text, err);
	if (env.fault_occurred) {
		/* xmlrpc-c takes UTF-8 up to U+FFFF only: an emoji ends here.  After a fault its return
		 * value is no value at all: it is dropped, never released. */
		refuse(err, 0, "cannot be sent: %s", env.fault_string);
		v = NULL;
	}
	xmlrpc_env_clean(&env);
	return v;
}

/* ---- sweep axes ----------------------------------------------------------------------- */

/*
 * Splits "A,B,[1,2],'x,y'" at the commas outside brackets and quotes: items[i] starts at byte
 * starts[i] of text.  False with err at an unclosed bracket or quote or a stray ].
 */
static bool split_list(const char *text, char ***items, size_t **starts, size_t *n, struct values_error *err)
{
	size_t start = 0, open = 0;
	int depth = 0;
	char quote = 0;

	*items = NULL;
	*starts = NULL;
	*n = 0;
	for (size_t i = 0;; i++) {
		char c = text[i];

		if (quote && c == quote)
			quote = 0;
		else if (!quote && (c == '\'' || c == '"') && i == start) {
			quote = c;
			open = i;
		} else if (!quote && c == '[' && depth++ == 0)
			open = i;
		else if (!quote && c == ']' && --depth < 0)
			return refuse(err, i, "this ] closes no [");
		if (c == '\0' && (quote || depth > 0))
			return refuse(err, open, "the %c is never closed", quote ? quote : '[');
		if ((c == ',' && depth == 0 && !quote) || c == '\0') {
			*items = xreallocarray(*items, *n + 1, sizeof **items);
			*starts = xreallocarray(*starts, *n + 1, sizeof **starts);
			(*starts)[*n] = start;
			(*items)[(*n)++] = xstrndup(text + start, i - start);
			start = i + 1;
		}
		if (c == '\0')
			return true;
	}
}

/* The decimal places text (a number) is written to: digits after its point, less its exponent; 0 for none. */
static int decimal_places(const char *text)
{
	const char *point = strchr(text, '.'), *e = strpbrk(text, "eE");
	int places = point ? (int)strspn(point + 1, "0123456789") : 0;

	places -= e ? atoi(e + 1) : 0;
	return places < 0 ? 0 : places > 40 ? 40 : places;
}

/*
 * Item i of the range START:STEP as the API takes it: whole numbers written as such, counted in 64 bits
 * (beyond 2^53 a double would round them, and items collapse); any other rounded to the decimal places
 * START and STEP are written to, so 0.1:0.3:0.1 gives 0.3, not 0.30000000000000004, and
 * 1234.56789012345:1240:1 keeps every digit.
 */
static xmlrpc_value *range_item(xmlrpc_env *env, const char *const text[3], const double part[3], size_t i)
{
	char item[96];

	if (integer_text(text[0]) && integer_text(text[2])) {
		long long from = strtoll(text[0], NULL, 10), step = strtoll(text[2], NULL, 10), v;

		if (!__builtin_mul_overflow(step, (long long)i, &v) && !__builtin_add_overflow(from, v, &v)) {
			snprintf(item, sizeof item, "%lld", v);
			return written_number(env, item, strlen(item), strtod(item, NULL));
		}
	}
	int places = decimal_places(text[0]) > decimal_places(text[2]) ? decimal_places(text[0])
	                                                                   : decimal_places(text[2]);

	snprintf(item, sizeof item, "%.*f", places, part[0] + (double)i * part[2]);
	return number_value(env, strtod(item, NULL));
}

/* How many items START:STOP:STEP has: counted in whole units of the decimal places they are written to
 * (1000.0000000001:1000.0000000003:0.0000000001 has 3, which doubles make 2), else as doubles. */
static double range_count(char *const text[3], const double part[3])
{
	int places = 0;
	double scale, units[3];

	/* Whole numbers in 64 bits: 9007199254740993:9007199254740995:1 has 3, which doubles make 5. */
	if (integer_text(text[0]) && integer_text(text[1]) && integer_text(text[2])) {
		long long from = strtoll(text[0], NULL, 10), to = strtoll(text[1], NULL, 10),
			  step = strtoll(text[2], NULL, 10), span;

		if (step != 0 && !__builtin_sub_overflow(to, from, &span))
			return (double)(span / step + 1);
	}
	for (int i = 0; i < 3; i++)
		places = decimal_places(text[i]) > places ? decimal_places(text[i]) : places;
	scale = pow(10, places);
	for (int i = 0; i < 3; i++)
		units[i] = round(part[i] * scale);
	if (places <= 17 && fabs(units[0]) < 4e18 && fabs(units[1]) < 4e18 && fabs(units[2]) < 4e18 && units[2] != 0) {
		long long from = (long long)units[0], to = (long long)units[1], step = (long long)units[2];

		return (double)((to - from) / step + 1);
	}
	return floor((part[1] - part[0]) / part[2] + 1e-9) + 1;
}

/* NAME=START:STOP:STEP; rhs starts at byte base of the spec. */
static bool parse_range(const char *rhs, size_t base, struct sweep_axis *a, struct values_error *err)
{
	double part[3];
	char *text[3] = {NULL, NULL, NULL};
	const char *p = rhs;
	bool ok = false;

	for (int i = 0; i < 3; i++) {
		size_t len = strcspn(p, ":");

		text[i] = xstrndup(p, len);
		if ((i < 2 && p[len] != ':') || (i == 2 && p[len] != '\0')) {
			refuse(err, base + (size_t)(p - rhs) + len,
			       "%s; a range is START:STOP:STEP, three numbers (in quotes a value with : is a string)",
			       i < 2 ? "too few parts" : "too many parts");
			goto out;
		}
		if (!looks_numeric(text[i])) {
			refuse(err, base + (size_t)(p - rhs), "not a number; a range is START:STOP:STEP, three numbers (in "
			       "quotes a value with : is a string)");
			goto out;
		}
		if (!read_number(p, len, base + (size_t)(p - rhs), &part[i], err))
			goto out;
		p += len + 1;
	}
	if (part[2] == 0 || (part[1] - part[0]) / part[2] < -1e-9) {
		refuse(err, base, "a STEP of %g never gets from %g to %g", part[2], part[0], part[1]);
		goto out;
	}
	double count = range_count(text, part);

	if (count > PROTO_MAX_BATCH) {
		refuse(err, base, "%.0f values; a sweep may have at most %d tasks", count, PROTO_MAX_BATCH);
		goto out;
	}
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	a->n = (size_t)count;
	a->values = xcalloc(a->n, sizeof *a->values);
	for (size_t i = 0; i < a->n; i++)
		a->values[i] = range_item(&env, (const char *const *)text, part, i);
	xmlrpc_env_clean(&env);
	ok = true;
out:
	for (int i = 0; i < 3; i++)
		free(text[i]);
	return ok;
}

/* Whether item is a range: a ':' outside brackets and quotes. */
static bool is_range(const char *item)
{
	return item[0] != '\'' && item[0] != '"' && item[strspn(item, " \t")] != '[' && strchr(item, ':');
}

/* NAME=A,B,C: every item a value; rhs starts at byte base of the spec. */
static bool parse_items(const char *rhs, size_t base, struct sweep_axis *a, struct values_error *err)
{
	char **items;
	size_t *starts, nitems;
	bool ok = split_list(rhs, &items, &starts, &nitems, err), range = ok && nitems == 1 && is_range(items[0]);

	if (!ok)
		err->at += base;

	if (range) {
		ok = parse_range(rhs, base, a, err);
	} else if (ok) {
		a->n = nitems;
		a->values = xcalloc(a->n, sizeof *a->values);
	}
	for (size_t i = 0; ok && !range && i < nitems; i++) {
		if (items[i][strspn(items[i], " \t")] == '\0')
			ok = refuse(err, base + starts[i], "item %zu is empty; allowed: a value between commas ('' is the "
				    "empty string)", i + 1);
		else if ((a->values[i] = cli_parse_value(items[i], err)) == NULL)
			ok = false, err->at += base + starts[i];
	}
	for (size_t i = 0; i < nitems; i++)
		free(items[i]);
	free(items);
	free(starts);
	return ok;
}

static void axis_clear(struct sweep_axis *a)
{
	for (size_t i = 0; a->values && i < a->n; i++)
		if (a->values[i])
			xmlrpc_DECREF(a->values[i]);
	free(a->values);
	free(a->name);
	memset(a, 0, sizeof *a);
}

/* On failure nothing is left allocated in *a: the console's form parses after every key. */
bool sweep_parse_axis(xmlrpc_env *env, const char *spec, struct sweep_axis *a, struct values_error *err)
{
	const char *eq = strchr(spec, '=');
	bool ok;

	memset(a, 0, sizeof *a);
	memset(err, 0, sizeof *err);
	if (eq == NULL || eq == spec)
		return refuse(err, eq ? 0 : strlen(spec), "expected NAME=START:STOP:STEP or NAME=A,B,C");
	a->name = xstrndup(spec, (size_t)(eq - spec));
	ok = parse_items(eq + 1, (size_t)(eq + 1 - spec), a, err);
	if (!ok)
		axis_clear(a);
	return ok;
}

void sweep_axes_free(struct sweep_axis *axes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		axis_clear(&axes[i]);
	free(axes);
}

xmlrpc_value **sweep_expand(xmlrpc_env *env, xmlrpc_value *fixed, const struct sweep_axis *axes, size_t naxes,
			    size_t *count)
{
	size_t total = 1, *index = xcalloc(naxes ? naxes : 1, sizeof *index);
	int nfixed = fixed ? xmlrpc_struct_size(env, fixed) : 0;

	for (size_t a = 0; a < naxes; a++)
		total *= axes[a].n;
	xmlrpc_value **out = xcalloc(total ? total : 1, sizeof *out);

	for (size_t k = 0; k < total; k++) {
		xmlrpc_value *vars = xmlrpc_struct_new(env);

		for (int f = 0; f < nfixed; f++) {
			xmlrpc_value *key, *val;
			const char *name;

			xmlrpc_struct_read_member(env, fixed, (unsigned)f, &key, &val);
			xmlrpc_read_string(env, key, &name);
			xmlrpc_struct_set_value(env, vars, name, val);
			free((void *)name);
			xmlrpc_DECREF(key);
			xmlrpc_DECREF(val);
		}
		for (size_t a = 0; a < naxes; a++)
			xmlrpc_struct_set_value(env, vars, axes[a].name, axes[a].values[index[a]]);
		out[k] = vars;
		for (size_t a = naxes; a-- > 0;) {
			if (++index[a] < axes[a].n)
				break;
			index[a] = 0;
		}
	}
	free(index);
	*count = total;
	return out;
}
