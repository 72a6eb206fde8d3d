/*
 * simq cancel, prio, retry: act on the tasks a selection names (src/cli/select.h), a chunk of
 * ids per call, and say for each id what the server did: acted, or refused and why.  A refusal
 * (a final task cannot be cancelled or given another priority; only a failed or cancelled one
 * can be retried) makes the exit status 1.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "cli/select.h"
#include "client/reply.h"
#include "engine/task.h"
#include "util/xalloc.h"

static const struct option act_longopts[] = {SELECT_LONGOPTS, {NULL, 0, NULL, 0}};

/* What one run of an acting command holds. */
struct act {
	struct cli_ctx x;
	struct selection sel;
	const char *level; /* prio: the level as given, and its name */
	enum task_priority priority;
	xmlrpc_value *answers; /* every id's answer, for --json */
	size_t acted, refused;
};

static int act_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	return select_option(x, &((struct act *)ud)->sel, opt, arg);
}

/* The command line: selection options and operands, and for prio a level last. */
static int read_command_line(struct act *a, int argc, char **argv, bool with_level)
{
	int status = cli_parse_options(&a->x, argc, argv, act_option, a);

	if (status < 0 && with_level) {
		if (optind >= argc)
			return cli_usage_error(a->x.cmd,
			                       "give the tasks and a priority: critical, high, normal, low or 0-3");
		a->level = argv[--argc];
		if (!task_priority_parse(a->level, &a->priority))
			return cli_not_one_of(&a->x, "LEVEL", a->level, cli_names_of(cli_priority_name, PRIO_COUNT),
			                      " (any case) or 0-3");
	}
	for (int i = optind; status < 0 && i < argc; i++)
		status = select_operand(&a->x, &a->sel, argv[i]);
	if (status < 0 && !select_named(&a->sel))
		status =
		    cli_usage_error(a->x.cmd, "give task ids (45, 45-60, 3,7,45-60) or a filter (--state, --model, "
		                              "--name)");
	return status;
}

/* One id's answer {id, state, done, reason}: "45 done_text" on stdout, or the reason on stderr. */
static void say(struct act *a, xmlrpc_value *item, const char *done_text)
{
	xmlrpc_env env;
	char reason[1024];

	if (reply_int(item, "done", 0)) {
		a->acted++;
		if (!a->x.json)
			printf("%lld %s\n", (long long)reply_int(item, "id", 0), done_text);
	} else {
		a->refused++;
		if (!a->x.json)
			fprintf(stderr, "simq %s: %s\n", a->x.cmd->name,
			        reply_str(item, "reason", reason, sizeof reason));
	}
	xmlrpc_env_init(&env);
	xmlrpc_array_append_item(&env, a->answers, item);
	xmlrpc_env_clean(&env);
}

/* The end of a chunk that starts at from. */
static size_t chunk_end(const struct act *a, size_t from)
{
	return from + SELECT_CHUNK < a->sel.n ? from + SELECT_CHUNK : a->sel.n;
}

/* cancel and prio: the server answers for each id whether it acted, and why not. */
static int act_on_states(struct act *a, const char *method)
{
	char text[64];

	for (size_t from = 0; from < a->sel.n; from += SELECT_CHUNK) {
		xmlrpc_value *ids = select_chunk(&a->sel, from, chunk_end(a, from)), *r = NULL;
		int status = a->level ? cli_call(&a->x, method, &r, "(Vs)", ids, a->level)
		                      : cli_call(&a->x, method, &r, "(V)", ids);

		xmlrpc_DECREF(ids);
		if (status != CLI_EXIT_OK)
			return status;
		for (int i = 0; i < reply_count(r); i++) {
			if (a->level)
				snprintf(text, sizeof text, "now %s", task_priority_name(a->priority));
			else
				reply_str(reply_item(r, i), "state", text, sizeof text);
			say(a, reply_item(r, i), text);
		}
		xmlrpc_DECREF(r);
	}
	return CLI_EXIT_OK;
}

static bool retryable(const struct select_task *t)
{
	return strcmp(t->state, "failed") == 0 || strcmp(t->state, "cancelled") == 0;
}

/* One id's answer to retry, in the shape of cancel's with new_id: the copy's id, 0 when refused. */
static void say_retry(struct act *a, const struct select_task *t, int64_t new_id)
{
	xmlrpc_env env;
	char *reason = new_id ? xstrdup("")
	                      : xasprintf("task %lld is %s; only failed or cancelled tasks can be retried",
	                                  (long long)t->id, t->state);
	char *text = xasprintf("retried as %lld", (long long)new_id);
	xmlrpc_value *item;

	xmlrpc_env_init(&env);
	item = xmlrpc_build_value(&env, "{s:I,s:s,s:b,s:s,s:I}", "id", (xmlrpc_int64)t->id, "state", t->state, "done",
	                          (xmlrpc_bool)(new_id != 0), "reason", reason, "new_id", (xmlrpc_int64)new_id);
	xmlrpc_env_clean(&env);
	say(a, item, text);
	xmlrpc_DECREF(item);
	free(text);
	free(reason);
}

/*
 * retry: the tasks whose state allows it go to simq.retry, which refuses a whole call for one
 * that does not; the others are refused here in the server's words, with the state just read.
 */
