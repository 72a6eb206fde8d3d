#include "autoconf.h"

#include "server/validate.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const char *const solver_fields[] = {"StartTime", "TimeSpan", "MaxStep", "FixedStep", "RelTol",
					    "AbsTol", "Solver", "Refine", NULL};

bool validate_identifier(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PROTO_MAX_VAR_NAME || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

/* ---- errors ------------------------------------------------------------------------- */

/* Fills e: field, key (shown), v (shown, may be NULL) and the rule; returns false for the caller's return. */
static bool __attribute__((format(printf, 5, 6)))
refuse(struct validate_error *e, const char *field, const char *key, xmlrpc_value *v, const char *fmt, ...)
{
	va_list ap;

	validate_error_clear(e);
	e->field = field;
	e->key = key ? buf_shown(key) : NULL;
	e->value = v ? proto_shown(v) : NULL;
	va_start(ap, fmt);
	e->rule = xvasprintf(fmt, ap);
	va_end(ap);
	return false;
}

void validate_error_clear(struct validate_error *e)
{
	e->field = NULL;
	xfree(&e->key);
	xfree(&e->value);
	xfree(&e->rule);
}

char *validate_error_text(const struct validate_error *e, const char *where)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, where);
	if (e->field)
		buf_addf(&b, "%s%s%s", e->field, e->key ? "." : "", e->key ? e->key : "");
	if (e->value)
		buf_addf(&b, "%s%s", e->field ? " " : "", e->value);
	buf_addf(&b, "%s%s", e->field || e->value ? ": " : "", e->rule ? e->rule : "invalid");
	return buf_detach(&b);
}

char *validate_text_rule(const char *s, size_t max)
{
	size_t len = strlen(s), at;
	unsigned int cp;

	if (len > max)
		return xasprintf("%zu bytes; at most %zu are allowed", len, max);
	if (!utf8_validate(s, len, &at))
		return xasprintf("not valid UTF-8 (byte %zu)", at + 1);
	switch (utf8_find_hazard(s, len, &at, &cp)) {
	case UTF8_CONTROL:
		return xasprintf("holds a control character (U+%04X at byte %zu); allowed: printable text", cp, at + 1);
	case UTF8_BIDI:
		return xasprintf("holds a bidirectional formatting character (U+%04X at byte %zu), which can make "
				 "text read differently from what it is; allowed: printable text without them", cp, at + 1);
	default:
		return NULL;
	}
}

char *validate_path_rule(const char *path)
{
	size_t len = strlen(path), at = utf8_xml_unsafe(path, len);
	unsigned int cp;

	if (at < len)
		return xasprintf("holds a character XML-RPC cannot carry at byte %zu (not UTF-8, beyond U+FFFF such as "
				 "an emoji, U+FFFE or U+FFFF)", at + 1);
	if (utf8_find_hazard(path, len, &at, &cp) != UTF8_SAFE)
		return xasprintf("holds a control or bidirectional formatting character (U+%04X at byte %zu), which "
				 "a terminal would act on", cp, at + 1);
	return NULL;
}

/* ---- vars and solver ---------------------------------------------------------------- */

static bool is_number(const json_t *j)
{
	return json_is_integer(j) || (json_is_real(j) && isfinite(json_real_value(j)));
}

/*
 * A subnormal double (0 < |x| < DBL_MIN) is written with an exponent below -307, which xmlrpc-c's
 * reader, and so plecs-emu's, refuses (strtod says ERANGE): a task holding one would fail at PLECS
 * after it was accepted.  The CLI refuses it too (cli/values.c).
 */
#define SUBNORMAL_RULE                                                                                                 \
	"is a subnormal number (nearer 0 than 2.2250738585072014e-308), which XML-RPC readers such as PLECS's "     \
	"refuse; allowed: 0, or a number at least that far from 0"

static bool is_subnormal(double x)
{
	return x != 0 && fabs(x) < DBL_MIN;
}

static bool is_subnormal_json(const json_t *j)
{
	return json_is_real(j) && is_subnormal(json_real_value(j));
}

