#include "autoconf.h"

#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iniparser/iniparser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/paths.h"
#include "util/time.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* iniparser 4.1 reads lines into a 1024-byte buffer: longer ones abort the load. */
#define INI_LINE_MAX 1022
/* Passes of iniparser over a file whose bad lines are blanked one round at a time. */
#define INI_MAX_PASSES 32

struct config_value {
	char *text; /* as given, or the default; never NULL */
	long long i;
	double d;
	bool b;
	int line; /* 0: default */
};

struct config_section {
	const struct section_def *def;
	char *name; /* instance name of a named section, else NULL */
	char *full; /* "backend ws1": the section as iniparser names it */
	int line;
	size_t first; /* index of its first option in option_table */
	size_t count; /* options of this section type */
	struct config_value *values;
};

struct config {
	char *path;
	struct config_section **sections;
	size_t nsections;
	char **errors;
	size_t nerrors;
};

/* A line of the file as iniparser will see it: a [section] or a key = value. */
struct ini_line {
	int line;
	bool is_section;
	char *text; /* normalised: the section, or the key; lowercased and trimmed */
};

struct ini_index {
	struct ini_line *lines;
	size_t n, cap;
};

static void __attribute__((format(printf, 2, 3))) add_error(struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	cfg->errors = xreallocarray(cfg->errors, cfg->nerrors + 1, sizeof *cfg->errors);
	va_start(ap, fmt);
	cfg->errors[cfg->nerrors++] = xvasprintf(fmt, ap);
	va_end(ap);
}

/* ---- Values ----------------------------------------------------------- */

static bool parse_value(const struct option_def *opt, const char *text, struct config_value *v, struct buf *why);

static void set_default(const struct option_def *opt, struct config_value *v)
{
	struct buf why = BUF_INIT;

	v->text = xstrdup(opt->def);
	v->line = 0;
	if (opt->def[0] != '\0' && !parse_value(opt, opt->def, v, &why)) {
		fprintf(stderr, "simq: bug: default of %s.%s does not validate: %s\n", opt->section, opt->key,
		        buf_str(&why));
		abort();
	}
	buf_free(&why);
}

static struct config_section *section_new(struct config *cfg, const struct section_def *def, const char *name, int line)
{
	struct config_section *sec = xcalloc(1, sizeof *sec);

	sec->def = def;
	sec->name = name ? xstrdup(name) : NULL;
	sec->full = name ? xasprintf("%s %s", def->name, name) : xstrdup(def->name);
	sec->line = line;
	sec->first = option_count;
	for (size_t i = 0; i < option_count; i++) {
		if (strcmp(option_table[i].section, def->name) != 0)
			continue;
		if (sec->first == option_count)
			sec->first = i;
		sec->count++;
	}
	sec->values = xcalloc(sec->count ? sec->count : 1, sizeof *sec->values);
	for (size_t i = 0; i < sec->count; i++)
		set_default(&option_table[sec->first + i], &sec->values[i]);
	cfg->sections = xreallocarray(cfg->sections, cfg->nsections + 1, sizeof *cfg->sections);
	cfg->sections[cfg->nsections++] = sec;
	return sec;
}

struct config *config_new(void)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);

	for (size_t i = 0; i < option_section_count; i++)
		if (!option_sections[i].named)
			section_new(cfg, &option_sections[i], NULL, 0);
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nsections; i++) {
		struct config_section *sec = cfg->sections[i];

		for (size_t j = 0; j < sec->count; j++)
			free(sec->values[j].text);
		free(sec->values);
		free(sec->name);
		free(sec->full);
		free(sec);
	}
	for (size_t i = 0; i < cfg->nerrors; i++)
		free(cfg->errors[i]);
	free(cfg->errors);
	free(cfg->sections);
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}

size_t config_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xcalloc(lb + 1, sizeof *row);
	size_t result;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	result = row[lb];
	free(row);
	return result;
}

/* The closest of candidates to word, if close enough to be a likely typo. */
static const char *closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit = strlen(word) / 3 + 1;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = config_edit_distance(word, candidates[i]);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* Splits "a|b|c" into a NULL-terminated heap array of heap strings. */
static char **split_choices(const char *choices, char sep)
{
	size_t n = 1;
	char **out;
	const char *p = choices;

	for (const char *q = choices; *q; q++)
		n += *q == sep;
	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, sep);

		if (end == NULL)
			end = p + strlen(p);
		out[i] = xstrndup(p, (size_t)(end - p));
		p = *end ? end + 1 : end;
	}
	return out;
}

static void free_strv(char ***vp)
{
	char **v = *vp;

	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	*vp = NULL;
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* Trims blanks at both ends in place. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static bool is_choice(const char *word, const char *choices, const char **canonical_hint, struct buf *why)
{
	char **v = split_choices(choices, '|');
	bool found = false;

	for (size_t i = 0; v[i]; i++) {
		if (strcasecmp(v[i], word) == 0) {
			found = true;
			break;
		}
	}
	if (!found) {
		const char *near = closest(word, (const char *const *)v, strv_len(v));

		buf_addf(why, "\"%s\" is not allowed", word);
		if (near)
			buf_addf(why, "; did you mean \"%s\"?", near);
	}
	free_strv(&v);
	(void)canonical_hint;
	return found;
}

static bool parse_int(const struct option_def *opt, const char *s, struct config_value *v, struct buf *why)
{
	const char *p = s;
	char *end;
	long long n;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		buf_adds(why, "hexadecimal is not accepted; write the number in decimal");
		return false;
	}
	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p)) {
		buf_adds(why, "not a whole number");
		return false;
	}
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != '\0') {
		buf_adds(why, *p == '.'                    ? "not a whole number (no fractions here)"
		              : isalpha((unsigned char)*p) ? "not a whole number (no units here)"
		                                           : "not a whole number");
		return false;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == ERANGE || (double)n < opt->min || (double)n > opt->max) {
		buf_adds(why, "out of range");
		return false;
	}
	v->i = n;
	v->d = (double)n;
	return true;
}

