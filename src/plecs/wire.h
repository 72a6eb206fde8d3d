/*
 * wire — PLECS's RPC shapes, and only here (DESIGN 13).
 *
 * Writes the plecs.simulate call of a batch, each case's optStruct
 * (ModelVars, SolverOpts with Timeout, OutputFormat, Name) straight from the
 * tasks' stored JSON into the request's XML, with every double exact, and
 * decodes the MAT v5 bytes of a MatFile result
 * (answer.c reads the XML around them, and Plain results).  Pure
 * functions, safe on any thread (MAT decoding puts the bytes in a memfd
 * that matio opens through /proc/self/fd, as matio reads only paths).
 */
#ifndef SIMQ_PLECS_WIRE_H
#define SIMQ_PLECS_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/backend.h"
#include "engine/results.h"

struct buf;

/*
 * Appends to out the body of plecs.simulate(name, optStruct), or with bc->as_list of
 * plecs.simulate(name, [optStruct, ...]) for bc's cases: the call xmlrpc-c would write for the same
 * values, without building them (a malloc and a mutex each) on the way.  False and *err when a
 * case's stored options are not a JSON object.
 */
bool plecs_simulate_body(struct buf *out, const struct backend_call *bc, char **err);

/* Decodes MAT v5 bytes holding Time (1 x n) and Values (signals x n), with each signal's summary. */
bool plecs_decode_mat(const unsigned char *data, size_t len, struct result_data *out, char **err);

#endif
