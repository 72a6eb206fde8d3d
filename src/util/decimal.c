#include "autoconf.h"

#include "util/decimal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if FLT_EVAL_METHOD != 0
#error "decimal.c needs doubles evaluated in double precision (SSE2): the fast path is exact only then"
#endif

/* The powers of ten a double holds exactly. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MAX_EXACT_POW10 22
#define MAX_EXACT_INT (UINT64_C(1) << 53)

#if LDBL_MANT_DIG == 64
/*
 * The x87 extended format holds every significand of up to 19 digits (< 2^64) and 10^0..10^27
 * exactly (5^27 < 2^64), so m * 10^k or m / 10^k is one correctly rounded operation there.  Rounding
 * that to a double again is right unless the extended result lies exactly on a midpoint between two
 * doubles (its 11 bits below a double's 53 are 0x400): a midpoint has 54 significant bits, so it is an
 * extended value, and a true quotient on the other side of it would have rounded to it.  Those, and
 * results outside doubles' normal range, go to strtod.  This is what reads the 17-digit numbers
 * %.17g writes (most of an answer) without strtod's multi-precision arithmetic.
 */
#define MAX_EXTENDED_POW10 27

/* 10^0 .. 10^27, each exact: 10^k = 5^k * 2^k and 5^27 < 2^64. */
static const long double extended_pow10[MAX_EXTENDED_POW10 + 1] = {
	1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
	1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};

/*
 * Whether long double arithmetic really keeps 64 bits of significand where it runs: valgrind, for
 * one, does x87 arithmetic in doubles, and extended_path would then round some numbers wrong.
 */
static bool extended_is_real(void)
{
	static int known; /* 0: not yet asked; 1: real; -1: not */

	if (__atomic_load_n(&known, __ATOMIC_RELAXED) == 0) {
		volatile long double one = 1.0L, tiny = 0x1p-63L;

		__atomic_store_n(&known, one + tiny != one ? 1 : -1, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&known, __ATOMIC_RELAXED) > 0;
}

static bool extended_path(uint64_t m, int scale, double *x)
{
	long double v = (long double)m;
	int k = scale < 0 ? -scale : scale;

	if (k > MAX_EXTENDED_POW10 || !extended_is_real())
		return false;
	v = scale < 0 ? v / extended_pow10[k] : v * extended_pow10[k];

	union {
		long double ld;
		struct {
			uint64_t mantissa;
			uint16_t sign_exponent;
		} bits;
	} u = {.ld = v};
	int exponent = (u.bits.sign_exponent & 0x7fff) - 16383;

	if ((u.bits.mantissa & 0x7ff) == 0x400 || exponent < DBL_MIN_EXP || exponent >= DBL_MAX_EXP - 1)
		return false;
	*x = (double)v;
	return true;
}
#else
static bool extended_path(uint64_t m, int scale, double *x)
{
	(void)m, (void)scale, (void)x;
	return false;
}
#endif

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* strtod on a string already known to be in the grammar (so it reads all of it). */
static bool slow_path(const char *s, size_t len, double *x)
{
	char small[64], *copy = len < sizeof small ? small : malloc(len + 1);

	if (copy == NULL)
		return false;
	memcpy(copy, s, len);
	copy[len] = '\0';
	*x = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return isfinite(*x);
}

bool decimal_parse(const char *s, size_t len, double *x)
{
	const char *p = s, *end = s + len;
	bool negative = false;
	uint64_t m = 0;
	int digits = 0, scale = 0; /* significant digits kept in m; the power of ten applied to m */
	bool any = false, overflow = false;

	if (p < end && (*p == '+' || *p == '-'))
		negative = *p++ == '-';
	for (; p < end && is_digit(*p); p++) {
		any = true;
		if (m == 0 && *p == '0')
			continue;
		if (digits < 19)
			m = 10 * m + (uint64_t)(*p - '0'), digits++;
		else
			overflow = true, scale++;
	}
	if (p < end && *p == '.') {
		for (p++; p < end && is_digit(*p); p++) {
			any = true;
			if (m == 0 && *p == '0') {
				scale--;
				continue;
			}
			if (digits < 19)
				m = 10 * m + (uint64_t)(*p - '0'), digits++, scale--;
			else
				overflow = true;
		}
	}
	if (!any)
		return false;
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false, edigits = false;
		int e = 0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end && is_digit(*p); p++) {
			edigits = true;
			if (e < 100000)
				e = 10 * e + (*p - '0');
		}
		if (!edigits)
			return false;
		scale += eneg ? -e : e;
	}
	if (p != end)
		return false;
	if (m == 0 && !overflow) {
		*x = negative ? -0.0 : 0.0;
		return true;
	}
	/* Trailing zeros of the significand move into the exponent. */
	while (!overflow && m % 10 == 0 && m > MAX_EXACT_INT)
		m /= 10, scale++;
	if (!overflow && (m > MAX_EXACT_INT || scale < -MAX_EXACT_POW10 || scale > MAX_EXACT_POW10) &&
	    extended_path(m, scale, x)) {
		*x = negative ? -*x : *x;
		return true;
	}
	if (overflow || m > MAX_EXACT_INT || scale < -MAX_EXACT_POW10 || scale > MAX_EXACT_POW10)
		return slow_path(s, len, x);
	double v = (double)m;

	v = scale < 0 ? v / exact_pow10[-scale] : v * exact_pow10[scale];
	*x = negative ? -v : v;
	return true;
}
