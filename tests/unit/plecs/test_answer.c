/*
 * plecs/answer: every shape of plecs.simulate's answer (DESIGN 13) decoded
 * into columns of doubles, bit for bit, with each signal's summary; every
 * fault and hostile answer refused with a message saying why.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plecs/answer.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* A decoded answer: its end, its error text and its results (when RESULTS). */
struct decoded {
	enum plecs_answer_end end;
	char *error;
	struct result_data *r;
	size_t n;
};

/* Decodes xml (len bytes) for n cases, fed in pieces of at most piece bytes (0: whole). */
static struct decoded decode_n(const char *xml, size_t len, size_t n, bool as_list, size_t piece)
{
	struct plecs_answer *a = plecs_answer_new(n, as_list);
	struct decoded d = {.n = n};

	for (size_t off = 0; off < len;) {
		size_t k = piece && len - off > piece ? piece : len - off;

		if (!plecs_answer_feed(a, xml + off, k))
			break;
		off += k;
	}
	d.end = plecs_answer_finish(a);
	d.error = xstrdup(plecs_answer_error(a));
	if (d.end == PLECS_ANSWER_RESULTS)
		d.r = plecs_answer_take(a);
	plecs_answer_free(&a);
	return d;
}

static struct decoded decode(const char *xml, size_t n, bool as_list)
{
	return decode_n(xml, strlen(xml), n, as_list, 0);
}

static void decoded_free(struct decoded *d)
{
	for (size_t i = 0; d->r && i < d->n; i++)
		result_data_free(&d->r[i]);
	free(d->r);
	free(d->error);
}

/* "<methodResponse><params><param><value>V</value></param></params></methodResponse>" */
static char *response(const char *value)
{
	return xasprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><params><param><value>%s</value>"
			 "</param></params></methodResponse>\n", value);
}

/* An array of numbers, each as <double>%.17g</double>. */
static void add_array(struct buf *b, const double *v, size_t n)
{
	buf_adds(b, "<array><data>");
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "<value><double>%.17g</double></value>", v[i]);
	buf_adds(b, "</data></array>");
}

/* A Plain case {Time, Values} as PLECS writes it. */
static char *plain_case(const double *time, size_t points, const double *values, size_t signals)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<struct><member><name>Time</name><value>");
	add_array(&b, time, points);
	buf_adds(&b, "</value></member><member><name>Values</name><value><array><data>");
	for (size_t s = 0; s < signals; s++) {
		buf_adds(&b, "<value>");
		add_array(&b, values + s * points, points);
		buf_adds(&b, "</value>");
	}
	buf_adds(&b, "</data></array></value></member></struct>");
	return buf_detach(&b);
}

/* The same bits, NaN aside (none is ever decoded). */
static void assert_same_double(double got, double want)
{
	if (memcmp(&got, &want, sizeof got) != 0)
		fail_msg("decoded %a, expected %a", got, want);
}

/* r holds exactly time and values, and each signal's summary is result_summarize's, bit for bit. */
static void assert_result(const struct result_data *r, const double *time, size_t points, const double *values,
			  size_t signals)
{
	if (r->error)
		fail_msg("unexpected error: %s", r->error);
	assert_int_equal(r->points, points);
	assert_int_equal(r->signals, signals);
	assert_null(r->mat);
	for (size_t i = 0; i < points; i++)
		assert_same_double(r->time[i], time[i]);
	for (size_t i = 0; i < points * signals; i++)
		assert_same_double(r->values[i], values[i]);
	assert_non_null(r->summary);
	for (size_t s = 0; s < signals; s++) {
		struct result_summary m;

		result_summarize(r, s, &m);
		assert_same_double(r->summary[s].min, m.min);
		assert_same_double(r->summary[s].max, m.max);
		assert_same_double(r->summary[s].mean, m.mean);
		assert_same_double(r->summary[s].rms, m.rms);
		assert_same_double(r->summary[s].final, m.final);
	}
}

static void assert_contains(const char *text, const char *part)
{
	if (text == NULL || strstr(text, part) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", part, text ? text : "(null)");
}

/* One signal: the numbers and their summary, worked out by hand. */
static void test_one_signal(void **state)
{
	const double t[] = {0, 0.5, 1}, v[] = {1, 2.5, -3};
	char *c = plain_case(t, 3, v, 1), *xml = response(c);
	struct decoded d = decode(xml, 1, false);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 3, v, 1);
	assert_same_double(d.r[0].summary[0].min, -3);
	assert_same_double(d.r[0].summary[0].max, 2.5);
	assert_same_double(d.r[0].summary[0].mean, 0.5 / 3);
	assert_same_double(d.r[0].summary[0].rms, sqrt((1 + 6.25 + 9) / 3.0));
	assert_same_double(d.r[0].summary[0].final, -3);
	decoded_free(&d);
	free(xml);
	free(c);
}

