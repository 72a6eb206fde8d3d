/* Writes simq.ini and simq.ini(5) from the option table. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Writes text as "# "-prefixed lines wrapped before column 78. */
static void write_comment(FILE *out, const char *prefix, const char *text)
{
	const char *p = text;
	const size_t width = 76 - strlen(prefix);

	while (*p) {
		size_t n = strlen(p);

		if (n > width) {
			n = width;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = strcspn(p, " ");
		}
		fprintf(out, "%s%.*s\n", prefix, (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

static void write_option(FILE *out, const struct option_def *opt, const char *comment_out)
{
	char *allowed = option_allowed_text(opt);
	struct buf line = BUF_INIT;

	fputs("\n", out);
	write_comment(out, "# ", opt->help);
	buf_addf(&line, "Allowed: %s.", allowed);
	write_comment(out, "# ", buf_str(&line));
	fprintf(out, "%s%s =%s%s\n", comment_out, opt->key, opt->def[0] ? " " : "", opt->def);
	buf_free(&line);
	free(allowed);
}

void config_write_defaults(FILE *out)
{
	fputs("# simq.ini: simq's configuration, every key at its default.\n"
	      "#\n"
	      "# simq reads -c FILE, else $XDG_CONFIG_HOME/simq/simq.ini (~/.config/simq/simq.ini).\n"
	      "# Every key has a default, so the file is optional. Check a file with\n"
	      "# simq config --check -c FILE. Durations are seconds, or a number with one\n"
	      "# unit: 250ms, 5s, 2m, 1h, 7d. Section and key names are not case-sensitive.\n"
	      "# Written by simq config --defaults; simq.ini(5) describes every key.\n",
	      out);
	for (size_t s = 0; s < option_section_count; s++) {
		const struct section_def *sec = &option_sections[s];
		const char *comment_out = sec->named ? "#" : "";

		fputs("\n", out);
		if (sec->named) {
			fprintf(out, "# [%s NAME]\n", sec->name);
			write_comment(out, "# ", sec->help);
			fprintf(out, "#[%s %s]\n", sec->name, sec->example);
		} else {
			write_comment(out, "# ", sec->help);
			fprintf(out, "[%s]\n", sec->name);
		}
		for (size_t i = 0; i < option_count; i++)
			if (strcmp(option_table[i].section, sec->name) == 0)
				write_option(out, &option_table[i], comment_out);
	}
}

/* Writes text escaped for roff: backslashes, hyphens, and a leading dot or quote. */
static void roff_text(FILE *out, const char *text)
{
	if (text[0] == '.' || text[0] == '\'')
		fputs("\\&", out);
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-')
			fputs("\\-", out);
		else
			fputc(*p, out);
	}
}

void config_write_man(FILE *out, const char *version)
{
	fprintf(out,
	        ".\\\" simq.ini(5), written by simq config --man from the option table.\n"
	        ".TH SIMQ.INI 5 \"\" \"simq %s\" \"File Formats\"\n"
	        ".SH NAME\n"
	        "simq.ini \\- configuration of the simq PLECS simulation scheduler\n"
	        ".SH SYNOPSIS\n"
	        "\\fI$XDG_CONFIG_HOME/simq/simq.ini\\fR, or the file given with \\fB\\-c\\fR\n"
	        ".SH DESCRIPTION\n"
	        "An INI file of sections and \\fIkey\\fR = \\fIvalue\\fR lines; lines starting with\n"
	        "\\fB#\\fR or \\fB;\\fR are comments. Section and key names are not case\\-sensitive.\n"
	        "Every key has a default, so the file is optional.\n"
	        "\\fBsimq config \\-\\-defaults\\fR prints a complete commented file and\n"
	        "\\fBsimq config \\-\\-check \\-c\\fR \\fIFILE\\fR checks one, reporting every mistake with\n"
	        "its file and line; it exits 0 when the file is valid and 78 when it is not.\n"
	        ".PP\n"
	        "Durations are a decimal number of seconds (\\fB0.2\\fR) or a number with one unit:\n"
	        "\\fBms\\fR, \\fBs\\fR, \\fBm\\fR, \\fBh\\fR or \\fBd\\fR (\\fB250ms\\fR, \\fB5s\\fR, \\fB2m\\fR, "
	        "\\fB1h\\fR).\n"
	        "Whole numbers are plain decimals: no hexadecimal, no units, no fractions.\n",
	        version);
	for (size_t s = 0; s < option_section_count; s++) {
		const struct section_def *sec = &option_sections[s];

		fprintf(out, ".SH \"[%s%s]\"\n", sec->name, sec->named ? " NAME" : "");
		roff_text(out, sec->help);
		fputs("\n", out);
		for (size_t i = 0; i < option_count; i++) {
			const struct option_def *opt = &option_table[i];
			char *allowed;

			if (strcmp(opt->section, sec->name) != 0)
				continue;
			allowed = option_allowed_text(opt);
			fprintf(out, ".TP\n\\fB%s\\fR = ", opt->key);
			if (opt->def[0]) {
				fputs("\\fI", out);
				roff_text(out, opt->def);
				fputs("\\fR", out);
			} else {
				fputs("(empty)", out);
			}
			fputs("\n", out);
			roff_text(out, opt->help);
			fputs("\nAllowed: ", out);
			roff_text(out, allowed);
			fputs(".\n", out);
			free(allowed);
		}
	}
	fputs(".SH SEE ALSO\n\\fBsimq\\fR(1), \\fBplecs\\-emu\\fR(1)\n", out);
}
