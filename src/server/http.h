/*
 * http — the API's listeners: Abyss serves XML-RPC at /RPC2 on the Unix
 * socket (and on TCP behind the token, when configured), and GET /metrics.
 *
 * An Abyss thread never touches engine state: it queues the call for the
 * loop thread, wakes the loop with ev_async, and waits until the loop
 * (api_run) hands the answer back.  Started and stopped by the server on
 * the loop thread.
 */
#ifndef SIMQ_SERVER_HTTP_H
#define SIMQ_SERVER_HTTP_H

#include <ev.h>

struct api;
struct http;

struct http_listen {
	int unix_fd;                 /* the bound Unix socket */
	const char *unix_path;       /* its path, to hang up its clients at stop */
	int tcp_fd;                  /* -1: none */
	const char *token;           /* with tcp_fd */
	int metrics_fd;              /* -1: none */
};

/* Starts the listeners; NULL and *err on failure. */
struct http *http_start(struct ev_loop *loop, struct api *api, const struct http_listen *l, char **err);
/* Stops accepting, ends idle connections and answers every waiting call with a shutdown fault. */
void http_stop(struct http *h);
/* Waits for the listener threads to end and frees h (after the store is closed); clears the pointer. */
void http_free(struct http **h);

#endif