static bool parse_number(const struct option_def *opt, const char *s, struct config_value *v, struct buf *why)
{
	const char *p = s;
	size_t digits = 0, dots = 0;

	if (*p == '-')
		p++;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '.')
			dots++;
		else
			break;
	}
	if (*p != '\0' || digits == 0 || dots > 1) {
		buf_adds(why, "not a plain decimal number");
		return false;
	}
	v->d = strtod(s, NULL);
	if (v->d < opt->min || v->d > opt->max) {
		buf_adds(why, "out of range");
		return false;
	}
	v->i = (long long)v->d;
	return true;
}

static bool parse_duration(const struct option_def *opt, const char *s, struct config_value *v, struct buf *why)
{
	const char *reason;

	if (!time_parse_duration(s, &v->d, &reason)) {
		buf_adds(why, reason);
		return false;
	}
	if (v->d < opt->min || v->d > opt->max) {
		buf_adds(why, "out of range");
		return false;
	}
	v->i = (long long)v->d;
	return true;
}

/* Bytes: a whole number, or one with k, M or G (1024, 1024^2, 1024^3): 64M, 512k, 1G. */
static bool parse_size(const struct option_def *opt, const char *s, struct config_value *v, struct buf *why)
{
	char *end;
	double n, unit = 1;

	errno = 0;
	n = strtod(s, &end);
	if (end == s || !isdigit((unsigned char)s[0]) || errno == ERANGE) {
		buf_adds(why, "not a size");
		return false;
	}
	if (*end == 'k' || *end == 'K')
		unit = 1024, end++;
	else if (*end == 'M')
		unit = 1024.0 * 1024, end++;
	else if (*end == 'G')
		unit = 1024.0 * 1024 * 1024, end++;
	if (*end != '\0') {
		buf_adds(why, "not a size (bytes, or a number with k, M or G: 512k, 64M, 1G)");
		return false;
	}
	v->d = n * unit;
	if (v->d < opt->min || v->d > opt->max) {
		buf_adds(why, "out of range");
		return false;
	}
	v->i = (long long)v->d;
	return true;
}

static bool parse_bool(const char *s, struct config_value *v, struct buf *why)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			v->b = strcasecmp(s, yes[i]) == 0;
			v->i = v->b;
			return true;
		}
	}
	buf_adds(why, "not a boolean");
	return false;
}

static bool parse_list(const struct option_def *opt, const char *s, struct buf *why)
{
	char *copy = xstrdup(s), *save = NULL;
	bool ok = true;
	size_t items = 0;

	if (s[strspn(s, " \t")] == ',' || (s[0] && s[strlen(s) - 1] == ',')) {
		buf_adds(why, "an empty item in the list");
		free(copy);
		return false;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
		char *item = trim(tok);

		items++;
		if (*item == '\0') {
			buf_adds(why, "an empty item in the list");
			ok = false;
		} else if (opt->choices) {
			ok = is_choice(item, opt->choices, NULL, why);
		}
	}
	free(copy);
	if (ok && strstr(s, ",,")) {
		buf_adds(why, "an empty item in the list");
		ok = false;
	}
	return ok;
}

static bool parse_address(const char *s, struct buf *why)
{
	unsigned char addr[16];
	bool dotted = s[0] != '\0' && strspn(s, "0123456789.") == strlen(s);

	if (inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1)
		return true;
	if (dotted) {
		buf_adds(why, "not a valid IPv4 address");
		return false;
	}
	if (strchr(s, ':')) {
		buf_adds(why, "not an address (give the port in the port key, not here)");
		return false;
	}
	if (!isalnum((unsigned char)s[0]) || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(s)) {
		buf_adds(why, "not an IP address or host name");
		return false;
	}
	return true;
}

static bool parse_url(const char *s, struct buf *why)
{
	const char *host;
	size_t hostlen;

	if (strncasecmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		host = s + 8;
	else {
		buf_adds(why, "not an http:// or https:// URL");
		return false;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ') {
			buf_adds(why, "a URL cannot contain spaces or control characters");
			return false;
		}
	}
	hostlen = strcspn(host, ":/?#");
	if (hostlen == 0) {
		buf_adds(why, "the URL names no host");
		return false;
	}
	if (host[hostlen] == ':') {
		const char *port = host + hostlen + 1;
		size_t digits = strspn(port, "0123456789");
		long n = digits ? strtol(port, NULL, 10) : 0;

		if (digits == 0 || digits > 5 || (port[digits] != '\0' && port[digits] != '/') || n < 1 || n > 65535) {
			buf_adds(why, "the URL's port is not a number from 1 to 65535");
			return false;
		}
	}
	return true;
}

