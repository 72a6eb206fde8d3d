/*
 * simq clean: deletes finished tasks by hand (DESIGN 7), hot or archived, and their result files,
 * through simq.clean.  It asks the server first with dry_run, which counts what would go; with
 * --dry-run that is all it says, and otherwise more than SELECT_CONFIRM_OVER tasks ask on a
 * terminal (select_ask, as cancel does) or need --yes, then the same filter deletes.  It says
 * what it freed: "removed 1,204 tasks (completed 1,180, failed 24), 15.3 MiB of results".
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "cli/select.h"
#include "client/reply.h"
#include "engine/task.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

enum { OPT_OLDER = 0x600, OPT_STATE, OPT_MODEL, OPT_NAME, OPT_DRY_RUN, OPT_YES };

#define MAX_STATES 3

struct clean_opts {
	double older_than; /* seconds; < 0: any */
	const char *states[MAX_STATES];
	size_t nstates;
	const char *model, *name;
	bool dry_run, yes;
};

static int clean_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct clean_opts *o = ud;
	enum task_state st;
	const char *why;

	switch (opt) {
	case OPT_OLDER:
		if (!time_parse_duration(arg, &o->older_than, &why))
			return cli_usage_error(x->cmd, "--older-than %s: %s; allowed: a duration such as 30d, 12h, 90m", arg,
					       why);
		return -1;
	case OPT_STATE:
		if (!task_state_parse(arg, &st))
			return cli_not_one_of(x, "--state", arg, cli_names_of(cli_state_name, TASK_STATE_COUNT), "");
		if (!task_state_is_final(st))
			return cli_usage_error(x->cmd, "--state %s: simq clean deletes finished tasks only (completed, failed, "
					       "cancelled); a %s task is never cleaned: simq cancel it first", arg,
					       task_state_name(st));
		if (o->nstates < MAX_STATES)
			o->states[o->nstates++] = task_state_name(st);
		return -1;
	case OPT_MODEL:
	case OPT_NAME:
		if (arg[0] == '\0')
			return cli_usage_error(x->cmd, "%s is empty; give %s, or a shell pattern (%s)",
					       opt == OPT_MODEL ? "--model" : "--name",
					       opt == OPT_MODEL ? "a model (buck, buck.plecs, a path)" : "part of the task's name",
					       opt == OPT_MODEL ? "'b*.plecs'" : "'sweep-*'");
		*(opt == OPT_MODEL ? &o->model : &o->name) = arg;
		return -1;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return -1;
	case OPT_YES:
		o->yes = true;
		return -1;
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

/* 1204 as "1,204". */
static const char *grouped(char out[32], int64_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof digits, "%lld", (long long)n), k = 0;

	for (int i = 0; i < len; i++) {
		out[k++] = digits[i];
		if (digits[i] != '-' && (len - i - 1) % 3 == 0 && i < len - 1)
			out[k++] = ',';
	}
	out[k] = '\0';
	return out;
}

/* "1,204 tasks (completed 1,180, failed 24), 15.3 MiB of results" (heap). */
static char *freed_text(xmlrpc_value *r)
{
	static const char *const states[] = {"completed", "failed", "cancelled"};
	struct buf b = BUF_INIT;
	char n[32];
	int k = 0;

	buf_addf(&b, "%s task%s", grouped(n, reply_int(r, "tasks", 0)), reply_int(r, "tasks", 0) == 1 ? "" : "s");
	for (size_t i = 0; i < 3; i++)
		if (reply_int(r, states[i], 0) > 0)
			buf_addf(&b, "%s%s %s", k++ ? ", " : " (", states[i], grouped(n, reply_int(r, states[i], 0)));
	buf_adds(&b, k ? "), " : ", ");
	buf_add_bytes(&b, reply_int(r, "bytes", 0));
	buf_addf(&b, " of results (%s file%s)", grouped(n, reply_int(r, "files", 0)),
		 reply_int(r, "files", 0) == 1 ? "" : "s");
	return buf_detach(&b);
}

static void put(xmlrpc_env *env, xmlrpc_value *s, const char *key, xmlrpc_value *v)
{
	xmlrpc_struct_set_value(env, s, key, v);
	xmlrpc_DECREF(v);
}

