#include "autoconf.h"

#include "emu/model.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

/* Model files are small; anything bigger is not one of ours. */
#define MODEL_MAX_BYTES (16 * 1024 * 1024)

const char *emu_value_type_name(enum emu_value_type t)
{
	return t == EMU_NUMBER ? "number" : t == EMU_STRING ? "string" : "matrix";
}

void emu_value_free(struct emu_value *v)
{
	xfree(&v->string);
	xfree(&v->data);
	v->rows = v->cols = 0;
}

void emu_value_copy(struct emu_value *dst, const struct emu_value *src)
{
	*dst = *src;
	dst->string = src->string ? xstrdup(src->string) : NULL;
	if (src->data) {
		dst->data = xcalloc(src->rows * src->cols, sizeof *dst->data);
		memcpy(dst->data, src->data, src->rows * src->cols * sizeof *dst->data);
	}
}

struct emu_var *emu_vars_find(const struct emu_vars *vars, const char *name)
{
	for (size_t i = 0; i < vars->n; i++)
		if (strcmp(vars->v[i].name, name) == 0)
			return &vars->v[i];
	return NULL;
}

void emu_vars_set(struct emu_vars *vars, const char *name, const struct emu_value *value)
{
	struct emu_var *v = emu_vars_find(vars, name);

	if (v == NULL) {
		vars->v = xreallocarray(vars->v, vars->n + 1, sizeof *vars->v);
		v = &vars->v[vars->n++];
		v->name = xstrdup(name);
	} else {
		emu_value_free(&v->value);
	}
	emu_value_copy(&v->value, value);
}

void emu_vars_copy(struct emu_vars *dst, const struct emu_vars *src)
{
	dst->v = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		emu_vars_set(dst, src->v[i].name, &src->v[i].value);
}

void emu_vars_free(struct emu_vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		emu_value_free(&vars->v[i].value);
	}
	xfree(&vars->v);
	vars->n = 0;
}

char *emu_vars_names(const struct emu_vars *vars)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < vars->n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", vars->v[i].name);
	return buf_detach(&b);
}

/* ---- InitializationCommands ------------------------------------------------ */

struct scanner {
	const char *p;
	char **err;
};

static void skip_space(struct scanner *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r')
		s->p++;
}

static bool scan_number(struct scanner *s, double *out)
{
	char *end;

	skip_space(s);
	errno = 0;
	*out = strtod(s->p, &end);
	if (end == s->p || errno == ERANGE || (end[-1] != '.' && !isdigit((unsigned char)end[-1])))
		return false;
	/* strtod also reads hex and inf/nan; MATLAB-style model files do not use them. */
	for (const char *q = s->p; q < end; q++)
		if (isalpha((unsigned char)*q) && *q != 'e' && *q != 'E')
			return false;
	s->p = end;
	return true;
}

static bool scan_matrix(struct scanner *s, struct emu_value *v, const char *name)
{
	size_t cols_in_row = 0, cap = 0, n = 0;

	v->type = EMU_MATRIX;
	v->rows = 1;
	v->cols = 0;
	s->p++; /* '[' */
	for (;;) {
		double x;

		skip_space(s);
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p == ']' || *s->p == ';' || *s->p == '\n') {
			if (v->rows == 1)
				v->cols = cols_in_row;
			else if (cols_in_row != v->cols) {
				*s->err = xasprintf("%s: the rows of the matrix have different lengths (%zu and %zu)", name,
						    v->cols, cols_in_row);
				return false;
			}
			if (*s->p == ']') {
				s->p++;
				break;
			}
			s->p++;
			v->rows++;
			cols_in_row = 0;
			continue;
		}
		if (!scan_number(s, &x)) {
			*s->err = xasprintf("%s: a matrix holds numbers only, near \"%.20s\"", name, s->p);
			return false;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v->data = xreallocarray(v->data, cap, sizeof *v->data);
		}
		v->data[n++] = x;
		cols_in_row++;
	}
	if (n == 0) {
		v->rows = v->cols = 0;
		return true;
	}
	if (v->rows * v->cols != n) {
		*s->err = xasprintf("%s: the rows of the matrix have different lengths", name);
		return false;
	}
	return true;
}

bool emu_vars_parse(const char *text, struct emu_vars *vars, char **err)
{
	struct scanner s = {text, err};

	for (;;) {
		char name[64];
		size_t n = 0;
		struct emu_value v = {.type = EMU_NUMBER};

		while (*s.p == ';' || *s.p == '\n' || isspace((unsigned char)*s.p))
			s.p++;
		if (*s.p == '\0')
			return true;
		if (*s.p == '%') { /* a MATLAB comment to the end of the line */
			while (*s.p && *s.p != '\n')
				s.p++;
			continue;
		}
		if (!isalpha((unsigned char)*s.p)) {
			*err = xasprintf("expected a variable name near \"%.20s\"", s.p);
			return false;
		}
		while ((isalnum((unsigned char)*s.p) || *s.p == '_') && n < sizeof name - 1)
			name[n++] = *s.p++;
		name[n] = '\0';
		skip_space(&s);
		if (*s.p != '=') {
			*err = xasprintf("%s: expected \"=\" after the name", name);
			return false;
		}
		s.p++;
		skip_space(&s);
		if (*s.p == '\'' || *s.p == '"') {
			char quote = *s.p++;
			const char *end = strchr(s.p, quote);

			if (end == NULL) {
				*err = xasprintf("%s: the string has no closing quote", name);
				return false;
			}
			v.type = EMU_STRING;
			v.string = xstrndup(s.p, (size_t)(end - s.p));
			s.p = end + 1;
		} else if (*s.p == '[') {
			if (!scan_matrix(&s, &v, name)) {
				emu_value_free(&v);
				return false;
			}
		} else if (!scan_number(&s, &v.number)) {
			*err = xasprintf("%s: expected a number, a 'string' or a [matrix] near \"%.20s\"", name, s.p);
			return false;
		}
		skip_space(&s);
		if (*s.p != ';' && *s.p != '\n' && *s.p != '\0' && *s.p != '%') {
			*err = xasprintf("%s: unexpected \"%.20s\" after the value", name, s.p);
			emu_value_free(&v);
			return false;
		}
		emu_vars_set(vars, name, &v);
		emu_value_free(&v);
	}
}

