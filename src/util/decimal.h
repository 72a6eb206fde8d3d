/*
 * decimal — decimal text to a double, the common case fast and always exact.
 *
 * decimal_parse() reads a whole string of XML-RPC's <double> grammar — an
 * optional sign, digits with at most one point, an optional exponent —
 * with Clinger's fast path: when the significand fits in 2^53 and the
 * power of ten in 10^22 once trailing zeros are shed, the value is one
 * correctly rounded multiplication or division of two exact doubles, so
 * the result is the one strtod() gives, bit for bit.  Anything else (more
 * significant digits, larger exponents) goes to strtod().  A string
 * outside the grammar (inf, nan, hex, blanks, a lone point) is no number.
 * Pure function, any thread; needs SSE2 doubles (no x87 excess precision).
 */
#ifndef SIMQ_UTIL_DECIMAL_H
#define SIMQ_UTIL_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

/* The len bytes at s as a finite double in *x; false when they are not one (or overflow). */
bool decimal_parse(const char *s, size_t len, double *x);

#endif
