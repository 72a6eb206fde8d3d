/*
 * api — simq's XML-RPC methods (DESIGN 10), run on the loop thread.
 *
 * A table of methods, each of which decodes its arguments, makes one engine
 * call and encodes the answer (view.c renders what the engine holds).
 * http.c turns each request into a struct api_call and posts it to the
 * loop; the method answers it with api_result()/api_fault(), or parks it
 * (simq.view, simq.wait) until a change or its deadline, when it runs
 * again.  Every input is checked before anything changes: a call either
 * applies whole or answers with a fault that names the field.
 */
#ifndef SIMQ_SERVER_API_H
#define SIMQ_SERVER_API_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

struct api;
struct api_call;
struct engine;

struct api_method {
	const char *name;
	const char *help;
	void (*run)(struct api *a, struct api_call *c);
};

struct api_call {
	const struct api_method *method;
	xmlrpc_value *params;        /* owned by the caller */
	xmlrpc_value *result;        /* set by api_result */
	int fault_code;              /* 0: no fault */
	char *fault;
	bool done;
	bool expired;                /* a parked call's deadline passed */
	struct api *api;
	struct api_call *next;       /* in the parked list, or http.c's queue */
	ev_timer deadline;
	void (*on_done)(struct api_call *c); /* hands c back; c is not touched after it */
	/* Set by a method: work for the caller's thread, off the loop, once c is handed back (the CSV
	 * of simq.result); it may turn the answer into a fault.  The caller runs it before it reads c. */
	void (*finish)(struct api_call *c);
	void *finish_data;
	void *owner;                 /* the listener's (http.c) */
	bool delivered;              /* set by on_done, under http.c's lock */
};

extern const struct api_method api_methods[];
extern const size_t api_method_count;

/* The API over engine e; stop(ud) is called when a client asks the server to stop. */
struct api *api_new(struct ev_loop *loop, struct engine *e, const char *state_dir, void (*stop)(void *ud), void *ud);
/* Answers every parked call with a shutdown fault and frees a; clears the pointer. */
void api_free(struct api **a);
/* From now on every call is answered with a shutdown fault, and nothing parks. */
void api_stop(struct api *a);
bool api_stopping(const struct api *a);
struct engine *api_engine(const struct api *a);
/* Runs c (its method, or a shutdown fault once stopping); hands it back when it is done. */
void api_run(struct api *a, struct api_call *c);
/* Parked calls look again when the engine changed since the last look (once per loop pass). */
void api_wake_if_changed(struct api *a);
/* Answers every parked call with a shutdown fault. */
void api_drop_parked(struct api *a);
/* Answers c with a fault and hands it back, if it is parked (at a cap, or its client has gone); false if not. */
bool api_unpark(struct api *a, struct api_call *c, int code, const char *why);

void api_result(struct api_call *c, xmlrpc_value *result);
void api_fault(struct api_call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
