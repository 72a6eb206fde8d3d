#include "autoconf.h"

#include "plecs/answer.h"

#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plecs/wire.h"
#include "proto/proto.h"
#include "util/buf.h"
#include "util/decimal.h"
#include "util/xalloc.h"

/*
 * The longest number text read (blanks around it are not counted).  XML-RPC's <double> has no
 * exponent, so a finite double written in full takes up to 309 digits (1.8e308) or 326 characters
 * (4.9e-324 as 0.000...49, its shortest digits): an xmlrpc-c server (plecs-emu) writes them so.
 */
#define NUMBER_TEXT_MAX 400

/* What an open element is to the decoder. */
enum role {
	R_DOC,      /* before <methodResponse> */
	R_RESPONSE, /* <methodResponse> */
	R_PARAMS,
	R_PARAM,
	R_FAULT,
	R_VALUE,
	R_ARRAY,
	R_DATA,
	R_STRUCT,
	R_MEMBER,
	R_NAME,
	R_NUMBER,   /* <double>, <i4>, <int> or <i8> where a number belongs */
	R_BASE64,   /* a case's MAT bytes */
	R_TEXT,     /* the fault's <int> code or <string> text */
	R_SKIP,     /* read and let go: what simq does not need, or the rest of a case that failed */
};

/* What a <value> (and the array, struct or member in it) holds for the answer. */
enum purpose {
	P_NONE,
	P_LIST,         /* the answer to a list call: one item per case */
	P_CASE,         /* one case's result: {Time, Values} or MAT bytes */
	P_TIME,         /* Time: [t...] */
	P_VALUES,       /* Values: [[...], ...] */
	P_SIGNAL,       /* one signal of Values */
	P_TIME_POINT,   /* a number of Time */
	P_SIGNAL_POINT, /* a number of a signal */
	P_FAULT,        /* the fault struct */
	P_FAULT_CODE,
	P_FAULT_STRING,
	P_OTHER,        /* a member simq does not read */
};

/* The element names of XML-RPC, known by one string comparison each. */
enum tag {
	T_OTHER,
	T_METHOD_RESPONSE,
	T_PARAMS,
	T_PARAM,
	T_FAULT,
	T_VALUE,
	T_ARRAY,
	T_DATA,
	T_STRUCT,
	T_MEMBER,
	T_NAME,
	T_DOUBLE,
	T_INT,      /* <i4> or <int> */
	T_I8,
	T_STRING,
	T_BASE64,
};

static enum tag tag_of(const char *name)
{
	static const struct {
		const char *name;
		enum tag tag;
	} by_first[][2] = {
		['a'] = {{"array", T_ARRAY}},
		['b'] = {{"base64", T_BASE64}},
		['d'] = {{"double", T_DOUBLE}, {"data", T_DATA}},
		['f'] = {{"fault", T_FAULT}},
		['i'] = {{"i4", T_INT}, {"int", T_INT}},
		['m'] = {{"member", T_MEMBER}, {"methodResponse", T_METHOD_RESPONSE}},
		['n'] = {{"name", T_NAME}},
		['p'] = {{"param", T_PARAM}, {"params", T_PARAMS}},
		['s'] = {{"struct", T_STRUCT}, {"string", T_STRING}},
		['v'] = {{"value", T_VALUE}},
	};
	unsigned char first = (unsigned char)name[0];

	if (first >= sizeof by_first / sizeof by_first[0])
		return T_OTHER;
	if (first == 'i' && name[1] == '8' && name[2] == '\0')
		return T_I8;
	for (int i = 0; i < 2 && by_first[first][i].name; i++)
		if (strcmp(name, by_first[first][i].name) == 0)
			return by_first[first][i].tag;
	return T_OTHER;
}

struct frame {
	unsigned char role, purpose;
	unsigned char member;   /* R_MEMBER: the purpose its name gives its value (P_NONE before the name) */
	char number;            /* R_NUMBER: 'd' (double), 'i' (i4 or int), 'l' (i8) */
	bool container;         /* an <array> or a <struct>: counts toward the nesting */
	bool filled;            /* its one child came: a value's type, the response's params, the param's value */
};

/* A column of doubles while it grows. */
struct column {
	double *v;
	size_t len, cap;
};

/* The case being read. */
struct case_state {
	size_t index;
	int depth;              /* of its <value> */
	char *error;            /* why it has no result; the rest of it is skipped */
	bool permanent;         /* error is in what PLECS computed for it (a number not finite): the case's */
	bool plain, mat;        /* its value is a struct, or base64 */
	bool seen_time, seen_values;
	struct column time, values;
	size_t signals, points; /* points: signal 1's length */
	size_t signal_len;      /* numbers of the signal being read */
	struct result_summary *summary; /* per signal; mean and rms hold the sum and the sum of squares until the end */
	size_t summary_cap;
	struct buf mat_bytes;
	uint32_t b64_bits;
	int b64_nbits;
	bool b64_padded;
};