/* Numbers whose squares overflow (1e200) or underflow (1e-200): the decoder's mean and RMS are finite
 * and, bit for bit, result_summarize's (assert_result). */
static void test_summary_scaled(void **state)
{
	const double t[] = {0, 0.5, 1}, big[] = {1e200, -1e200, 3e200}, small[] = {1e-200, -1e-200, 3e-200};
	const double *cases[] = {big, small};

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		char *c = plain_case(t, 3, cases[k], 1), *xml = response(c);
		struct decoded d = decode(xml, 1, false);

		assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
		assert_result(&d.r[0], t, 3, cases[k], 1);
		assert_true(fabs(d.r[0].summary[0].rms / cases[k][0] - sqrt(11.0 / 3)) < 1e-15);
		assert_true(fabs(d.r[0].summary[0].mean / cases[k][0] - 1) < 1e-15);
		decoded_free(&d);
		free(xml);
		free(c);
	}
}

/* Three signals, Values before Time, blanks, comments and line breaks everywhere XML allows them. */
static void test_several_signals_odd_whitespace(void **state)
{
	const char *xml =
		"<?xml version='1.0'?>\r\n<!-- PLECS -->\n<methodResponse>\n  <params>\n\t<param>\n<value>\n <struct>\n"
		"  <member>\n   <name>Values</name>\n   <value>\n <array> <data>\n"
		"    <value><array><data><value><double> 1 </double></value>\n<value><double>\n2\n</double></value>"
		"</data></array></value>\n"
		"    <value><array><data><value><i4>3</i4></value><value><int>-4</int></value></data></array></value>\n"
		"    <value>  <array><data><value><double>5e-1</double></value><value><double>-0.0</double></value>"
		"</data></array></value>\n"
		"   </data> </array>\n   </value>\n  </member>\n"
		"  <member>\n   <name>Time</name>\n   <value><array><data>\n"
		"<value><double>0</double></value><!-- between --><value><double><![CDATA[0.25]]></double></value>"
		"</data></array></value>\n  </member>\n </struct>\n</value>\n\t</param>\n  </params>\n</methodResponse>\n";
	const double t[] = {0, 0.25}, v[] = {1, 2, 3, -4, 0.5, -0.0};
	struct decoded d = decode(xml, 1, false);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 2, v, 3);
	assert_same_double(d.r[0].summary[2].final, -0.0);
	assert_same_double(d.r[0].summary[1].min, -4);
	decoded_free(&d);
}

/* 17-digit values, the extremes and subnormals read back to the same bits (strtod's round trip). */
static void test_exact_round_trip(void **state)
{
	const double v[] = {0x1p-1074,          0x0.fffffffffffffp-1022, 0x1p-1022, 0x1.fffffffffffffp+1023,
			    -0x1.fffffffffffffp+1023, 0.1,               0.30000000000000004, 1.0 / 3,
			    -0.0,               123456789012345678.0,    6.02214076e23, 5e-324};
	const size_t n = sizeof v / sizeof v[0];
	double t[sizeof v / sizeof v[0]];
	uint64_t seed = 88172645463325252u;

	(void)state;
	for (size_t i = 0; i < n; i++)
		t[i] = (double)i * 1e-3;
	char *c = plain_case(t, n, v, 1), *xml = response(c);
	struct decoded d = decode(xml, 1, false);

	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, n, v, 1);
	assert_same_double(d.r[0].summary[0].min, -0x1.fffffffffffffp+1023);
	assert_same_double(d.r[0].summary[0].max, 0x1.fffffffffffffp+1023);
	decoded_free(&d);
	free(xml);
	free(c);

	/* 1,001 random finite doubles of every magnitude, as %.17g writes them. */
	double rt[1001], rv[1001];

	for (size_t i = 0; i < 1001; i++) {
		uint64_t bits;

		do {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			bits = seed;
			memcpy(&rv[i], &bits, sizeof bits);
		} while (!isfinite(rv[i]));
		rt[i] = (double)i / 1000;
	}
	c = plain_case(rt, 1001, rv, 1);
	xml = response(c);
	d = decode(xml, 1, false);
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], rt, 1001, rv, 1);
	decoded_free(&d);
	free(xml);
	free(c);
}

