#include "autoconf.h"

#include "client/summary.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* The pools that are not well ("cluster FAILING") and the jobs pending ("2 jobs pending (Licenses)"). */
static void summary_read_pools(xmlrpc_value *pools, struct summary *s)
{
	int64_t pending = 0;
	char reason[64] = "";
	size_t used = 0;

	for (int i = 0; i < reply_count(pools); i++) {
		xmlrpc_value *p = reply_item(pools, i);
		char name[64], health[16], why[64];

		pending += reply_int(p, "pending", 0);
		if (!reason[0])
			snprintf(reason, sizeof reason, "%s", reply_str(p, "pending_reason", why, sizeof why));
		if (strcmp(reply_str(p, "health", health, sizeof health), "ok") == 0)
			continue;
		for (char *h = health; *h; h++)
			*h = (char)(*h >= 'a' && *h <= 'z' ? *h - 32 : *h);
		int n = snprintf(s->pools + used, sizeof s->pools - used, "%s%s %s", used ? "," : "",
		                 reply_str(p, "name", name, sizeof name), health);

		if (n < 0 || (size_t)n >= sizeof s->pools - used)
			break;
		used += (size_t)n;
	}
	if (pending > 0)
		snprintf(s->pending, sizeof s->pending, "%lld job%s pending%s%s%s", (long long)pending,
		         pending == 1 ? "" : "s", reason[0] ? " (" : "", reason, reason[0] ? ")" : "");
}

/* Paused by the operator (simq pause BACKEND). */
static bool backend_held(xmlrpc_value *b)
{
	return reply_int(b, "paused", 0) != 0;
}

/* The names of the backends pick picks, comma-separated; those that do not fit are counted ("+22 more"),
 * never cut in the middle. */
static void backend_names(xmlrpc_value *backends, bool (*pick)(xmlrpc_value *b), char *out, size_t size)
{
	size_t used = 0;
	int left = 0;

	out[0] = '\0';
	for (int i = 0; i < reply_count(backends); i++)
		left += pick(reply_item(backends, i));
	for (int i = 0; i < reply_count(backends) && left > 0; i++) {
		xmlrpc_value *b = reply_item(backends, i);
		char name[128];

		if (!pick(b))
			continue;
		reply_str(b, "name", name, sizeof name);
		/* Room for this name, and for " +N more" after it unless it is the last. */
		size_t need = (used ? 1 : 0) + strlen(name) + (left > 1 ? sizeof " +99999 more" : 1);

		if (used + need > size) {
			snprintf(out + used, size - used, " +%d more", left);
			break;
		}
		used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "", name);
		left--;
	}
}

void summary_read(xmlrpc_value *status, struct summary *s)
{
	xmlrpc_value *backends = reply_member(status, "backends");

	memset(s, 0, sizeof *s);
	s->queued = reply_int(status, "queued", 0);
	s->running = reply_int(status, "running", 0);
	s->failed = reply_int(status, "failed", 0);
	s->done = reply_int(status, "completed", 0);
	s->unseen = reply_int(status, "failures", 0) - reply_int(status, "failures_seen", 0);
	if (s->unseen < 0)
		s->unseen = 0;
	s->paused = reply_int(status, "paused", 0) != 0;
	/*
	 * The reason's head, what simq cannot do ("cannot keep results"), fits a status line beside the
	 * window list; why and what to do are in simq stats and the console.
	 */
	if (s->paused) {
		reply_str(status, "pause_reason", s->why, sizeof s->why);
		s->why[strcspn(s->why, ":;")] = '\0';
	}
	/* DOWN: asked and not answering.  A backend not asked yet (checking) is neither UP nor DOWN. */
	backend_names(backends, reply_backend_down, s->down, sizeof s->down);
	backend_names(backends, backend_held, s->held, sizeof s->held);
	summary_read_pools(reply_member(status, "pools"), s);
}

/* ---- fields -------------------------------------------------------------------------- */

/* 1842 as "1,842": read at a glance in a status line. */
static void count_text(int64_t n, char *out, size_t size)
{
	char digits[32];
	size_t len, o = 0;

	snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? 0 : n));
	len = strlen(digits);
	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

#define COUNT_FIELD(name, member)                                                                                      \
	static void field_##name(const struct summary *s, char *out, size_t size)                                     \
	{                                                                                                              \
		count_text(s->member, out, size);                                                                      \
	}
COUNT_FIELD(queued, queued)
COUNT_FIELD(running, running)
COUNT_FIELD(failed, failed)
COUNT_FIELD(new, unseen)
COUNT_FIELD(done, done)

static void field_down(const struct summary *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s->down);
}

static void field_held(const struct summary *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s->held);
}

static void field_pools(const struct summary *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s->pools);
}

static void field_pending(const struct summary *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s->pending);
}

static void field_paused(const struct summary *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s->paused ? "paused" : "");
}

static void field_why(const struct summary *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s->why);
}

struct field {
	const char *name;
	void (*value)(const struct summary *s, char *out, size_t size);
};

static const struct field fields[] = {
#define X(name, help) {#name, field_##name},
	SUMMARY_FIELDS(X)
#undef X
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])
#define NAME_LIST(name, help) "{" #name "} "
#define FIELD_NAMES_HELP "allowed: " SUMMARY_FIELDS(NAME_LIST) "(or {name?text})"

