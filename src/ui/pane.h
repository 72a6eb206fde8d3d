/*
 * pane — what the console knows of one pane, as tig knows a view: its name,
 * how it draws itself, and for the panes that take the focus (Tab), how many
 * rows it has, which one the cursor is on and what task that row is.
 *
 * One file per pane (pane-queue.c, pane-running.c, pane-log.c, pane-stats.c,
 * pane-status.c) exports its descriptor; frame.c gathers them in its table by
 * enum ui_pane and lays them out.  Loop thread only.
 */
#ifndef SIMQ_UI_PANE_H
#define SIMQ_UI_PANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

#include "ui/screen.h"
#include "ui/ui.h"

struct pane_ops {
	const char *name;
	/* Draws the pane into a; focused: it has the cursor. */
	void (*draw)(struct console *c, struct screen_area a, bool focused);

	/* The panes Tab moves to have these; the others leave them NULL. */
	int64_t (*rows)(struct console *c);         /* how many rows the cursor moves over */
	int64_t (*at)(struct console *c);           /* the row under the cursor */
	void (*go)(struct console *c, int64_t row); /* puts the cursor on row, kept within the rows */

	/*
	 * The task under the cursor: appends its ids to ids (when not NULL; a batch has several) and
	 * copies its priority into priority ("" when no task is there).  NULL: the pane has no tasks.
	 */
	void (*cursor)(struct console *c, xmlrpc_env *env, xmlrpc_value *ids, char *priority, size_t size);
	/* Marks or unmarks the task under the cursor; NULL where there is nothing to mark. */
	void (*mark)(struct console *c);
	/*
	 * After a new answer (old_view and old_list: the ones it replaced, or NULL): puts the cursor
	 * back on its task, or on its neighbour when the task left.  Returns true when the page on
	 * screen must be fetched again to show it.  NULL: the pane has no cursor to keep.
	 */
	bool (*follow)(struct console *c, xmlrpc_value *old_view, xmlrpc_value *old_list);
	/* A click on the pane's line-th line (0: its title): the cursor on the row there.  NULL: none. */
	void (*click)(struct console *c, int line);
};

#define X(id, name) extern const struct pane_ops pane_##name;
UI_PANES(X)
#undef X

/* pane-history.c: marks every task the history pane lists; the next order it lists them in. */
void pane_history_mark_all(struct console *c);
void pane_history_sort(struct console *c);

/* pane-log.c: takes the new lines of a simq.view answer into the log's ring. */
void pane_log_take(struct console *c, xmlrpc_value *view);
/* A line of the console's own ("server restarted"), at the end of the log, now. */
void pane_log_note(struct console *c, enum log_level severity, const char *text);
void pane_log_free(struct console *c);
/* The lines the log pane shows, [*first, *end) counted from the oldest kept. */
void pane_log_shown(struct console *c, size_t *first, size_t *end);

#endif
