/* The running pane: each call in flight (a batch of ids on a backend, with its progress) and each retry waiting. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "client/reply.h"
#include "ui/pane.h"
#include "ui/text.h"
#include "util/time.h"

static xmlrpc_value *running(struct console *c)
{
	return reply_member(c->view, "running");
}

static bool is_retry(xmlrpc_value *r)
{
	char kind[16];

	return strcmp(reply_str(r, "kind", kind, sizeof kind), "retry") == 0;
}

/* "▕██████▍   ▏" — an estimate, so the text beside it says so. */
static void bar(char *out, size_t size, double fraction, int cells)
{
	static const char *const eighths[] = {"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"};
	size_t len = 0;

	if (!screen_utf8()) {
		int full = (int)(fraction * cells + 0.5);

		len += (size_t)snprintf(out, size, "[");
		for (int i = 0; i < cells && len + 2 < size; i++)
			out[len++] = i < full ? '#' : '.';
		snprintf(out + len, size - len, "]");
		return;
	}
	int units = (int)(fraction * cells * 8);

	len += (size_t)snprintf(out, size, "\u2595");
	for (int i = 0; i < cells && len + 8 < size; i++) {
		int u = units - i * 8;

		len += (size_t)snprintf(out + len, size - len, "%s", u >= 8 ? "\u2588" : u > 0 ? eighths[u] : " ");
	}
	snprintf(out + len, size - len, "\u258f");
}

/* "9050", or "7190-7205" for a batch. */
static void ids_text(xmlrpc_value *r, char *out, size_t size)
{
	xmlrpc_value *list = reply_member(r, "ids");
	int k = reply_count(list);

	if (is_retry(r))
		snprintf(out, size, "%lld", (long long)reply_int(r, "id", 0));
	else if (k == 1)
		snprintf(out, size, "%lld", (long long)reply_item_int(list, 0, 0));
	else
		snprintf(out, size, "%lld-%lld", (long long)reply_item_int(list, 0, 0),
		         (long long)reply_item_int(list, k - 1, 0));
}

/* What a call in flight is doing: cancelling, or its progress against the estimate; since: seconds since the view. */
static void call_text(xmlrpc_value *r, double since, char *line, size_t size)
{
	int k = reply_count(reply_member(r, "ids"));
	char backend[64], b[256], el[32], batch[32] = "", attempt[32] = "";
	double progress = reply_num(r, "progress", -1), elapsed = reply_num(r, "elapsed", 0) + since;

	reply_str(r, "backend", backend, sizeof backend);
	if (reply_int(r, "cancelled", 0) >= k && k > 0) {
		snprintf(line, size, "%s  cancelling \u2014 PLECS finishes the run", backend);
		return;
	}
	if (k > 1)
		snprintf(batch, sizeof batch, "batch %d  ", k);
	if (reply_int(r, "attempt", 1) > 1)
		snprintf(attempt, sizeof attempt, "attempt %lld  ", (long long)reply_int(r, "attempt", 1));
	time_format_duration(el, sizeof el, elapsed);
	if (progress >= 0) {
		double est = reply_num(r, "estimate", 0), p = est > 0 ? elapsed / est : progress;

		p = p > 0.99 ? 0.99 : p;
		bar(b, sizeof b, p, 10);
		snprintf(line, size, "%s%s  %s%s ~%.0f%% est.", batch, backend, attempt, b, 100 * p);
	} else {
		snprintf(line, size, "%s%s  %s%s so far (no estimate yet)", batch, backend, attempt, el);
	}
}

/*
 * The row's text after its ids and priority in width cells: who it is (name and model, cut with
 * "…" when it must) and what it does, which is never cut for the name: "~64% est." stays whole.
 */
static void row_text(xmlrpc_value *r, double since, int width, char *line, size_t size)
{
	char name[128], model[512], who[700], fitted[700], what[1024], err[512];

	reply_str(r, "name", name, sizeof name);
	reply_str(r, "model", model, sizeof model);
	snprintf(who, sizeof who, "%s%s%s", name, name[0] ? " " : "", text_base_name(model));
	if (is_retry(r)) {
		double in = reply_num(r, "retry_in", 0) - since;

		snprintf(what, sizeof what, "retry %lld/%lld in %.0fs  (%s)", (long long)reply_int(r, "retry", 0),
		         (long long)reply_int(r, "max_retries", 0), in > 0 ? in : 0, reply_str(r, "error", err, sizeof err));
		/* The error is the part to cut: the name keeps up to 24 cells. */
		screen_fit(fitted, sizeof fitted, who, 24);
	} else {
		call_text(r, since, what, sizeof what);
		int room = width - screen_width(what) - 2;

		screen_fit(fitted, sizeof fitted, who, room > 8 ? room : 8);
	}
	char whole[2048];

	snprintf(whole, sizeof whole, "%s  %s", fitted, what);
	screen_fit(line, size, whole, width);
}

