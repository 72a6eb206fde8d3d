/*
 * plecs-emu through a real XML-RPC client over TCP: every method, each
 * circuit against its analytic answer, list simulate, MatFile output, every
 * fault kind, and the messages for bad calls.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emu_harness.h"
#include "util/time.h"
#include "util/xalloc.h"

struct fixture {
	struct emu_proc emu;
	xmlrpc_client *client;
	xmlrpc_server_info *server;
	xmlrpc_env env;
};

static int setup_with(void **state, const char *const *args, int timeout_ms)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	emu_start(&f->emu, args);
	f->client = emu_client(timeout_ms);
	xmlrpc_env_init(&f->env);
	f->server = xmlrpc_server_info_new(&f->env, f->emu.url);
	assert_false(f->env.fault_occurred);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	static const char *const args[] = {"--cores", "4", NULL};

	return setup_with(state, args, 10000);
}

static int setup_paced(void **state)
{
	/* A simulated second takes half a wall second; list cases run four at a time. */
	static const char *const args[] = {"--cores", "4", "--speed", "0.5", NULL};

	return setup_with(state, args, 1500);
}

/* Paced, with a client that waits 30 s: for calls made slow on purpose. */
static int setup_paced_patient(void **state)
{
	static const char *const args[] = {"--cores", "4", "--speed", "0.5", NULL};

	return setup_with(state, args, 30000);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xmlrpc_server_info_free(f->server);
	xmlrpc_client_destroy(f->client);
	xmlrpc_env_clean(&f->env);
	emu_stop(&f->emu);
	free(f);
	return 0;
}

/* Calls method with xmlrpc_build_value arguments; the result, or NULL with the fault in f->env. */
static xmlrpc_value *call(struct fixture *f, const char *method, const char *format, ...)
{
	xmlrpc_value *params = NULL, *result = NULL;
	xmlrpc_env build;
	const char *tail = NULL;
	va_list ap;

	xmlrpc_env_clean(&f->env);
	xmlrpc_env_init(&f->env);
	xmlrpc_env_init(&build);
	va_start(ap, format);
	xmlrpc_build_value_va(&build, format, ap, &params, &tail);
	va_end(ap);
	assert_false(build.fault_occurred);
	xmlrpc_client_call2(&f->env, f->client, f->server, method, params, &result);
	xmlrpc_DECREF(params);
	return result;
}

#define assert_fault_contains(f, text)                                                                    \
	do {                                                                                              \
		if (!(f)->env.fault_occurred)                                                             \
			fail_msg("expected a fault containing \"%s\", got none", text);                   \
		if (strstr((f)->env.fault_string, text) == NULL)                                          \
			fail_msg("expected a fault containing \"%s\", got \"%s\"", text, (f)->env.fault_string); \
	} while (0)

static void load(struct fixture *f, const char *model)
{
	char *path = emu_model_path(model);
	xmlrpc_value *r = call(f, "plecs.load", "(s)", path);

	if (f->env.fault_occurred)
		fail_msg("plecs.load %s: %s", path, f->env.fault_string);
	xmlrpc_DECREF(r);
	free(path);
}

/* Reads {Time, Values} into arrays (caller frees). */
static size_t read_result(struct fixture *f, xmlrpc_value *r, double **time, double ***values, size_t *nsig)
{
	xmlrpc_value *t, *v;
	size_t n;

	xmlrpc_struct_find_value(&f->env, r, "Time", &t);
	xmlrpc_struct_find_value(&f->env, r, "Values", &v);
	assert_non_null(t);
	assert_non_null(v);
	n = (size_t)xmlrpc_array_size(&f->env, t);
	*nsig = (size_t)xmlrpc_array_size(&f->env, v);
	*time = xcalloc(n, sizeof **time);
	*values = xcalloc(*nsig, sizeof **values);
	for (size_t i = 0; i < n; i++) {
		xmlrpc_value *x;

		xmlrpc_array_read_item(&f->env, t, (int)i, &x);
		xmlrpc_read_double(&f->env, x, &(*time)[i]);
		xmlrpc_DECREF(x);
	}
	for (size_t s = 0; s < *nsig; s++) {
		xmlrpc_value *sig;

		xmlrpc_array_read_item(&f->env, v, (int)s, &sig);
		assert_int_equal(xmlrpc_array_size(&f->env, sig), (int)n);
		(*values)[s] = xcalloc(n, sizeof ***values);
		for (size_t i = 0; i < n; i++) {
			xmlrpc_value *x;

			xmlrpc_array_read_item(&f->env, sig, (int)i, &x);
			xmlrpc_read_double(&f->env, x, &(*values)[s][i]);
			xmlrpc_DECREF(x);
		}
		xmlrpc_DECREF(sig);
	}
	xmlrpc_DECREF(t);
	xmlrpc_DECREF(v);
	assert_false(f->env.fault_occurred);
	return n;
}

