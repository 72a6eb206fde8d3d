/* simq console (and simq with no command): the command line of the console in src/ui/. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/common.h"
#include "config/config.h"
#include "ui/console.h"
#include "util/paths.h"
#include "util/xalloc.h"

static int run_console(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_console};
	int status = cli_parse_options(&x, argc, argv, NULL, NULL);

	if (status >= 0)
		return status;
	if (optind < argc)
		return cli_usage_error(x.cmd, "takes no arguments, only options");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "simq: the console needs a terminal; for scripts, simq ls, simq stats and simq log -f "
		                "print the same as text\n");
		return CLI_EXIT_USAGE;
	}
	/* The console draws on the terminal: a server it starts is shown there, not on stderr. */
	x.client.tell_start = false;
	struct config *cfg = cli_load_config(&x.client);

	if (cfg == NULL)
		return CLI_EXIT_CONFIG;
	return console_run(cfg, &x.client);
}

const struct cli_command cli_cmd_console = {
    .name = "console",
    .usage = "simq [console] [--home DIR] [-c FILE] [--no-start]",
    .summary = "open the console (also: simq with no command)",
    .help = "The console shows the queue, the running calls, the log and the statistics, and takes keys to\n"
            "submit, reprioritize, cancel and retry; ? lists the keys ([keys] in simq.ini changes them).\n"
            "Quitting the console never stops the server.\n",
    .run = run_console,
    .common = true,
};
