/* The XML-RPC methods plecs-emu answers: PLECS's plecs.* and system.*, and its own emu.*. */
#include "autoconf.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/circuits.h"
#include "emu/emu.h"
#include "proto/proto.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* PLECS documents no fault codes; plecs-emu uses one for every error. */
#define EMU_FAULT_CODE 1

double emu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool emu_slot_acquire(struct emu *emu)
{
	pthread_mutex_lock(&emu->lock);
	while (emu->free_slots == 0 && !atomic_load(&emu->stopping))
		pthread_cond_wait(&emu->wake, &emu->lock);
	bool ok = !atomic_load(&emu->stopping);

	if (ok)
		emu->free_slots--;
	pthread_mutex_unlock(&emu->lock);
	return ok;
}

void emu_slot_release(struct emu *emu)
{
	pthread_mutex_lock(&emu->lock);
	emu->free_slots++;
	pthread_cond_broadcast(&emu->wake);
	pthread_mutex_unlock(&emu->lock);
}

bool emu_sleep(struct emu *emu, double seconds)
{
	struct timespec until;

	if (seconds <= 0)
		return !atomic_load(&emu->stopping);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)seconds;
	until.tv_nsec += (long)((seconds - floor(seconds)) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&emu->lock);
	while (!atomic_load(&emu->stopping) && pthread_cond_timedwait(&emu->wake, &emu->lock, &until) == 0)
		;
	pthread_mutex_unlock(&emu->lock);
	return !atomic_load(&emu->stopping);
}

void emu_record_call(struct emu *emu, const char *method, const struct emu_call_ctx *ctx, double start,
		     double duration, const char *outcome)
{
	struct emu_call *c;

	pthread_mutex_lock(&emu->lock);
	if (emu->ncalls == emu->capcalls) {
		emu->capcalls = emu->capcalls ? emu->capcalls * 2 : 64;
		emu->calls = xreallocarray(emu->calls, emu->capcalls, sizeof *emu->calls);
	}
	c = &emu->calls[emu->ncalls++];
	c->method = xstrdup(method);
	c->model = xstrdup(ctx && ctx->model ? ctx->model : "");
	c->cases = ctx ? ctx->cases : 0;
	c->start = start;
	c->duration = duration;
	c->outcome = xstrdup(outcome);
	c->opts = ctx && ctx->opts ? ctx->opts : NULL;
	if (c->opts)
		xmlrpc_INCREF(c->opts);
	emu->stat_calls++;
	if (strncmp(outcome, "ok", 2) != 0)
		emu->stat_faults++;
	if (emu->trace) {
		time_t secs = (time_t)start;
		struct tm tm;
		char stamp[32];

		gmtime_r(&secs, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(emu->trace, "%s.%03dZ %s model=%s cases=%d outcome=\"%s\" duration=%.6f\n", stamp,
			(int)((start - floor(start)) * 1000), method, c->model[0] ? c->model : "-", c->cases, outcome,
			duration);
		fflush(emu->trace);
	}
	pthread_mutex_unlock(&emu->lock);
}

void emu_clear_calls(struct emu *emu)
{
	for (size_t i = 0; i < emu->ncalls; i++) {
		free(emu->calls[i].method);
		free(emu->calls[i].model);
		free(emu->calls[i].outcome);
		if (emu->calls[i].opts)
			xmlrpc_DECREF(emu->calls[i].opts);
	}
	emu->ncalls = 0;
}

/* ---- argument helpers ---------------------------------------------------------- */

static bool arg_count(xmlrpc_env *env, xmlrpc_value *params, const char *method, int min, int max)
{
	int n = xmlrpc_array_size(env, params);

	if (env->fault_occurred)
		return false;
	if (n < min || n > max) {
		if (min == max)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s takes %d argument%s, not %d", method, min,
						       min == 1 ? "" : "s", n);
		else
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s takes %d to %d arguments, not %d", method,
						       min, max, n);
		return false;
	}
	return true;
}

/* Reads argument i as a string (heap); a fault naming it when it is not one. */
static char *arg_string(xmlrpc_env *env, xmlrpc_value *params, int i, const char *method, const char *what)
{
	xmlrpc_value *v;
	const char *s = NULL;
	char *copy = NULL;

	xmlrpc_array_read_item(env, params, i, &v);
	if (env->fault_occurred)
		return NULL;
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRING) {
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s: the %s must be a string, not %s", method, what,
					       proto_type_name(xmlrpc_value_type(v)));
	} else {
		xmlrpc_read_string(env, v, &s);
		if (!env->fault_occurred) {
			copy = xstrdup(s);
			free((void *)s);
		}
	}
	xmlrpc_DECREF(v);
	return copy;
}

