#include "autoconf.h"

#include "server/loopclock.h"

#include <stdlib.h>

#include "util/time.h"
#include "util/xalloc.h"

struct clock_timer {
	ev_timer w;
	struct ev_loop *loop;
	clock_fn fn;
	void *arg;
};

static int64_t now_ms(void *impl)
{
	return time_wall_ns() / 1000000;
}

static void fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct clock_timer *t = w->data;

	t->fn(t->arg);
}

static struct clock_timer *timer_new(void *impl, clock_fn fn, void *arg)
{
	struct clock_timer *t = xcalloc(1, sizeof *t);

	t->loop = impl;
	t->fn = fn;
	t->arg = arg;
	ev_timer_init(&t->w, fire, 1, 0);
	t->w.data = t;
	return t;
}

static void timer_start(struct clock_timer *t, double seconds)
{
	ev_timer_stop(t->loop, &t->w);
	ev_timer_set(&t->w, seconds, 0);
	ev_timer_start(t->loop, &t->w);
}

static void timer_stop(struct clock_timer *t)
{
	ev_timer_stop(t->loop, &t->w);
}

static bool timer_active(const struct clock_timer *t)
{
	return ev_is_active(&t->w);
}

static double timer_remaining(const struct clock_timer *t)
{
	return ev_is_active(&t->w) ? ev_timer_remaining(t->loop, (ev_timer *)&t->w) : 0;
}

static void timer_free(struct clock_timer *t)
{
	ev_timer_stop(t->loop, &t->w);
	free(t);
}

struct clock_wake {
	ev_async w;
	struct ev_loop *loop;
	clock_fn fn;
	void *arg;
};

static void woken(struct ev_loop *loop, ev_async *w, int revents)
{
	struct clock_wake *k = w->data;

	k->fn(k->arg);
}

static struct clock_wake *wake_new(void *impl, clock_fn fn, void *arg)
{
	struct clock_wake *k = xcalloc(1, sizeof *k);

	k->loop = impl;
	k->fn = fn;
	k->arg = arg;
	ev_async_init(&k->w, woken);
	k->w.data = k;
	ev_async_start(k->loop, &k->w);
	return k;
}

/* Any thread: ev_async_send is libev's one call that is safe off the loop thread. */
static void wake_send(struct clock_wake *k)
{
	ev_async_send(k->loop, &k->w);
}

static void wake_free(struct clock_wake *k)
{
	ev_async_stop(k->loop, &k->w);
	free(k);
}

static const struct clock_ops loop_ops = {
	.now_ms = now_ms,
	.timer_new = timer_new,
	.timer_start = timer_start,
	.timer_stop = timer_stop,
	.timer_active = timer_active,
	.timer_remaining = timer_remaining,
	.timer_free = timer_free,
	.wake_new = wake_new,
	.wake_send = wake_send,
	.wake_free = wake_free,
};

struct clock loopclock_new(struct ev_loop *loop)
{
	return (struct clock){.ops = &loop_ops, .impl = loop};
}
