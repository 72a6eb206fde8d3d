/*
 * bench/api [SIMQ]: the API of a real server, through the same client the CLI
 * uses: submit_many in batches of 1,000 (and the same with the calls written
 * before the clock starts: the server's part alone), and simq.view with 1,000,000 queued
 * tasks as a console asks it (holding the rows it was sent: queue_since), and
 * with every row sent, next to simq.echo (a bare method) on the same server in
 * the same run.
 * Targets: >= 50,000 tasks/s submitted; view <= 2 ms median; <= 250 bytes of the
 * server's memory per queued task (its resident set before the first submit and
 * with 1,000,000 queued, read from /proc/PID/status).
 */
#include "autoconf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/lib.h"
#include "client/client.h"
#include "proto/xmlcall.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

#define BATCH 1000
#define QUEUE 1000000
#define SAMPLES 300
/* One submit_many of a sweep's size (issue 17: the cache key of each task costs no more than this shows). */
#define SWEEP 10000
#define SWEEPS 5
/* The first batch of the calls written beforehand: after the timed ones and the sweeps. */
#define PREBUILT (100 + SWEEPS * SWEEP / BATCH)

static struct client *conn;

/* The server's resident set in bytes (VmRSS), or -1 when /proc cannot tell. */
static int64_t rss_bytes(pid_t pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	fp = fopen(path, "re");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof line, fp))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb < 0 ? -1 : kb * 1024;
}

