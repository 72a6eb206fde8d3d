/*
 * webhooks — the [webhook NAME] sinks: events POSTed as JSON (format = json)
 * or as a Slack message (format = slack: a readable text line plus fields),
 * through libcurl's multi interface driven by the server's libev loop: no
 * thread per request, and a slow receiver never holds up the scheduler.
 *
 * A POST that meets a connection error or a 5xx is tried again after 1, 2, 4
 * and 8 s, then given up and logged.  Past max_per_minute, events are held and
 * sent as one summary once the burst has been quiet for 10 s or the minute is
 * over.  The digest (the night's figures, failures with their last errors,
 * backends' downtime) goes out when the queue drains (digest_on_drain) and/or
 * at digest = HH:MM local time.  Loop thread only.
 */
#ifndef SIMQ_SERVER_WEBHOOKS_H
#define SIMQ_SERVER_WEBHOOKS_H

#include <ev.h>

struct config;
struct engine;
struct webhooks;

/* Subscribes to the engine's bus and posts from loop; NULL when no [webhook NAME] section exists. */
struct webhooks *webhooks_new(struct ev_loop *loop, const struct config *cfg, struct engine *e);
/* Abandons what is still being sent. */
void webhooks_free(struct webhooks **w);

#endif
