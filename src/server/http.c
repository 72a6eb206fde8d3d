#include "autoconf.h"

#include "server/http.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

#include "proto/proto.h"
#include "engine/engine.h"
#include "server/api.h"
#include "server/api-backend.h"
#include "server/conns.h"
#include "server/metrics.h"
#include "server/guesses.h"
#include "server/refusals.h"
#include "server/request.h"
#include "util/buf.h"
#include "util/xalloc.h"

/*
 * What the listeners allow (doc/api.md, "Limits").  A connection is a thread; parked calls stay
 * well under the connections, so hundreds of waiting clients leave room for every other call.
 */
#define MAX_CONNS 1024          /* connections on one listener */
#define MAX_PARKED 768          /* simq.wait and simq.view calls waiting, over all listeners */
#define TCP_MAX_UNTRUSTED 64    /* TCP connections without the token yet: a new one cuts the oldest */
#define TCP_HEADER_S 10         /* a TCP connection shows the token within this, or is cut */
#define UNIX_HEADER_S 60        /* a socket connection sends its request within this */
#define GONE_CHECK_MS 250       /* how often a waiting call looks whether its client has gone */

/* One Abyss server: on the Unix socket, on TCP behind the token, or /metrics alone on TCP. */
struct listener {
	const char *name;            /* "unix", "tcp", "metrics": in /metrics */
	TServer server;
	bool created;
	struct conns *conns;
	bool tcp;                    /* its requests carry the token */
	bool metrics_only;           /* [metrics] listen: GET /metrics and nothing else, no token */
	handleReq3Fn rpc;            /* serves its XML-RPC (the proxy's); NULL: the API at /RPC2 */
	void *rpc_ud;
	int header_s;                /* a request's header arrives within this, or the connection is cut */
	struct http *http;
};

/* What each registered method carries: the listener and the API method. */
struct entry {
	struct http *http;
	const struct api_method *method;
};

/* A call an Abyss thread hands to the loop and waits on. */
struct waiting {
	struct api_call call;
	pthread_cond_t answered;
	struct conn *conn;           /* whose client may go away meanwhile; NULL: do not look */
	bool parked;                 /* the API keeps it waiting (loop thread) */
	bool gone_posted, gone_seen; /* its client went: the loop was told, and has let it go */
	struct waiting *next_gone;
};

struct http {
	struct ev_loop *loop;
	struct api *api;
	struct request_api methods;  /* the registry, and infos for proto_parse_call's calls */
	struct xmlrpc_method_info3 *infos;
	struct entry *entries;
	struct listener unix_side, tcp_side, metrics_side, extra_side;
	char *expected_auth;         /* "Basic base64(simq:TOKEN)" */
	struct refusals *refusals;
	pthread_mutex_t lock;        /* the queues and every waiting call's flags */
	struct api_call *incoming, *incoming_tail;
	struct waiting *gone;        /* calls whose client went, for the loop to let go */
	bool stopped;
	size_t parked;               /* calls the API keeps waiting (loop thread) */
	struct api_call *running;    /* the call on_wake hands the API now (loop thread) */
	bool running_answered;       /* it was handed back: its thread may have freed it */
	ev_async wake;
};

/* Every api_call http.c posts is the first member of a struct waiting. */
static struct waiting *waiting_of(struct api_call *c)
{
	return (struct waiting *)((char *)c - offsetof(struct waiting, call));
}

/* The loop hands a call back to its waiting Abyss thread. */
static void deliver(struct api_call *c)
{
	struct http *h = c->owner;
	struct waiting *w = waiting_of(c);

	if (w->parked) {
		w->parked = false;
		h->parked--;
	}
	if (c == h->running)
		h->running_answered = true;
	pthread_mutex_lock(&h->lock);
	c->delivered = true;
	pthread_cond_signal(&w->answered);
	pthread_mutex_unlock(&h->lock);
}

/* Takes every call the Abyss threads queued, and those whose client went; with stop, none are queued after. */
static struct api_call *take_incoming(struct http *h, bool stop, struct waiting **gone)
{
	struct api_call *list;

	pthread_mutex_lock(&h->lock);
	h->stopped |= stop;
	list = h->incoming;
	h->incoming = h->incoming_tail = NULL;
	*gone = h->gone;
	h->gone = NULL;
	pthread_mutex_unlock(&h->lock);
	return list;
}