static void free_result(double *time, double **values, size_t nsig)
{
	for (size_t s = 0; s < nsig; s++)
		free(values[s]);
	free(values);
	free(time);
}

static void test_list_methods(void **state)
{
	struct fixture *f = *state;
	xmlrpc_value *r = call(f, "system.listMethods", "()");
	static const char *const want[] = {"plecs.load", "plecs.close", "plecs.simulate", "plecs.statistics",
					   "plecs.get", "plecs.set", "emu.inject", "emu.calls", "emu.reset"};

	assert_false(f->env.fault_occurred);
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		bool found = false;

		for (int i = 0; i < xmlrpc_array_size(&f->env, r); i++) {
			xmlrpc_value *item;
			const char *s;

			xmlrpc_array_read_item(&f->env, r, i, &item);
			xmlrpc_read_string(&f->env, item, &s);
			found |= strcmp(s, want[w]) == 0;
			free((void *)s);
			xmlrpc_DECREF(item);
		}
		if (!found)
			fail_msg("system.listMethods lacks %s", want[w]);
	}
	xmlrpc_DECREF(r);
}

static void test_load_and_close(void **state)
{
	struct fixture *f = *state;
	char *dir = xasprintf("%s/other", getenv("SIMQ_TEST_TMP")), *twin, *notmodel;
	char *src = emu_model_path("buck");
	FILE *in, *out;
	char buf[4096];
	size_t n;
	xmlrpc_value *r;

	r = call(f, "plecs.load", "(s)", "/nonexistent/buck.plecs");
	assert_fault_contains(f, "Cannot load model '/nonexistent/buck.plecs': No such file or directory");
	notmodel = xasprintf("%s/notes.plecs", getenv("SIMQ_TEST_TMP"));
	out = fopen(notmodel, "w");
	fputs("these are notes, not a model\n", out);
	fclose(out);
	r = call(f, "plecs.load", "(s)", notmodel);
	assert_fault_contains(f, "not a PLECS model file");
	r = call(f, "plecs.load", "(s)", getenv("SIMQ_TEST_TMP"));
	assert_fault_contains(f, "Cannot load model");
	load(f, "buck");
	/* Loading the same file again reloads it; another file with the same base name is refused. */
	load(f, "buck");
	mkdir(dir, 0700);
	twin = xasprintf("%s/buck.plecs", dir);
	in = fopen(src, "r");
	out = fopen(twin, "w");
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	r = call(f, "plecs.load", "(s)", twin);
	assert_fault_contains(f, "a model named 'buck' is already loaded from");
	assert_fault_contains(f, "close it first");
	r = call(f, "plecs.close", "(s)", "buck");
	assert_false(f->env.fault_occurred);
	xmlrpc_DECREF(r);
	r = call(f, "plecs.close", "(s)", "buck");
	assert_fault_contains(f, "Model 'buck' is not loaded");
	r = call(f, "plecs.simulate", "(s)", "buck");
	assert_fault_contains(f, "Simulation error: model 'buck' is not loaded");
	r = call(f, "plecs.load", "(s)", twin);
	assert_false(f->env.fault_occurred);
	xmlrpc_DECREF(r);
	free(dir);
	free(twin);
	free(src);
	free(notmodel);
}

