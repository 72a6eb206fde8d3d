/*
 * bench/throughput: tasks through the whole path (submit, PLECS call, result
 * stored, COMPLETED) against one plecs-emu at --speed 0, unbatched and with
 * max_batch 16, next to a bare loop of xmlrpc-c calls to the same plecs-emu
 * in the same run (the ceiling).  Then the same for 10,000-point results.
 * Targets: unbatched >= 50 % of the ceiling's calls/s; batched >= 5x
 * unbatched; with 10,000-point results simq adds <= 25 % to a bare call.
 * Then the realistic row (issue 16): 1,000 tasks of rc.plecs with its own
 * TimeSpan (1,001-point answers, one signal) at max_batch 1, 4 and 16, with
 * the server's CPU per task (from /proc/PID/stat), how busy plecs-emu was
 * (its --trace call durations over the wall time) and the bytes of a stored
 * result.  Targets: CPU <= 0.5 ms per task, busy >= 80 % at max_batch 16,
 * <= 12 KB per result.
 * "bench/throughput dashboard" runs the unbatched row alone, with and without
 * 100 dashboard viewers connected over WebSocket (issue 18), interleaved in
 * the same run.  Target: the viewers cost <= 5 % of the unbatched figure.
 */
#include "autoconf.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xmlrpc-c/client.h>

#include "bench/floors.h"
#include "bench/lib.h"
#include "bench/viewers.h"
#include "client/client.h"
#include "util/time.h"
#include "util/xalloc.h"

static char *bin_dir, *models;
static const char *state_base;
static char *scratch[64];
static size_t nscratch;

#define ROUNDS 3

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, by_value);
	return v[n / 2];
}

static double median(double *v)
{
	return median_of(v, ROUNDS);
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

/*
 * The server's threads by name: the loop is the process's own ("simq"); a thread is named by its
 * creator's code (pthread_setname_np) or inherits its creator's name, so the API's connection
 * threads show as simq-accept.  "gone" is what threads that ended during the run spent.
 */
static const char *const thread_names[] = {"simq", "simq-plecs", "simq-decode", "simq-writer", "simq-accept", "gone"};
enum { NTHREADS = sizeof thread_names / sizeof thread_names[0], GONE = NTHREADS - 1 };

/* What one run through simq measured. */
struct run {
	double rate;            /* tasks per second */
	double cpu_ms;          /* the server's CPU (user + system) per task, in ms */
	double thread_ms[NTHREADS]; /* the same by thread */
	double busy;            /* plecs-emu's call durations (its trace) over the wall time */
	double result_bytes;    /* bytes under results/ per task */
	double viewer_rate;     /* messages each dashboard viewer received per second */
	double viewer_bytes;    /* bytes per message they received */
	double bench_cpu_ms;    /* this process's CPU per task (its client, and the viewers' thread) */
};

/* User + system CPU so far, in seconds, and the name, from a /proc stat file; false if it is gone. */
static bool stat_cpu(const char *path, double *seconds, char *name, size_t size)
{
	char line[2048];
	unsigned long utime = 0, stime = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL || fgets(line, sizeof line, fp) == NULL) {
		if (fp)
			fclose(fp);
		return false;
	}
	fclose(fp);
	/* After the command's name in parentheses: state, then fields 4 to 13, then utime and stime. */
	const char *open = strchr(line, '('), *p = strrchr(line, ')');

	if (open == NULL || p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
		fprintf(stderr, "bench/throughput: cannot read the CPU times in %s\n", path);
		exit(1);
	}
	snprintf(name, size, "%.*s", (int)(p - open - 1), open + 1);
	*seconds = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	return true;
}

/* The server's user + system CPU so far, in seconds: the whole process, and by thread name. */
static double cpu_seconds(pid_t pid, double by_thread[NTHREADS])
{
	char path[64], name[64];
	double total;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!stat_cpu(path, &total, name, sizeof name)) {
		fprintf(stderr, "bench/throughput: cannot read %s\n", path);
		exit(1);
	}
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	double named = 0;

	memset(by_thread, 0, NTHREADS * sizeof *by_thread);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		char tpath[sizeof path + sizeof e->d_name + 8];
		double s;
		size_t k = 0;

		snprintf(tpath, sizeof tpath, "%s/%s/stat", path, e->d_name);
		if (e->d_name[0] == '.' || !stat_cpu(tpath, &s, name, sizeof name))
			continue;
		while (k < GONE && strcmp(thread_names[k], name) != 0)
			k++;
		by_thread[k] += s;
		named += s;
	}
	if (d)
		closedir(d);
	/* The process's times include its ended threads'. */
	by_thread[GONE] += total - named;
	return total;
}

