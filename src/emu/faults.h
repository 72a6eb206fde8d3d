/*
 * faults — the failures plecs-emu injects, by rate or by script.
 *
 * Each kind is one row of FAULT_KINDS with its name and what a client sees.
 * `refuse` applies to connections; the other kinds apply to plecs.simulate
 * calls.  Scripted injections (emu.inject) are used first, in the order they
 * were made; otherwise each kind's rate (--fault KIND=RATE) is rolled with a
 * PRNG seeded by --seed, so a run is repeatable.  Thread-safe.
 */
#ifndef SIMQ_EMU_FAULTS_H
#define SIMQ_EMU_FAULTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAULT_KINDS(X)                                                                                    \
	X(REFUSE, "refuse", "the next plecs.* requests get their connection reset (connection reset)")     \
	X(DROP, "drop", "the connection is closed halfway through the response")                           \
	X(HANG, "hang", "no answer until the client gives up")                                             \
	X(FAULT, "fault", "an XML-RPC fault \"Simulation error: ...\"")                                    \
	X(LICENSE, "license", "an XML-RPC fault \"No free license ...\" (transient for simq)")             \
	X(MALFORMED, "malformed", "the response with its end spoilt: not XML")                             \
	X(HTTP500, "http500", "HTTP status 500 instead of a response")                                     \
	X(DEEP, "deep", "a response of arrays nested 10,000 deep (xmlrpc-c overflows its stack freeing it)") \
	X(SLOW, "slow", "the run takes 10 times as long")

enum fault_kind {
	FAULT_NONE = -1,
#define X(id, name, text) FAULT_##id,
	FAULT_KINDS(X)
#undef X
	FAULT_KIND_COUNT
};

struct faults {
	pthread_mutex_t lock;
	double rate[FAULT_KIND_COUNT];
	enum fault_kind *script;   /* call faults waiting, oldest first */
	size_t nscript, capscript;
	uint64_t refuse_pending;
	uint64_t rng;
};

const char *fault_kind_name(enum fault_kind k);
const char *fault_kind_help(enum fault_kind k);
bool fault_kind_parse(const char *name, enum fault_kind *k);
/* "refuse, drop, ...": every kind's name, for messages (heap; caller frees). */
char *fault_kind_list(void);

void faults_init(struct faults *f, uint64_t seed);
void faults_destroy(struct faults *f);
/* Parses "KIND=RATE" (RATE from 0 to 1); false and *err (heap) when it is not one. */
bool faults_parse_rate(struct faults *f, const char *spec, char **err);
void faults_inject(struct faults *f, enum fault_kind k, uint64_t count);
/* The fault for the next plecs.simulate call, or FAULT_NONE. */
enum fault_kind faults_next_call(struct faults *f);
/* Whether a connection may be refused now (one is pending, or the rate is not 0). */
bool faults_may_refuse(struct faults *f);
/* Whether to refuse the next request. */
bool faults_next_connection(struct faults *f);
/* Drops scripted injections; rates stay. */
void faults_reset(struct faults *f);
uint64_t faults_pending(struct faults *f);

#endif
