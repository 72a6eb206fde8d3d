/*
 * ui — what the console's files share: its state, and the drawing and form
 * entry points console.c calls.  Everything here runs on the loop thread,
 * except struct fetch, which the view thread shares under its lock.
 *
 * The console holds the last simq.view answer as XML-RPC values and draws
 * from them; callbacks change state and set `dirty`, and one ev_prepare pass
 * draws everything with one doupdate() (ncurses sends only the cells that
 * changed).
 */
#ifndef SIMQ_UI_UI_H
#define SIMQ_UI_UI_H

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

#include "client/client.h"
#include "config/config.h"
#include "ui/keys.h"
#include "util/idmap.h"

enum ui_pane { PANE_QUEUE, PANE_RUNNING, PANE_LOG, PANE_COUNT };

enum ui_mode { MODE_NORMAL, MODE_CONFIRM, MODE_HELP, MODE_DETAILS, MODE_FILTER, MODE_FORM };

#define UI_LOG_KEEP 2000

struct ui_log_line {
	int64_t seq;
	char *time; /* HH:MM:SS */
	char *text;
};

/* What the view thread and the loop share (under lock). */
struct fetch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool quit;
	int64_t version;      /* the version the console has */
	int64_t offset, limit; /* the queue page it shows */
	int64_t log_since;
	xmlrpc_value *answer; /* the newest answer not yet taken by the loop, or NULL */
	int64_t answer_offset, answer_limit;
	char *error;          /* set when the server did not answer; cleared by the next answer */
};

struct ui_form;

struct console {
	struct ev_loop *loop;
	struct config *cfg;
	struct client_options copt;
	struct client *conn; /* the loop thread's own client: actions and pages it needs at once */
	struct ui_keymap keys;
	ev_io input;
	ev_signal winch, sig_term, sig_int, sig_hup;
	ev_timer tick;
	ev_prepare draw;
	ev_async got_answer;
	pthread_t fetcher;
	bool fetcher_started;
	struct fetch f;

	/* The last answer and what the console keeps of it. */
	xmlrpc_value *view;
	xmlrpc_value *list;   /* with a filter: simq.list's answer, shown in the queue pane */
	bool connected;
	char *banner;         /* why the server is not there, or NULL */
	int64_t view_at_ms;   /* when the view arrived, for countdowns between answers */
	int64_t alerts;       /* the server's alert count at the last answer, -1 before the first */
	struct ui_log_line log[UI_LOG_KEEP];
	size_t log_len, log_head; /* a ring: log_head is the oldest */
	int64_t log_seq;

	/* What the operator is doing. */
	enum ui_mode mode;
	enum ui_pane focus;
	int64_t queue_sel;    /* position in the queue (or the filtered list) */
	int64_t queue_top;    /* position of the first row shown */
	size_t running_sel, log_back; /* log_back: lines scrolled back from the end; 0 follows */
	struct idmap marks;   /* task id -> (void *)1 */
	char *filter;         /* NULL: the queue; else "key:value ..." or a word */
	char input_buf[512];  /* the filter line as typed */
	size_t input_len;
	int stats_window;     /* 0 since start, 1 last 24 h, 2 all time */
	char *message;        /* a one-line answer to the last action, shown in the hint line */
	bool message_error;
	int64_t message_at;
	enum ui_action confirm_action;
	char *confirm_text;
	xmlrpc_value *details; /* simq.get's answer for the details view */
	int details_scroll;
	struct ui_form *form;

	/* The screen. */
	int rows, cols;
	bool dirty, resized, colours, utf8, bell;
	int queue_rows;       /* rows of the queue pane as last drawn, for paging */
	char *dump_path;      /* SIMQ_SCREEN_DUMP */
	char **script;        /* SIMQ_SCRIPT: keys still to feed, one per pass */
	size_t nscript, script_next;
	int exit_status;
};

/* ---- draw.c ---------------------------------------------------------------------- */

void ui_draw_init(struct console *c);
/* Draws the whole screen into stdscr (ncurses sends only what changed) and writes the dump. */
void ui_draw(struct console *c);
/* A member of a view struct as text, integer or number (defaults when absent). */
const char *ui_str(xmlrpc_value *v, const char *key, char *buf, size_t size);
int64_t ui_int(xmlrpc_value *v, const char *key, int64_t def);
double ui_num(xmlrpc_value *v, const char *key, double def);
/* The queue rows on screen: the view's page, or the filtered list. */
xmlrpc_value *ui_rows(struct console *c, int64_t *total, int64_t *first);

/* ---- form.c ---------------------------------------------------------------------- */

struct ui_form *ui_form_new(void);
void ui_form_free(struct ui_form **f);
/* Handles a key; returns false when the form is done (submitted or abandoned). */
bool ui_form_key(struct console *c, struct ui_form *f, int key);
void ui_form_draw(struct console *c, struct ui_form *f);

/* ---- console.c ------------------------------------------------------------------- */

/* Calls a method on the loop thread's client; NULL with the message set when it fails. */
xmlrpc_value *ui_call(struct console *c, const char *method, const char *format, ...);
void ui_message(struct console *c, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
