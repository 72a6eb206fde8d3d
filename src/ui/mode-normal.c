/*
 * The normal mode: each action of the keymap (keys.h) on the focused pane or
 * on the marked tasks, from one table; and the yes/no question cancel asks.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/reply.h"
#include "engine/task.h"
#include "ui/form.h"
#include "ui/frame.h"
#include "ui/text.h"
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
	while (focused(c)->go == NULL || !frame_shown(c, c->focus));
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

/* The ids of an XML-RPC array (or of the `id` members of an array of structs), as text_ids() writes them. */
static const char *ids_text(char *out, size_t size, xmlrpc_value *list, bool members, int width)
{
	int n = reply_count(list);
	int64_t *ids = xcalloc(n > 0 ? (size_t)n : 1, sizeof *ids);

	for (int i = 0; i < n; i++)
		ids[i] = members ? reply_int(reply_item(list, i), "id", 0) : reply_item_int(list, i, 0);
	text_ids(out, size, ids, (size_t)n, width);
	free(ids);
	return out;
}

/* "task 36" or "4 tasks: 5-8". */
static const char *tasks_text(char *out, size_t size, xmlrpc_value *list, bool members, int width)
{
	int n = reply_count(list);
	char ids[512];

	ids_text(ids, sizeof ids, list, members, width);
	if (n == 1)
		snprintf(out, size, "task %s", ids);
	else
		snprintf(out, size, "%d tasks: %s", n, ids);
	return out;
}

/*
 * The server's answer to simq.cancel or simq.reprioritize, one {id, state, done, reason} per id,
 * said in the hint line: "cancelled task 36", "task 36 now critical", what was so already
 * ("task 12 was cancelled already"), and what it refused and why ("task 45 is failed; only
 * queued or running tasks can be cancelled").  Red when any id was refused.
 */
static void say_outcome(struct console *c, xmlrpc_value *answer, const char *before, const char *after,
                        const char *as_asked)
{
	xmlrpc_env env;
	int n = reply_count(answer), refused = 0;
	char did[600] = "", why[600] = "", reason[300] = "", what[520];

	xmlrpc_env_init(&env);
	xmlrpc_value *yes = xmlrpc_array_new(&env), *so = xmlrpc_array_new(&env), *no = xmlrpc_array_new(&env);

	for (int i = 0; i < n; i++) {
		xmlrpc_value *item = reply_item(answer, i);
		bool done = reply_int(item, "done", 0) != 0;

		/* Done and not changed: it was so already (a task cancelled before), as the server says. */
		xmlrpc_array_append_item(&env, !done ? no : reply_int(item, "changed", 1) ? yes : so, item);
		if (!done && refused++ == 0)
			reply_str(item, "reason", reason, sizeof reason);
	}
	if (reply_count(yes) > 0)
		snprintf(did, sizeof did, "%s%s%s", before, tasks_text(what, sizeof what, yes, true, COLS / 2), after);
	if (reply_count(so) > 0) {
		size_t len = strlen(did);

		snprintf(did + len, sizeof did - len, "%s%s %s %s already", len ? "; " : "",
		         tasks_text(what, sizeof what, so, true, COLS / 3), reply_count(so) == 1 ? "was" : "were", as_asked);
	}
	if (refused == 1) {
		snprintf(why, sizeof why, "%s", reason);
	} else if (refused > 1) {
		/* Several refused: their ids by state, then the rule the server gave ("only queued or ..."). */
		static const char *const finals[] = {"completed", "failed", "cancelled"};
		const char *rule = strstr(reason, "; ");
		size_t len = 0;

		for (size_t f = 0; f < sizeof finals / sizeof finals[0] && len < sizeof why; f++) {
			xmlrpc_value *in = xmlrpc_array_new(&env);
			char state[32];

			for (int i = 0; i < reply_count(no); i++)
				if (strcmp(reply_str(reply_item(no, i), "state", state, sizeof state), finals[f]) == 0)
					xmlrpc_array_append_item(&env, in, reply_item(no, i));
			if (reply_count(in) > 0)
				len += (size_t)snprintf(why + len, sizeof why - len, "%s%s %s %s", len ? ", " : "",
				                        ids_text(what, sizeof what, in, true, COLS / 4),
				                        reply_count(in) == 1 ? "is" : "are", finals[f]);
			xmlrpc_DECREF(in);
		}
		if (rule && len < sizeof why)
			snprintf(why + len, sizeof why - len, ": %s", rule + 2);
	}
	ui_message(c, refused > 0, "%s%s%s", did, did[0] && why[0] ? "; " : "", why);
	xmlrpc_DECREF(yes);
	xmlrpc_DECREF(so);
	xmlrpc_DECREF(no);
	xmlrpc_env_clean(&env);
}

