#include "autoconf.h"

#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/writer.h"
#include "plecs/pool.h"
#include "server/api.h"
#include "server/dashboard.h"
#include "server/proxy.h"
#include "server/hooks.h"
#include "server/http.h"
#include "server/loopclock.h"
#include "server/pools.h"
#include "server/webhooks.h"
#include "util/fds.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/xalloc.h"

/* Lines of the log kept in memory for consoles. */
#define LOG_KEEP 2000
/* PLECS workers beyond the configured slots, for backends added while the server runs (simq backend add). */
#define SPARE_WORKERS 4

struct server {
	struct ev_loop *loop;
	struct config *cfg;
	char *state_dir, *socket_path, *db_path, *log_path, *pid_path, *token_path, *results_dir;
	int pid_fd;
	struct clock clock;
	struct backend_config *backends;
	size_t nbackends;
	struct plecs_pool *pool;
	struct writer *writer;      /* writes result files off the loop (engine/writer.h) */
	struct engine *engine;
	struct api *api;
	struct http *http;          /* the API listeners (http.c) */
	struct hooks *hooks;        /* [notify] commands (hooks.c), NULL when none is set */
	struct webhooks *webhooks;  /* [webhook NAME] sinks (webhooks.c), NULL when none */
	struct dashboard *dashboard; /* [dashboard] listen (dashboard.c), NULL when off */
	struct pools *pools;        /* [pool NAME]s (pools.c), NULL when none */
	struct proxy *proxy;        /* [proxy] listen (proxy.c), NULL when off; freed after the listeners */
	bool stopping;
	bool said_stopped;          /* "server stopped" is in the log */
	ev_signal sig_term, sig_int, sig_hup;
	ev_prepare before_sleep;
};

