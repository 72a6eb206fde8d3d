/*
 * metrics — GET /metrics in Prometheus text format 0.0.4: tasks, attempts,
 * the queue, backends, batch sizes, call times, success and retry ratios.
 * metrics_text() runs on the loop thread (it reads engine state); http.c
 * serves the text from its Abyss threads on the Unix socket and, with
 * [metrics] listen, on a TCP port of its own.
 */
#ifndef SIMQ_SERVER_METRICS_H
#define SIMQ_SERVER_METRICS_H

struct engine;

/* The whole exposition, a heap string. */
char *metrics_text(struct engine *e);

#endif
