#include "autoconf.h"

#include "util/fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

bool fds_each_connected(bool (*fn)(const struct fds_socket *s, void *ud), void *ud)
{
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (dir == NULL) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while ((de = readdir(dir)) != NULL) {
		struct fds_socket s = {.fd = atoi(de->d_name), .local_len = sizeof s.local, .peer_len = sizeof s.peer};

		if (s.fd <= 2 || s.fd == dfd)
			continue;
		if (getsockname(s.fd, (struct sockaddr *)&s.local, &s.local_len) != 0 ||
		    getpeername(s.fd, (struct sockaddr *)&s.peer, &s.peer_len) != 0)
			continue;
		if (!fn(&s, ud))
			break;
	}
	closedir(dir);
	return true;
}

bool fds_cloexec_all(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (dir == NULL)
		return false;
	while ((de = readdir(dir)) != NULL) {
		int fd = atoi(de->d_name), flags;

		if (fd <= 2 || fd == dirfd(dir))
			continue;
		flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	closedir(dir);
	return true;
}

bool fds_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}