static bool read_number(xmlrpc_env *env, xmlrpc_value *v, double *out)
{
	xmlrpc_type t = xmlrpc_value_type(v);

	if (t == XMLRPC_TYPE_DOUBLE) {
		xmlrpc_read_double(env, v, out);
	} else if (t == XMLRPC_TYPE_INT) {
		int i;

		xmlrpc_read_int(env, v, &i);
		*out = i;
	} else if (t == XMLRPC_TYPE_I8) {
		xmlrpc_int64 i;

		xmlrpc_read_i8(env, v, &i);
		*out = (double)i;
	} else {
		return false;
	}
	return !env->fault_occurred;
}

/* An XML-RPC value as an emu_value: number, string, array of numbers, array of arrays of numbers. */
static bool to_emu_value(xmlrpc_env *env, xmlrpc_value *v, struct emu_value *out, const char *what)
{
	xmlrpc_type t = xmlrpc_value_type(v);

	memset(out, 0, sizeof *out);
	if (read_number(env, v, &out->number)) {
		out->type = EMU_NUMBER;
		return true;
	}
	if (env->fault_occurred)
		return false;
	if (t == XMLRPC_TYPE_STRING) {
		const char *s;

		xmlrpc_read_string(env, v, &s);
		if (env->fault_occurred)
			return false;
		out->type = EMU_STRING;
		out->string = xstrdup(s);
		free((void *)s);
		return true;
	}
	if (t != XMLRPC_TYPE_ARRAY) {
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s must be a number, a string, a vector or a "
					       "matrix, not %s", what, proto_type_name(t));
		return false;
	}
	int rows = xmlrpc_array_size(env, v);
	bool matrix = false;

	out->type = EMU_MATRIX;
	for (int r = 0; r < rows && !env->fault_occurred; r++) {
		xmlrpc_value *item;
		double x;

		xmlrpc_array_read_item(env, v, r, &item);
		if (env->fault_occurred)
			break;
		if (r == 0)
			matrix = xmlrpc_value_type(item) == XMLRPC_TYPE_ARRAY;
		if (!matrix) {
			/* A vector: 1 x n numbers. */
			if (read_number(env, item, &x)) {
				out->rows = 1;
				out->data = xreallocarray(out->data, out->cols + 1, sizeof *out->data);
				out->data[out->cols++] = x;
			} else if (!env->fault_occurred) {
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s: a vector holds numbers only", what);
			}
		} else if (xmlrpc_value_type(item) != XMLRPC_TYPE_ARRAY) {
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s: every row of a matrix is an array", what);
		} else {
			int cols = xmlrpc_array_size(env, item);

			if (r == 0)
				out->cols = (size_t)cols;
			if ((size_t)cols != out->cols) {
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s: the rows of the matrix have different "
							       "lengths (%zu and %d)", what, out->cols, cols);
			} else {
				out->data = xreallocarray(out->data, ((size_t)r + 1) * out->cols + 1, sizeof *out->data);
				for (int c = 0; c < cols && !env->fault_occurred; c++) {
					xmlrpc_value *cell;

					xmlrpc_array_read_item(env, item, c, &cell);
					if (env->fault_occurred)
						break;
					if (!read_number(env, cell, &out->data[(size_t)r * out->cols + (size_t)c]) &&
					    !env->fault_occurred)
						xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s: a matrix holds numbers "
									       "only", what);
					xmlrpc_DECREF(cell);
				}
				out->rows = (size_t)r + 1;
			}
		}
		xmlrpc_DECREF(item);
	}
	if (env->fault_occurred) {
		emu_value_free(out);
		return false;
	}
	return true;
}

static xmlrpc_value *from_emu_value(xmlrpc_env *env, const struct emu_value *v)
{
	if (v->type == EMU_NUMBER)
		return xmlrpc_double_new(env, v->number);
	if (v->type == EMU_STRING)
		return xmlrpc_string_new(env, v->string);
	xmlrpc_value *rows = xmlrpc_array_new(env);

	for (size_t r = 0; r < v->rows && !env->fault_occurred; r++) {
		xmlrpc_value *row = xmlrpc_array_new(env);

		for (size_t c = 0; c < v->cols && !env->fault_occurred; c++) {
			xmlrpc_value *x = xmlrpc_double_new(env, v->data[r * v->cols + c]);

			xmlrpc_array_append_item(env, row, x);
			xmlrpc_DECREF(x);
		}
		if (v->rows == 1) {
			xmlrpc_DECREF(rows);
			return row;
		}
		xmlrpc_array_append_item(env, rows, row);
		xmlrpc_DECREF(row);
	}
	return rows;
}

/* ---- models ---------------------------------------------------------------------- */

