#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "proto/proto.h"
#include "proto/xmlin.h"
#include "proto/xmlout.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include "../written.h"

#define HEAD "<?xml version=\"1.0\"?><methodResponse><params><param>"
#define TAIL "</param></params></methodResponse>"

/* The value of one <value> element written in b, read back. */
static xmlrpc_value *read_back(const struct buf *b)
{
	char *doc = xasprintf(HEAD "%s" TAIL, buf_str(b)), *fault, *err;
	xmlrpc_value *v;
	int code;

	if (!proto_parse_response(doc, strlen(doc), &v, &code, &fault, &err))
		fail_msg("%s: %s", doc, err);
	free(doc);
	return v;
}

/* A JSON value written as XML reads back as the value proto_from_json makes of it. */
static void test_json_as_proto_from_json_makes_it(void **state)
{
	(void)state;
	const char *texts[] = {
		"{\"D\":0.42,\"K\":5,\"big\":5000000000,\"neg\":-7,\"s\":\"a<&>\\r\\n\",\"t\":true,\"f\":false,"
		"\"n\":null,\"a\":[1,\"x\",[],{}],\"o\":{\"in\":0.1}}",
		"[]", "\"text\"", "0.30000000000000004", "{}",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		json_t *j = json_loads(texts[i], JSON_DECODE_ANY, NULL);
		struct buf b = BUF_INIT;
		xmlrpc_env env;

		assert_non_null(j);
		xmlrpc_env_init(&env);
		proto_xml_json(&b, j);
		xmlrpc_value *want = proto_from_json(&env, j), *got = read_back(&b);
		char *w = written(want), *g = written(got);

		assert_string_equal(g, w);
		free(w);
		free(g);
		xmlrpc_DECREF(want);
		xmlrpc_DECREF(got);
		xmlrpc_env_clean(&env);
		buf_free(&b);
		json_decref(j);
	}
}

/* What XML-RPC cannot carry (not UTF-8, C0 controls, beyond U+FFFF, U+FFFE) becomes U+FFFD; the rest,
 * DEL included, escaped, reads back as it was. */
static void test_text_that_xml_cannot_carry(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	const char *s;
	xmlrpc_env env;

	proto_xml_string(&b, "ok \xc3\xa9\t<a&b>\r\n bad:\xff\xc3 ctl:\x01\x7f emoji:\xf0\x9f\x98\x80 nonchar:\xef\xbf\xbe end");
	xmlrpc_value *v = read_back(&b);

	xmlrpc_env_init(&env);
	xmlrpc_read_string_crlf(&env, v, &s);
	assert_false(env.fault_occurred);
	assert_string_equal(s, "ok \xc3\xa9\t<a&b>\r\n bad:\xef\xbf\xbd\xef\xbf\xbd ctl:\xef\xbf\xbd\x7f "
			       "emoji:\xef\xbf\xbd nonchar:\xef\xbf\xbd end");
	free((void *)s);
	xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	buf_free(&b);
}

/* Members of each kind in a struct, read back with their types. */
static void test_members(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	xmlrpc_env env;
	xmlrpc_int32 small;
	xmlrpc_int64 big, i8;
	xmlrpc_bool flag;
	const char *name;

	buf_adds(&b, PROTO_XML_STRUCT_OPEN);
	proto_xml_member_int(&b, "small", -5);
	proto_xml_member_int(&b, "big", INT64_C(1) << 40);
	proto_xml_member_i8(&b, "i8", 3);
	proto_xml_member_bool(&b, "flag", true);
	proto_xml_member_string(&b, "na<me", "x");
	proto_xml_member_brief_vars(&b, "not json");
	buf_adds(&b, PROTO_XML_STRUCT_CLOSE);
	xmlrpc_value *v = read_back(&b), *vars;

	xmlrpc_env_init(&env);
	xmlrpc_decompose_value(&env, v, "{s:i,s:I,s:I,s:b,s:s,s:S,*}", "small", &small, "big", &big, "i8", &i8, "flag",
			       &flag, "na<me", &name, "vars", &vars);
	assert_false(env.fault_occurred);
	assert_int_equal(small, -5);
	assert_true(big == INT64_C(1) << 40);
	assert_int_equal(i8, 3);
	assert_true(flag);
	assert_string_equal(name, "x");
	assert_int_equal(xmlrpc_struct_size(&env, vars), 0);
	free((void *)name);
	xmlrpc_DECREF(vars);
	xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	buf_free(&b);
}