static bool parse_clock(const char *s, struct config_value *v, struct buf *why)
{
	int h, m;
	char tail;

	if (strlen(s) > 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || !isdigit((unsigned char)s[0]) || h < 0 ||
	    h > 23 || m < 0 || m > 59 || strlen(strchr(s, ':') + 1) != 2) {
		buf_adds(why, "not a time of day HH:MM");
		return false;
	}
	v->i = h * 60 + m;
	v->d = (double)v->i;
	return true;
}

/* A key name as the console will know it: one character, C-x or a name from option_key_names. */
static bool valid_key_name(const char *k)
{
	if (strlen(k) == 1)
		return isgraph((unsigned char)k[0]) && k[0] != ',';
	if (strlen(k) == 3 && (k[0] == 'C' || k[0] == 'c') && k[1] == '-' && isalpha((unsigned char)k[2]))
		return true;
	for (size_t i = 0; option_key_names[i]; i++)
		if (strcasecmp(k, option_key_names[i]) == 0)
			return true;
	return false;
}

static bool parse_keys(const char *s, struct buf *why)
{
	char *copy = xstrdup(s), *save = NULL;
	bool ok = true;

	if (strstr(s, ",,") || s[0] == ',' || s[strlen(s) - 1] == ',') {
		buf_adds(why, "an empty item in the list (write Comma for the , key)");
		ok = false;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
		char *k = trim(tok);

		if (!valid_key_name(k)) {
			buf_addf(why, "\"%s\" is not a key", k);
			ok = false;
		}
	}
	free(copy);
	return ok;
}

/* A command for /bin/sh -c: every quote closed, no lone \\ at the end (sh would refuse it when it runs). */
static bool parse_command_quotes(const char *s, struct buf *why)
{
	char quote = 0;
	size_t open = 0;

	for (size_t i = 0; s[i]; i++) {
		if (quote == '\'') {
			quote = s[i] == '\'' ? 0 : quote;
		} else if (s[i] == '\\') {
			if (s[i + 1] == '\0') {
				buf_addf(why, "it ends with a lone \\ (character %zu)", i + 1);
				return false;
			}
			i++;
		} else if (quote == '"') {
			quote = s[i] == '"' ? 0 : quote;
		} else if (s[i] == '\'' || s[i] == '"') {
			quote = s[i];
			open = i;
		}
	}
	if (quote) {
		buf_addf(why, "the %c at character %zu is never closed", quote, open + 1);
		return false;
	}
	return true;
}

static bool parse_text(const struct option_def *opt, const char *s, struct buf *why)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			buf_adds(why, "control characters are not allowed");
			return false;
		}
	}
	if (opt->type == OPT_STRING && opt->max > 0 && s[0] != '\0') {
		size_t len = strlen(s);

		if ((double)len < opt->min || (double)len > opt->max) {
			buf_addf(why, "%zu characters is too %s", len, (double)len < opt->min ? "short" : "long");
			return false;
		}
	}
	return true;
}

/* Validates text as a value of opt and fills v's typed fields; why gets the reason on failure. */
static bool parse_value(const struct option_def *opt, const char *text, struct config_value *v, struct buf *why)
{
	size_t bad;

	if (!utf8_validate(text, strlen(text), &bad)) {
		buf_addf(why, "not valid UTF-8 (byte 0x%02x at offset %zu)", (unsigned char)text[bad], bad);
		return false;
	}
	if (text[0] == '\0') {
		if (opt->flags & OPT_NONEMPTY) {
			buf_adds(why, "empty");
			return false;
		}
		if (opt->type == OPT_INT || opt->type == OPT_NUMBER || opt->type == OPT_DURATION || opt->type == OPT_SIZE ||
		    opt->type == OPT_BOOL || opt->type == OPT_ENUM) {
			buf_adds(why, "empty (delete the line to keep the default)");
			return false;
		}
		v->i = 0;
		v->d = 0;
		v->b = false;
		return true;
	}
	switch (opt->type) {
	case OPT_INT:
		return parse_int(opt, text, v, why);
	case OPT_NUMBER:
		return parse_number(opt, text, v, why);
	case OPT_DURATION:
		return parse_duration(opt, text, v, why);
	case OPT_SIZE:
		return parse_size(opt, text, v, why);
	case OPT_BOOL:
		return parse_bool(text, v, why);
	case OPT_ENUM:
		return is_choice(text, opt->choices, NULL, why);
	case OPT_LIST:
		return parse_list(opt, text, why);
	case OPT_ADDRESS:
		return parse_address(text, why);
	case OPT_URL:
		return parse_url(text, why);
	case OPT_CLOCK:
		return parse_clock(text, v, why);
	case OPT_KEYS:
		return parse_keys(text, why);
	case OPT_COMMAND:
		return parse_text(opt, text, why) && parse_command_quotes(text, why);
	case OPT_STRING:
	case OPT_PATH:
		return parse_text(opt, text, why);
	}
	return false;
}

/* ---- Reading the file -------------------------------------------------- */

