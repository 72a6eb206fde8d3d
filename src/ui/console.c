#include "autoconf.h"

#include "ui/console.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "cli/common.h"
#include "ui/ui.h"
#include "util/paths.h"
#include "util/time.h"
#include "util/xalloc.h"

/*
 * How long one long poll of simq.view may wait for a change.  The server answers by then
 * even when nothing changed, so a poll that outlasts it by STUCK_GRACE_MS means a server
 * that is stopped or stuck: the banner says so, where the screen would otherwise go on
 * showing the last answer as if all were well.
 */
#define POLL_WAIT_MS 5000
#define STUCK_GRACE_MS 3000
/* An action (cancel, submit, ...) waits this long for its answer on the loop thread, then gives up. */
#define ACTION_TIMEOUT_MS 5000
/* How long an action's answer stays in the hint line. */
#define MESSAGE_MS 6000

static struct console *the_console; /* for the fatal path, which must restore the terminal */

static int64_t now_ms(void)
{
	return time_wall_ns() / 1000000;
}

void ui_message(struct console *c, bool error, const char *fmt, ...)
{
	va_list ap;

	free(c->message);
	va_start(ap, fmt);
	if (vasprintf(&c->message, fmt, ap) < 0)
		c->message = NULL;
	va_end(ap);
	c->message_error = error;
	c->message_at = now_ms();
	c->dirty = true;
}

static xmlrpc_value *call_v(struct console *c, const char *method, const char *format, va_list ap)
{
	xmlrpc_env env;
	xmlrpc_value *params, *result = NULL;
	int fault;
	char *err = NULL;
	const char *suffix;

	xmlrpc_env_init(&env);
	xmlrpc_build_value_va(&env, format, ap, &params, &suffix);
	if (env.fault_occurred) {
		ui_message(c, true, "%s: %s", method, env.fault_string);
		xmlrpc_env_clean(&env);
		return NULL;
	}
	xmlrpc_env_clean(&env);
	enum client_status st = client_call(c->conn, method, params, &result, &fault, &err);

	xmlrpc_DECREF(params);
	if (st != CLIENT_OK) {
		/* The server's own words: they say what was wrong and what is allowed. */
		if (st == CLIENT_TIMEOUT)
			ui_message(c, true, "no answer from the server in %d s (stopped or stuck?); it may still do "
				   "the %s when it answers", ACTION_TIMEOUT_MS / 1000,
				   strncmp(method, "simq.", 5) ? method : method + 5);
		else
			ui_message(c, true, "%s", err ? err : "the server did not answer");
		if (st == CLIENT_UNREACHABLE || st == CLIENT_TIMEOUT) {
			c->connected = false;
			free(c->banner);
			c->banner = xstrdup(err ? err : "the server does not answer");
		}
		free(err);
		return NULL;
	}
	return result;
}

xmlrpc_value *ui_call(struct console *c, const char *method, const char *format, ...)
{
	va_list ap;
	xmlrpc_value *r;

	va_start(ap, format);
	r = call_v(c, method, format, ap);
	va_end(ap);
	return r;
}

/* ---- the view thread ------------------------------------------------------------------ */

static xmlrpc_value *view_request(xmlrpc_env *env, int64_t version, double wait_ms, int64_t offset, int64_t limit,
				  int64_t log_since)
{
	return xmlrpc_build_value(env, "({s:I,s:d,s:I,s:I,s:I})", "version", (xmlrpc_int64)version, "wait_ms", wait_ms,
				  "queue_offset", (xmlrpc_int64)offset, "queue_limit", (xmlrpc_int64)limit, "log_since",
				  (xmlrpc_int64)log_since);
}

struct fetch_arg {
	struct console *c;
	struct client *conn;
};

