/* simq ls, show, cancel, prio, retry, wait: tasks one by one or in lists. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/select.h"
#include "client/reply.h"
#include "engine/task.h"
#include "proto/proto.h"
#include "util/time.h"
#include "util/buf.h"
#include "util/xalloc.h"

enum { OPT_STATE_FILTER = 0x300, OPT_MODEL, OPT_NAME_FILTER, OPT_TAG_FILTER, OPT_LIMIT, OPT_OFFSET, OPT_TIMEOUT,
       OPT_ARCHIVED, OPT_ALL };

struct ls_opts {
	const char *state, *model, *name, *tag;
	long limit, offset;
	bool archived, all; /* --archived: the archive only; --all: the hot tables and the archive */
};

static int ls_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct ls_opts *o = ud;
	char *end;

	enum task_state state;

	switch (opt) {
	case OPT_STATE_FILTER:
		if (!task_state_parse(arg, &state))
			return cli_not_one_of(x, "--state", arg, cli_names_of(cli_state_name, TASK_STATE_COUNT), "");
		o->state = arg;
		return -1;
	case OPT_MODEL:
		o->model = arg;
		return -1;
	case OPT_ARCHIVED:
	case OPT_ALL:
		*(opt == OPT_ALL ? &o->all : &o->archived) = true;
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

/* The characters of UTF-8 text s (each taken as one column: names are mostly Latin). */
static int columns(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The bytes of the first chars characters of s. */
static int bytes_of(const char *s, int chars)
{
	const char *p = s;

	for (; *p && chars >= 0; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && chars-- == 0)
			break;
	return (int)(p - s);
}

/* Cuts s to at most width characters, with "…" as "..", padded to width unless last. */
static void cell(const char *s, int width, bool last)
{
	int len = columns(s);

	if (width > 0 && len > width)
		printf("%.*s..", bytes_of(s, width - 2), s);
	else
		printf("%s%*s", s, last || width <= len ? 0 : width - len, "");
}

static const char *const ls_heads[] = {"ID", "PRI", "STATE", "ATT", "NAME", "MODEL", "SUBMITTED", "ERROR"};
static const char *const ls_keys[] = {"id", "priority", "state", "attempts", "name", "model", "submitted", "error"};
enum { LS_COLUMNS = 8, LS_STATE = 2, LS_MODEL = 5, LS_SUBMITTED = 6, LS_ERROR = 7 };

/* The text of column c of task t: the model's file name, the time as simq prints times (short:
 * "11-30 12:20", for a narrow terminal), a state with the copy that retries it. */
static const char *ls_cell(xmlrpc_value *t, int c, char *buf, size_t size, bool short_time)
{
	char iso[64];

	if (c == LS_SUBMITTED) {
		char when[CLI_TIME_MAX];

		cli_time(when, reply_str(t, ls_keys[c], iso, sizeof iso), false);
		if (short_time && strlen(when) >= 16)
			snprintf(buf, size, "%.5s %.5s", when + 5, when + 11);
		else
			snprintf(buf, size, "%s", when);
		return buf;
	}
	reply_text(t, ls_keys[c], buf, size);
	if (c == LS_STATE && reply_int(t, "retried_as", 0))
		snprintf(buf + strlen(buf), size - strlen(buf), " (retried as %lld)", (long long)reply_int(t, "retried_as", 0));
	else if (c == LS_STATE && reply_int(t, "source", 0))
		snprintf(buf + strlen(buf), size - strlen(buf), " (cached from %lld)", (long long)reply_int(t, "source", 0));
	if (c == LS_STATE && reply_int(t, "archived", 0))
		snprintf(buf + strlen(buf), size - strlen(buf), ", archived");
	if (c == LS_MODEL && strrchr(buf, '/'))
		return strrchr(buf, '/') + 1;
	return buf;
}

/* Fits the columns to the terminal (total, 0: do not cut): ERROR, MODEL and NAME give way; times never. */
static void fit_widths(int width[LS_COLUMNS], int total)
{
	int used = 0;

	if (total <= 0) {
		width[LS_ERROR] = 0;
		return;
	}
	for (int c = 0; c < LS_COLUMNS; c++)
		used += width[c] + 2;
	for (int shrink = 0; used > total && shrink < 40; shrink++) {
		for (int c = LS_ERROR; c >= 4 && used > total; c--) {
			if (c != LS_SUBMITTED && width[c] > 8) {
				width[c]--;
				used--;
			}
		}
	}
	if (used > total)
		width[LS_ERROR] = total - (used - width[LS_ERROR]) > 5 ? total - (used - width[LS_ERROR]) : 5;
}

/* The widths of the columns' texts; short_time: times as "11-30 12:20". */
static void measure(xmlrpc_value *tasks, int width[LS_COLUMNS], bool short_time)
{
	char buf[4096];

	for (int c = 0; c < LS_COLUMNS; c++)
		width[c] = (int)strlen(ls_heads[c]);
	for (int i = 0; i < reply_count(tasks); i++)
		for (int c = 0; c < LS_COLUMNS; c++) {
			int len = columns(ls_cell(reply_item(tasks, i), c, buf, sizeof buf, short_time));

			if (len > width[c])
				width[c] = len;
		}
}

/* The table; on a terminal too narrow for whole names and times, the times are shortened first. */
static void print_table(xmlrpc_value *tasks)
{
	int n = reply_count(tasks), width[LS_COLUMNS], used = 0, total = cli_width();
	bool short_time = false;
	char buf[4096];

	measure(tasks, width, false);
	for (int c = 0; c < LS_ERROR; c++)
		used += width[c] + 2;
	if (total > 0 && used > total) {
		short_time = true;
		measure(tasks, width, true);
	}
	fit_widths(width, total);
	for (int c = 0; c < LS_COLUMNS; c++) {
		cell(ls_heads[c], width[c], c == LS_COLUMNS - 1);
		printf("%s", c < LS_COLUMNS - 1 ? "  " : "\n");
	}
	for (int i = 0; i < n; i++)
		for (int c = 0; c < LS_COLUMNS; c++) {
			cell(ls_cell(reply_item(tasks, i), c, buf, sizeof buf, short_time), width[c], c == LS_COLUMNS - 1);
			printf("%s", c < LS_COLUMNS - 1 ? "  " : "\n");
		}
}

static const struct option ls_longopts[] = {
	{"state", required_argument, NULL, OPT_STATE_FILTER}, {"model", required_argument, NULL, OPT_MODEL},
	{"name", required_argument, NULL, OPT_NAME_FILTER},   {"tag", required_argument, NULL, OPT_TAG_FILTER},
	{"limit", required_argument, NULL, OPT_LIMIT},	      {"offset", required_argument, NULL, OPT_OFFSET},
	{"archived", no_argument, NULL, OPT_ARCHIVED},	      {"all", no_argument, NULL, OPT_ALL},
	{NULL, 0, NULL, 0},
};

/* simq.list with o's filters over the tasks `archived` or not (all: both), limit tasks from offset; brief: vars
 * as rows show them. */
static int ls_call(struct cli_ctx *x, const struct ls_opts *o, bool archived, bool all, long offset, long limit,
		   bool brief, xmlrpc_value **result)
{
	return cli_call(x, "simq.list", result, "({s:s,s:s,s:s,s:s,s:b,s:b,s:b}II)", "state", o->state ? o->state : "",
			"model", o->model ? o->model : "", "name", o->name ? o->name : "", "tag", o->tag ? o->tag : "",
			"archived", (xmlrpc_bool)archived, "all", (xmlrpc_bool)all, "brief", (xmlrpc_bool)brief,
			(xmlrpc_int64)offset, (xmlrpc_int64)limit);
}

/*
 * simq.list's brief answer for o's limit, for the table: a page may end early (long records, doc/api.md), so
 * the next page is asked for from where that one ended, until the limit or the end.
 */
static int ls_fetch(struct cli_ctx *x, const struct ls_opts *o, xmlrpc_value **result)
{
	int status = ls_call(x, o, o->archived, o->all, o->offset, o->limit, true, result);
	xmlrpc_value *tasks = status == CLI_EXIT_OK ? member(*result, "tasks") : NULL;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	for (long got = reply_count(tasks), more = got; tasks && more > 0 && got < o->limit &&
	     o->offset + got < reply_int(*result, "total", 0); got += more) {
		xmlrpc_value *next = NULL, *page;

		status = ls_call(x, o, o->archived, o->all, o->offset + got, o->limit - got, true, &next);
		if (status != CLI_EXIT_OK)
			break;
		page = member(next, "tasks");
		more = reply_count(page);
		for (int i = 0; i < more; i++)
			xmlrpc_array_append_item(&env, tasks, reply_item(page, i));
		if (page)
			xmlrpc_DECREF(page);
		xmlrpc_DECREF(next);
	}
	xmlrpc_env_clean(&env);
	if (tasks)
		xmlrpc_DECREF(tasks);
	if (status != CLI_EXIT_OK && *result) {
		xmlrpc_DECREF(*result);
		*result = NULL;
	}
	return status;
}

/* A filtered list of the hot tasks says how many archived ones match too, as cancel and retry do. */
static void ls_tell_archived(struct cli_ctx *x, const struct ls_opts *o)
{
	xmlrpc_value *r = NULL;
	int64_t n;

	if (o->all || o->archived || !(o->state || o->model || o->name || o->tag) ||
	    ls_call(x, o, true, false, o->offset, 0, true, &r))
		return;
	n = reply_int(r, "total", 0);
	if (n > 0)
		fprintf(stderr, "(%lld archived task%s match%s too: --all lists %s with these, --archived alone)\n",
			(long long)n, n == 1 ? "" : "s", n == 1 ? "es" : "", n == 1 ? "it" : "them");
	xmlrpc_DECREF(r);
}

/* Not simq.list's {total, offset, tasks}: what answers on the socket is not a simq server like this one. */
static void not_a_list(void)
{
	fprintf(stderr, "simq ls: the server's answer holds no list of tasks: is it a simq server of this version?\n");
}

/*
 * simq ls --json: the records a page at a time as they come, one JSON array in all, so that the client
 * holds one page (8 MiB of vars at most) however many tasks with waveforms it lists.
 */
static int ls_json(struct cli_ctx *x, const struct ls_opts *o)
{
	int status = CLI_EXIT_OK;
	long got = 0;

	printf("[");
	for (int64_t total = INT64_MAX; got < o->limit && o->offset + got < total;) {
		xmlrpc_value *r = NULL, *tasks;
		int n;

		status = ls_call(x, o, o->archived, o->all, o->offset + got, o->limit - got, false, &r);
		if (status != CLI_EXIT_OK)
			break;
		tasks = reply_member(r, "tasks");
		if (tasks == NULL || xmlrpc_value_type(tasks) != XMLRPC_TYPE_ARRAY) {
			xmlrpc_DECREF(r);
			not_a_list();
			status = CLI_EXIT_UNAVAILABLE;
			break;
		}
		total = reply_int(r, "total", 0);
		n = reply_count(tasks);
		for (int i = 0; i < n; i++) {
			json_t *j = proto_to_json(reply_item(tasks, i), NULL);
			char *text = proto_json_text_at(j, 1);

			printf("%s\n  %s", got + i ? "," : "", text);
			free(text);
			json_decref(j);
		}
		got += n;
		xmlrpc_DECREF(r);
		if (n == 0)
			break;
	}
	printf(got ? "\n]\n" : "]\n");
	return status;
}

static int run_ls(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_ls};
	struct ls_opts o = {.limit = 100};
	xmlrpc_value *result = NULL;
	int status;

	status = cli_parse_options(&x, argc, argv, ls_option, &o);
	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0)
		return status;
	if (x.json) {
		status = ls_json(&x, &o);
		cli_done(&x);
		return status;
	}
	/* The table shows no vars: it asks for them brief. */
	status = ls_fetch(&x, &o, &result);
	xmlrpc_value *tasks = status == CLI_EXIT_OK ? member(result, "tasks") : NULL;

	if (status == CLI_EXIT_OK && (tasks == NULL || xmlrpc_value_type(tasks) != XMLRPC_TYPE_ARRAY)) {
		not_a_list();
		if (tasks)
			xmlrpc_DECREF(tasks);
		xmlrpc_DECREF(result);
		status = CLI_EXIT_UNAVAILABLE;
	} else if (status == CLI_EXIT_OK) {
		char total[32];

		print_table(tasks);
		if (reply_count(tasks) < atoi(reply_text(result, "total", total, sizeof total)))
			fprintf(stderr, "(%d of %s shown; --offset and --limit page through them)\n", reply_count(tasks),
				total);
		ls_tell_archived(&x, &o);
		xmlrpc_DECREF(tasks);
		xmlrpc_DECREF(result);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_ls = {
	.name = "ls",
	.usage = "simq ls [--state S] [--model M] [--name N] [--tag T] [--archived | --all] [--limit N] [--offset N] "
		 "[--json]",
	.summary = "list tasks, oldest first (--state queued: in queue order)",
	.help = "S is queued, running, completed, failed or cancelled; M is a model's path, file name, model name\n"
		"(buck) or last directories, or a shell pattern of its path or file name; N matches any part of the\n"
		"name, or is a shell pattern. Finished tasks move to the archive after [store] archive_after:\n"
		"--archived lists the archived tasks only, --all the tasks of both (their state says \"archived\").\n"
		"--limit is at most 1000 (default 100); --offset pages on.",
	.run = run_ls,
	.longopts = ls_longopts,
	.common = true,
};

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

/* "2026-11-30T12:20:03+01:00" for a time of t's, "-" when there is none yet. */
static const char *time_of(xmlrpc_value *t, const char *key, char out[CLI_TIME_MAX])
{
	char iso[64];

	cli_time(out, reply_str(t, key, iso, sizeof iso), false);
	if (out[0] == '\0')
		snprintf(out, CLI_TIME_MAX, "-");
	return out;
}

/* The attempts, oldest first: number, start, end, backend, batch, outcome and the error in full. */
static void print_attempts(xmlrpc_value *t)
{
	xmlrpc_value *list = reply_member(t, "attempt_list");
	int n = reply_count(list), backend_width = (int)strlen("BACKEND");
	char backend[256], outcome[32], error[8192], started[CLI_TIME_MAX], ended[CLI_TIME_MAX];

	if (n == 0) {
		/* A cached task never runs: "yet" would promise an attempt. */
		printf(reply_int(t, "source", 0) || reply_int(reply_member(t, "result"), "source", 0)
			       ? "\nno attempts: completed from the cache, no PLECS call\n"
			       : "\nno attempts yet\n");
		return;
	}
	for (int i = 0; i < n; i++) {
		int len = (int)strlen(reply_str(reply_item(list, i), "backend", backend, sizeof backend));

		backend_width = len > backend_width ? len : backend_width;
	}
	printf("\n%-7s  %-25s  %-25s  %-*s  %5s  %-11s  %s\n", "ATTEMPT", "STARTED", "ENDED", backend_width, "BACKEND",
	       "BATCH", "OUTCOME", "ERROR");
	for (int i = 0; i < n; i++) {
		xmlrpc_value *a = reply_item(list, i);

		reply_str(a, "error", error, sizeof error);
		printf("%7lld  %-25s  %-25s  %-*s  %5lld  %-*s%s%s\n", (long long)reply_int(a, "n", i + 1),
		       time_of(a, "started", started), time_of(a, "ended", ended), backend_width,
		       reply_str(a, "backend", backend, sizeof backend), (long long)reply_int(a, "batch", 0),
		       error[0] ? 11 : 0, reply_str(a, "outcome", outcome, sizeof outcome), error[0] ? "  " : "", error);
	}
}

/* The longest vars line simq show prints as it is. */
#define SHOW_VARS_BYTES 4096

/* The fields of a task record, in the order simq show prints them. */
static const char *const show_keys[] = {"id", "name", "model", "priority", "state", "position", "attempts",
					"submitted", "started", "finished", "retry_due", "timeout", "tags", "vars",
					"solver", "origin", "cached", "error", NULL};

static bool is_time_key(const char *key)
{
	return strcmp(key, "submitted") == 0 || strcmp(key, "started") == 0 || strcmp(key, "finished") == 0 ||
	       strcmp(key, "retry_due") == 0;
}

/* Outcomes of attempts PLECS did not run, or that were not the task's: they are no retry. */
static const char *const not_retries[] = {"interrupted", "discarded", "split", "backend", "local", NULL};

/* "1 that PLECS ran, 4 in all (3 split, not retries)": what the attempt list holds beside the count. */
static void print_attempt_count(xmlrpc_value *t)
{
	xmlrpc_value *list = reply_member(t, "attempt_list");
	int listed = reply_count(list), count[5] = {0};
	char outcome[32];

	printf("%lld that PLECS ran", (long long)reply_int(t, "attempts", 0));
	if (listed == reply_int(t, "attempts", 0))
		return;
	for (int i = 0; i < listed; i++) {
		reply_str(reply_item(list, i), "outcome", outcome, sizeof outcome);
		for (int k = 0; not_retries[k]; k++)
			count[k] += strcmp(outcome, not_retries[k]) == 0;
	}
	printf(", %d in all (", listed);
	for (int k = 0, shown = 0; not_retries[k]; k++)
		if (count[k])
			printf("%s%d %s", shown++ ? ", " : "", count[k], not_retries[k]);
	printf("; not retries)");
}

/* A retry copy names its origin; a task retried names its copies. */
static void print_lineage(xmlrpc_value *t)
{
	xmlrpc_value *copies = reply_member(t, "copies");
	int n = reply_count(copies);

	if (reply_int(t, "origin", 0))
		printf("%-10s %lld (this task is its retry copy)\n", "origin", (long long)reply_int(t, "origin", 0));
	if (n == 0)
		return;
	printf("%-10s ", "retried as");
	for (int i = 0; i < n; i++)
		printf("%s%lld", i ? ", " : "", (long long)reply_item_int(copies, i, 0));
	printf("\n");
}

/* A result whose file results_max_size evicted: when, why, and the summary kept (simq result sends here). */
static void print_evicted(xmlrpc_value *t)
{
	xmlrpc_value *r = reply_member(t, "result");
	char iso[64], when[CLI_TIME_MAX];
	int64_t source = reply_int(r, "source", 0);

	if (r == NULL || reply_str(r, "evicted", iso, sizeof iso)[0] == '\0')
		return;
	cli_time(when, iso, false);
	printf("\nresult     evicted %s ([store] results_max_size)", when);
	if (source)
		printf(": task %lld's file, reused from the cache", (long long)source);
	printf("; its summary is kept:\n");
	cli_print_summary(r);
}

/* The vars line: the whole JSON when it is short; else vectors as their size and long strings cut, said so. */
static void print_vars(xmlrpc_value *t, int64_t id)
{
	json_t *j = proto_to_json(reply_member(t, "vars"), NULL);
	char *text = j ? proto_json_text(j, false) : xstrdup("{}"), *brief = NULL;

	if (strlen(text) > SHOW_VARS_BYTES && (brief = proto_brief_vars(text)) != NULL)
		printf("%-10s %s\n%-10s (long values shortened: simq show --json %lld has them whole)\n", "vars", brief, "",
		       (long long)id);
	else
		printf("%-10s %s\n", "vars", text);
	free(brief);
	free(text);
	json_decref(j);
}

static void print_task(xmlrpc_value *t)
{
	char buf[8192], when[CLI_TIME_MAX];

	for (size_t i = 0; show_keys[i]; i++) {
		const char *key = show_keys[i];
		const char *text = reply_text(t, key, buf, sizeof buf);

		if (is_time_key(key))
			text = cli_time(when, buf, false);
		if (strcmp(key, "origin") == 0) {
			print_lineage(t);
			continue;
		}
		if (strcmp(key, "vars") == 0) {
			print_vars(t, reply_int(t, "id", 0));
			continue;
		}
		if (strcmp(key, "cached") == 0 && reply_int(reply_member(t, "result"), "source", 0)) {
			printf("%-10s yes: result reused from task %lld (cached)\n", key,
			       (long long)reply_int(reply_member(t, "result"), "source", 0));
			continue;
		}
		if (text[0] == '\0' || strcmp(text, "-1") == 0)
			continue;
		printf("%-10s ", key);
		/* Attempts counts what PLECS ran; the list has every attempt, those that are no retry too. */
		if (strcmp(key, "attempts") == 0)
			print_attempt_count(t);
		else
			printf("%s", strcmp(key, "timeout") == 0 && reply_num(t, "timeout", 0) == 0 ? "none" : text);
		printf("\n");
		if (strcmp(key, "state") == 0)
			print_call(t);
		if (strcmp(key, "state") == 0 && reply_int(t, "archived", 0))
			printf("%-10s yes: moved out of the hot tables after [store] archive_after (simq ls --archived)\n",
			       "archived");
	}
	print_attempts(t);
	print_evicted(t);
}

static int run_show(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_show};
	xmlrpc_value *t = NULL;
	int64_t id;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL);

	if (status < 0 && (optind != argc - 1 || !cli_parse_id(argv[optind], &id)))
		status = cli_usage_error(x.cmd, "give one task id");
	if (status >= 0)
		return status;
	status = cli_call(&x, "simq.get", &t, "(I)", (xmlrpc_int64)id);
	if (status == CLI_EXIT_OK) {
		if (x.json)
			cli_print_json(t);
		else
			print_task(t);
		xmlrpc_DECREF(t);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_show = {
	.name = "show",
	.usage = "simq show ID [--json]",
	.summary = "show one task: vars, solver options, times, attempts, error",
	.help = "Times are local, ISO 8601 with the offset. Below the fields, every attempt: its number, start,\n"
		"end, backend, batch, outcome (ok, transient, permanent; or interrupted, discarded, split,\n"
		"backend, local: not run by PLECS, or not kept, and no retry) and its error in full.",
	.run = run_show,
	.common = true,
	.operands = CLI_OPERANDS_TASK,
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

static const struct option wait_longopts[] = {{"timeout", required_argument, NULL, OPT_TIMEOUT}, {NULL, 0, NULL, 0}};

/* The ids of simq wait's operands, as the selectors take them (45, 45-60, 3,7,45-60). */
static int wait_ids(struct cli_ctx *x, int argc, char **argv, struct selection *sel, xmlrpc_value **ids)
{
	int status = -1;

	for (int i = optind; status < 0 && i < argc; i++)
		status = select_operand(x, sel, argv[i]);
	if (status < 0 && sel->nnamed == 0)
		status = cli_usage_error(x->cmd, "give at least one task id (45, 45-60, 3,7,45-60)");
	if (status < 0 && (status = select_resolve(x, sel, false)) == CLI_EXIT_OK)
		status = -1;
	if (status < 0)
		*ids = select_chunk(sel, 0, sel->n);
	return status;
}

/* The tasks of a simq.wait answer still queued or running, of *n; *failed: one failed or was cancelled. */
static int unfinished(xmlrpc_value *states, int *n, bool *failed)
{
	xmlrpc_env env;
	int left = 0;

	*failed = false;
	xmlrpc_env_init(&env);
	*n = xmlrpc_array_size(&env, states);
	for (int i = 0; i < *n; i++) {
		xmlrpc_value *item;
		char state[32];

		xmlrpc_array_read_item(&env, states, i, &item);
		reply_text(item, "state", state, sizeof state);
		*failed |= strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0;
		left += strcmp(state, "queued") == 0 || strcmp(state, "running") == 0;
		xmlrpc_DECREF(item);
	}
	xmlrpc_env_clean(&env);
	return left;
}

/*
 * Asks the server again and again, each call waiting at most PROTO_WAIT_SLICE_S (the server
 * answers within that, finished or not), until every task is final or timeout seconds passed:
 * a wait of any length over any number of tasks never looks like a server that does not answer.
 */
static int wait_rounds(struct cli_ctx *x, xmlrpc_value *ids, double timeout, xmlrpc_value **result)
{
	double until = time_mono() + timeout;
	bool told = false, failed;
	int status, n;

	for (;;) {
		double left = until - time_mono(), slice = left < PROTO_WAIT_SLICE_S ? left : PROTO_WAIT_SLICE_S;

		if (slice < 0)
			slice = 0;
		if (x->conn == NULL)
			x->conn = client_new(&x->client);
		client_set_wait(x->conn, (long)(slice * 1000));
		status = cli_call(x, "simq.wait", result, "(Vd)", ids, slice);
		if (status != CLI_EXIT_OK)
			break;
		client_set_no_start(x->conn, "it stopped while simq wait waited");
		int open = unfinished(*result, &n, &failed);

		if (open == 0 || time_mono() >= until)
			break;
		xmlrpc_DECREF(*result);
		*result = NULL;
		/* On a terminal, how far it got (one line, rewritten). */
		if (isatty(STDERR_FILENO)) {
			fprintf(stderr, "\rsimq wait: %d of %d finished; waiting (Ctrl-C stops the wait, not the tasks)",
				n - open, n);
			told = true;
		}
	}
	if (told)
		fputs("\r\033[K", stderr);
	return status;
}

static int run_wait(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_wait};
	struct selection sel = {0};
	xmlrpc_value *ids = NULL, *result = NULL;
	double timeout = 3600;
	int status = cli_parse_options(&x, argc, argv, wait_option, &timeout);

	if (status < 0)
		status = wait_ids(&x, argc, argv, &sel, &ids);
	select_free(&sel);
	if (status >= 0) {
		cli_done(&x);
		return status;
	}
	status = wait_rounds(&x, ids, timeout, &result);
	if (status == CLI_EXIT_OK) {
		bool failed;
		int n, open = unfinished(result, &n, &failed);

		if (x.json)
			cli_print_json(result);
		else
			print_states(result, "");
		/* Exit 1 when a task failed or was cancelled, as the exit codes say; not finished
		 * when the wait ran out: 75, so that a script does not read that as done. */
		status = failed ? CLI_EXIT_TASK_FAILED : open > 0 ? CLI_EXIT_TIMEOUT : CLI_EXIT_OK;
		/* After thousands of state lines, the last says the wait gave up, not the tasks. */
		if (open > 0)
			fprintf(stderr, "simq wait: gave up after --timeout %g s with %d of %d tasks not finished (they "
				"go on; simq wait again to wait more)\n", timeout, open, n);
		xmlrpc_DECREF(result);
	}
	xmlrpc_DECREF(ids);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_wait = {
	.name = "wait",
	.usage = "simq wait TASKS... [--timeout S] [--json]",
	.help = "TASKS are ids (45), ranges (45-60) and lists (3,7,45-60), as cancel, prio and retry take them;\n"
		"a range may reach past the last task (the ids that do not exist are counted).\n"
		"--timeout S waits at most S seconds (default 3600; 0 looks once and does not wait); when it runs\n"
		"out, the last line (on standard error) says so and on how many tasks, and the exit is 75.",
	.summary = "wait until tasks finish; exit 1 if one failed or was cancelled, 75 if the wait ran out",
	.run = run_wait,
	.longopts = wait_longopts,
	.common = true,
	.operands = CLI_OPERANDS_TASKS,
};
