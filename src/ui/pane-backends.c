/*
 * The backends pane, in the statistics' place while shown (b): each backend
 * with its state in its colour, its busy and total slots, the calls in a row
 * it has not answered, how long the present outage has lasted and when the
 * next probe goes, the time it was DOWN since the server started, and its URL;
 * a [pool NAME] instance with its Slurm job.  Then the pools' jobs that are
 * not backends: pending in the cluster, started and not registered yet, or
 * released and ending.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "client/reply.h"
#include "ui/pane.h"
#include "ui/text.h"
#include "util/time.h"

/* "● UP", "○ DOWN", "◌ CHECKING", "● PAUSED" and their colour. */
static const char *state_of(xmlrpc_value *b, short *pair)
{
	if (reply_backend_down(b)) {
		*pair = PAIR_BAD;
		return "\u25cb DOWN";
	}
	if (reply_int(b, "checking", 0)) {
		*pair = PAIR_WARN;
		return "\u25cc CHECKING";
	}
	if (reply_int(b, "paused", 0)) {
		*pair = PAIR_WARN;
		return "\u25cf PAUSED";
	}
	*pair = PAIR_GOOD;
	return "\u25cf UP";
}

/* What a backend is doing now: its slots, or its outage and next probe. */
static void now_text(xmlrpc_value *b, double since, char *out, size_t size)
{
	char d[32], p[32];
	double probe = reply_num(b, "probe_in", 0) - since;

	if (reply_int(b, "up", 0)) {
		snprintf(out, size, "%lld/%lld busy", (long long)reply_int(b, "busy", 0),
		         (long long)reply_int(b, "slots", 0));
		return;
	}
	time_format_duration(d, sizeof d, reply_num(b, "down_for", 0) + since);
	if (probe >= 0.5)
		snprintf(p, sizeof p, "probe in %.0fs", probe);
	else
		snprintf(p, sizeof p, "probing");
	snprintf(out, size, "%s \u00b7 for %s \u00b7 %lld unanswered", p, d, (long long)reply_int(b, "failures", 0));
}

/* The name column: as wide as the longest name (whole names and job ids), 9 to a third of the pane. */
static int name_width(struct console *c, struct screen_area a)
{
	xmlrpc_value *list = reply_member(c->view, "backends");
	int w = 9, most = a.w / 3 > 9 ? a.w / 3 : 9;
	char name[64];

	for (int i = 0; i < reply_count(list); i++) {
		int n = (int)strlen(reply_str(reply_item(list, i), "name", name, sizeof name));

		w = n > w ? n : w;
	}
	return w < most ? w : most;
}

/* A pool that is FAILING or UNLISTED: one red line saying why, from row on; returns the next row. */
static int draw_pools(struct console *c, struct screen_area a, int row)
{
	xmlrpc_value *pools = reply_member(c->view, "pools");

	for (int i = 0; i < reply_count(pools) && row < a.h; i++) {
		xmlrpc_value *p = reply_item(pools, i);
		char name[64], health[16], problem[512], output[256], next[32];

		if (strcmp(reply_str(p, "health", health, sizeof health), "ok") == 0)
			continue;
		reply_str(p, "name", name, sizeof name);
		reply_str(p, "problem", problem, sizeof problem);
		reply_str(p, "output", output, sizeof output);
		time_format_duration(next, sizeof next, reply_num(p, "next_try", 0));
		screen_putf(a.y + row, a.x + 1, a.w - 2, A_BOLD, PAIR_BAD, "pool %s %s: %s; next try in %s%s%s", name,
		            strcmp(health, "failing") == 0 ? "FAILING" : "UNLISTED", problem, next,
		            output[0] ? "; see " : "", output);
		row++;
	}
	return row;
}

