/*
 * util/decimal: decimal_parse() equals strtod() bit for bit on every string of the <double> grammar,
 * and refuses what is not one; the fast paths are checked on their edges (2^53, 10^22, zeros, signs,
 * ties, subnormals, the ends of the doubles' range, significands of 19 and more digits) and fuzzed
 * against strtod with millions of random numbers: most of 15 to 17 significant digits as %.17g and
 * shortest round trips print them, of every decimal exponent a double has, and decimals next to the
 * midpoints between doubles, where a truncated product cannot tell which way to round.  The table of
 * powers of five is recomputed with exact integers, and decimal_scan finds where a number ends.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/decimal-pow5.h"
#include "util/decimal.h"

/* What the decoder accepted before decimal.c: only these characters, all read by strtod, finite. */
static bool reference(const char *t, double *x)
{
	char *end;

	if (*t == '\0' || strspn(t, "0123456789+-.eE") != strlen(t))
		return false;
	*x = strtod(t, &end);
	return *end == '\0' && isfinite(*x);
}

/* decimal_parse agrees with the reference on t: the same verdict and the same bits. */
static void agrees(const char *t)
{
	double want = 0, got = 0;
	bool w = reference(t, &want), g = decimal_parse(t, strlen(t), &got);

	if (w != g || (w && memcmp(&want, &got, sizeof want) != 0)) {
		fail_msg("\"%s\": strtod %s %a, decimal_parse %s %a", t, w ? "reads" : "refuses", want,
			 g ? "reads" : "refuses", got);
	}
}