/* Index of the lines iniparser will read as sections or keys, with their line numbers. */
static void index_lines(const char *data, size_t len, struct ini_index *idx)
{
	int lineno = 0;
	struct buf logical = BUF_INIT;
	int logical_start = 0;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		char *line, *t;

		lineno++;
		if (logical.len == 0)
			logical_start = lineno;
		buf_add(&logical, data + pos, end - pos);
		pos = end + 1;
		while (logical.len > 0 && isspace((unsigned char)logical.data[logical.len - 1]))
			buf_truncate(&logical, logical.len - 1);
		if (logical.len > 0 && logical.data[logical.len - 1] == '\\') {
			/* Continued on the next line: iniparser joins the two. */
			buf_truncate(&logical, logical.len - 1);
			continue;
		}
		buf_reserve(&logical, 0);
		t = trim(logical.data);
		line = xstrdup(t);
		buf_truncate(&logical, 0);
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';') {
			free(line);
			continue;
		}
		struct ini_line entry = {.line = logical_start};

		if (line[0] == '[' && strchr(line, ']')) {
			*strchr(line, ']') = '\0';
			entry.is_section = true;
			entry.text = xstrdup(trim(line + 1));
		} else if (strchr(line, '=')) {
			*strchr(line, '=') = '\0';
			entry.text = xstrdup(trim(line));
		} else {
			free(line);
			continue;
		}
		for (char *p = entry.text; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		free(line);
		if (idx->n == idx->cap) {
			idx->cap = idx->cap ? idx->cap * 2 : 32;
			idx->lines = xreallocarray(idx->lines, idx->cap, sizeof *idx->lines);
		}
		idx->lines[idx->n++] = entry;
	}
	buf_free(&logical);
}

static void index_free(struct ini_index *idx)
{
	for (size_t i = 0; i < idx->n; i++)
		free(idx->lines[i].text);
	free(idx->lines);
	idx->lines = NULL;
	idx->n = idx->cap = 0;
}

/* What iniparser reported during one load, caught by its error callback. */
struct ini_report {
	int lines[INI_MAX_PASSES * 4];
	size_t nlines;
	bool other; /* a message without a line (allocation failure, cannot open) */
	struct buf text;
};

static struct ini_report *current_report;

/* iniparser's error callback: records the line it names instead of printing. */
static int __attribute__((format(printf, 1, 2))) capture_ini_error(const char *fmt, ...)
{
	struct ini_report *r = current_report;
	va_list ap;

	if (r == NULL)
		return 0;
	va_start(ap, fmt);
	if (strstr(fmt, "syntax error") || strstr(fmt, "line too long")) {
		(void)va_arg(ap, const char *);
		int line = va_arg(ap, int);

		if (r->nlines < sizeof r->lines / sizeof r->lines[0])
			r->lines[r->nlines++] = line;
	} else {
		r->other = true;
		buf_vaddf(&r->text, fmt, ap);
	}
	va_end(ap);
	return 0;
}

/* Empties line number `line` (1-based) of data, keeping its newline so later lines keep their numbers. */
static void blank_line(char *data, size_t *len, int line)
{
	size_t pos = 0, end;

	for (int n = 1; n < line && pos < *len; pos++)
		if (data[pos] == '\n')
			n++;
	end = pos;
	while (end < *len && data[end] != '\n')
		end++;
	memmove(data + pos, data + end, *len - end);
	*len -= end - pos;
	data[*len] = '\0';
}

static const char *line_text(const char *data, size_t len, int line, size_t *outlen)
{
	size_t pos = 0, end;

	for (int n = 1; n < line && pos < len; pos++)
		if (data[pos] == '\n')
			n++;
	end = pos;
	while (end < len && data[end] != '\n')
		end++;
	*outlen = end - pos;
	return data + pos;
}

/* Whether a line sets a secret key (its first word, in any section): its value is never shown.
 * *key_len gets the length up to the end of that word. */
static bool sets_secret(const char *text, size_t n, size_t *key_len)
{
	size_t start = 0, end;

	while (start < n && isspace((unsigned char)text[start]))
		start++;
	end = start;
	while (end < n && (isalnum((unsigned char)text[end]) || text[end] == '_'))
		end++;
	for (size_t i = 0; i < option_count && end > start; i++) {
		if ((option_table[i].flags & OPT_SECRET) && strlen(option_table[i].key) == end - start &&
		    strncmp(option_table[i].key, text + start, end - start) == 0) {
			*key_len = end;
			return true;
		}
	}
	return false;
}

static void report_syntax_error(struct config *cfg, const char *data, size_t len, int line)
{
	size_t n, key_len;
	const char *text = line_text(data, len, line, &n);
	struct buf shown = BUF_INIT;

	if (sets_secret(text, n, &key_len)) {
		buf_add_printable(&shown, text, key_len);
		buf_adds(&shown, " ... (the rest is not shown)");
	} else if (n > 60) {
		buf_add_printable(&shown, text, 57);
		buf_adds(&shown, "...");
	} else {
		buf_add_printable(&shown, text, n);
	}
	add_error(cfg, "%s:%d: syntax error: \"%s\" is neither a [section] header nor key = value", cfg->path, line,
	          buf_str(&shown));
	buf_free(&shown);
}

/* Loads data through iniparser, blanking lines it rejects and loading again, so that
 * every syntax error is reported and the remaining lines are still checked. */
