#include "autoconf.h"

#include "proto/xmlout.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "proto/doubles.h"
#include "proto/proto.h"
#include "proto/xmlcall.h"
#include "util/buf.h"
#include "util/utf8.h"

void proto_xml_text(struct buf *b, const char *s, size_t len)
{
	const char *run = s, *end = s + len;

	buf_reserve(b, len + 16);
	while (s < end) {
		unsigned char c = (unsigned char)*s;
		const char *with = NULL;
		size_t n = 1;

		if (c == '<')
			with = "&lt;";
		else if (c == '>')
			with = "&gt;";
		else if (c == '&')
			with = "&amp;";
		else if (c == '\r')
			with = "&#x0d;"; /* as xmlrpc-c writes it: a reader would make a line feed of a bare one */
		else if ((n = utf8_xml_char(s, (size_t)(end - s))) == 0) {
			/* One U+FFFD for a character beyond U+FFFF, one for each byte that is not UTF-8. */
			size_t whole = utf8_valid_prefix(s, (size_t)(end - s));

			with = "\xef\xbf\xbd";
			n = whole ? whole : 1;
		}
		if (with) {
			buf_add(b, run, (size_t)(s - run));
			buf_adds(b, with);
			run = s + n;
		}
		s += n;
	}
	buf_add(b, run, (size_t)(end - run));
}

void proto_xml_string(struct buf *b, const char *s)
{
	buf_adds(b, "<value><string>");
	proto_xml_text(b, s ? s : "", s ? strlen(s) : 0);
	buf_adds(b, "</string></value>");
}

void proto_xml_json(struct buf *b, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;

		buf_adds(b, PROTO_XML_STRUCT_OPEN);
		json_object_foreach((json_t *)j, key, val)
		{
			proto_xml_member_open(b, key);
			proto_xml_json(b, val);
			proto_xml_member_end(b);
		}
		buf_adds(b, PROTO_XML_STRUCT_CLOSE);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;

		buf_adds(b, PROTO_XML_ARRAY_OPEN);
		json_array_foreach(j, i, val)
		{
			proto_xml_json(b, val);
			buf_addc(b, '\n');
		}
		buf_adds(b, PROTO_XML_ARRAY_CLOSE);
		break;
	}
	case JSON_STRING:
		buf_adds(b, "<value><string>");
		proto_xml_text(b, json_string_value(j), json_string_length(j));
		buf_adds(b, "</string></value>");
		break;
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(j);

		proto_xml_int(b, i, i < INT_MIN || i > INT_MAX);
		break;
	}
	case JSON_REAL:
		buf_adds(b, "<value><double>");
		proto_add_double(b, json_real_value(j));
		buf_adds(b, "</double></value>");
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		buf_adds(b, json_is_true(j) ? "<value><boolean>1</boolean></value>" : "<value><boolean>0</boolean></value>");
		break;
	default:
		buf_adds(b, "<value><nil/></value>");
	}
}

void proto_xml_member_open(struct buf *b, const char *name)
{
	buf_adds(b, "<member><name>");
	proto_xml_text(b, name, strlen(name));
	buf_adds(b, "</name>\n");
}

void proto_xml_member_end(struct buf *b)
{
	buf_adds(b, "</member>\n");
}

void proto_xml_member_string(struct buf *b, const char *name, const char *s)
{
	proto_xml_member_open(b, name);
	proto_xml_string(b, s);
	proto_xml_member_end(b);
}

void proto_xml_member_int(struct buf *b, const char *name, int64_t v)
{
	proto_xml_member_open(b, name);
	proto_xml_int(b, v, v < INT_MIN || v > INT_MAX);
	proto_xml_member_end(b);
}

void proto_xml_member_i8(struct buf *b, const char *name, int64_t v)
{
	proto_xml_member_open(b, name);
	proto_xml_int(b, v, true);
	proto_xml_member_end(b);
}

void proto_xml_member_bool(struct buf *b, const char *name, bool v)
{
	proto_xml_member_open(b, name);
	buf_adds(b, v ? "<value><boolean>1</boolean></value>" : "<value><boolean>0</boolean></value>");
	proto_xml_member_end(b);
}

void proto_xml_member_brief_vars(struct buf *b, const char *text)
{
	json_t *j = proto_brief_vars_json(text);

	proto_xml_member_open(b, "vars");
	if (j)
		proto_xml_json(b, j);
	else
		buf_adds(b, PROTO_XML_STRUCT_OPEN PROTO_XML_STRUCT_CLOSE);
	proto_xml_member_end(b);
	json_decref(j);
}

