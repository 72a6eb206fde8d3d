#include "autoconf.h"

#include "proto/xmlin.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

/* What an open element is. */
enum kind {
	K_DOC,
	K_RESPONSE,
	K_CALL,
	K_METHOD_NAME,
	K_PARAMS,
	K_PARAM,
	K_FAULT,
	K_VALUE,
	K_SCALAR,
	K_STRUCT,
	K_MEMBER,
	K_NAME,
	K_ARRAY,
	K_DATA,
};

enum scalar { S_INT, S_I8, S_BOOL, S_DOUBLE, S_STRING, S_TIME, S_BASE64, S_NIL };

static const struct {
	const char *name;
	enum scalar type;
} scalars[] = {
	{"string", S_STRING}, {"int", S_INT},     {"i4", S_INT},   {"double", S_DOUBLE},
	{"boolean", S_BOOL},  {"i8", S_I8},       {"ex:i8", S_I8}, {"nil", S_NIL},
	{"ex:nil", S_NIL},    {"base64", S_BASE64}, {"dateTime.iso8601", S_TIME},
};

struct frame {
	enum kind kind;
	enum scalar type;    /* K_SCALAR */
	xmlrpc_value *v;     /* K_VALUE, K_MEMBER: owned; K_STRUCT, K_ARRAY, K_DATA: the container, borrowed */
	char *name;          /* K_MEMBER: owned */
	size_t name_len;
	bool done;           /* K_RESPONSE: params or fault seen; K_ARRAY: data seen; K_VALUE: a child seen */
};

/* Elements open at once: the answer's four, three per array or struct, the innermost value's two. */
#define MAX_FRAMES (6 + 3 * PROTO_XMLIN_MAX_DEPTH)

struct reader {
	XML_Parser xml;
	struct frame stack[MAX_FRAMES];
	int top;             /* stack[top] is the innermost open element */
	int containers;      /* arrays and structs open */
	struct buf text;     /* the text of the innermost value, scalar or name */
	xmlrpc_value *result, *fault;  /* a call's result is the array of its params */
	char *method;                  /* a call's methodName */
	bool call;
	char *error;
};

static void fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error)
		return;
	va_start(ap, fmt);
	char *what = xvasprintf(fmt, ap);

	va_end(ap);
	r->error = xasprintf("%s (line %lu, column %lu)", what, (unsigned long)XML_GetCurrentLineNumber(r->xml),
			     (unsigned long)XML_GetCurrentColumnNumber(r->xml) + 1);
	free(what);
	XML_StopParser(r->xml, XML_FALSE);
}

