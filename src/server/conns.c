#include "autoconf.h"

#include "server/conns.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/time.h"
#include "util/xalloc.h"

/* A connection thread's stack: Abyss, xmlrpc-c's parse of a scanned call (64 levels) and its answer. */
#define CONN_STACK (1024 * 1024)

struct conn {
	struct conns *cs;
	int fd;
	double since;                /* monotonic seconds when accepted */
	bool trusted;
	bool cut;                    /* shut down by the acceptor: leaving */
	struct conn *prev, *next;    /* oldest first */
};

struct conns {
	int listen_fd;
	struct conns_limits limits;
	conns_serve_fn *serve;
	void *ud;
	pthread_t acceptor;
	int wake[2];                 /* a pipe: stop, or a connection ended */
	pthread_mutex_t lock;
	pthread_cond_t ended;
	struct conn *oldest, *newest;
	int count;
	int untrusted;               /* untrusted and not cut */
	bool stopping;
	bool started;                /* the acceptor thread runs */
};

static __thread struct conn *current;

struct conn *conns_current(void)
{
	return current;
}

int conns_count(struct conns *cs)
{
	int n;

	pthread_mutex_lock(&cs->lock);
	n = cs->count;
	pthread_mutex_unlock(&cs->lock);
	return n;
}

static void poke(struct conns *cs)
{
	ssize_t unused = write(cs->wake[1], "", 1);

	(void)unused;
}

/* Under the lock: shuts c's socket, so its thread's read ends; it leaves the table when that thread ends. */
static void cut(struct conns *cs, struct conn *c)
{
	if (c->cut)
		return;
	c->cut = true;
	if (!c->trusted)
		cs->untrusted--;
	shutdown(c->fd, SHUT_RDWR);
}

void conns_trust(struct conn *c)
{
	struct conns *cs = c->cs;

	pthread_mutex_lock(&cs->lock);
	if (!c->trusted && !c->cut)
		cs->untrusted--;
	c->trusted = true;
	pthread_mutex_unlock(&cs->lock);
}

