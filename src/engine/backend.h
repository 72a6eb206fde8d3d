/*
 * backend — how the scheduler reaches PLECS: a small ops struct.
 *
 * The scheduler fills a struct backend_call with plain C — the model, each
 * case's ModelVars and SolverOpts as canonical JSON, its Timeout, the output
 * format — and hands it to ops->start().  The implementation (src/plecs/,
 * or a fake in the unit tests) runs it wherever it likes and, back on the
 * loop thread, fills the outcome and calls call->done(call), exactly once.
 * On BACKEND_OK, results[] holds one decoded result per case in case order
 * (a case PLECS gave no usable result for has its `error` set).  A probe
 * call carries no cases and only asks whether the backend answers.
 * interrupt() makes a running call end now; it comes back with
 * `interrupted` set (and outcome BACKEND_TRANSPORT).  The call and
 * everything it points to belong to the scheduler, except while started.
 */
#ifndef SIMQ_ENGINE_BACKEND_H
#define SIMQ_ENGINE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/results.h"

enum backend_outcome {
	BACKEND_OK,
	BACKEND_FAULT,      /* PLECS answered with a fault: error holds its text */
	BACKEND_TRANSPORT,  /* no usable answer although PLECS may have run the cases: HTTP error, garbled,
			       cut short, interrupted (timed out) */
	BACKEND_UNREACHABLE, /* no connection, or the connection dropped before any answer: the backend's
				fault, never the cases' (DESIGN 6, "Whose fault is it?") */
	BACKEND_TOO_LARGE,  /* PLECS answered more than max_response bytes: reading stopped there */
};

struct backend_case {
	char *vars;             /* ModelVars as canonical JSON */
	char *solver;           /* SolverOpts as canonical JSON */
	double timeout;         /* seconds, sent as SolverOpts.Timeout; 0: none */
	char name[32];          /* the case's Name: "task ID" */
};

struct backend_call {
	/* Set by the scheduler before start(). */
	char *url;
	char *model_path;       /* absolute path of the model file */
	char *model_name;       /* PLECS's name for it */
	char *close_first;      /* close this model first (another file with the same name), or NULL */
	bool load;              /* load the model before simulating */
	bool probe;             /* only ask whether the backend answers */
	bool as_list;           /* the list form of plecs.simulate */
	bool matfile;           /* OutputFormat MatFile instead of Plain */
	size_t max_response;    /* read no answer larger than this many bytes (0: no limit) */
	struct backend_case *cases;
	size_t ncases;
	void (*done)(struct backend_call *call);
	/*
	 * Optional, on the loop thread, before done(): PLECS's answer is all in and carries results,
	 * and only simq's decoding of it is left, so the backend is free for the next call.
	 */
	void (*received)(struct backend_call *call);
	void *owner;            /* the scheduler's */
	/* Set by the backend before done(). */
	enum backend_outcome outcome;
	char *error;            /* the fault or transport error text, or NULL */
	struct result_data *results; /* BACKEND_OK: ncases decoded results */
	bool loaded;            /* the model was (re)loaded */
	bool interrupted;       /* the call was interrupted (timeout or stop) */
	size_t bytes;           /* the size of PLECS's answers, in bytes */
	bool sent;              /* BACKEND_UNREACHABLE: the request had reached PLECS whole before the
				   connection dropped (it may have been running the cases) */
	double seconds;         /* wall time of the call */
	/* The implementation's own. */
	void *impl;
};

struct backend_ops {
	void (*start)(void *impl, struct backend_call *call);
	void (*interrupt)(void *impl, struct backend_call *call);
};

/* A call with room for n cases, everything zero. */
struct backend_call *backend_call_new(size_t ncases);
/* Frees the call, its cases and results; clears the pointer. */
void backend_call_free(struct backend_call **call);
/* PLECS's name for a model file: its base name without the extension (heap). */
char *backend_model_name(const char *path);

#endif
