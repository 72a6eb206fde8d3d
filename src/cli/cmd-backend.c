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
    {"job", required_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

struct sizes {
	int slots, max_batch; /* 0: the server's default */
	const char *job;      /* --job: the Slurm job registering its own pool instance, or NULL */
};

static int size_option(struct cli_ctx *x, int opt, const char *arg, void *ud)
{
	struct sizes *s = ud;
	char *end;
	long v = strtol(arg, &end, 10);

	if (opt == 'j') {
		if (arg[0] == '\0' || strspn(arg, "0123456789") != strlen(arg))
			return cli_usage_error(x->cmd, "--job %s: allowed: a Slurm job id (digits)", arg);
		s->job = arg;
		return -1;
	}
	if (*end != '\0' || end == arg || v < 1 || v > 1000)
		return cli_usage_error(x->cmd, "--%s %s: allowed: a whole number (slots 1 to 64, max-batch 1 to 1000)",
		                       opt == 's' ? "slots" : "max-batch", arg);
	if (opt == 's')
		s->slots = (int)v;
	else
		s->max_batch = (int)v;
	return -1;
}

/* Sets key of st to v, which it then holds alone. */
static void set_member(xmlrpc_env *env, xmlrpc_value *st, const char *key, xmlrpc_value *v)
{
	xmlrpc_struct_set_value(env, st, key, v);
	xmlrpc_DECREF(v);
}

static int add(struct cli_ctx *x, const char *name, const char *url, const struct sizes *s)
{
	xmlrpc_env env;
	xmlrpc_value *opts, *r = NULL;
	int status;

	xmlrpc_env_init(&env);
	opts = xmlrpc_struct_new(&env);
	if (s->slots)
		set_member(&env, opts, "slots", xmlrpc_int_new(&env, s->slots));
	if (s->max_batch)
		set_member(&env, opts, "max_batch", xmlrpc_int_new(&env, s->max_batch));
	if (s->job)
		set_member(&env, opts, "job", xmlrpc_string_new(&env, s->job));
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

static int remove_one(struct cli_ctx *x, const char *name, const char *job)
{
	xmlrpc_value *r = NULL;
	int status = job ? cli_call(x, "simq.backend_remove", &r, "(s{s:s})", name, "job", job)
	                 : cli_call(x, "simq.backend_remove", &r, "(s)", name);

	if (status == CLI_EXIT_OK) {
		if (x->json)
			cli_print_json(r);
		else
			printf("backend %s removed; calls in flight finish first%s\n", name,
			       reply_int(r, "job_cancelled", 0) ? "; its Slurm job is cancelled" : "");
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

/* A pool that is not well: "pool cluster FAILING: 3 failures in a row (...); next try in 40s; see FILE". */
static void print_pools(xmlrpc_value *pools)
{
	char name[64], health[32], problem[1024], output[512], next[32];

	for (int i = 0; i < reply_count(pools); i++) {
		xmlrpc_value *p = reply_item(pools, i);

		if (strcmp(reply_str(p, "health", health, sizeof health), "ok") == 0)
			continue;
		for (char *h = health; *h; h++)
			*h = (char)(*h - 32 * (*h >= 'a' && *h <= 'z'));
		reply_str(p, "name", name, sizeof name);
		reply_str(p, "problem", problem, sizeof problem);
		reply_str(p, "output", output, sizeof output);
		time_format_duration(next, sizeof next, reply_num(p, "next_try", 0));
		if (strcmp(health, "UNLISTED") == 0)
			printf("\npool %s UNLISTED: %s; its instances are kept, nothing is submitted until its jobs "
			       "can be "
			       "listed\n",
			       name, problem);
		else
			printf("\npool %s FAILING: %lld failures in a row; last: %s; next try in %s%s%s\n", name,
			       (long long)reply_int(p, "failures", 0), problem, next, output[0] ? "; see " : "",
			       output);
	}
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
		char reason[64];

		if (strcmp(reply_str(p, "state", state, sizeof state), "registered") == 0)
			continue;
		if (shown++ == 0)
			printf("\n%-12s %-12s %-11s %-8s %-12s %s\n", "POOL", "JOB", "STATE", "FOR", "NODE", "WHY");
		reply_str(p, "node", node, sizeof node);
		reply_str(p, "reason", reason, sizeof reason);
		printf("%-12s %-12s %-11s %-8s %-12s %s\n", reply_str(p, "pool", pool, sizeof pool),
		       reply_str(p, "job", job, sizeof job)[0] ? job : "-", state,
		       time_format_duration(age, sizeof age, reply_num(p, "age", 0)), node[0] ? node : "-",
		       reason[0] ? reason : "-");
	}
	print_pools(reply_member(r, "pools"));
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
	else if (strcmp(verb, "ls") == 0 && s.job)
		status = cli_usage_error(x.cmd, "--job goes with add and remove only");
	else if (strcmp(verb, "add") == 0 && n != 3)
		status = cli_usage_error(x.cmd, "add takes a NAME and a URL, e.g. add ws2 http://ws2:1080/RPC2");
	else if (strcmp(verb, "remove") == 0 && n != 2)
		status = cli_usage_error(x.cmd, "remove takes one backend NAME");
	else if (strcmp(verb, "ls") == 0 && n != 1)
		status = cli_usage_error(x.cmd, "ls takes no arguments");
	else if (strcmp(verb, "add") == 0)
		status = add(&x, argv[optind + 1], argv[optind + 2], &s);
	else if (strcmp(verb, "remove") == 0)
		status = remove_one(&x, argv[optind + 1], s.job);
	else if (strcmp(verb, "ls") == 0)
		status = list(&x);
	else
		status = cli_usage_error(x.cmd, "no \"%s\"; allowed: add, remove, ls", verb);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_backend = {
    .name = "backend",
    .usage = "simq backend add NAME URL [--slots N] [--max-batch N] [--job ID] | remove NAME [--job ID] | ls",
    .summary = "add or remove a PLECS backend while the server runs; list backends and pool jobs",
    .help = "add: the server asks the backend whether it answers, then sends it work; the same NAME at the\n"
            "same URL again changes nothing (a job script may register twice). A NAME in use at another URL is\n"
            "refused. A name POOL-DIGITS of a [pool POOL] is that pool's instance of Slurm job DIGITS: only\n"
            "--job DIGITS (its job script) registers it, and that registration replaces one at another URL.\n"
            "remove: nothing new goes to it; its calls in flight finish; a pool instance's Slurm job is\n"
            "cancelled (not when --job names it: the job itself leaving). ls: every backend with its state, busy and "
            "total slots, and the Slurm job of a\n"
            "[pool NAME] instance; then the pools' jobs that are not backends (pending with Slurm's reason,\n"
            "started, released), and a pool that is FAILING (its jobs end before they register, or sbatch\n"
            "fails) or UNLISTED (squeue fails). Backends added here are not in simq.ini: a restarted server\n"
            "does not have them (a pool's instances it adopts again).",
    .run = run_backend,
    .shortopts = "",
    .longopts = backend_longopts,
    .common = true,
};
