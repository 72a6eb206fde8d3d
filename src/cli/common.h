/*
 * common — what the API commands share: the options every one takes
 * (--home, -c, --no-start, --json), calling the server, mapping its faults
 * to exit statuses, and printing JSON.  client/reply.h reads the answers.
 * Main thread.
 */
#ifndef SIMQ_CLI_COMMON_H
#define SIMQ_CLI_COMMON_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <xmlrpc-c/base.h>

#include "cli/cli.h"
#include "cli/values.h"
#include "client/client.h"

struct cli_ctx {
	const struct cli_command *cmd;
	struct client_options client;
	bool json;
	struct client *conn;
};

/* A command's own option: returns -1 to go on, or an exit status to stop with. */
typedef int (*cli_option_fn)(struct cli_ctx *x, int opt, const char *arg, void *ud);

/*
 * Parses argv with the command's own options (x->cmd's shortopts and longopts) and the ones
 * every API command takes (cli_common_longopts): --home DIR (the state directory, as
 * $SIMQ_HOME), -c FILE, --no-start, --json, -h.  fn gets the command's own; an option neither
 * knows is a usage error.  Returns -1 with optind at the first operand, or an exit status (64
 * for a usage error, 0 after --help).
 */
int cli_parse_options(struct cli_ctx *x, int argc, char **argv, cli_option_fn fn, void *ud);
/*
 * Calls the server: CLI_EXIT_OK with *result, or prints the error and returns the exit status.
 * A fault is printed without the method's name it starts with.
 */
int cli_call(struct cli_ctx *x, const char *method, xmlrpc_value **result, const char *format, ...);
/*
 * cli_call() for a call that stores something under a request key (DESIGN 20; key is in
 * params): when the answer is lost or late it says so and sends the same call once more,
 * which the key makes safe; when that fails too it says that whether anything was stored is
 * not known, and how to finish without storing twice.
 */
int cli_call_keyed(struct cli_ctx *x, const char *method, const char *key, xmlrpc_value *params,
		   xmlrpc_value **result);
void cli_done(struct cli_ctx *x);
/* The config of -c FILE or the default one; NULL after printing its errors (exit 78). */
struct config *cli_load_config(const struct client_options *opt);

/* Parses a task id; false if it is not one. */
bool cli_parse_id(const char *text, int64_t *id);

/* "queued, running, ...": the names of a list (states or priorities), from the one table of them (heap). */
char *cli_names_of(const char *(*name)(int i), int n);
const char *cli_state_name(int i);
const char *cli_priority_name(int i);
/* A usage error for value of option that is none of names (a heap list, freed), more after it. */
int cli_not_one_of(struct cli_ctx *x, const char *option, const char *value, char *names, const char *more);

/*
 * A time of the server's (ISO 8601 UTC, "2026-11-30T11:20:03.123Z") as simq prints times: local,
 * ISO 8601 with the offset, to the second ("2026-11-30T12:20:03+01:00"), or with milliseconds;
 * "" for "" (not yet).  Returns out.
 */
#define CLI_TIME_MAX 40
const char *cli_time(char out[CLI_TIME_MAX], const char *iso, bool ms);

/* Prints v as JSON, indented, on stdout. */
int cli_print_json(xmlrpc_value *v);
/* A result's summary (simq.result's or simq.get's result member) as a table: each signal's min, max,
 * mean, rms and final value ("-" where an older result has none); simq result and simq show. */
void cli_print_summary(xmlrpc_value *r);
/* Columns of the terminal, or 0 for "do not cut" when stdout is not one. */
int cli_width(void);

#endif
