/*
 * store — SQLite persistence of tasks, attempts, results and the log.
 *
 * One database per state dir, in WAL mode, shared by the server and CLI
 * processes through SQLite's locking and a busy timeout.  A submit is durable
 * before store_submit() returns its id; store_commit() writes a set of task
 * changes (a batch's, say) in one transaction and keeps the all-time
 * statistics counters in the same transaction, so they can never disagree
 * with the tasks.  store_open() migrates the schema and recovers after a
 * crash (DESIGN 6): tasks whose attempt was in flight go back to QUEUED with
 * an `interrupted` attempt that is not a retry; tasks waiting to retry keep
 * their due time.  Every failure returns a status and leaves a message for a
 * person in store_error().  Only the loop thread (or a CLI's main thread)
 * uses a struct store.
 */
#ifndef SIMQ_ENGINE_STORE_H
#define SIMQ_ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/cachekey.h"
#include "engine/stats.h"
#include "engine/task.h"

#define STORE_STATUSES(X)                                  \
	X(OK, "ok")                                        \
	X(CANTOPEN, "cannot open the database")            \
	X(BUSY, "the database is locked")                  \
	X(CORRUPT, "the database is damaged")              \
	X(FULL, "the disk is full")                        \
	X(SCHEMA, "the database is from a newer simq")     \
	X(NOTFOUND, "no such task")                        \
	X(STATE, "not allowed in the task's state")        \
	X(IO, "the database could not be read or written")

enum store_status {
#define X(id, text) STORE_##id,
	STORE_STATUSES(X)
#undef X
};

enum store_durability { STORE_DURABILITY_NORMAL, STORE_DURABILITY_FULL };

/* The schema this build writes. */
#define STORE_SCHEMA_VERSION 7

struct store;

struct store_open_options {
	enum store_durability durability;
	int busy_timeout_ms;         /* 0: 5000 */
	int64_t now_ms;              /* recovery's clock; 0: the wall clock */
	bool read_only_recovery;     /* skip recovery (CLI readers) */
};

struct store_recovery {
	int64_t interrupted;         /* tasks sent back to QUEUED */
	int64_t waiting_retry;       /* tasks that keep waiting to retry */
};

/* Opens (creating if needed) the database at path.  On failure returns NULL
 * and *err gets a heap message (caller frees). */
struct store *store_open(const char *path, const struct store_open_options *opt, struct store_recovery *rec,
			 char **err);
void store_close(struct store **s);
/* The message of the last failure, for a person. */
const char *store_error(const struct store *s);
const char *store_status_text(enum store_status st);

/* Stores t (state QUEUED or, for a cache hit, COMPLETED) and sets t->id; t->submitted defaults to now. */
enum store_status store_submit(struct store *s, struct task *t);
/* Stores all n tasks in one transaction, or none of them. */
enum store_status store_submit_many(struct store *s, struct task **tasks, size_t n);

/*
 * Stores retry copies (copies[i]->origin set; NULL entries are passed over) in one transaction,
 * each only when its origin has no copy yet: existing[i] gets the newest copy made before (its
 * copies[i] is not stored and keeps id 0), or 0 when copies[i] was stored now.  Deciding in the
 * transaction that stores keeps two retries of one task from both making a copy.
 */
enum store_status store_submit_retries(struct store *s, struct task **copies, size_t n, int64_t *existing);
/* A setting that outlives a server (the operator's pause): *value (heap), or STORE_NOTFOUND. */
enum store_status store_setting_get(struct store *s, const char *name, char **value);
/* Saves a setting; a NULL value removes it. */
enum store_status store_setting_put(struct store *s, const char *name, const char *value);
/* The highest task id given so far (0: none). */
enum store_status store_last_id(struct store *s, int64_t *id);
/* The ids of the tasks whose origin is origin, oldest first (*ids heap, NULL when none). */
enum store_status store_copies(struct store *s, int64_t origin, int64_t **ids, size_t *n);

/* A client's request key and what it asked (DESIGN 20). */