/* Loop thread: runs c; one the API did not answer at once is parked, or past MAX_PARKED answered busy. */
static void run_call(struct http *h, struct api_call *c)
{
	h->running = c;
	h->running_answered = false;
	api_run(h->api, c);
	h->running = NULL;
	/* Answered, c may be gone already: its thread frees it as soon as it wakes. */
	if (h->running_answered)
		return;
	if (h->parked >= MAX_PARKED) {
		char *why = xasprintf("%s: the server already holds %d waiting calls (simq.wait and simq.view), "
				      "the most it keeps; try again later", c->method->name, MAX_PARKED);

		api_unpark(h->api, c, PROTO_FAULT_BUSY, why);
		free(why);
		return;
	}
	waiting_of(c)->parked = true;
	h->parked++;
}

/* Loop thread: lets go of the calls whose client went (answered if parked; the others are answered anyway). */
static void let_go(struct http *h, struct waiting *gone)
{
	while (gone) {
		struct waiting *w = gone;

		gone = w->next_gone;
		if (w->parked)
			api_unpark(h->api, &w->call, PROTO_FAULT_INVALID, "the client closed its connection");
		pthread_mutex_lock(&h->lock);
		w->gone_seen = true;
		pthread_cond_signal(&w->answered);
		pthread_mutex_unlock(&h->lock);
	}
}

/* Loop thread: runs every call the Abyss threads queued. */
static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct http *h = w->data;
	struct waiting *gone;
	struct api_call *list = take_incoming(h, false, &gone);

	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->next = NULL;
		run_call(h, c);
	}
	let_go(h, gone);
}

/* Under the lock: whether w's client went; if so the loop is told, once. */
static void look_for_client(struct http *h, struct waiting *w)
{
	if (w->conn == NULL || w->gone_posted || w->call.delivered || h->stopped || !conns_client_gone(w->conn))
		return;
	w->gone_posted = true;
	w->next_gone = h->gone;
	h->gone = w;
	ev_async_send(h->loop, &h->wake);
}

/*
 * Abyss thread: queues w's call for the loop thread and waits until it is answered; false once
 * stopped.  While it waits it looks every GONE_CHECK_MS whether its client went: a parked call of
 * a client that was killed lets go of its connection at once, not at its deadline.
 */
static bool run_on_loop(struct http *h, struct waiting *w)
{
	struct api_call *c = &w->call;

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
	/* Under the lock: after http_stop nothing is sent to the loop. */
	ev_async_send(h->loop, &h->wake);
	while (!c->delivered || (w->gone_posted && !w->gone_seen)) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += GONE_CHECK_MS * 1000000L;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->answered, &h->lock, &t);
		look_for_client(h, w);
	}
	pthread_mutex_unlock(&h->lock);
	return true;
}

static void waiting_init(struct waiting *w, struct http *h, const struct api_method *m, xmlrpc_value *params,
			 struct conn *conn)
{
	pthread_condattr_t attr;

	*w = (struct waiting){.call = {.method = m, .params = params, .on_done = deliver, .owner = h}, .conn = conn};
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->answered, &attr);
	pthread_condattr_destroy(&attr);
}

xmlrpc_value *http_call(struct http *h, const struct api_method *m, xmlrpc_value *params, void *data,
			struct conn *conn, xmlrpc_env *env)
{
	struct waiting w;
	xmlrpc_value *result = NULL;

	waiting_init(&w, h, m, params, conn);
	w.call.data = data;
	bool ran = run_on_loop(h, &w);

