#include "autoconf.h"

#include "cli/common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/xalloc.h"

enum { OPT_STATE = 0x100, OPT_NO_START, OPT_JSON };

int cli_parse_options(struct cli_ctx *x, int argc, char **argv, const char *shortopts, const struct option *longopts,
		      cli_option_fn fn, void *ud)
{
	static const struct option common[] = {
		{"home", required_argument, NULL, OPT_STATE},
		{"config", required_argument, NULL, 'c'},
		{"no-start", no_argument, NULL, OPT_NO_START},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
	};
	size_t own = 0, n = sizeof common / sizeof common[0];
	struct option *all;
	char *shorts = xasprintf(":c:h%s", shortopts ? shortopts : "");
	int c, status = -1;

	while (longopts && longopts[own].name)
		own++;
	all = xcalloc(own + n + 1, sizeof *all);
	memcpy(all, common, sizeof common);
	if (own)
		memcpy(all + n, longopts, own * sizeof *all);
	x->client.timeout_ms = CLIENT_TIMEOUT_CONFIGURED;
	opterr = 0;
	optind = 1;
	while (status < 0 && (c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		switch (c) {
		case OPT_STATE:
			x->client.state_dir = optarg;
			break;
		case 'c':
			x->client.config_path = optarg;
			break;
		case OPT_NO_START:
			x->client.no_start = true;
			break;
		case OPT_JSON:
			x->json = true;
			break;
		case 'h':
			printf("Usage: %s\n", x->cmd->usage);
			status = CLI_EXIT_OK;
			break;
		case ':':
			status = cli_usage_error(x->cmd, "%s needs a value", argv[optind - 1]);
			break;
		case '?':
			status = cli_usage_error(x->cmd, "unknown option %s", argv[optind - 1]);
			break;
		default:
			status = fn ? fn(x, c, optarg, ud) : cli_usage_error(x->cmd, "unknown option %s", argv[optind - 1]);
			break;
		}
	}
	free(all);
	free(shorts);
	return status;
}

static int exit_for_fault(int code)
{
	switch (code) {
	case PROTO_FAULT_INVALID:
	case PROTO_FAULT_NOT_FOUND:
	case PROTO_FAULT_STATE:
		return CLI_EXIT_DATA;
	case PROTO_FAULT_SHUTTING_DOWN:
		return CLI_EXIT_UNAVAILABLE;
	default:
		return CLI_EXIT_SOFTWARE;
	}
}

int cli_call(struct cli_ctx *x, const char *method, xmlrpc_value **result, const char *format, ...)
{
	xmlrpc_env env;
	xmlrpc_value *params;
	const char *tail;
	va_list ap;
	char *err = NULL;
	int fault = 0, status;

	xmlrpc_env_init(&env);
	va_start(ap, format);
	xmlrpc_build_value_va(&env, format, ap, &params, &tail);
	va_end(ap);
	if (env.fault_occurred) {
		fprintf(stderr, "simq %s: %s\n", x->cmd->name, env.fault_string);
		xmlrpc_env_clean(&env);
		return CLI_EXIT_SOFTWARE;
	}
	xmlrpc_env_clean(&env);
	if (x->conn == NULL)
		x->conn = client_new(&x->client);
	switch (client_call(x->conn, method, params, result, &fault, &err)) {
	case CLIENT_OK:
		status = CLI_EXIT_OK;
		break;
	case CLIENT_FAULT:
		fprintf(stderr, "simq %s: %s\n", x->cmd->name, err);
		status = exit_for_fault(fault);
		break;
	case CLIENT_TIMEOUT:
		fprintf(stderr, "simq %s: %s; what was asked may still be done when it answers ([server] "
			"client_timeout sets how long to wait)\n", x->cmd->name, err);
		status = CLI_EXIT_UNAVAILABLE;
		break;
	default:
		fprintf(stderr, "simq %s: %s\n", x->cmd->name, err);
		status = CLI_EXIT_UNAVAILABLE;
		break;
	}
	free(err);
	xmlrpc_DECREF(params);
	return status;
}

void cli_done(struct cli_ctx *x)
{
	client_free(&x->conn);
}

bool cli_parse_id(const char *text, int64_t *id)
{
	char *end;

	errno = 0;
	*id = strtoll(text, &end, 10);
	return end != text && *end == '\0' && errno == 0 && *id > 0;
}

int cli_print_json(xmlrpc_value *v)
{
	char *err = NULL;
	json_t *j = proto_to_json(v, &err);
	char *text;

	if (j == NULL) {
		fprintf(stderr, "simq: cannot show the answer as JSON: %s\n", err);
		free(err);
		return CLI_EXIT_SOFTWARE;
	}
	text = proto_json_text(j, true);
	printf("%s\n", text);
	free(text);
	json_decref(j);
	return CLI_EXIT_OK;
}

int cli_width(void)
{
	struct winsize ws;
	const char *columns = getenv("COLUMNS");

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (columns && atoi(columns) > 0)
		return atoi(columns);
	return 0;
}
