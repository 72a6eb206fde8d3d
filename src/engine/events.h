/*
 * events — the bus every change goes through (DESIGN 8), and the log sink.
 *
 * Publishers fill a struct event and call events_publish(); subscribers are
 * called at once, in the order they subscribed, so a task's events reach
 * every sink in the order they happened.  A subscriber may unsubscribe
 * anything, itself included, while an event is being delivered.  The log
 * sink keeps the last N lines in memory with sequence numbers (consoles ask
 * for "lines after seq") and appends each line to simulation.log, buffered
 * until event_log_flush() (the server flushes once per loop pass, so a batch
 * of 1,000 submits is one write), and reopened by event_log_reopen() after
 * logrotate (SIGHUP).  Loop thread only.
 */
#ifndef SIMQ_ENGINE_EVENTS_H
#define SIMQ_ENGINE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/task.h"
#include "util/buf.h"

#define EVENT_TYPES(X)                        \
	X(SUBMITTED, "submitted")             \
	X(STARTED, "started")                 \
	X(PROGRESS, "progress")               \
	X(COMPLETED, "completed")             \
	X(ATTEMPT_FAILED, "attempt_failed")   \
	X(FAILED, "failed")                   \
	X(CANCELLED, "cancelled")             \
	X(REPRIORITIZED, "reprioritized")     \
	X(BACKEND_DOWN, "backend_down")       \
	X(BACKEND_UP, "backend_up")           \
	X(QUEUE_DRAINED, "queue_drained")     \
	X(PAUSED, "paused")

enum event_type {
#define X(id, name) EVENT_##id,
	EVENT_TYPES(X)
#undef X
	EVENT_TYPE_COUNT
};

/* How much a log line matters; consoles colour by it. */
#define LOG_SEVERITIES(X)             \
	X(INFO, "info")               \
	X(WARNING, "warning")         \
	X(ERROR, "error")

enum log_severity {
#define X(id, name) SEVERITY_##id,
	LOG_SEVERITIES(X)
#undef X
	SEVERITY_COUNT
};

/* Everything a sink may want; fields that do not apply are 0 or NULL. */
struct event {
	enum event_type type;
	int64_t time;              /* wall clock, ms */
	int64_t task_id;
	const char *task_name;
	const char *model;         /* the model's path */
	enum task_priority priority;
	enum task_priority old_priority; /* REPRIORITIZED */
	enum task_state state;
	int attempt;               /* the attempt this is about, 1-based */
	int max_attempts;
	int64_t batch_id;
	int batch_size;
	const char *backend;
	const char *error;
	const char *error_class;   /* "transient" or "permanent" */
	int64_t retry_at;          /* ATTEMPT_FAILED: when the retry is due, wall ms; 0: none */
	double progress;           /* PROGRESS: estimated fraction done */
	const char *detail;        /* extra words, e.g. why a backend is DOWN */
	const char *result_path;   /* COMPLETED: the result file, or NULL */
	const char *result_summary; /* COMPLETED: its per-signal summary as JSON, or NULL */
	int64_t source;            /* COMPLETED from the cache: the task whose result it reuses; 0: it ran */
};

typedef void (*event_fn)(const struct event *ev, void *ud);

struct event_bus;

const char *event_type_name(enum event_type type);
const char *log_severity_name(enum log_severity severity);
/* How much an event's log line matters: failures are errors, retries and outages warnings. */
enum log_severity event_severity(const struct event *ev);
bool event_type_parse(const char *name, enum event_type *type);

struct event_bus *events_new(void);
void events_free(struct event_bus **bus);
/* Returns a handle for events_unsubscribe(); handles are never 0. */
int events_subscribe(struct event_bus *bus, event_fn fn, void *ud);
void events_unsubscribe(struct event_bus *bus, int handle);
void events_publish(struct event_bus *bus, const struct event *ev);
/* One line for people, without the time: "9050 attempt 1 failed: refused (transient); retry in 5s". */
void events_format(const struct event *ev, struct buf *out);

struct event_log;

/* Keeps the last `keep` lines; path may be NULL for memory only.  NULL and *err on failure. */
struct event_log *event_log_new(const char *path, size_t keep, char **err);
void event_log_free(struct event_log **log);
/* Subscribes the sink to bus (once). */
void event_log_attach(struct event_log *log, struct event_bus *bus);
/* Adds a line that is not an event (server start, recovery).  Every line, these and the events',
 * is kept and written as printable text: control characters and bytes that are not UTF-8 are
 * shown escaped (buf_add_printable), so no text that reaches the log can write escapes into it. */
void event_log_add(struct event_log *log, int64_t time_ms, int64_t task_id, enum log_severity severity,
		   const char *text);
/* Writes buffered lines to the file; the owner calls it once per loop pass. */
void event_log_flush(struct event_log *log);
/* Reopens the file (after logrotate moved it); false and *err when it cannot. */
bool event_log_reopen(struct event_log *log, char **err);
uint64_t event_log_last_seq(const struct event_log *log);
/* One kept line, valid during the callback. */
struct log_entry {
	uint64_t seq;
	int64_t time_ms;
	int64_t task_id;
	enum log_severity severity;
	const char *text;
};

typedef void (*event_log_fn)(const struct log_entry *line, void *ud);

/* Calls fn for each kept line with a sequence number above seq, oldest first; returns how many. */
size_t event_log_since(const struct event_log *log, uint64_t seq, event_log_fn fn, void *ud);

#endif
