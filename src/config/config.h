/*
 * config — simq.ini loaded, validated and typed against the option table.
 *
 * config_load() always returns a usable config: every key holds its default
 * unless the file set a valid value.  Problems are collected, all of them, as
 * messages that name FILE:LINE, the section, the key, the bad value and what
 * is allowed; callers decide whether they are fatal (`simq config --check`
 * exits 78, the server refuses to start).  Load once at start-up on the main
 * thread: iniparser reports errors through a process-wide callback.
 */
#ifndef SIMQ_CONFIG_CONFIG_H
#define SIMQ_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/options.h"

/* Files larger than this are refused: simq.ini is a page or two, not megabytes. */
#define CONFIG_MAX_FILE_SIZE (1024 * 1024)

struct config;
struct config_section;

/* A config holding only defaults. */
struct config *config_new(void);
/*
 * Loads path over the defaults.  When must_exist is false a missing file is
 * not an error (the default path need not exist); a given -c FILE must.
 */
struct config *config_load(const char *path, bool must_exist);
void config_free(struct config **cfg);

size_t config_error_count(const struct config *cfg);
/* The i-th message, "FILE:LINE: [section] key = value: reason; allowed: ...". */
const char *config_error(const struct config *cfg, size_t i);
/* The file that was read, or NULL for defaults only. */
const char *config_path(const struct config *cfg);

/* The section of that type and instance name (NULL for unnamed sections);
 * NULL if a named instance does not exist.  Unnamed sections always exist. */
const struct config_section *config_section(const struct config *cfg, const char *type, const char *name);
/* Named instances of type in file order: i from 0 while it returns non-NULL. */
const struct config_section *config_section_nth(const struct config *cfg, const char *type, size_t i);
const char *config_section_name(const struct config_section *sec);
/* Line of the section header in the file, 0 for defaults. */
int config_section_line(const struct config_section *sec);

/* Typed values; asking for a key the table does not have aborts (a bug). */
long long config_sec_int(const struct config_section *sec, const char *key);
double config_sec_double(const struct config_section *sec, const char *key);
bool config_sec_bool(const struct config_section *sec, const char *key);
const char *config_sec_str(const struct config_section *sec, const char *key);
/* Line in the file that set key, 0 for a default. */
int config_sec_line(const struct config_section *sec, const char *key);

/* Shorthands for unnamed sections. */
long long config_int(const struct config *cfg, const char *section, const char *key);
double config_double(const struct config *cfg, const char *section, const char *key);
bool config_bool(const struct config *cfg, const char *section, const char *key);
const char *config_str(const struct config *cfg, const char *section, const char *key);

/*
 * "dashboard on http://127.0.0.1:7361/ (token in STATE_DIR/token)", or "(token: [server] token in
 * FILE)" when the configuration sets it (heap), what simq server and a CLI that starts one print
 * when [dashboard] listen is set; NULL when it is not.
 */
char *config_dashboard_line(const struct config *cfg, const char *state_dir);
/* Whether text is a valid value of [section] key (its first row in the table); false with *why
 * (heap): what is wrong and what is allowed.  For values given outside a file (--plecs URL). */
bool config_check_value(const char *section, const char *key, const char *text, char **why);
/* Adds an error when the API's socket path (socket, under state_dir or the default state
 * directory as the environment has it now) is too long for a Unix socket: simq config --check. */
void config_check_socket(struct config *cfg);

/* Writes the complete commented simq.ini of defaults (share/simq.ini). */
void config_write_defaults(FILE *out);
/* Writes simq.ini(5) in roff (doc/simq.ini.5). */
void config_write_man(FILE *out, const char *version);

/* Edit distance, for "did you mean"; exposed for tests. */
size_t config_edit_distance(const char *a, const char *b);

#endif