/* rc at t = RC equals Vin (1 - 1/e) within 0.5 %. */
static void test_rc_against_analytic(void **state)
{
	struct fixture *f = *state;
	double *t, **v, rc = 1e3 * 1e-6;
	size_t nsig, n, at = 0;
	xmlrpc_value *r;

	load(f, "rc");
	r = call(f, "plecs.simulate", "(s{s:{s:d},s:{s:d,s:d}})", "rc", "ModelVars", "Vin", 24.0, "SolverOpts",
		 "TimeSpan", 3e-3, "MaxStep", 1e-5);
	assert_false(f->env.fault_occurred);
	n = read_result(f, r, &t, &v, &nsig);
	assert_int_equal(nsig, 1);
	assert_int_equal(n, 301);
	while (at < n && t[at] < rc - 1e-12)
		at++;
	double want = 24.0 * (1 - exp(-1));

	print_message("# rc: Vc(RC) = %.6f, analytic %.6f, error %.4f %%\n", v[0][at], want,
		      100 * fabs(v[0][at] - want) / want);
	assert_true(fabs(v[0][at] - want) / want < 0.005);
	free_result(t, v, nsig);
	xmlrpc_DECREF(r);
}

static double buck_steady(struct fixture *f, double vin, double d, double l, double c, double rload, double fsw,
			  double span)
{
	double *t, **v, mean = 0;
	size_t nsig, n, count = 0;
	xmlrpc_value *r = call(f, "plecs.simulate", "(s{s:{s:d,s:d,s:d,s:d,s:d,s:d},s:{s:d}})", "buck", "ModelVars",
			       "Vin", vin, "D", d, "L", l, "C", c, "R", rload, "fsw", fsw, "SolverOpts", "TimeSpan", span);

	if (f->env.fault_occurred)
		fail_msg("simulate: %s", f->env.fault_string);
	n = read_result(f, r, &t, &v, &nsig);
	assert_int_equal(nsig, 2);
	/* The mean over the last tenth of the run. */
	for (size_t i = n - n / 10; i < n; i++, count++)
		mean += v[0][i];
	free_result(t, v, nsig);
	xmlrpc_DECREF(r);
	return mean / (double)count;
}

static void test_buck_ccm_and_dcm(void **state)
{
	struct fixture *f = *state;
	double ccm, dcm, k, want;

	load(f, "buck");
	/* CCM: K = 2L/(R T) = 4.8 > 1 - D. */
	ccm = buck_steady(f, 400, 0.42, 1.2e-3, 100e-6, 10, 20e3, 0.05);
	print_message("# buck CCM: Vout %.3f, D*Vin %.3f\n", ccm, 0.42 * 400);
	assert_true(fabs(ccm - 0.42 * 400) / (0.42 * 400) < 0.01);
	/* DCM: K = 0.016 < 1 - D; Vout = Vin * 2 / (1 + sqrt(1 + 4K/D^2)). */
	k = 2 * 20e-6 / (50 * (1 / 20e3));
	want = 400 * 2 / (1 + sqrt(1 + 4 * k / (0.5 * 0.5)));
	dcm = buck_steady(f, 400, 0.5, 20e-6, 100e-6, 50, 20e3, 0.06);
	print_message("# buck DCM: Vout %.3f, DCM formula %.3f (CCM would be %.1f)\n", dcm, want, 0.5 * 400);
	assert_true(fabs(dcm - want) / want < 0.01);
}

