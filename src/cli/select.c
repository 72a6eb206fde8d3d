#include "autoconf.h"

#include "cli/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/reply.h"
#include "engine/task.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* How often a selection read in pages is read again when it changed meanwhile. */
#define SELECT_READS 3

int select_option(struct cli_ctx *x, struct selection *sel, int opt, const char *arg)
{
	enum task_state state;

	switch (opt) {
	case SELECT_OPT_STATE:
		if (!task_state_parse(arg, &state))
			return cli_not_one_of(x, "--state", arg, cli_names_of(cli_state_name, TASK_STATE_COUNT), "");
		sel->state = task_state_name(state);
		return -1;
	case SELECT_OPT_MODEL:
	case SELECT_OPT_NAME:
		if (arg[0] == '\0')
			return cli_usage_error(x->cmd, "%s is empty; give part of the %s, or a shell pattern (sweep-*)",
			                       opt == SELECT_OPT_MODEL ? "--model" : "--name",
			                       opt == SELECT_OPT_MODEL ? "model path or file name" : "task's name");
		*(opt == SELECT_OPT_MODEL ? &sel->model : &sel->name) = arg;
		return -1;
	case SELECT_OPT_YES:
		sel->yes = true;
		return -1;
	case SELECT_OPT_DRY_RUN:
		sel->dry_run = true;
		return -1;
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

/* Adds the ids lo..hi to what was named; false when that would name more than SELECT_MAX_IDS. */
static bool add_range(struct selection *sel, int64_t lo, int64_t hi, size_t *cap)
{
	if ((uint64_t)(hi - lo) >= SELECT_MAX_IDS - sel->nnamed)
		return false;
	while (sel->nnamed + (size_t)(hi - lo) + 1 > *cap) {
		*cap = *cap ? *cap * 2 : 64;
		sel->named = xreallocarray(sel->named, *cap, sizeof *sel->named);
	}
	for (int64_t id = lo; id <= hi; id++)
		sel->named[sel->nnamed++] = id;
	return true;
}

/* Parses one item of an operand ("45" or "45-60", len bytes at item) into lo..hi. */
static bool parse_item(const char *item, size_t len, int64_t *lo, int64_t *hi)
{
	char text[48];
	char *dash;

	if (len == 0 || len >= sizeof text)
		return false;
	memcpy(text, item, len);
	text[len] = '\0';
	dash = strchr(text, '-');
	if (dash == NULL)
		return cli_parse_id(text, lo) && cli_parse_id(text, hi);
	*dash = '\0';
	return cli_parse_id(text, lo) && cli_parse_id(dash + 1, hi);
}

int select_operand(struct cli_ctx *x, struct selection *sel, const char *arg)
{
	size_t cap = sel->nnamed; /* what was named so far fills its array: grow from there */

	for (const char *item = arg;; item++) {
		size_t len = strcspn(item, ",");
		int64_t lo, hi;

		if (!parse_item(item, len, &lo, &hi))
			return cli_usage_error_at(x->cmd, arg, (size_t)(item - arg),
			                          "not a task id or a range of them; allowed: 45, 45-60, 3,7,45-60, "
			                          "or a filter: --state, --model, --name");
		if (lo > hi)
			return cli_usage_error_at(x->cmd, arg, (size_t)(item - arg),
			                          "a range goes from the lower id to the higher: %lld-%lld",
			                          (long long)hi, (long long)lo);
		if (!add_range(sel, lo, hi, &cap))
			return cli_usage_error_at(x->cmd, arg, (size_t)(item - arg),
			                          "names more than %d ids; give a smaller range, or a filter",
			                          SELECT_MAX_IDS);
		item += len;
		if (*item == '\0')
			return -1;
	}
}

bool select_named(const struct selection *sel)
{
	return sel->nnamed > 0 || sel->state || sel->model || sel->name;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int task_by_id(const void *a, const void *b)
{
	return by_id(&((const struct select_task *)a)->id, &((const struct select_task *)b)->id);
}

/* Sorts the ids named and drops repeats. */
static void sort_named(struct selection *sel)
{
	size_t kept = 0;

	qsort(sel->named, sel->nnamed, sizeof *sel->named, by_id);
	for (size_t i = 0; i < sel->nnamed; i++)
		if (kept == 0 || sel->named[kept - 1] != sel->named[i])
			sel->named[kept++] = sel->named[i];
	sel->nnamed = kept;
}

static void add_task(struct selection *sel, size_t *cap, int64_t id, const char *state)
{
	if (sel->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		sel->tasks = xreallocarray(sel->tasks, *cap, sizeof *sel->tasks);
	}
	sel->tasks[sel->n].id = id;
	snprintf(sel->tasks[sel->n].state, sizeof sel->tasks[sel->n].state, "%s", state);
	sel->n++;
}

/* An array of n ids for a call, the first at first and each stride bytes after the one before. */
static xmlrpc_value *id_array(const int64_t *first, size_t stride, size_t n)
{
	xmlrpc_env env;
	xmlrpc_value *ids;

	xmlrpc_env_init(&env);
	ids = xmlrpc_array_new(&env);
	for (size_t i = 0; i < n; i++) {
		xmlrpc_value *v = xmlrpc_i8_new(&env, *(const int64_t *)((const char *)first + i * stride));

		xmlrpc_array_append_item(&env, ids, v);
		xmlrpc_DECREF(v);
	}
	xmlrpc_env_clean(&env);
	return ids;
}

xmlrpc_value *select_chunk(const struct selection *sel, size_t from, size_t to)
{
	return id_array(&sel->tasks[from].id, sizeof *sel->tasks, to - from);
}

/* The states of the ids named, from simq.wait with no wait, a chunk at a time. */
static int states_of_named(struct cli_ctx *x, struct selection *sel)
{
	size_t cap = 0;

	for (size_t from = 0; from < sel->nnamed; from += SELECT_CHUNK) {
		size_t to = from + SELECT_CHUNK < sel->nnamed ? from + SELECT_CHUNK : sel->nnamed;
		xmlrpc_value *ids = id_array(&sel->named[from], sizeof *sel->named, to - from), *r = NULL;
		int status = cli_call(x, "simq.wait", &r, "(Vi)", ids, 0);

		xmlrpc_DECREF(ids);
		if (status != CLI_EXIT_OK)
			return status;
		for (int i = 0; i < reply_count(r); i++) {
			char state[16];

			reply_str(reply_item(r, i), "state", state, sizeof state);
			add_task(sel, &cap, reply_int(reply_item(r, i), "id", 0), state);
		}
		xmlrpc_DECREF(r);
	}
	return CLI_EXIT_OK;
}

/*
 * One reading of the tasks that pass the filters (and are named, when ids were), a page at a
 * time; *changed when the count of matches moved between pages (a page may have slid).
 */
static int read_filtered(struct cli_ctx *x, struct selection *sel, bool *changed)
{
	int64_t total = -1;
	size_t cap = 0;

	*changed = false;
	sel->n = 0;
	for (int64_t offset = 0; total < 0 || offset < total; offset += SELECT_CHUNK) {
		xmlrpc_value *r = NULL, *tasks;
		int status = cli_call(x, "simq.list", &r, "({s:s,s:s,s:s}II)", "state", sel->state ? sel->state : "",
		                      "model", sel->model ? sel->model : "", "name", sel->name ? sel->name : "",
		                      (xmlrpc_int64)offset, (xmlrpc_int64)SELECT_CHUNK);

		if (status != CLI_EXIT_OK)
			return status;
		if (total >= 0 && reply_int(r, "total", 0) != total)
			*changed = true;
		total = reply_int(r, "total", 0);
		tasks = reply_member(r, "tasks");
		for (int i = 0; i < reply_count(tasks); i++) {
			int64_t id = reply_int(reply_item(tasks, i), "id", 0);
			char state[16];

			if (sel->nnamed && !bsearch(&id, sel->named, sel->nnamed, sizeof id, by_id))
				continue;
			add_task(sel, &cap, id, reply_str(reply_item(tasks, i), "state", state, sizeof state));
		}
		xmlrpc_DECREF(r);
	}
	return CLI_EXIT_OK;
}

/* "--state queued --name 'sweep-*'": the filters, as given (heap). */
static char *filters_text(const struct selection *sel)
{
	struct buf b = BUF_INIT;

	if (sel->state)
		buf_addf(&b, " --state %s", sel->state);
	if (sel->model)
		buf_addf(&b, " --model '%s'", sel->model);
	if (sel->name)
		buf_addf(&b, " --name '%s'", sel->name);
	return buf_detach(&b);
}

/* Says that nothing matched; exit 1. */
static int nothing_matched(struct cli_ctx *x, const struct selection *sel)
{
	char *filters = filters_text(sel);

	if (sel->nnamed) {
		struct select_task *named = xcalloc(sel->nnamed, sizeof *named);

		for (size_t i = 0; i < sel->nnamed; i++)
			named[i].id = sel->named[i];
		char *ids = select_ids_text(named, sel->nnamed, 60);

		fprintf(stderr, "simq %s: no task among %s matches%s\n", x->cmd->name, ids, filters);
		free(ids);
		free(named);
	} else {
		fprintf(stderr, "simq %s: no task matches%s\n", x->cmd->name, filters);
	}
	free(filters);
	return CLI_EXIT_TASK_FAILED;
}

int select_resolve(struct cli_ctx *x, struct selection *sel, bool need_states)
{
	int status = CLI_EXIT_OK;
	bool changed = false;

	sort_named(sel);
	if (!sel->state && !sel->model && !sel->name && !need_states && sel->nnamed <= SELECT_CHUNK) {
		/* One call will act on them all or on none (an unknown id): no need to read them first. */
		size_t cap = 0;

		for (size_t i = 0; i < sel->nnamed; i++)
			add_task(sel, &cap, sel->named[i], "");
	} else if (!sel->state && !sel->model && !sel->name) {
		status = states_of_named(x, sel);
	} else {
		for (int read = 0; read < SELECT_READS && status == CLI_EXIT_OK; read++) {
			status = read_filtered(x, sel, &changed);
			if (!changed)
				break;
		}
		if (status == CLI_EXIT_OK && changed)
			fprintf(stderr,
			        "simq %s: tasks kept changing state while the selection was read; a task that "
			        "changed meanwhile may be left out (run the command again for those)\n",
			        x->cmd->name);
	}
	if (status != CLI_EXIT_OK)
		return status;
	qsort(sel->tasks, sel->n, sizeof *sel->tasks, task_by_id);
	return sel->n ? CLI_EXIT_OK : nothing_matched(x, sel);
}

char *select_ids_text(const struct select_task *tasks, size_t n, size_t width)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && tasks[j + 1].id == tasks[j].id + 1)
			j++;
		if (b.len > width) {
			buf_addf(&b, ", ...");
			break;
		}
		buf_addf(&b, "%s%lld", i ? ", " : "", (long long)tasks[i].id);
		if (j > i)
			buf_addf(&b, "%s%lld", j == i + 1 ? ", " : "-", (long long)tasks[j].id);
		i = j + 1;
	}
	return buf_detach(&b);
}

