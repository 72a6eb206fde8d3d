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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xmlrpc-c/client.h>

#include "bench/lib.h"
#include "client/client.h"
#include "util/time.h"
#include "util/xalloc.h"

static char *bin_dir, *models;
static const char *state_base;
static char *scratch[64];
static size_t nscratch;

static pid_t spawn(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", 1);

		/* A bench that fails half-way takes its plecs-emu and server with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);

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

#define ROUNDS 3

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof *v, by_value);
	return v[ROUNDS / 2];
}

/*
 * Cases per second of plecs.simulate, back to back, from one xmlrpc-c client: the ceiling.  With
 * list > 0, each call is the list form with that many cases.  Each case is the optStruct simq sends
 * (ModelVars, SolverOpts, OutputFormat, Name), so the two differ only in what simq does around it.
 */
static double bare(const char *url, double span, double step, int n, int list)
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
	xmlrpc_value *cases = xmlrpc_array_new(&env);

	for (int k = 0; k < list; k++) {
		xmlrpc_value *one = xmlrpc_build_value(&env, "{s:{s:i},s:{s:d,s:d},s:s,s:s}", "ModelVars", "Vin", k,
						       "SolverOpts", "TimeSpan", span, "FixedStep", step, "OutputFormat",
						       "Plain", "Name", "task 1234");

		xmlrpc_array_append_item(&env, cases, one);
		xmlrpc_DECREF(one);
	}
	t0 = time_mono_ns();
	for (int i = 0; i < n && !env.fault_occurred; i++) {
		if (list > 0)
			xmlrpc_client_call2f(&env, c, url, "plecs.simulate", &r, "(sA)", "rc", cases);
		else
			xmlrpc_client_call2f(&env, c, url, "plecs.simulate", &r, "(s{s:{s:i},s:{s:d,s:d},s:s,s:s})", "rc",
					     "ModelVars", "Vin", i, "SolverOpts", "TimeSpan", span, "FixedStep", step,
					     "OutputFormat", "Plain", "Name", "task 1234");
		if (!env.fault_occurred)
			xmlrpc_DECREF(r);
	}
	double rate = (list > 0 ? list : 1) * n / ((double)(time_mono_ns() - t0) / 1e9);

	xmlrpc_DECREF(cases);

	if (env.fault_occurred) {
		fprintf(stderr, "bench/throughput: %s\n", env.fault_string);
		exit(1);
	}
	xmlrpc_client_destroy(c);
	xmlrpc_env_clean(&env);
	free(model);
	return rate;
}

