/*
 * validate — API input checked before anything is stored.
 *
 * validate_task() turns the struct a client sends into a QUEUED struct task,
 * or returns a message that names the field and says what is allowed.  Each
 * field is one row of a table {name, reader}: the reader checks the XML-RPC
 * value and stores it in the task (vars and solver as canonical JSON), so
 * every field is read once, in one representation.  Called on the loop
 * thread; reads the model file's metadata (stat) only.
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

/* where prefixes messages, e.g. "task 3: "; *out is a new task (caller frees).  cache may be NULL. */
bool validate_task(xmlrpc_value *v, const char *where, struct validate_cache *cache, struct task **out, char **err);
void validate_cache_free(struct validate_cache *cache);
/* A priority given as a name in any case or an integer (int or i8) 0-3. */
bool validate_priority(xmlrpc_value *v, enum task_priority *out, char **err);
/* True if name is an identifier: a letter or _, then letters, digits or _, at most 63. */
bool validate_identifier(const char *name);

#endif
