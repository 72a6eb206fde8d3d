/* A task's details over the panes: its vars, attempts with PLECS's words, its result; or the log pane's lines whole.
 * Arrows scroll, any other key closes. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "ui/mode.h"
#include "ui/pane.h"
#include "ui/screen.h"
#include "ui/text.h"

#define MAX_LINES  40
#define LINE_BYTES 1200

/* Whether an attempt of this outcome spent one of the task's attempts: PLECS ran it (DESIGN 6). */
static bool counts(const char *outcome)
{
	return strcmp(outcome, "ok") == 0 || strcmp(outcome, "transient") == 0 || strcmp(outcome, "permanent") == 0 ||
	       strcmp(outcome, "running") == 0;
}

/* A time of day in the local zone from an ISO time ("" when none). */
static const char *clock_of(const char *iso, char *out, size_t size)
{
	if (text_iso_ms(iso) == 0)
		out[0] = '\0';
	else
		text_clock(out, size, text_iso_ms(iso));
	return out;
}

/*
 * "#1  03:00:00-03:00:05  ws1 batch 3  transient: ..." for each attempt, from line n on; returns the
 * next.  Those PLECS never ran (backend, local, split, interrupted, discarded) say they are no retry.
 */
static int attempt_lines(xmlrpc_value *t, char lines[][LINE_BYTES], int n)
{
	xmlrpc_value *attempts = reply_member(t, "attempt_list");

	for (int i = 0; i < reply_count(attempts) && n < MAX_LINES - 4; i++) {
		xmlrpc_value *at = reply_item(attempts, i);
		char st[64], en[64], be[64], out[32], er[300], a[16], b[16];

		reply_str(at, "started", st, sizeof st);
		reply_str(at, "ended", en, sizeof en);
		reply_str(at, "outcome", out, sizeof out);
		snprintf(lines[n++], LINE_BYTES, "%s #%lld  %s-%s  %s batch %lld  %s%s%.280s%s",
		         i ? "         " : "attempts", (long long)reply_int(at, "n", 0), clock_of(st, a, sizeof a),
		         clock_of(en, b, sizeof b), reply_str(at, "backend", be, sizeof be),
		         (long long)reply_int(at, "batch", 0), out, reply_str(at, "error", er, sizeof er)[0] ? ": " : "",
		         er, counts(out) ? "" : "  (not a retry: PLECS did not run it)");
	}
	return n;
}

/* The result file and each signal's summary, from line n on; returns the next. */
/* A signal's summary: each figure the server has, "inf" or "nan" as it names one that is not finite; one
 * it has not (final, in a result stored before simq kept final values) is left out. */
static void figures_line(char *line, const char *name, xmlrpc_value *sig)
{
	static const char *const keys[] = {"min", "max", "mean", "rms", "final"};
	int len = snprintf(line, LINE_BYTES, "          %-8s", name);

	for (size_t i = 0; i < sizeof keys / sizeof keys[0] && len < LINE_BYTES; i++) {
		char text[64];

		if (reply_text(sig, keys[i], text, sizeof text)[0])
			len += snprintf(line + len, LINE_BYTES - (size_t)len, " %s %-12s", keys[i], text);
	}
	for (len = (int)strlen(line); len > 0 && line[len - 1] == ' '; len--)
		line[len - 1] = '\0';
}

static int result_lines(xmlrpc_value *t, char lines[][LINE_BYTES], int n)
{
	xmlrpc_value *result = reply_member(t, "result"), *summary = reply_member(result, "summary");
	char a[512], b[512];
	xmlrpc_env env;

	if (result == NULL)
		return n;
	int64_t points = reply_int(result, "points", 0), signals = reply_int(result, "signals", 0);

	snprintf(lines[n++], LINE_BYTES, "result    %.300s (%s, %lld point%s, %lld signal%s)",
	         reply_str(result, "path", a, sizeof a), reply_str(result, "format", b, sizeof b), (long long)points,
	         points == 1 ? "" : "s", (long long)signals, signals == 1 ? "" : "s");
	xmlrpc_env_init(&env);
	int k = summary && xmlrpc_value_type(summary) == XMLRPC_TYPE_STRUCT ? xmlrpc_struct_size(&env, summary) : 0;

	for (int i = 0; i < k && n < MAX_LINES; i++) {
		xmlrpc_value *key, *sig;
		const char *name;

		xmlrpc_struct_read_member(&env, summary, (unsigned)i, &key, &sig);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, key, &name);
		figures_line(lines[n++], name, sig);
		free((void *)name);
		xmlrpc_DECREF(key);
		xmlrpc_DECREF(sig);
	}
	xmlrpc_env_clean(&env);
	return n;
}

