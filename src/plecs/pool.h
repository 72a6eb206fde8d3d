/*
 * pool — worker threads that make the PLECS calls (DESIGN 1, 16); the
 * engine's backend ops (engine/backend.h) on real PLECS.
 *
 * One thread and one xmlrpc_client per slot, all created before the threads
 * start.  The loop thread starts calls; a worker builds the optStructs from
 * the call's plain-C cases, loads the model when told to (and again when
 * PLECS says it is not loaded), calls plecs.simulate, decodes each case's
 * answer into columns of doubles, and hands the call back through ev_async,
 * so nothing blocks the loop.  A call ends early when the loop interrupts it
 * (a timeout or a stop): the call's interrupt flag plus SIGUSR1 to its
 * worker makes curl give up at once.  Calls belong to the scheduler; the
 * pool only holds them while they run.
 */
#ifndef SIMQ_PLECS_POOL_H
#define SIMQ_PLECS_POOL_H

#include <ev.h>

#include "engine/backend.h"

struct plecs_pool;

/* The ops to hand the engine, with the pool as their impl. */
extern const struct backend_ops plecs_backend_ops;

/* Starts `workers` threads on loop; NULL and *err on failure. */
struct plecs_pool *plecs_pool_new(struct ev_loop *loop, int workers, char **err);
/* Interrupts every call, joins the workers and drops the calls not handed back (their owner frees them). */
void plecs_pool_free(struct plecs_pool **p);

#endif
