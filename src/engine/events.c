#include "autoconf.h"

#include "engine/events.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/time.h"
#include "util/xalloc.h"

static const char *const type_names[] = {
#define X(id, name) name,
	EVENT_TYPES(X)
#undef X
};

const char *event_type_name(enum event_type type)
{
	return (unsigned)type < EVENT_TYPE_COUNT ? type_names[type] : "?";
}

static const char *const severity_names[] = {
#define X(id, name) name,
	LOG_SEVERITIES(X)
#undef X
};

const char *log_severity_name(enum log_severity severity)
{
	return (unsigned)severity < SEVERITY_COUNT ? severity_names[severity] : "info";
}

enum log_severity event_severity(const struct event *ev)
{
	switch (ev->type) {
	case EVENT_FAILED:
	case EVENT_PAUSED:
		return SEVERITY_ERROR;
	case EVENT_ATTEMPT_FAILED:
	case EVENT_BACKEND_DOWN:
		return SEVERITY_WARNING;
	default:
		return SEVERITY_INFO;
	}
}

bool event_type_parse(const char *name, enum event_type *type)
{
	for (int i = 0; i < EVENT_TYPE_COUNT; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*type = (enum event_type)i;
			return true;
		}
	}
	return false;
}

/* ---- the bus ------------------------------------------------------------ */

struct subscriber {
	int handle;     /* 0: unsubscribed, removed after the current delivery */
	event_fn fn;
	void *ud;
};

struct event_bus {
	struct subscriber *subs;
	size_t n, cap;
	int next_handle;
	int depth;      /* publishes in progress (a subscriber may publish) */
};

struct event_bus *events_new(void)
{
	struct event_bus *bus = xcalloc(1, sizeof *bus);

	bus->next_handle = 1;
	return bus;
}

void events_free(struct event_bus **bus)
{
	if (*bus == NULL)
		return;
	free((*bus)->subs);
	xfree(bus);
}

int events_subscribe(struct event_bus *bus, event_fn fn, void *ud)
{
	if (bus->n == bus->cap) {
		bus->cap = bus->cap ? bus->cap * 2 : 8;
		bus->subs = xreallocarray(bus->subs, bus->cap, sizeof *bus->subs);
	}
	bus->subs[bus->n] = (struct subscriber){.handle = bus->next_handle++, .fn = fn, .ud = ud};
	bus->n++;
	return bus->subs[bus->n - 1].handle;
}

static void compact(struct event_bus *bus)
{
	size_t j = 0;

	for (size_t i = 0; i < bus->n; i++)
		if (bus->subs[i].handle != 0)
			bus->subs[j++] = bus->subs[i];
	bus->n = j;
}

void events_unsubscribe(struct event_bus *bus, int handle)
{
	for (size_t i = 0; i < bus->n; i++)
		if (bus->subs[i].handle == handle)
			bus->subs[i].handle = 0;
	if (bus->depth == 0)
		compact(bus);
}

void events_publish(struct event_bus *bus, const struct event *ev)
{
	/* Subscribers added during delivery see the next event, not this one. */
	size_t n = bus->n;

	bus->depth++;
	for (size_t i = 0; i < n; i++)
		if (bus->subs[i].handle != 0)
			bus->subs[i].fn(ev, bus->subs[i].ud);
	if (--bus->depth == 0)
		compact(bus);
}

/* ---- formatting: one function per event type ---------------------------- */

