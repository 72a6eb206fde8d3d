#include "autoconf.h"

#include "server/validate.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
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

static bool is_number(const json_t *j)
{
	return json_is_integer(j) || (json_is_real(j) && isfinite(json_real_value(j)));
}

/* Checks a text field: valid UTF-8, no control characters, at most max bytes. */
static bool check_text(const char *s, size_t max, const char *what, const char *where, char **err)
{
	size_t len = strlen(s);

	if (len > max) {
		*err = xasprintf("%s%s is %zu bytes long; at most %zu are allowed", where, what, len, max);
		return false;
	}
	if (!utf8_validate(s, len, NULL)) {
		*err = xasprintf("%s%s is not valid UTF-8", where, what);
		return false;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*err = xasprintf("%s%s holds a control character; allowed: printable text", where, what);
			return false;
		}
	}
	return true;
}

/* A ModelVars value: a number, a string, a vector of numbers or a matrix (rows of equal length). */
static bool check_value(const json_t *v, const char *name, const char *where, char **err)
{
	if (is_number(v))
		return true;
	if (json_is_string(v)) {
		if (json_string_length(v) > PROTO_MAX_STRING) {
			*err = xasprintf("%svars.%s: a string of at most %d bytes is allowed", where, name, PROTO_MAX_STRING);
			return false;
		}
		return true;
	}
	if (json_is_array(v)) {
		size_t n = json_array_size(v), cols = 0, total = 0;
		bool matrix = n > 0 && json_is_array(json_array_get(v, 0));

		for (size_t i = 0; i < n; i++) {
			const json_t *item = json_array_get(v, i);

			if (!matrix) {
				if (!is_number(item)) {
					*err = xasprintf("%svars.%s: a vector holds numbers only (item %zu is not one)", where,
							 name, i + 1);
					return false;
				}
				total++;
				continue;
			}
			if (!json_is_array(item)) {
				*err = xasprintf("%svars.%s: every row of a matrix is an array of numbers", where, name);
				return false;
			}
			if (i == 0)
				cols = json_array_size(item);
			if (json_array_size(item) != cols) {
				*err = xasprintf("%svars.%s: the rows of the matrix have different lengths (%zu and %zu)", where,
						 name, cols, json_array_size(item));
				return false;
			}
			for (size_t c = 0; c < cols; c++) {
				if (!is_number(json_array_get(item, c))) {
					*err = xasprintf("%svars.%s: a matrix holds numbers only", where, name);
					return false;
				}
			}
			total += cols;
		}
		if (total > PROTO_MAX_ELEMENTS) {
			*err = xasprintf("%svars.%s: %zu numbers; at most %d are allowed", where, name, total,
					 PROTO_MAX_ELEMENTS);
			return false;
		}
		return true;
	}
	*err = xasprintf("%svars.%s must be a number, a string, a vector or a matrix of numbers", where, name);
	return false;
}

static bool check_vars(const json_t *vars, const char *where, char **err)
{
	const char *name;
	json_t *v;

	if (json_object_size(vars) > PROTO_MAX_VARS) {
		*err = xasprintf("%svars: %zu variables; at most %d are allowed", where, json_object_size(vars),
				 PROTO_MAX_VARS);
		return false;
	}
	json_object_foreach((json_t *)vars, name, v)
	{
		if (!validate_identifier(name)) {
			struct buf shown = BUF_INIT;

			buf_add_printable(&shown, name, strlen(name));
			*err = xasprintf("%svars: \"%s\" is not a variable name; allowed: a letter or _ followed by letters, "
					 "digits or _, at most %d characters", where, buf_str(&shown), PROTO_MAX_VAR_NAME);
			buf_free(&shown);
			return false;
		}
		if (!check_value(v, name, where, err))
			return false;
	}
	return true;
}

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static char *joined(const char *const *list)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; list[i]; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", list[i]);
	return buf_detach(&b);
}

static bool check_solver(const json_t *solver, const char *where, char **err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)solver, key, v)
	{
		if (!in_list(key, solver_fields)) {
			char *allowed = joined(solver_fields);

			*err = xasprintf("%ssolver: unknown option \"%s\"; allowed: %s", where, key, allowed);
			free(allowed);
			return false;
		}
		if (strcmp(key, "Solver") == 0 ? !json_is_string(v) : !is_number(v)) {
			*err = xasprintf("%ssolver.%s must be %s", where, key, strcmp(key, "Solver") == 0 ? "a string" : "a number");
			return false;
		}
		if (strcmp(key, "StartTime") != 0 && is_number(v) && json_number_value(v) < 0) {
			*err = xasprintf("%ssolver.%s = %g cannot be negative", where, key, json_number_value(v));
			return false;
		}
	}
	return true;
}