/* The sum of the durations of the calls plecs-emu traced from byte from of its trace on. */
static double traced_seconds(const char *trace, long from)
{
	FILE *fp = fopen(trace, "r");
	char line[1024];
	double sum = 0;

	if (fp == NULL || fseek(fp, from, SEEK_SET) != 0) {
		fprintf(stderr, "bench/throughput: cannot read the trace %s\n", trace);
		exit(1);
	}
	while (fgets(line, sizeof line, fp)) {
		const char *d = strstr(line, " duration=");

		if (d)
			sum += strtod(d + 10, NULL);
	}
	fclose(fp);
	return sum;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static double stored_bytes;

static int add_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_F)
		stored_bytes += (double)st->st_size;
	return 0;
}

/*
 * n tasks submitted at once through simq, timed until the last is COMPLETED.  span > 0 sets
 * SolverOpts TimeSpan and FixedStep; span 0 leaves the model's own.  With trace, plecs-emu's trace
 * file, for how busy it was.  With viewers > 0, the server has its dashboard on and that many
 * WebSocket viewers read it throughout.
 */
static struct run run_simq(const char *url, int max_batch, int n, double span, double step, const char *trace,
			   const char *format, int viewers)
{
	struct run out = {0};
	char *dir = xasprintf("%s/simq-bench-tp.%d.%zu", state_base, (int)getpid(), nscratch);
	char *ini = xasprintf("%s.ini", dir), *simq = xasprintf("%s/../src/simq", bin_dir);
	char *model = xasprintf("%s/rc.plecs", models);
	FILE *fp = fopen(ini, "w");
	struct client_options opt = {.state_dir = dir, .no_start = true};
	struct client *c;
	xmlrpc_env env;
	pid_t pid;

	fprintf(fp, "[backend emu]\nurl = %s\nmax_batch = %d\noutput_format = %s\n[scheduler]\nstart_paused = true\n", url,
		max_batch, format);
	int dash_port = viewers > 0 ? viewers_free_port() : 0;
	struct viewers *pages = NULL;

	if (viewers > 0)
		fprintf(fp, "[dashboard]\nlisten = 127.0.0.1\nport = %d\n", dash_port);
	fclose(fp);
	const char *argv[] = {simq, "server", "-f", "--home", dir, "-c", ini, NULL};

	pid = bench_spawn(argv);
	xmlrpc_env_init(&env);
	c = client_new(&opt);
	bench_await_server(c);
	if (viewers > 0)
		pages = viewers_connect(dash_port, viewers);
	xmlrpc_value *tasks = xmlrpc_array_new(&env);

	for (int i = 0; i < n; i++) {
		xmlrpc_value *t = span > 0 ? xmlrpc_build_value(&env, "{s:s,s:{s:i},s:{s:d,s:d}}", "model", model, "vars",
								"Vin", i, "solver", "TimeSpan", span, "FixedStep", step)
					   : xmlrpc_build_value(&env, "{s:s,s:{s:i}}", "model", model, "vars", "Vin", i);

		xmlrpc_array_append_item(&env, tasks, t);
		xmlrpc_DECREF(t);
	}
	xmlrpc_value *p = xmlrpc_build_value(&env, "(V)", tasks);

	xmlrpc_value *ids = bench_call(c, "simq.submit_many", p), *last;

	xmlrpc_DECREF(p);
	xmlrpc_DECREF(tasks);
	xmlrpc_array_read_item(&env, ids, n - 1, &last);
	long trace_from = trace ? file_size(trace) : 0;
	double threads0[NTHREADS], threads1[NTHREADS], self_threads[NTHREADS];
	double cpu0 = cpu_seconds(pid, threads0), self0 = cpu_seconds(getpid(), self_threads);
	int64_t t0 = time_mono_ns(), msgs0 = 0, msgs = 0, bytes0 = 0, bytes = 0;

	if (pages)
		viewers_count(pages, &msgs0, &bytes0);

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
	double wall = (double)(time_mono_ns() - t0) / 1e9;

	out.rate = n / wall;
	out.cpu_ms = 1000 * (cpu_seconds(pid, threads1) - cpu0) / n;
	for (int k = 0; k < NTHREADS; k++)
		out.thread_ms[k] = 1000 * (threads1[k] - threads0[k]) / n;
	out.bench_cpu_ms = 1000 * (cpu_seconds(getpid(), self_threads) - self0) / n;
	out.busy = trace ? traced_seconds(trace, trace_from) / wall : 0;
	if (pages) {
		viewers_count(pages, &msgs, &bytes);
		out.viewer_rate = (double)(msgs - msgs0) / viewers / wall;
		out.viewer_bytes = msgs > msgs0 ? (double)(bytes - bytes0) / (double)(msgs - msgs0) : 0;
		viewers_close(&pages);
	}
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
	char *results = xasprintf("%s/results", dir);

	stored_bytes = 0;
	nftw(results, add_file, 16, FTW_PHYS);
	out.result_bytes = stored_bytes / n;
	free(results);
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
	return out;
}

