/*
 * The normal mode: each action of the keymap (keys.h) on the focused pane or
 * on the marked tasks, from one table; and the yes/no question cancel asks.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "engine/task.h"
#include "ui/form.h"
#include "ui/frame.h"
#include "util/xalloc.h"

typedef void action_fn(struct console *c, enum ui_action a);

static const struct pane_ops *focused(struct console *c)
{
	return frame_pane(c->focus);
}

/* ---- the cursor ------------------------------------------------------------------------------ */

static void move_to(struct console *c, int64_t row)
{
	focused(c)->go(c, row);
	c->dirty = true;
}

/* A page is the queue pane's height, whichever pane has the focus. */
static int64_t page(struct console *c)
{
	return c->queue_rows > 1 ? c->queue_rows - 1 : 1;
}

static void up(struct console *c, enum ui_action a)
{
	move_to(c, focused(c)->at(c) - 1);
}

static void down(struct console *c, enum ui_action a)
{
	move_to(c, focused(c)->at(c) + 1);
}

static void page_up(struct console *c, enum ui_action a)
{
	move_to(c, focused(c)->at(c) - page(c));
}

static void page_down(struct console *c, enum ui_action a)
{
	move_to(c, focused(c)->at(c) + page(c));
}

static void top(struct console *c, enum ui_action a)
{
	move_to(c, 0);
}

static void bottom(struct console *c, enum ui_action a)
{
	move_to(c, focused(c)->rows(c));
}

/* Tab: the next pane that takes the focus. */
static void next_pane(struct console *c, enum ui_action a)
{
	do
		c->focus = (enum ui_pane)((c->focus + 1) % PANE_COUNT);
	while (focused(c)->go == NULL);
	c->dirty = true;
}

/* ---- what an action applies to ---------------------------------------------------------------- */

/* The ids an action applies to: the marked tasks, else the task under the cursor; its priority into priority. */
static xmlrpc_value *selected_ids(struct console *c, xmlrpc_env *env, char *priority, size_t size)
{
	xmlrpc_value *ids = xmlrpc_array_new(env);

	for (size_t i = 0; c->marks.size > 0 && i < c->marks.cap; i++) {
		if (c->marks.keys && c->marks.keys[i]) {
			xmlrpc_value *id = xmlrpc_i8_new(env, c->marks.keys[i]);

			xmlrpc_array_append_item(env, ids, id);
			xmlrpc_DECREF(id);
		}
	}
	priority[0] = '\0';
	if (focused(c)->cursor)
		focused(c)->cursor(c, env, c->marks.size ? NULL : ids, priority, size);
	return ids;
}

/* ---- actions on tasks ------------------------------------------------------------------------- */

/* The tasks an action applies to, and the priority of the one under the cursor ("" when none is). */
struct selection {
	xmlrpc_value *ids;
	int n;
	char priority[16];
};

typedef void selection_fn(struct console *c, const struct selection *s, int arg);

/* Runs fn on the selection, or says that there is none. */
static void on_selection(struct console *c, selection_fn *fn, int arg)
{
	xmlrpc_env env;
	struct selection s;

	xmlrpc_env_init(&env);
	s.ids = selected_ids(c, &env, s.priority, sizeof s.priority);
	s.n = reply_count(s.ids);
	if (s.n == 0)
		ui_message(c, true, "no task selected");
	else
		fn(c, &s, arg);
	xmlrpc_DECREF(s.ids);
	xmlrpc_env_clean(&env);
}

static void set_priority(struct console *c, const struct selection *s, int level)
{
	const char *name = task_priority_name((enum task_priority)level);
	xmlrpc_value *r = ui_call(c, "simq.reprioritize", "(Vs)", s->ids, name);

	if (r) {
		ui_message(c, false, "%d task%s now %s", s->n, s->n == 1 ? "" : "s", name);
		xmlrpc_DECREF(r);
		c->refresh = true;
	}
}

