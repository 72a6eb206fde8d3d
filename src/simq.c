/*
 * simq — console and scheduler for PLECS simulations.
 *
 * main() dispatches argv[1] through the command table; every command is one
 * struct cli_command from src/cli/cmd-*.c.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command *const commands[] = {
    &cli_cmd_console, &cli_cmd_submit, &cli_cmd_sweep, &cli_cmd_ls,    &cli_cmd_show,     &cli_cmd_cancel,
    &cli_cmd_prio,   &cli_cmd_retry, &cli_cmd_wait,  &cli_cmd_result,   &cli_cmd_stats,    &cli_cmd_log,    &cli_cmd_pause,
    &cli_cmd_resume, &cli_cmd_server, &cli_cmd_shutdown, &cli_cmd_config,
    &cli_cmd_status, &cli_cmd_tmux,
    &cli_cmd_help,
    &cli_cmd_version,
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void print_help(FILE *out)
{
	fprintf(out, "Usage: simq COMMAND [ARGS...]\n"
	             "\n"
	             "simq queues PLECS simulations and runs them in priority order, batching\n"
	             "same-model work, retrying transient failures and keeping every task and\n"
	             "result on disk.\n"
	             "\n"
	             "Commands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nOptions:\n"
	             "  -h, --help     show this help and exit\n"
	             "  -V, --version  show the version and exit\n"
	             "\n"
	             "Commands that talk to the server also take:\n"
	             "  --home DIR     the state directory (else $SIMQ_HOME, else $XDG_STATE_HOME/simq)\n"
	             "  -c FILE        the configuration (else $XDG_CONFIG_HOME/simq/simq.ini)\n"
	             "  --no-start     fail (exit 69) rather than start a server when none answers\n"
	             "  --json         print the answer as JSON, for scripts\n"
	             "\n"
	             "simq help COMMAND shows a command's usage.\n"
	             "\nExit status:\n");
#define X(id, code, text) fprintf(out, "  %3d  %s\n", code, text);
	CLI_EXITS(X)
#undef X
}

static int run_help(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error(&cli_cmd_help, "give one command name");
	cmd = find_command(argv[1]);
	if (cmd == NULL)
		return cli_usage_error(&cli_cmd_help, "no command \"%s\" (simq --help lists them)", argv[1]);
	printf("Usage: %s\n\n%s.\n", cmd->usage, cmd->summary);
	if (cmd->help)
		printf("\n%s\n", cmd->help);
	return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_help = {
    .name = "help",
    .usage = "simq help [COMMAND]",
    .summary = "show the commands, or one command's usage",
    .run = run_help,
};

static int run_version(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error(&cli_cmd_version, "takes no arguments");
	printf("simq %s\n", PACKAGE_VERSION);
	return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_version = {
    .name = "version",
    .usage = "simq version",
    .summary = "show the version",
    .run = run_version,
};

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2)
		return cli_cmd_console.run(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return run_version(1, argv);
	/* Options with no command are the console's: simq --home DIR, simq -c FILE. */
	if (argv[1][0] == '-')
		return cli_cmd_console.run(argc, argv);
	cmd = find_command(argv[1]);
	if (cmd == NULL) {
		fprintf(stderr,
		        "simq: unknown command \"%s\"\nUsage: simq COMMAND [ARGS...] (simq --help lists them)\n",
		        argv[1]);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
