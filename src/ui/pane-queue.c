/* The queue pane: a page of the queue (or of the filtered list) with marks; the cursor scrolls the page. */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "client/reply.h"
#include "engine/task.h"
#include "ui/pane.h"
#include "ui/text.h"

/* The rows of an answer (view's page, or the filtered list); *total in all, *first the position of the first. */
static xmlrpc_value *rows_of(struct console *c, xmlrpc_value *view, xmlrpc_value *list, int64_t *total,
                             int64_t *first)
{
	xmlrpc_value *src = c->filter ? list : view;

	if (total)
		*total = reply_int(src, c->filter ? "total" : "queue_total", 0);
	if (first)
		*first = c->filter ? reply_int(list, "offset", 0) : reply_int(reply_item(reply_member(view, "queue"), 0),
		                                                              "position", c->queue_top);
	return reply_member(src, c->filter ? "tasks" : "queue");
}

/* The rows on screen. */
static xmlrpc_value *page(struct console *c, int64_t *total, int64_t *first)
{
	return rows_of(c, c->view, c->list, total, first);
}

/* The index of task id in rows, or -1. */
static int index_of(xmlrpc_value *rows, int64_t id)
{
	for (int i = 0; i < reply_count(rows); i++)
		if (reply_int(reply_item(rows, i), "id", 0) == id)
			return i;
	return -1;
}

/* The row under the cursor, or NULL when it is not on this page. */
static xmlrpc_value *current(struct console *c)
{
	int64_t first = 0;
	xmlrpc_value *rows = page(c, NULL, &first);

	if (c->queue_sel < first || c->queue_sel >= first + reply_count(rows))
		return NULL;
	return reply_item(rows, (int)(c->queue_sel - first));
}

/* "Queue 1,842 ─ C:1 H:0 N:41 L:1,800 · 2 marked", or the filter and its matches. */
static void title_text(struct console *c, int64_t total, char *title, size_t size)
{
	char n[32];
	size_t len;

	if (c->filter) {
		len = (size_t)snprintf(title, size, "Filter \"%s\" %s match%s", c->filter,
		                       text_grouped(n, sizeof n, total), total == 1 ? "" : "es");
	} else {
		xmlrpc_value *byp = reply_member(reply_member(c->view, "stats"), "queued_by_priority");

		len = (size_t)snprintf(title, size, "Queue %s \u2500", text_grouped(n, sizeof n, total));
		for (int p = 0; p < PRIO_COUNT && len < size; p++) {
			const char *name = task_priority_name((enum task_priority)p);

			len += (size_t)snprintf(title + len, size - len, " %c:%s", toupper((unsigned char)name[0]),
			                        text_grouped(n, sizeof n, reply_int(byp, name, 0)));
		}
	}
	if (c->marks.size && len < size)
		snprintf(title + len, size - len, " \u00b7 %zu marked", c->marks.size);
}

/* The widths of the columns that vary with the pane's: the name and model, the vars, the age. */
struct columns {
	int name, vars, age;
};

/* "sweep-7 buck.plecs": a row's name and model file. */
static const char *label_of(xmlrpc_value *t, char *label, size_t size)
{
	char name[128], model[512];

	reply_str(t, "name", name, sizeof name);
	reply_str(t, "model", model, sizeof model);
	snprintf(label, size, "%s%s%s", name, name[0] ? " " : "", text_base_name(model));
	return label;
}

/*
 * The name column as wide as the page's longest name and model, between 12 cells and three fifths of
 * what the name and vars share; the vars take the rest.
 */
static struct columns columns_for(int width, xmlrpc_value *rows)
{
	struct columns w = {.age = 6};
	int share = width - (2 + 10 + 1 + 7 + 1 + 5 + 1 + w.age + 1), longest = 12;
	char label[700];

	for (int i = 0; i < reply_count(rows); i++) {
		int lw = screen_width(label_of(reply_item(rows, i), label, sizeof label));

		longest = lw > longest ? lw : longest;
	}
	w.name = longest < share * 3 / 5 ? longest : share * 3 / 5;
	w.name = w.name < 12 ? 12 : w.name;
	w.vars = share - w.name;
	return w;
}

