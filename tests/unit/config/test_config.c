#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "util/xalloc.h"

static char *write_ini(const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", getenv("SIMQ_TEST_TMP"), name);
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	return path;
}

static struct config *load_text(const char *text)
{
	char *path = write_ini("t.ini", text, strlen(text));
	struct config *cfg = config_load(path, true);

	free(path);
	return cfg;
}

/* The messages of cfg joined by newlines, for substring checks. */
static char *all_errors(const struct config *cfg)
{
	size_t total = 1;
	char *s;

	for (size_t i = 0; i < config_error_count(cfg); i++)
		total += strlen(config_error(cfg, i)) + 1;
	s = xcalloc(1, total);
	for (size_t i = 0; i < config_error_count(cfg); i++) {
		strcat(s, config_error(cfg, i));
		strcat(s, "\n");
	}
	return s;
}

#define assert_errors_contain(cfg, needle)                                                                             \
	do {                                                                                                           \
		char *all_ = all_errors(cfg);                                                                          \
		if (strstr(all_, needle) == NULL)                                                                      \
			fail_msg("no error contains \"%s\"; errors were:\n%s", needle, all_);                          \
		free(all_);                                                                                            \
	} while (0)

static void test_defaults_without_a_file(void **state)
{
	struct config *cfg = config_new();

	assert_int_equal(config_error_count(cfg), 0);
	assert_int_equal(config_int(cfg, "scheduler", "max_retries"), 3);
	assert_true(config_double(cfg, "scheduler", "backoff_base") == 5.0);
	assert_true(config_double(cfg, "scheduler", "backoff_max") == 300.0);
	assert_string_equal(config_str(cfg, "store", "durability"), "normal");
	assert_int_equal(config_int(cfg, "server", "port"), 7360);
	assert_true(config_bool(cfg, "ui", "bell"));
	assert_string_equal(config_str(cfg, "keys", "quit"), "q");
	assert_null(config_section_nth(cfg, "backend", 0));
	config_free(&cfg);
	assert_null(cfg);
}

static void test_missing_default_file_is_not_an_error(void **state)
{
	struct config *cfg = config_load("/nonexistent/simq.ini", false);

	assert_int_equal(config_error_count(cfg), 0);
	assert_null(config_path(cfg));
	config_free(&cfg);
	cfg = config_load("/nonexistent/simq.ini", true);
	assert_int_equal(config_error_count(cfg), 1);
	assert_errors_contain(cfg, "/nonexistent/simq.ini: cannot open it: No such file or directory");
	config_free(&cfg);
}

static void test_directory_given_as_file(void **state)
{
	struct config *cfg = config_load(getenv("SIMQ_TEST_TMP"), true);

	assert_int_equal(config_error_count(cfg), 1);
	assert_errors_contain(cfg, "is a directory");
	config_free(&cfg);
}

