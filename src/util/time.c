#include "autoconf.h"

#include "util/time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * TIME_NS_PER_SEC + ts.tv_nsec;
}

double time_mono(void)
{
	return (double)time_mono_ns() / 1e9;
}

int64_t time_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * TIME_NS_PER_SEC + ts.tv_nsec;
}

/* n as digits decimal digits, zeros first. */
static char *put_digits(char *p, int n, int digits)
{
	for (int i = digits - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
	return p + digits;
}

/*
 * "2026-11-30T17:29:11.896Z" for sec seconds after 1970 (up to year 9999), without gmtime_r and
 * strftime: a console's view writes hundreds of them.  The date from the day number as in Howard
 * Hinnant's days_from_civil's inverse (eras of 400 years).
 */
static void utc_text(char out[TIME_ISO8601_MAX], int64_t sec, int ms)
{
	int64_t days = sec / 86400, of_day = sec % 86400, z = days + 719468, era = z / 146097;
	int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int day = (int)(doy - (153 * mp + 2) / 5 + 1), month = (int)(mp < 10 ? mp + 3 : mp - 9);
	int year = (int)(yoe + era * 400 + (month <= 2));
	char *p = out;

	p = put_digits(p, year, 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	p = put_digits(p, day, 2);
	*p++ = 'T';
	p = put_digits(p, (int)(of_day / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (int)(of_day / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (int)(of_day % 60), 2);
	*p++ = '.';
	p = put_digits(p, ms, 3);
	memcpy(p, "Z", 2);
}

char *time_iso8601(char out[TIME_ISO8601_MAX], int64_t wall_ns, bool utc)
{
	int64_t sec = wall_ns / TIME_NS_PER_SEC;
	int64_t rem = wall_ns % TIME_NS_PER_SEC;
	time_t t;
	struct tm tm;
	size_t n;

	if (rem < 0) {
		rem += TIME_NS_PER_SEC;
		sec--;
	}
	int64_t ms = rem / 1000000;
	t = (time_t)sec;
	if (utc && sec >= 0 && sec < 253402300800LL) {
		utc_text(out, sec, (int)ms);
		return out;
	}
	if (utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	n = strftime(out, TIME_ISO8601_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(out + n, TIME_ISO8601_MAX - n, ".%03d", (int)ms);
	if (utc) {
		snprintf(out + n, TIME_ISO8601_MAX - n, "Z");
	} else {
		long off = tm.tm_gmtoff;
		char sign = off < 0 ? '-' : '+';

		off = labs(off);
		snprintf(out + n, TIME_ISO8601_MAX - n, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
	}
	return out;
}

bool time_iso8601_parse_ms(const char *iso, int64_t *wall_ms)
{
	struct tm tm = {0};
	int ms = 0, end = 0, msend = 0;

	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n.%3d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &end, &ms, &msend) < 6)
		return false;
	if (msend > 0)
		end = msend;
	if (strcmp(iso + end, "Z") != 0)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*wall_ms = (int64_t)timegm(&tm) * 1000 + ms;
	return true;
}

static const struct {
	const char *suffix;
	double scale;
} duration_units[] = {
    {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400},
};

bool time_parse_duration(const char *text, double *seconds, const char **why)
{
	size_t digits = 0, dots = 0, n = 0;
	char number[64];

	if (*text == '\0') {
		*why = "empty; expected a duration such as 5, 0.2, 250ms, 5s, 2m, 1h or 1d";
		return false;
	}
	if (*text == '-') {
		*why = "a duration cannot be negative";
		return false;
	}
	/* Only plain decimals: strtod alone would also take hex, exponents and "inf". */
	while (isdigit((unsigned char)text[n]) || text[n] == '.') {
		digits += text[n] != '.';
		dots += text[n] == '.';
		n++;
	}
	if (digits == 0 || dots > 1 || n >= sizeof number) {
		*why = "not a duration; expected a decimal number of seconds, optionally followed by ms, s, m, h or d";
		return false;
	}
	memcpy(number, text, n);
	number[n] = '\0';
	double v = strtod(number, NULL);

	if (text[n] == '\0') {
		*seconds = v;
		return true;
	}
	for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
		if (strcmp(text + n, duration_units[i].suffix) == 0) {
			*seconds = v * duration_units[i].scale;
			return true;
		}
	}
	*why =
	    "not a duration; expected a decimal number of seconds, optionally followed by one unit: ms, s, m, h or d";
	return false;
}

char *time_format_duration(char *out, size_t size, double seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 1) {
		snprintf(out, size, "%dms", (int)lround(seconds * 1000));
	} else if (seconds < 60) {
		snprintf(out, size, "%ds", (int)lround(seconds));
	} else {
		long s = lround(seconds);

		if (s < 3600)
			snprintf(out, size, "%ldm%02lds", s / 60, s % 60);
		else if (s < 86400)
			snprintf(out, size, "%ldh%02ldm", s / 3600, s / 60 % 60);
		else
			snprintf(out, size, "%ldd%02ldh", s / 86400, s / 3600 % 24);
	}
	return out;
}