/* <double>, <i4>, <int> and <i8> are numbers; an i8 past 2^53 rounds as C converts it. */
static void test_integer_numbers(void **state)
{
	char *xml = response("<struct><member><name>Time</name><value><array><data><value><i4>0</i4></value>"
			     "<value><int>1</int></value><value><i8>2</i8></value></data></array></value></member>"
			     "<member><name>Values</name><value><array><data><value><array><data>"
			     "<value><i4>-2147483648</i4></value><value><int>2147483647</int></value>"
			     "<value><i8>9007199254740993</i8></value></data></array></value></data></array></value>"
			     "</member></struct>");
	const double t[] = {0, 1, 2}, v[] = {-2147483648.0, 2147483647.0, (double)9007199254740993LL};
	struct decoded d = decode(xml, 1, false);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 3, v, 1);
	decoded_free(&d);
	free(xml);
}

/* A model without outports: Time and no signals; a run of no points: nothing at all. */
static void test_empty_results(void **state)
{
	const double t[] = {0, 1e-3};
	char *c = plain_case(t, 2, NULL, 0), *xml = response(c);
	struct decoded d = decode(xml, 1, false);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 2, NULL, 0);
	assert_non_null(d.r[0].values);
	decoded_free(&d);
	free(xml);
	xml = response("<struct><member><name>Time</name><value><array><data/></array></value></member>"
		       "<member><name>Values</name><value><array><data></data></array></value></member></struct>");
	d = decode(xml, 1, false);
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 0, NULL, 0);
	decoded_free(&d);
	free(xml);
	free(c);
}

/* Reads tests/fuzz/corpus/result/name as base64 text. */
static char *corpus_base64(const char *name, unsigned char **bytes, size_t *len)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *path = xasprintf("%s/tests/fuzz/corpus/result/%s", getenv("SIMQ_SRCDIR"), name);
	FILE *fp = fopen(path, "rb");
	struct buf b = BUF_INIT;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	rewind(fp);
	*bytes = xmalloc(*len);
	assert_int_equal(fread(*bytes, 1, *len, fp), *len);
	fclose(fp);
	free(path);
	for (size_t i = 0; i < *len; i += 3) {
		uint32_t w = (uint32_t)(*bytes)[i] << 16 | (i + 1 < *len ? (uint32_t)(*bytes)[i + 1] << 8 : 0) |
			     (i + 2 < *len ? (*bytes)[i + 2] : 0);

		buf_addc(&b, digits[w >> 18 & 63]);
		buf_addc(&b, digits[w >> 12 & 63]);
		buf_addc(&b, i + 1 < *len ? digits[w >> 6 & 63] : '=');
		buf_addc(&b, i + 2 < *len ? digits[w & 63] : '=');
		if (i % 57 == 54)
			buf_addc(&b, '\n'); /* line breaks, as many encoders write them */
	}
	return buf_detach(&b);
}

/* A list answer: Plain, MatFile (base64) and Plain again, each in its case, in order. */
static void test_list_answer(void **state)
{
	const double t1[] = {0, 1}, v1[] = {5, 6}, t3[] = {0, 2, 4}, v3[] = {1, 2, 3, 4, 5, 6};
	unsigned char *mat;
	size_t mat_len;
	char *b64 = corpus_base64("result.mat", &mat, &mat_len);
	char *c1 = plain_case(t1, 2, v1, 1), *c3 = plain_case(t3, 3, v3, 2);
	char *list = xasprintf("<array><data>\n<value>%s</value>\n<value><base64>%s</base64></value>\n<value>%s</value>"
			       "\n</data></array>", c1, b64, c3);
	char *xml = response(list);
	struct decoded d = decode(xml, 3, true);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t1, 2, v1, 1);
	assert_result(&d.r[2], t3, 3, v3, 2);
	assert_null(d.r[1].error);
	assert_int_equal(d.r[1].mat_len, mat_len);
	assert_memory_equal(d.r[1].mat, mat, mat_len);
	assert_true(d.r[1].points > 1);
	assert_non_null(d.r[1].summary);
	for (size_t s = 0; s < d.r[1].signals; s++) {
		struct result_summary m;

		result_summarize(&d.r[1], s, &m);
		assert_memory_equal(&m, &d.r[1].summary[s], sizeof m);
	}
	decoded_free(&d);

	/* Fed a byte at a time, the same. */
	d = decode_n(xml, strlen(xml), 3, true, 1);
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t1, 2, v1, 1);
	assert_result(&d.r[2], t3, 3, v3, 2);
	assert_memory_equal(d.r[1].mat, mat, mat_len);
	decoded_free(&d);

	/* Four cases asked, three answered: the fourth says so.  Two asked: the third is not read. */
	d = decode(xml, 4, true);
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[2], t3, 3, v3, 2);
	assert_contains(d.r[3].error, "PLECS's answer holds fewer results than cases");
	decoded_free(&d);
	d = decode(xml, 2, true);
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t1, 2, v1, 1);
	assert_null(d.r[1].error);
	decoded_free(&d);
	free(xml);
	free(list);
	free(c1);
	free(c3);
	free(b64);
	free(mat);
}

