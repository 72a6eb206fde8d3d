#include "autoconf.h"

#include "util/decimal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/decimal-pow5.h"

#if FLT_EVAL_METHOD != 0
#error "decimal.c needs doubles evaluated in double precision (SSE2): the fast path is exact only then"
#endif

/* The powers of ten a double holds exactly. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MAX_EXACT_POW10 22
#define MAX_EXACT_INT (UINT64_C(1) << 53)
/* The most significant digits a significand keeps: 10^19 - 1 < 2^64. */
#define MAX_DIGITS 19

/* A number's text taken apart: its value is m * 10^scale, or a little more when truncated. */
struct decimal {
	uint64_t m;
	int scale;
	bool negative;
	bool truncated; /* digits beyond the first MAX_DIGITS significant ones were dropped */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool decimal_char(char c)
{
	return is_digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

/*
 * Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per Second", 2021): w * 10^q, w > 0, as the
 * double nearest it.  With w shifted to its top bit (wn) and T the table's 128 leading bits of
 * 5^q (5^q = (T + d) * 2^(f - 127), 0 <= d < 1, f = floor(log2(5^q))), the exact product wn * (T + d)
 * lies in [U, U + 2) * 2^64, U the 128 leading bits of the 192-bit wn * T.  Its leading 54 bits (a
 * double's 53 and the rounding bit) are those of U unless the bits below them are within 2 of
 * carrying; a tie (rounding bit set, nothing below it) cannot be told from a value just above it.
 * Both go to strtod, as do results that are subnormal or too large: false.
 */
static bool eisel_lemire(uint64_t w, int q, double *x)
{
	if (q < DECIMAL_POW5_MIN || q > DECIMAL_POW5_MAX)
		return false;
	const uint64_t *t = decimal_pow5[q - DECIMAL_POW5_MIN];
	int shift = __builtin_clzll(w), f = decimal_pow5_exponent(q);
	uint64_t wn = w << shift;
	u128 upper = (u128)wn * t[0] + (uint64_t)(((u128)wn * t[1]) >> 64);
	int drop = 73 + (int)(upper >> 127); /* U's bits below its leading 54 */
	u128 below = upper & (((u128)1 << drop) - 1);
	uint64_t m54 = (uint64_t)(upper >> drop);

	if (below >= ((u128)1 << drop) - 2 || (below == 0 && (m54 & 1)))
		return false;
	/* w * 10^q ~ m54 * 2^(drop + 64 + f - 127 + q - shift): the biased exponent of m54 / 2^53 times that. */
	int biased = drop + f + q - shift + 1013;
	uint64_t m53 = (m54 >> 1) + (m54 & 1);

	if (biased < 1) /* subnormal: rounded to fewer bits */
		return false;
	if (m53 >> 53) /* rounding carried into the next binade */
		m53 >>= 1, biased++;
	if (biased > 2046)
		return false;
	uint64_t bits = (uint64_t)biased << 52 | (m53 & ((UINT64_C(1) << 52) - 1));

	memcpy(x, &bits, sizeof *x);
	return true;
}
#else
static bool eisel_lemire(uint64_t w, int q, double *x)
{
	(void)w, (void)q, (void)x;
	return false;
}
#endif

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

/* The first MAX_DIGITS significant digits of a significand of more (its digits from p to end, a point among them). */
static void keep_leading_digits(const char *p, const char *end, struct decimal *d)
{
	int kept = 0, point_passed = 0;

	d->m = 0;
	d->scale = 0;
	d->truncated = true;
	for (; p < end; p++) {
		if (*p == '.') {
			point_passed = 1;
		} else if (kept < MAX_DIGITS && (kept > 0 || *p != '0')) {
			d->m = 10 * d->m + (uint64_t)(*p - '0');
			kept++;
			d->scale -= point_passed;
		} else if (kept == MAX_DIGITS && !point_passed) {
			d->scale++;
		} else if (kept == 0) {
			d->scale -= point_passed;
		}
	}
}

/* The top bit of each byte of v that is not a decimal digit, computed on all 8 bytes at once. */
static uint64_t non_digits(uint64_t v)
{
	const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f), top = UINT64_C(0x8080808080808080);
	uint64_t x = v & low7; /* sums of bytes below 0x80 carry into no other byte */

	/* Not a digit: below '0' (x + 0x50 stays under 0x80), above '9' (x + 0x46 reaches it), or not ASCII. */
	return (~(x + UINT64_C(0x5050505050505050)) | (x + UINT64_C(0x4646464646464646)) | v) & top;
}

/* The value of the 8 digits of v, the first in its lowest byte (where a little-endian load puts it). */
static uint64_t eight_digits_value(uint64_t v)
{
	/* Digits' values; then pairs of them in 16-bit lanes, fours in 32-bit ones, all eight. */
	v -= UINT64_C(0x3030303030303030);
	v = (v * 10 + (v >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
	v = (v * 100 + (v >> 16)) & UINT64_C(0x0000ffff0000ffff);
	return (v * 10000 + (v >> 32)) & UINT64_C(0xffffffff);
}

/*
 * m with the digits at p appended (as many as there are before end); where they end.  Eight bytes
 * at a time while eight are left: the digits before the first other byte, moved to the top of the
 * word with '0's below them, are one eight_digits_value, and no branch depends on how many they were.
 */
static inline const char *read_digits(const char *p, const char *end, uint64_t *m)
{
	static const uint64_t pow10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
	uint64_t v, mm = *m;

	while (end - p >= 8) {
		memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		v = __builtin_bswap64(v);
#endif
		uint64_t other = non_digits(v);

		if (other == 0) {
			mm = mm * 100000000 + eight_digits_value(v);
			p += 8;
			continue;
		}
		int k = __builtin_ctzll(other) / 8;

		if (k > 0) {
			v = v << (64 - 8 * k) | UINT64_C(0x3030303030303030) >> 8 * k;
			mm = mm * pow10[k] + eight_digits_value(v);
		}
		*m = mm;
		return p + k;
	}
	for (; p < end && is_digit(*p); p++)
		mm = 10 * mm + (uint64_t)(*p - '0');
	*m = mm;
	return p;
}

/* Reads the significand at p (digits with at most one point) into d; where it ends, NULL when it has no digit. */
static const char *read_significand(const char *p, const char *end, struct decimal *d)
{
	const char *start = p;
	int digits, frac = 0;
	uint64_t m = 0;

	p = read_digits(p, end, &m);
	digits = (int)(p - start);
	if (p < end && *p == '.') {
		const char *point = p++;

		p = read_digits(p, end, &m);
		frac = (int)(p - point - 1);
		digits += frac;
	}
	if (digits == 0)
		return NULL;
	d->m = m;
	d->scale = -frac;
	if (digits > MAX_DIGITS) {
		/* m wrapped, or may have: leading zeros do not count, so count again. */
		int zeros = 0;

		for (const char *z = start; z < p && (*z == '0' || *z == '.'); z++)
			zeros += *z == '0';
		if (digits - zeros > MAX_DIGITS)
			keep_leading_digits(start, p, d);
	}
	return p;
}

/* Reads an exponent ('e', a sign, digits) at p into d's scale; where it ends, NULL when it has no digit. */
static const char *read_exponent(const char *p, const char *end, struct decimal *d)
{
	bool negative = false;
	const char *digits;
	int e = 0;

	p++;
	if (p < end && (*p == '+' || *p == '-'))
		negative = *p++ == '-';
	for (digits = p; p < end && is_digit(*p); p++)
		if (e < 100000)
			e = 10 * e + (*p - '0');
	if (p == digits)
		return NULL;
	d->scale += negative ? -e : e;
	return p;
}

/* The value of d, correctly rounded; false when it is not finite (s, len: its text, for strtod). */
static bool decimal_value(const struct decimal *d, const char *s, size_t len, double *x)
{
	double v, hi;
	uint64_t m = d->m;
	int scale = d->scale;

	if (m == 0 && !d->truncated) {
		*x = d->negative ? -0.0 : 0.0;
		return true;
	}
	if (!d->truncated) {
		/* Trailing zeros of the significand move into the exponent. */
		while (m > MAX_EXACT_INT && m % 10 == 0)
			m /= 10, scale++;
		/* Clinger: one correctly rounded operation on two exact doubles. */
		if (m <= MAX_EXACT_INT && scale >= -MAX_EXACT_POW10 && scale <= MAX_EXACT_POW10) {
			v = (double)m;
			v = scale < 0 ? v / exact_pow10[-scale] : v * exact_pow10[scale];
			*x = d->negative ? -v : v;
			return true;
		}
		if (eisel_lemire(m, scale, &v)) {
			*x = d->negative ? -v : v;
			return true;
		}
	} else if (eisel_lemire(m, scale, &v) && eisel_lemire(m + 1, scale, &hi) && v == hi) {
		/* The value lies in [m, m + 1) * 10^scale, and both ends round to the same double. */
		*x = d->negative ? -v : v;
		return true;
	}
	return slow_path(s, len, x);
}

size_t decimal_scan(const char *s, size_t len, double *x)
{
	const char *p = s, *end = s + len;
	struct decimal d = {0};

	if (p < end && (*p == '+' || *p == '-'))
		d.negative = *p++ == '-';
	p = read_significand(p, end, &d);
	if (p && p < end && (*p == 'e' || *p == 'E'))
		p = read_exponent(p, end, &d);
	if (p == NULL || (p < end && decimal_char(*p)))
		return 0;
	return decimal_value(&d, s, (size_t)(p - s), x) ? (size_t)(p - s) : 0;
}

bool decimal_parse(const char *s, size_t len, double *x)
{
	return len > 0 && decimal_scan(s, len, x) == len;
}
