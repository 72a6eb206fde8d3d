/*
 * utf8 — validation of UTF-8 text read from files and the network.
 * Pure functions, safe on any thread.
 */
#ifndef SIMQ_UTIL_UTF8_H
#define SIMQ_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the one well-formed UTF-8 sequence at s (1..4), or 0 if the bytes
 * there are not one (overlong forms, surrogates and truncation included). */
size_t utf8_valid_prefix(const char *s, size_t len);
/* True if all len bytes are well-formed UTF-8; *bad_offset gets the first bad byte. */
bool utf8_validate(const char *s, size_t len, size_t *bad_offset);

#endif
