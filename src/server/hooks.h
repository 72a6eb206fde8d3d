/*
 * hooks — the [notify] sink: on_EVENT = COMMAND runs `/bin/sh -c COMMAND`
 * (posix_spawn) when the event happens.
 *
 * The task's data reaches the command only through its environment
 * (SIMQ_EVENT, SIMQ_TASK_ID, SIMQ_TASK_NAME, SIMQ_MODEL, SIMQ_PRIORITY,
 * SIMQ_STATE, SIMQ_ATTEMPT, SIMQ_ERROR, SIMQ_RESULT, SIMQ_BACKEND) and as one
 * JSON object on its stdin: never in the command text, so a task named
 * "$(rm -rf ~)" is only ever a string.  At most hook_max_running run at once
 * and the rest wait in order; each runs in a process group of its own that is
 * killed after hook_timeout; its output goes to the log.  A failing hook is
 * logged and never touches a task.  Loop thread only; the loop must be libev's
 * default loop (ev_child).
 */
#ifndef SIMQ_SERVER_HOOKS_H
#define SIMQ_SERVER_HOOKS_H

#include <ev.h>

struct config;
struct engine;
struct hooks;

/* Subscribes to the engine's bus; runs the commands on loop; NULL when [notify] sets no hook. */
struct hooks *hooks_new(struct ev_loop *loop, const struct config *cfg, struct engine *e);
/* Kills the hooks still running, forgets the waiting ones. */
void hooks_free(struct hooks **h);

#endif
