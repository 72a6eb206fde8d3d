#include "autoconf.h"

#include "proto/xmlcall.h"

#include <stdlib.h>
#include <string.h>

#include "proto/doubles.h"
#include "util/buf.h"

void proto_xml_int(struct buf *b, int64_t v, bool i8)
{
	buf_adds(b, i8 ? "<value><i8>" : "<value><i4>");
	buf_add_int(b, v);
	buf_adds(b, i8 ? "</i8></value>" : "</i4></value>");
}

/* s as xmlrpc-c writes a string or a name: &, < and > escaped, CR LF and a lone CR made LF, all else as is. */
static void call_text(struct buf *b, const char *s, size_t len)
{
	const char *run = s, *end = s + len;

	for (; s < end; s++) {
		const char *with;

		switch (*s) {
		case '<':
			with = "&lt;";
			break;
		case '>':
			with = "&gt;";
			break;
		case '&':
			with = "&amp;";
			break;
		case '\r':
			with = s + 1 < end && s[1] == '\n' ? "" : "\n";
			break;
		default:
			continue;
		}
		buf_add(b, run, (size_t)(s - run));
		buf_adds(b, with);
		run = s + 1;
	}
	buf_add(b, run, (size_t)(end - run));
}

/* One value of a call; what has no shorter writing here (base64, dateTime) is xmlrpc-c's own. */
static void call_value(xmlrpc_env *env, struct buf *b, xmlrpc_value *v)
{
	switch (xmlrpc_value_type(v)) {
	case XMLRPC_TYPE_INT: {
		int i;

		xmlrpc_read_int(env, v, &i);
		proto_xml_int(b, i, false);
		break;
	}
	case XMLRPC_TYPE_I8: {
		xmlrpc_int64 i;

		xmlrpc_read_i8(env, v, &i);
		proto_xml_int(b, i, true);
		break;
	}
	case XMLRPC_TYPE_BOOL: {
		xmlrpc_bool t;

		xmlrpc_read_bool(env, v, &t);
		buf_adds(b, t ? "<value><boolean>1</boolean></value>" : "<value><boolean>0</boolean></value>");
		break;
	}
	case XMLRPC_TYPE_DOUBLE: {
		double d;

		xmlrpc_read_double(env, v, &d);
		buf_adds(b, "<value><double>");
		proto_add_double(b, d);
		buf_adds(b, "</double></value>");
		break;
	}
	case XMLRPC_TYPE_STRING: {
		const char *s = NULL;
		size_t n = 0;

		xmlrpc_read_string_lp(env, v, &n, &s);
		buf_adds(b, "<value><string>");
		call_text(b, s, n);
		buf_adds(b, "</string></value>");
		free((char *)s);
		break;
	}
	case XMLRPC_TYPE_NIL:
		buf_adds(b, "<value><nil/></value>");
		break;
	case XMLRPC_TYPE_ARRAY:
		buf_adds(b, "<value><array><data>\r\n");
		for (int i = 0, size = xmlrpc_array_size(env, v); i < size && !env->fault_occurred; i++) {
			call_value(env, b, xmlrpc_array_get_item(env, v, i));
			buf_adds(b, "\r\n");
		}
		buf_adds(b, "</data></array></value>");
		break;
	case XMLRPC_TYPE_STRUCT:
		buf_adds(b, "<value><struct>\r\n");
		for (int i = 0, size = xmlrpc_struct_size(env, v); i < size && !env->fault_occurred; i++) {
			xmlrpc_value *key, *item;
			const char *name = NULL;
			size_t n = 0;

			xmlrpc_struct_read_member(env, v, (unsigned)i, &key, &item);
			if (env->fault_occurred)
				break;
			xmlrpc_read_string_lp(env, key, &n, &name);
			buf_adds(b, "<member><name>");
			call_text(b, name, n);
			buf_adds(b, "</name>\r\n");
			call_value(env, b, item);
			buf_adds(b, "</member>\r\n");
			free((char *)name);
			xmlrpc_DECREF(key);
			xmlrpc_DECREF(item);
		}
		buf_adds(b, "</struct></value>");
		break;
	default: {
		xmlrpc_mem_block *mem = xmlrpc_mem_block_new(env, 0);

		if (mem) {
			xmlrpc_serialize_value2(env, mem, v, xmlrpc_dialect_i8);
			buf_add(b, xmlrpc_mem_block_contents(mem), xmlrpc_mem_block_size(mem));
			xmlrpc_mem_block_free(mem);
		}
	}
	}
}

bool proto_serialize_call(xmlrpc_env *env, struct buf *out, const char *method, xmlrpc_value *params)
{
	size_t start = out->len;

	if (xmlrpc_value_type(params) != XMLRPC_TYPE_ARRAY) {
		xmlrpc_env_set_fault(env, XMLRPC_TYPE_ERROR, "the parameters of a call are an array");
		return false;
	}
	buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodCall>\r\n<methodName>");
	call_text(out, method, strlen(method));
	buf_adds(out, "</methodName>\r\n<params>\r\n");
	for (int i = 0, size = xmlrpc_array_size(env, params); i < size && !env->fault_occurred; i++) {
		buf_adds(out, "<param>");
		call_value(env, out, xmlrpc_array_get_item(env, params, i));
		buf_adds(out, "</param>\r\n");
	}
	buf_adds(out, "</params>\r\n</methodCall>\r\n");
	if (env->fault_occurred)
		buf_truncate(out, start);
	return !env->fault_occurred;
}
