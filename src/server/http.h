/*
 * http — the API's listeners: XML-RPC at /RPC2 on the Unix socket (and on
 * TCP behind the token, when configured), and GET /metrics.
 *
 * Each listener's connections come through conns (a thread each, caps on
 * connections and on those without their request or token yet); Abyss
 * serves one request per connection on that thread, and request.c its
 * body: it reaches xmlrpc-c only after xmlscan passed it whole (doc/api.md,
 * "Limits").  A
 * connection thread never touches engine state: it queues the call for the
 * loop thread, wakes the loop with ev_async, and waits until the loop
 * (api_run) hands the answer back, looking meanwhile whether its client has
 * gone: a parked simq.wait or simq.view of a client that went lets go of its
 * connection within a second.  Started and stopped by the server on the loop
 * thread.
 */
#ifndef SIMQ_SERVER_HTTP_H
#define SIMQ_SERVER_HTTP_H

#include <ev.h>
#include <stdbool.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/base.h>

struct api;
struct api_method;
struct conn;
struct http;

struct http_listen {
	int unix_fd;                 /* the bound Unix socket */
	int tcp_fd;                  /* -1: none */
	const char *token;           /* with tcp_fd */
	double refusal_interval;     /* with tcp_fd: seconds between two log lines about refused requests */
	int metrics_fd;              /* -1: none */
};

/* Starts the listeners; NULL and *err on failure. */
struct http *http_start(struct ev_loop *loop, struct api *api, const struct http_listen *l, char **err);
/*
 * One more XML-RPC listener (the proxy's, named name in /metrics) on fd, bound and listening: its
 * requests behind the token when token is not NULL (the same check and limiter as the TCP API), with
 * the same caps on connections, on those without a request yet and on parked calls; serve (an Abyss
 * handler, ud) answers them, its methods entering through http_call.  Loop thread, after http_start.
 */
bool http_add_rpc(struct http *h, const char *name, int fd, const char *token, handleReq3Fn rpc, void *ud,
		  char **err);
/*
 * Connection thread (an XML-RPC method's): runs m with params on the loop thread (api_run; data is
 * the call's data for m) and waits for its answer, letting a parked call go within a second of its
 * client going; then runs the call's finish here.  The result, or NULL with the fault in env.
 */
xmlrpc_value *http_call(struct http *h, const struct api_method *m, xmlrpc_value *params, void *data,
			struct conn *conn, xmlrpc_env *env);
/* Answers every waiting call with a shutdown fault, stops accepting and ends the reading side of every connection. */
void http_stop(struct http *h);
/* Waits for the connections to end and frees h (after the store is closed); clears the pointer. */
void http_free(struct http **h);

#endif
