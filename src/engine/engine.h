/*
 * engine — the model of the night: tasks, queue, store, statistics, events,
 * the scheduler, and the task operations every front end calls.
 *
 * engine_open() opens the store (recovering after a crash), loads the active
 * tasks (a queued one keeps only its place in the queue in memory; its record
 * stays in the store until dispatch reads its batch in one query), seeds the
 * statistics, opens simulation.log and builds the
 * scheduler on the backend ops and clock it is given.  The API (and later
 * the proxy and the dashboard) submits, cancels, reprioritizes, retries and
 * pauses through the functions below and never touches the engine's
 * fields; each operation checks every id first and then applies whole, or
 * changes nothing and returns a status with a message for a person.
 * What consoles and metrics show they read through the engine_* readers and
 * the scheduler's iterators.  engine_version() changes with everything a
 * console would show.  Loop thread only.
 */
#ifndef SIMQ_ENGINE_ENGINE_H
#define SIMQ_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend.h"
#include "engine/cache.h"
#include "engine/clock.h"
#include "engine/events.h"
#include "engine/queue.h"
#include "engine/retain.h"
#include "engine/scheduler.h"
#include "engine/stats.h"
#include "engine/store.h"
#include "engine/task.h"

#define ENGINE_STATUSES(X)                      \
	X(OK, "ok")                             \
	X(NOT_FOUND, "no such task")            \
	X(STATE, "not allowed in its state")    \
	X(INVALID, "invalid")                   \
	X(STORE, "the store failed")

enum engine_status {
#define X(id, text) ENGINE_##id,
	ENGINE_STATUSES(X)
#undef X
};

/* How many finished tasks the engine keeps for consoles (engine_each_recent). */
#define ENGINE_RECENT 200
/* Spans remembered for engine_held_ms: more than a night makes in the ten minutes of a rate. */
#define ENGINE_HELD_SPANS 16

struct engine_options {
	const char *db_path;
	const char *log_path;          /* simulation.log; NULL keeps the log in memory only */
	size_t log_keep;               /* lines kept for consoles */
	enum store_durability durability;
	bool start_paused;
	struct scheduler_options sched;
	const struct backend_config *backends;
	size_t nbackends;
	const struct backend_ops *backend_ops;
	void *backend_impl;
	const struct clock *clock;
	const char *started_line;      /* the log's first words, e.g. "server started (pid 12)" */
	struct retain_options retain;  /* [store] archive_after, purge_after, results_max_size */
};

struct engine;
struct pool;

/* NULL and *err (heap) on failure. */
struct engine *engine_open(const struct engine_options *opt, char **err);
/* Frees everything; the backend implementation must be stopped first.  Clears the pointer. */
void engine_close(struct engine **e);
/* Starts dispatching. */
void engine_start(struct engine *e);
/* Stops dispatching for good (the server is going away); calls in flight are left to end. */
void engine_stop(struct engine *e);
/* Waits until every result being written is written and saved (after engine_stop). */
void engine_drain(struct engine *e);

/* ---- task operations --------------------------------------------------------------------- */

/* A client's request key (DESIGN 20): a second submit under the same key gets the first one's ids. */
struct engine_request {
	const char *key;         /* as the client sent it (the API checks it) */
	const char *fingerprint; /* what was asked, to tell a repeat from another request */
	bool many;               /* simq.submit_many, not simq.submit */
};

/*
 * Stores the n tasks in one transaction (all or none), with req's key when req is not NULL,
 * queues them and announces them; ids[i] gets each task's id.  A task the result cache answers
 * (engine/cache.h) is stored COMPLETED and cached, reusing the stored file, and announced as
 * submitted and completed: it never runs.  Takes ownership of the tasks
 * either way.
 */
enum engine_status engine_submit(struct engine *e, const struct engine_request *req, struct task **tasks, size_t n,
				 int64_t *ids, char **err);
