/*
 * The status bar: what needs the operator first.  NO ANSWER (the rows are
 * the last answer's) before all, then each backend with its state in its own
 * colour (UP green, DOWN red, CHECKING and PAUSED yellow), dispatch PAUSED and
 * why, the state directory last and shortened, the clock and its zone at the
 * right.  When the bar is too narrow the path and the backends' slots go
 * first, then backends past the room ("+2 more"); why dispatch is paused stays,
 * cut at the clock if it must be.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/reply.h"
#include "ui/pane.h"
#include "ui/text.h"

#define SEGMENTS 48

/* A piece of the bar in its own attributes. */
struct segment {
	char text[192];
	attr_t attr;
	short pair;
};

struct bar {
	struct segment seg[SEGMENTS];
	int n;
};

static void add(struct bar *b, attr_t attr, short pair, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct bar *b, attr_t attr, short pair, const char *fmt, ...)
{
	va_list ap;

	if (b->n >= SEGMENTS)
		return;
	va_start(ap, fmt);
	vsnprintf(b->seg[b->n].text, sizeof b->seg[b->n].text, fmt, ap);
	va_end(ap);
	b->seg[b->n].attr = attr;
	b->seg[b->n].pair = pair;
	b->n++;
}

static int bar_width(const struct bar *b)
{
	int w = 0;

	for (int i = 0; i < b->n; i++)
		w += screen_width(b->seg[i].text);
	return w;
}

/* One backend: " emu " then its state in its colour, "● UP 1/2", "○ DOWN probe 20s"; slots: with busy/slots. */
static void add_backend(struct bar *b, xmlrpc_value *be, double since, bool slots)
{
	char name[64];
	double probe = reply_num(be, "probe_in", 0) - since;

	char job[64];

	reply_str(be, "name", name, sizeof name);
	/* A pool's instance shows its Slurm job where there is room: "emu-12 (job 12)". */
	if (reply_str(be, "job", job, sizeof job)[0] && slots)
		add(b, A_REVERSE, 0, " %s (job %s) ", name, job);
	else
		add(b, A_REVERSE, 0, " %s ", name);
	if (!reply_int(be, "up", 0)) {
		if (probe >= 0.5)
			add(b, A_REVERSE | A_BOLD, PAIR_BAD, "\u25cb DOWN probe %.0fs", probe);
		else
			add(b, A_REVERSE | A_BOLD, PAIR_BAD, "\u25cb DOWN probing");
	} else if (reply_int(be, "checking", 0)) {
		add(b, A_REVERSE | A_BOLD, PAIR_WARN, "\u25cc CHECKING");
	} else if (reply_int(be, "paused", 0)) {
		add(b, A_REVERSE | A_BOLD, PAIR_WARN, "\u25cf PAUSED");
	} else if (slots) {
		add(b, A_REVERSE | A_BOLD, PAIR_GOOD, "\u25cf UP %lld/%lld", (long long)reply_int(be, "busy", 0),
		    (long long)reply_int(be, "slots", 0));
	} else {
		add(b, A_REVERSE | A_BOLD, PAIR_GOOD, "\u25cf UP");
	}
}

/* Pool jobs that are not backends yet: " · 2 jobs pending" (Slurm has them queued or starting). */
static void add_pool_jobs(struct console *c, struct bar *b)
{
	xmlrpc_value *inst = c->connected && c->view ? reply_member(c->view, "pool_instances") : NULL;
	char state[32];
	int pending = 0, starting = 0;

	for (int i = 0; i < reply_count(inst); i++) {
		reply_str(reply_item(inst, i), "state", state, sizeof state);
		pending += strcmp(state, "pending") == 0 || strcmp(state, "submitting") == 0;
		starting += strcmp(state, "started") == 0;
	}
	if (pending)
		add(b, A_REVERSE, 0, "%s%d job%s pending", b->n > 0 ? " \u00b7 " : " ", pending, pending == 1 ? "" : "s");
	if (starting)
		add(b, A_REVERSE, 0, "%s%d starting", b->n > 0 ? " \u00b7 " : " ", starting);
}

/*
 * The bar's pieces with as much as fits in width: detail 2 has everything, 1 leaves out the
 * backends' slots and the path (why dispatch is paused matters more); backends that do not fit
 * are counted.
 */
static void build(struct console *c, struct bar *b, int width, int detail)
{
	xmlrpc_value *backends = c->view ? reply_member(c->view, "backends") : NULL;
	double since = (double)(ui_now_ms() - c->view_at_ms) / 1000;
	char buf[512], path[256];

	b->n = 0;
	if (!c->connected && c->view) {
		add(b, A_REVERSE | A_BOLD, PAIR_BAD, " NO ANSWER");
		add(b, A_REVERSE, 0, " as of %s", text_clock(buf, sizeof buf, c->view_at_ms));
	}
	int nb = c->connected ? reply_count(backends) : 0, shown = 0;

	for (int i = 0; i < nb; i++) {
		struct bar trial = *b;

		if (trial.n > 0)
			add(&trial, A_REVERSE, 0, " \u00b7");
		add_backend(&trial, reply_item(backends, i), since, detail >= 2);
		/* Room for this one and for the "+N more" the next ones would need. */
		if (bar_width(&trial) + (i + 1 < nb ? 10 : 0) > width - 20 && shown > 0)
			break;
		*b = trial;
		shown++;
	}
	if (shown < nb)
		add(b, A_REVERSE | A_BOLD, 0, " +%d more", nb - shown);
	add_pool_jobs(c, b);
	if (c->view && reply_int(c->view, "paused", 0)) {
		/* Paused by simq itself (no room for results, simq.db cannot save): why, up to the first ';' (the rest
		 * is in the log and simq stats). */
		char why[160];

		reply_str(c->view, "pause_reason", why, sizeof why);
		why[strcspn(why, ";")] = '\0';
		add(b, A_REVERSE, 0, b->n > 0 ? " \u00b7 " : " ");
		add(b, A_REVERSE | A_BOLD, PAIR_WARN, "PAUSED%s%s", why[0] ? ": " : "", why);
	}
	if (detail >= 2) {
		const char *dir = c->view ? reply_str(c->view, "state_dir", buf, sizeof buf) : client_state_dir(c->conn);

		add(b, A_REVERSE, 0, "%s%s", b->n > 0 ? " \u00b7 " : " ", text_short_path(path, sizeof path, dir, 16));
	}
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	char clock[64], hms[16], zone[16];
	time_t now = (time_t)(ui_now_ms() / 1000);
	struct tm tm;
	struct bar b;

	/* The zone, once on screen: every time the console shows is in it. */
	localtime_r(&now, &tm);
	strftime(zone, sizeof zone, "%Z", &tm);
	snprintf(clock, sizeof clock, " %s %s ", text_clock(hms, sizeof hms, ui_now_ms()), zone);
	int cw = screen_width(clock), room = a.w - cw;

	for (int detail = 2; detail >= 1; detail--) {
		build(c, &b, room, detail);
		if (bar_width(&b) <= room)
			break;
	}
	int x = a.x;

	for (int i = 0; i < b.n && x < a.x + room; i++) {
		int w = screen_width(b.seg[i].text);

		if (w > a.x + room - x)
			w = a.x + room - x;
		screen_put(a.y, x, w, b.seg[i].attr, b.seg[i].pair, b.seg[i].text);
		x += w;
	}
	screen_put(a.y, x, a.x + room - x, A_REVERSE, 0, "");
	screen_put(a.y, a.x + room, cw, A_REVERSE, 0, clock);
}

const struct pane_ops pane_status = {
    .name = "status",
    .draw = draw,
};
