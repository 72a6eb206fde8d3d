/*
 * pool — an elastic pool of PLECS instances that a cluster's scheduler runs
 * (DESIGN 19, [pool NAME]): the policy, with no word of Slurm in it.
 *
 * The pool asks its launcher (struct pool_launcher_ops: sbatch, squeue and
 * scancel in server/slurm.c, a fake in tests) for jobs, each of which starts
 * one PLECS and registers it as the backend NAME-JOBID (simq backend add, or
 * a URL the launcher reads back when it lists the job).  Once a second the
 * pool looks at the queue and the backends through its host: while tasks
 * wait it submits jobs up to `max` (jobs pending in the cluster count, so no
 * more than max are ever submitted; the cluster's licence count caps those
 * that run); an instance with no call for `idle_after` while nothing waits
 * is removed and cancelled, down to `min`.  It lists its jobs at most once
 * every `poll` seconds: a job the launcher no longer lists (or lists as
 * ended) that the pool did not cancel is lost — its backend is removed as
 * gone, so its tasks go back to the queue with no retry spent, and a
 * replacement is submitted while work waits.  The first listing adopts the
 * jobs a previous server left (pending ones count against max; running ones
 * become backends again from their URL): nothing is submitted before it, so
 * a restart leaks none.  Stopping the pool leaves its jobs running for the
 * next server.  Everything it does is a line in the log.  Loop thread only;
 * the launcher's callbacks come back on it, never after the launcher is freed,
 * which must be before the pool.
 */
#ifndef SIMQ_ENGINE_POOL_H
#define SIMQ_ENGINE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/clock.h"
#include "engine/events.h"
#include "engine/scheduler.h"

/* A job as the launcher lists it. */
#define POOL_JOB_STATES(X)                                                                                             \
	X(PENDING, "pending")                                                                                          \
	X(RUNNING, "running")                                                                                          \
	X(ENDED, "ended")

enum pool_job_state {
#define X(id, name) POOL_JOB_##id,
	POOL_JOB_STATES(X)
#undef X
};

struct pool_job {
	const char *id;
	enum pool_job_state state;
	const char *node; /* where it runs, "" when not known */
	const char *url;  /* the URL its instance wrote for the server, or NULL */
};

typedef void (*pool_submitted_fn)(void *ud, const char *id, const char *err);
typedef void (*pool_listed_fn)(void *ud, const struct pool_job *jobs, size_t n, const char *err);

struct pool_launcher_ops {
	/* Submits one job; done(ud, id, NULL), or done(ud, NULL, why) when it could not. */
	void (*submit)(void *impl, pool_submitted_fn done, void *ud);
	/* Cancels job id (what comes of it shows in the next listing). */
	void (*cancel)(void *impl, const char *id);
	/* Lists this pool's jobs that the cluster still knows; err when it could not ask. */
	void (*list)(void *impl, pool_listed_fn done, void *ud);
};

/* What the pool asks of its host (the server, over the engine).  ud is the host's own. */
struct pool_host {
	void *ud;
	/* Tasks waiting in the queue for a backend. */
	size_t (*waiting)(void *ud);
	void (*each_backend)(void *ud, void (*fn)(const struct sched_backend_info *b, void *arg), void *arg);
	bool (*add)(void *ud, const struct backend_config *c, char **err);
	/* gone: why nobody will answer its calls (they end now), or NULL (they finish). */
	bool (*remove)(void *ud, const char *name, const char *gone, char **err);
	void (*log)(void *ud, enum log_severity severity, const char *text);
};

struct pool_options {
	const char *name;
	int min, max;
	double idle_after;             /* seconds an instance may sit without a call while nothing waits */
	double poll;                   /* seconds between listings of the jobs */
	struct backend_config backend; /* what an adopted instance becomes (name and url are its own) */
};

/* An instance: submitted, pending, started (running, not registered yet), registered, released. */
#define POOL_STATES(X)                                                                                                 \
	X(SUBMITTING, "submitting")                                                                                    \
	X(PENDING, "pending")                                                                                          \
	X(STARTED, "started")                                                                                          \
	X(REGISTERED, "registered")                                                                                    \
	X(RELEASED, "released")

enum pool_state {
#define X(id, name) POOL_##id,
	POOL_STATES(X)
#undef X
};

struct pool_instance_info {
	const char *pool, *job; /* job "" while it is being submitted */
	const char *backend;    /* the backend it registers as */
	enum pool_state state;
	const char *node;
	double age; /* seconds in this state */
};

struct pool;

struct pool *pool_new(const struct pool_options *opt, const struct pool_launcher_ops *ops, void *impl,
                      const struct clock *clock, const struct pool_host *host);
/* Stops the timers (the jobs are left running for the next server) and frees it; clears the pointer. */
void pool_free(struct pool **p);
/* Lists the jobs (adoption), then keeps the pool's size. */
void pool_start(struct pool *p);
const char *pool_name(const struct pool *p);
const char *pool_state_name(enum pool_state s);
void pool_each_instance(const struct pool *p, void (*fn)(const struct pool_instance_info *i, void *ud), void *ud);

#endif
