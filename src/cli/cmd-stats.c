/* simq stats, pause, resume, shutdown: the server as a whole. */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common.h"
#include "client/reply.h"
#include "ui/text.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/time.h"

/* How long simq shutdown waits for the server's process to end. */
#define SHUTDOWN_WAIT_S 60

static double number(xmlrpc_value *s, const char *key)
{
	char buf[64];

	return atof(reply_text(s, key, buf, sizeof buf));
}

static void percent(const char *label, double v)
{
	char text[32];

	printf("%-22s %s\n", label, text_percent(text, sizeof text, v));
}

/* Dispatch held: by the operator, or by simq itself with its reason (a full disk). */
static void print_paused(xmlrpc_value *s)
{
	char why[1024];

	if (reply_int(s, "paused", 0) == 0)
		return;
	reply_str(s, "pause_reason", why, sizeof why);
	printf("%-22s %s\n", "dispatch", why[0] ? why : "paused (simq resume starts it)");
}

static int run_stats(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_stats};
	xmlrpc_value *s = NULL;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL);

	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0)
		return status;
	status = cli_call(&x, "simq.stats", &s, "()");
	if (status == CLI_EXIT_OK) {
		if (x.json) {
			cli_print_json(s);
		} else {
			printf("%-22s %.0f\n", "queued", number(s, "queued"));
			printf("%-22s %.0f\n", "running", number(s, "running"));
			printf("%-22s %.0f first try, %.0f after retry\n", "completed", number(s, "completed_first"),
			       number(s, "completed_retry"));
			printf("%-22s %.0f completed from the cache, no PLECS call\n", "cached", number(s, "cached"));
			printf("%-22s %.0f\n", "failed", number(s, "failed"));
			printf("%-22s %.0f\n", "cancelled", number(s, "cancelled"));
			percent("success rate", number(s, "success_rate"));
			percent("retry effectiveness", number(s, "retry_effectiveness"));
			if (number(s, "avg_retries_per_failed") < 0)
				printf("%-22s -\n", "retries per failed");
			else
				printf("%-22s %.1f\n", "retries per failed", number(s, "avg_retries_per_failed"));
			printf("(all time; --json has since-start and 24 h too)\n");
			print_paused(s);
		}
		xmlrpc_DECREF(s);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_stats = {
	.name = "stats",
	.usage = "simq stats [--json]",
	.summary = "success rate, retries and counts",
	.help = "completed: first try, or after one or more retries. success rate = completed / (completed +\n"
		"failed); cancelled tasks count in neither. retry effectiveness = completed after a retry / (that +\n"
		"failed after a transient error): how often a retry saved a task. retries per failed = retries /\n"
		"tasks that had at least one failed attempt. \"-\" while a figure is undefined (nothing finished yet).",
	.run = run_stats,
	.common = true,
};

/* What is paused before a pause or a resume, so that it can say what it changed. */
struct paused_before {
	bool dispatch, backend; /* all of dispatch; the backend named */
	struct buf backends;    /* every paused backend's name, "a, b" */
};

static void read_paused(struct cli_ctx *x, const char *backend, struct paused_before *p)
{
	xmlrpc_value *r = NULL, *list;
	char name[128];

	*p = (struct paused_before){.backends = BUF_INIT};
	if (cli_call(x, "simq.status", &r, "()") != CLI_EXIT_OK)
		return;
	p->dispatch = reply_int(r, "paused", 0) != 0;
	list = reply_member(r, "backends");
	for (int i = 0; i < reply_count(list); i++) {
		xmlrpc_value *b = reply_item(list, i);

		if (!reply_int(b, "paused", 0))
			continue;
		reply_str(b, "name", name, sizeof name);
		buf_addf(&p->backends, "%s%s", p->backends.len ? ", " : "", name);
		p->backend = p->backend || (backend && strcmp(name, backend) == 0);
	}
	xmlrpc_DECREF(r);
}

/* simq pause [BACKEND] and simq resume [BACKEND]: the call, and *now (dispatch paused after it, for a resume of all). */
static int pause_call(struct cli_ctx *x, int argc, char **argv, const char *method, struct paused_before *before,
		      xmlrpc_bool *now)
{
	xmlrpc_value *r = NULL;
	int status = cli_parse_options(x, argc, argv, NULL, NULL);
	xmlrpc_env env;

	*before = (struct paused_before){.backends = BUF_INIT};
	*now = false;
	if (status < 0 && argc - optind > 1)
		status = cli_usage_error(x->cmd, "unexpected argument \"%s\"", argv[argc - 1]);
	if (status >= 0)
		return status;
	read_paused(x, optind < argc ? argv[optind] : NULL, before);
	status = optind < argc ? cli_call(x, method, &r, "(s)", argv[optind]) : cli_call(x, method, &r, "()");
	if (status == CLI_EXIT_OK) {
		xmlrpc_env_init(&env);
		if (optind >= argc)
			xmlrpc_read_bool(&env, r, now);
		xmlrpc_env_clean(&env);
		xmlrpc_DECREF(r);
	}
	return status;
}

/* Dispatch paused, all of it or one backend's: said on stdout, with whether it was already. */
static int run_pause(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_pause};
	struct paused_before before;
	xmlrpc_bool now;
	int status = pause_call(&x, argc, argv, "simq.pause", &before, &now);
	const char *name = optind < argc ? argv[optind] : NULL;

	if (status == CLI_EXIT_OK && name)
		printf(before.backend ? "backend %s was paused already (simq resume %s)\n"
		                      : "backend %s paused: its running calls finish, nothing new goes to it (simq resume %s)\n",
		       name, name);
	else if (status == CLI_EXIT_OK)
		printf("%s\n", before.dispatch ? "dispatch was paused already (simq resume)"
		                               : "paused: running calls finish, nothing new starts (simq resume)");
	buf_free(&before.backends);
	cli_done(&x);
	return status;
}

