/* dashboard-host: which Hosts and Origins the web dashboard answers (issue 18, DNS rebinding). */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "server/dashboard-host.h"

static void expect_host(const struct dashboard_hosts *h, const char *host, bool ok, const char *words)
{
	char *why = NULL;

	assert_int_equal(dashboard_host_ok(h, host, &why), ok);
	if (ok) {
		assert_null(why);
	} else {
		assert_non_null(why);
		if (strstr(why, words) == NULL)
			fail_msg("Host %s: \"%s\" lacks \"%s\"", host, why, words);
		free(why);
	}
}

static void test_listen_localhost_and_allowed(void **state)
{
	struct dashboard_hosts *h = dashboard_hosts_new("127.0.0.1", " simq.lab.example ,dash.example,, ");

	expect_host(h, "127.0.0.1:7361", true, NULL);
	expect_host(h, "127.0.0.1", true, NULL);
	expect_host(h, "localhost:7361", true, NULL);
	expect_host(h, "LOCALHOST:1", true, NULL);
	expect_host(h, "simq.lab.example:7361", true, NULL);
	expect_host(h, "Dash.Example", true, NULL);
	/* A name an attacker points at this machine, and names that only look like ours. */
	expect_host(h, "evil.example:7361", false,
	            "Host evil.example:7361 is not a name of the dashboard (allowed: 127.0.0.1, localhost, "
	            "simq.lab.example, dash.example; more in [dashboard] allowed_hosts)");
	expect_host(h, "127.0.0.1.evil.example", false, "is not a name");
	expect_host(h, "localhost.evil.example:7361", false, "is not a name");
	expect_host(h, "lab.example", false, "is not a name");
	expect_host(h, "sub.simq.lab.example", false, "is not a name");
	/* Listening on one address, another IP is not it. */
	expect_host(h, "10.0.0.1:7361", false, "is not a name");
	expect_host(h, "", false, "no Host (allowed: 127.0.0.1, localhost");
	expect_host(h, NULL, false, "no Host");
	dashboard_hosts_free(&h);
	assert_null(h);
}

static void test_ipv6_and_every_address(void **state)
{
	struct dashboard_hosts *h = dashboard_hosts_new("::1", "");

	expect_host(h, "[::1]:7361", true, NULL);
	expect_host(h, "::1", true, NULL);
	expect_host(h, "[::2]:7361", false, "is not a name");
	dashboard_hosts_free(&h);
	h = dashboard_hosts_new("0.0.0.0", NULL);
	/* On every address any IP is one of this machine's (an IP is never a rebound name); names are not. */
	expect_host(h, "192.168.1.5:7361", true, NULL);
	expect_host(h, "[fe80::1]:7361", true, NULL);
	expect_host(h, "workstation.lab:7361", false, "allowed: 0.0.0.0, localhost, any IP address");
	dashboard_hosts_free(&h);
}

static void test_origin_is_the_page_own(void **state)
{
	char *why = NULL;

	assert_true(dashboard_origin_ok("127.0.0.1:7361", "http://127.0.0.1:7361", &why));
	assert_true(dashboard_origin_ok("LocalHost:7361", "http://localhost:7361", &why));
	assert_null(why);
	assert_false(dashboard_origin_ok("127.0.0.1:7361", "http://evil.example:7361", &why));
	assert_string_equal(why, "Origin http://evil.example:7361 is not the page's own (http://127.0.0.1:7361)");
	free(why);
	assert_false(dashboard_origin_ok("127.0.0.1:7361", "https://127.0.0.1:7361", &why));
	free(why);
	assert_false(dashboard_origin_ok("127.0.0.1:7361", "http://127.0.0.1:7361.evil", &why));
	free(why);
	assert_false(dashboard_origin_ok("127.0.0.1:7361", "", &why));
	assert_string_equal(why, "no Origin (a page's own is http://127.0.0.1:7361)");
	free(why);
	assert_false(dashboard_origin_ok("", "http://", &why));
	free(why);
}

/* A refusal's words go to the log and to simq log's XML: a client's bytes in them are escaped, never raw. */
static void test_refusals_show_no_raw_bytes(void **state)
{
	static const char *const hostile[] = {"bad\xff\xfeutf8", "\xc0\xaf", "a\x1b]0;PWNED\x07\x1b[2J", "x\x01y"};
	struct dashboard_hosts *h = dashboard_hosts_new("127.0.0.1", "");
	char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		assert_false(dashboard_host_ok(h, hostile[i], &why));
		for (const unsigned char *p = (const unsigned char *)why; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				fail_msg("Host refusal has byte 0x%02x raw: %s", *p, why);
		free(why);
		assert_false(dashboard_origin_ok("127.0.0.1:7361", hostile[i], &why));
		for (const unsigned char *p = (const unsigned char *)why; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				fail_msg("Origin refusal has byte 0x%02x raw: %s", *p, why);
		free(why);
		assert_false(dashboard_origin_ok(hostile[i], "http://127.0.0.1:7361", &why));
		for (const unsigned char *p = (const unsigned char *)why; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				fail_msg("Origin refusal has byte 0x%02x raw: %s", *p, why);
		free(why);
	}
	dashboard_hosts_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen_localhost_and_allowed),
	    cmocka_unit_test(test_ipv6_and_every_address),
	    cmocka_unit_test(test_origin_is_the_page_own),
	    cmocka_unit_test(test_refusals_show_no_raw_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
