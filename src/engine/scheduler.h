/*
 * scheduler — turns queued tasks into PLECS calls (DESIGN 4-6).
 *
 * While a backend is UP, not paused and has a free slot, the head of the
 * queue and its batch candidates go to it as one call through the backend
 * ops (engine/backend.h).  Answers come back on the loop thread: results are
 * written (engine/results.h) and saved, transient failures wait their
 * backoff and retry, permanent ones fail with PLECS's message, a batch fault
 * that names no case splits the batch, and a backend that stops answering
 * goes DOWN and is probed until it is back.  Estimates of each model's call
 * time give progress and the batch cap.
 *
 * An answered case's result goes to the writer (engine/writer.h) and its
 * slot takes the next batch at once; the task stays RUNNING until its file
 * is written, then COMPLETED (several written files saved in one commit).
 * A file that cannot be written (a full disk) is simq's fault, not the
 * task's: it goes back to the queue with no retry spent and dispatch
 * pauses.  A task cancelled while its file is written has the file removed
 * when the writer hands it back.  A commit the store cannot take (a full
 * disk under simq.db) loses nothing: its changes wait in memory
 * (engine/unsaved.h), dispatch pauses, and they are saved first, by a timer
 * or with the next commit, once it takes them; then dispatch resumes.  While the writer holds more than
 * write_backlog bytes of decoded numbers (or SCHED_WRITE_JOBS results),
 * nothing is dispatched: answers cannot pile up in memory faster than the
 * disk takes them.  scheduler_drain() waits for every pending write.
 *
 * Identical cases run once (DESIGN 7): a queued task whose cache key a case
 * in flight has waits for it out of the queue (engine/twins.h) and completes
 * as cached in the commit that saves that case's result, or goes back to the
 * queue when that case ends without one.  A written result keeps its key and
 * the key's parts.
 *
 * The scheduler uses the queue and the store it is given; for everything
 * else about tasks it calls its host (the engine) through struct
 * scheduler_host, so the two never call each other by name.  Backends may
 * be added and removed while it runs (scheduler_add_backend).  Time and
 * timers come from the clock.  Loop thread only.
 */
#ifndef SIMQ_ENGINE_SCHEDULER_H
#define SIMQ_ENGINE_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend.h"
#include "engine/cachekey.h"
#include "engine/clock.h"
#include "engine/events.h"
#include "engine/task.h"
#include "engine/writer.h"

struct queue;
struct store;
struct buf;

struct backend_config {
	const char *name;
	const char *url;
	int slots;              /* concurrent calls */
	int max_batch;          /* cases per call */
	double call_timeout;    /* seconds a call may take at most */
	double probe_timeout;   /* seconds a probe may take; 0: call_timeout (a pool's instances: answer_within) */
	size_t max_response;    /* the largest answer read, in bytes (0: no limit) */
	bool matfile;           /* ask this PLECS for MatFile output */
};

/* A backend as [backend NAME] has it by default (config/options.c's table says the same). */
#define SCHED_BACKEND_DEFAULTS_MAX_RESPONSE (64u * 1024 * 1024)
#define SCHED_BACKEND_DEFAULTS                                                                                         \
	{.slots = 1, .max_batch = 16, .call_timeout = 3600, .max_response = SCHED_BACKEND_DEFAULTS_MAX_RESPONSE}

/* Results waiting for the writer beyond which dispatch holds: their decoded bytes, and their count. */
#define SCHED_WRITE_BACKLOG (32u * 1024 * 1024)
#define SCHED_WRITE_JOBS 1024

