/* lib.h — what the benches that talk to a simq server share. */
#ifndef SIMQ_BENCH_LIB_H
#define SIMQ_BENCH_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xmlrpc-c/base.h>

#include "client/client.h"

/* Calls method with params (borrowed); on any failure says why and exits 1. */
xmlrpc_value *bench_call(struct client *c, const char *method, xmlrpc_value *params);
/* The same with the call written already (a whole <methodCall> document). */
xmlrpc_value *bench_call_xml(struct client *c, const struct buf *body);
/* The same with params built from format (xmlrpc_build_value's) and released. */
xmlrpc_value *bench_callf(struct client *c, const char *method, const char *format, ...);
/* Waits until the server answers simq.echo: it was just started (up to 5 s). */
void bench_await_server(struct client *c);
/* n tasks of model for simq.submit_many: vars D = 0.5 and K = from + i, named name. */
xmlrpc_value *bench_tasks(xmlrpc_env *env, const char *model, int from, int n, const char *name);
/* Starts argv[0] with argv, its stderr to /dev/null; it dies with the bench. */
pid_t bench_spawn(const char *const *argv);
/* The port a program (what, for the message) wrote to file once it listens (waits up to 5 s; exits 1). */
int bench_read_port(const char *file, const char *what);
/*
 * simq.view as a console asks it, up to date with the log, the queue's first 50 rows and history (0:
 * none) of the finished tasks: the median of samples calls in ms.  held: the console sends back the
 * hashes of the rows it holds (queue_since, history_since), as between changes; otherwise every answer
 * brings every row, as the first view and any view after a change to the page do.
 */
double bench_view_ms(struct client *c, int history, bool held, int samples);
/* simq.echo's median in ms: the floor the API stands on. */
double bench_echo_ms(struct client *c, int samples);
/* qsort's comparison for int64_t. */
int bench_cmp_i64(const void *a, const void *b);
/* qsort order of doubles, smallest first. */
int bench_cmp_double(const void *a, const void *b);

#endif
