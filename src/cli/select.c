#include "autoconf.h"

#include "cli/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/reply.h"
#include "engine/task.h"
#include "server/validate.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* How often a selection read in pages is read again when it changed meanwhile. */
#define SELECT_READS 3

/* Adds a --model or --name value to the ones given before (a task matches any of them). */
static int add_value(struct cli_ctx *x, const char *option, const char **values, size_t *n, const char *arg,
		     const char *what)
{
	char *rule = validate_text_rule(arg, 1024);

	if (arg[0] == '\0')
		return cli_usage_error(x->cmd, "%s is empty; give %s, or a shell pattern (sweep-*)", option, what);
	if (rule) {
		char *shown = buf_shown(arg);
		int status = cli_usage_error(x->cmd, "%s %s: %s", option, shown, rule);

		free(shown);
		free(rule);
		return status;
	}
	if (*n == SELECT_MAX_VALUES)
		return cli_usage_error(x->cmd, "%s is given more than %d times", option, SELECT_MAX_VALUES);
	values[(*n)++] = arg;
	return -1;
}

int select_option(struct cli_ctx *x, struct selection *sel, int opt, const char *arg)
{
	enum task_state state;

	switch (opt) {
	case SELECT_OPT_STATE:
		if (!task_state_parse(arg, &state))
			return cli_not_one_of(x, "--state", arg, cli_names_of(cli_state_name, TASK_STATE_COUNT), "");
		sel->states |= 1u << state;
		return -1;
	case SELECT_OPT_MODEL:
		return add_value(x, "--model", sel->models, &sel->nmodels, arg, "a model (buck, buck.plecs or its path)");
	case SELECT_OPT_NAME:
		return add_value(x, "--name", sel->names, &sel->nnames, arg, "part of the task's name");
	case SELECT_OPT_YES:
		sel->yes = true;
		return -1;
	case SELECT_OPT_DRY_RUN:
		sel->dry_run = true;
		return -1;
	case SELECT_OPT_VERBOSE:
		sel->verbose = true;
		return -1;
	case SELECT_OPT_ALL:
		sel->all = true;
		return -1;
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts the ids named and drops repeats. */
static void sort_named(struct selection *sel)
{
	size_t kept = 0;

	if (sel->nnamed) /* named is NULL when no id was: qsort must not be given NULL */
		qsort(sel->named, sel->nnamed, sizeof *sel->named, by_id);
	for (size_t i = 0; i < sel->nnamed; i++)
		if (kept == 0 || sel->named[kept - 1] != sel->named[i])
			sel->named[kept++] = sel->named[i];
	sel->nnamed = kept;
}

/* Adds the ids lo..hi to what was named; false when that would name more than SELECT_MAX_IDS distinct ids. */
static bool add_range(struct selection *sel, int64_t lo, int64_t hi, size_t *cap)
{
	uint64_t fresh = (uint64_t)(hi - lo) + 1;

	if (fresh > SELECT_MAX_IDS - sel->nnamed) {
		/* Repeats (1-900000 1-900000) count once: only the ids not named yet are new. */
		sort_named(sel);
		for (size_t i = 0; i < sel->nnamed; i++)
			fresh -= sel->named[i] >= lo && sel->named[i] <= hi;
		if (fresh > SELECT_MAX_IDS - sel->nnamed)
			return false;
	}
	while (sel->nnamed + (size_t)(hi - lo) + 1 > *cap) {
		*cap = *cap ? *cap * 2 : 64;
		sel->named = xreallocarray(sel->named, *cap, sizeof *sel->named);
	}
	for (int64_t id = lo; id <= hi; id++)
		sel->named[sel->nnamed++] = id;
	if (sel->nnamed > SELECT_MAX_IDS)
		sort_named(sel);
	return true;
}

/* An id named alone (45, not 40-50): it must exist, where a range may reach past the last id. */
static void add_single(struct selection *sel, int64_t id)
{
	sel->singles = xreallocarray(sel->singles, sel->nsingles + 1, sizeof *sel->singles);
	sel->singles[sel->nsingles++] = id;
}

/* Whether text[0..len) is a task id: decimal digits only (no sign, no spaces), not 0. */
static bool parse_id(const char *text, size_t len, int64_t *id)
{
	char digits[24];

	if (len == 0 || len >= sizeof digits || strspn(text, "0123456789") < len)
		return false;
	memcpy(digits, text, len);
	digits[len] = '\0';
	return cli_parse_id(digits, id);
}

/*
 * Parses one item of an operand ("45" or "45-60", len bytes at item) into lo..hi; false with
 * *bad at the byte where it goes wrong.
 */
static bool parse_item(const char *item, size_t len, int64_t *lo, int64_t *hi, size_t *bad)
{
	const char *dash = memchr(item, '-', len);

	*bad = 0;
	if (dash == NULL)
		return parse_id(item, len, lo) && parse_id(item, len, hi);
	if (!parse_id(item, (size_t)(dash - item), lo))
		return false;
	*bad = (size_t)(dash - item) + 1;
	return parse_id(dash + 1, len - *bad, hi);
}

int select_operand(struct cli_ctx *x, struct selection *sel, const char *arg)
{
	size_t cap = sel->nnamed; /* what was named so far fills its array: grow from there */

	for (const char *item = arg;; item++) {
		size_t len = strcspn(item, ","), bad;
		int64_t lo, hi;

		if (!parse_item(item, len, &lo, &hi, &bad))
			return cli_usage_error_at(x->cmd, arg, (size_t)(item - arg) + bad,
			                          "not a task id or a range of them; allowed: ids of decimal digits "
			                          "(45), ranges (45-60) and lists (3,7,45-60), without signs or spaces; "
			                          "or a filter: --state, --model, --name");
		if (lo > hi)
			return cli_usage_error_at(x->cmd, arg, (size_t)(item - arg),
			                          "a range goes from the lower id to the higher: %lld-%lld",
			                          (long long)hi, (long long)lo);
		if (hi > lo)
			sel->ranged = true;
		if (hi == lo)
			add_single(sel, lo);
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
	return sel->nnamed > 0 || select_filtered(sel);
}

bool select_filtered(const struct selection *sel)
{
	return sel->states || sel->nmodels || sel->nnames;
}

static int task_by_id(const void *a, const void *b)
{
	return by_id(&((const struct select_task *)a)->id, &((const struct select_task *)b)->id);
}

static void add_task(struct selection *sel, size_t *cap, int64_t id, const char *state, int64_t retried_as)
{
	if (sel->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		sel->tasks = xreallocarray(sel->tasks, *cap, sizeof *sel->tasks);
	}
	sel->tasks[sel->n].id = id;
	snprintf(sel->tasks[sel->n].state, sizeof sel->tasks[sel->n].state, "%s", state);
	sel->tasks[sel->n].retried_as = retried_as;
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
			add_task(sel, &cap, reply_int(reply_item(r, i), "id", 0), state, 0);
		}
		xmlrpc_DECREF(r);
	}
	return CLI_EXIT_OK;
}

/* One filter of simq.list: one value of each kind given (a state, a model, a name). */
/* The value i of a kind given n times ("" for none given: the kind does not filter). */
static const char *value_at(const char *const *values, size_t n, size_t i)
{
	return n ? values[i] : "";
}

struct one_filter {
	const char *state, *model, *name;
};

/* The filter struct of simq.list for f (caller decrefs). */
static xmlrpc_value *filter_value(const struct selection *sel, const struct one_filter *f)
{
	xmlrpc_env env;
	xmlrpc_value *v;

	xmlrpc_env_init(&env);
	/* Only ids and states are read: brief records, whatever vectors the tasks carry. */
	v = xmlrpc_build_value(&env, "{s:s,s:s,s:s,s:b}", "state", f->state, "model", f->model, "name", f->name, "brief",
			       (xmlrpc_bool)1);
	if (sel->unretried) {
		xmlrpc_value *no = xmlrpc_bool_new(&env, 0);

		xmlrpc_struct_set_value(&env, v, "retried", no);
		xmlrpc_DECREF(no);
	}
	if (sel->all) {
		xmlrpc_value *yes = xmlrpc_bool_new(&env, 1);

		xmlrpc_struct_set_value(&env, v, "all", yes);
		xmlrpc_DECREF(yes);
	}
	xmlrpc_env_clean(&env);
	return v;
}

/* How many archived tasks pass the filters (among the ids named, when ids were): a hint's figure. */
static int64_t archived_matches(struct cli_ctx *x, const struct selection *sel)
{
	size_t nm = sel->nmodels ? sel->nmodels : 1, nn = sel->nnames ? sel->nnames : 1;
	int64_t n = 0;

	for (int st = -1; st < TASK_STATE_COUNT; st++) {
		if (st < 0 ? sel->states != 0 : !(sel->states & (1u << st)))
			continue;
		for (size_t m = 0; m < nm; m++)
			for (size_t k = 0; k < nn; k++) {
				struct one_filter f = {st < 0 ? "" : task_state_name((enum task_state)st),
						       value_at(sel->models, sel->nmodels, m),
						       value_at(sel->names, sel->nnames, k)};
				xmlrpc_value *filter = filter_value(sel, &f), *yes, *r = NULL;
				xmlrpc_env env;

				xmlrpc_env_init(&env);
				yes = xmlrpc_bool_new(&env, 1);
				xmlrpc_struct_set_value(&env, filter, "archived", yes);
				xmlrpc_DECREF(yes);
				xmlrpc_env_clean(&env);
				/* All of them when ids were named (to keep those), else only the count. */
				if (cli_call(x, "simq.list", &r, "(VII)", filter, (xmlrpc_int64)0,
					     (xmlrpc_int64)(sel->nnamed ? SELECT_CHUNK : 0)) == CLI_EXIT_OK) {
					xmlrpc_value *tasks = reply_member(r, "tasks");

					if (sel->nnamed == 0)
						n += reply_int(r, "total", 0);
					for (int i = 0; sel->nnamed && i < reply_count(tasks); i++) {
						int64_t id = reply_int(reply_item(tasks, i), "id", 0);

						n += bsearch(&id, sel->named, sel->nnamed, sizeof id, by_id) != NULL;
					}
					xmlrpc_DECREF(r);
				}
				xmlrpc_DECREF(filter);
			}
	}
	return n;
}

/* The archived tasks the filters passed over, said on stderr: "3 failed tasks that match are archived: add --all". */
static void tell_archived(struct cli_ctx *x, const struct selection *sel)
{
	int64_t n = sel->all ? 0 : archived_matches(x, sel);
	char *filters;

	if (n == 0)
		return;
	filters = select_filters_text(sel);
	fprintf(stderr, "simq %s: %lld archived task%s match%s%s too (finished longer than [store] archive_after ago): "
		"add --all to take %s (simq ls --archived%s lists %s)\n", x->cmd->name, (long long)n, n == 1 ? "" : "s",
		n == 1 ? "es" : "", filters, n == 1 ? "it" : "them", filters, n == 1 ? "it" : "them");
	free(filters);
}

/*
 * One reading of the tasks that pass filter f (and are named, when ids were), a page at a time,
 * added to sel->tasks; *changed when the count of matches moved between pages (a page may have slid).
 */
static int read_one_filter(struct cli_ctx *x, struct selection *sel, const struct one_filter *f, size_t *cap,
			   bool *changed)
{
	int64_t total = -1;
	xmlrpc_value *filter = filter_value(sel, f);
	int status = CLI_EXIT_OK;

	/* A page may be shorter than asked (long records): the next starts where it ended. */
	for (int64_t offset = 0, n = 1; status == CLI_EXIT_OK && n > 0 && (total < 0 || offset < total); offset += n) {
		xmlrpc_value *r = NULL, *tasks;

		status = cli_call(x, "simq.list", &r, "(VII)", filter, (xmlrpc_int64)offset, (xmlrpc_int64)SELECT_CHUNK);
		if (status != CLI_EXIT_OK)
			break;
		if (total >= 0 && reply_int(r, "total", 0) != total)
			*changed = true;
		total = reply_int(r, "total", 0);
		tasks = reply_member(r, "tasks");
		n = reply_count(tasks);
		for (int i = 0; i < n; i++) {
			xmlrpc_value *t = reply_item(tasks, i);
			int64_t id = reply_int(t, "id", 0);
			char state[16];

			if (sel->nnamed && !bsearch(&id, sel->named, sel->nnamed, sizeof id, by_id))
				continue;
			add_task(sel, cap, id, reply_str(t, "state", state, sizeof state), reply_int(t, "retried_as", 0));
		}
		xmlrpc_DECREF(r);
	}
	xmlrpc_DECREF(filter);
	return status;
}

/* One reading of every combination of the filters' values (a task passes a kind on any value). */
static int read_filtered(struct cli_ctx *x, struct selection *sel, bool *changed)
{
	size_t cap = 0, nm = sel->nmodels ? sel->nmodels : 1, nn = sel->nnames ? sel->nnames : 1;
	int status = CLI_EXIT_OK;

	*changed = false;
	sel->n = 0;
	for (int st = -1; st < TASK_STATE_COUNT && status == CLI_EXIT_OK; st++) {
		if (st < 0 ? sel->states != 0 : !(sel->states & (1u << st)))
			continue;
		for (size_t m = 0; m < nm && status == CLI_EXIT_OK; m++)
			for (size_t k = 0; k < nn && status == CLI_EXIT_OK; k++) {
				struct one_filter f = {st < 0 ? "" : task_state_name((enum task_state)st),
						       value_at(sel->models, sel->nmodels, m),
						       value_at(sel->names, sel->nnames, k)};

				status = read_one_filter(x, sel, &f, &cap, changed);
			}
	}
	/* A task may match several combinations: each once. */
	if (sel->n)
		qsort(sel->tasks, sel->n, sizeof *sel->tasks, task_by_id);
	size_t kept = 0;

	for (size_t i = 0; i < sel->n; i++)
		if (kept == 0 || sel->tasks[kept - 1].id != sel->tasks[i].id)
			sel->tasks[kept++] = sel->tasks[i];
	sel->n = kept;
	return status;
}

/* Appends " --OPTION 'value'" for each value given. */
static void add_values(struct buf *b, const char *option, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_addf(b, " --%s '%s'", option, values[i]);
}

char *select_filters_text(const struct selection *sel)
{
	struct buf b = BUF_INIT;

	for (int st = 0; st < TASK_STATE_COUNT; st++)
		if (sel->states & (1u << st))
			buf_addf(&b, " --state %s", task_state_name((enum task_state)st));
	add_values(&b, "model", sel->models, sel->nmodels);
	add_values(&b, "name", sel->names, sel->nnames);
	return buf_detach(&b);
}

/* The ids of ids[0..n) as "3, 7, 45-60" (heap). */
static char *plain_ids_text(const int64_t *ids, size_t n, size_t width)
{
	struct select_task *tasks = xcalloc(n ? n : 1, sizeof *tasks);
	char *text;

	for (size_t i = 0; i < n; i++)
		tasks[i].id = ids[i];
	text = select_ids_text(tasks, n, width);
	free(tasks);
	return text;
}

/* Says that nothing matched; exit 1. */
static int nothing_matched(struct cli_ctx *x, const struct selection *sel)
{
	char *filters = select_filters_text(sel);

	if (sel->nnamed) {
		char *ids = plain_ids_text(sel->named, sel->nnamed, 60);

		fprintf(stderr, "simq %s: no task among %s matches%s\n", x->cmd->name, ids, filters);
		free(ids);
	} else {
		fprintf(stderr, "simq %s: no task matches%s\n", x->cmd->name, filters);
	}
	if (sel->unretried)
		fprintf(stderr, "simq %s: (tasks retried before are passed over: their copies are what to retry)\n",
			x->cmd->name);
	free(filters);
	return CLI_EXIT_TASK_FAILED;
}

/*
 * Ids past the server's last one that came from ranges name no task: they are dropped and
 * counted (an id named alone stays, and is the server's fault 2).  Exit status or -1.
 */
static int drop_past_last(struct cli_ctx *x, struct selection *sel, size_t *dropped)
{
	xmlrpc_value *r = NULL;
	int64_t last;
	size_t kept = 0;
	int status;

	*dropped = 0;
	if (sel->nnamed == 0 || !sel->ranged)
		return -1;
	status = cli_call(x, "simq.status", &r, "()");
	if (status != CLI_EXIT_OK)
		return status;
	last = reply_int(r, "last_id", INT64_MAX);
	xmlrpc_DECREF(r);
	/* No ids named alone: singles is NULL, which qsort and bsearch must not be given even for 0. */
	if (sel->nsingles)
		qsort(sel->singles, sel->nsingles, sizeof *sel->singles, by_id);
	for (size_t i = 0; i < sel->nnamed; i++)
		if (sel->named[i] <= last ||
		    (sel->nsingles && bsearch(&sel->named[i], sel->singles, sel->nsingles, sizeof *sel->singles, by_id)))
			sel->named[kept++] = sel->named[i];
	*dropped = sel->nnamed - kept;
	sel->nnamed = kept;
	if (*dropped)
		fprintf(stderr, "simq %s: %zu of the ids named do not exist (the last task is %lld)\n", x->cmd->name,
			*dropped, (long long)last);
	return -1;
}

int select_resolve(struct cli_ctx *x, struct selection *sel, bool need_states)
{
	int status = CLI_EXIT_OK;
	bool changed = false;
	size_t dropped;

	sort_named(sel);
	if ((status = drop_past_last(x, sel, &dropped)) >= 0)
		return status;
	status = CLI_EXIT_OK;
	if (sel->nnamed == 0 && dropped)
		return nothing_matched(x, sel);
	if (!select_filtered(sel) && !need_states && sel->nnamed <= SELECT_CONFIRM_OVER) {
		/* One call will act on them all or on none (an unknown id): no need to read them first. */
		size_t cap = 0;

		for (size_t i = 0; i < sel->nnamed; i++)
			add_task(sel, &cap, sel->named[i], "", 0);
	} else if (!select_filtered(sel)) {
		status = states_of_named(x, sel);
	} else {
		for (int read = 0; read < SELECT_READS && status == CLI_EXIT_OK; read++) {
			status = read_filtered(x, sel, &changed);
			if (!changed)
				break;
		}
		if (status == CLI_EXIT_OK)
			tell_archived(x, sel);
		if (status == CLI_EXIT_OK && changed)
			fprintf(stderr,
			        "simq %s: tasks kept changing state while the selection was read; a task that "
			        "changed meanwhile may be left out (run the command again for those)\n",
			        x->cmd->name);
	}
	if (status != CLI_EXIT_OK)
		return status;
	if (sel->n)
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

/* Whether answer (a line read from the terminal) is a yes: y or yes in any case, nothing else. */
static bool is_yes(const char *answer)
{
	size_t len = strcspn(answer, "\r\n");

	return (len == 1 && strncasecmp(answer, "y", 1) == 0) || (len == 3 && strncasecmp(answer, "yes", 3) == 0);
}

int select_ask(struct cli_ctx *x, bool yes, size_t n_act, const char *question, const char *what)
{
	char answer[64] = "";

	if (n_act <= SELECT_CONFIRM_OVER || yes)
		return -1;
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		fprintf(stderr, "%s [y/N] ", question);
		fflush(stderr);
		if (fgets(answer, sizeof answer, stdin) == NULL || !is_yes(answer)) {
			fprintf(stderr, "simq %s: nothing was done\n", x->cmd->name);
			return CLI_EXIT_TASK_FAILED;
		}
		return -1;
	}
	return cli_usage_error(x->cmd, "%s acting on more than %d needs --yes (or a yes on a terminal); --dry-run lists them",
			       what, SELECT_CONFIRM_OVER);
}

int select_confirm(struct cli_ctx *x, const struct selection *sel, size_t n_act, const char *verb, const char *after,
		   const char *stay)
{
	char *ids, *question, *what;
	int status;

	if (n_act <= SELECT_CONFIRM_OVER || sel->yes)
		return -1;
	ids = select_ids_text(sel->tasks, sel->n, 60);
	question = xasprintf("%s %zu tasks (%s)%s?%s", verb, n_act, ids, after, stay);
	what = xasprintf("the selection holds %zu tasks to act on (%s);%s", n_act, ids, stay);
	status = select_ask(x, false, n_act, question, what);
	free(what);
	free(question);
	free(ids);
	return status;
}

void select_free(struct selection *sel)
{
	xfree(&sel->named);
	xfree(&sel->singles);
	xfree(&sel->tasks);
	sel->nnamed = sel->n = sel->nsingles = 0;
}