/*
 * The ids stored under req->key: ENGINE_OK with *ids (heap) and *n when req repeats a stored
 * request (logged, nothing is stored); ENGINE_NOT_FOUND when the key is new; ENGINE_INVALID with
 * *err when the key was used for another request.
 */
enum engine_status engine_request_ids(struct engine *e, const struct engine_request *req, int64_t **ids, size_t *n,
				      char **err);
/* Cancels every task of ids that is not final; after[i] gets each one's state afterwards. */
enum engine_status engine_cancel(struct engine *e, const int64_t *ids, size_t n, enum task_state *after, char **err);
enum engine_status engine_reprioritize(struct engine *e, const int64_t *ids, size_t n, enum task_priority prio,
				       enum task_state *after, char **err);

/* What engine_cancel_in and engine_reprioritize_in did to one task. */
enum engine_act {
	ENGINE_ACT_CHANGED,     /* cancelled, or given the new priority */
	ENGINE_ACT_ALREADY,     /* it was so already: cancelled, or at that priority */
	ENGINE_ACT_FINAL,       /* final in another state: left as it is */
	ENGINE_ACT_OTHER_STATE, /* active, but not in the states the caller allowed: left as it is */
};
/* Every state: the `states` of an operation that takes any active task. */
#define ENGINE_ANY_STATE ((1u << TASK_STATE_COUNT) - 1)
/* The states an operation can change: queued and running. */
#define ENGINE_ACTIVE_STATES ((1u << TASK_QUEUED) | (1u << TASK_RUNNING))
/*
 * As engine_cancel and engine_reprioritize, touching only active tasks whose state is in `states`
 * (1 << state each) at the moment of acting, so that a task that started running since the caller
 * read it as queued is left alone; act[i] (may be NULL) gets what came of each id.
 */
enum engine_status engine_cancel_in(struct engine *e, const int64_t *ids, size_t n, unsigned states,
				    enum task_state *after, enum engine_act *act, char **err);
enum engine_status engine_reprioritize_in(struct engine *e, const int64_t *ids, size_t n, enum task_priority prio,
					  unsigned states, enum task_state *after, enum engine_act *act, char **err);
/* What engine_retry did for one task. */
struct engine_retry_answer {
	int64_t id;                 /* the task named */
	enum task_state state;      /* its state */
	int64_t copy;               /* the copy that runs it again, new or made before; 0 when none */
	enum task_state copy_state; /* that copy's state */
	bool fresh;                 /* the copy was made now */
	char *reason;               /* heap: why it was refused (a copy made before failed, say); NULL when done */
};
/*
 * Retries each distinct task of ids (all must exist): a FAILED or CANCELLED task that has no
 * copy gets one, recording its origin; one that has a copy is answered with it (the end of its
 * chain of copies), and refused when that copy failed or was cancelled too, for it is the copy
 * that wants a retry.  Whether a copy exists is decided in the transaction that stores the new
 * ones, so two retries of a task never make two copies.  out (room for n) gets an answer per
 * distinct id, *m their count; free with engine_retry_answers_free().  With each false, one
 * refusal refuses the whole call: ENGINE_STATE with its reason, and nothing is stored.
 */
enum engine_status engine_retry(struct engine *e, const int64_t *ids, size_t n, bool each,
				struct engine_retry_answer *out, size_t *m, char **err);
void engine_retry_answers_free(struct engine_retry_answer *a, size_t n);
/* Pauses or resumes dispatch (backend NULL) or one backend; *now gets whether it is paused now. */
enum engine_status engine_pause(struct engine *e, const char *backend, bool paused, bool *now, char **err);
/*
 * ENGINE_OK when every change the scheduler made is saved (it tries the kept ones once more); else
 * ENGINE_STATE and *err says how many wait and why the store does not take them (engine/unsaved.h).
 */