/* The spacing of successive crossings of Vc through Vin is half the damped period, pi / wd. */
static void test_rlc_damped_frequency(void **state)
{
	struct fixture *f = *state;
	double *t, **v, r_ = 2, l = 1e-3, c = 10e-6, vin = 1;
	double alpha = r_ / (2 * l), wd = sqrt(1 / (l * c) - alpha * alpha);
	double first = -1, last = -1;
	size_t nsig, n, crossings = 0;
	xmlrpc_value *r;

	load(f, "rlc");
	r = call(f, "plecs.simulate", "(s{s:{s:d,s:d,s:d,s:d},s:{s:d,s:d}})", "rlc", "ModelVars", "Vin", vin, "R", r_,
		 "L", l, "C", c, "SolverOpts", "TimeSpan", 4e-3, "MaxStep", 2e-7);
	assert_false(f->env.fault_occurred);
	n = read_result(f, r, &t, &v, &nsig);
	assert_int_equal(nsig, 2);
	for (size_t i = 1; i < n; i++) {
		double a = v[0][i - 1] - vin, b = v[0][i] - vin;

		if ((a < 0) != (b < 0) && i > 1) {
			double at = t[i - 1] + (t[i] - t[i - 1]) * a / (a - b);

			if (first < 0)
				first = at;
			last = at;
			crossings++;
		}
	}
	assert_true(crossings >= 6);
	double measured = (last - first) / (double)(crossings - 1), want = M_PI / wd;

	print_message("# rlc: half period %.6e s, pi/wd %.6e s, error %.4f %%\n", measured, want,
		      100 * fabs(measured - want) / want);
	assert_true(fabs(measured - want) / want < 0.005);
	free_result(t, v, nsig);
	xmlrpc_DECREF(r);
}

static double final_value(struct fixture *f, xmlrpc_value *r)
{
	double *t, **v, last;
	size_t nsig, n = read_result(f, r, &t, &v, &nsig);

	last = v[0][n - 1];
	free_result(t, v, nsig);
	return last;
}

/*
 * A list simulate keeps input order and runs its cases in parallel.  Each case is paced to 0.5 wall s
 * (TimeSpan 1 at --speed 0.5), long beside a call's overhead, so the ratios hold on a loaded machine:
 * one by one takes at least 2 s; as one list on 4 cores ideally a quarter of that, asserted below
 * three quarters.  The pace is a floor that load cannot lower: both are checked against it.
 */
static void test_list_simulate_order_and_speed(void **state)
{
	struct fixture *f = *state;
	double vins[4] = {1, 2, 3, 4}, serial, parallel;
	int64_t t0;
	xmlrpc_value *r;

	load(f, "rc");
	t0 = time_mono_ns();
	for (int i = 0; i < 4; i++) {
		r = call(f, "plecs.simulate", "(s{s:{s:d},s:{s:d}})", "rc", "ModelVars", "Vin", vins[i], "SolverOpts",
			 "TimeSpan", 1.0);
		assert_false(f->env.fault_occurred);
		xmlrpc_DECREF(r);
	}
	serial = (double)(time_mono_ns() - t0) / 1e9;
	t0 = time_mono_ns();
	r = call(f, "plecs.simulate", "(s({s:{s:d},s:{s:d}}{s:{s:d},s:{s:d}}{s:{s:d},s:{s:d}}{s:{s:d},s:{s:d}}))", "rc",
		 "ModelVars", "Vin", vins[0], "SolverOpts", "TimeSpan", 1.0, "ModelVars", "Vin", vins[1], "SolverOpts",
		 "TimeSpan", 1.0, "ModelVars", "Vin", vins[2], "SolverOpts", "TimeSpan", 1.0, "ModelVars", "Vin",
		 vins[3], "SolverOpts", "TimeSpan", 1.0);
	parallel = (double)(time_mono_ns() - t0) / 1e9;
	assert_false(f->env.fault_occurred);
	assert_int_equal(xmlrpc_array_size(&f->env, r), 4);
	for (int i = 0; i < 4; i++) {
		xmlrpc_value *item;

		xmlrpc_array_read_item(&f->env, r, i, &item);
		/* The RC is fully charged after 200 time constants: the final value is the case's Vin. */
		assert_true(fabs(final_value(f, item) - vins[i]) < 1e-6);
		xmlrpc_DECREF(item);
	}
	xmlrpc_DECREF(r);
	print_message("# 4 cases one by one %.3f s, as one list %.3f s: %.2fx faster\n", serial, parallel,
		      serial / parallel);
	assert_true(serial >= 4 * 0.5 - 0.01);
	assert_true(parallel >= 0.5 - 0.01);
	assert_true(parallel < serial * 0.75);

	/* The record of the list simulate is the newest one: emu.calls records itself after answering. */
	r = call(f, "emu.calls", "()");
	xmlrpc_value *item;
	int cases;

	xmlrpc_array_read_item(&f->env, r, xmlrpc_array_size(&f->env, r) - 1, &item);
	xmlrpc_decompose_value(&f->env, item, "{s:i,*}", "cases", &cases);
	assert_int_equal(cases, 4);
	xmlrpc_DECREF(item);
	xmlrpc_DECREF(r);
}

