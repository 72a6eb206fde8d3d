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
