/* simq submit and simq sweep: put tasks in the queue. */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli/common.h"
#include "client/reply.h"
#include "proto/proto.h"
#include "server/submit.h"
#include "server/validate.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* Where a variable or solver option was given: for messages in the command's own words. */
struct origin {
	char *name;
	const char *option; /* "-v", "--solver", or NULL for a sweep axis */
	const char *arg;    /* as typed */
};

/* Task fields given by options, shared by submit and sweep. */
struct task_opts {
	xmlrpc_env env;
	const char *priority, *name, *request_key;
	const char *bad_field;   /* the field xmlrpc-c could not carry, or NULL */
	double timeout;
	bool no_cache, dry_run;
	xmlrpc_value *vars, *solver, *tags;
	struct origin *origins;
	size_t norigins;
};

enum { OPT_SOLVER = 0x200, OPT_NAME, OPT_TAG, OPT_TIMEOUT, OPT_NO_CACHE, OPT_DRY_RUN, OPT_REQUEST_KEY };

static const struct option task_longopts[] = {
	{"priority", required_argument, NULL, 'p'},
	{"var", required_argument, NULL, 'v'},
	{"solver", required_argument, NULL, OPT_SOLVER},
	{"name", required_argument, NULL, OPT_NAME},
	{"tag", required_argument, NULL, OPT_TAG},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"request-key", required_argument, NULL, OPT_REQUEST_KEY},
	{NULL, 0, NULL, 0},
};

/* The origin of name among variables (solver false) or solver options, or NULL. */
static const struct origin *origin_of(const struct task_opts *t, const char *name, bool solver)
{
	for (size_t i = 0; i < t->norigins; i++)
		if (strcmp(t->origins[i].name, name) == 0 && ((t->origins[i].option && t->origins[i].option[1] == '-') == solver))
			return &t->origins[i];
	return NULL;
}

/* Records where name came from; a usage error when it was given before (the last would win unseen). */
static int add_origin(struct cli_ctx *x, struct task_opts *t, const char *name, const char *option, const char *arg)
{
	const struct origin *before = origin_of(t, name, option && option[1] == '-');

	if (before)
		return cli_usage_error_at(x->cmd, arg, 0, "%s is given twice: %s%s%s and %s%s%s; give each %s once", name,
					  before->option ? before->option : "", before->option ? " " : "", before->arg,
					  option ? option : "", option ? " " : "", arg,
					  option && option[1] == '-' ? "solver option" : "variable");
	t->origins = xreallocarray(t->origins, t->norigins + 1, sizeof *t->origins);
	t->origins[t->norigins++] = (struct origin){.name = xstrdup(name), .option = option, .arg = arg};
	return -1;
}