static void set_priority(struct console *c, const struct selection *s, int level)
{
	const char *name = task_priority_name((enum task_priority)level);
	xmlrpc_value *r = ui_call(c, "simq.reprioritize", "(Vs)", s->ids, name);
	char now[32];

	if (r) {
		snprintf(now, sizeof now, " now %s", name);
		say_outcome(c, r, "", now, name);
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

/*
 * Cancel asks first, and No is the default (mode_confirm).  The question names the ids, and they
 * are kept: y cancels exactly those, whatever the cursor is on by then.
 */
static void ask(struct console *c, const struct selection *s, int unused)
{
	char what[600];

	free(c->confirm_text);
	c->confirm_text = xasprintf("Cancel %s? y/N", tasks_text(what, sizeof what, s->ids, false, COLS - 30));
	if (c->confirm_ids)
		xmlrpc_DECREF(c->confirm_ids);
	xmlrpc_INCREF(s->ids);
	c->confirm_ids = s->ids;
	c->mode = MODE_CONFIRM;
	c->dirty = true;
}

static void ask_cancel(struct console *c, enum ui_action a)
{
	on_selection(c, ask, 0);
}

/* y: simq.cancel of the ids the question named, and the server's answer for each. */
static void cancel_confirmed(struct console *c)
{
	xmlrpc_value *r = ui_call(c, "simq.cancel", "(V)", c->confirm_ids);

	if (r) {
		say_outcome(c, r, "cancelled ", "", "cancelled");
		xmlrpc_DECREF(r);
		ui_clear_marks(c);
		c->refresh = true;
	}
}

/*
 * What simq.retry answered for each task, as the server said it: "task 45 submitted again as 52",
 * "task 45 was retried as 52 already", or why it was refused.
 */
static void retry(struct console *c, const struct selection *s, int unused)
{
	xmlrpc_value *r = ui_call(c, "simq.retry", "(V{s:b})", s->ids, "each", (xmlrpc_bool)1);
	int n, made = 0, before = 0, refused = 0;
	char pairs[600] = "", reason[256] = "";
	size_t len = 0;

	if (r == NULL)
		return;
	n = reply_count(r);
	for (int i = 0; i < n; i++) {
		xmlrpc_value *one = reply_item(r, i);
		bool fresh = reply_int(one, "new", 0) != 0;

		if (reply_int(one, "done", 0) == 0) {
			refused++;
			if (!reason[0])
				reply_str(one, "reason", reason, sizeof reason);
			continue;
		}
		fresh ? made++ : before++;
		if (len + 48 < sizeof pairs && (int)len < COLS - 40)
			len += (size_t)snprintf(pairs + len, sizeof pairs - len, "%s%lld as %lld%s", len ? ", " : "",
			                        (long long)reply_int(one, "id", 0), (long long)reply_int(one, "copy", 0),
			                        fresh ? "" : " already");
	}
	if (n == 1 && refused)
		ui_message(c, true, "%s", reason);
	else if (n == 1 && made)
		ui_message(c, false, "task %lld submitted again as %lld", (long long)reply_int(reply_item(r, 0), "id", 0),
		           (long long)reply_int(reply_item(r, 0), "copy", 0));
	else if (n == 1)
		ui_message(c, false, "task %lld was retried as %lld already", (long long)reply_int(reply_item(r, 0), "id", 0),
		           (long long)reply_int(reply_item(r, 0), "copy", 0));
	else
		ui_message(c, refused > 0, "%d submitted again, %d retried before, %d refused%s%s: %s", made, before, refused,
		           refused ? ": " : "", reason, pairs);
	xmlrpc_DECREF(r);
	ui_clear_marks(c);
	c->refresh = true;
}

static void retry_selected(struct console *c, enum ui_action a)
{
	on_selection(c, retry, 0);
}

static void mark(struct console *c, enum ui_action a)
{
	if (focused(c)->mark == NULL) {
		ui_message(c, true, "marks are for the queue, history and running panes");
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

	if (c->focus == PANE_LOG) {
		c->details_log = true;
		c->details_scroll = 0;
		c->mode = MODE_DETAILS;
		c->dirty = true;
		return;
	}
	if (focused(c)->cursor == NULL) {
		ui_message(c, true, "details are for the queue, history, running and log panes");
		return;
	}
	xmlrpc_env_init(&env);
	xmlrpc_value *ids = xmlrpc_array_new(&env);

	focused(c)->cursor(c, &env, ids, priority, sizeof priority);
	id = reply_item_int(ids, 0, 0);
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
	if (id <= 0) {
		ui_message(c, true, "no task under the cursor");
		return;
	}
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

/* h: the history in the queue's place, or the queue again; the cursor goes with it. */
static void toggle_history(struct console *c, enum ui_action a)
{
	c->show_history = !c->show_history;
	if (c->show_history && c->focus == PANE_QUEUE)
		c->focus = PANE_HISTORY;
	else if (!c->show_history && c->focus == PANE_HISTORY)
		c->focus = PANE_QUEUE;
	c->refresh = true;
	c->dirty = true;
}

/* "AbC" in base64, for OSC 52. */
static char *base64(const char *in)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	char *out = xmalloc(4 * (n / 3 + 1) + 1);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0) |
		             (i + 2 < n ? (unsigned char)in[i + 2] : 0);

		out[o++] = digits[v >> 18 & 63];
		out[o++] = digits[v >> 12 & 63];
		out[o++] = i + 1 < n ? digits[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? digits[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Puts text in tmux's paste buffer (tmux set-buffer, no shell); false when that did not work. */
static bool tmux_buffer(const char *text)
{
	char tmux[] = "tmux", set[] = "set-buffer", end[] = "--", *arg = xstrdup(text);
	char *const argv[] = {tmux, set, end, arg, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	bool ok = posix_spawnp(&pid, "tmux", &fa, NULL, argv, environ) == 0 && waitpid(pid, &status, 0) == pid &&
	          WIFEXITED(status) && WEXITSTATUS(status) == 0;

	posix_spawn_file_actions_destroy(&fa);
	free(arg);
	return ok;
}

/* y: the ids of the selection, space-separated, to tmux's paste buffer inside tmux, else to the terminal's clipboard. */
static void copy(struct console *c, const struct selection *s, int unused)
{
	char text[4096] = "", what[600];
	size_t len = 0;

	for (int i = 0; i < s->n && len + 24 < sizeof text; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%lld", i ? " " : "",
		                        (long long)reply_item_int(s->ids, i, 0));
	tasks_text(what, sizeof what, s->ids, false, COLS / 2);
	if (getenv("TMUX") && tmux_buffer(text)) {
		ui_message(c, false, "copied %s to tmux's paste buffer", what);
		return;
	}
	char *b64 = base64(text);

	/* OSC 52: the terminal (or tmux with set-clipboard) puts it on the clipboard. */
	printf("\033]52;c;%s\a", b64);
	fflush(stdout);
	free(b64);
	ui_message(c, false, "copied %s to the clipboard (OSC 52)", what);
}

static void copy_selected(struct console *c, enum ui_action a)
{
	on_selection(c, copy, 0);
}

/* o: the history's next order (the queue's is the server's: priority, then age). */
static void sort_rows(struct console *c, enum ui_action a)
{
	if (!c->show_history) {
		ui_message(c, true, "the queue runs in its order (priority, then age); o sorts the history (h)");
		return;
	}
	pane_history_sort(c);
}

/* b: the backends in the statistics' place, or the statistics again. */
static void toggle_backends(struct console *c, enum ui_action a)
{
	c->show_backends = !c->show_backends;
	c->dirty = true;
}

/* The most tasks A marks in one go. */
#define MARK_ALL_MAX 10000

/*
 * A: every task the pane lists, marked: the history's rows, or what the filter matches (else the
 * whole queue), page by page from the server, up to MARK_ALL_MAX.
 */
static void mark_all(struct console *c, enum ui_action a)
{
	xmlrpc_env env;
	int64_t total = 0, marked = 0;

	if (c->focus == PANE_HISTORY) {
		pane_history_mark_all(c);
		return;
	}
	if (c->focus != PANE_QUEUE) {
		ui_message(c, true, "A marks what the queue or the history lists");
		return;
	}
	xmlrpc_env_init(&env);
	xmlrpc_value *f = ui_filter_struct(&env, c->filter ? c->filter : "state:queued");

	/* A page may be shorter than asked (long records): the next starts where it ended. */
	for (int64_t offset = 0; marked < MARK_ALL_MAX;) {
		xmlrpc_value *r = ui_call(c, "simq.list", "(VII)", f, (xmlrpc_int64)offset, (xmlrpc_int64)1000);
		xmlrpc_value *tasks = reply_member(r, "tasks");
		int n = reply_count(tasks);

		total = reply_int(r, "total", 0);
		for (int i = 0; i < n && marked < MARK_ALL_MAX; i++, marked++)
			idmap_put(&c->marks, reply_int(reply_item(tasks, i), "id", 0), (void *)1);
		if (r)
			xmlrpc_DECREF(r);
		offset += n;
		if (r == NULL || n == 0 || offset >= total)
			break;
	}
	xmlrpc_DECREF(f);
	xmlrpc_env_clean(&env);
	if (marked < total)
		ui_message(c, false, "marked the first %lld of %lld tasks", (long long)marked, (long long)total);
	else if (marked > 0)
		ui_message(c, false, "marked %lld task%s", (long long)marked, marked == 1 ? "" : "s");
	c->dirty = true;
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
    [UI_MARK_ALL] = mark_all,
    [UI_COPY] = copy_selected,
    [UI_HISTORY] = toggle_history,
    [UI_SORT] = sort_rows,
    [UI_BACKENDS] = toggle_backends,
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
	} else if (key == UI_KEY_ESC && c->filter) {
		/* Esc: the marks first, then the filter. */
		free(c->filter);
		c->filter = NULL;
		if (c->list)
			xmlrpc_DECREF(c->list);
		c->list = NULL;
		c->queue_sel = c->queue_top = c->queue_sel_id = 0;
		c->refresh = true;
		ui_message(c, false, "filter cleared: the queue");
	}
}

const struct mode_ops mode_normal = {
    .key = normal_key,
};

/* ---- the question ----------------------------------------------------------------------------- */

static void confirm_key(struct console *c, int key)
{
	c->mode = MODE_NORMAL;
	if ((key == 'y' || key == 'Y') && c->confirm_ids)
		cancel_confirmed(c);
	else
		ui_message(c, false, "nothing cancelled");
	if (c->confirm_ids)
		xmlrpc_DECREF(c->confirm_ids);
	c->confirm_ids = NULL;
}

static void confirm_hint(struct console *c, int y)
{
	screen_put(y, 0, COLS, A_BOLD, PAIR_BAD, c->confirm_text ? c->confirm_text : "Sure? y/N");
}

const struct mode_ops mode_confirm = {
    .key = confirm_key,
    .hint = confirm_hint,
};
