/*
 * dashboard-conn — every connection to the web dashboard, from accept until it is a viewer.
 *
 * A connection that is not yet a viewer (a request on its way, a file being sent, a kept-alive
 * connection waiting for its next request, a WebSocket that has not sent its first message) is
 * *pending*: it has a deadline for its stage, and at most max_pending are pending at once.  A new
 * connection past that makes another leave: the oldest still waiting for its first request that
 * has sent nothing, or, if older, a kept-alive one or a WebSocket silent for a second; else the
 * oldest WebSocket before its first message; else a file stalled for 10 s; else the new one goes.
 * So whoever holds connections open or opens them by the thousand cannot lock a page out (it
 * sends its request and its first message at once), and a file being sent is not cut short.  The
 * ones made to leave are closed on the next loop pass, or at once when the sockets are at their
 * cap (libwebsockets accepts a burst at once).  A viewer (it said hello) has no deadline; viewers
 * are bounded by dashboard.c (max_viewers).  In all, the dashboard holds at most
 * dashboard_conns_cap() sockets: the server's other descriptors (the API, the store, PLECS calls)
 * are never its to take.  dashboard.c tells each stage as libwebsockets reports it; a deadline
 * closes the connection (a WebSocket through the expire callback, with a close frame, then for
 * good 2 s later).  Loop thread only.
 */
#ifndef SIMQ_SERVER_DASHBOARD_CONN_H
#define SIMQ_SERVER_DASHBOARD_CONN_H

#include <ev.h>
#include <stdbool.h>

struct lws;
struct dashboard_conns;

/* The deadlines, in seconds (doc/api.md "Connections"). */
#define DASHBOARD_REQUEST_S  10 /* from accept (or the end of the last response) to a whole request */
#define DASHBOARD_RESPONSE_S 60 /* to send one of the page's files */
#define DASHBOARD_HELLO_S    5  /* from the upgrade to the WebSocket's first message */

/* Called when a WebSocket's deadline passes: close it with a reason (it is killed 2 s later anyway). */
typedef void dashboard_conn_expire_fn(struct lws *wsi, void *ud);

/*
 * max_viewers: [dashboard] max_viewers.  Viewers, and connections not yet viewers, are each at
 * most max_viewers and a quarter of the files the server may open (RLIMIT_NOFILE), and sockets in
 * all at most three times that and half of those files (more are refused at accept).
 */
struct dashboard_conns *dashboard_conns_new(struct ev_loop *loop, int max_viewers, dashboard_conn_expire_fn *expire,
                                            void *ud);
/* max_viewers as the descriptors allow it (dashboard.c keeps viewers to it). */
int dashboard_conns_max_viewers(const struct dashboard_conns *c);
/* Whether listen:port can be bound, as libwebsockets binds it; else *err in errno's words. */
bool dashboard_conns_port_free(const char *listen, int port, char **err);
/* Frees the records (after libwebsockets closed every connection); clears the pointer. */
void dashboard_conns_free(struct dashboard_conns **c);

/* Whether one more socket may be accepted (false: at the cap; it is closed at once).  Those already
 * chosen to make room are closed first (before the new socket exists, outside any of theirs). */
bool dashboard_conns_room(struct dashboard_conns *c);
/* A new connection: pending, DASHBOARD_REQUEST_S to bring its request; another goes if full (above). */
void dashboard_conns_opened(struct dashboard_conns *c, struct lws *wsi);
/* Its request is whole and is being answered: DASHBOARD_RESPONSE_S. */
void dashboard_conns_answering(struct dashboard_conns *c, struct lws *wsi);
/* Its response is sent and it is kept alive: DASHBOARD_REQUEST_S for the next request. */
void dashboard_conns_idle(struct dashboard_conns *c, struct lws *wsi);
/* It is a WebSocket now: DASHBOARD_HELLO_S for its first message. */
void dashboard_conns_upgraded(struct dashboard_conns *c, struct lws *wsi);
/* It sent its first message: a viewer, no longer pending, no deadline. */
void dashboard_conns_viewer(struct dashboard_conns *c, struct lws *wsi);
/* It is told to close (a close frame is on its way): killed 2 s later if it has not gone by then. */
void dashboard_conns_closing(struct dashboard_conns *c, struct lws *wsi);
/* libwebsockets frees it (LWS_CALLBACK_WSI_DESTROY). */
void dashboard_conns_closed(struct dashboard_conns *c, struct lws *wsi);
/* Sockets held now, and of them pending. */
int dashboard_conns_count(const struct dashboard_conns *c);
int dashboard_conns_pending(const struct dashboard_conns *c);

#endif
