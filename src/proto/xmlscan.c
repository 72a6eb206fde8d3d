#include "autoconf.h"

#include "proto/xmlscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where the last byte left the scan. */
enum {
	TEXT,       /* character data */
	LT,         /* after '<' */
	START_NAME, /* a start tag's name */
	IN_TAG,     /* a start tag's attributes */
	QUOTE,      /* an attribute's value */
	END_TAG,    /* after "</" */
	PI,         /* <? ... ?> */
	BANG,       /* after "<!" */
	BANG_DASH,  /* after "<!-" */
	BANG_CDATA, /* part of "<![CDATA[" */
	COMMENT,    /* <!-- ... --> */
	CDATA,      /* <![CDATA[ ... ]]> */
};

void xmlscan_init(struct xmlscan *s, const struct xmlscan_limits *limits)
{
	memset(s, 0, sizeof *s);
	s->limits = *limits;
	if (s->limits.max_depth > XMLSCAN_DEPTH_CAP || s->limits.max_depth <= 0)
		s->limits.max_depth = XMLSCAN_DEPTH_CAP;
	s->state = TEXT;
}

const char *xmlscan_error(const struct xmlscan *s)
{
	return s->error;
}

static bool stop(struct xmlscan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why the scan stops (the first reason only); false, for the caller to return. */
static bool stop(struct xmlscan *s, const char *fmt, ...)
{
	char what[96];
	va_list ap;

	if (s->error[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(s->error, sizeof s->error, "%s (byte %zu)", what, s->bytes);
	return false;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Keeps the text of an open <i8>, to check when it closes. */
static void i8_text(struct xmlscan *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++, s->i8_len++)
		if (s->i8_len < sizeof s->i8 - 1)
			s->i8[s->i8_len] = p[i];
}

/* Is the <i8> just closed a whole number that fits 64 bits (blanks around it allowed)? */
static bool i8_fits(struct xmlscan *s)
{
	char *end;

	if (s->i8_len >= sizeof s->i8 - 1)
		return false;
	s->i8[s->i8_len] = '\0';
	const char *p = s->i8;

	while (blank(*p))
		p++;
	if (!(isdigit((unsigned char)*p) || ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))))
		return false;
	errno = 0;
	(void)strtoll(p, &end, 10);
	while (blank(*end))
		end++;
	return errno == 0 && *end == '\0';
}

/* Counts text of the element open at the scan's depth. */
static bool add_text(struct xmlscan *s, const char *p, size_t n)
{
	size_t count = 0;

	if (s->i8_depth && s->depth == s->i8_depth)
		i8_text(s, p, n);
	if (s->limits.max_text == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		count += !blank(p[i]);
	s->text[s->depth] += count;
	if (s->text[s->depth] > s->limits.max_text)
		return stop(s, "holds more than %zu bytes of text in one element", s->limits.max_text);
	return true;
}

static void name_byte(struct xmlscan *s, char c)
{
	if (s->name_len < (int)sizeof s->name)
		s->name[s->name_len] = c;
	s->name_len++;
}

/* The bytes of a tag's name from p on, up to what ends it (a blank, '/' or '>') or end: how many. */
static size_t name_run(struct xmlscan *s, const char *p, const char *end)
{
	const char *q = p;

	while (q < end && !blank(*q) && *q != '/' && *q != '>')
		name_byte(s, *q++);
	return (size_t)(q - p);
}

/* Whether the name read is i8, with or without a namespace prefix ("ex:i8"). */
static bool name_is_i8(const struct xmlscan *s)
{
	return (s->name_len == 2 && memcmp(s->name, "i8", 2) == 0) ||
	       (s->name_len >= 3 && s->name_len <= (int)sizeof s->name && memcmp(s->name + s->name_len - 3, ":i8", 3) == 0);
}

/* Whether the name read is array or struct (the elements whose nesting xmlrpc-c follows). */
static bool name_is_container(const struct xmlscan *s)
{
	return (s->name_len == 5 && memcmp(s->name, "array", 5) == 0) ||
	       (s->name_len == 6 && memcmp(s->name, "struct", 6) == 0);
}

static bool open_element(struct xmlscan *s)
{
	if (s->container && ++s->nesting > s->limits.max_nesting)
		return stop(s, "nests arrays and structs deeper than %d", s->limits.max_nesting);
	if (++s->depth > s->limits.max_depth)
		return stop(s, "nests elements deeper than %d", s->limits.max_depth);
	s->text[s->depth] = 0;
	if (name_is_i8(s)) {
		s->i8_depth = s->depth;
		s->i8_len = 0;
	}
	return true;
}

static bool close_element(struct xmlscan *s)
{
	if (s->i8_depth && s->depth == s->i8_depth) {
		s->i8_depth = 0;
		if (!i8_fits(s))
			return stop(s, "holds an <i8> that is not a whole number of 64 bits");
	}
	if (name_is_container(s) && s->nesting > 0)
		s->nesting--;
	if (s->depth > 0)
		s->depth--;
	return true;
}

/* A byte of a start tag after its name; '>' ends it, opening an element unless it was "/>". */
static bool in_tag(struct xmlscan *s, char c)
{
	if (c == '"' || c == '\'') {
		s->quote = c;
		s->state = QUOTE;
	} else if (c == '>') {
		s->state = TEXT;
		if (!s->slash)
			return open_element(s);
	}
	s->slash = c == '/';
	return true;
}

/* After "<!": a comment or CDATA; anything else (DOCTYPE, ENTITY) XML-RPC never carries. */
static bool bang(struct xmlscan *s, char c)
{
	static const char opening[] = "[CDATA[";

	switch (s->state) {
	case BANG:
		if (c == '-')
			s->state = BANG_DASH;
		else if (c == '[')
			s->state = BANG_CDATA, s->run = 1;
		else
			return stop(s, "has a <!%c... declaration (a DOCTYPE or an entity); XML-RPC has none", c);
		return true;
	case BANG_DASH:
		if (c != '-')
			return stop(s, "has a broken comment");
		s->state = COMMENT, s->run = 0;
		return true;
	default:
		if (c != opening[s->run])
			return stop(s, "has a <![... declaration that is not CDATA");
		if (++s->run == sizeof opening - 1)
			s->state = CDATA, s->run = 0;
		return true;
	}
}

/* Skips to the end of a comment, CDATA section or processing instruction ("-->", "]]>", "?>"). */
static void until_close(struct xmlscan *s, char c)
{
	char mark = s->state == COMMENT ? '-' : s->state == CDATA ? ']' : '?';
	size_t need = s->state == PI ? 1 : 2;

	if (c == mark)
		s->run++;
	else if (c == '>' && s->run >= need)
		s->state = TEXT;
	else
		s->run = 0;
}

/* A byte of a CDATA section: text, but for the "]]>" that ends it. */
static bool in_cdata(struct xmlscan *s, char c)
{
	static const char brackets[] = "]]]]]]]]";
	size_t run = s->run;

	until_close(s, c);
	if (c == ']')
		return true;
	/* The brackets before c were text: all of them, or all but the two that end the section. */
	if (s->state == TEXT)
		run -= 2;
	while (run > 0) {
		size_t n = run < sizeof brackets - 1 ? run : sizeof brackets - 1;

		if (!add_text(s, brackets, n))
			return false;
		run -= n;
	}
	return s->state == TEXT || add_text(s, &c, 1);
}

/* One byte of markup (anything but character data). */
static bool markup(struct xmlscan *s, char c)
{
	switch (s->state) {
	case LT:
		s->name_len = 0;
		s->name_done = false;
		s->slash = false;
		if (c == '/') {
			s->state = END_TAG;
		} else if (c == '?') {
			s->state = PI, s->run = 0;
		} else if (c == '!') {
			s->state = BANG;
		} else {
			s->state = START_NAME;
			return markup(s, c);
		}
		return true;
	case START_NAME:
		if (blank(c) || c == '/' || c == '>') {
			s->container = name_is_container(s);
			s->state = IN_TAG;
			return in_tag(s, c);
		}
		name_byte(s, c);
		return true;
	case IN_TAG:
		return in_tag(s, c);
	case QUOTE:
		if (c == s->quote)
			s->state = IN_TAG;
		return true;
	case END_TAG:
		if (c == '>') {
			s->state = TEXT;
			return close_element(s);
		} else if (blank(c)) {
			s->name_done = true;
		} else if (!s->name_done) {
			name_byte(s, c);
		}
		return true;
	case BANG:
	case BANG_DASH:
	case BANG_CDATA:
		return bang(s, c);
	case CDATA:
		return in_cdata(s, c);
	default:
		until_close(s, c);
		return true;
	}
}

bool xmlscan_feed(struct xmlscan *s, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	if (s->error[0])
		return false;
	if (len > s->limits.max_bytes - s->bytes) {
		s->bytes = s->limits.max_bytes;
		return stop(s, "is larger than %zu bytes", s->limits.max_bytes);
	}
	const char *nul = memchr(data, '\0', len);

	if (nul) {
		s->bytes += (size_t)(nul - data) + 1;
		return stop(s, "has a NUL byte: XML-RPC is UTF-8 text");
	}
	while (p < end) {
		if (s->state == TEXT) {
			const char *lt = memchr(p, '<', (size_t)(end - p));
			size_t n = lt ? (size_t)(lt - p) : (size_t)(end - p);

			s->bytes += n;
			if (!add_text(s, p, n))
				return false;
			p += n;
			if (lt == NULL)
				break;
			s->state = LT;
			s->bytes++;
			p++;
			continue;
		}
		if (s->state == START_NAME || (s->state == END_TAG && !s->name_done)) {
			/* A name's bytes, in one run: most of XML-RPC's markup. */
			size_t n = name_run(s, p, end);

			s->bytes += n;
			p += n;
			if (p == end)
				break;
		}
		s->bytes++;
		if (!markup(s, *p++))
			return false;
	}
	return true;
}
