#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/utf8.h"

static void test_accepts_ascii_and_multibyte(void **state)
{
	const char *s = "Vin=400 \xce\xbc"
	                "F \xe2\x82\xac \xf0\x9f\x94\x8b";
	size_t bad = 99;

	assert_true(utf8_validate(s, strlen(s), &bad));
	assert_int_equal(bad, 99);
	assert_int_equal(utf8_valid_prefix("\xce\xbc", 2), 2);
	assert_int_equal(utf8_valid_prefix("\xf0\x9f\x94\x8b", 4), 4);
}

static void test_rejects_malformed_sequences(void **state)
{
	static const struct {
		const char *bytes;
		size_t bad;
	} cases[] = {
	    {"ab\xff", 2},           /* invalid byte */
	    {"\xc0\xaf", 0},         /* overlong '/' */
	    {"x\xe0\x80\xaf", 1},    /* overlong, 3 bytes */
	    {"\xed\xa0\x80", 0},     /* surrogate */
	    {"ok\xe2\x82", 2},       /* truncated */
	    {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
	    {"a\x80", 1},            /* lone continuation */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t bad = 99;

		assert_false(utf8_validate(cases[i].bytes, strlen(cases[i].bytes), &bad));
		assert_int_equal(bad, cases[i].bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_ascii_and_multibyte),
	    cmocka_unit_test(test_rejects_malformed_sequences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
