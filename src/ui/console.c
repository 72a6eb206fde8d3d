#include "autoconf.h"

#include "ui/console.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "client/reply.h"
#include "ui/form.h"
#include "ui/frame.h"
#include "ui/screen.h"
#include "ui/title.h"
#include "util/time.h"
#include "util/xalloc.h"

/*
 * How long one long poll of simq.view may wait for a change.  The server answers by then
 * even when nothing changed, so a poll that outlasts it by STUCK_GRACE_MS means a server
 * that is stopped or stuck: the banner says so, where the screen would otherwise go on
 * showing the last answer as if all were well.
 */
#define POLL_WAIT_MS   5000
#define STUCK_GRACE_MS 3000
/* How long an action's answer stays in the hint line. */
#define MESSAGE_MS 6000
/* The queue page asked for before the queue pane has been drawn. */
#define FIRST_PAGE 50

static const struct mode_ops *const modes[MODE_COUNT] = {
#define X(id, name) [MODE_##id] = &mode_##name,
    UI_MODES(X)
#undef X
};

static struct console *the_console; /* for the fatal path, which must restore the terminal */

static int64_t page_limit(const struct console *c)
{
	return c->queue_rows > 0 ? c->queue_rows : FIRST_PAGE;
}

/* The hashes of the rows the console holds, sent so that the server leaves them out. */
struct held_rows {
	char queue[17], history[17];
};

/* The params of a simq.view call: the one place the console builds them. */
static xmlrpc_value *view_request(xmlrpc_env *env, int64_t version, double wait_ms, int64_t offset, int64_t limit,
                                  int64_t log_since, int64_t focus, int64_t history, int64_t history_offset,
                                  const struct held_rows *held)
{
	return xmlrpc_build_value(env, "({s:I,s:d,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s})", "version", (xmlrpc_int64)version,
	                          "wait_ms", wait_ms, "queue_offset", (xmlrpc_int64)offset, "queue_limit",
	                          (xmlrpc_int64)limit, "log_since", (xmlrpc_int64)log_since, "focus", (xmlrpc_int64)focus,
	                          "history", (xmlrpc_int64)history, "history_offset", (xmlrpc_int64)history_offset,
	                          "queue_since", held ? held->queue : "", "history_since", held ? held->history : "");
}

/* Under c->f.lock: what the loop holds. */
static struct held_rows held_now(const struct fetch *f)
{
	struct held_rows h;

	memcpy(h.queue, f->queue_since, sizeof h.queue);
	memcpy(h.history, f->history_since, sizeof h.history);
	return h;
}

/*
 * Rows an answer left out (member, e.g. "queue") because the console holds them: taken from the view it
 * had when it holds the same (hash_name's) hash; otherwise the rows it had stay this once, under no hash,
 * and the whole page is asked again.
 * held gets the hash of the rows v now has.
 */
static void fill_rows(struct console *c, xmlrpc_value *v, const char *member, const char *hash_name, char held[17])
{
	char hash[17] = "", old_hash[17] = "";
	xmlrpc_value *old_rows = c->view ? reply_member(c->view, member) : NULL;
	xmlrpc_env env;

	reply_str(v, hash_name, hash, sizeof hash);
	if (c->view)
		reply_str(c->view, hash_name, old_hash, sizeof old_hash);
	if (reply_member(v, member) == NULL && reply_member(v, hash_name) != NULL) {
		xmlrpc_env_init(&env);
		if (old_rows && hash[0] && strcmp(hash, old_hash) == 0) {
			xmlrpc_struct_set_value(&env, v, member, old_rows);
		} else {
			/* The rows the console had stay on screen (never a blank page) until the whole page comes. */
			xmlrpc_value *keep = old_rows ? old_rows : xmlrpc_array_new(&env);

			xmlrpc_struct_set_value(&env, v, member, keep);
			if (!old_rows)
				xmlrpc_DECREF(keep);
			hash[0] = '\0';
			c->refresh = true;
		}
		xmlrpc_env_clean(&env);
	}
	memcpy(held, hash, 17);
}

/* How many finished tasks the history pane asks for: all the server keeps, while it is shown. */
static int64_t history_wanted(const struct console *c)
{
	return c->show_history ? 200 : 0;
}

