/*
 * simq tmux: a tmux session made for the night — the console, a pane
 * following the log and a shell, laid out as [ui] tmux_layout says.
 *
 * Outside tmux it attaches to the session (simq unless -s), creating it
 * first when there is none; inside tmux it opens a window in the current
 * session rather than nesting one.  -j jumps to a console already running
 * on the tmux server (share/tmux/simq.conf binds it to a key).  Everything
 * is done by running tmux with one command sequence, so nothing is left
 * half made when one command fails.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/common.h"
#include "config/config.h"
#include "util/paths.h"
#include "util/xalloc.h"

/* "%console" and "%log" in a layout's steps stand for those commands' words; ";" ends a tmux command. */
struct tmux_layout {
	const char *name;
	const char *const *steps; /* after the console's window exists and is the current one; NULL-terminated */
};

static const char *const stacked[] = {"split-window", "-v", "-l", "30%", "%log", ";", "split-window", "-h", ";",
				      "select-pane", "-t", "{top-left}", NULL};
static const char *const side[] = {"split-window", "-h", "-l", "40%", "%log", ";", "split-window", "-v", ";",
				   "select-pane", "-t", "{top-left}", NULL};
static const char *const windows[] = {"new-window", "-d", "-n", "simq-log", "%log", ";",
				      "new-window", "-d", "-n", "simq-shell", NULL};

/* The choices of [ui] tmux_layout (config/options.c lists the same names). */
static const struct tmux_layout layouts[] = {
	{"stacked", stacked},
	{"side", side},
	{"windows", windows},
};

struct tmux_options {
	const char *socket_name, *socket_path; /* tmux -L, -S */
	const char *session;
	bool detached, jump;
};

/* A growing argv for tmux. */
struct args {
	char **v;
	size_t n;
};

static void add(struct args *a, const char *word)
{
	a->v = xreallocarray(a->v, a->n + 2, sizeof *a->v);
	a->v[a->n++] = xstrdup(word);
	a->v[a->n] = NULL;
}

static void add_all(struct args *a, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		add(a, words[i]);
}

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* tmux with the socket options: the start of every command line run here. */
static void add_tmux(struct args *a, const struct tmux_options *o)
{
	add(a, "tmux");
	if (o->socket_name) {
		add(a, "-L");
		add(a, o->socket_name);
	}
	if (o->socket_path) {
		add(a, "-S");
		add(a, o->socket_path);
	}
}

static const struct option tmux_longopts[] = {
	{"detached", no_argument, NULL, 'd'},
	{"jump", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};

static int tmux_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct tmux_options *o = ud;

	switch (opt) {
	case 'L':
		o->socket_name = arg;
		return -1;
	case 'S':
		o->socket_path = arg;
		return -1;
	case 's':
		o->session = arg;
		return -1;
	case 'd':
		o->detached = true;
		return -1;
	case 'j':
		o->jump = true;
		return -1;
	default:
		return cli_usage_error(x->cmd, "unknown option");
	}
}

/* Runs tmux with argv a, its output into out (may be NULL: dropped); its exit status, or -1. */
static int run_tmux(const struct args *a, char *out, size_t size)
{
	int fds[2], status;
	pid_t pid;
	size_t got = 0;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		close(fds[0]);
		close(fds[1]);
		execvp(a->v[0], a->v);
		_exit(127);
	}
	close(fds[1]);
	for (ssize_t n; out && got + 1 < size && (n = read(fds[0], out + got, size - got - 1)) > 0;)
		got += (size_t)n;
	if (out)
		out[got] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The words that run simq COMMAND [ARG] for this state dir and configuration, by simq's own path. */
static const char **simq_words(const char *self, const char *command, const char *arg, const char *state_dir,
			       const char *config_path)
{
	const char **w = xcalloc(8, sizeof *w);
	size_t n = 0;

	w[n++] = self;
	w[n++] = command;
	if (arg)
		w[n++] = arg;
	w[n++] = "--home";
	w[n++] = state_dir;
	if (config_path) {
		w[n++] = "-c";
		w[n++] = config_path;
	}
	return w;
}

/* Adds the layout's steps, with the log command's words for "%log". */
static void add_steps(struct args *a, const struct tmux_layout *l, const char *const *log)
{
	for (size_t i = 0; l->steps[i]; i++) {
		if (strcmp(l->steps[i], "%log") == 0)
			add_all(a, log);
		else
			add(a, l->steps[i]);
	}
}

/* A console already running on this tmux server: its pane id (%12) in id, or false. */
static bool find_console(const struct tmux_options *o, char *id, size_t size)
{
	struct args a = {0};
	char out[16384];
	bool found = false;

	add_tmux(&a, o);
	add_all(&a, (const char *const[]){"list-panes", "-a", "-F", "#{pane_id} #{pane_current_command} #{pane_title}", NULL});
	if (run_tmux(&a, out, sizeof out) == 0) {
		/* The console names its pane "simq ..." (the summary line); simq log -f runs simq too, titled otherwise. */
		for (char *line = strtok(out, "\n"); line && !found; line = strtok(NULL, "\n")) {
			char pane[32], command[64];
			int used = 0;

			if (sscanf(line, "%31s %63s %n", pane, command, &used) == 2 && strcmp(command, "simq") == 0 &&
			    strncmp(line + used, "simq ", 5) == 0) {
				snprintf(id, size, "%s", pane);
				found = true;
			}
		}
	}
	args_free(&a);
	return found;
}

