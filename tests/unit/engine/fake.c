#include "autoconf.h"

#include "fake.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/results.h"
#include "util/xalloc.h"

/* ---- clock ---------------------------------------------------------------------------- */

struct clock_timer {
	struct fake_clock *fc;
	clock_fn fn;
	void *arg;
	bool active;
	int64_t due_ms;
	uint64_t armed;            /* arming order: ties of due_ms fire in it */
	struct clock_timer *next;
};

struct fake_clock {
	struct clock clock;
	int64_t now_ms;
	struct clock_timer *timers; /* every live timer, active or not */
	uint64_t armed;
	size_t live, fired;
	struct clock_wake *wake;   /* the newest wake made, if it lives */
};

static int64_t fc_now_ms(void *impl)
{
	return ((struct fake_clock *)impl)->now_ms;
}

static struct clock_timer *fc_timer_new(void *impl, clock_fn fn, void *arg)
{
	struct fake_clock *fc = impl;
	struct clock_timer *t = xcalloc(1, sizeof *t);

	t->fc = fc;
	t->fn = fn;
	t->arg = arg;
	t->next = fc->timers;
	fc->timers = t;
	fc->live++;
	return t;
}

static void fc_timer_start(struct clock_timer *t, double seconds)
{
	assert_true(seconds >= 0);
	t->active = true;
	/* Milliseconds, rounded: 5.0 s is due at exactly now + 5000. */
	t->due_ms = t->fc->now_ms + llround(seconds * 1000);
	t->armed = ++t->fc->armed;
}

static void fc_timer_stop(struct clock_timer *t)
{
	t->active = false;
}

static bool fc_timer_active(const struct clock_timer *t)
{
	return t->active;
}

static double fc_timer_remaining(const struct clock_timer *t)
{
	return t->active ? (double)(t->due_ms - t->fc->now_ms) / 1000 : 0;
}