static bool only_blanks(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* The text with blanks around it cut, NUL-terminated in place. */
static char *trimmed(struct buf *b)
{
	static char empty[1];
	char *s = b->len ? b->data : empty, *end = s + b->len;

	while (s < end && only_blanks(s, 1))
		s++;
	while (end > s && only_blanks(end - 1, 1))
		end--;
	*end = '\0';
	return s;
}

/* Whether text holds a character beyond U+FFFF (an emoji), which xmlrpc-c's strings cannot (expat itself
 * refuses U+FFFE and U+FFFF). */
static bool uncarried(const struct buf *text)
{
	const unsigned char *s = (const unsigned char *)buf_str(text);

	for (size_t i = 0; i < text->len; i++)
		if (s[i] >= 0xf0)
			return true;
	return false;
}

/* Fails the reader when the text of what is a string cannot be one. */
static bool carried(struct reader *r, const char *what)
{
	if (!uncarried(&r->text))
		return true;
	fail(r, "%s holds a character beyond U+FFFF (an emoji, say): characters up to U+FFFD are allowed", what);
	return false;
}

static bool read_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int b64_digit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* base64 text (blanks skipped, '=' pads the end) as bytes; NULL when it is not base64. */
static unsigned char *from_base64(const char *s, size_t *n)
{
	unsigned char *out = xmalloc(strlen(s) / 4 * 3 + 3);
	unsigned bits = 0, have = 0;
	bool padded = false;

	*n = 0;
	for (; *s; s++) {
		int d = b64_digit(*s);

		if (only_blanks(s, 1))
			continue;
		if (*s == '=') {
			padded = true;
			continue;
		}
		if (d < 0 || padded) {
			free(out);
			return NULL;
		}
		bits = (bits << 6) | (unsigned)d;
		have += 6;
		if (have >= 8) {
			have -= 8;
			out[(*n)++] = (unsigned char)(bits >> have);
			bits &= (1u << have) - 1;
		}
	}
	return out;
}

/* The value a scalar element's text stands for; NULL (and the reader failed) when it is not one. */
static xmlrpc_value *scalar_value(struct reader *r, xmlrpc_env *env, enum scalar type)
{
	char *s = type == S_STRING ? NULL : trimmed(&r->text), *end;
	int64_t i;

	switch (type) {
	case S_STRING:
		return carried(r, "a <string>") ? xmlrpc_string_new_lp(env, r->text.len, buf_str(&r->text)) : NULL;
	case S_INT:
		if (read_int(s, INT32_MIN, INT32_MAX, &i))
			return xmlrpc_int_new(env, (int)i);
		fail(r, "<int> holds \"%.40s\": a whole number from -2147483648 to 2147483647 is allowed", s);
		return NULL;
	case S_I8:
		if (read_int(s, INT64_MIN, INT64_MAX, &i))
			return xmlrpc_i8_new(env, i);
		fail(r, "<i8> holds \"%.40s\": a whole number in 64 bits is allowed", s);
		return NULL;
	case S_BOOL:
		if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0)
			return xmlrpc_bool_new(env, s[0] == '1');
		fail(r, "<boolean> holds \"%.40s\": 0 or 1 is allowed", s);
		return NULL;
	case S_DOUBLE: {
		errno = 0;
		double d = strtod(s, &end);

		/* Decimal text only: strtod would also read "0x1p3" and "inf".  A call takes no number too small
		 * for a double's full precision, as xmlrpc-c takes none: PLECS would refuse what was stored. */
		if (r->call && (fpclassify(d) == FP_SUBNORMAL || (d == 0 && errno == ERANGE))) {
			fail(r, "<double> holds \"%.40s\", too small for a double; allowed: 0, or a magnitude from "
				"2.2250738585072014e-308 to 1.7976931348623157e308", s);
			return NULL;
		}
		if (*s != '\0' && *end == '\0' && isfinite(d) && s[strspn(s, "0123456789+-.eE")] == '\0')
			return xmlrpc_double_new(env, d);
		fail(r, "<double> holds \"%.40s\": a finite decimal number is allowed", s);
		return NULL;
	}
	case S_NIL:
		if (*s == '\0')
			return xmlrpc_nil_new(env);
		fail(r, "<nil> holds text: it is empty");
		return NULL;
	case S_TIME: {
		xmlrpc_value *v = xmlrpc_datetime_new_str(env, s);

		if (env->fault_occurred)
			fail(r, "<dateTime.iso8601> holds \"%.40s\": %s", s, env->fault_string);
		return v;
	}
	case S_BASE64: {
		size_t n;
		unsigned char *bytes = from_base64(s, &n);
		xmlrpc_value *v = bytes ? xmlrpc_base64_new(env, n, bytes) : NULL;

		if (bytes == NULL)
			fail(r, "<base64> holds a character that is not base64");
		free(bytes);
		return v;
	}
	}
	return NULL;
}

static struct frame *push(struct reader *r, enum kind kind)
{
	if (r->top + 1 >= MAX_FRAMES) {
		fail(r, "elements nest deeper than %d arrays or structs", PROTO_XMLIN_MAX_DEPTH);
		return NULL;
	}
	struct frame *f = &r->stack[++r->top];

	*f = (struct frame){.kind = kind};
	return f;
}

