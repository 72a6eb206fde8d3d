/*
 * result — simq.result's answer (DESIGN 10, 17): where a task's result is, its summary, and on
 * request its data as CSV.
 *
 * api.c decodes the call and hands it here on the loop thread: result_answer() looks the result up
 * and checks its file (open and fstat: cheap), and answers at once.  The CSV — reading the file,
 * converting a MAT file, which takes seconds for a million points — is left to the caller's own
 * thread (struct api_call's finish, run by http.c on the connection's thread once the call is
 * handed back, through api.c), so no client waits on another's conversion.  A CSV longer than RESULT_CSV_MAX is
 * a fault that says to read the file directly (simq result --csv does: it reads the file itself).
 */
#ifndef SIMQ_SERVER_RESULT_H
#define SIMQ_SERVER_RESULT_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

/* The most CSV simq.result carries: simq's own client reads answers up to 64 MiB of XML. */
#define RESULT_CSV_MAX (32u * 1024 * 1024)

struct engine;
struct task;

struct result_reply {
	xmlrpc_value *value; /* the answer (the caller's), or NULL after a fault */
	int fault_code;      /* 0: no fault */
	char *fault;         /* heap */
	void *later;         /* the CSV still to add (result_add_csv), or NULL */
};

/* simq.result for task t, into *out; with csv, out->later holds what result_add_csv needs. */
void result_answer(struct engine *e, const struct task *t, bool csv, struct result_reply *out);
/* The caller's thread: adds the CSV to out->value, or turns the answer into a fault; frees later. */
void result_add_csv(struct result_reply *out);

#endif
