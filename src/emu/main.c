/*
 * plecs-emu — a stand-in for PLECS's XML-RPC interface.
 *
 * plecs-emu binds the listening socket itself (for --port 0 and
 * --port-file) and hands it to Abyss, which accepts and serves each
 * connection on a thread of its own with HTTP keep-alive, as the
 * xmlrpc-c servers PLECS users know.  Faults that concern the connection
 * itself are injected by the request handler (http.c).  The main thread
 * waits on a signalfd for SIGINT and SIGTERM and stops everything cleanly.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xmlrpc-c/abyss.h>

#include "emu/circuits.h"
#include "emu/emu.h"
#include "util/xalloc.h"

#define EXIT_USAGE 64

static struct emu emu;
static TServer server;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: plecs-emu [OPTION]...\n"
		"A stand-in for PLECS's XML-RPC interface at http://ADDR:PORT/RPC2: it loads model\n"
		"files, simulates built-in circuits (rc, buck, rlc) and fails on demand.\n"
		"\n"
		"  --listen ADDR        address to listen on (default 127.0.0.1)\n"
		"  --port N             port (default 1080; 0 picks a free one)\n"
		"  --port-file FILE     write the port there once listening\n"
		"  --cores N            cases of a list simulate run in parallel (default: CPUs)\n"
		"  --speed X            wall seconds per simulated second (default 0: as fast as possible)\n"
		"  --concurrent N       plecs.* calls served at once (default 1, as PLECS)\n"
		"  --seed N             seed of the fault dice (default 1)\n"
		"  --fault KIND=RATE    fail that share of calls (repeatable); KIND is one of:\n");
	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		fprintf(out, "                         %-10s %s\n", fault_kind_name((enum fault_kind)k),
			fault_kind_help((enum fault_kind)k));
	fprintf(out, "  --trace FILE         append one line per call to FILE\n"
		     "  -h, --help           show this help\n"
		     "  -V, --version        show the version\n"
		     "\nSee plecs-emu(1) for model files, circuits and emu.inject.\n");
}

static bool parse_int(const char *text, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return end != text && *end == '\0' && errno == 0 && *out >= min && *out <= max;
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "plecs-emu: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry plecs-emu --help.\n");
	return EXIT_USAGE;
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'}, {"port", required_argument, NULL, 'p'},
		{"port-file", required_argument, NULL, 'P'}, {"cores", required_argument, NULL, 'c'},
		{"speed", required_argument, NULL, 's'}, {"concurrent", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 'S'}, {"fault", required_argument, NULL, 'f'},
		{"trace", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
	};
	long n;
	int c;
	char *end, *err = NULL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			emu.opt.listen = optarg;
			break;
		case 'p':
			if (!parse_int(optarg, 0, 65535, &n))
				return usage_error("--port %s: expected a port number from 0 to 65535", optarg);
			emu.opt.port = (int)n;
			break;
		case 'P':
			emu.opt.port_file = optarg;
			break;
		case 'c':
			if (!parse_int(optarg, 1, 256, &n))
				return usage_error("--cores %s: expected a whole number from 1 to 256", optarg);
			emu.opt.cores = (int)n;
			break;
		case 's':
			emu.opt.speed = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(emu.opt.speed >= 0 && emu.opt.speed <= 1e6))
				return usage_error("--speed %s: expected a number of wall seconds per simulated second, "
						   "0 or more", optarg);
			break;
		case 'n':
			if (!parse_int(optarg, 1, 1024, &n))
				return usage_error("--concurrent %s: expected a whole number from 1 to 1024", optarg);
			emu.opt.concurrent = (int)n;
			break;
		case 'S':
			if (!parse_int(optarg, 0, LONG_MAX, &n))
				return usage_error("--seed %s: expected a whole number", optarg);
			emu.opt.seed = (uint64_t)n;
			break;
		case 'f':
			if (!faults_parse_rate(&emu.faults, optarg, &err)) {
				fprintf(stderr, "plecs-emu: %s\n", err);
				free(err);
				return EXIT_USAGE;
			}
			break;
		case 't':
			emu.opt.trace = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("plecs-emu (simq) %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	return -1;
}

static int listen_socket(void)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char port[16];
	int fd = -1, one = 1, rc;

	snprintf(port, sizeof port, "%d", emu.opt.port);
	rc = getaddrinfo(emu.opt.listen, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "plecs-emu: --listen %s: %s\n", emu.opt.listen, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		fprintf(stderr, "plecs-emu: cannot listen on %s port %s: %s\n", emu.opt.listen, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof addr;

	if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		return -1;
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

/* Writes the port to a temporary name and renames it, so readers never see half a file. */
static bool write_port_file(int port)
{
	char *tmp = xasprintf("%s.tmp.%d", emu.opt.port_file, (int)getpid());
	FILE *fp = fopen(tmp, "we");
	bool ok = fp && fprintf(fp, "%d\n", port) > 0;

	if (fp && fclose(fp) != 0)
		ok = false;
	if (ok && rename(tmp, emu.opt.port_file) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "plecs-emu: cannot write --port-file %s: %s\n", emu.opt.port_file, strerror(errno));
	free(tmp);
	return ok;
}

