/*
 * values — NAME=VALUE and sweep ranges as people type them.
 *
 * A value is a number (400, -1.2e-3), a vector [1,2,3] or [1 2 3], a matrix
 * [[1,2],[3,4]] or [1 2; 3 4], or a string: 'quoted' or "quoted" (taken as
 * it is, '' for the empty string), or bare text that does not look like a
 * number or a vector.  Text that looks like one (it starts with a digit, a
 * sign and a digit, a point and a digit, a bracket, or is nan or inf) must
 * be one: 1e999, nan, 0x10, 1.2.3 and [1,2 are errors, and '1.2.3' is the
 * string.  An empty value is an error ('' is the empty string).
 *
 * A sweep axis is NAME=START:STOP:STEP (STOP included when the steps reach
 * it) or NAME=A,B,C (commas inside brackets or quotes belong to the value);
 * an empty item, an unclosed bracket or quote is an error.  Every error
 * says what is wrong and where: the byte it is about.  Pure functions.
 */
#ifndef SIMQ_CLI_VALUES_H
#define SIMQ_CLI_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

/* What is wrong with a value or an axis as typed, and where. */
struct values_error {
	char *message; /* heap: what is wrong (with the character's position) and what is allowed */
	size_t at;     /* the byte of the text given that it is about, from 0 */
};

void values_error_clear(struct values_error *err);

/* The value, or NULL with *err. */
xmlrpc_value *cli_parse_value(const char *text, struct values_error *err);

struct sweep_axis {
	char *name;
	xmlrpc_value **values;
	size_t n;
};

/* Parses one axis; false and *err (about spec as a whole) when it is neither form, or has too many values. */
bool sweep_parse_axis(xmlrpc_env *env, const char *spec, struct sweep_axis *a, struct values_error *err);
void sweep_axes_free(struct sweep_axis *axes, size_t n);
/*
 * The cartesian product of the axes over the fixed vars (a struct, may be NULL), the last axis
 * varying fastest: count vars structs (caller decrefs each and frees the array).
 */
xmlrpc_value **sweep_expand(xmlrpc_env *env, xmlrpc_value *fixed, const struct sweep_axis *axes, size_t naxes,
			    size_t *count);

#endif
