/* The log pane: the server's log lines kept in a ring, coloured by severity; it follows unless scrolled back. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "ui/pane.h"
#include "ui/text.h"
#include "util/xalloc.h"

/* A slot at the end of the ring for a new line, the oldest dropped when it is full. */
static struct ui_log_line *append_line(struct console *c)
{
	size_t slot = (c->log_head + c->log_len) % UI_LOG_KEEP;

	if (c->log_len == UI_LOG_KEEP) {
		slot = c->log_head;
		c->log_head = (c->log_head + 1) % UI_LOG_KEEP;
		free(c->log[slot].time);
		free(c->log[slot].text);
	} else {
		c->log_len++;
	}
	if (c->log_back > 0)
		c->log_back++; /* scrolled back: keep looking at the same lines */
	return &c->log[slot];
}

void pane_log_take(struct console *c, xmlrpc_value *view)
{
	struct reply_log_line l;
	char clock[16];

	for (int i = 0; reply_log_line(view, i, &l); i++) {
		if (l.seq <= c->log_seq)
			continue;
		c->log_seq = l.seq;
		struct ui_log_line *line = append_line(c);

		line->seq = l.seq;
		/* The server's UTC stamp in the local zone, as the status bar's clock. */
		if (text_iso_ms(l.time))
			text_clock(clock, sizeof clock, text_iso_ms(l.time));
		else
			snprintf(clock, sizeof clock, "%.8s", l.time);
		line->time = xstrdup(clock);
		line->text = xstrdup(l.text);
		line->severity = l.severity;
	}
}

void pane_log_note(struct console *c, enum log_level severity, const char *text)
{
	struct ui_log_line *line = append_line(c);
	char clock[16];

	line->seq = 0;
	line->time = xstrdup(text_clock(clock, sizeof clock, ui_now_ms()));
	line->text = xstrdup(text);
	line->severity = severity;
}

void pane_log_free(struct console *c)
{
	for (size_t i = 0; i < c->log_len; i++) {
		struct ui_log_line *l = &c->log[(c->log_head + i) % UI_LOG_KEEP];

		free(l->time);
		free(l->text);
		l->time = l->text = NULL;
	}
	c->log_len = c->log_head = 0;
}

static short severity_pair(enum log_level severity)
{
	return severity == LOG_ERROR ? PAIR_BAD : severity == LOG_WARN ? PAIR_WARN : PAIR_NONE;
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	char title[64];

	int rows = a.h - 1;

	/* Scrolled back no further than a full pane: never into blank rows. */
	c->log_rows = rows;
	if (c->log_back > 0 && c->log_len > 0 && c->log_back + (size_t)rows > c->log_len)
		c->log_back = c->log_len > (size_t)rows ? c->log_len - (size_t)rows : 0;
	if (c->log_back == 0)
		snprintf(title, sizeof title, "Log \u00b7 following");
	else
		snprintf(title, sizeof title, "Log \u00b7 %zu line%s back", c->log_back, c->log_back == 1 ? "" : "s");
	screen_rule(a.y, a.x, a.w, focused, title);
	size_t end = c->log_len > c->log_back ? c->log_len - c->log_back : 0;
	size_t start = end > (size_t)rows ? end - (size_t)rows : 0;

	for (int i = 0; i < rows; i++) {
		size_t k = start + (size_t)i;

		if (k >= end) {
			screen_put(a.y + 1 + i, a.x, a.w, A_NORMAL, 0, "");
			continue;
		}
		const struct ui_log_line *l = &c->log[(c->log_head + k) % UI_LOG_KEEP];

		char whole[4200], fitted[4200];

		/* Cut with "…": Enter on the log pane shows lines whole. */
		snprintf(whole, sizeof whole, " %s %s", l->time, l->text);
		screen_put(a.y + 1 + i, a.x, a.w, A_NORMAL, severity_pair(l->severity),
		           screen_fit(fitted, sizeof fitted, whole, a.w));
	}
}

static int64_t rows(struct console *c)
{
	return (int64_t)c->log_len;
}

/* The log's rows count from the oldest line; the cursor is at the end while it follows. */
static int64_t at(struct console *c)
{
	return (int64_t)c->log_len - (int64_t)c->log_back;
}

static void go(struct console *c, int64_t row)
{
	int64_t back = (int64_t)c->log_len - row, most = (int64_t)c->log_len - c->log_rows;

	if (back > most)
		back = most;
	c->log_back = (size_t)(back < 0 ? 0 : back);
}

void pane_log_shown(struct console *c, size_t *first, size_t *end)
{
	*end = c->log_len > c->log_back ? c->log_len - c->log_back : 0;
	*first = *end > (size_t)c->log_rows ? *end - (size_t)c->log_rows : 0;
}

const struct pane_ops pane_log = {
    .name = "log",
    .draw = draw,
    .rows = rows,
    .at = at,
    .go = go,
};