/* The loaded model named name; call with emu->lock held. */
static struct emu_model *find_model(struct emu *emu, const char *name, size_t *index)
{
	for (size_t i = 0; i < emu->nmodels; i++) {
		if (strcmp(emu->models[i]->name, name) == 0) {
			if (index)
				*index = i;
			return emu->models[i];
		}
	}
	return NULL;
}

static xmlrpc_value *plecs_load(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	struct emu_call_ctx *ctx = call;
	char *path, *resolved, *err = NULL;
	struct emu_model *m, *old;
	size_t index;
	xmlrpc_value *result = NULL;

	if (!arg_count(env, params, "plecs.load", 1, 1))
		return NULL;
	path = arg_string(env, params, 0, "plecs.load", "model path");
	if (path == NULL)
		return NULL;
	resolved = realpath(path, NULL);
	m = emu_model_load(resolved ? resolved : path, &err);
	if (m == NULL) {
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Cannot load model '%s': %s", path, err);
		free(err);
		free(resolved);
		free(path);
		return NULL;
	}
	ctx->model = xstrdup(m->name);
	pthread_mutex_lock(&emu->lock);
	old = find_model(emu, m->name, &index);
	if (old && strcmp(old->path, m->path) != 0) {
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Cannot load model '%s': a model named '%s' is "
					       "already loaded from '%s'; close it first", path, m->name, old->path);
		emu_model_free(&m);
	} else if (old) {
		/* Loading the same file again reads it anew. */
		emu_model_free(&emu->models[index]);
		emu->models[index] = m;
	} else {
		emu->models = xreallocarray(emu->models, emu->nmodels + 1, sizeof *emu->models);
		emu->models[emu->nmodels++] = m;
	}
	pthread_mutex_unlock(&emu->lock);
	if (!env->fault_occurred)
		result = xmlrpc_string_new(env, ctx->model);
	free(resolved);
	free(path);
	return result;
}

static xmlrpc_value *plecs_close(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	struct emu_call_ctx *ctx = call;
	char *name;
	size_t index;

	if (!arg_count(env, params, "plecs.close", 1, 1))
		return NULL;
	name = arg_string(env, params, 0, "plecs.close", "model name");
	if (name == NULL)
		return NULL;
	ctx->model = xstrdup(name);
	pthread_mutex_lock(&emu->lock);
	if (find_model(emu, name, &index)) {
		emu_model_free(&emu->models[index]);
		emu->models[index] = emu->models[--emu->nmodels];
	} else {
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Model '%s' is not loaded", name);
	}
	pthread_mutex_unlock(&emu->lock);
	free(name);
	return env->fault_occurred ? NULL : xmlrpc_int_new(env, 0);
}

/* ---- simulate ---------------------------------------------------------------------- */

struct sim_case {
	double params[CIRCUIT_MAX_PARAMS];
	double start, span, step, timeout;
	bool matfile;
	struct emu_result result;
	xmlrpc_value *value;        /* the built result */
	char *error;                /* "Simulation error: ..." */
};

struct sim_job {
	struct emu *emu;
	const struct circuit *circuit;
	struct sim_case *cases;
	size_t n;
	bool slow;
	atomic_size_t next;
	atomic_bool cancel;
};

static const char *const solver_options[] = {"StartTime", "TimeSpan", "MaxStep", "FixedStep", "Timeout",
					      "RelTol", "AbsTol", "Solver", "Refine", NULL};

static bool read_solver_opts(xmlrpc_env *env, xmlrpc_value *opts, struct sim_case *c, const char *where)
{
	int n = xmlrpc_struct_size(env, opts);

	for (int i = 0; i < n && !env->fault_occurred; i++) {
		xmlrpc_value *key, *val;
		const char *k;
		double x = 0;
		bool known = false;

		xmlrpc_struct_read_member(env, opts, (unsigned)i, &key, &val);
		if (env->fault_occurred)
			break;
		xmlrpc_read_string(env, key, &k);
		for (size_t j = 0; !env->fault_occurred && solver_options[j]; j++)
			known |= strcmp(k, solver_options[j]) == 0;
		if (env->fault_occurred) {
		} else if (!known) {
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sSolverOpts: unknown option '%s'; known "
						       "options are StartTime, TimeSpan, MaxStep, FixedStep, Timeout, "
						       "RelTol, AbsTol, Solver, Refine", where, k);
		} else if (strcmp(k, "Solver") == 0) {
			if (xmlrpc_value_type(val) != XMLRPC_TYPE_STRING)
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sSolverOpts.Solver must be a string",
							       where);
		} else if (!read_number(env, val, &x)) {
			if (!env->fault_occurred)
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sSolverOpts.%s must be a number, "
							       "not %s", where, k, proto_type_name(xmlrpc_value_type(val)));
		} else if (strcmp(k, "StartTime") == 0) {
			c->start = x;
		} else if (strcmp(k, "TimeSpan") == 0) {
			if (!(x > 0))
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sSolverOpts.TimeSpan = %g must be "
							       "positive", where, x);
			c->span = x;
		} else if (strcmp(k, "MaxStep") == 0 || strcmp(k, "FixedStep") == 0) {
			if (!(x > 0))
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sSolverOpts.%s = %g must be positive",
							       where, k, x);
			c->step = x;
		} else if (strcmp(k, "Timeout") == 0) {
			if (!(x >= 0))
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sSolverOpts.Timeout = %g cannot be "
							       "negative", where, x);
			c->timeout = x;
		}
		free((void *)k);
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	return !env->fault_occurred;
}

