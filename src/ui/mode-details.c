/* A task's details over the panes: its vars, attempts with PLECS's words, its result; arrows scroll, any other key
 * closes. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "ui/mode.h"
#include "ui/screen.h"
#include "ui/text.h"

#define MAX_LINES  40
#define LINE_BYTES 1200

/* "attempts #1  03:00:00-03:00:05  ws1 batch 3  transient: ..." for each attempt, from line n on; returns the next. */
static int attempt_lines(xmlrpc_value *t, char lines[][LINE_BYTES], int n)
{
	xmlrpc_value *attempts = reply_member(t, "attempt_list");

	for (int i = 0; i < reply_count(attempts) && n < MAX_LINES - 4; i++) {
		xmlrpc_value *at = reply_item(attempts, i);
		char st[64], en[64], be[64], out[32], er[300];

		reply_str(at, "started", st, sizeof st);
		reply_str(at, "ended", en, sizeof en);
		snprintf(lines[n++], LINE_BYTES, "%s #%lld  %.8s-%.8s  %s batch %lld  %s%s%.280s",
		         i ? "         " : "attempts", (long long)reply_int(at, "n", 0), strlen(st) > 11 ? st + 11 : st,
		         strlen(en) > 11 ? en + 11 : "", reply_str(at, "backend", be, sizeof be),
		         (long long)reply_int(at, "batch", 0), reply_str(at, "outcome", out, sizeof out),
		         reply_str(at, "error", er, sizeof er)[0] ? ": " : "", er);
	}
	return n;
}

/* The result file and each signal's summary, from line n on; returns the next. */
static int result_lines(xmlrpc_value *t, char lines[][LINE_BYTES], int n)
{
	xmlrpc_value *result = reply_member(t, "result"), *summary = reply_member(result, "summary");
	char a[512], b[512];
	xmlrpc_env env;

	if (result == NULL)
		return n;
	snprintf(lines[n++], LINE_BYTES, "result    %.300s (%s, %lld points, %lld signals)",
	         reply_str(result, "path", a, sizeof a), reply_str(result, "format", b, sizeof b),
	         (long long)reply_int(result, "points", 0), (long long)reply_int(result, "signals", 0));
	xmlrpc_env_init(&env);
	int k = summary && xmlrpc_value_type(summary) == XMLRPC_TYPE_STRUCT ? xmlrpc_struct_size(&env, summary) : 0;

	for (int i = 0; i < k && n < MAX_LINES; i++) {
		xmlrpc_value *key, *sig;
		const char *name;

		xmlrpc_struct_read_member(&env, summary, (unsigned)i, &key, &sig);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, key, &name);
		snprintf(lines[n++], LINE_BYTES, "          %-8s min %-12.6g max %-12.6g mean %-12.6g rms %.6g", name,
		         reply_num(sig, "min", 0), reply_num(sig, "max", 0), reply_num(sig, "mean", 0),
		         reply_num(sig, "rms", 0));
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
	snprintf(lines[n++], LINE_BYTES, "priority  %s   state %s   attempts %lld",
	         reply_str(t, "priority", a, sizeof a), reply_str(t, "state", b, sizeof b),
	         (long long)reply_int(t, "attempts", 0));
	text_vars(reply_member(t, "vars"), vars, sizeof vars);
	snprintf(lines[n++], LINE_BYTES, "vars      %s", vars[0] ? vars : "(none)");
	text_vars(reply_member(t, "solver"), vars, sizeof vars);
	snprintf(lines[n++], LINE_BYTES, "solver    %s", vars[0] ? vars : "(model's own)");
	snprintf(lines[n++], LINE_BYTES, "submitted %s", reply_str(t, "submitted", a, sizeof a));
	snprintf(lines[n++], LINE_BYTES, "started   %s", reply_str(t, "started", a, sizeof a));
	snprintf(lines[n++], LINE_BYTES, "finished  %s", reply_str(t, "finished", a, sizeof a));
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

static void draw(struct console *c)
{
	static char lines[MAX_LINES][LINE_BYTES], shown[160][256];
	int n, w = (COLS - 2 < 110 ? COLS - 2 : 110) - 4, m = 0;

	if (c->details == NULL)
		return;
	n = details_lines(c->details, lines);
	/* Long lines (PLECS's words above all) wrap under their value instead of being cut. */
	for (int i = 0; i < n && m < 160; i++)
		m += text_wrap(lines[i], w > 20 ? w : 20, 10, shown + m, 160 - m);
	struct screen_area in = screen_modal(m + 4 > 14 ? m + 4 : 14, 110, "Details");

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
}

const struct mode_ops mode_details = {
    .key = key,
    .draw = draw,
};