static void *run_server(void *arg)
{
	ServerRun(&server);
	return NULL;
}

/* --seed is known only after --fault set the rates: re-seed, keeping them. */
static void reseed_faults(void)
{
	double rates[FAULT_KIND_COUNT];

	memcpy(rates, emu.faults.rate, sizeof rates);
	faults_destroy(&emu.faults);
	faults_init(&emu.faults, emu.opt.seed);
	memcpy(emu.faults.rate, rates, sizeof rates);
}

/*
 * Blocks SIGINT and SIGTERM in every thread; the main thread reads them from the returned signalfd.  One
 * the starter ignores stays ignored, as PLECS would keep it: a Slurm job script starts PLECS with
 * TERM ignored and stops it itself once its backend is removed (Linux queues a blocked signal even
 * when its action is to ignore it, so the signalfd would otherwise read it).
 */
static int stop_signals(void)
{
	static const int stoppers[] = {SIGINT, SIGTERM};
	sigset_t stop;
	struct sigaction now;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	for (size_t i = 0; i < sizeof stoppers / sizeof *stoppers; i++)
		if (sigaction(stoppers[i], NULL, &now) == 0 && now.sa_handler != SIG_IGN)
			sigaddset(&stop, stoppers[i]);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	return signalfd(-1, &stop, SFD_CLOEXEC);
}

static bool open_trace(void)
{
	if (emu.opt.trace == NULL)
		return true;
	emu.trace = fopen(emu.opt.trace, "ae");
	if (emu.trace == NULL)
		fprintf(stderr, "plecs-emu: cannot open --trace %s: %s\n", emu.opt.trace, strerror(errno));
	return emu.trace != NULL;
}

/* The registry of methods, and the state they share (emu.h). */
static bool start_emu(xmlrpc_env *env, int port)
{
	const char *error = NULL;
	pthread_condattr_t attr;

	/* A 10,000-point, three-signal result is about 2 MB of XML. */
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 256u * 1024 * 1024);
	AbyssInit(&error);
	emu.registry = xmlrpc_registry_new(env);
	emu_methods_register(&emu, env);
	if (env->fault_occurred || error) {
		fprintf(stderr, "plecs-emu: cannot set up the XML-RPC server: %s\n", error ? error : env->fault_string);
		return false;
	}
	pthread_mutex_init(&emu.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&emu.wake, &attr);
	pthread_condattr_destroy(&attr);
	emu.free_slots = emu.opt.concurrent;
	emu.started = emu_now();
	emu.port = port;
	return true;
}

