/*
 * simq cancel, prio, retry: act on the tasks a selection names (src/cli/select.h), a chunk of
 * ids per call, and say what the server did: a total with the ids as ranges ("cancelled 141
 * tasks: 1000-1140"; one line per id with -v or --json), what was so already (counted as done:
 * running a command again is safe), and what it refused and why.  A task named by id that
 * cannot be acted on (a completed one cannot be cancelled) makes the exit status 1; final tasks
 * a filter picked stay as they are, in one line.  The state filter holds when the server acts:
 * cancel --state queued leaves a task that started running meanwhile alone, and says so.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "cli/select.h"
#include "client/reply.h"
#include "engine/task.h"
#include "util/buf.h"
#include "util/xalloc.h"

static const struct option act_longopts[] = {SELECT_LONGOPTS, {NULL, 0, NULL, 0}};

#define ACTIVE ((1u << TASK_QUEUED) | (1u << TASK_RUNNING))
#define RETRYABLE ((1u << TASK_FAILED) | (1u << TASK_CANCELLED))

/* A list of tasks an outcome befell, for a total with ranges. */
struct ids {
	struct select_task *t;
	size_t n, cap;
};

/* What one run of an acting command holds. */
struct act {
	struct cli_ctx x;
	struct selection sel;
	const struct act_kind *kind;
	const char *level; /* prio: the level as given, and its name */
	enum task_priority priority;
	xmlrpc_value *answers;   /* every id's answer, for --json */
	struct ids changed, already, moved, stay;
	size_t refused, confirmed;
};

/* How cancel, prio and retry differ. */
struct act_kind {
	const struct cli_command *cmd;
	const char *verb;     /* the question's: "Cancel" */
	unsigned can;         /* the states it acts on */
	const char *can_text; /* "queued or running" */
	const char *done;     /* what a changed task became: "cancelled" (prio: "now" and the level) */
	int (*act_chunk)(struct act *a, size_t from, size_t to);
};

static void ids_add(struct ids *l, const struct select_task *t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->t = xreallocarray(l->t, l->cap, sizeof *l->t);
	}
	l->t[l->n++] = *t;
}

static int act_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	return select_option(x, &((struct act *)ud)->sel, opt, arg);
}

/* "queued, running" as --state options: the states the command can act on. */
static char *state_options(unsigned mask)
{
	struct buf b = BUF_INIT;

	for (int st = 0; st < TASK_STATE_COUNT; st++)
		if (mask & (1u << st))
			buf_addf(&b, "%s--state %s", b.len ? " or " : "", task_state_name((enum task_state)st));
	return buf_detach(&b);
}

/* A --state the command cannot act on is refused before anything is asked. */
static int check_states(struct act *a)
{
	unsigned wrong = a->sel.states & ~a->kind->can;

	if (wrong == 0)
		return -1;
	for (int st = 0; st < TASK_STATE_COUNT; st++)
		if (wrong & (1u << st)) {
			char *allowed = state_options(a->kind->can);
			int status = cli_usage_error(a->x.cmd, "--state %s: %s tasks cannot be %s; only %s ones can (%s)",
						     task_state_name((enum task_state)st), task_state_name((enum task_state)st),
						     a->kind->cmd == &cli_cmd_prio ? "given another priority"
						     : a->kind->cmd == &cli_cmd_retry ? "retried"
										      : "cancelled",
						     a->kind->can_text, allowed);

			free(allowed);
			return status;
		}
	return -1;
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
	return status < 0 ? check_states(a) : status;
}

static bool state_in(const char *state, unsigned mask)
{
	enum task_state st;

	return task_state_parse(state, &st) && (mask & (1u << st));
}

/* Keeps the answer for --json. */
static void keep_answer(struct act *a, xmlrpc_value *item)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_array_append_item(&env, a->answers, item);
	xmlrpc_env_clean(&env);
}

/* What came of a task that is as asked: "cancelled", "already cancelled", "now critical", "already critical". */
static const char *outcome(const struct act *a, bool changed, char *buf, size_t size)
{
	if (a->level)
		snprintf(buf, size, "%s %s", changed ? "now" : "already", task_priority_name(a->priority));
	else
		snprintf(buf, size, "%s%s", changed ? "" : "already ", a->kind->done);
	return buf;
}

