/*
 * dashboard-act — the actions a dashboard viewer with the token may take:
 * cancel, reprioritize, retry, pause and resume, through the same engine
 * operations as the API (engine.h), each answered per id with what the
 * engine did, and select, the ids of the queued tasks of a priority or a
 * name, for a page to act on all of them (doc/api.md, "The dashboard's WebSocket").  dashboard.c checks
 * the token and hands a parsed message here; this module decodes it, makes
 * one engine call and encodes the reply.  Loop thread only.
 */
#ifndef SIMQ_SERVER_DASHBOARD_ACT_H
#define SIMQ_SERVER_DASHBOARD_ACT_H

#include <jansson.h>
#include <stdbool.h>

#include "util/buf.h"

struct engine;

/* The most task ids one action may name. */
#define DASHBOARD_ACT_MAX_IDS 10000

/*
 * Runs the action msg names ({"action", "ref", "ids", "priority", "backend", "sweep"}) when the viewer is
 * authorized, and appends {"type":"reply", "ref", "action", "ok", and "results" or "error"} to out.
 */
void dashboard_act(struct engine *e, const json_t *msg, bool authorized, struct buf *out);
/* The actions' names, "cancel, reprioritize, ...", for messages that list what is allowed. */
const char *dashboard_act_names(void);

#endif
