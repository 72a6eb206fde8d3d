#include "autoconf.h"

#include "cli/complete.h"

#include <stdbool.h>
#include <string.h>

#include "engine/task.h"

/* What an option's value is, by its long name (for one command, or any when command is NULL). */
static const struct {
	const char *command, *option, *value;
} value_kinds[] = {
    {"server", "state", "dir"}, {NULL, "state", "state"}, {NULL, "priority", "priority"},
    {NULL, "config", "file"},   {NULL, "home", "dir"},    {NULL, "model", "text"},
};

static const char *const operand_names[] = {
#define X(id, name) name,
    CLI_OPERANDS(X)
#undef X
};

static const char *value_kind(const char *command, const struct option *o)
{
	if (o->has_arg == no_argument)
		return "";
	for (size_t i = 0; i < sizeof value_kinds / sizeof value_kinds[0]; i++)
		if ((value_kinds[i].command == NULL || strcmp(value_kinds[i].command, command) == 0) &&
		    strcmp(value_kinds[i].option, o->name) == 0)
			return value_kinds[i].value;
	return "text";
}

/* The long options of a table, each with its short form when one has the same val. */
static void print_longopts(FILE *out, const char *command, const struct option *opts, const char *shorts)
{
	for (const struct option *o = opts; o && o->name; o++) {
		char short_form[3] = "";

		if (o->val > ' ' && o->val < 0x7f && o->val != ':' && shorts && strchr(shorts, o->val))
			snprintf(short_form, sizeof short_form, "-%c", o->val);
		fprintf(out, "option\t%s\t--%s\t%s\t%s\n", command, o->name, short_form, value_kind(command, o));
	}
}

/* The short options that have no long form: "L:S:s:dj" of tmux. */
static void print_short_only(FILE *out, const char *command, const struct option *opts, const char *shorts)
{
	for (const char *s = shorts; s && *s; s++) {
		bool with_long = false;

		if (*s == ':')
			continue;
		for (const struct option *o = opts; o && o->name; o++)
			with_long = with_long || o->val == *s;
		if (!with_long)
			fprintf(out, "option\t%s\t\t-%c\t%s\n", command, *s, s[1] == ':' ? "text" : "");
	}
}

int complete_table(FILE *out, const struct cli_command *const *commands, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct cli_command *c = commands[i];

		fprintf(out, "command\t%s\t%s\t%s\n", c->name, operand_names[c->operands], c->summary);
		if (c->common)
			print_longopts(out, c->name, cli_common_longopts, CLI_COMMON_SHORTOPTS);
		print_longopts(out, c->name, c->longopts, c->shortopts);
		print_short_only(out, c->name, c->longopts, c->shortopts);
	}
	for (const struct option *o = cli_common_longopts; o->name; o++)
		if (o->val != 'h')
			print_longopts(out, "-", (const struct option[]){*o, {NULL, 0, NULL, 0}}, CLI_COMMON_SHORTOPTS);
	/* Only as the first word: simq --help, simq --version (src/simq.c). */
	fprintf(out, "option\t-\t--help\t-h\t\noption\t-\t--version\t-V\t\n");
	for (int s = 0; s < TASK_STATE_COUNT; s++)
		fprintf(out, "state\t%s\n", task_state_name((enum task_state)s));
	for (int p = 0; p < PRIO_COUNT; p++)
		fprintf(out, "priority\t%s\n", task_priority_name((enum task_priority)p));
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
