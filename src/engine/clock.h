/*
 * clock — the engine's time and timers, behind a small ops struct.
 *
 * The engine never reads the system clock or arms a libev watcher itself:
 * the server hands it a clock on its libev loop (server/loopclock.c), and
 * the unit tests a fake one they move by hand, so backoff, probes, linger
 * and call timeouts can be tested without waiting.  Times are wall-clock
 * milliseconds since the epoch; delays are seconds.  A wake is how another
 * thread (engine/writer.c's) gets the loop's attention: clock_wake_send()
 * from any thread, and its fn runs on the loop thread soon after (sends
 * before it runs may run it once).  Loop thread only, but for
 * clock_wake_send().
 */
#ifndef SIMQ_ENGINE_CLOCK_H
#define SIMQ_ENGINE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock_timer;
struct clock_wake;
typedef void (*clock_fn)(void *arg);

struct clock_ops {
	int64_t (*now_ms)(void *impl);
	/* A stopped timer that calls fn(arg) when it fires. */
	struct clock_timer *(*timer_new)(void *impl, clock_fn fn, void *arg);
	/* (Re)starts t to fire once, `seconds` from now. */
	void (*timer_start)(struct clock_timer *t, double seconds);
	void (*timer_stop)(struct clock_timer *t);
	bool (*timer_active)(const struct clock_timer *t);
	/* Seconds until it fires; 0 when stopped. */
	double (*timer_remaining)(const struct clock_timer *t);
	void (*timer_free)(struct clock_timer *t);
	/* A wake that calls fn(arg) on the loop thread after a wake_send() from any thread. */
	struct clock_wake *(*wake_new)(void *impl, clock_fn fn, void *arg);
	void (*wake_send)(struct clock_wake *w);
	void (*wake_free)(struct clock_wake *w);
};

struct clock {
	const struct clock_ops *ops;
	void *impl;
};

static inline int64_t clock_now_ms(const struct clock *c)
{
	return c->ops->now_ms(c->impl);
}

static inline struct clock_timer *clock_timer_new(const struct clock *c, clock_fn fn, void *arg)
{
	return c->ops->timer_new(c->impl, fn, arg);
}

/* Frees *t (stopped first) and clears the pointer; NULL is fine. */
static inline void clock_timer_free(const struct clock *c, struct clock_timer **t)
{
	if (*t) {
		c->ops->timer_stop(*t);
		c->ops->timer_free(*t);
		*t = NULL;
	}
}

#endif