struct store_request {
	const char *key;   /* heap when store_request_find() filled it */
	const char *fingerprint; /* what was asked, to tell a repeat from another request under the same key */
	bool many;         /* simq.submit_many (an array of ids), not simq.submit (one id) */
	int64_t first_id;  /* the request's ids: first_id .. first_id + count - 1 */
	int64_t count;
	int64_t created;   /* wall ms */
};

/*
 * As store_submit_many(), and stores req (may be NULL) with the tasks' ids in the same
 * transaction.  A key stored before fails with STORE_STATE and stores nothing.
 */
enum store_status store_submit_request(struct store *s, struct task **tasks, size_t n, const struct store_request *req);
/* The request stored under key (free with store_request_free), or STORE_NOTFOUND. */
enum store_status store_request_find(struct store *s, const char *key, struct store_request *out);
void store_request_free(struct store_request *r);

struct store_result;
/*
 * As store_submit_request(), with hits (may be NULL): a task stored COMPLETED from the cache gets
 * a results row naming hits[i]'s file and its source, in the same transaction.
 */
enum store_status store_submit_cached(struct store *s, struct task **tasks, size_t n, const struct store_request *req,
				      const struct store_result *const *hits);

/*
 * A task's result row.  A file may be named by several rows: a task completed from the cache has
 * its own row naming the file of the task that ran (source), and no file of its own.
 */
struct store_result {
	int64_t task_id;
	char *path;
	char *format;       /* "csv" or "mat" */
	int64_t points;
	int64_t signals;
	char *summary;      /* per-signal min/max/mean/rms as JSON */
	char *cache_key;    /* engine/cachekey.h, or NULL: not in the cache */
	int64_t source;     /* completed from the cache: the task whose run made the file; 0: this task ran */
	struct cachekey_parts parts; /* a run's key parts (parts.model NULL when not kept) */
	int64_t evicted;    /* when the file was evicted for results_max_size (wall ms), 0: it is kept */
	int64_t size;       /* the file's size as written (bytes), 0: not known (written before simq kept it) */
};

enum store_attempt_op { STORE_ATTEMPT_NONE, STORE_ATTEMPT_BEGIN, STORE_ATTEMPT_END };

/* One task's change: its fields as they are now, and an attempt that began or ended. */
struct store_change {
	struct task *task;
	enum store_attempt_op attempt;
	const char *backend;         /* BEGIN */
	int64_t batch_id;            /* BEGIN */
	enum attempt_outcome outcome; /* END */
	const char *error;           /* END, may be NULL */
	int64_t time;                /* when the attempt began or ended */
	const struct store_result *result; /* stored in the same transaction, may be NULL */
};

/*
 * Writes the changes in one transaction.  BEGIN adds attempt row
 * task->attempt_rows (the caller has counted it); END closes it.  Counters
 * move for each task that reached a final state.  On success every task's
 * stored_state becomes its state.  Refuses (STORE_STATE) a change whose
 * stored state cannot move to the new one.
 */
enum store_status store_commit(struct store *s, struct store_change *changes, size_t n);

/* Calls fn for every QUEUED or RUNNING task, in id order; fn takes ownership. */
enum store_status store_load_active(struct store *s, void (*fn)(struct task *t, void *ud), void *ud);
/* Where a task is: the hot tables, or the archive (DESIGN 7); a reader may take either or both. */
enum { STORE_HOT = 1u << 0, STORE_ARCHIVE = 1u << 1 };
/* Calls fn for every task `from` holds, in id order, only those in `state` unless it is -1; fn takes ownership. */
enum store_status store_list(struct store *s, unsigned from, int state, void (*fn)(struct task *t, void *ud), void *ud);
/* Calls fn for every task in `state` that finished at or after since_ms, hot or archived, oldest
 * first (the finished-time indexes: a night's, not all time's); fn takes ownership. */
enum store_status store_finished_since(struct store *s, int state, int64_t since_ms,
				      void (*fn)(struct task *t, void *ud), void *ud);
