#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "proto/xmlin.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include "../written.h"

#define HEAD "<?xml version=\"1.0\"?><methodResponse><params><param>"
#define TAIL "</param></params></methodResponse>"

/* v as xmlrpc-c writes an answer of it (heap). */
static char *answer_written(xmlrpc_value *v)
{
	return serialized(v, true);
}

/* The answer doc holds (the test fails when it is not one). */
static xmlrpc_value *read_ok(const char *doc)
{
	xmlrpc_value *v;
	char *fault, *err;
	int code;

	if (!proto_parse_response(doc, strlen(doc), &v, &code, &fault, &err))
		fail_msg("not read: %s", err);
	assert_null(fault);
	assert_non_null(v);
	return v;
}

/* doc is refused, and the reason names want. */
static void refused(const char *doc, const char *want)
{
	xmlrpc_value *v;
	char *fault, *err;
	int code;

	assert_false(proto_parse_response(doc, strlen(doc), &v, &code, &fault, &err));
	assert_null(v);
	assert_null(fault);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, want);
	free(err);
}

/* Every type xmlrpc-c writes, nested, reads back as the same values: written again, the same text. */
static void test_reads_what_xmlrpc_c_writes(void **state)
{
	(void)state;
	xmlrpc_env env;
	const unsigned char bytes[] = {0, 1, 2, 250, 255, 'A'};

	xmlrpc_env_init(&env);
	xmlrpc_value *v = xmlrpc_build_value(
		&env, "{s:i,s:I,s:b,s:d,s:d,s:s,s:s,s:n,s:6,s:(i{s:s}()),s:{},s:()}", "int", -2147483647 - 1, "i8",
		(xmlrpc_int64)INT64_MIN, "bool", (xmlrpc_bool)1, "double", 0.1, "big", 1.7976931348623157e308, "text",
		"a <b> & \"c\"\r\nd \xc3\xa9 \xe2\x82\xac", "empty", "", "nil", "bytes", bytes, sizeof bytes, "array", 7, "k",
		"v", "struct", "list");
	assert_false(env.fault_occurred);
	xmlrpc_value *t = xmlrpc_datetime_new_str(&env, "20261130T17:29:11");

	assert_non_null(t);
	xmlrpc_struct_set_value(&env, v, "when", t);
	xmlrpc_DECREF(t);
	assert_false(env.fault_occurred);
	char *doc = answer_written(v);
	xmlrpc_value *got = read_ok(doc);
	char *again = answer_written(got);

	assert_string_equal(again, doc);
	free(again);
	free(doc);
	xmlrpc_DECREF(got);
	xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
}

static void test_a_value_without_a_type_is_a_string(void **state)
{
	(void)state;
	xmlrpc_value *v = read_ok(HEAD "<value><array><data><value> a b </value><value></value></data></array></value>" TAIL);
	xmlrpc_value *item;
	const char *s;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_array_read_item(&env, v, 0, &item);
	xmlrpc_read_string(&env, item, &s);
	assert_string_equal(s, " a b ");
	free((void *)s);
	xmlrpc_DECREF(item);
	xmlrpc_array_read_item(&env, v, 1, &item);
	xmlrpc_read_string(&env, item, &s);
	assert_string_equal(s, "");
	free((void *)s);
	xmlrpc_DECREF(item);
	xmlrpc_DECREF(v);
	assert_false(env.fault_occurred);
	xmlrpc_env_clean(&env);
}

/* xmlrpc-c reads "0.42" a unit off (0.42000000000000004); this reader reads it exactly. */
static void test_doubles_are_exact(void **state)
{
	(void)state;
	const char *texts[] = {"0.42", "0.1", "-2.5e-3", "123456.789", "1e300", " 3.0 "};
	const double want[] = {0.42, 0.1, -2.5e-3, 123456.789, 1e300, 3.0};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char *doc = xasprintf(HEAD "<value><double>%s</double></value>" TAIL, texts[i]);
		xmlrpc_value *v = read_ok(doc);
		xmlrpc_env env;
		double d;

		xmlrpc_env_init(&env);
		xmlrpc_read_double(&env, v, &d);
		assert_true(d == want[i]);
		xmlrpc_DECREF(v);
		xmlrpc_env_clean(&env);
		free(doc);
	}
}