static dictionary *load_ini(struct config *cfg, char *data, size_t *len, const char *original, size_t original_len)
{
	struct ini_report report = {.nlines = 0};
	dictionary *dict = NULL;
	char fdpath[64];
	int fd = memfd_create("simq.ini", MFD_CLOEXEC);

	if (fd < 0) {
		add_error(cfg, "%s: cannot read it (memfd_create: %s)", cfg->path, strerror(errno));
		return NULL;
	}
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
	iniparser_set_error_callback(capture_ini_error);
	current_report = &report;
	for (int pass = 0; pass < INI_MAX_PASSES; pass++) {
		if (ftruncate(fd, 0) != 0 || pwrite(fd, data, *len, 0) != (ssize_t)*len) {
			add_error(cfg, "%s: cannot read it (%s)", cfg->path, strerror(errno));
			break;
		}
		report.nlines = 0;
		dict = iniparser_load(fdpath);
		if (dict != NULL || report.nlines == 0)
			break;
		for (size_t i = 0; i < report.nlines; i++) {
			report_syntax_error(cfg, original, original_len, report.lines[i]);
			blank_line(data, len, report.lines[i]);
		}
	}
	current_report = NULL;
	iniparser_set_error_callback(NULL);
	if (dict == NULL && report.nlines == 0)
		add_error(cfg, "%s: iniparser could not read it%s%s", cfg->path, report.other ? ": " : "",
		          buf_str(&report.text));
	buf_free(&report.text);
	close(fd);
	return dict;
}

/* ---- Validation ------------------------------------------------------- */

static bool valid_instance_name(const char *name)
{
	return name[0] != '\0' && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-@") == strlen(name);
}

static void report_unknown_section(struct config *cfg, int line, const char *type)
{
	const char *names[32];
	const char *near;

	for (size_t i = 0; i < option_section_count; i++)
		names[i] = option_sections[i].name;
	near = closest(type, names, option_section_count);
	if (near)
		add_error(cfg, "%s:%d: unknown section [%s]; did you mean [%s]?", cfg->path, line, type, near);
	else
		add_error(cfg,
		          "%s:%d: unknown section [%s]; sections are server, backend NAME, pool NAME, scheduler, store, "
		          "notify, webhook NAME, metrics, ui, keys",
		          cfg->path, line, type);
}

static void report_unknown_key(struct config *cfg, int line, const struct config_section *sec, const char *key)
{
	const char *keys[64];
	struct buf all = BUF_INIT;
	const char *near;

	for (size_t i = 0; i < sec->count && i < 64; i++) {
		keys[i] = option_table[sec->first + i].key;
		buf_addf(&all, "%s%s", i ? ", " : "", keys[i]);
	}
	near = closest(key, keys, sec->count < 64 ? sec->count : 64);
	if (near)
		add_error(cfg, "%s:%d: [%s] unknown key \"%s\"; did you mean \"%s\"?", cfg->path, line, sec->full, key,
		          near);
	else
		add_error(cfg, "%s:%d: [%s] unknown key \"%s\"; keys here are: %s", cfg->path, line, sec->full, key,
		          buf_str(&all));
	buf_free(&all);
}

/* Opens a section header line: returns the section its keys go to, or NULL to skip them. */
static struct config_section *open_section(struct config *cfg, const struct ini_line *l)
{
	char *type = xstrdup(l->text);
	char *name = type + strcspn(type, " \t");
	const struct section_def *def;
	struct config_section *sec = NULL;

	if (*name) {
		*name++ = '\0';
		name = trim(name);
	}
	def = option_section_find(type);
	if (def == NULL) {
		report_unknown_section(cfg, l->line, type);
	} else if (def->named && *name == '\0') {
		add_error(cfg, "%s:%d: [%s] needs a name, e.g. [%s %s]", cfg->path, l->line, type, type, def->example);
	} else if (!def->named && *name != '\0') {
		add_error(cfg, "%s:%d: [%s %s]: the [%s] section takes no name", cfg->path, l->line, type, name, type);
	} else if (def->named && !valid_instance_name(name)) {
		add_error(cfg, "%s:%d: [%s %s]: a %s name may hold letters, digits and _ . - @ only", cfg->path,
		          l->line, type, name, type);
	} else {
		for (size_t i = 0; i < cfg->nsections; i++) {
			struct config_section *s = cfg->sections[i];

			if (strcmp(s->full, l->text) != 0)
				continue;
			if (s->line > 0)
				add_error(cfg, "%s:%d: section [%s] appears twice (first at line %d); write each once",
				          cfg->path, l->line, l->text, s->line);
			else
				s->line = l->line;
			sec = s;
		}
		if (sec == NULL)
			sec = section_new(cfg, def, def->named ? name : NULL, l->line);
	}
	free(type);
	return sec;
}

