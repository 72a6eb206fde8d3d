#include "autoconf.h"

#include "server/dashboard.h"

#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "server/dashboard-act.h"
#include "server/dashboard-conn.h"
#include "server/dashboard-host.h"
#include "server/dashboard-http.h"
#include "server/dashboard-sweep.h"
#include "server/dashboard-view.h"
#include "server/guesses.h"
#include "server/refusals.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/xalloc.h"

#define MIN_INTERVAL    0.2       /* seconds between two updates: at most five a second */
#define REFRESH_S       2.0       /* rebuild this often anyway: times that pass without an engine change */
#define MAX_IN          65536     /* the largest message a viewer may send */
#define RING            64        /* updates kept for viewers that reconnect */
#define RING_BYTES      (4 << 20) /* and at most this much of them */
#define MAX_BAD_TOKENS  3         /* wrong tokens on one connection before it is closed */
#define TRY_AGAIN_LATER 1013      /* close code (RFC 6455 registry): the viewers are at the limit */
#define STR_(x)         #x
#define STR(x)          STR_(x)

/* One message, shared by every viewer it is queued for. */
struct msg {
	int refs;
	size_t len;
	unsigned char data[]; /* LWS_PRE bytes for lws, then the text */
};

struct qnode {
	struct msg *m;
	struct qnode *next;
};

/* One connection's state (lws allocates it zeroed, for HTTP requests too). */
struct viewer {
	struct lws *wsi;
	struct viewer *prev, *next; /* in the dashboard's list, once a WebSocket */
	struct qnode *head, *tail;
	size_t queued; /* bytes in the queue */
	bool ws, hello, authorized;
	bool stale; /* updates were dropped: a snapshot when it drains */
	int bad_tokens;
	int close_code; /* non-zero: close with it at the next chance */
	const char *close_why;
	struct buf in; /* a message arriving in fragments */
	struct dashboard *d;
};

struct dashboard {
	struct ev_loop *loop;
	struct engine *engine;
	struct lws_context *ctx;
	struct dashboard_view *view;
	struct dashboard_sweeps *sweeps;
	struct dashboard_hosts *hosts;
	struct refusals *refusals;
	struct dashboard_conns *conns;
	struct dashboard_http http; /* the above, for dashboard-http.c */
	struct dashboard_options opt;
	char *token, *dir;
	struct viewer *viewers; /* every WebSocket; those past their hello are viewers */
	int nviewers;           /* of them, viewers */
	uint64_t seq;           /* the last update's */
	struct msg *ring[RING]; /* update seq sits at seq % RING */
	size_t ring_bytes;
	bool built; /* an update has been built */
	ev_tstamp last_build;
	ev_prepare check;
	ev_timer coalesce, refresh;
};

/* The last error libwebsockets logged: why it could not listen. */
static char lws_last_error[256];

static void lws_log(int level, const char *line)
{
	snprintf(lws_last_error, sizeof lws_last_error, "%s", line);
	lws_last_error[strcspn(lws_last_error, "\n")] = '\0';
}

/* ---- messages and queues ---------------------------------------------------------------- */

static struct msg *msg_new(const char *text, size_t len)
{
	struct msg *m = xmalloc(sizeof *m + LWS_PRE + len + 1);

	m->refs = 1;
	m->len = len;
	memcpy(m->data + LWS_PRE, text, len);
	m->data[LWS_PRE + len] = '\0';
	return m;
}

static void msg_unref(struct msg **mp)
{
	if (*mp && --(*mp)->refs == 0)
		free(*mp);
	*mp = NULL;
}

static void queue_clear(struct viewer *v)
{
	while (v->head) {
		struct qnode *n = v->head;

		v->head = n->next;
		msg_unref(&n->m);
		free(n);
	}
	v->tail = NULL;
	v->queued = 0;
}

/* Queues m for v, or drops v to a snapshot when its queue would pass the bound (one message always fits). */
static void enqueue(struct dashboard *d, struct viewer *v, struct msg *m)
{
	if (v->stale || v->close_code)
		return;
	if (v->queued > 0 && v->queued + m->len > d->opt.max_buffer) {
		queue_clear(v);
		v->stale = true;
	} else {
		struct qnode *n = xmalloc(sizeof *n);

		m->refs++;
		*n = (struct qnode){.m = m};
		if (v->tail)
			v->tail->next = n;
		else
			v->head = n;
		v->tail = n;
		v->queued += m->len;
	}
	lws_callback_on_writable(v->wsi);
}

