#include "autoconf.h"

#include "ui/title.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/reply.h"
#include "client/summary.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* The focus reports as keys of their own (ncurses codes past its own). */
#define KEY_FOCUS_IN (KEY_MAX + 1)
#define KEY_FOCUS_OUT (KEY_MAX + 2)

static struct {
	char *title;    /* the pane's name as last set */
	bool away;      /* the terminal said the pane lost the focus, and nothing since says otherwise */
} t;

static void put(const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, s, len);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

void title_start(void)
{
	define_key("\033[I", KEY_FOCUS_IN);
	define_key("\033[O", KEY_FOCUS_OUT);
	put("\033[?1004h");
}

void title_stop(void)
{
	static const char off[] = "\033[?1004l";

	if (write(STDOUT_FILENO, off, sizeof off - 1) < 0)
		return;
}

/*
 * The operator sees the view: its failures are not new any more.  The mark is the view's own count (a
 * failure that came after it is still new) and the server keeps it, so a restarted server starts afresh.
 */
static void mark_seen(struct console *c, xmlrpc_value *view)
{
	xmlrpc_value *status = reply_member(view, "status");
	int64_t failures = reply_int(status, "failures", 0);

	if (t.away || status == NULL || failures <= reply_int(status, "failures_seen", 0))
		return;
	xmlrpc_value *r = ui_call(c, "simq.status", "(I)", (xmlrpc_int64)failures);

	if (r)
		xmlrpc_DECREF(r);
}

bool title_key(struct console *c, int key)
{
	bool was_away = t.away;

	if (key == (UI_KEY_FN | KEY_FOCUS_OUT)) {
		t.away = true;
		return true;
	}
	t.away = false;
	if (was_away)
		mark_seen(c, c->view);
	return key == (UI_KEY_FN | KEY_FOCUS_IN);
}

void title_view(struct console *c, xmlrpc_value *view)
{
	struct summary s;
	char *line, *err = NULL;

	if (view) {
		summary_read(reply_member(view, "status"), &s);
		line = summary_format(&s, NULL, summary_locale_utf8() ? 0 : SUMMARY_ASCII, &err);
		free(err);
		mark_seen(c, view);
	} else {
		line = xstrdup("simq: no server");
	}
	if (line && (t.title == NULL || strcmp(line, t.title) != 0)) {
		struct buf osc = BUF_INIT;

		buf_addf(&osc, "\033]2;%s\033\\", line);
		put(buf_str(&osc));
		buf_free(&osc);
		free(t.title);
		t.title = line;
	} else {
		free(line);
	}
}