/* Calls fn for limit finished tasks from the offset-th newest on, newest first, hot or archived, only
 * those in `state` unless it is -1 (a page of a console's history); fn takes ownership. */
enum store_status store_finished_page(struct store *s, int state, int64_t offset, int64_t limit,
				      void (*fn)(struct task *t, void *ud), void *ud);
/* The task with that id, hot or archived (caller frees), or NULL with STORE_NOTFOUND. */
enum store_status store_get(struct store *s, int64_t id, struct task **out);
/* Calls fn for each stored task of ids, in no set order, in one query per 64 ids; ids the store
 * does not have are left out.  fn takes ownership. */
enum store_status store_get_many(struct store *s, const int64_t *ids, size_t n,
				 void (*fn)(struct task *t, void *ud), void *ud);

/* The kept all-time counters. */
enum store_status store_counters(struct store *s, struct stats_counts *out);
/* The same figures recomputed from the tasks, for tasks finished at or after since_ms. */
enum store_status store_recount(struct store *s, int64_t since_ms, struct stats_counts *out);
/* The kept per-minute counts of tasks that finished at or after since_ms (the 24 h window at
 * start), oldest first: written with the transitions, they outlive the tasks clean and purge_after
 * delete.  Older minutes are dropped. */
enum store_status store_minute_counts(struct store *s, int64_t since_ms,
				       void (*fn)(int64_t minute_ms, const struct stats_counts *c, void *ud), void *ud);

/* Appends a line to the log table; *seq gets its sequence number. */
enum store_status store_log_append(struct store *s, int64_t time_ms, int64_t task_id, const char *text, int64_t *seq);

enum store_status store_result_put(struct store *s, const struct store_result *r);
/* The result of task_id (free with store_result_free), or STORE_NOTFOUND. */
enum store_status store_result_get(struct store *s, int64_t task_id, struct store_result *out);
/*
 * A completed result with that cache key whose file is not evicted, or STORE_NOTFOUND: the newest
 * run's row first (a --no-cache run refreshes the entry), then rows that reuse a file.
 */
enum store_status store_result_by_key(struct store *s, const char *cache_key, struct store_result *out);
/* Calls fn with up to limit such rows in that order, until fn returns false. */
enum store_status store_cache_hits(struct store *s, const char *cache_key, int limit,
				   bool (*fn)(const struct store_result *r, void *ud), void *ud);
/* The file at path is not a result to reuse (gone, damaged): no row naming it is a cache entry now. */
enum store_status store_cache_drop(struct store *s, const char *path);
/* Whether any stored run's model had these bytes: a submit of a new model looks up no keys. */
enum store_status store_cache_has_bytes(struct store *s, const char *model_bytes, bool *has);
/*
 * Calls fn with the newest `limit` entries (rows with key parts) of model path or model bytes made
 * before before_ms (0: any time), newest first.
 */
enum store_status store_cache_entries(struct store *s, const char *model, const char *model_bytes, int64_t before_ms,
				      int limit, void (*fn)(const struct store_result *r, void *ud), void *ud);
void store_result_free(struct store_result *r);

/* Caps the database at `pages` pages of its page size (SQLite's max_page_count), so
 * that growing past it fails as a full disk would; 0 removes the cap. */
enum store_status store_limit_pages(struct store *s, int64_t pages);

/* Counts of tasks per state, from the database. */
/* Attempts that ended, by outcome, all time (kept in memory: /metrics reads it at every scrape). */
void store_attempt_counts(const struct store *s, int64_t out[ATTEMPT_OUTCOME_COUNT]);

/* One attempt as stored; the strings live until fn returns, and may be NULL. */
struct store_attempt {
	int n;
	const char *backend;
	int64_t batch_id;
	int64_t started, ended; /* wall ms; ended 0 while in flight */
	enum attempt_outcome outcome;
	const char *error;
};

/* Calls fn for each attempt of the task, oldest first. */
enum store_status store_attempts(struct store *s, int64_t task_id, void (*fn)(const struct store_attempt *a, void *ud),
				 void *ud);