static bool read_model_vars(xmlrpc_env *env, xmlrpc_value *mv, struct emu_vars *vars, const char *model,
			    const char *where)
{
	int n = xmlrpc_struct_size(env, mv);

	for (int i = 0; i < n && !env->fault_occurred; i++) {
		xmlrpc_value *key, *val;
		const char *k;
		struct emu_value v;

		xmlrpc_struct_read_member(env, mv, (unsigned)i, &key, &val);
		if (env->fault_occurred)
			break;
		xmlrpc_read_string(env, key, &k);
		if (!env->fault_occurred) {
			struct emu_var *def = emu_vars_find(vars, k);
			char *what = xasprintf("%sModelVars.%s", where, k);

			if (def == NULL) {
				char *names = emu_vars_names(vars);

				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sModelVars: model '%s' has no "
							       "variable '%s'; it defines %s", where, model, k,
							       names[0] ? names : "none");
				free(names);
			} else if (to_emu_value(env, val, &v, what)) {
				if (v.type != def->value.type)
					xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s must be a %s, as the model "
								       "defines it; got a %s", what,
								       emu_value_type_name(def->value.type),
								       emu_value_type_name(v.type));
				else
					emu_vars_set(vars, k, &v);
				emu_value_free(&v);
			}
			free(what);
			free((void *)k);
		}
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	return !env->fault_occurred;
}

/* Reads one optStruct into c over the model's defaults. */
static bool read_case(xmlrpc_env *env, xmlrpc_value *opt, const struct emu_model *model,
		      const struct circuit *circuit, struct sim_case *c, const char *where)
{
	struct emu_vars vars;
	int n;

	c->span = model->time_span;
	emu_vars_copy(&vars, &model->vars);
	if (opt && xmlrpc_value_type(opt) != XMLRPC_TYPE_STRUCT) {
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sthe simulation options must be a struct, not %s",
					       where, proto_type_name(xmlrpc_value_type(opt)));
		goto out;
	}
	n = opt ? xmlrpc_struct_size(env, opt) : 0;
	for (int i = 0; i < n && !env->fault_occurred; i++) {
		xmlrpc_value *key, *val;
		const char *k;

		xmlrpc_struct_read_member(env, opt, (unsigned)i, &key, &val);
		if (env->fault_occurred)
			break;
		xmlrpc_read_string(env, key, &k);
		if (env->fault_occurred) {
		} else if (strcmp(k, "ModelVars") == 0 || strcmp(k, "SolverOpts") == 0) {
			if (xmlrpc_value_type(val) != XMLRPC_TYPE_STRUCT)
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s%s must be a struct, not %s", where,
							       k, proto_type_name(xmlrpc_value_type(val)));
			else if (k[0] == 'M')
				read_model_vars(env, val, &vars, model->name, where);
			else
				read_solver_opts(env, val, c, where);
		} else if (strcmp(k, "OutputFormat") == 0) {
			const char *f = NULL;

			if (xmlrpc_value_type(val) == XMLRPC_TYPE_STRING)
				xmlrpc_read_string(env, val, &f);
			if (f && strcmp(f, "MatFile") == 0)
				c->matfile = true;
			else if (!env->fault_occurred && (f == NULL || strcmp(f, "Plain") != 0))
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sOutputFormat must be 'Plain' or "
							       "'MatFile'", where);
			free((void *)f);
		} else if (strcmp(k, "Name") == 0) {
			if (xmlrpc_value_type(val) != XMLRPC_TYPE_STRING)
				xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sName must be a string", where);
		} else {
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%sunknown field '%s' in the simulation "
						       "options; allowed: ModelVars, SolverOpts, OutputFormat, Name",
						       where, k);
		}
		if (k)
			free((void *)k);
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(val);
	}
	for (size_t i = 0; !env->fault_occurred && circuit->params[i]; i++) {
		const struct emu_var *v = emu_vars_find(&vars, circuit->params[i]);

		if (v == NULL)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Simulation error: model '%s' does not define "
						       "'%s' in its InitializationCommands", model->name,
						       circuit->params[i]);
		else if (v->value.type != EMU_NUMBER)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Simulation error: '%s' must be a number",
						       circuit->params[i]);
		else
			c->params[i] = v->value.number;
	}
	if (!env->fault_occurred && c->span <= 0)
		c->span = circuit->default_span(c->params);