/* One bad case of a list fails alone; the others keep their results. */
static void test_bad_case_fails_alone(void **state)
{
	const double t[] = {0, 1}, v[] = {5, 6};
	char *good = plain_case(t, 2, v, 1);
	char *list = xasprintf("<array><data><value>%s</value><value><struct><member><name>Time</name><value><array>"
			       "<data><value><double>0</double></value></data></array></value></member><member><name>"
			       "Values</name><value><array><data><value><array><data><value><double>1</double></value>"
			       "<value><double>2</double></value></data></array></value><value><array><data><value>"
			       "<double>3</double></value></data></array></value></data></array></value></member>"
			       "</struct></value><value>%s</value></data></array>", good, good);
	char *xml = response(list);
	struct decoded d = decode(xml, 3, true);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 2, v, 1);
	assert_contains(d.r[1].error, "PLECS's Values are ragged: signal 2 holds 1 numbers and signal 1 2");
	assert_result(&d.r[2], t, 2, v, 1);
	decoded_free(&d);
	free(xml);
	free(list);

	/* A list call answered by one struct: no case has a result, and each says why. */
	xml = response(good);
	d = decode(xml, 2, true);
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_contains(d.r[0].error, "PLECS's answer to a list of cases is not a list");
	assert_contains(d.r[1].error, "PLECS's answer to a list of cases is not a list");
	decoded_free(&d);
	free(xml);
	free(good);
}

/* A fault: PLECS's own words, entities decoded; typed or untyped string; a long one cut. */
static void test_fault(void **state)
{
	const char *typed = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode"
			    "</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>faultString</name>\n"
			    "<value><string>Simulation error: R &lt; 0 &amp; C &#8805; 0</string></value>\n</member>\n"
			    "</struct></value>\n</fault>\n</methodResponse>\n";
	const char *untyped = "<methodResponse><fault><value><struct><member><name>faultString</name><value>Model 'x' "
			      "not loaded</value></member><member><name>faultCode</name><value><i4>-1</i4></value>"
			      "</member></struct></value></fault></methodResponse>";
	struct decoded d = decode(typed, 1, false);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_FAULT);
	assert_string_equal(d.error, "Simulation error: R < 0 & C \xe2\x89\xa5 0");
	decoded_free(&d);
	d = decode(untyped, 3, true);
	assert_int_equal(d.end, PLECS_ANSWER_FAULT);
	assert_string_equal(d.error, "Model 'x' not loaded");
	decoded_free(&d);

	struct buf b = BUF_INIT;

	buf_adds(&b, "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value>"
		     "</member><member><name>faultString</name><value><string>");
	for (int i = 0; i < 100000; i++)
		buf_adds(&b, "\xc3\xa9"); /* é: two bytes, never cut in half */
	buf_adds(&b, "</string></value></member></struct></value></fault></methodResponse>");
	d = decode(buf_str(&b), 1, false);
	assert_int_equal(d.end, PLECS_ANSWER_FAULT);
	assert_int_equal(strlen(d.error), 4096 + strlen(" [cut]"));
	assert_contains(d.error, "\xc3\xa9 [cut]");
	decoded_free(&d);
	buf_free(&b);

	d = decode("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value>"
		   "</member></struct></value></fault></methodResponse>", 1, false);
	assert_int_equal(d.end, PLECS_ANSWER_BROKEN);
	assert_contains(d.error, "PLECS's answer is not XML-RPC: its fault lacks faultCode or faultString");
	decoded_free(&d);
}

