#include "autoconf.h"

#include "server/dashboard-conn.h"

#include <ctype.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/xalloc.h"

#define CLOSING_S 2 /* a WebSocket told to close is killed this long after */

enum stage { STAGE_REQUEST, STAGE_ANSWERING, STAGE_HELLO, STAGE_VIEWER, STAGE_CLOSING };

struct conn {
	struct lws *wsi;
	struct dashboard_conns *c;
	enum stage stage;
	struct conn *prev, *next; /* among the pending, the oldest first */
	ev_timer deadline;
};

struct dashboard_conns {
	struct ev_loop *loop;
	int max_viewers, max_pending, cap;
	int count, pending;
	struct conn *oldest, *newest; /* the pending */
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

	if (k->stage == STAGE_VIEWER || k->stage == STAGE_CLOSING)
		return;
	if (k->prev)
		k->prev->next = k->next;
	else
		c->oldest = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		c->newest = k->prev;
	k->prev = k->next = NULL;
	c->pending--;
}

/* k enters stage (a pending one, as the newest pending), with its deadline. */
static void enter(struct conn *k, enum stage stage, double secs)
{
	struct dashboard_conns *c = k->c;

	unlink_pending(k);
	k->stage = stage;
	ev_timer_stop(c->loop, &k->deadline);
	if (stage != STAGE_VIEWER && stage != STAGE_CLOSING) {
		k->prev = c->newest;
		if (c->newest)
			c->newest->next = k;
		else
			c->oldest = k;
		c->newest = k;
		c->pending++;
	}
	if (secs >= 0) {
		ev_timer_set(&k->deadline, secs, 0);
		ev_timer_start(c->loop, &k->deadline);
	}
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
	/* Outside libwebsockets' service: closed now, and dashboard_conns_closed() frees k. */
	lws_set_timeout(k->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static struct conn *conn_of(struct lws *wsi)
{
	return wsi ? lws_get_opaque_user_data(wsi) : NULL;
}

bool dashboard_conns_room(const struct dashboard_conns *c)
{
	return c->count < c->cap;
}

void dashboard_conns_opened(struct dashboard_conns *c, struct lws *wsi)
{
	struct conn *k = xcalloc(1, sizeof *k);

	if (c->pending >= c->max_pending) {
		/* The oldest makes room: closed on the next loop pass, outside this callback. */
		struct conn *old = c->oldest;

		enter(old, STAGE_CLOSING, 0);
	}
	k->wsi = wsi;
	k->c = c;
	k->stage = STAGE_CLOSING; /* not pending yet */
	ev_init(&k->deadline, on_deadline);
	k->deadline.data = k;
	lws_set_opaque_user_data(wsi, k);
	c->count++;
	enter(k, STAGE_REQUEST, DASHBOARD_REQUEST_S);
}

/* wsi's connection, unless it is closing already, enters stage with its deadline. */
static void move(struct lws *wsi, enum stage stage, double secs)
{
	struct conn *k = conn_of(wsi);

	if (k && k->stage != STAGE_CLOSING)
		enter(k, stage, secs);
}

void dashboard_conns_answering(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_ANSWERING, DASHBOARD_RESPONSE_S);
}

void dashboard_conns_idle(struct dashboard_conns *c, struct lws *wsi)
{
	move(wsi, STAGE_REQUEST, DASHBOARD_REQUEST_S);
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