/* Long-polls simq.view and leaves the newest answer in c->f for the loop; retries while no server answers. */
static void *fetch_main(void *arg)
{
	struct fetch_arg *fa = arg;
	struct console *c = fa->c;
	struct fetch *f = &c->f;

	pthread_mutex_lock(&f->lock);
	while (!f->quit) {
		int64_t version = f->version, offset = f->offset, limit = f->limit, since = f->log_since;
		xmlrpc_env env;
		xmlrpc_value *params, *r = NULL;
		int fault;
		char *err = NULL;

		pthread_mutex_unlock(&f->lock);
		xmlrpc_env_init(&env);
		params = view_request(&env, version, POLL_WAIT_MS, offset, limit, since);
		enum client_status st = client_call(fa->conn, "simq.view", params, &r, &fault, &err);

		xmlrpc_DECREF(params);
		xmlrpc_env_clean(&env);
		pthread_mutex_lock(&f->lock);
		if (st == CLIENT_OK) {
			if (f->answer)
				xmlrpc_DECREF(f->answer);
			f->answer = r;
			f->answer_offset = offset;
			f->answer_limit = limit;
			/* log_since moves only when the loop has taken the lines (apply_view): an answer
			 * it has not taken yet is replaced here, and the next one must carry its lines too. */
			f->version = ui_int(r, "version", -1);
			free(f->error);
			f->error = NULL;
		} else {
			free(f->error);
			f->error = err ? err : xstrdup("the server does not answer");
			err = NULL;
		}
		free(err);
		ev_async_send(c->loop, &c->got_answer);
		if (st != CLIENT_OK && !f->quit) {
			/* No server: look again in half a second, or at once when told to quit. */
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 500000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&f->wake, &f->lock, &until);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* ---- answers -------------------------------------------------------------------------- */

static void add_log_lines(struct console *c, xmlrpc_value *view)
{
	xmlrpc_env env;
	xmlrpc_value *lines = NULL;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, view, "log", &lines);
	if (lines && xmlrpc_value_type(lines) == XMLRPC_TYPE_ARRAY) {
		int n = xmlrpc_array_size(&env, lines);

		for (int i = 0; i < n; i++) {
			xmlrpc_value *l = xmlrpc_array_get_item(&env, lines, i);
			int64_t seq = ui_int(l, "seq", 0);
			char t[64], text[1024];

			if (seq <= c->log_seq)
				continue;
			c->log_seq = seq;
			size_t slot = (c->log_head + c->log_len) % UI_LOG_KEEP;

			if (c->log_len == UI_LOG_KEEP) {
				slot = c->log_head;
				c->log_head = (c->log_head + 1) % UI_LOG_KEEP;
				free(c->log[slot].time);
				free(c->log[slot].text);
			} else {
				c->log_len++;
			}
			ui_str(l, "time", t, sizeof t);
			/* "2026-11-28T03:00:05.123Z": the clock part is what a log line shows. */
			c->log[slot].seq = seq;
			c->log[slot].time = xstrndup(strlen(t) >= 19 ? t + 11 : t, 8);
			c->log[slot].text = xstrdup(ui_str(l, "text", text, sizeof text));
			if (c->log_back > 0)
				c->log_back++; /* scrolled back: keep looking at the same lines */
		}
	}
	if (lines)
		xmlrpc_DECREF(lines);
	xmlrpc_env_clean(&env);
}

static void refresh_list(struct console *c);

/* Takes a view answer: log lines, alerts (the bell), and the page if it is the one on screen. */
static void apply_view(struct console *c, xmlrpc_value *v)
{
	int64_t alerts = ui_int(v, "alerts", 0);

	add_log_lines(c, v);
	pthread_mutex_lock(&c->f.lock);
	c->f.log_since = c->log_seq;
	pthread_mutex_unlock(&c->f.lock);
	if (c->alerts >= 0 && alerts > c->alerts && c->bell)
		beep();
	c->alerts = alerts;
	if (c->view)
		xmlrpc_DECREF(c->view);
	c->view = v;
	c->view_at_ms = now_ms();
	c->connected = true;
	free(c->banner);
	c->banner = NULL;
	if (c->filter)
		refresh_list(c);
	c->dirty = true;
}

/* The page the screen needs, fetched now on the loop thread (the view thread waits for changes). */
static void refresh_now(struct console *c)
{
	xmlrpc_value *v;

	pthread_mutex_lock(&c->f.lock);
	c->f.offset = c->queue_top;
	c->f.limit = c->queue_rows > 0 ? c->queue_rows : 50;
	pthread_mutex_unlock(&c->f.lock);
	if (c->filter) {
		refresh_list(c);
		c->dirty = true;
		return;
	}
	/* A server that does not answer would hold every key for ACTION_TIMEOUT_MS: the view thread
	 * asks for this page too, and brings it when the server is back. */
	if (!c->connected)
		return;
	v = ui_call(c, "simq.view", "({s:I,s:d,s:I,s:I,s:I})", "version", (xmlrpc_int64)-1, "wait_ms", 0.0,
		    "queue_offset", (xmlrpc_int64)c->queue_top, "queue_limit",
		    (xmlrpc_int64)(c->queue_rows > 0 ? c->queue_rows : 50), "log_since", (xmlrpc_int64)c->log_seq);
	if (v)
		apply_view(c, v);
}

static void got_answer_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct console *c = w->data;
	xmlrpc_value *v;
	int64_t offset, limit;

	pthread_mutex_lock(&c->f.lock);
	v = c->f.answer;
	c->f.answer = NULL;
	offset = c->f.answer_offset;
	limit = c->f.answer_limit;
	if (v == NULL && c->f.error) {
		c->connected = false;
		free(c->banner);
		c->banner = xstrdup(c->f.error);
		c->dirty = true;
	}
	pthread_mutex_unlock(&c->f.lock);
	if (v == NULL)
		return;
	apply_view(c, v);
	/* Asked for another page than the one on screen now: get that one. */
	if (offset != c->queue_top || limit != (c->queue_rows > 0 ? c->queue_rows : 50))
		refresh_now(c);
}