	/* What the method left for this thread (simq.result's CSV, the proxy's results), off the loop. */
	if (ran && w.call.finish)
		w.call.finish(&w.call);
	if (!ran) {
		xmlrpc_env_set_fault(env, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
	} else if (w.call.fault_code) {
		xmlrpc_env_set_fault(env, w.call.fault_code, w.call.fault);
		free(w.call.fault);
	} else {
		result = w.call.result;
		request_keep_doubles(result);
	}
	pthread_cond_destroy(&w.answered);
	return result;
}

/* Abyss thread: every API method enters here (call_info is the connection), and waits for the loop's answer. */
static xmlrpc_value *enter(xmlrpc_env *env, xmlrpc_value *params, void *server_info, void *call_info)
{
	const struct entry *e = server_info;

	return http_call(e->http, e->method, params, NULL, call_info, env);
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

/* Abyss handler asked first on TCP: no token, no entry (401); with it, the connection is trusted. */
static void check_token(void *ud, TSession *session, abyss_bool *handled)
{
	struct http *h = ud;
	const char *auth = RequestHeaderValue(session, "authorization");
	static const char body[] = "simq: this listener needs the token: HTTP Basic auth, user simq, password the "
				   "token (see [server] token, or the file token in the state directory)\n";
	char peer[64];

	static const char held[] = "simq: token not checked: this server had over " GUESSES_RATE_TEXT " wrong tokens a "
				   "second lately, from this address among others; try again in a few seconds\n";
	enum guess_verdict verdict = GUESS_WRONG;

	request_peer(session, peer, sizeof peer);
	if (auth)
		verdict = guesses_check(peer, auth, h->expected_auth);
	if (verdict == GUESS_RIGHT) {
		conns_trust(conns_current());
		*handled = false;
		return;
	}
	refusals_note(h->refusals, peer,
		      verdict == GUESS_HELD ? "a token not checked (over " GUESSES_RATE_TEXT " wrong tokens a second)"
		      : auth		    ? "a wrong token"
					    : "no token");
	request_drop_small_body(session);
	if (verdict == GUESS_HELD) {
		ResponseStatus(session, 429);
		ResponseAddField(session, "Retry-After", "2");
		request_respond(session, 429, "text/plain", held, sizeof held - 1);
		*handled = true;
		return;
	}
	ResponseStatus(session, 401);
	ResponseAddField(session, "WWW-Authenticate", "Basic realm=\"simq\"");
	request_respond(session, 401, "text/plain", body, sizeof body - 1);
	*handled = true;
}

/* Abyss handler asked first on the socket and the metrics listener: a request came, the connection is trusted. */
static void note_request(void *ud, TSession *session, abyss_bool *handled)
{
	conns_trust(conns_current());
	*handled = false;
}

static abyss_bool not_found(TSession *session)
{
	request_respond_text(session, 404, "simq: nothing here; XML-RPC is at /RPC2, metrics at /metrics\n");
	return true;
}

/* Loop thread: the engine's metrics and the listeners' own. */
static void run_metrics(struct api *a, struct api_call *c)
{
	struct http *h = c->owner;
	const struct listener *sides[] = {&h->unix_side, &h->tcp_side, &h->metrics_side, &h->extra_side};
	char *text = metrics_text(api_engine(a));
	struct buf b = BUF_INIT;
	xmlrpc_env env;

	buf_adds(&b, text);
	buf_adds(&b, "# HELP simq_api_connections Connections the API serves now, by listener.\n"
		     "# TYPE simq_api_connections gauge\n");
	for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++)
		if (sides[i]->conns)
			buf_addf(&b, "simq_api_connections{listener=\"%s\"} %d\n", sides[i]->name,
				 conns_count(sides[i]->conns));
	buf_addf(&b, "# HELP simq_api_waiting_calls simq.wait and simq.view calls waiting for a change.\n"
		     "# TYPE simq_api_waiting_calls gauge\nsimq_api_waiting_calls %zu\n"
		     "# HELP simq_api_refused_total TCP requests refused for want of the token.\n"
		     "# TYPE simq_api_refused_total counter\nsimq_api_refused_total %" PRIu64 "\n",
		 h->parked, h->refusals ? refusals_total(h->refusals) : 0);
	xmlrpc_env_init(&env);
	api_result(c, xmlrpc_string_new_lp(&env, b.len, buf_str(&b)));
	xmlrpc_env_clean(&env);
	buf_free(&b);
	free(text);
}

static const struct api_method metrics_method = {"(GET /metrics)", NULL, run_metrics};

/*
 * GET /metrics, Prometheus text format 0.0.4; the loop thread writes it (it reads engine state).
 * On the metrics-only listener every other path is 404.
 */
static void serve_metrics(void *ud, TSession *session, abyss_bool *handled)
{
	struct listener *l = ud;
	const TRequestInfo *info = NULL;
	static const char not_here[] = "simq: this listener serves GET /metrics only\n";

	SessionGetRequestInfo(session, &info);
	if (info == NULL || strcmp(info->uri, "/metrics") != 0 || info->method != m_get) {
		*handled = l->metrics_only;
		if (l->metrics_only)
			request_respond(session, 404, "text/plain", not_here, sizeof not_here - 1);
		return;
	}
	struct waiting w;
	const char *text = NULL;
	size_t len = 0;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	waiting_init(&w, l->http, &metrics_method, xmlrpc_array_new(&env), NULL);
	if (run_on_loop(l->http, &w) && w.call.result)
		xmlrpc_read_string_lp(&env, w.call.result, &len, &text);
	if (text)
		request_respond(session, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	else
		request_respond(session, 503, "text/plain", "simq: shutting down\n", 20);
	free((void *)text);
	if (w.call.result)
		xmlrpc_DECREF(w.call.result);
	free(w.call.fault);
	xmlrpc_DECREF(w.call.params);
	pthread_cond_destroy(&w.answered);
	xmlrpc_env_clean(&env);
	*handled = true;
}

/* Connection thread: Abyss serves one request on the socket (ServerRunChannel: no keep-alive). */
static void serve(void *ud, struct conn *c, int fd)
{
	struct listener *l = ud;
	TChannel *channel = NULL;
	struct abyss_unix_chaninfo *info = NULL;
	const char *error = NULL;

	if (!request_wait_header(fd, l->header_s))
		return;
	ChannelUnixCreateFd(fd, &channel, &info, &error);
	if (error == NULL)
		ServerRunChannel(&l->server, channel, info, &error);
	free((void *)error);
	if (channel)
		ChannelDestroy(channel);
	free(info);
}

/* Adds a handler; Abyss asks the one added last first. */
static bool add_handler(struct listener *l, handleReq3Fn fn, void *ud)
{
	struct ServerReqHandler3 handler = {.handleReq = fn, .userdata = ud, .handleReqStackSize = 256 * 1024};
	abyss_bool ok = false;

	ServerAddHandler3(&l->server, &handler, &ok);
	return ok;
}

static bool start_listener(struct http *h, struct listener *l, int fd, char **err)
{
	bool on_tcp = l->tcp || l->metrics_only || l->rpc; /* every listener but the Unix socket's */
	int header_s = l->header_s = on_tcp ? TCP_HEADER_S : UNIX_HEADER_S;
	struct conns_limits limits = {.max_conns = l->metrics_only ? 64 : MAX_CONNS,
				      .max_untrusted = on_tcp ? TCP_MAX_UNTRUSTED : 0,
				      .untrusted_s = header_s};
	bool ok;

	l->http = h;
	l->created = ServerCreateNoAccept(&l->server, "simq", NULL, NULL);
	ok = l->created;
	ok = ok && (l->metrics_only ||
		    add_handler(l, l->rpc ? l->rpc : request_serve_rpc, l->rpc ? l->rpc_ud : (void *)&h->methods));
	ok = ok && (l->rpc || add_handler(l, serve_metrics, l));
	ok = ok && add_handler(l, l->tcp ? check_token : note_request, h);
	if (!ok) {
		*err = xasprintf("cannot serve the API on %s: no Abyss server", l->name);
		return false;
	}
	ServerDefaultHandler(&l->server, not_found);
	ServerSetKeepaliveTimeout(&l->server, (uint32_t)header_s);
	ServerSetTimeout(&l->server, (uint32_t)header_s);
	l->conns = conns_start(fd, &limits, serve, l, err);
	return l->conns != NULL;
}

/* The registry of the API's methods, each entering through enter(). */
static bool register_methods(struct http *h, char **err)
{
	size_t n = api_method_count + api_backend_method_count;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	h->infos = xcalloc(n, sizeof *h->infos);
	h->methods = (struct request_api){xmlrpc_registry_new(&env), h->infos, n};
	h->entries = xcalloc(n, sizeof *h->entries);
	for (size_t i = 0; i < n && !env.fault_occurred; i++) {
		/* api.c's table, then the backend methods' (api-backend.c). */
		const struct api_method *m =
			i < api_method_count ? &api_methods[i] : &api_backend_methods[i - api_method_count];

		h->infos[i] = (struct xmlrpc_method_info3){.methodName = m->name, .methodFunction = enter,
							.serverInfo = &h->entries[i], .help = m->help};
		h->entries[i] = (struct entry){h, m};
		xmlrpc_registry_add_method3(&env, h->methods.registry, &h->infos[i]);
	}
	if (env.fault_occurred)
		*err = xasprintf("cannot serve the API: %s", env.fault_string);
	xmlrpc_env_clean(&env);
	return *err == NULL;
}

/* The Authorization header that carries token. */
static void set_token(struct http *h, const char *token)
{
	char *pair = xasprintf("simq:%s", token), *encoded = base64(pair);

	free(h->expected_auth);
	h->expected_auth = xasprintf("Basic %s", encoded);
	free(pair);
	free(encoded);
}

bool http_add_rpc(struct http *h, const char *name, int fd, const char *token, handleReq3Fn rpc, void *ud,
		  char **err)
{
	struct listener *l = &h->extra_side;

	l->name = name;
	l->tcp = token != NULL;
	l->rpc = rpc;
	l->rpc_ud = ud;
	if (token)
		set_token(h, token);
	return start_listener(h, l, fd, err);
}

struct http *http_start(struct ev_loop *loop, struct api *api, const struct http_listen *l, char **err)
{
	struct http *h = xcalloc(1, sizeof *h);
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_server_abyss_global_init(&env);
	xmlrpc_env_clean(&env);
	/* submit_many of 100,000 tasks is some 30 MB of XML. */
	if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < PROTO_MAX_CALL_BYTES)
		xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, PROTO_MAX_CALL_BYTES);
	/* xmlrpc-c counts the parameter list as a level: what the scan lets through, it parses. */
	xmlrpc_limit_set(XMLRPC_NESTING_LIMIT_ID, PROTO_MAX_NESTING + 1);
	h->loop = loop;
	h->api = api;
	h->unix_side.name = "unix";
	h->tcp_side.name = "tcp";
	h->tcp_side.tcp = true;
	h->metrics_side.name = "metrics";
	h->metrics_side.metrics_only = true;
	pthread_mutex_init(&h->lock, NULL);
	ev_async_init(&h->wake, on_wake);
	h->wake.data = h;
	ev_async_start(loop, &h->wake);
	static const struct refusals_words tcp = {"TCP client", "TCP request"};

