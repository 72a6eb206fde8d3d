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

#include "proto/doubles.h"
#include "util/buf.h"

/* doc after proto_exact_doubles, as a heap string. */
static char *rewritten(const char *doc)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, doc);
	proto_exact_doubles(&b);
	return buf_detach(&b);
}

static void check(const char *doc, const char *want)
{
	char *got = rewritten(doc);

	assert_string_equal(got, want);
	free(got);
}

static void test_rewrites_plain_decimals(void **state)
{
	(void)state;
	check("<value><double>0.42</double></value>", "<value><double>0.42e0</double></value>");
	check("<double>-0.000001</double><double>12</double>", "<double>-0.000001e0</double><double>12e0</double>");
	check("<double> 0.5 </double>", "<double> 0.5e0 </double>");
}

static void test_leaves_the_rest(void **state)
{
	(void)state;
	/* Already exact, not a number, empty, an entity, or not values at all. */
	check("<double>4.2e-1</double>", "<double>4.2e-1</double>");
	check("<double>1E6</double>", "<double>1E6</double>");
	check("<double>abc</double>", "<double>abc</double>");
	check("<double></double>", "<double></double>");
	check("<double>-</double>", "<double>-</double>");
	check("<double>&#48;.5</double>", "<double>&#48;.5</double>");
	check("<!-- <double>0.1</double> --><double>0.1</double>", "<!-- <double>0.1</double> --><double>0.1e0</double>");
	check("<string><![CDATA[<double>0.1</double>]]></string>", "<string><![CDATA[<double>0.1</double>]]></string>");
	check("<?x <double>0.1</double> ?>", "<?x <double>0.1</double> ?>");
	check("<string>0.1</string><doubles>1</doubles>", "<string>0.1</string><doubles>1</doubles>");
	/* Cut short: left as it is for the parser to refuse. */
	check("<double>0.1", "<double>0.1");
}

/* What the rewrite is for: xmlrpc-c then reads each value exactly as strtod does. */
static void test_xmlrpc_c_reads_them_exactly(void **state)
{
	static const char *const texts[] = {"0.42", "0.000001", "0.0012", "0.30000000000000004", "123456.789",
					    "0.1", "-2.5", "1000000000000000000000000.5"};

	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char doc[256];
		char *fixed;
		xmlrpc_env env;
		xmlrpc_value *v;
		double d;

		snprintf(doc, sizeof doc, "<value><double>%s</double></value>", texts[i]);
		fixed = rewritten(doc);
		xmlrpc_env_init(&env);
		xmlrpc_parse_value_xml(&env, fixed, strlen(fixed), &v);
		assert_false(env.fault_occurred);
		xmlrpc_read_double(&env, v, &d);
		assert_memory_equal(&d, &(double){strtod(texts[i], NULL)}, sizeof d);
		xmlrpc_DECREF(v);
		xmlrpc_env_clean(&env);
		free(fixed);
	}
}

/* A call written by proto_serialize_call and read back by xmlrpc-c (after the rewrite) holds the same bits. */
static void test_serialize_call_writes_them_exactly(void **state)
{
	static const double values[] = {0.30000000000000004, 1e-300, 0.42, 1e-6, -2.5, 1.7976931348623157e308,
					 2.2250738585072014e-308, 123456.789, 0.1 + 0.2, 0};
	const size_t n = sizeof values / sizeof values[0];
	xmlrpc_env env;
	xmlrpc_value *params, *vars, *list, *got;
	struct buf out = BUF_INIT;
	const char *method;

	(void)state;
	xmlrpc_env_init(&env);
	vars = xmlrpc_struct_new(&env);
	list = xmlrpc_array_new(&env);
	for (size_t i = 0; i < n; i++) {
		char name[16];
		xmlrpc_value *d = xmlrpc_double_new(&env, values[i]);

		snprintf(name, sizeof name, "v%zu", i);
		xmlrpc_struct_set_value(&env, vars, name, d);
		xmlrpc_array_append_item(&env, list, d);
		xmlrpc_DECREF(d);
	}
	params = xmlrpc_build_value(&env, "(sVsV)", "a string with <double>0.5</double> in it", vars, "x", list);
	xmlrpc_DECREF(vars);
	xmlrpc_DECREF(list);
	assert_true(proto_serialize_call(&env, &out, "m", params));
	proto_exact_doubles(&out);
	xmlrpc_parse_call(&env, buf_str(&out), out.len, &method, &got);
	assert_false(env.fault_occurred);
	assert_string_equal(method, "m");
	free((void *)method);
	for (size_t i = 0; i < n; i++) {
		char name[16];
		double a, b;
		xmlrpc_value *s, *l, *item;

		xmlrpc_array_read_item(&env, got, 1, &s);
		xmlrpc_array_read_item(&env, got, 3, &l);
		snprintf(name, sizeof name, "v%zu", i);
		xmlrpc_struct_find_value(&env, s, name, &item);
		xmlrpc_read_double(&env, item, &a);
		xmlrpc_DECREF(item);
		xmlrpc_array_read_item(&env, l, (int)i, &item);
		xmlrpc_read_double(&env, item, &b);
		xmlrpc_DECREF(item);
		xmlrpc_DECREF(s);
		xmlrpc_DECREF(l);
		assert_false(env.fault_occurred);
		assert_memory_equal(&a, &values[i], sizeof a);
		assert_memory_equal(&b, &values[i], sizeof b);
	}
	xmlrpc_array_read_item(&env, got, 0, &vars);
	xmlrpc_read_string(&env, vars, &method);
	assert_string_equal(method, "a string with <double>0.5</double> in it");
	free((void *)method);
	xmlrpc_DECREF(vars);
	xmlrpc_DECREF(got);
	xmlrpc_DECREF(params);
	buf_free(&out);
	xmlrpc_env_clean(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrites_plain_decimals),
		cmocka_unit_test(test_leaves_the_rest),
		cmocka_unit_test(test_xmlrpc_c_reads_them_exactly),
		cmocka_unit_test(test_serialize_call_writes_them_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
