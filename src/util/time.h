/*
 * time — clocks, ISO-8601 formatting and durations as operators write them.
 *
 * Monotonic time measures intervals (backoff, timeouts, run times); wall time
 * stamps what a person reads (logs, submitted/finished).  Always include this
 * header as "util/time.h".  Pure or read-only functions, safe on any thread.
 */
#ifndef SIMQ_UTIL_TIME_H
#define SIMQ_UTIL_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_NS_PER_SEC INT64_C(1000000000)
/* Room for "2026-11-28T05:17:14.123+01:00" and a NUL. */
#define TIME_ISO8601_MAX 40

int64_t time_mono_ns(void);
double time_mono(void);
/* Wall-clock time since the epoch, in nanoseconds. */
int64_t time_wall_ns(void);

/* Formats wall_ns as ISO-8601 with milliseconds: UTC with "Z" when utc is
 * true, else local time with its offset.  Returns out. */
char *time_iso8601(char out[TIME_ISO8601_MAX], int64_t wall_ns, bool utc);

/*
 * Parses an ISO-8601 time as the server writes them, "2026-11-28T03:00:05.123Z" (UTC; the
 * milliseconds may be left out), into milliseconds since the epoch; false for anything else.
 */
bool time_iso8601_parse_ms(const char *iso, int64_t *wall_ms);

/*
 * Parses a duration: a non-negative decimal number of seconds ("5", "0.2") or
 * a number with one unit ms, s, m, h or d ("250ms", "5s", "2m", "1.5h", "7d").  On
 * failure returns false and points *why at a reason meant for a person.
 */
bool time_parse_duration(const char *text, double *seconds, const char **why);

/* Formats a duration compactly for people: "850ms", "42s", "8m05s", "3h40m", "2d04h". */
char *time_format_duration(char *out, size_t size, double seconds);

#endif