/* The pools' jobs that are not backends now, one line each, from row on; returns the next row. */
static int draw_jobs(struct console *c, struct screen_area a, int row)
{
	xmlrpc_value *inst = reply_member(c->view, "pool_instances");
	double since = (double)(ui_now_ms() - c->view_at_ms) / 1000;

	for (int i = 0; i < reply_count(inst) && row < a.h; i++) {
		xmlrpc_value *p = reply_item(inst, i);
		char pool[64], job[64], state[32], node[64], age[32], reason[64];
		int w = name_width(c, a);

		if (strcmp(reply_str(p, "state", state, sizeof state), "registered") == 0)
			continue;
		reply_str(p, "pool", pool, sizeof pool);
		reply_str(p, "job", job, sizeof job);
		reply_str(p, "node", node, sizeof node);
		reply_str(p, "reason", reason, sizeof reason);
		time_format_duration(age, sizeof age, reply_num(p, "age", 0) + since);
		screen_putf(a.y + row, a.x + 1, w + 1, A_BOLD, 0, "%-*.*s", w, w, pool);
		screen_putf(a.y + row, a.x + w + 2, a.w - w - 3, A_DIM, 0, "job %s %s %s%s%s%s%s%s",
			    job[0] ? job : "(submitting)", state, age, node[0] ? " on " : "", node, reason[0] ? " (" : "",
			    reason, reason[0] ? ")" : "");
		row++;
	}
	return row;
}

/* Pool jobs that are not backends (pending, starting, ending). */
static int jobs_waiting(struct console *c)
{
	xmlrpc_value *inst = reply_member(c->view, "pool_instances");
	char state[32];
	int n = 0;

	for (int i = 0; i < reply_count(inst); i++)
		n += strcmp(reply_str(reply_item(inst, i), "state", state, sizeof state), "registered") != 0;
	return n;
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	xmlrpc_value *list = reply_member(c->view, "backends");
	int n = reply_count(list), down = 0, row = 1, jobs = jobs_waiting(c);
	double since = (double)(ui_now_ms() - c->view_at_ms) / 1000;
	/* Two lines a backend where the pane has the room, one where it is a strip. */
	bool two = a.h - 1 >= 2 * n;
	char title[96];
	int w = name_width(c, a);

	for (int i = 0; i < n; i++)
		down += reply_backend_down(reply_item(list, i));
	snprintf(title, sizeof title, "Backends %d%s%.0d%s%s%.0d%s  [%s]", n, down ? " \u00b7 " : "", down,
	         down ? " DOWN" : "", jobs ? " \u00b7 " : "", jobs, jobs ? " pool jobs" : "", c->keys.text[UI_BACKENDS]);
	screen_rule(a.y, a.x, a.w, false, title);
	for (int i = 0; i < n && row < a.h; i++) {
		xmlrpc_value *b = reply_item(list, i);
		char name[64], url[256], what[160], downtime[32], line[512], job[64];
		short pair;
		const char *state = state_of(b, &pair);
		int x = a.x + 1;

		/* No room for this one and those after it: say how many are left. */
		if (i + 1 < n && row + 1 >= a.h) {
			screen_putf(a.y + row, a.x, a.w, A_DIM, 0, " +%d more", n - i);
			break;
		}
		reply_str(b, "name", name, sizeof name);
		now_text(b, since, what, sizeof what);
		/* A pool's instance: its Slurm job. */
		if (reply_str(b, "job", job, sizeof job)[0])
			snprintf(what + strlen(what), sizeof what - strlen(what), " \u00b7 job %s", job);
		screen_putf(a.y + row, x, w + 1, A_BOLD, 0, "%-*.*s", w, w, name);
		screen_put(a.y + row, x + w + 1, 12, A_BOLD, pair, state);
		screen_put(a.y + row, x + w + 13, a.w - w - 14, A_NORMAL, 0, what);
		row++;
		if (two && row < a.h) {
			if (reply_num(b, "downtime", 0) >= 1) {
				time_format_duration(downtime, sizeof downtime, reply_num(b, "downtime", 0));
				snprintf(line, sizeof line, "down %s since start \u00b7 %s", downtime,
				         reply_str(b, "url", url, sizeof url));
			} else {
				snprintf(line, sizeof line, "never down since start \u00b7 %s",
				         reply_str(b, "url", url, sizeof url));
			}
			screen_put(a.y + row, x + w + 1, a.w - w - 2, A_DIM, 0, line);
			row++;
		}
	}
	row = draw_jobs(c, a, row);
	row = draw_pools(c, a, row);
	if (n == 0 && jobs == 0 && row == 1 && a.h > 1)
		screen_put(a.y + 1, a.x, a.w, A_DIM, 0, " no backend: set [backend NAME] url in simq.ini");
}

const struct pane_ops pane_backends = {
    .name = "backends",
    .draw = draw,
};
