/* simq ls, show, cancel, prio, retry, wait: tasks one by one or in lists. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "client/reply.h"
#include "engine/task.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* "queued, running, ...": the names of a list (states or priorities), from the one table of them. */
static char *names_of(const char *(*name)(int i), int n)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", name(i));
	return buf_detach(&b);
}

static const char *state_name(int i)
{
	return task_state_name((enum task_state)i);
}

static const char *priority_name(int i)
{
	return task_priority_name((enum task_priority)i);
}

/* A usage error for a value of option that is none of the names (heap list). */
static int not_one_of(struct cli_ctx *x, const char *option, const char *value, char *names, const char *more)
{
	struct buf shown = BUF_INIT;
	int status;

	buf_add_shown(&shown, value, strlen(value));
	status = cli_usage_error(x->cmd, "%s %s: allowed: %s%s", option, buf_str(&shown), names, more);
	buf_free(&shown);
	free(names);
	return status;
}

enum { OPT_STATE_FILTER = 0x300, OPT_MODEL, OPT_NAME_FILTER, OPT_TAG_FILTER, OPT_LIMIT, OPT_OFFSET, OPT_TIMEOUT };

struct ls_opts {
	const char *state, *model, *name, *tag;
	long limit, offset;
};

static int ls_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct ls_opts *o = ud;
	char *end;

	enum task_state state;

	switch (opt) {
	case OPT_STATE_FILTER:
		if (!task_state_parse(arg, &state))
			return not_one_of(x, "--state", arg, names_of(state_name, TASK_STATE_COUNT), "");
		o->state = arg;
		return -1;
	case OPT_MODEL:
		o->model = arg;
		return -1;
	case OPT_NAME_FILTER:
		o->name = arg;
		return -1;
	case OPT_TAG_FILTER:
		o->tag = arg;
		return -1;
	case OPT_LIMIT:
	case OPT_OFFSET: {
		long v = strtol(arg, &end, 10);

		if (end == arg || *end != '\0' || v < 0 || (opt == OPT_LIMIT && v > 1000))
			return cli_usage_error(x->cmd, "%s %s: expected a whole number%s", opt == OPT_LIMIT ? "--limit" : "--offset",
					       arg, opt == OPT_LIMIT ? " from 0 to 1000" : " from 0");
		*(opt == OPT_LIMIT ? &o->limit : &o->offset) = v;
		return -1;
	}
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

static xmlrpc_value *member(xmlrpc_value *s, const char *key)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, s, key, &v);
	xmlrpc_env_clean(&env);
	return v;
}

/* Cuts s to at most width characters (bytes, for the ASCII a table mostly holds), with "…" as ".." */
static void cell(const char *s, int width, bool last)
{
	int len = (int)strlen(s);

	if ((width <= 0 || len <= width) && last)
		printf("%s", s);
	else if (width <= 0 || len <= width)
		printf("%-*s", width > 0 ? width : 0, s);
	else
		printf("%.*s..", width - 2, s);
}

static void print_table(xmlrpc_value *tasks)
{
	xmlrpc_env env;
	int n, total = cli_width();
	static const char *const heads[] = {"ID", "PRI", "STATE", "ATT", "NAME", "MODEL", "SUBMITTED", "ERROR"};
	static const char *const keys[] = {"id", "priority", "state", "attempts", "name", "model", "submitted", "error"};
	enum { NCOL = 8 };
	int width[NCOL];

	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, tasks);
	for (int c = 0; c < NCOL; c++)
		width[c] = (int)strlen(heads[c]);
	for (int i = 0; i < n; i++) {
		xmlrpc_value *t;
		char buf[4096];

		xmlrpc_array_read_item(&env, tasks, i, &t);
		for (int c = 0; c < NCOL; c++) {
			int len = (int)strlen(reply_text(t, keys[c], buf, sizeof buf));

			if (c == 5) {
				const char *slash = strrchr(buf, '/');

				len = (int)strlen(slash ? slash + 1 : buf);
			}
			if (c == 6 && len > 19)
				len = 19; /* submitted: to the second */
			if (len > width[c])
				width[c] = len;
		}
		xmlrpc_DECREF(t);
	}
	/* Fit the terminal: NAME, MODEL and ERROR give way first. */
	if (total > 0) {
		int used = 0;

		for (int c = 0; c < NCOL; c++)
			used += width[c] + 2;
		for (int shrink = 0; used > total && shrink < 40; shrink++) {
			for (int c = 7; c >= 4 && used > total; c--) {
				if (width[c] > 8) {
					width[c]--;
					used--;
				}
			}
		}
		if (used > total)
			width[7] = total - (used - width[7]) > 5 ? total - (used - width[7]) : 5;
	} else {
		width[7] = 0;
	}
	for (int c = 0; c < NCOL; c++) {
		cell(heads[c], c == NCOL - 1 ? width[c] : width[c], c == NCOL - 1);
		if (c < NCOL - 1)
			printf("  ");
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		xmlrpc_value *t;
		char buf[4096];

		xmlrpc_array_read_item(&env, tasks, i, &t);
		for (int c = 0; c < NCOL; c++) {
			const char *text = reply_text(t, keys[c], buf, sizeof buf);

			if (c == 5 && strrchr(text, '/'))
				text = strrchr(text, '/') + 1;
			if (c == 6 && strlen(text) >= 19)
				((char *)text)[19] = '\0';
			cell(text, width[c], c == NCOL - 1);
			if (c < NCOL - 1)
				printf("  ");
		}
		printf("\n");
		xmlrpc_DECREF(t);
	}
	xmlrpc_env_clean(&env);
}

