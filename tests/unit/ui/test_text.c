#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/text.h"

/* 100.0 % only when every one succeeded, 0.0 % only when none did; to the nearest tenth between. */
static void test_percent(void **state)
{
	(void)state;
	char out[32];

	assert_string_equal(text_percent(out, sizeof out, 1), "100.0 %");
	assert_string_equal(text_percent(out, sizeof out, 3032.0 / 3033), "99.9 %");
	assert_string_equal(text_percent(out, sizeof out, 0.9995), "99.9 %");
	assert_string_equal(text_percent(out, sizeof out, 0.984), "98.4 %");
	assert_string_equal(text_percent(out, sizeof out, 0.98449), "98.4 %");
	assert_string_equal(text_percent(out, sizeof out, 0.7), "70.0 %");
	assert_string_equal(text_percent(out, sizeof out, 1.0 / 3033), "0.1 %");
	assert_string_equal(text_percent(out, sizeof out, 0), "0.0 %");
	assert_string_equal(text_percent(out, sizeof out, -1), "-");
}

/* Thousands grouped with commas, the sign kept. */
static void test_grouped(void **state)
{
	(void)state;
	char out[32];

	assert_string_equal(text_grouped(out, sizeof out, 0), "0");
	assert_string_equal(text_grouped(out, sizeof out, 999), "999");
	assert_string_equal(text_grouped(out, sizeof out, 1000), "1,000");
	assert_string_equal(text_grouped(out, sizeof out, 1234567), "1,234,567");
	assert_string_equal(text_grouped(out, sizeof out, -1842), "-1,842");
}

/* vars on one line: a short vector as its numbers, a longer one or a matrix as its size. */
static void test_vars(void **state)
{
	(void)state;
	xmlrpc_env env;
	char out[256];

	xmlrpc_env_init(&env);
	xmlrpc_value *v = xmlrpc_build_value(&env, "{s:(idi),s:(iiiii),s:((ii)(ii)(ii)),s:s,s:d}", "a", 1, 2.5, 3, "b",
					     1, 2, 3, 4, 5, "m", 1, 2, 3, 4, 5, 6, "s", "[41004 numbers]", "x", 0.5);

	assert_false(env.fault_occurred);
	text_vars(v, out, sizeof out);
	assert_string_equal(out, "a=[1 2.5 3] b=[5 numbers] m=[3x2 matrix] s=[41004 numbers] x=0.5");
	xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_grouped),
		cmocka_unit_test(test_vars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
