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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_grouped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
