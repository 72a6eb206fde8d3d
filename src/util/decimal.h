/*
 * decimal — decimal text to a double, the common case fast and always exact.
 *
 * The grammar is XML-RPC's <double> with an optional exponent: an optional sign, digits with at
 * most one point, an optional 'e' or 'E' with an optional sign and digits.  A value is read as the
 * double nearest it, ties to even, bit for bit what strtod() gives: with Clinger's fast path when
 * the significand fits in 2^53 and the power of ten in 10^22 (one correctly rounded operation on
 * two exact doubles); else with Eisel-Lemire (the 128 leading bits of significand * 5^q from a
 * table, decimal-pow5.c), which settles all but the rare values within a hair of a tie; those,
 * subnormals, overflows and significands of more than 19 digits that their first 19 do not settle
 * go to strtod().  A string outside the grammar (inf, nan, hex, blanks, a lone point) is no number.
 * Pure functions, any thread; needs SSE2 doubles (no x87 excess precision).
 */
#ifndef SIMQ_UTIL_DECIMAL_H
#define SIMQ_UTIL_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

/* The len bytes at s as a finite double in *x; false when they are not one (or overflow). */
bool decimal_parse(const char *s, size_t len, double *x);

/*
 * The run of number characters (digits, '.', '+', '-', 'e', 'E') at the start of the len bytes at
 * s, read as decimal_parse reads it: its length, with its value in *x; 0 when the run is empty or
 * is not a finite number.  For a caller that finds where a number ends and reads it in one pass.
 */
size_t decimal_scan(const char *s, size_t len, double *x);

/* Whether c may be in a number's text as decimal_scan reads it: a digit, '.', '+', '-', 'e' or 'E'. */
bool decimal_char(char c);

#endif