/* One id's answer {id, state, done, changed, reason} from cancel or prio. */
static void take_answer(struct act *a, xmlrpc_value *item)
{
	struct select_task t = {.id = reply_int(item, "id", 0)};
	char reason[1024];
	bool changed = reply_int(item, "changed", 1) != 0;

	reply_str(item, "state", t.state, sizeof t.state);
	keep_answer(a, item);
	if (reply_int(item, "done", 0)) {
		ids_add(changed ? &a->changed : &a->already, &t);
		if (a->sel.verbose && !a->x.json)
			printf("%lld %s\n", (long long)t.id, outcome(a, changed, reason, sizeof reason));
	} else if (state_in(t.state, ACTIVE) || select_filtered(&a->sel)) {
		ids_add(&a->moved, &t); /* it left the selection since it was read: another state now */
	} else {
		a->refused++;
		if (!a->x.json)
			fprintf(stderr, "simq %s: %s\n", a->x.cmd->name, reply_str(item, "reason", reason, sizeof reason));
	}
}

/* The {states} of a call: the --state given, held when the server acts. */
static xmlrpc_value *call_options(const struct act *a)
{
	xmlrpc_env env;
	xmlrpc_value *opts, *states;

	xmlrpc_env_init(&env);
	opts = xmlrpc_struct_new(&env);
	if (a->sel.states) {
		states = xmlrpc_array_new(&env);
		for (int st = 0; st < TASK_STATE_COUNT; st++)
			if (a->sel.states & (1u << st)) {
				xmlrpc_value *name = xmlrpc_string_new(&env, task_state_name((enum task_state)st));

				xmlrpc_array_append_item(&env, states, name);
				xmlrpc_DECREF(name);
			}
		xmlrpc_struct_set_value(&env, opts, "states", states);
		xmlrpc_DECREF(states);
	}
	xmlrpc_env_clean(&env);
	return opts;
}

/* cancel and prio: the server answers for each id whether it is as asked, and why not. */
static int act_on_states(struct act *a, size_t from, size_t to)
{
	xmlrpc_value *ids = select_chunk(&a->sel, from, to), *opts = call_options(a), *r = NULL;
	int status = a->level ? cli_call(&a->x, "simq.reprioritize", &r, "(VsV)", ids, a->level, opts)
	                      : cli_call(&a->x, "simq.cancel", &r, "(VV)", ids, opts);

	xmlrpc_DECREF(ids);
	xmlrpc_DECREF(opts);
	if (status != CLI_EXIT_OK)
		return status;
	for (int i = 0; i < reply_count(r); i++)
		take_answer(a, reply_item(r, i));
	xmlrpc_DECREF(r);
	return CLI_EXIT_OK;
}

/* retry: each id's answer {id, state, done, reason, copy, copy_state, new}, a line each. */
static int act_retry(struct act *a, size_t from, size_t to)
{
	xmlrpc_value *ids = select_chunk(&a->sel, from, to), *r = NULL;
	int status = cli_call(&a->x, "simq.retry", &r, "(V{s:b})", ids, "each", (xmlrpc_bool)1);
	char reason[1024], copy_state[16];

	xmlrpc_DECREF(ids);
	if (status != CLI_EXIT_OK)
		return status;
	for (int i = 0; i < reply_count(r); i++) {
		xmlrpc_value *item = reply_item(r, i);
		struct select_task t = {.id = reply_int(item, "id", 0)};
		long long copy = (long long)reply_int(item, "copy", 0);

		keep_answer(a, item);
		reply_str(item, "copy_state", copy_state, sizeof copy_state);
		if (!reply_int(item, "done", 0)) {
			a->refused++;
			if (!a->x.json)
				fprintf(stderr, "simq retry: %s\n", reply_str(item, "reason", reason, sizeof reason));
		} else if (reply_int(item, "new", 0)) {
			ids_add(&a->changed, &t);
			if (!a->x.json)
				printf("%lld retried as %lld\n", (long long)t.id, copy);
		} else {
			ids_add(&a->already, &t);
			if (!a->x.json)
				printf("%lld was retried as %lld already; %lld is %s\n", (long long)t.id, copy, copy,
				       copy_state);
		}
	}
	xmlrpc_DECREF(r);
	return CLI_EXIT_OK;
}

