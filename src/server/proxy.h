/*
 * proxy — simq answers PLECS's own RPC (DESIGN 18), so a script written for
 * PLECS gets the queue by changing only its address.
 *
 * [proxy] listen and port: one more listener of http.c (the same caps on
 * connections, requests and parked calls as the API's TCP listener; behind
 * the token unless it listens on a loopback address).  At /RPC2 (priority
 * [proxy] priority) and /RPC2/critical, /high, /normal, /low it answers
 * plecs.load, plecs.close, plecs.simulate (proxy-sim.c), plecs.get and
 * plecs.set (a fault: nothing simq could answer honestly) and xmlrpc-c's
 * system.listMethods.  A client is its address: Python's xmlrpc.client
 * keeps one connection only while the server keeps it open, and simq's
 * listeners serve one request per connection, so each call of a script
 * comes on a new connection from a new port; the models a script loads
 * are kept for its address, as one PLECS keeps them for everyone who
 * talks to it, but counted: two scripts on one machine that load the same
 * file and close it each keep it loaded for the other until both closed.  Started by the server on the loop thread
 * after http_start; the methods run on the loop thread, the listener's Abyss handler on each connection's thread.
 */
#ifndef SIMQ_SERVER_PROXY_H
#define SIMQ_SERVER_PROXY_H

#include <stdbool.h>

#include "engine/task.h"

struct engine;
struct http;
struct proxy;

struct proxy_options {
	int fd;                      /* bound and listening ([proxy] listen, port) */
	const char *token;           /* required of clients, or NULL (a loopback address) */
	enum task_priority priority; /* [proxy] priority: of calls at /RPC2 */
	const char *state_dir;       /* where the clients' loaded models are kept across restarts (proxy-models.json) */
};

/* Serves the proxy on o->fd through h; NULL and *err on failure. */
struct proxy *proxy_start(struct http *h, struct engine *e, const struct proxy_options *o, char **err);
/* Frees p once h is freed (no connection thread is left); clears the pointer. */
void proxy_free(struct proxy **p);

#endif