/* ---- the filter ------------------------------------------------------------------------- */

/* "state:failed model:buck nightly": key:value pairs; a bare word is a model. */
static xmlrpc_value *filter_struct(xmlrpc_env *env, const char *text)
{
	xmlrpc_value *f = xmlrpc_struct_new(env);
	char *copy = xstrdup(text), *save = NULL;

	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':');
		const char *key = "model", *value = tok;

		if (colon) {
			*colon = '\0';
			key = tok;
			value = colon + 1;
		}
		xmlrpc_value *s = xmlrpc_string_new(env, value);

		xmlrpc_struct_set_value(env, f, key, s);
		xmlrpc_DECREF(s);
	}
	free(copy);
	return f;
}

static void refresh_list(struct console *c)
{
	xmlrpc_env env;
	xmlrpc_value *f, *r;

	xmlrpc_env_init(&env);
	f = filter_struct(&env, c->filter);
	r = ui_call(c, "simq.list", "(VII)", f, (xmlrpc_int64)c->queue_top,
		    (xmlrpc_int64)(c->queue_rows > 0 ? c->queue_rows : 50));
	xmlrpc_DECREF(f);
	xmlrpc_env_clean(&env);
	if (r == NULL) {
		/* A bad filter: say why (the message is set) and show the queue again. */
		free(c->filter);
		c->filter = NULL;
		return;
	}
	if (c->list)
		xmlrpc_DECREF(c->list);
	c->list = r;
}

/* ---- selection ---------------------------------------------------------------------------- */

static int64_t row_count(struct console *c, enum ui_pane p)
{
	xmlrpc_env env;
	xmlrpc_value *running = NULL;
	int64_t n = 0;

	switch (p) {
	case PANE_QUEUE:
		ui_rows(c, &n, NULL);
		return n;
	case PANE_RUNNING:
		if (c->view == NULL)
			return 0;
		xmlrpc_env_init(&env);
		xmlrpc_struct_find_value(&env, c->view, "running", &running);
		if (running) {
			n = xmlrpc_array_size(&env, running);
			xmlrpc_DECREF(running);
		}
		xmlrpc_env_clean(&env);
		return n;
	case PANE_LOG:
		return (int64_t)c->log_len;
	default:
		return 0;
	}
}

static void move_selection(struct console *c, int64_t delta, bool absolute)
{
	int64_t n = row_count(c, c->focus);

	if (delta == INT64_MAX)
		delta = n;
	if (c->focus == PANE_QUEUE) {
		int64_t sel = absolute ? delta : c->queue_sel + delta;

		if (sel >= n)
			sel = n - 1;
		if (sel < 0)
			sel = 0;
		c->queue_sel = sel;
		int64_t top = c->queue_top;

		if (sel < top)
			top = sel;
		if (c->queue_rows > 0 && sel >= top + c->queue_rows)
			top = sel - c->queue_rows + 1;
		if (top != c->queue_top) {
			c->queue_top = top;
			refresh_now(c);
		}
	} else if (c->focus == PANE_RUNNING) {
		int64_t sel = absolute ? delta : (int64_t)c->running_sel + delta;

		if (sel >= n)
			sel = n - 1;
		c->running_sel = (size_t)(sel < 0 ? 0 : sel);
	} else {
		/* The log: down is towards the newest line; at the end it follows again. */
		int64_t back = absolute ? (delta == 0 ? n : 0) : (int64_t)c->log_back - delta;

		if (back > n)
			back = n;
		c->log_back = (size_t)(back < 0 ? 0 : back);
	}
	c->dirty = true;
}