static int run_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state", required_argument, NULL, OPT_STATE_FILTER}, {"model", required_argument, NULL, OPT_MODEL},
		{"name", required_argument, NULL, OPT_NAME_FILTER},   {"tag", required_argument, NULL, OPT_TAG_FILTER},
		{"limit", required_argument, NULL, OPT_LIMIT},	      {"offset", required_argument, NULL, OPT_OFFSET},
		{NULL, 0, NULL, 0},
	};
	struct cli_ctx x = {.cmd = &cli_cmd_ls};
	struct ls_opts o = {.limit = 100};
	xmlrpc_value *result = NULL;
	int status;

	status = cli_parse_options(&x, argc, argv, NULL, longopts, ls_option, &o);
	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0)
		return status;
	status = cli_call(&x, "simq.list", &result, "({s:s,s:s,s:s,s:s}II)", "state", o.state ? o.state : "", "model",
			  o.model ? o.model : "", "name", o.name ? o.name : "", "tag", o.tag ? o.tag : "",
			  (xmlrpc_int64)o.offset, (xmlrpc_int64)o.limit);
	if (status == CLI_EXIT_OK) {
		xmlrpc_value *tasks = member(result, "tasks");

		if (x.json) {
			cli_print_json(tasks);
		} else {
			char total[32];

			print_table(tasks);
			xmlrpc_env env;

			xmlrpc_env_init(&env);
			if (xmlrpc_array_size(&env, tasks) < atoi(reply_text(result, "total", total, sizeof total)))
				fprintf(stderr, "(%d of %s shown; --offset and --limit page through them)\n",
					xmlrpc_array_size(&env, tasks), total);
			xmlrpc_env_clean(&env);
		}
		xmlrpc_DECREF(tasks);
		xmlrpc_DECREF(result);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_ls = {
	.name = "ls",
	.usage = "simq ls [--state S] [--model M] [--name N] [--tag T] [--limit N] [--offset N] [--json]",
	.summary = "list tasks, oldest first (--state queued: in queue order)",
	.help = "S is queued, running, completed, failed or cancelled; M and N match any part of the model path or\n"
		"name.",
	.run = run_ls,
};

/* Reads the operands as task ids; a usage error names a bad one. */
static int read_ids(struct cli_ctx *x, int argc, char **argv, int from, int to, xmlrpc_value **ids)
{
	xmlrpc_env env;

	if (from >= to)
		return cli_usage_error(x->cmd, "give at least one task id");
	xmlrpc_env_init(&env);
	*ids = xmlrpc_array_new(&env);
	for (int i = from; i < to; i++) {
		int64_t id;

		if (!cli_parse_id(argv[i], &id)) {
			xmlrpc_DECREF(*ids);
			xmlrpc_env_clean(&env);
			return cli_usage_error(x->cmd, "\"%s\" is not a task id", argv[i]);
		}
		xmlrpc_value *v = xmlrpc_i8_new(&env, id);

		xmlrpc_array_append_item(&env, *ids, v);
		xmlrpc_DECREF(v);
	}
	xmlrpc_env_clean(&env);
	return -1;
}

static void print_states(xmlrpc_value *list, const char *verb)
{
	xmlrpc_env env;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, list);
	for (int i = 0; i < n; i++) {
		xmlrpc_value *item;
		char id[32], state[32];

		xmlrpc_array_read_item(&env, list, i, &item);
		printf("%s %s%s%s\n", reply_text(item, "id", id, sizeof id), verb, verb[0] ? ", now " : "",
		       reply_text(item, "state", state, sizeof state));
		xmlrpc_DECREF(item);
	}
	xmlrpc_env_clean(&env);
}

