/*
 * proxy-sim — the proxy's plecs.simulate (DESIGN 18): each case a task, the
 * call parked until they are final, then PLECS's own answer.
 *
 * proxy.c finds the model the client loaded and calls proxy_sim_run on the
 * loop thread: the first run reads the cases (ModelVars, SolverOpts,
 * OutputFormat), submits them in one transaction as tasks named
 * proxy:<peer>, tagged proxy, and parks the call (api_park: no thread of
 * the loop's waits); every later run (the engine changed) looks whether they
 * are all final, and then answers as PLECS would: a fault with the first
 * failed case's PLECS message, or the stored results, which the call's
 * connection thread reads and encodes (the call's finish): {Time, Values}
 * (bit for bit: the doubles go out exact) or the MAT file's bytes, one
 * value for one optStruct, a list in input order for a list.  A call let go
 * unanswered (its client went) cancels its tasks that are still queued;
 * those already running end as any (DESIGN 6).
 */
#ifndef SIMQ_SERVER_PROXY_SIM_H
#define SIMQ_SERVER_PROXY_SIM_H

#include "engine/task.h"

struct api_call;
struct engine;
struct proxy_sim;

/* PLECS documents no fault codes; plecs-emu answers 1 for every fault, and so does the proxy. */
#define PROXY_FAULT_PLECS 1

/* One call to the proxy, made and freed by its connection thread (proxy.c); its c->data. */
struct proxy_call {
	struct proxy *proxy;
	enum task_priority priority; /* from the path: /RPC2/critical ... */
	char peer[64];               /* the client's address: the tasks' name is proxy:<peer> */
	struct proxy_sim *sim;       /* plecs.simulate's cases once submitted */
};

/* Loop thread: plecs.simulate(name[, optStruct | [optStruct...]]) of the model file at path (the one the
 * client loaded as name), run again on every wake until it answers. */
void proxy_sim_run(struct engine *e, struct api_call *c, const char *path);
/* Frees what proxy_sim_run kept (the connection's thread, once the call is answered); clears the pointer. */
void proxy_sim_free(struct proxy_sim **s);

#endif