/* The ids an action applies to: the marked tasks, else the selected row's. */
static xmlrpc_value *selected_ids(struct console *c, xmlrpc_env *env, const char **priority_out, char *pbuf,
				  size_t psize)
{
	xmlrpc_value *ids = xmlrpc_array_new(env);

	if (priority_out)
		*priority_out = NULL;
	if (c->marks.size > 0) {
		for (size_t i = 0; i < c->marks.cap; i++) {
			if (c->marks.keys && c->marks.keys[i]) {
				xmlrpc_value *id = xmlrpc_i8_new(env, c->marks.keys[i]);

				xmlrpc_array_append_item(env, ids, id);
				xmlrpc_DECREF(id);
			}
		}
	}
	int64_t first = 0;
	xmlrpc_value *rows = NULL;

	if (c->focus == PANE_QUEUE) {
		rows = ui_rows(c, NULL, &first);
		if (rows && c->queue_sel >= first && c->queue_sel < first + xmlrpc_array_size(env, rows)) {
			xmlrpc_value *row = xmlrpc_array_get_item(env, rows, (int)(c->queue_sel - first));

			if (priority_out)
				*priority_out = ui_str(row, "priority", pbuf, psize);
			if (c->marks.size == 0) {
				xmlrpc_value *id = xmlrpc_i8_new(env, ui_int(row, "id", 0));

				xmlrpc_array_append_item(env, ids, id);
				xmlrpc_DECREF(id);
			}
		}
	} else if (c->focus == PANE_RUNNING && c->view) {
		xmlrpc_value *running = NULL;

		xmlrpc_struct_find_value(env, c->view, "running", &running);
		if (running && (int)c->running_sel < xmlrpc_array_size(env, running)) {
			xmlrpc_value *row = xmlrpc_array_get_item(env, running, (int)c->running_sel), *rids = NULL;
			char kind[16];

			if (priority_out)
				*priority_out = ui_str(row, "priority", pbuf, psize);
			if (c->marks.size == 0) {
				if (strcmp(ui_str(row, "kind", kind, sizeof kind), "retry") == 0) {
					xmlrpc_value *id = xmlrpc_i8_new(env, ui_int(row, "id", 0));

					xmlrpc_array_append_item(env, ids, id);
					xmlrpc_DECREF(id);
				} else {
					xmlrpc_struct_find_value(env, row, "ids", &rids);
					for (int i = 0; rids && i < xmlrpc_array_size(env, rids); i++)
						xmlrpc_array_append_item(env, ids, xmlrpc_array_get_item(env, rids, i));
					if (rids)
						xmlrpc_DECREF(rids);
				}
			}
		}
		if (running)
			xmlrpc_DECREF(running);
	}
	return ids;
}

/* ---- actions ------------------------------------------------------------------------------ */

static const char *const priority_names[] = {"critical", "high", "normal", "low"};

static void reprioritize(struct console *c, int level, int delta)
{
	xmlrpc_env env;
	char pbuf[16];
	const char *current;

	xmlrpc_env_init(&env);
	xmlrpc_value *ids = selected_ids(c, &env, &current, pbuf, sizeof pbuf);
	int n = xmlrpc_array_size(&env, ids);

	if (n == 0) {
		ui_message(c, true, "no task selected");
	} else {
		if (level < 0) {
			level = 2;
			for (int p = 0; current && p < 4; p++)
				if (strcmp(current, priority_names[p]) == 0)
					level = p;
			/* +: more urgent, which is the lower number. */
			level -= delta;
			level = level < 0 ? 0 : level > 3 ? 3 : level;
		}
		xmlrpc_value *r = ui_call(c, "simq.reprioritize", "(Vs)", ids, priority_names[level]);

		if (r) {
			ui_message(c, false, "%d task%s now %s", n, n == 1 ? "" : "s", priority_names[level]);
			xmlrpc_DECREF(r);
			refresh_now(c);
		}
	}
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
}

static void ask(struct console *c, enum ui_action a)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_value *ids = selected_ids(c, &env, NULL, NULL, 0);
	int n = xmlrpc_array_size(&env, ids);

	if (n == 0) {
		ui_message(c, true, "no task selected");
	} else {
		free(c->confirm_text);
		if (n == 1) {
			xmlrpc_value *id = xmlrpc_array_get_item(&env, ids, 0);
			xmlrpc_int64 v = 0;

			xmlrpc_read_i8(&env, id, &v);
			c->confirm_text = xasprintf("Cancel task %lld? y/N", (long long)v);
		} else {
			c->confirm_text = xasprintf("Cancel %d tasks? y/N", n);
		}
		c->confirm_action = a;
		c->mode = MODE_CONFIRM;
		c->dirty = true;
	}
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
}

static void clear_marks(struct console *c)
{
	idmap_free(&c->marks);
	c->marks = (struct idmap)IDMAP_INIT;
}

static void cancel_selected(struct console *c)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_value *ids = selected_ids(c, &env, NULL, NULL, 0);
	xmlrpc_value *r = ui_call(c, "simq.cancel", "(V)", ids);

	if (r) {
		int n = xmlrpc_array_size(&env, r), done = 0;

		/* The answer lists every id with its state: some may have finished before the key was pressed. */
		for (int i = 0; i < n; i++) {
			char state[32];

			done += strcmp(ui_str(xmlrpc_array_get_item(&env, r, i), "state", state, sizeof state), "cancelled") == 0;
		}
		if (done == n)
			ui_message(c, false, "%d task%s cancelled", n, n == 1 ? "" : "s");
		else
			ui_message(c, false, "%d task%s cancelled; %d had already finished", done, done == 1 ? "" : "s",
				   n - done);
		xmlrpc_DECREF(r);
		clear_marks(c);
		refresh_now(c);
	}
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
}