/* The rule a vector or matrix breaks (heap), or NULL. */
static char *array_rule(const json_t *v)
{
	size_t n = json_array_size(v), cols = 0, total = 0;
	bool matrix = n > 0 && json_is_array(json_array_get(v, 0));

	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_array_get(v, i);

		if (!matrix) {
			if (!is_number(item))
				return xasprintf("a vector holds numbers only (item %zu is not one)", i + 1);
			if (is_subnormal_json(item))
				return xasprintf("item %zu " SUBNORMAL_RULE, i + 1);
			total++;
			continue;
		}
		if (!json_is_array(item))
			return xasprintf("every row of a matrix is an array of numbers (row %zu is not)", i + 1);
		if (i == 0)
			cols = json_array_size(item);
		if (json_array_size(item) != cols)
			return xasprintf("the rows of the matrix have different lengths (%zu and %zu)", cols,
					 json_array_size(item));
		for (size_t c = 0; c < cols; c++) {
			if (!is_number(json_array_get(item, c)))
				return xasprintf("a matrix holds numbers only (row %zu, column %zu is not one)", i + 1, c + 1);
			if (is_subnormal_json(json_array_get(item, c)))
				return xasprintf("row %zu, column %zu " SUBNORMAL_RULE, i + 1, c + 1);
		}
		total += cols;
	}
	if (total > PROTO_MAX_ELEMENTS)
		return xasprintf("%zu numbers; at most %d are allowed", total, PROTO_MAX_ELEMENTS);
	return NULL;
}

/*
 * The rule a string value (a var's, the solver's name) breaks (heap), or NULL: at most PROTO_MAX_STRING
 * bytes, and no character a terminal acts on when simq show prints it; tabs and line breaks are text.
 */
static char *string_value_rule(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), at = 0, off;
	unsigned int cp;
	enum utf8_hazard h;

	if (len > PROTO_MAX_STRING)
		return xasprintf("a string of %zu bytes; at most %d are allowed", len, PROTO_MAX_STRING);
	while ((h = utf8_find_hazard(s + at, len - at, &off, &cp)) != UTF8_SAFE) {
		if (cp != '\t' && cp != '\n' && cp != '\r')
			return xasprintf("holds a %s character (U+%04X at byte %zu), which a terminal acts on when the "
					 "value is shown; allowed: printable text, tabs and line breaks",
					 h == UTF8_BIDI ? "bidirectional formatting" : "control", cp, at + off + 1);
		at += off + 1;
	}
	return NULL;
}

/* The rule a ModelVars value breaks (heap), or NULL: a number, a string, a vector or a matrix. */
static char *var_rule(const json_t *v)
{
	if (is_number(v))
		return is_subnormal_json(v) ? xstrdup("it " SUBNORMAL_RULE) : NULL;
	if (json_is_string(v))
		return string_value_rule(v);
	if (json_is_array(v))
		return array_rule(v);
	return xstrdup("allowed: a number, a string, a vector or a matrix of numbers");
}

static char *joined(const char *const *list)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; list[i]; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", list[i]);
	return buf_detach(&b);
}

char *validate_solver_key_rule(const char *key)
{
	char *allowed, *rule;

	for (size_t i = 0; solver_fields[i]; i++)
		if (strcmp(key, solver_fields[i]) == 0)
			return NULL;
	allowed = joined(solver_fields);
	rule = xasprintf("not a solver option; allowed: %s", allowed);
	free(allowed);
	return rule;
}

/* The rule a SolverOpts value breaks (heap), or NULL. */
static char *solver_value_rule(const char *key, const json_t *v)
{
	if (strcmp(key, "Solver") == 0)
		return json_is_string(v) ? string_value_rule(v) : xstrdup("allowed: a string (the solver's name)");
	if (!is_number(v))
		return xstrdup("allowed: a number");
	if (is_subnormal_json(v))
		return xstrdup("it " SUBNORMAL_RULE);
	if (strcmp(key, "StartTime") != 0 && json_number_value(v) < 0)
		return xstrdup("cannot be negative");
	return NULL;
}

