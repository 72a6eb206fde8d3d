#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "proto/doubles.h"
#include "proto/xmlcall.h"
#include "proto/xmlin.h"
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

/* ---- calls written and read as xmlrpc-c writes and reads them, for values of every kind ---- */

static uint64_t seed = 88172645463325252u;

static uint64_t next_random(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* Text of up to 12 pieces: markup characters, line breaks, blanks, and characters of 2 and 3 bytes. */
static xmlrpc_value *random_string(xmlrpc_env *env)
{
	static const char *const pieces[] = {"a", "Z9", "<", ">", "&", "&amp;", "\r", "\n", "\r\n", "\t", " ", "\"'",
					     "\xc3\xa9", "\xe2\x82\xac", "]]>", "<double>1</double>", "\x7f"};
	struct buf b = BUF_INIT;
	xmlrpc_value *v;

	for (int n = (int)(next_random() % 13); n > 0; n--)
		buf_adds(&b, pieces[next_random() % (sizeof pieces / sizeof pieces[0])]);
	v = xmlrpc_string_new_lp(env, b.len, buf_str(&b));
	buf_free(&b);
	return v;
}

/* Subnormal numbers aside: a call carries none (xmlrpc-c and proto_parse_call refuse them alike). */
static double random_double(void)
{
	static const double chosen[] = {0.0, -0.0, 0.1, 0.30000000000000004, 2.2250738585072014e-308,
					1.7976931348623157e308, -1e-300,
					1e21, 123456789012345680.0};
	uint64_t bits = next_random();
	double d;

	if (bits % 3 == 0)
		return chosen[bits / 3 % (sizeof chosen / sizeof chosen[0])];
	memcpy(&d, &bits, sizeof d);
	return isnormal(d) ? d : (double)(int64_t)bits / 7.0;
}

/* A value of any kind XML-RPC carries, arrays and structs depth levels deep at most. */
static xmlrpc_value *random_value(xmlrpc_env *env, int depth)
{
	uint64_t r = next_random();
	xmlrpc_value *v, *item, *key;

	switch (r % (depth > 0 ? 11 : 9)) {
	case 0:
		return xmlrpc_int_new(env, (int)(int32_t)(uint32_t)(r >> 8));
	case 1:
		return xmlrpc_i8_new(env, (int64_t)next_random());
	case 2:
		return xmlrpc_bool_new(env, (r >> 8) & 1);
	case 3:
	case 4:
		return xmlrpc_double_new(env, random_double());
	case 5:
	case 6:
		return random_string(env);
	case 7:
		return (r >> 8) & 1 ? xmlrpc_nil_new(env) : xmlrpc_datetime_new_str(env, "20261201T03:04:05");
	case 8:
		return xmlrpc_base64_new(env, (size_t)(r >> 8) % 100, (const unsigned char *)"0123456789abcdef0123456789abcdef"
									 "0123456789abcdef0123456789abcdef"
									 "0123456789abcdef0123456789abcdef0123");
	case 9:
		v = xmlrpc_array_new(env);
		for (int n = (int)(r >> 8) % 5; n > 0; n--) {
			item = random_value(env, depth - 1);
			xmlrpc_array_append_item(env, v, item);
			xmlrpc_DECREF(item);
		}
		return v;
	default:
		v = xmlrpc_struct_new(env);
		for (int n = (int)(r >> 8) % 5; n > 0; n--) {
			const char *name;
			size_t len;

			key = random_string(env);
			item = random_value(env, depth - 1);
			xmlrpc_read_string_lp(env, key, &len, &name);
			xmlrpc_struct_set_value_n(env, v, name, len, item);
			free((void *)name);
			xmlrpc_DECREF(key);
			xmlrpc_DECREF(item);
		}
		return v;
	}
}

/* The parameters of a call: up to 4 values. */
static xmlrpc_value *random_params(xmlrpc_env *env)
{
	xmlrpc_value *params = xmlrpc_array_new(env);

	for (int n = (int)(next_random() % 5); n > 0; n--) {
		xmlrpc_value *v = random_value(env, 4);

		xmlrpc_array_append_item(env, params, v);
		xmlrpc_DECREF(v);
	}
	assert_false(env->fault_occurred);
	return params;
}

/* What proto_serialize_call wrote before it wrote calls itself: xmlrpc-c's call, each double made exact. */
static char *xmlrpc_c_call(xmlrpc_env *env, const char *method, xmlrpc_value *params)
{
	xmlrpc_mem_block *mem = xmlrpc_mem_block_new(env, 0);
	struct proto_doubles d;
	struct buf out = BUF_INIT;

	xmlrpc_serialize_call2(env, mem, method, params, xmlrpc_dialect_i8);
	assert_false(env->fault_occurred);
	proto_doubles_of(params, &d);
	proto_write_doubles(xmlrpc_mem_block_contents(mem), xmlrpc_mem_block_size(mem), &d, &out);
	proto_doubles_free(&d);
	xmlrpc_mem_block_free(mem);
	return buf_detach(&out);
}

static void test_call_written_as_xmlrpc_c_writes_it(void **state)
{
	xmlrpc_env env;

	(void)state;
	xmlrpc_env_init(&env);
	for (int i = 0; i < 3000; i++) {
		xmlrpc_value *params = random_params(&env);
		struct buf ours = BUF_INIT;
		char *theirs = xmlrpc_c_call(&env, i % 2 ? "simq.submit_many" : "a<b>&c", params);

		assert_true(proto_serialize_call(&env, &ours, i % 2 ? "simq.submit_many" : "a<b>&c", params));
		assert_string_equal(buf_str(&ours), theirs);
		free(theirs);
		buf_free(&ours);
		xmlrpc_DECREF(params);
	}
	xmlrpc_env_clean(&env);
}

/* proto_parse_call reads each call as xmlrpc-c reads it after proto_exact_doubles: the same method, and
 * parameters that are written the same. */
static void test_call_read_as_xmlrpc_c_reads_it(void **state)
{
	xmlrpc_env env;

	(void)state;
	xmlrpc_env_init(&env);
	for (int i = 0; i < 3000; i++) {
		xmlrpc_value *params = random_params(&env), *ours, *theirs;
		struct buf call = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
		char *method = NULL, *err = NULL;
		const char *their_method = NULL;

		assert_true(proto_serialize_call(&env, &call, "simq.submit", params));
		if (!proto_parse_call(buf_str(&call), call.len, &method, &ours, &err))
			fail_msg("%s\n%s", err, buf_str(&call));
		proto_exact_doubles(&call);
		xmlrpc_parse_call(&env, buf_str(&call), call.len, &their_method, &theirs);
		if (env.fault_occurred)
			fail_msg("xmlrpc-c: %s\n%s", env.fault_string, buf_str(&call));
		assert_string_equal(method, their_method);
		assert_true(proto_serialize_call(&env, &a, method, ours));
		assert_true(proto_serialize_call(&env, &b, their_method, theirs));
		assert_string_equal(buf_str(&a), buf_str(&b));
		free(method);
		free((void *)their_method);
		xmlrpc_DECREF(ours);
		xmlrpc_DECREF(theirs);
		xmlrpc_DECREF(params);
		buf_free(&call);
		buf_free(&a);
		buf_free(&b);
	}
	xmlrpc_env_clean(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrites_plain_decimals),
		cmocka_unit_test(test_leaves_the_rest),
		cmocka_unit_test(test_xmlrpc_c_reads_them_exactly),
		cmocka_unit_test(test_serialize_call_writes_them_exactly),
		cmocka_unit_test(test_call_written_as_xmlrpc_c_writes_it),
		cmocka_unit_test(test_call_read_as_xmlrpc_c_reads_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
