/*
 * pools — the server's [pool NAME]s: for each, a Slurm launcher
 * (server/slurm.h) and the engine's pool policy (engine/pool.h) on it, whose
 * host is the engine (the queue, the scheduler's backends, the log).
 * pools_new() after the engine is open, pools_start() once the server serves
 * (the first listing adopts a previous server's jobs), pools_free() before
 * the engine closes: the jobs are left running for the next server.  Loop
 * thread only.
 */
#ifndef SIMQ_SERVER_POOLS_H
#define SIMQ_SERVER_POOLS_H

#include <ev.h>
#include <stdbool.h>

struct config;
struct engine;
struct clock;
struct pools;

/* NULL when the config has no [pool]; *err (and NULL) when the pool directory cannot be made. */
struct pools *pools_new(struct ev_loop *loop, const struct config *cfg, struct engine *e, const struct clock *clock,
                        const char *state_dir, char **err);
void pools_start(struct pools *ps);
void pools_free(struct pools **ps);
/* How many instances the pools may run at most, all told: the PLECS workers they need. */
int pools_max_slots(const struct config *cfg);

#endif
