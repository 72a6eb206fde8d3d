/* simq server: run the scheduler for one state directory. */
#include "autoconf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "server/server.h"
#include "util/buf.h"

static const struct option server_longopts[] = {
	{"foreground", no_argument, NULL, 'f'},
	{"state", required_argument, NULL, 's'},
	{"home", required_argument, NULL, 's'},
	{"plecs", required_argument, NULL, 'p'},
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int run_server_cmd(int argc, char **argv)
{
	struct server_options opt = {0};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_cmd_server.shortopts, server_longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt.foreground = true;
			break;
		case 's':
			opt.state_dir = optarg;
			break;
		case 'c':
			opt.config_path = optarg;
			break;
		case 'p':
			opt.plecs_url = optarg;
			break;
		case 'h':
			printf("Usage: %s\n", cli_cmd_server.usage);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(&cli_cmd_server, "%s needs a value", argv[optind - 1]);
		default:
			return cli_unknown_option(&cli_cmd_server, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_cmd_server, "unexpected argument \"%s\"", argv[optind]);
	/* The same rule as [backend] url, said before anything starts. */
	char *why = NULL;

	if (opt.plecs_url && !config_check_value("backend", "url", opt.plecs_url, &why)) {
		struct buf shown = BUF_INIT;
		int status;

		buf_add_shown(&shown, opt.plecs_url, strlen(opt.plecs_url));
		status = cli_usage_error(&cli_cmd_server, "--plecs %s: %s", buf_str(&shown), why);
		buf_free(&shown);
		free(why);
		return status;
	}
	return server_run(&opt);
}

const struct cli_command cli_cmd_server = {
	.name = "server",
	.usage = "simq server [-f|--foreground] [--state DIR] [-c|--config FILE] [--plecs URL]",
	.summary = "run the scheduler for a state directory (detaches unless -f)",
	.help = "The state directory is --state DIR, else $SIMQ_HOME, else $XDG_STATE_HOME/simq. One server\n"
		"runs per state directory. SIGTERM, SIGINT and simq shutdown stop it; queued tasks stay queued.\n"
		"SIGHUP reopens simulation.log. --plecs URL runs tasks on one PLECS at URL instead of the\n"
		"[backend NAME] sections (default: http://127.0.0.1:1080/RPC2).",
	.run = run_server_cmd,
	.shortopts = ":fc:h",
	.longopts = server_longopts,
};
