/*
 * match — how a selector's text matches a task's model or name (simq ls, cancel, prio, retry,
 * clean, the API's filters, the console's filter): one rule, in C for the server and the console
 * and, through the store, in SQL for simq clean.  Pure functions.
 */
#ifndef SIMQ_UTIL_MATCH_H
#define SIMQ_UTIL_MATCH_H

#include <stdbool.h>

/* Whether want has a shell pattern's characters (* ? [). */
bool match_is_pattern(const char *want);
/*
 * A model path against a --model value: the whole path, its file name (buck.plecs), its model
 * name (buck) or its last directories and file name (sweeps/buck.plecs); or, holding * ? or [, a
 * shell pattern of the path or of its file name.  Never any part of the path: "op" does not take
 * every model under /home/op.
 */
bool match_model(const char *path, const char *want);
/* A name against a --name value: any part of it, or, holding * ? or [, a shell pattern of it. */
bool match_text(const char *text, const char *want);

#endif