static void test_a_fault_gives_its_code_and_text(void **state)
{
	(void)state;
	const char *doc = "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int>"
			  "</value></member><member><name>faultString</name><value><string>no such task &amp; more"
			  "</string></value></member></struct></value></fault></methodResponse>";
	xmlrpc_value *v;
	char *fault, *err;
	int code = 0;

	assert_true(proto_parse_response(doc, strlen(doc), &v, &code, &fault, &err));
	assert_null(v);
	assert_int_equal(code, 4);
	assert_string_equal(fault, "no such task & more");
	free(fault);
	refused("<methodResponse><fault><value><string>x</string></value></fault></methodResponse>", "faultCode");
}

/* What is not an XML-RPC answer is refused with what was wrong, and nothing made of it leaks (ASan). */
static void test_refuses_what_is_not_xml_rpc(void **state)
{
	(void)state;
	refused("<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>" HEAD "<value>&b;</value>" TAIL, "DOCTYPE");
	refused(HEAD "<value><i4>2147483648</i4></value>" TAIL, "<int> holds \"2147483648\"");
	refused(HEAD "<value><i8>9223372036854775808</i8></value>" TAIL, "<i8>");
	refused(HEAD "<value><boolean>2</boolean></value>" TAIL, "0 or 1");
	refused(HEAD "<value><double>nan</double></value>" TAIL, "finite");
	refused(HEAD "<value><double>1e999</double></value>" TAIL, "finite");
	refused(HEAD "<value><base64>@@</base64></value>" TAIL, "base64");
	refused(HEAD "<value><foo>1</foo></value>" TAIL, "<foo> is not allowed");
	refused(HEAD "<value><i4 a=\"1\">1</i4></value>" TAIL, "attributes");
	refused(HEAD "<value><struct>x<member><name>a</name><value>1</value></member></struct></value>" TAIL, "text \"x\"");
	refused(HEAD "<value><struct><member><name>a</name></member></struct></value>" TAIL, "without a <value>");
	refused(HEAD "<value><struct><member><value>1</value></member></struct></value>" TAIL, "<value> is not allowed");
	refused(HEAD "<value>1</value><value>2</value>" TAIL, "<value> is not allowed");
	refused(HEAD "<value>a<i4>1</i4></value>" TAIL, "text and <i4>");
	refused(HEAD "<value><i4>1</i4>junk</value>" TAIL, "text \"junk\"");
	refused(HEAD "<value><array><data><value><i4>1</i4></value>", "no element found");
	refused("<methodResponse><params></params></methodResponse>", "without a <param>");
	refused("", "no element found");
	refused(HEAD "<value>\xff</value>" TAIL, "invalid token");
	refused("<methodCall><methodName>x</methodName></methodCall>", "<methodCall> is not allowed");
	refused(HEAD "<value><double>0x1p3</double></value>" TAIL, "finite decimal");
	refused(HEAD "<value><double>infinity</double></value>" TAIL, "finite decimal");
}