/*
 * Dispatch resumed, and what that changed; or, for all of it, paused again at once by simq (a store that
 * still cannot save): said, exit 1.  A backend resumed while all dispatch stays paused is said so.
 */
static int run_resume(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_resume};
	struct paused_before before;
	xmlrpc_value *s = NULL;
	xmlrpc_bool paused;
	int status = pause_call(&x, argc, argv, "simq.resume", &before, &paused);
	const char *name = optind < argc ? argv[optind] : NULL;

	if (status == CLI_EXIT_OK && name) {
		printf(before.backend ? "backend %s resumed" : "backend %s was not paused", name);
		printf("%s\n", before.dispatch ? "; all dispatch is still paused: simq resume starts it" : "");
	} else if (status == CLI_EXIT_OK && !paused) {
		if (!before.dispatch && before.backends.len == 0)
			printf("nothing was paused: dispatch goes on\n");
		else if (before.backends.len)
			printf("resumed: dispatch goes on (backend%s %s resumed too)\n",
			       strchr(buf_str(&before.backends), ',') ? "s" : "", buf_str(&before.backends));
		else
			printf("resumed: dispatch goes on\n");
	}
	if (status == CLI_EXIT_OK && paused && cli_call(&x, "simq.stats", &s, "()") == CLI_EXIT_OK) {
		char why[1024];

		fprintf(stderr, "simq resume: dispatch is paused again at once: %s\n",
			reply_str(s, "pause_reason", why, sizeof why)[0] ? why : "(no reason given)");
		xmlrpc_DECREF(s);
		status = CLI_EXIT_TASK_FAILED;
	}
	buf_free(&before.backends);
	cli_done(&x);
	return status;
}

/* The pid in the state dir's simq.pid, or 0. */
static pid_t server_pid(const char *state_dir)
{
	char *path = paths_join(state_dir, "simq.pid"), buf[32] = "";
	FILE *f = fopen(path, "re");

	free(path);
	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	return (pid_t)atol(buf);
}

/* Alive and not a zombie waiting for its parent (a test's shell) to reap it. */
static bool alive(pid_t pid)
{
	char path[64], stat[256] = "";
	FILE *f;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return true;
	if (fgets(stat, sizeof stat, f) == NULL)
		stat[0] = '\0';
	fclose(f);
	const char *state = strrchr(stat, ')');

	return !(state && state[1] == ' ' && state[2] == 'Z');
}

enum { OPT_FORCE = 0x700 };

static int shutdown_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	(void)x;
	(void)arg;
	if (opt != OPT_FORCE)
		return CLI_EXIT_USAGE;
	*(bool *)ud = true;
	return -1;
}

/*
 * Asks the server to stop, then waits until its process has ended, so that what comes next
 * (a new server, a copy of the state dir) does not meet the old one on its way out.
 */
static int run_shutdown(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_shutdown};
	xmlrpc_value *r = NULL;
	bool force = false;
	int status = cli_parse_options(&x, argc, argv, shutdown_option, &force);
	pid_t pid;

	if (status < 0 && optind < argc)
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[optind]);
	if (status >= 0)
		return status;
	x.client.no_start = true;
	x.conn = client_new(&x.client);
	pid = server_pid(client_state_dir(x.conn));
	status = force ? cli_call(&x, "simq.shutdown", &r, "(b)", (xmlrpc_bool)1) : cli_call(&x, "simq.shutdown", &r, "()");
	if (status == CLI_EXIT_OK) {
		int64_t give_up = time_mono_ns() + (int64_t)SHUTDOWN_WAIT_S * 1000000000;

		xmlrpc_DECREF(r);
		while (pid > 0 && alive(pid) && time_mono_ns() < give_up)
			usleep(10000);
		if (pid > 0 && alive(pid)) {
			fprintf(stderr, "simq shutdown: the server (pid %ld) was asked to stop and still runs after %d s\n",
				(long)pid, SHUTDOWN_WAIT_S);
			status = CLI_EXIT_UNAVAILABLE;
		}
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_pause = {
	.name = "pause",
	.usage = "simq pause [BACKEND]",
	.summary = "start nothing new (running calls finish)",
	.run = run_pause,
	.common = true,
	.operands = CLI_OPERANDS_BACKEND,
};

const struct cli_command cli_cmd_resume = {
	.name = "resume",
	.usage = "simq resume [BACKEND]",
	.summary = "dispatch again after pause",
	.help = "With no BACKEND, every paused backend resumes too. When simq paused dispatch itself because the\n"
		"task database cannot save (a full disk) and it still cannot, dispatch is paused again at once:\n"
		"simq resume says why and exits 1. That pause lifts itself once the database saves again.",
	.run = run_resume,
	.common = true,
	.operands = CLI_OPERANDS_BACKEND,
};

static const struct option shutdown_longopts[] = {{"force", no_argument, NULL, OPT_FORCE}, {NULL, 0, NULL, 0}};

const struct cli_command cli_cmd_shutdown = {
	.name = "shutdown",
	.usage = "simq shutdown [--force]",
	.summary = "stop the server and wait until it has exited; queued tasks stay queued for the next one",
	.help = "While changes wait in memory because the task database cannot save them (a full disk), the\n"
		"server refuses to stop and says why: stopping would lose them, and PLECS would run those tasks\n"
		"again at the next start. Make room (they are saved within seconds), or stop anyway with --force.",
	.run = run_shutdown,
	.longopts = shutdown_longopts,
	.common = true,
};