static double through_simq(const char *url, int max_batch, int n, double span, double step)
{
	return run_simq(url, max_batch, n, span, step, NULL, "plain", 0).rate;
}

#define REAL_TASKS 1000

/*
 * The realistic row: REAL_TASKS tasks of rc.plecs with its own TimeSpan (1,001 points, one
 * signal) at max_batch 1, 4 and 16 with Plain answers, and at 16 with MatFile answers (output_format
 * = matfile: MAT bytes in base64, far less to decode), against a plecs-emu of its own that traces
 * its calls.
 */
static void realistic(void)
{
	static const int batches[] = {1, 4, 16, 16};
	static const char *const formats[] = {"plain", "plain", "plain", "matfile"};
	enum { NB = sizeof batches / sizeof batches[0] };
	char port_file[128], url[64], trace[128];
	double rate[NB][ROUNDS], cpu[NB][ROUNDS], busy[NB][ROUNDS], bytes[NB][ROUNDS];
	double threads[NB][NTHREADS][ROUNDS];

	snprintf(port_file, sizeof port_file, "/tmp/simq-bench-tp-emu2.%d", (int)getpid());
	snprintf(trace, sizeof trace, "%s/simq-bench-tp-trace.%d", state_base, (int)getpid());
	char *emu = xasprintf("%s/../src/plecs-emu", bin_dir);
	const char *eargv[] = {emu, "--port", "0", "--port-file", port_file, "--speed", "0", "--cores", "1",
			       "--trace", trace, NULL};
	pid_t emu_pid = bench_spawn(eargv);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/RPC2", bench_read_port(port_file, "plecs-emu"));
	for (int r = 0; r < ROUNDS; r++)
		for (int b = 0; b < NB; b++) {
			struct run x = run_simq(url, batches[b], REAL_TASKS, 0, 0, trace, formats[b], 0);

			rate[b][r] = x.rate;
			cpu[b][r] = x.cpu_ms;
			busy[b][r] = x.busy;
			bytes[b][r] = x.result_bytes;
			for (int k = 0; k < NTHREADS; k++)
				threads[b][k][r] = x.thread_ms[k];
		}
	printf("\n1,000 tasks of rc.plecs, 1,001-point answers (one signal), plecs-emu traced:\n");
	for (int b = 0; b < NB; b++) {
		double t = median(rate[b]), c = median(cpu[b]), u = median(busy[b]), k = median(bytes[b]) / 1024;
		char what[64];

		snprintf(what, sizeof what, "max_batch %d, %s answers, tasks", batches[b], formats[b]);
		printf("%-46s %10.0f/s\n", what, t);
		printf("%-46s %9.3fms %10s %8.2fx                %s\n", "  server CPU per task", c, "<=0.5ms", 0.5 / c,
		       c <= 0.5 ? "meets" : "MISSES");
		printf("    by thread (ms):");
		for (int th = 0; th < NTHREADS; th++)
			printf(" %s %.3f", thread_names[th], median(threads[b][th]));
		printf("\n");
		if (batches[b] == 16)
			printf("%-46s %10.0f%% %9s%%  %8.2fx                %s\n", "  PLECS busy", 100 * u, ">=80",
			       u / 0.8, u >= 0.8 ? "meets" : "MISSES");
		else
			printf("%-46s %10.0f%%\n", "  PLECS busy", 100 * u);
		printf("%-46s %9.1fKB %10s %8.2fx                %s\n", "  bytes per stored result", k, "<=12KB", 12 / k,
		       k <= 12 ? "meets" : "MISSES");
	}
	char *model = xasprintf("%s/rc.plecs", models);

	bench_floors(url, model, median(cpu[2]), median(bytes[2]) / 1024);
	free(model);
	kill(emu_pid, SIGTERM);
	waitpid(emu_pid, NULL, 0);
	unlink(port_file);
	unlink(trace);
	free(emu);
}

