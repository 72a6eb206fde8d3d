/*
 * mode — what the keys do now and what shows over the panes: the panes'
 * keys (mode-normal.c), a yes/no question (mode-normal.c), the help
 * (mode-help.c), a task's details (mode-details.c), the filter line being
 * typed (mode-filter.c), the submit form (form.c).
 *
 * console.c dispatches each key to the mode's key() from its table by enum
 * ui_mode; frame.c draws the mode's overlay and bottom line.  A mode ends by
 * setting c->mode.  Loop thread only.
 */
#ifndef SIMQ_UI_MODE_H
#define SIMQ_UI_MODE_H

#include "ui/ui.h"

struct mode_ops {
	/* Handles a key code from ui_key_read(). */
	void (*key)(struct console *c, int key);
	/* Draws over the panes; NULL: nothing. */
	void (*draw)(struct console *c);
	/* Draws the bottom line at row y; NULL: the last action's answer, the banner, or the keys. */
	void (*hint)(struct console *c, int y);
};

#define X(id, name) extern const struct mode_ops mode_##name;
UI_MODES(X)
#undef X

#endif
