/* The help: every action with its keys and help line, from the keymap and the option table; any key closes it. */
#include "autoconf.h"

#include <string.h>

#include "ui/mode.h"
#include "ui/screen.h"
#include "ui/text.h"

/* The widths of the key, action-name and help columns, and how the entries fit the screen. */
struct help_layout {
	int kw, nw, hw;
	bool names;        /* room for the action names */
	int columns, colw; /* one or two columns of entries, each colw wide */
	int helpx, helpw;  /* where the help text starts in a column, and its width */
};

/*
 * The widest layout that fits the screen: key, action name and help in one column; else key and
 * help; else two columns of key and help with the help wrapped, so that nothing is cut at 80x24.
 */
static struct help_layout layout_for(const struct console *c)
{
	struct help_layout l = {.kw = 3};
	int room_w = COLS - 4, room_h = LINES - 4;

	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		int k = (int)strlen(c->keys.text[i]), n = (int)strlen(ui_action_name((enum ui_action)i)),
		    h = (int)strlen(ui_action_help((enum ui_action)i));

		l.kw = k > l.kw ? k : l.kw;
		l.nw = n > l.nw ? n : l.nw;
		l.hw = h > l.hw ? h : l.hw;
	}
	l.names = UI_ACTION_COUNT <= room_h && 1 + l.kw + 2 + l.nw + 2 + l.hw + 1 <= room_w;
	l.columns = UI_ACTION_COUNT <= room_h ? 1 : 2;
	l.colw = l.names ? 1 + l.kw + 2 + l.nw + 2 + l.hw + 1 : 1 + l.kw + 2 + l.hw + 1;
	if (l.colw * l.columns > room_w)
		l.colw = room_w / l.columns;
	l.helpx = 1 + l.kw + 2 + (l.names ? l.nw + 2 : 0);
	l.helpw = l.colw - l.helpx - 1;
	return l;
}

/* Action i's help wrapped to the column; returns its lines. */
static int help_lines(const struct help_layout *l, int i, char text[8][256])
{
	return text_wrap(ui_action_help((enum ui_action)i), l->helpw > 8 ? l->helpw : 8, 0, text, 8);
}

/* What the keys do not say: the filter's words and the statistics' terms, below the keys while there is room. */
static const char *const notes[] = {
    "Filter (/): state:failed model:buck name:sweep-* tag:T, a bare word is a model; Esc clears it.",
    "retry eff.: of the tasks that failed once for a transient reason, the share a retry completed. "
    "retries/failed: retries spent per task with a failed attempt.",
    "Times are local, in the zone the status bar's clock shows.",
};

static void draw(struct console *c)
{
	struct help_layout l = layout_for(c);
	int lines[UI_ACTION_COUNT], total = 0, split = UI_ACTION_COUNT, height = 0, run = 0;
	char text[8][256];

	for (int i = 0; i < UI_ACTION_COUNT; i++)
		total += lines[i] = help_lines(&l, i, text);
	/* Two columns: the first takes entries until it holds half the lines. */
	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		if (l.columns == 2 && split == UI_ACTION_COUNT && run >= (total + 1) / 2) {
			split = i;
			height = run;
			run = 0;
		}
		run += lines[i];
	}
	height = run > height ? run : height;
	char note[16][256];
	int nnotes = 0, width = l.colw * l.columns;

	for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
		char wrapped[6][256];
		int k = text_wrap(notes[i], width - 2, 2, wrapped, 6);

		/* Only whole notes, and only while the box still fits the screen. */
		if (height + 2 + 1 + nnotes + k > LINES - 2)
			break;
		for (int j = 0; j < k && nnotes < 16; j++)
			memcpy(note[nnotes++], wrapped[j], sizeof note[0]);
	}
	struct screen_area in = screen_modal(height + 2 + (nnotes ? nnotes + 1 : 0), width + 2,
	                                     "Keys (change them in [keys] of simq.ini)");
	int row = 0;

	for (int i = 0; i < nnotes; i++)
		screen_putf(in.y + height + 1 + i, in.x, in.w, A_DIM, 0, " %s", note[i]);

	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		int x = in.x + (i >= split ? l.colw : 0), n = help_lines(&l, i, text);

		if (i == split)
			row = 0;
		for (int k = 0; k < n && row < in.h; k++, row++) {
			if (k == 0 && l.names)
				screen_putf(in.y + row, x, l.colw, A_NORMAL, 0, " %-*s  %-*s  %s", l.kw,
				            c->keys.text[i], l.nw, ui_action_name((enum ui_action)i), text[k]);
			else
				screen_putf(in.y + row, x, l.colw, A_NORMAL, 0, " %-*s  %*s%s", l.kw,
				            k == 0 ? c->keys.text[i] : "", l.names ? l.nw + 2 : 0, "", text[k]);
		}
	}
}

static void key(struct console *c, int k)
{
	c->mode = MODE_NORMAL;
}

const struct mode_ops mode_help = {
    .key = key,
    .draw = draw,
};
