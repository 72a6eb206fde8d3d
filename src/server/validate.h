/*
 * validate — API input checked before anything is stored.
 *
 * validate_task() turns the struct a client sends into a QUEUED struct task,
 * or fills a struct validate_error: the field, the value given (shown as
 * proto_shown() shows it: escaped, at most 80 characters) and the rule it
 * broke.  The API words it with validate_error_text(); simq submit and simq
 * sweep run the same check before they send, and word it in their own
 * options.  Each field is one row of a table {name, reader}: the reader
 * checks the XML-RPC value and stores it in the task (vars and solver as
 * canonical JSON), so every field is read once, in one representation.
 * Called on the server's loop thread or a CLI's main thread; reads the model
 * file's metadata and its first byte only.
 */
#ifndef SIMQ_SERVER_VALIDATE_H
#define SIMQ_SERVER_VALIDATE_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

#include "engine/task.h"

/* Remembers the last model file checked, so a batch of one model checks it once. */
struct validate_cache {
	char *path;      /* as given */
	char *absolute;  /* as checked and resolved */
};

/* What is wrong with a task, for the person who must fix it. */
struct validate_error {
	const char *field; /* the task's field ("model", "vars", ...), or NULL for the task as a whole */
	char *key;         /* vars and solver: the member, shown; NULL otherwise */
	char *value;       /* the value given, shown (strings in quotes); NULL when there is none */
	char *rule;        /* what is wrong and what is allowed */
};

/* *out is a new task (caller frees), or NULL with *err filled (free with validate_error_clear).
 * cache may be NULL. */
bool validate_task(xmlrpc_value *v, struct validate_cache *cache, struct task **out, struct validate_error *err);
void validate_error_clear(struct validate_error *err);
/* The API's wording, prefixed with where (e.g. "task 3: "): `vars.D nan: NaN is not ...` (heap). */
char *validate_error_text(const struct validate_error *err, const char *where);
void validate_cache_free(struct validate_cache *cache);
/* A priority given as a name in any case or an integer (int or i8) 0-3; *err (heap) names the value. */
bool validate_priority(xmlrpc_value *v, enum task_priority *out, char **err);
/* True if name is an identifier: a letter or _, then letters, digits or _, at most 63. */
bool validate_identifier(const char *name);
/*
 * The rule text of a name or tag breaks (heap), or NULL when it keeps them: valid UTF-8, at
 * most max bytes, no control characters (C0, DEL, C1) and no bidirectional formatting.
 */
char *validate_text_rule(const char *s, size_t max);

/* The options struct of simq.cancel and simq.reprioritize ({states}) and simq.retry ({each}). */
enum { VALIDATE_ACT_STATES = 1, VALIDATE_ACT_EACH = 2 };
struct validate_act_options {
	bool has_states;
	unsigned states; /* 1 << state for each state named */
	bool each;
};
/* Reads v (NULL: none given) taking the members named by takes; false with *err (heap). */
bool validate_act_options(xmlrpc_value *v, unsigned takes, struct validate_act_options *o, char **err);

/* The rule a SolverOpts name breaks (heap: "not a solver option; allowed: StartTime, ..."), or NULL. */
char *validate_solver_key_rule(const char *key);

/* The rule a model's resolved path breaks (heap), or NULL: characters XML-RPC cannot carry, control and
 * bidirectional formatting characters (tab, line breaks, C1 and U+202E included). */
char *validate_path_rule(const char *path);

#endif
