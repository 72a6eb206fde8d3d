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

#include "client/reply.h"
#include "engine/task.h"
#include "proto/proto.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"
#include "config/config.h"
#include "util/paths.h"

int cli_parse_options(struct cli_ctx *x, int argc, char **argv, cli_option_fn fn, void *ud)
{
	const struct option *own_opts = x->cmd->longopts;
	size_t own = 0, n = 0;
	struct option *all;
	char *shorts = xasprintf(":" CLI_COMMON_SHORTOPTS "%s", x->cmd->shortopts ? x->cmd->shortopts : "");
	int c, status = -1;

	while (cli_common_longopts[n].name)
		n++;
	while (own_opts && own_opts[own].name)
		own++;
	all = xcalloc(own + n + 1, sizeof *all);
	memcpy(all, cli_common_longopts, n * sizeof *all);
	if (own)
		memcpy(all + n, own_opts, own * sizeof *all);
	x->client.timeout_ms = CLIENT_TIMEOUT_CONFIGURED;
	x->client.tell_start = true;
	opterr = 0;
	optind = 1;
	while (status < 0 && (c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_HOME:
			x->client.state_dir = optarg;
			break;
		case 'c':
			x->client.config_path = optarg;
			break;
		case CLI_OPT_NO_START:
			x->client.no_start = true;
			break;
		case CLI_OPT_JSON:
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
			status = cli_unknown_option(x->cmd, argv[optind - 1]);
			break;
		default:
			status = fn ? fn(x, c, optarg, ud) : cli_unknown_option(x->cmd, argv[optind - 1]);
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
	case PROTO_FAULT_FILE:
		return CLI_EXIT_IO;
	default:
		return CLI_EXIT_SOFTWARE;
	}
}

/* The server's words for a fault, less the method's name it starts with: simq's own
 * commands speak in their options, and the command's name is said already. */
static const char *fault_words(const char *method, const char *err)
{
	size_t n = strlen(method);

	return strncmp(err, method, n) == 0 && strncmp(err + n, ": ", 2) == 0 ? err + n + 2 : err;
}

/* Says what a call that did not answer (st) ended with; returns the exit status. */
static int say_failed(struct cli_ctx *x, const char *method, enum client_status st, int fault, const char *err)
{
	switch (st) {
	case CLIENT_OK:
		return CLI_EXIT_OK;
	case CLIENT_FAULT:
		fprintf(stderr, "simq %s: %s\n", x->cmd->name, fault_words(method, err));
		return exit_for_fault(fault);
	case CLIENT_TIMEOUT:
		fprintf(stderr, "simq %s: %s; what was asked may still be done when it answers ([server] "
			"client_timeout sets how long to wait)\n", x->cmd->name, err);
		return CLI_EXIT_UNAVAILABLE;
	default:
		fprintf(stderr, "simq %s: %s\n", x->cmd->name, err);
		return CLI_EXIT_UNAVAILABLE;
	}
}

static enum client_status call_params(struct cli_ctx *x, const char *method, xmlrpc_value *params,
				      xmlrpc_value **result, int *fault, char **err)
{
	if (x->conn == NULL)
		x->conn = client_new(&x->client);
	return client_call(x->conn, method, params, result, fault, err);
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
	enum client_status st = call_params(x, method, params, result, &fault, &err);

	status = say_failed(x, method, st, fault, err);
	free(err);
	xmlrpc_DECREF(params);
	return status;
}

int cli_call_keyed(struct cli_ctx *x, const char *method, const char *key, xmlrpc_value *params,
		   xmlrpc_value **result)
{
	char *err = NULL;
	int fault = 0, status;
	enum client_status st = call_params(x, method, params, result, &fault, &err);

	if (st != CLIENT_LOST && st != CLIENT_TIMEOUT) {
		status = say_failed(x, method, st, fault, err);
		free(err);
		return status;
	}
	fprintf(stderr, "simq %s: %s; asking again with the same request key, so nothing is stored twice\n",
		x->cmd->name, err);
	xfree(&err);
	st = call_params(x, method, params, result, &fault, &err);
	if (st == CLIENT_OK) {
		fprintf(stderr, "simq %s: answered the second time: what follows is stored once\n", x->cmd->name);
		return CLI_EXIT_OK;
	}
	/* A refusal of the input means the key is not stored (it is looked up first): nothing was. */
	if (st == CLIENT_FAULT && exit_for_fault(fault) == CLI_EXIT_DATA) {
		status = say_failed(x, method, st, fault, err);
	} else {
		if (st == CLIENT_FAULT)
			fprintf(stderr, "simq %s: the second time the server answered: %s\n", x->cmd->name,
				fault_words(method, err));
		else
			fprintf(stderr, "simq %s: no answer the second time either: %s.\n", x->cmd->name, err);
		fprintf(stderr, "Whether anything was stored is not known. Run the same command again with --request-key "
			"%s: it stores the tasks only if they are not stored yet, and prints their ids either way.\n", key);
		status = st == CLIENT_FAULT ? exit_for_fault(fault) : CLI_EXIT_UNAVAILABLE;
	}
	free(err);
	return status;
}

void cli_done(struct cli_ctx *x)
{
	client_free(&x->conn);
}

bool cli_parse_id(const char *text, int64_t *id)
{
	char *end;

	/* Digits only: strtoll would take "+5", " 5" and a tab before it too. */
	if (text[0] < '0' || text[0] > '9')
		return false;
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

struct config *cli_load_config(const struct client_options *opt)
{
	char *path = opt->config_path ? xstrdup(opt->config_path) : paths_config_file();
	struct config *cfg = config_load(path, opt->config_path != NULL);

	free(path);
	if (config_error_count(cfg) > 0) {
		for (size_t i = 0; i < config_error_count(cfg); i++)
			fprintf(stderr, "simq: %s\n", config_error(cfg, i));
		config_free(&cfg);
	}
	return cfg;
}

char *cli_names_of(const char *(*name)(int i), int n)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", name(i));
	return buf_detach(&b);
}

const char *cli_state_name(int i)
{
	return task_state_name((enum task_state)i);
}

const char *cli_priority_name(int i)
{
	return task_priority_name((enum task_priority)i);
}

int cli_not_one_of(struct cli_ctx *x, const char *option, const char *value, char *names, const char *more)
{
	struct buf shown = BUF_INIT;
	int status;

	buf_add_shown(&shown, value, strlen(value));
	status = cli_usage_error(x->cmd, "%s %s: allowed: %s%s", option, buf_str(&shown), names, more);
	buf_free(&shown);
	free(names);
	return status;
}

const char *cli_time(char out[CLI_TIME_MAX], const char *iso, bool ms)
{
	int64_t wall_ms;

	out[0] = '\0';
	if (iso == NULL || !time_iso8601_parse_ms(iso, &wall_ms)) {
		snprintf(out, CLI_TIME_MAX, "%s", iso ? iso : "");
		return out;
	}
	time_iso8601(out, wall_ms * 1000000, false);
	/* "2026-11-30T12:20:03.123+01:00": the milliseconds are the 4 bytes after the seconds. */
	if (!ms)
		memmove(out + 19, out + 23, strlen(out + 23) + 1);
	return out;
}

static void print_figure(xmlrpc_value *sig, const char *key)
{
	char text[64];

	reply_text(sig, key, text, sizeof text);
	printf("  %12s", text[0] ? text : "-");
}

void cli_print_summary(xmlrpc_value *r)
{
	static const char *const keys[] = {"min", "max", "mean", "rms", "final"};
	xmlrpc_value *summary = reply_member(r, "summary");
	xmlrpc_env env;
	int n, width = 6;

	xmlrpc_env_init(&env);
	n = summary ? xmlrpc_struct_size(&env, summary) : 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			printf("\n%-*s  %12s  %12s  %12s  %12s  %12s\n", width, "SIGNAL", "MIN", "MAX", "MEAN", "RMS", "FINAL");
		for (int i = 0; i < n && !env.fault_occurred; i++) {
			xmlrpc_value *k, *v;
			const char *name;

			xmlrpc_struct_read_member(&env, summary, (unsigned)i, &k, &v);
			xmlrpc_read_string(&env, k, &name);
			if (pass == 0 && (int)strlen(name) > width)
				width = (int)strlen(name);
			if (pass == 1) {
				printf("%-*s", width, name);
				for (size_t c = 0; c < sizeof keys / sizeof keys[0]; c++)
					print_figure(v, keys[c]);
				printf("\n");
			}
			free((void *)name);
			xmlrpc_DECREF(k);
			xmlrpc_DECREF(v);
		}
	}
	xmlrpc_env_clean(&env);
}