struct scheduler_options {
	int max_retries;
	int down_after;          /* consecutive calls without an answer before a backend is DOWN */
	double backoff_base, backoff_max, jitter; /* seconds, seconds, fraction */
	double probe_max;        /* longest wait between probes of a DOWN backend; 0: backoff_max */
	double linger_s;         /* batch_linger_ms / 1000 */
	double max_batch_seconds;
	const char *retry_faults; /* faults that count as transient (engine/retry.h) */
	enum results_format format; /* how results are stored */
	bool sync;               /* fsync result files (durability = full) */
	const char *results_dir;
	const struct writer_ops *writer_ops; /* who writes result files */
	void *writer_impl;
	size_t write_backlog;    /* bytes of results waiting for the writer that hold dispatch; 0: SCHED_WRITE_BACKLOG */
	uint64_t seed;           /* for the backoff jitter; 0: from the clock */
	struct cachekey_files *cache_files; /* the model files' hashes for cache keys (the engine's); NULL: no
					       keys, every case runs and twins do not wait */
};

/* What the scheduler asks of its host.  ud is the host's own pointer. */
struct scheduler_host {
	void *ud;
	/* The record in memory of the active task with this id (every RUNNING one has one), or NULL. */
	struct task *(*task)(void *ud, int64_t id);
	/*
	 * The records of the queued tasks ids (a batch about to go), in order: those that live only in
	 * the queue and the store are read in one query and stay in memory until they are final.  False
	 * when the store cannot give them all (the host has said why).
	 */
	bool (*load)(void *ud, const int64_t *ids, size_t n, struct task **out);
	/* Is dispatch held (paused, or the server is stopping)? */
	bool (*held)(void *ud);
	/* t went from QUEUED to RUNNING (to is TASK_RUNNING) or back (TASK_QUEUED, after a split). */
	void (*moved)(void *ud, struct task *t, enum task_state to);
	/* t reached a final state that is saved, or kept until the store takes it (engine/unsaved.h): count it,
	 * announce it with extra, forget it, free it. */
	void (*retired)(void *ud, struct task *t, enum task_state from, const struct event *extra);
	/* An event about t (may be NULL) with the common fields filled by the host. */
	void (*publish)(void *ud, enum event_type type, const struct task *t, const struct event *extra);
	/* A line in the log that is not an event. */
	void (*log)(void *ud, enum log_severity severity, const char *text);
	/* Something a console shows changed (a retry came due, say). */
	void (*changed)(void *ud);
	/* simq cannot keep results (why says so, with the free space): hold dispatch until resumed. */
	void (*pause)(void *ud, const char *why);
	/*
	 * The store cannot save changes (why says so): hold dispatch, unless it is held already; or, with
	 * why NULL, it saves again: lift that hold, unless the operator has paused or resumed since.
	 */
	void (*store_hold)(void *ud, const char *why);
};

struct scheduler;

/* NULL and *err when the results folder cannot be made. */
struct scheduler *scheduler_new(const struct scheduler_options *opt, const struct backend_config *backends,
				size_t nbackends, const struct backend_ops *ops, void *impl, const struct clock *clock,
				struct queue *queue, struct store *store, const struct scheduler_host *host, char **err);
/* Interrupts nothing: the backend implementation must have been stopped first.  Drains the writer.
 * Clears the pointer. */
void scheduler_free(struct scheduler **sc);
/* Asks every backend whether it answers before sending it work (UP without an event when it does). */
void scheduler_start(struct scheduler *sc);
/* Puts a RUNNING task loaded from the store back to work: waiting for its retry, or in the queue. */
void scheduler_adopt(struct scheduler *sc, struct task *t);
/* Looks for work to send: call after anything that may free a slot or queue a task. */
void scheduler_kick(struct scheduler *sc);
/* Is this task's attempt in flight (PLECS is running it, or its result is being written)? */
bool scheduler_in_flight(const struct scheduler *sc, int64_t id);
/* Forget a task that just became final: its retry timer, its split size, its result being written. */
void scheduler_forget(struct scheduler *sc, int64_t id);
/*
 * Changes the store did not take and that wait in memory, after trying them once more: 0 when
 * every change is saved.  What acts on tasks outside the scheduler asks first, so that no change
 * of its lands before ones made earlier.
 */