/* The model path: a readable regular file, stored absolute. */
static bool check_model(const char *path, const char *where, char **abs, char **err)
{
	struct stat st;

	if (!check_text(path, PATH_MAX, "model", where, err))
		return false;
	if (path[0] == '\0') {
		*err = xasprintf("%smodel: the path of a .plecs model file is required", where);
		return false;
	}
	if (path[0] != '/') {
		*err = xasprintf("%smodel \"%s\" is not an absolute path; the server resolves no relative paths "
				 "(simq submit makes them absolute)", where, path);
		return false;
	}
	if (stat(path, &st) != 0) {
		*err = xasprintf("%smodel %s: %s", where, path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = xasprintf("%smodel %s is not a regular file", where, path);
		return false;
	}
	if (access(path, R_OK) != 0) {
		*err = xasprintf("%smodel %s cannot be read: %s", where, path, strerror(errno));
		return false;
	}
	*abs = realpath(path, NULL);
	if (*abs == NULL)
		*abs = xstrdup(path);
	return true;
}

/* ---- plain values out of XML-RPC ---------------------------------------------------- */

/* v as a heap string (caller frees) if it is an XML-RPC string, else NULL. */
static char *string_of(xmlrpc_value *v)
{
	xmlrpc_env env;
	const char *s = NULL;
	size_t len;

	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRING)
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
		*out = proto_snap(*out);
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

bool validate_priority(xmlrpc_value *v, enum task_priority *out, char **err)
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
	if (!ok)
		*err = xstrdup("priority: allowed: critical, high, normal, low (any case) or 0-3");
	return ok;
}

void validate_cache_free(struct validate_cache *cache)
{
	xfree(&cache->path);
	xfree(&cache->absolute);
}

/* ---- the fields of a task ------------------------------------------------------------ */

/* What a field's reader needs besides the value. */
struct field_ctx {
	const char *where;            /* prefix of every message, e.g. "task 3: " */
	struct validate_cache *cache; /* may be NULL */
};

/*
 * Checks one field's value and stores it in the task; false with *err (heap)
 * naming the field and what is allowed.  v is NULL only for a required field
 * that is absent.
 */
typedef bool field_reader(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err);

