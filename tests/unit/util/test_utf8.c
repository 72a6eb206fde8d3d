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

/* Names and tags refuse these (issue 14): C0, DEL, C1 such as U+009B (CSI), and bidi controls. */
static void test_finds_controls_and_bidi_formatting(void **state)
{
	static const struct {
		const char *text;
		enum utf8_hazard hazard;
		size_t at;
		unsigned int cp;
	} cases[] = {
	    {"ok \xce\xbc \xe2\x82\xac", UTF8_SAFE, 0, 0},
	    {"a\tb", UTF8_CONTROL, 1, 0x09},
	    {"del\x7f", UTF8_CONTROL, 3, 0x7f},
	    {"c1 \xc2\x9b" "31m", UTF8_CONTROL, 3, 0x9b},
	    {"\xc2\x80", UTF8_CONTROL, 0, 0x80},
	    {"\xc2\xa0" " is a space", UTF8_SAFE, 0, 0},
	    {"line\xe2\x80\xa8sep", UTF8_CONTROL, 4, 0x2028},
	    {"abc\xe2\x80\xae" "dcba", UTF8_BIDI, 3, 0x202e},
	    {"x\xe2\x81\xa6y", UTF8_BIDI, 1, 0x2066},
	    {"\xe2\x80\x8f", UTF8_BIDI, 0, 0x200f},
	    {"arabic \xd8\x9c", UTF8_BIDI, 7, 0x061c},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t at = 0;
		unsigned int cp = 0;
		enum utf8_hazard h = utf8_find_hazard(cases[i].text, strlen(cases[i].text), &at, &cp);

		if (h != cases[i].hazard || at != cases[i].at || cp != cases[i].cp)
			fail_msg("case %zu: hazard %d at %zu (U+%04X), expected %d at %zu (U+%04X)", i, h, at, cp,
				 cases[i].hazard, cases[i].at, cases[i].cp);
	}
	assert_int_equal(utf8_code_point("\xf0\x9f\x94\x8b", 4), 0x1f50b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_ascii_and_multibyte),
	    cmocka_unit_test(test_rejects_malformed_sequences),
	    cmocka_unit_test(test_finds_controls_and_bidi_formatting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