/* delta levels more urgent than the task under the cursor is (NORMAL when there is none), within the levels. */
static void step_priority(struct console *c, const struct selection *s, int delta)
{
	enum task_priority p = PRIO_NORMAL;
	int level;

	task_priority_parse(s->priority, &p);
	/* +: more urgent, which is the lower number. */
	level = (int)p - delta;
	set_priority(c, s, level < 0 ? 0 : level >= PRIO_COUNT ? PRIO_COUNT - 1 : level);
}

static void priority_step(struct console *c, enum ui_action a)
{
	on_selection(c, step_priority, a == UI_PRIORITY_UP ? 1 : -1);
}

static void priority_set(struct console *c, enum ui_action a)
{
	static const enum task_priority levels[UI_ACTION_COUNT] = {
	    [UI_PRIORITY_CRITICAL] = PRIO_CRITICAL,
	    [UI_PRIORITY_HIGH] = PRIO_HIGH,
	    [UI_PRIORITY_NORMAL] = PRIO_NORMAL,
	    [UI_PRIORITY_LOW] = PRIO_LOW,
	};

	on_selection(c, set_priority, levels[a]);
}

/* Cancel asks first, and No is the default (mode_confirm). */
static void ask(struct console *c, const struct selection *s, int unused)
{
	free(c->confirm_text);
	if (s->n == 1)
		c->confirm_text = xasprintf("Cancel task %lld? y/N", (long long)reply_item_int(s->ids, 0, 0));
	else
		c->confirm_text = xasprintf("Cancel %d tasks? y/N", s->n);
	c->mode = MODE_CONFIRM;
	c->dirty = true;
}

static void ask_cancel(struct console *c, enum ui_action a)
{
	on_selection(c, ask, 0);
}

static void cancel(struct console *c, const struct selection *s, int unused)
{
	xmlrpc_value *r = ui_call(c, "simq.cancel", "(V)", s->ids);

	if (r) {
		int n = reply_count(r), done = 0;

		/* The answer lists every id with its state: some may have finished before the key was pressed. */
		for (int i = 0; i < n; i++) {
			char state[32];

			done += strcmp(reply_str(reply_item(r, i), "state", state, sizeof state), "cancelled") == 0;
		}
		if (done == n)
			ui_message(c, false, "%d task%s cancelled", n, n == 1 ? "" : "s");
		else
			ui_message(c, false, "%d task%s cancelled; %d had already finished", done, done == 1 ? "" : "s",
			           n - done);
		xmlrpc_DECREF(r);
		ui_clear_marks(c);
		c->refresh = true;
	}
}

static void retry(struct console *c, const struct selection *s, int unused)
{
	xmlrpc_value *r = ui_call(c, "simq.retry", "(V)", s->ids);

	if (r) {
		int n = reply_count(r);

		ui_message(c, false, "%d task%s submitted again", n, n == 1 ? "" : "s");
		xmlrpc_DECREF(r);
		ui_clear_marks(c);
		c->refresh = true;
	}
}

static void retry_selected(struct console *c, enum ui_action a)
{
	on_selection(c, retry, 0);
}

static void mark(struct console *c, enum ui_action a)
{
	if (focused(c)->mark == NULL) {
		ui_message(c, true, "marks are for the queue pane");
		return;
	}
	focused(c)->mark(c);
}

/* Enter: simq.get of the task under the cursor, marks or not, shown by mode_details. */
static void open_details(struct console *c, enum ui_action a)
{
	xmlrpc_env env;
	char priority[16];
	int64_t id = 0;

	if (focused(c)->cursor == NULL) {
		ui_message(c, true, "details are for the queue and running panes");
		return;
	}
	xmlrpc_env_init(&env);
	xmlrpc_value *ids = xmlrpc_array_new(&env);

	focused(c)->cursor(c, &env, ids, priority, sizeof priority);
	id = reply_item_int(ids, 0, 0);
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
	if (id <= 0)
		return;
	xmlrpc_value *t = ui_call(c, "simq.get", "(I)", (xmlrpc_int64)id);

	if (t == NULL)
		return;
	if (c->details)
		xmlrpc_DECREF(c->details);
	c->details = t;
	c->details_scroll = 0;
	c->mode = MODE_DETAILS;
	c->dirty = true;
}