/* The rule a ModelVars name breaks (heap), or NULL. */
static char *vars_key_rule(const char *key)
{
	if (validate_identifier(key))
		return NULL;
	return xasprintf("not a variable name; allowed: a letter or _ followed by letters, digits or _, at most %d "
			 "characters", PROTO_MAX_VAR_NAME);
}

static char *vars_value_rule(const char *key, const json_t *v)
{
	return var_rule(v);
}

/* What a struct field's members may be: names, then values. */
struct member_rules {
	const char *field;
	const char *shape;  /* what the field is, for a value that is no struct */
	size_t max_members; /* 0: no limit */
	char *(*key_rule)(const char *key);
	char *(*value_rule)(const char *key, const json_t *v);
};

static const struct member_rules vars_rules = {"vars", "a struct of NAME: value", PROTO_MAX_VARS, vars_key_rule,
					       vars_value_rule};
static const struct member_rules solver_rules = {"solver", "a struct of SolverOpts", 0, validate_solver_key_rule,
						 solver_value_rule};

/* Checks one member; adds it to all, or fills e naming it. */
static void read_member(const struct member_rules *r, const char *k, xmlrpc_value *val, json_t *all,
			struct validate_error *e)
{
	char *why = r->key_rule(k);
	json_t *j;

	if (why) {
		refuse(e, r->field, k, NULL, "%s", why);
		free(why);
		return;
	}
	j = proto_to_json(val, &why);
	if (j && (why = r->value_rule(k, j)) == NULL) {
		json_object_set_new(all, k, j);
		return;
	}
	refuse(e, r->field, k, val, "%s", why ? why : "not valid");
	json_decref(j);
	free(why);
}

/*
 * A struct field kept as canonical JSON (vars, solver), read member by member so a fault names
 * the member and its value.
 */
static bool read_json_struct(xmlrpc_value *v, const struct member_rules *r, char **text, struct validate_error *e)
{
	xmlrpc_env env;
	json_t *all;
	int n;

	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT)
		return refuse(e, r->field, NULL, v, "allowed: %s", r->shape);
	xmlrpc_env_init(&env);
	n = xmlrpc_struct_size(&env, v);
	if (r->max_members && (size_t)n > r->max_members) {
		xmlrpc_env_clean(&env);
		return refuse(e, r->field, NULL, v, "%d members; at most %zu are allowed", n, r->max_members);
	}
	all = json_object();
	for (int i = 0; i < n && !env.fault_occurred && e->rule == NULL; i++) {
		xmlrpc_value *key, *val;
		const char *k = NULL;

		xmlrpc_struct_read_member(&env, v, (unsigned)i, &key, &val);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, key, &k);
		if (!env.fault_occurred)
			read_member(r, k, val, all, e);
		free((void *)k);
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	if (env.fault_occurred && e->rule == NULL)
		refuse(e, r->field, NULL, NULL, "%s", env.fault_string);
	xmlrpc_env_clean(&env);
	if (e->rule == NULL) {
		free(*text);
		*text = proto_canonical(all);
	}
	json_decref(all);
	return e->rule == NULL;
}

/* ---- the model file -------------------------------------------------------------------- */

static bool has_plecs_suffix(const char *path)
{
	size_t n = strlen(path);

	return n > 6 && strcasecmp(path + n - 6, ".plecs") == 0;
}

/* Opens and reads a byte: what PLECS will do, as the server's user (access() asks for the real uid). */
static int read_errno(const char *path)
{
	char byte;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (read(fd, &byte, 1) < 0)
		err = errno;
	close(fd);
	return err;
}

/*
 * The model path (DESIGN 3): absolute, a name ending in .plecs, an existing regular file that
 * can be read; stored resolved.  Each rule is named when it is broken.
 */