static void test_valid_file_is_typed(void **state)
{
	struct config *cfg = load_text("# a comment\n"
	                               "[Server]\n"
	                               "listen = 127.0.0.1\n"
	                               "port = 8080 ; inline comment\n"
	                               "token = \"0123456789abcdef0123\"\n"
	                               "\n"
	                               "[backend ws1]\n"
	                               "url = http://lab-ws1:1080/RPC2\n"
	                               "slots = 2\n"
	                               "[backend ws2]\n"
	                               "url = http://lab-ws2:1080/RPC2\n"
	                               "[scheduler]\n"
	                               "backoff_base = 0.2\n"
	                               "backoff_max = 2m\n"
	                               "jitter = 0.1\n"
	                               "retry_faults = license, Connection lost\n"
	                               "[store]\n"
	                               "durability = FULL\n"
	                               "[webhook slack]\n"
	                               "url = https://hooks.example.invalid/T000\n"
	                               "digest = 07:30\n"
	                               "events = failed, queue_drained\n"
	                               "[ui]\n"
	                               "bell = off\n"
	                               "[keys]\n"
	                               "quit = Q, C-c\n");

	assert_int_equal(config_error_count(cfg), 0);
	assert_string_equal(config_str(cfg, "server", "listen"), "127.0.0.1");
	assert_int_equal(config_int(cfg, "server", "port"), 8080);
	assert_int_equal(config_sec_line(config_section(cfg, "server", NULL), "port"), 4);
	assert_string_equal(config_str(cfg, "server", "token"), "0123456789abcdef0123");
	const struct config_section *b0 = config_section_nth(cfg, "backend", 0);
	const struct config_section *b1 = config_section_nth(cfg, "backend", 1);

	assert_non_null(b0);
	assert_non_null(b1);
	assert_null(config_section_nth(cfg, "backend", 2));
	assert_string_equal(config_section_name(b0), "ws1");
	assert_int_equal(config_section_line(b0), 7);
	assert_int_equal(config_sec_int(b0, "slots"), 2);
	assert_int_equal(config_sec_int(b1, "slots"), 1);
	assert_int_equal(config_sec_int(b1, "max_batch"), 16);
	assert_string_equal(config_sec_str(b1, "url"), "http://lab-ws2:1080/RPC2");
	assert_true(config_double(cfg, "scheduler", "backoff_base") == 0.2);
	assert_true(config_double(cfg, "scheduler", "backoff_max") == 120);
	assert_true(config_double(cfg, "scheduler", "jitter") == 0.1);
	assert_string_equal(config_str(cfg, "store", "durability"), "FULL");
	const struct config_section *wh = config_section(cfg, "webhook", "slack");

	assert_non_null(wh);
	assert_int_equal(config_sec_int(wh, "digest"), 7 * 60 + 30);
	assert_string_equal(config_sec_str(wh, "format"), "slack");
	assert_false(config_bool(cfg, "ui", "bell"));
	assert_string_equal(config_str(cfg, "keys", "quit"), "Q, C-c");
	config_free(&cfg);
}

static void test_numbers_are_validated_by_us(void **state)
{
	struct config *cfg = load_text("[server]\n"
	                               "port = 127.0.0.1\n"
	                               "[backend a]\n"
	                               "slots = 0x10\n"
	                               "max_batch = -1\n"
	                               "[scheduler]\n"
	                               "backoff_base = 5x\n"
	                               "max_retries = 3.5\n"
	                               "down_after = 99999999999999999999999\n"
	                               "jitter = 2\n");

	assert_int_equal(config_error_count(cfg), 7);
	assert_errors_contain(cfg, "t.ini:2: [server] port = \"127.0.0.1\": not a whole number (no fractions here); "
	                           "allowed: a whole number from 1 to 65535");
	assert_errors_contain(cfg, "t.ini:4: [backend a] slots = \"0x10\": hexadecimal is not accepted");
	assert_errors_contain(cfg, "t.ini:5: [backend a] max_batch = \"-1\": out of range; allowed: a whole number "
	                           "from 1 to 1000");
	assert_errors_contain(cfg, "t.ini:7: [scheduler] backoff_base = \"5x\": not a duration");
	assert_errors_contain(cfg, "t.ini:8: [scheduler] max_retries = \"3.5\"");
	assert_errors_contain(cfg, "t.ini:9: [scheduler] down_after");
	assert_errors_contain(cfg, "t.ini:10: [scheduler] jitter = \"2\": out of range");
	/* Bad values leave the defaults in place. */
	assert_int_equal(config_int(cfg, "server", "port"), 7360);
	config_free(&cfg);
}