/* Case-shaped mistakes: the case fails with a message saying what is wrong. */
static void test_wrong_shapes(void **state)
{
	static const struct {
		const char *value, *error;
	} cases[] = {
		{"<struct><member><name>Time</name><value><array><data><value><double>0</double></value></data></array>"
		 "</value></member></struct>", "PLECS's result lacks Values"},
		{"<struct><member><name>Values</name><value><array><data></data></array></value></member></struct>",
		 "PLECS's result lacks Time:"},
		{"<struct></struct>", "PLECS's result lacks Time and Values"},
		{"<int>3</int>", "PLECS's result is a <int>, not a struct {Time, Values} nor MAT bytes"},
		{"done", "PLECS's result is a string"},
		{"<struct><member><name>Time</name><value>now</value></member><member><name>Values</name><value><array>"
		 "<data></data></array></value></member></struct>", "PLECS's Time is a string, not an array"},
		{"<struct><member><name>Time</name><value><array><data><value><double>0</double></value>"
		 "<value><string>1</string></value></data></array></value></member></struct>",
		 "PLECS's Time holds a <string> at point 2, not a number"},
		{"<struct><member><name>Time</name><value><array><data><value>1</value></data></array></value>"
		 "</member></struct>", "PLECS's Time holds the string \"1\" at point 1, which is not a number XML-RPC allows there"},
		{"<struct><member><name>Values</name><value><array><data><value><double>1</double></value></data>"
		 "</array></value></member></struct>",
		 "PLECS's Values hold a <double> as signal 1: Values hold one array of numbers per signal"},
		{"<struct><member><name>Time</name><value><array><data><value><double>0</double></value></data>"
		 "</array></value></member><member><name>Values</name><value><array><data><value><array><data>"
		 "<value><double>1</double></value><value><double>2</double></value></data></array></value></data>"
		 "</array></value></member></struct>", "PLECS's signals hold 2 numbers each and its Time 1"},
		{"<struct><member><name>Time</name><value><array><data></data></array></value></member><member><name>"
		 "Time</name><value><array><data></data></array></value></member></struct>",
		 "PLECS's result holds Time twice"},
		{"<base64>AAAA*</base64>", "PLECS's MatFile result is not base64: it holds '*' (0x2a)"},
		{"<base64>AAAA</base64>", "PLECS's MatFile result is not a MAT v5 file"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *xml = response(cases[i].value);
		struct decoded d = decode(xml, 1, false);

		assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
		assert_null(d.r[0].time);
		assert_null(d.r[0].summary);
		assert_contains(d.r[0].error, cases[i].error);
		decoded_free(&d);
		free(xml);
	}
}

/* Numbers that are not finite decimal numbers fail their case, naming the text and the point. */
static void test_bad_numbers(void **state)
{
	static const struct {
		const char *number, *shown;
	} cases[] = {
		{"<double>abc</double>", "\"abc\""},       {"<double>inf</double>", "\"inf\""},
		{"<double>NaN</double>", "\"NaN\""},       {"<double>1e400</double>", "\"1e400\""},
		{"<double>0x10</double>", "\"0x10\""},     {"<double></double>", "\"\""},
		{"<double>1 2</double>", "\"1 2\""},         {"<double>1.5.5</double>", "\"1.5.5\""},
		{"<i4>3000000000</i4>", "\"3000000000\""}, {"<int>1.5</int>", "\"1.5\""},
		{"<i8>99999999999999999999</i8>", "\"99999999999999999999\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *value = xasprintf("<struct><member><name>Time</name><value><array><data><value><double>0</double>"
					"</value><value><double>1</double></value></data></array></value></member>"
					"<member><name>Values</name><value><array><data><value><array><data><value>"
					"<double>7</double></value><value>%s</value></data></array></value></data></array>"
					"</value></member></struct>", cases[i].number);
		/* inf, NaN and 1e400 are numbers, not finite ones; the rest is no number at all. */
		bool not_finite = i == 1 || i == 2 || i == 3;
		char *xml = response(value),
		     *want = xasprintf("PLECS's signal 1 holds %s at point 2, which is not %s", cases[i].shown,
				       not_finite ? "a finite number" : "a number XML-RPC allows there");
		struct decoded d = decode(xml, 1, false);

		assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
		assert_contains(d.r[0].error, want);
		/* inf, NaN and 1e400 are what PLECS computed for the case (permanent); garbage is retried. */
		assert_int_equal(d.r[0].permanent, not_finite);
		decoded_free(&d);
		free(want);
		free(xml);
		free(value);
	}

	/* XML-RPC has no exponent: 2.8e-308 and 1.7976931348623157e308 written in full are numbers. */
	struct buf tiny = BUF_INIT, huge = BUF_INIT;

	buf_adds(&tiny, "0.");
	for (int i = 0; i < 307; i++)
		buf_addc(&tiny, '0');
	buf_adds(&tiny, "28");
	buf_adds(&huge, "179769313486231570");
	for (int i = 0; i < 291; i++)
		buf_addc(&huge, '0');
	char *full = xasprintf("<struct><member><name>Time</name><value><array><data><value><double>0</double></value>"
			       "<value><double>1</double></value></data></array></value></member><member><name>Values"
			       "</name><value><array><data><value><array><data><value><double>%s</double></value><value>"
			       "<double>%s</double></value></data></array></value></data></array></value></member>"
			       "</struct>", buf_str(&tiny), buf_str(&huge));
	char *fxml = response(full);
	struct decoded fd = decode(fxml, 1, false);

	assert_int_equal(fd.end, PLECS_ANSWER_RESULTS);
	assert_null(fd.r[0].error);
	assert_true(fd.r[0].values[0] == 2.8e-308);
	assert_true(fd.r[0].values[1] == 1.7976931348623157e308);
	decoded_free(&fd);
	free(fxml);
	free(full);
	buf_free(&tiny);
	buf_free(&huge);

	/* A number of a megabyte: refused at its 401st character, not kept. */
	struct buf b = BUF_INIT;

	buf_adds(&b, "<struct><member><name>Time</name><value><array><data><value><double>");
	for (int i = 0; i < 1000000; i++)
		buf_addc(&b, '1');
	buf_adds(&b, "</double></value></data></array></value></member></struct>");
	char *xml = response(buf_str(&b));
	struct decoded d = decode(xml, 1, false);

	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_contains(d.r[0].error, "PLECS's Time holds a number of more than 400 characters at point 1, which is not a "
				      "number simq reads: no double needs as many");
	assert_false(d.r[0].permanent); /* not a number PLECS computed: garbled, retried */
	decoded_free(&d);
	free(xml);
	buf_free(&b);
}

/* Members simq does not read are read past, however much they hold (within the guards). */
static void test_other_members_skipped(void **state)
{
	const double t[] = {0, 1}, v[] = {5, 6};
	char *c = plain_case(t, 2, v, 1);
	struct buf b = BUF_INIT;

	buf_add(&b, c, strlen(c) - strlen("</struct>"));
	buf_adds(&b, "<member><name>Comment</name><value><string>");
	for (int i = 0; i < 1000000; i++)
		buf_adds(&b, "text ");
	buf_adds(&b, "</string></value></member><member><name>Nested</name><value><array><data><value><struct><member>"
		     "<name>Time</name><value><i4>1</i4></value></member></struct></value></data></array></value></member>"
		     "</struct>");
	char *xml = response(buf_str(&b));
	struct decoded d = decode(xml, 1, false);

	(void)state;
	assert_int_equal(d.end, PLECS_ANSWER_RESULTS);
	assert_result(&d.r[0], t, 2, v, 1);
	decoded_free(&d);
	free(xml);
	buf_free(&b);
	free(c);
}

/* n levels of open, then close, around inner. */
static char *nested(const char *open, const char *inner, const char *close, int n)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < n; i++)
		buf_adds(&b, open);
	buf_adds(&b, inner);
	for (int i = 0; i < n; i++)
		buf_adds(&b, close);
	return buf_detach(&b);
}

