#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/summary.h"

static const struct summary night = {
	.queued = 1842, .running = 3, .failed = 2, .unseen = 1, .done = 1234567, .down = "lab2", .paused = true};

static void check(const struct summary *s, const char *fmt, unsigned flags, const char *want)
{
	char *err = NULL, *line = summary_format(s, fmt, flags, &err);

	if (line == NULL)
		fail_msg("%s: %s", fmt ? fmt : "(default)", err);
	if (strcmp(line, want) != 0)
		fail_msg("%s gave \"%s\", expected \"%s\"", fmt ? fmt : "(default)", line, want);
	free(line);
}

static void check_error(const char *fmt, const char *want)
{
	char *err = NULL, *line = summary_format(&night, fmt, 0, &err);

	if (line)
		fail_msg("%s was taken: \"%s\"", fmt, line);
	if (err == NULL || strstr(err, want) == NULL)
		fail_msg("%s: the message \"%s\" lacks \"%s\"", fmt, err ? err : "", want);
	free(err);
}

/* The default line, plain, for tmux, and in ASCII. */
static void test_default(void **state)
{
	struct summary calm = {.queued = 0};

	check(&night, NULL, 0, "simq 1,842▸ 3⚙ 2✗ · lab2 DOWN · paused");
	check(&night, NULL, SUMMARY_TMUX,
	      "simq 1,842▸ 3⚙ #[fg=red]2✗#[default] · #[fg=red]lab2 DOWN#[default] · paused");
	check(&night, NULL, SUMMARY_ASCII, "simq 1,842> 3* 2x - lab2 DOWN - paused");
	check(&calm, NULL, SUMMARY_TMUX, "simq 0▸ 0⚙ 0✗");
	/* Paused by simq itself: why, in red for tmux. */
	struct summary held = {.queued = 5, .paused = true, .why = "cannot save to simq.db"};

	check(&held, NULL, 0, "simq 5▸ 0⚙ 0✗ · paused: cannot save to simq.db");
	check(&held, NULL, SUMMARY_TMUX, "simq 5▸ 0⚙ 0✗ · paused: #[fg=red]cannot save to simq.db#[default]");
	check(&held, "{why?<{why}>}", 0, "<cannot save to simq.db>");
}

/* {field}, {field?text} with fields inside, counts with thousands. */
static void test_fields(void **state)
{
	struct summary s = night;

	check(&night, "{queued}|{running}|{failed}|{new}|{done}|{down}|{paused}", 0, "1,842|3|2|1|1,234,567|lab2|paused");
	check(&night, "{down?[{down} is {paused?not }up]}", 0, "[lab2 is not up]");
	s.down[0] = '\0';
	s.paused = false;
	s.unseen = 0;
	check(&s, "a{down?D}{paused?P}{new?N}b", 0, "ab");
	s.queued = 999;
	check(&s, "{queued}", 0, "999");
	s.queued = 1000;
	check(&s, "{queued}", 0, "1,000");
}

/* Styles stay for tmux only; a value cannot smuggle one in, nor a control character into a title. */
static void test_values_are_text(void **state)
{
	struct summary s = night;

	check(&night, "#[bold]{queued}#[nobold]", 0, "1,842");
	check(&night, "#[bold]{queued}#[nobold]", SUMMARY_TMUX, "#[bold]1,842#[nobold]");
	snprintf(s.down, sizeof s.down, "#[fg=blue]x\033]2;y\a");
	check(&s, "{down}", SUMMARY_TMUX, "##[fg=blue]x?]2;y?");
	check(&s, "{down}", 0, "#[fg=blue]x?]2;y?");
	check(&night, "ünï ✗", SUMMARY_ASCII, "?n? x");
}

static void test_errors(void **state)
{
	check_error("{queud}", "{queud} is no field; allowed: {queued} {running}");
	check_error("x {queued", "column 3: a { that is not closed with }");
	check_error("x {down?y", "column 3: a {field? that is not closed with }");
	check_error("x }", "column 3: a } with no { before it");
	check_error("#[fg=red", "a #[ style with no ]");
}

/* The names of DOWN backends that do not fit are counted, never cut in the middle. */
static void test_down_names_counted(void **state)
{
	xmlrpc_env env;
	xmlrpc_value *status, *backends = NULL;
	struct summary s;
	char name[80];

	(void)state;
	xmlrpc_env_init(&env);
	backends = xmlrpc_array_new(&env);
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof name, "d%02d%061d", i, 0);
		xmlrpc_value *b = xmlrpc_build_value(&env, "{s:s,s:b,s:b}", "name", name, "up", 0, "checking", 0);

		xmlrpc_array_append_item(&env, backends, b);
		xmlrpc_DECREF(b);
	}
	status = xmlrpc_build_value(&env, "{s:A}", "backends", backends);
	summary_read(status, &s);
	/* Seven names of 64 characters and their commas fit in 512 bytes with the count. */
	assert_non_null(strstr(s.down, ",d06"));
	assert_null(strstr(s.down, "d07"));
	assert_string_equal(s.down + strlen(s.down) - strlen(" +23 more"), " +23 more");
	xmlrpc_DECREF(status);
	xmlrpc_DECREF(backends);
	backends = xmlrpc_build_value(&env, "({s:s,s:b,s:b}{s:s,s:b,s:b,s:b}{s:s,s:b,s:b})", "name", "lab1", "up", 0,
				      "checking", 0, "name", "lab2", "up", 1, "checking", 0, "paused", 1, "name", "lab3", "up",
				      0, "checking", 0);
	status = xmlrpc_build_value(&env, "{s:A}", "backends", backends);
	summary_read(status, &s);
	assert_string_equal(s.down, "lab1,lab3");
	/* A backend the operator paused is named too: nothing new goes to it (the operator's finding). */
	assert_string_equal(s.held, "lab2");
	char *err = NULL, *line = summary_format(&s, NULL, 0, &err);

	assert_string_equal(line, "simq 0▸ 0⚙ 0✗ · lab1,lab3 DOWN · lab2 paused");
	free(line);
	xmlrpc_DECREF(status);
	xmlrpc_DECREF(backends);
	xmlrpc_env_clean(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_down_names_counted),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_values_are_text),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
