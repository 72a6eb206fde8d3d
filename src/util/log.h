/*
 * log — leveled diagnostic messages for simq's own processes.
 *
 * One process-wide sink: stderr by default, or a file set with log_set_file().
 * Lines are "2026-11-28T05:17:14.123Z LEVEL message", the message printable
 * whatever it held (control characters and bytes that are not UTF-8 shown as
 * \xNN, as buf_add_printable() shows them).  This is the program's
 * diagnostic log, not simulation.log (that is the engine's event sink).
 * Thread-safe: each line is written with one locked stdio call.
 */
#ifndef SIMQ_UTIL_LOG_H
#define SIMQ_UTIL_LOG_H

#include <stdbool.h>
#include <stdio.h>

#define LOG_LEVELS(X)                                                                                                  \
	X(ERROR, "error")                                                                                              \
	X(WARN, "warning")                                                                                             \
	X(INFO, "info")                                                                                                \
	X(DEBUG, "debug")

enum log_level {
#define X(id, name) LOG_##id,
	LOG_LEVELS(X)
#undef X
	    LOG_LEVEL_COUNT
};

const char *log_level_name(enum log_level level);
/* Accepts the names above in any case; false if there is no such level. */
bool log_level_parse(const char *name, enum log_level *level);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* NULL restores stderr.  The caller keeps ownership of fp. */
void log_set_file(FILE *fp);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
