#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <xmlrpc-c/base.h>

#include "plecs/wire.h"
#include "proto/doubles.h"
#include "proto/proto.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include "../written.h"

/* Reads tests/fuzz/corpus/result/name from the source tree. */
static unsigned char *corpus(const char *name, size_t *len)
{
	char *path = xasprintf("%s/tests/fuzz/corpus/result/%s", getenv("SIMQ_SRCDIR"), name);
	FILE *fp = fopen(path, "rb");
	unsigned char *b;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	rewind(fp);
	b = xmalloc(*len);
	assert_int_equal(fread(b, 1, *len, fp), *len);
	fclose(fp);
	free(path);
	return b;
}

/* A MAT file plecs-emu wrote decodes to Time rising and finite Values. */
static void test_good_mat_decodes(void **state)
{
	size_t len;
	unsigned char *b = corpus("result.mat", &len);
	struct result_data r = {0};
	char *err = NULL;

	(void)state;
	assert_true(plecs_decode_mat(b, len, &r, &err));
	assert_null(err);
	assert_true(r.points > 1);
	assert_true(r.signals >= 1);
	for (size_t i = 1; i < r.points; i++)
		assert_true(r.time[i] > r.time[i - 1]);
	/* Each signal's summary comes with it, as result_summarize has it. */
	assert_non_null(r.summary);
	for (size_t s = 0; s < r.signals; s++) {
		struct result_summary m;

		result_summarize(&r, s, &m);
		assert_memory_equal(&m, &r.summary[s], sizeof m);
		assert_true(m.min <= m.final && m.final <= m.max);
		assert_true(memcmp(&m.final, &r.values[s * r.points + r.points - 1], sizeof m.final) == 0);
	}
	result_data_free(&r);
	free(b);
}

static void expect_rejected(const unsigned char *b, size_t len, const char *why)
{
	struct result_data r = {0};
	char *err = NULL;

	assert_false(plecs_decode_mat(b, len, &r, &err));
	assert_non_null(err);
	if (strstr(err, why) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", why, err);
	free(err);
}

/*
 * A header that declares a 4 GB variable name (found by fuzz-result): matio
 * would allocate it before noticing the file is 512 bytes; the pre-check
 * refuses it and says why.
 */
static void test_huge_name_refused_before_matio(void **state)
{
	size_t len;
	unsigned char *b = corpus("mat-huge-name.mat", &len);

	(void)state;
	expect_rejected(b, len, "a matrix's name is longer than the matrix");
	free(b);
}

/* Every cut of a good file is refused with a reason, never read past its end. */
static void test_truncated_mat_refused(void **state)
{
	size_t len;
	unsigned char *b = corpus("result.mat", &len);

	(void)state;
	expect_rejected(b, 100, "lacks the 128-byte MAT v5 header");
	for (size_t cut = 136; cut < len; cut += 8) {
		unsigned char *part = xmalloc(cut);
		struct result_data r = {0};
		char *err = NULL;

		memcpy(part, b, cut);
		assert_false(plecs_decode_mat(part, cut, &r, &err));
		assert_non_null(err);
		free(err);
		free(part);
	}
	expect_rejected(b, len - 8, "an element runs past the end of the file");
	free(b);
}

static void set_json(xmlrpc_env *env, xmlrpc_value *s, const char *name, json_t *j)
{
	xmlrpc_value *v = proto_from_json(env, j);

	xmlrpc_struct_set_value(env, s, name, v);
	xmlrpc_DECREF(v);
}

/* The optStruct of a case built as xmlrpc-c values, member by member as PLECS's docs give it. */
static xmlrpc_value *opt_struct(xmlrpc_env *env, const struct backend_case *c, bool matfile)
{
	xmlrpc_value *opt = xmlrpc_struct_new(env), *v;
	json_t *vars = json_loads(c->vars, 0, NULL), *solver = json_loads(c->solver, 0, NULL);

	if (json_object_size(vars) > 0)
		set_json(env, opt, "ModelVars", vars);
	if (c->timeout > 0)
		json_object_set_new(solver, "Timeout", json_real(c->timeout));
	if (json_object_size(solver) > 0)
		set_json(env, opt, "SolverOpts", solver);
	v = xmlrpc_string_new(env, matfile ? "MatFile" : "Plain");
	xmlrpc_struct_set_value(env, opt, "OutputFormat", v);
	xmlrpc_DECREF(v);
	v = xmlrpc_string_new(env, c->name);
	xmlrpc_struct_set_value(env, opt, "Name", v);
	xmlrpc_DECREF(v);
	json_decref(vars);
	json_decref(solver);
	return opt;
}

static struct backend_case a_case(const char *vars, const char *solver, double timeout, int id)
{
	struct backend_case c = {.vars = xstrdup(vars), .solver = xstrdup(solver), .timeout = timeout};

	snprintf(c.name, sizeof c.name, "task %d", id);
	return c;
}

static void cases_free(struct backend_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].vars);
		free(c[i].solver);
	}
}

