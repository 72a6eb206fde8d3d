/* The filter line: "state:failed model:buck name:sweep-*" typed after /; Enter shows what matches, Esc clears it. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "ui/mode.h"
#include "ui/screen.h"
#include "util/xalloc.h"

/* Enter: the queue pane shows what matches from its top (an empty line: the queue again). */
static void apply(struct console *c)
{
	free(c->filter);
	c->filter = c->input_len ? xstrdup(c->input_buf) : NULL;
	if (c->list && !c->filter) {
		xmlrpc_DECREF(c->list);
		c->list = NULL;
	}
	c->queue_sel = c->queue_top = 0;
	c->queue_sel_id = 0;
	c->focus = c->show_history ? PANE_HISTORY : PANE_QUEUE;
	c->history_sel = c->history_sel_id = c->history_offset = 0;
	c->mode = MODE_NORMAL;
	ui_clear_marks(c);
	c->refresh = true;
}

static void key(struct console *c, int k)
{
	if (k == '\n' || k == '\r' || k == (UI_KEY_FN | KEY_ENTER)) {
		apply(c);
	} else if (k == UI_KEY_ESC) {
		/* Esc leaves the line and any filter: the queue again. */
		c->input_len = 0;
		c->input_buf[0] = '\0';
		apply(c);
	} else if (k == 127 || k == 8 || k == (UI_KEY_FN | KEY_BACKSPACE)) {
		/* Back one whole UTF-8 character. */
		while (c->input_len > 0 && ((unsigned char)c->input_buf[--c->input_len] & 0xc0) == 0x80)
			;
		c->input_buf[c->input_len] = '\0';
	} else if (k >= ' ' && k < UI_KEY_FN && c->input_len + 8 < sizeof c->input_buf) {
		char mb[8];
		int n = wctomb(mb, (wchar_t)k);

		if (n > 0) {
			memcpy(c->input_buf + c->input_len, mb, (size_t)n);
			c->input_len += (size_t)n;
			c->input_buf[c->input_len] = '\0';
		}
	}
	c->dirty = true;
}

static void hint(struct console *c, int y)
{
	int w = screen_width(c->input_buf) + 1;
	const char *help = "  state:failed model:buck name:sweep-* tag:T \u00b7 Enter shows \u00b7 Esc clears";

	screen_putf(y, 0, w + 1, A_BOLD, 0, "/%s", c->input_buf);
	screen_put(y, w + 1, COLS - w - 1, A_DIM, 0, c->input_len ? "" : help);
}

const struct mode_ops mode_filter = {
    .key = key,
    .hint = hint,
};
