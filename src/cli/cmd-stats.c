/* simq stats, pause, resume, shutdown: the server as a whole. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "cli/common.h"

static double number(xmlrpc_value *s, const char *key)
{
	char buf[64];

	return atof(cli_member(s, key, buf, sizeof buf));
}

static void percent(const char *label, double v)
{
	if (v < 0)
		printf("%-22s -\n", label);
	else
		printf("%-22s %.1f %%\n", label, 100 * v);
}

static int run_stats(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_stats};
	xmlrpc_value *s = NULL;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL, NULL, NULL);

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
			printf("%-22s %.0f\n", "failed", number(s, "failed"));
			printf("%-22s %.0f\n", "cancelled", number(s, "cancelled"));
			percent("success rate", number(s, "success_rate"));
			percent("retry effectiveness", number(s, "retry_effectiveness"));
			if (number(s, "avg_retries_per_failed") < 0)
				printf("%-22s -\n", "retries per failed");
			else
				printf("%-22s %.1f\n", "retries per failed", number(s, "avg_retries_per_failed"));
			printf("(all time; --json has since-start and 24 h too)\n");
		}
		xmlrpc_DECREF(s);
	}
	cli_done(&x);
	return status;
}

const struct cli_command cli_cmd_stats = {
	.name = "stats",
	.usage = "simq stats [--json]",
	.summary = "success rate, retries and counts (DESIGN 9)",
	.run = run_stats,
};

static int simple(const struct cli_command *cmd, int argc, char **argv, const char *method, bool backend_arg)
{
	struct cli_ctx x = {.cmd = cmd};
	xmlrpc_value *r = NULL;
	int status = cli_parse_options(&x, argc, argv, NULL, NULL, NULL, NULL);

	if (status < 0 && argc - optind > (backend_arg ? 1 : 0))
		status = cli_usage_error(x.cmd, "unexpected argument \"%s\"", argv[argc - 1]);
	if (status >= 0)
		return status;
	if (strcmp(method, "simq.shutdown") == 0)
		x.client.no_start = true;
	if (optind < argc)
		status = cli_call(&x, method, &r, "(s)", argv[optind]);
	else
		status = cli_call(&x, method, &r, "()");
	if (status == CLI_EXIT_OK)
		xmlrpc_DECREF(r);
	cli_done(&x);
	return status;
}

static int run_pause(int argc, char **argv)
{
	return simple(&cli_cmd_pause, argc, argv, "simq.pause", true);
}

static int run_resume(int argc, char **argv)
{
	return simple(&cli_cmd_resume, argc, argv, "simq.resume", true);
}

static int run_shutdown(int argc, char **argv)
{
	return simple(&cli_cmd_shutdown, argc, argv, "simq.shutdown", false);
}

const struct cli_command cli_cmd_pause = {
	.name = "pause",
	.usage = "simq pause [BACKEND]",
	.summary = "start nothing new (running calls finish)",
	.run = run_pause,
};

const struct cli_command cli_cmd_resume = {
	.name = "resume",
	.usage = "simq resume [BACKEND]",
	.summary = "dispatch again after pause",
	.run = run_resume,
};

const struct cli_command cli_cmd_shutdown = {
	.name = "shutdown",
	.usage = "simq shutdown",
	.summary = "stop the server; queued tasks stay queued for the next one",
	.run = run_shutdown,
};
