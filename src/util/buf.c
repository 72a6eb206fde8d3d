#include "autoconf.h"

#include "util/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_add_int(struct buf *b, int64_t v)
{
	char digits[24], *p = digits + sizeof digits;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(digits + sizeof digits - p));
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* Appends the first chars characters of s shown printable; returns the bytes of s they took. */
static size_t add_printable(struct buf *b, const char *s, size_t len, size_t chars)
{
	size_t i = 0;

	while (i < len && chars-- > 0) {
		unsigned char c = (unsigned char)s[i];
		size_t n = utf8_valid_prefix(s + i, len - i);

		/* Characters XML-RPC cannot carry (beyond U+FFFF, U+FFFE) are escaped too: messages travel in it. */
		if (c >= 0x80 && n > 0 && utf8_hazard_of(utf8_code_point(s + i, n)) == UTF8_SAFE &&
		    utf8_xml_char(s + i, len - i) != 0) {
			buf_add(b, s + i, n);
			i += n;
		} else if (c >= 0x80 && n > 0) {
			buf_addf(b, n == 4 ? "\\U%08x" : "\\u%04x", utf8_code_point(s + i, n));
			i += n;
		} else if (c < 0x20 || c == 0x7f || c >= 0x80) {
			buf_addf(b, "\\x%02x", c);
			i++;
		} else {
			buf_addc(b, (char)c);
			i++;
		}
	}
	buf_reserve(b, 0);
	b->data[b->len] = '\0';
	return i;
}

void buf_add_printable(struct buf *b, const char *s, size_t len)
{
	add_printable(b, s, len, SIZE_MAX);
}

void buf_add_shown(struct buf *b, const char *s, size_t len)
{
	size_t used = add_printable(b, s, len, BUF_SHOWN_MAX);

	if (used < len)
		buf_addf(b, "... (%zu bytes)", len);
}

char *buf_shown(const char *s)
{
	struct buf b = BUF_INIT;

	buf_add_shown(&b, s, strlen(s));
	return buf_detach(&b);
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void buf_add_bytes(struct buf *b, int64_t bytes)
{
	/* Binary, as simq.ini's sizes are read (300k is 307,200 bytes, said "300.0 KiB"). */
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = -1;

	while (u < 3 && (v >= 1024 || v <= -1024)) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		buf_addf(b, "%lld byte%s", (long long)bytes, bytes == 1 ? "" : "s");
	else
		buf_addf(b, "%.1f %s", v, units[u]);
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *buf_detach(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void buf_free(struct buf *b)
{
	xfree(&b->data);
	b->len = b->cap = 0;
}