#define VIEWERS     100
#define DASH_ROUNDS 9 /* the difference is small next to a shared machine's noise: more rounds, paired */

/*
 * Issue 18: the unbatched row with and without VIEWERS dashboard viewers, in rounds of one run
 * each, back to back; the cost is the median of the rounds' own ratios, so that a slow moment of
 * the machine weighs on both sides of a pair.
 */
static void dashboard_rows(const char *url)
{
	enum { R = DASH_ROUNDS };
	double plain[R], viewed[R], cpu_plain[R], cpu_viewed[R], pushed[R], size[R], ratio[R], self_plain[R],
	    self_viewed[R];

	for (int r = 0; r < R; r++) {
		struct run a = run_simq(url, 1, 3000, 1e-3, 1e-3, NULL, "plain", 0);
		struct run b = run_simq(url, 1, 3000, 1e-3, 1e-3, NULL, "plain", VIEWERS);

		plain[r] = a.rate;
		cpu_plain[r] = a.cpu_ms;
		viewed[r] = b.rate;
		cpu_viewed[r] = b.cpu_ms;
		pushed[r] = b.viewer_rate;
		size[r] = b.viewer_bytes;
		ratio[r] = b.rate / a.rate;
		self_plain[r] = a.bench_cpu_ms;
		self_viewed[r] = b.bench_cpu_ms;
	}
	double cost = 1 - median_of(ratio, R), u = median_of(plain, R), v = median_of(viewed, R);

	printf("\n3,000 tasks unbatched (trivial results), with and without %d dashboard viewers (%d pairs):\n",
	       VIEWERS, R);
	printf("%-46s %10.0f/s\n", "simq unbatched, tasks, no viewers", u);
	printf("%-46s %10.0f/s\n", "simq unbatched, tasks, 100 viewers reading", v);
	printf("%-46s %10.1f%% %9s%%  %8.2fx                %s\n", "  what the viewers cost (median of pairs)",
	       100 * cost, "<=5", cost > 0.0005 ? 0.05 / cost : 99.99, cost <= 0.05 ? "meets" : "MISSES");
	printf("%-46s %9.3fms / %.3fms\n", "  server CPU per task, without / with", median_of(cpu_plain, R),
	       median_of(cpu_viewed, R));
	printf("%-46s %9.3fms / %.3fms\n", "  the bench's CPU per task (client, viewers)", median_of(self_plain, R),
	       median_of(self_viewed, R));
	printf("%-46s %10.1f/s %9s\n", "  updates each viewer received", median_of(pushed, R), "<=5/s");
	printf("%-46s %9.1fKB\n", "  bytes per update", median_of(size, R) / 1024);
}

/* The rows of issue 3: trivial results unbatched and in batches of 16, and 10,001-point results. */
static void standard_rows(const char *url)
{
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
	pid_t emu_pid = bench_spawn(eargv);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/RPC2", bench_read_port(port_file, "plecs-emu"));
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
	/* "bench/throughput realistic" or "dashboard": that row alone. */
	if (argc > 1 && strcmp(argv[1], "dashboard") == 0) {
		dashboard_rows(url);
	} else {
		if (argc < 2 || strcmp(argv[1], "realistic") != 0)
			standard_rows(url);
		realistic();
	}
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