static void test_timeout_and_slow(void **state)
{
	struct fixture *f = *state;
	xmlrpc_value *r;
	int64_t t0;
	double normal, slow;

	load(f, "rc");
	/* 0.4 simulated s at speed 0.5 is 0.2 wall s: a Timeout of 0.05 s ends it. */
	r = call(f, "plecs.simulate", "(s{s:{s:d,s:d}})", "rc", "SolverOpts", "TimeSpan", 0.4, "Timeout", 0.05);
	assert_fault_contains(f, "timed out after 0.05 s");
	/* 0.4 simulated s is 0.2 wall s, and 2 s slowed down (10 times): a floor that load cannot lower, and
	 * a ratio with room for a busy machine's overhead on the normal call (10 at best, asserted above 2). */
	t0 = time_mono_ns();
	r = call(f, "plecs.simulate", "(s{s:{s:d}})", "rc", "SolverOpts", "TimeSpan", 0.4);
	normal = (double)(time_mono_ns() - t0) / 1e9;
	assert_false(f->env.fault_occurred);
	xmlrpc_DECREF(r);
	r = call(f, "emu.inject", "(si)", "slow", 1);
	xmlrpc_DECREF(r);
	t0 = time_mono_ns();
	r = call(f, "plecs.simulate", "(s{s:{s:d}})", "rc", "SolverOpts", "TimeSpan", 0.4);
	slow = (double)(time_mono_ns() - t0) / 1e9;
	assert_false(f->env.fault_occurred);
	xmlrpc_DECREF(r);
	print_message("# slow: %.3f s against %.3f s\n", slow, normal);
	assert_true(normal >= 0.2 - 0.01);
	assert_true(slow >= 2.0 - 0.01);
	assert_true(slow > 2 * normal);
}

