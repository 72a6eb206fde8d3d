/*
 * store-private — the SQL text store.c shares with the store's other file (store-retain.c): the
 * columns of a task row, hot or archived, and of an attempt.  (The functions they share are
 * declared at the end of engine/store.h.)  Nothing outside src/engine/store*.c includes it.
 */
#ifndef SIMQ_ENGINE_STORE_PRIVATE_H
#define SIMQ_ENGINE_STORE_PRIVATE_H

/* A task's stored fields, in row_to_task's order: the same in tasks and archived_tasks. */
#define TASK_FIELDS                                                                                       \
	"id, model, name, tags, vars, solver, priority, state, attempts, failed_attempts, attempt_rows, " \
	"had_transient, cached, no_cache, timeout, origin, submitted, started, finished, retry_due, error"
/*
 * The fields of a row of `table`, its newest retry copy (hot or archived), whether it is archived,
 * and for a cached task the task whose result it reused.
 */
#define COLUMNS_OF(table, archived)                                                                       \
	TASK_FIELDS ", MAX(COALESCE((SELECT MAX(c.id) FROM tasks c WHERE c.origin = " table ".id), 0), "    \
		    "COALESCE((SELECT MAX(c.id) FROM archived_tasks c WHERE c.origin = " table ".id), 0)), " archived \
		    ", CASE WHEN " table ".cached THEN (SELECT r.source FROM results r WHERE r.task_id = " table ".id) END"
#define TASK_COLUMNS COLUMNS_OF("tasks", "0")
#define ARCHIVED_COLUMNS COLUMNS_OF("archived_tasks", "1")

/* An attempt's stored fields: the same in attempts and archived_attempts. */
#define ATTEMPT_FIELDS "task_id, n, backend, batch_id, started, ended, outcome, error"

#endif
