/*
 * decimal-pow5 — data only: the powers of five decimal.c multiplies a significand by, each as
 * its 128 leading bits (see decimal-pow5.c for how they were computed).  Read by decimal.c and
 * by its unit test, which recomputes them; no one else.
 */
#ifndef SIMQ_UTIL_DECIMAL_POW5_H
#define SIMQ_UTIL_DECIMAL_POW5_H

#include <stdint.h>

#define DECIMAL_POW5_MIN (-342)
#define DECIMAL_POW5_MAX 308

/* floor(log2(5^q)) for q in the table's range (152170 / 2^16 is log2(5) to within 2^-17). */
static inline int decimal_pow5_exponent(int q)
{
	return (152170 * q) >> 16; /* an arithmetic shift: floor for negative q too */
}

/* Entry q - DECIMAL_POW5_MIN: floor(5^q * 2^(127 - floor(log2(5^q)))) as {upper 64 bits, lower 64 bits}. */
extern const uint64_t decimal_pow5[DECIMAL_POW5_MAX - DECIMAL_POW5_MIN + 1][2];

#endif