/* A row's vars: short values as they are, a vector or matrix of more than 16 numbers as its size. */
static void test_brief_vars(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	json_t *many = json_array(), *wide = json_array(), *square = json_array();

	for (int i = 0; i < 17; i++)
		json_array_append_new(many, json_real(i + 0.5));
	for (int r = 0; r < 2; r++) {
		json_t *row = json_array();

		for (int c = 0; c < 9; c++)
			json_array_append_new(row, json_integer(c));
		json_array_append_new(wide, row);
	}
	for (int r = 0; r < 4; r++)
		json_array_append_new(square, json_pack("[iiii]", r, r, r, r));
	json_t *vars = json_pack("{s:o,s:o,s:o,s:[fff],s:s,s:f,s:[]}", "many", many, "wide", wide, "square", square,
	                         "few", 1.0, 2.0, 3.0, "text", "[2 numbers]", "x", 0.5, "empty");
	char *text = json_dumps(vars, JSON_COMPACT);

	buf_adds(&b, PROTO_XML_STRUCT_OPEN);
	proto_xml_member_brief_vars(&b, text);
	buf_adds(&b, PROTO_XML_STRUCT_CLOSE);
	xmlrpc_value *v = read_back(&b);
	json_t *got = proto_to_json(v, NULL);
	json_t *want = json_pack("{s:{s:s,s:s,s:O,s:[fff],s:s,s:f,s:[]}}", "vars", "many", "[17 numbers]", "wide",
	                         "[2x9 matrix]", "square", square, "few", 1.0, 2.0, 3.0, "text", "[2 numbers]", "x", 0.5,
	                         "empty");

	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	json_decref(vars);
	xmlrpc_DECREF(v);
	free(text);
	buf_free(&b);
}

/* The text is read, not parsed: brackets in strings, spaces anywhere, and text that is not JSON. */
static void test_brief_vars_text(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"{\"s\":\"[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\",\"t\":\"a\\\"[\"}", NULL},
	    /* Strings past 64 bytes: their first 48 or so, whole characters (é is 2 bytes, \u00e9 6, a pair 12). */
	    {"{\"a\":\"0123456789012345678901234567890123456789012345678901234567890123\"}", NULL},
	    {"{\"a\":\"01234567890123456789012345678901234567890123456789012345678901234\",\"b\":[1,2]}",
	     "{\"a\":\"012345678901234567890123456789012345678901234567\xe2\x80\xa6\",\"b\":[1,2]}"},
	    {"{\"a\":\"01234567890123456789012345678901234567890123456\xc3\xa9zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
	     "{\"a\":\"01234567890123456789012345678901234567890123456\xc3\xa9\xe2\x80\xa6\"}"},
	    {"{\"a\":\"012345678901234567890123456789012345678901234\\u00e9zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
	     "{\"a\":\"012345678901234567890123456789012345678901234\\u00e9\xe2\x80\xa6\"}"},
	    {"{\"a\":\"0123456789012345678901234567890123456789\\ud83d\\ude00zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
	     "{\"a\":\"0123456789012345678901234567890123456789\\ud83d\\ude00\xe2\x80\xa6\"}"},
	    {"{\"a\":\"01234567890123456789012345678901234567890123456\\\"\\\\zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
	     "{\"a\":\"01234567890123456789012345678901234567890123456\\\"\xe2\x80\xa6\"}"},
	    {"{ \"v\" : [ 1 , 2 ,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17 ] , \"w\": [ ] }",
	     "{ \"v\" : \"[17 numbers]\" , \"w\": [ ] }"},
	    {"{\"m\":[ [1,2,3], [4,5,6],[7,8,9],[1,2,3],[4,5,6],[7,8,9]],\"e\":[[]]}",
	     "{\"m\":\"[6x3 matrix]\",\"e\":[[]]}"},
	    {"{\"v\":[1,2", "{\"v\":[1,2"},
	    {"{\"v\":\"open[", "{\"v\":\"open["},
	    {"{\"x\":1,\"s\":\"a]\"}", NULL},
	    {NULL, NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = proto_brief_vars(cases[i].in);

		if (cases[i].out == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].out);
		free(got);
	}
}

/* What canonical JSON wrote for a real before it took a shortcut: the fewest digits, 1 to 17, that read back. */
static void fewest_digits(double x, char *text, size_t size)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(text, size, "%.*g", p, x);
		if (strtod(text, NULL) == x)
			break;
	}
	if (strspn(text, "-0123456789") == strlen(text))
		strcat(text, ".0");
}

/* Canonical text is part of every cache key: a real is written as it always was. */
static void test_reals_in_canonical_json(void **state)
{
	static const double chosen[] = {0.0, -0.0, 0.5, 0.1, 0.30000000000000004, 1e10, 1e15, 1e16, 1e17, 1e21, 123000.0,
					100.5, 1.5e-6, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 400.0,
					9007199254740993.0, 0.1 + 0.7, 1.0 / 3, -2.5e-300};
	uint64_t seed = 0x9e3779b97f4a7c15u;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		char want[48];
		double x;

		if (i < (int)(sizeof chosen / sizeof chosen[0])) {
			x = chosen[i];
		} else if (i % 2) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			memcpy(&x, &seed, sizeof x);
			if (!isfinite(x))
				continue;
		} else {
			/* Sweep-like values: a few decimal digits at some scale. */
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			x = (double)(seed % 100000) * pow(10, (double)((int)(seed >> 40) % 30 - 20));
		}
		json_t *j = json_real(x);
		char *got = proto_canonical(j);

		fewest_digits(x, want, sizeof want);
		if (strcmp(got, want) != 0)
			fail_msg("%.17g: \"%s\", was \"%s\"", x, got, want);
		free(got);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_as_proto_from_json_makes_it),
	    cmocka_unit_test(test_text_that_xml_cannot_carry),
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_brief_vars),
	    cmocka_unit_test(test_brief_vars_text),
	    cmocka_unit_test(test_reals_in_canonical_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