/* Which element XML-RPC allows in which (a <value>'s scalars aside). */
static const struct {
	enum kind parent;
	const char *name;
	enum kind child;
} grammar[] = {
	{K_DOC, "methodResponse", K_RESPONSE},
	{K_DOC, "methodCall", K_CALL},
	{K_CALL, "methodName", K_METHOD_NAME},
	{K_CALL, "params", K_PARAMS},
	{K_RESPONSE, "params", K_PARAMS},
	{K_RESPONSE, "fault", K_FAULT},
	{K_PARAMS, "param", K_PARAM},
	{K_PARAM, "value", K_VALUE},
	{K_FAULT, "value", K_VALUE},
	{K_VALUE, "struct", K_STRUCT},
	{K_VALUE, "array", K_ARRAY},
	{K_STRUCT, "member", K_MEMBER},
	{K_MEMBER, "name", K_NAME},
	{K_MEMBER, "value", K_VALUE},
	{K_ARRAY, "data", K_DATA},
	{K_DATA, "value", K_VALUE},
};

/* Whether parent takes one more child of that kind: a struct's members and an array's values are many,
 * a member's name comes before its value, and the rest hold one child. */
static bool takes(const struct reader *r, const struct frame *parent, enum kind child)
{
	switch (parent->kind) {
	case K_STRUCT:
	case K_DATA:
		return true;
	case K_DOC:
		return child == (r->call ? K_CALL : K_RESPONSE);
	case K_PARAMS:
		return r->call || r->result == NULL;
	case K_CALL:
		/* methodName, then params (which a call without parameters may leave out) */
		return child == K_METHOD_NAME ? r->method == NULL : r->method != NULL && !parent->done;
	case K_MEMBER:
		return child == K_NAME ? parent->name == NULL : parent->name != NULL && parent->v == NULL;
	default:
		return !parent->done;
	}
}

/* Whether name is what XML-RPC allows in the innermost open element; pushes it when it is. */
static void open_element(struct reader *r, const char *name)
{
	struct frame *parent = &r->stack[r->top], *f;
	enum kind want = parent->kind == K_VALUE ? K_SCALAR : K_DOC;

	for (size_t i = 0; i < sizeof grammar / sizeof grammar[0]; i++)
		if (grammar[i].parent == parent->kind && strcmp(grammar[i].name, name) == 0)
			want = grammar[i].child;
	if (!takes(r, parent, want))
		want = K_DOC;
	if (want == K_SCALAR) {
		for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
			if (strcmp(name, scalars[i].name) == 0) {
				if (!only_blanks(buf_str(&r->text), r->text.len)) {
					fail(r, "a <value> holds text and <%s>: one or the other is allowed", name);
					return;
				}
				parent->done = true;
				if ((f = push(r, K_SCALAR)) != NULL)
					f->type = scalars[i].type;
				buf_truncate(&r->text, 0);
				return;
			}
		want = K_DOC;
	}
	if (want == K_DOC) {
		fail(r, "<%.40s> is not allowed here by XML-RPC", name);
		return;
	}
	if (want == K_STRUCT || want == K_ARRAY) {
		xmlrpc_env env;

		if (!only_blanks(buf_str(&r->text), r->text.len)) {
			fail(r, "a <value> holds text and <%s>: one or the other is allowed", name);
			return;
		}
		if (++r->containers > PROTO_XMLIN_MAX_DEPTH) {
			fail(r, "arrays and structs nest deeper than %d", PROTO_XMLIN_MAX_DEPTH);
			return;
		}
		xmlrpc_env_init(&env);
		parent->done = true;
		parent->v = want == K_STRUCT ? xmlrpc_struct_new(&env) : xmlrpc_array_new(&env);
		xmlrpc_env_clean(&env);
		if ((f = push(r, want)) != NULL)
			f->v = parent->v;
		return;
	}
	if ((parent->kind == K_CALL && want == K_PARAMS) || parent->kind == K_RESPONSE || parent->kind == K_ARRAY ||
	    parent->kind == K_PARAM || parent->kind == K_FAULT)
		parent->done = true;
	if ((f = push(r, want)) == NULL)
		return;
	if (want == K_DATA)
		f->v = parent->v;
	buf_truncate(&r->text, 0);
}

