/*
 * options — the one table of simq's configuration options.
 *
 * Every key simq reads from simq.ini is a row here: section, key, type,
 * default, allowed range or values, and help.  The loader (config.c)
 * validates against it, `simq config --defaults` prints simq.ini from it and
 * `simq config --man` prints simq.ini(5) from it, so the three never drift.
 * Read-only data; safe on any thread.
 */
#ifndef SIMQ_CONFIG_OPTIONS_H
#define SIMQ_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define OPTION_TYPES(X)                                                                                                \
	X(BOOL, "boolean")                                                                                             \
	X(INT, "integer")                                                                                              \
	X(NUMBER, "number")                                                                                            \
	X(DURATION, "duration")                                                                                        \
	X(SIZE, "size")                                                                                                \
	X(STRING, "string")                                                                                            \
	X(PATH, "path")                                                                                                \
	X(COMMAND, "command")                                                                                          \
	X(ENUM, "choice")                                                                                              \
	X(LIST, "list")                                                                                                \
	X(ADDRESS, "address")                                                                                          \
	X(URL, "URL")                                                                                                  \
	X(CLOCK, "time of day")                                                                                        \
	X(KEYS, "keys")

enum option_type {
#define X(id, name) OPT_##id,
	OPTION_TYPES(X)
#undef X
};

enum option_flags {
	OPT_REQUIRED = 1 << 0, /* a named section must set it */
	OPT_NONEMPTY = 1 << 1, /* an empty value is an error */
	OPT_SECRET = 1 << 2,   /* never shown in a message (the TCP token) */
};

struct option_def {
	const char *section; /* section type: "server", or "backend" for [backend NAME] */
	const char *key;
	enum option_type type;
	const char *def;     /* default as written in simq.ini; "" means unset or off */
	double min, max;     /* INT, NUMBER, DURATION (seconds), SIZE (bytes); STRING: length when set */
	const char *choices; /* ENUM and LIST: allowed words separated by '|' */
	unsigned flags;
	const char *help;
};

struct section_def {
	const char *name;
	bool named;          /* written [name INSTANCE], may appear once per instance */
	const char *example; /* an instance name for the commented example */
	const char *help;
};

extern const struct section_def option_sections[];
extern const size_t option_section_count;
extern const struct option_def option_table[];
extern const size_t option_count;

const char *option_type_name(enum option_type type);
const struct section_def *option_section_find(const char *name);
const struct option_def *option_find(const char *section, const char *key);
/* One line saying what a value of opt may be, e.g. "a whole number from 1 to 64". */
char *option_allowed_text(const struct option_def *opt);

/* Key names accepted in [keys], besides single characters and C-<letter>. */
extern const char *const option_key_names[];

#endif