/* Tells the view thread which page the screen shows and which task the cursor is on. */
static void tell_fetcher(struct console *c)
{
	pthread_mutex_lock(&c->f.lock);
	c->f.offset = c->queue_top;
	c->f.limit = page_limit(c);
	c->f.focus = c->queue_sel_id;
	c->f.history = history_wanted(c);
	c->f.history_offset = c->history_offset;
	pthread_mutex_unlock(&c->f.lock);
}

/* ---- the view thread ------------------------------------------------------------------ */

struct fetch_arg {
	struct console *c;
	struct client *conn;
};

/* Under f->lock: keeps what one poll brought for the loop, an answer or why there was none. */
static void fetch_keep(struct fetch *f, enum client_status st, xmlrpc_value *r, char *err, int64_t offset,
                       int64_t limit, int64_t since, int64_t history, int64_t history_offset)
{
	if (st == CLIENT_OK) {
		if (f->answer)
			xmlrpc_DECREF(f->answer);
		f->answer = r;
		f->answer_offset = offset;
		f->answer_limit = limit;
		f->answer_since = since;
		f->answer_history = history;
		f->answer_history_offset = history_offset;
		/* log_since moves only when the loop has taken the lines (apply_view): an answer
		 * it has not taken yet is replaced here, and the next one must carry its lines too. */
		f->version = reply_int(r, "version", -1);
		free(f->error);
		f->error = NULL;
		free(err);
	} else {
		free(f->error);
		f->error = err ? err : xstrdup("the server does not answer");
		/* The next server to answer may be another one, whose versions count afresh: ask it at once. */
		f->version = -1;
	}
}