/* Queues a message of v's own (a reply, the welcome). */
static void enqueue_text(struct dashboard *d, struct viewer *v, const char *text, size_t len)
{
	struct msg *m = msg_new(text, len);

	enqueue(d, v, m);
	msg_unref(&m);
}

static void enqueue_json(struct dashboard *d, struct viewer *v, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);

	enqueue_text(d, v, text, strlen(text));
	free(text);
	json_decref(j);
}

/* Closes v with code once its queued answers are sent; it is gone 2 s later whatever the client does. */
static void close_viewer(struct viewer *v, int code, const char *why)
{
	v->close_code = code;
	v->close_why = why;
	dashboard_conns_closing(v->d->conns, v->wsi);
	lws_callback_on_writable(v->wsi);
}

/* ---- updates ---------------------------------------------------------------------------- */

/* Keeps update d->seq for viewers that come back, dropping the oldest past RING or RING_BYTES. */
static void keep(struct dashboard *d, struct msg *m)
{
	struct msg **slot = &d->ring[d->seq % RING];

	d->ring_bytes -= *slot ? (*slot)->len : 0;
	msg_unref(slot);
	*slot = m;
	d->ring_bytes += m->len;
	for (uint64_t s = d->seq >= RING ? d->seq + 1 - RING : 1; d->ring_bytes > RING_BYTES && s < d->seq; s++) {
		slot = &d->ring[s % RING];
		d->ring_bytes -= *slot ? (*slot)->len : 0;
		msg_unref(slot);
	}
}

/* Builds an update when something changed and queues it for every viewer past its hello. */
static void build_update(struct dashboard *d)
{
	struct buf b = BUF_INIT;

	d->last_build = ev_now(d->loop);
	d->built = true;
	if (dashboard_view_update(d->view, d->seq + 1, &b)) {
		struct msg *m = msg_new(buf_str(&b), b.len);

		d->seq++;
		keep(d, m);
		for (struct viewer *v = d->viewers; v; v = v->next)
			if (v->hello)
				enqueue(d, v, m);
	}
	buf_free(&b);
}

static void on_coalesce(struct ev_loop *loop, ev_timer *w, int revents)
{
	build_update(w->data);
}

static void on_refresh(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dashboard *d = w->data;

	if (d->viewers && !ev_is_active(&d->coalesce) && ev_now(loop) - d->last_build >= MIN_INTERVAL)
		build_update(d);
}

/* Before the loop sleeps: a change the viewers have not seen is sent within MIN_INTERVAL. */
static void on_check(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct dashboard *d = w->data;

	if (d->viewers == NULL || ev_is_active(&d->coalesce) ||
	    engine_version(d->engine) == dashboard_view_version(d->view))
		return;
	ev_tstamp wait = d->last_build + MIN_INTERVAL - ev_now(loop);

	ev_timer_set(&d->coalesce, wait > 0 ? wait : 0, 0);
	ev_timer_start(loop, &d->coalesce);
}

/* The state as of the last update, brought up to date first unless an update is due soon anyway. */
static void enqueue_snapshot(struct dashboard *d, struct viewer *v)
{
	struct buf b = BUF_INIT;

	if (!d->built || (engine_version(d->engine) != dashboard_view_version(d->view) &&
	                  ev_now(d->loop) - d->last_build >= MIN_INTERVAL))
		build_update(d);
	dashboard_view_snapshot(d->view, d->seq, &b);
	enqueue_text(d, v, buf_str(&b), b.len);
	buf_free(&b);
}

/* A viewer back after a drop: the updates after seq when all are kept, else false. */
static bool enqueue_missed(struct dashboard *d, struct viewer *v, const char *server, json_int_t seq)
{
	if (strcmp(server, dashboard_view_server(d->view)) != 0 || seq < 0 || (uint64_t)seq > d->seq ||
	    d->seq - (uint64_t)seq >= RING)
		return false;
	for (uint64_t s = (uint64_t)seq + 1; s <= d->seq; s++)
		if (d->ring[s % RING] == NULL)
			return false;
	for (uint64_t s = (uint64_t)seq + 1; s <= d->seq; s++)
		enqueue(d, v, d->ring[s % RING]);
	return true;
}

/* ---- what a viewer sends ---------------------------------------------------------------- */

