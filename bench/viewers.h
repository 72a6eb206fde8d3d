/*
 * viewers.h — dashboard pages for the benches: n WebSocket connections to a simq server's
 * [dashboard], each saying hello ({}) as the page does and then reading everything the server
 * pushes, on a thread of their own (poll over all of them), counting messages and bytes.
 */
#ifndef SIMQ_BENCH_VIEWERS_H
#define SIMQ_BENCH_VIEWERS_H

#include <stdint.h>

struct viewers;

/* Connects n viewers to 127.0.0.1:port; on any failure says why and exits 1. */
struct viewers *viewers_connect(int port, int n);
/* Messages and bytes received so far, by all of them. */
void viewers_count(struct viewers *v, int64_t *messages, int64_t *bytes);
/* Closes them all and stops the thread; clears the pointer. */
void viewers_close(struct viewers **v);
/* A free TCP port on 127.0.0.1 (for [dashboard] port). */
int viewers_free_port(void);

#endif