static void check_value(struct config *cfg, dictionary *dict, struct config_section *sec, const struct ini_line *l,
                        int *seen)
{
	const struct option_def *opt = option_find(sec->def->name, l->text);
	char *dkey;
	const char *text;
	struct buf why = BUF_INIT, shown = BUF_INIT;

	if (opt == NULL) {
		report_unknown_key(cfg, l->line, sec, l->text);
		return;
	}
	size_t k = (size_t)(opt - &option_table[sec->first]);
	struct config_value *v = &sec->values[k];

	if (seen[k] > 0) {
		add_error(cfg, "%s:%d: [%s] %s is set twice (first at line %d); keep one", cfg->path, l->line,
		          sec->full, opt->key, seen[k]);
		return;
	}
	seen[k] = l->line;
	dkey = xasprintf("%s:%s", sec->full, l->text);
	text = iniparser_getstring(dict, dkey, NULL);
	free(dkey);
	if (text == NULL)
		return;
	struct config_value parsed = {.line = l->line};

	if (parse_value(opt, text, &parsed, &why)) {
		free(v->text);
		*v = parsed;
		v->text = xstrdup(text);
	} else {
		char *allowed = option_allowed_text(opt);

		/* The token is never echoed: the message may be pasted anywhere. */
		if (opt->flags & OPT_SECRET) {
			buf_adds(&shown, "(not shown)");
		} else {
			buf_addc(&shown, '"');
			buf_add_shown(&shown, text, strlen(text));
			buf_addc(&shown, '"');
		}
		add_error(cfg, "%s:%d: [%s] %s = %s: %s; allowed: %s", cfg->path, l->line, sec->full, opt->key,
		          buf_str(&shown), buf_str(&why), allowed);
		free(allowed);
	}
	buf_free(&why);
	buf_free(&shown);
}

/* A [pool]'s script and slurm_conf, when set, are files that exist. */
static void check_pool_files(struct config *cfg, const struct config_section *sec)
{
	static const char *const keys[] = {"script", "slurm_conf"};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *path = config_sec_str(sec, keys[i]);
		struct stat st;

		if (path[0] && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
			add_error(cfg, "%s:%d: [%s] %s = \"%s\": %s; allowed: a file that exists, or empty", cfg->path,
			          config_sec_line(sec, keys[i]), sec->full, keys[i], path,
			          stat(path, &st) != 0 ? strerror(errno) : "not a regular file");
	}
}

/* sbatch_args may not set what simq finds its jobs by (--job-name, --comment) or counts them by (--licenses). */
static void check_sbatch_args(struct config *cfg, const struct config_section *sec)
{
	static const char *const owned[] = {"--job-name", "-J", "--licenses", "-L", "--comment"};
	char *copy = xstrdup(config_sec_str(sec, "sbatch_args")), *save = NULL;

	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
			size_t n = strlen(owned[i]);

			if (strncmp(w, owned[i], n) == 0 && (w[n] == '\0' || w[n] == '=' || (owned[i][1] != '-' && n == 2))) {
				add_error(cfg, "%s:%d: [%s] sbatch_args = \"%s\": %s is simq's own (it finds and counts the "
				          "pool's jobs by --job-name, --licenses and --comment); allowed: other sbatch "
				          "options; set job_name and licenses as keys",
				          cfg->path, config_sec_line(sec, "sbatch_args"), sec->full, config_sec_str(sec, "sbatch_args"),
				          owned[i]);
				break;
			}
		}
	}
	free(copy);
}

/* [pool NAME]: min not above max, licences as NAME:COUNT, a job name sbatch takes. */
static void check_pools(struct config *cfg)
{
	const struct config_section *sec;

	for (size_t i = 0; (sec = config_section_nth(cfg, "pool", i)) != NULL; i++) {
		const char *lic = config_sec_str(sec, "licenses"), *job = config_sec_str(sec, "job_name");
		char *copy = xstrdup(lic), *save = NULL;
		bool ok = true;

		if (config_sec_int(sec, "min") > config_sec_int(sec, "max"))
			add_error(cfg, "%s:%d: [%s] min = %lld is more than max = %lld; allowed: min <= max", cfg->path,
			          config_sec_line(sec, "min") ? config_sec_line(sec, "min") : config_sec_line(sec, "max"),
			          sec->full, config_sec_int(sec, "min"), config_sec_int(sec, "max"));
		for (char *t = strtok_r(copy, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
			char *colon = strchr(t, ':');

			ok = colon && colon > t && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
			                                   (size_t)(colon - t) &&
			     colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) && atoll(colon + 1) > 0;
		}
		if (!ok)
			add_error(cfg, "%s:%d: [%s] licenses = \"%s\": not a licence list; allowed: NAME:COUNT[,NAME:COUNT...] "
			          "with COUNT from 1, as sbatch --licenses takes it, e.g. plecs:1, or empty",
			          cfg->path, config_sec_line(sec, "licenses"), sec->full, lic);
		check_pool_files(cfg, sec);
		check_sbatch_args(cfg, sec);
		if (strspn(job, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@") != strlen(job))
			add_error(cfg, "%s:%d: [%s] job_name = \"%s\": allowed: letters, digits and _ - . @", cfg->path,
			          config_sec_line(sec, "job_name"), sec->full, job);
		free(copy);
	}
}

/* Rules that span keys: required keys of named sections, backoff order, key conflicts. */
static void check_whole(struct config *cfg)
{
	check_pools(cfg);
	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct config_section *sec = cfg->sections[i];

		for (size_t k = 0; k < sec->count; k++) {
			const struct option_def *opt = &option_table[sec->first + k];

			if ((opt->flags & OPT_REQUIRED) && sec->values[k].line == 0)
				add_error(cfg, "%s:%d: [%s] has no %s; it is required", cfg->path, sec->line, sec->full,
				          opt->key);
		}
	}
	const struct config_section *sch = config_section(cfg, "scheduler", NULL);

	if (config_sec_double(sch, "backoff_max") < config_sec_double(sch, "backoff_base"))
		add_error(cfg,
		          "%s:%d: [scheduler] backoff_max = \"%s\" is less than backoff_base = \"%s\"; allowed: "
		          "backoff_max >= backoff_base",
		          cfg->path,
		          config_sec_line(sch, "backoff_max") ? config_sec_line(sch, "backoff_max")
		                                              : config_sec_line(sch, "backoff_base"),
		          config_sec_str(sch, "backoff_max"), config_sec_str(sch, "backoff_base"));

	const struct config_section *keys = config_section(cfg, "keys", NULL);
	struct {
		char *key;
		size_t action;
	} bound[256];
	size_t nbound = 0;

	for (size_t a = 0; a < keys->count; a++) {
		char *copy = xstrdup(keys->values[a].text), *save = NULL;

		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *k = trim(tok);
			bool named = strlen(k) > 1;

			for (size_t b = 0; b < nbound; b++) {
				bool same = named ? strcasecmp(bound[b].key, k) == 0 : strcmp(bound[b].key, k) == 0;

				if (same && bound[b].action != a) {
					const struct config_value *va = &keys->values[a],
					                          *vb = &keys->values[bound[b].action];
					int line = va->line ? va->line : vb->line;

					add_error(cfg,
					          "%s:%d: [keys] %s is bound to both %s and %s; allowed: each key once",
					          cfg->path, line, k, option_table[keys->first + bound[b].action].key,
					          option_table[keys->first + a].key);
				}
			}
			if (nbound < 256) {
				bound[nbound].key = xstrdup(k);
				bound[nbound++].action = a;
			}
		}
		free(copy);
	}
	for (size_t b = 0; b < nbound; b++)
		free(bound[b].key);
}

