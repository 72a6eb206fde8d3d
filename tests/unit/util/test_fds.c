#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/fds.h"

/* What a scan saw: the descriptors, in the order fn was called. */
struct seen {
	int fds[64];
	size_t n;
	size_t stop_after; /* fn returns false after this many; 0: never */
};

static bool note(const struct fds_socket *s, void *ud)
{
	struct seen *seen = ud;

	assert_true(s->local_len > 0 && s->local_len <= sizeof s->local);
	assert_true(s->peer_len > 0 && s->peer_len <= sizeof s->peer);
	if (seen->n < sizeof seen->fds / sizeof seen->fds[0])
		seen->fds[seen->n++] = s->fd;
	return seen->stop_after == 0 || seen->n < seen->stop_after;
}

static bool saw(const struct seen *seen, int fd)
{
	for (size_t i = 0; i < seen->n; i++)
		if (seen->fds[i] == fd)
			return true;
	return false;
}

static void test_finds_both_ends_of_a_socketpair(void **state)
{
	struct seen seen = {0};
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_true(fds_each_connected(note, &seen));
	assert_true(saw(&seen, sv[0]));
	assert_true(saw(&seen, sv[1]));
	close(sv[0]);
	close(sv[1]);
}

/* A TCP connection on loopback: a listener, the client's end and the accepted end. */
struct tcp {
	struct sockaddr_in addr; /* the listener's */
	int lfd, cfd, afd;
};

static void tcp_open(struct tcp *t)
{
	socklen_t len = sizeof t->addr;

	t->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(t->lfd >= 0);
	assert_int_equal(bind(t->lfd, (struct sockaddr *)&t->addr, sizeof t->addr), 0);
	assert_int_equal(listen(t->lfd, 1), 0);
	assert_int_equal(getsockname(t->lfd, (struct sockaddr *)&t->addr, &len), 0);
	t->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(t->cfd, (struct sockaddr *)&t->addr, sizeof t->addr), 0);
	t->afd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(t->afd >= 0);
}

static void tcp_close(struct tcp *t)
{
	close(t->afd);
	close(t->cfd);
	close(t->lfd);
}

/* Both ends of a connection are found; the listener is not. */
static void test_finds_both_ends_of_a_tcp_connection(void **state)
{
	struct seen seen = {0};
	struct tcp t;

	tcp_open(&t);
	assert_true(fds_each_connected(note, &seen));
	assert_true(saw(&seen, t.cfd));
	assert_true(saw(&seen, t.afd));
	assert_false(saw(&seen, t.lfd));
	tcp_close(&t);
}

/* What a scan gave for one descriptor. */
struct found {
	int fd;
	bool seen;
	struct sockaddr_in local, peer;
};

static bool find(const struct fds_socket *s, void *ud)
{
	struct found *f = ud;

	if (s->fd != f->fd)
		return true;
	f->seen = true;
	memcpy(&f->local, &s->local, sizeof f->local);
	memcpy(&f->peer, &s->peer, sizeof f->peer);
	return false;
}

/* The accepted end's local address is the listener's; its peer is the client's end. */
static void test_local_and_peer_are_not_swapped(void **state)
{
	struct sockaddr_in client;
	socklen_t len = sizeof client;
	struct found found = {0};
	struct tcp t;

	tcp_open(&t);
	found.fd = t.afd;
	assert_int_equal(getsockname(t.cfd, (struct sockaddr *)&client, &len), 0);
	assert_true(fds_each_connected(find, &found));
	assert_true(found.seen);
	assert_int_equal(found.local.sin_family, AF_INET);
	assert_int_equal(found.local.sin_port, t.addr.sin_port);
	assert_int_equal(found.peer.sin_port, client.sin_port);
	tcp_close(&t);
}

static void test_skips_files_and_unconnected_sockets(void **state)
{
	int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int lone = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct seen seen = {0};

	assert_true(file >= 0 && lone >= 0);
	assert_true(fds_each_connected(note, &seen));
	assert_false(saw(&seen, file));
	assert_false(saw(&seen, lone));
	close(lone);
	close(file);
}

static void test_stops_when_fn_returns_false(void **state)
{
	struct seen seen = {.stop_after = 1};
	int a[2], b[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), 0);
	assert_true(fds_each_connected(note, &seen));
	assert_int_equal(seen.n, 1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/* The scan's own descriptor does not outlive it. */
static void test_leaves_no_descriptor_open(void **state)
{
	struct seen seen = {0};
	int before = open("/dev/null", O_RDONLY | O_CLOEXEC), after;

	close(before);
	assert_true(fds_each_connected(note, &seen));
	after = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(after, before);
	close(after);
}

/* Descriptors a library opened without close-on-exec get it; stdin, stdout and stderr keep theirs. */
static void test_cloexec_all(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_false(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	int err_flags = fcntl(2, F_GETFD);

	assert_true(fds_cloexec_all());
	assert_true(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(2, F_GETFD), err_flags);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_finds_both_ends_of_a_socketpair),
	    cmocka_unit_test(test_finds_both_ends_of_a_tcp_connection),
	    cmocka_unit_test(test_local_and_peer_are_not_swapped),
	    cmocka_unit_test(test_skips_files_and_unconnected_sockets),
	    cmocka_unit_test(test_stops_when_fn_returns_false),
	    cmocka_unit_test(test_leaves_no_descriptor_open),
	    cmocka_unit_test(test_cloexec_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