static bool read_model(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	struct validate_cache *cache = cx->cache;
	char *path = v ? string_of(v) : NULL, *abs = NULL;

	if (path == NULL) {
		*err = xasprintf("%smodel: the path of a .plecs model file (a string) is required", cx->where);
		return false;
	}
	if (cache && cache->path && strcmp(cache->path, path) == 0) {
		abs = xstrdup(cache->absolute);
	} else if (check_model(path, cx->where, &abs, err) && cache) {
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

/* A struct field kept as canonical JSON (vars, solver): shape is the message when v is no struct. */
static bool read_json_struct(xmlrpc_value *v, const char *shape, bool (*check)(const json_t *, const char *, char **),
			     char **text, const struct field_ctx *cx, char **err)
{
	char *inner = NULL;
	json_t *j;

	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
		*err = xasprintf("%s%s", cx->where, shape);
		return false;
	}
	j = proto_to_json(v, &inner);
	if (j == NULL) {
		*err = xasprintf("%s%s", cx->where, inner);
		free(inner);
		return false;
	}
	if (!check(j, cx->where, err)) {
		json_decref(j);
		return false;
	}
	free(*text);
	*text = proto_canonical(j);
	json_decref(j);
	return true;
}

static bool read_vars(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	return read_json_struct(v, "vars must be a struct of NAME: value", check_vars, &t->vars, cx, err);
}

static bool read_solver(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	return read_json_struct(v, "solver must be a struct of SolverOpts", check_solver, &t->solver, cx, err);
}

static bool read_priority(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	char *inner = NULL;

	if (validate_priority(v, &t->priority, &inner))
		return true;
	*err = xasprintf("%s%s", cx->where, inner);
	free(inner);
	return false;
}

static bool read_name(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	char *name = string_of(v);

	if (name == NULL) {
		*err = xasprintf("%sname must be a string", cx->where);
		return false;
	}
	if (!check_text(name, PROTO_MAX_NAME, "name", cx->where, err)) {
		free(name);
		return false;
	}
	free(t->name);
	t->name = name;
	return true;
}

/* Tag i of an array of them: a string without commas. */
static bool add_tag(xmlrpc_value *tag, int i, struct buf *tags, const struct field_ctx *cx, char **err)
{
	char *s = string_of(tag);
	bool ok = s && !strchr(s, ',') && check_text(s, PROTO_MAX_NAME, "a tag", cx->where, err);

	if (ok)
		buf_addf(tags, "%s%s", i ? "," : "", s);
	else if (*err == NULL)
		*err = xasprintf("%stags: each tag is a string without commas", cx->where);
	free(s);
	return ok;
}

/* Tags: one string as it is, or an array of strings stored comma-separated. */
static bool read_tags(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	struct buf tags = BUF_INIT;
	char *s = string_of(v);
	xmlrpc_env env;
	int n;

	if (s) {
		if (!check_text(s, PROTO_MAX_NAME * 4, "tags", cx->where, err)) {
			free(s);
			return false;
		}
		free(t->tags);
		t->tags = s;
		return true;
	}
	xmlrpc_env_init(&env);
	n = xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY ? xmlrpc_array_size(&env, v) : -1;
	if (n < 0 || n > PROTO_MAX_TAGS)
		*err = xasprintf("%stags: allowed: an array of at most %d strings", cx->where, PROTO_MAX_TAGS);
	for (int i = 0; i < n && *err == NULL; i++) {
		xmlrpc_value *tag;

		xmlrpc_array_read_item(&env, v, i, &tag);
		if (env.fault_occurred) {
			*err = xasprintf("%stags: %s", cx->where, env.fault_string);
			break;
		}
		add_tag(tag, i, &tags, cx, err);
		xmlrpc_DECREF(tag);
	}
	xmlrpc_env_clean(&env);
	if (*err) {
		buf_free(&tags);
		return false;
	}
	free(t->tags);
	t->tags = buf_detach(&tags);
	return true;
}

static bool read_timeout(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	double seconds;
	bool integer;

	if (!number_of(v, &seconds, &integer) || seconds < 0 || seconds > 30 * 86400.0) {
		*err = xasprintf("%stimeout: allowed: a number of seconds from 0 (none) to 2592000 (30 days)",
				 cx->where);
		return false;
	}
	t->timeout = seconds;
	return true;
}

static bool read_no_cache(xmlrpc_value *v, struct task *t, const struct field_ctx *cx, char **err)
{
	xmlrpc_env env;
	xmlrpc_bool b = false;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL)
		xmlrpc_read_bool(&env, v, &b);
	else
		xmlrpc_env_set_fault(&env, 0, "not a boolean");
	if (env.fault_occurred)
		*err = xasprintf("%sno_cache must be a boolean", cx->where);
	else
		t->no_cache = b;
	xmlrpc_env_clean(&env);
	return *err == NULL;
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
static bool check_members(xmlrpc_value *v, const char *where, char **err)
{
	xmlrpc_env env;
	char *unknown = NULL, *inner = NULL;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_struct_size(&env, v);
	for (int i = 0; i < n && !env.fault_occurred && inner == NULL; i++) {
		xmlrpc_value *key, *val;
		const char *k;

		xmlrpc_struct_read_member(&env, v, (unsigned)i, &key, &val);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, key, &k);
		if (!env.fault_occurred) {
			if (unknown == NULL && !is_task_field(k))
				unknown = xstrdup(k);
			free((void *)k);
			proto_json_takes(val, &inner);
		}
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	if (env.fault_occurred && inner == NULL)
		inner = xstrdup(env.fault_string);
	if (inner) {
		*err = xasprintf("%s%s", where, inner);
	} else if (unknown) {
		char *allowed = task_field_names();

		*err = xasprintf("%sunknown field \"%s\"; allowed: %s", where, unknown, allowed);
		free(allowed);
	}
	free(inner);
	free(unknown);
	xmlrpc_env_clean(&env);
	return *err == NULL;
}

/* Reads the field f of the task struct v into t, if it is there or required. */
static bool read_field(xmlrpc_value *v, const struct task_field *f, struct task *t, const struct field_ctx *cx,
		       char **err)
{
	xmlrpc_env env;
	xmlrpc_value *field = NULL;
	bool ok = true;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, v, f->name, &field);
	if (env.fault_occurred) {
		*err = xasprintf("%s%s: %s", cx->where, f->name, env.fault_string);
		ok = false;
	} else if (field || f->required) {
		ok = f->read(field, t, cx, err);
	}
	if (field)
		xmlrpc_DECREF(field);
	xmlrpc_env_clean(&env);
	return ok;
}

bool validate_task(xmlrpc_value *v, const char *where, struct validate_cache *cache, struct task **out, char **err)
{
	const struct field_ctx cx = {.where = where, .cache = cache};
	struct task *t;

	*out = NULL;
	*err = NULL;
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
		char *fields = task_field_names();

		*err = xasprintf("%sa task is a struct with %s; got %s", where, fields,
				 proto_type_name(xmlrpc_value_type(v)));
		free(fields);
		return false;
	}
	if (!check_members(v, where, err))
		return false;
	t = task_new("", NULL, NULL, PRIO_NORMAL);
	for (size_t i = 0; i < NTASK_FIELDS; i++) {
		if (!read_field(v, &task_fields[i], t, &cx, err)) {
			task_free(&t);
			return false;
		}
	}
	*out = t;
	return true;
}
