/*
 * bench/emu-throughput: calls per second that plecs-emu answers, for a
 * trivial call and for a 10,000-point simulate, next to bench/emu-ceiling (an
 * xmlrpc-c server that does no work), measured in the same run with the same
 * client.  Target: plecs-emu reaches at least 80 % of the ceiling.
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

#include "util/time.h"
#include "util/xalloc.h"

#define SECONDS 3.0

static pid_t start(const char *const *argv, const char *port_file, int *port)
{
	pid_t pid;

	unlink(port_file);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		FILE *fp = fopen(port_file, "r");

		if (fp && fscanf(fp, "%d", port) == 1) {
			fclose(fp);
			return pid;
		}
		if (fp)
			fclose(fp);
		usleep(10000);
	}
	fprintf(stderr, "emu-throughput: %s did not start\n", argv[0]);
	exit(1);
}

/* Calls per second over SECONDS of back-to-back calls. */
static double rate(xmlrpc_client *client, int port, bool simulate, const char *model)
{
	char url[64];
	xmlrpc_env env;
	int64_t t0 = time_mono_ns(), n = 0;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/RPC2", port);
	xmlrpc_env_init(&env);
	if (simulate && model) {
		xmlrpc_value *r;

		xmlrpc_client_call2f(&env, client, url, "plecs.load", &r, "(s)", model);
		if (!env.fault_occurred)
			xmlrpc_DECREF(r);
	}
	while (!env.fault_occurred && (double)(time_mono_ns() - t0) / 1e9 < SECONDS) {
		xmlrpc_value *r;

		if (simulate)
			/* rc with 10,000 output intervals: 10,001 points of Time and Vc. */
			xmlrpc_client_call2f(&env, client, url, "plecs.simulate", &r, "(s{s:{s:d,s:d}})", "rc",
					     "SolverOpts", "TimeSpan", 0.2, "FixedStep", 2e-5);
		else
			xmlrpc_client_call2f(&env, client, url, "system.listMethods", &r, "()");
		if (!env.fault_occurred)
			xmlrpc_DECREF(r);
		n++;
	}
	if (env.fault_occurred) {
		fprintf(stderr, "emu-throughput: %s\n", env.fault_string);
		exit(1);
	}
	return (double)n / ((double)(time_mono_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *dir = xstrdup(argv[0]), *slash = strrchr(dir, '/');
	char *emu_bin, *ceiling_bin, *model, *emu_port_file, *ceiling_port_file;
	int emu_port = 0, ceiling_port = 0;
	xmlrpc_env env;
	xmlrpc_client *client;
	pid_t emu_pid, ceiling_pid;

	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	emu_bin = xasprintf("%s/../src/plecs-emu", dir);
	ceiling_bin = xasprintf("%s/emu-ceiling", dir);
	model = xasprintf("%s/../share/models/rc.plecs", argc > 1 ? argv[1] : dir);
	emu_port_file = xasprintf("%s/simq-bench-emu.%d", tmp, (int)getpid());
	ceiling_port_file = xasprintf("%s/simq-bench-ceiling.%d", tmp, (int)getpid());
	const char *emu_argv[] = {emu_bin, "--port", "0", "--port-file", emu_port_file, NULL};
	const char *ceiling_argv[] = {ceiling_bin, ceiling_port_file, NULL};

	emu_pid = start(emu_argv, emu_port_file, &emu_port);
	ceiling_pid = start(ceiling_argv, ceiling_port_file, &ceiling_port);
	xmlrpc_env_init(&env);
	xmlrpc_client_setup_global_const(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 256u * 1024 * 1024);
	xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "bench", PACKAGE_VERSION, NULL, 0, &client);
	if (env.fault_occurred)
		return 1;

	printf("one client, calls back to back, %.0f s each (loopback, this machine's cores shared)\n\n", SECONDS);
	printf("%-34s %14s %14s %8s %8s\n", "call", "plecs-emu /s", "ceiling /s", "ratio", "target");
	double ce = rate(client, ceiling_port, false, NULL), em = rate(client, emu_port, false, NULL);

	printf("%-34s %14.0f %14.0f %7.0f%% %7s  %s\n", "trivial (system.listMethods)", em, ce, 100 * em / ce, ">=80%",
	       em / ce >= 0.8 ? "meets" : "MISSES");
	ce = rate(client, ceiling_port, true, NULL);
	em = rate(client, emu_port, true, model);
	printf("%-34s %14.1f %14.1f %7.0f%% %7s  %s\n", "plecs.simulate, 10,001 points", em, ce, 100 * em / ce,
	       ">=80%", em / ce >= 0.8 ? "meets" : "MISSES");

	xmlrpc_client_destroy(client);
	xmlrpc_env_clean(&env);
	kill(emu_pid, SIGTERM);
	kill(ceiling_pid, SIGTERM);
	waitpid(emu_pid, NULL, 0);
	waitpid(ceiling_pid, NULL, 0);
	unlink(emu_port_file);
	unlink(ceiling_port_file);
	return 0;
}
