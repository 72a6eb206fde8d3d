#include "autoconf.h"

#include "ui/screen.h"

#include <ctype.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "engine/task.h"
#include "util/xalloc.h"

/* screen_put() is called from everywhere: the console's choices, kept here. */
static bool the_colours, the_utf8;

/* The glyphs the console draws, and what stands for each on a terminal without UTF-8. */
static const struct {
	const char *glyph, *ascii;
} glyphs[] = {{"\u00b7", "|"}, {"\u2500", "-"}, {"\u2502", "|"}, {"\u25b6", ">"}, {"\u25cf", "*"},
              {"\u25cb", "o"}, {"\u25cc", "?"}, {"\u2014", "-"}, {"\u2026", "..."}, {"\u250c", "+"},
              {"\u2510", "+"}, {"\u2514", "+"}, {"\u2518", "+"}};

/* How each priority stands out: its colour, and without colours CRITICAL and HIGH bold, LOW dim. */
static const struct {
	short pair;
	attr_t attr, plain_attr;
} priority_looks[PRIO_COUNT] = {
    [PRIO_CRITICAL] = {PAIR_CRITICAL, A_BOLD, A_BOLD},
    [PRIO_HIGH] = {PAIR_HIGH, A_BOLD, A_BOLD},
    [PRIO_NORMAL] = {PAIR_NORMAL, A_NORMAL, A_NORMAL},
    [PRIO_LOW] = {PAIR_LOW, A_NORMAL, A_DIM},
};