static bool row_marked(struct console *c, xmlrpc_value *r);

/* "Running 19 · 4 calls · 1 retry waiting": tasks, as the statistics count them, and where they are. */
static void title_text(struct console *c, xmlrpc_value *list, char *title, size_t size)
{
	int calls = 0, waiting = 0;
	int64_t in_calls = 0, tasks = reply_int(reply_member(c->view, "stats"), "running", 0), due;
	size_t len;

	for (int i = 0; i < reply_count(list); i++) {
		xmlrpc_value *r = reply_item(list, i);

		if (is_retry(r)) {
			waiting++;
		} else {
			calls++;
			in_calls += reply_count(reply_member(r, "ids")) - reply_int(r, "cancelled", 0);
		}
	}
	len = (size_t)snprintf(title, size, "Running %lld \u00b7 %d call%s", (long long)tasks, calls,
	                       calls == 1 ? "" : "s");
	if (waiting && len < size)
		len += (size_t)snprintf(title + len, size - len, " \u00b7 %d retry waiting", waiting);
	/* Retries that are due wait in the queue for a backend (all DOWN, say): still running tasks. */
	due = tasks - in_calls - waiting;
	if (due > 0 && len < size)
		snprintf(title + len, size - len, " \u00b7 %lld due, waiting for a backend", (long long)due);
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	xmlrpc_value *list = running(c);
	int n = reply_count(list), room = a.h - 1;
	char title[160];
	/* Countdowns and elapsed times move on between answers. */
	double since = (double)(ui_now_ms() - c->view_at_ms) / 1000;

	title_text(c, list, title, sizeof title);
	screen_rule(a.y, a.x, a.w, focused, title);
	if (n == 0 && a.h > 1)
		screen_put(a.y + 1, a.x, a.w, A_DIM, 0,
		           reply_int(reply_member(c->view, "stats"), "running", 0) > 0
		               ? "  nothing in PLECS now: the running tasks wait for a backend to retry them"
		               : "  nothing running");
	/* More rows than room: the last line says how many are not shown. */
	int shown = n > room ? room - 1 : room;
	int top = (int)c->running_sel >= shown ? (int)c->running_sel - shown + 1 : 0;

	c->running_top = top;

	for (int i = top; i < n && i - top < shown; i++) {
		xmlrpc_value *r = reply_item(list, i);
		char prio[16], line[2048], ids[64];
		bool sel = (size_t)i == c->running_sel && focused;
		int y = a.y + 1 + i - top;
		attr_t base = sel ? A_REVERSE : A_NORMAL;

		reply_str(r, "priority", prio, sizeof prio);
		ids_text(r, ids, sizeof ids);
		row_text(r, since, a.w - 21, line, sizeof line);
		screen_putf(y, a.x, 2, base | A_BOLD, 0, "%s%s", sel ? "\u25b6" : " ", row_marked(c, r) ? "*" : " ");
		screen_putf(y, a.x + 2, 14, base, 0, "%-13s ", ids);
		screen_priority(y, a.x + 16, base, sel, prio);
		screen_put(y, a.x + 21, a.w - 21, base, 0, line);
	}
	if (n > shown && shown >= 0 && room > 0)
		screen_putf(a.y + room, a.x, a.w, A_DIM, 0, "  +%d more (%s here, then j/k)", n - shown,
		            c->keys.text[UI_NEXT_PANE]);
}

static int64_t rows(struct console *c)
{
	return c->view ? reply_count(running(c)) : 0;
}

static int64_t at(struct console *c)
{
	return (int64_t)c->running_sel;
}

/* What names a row across answers: a call's batch id, or minus the id of a task waiting to retry. */
static int64_t key_of(xmlrpc_value *r)
{
	return is_retry(r) ? -reply_int(r, "id", 0) : reply_int(r, "batch", 0);
}

