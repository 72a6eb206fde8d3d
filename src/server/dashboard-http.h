/*
 * dashboard-http — the web dashboard's HTTP side: which requests it answers, and how.
 *
 * Every request must name the dashboard in its Host (dashboard-host.h); a GET of one of the page's
 * files (dashboard-files.h) is sent, any other path is 404, any other method 405.  Refusals are
 * noted (refusals.h), and each connection's stage is told to dashboard-conn.h: answering while a
 * file is sent, waiting again for a kept-alive connection's next request.  dashboard.c hands each
 * libwebsockets HTTP callback here.  Loop thread.
 */
#ifndef SIMQ_SERVER_DASHBOARD_HTTP_H
#define SIMQ_SERVER_DASHBOARD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct lws;
struct lws_filter_network_conn_args;
struct dashboard_conns;
struct dashboard_hosts;
struct refusals;

/* What answering needs: dashboard.c's own, borrowed. */
struct dashboard_http {
	const char *dir; /* the page's files */
	struct dashboard_hosts *hosts;
	struct refusals *refusals;
	struct dashboard_conns *conns;
};

/* 0 when the request names the dashboard as its Host, else the HTTP status for it (400: two Hosts;
 * 403); host gets the Host (size bytes at most); a refusal is noted. */
unsigned dashboard_http_host_status(const struct dashboard_http *h, struct lws *wsi, char *host, size_t size);
/* Whether one more socket is taken (a, the accept's, names the peer for the log when it is not). */
bool dashboard_http_room(const struct dashboard_http *h, const struct lws_filter_network_conn_args *a);
/* A whole request for url (LWS_CALLBACK_HTTP): answered; 0, or -1 to close the connection. */
int dashboard_http_request(const struct dashboard_http *h, struct lws *wsi, const char *url);
/* A response is sent (a file, LWS_CALLBACK_HTTP_FILE_COMPLETION): 0, or -1 to close. */
int dashboard_http_completed(const struct dashboard_http *h, struct lws *wsi);

#endif