/* simq.clean with the filter of o (dry_run as given). */
static int call_clean(struct cli_ctx *x, const struct clean_opts *o, bool dry_run, xmlrpc_value **out)
{
	xmlrpc_env env;
	xmlrpc_value *f, *states;
	int status;

	xmlrpc_env_init(&env);
	f = xmlrpc_build_value(&env, "{s:b}", "dry_run", (xmlrpc_bool)dry_run);
	if (o->older_than >= 0)
		put(&env, f, "older_than", xmlrpc_double_new(&env, o->older_than));
	if (o->model)
		put(&env, f, "model", xmlrpc_string_new(&env, o->model));
	if (o->name)
		put(&env, f, "name", xmlrpc_string_new(&env, o->name));
	states = xmlrpc_array_new(&env);
	for (size_t i = 0; i < o->nstates; i++) {
		xmlrpc_value *s = xmlrpc_string_new(&env, o->states[i]);

		xmlrpc_array_append_item(&env, states, s);
		xmlrpc_DECREF(s);
	}
	if (o->nstates)
		xmlrpc_struct_set_value(&env, f, "state", states);
	xmlrpc_DECREF(states);
	status = cli_call(x, "simq.clean", out, "(S)", f);
	xmlrpc_DECREF(f);
	xmlrpc_env_clean(&env);
	return status;
}

/* Deletes after the dry run's figures (asked first when there are many); the exit status. */
static int clean_for_real(struct cli_ctx *x, const struct clean_opts *o, xmlrpc_value *counted)
{
	char *figures = freed_text(counted), *question = xasprintf("Remove %s?", figures);
	char *what = xasprintf("simq clean would remove %s;", figures);
	xmlrpc_value *done = NULL;
	int status = select_ask(x, o->yes, (size_t)reply_int(counted, "tasks", 0), question, what);

	free(question);
	free(what);
	free(figures);
	if (status >= 0)
		return status;
	status = call_clean(x, o, false, &done);
	if (status == CLI_EXIT_OK) {
		if (x->json) {
			cli_print_json(done);
		} else {
			figures = freed_text(done);
			printf("removed %s\n", figures);
			free(figures);
		}
		xmlrpc_DECREF(done);
	}
	return status;
}

static int run_clean(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_clean};
	struct clean_opts o = {.older_than = -1};
	xmlrpc_value *counted = NULL;
	int status = cli_parse_options(&x, argc, argv, clean_option, &o);

	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"; simq clean takes options only", argv[optind]);
	if (status >= 0)
		return status;
	status = call_clean(&x, &o, true, &counted);
	if (status == CLI_EXIT_OK && o.dry_run) {
		char *figures = freed_text(counted);

		if (x.json)
			cli_print_json(counted);
		else
			printf("would remove %s (dry run: nothing was changed)\n", figures);
		free(figures);
	} else if (status == CLI_EXIT_OK && reply_int(counted, "tasks", 0) == 0) {
		if (x.json)
			cli_print_json(counted);
		else
			printf("nothing to remove: no finished task matches\n");
	} else if (status == CLI_EXIT_OK) {
		status = clean_for_real(&x, &o, counted);
	}
	if (counted)
		xmlrpc_DECREF(counted);
	cli_done(&x);
	return status;
}

static const struct option clean_longopts[] = {
	{"older-than", required_argument, NULL, OPT_OLDER}, {"state", required_argument, NULL, OPT_STATE},
	{"model", required_argument, NULL, OPT_MODEL},      {"name", required_argument, NULL, OPT_NAME},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},        {"yes", no_argument, NULL, OPT_YES},
	{NULL, 0, NULL, 0},
};

const struct cli_command cli_cmd_clean = {
	.name = "clean",
	.usage = "simq clean [--older-than D] [--state S]... [--model M] [--name N] [--dry-run] [--yes] [--json]",
	.summary = "delete finished tasks (hot or archived) and their result files; say what it freed",
	.help = "D is how long ago a task finished (30d, 12h); S is completed, failed or cancelled (queued and\n"
		"running tasks are never cleaned); M is a model as ls and cancel take it: its path, file name\n"
		"(buck.plecs), model name (buck) or last directories (sweeps/buck.plecs), or a shell pattern of\n"
		"the path or file name ('b*.plecs'), never any part of the path; N is part of the task's name, or a\n"
		"shell pattern ('sweep-*'). A result file goes only when no other task's result names it (a cached\n"
		"task's). --dry-run says what would go and changes nothing. More than 100 tasks ask first on a\n"
		"terminal; elsewhere they need --yes.",
	.run = run_clean,
	.longopts = clean_longopts,
	.common = true,
};
