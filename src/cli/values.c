/* Values and sweep ranges as people type them on the command line. */
#include "autoconf.h"

#include "cli/values.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static bool parse_number(const char *s, double *out)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return false;
	errno = 0;
	*out = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' && errno == 0 && isfinite(*out) && !strpbrk(s, "xXnN");
}

static xmlrpc_value *number_value(xmlrpc_env *env, double d)
{
	if (d == floor(d) && fabs(d) < 2147483648.0)
		return xmlrpc_int_new(env, (int)d);
	return xmlrpc_double_new(env, d);
}

/* "[1, 2, 3]", "[[1,2],[3,4]]" or "[1 2; 3 4]" as a vector or matrix; NULL if it is not one. */
static xmlrpc_value *parse_brackets(xmlrpc_env *env, const char *text)
{
	size_t len = strlen(text);
	char *inner, *save_row = NULL;
	xmlrpc_value *rows, *out = NULL;
	int nrows = 0;
	bool nested;

	if (len < 2 || text[0] != '[' || text[len - 1] != ']')
		return NULL;
	inner = xstrndup(text + 1, len - 2);
	nested = strchr(inner, '[') != NULL;
	/* Rows: "[1,2],[3,4]" (nested) or "1 2; 3 4". */
	if (nested) {
		for (char *p = inner; *p; p++)
			if (*p == ']')
				*p = ';';
			else if (*p == '[')
				*p = ' ';
	}
	rows = xmlrpc_array_new(env);
	for (char *row = strtok_r(inner, ";", &save_row); row; row = strtok_r(NULL, ";", &save_row)) {
		char *save = NULL;
		xmlrpc_value *r = xmlrpc_array_new(env);
		int n = 0;

		while (*row == ',' || isspace((unsigned char)*row))
			row++;
		if (*row == '\0') {
			xmlrpc_DECREF(r);
			continue;
		}
		for (char *item = strtok_r(row, ", \t", &save); item; item = strtok_r(NULL, ", \t", &save)) {
			double d;

			if (!parse_number(item, &d)) {
				xmlrpc_DECREF(r);
				xmlrpc_DECREF(rows);
				free(inner);
				return NULL;
			}
			xmlrpc_value *x = number_value(env, d);

			xmlrpc_array_append_item(env, r, x);
			xmlrpc_DECREF(x);
			n++;
		}
		xmlrpc_array_append_item(env, rows, r);
		xmlrpc_DECREF(r);
		nrows++;
	}
	free(inner);
	if (nrows == 1 && !nested) {
		xmlrpc_array_read_item(env, rows, 0, &out);
		xmlrpc_DECREF(rows);
		return out;
	}
	return rows;
}

xmlrpc_value *cli_parse_value(const char *text, char **err)
{
	xmlrpc_env env;
	double d;
	size_t len = strlen(text);
	xmlrpc_value *v = NULL;

	if (!utf8_validate(text, len, NULL)) {
		*err = xstrdup("the value is not valid UTF-8");
		return NULL;
	}
	xmlrpc_env_init(&env);
	if (parse_number(text, &d)) {
		v = number_value(&env, d);
	} else if ((v = parse_brackets(&env, text)) == NULL || env.fault_occurred) {
		/* Not a vector or matrix after all: the text is a string.  After a fault xmlrpc-c's
		 * return value is not a value at all: it is dropped, never released. */
		v = NULL;
		xmlrpc_env_clean(&env);
		xmlrpc_env_init(&env);
		if (len >= 2 && (text[0] == '\'' || text[0] == '"') && text[len - 1] == text[0]) {
			char *inner = xstrndup(text + 1, len - 2);

			v = xmlrpc_string_new(&env, inner);
			free(inner);
		} else {
			v = xmlrpc_string_new(&env, text);
		}
	}
	if (env.fault_occurred) {
		/* xmlrpc-c takes UTF-8 up to U+FFFF only: an emoji ends here. */
		*err = xasprintf("the value cannot be sent: %s", env.fault_string);
		v = NULL;
	}
	xmlrpc_env_clean(&env);
	return v;
}

/* Splits "A,B,[1,2]" at the commas outside brackets. */
static char **split_list(const char *text, size_t *n)
{
	char **items = NULL;
	const char *start = text;
	int depth = 0;

	*n = 0;
	for (const char *p = text;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		if ((*p == ',' && depth == 0) || *p == '\0') {
			items = xreallocarray(items, *n + 1, sizeof *items);
			items[(*n)++] = xstrndup(start, (size_t)(p - start));
			start = p + 1;
		}
		if (*p == '\0')
			break;
	}
	return items;
}

static bool parse_axis(xmlrpc_env *env, const char *spec, struct sweep_axis *a, char **err)
{
	const char *eq = strchr(spec, '=');
	const char *rhs;
	double start, stop, step;
	char tail;

	memset(a, 0, sizeof *a);
	if (eq == NULL || eq == spec) {
		*err = xasprintf("\"%s\": expected NAME=START:STOP:STEP or NAME=A,B,C", spec);
		return false;
	}
	a->name = xstrndup(spec, (size_t)(eq - spec));
	rhs = eq + 1;
	if (rhs[0] != '[' && strchr(rhs, ':')) {
		if (sscanf(rhs, "%lf:%lf:%lf%c", &start, &stop, &step, &tail) != 3 || !isfinite(start) ||
		    !isfinite(stop) || !isfinite(step)) {
			*err = xasprintf("%s: \"%s\" is not START:STOP:STEP with three numbers", a->name, rhs);
			return false;
		}
		if (step == 0 || (stop - start) / step < -1e-9) {
			*err = xasprintf("%s: a STEP of %g never gets from %g to %g", a->name, step, start, stop);
			return false;
		}
		double count = floor((stop - start) / step + 1e-9) + 1;

		if (count > PROTO_MAX_BATCH) {
			*err = xasprintf("%s: %.0f values; a sweep may have at most %d tasks", a->name, count, PROTO_MAX_BATCH);
			return false;
		}
		a->n = (size_t)count;
		a->values = xcalloc(a->n, sizeof *a->values);
		for (size_t i = 0; i < a->n; i++) {
			char text[64];

			/* 12 significant digits: 0.1 * 3 is 0.3, not 0.30000000000000004. */
			snprintf(text, sizeof text, "%.12g", start + (double)i * step);
			a->values[i] = cli_parse_value(text, err);
		}
		return true;
	}
	char **items = split_list(rhs, &a->n);

	a->values = xcalloc(a->n, sizeof *a->values);
	bool ok = true;

	for (size_t i = 0; i < a->n; i++) {
		if (ok && (a->values[i] = cli_parse_value(items[i], err)) == NULL) {
			char *inner = *err;

			*err = xasprintf("%s: %s", a->name, inner);
			free(inner);
			ok = false;
		}
		free(items[i]);
	}
	free(items);
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
bool sweep_parse_axis(xmlrpc_env *env, const char *spec, struct sweep_axis *a, char **err)
{
	bool ok = parse_axis(env, spec, a, err);

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