enum store_status store_count_states(struct store *s, int64_t counts[TASK_STATE_COUNT]);

/*
 * ---- archive and retention (store-retain.c, DESIGN 7) ----
 * Each call is one bounded transaction; files are the caller's: a call names the result files
 * that no row names any more through gone(path, ud), after its commit, for the caller to delete.
 * A file may be named by several results rows (a cached task's row names its source's file), so
 * a file goes only with the last row that names it, and results rows count each file's bytes
 * once (on one row; the others hold 0).
 */
/* Moves up to limit finished tasks that finished before before_ms, oldest first, with their attempts,
 * from the hot tables to the archive in one transaction; *moved gets how many. */
enum store_status store_archive(struct store *s, int64_t before_ms, int64_t limit, int64_t *moved);

/* The finished tasks a deletion takes. */
struct store_select {
	unsigned from;           /* STORE_HOT, STORE_ARCHIVE or both */
	int64_t finished_before; /* only tasks that finished before (wall ms); 0: any */
	unsigned states;         /* 1 << state of the final states taken; 0: all three */
	const char *model;       /* a model as util/match.h's match_model takes it; NULL: any */
	const char *name;        /* a name as match_text takes it (part of it, or a shell pattern); NULL: any */
	int64_t limit;           /* the oldest-finished limit tasks; 0: all */
	bool purge;              /* purge_after's deletion (else simq clean's): what show says of the ids later */
	int64_t now_ms;          /* when, for that record; 0: the wall clock */
};

/* What a deletion or an eviction freed (or, in a dry run, would). */
struct store_freed {
	int64_t tasks;
	int64_t by_state[TASK_STATE_COUNT];
	int64_t files;
	int64_t bytes;
};

/* A file's size for the store (size_fn), -1 when there is none; called for files not sized yet. */
typedef int64_t (*store_size_fn)(const char *path, void *ud);
/* A result file no row names any more (or evicted): the caller deletes it. */
typedef void (*store_gone_fn)(const char *path, void *ud);

/*
 * Deletes the finished tasks sel takes, with their attempts and results rows, in one transaction
 * (queued and running tasks are never taken); *out gets the counts and the files and bytes freed.
 * With dry_run it counts the same and changes nothing.
 */
enum store_status store_delete_finished(struct store *s, const struct store_select *sel, bool dry_run,
					store_size_fn size, store_gone_fn gone, void *ud, struct store_freed *out);
/* Sizes up to limit results rows that have no size yet (size_fn; their `used` from their task's
 * finish); *sized gets how many. */
enum store_status store_results_size(struct store *s, int64_t limit, store_size_fn size, void *ud, int64_t *sized);
/* The bytes of the result files that are kept (not evicted), each file once. */
enum store_status store_results_bytes(struct store *s, int64_t *bytes);
/*
 * Evicts the least recently used result files, at most limit of them, until need bytes are freed
 * or only files used at or after keep_after are left: their rows keep the summary and say when
 * (evicted = now_ms).  *out gets the files and bytes.
 */
enum store_status store_evict(struct store *s, int64_t need, int64_t keep_after, int64_t now_ms, int64_t limit,
			      store_gone_fn gone, void *ud, struct store_freed *out);
/* Task task_id's result was served or reused (a cache hit) at now_ms: the newest for eviction. */
enum store_status store_result_used(struct store *s, int64_t task_id, int64_t now_ms);

/* ---- for the store's own files (store.c, store-retain.c) only ---- */
struct sqlite3;
struct sqlite3_stmt;
struct sqlite3 *store_db(struct store *s);
/* Turns an SQLite failure while `doing` into a status and a message for a person. */
enum store_status store_fail(struct store *s, int rc, const char *doing);
void store_set_error(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A task from a row of TASK_COLUMNS or ARCHIVED_COLUMNS (engine/store-private.h; caller frees). */
struct task *store_row_task(struct sqlite3_stmt *st);

#endif