out:
	emu_vars_free(&vars);
	return !env->fault_occurred;
}

static xmlrpc_value *build_plain(xmlrpc_env *env, const struct emu_result *r)
{
	xmlrpc_value *out = xmlrpc_struct_new(env), *time = xmlrpc_array_new(env), *values = xmlrpc_array_new(env);

	for (size_t i = 0; i < r->points && !env->fault_occurred; i++) {
		xmlrpc_value *x = xmlrpc_double_new(env, r->time[i]);

		xmlrpc_array_append_item(env, time, x);
		xmlrpc_DECREF(x);
	}
	for (size_t s = 0; s < r->signals && !env->fault_occurred; s++) {
		xmlrpc_value *sig = xmlrpc_array_new(env);

		for (size_t i = 0; i < r->points && !env->fault_occurred; i++) {
			xmlrpc_value *x = xmlrpc_double_new(env, r->values[s * r->points + i]);

			xmlrpc_array_append_item(env, sig, x);
			xmlrpc_DECREF(x);
		}
		xmlrpc_array_append_item(env, values, sig);
		xmlrpc_DECREF(sig);
	}
	xmlrpc_struct_set_value(env, out, "Time", time);
	xmlrpc_struct_set_value(env, out, "Values", values);
	xmlrpc_DECREF(time);
	xmlrpc_DECREF(values);
	return out;
}

/* Integrates one case, builds its result and takes as long as --speed says. */
static void run_case(struct sim_job *job, struct sim_case *c)
{
	xmlrpc_env env;
	double t0 = emu_now(), wall = c->span * job->emu->opt.speed * (job->slow ? 10 : 1);
	char *err = NULL;

	xmlrpc_env_init(&env);
	if (c->timeout > 0 && wall > c->timeout) {
		emu_sleep(job->emu, c->timeout);
		c->error = xasprintf("Simulation error: the simulation timed out after %g s (SolverOpts.Timeout)",
				     c->timeout);
		return;
	}
	if (!circuit_simulate(job->circuit, c->params, c->start, c->span, c->step, &c->result, &job->cancel, &err)) {
		c->error = err ? xasprintf("Simulation error: %s", err) : xstrdup("Simulation error: stopped");
		free(err);
		return;
	}
	if (c->matfile) {
		char *data = NULL;
		size_t len = 0;

		if (emu_matfile(&c->result, &data, &len, &err)) {
			c->value = xmlrpc_base64_new(&env, len, (const unsigned char *)data);
			free(data);
		} else {
			c->error = xasprintf("Simulation error: cannot write the MAT file: %s", err);
			free(err);
		}
	} else {
		c->value = build_plain(&env, &c->result);
	}
	if (env.fault_occurred && c->error == NULL)
		c->error = xasprintf("Simulation error: %s", env.fault_string);
	xmlrpc_env_clean(&env);
	emu_result_free(&c->result);
	emu_sleep(job->emu, wall - (emu_now() - t0));
}

static void *case_worker(void *arg)
{
	struct sim_job *job = arg;
	size_t i;

	while ((i = atomic_fetch_add(&job->next, 1)) < job->n)
		run_case(job, &job->cases[i]);
	return NULL;
}

/* The model's name and its options (one optStruct, an array of them, or none: *opts NULL). */
static char *read_simulate_args(xmlrpc_env *env, xmlrpc_value *params, xmlrpc_value **opts, bool *list)
{
	char *name;

	*opts = NULL;
	*list = false;
	if (!arg_count(env, params, "plecs.simulate", 1, 2))
		return NULL;
	name = arg_string(env, params, 0, "plecs.simulate", "first argument (the model name)");
	if (name == NULL || xmlrpc_array_size(env, params) < 2)
		return name;
	xmlrpc_array_read_item(env, params, 1, opts);
	*list = xmlrpc_value_type(*opts) == XMLRPC_TYPE_ARRAY;
	if (!*list && xmlrpc_value_type(*opts) != XMLRPC_TYPE_STRUCT)
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "plecs.simulate: the second argument must be a "
					       "struct of simulation options or an array of them, not %s",
					       proto_type_name(xmlrpc_value_type(*opts)));
	return name;
}