/* "3 tasks" then middle then ": 4-6" (heap). */
static char *count_text(const struct ids *l, const char *middle)
{
	char *ids = select_ids_text(l->t, l->n, 60), *text;

	text = xasprintf("%zu task%s%s: %s", l->n, l->n == 1 ? "" : "s", middle, ids);
	free(ids);
	return text;
}

/* The tasks that are in `state` now, and so were left alone: "3 tasks are running now; not cancelled (--state queued)". */
static void say_moved(struct act *a, const char *state)
{
	struct ids in = {0};
	char *filters, *text, middle[128];

	for (size_t i = 0; i < a->moved.n; i++)
		if (strcmp(a->moved.t[i].state, state) == 0)
			ids_add(&in, &a->moved.t[i]);
	if (in.n == 0)
		return;
	filters = select_filters_text(&a->sel);
	snprintf(middle, sizeof middle, " %s %s now; not %s (%s)", in.n == 1 ? "is" : "are", state,
		 a->kind->cmd == &cli_cmd_prio ? "given another priority" : "cancelled", filters + (filters[0] == ' '));
	text = count_text(&in, middle);
	fprintf(stderr, "simq %s: %s\n", a->x.cmd->name, text);
	free(filters);
	free(text);
	free(in.t);
}

/* The totals: what changed, what was so already, what left the selection, what stays as it is. */
static void say_totals(struct act *a)
{
	char *text;

	if (a->kind->cmd != &cli_cmd_retry && !a->sel.verbose && !a->x.json) {
		const char *level = a->level ? task_priority_name(a->priority) : NULL;
		char middle[64];

		if (a->changed.n) {
			snprintf(middle, sizeof middle, "%s%s", level ? " to " : "", level ? level : "");
			text = count_text(&a->changed, middle);
			printf("%s %s\n", level ? "set" : "cancelled", text);
			free(text);
		}
		if (a->already.n) {
			snprintf(middle, sizeof middle, " %s %s already", a->already.n == 1 ? "was" : "were",
				 level ? level : "cancelled");
			text = count_text(&a->already, middle);
			printf("%s\n", text);
			free(text);
		}
	}
	for (int st = 0; st < TASK_STATE_COUNT; st++)
		say_moved(a, task_state_name((enum task_state)st));
	if (a->stay.n) {
		char middle[96];

		snprintf(middle, sizeof middle, " picked by the filters stay%s as they are (only %s ones can be acted on)",
			 a->stay.n == 1 ? "s" : "", a->kind->can_text);
		text = count_text(&a->stay, middle);
		fprintf(stderr, "simq %s: %s\n", a->x.cmd->name, text);
		free(text);
	}
	if (a->refused > 0 && a->refused + a->changed.n + a->already.n > 1)
		fprintf(stderr, "simq %s: %zu of %zu tasks refused\n", a->x.cmd->name, a->refused,
		        a->refused + a->changed.n + a->already.n + a->moved.n);
}

/* The server stopped answering in the middle: what is confirmed, and that the same command again is safe. */
static void say_interrupted(struct act *a)
{
	char *done = select_ids_text(a->sel.tasks, a->confirmed, 60);

	if (a->confirmed)
		fprintf(stderr, "simq %s: confirmed before the server stopped answering: %zu of %zu tasks (%s); ",
			a->x.cmd->name, a->confirmed, a->sel.n, done);
	else
		fprintf(stderr, "simq %s: no task is confirmed done; ", a->x.cmd->name);
	fprintf(stderr, "the others may or may not be: running the same command again is safe (what is done "
			"already is said so, and not done twice)\n");
	free(done);
}

/* Acts on the selection a chunk at a time and says what came of it; exit 1 when the server refused one. */
static int act_and_say(struct act *a)
{
	xmlrpc_env env;
	int status = CLI_EXIT_OK;

	xmlrpc_env_init(&env);
	a->answers = xmlrpc_array_new(&env);
	xmlrpc_env_clean(&env);
	for (size_t from = 0; from < a->sel.n && status == CLI_EXIT_OK; from += SELECT_CHUNK) {
		size_t to = from + SELECT_CHUNK < a->sel.n ? from + SELECT_CHUNK : a->sel.n;

		status = a->kind->act_chunk(a, from, to);
		if (status == CLI_EXIT_OK)
			a->confirmed = to;
	}
	if (a->x.json && reply_count(a->answers) > 0)
		cli_print_json(a->answers);
	say_totals(a);
	/* Refused with a fault (an unknown id: 65) nothing was done; a lost answer leaves it unknown. */
	if (status == CLI_EXIT_UNAVAILABLE || status == CLI_EXIT_SOFTWARE || status == CLI_EXIT_TIMEOUT)
		say_interrupted(a);
	xmlrpc_DECREF(a->answers);
	return status == CLI_EXIT_OK && a->refused > 0 ? CLI_EXIT_TASK_FAILED : status;
}