void screen_init(const struct config *cfg)
{
	const char *want = config_str(cfg, "ui", "colours"), *lines = config_str(cfg, "ui", "line_drawing");
	const char *nc = getenv("NO_COLOR");

	the_colours =
	    has_colors() && strcmp(want, "never") != 0 && (strcmp(want, "always") == 0 || nc == NULL || nc[0] == '\0');
	if (the_colours) {
		start_color();
		use_default_colors();
		bool many = COLORS >= 256;

		init_pair(PAIR_CRITICAL, COLOR_RED, -1);
		init_pair(PAIR_HIGH, many ? 208 : COLOR_YELLOW, -1);
		init_pair(PAIR_NORMAL, COLOR_BLUE, -1);
		init_pair(PAIR_LOW, many ? 244 : COLOR_WHITE, -1);
		init_pair(PAIR_BAD, COLOR_RED, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
		init_pair(PAIR_DIM, many ? 244 : COLOR_WHITE, -1);
	}
	const char *codeset = setlocale(LC_CTYPE, NULL);

	the_utf8 = strcmp(lines, "utf8") == 0 ||
	           (strcmp(lines, "auto") == 0 && codeset && (strstr(codeset, "UTF-8") || strstr(codeset, "utf8")));
}

bool screen_colours(void)
{
	return the_colours;
}

bool screen_utf8(void)
{
	return the_utf8;
}

/* Copies text into out (size bytes) with each glyph above replaced by its ASCII stand-in. */
static void to_ascii(const char *text, char *out, size_t size)
{
	size_t o = 0;

	while (*text && o + 1 < size) {
		size_t i = 0;

		while (i < sizeof glyphs / sizeof glyphs[0] &&
		       strncmp(text, glyphs[i].glyph, strlen(glyphs[i].glyph)) != 0)
			i++;
		if (i < sizeof glyphs / sizeof glyphs[0]) {
			for (const char *a = glyphs[i].ascii; *a && o + 1 < size; a++)
				out[o++] = *a;
			text += strlen(glyphs[i].glyph);
		} else {
			out[o++] = *text++;
		}
	}
	out[o] = '\0';
}

int screen_width(const char *text)
{
	wchar_t w[1024];
	char plain[4096];

	if (!the_utf8) {
		to_ascii(text, plain, sizeof plain);
		text = plain;
	}
	size_t n = mbstowcs(w, text, sizeof w / sizeof w[0] - 1);
	int cells = 0;

	if (n == (size_t)-1)
		return (int)strlen(text);
	for (size_t i = 0; i < n; i++) {
		int cw = wcwidth(w[i]);

		cells += cw < 0 ? 1 : cw;
	}
	return cells;
}

const char *screen_fit(char *out, size_t size, const char *text, int width)
{
	wchar_t w[1024];
	size_t n = mbstowcs(w, text, sizeof w / sizeof w[0] - 1);
	int used = 0;

	if (n == (size_t)-1 || screen_width(text) <= width || width <= 0) {
		snprintf(out, size, "%s", width > 0 ? text : "");
		return out;
	}
	/* Room for the ellipsis: the characters that fit in width - 1 cells. */
	size_t k = 0;

	for (; k < n; k++) {
		int cw = wcwidth(w[k]);

		cw = cw < 0 ? 1 : cw;
		if (used + cw > width - 1)
			break;
		used += cw;
	}
	w[k] = L'\0';
	size_t len = wcstombs(out, w, size > 4 ? size - 4 : 0);

	if (len == (size_t)-1)
		len = 0;
	snprintf(out + len, size - len, "\u2026");
	return out;
}

void screen_put(int y, int x, int width, attr_t attr, short pair, const char *text)
{
	wchar_t w[1024];
	char plain[4096];

	if (!the_utf8) {
		to_ascii(text, plain, sizeof plain);
		text = plain;
	}
	size_t n = mbstowcs(w, text, sizeof w / sizeof w[0] - 1);
	int used = 0;

	if (n == (size_t)-1) {
		/* Not text in this locale: show it as ASCII. */
		n = 0;
		for (const char *p = text; *p && n < sizeof w / sizeof w[0] - 1; p++)
			w[n++] = (unsigned char)*p < 0x80 ? (wchar_t)*p : L'?';
	}
	w[n] = L'\0';
	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	size_t k = 0;

	for (; k < n; k++) {
		int cw = wcwidth(w[k]);

		if (cw < 0)
			w[k] = L'?', cw = 1;
		if (used + cw > width)
			break;
		used += cw;
	}
	attr_t a = attr | (pair && the_colours ? COLOR_PAIR(pair) : 0);

	attron(a);
	mvaddnwstr(y, x, w, (int)k);
	for (; used < width; used++)
		addch(' ');
	attroff(a);
}

void screen_putf(int y, int x, int width, attr_t attr, short pair, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	screen_put(y, x, width, attr, pair, buf);
}

void screen_rule(int y, int x, int width, bool focused, const char *title)
{
	char line[4096] = "";
	const char *h = "\u2500";
	size_t hl = strlen(h);

	for (int i = 0, off = 0; i < width && off + (int)hl < (int)sizeof line; i++, off += (int)hl)
		memcpy(line + off, h, hl + 1);
	screen_put(y, x, width, A_NORMAL, PAIR_DIM, line);
	screen_putf(y, x + 1, screen_width(title) + 2 < width ? screen_width(title) + 2 : width - 1,
	            focused ? A_BOLD | A_REVERSE : A_BOLD, 0, " %s ", title);
}

struct screen_area screen_modal(int h, int w, const char *title)
{
	struct screen_area a;

	w = w > COLS - 2 ? COLS - 2 : w;
	h = h > LINES - 2 ? LINES - 2 : h;
	a.y = (LINES - h) / 2;
	a.x = (COLS - w) / 2;
	a.h = h;
	a.w = w;
	/* A blank cell around the box: nothing of the panes under it shows at its edges. */
	for (int y = a.y - 1; y <= a.y + h; y++)
		screen_put(y, a.x - 1 < 0 ? 0 : a.x - 1, w + 2, A_NORMAL, 0, "");
	for (int y = a.y; y < a.y + h; y++) {
		screen_put(y, a.x, 1, A_NORMAL, PAIR_DIM, "\u2502");
		screen_put(y, a.x + w - 1, 1, A_NORMAL, PAIR_DIM, "\u2502");
	}
	screen_rule(a.y, a.x, w, true, title);
	screen_rule(a.y + h - 1, a.x, w, false, "Esc closes");
	return (struct screen_area){a.y + 1, a.x + 1, h - 2, w - 2};
}

void screen_priority(int y, int x, attr_t base, bool selected, const char *priority)
{
	enum task_priority p;
	char shown[8];

	/* Its name cut to four letters, "CRIT", "NORM"; text that is no priority goes as it came, in LOW's colour. */
	if (!task_priority_parse(priority, &p)) {
		screen_put(y, x, 5, base, selected ? 0 : PAIR_LOW, priority);
		return;
	}
	snprintf(shown, sizeof shown, "%.4s", task_priority_name(p));
	for (char *s = shown; *s; s++)
		*s = (char)toupper((unsigned char)*s);
	screen_put(y, x, 5, base | (the_colours ? priority_looks[p].attr : priority_looks[p].plain_attr),
	           selected ? 0 : priority_looks[p].pair, shown);
}

/* The screen's text, trailing blanks cut, into path (through a rename, so a reader never sees half a frame). */
static void dump(const char *path)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "we");

	if (fp) {
		for (int y = 0; y < LINES; y++) {
			wchar_t w[1024];
			char mb[4096];
			int n = mvinnwstr(y, 0, w, COLS < 1023 ? COLS : 1023);

			if (n < 0)
				n = 0;
			w[n] = L'\0';
			size_t len = wcstombs(mb, w, sizeof mb - 1);

			if (len == (size_t)-1)
				len = 0;
			mb[len] = '\0';
			while (len > 0 && mb[len - 1] == ' ')
				mb[--len] = '\0';
			fprintf(fp, "%s\n", mb);
		}
		fclose(fp);
		rename(tmp, path);
	}
	free(tmp);
}

void screen_flush(const char *dump_path)
{
	wnoutrefresh(stdscr);
	doupdate();
	if (dump_path)
		dump(dump_path);
}
