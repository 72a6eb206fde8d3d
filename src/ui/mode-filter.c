/* The filter line: "state:failed model:buck nightly" typed after /; Enter shows what matches, Esc leaves it. */
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
	c->focus = PANE_QUEUE;
	c->mode = MODE_NORMAL;
	ui_clear_marks(c);
	c->refresh = true;
}

static void key(struct console *c, int k)
{
	if (k == '\n' || k == '\r' || k == (UI_KEY_FN | KEY_ENTER)) {
		apply(c);
	} else if (k == UI_KEY_ESC) {
		c->mode = MODE_NORMAL;
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
	screen_putf(y, 0, COLS, A_BOLD, 0, "/%s", c->input_buf);
}

const struct mode_ops mode_filter = {
    .key = key,
    .hint = hint,
};
