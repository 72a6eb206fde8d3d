#include "autoconf.h"

#include "util/utf8.h"

size_t utf8_valid_prefix(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	unsigned int cp;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t utf8_xml_char(const char *s, size_t len)
{
	unsigned char c = len ? (unsigned char)s[0] : 0;
	size_t n;

	if (len == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
		return 0;
	if (c < 0x80)
		return 1;
	n = utf8_valid_prefix(s, len);
	if (n == 0 || n == 4)
		return 0;
	unsigned int cp = utf8_code_point(s, n);

	return cp == 0xfffe || cp == 0xffff ? 0 : n;
}

size_t utf8_xml_unsafe(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && (n = utf8_xml_char(s + i, len - i)) != 0)
		i += n;
	return i;
}

bool utf8_validate(const char *s, size_t len, size_t *bad_offset)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_valid_prefix(s + i, len - i);

		if (n == 0) {
			if (bad_offset)
				*bad_offset = i;
			return false;
		}
		i += n;
	}
	return true;
}

unsigned int utf8_code_point(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	unsigned int cp = s[0] & lead_mask[n < 5 ? n : 0];

	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

enum utf8_hazard utf8_hazard_of(unsigned int cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
		return UTF8_CONTROL;
	/* ALM, LRM and RLM; LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI. */
	if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return UTF8_BIDI;
	return UTF8_SAFE;
}

enum utf8_hazard utf8_find_hazard(const char *s, size_t len, size_t *at, unsigned int *cp)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_valid_prefix(s + i, len - i);
		unsigned int c = n ? utf8_code_point(s + i, n) : (unsigned char)s[i];
		enum utf8_hazard h = utf8_hazard_of(c);

		if (h != UTF8_SAFE) {
			*at = i;
			*cp = c;
			return h;
		}
		i += n ? n : 1;
	}
	return UTF8_SAFE;
}
