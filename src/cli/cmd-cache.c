#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "client/reply.h"

/* Item i of array a as text ("" when it is no string); returns buf. */
static const char *item_text(xmlrpc_value *a, int i, char *buf, size_t size)
{
	xmlrpc_value *v = reply_item(a, i);
	const char *s = NULL;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	if (v)
		xmlrpc_read_string(&env, v, &s);
	snprintf(buf, size, "%s", !env.fault_occurred && s ? s : "");
	free((void *)s);
	xmlrpc_env_clean(&env);
	return buf;
}

/* simq cache why ID: the task whose result ID reused, or which part of its key differs from the nearest stored run. */
static int run_cache(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_cache};
	xmlrpc_value *r = NULL;
	int64_t id;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL);

	if (status < 0 && (optind != argc - 2 || strcmp(argv[optind], "why") != 0))
		status = cli_usage_error(x.cmd, "give \"why\" and one task id");
	if (status < 0 && !cli_parse_id(argv[optind + 1], &id))
		status = cli_usage_error(x.cmd, "%s: expected a task id (a whole number from 1)", argv[optind + 1]);
	if (status >= 0)
		return status;
	status = cli_call(&x, "simq.cache_why", &r, "(I)", (xmlrpc_int64)id);
	if (status == CLI_EXIT_OK && x.json) {
		cli_print_json(r);
	} else if (status == CLI_EXIT_OK) {
		xmlrpc_value *reasons = reply_member(r, "reasons");
		char line[8192];

		printf("task %lld: ", (long long)id);
		if (reply_int(r, "source", 0))
			printf("completed from the cache\n");
		else if (reply_int(r, "nearest", 0))
			printf("compared with the nearest stored run, task %lld\n", (long long)reply_int(r, "nearest", 0));
		else
			printf("nothing to compare with\n");
		for (int i = 0; i < reply_count(reasons); i++)
			printf("  %s\n", item_text(reasons, i, line, sizeof line));
	}
	if (r)
		xmlrpc_DECREF(r);
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_cache = {
	.name = "cache",
	.usage = "simq cache why ID [--json]",
	.summary = "why a task reused a stored result, or which part of its key missed",
	.help = "A result is reused when the model file's bytes, the variables, the solver options, the output\n"
		"format and the PLECS version are all the same as a stored run's (the file's path and the\n"
		"task's timeout do not count).  simq cache why names the task a cached result came from, or\n"
		"compares the task's key with the nearest stored run of the same model path or bytes and\n"
		"says what differs: the model file changed, a variable (0.001 here, 0.002 there), a solver\n"
		"option, the output format or the PLECS version.",
	.run = run_cache,
	.common = true,
	.operands = CLI_OPERANDS_WHY_TASK,
};