/*
 * A running task's call, DESIGN 5: progress is elapsed over the model's mean
 * time per call, an estimate that stays below 100 % until PLECS answers.
 */
static void print_call(xmlrpc_value *t)
{
	xmlrpc_env env;
	xmlrpc_value *call = NULL;
	const char *backend = NULL;
	double elapsed, estimate, progress;
	int size;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, t, "call", &call);
	if (call)
		xmlrpc_decompose_value(&env, call, "{s:s,s:i,s:d,s:d,s:d,*}", "backend", &backend, "batch_size", &size,
				       "elapsed", &elapsed, "estimate", &estimate, "progress", &progress);
	if (call && !env.fault_occurred) {
		char batch[32] = "";

		if (size > 1)
			snprintf(batch, sizeof batch, ", in a batch of %d", size);
		if (progress >= 0)
			printf("%-10s ~%.0f%% (an estimate: %.1f s of about %.1f s), on %s%s\n", "progress", progress * 100,
			       elapsed, estimate, backend, batch);
		else
			printf("%-10s %.1f s on %s%s; no estimate until a call of this model has finished\n", "progress",
			       elapsed, backend, batch);
	}
	free((void *)backend);
	if (call)
		xmlrpc_DECREF(call);
	xmlrpc_env_clean(&env);
}

static int run_show(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_show};
	xmlrpc_value *t = NULL;
	int64_t id;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL, NULL, NULL);
	static const char *const keys[] = {"id", "name", "model", "priority", "state", "position", "attempts",
					   "submitted", "started", "finished", "retry_due", "timeout", "tags", "vars",
					   "solver", "origin", "cached", "error", NULL};

	if (status < 0 && (optind != argc - 1 || !cli_parse_id(argv[optind], &id)))
		status = cli_usage_error(x.cmd, "give one task id");
	if (status >= 0)
		return status;
	status = cli_call(&x, "simq.get", &t, "(I)", (xmlrpc_int64)id);
	if (status == CLI_EXIT_OK) {
		if (x.json) {
			cli_print_json(t);
		} else {
			for (size_t i = 0; keys[i]; i++) {
				char buf[8192];

				reply_text(t, keys[i], buf, sizeof buf);
				if (buf[0] && strcmp(buf, "-1") != 0 && !(strcmp(keys[i], "origin") == 0 && strcmp(buf, "0") == 0))
					printf("%-10s %s\n", keys[i], buf);
				if (strcmp(keys[i], "state") == 0)
					print_call(t);
			}
		}
		xmlrpc_DECREF(t);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_show = {
	.name = "show",
	.usage = "simq show ID [--json]",
	.summary = "show one task: vars, solver options, times, attempts, error",
	.run = run_show,
};

/* cancel, retry: ids only; prio: ids then a level. */
static int ids_command(const struct cli_command *cmd, int argc, char **argv, const char *method, bool with_level)
{
	struct cli_ctx x = {.cmd = cmd};
	xmlrpc_value *ids = NULL, *result = NULL;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL, NULL, NULL);

	enum task_priority level;

	if (status < 0 && with_level && argc - optind < 2)
		status = cli_usage_error(x.cmd, "give task ids and a priority");
	if (status < 0 && with_level && !task_priority_parse(argv[argc - 1], &level))
		status = not_one_of(&x, "LEVEL", argv[argc - 1], names_of(priority_name, PRIO_COUNT), " (any case) or 0-3");
	if (status < 0)
		status = read_ids(&x, argc, argv, optind, with_level ? argc - 1 : argc, &ids);
	if (status >= 0)
		return status;
	if (with_level)
		status = cli_call(&x, method, &result, "(Vs)", ids, argv[argc - 1]);
	else
		status = cli_call(&x, method, &result, "(V)", ids);
	if (status == CLI_EXIT_OK) {
		if (x.json)
			cli_print_json(result);
		else if (strcmp(method, "simq.retry") == 0) {
			xmlrpc_env env;

			xmlrpc_env_init(&env);
			for (int i = 0; i < xmlrpc_array_size(&env, result); i++) {
				xmlrpc_value *id, *w;
				char buf[32];

				xmlrpc_array_read_item(&env, result, i, &id);
				w = xmlrpc_build_value(&env, "{s:V}", "v", id);
				printf("%s\n", reply_text(w, "v", buf, sizeof buf));
				xmlrpc_DECREF(w);
				xmlrpc_DECREF(id);
			}
			xmlrpc_env_clean(&env);
		} else {
			print_states(result, "");
		}
		xmlrpc_DECREF(result);
	}
	xmlrpc_DECREF(ids);
	cli_done(&x);
	return status;
}

