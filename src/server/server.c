#include "autoconf.h"

#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/api.h"
#include "server/hooks.h"
#include "server/webhooks.h"
#include "server/sched.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/time.h"
#include "util/xalloc.h"

/* Lines of the log kept in memory for consoles. */
#define LOG_KEEP 2000

int64_t server_now_ms(void)
{
	return time_wall_ns() / 1000000;
}

struct task *server_task(struct server *s, int64_t id)
{
	return idmap_get(&s->active, id);
}

void server_changed(struct server *s)
{
	s->version++;
}

void server_log(struct server *s, int64_t task_id, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	event_log_add(s->log, server_now_ms(), task_id, text);
	free(text);
	server_changed(s);
}

void server_publish(struct server *s, enum event_type type, const struct task *t, const struct event *extra)
{
	struct event ev = extra ? *extra : (struct event){0};

	ev.type = type;
	ev.time = server_now_ms();
	if (t) {
		ev.task_id = t->id;
		ev.task_name = t->name;
		ev.model = t->model;
		ev.priority = t->priority;
		ev.state = t->state;
		if (ev.attempt == 0)
			ev.attempt = t->attempts;
		if (ev.error == NULL)
			ev.error = t->error;
	}
	if (type == EVENT_BACKEND_DOWN || (type == EVENT_FAILED && t && t->priority <= PRIO_HIGH))
		s->alerts++;
	events_publish(s->bus, &ev);
	server_changed(s);
}

void server_accept_tasks(struct server *s, struct task **tasks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct task *t = tasks[i];

		if (task_state_is_final(t->state)) {
			stats_record(&s->stats, t);
			server_publish(s, EVENT_SUBMITTED, t, NULL);
			task_free(&t);
			continue;
		}
		idmap_put(&s->active, t->id, t);
		queue_push(s->queue, t->id, (uint64_t)t->id, t->priority, t->model, t);
		s->drained = false;
		server_publish(s, EVENT_SUBMITTED, t, NULL);
	}
	if (s->sched)
		sched_kick(s->sched);
}

void server_retired(struct server *s, struct task *t, enum task_state from)
{
	struct event ev = {.state = from};

	queue_remove(s->queue, t->id, NULL);
	if (from == TASK_RUNNING && s->running > 0)
		s->running--;
	stats_record(&s->stats, t);
	idmap_remove(&s->active, t->id);
	if (s->sched)
		sched_forget(s->sched, t->id);
	server_publish(s, t->state == TASK_CANCELLED ? EVENT_CANCELLED : t->state == TASK_FAILED ? EVENT_FAILED
												  : EVENT_COMPLETED,
		       t, &ev);
	task_free(&t);
	/* The last task out: once per drain, until new work arrives. */
	if (queue_size(s->queue) == 0 && s->running == 0 && !s->drained) {
		s->drained = true;
		server_publish(s, EVENT_QUEUE_DRAINED, NULL, NULL);
	}
}

bool server_finish(struct server *s, struct task *t, enum task_state to, enum attempt_outcome end, char **err)
{
	enum task_state from = t->state;
	int64_t finished = t->finished, retry_due = t->retry_due, now = server_now_ms();
	struct store_change ch = {.task = t};

	if (!task_transition(t, to, now)) {
		*err = xasprintf("task %lld cannot go from %s to %s", (long long)t->id, task_state_name(from),
				 task_state_name(to));
		return false;
	}
	if (end != ATTEMPT_RUNNING) {
		ch.attempt = STORE_ATTEMPT_END;
		ch.outcome = end;
		ch.time = now;
	}
	if (store_commit(s->store, &ch, 1) != STORE_OK) {
		/* Not saved: the task stays as it was, in memory as on disk. */
		t->state = from;
		t->finished = finished;
		t->retry_due = retry_due;
		*err = xstrdup(store_error(s->store));
		return false;
	}
	server_retired(s, t, from);
	return true;
}

