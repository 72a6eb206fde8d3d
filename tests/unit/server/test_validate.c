/* validate: the input rules of a task (issue 14), each refused with its field, its value and the rule. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/proto.h"
#include "server/validate.h"
#include "util/xalloc.h"

static char *dir, *model;

static int setup(void **state)
{
	const char *tmp = getenv("SIMQ_TEST_TMP");
	FILE *f;

	dir = xasprintf("%s/validate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	model = xasprintf("%s/buck.plecs", dir);
	f = fopen(model, "w");
	assert_non_null(f);
	fputs("Plecs {\n  Name \"buck\"\n}\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	free(model);
	free(dir);
	return 0;
}

/* The task {"model": model, key: value} where value is JSON text (NULL: no such member). */
static xmlrpc_value *task_with(const char *key, const char *json)
{
	xmlrpc_env env;
	json_t *j = json_pack("{s:s}", "model", model);
	xmlrpc_value *v;

	if (key)
		json_object_set_new(j, key, json_loads(json, JSON_DECODE_ANY, NULL));
	xmlrpc_env_init(&env);
	v = proto_from_json(&env, j);
	assert_false(env.fault_occurred);
	xmlrpc_env_clean(&env);
	json_decref(j);
	return v;
}

/* Validates v (consumed); the API's message for it, or NULL when it was accepted. */
static char *refusal(xmlrpc_value *v)
{
	struct validate_error e;
	struct task *t = NULL;
	char *text = NULL;

	if (!validate_task(v, NULL, &t, &e)) {
		text = validate_error_text(&e, "task 3: ");
		validate_error_clear(&e);
	}
	task_free(&t);
	xmlrpc_DECREF(v);
	return text;
}

static void expect_refused(xmlrpc_value *v, const char *words)
{
	char *text = refusal(v);

	if (text == NULL)
		fail_msg("accepted; expected \"%s\"", words);
	if (strstr(text, words) == NULL)
		fail_msg("\"%s\" does not hold \"%s\"", text, words);
	if (strstr(text, "(null)"))
		fail_msg("\"%s\" says (null)", text);
	free(text);
}

static void expect_accepted(xmlrpc_value *v)
{
	char *text = refusal(v);

	if (text)
		fail_msg("refused: %s", text);
}

/* The model with path, as given. */
static xmlrpc_value *model_at(const char *path)
{
	xmlrpc_env env;
	xmlrpc_value *v;

	xmlrpc_env_init(&env);
	v = xmlrpc_build_value(&env, "{s:s}", "model", path);
	xmlrpc_env_clean(&env);
	return v;
}

