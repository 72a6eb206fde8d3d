/*
 * dashboard-sweep — the data of the dashboard's sweep chart (doc/api.md, "The dashboard's
 * WebSocket", sweep): a result summary (final, mean, RMS, min or max of one signal) of a sweep's
 * tasks against one swept variable, from the summaries the store keeps with each result.
 *
 * A sweep is the tasks COMPLETED in the last `hours` (24 unless asked) that share a name, or a
 * tag, among which at least one numeric variable takes more than one value.  Asked without a
 * name or tag, it lists the sweeps; asked for one, it answers a point per task, x the swept
 * variable, y the summary, grouped into series by the values of the sweep's other swept
 * variables.  dashboard.c hands it a viewer's message; it reads the engine and changes nothing.
 * Read-only viewers may ask.  An answer reads the store on the loop, so answers are kept for a
 * second (every page asking the same costs one reading) and at most DASHBOARD_SWEEP_RATE new
 * ones are computed a second, for all viewers together.  Loop thread only.
 */
#ifndef SIMQ_SERVER_DASHBOARD_SWEEP_H
#define SIMQ_SERVER_DASHBOARD_SWEEP_H

#include <jansson.h>

#include "util/buf.h"

struct engine;

/* Points one answer carries at most; sweeps one listing names at most. */
#define DASHBOARD_SWEEP_POINTS 5000
#define DASHBOARD_SWEEP_LIST   50
/* New answers computed a second at most; more are told to ask again. */
#define DASHBOARD_SWEEP_RATE 5

struct dashboard_sweeps;

struct dashboard_sweeps *dashboard_sweeps_new(struct engine *e);
void dashboard_sweeps_free(struct dashboard_sweeps **s);

/* Answers msg's {"sweep": {...}, "ref"}: appends {"type":"sweep", "ref", "ok", ...} to out. */
void dashboard_sweep(struct dashboard_sweeps *s, const json_t *msg, struct buf *out);

#endif
