#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static char *captured(FILE *fp)
{
	long n;
	char *s;

	fflush(fp);
	n = ftell(fp);
	s = calloc(1, (size_t)n + 1);
	rewind(fp);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	return s;
}

static void test_levels_filter_and_lines_are_stamped(void **state)
{
	FILE *fp = tmpfile();
	char *text;

	log_set_file(fp);
	log_set_level(LOG_WARN);
	log_info("hidden %d", 1);
	log_warn("backend %s DOWN", "ws2");
	log_error("disk full");
	log_set_file(NULL);
	text = captured(fp);
	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, " warning backend ws2 DOWN\n"));
	assert_non_null(strstr(text, " error disk full\n"));
	/* Each line starts with an ISO-8601 UTC stamp. */
	assert_int_equal(text[4], '-');
	assert_int_equal(text[10], 'T');
	assert_int_equal(text[23], 'Z');
	free(text);
	fclose(fp);
}

/* Whatever a caller passes (a client's header, PLECS's error), the line written is printable UTF-8. */
static void test_lines_are_printable(void **state)
{
	FILE *fp = tmpfile();
	char *text;

	log_set_file(fp);
	log_set_level(LOG_INFO);
	log_warn("Host %s refused", "\x1b]0;PWNED\x07\x1b[2J\r\nFAKE: done \xff\xfe\xc0\xaf caf\xc3\xa9 \xe2\x80\xae");
	log_set_file(NULL);
	text = captured(fp);
	assert_non_null(strstr(text, " warning Host \\x1b]0;PWNED\\x07\\x1b[2J\\x0d\\x0aFAKE: done \\xff\\xfe\\xc0\\xaf "
	                             "caf\xc3\xa9 \\u202e refused\n"));
	size_t len = strlen(text);

	assert_int_equal(text[len - 1], '\n');
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] == 0x7f)
			fail_msg("byte 0x%02x at %zu written raw: %s", (unsigned char)text[i], i, text);
	free(text);
	fclose(fp);
}

static void test_level_names_round_trip(void **state)
{
	enum log_level l;

	for (int i = 0; i < LOG_LEVEL_COUNT; i++) {
		assert_true(log_level_parse(log_level_name((enum log_level)i), &l));
		assert_int_equal(l, i);
	}
	assert_true(log_level_parse("DEBUG", &l));
	assert_int_equal(l, LOG_DEBUG);
	assert_false(log_level_parse("loud", &l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_levels_filter_and_lines_are_stamped),
	    cmocka_unit_test(test_level_names_round_trip),
	    cmocka_unit_test(test_lines_are_printable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
