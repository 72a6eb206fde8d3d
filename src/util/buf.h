/*
 * buf — a growable, always NUL-terminated byte string.
 *
 * A struct buf may be zero-initialised (BUF_INIT) and used at once; it owns
 * its bytes until buf_detach() hands them to the caller or buf_free() drops
 * them.  Not shared between threads.
 */
#ifndef SIMQ_UTIL_BUF_H
#define SIMQ_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data; /* NUL-terminated once anything was added; may be NULL before */
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                                       \
	{                                                                                                              \
		NULL, 0, 0                                                                                             \
	}

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
/* Appends v in decimal, as "%lld" writes it, without printf: some writers write millions. */
void buf_add_int(struct buf *b, int64_t v);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a size in bytes for people, in binary units as simq.ini reads sizes: "512 bytes", "34.3 KiB", "15.3 MiB". */
void buf_add_bytes(struct buf *b, int64_t bytes);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s with control and non-UTF-8 bytes shown as \xNN, C1 controls, bidirectional formatting
 * characters, U+FFFE and U+FFFF as \uNNNN, and characters beyond U+FFFF (which XML-RPC here cannot
 * carry) as \UNNNNNNNN, for messages. */
void buf_add_printable(struct buf *b, const char *s, size_t len);
/* The most characters of a value a message shows (DESIGN 10: a 10 MB name is not echoed). */
#define BUF_SHOWN_MAX 80
/* Appends s as buf_add_printable() does, cut to BUF_SHOWN_MAX characters: "..." and the
 * length in bytes follow a value that was cut. */
void buf_add_shown(struct buf *b, const char *s, size_t len);
/* s as buf_add_shown() shows it, as a heap string. */
char *buf_shown(const char *s);
void buf_truncate(struct buf *b, size_t len);
/* The text so far; "" for an empty buffer, never NULL. */
const char *buf_str(const struct buf *b);
/* Returns the heap string (caller frees) and leaves b empty. */
char *buf_detach(struct buf *b);
void buf_free(struct buf *b);

#endif