static void test_edges(void **state)
{
	static const char *const cases[] = {
		"0", "-0", "+0", "0.0", "-0.000", "00012", "1", "-1", "+1", ".5", "5.", "-.5", "1e5", "1E+05",
		"1e-5", "1.e5", "9007199254740992", "9007199254740993", "9007199254740991", "-9007199254740993",
		"1e22", "1e23", "9007199254740992e22", "9007199254740993e-22", "1e-22", "1e-23", "123456789012345678",
		"1234567890123456789", "12345678901234567890", "0.000035000000000000006", "2.979583006522777",
		"0.002505000000000001", "4.9406564584124654e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
		"1.7976931348623159e308", "1e309", "-1e309", "1e-400", "-1e-400", "123400000000000000000000",
		"0.1", "0.2", "0.3", "3.0000000000000004", "1e00000000000000000000005", "1e-0000000000000000000022",
		"0e999999999999", "0.0e-999999999",
		/* not numbers */
		"", ".", "-", "+", "e5", ".e5", "1e", "1e+", "1e-", "--1", "+-1", "1-", "1.2.3", "1e5e3", "1ee5",
		"inf", "nan", "0x1p3", " 1", "1 ", "1,5",
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		agrees(cases[i]);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random number as a person or printf would write it, sometimes a string no grammar takes. */
static void random_number(char *out, size_t size)
{
	uint64_t r = next();
	double d;

	memcpy(&d, &(uint64_t){next()}, sizeof d);
	switch (r % 6) {
	case 0: /* a random double's bits, as %.17g prints it */
		snprintf(out, size, "%.17g", d);
		break;
	case 1: /* the shortest digits for a random double of a result's scale */
		snprintf(out, size, "%.*g", (int)(15 + next() % 3), (double)(next() % 1000000) * 1e-6 * exp((double)(next() % 60) - 30));
		break;
	case 2: { /* up to 20 random digits with a point and an exponent */
		int n = 1 + (int)(next() % 20), point = (int)(next() % (n + 1)), k = 0;

		if (next() % 2)
			out[k++] = '-';
		for (int i = 0; i < n; i++) {
			if (i == point)
				out[k++] = '.';
			out[k++] = (char)('0' + next() % 10);
		}
		k += snprintf(out + k, size - (size_t)k, "e%d", (int)(next() % 80) - 40);
		out[k] = '\0';
		break;
	}
	case 3: /* an integer significand near 2^53 times a power of ten near the edge */
		snprintf(out, size, "%llue%d", (unsigned long long)((UINT64_C(1) << 53) - 50 + next() % 100),
			 (int)(next() % 50) - 25);
		break;
	case 4: { /* a string of the characters the grammar uses, in any order */
		static const char chars[] = "0123456789+-.eE";
		int n = 1 + (int)(next() % 12);

		for (int i = 0; i < n; i++)
			out[i] = chars[next() % (sizeof chars - 1)];
		out[n] = '\0';
		break;
	}
	default: /* a 16- or 17-digit value of a waveform */
		snprintf(out, size, "%.*g", (int)(16 + next() % 2), sin((double)(next() % 100000)) * 400);
		break;
	}
}

static void test_fuzz_against_strtod(void **state)
{
	char text[96];

	for (int i = 0; i < 1000000; i++) {
		random_number(text, sizeof text);
		agrees(text);
	}
}

/*
 * The extended-precision path (17 to 19 digits, powers of ten up to 27): decimals within a digit of
 * the midpoint between two neighbouring doubles, where a second rounding would go wrong, and 19-digit
 * significands of every scale it takes.
 */
static void test_near_midpoints(void **state)
{
	char text[96];

	for (int i = 0; i < 500000; i++) {
		double d = (double)(next() % 1000000007) * pow(10, (int)(next() % 50) - 30) + 1e-300;
		long double mid = ((long double)d + (long double)nextafter(d, INFINITY)) / 2;
		int n = snprintf(text, sizeof text, "%.*Le", 16 + (int)(next() % 3), mid);

		agrees(text);
		/* One unit more or less in the last digit of the significand. */
		char *e = strchr(text, 'e');

		if (e && e[-1] > '0' && e[-1] < '9' && n > 0) {
			e[-1] = (char)(e[-1] + (next() % 2 ? 1 : -1));
			agrees(text);
		}
		snprintf(text, sizeof text, "%llu%llue%d", (unsigned long long)(next() % 1000000000),
			 (unsigned long long)(1000000000 + next() % 9000000000ULL), (int)(next() % 55) - 27);
		agrees(text);
	}
}

/* A random digit string of n digits, the first not 0. */
static void random_digits(char *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = (char)((i == 0 ? '1' : '0') + next() % (i == 0 ? 9 : 10));
	out[n] = '\0';
}

/* Significands of 16 to 20 and up to 40 digits at every decimal exponent a double has, and past its ends. */
static void test_every_exponent(void **state)
{
	char digits[48], text[96];

	for (int e = -345; e <= 312; e++) {
		for (int i = 0; i < 60; i++) {
			int n = i < 40 ? 16 + i % 5 : 1 + (int)(next() % 40);

			random_digits(digits, n);
			snprintf(text, sizeof text, "%c.%se%d", digits[0], digits + 1, e);
			agrees(text);
			snprintf(text, sizeof text, "-%se%d", digits, e - n + 1);
			agrees(text);
		}
	}
}

/* A decimal written from the exact value of x, with precision digits after the first. */
static void exact_text(char *out, size_t size, long double x, int precision)
{
	snprintf(out, size, "%.*Le", precision, x);
}

/*
 * Ties, where the product's leading bits cannot tell a tie from a value just above it: odd 54-bit
 * integers times powers of two, short enough for the fast path (up to 19 digits) and written in
 * full (hundreds of digits); and the values a digit away from them.
 */
static void test_ties(void **state)
{
	char text[1200];

	for (int i = 0; i < 20000; i++) {
		uint64_t odd = (UINT64_C(1) << 53) + 2 * (next() % (UINT64_C(1) << 52)) + 1;
		int j = (int)(next() % 13) - 3;
		long double tie = ldexpl((long double)odd, j);

		/* 2^53 + 1 .. 2^54 - 1 times 2^-3 .. 2^9: at most 19 significant digits, exactly. */
		exact_text(text, sizeof text, tie, 18);
		agrees(text);
		snprintf(text, sizeof text, "%.0Lf", ldexpl((long double)odd, j < 0 ? 0 : j));
		agrees(text);
		/* A random double's midpoint, written exactly, and a hair either side of it. */
		double d;

		memcpy(&d, &(uint64_t){next() & ~(UINT64_C(1) << 63)}, sizeof d);
		if (!isfinite(d) || d == DBL_MAX)
			continue;
		long double mid = ((long double)d + (long double)nextafter(d, INFINITY)) / 2;

		exact_text(text, sizeof text, mid, 800);
		agrees(text);
		char *e = strchr(text, 'e');

		memmove(e + 1, e, strlen(e) + 1);
		*e = '1';
		agrees(text);
		exact_text(text, sizeof text, nextafterl(mid, 0), 30);
		agrees(text);
	}
}

/* The ends of the doubles: subnormals, the least normal, the greatest double and what rounds past it. */
static void test_range_ends(void **state)
{
	static const char *const cases[] = {
		"2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072013e-308",
		"2.22507385850720138309e-308", "2.225073858507201136057409796709131975934819546351645648e-308",
		"4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "5e-324", "1e-324",
		"3e-324", "7.4109846876186982e-324", "1.7976931348623157e308", "1.7976931348623158e308",
		"1.79769313486231570814527423731704356798070e308", "1.79769313486231580793728971405301e308",
		"179769313486231580793728971405301e292", "9.9999999999999999e307", "1e308", "2e308",
	};
	char text[1200];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		agrees(cases[i]);
	/* The tie between 0 and the least subnormal, and between the greatest double and 2^1024. */
	exact_text(text, sizeof text, 0x1p-1075L, 800);
	agrees(text);
	exact_text(text, sizeof text, 0x1p-1075L * 1.0000001L, 800);
	agrees(text);
	snprintf(text, sizeof text, "%.0Lf", (long double)DBL_MAX + 0x1p970L);
	agrees(text);
	snprintf(text, sizeof text, "%.0Lf", (long double)DBL_MAX + 0x1p969L);
	agrees(text);
	for (int i = 0; i < 200000; i++) {
		double d;

		/* Subnormals and the binades next to the least normal and the greatest double. */
		uint64_t bits = next() % (UINT64_C(3) << 52);

		if (i % 2)
			bits = (UINT64_C(0x7fe) << 52) - (UINT64_C(1) << 52) + bits % (UINT64_C(2) << 52);
		memcpy(&d, &bits, sizeof d);
		snprintf(text, sizeof text, "%.*g", 1 + (int)(next() % 20), d);
		agrees(text);
	}
}

/* Exact unsigned integers of up to 2048 bits, enough for 5^342 * 2^128 and 2^(127 + 795), to check the table. */
#define BIG_LIMBS 64

struct big {
	uint32_t d[BIG_LIMBS]; /* least significant first */
};

static void big_set(struct big *b, uint64_t hi, uint64_t lo)
{
	memset(b, 0, sizeof *b);
	b->d[0] = (uint32_t)lo, b->d[1] = (uint32_t)(lo >> 32), b->d[2] = (uint32_t)hi, b->d[3] = (uint32_t)(hi >> 32);
}

static void big_mul(struct big *out, const struct big *x, const struct big *y)
{
	struct big r = {0};

	for (int i = 0; i < BIG_LIMBS; i++) {
		uint64_t carry = 0;

		for (int j = 0; i + j < BIG_LIMBS; j++) {
			uint64_t t = (uint64_t)x->d[i] * y->d[j] + r.d[i + j] + carry;

			r.d[i + j] = (uint32_t)t;
			carry = t >> 32;
		}
		assert_true(carry == 0);
	}
	*out = r;
}

static void big_shift_left(struct big *b, int n)
{
	struct big r = {0};

	for (int i = BIG_LIMBS - 1; i >= 0; i--) {
		int to = i + n / 32;
		uint64_t v = (uint64_t)b->d[i] << (n % 32);

		if (b->d[i] != 0)
			assert_true(to + (v >> 32 ? 1 : 0) < BIG_LIMBS);
		if (to < BIG_LIMBS)
			r.d[to] |= (uint32_t)v;
		if (to + 1 < BIG_LIMBS)
			r.d[to + 1] |= (uint32_t)(v >> 32);
	}
	*b = r;
}

static int big_cmp(const struct big *x, const struct big *y)
{
	for (int i = BIG_LIMBS - 1; i >= 0; i--)
		if (x->d[i] != y->d[i])
			return x->d[i] < y->d[i] ? -1 : 1;
	return 0;
}

static int big_bits(const struct big *b)
{
	for (int i = BIG_LIMBS - 1; i >= 0; i--)
		if (b->d[i])
			return 32 * i + 32 - __builtin_clz(b->d[i]);
	return 0;
}

/* Each entry of the table recomputed exactly: T * 2^e <= 5^q < (T + 1) * 2^e, e = floor(log2(5^q)) - 127. */
static void test_pow5_table(void **state)
{
	for (int q = DECIMAL_POW5_MIN; q <= DECIMAL_POW5_MAX; q++) {
		const uint64_t *t = decimal_pow5[q - DECIMAL_POW5_MIN];
		struct big five, pow = {.d = {1}}, num = {.d = {1}}, den = {.d = {1}}, lo, hi;

		big_set(&five, 0, 5);
		for (int i = 0; i < abs(q); i++)
			big_mul(&pow, &pow, &five);
		/* 5^q = num / den, f = floor(log2(5^q)); both sides are scaled by 2^s to keep the shifts whole */
		int f = q >= 0 ? big_bits(&pow) - 1 : -big_bits(&pow), s = f < 0 ? -f : 0;

		*(q >= 0 ? &num : &den) = pow;
		assert_int_equal(decimal_pow5_exponent(q), f);
		assert_true(t[0] >> 63);
		/* T * den * 2^(f + s) <= num * 2^(127 + s) < (T + 1) * den * 2^(f + s) */
		big_set(&lo, t[0], t[1]);
		big_set(&hi, t[1] == UINT64_MAX ? t[0] + 1 : t[0], t[1] + 1);
		if (t[0] == UINT64_MAX && t[1] == UINT64_MAX)
			hi.d[4] = 1;
		big_mul(&lo, &lo, &den);
		big_mul(&hi, &hi, &den);
		big_shift_left(&lo, f + s);
		big_shift_left(&hi, f + s);
		big_shift_left(&num, 127 + s);
		if (big_cmp(&lo, &num) > 0 || big_cmp(&num, &hi) >= 0)
			fail_msg("the table's entry for 5^%d is not the 128 leading bits of 5^%d", q, q);
	}
}

/* decimal_scan reads the run of number characters at the start, and only it. */
static void test_scan(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		double x;
	} cases[] = {
		{"1.5</double>", 3, 1.5}, {"-2e-3<", 5, -2e-3}, {"12", 2, 12}, {".5x", 2, .5}, {"1.5 ", 3, 1.5},
		{"6.284233089760303</double></value>", 17, 6.284233089760303}, {"1e<", 0, 0}, {"1-2<", 0, 0},
		{"1.5e+", 0, 0}, {"1e5e", 0, 0}, {"abc", 0, 0}, {"", 0, 0}, {"-<", 0, 0}, {"1e400<", 0, 0},
		/* bytes on either side of the digits, and not ASCII, after runs of every length; eight bytes or more
		 * after a number, so the eight-at-a-time reader runs past its end */
		{"12345678/9", 8, 12345678}, {"1234567:89", 7, 1234567}, {"123456789\xc3\xa9" "abcdefg", 9, 123456789},
		{"0.1234567\x80\x80\x80\x80\x80\x80\x80\x80", 9, 0.1234567},
		{"1234567890123456.5 </value>", 18, 1234567890123456.5}, {"9\x7f\x7f\x7f\x7f\x7f\x7f\x7f", 1, 9},
		{"1234/5678 </value>", 4, 1234}, {"12\xb5" "45678901234", 2, 12},
		{"12345678901234567890123456789 ", 29, 12345678901234567890123456789.0},
	};
	char text[112];
	double x;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		x = 0;
		if (decimal_scan(cases[i].text, strlen(cases[i].text), &x) != cases[i].len)
			fail_msg("decimal_scan(\"%s\") is not %zu", cases[i].text, cases[i].len);
		if (cases[i].len)
			assert_true(x == cases[i].x);
	}
	for (int i = 0; i < 200000; i++) {
		double want = 0;

		random_number(text, sizeof text - 16);
		size_t n = strlen(text);

		if (strspn(text, "0123456789+-.eE") != n)
			continue;
		bool number = decimal_parse(text, n, &want);

		strcpy(text + n, i % 2 ? "</double>" : " ");
		if (decimal_scan(text, strlen(text), &x) != (number ? n : 0) || (number && memcmp(&x, &want, sizeof x)))
			fail_msg("decimal_scan(\"%s\") does not read what decimal_parse reads", text);
	}
}

/* The length given is the string: what follows it is not read. */
static void test_reads_len_bytes_only(void **state)
{
	double x = 0;

	assert_true(decimal_parse("1.5junk", 3, &x));
	assert_true(x == 1.5);
	assert_false(decimal_parse("1.5junk", 4, &x));
	assert_true(decimal_parse("123456789012345678901234567890xyz", 30, &x));
	assert_true(x == 123456789012345678901234567890.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_fuzz_against_strtod),
		cmocka_unit_test(test_near_midpoints),
		cmocka_unit_test(test_every_exponent),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_range_ends),
		cmocka_unit_test(test_pow5_table),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_reads_len_bytes_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