static bool check_model(xmlrpc_value *v, const char *path, char **abs, struct validate_error *e)
{
	struct stat st;
	char *rule = validate_text_rule(path, PATH_MAX);
	int err;

	if (rule) {
		refuse(e, "model", NULL, v, "%s", rule);
		free(rule);
		return false;
	}
	if (path[0] == '\0')
		return refuse(e, "model", NULL, v, "required: the absolute path of a .plecs model file");
	if (path[0] != '/')
		return refuse(e, "model", NULL, v, "not an absolute path; the server resolves no relative paths "
			      "(simq submit makes them absolute)");
	if (!has_plecs_suffix(path))
		return refuse(e, "model", NULL, v, "not a .plecs file; a model is a PLECS model file whose name ends "
			      "in .plecs");
	if (stat(path, &st) != 0)
		return refuse(e, "model", NULL, v, "%s%s", strerror(errno),
			      errno == ENOENT || errno == ENOTDIR ? "; a model is an existing file" : "");
	if (!S_ISREG(st.st_mode))
		return refuse(e, "model", NULL, v, "%s, not a regular file; a model is a regular file",
			      S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
	if ((err = read_errno(path)) != 0)
		return refuse(e, "model", NULL, v, "cannot be read by the server (%s); a model is a file the server "
			      "can read", strerror(err));
	*abs = realpath(path, NULL);
	if (*abs == NULL)
		*abs = xstrdup(path);
	/* Stored resolved: through a link, a name every answer must then carry and every terminal show. */
	rule = validate_path_rule(*abs);
	if (rule) {
		char *shown = buf_shown(*abs);

		refuse(e, "model", NULL, v, "resolves to %s, which %s; rename the file or directory", shown, rule);
		free(shown);
		free(rule);
		free(*abs);
		*abs = NULL;
		return false;
	}
	return true;
}

/* ---- plain values out of XML-RPC ---------------------------------------------------- */

/* v as a heap string (caller frees) if it is an XML-RPC string, else NULL. */
static char *string_of(xmlrpc_value *v)
{
	xmlrpc_env env;
	const char *s = NULL;
	size_t len;

	if (v == NULL || xmlrpc_value_type(v) != XMLRPC_TYPE_STRING)
		return NULL;
	xmlrpc_env_init(&env);
	xmlrpc_read_string_lp(&env, v, &len, &s);
	if (env.fault_occurred)
		s = NULL;
	xmlrpc_env_clean(&env);
	return (char *)s;
}

/*
 * True with *out if v is a number: an int or an i8 (*integer true), or a
 * finite double, snapped as proto_to_json() does.
 */
static bool number_of(xmlrpc_value *v, double *out, bool *integer)
{
	xmlrpc_type type = xmlrpc_value_type(v);
	xmlrpc_int64 whole = 0;
	xmlrpc_env env;
	bool ok;

	*integer = type == XMLRPC_TYPE_INT || type == XMLRPC_TYPE_I8;
	if (!*integer && type != XMLRPC_TYPE_DOUBLE)
		return false;
	xmlrpc_env_init(&env);
	if (type == XMLRPC_TYPE_DOUBLE) {
		xmlrpc_read_double(&env, v, out);
	} else {
		if (type == XMLRPC_TYPE_INT) {
			int i = 0;

			xmlrpc_read_int(&env, v, &i);
			whole = i;
		} else {
			xmlrpc_read_i8(&env, v, &whole);
		}
		*out = (double)whole;
	}
	ok = !env.fault_occurred && isfinite(*out);
	xmlrpc_env_clean(&env);
	return ok;
}

static const char priority_rule[] = "allowed: critical, high, normal, low (any case) or 0-3";

static bool priority_of(xmlrpc_value *v, enum task_priority *out)
{
	double x;
	bool integer, ok = false;
	char *s;

	if (number_of(v, &x, &integer)) {
		ok = integer && x >= 0 && x < PRIO_COUNT;
		if (ok)
			*out = (enum task_priority)x;
	} else if ((s = string_of(v)) != NULL) {
		ok = task_priority_parse(s, out);
		free(s);
	}
	return ok;
}

bool validate_priority(xmlrpc_value *v, enum task_priority *out, char **err)
{
	char *shown;

	if (priority_of(v, out))
		return true;
	shown = proto_shown(v);
	*err = xasprintf("priority %s: %s", shown, priority_rule);
	free(shown);
	return false;
}

void validate_cache_free(struct validate_cache *cache)
{
	xfree(&cache->path);
	xfree(&cache->absolute);
}

/* ---- the fields of a task ------------------------------------------------------------ */

/*
 * Checks one field's value and stores it in the task; false with *e naming the
 * field, the value and what is allowed.  v is NULL only for a required field
 * that is absent.
 */
typedef bool field_reader(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e);

static bool read_model(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	char *path = string_of(v), *abs = NULL;

	if (path == NULL)
		return refuse(e, "model", NULL, v, "required: the absolute path of a .plecs model file (a string)");
	if (cache && cache->path && strcmp(cache->path, path) == 0) {
		abs = xstrdup(cache->absolute);
	} else if (check_model(v, path, &abs, e) && cache) {
		validate_cache_free(cache);
		cache->path = xstrdup(path);
		cache->absolute = xstrdup(abs);
	}
	free(path);
	if (abs == NULL)
		return false;
	free(t->model);
	t->model = abs;
	return true;
}

static bool read_vars(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	return read_json_struct(v, &vars_rules, &t->vars, e);
}

static bool read_solver(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	return read_json_struct(v, &solver_rules, &t->solver, e);
}

static bool read_priority(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	return priority_of(v, &t->priority) || refuse(e, "priority", NULL, v, "%s", priority_rule);
}

/* A name or a tag: a string that keeps validate_text_rule(); *out gets it (heap). */
static bool read_text(xmlrpc_value *v, const char *field, const char *what, char **out, struct validate_error *e)
{
	char *s = string_of(v), *rule;

	if (s == NULL)
		return refuse(e, field, NULL, v, "allowed: %s (a string)", what);
	rule = validate_text_rule(s, PROTO_MAX_NAME);
	if (rule) {
		refuse(e, field, NULL, v, "%s", rule);
		free(rule);
		free(s);
		return false;
	}
	free(*out);
	*out = s;
	return true;
}

static bool read_name(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	return read_text(v, "name", "a name", &t->name, e);
}

/* Tag i of an array of them: a non-empty string without commas (they are stored comma-separated). */
static bool add_tag(xmlrpc_value *tag, int i, struct buf *tags, struct validate_error *e)
{
	char *s = NULL;

	if (!read_text(tag, "tags", "a tag", &s, e))
		return false;
	if (s[0] == '\0' || strchr(s, ',')) {
		refuse(e, "tags", NULL, tag, "%s; allowed: a tag is a string without commas", s[0] ? "holds a comma"
												    : "empty");
		free(s);
		return false;
	}
	buf_addf(tags, "%s%s", i ? "," : "", s);
	free(s);
	return true;
}

/* Tags: an array of strings, stored comma-separated. */
static bool read_tags(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	struct buf tags = BUF_INIT;
	xmlrpc_env env;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY ? xmlrpc_array_size(&env, v) : -1;
	if (n < 0 || n > PROTO_MAX_TAGS)
		refuse(e, "tags", NULL, v, "allowed: an array of at most %d strings", PROTO_MAX_TAGS);
	for (int i = 0; i < n && e->rule == NULL; i++) {
		xmlrpc_value *tag;

		xmlrpc_array_read_item(&env, v, i, &tag);
		if (env.fault_occurred) {
			refuse(e, "tags", NULL, NULL, "%s", env.fault_string);
			break;
		}
		add_tag(tag, i, &tags, e);
		xmlrpc_DECREF(tag);
	}
	xmlrpc_env_clean(&env);
	if (e->rule) {
		buf_free(&tags);
		return false;
	}
	free(t->tags);
	t->tags = buf_detach(&tags);
	return true;
}

static bool read_timeout(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	double seconds;
	bool integer;

	if (!number_of(v, &seconds, &integer) || seconds < 0 || seconds > 30 * 86400.0)
		return refuse(e, "timeout", NULL, v, "allowed: a number of seconds from 0 (none) to 2592000 (30 days)");
	if (is_subnormal(seconds))
		return refuse(e, "timeout", NULL, v, "it " SUBNORMAL_RULE);
	t->timeout = seconds;
	return true;
}

static bool read_no_cache(xmlrpc_value *v, struct task *t, struct validate_cache *cache, struct validate_error *e)
{
	xmlrpc_env env;
	xmlrpc_bool b = false;

	if (xmlrpc_value_type(v) != XMLRPC_TYPE_BOOL)
		return refuse(e, "no_cache", NULL, v, "allowed: a boolean");
	xmlrpc_env_init(&env);
	xmlrpc_read_bool(&env, v, &b);
	xmlrpc_env_clean(&env);
	t->no_cache = b;
	return true;
}

/* The fields of a task, checked in this order; the first bad one is reported. */
static const struct task_field {
	const char *name;
	field_reader *read;
	bool required; /* read also when absent, with v NULL */
} task_fields[] = {
	{.name = "model", .read = read_model, .required = true},
	{.name = "vars", .read = read_vars},
	{.name = "solver", .read = read_solver},
	{.name = "priority", .read = read_priority},
	{.name = "name", .read = read_name},
	{.name = "tags", .read = read_tags},
	{.name = "timeout", .read = read_timeout},
	{.name = "no_cache", .read = read_no_cache},
};

#define NTASK_FIELDS (sizeof task_fields / sizeof task_fields[0])

/* "model, vars, ...": the names of task_fields, for messages (heap). */
static char *task_field_names(void)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < NTASK_FIELDS; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", task_fields[i].name);
	return buf_detach(&b);
}