static void test_units_on_durations_are_accepted(void **state)
{
	struct config *cfg = load_text("[scheduler]\nbackoff_base = 5s\nbackoff_max = 1h\n"
	                               "[backend x]\ncall_timeout = 250ms\n");

	/* call_timeout is at least 1 s. */
	assert_int_equal(config_error_count(cfg), 1);
	assert_errors_contain(cfg, "t.ini:5: [backend x] call_timeout = \"250ms\": out of range; allowed: a duration "
	                           "from 1s to 7d");
	assert_true(config_double(cfg, "scheduler", "backoff_base") == 5);
	assert_true(config_double(cfg, "scheduler", "backoff_max") == 3600);
	config_free(&cfg);
}

static void test_unknown_names_get_suggestions(void **state)
{
	struct config *cfg = load_text("[sheduler]\nmax_retries = 2\n"
	                               "[scheduler]\nmax_retires = 2\nfrobnicate = 1\n"
	                               "[store]\ndurability = ful\n");

	assert_int_equal(config_error_count(cfg), 4);
	assert_errors_contain(cfg, "t.ini:1: unknown section [sheduler]; did you mean [scheduler]?");
	assert_errors_contain(cfg, "t.ini:4: [scheduler] unknown key \"max_retires\"; did you mean \"max_retries\"?");
	assert_errors_contain(cfg, "t.ini:5: [scheduler] unknown key \"frobnicate\"; keys here are: start_paused, max_retries, ");
	assert_errors_contain(cfg, "t.ini:7: [store] durability = \"ful\": \"ful\" is not allowed; did you mean "
	                           "\"full\"?; allowed: one of: normal, full");
	config_free(&cfg);
}

static void test_every_kind_of_value_error(void **state)
{
	struct config *cfg = load_text("[server]\n"
	                               "listen = 127.0.0.1:80\n"
	                               "token = short\n"
	                               "[backend b]\n"
	                               "url = ftp://x\n"
	                               "[webhook w]\n"
	                               "url = http://\n"
	                               "events = failed, explode\n"
	                               "digest = 25:00\n"
	                               "digest_on_drain = maybe\n"
	                               "[keys]\n"
	                               "quit = Ctrl-Q\n"
	                               "help = ,\n");

	assert_errors_contain(cfg, "t.ini:2: [server] listen = \"127.0.0.1:80\": not an address (give the port in "
	                           "the port key, not here)");
	assert_errors_contain(cfg, "t.ini:3: [server] token = (not shown): 5 characters is too short");
	assert_errors_contain(cfg, "t.ini:5: [backend b] url = \"ftp://x\": not an http:// or https:// URL");
	assert_errors_contain(cfg, "t.ini:7: [webhook w] url = \"http://\": the URL names no host");
	assert_errors_contain(cfg, "t.ini:8: [webhook w] events = \"failed, explode\": \"explode\" is not allowed");
	assert_errors_contain(cfg, "t.ini:9: [webhook w] digest = \"25:00\": not a time of day HH:MM");
	assert_errors_contain(cfg, "t.ini:10: [webhook w] digest_on_drain = \"maybe\": not a boolean");
	assert_errors_contain(cfg, "t.ini:12: [keys] quit = \"Ctrl-Q\": \"Ctrl-Q\" is not a key");
	assert_errors_contain(cfg, "t.ini:13: [keys] help = \",\": an empty item");
	config_free(&cfg);
}

static void test_structure_errors(void **state)
{
	struct config *cfg = load_text("orphan = 1\n"
	                               "[backend]\n"
	                               "[server extra]\n"
	                               "[webhook hook]\n"
	                               "events = failed\n"
	                               "[scheduler]\n"
	                               "max_retries = 1\n"
	                               "max_retries = 2\n"
	                               "[scheduler]\n");

	assert_errors_contain(cfg, "t.ini:1: \"orphan\" is outside any section");
	assert_errors_contain(cfg, "t.ini:2: [backend] needs a name, e.g. [backend local]");
	assert_errors_contain(cfg, "t.ini:3: [server extra]: the [server] section takes no name");
	assert_errors_contain(cfg, "t.ini:4: [webhook hook] has no url; it is required");
	assert_errors_contain(cfg, "t.ini:8: [scheduler] max_retries is set twice (first at line 7)");
	assert_errors_contain(cfg, "t.ini:9: section [scheduler] appears twice (first at line 6)");
	config_free(&cfg);
}