/* Tasks per second through simq: n tasks submitted at once, timed until the last is COMPLETED. */
static double through_simq(const char *url, int max_batch, int n, double span, double step)
{
	char *dir = xasprintf("%s/simq-bench-tp.%d.%zu", state_base, (int)getpid(), nscratch);
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
	bench_await_server(c);
	xmlrpc_value *tasks = xmlrpc_array_new(&env);

	for (int i = 0; i < n; i++) {
		xmlrpc_value *t = xmlrpc_build_value(&env, "{s:s,s:{s:i},s:{s:d,s:d}}", "model", model, "vars", "Vin", i,
						     "solver", "TimeSpan", span, "FixedStep", step);

		xmlrpc_array_append_item(&env, tasks, t);
		xmlrpc_DECREF(t);
	}
	xmlrpc_value *p = xmlrpc_build_value(&env, "(V)", tasks);

	xmlrpc_value *ids = bench_call(c, "simq.submit_many", p), *last;

	xmlrpc_DECREF(p);
	xmlrpc_DECREF(tasks);
	xmlrpc_array_read_item(&env, ids, n - 1, &last);
	int64_t t0 = time_mono_ns();

	xmlrpc_DECREF(bench_callf(c, "simq.resume", "()"));
	/* Same priority, so they run in submission order: the last one's end is the end (checked below). */
	for (bool final = false; !final;) {
		xmlrpc_value *w = bench_callf(c, "simq.wait", "((V)i)", last, 600), *one;
		const char *state;

		xmlrpc_array_read_item(&env, w, 0, &one);
		xmlrpc_decompose_value(&env, one, "{s:s,*}", "state", &state);
		final = strcmp(state, "completed") == 0;
		if (!final && strcmp(state, "running") != 0 && strcmp(state, "queued") != 0) {
			fprintf(stderr, "bench/throughput: task ended %s\n", state);
			exit(1);
		}
		free((void *)state);
		xmlrpc_DECREF(one);
		xmlrpc_DECREF(w);
	}
	double rate = n / ((double)(time_mono_ns() - t0) / 1e9);
	xmlrpc_value *s = bench_callf(c, "simq.stats", "()"), *v;
	xmlrpc_int64 done;

	xmlrpc_struct_find_value(&env, s, "completed_first", &v);
	xmlrpc_read_i8(&env, v, &done);
	xmlrpc_DECREF(v);
	xmlrpc_DECREF(s);
	if (done != n) {
		fprintf(stderr, "bench/throughput: %lld of %d tasks completed\n", (long long)done, n);
		exit(1);
	}
	xmlrpc_DECREF(last);
	xmlrpc_DECREF(ids);

	xmlrpc_DECREF(bench_callf(c, "simq.shutdown", "()"));
	waitpid(pid, NULL, 0);
	client_free(&c);
	xmlrpc_env_clean(&env);
	/*
	 * Removed at the end, not now: on ext4 without a journal, creating a file skips every inode
	 * freed in the last minutes one by one, so the next run would time this run's deletions.
	 */
	scratch[nscratch++] = dir;
	scratch[nscratch++] = ini;
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
	const char *eargv[] = {emu, "--port", "0", "--port-file", port_file, "--speed", "0", "--cores", "1", NULL};
	pid_t emu_pid = spawn(eargv);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/RPC2", read_port(port_file));
	xmlrpc_env_init(&env);
	xmlrpc_client_setup_global_const(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 256u * 1024 * 1024);

	/*
	 * State in tmpfs unless SIMQ_BENCH_DIR says otherwise: the figures are simq's cost, not the
	 * disk's.  On ext4 without a journal (this project's CI machines) creating a file walks every
	 * inode freed in the last minutes, so one file costs from 25 us to over 300 us depending on what
	 * ran before.
	 */
	struct stat st;

	state_base = getenv("SIMQ_BENCH_DIR");
	if (state_base == NULL)
		state_base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	printf("plecs-emu --speed 0 --cores 1; one client for the ceilings; simq: 1 slot, state in %s;\n"
	       "median of %d rounds\n\n", state_base, ROUNDS);
	printf("%-46s %12s %12s %8s\n", "", "measured", "target", "");

	double ceiling[ROUNDS], ceiling16[ROUNDS], one[ROUNDS], sixteen[ROUNDS], bare10k[ROUNDS], simq10k[ROUNDS];

	/* Rounds interleave the four, so a slow moment of the machine hits all of them alike. */
	for (int r = 0; r < ROUNDS; r++) {
		ceiling[r] = bare(url, 1e-3, 1e-3, 3000, 0);
		one[r] = through_simq(url, 1, 3000, 1e-3, 1e-3);
		ceiling16[r] = bare(url, 1e-3, 1e-3, 375, 16);
		sixteen[r] = through_simq(url, 16, 6000, 1e-3, 1e-3);
		/* 10,000-point results: rc over 0.5 s at 50 us steps. */
		bare10k[r] = bare(url, 0.5, 5e-5, 100, 0);
		simq10k[r] = through_simq(url, 1, 100, 0.5, 5e-5);
	}
	double c = median(ceiling), u = median(one), c16 = median(ceiling16), b = median(sixteen);
	double p10k = median(bare10k), s10k = median(simq10k);

	printf("%-46s %10.0f/s\n", "bare xmlrpc-c calls, trivial result (ceiling)", c);
	printf("%-46s %10.0f/s %9.0f%%   %6.0f%% of the ceiling  %s\n", "simq unbatched, tasks", u, 50.0, 100 * u / c,
	       u >= 0.5 * c ? "meets" : "MISSES");
	printf("%-46s %10.0f/s\n", "bare list calls of 16 cases, cases", c16);
	printf("%-46s %10.0f/s %10s   %6.1fx unbatched      %s\n", "simq max_batch 16, tasks", b, ">=5x", b / u,
	       b >= 5 * u ? "meets" : "MISSES");
	printf("%-46s %10.2f/s\n", "bare calls, 10,001-point result", p10k);
	printf("%-46s %10.2f/s %10s   %+6.1f%% per task       %s\n", "simq unbatched, 10,001-point results", s10k,
	       "<=+25%", 100 * (p10k / s10k - 1), p10k / s10k - 1 <= 0.25 ? "meets" : "MISSES");
	for (size_t i = 0; i < nscratch; i++) {
		char *rm = xasprintf("rm -rf '%s'", scratch[i]);

		if (system(rm) != 0)
			fprintf(stderr, "bench/throughput: could not remove %s\n", scratch[i]);
		free(rm);
		free(scratch[i]);
	}
	kill(emu_pid, SIGTERM);
	waitpid(emu_pid, NULL, 0);
	unlink(port_file);
	return 0;
}
