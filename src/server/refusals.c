#include "autoconf.h"

#include "server/refusals.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "util/xalloc.h"

struct refusals {
	struct ev_loop *loop;
	struct engine *engine;
	ev_async first;              /* an interval begins: log its first refusal */
	ev_timer interval;
	pthread_mutex_t lock;        /* the fields below */
	bool open;                   /* an interval runs: refusals are counted, not logged */
	bool stopped;
	uint64_t counted, total;
	char first_line[320];
	char last_peer[64], last_why[160];
	struct refusals_words what;
};

static void on_first(struct ev_loop *loop, ev_async *w, int revents);
static void on_interval(struct ev_loop *loop, ev_timer *w, int revents);

struct refusals *refusals_new(struct ev_loop *loop, struct engine *e, double interval_s,
                              const struct refusals_words *what)
{
	struct refusals *r = xcalloc(1, sizeof *r);

	r->what = *what;
	r->loop = loop;
	r->engine = e;
	pthread_mutex_init(&r->lock, NULL);
	ev_async_init(&r->first, on_first);
	r->first.data = r;
	ev_async_start(loop, &r->first);
	ev_timer_init(&r->interval, on_interval, interval_s, interval_s);
	r->interval.data = r;
	return r;
}

void refusals_note(struct refusals *r, const char *peer, const char *why)
{
	pthread_mutex_lock(&r->lock);
	r->total++;
	if (!r->open && !r->stopped) {
		r->open = true;
		snprintf(r->first_line, sizeof r->first_line, "refused a %s from %s: %.159s", r->what.client, peer,
		         why);
		/* Under the lock: once stopped, nothing is sent to the loop any more. */
		ev_async_send(r->loop, &r->first);
	} else {
		r->counted++;
		snprintf(r->last_peer, sizeof r->last_peer, "%s", peer);
		snprintf(r->last_why, sizeof r->last_why, "%s", why);
	}
	pthread_mutex_unlock(&r->lock);
}

uint64_t refusals_total(struct refusals *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->total;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void on_first(struct ev_loop *loop, ev_async *w, int revents)
{
	struct refusals *r = w->data;
	char line[sizeof r->first_line];

	pthread_mutex_lock(&r->lock);
	snprintf(line, sizeof line, "%s", r->first_line);
	pthread_mutex_unlock(&r->lock);
	engine_log(r->engine, SEVERITY_WARNING, 0, "%s (more in the next %g s are counted in one line)", line,
		   r->interval.repeat);
	ev_timer_again(loop, &r->interval);
}

/* Logs the refusals counted since the last line; false when there were none. */
static bool log_counted(struct refusals *r)
{
	uint64_t n;
	char peer[sizeof r->last_peer], why[sizeof r->last_why];

	pthread_mutex_lock(&r->lock);
	n = r->counted;
	r->counted = 0;
	snprintf(peer, sizeof peer, "%s", r->last_peer);
	snprintf(why, sizeof why, "%s", r->last_why);
	if (n == 0)
		r->open = false;
	pthread_mutex_unlock(&r->lock);
	if (n > 0)
		engine_log(r->engine, SEVERITY_WARNING, 0, "refused %llu more %s%s (the last from %s: %s)",
		           (unsigned long long)n, r->what.request, n == 1 ? "" : "s", peer, why);
	return n > 0;
}

/* An interval ended: one line for its refusals, and another interval; none, and the next refusal is logged at once. */
static void on_interval(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct refusals *r = w->data;

	if (!log_counted(r))
		ev_timer_stop(loop, w);
}

void refusals_stop(struct refusals *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopped = true;
	pthread_mutex_unlock(&r->lock);
	if (ev_async_pending(&r->first))
		on_first(r->loop, &r->first, 0);
	log_counted(r);
	ev_timer_stop(r->loop, &r->interval);
	ev_async_stop(r->loop, &r->first);
}

void refusals_free(struct refusals **rp)
{
	if (*rp == NULL)
		return;
	pthread_mutex_destroy(&(*rp)->lock);
	xfree(rp);
}