static const char *base_name(const char *path)
{
	const char *slash;

	if (path == NULL)
		return "?";
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void add_task(struct buf *out, const struct event *ev)
{
	buf_add_int(out, ev->task_id);
	buf_addc(out, ' ');
}

static void fmt_submitted(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	/* One a task, 100,000 in a large submit: without printf. */
	buf_adds(out, "submitted ");
	buf_adds(out, task_priority_name(ev->priority));
	if (ev->task_name) {
		buf_addc(out, ' ');
		buf_adds(out, ev->task_name);
	}
	buf_adds(out, " (");
	buf_adds(out, base_name(ev->model));
	buf_addc(out, ')');
}

static void fmt_started(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	buf_addf(out, "attempt %d started", ev->attempt);
	if (ev->backend)
		buf_addf(out, " on %s", ev->backend);
	if (ev->batch_size > 1)
		buf_addf(out, " in batch %lld (%d tasks)", (long long)ev->batch_id, ev->batch_size);
}

static void fmt_progress(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	buf_addf(out, "~%d%% done (estimate)", (int)(ev->progress * 100));
}

static void fmt_completed(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	buf_adds(out, "completed");
	if (ev->source)
		buf_addf(out, " from the cache (result of task %lld)", (long long)ev->source);
	if (ev->attempt > 1)
		buf_addf(out, " on attempt %d", ev->attempt);
	if (ev->detail)
		buf_addf(out, " (%s)", ev->detail);
}

static void fmt_attempt_failed(const struct event *ev, struct buf *out)
{
	char wait[32];

	add_task(out, ev);
	buf_addf(out, "attempt %d failed: %s (%s)", ev->attempt, ev->error ? ev->error : "unknown error",
		 ev->error_class ? ev->error_class : "transient");
	if (ev->retry_at > 0)
		buf_addf(out, "; retry in %s",
			 time_format_duration(wait, sizeof wait, (double)(ev->retry_at - ev->time) / 1000.0));
}

static void fmt_failed(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	buf_addf(out, "FAILED %s", task_priority_name(ev->priority));
	if (ev->attempt > 0)
		buf_addf(out, " after %d attempt%s", ev->attempt, ev->attempt == 1 ? "" : "s");
	buf_addf(out, ": %s", ev->error ? ev->error : "unknown error");
}

static void fmt_cancelled(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	buf_adds(out, "cancelled");
	if (ev->state == TASK_RUNNING)
		buf_adds(out, " while running; PLECS finishes the run and its result is discarded");
}

static void fmt_reprioritized(const struct event *ev, struct buf *out)
{
	add_task(out, ev);
	buf_addf(out, "priority %s -> %s", task_priority_name(ev->old_priority), task_priority_name(ev->priority));
}

static void fmt_backend_down(const struct event *ev, struct buf *out)
{
	buf_addf(out, "%s DOWN", ev->backend ? ev->backend : "backend");
	if (ev->detail)
		buf_addf(out, " %s", ev->detail);
	if (ev->error)
		buf_addf(out, ": %s", ev->error);
}

static void fmt_backend_up(const struct event *ev, struct buf *out)
{
	buf_addf(out, "%s UP", ev->backend ? ev->backend : "backend");
	if (ev->detail)
		buf_addf(out, " %s", ev->detail);
}

static void fmt_queue_drained(const struct event *ev, struct buf *out)
{
	buf_adds(out, "queue drained: nothing queued or running");
	if (ev->detail)
		buf_addf(out, " (%s)", ev->detail);
}

static void fmt_paused(const struct event *ev, struct buf *out)
{
	buf_adds(out, "dispatch paused");
	if (ev->detail)
		buf_addf(out, ": %s", ev->detail);
}

static void (*const formatters[EVENT_TYPE_COUNT])(const struct event *, struct buf *) = {
	[EVENT_PAUSED] = fmt_paused,
	[EVENT_SUBMITTED] = fmt_submitted,
	[EVENT_STARTED] = fmt_started,
	[EVENT_PROGRESS] = fmt_progress,
	[EVENT_COMPLETED] = fmt_completed,
	[EVENT_ATTEMPT_FAILED] = fmt_attempt_failed,
	[EVENT_FAILED] = fmt_failed,
	[EVENT_CANCELLED] = fmt_cancelled,
	[EVENT_REPRIORITIZED] = fmt_reprioritized,
	[EVENT_BACKEND_DOWN] = fmt_backend_down,
	[EVENT_BACKEND_UP] = fmt_backend_up,
	[EVENT_QUEUE_DRAINED] = fmt_queue_drained,
};

void events_format(const struct event *ev, struct buf *out)
{
	if ((unsigned)ev->type < EVENT_TYPE_COUNT)
		formatters[ev->type](ev, out);
	else
		buf_adds(out, "unknown event");
}

/* ---- the log sink -------------------------------------------------------- */

struct log_line {
	uint64_t seq;
	int64_t time;
	int64_t task_id;
	enum log_severity severity;
	char *text;
};

/* Lines waiting for the file beyond which they are written at once, not at the loop pass's end. */
#define LOG_PENDING_MAX (1024 * 1024)

struct event_log {
	char *path;
	int fd;                   /* the file, O_APPEND; -1: memory only */
	struct buf out;           /* whole lines not written yet */
	size_t out_lines;
	int64_t out_first, out_last; /* their first and last line's times (ms) */
	/* Lines the file did not take (a full disk): said in the file when it takes lines again. */
	uint64_t lost;
	int64_t lost_first, lost_last;
	int lost_errno;
	struct log_line *ring;
	size_t keep, count, head; /* head: where the next line goes */
	uint64_t seq;
	struct event_bus *bus;
	int handle;
};

static int open_log(const char *path, char **err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0)
		*err = xasprintf("cannot open the log %s: %s", path, strerror(errno));
	return fd;
}

/*
 * Writes the waiting lines whole or not at all: a write the disk cut short is cut off the file
 * again, so no line is ever half written or run into the next one.  Lines the file did not take
 * are counted, and the first write that works says how many were lost, and when.
 */