/* Long-polls simq.view and leaves the newest answer in c->f for the loop; retries while no server answers. */
static void *fetch_main(void *arg)
{
	struct fetch_arg *fa = arg;
	struct console *c = fa->c;
	struct fetch *f = &c->f;

	pthread_mutex_lock(&f->lock);
	while (!f->quit) {
		int64_t version = f->version, offset = f->offset, limit = f->limit, since = f->log_since, focus = f->focus,
		        history = f->history, history_offset = f->history_offset;
		xmlrpc_env env;
		xmlrpc_value *params, *r = NULL;
		int fault;
		char *err = NULL;

		struct held_rows held = held_now(f);

		pthread_mutex_unlock(&f->lock);
		xmlrpc_env_init(&env);
		params = view_request(&env, version, POLL_WAIT_MS, offset, limit, since, focus, history, history_offset,
		                      &held);
		enum client_status st = client_call(fa->conn, "simq.view", params, &r, &fault, &err);

		xmlrpc_DECREF(params);
		xmlrpc_env_clean(&env);
		pthread_mutex_lock(&f->lock);
		fetch_keep(f, st, r, err, offset, limit, since, history, history_offset);
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

/* With a filter: simq.list's page of what matches, for the queue pane. */
static void refresh_list(struct console *c)
{
	xmlrpc_env env;
	xmlrpc_value *f, *r;

	xmlrpc_env_init(&env);
	f = ui_filter_struct(&env, c->filter);
	r = ui_call(c, "simq.list", "(VII)", f, (xmlrpc_int64)c->queue_top, (xmlrpc_int64)page_limit(c));
	xmlrpc_DECREF(f);
	xmlrpc_env_clean(&env);
	if (r == NULL) {
		/* A bad filter: say why (the message is set) and show the queue again. */
		free(c->filter);
		c->filter = NULL;
		return;
	}
	xmlrpc_value *old = c->list;

	c->list = r;
	if (frame_pane(PANE_QUEUE)->follow(c, c->view, old))
		c->refresh = true;
	if (old)
		xmlrpc_DECREF(old);
}

/* The final state the filter names ("state:failed"), for the history to list every such task; NULL when none. */
static const char *filter_final_state(const char *filter)
{
	static const char *const finals[] = {"completed", "failed", "cancelled"};
	char *copy, *save = NULL;
	const char *found = NULL;

	if (filter == NULL)
		return NULL;
	copy = xstrdup(filter);
	for (char *w = strtok_r(copy, " ", &save); w && !found; w = strtok_r(NULL, " ", &save))
		for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++)
			if (strncmp(w, "state:", 6) == 0 && strcmp(w + 6, finals[i]) == 0)
				found = finals[i];
	free(copy);
	return found;
}

/* The history's rows for a filter on a final state: a page of the matches in the store, hot and archived, newest first. */
static void refresh_history_list(struct console *c)
{
	const char *state = filter_final_state(c->filter);
	xmlrpc_value *r;

	if (c->history_list)
		xmlrpc_DECREF(c->history_list);
	c->history_list = NULL;
	if (!c->show_history || state == NULL || !c->connected)
		return;
	r = ui_call(c, "simq.view", "({s:I,s:I,s:I,s:s})", "queue_limit", (xmlrpc_int64)0, "history", (xmlrpc_int64)200,
	            "history_offset", (xmlrpc_int64)c->history_offset, "history_state", state);
	if (r) {
		c->history_list = reply_member(r, "history");
		if (c->history_list)
			xmlrpc_INCREF(c->history_list);
		xmlrpc_DECREF(r);
	}
}

/* Every pane's cursor back on its task after a new answer; the page again when one moved off it. */
static void follow_all(struct console *c, xmlrpc_value *old_view)
{
	for (int p = 0; p < PANE_COUNT; p++)
		if (frame_pane((enum ui_pane)p)->follow && frame_pane((enum ui_pane)p)->follow(c, old_view, c->list))
			c->refresh = true;
	tell_fetcher(c);
}

/*
 * Whether v comes from another server than the lines in the log (one started since): then the log
 * says so, and its lines are numbered afresh from the new server's start.  False with the lines of
 * v to take; true when v was asked for lines after another server's number (since): they are not
 * all there, and the page is fetched again with every line of the new server.
 */
static bool new_server(struct console *c, xmlrpc_value *v, int64_t since)
{
	char id[64];

	reply_str(v, "server_id", id, sizeof id);
	if (c->server_id && id[0] && strcmp(id, c->server_id) != 0) {
		pane_log_note(c, LOG_WARN, "server restarted");
		c->log_seq = 0;
		c->alerts = -1;
		free(c->server_id);
		c->server_id = xstrdup(id);
		if (since != 0) {
			c->refresh = true;
			return true;
		}
	} else if (c->server_id == NULL && id[0]) {
		c->server_id = xstrdup(id);
	}
	return false;
}

/* The history shrank under an older page (simq clean, purge_after): one page newer, asked for at once,
 * until a page has rows (never "History 0 (newest 201-200)" while newer tasks are there). */
static void history_page_back(struct console *c, xmlrpc_value *v)
{
	xmlrpc_value *rows = c->history_list ? c->history_list : reply_member(v, "history");

	if (!c->show_history || c->history_offset == 0 || reply_count(rows) > 0)
		return;
	c->history_offset = c->history_offset > history_wanted(c) ? c->history_offset - history_wanted(c) : 0;
	c->history_sel = 0;
	c->refresh = true;
}

/* Takes a view answer (asked for the log's lines after since): log lines, alerts (the bell), and the page. */
static void apply_view(struct console *c, xmlrpc_value *v, int64_t since)
{
	int64_t alerts = reply_int(v, "alerts", 0);

	struct held_rows held;

	if (!new_server(c, v, since))
		pane_log_take(c, v);
	fill_rows(c, v, "queue", "queue_hash", held.queue);
	fill_rows(c, v, "history", "history_hash", held.history);
	pthread_mutex_lock(&c->f.lock);
	c->f.log_since = c->log_seq;
	memcpy(c->f.queue_since, held.queue, sizeof held.queue);
	memcpy(c->f.history_since, held.history, sizeof held.history);
	pthread_mutex_unlock(&c->f.lock);
	if (c->alerts >= 0 && alerts > c->alerts && c->bell)
		beep();
	c->alerts = alerts;
	title_view(c, v);
	xmlrpc_value *old = c->view;

	c->view = v;
	c->view_at_ms = ui_now_ms();
	c->connected = true;
	free(c->banner);
	c->banner = NULL;
	if (c->filter && !c->show_history)
		refresh_list(c);
	refresh_history_list(c);
	history_page_back(c, v);
	follow_all(c, old);
	if (old)
		xmlrpc_DECREF(old);
	c->dirty = true;
}

/* The page the screen needs, fetched now on the loop thread (the view thread waits for changes). */
static void refresh_now(struct console *c)
{
	xmlrpc_env env;
	xmlrpc_value *params, *v;

	c->refresh = false;
	tell_fetcher(c);
	if (c->filter && !c->show_history) {
		refresh_list(c);
		c->dirty = true;
		return;
	}
	/* A server that does not answer would hold every key for UI_ACTION_TIMEOUT_MS: the view thread
	 * asks for this page too, and brings it when the server is back. */
	if (!c->connected)
		return;
	xmlrpc_env_init(&env);
	int64_t since = c->log_seq;

	pthread_mutex_lock(&c->f.lock);
	struct held_rows held = held_now(&c->f);

	pthread_mutex_unlock(&c->f.lock);
	params = view_request(&env, -1, 0, c->queue_top, page_limit(c), since, c->queue_sel_id, history_wanted(c),
	                      c->history_offset, &held);
	v = ui_call_params(c, "simq.view", params);
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	int64_t asked = c->history_offset;

	if (v)
		apply_view(c, v, since);
	/* The page came back empty and a newer one is wanted (history_page_back): ends at offset 0. */
	if (v && c->refresh && c->history_offset < asked)
		refresh_now(c);
}

static void got_answer_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct console *c = w->data;
	xmlrpc_value *v;
	int64_t offset, limit, since, history, history_offset;

	pthread_mutex_lock(&c->f.lock);
	v = c->f.answer;
	c->f.answer = NULL;
	offset = c->f.answer_offset;
	limit = c->f.answer_limit;
	since = c->f.answer_since;
	history = c->f.answer_history;
	history_offset = c->f.answer_history_offset;
	if (v == NULL && c->f.error) {
		c->connected = false;
		free(c->banner);
		c->banner = xstrdup(c->f.error);
		c->dirty = true;
	}
	pthread_mutex_unlock(&c->f.lock);
	if (v == NULL) {
		if (!c->connected)
			title_view(c, NULL);
		return;
	}
	/* Asked before h showed or hid the history: its rows (or their absence) would blank the pane until
	 * the next change; the page the screen needs now instead. */
	if (history != history_wanted(c) || history_offset != c->history_offset) {
		xmlrpc_DECREF(v);
		refresh_now(c);
		return;
	}
	apply_view(c, v, since);
	/* Asked for another page than the one on screen now (or the cursor's task moved off it): get that one. */
	if (offset != c->queue_top || limit != page_limit(c) || c->refresh)
		refresh_now(c);
}