/* Copies what the run needs, so a plecs.close meanwhile does not pull the model away. */
static const struct circuit *snapshot_model(xmlrpc_env *env, struct emu *emu, const char *name,
					    struct emu_model *snapshot)
{
	const struct emu_model *model;
	const struct circuit *circuit = NULL;

	pthread_mutex_lock(&emu->lock);
	model = find_model(emu, name, NULL);
	if (model) {
		snapshot->name = xstrdup(model->name);
		snapshot->time_span = model->time_span;
		emu_vars_copy(&snapshot->vars, &model->vars);
		circuit = circuit_find(model->circuit);
	}
	pthread_mutex_unlock(&emu->lock);
	if (model == NULL)
		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Simulation error: model '%s' is not loaded", name);
	if (model && circuit == NULL) {
		char *known = circuit_names();

		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Simulation error: model '%s' names an unknown "
					       "EmuCircuit; plecs-emu knows %s", name, known);
		free(known);
	}
	return circuit;
}

/* The injected faults that plecs.simulate answers with an XML-RPC fault, as PLECS would. */
static const char *const injected_faults[FAULT_KIND_COUNT] = {
	[FAULT_FAULT] = "Simulation error: the solver failed to converge at t = 1.2e-3 s (injected by plecs-emu)",
	[FAULT_LICENSE] = "No free license available for PLECS: all seats are checked out (injected by plecs-emu)",
};

/* Reads every case of the call into job->cases (one when opts is no list). */
static bool read_cases(xmlrpc_env *env, xmlrpc_value *opts, bool list, const struct emu_model *model,
		       struct sim_job *job)
{
	job->n = list ? (size_t)xmlrpc_array_size(env, opts) : 1;
	job->cases = xcalloc(job->n ? job->n : 1, sizeof *job->cases);
	for (size_t i = 0; i < job->n && !env->fault_occurred; i++) {
		xmlrpc_value *opt = opts;
		char where[48] = "";

		if (list) {
			xmlrpc_array_read_item(env, opts, (int)i, &opt);
			snprintf(where, sizeof where, "case %zu: ", i + 1);
		}
		if (!env->fault_occurred)
			read_case(env, opt, model, job->circuit, &job->cases[i], where);
		if (list && opt)
			xmlrpc_DECREF(opt);
	}
	return !env->fault_occurred;
}

/* Runs the cases on up to --cores threads; this thread is one of them. */
static void run_cases(struct sim_job *job)
{
	size_t workers = job->n < (size_t)job->emu->opt.cores ? job->n : (size_t)job->emu->opt.cores;
	pthread_t threads[256];
	size_t started = 0;

	if (workers > 256)
		workers = 256;
	/* This thread starts on the cases while the helpers come up. */
	for (; started + 1 < workers; started++)
		if (pthread_create(&threads[started], NULL, case_worker, job) != 0)
			break;
	case_worker(job);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* The call's result: the one case's value, or an array of every case's; a fault if a case failed. */
static xmlrpc_value *collect_results(xmlrpc_env *env, struct sim_job *job, bool list)
{
	xmlrpc_value *result;

	for (size_t i = 0; i < job->n; i++) {
		if (job->cases[i].error) {
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "%s", job->cases[i].error);
			return NULL;
		}
	}
	if (!list) {
		result = job->cases[0].value;
		job->cases[0].value = NULL;
		return result;
	}
	result = xmlrpc_array_new(env);
	for (size_t i = 0; i < job->n && !env->fault_occurred; i++)
		xmlrpc_array_append_item(env, result, job->cases[i].value);
	if (env->fault_occurred && result) {
		xmlrpc_DECREF(result);
		result = NULL;
	}
	return result;
}

static void sim_job_free(struct sim_job *job)
{
	for (size_t i = 0; job->cases && i < job->n; i++) {
		if (job->cases[i].value)
			xmlrpc_DECREF(job->cases[i].value);
		free(job->cases[i].error);
		emu_result_free(&job->cases[i].result);
	}
	free(job->cases);
}

