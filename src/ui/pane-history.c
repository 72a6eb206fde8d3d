/*
 * The history pane, in the queue's place while shown (h): the tasks that
 * finished, newest first, a page of 200 at a time as simq.view lists them
 * (history_offset: moving down past a full page's last row shows the next
 * older one, up past its first the newer one; the server reads any page but
 * the first from the store, hot and archived, so the archive is never held
 * in memory); the filter (/) applies to a page here, but for a filter on a
 * final state (state:failed), whose pages hold only such tasks of the whole
 * store (console.c asks simq.view with history_state).  Failures are red, and
 * their error is on the row; Enter shows it whole with every attempt, r runs
 * the task again, Space and A mark.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "engine/task.h"
#include "ui/pane.h"
#include "ui/text.h"
#include "util/match.h"
#include "util/xalloc.h"

/* The most rows the server sends (ENGINE_RECENT). */
#define HISTORY_MAX 200

static xmlrpc_value *all(struct console *c)
{
	return c->history_list ? c->history_list : reply_member(c->view, "history");
}

/* One word of the filter ("state:failed", "name:sweep-*", "tag:T", or a bare model) against task t. */
static bool word_matches(xmlrpc_value *t, const char *word)
{
	const char *colon = strchr(word, ':'), *value = colon ? colon + 1 : word;
	char key[16], field[512];

	snprintf(key, sizeof key, "%.*s", colon ? (int)(colon - word) : 5, colon ? word : "model");
	if (strcmp(key, "tag") == 0) {
		xmlrpc_value *tags = reply_member(t, "tags");

		for (int i = 0; i < reply_count(tags); i++) {
			xmlrpc_env env;
			const char *tag = NULL;
			bool same;

			xmlrpc_env_init(&env);
			xmlrpc_read_string(&env, reply_item(tags, i), &tag);
			same = !env.fault_occurred && strcmp(tag, value) == 0;
			free((void *)tag);
			xmlrpc_env_clean(&env);
			if (same)
				return true;
		}
		return false;
	}
	reply_str(t, key, field, sizeof field);
	if (strcmp(key, "state") == 0)
		return strcmp(field, value) == 0;
	return strcmp(key, "model") == 0 ? match_model(field, value) : match_text(field, value);
}

static bool passes(struct console *c, xmlrpc_value *t)
{
	char *copy, *save = NULL;
	bool ok = true;

	if (c->filter == NULL)
		return true;
	copy = xstrdup(c->filter);
	for (char *w = strtok_r(copy, " ", &save); w && ok; w = strtok_r(NULL, " ", &save))
		ok = word_matches(t, w);
	free(copy);
	return ok;
}

/* The orders o cycles through: the server's (newest first), then by a field, newest first among equals. */
static const char *const sort_fields[] = {NULL, "priority", "model", "name"};
static const char *const sort_names[] = {"newest first", "by priority", "by model", "by name"};

struct sorting {
	xmlrpc_value *h;
	const char *field;
};

static int by_field(const void *a, const void *b, void *arg)
{
	const struct sorting *s = arg;
	int x = *(const int *)a, y = *(const int *)b, d;
	char fx[512], fy[512];
	enum task_priority px, py;

	reply_str(reply_item(s->h, x), s->field, fx, sizeof fx);
	reply_str(reply_item(s->h, y), s->field, fy, sizeof fy);
	if (strcmp(s->field, "priority") == 0 && task_priority_parse(fx, &px) && task_priority_parse(fy, &py))
		d = (int)px - (int)py;
	else
		d = strcmp(strcmp(s->field, "model") == 0 ? text_base_name(fx) : fx,
		           strcmp(s->field, "model") == 0 ? text_base_name(fy) : fy);
	return d ? d : x - y;
}

/* The rows the pane lists: the history's items that pass the filter, by index, in the chosen order. */
static int listed(struct console *c, int idx[HISTORY_MAX])
{
	xmlrpc_value *h = all(c);
	int n = 0;

	for (int i = 0; i < reply_count(h) && n < HISTORY_MAX; i++)
		if (passes(c, reply_item(h, i)))
			idx[n++] = i;
	if (sort_fields[c->history_sort]) {
		struct sorting s = {.h = h, .field = sort_fields[c->history_sort]};

		qsort_r(idx, (size_t)n, sizeof idx[0], by_field, &s);
	}
	return n;
}

