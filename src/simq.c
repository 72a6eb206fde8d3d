/*
 * simq — console and scheduler for PLECS simulations.
 *
 * main() dispatches the command word through the command table; every command
 * is one struct cli_command from src/cli/cmd-*.c.  Options every API command
 * shares may come before the command word (simq -c FILE stats): they are
 * handed to the command after its name.  simq --complete-table prints the
 * table for the shell completions the build generates (src/cli/complete.c).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/complete.h"

static const struct cli_command *const commands[] = {
    &cli_cmd_console, &cli_cmd_submit, &cli_cmd_sweep, &cli_cmd_ls,    &cli_cmd_show,     &cli_cmd_cache,    &cli_cmd_cancel,
    &cli_cmd_prio,   &cli_cmd_retry, &cli_cmd_wait,  &cli_cmd_result,   &cli_cmd_stats,    &cli_cmd_log,    &cli_cmd_pause,
    &cli_cmd_resume, &cli_cmd_clean, &cli_cmd_backend, &cli_cmd_server, &cli_cmd_shutdown, &cli_cmd_config,
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
	fprintf(out, "Usage: simq [OPTION...] COMMAND [ARGS...]\n"
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
	             "Commands that talk to the server also take, before the command or after it:\n"
	             "  --home DIR     the state directory (else $SIMQ_HOME, else $XDG_STATE_HOME/simq)\n"
	             "  -c, --config FILE  the configuration (else $XDG_CONFIG_HOME/simq/simq.ini)\n"
	             "  --no-start     fail (exit 69) rather than start a server when none answers\n"
	             "  --json         print the answer as JSON, for scripts\n"
	             "\n"
	             "simq help COMMAND shows a command's usage and its own options.\n"
	             "\nDashboard: with [dashboard] listen = 127.0.0.1 in simq.ini, simq server prints\n"
	             "  \"dashboard on http://127.0.0.1:7361/ (token in STATE/token)\"; open it in a browser.\n"
	             "  Read-only until the token (cat STATE/token) is typed into the page. From another\n"
	             "  machine: ssh -L 7361:127.0.0.1:7361 HOST, then http://127.0.0.1:7361/ (simq(1), DASHBOARD).\n"
	             "\nPLECS proxy: with [proxy] listen = 127.0.0.1 (port 1080), a script written for PLECS\n"
	             "  points at http://localhost:1080/RPC2 unchanged: each case of its plecs.simulate is a\n"
	             "  task (proxy:ADDRESS, tag proxy); /RPC2/critical ... /RPC2/low set the priority (simq(1), PROXY).\n"
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
    .operands = CLI_OPERANDS_COMMAND,
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

/*
 * The command after the options that come first (argv[1...]), with those options moved after its
 * name into *args (argv's pointers; free the array); NULL when there is no command word: the options
 * are the console's.  *status is set (and NULL returned) for an option no command may take first,
 * one without its value, or one the command does not take.
 */
static const struct cli_command *command_after_options(int argc, char **argv, char ***args, int *status)
{
	const struct cli_command *cmd;
	int i = 1;

	*status = -1;
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
		const struct option *o = cli_common_option(argv[i]);

		if (o == NULL || o->val == 'h') {
			fprintf(stderr, "simq: %s before the command: only --home DIR, -c FILE, --no-start and --json may "
				"come first (simq help COMMAND shows a command's own options)\n", argv[i]);
			*status = CLI_EXIT_USAGE;
			return NULL;
		}
		/* Its value is the next word unless it is in this one: --home=DIR, -cFILE. */
		bool joined = strchr(argv[i], '=') || (argv[i][1] != '-' && argv[i][2] != '\0');

		if (o->has_arg == required_argument && !joined && ++i >= argc) {
			fprintf(stderr, "simq: %s needs a value\nUsage: simq [OPTION...] COMMAND [ARGS...]\n", argv[i - 1]);
			*status = CLI_EXIT_USAGE;
			return NULL;
		}
		i++;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return NULL;
	cmd = find_command(argv[i]);
	if (cmd == NULL) {
		fprintf(stderr, "simq: unknown command \"%s\"\nUsage: simq COMMAND [ARGS...] (simq --help lists them)\n",
			argv[i]);
		*status = CLI_EXIT_USAGE;
		return NULL;
	}
	for (int k = 1; k < i; k++) {
		const struct option *o = cli_common_option(argv[k]);

		if (o && !cli_takes_option(cmd, o)) {
			*status = cli_usage_error(cmd, "%s is not an option of simq %s", argv[k], cmd->name);
			return NULL;
		}
	}
	/* argv[i] (the command), then the options before it, then the rest. */
	*args = calloc((size_t)argc + 1, sizeof **args);
	if (*args == NULL) {
		perror("simq");
		exit(CLI_EXIT_SOFTWARE);
	}
	(*args)[0] = argv[i];
	memcpy(*args + 1, argv + 1, (size_t)(i - 1) * sizeof **args);
	memcpy(*args + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof **args);
	return cmd;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	char **args = NULL;
	int status;

	if (argc < 2)
		return cli_cmd_console.run(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return run_version(1, argv);
	if (strcmp(argv[1], "--complete-table") == 0)
		return complete_table(stdout, commands, COMMAND_COUNT) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
	cmd = command_after_options(argc, argv, &args, &status);
	if (cmd == NULL && status >= 0)
		return status;
	/* Options and no command: the console's (simq --home DIR, simq -c FILE). */
	if (cmd == NULL)
		return cli_cmd_console.run(argc, argv);
	status = cmd->run(argc - 1, args);
	free(args);
	return status;
}
