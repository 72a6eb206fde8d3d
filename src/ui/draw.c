#include "autoconf.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "ui/ui.h"
#include "util/time.h"
#include "util/xalloc.h"

/* Colour pairs. */
enum { PAIR_CRITICAL = 1, PAIR_HIGH, PAIR_NORMAL, PAIR_LOW, PAIR_BAD, PAIR_GOOD, PAIR_DIM };

/* Width of the statistics column when the screen is wide enough for one. */
#define STATS_COLS 44
#define WIDE_SCREEN 110

/* put() is called from many places: the console's choices, kept here. */
static bool the_colours, the_utf8;

/* The glyphs the console draws, and what stands for each on a terminal without UTF-8. */
static const struct {
	const char *glyph;
	char ascii;
} glyphs[] = {{"\u00b7", '|'}, {"\u2500", '-'}, {"\u2502", '|'}, {"\u25b6", '>'}, {"\u25cf", '*'}, {"\u25cb", 'o'},
	      {"\u2014", '-'}};

/* Copies text into out (size bytes) with each glyph above replaced by its ASCII stand-in. */
static void to_ascii(const char *text, char *out, size_t size)
{
	size_t o = 0;

	while (*text && o + 1 < size) {
		size_t i = 0;

		while (i < sizeof glyphs / sizeof glyphs[0] && strncmp(text, glyphs[i].glyph, strlen(glyphs[i].glyph)) != 0)
			i++;
		if (i < sizeof glyphs / sizeof glyphs[0]) {
			out[o++] = glyphs[i].ascii;
			text += strlen(glyphs[i].glyph);
		} else {
			out[o++] = *text++;
		}
	}
	out[o] = '\0';
}

void ui_draw_init(struct console *c)
{
	const char *want = config_str(c->cfg, "ui", "colours"), *lines = config_str(c->cfg, "ui", "line_drawing");
	const char *nc = getenv("NO_COLOR");

	c->colours = has_colors() && strcmp(want, "never") != 0 &&
		     (strcmp(want, "always") == 0 || nc == NULL || nc[0] == '\0');
	if (c->colours) {
		start_color();
		use_default_colors();
		bool many = COLORS >= 256;

		init_pair(PAIR_CRITICAL, COLOR_RED, -1);
		init_pair(PAIR_HIGH, many ? 208 : COLOR_YELLOW, -1);
		init_pair(PAIR_NORMAL, COLOR_BLUE, -1);
		init_pair(PAIR_LOW, many ? 244 : COLOR_WHITE, -1);
		init_pair(PAIR_BAD, COLOR_RED, -1);
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
		init_pair(PAIR_DIM, many ? 244 : COLOR_WHITE, -1);
	}
	the_colours = c->colours;
	const char *codeset = setlocale(LC_CTYPE, NULL);

	c->utf8 = strcmp(lines, "utf8") == 0 ||
		  (strcmp(lines, "auto") == 0 && codeset && (strstr(codeset, "UTF-8") || strstr(codeset, "utf8")));
	the_utf8 = c->utf8;
}

/* ---- reading the view ------------------------------------------------------------------ */

static xmlrpc_value *member(xmlrpc_value *v, const char *key)
{
	xmlrpc_env env;
	xmlrpc_value *m = NULL;

	if (v == NULL || xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT)
		return NULL;
	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, v, key, &m);
	xmlrpc_env_clean(&env);
	if (m)
		xmlrpc_DECREF(m); /* the struct keeps it alive */
	return m;
}

const char *ui_str(xmlrpc_value *v, const char *key, char *buf, size_t size)
{
	xmlrpc_value *m = member(v, key);
	xmlrpc_env env;
	const char *s = NULL;

	buf[0] = '\0';
	if (m == NULL || xmlrpc_value_type(m) != XMLRPC_TYPE_STRING)
		return buf;
	xmlrpc_env_init(&env);
	xmlrpc_read_string(&env, m, &s);
	if (!env.fault_occurred) {
		snprintf(buf, size, "%s", s);
		free((void *)s);
	}
	xmlrpc_env_clean(&env);
	return buf;
}

int64_t ui_int(xmlrpc_value *v, const char *key, int64_t def)
{
	xmlrpc_value *m = member(v, key);
	xmlrpc_env env;
	int64_t out = def;

	if (m == NULL)
		return def;
	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(m) == XMLRPC_TYPE_I8) {
		xmlrpc_int64 x;

		xmlrpc_read_i8(&env, m, &x);
		out = x;
	} else if (xmlrpc_value_type(m) == XMLRPC_TYPE_INT) {
		int x;

		xmlrpc_read_int(&env, m, &x);
		out = x;
	} else if (xmlrpc_value_type(m) == XMLRPC_TYPE_DOUBLE) {
		double x;

		xmlrpc_read_double(&env, m, &x);
		out = (int64_t)x;
	} else if (xmlrpc_value_type(m) == XMLRPC_TYPE_BOOL) {
		xmlrpc_bool x;

		xmlrpc_read_bool(&env, m, &x);
		out = x ? 1 : 0;
	}
	xmlrpc_env_clean(&env);
	return out;
}

double ui_num(xmlrpc_value *v, const char *key, double def)
{
	xmlrpc_value *m = member(v, key);
	xmlrpc_env env;
	double out = def;

	if (m == NULL)
		return def;
	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(m) == XMLRPC_TYPE_DOUBLE)
		xmlrpc_read_double(&env, m, &out);
	else
		out = (double)ui_int(v, key, (int64_t)def);
	xmlrpc_env_clean(&env);
	return out;
}

