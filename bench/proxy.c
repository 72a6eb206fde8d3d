/*
 * bench/proxy: the PLECS-compatible proxy (issue 19) against plecs-emu
 * directly, in the same run.  One plecs-emu (one call at a time, as PLECS
 * serves them; list cases on --cores 2) behind a simq server whose [proxy]
 * listens on 127.0.0.1 (1 slot, max_batch 16, state in /dev/shm).
 *   1. One client, one 1,001-point case (rc.plecs) per plecs.simulate, back
 *      to back: the median time of a call directly and through the proxy,
 *      over interleaved rounds.  Target: the proxy's <= 1.2 x direct.
 *   2. 16 clients at once, each calling plecs.simulate with one case back to
 *      back: cases per second directly (plecs-emu serves one call at a time)
 *      and through the proxy (simq batches the 16 clients' cases into list
 *      calls).  Target: the proxy's >= direct.
 * Every case has its own ModelVars, so no result cache answers one.
 * Both rows run twice, with plecs-emu at --speed 0 (a case costs it only
 * its arithmetic and its XML, some 2 ms: what simq adds shows whole) and at
 * --speed 20 (rc simulates 5 ms: a case of 0.1 s, still short for PLECS);
 * "bench/proxy SPEED..." runs the speeds given.
 */
#include "autoconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>
#include <xmlrpc-c/client.h>

#include "bench/lib.h"
#include "util/time.h"
#include "util/xalloc.h"

#define ROUNDS       7  /* interleaved rounds of row 1 */
#define CALLS        40 /* calls of one round of row 1 */
#define CLIENTS      16 /* row 2 */
#define CLIENT_CALLS 8  /* calls of each client of row 2, a round */
#define ROUNDS2      3  /* interleaved rounds of row 2 */

static atomic_int next_case; /* every case's R differs: the cache never answers one */
static char *model;

/* One client of a row: its own xmlrpc-c client (made before the threads start), its calls, its times. */
struct bench_client {
	xmlrpc_client *client;
	const char *url;
	int calls;
	double *seconds; /* each call's, or NULL */
	bool failed;
};

static xmlrpc_client *new_client(const char *url)
{
	xmlrpc_env env;
	xmlrpc_client *c;
	xmlrpc_value *r;

	xmlrpc_env_init(&env);
	xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "bench", "1", NULL, 0, &c);
	xmlrpc_client_call2f(&env, c, url, "plecs.load", &r, "(s)", model);
	if (env.fault_occurred) {
		fprintf(stderr, "bench/proxy: plecs.load at %s: %s\n", url, env.fault_string);
		exit(1);
	}
	xmlrpc_DECREF(r);
	xmlrpc_env_clean(&env);
	return c;
}

/* A client's calls: plecs.simulate("rc", {ModelVars: {R: ...}}), each answered with 1,001 points. */
static void *run_client(void *arg)
{
	struct bench_client *b = arg;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	for (int i = 0; i < b->calls && !env.fault_occurred; i++) {
		xmlrpc_value *r;
		int64_t t0 = time_mono_ns();

		xmlrpc_client_call2f(&env, b->client, b->url, "plecs.simulate", &r, "(s{s:{s:d}})", "rc", "ModelVars",
		                     "R", 1000.0 + atomic_fetch_add(&next_case, 1));
		if (b->seconds)
			b->seconds[i] = (double)(time_mono_ns() - t0) / 1e9;
		if (!env.fault_occurred)
			xmlrpc_DECREF(r);
	}
	if (env.fault_occurred) {
		fprintf(stderr, "bench/proxy: plecs.simulate at %s: %s\n", b->url, env.fault_string);
		b->failed = true;
	}
	xmlrpc_env_clean(&env);
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, by_value);
	return v[n / 2];
}

/* Row 1, one round at url: CALLS calls from one client, their times appended to all. */
static void single_round(xmlrpc_client *c, const char *url, double *all, int *n)
{
	struct bench_client b = {.client = c, .url = url, .calls = CALLS, .seconds = all + *n};

	run_client(&b);
	if (b.failed)
		exit(1);
	*n += CALLS;
}

