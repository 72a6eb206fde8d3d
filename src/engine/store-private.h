/*
 * store-private — what store.c shares with the store's other files (store-retain.c): the
 * database handle and the failure helpers.  Nothing outside src/engine/store*.c includes it.
 * Loop thread only, as struct store.
 */
#ifndef SIMQ_ENGINE_STORE_PRIVATE_H
#define SIMQ_ENGINE_STORE_PRIVATE_H

#include <sqlite3.h>

#include "engine/store.h"

/* A task's stored fields, in row_to_task's order: the same in tasks and archived_tasks. */
#define TASK_FIELDS                                                                                       \
	"id, model, name, tags, vars, solver, priority, state, attempts, failed_attempts, attempt_rows, " \
	"had_transient, cached, no_cache, timeout, origin, submitted, started, finished, retry_due, error"
/* The fields of a row of `table`, its newest retry copy (hot or archived) and whether it is archived. */
#define COLUMNS_OF(table, archived)                                                                       \
	TASK_FIELDS ", MAX(COALESCE((SELECT MAX(c.id) FROM tasks c WHERE c.origin = " table ".id), 0), "    \
		    "COALESCE((SELECT MAX(c.id) FROM archived_tasks c WHERE c.origin = " table ".id), 0)), " archived
#define TASK_COLUMNS COLUMNS_OF("tasks", "0")
#define ARCHIVED_COLUMNS COLUMNS_OF("archived_tasks", "1")

/* An attempt's stored fields: the same in attempts and archived_attempts. */
#define ATTEMPT_FIELDS "task_id, n, backend, batch_id, started, ended, outcome, error"

sqlite3 *store_db(struct store *s);
/* A task from a row of TASK_COLUMNS or ARCHIVED_COLUMNS (caller frees). */
struct task *store_row_task(sqlite3_stmt *st);
/* Turns an SQLite failure while `doing` into a status and a message for a person. */
enum store_status store_fail(struct store *s, int rc, const char *doing);
void store_set_error(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
