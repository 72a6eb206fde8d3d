/*
 * fds — the process's own open sockets, found through /proc/self/fd; and
 * writing a whole buffer to a descriptor.
 *
 * Abyss (xmlrpc-c's HTTP server) does not hand out the socket of a session,
 * so code that must act on connections itself — reset one, hang all up at a
 * stop — finds them here by their addresses.  Linux only.  Safe on any
 * thread; a descriptor may close while the scan runs, and is then skipped.
 */
#ifndef SIMQ_UTIL_FDS_H
#define SIMQ_UTIL_FDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* One connected socket: its descriptor, and both ends' addresses. */
struct fds_socket {
	int fd;
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
};

/*
 * Calls fn for every connected socket (one with a peer) above stderr, until
 * fn returns false.  Listening and unconnected sockets and other files are
 * skipped.  False if /proc/self/fd cannot be read.
 */
bool fds_each_connected(bool (*fn)(const struct fds_socket *s, void *ud), void *ud);

/*
 * Marks every open descriptor above stderr close-on-exec: for those that libraries open without
 * it (libcurl's wake-up socket pairs, Abyss's pipes), so no child inherits them.  False if
 * /proc/self/fd cannot be read.
 */
bool fds_cloexec_all(void);

/*
 * Writes all len bytes of data to fd, again after EINTR and short writes; false and errno on
 * failure, ENOSPC when a write takes nothing (a disk that fills midway says so).
 */
bool fds_write_all(int fd, const void *data, size_t len);

#endif
