/*
 * bench/throughput: tasks through the whole path (submit, PLECS call, result
 * stored, COMPLETED) against one plecs-emu at --speed 0, unbatched and with
 * max_batch 16, next to a bare loop of xmlrpc-c calls to the same plecs-emu
 * in the same run (the ceiling).  Then the same for 10,000-point results.
 * Targets: unbatched >= 50 % of the ceiling's calls/s; batched >= 5x
 * unbatched; with 10,000-point results simq adds <= 25 % to a bare call.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xmlrpc-c/client.h>

#include "client/client.h"
#include "util/time.h"
#include "util/xalloc.h"

static char *bin_dir, *models;

static pid_t spawn(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", 1);

		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int read_port(const char *file)
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
	fprintf(stderr, "bench/throughput: plecs-emu did not start\n");
	exit(1);
}

/* Calls per second of plecs.simulate, back to back, from one xmlrpc-c client: the ceiling. */
static double bare(const char *url, double span, double step, int n)
{
	xmlrpc_env env;
	xmlrpc_client *c;
	xmlrpc_value *r;
	char *model = xasprintf("%s/rc.plecs", models);
	int64_t t0;

	xmlrpc_env_init(&env);
	xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "bench", "1", NULL, 0, &c);
	xmlrpc_client_call2f(&env, c, url, "plecs.load", &r, "(s)", model);
	xmlrpc_DECREF(r);
	t0 = time_mono_ns();
	for (int i = 0; i < n && !env.fault_occurred; i++) {
		xmlrpc_client_call2f(&env, c, url, "plecs.simulate", &r, "(s{s:{s:d,s:d}})", "rc", "SolverOpts",
				     "TimeSpan", span, "FixedStep", step);
		if (!env.fault_occurred)
			xmlrpc_DECREF(r);
	}
	double rate = n / ((double)(time_mono_ns() - t0) / 1e9);

	if (env.fault_occurred) {
		fprintf(stderr, "bench/throughput: %s\n", env.fault_string);
		exit(1);
	}
	xmlrpc_client_destroy(c);
	xmlrpc_env_clean(&env);
	free(model);
	return rate;
}

static xmlrpc_value *call(struct client *c, const char *method, xmlrpc_value *params)
{
	xmlrpc_value *r = NULL;
	int fault;
	char *err = NULL;

	if (client_call(c, method, params, &r, &fault, &err) != CLIENT_OK) {
		fprintf(stderr, "bench/throughput: %s: %s\n", method, err);
		exit(1);
	}
	return r;
}

/* Tasks per second through simq: n tasks submitted at once, timed until the last is COMPLETED. */
static double through_simq(const char *url, int max_batch, int n, double span, double step)
{
	char *dir = xasprintf("%s/simq-bench-tp.%d.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(),
			      max_batch);
	char *ini = xasprintf("%s.ini", dir), *simq = xasprintf("%s/../src/simq", bin_dir);
	char *model = xasprintf("%s/rc.plecs", models);
	FILE *fp = fopen(ini, "w");
	struct client_options opt = {.state_dir = dir, .no_start = true};
	struct client *c;
	xmlrpc_env env;
	pid_t pid;

	fprintf(fp, "[backend emu]\nurl = %s\nmax_batch = %d\n[scheduler]\nstart_paused = true\n", url, max_batch);
	fclose(fp);
	const char *argv[] = {simq, "server", "-f", "--home", dir, "-c", ini, NULL};

	pid = spawn(argv);
	xmlrpc_env_init(&env);
	c = client_new(&opt);
	for (int i = 0; i < 500; i++) {
		xmlrpc_value *p = xmlrpc_build_value(&env, "(i)", 1), *r = NULL;
		int fault;
		char *err = NULL;
		enum client_status st = client_call(c, "simq.echo", p, &r, &fault, &err);

		xmlrpc_DECREF(p);
		free(err);
		if (st == CLIENT_OK) {
			xmlrpc_DECREF(r);
			break;
		}
		usleep(10000);
	}
	xmlrpc_value *tasks = xmlrpc_array_new(&env);

	for (int i = 0; i < n; i++) {
		xmlrpc_value *t = xmlrpc_build_value(&env, "{s:s,s:{s:i},s:{s:d,s:d}}", "model", model, "vars", "Vin", i,
						     "solver", "TimeSpan", span, "FixedStep", step);

		xmlrpc_array_append_item(&env, tasks, t);
		xmlrpc_DECREF(t);
	}
	xmlrpc_value *p = xmlrpc_build_value(&env, "(V)", tasks);

	xmlrpc_DECREF(call(c, "simq.submit_many", p));
	xmlrpc_DECREF(p);
	xmlrpc_DECREF(tasks);
	int64_t t0 = time_mono_ns();

	xmlrpc_DECREF(call(c, "simq.resume", xmlrpc_build_value(&env, "()")));
	for (;;) {
		xmlrpc_value *s = call(c, "simq.stats", xmlrpc_build_value(&env, "()")), *v;
		xmlrpc_int64 done;

		xmlrpc_struct_find_value(&env, s, "completed_first", &v);
		xmlrpc_read_i8(&env, v, &done);
		xmlrpc_DECREF(v);
		xmlrpc_DECREF(s);
		if (done >= n)
			break;
		usleep(2000);
	}
	double rate = n / ((double)(time_mono_ns() - t0) / 1e9);

	xmlrpc_DECREF(call(c, "simq.shutdown", xmlrpc_build_value(&env, "()")));
	waitpid(pid, NULL, 0);
	client_free(&c);
	xmlrpc_env_clean(&env);
	char *rm = xasprintf("rm -rf '%s' '%s'", dir, ini);

	if (system(rm) != 0)
		fprintf(stderr, "bench/throughput: could not remove %s\n", dir);
	free(rm);
	free(dir);
	free(ini);
	free(simq);
	free(model);
	return rate;
}

