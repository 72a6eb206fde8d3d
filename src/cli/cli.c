#include "autoconf.h"

#include "cli/cli.h"

#include <stdarg.h>

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