bool conns_client_gone(struct conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* Takes c out of the table, closes its socket and frees it. */
static void leave(struct conn *c)
{
	struct conns *cs = c->cs;
	int fd = c->fd;

	pthread_mutex_lock(&cs->lock);
	if (!c->trusted && !c->cut)
		cs->untrusted--;
	*(c->prev ? &c->prev->next : &cs->oldest) = c->next;
	*(c->next ? &c->next->prev : &cs->newest) = c->prev;
	if (--cs->count == 0)
		pthread_cond_broadcast(&cs->ended);
	/* The acceptor may be waiting for a free slot. */
	poke(cs);
	pthread_mutex_unlock(&cs->lock);
	/* Out of the table: nobody shuts this descriptor's number any more. */
	close(fd);
	free(c);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	current = c;
	c->cs->serve(c->cs->ud, c, c->fd);
	current = NULL;
	leave(c);
	return NULL;
}

/* Under the lock: cuts untrusted connections past their deadline; the seconds until the next one's (at most 1). */
static double cut_late(struct conns *cs)
{
	double now = time_mono(), next = 1;

	for (struct conn *c = cs->oldest; c; c = c->next) {
		double left = c->since + cs->limits.untrusted_s - now;

		if (c->trusted || c->cut)
			continue;
		if (left <= 0)
			cut(cs, c);
		else if (left < next)
			next = left;
	}
	return next;
}

/* Takes the connection on fd into the table and starts its thread. */
static void admit(struct conns *cs, int fd)
{
	struct conn *c = xcalloc(1, sizeof *c);
	pthread_attr_t attr;
	pthread_t thread;

	c->cs = cs;
	c->fd = fd;
	c->since = time_mono();
	pthread_mutex_lock(&cs->lock);
	/* At the cap, the oldest untrusted connection makes room: a flood cannot hold the door shut. */
	if (cs->limits.max_untrusted > 0 && cs->untrusted >= cs->limits.max_untrusted)
		for (struct conn *o = cs->oldest; o; o = o->next)
			if (!o->trusted && !o->cut) {
				cut(cs, o);
				break;
			}
	/* Accepted as the server stops: it reads no request. */
	if (cs->stopping)
		shutdown(fd, SHUT_RD);
	c->prev = cs->newest;
	*(cs->newest ? &cs->newest->next : &cs->oldest) = c;
	cs->newest = c;
	cs->count++;
	cs->untrusted++;
	pthread_mutex_unlock(&cs->lock);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CONN_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* No thread to serve it: the connection closes unanswered. */
	if (pthread_create(&thread, &attr, conn_main, c) != 0)
		leave(c);
	pthread_attr_destroy(&attr);
}

/* Under the lock: whether another connection may come in now. */
static bool room(const struct conns *cs)
{
	return cs->count < cs->limits.max_conns;
}

static void *accept_main(void *arg)
{
	struct conns *cs = arg;

	pthread_setname_np(pthread_self(), "simq-accept");
	for (;;) {
		struct pollfd p[2] = {{.fd = cs->wake[0], .events = POLLIN}, {.fd = cs->listen_fd, .events = POLLIN}};
		char drain[64];
		double wait_s;
		bool open;

		pthread_mutex_lock(&cs->lock);
		if (cs->stopping) {
			pthread_mutex_unlock(&cs->lock);
			break;
		}
		wait_s = cut_late(cs);
		open = room(cs);
		pthread_mutex_unlock(&cs->lock);
		if (poll(p, open ? 2 : 1, (int)(wait_s * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			while (read(cs->wake[0], drain, sizeof drain) == (ssize_t)sizeof drain)
				;
		if (open && (p[1].revents & POLLIN)) {
			int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				admit(cs, fd);
			else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS)
				poll(NULL, 0, 100); /* out of descriptors: let connections end before trying again */
		}
	}
	return NULL;
}

struct conns *conns_start(int listen_fd, const struct conns_limits *limits, conns_serve_fn *serve, void *ud,
			  char **err)
{
	struct conns *cs = xcalloc(1, sizeof *cs);
	sigset_t all, old;

	cs->listen_fd = listen_fd;
	cs->limits = *limits;
	cs->serve = serve;
	cs->ud = ud;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->ended, NULL);
	if (pipe2(cs->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		*err = xasprintf("cannot serve the API: %s", strerror(errno));
		cs->wake[0] = cs->wake[1] = -1;
		conns_free(&cs);
		return NULL;
	}
	/* A burst of clients waits in the backlog, not refused, while the acceptor catches up. */
	listen(listen_fd, SOMAXCONN);
	/* Connection threads take no signals: the loop thread handles them (they inherit the mask). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&cs->acceptor, NULL, accept_main, cs);

	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		*err = xstrdup("cannot start the API thread");
		conns_free(&cs);
		return NULL;
	}
	cs->started = true;
	return cs;
}

void conns_stop(struct conns *cs)
{
	if (cs == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	cs->stopping = true;
	for (struct conn *c = cs->oldest; c; c = c->next)
		shutdown(c->fd, SHUT_RD);
	poke(cs);
	pthread_mutex_unlock(&cs->lock);
	if (cs->started) {
		pthread_join(cs->acceptor, NULL);
		cs->started = false;
	}
}

void conns_free(struct conns **csp)
{
	struct conns *cs = *csp;
	struct timespec deadline;

	if (cs == NULL)
		return;
	conns_stop(cs);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	pthread_mutex_lock(&cs->lock);
	while (cs->count > 0 && pthread_cond_timedwait(&cs->ended, &cs->lock, &deadline) == 0)
		;
	/* A client that reads no answer holds its thread in a write: cut it off. */
	for (struct conn *c = cs->oldest; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (cs->count > 0)
		pthread_cond_wait(&cs->ended, &cs->lock);
	pthread_mutex_unlock(&cs->lock);
	if (cs->wake[0] >= 0) {
		close(cs->wake[0]);
		close(cs->wake[1]);
	}
	pthread_mutex_destroy(&cs->lock);
	pthread_cond_destroy(&cs->ended);
	free(cs);
	*csp = NULL;
}