static void expect_broken(const char *xml, size_t len, const char *why)
{
	struct decoded d = decode_n(xml, len, 1, false, 0);

	if (d.end != PLECS_ANSWER_BROKEN)
		fail_msg("not refused: %.200s", xml);
	assert_null(d.r);
	assert_contains(d.error, why);
	decoded_free(&d);
	/* Fed in pieces of 7 bytes, refused the same way. */
	d = decode_n(xml, len, 1, false, 7);
	assert_int_equal(d.end, PLECS_ANSWER_BROKEN);
	assert_contains(d.error, why);
	decoded_free(&d);
}

static void expect_broken_text(const char *xml, const char *why)
{
	expect_broken(xml, strlen(xml), why);
}

/* Hostile answers: refused as a whole, saying why, as xmlscan refused them for xmlrpc-c. */
static void test_hostile_refused(void **state)
{
	char *deep = nested("<array><data><value>", "<int>1</int>", "</value></data></array>", 10000);
	char *xml = response(deep);

	(void)state;
	expect_broken(xml, strlen(xml), "PLECS's answer is not XML-RPC simq reads: it nests arrays and structs "
					"deeper than 64 (byte ");
	free(xml);
	free(deep);
	deep = nested("<struct><member><name>k</name><value>", "<int>1</int>", "</value></member></struct>", 10000);
	xml = response(deep);
	expect_broken(xml, strlen(xml), "nests arrays and structs deeper than 64");
	free(xml);
	free(deep);
	/* Elements that are no array or struct, 10,000 deep inside a member simq skips. */
	deep = nested("<x>", "", "</x>", 10000);
	char *value = xasprintf("<struct><member><name>junk</name><value><string>%s</string></value></member></struct>",
				deep);

	xml = response(value);
	expect_broken(xml, strlen(xml), "it nests elements deeper than 200");
	free(xml);
	free(value);
	free(deep);

	const char *laughs = "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;"
			     "&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><methodResponse><fault>"
			     "<value><struct><member><name>faultString</name><value>&c;</value></member></struct></value>"
			     "</fault></methodResponse>";

	expect_broken(laughs, strlen(laughs), "it has a <!DOCTYPE declaration");
	const char nul[] = "<methodResponse><params><param><value>\0</value></param></params></methodResponse>";

	expect_broken(nul, sizeof nul - 1, "it has a NUL byte: XML-RPC is UTF-8 text (byte 38)");
	expect_broken_text("<methodResponse><params><param><value><struct><member><name>&undefined;</name>",
		      "PLECS's answer is not XML-RPC: undefined entity");
}