int main(int argc, char **argv)
{
	char *dir = xasprintf("%s/simq-bench-api.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	char *simq, *model;
	struct client_options opt = {.state_dir = dir, .no_start = true};
	xmlrpc_env env;
	pid_t pid;

	if (slash)
		*slash = '\0';
	simq = argc > 1 ? xstrdup(argv[1]) : xasprintf("%s/../src/simq", slash ? self : ".");
	model = xasprintf("%s/../share/models/buck.plecs", slash ? self : ".");
	model = realpath(model, NULL);
	pid = fork();
	if (pid == 0) {
		execl(simq, simq, "server", "-f", "--home", dir, (char *)NULL);
		_exit(127);
	}
	xmlrpc_env_init(&env);
	conn = client_new(&opt);
	bench_await_server(conn);
	int64_t rss_empty = rss_bytes(pid);

	printf("%-44s %12s %12s %8s\n", "", "measured", "target", "ratio");
	/* submit_many: 100 batches of 1,000, timed whole. */
	int64_t t0 = time_mono_ns();

	for (int b = 0; b < 100; b++) {
		xmlrpc_value *tasks = bench_tasks(&env, model, b * BATCH, BATCH, "bench"), *p = xmlrpc_build_value(&env, "(V)", tasks);

		xmlrpc_DECREF(bench_call(conn, "simq.submit_many", p));
		xmlrpc_DECREF(p);
		xmlrpc_DECREF(tasks);
	}
	double secs = (double)(time_mono_ns() - t0) / 1e9, rate = 100.0 * BATCH / secs;

	printf("%-44s %10.0f/s %10.0f/s %7.1fx  %s\n", "submit_many, batches of 1,000", rate, 50000.0, rate / 50000,
	       rate >= 50000 ? "meets" : "MISSES");
	/* The same with each call's XML written before the clock starts: the server's part alone (the client above
	 * builds and writes each call between the server's answers, on the same two cores). */
	struct buf bodies[100];

	for (int b = 0; b < 100; b++) {
		xmlrpc_value *tasks = bench_tasks(&env, model, (PREBUILT + b) * BATCH, BATCH, "bench"),
			     *p = xmlrpc_build_value(&env, "(V)", tasks);

		bodies[b] = (struct buf)BUF_INIT;
		if (!proto_serialize_call(&env, &bodies[b], "simq.submit_many", p)) {
			fprintf(stderr, "bench/api: cannot write a call: %s\n", env.fault_string);
			return 1;
		}
		xmlrpc_DECREF(p);
		xmlrpc_DECREF(tasks);
	}
	t0 = time_mono_ns();
	for (int b = 0; b < 100; b++)
		xmlrpc_DECREF(bench_call_xml(conn, &bodies[b]));
	secs = (double)(time_mono_ns() - t0) / 1e9;
	rate = 100.0 * BATCH / secs;
	for (int b = 0; b < 100; b++)
		buf_free(&bodies[b]);
	printf("%-44s %10.0f/s %10.0f/s %7.1fx  %s\n", "  its calls written beforehand (the server's part)", rate,
	       50000.0, rate / 50000, rate >= 50000 ? "meets" : "MISSES");
	/* A 10,000-task sweep of one model in one call, SWEEPS times: the median call. */
	double sweep_s[SWEEPS];

	for (int k = 0; k < SWEEPS; k++) {
		xmlrpc_value *big = bench_tasks(&env, model, 100 * BATCH + k * SWEEP, SWEEP, "sweep"),
			     *q = xmlrpc_build_value(&env, "(V)", big);

		t0 = time_mono_ns();
		xmlrpc_DECREF(bench_call(conn, "simq.submit_many", q));
		sweep_s[k] = (double)(time_mono_ns() - t0) / 1e9;
		xmlrpc_DECREF(q);
		xmlrpc_DECREF(big);
	}
	qsort(sweep_s, SWEEPS, sizeof sweep_s[0], bench_cmp_double);
	printf("%-44s %10.0f ms   (median of %d calls, %.0f tasks/s)\n", "submit_many of 10,000 tasks of one model",
	       sweep_s[SWEEPS / 2] * 1000, SWEEPS, SWEEP / sweep_s[SWEEPS / 2]);
	/* The same calls' size through simq.echo: what the protocol alone costs. */
	xmlrpc_value *tasks = bench_tasks(&env, model, 0, BATCH, "bench"), *p = xmlrpc_build_value(&env, "(V)", tasks);

	t0 = time_mono_ns();
	for (int b = 0; b < 20; b++)
		xmlrpc_DECREF(bench_call(conn, "simq.echo", p));
	secs = (double)(time_mono_ns() - t0) / 1e9;
	printf("%-44s %10.0f/s   (the same 1,000-task arrays echoed back)\n", "simq.echo of a batch", 20.0 * BATCH / secs);
	xmlrpc_DECREF(p);
	xmlrpc_DECREF(tasks);

	/* Fill to 1,000,000 queued tasks, then measure view and echo. */
	for (int b = PREBUILT + 100; b < QUEUE / BATCH; b++) {
		xmlrpc_value *t = bench_tasks(&env, model, b * BATCH, BATCH, "bench"), *q = xmlrpc_build_value(&env, "(V)", t);

		xmlrpc_DECREF(bench_call(conn, "simq.submit_many", q));
		xmlrpc_DECREF(q);
		xmlrpc_DECREF(t);
	}
	int64_t rss_full = rss_bytes(pid);
	double per_task = (double)(rss_full - rss_empty) / QUEUE;

	/* A console that is up to date with the log and holds the rows it was sent; then one that is sent them all. */
	double view = bench_view_ms(conn, 0, true, SAMPLES), whole = bench_view_ms(conn, 0, false, SAMPLES);
	double echo = bench_echo_ms(conn, SAMPLES);

	printf("%-44s %10.3fms %10.3fms %7.1fx  %s\n", "simq.view, 1,000,000 queued (median)", view, 2.0, 2.0 / view,
	       view <= 2 ? "meets" : "MISSES");
	printf("%-44s %10.3fms   (every row sent: the first view, or a page that changed)\n", "  its queue page sent whole",
	       whole);
	printf("%-44s %10.3fms   (the same server, a bare method)\n", "simq.echo (median)", echo);
	if (rss_empty < 0 || rss_full < 0)
		printf("%-44s %12s   (/proc/%d/status has no VmRSS)\n", "memory per queued task at 1,000,000", "?",
		       (int)pid);
	else
		printf("%-44s %11.0fB %11.0fB %7.1fx  %s  (RSS %.0f MB -> %.0f MB)\n",
		       "memory per queued task at 1,000,000", per_task, 250.0, 250.0 / per_task,
		       per_task <= 250 ? "meets" : "MISSES", (double)rss_empty / 1e6, (double)rss_full / 1e6);
	xmlrpc_DECREF(bench_callf(conn, "simq.shutdown", "()"));
	waitpid(pid, NULL, 0);
	client_free(&conn);
	char *rm = xasprintf("rm -rf '%s'", dir);

	if (system(rm) != 0)
		fprintf(stderr, "bench/api: could not remove %s\n", dir);
	free(rm);
	return 0;
}