static void retry_selected(struct console *c)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_value *ids = selected_ids(c, &env, NULL, NULL, 0);
	xmlrpc_value *r = xmlrpc_array_size(&env, ids) ? ui_call(c, "simq.retry", "(V)", ids) : NULL;

	if (xmlrpc_array_size(&env, ids) == 0)
		ui_message(c, true, "no task selected");
	if (r) {
		int n = xmlrpc_array_size(&env, r);

		ui_message(c, false, "%d task%s submitted again", n, n == 1 ? "" : "s");
		xmlrpc_DECREF(r);
		clear_marks(c);
		refresh_now(c);
	}
	xmlrpc_DECREF(ids);
	xmlrpc_env_clean(&env);
}

static void toggle_mark(struct console *c)
{
	xmlrpc_env env;

	if (c->focus != PANE_QUEUE) {
		ui_message(c, true, "marks are for the queue pane");
		return;
	}
	xmlrpc_env_init(&env);
	int64_t first;
	xmlrpc_value *rows = ui_rows(c, NULL, &first);

	if (rows && c->queue_sel >= first && c->queue_sel < first + xmlrpc_array_size(&env, rows)) {
		int64_t id = ui_int(xmlrpc_array_get_item(&env, rows, (int)(c->queue_sel - first)), "id", 0);

		if (idmap_get(&c->marks, id))
			idmap_remove(&c->marks, id);
		else
			idmap_put(&c->marks, id, (void *)1);
		move_selection(c, 1, false);
	}
	xmlrpc_env_clean(&env);
	c->dirty = true;
}

