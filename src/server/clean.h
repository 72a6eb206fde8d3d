/*
 * clean — simq.clean (DESIGN 7): deletes finished tasks by hand, hot or archived, with their
 * attempts and the result files no other task names, and says what it freed.
 *
 * simq.clean({older_than, state, model, dry_run}) reads its one struct (every member optional:
 * older_than in seconds since a task finished, state a final state or an array of them, model a
 * part of the model path or a shell pattern, dry_run to count without deleting), makes one
 * engine_clean() call and answers {dry_run, tasks, completed, failed, cancelled, files, bytes}.
 * Queued and running tasks are never taken: a state filter naming one is refused.  api.c hands
 * the answer back.  Loop thread.
 */
#ifndef SIMQ_SERVER_CLEAN_H
#define SIMQ_SERVER_CLEAN_H

#include <xmlrpc-c/base.h>

#include "engine/engine.h"
#include "server/submit.h"

/* params: ([filter]); out gets the answer (result, or fault and fault_code) as simq.submit's does. */
void clean_call(struct engine *e, xmlrpc_value *params, struct submit_answer *out);

#endif
