/*
 * pool — worker threads that make the PLECS calls (DESIGN 1, 16).
 *
 * One thread and one xmlrpc_client per slot, all created before the threads
 * start.  The loop thread submits jobs; a worker loads the model when told to
 * (and again when PLECS says it is not loaded), calls plecs.simulate, and
 * hands the job back through ev_async, so nothing blocks the loop.  A call
 * ends early when the loop interrupts it (a timeout or a stop): the job's
 * interrupt flag plus SIGUSR1 to its worker makes curl give up at once.
 * Jobs are owned by the loop thread except while a worker holds them.
 */
#ifndef SIMQ_PLECS_POOL_H
#define SIMQ_PLECS_POOL_H

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <xmlrpc-c/base.h>

enum plecs_outcome {
	PLECS_OK,
	PLECS_FAULT,        /* PLECS answered with an XML-RPC fault */
	PLECS_TRANSPORT,    /* no answer: refused, reset, HTTP error, garbled, interrupted */
};

struct plecs_job {
	/* Set by the loop before plecs_pool_submit. */
	char *url;
	char *model_path;       /* absolute path of the model file */
	char *model_name;       /* PLECS's name for it */
	char *close_first;      /* close this model first (another file with the same name), or NULL */
	bool load;              /* load the model before simulating */
	bool probe;             /* only ask system.listMethods: is the backend there? */
	bool as_list;           /* the list form of plecs.simulate */
	xmlrpc_value *cases;    /* array of optStructs; owned by the job */
	void *owner;            /* the scheduler's */
	/* Set by the worker. */
	enum plecs_outcome outcome;
	xmlrpc_value *result;   /* PLECS's answer when OK; owned by the job */
	int fault_code;
	char *error;            /* the fault or transport error text */
	bool loaded;            /* the worker (re)loaded the model */
	bool interrupted;       /* the loop interrupted the call */
	double seconds;         /* wall time of the call */
	/* Internal. */
	int interrupt;          /* xmlrpc-c's interrupt flag: a plain int it polls, so set and read with __atomic */
	atomic_int worker;      /* index of the worker holding it, -1 when none */
	struct plecs_job *next;
};

struct plecs_pool;

typedef void (*plecs_done_fn)(struct plecs_job *job, void *ud);

/* Starts workers threads; done is called on the loop thread for each finished job. */
struct plecs_pool *plecs_pool_new(struct ev_loop *loop, int workers, plecs_done_fn done, void *ud, char **err);
void plecs_pool_submit(struct plecs_pool *p, struct plecs_job *job);
/* Makes a running job end now (it comes back interrupted); harmless for a finished one. */
void plecs_pool_interrupt(struct plecs_pool *p, struct plecs_job *job);
/* Interrupts every call, joins the workers and drops jobs not handed back. */
void plecs_pool_free(struct plecs_pool **p);
void plecs_job_free(struct plecs_job **job);

#endif
