#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static void test_empty_buffer_reads_as_empty_string(void **state)
{
	struct buf b = BUF_INIT;

	assert_string_equal(buf_str(&b), "");
	char *s = buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
	assert_null(b.data);
}

static void test_appends_grow_and_stay_terminated(void **state)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
	assert_string_equal(b.data + b.len - 4, "999,");
	buf_truncate(&b, 2);
	assert_string_equal(buf_str(&b), "0,");
	buf_addc(&b, 'x');
	buf_adds(&b, "yz");
	buf_add(&b, "\0w", 2);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "0,xyz\0w", 8);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_printable_escapes_control_and_bad_utf8(void **state)
{
	struct buf b = BUF_INIT;
	const char in[] = "a\tb\xff"
	                  "c\xc3\xa9\x1b[0m";

	buf_add_printable(&b, in, sizeof in - 1);
	assert_string_equal(buf_str(&b), "a\\x09b\\xffc\xc3\xa9\\x1b[0m");
	buf_free(&b);
}

/* A value in a message: C1 and bidi controls escaped, and cut to 80 characters (issue 14). */
static void test_shown_escapes_c1_and_bidi_and_cuts_long_values(void **state)
{
	struct buf b = BUF_INIT;
	char *big = malloc(10 * 1024 * 1024 + 1), *shown;

	const char *in = "a\xc2\x9b" "b\xe2\x80\xae" "c\xce\xbc";

	buf_add_printable(&b, in, strlen(in));
	assert_string_equal(buf_str(&b), "a\\u009bb\\u202ec\xce\xbc");
	buf_free(&b);
	memset(big, 'x', 10 * 1024 * 1024);
	big[10 * 1024 * 1024] = '\0';
	shown = buf_shown(big);
	assert_int_equal(strlen(shown), 80 + strlen("... (10485760 bytes)"));
	assert_string_equal(shown + 80, "... (10485760 bytes)");
	free(shown);
	/* Exactly 80 characters, multibyte ones included, are shown whole. */
	memset(big, 0, 200);
	for (int i = 0; i < 80; i++)
		memcpy(big + 2 * i, "\xce\xbc", 2);
	shown = buf_shown(big);
	assert_string_equal(shown, big);
	free(shown);
	free(big);
}

static void test_detach_hands_over_ownership(void **state)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "hello");
	char *s = buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
}

/* buf_add_int writes what "%lld" writes, the ends of 64 bits included. */
static void test_int_as_printf_writes_it(void **state)
{
	static const int64_t values[] = {0, 1, -1, 9, 10, -10, 2147483647, -2147483648LL, 9007199254740993LL,
					 INT64_MAX, INT64_MIN};
	char want[32];

	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		struct buf b = BUF_INIT;

		buf_adds(&b, "x");
		buf_add_int(&b, values[i]);
		snprintf(want, sizeof want, "x%lld", (long long)values[i]);
		assert_string_equal(buf_str(&b), want);
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_buffer_reads_as_empty_string),
	    cmocka_unit_test(test_appends_grow_and_stay_terminated),
	    cmocka_unit_test(test_printable_escapes_control_and_bad_utf8),
	    cmocka_unit_test(test_shown_escapes_c1_and_bidi_and_cuts_long_values),
	    cmocka_unit_test(test_detach_hands_over_ownership),
	    cmocka_unit_test(test_int_as_printf_writes_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