static int act_retry(struct act *a)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	for (size_t from = 0; from < a->sel.n; from += SELECT_CHUNK) {
		size_t to = chunk_end(a, from), k = 0;
		xmlrpc_value *ids = xmlrpc_array_new(&env), *r = NULL;
		int status = CLI_EXIT_OK;

		for (size_t i = from; i < to; i++) {
			xmlrpc_value *id = xmlrpc_i8_new(&env, a->sel.tasks[i].id);

			if (retryable(&a->sel.tasks[i]))
				xmlrpc_array_append_item(&env, ids, id);
			xmlrpc_DECREF(id);
		}
		if (xmlrpc_array_size(&env, ids) > 0)
			status = cli_call(&a->x, "simq.retry", &r, "(V)", ids);
		xmlrpc_DECREF(ids);
		if (status != CLI_EXIT_OK) {
			xmlrpc_env_clean(&env);
			return status;
		}
		for (size_t i = from; i < to; i++)
			say_retry(a, &a->sel.tasks[i],
			          retryable(&a->sel.tasks[i]) ? reply_item_int(r, (int)k++, 0) : 0);
		if (r)
			xmlrpc_DECREF(r);
	}
	xmlrpc_env_clean(&env);
	return CLI_EXIT_OK;
}

/* Acts on the selection and says what came of each id; exit 1 when the server refused one. */
static int act_and_say(struct act *a)
{
	xmlrpc_env env;
	int status;

	xmlrpc_env_init(&env);
	a->answers = xmlrpc_array_new(&env);
	xmlrpc_env_clean(&env);
	if (a->x.cmd == &cli_cmd_retry)
		status = act_retry(a);
	else
		status = act_on_states(a, a->level ? "simq.reprioritize" : "simq.cancel");
	if (a->x.json && a->acted + a->refused > 0)
		cli_print_json(a->answers);
	if (a->refused > 0 && a->acted + a->refused > 1)
		fprintf(stderr, "simq %s: %zu of %zu tasks refused\n", a->x.cmd->name, a->refused,
		        a->acted + a->refused);
	xmlrpc_DECREF(a->answers);
	return status == CLI_EXIT_OK && a->refused > 0 ? CLI_EXIT_TASK_FAILED : status;
}

/* cancel, prio, retry: the selection, resolved through the server and confirmed when large, acted on. */
static int act_command(const struct cli_command *cmd, int argc, char **argv, const char *verb)
{
	struct act a = {.x = {.cmd = cmd}, .priority = PRIO_NORMAL};
	int status = read_command_line(&a, argc, argv, cmd == &cli_cmd_prio);
	char after[32] = "";

	if (a.level)
		snprintf(after, sizeof after, " to %s", task_priority_name(a.priority));
	/* retry sends only what may be retried; --dry-run shows the states. */
	bool need_states = cmd == &cli_cmd_retry || a.sel.dry_run;

	if (status < 0 && (status = select_resolve(&a.x, &a.sel, need_states)) == CLI_EXIT_OK)
		status = select_confirm(&a.x, &a.sel, verb, after);
	if (status < 0)
		status = act_and_say(&a);
	select_free(&a.sel);
	cli_done(&a.x);
	return status;
}

static int run_cancel(int argc, char **argv)
{
	return act_command(&cli_cmd_cancel, argc, argv, "Cancel");
}

static int run_prio(int argc, char **argv)
{
	return act_command(&cli_cmd_prio, argc, argv, "Set");
}

static int run_retry(int argc, char **argv)
{
	return act_command(&cli_cmd_retry, argc, argv, "Retry");
}

#define SELECTION_HELP                                                                                                 \
	"TASKS are ids (45), ranges (45-60) and lists (3,7,45-60), as many as you like; --state S, --model M\n"        \
	"(part of the model path, or a shell pattern of it or its file name) and --name N (part of the name,\n"        \
	"or a shell pattern: 'sweep-*') select the tasks that match, among the ids given if any. A selection\n"        \
	"of more than 100 tasks asks first on a terminal, and needs --yes elsewhere; --dry-run lists it and\n"         \
	"does nothing. Each id's outcome is printed; an id the server refuses (and why) makes the exit\n"              \
	"status 1, as does a selection that matches nothing."

const struct cli_command cli_cmd_cancel = {
    .name = "cancel",
    .usage = "simq cancel TASKS... [--state S] [--model M] [--name N] [--yes] [--dry-run] [--json]",
    .summary = "cancel tasks (a running one's result is discarded when PLECS returns)",
    .help = SELECTION_HELP "\n\nOnly queued and running tasks can be cancelled.",
    .run = run_cancel,
    .longopts = act_longopts,
    .common = true,
    .operands = CLI_OPERANDS_SELECTION,
};

const struct cli_command cli_cmd_prio = {
    .name = "prio",
    .usage = "simq prio TASKS... LEVEL [--state S] [--model M] [--name N] [--yes] [--dry-run] [--json]",
    .summary = "change the priority of tasks: critical, high, normal, low or 0-3",
    .help = SELECTION_HELP "\n\nOnly queued and running tasks (for their retries) take another priority.",
    .run = run_prio,
    .longopts = act_longopts,
    .common = true,
    .operands = CLI_OPERANDS_SELECTION_LEVEL,
};

const struct cli_command cli_cmd_retry = {
    .name = "retry",
    .usage = "simq retry TASKS... [--state S] [--model M] [--name N] [--yes] [--dry-run] [--json]",
    .summary = "submit failed or cancelled tasks again; prints each new id",
    .help = SELECTION_HELP "\n\nOnly failed and cancelled tasks can be retried: one copy each, however often named.",
    .run = run_retry,
    .longopts = act_longopts,
    .common = true,
    .operands = CLI_OPERANDS_SELECTION,
};