static void send_error(struct dashboard *d, struct viewer *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void send_error(struct dashboard *d, struct viewer *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *text = xvasprintf(fmt, ap);

	va_end(ap);
	enqueue_json(d, v, json_pack("{s:s,s:s}", "type", "error", "error", text));
	free(text);
}

static void peer_of(struct viewer *v, char *out, size_t size)
{
	snprintf(out, size, "?");
	lws_get_peer_simple(v->wsi, out, size);
}

/* Whether token is the dashboard's (guesses.h limits wrong ones server-wide); a wrong or held one is
 * noted (refusals) and counted against the connection. */
static enum guess_verdict check_token(struct dashboard *d, struct viewer *v, const json_t *token)
{
	char peer[64];

	peer_of(v, peer, sizeof peer);
	enum guess_verdict verdict = guesses_check(peer, json_string_value(token), d->token);

	if (verdict == GUESS_RIGHT)
		return verdict;
	refusals_note(d->refusals, peer,
	              verdict == GUESS_HELD ? "a token not checked (over " GUESSES_RATE_TEXT " wrong tokens a second)"
	                                    : "a wrong token");
	v->bad_tokens++;
	return verdict;
}

/* {"auth": TOKEN} answered: ok, or why the dashboard stays read-only (after a few, the connection closes). */
static void auth_reply(struct dashboard *d, struct viewer *v, enum guess_verdict verdict)
{
	static const char where[] = "the token is [server] token, or the file token in the server's state directory";

	if (verdict == GUESS_RIGHT)
		enqueue_json(d, v, json_pack("{s:s,s:b}", "type", "auth", "ok", 1));
	else if (verdict == GUESS_WRONG)
		enqueue_json(d, v,
		             json_pack("{s:s,s:b,s:s++}", "type", "auth", "ok", 0, "error",
		                       "wrong token: the dashboard stays read-only (", where, ")"));
	else
		enqueue_json(d, v,
		             json_pack("{s:s,s:b,s:b,s:s}", "type", "auth", "ok", 0, "held", 1, "error",
		                       "token not checked: this server had over " GUESSES_RATE_TEXT " wrong tokens "
		                       "a second lately, from this address among others; the dashboard stays "
		                       "read-only; try again in a few seconds"));
	if (v->bad_tokens >= MAX_BAD_TOKENS)
		close_viewer(v, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many wrong tokens");
}

/* A page told why it cannot be a viewer ({"type":"refused"}, which it can show), then closed with 1013. */
static void refuse_viewer(struct dashboard *d, struct viewer *v, const char *why)
{
	char peer[64];

	peer_of(v, peer, sizeof peer);
	refusals_note(d->refusals, peer, "viewers at the limit ([dashboard] max_viewers)");
	enqueue_json(d, v, json_pack("{s:s,s:s}", "type", "refused", "error", why));
	close_viewer(v, TRY_AGAIN_LATER, "viewers at the limit ([dashboard] max_viewers)");
}

/* The places are full and a page with the token comes: the oldest read-only viewer leaves; false when
 * every viewer has the token. */
static bool make_room(struct dashboard *d)
{
	struct viewer *oldest = NULL;

	for (struct viewer *v = d->viewers; v; v = v->next) /* the newest first */
		if (v->hello && !v->authorized && !v->close_code)
			oldest = v;
	if (oldest == NULL)
		return false;
	oldest->hello = false; /* no longer a viewer: no updates, its place is free now */
	d->nviewers--;
	queue_clear(oldest);
	oldest->stale = false;
	refuse_viewer(d, oldest, "a page with the token took this place: the dashboard has [dashboard] max_viewers "
	                         "pages open, and a read-only one makes room for it; try again later");
	return true;
}

/*
 * The first message: its token taken first, then the welcome (read-only or not), then the missed
 * updates when "resume" names them all, else a snapshot; a wrong token is answered after those.
 */
static void on_hello(struct dashboard *d, struct viewer *v, const json_t *msg)
{
	const json_t *resume = json_object_get(msg, "resume"), *token = json_object_get(msg, "auth");
	const char *server = json_string_value(json_object_get(resume, "server"));
	const json_t *seq = json_object_get(resume, "seq");
	enum guess_verdict verdict = GUESS_WRONG;
	bool resumed;

	if (token) {
		verdict = check_token(d, v, token);
		v->authorized = verdict == GUESS_RIGHT;
	}
	if (d->nviewers >= d->opt.max_viewers && !(v->authorized && make_room(d))) {
		refuse_viewer(d, v, "the dashboard has [dashboard] max_viewers pages open; try again later, or "
		                    "bring the token: a page with it takes the place of the oldest read-only one");
		return;
	}
	dashboard_conns_viewer(d->conns, v->wsi);
	d->nviewers++;
	enqueue_json(d, v,
	             json_pack("{s:s,s:s,s:I,s:b}", "type", "welcome", "server", dashboard_view_server(d->view), "seq",
	                       (json_int_t)d->seq, "read_only", !v->authorized));
	resumed = server && json_is_integer(seq) && enqueue_missed(d, v, server, json_integer_value(seq));
	if (!resumed)
		enqueue_snapshot(d, v);
	v->hello = true;
	if (token && !v->authorized)
		auth_reply(d, v, verdict);
}

/* "resume" takes server and seq alone (their values are judged by enqueue_missed: a snapshot when
 * they name nothing kept); another field is refused, as everywhere, and the message not acted on. */
static bool resume_fields_ok(struct dashboard *d, struct viewer *v, const json_t *resume)
{
	const char *key;
	json_t *value;

	if (!json_is_object(resume))
		return true;
	json_object_foreach((json_t *)resume, key, value)
	{
		if (strcmp(key, "server") != 0 && strcmp(key, "seq") != 0) {
			char *shown = buf_shown(key);

			send_error(d, v, "unknown field \"%s\" in resume; allowed: server, seq", shown);
			free(shown);
			return false;
		}
	}
	return true;
}

static const char *const fields[] = {"auth", "resume", "action", "ref", "ids", "priority", "backend", "sweep", NULL};

static void on_message(struct dashboard *d, struct viewer *v, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *msg;
	const char *key;
	json_t *value;

	if (v->close_code) /* told to close (refused, evicted): nothing it says counts */
		return;
	msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(msg)) {
		if (msg)
			send_error(d, v,
			           "not a JSON object; send one such as {\"auth\": TOKEN, \"resume\": {\"server\": ID, "
			           "\"seq\": N}} or {\"action\": \"cancel\", \"ids\": [ID]}");
		else
			send_error(d, v, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		json_decref(msg);
		return;
	}
	json_object_foreach(msg, key, value)
	{
		size_t i = 0;

		while (fields[i] && strcmp(fields[i], key) != 0)
			i++;
		if (fields[i] == NULL) {
			char *shown = buf_shown(key);

			send_error(
			    d, v,
			    "unknown field \"%s\"; allowed: auth, resume, action, ref, ids, priority, backend, sweep",
			    shown);
			free(shown);
			json_decref(msg);
			return;
		}
	}
	if (!resume_fields_ok(d, v, json_object_get(msg, "resume"))) {
		json_decref(msg);
		return;
	}
	if (!v->hello) {
		on_hello(d, v, msg);
		if (!v->hello) {
			json_decref(msg);
			return;
		}
	} else if (json_object_get(msg, "auth")) {
		enum guess_verdict verdict = check_token(d, v, json_object_get(msg, "auth"));

		v->authorized = verdict == GUESS_RIGHT;
		auth_reply(d, v, verdict);
	}
	if (json_object_get(msg, "action") || json_object_get(msg, "sweep")) {
		struct buf b = BUF_INIT;

		if (json_object_get(msg, "action"))
			dashboard_act(d->engine, msg, v->authorized, &b);
		else
			dashboard_sweep(d->sweeps, msg, &b);
		enqueue_text(d, v, buf_str(&b), b.len);
		buf_free(&b);
	}
	json_decref(msg);
}

/* A fragment of a message; false when the connection is to close (what it sent is not allowed). */
static bool on_receive(struct dashboard *d, struct viewer *v, const void *in, size_t len)
{
	if (lws_frame_is_binary(v->wsi)) {
		static const char why[] = "binary frames are not part of the protocol; send JSON text";

		lws_close_reason(v->wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, (unsigned char *)why, sizeof why - 1);
		dashboard_conns_closing(d->conns, v->wsi);
		return false;
	}
	/* A frame that declares more than a message may hold is refused at its first bytes, unbuffered. */
	if (v->in.len + len + lws_remaining_packet_payload(v->wsi) > MAX_IN) {
		static const char why[] = "message over 65536 bytes";

		lws_close_reason(v->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, sizeof why - 1);
		dashboard_conns_closing(d->conns, v->wsi);
		return false;
	}
	buf_add(&v->in, in, len);
	if (lws_is_final_fragment(v->wsi) && lws_remaining_packet_payload(v->wsi) == 0) {
		on_message(d, v, buf_str(&v->in), v->in.len);
		buf_truncate(&v->in, 0);
	}
	return true;
}

/* Sends the next queued message (or the snapshot a drained stale viewer is owed), and the close once
 * they are sent; false to close. */
static bool on_writable(struct dashboard *d, struct viewer *v)
{
	if (v->close_code && v->head == NULL) {
		lws_close_reason(v->wsi, (enum lws_close_status)v->close_code, (unsigned char *)v->close_why,
		                 strlen(v->close_why));
		return false;
	}
	if (v->stale) {
		v->stale = false;
		enqueue_snapshot(d, v);
	}
	struct qnode *n = v->head;

	if (n == NULL)
		return true;
	v->head = n->next;
	if (v->head == NULL)
		v->tail = NULL;
	v->queued -= n->m->len;
	int wrote = lws_write(v->wsi, n->m->data + LWS_PRE, n->m->len, LWS_WRITE_TEXT);
	bool ok = wrote >= (int)n->m->len;

	msg_unref(&n->m);
	free(n);
	if (ok && (v->head || v->close_code))
		lws_callback_on_writable(v->wsi);
	return ok;
}

/* ---- connections ------------------------------------------------------------------------ */

/* A WebSocket is taken on /ws, naming the dashboard, from its own page. */
static bool accept_viewer(struct dashboard *d, struct lws *wsi)
{
	char uri[64] = "", origin[256] = "", host[256], peer[64] = "?", *why = NULL;

	if (dashboard_http_host_status(&d->http, wsi, host, sizeof host))
		return false;
	lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
	lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
	bool own =
	    lws_hdr_fragment_length(wsi, WSI_TOKEN_ORIGIN, 1) <= 0 && dashboard_origin_ok(d->hosts, host, origin, &why);

	lws_get_peer_simple(wsi, peer, sizeof peer);
	if (!own)
		refusals_note(d->refusals, peer, why);
	free(why);
	/* Past max_viewers it is taken still: its first message may bring the token (on_hello). */
	return own && strcmp(uri, "/ws") == 0;
}

/* A WebSocket's first message did not come in time (dashboard-conn.h). */
static void on_silence(struct lws *wsi, void *ud)
{
	struct viewer *v = lws_wsi_user(wsi);

	if (v && v->ws)
		close_viewer(v, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		             "no first message within " STR(DASHBOARD_HELLO_S) " s");
}

/* A new socket: close-on-exec, pending with its deadline (dashboard-conn.h). */
static void on_accepted(struct dashboard *d, struct lws *wsi)
{
	int fd = lws_get_socket_fd(wsi);

	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	dashboard_conns_opened(d->conns, wsi);
}

static void on_established(struct dashboard *d, struct viewer *v, struct lws *wsi)
{
	dashboard_conns_upgraded(d->conns, wsi);
	v->wsi = wsi;
	v->ws = true;
	v->next = d->viewers;
	if (d->viewers)
		d->viewers->prev = v;
	d->viewers = v;
	v->d = d;
	if (!ev_is_active(&d->refresh))
		ev_timer_again(d->loop, &d->refresh);
}

static void on_closed(struct dashboard *d, struct viewer *v)
{
	if (!v->ws)
		return;
	if (v->prev)
		v->prev->next = v->next;
	else
		d->viewers = v->next;
	if (v->next)
		v->next->prev = v->prev;
	d->nviewers -= v->hello;
	queue_clear(v);
	buf_free(&v->in);
	v->ws = false;
	if (d->viewers == NULL)
		ev_timer_stop(d->loop, &d->refresh);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct dashboard *d = ctx ? lws_context_user(ctx) : NULL;
	struct viewer *v = user;

	if (d == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return dashboard_http_room(&d->http, user) ? 0 : 1;
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		on_accepted(d, wsi);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		dashboard_conns_closed(d->conns, wsi);
		return 0;
	case LWS_CALLBACK_HTTP:
		return dashboard_http_request(&d->http, wsi, in);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return dashboard_http_completed(&d->http, wsi);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return accept_viewer(d, wsi) ? 0 : 1;
	case LWS_CALLBACK_ESTABLISHED:
		on_established(d, v, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return on_receive(d, v, in, len) ? 0 : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writable(d, v) ? 0 : -1;
	case LWS_CALLBACK_CLOSED:
		on_closed(d, v);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
    {.name = "simq-dashboard",
     .callback = callback,
     .per_session_data_size = sizeof(struct viewer),
     .rx_buffer_size = 4096},
    {0},
};

/* ---- the dashboard ---------------------------------------------------------------------- */

/* The dashboard's share of the descriptors (dashboard-conn.h): max_viewers cut to it, said in the log. */
static void share_descriptors(struct dashboard *d)
{
	d->conns = dashboard_conns_new(d->loop, d->opt.max_viewers, on_silence, d);
	if (dashboard_conns_max_viewers(d->conns) < d->opt.max_viewers)
		engine_log(d->engine, SEVERITY_WARNING, 0,
		           "dashboard: at most %d viewers, not %d ([dashboard] max_viewers): the server may open %d "
		           "files (ulimit -n), and the dashboard takes at most half of them",
		           dashboard_conns_max_viewers(d->conns), d->opt.max_viewers,
		           4 * dashboard_conns_max_viewers(d->conns));
	d->opt.max_viewers = dashboard_conns_max_viewers(d->conns);
}

struct dashboard *dashboard_new(struct ev_loop *loop, struct engine *e, const struct dashboard_options *o, char **err)
{
	struct lws_context_creation_info info;
	void *loops[1] = {loop};

	if (!dashboard_conns_port_free(o->listen, o->port, err))
		return NULL;
	struct dashboard *d = xcalloc(1, sizeof *d);

	d->loop = loop;
	d->engine = e;
	d->opt = *o;
	d->token = o->token ? xstrdup(o->token) : NULL;
	d->opt.token = NULL;
	d->dir = paths_data_dir("dashboard", PKGDATADIR "/dashboard");
	d->view = dashboard_view_new(e);
	d->sweeps = dashboard_sweeps_new(e);
	d->hosts = dashboard_hosts_new(o->listen, o->port, o->allowed_hosts, o->allowed_origins, err);
	if (d->hosts == NULL) {
		dashboard_free(&d);
		return NULL;
	}
	static const struct refusals_words words = {"dashboard page", "dashboard request"};

	d->refusals = refusals_new(loop, e, o->refusal_interval > 0 ? o->refusal_interval : 60, &words);
	share_descriptors(d);
	d->http = (struct dashboard_http){.dir = d->dir, .hosts = d->hosts, .refusals = d->refusals, .conns = d->conns};
	lws_set_log_level(LLL_ERR, lws_log);
	memset(&info, 0, sizeof info);
	info.port = o->port;
	info.iface = o->listen;
	info.protocols = protocols;
	info.options =
	    LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	/* An IPv4 address: libwebsockets built with IPv6 (Debian's 4.1.6) would bind it as "*", every
	 * address of the machine (warmcat/libwebsockets#2290); without IPv6 it binds the address given. */
	if (o->listen && strchr(o->listen, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = loops;
	info.user = d;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.timeout_secs = 10;
	info.vhost_name = "simq-dashboard";
	info.server_string = "simq";
	lws_last_error[0] = '\0';
	d->ctx = lws_create_context(&info);
	if (d->ctx == NULL) {
		*err = xasprintf("cannot serve the dashboard on %s port %d ([dashboard] listen, port): %s", o->listen,
		                 o->port, lws_last_error[0] ? lws_last_error : "libwebsockets could not start");
		dashboard_free(&d);
		return NULL;
	}
	ev_prepare_init(&d->check, on_check);
	d->check.data = d;
	ev_prepare_start(loop, &d->check);
	ev_timer_init(&d->coalesce, on_coalesce, 0, 0);
	d->coalesce.data = d;
	ev_init(&d->refresh, on_refresh);
	d->refresh.repeat = REFRESH_S;
	d->refresh.data = d;
	engine_log(e, SEVERITY_INFO, 0, "dashboard on http://%s:%d/ (read-only without the token)", o->listen, o->port);
	return d;
}

void dashboard_free(struct dashboard **dp)
{
	struct dashboard *d = *dp;

	if (d == NULL)
		return;
	if (d->ctx)
		lws_context_destroy(d->ctx);
	/* Viewers are closed (CLOSED ran for each) before the view and the messages go. */
	ev_prepare_stop(d->loop, &d->check);
	ev_timer_stop(d->loop, &d->coalesce);
	ev_timer_stop(d->loop, &d->refresh);
	for (size_t i = 0; i < RING; i++)
		msg_unref(&d->ring[i]);
	if (d->refusals) {
		refusals_stop(d->refusals);
		refusals_free(&d->refusals);
	}
	dashboard_view_free(&d->view);
	dashboard_sweeps_free(&d->sweeps);
	dashboard_hosts_free(&d->hosts);
	dashboard_conns_free(&d->conns);
	free(d->token);
	free(d->dir);
	xfree(dp);
}
