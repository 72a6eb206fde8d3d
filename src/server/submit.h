/*
 * submit — simq.submit and simq.submit_many, with request keys (DESIGN 10, 20).
 *
 * submit_call() reads the tasks (validate.c checks each) and the optional
 * request_key.  A key seen before answers with the first request's ids and
 * stores nothing (a key used for a different request is a fault); a new key
 * is stored with the tasks in the same transaction.  It answers with a value
 * or a fault, which api.c hands to the caller.  Loop thread only.
 */
#ifndef SIMQ_SERVER_SUBMIT_H
#define SIMQ_SERVER_SUBMIT_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

#include "engine/engine.h"

/* The longest request_key, in bytes. */
#define SUBMIT_MAX_KEY 128

struct submit_answer {
	xmlrpc_value *result; /* the id or ids (caller decrefs), or NULL after a fault */
	int fault_code;
	char *fault;          /* heap */
};

/* params: (task[, request_key]), or ([task...][, request_key]) when many. */
void submit_call(struct engine *e, xmlrpc_value *params, bool many, struct submit_answer *out);

#endif