size_t scheduler_unsaved(struct scheduler *sc);
/* Waits until every result handed to the writer is written and saved (the server is stopping). */
void scheduler_drain(struct scheduler *sc);
/*
 * Adds a backend at run time (simq backend add) and asks it whether it answers before sending it
 * work; false and *err when its name is taken (by a backend, or one still being removed).
 */
bool scheduler_add_backend(struct scheduler *sc, const struct backend_config *c, char **err);
/*
 * Removes a backend: nothing new goes to it, and it is freed once its calls are back.  Those
 * calls finish (one that ends without an answer puts its tasks back in the queue with no retry
 * spent: the backend is going away), unless gone (why it is gone, e.g. "its Slurm job ended") says that nobody will
 * answer them: then they are cut short now, and their tasks go back to the queue with no retry
 * spent.  A backend being removed may be named again with gone.  *running gets its calls in
 * flight; false and *err for an unknown name.
 */
bool scheduler_remove_backend(struct scheduler *sc, const char *name, const char *gone, int *running, char **err);
/* Pauses or resumes one backend (name) or all (NULL); false and *err for an unknown name. */
bool scheduler_set_paused(struct scheduler *sc, const char *name, bool paused, char **err);

/* ---- what views, metrics and digests read: plain structs, valid during the callback ---- */

struct sched_backend_info {
	const char *name, *url;
	bool up, paused;
	bool checking;           /* not asked yet, or the first probe has not answered: up is false meanwhile */
	int busy, slots, failures;
	double probe_in;         /* seconds to the next probe while DOWN */
	double downtime;         /* seconds DOWN since the server started, the current outage included */
	double down_for;         /* seconds of the current outage (0 while UP or not known yet) */
	int max_batch;
	double idle_for;         /* seconds since its last call ended (or it was added); 0 while busy */
};

struct sched_call_info {
	int64_t batch;
	const char *backend, *model;
	const int64_t *ids;      /* the batch's tasks, the head first */
	size_t n;
	int attempt;             /* the head's attempt number */
	double elapsed, estimate; /* seconds; estimate 0 when the model has no finished call yet */
	double timeout;          /* seconds it may take before it counts as a transient failure */
	double progress;         /* elapsed over estimate, at most 0.99; -1 without an estimate */
};

struct sched_model_info {
	const char *model;
	int calls;
	double mean, p95;        /* of the recent calls' wall times; calls 0: none recent */
	const int64_t *duration_le; /* tasks per duration bucket (not cumulative), SCHED_NDURATION + 1 */
	double duration_sum;
};

/* Histogram bounds: a task's call time in seconds, and a call's batch size. */
#define SCHED_NDURATION 10
#define SCHED_NBATCH 9
extern const double sched_duration_bounds[SCHED_NDURATION];
extern const int sched_batch_bounds[SCHED_NBATCH];

struct sched_totals {
	int64_t calls, cases;    /* answered calls since start and the cases they held */
	const int64_t *batch_le; /* calls per batch-size bucket (not cumulative), SCHED_NBATCH + 1 */
	int max_retries;
};

void scheduler_each_backend(const struct scheduler *sc, void (*fn)(const struct sched_backend_info *b, void *ud),
			    void *ud);
/* Calls in flight, newest first. */
void scheduler_each_call(const struct scheduler *sc, void (*fn)(const struct sched_call_info *c, void *ud), void *ud);
/* Tasks waiting for their retry, with the seconds until it is due. */
void scheduler_each_retry(const struct scheduler *sc, void (*fn)(const struct task *t, double retry_in, void *ud),
			  void *ud);
void scheduler_each_model(const struct scheduler *sc, void (*fn)(const struct sched_model_info *m, void *ud), void *ud);
/* The call a task is in; false when it is in none. */
bool scheduler_call_of(const struct scheduler *sc, int64_t id, struct sched_call_info *out);
void scheduler_totals(const struct scheduler *sc, struct sched_totals *out);

#endif
