/*
 * server — the process that owns the engine all night.
 *
 * One server per state dir, guarded by a lock on simq.pid.  Its libev loop
 * thread owns every piece of engine state (store, queue, tasks, statistics,
 * events); the Abyss threads that serve the API (http.c) only post calls to
 * the loop and wait for the answer, which api.c computes on the loop thread.
 * Until the scheduler lands, submitted tasks stay QUEUED.
 */
#ifndef SIMQ_SERVER_SERVER_H
#define SIMQ_SERVER_SERVER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "engine/events.h"
#include "engine/queue.h"
#include "engine/stats.h"
#include "engine/store.h"
#include "util/idmap.h"

struct server_options {
	const char *plecs_url;   /* --plecs URL: one backend, instead of [backend] sections */
	const char *state_dir;   /* --state, may be NULL */
	const char *config_path; /* -c, may be NULL */
	bool foreground;         /* -f */
};

struct api_call;

struct server {
	struct ev_loop *loop;
	struct config *cfg;
	char *state_dir, *socket_path, *db_path, *log_path, *pid_path, *token_path;
	int pid_fd;
	struct store *store;
	struct queue *queue;
	struct idmap active;        /* id -> struct task *, every QUEUED or RUNNING task */
	size_t running;
	struct stats stats;
	struct event_bus *bus;
	struct event_log *log;
	uint64_t version;           /* bumped by every change a console would show */
	uint64_t seen_version;      /* the version parked calls last looked at */
	uint64_t alerts;            /* CRITICAL/HIGH failures and backends DOWN: a console rings its bell */
	bool paused;
	bool stopping;
	int64_t started_ms;
	struct api_call *parked;    /* simq.view and simq.wait calls waiting for a change */
	ev_signal sig_term, sig_int, sig_hup;
	ev_prepare wake_parked;
	struct http *http;          /* the API listeners (http.c) */
	struct sched *sched;        /* the scheduler (sched.c) */
	struct hooks *hooks;        /* [notify] commands (hooks.c), NULL when none is set */
	struct webhooks *webhooks;  /* [webhook NAME] sinks (webhooks.c), NULL when none */
	bool drained;               /* queue_drained was announced and nothing came since */
};

/* Runs `simq server`; returns the process's exit status. */
int server_run(const struct server_options *opt);

/* ---- for api.c (loop thread) ---------------------------------------------------- */

int64_t server_now_ms(void);
struct task *server_task(struct server *s, int64_t id);
/* Marks a change: bumps the version and lets parked views answer. */
void server_changed(struct server *s);
/* A line in the log that is not an event (task_id 0: about no task); marks the change for consoles. */
void server_log(struct server *s, int64_t task_id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Publishes an event about t (may be NULL) with the common fields filled. */
void server_publish(struct server *s, enum event_type type, const struct task *t, const struct event *extra);
/* Takes ownership of tasks that were just stored: queue and announce them. */
void server_accept_tasks(struct server *s, struct task **tasks, size_t n);
/*
 * Moves t to a final state and saves it, closing its attempt with `end` when
 * one is in flight (ATTEMPT_RUNNING: none); then retires it.  t is gone on
 * success; false with *err leaves it as it was.
 */
bool server_finish(struct server *s, struct task *t, enum task_state to, enum attempt_outcome end, char **err);
/* After a final state is saved: out of the queue and the active set, counted, announced, freed. */
void server_retired(struct server *s, struct task *t, enum task_state from);
void server_stop(struct server *s);

/* ---- http.c ------------------------------------------------------------------------ */

struct http;
/* Starts the API on the Unix socket and, when configured, on TCP; NULL and *err on failure. */
struct http *http_start(struct server *s, int unix_fd, int tcp_fd, int metrics_fd, const char *token, char **err);
/* Stops accepting, ends idle connections and answers every waiting call with a shutdown fault. */
void http_stop(struct http *h);
/* Waits for the listener threads to end and frees h (after the store is closed). */
void http_free(struct http **h);

#endif