/* A value is complete: it goes to parent, the element that holds it. */
static void deliver(struct frame *parent, xmlrpc_value *v)
{
	xmlrpc_env env;

	if (parent->kind == K_MEMBER) {
		parent->v = v;
		return;
	}
	xmlrpc_env_init(&env);
	xmlrpc_array_append_item(&env, parent->v, v);
	xmlrpc_env_clean(&env);
	xmlrpc_DECREF(v);
}

static void close_element(struct reader *r)
{
	struct frame *f = &r->stack[r->top];
	xmlrpc_env env;
	xmlrpc_value *v;

	xmlrpc_env_init(&env);
	switch (f->kind) {
	case K_SCALAR:
		v = scalar_value(r, &env, f->type);
		if (v && !env.fault_occurred)
			f[-1].v = v;
		else if (!r->error)
			fail(r, "a value cannot be made: %s", env.fault_string ? env.fault_string : "out of memory");
		break;
	case K_VALUE:
		/* No element in it: its text is a string. */
		if (f->v == NULL && !carried(r, "a <value>"))
			break;
		v = f->v ? f->v : xmlrpc_string_new_lp(&env, r->text.len, buf_str(&r->text));
		f->v = NULL;
		if (f[-1].kind == K_PARAM && r->call) {
			xmlrpc_array_append_item(&env, r->result, v);
			xmlrpc_DECREF(v);
		} else if (f[-1].kind == K_PARAM) {
			r->result = v;
		} else if (f[-1].kind == K_FAULT) {
			r->fault = v;
		} else {
			deliver(&f[-1], v);
		}
		break;
	case K_METHOD_NAME:
		r->method = xstrndup(buf_str(&r->text), r->text.len);
		break;
	case K_NAME:
		if (!carried(r, "a member's <name>"))
			break;
		f[-1].name_len = r->text.len;
		f[-1].name = xstrndup(buf_str(&r->text), r->text.len);
		break;
	case K_MEMBER:
		if (f->v == NULL) {
			fail(r, "a <member> without a <value>");
			break;
		}
		xmlrpc_struct_set_value_n(&env, f[-1].v, f->name, f->name_len, f->v);
		xmlrpc_DECREF(f->v);
		f->v = NULL;
		if (env.fault_occurred)
			fail(r, "a member cannot be set: %s", env.fault_string);
		break;
	case K_STRUCT:
		r->containers--;
		break;
	case K_ARRAY:
		r->containers--;
		if (!f->done)
			fail(r, "an <array> without <data>");
		break;
	case K_PARAM:
	case K_FAULT:
		if (!f->done)
			fail(r, "a <%s> without a <value>", f->kind == K_PARAM ? "param" : "fault");
		break;
	case K_CALL:
		if (r->method == NULL)
			fail(r, "a <methodCall> without a <methodName>");
		break;
	case K_PARAMS:
		if (r->result == NULL)
			fail(r, "<params> without a <param>: an answer holds one");
		break;
	default:
		break;
	}
	xmlrpc_env_clean(&env);
	buf_truncate(&r->text, 0);
	free(f->name);
	f->name = NULL;
	if (!r->error)
		r->top--;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct reader *r = ud;

	if (attrs[0] != NULL) {
		fail(r, "<%.40s> has attributes: XML-RPC has none", name);
		return;
	}
	open_element(r, name);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	(void)name; /* expat matched it with the start's */
	close_element(ud);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct reader *r = ud;
	const struct frame *f = &r->stack[r->top];

	if (f->kind == K_SCALAR || f->kind == K_NAME || f->kind == K_METHOD_NAME || (f->kind == K_VALUE && !f->done))
		buf_add(&r->text, s, (size_t)len);
	else if (!only_blanks(s, (size_t)len))
		fail(r, "text \"%.*s\" where XML-RPC allows none", len > 40 ? 40 : len, s);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	fail(ud, "a DOCTYPE: XML-RPC has none");
}

