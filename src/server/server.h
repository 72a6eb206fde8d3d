/*
 * server — the process that owns the engine all night.
 *
 * One server per state dir, guarded by a lock on simq.pid.  It reads the
 * config, starts the PLECS workers (plecs/pool.h) and the engine on them,
 * the API (api.c over http.c), the event sinks (hooks, webhooks) and the
 * libev loop whose thread owns every piece of engine state; the Abyss
 * threads that serve the API only post calls to the loop and wait.
 */
#ifndef SIMQ_SERVER_SERVER_H
#define SIMQ_SERVER_SERVER_H

#include <stdbool.h>

struct server_options {
	const char *plecs_url;   /* --plecs URL: one backend, instead of [backend] sections */
	const char *state_dir;   /* --state, may be NULL */
	const char *config_path; /* -c, may be NULL */
	bool foreground;         /* -f */
};

/* Runs `simq server`; returns the process's exit status. */
int server_run(const struct server_options *opt);

#endif
