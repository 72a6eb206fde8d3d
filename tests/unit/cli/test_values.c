#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli/values.h"
#include "proto/proto.h"

/* The value as canonical JSON text, for comparison. */
static char *as_json(xmlrpc_value *v)
{
	char *err = NULL;
	json_t *j = proto_to_json(v, &err);
	char *text = proto_canonical(j);

	json_decref(j);
	free(err);
	return text;
}

static void check_value(const char *input, const char *json)
{
	struct values_error err = {0};
	char *text;
	xmlrpc_value *v = cli_parse_value(input, &err);

	if (v == NULL)
		fail_msg("%s: %s", input, err.message);
	text = as_json(v);
	if (strcmp(text, json) != 0)
		fail_msg("%s parsed as %s, expected %s", input, text, json);
	free(text);
	xmlrpc_DECREF(v);
}

/* input is refused, with words in the message, about byte at. */
static void check_refused(const char *input, const char *words, size_t at)
{
	struct values_error err = {0};
	xmlrpc_value *v = cli_parse_value(input, &err);

	if (v) {
		char *text = as_json(v);

		fail_msg("%s was accepted as %s", input, text);
	}
	if (strstr(err.message, words) == NULL || err.at != at)
		fail_msg("%s: \"%s\" at %zu; expected \"%s\" at %zu", input, err.message, err.at, words, at);
	values_error_clear(&err);
}

static void test_values(void **state)
{
	check_value("400", "400");
	check_value("0.42", "0.42");
	check_value("1.2e-3", "0.0012");
	check_value("-5", "-5");
	check_value(".5", "0.5");
	check_value("[1,2,3]", "[1,2,3]");
	check_value("[1 2 3]", "[1,2,3]");
	check_value("[ 1 , 2 ]", "[1,2]");
	check_value("[[1,2],[3,4]]", "[[1,2],[3,4]]");
	check_value("[1 2; 3 4]", "[[1,2],[3,4]]");
	check_value("[1; 2;]", "[[1],[2]]");
	check_value("[]", "[]");
	check_value("'hello world'", "\"hello world\"");
	check_value("ideal", "\"ideal\"");
	check_value("-x", "\"-x\"");
	check_value("DOPRI", "\"DOPRI\"");
	check_value("it's", "\"it's\"");
	check_value("abc]", "\"abc]\"");
	check_value("info", "\"info\"");
	check_value("nanometer", "\"nanometer\"");
	check_value("Inferno", "\"Inferno\"");
	/* As typed: -0 keeps its sign; whole numbers from 2^53 on stay whole (a double would round them). */
	check_value("-0.0", "-0.0");
	check_value("[1, -0.0]", "[1,-0.0]");
	check_value("0", "0");
	check_value("3000000000", "3e+09");
	check_value("9007199254740993", "9007199254740993");
	check_value("[9007199254740993 -9223372036854775808]", "[9007199254740993,-9223372036854775808]");
	check_value("9223372036854775808", "9.223372036854776e+18");
	check_value("9007199254740993.0", "9007199254740992.0");

	struct values_error err = {0};

	assert_null(cli_parse_value("K 2; 3 ,[\xcd\xdf\xcb],x", &err));
	assert_string_equal(err.message, "not valid UTF-8");
	assert_int_equal(err.at, 9);
	values_error_clear(&err);
}

/* Issue 14: text that looks like a number must be one, and quotes make a string of anything. */
static void test_numbers_that_are_not(void **state)
{
	check_refused("nan", "NaN is not a number PLECS takes", 0);
	check_refused("-inf", "an infinity is not a number PLECS takes", 0);
	check_refused("Infinity", "an infinity", 0);
	check_refused("+INF", "an infinity", 0);
	check_refused("nan(0x1)", "NaN", 0);
	check_refused("1e999", "too large for a number", 0);
	check_refused("-1e999", "too large for a number", 0);
	check_refused("1e-999", "too small for a number: it would become 0", 0);
	/* A subnormal is not 0, but XML-RPC cannot carry it: the message says that, not "it would become 0". */
	check_refused("1e-320", "is a subnormal number (nearer 0 than 2.2250738585072014e-308), which XML-RPC", 0);
	check_refused("-5e-324", "is a subnormal number", 0);
	check_refused("0x10", "hexadecimal numbers are not read", 0);
	check_refused("1.2.3", "looks like a number but is not one", 3);
	check_refused("3V", "looks like a number but is not one", 1);
	check_refused("1,2", "looks like a number but is not one", 1);
	check_value("'nan'", "\"nan\"");
	check_value("\"1e999\"", "\"1e999\"");
	check_value("'0x10'", "\"0x10\"");
	check_value("'1.2.3'", "\"1.2.3\"");
	check_value("''", "\"\"");
	check_refused("", "an empty value", 0);
	check_refused("  ", "an empty value", 0);
	check_refused("'abc", "the ' is never closed", 0);
	/* What XML-RPC cannot carry is refused here, at its place, not by the server as a malformed call. */
	check_refused("a\001b", "XML-RPC cannot carry this character", 1);
	check_refused("'x\033[31m'", "XML-RPC cannot carry this character", 2);
	check_refused("smile \xf0\x9f\x98\x80", "beyond U+FFFF", 6);
	check_value("'a\tb'", "\"a\\tb\"");
	check_value("'line\nbreak'", "\"line\\nbreak\"");
}

