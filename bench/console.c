/*
 * bench/console: the console against a real server holding 1,000,000 queued
 * tasks, in a pseudo-terminal of 120x34.  It measures the time to produce one
 * frame, server and client together: a queue page at a different depth each
 * time fetched with simq.view and drawn (the console's SIMQ_BENCH_FRAMES
 * hook), the console's CPU use over 10 idle seconds afterwards, and how soon
 * a task submitted by another client shows on its screen (the log line, read
 * from SIMQ_SCREEN_DUMP).  Targets: <= 5 ms median per frame; <= 1 % CPU
 * idle; a change on screen within 100 ms.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xmlrpc-c/base.h>

#include "bench/lib.h"
#include "client/client.h"
#include "util/time.h"
#include "util/xalloc.h"

#define BATCH 1000
#define QUEUE 1000000
#define FRAMES 300
#define IDLE_S 10
#define PROBES 20

static struct client *conn;

/* The process's user and system time, in seconds. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long utime = 0, stime = 0;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return 0;
	if (fgets(buf, sizeof buf, fp)) {
		char *p = strrchr(buf, ')');

		/* After the command name: state is field 3, utime 14, stime 15. */
		if (p)
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
	}
	fclose(fp);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Reads and drops what the console draws, for up to ms milliseconds. */
static void drain(int fd, int ms)
{
	int64_t until = time_mono_ns() + (int64_t)ms * 1000000;
	char buf[65536];

	for (;;) {
		int64_t left = (until - time_mono_ns()) / 1000000;
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (left <= 0)
			return;
		if (poll(&p, 1, (int)left) > 0 && read(fd, buf, sizeof buf) <= 0)
			return;
	}
}

int main(int argc, char **argv)
{
	char *dir = xasprintf("%s/simq-bench-console.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	char *simq, *model, *ini = xasprintf("%s.ini", dir), *out = xasprintf("%s.frames", dir);
	char *dump = xasprintf("%s.screen", dir);
	struct client_options opt = {.state_dir = dir, .no_start = true};
	xmlrpc_env env;
	FILE *fp;
	pid_t server;

	(void)argc;
	if (slash)
		*slash = '\0';
	simq = xasprintf("%s/../src/simq", slash ? self : ".");
	model = xasprintf("%s/../share/models/buck.plecs", slash ? self : ".");
	model = realpath(model, NULL);
	fp = fopen(ini, "w");
	fprintf(fp, "[scheduler]\nstart_paused = true\n");
	fclose(fp);
	server = fork();
	if (server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(simq, simq, "server", "-f", "--home", dir, "-c", ini, (char *)NULL);
		_exit(127);
	}
	xmlrpc_env_init(&env);
	conn = client_new(&opt);
	bench_await_server(conn);
	fprintf(stderr, "bench/console: queueing %d tasks...\n", QUEUE);
	for (int from = 0; from < QUEUE; from += BATCH) {
		xmlrpc_value *tasks = bench_tasks(&env, model, from, BATCH, "sweep-7");

		xmlrpc_DECREF(bench_callf(conn, "simq.submit_many", "(V)", tasks));
		xmlrpc_DECREF(tasks);
	}

	/* The console in a pseudo-terminal of 120x34, as in a tmux pane. */
	struct winsize ws = {.ws_row = 34, .ws_col = 120};
	int master;
	pid_t console = forkpty(&master, NULL, NULL, &ws);

	if (console == 0) {
		char frames[16];

		snprintf(frames, sizeof frames, "%d", FRAMES);
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("SIMQ_BENCH_FRAMES", frames, 1);
		setenv("SIMQ_BENCH_OUT", out, 1);
		setenv("SIMQ_SCREEN_DUMP", dump, 1);
		execl(simq, simq, "--home", dir, "--no-start", (char *)NULL);
		_exit(127);
	}
	double n = 0, total = 0, median = -1, p95 = -1;

	for (int i = 0; i < 6000 && median < 0; i++) {
		drain(master, 10);
		fp = fopen(out, "r");
		if (fp) {
			if (fscanf(fp, "%lf %lf %lf %lf", &n, &total, &median, &p95) != 4)
				median = -1;
			fclose(fp);
		}
	}
	if (median < 0) {
		fprintf(stderr, "bench/console: the console reported no frames\n");
		return 1;
	}
	/* Idle: nothing changes on the server; the console only redraws its clock. */
	drain(master, 1000);
	double cpu0 = cpu_seconds(console);
	int64_t t0 = time_mono_ns();

	drain(master, IDLE_S * 1000);
	double idle = (cpu_seconds(console) - cpu0) / ((double)(time_mono_ns() - t0) / 1e9);

	/* A change made elsewhere: a task submitted by this client, until its log line is on the console's screen. */
	int64_t seen[PROBES];

	for (int k = 0; k < PROBES; k++) {
		char name[32];

		snprintf(name, sizeof name, "probe-%d", k);
		int64_t t1 = time_mono_ns();

		xmlrpc_DECREF(bench_callf(conn, "simq.submit", "({s:s,s:s,s:s})", "model", model, "name", name, "priority",
					  "critical"));
		seen[k] = -1;
		while (seen[k] < 0 && time_mono_ns() - t1 < INT64_C(5000000000)) {
			char line[4096];

			drain(master, 1);
			fp = fopen(dump, "r");
			while (fp && fgets(line, sizeof line, fp))
				if (strstr(line, name))
					seen[k] = time_mono_ns() - t1;
			if (fp)
				fclose(fp);
		}
		drain(master, 50);
	}
	qsort(seen, PROBES, sizeof *seen, bench_cmp_i64);
	double shown = (double)seen[PROBES / 2] / 1e6;

	kill(console, SIGTERM);
	drain(master, 200);
	waitpid(console, NULL, 0);
	xmlrpc_DECREF(bench_callf(conn, "simq.shutdown", "()"));
	waitpid(server, NULL, 0);

	printf("console, %.0f queued tasks, 120x34                 measured        target    ratio\n", total);
	printf("one frame: simq.view + draw, median (%.0f frames)   %8.2f ms     %6.2f ms    %4.1fx  %s\n", n, median,
	       5.0, 5.0 / median, median <= 5.0 ? "meets" : "MISSES");
	printf("one frame, p95                                    %8.2f ms\n", p95);
	printf("CPU while idle, %d s                               %8.2f %%      %6.2f %%    %4.1fx  %s\n", IDLE_S,
	       100 * idle, 1.0, idle > 0 ? 0.01 / idle : 99.9, idle <= 0.01 ? "meets" : "MISSES");
	printf("a change elsewhere on screen, median of %d       %8.2f ms     %6.2f ms    %4.1fx  %s\n", PROBES, shown,
	       100.0, shown > 0 ? 100.0 / shown : 99.9, shown >= 0 && shown <= 100.0 ? "meets" : "MISSES");
	char *rm = xasprintf("rm -rf '%s' '%s' '%s' '%s'", dir, ini, out, dump);

	if (system(rm) != 0)
		fprintf(stderr, "bench/console: could not remove %s\n", dir);
	free(rm);
	client_free(&conn);
	xmlrpc_env_clean(&env);
	free(dir);
	free(ini);
	free(out);
	free(dump);
	free(simq);
	free(model);
	free(self);
	return 0;
}