static int run_cancel(int argc, char **argv)
{
	return ids_command(&cli_cmd_cancel, argc, argv, "simq.cancel", false);
}

static int run_prio(int argc, char **argv)
{
	return ids_command(&cli_cmd_prio, argc, argv, "simq.reprioritize", true);
}

static int run_retry(int argc, char **argv)
{
	return ids_command(&cli_cmd_retry, argc, argv, "simq.retry", false);
}

const struct cli_command cli_cmd_cancel = {
	.name = "cancel",
	.usage = "simq cancel ID... [--json]",
	.summary = "cancel tasks (a running one's result is discarded when PLECS returns)",
	.run = run_cancel,
};

const struct cli_command cli_cmd_prio = {
	.name = "prio",
	.usage = "simq prio ID... LEVEL [--json]",
	.summary = "change the priority of tasks: critical, high, normal, low or 0-3",
	.run = run_prio,
};

const struct cli_command cli_cmd_retry = {
	.name = "retry",
	.usage = "simq retry ID... [--json]",
	.summary = "submit failed or cancelled tasks again; prints the new ids",
	.run = run_retry,
};

static int wait_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	char *end;
	double *timeout = ud;

	*timeout = strtod(arg, &end);
	if (end == arg || *end != '\0' || !(*timeout >= 0))
		return cli_usage_error(x->cmd, "--timeout %s: expected a number of seconds", arg);
	return -1;
}

static int run_wait(int argc, char **argv)
{
	static const struct option longopts[] = {{"timeout", required_argument, NULL, OPT_TIMEOUT}, {NULL, 0, NULL, 0}};
	struct cli_ctx x = {.cmd = &cli_cmd_wait};
	xmlrpc_value *ids = NULL, *result = NULL;
	double timeout = 3600;
	int status = cli_parse_options(&x, argc, argv, NULL, longopts, wait_option, &timeout);

	if (status < 0)
		status = read_ids(&x, argc, argv, optind, argc, &ids);
	if (status >= 0)
		return status;
	x.client.timeout_ms = 0;
	status = cli_call(&x, "simq.wait", &result, "(Vd)", ids, timeout > 3600 ? 3600.0 : timeout);
	if (status == CLI_EXIT_OK) {
		xmlrpc_env env;

		if (x.json)
			cli_print_json(result);
		else
			print_states(result, "");
		/* Exit 1 when a task failed or was cancelled, as the exit codes say. */
		xmlrpc_env_init(&env);
		for (int i = 0; i < xmlrpc_array_size(&env, result); i++) {
			xmlrpc_value *item;
			char state[32];

			xmlrpc_array_read_item(&env, result, i, &item);
			reply_text(item, "state", state, sizeof state);
			if (strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0)
				status = CLI_EXIT_TASK_FAILED;
			/* Not finished when the wait ran out: a script must not read that as done. */
			else if ((strcmp(state, "queued") == 0 || strcmp(state, "running") == 0) &&
				 status == CLI_EXIT_OK)
				status = CLI_EXIT_TIMEOUT;
			xmlrpc_DECREF(item);
		}
		xmlrpc_env_clean(&env);
		xmlrpc_DECREF(result);
	}
	xmlrpc_DECREF(ids);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_wait = {
	.name = "wait",
	.usage = "simq wait ID... [--timeout S] [--json]",
	.summary = "wait until tasks finish; exit 1 if one failed or was cancelled, 75 if the wait ran out",
	.run = run_wait,
};
