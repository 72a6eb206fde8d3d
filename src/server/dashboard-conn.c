#include "autoconf.h"

#include "server/dashboard-conn.h"

#include <ctype.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/xalloc.h"

#define CLOSING_S 2 /* a WebSocket told to close is killed this long after */
#define GRACE_S        1  /* a kept-alive or upgraded connection is spared this long */
#define ANSWER_GRACE_S 10 /* a file being sent is never cut short sooner */
#define SILENT_SCAN    32 /* connections looked at for one that sent nothing */

/* Pending stages first, then doomed (closed on the next loop pass), each with its list; then the others. */
enum stage { STAGE_REQUEST, STAGE_IDLE, STAGE_ANSWERING, STAGE_HELLO, STAGE_DOOMED, STAGE_VIEWER, STAGE_CLOSING };
#define PENDING_STAGES STAGE_DOOMED
#define LISTED_STAGES  STAGE_VIEWER

struct conn {
	struct lws *wsi;
	struct dashboard_conns *c;
	enum stage stage;
	ev_tstamp since;          /* when it entered its stage */
	struct conn *prev, *next; /* in its stage's list, the oldest first */
	ev_timer deadline;
};

struct list {
	struct conn *oldest, *newest;
};

struct dashboard_conns {
	struct ev_loop *loop;
	int max_viewers, max_pending, cap;
	int count, pending;
	struct list lists[LISTED_STAGES];
	dashboard_conn_expire_fn *expire;
	void *ud;
};

struct dashboard_conns *dashboard_conns_new(struct ev_loop *loop, int max_viewers, dashboard_conn_expire_fn *expire,
                                            void *ud)
{
	struct dashboard_conns *c = xcalloc(1, sizeof *c);
	struct rlimit rl;
	int quarter = INT32_MAX / 4;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < (rlim_t)quarter)
		quarter = (int)(rl.rlim_cur / 4);
	if (quarter < 4)
		quarter = 4;
	c->loop = loop;
	c->max_viewers = max_viewers < 1 ? 1 : max_viewers > quarter ? quarter : max_viewers;
	c->max_pending = c->max_viewers;
	c->cap = 3 * c->max_viewers > 2 * quarter ? 2 * quarter : 3 * c->max_viewers;
	c->expire = expire;
	c->ud = ud;
	return c;
}

int dashboard_conns_max_viewers(const struct dashboard_conns *c)
{
	return c->max_viewers;
}

/*
 * libwebsockets binds with SO_REUSEADDR too; its own words when it cannot ("Failed to create
 * default vhost") do not say why.
 */
bool dashboard_conns_port_free(const char *listen, int port, char **err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char service[16], words[128];
	int one = 1, fd = -1, rc;

	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(listen, service, &hints, &res);
	if (rc != 0) {
		snprintf(words, sizeof words, "%s", gai_strerror(rc));
	} else {
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		rc = fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ? -1 : 0;
		snprintf(words, sizeof words, "%s", rc ? strerror(errno) : "");
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
	}
	if (rc == 0)
		return true;
	words[0] = (char)tolower((unsigned char)words[0]);
	*err =
	    xasprintf("cannot serve the dashboard on %s port %d ([dashboard] listen, port): %s", listen, port, words);
	return false;
}

void dashboard_conns_free(struct dashboard_conns **cp)
{
	xfree(cp);
}

static void unlink_pending(struct conn *k)
{
	struct dashboard_conns *c = k->c;

	if (k->stage >= LISTED_STAGES)
		return;
	struct list *l = &c->lists[k->stage];

	if (k->prev)
		k->prev->next = k->next;
	else
		l->oldest = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		l->newest = k->prev;
	k->prev = k->next = NULL;
	c->pending -= k->stage < PENDING_STAGES;
}

/* k enters stage (a pending one, as the newest of its stage), with its deadline. */
static void enter(struct conn *k, enum stage stage, double secs)
{
	struct dashboard_conns *c = k->c;

	unlink_pending(k);
	k->stage = stage;
	k->since = ev_now(c->loop);
	ev_timer_stop(c->loop, &k->deadline);
	if (stage < LISTED_STAGES) {
		struct list *l = &c->lists[stage];

		k->prev = l->newest;
		if (l->newest)
			l->newest->next = k;
		else
			l->oldest = k;
		l->newest = k;
		c->pending += stage < PENDING_STAGES;
	}
	if (secs >= 0) {
		ev_timer_set(&k->deadline, secs, 0);
		ev_timer_start(c->loop, &k->deadline);
	}
}

/* The older of a and b (either may be NULL). */
static struct conn *older(struct conn *a, struct conn *b)
{
	return a == NULL ? b : b == NULL || a->since <= b->since ? a : b;
}

/* k when it has been in its stage for secs, else NULL. */
static struct conn *aged(struct conn *k, ev_tstamp now, double secs)
{
	return k && now - k->since >= secs ? k : NULL;
}

/*
 * The oldest connection waiting for its first request that has sent nothing yet (libwebsockets
 * accepts a burst before it reads any: one whose request is there to be read is spared), among the
 * SILENT_SCAN oldest; else the oldest.
 */
