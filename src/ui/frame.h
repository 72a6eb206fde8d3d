/*
 * frame — one frame of the console: the panes of the table laid out for the
 * window's size (statistics in a column from 110 columns, else a strip), the
 * bottom line, and the mode's overlay; then one doupdate().
 *
 * console.c calls frame_draw() once per loop pass that has something new; the
 * mode comes as its ops so that the frame knows no mode.  Loop thread only.
 */
#ifndef SIMQ_UI_FRAME_H
#define SIMQ_UI_FRAME_H

#include "ui/mode.h"
#include "ui/pane.h"

/* The pane p's descriptor. */
const struct pane_ops *frame_pane(enum ui_pane p);
/* Whether pane p is on screen: the history and the queue take turns, as the backends and the statistics do. */
bool frame_shown(const struct console *c, enum ui_pane p);
/* Draws the whole screen into stdscr, sends it (ncurses sends only what changed) and writes the dump. */
void frame_draw(struct console *c, const struct mode_ops *mode);

#endif