static void server_stop(void *ud)
{
	struct server *s = ud;

	if (s->stopping)
		return;
	s->stopping = true;
	engine_stop(s->engine);
	api_stop(s->api);
	ev_break(s->loop, EVBREAK_ALL);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct server *s = w->data;

	engine_log(s->engine, SEVERITY_INFO, 0, "%s", w->signum == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
	server_stop(s);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct server *s = w->data;
	char *err = NULL;

	if (!engine_log_reopen(s->engine, &err)) {
		log_error("%s", err);
		free(err);
	}
}

/* Before the loop sleeps: parked calls look again if anything changed since the last pass. */
static void before_sleep(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct server *s = w->data;

	api_wake_if_changed(s->api);
	engine_log_flush(s->engine);
}

/* Takes the state dir's lock; another live server holds it, a killed one does not. */
static bool take_lock(struct server *s, char **err)
{
	char buf[32] = "";
	ssize_t n;

	s->pid_fd = open(s->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->pid_fd < 0) {
		*err = xasprintf("cannot open %s: %s", s->pid_path, strerror(errno));
		return false;
	}
	if (flock(s->pid_fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(s->pid_fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		*err = xasprintf("another simq server (pid %s) is already running on %s; stop it with simq shutdown, or "
				 "use another --state", buf[0] ? buf : "?", s->state_dir);
		close(s->pid_fd);
		s->pid_fd = -1;
		return false;
	}
	snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	if (ftruncate(s->pid_fd, 0) != 0 || pwrite(s->pid_fd, buf, strlen(buf), 0) < 0) {
		*err = xasprintf("cannot write %s: %s", s->pid_path, strerror(errno));
		return false;
	}
	return true;
}

static int bind_unix(const char *path, char **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof addr.sun_path) {
		*err = xasprintf("the socket path %s is longer than %zu bytes, the most a Unix socket allows; use a "
				 "shorter --state directory", path, sizeof addr.sun_path - 1);
		return -1;
	}
	strcpy(addr.sun_path, path);
	/* We hold the lock, so a socket left here belongs to a server that was killed. */
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(077);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0) {
		*err = xasprintf("cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	umask(old);
	if (fd >= 0)
		chmod(path, 0600);
	return fd;
}

/* A TCP socket listening on addr and port, the options of section (for messages); -1 and *err. */
static int bind_tcp(const char *section, const char *addr, int port, char **err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char service[16];
	int fd, one = 1, rc;

	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(addr, service, &hints, &res);
	if (rc != 0) {
		*err = xasprintf("[%s] listen = %s: %s", section, addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		*err = xasprintf("cannot listen on %s port %d ([%s] listen, port): %s", addr, port, section,
				 strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* The TCP token: [server] token, else the token file, else a new random one written there (0600). */
static char *load_token(struct server *s, char **err)
{
	const char *configured = config_str(s->cfg, "server", "token");
	unsigned char raw[24];
	char text[64] = "";
	FILE *fp;

	if (configured[0])
		return xstrdup(configured);
	fp = fopen(s->token_path, "re");
	if (fp) {
		bool ok = fgets(text, sizeof text, fp) != NULL;

		fclose(fp);
		text[strcspn(text, "\r\n")] = '\0';
		if (ok && strlen(text) >= 16)
			return xstrdup(text);
	}
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		*err = xasprintf("cannot make a token: %s", strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(text + 2 * i, 3, "%02x", raw[i]);
	int fd = open(s->token_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || write(fd, "\n", 1) != 1) {
		*err = xasprintf("cannot write the token to %s: %s", s->token_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	return xstrdup(text);
}

static void add_backend(struct server *s, const struct backend_config *b)
{
	s->backends = xreallocarray(s->backends, s->nbackends + 1, sizeof *s->backends);
	s->backends[s->nbackends++] = *b;
}

/* Backends from [backend NAME] sections, or one at plecs_url when given, or "local" (none with a [pool]). */
static void read_backends(struct server *s, const char *plecs_url)
{
	const struct config_section *sec;

	/* --plecs URL, or no [backend] section: the defaults the table documents, named "plecs" or "local". */
	struct backend_config one = SCHED_BACKEND_DEFAULTS;

	one.name = plecs_url ? "plecs" : "local";
	one.url = plecs_url ? plecs_url : "http://127.0.0.1:1080/RPC2";

	for (size_t i = 0; !plecs_url && (sec = config_section_nth(s->cfg, "backend", i)) != NULL; i++)
		add_backend(s, &(struct backend_config){
				       .name = config_section_name(sec), .url = config_sec_str(sec, "url"),
				       .slots = (int)config_sec_int(sec, "slots"),
				       .max_batch = (int)config_sec_int(sec, "max_batch"),
				       .call_timeout = config_sec_double(sec, "call_timeout"),
				       .max_response = (size_t)config_sec_int(sec, "max_response"),
				       .matfile = strcmp(config_sec_str(sec, "output_format"), "matfile") == 0});
	/* A [pool] brings its own backends: no "local" beside them that nobody asked for. */
	if (s->nbackends == 0 && (plecs_url || config_section_nth(s->cfg, "pool", 0) == NULL))
		add_backend(s, &one);
}

/* [scheduler] and [store] as the scheduler takes them. */
static struct scheduler_options scheduler_options(const struct server *s)
{
	const struct config *cfg = s->cfg;

	return (struct scheduler_options){
		.max_retries = (int)config_int(cfg, "scheduler", "max_retries"),
		.backoff_base = config_double(cfg, "scheduler", "backoff_base"),
		.backoff_max = config_double(cfg, "scheduler", "backoff_max"),
		.jitter = config_double(cfg, "scheduler", "jitter"),
		.retry_faults = config_str(cfg, "scheduler", "retry_faults"),
		.down_after = (int)config_int(cfg, "scheduler", "down_after"),
		.probe_max = config_double(cfg, "scheduler", "probe_max"),
		.linger_s = (double)config_int(cfg, "scheduler", "batch_linger_ms") / 1000,
		.max_batch_seconds = config_double(cfg, "scheduler", "max_batch_seconds"),
		.format = strcmp(config_str(cfg, "store", "results_format"), "csv") == 0 ? RESULTS_CSV : RESULTS_MAT,
		.sync = strcmp(config_str(cfg, "store", "durability"), "full") == 0,
		.results_dir = s->results_dir,
		.writer_ops = &writer_thread_ops,
		.writer_impl = s->writer,
	};
}

/* The PLECS workers and the engine on them; false and *err on failure. */
static bool open_engine(struct server *s, const struct server_options *opt, char **err)
{
	/* Pools' instances and hand-added backends need workers too: beyond those, calls wait their turn. */
	int workers = 1 + SPARE_WORKERS + pools_max_slots(s->cfg);
	size_t max_response = SCHED_BACKEND_DEFAULTS_MAX_RESPONSE;
	char started[64];

	read_backends(s, opt->plecs_url);
	/* One worker per slot, and one more for probes while every slot is busy. */
	for (size_t i = 0; i < s->nbackends; i++) {
		workers += s->backends[i].slots;
		if (s->backends[i].max_response > max_response)
			max_response = s->backends[i].max_response;
	}
	s->pool = plecs_pool_new(s->loop, workers, max_response, err);
	if (s->pool == NULL)
		return false;
	s->writer = writer_new(&s->clock, err);
	if (s->writer == NULL)
		return false;
	snprintf(started, sizeof started, "server started (pid %d)", (int)getpid());
	struct engine_options eo = {
		.db_path = s->db_path, .log_path = s->log_path, .log_keep = LOG_KEEP,
		.durability = strcmp(config_str(s->cfg, "store", "durability"), "full") == 0 ? STORE_DURABILITY_FULL
											    : STORE_DURABILITY_NORMAL,
		.start_paused = config_bool(s->cfg, "scheduler", "start_paused"), .sched = scheduler_options(s),
		.backends = s->backends, .nbackends = s->nbackends, .backend_ops = &plecs_backend_ops,
		.backend_impl = s->pool, .clock = &s->clock, .started_line = started,
		.retain = {.archive_after = config_double(s->cfg, "store", "archive_after"),
			   .purge_after = config_double(s->cfg, "store", "purge_after"),
			   .results_max_size = (int64_t)config_double(s->cfg, "store", "results_max_size"),
			   /* The tests shorten the eviction's grace, to see the LRU order without waiting. */
			   .grace_ms = getenv("SIMQ_TEST_RETAIN_GRACE_MS") ? atoll(getenv("SIMQ_TEST_RETAIN_GRACE_MS")) : 0},
	};

	s->engine = engine_open(&eo, err);
	if (s->engine == NULL)
		return false;
	s->pools = pools_new(s->loop, s->cfg, s->engine, &s->clock, s->state_dir, err);
	return s->pools != NULL || *err == NULL;
}

/* Resolves the paths, takes the lock and opens the engine and socket; false and *err on failure. */
static bool open_server(struct server *s, const struct server_options *opt, int *unix_fd, char **err)
{
	const char *configured = config_str(s->cfg, "server", "state_dir");
	const char *sock = config_str(s->cfg, "server", "socket");

	s->state_dir = paths_state_dir(opt->state_dir ? opt->state_dir : configured[0] ? configured : NULL);
	if (!paths_make_private_dir(s->state_dir, err))
		return false;
	s->socket_path = sock[0] == '/' ? xstrdup(sock) : paths_join(s->state_dir, sock);
	s->db_path = paths_join(s->state_dir, "simq.db");
	s->log_path = paths_join(s->state_dir, "simulation.log");
	s->pid_path = paths_join(s->state_dir, "simq.pid");
	s->token_path = paths_join(s->state_dir, "token");
	s->results_dir = paths_join(s->state_dir, "results");
	if (!take_lock(s, err) || !open_engine(s, opt, err))
		return false;
	*unix_fd = bind_unix(s->socket_path, err);
	return *unix_fd >= 0;
}

static void close_server(struct server *s)
{
	if (s->api)
		api_drop_parked(s->api);
	/* Their jobs run on: the next server adopts them. */
	pools_free(&s->pools);
	/* Calls in flight are cut short; their tasks go back to QUEUED at the next start (recovery). */
	plecs_pool_free(&s->pool);
	/* Answers PLECS gave are kept: their files are written and saved before the store closes. */
	if (s->engine)
		engine_drain(s->engine);
	if (s->engine && !s->said_stopped)
		engine_log(s->engine, SEVERITY_INFO, 0, "server stopped");
	hooks_free(&s->hooks);
	webhooks_free(&s->webhooks);
	dashboard_free(&s->dashboard);
	engine_close(&s->engine);
	writer_free(&s->writer);
	api_free(&s->api);
	if (s->socket_path && s->pid_fd >= 0)
		unlink(s->socket_path);
	if (s->pid_fd >= 0)
		close(s->pid_fd);
	free(s->state_dir);
	free(s->socket_path);
	free(s->db_path);
	free(s->log_path);
	free(s->pid_path);
	free(s->token_path);
	free(s->results_dir);
	free(s->backends);
	config_free(&s->cfg);
}

/* Detaching: the parent waits on a pipe for "ok" or an error from the child, then exits. */
static int detach(int *report_fd)
{
	int p[2];
	pid_t pid;
	char buf[1024];
	ssize_t n, got = 0;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		/* The server keeps nothing of whoever started it but stdin, stdout, stderr and the report pipe. */
		if (p[1] > 3)
			close_range(3, (unsigned)p[1] - 1, 0);
		close_range((unsigned)p[1] + 1, ~0U, 0);
		setsid();
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* stderr stays until the server is up, then goes to server.err in the state dir. */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (null > 1)
				close(null);
		}
		*report_fd = p[1];
		return 0;
	}
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(p[0]);
	if (strncmp(buf, "ok", 2) == 0) {
		printf("simq server running (pid %d)%s\n", (int)pid, buf + 2);
		return 1;
	}
	fprintf(stderr, "simq server: %s\n", got ? buf : "the server exited before it was ready");
	exit(1);
}

static void report(int fd, const char *text)
{
	if (fd >= 0) {
		ssize_t unused = write(fd, text, strlen(text));

		(void)unused;
		close(fd);
	}
}

/* The server could not start: says why (to the waiting parent if detached), closes what was opened; exit 1. */
static int not_started(struct server *s, int report_fd, char *err)
{
	if (report_fd >= 0)
		report(report_fd, err);
	else
		fprintf(stderr, "simq server: %s\n", err);
	free(err);
	close_server(s);
	return 1;
}

/* [server] listen with its token, and [metrics] listen; false and *err on failure. */
static bool open_tcp(struct server *s, struct http_listen *l, char **token, char **err)
{
	const char *listen_addr = config_str(s->cfg, "server", "listen");
	const char *metrics_addr = config_str(s->cfg, "metrics", "listen");

	/* The dashboard's actions take the same token as the TCP API. */
	if (listen_addr[0] || config_str(s->cfg, "dashboard", "listen")[0] || config_str(s->cfg, "proxy", "listen")[0]) {
		*token = load_token(s, err);
		if (*token == NULL)
			return false;
	}
	if (listen_addr[0]) {
		l->token = *token;
		l->refusal_interval = config_double(s->cfg, "server", "refusal_log_interval");
		l->tcp_fd = bind_tcp("server", listen_addr, (int)config_int(s->cfg, "server", "port"), err);
		if (l->tcp_fd < 0)
			return false;
		engine_log(s->engine, SEVERITY_INFO, 0, "API also on TCP %s port %lld; clients send the token (HTTP Basic, "
			   "user simq)", listen_addr, config_int(s->cfg, "server", "port"));
	}
	if (metrics_addr[0]) {
		l->metrics_fd = bind_tcp("metrics", metrics_addr, (int)config_int(s->cfg, "metrics", "port"), err);
		if (l->metrics_fd < 0)
			return false;
		engine_log(s->engine, SEVERITY_INFO, 0, "/metrics also on TCP %s port %lld (no token)", metrics_addr,
			   config_int(s->cfg, "metrics", "port"));
	}
	return true;
}

/* [dashboard] listen: the web dashboard on the loop, with the token for its actions; false and *err on failure. */
static bool open_dashboard(struct server *s, const char *token, char **err)
{
	const struct config *cfg = s->cfg;
	struct dashboard_options o = {
		.listen = config_str(cfg, "dashboard", "listen"), .port = (int)config_int(cfg, "dashboard", "port"),
		.allowed_hosts = config_str(cfg, "dashboard", "allowed_hosts"),
		.allowed_origins = config_str(cfg, "dashboard", "allowed_origins"),
		.max_viewers = (int)config_int(cfg, "dashboard", "max_viewers"),
		.max_buffer = (size_t)config_int(cfg, "dashboard", "max_buffer"), .token = token,
		.refusal_interval = config_double(cfg, "server", "refusal_log_interval"),
	};

	if (o.listen[0] == '\0')
		return true;
	s->dashboard = dashboard_new(s->loop, s->engine, &o, err);
	return s->dashboard != NULL;
}

/* Whether fd is bound to a loopback address, where the proxy asks no token. */
static bool on_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24 == 127;
	return ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

/* The URL of [proxy] (heap): http://ADDRESS:PORT/RPC2. */
static char *proxy_url(const struct config *cfg)
{
	const char *addr = config_str(cfg, "proxy", "listen");
	bool v6 = strchr(addr, ':') != NULL;

	return xasprintf("http://%s%s%s:%lld/RPC2", v6 ? "[" : "", addr, v6 ? "]" : "", config_int(cfg, "proxy", "port"));
}

/* [proxy] listen: PLECS's RPC answered by simq (after start_serving); false and *err on failure. */
static bool open_proxy(struct server *s, const char *token, char **err)
{
	const char *addr = config_str(s->cfg, "proxy", "listen");
	int port = (int)config_int(s->cfg, "proxy", "port");
	struct proxy_options o = {.priority = PRIO_NORMAL, .state_dir = s->state_dir};

	if (addr[0] == '\0')
		return true;
	task_priority_parse(config_str(s->cfg, "proxy", "priority"), &o.priority);
	o.fd = bind_tcp("proxy", addr, port, err);
	if (o.fd < 0)
		return false;
	o.token = on_loopback(o.fd) ? NULL : token;
	s->proxy = proxy_start(s->http, s->engine, &o, err);
	if (s->proxy == NULL)
		return false;
	char *url = proxy_url(s->cfg);

	engine_log(s->engine, SEVERITY_INFO, 0, "PLECS proxy listening on %s port %d: %s (%s)", addr, port, url,
		   o.token ? "clients send the token (HTTP Basic, user simq)" : "no token: a loopback address");
	free(url);
	return true;
}

/* Signals, the pass before sleeping, the sinks and the API; false and *err when the API cannot start. */
static bool start_serving(struct server *s, struct http_listen *l, char **err)
{
	s->api = api_new(s->loop, s->engine, s->state_dir, server_stop, s);
	s->hooks = hooks_new(s->loop, s->cfg, s->engine);
	s->webhooks = webhooks_new(s->loop, s->cfg, s->engine);
	s->http = http_start(s->loop, s->api, l, err);
	if (s->http == NULL)
		return false;
	ev_signal_init(&s->sig_term, on_stop_signal, SIGTERM);
	ev_signal_init(&s->sig_int, on_stop_signal, SIGINT);
	ev_signal_init(&s->sig_hup, on_hup, SIGHUP);
	s->sig_term.data = s->sig_int.data = s->sig_hup.data = s;
	ev_signal_start(s->loop, &s->sig_term);
	ev_signal_start(s->loop, &s->sig_int);
	ev_signal_start(s->loop, &s->sig_hup);
	ev_prepare_init(&s->before_sleep, before_sleep);
	s->before_sleep.data = s;
	ev_prepare_start(s->loop, &s->before_sleep);
	return true;
}

/* Tells whoever started the server that it is up; a detached server's stderr goes to server.err. */
static void announce(struct server *s, int report_fd)
{
	char *dash = s->dashboard ? config_dashboard_line(s->cfg, s->state_dir) : NULL;

	if (s->proxy) {
		char *url = proxy_url(s->cfg), *both = xasprintf("%s%sPLECS proxy on %s", dash ? dash : "", dash ? "\n" : "", url);

		free(url);
		free(dash);
		dash = both;
	}
	if (report_fd < 0) {
		fprintf(stderr, "simq server: running (pid %d), state in %s, API on %s\n%s%s", (int)getpid(), s->state_dir,
			s->socket_path, dash ? dash : "", dash ? "\n" : "");
		free(dash);
		return;
	}
	char *ok = xasprintf("ok, state in %s%s%s", s->state_dir, dash ? "\n" : "", dash ? dash : "");

	free(dash);
	char *err_path = paths_join(s->state_dir, "server.err");
	int err_fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	/* A detached server's own messages (and a crash report) land in the state dir. */
	if (err_fd >= 0) {
		dup2(err_fd, 2);
		close(err_fd);
	}
	free(err_path);
	report(report_fd, ok);
	free(ok);
}

/* Loads the config; 0, or 78 after printing its errors. */
static int load_config(struct server *s, const struct server_options *opt)
{
	char *config_path = opt->config_path ? xstrdup(opt->config_path) : paths_config_file();

	s->cfg = config_load(config_path, opt->config_path != NULL);
	if (config_error_count(s->cfg) > 0) {
		for (size_t i = 0; i < config_error_count(s->cfg); i++)
			fprintf(stderr, "%s\n", config_error(s->cfg, i));
		fprintf(stderr, "simq server: not started: %s has errors\n", config_path);
		free(config_path);
		config_free(&s->cfg);
		return 78;
	}
	free(config_path);
	return 0;
}

/* Each API connection is a descriptor (up to 1024 on a listener): the soft limit up to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max && r.rlim_cur < 65536) {
		r.rlim_cur = r.rlim_max < 65536 ? r.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/*
 * Every answer and result file takes and frees the same few hundred kB (zlib's state for each
 * MAT variable, a call's columns of doubles); with glibc's default thresholds the freed top of the
 * heap goes back to the kernel each time and comes back as fresh zeroed pages: page faults for
 * every task.  Keep up to 8 MB free per arena; blocks from 1 MB up still get their own mapping,
 * so a huge answer does not stay resident.
 */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
}

/* Signals reach the loop thread only: block them before any thread starts. */
static void block_stop_signals(void)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
}

int server_run(const struct server_options *opt)
{
	struct server s = {.pid_fd = -1};
	struct http_listen l = {.tcp_fd = -1, .metrics_fd = -1};
	char *err = NULL, *token = NULL;
	int unix_fd = -1, report_fd = -1, status = load_config(&s, opt);

	if (status != 0)
		return status;
	if (!opt->foreground) {
		int r = detach(&report_fd);

		if (r != 0) {
			if (r < 0)
				fprintf(stderr, "simq server: cannot detach: %s\n", strerror(errno));
			config_free(&s.cfg);
			return r < 0 ? 1 : 0;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	tune_malloc();
	block_stop_signals();
	s.loop = ev_default_loop(EVFLAG_SIGNALFD);
	s.clock = loopclock_new(s.loop);
	if (!open_server(&s, opt, &unix_fd, &err))
		return not_started(&s, report_fd, err);
	l.unix_fd = unix_fd;
	bool ok = open_tcp(&s, &l, &token, &err) && open_dashboard(&s, token, &err) && start_serving(&s, &l, &err) &&
		  open_proxy(&s, token, &err);

	free(token);
	if (!ok)
		return not_started(&s, report_fd, err);
	announce(&s, report_fd);
	/* What libraries opened without close-on-exec (libcurl's wake-up pairs, Abyss's pipes): with it now. */
	fds_cloexec_all();
	engine_start(s.engine);
	pools_start(s.pools);
	ev_run(s.loop, 0);
	/*
	 * The last line, and one more pass of the loop: consoles waiting for a change get their last
	 * answer with every line up to this one (api.c answers simq.view while stopping), so the
	 * log pane of a console that meets the next server misses nothing of this one.
	 */
	engine_drain(s.engine);
	engine_log(s.engine, SEVERITY_INFO, 0, "server stopped");
	s.said_stopped = true;
	ev_run(s.loop, EVRUN_NOWAIT);
	/* Release the store, socket and lock first: a new server may start while Abyss winds down. */
	struct http *http = s.http;
	struct proxy *proxy = s.proxy;

	http_stop(http);
	close_server(&s);
	http_free(&http);
	proxy_free(&proxy);
	ev_loop_destroy(s.loop);
	return 0;
}