/* A call read: its method and its parameters, none, one or several. */
static void test_reads_a_call(void **state)
{
	static const char *const refusals[][2] = {
		{"<methodResponse><params><param><value>1</value></param></params></methodResponse>",
		 "<methodResponse> is not allowed"},
		{"<methodCall><params></params></methodCall>", "<params> is not allowed"},
		{"<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>",
		 "<methodName> is not allowed"},
		{"<methodCall><methodName>a</methodName><params></params><params></params></methodCall>",
		 "<params> is not allowed"},
		{"<methodCall></methodCall>", "without a <methodName>"},
		{"<methodCall><methodName>a<i4>1</i4></methodName></methodCall>", "<i4> is not allowed"},
		{"<methodCall><methodName>a</methodName><params><param><value><double>0x10</double></value></param>"
		 "</params></methodCall>",
		 "finite decimal"},
		{"<methodCall><methodName>a</methodName><params><param><value><double>5e-324</double></value></param>"
		 "</params></methodCall>",
		 "too small for a double"},
		{"<methodCall><methodName>a</methodName><params><param><value><double>-1e-400</double></value></param>"
		 "</params></methodCall>",
		 "\"-1e-400\", too small for a double; allowed: 0, or a magnitude from 2.2250738585072014e-308"},
		{"<methodCall><methodName>a</methodName><params><param><value><string>a\xf0\x9f\x98\x80</string></value>"
		 "</param></params></methodCall>",
		 "a <string> holds a character beyond U+FFFF"},
		{"<methodCall><methodName>a</methodName><params><param><value>\xf0\x90\x80\x80</value></param></params>"
		 "</methodCall>",
		 "a <value> holds a character beyond U+FFFF"},
		{"<methodCall><methodName>a</methodName><params><param><value><struct><member><name>\xf0\x9f\x98\x80</name>"
		 "<value>1</value></member></struct></value></param></params></methodCall>",
		 "a member's <name> holds a character beyond U+FFFF"},
	};
	char *method, *err;
	xmlrpc_value *params;
	xmlrpc_env env;
	int n;

	(void)state;
	xmlrpc_env_init(&env);
	const char *none = "<methodCall><methodName>simq.stats</methodName></methodCall>";

	assert_true(proto_parse_call(none, strlen(none), &method, &params, &err));
	assert_string_equal(method, "simq.stats");
	assert_int_equal(xmlrpc_array_size(&env, params), 0);
	free(method);
	xmlrpc_DECREF(params);
	const char *two = "<?xml version=\"1.0\"?><methodCall><methodName>simq.get</methodName><params>"
			  "<param><value><i4>7</i4></value></param><param><value>x &amp; y</value></param>"
			  "</params></methodCall>";

	assert_true(proto_parse_call(two, strlen(two), &method, &params, &err));
	assert_string_equal(method, "simq.get");
	assert_int_equal(xmlrpc_array_size(&env, params), 2);
	xmlrpc_value *first, *second;
	const char *text;

	xmlrpc_array_read_item(&env, params, 0, &first);
	xmlrpc_array_read_item(&env, params, 1, &second);
	xmlrpc_read_int(&env, first, &n);
	xmlrpc_read_string(&env, second, &text);
	assert_false(env.fault_occurred);
	assert_int_equal(n, 7);
	assert_string_equal(text, "x & y");
	free((void *)text);
	xmlrpc_DECREF(first);
	xmlrpc_DECREF(second);
	xmlrpc_DECREF(params);
	free(method);
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		method = NULL;
		params = NULL;
		assert_false(proto_parse_call(refusals[i][0], strlen(refusals[i][0]), &method, &params, &err));
		assert_null(method);
		assert_null(params);
		if (strstr(err, refusals[i][1]) == NULL)
			fail_msg("%s: expected \"%s\", got \"%s\"", refusals[i][0], refusals[i][1], err);
		free(err);
	}
	xmlrpc_env_clean(&env);
}

/* Arrays and structs nest up to PROTO_XMLIN_MAX_DEPTH deep, no deeper. */
static void test_nesting_is_bounded(void **state)
{
	(void)state;
	for (int depth = PROTO_XMLIN_MAX_DEPTH; depth <= PROTO_XMLIN_MAX_DEPTH + 1; depth++) {
		struct buf b = BUF_INIT;

		buf_adds(&b, HEAD);
		for (int i = 0; i < depth; i++)
			buf_adds(&b, i % 2 ? "<value><struct><member><name>m</name>" : "<value><array><data>");
		buf_adds(&b, "<value>leaf</value>");
		for (int i = depth - 1; i >= 0; i--)
			buf_adds(&b, i % 2 ? "</member></struct></value>" : "</data></array></value>");
		buf_adds(&b, TAIL);
		if (depth == PROTO_XMLIN_MAX_DEPTH)
			xmlrpc_DECREF(read_ok(buf_str(&b)));
		else
			refused(buf_str(&b), "nest deeper than 64");
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_what_xmlrpc_c_writes),
	    cmocka_unit_test(test_a_value_without_a_type_is_a_string),
	    cmocka_unit_test(test_doubles_are_exact),
	    cmocka_unit_test(test_a_fault_gives_its_code_and_text),
	    cmocka_unit_test(test_refuses_what_is_not_xml_rpc),
	    cmocka_unit_test(test_nesting_is_bounded),
	    cmocka_unit_test(test_reads_a_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