static void test_cross_key_rules(void **state)
{
	struct config *cfg = load_text("[scheduler]\nbackoff_base = 1m\nbackoff_max = 30s\n"
	                               "[keys]\nhelp = q\n");

	assert_int_equal(config_error_count(cfg), 2);
	assert_errors_contain(cfg, "t.ini:3: [scheduler] backoff_max = \"30s\" is less than backoff_base = \"1m\"");
	assert_errors_contain(cfg, "t.ini:5: [keys] q is bound to both help and quit");
	config_free(&cfg);
}

static void test_syntax_errors_do_not_hide_others(void **state)
{
	struct config *cfg = load_text("[scheduler]\n"
	                               "this line is wrong\n"
	                               "max_retries = lots\n"
	                               "also wrong\n"
	                               "[store]\n"
	                               "durability = sometimes\n");

	assert_int_equal(config_error_count(cfg), 4);
	assert_errors_contain(cfg, "t.ini:2: syntax error: \"this line is wrong\" is neither a [section] header nor "
	                           "key = value");
	assert_errors_contain(cfg, "t.ini:4: syntax error: \"also wrong\"");
	assert_errors_contain(cfg, "t.ini:3: [scheduler] max_retries = \"lots\": not a whole number");
	assert_errors_contain(cfg, "t.ini:6: [store] durability = \"sometimes\"");
	config_free(&cfg);
}

static void test_very_long_lines(void **state)
{
	char *text = xcalloc(1, 5000);

	strcpy(text, "[notify]\non_failed = echo ");
	memset(text + strlen(text), 'x', 3000);
	strcat(text, "\n[scheduler]\nmax_retries = nope\n");
	struct config *cfg = load_text(text);

	assert_int_equal(config_error_count(cfg), 2);
	assert_errors_contain(cfg, "t.ini:2: the line is 3017 bytes long; lines may be at most 1022 bytes");
	assert_errors_contain(cfg, "t.ini:4: [scheduler] max_retries = \"nope\"");
	config_free(&cfg);
	free(text);
}

static void test_empty_values(void **state)
{
	struct config *cfg = load_text("[server]\nlisten =\ntoken =\n[scheduler]\nmax_retries =\n"
	                               "[store]\ndurability = \n[notify]\non_failed =\n[keys]\nquit =\n");

	assert_int_equal(config_error_count(cfg), 3);
	assert_errors_contain(cfg,
	                      "t.ini:5: [scheduler] max_retries = \"\": empty (delete the line to keep the default)");
	assert_errors_contain(cfg, "t.ini:7: [store] durability = \"\": empty");
	assert_errors_contain(cfg, "t.ini:11: [keys] quit = \"\": empty");
	assert_string_equal(config_str(cfg, "server", "listen"), "");
	assert_int_equal(config_int(cfg, "scheduler", "max_retries"), 3);
	config_free(&cfg);
}

static void test_non_utf8_bytes(void **state)
{
	static const char text[] = "[notify]\non_failed = echo \xff\xfe\n[scheduler]\nmax_retries = 2\n[\xe9t\xe9]\n";
	char *path = write_ini("latin1.ini", text, sizeof text - 1);
	struct config *cfg = config_load(path, true);

	assert_errors_contain(cfg, "latin1.ini:2: [notify] on_failed = \"echo \\xff\\xfe\": not valid UTF-8 (byte 0xff "
	                           "at offset 5)");
	assert_errors_contain(cfg, "latin1.ini:5: unknown section");
	assert_int_equal(config_int(cfg, "scheduler", "max_retries"), 2);
	config_free(&cfg);
	free(path);
}

