/*
 * pool — worker threads that make the PLECS calls (DESIGN 1, 16); the
 * engine's backend ops (engine/backend.h) on real PLECS.
 *
 * One thread per slot, each with its own libcurl handles (made before the
 * threads start) and its kept-alive connection; calls are XML-RPC written
 * by xmlrpc-c and carried by libcurl's multi interface.  The loop thread
 * starts calls; a worker builds the optStructs from the call's plain-C
 * cases, loads the model when told to (and again when PLECS says it is not
 * loaded), calls plecs.simulate, decodes its answer as it arrives
 * (answer.c: each case into columns of doubles and its summary; the small
 * answers of other methods are read by xmlrpc-c after xmlscan), and hands
 * the call back through ev_async, so nothing blocks the loop.  An answer of
 * 64 KB or more is read at the socket's speed and decoded on a feed's thread
 * (feed.c); once it is all in and carries results, the call's received()
 * frees its slot, so PLECS runs the next call while this one is decoded.  An answer is read up to the call's
 * max_response and no further.  A call ends early when the loop interrupts
 * it (a timeout or a stop): the call's interrupt flag plus curl_multi_wakeup
 * make its worker give up at once and close the connection.  Whose fault a
 * failure is comes from libcurl's code: no connection, or none of an answer,
 * is the backend's (BACKEND_UNREACHABLE).  Calls belong to the scheduler; the
 * pool only holds them while they run.
 */
#ifndef SIMQ_PLECS_POOL_H
#define SIMQ_PLECS_POOL_H

#include <ev.h>
#include <stddef.h>

#include "engine/backend.h"

struct plecs_pool;

/* The ops to hand the engine, with the pool as their impl. */
extern const struct backend_ops plecs_backend_ops;

/* Starts `workers` threads on loop, for answers of up to max_response bytes; NULL and *err on failure. */
struct plecs_pool *plecs_pool_new(struct ev_loop *loop, int workers, size_t max_response, char **err);
/* Interrupts every call, joins the workers and drops the calls not handed back (their owner frees them). */
void plecs_pool_free(struct plecs_pool **p);

#endif