int main(int argc, char **argv)
{
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	char port_file[128], url[64];
	xmlrpc_env env;

	if (slash)
		*slash = '\0';
	bin_dir = slash ? self : xstrdup(".");
	char *rel = xasprintf("%s/../share/models", bin_dir);

	models = realpath(rel, NULL);
	free(rel);
	snprintf(port_file, sizeof port_file, "/tmp/simq-bench-tp-emu.%d", (int)getpid());
	char *emu = xasprintf("%s/../src/plecs-emu", bin_dir);
	const char *eargv[] = {emu, "--port", "0", "--port-file", port_file, "--speed", "0", NULL};
	pid_t emu_pid = spawn(eargv);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/RPC2", read_port(port_file));
	xmlrpc_env_init(&env);
	xmlrpc_client_setup_global_const(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 256u * 1024 * 1024);

	printf("plecs-emu --speed 0; one client for the ceiling; simq: 1 slot\n\n");
	printf("%-46s %12s %12s %8s\n", "", "measured", "target", "");
	double ceiling = bare(url, 1e-3, 1e-3, 3000);
	double one = through_simq(url, 1, 3000, 1e-3, 1e-3);
	double sixteen = through_simq(url, 16, 6000, 1e-3, 1e-3);

	printf("%-46s %10.0f/s\n", "bare xmlrpc-c calls, trivial result (ceiling)", ceiling);
	printf("%-46s %10.0f/s %9.0f%%   %6.0f%% of the ceiling  %s\n", "simq unbatched, tasks", one, 50.0,
	       100 * one / ceiling, one >= 0.5 * ceiling ? "meets" : "MISSES");
	printf("%-46s %10.0f/s %10s   %6.1fx unbatched      %s\n", "simq max_batch 16, tasks", sixteen, ">=5x",
	       sixteen / one, sixteen >= 5 * one ? "meets" : "MISSES");
	/* 10,000-point results: rc over 0.5 s at 50 us steps. */
	double bare10k = bare(url, 0.5, 5e-5, 100), simq10k = through_simq(url, 1, 100, 0.5, 5e-5);

	printf("%-46s %10.2f/s\n", "bare calls, 10,001-point result", bare10k);
	printf("%-46s %10.2f/s %10s   %+6.1f%% per task       %s\n", "simq unbatched, 10,001-point results", simq10k,
	       "<=+25%", 100 * (bare10k / simq10k - 1), bare10k / simq10k - 1 <= 0.25 ? "meets" : "MISSES");
	kill(emu_pid, SIGTERM);
	waitpid(emu_pid, NULL, 0);
	unlink(port_file);
	return 0;
}
