/*
 * child — a command run off the loop: sbatch, squeue, scancel (server/slurm.c).
 *
 * child_run() starts argv[0] (searched in PATH) with the environment given,
 * in a process group of its own, with stdin on /dev/null and nothing else
 * of the server's descriptors; its stdout and stderr are read on the loop
 * (up to CHILD_OUTPUT_MAX each) and done() gets them with its exit status
 * once it has exited and closed both.  Past `timeout` seconds the whole
 * group is killed and done() says so.  child_abandon() kills it and frees it
 * without calling done().  Loop thread only; libev's child watchers need the
 * default loop.
 */
#ifndef SIMQ_SERVER_CHILD_H
#define SIMQ_SERVER_CHILD_H

#include <ev.h>
#include <stdbool.h>

#define CHILD_OUTPUT_MAX 65536

struct child_result {
	int status;            /* as waitpid() gives it */
	bool timed_out;        /* killed after its timeout */
	const char *out, *err; /* what it wrote, NUL-terminated */
};

/* A failed run in words, "exit status 1: <its first line of stderr>" (heap); NULL when it succeeded. */
char *child_failure(const char *what, const struct child_result *r, double timeout);

typedef void (*child_done_fn)(void *ud, const struct child_result *r);

struct child;

/* NULL and *err when it cannot start; done(ud, result) later, exactly once, unless abandoned. */
struct child *child_run(struct ev_loop *loop, char *const argv[], char *const envp[], double timeout,
                        child_done_fn done, void *ud, char **err);
/* Kills its process group and frees it; done() is not called.  Clears the pointer. */
void child_abandon(struct child **c);

#endif