/*
 * The body plecs_simulate_body writes reads, through xmlrpc-c, as the call of the same values built
 * with xmlrpc-c: the model's name, then one optStruct or the list of them; every double exact.
 */
static void test_simulate_body_reads_as_the_values(void **state)
{
	(void)state;
	struct backend_case cases[] = {
		a_case("{\"D\":0.30000000000000004,\"K\":5,\"big\":5000000000,\"neg\":-7,"
		       "\"M\":[[1.5,2],[3,4e-300]],\"s\":\"a<&>\\r\\n\\u00e9\"}",
		       "{\"TimeSpan\":0.001,\"Solver\":\"auto\"}", 2.5, 1),
		a_case("{}", "{}", 0, 2),
		a_case("{\"V\":[1,2,3]}", "{}", 0.1, 3),
		a_case("{}", "{\"Timeout\":9,\"RelTol\":1e-9}", 7, 4),
	};
	char name[] = "rc<1>";

	for (int form = 0; form < 4; form++) {
		bool list = form & 1, matfile = form & 2;
		struct backend_call bc = {.model_name = name, .cases = cases, .ncases = list ? 4 : 1,
					  .as_list = list, .matfile = matfile};
		struct buf body = BUF_INIT;
		char *err = NULL;
		const char *method = NULL;
		xmlrpc_env env;
		xmlrpc_value *got, *want, *one, *d, *vars;
		double x;

		assert_true(plecs_simulate_body(&body, &bc, &err));
		assert_null(err);
		/* Read as plecs-emu reads a call: xmlrpc-c, after the rewrite that makes its doubles exact. */
		proto_exact_doubles(&body);
		xmlrpc_env_init(&env);
		xmlrpc_parse_call(&env, buf_str(&body), body.len, &method, &got);
		assert_false(env.fault_occurred);
		assert_string_equal(method, "plecs.simulate");
		if (list) {
			xmlrpc_value *all = xmlrpc_array_new(&env);

			for (size_t i = 0; i < 4; i++) {
				one = opt_struct(&env, &cases[i], matfile);
				xmlrpc_array_append_item(&env, all, one);
				xmlrpc_DECREF(one);
			}
			want = xmlrpc_build_value(&env, "(sA)", "rc<1>", all);
			xmlrpc_DECREF(all);
		} else {
			one = opt_struct(&env, &cases[0], matfile);
			want = xmlrpc_build_value(&env, "(sS)", "rc<1>", one);
			xmlrpc_DECREF(one);
		}
		char *w = written(want), *g = written(got);

		assert_string_equal(g, w);
		/* xmlrpc-c writes doubles to 17 digits at most: the bits, read back, are the test. */
		xmlrpc_array_read_item(&env, got, 1, &one);
		if (list) {
			xmlrpc_value *first;

			xmlrpc_array_read_item(&env, one, 0, &first);
			xmlrpc_DECREF(one);
			one = first;
		}
		xmlrpc_struct_read_value(&env, one, "ModelVars", &vars);
		xmlrpc_struct_read_value(&env, vars, "D", &d);
		xmlrpc_read_double(&env, d, &x);
		assert_false(env.fault_occurred);
		assert_true(x == 0.1 + 0.2);
		xmlrpc_DECREF(d);
		xmlrpc_DECREF(vars);
		xmlrpc_DECREF(one);
		free(w);
		free(g);
		free((char *)method);
		xmlrpc_DECREF(got);
		xmlrpc_DECREF(want);
		xmlrpc_env_clean(&env);
		buf_free(&body);
	}
	cases_free(cases, 4);
}

/* Stored options that are not a JSON object stop the body with a message that shows them. */
static void test_simulate_body_refuses_bad_options(void **state)
{
	(void)state;
	struct backend_case cases[] = {a_case("{}", "{}", 0, 1), a_case("[1,2]", "{}", 0, 2)};
	char name[] = "rc";
	struct backend_call bc = {.model_name = name, .cases = cases, .ncases = 2, .as_list = true};
	struct buf body = BUF_INIT;
	char *err = NULL;

	assert_false(plecs_simulate_body(&body, &bc, &err));
	assert_string_equal(err, "stored options are not a JSON object: [1,2]");
	free(err);
	err = NULL;
	cases_free(cases + 1, 1);
	cases[1] = a_case("{}", "not json", 0, 2);
	buf_truncate(&body, 0);
	assert_false(plecs_simulate_body(&body, &bc, &err));
	assert_string_equal(err, "stored options are not a JSON object: not json");
	free(err);
	cases_free(cases, 2);
	buf_free(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_mat_decodes),
		cmocka_unit_test(test_huge_name_refused_before_matio),
		cmocka_unit_test(test_truncated_mat_refused),
		cmocka_unit_test(test_simulate_body_reads_as_the_values),
		cmocka_unit_test(test_simulate_body_refuses_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
