/* The status bar: state dir, backends UP/DOWN with their slots, paused, the clock. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/reply.h"
#include "ui/pane.h"

/* " · plecs@ws1 ● UP 1/1" for each backend. */
static size_t backends_text(xmlrpc_value *backends, char *line, size_t len, size_t size)
{
	for (int i = 0; i < reply_count(backends) && len < size - 128; i++) {
		xmlrpc_value *b = reply_item(backends, i);
		char name[64];
		bool up = reply_int(b, "up", 0) != 0, paused = reply_int(b, "paused", 0) != 0;

		reply_str(b, "name", name, sizeof name);
		if (up)
			len += (size_t)snprintf(line + len, size - len, " \u00b7 %s %s UP %lld/%lld%s", name, "\u25cf",
			                        (long long)reply_int(b, "busy", 0), (long long)reply_int(b, "slots", 0),
			                        paused ? " paused" : "");
		else
			len += (size_t)snprintf(line + len, size - len, " \u00b7 %s %s DOWN (probe in %.0fs)", name,
			                        "\u25cb", reply_num(b, "probe_in", 0));
	}
	return len;
}

static void draw(struct console *c, struct screen_area a, bool focused)
{
	char line[2048], buf[256], clock[16];
	size_t len;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	len = (size_t)snprintf(line, sizeof line, " simq \u00b7 %s",
	                       c->view ? reply_str(c->view, "state_dir", buf, sizeof buf) : client_state_dir(c->conn));
	/* No answer: what is on screen is the last answer's, and the status bar says from when. */
	if (!c->connected && c->view) {
		time_t at = (time_t)(c->view_at_ms / 1000);
		char when[16];

		localtime_r(&at, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		len += (size_t)snprintf(line + len, sizeof line - len, " \u00b7 NO ANSWER \u00b7 as of %s", when);
	}
	len = backends_text(c->connected ? reply_member(c->view, "backends") : NULL, line, len, sizeof line);
	if (c->view && reply_int(c->view, "paused", 0)) {
		/* Paused by simq itself (no room for results): why, up to the first ';' (the rest is in the log). */
		char why[160];

		reply_str(c->view, "pause_reason", why, sizeof why);
		why[strcspn(why, ";")] = '\0';
		len += (size_t)snprintf(line + len, sizeof line - len, " \u00b7 PAUSED%s%s", why[0] ? ": " : "", why);
	}
	int cw = (int)strlen(clock) + 1;

	screen_put(a.y, a.x, a.w - cw, A_REVERSE, 0, line);
	screen_putf(a.y, a.x + a.w - cw, cw, A_REVERSE, 0, "%s ", clock);
}

const struct pane_ops pane_status = {
    .name = "status",
    .draw = draw,
};
