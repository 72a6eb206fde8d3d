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