/* Abyss on the socket we bound, with http.c's handler for every request. */
static bool start_http(int listen_fd, TChanSwitch **chan_switch)
{
	static struct ServerReqHandler3 handler = {.handleReq = (handleReq3Fn)emu_http_handle, .userdata = &emu};
	const char *error = NULL;
	abyss_bool ok;

	ChanSwitchUnixCreateFd(listen_fd, chan_switch, &error);
	if (error == NULL)
		ServerCreateSwitch(&server, *chan_switch, &error);
	if (error) {
		fprintf(stderr, "plecs-emu: cannot set up the HTTP server: %s\n", error);
		return false;
	}
	ServerSetKeepaliveTimeout(&server, 60);
	ServerSetKeepaliveMaxConn(&server, 1000000);
	ServerSetTimeout(&server, 3600);
	ServerSetMaxConn(&server, 256);
	ServerAddHandler3(&server, &handler, &ok);
	if (ok)
		ServerInit2(&server, &error);
	if (!ok || error) {
		fprintf(stderr, "plecs-emu: cannot set up the HTTP server%s%s\n", error ? ": " : "", error ? error : "");
		return false;
	}
	return true;
}

/* Stop: wake sleepers and waiters, stop accepting, hang up every connection, join, free. */
static void stop(pthread_t server_thread, TChanSwitch *chan_switch, int listen_fd)
{
	atomic_store(&emu.stopping, true);
	pthread_mutex_lock(&emu.lock);
	pthread_cond_broadcast(&emu.wake);
	pthread_mutex_unlock(&emu.lock);
	ServerTerminate(&server);
	emu_hang_up_all(&emu);
	pthread_join(server_thread, NULL);
	ServerFree(&server);
	ChanSwitchDestroy(chan_switch);
	close(listen_fd);
	xmlrpc_registry_free(emu.registry);
	for (size_t i = 0; i < emu.nmodels; i++)
		emu_model_free(&emu.models[i]);
	free(emu.models);
	emu_clear_calls(&emu);
	free(emu.calls);
	faults_destroy(&emu.faults);
	if (emu.trace)
		fclose(emu.trace);
}

int main(int argc, char **argv)
{
	xmlrpc_env env;
	int status, listen_fd, sig_fd, port;
	TChanSwitch *chan_switch = NULL;
	pthread_t server_thread;
	struct signalfd_siginfo si;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	emu.opt = (struct emu_options){.listen = "127.0.0.1", .port = 1080, .cores = cpus > 0 ? (int)cpus : 1,
				       .concurrent = 1, .seed = 1};
	faults_init(&emu.faults, 1);
	status = parse_options(argc, argv);
	if (status >= 0) {
		faults_destroy(&emu.faults);
		return status;
	}
	reseed_faults();
	sig_fd = stop_signals();
	if (!open_trace())
		return 1;
	listen_fd = listen_socket();
	if (listen_fd < 0 || sig_fd < 0)
		return 1;
	port = bound_port(listen_fd);
	if (emu.opt.port_file && !write_port_file(port))
		return 1;
	xmlrpc_env_init(&env);
	if (!start_emu(&env, port) || !start_http(listen_fd, &chan_switch))
		return 1;
	fprintf(stderr, "plecs-emu: listening on http://%s:%d/RPC2 (%d core%s, speed %g, %d call%s at a time)\n",
		emu.opt.listen, port, emu.opt.cores, emu.opt.cores == 1 ? "" : "s", emu.opt.speed, emu.opt.concurrent,
		emu.opt.concurrent == 1 ? "" : "s");
	if (pthread_create(&server_thread, NULL, run_server, NULL) != 0) {
		fprintf(stderr, "plecs-emu: cannot start the server thread\n");
		return 1;
	}
	while (read(sig_fd, &si, sizeof si) < 0 && errno == EINTR)
		;
	stop(server_thread, chan_switch, listen_fd);
	close(sig_fd);
	xmlrpc_env_clean(&env);
	AbyssTerm();
	fprintf(stderr, "plecs-emu: stopped\n");
	return 0;
}