static bool read_file(struct config *cfg, const char *path, bool must_exist, char **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno != ENOENT || must_exist)
			add_error(cfg, "%s: cannot open it: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		add_error(cfg, "%s: cannot read it: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		add_error(cfg, "%s: is a directory; give the path of a simq.ini file", path);
		close(fd);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		add_error(cfg, "%s: is not a regular file; give the path of a simq.ini file", path);
		close(fd);
		return false;
	}
	if (st.st_size > CONFIG_MAX_FILE_SIZE) {
		add_error(cfg, "%s: is %lld bytes; a simq.ini may be at most %d bytes", path, (long long)st.st_size,
		          CONFIG_MAX_FILE_SIZE);
		close(fd);
		return false;
	}
	*data = xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while (*len < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + *len, (size_t)st.st_size - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	(*data)[*len] = '\0';
	close(fd);
	return true;
}

/* Empties lines iniparser cannot take at all (too long, NUL bytes), reporting each. */
static void blank_unreadable_lines(struct config *cfg, char *data, size_t *len)
{
	int lineno = 1;
	size_t start = 0;

	for (size_t pos = 0; pos <= *len; pos++) {
		if (pos < *len && data[pos] != '\n')
			continue;
		size_t n = pos - start;
		bool bad = true;

		if (memchr(data + start, '\0', n))
			add_error(cfg, "%s:%d: the line holds a NUL byte; simq.ini must be text", cfg->path, lineno);
		else if (n > INI_LINE_MAX)
			add_error(cfg, "%s:%d: the line is %zu bytes long; lines may be at most %d bytes", cfg->path,
			          lineno, n, INI_LINE_MAX);
		else
			bad = false;
		if (bad) {
			memmove(data + start, data + pos, *len - pos);
			*len -= n;
			data[*len] = '\0';
			pos = start;
		}
		start = pos + 1;
		lineno++;
	}
}

struct config *config_load(const char *path, bool must_exist)
{
	struct config *cfg = config_new();
	struct ini_index idx = {.n = 0};
	char *data = NULL, *original;
	size_t len = 0;
	dictionary *dict;
	struct config_section *sec = NULL;
	int *seen = NULL;
	bool seen_header = false;

	cfg->path = xstrdup(path);
	if (!read_file(cfg, path, must_exist, &data, &len)) {
		if (cfg->nerrors == 0) {
			/* An absent default file: defaults only. */
			xfree(&cfg->path);
		}
		return cfg;
	}
	original = xmalloc(len + 1);
	memcpy(original, data, len + 1);
	size_t original_len = len;

	blank_unreadable_lines(cfg, data, &len);
	dict = load_ini(cfg, data, &len, original, original_len);
	if (dict == NULL)
		goto out;
	index_lines(data, len, &idx);
	for (size_t i = 0; i < idx.n; i++) {
		const struct ini_line *l = &idx.lines[i];

		if (l->is_section) {
			seen_header = true;
			sec = open_section(cfg, l);
			free(seen);
			seen = sec ? xcalloc(sec->count + 1, sizeof *seen) : NULL;
			continue;
		}
		if (!seen_header) {
			add_error(cfg, "%s:%d: \"%s\" is outside any section; put it under a [section] header",
			          cfg->path, l->line, l->text);
			continue;
		}
		if (sec != NULL)
			check_value(cfg, dict, sec, l, seen);
	}
	check_whole(cfg);
	iniparser_freedict(dict);
out:
	free(seen);
	index_free(&idx);
	free(data);
	free(original);
	return cfg;
}

/* ---- Accessors --------------------------------------------------------- */

size_t config_error_count(const struct config *cfg)
{
	return cfg->nerrors;
}

