#include "autoconf.h"

#include "server/http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

#include "proto/proto.h"
#include "engine/engine.h"
#include "server/api.h"
#include "server/metrics.h"
#include "util/fds.h"
#include "util/xalloc.h"

/* One Abyss server: on the Unix socket, or on TCP behind the token. */
struct listener {
	TServer server;
	TChanSwitch *chan_switch;
	pthread_t thread;
	bool running;
	bool metrics_only;           /* [metrics] listen: GET /metrics and nothing else, no token */
	struct http *http;
};

struct http {
	struct ev_loop *loop;
	struct api *api;
	char *unix_path;
	xmlrpc_registry *registry;
	struct listener unix_side, tcp_side, metrics_side;
	char *expected_auth;         /* "Basic base64(simq:TOKEN)" */
	pthread_mutex_t lock;
	pthread_cond_t answered;
	struct api_call *incoming, *incoming_tail;
	bool stopped;
	ev_async wake;
};

/* The loop hands a call back to its waiting Abyss thread. */
static void deliver(struct api_call *c)
{
	struct http *h = c->owner;

	pthread_mutex_lock(&h->lock);
	c->delivered = true;
	pthread_cond_broadcast(&h->answered);
	pthread_mutex_unlock(&h->lock);
}

/* Loop thread: runs every call the Abyss threads queued. */
/* Takes every call the Abyss threads queued; with stop, no more are queued after. */
static struct api_call *take_incoming(struct http *h, bool stop)
{
	struct api_call *list;

	pthread_mutex_lock(&h->lock);
	h->stopped |= stop;
	list = h->incoming;
	h->incoming = h->incoming_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	return list;
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct http *h = w->data;
	struct api_call *list = take_incoming(h, false);

	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->next = NULL;
		/* Not done: parked, handed back later by the API. */
		api_run(h->api, c);
	}
}

/* What each registered method carries: the listener and the API method. */
struct entry {
	struct http *http;
	const struct api_method *method;
};

/* Abyss thread: queues c for the loop thread and waits until it is answered; false once stopped. */
static bool run_on_loop(struct http *h, struct api_call *c)
{
	pthread_mutex_lock(&h->lock);
	if (h->stopped) {
		pthread_mutex_unlock(&h->lock);
		return false;
	}
	if (h->incoming_tail)
		h->incoming_tail->next = c;
	else
		h->incoming = c;
	h->incoming_tail = c;
	pthread_mutex_unlock(&h->lock);
	ev_async_send(h->loop, &h->wake);
	pthread_mutex_lock(&h->lock);
	while (!c->delivered)
		pthread_cond_wait(&h->answered, &h->lock);
	pthread_mutex_unlock(&h->lock);
	return true;
}

