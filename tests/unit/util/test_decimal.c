/*
 * util/decimal: decimal_parse() equals strtod() bit for bit on every string of the <double> grammar,
 * and refuses what is not one; the fast path is checked on its edges (2^53, 10^22, zeros, signs)
 * and fuzzed against strtod with a million random numbers of up to 20 digits, most of 15 to 17
 * significant digits as %.17g and shortest round trips print them, and with decimals next to the
 * midpoints between doubles, where the extended-precision path could round twice.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		cmocka_unit_test(test_reads_len_bytes_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
