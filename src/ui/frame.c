#include "autoconf.h"

#include "ui/frame.h"

#include <stdio.h>
#include <string.h>

#include "client/reply.h"
#include "util/xalloc.h"

/* Width of the statistics column when the screen is wide enough for one. */
#define STATS_COLS  44
#define WIDE_SCREEN 110

static const struct pane_ops *const panes[PANE_COUNT] = {
#define X(id, name) [PANE_##id] = &pane_##name,
    UI_PANES(X)
#undef X
};

const struct pane_ops *frame_pane(enum ui_pane p)
{
	return panes[p];
}

/* Where each pane goes: the status bar on top; queue, running and log down the left (or the whole width). */
static void layout(struct console *c, struct screen_area area[PANE_COUNT], bool wide)
{
	int body = LINES - 2;
	int nrun = reply_count(reply_member(c->view, "running"));
	int log_h = body / 4 > 4 ? body / 4 : 4;
	int stats_h = wide ? 0 : 3;
	int run_h = nrun + 1 < 3 ? 3 : nrun + 1;

	if (run_h > body / 4)
		run_h = body / 4 > 3 ? body / 4 : 3;
	int queue_h = body - log_h - stats_h - run_h;
	int main_w = wide ? COLS - STATS_COLS - 1 : COLS;

	if (queue_h < 4) {
		queue_h = 4;
		log_h = body - queue_h - stats_h - run_h;
	}
	area[PANE_STATUS] = (struct screen_area){0, 0, 1, COLS};
	area[PANE_QUEUE] = (struct screen_area){1, 0, queue_h, main_w};
	area[PANE_RUNNING] = (struct screen_area){1 + queue_h, 0, run_h, main_w};
	if (wide)
		area[PANE_STATS] = (struct screen_area){1, main_w + 1, queue_h + run_h, STATS_COLS};
	else
		area[PANE_STATS] = (struct screen_area){1 + queue_h + run_h, 0, stats_h, COLS};
	area[PANE_LOG] = (struct screen_area){1 + queue_h + run_h + stats_h, 0, log_h, COLS};
	/* The history takes the queue's place, the backends the statistics'; the one left out has no room. */
	area[PANE_HISTORY] = area[PANE_QUEUE];
	area[PANE_BACKENDS] = area[PANE_STATS];
	area[c->show_history ? PANE_QUEUE : PANE_HISTORY] = (struct screen_area){0, 0, 0, 0};
	area[c->show_backends ? PANE_STATS : PANE_BACKENDS] = (struct screen_area){0, 0, 0, 0};
}

bool frame_shown(const struct console *c, enum ui_pane p)
{
	return p == PANE_HISTORY ? c->show_history
	       : p == PANE_QUEUE ? !c->show_history
	       : p == PANE_BACKENDS ? c->show_backends
	       : p == PANE_STATS ? !c->show_backends
	                         : true;
}

/* The first key bound to action a, as [keys] writes it. */
static void first_key(const struct console *c, enum ui_action a, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)strcspn(c->keys.text[a], ","), c->keys.text[a]);
}

/* The bottom line when the mode has none of its own: the last answer, the banner, or the keys. */
static void draw_hint(struct console *c, int y)
{
	static const struct {
		enum ui_action a;
		const char *label;
	} hints[] = {{UI_SUBMIT, "submit"}, {UI_PRIORITY_UP, "priority"}, {UI_CANCEL, "cancel"},
	             {UI_RETRY, "retry"},   {UI_MARK, "mark"},           {UI_FILTER, "filter"},
	             {UI_DETAILS, "details"}, {UI_PAUSE, "pause"},       {UI_NEXT_PANE, "pane"}};
	char line[1024] = "", tail[128], help[32], quit[32];
	size_t len = 0;

	if (c->message) {
		screen_put(y, 0, COLS, A_BOLD, c->message_error ? PAIR_BAD : PAIR_GOOD, c->message);
		return;
	}
	if (!c->connected) {
		screen_put(y, 0, COLS, A_BOLD | A_REVERSE, PAIR_BAD,
		           c->banner ? c->banner : "no server answers; trying again");
		return;
	}
	/* The way out and the way to every other key always show, at the end; the others while they fit. */
	first_key(c, UI_HELP, help, sizeof help);
	first_key(c, UI_QUIT, quit, sizeof quit);
	snprintf(tail, sizeof tail, " %s help  %s quit ", help, quit);
	int room = COLS - screen_width(tail);

	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
		char first[32], down[32], hint[96];

		first_key(c, hints[i].a, first, sizeof first);
		if (hints[i].a == UI_PRIORITY_UP) {
			first_key(c, UI_PRIORITY_DOWN, down, sizeof down);
			snprintf(hint, sizeof hint, " %s/%s %s ", first, down, hints[i].label);
		} else {
			snprintf(hint, sizeof hint, " %s %s ", first, hints[i].label);
		}
		if ((int)len + screen_width(hint) > room)
			break;
		len += (size_t)snprintf(line + len, sizeof line - len, "%s", hint);
	}
	screen_put(y, 0, (int)len, A_DIM, 0, line);
	screen_put(y, (int)len, COLS - (int)len, A_DIM, 0, tail);
}

void frame_draw(struct console *c, const struct mode_ops *mode)
{
	struct screen_area area[PANE_COUNT];
	bool wide = COLS >= WIDE_SCREEN;

	layout(c, area, wide);
	if (c->areas == NULL)
		c->areas = xcalloc(PANE_COUNT, sizeof *c->areas);
	memcpy(c->areas, area, sizeof area);
	erase();
	for (int p = 0; p < PANE_COUNT; p++)
		if (area[p].h > 0)
			panes[p]->draw(c, area[p], p == (int)c->focus);
	struct screen_area side = area[c->show_backends ? PANE_BACKENDS : PANE_STATS];

	if (wide)
		for (int y = 1; y < side.y + side.h; y++)
			screen_put(y, side.x - 1, 1, A_NORMAL, PAIR_DIM, "\u2502");
	if (mode->hint)
		mode->hint(c, LINES - 1);
	else
		draw_hint(c, LINES - 1);
	if (mode->draw)
		mode->draw(c);
	screen_flush(c->dump_path);
}