static void test_nul_bytes(void **state)
{
	static const char text[] = "[scheduler]\nmax_retries = 1\0junk\ndown_after = 0\n";
	char *path = write_ini("nul.ini", text, sizeof text - 1);
	struct config *cfg = config_load(path, true);

	assert_int_equal(config_error_count(cfg), 2);
	assert_errors_contain(cfg, "nul.ini:2: the line holds a NUL byte");
	assert_errors_contain(cfg, "nul.ini:3: [scheduler] down_after = \"0\": out of range");
	config_free(&cfg);
	free(path);
}

static void test_defaults_file_round_trips(void **state)
{
	char *path = xasprintf("%s/defaults.ini", getenv("SIMQ_TEST_TMP"));
	FILE *fp = fopen(path, "w");
	struct config *cfg;

	assert_non_null(fp);
	config_write_defaults(fp);
	fclose(fp);
	cfg = config_load(path, true);
	if (config_error_count(cfg))
		fail_msg("defaults do not load: %s", config_error(cfg, 0));
	/* Every option of an unnamed section is in the file, set to its default. */
	for (size_t i = 0; i < option_count; i++) {
		const struct option_def *opt = &option_table[i];

		if (option_section_find(opt->section)->named)
			continue;
		const struct config_section *sec = config_section(cfg, opt->section, NULL);

		assert_true(config_sec_line(sec, opt->key) > 0);
		assert_string_equal(config_sec_str(sec, opt->key), opt->def);
	}
	config_free(&cfg);
	free(path);
}

/* Issue 14: the token is never echoed, whatever is wrong with its line. */
static void test_token_is_never_shown(void **state)
{
	struct config *cfg = load_text("[server]\ntoken = tooshort\n");
	char *all = all_errors(cfg);

	assert_errors_contain(cfg, "t.ini:2: [server] token = (not shown): 8 characters is too short");
	assert_null(strstr(all, "tooshort"));
	free(all);
	config_free(&cfg);
	cfg = load_text("[server]\ntoken \"a-secret-token-of-some-length\n  token=another-secret-value-here \"x\n");
	all = all_errors(cfg);
	assert_errors_contain(cfg, "t.ini:2: syntax error: \"token ... (the rest is not shown)\"");
	assert_null(strstr(all, "secret"));
	free(all);
	config_free(&cfg);
}

/* The line simq server prints: where the dashboard is and where its token is (the file, or [server] token's file). */
static void test_dashboard_line(void **state)
{
	struct config *cfg = load_text("[dashboard]\nlisten = 127.0.0.1\nport = 7400\n");
	char *line = config_dashboard_line(cfg, "/var/state");
	char *want;

	assert_string_equal(line, "dashboard on http://127.0.0.1:7400/ (token in /var/state/token)");
	free(line);
	config_free(&cfg);
	cfg = load_text("[server]\ntoken = a-token-of-sixteen-or-more\n[dashboard]\nlisten = ::1\n");
	line = config_dashboard_line(cfg, "/var/state");
	want =
	    xasprintf("dashboard on http://[::1]:7361/ (token: [server] token in %s/t.ini)", getenv("SIMQ_TEST_TMP"));
	assert_string_equal(line, want);
	free(want);
	free(line);
	config_free(&cfg);
	cfg = load_text("[server]\ntoken = a-token-of-sixteen-or-more\n");
	assert_null(config_dashboard_line(cfg, "/var/state"));
	config_free(&cfg);
}