void pane_history_sort(struct console *c)
{
	c->history_sort = (c->history_sort + 1) % (int)(sizeof sort_fields / sizeof sort_fields[0]);
	ui_message(c, false, "history %s", sort_names[c->history_sort]);
	c->dirty = true;
}

static xmlrpc_value *row_at(struct console *c, int64_t row)
{
	int idx[HISTORY_MAX], n = listed(c, idx);

	return row >= 0 && row < n ? reply_item(all(c), idx[row]) : NULL;
}

static void draw_row(struct console *c, xmlrpc_value *t, int y, struct screen_area a, bool sel)
{
	char when[16], fin[64], state[16], prio[16], name[128], model[512], label[700], err[1024], line[2048];
	char fitted[2048];
	attr_t base = sel ? A_REVERSE : A_NORMAL;
	bool failed, marked = idmap_get(&c->marks, reply_int(t, "id", 0)) != NULL;

	reply_str(t, "finished", fin, sizeof fin);
	reply_str(t, "state", state, sizeof state);
	reply_str(t, "priority", prio, sizeof prio);
	reply_str(t, "name", name, sizeof name);
	reply_str(t, "model", model, sizeof model);
	reply_str(t, "error", err, sizeof err);
	failed = strcmp(state, "failed") == 0;
	snprintf(label, sizeof label, "%s%s%s", name, name[0] ? " " : "", text_base_name(model));
	screen_putf(y, a.x, 2, base | A_BOLD, 0, "%s%s", sel ? "\u25b6" : " ", marked ? "*" : " ");
	screen_putf(y, a.x + 2, 18, base, 0, "%8s %8lld ",
	            text_iso_ms(fin) ? text_clock(when, sizeof when, text_iso_ms(fin)) : "-",
	            (long long)reply_int(t, "id", 0));
	screen_priority(y, a.x + 20, base, sel, prio);
	screen_put(y, a.x + 25, 10, base | (failed ? A_BOLD : strcmp(state, "cancelled") == 0 ? A_DIM : 0),
	           sel ? 0 : failed ? PAIR_BAD : 0, state);
	/* A cached task's row says whose result it reused, where a failure's says why. */
	if (reply_int(t, "source", 0) && !err[0])
		snprintf(err, sizeof err, "cached from %lld", (long long)reply_int(t, "source", 0));
	snprintf(line, sizeof line, "%s%s%s", screen_fit(fitted, sizeof fitted, label, 28), err[0] ? "  " : "", err);
	screen_put(y, a.x + 35, a.w - 35, base, sel || !failed ? 0 : PAIR_BAD,
	           screen_fit(fitted, sizeof fitted, line, a.w - 35));
}

/* On the first page, newest first, with the cursor on its top row: the pane follows the newest task, as the
 * log pane follows its last line. */
static bool following(const struct console *c)
{
	return c->history_offset == 0 && c->history_sort == 0 && c->history_sel == 0;
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	int idx[HISTORY_MAX], n = listed(c, idx), failed = 0, rows = a.h - 2;
	char title[256], state[16];

	for (int i = 0; i < n; i++)
		failed += strcmp(reply_str(reply_item(all(c), idx[i]), "state", state, sizeof state), "failed") == 0;
	char page[64] = "";

	if (c->history_offset > 0)
		snprintf(page, sizeof page, " (newest %lld-%lld)", (long long)c->history_offset + 1,
		         (long long)c->history_offset + n);
	/* "1 of 200 failed": of the rows listed, never to be read as a count of every failure. */
	snprintf(title, sizeof title, "History %d%s%s%s%s, %s \u00b7 %d of %d failed%s  [%s]", n, page,
	         c->filter ? " \u00b7 \"" : "", c->filter ? c->filter : "", c->filter ? "\"" : "", sort_names[c->history_sort],
	         failed, n, following(c) && n > 0 ? " \u00b7 following" : "", c->keys.text[UI_SORT]);
	screen_rule(a.y, a.x, a.w, focused, title);
	screen_putf(a.y + 1, a.x, a.w, A_DIM, 0, "  %8s %8s %-4s %-10s%s", "FINISHED", "ID", "PRI", "STATE",
	            "NAME / MODEL  ERROR");
	if (n == 0 && rows > 0)
		screen_put(a.y + 2, a.x, a.w, A_DIM, 0,
		           c->filter ? "  nothing finished matches; Esc clears the filter" : "  nothing finished yet");
	int top = c->history_sel >= rows ? (int)c->history_sel - rows + 1 : 0;

	c->history_top = top;

	for (int i = top; i < n && i - top < rows; i++)
		draw_row(c, reply_item(all(c), idx[i]), a.y + 2 + i - top, a, focused && i == c->history_sel);
}