/* Answers that are not XML-RPC: the XML's own mistakes and XML-RPC's grammar. */
static void test_malformed_refused(void **state)
{
	char *xml = response("<struct><member><name>Time</name>");

	(void)state;
	expect_broken(xml, strlen(xml), "PLECS's answer is not XML-RPC: mismatched tag");
	free(xml);
	const char *cut = "<methodResponse><params><param><value><struct>";

	expect_broken(cut, strlen(cut), "PLECS's answer is not XML-RPC: no element found");
	expect_broken_text("", "PLECS's answer is not XML-RPC: no element found");
	expect_broken_text("<html><body>Bad gateway</body></html>",
		      "PLECS's answer is not XML-RPC: <html> where XML-RPC has none (byte 0)");
	expect_broken_text("<methodResponse></methodResponse>", "holds neither <params> nor <fault>");
	expect_broken_text("<methodResponse><params></params></methodResponse>", "its <params> holds no <param>");
	expect_broken_text("<methodResponse><params><param><value><int>1</int><int>2</int></value></param></params>"
		      "</methodResponse>", "a <value> holds a <int> after its value");
	expect_broken_text("<methodResponse><params><param><value><struct><member><name>Time</name><value><array><value>"
			   "<int>1</int></value></array></value></member></struct></value></param></params></methodResponse>",
			   "<value> where XML-RPC has none");
	expect_broken_text("<methodResponse><fault><value><string>x</string></value></fault></methodResponse>",
		      "its fault is a <string>, not a struct {faultCode, faultString}");
}

/* A 1,001-point case in xmlrpc-c's layout (a line per point) with text put in place of point k's. */
static char *long_case(size_t k, const char *point)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param><value><struct>"
		 "\r\n<member><name>Time</name>\r\n<value><array><data>\r\n");
	for (size_t i = 0; i < 1001; i++)
		buf_addf(&b, "<value><double>%.17g</double></value>\r\n", i * 5e-6);
	buf_adds(&b, "</data></array></value>\r\n</member>\r\n<member><name>Values</name>\r\n<value><array><data>\r\n"
		 "<value><array><data>\r\n");
	for (size_t i = 0; i < 1001; i++)
		if (i == k)
			buf_addf(&b, "%s\r\n", point);
		else
			buf_addf(&b, "<value><double>%.17g</double></value>\r\n", 10 * (1 - exp(-(double)i / 200)));
	buf_adds(&b, "</data></array></value>\r\n</data></array></value>\r\n</member>\r\n</struct></value></param>\r\n"
		 "</params>\r\n</methodResponse>\r\n");
	return buf_detach(&b);
}