static void draw_row(struct console *c, xmlrpc_value *t, int64_t pos, int y, struct screen_area a, bool focused,
                     struct columns w)
{
	int64_t id = reply_int(t, "id", 0);
	bool sel = pos == c->queue_sel && focused, marked = idmap_get(&c->marks, id) != NULL;
	char prio[16], label[700], fitted[700], vars[512], age[32], sub[64], state[16], where[24];
	attr_t base = sel ? A_REVERSE : A_NORMAL;

	reply_str(t, "priority", prio, sizeof prio);
	label_of(t, label, sizeof label);
	text_vars(reply_member(t, "vars"), vars, sizeof vars);
	text_age(age, sizeof age, reply_str(t, "submitted", sub, sizeof sub), ui_now_ms());
	if (c->filter)
		snprintf(where, sizeof where, "%s", reply_str(t, "state", state, sizeof state));
	else
		snprintf(where, sizeof where, "%lld", (long long)pos + 1);
	screen_putf(y, a.x, 2, base | A_BOLD, 0, "%s%s", sel ? "\u25b6" : " ", marked ? "*" : " ");
	screen_putf(y, a.x + 2, 19, base, 0, "%9s %7lld ", where, (long long)id);
	screen_priority(y, a.x + 21, base, sel, prio);
	screen_put(y, a.x + 26, w.name + 1, base, 0, screen_fit(fitted, sizeof fitted, label, w.name));
	if (w.vars > 0)
		screen_put(y, a.x + 27 + w.name, w.vars, base, 0, screen_fit(fitted, sizeof fitted, vars, w.vars - 1));
	screen_putf(y, a.x + a.w - w.age - 1, w.age + 1, base, 0, "%*s", w.age, age);
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	char title[256];
	int64_t total = 0, first = 0;
	xmlrpc_value *rows = page(c, &total, &first);
	struct columns w = columns_for(a.w, rows);

	title_text(c, total, title, sizeof title);
	screen_rule(a.y, a.x, a.w, focused, title);
	c->queue_rows = a.h - 2 > 1 ? a.h - 2 : 1;
	screen_putf(a.y + 1, a.x, a.w, A_DIM, 0, "  %9s %7s  %-4s %-*s %-*s%*s ", c->filter ? "STATE" : "POS", "ID",
	            "PRI", w.name, "NAME / MODEL", w.vars > 0 ? w.vars : 0, "VARS", w.age, "AGE");
	if (total == 0 && a.h > 2)
		screen_put(a.y + 2, a.x, a.w, A_DIM, 0,
		           c->filter ? "  nothing matches; Esc clears the filter" : "  the queue is empty");
	for (int i = 0; i < reply_count(rows) && i < a.h - 2; i++)
		draw_row(c, reply_item(rows, i), first + i, a.y + 2 + i, a, focused, w);
}

static int64_t rows(struct console *c)
{
	int64_t n = 0;

	page(c, &n, NULL);
	return n;
}

static int64_t at(struct console *c)
{
	return c->queue_sel;
}

/* Moves the cursor, and the page with it when the row is off screen (console.c fetches the new page). */
static void go(struct console *c, int64_t sel)
{
	int64_t n = rows(c), top = c->queue_top;

	if (sel >= n)
		sel = n - 1;
	if (sel < 0)
		sel = 0;
	c->queue_sel = sel;
	if (sel < top)
		top = sel;
	if (c->queue_rows > 0 && sel >= top + c->queue_rows)
		top = sel - c->queue_rows + 1;
	if (top != c->queue_top) {
		c->queue_top = top;
		c->refresh = true;
	}
	/* The task there, when it is on the page already; else follow() takes it from the new page. */
	xmlrpc_value *row = current(c);

	c->queue_sel_id = row && !c->refresh ? reply_int(row, "id", 0) : 0;
}

/* The page's top clamped so that the page is as full as the queue allows (never a page that starts
 * past where the queue's last full page does: rows the queue has would be left off above it). */
static int64_t full_top(struct console *c, int64_t top)
{
	int64_t total = rows(c);

	if (c->queue_rows > 0 && top > total - c->queue_rows)
		top = total - c->queue_rows;
	return top < 0 ? 0 : top;
}

