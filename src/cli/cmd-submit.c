/* simq submit and simq sweep: put tasks in the queue. */
#include "autoconf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "client/reply.h"
#include "proto/proto.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* Task fields given by options, shared by submit and sweep. */
struct task_opts {
	xmlrpc_env env;
	const char *priority, *name;
	double timeout;
	bool no_cache, dry_run;
	xmlrpc_value *vars, *solver, *tags;
};

enum { OPT_SOLVER = 0x200, OPT_NAME, OPT_TAG, OPT_TIMEOUT, OPT_NO_CACHE, OPT_DRY_RUN };

static const struct option task_longopts[] = {
	{"priority", required_argument, NULL, 'p'},
	{"var", required_argument, NULL, 'v'},
	{"solver", required_argument, NULL, OPT_SOLVER},
	{"name", required_argument, NULL, OPT_NAME},
	{"tag", required_argument, NULL, OPT_TAG},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{NULL, 0, NULL, 0},
};

static int assign(struct cli_ctx *x, struct task_opts *t, xmlrpc_value *into, const char *arg, const char *what)
{
	const char *eq = strchr(arg, '=');
	char *name;
	xmlrpc_value *v;

	if (eq == NULL || eq == arg)
		return cli_usage_error(x->cmd, "%s \"%s\": expected NAME=VALUE", what, arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	if (!utf8_validate(name, strlen(name), NULL)) {
		free(name);
		return cli_usage_error(x->cmd, "%s: the name is not valid UTF-8", what);
	}
	char *err = NULL;

	v = cli_parse_value(eq + 1, &err);
	if (v == NULL) {
		int status = cli_usage_error(x->cmd, "%s %s: %s", what, name, err);

		free(err);
		free(name);
		return status;
	}
	xmlrpc_struct_set_value(&t->env, into, name, v);
	xmlrpc_DECREF(v);
	free(name);
	return -1;
}

static int task_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct task_opts *t = ud;
	char *end;

	switch (opt) {
	case 'p':
		t->priority = arg;
		return -1;
	case 'v':
		return assign(x, t, t->vars, arg, "-v");
	case OPT_SOLVER:
		return assign(x, t, t->solver, arg, "--solver");
	case OPT_NAME:
		if (!utf8_validate(arg, strlen(arg), NULL))
			return cli_usage_error(x->cmd, "--name: not valid UTF-8");
		t->name = arg;
		return -1;
	case OPT_TAG: {
		if (!utf8_validate(arg, strlen(arg), NULL))
			return cli_usage_error(x->cmd, "--tag: not valid UTF-8");
		xmlrpc_value *tag = xmlrpc_string_new(&t->env, arg);

		xmlrpc_array_append_item(&t->env, t->tags, tag);
		xmlrpc_DECREF(tag);
		return -1;
	}
	case OPT_TIMEOUT:
		t->timeout = strtod(arg, &end);
		if (end == arg || *end != '\0' || !(t->timeout >= 0))
			return cli_usage_error(x->cmd, "--timeout %s: expected a number of seconds", arg);
		return -1;
	case OPT_NO_CACHE:
		t->no_cache = true;
		return -1;
	case OPT_DRY_RUN:
		t->dry_run = true;
		return -1;
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

static void task_opts_init(struct task_opts *t)
{
	memset(t, 0, sizeof *t);
	xmlrpc_env_init(&t->env);
	t->vars = xmlrpc_struct_new(&t->env);
	t->solver = xmlrpc_struct_new(&t->env);
	t->tags = xmlrpc_array_new(&t->env);
}

static void task_opts_free(struct task_opts *t)
{
	xmlrpc_DECREF(t->vars);
	xmlrpc_DECREF(t->solver);
	xmlrpc_DECREF(t->tags);
	xmlrpc_env_clean(&t->env);
}

/* The task struct for the API; vars is the task's own (borrowed). */
static xmlrpc_value *task_struct(struct task_opts *t, const char *model, xmlrpc_value *vars)
{
	xmlrpc_value *s = xmlrpc_struct_new(&t->env), *v;

#define SET(key, value)                                          \
	do {                                                      \
		v = (value);                                      \
		xmlrpc_struct_set_value(&t->env, s, key, v);      \
		xmlrpc_DECREF(v);                                 \
	} while (0)
	SET("model", xmlrpc_string_new(&t->env, model));
	xmlrpc_struct_set_value(&t->env, s, "vars", vars);
	if (xmlrpc_struct_size(&t->env, t->solver) > 0)
		xmlrpc_struct_set_value(&t->env, s, "solver", t->solver);
	if (t->priority)
		SET("priority", xmlrpc_string_new(&t->env, t->priority));
	if (t->name)
		SET("name", xmlrpc_string_new(&t->env, t->name));
	if (xmlrpc_array_size(&t->env, t->tags) > 0)
		xmlrpc_struct_set_value(&t->env, s, "tags", t->tags);
	if (t->timeout > 0)
		SET("timeout", xmlrpc_double_new(&t->env, t->timeout));
	if (t->no_cache)
		SET("no_cache", xmlrpc_bool_new(&t->env, 1));
#undef SET
	return s;
}

static int run_submit(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_submit};
	struct task_opts t;
	xmlrpc_value *task, *result = NULL;
	char *model;
	int status;

	task_opts_init(&t);
	status = cli_parse_options(&x, argc, argv, "p:v:", task_longopts, task_option, &t);
	if (status < 0 && optind != argc - 1)
		status = cli_usage_error(x.cmd, optind >= argc ? "give the model file" : "give one model file");
	if (status < 0 && !utf8_validate(argv[optind], strlen(argv[optind]), NULL))
		status = cli_usage_error(x.cmd, "the model path is not valid UTF-8");
	if (status >= 0) {
		task_opts_free(&t);
		return status;
	}
	model = paths_absolute(argv[optind]);
	task = task_struct(&t, model, t.vars);
	if (t.dry_run) {
		status = cli_print_json(task);
	} else {
		status = cli_call(&x, "simq.submit", &result, "(V)", task);
		if (status == CLI_EXIT_OK) {
			char id[32];
			xmlrpc_value *wrap = xmlrpc_build_value(&t.env, "{s:V}", "id", result);

			if (x.json)
				cli_print_json(wrap);
			else
				printf("%s\n", reply_text(wrap, "id", id, sizeof id));
			xmlrpc_DECREF(wrap);
			xmlrpc_DECREF(result);
		}
	}
	xmlrpc_DECREF(task);
	free(model);
	task_opts_free(&t);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_submit = {
	.name = "submit",
	.usage = "simq submit MODEL [-p PRIO] [-v NAME=VALUE]... [--solver KEY=VALUE]... [--name N] [--tag T]... "
		 "[--timeout S] [--no-cache] [--dry-run] [--json]",
	.summary = "queue one simulation of a model and print its id",
	.help = "Values: a number (400, 1.2e-3), a vector [1,2,3], a matrix [[1,2],[3,4]] or [1 2; 3 4], else a\n"
		"string ('quoted' or bare). PRIO: critical, high, normal (default), low, or 0-3. --solver sets\n"
		"SolverOpts (TimeSpan, MaxStep, ...). Exit 65 when the server refuses the task, saying why.",
	.run = run_submit,
};

/* ---- sweep ------------------------------------------------------------------------ */

static int run_sweep(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_sweep};
	struct task_opts t;
	struct sweep_axis *axes = NULL;
	size_t naxes = 0;
	double total = 1;
	char *model = NULL, *err = NULL;
	int status;

	task_opts_init(&t);
	status = cli_parse_options(&x, argc, argv, "p:v:", task_longopts, task_option, &t);
	if (status < 0 && argc - optind < 2)
		status = cli_usage_error(x.cmd, "give the model file and at least one NAME=START:STOP:STEP or NAME=A,B,C");
	if (status < 0 && !utf8_validate(argv[optind], strlen(argv[optind]), NULL))
		status = cli_usage_error(x.cmd, "the model path is not valid UTF-8");
	if (status >= 0) {
		task_opts_free(&t);
		return status;
	}
	model = paths_absolute(argv[optind]);
	naxes = (size_t)(argc - optind - 1);
	axes = xcalloc(naxes, sizeof *axes);
	for (size_t i = 0; i < naxes; i++) {
		if (!sweep_parse_axis(&t.env, argv[optind + 1 + (int)i], &axes[i], &err)) {
			status = cli_usage_error(x.cmd, "%s", err);
			free(err);
			goto out;
		}
		total *= (double)axes[i].n;
	}
	if (total > PROTO_MAX_BATCH) {
		status = cli_usage_error(x.cmd, "the sweep has %.0f tasks; at most %d are allowed in one sweep", total,
					 PROTO_MAX_BATCH);
		goto out;
	}
	/* The cartesian product, the last axis varying fastest. */
	xmlrpc_value *tasks = xmlrpc_array_new(&t.env);
	size_t count;
	xmlrpc_value **vars = sweep_expand(&t.env, t.vars, axes, naxes, &count);

	for (size_t k = 0; k < count; k++) {
		xmlrpc_value *task = task_struct(&t, model, vars[k]);

		xmlrpc_array_append_item(&t.env, tasks, task);
		xmlrpc_DECREF(task);
		xmlrpc_DECREF(vars[k]);
	}
	free(vars);
	if (t.dry_run) {
		status = cli_print_json(tasks);
		if (!x.json)
			fprintf(stderr, "simq sweep: %.0f tasks would be submitted (--dry-run)\n", total);
	} else {
		xmlrpc_value *ids = NULL;

		status = cli_call(&x, "simq.submit_many", &ids, "(V)", tasks);
		if (status == CLI_EXIT_OK) {
			int n = xmlrpc_array_size(&t.env, ids);
			xmlrpc_value *out = xmlrpc_build_value(&t.env, "{s:i,s:V}", "count", n, "ids", ids);

			if (x.json) {
				cli_print_json(out);
			} else {
				xmlrpc_value *first, *last;
				char a[32], b[32];
				xmlrpc_value *fw, *lw;

				xmlrpc_array_read_item(&t.env, ids, 0, &first);
				xmlrpc_array_read_item(&t.env, ids, n - 1, &last);
				fw = xmlrpc_build_value(&t.env, "{s:V}", "v", first);
				lw = xmlrpc_build_value(&t.env, "{s:V}", "v", last);
				printf("submitted %d task%s: %s-%s\n", n, n == 1 ? "" : "s", reply_text(fw, "v", a, sizeof a),
				       reply_text(lw, "v", b, sizeof b));
				xmlrpc_DECREF(first);
				xmlrpc_DECREF(last);
				xmlrpc_DECREF(fw);
				xmlrpc_DECREF(lw);
			}
			xmlrpc_DECREF(out);
			xmlrpc_DECREF(ids);
		}
	}
	xmlrpc_DECREF(tasks);
out:
	sweep_axes_free(axes, naxes);
	free(model);
	task_opts_free(&t);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_sweep = {
	.name = "sweep",
	.usage = "simq sweep MODEL NAME=START:STOP:STEP|NAME=A,B,C... [-p PRIO] [-v NAME=VALUE]... [--solver KEY=VALUE]... "
		 "[--name N] [--tag T]... [--timeout S] [--dry-run] [--json]",
	.summary = "queue the cartesian product of parameter ranges, all or none",
	.help = "START:STOP:STEP includes STOP when the steps reach it. A,B,C lists values, which may be vectors:\n"
		"K=[1,2],[3,4]. -v fixes a variable for every task. --dry-run prints the tasks as JSON and submits\n"
		"nothing. The tasks are stored in one transaction: a bad one stores none.",
	.run = run_sweep,
};