static void fc_timer_free(struct clock_timer *t)
{
	struct fake_clock *fc = t->fc;

	for (struct clock_timer **pp = &fc->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	fc->live--;
	free(t);
}

/* A wake: its send (from any thread) marks it, and the next fake_clock_advance() runs it. */
struct clock_wake {
	struct fake_clock *fc;
	clock_fn fn;
	void *arg;
	int pending;
};

static struct clock_wake *fc_wake_new(void *impl, clock_fn fn, void *arg)
{
	struct clock_wake *w = xcalloc(1, sizeof *w);

	*w = (struct clock_wake){.fc = impl, .fn = fn, .arg = arg};
	((struct fake_clock *)impl)->wake = w;
	return w;
}

static void fc_wake_send(struct clock_wake *w)
{
	__atomic_store_n(&w->pending, 1, __ATOMIC_SEQ_CST);
}

static void fc_wake_free(struct clock_wake *w)
{
	if (w->fc->wake == w)
		w->fc->wake = NULL;
	free(w);
}

static const struct clock_ops fake_clock_ops = {
	.now_ms = fc_now_ms,
	.timer_new = fc_timer_new,
	.timer_start = fc_timer_start,
	.timer_stop = fc_timer_stop,
	.timer_active = fc_timer_active,
	.timer_remaining = fc_timer_remaining,
	.timer_free = fc_timer_free,
	.wake_new = fc_wake_new,
	.wake_send = fc_wake_send,
	.wake_free = fc_wake_free,
};

struct fake_clock *fake_clock_new(int64_t now_ms)
{
	struct fake_clock *fc = xcalloc(1, sizeof *fc);

	fc->clock = (struct clock){.ops = &fake_clock_ops, .impl = fc};
	fc->now_ms = now_ms;
	return fc;
}

void fake_clock_free(struct fake_clock **fcp)
{
	struct fake_clock *fc = *fcp;

	if (fc == NULL)
		return;
	while (fc->timers) {
		struct clock_timer *t = fc->timers;

		fc->timers = t->next;
		free(t);
	}
	free(fc);
	*fcp = NULL;
}

const struct clock *fake_clock_get(struct fake_clock *fc)
{
	return &fc->clock;
}

int64_t fake_clock_now(const struct fake_clock *fc)
{
	return fc->now_ms;
}

/* The active timer due first (ties: armed first), if it is due by `until`. */
static struct clock_timer *next_due(const struct fake_clock *fc, int64_t until)
{
	struct clock_timer *best = NULL;

	for (struct clock_timer *t = fc->timers; t; t = t->next)
		if (t->active && t->due_ms <= until &&
		    (best == NULL || t->due_ms < best->due_ms || (t->due_ms == best->due_ms && t->armed < best->armed)))
			best = t;
	return best;
}

void fake_clock_advance(struct fake_clock *fc, int64_t ms)
{
	int64_t until = fc->now_ms + ms;
	struct clock_timer *t;
	size_t rounds = 0;

	assert_true(ms >= 0);
	/* What another thread asked for runs first, as libev runs an ev_async at its next pass. */
	if (fc->wake && __atomic_exchange_n(&fc->wake->pending, 0, __ATOMIC_SEQ_CST))
		fc->wake->fn(fc->wake->arg);
	while ((t = next_due(fc, until)) != NULL) {
		/* A timer that keeps re-arming itself at 0 s would hang the test: fail it instead. */
		if (++rounds > 100000)
			fail_msg("fake clock: more than 100000 timers fired in one step of %lld ms", (long long)ms);
		if (t->due_ms > fc->now_ms)
			fc->now_ms = t->due_ms;
		t->active = false;
		fc->fired++;
		/* fn may stop, re-arm or free any timer, this one included. */
		t->fn(t->arg);
	}
	fc->now_ms = until;
}

bool fake_clock_wake_pending(const struct fake_clock *fc)
{
	return fc->wake && __atomic_load_n(&fc->wake->pending, __ATOMIC_SEQ_CST);
}

void fake_clock_stall(struct fake_clock *fc, int64_t ms)
{
	assert_true(ms >= 0);
	fc->now_ms += ms;
}

size_t fake_clock_active(const struct fake_clock *fc)
{
	size_t n = 0;

	for (const struct clock_timer *t = fc->timers; t; t = t->next)
		n += t->active;
	return n;
}

size_t fake_clock_live(const struct fake_clock *fc)
{
	return fc->live;
}

size_t fake_clock_fired(const struct fake_clock *fc)
{
	return fc->fired;
}

/* ---- backend -------------------------------------------------------------------------- */

struct fake_backend {
	struct fake_clock *fc;
	struct fake_call **calls;
	size_t ncalls, cap;
	bool answer_probes;        /* probes answer at once and are not recorded */
	struct result_job *writes, **writes_tail; /* started, not written: in start order */
	size_t nwrites;
	bool hold_writes;          /* writes wait for fake_backend_finish_writes() */
};

static void fb_start(void *impl, struct backend_call *call)
{
	struct fake_backend *fb = impl;

	if (call->probe && fb->answer_probes) {
		call->outcome = BACKEND_OK;
		call->done(call);
		return;
	}
	struct fake_call *c = xcalloc(1, sizeof *c);

	assert_non_null(call->done);
	assert_non_null(call->url);
	assert_true(call->ncases <= FAKE_MAX_CASES);
	assert_true(call->probe == (call->ncases == 0));
	c->index = fb->ncalls;
	c->url = xstrdup(call->url);
	c->model_path = call->model_path ? xstrdup(call->model_path) : NULL;
	c->probe = call->probe;
	c->as_list = call->as_list;
	c->load = call->load;
	c->n = call->ncases;
	for (size_t i = 0; i < call->ncases; i++) {
		long long id = 0;

		if (sscanf(call->cases[i].name, "task %lld", &id) != 1)
			fail_msg("case %zu of call %zu is named \"%s\", not \"task ID\"", i, c->index,
				 call->cases[i].name);
		c->ids[i] = id;
		c->timeout[i] = call->cases[i].timeout;
	}
	c->started_ms = fake_clock_now(fb->fc);
	c->call = call;
	if (fb->ncalls == fb->cap) {
		fb->cap = fb->cap ? 2 * fb->cap : 16;
		fb->calls = xreallocarray(fb->calls, fb->cap, sizeof *fb->calls);
	}
	fb->calls[fb->ncalls++] = c;
}

static void fb_interrupt(void *impl, struct backend_call *call)
{
	struct fake_backend *fb = impl;

	for (size_t i = 0; i < fb->ncalls; i++) {
		if (fb->calls[i]->call == call) {
			fb->calls[i]->interrupt_requested = true;
			return;
		}
	}
	fail_msg("interrupt() of a call that is not running");
}

static const struct backend_ops ops = {.start = fb_start, .interrupt = fb_interrupt};

const struct backend_ops *fake_backend_ops(void)
{
	return &ops;
}

struct fake_backend *fake_backend_new(struct fake_clock *fc)
{
	struct fake_backend *fb = xcalloc(1, sizeof *fb);

	fb->fc = fc;
	return fb;
}

void fake_backend_free(struct fake_backend **fbp)
{
	struct fake_backend *fb = *fbp;

	if (fb == NULL)
		return;
	for (size_t i = 0; i < fb->ncalls; i++) {
		free(fb->calls[i]->url);
		free(fb->calls[i]->model_path);
		free(fb->calls[i]);
	}
	free(fb->calls);
	free(fb);
	*fbp = NULL;
}

size_t fake_backend_count(const struct fake_backend *fb)
{
	return fb->ncalls;
}

struct fake_call *fake_backend_call(struct fake_backend *fb, size_t i)
{
	if (i >= fb->ncalls)
		fail_msg("call %zu was never started (%zu calls so far)", i, fb->ncalls);
	return fb->calls[i];
}

struct fake_call *fake_backend_last(struct fake_backend *fb)
{
	return fb->ncalls ? fb->calls[fb->ncalls - 1] : NULL;
}

size_t fake_backend_running(const struct fake_backend *fb)
{
	size_t n = 0;

	for (size_t i = 0; i < fb->ncalls; i++)
		n += !fb->calls[i]->ended;
	return n;
}

struct fake_call *fake_backend_running_on(struct fake_backend *fb, const char *url)
{
	for (size_t i = 0; i < fb->ncalls; i++)
		if (!fb->calls[i]->ended && (url == NULL || strcmp(fb->calls[i]->url, url) == 0))
			return fb->calls[i];
	return NULL;
}

/* Hands the call back: done() may free it and start others, so the record lets go first. */
static void end_call(struct fake_backend *fb, struct fake_call *c, enum backend_outcome outcome, const char *error,
		     bool interrupted)
{
	struct backend_call *call = c->call;

	if (c->ended || call == NULL)
		fail_msg("call %zu has already ended", c->index);
	c->ended = true;
	c->call = NULL;
	call->outcome = outcome;
	call->error = error ? xstrdup(error) : NULL;
	call->interrupted = interrupted;
	call->seconds = (double)(fake_clock_now(fb->fc) - c->started_ms) / 1000;
	call->loaded = call->load && outcome != BACKEND_TRANSPORT;
	call->done(call);
	if (!fb->hold_writes)
		fake_backend_finish_writes(fb);
}

/* Each case's result of points x signals numbers. */
static void fill_results(struct backend_call *call, size_t points, size_t signals)
{
	if (call != NULL && call->ncases > 0) {
		call->results = xcalloc(call->ncases, sizeof *call->results);
		for (size_t k = 0; k < call->ncases; k++) {
			struct result_data *r = &call->results[k];

			r->points = points;
			r->signals = signals;
			/* At least one element: xcalloc(0) need not return a pointer. */
			r->time = xcalloc(points + 1, sizeof *r->time);
			r->values = xcalloc(points * signals + 1, sizeof *r->values);
			for (size_t i = 0; i < points; i++) {
				r->time[i] = (double)i * 1e-3;
				for (size_t s = 0; s < signals; s++)
					r->values[s * points + i] = (double)(k + 1) * (double)(i + 1) + (double)s;
			}
		}
	}
}

void fake_call_received(struct fake_backend *fb, struct fake_call *c)
{
	if (c->ended || c->received || c->call == NULL)
		fail_msg("call %zu has already ended or been received", c->index);
	c->received = true;
	c->call->seconds = (double)(fake_clock_now(fb->fc) - c->started_ms) / 1000;
	c->call->received(c->call);
}

void fake_call_ok(struct fake_backend *fb, struct fake_call *c, size_t points, size_t signals)
{
	fill_results(c->call, points, signals);
	end_call(fb, c, BACKEND_OK, NULL, false);
}

void fake_call_case_error(struct fake_backend *fb, struct fake_call *c, size_t k, const char *error, bool permanent)
{
	fill_results(c->call, 3, 1);
	if (c->call && k < c->call->ncases) {
		c->call->results[k].error = xstrdup(error);
		c->call->results[k].permanent = permanent;
	}
	end_call(fb, c, BACKEND_OK, NULL, false);
}

void fake_call_fault(struct fake_backend *fb, struct fake_call *c, const char *message)
{
	end_call(fb, c, BACKEND_FAULT, message, false);
}

void fake_call_transport(struct fake_backend *fb, struct fake_call *c, const char *message)
{
	end_call(fb, c, BACKEND_TRANSPORT, message, false);
}

void fake_call_unreachable(struct fake_backend *fb, struct fake_call *c, const char *message)
{
	end_call(fb, c, BACKEND_UNREACHABLE, message, false);
}

void fake_call_too_large(struct fake_backend *fb, struct fake_call *c)
{
	c->call->bytes = c->call->max_response;
	end_call(fb, c, BACKEND_TOO_LARGE, "PLECS's answer is larger than max_response", false);
}

void fake_call_ok_bytes(struct fake_backend *fb, struct fake_call *c, size_t bytes)
{
	c->call->bytes = bytes;
	fake_call_ok(fb, c, 3, 1);
}

void fake_call_dropped(struct fake_backend *fb, struct fake_call *c, const char *message)
{
	c->call->sent = true;
	end_call(fb, c, BACKEND_UNREACHABLE, message, false);
}

void fake_backend_answer_probes(struct fake_backend *fb, bool on)
{
	fb->answer_probes = on;
}

void fake_call_interrupted(struct fake_backend *fb, struct fake_call *c)
{
	end_call(fb, c, BACKEND_TRANSPORT, "the call was interrupted", true);
}

/* ---- writer --------------------------------------------------------------------------- */

static void fw_start(void *impl, struct result_job *job)
{
	struct fake_backend *fb = impl;

	if (fb->writes_tail == NULL)
		fb->writes_tail = &fb->writes;
	job->next = NULL;
	*fb->writes_tail = job;
	fb->writes_tail = &job->next;
	fb->nwrites++;
}

static void fw_drain(void *impl)
{
	fake_backend_finish_writes(impl);
}

const struct writer_ops *fake_writer_ops(void)
{
	static const struct writer_ops writer_ops = {.start = fw_start, .drain = fw_drain};

	return &writer_ops;
}

void fake_backend_hold_writes(struct fake_backend *fb, bool on)
{
	fb->hold_writes = on;
}

size_t fake_backend_writes_pending(const struct fake_backend *fb)
{
	return fb->nwrites;
}

void fake_backend_finish_writes(struct fake_backend *fb)
{
	struct result_job *list = fb->writes;

	fb->writes = NULL;
	fb->writes_tail = &fb->writes;
	fb->nwrites = 0;
	for (struct result_job *j = list; j; j = j->next)
		result_job_run(j);
	result_jobs_hand_back(list);
}