/* --dry-run: the tasks, one "ID STATE" a line (JSON with --json), and nothing done. */
static int dry_run(struct cli_ctx *x, const struct selection *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		long long id = (long long)sel->tasks[i].id;

		if (x->json)
			printf("%s\n  {\"id\": %lld, \"state\": \"%s\"}", i ? "," : "[", id, sel->tasks[i].state);
		else
			printf("%lld %s\n", id, sel->tasks[i].state);
	}
	if (x->json)
		printf("\n]\n");
	fprintf(stderr, "simq %s: --dry-run: %zu task%s selected; nothing was done\n", x->cmd->name, sel->n,
	        sel->n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

int select_confirm(struct cli_ctx *x, const struct selection *sel, const char *verb, const char *after)
{
	char *ids, answer[16] = "";
	int status = -1;

	if (sel->dry_run)
		return dry_run(x, sel);
	if (sel->n <= SELECT_CONFIRM_OVER || sel->yes)
		return -1;
	ids = select_ids_text(sel->tasks, sel->n, 60);
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		fprintf(stderr, "%s %zu tasks (%s)%s? [y/N] ", verb, sel->n, ids, after);
		fflush(stderr);
		if (fgets(answer, sizeof answer, stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y')) {
			fprintf(stderr, "simq %s: nothing was done\n", x->cmd->name);
			status = CLI_EXIT_TASK_FAILED;
		}
	} else {
		status = cli_usage_error(x->cmd,
		                         "the selection holds %zu tasks (%s); acting on more than %d needs --yes "
		                         "(or a yes on a terminal); --dry-run lists them",
		                         sel->n, ids, SELECT_CONFIRM_OVER);
	}
	free(ids);
	return status;
}

void select_free(struct selection *sel)
{
	xfree(&sel->named);
	xfree(&sel->tasks);
	sel->nnamed = sel->n = 0;
}
