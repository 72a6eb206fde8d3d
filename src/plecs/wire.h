/*
 * wire — PLECS's RPC shapes, and only here (DESIGN 13).
 *
 * Builds the optStruct of a task (ModelVars, SolverOpts with Timeout,
 * OutputFormat, Name) and decodes the MAT v5 bytes of a MatFile result
 * (answer.c reads the XML around them, and Plain results).  Pure
 * functions, safe on any thread (MAT decoding writes a temporary file, as
 * matio reads only files).
 */
#ifndef SIMQ_PLECS_WIRE_H
#define SIMQ_PLECS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

#include "engine/results.h"


/* The optStruct for one case; vars and solver are the task's canonical JSON. NULL and *err on failure. */
xmlrpc_value *plecs_opt_struct(xmlrpc_env *env, const char *vars_json, const char *solver_json, double timeout,
			       bool matfile, const char *name, char **err);

/* Decodes MAT v5 bytes holding Time (1 x n) and Values (signals x n), with each signal's summary. */
bool plecs_decode_mat(const unsigned char *data, size_t len, struct result_data *out, char **err);

#endif