static void go(struct console *c, int64_t sel)
{
	int64_t n = rows(c);

	if (sel >= n)
		sel = n - 1;
	c->running_sel = (size_t)(sel < 0 ? 0 : sel);
	c->running_key = n > 0 ? key_of(reply_item(running(c), (int)c->running_sel)) : 0;
}

/*
 * A call whose tasks were all cancelled has no task to stand for it in the server's answer: it
 * keeps the name and priority it had in the last answer that had them.
 */
static void keep_names(xmlrpc_value *list, xmlrpc_value *old_list)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	for (int i = 0; i < reply_count(list); i++) {
		xmlrpc_value *r = reply_item(list, i);
		char prio[16];

		if (is_retry(r) || reply_str(r, "priority", prio, sizeof prio)[0])
			continue;
		for (int k = 0; k < reply_count(old_list); k++) {
			xmlrpc_value *o = reply_item(old_list, k);

			if (!is_retry(o) && key_of(o) == key_of(r) && reply_member(o, "priority") && reply_member(o, "name")) {
				xmlrpc_struct_set_value(&env, r, "priority", reply_member(o, "priority"));
				xmlrpc_struct_set_value(&env, r, "name", reply_member(o, "name"));
				break;
			}
		}
	}
	xmlrpc_env_clean(&env);
}

/* The cursor stays on its call (or retry); when that ended, on the row that took its place. */
static bool follow(struct console *c, xmlrpc_value *old_view, xmlrpc_value *old_list)
{
	xmlrpc_value *list = running(c);

	keep_names(list, reply_member(old_view, "running"));

	for (int i = 0; c->running_key && i < reply_count(list); i++) {
		if (key_of(reply_item(list, i)) == c->running_key) {
			c->running_sel = (size_t)i;
			return false;
		}
	}
	go(c, (int64_t)c->running_sel);
	return false;
}

/* A retry waiting is one task; a call in flight is its batch's. */
static void row_ids(xmlrpc_value *r, xmlrpc_env *env, xmlrpc_value *ids)
{
	if (is_retry(r)) {
		xmlrpc_value *id = xmlrpc_i8_new(env, reply_int(r, "id", 0));

		xmlrpc_array_append_item(env, ids, id);
		xmlrpc_DECREF(id);
		return;
	}
	xmlrpc_value *list = reply_member(r, "ids");

	for (int i = 0; i < reply_count(list); i++)
		xmlrpc_array_append_item(env, ids, reply_item(list, i));
}

static void cursor(struct console *c, xmlrpc_env *env, xmlrpc_value *ids, char *priority, size_t size)
{
	xmlrpc_value *r = reply_item(running(c), (int)c->running_sel);

	priority[0] = '\0';
	if (r == NULL)
		return;
	reply_str(r, "priority", priority, size);
	if (ids)
		row_ids(r, env, ids);
}

/* Whether every task of row r is marked. */
static bool row_marked(struct console *c, xmlrpc_value *r)
{
	if (is_retry(r))
		return idmap_get(&c->marks, reply_int(r, "id", 0)) != NULL;
	xmlrpc_value *list = reply_member(r, "ids");

	for (int i = 0; i < reply_count(list); i++)
		if (idmap_get(&c->marks, reply_item_int(list, i, 0)) == NULL)
			return false;
	return reply_count(list) > 0;
}

/* Space: marks (or unmarks) every task of the row, a whole batch at once, and moves down. */
static void mark(struct console *c)
{
	xmlrpc_value *r = reply_item(running(c), (int)c->running_sel);
	xmlrpc_env env;

	if (r == NULL)
		return;
	bool unmark = row_marked(c, r);

	xmlrpc_env_init(&env);
	xmlrpc_value *ids = xmlrpc_array_new(&env);

	row_ids(r, &env, ids);
	for (int i = 0; i < reply_count(ids); i++) {
		int64_t id = reply_item_int(ids, i, 0);

		if (unmark)
			idmap_remove(&c->marks, id);
		else
			idmap_put(&c->marks, id, (void *)1);
	}
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
	go(c, (int64_t)c->running_sel + 1);
	c->dirty = true;
}

static void click(struct console *c, int line)
{
	if (line >= 1)
		go(c, c->running_top + line - 1);
}

const struct pane_ops pane_running = {
    .name = "running",
    .draw = draw,
    .rows = rows,
    .at = at,
    .go = go,
    .cursor = cursor,
    .mark = mark,
    .follow = follow,
    .click = click,
};
