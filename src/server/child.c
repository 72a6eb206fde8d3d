#include "autoconf.h"

#include "server/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xalloc.h"

struct stream {
	struct child *c;
	int fd;
	ev_io io;
	struct buf text;
};

struct child {
	struct ev_loop *loop;
	pid_t pid;
	ev_child watcher;
	ev_timer timer;
	struct stream out, err;
	bool exited, timed_out;
	int status;
	child_done_fn done;
	void *ud;
};

static void stream_close(struct child *c, struct stream *s)
{
	if (s->fd >= 0) {
		ev_io_stop(c->loop, &s->io);
		close(s->fd);
		s->fd = -1;
	}
}

static void child_free(struct child *c)
{
	stream_close(c, &c->out);
	stream_close(c, &c->err);
	ev_child_stop(c->loop, &c->watcher);
	ev_timer_stop(c->loop, &c->timer);
	buf_free(&c->out.text);
	buf_free(&c->err.text);
	free(c);
}

/* Exited, and both streams at their end: done() gets it all. */
static void maybe_done(struct child *c)
{
	if (!c->exited || c->out.fd >= 0 || c->err.fd >= 0)
		return;
	struct child_result r = {
	    .status = c->status, .timed_out = c->timed_out, .out = buf_str(&c->out.text), .err = buf_str(&c->err.text)};

	c->done(c->ud, &r);
	child_free(c);
}

static void exited_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child *c = w->data;

	ev_child_stop(loop, w);
	ev_timer_stop(loop, &c->timer);
	c->status = w->rstatus;
	c->exited = true;
	/* What it left running in its group would hold the pipes open: it goes too. */
	kill(-c->pid, SIGKILL);
	maybe_done(c);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stream *s = w->data;
	char buf[4096];
	ssize_t n = read(s->fd, buf, sizeof buf);

	if (n > 0) {
		size_t room = CHILD_OUTPUT_MAX - s->text.len;

		buf_add(&s->text, buf, (size_t)n < room ? (size_t)n : room);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	stream_close(s->c, s);
	maybe_done(s->c);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = w->data;

	c->timed_out = true;
	kill(-c->pid, SIGKILL);
}

static void stream_start(struct child *c, struct stream *s, int fd)
{
	s->c = c;
	s->fd = fd;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ev_io_init(&s->io, read_cb, fd, EV_READ);
	s->io.data = s;
	ev_io_start(c->loop, &s->io);
}

static int spawn(pid_t *pid, char *const argv[], char *const envp[], int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	/* Nothing of the server's but the three: no socket, no database, no lock. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&defaults);
	sigdelset(&defaults, SIGKILL);
	sigdelset(&defaults, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

struct child *child_run(struct ev_loop *loop, char *const argv[], char *const envp[], double timeout,
                        child_done_fn done, void *ud, char **err)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, rc;
	struct child *c;

	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		*err = xasprintf("cannot make a pipe for %s: %s", argv[0], strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0)
				close(out[i]);
			if (errp[i] >= 0)
				close(errp[i]);
		}
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->done = done;
	c->ud = ud;
	c->out.fd = c->err.fd = -1;
	rc = spawn(&c->pid, argv, envp, out[1], errp[1]);
	close(out[1]);
	close(errp[1]);
	if (rc != 0) {
		*err = xasprintf("cannot run %s: %s", argv[0], strerror(rc));
		close(out[0]);
		close(errp[0]);
		free(c);
		return NULL;
	}
	stream_start(c, &c->out, out[0]);
	stream_start(c, &c->err, errp[0]);
	ev_child_init(&c->watcher, exited_cb, c->pid, 0);
	c->watcher.data = c;
	ev_child_start(loop, &c->watcher);
	ev_timer_init(&c->timer, timeout_cb, timeout, 0);
	c->timer.data = c;
	ev_timer_start(loop, &c->timer);
	return c;
}

void child_abandon(struct child **cp)
{
	struct child *c = *cp;

	if (c == NULL)
		return;
	if (!c->exited) {
		kill(-c->pid, SIGKILL);
		/* Reaped here, not left a zombie: it was killed, so this is quick. */
		waitpid(c->pid, NULL, 0);
	}
	child_free(c);
	*cp = NULL;
}

char *child_failure(const char *what, const struct child_result *r, double timeout)
{
	char line[512];

	if (!r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return NULL;
	snprintf(line, sizeof line, "%s", r->err[0] ? r->err : r->out);
	line[strcspn(line, "\n")] = '\0';
	if (r->timed_out)
		return xasprintf("%s gave no answer within %gs (killed)", what, timeout);
	if (WIFSIGNALED(r->status))
		return xasprintf("%s was killed by signal %d%s%s", what, WTERMSIG(r->status), line[0] ? ": " : "",
		                 line);
	return xasprintf("%s failed (exit status %d)%s%s", what, WEXITSTATUS(r->status), line[0] ? ": " : "",
	                 line[0] ? line : "");
}