static int64_t rows(struct console *c)
{
	int idx[HISTORY_MAX];

	return listed(c, idx);
}

static int64_t at(struct console *c)
{
	return c->history_sel;
}

/* The cursor on row (kept within the page). */
static void place(struct console *c, int64_t row)
{
	int64_t n = rows(c);

	if (row >= n)
		row = n - 1;
	c->history_sel = row < 0 ? 0 : row;
	c->history_sel_id = reply_int(row_at(c, c->history_sel), "id", 0);
}

/* Moving past a full page's last row asks for the next older page, and above the first for the newer one. */
static void go(struct console *c, int64_t row)
{
	if (row >= rows(c) && reply_count(all(c)) >= HISTORY_MAX) {
		c->history_offset += HISTORY_MAX;
		row = 0;
		c->refresh = true;
	} else if (row < 0 && c->history_offset > 0) {
		c->history_offset = c->history_offset > HISTORY_MAX ? c->history_offset - HISTORY_MAX : 0;
		row = HISTORY_MAX - 1;
		c->refresh = true;
	}
	place(c, row);
}

/* The cursor stays on its task as newer ones come in above it, unless the pane follows the newest. */
static bool follow(struct console *c, xmlrpc_value *old_view, xmlrpc_value *old_list)
{
	int idx[HISTORY_MAX], n = listed(c, idx);

	if (following(c)) {
		place(c, 0);
		return false;
	}
	for (int i = 0; c->history_sel_id && i < n; i++) {
		if (reply_int(reply_item(all(c), idx[i]), "id", 0) == c->history_sel_id) {
			c->history_sel = i;
			return false;
		}
	}
	place(c, c->history_sel);
	return false;
}

static void cursor(struct console *c, xmlrpc_env *env, xmlrpc_value *ids, char *priority, size_t size)
{
	xmlrpc_value *t = row_at(c, c->history_sel);

	priority[0] = '\0';
	if (t == NULL)
		return;
	reply_str(t, "priority", priority, size);
	if (ids) {
		xmlrpc_value *id = xmlrpc_i8_new(env, reply_int(t, "id", 0));

		xmlrpc_array_append_item(env, ids, id);
		xmlrpc_DECREF(id);
	}
}

static void mark(struct console *c)
{
	xmlrpc_value *t = row_at(c, c->history_sel);

	if (t) {
		int64_t id = reply_int(t, "id", 0);

		if (idmap_get(&c->marks, id))
			idmap_remove(&c->marks, id);
		else
			idmap_put(&c->marks, id, (void *)1);
		place(c, c->history_sel + 1);
	}
	c->dirty = true;
}

void pane_history_mark_all(struct console *c)
{
	int idx[HISTORY_MAX], n = listed(c, idx);

	for (int i = 0; i < n; i++)
		idmap_put(&c->marks, reply_int(reply_item(all(c), idx[i]), "id", 0), (void *)1);
	ui_message(c, false, "marked %d task%s of the history", n, n == 1 ? "" : "s");
}

static void click(struct console *c, int line)
{
	if (line >= 2)
		place(c, c->history_top + line - 2);
}

const struct pane_ops pane_history = {
    .name = "history",
    .draw = draw,
    .rows = rows,
    .at = at,
    .go = go,
    .cursor = cursor,
    .mark = mark,
    .follow = follow,
    .click = click,
};