/* ---- the rest --------------------------------------------------------------------------------- */

static void open_form(struct console *c, enum ui_action a)
{
	form_free(&c->form);
	c->form = form_new();
	c->mode = MODE_FORM;
	c->dirty = true;
}

/* A new filter each time, as in less: Enter on an empty line shows the queue again. */
static void open_filter(struct console *c, enum ui_action a)
{
	c->mode = MODE_FILTER;
	c->input_len = 0;
	c->input_buf[0] = '\0';
	c->dirty = true;
}

static void toggle_pause(struct console *c, enum ui_action a)
{
	bool paused = reply_int(c->view, "paused", 0) != 0;
	xmlrpc_value *r = ui_call(c, paused ? "simq.resume" : "simq.pause", "()");

	if (r) {
		ui_message(c, false,
		           paused ? "dispatching resumed" : "paused: running calls finish, nothing new starts");
		xmlrpc_DECREF(r);
		c->refresh = true;
	}
}

static void next_stats_window(struct console *c, enum ui_action a)
{
	c->stats_window = (c->stats_window + 1) % 3;
	c->dirty = true;
}

static void open_help(struct console *c, enum ui_action a)
{
	c->mode = MODE_HELP;
	c->dirty = true;
}

static void quit(struct console *c, enum ui_action a)
{
	ev_break(c->loop, EVBREAK_ALL);
}

static action_fn *const actions[UI_ACTION_COUNT] = {
    [UI_UP] = up,
    [UI_DOWN] = down,
    [UI_TOP] = top,
    [UI_BOTTOM] = bottom,
    [UI_PAGE_UP] = page_up,
    [UI_PAGE_DOWN] = page_down,
    [UI_NEXT_PANE] = next_pane,
    [UI_DETAILS] = open_details,
    [UI_SUBMIT] = open_form,
    [UI_PRIORITY_UP] = priority_step,
    [UI_PRIORITY_DOWN] = priority_step,
    [UI_PRIORITY_CRITICAL] = priority_set,
    [UI_PRIORITY_HIGH] = priority_set,
    [UI_PRIORITY_NORMAL] = priority_set,
    [UI_PRIORITY_LOW] = priority_set,
    [UI_CANCEL] = ask_cancel,
    [UI_RETRY] = retry_selected,
    [UI_MARK] = mark,
    [UI_FILTER] = open_filter,
    [UI_PAUSE] = toggle_pause,
    [UI_STATS_WINDOW] = next_stats_window,
    [UI_HELP] = open_help,
    [UI_QUIT] = quit,
};

static void normal_key(struct console *c, int key)
{
	enum ui_action a = ui_keymap_action(&c->keys, key);

	if (a != UI_NONE && actions[a]) {
		actions[a](c, a);
	} else if (key == UI_KEY_ESC && c->marks.size) {
		ui_clear_marks(c);
		c->dirty = true;
	}
}

const struct mode_ops mode_normal = {
    .key = normal_key,
};

/* ---- the question ----------------------------------------------------------------------------- */

static void confirm_key(struct console *c, int key)
{
	c->mode = MODE_NORMAL;
	if (key == 'y' || key == 'Y')
		on_selection(c, cancel, 0);
	else
		ui_message(c, false, "nothing cancelled");
}

static void confirm_hint(struct console *c, int y)
{
	screen_put(y, 0, COLS, A_BOLD, PAIR_BAD, c->confirm_text ? c->confirm_text : "Sure? y/N");
}

const struct mode_ops mode_confirm = {
    .key = confirm_key,
    .hint = confirm_hint,
};
