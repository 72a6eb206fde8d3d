/*
 * text — what the console's lines say, before they are drawn: numbers with
 * thousands separators, a task's vars on one line, ages, file names, and long
 * text wrapped under its value.  Pure functions (text_age reads the clock).
 */
#ifndef SIMQ_UI_TEXT_H
#define SIMQ_UI_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

/* "1,842"; returns out. */
const char *text_grouped(char *out, size_t size, int64_t n);
/* "Vin=400 D=0.42": a vars struct as one short line ("" when it is no struct). */
void text_vars(xmlrpc_value *vars, char *out, size_t size);
/* The local time of day of the ISO time iso ("2026-11-28T03:00:05.123Z"), "04:00:05"; of now when iso is NULL. */
const char *text_clock(char *out, size_t size, const char *iso);
/* How long ago the ISO time iso was, "14m" ("-" when it is none). */
void text_age(char *out, size_t size, const char *iso);
/*
 * Task ids as an operator reads them, in order with runs joined: "5-8, 12, 40, 41"; when that
 * would pass width characters, as many as fit and "… +K more".  Returns out.
 */
const char *text_ids(char *out, size_t size, const int64_t *ids, size_t n, int width);
/* The last part of a path. */
const char *text_base_name(const char *path);
/*
 * Splits text into lines of at most w bytes, at a space where there is one and never inside a
 * UTF-8 character; lines after the first start with indent spaces.  Returns how many, up to max.
 */
int text_wrap(const char *text, int w, int indent, char out[][256], int max);

#endif