/* Row 2, one round at url: CLIENTS clients at once; cases per second. */
static double concurrent_round(xmlrpc_client **clients, const char *url)
{
	struct bench_client b[CLIENTS];
	pthread_t t[CLIENTS];
	int64_t t0 = time_mono_ns();

	for (int i = 0; i < CLIENTS; i++) {
		b[i] = (struct bench_client){.client = clients[i], .url = url, .calls = CLIENT_CALLS};
		pthread_create(&t[i], NULL, run_client, &b[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		if (b[i].failed)
			exit(1);
	}
	return CLIENTS * CLIENT_CALLS / ((double)(time_mono_ns() - t0) / 1e9);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;

	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A simq server with its proxy on a free port, in front of plecs-emu at emu_url; its proxy's URL. */
static pid_t start_simq(const char *bin_dir, const char *emu_url, const char *dir, char *proxy_url, size_t size)
{
	char *ini = xasprintf("%s.ini", dir), *simq = xasprintf("%s/../src/simq", bin_dir);
	int port = free_port();
	FILE *fp = fopen(ini, "w");
	struct client_options opt = {.state_dir = dir, .no_start = true};
	struct client *c;

	fprintf(fp, "[backend emu]\nurl = %s\nmax_batch = 16\n[proxy]\nlisten = 127.0.0.1\nport = %d\n", emu_url, port);
	fclose(fp);
	const char *argv[] = {simq, "server", "-f", "--home", dir, "-c", ini, NULL};
	pid_t pid = bench_spawn(argv);

	c = client_new(&opt);
	bench_await_server(c);
	client_free(&c);
	snprintf(proxy_url, size, "http://127.0.0.1:%d/RPC2", port);
	free(ini);
	free(simq);
	return pid;
}

static void print_row(const char *what, double measured, const char *unit, double target, double ratio)
{
	printf("%-52s %10.2f %-5s %10.2f %-5s %6.2f\n", what, measured, unit, target, unit, ratio);
}

/* Both rows against a plecs-emu at --speed speed and a simq server of their own. */
static void rows(const char *bin_dir, const char *base, const char *speed)
{
	char port_file[128], emu_url[64], proxy_url[64];
	char *emu = xasprintf("%s/../src/plecs-emu", bin_dir);

	snprintf(port_file, sizeof port_file, "/tmp/simq-bench-proxy-emu.%d", (int)getpid());
	unlink(port_file);
	const char *eargv[] = {emu, "--port", "0", "--port-file", port_file, "--speed", speed, "--cores", "2", NULL};
	pid_t emu_pid = bench_spawn(eargv);

	snprintf(emu_url, sizeof emu_url, "http://127.0.0.1:%d/RPC2", bench_read_port(port_file, "plecs-emu"));
	char *dir = xasprintf("%s/simq-bench-proxy.%d.%s", base, (int)getpid(), speed);
	pid_t simq_pid = start_simq(bin_dir, emu_url, dir, proxy_url, sizeof proxy_url);

	printf("\nplecs-emu --speed %s --cores 2 (one call at a time; rc's case %s)\n", speed,
	       strtod(speed, NULL) > 0 ? "takes --speed x 5 ms of wall time" : "costs only its arithmetic and XML");

	/* Row 1: interleaved rounds, so both sides see the same machine. */
	xmlrpc_client *direct = new_client(emu_url), *proxied = new_client(proxy_url);
	double *d = xcalloc(ROUNDS * CALLS, sizeof *d), *p = xcalloc(ROUNDS * CALLS, sizeof *p);
	int nd = 0, np = 0;

	for (int r = 0; r < ROUNDS; r++) {
		single_round(direct, emu_url, d, &nd);
		single_round(proxied, proxy_url, p, &np);
	}
	double md = median(d, nd) * 1e3, mp = median(p, np) * 1e3;

	print_row("one 1,001-point case directly (median call)", md, "ms", md, 1);
	print_row("... through the proxy (<= 1.2 x direct)", mp, "ms", 1.2 * md, 1.2 * md / mp);

	/* Row 2: 16 clients at once. */
	xmlrpc_client *dc[CLIENTS], *pc[CLIENTS];
	double rd[ROUNDS2], rp[ROUNDS2];

	for (int i = 0; i < CLIENTS; i++) {
		dc[i] = new_client(emu_url);
		pc[i] = new_client(proxy_url);
	}
	for (int r = 0; r < ROUNDS2; r++) {
		rd[r] = concurrent_round(dc, emu_url);
		rp[r] = concurrent_round(pc, proxy_url);
	}
	double td = median(rd, ROUNDS2), tp = median(rp, ROUNDS2);

	print_row("16 clients at once directly (cases/s)", td, "/s", td, 1);
	print_row("... through the proxy (>= direct)", tp, "/s", td, tp / td);

	for (int i = 0; i < CLIENTS; i++) {
		xmlrpc_client_destroy(dc[i]);
		xmlrpc_client_destroy(pc[i]);
	}
	xmlrpc_client_destroy(direct);
	xmlrpc_client_destroy(proxied);
	kill(simq_pid, SIGTERM);
	waitpid(simq_pid, NULL, 0);
	kill(emu_pid, SIGTERM);
	waitpid(emu_pid, NULL, 0);
	char *rm = xasprintf("rm -rf '%s' '%s.ini'", dir, dir);

	if (system(rm) != 0)
		fprintf(stderr, "bench/proxy: could not remove %s\n", dir);
	unlink(port_file);
	free(rm);
	free(dir);
	free(d);
	free(p);
	free(emu);
}

int main(int argc, char **argv)
{
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	static const char *const default_speeds[] = {"0", "20"};
	struct stat st;
	xmlrpc_env env;

	if (slash)
		*slash = '\0';
	const char *bin_dir = slash ? self : ".";
	char *rel = xasprintf("%s/../share/models/rc.plecs", bin_dir);

	model = realpath(rel, NULL);
	free(rel);
	xmlrpc_env_init(&env);
	xmlrpc_client_setup_global_const(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 64u * 1024 * 1024);
	const char *base = getenv("SIMQ_BENCH_DIR");

	if (base == NULL)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	printf("simq: 1 slot, max_batch 16, state in %s; row 1 median of %d calls, row 2 median of %d rounds\n", base,
	       ROUNDS * CALLS, ROUNDS2);
	printf("%-52s %16s %16s %6s\n", "", "measured", "target", "ratio");
	for (int i = 1; i < argc; i++)
		rows(bin_dir, base, argv[i]);
	for (size_t i = 0; argc < 2 && i < sizeof default_speeds / sizeof default_speeds[0]; i++)
		rows(bin_dir, base, default_speeds[i]);
	free(self);
	free(model);
	xmlrpc_env_clean(&env);
	return 0;
}
