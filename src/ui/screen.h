/*
 * screen — putting the console's text into stdscr: cells cut and padded to a
 * width, colour pairs, title rules, boxes, a task's priority, and the frame
 * sent to the terminal (and to SIMQ_SCREEN_DUMP).
 *
 * screen_init() once after initscr() decides colours ([ui] colours and
 * NO_COLOR) and line drawing ([ui] line_drawing and the locale); every line
 * drawn goes through screen_put(), the one place for the ASCII fallback.
 * Knows nothing of the console's state.  Loop thread only.
 */
#ifndef SIMQ_UI_SCREEN_H
#define SIMQ_UI_SCREEN_H

#include <stdbool.h>

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include "config/config.h"

/* Colour pairs; PAIR_NONE is the terminal's own colours. */
enum screen_pair {
	PAIR_NONE,
	PAIR_CRITICAL,
	PAIR_HIGH,
	PAIR_NORMAL,
	PAIR_LOW,
	PAIR_BAD,
	PAIR_WARN,
	PAIR_GOOD,
	PAIR_DIM
};

/* A rectangle of the screen: top row, left column, height, width. */
struct screen_area {
	int y, x, h, w;
};

void screen_init(const struct config *cfg);
/* Whether the console draws in colour, and with UTF-8 lines and glyphs (else ASCII). */
bool screen_colours(void);
bool screen_utf8(void);

/* How many cells text takes on screen. */
int screen_width(const char *text);
/* text cut to width cells, with "…" as its last cell when it was cut; returns out. */
const char *screen_fit(char *out, size_t size, const char *text, int width);
/* Writes UTF-8 text at y,x in exactly width cells: cut at a character, padded with spaces. */
void screen_put(int y, int x, int width, attr_t attr, short pair, const char *text);
void screen_putf(int y, int x, int width, attr_t attr, short pair, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A rule across width cells with its title: "─ Queue 1,842 ─ C:1 H:0 ──────"; reversed when focused. */
void screen_rule(int y, int x, int width, bool focused, const char *title);
/* A box in the middle of the screen (help, details); returns its inside. */
struct screen_area screen_modal(int h, int w, const char *title);
/* A task's priority in 5 cells ("CRIT "), in its colour unless the row is selected; base: the row's attributes. */
void screen_priority(int y, int x, attr_t base, bool selected, const char *priority);
/* Sends the frame to the terminal, then writes its text to dump_path (when not NULL). */
void screen_flush(const char *dump_path);

#endif