static void open_details(struct console *c)
{
	xmlrpc_env env;
	int64_t id = 0;

	xmlrpc_env_init(&env);
	if (c->focus == PANE_LOG) {
		ui_message(c, true, "details are for the queue and running panes");
	} else {
		struct idmap saved = c->marks;

		c->marks = (struct idmap)IDMAP_INIT; /* details are for the row under the cursor, marks or not */
		xmlrpc_value *ids = selected_ids(c, &env, NULL, NULL, 0);

		c->marks = saved;
		if (xmlrpc_array_size(&env, ids) > 0) {
			xmlrpc_int64 v;

			xmlrpc_read_i8(&env, xmlrpc_array_get_item(&env, ids, 0), &v);
			id = v;
		}
		xmlrpc_DECREF(ids);
	}
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

static void toggle_pause(struct console *c)
{
	bool paused = false;
	xmlrpc_env env;
	xmlrpc_value *p = NULL;

	xmlrpc_env_init(&env);
	if (c->view)
		xmlrpc_struct_find_value(&env, c->view, "paused", &p);
	if (p) {
		xmlrpc_bool b;

		xmlrpc_read_bool(&env, p, &b);
		paused = b;
		xmlrpc_DECREF(p);
	}
	xmlrpc_env_clean(&env);
	xmlrpc_value *r = ui_call(c, paused ? "simq.resume" : "simq.pause", "()");

	if (r) {
		ui_message(c, false, paused ? "dispatching resumed" : "paused: running calls finish, nothing new starts");
		xmlrpc_DECREF(r);
		refresh_now(c);
	}
}

static void quit(struct console *c)
{
	ev_break(c->loop, EVBREAK_ALL);
}

static void normal_key(struct console *c, int key)
{
	enum ui_action a = ui_keymap_action(&c->keys, key);

	switch (a) {
	case UI_UP:
		move_selection(c, -1, false);
		break;
	case UI_DOWN:
		move_selection(c, 1, false);
		break;
	case UI_TOP:
		move_selection(c, 0, true);
		break;
	case UI_BOTTOM:
		move_selection(c, INT64_MAX, true);
		break;
	case UI_PAGE_UP:
		move_selection(c, -(c->queue_rows > 1 ? c->queue_rows - 1 : 1), false);
		break;
	case UI_PAGE_DOWN:
		move_selection(c, c->queue_rows > 1 ? c->queue_rows - 1 : 1, false);
		break;
	case UI_NEXT_PANE:
		c->focus = (enum ui_pane)((c->focus + 1) % PANE_COUNT);
		c->dirty = true;
		break;
	case UI_DETAILS:
		open_details(c);
		break;
	case UI_SUBMIT:
		ui_form_free(&c->form);
		c->form = ui_form_new();
		c->mode = MODE_FORM;
		c->dirty = true;
		break;
	case UI_PRIORITY_UP:
		reprioritize(c, -1, 1);
		break;
	case UI_PRIORITY_DOWN:
		reprioritize(c, -1, -1);
		break;
	case UI_PRIORITY_CRITICAL:
	case UI_PRIORITY_HIGH:
	case UI_PRIORITY_NORMAL:
	case UI_PRIORITY_LOW:
		reprioritize(c, a - UI_PRIORITY_CRITICAL, 0);
		break;
	case UI_CANCEL:
		ask(c, a);
		break;
	case UI_RETRY:
		retry_selected(c);
		break;
	case UI_MARK:
		toggle_mark(c);
		break;
	case UI_FILTER:
		/* A new filter each time, as in less: Enter on an empty line shows the queue again. */
		c->mode = MODE_FILTER;
		c->input_len = 0;
		c->input_buf[0] = '\0';
		c->dirty = true;
		break;
	case UI_PAUSE:
		toggle_pause(c);
		break;
	case UI_STATS_WINDOW:
		c->stats_window = (c->stats_window + 1) % 3;
		c->dirty = true;
		break;
	case UI_HELP:
		c->mode = MODE_HELP;
		c->dirty = true;
		break;
	case UI_QUIT:
		quit(c);
		break;
	default:
		if (key == UI_KEY_ESC && c->marks.size) {
			clear_marks(c);
			c->dirty = true;
		}
		break;
	}
}

static void filter_key(struct console *c, int key)
{
	if (key == '\n' || key == '\r' || key == (UI_KEY_FN | KEY_ENTER)) {
		free(c->filter);
		c->filter = c->input_len ? xstrdup(c->input_buf) : NULL;
		if (c->list && !c->filter) {
			xmlrpc_DECREF(c->list);
			c->list = NULL;
		}
		c->queue_sel = c->queue_top = 0;
		c->focus = PANE_QUEUE;
		c->mode = MODE_NORMAL;
		clear_marks(c);
		refresh_now(c);
	} else if (key == UI_KEY_ESC) {
		c->mode = MODE_NORMAL;
	} else if (key == 127 || key == 8 || key == (UI_KEY_FN | KEY_BACKSPACE)) {
		/* Back one whole UTF-8 character. */
		while (c->input_len > 0 && ((unsigned char)c->input_buf[--c->input_len] & 0xc0) == 0x80)
			;
		c->input_buf[c->input_len] = '\0';
	} else if (key >= ' ' && key < UI_KEY_FN && c->input_len + 8 < sizeof c->input_buf) {
		char mb[8];
		int n = wctomb(mb, (wchar_t)key);

		if (n > 0) {
			memcpy(c->input_buf + c->input_len, mb, (size_t)n);
			c->input_len += (size_t)n;
			c->input_buf[c->input_len] = '\0';
		}
	}
	c->dirty = true;
}

static void handle_key(struct console *c, int key)
{
	switch (c->mode) {
	case MODE_NORMAL:
		normal_key(c, key);
		break;
	case MODE_CONFIRM:
		c->mode = MODE_NORMAL;
		if (key == 'y' || key == 'Y')
			cancel_selected(c);
		else
			ui_message(c, false, "nothing cancelled");
		break;
	case MODE_HELP:
		c->mode = MODE_NORMAL;
		break;
	case MODE_DETAILS: {
		enum ui_action a = ui_keymap_action(&c->keys, key);

		if (a == UI_DOWN || a == UI_PAGE_DOWN)
			c->details_scroll += a == UI_DOWN ? 1 : 10;
		else if (a == UI_UP || a == UI_PAGE_UP)
			c->details_scroll = c->details_scroll > (a == UI_UP ? 1 : 10) ? c->details_scroll - (a == UI_UP ? 1 : 10) : 0;
		else
			c->mode = MODE_NORMAL;
		break;
	}
	case MODE_FILTER:
		filter_key(c, key);
		break;
	case MODE_FORM:
		if (!ui_form_key(c, c->form, key)) {
			ui_form_free(&c->form);
			c->mode = MODE_NORMAL;
			refresh_now(c);
		}
		break;
	}
	c->dirty = true;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static void input_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct console *c = w->data;
	int key;

	while ((key = ui_key_read()) >= 0) {
		if (key == (UI_KEY_FN | KEY_RESIZE)) {
			c->resized = true;
			c->dirty = true;
			continue;
		}
		handle_key(c, key);
	}
}

static void winch_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct console *c = w->data;

	c->resized = true;
	c->dirty = true;
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	quit(w->data);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct console *c = w->data;

	/* The clock, ages and countdowns move; a message times out. */
	if (c->message && now_ms() - c->message_at > MESSAGE_MS) {
		free(c->message);
		c->message = NULL;
	}
	c->dirty = true;
}

static void draw_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct console *c = w->data;

	if (c->resized) {
		struct winsize ws;

		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
			resizeterm(ws.ws_row, ws.ws_col);
		/* What the terminal shows after a resize is not what ncurses last sent: repaint it all. */
		clearok(curscr, TRUE);
		c->resized = false;
		int before = c->queue_rows;

		ui_draw(c);
		if (c->queue_rows != before)
			refresh_now(c);
	}
	if (c->dirty) {
		c->dirty = false;
		ui_draw(c);
	}
	/* SIMQ_SCRIPT: one key per pass, once there is something to act on. */
	if (c->script_next < c->nscript && c->view && c->mode != MODE_HELP) {
		const char *name = c->script[c->script_next++];
		int key = ui_key_parse(name);

		if (key >= 0)
			handle_key(c, key);
		else if (strncmp(name, "text ", 5) == 0)
			for (const char *p = name + 5; *p; p++)
				handle_key(c, (unsigned char)*p);
		if (c->dirty) {
			c->dirty = false;
			ui_draw(c);
		}
	}
}