/* The details as lines before wrapping; returns how many. */
static int details_lines(xmlrpc_value *t, char lines[][LINE_BYTES])
{
	char a[512], b[512], d[512], vars[512];
	int n = 0;

	snprintf(lines[n++], LINE_BYTES, "task %lld  %s", (long long)reply_int(t, "id", 0),
	         reply_str(t, "name", a, sizeof a));
	snprintf(lines[n++], LINE_BYTES, "model     %s", reply_str(t, "model", a, sizeof a));
	int listed = reply_count(reply_member(t, "attempt_list"));

	snprintf(lines[n++], LINE_BYTES, "priority  %s   state %s   attempts %lld that PLECS ran, %d in all",
	         reply_str(t, "priority", a, sizeof a), reply_str(t, "state", b, sizeof b),
	         (long long)reply_int(t, "attempts", 0), listed);
	text_vars(reply_member(t, "vars"), vars, sizeof vars);
	snprintf(lines[n++], LINE_BYTES, "vars      %s", vars[0] ? vars : "(none)");
	text_vars(reply_member(t, "solver"), vars, sizeof vars);
	snprintf(lines[n++], LINE_BYTES, "solver    %s", vars[0] ? vars : "(model's own)");
	snprintf(lines[n++], LINE_BYTES, "submitted %s",
	         text_when(b, sizeof b, reply_str(t, "submitted", a, sizeof a)));
	snprintf(lines[n++], LINE_BYTES, "started   %s", text_when(b, sizeof b, reply_str(t, "started", a, sizeof a)));
	snprintf(lines[n++], LINE_BYTES, "finished  %s", text_when(b, sizeof b, reply_str(t, "finished", a, sizeof a)));
	if (reply_int(t, "source", 0))
		snprintf(lines[n++], LINE_BYTES, "cached    yes: result reused from task %lld, no PLECS call",
		         (long long)reply_int(t, "source", 0));
	if (reply_str(t, "error", d, sizeof d)[0])
		snprintf(lines[n++], LINE_BYTES, "error     %.480s", d);
	xmlrpc_value *call = reply_member(t, "call");

	if (call)
		snprintf(lines[n++], LINE_BYTES, "running   on %s, batch %lld of %lld, %.1f s so far",
		         reply_str(call, "backend", a, sizeof a), (long long)reply_int(call, "batch", 0),
		         (long long)reply_int(call, "batch_size", 1), reply_num(call, "elapsed", 0));
	n = attempt_lines(t, lines, n);
	return result_lines(t, lines, n);
}

/* The lines the log pane shows, whole: Enter on the log pane reads what the pane cuts. */
static int log_lines(struct console *c, char lines[][LINE_BYTES])
{
	size_t first, end;
	int n = 0;

	pane_log_shown(c, &first, &end);
	for (size_t k = first; k < end && n < MAX_LINES; k++) {
		const struct ui_log_line *l = &c->log[(c->log_head + k) % UI_LOG_KEEP];

		snprintf(lines[n++], LINE_BYTES, "%s %s", l->time, l->text);
	}
	return n;
}

static void draw(struct console *c)
{
	static char lines[MAX_LINES][LINE_BYTES], shown[160][256];
	int n, w = (COLS - 2 < 110 ? COLS - 2 : 110) - 4, m = 0;

	if (c->details == NULL && !c->details_log)
		return;
	n = c->details_log ? log_lines(c, lines) : details_lines(c->details, lines);
	/* Long lines (PLECS's words above all) wrap under their value instead of being cut. */
	for (int i = 0; i < n && m < 160; i++)
		m += text_wrap(lines[i], w > 20 ? w : 20, 10, shown + m, 160 - m);
	struct screen_area in = screen_modal(m + 4 > 14 ? m + 4 : 14, 110, c->details_log ? "Log, whole lines" : "Details");

	if (c->details_scroll > m - in.h)
		c->details_scroll = m - in.h > 0 ? m - in.h : 0;
	for (int i = c->details_scroll; i < m && i - c->details_scroll < in.h; i++)
		screen_putf(in.y + i - c->details_scroll, in.x, in.w, A_NORMAL, 0, " %s", shown[i]);
}

static void key(struct console *c, int k)
{
	enum ui_action a = ui_keymap_action(&c->keys, k);
	int step = a == UI_UP || a == UI_DOWN ? 1 : 10;

	if (a == UI_DOWN || a == UI_PAGE_DOWN)
		c->details_scroll += step;
	else if (a == UI_UP || a == UI_PAGE_UP)
		c->details_scroll = c->details_scroll > step ? c->details_scroll - step : 0;
	else
		c->mode = MODE_NORMAL;
	if (c->mode == MODE_NORMAL)
		c->details_log = false;
}

const struct mode_ops mode_details = {
    .key = key,
    .draw = draw,
};