static bool is_task_field(const char *name)
{
	for (size_t i = 0; i < NTASK_FIELDS; i++)
		if (strcmp(name, task_fields[i].name) == 0)
			return true;
	return false;
}

/*
 * Refuses a member that is not a field of a task.  A value of a type JSON
 * lacks (date-time, base64) anywhere in the task is named first, as simq
 * has always done.
 */
struct members {
	char *unknown, *inner;
};

static bool check_member(const char *key, xmlrpc_value *value, void *ud)
{
	struct members *m = ud;

	if (m->unknown == NULL && !is_task_field(key))
		m->unknown = buf_shown(key);
	proto_json_takes(value, &m->inner);
	return m->inner == NULL;
}

static bool check_members(xmlrpc_value *v, struct validate_error *e)
{
	struct members m = {0};
	char *err = NULL;

	if (!proto_each_member(v, check_member, &m, &err) && m.inner == NULL)
		m.inner = err;
	else
		free(err);
	if (m.inner) {
		refuse(e, NULL, NULL, NULL, "%s", m.inner);
	} else if (m.unknown) {
		char *allowed = task_field_names();

		refuse(e, NULL, NULL, NULL, "unknown field \"%s\"; allowed: %s", m.unknown, allowed);
		free(allowed);
	}
	free(m.inner);
	free(m.unknown);
	return e->rule == NULL;
}