/* Scrolls the page so that position pos shows, keeping the cursor's row on screen where it was. */
static bool scroll_to(struct console *c, int64_t pos)
{
	int64_t top = pos - (c->queue_sel - c->queue_top);

	c->queue_sel = pos;
	if (top > pos)
		top = pos;
	if (c->queue_rows > 0 && pos >= top + c->queue_rows)
		top = pos - c->queue_rows + 1;
	top = full_top(c, top);
	if (top == c->queue_top)
		return false;
	c->queue_top = top;
	return true;
}

/*
 * The cursor stays on its task: found on the new page, or where the server says it went (it moved
 * off the page, to the top after a 0, say).  A task that left the queue hands the cursor to its
 * neighbour: the next task of the old page still there, else the one before it.
 */
static bool follow(struct console *c, xmlrpc_value *old_view, xmlrpc_value *old_list)
{
	int64_t total = 0, first = 0, id = c->queue_sel_id;
	xmlrpc_value *rows = page(c, &total, &first), *focus = reply_member(c->view, "focus");
	int i = id ? index_of(rows, id) : -1;

	if (i < 0) {
		if (id != 0 && !c->filter && reply_int(focus, "id", 0) == id && reply_int(focus, "position", -1) >= 0)
			return scroll_to(c, reply_int(focus, "position", 0));
		if (id != 0) {
			xmlrpc_value *before = rows_of(c, old_view, old_list, NULL, NULL);
			int was = index_of(before, id);

			for (int k = was + 1; was >= 0 && k < reply_count(before) && i < 0; k++)
				i = index_of(rows, reply_int(reply_item(before, k), "id", 0));
			for (int k = was - 1; was >= 0 && k >= 0 && i < 0; k--)
				i = index_of(rows, reply_int(reply_item(before, k), "id", 0));
		}
		if (i < 0) {
			/* Nothing to go by: the row where the cursor was, within the rows. */
			int64_t pos = c->queue_sel < total ? c->queue_sel : total - 1;

			i = pos >= first && pos < first + reply_count(rows) ? (int)(pos - first) : -1;
			if (i < 0) {
				/* Not on this page (the queue shrank under it by more than a page, past its end):
				 * the page moves to the row, which the next answer brings. */
				c->queue_sel = pos < 0 ? 0 : pos;
				c->queue_sel_id = 0;
				return scroll_to(c, c->queue_sel);
			}
		}
	}
	c->queue_sel = first + i;
	c->queue_sel_id = reply_int(reply_item(rows, i), "id", 0);
	if (c->queue_sel < c->queue_top || (c->queue_rows > 0 && c->queue_sel >= c->queue_top + c->queue_rows)) {
		c->queue_top = c->queue_sel < c->queue_top ? c->queue_sel : c->queue_sel - c->queue_rows + 1;
		return true;
	}
	/* The queue shrank under a page at its end: the page moves up to be full again. */
	if (full_top(c, c->queue_top) != c->queue_top) {
		c->queue_top = full_top(c, c->queue_top);
		return true;
	}
	return false;
}

static void cursor(struct console *c, xmlrpc_env *env, xmlrpc_value *ids, char *priority, size_t size)
{
	xmlrpc_value *row = current(c);

	priority[0] = '\0';
	if (row == NULL)
		return;
	reply_str(row, "priority", priority, size);
	if (ids) {
		xmlrpc_value *id = xmlrpc_i8_new(env, reply_int(row, "id", 0));

		xmlrpc_array_append_item(env, ids, id);
		xmlrpc_DECREF(id);
	}
}

/* Space: marks or unmarks the row and moves down, so a run of rows takes a run of Spaces. */
static void mark(struct console *c)
{
	xmlrpc_value *row = current(c);

	if (row) {
		int64_t id = reply_int(row, "id", 0);

		if (idmap_get(&c->marks, id))
			idmap_remove(&c->marks, id);
		else
			idmap_put(&c->marks, id, (void *)1);
		go(c, c->queue_sel + 1);
	}
	c->dirty = true;
}

/* A click on a row puts the cursor there (lines 0 and 1 are the title and the header). */
static void click(struct console *c, int line)
{
	if (line >= 2)
		go(c, c->queue_top + line - 2);
}

const struct pane_ops pane_queue = {
    .name = "queue",
    .draw = draw,
    .rows = rows,
    .at = at,
    .go = go,
    .cursor = cursor,
    .mark = mark,
    .follow = follow,
    .click = click,
};