void server_stop(struct server *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	ev_break(s->loop, EVBREAK_ALL);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct server *s = w->data;

	event_log_add(s->log, server_now_ms(), 0, w->signum == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
	server_stop(s);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct server *s = w->data;
	char *err = NULL;

	if (!event_log_reopen(s->log, &err)) {
		log_error("%s", err);
		free(err);
	}
}

/* Before the loop sleeps: parked calls look again if anything changed since the last pass. */
static void before_sleep(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct server *s = w->data;

	if (s->parked && s->seen_version != s->version)
		api_wake_parked(s);
	s->seen_version = s->version;
	event_log_flush(s->log);
}

static void load_task(struct task *t, void *ud)
{
	struct server *s = ud;

	idmap_put(&s->active, t->id, t);
	if (t->state == TASK_QUEUED)
		queue_push(s->queue, t->id, (uint64_t)t->id, t->priority, t->model, t);
	else
		s->running++;
}

static void seed_minute(int64_t minute_ms, const struct stats_counts *c, void *ud)
{
	stats_seed_minute(ud, minute_ms, c);
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

static int bind_tcp(const char *addr, int port, char **err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char service[16];
	int fd, one = 1, rc;

	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(addr, service, &hints, &res);
	if (rc != 0) {
		*err = xasprintf("[server] listen = %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		*err = xasprintf("cannot listen on %s port %d ([server] listen, port): %s", addr, port, strerror(errno));
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

/* Resolves the paths, takes the lock and opens the store, log and socket; false and *err on failure. */
static bool open_server(struct server *s, const struct server_options *opt, int *unix_fd, char **err)
{
	const char *configured = config_str(s->cfg, "server", "state_dir");
	const char *sock = config_str(s->cfg, "server", "socket");
	struct store_open_options so = {
		.durability = strcmp(config_str(s->cfg, "store", "durability"), "full") == 0 ? STORE_DURABILITY_FULL
											 : STORE_DURABILITY_NORMAL,
	};
	struct store_recovery rec;
	struct stats_counts all;

	s->state_dir = paths_state_dir(opt->state_dir ? opt->state_dir : configured[0] ? configured : NULL);
	if (!paths_make_private_dir(s->state_dir, err))
		return false;
	s->socket_path = sock[0] == '/' ? xstrdup(sock) : paths_join(s->state_dir, sock);
	s->db_path = paths_join(s->state_dir, "simq.db");
	s->log_path = paths_join(s->state_dir, "simulation.log");
	s->pid_path = paths_join(s->state_dir, "simq.pid");
	s->token_path = paths_join(s->state_dir, "token");
	if (!take_lock(s, err))
		return false;
	s->store = store_open(s->db_path, &so, &rec, err);
	if (s->store == NULL)
		return false;
	s->bus = events_new();
	s->log = event_log_new(s->log_path, LOG_KEEP, err);
	if (s->log == NULL)
		return false;
	event_log_attach(s->log, s->bus);
	s->queue = queue_new();
	s->started_ms = server_now_ms();
	if (store_load_active(s->store, load_task, s) != STORE_OK || store_counters(s->store, &all) != STORE_OK) {
		*err = xstrdup(store_error(s->store));
		return false;
	}
	stats_init(&s->stats, s->started_ms, &all);
	if (store_recount_minutes(s->store, stats_day_start(s->started_ms), seed_minute, &s->stats) != STORE_OK) {
		*err = xstrdup(store_error(s->store));
		return false;
	}
	char line[256];

	snprintf(line, sizeof line, "server started (pid %d): %zu queued, %zu running; %lld interrupted attempts "
		 "requeued, %lld tasks waiting to retry", (int)getpid(), queue_size(s->queue), s->running,
		 (long long)rec.interrupted, (long long)rec.waiting_retry);
	event_log_add(s->log, s->started_ms, 0, line);
	*unix_fd = bind_unix(s->socket_path, err);
	return *unix_fd >= 0;
}

static void close_server(struct server *s)
{
	struct queue_item it;

	api_drop_parked(s);
	if (s->queue) {
		while (queue_pop(s->queue, &it))
			;
		queue_free(&s->queue);
	}
	for (size_t i = 0; i < s->active.cap; i++) {
		if (s->active.keys && s->active.keys[i]) {
			struct task *t = s->active.values[i];

			task_free(&t);
		}
	}
	idmap_free(&s->active);
	if (s->log)
		event_log_add(s->log, server_now_ms(), 0, "server stopped");
	hooks_free(&s->hooks);
	webhooks_free(&s->webhooks);
	event_log_free(&s->log);
	events_free(&s->bus);
	store_close(&s->store);
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
		setsid();
		int null = open("/dev/null", O_RDWR);

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

int server_run(const struct server_options *opt)
{
	struct server s = {.pid_fd = -1};
	char *err = NULL, *config_path = opt->config_path ? xstrdup(opt->config_path) : paths_config_file();
	int unix_fd = -1, report_fd = -1, status = 0;

	s.cfg = config_load(config_path, opt->config_path != NULL);
	if (config_error_count(s.cfg) > 0) {
		for (size_t i = 0; i < config_error_count(s.cfg); i++)
			fprintf(stderr, "%s\n", config_error(s.cfg, i));
		fprintf(stderr, "simq server: not started: %s has errors\n", config_path);
		free(config_path);
		config_free(&s.cfg);
		return 78;
	}
	free(config_path);
	if (!opt->foreground) {
		int r = detach(&report_fd);

		if (r < 0) {
			fprintf(stderr, "simq server: cannot detach: %s\n", strerror(errno));
			config_free(&s.cfg);
			return 1;
		}
		if (r > 0) {
			config_free(&s.cfg);
			return 0;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (!open_server(&s, opt, &unix_fd, &err)) {
		return not_started(&s, report_fd, err);
	}
	/* Signals reach the loop thread only: block them before any thread starts. */
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	s.loop = ev_default_loop(EVFLAG_SIGNALFD);
	int tcp_fd = -1;
	char *token = NULL;
	const char *listen_addr = config_str(s.cfg, "server", "listen");

	if (listen_addr[0]) {
		token = load_token(&s, &err);
		if (token)
			tcp_fd = bind_tcp(listen_addr, (int)config_int(s.cfg, "server", "port"), &err);
		if (tcp_fd < 0) {
			free(token);
			return not_started(&s, report_fd, err);
		}
		char *line = xasprintf("API also on TCP %s port %lld; clients send the token (HTTP Basic, user simq)",
				       listen_addr, config_int(s.cfg, "server", "port"));

		event_log_add(s.log, server_now_ms(), 0, line);
		free(line);
	}
	int metrics_fd = -1;
	const char *metrics_addr = config_str(s.cfg, "metrics", "listen");

	if (metrics_addr[0]) {
		metrics_fd = bind_tcp(metrics_addr, (int)config_int(s.cfg, "metrics", "port"), &err);
		if (metrics_fd < 0) {
			free(token);
			return not_started(&s, report_fd, err);
		}
		char *line = xasprintf("/metrics also on TCP %s port %lld (no token)", metrics_addr,
				       config_int(s.cfg, "metrics", "port"));

		event_log_add(s.log, server_now_ms(), 0, line);
		free(line);
	}
	s.sched = sched_new(&s, opt->plecs_url, &err);
	if (s.sched == NULL) {
		free(token);
		return not_started(&s, report_fd, err);
	}
	s.drained = queue_size(s.queue) == 0 && s.running == 0;
	s.hooks = hooks_new(&s);
	s.webhooks = webhooks_new(&s);
	s.http = http_start(&s, unix_fd, tcp_fd, metrics_fd, token, &err);
	free(token);
	if (s.http == NULL)
		return not_started(&s, report_fd, err);
	ev_signal_init(&s.sig_term, on_stop_signal, SIGTERM);
	ev_signal_init(&s.sig_int, on_stop_signal, SIGINT);
	ev_signal_init(&s.sig_hup, on_hup, SIGHUP);
	s.sig_term.data = s.sig_int.data = s.sig_hup.data = &s;
	ev_signal_start(s.loop, &s.sig_term);
	ev_signal_start(s.loop, &s.sig_int);
	ev_signal_start(s.loop, &s.sig_hup);
	ev_prepare_init(&s.wake_parked, before_sleep);
	s.wake_parked.data = &s;
	ev_prepare_start(s.loop, &s.wake_parked);
	if (report_fd >= 0) {
		char *ok = xasprintf("ok, state in %s", s.state_dir);
		char *err_path = paths_join(s.state_dir, "server.err");
		int err_fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		/* A detached server's own messages (and a crash report) land in the state dir. */
		if (err_fd >= 0) {
			dup2(err_fd, 2);
			close(err_fd);
		}
		free(err_path);
		report(report_fd, ok);
		free(ok);
	} else {
		fprintf(stderr, "simq server: running (pid %d), state in %s, API on %s\n", (int)getpid(), s.state_dir,
			s.socket_path);
	}
	sched_kick(s.sched);
	ev_run(s.loop, 0);
	/* Release the store, socket and lock first: a new server may start while Abyss winds down. */
	struct http *http = s.http;

	http_stop(http);
	/* Calls in flight are cut short; their tasks go back to QUEUED at the next start (recovery). */
	sched_free(&s.sched);
	close_server(&s);
	http_free(&http);
	ev_loop_destroy(s.loop);
	return status;
}
