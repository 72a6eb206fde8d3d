/*
 * values — NAME=VALUE and sweep ranges as people type them.
 *
 * A value is a number, a vector [1,2,3], a matrix [[1,2],[3,4]] or
 * [1 2; 3 4], else a string ('quoted' or bare).  A sweep axis is
 * NAME=START:STOP:STEP (STOP included when the steps reach it) or
 * NAME=A,B,C (commas inside brackets belong to the value).  Pure functions.
 */
#ifndef SIMQ_CLI_VALUES_H
#define SIMQ_CLI_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

/* The value, or NULL with *err (heap) when it cannot be one (text that is not UTF-8). */
xmlrpc_value *cli_parse_value(const char *text, char **err);

struct sweep_axis {
	char *name;
	xmlrpc_value **values;
	size_t n;
};

/* Parses one axis; false and *err (heap) when it is neither form, or has too many values. */
bool sweep_parse_axis(xmlrpc_env *env, const char *spec, struct sweep_axis *a, char **err);
void sweep_axes_free(struct sweep_axis *axes, size_t n);
/*
 * The cartesian product of the axes over the fixed vars (a struct, may be NULL), the last axis
 * varying fastest: count vars structs (caller decrefs each and frees the array).
 */
xmlrpc_value **sweep_expand(xmlrpc_env *env, xmlrpc_value *fixed, const struct sweep_axis *axes, size_t naxes,
			    size_t *count);

#endif
