#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/xmlscan.h"
#include "util/buf.h"

static const struct xmlscan_limits call_limits = {
	.max_bytes = PROTO_MAX_CALL_BYTES,
	.max_nesting = PROTO_MAX_NESTING,
	.max_depth = PROTO_MAX_XML_DEPTH,
	.max_text = PROTO_MAX_TEXT,
};

/* Scans doc whole and then a byte at a time; both must agree. Returns the error, "" when it passed. */
static const char *scan(const char *doc, size_t len, const struct xmlscan_limits *limits)
{
	static struct xmlscan whole, bytewise;
	bool ok = true;

	xmlscan_init(&whole, limits);
	xmlscan_init(&bytewise, limits);
	bool ok_whole = xmlscan_feed(&whole, doc, len);

	for (size_t i = 0; i < len && ok; i++)
		ok = xmlscan_feed(&bytewise, doc + i, 1);
	assert_int_equal(ok_whole, ok);
	assert_string_equal(xmlscan_error(&whole), xmlscan_error(&bytewise));
	return xmlscan_error(&whole);
}

static void expect_pass(const char *doc)
{
	const char *err = scan(doc, strlen(doc), &call_limits);

	if (err[0])
		fail_msg("refused: %s\n%s", err, doc);
}

static void expect_refused(const char *doc, size_t len, const char *why)
{
	const char *err = scan(doc, len, &call_limits);

	if (strstr(err, why) == NULL)
		fail_msg("expected \"%s\", got \"%s\"", why, err);
}

/* A call of simq.echo with one value nested n deep in arrays (or structs). */
static char *nested_call(int n, bool structs)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "<?xml version=\"1.0\"?>\r\n<methodCall><methodName>simq.echo</methodName><params><param><value>");
	for (int i = 0; i < n; i++)
		buf_addf(&b, "%s", structs ? "<struct><member><name>k</name><value>" : "<array><data><value>");
	buf_addf(&b, "<int>1</int>");
	for (int i = 0; i < n; i++)
		buf_addf(&b, "%s", structs ? "</value></member></struct>" : "</value></data></array>");
	buf_addf(&b, "</value></param></params></methodCall>\r\n");
	return buf_detach(&b);
}

static void test_ordinary_call_passes(void **state)
{
	(void)state;
	expect_pass("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodCall>\r\n<methodName>simq.submit</methodName>\r\n"
		    "<params><param><value><struct>\r\n<member><name>model</name><value><string>/m/buck.plecs</string>"
		    "</value></member>\r\n<member><name>vars</name><value><struct><member><name>K</name><value><array>"
		    "<data><value><array><data><value><double>1</double></value></data></array></value></data></array>"
		    "</value></member></struct></value></member>\r\n<member><name>tags</name><value><array><data/>"
		    "</array></value></member></struct></value></param></params></methodCall>\r\n");
}

static void test_nesting_limit(void **state)
{
	(void)state;
	for (int structs = 0; structs < 2; structs++) {
		char *ok = nested_call(PROTO_MAX_NESTING, structs), *deep = nested_call(PROTO_MAX_NESTING + 1, structs);

		expect_pass(ok);
		expect_refused(deep, strlen(deep), "nests arrays and structs deeper than 64");
		free(ok);
		free(deep);
	}
}

/* Ten thousand levels (the crash of issue 14) stop at the 65th. */
static void test_ten_thousand_deep_stops_early(void **state)
{
	char *deep = nested_call(10000, false);
	struct xmlscan s;

	(void)state;
	xmlscan_init(&s, &call_limits);
	assert_false(xmlscan_feed(&s, deep, strlen(deep)));
	assert_true(s.bytes < 2000);
	assert_non_null(strstr(xmlscan_error(&s), "deeper than 64 (byte "));
	free(deep);
}

static void test_element_depth_limit(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	for (int i = 0; i < PROTO_MAX_XML_DEPTH + 1; i++)
		buf_addf(&b, "<value>");
	expect_refused(buf_str(&b), b.len, "nests elements deeper than 200");
	buf_free(&b);
}

/* head, piece a thousand times, tail: a document that must pass. */
static void expect_repeated_passes(const char *head, const char *piece, const char *tail)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, head);
	for (int i = 0; i < 1000; i++)
		buf_adds(&b, piece);
	buf_adds(&b, tail);
	expect_pass(buf_str(&b));
	buf_free(&b);
}

/* Empty elements, closed ones and attributes holding '>' or "/>" do not deepen the count. */
static void test_tags_that_do_not_nest(void **state)
{
	(void)state;
	expect_repeated_passes("<methodCall>", "<array/><array a='>' b=\"/>\"></array ><value x=\"<\"/><struct\t/>",
			       "</methodCall>");
}

