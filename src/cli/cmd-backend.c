/* simq backend add|remove|ls: the backends while the server runs, and the pools' instances. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "client/reply.h"
#include "util/time.h"

static const struct option backend_longopts[] = {
    {"slots", required_argument, NULL, 's'},
    {"max-batch", required_argument, NULL, 'b'},
    {NULL, 0, NULL, 0},
};

struct sizes {
	int slots, max_batch; /* 0: the server's default */
};

static int size_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct sizes *s = ud;
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end != '\0' || end == arg || v < 1 || v > 1000)
		return cli_usage_error(x->cmd, "--%s %s: allowed: a whole number (slots 1 to 64, max-batch 1 to 1000)",
		                       opt == 's' ? "slots" : "max-batch", arg);
	if (opt == 's')
		s->slots = (int)v;
	else
		s->max_batch = (int)v;
	return -1;
}

static int add(struct cli_ctx *x, const char *name, const char *url, const struct sizes *s)
{
	xmlrpc_env env;
	xmlrpc_value *opts, *r = NULL;
	int status;

	xmlrpc_env_init(&env);
	opts = xmlrpc_struct_new(&env);
	if (s->slots)
		xmlrpc_struct_set_value(&env, opts, "slots", xmlrpc_int_new(&env, s->slots));
	if (s->max_batch)
		xmlrpc_struct_set_value(&env, opts, "max_batch", xmlrpc_int_new(&env, s->max_batch));
	xmlrpc_env_clean(&env);
	status = cli_call(x, "simq.backend_add", &r, "(ssS)", name, url, opts);
	xmlrpc_DECREF(opts);
	if (status == CLI_EXIT_OK) {
		if (x->json)
			cli_print_json(r);
		else if (reply_int(r, "added", 0))
			printf("backend %s added at %s\n", name, url);
		else
			printf("backend %s is at %s already\n", name, url);
		xmlrpc_DECREF(r);
	}
	return status;
}

static int remove_one(struct cli_ctx *x, const char *name)
{
	xmlrpc_value *r = NULL;
	int status = cli_call(x, "simq.backend_remove", &r, "(s)", name);

	if (status == CLI_EXIT_OK) {
		if (x->json)
			cli_print_json(r);
		else
			printf("backend %s removed; calls in flight finish first\n", name);
		xmlrpc_DECREF(r);
	}
	return status;
}

/* "UP", "DOWN", "CHECKING", "PAUSED". */
static const char *state_word(xmlrpc_value *b)
{
	if (reply_int(b, "checking", 0))
		return "CHECKING";
	if (!reply_int(b, "up", 0))
		return "DOWN";
	return reply_int(b, "paused", 0) ? "PAUSED" : "UP";
}

static void print_list(xmlrpc_value *r)
{
	xmlrpc_value *list = reply_member(r, "backends"), *inst = reply_member(r, "pool_instances");
	char name[128], url[512], job[64], pool[64], state[32], node[128], age[32];
	int shown = 0;

	printf("%-20s %-9s %-6s %-12s %s\n", "NAME", "STATE", "BUSY", "JOB", "URL");
	for (int i = 0; i < reply_count(list); i++) {
		xmlrpc_value *b = reply_item(list, i);

		reply_str(b, "job", job, sizeof job);
		printf("%-20s %-9s %lld/%-4lld %-12s %s\n", reply_str(b, "name", name, sizeof name), state_word(b),
		       (long long)reply_int(b, "busy", 0), (long long)reply_int(b, "slots", 0), job[0] ? job : "-",
		       reply_str(b, "url", url, sizeof url));
	}
	/* The pools' jobs that are not backends (yet, or any more). */
	for (int i = 0; i < reply_count(inst); i++) {
		xmlrpc_value *p = reply_item(inst, i);

		if (strcmp(reply_str(p, "state", state, sizeof state), "registered") == 0)
			continue;
		if (shown++ == 0)
			printf("\n%-12s %-12s %-11s %-8s %s\n", "POOL", "JOB", "STATE", "FOR", "NODE");
		reply_str(p, "node", node, sizeof node);
		printf("%-12s %-12s %-11s %-8s %s\n", reply_str(p, "pool", pool, sizeof pool),
		       reply_str(p, "job", job, sizeof job)[0] ? job : "-", state,
		       time_format_duration(age, sizeof age, reply_num(p, "age", 0)), node[0] ? node : "-");
	}
}

static int list(struct cli_ctx *x)
{
	xmlrpc_value *r = NULL;
	int status = cli_call(x, "simq.backends", &r, "()");

	if (status == CLI_EXIT_OK) {
		if (x->json)
			cli_print_json(r);
		else
			print_list(r);
		xmlrpc_DECREF(r);
	}
	return status;
}

static int run_backend(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_backend};
	struct sizes s = {0};
	int status = cli_parse_options(&x, argc, argv, size_option, &s);
	const char *verb = optind < argc ? argv[optind] : NULL;
	int n = argc - optind;

	if (status >= 0)
		return status;
	if (verb == NULL)
		status = cli_usage_error(x.cmd, "say what to do: add NAME URL, remove NAME or ls");
	else if (strcmp(verb, "add") != 0 && (s.slots || s.max_batch))
		status = cli_usage_error(x.cmd, "--slots and --max-batch go with add only");
	else if (strcmp(verb, "add") == 0 && n != 3)
		status = cli_usage_error(x.cmd, "add takes a NAME and a URL, e.g. add ws2 http://ws2:1080/RPC2");
	else if (strcmp(verb, "remove") == 0 && n != 2)
		status = cli_usage_error(x.cmd, "remove takes one backend NAME");
	else if (strcmp(verb, "ls") == 0 && n != 1)
		status = cli_usage_error(x.cmd, "ls takes no arguments");
	else if (strcmp(verb, "add") == 0)
		status = add(&x, argv[optind + 1], argv[optind + 2], &s);
	else if (strcmp(verb, "remove") == 0)
		status = remove_one(&x, argv[optind + 1]);
	else if (strcmp(verb, "ls") == 0)
		status = list(&x);
	else
		status = cli_usage_error(x.cmd, "no \"%s\"; allowed: add, remove, ls", verb);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_backend = {
    .name = "backend",
    .usage = "simq backend add NAME URL [--slots N] [--max-batch N] | remove NAME | ls",
    .summary = "add or remove a PLECS backend while the server runs; list backends and pool jobs",
    .help = "add: the server asks the backend whether it answers, then sends it work; the same NAME at the\n"
            "same URL again changes nothing (a job script may register twice). A NAME in use at another URL is\n"
            "refused. remove: nothing new goes to it; its calls in flight finish. ls: every backend with its\n"
            "state, busy and total slots, and the Slurm job of a [pool NAME] instance; then the pools' jobs that\n"
            "are not backends (pending, started, released). Backends added here are not in simq.ini: a\n"
            "restarted server does not have them (a pool's instances it adopts again).",
    .run = run_backend,
    .shortopts = "",
    .longopts = backend_longopts,
    .common = true,
};
