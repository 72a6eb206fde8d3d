/*
 * bench/status [SIMQ]: `simq status`, the command tmux runs every
 * status-interval, against a real server holding 1,000,000 queued tasks:
 * the whole command (fork, exec, the call, the line) as tmux pays for it,
 * beside `simq --version` (the same program starting and doing nothing: the
 * floor no answer can go below), and the simq.status call alone next to the
 * simq.view it stands in for.  Target: simq status <= 20 ms median.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/lib.h"
#include "client/client.h"
#include "util/time.h"
#include "util/xalloc.h"

#define BATCH 1000
#define QUEUE 1000000
#define RUNS 101    /* whole commands */
#define SAMPLES 300 /* calls */
#define TARGET_MS 20.0

static double median_ms(int64_t *ns, int n)
{
	qsort(ns, (size_t)n, sizeof *ns, bench_cmp_i64);
	return (double)ns[n / 2] / 1e6;
}

/* Runs argv with its output dropped, as tmux runs #(...); the wall time in ns (*cpu: user + system), or exits. */
static int64_t run_ns(char *const *argv, int64_t *cpu)
{
	int64_t t0 = time_mono_ns();
	pid_t pid = fork();
	struct rusage ru;
	int status;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench/status: %s %s failed\n", argv[0], argv[1]);
		exit(1);
	}
	*cpu = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	return time_mono_ns() - t0;
}

/* The median wall time of RUNS runs of argv; *cpu_ms gets their median CPU time. */
static double command_ms(char *const *argv, double *cpu_ms)
{
	static int64_t ns[RUNS], cpu[RUNS];

	for (int i = 0; i < RUNS; i++)
		ns[i] = run_ns(argv, &cpu[i]);
	*cpu_ms = median_ms(cpu, RUNS);
	return median_ms(ns, RUNS);
}

/* The median of SAMPLES calls of method with params. */
static double call_ms(struct client *conn, const char *method, xmlrpc_value *params)
{
	static int64_t ns[SAMPLES];

	for (int i = 0; i < SAMPLES; i++) {
		int64_t t0 = time_mono_ns();

		xmlrpc_DECREF(bench_call(conn, method, params));
		ns[i] = time_mono_ns() - t0;
	}
	return median_ms(ns, SAMPLES);
}

int main(int argc, char **argv)
{
	char *dir = xasprintf("%s/simq-bench-status.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	char *simq, *model;
	struct client_options opt = {.state_dir = dir, .no_start = true};
	struct client *conn;
	xmlrpc_env env;
	pid_t pid;

	if (slash)
		*slash = '\0';
	simq = argc > 1 ? xstrdup(argv[1]) : xasprintf("%s/../src/simq", slash ? self : ".");
	model = realpath(xasprintf("%s/../share/models/buck.plecs", slash ? self : "."), NULL);
	pid = fork();
	if (pid == 0) {
		execl(simq, simq, "server", "-f", "--home", dir, (char *)NULL);
		_exit(127);
	}
	xmlrpc_env_init(&env);
	conn = client_new(&opt);
	bench_await_server(conn);
	for (int b = 0; b < QUEUE / BATCH; b++) {
		xmlrpc_value *t = bench_tasks(&env, model, b * BATCH, BATCH, "bench"), *p = xmlrpc_build_value(&env, "(V)", t);

		xmlrpc_DECREF(bench_call(conn, "simq.submit_many", p));
		xmlrpc_DECREF(p);
		xmlrpc_DECREF(t);
	}
	char *const status_argv[] = {simq, (char *)"status", (char *)"--tmux", (char *)"--home", dir, NULL};
	char *const version_argv[] = {simq, (char *)"--version", NULL};
	double status_cpu, version_cpu;
	double status = command_ms(status_argv, &status_cpu), version = command_ms(version_argv, &version_cpu);
	xmlrpc_value *none = xmlrpc_array_new(&env);
	xmlrpc_value *page = xmlrpc_build_value(&env, "({s:i,s:i})", "queue_limit", 50, "log_since", -1);
	double call = call_ms(conn, "simq.status", none), view = call_ms(conn, "simq.view", page);

	printf("%-48s %12s %12s %8s\n", "", "measured", "target", "ratio");
	printf("%-48s %10.3fms %10.3fms %7.1fx  %s\n", "simq status --tmux, 1,000,000 queued (median)", status,
	       TARGET_MS, TARGET_MS / status, status <= TARGET_MS ? "meets" : "MISSES");
	printf("%-48s %10.3fms   (its CPU time, user + system: what contention cannot inflate)\n",
	       "  the same, CPU (median)", status_cpu);
	printf("%-48s %10.3fms   (the program starting and doing nothing; CPU %.3f ms)\n", "simq --version (median)",
	       version, version_cpu);
	printf("%-48s %10.3fms   (the call alone, through the CLI's client)\n", "simq.status call (median)", call);
	printf("%-48s %10.3fms   (what a status line would cost without simq.status)\n",
	       "simq.view call, a page of 50 (median)", view);
	xmlrpc_DECREF(none);
	xmlrpc_DECREF(page);
	xmlrpc_DECREF(bench_callf(conn, "simq.shutdown", "()"));
	waitpid(pid, NULL, 0);
	client_free(&conn);
	xmlrpc_env_clean(&env);
	char *rm = xasprintf("rm -rf '%s'", dir);

	if (system(rm) != 0)
		fprintf(stderr, "bench/status: could not remove %s\n", dir);
	free(rm);
	return 0;
}