/* Each fault kind reaches the client as the error it stands for; the next call works again. */
static void test_fault_kinds(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *kind;
		const char *error; /* a piece of the client's error message */
	} kinds[] = {
		{"fault", "Simulation error: the solver failed to converge"},
		{"license", "No free license available for PLECS"},
		{"http500", "500"},
		{"malformed", "XML"},
		{"drop", "transfer closed"},
		{"hang", "timed out"},
		/* The reset lands during curl's connect or right after it, as the kernel schedules it. */
		{"refuse", "reset|connect"},
	};
	xmlrpc_value *r;

	load(f, "rc");
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		r = call(f, "emu.inject", "(si)", kinds[i].kind, 1);
		assert_false(f->env.fault_occurred);
		xmlrpc_DECREF(r);
		if (strcmp(kinds[i].kind, "refuse") == 0) {
			/* A refused connection needs a new one: a second client has none open yet. */
			xmlrpc_client *fresh = emu_client(1500);

			xmlrpc_env_clean(&f->env);
			xmlrpc_env_init(&f->env);
			xmlrpc_client_call2f(&f->env, fresh, f->emu.url, "plecs.simulate", &r, "(s)", "rc");
			xmlrpc_client_destroy(fresh);
		} else {
			r = call(f, "plecs.simulate", "(s)", "rc");
		}
		print_message("# %s: %s\n", kinds[i].kind, f->env.fault_occurred ? f->env.fault_string : "no error");
		assert_true(f->env.fault_occurred);
		bool matched = false;
		char *alternatives = xstrdup(kinds[i].error), *save = NULL;

		for (char *alt = strtok_r(alternatives, "|", &save); alt; alt = strtok_r(NULL, "|", &save))
			matched |= strstr(f->env.fault_string, alt) != NULL;
		free(alternatives);
		if (!matched)
			fail_msg("%s: expected an error with \"%s\", got \"%s\"", kinds[i].kind, kinds[i].error,
				 f->env.fault_string);
		r = call(f, "plecs.simulate", "(s)", "rc");
		if (f->env.fault_occurred)
			fail_msg("after %s the next call failed: %s", kinds[i].kind, f->env.fault_string);
		xmlrpc_DECREF(r);
	}
	r = call(f, "emu.inject", "(si)", "explode", 1);
	assert_fault_contains(f, "emu.inject: unknown fault kind 'explode'");
	r = call(f, "emu.inject", "(si)", "fault", 0);
	assert_fault_contains(f, "the count must be a whole number from 1");
	/* emu.reset drops pending injections and forgets the calls. */
	r = call(f, "emu.inject", "(si)", "fault", 5);
	xmlrpc_DECREF(r);
	r = call(f, "emu.reset", "()");
	xmlrpc_DECREF(r);
	r = call(f, "plecs.simulate", "(s)", "rc");
	assert_false(f->env.fault_occurred);
	xmlrpc_DECREF(r);
	/* Left: emu.reset itself (recorded once answered) and the simulate after it. */
	r = call(f, "emu.calls", "()");
	assert_int_equal(xmlrpc_array_size(&f->env, r), 2);
	xmlrpc_DECREF(r);
}

/* MatFile output, read back with matio, equals the Plain result. */
static void test_matfile_equals_plain(void **state)
{
	struct fixture *f = *state;
	double *t, **v;
	size_t nsig, n;
	xmlrpc_value *plain, *mat;
	const unsigned char *bytes;
	size_t len;
	char *path = xasprintf("%s/result.mat", getenv("SIMQ_TEST_TMP"));
	FILE *fp;

	load(f, "buck");
	plain = call(f, "plecs.simulate", "(s{s:{s:d}})", "buck", "ModelVars", "D", 0.3);
	assert_false(f->env.fault_occurred);
	mat = call(f, "plecs.simulate", "(s{s:{s:d},s:s})", "buck", "ModelVars", "D", 0.3, "OutputFormat", "MatFile");
	assert_false(f->env.fault_occurred);
	assert_int_equal(xmlrpc_value_type(mat), XMLRPC_TYPE_BASE64);
	xmlrpc_read_base64(&f->env, mat, &len, &bytes);
	fp = fopen(path, "wb");
	fwrite(bytes, 1, len, fp);
	fclose(fp);
	free((void *)bytes);
	n = read_result(f, plain, &t, &v, &nsig);

	mat_t *m = Mat_Open(path, MAT_ACC_RDONLY);
	matvar_t *time, *values;

	assert_non_null(m);
	time = Mat_VarRead(m, "Time");
	values = Mat_VarRead(m, "Values");
	assert_non_null(time);
	assert_non_null(values);
	assert_int_equal(time->dims[1], n);
	assert_int_equal(values->dims[0], nsig);
	assert_int_equal(values->dims[1], n);
	const double *td = time->data, *vd = values->data;

	/* XML-RPC carries doubles as decimal text of 16 to 17 digits: equal to the last bit or two. */
	for (size_t i = 0; i < n; i++) {
		assert_true(fabs(td[i] - t[i]) <= 1e-14 * fmax(1, fabs(t[i])));
		for (size_t s = 0; s < nsig; s++)
			assert_true(fabs(vd[s + i * nsig] - v[s][i]) <= 1e-14 * fmax(1, fabs(v[s][i])));
	}
	Mat_VarFree(time);
	Mat_VarFree(values);
	Mat_Close(m);
	free_result(t, v, nsig);
	xmlrpc_DECREF(plain);
	xmlrpc_DECREF(mat);
	free(path);
}

