/*
 * dashboard-view — what the web dashboard shows, as JSON text (doc/api.md,
 * "The dashboard's WebSocket").
 *
 * The state is cut into sections (queue, running, backends, stats,
 * throughput, failures), each rebuilt from the engine's readers and the
 * scheduler's iterators and kept as the text last sent.  An update names
 * only the sections whose text changed since the previous update, and the
 * log lines after it; a snapshot is every section as of the last update with
 * the last log lines up to it, so a viewer that takes a snapshot and then
 * every later update misses nothing and sees nothing twice but log lines
 * (which carry their own sequence numbers).  Backends' UP/DOWN history comes
 * from the event bus, to which the view subscribes.  Changes nothing in the
 * engine.  Loop thread only.
 */
#ifndef SIMQ_SERVER_DASHBOARD_VIEW_H
#define SIMQ_SERVER_DASHBOARD_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

struct engine;
struct dashboard_view;

/*
 * Rows of each priority the queue section lists; failures it lists; tasks waiting to retry it lists; log lines a snapshot carries,
 * and an update at most (the latest; it says how many before them it skipped: at five updates a
 * second that is 500 lines a second, more than anyone reads in a browser, and a night's bursts of
 * thousands of lines a second would otherwise cost every viewer's bandwidth and the loop).
 */
#define DASHBOARD_QUEUE_ROWS 10
#define DASHBOARD_FAILURES   20
#define DASHBOARD_RETRY_ROWS 50
#define DASHBOARD_LOG_LINES  200
#define DASHBOARD_LOG_UPDATE 100

struct dashboard_view *dashboard_view_new(struct engine *e);
void dashboard_view_free(struct dashboard_view **v);
/*
 * Rebuilds every section and appends to out {"type":"update", "server", "seq", "time", the sections
 * that changed, "log": the lines since the last update (the last DASHBOARD_LOG_UPDATE of them, with
 * "log_skipped": how many were left out before them)}; false (out untouched) when nothing changed.
 */
bool dashboard_view_update(struct dashboard_view *v, uint64_t seq, struct buf *out);
/* Appends {"type":"snapshot", "server", "seq", "time", every section, "log"} as of the last update. */
void dashboard_view_snapshot(const struct dashboard_view *v, uint64_t seq, struct buf *out);
/* The engine's version when the last update was built. */
uint64_t dashboard_view_version(const struct dashboard_view *v);
/* "1764482405123-4242": the server's start id, as simq.view gives it. */
const char *dashboard_view_server(const struct dashboard_view *v);

#endif
