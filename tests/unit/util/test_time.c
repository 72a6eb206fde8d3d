#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/time.h"

static void test_monotonic_clock_does_not_go_back(void **state)
{
	int64_t a = time_mono_ns(), b = time_mono_ns();

	assert_true(b >= a);
	assert_true(time_wall_ns() > INT64_C(1600000000) * TIME_NS_PER_SEC);
}

static void test_iso8601_utc_and_local(void **state)
{
	char out[TIME_ISO8601_MAX];
	int64_t t = INT64_C(1795842434) * TIME_NS_PER_SEC + 123456789; /* 2026-11-28T05:07:14.123Z */

	assert_string_equal(time_iso8601(out, t, true), "2026-11-28T05:07:14.123Z");
	setenv("TZ", "CET-1", 1);
	tzset();
	assert_string_equal(time_iso8601(out, t, false), "2026-11-28T06:07:14.123+01:00");
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(time_iso8601(out, t, false), "2026-11-28T05:07:14.123+00:00");
	assert_string_equal(time_iso8601(out, -1, true), "1969-12-31T23:59:59.999Z");
}

/* The UTC stamps are written without gmtime_r: a day every 1.04 days from 1970 to 2261 (nanoseconds in 64 bits
 * end in 2262), and leap days, as gmtime_r has them. */
static void test_iso8601_utc_matches_gmtime(void **state)
{
	(void)state;
	char out[TIME_ISO8601_MAX], want[TIME_ISO8601_MAX];

	for (int64_t sec = 0; sec < INT64_C(9214646400); sec += 86400 + 3607) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.042Z", &tm);
		assert_string_equal(time_iso8601(out, sec * TIME_NS_PER_SEC + 42999999, true), want);
	}
	assert_string_equal(time_iso8601(out, INT64_C(951782400) * TIME_NS_PER_SEC, true), "2000-02-29T00:00:00.000Z");
	assert_string_equal(time_iso8601(out, INT64_C(4107542400) * TIME_NS_PER_SEC - 1, true),
			    "2100-02-28T23:59:59.999Z");
}

static void test_durations_with_and_without_units(void **state)
{
	static const struct {
		const char *text;
		double seconds;
	} good[] = {
	    {"5", 5},       {"0.2", 0.2},   {"250ms", 0.25}, {"5s", 5},   {"2m", 120},
	    {"1.5h", 5400}, {"2d", 172800}, {"0", 0},        {".5", 0.5},
	};
	double s;
	const char *why;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_true(time_parse_duration(good[i].text, &s, &why));
		assert_true(s > good[i].seconds - 1e-9 && s < good[i].seconds + 1e-9);
	}
	static const char *const bad[] = {"", "-1", "5x", "0x10", "1e3", "inf", "nan", "5 s", "1.2.3", "s", "5sec"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_false(time_parse_duration(bad[i], &s, &why));
		assert_non_null(why);
	}
}

static void test_format_duration_for_people(void **state)
{
	char out[32];

	assert_string_equal(time_format_duration(out, sizeof out, 0.85), "850ms");
	assert_string_equal(time_format_duration(out, sizeof out, 42), "42s");
	assert_string_equal(time_format_duration(out, sizeof out, 485), "8m05s");
	assert_string_equal(time_format_duration(out, sizeof out, 13200), "3h40m");
	assert_string_equal(time_format_duration(out, sizeof out, 187200), "2d04h");
	assert_string_equal(time_format_duration(out, sizeof out, -3), "0ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_monotonic_clock_does_not_go_back),
	    cmocka_unit_test(test_iso8601_utc_and_local),
	    cmocka_unit_test(test_iso8601_utc_matches_gmtime),
	    cmocka_unit_test(test_durations_with_and_without_units),
	    cmocka_unit_test(test_format_duration_for_people),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