struct plecs_answer {
	XML_Parser xml;
	size_t ncases;
	bool as_list;
	struct result_data *results;
	size_t begun;           /* cases whose result has begun (in order) */
	bool list_broken;       /* a list call's answer is not a list */
	size_t hint;            /* the points of the last case: the next one likely has as many */
	size_t bytes;           /* fed so far */
	size_t fed;             /* of them, given to expat; the rest read_points read */
	long long tag_end;      /* of the bytes given to expat, where the last tag it reported ends */
	long long fast_at;      /* >= 0 while read_points reads: the byte of the answer it is at */
	char *error;            /* why the answer is refused (BROKEN), set once; the parser stops there */
	bool fault, has_code, has_string;
	bool carries_results;   /* the response's <param> value began: no fault can follow */
	struct buf fault_text;
	bool fault_cut;
	struct frame frames[PROTO_MAX_XML_DEPTH + 1];
	int depth, nesting;
	int kill_above;         /* > 0: frames above this depth become R_SKIP (their case failed) */
	struct case_state c;
	char text[NUMBER_TEXT_MAX + 1]; /* a number's or a member name's text, blanks around it dropped */
	size_t text_len;
	bool text_long;
};

static void stop(struct plecs_answer *a, const char *prefix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Refuses the answer: prefix, what is wrong, and at which byte; the parser stops. */
static void stop(struct plecs_answer *a, const char *prefix, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (a->error)
		return;
	buf_adds(&b, prefix);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	long long at = a->fast_at;

	/* Expat counts only the bytes it was given: every byte read_points read came before its own. */
	if (at < 0 && (at = XML_GetCurrentByteIndex(a->xml)) >= 0)
		at += (long long)(a->bytes - a->fed);
	buf_addf(&b, " (byte %lld)", at >= 0 ? at : (long long)a->bytes);
	a->error = buf_detach(&b);
	XML_StopParser(a->xml, XML_FALSE);
}

/* Not XML-RPC at all: what xmlrpc-c would also have refused. */
#define BROKEN(a, ...) stop(a, "PLECS's answer is not XML-RPC: ", __VA_ARGS__)
/* Past one of the guards xmlscan keeps for xmlrpc-c (issue 14). */
#define REFUSED(a, ...) stop(a, "PLECS's answer is not XML-RPC simq reads: it ", __VA_ARGS__)

static void column_add(struct column *c, double x, size_t hint)
{
	if (c->len == c->cap) {
		c->cap = c->cap ? 2 * c->cap : hint > 16 ? hint : 256;
		c->v = xreallocarray(c->v, c->cap, sizeof *c->v);
	}
	c->v[c->len++] = x;
}

/* The column's numbers in a block of their exact size (never NULL), handed over. */
static double *column_take(struct column *c)
{
	double *v;

	if (c->len == 0) {
		free(c->v);
		v = xcalloc(1, sizeof *v);
	} else {
		v = xreallocarray(c->v, c->len, sizeof *v);
	}
	*c = (struct column){0};
	return v;
}

static void case_clear(struct case_state *c)
{
	free(c->error);
	free(c->time.v);
	free(c->values.v);
	free(c->summary);
	buf_free(&c->mat_bytes);
	*c = (struct case_state){0};
}

static void case_fail(struct plecs_answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The case being read has no result, for the reason given; the rest of it is skipped. */
static void case_fail(struct plecs_answer *a, const char *fmt, ...)
{
	va_list ap;

	if (a->c.error == NULL) {
		va_start(ap, fmt);
		a->c.error = xvasprintf(fmt, ap);
		va_end(ap);
	}
	a->kill_above = a->c.depth;
}

/* Case index begins with the <value> about to open (one deeper than the element open now). */
static void case_begin(struct plecs_answer *a, size_t index)
{
	case_clear(&a->c);
	a->c.index = index;
	a->c.depth = a->depth + 1;
	a->begun = index + 1;
}

/* Each signal's summary from its sums, as result_summarize computes it (values: the signals' columns). */
static void summaries_finish(struct result_summary *s, size_t signals, size_t points, const double *values)
{
	for (size_t k = 0; k < signals; k++)
		result_summary_finish(&s[k], values + k * points, points);
}

/* A {Time, Values} case read whole: its columns and summaries, or what is wrong with it. */
static void case_plain_end(struct plecs_answer *a, struct result_data *out)
{
	struct case_state *c = &a->c;

	if (!c->seen_time || !c->seen_values) {
		out->error = xasprintf("PLECS's result lacks %s: a Plain result is a struct {Time: [...], Values: [[...], "
				       "...]}", !c->seen_time && !c->seen_values ? "Time and Values"
				       : !c->seen_time ? "Time" : "Values");
		return;
	}
	if (c->signals > 0 && c->points != c->time.len) {
		out->error = xasprintf("PLECS's signals hold %zu numbers each and its Time %zu: every signal holds a "
				       "number for each time", c->points, c->time.len);
		return;
	}
	out->points = c->time.len;
	out->signals = c->signals;
	out->time = column_take(&c->time);
	out->values = column_take(&c->values);
	summaries_finish(c->summary, c->signals, out->points, out->values);
	out->summary = c->summary ? c->summary : xcalloc(1, sizeof *out->summary);
	c->summary = NULL;
	a->hint = out->points;
}

/* The case's <value> ended: its result, or why it has none. */
static void case_end(struct plecs_answer *a)
{
	struct case_state *c = &a->c;
	struct result_data *out = &a->results[c->index];
	char *err = NULL;

	if (c->error) {
		out->error = c->error;
		out->permanent = c->permanent;
		c->error = NULL;
	} else if (c->mat && c->b64_nbits >= 6) {
		out->error = xstrdup("PLECS's MatFile result is not base64: it ends part way through a byte");
	} else if (c->mat) {
		size_t len = c->mat_bytes.len;
		unsigned char *bytes = (unsigned char *)buf_detach(&c->mat_bytes);

		if (plecs_decode_mat(bytes, len, out, &err)) {
			out->mat = bytes;
			out->mat_len = len;
		} else {
			out->error = err;
			free(bytes);
		}
	} else if (c->plain) {
		case_plain_end(a, out);
	} else {
		out->error = xstrdup("PLECS's result is not a struct {Time, Values} nor MAT bytes");
	}
	case_clear(c);
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Keeps a number's or a name's text, up to NUMBER_TEXT_MAX characters, blanks before it dropped. */
static void keep_text(struct plecs_answer *a, const char *s, size_t len)
{
	while (a->text_len == 0 && len > 0 && blank(*s))
		s++, len--;
	size_t room = NUMBER_TEXT_MAX - a->text_len, n = len < room ? len : room;

	/* Expat hands a number's text over whole, as a rule: one copy. */
	memcpy(a->text + a->text_len, s, n);
	a->text_len += n;
	for (size_t i = n; i < len && !a->text_long; i++)
		a->text_long = !blank(s[i]);
}

/* The text kept, blanks after it dropped. */
static void text_end(struct plecs_answer *a)
{
	while (a->text_len > 0 && blank(a->text[a->text_len - 1]))
		a->text_len--;
	a->text[a->text_len] = '\0';
}

static void text_reset(struct plecs_answer *a)
{
	a->text_len = 0;
	a->text[0] = '\0';
	a->text_long = false;
}

/* The text kept as a number of the type given; false when it is not a finite one. */
static bool text_number(const struct plecs_answer *a, char type, double *x)
{
	const char *t = a->text;
	char *end;

	if (a->text_len == 0 || a->text_long || type == 's')
		return false;
	/* Decimal only: no "inf", "nan" or hex, which strtod would take. */
	if (type == 'd')
		return decimal_parse(t, a->text_len, x);
	errno = 0;
	if (strspn(t, "0123456789+-") != a->text_len)
		return false;
	long long k = strtoll(t, &end, 10);

	if (*end != '\0' || errno == ERANGE || (type == 'i' && (k < INT32_MIN || k > INT32_MAX)))
		return false;
	*x = (double)k;
	return true;
}

/* Whether the number text kept is one that is not finite (inf, nan, beyond a double's range), not garbage. */
static bool text_not_finite(const struct plecs_answer *a)
{
	char *end;
	double x;

	if (a->text_len == 0 || a->text_long)
		return false;
	errno = 0;
	x = strtod(a->text, &end);
	return end != a->text && *end == '\0' && (!isfinite(x) || (errno == ERANGE && fabs(x) > 1));
}

/* The text kept, as a message shows it; type 's': an untyped value's, a string. */
static char *text_shown(const struct plecs_answer *a, char type)
{
	struct buf b = BUF_INIT;

	if (a->text_long) {
		buf_addf(&b, "%s of more than %d characters", type == 's' ? "a string" : "a number", NUMBER_TEXT_MAX);
		return buf_detach(&b);
	}
	buf_adds(&b, type == 's' ? "the string \"" : "\"");
	buf_add_shown(&b, a->text, a->text_len);
	buf_addc(&b, '"');
	return buf_detach(&b);
}

/* A number of Time or of a signal (purpose P_TIME_POINT or P_SIGNAL_POINT), read: into its column and summary. */
static void point_add(struct plecs_answer *a, unsigned char purpose, double x)
{
	struct case_state *c = &a->c;

	if (purpose == P_TIME_POINT) {
		column_add(&c->time, x, a->hint);
		return;
	}
	struct result_summary *s = &c->summary[c->signals - 1];

	column_add(&c->values, x, a->hint);
	c->signal_len++;
	if (x < s->min)
		s->min = x;
	if (x > s->max)
		s->max = x;
	s->mean += x;
	s->rms += x * x;
	s->final = x;
}

/* A number of Time or of a signal ended. */
static void number_end(struct plecs_answer *a, const struct frame *f)
{
	struct case_state *c = &a->c;
	double x;

	text_end(a);
	if (!text_number(a, f->number, &x)) {
		char *shown = text_shown(a, f->number);

		/* PLECS answered whole, and computed a number that is not finite: asking again answers the same. */
		bool not_finite = text_not_finite(a);
		const char *what = not_finite	  ? "a finite number"
				   : a->text_long ? "a number simq reads: no double needs as many"
						  : "a number XML-RPC allows there";

		if (c->error == NULL)
			c->permanent = not_finite;
		if (f->purpose == P_TIME_POINT)
			case_fail(a, "PLECS's Time holds %s at point %zu, which is not %s", shown, c->time.len + 1, what);
		else
			case_fail(a, "PLECS's signal %zu holds %s at point %zu, which is not %s", c->signals, shown,
				  c->signal_len + 1, what);
		free(shown);
		return;
	}
	point_add(a, f->purpose, x);
}

/* A signal of Values begins. */
static void signal_begin(struct plecs_answer *a)
{
	struct case_state *c = &a->c;

	if (c->signals == c->summary_cap) {
		c->summary_cap = c->summary_cap ? 2 * c->summary_cap : 4;
		c->summary = xreallocarray(c->summary, c->summary_cap, sizeof *c->summary);
	}
	c->summary[c->signals++] = (struct result_summary){.min = INFINITY, .max = -INFINITY};
	c->signal_len = 0;
}

static void signal_end(struct plecs_answer *a)
{
	struct case_state *c = &a->c;

	if (c->signals == 1)
		c->points = c->signal_len;
	else if (c->signal_len != c->points)
		case_fail(a, "PLECS's Values are ragged: signal %zu holds %zu numbers and signal 1 %zu", c->signals,
			  c->signal_len, c->points);
}

static const signed char b64_value[256] = {
	['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
	['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
	['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

/* MAT bytes as their base64 text arrives (blanks and line breaks skipped, '=' pads the end). */
static void base64_add(struct plecs_answer *a, const char *s, size_t len)
{
	struct case_state *c = &a->c;
	unsigned char out[768];
	size_t n = 0;

	for (size_t i = 0; i < len && c->error == NULL; i++) {
		unsigned char ch = (unsigned char)s[i];
		int v = b64_value[ch] - 1;

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (ch == '=') {
			c->b64_padded = true;
			c->b64_nbits = 0;
			continue;
		}
		if (v < 0 || c->b64_padded) {
			case_fail(a, "PLECS's MatFile result is not base64: it holds '%c' (0x%02x)%s",
				  ch >= 0x20 && ch < 0x7f ? ch : '?', ch, c->b64_padded ? " after the padding" : "");
			break;
		}
		c->b64_bits = c->b64_bits << 6 | (uint32_t)v;
		c->b64_nbits += 6;
		if (c->b64_nbits >= 8) {
			c->b64_nbits -= 8;
			out[n++] = (unsigned char)(c->b64_bits >> c->b64_nbits);
			if (n == sizeof out) {
				buf_add(&c->mat_bytes, out, n);
				n = 0;
			}
		}
	}
	buf_add(&c->mat_bytes, out, n);
}

/* A member's name ended: what its value will hold. */
static void name_end(struct plecs_answer *a, struct frame *member)
{
	static const struct {
		unsigned char in;
		const char *name;
		unsigned char purpose;
	} names[] = {
		{P_CASE, "Time", P_TIME},
		{P_CASE, "Values", P_VALUES},
		{P_FAULT, "faultCode", P_FAULT_CODE},
		{P_FAULT, "faultString", P_FAULT_STRING},
	};

	member->member = P_OTHER;
	text_end(a);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].in == member->purpose && !a->text_long && strcmp(a->text, names[i].name) == 0)
			member->member = names[i].purpose;
}

/* The element a <value> of this purpose holds, once its name is known: the frame it opens. */
static void value_child(struct plecs_answer *a, const struct frame *value, enum tag tag, const char *name,
			struct frame *f)
{
	unsigned char p = value->purpose;
	bool array = tag == T_ARRAY, number = tag == T_DOUBLE || tag == T_INT || tag == T_I8;

	f->purpose = p;
	f->number = tag == T_DOUBLE ? 'd' : tag == T_I8 ? 'l' : 'i';
	switch (p) {
	case P_LIST:
		if (array)
			f->role = R_ARRAY;
		else
			a->list_broken = true;
		break;
	case P_CASE:
		if (tag == T_STRUCT)
			f->role = R_STRUCT, a->c.plain = true;
		else if (tag == T_BASE64)
			f->role = R_BASE64, a->c.mat = true;
		else
			case_fail(a, "PLECS's result is a <%s>, not a struct {Time, Values} nor MAT bytes", name);
		break;
	case P_TIME:
	case P_VALUES:
	case P_SIGNAL:
		if (array) {
			f->role = R_ARRAY;
			if (p == P_SIGNAL)
				signal_begin(a);
		} else if (p == P_SIGNAL) {
			case_fail(a, "PLECS's Values hold a <%s> as signal %zu: Values hold one array of numbers per "
				  "signal", name, a->c.signals + 1);
		} else {
			case_fail(a, "PLECS's %s is a <%s>, not an array", p == P_TIME ? "Time" : "Values", name);
		}
		break;
	case P_TIME_POINT:
	case P_SIGNAL_POINT:
		if (number)
			f->role = R_NUMBER, text_reset(a);
		else if (p == P_TIME_POINT)
			case_fail(a, "PLECS's Time holds a <%s> at point %zu, not a number", name, a->c.time.len + 1);
		else
			case_fail(a, "PLECS's signal %zu holds a <%s> at point %zu, not a number", a->c.signals, name,
				  a->c.signal_len + 1);
		break;
	case P_FAULT:
		if (tag != T_STRUCT)
			BROKEN(a, "its fault is a <%s>, not a struct {faultCode, faultString}", name);
		f->role = R_STRUCT;
		break;
	case P_FAULT_CODE:
	case P_FAULT_STRING:
		if (tag != (p == P_FAULT_CODE ? T_INT : T_STRING))
			BROKEN(a, "its %s is a <%s>", p == P_FAULT_CODE ? "faultCode" : "faultString", name);
		f->role = R_TEXT;
		text_reset(a);
		if (p == P_FAULT_STRING)
			buf_truncate(&a->fault_text, 0);
		break;
	}
}

/* The purpose of a <value> in an array's <data> of this purpose; a list's item begins its case. */
static unsigned char item_purpose(struct plecs_answer *a, unsigned char p)
{
	switch (p) {
	case P_LIST:
		if (a->begun >= a->ncases)
			return P_OTHER; /* more results than cases: not read */
		case_begin(a, a->begun);
		return P_CASE;
	case P_TIME:
		return P_TIME_POINT;
	case P_VALUES:
		return P_SIGNAL;
	default:
		return P_SIGNAL_POINT;
	}
}

/* A <value> of a member: the purpose its name gives, Time and Values once each. */
static unsigned char member_purpose(struct plecs_answer *a, unsigned char p)
{
	bool *seen = p == P_TIME ? &a->c.seen_time : p == P_VALUES ? &a->c.seen_values : NULL;

	if (seen && *seen)
		case_fail(a, "PLECS's result holds %s twice", p == P_TIME ? "Time" : "Values");
	else if (seen)
		*seen = true;
	return p;
}

/* Elements named in messages by their role. */
static const char *const role_names[] = {
	[R_RESPONSE] = "methodResponse",
	[R_PARAMS] = "params",
	[R_PARAM] = "param",
	[R_FAULT] = "fault",
};

/* The role of a child element, given its parent's: the grammar of an XML-RPC response (R_SKIP: none). */
static enum role child_role(enum role parent, enum tag tag)
{
	static const unsigned char grammar[R_SKIP + 1][T_BASE64 + 1] = {
		[R_DOC] = {[T_METHOD_RESPONSE] = R_RESPONSE},
		[R_RESPONSE] = {[T_PARAMS] = R_PARAMS, [T_FAULT] = R_FAULT},
		[R_PARAMS] = {[T_PARAM] = R_PARAM},
		[R_PARAM] = {[T_VALUE] = R_VALUE},
		[R_FAULT] = {[T_VALUE] = R_VALUE},
		[R_ARRAY] = {[T_DATA] = R_DATA},
		[R_DATA] = {[T_VALUE] = R_VALUE},
		[R_STRUCT] = {[T_MEMBER] = R_MEMBER},
		[R_MEMBER] = {[T_NAME] = R_NAME, [T_VALUE] = R_VALUE},
	};
	/* R_DOC is 0: a pair the table does not name is no child. */
	unsigned char role = grammar[parent][tag];

	return role == R_DOC ? R_SKIP : (enum role)role;
}

/* The frame a child element opens, given its parent's. */
static void child(struct plecs_answer *a, struct frame *top, enum tag tag, const char *name, struct frame *f)
{
	if (top->role == R_VALUE) {
		if (top->filled) {
			BROKEN(a, "a <value> holds a <%s> after its value", name);
			return;
		}
		top->filled = true;
		if (top->purpose != P_OTHER)
			value_child(a, top, tag, name, f);
		return;
	}
	f->role = child_role(top->role, tag);
	if (f->role == R_SKIP) {
		BROKEN(a, "<%s> where XML-RPC has none", name);
		return;
	}
	switch (top->role) {
	case R_RESPONSE:
	case R_PARAMS:
	case R_PARAM:
	case R_FAULT:
		if (top->filled)
			BROKEN(a, "its <%s> holds a second <%s>", role_names[top->role], name);
		top->filled = true;
		a->carries_results |= top->role == R_PARAM;
		if (top->role == R_PARAM && a->as_list)
			f->purpose = P_LIST;
		else if (top->role == R_PARAM)
			case_begin(a, 0), f->purpose = P_CASE;
		else if (top->role == R_FAULT)
			f->purpose = P_FAULT, a->fault = true;
		break;
	case R_ARRAY:
		f->purpose = top->purpose;
		break;
	case R_DATA:
		f->purpose = item_purpose(a, top->purpose);
		break;
	case R_STRUCT:
		f->purpose = top->purpose;
		break;
	case R_MEMBER:
		if (f->role == R_NAME && top->member != P_NONE)
			BROKEN(a, "a <member> holds a second <name>");
		else if (f->role == R_VALUE && top->member == P_NONE)
			BROKEN(a, "a <member> holds its <value> before its <name>");
		else if (f->role == R_NAME)
			text_reset(a);
		else
			f->purpose = member_purpose(a, top->member);
		break;
	}
}

/* Frames above a failed case's value become R_SKIP: the rest of the case is read and let go. */
static void kill_case_frames(struct plecs_answer *a)
{
	if (a->kill_above <= 0)
		return;
	for (int d = a->kill_above + 1; d <= a->depth; d++)
		a->frames[d].role = R_SKIP;
	a->kill_above = 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct plecs_answer *a = ud;
	struct frame *top, *f;
	enum tag tag;

	if (a->error)
		return;
	if (a->depth == PROTO_MAX_XML_DEPTH) {
		REFUSED(a, "nests elements deeper than %d", PROTO_MAX_XML_DEPTH);
		return;
	}
	/* The new frame is made in place: one built on the stack and copied stalls on its byte fields. */
	top = &a->frames[a->depth];
	f = &a->frames[a->depth + 1];
	*f = (struct frame){.role = R_SKIP};
	tag = tag_of(name);
	f->container = tag == T_ARRAY || tag == T_STRUCT;
	if (f->container && ++a->nesting > PROTO_MAX_NESTING) {
		REFUSED(a, "nests arrays and structs deeper than %d", PROTO_MAX_NESTING);
		return;
	}
	if (top->role != R_SKIP)
		child(a, top, tag, name, f);
	if (f->role == R_VALUE)
		text_reset(a);
	a->depth++;
	kill_case_frames(a);
}

/* An element that must hold its one child (or a fault its two members) ended without it. */
static void check_filled(struct plecs_answer *a, const struct frame *f)
{
	if (f->role == R_RESPONSE && !f->filled)
		BROKEN(a, "its <methodResponse> holds neither <params> nor <fault>");
	else if ((f->role == R_PARAMS || f->role == R_PARAM || f->role == R_FAULT) && !f->filled)
		BROKEN(a, "its <%s> holds no <%s>", role_names[f->role], f->role == R_PARAMS ? "param" : "value");
	else if (f->role == R_MEMBER && (f->member == P_NONE || !f->filled))
		BROKEN(a, "a <member> lacks its <name> or its <value>");
	else if (f->role == R_STRUCT && f->purpose == P_FAULT && !(a->has_code && a->has_string))
		BROKEN(a, "its fault lacks faultCode or faultString");
}

/* A <value> ended: an untyped one is a string, which only a faultString may be; a case ends. */
static void value_end(struct plecs_answer *a, const struct frame *f)
{
	if (!f->filled) {
		switch (f->purpose) {
		case P_LIST:
			a->list_broken = true;
			break;
		case P_CASE:
			case_fail(a, "PLECS's result is a string, not a struct {Time, Values} nor MAT bytes");
			break;
		case P_TIME:
		case P_VALUES:
		case P_SIGNAL:
			case_fail(a, "PLECS's %s is a string, not an array", f->purpose == P_TIME ? "Time" : "Values");
			break;
		case P_TIME_POINT:
		case P_SIGNAL_POINT:
			/* The text is still kept: say what it was. */
			number_end(a, &(struct frame){.purpose = f->purpose, .number = 's'});
			break;
		case P_FAULT:
		case P_FAULT_CODE:
			BROKEN(a, "its fault is not a struct {faultCode: int, faultString: string}");
			break;
		case P_FAULT_STRING:
			a->has_string = true;
			break;
		}
	}
	if (f->purpose == P_CASE)
		case_end(a);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct plecs_answer *a = ud;
	struct frame *f = &a->frames[a->depth];
	double code;

	if (a->error || a->depth == 0)
		return;
	a->depth--;
	if (f->container)
		a->nesting--;
	a->frames[a->depth].filled |= f->role == R_VALUE && a->frames[a->depth].role == R_MEMBER;
	switch (f->role) {
	case R_VALUE:
		value_end(a, f);
		break;
	case R_NAME:
		name_end(a, &a->frames[a->depth]);
		break;
	case R_NUMBER:
		number_end(a, f);
		break;
	case R_ARRAY:
		if (f->purpose == P_SIGNAL)
			signal_end(a);
		break;
	case R_TEXT:
		text_end(a);
		if (f->purpose == P_FAULT_STRING)
			a->has_string = true;
		else if (text_number(a, 'i', &code))
			a->has_code = true;
		else
			BROKEN(a, "its faultCode is not an integer");
		break;
	default:
		check_filled(a, f);
		break;
	}
	kill_case_frames(a);
}

/* PLECS's fault text, cut at PROTO_MAX_STRING bytes (on a character's first byte). */
static void fault_add(struct plecs_answer *a, const char *s, size_t len)
{
	size_t room = PROTO_MAX_STRING - a->fault_text.len;

	if (len > room) {
		while (room > 0 && ((unsigned char)s[room] & 0xc0) == 0x80)
			room--;
		a->fault_cut = true;
		len = room;
	}
	buf_add(&a->fault_text, s, len);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct plecs_answer *a = ud;
	const struct frame *f = &a->frames[a->depth];

	if (a->error)
		return;
	switch (f->role) {
	case R_NAME:
	case R_NUMBER:
		keep_text(a, s, (size_t)len);
		break;
	case R_BASE64:
		base64_add(a, s, (size_t)len);
		kill_case_frames(a);
		break;
	case R_TEXT:
		if (f->purpose == P_FAULT_STRING)
			fault_add(a, s, (size_t)len);
		else
			keep_text(a, s, (size_t)len);
		break;
	case R_VALUE:
		/* Text before a typed child is blanks; an untyped value's text is its string. */
		if (f->purpose == P_FAULT_STRING && !f->filled)
			fault_add(a, s, (size_t)len);
		else if ((f->purpose == P_TIME_POINT || f->purpose == P_SIGNAL_POINT) && !f->filled)
			keep_text(a, s, (size_t)len);
		break;
	}
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	REFUSED(ud, "has a <!DOCTYPE declaration (and so perhaps entities); XML-RPC has none");
}

/*
 * Expat reads a column of numbers at some 300 ns a number, most of an answer's cost.  A column's
 * items are all "<value><double>N</double></value>" as xmlrpc-c writes them, so read_points reads
 * those itself: a finite number straight into its column (point_direct), any other through the
 * same handlers expat would have called, with the same events (point_events); expat reads
 * everything else.  It goes on only from where expat stopped at the end of a tag that
 * left the decoder in the <data> of Time or of a signal (so no comment, CDATA or half-read markup
 * is open), and takes only items in that exact form whose text is a number's characters: anything
 * else (a blank inside, an entity, <i4>, an item cut by the end of the piece) is expat's.  So the
 * answer decodes the same, errors and their byte included, whatever pieces it comes in
 * (fuzz-result checks this).
 */
static const char point_open[] = "<value><double>", point_close[] = "</double></value>";

#define POINT_OPEN (sizeof point_open - 1)
#define POINT_CLOSE (sizeof point_close - 1)
/* The longest number read_points takes: any double written in full as %.17g is shorter. */
#define POINT_TEXT_MAX 32

static void XMLCALL on_tag_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct plecs_answer *a = ud;

	on_start(ud, name, attrs);
	a->tag_end = XML_GetCurrentByteIndex(a->xml) + XML_GetCurrentByteCount(a->xml);
}

static void XMLCALL on_tag_end(void *ud, const XML_Char *name)
{
	struct plecs_answer *a = ud;

	on_end(ud, name);
	a->tag_end = XML_GetCurrentByteIndex(a->xml) + XML_GetCurrentByteCount(a->xml);
}

/* Whether the next bytes may be read_points's: see above. */
static bool at_points(const struct plecs_answer *a)
{
	const struct frame *top = &a->frames[a->depth];

	return a->error == NULL && a->tag_end == (long long)a->fed && top->role == R_DATA &&
	       (top->purpose == P_TIME || top->purpose == P_SIGNAL);
}

/*
 * The item whose text starts at text (room bytes before its closing tags could start) read straight
 * into its column, when that text is a finite number and the two elements it opens stay within
 * PROTO_MAX_XML_DEPTH: what its five events would change, but for the frames above the <data> and
 * the text they leave behind, which no handler reads before the next element replaces them.  The
 * text's length; 0 when the events must read the item.
 */
static size_t point_direct(struct plecs_answer *a, const char *text, size_t room)
{
	double x;
	size_t n = decimal_scan(text, room <= POINT_TEXT_MAX ? room : POINT_TEXT_MAX + 1, &x);

	if (n == 0 || n > POINT_TEXT_MAX || memcmp(text + n, point_close, POINT_CLOSE) != 0 ||
	    a->depth + 2 > PROTO_MAX_XML_DEPTH)
		return 0;
	point_add(a, a->frames[a->depth].purpose == P_TIME ? P_TIME_POINT : P_SIGNAL_POINT, x);
	return n;
}

/*
 * The item at byte at of the answer, its text at text, through the handlers with the events expat
 * would report, each at its byte (so an error names the same one): for the items point_direct
 * leaves, such as one whose number is not finite.  The text's length; 0 when the item is not in
 * the plain form (expat must read it).
 */
static size_t point_events(struct plecs_answer *a, const char *text, size_t room, long long at)
{
	size_t n = 0;

	while (n < room && n <= POINT_TEXT_MAX && decimal_char(text[n]))
		n++;
	if (n == 0 || n > POINT_TEXT_MAX || memcmp(text + n, point_close, POINT_CLOSE) != 0)
		return 0;
	a->fast_at = at;
	on_start(a, "value", NULL);
	a->fast_at = at + (long long)(sizeof "<value>" - 1);
	on_start(a, "double", NULL);
	a->fast_at = at + (long long)POINT_OPEN;
	on_text(a, text, (int)n);
	a->fast_at += (long long)n;
	on_end(a, "double");
	a->fast_at += (long long)(sizeof "</double>" - 1);
	on_end(a, "value");
	a->fast_at = -1;
	return n;
}

/* Reads the points at the start of data, up to the first that is not in their plain form; how many bytes. */
static size_t read_points(struct plecs_answer *a, const char *data, size_t len)
{
	size_t used = 0;

	while (at_points(a)) {
		size_t i = used, n;

		while (i < len && blank(data[i]))
			i++;
		if (len - i < POINT_OPEN + POINT_CLOSE + 1 || memcmp(data + i, point_open, POINT_OPEN) != 0)
			break;
		const char *text = data + i + POINT_OPEN;
		size_t room = len - i - POINT_OPEN - POINT_CLOSE;

		if ((n = point_direct(a, text, room)) == 0 &&
		    (n = point_events(a, text, room, (long long)(a->bytes + i))) == 0)
			break;
		used = i + POINT_OPEN + n + POINT_CLOSE;
	}
	a->bytes += used;
	return used;
}

/* Gives expat data up to the blanks before the next "<value><double>" past its first byte; how many bytes. */
static size_t to_expat(struct plecs_answer *a, const char *data, size_t len)
{
	size_t from = 0, n = len;

	while (from < len && blank(data[from]))
		from++;
	from++;
	const char *next = from < len ? memmem(data + from, len - from, point_open, POINT_OPEN) : NULL;

	if (next) {
		while (next > data + from && blank(next[-1]))
			next--;
		n = (size_t)(next - data);
	}
	if (n > INT_MAX / 2)
		n = INT_MAX / 2;
	if (XML_Parse(a->xml, data, (int)n, XML_FALSE) == XML_STATUS_ERROR)
		BROKEN(a, "%s", XML_ErrorString(XML_GetErrorCode(a->xml)));
	a->bytes += n;
	a->fed += n;
	return n;
}

struct plecs_answer *plecs_answer_new(size_t ncases, bool as_list)
{
	struct plecs_answer *a = xcalloc(1, sizeof *a);

	a->xml = XML_ParserCreate(NULL);
	if (a->xml == NULL) {
		fprintf(stderr, "simq: out of memory (expat)\n");
		abort();
	}
	a->ncases = ncases;
	a->as_list = as_list;
	a->results = xcalloc(ncases ? ncases : 1, sizeof *a->results);
	XML_SetUserData(a->xml, a);
	a->tag_end = a->fast_at = -1;
	XML_SetElementHandler(a->xml, on_tag_start, on_tag_end);
	XML_SetCharacterDataHandler(a->xml, on_text);
	XML_SetStartDoctypeDeclHandler(a->xml, on_doctype);
	return a;
}

bool plecs_answer_feed(struct plecs_answer *a, const char *data, size_t len)
{
	const char *nul = memchr(data, '\0', len);

	if (nul && a->error == NULL) {
		a->bytes += (size_t)(nul - data);
		a->error = xasprintf("PLECS's answer is not XML-RPC simq reads: it has a NUL byte: XML-RPC is UTF-8 text "
				     "(byte %zu)", a->bytes);
	}
	while (len > 0 && a->error == NULL) {
		size_t n = read_points(a, data, len);

		if (n == 0)
			n = to_expat(a, data, len);
		data += n;
		len -= n;
	}
	return a->error == NULL;
}

enum plecs_answer_end plecs_answer_finish(struct plecs_answer *a)
{
	if (a->error == NULL && XML_Parse(a->xml, "", 0, XML_TRUE) == XML_STATUS_ERROR)
		BROKEN(a, "%s", XML_ErrorString(XML_GetErrorCode(a->xml)));
	if (a->error)
		return PLECS_ANSWER_BROKEN;
	if (a->fault) {
		if (a->fault_cut)
			buf_adds(&a->fault_text, " [cut]");
		return PLECS_ANSWER_FAULT;
	}
	for (size_t i = a->begun; i < a->ncases; i++)
		a->results[i].error = xstrdup(a->list_broken ? "PLECS's answer to a list of cases is not a list"
							     : "PLECS's answer holds fewer results than cases");
	return PLECS_ANSWER_RESULTS;
}

bool plecs_answer_has_results(const struct plecs_answer *a)
{
	return a->carries_results && a->error == NULL;
}

const char *plecs_answer_error(const struct plecs_answer *a)
{
	return a->error ? a->error : a->fault ? buf_str(&a->fault_text) : "";
}

struct result_data *plecs_answer_take(struct plecs_answer *a)
{
	struct result_data *r = a->results;

	a->results = NULL;
	return r;
}

void plecs_answer_free(struct plecs_answer **ap)
{
	struct plecs_answer *a = *ap;

	if (a == NULL)
		return;
	XML_ParserFree(a->xml);
	case_clear(&a->c);
	for (size_t i = 0; a->results && i < a->ncases; i++)
		result_data_free(&a->results[i]);
	free(a->results);
	free(a->error);
	buf_free(&a->fault_text);
	free(a);
	*ap = NULL;
}