/*
 * The numbers of a column are read without expat where they are in xmlrpc-c's plain form: fed whole,
 * a byte at a time (expat reads them all) and in pieces that cut them anywhere, an answer decodes the
 * same, a bad number's error and a broken answer's byte included.
 */
static void test_points_read_alike(void **state)
{
	static const struct {
		const char *point, *error;
	} cases[] = {
		{"<value><double>0.5</double></value>", NULL},
		{"<value><double> 0.5 </double></value>", NULL},
		{"<value><i4>2</i4></value>", NULL},
		{"<value><double>0&#46;5</double></value>", NULL},
		{"<value><double>1e999</double></value>", "PLECS's signal 1 holds \"1e999\" at point 501"},
		{"<value><double>1.5e</double></value>", "PLECS's signal 1 holds \"1.5e\" at point 501"},
		{"<value><double>1</doubel></value>", "PLECS's answer is not XML-RPC: mismatched tag (byte "},
		{"<value><double>1</double></value></value>", "PLECS's answer is not XML-RPC: mismatched tag (byte "},
		{"<value><double>1</double><double>2</double></value>", "a <value> holds a <double> after its value (byte "},
		/* Read straight into the column, or through the events, or by expat: the same 0.5 or the same error. */
		{"<value><double>5e-1</double></value>", NULL},
		{"<value><double>+.5</double></value>", NULL},
		{"<value><double>0.50000000000000000000000001</double></value>", NULL},
		{"<value><double>000000000000000000000000000000.5</double></value>", NULL},
		{"<value><double>0000000000000000000000000000000.5</double></value>", NULL},
		{"<value><double>1-2</double></value>", "PLECS's signal 1 holds \"1-2\" at point 501"},
		{"<value><double>.</double></value>", "PLECS's signal 1 holds \".\" at point 501"},
		{"<value><double>1e-400e</double></value>", "PLECS's signal 1 holds \"1e-400e\" at point 501"},
	};
	static const size_t pieces[] = {0, 1, 7, 64, 100, 4096};

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char *xml = long_case(500, cases[c].point);
		struct decoded whole = decode_n(xml, strlen(xml), 1, false, 0);
		const char *error = whole.end == PLECS_ANSWER_RESULTS ? whole.r[0].error : whole.error;

		if (cases[c].error == NULL) {
			assert_int_equal(whole.end, PLECS_ANSWER_RESULTS);
			assert_null(whole.r[0].error);
			assert_int_equal(whole.r[0].points, 1001);
			assert_true(whole.r[0].values[500] == (c == 2 ? 2 : 0.5));
		} else {
			assert_contains(error, cases[c].error);
		}
		/* A broken answer names a byte of the bad point's markup. */
		if (whole.end == PLECS_ANSWER_BROKEN) {
			size_t bad = (size_t)(strstr(xml, cases[c].point) - xml);
			const char *at = strstr(whole.error, "(byte ");

			assert_non_null(at);
			size_t byte = strtoul(at + 6, NULL, 10);

			if (byte < bad || byte >= bad + strlen(cases[c].point))
				fail_msg("%s: byte %zu is not in the bad point at %zu", whole.error, byte, bad);
		}
		for (size_t p = 1; p < sizeof pieces / sizeof pieces[0]; p++) {
			struct decoded split = decode_n(xml, strlen(xml), 1, false, pieces[p]);

			assert_int_equal(split.end, whole.end);
			assert_string_equal(split.error, whole.error);
			if (whole.end == PLECS_ANSWER_RESULTS) {
				assert_true((split.r[0].error == NULL) == (whole.r[0].error == NULL));
				if (whole.r[0].error)
					assert_string_equal(split.r[0].error, whole.r[0].error);
				else
					assert_result(&split.r[0], whole.r[0].time, 1001, whole.r[0].values, 1);
			}
			decoded_free(&split);
		}
		decoded_free(&whole);
		free(xml);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_signal),
		cmocka_unit_test(test_summary_scaled),
		cmocka_unit_test(test_several_signals_odd_whitespace),
		cmocka_unit_test(test_exact_round_trip),
		cmocka_unit_test(test_integer_numbers),
		cmocka_unit_test(test_empty_results),
		cmocka_unit_test(test_list_answer),
		cmocka_unit_test(test_bad_case_fails_alone),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_wrong_shapes),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_other_members_skipped),
		cmocka_unit_test(test_hostile_refused),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_points_read_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