static struct conn *silent(struct dashboard_conns *c)
{
	struct conn *k = c->lists[STAGE_REQUEST].oldest;

	for (int i = 0; k && i < SILENT_SCAN; i++, k = k->next) {
		int fd = lws_get_socket_fd(k->wsi), unread = 0;

		if (fd < 0 || ioctl(fd, FIONREAD, &unread) != 0 || unread == 0)
			return k;
	}
	return c->lists[STAGE_REQUEST].oldest;
}

/*
 * Which pending connection makes room for a new one: the oldest still waiting for its first request
 * (one that sent nothing first),
 * or, if older, one kept alive (its response may still be in libwebsockets' buffer) or upgraded (a
 * page sends its first message at once) that has said nothing for GRACE_S; else the oldest WebSocket
 * before its first message; else one whose file has been sent for ANSWER_GRACE_S (a reader that
 * stopped).  A file being sent is never cut short sooner.  NULL when none may go (the new one goes).
 */
static struct conn *room_maker(struct dashboard_conns *c)
{
	struct conn *hello = c->lists[STAGE_HELLO].oldest;
	ev_tstamp now = ev_now(c->loop);
	struct conn *k = older(silent(c), aged(c->lists[STAGE_IDLE].oldest, now, GRACE_S));

	k = older(k, aged(hello, now, GRACE_S));
	if (k == NULL)
		k = hello;
	if (k == NULL)
		k = aged(c->lists[STAGE_ANSWERING].oldest, now, ANSWER_GRACE_S);
	return k;
}

/*
 * Closes k now.  Left to itself libwebsockets would half-close and wait up to 10 s for the peer to
 * close too, holding the socket; a flood's peer never does.  Shut both ways (its read sees the end
 * at once) and reset when closed, the socket goes now; dashboard_conns_closed() frees k.
 */
static void kill_now(struct conn *k)
{
	int fd = lws_get_socket_fd(k->wsi);
	struct linger reset = {.l_onoff = 1, .l_linger = 0};

	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
		shutdown(fd, SHUT_RDWR);
	}
	lws_set_timeout(k->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

/* Its deadline passed (or it made room): closed, a WebSocket first with a close frame. */
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *k = w->data;

	if (k->stage == STAGE_HELLO && k->c->expire) {
		enter(k, STAGE_CLOSING, CLOSING_S);
		k->c->expire(k->wsi, k->c->ud);
		return;
	}
	kill_now(k); /* outside libwebsockets' service */
}

static struct conn *conn_of(struct lws *wsi)
{
	return wsi ? lws_get_opaque_user_data(wsi) : NULL;
}

bool dashboard_conns_room(struct dashboard_conns *c)
{
	/* libwebsockets accepts all it can at once: those made to make room in this burst go first. */
	while (c->count >= c->cap && c->lists[STAGE_DOOMED].oldest)
		kill_now(c->lists[STAGE_DOOMED].oldest);
	return c->count < c->cap;
}

void dashboard_conns_opened(struct dashboard_conns *c, struct lws *wsi)
{
	struct conn *k = xcalloc(1, sizeof *k), *old = NULL;

	k->wsi = wsi;
	k->c = c;
	k->stage = STAGE_CLOSING; /* not pending yet */
	ev_init(&k->deadline, on_deadline);
	k->deadline.data = k;
	lws_set_opaque_user_data(wsi, k);
	c->count++;
	/* One makes room, or none may and the new one goes: closed on the next loop pass, outside this callback. */
	if (c->pending >= c->max_pending && (old = room_maker(c)) == NULL)
		enter(k, STAGE_DOOMED, 0);
	else
		enter(k, STAGE_REQUEST, DASHBOARD_REQUEST_S);
	if (old)
		enter(old, STAGE_DOOMED, 0);
}

/* wsi's connection, unless it is closing already, enters stage with its deadline. */
static void move(struct lws *wsi, enum stage stage, double secs)
{
	struct conn *k = conn_of(wsi);

	if (k && k->stage != STAGE_CLOSING && k->stage != STAGE_DOOMED)
		enter(k, stage, secs);
}

void dashboard_conns_answering(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_ANSWERING, DASHBOARD_RESPONSE_S);
}

void dashboard_conns_idle(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_IDLE, DASHBOARD_REQUEST_S);
}

void dashboard_conns_upgraded(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_HELLO, DASHBOARD_HELLO_S);
}

void dashboard_conns_viewer(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_VIEWER, -1);
}

void dashboard_conns_closing(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_CLOSING, CLOSING_S);
}

void dashboard_conns_closed(struct dashboard_conns *c, struct lws *wsi)
{
	struct conn *k = conn_of(wsi);

	if (k == NULL)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	unlink_pending(k);
	ev_timer_stop(c->loop, &k->deadline);
	c->count--;
	free(k);
}

int dashboard_conns_count(const struct dashboard_conns *c)
{
	return c->count;
}

int dashboard_conns_pending(const struct dashboard_conns *c)
{
	return c->pending;
}
