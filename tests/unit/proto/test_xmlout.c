#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
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
	proto_xml_member_json(&b, "vars", "not json");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_as_proto_from_json_makes_it),
	    cmocka_unit_test(test_text_that_xml_cannot_carry),
	    cmocka_unit_test(test_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
