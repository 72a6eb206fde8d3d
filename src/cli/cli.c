#include "autoconf.h"

#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/utf8.h"

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "simq %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s\n", cmd->usage);
	return CLI_EXIT_USAGE;
}

/* Prints arg (escaped, cut) and a caret under its byte `at`, when that is within what is shown. */
static void point_at(const char *arg, size_t at)
{
	struct buf shown = BUF_INIT, before = BUF_INIT;
	size_t len = strlen(arg), column = 0;

	buf_add_shown(&shown, arg, len);
	buf_add_printable(&before, arg, at < len ? at : len);
	for (size_t i = 0; i < before.len; column++) {
		size_t n = utf8_valid_prefix(before.data + i, before.len - i);

		i += n ? n : 1;
	}
	if (column <= BUF_SHOWN_MAX)
		fprintf(stderr, "  %s\n  %*s^\n", buf_str(&shown), (int)column, "");
	buf_free(&shown);
	buf_free(&before);
}

int cli_usage_error_at(const struct cli_command *cmd, const char *arg, size_t at, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "simq %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	point_at(arg, at);
	fprintf(stderr, "Usage: %s\n", cmd->usage);
	return CLI_EXIT_USAGE;
}

const struct option cli_common_longopts[] = {
	{"home", required_argument, NULL, CLI_OPT_HOME},
	{"config", required_argument, NULL, 'c'},
	{"no-start", no_argument, NULL, CLI_OPT_NO_START},
	{"json", no_argument, NULL, CLI_OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const struct option *cli_common_option(const char *arg)
{
	const struct option *o;

	if (arg[0] != '-' || arg[1] == '\0')
		return NULL;
	for (o = cli_common_longopts; o->name; o++) {
		size_t n = strlen(o->name);

		if (arg[1] == '-' ? strncmp(arg + 2, o->name, n) == 0 && (arg[n + 2] == '\0' || arg[n + 2] == '=')
				  : o->val < 0x80 && arg[1] == o->val)
			return o;
	}
	return NULL;
}

bool cli_takes_option(const struct cli_command *cmd, const struct option *o)
{
	if (cmd->common)
		return true;
	for (const struct option *own = cmd->longopts; own && own->name; own++)
		if (strcmp(own->name, o->name) == 0)
			return true;
	return o->val < 0x80 && cmd->shortopts && strchr(cmd->shortopts, o->val) != NULL;
}

int cli_unknown_option(const struct cli_command *cmd, const char *arg)
{
	char shown[3] = {'-', (char)optopt, '\0'};

	/* getopt names an unknown short option in optopt: "-x" of "-fx". */
	if (optopt > ' ' && optopt < 0x7f)
		arg = shown;
	return cli_usage_error(cmd, "%s is not an option of simq %s", arg, cmd->name);
}
