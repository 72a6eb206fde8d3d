/* simq log and simq result: what happened, and what came out. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "client/reply.h"
#include "engine/results.h"
#include "engine/store.h"
#include "util/buf.h"
#include "util/xalloc.h"

static const struct option log_longopts[] = {{"follow", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};

static int log_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	*(bool *)ud = true;
	return -1;
}

/* Prints the log lines of a view; returns the last sequence number seen. */
static long long print_lines(xmlrpc_value *view, long long since)
{
	struct reply_log_line l;
	char when[CLI_TIME_MAX];

	for (int i = 0; reply_log_line(view, i, &l); i++) {
		/* Following, and more lines came at once than the server keeps: a gap, said so on stderr. */
		if (since > 0 && l.seq > since + 1) {
			fflush(stdout);
			fprintf(stderr, "simq log: %lld lines not shown: more came at once than the server keeps; "
				"simulation.log in the state directory has them\n", (long long)l.seq - since - 1);
		}
		printf("%s %s\n", cli_time(when, l.time, true), l.text);
		since = l.seq;
	}
	fflush(stdout);
	return since;
}

static int run_log(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_log};
	bool follow = false;
	long long since = 0, version = -1;
	int status = cli_parse_options(&x, argc, argv, log_option, &follow);

	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0)
		return status;
	/* A follower waits for a stuck server as tail -f waits for a file. */
	if (follow)
		x.client.timeout_ms = 0;
	do {
		xmlrpc_value *view = NULL;

		/* Long-poll: the server answers when something changes, or after 30 s. */
		status = cli_call(&x, "simq.view", &view, "({s:I,s:i,s:I,s:i})", "log_since", (xmlrpc_int64)since,
				  "queue_limit", 0, "version", (xmlrpc_int64)version, "wait_ms", follow && version >= 0 ? 30000 : 0);
		if (status != CLI_EXIT_OK)
			break;
		since = print_lines(view, since);
		version = reply_int(view, "version", 0);
		xmlrpc_DECREF(view);
	} while (follow);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_log = {
	.name = "log",
	.usage = "simq log [-f|--follow]",
	.summary = "print the server's recent log; -f follows it",
	.help = "The server keeps its last 2,000 lines in memory; simulation.log in the state directory has them all\n"
		"(in UTC there; here each line's time is local, ISO 8601 with the offset).",
	.run = run_log,
	.shortopts = "f",
	.longopts = log_longopts,
	.common = true,
};

static const struct option result_longopts[] = {{"csv", no_argument, NULL, 0x400}, {NULL, 0, NULL, 0}};

static int result_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	*(bool *)ud = true;
	return -1;
}

/* One figure of a signal's summary: a number to 6 digits, "inf" or "nan" as the server names a figure
 * that is not finite, "-" where there is none (a result stored before simq kept final values). */
/*
 * The data as CSV, read here from the file the server named, with the server's checks (engine/
 * results.h): a big result costs the server nothing, and has no bound but memory.
 */
static int print_file_csv(xmlrpc_value *r, int64_t id)
{
	char path[4096], format[16];
	struct store_result stored = {.task_id = id, .path = path, .format = format,
				      .points = reply_int(r, "points", 0), .signals = reply_int(r, "signals", 0)};
	struct buf csv = BUF_INIT;
	char *err = NULL;
	int status = CLI_EXIT_OK;

	reply_text(r, "path", path, sizeof path);
	reply_text(r, "format", format, sizeof format);
	if (results_csv_of_file(&stored, 0, &csv, &err)) {
		fwrite(buf_str(&csv), 1, csv.len, stdout);
	} else {
		fprintf(stderr, "simq result: %s\n", err);
		status = CLI_EXIT_IO;
	}
	buf_free(&csv);
	free(err);
	return status;
}

static int run_result(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_result};
	bool csv = false;
	int64_t id;
	xmlrpc_value *r = NULL;
	int status = cli_parse_options(&x, argc, argv, result_option, &csv);

	if (status < 0 && (optind != argc - 1 || !cli_parse_id(argv[optind], &id)))
		status = cli_usage_error(x.cmd, "give one task id");
	if (status >= 0)
		return status;
	/* --csv alone reads the file here; with --json the server's answer carries the CSV. */
	if (csv && x.json)
		status = cli_call(&x, "simq.result", &r, "(Is)", (xmlrpc_int64)id, "csv");
	else
		status = cli_call(&x, "simq.result", &r, "(I)", (xmlrpc_int64)id);
	if (status == CLI_EXIT_OK) {
		char path[4096], format[16];

		reply_text(r, "path", path, sizeof path);
		reply_text(r, "format", format, sizeof format);
		if (x.json) {
			cli_print_json(r);
		} else if (csv) {
			status = print_file_csv(r, id);
		} else {
			int64_t points = reply_int(r, "points", 0), signals = reply_int(r, "signals", 0);

			printf("%s\n", path);
			/* The file is another task's: say whose, as show does. */
			if (reply_int(r, "source", 0))
				printf("cached: the result of task %lld, reused with no PLECS call\n",
				       (long long)reply_int(r, "source", 0));
			printf("%lld point%s, %lld signal%s (%s)\n", (long long)points, points == 1 ? "" : "s",
			       (long long)signals, signals == 1 ? "" : "s", format);
			cli_print_summary(r);
		}
		xmlrpc_DECREF(r);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_result = {
	.name = "result",
	.usage = "simq result ID [--csv] [--json]",
	.summary = "show where a task's result is and its per-signal summary; --csv prints the data as CSV",
	.help = "The summary is a table of each signal's min, max, mean, RMS and final value (\"-\" where a\n"
		"result stored before simq kept final values has none). --json prints the answer as it is, full\n"
		"precision. --csv prints the data as CSV (a MAT result converted), read here from the file the server\n"
		"names, checked as the server checks it, so a big result costs the server nothing; with --json the\n"
		"server's answer carries it (at most 32 MiB of CSV). A file that is gone, or that simq did not write\n"
		"(a link, a FIFO, another task's data, a CSV cut short), is refused with exit status 74.",
	.run = run_result,
	.longopts = result_longopts,
	.common = true,
	.operands = CLI_OPERANDS_TASK,
};