enum engine_status engine_check_saved(struct engine *e, char **err);
/* Shows pool p (engine/pool.h) to consoles through engine_each_pool; p stays its owner's, freed after the engine's readers stop. */
void engine_add_pool(struct engine *e, struct pool *p);
void engine_each_pool(const struct engine *e, void (*fn)(const struct pool *p, void *ud), void *ud);
/* Adds a backend while the server runs (scheduler_add_backend); ENGINE_INVALID with *err when its name is taken. */
enum engine_status engine_backend_add(struct engine *e, const struct backend_config *c, char **err);
/* Removes one (scheduler_remove_backend; gone: why nobody will answer its calls, or NULL); ENGINE_NOT_FOUND
 * with *err for an unknown name. */
enum engine_status engine_backend_remove(struct engine *e, const char *name, const char *gone, char **err);
/* The states of ids (all must exist), for simq.wait; *all_final says whether every one is final. */
enum engine_status engine_states(struct engine *e, const int64_t *ids, size_t n, enum task_state *states,
				 bool *all_final, char **err);

/* ---- readers ---------------------------------------------------------------------------- */

/* The task, from memory when it is active, else from the store (*owned: free it after). */
enum engine_status engine_find(struct engine *e, int64_t id, const struct task **t, struct task **owned, char **err);
/* Is the task QUEUED or RUNNING? */
bool engine_is_active(const struct engine *e, int64_t id);
/* Whether any of ids is still queued or running, with no store read (a parked simq.wait's wake). */
bool engine_any_active(const struct engine *e, const int64_t *ids, size_t n);
/*
 * The record in memory of an active task, else NULL.  Every RUNNING task has one; a QUEUED task
 * keeps only its place in the queue in memory and its record in the store (DESIGN 7), so read
 * any task with engine_find() and the queue with engine_queue_page().
 */
const struct task *engine_loaded(const struct engine *e, int64_t id);
/*
 * Calls fn with limit queued tasks from position offset (0: the head) in queue order, and their
 * positions among the queued: their records from memory, or read from the store in one query for
 * the page.  Queued means QUEUED: a retry due and back in line for a slot is RUNNING, and not
 * among them (engine_each_running() has it).
 */
enum engine_status engine_queue_page(struct engine *e, size_t offset, size_t limit,
				     void (*fn)(const struct task *t, int64_t position, void *ud), void *ud, char **err);
/* Calls fn for every stored task `from` holds (STORE_HOT, STORE_ARCHIVE) in `state` (-1: any), in id order;
 * fn takes ownership. */
enum engine_status engine_each_task(struct engine *e, unsigned from, int state, void (*fn)(struct task *t, void *ud),
				    void *ud, char **err);
/* Tasks in `state` that finished at or after since_ms, oldest first; fn takes ownership. */
enum engine_status engine_finished_since(struct engine *e, int state, int64_t since_ms,
					 void (*fn)(struct task *t, void *ud), void *ud);
enum engine_status engine_attempts(struct engine *e, int64_t id,
				   void (*fn)(const struct store_attempt *a, void *ud), void *ud);
/* The retry copies of task id, oldest first (*ids heap, NULL when none). */
enum engine_status engine_copies(struct engine *e, int64_t id, int64_t **ids, size_t *n, char **err);
/* Why task id reused a stored result or ran (free with cache_why_free; engine/cache.h). */
enum engine_status engine_cache_why(struct engine *e, int64_t id, struct cache_why *out, char **err);
/* Task id's stored result (free with store_result_free). */
enum engine_status engine_result(struct engine *e, int64_t id, struct store_result *out);
void engine_attempt_counts(const struct engine *e, int64_t out[ATTEMPT_OUTCOME_COUNT]);
/* Task id's result was served (simq.result): the newest for results_max_size's eviction. */
void engine_result_used(struct engine *e, int64_t id);
/* The retention settings the server runs with (DESIGN 7). */
const struct retain_options *engine_retain_options(const struct engine *e);
/*
 * simq clean: deletes the finished tasks sel takes, hot or archived, with their attempts and the
 * result files no other task names (dry_run: counts the same and changes nothing); *out says what
 * was (or would be) freed.  Never touches a queued or running task.  No task event is published.
 */