/* Issue 14: brackets open a vector or a matrix, or an error that points at the place. */
static void test_brackets(void **state)
{
	check_refused("[1,2", "the [ is never closed", 0);
	check_refused("[[1,2],[3,4]", "the [ is never closed", 0);
	check_refused("[[1,2],[3,4]", "the [ is never closed", 0);
	check_refused("[1,,2]", "an empty item before the comma", 3);
	check_refused("[,1]", "an empty item before the comma", 1);
	check_refused("[1,2,]", "an empty item after the last comma", 5);
	check_refused("[1, a]", "not a number; a vector or matrix holds numbers only", 4);
	check_refused("[1, nan]", "NaN is not a number", 4);
	check_refused("[1 2] x", "text after the closing ]", 5);
	check_refused("[[1,2],3]", "not both", 7);
	check_refused("[1,[2]]", "not both", 3);
	check_refused("[[[1]]]", "brackets nest two deep at most", 2);
	check_refused("[1;;2]", "an empty row", 3);
	check_refused("[[1];[2]]", "; separates the rows of [1 2; 3 4] only", 4);
}

static char *axis_values(const char *spec, size_t *n, struct values_error *err)
{
	xmlrpc_env env;
	struct sweep_axis *a = calloc(1, sizeof *a);
	char *out = NULL;

	xmlrpc_env_init(&env);
	if (sweep_parse_axis(&env, spec, a, err)) {
		out = calloc(1, 4096);
		strcpy(out, a->name);
		strcat(out, "=");
		for (size_t i = 0; i < a->n; i++) {
			char *t = as_json(a->values[i]);

			strcat(out, i ? "|" : "");
			strcat(out, t);
			free(t);
		}
		*n = a->n;
	}
	sweep_axes_free(a, 1);
	xmlrpc_env_clean(&env);
	return out;
}

static void test_sweep_axes(void **state)
{
	size_t n = 0;
	struct values_error err = {0};
	char *s;
	static const struct {
		const char *spec, *values;
	} good[] = {
		{"D=0.1:0.5:0.1", "D=0.1|0.2|0.3|0.4|0.5"},
		{"N=10:0:-5", "N=10|5|0"},
		{"L=1e-3,2e-3", "L=0.001|0.002"},
		{"K=[1,2],[3,4]", "K=[1,2]|[3,4]"},
		{"V=400", "V=400"},
		{"S='a,b',c", "S=\"a,b\"|\"c\""},
		{"T='12:00','13:00'", "T=\"12:00\"|\"13:00\""},
		{"M=[1 2; 3 4],[5 6; 7 8]", "M=[[1,2],[3,4]]|[[5,6],[7,8]]"},
		/* Ranges keep every digit typed (they were cut to 12), count in the units written, and count
		 * whole numbers past 2^53 in 64 bits. */
		{"R=1234.56789012345:1236:1", "R=1234.56789012345|1235.56789012345"},
		{"R=1000.0000000001:1000.0000000003:0.0000000001", "R=1000.0000000001|1000.0000000002|1000.0000000003"},
		{"R=9007199254740992:9007199254740994:1", "R=9007199254740992|9007199254740993|9007199254740994"},
		{"R=9007199254740993:9007199254740995:1", "R=9007199254740993|9007199254740994|9007199254740995"},
		{"R=2.5e2:2.6e2:5", "R=250|255|260"},
		{"R=1e-3:3e-3:1e-3", "R=0.001|0.002|0.003"},
		{"R=-0.5:0.5:0.5", "R=-0.5|0|0.5"},
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		s = axis_values(good[i].spec, &n, &err);
		if (s == NULL)
			fail_msg("%s: %s", good[i].spec, err.message);
		assert_string_equal(s, good[i].values);
		free(s);
	}
	/* Each refused, about the byte named. */
	static const struct {
		const char *spec, *words;
		size_t at;
	} bad[] = {
		{"D", "expected NAME=START:STOP:STEP or NAME=A,B,C", 1},
		{"=1,2", "expected NAME=START:STOP:STEP or NAME=A,B,C", 0},
		{"D=0:1:0", "a STEP of 0 never gets from 0 to 1", 2},
		{"D=1:0:1", "never gets from 1 to 0", 2},
		{"D=0:1", "too few parts", 5},
		{"D=0:1:2:3", "too many parts", 7},
		{"D=a:b:c", "not a number; a range is START:STOP:STEP", 2},
		{"D=0:1e9:1", "a sweep may have at most 100000 tasks", 2},
		{"D=1,,2", "item 2 is empty", 4},
		{"D=1,2,", "item 3 is empty", 6},
		{"D=,1", "item 1 is empty", 2},
		{"D=", "item 1 is empty", 2},
		{"D=[1,2", "the [ is never closed", 2},
		{"D=1,[2,3", "the [ is never closed", 4},
		{"D=1,2]", "this ] closes no [", 5},
		{"D='a,b", "the ' is never closed", 2},
		{"D=1,nan", "NaN is not a number", 4},
		{"D=1,1e999", "too large", 4},
		{"D=1,[1,,2]", "an empty item before the comma", 7},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = axis_values(bad[i].spec, &n, &err);
		if (s)
			fail_msg("%s was accepted as %s", bad[i].spec, s);
		if (strstr(err.message, bad[i].words) == NULL || err.at != bad[i].at)
			fail_msg("%s: \"%s\" at %zu; expected \"%s\" at %zu", bad[i].spec, err.message, err.at,
				 bad[i].words, bad[i].at);
		values_error_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_numbers_that_are_not),
		cmocka_unit_test(test_brackets),
		cmocka_unit_test(test_sweep_axes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