/* The fault's code and text, from the struct XML-RPC puts them in. */
static bool read_fault(xmlrpc_value *fault, int *code, char **text, char **err)
{
	xmlrpc_env env;
	xmlrpc_value *c = NULL, *t = NULL;
	const char *s = NULL;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(fault) == XMLRPC_TYPE_STRUCT) {
		xmlrpc_struct_find_value(&env, fault, "faultCode", &c);
		xmlrpc_struct_find_value(&env, fault, "faultString", &t);
	}
	if (c && t && xmlrpc_value_type(c) == XMLRPC_TYPE_INT && xmlrpc_value_type(t) == XMLRPC_TYPE_STRING) {
		xmlrpc_read_int(&env, c, code);
		xmlrpc_read_string(&env, t, &s);
	}
	if (s && !env.fault_occurred)
		*text = (char *)s;
	else
		*err = xstrdup("a <fault> that is not {faultCode: int, faultString: string}");
	if (c)
		xmlrpc_DECREF(c);
	if (t)
		xmlrpc_DECREF(t);
	xmlrpc_env_clean(&env);
	return *err == NULL;
}

/* Runs the reader over xml; r->error says what was wrong. */
static void read_document(struct reader *r, const char *xml, size_t len)
{
	bool ok;

	r->text = (struct buf)BUF_INIT;
	r->xml = XML_ParserCreate("UTF-8");
	if (r->xml == NULL) {
		r->error = xstrdup("out of memory");
		return;
	}
	r->stack[0] = (struct frame){.kind = K_DOC};
	XML_SetUserData(r->xml, r);
	XML_SetElementHandler(r->xml, on_start, on_end);
	XML_SetCharacterDataHandler(r->xml, on_text);
	XML_SetStartDoctypeDeclHandler(r->xml, on_doctype);
	ok = len <= INT32_MAX && XML_Parse(r->xml, xml, (int)len, XML_TRUE) == XML_STATUS_OK && r->error == NULL;
	if (!ok && r->error == NULL)
		r->error = len > INT32_MAX
				   ? xstrdup("larger than 2 GiB")
				   : xasprintf("%s (line %lu, column %lu)", XML_ErrorString(XML_GetErrorCode(r->xml)),
					       (unsigned long)XML_GetCurrentLineNumber(r->xml),
					       (unsigned long)XML_GetCurrentColumnNumber(r->xml) + 1);
	/* What is still open after an error: the values and names made so far. */
	for (int i = r->top; i > 0; i--) {
		if ((r->stack[i].kind == K_VALUE || r->stack[i].kind == K_MEMBER) && r->stack[i].v)
			xmlrpc_DECREF(r->stack[i].v);
		free(r->stack[i].name);
	}
	XML_ParserFree(r->xml);
	buf_free(&r->text);
}

bool proto_parse_response(const char *xml, size_t len, xmlrpc_value **result, int *fault_code, char **fault_string,
			  char **err)
{
	struct reader r = {.top = 0};

	*result = NULL;
	*fault_string = NULL;
	read_document(&r, xml, len);
	if (r.error == NULL && r.result == NULL && r.fault == NULL)
		r.error = xstrdup("no <methodResponse> with <params> or <fault>");
	if (r.error == NULL && r.fault)
		read_fault(r.fault, fault_code, fault_string, &r.error);
	if (r.fault)
		xmlrpc_DECREF(r.fault);
	if (r.error == NULL && r.result && *fault_string == NULL)
		*result = r.result;
	else if (r.result)
		xmlrpc_DECREF(r.result);
	*err = r.error;
	return r.error == NULL;
}

bool proto_parse_call(const char *xml, size_t len, char **method, xmlrpc_value **params, char **err)
{
	xmlrpc_env env;
	struct reader r = {.top = 0, .call = true};

	xmlrpc_env_init(&env);
	r.result = xmlrpc_array_new(&env);
	xmlrpc_env_clean(&env);
	read_document(&r, xml, len);
	if (r.error == NULL && r.method == NULL)
		r.error = xstrdup("no <methodCall> with a <methodName>");
	*method = r.error ? NULL : r.method;
	*params = r.error ? NULL : r.result;
	if (r.error) {
		free(r.method);
		xmlrpc_DECREF(r.result);
	}
	*err = r.error;
	return r.error == NULL;
}
