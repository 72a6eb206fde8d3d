/*
 * view — what the API answers, rendered from what the engine holds: tasks,
 * results, statistics, lists, and simq.view, the one call for everything a
 * console draws (the queue page, the calls in flight and the retries
 * waiting, the log with each line's severity, the statistics, backends,
 * throughput).  Reads the engine through its readers and the scheduler's
 * iterators; changes nothing (a store that cannot be read is logged).  Loop
 * thread only.
 */
#ifndef SIMQ_SERVER_VIEW_H
#define SIMQ_SERVER_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

#include "engine/engine.h"
#include "server/view-rows.h"

/* The most rows one page (simq.list, simq.view) may ask for. */
#define VIEW_MAX_PAGE 1000
/*
 * The most bytes of vars and solver JSON one simq.list page holds (some 2.5 times that as XML): a page
 * ends before the task that would pass it, but always holds one, so a page of tasks with long vectors
 * is shorter than its limit instead of too large for the server or the client to write or read.
 */
#define VIEW_PAGE_BYTES (8u * 1024 * 1024)
/* Longest a simq.view (or simq.wait) call may wait before answering anyway. */
#define VIEW_MAX_WAIT_S 3600.0

struct view_request {
	int64_t queue_offset, queue_limit;
	int64_t log_since;            /* -1: no log lines */
	int64_t focus;                /* a task id whose queue position the answer gives (0: none) */
	int64_t history;              /* how many of the last tasks to finish the answer lists (0: none) */
	int64_t history_offset;       /* from the history_offset-th newest (a page of the history) */
	int history_state;            /* only tasks in this final state; -1: any */
	const char *state_dir;
	/* The queue_hash and history_hash of the rows the console holds: rows that hash the same are
	 * left out of the answer ("": send them). */
	char queue_since[VIEW_HASH_SIZE], history_since[VIEW_HASH_SIZE];
};

struct view_filter {
	int state;                    /* -1: any */
	char *model, *name, *tag;     /* substrings; a tag matches whole */
	int retried;                  /* -1: any; 0: only tasks never retried; 1: only tasks retried */
	unsigned from;                /* STORE_HOT (default), STORE_ARCHIVE (archived: true) or both (all: true) */
	bool brief;                   /* records' vars as rows show them (proto_brief_vars) */
};

/* simq.list's filter {state, model, name, tag, retried, archived, all, brief} (v may be NULL: none); false and *err for a bad one. */
bool view_read_filter(xmlrpc_value *v, struct view_filter *f, char **err);
/* simq.view's request {version, wait_ms, queue_offset, queue_limit, log_since, focus, history, history_offset,
 * history_state, queue_since, history_since}; false and *err for a bad one. */
bool view_read_request(xmlrpc_value *v, struct view_request *r, int64_t *version, double *wait_ms, char **err);

/* The API's fault code (proto/proto.h) for an engine status that is not ENGINE_OK. */
int view_fault_of(enum engine_status st);
/* An id as XML-RPC: an int where it fits, else an i8. */
xmlrpc_value *view_id(xmlrpc_env *env, int64_t id);
/* [id, ...] */
xmlrpc_value *view_ids(xmlrpc_env *env, const int64_t *ids, size_t n);
/* A task's whole record (simq.get, simq.list); simq.view's brief rows are server/view-rows.c's. */
xmlrpc_value *view_task(xmlrpc_env *env, const struct engine *e, const struct task *t);
/* simq.get: the task with its call, every attempt and its result. */
xmlrpc_value *view_get(xmlrpc_env *env, struct engine *e, const struct task *t);
/* simq.result, and simq.get's "result" (simq.result's CSV is added by server/result.c). */
xmlrpc_value *view_result(xmlrpc_env *env, int64_t id, const struct store_result *r);
/* simq.cache_why's answer for task id: {id, cached, source, nearest, reasons}. */
xmlrpc_value *view_cache_why(xmlrpc_env *env, int64_t id, const struct cache_why *w);
/* simq.stats: the statistics of DESIGN 9. */
xmlrpc_value *view_stats(xmlrpc_env *env, const struct engine *e);
/* simq.status: the counts of a status line, read without paging (cheap at any queue length). */
xmlrpc_value *view_status(xmlrpc_env *env, const struct engine *e);
/* What simq.cancel or simq.reprioritize did to each id, for view_states. */
struct view_acts {
	const enum engine_act *act;
	unsigned states;  /* the states the call allowed (ENGINE_ANY_STATE: any active one) */
	const char *what; /* "cancelled", "given another priority" */
};
/*
 * [{id, state}] for each id; with acts (not NULL), also {done, changed, reason}: whether the task
 * is as the call wanted it (changed now, or so already), and when it is not, why ("task 45 is
 * failed; only queued or running tasks can be " then what).
 */
xmlrpc_value *view_states(xmlrpc_env *env, const int64_t *ids, const enum task_state *states,
			  const struct view_acts *acts, size_t n);
/* simq.retry's answer: the copies' ids, or with each {id, state, done, reason, copy, copy_state, new}. */
xmlrpc_value *view_retries(xmlrpc_env *env, const struct engine_retry_answer *a, size_t n, bool each);
/* The minutes of throughput simq.view gives (the last of them the current one). */
#define VIEW_RATE_MINUTES 30
/*
 * Tasks PLECS ran to an end an hour at the pace of the last 10 minutes, and the seconds to finish
 * what is queued and running at that pace (-1: none finished lately; 0: nothing left): the
 * console's ETA.  cached_per_hour (may be NULL): completions from the cache an hour, on their own.
 */
void view_rate(const struct engine *e, double *per_hour, double *eta, double *cached_per_hour);
/* "1764482405123-4242": this server's start time and pid, which no other server shares. */
void view_server_id(const struct engine *e, char *out, size_t size);
/* simq.view: everything a console draws, but its queue and history rows: those go to *rows (heap,
 * server/view-rows.h), for view_rows_finish on the connection's thread. */
xmlrpc_value *view_console(xmlrpc_env *env, struct engine *e, const struct view_request *req, struct view_rows **rows);
/* The backends as consoles show them: [{name, url, up, ..., pool, job}] (pool and job "" but for a pool's instance,
 * server/view-pool.h). */
xmlrpc_value *view_backends(xmlrpc_env *env, const struct engine *e);
/* simq.list: {total, offset, tasks} of the tasks that match f, at most limit of them and VIEW_PAGE_BYTES;
 * NULL and *err when the store fails. */
xmlrpc_value *view_list(xmlrpc_env *env, struct engine *e, const struct view_filter *f, int64_t offset, int64_t limit,
			char **err);

#endif