/* A model is an absolute path of a regular, readable file whose name ends in .plecs: each rule named. */
static void test_model_rules(void **state)
{
	char *path;

	expect_accepted(model_at(model));
	expect_refused(model_at("buck.plecs"), "task 3: model \"buck.plecs\": not an absolute path");
	expect_refused(model_at("/etc/passwd"), "model \"/etc/passwd\": not a .plecs file; a model is a PLECS model file "
						"whose name ends in .plecs");
	path = xasprintf("%s/none.plecs", dir);
	expect_refused(model_at(path), "none.plecs\": No such file or directory; a model is an existing file");
	free(path);
	path = xasprintf("%s/folder.plecs", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(model_at(path), "folder.plecs\": a directory, not a regular file; a model is a regular file");
	free(path);
	path = xasprintf("%s/fifo.plecs", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_refused(model_at(path), "fifo.plecs\": a device, FIFO or socket, not a regular file");
	free(path);
	/* A regular file that cannot be read, even by root: /proc/self/mem at offset 0. */
	path = xasprintf("%s/mem.plecs", dir);
	assert_int_equal(symlink("/proc/self/mem", path), 0);
	expect_refused(model_at(path), "mem.plecs\": cannot be read by the server (Input/output error); a model is a "
				       "file the server can read");
	free(path);
	if (geteuid() != 0) {
		path = xasprintf("%s/locked.plecs", dir);
		assert_int_equal(link(model, path), 0);
		assert_int_equal(chmod(path, 0), 0);
		expect_refused(model_at(path), "cannot be read by the server (Permission denied)");
		chmod(path, 0600);
		free(path);
	}
	expect_refused(model_at(""), "task 3: model \"\": required");
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	expect_refused(xmlrpc_build_value(&env, "{s:{}}", "vars"), "task 3: model: required: the absolute path of a "
								  ".plecs model file (a string)");
	xmlrpc_env_clean(&env);
}

/* Names and tags: no control characters (C0, DEL, C1) and no bidirectional formatting. */
static void test_names_and_tags_are_printable(void **state)
{
	static const struct {
		const char *json, *words;
	} names[] = {
		{"\"tab\\there\"", "holds a control character (U+0009 at byte 4)"},
		{"\"csi\\u009b31m\"", "task 3: name \"csi\\u009b31m\": holds a control character (U+009B at byte 4)"},
		{"\"del\\u007f\"", "U+007F"},
		{"\"abc\\u202edcba\"", "name \"abc\\u202edcba\": holds a bidirectional formatting character (U+202E at byte 4)"},
		{"\"x\\u2066y\"", "U+2066"},
		{"\"line\\u2028sep\"", "U+2028"},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *tags = xasprintf("[\"ok\", %s]", names[i].json);

		expect_refused(task_with("name", names[i].json), names[i].words);
		expect_refused(task_with("tags", tags), "task 3: tags ");
		free(tags);
	}
	expect_accepted(task_with("name", "\"caf\\u00e9 \\u00b5F \\u00a0nbsp\""));
	expect_accepted(task_with("tags", "[\"night\", \"buck\"]"));
}

/* Tags are an array of non-empty strings without commas, at most 32. */
static void test_tags_are_an_array(void **state)
{
	char *many;

	expect_refused(task_with("tags", "\"night,buck\""), "task 3: tags \"night,buck\": allowed: an array of at most 32 "
							   "strings");
	expect_refused(task_with("tags", "[\"a,b\"]"), "tags \"a,b\": holds a comma; allowed: a tag is a string without "
						       "commas");
	expect_refused(task_with("tags", "[\"\"]"), "tags \"\": empty");
	expect_refused(task_with("tags", "[1]"), "tags 1: allowed: a tag (a string)");
	many = xstrdup("[\"t\"");
	for (int i = 0; i < 32; i++) {
		char *more = xasprintf("%s, \"t%d\"", many, i);

		free(many);
		many = more;
	}
	char *closed = xasprintf("%s]", many);

	expect_refused(task_with("tags", closed), "task 3: tags [\"t\",\"t0\",\"t1\"");
	expect_refused(task_with("tags", closed), "...: allowed: an array of at most 32 strings");
	free(closed);
	free(many);
}

/* NaN and infinities are refused with a message that names the field, never "(null)". */
static void test_nan_and_infinities(void **state)
{
	static const double bad[] = {NAN, INFINITY, -INFINITY};
	static const char *const shown[] = {"nan", "inf", "-inf"};

	for (size_t i = 0; i < 3; i++) {
		xmlrpc_env env;
		xmlrpc_value *v;
		char *words;

		xmlrpc_env_init(&env);
		v = xmlrpc_build_value(&env, "{s:s,s:{s:d}}", "model", model, "vars", "D", bad[i]);
		words = xasprintf("task 3: vars.D %s: %s is not a number PLECS takes; allowed: finite numbers", shown[i],
				  i == 0 ? "NaN" : shown[i]);
		expect_refused(v, words);
		free(words);
		v = xmlrpc_build_value(&env, "{s:s,s:{s:d}}", "model", model, "solver", "MaxStep", bad[i]);
		words = xasprintf("task 3: solver.MaxStep %s: ", shown[i]);
		expect_refused(v, words);
		free(words);
		v = xmlrpc_build_value(&env, "{s:s,s:d}", "model", model, "timeout", bad[i]);
		words = xasprintf("task 3: timeout %s: allowed: a number of seconds", shown[i]);
		expect_refused(v, words);
		free(words);
		v = xmlrpc_build_value(&env, "{s:s,s:{s:(dd)}}", "model", model, "vars", "K", 1.0, bad[i]);
		words = xasprintf("task 3: vars.K [1.0,%s]: ", shown[i]);
		expect_refused(v, words);
		free(words);
		xmlrpc_env_clean(&env);
	}
}

/* Every fault shows the value given, cut to 80 characters: a 10 MB name is not echoed. */
static void test_values_are_shown_cut(void **state)
{
	size_t big = 10 * 1024 * 1024;
	char *huge = xmalloc(big + 1), *text;
	xmlrpc_env env;
	xmlrpc_value *v;

	memset(huge, 'n', big);
	huge[big] = '\0';
	xmlrpc_env_init(&env);
	v = xmlrpc_build_value(&env, "{s:s,s:s}", "model", model, "name", huge);
	text = refusal(v);
	assert_non_null(text);
	assert_true(strlen(text) < 300);
	assert_non_null(strstr(text, "nnnnnnnnnn... (10485760 bytes)\": 10485760 bytes; at most 200 are allowed"));
	free(text);
	v = xmlrpc_build_value(&env, "{s:s,s:{s:i}}", "model", model, "vars", huge, 1);
	text = refusal(v);
	assert_true(strlen(text) < 400);
	assert_non_null(strstr(text, "... (10485760 bytes): not a variable name"));
	free(text);
	xmlrpc_env_clean(&env);
	free(huge);
	/* Strings are quoted, other values shown as JSON; a field that is no struct says what it got. */
	expect_refused(task_with("priority", "\"urgent\""), "task 3: priority \"urgent\": allowed: critical, high, normal, "
							  "low (any case) or 0-3");
	expect_refused(task_with("priority", "7"), "task 3: priority 7: allowed");
	expect_refused(task_with("vars", "[1,2]"), "task 3: vars [1,2]: allowed: a struct of NAME: value");
	expect_refused(task_with("vars", "{\"D\": true}"), "task 3: vars.D true: allowed: a number, a string");
	expect_refused(task_with("vars", "{\"K\": [[1,2],[3]]}"), "vars.K [[1,2],[3]]: the rows of the matrix have "
								  "different lengths (2 and 1)");
	expect_refused(task_with("solver", "{\"Tolerance\": 1}"), "task 3: solver.Tolerance: not a solver option; "
								  "allowed: StartTime");
	expect_refused(task_with("colour", "\"red\""), "task 3: unknown field \"colour\"; allowed: model, vars");
	expect_refused(task_with("no_cache", "1"), "task 3: no_cache 1: allowed: a boolean");
}

/*
 * Subnormal numbers are refused where they would go to PLECS (vars, vectors, matrices, solver
 * options, the timeout): xmlrpc-c's reader refuses the way they are written; the smallest normal
 * number, 0 and -0 pass.
 */
static void test_subnormals(void **state)
{
	static const char *const bad[][3] = {
		{"vars", "{\"D\":5e-324}", "task 3: vars.D 5e-324: it is a subnormal number"},
		{"vars", "{\"K\":[1,-2e-310]}", "item 2 is a subnormal number (nearer 0 than 2.2250738585072014e-308)"},
		{"vars", "{\"M\":[[1,2],[3,2.2250738585072e-308]]}", "row 2, column 2 is a subnormal number"},
		{"solver", "{\"MaxStep\":1e-310}", "task 3: solver.MaxStep 1e-310: it is a subnormal"},
		{"timeout", "1e-320", "task 3: timeout 1e-320: it is a subnormal number"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(task_with(bad[i][0], bad[i][1]), bad[i][2]);
	expect_accepted(task_with("vars", "{\"D\":2.2250738585072014e-308,\"Z\":0.0,\"N\":-0.0,\"V\":[0.0,-1e-300]}"));
	expect_accepted(task_with("solver", "{\"MaxStep\":2.2250738585072014e-308}"));
	expect_accepted(task_with("timeout", "0.0"));
}

/*
 * String values (vars, the solver's name) hold text a terminal shows as it is: C0 and C1 controls,
 * DEL and bidirectional overrides are refused with their place, tabs and line breaks taken; the
 * solver's name is as long as a var's string at most.
 */
static void test_string_values(void **state)
{
	static const char *const bad[][3] = {
		{"vars", "{\"tag\":\"A\\u009b2J\"}", "holds a control character (U+009B at byte 2)"},
		{"vars", "{\"tag\":\"ok\\u202eevil\"}", "holds a bidirectional formatting character (U+202E at byte 3)"},
		{"vars", "{\"tag\":\"a\\u007f\"}", "holds a control character (U+007F at byte 2)"},
		{"vars", "{\"tag\":\"a\\tb\\u001b[31m\"}", "holds a control character (U+001B at byte 4)"},
		{"solver", "{\"Solver\":\"ode\\u0085\"}", "task 3: solver.Solver \"ode\\u0085\": holds a control"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(task_with(bad[i][0], bad[i][1]), bad[i][2]);
	expect_accepted(task_with("vars", "{\"tag\":\"tab\\there\\nline\\r\\nend \\u00e9 <&>\"}"));
	expect_accepted(task_with("solver", "{\"Solver\":\"DOPRI\"}"));

	char *big = xasprintf("{\"Solver\":\"%0*d\"}", PROTO_MAX_STRING + 1, 0);

	expect_refused(task_with("solver", big), "a string of 4097 bytes; at most 4096 are allowed");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_rules),
		cmocka_unit_test(test_names_and_tags_are_printable),
		cmocka_unit_test(test_tags_are_an_array),
		cmocka_unit_test(test_nan_and_infinities),
		cmocka_unit_test(test_subnormals),
		cmocka_unit_test(test_string_values),
		cmocka_unit_test(test_values_are_shown_cut),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
