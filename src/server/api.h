/*
 * api — simq's XML-RPC methods (DESIGN 10), run on the loop thread.
 *
 * http.c turns each request into a struct api_call and posts it to the loop;
 * the method's run() answers it with api_result()/api_fault(), or parks it
 * (simq.view, simq.wait) until a change or its deadline, when run() is called
 * again.  Every input is checked before anything changes: a call either
 * applies whole or answers with a fault that names the field.
 */
#ifndef SIMQ_SERVER_API_H
#define SIMQ_SERVER_API_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

struct server;
struct api_call;

struct api_method {
	const char *name;
	const char *help;
	void (*run)(struct server *s, struct api_call *c);
};

struct api_call {
	const struct api_method *method;
	xmlrpc_value *params;        /* owned by the call */
	xmlrpc_value *result;        /* set by api_result */
	int fault_code;              /* 0: no fault */
	char *fault;
	bool done;
	bool expired;                /* a parked call's deadline passed */
	struct server *server;
	struct api_call *next;       /* in the server's parked list, or http.c's queue */
	ev_timer deadline;
	void (*on_done)(struct api_call *c); /* hands c back; c is not touched after it */
	bool delivered;              /* set by on_done, under http.c's lock */
};

extern const struct api_method api_methods[];
extern const size_t api_method_count;

void api_result(struct api_call *c, xmlrpc_value *result);
void api_fault(struct api_call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Parks c until a change or wait_ms from now. */
void api_park(struct api_call *c, double wait_s);
/* Re-runs parked calls after a change (or their deadline). */
void api_wake_parked(struct server *s);
/* Answers every parked call with a shutdown fault. */
void api_drop_parked(struct server *s);

#endif