/* Every fatal path goes through here so the terminal is given back before anything is printed. */
static void restore_terminal(void)
{
	if (the_console && !isendwin())
		endwin();
}

static void fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void load_script(struct console *c, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];

	if (fp == NULL)
		return;
	while (fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		c->script = xreallocarray(c->script, c->nscript + 1, sizeof *c->script);
		c->script[c->nscript++] = xstrdup(line);
	}
	fclose(fp);
}

static int by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * bench/console's hook: n frames, each a page of the queue at a different depth fetched from the
 * server and drawn (what a key press costs), timed; the median and p95 go to the file out.
 */
static void time_frames(struct console *c, int n, const char *out)
{
	int64_t *ns = xcalloc(n > 0 ? (size_t)n : 1, sizeof *ns), total = 0;
	FILE *fp;

	ui_rows(c, &total, NULL);
	for (int i = 0; i < n; i++) {
		int64_t t0 = time_mono_ns();

		c->queue_sel = c->queue_top = total > 0 ? (int64_t)((uint64_t)i * 7919 * 1009 % (uint64_t)total) : 0;
		refresh_now(c);
		ui_draw(c);
		ns[i] = time_mono_ns() - t0;
	}
	qsort(ns, (size_t)n, sizeof *ns, by_value);
	fp = out ? fopen(out, "w") : NULL;
	if (fp && n > 0) {
		fprintf(fp, "%d %lld %.3f %.3f\n", n, (long long)total, (double)ns[n / 2] / 1e6,
			(double)ns[n * 95 / 100] / 1e6);
		fclose(fp);
	}
	free(ns);
}

