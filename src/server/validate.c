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

static const char *const task_fields[] = {"model", "vars", "solver", "priority", "name", "tags", "timeout",
					  "no_cache", NULL};
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

static const char *type_name(xmlrpc_type t)
{
	switch (t) {
	case XMLRPC_TYPE_INT:
	case XMLRPC_TYPE_I8:
		return "an integer";
	case XMLRPC_TYPE_DOUBLE:
		return "a number";
	case XMLRPC_TYPE_BOOL:
		return "a boolean";
	case XMLRPC_TYPE_STRING:
		return "a string";
	case XMLRPC_TYPE_ARRAY:
		return "an array";
	case XMLRPC_TYPE_STRUCT:
		return "a struct";
	default:
		return "another type";
	}
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

bool validate_priority(xmlrpc_value *v, enum task_priority *out, char **err)
{
	xmlrpc_env env;
	bool ok = false;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) == XMLRPC_TYPE_INT) {
		int i;

		xmlrpc_read_int(&env, v, &i);
		if (!env.fault_occurred && i >= 0 && i < PRIO_COUNT) {
			*out = (enum task_priority)i;
			ok = true;
		}
	} else if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRING) {
		const char *s;

		xmlrpc_read_string(&env, v, &s);
		if (!env.fault_occurred) {
			ok = task_priority_parse(s, out);
			free((void *)s);
		}
	}
	xmlrpc_env_clean(&env);
	if (!ok)
		*err = xstrdup("priority: allowed: critical, high, normal, low (any case) or 0-3");
	return ok;
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

static char *read_tags(const json_t *tags, const char *where, char **err)
{
	struct buf b = BUF_INIT;
	size_t i;
	json_t *t;

	if (json_is_string(tags)) {
		if (!check_text(json_string_value(tags), PROTO_MAX_NAME * 4, "tags", where, err))
			return NULL;
		return xstrdup(json_string_value(tags));
	}
	if (!json_is_array(tags) || json_array_size(tags) > PROTO_MAX_TAGS) {
		*err = xasprintf("%stags: allowed: an array of at most %d strings", where, PROTO_MAX_TAGS);
		return NULL;
	}
	json_array_foreach(tags, i, t)
	{
		if (!json_is_string(t) || strchr(json_string_value(t), ',') ||
		    !check_text(json_string_value(t), PROTO_MAX_NAME, "a tag", where, err)) {
			if (*err == NULL)
				*err = xasprintf("%stags: each tag is a string without commas", where);
			buf_free(&b);
			return NULL;
		}
		buf_addf(&b, "%s%s", i ? "," : "", json_string_value(t));
	}
	return buf_detach(&b);
}

void validate_cache_free(struct validate_cache *cache)
{
	xfree(&cache->path);
	xfree(&cache->absolute);
}

bool validate_task(xmlrpc_value *v, const char *where, struct validate_cache *cache, struct task **out, char **err)
{
	json_t *j = NULL, *field;
	char *model = NULL, *vars = NULL, *solver = NULL, *tags = NULL;
	enum task_priority prio = PRIO_NORMAL;
	const char *key;
	bool ok = false;

	*out = NULL;
	*err = NULL;
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
		*err = xasprintf("%sa task is a struct with model, vars, solver, priority, name, tags, timeout, no_cache; "
				 "got %s", where, type_name(xmlrpc_value_type(v)));
		return false;
	}
	j = proto_to_json(v, err);
	if (j == NULL) {
		char *inner = *err;

		*err = xasprintf("%s%s", where, inner);
		free(inner);
		return false;
	}
	json_object_foreach(j, key, field)
	{
		if (!in_list(key, task_fields)) {
			char *allowed = joined(task_fields);

			*err = xasprintf("%sunknown field \"%s\"; allowed: %s", where, key, allowed);
			free(allowed);
			goto out;
		}
	}
	field = json_object_get(j, "model");
	if (!json_is_string(field)) {
		*err = xasprintf("%smodel: the path of a .plecs model file (a string) is required", where);
		goto out;
	}
	if (cache && cache->path && strcmp(cache->path, json_string_value(field)) == 0) {
		model = xstrdup(cache->absolute);
	} else {
		if (!check_model(json_string_value(field), where, &model, err))
			goto out;
		if (cache) {
			validate_cache_free(cache);
			cache->path = xstrdup(json_string_value(field));
			cache->absolute = xstrdup(model);
		}
	}
	field = json_object_get(j, "vars");
	if (field && !json_is_object(field)) {
		*err = xasprintf("%svars must be a struct of NAME: value", where);
		goto out;
	}
	if (field && !check_vars(field, where, err))
		goto out;
	vars = field ? proto_canonical(field) : xstrdup("{}");
	field = json_object_get(j, "solver");
	if (field && !json_is_object(field)) {
		*err = xasprintf("%ssolver must be a struct of SolverOpts", where);
		goto out;
	}
	if (field && !check_solver(field, where, err))
		goto out;
	solver = field ? proto_canonical(field) : xstrdup("{}");
	field = json_object_get(j, "priority");
	if (field) {
		xmlrpc_env env;
		xmlrpc_value *p;

		xmlrpc_env_init(&env);
		p = proto_from_json(&env, field);
		ok = p && validate_priority(p, &prio, err);
		if (p)
			xmlrpc_DECREF(p);
		else
			*err = xstrdup("priority: allowed: critical, high, normal, low (any case) or 0-3");
		xmlrpc_env_clean(&env);
		if (!ok) {
			char *inner = *err;

			*err = xasprintf("%s%s", where, inner);
			free(inner);
			goto out;
		}
		ok = false;
	}
	field = json_object_get(j, "name");
	if (field && (!json_is_string(field) || !check_text(json_string_value(field), PROTO_MAX_NAME, "name", where, err))) {
		if (*err == NULL)
			*err = xasprintf("%sname must be a string", where);
		goto out;
	}
	if (json_object_get(j, "tags") && (tags = read_tags(json_object_get(j, "tags"), where, err)) == NULL)
		goto out;
	field = json_object_get(j, "timeout");
	if (field && (!is_number(field) || json_number_value(field) < 0 || json_number_value(field) > 30 * 86400.0)) {
		*err = xasprintf("%stimeout: allowed: a number of seconds from 0 (none) to 2592000 (30 days)", where);
		goto out;
	}
	if (json_object_get(j, "no_cache") && !json_is_boolean(json_object_get(j, "no_cache"))) {
		*err = xasprintf("%sno_cache must be a boolean", where);
		goto out;
	}
	*out = task_new(model, vars, solver, prio);
	if (json_is_string(json_object_get(j, "name")))
		task_set_text(&(*out)->name, json_string_value(json_object_get(j, "name")));
	(*out)->tags = tags;
	tags = NULL;
	if (field)
		(*out)->timeout = json_number_value(field);
	(*out)->no_cache = json_is_true(json_object_get(j, "no_cache"));
	ok = true;
out:
	json_decref(j);
	free(model);
	free(vars);
	free(solver);
	free(tags);
	return ok;
}
