/*
 * pool — an elastic pool of PLECS instances that a cluster's scheduler runs
 * (DESIGN 19, [pool NAME]): the policy, with no word of Slurm in it.
 *
 * The pool asks its launcher (struct pool_launcher_ops: sbatch, squeue and
 * scancel in server/slurm.c, a fake in tests) for jobs, each of which starts
 * one PLECS and registers it as the backend NAME-JOBID (simq backend add, or
 * a URL the launcher reads back when it lists the job).  Once a second the
 * pool looks at the queue and the backends through its host: while tasks
 * wait (queued, or waiting to retry) it submits jobs up to `max`; every job
 * it knows counts — pending, running, or cancelled and not yet gone — so no
 * more than max are ever submitted, and a listing that shows more (a
 * previous server's) has the excess cancelled, the newest pending first.  An
 * instance idle (no call since it registered or since its last call) for
 * `idle_after` while nothing waits is removed and cancelled, down to `min`;
 * a pending job goes once nothing has waited for idle_after.  It lists its
 * jobs at most once every `poll` seconds: a listing it cannot read changes
 * nothing and lets nothing be submitted until one can be read; a job the
 * launcher no longer lists (or lists as ended) that the pool did not cancel
 * is lost — its backend is removed as gone, so its tasks go back to the
 * queue with no retry spent, and a replacement is submitted while work
 * waits.  A failed submit, or a job that ran and ended before its instance
 * registered, waits `backoff` before the next submit, doubled with each
 * such failure in a row up to POOL_BACKOFF_MAX; after POOL_FAILING_AFTER in
 * a row the pool is FAILING until an instance registers.  A registered
 * instance that does not answer for twice `answer_within` is given up (its
 * job cancelled).  The first listing adopts the jobs a previous server left
 * (pending ones count against max; running ones become backends again from
 * their URL): nothing is submitted before it, so a restart leaks none.
 * Stopping the pool leaves its jobs running for the next server.
 * Everything it does is a line in the log.  Loop thread only; the
 * launcher's callbacks come back on it, never after the launcher is freed,
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

/* The longest wait between failed submits, and the failures in a row that make a pool FAILING. */
#define POOL_BACKOFF_MAX   600.0
#define POOL_FAILING_AFTER 3

struct pool_job {
	const char *id;
	enum pool_job_state state;
	const char *node;   /* where it runs, "" when not known */
	const char *url;    /* the URL its instance wrote for the server, or NULL */
	const char *reason; /* why it waits (a pending job's "Licenses"), or NULL */
	const char *how;    /* the cluster's word for its state ("CANCELLED", "TIMEOUT"), or NULL */
};

/* What a job left in its output (each heap, or NULL). */
struct pool_job_output {
	char *path; /* where its output is */
	char *tail; /* its last lines, one line; NULL when it wrote none (it never ran) */
	char *end;  /* the cluster's own word on its end ("CANCELLED AT ... DUE TO TIME LIMIT"), or NULL */
};

void pool_job_output_clear(struct pool_job_output *o);

typedef void (*pool_submitted_fn)(void *ud, const char *id, const char *err);
typedef void (*pool_listed_fn)(void *ud, const struct pool_job *jobs, size_t n, const char *err);

struct pool_launcher_ops {
	/* Submits one job; done(ud, id, NULL), or done(ud, NULL, why) when it could not. */
	void (*submit)(void *impl, pool_submitted_fn done, void *ud);
	/* Cancels job id (what comes of it shows in the next listing). */
	void (*cancel)(void *impl, const char *id);
	/* Lists this pool's jobs that the cluster still knows; err when it could not ask or read the answer. */
	void (*list)(void *impl, pool_listed_fn done, void *ud);
	/* What job id left in its output (out zeroed first). */
	void (*output)(void *impl, const char *id, struct pool_job_output *out);
	/* Job id is over: the files it left go, its output too unless keep_output. */
	void (*forget)(void *impl, const char *id, bool keep_output);
};

/* What the pool asks of its host (the server, over the engine).  ud is the host's own. */
struct pool_host {
	void *ud;
	/* Tasks waiting for a backend: queued, or waiting to retry. */
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
	double backoff;                /* seconds after the first failure in a row before the next submit */
	double answer_within;          /* seconds a registered instance may go without answering, twice */
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
	const char *reason; /* why a pending job waits ("Licenses"), "" when not known */
	double age;         /* seconds in this state */
};

/* The pool as a whole: FAILING after POOL_FAILING_AFTER failures in a row, UNLISTED while its jobs cannot be listed. */
#define POOL_HEALTH(X)                                                                                                 \
	X(OK, "ok")                                                                                                    \
	X(FAILING, "failing")                                                                                          \
	X(UNLISTED, "unlisted")

enum pool_health {
#define X(id, name) POOL_HEALTH_##id,
	POOL_HEALTH(X)
#undef X
};

struct pool_status {
	const char *name;
	enum pool_health health;
	int failures;        /* failed submits and jobs that ended before they registered, in a row */
	double next_try;     /* seconds until the next submit may go (0: now) */
	const char *problem; /* the last failure or listing error, "" when none */
	const char *output;  /* the output file of the last job that ended before it registered, "" when none */
	int pending, started, registered;
	const char *pending_reason; /* why the first pending job waits ("Licenses"), "" when not known */
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
void pool_get_status(const struct pool *p, struct pool_status *out);
const char *pool_health_name(enum pool_health h);
/* Does backend name look like one of this pool's instances (NAME-DIGITS)?  *job gets the digits. */
bool pool_claims(const struct pool *p, const char *backend, const char **job);
/* Job job registered its instance at url (simq backend add --job): it is REGISTERED from now. */
void pool_instance_registered(struct pool *p, const char *job, const char *url);
/* How long an instance's probe may take (answer_within). */
double pool_answer_within(const struct pool *p);
/* The operator removed backend (simq backend remove): if it is an instance, its job is cancelled (true). */
bool pool_backend_removed(struct pool *p, const char *backend);

#endif