	h->refusals = refusals_new(loop, api_engine(api), l->refusal_interval > 0 ? l->refusal_interval : 60, &tcp);
	if (!register_methods(h, err) || !start_listener(h, &h->unix_side, l->unix_fd, err))
		return NULL;
	if (l->tcp_fd >= 0) {
		set_token(h, l->token);
		if (!start_listener(h, &h->tcp_side, l->tcp_fd, err))
			return NULL;
	}
	if (l->metrics_fd >= 0 && !start_listener(h, &h->metrics_side, l->metrics_fd, err))
		return NULL;
	return h;
}

void http_stop(struct http *h)
{
	struct api_call *list;
	struct waiting *gone;

	if (h == NULL)
		return;
	refusals_stop(h->refusals);
	api_drop_parked(h->api);
	list = take_incoming(h, true, &gone);
	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->fault_code = PROTO_FAULT_SHUTTING_DOWN;
		c->fault = xstrdup("the server is shutting down");
		deliver(c);
	}
	let_go(h, gone);
	conns_stop(h->unix_side.conns);
	conns_stop(h->tcp_side.conns);
	conns_stop(h->metrics_side.conns);
	conns_stop(h->extra_side.conns);
	ev_async_stop(h->loop, &h->wake);
}

static void free_listener(struct listener *l)
{
	conns_free(&l->conns);
	if (l->created)
		ServerFree(&l->server);
	l->created = false;
}

void http_free(struct http **hp)
{
	struct http *h = *hp;

	if (h == NULL)
		return;
	free_listener(&h->unix_side);
	free_listener(&h->tcp_side);
	free_listener(&h->metrics_side);
	free_listener(&h->extra_side);
	refusals_free(&h->refusals);
	free(h->expected_auth);
	if (h->methods.registry)
		xmlrpc_registry_free(h->methods.registry);
	free(h->infos);
	free(h->entries);
	pthread_mutex_destroy(&h->lock);
	free(h);
	*hp = NULL;
}
