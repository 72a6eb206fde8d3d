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

	assert_int_equal(dashboard_host_ok(h, host, host ? strlen(host) : 0, &why), ok);
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
	struct dashboard_hosts *h =
	    dashboard_hosts_new("127.0.0.1", 7361, " simq.lab.example ,dash.example,, ", NULL, NULL);

	expect_host(h, "127.0.0.1:7361", true, NULL);
	expect_host(h, "127.0.0.1", true, NULL);
	expect_host(h, "localhost:7361", true, NULL);
	expect_host(h, "LOCALHOST:7361", true, NULL);
	expect_host(h, "simq.lab.example:7361", true, NULL);
	expect_host(h, "Dash.Example", true, NULL);
	/* A name an attacker points at this machine, and names that only look like ours. */
	expect_host(h, "evil.example:7361", false,
	            "Host evil.example:7361 is not a name of the dashboard, alone or with its port 7361 (allowed: "
	            "127.0.0.1, localhost, "
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

/* The Host is NAME or NAME:PORT exactly, PORT the dashboard's; nothing after it (issue 18's adversary). */
static void test_host_is_an_exact_match(void **state)
{
	struct dashboard_hosts *h =
	    dashboard_hosts_new("127.0.0.1", 7361, "proxy.example:8443, dash.example", NULL, NULL);
	char *why = NULL;

	expect_host(h, "dash.example:1", false, "alone or with its port 7361");
	expect_host(h, "localhost:7361.evil.com", false, "is not a name");
	expect_host(h, "127.0.0.1:7361@evil.com", false, "is not a name");
	expect_host(h, "localhost:evil", false, "is not a name");
	expect_host(h, "127.0.0.1:99999999999999999999", false, "is not a name");
	expect_host(h, "127.0.0.1:065535", false, "is not a name");
	expect_host(h, "127.0.0.1:", false, "is not a name");
	expect_host(h, ":7361", false, "is not a name");
	expect_host(h, "localhost.", false, "is not a name");
	expect_host(h, "[127.0.0.1]:7361", false, "is not a name");
	expect_host(h, "127.0.0.1 :7361", false, "is not a name");
	/* A NUL inside the header: what follows it counts (shown escaped). */
	static const char nul[] = "localhost\0.evil.com";

	assert_false(dashboard_host_ok(h, nul, sizeof nul - 1, &why));
	assert_non_null(strstr(why, "Host localhost\\x00.evil.com is not a name"));
	free(why);
	/* An allowed name with a port of its own (a proxy's) is that port alone. */
	expect_host(h, "proxy.example:8443", true, NULL);
	expect_host(h, "proxy.example", false, "is not a name");
	expect_host(h, "proxy.example:7361", false, "is not a name");
	expect_host(h, "dash.example", true, NULL);
	expect_host(h, "dash.example:7361", true, NULL);
	expect_host(h, "dash.example:8443", false, "is not a name");
	dashboard_hosts_free(&h);
}

/*
 * ssh -L 8080:127.0.0.1:7361: the page is at localhost:8080 (or 127.0.0.1:8080, [::1]:8080).  Listening
 * on loopback (or every address), a loopback name with any port is the dashboard's: no other site is
 * at such a name.  Listening on one other address, it is not; other names keep their exact port.
 */
static void test_loopback_any_port(void **state)
{
	struct dashboard_hosts *h = dashboard_hosts_new("127.0.0.1", 7361, "dash.example", NULL, NULL);
	char *why = NULL;

	expect_host(h, "127.0.0.1:8080", true, NULL);
	expect_host(h, "localhost:8080", true, NULL);
	expect_host(h, "LocalHost:1", true, NULL);
	expect_host(h, "[::1]:8080", true, NULL);
	expect_host(h, "dash.example:8080", false, "alone or with its port 7361");
	expect_host(h, "127.0.0.2:8080", false, "is not a name");
	expect_host(h, "localhost.:8080", false, "is not a name");
	expect_host(h, "localhost:8080.evil.com", false, "is not a name");
	/* The Origin must then be that Host's own. */
	assert_true(dashboard_origin_ok(h, "localhost:8080", "http://localhost:8080", &why));
	assert_false(dashboard_origin_ok(h, "localhost:8080", "http://localhost:7361", &why));
	free(why);
	dashboard_hosts_free(&h);
	h = dashboard_hosts_new("::1", 7361, NULL, NULL, NULL);
	expect_host(h, "[::1]:9000", true, NULL);
	expect_host(h, "localhost:9000", true, NULL);
	dashboard_hosts_free(&h);
	h = dashboard_hosts_new("0.0.0.0", 7361, NULL, NULL, NULL);
	expect_host(h, "localhost:8080", true, NULL);
	expect_host(h, "192.168.1.5:8080", false, "alone or with its port 7361");
	dashboard_hosts_free(&h);
	h = dashboard_hosts_new("192.168.1.5", 7361, NULL, NULL, NULL);
	expect_host(h, "localhost:8080", false, "alone or with its port 7361");
	expect_host(h, "localhost:7361", true, NULL);
	dashboard_hosts_free(&h);
}

/* [dashboard] allowed_origins: the https:// origin of a TLS proxy in front of the page. */
static void test_allowed_origins(void **state)
{
	char *err = NULL, *why = NULL;
	struct dashboard_hosts *h = dashboard_hosts_new("127.0.0.1", 7361, "simq.example",
	                                                " https://simq.example, https://simq.example:8443 ", &err);

	assert_non_null(h);
	assert_true(dashboard_origin_ok(h, "simq.example", "https://simq.example", &why));
	assert_true(dashboard_origin_ok(h, "127.0.0.1:7361", "HTTPS://SIMQ.example:8443", &why));
	assert_true(dashboard_origin_ok(h, "127.0.0.1:7361", "http://127.0.0.1:7361", &why));
	assert_null(why);
	assert_false(dashboard_origin_ok(h, "simq.example", "https://simq.example:9", &why));
	assert_string_equal(why, "Origin https://simq.example:9 is not the page's own (http://simq.example, or one of "
	                         "[dashboard] allowed_origins)");
	free(why);
	assert_false(dashboard_origin_ok(h, "simq.example", "https://evil.example", &why));
	free(why);
	dashboard_hosts_free(&h);
	/* What is not an origin is refused at start, saying what is allowed. */
	static const char *const bad[] = {"simq.example",
	                                  "https://simq.example/",
	                                  "https://simq.example/x",
	                                  "ftp://simq.example",
	                                  "https://user@simq.example",
	                                  "https://simq.example:99999",
	                                  "https://"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_null(dashboard_hosts_new("127.0.0.1", 7361, "", bad[i], &err));
		if (strstr(err, "[dashboard] allowed_origins: ") == NULL ||
		    strstr(err, "allowed: https://NAME") == NULL)
			fail_msg("%s: %s", bad[i], err);
		free(err);
		err = NULL;
	}
}

static void test_ipv6_and_every_address(void **state)
{
	struct dashboard_hosts *h = dashboard_hosts_new("::1", 7361, "", "", NULL);

	expect_host(h, "[::1]:7361", true, NULL);
	expect_host(h, "::1", true, NULL);
	expect_host(h, "[::2]:7361", false, "is not a name");
	dashboard_hosts_free(&h);
	h = dashboard_hosts_new("0.0.0.0", 7361, NULL, NULL, NULL);
	/* On every address any IP is one of this machine's (an IP is never a rebound name); names are not. */
	expect_host(h, "192.168.1.5:7361", true, NULL);
	expect_host(h, "[fe80::1]:7361", true, NULL);
	expect_host(h, "workstation.lab:7361", false, "allowed: 0.0.0.0, localhost, any IP address");
	dashboard_hosts_free(&h);
}

static void test_origin_is_the_page_own(void **state)
{
	char *why = NULL;

	assert_true(dashboard_origin_ok(NULL, "127.0.0.1:7361", "http://127.0.0.1:7361", &why));
	assert_true(dashboard_origin_ok(NULL, "LocalHost:7361", "http://localhost:7361", &why));
	assert_null(why);
	assert_false(dashboard_origin_ok(NULL, "127.0.0.1:7361", "http://evil.example:7361", &why));
	assert_string_equal(why, "Origin http://evil.example:7361 is not the page's own (http://127.0.0.1:7361)");
	free(why);
	assert_false(dashboard_origin_ok(NULL, "127.0.0.1:7361", "https://127.0.0.1:7361", &why));
	free(why);
	assert_false(dashboard_origin_ok(NULL, "127.0.0.1:7361", "http://127.0.0.1:7361.evil", &why));
	free(why);
	assert_false(dashboard_origin_ok(NULL, "127.0.0.1:7361", "", &why));
	assert_string_equal(why, "no Origin (a page's own is http://127.0.0.1:7361)");
	free(why);
	assert_false(dashboard_origin_ok(NULL, "", "http://", &why));
	free(why);
}

/* A refusal's words go to the log and to simq log's XML: a client's bytes in them are escaped, never raw. */
static void test_refusals_show_no_raw_bytes(void **state)
{
	static const char *const hostile[] = {"bad\xff\xfeutf8", "\xc0\xaf", "a\x1b]0;PWNED\x07\x1b[2J", "x\x01y"};
	struct dashboard_hosts *h = dashboard_hosts_new("127.0.0.1", 7361, "", NULL, NULL);
	char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		assert_false(dashboard_host_ok(h, hostile[i], strlen(hostile[i]), &why));
		for (const unsigned char *p = (const unsigned char *)why; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				fail_msg("Host refusal has byte 0x%02x raw: %s", *p, why);
		free(why);
		assert_false(dashboard_origin_ok(NULL, "127.0.0.1:7361", hostile[i], &why));
		for (const unsigned char *p = (const unsigned char *)why; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				fail_msg("Origin refusal has byte 0x%02x raw: %s", *p, why);
		free(why);
		assert_false(dashboard_origin_ok(h, hostile[i], "http://127.0.0.1:7361", &why));
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
	    cmocka_unit_test(test_host_is_an_exact_match),
	    cmocka_unit_test(test_loopback_any_port),
	    cmocka_unit_test(test_allowed_origins),
	    cmocka_unit_test(test_ipv6_and_every_address),
	    cmocka_unit_test(test_origin_is_the_page_own),
	    cmocka_unit_test(test_refusals_show_no_raw_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
