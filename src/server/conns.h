/*
 * conns — one listening socket's connections, each served on a thread of its own.
 *
 * Abyss's accept loop (ServerRun) hides every connection's socket and stops
 * accepting at its maximum, so a few dozen idle or waiting clients locked
 * everyone else out (issue 14).  Here one thread accepts and starts a thread
 * per connection that hands the socket to serve() (http.c runs Abyss on it
 * for one request).  The table knows each connection's socket, when it came
 * and whether it is trusted yet: on TCP once its request carried the token,
 * elsewhere once its request arrived (http.c calls conns_trust).  Untrusted
 * connections are capped, a new one pushing the oldest out, and are cut at a
 * deadline; past the cap on all connections, new ones wait in the listen
 * backlog.
 *
 * conns_start, conns_stop and conns_free run on the loop thread; serve() and
 * the conns_* calls that take a struct conn run on that connection's thread.
 */
#ifndef SIMQ_SERVER_CONNS_H
#define SIMQ_SERVER_CONNS_H

#include <stdbool.h>

struct conns;
struct conn;

struct conns_limits {
	int max_conns;           /* connections at once; more wait in the listen backlog */
	int max_untrusted;       /* untrusted connections at once, a new one cutting the oldest; 0: no cap */
	int untrusted_s;         /* an untrusted connection is cut after this many seconds */
};

/* Serves the connection on socket fd, on its own thread; conns closes fd after. */
typedef void conns_serve_fn(void *ud, struct conn *c, int fd);

/* Accepts on listen_fd (bound and listening; the caller closes it after conns_free); NULL and *err on failure. */
struct conns *conns_start(int listen_fd, const struct conns_limits *limits, conns_serve_fn *serve, void *ud,
			  char **err);
/* Stops accepting and ends the reading side of every connection: an answer being written still goes out whole. */
void conns_stop(struct conns *cs);
/* Waits until every connection has ended (cutting off the ones still writing after 2 s) and frees cs;
 * clears the pointer. */
void conns_free(struct conns **cs);
/* Connections served now (any thread). */
int conns_count(struct conns *cs);

/* Connection thread: the connection it serves; NULL on any other thread. */
struct conn *conns_current(void);
/* Connection thread: c's client proved itself (its request, or the token): no cap or deadline applies any more. */
void conns_trust(struct conn *c);
/* Connection thread: whether c's client has closed its end (it cannot read an answer any more). */
bool conns_client_gone(struct conn *c);

#endif
