/* lib.c — calls to a simq server for the benches: one way to call, wait and fill. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/lib.h"
#include "proto/xmlcall.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

xmlrpc_value *bench_call_xml(struct client *c, const struct buf *body)
{
	xmlrpc_value *r = NULL;
	int fault;
	char *err = NULL;

	if (client_call_xml(c, body, &r, &fault, &err) != CLIENT_OK) {
		fprintf(stderr, "bench/%s: %s\n", program_invocation_short_name, err);
		exit(1);
	}
	return r;
}

xmlrpc_value *bench_call(struct client *c, const char *method, xmlrpc_value *params)
{
	struct buf body = BUF_INIT;
	xmlrpc_env env;
	xmlrpc_value *r;

	xmlrpc_env_init(&env);
	if (!proto_serialize_call(&env, &body, method, params)) {
		fprintf(stderr, "bench/%s: %s: %s\n", program_invocation_short_name, method, env.fault_string);
		exit(1);
	}
	r = bench_call_xml(c, &body);
	buf_free(&body);
	xmlrpc_env_clean(&env);
	return r;
}

xmlrpc_value *bench_callf(struct client *c, const char *method, const char *format, ...)
{
	xmlrpc_env env;
	xmlrpc_value *params, *r;
	const char *tail;
	va_list ap;

	xmlrpc_env_init(&env);
	va_start(ap, format);
	xmlrpc_build_value_va(&env, format, ap, &params, &tail);
	va_end(ap);
	if (env.fault_occurred) {
		fprintf(stderr, "bench/%s: %s: %s\n", program_invocation_short_name, method, env.fault_string);
		exit(1);
	}
	r = bench_call(c, method, params);
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return r;
}

void bench_await_server(struct client *c)
{
	xmlrpc_env env;
	xmlrpc_value *p;

	xmlrpc_env_init(&env);
	p = xmlrpc_build_value(&env, "(i)", 1);
	for (int i = 0; i < 500; i++) {
		xmlrpc_value *r = NULL;
		int fault;
		char *err = NULL;
		enum client_status st = client_call(c, "simq.echo", p, &r, &fault, &err);

		free(err);
		if (st == CLIENT_OK) {
			xmlrpc_DECREF(r);
			break;
		}
		usleep(10000);
	}
	xmlrpc_DECREF(p);
	xmlrpc_env_clean(&env);
}

xmlrpc_value *bench_tasks(xmlrpc_env *env, const char *model, int from, int n, const char *name)
{
	xmlrpc_value *tasks = xmlrpc_array_new(env);

	for (int i = 0; i < n; i++) {
		xmlrpc_value *t = xmlrpc_build_value(env, "{s:s,s:{s:d,s:i},s:s}", "model", model, "vars", "D", 0.5, "K",
						     from + i, "name", name);

		xmlrpc_array_append_item(env, tasks, t);
		xmlrpc_DECREF(t);
	}
	return tasks;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A member of v, or an empty string when it is not there. */
static xmlrpc_value *member_or_empty(xmlrpc_env *env, xmlrpc_value *v, const char *name)
{
	xmlrpc_value *m = NULL;

	xmlrpc_struct_find_value(env, v, name, &m);
	return m ? m : xmlrpc_string_new(env, "");
}

/* The median of samples calls of method(req) in ms. */
static double median_call_ms(struct client *c, const char *method, xmlrpc_value *req, int samples)
{
	int64_t *ns = xcalloc((size_t)samples, sizeof *ns);

	for (int i = 0; i < samples; i++) {
		int64_t s0 = time_mono_ns();

		xmlrpc_DECREF(bench_call(c, method, req));
		ns[i] = time_mono_ns() - s0;
	}
	qsort(ns, (size_t)samples, sizeof *ns, bench_cmp_i64);
	double ms = (double)ns[samples / 2] / 1e6;

	free(ns);
	return ms;
}

double bench_view_ms(struct client *c, int history, bool held, int samples)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_value *first = xmlrpc_build_value(&env, "({s:i,s:i,s:i})", "queue_offset", 0, "queue_limit", 50, "history",
						 history),
		     *v = bench_call(c, "simq.view", first), *seq;
	xmlrpc_value *qh = held ? member_or_empty(&env, v, "queue_hash") : xmlrpc_string_new(&env, ""),
		     *hh = held ? member_or_empty(&env, v, "history_hash") : xmlrpc_string_new(&env, "");

	xmlrpc_struct_find_value(&env, v, "log_seq", &seq);
	xmlrpc_value *req = xmlrpc_build_value(&env, "({s:i,s:i,s:V,s:i,s:V,s:V})", "queue_offset", 0, "queue_limit", 50,
					       "log_since", seq, "history", history, "queue_since", qh, "history_since", hh);
	double ms = median_call_ms(c, "simq.view", req, samples);

	xmlrpc_DECREF(req);
	xmlrpc_DECREF(seq);
	xmlrpc_DECREF(qh);
	xmlrpc_DECREF(hh);
	xmlrpc_DECREF(v);
	xmlrpc_DECREF(first);
	xmlrpc_env_clean(&env);
	return ms;
}

double bench_echo_ms(struct client *c, int samples)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_value *one = xmlrpc_build_value(&env, "(i)", 1);
	double ms = median_call_ms(c, "simq.echo", one, samples);

	xmlrpc_DECREF(one);
	xmlrpc_env_clean(&env);
	return ms;
}

int bench_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

pid_t bench_spawn(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* A bench that fails half-way takes its plecs-emu and server with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);

		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int bench_read_port(const char *file, const char *what)
{
	for (int i = 0; i < 500; i++) {
		FILE *fp = fopen(file, "r");
		int port;

		if (fp && fscanf(fp, "%d", &port) == 1) {
			fclose(fp);
			return port;
		}
		if (fp)
			fclose(fp);
		usleep(10000);
	}
	fprintf(stderr, "bench/%s: %s did not start\n", program_invocation_short_name, what);
	exit(1);
}
