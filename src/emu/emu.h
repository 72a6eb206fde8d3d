/*
 * emu — plecs-emu's shared state: loaded models, the call slots, faults,
 * the record of calls, and the pieces that serve them.
 *
 * main.c owns the struct emu and the accept loop; each connection runs on a
 * thread of its own (http.c), and plecs.simulate spreads list cases over
 * --cores threads (methods.c).  Everything here that threads share is guarded
 * by emu->lock (models, calls, statistics) or has its own lock (faults).
 */
#ifndef SIMQ_EMU_EMU_H
#define SIMQ_EMU_EMU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/server.h>

#include "emu/faults.h"
#include "emu/model.h"
#include "proto/doubles.h"

struct emu_options {
	const char *listen;
	int port;
	const char *port_file;
	int cores;
	double speed;        /* wall seconds per simulated second */
	int concurrent;      /* plecs.* calls served at once */
	uint64_t seed;
	const char *trace;
};

struct emu_call {
	char *method;
	char *model;
	int cases;
	double start;        /* wall clock, seconds since the epoch */
	double duration;
	char *outcome;       /* "ok", "fault: ...", "injected drop", ... */
	xmlrpc_value *opts;  /* plecs.simulate: its optStructs as received, in an array; else NULL */
};

struct emu {
	struct emu_options opt;
	xmlrpc_registry *registry;
	pthread_mutex_t lock;
	pthread_cond_t wake;            /* slot freed, or stopping */
	atomic_bool stopping;
	int free_slots;
	struct emu_model **models;
	size_t nmodels;
	struct emu_call *calls;
	size_t ncalls, capcalls;
	uint64_t stat_calls, stat_simulations, stat_cases, stat_faults;
	double started;
	struct faults faults;
	FILE *trace;
	int port;                       /* the port we listen on */
};

/* Per-call context handed to the methods through xmlrpc-c's callInfo. */
struct emu_call_ctx {
	struct emu *emu;
	enum fault_kind fault;
	char *model;         /* set by the method, for the record */
	int cases;
	xmlrpc_value *opts;  /* set by plecs.simulate, for the record: an array of its optStructs (a reference) */
	/* The doubles of the method's answer, which http.c writes exactly (xmlrpc-c writes some a unit off:
	 * a PLECS's Plain answer then differs from its MatFile one). */
	struct proto_doubles doubles;
};

void emu_methods_register(struct emu *emu, xmlrpc_env *env);
/* Waits for a free call slot; false if the emulator is stopping. */
bool emu_slot_acquire(struct emu *emu);
void emu_slot_release(struct emu *emu);
/* Sleeps up to seconds; returns early (false) when the emulator stops. */
bool emu_sleep(struct emu *emu, double seconds);
void emu_record_call(struct emu *emu, const char *method, const struct emu_call_ctx *ctx, double start,
		     double duration, const char *outcome);
void emu_clear_calls(struct emu *emu);

/* The Abyss request handler for /RPC2 (http.c). */
void emu_http_handle(void *ud, TSession *session, abyss_bool *handled);
/* Shuts down every connection to our port, so a stop does not wait for keep-alive timeouts. */
void emu_hang_up_all(struct emu *emu);

/* A MAT v5 file holding Time and Values, as bytes (heap; caller frees). */
struct emu_result;
bool emu_matfile(const struct emu_result *r, char **data, size_t *len, char **err);

double emu_now(void);

#endif
