/*
 * ui — the console's state, which all its files share, and the calls each of
 * them makes: a method on the server, a line in the hint bar.
 *
 * console.c owns struct console and runs the loop; the panes (pane.h) and the
 * modes (mode.h) read and change it from the loop's callbacks.  Everything
 * here runs on the loop thread, except struct fetch, which the view thread
 * shares under its lock.
 *
 * The console holds the last simq.view answer as XML-RPC values and draws
 * from them; callbacks change state and set `dirty` (and `refresh` when the
 * page on screen must be fetched again), and one ev_prepare pass draws
 * everything with one doupdate() (ncurses sends only the cells that changed).
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
#include "util/log.h"

/* The panes, in the order Tab visits the ones that take the focus (pane.h). */
#define UI_PANES(X)                                                                                                    \
	X(QUEUE, queue)                                                                                                \
	X(HISTORY, history)                                                                                            \
	X(RUNNING, running)                                                                                            \
	X(LOG, log)                                                                                                    \
	X(STATS, stats)                                                                                                \
	X(BACKENDS, backends)                                                                                          \
	X(STATUS, status)

enum ui_pane {
#define X(id, name) PANE_##id,
	UI_PANES(X)
#undef X
	    PANE_COUNT
};

/* What the keys do now (mode.h): the panes' keys, or a question, a screen over them, a line being typed. */
#define UI_MODES(X)                                                                                                    \
	X(NORMAL, normal)                                                                                              \
	X(CONFIRM, confirm)                                                                                            \
	X(HELP, help)                                                                                                  \
	X(DETAILS, details)                                                                                            \
	X(FILTER, filter)                                                                                              \
	X(FORM, form)

enum ui_mode {
#define X(id, name) MODE_##id,
	UI_MODES(X)
#undef X
	    MODE_COUNT
};

#define UI_LOG_KEEP 2000
/* An action (cancel, submit, ...) waits this long for its answer on the loop thread, then gives up. */
#define UI_ACTION_TIMEOUT_MS 5000

struct ui_log_line {
	int64_t seq;
	char *time; /* HH:MM:SS, local */
	char *text;
	enum log_level severity;
};

/* What the view thread and the loop share (under lock). */
struct fetch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool quit;
	int64_t version;       /* the version the console has */
	int64_t offset, limit; /* the queue page it shows */
	int64_t focus;         /* the task under the queue's cursor, whose position the server tells */
	int64_t history;       /* how many finished tasks to ask for: the history pane's (0 while it is not shown) */
	int64_t history_offset; /* from the history_offset-th newest: the history pane's page */
	int64_t log_since;
	/* The queue_hash and history_hash of the rows the loop holds: the server leaves those rows out. */
	char queue_since[17], history_since[17];
	xmlrpc_value *answer; /* the newest answer not yet taken by the loop, or NULL */
	int64_t answer_offset, answer_limit, answer_since, answer_history, answer_history_offset;
	char *error; /* set when the server did not answer; cleared by the next answer */
};

struct ui_form;
struct screen_area;

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
	xmlrpc_value *list; /* with a filter: simq.list's answer, shown in the queue pane */
	/* The history shown with a filter on a final state: a page of 200 matches of the whole store, hot
	 * and archived, newest first (simq.view's history_state) */
	xmlrpc_value *history_list;
	bool connected;
	char *banner;       /* why the server is not there, or NULL */
	int64_t view_at_ms; /* when the view arrived, for countdowns between answers */
	int64_t alerts;     /* the server's alert count at the last answer, -1 before the first */
	struct ui_log_line log[UI_LOG_KEEP];
	size_t log_len, log_head; /* a ring: log_head is the oldest */
	int64_t log_seq;          /* the last line taken, numbered by the server server_id */
	char *server_id;          /* the start id of the server the log's lines came from, NULL before one */

	/* What the operator is doing. */
	enum ui_mode mode;
	enum ui_pane focus;
	/*
	 * The cursors follow tasks, not rows: queue_sel_id is the task under the queue's cursor (0:
	 * not known yet, take the row at queue_sel), running_key the row under the running pane's
	 * (a call's batch id, or minus a waiting task's id).  A new answer puts each cursor back on
	 * its task, or on its neighbour when the task left the pane (pane_ops.follow).
	 */
	int64_t queue_sel;            /* position in the queue (or the filtered list) */
	int64_t queue_top;            /* position of the first row shown */
	int64_t queue_sel_id;
	int64_t running_key;
	int64_t history_sel, history_sel_id; /* the history pane's cursor: a row of what it lists, and its task */
	int64_t history_offset;              /* its page: from the history_offset-th newest finished task on */
	bool show_history;                   /* the history in the queue's place */
	int history_sort;                    /* the order it lists them in (pane-history.c) */
	bool show_backends;                  /* the backends in the statistics' place */
	size_t running_sel, log_back; /* log_back: lines scrolled back from the end; 0 follows */
	struct idmap marks;           /* task id -> (void *)1 */
	char *filter;                 /* NULL: the queue; else "key:value ..." or a word */
	char input_buf[512];          /* the filter line as typed */
	size_t input_len;
	int stats_window; /* 0 since start, 1 last 24 h, 2 all time */
	char *message;    /* a one-line answer to the last action, shown in the hint line */
	bool message_error;
	int64_t message_at;
	char *confirm_text;
	xmlrpc_value *confirm_ids; /* the ids the question names: y acts on exactly these */
	xmlrpc_value *details; /* simq.get's answer for the details view */
	bool details_log;      /* the details view shows the log pane's lines whole instead */
	int log_rows;          /* rows of the log pane as last drawn */
	int details_scroll;
	struct ui_form *form;

	/* The screen. */
	bool dirty, resized, bell;
	bool refresh;    /* the page on screen is stale: console.c fetches it again before the next frame */
	int queue_rows;  /* rows of the queue pane as last drawn, for paging */
	int running_top, history_top;        /* the first row each of those panes drew */
	struct screen_area *areas;           /* where frame.c put each pane (PANE_COUNT), for the mouse */
	char *dump_path; /* SIMQ_SCREEN_DUMP */
	const char *caption_path; /* SIMQ_CAPTION: a story told beside the night (the demo's), a line per act */
	long caption_at;          /* how far it has been read */
	char **script;   /* SIMQ_SCRIPT: keys still to feed, one per pass */
	size_t nscript, script_next;
};

/* Milliseconds of the wall clock. */
int64_t ui_now_ms(void);
/* Calls a method on the loop thread's client; NULL with the message set when it fails. */
xmlrpc_value *ui_call(struct console *c, const char *method, const char *format, ...);
/* The same with the params array built (borrowed). */
xmlrpc_value *ui_call_params(struct console *c, const char *method, xmlrpc_value *params);
/* Says fmt in the hint line for a while, in red when error. */
void ui_message(struct console *c, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ui_clear_marks(struct console *c);
/* simq.list's filter struct of the filter line's text: "state:failed model:buck" (a bare word is a model),
 * with brief: the records as rows show them. */
xmlrpc_value *ui_filter_struct(xmlrpc_env *env, const char *text);

#endif