static xmlrpc_value *plecs_simulate(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	struct emu_call_ctx *ctx = call;
	struct emu_model snapshot = {0};
	struct sim_job job = {.emu = emu};
	xmlrpc_value *opts, *result = NULL;
	bool list, ok;
	char *name = read_simulate_args(env, params, &opts, &list);

	if (name)
		ctx->model = xstrdup(name);
	if (env->fault_occurred)
		goto out;
	if (opts && list) {
		xmlrpc_INCREF(opts);
		ctx->opts = opts;
	} else if (opts) {
		ctx->opts = xmlrpc_array_new(env);
		xmlrpc_array_append_item(env, ctx->opts, opts);
	}
	job.circuit = snapshot_model(env, emu, name, &snapshot);
	if (job.circuit == NULL)
		goto out;
	if (ctx->fault != FAULT_NONE && injected_faults[ctx->fault]) {
		xmlrpc_env_set_fault(env, EMU_FAULT_CODE, injected_faults[ctx->fault]);
		goto out;
	}
	job.slow = ctx->fault == FAULT_SLOW;
	ok = read_cases(env, opts, list, &snapshot, &job);
	ctx->cases = (int)job.n;
	if (!ok)
		goto out;
	pthread_mutex_lock(&emu->lock);
	emu->stat_simulations++;
	emu->stat_cases += job.n;
	pthread_mutex_unlock(&emu->lock);
	run_cases(&job);
	result = collect_results(env, &job, list);
out:
	sim_job_free(&job);
	free(snapshot.name);
	emu_vars_free(&snapshot.vars);
	if (opts)
		xmlrpc_DECREF(opts);
	free(name);
	return result;
}

/* ---- get, set, statistics ------------------------------------------------------------------ */

static xmlrpc_value *plecs_get(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	struct emu_call_ctx *ctx = call;
	char *name, *var;
	xmlrpc_value *result = NULL;

	if (!arg_count(env, params, "plecs.get", 2, 2))
		return NULL;
	name = arg_string(env, params, 0, "plecs.get", "model name");
	var = name ? arg_string(env, params, 1, "plecs.get", "variable name") : NULL;
	if (var) {
		ctx->model = xstrdup(name);
		pthread_mutex_lock(&emu->lock);
		struct emu_model *m = find_model(emu, name, NULL);
		struct emu_var *v = m ? emu_vars_find(&m->vars, var) : NULL;

		if (m == NULL)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Model '%s' is not loaded", name);
		else if (v == NULL)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Model '%s' has no variable '%s'", name, var);
		else
			result = from_emu_value(env, &v->value);
		pthread_mutex_unlock(&emu->lock);
	}
	free(name);
	free(var);
	return result;
}

static xmlrpc_value *plecs_set(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	struct emu_call_ctx *ctx = call;
	char *name, *var;
	xmlrpc_value *val = NULL;
	struct emu_value v;

	if (!arg_count(env, params, "plecs.set", 3, 3))
		return NULL;
	name = arg_string(env, params, 0, "plecs.set", "model name");
	var = name ? arg_string(env, params, 1, "plecs.set", "variable name") : NULL;
	if (var)
		xmlrpc_array_read_item(env, params, 2, &val);
	if (val && to_emu_value(env, val, &v, var)) {
		ctx->model = xstrdup(name);
		pthread_mutex_lock(&emu->lock);
		struct emu_model *m = find_model(emu, name, NULL);
		struct emu_var *def = m ? emu_vars_find(&m->vars, var) : NULL;

		if (m == NULL)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Model '%s' is not loaded", name);
		else if (def == NULL)
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "Model '%s' has no variable '%s'", name, var);
		else
			emu_vars_set(&m->vars, var, &v);
		pthread_mutex_unlock(&emu->lock);
		emu_value_free(&v);
	}
	if (val)
		xmlrpc_DECREF(val);
	free(name);
	free(var);
	return env->fault_occurred ? NULL : xmlrpc_int_new(env, 0);
}

static xmlrpc_value *plecs_statistics(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	xmlrpc_value *models;
	xmlrpc_value *out;

	if (!arg_count(env, params, "plecs.statistics", 0, 0))
		return NULL;
	models = xmlrpc_array_new(env);
	pthread_mutex_lock(&emu->lock);
	for (size_t i = 0; i < emu->nmodels; i++) {
		xmlrpc_value *s = xmlrpc_string_new(env, emu->models[i]->name);

		xmlrpc_array_append_item(env, models, s);
		xmlrpc_DECREF(s);
	}
	out = xmlrpc_build_value(env, "{s:d,s:d,s:d,s:d,s:d,s:i,s:V}", "Calls", (double)emu->stat_calls,
				 "Simulations", (double)emu->stat_simulations, "Cases", (double)emu->stat_cases, "Faults",
				 (double)emu->stat_faults, "Uptime", emu_now() - emu->started, "Cores", emu->opt.cores,
				 "Models", models);
	pthread_mutex_unlock(&emu->lock);
	xmlrpc_DECREF(models);
	return out;
}

/* ---- emu.* ------------------------------------------------------------------------------------ */

