/*
 * cli — the command table's types and simq's exit statuses.
 *
 * Each command lives in src/cli/cmd-*.c and exports one const struct
 * cli_command; src/simq.c gathers them in its table and dispatches to run()
 * with argv[0] being the command's name.  cli.c holds what every command
 * uses to refuse a command line.  Runs on the main thread.
 */
#ifndef SIMQ_CLI_CLI_H
#define SIMQ_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses (sysexits-style), with the text simq --help shows. */
#define CLI_EXITS(X)                                                                                                   \
	X(OK, 0, "success")                                                                                            \
	X(TASK_FAILED, 1, "a task failed or was cancelled")                                                            \
	X(USAGE, 64, "the command line was wrong")                                                                     \
	X(DATA, 65, "bad input: a model, a variable, a task")                                                          \
	X(UNAVAILABLE, 69, "no server answered")                                                                       \
	X(SOFTWARE, 70, "an internal error")                                                                           \
	X(IO, 74, "a file could not be read or written")                                                               \
	X(TIMEOUT, 75, "simq wait gave up before every task finished")                                                  \
	X(CONFIG, 78, "the configuration has errors")

enum cli_exit {
#define X(id, code, text) CLI_EXIT_##id = code,
	CLI_EXITS(X)
#undef X
};

struct cli_command {
	const char *name;
	const char *usage;   /* one line: "simq config --defaults | --check [-c FILE] | --man" */
	const char *summary; /* one line for simq --help */
	const char *help;    /* paragraphs for simq help NAME; may be NULL */
	int (*run)(int argc, char **argv);
};

/* Prints "simq NAME: message" and the usage line to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, with the argument arg under the message and a caret under its byte `at`. */
int cli_usage_error_at(const struct cli_command *cmd, const char *arg, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

extern const struct cli_command cli_cmd_console;
extern const struct cli_command cli_cmd_config;
extern const struct cli_command cli_cmd_server;
extern const struct cli_command cli_cmd_submit;
extern const struct cli_command cli_cmd_sweep;
extern const struct cli_command cli_cmd_ls;
extern const struct cli_command cli_cmd_show;
extern const struct cli_command cli_cmd_cancel;
extern const struct cli_command cli_cmd_prio;
extern const struct cli_command cli_cmd_retry;
extern const struct cli_command cli_cmd_wait;
extern const struct cli_command cli_cmd_stats;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_tmux;
extern const struct cli_command cli_cmd_pause;
extern const struct cli_command cli_cmd_resume;
extern const struct cli_command cli_cmd_shutdown;
extern const struct cli_command cli_cmd_log;
extern const struct cli_command cli_cmd_result;
extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_version;

#endif