/* What is in comments, CDATA and processing instructions is not markup. */
static void test_comments_and_cdata_skipped(void **state)
{
	(void)state;
	expect_repeated_passes("<?xml version=\"1.0\"?><?pi <array> ?><methodCall>",
			       "<!-- <array> - -- --><![CDATA[<array><struct>]]]>", "</methodCall>");
}

static void test_declarations_refused(void **state)
{
	const char *doctype = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"<array>\">]><x>&a;</x>";
	const char *entity = "<x><!ENTITY a \"b\"></x>";
	const char *bad_cdata = "<x><![CDATX[a]]></x>";
	const char *bad_comment = "<x><!-x--></x>";

	(void)state;
	expect_refused(doctype, strlen(doctype), "has a <!D... declaration (a DOCTYPE or an entity)");
	expect_refused(entity, strlen(entity), "has a <!E... declaration");
	expect_refused(bad_cdata, strlen(bad_cdata), "not CDATA");
	expect_refused(bad_comment, strlen(bad_comment), "broken comment");
}

static void test_nul_refused(void **state)
{
	static const char utf16[] = "<\0x\0>\0";

	(void)state;
	expect_refused(utf16, sizeof utf16 - 1, "has a NUL byte: XML-RPC is UTF-8 text (byte 2)");
}

static void test_size_limit(void **state)
{
	struct xmlscan_limits small = call_limits;
	struct xmlscan s;

	(void)state;
	small.max_bytes = 10;
	xmlscan_init(&s, &small);
	assert_true(xmlscan_feed(&s, "<a>12345", 8));
	assert_false(xmlscan_feed(&s, "</a>", 4));
	assert_string_equal(xmlscan_error(&s), "is larger than 10 bytes (byte 10)");
	/* Once stopped, it stays stopped. */
	assert_false(xmlscan_feed(&s, "", 0));
}

/* Text is counted per element, blanks aside, CDATA included; 0 means no limit. */
static void test_text_limit(void **state)
{
	struct xmlscan_limits small = call_limits, none = call_limits;
	const char *one = "<v>\r\n  <s>12345</s>\r\n  <s>12345</s> <s>1<![CDATA[2345]]></s>\n</v>";
	const char *mixed = "<v>123<s/>456</v>";

	(void)state;
	small.max_text = 5;
	none.max_text = 0;
	assert_string_equal(scan(one, strlen(one), &small), "");
	assert_non_null(strstr(scan(mixed, strlen(mixed), &small), "holds more than 5 bytes of text in one element"));
	assert_string_equal(scan(mixed, strlen(mixed), &none), "");
}

/* A 50 MB string is refused at 1 MiB of it. */
static void test_huge_string_refused(void **state)
{
	size_t n = 50u * 1000 * 1000;
	char *doc = malloc(n + 64);
	struct xmlscan s;

	(void)state;
	strcpy(doc, "<methodCall><params><param><value><string>");
	memset(doc + strlen(doc), 'a', n - strlen(doc));
	xmlscan_init(&s, &call_limits);
	assert_false(xmlscan_feed(&s, doc, n));
	assert_non_null(strstr(xmlscan_error(&s), "holds more than 1048576 bytes of text in one element"));
	free(doc);
}

#define I8_CALL(v) "<methodCall><methodName>simq.echo</methodName><params><param><value>" v \
	"</value></param></params></methodCall>"

/* xmlrpc-c 1.33 crashes formatting its message about an <i8> that is no 64-bit integer: such a one
 * never reaches it. */
static void test_bad_i8_refused(void **state)
{
	static const char *const bad[] = {
		I8_CALL("<i8>abc</i8>"), I8_CALL("<i8>5x</i8>"), I8_CALL("<i8>9223372036854775808</i8>"),
		I8_CALL("<i8>-9223372036854775809</i8>"), I8_CALL("<i8></i8>"), I8_CALL("<i8>&#53;</i8>"),
		I8_CALL("<ex:i8 xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\">abc</ex:i8>"),
		I8_CALL("<i8><![CDATA[x]]></i8>"), I8_CALL("<i8>123456789012345678901234567890</i8>"),
	};
	static const char *const good[] = {
		I8_CALL("<i8>5</i8>"), I8_CALL("<i8> -5 </i8>"), I8_CALL("<i8>9223372036854775807</i8>"),
		I8_CALL("<i8>-9223372036854775808</i8>"), I8_CALL("<ex:i8>+42</ex:i8>"), I8_CALL("<i4>7</i4>"),
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(bad[i], strlen(bad[i]), "not a whole number of 64 bits");
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		expect_pass(good[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_i8_refused),
		cmocka_unit_test(test_ordinary_call_passes),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_ten_thousand_deep_stops_early),
		cmocka_unit_test(test_element_depth_limit),
		cmocka_unit_test(test_tags_that_do_not_nest),
		cmocka_unit_test(test_comments_and_cdata_skipped),
		cmocka_unit_test(test_declarations_refused),
		cmocka_unit_test(test_nul_refused),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_text_limit),
		cmocka_unit_test(test_huge_string_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
