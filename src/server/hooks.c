#include "autoconf.h"

#include "server/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/events.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/xalloc.h"

extern char **environ;

/* Output kept per hook run, and the lines of it that go to the log. */
#define OUTPUT_MAX 16384
#define OUTPUT_LINES 10

struct hook_run {
	struct hooks *h;
	char *event;           /* "failed" */
	int64_t task_id;
	char **env;            /* NULL-terminated, owned */
	char *json;
	pid_t pid;
	int out_fd;
	ev_child child;
	ev_io out;
	ev_timer timer;
	struct buf output;
	bool exited, eof, killed;
	int status;
	struct hook_run *next;
};

struct hooks {
	struct ev_loop *loop;
	const struct config *cfg;
	struct engine *engine;
	int handle;
	double timeout;
	int max_running, running;
	struct hook_run *waiting, *waiting_tail;
	struct hook_run *active; /* running, in no order */
};

static void run_free(struct hook_run *r)
{
	for (char **e = r->env; e && *e; e++)
		free(*e);
	free(r->env);
	free(r->event);
	free(r->json);
	buf_free(&r->output);
	free(r);
}

static void start_next(struct hooks *h);

/* Both the process and its output are done: log what happened and make room for the next. */
static void finish(struct hook_run *r)
{
	struct hooks *h = r->h;
	char who[96];

	if (!r->exited || !r->eof)
		return;
	if (r->task_id)
		snprintf(who, sizeof who, "hook on_%s for task %lld", r->event, (long long)r->task_id);
	else
		snprintf(who, sizeof who, "hook on_%s", r->event);
	if (r->killed)
		engine_log(h->engine, SEVERITY_WARNING, r->task_id, "%s killed after %gs ([notify] hook_timeout)", who, h->timeout);
	else if (WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0)
		engine_log(h->engine, SEVERITY_WARNING, r->task_id, "%s failed: exit status %d", who, WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		engine_log(h->engine, SEVERITY_WARNING, r->task_id, "%s failed: killed by signal %d", who, WTERMSIG(r->status));
	/* What it printed, a line at a time, so the log shows why. */
	char *save = NULL, *copy = xstrdup(buf_str(&r->output));
	int n = 0;

	for (char *line = strtok_r(copy, "\n", &save); line && n < OUTPUT_LINES; line = strtok_r(NULL, "\n", &save), n++)
		engine_log(h->engine, SEVERITY_INFO, r->task_id, "%s: %s", who, line);
	free(copy);
	for (struct hook_run **pp = &h->active; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	ev_timer_stop(h->loop, &r->timer);
	h->running--;
	run_free(r);
	start_next(h);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct hook_run *r = w->data;

	ev_child_stop(loop, w);
	r->status = w->rstatus;
	r->exited = true;
	finish(r);
}

static void output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hook_run *r = w->data;
	char buf[4096];
	ssize_t n = read(r->out_fd, buf, sizeof buf);

	if (n > 0) {
		if (r->output.len < OUTPUT_MAX)
			buf_add(&r->output, buf, (size_t)n < OUTPUT_MAX - r->output.len ? (size_t)n : OUTPUT_MAX - r->output.len);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* End of output: every process of the group has closed it. */
	ev_io_stop(loop, w);
	close(r->out_fd);
	r->out_fd = -1;
	r->eof = true;
	finish(r);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hook_run *r = w->data;

	/* The whole group: sh -c 'sleep 1000' leaves sleep holding the output open otherwise. */
	r->killed = true;
	kill(-r->pid, SIGKILL);
}

static bool spawn(struct hook_run *r, const char *command, char **why)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	char sh[] = "/bin/sh", dash_c[] = "-c";
	char *const argv[] = {sh, dash_c, (char *)command, NULL};
	int rc;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		*why = xasprintf("cannot make a pipe: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
			if (out[i] >= 0)
				close(out[i]);
		}
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	/* A hook inherits nothing of simq's but these three: no socket to PLECS or a client, no database. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	/* Its own process group (to kill it whole), no blocked signals, and SIGPIPE & co. as a shell expects. */
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&r->pid, "/bin/sh", &fa, &attr, argv, r->env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		*why = xasprintf("cannot start /bin/sh: %s", strerror(rc));
		close(in[1]);
		close(out[0]);
		return false;
	}
	/* The event as JSON on stdin, at once: it is small, and a hook that does not read it loses nothing else. */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (write(in[1], r->json, strlen(r->json)) < 0 && errno != EPIPE && errno != EAGAIN)
		engine_log(r->h->engine, SEVERITY_WARNING, r->task_id, "hook on_%s: cannot write its stdin: %s", r->event, strerror(errno));
	close(in[1]);
	r->out_fd = out[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	return true;
}

static void start_next(struct hooks *h)
{
	while (h->waiting && h->running < h->max_running) {
		struct hook_run *r = h->waiting;
		char *why = NULL, key[64];

		h->waiting = r->next;
		if (h->waiting == NULL)
			h->waiting_tail = NULL;
		snprintf(key, sizeof key, "on_%s", r->event);
		if (!spawn(r, config_str(h->cfg, "notify", key), &why)) {
			engine_log(h->engine, SEVERITY_WARNING, r->task_id, "hook on_%s: %s", r->event, why);
			free(why);
			run_free(r);
			continue;
		}
		h->running++;
		r->next = h->active;
		h->active = r;
		ev_child_init(&r->child, child_cb, r->pid, 0);
		r->child.data = r;
		ev_child_start(h->loop, &r->child);
		ev_io_init(&r->out, output_cb, r->out_fd, EV_READ);
		r->out.data = r;
		ev_io_start(h->loop, &r->out);
		ev_timer_init(&r->timer, timeout_cb, h->timeout, 0);
		r->timer.data = r;
		ev_timer_start(h->loop, &r->timer);
	}
}

/* The parent's environment without SIMQ_* (a hook sees only this event's), then the event's. */
static char **hook_env(const char *const *add, size_t nadd)
{
	size_t n = 0, k = 0;

	while (environ[n])
		n++;
	char **env = xcalloc(n + nadd + 1, sizeof *env);

	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SIMQ_", 5) != 0)
			env[k++] = xstrdup(environ[i]);
	for (size_t i = 0; i < nadd; i++)
		env[k++] = xstrdup(add[i]);
	env[k] = NULL;
	return env;
}

static void on_event(const struct event *ev, void *ud)
{
	struct hooks *h = ud;
	const char *name = event_type_name(ev->type);
	char key[64];
	const char *result = ev->result_path;

	snprintf(key, sizeof key, "on_%s", name);
	if (option_find("notify", key) == NULL || config_str(h->cfg, "notify", key)[0] == '\0')
		return;
	const char *priority = ev->task_id ? task_priority_name(ev->priority) : "";
	const char *state = ev->task_id ? task_state_name(ev->state) : "";
	char id[32], attempt[32];

	snprintf(id, sizeof id, "%lld", (long long)ev->task_id);
	snprintf(attempt, sizeof attempt, "%d", ev->attempt);
	char *add[] = {
	    xasprintf("SIMQ_EVENT=%s", name),
	    xasprintf("SIMQ_TASK_ID=%s", ev->task_id ? id : ""),
	    xasprintf("SIMQ_TASK_NAME=%s", ev->task_name ? ev->task_name : ""),
	    xasprintf("SIMQ_MODEL=%s", ev->model ? ev->model : ""),
	    xasprintf("SIMQ_PRIORITY=%s", priority),
	    xasprintf("SIMQ_STATE=%s", state),
	    xasprintf("SIMQ_ATTEMPT=%s", ev->attempt ? attempt : ""),
	    xasprintf("SIMQ_ERROR=%s", ev->error ? ev->error : ""),
	    xasprintf("SIMQ_RESULT=%s", result ? result : ""),
	    xasprintf("SIMQ_BACKEND=%s", ev->backend ? ev->backend : ""),
	    xasprintf("SIMQ_DETAIL=%s", ev->detail ? ev->detail : ""),
	    xasprintf("SIMQ_CACHED=%s", ev->type != EVENT_COMPLETED ? "" : ev->source ? "1" : "0"),
	};
	json_t *j = json_pack("{s:s, s:I, s:s?, s:s?, s:s, s:s, s:i, s:s?, s:s?, s:s?, s:s?, s:I}", "event", name,
			      "task_id", (json_int_t)ev->task_id, "task_name", ev->task_name, "model", ev->model, "priority",
			      priority, "state", state, "attempt", ev->attempt, "error", ev->error, "result", result,
			      "backend", ev->backend, "detail", ev->detail, "time_ms", (json_int_t)ev->time);

	/* A completion from the cache is a completion like any other, that says so. */
	if (j && ev->type == EVENT_COMPLETED)
		json_object_update_new(j, json_pack("{s:b, s:I}", "cached", ev->source != 0, "source", (json_int_t)ev->source));
	struct hook_run *r = xcalloc(1, sizeof *r);

	r->h = h;
	r->event = xstrdup(name);
	r->task_id = ev->task_id;
	r->env = hook_env((const char *const *)add, sizeof add / sizeof add[0]);
	r->json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (r->json == NULL)
		r->json = xstrdup("{}");
	r->out_fd = -1;
	json_decref(j);
	for (size_t i = 0; i < sizeof add / sizeof add[0]; i++)
		free(add[i]);
	if (h->waiting_tail)
		h->waiting_tail->next = r;
	else
		h->waiting = r;
	h->waiting_tail = r;
	start_next(h);
}

struct hooks *hooks_new(struct ev_loop *loop, const struct config *cfg, struct engine *e)
{
	bool any = false;

	for (int t = 0; t < EVENT_TYPE_COUNT && !any; t++) {
		char key[64];

		snprintf(key, sizeof key, "on_%s", event_type_name((enum event_type)t));
		any = option_find("notify", key) && config_str(cfg, "notify", key)[0] != '\0';
	}
	if (!any)
		return NULL;
	struct hooks *h = xcalloc(1, sizeof *h);

	h->loop = loop;
	h->cfg = cfg;
	h->engine = e;
	h->timeout = config_double(cfg, "notify", "hook_timeout");
	h->max_running = (int)config_int(cfg, "notify", "hook_max_running");
	h->handle = events_subscribe(engine_bus(e), on_event, h);
	return h;
}

void hooks_free(struct hooks **hp)
{
	struct hooks *h = *hp;

	if (h == NULL)
		return;
	events_unsubscribe(engine_bus(h->engine), h->handle);
	while (h->waiting) {
		struct hook_run *r = h->waiting;

		h->waiting = r->next;
		run_free(r);
	}
	while (h->active) {
		struct hook_run *r = h->active;

		h->active = r->next;
		kill(-r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		ev_child_stop(h->loop, &r->child);
		ev_io_stop(h->loop, &r->out);
		ev_timer_stop(h->loop, &r->timer);
		if (r->out_fd >= 0)
			close(r->out_fd);
		run_free(r);
	}
	free(h);
	*hp = NULL;
}