xmlrpc_value *ui_rows(struct console *c, int64_t *total, int64_t *first)
{
	xmlrpc_value *src = c->filter ? c->list : c->view;
	xmlrpc_value *rows = member(src, c->filter ? "tasks" : "queue");

	if (total)
		*total = ui_int(src, c->filter ? "total" : "queue_total", 0);
	if (first)
		*first = c->filter ? ui_int(c->list, "offset", 0) : c->queue_top;
	return rows;
}

static int array_size(xmlrpc_value *a)
{
	xmlrpc_env env;
	int n;

	if (a == NULL || xmlrpc_value_type(a) != XMLRPC_TYPE_ARRAY)
		return 0;
	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, a);
	xmlrpc_env_clean(&env);
	return n;
}

static xmlrpc_value *item(xmlrpc_value *a, int i)
{
	xmlrpc_env env;
	xmlrpc_value *v;

	xmlrpc_env_init(&env);
	v = xmlrpc_array_get_item(&env, a, i);
	xmlrpc_env_clean(&env);
	return v;
}

/* ---- putting text on the screen ------------------------------------------------------------ */

/* Writes UTF-8 text at y,x in exactly width cells: cut at a character, padded with spaces. */
static void put(int y, int x, int width, attr_t attr, short pair, const char *text)
{
	wchar_t w[1024];
	char plain[4096];

	/* One place for the ASCII fallback: every line drawn goes through here. */
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

static void putf(int y, int x, int width, attr_t attr, short pair, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void putf(int y, int x, int width, attr_t attr, short pair, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	put(y, x, width, attr, pair, buf);
}

static short priority_pair(const char *p)
{
	return strcmp(p, "critical") == 0 ? PAIR_CRITICAL
	       : strcmp(p, "high") == 0	  ? PAIR_HIGH
	       : strcmp(p, "normal") == 0 ? PAIR_NORMAL
					  : PAIR_LOW;
}

static const char *priority_short(const char *p)
{
	return strcmp(p, "critical") == 0 ? "CRIT"
	       : strcmp(p, "high") == 0	  ? "HIGH"
	       : strcmp(p, "normal") == 0 ? "NORM"
	       : strcmp(p, "low") == 0	  ? "LOW"
					  : p;
}

/* Priorities without colour still differ: CRITICAL and HIGH bold, LOW dim. */
static attr_t priority_attr(const struct console *c, const char *p)
{
	if (strcmp(p, "critical") == 0 || strcmp(p, "high") == 0)
		return A_BOLD;
	return strcmp(p, "low") == 0 && !c->colours ? A_DIM : A_NORMAL;
}

/* A rule across the pane with its title: "─ Queue 1,842 ─ C:1 H:0 ──────". */
static void rule(struct console *c, int y, int x, int width, bool focused, const char *title)
{
	char line[4096] = "";
	const char *h = "\u2500";
	size_t hl = strlen(h);

	for (int i = 0, off = 0; i < width && off + (int)hl < (int)sizeof line; i++, off += (int)hl)
		memcpy(line + off, h, hl + 1);
	put(y, x, width, A_NORMAL, PAIR_DIM, line);
	putf(y, x + 1, (int)strlen(title) + 2 < width ? (int)strlen(title) + 2 : width - 1,
	     focused ? A_BOLD | A_REVERSE : A_BOLD, 0, " %s ", title);
}

static int64_t iso_ms(const char *t)
{
	struct tm tm = {0};
	int ms = 0;

	if (t[0] == '\0' || sscanf(t, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
				   &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void age_text(char *out, size_t size, const char *iso)
{
	int64_t t = iso_ms(iso);

	if (t == 0) {
		snprintf(out, size, "-");
		return;
	}
	time_format_duration(out, size, (double)(time_wall_ns() / 1000000 - t) / 1000);
}

/* "Vin=400 D=0.42": a task's vars as one short line. */
static void vars_text(xmlrpc_value *vars, char *out, size_t size)
{
	xmlrpc_env env;
	int n;
	size_t len = 0;

	out[0] = '\0';
	if (vars == NULL || xmlrpc_value_type(vars) != XMLRPC_TYPE_STRUCT)
		return;
	xmlrpc_env_init(&env);
	n = xmlrpc_struct_size(&env, vars);
	for (int i = 0; i < n && len + 2 < size; i++) {
		xmlrpc_value *k, *v;
		const char *name;
		char val[64];

		xmlrpc_struct_read_member(&env, vars, (unsigned)i, &k, &v);
		if (env.fault_occurred)
			break;
		xmlrpc_read_string(&env, k, &name);
		switch (xmlrpc_value_type(v)) {
		case XMLRPC_TYPE_DOUBLE: {
			double d;

			xmlrpc_read_double(&env, v, &d);
			snprintf(val, sizeof val, "%g", d);
			break;
		}
		case XMLRPC_TYPE_INT: {
			int d;

			xmlrpc_read_int(&env, v, &d);
			snprintf(val, sizeof val, "%d", d);
			break;
		}
		case XMLRPC_TYPE_STRING: {
			const char *s;

			xmlrpc_read_string(&env, v, &s);
			snprintf(val, sizeof val, "%s", s);
			free((void *)s);
			break;
		}
		default:
			snprintf(val, sizeof val, "[..]");
			break;
		}
		len += (size_t)snprintf(out + len, size - len, "%s%s=%s", i ? " " : "", name, val);
		if (len >= size)
			len = size - 1;
		free((void *)name);
		xmlrpc_DECREF(k);
		xmlrpc_DECREF(v);
	}
	xmlrpc_env_clean(&env);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "1,842" */
static const char *grouped(char *out, size_t size, int64_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n)), o = 0;

	if (n < 0 && o + 1 < (int)size)
		out[o++] = '-';
	for (int i = 0; i < len && o + 2 < (int)size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

/* ---- panes ------------------------------------------------------------------------------------ */

struct area {
	int y, x, h, w;
};

static void draw_status(struct console *c)
{
	char line[2048], buf[256], clock[16];
	size_t len;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	len = (size_t)snprintf(line, sizeof line, " simq \u00b7 %s", c->view ? ui_str(c->view, "state_dir", buf, sizeof buf)
									   : client_state_dir(c->conn));
	/* No answer: what is on screen is the last answer's, and the status bar says from when. */
	xmlrpc_value *backends = c->connected ? member(c->view, "backends") : NULL;

	if (!c->connected && c->view) {
		time_t at = (time_t)(c->view_at_ms / 1000);
		char when[16];

		localtime_r(&at, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		len += (size_t)snprintf(line + len, sizeof line - len, " \u00b7 NO ANSWER \u00b7 as of %s", when);
	}
	for (int i = 0; i < array_size(backends) && len < sizeof line - 128; i++) {
		xmlrpc_value *b = item(backends, i);
		char name[64];
		bool up = ui_int(b, "up", 0) != 0, paused = ui_int(b, "paused", 0) != 0;

		ui_str(b, "name", name, sizeof name);
		if (up)
			len += (size_t)snprintf(line + len, sizeof line - len, " \u00b7 %s %s UP %lld/%lld%s", name,
						"\u25cf", (long long)ui_int(b, "busy", 0),
						(long long)ui_int(b, "slots", 0), paused ? " paused" : "");
		else
			len += (size_t)snprintf(line + len, sizeof line - len, " \u00b7 %s %s DOWN (probe in %.0fs)", name,
						"\u25cb", ui_num(b, "probe_in", 0));
	}
	if (c->view && ui_int(c->view, "paused", 0))
		len += (size_t)snprintf(line + len, sizeof line - len, " \u00b7 PAUSED");
	int cw = (int)strlen(clock) + 1;

	put(0, 0, COLS - cw, A_REVERSE, 0, line);
	putf(0, COLS - cw, cw, A_REVERSE, 0, "%s ", clock);
}

static void draw_queue(struct console *c, struct area a)
{
	char title[256], n1[32], n2[32], n3[32], n4[32], n5[32];
	int64_t total = 0, first = 0;
	xmlrpc_value *rows = ui_rows(c, &total, &first);
	xmlrpc_value *stats = member(c->view, "stats"), *byp = member(stats, "queued_by_priority");

	if (c->filter)
		snprintf(title, sizeof title, "Filter \"%s\" %s match%s", c->filter, grouped(n1, sizeof n1, total),
			 total == 1 ? "" : "es");
	else
		snprintf(title, sizeof title, "Queue %s \u2500 C:%s H:%s N:%s L:%s", grouped(n1, sizeof n1, total),
			 grouped(n2, sizeof n2, ui_int(byp, "critical", 0)), grouped(n3, sizeof n3, ui_int(byp, "high", 0)),
			 grouped(n4, sizeof n4, ui_int(byp, "normal", 0)), grouped(n5, sizeof n5, ui_int(byp, "low", 0)));
	if (c->marks.size)
		snprintf(title + strlen(title), sizeof title - strlen(title), " \u00b7 %zu marked", c->marks.size);
	rule(c, a.y, a.x, a.w, c->focus == PANE_QUEUE, title);
	c->queue_rows = a.h - 2 > 1 ? a.h - 2 : 1;
	int name_w = a.w >= 100 ? 26 : 18, age_w = 6;
	int vars_w = a.w - (2 + 10 + 1 + 7 + 1 + 5 + name_w + 1 + age_w + 1);

	putf(a.y + 1, a.x, a.w, A_DIM, 0, "  %9s %7s %-4s %-*s %-*s %*s", c->filter ? "STATE" : "POS", "ID", "PRI", name_w,
	     "NAME / MODEL", vars_w > 0 ? vars_w : 0, "VARS", age_w, "AGE");
	if (total == 0 && a.h > 2)
		put(a.y + 2, a.x, a.w, A_DIM, 0,
		    c->filter ? "  nothing matches; / and Esc shows the queue again" : "  the queue is empty");
	for (int i = 0; i < array_size(rows) && i < a.h - 2; i++) {
		xmlrpc_value *t = item(rows, i);
		int64_t pos = first + i, id = ui_int(t, "id", 0);
		bool sel = pos == c->queue_sel && c->focus == PANE_QUEUE, marked = idmap_get(&c->marks, id) != NULL;
		char prio[16], name[128], model[512], label[700], vars[512], age[32], sub[64], state[16], where[24];

		ui_str(t, "priority", prio, sizeof prio);
		ui_str(t, "name", name, sizeof name);
		ui_str(t, "model", model, sizeof model);
		snprintf(label, sizeof label, "%s%s%s", name, name[0] ? " " : "", base_name(model));
		vars_text(member(t, "vars"), vars, sizeof vars);
		age_text(age, sizeof age, ui_str(t, "submitted", sub, sizeof sub));
		if (c->filter)
			snprintf(where, sizeof where, "%s", ui_str(t, "state", state, sizeof state));
		else
			snprintf(where, sizeof where, "%lld", (long long)pos + 1);
		int y = a.y + 2 + i;
		attr_t base = sel ? A_REVERSE : A_NORMAL;

		putf(y, a.x, 2, base | A_BOLD, 0, "%s%s", sel ? "\u25b6" : " ", marked ? "*" : " ");
		putf(y, a.x + 2, 19, base, 0, "%9s %7lld ", where, (long long)id);
		put(y, a.x + 21, 5, base | priority_attr(c, prio), sel ? 0 : priority_pair(prio), priority_short(prio));
		putf(y, a.x + 26, name_w, base, 0, "%s", label);
		if (vars_w > 0)
			putf(y, a.x + 27 + name_w, vars_w + 1, base, 0, "%s", vars);
		putf(y, a.x + a.w - age_w - 1, age_w + 1, base, 0, "%*s", age_w, age);
	}
}

/* "▕██████▍   ▏" — an estimate, so the text beside it says so. */
static void bar(struct console *c, char *out, size_t size, double fraction, int cells)
{
	size_t len = 0;

	if (!c->utf8) {
		int full = (int)(fraction * cells + 0.5);

		len += (size_t)snprintf(out, size, "[");
		for (int i = 0; i < cells && len + 2 < size; i++)
			out[len++] = i < full ? '#' : '.';
		snprintf(out + len, size - len, "]");
		return;
	}
	static const char *const eighths[] = {"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"};
	int units = (int)(fraction * cells * 8);

	len += (size_t)snprintf(out, size, "\u2595");
	for (int i = 0; i < cells && len + 8 < size; i++) {
		int u = units - i * 8;

		len += (size_t)snprintf(out + len, size - len, "%s", u >= 8 ? "\u2588" : u > 0 ? eighths[u] : " ");
	}
	snprintf(out + len, size - len, "\u258f");
}

static void draw_running(struct console *c, struct area a)
{
	xmlrpc_value *running = member(c->view, "running");
	int n = array_size(running);
	char title[64];
	double since = (double)(time_wall_ns() / 1000000 - c->view_at_ms) / 1000;

	snprintf(title, sizeof title, "Running %d", n);
	rule(c, a.y, a.x, a.w, c->focus == PANE_RUNNING, title);
	if (n == 0 && a.h > 1)
		put(a.y + 1, a.x, a.w, A_DIM, 0, "  nothing running");
	int top = (int)c->running_sel >= a.h - 1 ? (int)c->running_sel - (a.h - 2) : 0;

	for (int i = top; i < n && i - top < a.h - 1; i++) {
		xmlrpc_value *r = item(running, i);
		char kind[16], prio[16], name[128], model[512], line[1024], backend[64], err[512], ids[64];
		bool sel = (size_t)i == c->running_sel && c->focus == PANE_RUNNING;
		int y = a.y + 1 + i - top;
		attr_t base = sel ? A_REVERSE : A_NORMAL;

		ui_str(r, "kind", kind, sizeof kind);
		ui_str(r, "priority", prio, sizeof prio);
		ui_str(r, "name", name, sizeof name);
		ui_str(r, "model", model, sizeof model);
		if (strcmp(kind, "retry") == 0) {
			double in = ui_num(r, "retry_in", 0) - since;

			snprintf(ids, sizeof ids, "%lld", (long long)ui_int(r, "id", 0));
			snprintf(line, sizeof line, "%s %s  retry %lld/%lld in %.0fs  (%s)", name, base_name(model),
				 (long long)ui_int(r, "retry", 0), (long long)ui_int(r, "max_retries", 0), in > 0 ? in : 0,
				 ui_str(r, "error", err, sizeof err));
		} else {
			xmlrpc_value *list = member(r, "ids");
			int k = array_size(list);

			if (k == 1) {
				xmlrpc_int64 v = 0;
				xmlrpc_env env;

				xmlrpc_env_init(&env);
				xmlrpc_read_i8(&env, item(list, 0), &v);
				xmlrpc_env_clean(&env);
				snprintf(ids, sizeof ids, "%lld", (long long)v);
			} else {
				xmlrpc_int64 lo = 0, hi = 0;
				xmlrpc_env env;

				xmlrpc_env_init(&env);
				xmlrpc_read_i8(&env, item(list, 0), &lo);
				xmlrpc_read_i8(&env, item(list, k - 1), &hi);
				xmlrpc_env_clean(&env);
				snprintf(ids, sizeof ids, "%lld-%lld", (long long)lo, (long long)hi);
			}
			ui_str(r, "backend", backend, sizeof backend);
			if (ui_int(r, "cancelled", 0) >= k && k > 0) {
				snprintf(line, sizeof line, "%s %s  %s  cancelling %s PLECS finishes the run", name,
					 base_name(model), backend, "\u2014");
			} else {
				double progress = ui_num(r, "progress", -1), elapsed = ui_num(r, "elapsed", 0) + since;
				char b[256], el[32];

				time_format_duration(el, sizeof el, elapsed);
				if (progress >= 0) {
					double est = ui_num(r, "estimate", 0), p = est > 0 ? elapsed / est : progress;

					p = p > 0.99 ? 0.99 : p;
					bar(c, b, sizeof b, p, 10);
					snprintf(line, sizeof line, "%s %s  batch %d  %s  attempt %lld  %s ~%.0f%% est.", name,
						 base_name(model), k, backend, (long long)ui_int(r, "attempt", 1), b, 100 * p);
				} else {
					snprintf(line, sizeof line, "%s %s  batch %d  %s  attempt %lld  %s (no estimate yet)",
						 name, base_name(model), k, backend, (long long)ui_int(r, "attempt", 1), el);
				}
			}
		}
		putf(y, a.x, 2, base | A_BOLD, 0, "%s ", sel ? "\u25b6" : " ");
		putf(y, a.x + 2, 14, base, 0, "%-13s ", ids);
		put(y, a.x + 16, 5, base | priority_attr(c, prio), sel ? 0 : priority_pair(prio), priority_short(prio));
		put(y, a.x + 21, a.w - 21, base, 0, line);
	}
}

static void draw_log(struct console *c, struct area a)
{
	char title[64];

	if (c->log_back == 0)
		snprintf(title, sizeof title, "Log \u00b7 following");
	else
		snprintf(title, sizeof title, "Log \u00b7 %zu line%s back", c->log_back, c->log_back == 1 ? "" : "s");
	rule(c, a.y, a.x, a.w, c->focus == PANE_LOG, title);
	int rows = a.h - 1;
	size_t end = c->log_len > c->log_back ? c->log_len - c->log_back : 0;
	size_t start = end > (size_t)rows ? end - (size_t)rows : 0;

	for (int i = 0; i < rows; i++) {
		size_t k = start + (size_t)i;

		if (k >= end) {
			put(a.y + 1 + i, a.x, a.w, A_NORMAL, 0, "");
			continue;
		}
		const struct ui_log_line *l = &c->log[(c->log_head + k) % UI_LOG_KEEP];
		bool bad = strstr(l->text, "failed") || strstr(l->text, "DOWN");

		putf(a.y + 1 + i, a.x, a.w, A_NORMAL, bad ? PAIR_BAD : 0, " %s %s", l->time, l->text);
	}
}

static void sparkline(struct console *c, xmlrpc_value *per_minute, char *out, size_t size, int cells)
{
	static const char *const levels[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.-=*#";
	int n = array_size(per_minute), from = n > cells ? n - cells : 0;
	int64_t most = 0;
	size_t len = 0;

	for (int i = from; i < n; i++) {
		xmlrpc_int64 v = 0;
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		xmlrpc_read_i8(&env, item(per_minute, i), &v);
		xmlrpc_env_clean(&env);
		most = v > most ? v : most;
	}
	out[0] = '\0';
	for (int i = from; i < n && len + 4 < size; i++) {
		xmlrpc_int64 v = 0;
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		xmlrpc_read_i8(&env, item(per_minute, i), &v);
		xmlrpc_env_clean(&env);
		int level = most ? (int)((v * 7 + most - 1) / most) : 0;

		if (c->utf8)
			len += (size_t)snprintf(out + len, size - len, "%s", levels[level]);
		else
			out[len++] = ascii[level * 5 / 7], out[len] = '\0';
	}
}

static void draw_stats(struct console *c, struct area a, bool compact)
{
	static const char *const windows[] = {"since_start", "day", "all"};
	static const char *const titles[] = {"since start", "last 24 h", "all time"};
	xmlrpc_value *stats = member(c->view, "stats"), *w = member(member(stats, "windows"), windows[c->stats_window]);
	xmlrpc_value *tp = member(c->view, "throughput");
	char title[64], n1[32], n2[32], n3[32], n4[32], spark[256], eta[32];
	double rate = ui_num(w, "success_rate", -1), eff = ui_num(w, "retry_effectiveness", -1),
	       per = ui_num(w, "avg_retries_per_failed", -1), e = ui_num(tp, "eta", -1);

	snprintf(title, sizeof title, "Statistics \u00b7 %s  [%s]", titles[c->stats_window], c->keys.text[UI_STATS_WINDOW]);
	rule(c, a.y, a.x, a.w, false, title);
	sparkline(c, member(tp, "per_minute"), spark, sizeof spark, 12);
	if (e < 0)
		snprintf(eta, sizeof eta, "-");
	else
		time_format_duration(eta, sizeof eta, e);
	char lines[7][256];

	snprintf(lines[0], sizeof lines[0], "completed %s first try, %s after retry", grouped(n1, sizeof n1, ui_int(w, "completed_first", 0)),
		 grouped(n2, sizeof n2, ui_int(w, "completed_retry", 0)));
	snprintf(lines[1], sizeof lines[1], "failed %s   cancelled %s", grouped(n3, sizeof n3, ui_int(w, "failed", 0)),
		 grouped(n4, sizeof n4, ui_int(w, "cancelled", 0)));
	if (rate >= 0)
		snprintf(lines[2], sizeof lines[2], "success %.1f %%", 100 * rate);
	else
		snprintf(lines[2], sizeof lines[2], "success -");
	snprintf(lines[3], sizeof lines[3], "retry eff. %s   retries/failed %s",
		 eff >= 0 ? (snprintf(n1, sizeof n1, "%.1f %%", 100 * eff), n1) : "-",
		 per >= 0 ? (snprintf(n2, sizeof n2, "%.1f", per), n2) : "-");
	snprintf(lines[4], sizeof lines[4], "throughput %s %.0f/h  ETA %s", spark, ui_num(tp, "per_hour", 0), eta);
	snprintf(lines[5], sizeof lines[5], "queued %s   running %s", grouped(n1, sizeof n1, ui_int(stats, "queued", 0)),
		 grouped(n2, sizeof n2, ui_int(stats, "running", 0)));
	xmlrpc_value *calls = member(c->view, "calls");

	snprintf(lines[6], sizeof lines[6], "calls %s   batch avg %.1f", grouped(n3, sizeof n3, ui_int(calls, "calls", 0)),
		 ui_num(calls, "mean_batch", 0));
	if (compact) {
		putf(a.y + 1, a.x, a.w, A_NORMAL, 0, " %s \u00b7 %s \u00b7 %s", lines[0], lines[1], lines[2]);
		if (a.h > 2)
			putf(a.y + 2, a.x, a.w, A_NORMAL, 0, " %s \u00b7 %s \u00b7 %s \u00b7 %s", lines[3], lines[4], lines[5],
			     lines[6]);
		return;
	}
	for (int i = 0; i < 7 && i + 1 < a.h; i++)
		putf(a.y + 1 + i, a.x, a.w, A_NORMAL, i == 2 && rate >= 0 && rate < 0.9 ? PAIR_BAD : 0, " %s", lines[i]);
	/* Each model's call time, mean and p95 of its recent calls, as many as there are rows. */
	xmlrpc_value *models = member(calls, "models");
	int row = 8;

	if (array_size(models) > 0 && row < a.h)
		put(a.y + row++, a.x, a.w, A_DIM, 0, " call time      mean     p95");
	for (int i = 0; i < array_size(models) && row < a.h; i++, row++) {
		xmlrpc_value *m = item(models, i);
		char model[512], mean[32], p95[32];

		ui_str(m, "model", model, sizeof model);
		time_format_duration(mean, sizeof mean, ui_num(m, "mean", 0));
		time_format_duration(p95, sizeof p95, ui_num(m, "p95", 0));
		putf(a.y + row, a.x, a.w, A_NORMAL, 0, " %-14.14s %-8s %s", base_name(model), mean, p95);
	}
}

/* The bottom line: what was typed, a question, an answer, or the keys. */
static void draw_hint(struct console *c)
{
	int y = LINES - 1;

	if (c->mode == MODE_FILTER) {
		putf(y, 0, COLS, A_BOLD, 0, "/%s", c->input_buf);
		return;
	}
	if (c->mode == MODE_CONFIRM) {
		put(y, 0, COLS, A_BOLD, PAIR_BAD, c->confirm_text ? c->confirm_text : "Sure? y/N");
		return;
	}
	if (c->message) {
		put(y, 0, COLS, A_BOLD, c->message_error ? PAIR_BAD : PAIR_GOOD, c->message);
		return;
	}
	if (!c->connected) {
		put(y, 0, COLS, A_BOLD | A_REVERSE, PAIR_BAD, c->banner ? c->banner : "no server answers; trying again");
		return;
	}
	static const struct {
		enum ui_action a;
		const char *label;
	} hints[] = {{UI_SUBMIT, "submit"}, {UI_PRIORITY_UP, "priority"}, {UI_CANCEL, "cancel"}, {UI_RETRY, "retry"},
		     {UI_MARK, "mark"}, {UI_FILTER, "filter"}, {UI_DETAILS, "details"}, {UI_PAUSE, "pause"},
		     {UI_NEXT_PANE, "pane"}, {UI_HELP, "help"}, {UI_QUIT, "quit"}};
	char line[1024];
	size_t len = 0;

	for (size_t i = 0; i < sizeof hints / sizeof hints[0] && len < sizeof line - 64; i++) {
		char first[32];
		const char *text = c->keys.text[hints[i].a];

		snprintf(first, sizeof first, "%.*s", (int)strcspn(text, ","), text);
		if (hints[i].a == UI_PRIORITY_UP) {
			char down[32];

			snprintf(down, sizeof down, "%.*s", (int)strcspn(c->keys.text[UI_PRIORITY_DOWN], ","),
				 c->keys.text[UI_PRIORITY_DOWN]);
			len += (size_t)snprintf(line + len, sizeof line - len, " %s/%s %s ", first, down, hints[i].label);
		} else {
			len += (size_t)snprintf(line + len, sizeof line - len, " %s %s ", first, hints[i].label);
		}
	}
	put(y, 0, COLS, A_DIM, 0, line);
}

/* A box in the middle of the screen for help, details and the form; returns its inside. */
static struct area modal(struct console *c, int h, int w, const char *title)
{
	struct area a;

	w = w > COLS - 2 ? COLS - 2 : w;
	h = h > LINES - 2 ? LINES - 2 : h;
	a.y = (LINES - h) / 2;
	a.x = (COLS - w) / 2;
	a.h = h;
	a.w = w;
	for (int y = a.y; y < a.y + h; y++) {
		put(y, a.x, w, A_NORMAL, 0, "");
		put(y, a.x, 1, A_NORMAL, PAIR_DIM, "\u2502");
		put(y, a.x + w - 1, 1, A_NORMAL, PAIR_DIM, "\u2502");
	}
	rule(c, a.y, a.x, w, true, title);
	rule(c, a.y + h - 1, a.x, w, false, "Esc closes");
	return (struct area){a.y + 1, a.x + 1, h - 2, w - 2};
}

/*
 * Splits text into lines of at most w bytes, at a space where there is one and never inside a
 * UTF-8 character; lines after the first start with indent spaces.  Returns how many, up to max.
 */
static int wrap_indented(const char *text, int w, int indent, char out[][256], int max)
{
	int n = 0;

	while (n < max) {
		int room = n ? w - indent : w, len = (int)strlen(text), cut = len;

		if (len > room) {
			cut = room;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				for (cut = room; cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80; cut--)
					;
		}
		snprintf(out[n], 256, "%*s%.*s", n ? indent : 0, "", cut, text);
		n++;
		text += cut;
		while (*text == ' ')
			text++;
		if (!*text)
			break;
	}
	return n;
}

/*
 * The widest layout that fits the screen: key, action name and help in one column; else key and
 * help; else two columns of key and help with the help wrapped, so that nothing is cut at 80x24.
 */
static void draw_help(struct console *c)
{
	int kw = 3, nw = 0, hw = 0, room_w = COLS - 4, room_h = LINES - 4;

	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		int k = (int)strlen(c->keys.text[i]), n = (int)strlen(ui_action_name((enum ui_action)i)),
		    h = (int)strlen(ui_action_help((enum ui_action)i));

		kw = k > kw ? k : kw;
		nw = n > nw ? n : nw;
		hw = h > hw ? h : hw;
	}
	bool names = UI_ACTION_COUNT <= room_h && 1 + kw + 2 + nw + 2 + hw + 1 <= room_w;
	int columns = UI_ACTION_COUNT <= room_h ? 1 : 2;
	int colw = names ? 1 + kw + 2 + nw + 2 + hw + 1 : 1 + kw + 2 + hw + 1;

	if (colw * columns > room_w)
		colw = room_w / columns;
	int helpx = 1 + kw + 2 + (names ? nw + 2 : 0), helpw = colw - helpx - 1;
	int lines[UI_ACTION_COUNT], total = 0, split = UI_ACTION_COUNT, height = 0, run = 0;
	char text[8][256];

	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		lines[i] = wrap_indented(ui_action_help((enum ui_action)i), helpw > 8 ? helpw : 8, 0, text, 8);
		total += lines[i];
	}
	/* Two columns: the first takes entries until it holds half the lines. */
	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		if (columns == 2 && split == UI_ACTION_COUNT && run >= (total + 1) / 2) {
			split = i;
			height = run;
			run = 0;
		}
		run += lines[i];
	}
	height = run > height ? run : height;
	struct area in = modal(c, height + 2, colw * columns + 2, "Keys (change them in [keys] of simq.ini)");
	int row = 0;

	for (int i = 0; i < UI_ACTION_COUNT; i++) {
		int x = in.x + (i >= split ? colw : 0), n;

		if (i == split)
			row = 0;
		n = wrap_indented(ui_action_help((enum ui_action)i), helpw > 8 ? helpw : 8, 0, text, 8);
		for (int l = 0; l < n && row < in.h; l++, row++) {
			if (l == 0 && names)
				putf(in.y + row, x, colw, A_NORMAL, 0, " %-*s  %-*s  %s", kw, c->keys.text[i], nw,
				     ui_action_name((enum ui_action)i), text[l]);
			else
				putf(in.y + row, x, colw, A_NORMAL, 0, " %-*s  %*s%s", kw, l == 0 ? c->keys.text[i] : "",
				     names ? nw + 2 : 0, "", text[l]);
		}
	}
}

static void draw_details(struct console *c)
{
	xmlrpc_value *t = c->details;
	char lines[40][1200], a[512], b[512], d[512], vars[512];
	int n = 0;

	snprintf(lines[n++], sizeof lines[0], "task %lld  %s", (long long)ui_int(t, "id", 0), ui_str(t, "name", a, sizeof a));
	snprintf(lines[n++], sizeof lines[0], "model     %s", ui_str(t, "model", a, sizeof a));
	snprintf(lines[n++], sizeof lines[0], "priority  %s   state %s   attempts %lld", ui_str(t, "priority", a, sizeof a),
		 ui_str(t, "state", b, sizeof b), (long long)ui_int(t, "attempts", 0));
	vars_text(member(t, "vars"), vars, sizeof vars);
	snprintf(lines[n++], sizeof lines[0], "vars      %s", vars[0] ? vars : "(none)");
	vars_text(member(t, "solver"), vars, sizeof vars);
	snprintf(lines[n++], sizeof lines[0], "solver    %s", vars[0] ? vars : "(model's own)");
	snprintf(lines[n++], sizeof lines[0], "submitted %s", ui_str(t, "submitted", a, sizeof a));
	snprintf(lines[n++], sizeof lines[0], "started   %s", ui_str(t, "started", a, sizeof a));
	snprintf(lines[n++], sizeof lines[0], "finished  %s", ui_str(t, "finished", a, sizeof a));
	if (ui_str(t, "error", d, sizeof d)[0])
		snprintf(lines[n++], sizeof lines[0], "error     %.480s", d);
	xmlrpc_value *call = member(t, "call");

	if (call)
		snprintf(lines[n++], sizeof lines[0], "running   on %s, batch %lld of %lld, %.1f s so far",
			 ui_str(call, "backend", a, sizeof a), (long long)ui_int(call, "batch", 0),
			 (long long)ui_int(call, "batch_size", 1), ui_num(call, "elapsed", 0));
	xmlrpc_value *attempts = member(t, "attempt_list");

	for (int i = 0; i < array_size(attempts) && n < 36; i++) {
		xmlrpc_value *at = item(attempts, i);
		char st[64], en[64], be[64], out[32], er[300];

		ui_str(at, "started", st, sizeof st);
		ui_str(at, "ended", en, sizeof en);
		snprintf(lines[n++], sizeof lines[0], "%s #%lld  %.8s-%.8s  %s batch %lld  %s%s%.280s", i ? "         " : "attempts",
			 (long long)ui_int(at, "n", 0), strlen(st) > 11 ? st + 11 : st, strlen(en) > 11 ? en + 11 : "",
			 ui_str(at, "backend", be, sizeof be), (long long)ui_int(at, "batch", 0),
			 ui_str(at, "outcome", out, sizeof out), ui_str(at, "error", er, sizeof er)[0] ? ": " : "", er);
	}
	xmlrpc_value *result = member(t, "result");

	if (result) {
		xmlrpc_value *summary = member(result, "summary");
		xmlrpc_env env;
		int k;

		snprintf(lines[n++], sizeof lines[0], "result    %.300s (%s, %lld points, %lld signals)",
			 ui_str(result, "path", a, sizeof a), ui_str(result, "format", b, sizeof b),
			 (long long)ui_int(result, "points", 0), (long long)ui_int(result, "signals", 0));
		xmlrpc_env_init(&env);
		k = summary && xmlrpc_value_type(summary) == XMLRPC_TYPE_STRUCT ? xmlrpc_struct_size(&env, summary) : 0;
		for (int i = 0; i < k && n < 40; i++) {
			xmlrpc_value *key, *sig;
			const char *name;

			xmlrpc_struct_read_member(&env, summary, (unsigned)i, &key, &sig);
			if (env.fault_occurred)
				break;
			xmlrpc_read_string(&env, key, &name);
			snprintf(lines[n++], sizeof lines[0], "          %-8s min %-12.6g max %-12.6g mean %-12.6g rms %.6g", name,
				 ui_num(sig, "min", 0), ui_num(sig, "max", 0), ui_num(sig, "mean", 0), ui_num(sig, "rms", 0));
			free((void *)name);
			xmlrpc_DECREF(key);
			xmlrpc_DECREF(sig);
		}
		xmlrpc_env_clean(&env);
	}
	/* Long lines (PLECS's words above all) wrap under their value instead of being cut. */
	static char shown[160][256];
	int w = (COLS - 2 < 110 ? COLS - 2 : 110) - 4, m = 0;

	for (int i = 0; i < n && m < 160; i++)
		m += wrap_indented(lines[i], w > 20 ? w : 20, 10, shown + m, 160 - m);
	struct area in = modal(c, m + 4 > 14 ? m + 4 : 14, 110, "Details");

	if (c->details_scroll > m - in.h)
		c->details_scroll = m - in.h > 0 ? m - in.h : 0;
	for (int i = c->details_scroll; i < m && i - c->details_scroll < in.h; i++)
		putf(in.y + i - c->details_scroll, in.x, in.w, A_NORMAL, 0, " %s", shown[i]);
}

void ui_draw(struct console *c)
{
	int rows = LINES, cols = COLS;
	int body = rows - 2;
	bool wide = cols >= WIDE_SCREEN;
	int nrun = array_size(member(c->view, "running"));
	int log_h = body / 4 > 4 ? body / 4 : 4;
	int stats_h = wide ? 0 : 3;
	int run_h = nrun + 1 < 3 ? 3 : nrun + 1;

	if (run_h > body / 4)
		run_h = body / 4 > 3 ? body / 4 : 3;
	int queue_h = body - log_h - stats_h - run_h;
	int main_w = wide ? cols - STATS_COLS - 1 : cols;

	if (queue_h < 4) {
		queue_h = 4;
		log_h = body - queue_h - stats_h - run_h;
	}
	c->rows = rows;
	c->cols = cols;
	erase();
	draw_status(c);
	draw_queue(c, (struct area){1, 0, queue_h, main_w});
	draw_running(c, (struct area){1 + queue_h, 0, run_h, main_w});
	if (wide) {
		for (int y = 1; y < 1 + queue_h + run_h; y++)
			put(y, main_w, 1, A_NORMAL, PAIR_DIM, "\u2502");
		draw_stats(c, (struct area){1, main_w + 1, queue_h + run_h, STATS_COLS}, false);
	} else {
		draw_stats(c, (struct area){1 + queue_h + run_h, 0, stats_h, cols}, true);
	}
	draw_log(c, (struct area){1 + queue_h + run_h + stats_h, 0, log_h, cols});
	draw_hint(c);
	if (c->mode == MODE_HELP)
		draw_help(c);
	else if (c->mode == MODE_DETAILS && c->details)
		draw_details(c);
	else if (c->mode == MODE_FORM && c->form)
		ui_form_draw(c, c->form);
	wnoutrefresh(stdscr);
	doupdate();
	if (c->dump_path) {
		char *tmp = xasprintf("%s.tmp", c->dump_path);
		FILE *fp = fopen(tmp, "w");

		if (fp) {
			for (int y = 0; y < rows; y++) {
				wchar_t w[1024];
				char mb[4096];
				int n = mvinnwstr(y, 0, w, cols < 1023 ? cols : 1023);

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
			rename(tmp, c->dump_path);
		}
		free(tmp);
	}
}