enum engine_status engine_clean(struct engine *e, const struct store_select *sel, bool dry_run, struct store_freed *out,
				char **err);

const struct queue *engine_queue(const struct engine *e);
/*
 * Tasks QUEUED, each priority's in by_prio (may be NULL): the queue's tasks but the RUNNING ones
 * in it (a retry due, in line for a slot), so that queued and engine_running() count each task once.
 */
size_t engine_queued(const struct engine *e, size_t by_prio[PRIO_COUNT]);
const struct scheduler *engine_scheduler(const struct engine *e);
size_t engine_running(const struct engine *e);
/* The highest task id given so far (0: none): a range of ids past it names no task. */
int64_t engine_last_id(const struct engine *e);
bool engine_paused(const struct engine *e);
/* Why simq paused dispatch by itself (a full disk, say), or NULL: cleared by a resume. */
const char *engine_pause_reason(const struct engine *e);
int64_t engine_now_ms(const struct engine *e);
int64_t engine_started_ms(const struct engine *e);
/* The counts of a statistics window, as of now. */
void engine_stats(const struct engine *e, enum stats_window w, struct stats_counts *out);
/*
 * How long, between from and to (ms), nothing could finish: no task running, and dispatch paused (by
 * the operator or by simq) or nothing queued; for a rate over the rest.  The last ENGINE_HELD_SPANS such
 * spans are known, and the one now; in memory only (a restart forgets them).
 */
int64_t engine_held_ms(const struct engine *e, int64_t from, int64_t to);
/* Tasks PLECS ran to an end in each of the last n minutes, the current one last; cached (may be NULL) those from the cache. */
void engine_minutes(const struct engine *e, int n, int64_t *per_minute, int64_t *cached);
/* Bumped by every change a console would show. */
uint64_t engine_version(const struct engine *e);
/* The last ENGINE_RECENT tasks to finish (completed, failed or cancelled; hot or archived, seeded from the store at
 * the start), newest first: a console's history. */
void engine_each_recent(const struct engine *e, void (*fn)(const struct task *t, void *ud), void *ud);
/*
 * A page of the history, newest first: limit finished tasks from the offset-th newest on, only
 * those in `state` unless it is -1.  The first page of all states comes from the recent tasks
 * kept in memory; any other is read from the store, hot and archived, a page at a time (the
 * archive is never held in memory).  fn's task lives until it returns.
 */
enum engine_status engine_history(struct engine *e, int state, int64_t offset, int64_t limit,
				  void (*fn)(const struct task *t, void *ud), void *ud, char **err);
/*
 * Every RUNNING task (engine_running() of them), in no set order: in a call, its result being
 * written, waiting for its retry, or due and back in the queue until a slot is free.
 */
void engine_each_running(const struct engine *e, void (*fn)(const struct task *t, void *ud), void *ud);
/* CRITICAL/HIGH failures and backends DOWN so far: a console rings its bell when it grows. */
uint64_t engine_alerts(const struct engine *e);
/* Tasks FAILED since the server started, and how many of them the operator has seen (the console, simq status). */
void engine_failures(const struct engine *e, uint64_t *total, uint64_t *seen);
/* The operator has seen the first upto failures (at most all): the mark moves forward only. */
void engine_failures_seen(struct engine *e, uint64_t upto);

/* ---- events and the log ------------------------------------------------------------------- */

struct event_bus *engine_bus(struct engine *e);
/* A line in the log that is not an event; marks the change for consoles. */
void engine_log(struct engine *e, enum log_severity severity, int64_t task_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Calls fn for each kept line after seq, oldest first. */
void engine_log_since(const struct engine *e, uint64_t seq, event_log_fn fn, void *ud);
uint64_t engine_log_seq(const struct engine *e);
/* Writes buffered log lines (once per loop pass). */
void engine_log_flush(struct engine *e);
bool engine_log_reopen(struct engine *e, char **err);

#endif
