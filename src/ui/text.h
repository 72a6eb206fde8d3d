/*
 * text — what the console's lines say, before they are drawn: numbers with
 * thousands separators, a task's vars on one line, ages, file names, and long
 * text wrapped under its value, times in the local zone.  Pure functions
 * (text_short_path reads HOME).
 */
#ifndef SIMQ_UI_TEXT_H
#define SIMQ_UI_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

/* "1,842"; returns out. */
const char *text_grouped(char *out, size_t size, int64_t n);
/*
 * A fraction (0..1) as a percentage to one decimal, "99.9 %": "100.0 %" only when it is 1 and
 * "0.0 %" only when it is 0, so 1 failure in 3,033 does not read as none; "-" when below 0 (none).
 */
const char *text_percent(char *out, size_t size, double fraction);
/* "Vin=400 D=0.42": a vars struct as one short line ("" when it is no struct). */
void text_vars(xmlrpc_value *vars, char *out, size_t size);
/* "2026-11-28T03:00:05.123Z" in milliseconds since the epoch; 0 when it is none. */
int64_t text_iso_ms(const char *iso);
/* The local time of day at ms (since the epoch), "04:00:05". */
const char *text_clock(char *out, size_t size, int64_t ms);
/* The local date and time of the ISO time iso, "2026-11-28 04:00:05" ("-" when it is none). */
const char *text_when(char *out, size_t size, const char *iso);
/* How long before now_ms the ISO time iso was, to the coarsest unit that says it: "3s", "14m", "2h05m" ("-": none). */
void text_age(char *out, size_t size, const char *iso, int64_t now_ms);
/*
 * Task ids as an operator reads them, in order with runs joined: "5-8, 12, 40, 41"; when that
 * would pass width characters, as many as fit and "… +K more".  Returns out.
 */
const char *text_ids(char *out, size_t size, const int64_t *ids, size_t n, int width);
/* A path as the status bar shows it: the home directory as ~, and when longer than width, "~/…/simq". */
const char *text_short_path(char *out, size_t size, const char *path, int width);
/* The last part of a path. */
const char *text_base_name(const char *path);
/*
 * Splits text into lines of at most w bytes, at a space where there is one and never inside a
 * UTF-8 character; lines after the first start with indent spaces.  Returns how many, up to max.
 */
int text_wrap(const char *text, int w, int indent, char out[][256], int max);

#endif
