/*
 * simq status: one short line for a tmux status line (#(simq status --tmux)).
 *
 * tmux runs it every status-interval and shows whatever it printed, so it
 * never starts a server, gives up on a stuck one within STATUS_TIMEOUT_MS,
 * always exits 0 and says what went wrong in its one line.
 */
#include "autoconf.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/common.h"
#include "client/summary.h"

/* A status line is redrawn every few seconds: a server that has not answered by then is stuck. */
#define STATUS_TIMEOUT_MS 2000

enum { OPT_TMUX = 0x200, OPT_ASCII, OPT_FORMAT, OPT_SEEN };

struct status_options {
	unsigned flags; /* SUMMARY_* */
	const char *format;
	bool seen;
};

static const struct option status_longopts[] = {
	{"tmux", no_argument, NULL, OPT_TMUX},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"seen", no_argument, NULL, OPT_SEEN},
	{NULL, 0, NULL, 0},
};

static int status_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct status_options *o = ud;

	switch (opt) {
	case OPT_TMUX:
		o->flags |= SUMMARY_TMUX;
		return -1;
	case OPT_ASCII:
		o->flags |= SUMMARY_ASCII;
		return -1;
	case OPT_FORMAT:
		o->format = arg;
		return -1;
	case OPT_SEEN:
		o->seen = true;
		return -1;
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

/* What the line says when there is no status to show: short, for a status line. */
static void print_trouble(enum client_status st, const char *err)
{
	if (st == CLIENT_UNREACHABLE)
		puts("simq: no server");
	else if (st == CLIENT_TIMEOUT)
		puts("simq: no answer");
	else
		printf("simq: %.60s\n", err ? err : "no status");
}

static int run_status(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_status};
	struct status_options o = {0};
	struct summary none = {0};
	xmlrpc_value *params = NULL, *r = NULL;
	xmlrpc_env env;
	char *err = NULL, *line;
	int fault, status = cli_parse_options(&x, argc, argv, status_option, &o);

	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0) {
		/* Exit 0 all the same: tmux shows the line, and the line says where to look. */
		if (status != CLI_EXIT_OK)
			puts("simq status: a wrong command line (simq help status)");
		return CLI_EXIT_OK;
	}
	setlocale(LC_CTYPE, "");
	if (!summary_locale_utf8())
		o.flags |= SUMMARY_ASCII;
	/* A bad format is told before anything is asked of the server. */
	line = summary_format(&none, o.format, o.flags, &err);
	if (line == NULL) {
		printf("simq status: %s\n", err);
		free(err);
		return CLI_EXIT_OK;
	}
	free(line);
	x.client.no_start = true;
	x.client.timeout_ms = STATUS_TIMEOUT_MS;
	x.conn = client_new(&x.client);
	xmlrpc_env_init(&env);
	params = o.seen ? xmlrpc_build_value(&env, "(i)", -1) : xmlrpc_array_new(&env);
	xmlrpc_env_clean(&env);
	enum client_status st = client_call(x.conn, "simq.status", params, &r, &fault, &err);

	xmlrpc_DECREF(params);
	if (st != CLIENT_OK) {
		print_trouble(st, err);
	} else if (x.json) {
		cli_print_json(r);
	} else {
		struct summary s;

		summary_read(r, &s);
		line = summary_format(&s, o.format, o.flags, &err);
		puts(line ? line : "simq: ?");
		free(line);
	}
	if (r)
		xmlrpc_DECREF(r);
	free(err);
	cli_done(&x);
	return CLI_EXIT_OK;
}

#define FIELD_HELP(name, help) "              {" #name "}: " help "\n"

const struct cli_command cli_cmd_status = {
    .name = "status",
    .usage = "simq status [--tmux] [--ascii] [--format FORMAT] [--seen] [--json]",
    .summary = "one short line for tmux's status line: queued, running, failed, DOWN, paused",
    .help = "Made for status-right: #(simq status --tmux), as share/tmux/simq.conf sets it.  It never starts a\n"
            "server (it prints \"simq: no server\"), gives up on one that does not answer within 2 s, and\n"
            "always exits 0, so tmux shows what it printed.\n"
            "\n"
            "  --tmux    colour with tmux styles: red for a DOWN backend and for failures not seen yet\n"
            "  --ascii   ASCII only (also when the locale is not UTF-8)\n"
            "  --seen    mark every failure so far as seen (the console does so while it has the focus)\n"
            "  --format  the line, from text and fields: {field} is its value, {field?text} shows text\n"
            "            only when the field is set (not empty, not 0), #[...] is a tmux style (kept\n"
            "            with --tmux, dropped without).  The fields:\n" SUMMARY_FIELDS(FIELD_HELP)
            "            The default: " SUMMARY_DEFAULT_FORMAT,
    .run = run_status,
    .longopts = status_longopts,
    .common = true,
};
