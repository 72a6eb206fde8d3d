/*
 * dashboard — the web dashboard (DESIGN 21): one page and a WebSocket on
 * [dashboard] listen/port, served by libwebsockets driven by the server's own
 * libev loop (a foreign loop: no thread of its own).
 *
 * GET serves the page's files from share/dashboard and Chart.js from
 * Debian's libjs-chart.js under a strict Content-Security-Policy; nothing
 * else.  /ws takes viewers (up to max_viewers) whose Origin is the page's
 * own host:port.  Every connection has deadlines and a bound until it is a
 * viewer (dashboard-conn.c).  A viewer's first message (within 5 s) may carry
 * the token and its last sequence number; it gets a snapshot, or the updates
 * it missed, then every update as the engine changes, coalesced to at most
 * five a second (dashboard-view.c builds them once for all viewers).  A
 * viewer that does not read has at most max_buffer bytes queued; past that
 * its updates are dropped and it gets a fresh snapshot once it reads again,
 * so it never holds up the loop or the others.  With the token a viewer may
 * act (dashboard-act.c).  The protocol is in doc/api.md.  Created and freed
 * by server.c; loop thread only.
 */
#ifndef SIMQ_SERVER_DASHBOARD_H
#define SIMQ_SERVER_DASHBOARD_H

#include <ev.h>
#include <stddef.h>

struct engine;
struct dashboard;

struct dashboard_options {
	const char *listen;        /* an address, e.g. 127.0.0.1 */
	const char *allowed_hosts; /* other names a page may reach it by, comma-separated (dashboard-host.h) */
	const char *allowed_origins; /* https:// origins of a TLS proxy in front of it, comma-separated */
	int port;
	int max_viewers;
	size_t max_buffer;       /* bytes queued for one viewer before it is dropped to a snapshot */
	const char *token;       /* what {"auth": TOKEN} must carry */
	double refusal_interval; /* seconds between two log lines about refused viewers */
};

/* Listens and serves; NULL and *err (heap) when it cannot. */
struct dashboard *dashboard_new(struct ev_loop *loop, struct engine *e, const struct dashboard_options *o, char **err);
/* Closes every viewer and the listener; clears the pointer.  Before the engine closes. */
void dashboard_free(struct dashboard **d);

#endif