/* ---- keys and frames ------------------------------------------------------------------------ */

/*
 * The mouse ([ui] mouse): a click focuses the pane under it and puts its cursor on the row there;
 * the wheel moves the cursor of the pane under it three rows.  Only over the panes, in the
 * normal mode.
 */
static void handle_mouse(struct console *c)
{
	MEVENT ev;

	if (getmouse(&ev) != OK || c->mode != MODE_NORMAL || c->areas == NULL)
		return;
	for (int p = 0; p < PANE_COUNT; p++) {
		const struct pane_ops *ops = frame_pane((enum ui_pane)p);
		struct screen_area a = c->areas[p];

		if (a.h == 0 || ev.y < a.y || ev.y >= a.y + a.h || ev.x < a.x || ev.x >= a.x + a.w || ops->go == NULL)
			continue;
		c->focus = (enum ui_pane)p;
		if (ev.bstate & BUTTON4_PRESSED)
			ops->go(c, ops->at(c) - 3);
		else if (ev.bstate & BUTTON5_PRESSED)
			ops->go(c, ops->at(c) + 3);
		else if (ops->click && (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
			ops->click(c, ev.y - a.y);
		break;
	}
}

/* A key goes to the mode; what it changed on the server shows in the page fetched again. */
static void handle_key(struct console *c, int key)
{
	if (key == (UI_KEY_FN | KEY_MOUSE))
		handle_mouse(c);
	else
		modes[c->mode]->key(c, key);
	c->dirty = true;
	if (c->refresh)
		refresh_now(c);
}

static void draw(struct console *c)
{
	frame_draw(c, modes[c->mode]);
}

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
		if (title_key(c, key))
			continue;
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
	ev_break(loop, EVBREAK_ALL);
}

/*
 * SIMQ_CAPTION: each new whole line of the file goes into the log as the console's own ("» ..."),
 * so whoever watches the demo reads what each act of the night is (its "HH:MM:SS " left out).
 */
static void read_caption(struct console *c)
{
	FILE *fp = c->caption_path ? fopen(c->caption_path, "re") : NULL;
	char line[1024], text[1100];

	if (fp == NULL)
		return;
	if (fseek(fp, c->caption_at, SEEK_SET) == 0) {
		while (fgets(line, sizeof line, fp) && strchr(line, '\n')) {
			const char *p = line;
			int h, m, sec, n = 0;

			c->caption_at = ftell(fp);
			line[strcspn(line, "\n")] = '\0';
			if (sscanf(line, "%2d:%2d:%2d %n", &h, &m, &sec, &n) == 3 && n > 0)
				p += n;
			snprintf(text, sizeof text, "\u00bb %s", p);
			pane_log_note(c, LOG_INFO, text);
			c->dirty = true;
		}
	}
	fclose(fp);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct console *c = w->data;

	read_caption(c);

	/* The clock, ages and countdowns move; a message times out. */
	if (c->message && ui_now_ms() - c->message_at > MESSAGE_MS) {
		free(c->message);
		c->message = NULL;
	}
	c->dirty = true;
}

/* SIMQ_SCRIPT: the next key, once there is something to act on; "text abc" types a line. */
static void script_key(struct console *c)
{
	const char *name = c->script[c->script_next++];
	int key = ui_key_parse(name);

	if (key >= 0)
		handle_key(c, key);
	else if (strncmp(name, "text ", 5) == 0)
		for (const char *p = name + 5; *p; p++)
			handle_key(c, (unsigned char)*p);
	if (c->dirty) {
		c->dirty = false;
		draw(c);
	}
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

		draw(c);
		if (c->queue_rows != before)
			refresh_now(c);
	}
	if (c->refresh)
		refresh_now(c);
	if (c->dirty) {
		c->dirty = false;
		draw(c);
	}
	if (c->script_next < c->nscript && c->view && c->mode != MODE_HELP)
		script_key(c);
}