static int assign(struct cli_ctx *x, struct task_opts *t, xmlrpc_value *into, const char *arg, const char *option)
{
	const char *eq = strchr(arg, '=');
	struct values_error err = {0};
	char *name;
	xmlrpc_value *v;
	int status;

	if (eq == NULL || eq == arg)
		return cli_usage_error_at(x->cmd, arg, eq ? 0 : strlen(arg), "%s %s: expected NAME=VALUE", option, arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	if (!utf8_validate(name, strlen(name), NULL)) {
		free(name);
		return cli_usage_error(x->cmd, "%s: the name is not valid UTF-8", option);
	}
	status = add_origin(x, t, name, option, arg);
	if (status < 0 && (v = cli_parse_value(eq + 1, &err)) != NULL) {
		xmlrpc_struct_set_value(&t->env, into, name, v);
		xmlrpc_DECREF(v);
	} else if (status < 0) {
		status = cli_usage_error_at(x->cmd, arg, (size_t)(eq + 1 - arg) + err.at, "%s %s: %s", option, name,
					    err.message);
		values_error_clear(&err);
	}
	free(name);
	return status;
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
		t->name = arg;
		return -1;
	case OPT_TAG: {
		xmlrpc_value *tag = xmlrpc_string_new(&t->env, arg);

		if (t->env.fault_occurred)
			return cli_usage_error(x->cmd, "--tag: %s", t->env.fault_string);
		xmlrpc_array_append_item(&t->env, t->tags, tag);
		xmlrpc_DECREF(tag);
		return -1;
	}
	case OPT_TIMEOUT:
		errno = 0;
		t->timeout = strtod(arg, &end);
		if (end == arg || *end != '\0' || errno || !isfinite(t->timeout) || !(t->timeout >= 0))
			return cli_usage_error(x->cmd, "--timeout %s: expected a number of seconds from 0", arg);
		return -1;
	case OPT_NO_CACHE:
		t->no_cache = true;
		return -1;
	case OPT_DRY_RUN:
		t->dry_run = true;
		return -1;
	case OPT_REQUEST_KEY: {
		char *rule = arg[0] ? validate_text_rule(arg, SUBMIT_MAX_KEY) : xstrdup("empty");
		int status = -1;

		if (rule)
			status = cli_usage_error(x->cmd, "--request-key: %s; allowed: text of 1 to %d bytes without control "
						 "characters", rule, SUBMIT_MAX_KEY);
		free(rule);
		t->request_key = arg;
		return status;
	}
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
	for (size_t i = 0; i < t->norigins; i++)
		free(t->origins[i].name);
	free(t->origins);
}

/* The task struct for the API; vars is the task's own (borrowed). */
static xmlrpc_value *task_struct(struct task_opts *t, const char *model, xmlrpc_value *vars)
{
	xmlrpc_value *s = xmlrpc_struct_new(&t->env), *v;

	/* A value xmlrpc-c cannot carry (it refuses UTF-8 beyond U+FFFF, emoji say) stops here, named. */
#define SET(key, value)                                          \
	do {                                                      \
		if (t->env.fault_occurred)                        \
			break;                                    \
		v = (value);                                      \
		if (t->env.fault_occurred) {                      \
			t->bad_field = key;                       \
			break;                                    \
		}                                                 \
		xmlrpc_struct_set_value(&t->env, s, key, v);      \
		xmlrpc_DECREF(v);                                 \
	} while (0)
	SET("model", xmlrpc_string_new(&t->env, model));
	/* After a fault env takes no more calls: the rest is left out, the caller says what was refused. */
	if (t->env.fault_occurred)
		return s;
	xmlrpc_struct_set_value(&t->env, s, "vars", vars);
	if (xmlrpc_struct_size(&t->env, t->solver) > 0)
		xmlrpc_struct_set_value(&t->env, s, "solver", t->solver);
	if (t->priority)
		SET("priority", xmlrpc_string_new(&t->env, t->priority));
	if (t->name)
		SET("name", xmlrpc_string_new(&t->env, t->name));
	if (!t->env.fault_occurred && xmlrpc_array_size(&t->env, t->tags) > 0)
		xmlrpc_struct_set_value(&t->env, s, "tags", t->tags);
	if (t->timeout > 0)
		SET("timeout", xmlrpc_double_new(&t->env, t->timeout));
	if (t->no_cache)
		SET("no_cache", xmlrpc_bool_new(&t->env, 1));
#undef SET
	return s;
}

/* The options each field of a task comes from, for messages in the command's words. */
static const struct {
	const char *field, *option;
} field_options[] = {
	{"priority", "-p"}, {"name", "--name"}, {"tags", "--tag"}, {"timeout", "--timeout"}, {"no_cache", "--no-cache"},
};

/*
 * Says what validate found wrong, naming the option or operand that gave the value (never the
 * API's member names); returns the exit status a refusal by the server would have.
 */
static int refused(struct cli_ctx *x, const struct task_opts *t, const struct validate_error *e)
{
	const char *field = e->field ? e->field : "", *value = e->value ? e->value : "";
	const struct origin *o = e->key ? origin_of(t, e->key, strcmp(field, "solver") == 0) : NULL;

	if (strcmp(field, "model") == 0) {
		fprintf(stderr, "simq %s: model %s: %s\n", x->cmd->name, value, e->rule);
	} else if (e->key) {
		fprintf(stderr, "simq %s: %s%s%s%s%s: %s\n", x->cmd->name, o && o->option ? o->option : "",
			o && o->option ? " " : "", e->key, e->value ? "=" : "", value, e->rule);
	} else {
		const char *option = field;

		for (size_t i = 0; i < sizeof field_options / sizeof field_options[0]; i++)
			if (strcmp(field, field_options[i].field) == 0)
				option = field_options[i].option;
		fprintf(stderr, "simq %s: %s%s%s: %s\n", x->cmd->name, option, e->value ? " " : "", value, e->rule);
	}
	return CLI_EXIT_DATA;
}

/* A value the API cannot carry: named in the command's words, exit 65. */
static int not_carried(struct cli_ctx *x, const struct task_opts *t)
{
	const char *option = t->bad_field ? t->bad_field : "a value";

	for (size_t i = 0; i < sizeof field_options / sizeof field_options[0]; i++)
		if (t->bad_field && strcmp(t->bad_field, field_options[i].field) == 0)
			option = field_options[i].option;
	fprintf(stderr, "simq %s: %s: XML-RPC here carries no character beyond U+FFFF (emoji and the like): %s\n",
		x->cmd->name, option, t->env.fault_string);
	return CLI_EXIT_DATA;
}

/* Checks task as the server will (validate.c), so a mistake is named in the command's words. */
static int check_task(struct cli_ctx *x, const struct task_opts *t, xmlrpc_value *task, struct validate_cache *cache)
{
	struct validate_error e;
	struct task *checked = NULL;
	int status = -1;

	if (!validate_task(task, cache, &checked, &e)) {
		status = refused(x, t, &e);
		validate_error_clear(&e);
	}
	task_free(&checked);
	return status;
}

/* A new request key: "cli-" and 128 random bits in hex, never the same twice. */
static char *new_request_key(void)
{
	unsigned char raw[16];
	char hex[2 * sizeof raw + 1];

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		struct timespec ts;

		/* No randomness: the time and the pid are unique enough on one machine. */
		clock_gettime(CLOCK_REALTIME, &ts);
		return xasprintf("cli-%lld.%09ld-%ld", (long long)ts.tv_sec, ts.tv_nsec, (long)getpid());
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return xasprintf("cli-%s", hex);
}

/* Sends what (a task or an array of them) with t's request key or a new one. */
static int send_keyed(struct cli_ctx *x, struct task_opts *t, const char *method, xmlrpc_value *what,
		      xmlrpc_value **result)
{
	char *key = t->request_key ? xstrdup(t->request_key) : new_request_key();
	xmlrpc_value *params = xmlrpc_build_value(&t->env, "(Vs)", what, key);
	int status = cli_call_keyed(x, method, key, params, result);

	xmlrpc_DECREF(params);
	free(key);
	return status;
}

static int run_submit(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_submit};
	struct validate_cache cache = {0};
	struct task_opts t;
	xmlrpc_value *task, *result = NULL;
	char *model;
	int status;

	task_opts_init(&t);
	status = cli_parse_options(&x, argc, argv, task_option, &t);
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
	status = t.env.fault_occurred ? not_carried(&x, &t) : check_task(&x, &t, task, &cache);
	if (status >= 0) {
		/* refused: nothing sent */
	} else if (t.dry_run) {
		status = cli_print_json(task);
	} else if ((status = send_keyed(&x, &t, "simq.submit", task, &result)) == CLI_EXIT_OK) {
		char id[32];
		xmlrpc_value *wrap = xmlrpc_build_value(&t.env, "{s:V}", "id", result);

		if (x.json)
			cli_print_json(wrap);
		else
			printf("%s\n", reply_text(wrap, "id", id, sizeof id));
		xmlrpc_DECREF(wrap);
		xmlrpc_DECREF(result);
	}
	xmlrpc_DECREF(task);
	free(model);
	validate_cache_free(&cache);
	task_opts_free(&t);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_submit = {
	.name = "submit",
	.usage = "simq submit MODEL [-p|--priority PRIO] [-v|--var NAME=VALUE]... [--solver KEY=VALUE]... [--name N] [--tag T]... "
		 "[--timeout S] [--no-cache] [--request-key K] [--dry-run] [--json]",
	.summary = "queue one simulation of a model and print its id",
	.help = "Values: a number (400, 1.2e-3), a vector [1,2,3], a matrix [[1,2],[3,4]] or [1 2; 3 4], or a\n"
		"string: 'quoted', or bare text that does not look like a number. Text that looks like a number\n"
		"must be one (1e999, nan, 0x10 are errors); quote it for a string: -v \"Mode='1.2.3'\".\n"
		"PRIO: critical, high, normal (default), low, or 0-3. --solver sets SolverOpts (TimeSpan,\n"
		"MaxStep, ...). Every submit carries a request key (--request-key K, else a new one): when the\n"
		"answer is lost, simq asks once more with it, and the server never stores the task twice.\n"
		"A task whose case has a stored result completes at once from the cache (simq cache why);\n"
		"--no-cache runs it on PLECS anyway.\n"
		"Exit 65 when the task is refused, saying why.",
	.run = run_submit,
	.shortopts = "p:v:",
	.longopts = task_longopts,
	.common = true,
	.operands = CLI_OPERANDS_MODEL,
};

/* ---- sweep ------------------------------------------------------------------------ */

/* Parses the axes of argv[from..argc); a usage error names the one that is wrong, or a variable given twice. */
static int parse_axes(struct cli_ctx *x, struct task_opts *t, int argc, char **argv, int from,
		      struct sweep_axis *axes, double *total)
{
	struct values_error err = {0};
	int status = -1;

	*total = 1;
	for (int i = from; i < argc && status < 0; i++) {
		struct sweep_axis *a = &axes[i - from];

		if (!sweep_parse_axis(&t->env, argv[i], a, &err)) {
			status = cli_usage_error_at(x->cmd, argv[i], err.at, "%s: %s", argv[i], err.message);
			values_error_clear(&err);
		} else {
			status = add_origin(x, t, a->name, NULL, argv[i]);
			*total *= (double)a->n;
		}
	}
	if (status < 0 && *total > PROTO_MAX_BATCH)
		status = cli_usage_error(x->cmd, "the sweep has %.0f tasks; at most %d are allowed in one sweep", *total,
					 PROTO_MAX_BATCH);
	return status;
}

/*
 * Checks the sweep as the server will: the first task whole, then every value of every axis
 * (a task differs from the first only there), so a mistake is named in the command's words.
 */
static int check_sweep(struct cli_ctx *x, struct task_opts *t, const char *model, xmlrpc_value *first,
		       const struct sweep_axis *axes, size_t naxes)
{
	struct validate_cache cache = {0};
	int status = check_task(x, t, first, &cache);

	for (size_t a = 0; a < naxes && status < 0; a++) {
		for (size_t i = 0; i < axes[a].n && status < 0; i++) {
			xmlrpc_value *vars = xmlrpc_build_value(&t->env, "{s:V}", axes[a].name, axes[a].values[i]);
			xmlrpc_value *task = xmlrpc_build_value(&t->env, "{s:s,s:V}", "model", model, "vars", vars);

			status = check_task(x, t, task, &cache);
			xmlrpc_DECREF(task);
			xmlrpc_DECREF(vars);
		}
	}
	validate_cache_free(&cache);
	return status;
}

/* "submitted 10 tasks: 2-11", or the ids as JSON. */
static void print_ids(struct cli_ctx *x, struct task_opts *t, xmlrpc_value *ids)
{
	int n = reply_count(ids);
	xmlrpc_value *out = xmlrpc_build_value(&t->env, "{s:i,s:V}", "count", n, "ids", ids);

	if (x->json)
		cli_print_json(out);
	else if (n == 1)
		printf("submitted 1 task: %lld\n", (long long)reply_item_int(ids, 0, 0));
	else
		printf("submitted %d tasks: %lld-%lld\n", n, (long long)reply_item_int(ids, 0, 0),
		       (long long)reply_item_int(ids, n - 1, 0));
	xmlrpc_DECREF(out);
}

static int run_sweep(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_sweep};
	struct task_opts t;
	struct sweep_axis *axes = NULL;
	size_t naxes = 0, count;
	double total = 1;
	char *model = NULL;
	int status;

	task_opts_init(&t);
	status = cli_parse_options(&x, argc, argv, task_option, &t);
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
	status = parse_axes(&x, &t, argc, argv, optind + 1, axes, &total);
	if (status >= 0)
		goto out;
	/* The cartesian product, the last axis varying fastest. */
	xmlrpc_value *tasks = xmlrpc_array_new(&t.env), *ids = NULL;
	xmlrpc_value **vars = sweep_expand(&t.env, t.vars, axes, naxes, &count);

	for (size_t k = 0; k < count; k++) {
		xmlrpc_value *task = task_struct(&t, model, vars[k]);

		if (k == 0)
			status = t.env.fault_occurred ? not_carried(&x, &t) : check_sweep(&x, &t, model, task, axes, naxes);
		xmlrpc_array_append_item(&t.env, tasks, task);
		xmlrpc_DECREF(task);
		xmlrpc_DECREF(vars[k]);
	}
	free(vars);
	if (status >= 0) {
		/* refused: nothing sent */
	} else if (t.dry_run) {
		status = cli_print_json(tasks);
		if (!x.json)
			fprintf(stderr, "simq sweep: %.0f task%s would be submitted (--dry-run)\n", total,
				total == 1 ? "" : "s");
	} else if ((status = send_keyed(&x, &t, "simq.submit_many", tasks, &ids)) == CLI_EXIT_OK) {
		print_ids(&x, &t, ids);
		xmlrpc_DECREF(ids);
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
	.usage = "simq sweep MODEL NAME=START:STOP:STEP|NAME=A,B,C... [-p|--priority PRIO] [-v|--var NAME=VALUE]... "
		 "[--solver KEY=VALUE]... [--name N] [--tag T]... [--timeout S] [--no-cache] [--request-key K] [--dry-run] "
		 "[--json]",
	.summary = "queue the cartesian product of parameter ranges, all or none",
	.help = "START:STOP:STEP includes STOP when the steps reach it. A,B,C lists values, which may be vectors\n"
		"(K=[1,2],[3,4]) or quoted strings (S='a,b','c'); an empty item is an error. Name each variable\n"
		"once. -v fixes a variable for every task. --dry-run prints the tasks as JSON and submits\n"
		"nothing. The tasks are stored in one transaction: a bad one stores none. A lost answer is\n"
		"asked for again with the same request key, so a sweep is never stored twice. Cases with a\n"
		"stored result complete at once from the cache; --no-cache runs every one on PLECS.",
	.run = run_sweep,
	.shortopts = "p:v:",
	.longopts = task_longopts,
	.common = true,
	.operands = CLI_OPERANDS_SWEEP,
};
