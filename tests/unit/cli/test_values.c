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
	char *err = NULL, *text;
	xmlrpc_value *v = cli_parse_value(input, &err);

	if (v == NULL)
		fail_msg("%s: %s", input, err);
	text = as_json(v);
	if (strcmp(text, json) != 0)
		fail_msg("%s parsed as %s, expected %s", input, text, json);
	free(text);
	xmlrpc_DECREF(v);
}

static void test_values(void **state)
{
	check_value("400", "400");
	check_value("0.42", "0.42");
	check_value("1.2e-3", "0.0012");
	check_value("-5", "-5");
	check_value("[1,2,3]", "[1,2,3]");
	check_value("[1 2 3]", "[1,2,3]");
	check_value("[[1,2],[3,4]]", "[[1,2],[3,4]]");
	check_value("[1 2; 3 4]", "[[1,2],[3,4]]");
	check_value("'hello world'", "\"hello world\"");
	check_value("ideal", "\"ideal\"");
	check_value("0x10", "\"0x10\"");
	check_value("nan", "\"nan\"");
	check_value("[1, a]", "\"[1, a]\"");

	char *err = NULL;

	assert_null(cli_parse_value("K 2; 3 ,[\xcd\xdf\xcb],x", &err));
	assert_string_equal(err, "the value is not valid UTF-8");
	free(err);
}

static char *axis_values(const char *spec, size_t *n, char **err)
{
	xmlrpc_env env;
	struct sweep_axis *a = calloc(1, sizeof *a);
	char *out = NULL;

	xmlrpc_env_init(&env);
	*err = NULL;
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
	char *err, *s;

	s = axis_values("D=0.1:0.5:0.1", &n, &err);
	assert_string_equal(s, "D=0.1|0.2|0.3|0.4|0.5");
	free(s);
	s = axis_values("N=10:0:-5", &n, &err);
	assert_string_equal(s, "N=10|5|0");
	free(s);
	s = axis_values("L=1e-3,2e-3", &n, &err);
	assert_string_equal(s, "L=0.001|0.002");
	free(s);
	s = axis_values("K=[1,2],[3,4]", &n, &err);
	assert_string_equal(s, "K=[1,2]|[3,4]");
	free(s);
	s = axis_values("V=400", &n, &err);
	assert_string_equal(s, "V=400");
	free(s);
	static const char *const bad[] = {"D", "=1,2", "D=0:1:0", "D=1:0:1", "D=0:1", "D=a:b:c", "D=0:1e9:1"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = axis_values(bad[i], &n, &err);
		if (s)
			fail_msg("%s was accepted as %s", bad[i], s);
		assert_non_null(err);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_sweep_axes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
