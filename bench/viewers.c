/* viewers.c — WebSocket viewers of the dashboard for the benches (viewers.h). */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/viewers.h"
#include "util/xalloc.h"

/* Where one connection is in the stream of frames the server sends. */
struct conn {
	int fd;
	unsigned char head[14]; /* a frame's header as it arrives */
	size_t have, need;      /* header bytes read, and needed (2, then 2 + extended length) */
	uint64_t payload;       /* payload bytes left of the current frame */
};

struct viewers {
	struct conn *c;
	int n;
	pthread_t thread;
	atomic_bool stop;
	atomic_int_least64_t messages, bytes;
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int connect_one(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		die("bench: connecting a dashboard viewer");
	char *req =
	    xasprintf("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
	              "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2ltcS1iZW5jaC12aWV3ZXI=\r\n"
	              "Sec-WebSocket-Version: 13\r\n\r\n",
	              port, port);
	char reply[1024];
	size_t got = 0;

	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		die("bench: the viewer's upgrade request");
	free(req);
	/* The 101 answer ends with a blank line; the server says nothing more before the hello. */
	while (got < sizeof reply - 1 && (got < 4 || memcmp(reply + got - 4, "\r\n\r\n", 4) != 0)) {
		ssize_t r = read(fd, reply + got, 1);

		if (r <= 0)
			die("bench: the viewer's upgrade answer");
		got += (size_t)r;
	}
	reply[got] = '\0';
	if (strncmp(reply, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "bench: the dashboard refused a viewer: %.80s\n", reply);
		exit(1);
	}
	/* {} as a masked text frame (a client masks what it sends). */
	const unsigned char hello[] = {0x81, 0x82, 1, 2, 3, 4, '{' ^ 1, '}' ^ 2};

	if (write(fd, hello, sizeof hello) != (ssize_t)sizeof hello)
		die("bench: the viewer's hello");
	return fd;
}

/* Counts whole messages in what arrived (frames with FIN). */
static void consume(struct viewers *v, struct conn *c, const unsigned char *p, size_t len)
{
	while (len > 0) {
		if (c->payload > 0) {
			size_t take = len < c->payload ? len : (size_t)c->payload;

			c->payload -= take;
			p += take;
			len -= take;
			continue;
		}
		c->head[c->have++] = *p++;
		len--;
		if (c->have == 2)
			c->need = 2 + ((c->head[1] & 0x7f) == 126 ? 2 : (c->head[1] & 0x7f) == 127 ? 8 : 0);
		if (c->have < 2 || c->have < c->need)
			continue;
		uint64_t n = c->head[1] & 0x7f;

		if (n >= 126) {
			n = 0;
			for (size_t i = 2; i < c->need; i++)
				n = n << 8 | c->head[i];
		}
		c->payload = n;
		if (c->head[0] & 0x80)
			v->messages++;
		c->have = 0;
		c->need = 2;
	}
}

static void *reader(void *arg)
{
	struct viewers *v = arg;
	struct pollfd *pf = xcalloc((size_t)v->n, sizeof *pf);
	static unsigned char buf[1 << 16];

	for (int i = 0; i < v->n; i++)
		pf[i] = (struct pollfd){.fd = v->c[i].fd, .events = POLLIN};
	while (!v->stop) {
		/* Every 100 ms, all that came: pages on other machines cost this one nothing, so the
		   viewers here wake as seldom as they can, and what is measured is the server's part. */
		usleep(100000);
		if (poll(pf, (nfds_t)v->n, 0) <= 0)
			continue;
		for (int i = 0; i < v->n; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(pf[i].fd, buf, sizeof buf);

			if (r <= 0) {
				fprintf(stderr, "bench: the dashboard closed a viewer\n");
				exit(1);
			}
			v->bytes += r;
			consume(v, &v->c[i], buf, (size_t)r);
		}
	}
	free(pf);
	return NULL;
}

struct viewers *viewers_connect(int port, int n)
{
	struct viewers *v = xcalloc(1, sizeof *v);

	v->n = n;
	v->c = xcalloc((size_t)n, sizeof *v->c);
	for (int i = 0; i < n; i++)
		v->c[i] = (struct conn){.fd = connect_one(port), .need = 2};
	if (pthread_create(&v->thread, NULL, reader, v) != 0)
		die("bench: the viewers' thread");
	return v;
}

void viewers_count(struct viewers *v, int64_t *messages, int64_t *bytes)
{
	*messages = v->messages;
	*bytes = v->bytes;
}

void viewers_close(struct viewers **vp)
{
	struct viewers *v = *vp;

	v->stop = true;
	pthread_join(v->thread, NULL);
	for (int i = 0; i < v->n; i++)
		close(v->c[i].fd);
	free(v->c);
	xfree(vp);
}

int viewers_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("bench: a free port");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}