/* Reads the field f of the task struct v into t, if it is there or required. */
static bool read_field(xmlrpc_value *v, const struct task_field *f, struct task *t, struct validate_cache *cache,
		       struct validate_error *e)
{
	xmlrpc_env env;
	xmlrpc_value *field = NULL;
	bool ok = true;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, v, f->name, &field);
	if (env.fault_occurred)
		ok = refuse(e, f->name, NULL, NULL, "%s", env.fault_string);
	else if (field || f->required)
		ok = f->read(field, t, cache, e);
	if (field)
		xmlrpc_DECREF(field);
	xmlrpc_env_clean(&env);
	return ok;
}

bool validate_task(xmlrpc_value *v, struct validate_cache *cache, struct task **out, struct validate_error *e)
{
	struct task *t;

	*out = NULL;
	memset(e, 0, sizeof *e);
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
		char *fields = task_field_names();

		refuse(e, NULL, NULL, v, "a task is a struct with %s", fields);
		free(fields);
		return false;
	}
	if (!check_members(v, e))
		return false;
	t = task_new("", NULL, NULL, PRIO_NORMAL);
	for (size_t i = 0; i < NTASK_FIELDS; i++) {
		if (!read_field(v, &task_fields[i], t, cache, e)) {
			task_free(&t);
			return false;
		}
	}
	*out = t;
	return true;
}