/* ---- test and bench hooks ------------------------------------------------------------------ */

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
	int64_t *ns = xcalloc(n > 0 ? (size_t)n : 1, sizeof *ns), total = frame_pane(PANE_QUEUE)->rows(c);
	FILE *fp;

	for (int i = 0; i < n; i++) {
		int64_t t0 = time_mono_ns();

		c->queue_sel = c->queue_top = total > 0 ? (int64_t)((uint64_t)i * 7919 * 1009 % (uint64_t)total) : 0;
		c->queue_sel_id = 0;
		refresh_now(c);
		draw(c);
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

/* ---- the terminal and the loop ---------------------------------------------------------------- */

/* Every fatal path goes through here so the terminal is given back before anything is printed. */
static void restore_terminal(void)
{
	if (the_console && !isendwin()) {
		title_stop();
		endwin();
	}
}

static void fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Takes the terminal; false (with the reason printed) when it cannot be used. */
static bool start_screen(struct console *c)
{
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
		return false;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (config_bool(c->cfg, "ui", "mouse")) {
		mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
		mouseinterval(0);
	}
	screen_init(c->cfg);
	title_start();
	return true;
}

static void start_watchers(struct console *c)
{
	static const int stops[] = {SIGTERM, SIGINT, SIGHUP};
	ev_signal *const stop_watchers[] = {&c->sig_term, &c->sig_int, &c->sig_hup};
	double every = config_double(c->cfg, "ui", "refresh");

	c->loop = EV_DEFAULT;
	ev_io_init(&c->input, input_cb, STDIN_FILENO, EV_READ);
	c->input.data = c;
	ev_io_start(c->loop, &c->input);
	ev_signal_init(&c->winch, winch_cb, SIGWINCH);
	c->winch.data = c;
	ev_signal_start(c->loop, &c->winch);
	for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
		ev_signal_init(stop_watchers[i], stop_cb, stops[i]);
		stop_watchers[i]->data = c;
		ev_signal_start(c->loop, stop_watchers[i]);
	}
	ev_timer_init(&c->tick, tick_cb, every, every);
	c->tick.data = c;
	ev_timer_start(c->loop, &c->tick);
	ev_prepare_init(&c->draw, draw_cb);
	c->draw.data = c;
	ev_prepare_start(c->loop, &c->draw);
	ev_async_init(&c->got_answer, got_answer_cb);
	c->got_answer.data = c;
	ev_async_start(c->loop, &c->got_answer);
}

