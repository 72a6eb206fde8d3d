/*
 * select — the tasks cancel, prio and retry act on, named as an operator names them.
 *
 * Operands name ids: 45, a range 45-60 (both ends included), a list 3,7,45-60, or several of
 * them (3 7 45-60).  Options filter: --state S, --model M (any part of the model path, or a
 * shell pattern of the path or its file name), --name N (any part, or a shell pattern: sweep-*).
 * Ids and filters together select the ids that pass every filter; filters alone, every task
 * that does.  select_resolve() asks the server, in pages and chunks, never once per id:
 * simq.list for the filters, simq.wait with no wait for the states of ids named alone when they
 * are needed (an unknown id is the server's fault 2, before anything is done).  A filter given
 * twice matches either value (--state queued --state running: both).  More than
 * SELECT_CONFIRM_OVER tasks need --yes, or a yes on the terminal.
 *
 * Order: select_option() for each option, select_operand() for each operand, select_resolve(),
 * select_confirm(), then act on sel->tasks in chunks of SELECT_CHUNK, select_free().  Main thread.
 * Ids are decimal digits only (no sign, no spaces): 45, 45-60; ranges past the last id act on
 * the ids that exist and say how many did not (select_missing).
 */
#ifndef SIMQ_CLI_SELECT_H
#define SIMQ_CLI_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/common.h"

/* A selection larger than this asks first (or needs --yes). */
#define SELECT_CONFIRM_OVER 100
/* Ids per call that acts on them, and tasks per page of simq.list. */
#define SELECT_CHUNK 1000
/* At most this many ids may be named by ranges. */
#define SELECT_MAX_IDS 1000000

/* The options select_option() takes, for a command's longopts (ending in {NULL}). */
enum { SELECT_OPT_STATE = 0x500, SELECT_OPT_MODEL, SELECT_OPT_NAME, SELECT_OPT_YES, SELECT_OPT_DRY_RUN, SELECT_OPT_ALL,
       SELECT_OPT_VERBOSE = 'v' };
#define SELECT_LONGOPTS                                                                                                \
	{"state", required_argument, NULL, SELECT_OPT_STATE}, {"model", required_argument, NULL, SELECT_OPT_MODEL},     \
	    {"name", required_argument, NULL, SELECT_OPT_NAME}, {"yes", no_argument, NULL, SELECT_OPT_YES},             \
	    {"dry-run", no_argument, NULL, SELECT_OPT_DRY_RUN}, {"verbose", no_argument, NULL, SELECT_OPT_VERBOSE},     \
	    {"all", no_argument, NULL, SELECT_OPT_ALL}

struct select_task {
	int64_t id;
	char state[16];
	int64_t retried_as; /* its retry copy, when the server's list said (0: none, or not read) */
};

/* Filters given more than once: a task passes one kind when it matches any of its values. */
#define SELECT_MAX_VALUES 16

struct selection {
	/* what was named */
	int64_t *named; /* ids named by operands, ascending, each once */
	size_t nnamed;
	int64_t *singles; /* the ids named alone, not by a range: they must exist */
	size_t nsingles;
	bool ranged;      /* a range was named: it may reach past the last id */
	unsigned states;                   /* --state: 1 << state for each one given; 0: none */
	const char *models[SELECT_MAX_VALUES], *names[SELECT_MAX_VALUES]; /* --model, --name */
	size_t nmodels, nnames;
	bool unretried; /* filters pass over tasks retried before (retry: their copies are what to retry) */
	bool yes, dry_run, verbose;
	bool all; /* --all: the filters take archived tasks too (else they are counted and named in a hint) */
	/* what it resolved to: ascending ids, each with its state when it was read */
	struct select_task *tasks;
	size_t n;
};

/* Whether a filter (--state, --model, --name) was given. */
bool select_filtered(const struct selection *sel);
/* The filters as given, " --state queued --name 'sweep-*'" (heap). */
char *select_filters_text(const struct selection *sel);
/* A selection option (opt one of SELECT_OPT_*): -1 to go on, or a usage error's exit status. */
int select_option(struct cli_ctx *x, struct selection *sel, int opt, const char *arg);
/* One operand: ids, ranges, comma lists; -1 to go on, or a usage error's exit status. */
int select_operand(struct cli_ctx *x, struct selection *sel, const char *arg);
/* Whether anything was named: an id or a filter. */
bool select_named(const struct selection *sel);
/*
 * Asks the server which tasks the selection holds: CLI_EXIT_OK with sel->tasks, or the exit
 * status after saying why (1: nothing matched; 65: an id named is unknown; 69, 70).  Ids named
 * alone that one call takes are not read first (their states are "") unless need_states: that
 * call acts on all of them or, for an unknown id, on none.  More are read first, so that an
 * unknown id stops the command before any chunk is acted on.
 */
int select_resolve(struct cli_ctx *x, struct selection *sel, bool need_states);
/*
 * Over SELECT_CONFIRM_OVER tasks that can be acted on (n_act of them) without --yes, asks on a
 * terminal, "Cancel 150 tasks (45-194)? 3 completed ones stay as they are. [y/N]" (verb
 * "Cancel", after "": only y or yes, in any case, is a yes; anything else is exit 1), or else
 * refuses (64).  -1: go on and act.
 */
int select_confirm(struct cli_ctx *x, const struct selection *sel, size_t n_act, const char *verb, const char *after,
		   const char *stay);
/*
 * The confirmation select_confirm() asks, for any command: over SELECT_CONFIRM_OVER (n_act) and
 * without yes, asks `question` and [y/N] on a terminal (-1 on a yes, else exit 1), or elsewhere
 * refuses with "WHAT acting on more than 100 needs --yes ..." (64; WHAT ends in its own ";").  -1: go on and act.
 */
int select_ask(struct cli_ctx *x, bool yes, size_t n_act, const char *question, const char *what);
/* The ids of tasks[0..n) as "3, 7, 45-60", cut with ", ..." after about width bytes; heap. */
char *select_ids_text(const struct select_task *tasks, size_t n, size_t width);
/* An array of the ids of sel->tasks[from..to) for a call (caller decrefs). */
xmlrpc_value *select_chunk(const struct selection *sel, size_t from, size_t to);
void select_free(struct selection *sel);

#endif