static void write_pending(struct event_log *log)
{
	struct buf all = BUF_INIT;
	const struct buf *lines = &log->out; /* what is written: the lines, or the notice and the lines */
	size_t done = 0;
	int error = ENOSPC; /* a write that takes nothing and says nothing: the disk is full */

	if (log->fd < 0 || log->out.len == 0)
		return;
	if (log->lost) {
		char now[TIME_ISO8601_MAX], from[TIME_ISO8601_MAX], to[TIME_ISO8601_MAX];

		buf_addf(&all, "%s %" PRIu64 " lines of this log from %s to %s could not be written: %s\n",
			 time_iso8601(now, log->out_first * 1000000, true), log->lost,
			 time_iso8601(from, log->lost_first * 1000000, true), time_iso8601(to, log->lost_last * 1000000, true),
			 strerror(log->lost_errno));
		buf_add(&all, log->out.data, log->out.len);
		lines = &all;
	}
	off_t end = lseek(log->fd, 0, SEEK_END);

	while (done < lines->len) {
		ssize_t n = write(log->fd, lines->data + done, lines->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = n < 0 ? errno : error;
			break;
		}
		done += (size_t)n;
	}
	if (done == lines->len) {
		log->lost = 0;
	} else {
		if (done > 0 && end >= 0 && ftruncate(log->fd, end) != 0)
			(void)!write(log->fd, "\n", 1); /* cannot take back half a line: end it at least */
		if (log->lost == 0)
			log->lost_first = log->out_first;
		log->lost += log->out_lines;
		log->lost_last = log->out_last;
		log->lost_errno = error;
	}
	buf_free(&all);
	buf_truncate(&log->out, 0);
	log->out_lines = 0;
}

struct event_log *event_log_new(const char *path, size_t keep, char **err)
{
	struct event_log *log = xcalloc(1, sizeof *log);

	log->keep = keep ? keep : 1;
	log->ring = xcalloc(log->keep, sizeof *log->ring);
	log->fd = -1;
	if (path) {
		log->path = xstrdup(path);
		log->fd = open_log(path, err);
		if (log->fd < 0) {
			event_log_free(&log);
			return NULL;
		}
	}
	return log;
}

void event_log_free(struct event_log **lp)
{
	struct event_log *log = *lp;

	if (log == NULL)
		return;
	if (log->bus && log->handle)
		events_unsubscribe(log->bus, log->handle);
	for (size_t i = 0; i < log->keep; i++)
		free(log->ring[i].text);
	free(log->ring);
	write_pending(log);
	if (log->fd >= 0)
		close(log->fd);
	buf_free(&log->out);
	free(log->path);
	free(log);
	*lp = NULL;
}

/* text as a line of printable text: control characters and bytes that are not UTF-8 escaped
 * (buf_add_printable), whoever wrote it — a client's Host, a hook's output, PLECS's error. */
static char *printable_copy(const char *text)
{
	size_t len = strlen(text);
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f) {
			buf_add_printable(&b, text, len);
			return buf_detach(&b);
		}
	return xstrdup(text);
}

void event_log_add(struct event_log *log, int64_t time_ms, int64_t task_id, enum log_severity severity,
		   const char *text)
{
	struct log_line *slot = &log->ring[log->head];
	char stamp[TIME_ISO8601_MAX];

	free(slot->text);
	slot->seq = ++log->seq;
	slot->time = time_ms;
	slot->task_id = task_id;
	slot->severity = severity;
	slot->text = printable_copy(text);
	log->head = (log->head + 1) % log->keep;
	if (log->count < log->keep)
		log->count++;
	if (log->fd < 0)
		return;
	if (log->out_lines++ == 0)
		log->out_first = time_ms;
	log->out_last = time_ms;
	buf_adds(&log->out, time_iso8601(stamp, time_ms * 1000000, true));
	buf_addc(&log->out, ' ');
	buf_adds(&log->out, slot->text);
	buf_addc(&log->out, '\n');
	if (log->out.len >= LOG_PENDING_MAX)
		write_pending(log);
}

static void log_event(const struct event *ev, void *ud)
{
	struct event_log *log = ud;
	struct buf line = BUF_INIT;

	/* Progress changes every few seconds; the log keeps what an operator reads back. */
	if (ev->type == EVENT_PROGRESS)
		return;
	events_format(ev, &line);
	event_log_add(log, ev->time, ev->task_id, event_severity(ev), buf_str(&line));
	buf_free(&line);
}

void event_log_attach(struct event_log *log, struct event_bus *bus)
{
	if (log->bus)
		return;
	log->bus = bus;
	log->handle = events_subscribe(bus, log_event, log);
}

void event_log_flush(struct event_log *log)
{
	write_pending(log);
}

bool event_log_reopen(struct event_log *log, char **err)
{
	int fd;

	if (log->path == NULL)
		return true;
	fd = open_log(log->path, err);
	if (fd < 0)
		return false;
	write_pending(log); /* to the file the lines were meant for */
	if (log->fd >= 0)
		close(log->fd);
	log->fd = fd;
	return true;
}

uint64_t event_log_last_seq(const struct event_log *log)
{
	return log->seq;
}

size_t event_log_since(const struct event_log *log, uint64_t seq, event_log_fn fn, void *ud)
{
	size_t first = (log->head + log->keep - log->count) % log->keep, n = 0;

	for (size_t i = 0; i < log->count; i++) {
		const struct log_line *l = &log->ring[(first + i) % log->keep];

		if (l->seq > seq) {
			struct log_entry e = {.seq = l->seq, .time_ms = l->time, .task_id = l->task_id,
					      .severity = l->severity, .text = l->text};

			fn(&e, ud);
			n++;
		}
	}
	return n;
}