static const struct field *field_find(const char *name, size_t len)
{
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (strlen(fields[i].name) == len && strncmp(fields[i].name, name, len) == 0)
			return &fields[i];
	return NULL;
}

/* ---- expanding a format ----------------------------------------------------------------- */

struct expand {
	const struct summary *s;
	unsigned flags;
	const char *fmt; /* for the place in a message */
	struct buf out;
	char *err;
};

static bool expand_error(struct expand *x, const char *at, const char *what)
{
	x->err = xasprintf("the format at column %zu: %s", (size_t)(at - x->fmt) + 1, what);
	return false;
}

/* A value as text in the line: no control characters (a pane title is an escape sequence); # doubled for tmux. */
static void add_value(struct expand *x, const char *v)
{
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch < 0x20 || ch == 0x7f)
			buf_addc(&x->out, '?');
		else if (ch == '#' && (x->flags & SUMMARY_TMUX))
			buf_adds(&x->out, "##");
		else
			buf_addc(&x->out, (char)ch);
	}
}

static bool expand_text(struct expand *x, const char **p, bool nested, bool emit);

/* {name} or {name?TEXT}, with *p at the {. */
static bool expand_field(struct expand *x, const char **p, bool emit)
{
	const char *open = *p, *name = open + 1;
	size_t len = strcspn(name, "?}");
	const struct field *f = field_find(name, len);
	char value[sizeof x->s->down + 16];

	if (f == NULL) {
		char *what = xasprintf("{%.*s} is no field; " FIELD_NAMES_HELP, (int)len, name);
		bool ok = expand_error(x, open, what);

		free(what);
		return ok;
	}
	f->value(x->s, value, sizeof value);
	*p = name + len;
	if (**p == '?') {
		bool set = value[0] != '\0' && strcmp(value, "0") != 0;

		(*p)++;
		if (!expand_text(x, p, true, emit && set))
			return false;
		if (**p != '}')
			return expand_error(x, open, "a {field? that is not closed with }");
	} else if (**p != '}') {
		return expand_error(x, open, "a { that is not closed with }");
	} else if (emit) {
		add_value(x, value);
	}
	(*p)++;
	return true;
}

/* Text up to the end (or, nested, up to the } that closes a {field?), into x->out when emit. */
static bool expand_text(struct expand *x, const char **p, bool nested, bool emit)
{
	while (**p) {
		if (**p == '}') {
			if (nested)
				return true;
			return expand_error(x, *p, "a } with no { before it");
		}
		if (**p == '#' && (*p)[1] == '[') {
			const char *end = strchr(*p, ']');

			if (end == NULL)
				return expand_error(x, *p, "a #[ style with no ]");
			if (emit && (x->flags & SUMMARY_TMUX))
				buf_add(&x->out, *p, (size_t)(end + 1 - *p));
			*p = end + 1;
		} else if (**p == '{') {
			if (!expand_field(x, p, emit))
				return false;
		} else {
			unsigned char ch = (unsigned char)**p;

			if (emit)
				buf_addc(&x->out, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
			(*p)++;
		}
	}
	return true; /* nested: the {field? at its start says it was not closed */
}

/* The status line's own symbols in ASCII; anything else outside ASCII becomes ?. */
static char *to_ascii(const char *s)
{
	static const struct {
		const char *utf8, *ascii;
	} symbols[] = {{"▸", ">"}, {"⚙", "*"}, {"✗", "x"}, {"·", "-"}, {"—", "-"}, {"…", "..."}};
	struct buf out = BUF_INIT;
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = utf8_valid_prefix(s + i, len - i);
		const char *repl = "?";

		if (n == 1) {
			buf_addc(&out, s[i]);
			i++;
			continue;
		}
		for (size_t k = 0; n > 1 && k < sizeof symbols / sizeof symbols[0]; k++)
			if (strlen(symbols[k].utf8) == n && memcmp(s + i, symbols[k].utf8, n) == 0)
				repl = symbols[k].ascii;
		buf_adds(&out, repl);
		i += n ? n : 1;
	}
	buf_adds(&out, ""); /* "" rather than NULL for an empty line */
	return buf_detach(&out);
}

char *summary_format(const struct summary *s, const char *fmt, unsigned flags, char **err)
{
	struct expand x = {.s = s, .flags = flags, .fmt = fmt ? fmt : SUMMARY_DEFAULT_FORMAT, .out = BUF_INIT};
	const char *p = x.fmt;

	*err = NULL;
	if (!expand_text(&x, &p, false, true)) {
		buf_free(&x.out);
		*err = x.err;
		return NULL;
	}
	buf_adds(&x.out, ""); /* "" rather than NULL for an empty line */
	char *line = buf_detach(&x.out);

	if (flags & SUMMARY_ASCII) {
		char *ascii = to_ascii(line);

		free(line);
		line = ascii;
	}
	return line;
}

bool summary_locale_utf8(void)
{
	const char *set = nl_langinfo(CODESET);

	return set && (strcmp(set, "UTF-8") == 0 || strcmp(set, "utf8") == 0);
}