/* Abyss thread: every API method enters here, and waits for the loop's answer. */
static xmlrpc_value *enter(xmlrpc_env *env, xmlrpc_value *params, void *server_info, void *call_info)
{
	const struct entry *e = server_info;
	struct http *h = e->http;
	struct api_call c = {.method = e->method, .params = params, .on_done = deliver, .owner = h};

	if (!run_on_loop(h, &c)) {
		xmlrpc_env_set_fault(env, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
		return NULL;
	}
	if (c.fault_code) {
		xmlrpc_env_set_fault(env, c.fault_code, c.fault);
		free(c.fault);
		return NULL;
	}
	return c.result;
}

static void *run_abyss(void *arg)
{
	ServerRun(arg);
	return NULL;
}

static bool hang_up_reader(const struct fds_socket *s, void *path)
{
	const struct sockaddr_un *local = (const struct sockaddr_un *)&s->local;

	if (local->sun_family == AF_UNIX && strncmp(local->sun_path, path, sizeof local->sun_path) == 0)
		shutdown(s->fd, SHUT_RD);
	return true;
}

/* Ends the reading side of accepted connections on the Unix socket: keep-alive waits end at
 * once, while an answer being written (simq.shutdown's own) still goes out whole. */
static void hang_up_unix(const char *path)
{
	fds_each_connected(hang_up_reader, (void *)path);
}

static char *base64(const char *in)
{
	static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(in), o = 0;
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	const unsigned char *p = (const unsigned char *)in;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);

		out[o++] = table[v >> 18 & 63];
		out[o++] = table[v >> 12 & 63];
		out[o++] = i + 1 < len ? table[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? table[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Compares in time that does not depend on where the strings differ. */
static bool same_secret(const char *given, const char *expected)
{
	size_t n = strlen(expected), m = strlen(given);
	unsigned diff = (unsigned)(n ^ m);

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)expected[i] ^ (unsigned char)(i < m ? given[i] : 0);
	return diff == 0;
}

static void log_refused(struct api *a, struct api_call *c)
{
	const char *peer = NULL;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_read_string(&env, c->params, &peer);
	engine_log(api_engine(a), SEVERITY_WARNING, 0, "%s", peer ? peer : "a TCP client without the token was refused");
	free((void *)peer);
	xmlrpc_env_clean(&env);
	c->done = true;
}

static const struct api_method refused_method = {"(log a refused client)", NULL, log_refused};

/* Posts a line for the log to the loop thread, which owns the log. */
static void post_log(struct http *h, const char *line)
{
	xmlrpc_env env;
	struct api_call c = {.method = &refused_method, .on_done = deliver, .owner = h};

	xmlrpc_env_init(&env);
	c.params = xmlrpc_string_new(&env, line);
	run_on_loop(h, &c);
	xmlrpc_DECREF(c.params);
	xmlrpc_env_clean(&env);
}

/* Abyss handler ahead of XML-RPC on TCP: no token, no entry (401). */
static void check_token(void *ud, TSession *session, abyss_bool *handled)
{
	struct http *h = ud;
	const char *auth = RequestHeaderValue(session, "authorization");
	static const char body[] = "simq: this listener needs the token: HTTP Basic auth, user simq, password the "
				   "token (see [server] token, or the file token in the state directory)\n";

	if (auth && same_secret(auth, h->expected_auth)) {
		*handled = false;
		return;
	}
	char line[160] = "a TCP client";
	void *info = NULL;

	SessionGetChannelInfo(session, &info);
	if (info) {
		const struct sockaddr *sa = &((struct abyss_unix_chaninfo *)info)->peerAddr;
		char addr[64] = "?";

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
		snprintf(line, sizeof line, "refused a TCP client from %s: %s token", addr, auth ? "wrong" : "no");
	}
	post_log(h, line);
	ResponseStatus(session, 401);
	ResponseAddField(session, "WWW-Authenticate", "Basic realm=\"simq\"");
	ResponseContentType(session, "text/plain");
	ResponseContentLength(session, sizeof body - 1);
	ResponseWriteStart(session);
	ResponseWriteBody(session, body, sizeof body - 1);
	ResponseWriteEnd(session);
	*handled = true;
}

static void run_metrics(struct api *a, struct api_call *c)
{
	char *text = metrics_text(api_engine(a));
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	api_result(c, xmlrpc_string_new(&env, text));
	xmlrpc_env_clean(&env);
	free(text);
}

static const struct api_method metrics_method = {"(GET /metrics)", NULL, run_metrics};

static void respond(TSession *session, int status, const char *type, const char *body, size_t len)
{
	ResponseStatus(session, (uint16_t)status);
	ResponseContentType(session, type);
	ResponseContentLength(session, len);
	ResponseWriteStart(session);
	ResponseWriteBody(session, body, (uint32_t)len);
	ResponseWriteEnd(session);
}

/*
 * GET /metrics, Prometheus text format 0.0.4; the loop thread writes it (it reads engine state).
 * On the metrics-only listener every other path is 404.
 */
static void serve_metrics(void *ud, TSession *session, abyss_bool *handled)
{
	struct listener *l = ud;
	struct http *h = l->http;
	const TRequestInfo *info = NULL;
	static const char not_here[] = "simq: this listener serves GET /metrics only\n";

	SessionGetRequestInfo(session, &info);
	if (info == NULL || strcmp(info->uri, "/metrics") != 0 || info->method != m_get) {
		*handled = l->metrics_only;
		if (l->metrics_only)
			respond(session, 404, "text/plain", not_here, sizeof not_here - 1);
		return;
	}
	struct api_call c = {.method = &metrics_method, .on_done = deliver, .owner = h};
	const char *text = NULL;
	size_t len = 0;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	c.params = xmlrpc_array_new(&env);
	if (run_on_loop(h, &c) && c.result)
		xmlrpc_read_string_lp(&env, c.result, &len, &text);
	if (text)
		respond(session, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	else
		respond(session, 503, "text/plain", "simq: shutting down\n", 20);
	free((void *)text);
	if (c.result)
		xmlrpc_DECREF(c.result);
	free(c.fault);
	xmlrpc_DECREF(c.params);
	xmlrpc_env_clean(&env);
	*handled = true;
}

static bool start_listener(struct http *h, struct listener *l, int fd, bool tcp, char **err)
{
	const char *error = NULL;
	sigset_t all, old;
	abyss_bool ok = true;

	l->http = h;
	ChanSwitchUnixCreateFd(fd, &l->chan_switch, &error);
	if (error == NULL)
		ServerCreateSwitch(&l->server, l->chan_switch, &error);
	if (error == NULL && !l->metrics_only)
		xmlrpc_server_abyss_set_handlers2(&l->server, "/RPC2", h->registry);
	/* Abyss asks the handler added last first: /metrics, then (on TCP) the token check ahead of both. */
	if (error == NULL) {
		struct ServerReqHandler3 metrics = {.handleReq = serve_metrics, .userdata = l};

		ServerAddHandler3(&l->server, &metrics, &ok);
	}
	if (error == NULL && tcp && !l->metrics_only) {
		struct ServerReqHandler3 auth = {.handleReq = check_token, .userdata = h};

		ServerAddHandler3(&l->server, &auth, &ok);
	}
	if (error == NULL && ok) {
		ServerSetKeepaliveTimeout(&l->server, 60);
		ServerSetKeepaliveMaxConn(&l->server, 1000000);
		ServerSetTimeout(&l->server, 600);
		/* Consoles hold a connection each while they long-poll simq.view. */
		ServerSetMaxConn(&l->server, 64);
		ServerInit2(&l->server, &error);
	}
	if (error || !ok) {
		*err = xasprintf("cannot serve the API%s: %s", tcp ? " on TCP" : "", error ? error : "no handler");
		free((void *)error);
		return false;
	}
	/* Abyss threads take no signals: the loop thread handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	l->running = pthread_create(&l->thread, NULL, run_abyss, &l->server) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!l->running)
		*err = xstrdup("cannot start the API thread");
	return l->running;
}

static void stop_listener(struct listener *l)
{
	if (!l->running)
		return;
	pthread_join(l->thread, NULL);
	ServerFree(&l->server);
	ChanSwitchDestroy(l->chan_switch);
	l->running = false;
}

static struct entry *entries;

struct http *http_start(struct ev_loop *loop, struct api *api, const struct http_listen *l, char **err)
{
	struct http *h = xcalloc(1, sizeof *h);
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_server_abyss_global_init(&env);
	/* submit_many of 100,000 tasks is some 30 MB of XML. */
	if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < PROTO_MAX_CALL_BYTES)
		xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, PROTO_MAX_CALL_BYTES);
	h->loop = loop;
	h->api = api;
	h->unix_path = xstrdup(l->unix_path);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->answered, NULL);
	ev_async_init(&h->wake, on_wake);
	h->wake.data = h;
	ev_async_start(loop, &h->wake);
	h->registry = xmlrpc_registry_new(&env);
	entries = xcalloc(api_method_count, sizeof *entries);
	for (size_t i = 0; i < api_method_count && !env.fault_occurred; i++) {
		struct xmlrpc_method_info3 info = {.methodName = api_methods[i].name, .methodFunction = enter,
						   .serverInfo = &entries[i], .help = api_methods[i].help};

		entries[i] = (struct entry){h, &api_methods[i]};
		xmlrpc_registry_add_method3(&env, h->registry, &info);
	}
	if (env.fault_occurred) {
		*err = xasprintf("cannot serve the API: %s", env.fault_string);
		xmlrpc_env_clean(&env);
		return NULL;
	}
	xmlrpc_env_clean(&env);
	if (!start_listener(h, &h->unix_side, l->unix_fd, false, err))
		return NULL;
	if (l->tcp_fd >= 0) {
		char *pair = xasprintf("simq:%s", l->token), *encoded = base64(pair);

		h->expected_auth = xasprintf("Basic %s", encoded);
		free(pair);
		free(encoded);
		if (!start_listener(h, &h->tcp_side, l->tcp_fd, true, err))
			return NULL;
	}
	if (l->metrics_fd >= 0) {
		h->metrics_side.metrics_only = true;
		if (!start_listener(h, &h->metrics_side, l->metrics_fd, true, err))
			return NULL;
	}
	return h;
}

void http_stop(struct http *h)
{
	struct api_call *list;

	if (h == NULL)
		return;
	api_drop_parked(h->api);
	list = take_incoming(h, true);
	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->fault_code = PROTO_FAULT_SHUTTING_DOWN;
		c->fault = xstrdup("the server is shutting down");
		deliver(c);
	}
	if (h->unix_side.running) {
		ServerTerminate(&h->unix_side.server);
		hang_up_unix(h->unix_path);
	}
	if (h->tcp_side.running)
		ServerTerminate(&h->tcp_side.server);
	if (h->metrics_side.running)
		ServerTerminate(&h->metrics_side.server);
	ev_async_stop(h->loop, &h->wake);
}

void http_free(struct http **hp)
{
	struct http *h = *hp;

	if (h == NULL)
		return;
	/* Abyss looks every 2 s whether its connection threads are done. */
	stop_listener(&h->unix_side);
	stop_listener(&h->tcp_side);
	stop_listener(&h->metrics_side);
	free(h->expected_auth);
	free(h->unix_path);
	xmlrpc_registry_free(h->registry);
	free(entries);
	entries = NULL;
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->answered);
	free(h);
	*hp = NULL;
}
