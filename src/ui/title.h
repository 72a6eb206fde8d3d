/*
 * title — the console's pane title, and whether the operator is looking.
 *
 * The console names its pane with the line simq status prints (OSC 2, which
 * tmux shows as #{pane_title} and in its default status-right), each time
 * that line changes.  It asks the terminal for focus reports (DECSET 1004;
 * tmux sends them with focus-events on, as share/tmux/simq.conf sets): while
 * its pane has the focus, or once a key is pressed in it, the failures it
 * shows are marked seen on the server (simq.status with the count), so a
 * status line stops showing them as new.  Without focus reports the console
 * counts as looked at all the time.
 *
 * console.c calls title_start() once the screen is up, title_key() with
 * every key read, title_view() with every view it applies (NULL when the
 * server is gone) and title_stop() before it gives the terminal back.  Loop
 * thread only; one console per process.
 */
#ifndef SIMQ_UI_TITLE_H
#define SIMQ_UI_TITLE_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

#include "ui/ui.h"

/* Asks for focus reports and teaches ncurses their sequences. */
void title_start(void);
/* Stops focus reports; async-signal-safe, for the fatal path too. */
void title_stop(void);
/* A focus report: takes it and returns true.  Any other key says the operator is here; returns false. */
bool title_key(struct console *c, int key);
/* Names the pane after view's "status" (NULL: no server) and marks its failures seen while looked at. */
void title_view(struct console *c, xmlrpc_value *view);

#endif
