/* The statistics pane (§9): completed, failed, rates, throughput with its sparkline, batches, call times. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "client/reply.h"
#include "ui/pane.h"
#include "ui/text.h"
#include "util/time.h"

/* On a narrow screen the pane is a strip of this many rows under the running pane: its title and two lines. */
#define STRIP_ROWS 3

/* "▂▃▅▇▇▆▅▃": the last cells minutes of completions, scaled to the busiest. */
static void sparkline(xmlrpc_value *per_minute, char *out, size_t size, int cells)
{
	static const char *const levels[] = {"\u2581", "\u2582", "\u2583", "\u2584",
	                                     "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.-=*#";
	int n = reply_count(per_minute), from = n > cells ? n - cells : 0;
	int64_t most = 0;
	size_t len = 0;

	for (int i = from; i < n; i++) {
		int64_t v = reply_item_int(per_minute, i, 0);

		most = v > most ? v : most;
	}
	out[0] = '\0';
	for (int i = from; i < n && len + 4 < size; i++) {
		int64_t v = reply_item_int(per_minute, i, 0);
		int level = most ? (int)((v * 7 + most - 1) / most) : 0;

		if (screen_utf8())
			len += (size_t)snprintf(out + len, size - len, "%s", levels[level]);
		else
			out[len++] = ascii[level * 5 / 7], out[len] = '\0';
	}
}

/* The figures of one window, as text ready to be laid out. */
struct figures {
	char completed[32], retried[32], cached[32], done[32], failed[32], cancelled[32], success[32], eff[32], per[32];
	char spark[256], per_hour[32], cached_per_hour[32], eta[32], queued[32], running[32], calls[32], batch[32];
	bool bad_rate; /* success under 90 % */
};

/*
 * Why nothing can start, as the dashboard says it after "ETA \u2014": dispatch paused (or every backend
 * that answers is), or no backend UP.  NULL when work can start.  An ETA would count down meanwhile.
 */
static const char *stalled(xmlrpc_value *view)
{
	xmlrpc_value *backends = reply_member(view, "backends");
	int n = reply_count(backends), up = 0, open = 0;

	for (int i = 0; i < n; i++) {
		xmlrpc_value *b = reply_item(backends, i);

		if (!reply_backend_down(b)) {
			up++;
			open += !reply_int(b, "paused", 0);
		}
	}
	if (reply_int(reply_member(view, "stats"), "paused", 0) || (up > 0 && open == 0))
		return "paused";
	return n > 0 && up == 0 ? "no backend UP" : NULL;
}

static void figures_of(struct console *c, xmlrpc_value *w, struct figures *f)
{
	xmlrpc_value *stats = reply_member(c->view, "stats"), *tp = reply_member(c->view, "throughput");
	xmlrpc_value *calls = reply_member(c->view, "calls");
	double rate = reply_num(w, "success_rate", -1), eff = reply_num(w, "retry_effectiveness", -1),
	       per = reply_num(w, "avg_retries_per_failed", -1), e = reply_num(tp, "eta", -1);

	text_grouped(f->completed, sizeof f->completed, reply_int(w, "completed_first", 0));
	text_grouped(f->retried, sizeof f->retried, reply_int(w, "completed_retry", 0));
	text_grouped(f->cached, sizeof f->cached, reply_int(w, "cached", 0));
	text_grouped(f->done, sizeof f->done, reply_int(w, "completed_first", 0) + reply_int(w, "completed_retry", 0));
	text_grouped(f->failed, sizeof f->failed, reply_int(w, "failed", 0));
	text_grouped(f->cancelled, sizeof f->cancelled, reply_int(w, "cancelled", 0));
	text_percent(f->success, sizeof f->success, rate);
	text_percent(f->eff, sizeof f->eff, eff);
	snprintf(f->per, sizeof f->per, per >= 0 ? "%.1f" : "-", per);
	sparkline(reply_member(tp, "per_minute"), f->spark, sizeof f->spark, 12);
	snprintf(f->per_hour, sizeof f->per_hour, "%.0f/h", reply_num(tp, "per_hour", 0));
	/* Completions from the cache cost PLECS nothing: their own rate, not in throughput or the ETA. */
	f->cached_per_hour[0] = '\0';
	if (reply_num(tp, "cached_per_hour", 0) >= 0.5)
		snprintf(f->cached_per_hour, sizeof f->cached_per_hour, ", %.0f/h", reply_num(tp, "cached_per_hour", 0));
	const char *why = e != 0 ? stalled(c->view) : NULL;

	/* Nothing can start, no estimate (nothing finished lately), or nothing left to drain. */
	if (why)
		snprintf(f->eta, sizeof f->eta, "\u2014 %s", why);
	else if (e <= 0)
		snprintf(f->eta, sizeof f->eta, "-");
	else
		time_format_duration(f->eta, sizeof f->eta, e);
	text_grouped(f->queued, sizeof f->queued, reply_int(stats, "queued", 0));
	text_grouped(f->running, sizeof f->running, reply_int(stats, "running", 0));
	text_grouped(f->calls, sizeof f->calls, reply_int(calls, "calls", 0));
	snprintf(f->batch, sizeof f->batch, "%.1f", reply_num(calls, "mean_batch", 0));
	f->bad_rate = rate >= 0 && rate < 0.9;
}

/* The column's lines (each within 43 cells), for a screen wide enough for a column. */
static int column_lines(const struct figures *f, char lines[][128])
{
	int n = 0;

	snprintf(lines[n++], 128, "completed %9s first try", f->completed);
	snprintf(lines[n++], 128, "          %9s after retry", f->retried);
	snprintf(lines[n++], 128, "          %9s from the cache%s", f->cached, f->cached_per_hour);
	snprintf(lines[n++], 128, "failed    %9s   cancelled %s", f->failed, f->cancelled);
	snprintf(lines[n++], 128, "success   %9s   ETA %s", f->success, f->eta);
	snprintf(lines[n++], 128, "retry eff.%9s   retries/failed %s", f->eff, f->per);
	snprintf(lines[n++], 128, "throughput %s %s", f->spark, f->per_hour);
	snprintf(lines[n++], 128, "queued    %9s   running %s", f->queued, f->running);
	snprintf(lines[n++], 128, "calls     %9s   batch avg %s", f->calls, f->batch);
	return n;
}

/* Appends " · part" to line when it fits in width cells; false when it did not. */
static bool join(char *line, size_t size, int width, const char *part)
{
	char next[512];

	snprintf(next, sizeof next, "%s%s%s", line, line[0] ? " \u00b7 " : " ", part);
	if (screen_width(next) > width)
		return false;
	snprintf(line, size, "%s", next);
	return true;
}

/*
 * The strip's two lines on a narrow screen, what matters most first: the success rate, ETA,
 * throughput, queued and running on the first; the counts on the second, as many as fit.
 */
static void strip_lines(const struct figures *f, int width, char lines[2][512])
{
	char part[128];
	bool room = true;

	lines[0][0] = lines[1][0] = '\0';
	snprintf(part, sizeof part, "success %s", f->success);
	join(lines[0], 512, width, part);
	snprintf(part, sizeof part, "ETA %s", f->eta);
	join(lines[0], 512, width, part);
	snprintf(part, sizeof part, "%s %s", f->per_hour, f->spark);
	if (!join(lines[0], 512, width, part))
		join(lines[0], 512, width, f->per_hour);
	snprintf(part, sizeof part, "queued %s", f->queued);
	join(lines[0], 512, width, part);
	snprintf(part, sizeof part, "running %s", f->running);
	join(lines[0], 512, width, part);
	/* The total first: "completed 720 (238 after retry)" read as 720 in all when 958 were. */
	snprintf(part, sizeof part, "completed %s (%s after retry)", f->done, f->retried);
	room = join(lines[1], 512, width, part);
	snprintf(part, sizeof part, "failed %s", f->failed);
	room = room && join(lines[1], 512, width, part);
	snprintf(part, sizeof part, "cancelled %s", f->cancelled);
	room = room && join(lines[1], 512, width, part);
	snprintf(part, sizeof part, "cached %s", f->cached);
	room = room && join(lines[1], 512, width, part);
	snprintf(part, sizeof part, "retry eff. %s", f->eff);
	room = room && join(lines[1], 512, width, part);
	snprintf(part, sizeof part, "retries/failed %s", f->per);
	room = room && join(lines[1], 512, width, part);
	snprintf(part, sizeof part, "batch avg %s", f->batch);
	room = room && join(lines[1], 512, width, part);
}

/* Each model's call time, mean and p95 of its recent calls, from row on, as many as there are rows. */
static void draw_models(struct console *c, struct screen_area a, int row)
{
	xmlrpc_value *models = reply_member(reply_member(c->view, "calls"), "models");

	if (reply_count(models) > 0 && row < a.h)
		screen_put(a.y + row++, a.x, a.w, A_DIM, 0, " call time      mean     p95");
	for (int i = 0; i < reply_count(models) && row < a.h; i++, row++) {
		xmlrpc_value *m = reply_item(models, i);
		char model[512], mean[32], p95[32];

		reply_str(m, "model", model, sizeof model);
		time_format_duration(mean, sizeof mean, reply_num(m, "mean", 0));
		time_format_duration(p95, sizeof p95, reply_num(m, "p95", 0));
		screen_putf(a.y + row, a.x, a.w, A_NORMAL, 0, " %-14.14s %-8s %s", text_base_name(model), mean, p95);
	}
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	static const char *const windows[] = {"since_start", "day", "all"};
	static const char *const titles[] = {"since start", "last 24 h", "all time"};
	xmlrpc_value *stats = reply_member(c->view, "stats");
	xmlrpc_value *w = reply_member(reply_member(stats, "windows"), windows[c->stats_window]);
	struct figures f;
	char title[64];

	snprintf(title, sizeof title, "Statistics \u00b7 %s  [%s]", titles[c->stats_window],
	         c->keys.text[UI_STATS_WINDOW]);
	screen_rule(a.y, a.x, a.w, false, title);
	figures_of(c, w, &f);
	if (a.h <= STRIP_ROWS) {
		char lines[2][512];

		strip_lines(&f, a.w, lines);
		for (int i = 0; i < 2 && i + 1 < a.h; i++)
			screen_put(a.y + 1 + i, a.x, a.w, A_NORMAL, i == 0 && f.bad_rate ? PAIR_BAD : 0, lines[i]);
		return;
	}
	char lines[9][128];
	int n = column_lines(&f, lines);

	for (int i = 0; i < n && i + 1 < a.h; i++)
		screen_putf(a.y + 1 + i, a.x, a.w, A_NORMAL, i == 4 && f.bad_rate ? PAIR_BAD : 0, " %s", lines[i]);
	draw_models(c, a, n + 1);
}

const struct pane_ops pane_stats = {
    .name = "stats",
    .draw = draw,
};