/* --dry-run: the tasks, one "ID STATE" a line with what would come of it (JSON with --json); nothing done. */
static int dry_run(struct act *a)
{
	for (size_t i = 0; i < a->sel.n; i++) {
		const struct select_task *t = &a->sel.tasks[i];
		char mark[96] = "";

		if (t->state[0] && !state_in(t->state, a->kind->can))
			snprintf(mark, sizeof mark, "would be refused: only %s tasks can be", a->kind->can_text);
		else if (t->retried_as)
			snprintf(mark, sizeof mark, "was retried as %lld already", (long long)t->retried_as);
		if (a->x.json)
			printf("%s\n  {\"id\": %lld, \"state\": \"%s\", \"would\": \"%s\"}", i ? "," : "[", (long long)t->id,
			       t->state, mark[0] ? mark : "act");
		else
			printf("%lld %s%s%s%s\n", (long long)t->id, t->state, mark[0] ? " (" : "", mark, mark[0] ? ")" : "");
	}
	if (a->x.json)
		printf("\n]\n");
	fprintf(stderr, "simq %s: --dry-run: %zu task%s selected; nothing was done\n", a->x.cmd->name, a->sel.n,
	        a->sel.n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

static const struct act_kind cancel_kind;

/*
 * Final tasks a filter picked (their states were read) stay as they are: they are not sent, and
 * get one line.  Returns how many of the rest can be acted on, as far as their states are known.
 */
static size_t set_aside(struct act *a)
{
	size_t kept = 0, n_act = 0;

	for (size_t i = 0; i < a->sel.n; i++) {
		const struct select_task *t = &a->sel.tasks[i];
		bool can = !t->state[0] || state_in(t->state, a->kind->can);

		if (!can && select_filtered(&a->sel) && !state_in(t->state, ACTIVE)) {
			/* A task a filter picked that is where cancel would take it counts as done. */
			bool there = a->kind == &cancel_kind && strcmp(t->state, "cancelled") == 0;

			ids_add(there ? &a->already : &a->stay, t);
			continue;
		}
		n_act += can;
		a->sel.tasks[kept++] = *t;
	}
	a->sel.n = kept;
	return n_act;
}

/* cancel, prio, retry: the selection, resolved through the server and confirmed when large, acted on. */
static int act_command(const struct act_kind *kind, int argc, char **argv)
{
	struct act a = {.x = {.cmd = kind->cmd}, .kind = kind, .priority = PRIO_NORMAL};
	int status = read_command_line(&a, argc, argv, kind->cmd == &cli_cmd_prio);
	char after[32] = "", *stay = NULL;
	size_t n_act;

	if (a.level)
		snprintf(after, sizeof after, " to %s", task_priority_name(a.priority));
	a.sel.unretried = kind->cmd == &cli_cmd_retry;
	if (status < 0 && (status = select_resolve(&a.x, &a.sel, a.sel.dry_run)) == CLI_EXIT_OK)
		status = a.sel.dry_run ? dry_run(&a) : -1;
	if (status < 0) {
		size_t all = a.sel.n;

		n_act = set_aside(&a);
		stay = all > n_act ? xasprintf(" %zu other%s stay%s as they are.", all - n_act, all - n_act == 1 ? "" : "s",
					       all - n_act == 1 ? "s" : "")
				   : xstrdup("");
		status = a.sel.n == 0 ? CLI_EXIT_OK : select_confirm(&a.x, &a.sel, n_act, kind->verb, after, stay);
		if (a.sel.n == 0)
			say_totals(&a);
	}
	if (status < 0)
		status = act_and_say(&a);
	free(stay);
	free(a.changed.t);
	free(a.already.t);
	free(a.moved.t);
	free(a.stay.t);
	select_free(&a.sel);
	cli_done(&a.x);
	return status;
}

static const struct act_kind cancel_kind = {
    .cmd = &cli_cmd_cancel, .verb = "Cancel", .can = ACTIVE, .can_text = "queued or running",
    .done = "cancelled", .act_chunk = act_on_states,
};
static const struct act_kind prio_kind = {
    .cmd = &cli_cmd_prio, .verb = "Set", .can = ACTIVE, .can_text = "queued or running",
    .done = "now", .act_chunk = act_on_states,
};
static const struct act_kind retry_kind = {
    .cmd = &cli_cmd_retry, .verb = "Retry", .can = RETRYABLE, .can_text = "failed or cancelled",
    .done = "retried", .act_chunk = act_retry,
};

static int run_cancel(int argc, char **argv)
{
	return act_command(&cancel_kind, argc, argv);
}

static int run_prio(int argc, char **argv)
{
	return act_command(&prio_kind, argc, argv);
}

static int run_retry(int argc, char **argv)
{
	return act_command(&retry_kind, argc, argv);
}

#define SELECTION_HELP                                                                                                 \
	"TASKS are ids (45), ranges (45-60) and lists (3,7,45-60) of decimal digits, as many as you like; a\n"         \
	"range may reach past the last task (the ids that do not exist are counted), an id named alone must\n"        \
	"exist. --state S, --model M (the model's path, file name, model name or last directories, or a shell\n"     \
	"pattern of its path or file name; never any part of a path), and --name N (part of the name, or a\n"       \
	"shell pattern: 'sweep-*') select the tasks that match, among the ids given if any; archived tasks\n"       \
	"only with --all (else they are counted in a hint: \"3 archived tasks match --state failed too\").\n"      \
	"Given twice, a filter matches either value (--state queued --state running).\n"                             \
	"More than 100 tasks to act on ask first on a terminal (only y or yes is a yes), and need --yes\n"           \
	"elsewhere; --dry-run lists the selection, marking what would be refused, and does nothing.\n"                \
	"The outcome is a total with the ids as ranges; -v (--verbose) or --json give one line per id.\n"            \
	"What is so already (a task cancelled before) counts as done, so the same command again is safe.\n"           \
	"A task named by id that cannot be acted on makes the exit status 1, with the reason, as does a\n"          \
	"selection that matches nothing; tasks a filter picked that cannot be acted on stay as they are."

const struct cli_command cli_cmd_cancel = {
    .name = "cancel",
    .usage = "simq cancel TASKS... [--state S] [--model M] [--name N] [--all] [--yes] [--dry-run] [-v] [--json]",
    .summary = "cancel tasks (a running one's result is discarded when PLECS returns)",
    .help = SELECTION_HELP "\n\nOnly queued and running tasks can be cancelled. --state holds when the server acts: with\n"
                           "--state queued, a task that started running meanwhile is left alone, and said so.",
    .run = run_cancel,
    .shortopts = "v",
    .longopts = act_longopts,
    .common = true,
    .operands = CLI_OPERANDS_SELECTION,
};

const struct cli_command cli_cmd_prio = {
    .name = "prio",
    .usage = "simq prio TASKS... LEVEL [--state S] [--model M] [--name N] [--all] [--yes] [--dry-run] [-v] [--json]",
    .summary = "change the priority of tasks: critical, high, normal, low or 0-3",
    .help = SELECTION_HELP "\n\nOnly queued and running tasks (for their retries) take another priority.",
    .run = run_prio,
    .shortopts = "v",
    .longopts = act_longopts,
    .common = true,
    .operands = CLI_OPERANDS_SELECTION_LEVEL,
};

const struct cli_command cli_cmd_retry = {
    .name = "retry",
    .usage = "simq retry TASKS... [--state S] [--model M] [--name N] [--all] [--yes] [--dry-run] [-v] [--json]",
    .summary = "submit failed or cancelled tasks again; prints each new id",
    .help = SELECTION_HELP "\n\nOnly failed and cancelled tasks can be retried, each once: a task retried before answers\n"
                           "with its copy (\"3 was retried as 18 already\"), and when that copy failed too, the\n"
                           "copy is what to retry. Filters pass over tasks retried before. One line per task.",
    .run = run_retry,
    .shortopts = "v",
    .longopts = act_longopts,
    .common = true,
    .operands = CLI_OPERANDS_SELECTION,
};