/* Issue 14: a hook command sh could not parse is refused when the file is read, not when it runs. */
static void test_hook_commands_are_quoted_right(void **state)
{
	struct config *cfg = load_text("[notify]\non_failed = notify-send 'task failed\n"
				       "on_completed = echo \"done \\\" and ' fine\"\n"
				       "on_cancelled = echo 'it''s' \"x\"\n");

	assert_int_equal(config_error_count(cfg), 1);
	assert_errors_contain(cfg, "t.ini:2: [notify] on_failed = \"notify-send 'task failed\": the ' at character 13 is "
				   "never closed; allowed: a shell command");
	config_free(&cfg);
	cfg = load_text("[notify]\non_failed = echo \"x\n");
	assert_errors_contain(cfg, "[notify] on_failed = \"echo \"x\": the \" at character 6 is never closed");
	config_free(&cfg);
	/* iniparser reads "echo \"x" as the quoted value echo \ (it knows no escapes): sh would refuse it. */
	cfg = load_text("[notify]\non_failed = \"echo \\\"x\"\n");
	assert_errors_contain(cfg, "it ends with a lone \\ (character 6)");
	config_free(&cfg);
}

/* Issue 14: simq server --plecs URL is checked as [backend] url is. */
static void test_a_value_given_outside_a_file(void **state)
{
	char *why = NULL;

	assert_true(config_check_value("backend", "url", "http://127.0.0.1:1080/RPC2", &why));
	assert_false(config_check_value("backend", "url", "ftp://x", &why));
	assert_string_equal(why, "not an http:// or https:// URL; allowed: an http:// or https:// URL");
	free(why);
	assert_false(config_check_value("backend", "url", "http://host:0/", &why));
	assert_non_null(strstr(why, "port is not a number from 1 to 65535"));
	free(why);
}

/* Issue 14: config --check says when the socket's path is longer than a Unix socket takes. */
static void test_socket_path_length(void **state)
{
	char *text = xasprintf("[server]\nsocket = /tmp/%0150d/simq.sock\n", 7);
	struct config *cfg = load_text(text);

	assert_int_equal(config_error_count(cfg), 0);
	config_check_socket(cfg);
	assert_errors_contain(cfg, "t.ini:2: [server] socket = \"/tmp/000");
	assert_errors_contain(cfg, "the socket's path would be 165 bytes long");
	assert_errors_contain(cfg, "allowed: at most 107 bytes");
	config_free(&cfg);
	free(text);
	/* A relative socket lives in state_dir: the two together are measured. */
	text = xasprintf("[server]\nstate_dir = /tmp/%0100d\nsocket = sockets/simq.sock\n", 7);
	cfg = load_text(text);
	config_check_socket(cfg);
	assert_errors_contain(cfg, "t.ini:3: [server] socket = \"sockets/simq.sock\": the socket's path would be 123 bytes");
	config_free(&cfg);
	free(text);
	cfg = load_text("[server]\nstate_dir = /tmp/short\n");
	config_check_socket(cfg);
	assert_int_equal(config_error_count(cfg), 0);
	config_free(&cfg);
}

static void test_edit_distance(void **state)
{
	assert_int_equal(config_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(config_edit_distance("", "abc"), 3);
	assert_int_equal(config_edit_distance("Slots", "slots"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_without_a_file),
	    cmocka_unit_test(test_missing_default_file_is_not_an_error),
	    cmocka_unit_test(test_directory_given_as_file),
	    cmocka_unit_test(test_valid_file_is_typed),
	    cmocka_unit_test(test_numbers_are_validated_by_us),
	    cmocka_unit_test(test_units_on_durations_are_accepted),
	    cmocka_unit_test(test_unknown_names_get_suggestions),
	    cmocka_unit_test(test_every_kind_of_value_error),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_cross_key_rules),
	    cmocka_unit_test(test_syntax_errors_do_not_hide_others),
	    cmocka_unit_test(test_very_long_lines),
	    cmocka_unit_test(test_empty_values),
	    cmocka_unit_test(test_non_utf8_bytes),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_defaults_file_round_trips),
	    cmocka_unit_test(test_edit_distance),
	    cmocka_unit_test(test_token_is_never_shown),
	    cmocka_unit_test(test_dashboard_line),
	    cmocka_unit_test(test_hook_commands_are_quoted_right),
	    cmocka_unit_test(test_a_value_given_outside_a_file),
	    cmocka_unit_test(test_socket_path_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