static xmlrpc_value *emu_inject(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	char *kind;
	enum fault_kind k;
	double count = 1;

	if (!arg_count(env, params, "emu.inject", 1, 2))
		return NULL;
	kind = arg_string(env, params, 0, "emu.inject", "fault kind");
	if (kind == NULL)
		return NULL;
	if (!fault_kind_parse(kind, &k)) {
		char *kinds = fault_kind_list();

		xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "emu.inject: unknown fault kind '%s'; kinds are %s",
					       kind, kinds);
		free(kinds);
	} else if (xmlrpc_array_size(env, params) == 2) {
		xmlrpc_value *v;

		xmlrpc_array_read_item(env, params, 1, &v);
		if (!read_number(env, v, &count) || count < 1 || count > 1e6 || count != floor(count))
			xmlrpc_env_set_fault_formatted(env, EMU_FAULT_CODE, "emu.inject: the count must be a whole "
						       "number from 1 to 1000000");
		xmlrpc_DECREF(v);
	}
	if (!env->fault_occurred)
		faults_inject(&emu->faults, k, (uint64_t)count);
	free(kind);
	return env->fault_occurred ? NULL : xmlrpc_int_new(env, (int)faults_pending(&emu->faults));
}

static xmlrpc_value *emu_calls(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;
	xmlrpc_value *list;

	if (!arg_count(env, params, "emu.calls", 0, 0))
		return NULL;
	list = xmlrpc_array_new(env);
	pthread_mutex_lock(&emu->lock);
	for (size_t i = 0; i < emu->ncalls && !env->fault_occurred; i++) {
		const struct emu_call *c = &emu->calls[i];
		xmlrpc_value *opts = c->opts ? c->opts : xmlrpc_array_new(env);
		xmlrpc_value *item = xmlrpc_build_value(env, "{s:s,s:s,s:i,s:d,s:d,s:s,s:V}", "method", c->method, "model",
							c->model, "cases", c->cases, "start", c->start, "duration",
							c->duration, "outcome", c->outcome, "opts", opts);

		if (c->opts == NULL)
			xmlrpc_DECREF(opts);

		if (!env->fault_occurred) {
			xmlrpc_array_append_item(env, list, item);
			xmlrpc_DECREF(item);
		}
	}
	pthread_mutex_unlock(&emu->lock);
	return list;
}

static xmlrpc_value *emu_reset(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	struct emu *emu = server;

	if (!arg_count(env, params, "emu.reset", 0, 0))
		return NULL;
	faults_reset(&emu->faults);
	pthread_mutex_lock(&emu->lock);
	emu_clear_calls(emu);
	pthread_mutex_unlock(&emu->lock);
	return xmlrpc_int_new(env, 0);
}

static const struct xmlrpc_method_info3 methods[] = {
	{.methodName = "plecs.load", .methodFunction = plecs_load, .help = "plecs.load(path): load a model file"},
	{.methodName = "plecs.close", .methodFunction = plecs_close, .help = "plecs.close(name): close a model"},
	{.methodName = "plecs.simulate", .methodFunction = plecs_simulate,
	 .help = "plecs.simulate(name[, optStruct | [optStruct...]]): run a simulation, or several in parallel"},
	{.methodName = "plecs.get", .methodFunction = plecs_get, .help = "plecs.get(name, variable)"},
	{.methodName = "plecs.set", .methodFunction = plecs_set, .help = "plecs.set(name, variable, value)"},
	{.methodName = "plecs.statistics", .methodFunction = plecs_statistics, .help = "counters of this server"},
	{.methodName = "emu.inject", .methodFunction = emu_inject,
	 .help = "emu.inject(kind[, count]): fail the next calls (or connections, for refuse)"},
	{.methodName = "emu.calls", .methodFunction = emu_calls, .help = "emu.calls(): the calls received"},
	{.methodName = "emu.reset", .methodFunction = emu_reset, .help = "emu.reset(): forget calls and injections"},
};

/* A method and the emulator it runs on, for exact(). */
static struct method_entry {
	struct emu *emu;
	xmlrpc_method2 fn;
} entries[sizeof methods / sizeof methods[0]];

/* Runs a method and keeps its answer's doubles for http.c, which writes them exactly. */
static xmlrpc_value *exact(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	const struct method_entry *m = server;
	struct emu_call_ctx *ctx = call;
	xmlrpc_value *result = m->fn(env, params, m->emu, call);

	if (result && ctx && !env->fault_occurred) {
		proto_doubles_free(&ctx->doubles);
		proto_doubles_of(result, &ctx->doubles);
	}
	return result;
}

void emu_methods_register(struct emu *emu, xmlrpc_env *env)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0] && !env->fault_occurred; i++) {
		struct xmlrpc_method_info3 info = methods[i];

		entries[i] = (struct method_entry){.emu = emu, .fn = info.methodFunction};
		info.methodFunction = exact;
		info.serverInfo = &entries[i];
		xmlrpc_registry_add_method3(env, emu->registry, &info);
	}
}