static int run(struct console *c)
{
	struct fetch_arg fa = {.c = c};
	struct client_options quiet = c->copt, view;

	/* After the first answer, a server that goes away is shown, not restarted behind the operator's back. */
	quiet.no_start = true;
	view = quiet;
	view.timeout_ms = POLL_WAIT_MS + STUCK_GRACE_MS;
	quiet.timeout_ms = ACTION_TIMEOUT_MS;
	fa.conn = client_new(&view);
	client_free(&c->conn);
	c->conn = client_new(&quiet);

	setlocale(LC_ALL, "");
	the_console = c;
	signal(SIGSEGV, fatal_signal);
	signal(SIGABRT, fatal_signal);
	signal(SIGBUS, fatal_signal);
	atexit(restore_terminal);
	/* The window's size, not LINES and COLUMNS from an environment that may be stale. */
	use_env(FALSE);
	if (initscr() == NULL) {
		fprintf(stderr, "simq: cannot start the console on this terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		return CLI_EXIT_SOFTWARE;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	ui_draw_init(c);

	pthread_mutex_init(&c->f.lock, NULL);
	pthread_cond_init(&c->f.wake, NULL);
	c->loop = EV_DEFAULT;
	ev_io_init(&c->input, input_cb, STDIN_FILENO, EV_READ);
	c->input.data = c;
	ev_io_start(c->loop, &c->input);
	ev_signal_init(&c->winch, winch_cb, SIGWINCH);
	c->winch.data = c;
	ev_signal_start(c->loop, &c->winch);
	ev_signal_init(&c->sig_term, stop_cb, SIGTERM);
	c->sig_term.data = c;
	ev_signal_start(c->loop, &c->sig_term);
	ev_signal_init(&c->sig_int, stop_cb, SIGINT);
	c->sig_int.data = c;
	ev_signal_start(c->loop, &c->sig_int);
	ev_signal_init(&c->sig_hup, stop_cb, SIGHUP);
	c->sig_hup.data = c;
	ev_signal_start(c->loop, &c->sig_hup);
	double every = config_double(c->cfg, "ui", "refresh");

	ev_timer_init(&c->tick, tick_cb, every, every);
	c->tick.data = c;
	ev_timer_start(c->loop, &c->tick);
	ev_prepare_init(&c->draw, draw_cb);
	c->draw.data = c;
	ev_prepare_start(c->loop, &c->draw);
	ev_async_init(&c->got_answer, got_answer_cb);
	c->got_answer.data = c;
	ev_async_start(c->loop, &c->got_answer);

	/* First frame: size the queue pane, then fetch the page it holds.  The window may have changed
	 * size before the SIGWINCH watcher existed (tmux sizes a new pane just after starting it). */
	c->resized = true;
	draw_cb(c->loop, &c->draw, 0);
	refresh_now(c);
	c->f.version = c->view ? ui_int(c->view, "version", -1) : -1;
	c->f.log_since = c->log_seq;
	c->f.offset = c->queue_top;
	c->f.limit = c->queue_rows > 0 ? c->queue_rows : 50;
	c->fetcher_started = pthread_create(&c->fetcher, NULL, fetch_main, &fa) == 0;
	c->dirty = true;
	if (getenv("SIMQ_BENCH_FRAMES"))
		time_frames(c, atoi(getenv("SIMQ_BENCH_FRAMES")), getenv("SIMQ_BENCH_OUT"));

	ev_run(c->loop, 0);

	pthread_mutex_lock(&c->f.lock);
	c->f.quit = true;
	pthread_cond_signal(&c->f.wake);
	pthread_mutex_unlock(&c->f.lock);
	client_abort(fa.conn);
	if (c->fetcher_started)
		pthread_join(c->fetcher, NULL);
	client_free(&fa.conn);
	pthread_mutex_destroy(&c->f.lock);
	pthread_cond_destroy(&c->f.wake);
	endwin();
	the_console = NULL;
	return c->exit_status;
}

static void console_free(struct console *c)
{
	if (c->view)
		xmlrpc_DECREF(c->view);
	if (c->list)
		xmlrpc_DECREF(c->list);
	if (c->details)
		xmlrpc_DECREF(c->details);
	if (c->f.answer)
		xmlrpc_DECREF(c->f.answer);
	free(c->f.error);
	for (size_t i = 0; i < c->log_len; i++) {
		free(c->log[(c->log_head + i) % UI_LOG_KEEP].time);
		free(c->log[(c->log_head + i) % UI_LOG_KEEP].text);
	}
	for (size_t i = 0; i < c->nscript; i++)
		free(c->script[i]);
	free(c->script);
	ui_form_free(&c->form);
	ui_keymap_free(&c->keys);
	idmap_free(&c->marks);
	free(c->filter);
	free(c->banner);
	free(c->message);
	free(c->confirm_text);
	client_free(&c->conn);
	config_free(&c->cfg);
	free(c);
}

int console_main(int argc, char **argv)
{
	struct cli_ctx x = {.cmd = &cli_cmd_console};
	int status = cli_parse_options(&x, argc, argv, NULL, NULL, NULL, NULL);

	if (status >= 0)
		return status;
	if (optind < argc)
		return cli_usage_error(x.cmd, "takes no arguments, only options");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "simq: the console needs a terminal; for scripts, simq ls, simq stats and simq log -f "
				"print the same as text\n");
		return CLI_EXIT_USAGE;
	}
	struct console *c = xcalloc(1, sizeof *c);
	char *path = x.client.config_path ? xstrdup(x.client.config_path) : paths_config_file();

	c->cfg = config_load(path, x.client.config_path != NULL);
	free(path);
	if (config_error_count(c->cfg) > 0) {
		for (size_t i = 0; i < config_error_count(c->cfg); i++)
			fprintf(stderr, "simq: %s\n", config_error(c->cfg, i));
		console_free(c);
		return CLI_EXIT_CONFIG;
	}
	c->copt = x.client;
	c->alerts = -1;
	c->marks = (struct idmap)IDMAP_INIT;
	ui_keymap_load(&c->keys, c->cfg);
	c->bell = config_bool(c->cfg, "ui", "bell");
	c->dump_path = getenv("SIMQ_SCREEN_DUMP");
	if (getenv("SIMQ_SCRIPT"))
		load_script(c, getenv("SIMQ_SCRIPT"));

	/* First contact, before the screen is taken: starts a server when none answers, as the CLI does. */
	c->conn = client_new(&c->copt);
	xmlrpc_value *hello = NULL;
	int fault;
	char *err = NULL;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_value *params = view_request(&env, -1, 0, 0, 1, -1);

	if (client_call(c->conn, "simq.view", params, &hello, &fault, &err) != CLIENT_OK) {
		fprintf(stderr, "simq: %s\n", err ? err : "no server answers");
		free(err);
		xmlrpc_DECREF(params);
		xmlrpc_env_clean(&env);
		console_free(c);
		return CLI_EXIT_UNAVAILABLE;
	}
	xmlrpc_DECREF(params);
	xmlrpc_DECREF(hello);
	xmlrpc_env_clean(&env);
	c->connected = true;
	status = run(c);
	console_free(c);
	return status;
}

static int run_console(int argc, char **argv)
{
	return console_main(argc, argv);
}

const struct cli_command cli_cmd_console = {
    .name = "console",
    .usage = "simq [console] [--home DIR] [-c FILE] [--no-start]",
    .summary = "open the console (also: simq with no command)",
    .help = "The console shows the queue, the running calls, the log and the statistics, and takes keys to\n"
	    "submit, reprioritize, cancel and retry; ? lists the keys ([keys] in simq.ini changes them).\n"
	    "Quitting the console never stops the server.\n",
    .run = run_console,
};