static int run(struct console *c)
{
	struct fetch_arg fa = {.c = c};
	struct client_options quiet = c->copt, view;

	/* After the first answer, a server that goes away is shown, not restarted behind the operator's back. */
	quiet.no_start = true;
	view = quiet;
	view.timeout_ms = POLL_WAIT_MS + STUCK_GRACE_MS;
	quiet.timeout_ms = UI_ACTION_TIMEOUT_MS;
	fa.conn = client_new(&view);
	client_free(&c->conn);
	c->conn = client_new(&quiet);
	if (!start_screen(c)) {
		client_free(&fa.conn);
		return CLI_EXIT_SOFTWARE;
	}
	pthread_mutex_init(&c->f.lock, NULL);
	pthread_cond_init(&c->f.wake, NULL);
	start_watchers(c);

	/* First frame: size the queue pane, then fetch the page it holds.  The window may have changed
	 * size before the SIGWINCH watcher existed (tmux sizes a new pane just after starting it). */
	c->resized = true;
	draw_cb(c->loop, &c->draw, 0);
	refresh_now(c);
	c->f.version = c->view ? reply_int(c->view, "version", -1) : -1;
	c->f.log_since = c->log_seq;
	tell_fetcher(c);
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
	title_stop();
	endwin();
	the_console = NULL;
	return CLI_EXIT_OK;
}

static void console_free(struct console *c)
{
	if (c->view)
		xmlrpc_DECREF(c->view);
	if (c->list)
		xmlrpc_DECREF(c->list);
	if (c->history_list)
		xmlrpc_DECREF(c->history_list);
	if (c->details)
		xmlrpc_DECREF(c->details);
	if (c->f.answer)
		xmlrpc_DECREF(c->f.answer);
	free(c->f.error);
	pane_log_free(c);
	for (size_t i = 0; i < c->nscript; i++)
		free(c->script[i]);
	free(c->script);
	form_free(&c->form);
	ui_keymap_free(&c->keys);
	idmap_free(&c->marks);
	free(c->filter);
	free(c->server_id);
	free(c->areas);
	free(c->banner);
	free(c->message);
	free(c->confirm_text);
	if (c->confirm_ids)
		xmlrpc_DECREF(c->confirm_ids);
	client_free(&c->conn);
	config_free(&c->cfg);
	free(c);
}

/* First contact, before the screen is taken: starts a server when none answers, as the CLI does. */
static bool hello(struct console *c)
{
	xmlrpc_env env;
	xmlrpc_value *params, *answer = NULL;
	int fault;
	char *err = NULL;

	xmlrpc_env_init(&env);
	params = view_request(&env, -1, 0, 0, 1, -1, 0, 0, 0, NULL);
	enum client_status st = client_call(c->conn, "simq.view", params, &answer, &fault, &err);

	if (st != CLIENT_OK)
		fprintf(stderr, "simq: %s\n", err ? err : "no server answers");
	else
		xmlrpc_DECREF(answer);
	free(err);
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return st == CLIENT_OK;
}

int console_run(struct config *cfg, const struct client_options *opt)
{
	struct console *c = xcalloc(1, sizeof *c);
	int status;

	c->cfg = cfg;
	c->copt = *opt;
	c->alerts = -1;
	c->marks = (struct idmap)IDMAP_INIT;
	ui_keymap_load(&c->keys, c->cfg);
	c->bell = config_bool(c->cfg, "ui", "bell");
	c->dump_path = getenv("SIMQ_SCREEN_DUMP");
	c->caption_path = getenv("SIMQ_CAPTION");
	if (getenv("SIMQ_SCRIPT"))
		load_script(c, getenv("SIMQ_SCRIPT"));
	c->conn = client_new(&c->copt);
	if (!hello(c)) {
		console_free(c);
		return CLI_EXIT_UNAVAILABLE;
	}
	c->connected = true;
	status = run(c);
	console_free(c);
	return status;
}
