/*
 * summary — the one short line of a server's state: what `simq status`
 * prints for a tmux status line and what the console names its pane with,
 * e.g. "simq 1,842▸ 3⚙ 2✗ · lab2 DOWN · paused".
 *
 * summary_read() takes simq.status's answer (or simq.view's "status"
 * member, the same struct); summary_format() expands a format of named
 * fields over it.  A format is text with {field} (the field's value) and
 * {field?TEXT} (TEXT, which may hold fields, only when the field is set: not
 * empty and not 0); #[...] is a tmux style, kept with SUMMARY_TMUX and dropped
 * without it.  Pure functions; any thread.
 */
#ifndef SIMQ_CLIENT_SUMMARY_H
#define SIMQ_CLIENT_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

/* The fields of a format, with the line simq help status shows for each. */
#define SUMMARY_FIELDS(X)                                                                                              \
	X(queued, "tasks waiting in the queue")                                                                        \
	X(running, "tasks in a PLECS call")                                                                            \
	X(failed, "tasks that FAILED in the last 24 h")                                                               \
	X(new, "failures the operator has not seen yet (see --seen)")                                                  \
	X(done, "tasks completed in the last 24 h")                                                                    \
	X(down, "the backends that are DOWN, by name, comma-separated")                                               \
	X(held, "the backends paused by simq pause BACKEND, by name, comma-separated")                                \
	X(pools, "the [pool]s that are FAILING (jobs end before they register) or UNLISTED (squeue fails)")            \
	X(pending, "the pools' jobs pending in Slurm, with why: \"2 jobs pending (Licenses)\"")                          \
	X(paused, "\"paused\" while dispatch is paused")                                                                  \
	X(why, "what stopped dispatch when simq paused it itself: \"cannot keep results\" (empty when you paused it)")

/* What is shown in the status line when no format is given (--ascii writes > * x - for the symbols). */
#define SUMMARY_DEFAULT_FORMAT                                                                                         \
	"simq {queued}▸ {running}⚙ {new?#[fg=red]}{failed}✗{new?#[default]}"                                     \
	"{down? · #[fg=red]{down} DOWN#[default]}{held? · {held} paused}"                                          \
	"{pools? · #[fg=red]{pools}#[default]}{pending? · {pending}}"                                               \
	"{paused? · paused}{why?: #[fg=red]{why}#[default]}"

struct summary {
	int64_t queued, running, failed, unseen, done;
	char down[512];    /* names of the backends DOWN, comma-separated; "" when none */
	char held[256];    /* names of the backends paused by the operator, comma-separated; "" when none */
	char pools[256];   /* "cluster FAILING", comma-separated; "" when every pool is well */
	char pending[128]; /* "2 jobs pending (Licenses)"; "" when none */
	bool paused;
	char why[96]; /* the head of simq's own pause reason, to its first ':' ("cannot keep results"); "" for yours */
};

enum summary_flags {
	SUMMARY_TMUX = 1 << 0,  /* keep #[...] styles; a # in a value is written ## */
	SUMMARY_ASCII = 1 << 1, /* ASCII only: the symbols as > * x -, anything else outside ASCII as ? */
};

/* Reads simq.status's answer (a missing member reads as 0 or empty). */
void summary_read(xmlrpc_value *status, struct summary *s);
/*
 * fmt (NULL: SUMMARY_DEFAULT_FORMAT) expanded over s: a heap string, never with a control
 * character; NULL and *err (heap, naming the place and what is allowed) for a bad format.
 */
char *summary_format(const struct summary *s, const char *fmt, unsigned flags, char **err);
/* Whether the locale's character set is UTF-8 (after setlocale). */
bool summary_locale_utf8(void);

#endif
