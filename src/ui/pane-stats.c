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

/* The pane's seven lines for the window w of the statistics. */
static void stats_lines(struct console *c, xmlrpc_value *w, char lines[7][256])
{
	xmlrpc_value *stats = reply_member(c->view, "stats"), *tp = reply_member(c->view, "throughput");
	xmlrpc_value *calls = reply_member(c->view, "calls");
	char n1[32], n2[32], n3[32], n4[32], spark[256], eta[32];
	double rate = reply_num(w, "success_rate", -1), eff = reply_num(w, "retry_effectiveness", -1),
	       per = reply_num(w, "avg_retries_per_failed", -1), e = reply_num(tp, "eta", -1);

	sparkline(reply_member(tp, "per_minute"), spark, sizeof spark, 12);
	if (e < 0)
		snprintf(eta, sizeof eta, "-");
	else
		time_format_duration(eta, sizeof eta, e);
	snprintf(lines[0], 256, "completed %s first try, %s after retry",
	         text_grouped(n1, sizeof n1, reply_int(w, "completed_first", 0)),
	         text_grouped(n2, sizeof n2, reply_int(w, "completed_retry", 0)));
	snprintf(lines[1], 256, "failed %s   cancelled %s", text_grouped(n3, sizeof n3, reply_int(w, "failed", 0)),
	         text_grouped(n4, sizeof n4, reply_int(w, "cancelled", 0)));
	if (rate >= 0)
		snprintf(lines[2], 256, "success %.1f %%", 100 * rate);
	else
		snprintf(lines[2], 256, "success -");
	snprintf(lines[3], 256, "retry eff. %s   retries/failed %s",
	         eff >= 0 ? (snprintf(n1, sizeof n1, "%.1f %%", 100 * eff), n1) : "-",
	         per >= 0 ? (snprintf(n2, sizeof n2, "%.1f", per), n2) : "-");
	snprintf(lines[4], 256, "throughput %s %.0f/h  ETA %s", spark, reply_num(tp, "per_hour", 0), eta);
	snprintf(lines[5], 256, "queued %s   running %s", text_grouped(n1, sizeof n1, reply_int(stats, "queued", 0)),
	         text_grouped(n2, sizeof n2, reply_int(stats, "running", 0)));
	snprintf(lines[6], 256, "calls %s   batch avg %.1f", text_grouped(n3, sizeof n3, reply_int(calls, "calls", 0)),
	         reply_num(calls, "mean_batch", 0));
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
	double rate = reply_num(w, "success_rate", -1);
	char title[64], lines[7][256];

	snprintf(title, sizeof title, "Statistics \u00b7 %s  [%s]", titles[c->stats_window],
	         c->keys.text[UI_STATS_WINDOW]);
	screen_rule(a.y, a.x, a.w, false, title);
	stats_lines(c, w, lines);
	if (a.h <= STRIP_ROWS) {
		screen_putf(a.y + 1, a.x, a.w, A_NORMAL, 0, " %s \u00b7 %s \u00b7 %s", lines[0], lines[1], lines[2]);
		if (a.h > 2)
			screen_putf(a.y + 2, a.x, a.w, A_NORMAL, 0, " %s \u00b7 %s \u00b7 %s \u00b7 %s", lines[3],
			            lines[4], lines[5], lines[6]);
		return;
	}
	for (int i = 0; i < 7 && i + 1 < a.h; i++)
		screen_putf(a.y + 1 + i, a.x, a.w, A_NORMAL, i == 2 && rate >= 0 && rate < 0.9 ? PAIR_BAD : 0, " %s",
		            lines[i]);
	draw_models(c, a, 8);
}

const struct pane_ops pane_stats = {
    .name = "stats",
    .draw = draw,
};
