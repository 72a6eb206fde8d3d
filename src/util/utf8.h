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
/*
 * The length of the character at s when XML-RPC, as xmlrpc-c carries it, can carry it (1..3), or 0:
 * not UTF-8, beyond U+FFFF (xmlrpc-c refuses those), U+FFFE or U+FFFF (not XML characters), or a C0
 * control other than tab, line feed and carriage return (XML 1.0 has no way to write one).
 */
size_t utf8_xml_char(const char *s, size_t len);
/* The offset of the first byte of s that utf8_xml_char refuses, or len when it takes them all. */
size_t utf8_xml_unsafe(const char *s, size_t len);
/* The code point of the well-formed sequence of n bytes at s (n from utf8_valid_prefix). */
unsigned int utf8_code_point(const char *s, size_t n);

/* What a code point is, for text that people read: a name or a tag must be neither. */
enum utf8_hazard {
	UTF8_SAFE,
	UTF8_CONTROL, /* C0 (below U+0020), DEL, C1 (U+0080-U+009F), line and paragraph separators */
	UTF8_BIDI,    /* bidirectional formatting: marks, embeddings, overrides, isolates */
};
enum utf8_hazard utf8_hazard_of(unsigned int cp);
/*
 * The first hazard in valid UTF-8 s, or UTF8_SAFE: *at gets its byte offset
 * and *cp its code point.
 */
enum utf8_hazard utf8_find_hazard(const char *s, size_t len, size_t *at, unsigned int *cp);

#endif
