/*
 * cli — the command table's types and simq's exit statuses.
 *
 * Each command lives in src/cli/cmd-*.c and exports one const struct
 * cli_command; src/simq.c gathers them in its table and dispatches to run()
 * with argv[0] being the command's name.  A command's options are in its
 * descriptor, which its parser reads, and so do simq's dispatch (options
 * before the command) and the shell completions generated at build time
 * (simq --complete-table).  cli.c holds what every command uses to refuse a
 * command line.  Runs on the main thread.
 */
#ifndef SIMQ_CLI_CLI_H
#define SIMQ_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses (sysexits-style), with the text simq --help shows. */
#define CLI_EXITS(X)                                                                                                   \
	X(OK, 0, "success")                                                                                            \
	X(TASK_FAILED, 1, "a task failed, was cancelled or refused an action; nothing matched")                        \
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

/* What a command's operands are, with the name simq --complete-table gives each kind. */
#define CLI_OPERANDS(X)                                                                                                \
	X(NONE, "none")               /* no operands */                                                              \
	X(TASK, "task")               /* one task id */                                                              \
	X(TASKS, "tasks")             /* task ids */                                                                 \
	X(SELECTION, "selection")     /* ids, ranges and lists of them (src/cli/select.h) */                         \
	X(SELECTION_LEVEL, "selection-level") /* the same, then a priority */                                        \
	X(MODEL, "model")             /* a model file */                                                             \
	X(SWEEP, "sweep")             /* a model file, then NAME=... axes */                                         \
	X(BACKEND, "backend")         /* an optional backend name */                                                 \
	X(COMMAND, "command")         /* an optional command name */                                                \
	X(WHY_TASK, "why-task")       /* the word why, then one task id */

enum cli_operands {
#define X(id, name) CLI_OPERANDS_##id,
	CLI_OPERANDS(X)
#undef X
};

struct cli_command {
	const char *name;
	const char *usage;   /* one line: "simq config --defaults | --check [-c FILE] | --man" */
	const char *summary; /* one line for simq --help */
	const char *help;    /* paragraphs for simq help NAME; may be NULL */
	int (*run)(int argc, char **argv);
	/* Its own options, as getopt_long takes them: */
	const char *shortopts;         /* "p:v:"; NULL: none */
	const struct option *longopts; /* ending in {NULL}; NULL: none */
	bool common;                   /* it also takes cli_common_longopts (cli_parse_options parses it) */
	enum cli_operands operands;
};

/*
 * The options every command that talks to the server takes (those with .common), shorts
 * CLI_COMMON_SHORTOPTS: --home DIR, -c/--config FILE, --no-start, --json, -h/--help.
 */
enum { CLI_OPT_HOME = 0x100, CLI_OPT_NO_START, CLI_OPT_JSON };
#define CLI_COMMON_SHORTOPTS "c:h"
extern const struct option cli_common_longopts[];

/* The entry of cli_common_longopts that arg ("--json", "--config=F", "-c", "-cFILE") names, or NULL. */
const struct option *cli_common_option(const char *arg);
/* Whether cmd takes that common option o, as one of the common ones or as its own. */
bool cli_takes_option(const struct cli_command *cmd, const struct option *o);

/* Prints "simq NAME: message" and the usage line to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error for an option cmd does not take: arg, or getopt's optopt when it names one. */
int cli_unknown_option(const struct cli_command *cmd, const char *arg);
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
extern const struct cli_command cli_cmd_cache;
extern const struct cli_command cli_cmd_cancel;
extern const struct cli_command cli_cmd_clean;
extern const struct cli_command cli_cmd_prio;
extern const struct cli_command cli_cmd_retry;
extern const struct cli_command cli_cmd_wait;
extern const struct cli_command cli_cmd_stats;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_tmux;
extern const struct cli_command cli_cmd_pause;
extern const struct cli_command cli_cmd_resume;
extern const struct cli_command cli_cmd_backend;
extern const struct cli_command cli_cmd_shutdown;
extern const struct cli_command cli_cmd_log;
extern const struct cli_command cli_cmd_result;
extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_version;

#endif