/* ---- the Plecs { } file ------------------------------------------------------ */

/* Reads a "quoted" value with \" \\ \n escapes; PLECS splits long values into adjacent quoted parts. */
static bool read_quoted(const char **pp, struct buf *out)
{
	const char *p = *pp;

	for (;;) {
		const char *next = p;

		while (isspace((unsigned char)*next))
			next++;
		if (*next != '"')
			break;
		p = next;
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1]) {
				p++;
				buf_addc(out, *p == 'n' ? '\n' : *p);
			} else {
				buf_addc(out, *p);
			}
			p++;
		}
		if (*p != '"')
			return false;
		p++;
	}
	*pp = p;
	return true;
}

static char *base_name_without_extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');

	return xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

struct emu_model *emu_model_parse(const char *path, const char *text, char **err)
{
	struct emu_model *m = xcalloc(1, sizeof *m);
	const char *p = text;
	int depth = 0;
	char *init = NULL;

	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "Plecs", 5) != 0 || (p += 5, p += strspn(p, " \t\r\n"), *p != '{')) {
		*err = xstrdup("not a PLECS model file (it does not start with \"Plecs {\")");
		emu_model_free(&m);
		return NULL;
	}
	p++;
	depth = 1;
	while (*p && depth > 0) {
		char key[64];
		size_t n = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '}') {
			depth--;
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		while ((isalnum((unsigned char)*p) || *p == '_') && n < sizeof key - 1)
			key[n++] = *p++;
		key[n] = '\0';
		if (n == 0) {
			p++;
			continue;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '{') {
			depth++;
			p++;
			continue;
		}
		if (*p != '"') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		struct buf value = BUF_INIT;

		if (!read_quoted(&p, &value)) {
			*err = xasprintf("the value of %s has no closing quote", key);
			buf_free(&value);
			free(init);
			emu_model_free(&m);
			return NULL;
		}
		if (depth == 1) {
			if (strcmp(key, "Name") == 0 && m->title == NULL)
				m->title = buf_detach(&value);
			else if (strcmp(key, "EmuCircuit") == 0 && m->circuit == NULL)
				m->circuit = buf_detach(&value);
			else if (strcmp(key, "InitializationCommands") == 0 && init == NULL)
				init = buf_detach(&value);
			else if (strcmp(key, "TimeSpan") == 0)
				m->time_span = strtod(buf_str(&value), NULL);
		}
		buf_free(&value);
	}
	if (depth != 0) {
		*err = xstrdup("the Plecs { block is not closed");
	} else if (m->circuit == NULL) {
		*err = xstrdup("the model has no EmuCircuit key; plecs-emu simulates its built-in circuits only "
			       "(EmuCircuit \"rc\", \"buck\" or \"rlc\")");
	} else if (init && !emu_vars_parse(init, &m->vars, err)) {
		char *inner = *err;

		*err = xasprintf("InitializationCommands: %s", inner);
		free(inner);
	} else {
		free(init);
		m->path = xstrdup(path);
		m->name = base_name_without_extension(path);
		return m;
	}
	free(init);
	emu_model_free(&m);
	return NULL;
}

struct emu_model *emu_model_load(const char *path, char **err)
{
	FILE *fp = fopen(path, "re");
	struct buf text = BUF_INIT;
	char chunk[65536];
	size_t n;
	struct emu_model *m;

	if (fp == NULL) {
		*err = xstrdup(strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		buf_add(&text, chunk, n);
		if (text.len > MODEL_MAX_BYTES) {
			fclose(fp);
			buf_free(&text);
			*err = xstrdup("the file is too large to be a model");
			return NULL;
		}
	}
	if (ferror(fp)) {
		*err = xstrdup(strerror(errno ? errno : EIO));
		fclose(fp);
		buf_free(&text);
		return NULL;
	}
	fclose(fp);
	if (memchr(buf_str(&text), '\0', text.len)) {
		*err = xstrdup("not a PLECS model file (it holds binary data)");
		buf_free(&text);
		return NULL;
	}
	m = emu_model_parse(path, buf_str(&text), err);
	buf_free(&text);
	return m;
}

void emu_model_free(struct emu_model **mp)
{
	struct emu_model *m = *mp;

	if (m == NULL)
		return;
	free(m->path);
	free(m->name);
	free(m->title);
	free(m->circuit);
	emu_vars_free(&m->vars);
	free(m);
	*mp = NULL;
}