static void test_bad_calls_get_clear_faults(void **state)
{
	struct fixture *f = *state;
	xmlrpc_value *r;

	load(f, "buck");
	r = call(f, "plecs.simulate", "(i)", 7);
	assert_fault_contains(f, "plecs.simulate: the first argument (the model name) must be a string, not an integer");
	r = call(f, "plecs.simulate", "(si)", "buck", 5);
	assert_fault_contains(f, "the second argument must be a struct of simulation options or an array of them");
	r = call(f, "plecs.simulate", "(s{s:{s:d}})", "buck", "ModelVars", "Vn", 1.0);
	assert_fault_contains(f, "ModelVars: model 'buck' has no variable 'Vn'; it defines Vin, D, L, C, R, fsw");
	r = call(f, "plecs.simulate", "(s{s:{s:s}})", "buck", "ModelVars", "Vin", "four hundred");
	assert_fault_contains(f, "ModelVars.Vin must be a number, as the model defines it; got a string");
	r = call(f, "plecs.simulate", "(s{s:{s:d}})", "buck", "ModelVars", "D", 1.5);
	assert_fault_contains(f, "Simulation error: D = 1.5 is out of range [0, 1]");
	r = call(f, "plecs.simulate", "(s{s:{s:d}})", "buck", "SolverOpts", "Tolerance", 1.0);
	assert_fault_contains(f, "SolverOpts: unknown option 'Tolerance'");
	r = call(f, "plecs.simulate", "(s{s:s})", "buck", "OutputFormat", "Csv");
	assert_fault_contains(f, "OutputFormat must be 'Plain' or 'MatFile'");
	r = call(f, "plecs.simulate", "(s({s:{s:d}}{s:{s:d}}))", "buck", "ModelVars", "D", 0.2, "ModelVars", "Q", 1.0);
	assert_fault_contains(f, "case 2: ModelVars: model 'buck' has no variable 'Q'");
	r = call(f, "plecs.load", "()");
	assert_fault_contains(f, "plecs.load takes 1 argument, not 0");
	r = call(f, "plecs.get", "(ss)", "buck", "Nope");
	assert_fault_contains(f, "Model 'buck' has no variable 'Nope'");
	(void)r;
}

static void test_get_set_and_statistics(void **state)
{
	struct fixture *f = *state;
	xmlrpc_value *r;
	double d, calls;

	load(f, "buck");
	r = call(f, "plecs.get", "(ss)", "buck", "D");
	xmlrpc_read_double(&f->env, r, &d);
	xmlrpc_DECREF(r);
	assert_true(d == 0.5);
	r = call(f, "plecs.set", "(ssd)", "buck", "D", 0.25);
	assert_false(f->env.fault_occurred);
	xmlrpc_DECREF(r);
	r = call(f, "plecs.get", "(ss)", "buck", "D");
	xmlrpc_read_double(&f->env, r, &d);
	xmlrpc_DECREF(r);
	assert_true(d == 0.25);
	/* The new default reaches the next simulation: steady state near 0.25 * 400. */
	r = call(f, "plecs.simulate", "(s{s:{s:d}})", "buck", "SolverOpts", "TimeSpan", 0.05);
	assert_true(fabs(final_value(f, r) - 100) < 2);
	xmlrpc_DECREF(r);
	r = call(f, "plecs.statistics", "()");
	assert_false(f->env.fault_occurred);
	xmlrpc_decompose_value(&f->env, r, "{s:d,*}", "Calls", &calls);
	assert_true(calls >= 4);
	xmlrpc_DECREF(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rc_against_analytic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buck_ccm_and_dcm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rlc_damped_frequency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_simulate_order_and_speed, setup_paced, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_slow, setup_paced_patient, teardown),
		cmocka_unit_test_setup_teardown(test_fault_kinds, setup_paced, teardown),
		cmocka_unit_test_setup_teardown(test_matfile_equals_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_calls_get_clear_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_set_and_statistics, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