const char *config_error(const struct config *cfg, size_t i)
{
	return i < cfg->nerrors ? cfg->errors[i] : NULL;
}

const char *config_path(const struct config *cfg)
{
	return cfg->path;
}

const struct config_section *config_section(const struct config *cfg, const char *type, const char *name)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct config_section *sec = cfg->sections[i];

		if (strcmp(sec->def->name, type) != 0)
			continue;
		if (name == NULL ? sec->name == NULL : (sec->name && strcmp(sec->name, name) == 0))
			return sec;
	}
	return NULL;
}

const struct config_section *config_section_nth(const struct config *cfg, const char *type, size_t n)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct config_section *sec = cfg->sections[i];

		if (strcmp(sec->def->name, type) == 0 && sec->name && n-- == 0)
			return sec;
	}
	return NULL;
}

const char *config_section_name(const struct config_section *sec)
{
	return sec->name;
}

int config_section_line(const struct config_section *sec)
{
	return sec->line;
}

static const struct config_value *value_of(const struct config_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->count; i++)
		if (strcmp(option_table[sec->first + i].key, key) == 0)
			return &sec->values[i];
	fprintf(stderr, "simq: bug: no option %s.%s in the option table\n", sec->def->name, key);
	abort();
}

long long config_sec_int(const struct config_section *sec, const char *key)
{
	return value_of(sec, key)->i;
}

double config_sec_double(const struct config_section *sec, const char *key)
{
	return value_of(sec, key)->d;
}

bool config_sec_bool(const struct config_section *sec, const char *key)
{
	return value_of(sec, key)->b;
}

const char *config_sec_str(const struct config_section *sec, const char *key)
{
	return value_of(sec, key)->text;
}

int config_sec_line(const struct config_section *sec, const char *key)
{
	return value_of(sec, key)->line;
}

static const struct config_section *unnamed(const struct config *cfg, const char *section)
{
	const struct config_section *sec = config_section(cfg, section, NULL);

	if (sec == NULL) {
		fprintf(stderr, "simq: bug: no unnamed section [%s]\n", section);
		abort();
	}
	return sec;
}

long long config_int(const struct config *cfg, const char *section, const char *key)
{
	return config_sec_int(unnamed(cfg, section), key);
}

double config_double(const struct config *cfg, const char *section, const char *key)
{
	return config_sec_double(unnamed(cfg, section), key);
}

bool config_bool(const struct config *cfg, const char *section, const char *key)
{
	return config_sec_bool(unnamed(cfg, section), key);
}

const char *config_str(const struct config *cfg, const char *section, const char *key)
{
	return config_sec_str(unnamed(cfg, section), key);
}

char *config_dashboard_line(const struct config *cfg, const char *state_dir)
{
	const char *listen = config_str(cfg, "dashboard", "listen");
	bool v6 = strchr(listen, ':') != NULL;
	/* "token in STATE/token", or, when the configuration sets it, "token: [server] token in FILE". */
	char *file = paths_join(state_dir, "token");
	char *token = !config_str(cfg, "server", "token")[0] ? xasprintf("token in %s", file)
	              : config_path(cfg) ? xasprintf("token: [server] token in %s", config_path(cfg))
	                                 : xstrdup("token: [server] token");
	char *line;

	free(file);
	if (listen[0] == '\0') {
		free(token);
		return NULL;
	}
	line = xasprintf("dashboard on http://%s%s%s:%lld/ (%s)", v6 ? "[" : "", listen, v6 ? "]" : "",
	                 config_int(cfg, "dashboard", "port"), token);
	free(token);
	return line;
}

bool config_check_value(const char *section, const char *key, const char *text, char **why)
{
	const struct option_def *opt = option_find(section, key);
	struct config_value v = {0};
	struct buf reason = BUF_INIT;

	if (opt == NULL)
		abort(); /* a bug: the caller names a key of the table */
	if (parse_value(opt, text, &v, &reason)) {
		buf_free(&reason);
		return true;
	}
	char *allowed = option_allowed_text(opt);

	*why = xasprintf("%s; allowed: %s", buf_str(&reason), allowed);
	free(allowed);
	buf_free(&reason);
	return false;
}

void config_check_socket(struct config *cfg)
{
	const struct config_section *server = config_section(cfg, "server", NULL);
	const char *sock = config_sec_str(server, "socket"), *configured = config_sec_str(server, "state_dir");
	char *dir = paths_state_dir(configured[0] ? configured : NULL);
	char *path = sock[0] == '/' ? xstrdup(sock) : paths_join(dir, sock);
	struct sockaddr_un addr;
	int line = config_sec_line(server, "socket") ? config_sec_line(server, "socket")
						       : config_sec_line(server, "state_dir");

	if (strlen(path) >= sizeof addr.sun_path) {
		char *shown = buf_shown(sock), *full = buf_shown(path);

		add_error(cfg, "%s:%d: [server] socket = \"%s\": the socket's path would be %zu bytes long (%s); allowed: "
		          "at most %zu bytes, a Unix socket's limit: give an absolute socket path or a shorter state_dir",
		          cfg->path ? cfg->path : "(defaults)", line, shown, strlen(path), full, sizeof addr.sun_path - 1);
		free(shown);
		free(full);
	}
	free(path);
	free(dir);
}