/* The tmux command line that opens (or reaches) the console; false when there is nothing to do. */
static bool build(struct args *a, const struct tmux_options *o, const struct tmux_layout *l, const char *const *console,
		  const char *const *log, bool inside)
{
	struct args probe = {0};
	char session[128];

	snprintf(session, sizeof session, "=%s", o->session);
	add_tmux(a, o);
	if (inside) {
		/* In tmux already: a window in the current session, never a session inside a pane. */
		add_all(a, (const char *const[]){"new-window", "-n", "simq", NULL});
		if (o->detached)
			add(a, "-d");
		add_all(a, console);
		add(a, ";");
		add_steps(a, l, log);
		return true;
	}
	add_tmux(&probe, o);
	add_all(&probe, (const char *const[]){"has-session", "-t", session, NULL});
	bool exists = run_tmux(&probe, NULL, 0) == 0;

	args_free(&probe);
	if (!exists) {
		struct winsize ws;

		add_all(a, (const char *const[]){"new-session", "-d", "-s", o->session, "-n", "simq", NULL});
		/* Laid out at the size it will be seen at, when there is a terminal to ask. */
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
			char cols[16], rows[16];

			snprintf(cols, sizeof cols, "%u", ws.ws_col);
			snprintf(rows, sizeof rows, "%u", ws.ws_row);
			add_all(a, (const char *const[]){"-x", cols, "-y", rows, NULL});
		}
		add_all(a, console);
		add(a, ";");
		add_steps(a, l, log);
	} else if (o->detached) {
		fprintf(stderr, "simq tmux: the session %s is there already\n", o->session);
		return false;
	}
	if (!o->detached) {
		if (!exists)
			add(a, ";");
		add_all(a, (const char *const[]){"attach-session", "-t", session, NULL});
	}
	return true;
}

static const struct tmux_layout *layout_of(const struct config *cfg)
{
	const char *name = config_str(cfg, "ui", "tmux_layout");

	for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
		if (strcmp(layouts[i].name, name) == 0)
			return &layouts[i];
	return &layouts[0];
}

static int run_tmux_cmd(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_tmux};
	struct tmux_options o = {.session = "simq"};
	struct args a = {0};
	char self[4096], pane[32];
	int status = cli_parse_options(&x, argc, argv, tmux_option, &o);
	const char *tmux_env = getenv("TMUX");
	bool inside = tmux_env && *tmux_env && !o.socket_name && !o.socket_path;

	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0)
		return status;
	if (!inside && !o.detached && !isatty(STDIN_FILENO))
		return cli_usage_error(x.cmd, "attaching needs a terminal; -d makes the session without attaching");
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n <= 0) {
		fprintf(stderr, "simq tmux: cannot find the simq program: %s\n", strerror(errno));
		return CLI_EXIT_SOFTWARE;
	}
	self[n] = '\0';
	if (o.jump && find_console(&o, pane, sizeof pane)) {
		add_tmux(&a, &o);
		add_all(&a, (const char *const[]){inside ? "switch-client" : "attach-session", "-t", pane, NULL});
	} else {
		struct config *cfg = cli_load_config(&x.client);

		if (cfg == NULL)
			return CLI_EXIT_CONFIG;
		/* The panes run in tmux's environment, not this one: they are told the state dir and config. */
		x.conn = client_new(&x.client);
		const char **console = simq_words(self, "console", NULL, client_state_dir(x.conn), x.client.config_path);
		const char **log = simq_words(self, "log", "-f", client_state_dir(x.conn), x.client.config_path);
		bool to_run = build(&a, &o, layout_of(cfg), console, log, inside);

		free(console);
		free(log);
		config_free(&cfg);
		if (!to_run) {
			args_free(&a);
			cli_done(&x);
			return CLI_EXIT_OK;
		}
	}
	fflush(NULL);
	execvp(a.v[0], a.v);
	fprintf(stderr, "simq tmux: cannot run tmux: %s\n", strerror(errno));
	args_free(&a);
	cli_done(&x);
	return CLI_EXIT_UNAVAILABLE;
}

const struct cli_command cli_cmd_tmux = {
    .name = "tmux",
    .usage = "simq tmux [-d|--detached] [-j|--jump] [-s SESSION] [-L SOCKET | -S PATH] [--home DIR] [-c|--config FILE]",
    .summary = "open a tmux session with the console, the log and a shell (inside tmux: a window)",
    .help = "Outside tmux, attaches to the session simq (or SESSION), creating it first when there is none:\n"
            "the console, a pane following simq log -f, and a shell, as [ui] tmux_layout lays them out\n"
            "(stacked, side or windows).  Inside tmux it opens that as a new window of the current session\n"
            "instead of nesting.\n"
            "\n"
            "  -d         create the session (or window) and do not attach to it (or switch to it)\n"
            "  -j         go to a console already running on this tmux server; else open one as above\n"
            "  -s NAME    the session's name (default simq)\n"
            "  -L, -S     tmux's own: the socket name or path of the tmux server\n"
            "\n"
            "share/tmux/simq.conf binds prefix + S to simq tmux -j.",
    .run = run_tmux_cmd,
    .shortopts = "L:S:s:dj",
    .longopts = tmux_longopts,
    .common = true,
};
