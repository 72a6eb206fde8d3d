#include "autoconf.h"

#include "engine/scheduler.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine/loaded.h"
#include "engine/queue.h"
#include "engine/retry.h"
#include "engine/store.h"
#include "engine/twins.h"
#include "engine/unsaved.h"
#include "util/buf.h"
#include "util/idmap.h"
#include "util/time.h"
#include "util/xalloc.h"

/*
 * A case whose calls lose their connection after PLECS had it this many times in a row is taken to
 * be what kills PLECS: the next such loss is charged to it as a transient failure.
 */
#define DROPS_CHARGED 3

/* A backend DOWN again within this long of coming UP is flapping. */
#define FLAP_MS 60000

/* A call's wait beyond the tasks' own Timeout, for PLECS to answer. */
#define TIMEOUT_MARGIN_S 10.0

/*
 * A call's timeout that fires this late was not watched: the process was stopped or starved, and
 * its answer may be sitting unread.  It gets this long more before it is interrupted.
 */
#define LATE_MS 1000
#define GRACE_S 2.0

/* How often changes the store did not take are tried again, seconds. */
#define SAVE_RETRY_S 2.0

/* The most cases one call may hold, whatever max_batch says. */
#define MAX_CASES 1000

/* Calls kept per model for the statistics panel's mean and p95. */
#define RECENT_CALLS 256

const double sched_duration_bounds[SCHED_NDURATION] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600};
const int sched_batch_bounds[SCHED_NBATCH] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

struct backend {
	struct scheduler *sc;
	char *name, *url;
	int slots, busy, max_batch;
	int decoding;              /* calls whose answer is all in and being decoded: not PLECS's any more */
	double call_timeout, probe_timeout;
	size_t max_response;
	bool matfile;              /* ask for MatFile output */
	bool up, paused, probing;
	bool known;                /* the first probe has ended: until then the backend is neither UP nor DOWN */
	int failures;              /* consecutive calls without an answer */
	int probe_round;
	int64_t down_since, up_since;
	double downtime;           /* seconds DOWN since the server started, the current outage not yet counted */
	struct clock_timer *probe;
	struct batch *probe_call;  /* the probe in flight, or NULL */
	struct loaded *models;     /* what its PLECS holds, by the bytes loaded */
	int64_t idle_since;        /* wall ms its last call ended (or it was added) */
	bool removed;              /* removed: takes no work, goes once its calls and probe are back; a call of
				      it that ends without an answer costs its tasks nothing */
	char *gone;                /* removed as gone (why): its calls are cut short, and not its tasks' fault */
};

/* One call in flight (a probe is one with no tasks). */
struct batch {
	struct scheduler *sc;
	struct backend *b;
	struct backend_call *call;
	int64_t id;
	int64_t *ids;
	size_t n;
	int attempt;               /* the head's attempt number */
	int64_t started;           /* wall ms */
	double estimate;           /* seconds, 0 when unknown */
	double timeout_s;          /* how long the call may take */
	char model_hash[CACHEKEY_HEX]; /* the bytes of the model file it runs (and loads), "" when unread */
	struct clock_timer *timeout;
	bool graced;               /* its timeout fired late once and was given GRACE_S */
	bool received;             /* its answer is all in: it holds no slot, only its decoding is left */
	struct batch *next;
};

/* A task waiting for its retry. */
struct waiter {
	struct scheduler *sc;
	int64_t id;
	struct clock_timer *timer;
};

/* Calls of one model with one number of cases. */
struct sized {
	double seconds; /* running mean of their wall time */
	int n;
};

struct estimate {
	char *model;
	double seconds;            /* running mean of a call's wall time */
	int n;
	struct sized *sizes;       /* by number of cases: calls whose cases all ran (sizes[k], k cases) */
	size_t nsizes;
	double *recent;            /* the last RECENT_CALLS wall times, a ring */
	size_t nrecent, next;
	int64_t duration_le[SCHED_NDURATION + 1]; /* tasks per bucket (not cumulative); the last is +Inf */
	double duration_sum;
	double case_bytes;         /* the largest answer per case seen (or known to be exceeded), in bytes */
};

struct scheduler {
	struct scheduler_options opt;
	const struct backend_ops *ops;
	void *impl;
	const struct clock *clock;
	struct queue *queue;
	struct store *store;
	struct scheduler_host host;
	struct backend **backends; /* each its own allocation: batches point at them */
	size_t nbackends, next_backend;
	struct batch *batches;
	struct idmap in_flight;    /* task id -> struct batch * */
	struct idmap waiters;      /* task id -> struct waiter * */
	struct idmap split;        /* task id -> largest batch it may join (intptr) */
	struct idmap writing;      /* task id -> struct result_job * while the writer has its result */
	struct twins *twins;       /* cases in flight by cache key, and the tasks that wait for them */
	struct cachekey_files *files; /* the model files' hashes: opt.cache_files, or own */
	struct cachekey_files *own_files;
	size_t writes, write_bytes; /* jobs with the writer, and their decoded results' bytes */
	int64_t next_batch;
	int64_t calls, cases;      /* answered calls since start and the cases they held: the mean batch */
	int64_t batch_le[SCHED_NBATCH + 1]; /* answered calls per batch-size bucket (not cumulative) */
	char *results_dir;
	char *retry_faults;
	struct estimate *estimates;
	size_t nestimates;
	struct clock_timer *linger;
	uint64_t rng;
	/* Batches started in this pass of the loop, saved with whatever else the pass saves. */
	struct store_change *starts;
	size_t nstarts, starts_cap;
	/* Changes the store did not take (a full disk): saved before anything else, tried on a timer. */
	struct unsaved *unsaved;
	struct clock_timer *save_retry;
};

static int64_t now_ms(const struct scheduler *sc)
{
	return clock_now_ms(sc->clock);
}

static void timer_start(const struct scheduler *sc, struct clock_timer *t, double seconds)
{
	sc->clock->ops->timer_start(t, seconds);
}

static void say(struct scheduler *sc, enum log_severity severity, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(struct scheduler *sc, enum log_severity severity, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	sc->host.log(sc->host.ud, severity, text);
	free(text);
}

static double random01(struct scheduler *sc)
{
	sc->rng ^= sc->rng << 13;
	sc->rng ^= sc->rng >> 7;
	sc->rng ^= sc->rng << 17;
	return (double)(sc->rng >> 11) / 9007199254740992.0;
}

/* ---- estimates (DESIGN 5) ---------------------------------------------------------- */

static struct estimate *estimate_for(struct scheduler *sc, const char *model)
{
	for (size_t i = 0; i < sc->nestimates; i++)
		if (strcmp(sc->estimates[i].model, model) == 0)
			return &sc->estimates[i];
	sc->estimates = xreallocarray(sc->estimates, sc->nestimates + 1, sizeof *sc->estimates);
	sc->estimates[sc->nestimates] = (struct estimate){.model = xstrdup(model)};
	return &sc->estimates[sc->nestimates++];
}

/*
 * How long a call of `cases` cases of e's model takes (DESIGN 5): the mean of past calls with that
 * many cases whose cases all ran; else that of the nearest number of cases seen, scaled by cases
 * over it — PLECS does not say how many cases it runs at once, so as if one after another, an
 * estimate on the long side; 0 when none of the model's calls has run yet.
 */
static double estimate_seconds(const struct estimate *e, size_t cases)
{
	size_t best = 0;

	if (cases < e->nsizes && e->sizes[cases].n > 0)
		return e->sizes[cases].seconds;
	for (size_t k = 1; k < e->nsizes; k++)
		if (e->sizes[k].n > 0 && (best == 0 || (k > cases ? k - cases : cases - k) <
		                                           (best > cases ? best - cases : cases - best)))
			best = k;
	return best ? e->sizes[best].seconds * (double)cases / (double)best : 0;
}

/* A call whose cases all ran: the mean for its number of cases. */
static void learn_sized(struct estimate *e, double seconds, size_t cases)
{
	if (cases >= e->nsizes) {
		e->sizes = xreallocarray(e->sizes, cases + 1, sizeof *e->sizes);
		memset(e->sizes + e->nsizes, 0, (cases + 1 - e->nsizes) * sizeof *e->sizes);
		e->nsizes = cases + 1;
	}
	struct sized *z = &e->sizes[cases];

	z->n++;
	z->seconds += (seconds - z->seconds) / (z->n < 20 ? z->n : 20);
}

/* An answered call: its model's running mean and recent times, and the histograms /metrics shows;
 * ran: its cases all ran (a fault that came at once says nothing of how long they take). */
static void learn(struct scheduler *sc, const char *model, double seconds, size_t cases, bool ran)
{
	struct estimate *e = estimate_for(sc, model);
	size_t k = 0, d = 0;

	if (ran)
		learn_sized(e, seconds, cases);
	e->n++;
	e->seconds += (seconds - e->seconds) / (e->n < 20 ? e->n : 20);
	if (e->recent == NULL)
		e->recent = xcalloc(RECENT_CALLS, sizeof *e->recent);
	e->recent[e->next] = seconds;
	e->next = (e->next + 1) % RECENT_CALLS;
	if (e->nrecent < RECENT_CALLS)
		e->nrecent++;
	sc->calls++;
	sc->cases += (int64_t)cases;
	while (k < SCHED_NBATCH && (int)cases > sched_batch_bounds[k])
		k++;
	sc->batch_le[k]++;
	while (d < SCHED_NDURATION && seconds > sched_duration_bounds[d])
		d++;
	e->duration_le[d] += (int64_t)cases;
	e->duration_sum += seconds * (double)cases;
}

/* How large a case's answer is: the largest seen, or at least max_response over the cases of an answer
 * that was larger, so later batches of the model fit. */
static void learn_size(struct scheduler *sc, const struct batch *bt)
{
	struct estimate *e = estimate_for(sc, bt->call->model_path);
	double per_case = bt->n ? (double)bt->call->bytes / (double)bt->n : 0;

	if (bt->call->outcome == BACKEND_TOO_LARGE && bt->n)
		per_case = (double)bt->b->max_response / (double)bt->n;
	if (per_case > e->case_bytes)
		e->case_bytes = per_case;
}

/* 64M, 512k, 1G, or bytes. */
static const char *format_size(char *buf, size_t size, size_t bytes)
{
	if (bytes % (1024 * 1024 * 1024) == 0)
		snprintf(buf, size, "%zuG", bytes / (1024 * 1024 * 1024));
	else if (bytes % (1024 * 1024) == 0)
		snprintf(buf, size, "%zuM", bytes / (1024 * 1024));
	else if (bytes % 1024 == 0)
		snprintf(buf, size, "%zuk", bytes / 1024);
	else
		snprintf(buf, size, "%zu bytes", bytes);
	return buf;
}

/* ---- backends and the circuit breaker ------------------------------------------------ */

/* The wait before probe number round (0 first): backoff_base doubling, at most probe_max. */
static double probe_wait(const struct scheduler *sc, int round)
{
	double next = sc->opt.backoff_base * ldexp(1.0, round < 30 ? round : 30), cap = sc->opt.probe_max;

	if (cap <= 0)
		cap = sc->opt.backoff_max;
	if (next > cap)
		next = cap;
	return next > 0 ? next : 1;
}

static void backend_down(struct backend *b, const char *error)
{
	struct scheduler *sc = b->sc;
	struct event ev = {.backend = b->name, .error = error};
	char detail[96];

	b->up = false;
	b->down_since = now_ms(sc);
	/* DOWN again soon after it came UP (it answers probes, not work): the probes go on growing,
	 * so a flapping backend alerts at most once per probe_max. */
	if (b->down_since - b->up_since > FLAP_MS)
		b->probe_round = 0;
	else
		b->probe_round++;
	/* The error says what failed (refused, timed out, an answer that is not XML-RPC): "after 3 failed calls: …". */
	if (b->known)
		snprintf(detail, sizeof detail, "after %d failed call%s", b->failures, b->failures == 1 ? "" : "s");
	else
		snprintf(detail, sizeof detail, "not answering at start");
	ev.detail = detail;
	sc->host.publish(sc->host.ud, EVENT_BACKEND_DOWN, NULL, &ev);
	timer_start(sc, b->probe, probe_wait(sc, b->probe_round));
}

static void backend_up(struct backend *b)
{
	struct scheduler *sc = b->sc;
	struct event ev = {.backend = b->name};
	char detail[64], dur[32];
	double down = (double)(now_ms(sc) - b->down_since) / 1000;

	b->up = true;
	b->failures = 0;
	b->up_since = now_ms(sc);
	b->downtime += down;
	sc->clock->ops->timer_stop(b->probe);
	snprintf(detail, sizeof detail, "again after %s down", time_format_duration(dur, sizeof dur, down));
	ev.detail = detail;
	sc->host.publish(sc->host.ud, EVENT_BACKEND_UP, NULL, &ev);
}

/* Did the backend answer, even with a fault or too much? */
static bool answered(const struct backend_call *call)
{
	return call->outcome == BACKEND_OK || call->outcome == BACKEND_FAULT || call->outcome == BACKEND_TOO_LARGE;
}

/* What a task's attempt says about the call's failure. */
static char *call_error(const struct batch *bt)
{
	const struct backend_call *call = bt->call;
	char size[32];

	if (bt->b->gone && !answered(call))
		return xasprintf("backend %s is gone: %s", bt->b->name, bt->b->gone);
	if (bt->b->removed && !answered(call))
		return xasprintf("backend %s was removed while the call ran, and gave no answer: %s", bt->b->name,
				 call->error ? call->error : "no reason given");
	if (call->interrupted)
		return xasprintf("no answer within %g s (the call timed out)", bt->timeout_s);
	if (call->outcome == BACKEND_TOO_LARGE && bt->n == 1)
		return xasprintf("PLECS's answer to this case is larger than [backend %s] max_response = %s; raise "
				 "max_response (up to 1G) or ask for less: output_format = matfile, a shorter TimeSpan or a "
				 "larger MaxStep", bt->b->name, format_size(size, sizeof size, bt->b->max_response));
	if (call->outcome == BACKEND_TOO_LARGE)
		return xasprintf("PLECS's answer to %zu cases is larger than [backend %s] max_response = %s", bt->n,
				 bt->b->name, format_size(size, sizeof size, bt->b->max_response));
	return xstrdup(call->error ? call->error : "PLECS gave no reason");
}

static void call_done(struct backend_call *call);
static void call_received(struct backend_call *call);
static void reap(struct scheduler *sc, struct backend *b);

static struct batch *new_batch(struct backend *b, size_t ncases)
{
	struct batch *bt = xcalloc(1, sizeof *bt);

	bt->sc = b->sc;
	bt->b = b;
	bt->call = backend_call_new(ncases);
	bt->call->url = xstrdup(b->url);
	bt->call->owner = bt;
	bt->call->done = call_done;
	bt->call->received = call_received;
	return bt;
}

static void timeout_cb(void *arg);

/* A probe is a call with no tasks: is the backend there? */
static void probe_cb(void *arg)
{
	struct backend *b = arg;
	struct batch *p;

	if (b->probing || b->removed || (b->up && b->known))
		return;
	p = new_batch(b, 0);
	p->call->probe = true;
	b->probing = true;
	b->probe_call = p;
	/* A probe that hangs (an address that takes the connection and never answers) is no answer. */
	p->started = now_ms(b->sc);
	p->timeout_s = b->probe_timeout;
	p->timeout = clock_timer_new(b->sc->clock, timeout_cb, p);
	timer_start(b->sc, p->timeout, p->timeout_s);
	b->sc->ops->start(b->sc->impl, p->call);
}

static void probe_done(struct scheduler *sc, struct batch *p)
{
	struct backend *b = p->b;

	b->probing = false;
	b->probe_call = NULL;
	clock_timer_free(sc->clock, &p->timeout);
	if (!b->known) {
		/* The first word from it since the server started: UP quietly, or DOWN with an event. */
		b->failures = answered(p->call) ? 0 : sc->opt.down_after;
		if (answered(p->call))
			b->up = true;
		else
			backend_down(b, p->call->error ? p->call->error : "no answer");
		b->known = true;
	} else if (answered(p->call)) {
		/* It answers: whatever it had loaded before it went away may be gone. */
		loaded_forget(b->models);
		backend_up(b);
	} else {
		timer_start(sc, b->probe, probe_wait(sc, ++b->probe_round));
	}
	backend_call_free(&p->call);
	free(p);
}

/* ---- retries ------------------------------------------------------------------------------ */

static void waiter_free(struct scheduler *sc, struct waiter **wp)
{
	clock_timer_free(sc->clock, &(*wp)->timer);
	xfree(wp);
}

static void waiter_cb(void *arg)
{
	struct waiter *wt = arg;
	struct scheduler *sc = wt->sc;
	struct task *t = sc->host.task(sc->host.ud, wt->id);

	idmap_remove(&sc->waiters, wt->id);
	/* Due: back in the queue at its priority and submission order, still RUNNING in the store. */
	if (t && t->state == TASK_RUNNING)
		queue_push(sc->queue, t->id, (uint64_t)t->id, t->priority, t->model);
	waiter_free(sc, &wt);
	sc->host.changed(sc->host.ud);
	scheduler_kick(sc);
}

static void wait_for_retry(struct scheduler *sc, struct task *t, double delay)
{
	struct waiter *wt = xcalloc(1, sizeof *wt);

	wt->sc = sc;
	wt->id = t->id;
	wt->timer = clock_timer_new(sc->clock, waiter_cb, wt);
	timer_start(sc, wt->timer, delay > 0 ? delay : 0.001);
	idmap_put(&sc->waiters, t->id, wt);
}

/* Tasks that waited for a twin whose attempt ended without a result go back to the queue, to run themselves. */
static void requeue_waiters(struct scheduler *sc, struct twins_end *te)
{
	for (size_t i = 0; i < te->nwaiters; i++) {
		struct task *t = sc->host.task(sc->host.ud, te->waiters[i]);

		if (t && t->state == TASK_QUEUED)
			queue_push(sc->queue, t->id, (uint64_t)t->id, t->priority, t->model);
	}
	xfree(&te->waiters);
	te->nwaiters = 0;
}

/* Task id's attempt ended without a result: its twins run themselves. */
static void release_twins(struct scheduler *sc, int64_t id)
{
	struct twins_end te;

	if (!twins_end(sc->twins, id, &te))
		return;
	requeue_waiters(sc, &te);
	cachekey_parts_free(&te.parts);
}

void scheduler_forget(struct scheduler *sc, int64_t id)
{
	struct waiter *wt = idmap_remove(&sc->waiters, id);

	if (wt)
		waiter_free(sc, &wt);
	if (!twins_forget(sc->twins, id))
		release_twins(sc, id);
	idmap_remove(&sc->split, id);
	/* Cancelled while its file is written: the file goes when the writer hands it back. */
	idmap_remove(&sc->writing, id);
}

bool scheduler_in_flight(const struct scheduler *sc, int64_t id)
{
	return idmap_get(&sc->in_flight, id) != NULL || idmap_get(&sc->writing, id) != NULL;
}

void scheduler_start(struct scheduler *sc)
{
	for (size_t i = 0; i < sc->nbackends; i++)
		probe_cb(sc->backends[i]);
}

void scheduler_adopt(struct scheduler *sc, struct task *t)
{
	/* Tasks that were waiting to retry when the server stopped keep their due time. */
	if (t->retry_due)
		wait_for_retry(sc, t, (double)(t->retry_due - now_ms(sc)) / 1000);
	else
		queue_push(sc->queue, t->id, (uint64_t)t->id, t->priority, t->model);
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static void timeout_cb(void *arg)
{
	struct batch *bt = arg;
	struct scheduler *sc = bt->sc;
	int64_t late = now_ms(sc) - (bt->started + (int64_t)(bt->timeout_s * 1000));

	/* An answer that arrived while nobody looked is not a timeout: let the worker hand it over. */
	if (late > LATE_MS && !bt->graced) {
		bt->graced = true;
		timer_start(sc, bt->timeout, GRACE_S);
		return;
	}
	sc->ops->interrupt(sc->impl, bt->call);
}

/* The hash of model's bytes now (read or remembered), "" when it cannot be read; *mtime its mtime. */
static void model_hash(struct scheduler *sc, const char *model, char hash[CACHEKEY_HEX], int64_t *mtime)
{
	char *err = NULL;

	*mtime = 0;
	if (!cachekey_file(sc->files, model, NULL, hash, mtime, &err))
		hash[0] = '\0';
	free(err); /* PLECS says what is wrong with it */
}

static bool linger(struct scheduler *sc, const struct task *t, size_t have, size_t want)
{
	double waited = (double)(now_ms(sc) - t->submitted) / 1000;

	if (sc->opt.linger_s <= 0 || have >= want || waited >= sc->opt.linger_s)
		return false;
	if (!sc->clock->ops->timer_active(sc->linger))
		timer_start(sc, sc->linger, sc->opt.linger_s - waited + 0.001);
	return true;
}

/* How many cases the head's batch may hold on b: max_batch, a split's limit, max_batch_seconds. */
static size_t batch_limit(struct scheduler *sc, const struct backend *b, const struct queue_item *head,
			  const struct estimate *est)
{
	size_t k = (size_t)b->max_batch;
	intptr_t limit = (intptr_t)idmap_get(&sc->split, head->id);

	if (limit > 0 && (size_t)limit < k)
		k = (size_t)limit;
	if (k > MAX_CASES)
		k = MAX_CASES;
	/* An answer must fit in max_response: size the batch by the largest answer per case seen. */
	if (b->max_response > 0 && est->case_bytes > 0) {
		size_t cap = (size_t)((double)b->max_response / (est->case_bytes * 1.25));

		if (cap < k)
			k = cap ? cap : 1;
	}
	/* max_batch_seconds: a long batch must not hold a slot while urgent work waits. */
	if (sc->opt.max_batch_seconds > 0 && est->n > 0 && est->seconds > 0) {
		size_t cap = (size_t)(sc->opt.max_batch_seconds / est->seconds);

		if (cap < k)
			k = cap ? cap : 1;
	}
	return k;
}

/* Takes task t out of the queue into batch bt as case i; ch gets its attempt's start. */
static void add_case(struct scheduler *sc, struct batch *bt, size_t i, struct task *t, struct store_change *ch)
{
	struct backend_case *c = &bt->call->cases[i];

	queue_remove(sc->queue, t->id, NULL);
	if (t->state == TASK_QUEUED) {
		task_transition(t, TASK_RUNNING, bt->started);
		sc->host.moved(sc->host.ud, t, TASK_RUNNING);
	}
	t->retry_due = 0;
	t->attempts++;
	t->attempt_rows++;
	bt->ids[i] = t->id;
	*ch = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_BEGIN, .backend = bt->b->name,
				    .batch_id = bt->id, .time = bt->started};
	c->vars = xstrdup(t->vars);
	c->solver = xstrdup(t->solver);
	c->timeout = t->timeout;
	snprintf(c->name, sizeof c->name, "task %lld", (long long)t->id);
	if (t->timeout > 0 && t->timeout + TIMEOUT_MARGIN_S > bt->timeout_s)
		bt->timeout_s = t->timeout + TIMEOUT_MARGIN_S;
	idmap_put(&sc->in_flight, t->id, bt);
}

/* Keeps the starts of batch bt for save(): they are written with whatever else this pass saves. */
static void keep_starts(struct scheduler *sc, const struct store_change *ch, size_t n)
{
	if (sc->nstarts + n > sc->starts_cap) {
		sc->starts_cap = 2 * (sc->nstarts + n);
		sc->starts = xreallocarray(sc->starts, sc->starts_cap, sizeof *sc->starts);
	}
	memcpy(sc->starts + sc->nstarts, ch, n * sizeof *ch);
	sc->nstarts += n;
}

/* ---- twins: one run of identical cases in flight --------------------------------------------- */

/* Can t wait for a twin's result instead of running?  Not when it asked to run, nor once it ran. */
static bool may_wait(const struct task *t)
{
	return t->state == TASK_QUEUED && t->attempts == 0 && !t->no_cache;
}

/*
 * Keeps in tasks[] (in order) those of the n that go in b's call, each recorded with its key; one
 * whose key a task in flight has, or another in this call, waits for that one, out of the queue.
 * The tasks that must run (no_cache, a retry) are runners first, so a waiter never runs beside a
 * copy that runs anyway.  Returns how many go.
 */
static size_t keep_unique(struct scheduler *sc, struct backend *b, const char *hash, int64_t mtime,
			  struct task **tasks, size_t n)
{
	char (*keys)[CACHEKEY_HEX] = xcalloc(n, sizeof *keys);
	struct cachekey_parts *parts = xcalloc(n, sizeof *parts);
	bool *go = xcalloc(n, sizeof *go);
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		/* The key of the bytes this call loads (or PLECS holds): the batch's one hash. */
		if (sc->opt.cache_files && *hash) {
			cachekey_parts_of(tasks[i]->model, hash, mtime, tasks[i]->vars, tasks[i]->solver,
					  b->matfile ? "matfile" : "plain", CACHEKEY_NO_VERSION, &parts[i]);
			cachekey_of(&parts[i], keys[i]);
		}
		go[i] = !may_wait(tasks[i]);
		if (go[i] && *keys[i])
			twins_run(sc->twins, tasks[i]->id, keys[i], &parts[i]);
	}
	for (size_t i = 0; i < n; i++) {
		int64_t runner = go[i] || !*keys[i] ? 0 : twins_runner(sc->twins, keys[i]);

		if (runner) {
			queue_remove(sc->queue, tasks[i]->id, NULL);
			twins_wait(sc->twins, runner, tasks[i]->id);
			say(sc, SEVERITY_INFO, "task %lld waits for task %lld, which runs the same case: it completes "
			    "from that result", (long long)tasks[i]->id, (long long)runner);
		} else if (!go[i]) {
			go[i] = true;
			if (*keys[i])
				twins_run(sc->twins, tasks[i]->id, keys[i], &parts[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (go[i])
			tasks[m++] = tasks[i];
		cachekey_parts_free(&parts[i]);
	}
	free(keys);
	free(parts);
	free(go);
	return m;
}

/* Sends the head's batch to b; false when there is nothing to send or it must wait. */
static bool dispatch_one(struct scheduler *sc, struct backend *b)
{
	struct queue_item items[MAX_CASES], head;
	int64_t ids[MAX_CASES];
	struct task *tasks[MAX_CASES];

	if (!queue_head(sc->queue, &head))
		return false;
	struct estimate *est = estimate_for(sc, head.model);
	size_t k = batch_limit(sc, b, &head, est), n = queue_batch(sc->queue, k, items);

	for (size_t i = 0; i < n; i++)
		ids[i] = items[i].id;
	if (!sc->host.load(sc->host.ud, ids, n, tasks) || linger(sc, tasks[0], n, k))
		return false;

	char hash[CACHEKEY_HEX], *name = backend_model_name(head.model), *close_first;
	int64_t mtime;
	bool load;

	model_hash(sc, head.model, hash, &mtime);
	if (!loaded_plan(b->models, name, head.model, hash, &load, &close_first)) {
		free(name);
		return false; /* other bytes of this model run on b: a load now would change them */
	}
	n = keep_unique(sc, b, hash, mtime, tasks, n);
	if (n == 0) {
		loaded_end(b->models, name, head.model, hash, false, false);
		free(name);
		return true; /* every one waits for a twin in flight: the queue moved on */
	}

	struct batch *bt = new_batch(b, n);
	struct store_change *ch = xcalloc(n, sizeof *ch);

	bt->id = ++sc->next_batch;
	bt->ids = xcalloc(n, sizeof *bt->ids);
	bt->n = n;
	bt->started = now_ms(sc);
	bt->estimate = estimate_seconds(est, n);
	bt->call->model_path = xstrdup(head.model);
	bt->call->model_name = name;
	bt->call->load = load;
	bt->call->close_first = close_first;
	memcpy(bt->model_hash, hash, sizeof hash);
	bt->call->as_list = n > 1;
	bt->call->matfile = b->matfile;
	bt->call->max_response = b->max_response;
	for (size_t i = 0; i < n; i++)
		add_case(sc, bt, i, tasks[i], &ch[i]);
	if (bt->timeout_s <= 0 || bt->timeout_s > b->call_timeout)
		bt->timeout_s = b->call_timeout;
	bt->timeout = clock_timer_new(sc->clock, timeout_cb, bt);
	timer_start(sc, bt->timeout, bt->timeout_s);
	bt->next = sc->batches;
	sc->batches = bt;
	bt->attempt = n ? ch[0].task->attempts : 0;
	b->busy++;
	/*
	 * The call starts before the start is saved, so PLECS works while the loop writes.  A crash in
	 * between leaves the tasks QUEUED in the store, and they run again after a restart: the same
	 * as any call a crash cuts short.
	 */
	sc->ops->start(sc->impl, bt->call);
	keep_starts(sc, ch, n);
	free(ch);
	return true;
}

/* A kept change was saved: its task, if still in memory, is now in the store as the copy has it. */
static void saved_copy(const struct task *copy, void *ud)
{
	struct scheduler *sc = ud;
	struct task *t = sc->host.task(sc->host.ud, copy->id);

	if (t)
		t->stored_state = copy->state;
}

/* The store takes no changes: dispatch holds (no PLECS work whose end could not be saved), and the operator is told. */
static void hold_for_store(struct scheduler *sc, enum store_status st)
{
	/* Up to the first ';' is what a console's status bar has room for. */
	const char *what = st == STORE_FULL ? "cannot save to simq.db: its disk is full"
			   : st == STORE_BUSY ? "cannot save to simq.db: another process holds it locked"
					      : "cannot save to simq.db";
	char *text = xasprintf("%s; the starts and ends of attempts wait in memory, tried again every %.0f s: once they "
			       "are saved, dispatch resumes by itself (%s)",
			       what, SAVE_RETRY_S, store_error(sc->store));

	sc->host.store_hold(sc->host.ud, text);
	free(text);
}

/*
 * Commits the kept changes and ch[0..n) in one transaction.  What the store cannot take now is kept
 * (engine/unsaved.h): dispatch holds and a timer tries again, so an answer's end is saved once
 * there is room, not lost.
 */
static void commit(struct scheduler *sc, struct store_change *ch, size_t n)
{
	size_t kept = unsaved_count(sc->unsaved);
	int64_t since = unsaved_since(sc->unsaved);
	enum store_status st = unsaved_commit(sc->unsaved, sc->store, ch, n, now_ms(sc), saved_copy, sc);

	if (st == STORE_OK) {
		if (kept > 0) {
			say(sc, SEVERITY_INFO, "the task database takes changes again: the %zu kept in memory for %.0f s are "
			    "saved", kept, (double)(now_ms(sc) - since) / 1000);
			sc->host.store_hold(sc->host.ud, NULL);
			sc->host.changed(sc->host.ud);
		}
		return;
	}
	if (unsaved_count(sc->unsaved) == 0) {
		/* Refused: no retry could save it, so nothing is kept, and no hold waits for it. */
		say(sc, SEVERITY_ERROR, "cannot save the start or end of %zu attempts: %s", kept + n, store_error(sc->store));
		if (kept > 0)
			sc->host.store_hold(sc->host.ud, NULL);
		return;
	}
	if (kept == 0) {
		int64_t ids[8];
		size_t m = unsaved_ids(sc->unsaved, ids, 8);
		char list[8 * 24] = "";

		for (size_t i = 0; i < m; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%lld", i ? ", " : "", (long long)ids[i]);
		say(sc, SEVERITY_ERROR, "cannot save the start or end of %zu attempts (tasks %s%s): %s; kept in memory, "
		    "saved once the task database takes them", n, list, m == 8 ? ", ..." : "", store_error(sc->store));
	}
	hold_for_store(sc, st);
	timer_start(sc, sc->save_retry, SAVE_RETRY_S);
}

static void save_retry_cb(void *arg)
{
	struct scheduler *sc = arg;

	commit(sc, NULL, 0);
	if (unsaved_count(sc->unsaved) == 0)
		scheduler_kick(sc); /* the hold is lifted: dispatch goes on */
}

/*
 * Saves the batches started in this pass and the changes in more (may be NULL) in one transaction,
 * then tells the bus which tasks started.  One commit for a batch's end and the next one's start
 * halves the store's work per call.
 */
static void save(struct scheduler *sc, struct store_change *more, size_t nmore)
{
	size_t n = sc->nstarts;

	if (n + nmore == 0)
		return;
	if (nmore) {
		if (n + nmore > sc->starts_cap) {
			sc->starts_cap = n + nmore;
			sc->starts = xreallocarray(sc->starts, sc->starts_cap, sizeof *sc->starts);
		}
		memcpy(sc->starts + n, more, nmore * sizeof *more);
	}
	commit(sc, sc->starts, n + nmore);
	sc->nstarts = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_change *ch = &sc->starts[i];
		const struct batch *bt = idmap_get(&sc->in_flight, ch->task->id);
		struct event ev = {.backend = ch->backend, .batch_id = ch->batch_id, .batch_size = bt ? (int)bt->n : 1};

		sc->host.publish(sc->host.ud, EVENT_STARTED, ch->task, &ev);
	}
}

/* Do the results waiting for the writer hold dispatch (SCHED_WRITE_BACKLOG)? */
static bool writer_behind(const struct scheduler *sc)
{
	size_t cap = sc->opt.write_backlog ? sc->opt.write_backlog : SCHED_WRITE_BACKLOG;

	return sc->write_bytes >= cap || sc->writes >= SCHED_WRITE_JOBS;
}

/* Sends batches while a backend has a free slot; their starts wait in sc->starts for save(). */
static void kick(struct scheduler *sc)
{
	bool sent = true;

	if (sc->host.held(sc->host.ud) || writer_behind(sc) || unsaved_count(sc->unsaved) > 0)
		return;
	/* Round robin over the backends, one batch at a time, so work spreads. */
	while (sent && queue_size(sc->queue) > 0) {
		sent = false;
		for (size_t k = 0; k < sc->nbackends && queue_size(sc->queue) > 0; k++) {
			struct backend *b = sc->backends[(sc->next_backend + k) % sc->nbackends];

			/*
			 * A backend takes the next call while answers of its earlier ones decode, until more
			 * than `slots` of them do: at most 2 x slots of its answers are held at once.
			 */
			if (!b->up || b->paused || b->removed || b->busy >= b->slots || b->decoding > b->slots)
				continue;
			if (dispatch_one(sc, b)) {
				sent = true;
				sc->next_backend = (sc->next_backend + k + 1) % sc->nbackends;
				break;
			}
		}
	}
}

void scheduler_kick(struct scheduler *sc)
{
	/* Resumed with changes still kept: they go first, and nothing is sent while they cannot. */
	if (unsaved_count(sc->unsaved) > 0 && !sc->host.held(sc->host.ud))
		commit(sc, NULL, 0);
	kick(sc);
	save(sc, NULL, 0);
}

size_t scheduler_unsaved(struct scheduler *sc)
{
	if (unsaved_count(sc->unsaved) > 0)
		commit(sc, NULL, 0);
	return unsaved_count(sc->unsaved);
}

static void linger_cb(void *arg)
{
	scheduler_kick(arg);
}

/* ---- answers -------------------------------------------------------------------------------- */

/* How a call's answer goes for each of its tasks; BACKEND: not theirs, back to the queue. */
enum verdict { VERDICT_OK, VERDICT_SPLIT, VERDICT_TRANSIENT, VERDICT_PERMANENT, VERDICT_BACKEND };

/* One task's end of an attempt, saved with the others of its call. */
struct ending {
	struct task *t;
	struct store_result result;
	bool has_result;
	bool waited;               /* completed from a twin's result: it was QUEUED, not RUNNING */
	char *local;               /* simq could not keep its result: why */
	int local_errno;
};

/* A transient failure: wait and retry while retries remain, else fail. */
static void attempt_failed(struct scheduler *sc, struct task *t, const char *error, struct store_change *ch)
{
	int64_t now = now_ms(sc);

	t->failed_attempts++;
	t->had_transient = true;
	task_set_text(&t->error, error);
	ch->outcome = ATTEMPT_TRANSIENT;
	ch->error = t->error;
	if (task_retries(t) < sc->opt.max_retries) {
		double delay = retry_delay_for(task_retries(t), sc->opt.backoff_base, sc->opt.backoff_max, sc->opt.jitter,
					       random01(sc));

		t->retry_due = now + (int64_t)(delay * 1000);
	} else {
		/* The log line and show say after how many attempts: the error says why it stopped. */
		char *text = sc->opt.max_retries > 0 ? xasprintf("retries exhausted: %s", error)
						     : xasprintf("no retry (max_retries = 0): %s", error);

		task_set_text(&t->error, text);
		ch->error = t->error;
		free(text);
		task_transition(t, TASK_FAILED, now);
	}
}

/* A file the writer handed back: the task COMPLETED, or back to the queue when simq could not keep it. */
static void written(struct scheduler *sc, struct result_job *job, struct ending *end, struct store_change *ch)
{
	struct task *t = end->t;

	if (job->ok) {
		end->result = job->result;
		memset(&job->result, 0, sizeof job->result);
		end->has_result = true;
		ch->outcome = ATTEMPT_OK;
		ch->result = &end->result;
		task_set_text(&t->error, NULL);
		task_transition(t, TASK_COMPLETED, ch->time);
		return;
	}
	/* PLECS did its part; keeping the result is simq's: no attempt spent, back to the queue. */
	end->local = job->error;
	job->error = NULL;
	end->local_errno = job->error_errno;
	ch->outcome = ATTEMPT_LOCAL;
	ch->error = end->local;
	t->attempts--;
	task_set_text(&t->error, end->local);
	task_transition(t, TASK_QUEUED, ch->time);
	sc->host.moved(sc->host.ud, t, TASK_QUEUED);
}

/* A permanent failure: the task fails now with error. */
static void failed_for_good(struct task *t, const char *error, struct store_change *ch)
{
	t->failed_attempts++;
	task_set_text(&t->error, error);
	ch->outcome = ATTEMPT_PERMANENT;
	ch->error = t->error;
	task_transition(t, TASK_FAILED, ch->time);
}

/* Ends task t's attempt in bt as verdict v says; ch is its store change. */
static void end_attempt(struct scheduler *sc, struct batch *bt, size_t i, enum verdict v, const char *error,
			struct ending *end, struct store_change *ch)
{
	struct task *t = end->t;

	if (v != VERDICT_BACKEND)
		t->dropped = 0;
	switch (v) {
	case VERDICT_OK:
		/*
		 * A case with a result went to the writer (end_attempts): this one has none.  A number PLECS
		 * computed that is not finite is the case's answer: another run gives the same, so it fails
		 * now (permanent) rather than spend retries; anything else in a case's answer is retried.
		 */
		if (bt->call->results[i].permanent)
			failed_for_good(t, bt->call->results[i].error, ch);
		else
			attempt_failed(sc, t, bt->call->results[i].error, ch);
		break;
	case VERDICT_SPLIT:
		/* Not an attempt against the task: it goes back to the queue in a smaller batch. */
		ch->outcome = ATTEMPT_SPLIT;
		ch->error = error; /* why its batch was split: the batch's error */
		t->attempts--;
		task_transition(t, TASK_QUEUED, ch->time);
		sc->host.moved(sc->host.ud, t, TASK_QUEUED);
		idmap_put(&sc->split, t->id, (void *)(intptr_t)((bt->n + 1) / 2));
		break;
	case VERDICT_BACKEND:
		if (bt->call->sent && !bt->b->removed && ++t->dropped >= DROPS_CHARGED) {
			char *why = xasprintf("%s (PLECS lost the connection %d times in a row while it had this case: "
					      "counted against the case)", error, t->dropped);

			t->dropped = 0;
			attempt_failed(sc, t, why, ch);
			free(why);
			break;
		}
		/* PLECS never saw it, or cannot be blamed yet: no retry spent, back to the head of its priority. */
		ch->outcome = ATTEMPT_BACKEND;
		ch->error = error;
		t->attempts--;
		task_transition(t, TASK_QUEUED, ch->time);
		sc->host.moved(sc->host.ud, t, TASK_QUEUED);
		break;
	case VERDICT_TRANSIENT:
		attempt_failed(sc, t, error, ch);
		break;
	case VERDICT_PERMANENT:
		failed_for_good(t, error, ch);
		break;
	}
}

/* After a change is saved: timers, statistics, events, and the host's bookkeeping for final tasks. */
static void after_change(struct scheduler *sc, struct ending *end, const char *error)
{
	struct task *t = end->t;

	if (task_state_is_final(t->state)) {
		struct event ev = {.result_path = end->has_result ? end->result.path : NULL,
				   .result_summary = end->has_result ? end->result.summary : NULL,
				   .source = end->has_result ? end->result.source : 0};

		sc->host.retired(sc->host.ud, t, end->waited ? TASK_QUEUED : TASK_RUNNING, &ev);
	} else if (t->state == TASK_QUEUED) {
		queue_push(sc->queue, t->id, (uint64_t)t->id, t->priority, t->model);
	} else if (t->retry_due) {
		struct event ev = {.error = error, .error_class = "transient", .retry_at = t->retry_due,
				   .attempt = t->attempts, .max_attempts = sc->opt.max_retries + 1};

		wait_for_retry(sc, t, (double)(t->retry_due - now_ms(sc)) / 1000);
		sc->host.publish(sc->host.ud, EVENT_ATTEMPT_FAILED, t, &ev);
	}
}

/* Results cannot be kept: dispatch holds, and the operator is told why and how much room is left. */
static void hold_for_disk(struct scheduler *sc, const char *why, int error)
{
	struct statvfs fs;
	char *text;

	if (statvfs(sc->results_dir, &fs) == 0)
		text = xasprintf("cannot keep results: %s; %.1f MB free in %s; simq resume after making room (%s)",
				 strerror(error), (double)fs.f_bavail * (double)fs.f_frsize / 1e6, sc->results_dir, why);
	else
		text = xasprintf("cannot keep results: %s; simq resume after making room (%s)", strerror(error), why);
	sc->host.pause(sc->host.ud, text);
	free(text);
}

static void free_batch(struct scheduler *sc, struct batch *bt)
{
	for (struct batch **pp = &sc->batches; *pp; pp = &(*pp)->next) {
		if (*pp == bt) {
			*pp = bt->next;
			break;
		}
	}
	for (size_t i = 0; i < bt->n; i++)
		if (idmap_get(&sc->in_flight, bt->ids[i]) == bt)
			idmap_remove(&sc->in_flight, bt->ids[i]);
	clock_timer_free(sc->clock, &bt->timeout);
	backend_call_free(&bt->call);
	free(bt->ids);
	free(bt);
}

/* What the call's outcome means for its tasks; a fault for the whole batch names no case: split it. */
static enum verdict judge(const struct scheduler *sc, const struct batch *bt)
{
	const struct backend_call *call = bt->call;

	if (call->outcome == BACKEND_OK)
		return VERDICT_OK;
	/*
	 * No answer from a backend removed while the call ran: it is going away (its job ends, its
	 * PLECS is stopped), and a call cut short by that is never the tasks' fault.
	 */
	if (call->outcome == BACKEND_UNREACHABLE || (bt->b->removed && !answered(call)))
		return VERDICT_BACKEND;
	/* Too much to read is the batch's: halves; for one case, nothing smaller can be asked. */
	if (call->outcome == BACKEND_TOO_LARGE)
		return bt->n > 1 ? VERDICT_SPLIT : VERDICT_PERMANENT;
	if (call->outcome == BACKEND_TRANSPORT ||
	    retry_fault_is_transient(call->error ? call->error : "", sc->retry_faults))
		return VERDICT_TRANSIENT;
	return bt->n > 1 ? VERDICT_SPLIT : VERDICT_PERMANENT;
}

static void writes_done(struct result_job *jobs);

/* Hands case i's decoded result to the writer (started later by start_writes); t stays RUNNING. */
static struct result_job *hand_to_writer(struct scheduler *sc, struct batch *bt, size_t i, struct task *t)
{
	struct result_job *job = xcalloc(1, sizeof *job);
	struct result_data *r = &bt->call->results[i];

	*job = (struct result_job){.dir = sc->results_dir, .id = t->id, .data = *r, .format = sc->opt.format,
				   .sync = sc->opt.sync, .done = writes_done, .owner = sc,
				   .bytes = r->points * (r->signals + 1) * sizeof(double) + r->mat_len};
	memset(r, 0, sizeof *r);
	t->dropped = 0;
	idmap_remove(&sc->in_flight, t->id);
	idmap_put(&sc->writing, t->id, job);
	sc->writes++;
	sc->write_bytes += job->bytes;
	return job;
}

static void start_writes(struct scheduler *sc, struct result_job *jobs)
{
	while (jobs) {
		struct result_job *next = jobs->next;

		jobs->next = NULL;
		sc->opt.writer_ops->start(sc->opt.writer_impl, jobs);
		jobs = next;
	}
}

/* After ends[0..n) are saved: their timers, events and bookkeeping; a full disk pauses dispatch. */
static void after_changes(struct scheduler *sc, struct ending *ends, size_t n, const char *error)
{
	for (size_t i = 0; i < n; i++)
		after_change(sc, &ends[i], error);
	for (size_t i = 0; i < n; i++) {
		if (ends[i].local && !sc->host.held(sc->host.ud))
			hold_for_disk(sc, ends[i].local, ends[i].local_errno);
		free(ends[i].local);
		store_result_free(&ends[i].result);
	}
}

/*
 * Ends the attempts of bt's tasks that are still its own (a cancelled one's result is dropped);
 * the answered cases' results go to the writer, and their attempts end when it hands them back.
 */
static void end_attempts(struct scheduler *sc, struct batch *bt, enum verdict v, const char *error)
{
	struct store_change *ch = xcalloc(bt->n, sizeof *ch);
	struct ending *ends = xcalloc(bt->n, sizeof *ends);
	struct result_job *jobs = NULL, **tail = &jobs;
	size_t m = 0;

	for (size_t i = 0; i < bt->n; i++) {
		struct task *t = sc->host.task(sc->host.ud, bt->ids[i]);

		/* Cancelled while PLECS ran it: the attempt was closed then, the result is dropped. */
		if (t == NULL || idmap_get(&sc->in_flight, t->id) != bt)
			continue;
		if (v == VERDICT_OK && bt->call->results[i].error == NULL) {
			*tail = hand_to_writer(sc, bt, i, t);
			tail = &(*tail)->next;
			continue;
		}
		ch[m] = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_END, .time = now_ms(sc)};
		ends[m].t = t;
		end_attempt(sc, bt, i, v, error, &ends[m], &ch[m]);
		release_twins(sc, t->id);
		m++;
	}
	save(sc, ch, m);
	if (v == VERDICT_SPLIT)
		say(sc, SEVERITY_WARNING, "batch %lld of %zu failed as a whole (%s): splitting it in two",
		    (long long)bt->id, bt->n, error);
	if (v == VERDICT_BACKEND && m > 0)
		say(sc, SEVERITY_WARNING, "batch %lld of %zu could not reach %s (%s): back in the queue, no retry spent",
		    (long long)bt->id, m, bt->b->name, error);
	after_changes(sc, ends, m, error);
	start_writes(sc, jobs);
	free(ends);
	free(ch);
}

/*
 * The tasks that waited for job's task complete from its file, as cached, in the commit that saves
 * it: ch and ends get one change each (room for te->nwaiters).  Returns how many.
 */
static size_t complete_waiters(struct scheduler *sc, const struct result_job *job, const struct twins_end *te,
			       struct store_change *ch, struct ending *ends)
{
	size_t m = 0;
	int64_t now = now_ms(sc);

	for (size_t i = 0; i < te->nwaiters; i++) {
		struct task *t = sc->host.task(sc->host.ud, te->waiters[i]);
		const struct store_result *r = &job->result;

		if (t == NULL || t->state != TASK_QUEUED)
			continue;
		task_transition(t, TASK_COMPLETED, now);
		t->cached = true;
		t->source = job->id;
		ends[m] = (struct ending){.t = t, .has_result = true, .waited = true};
		ends[m].result = (struct store_result){.task_id = t->id, .path = xstrdup(r->path),
						       .format = xstrdup(r->format), .points = r->points,
						       .signals = r->signals, .summary = xstrdup(r->summary),
						       .cache_key = xstrdup(te->key), .source = job->id,
						       .size = r->size};
		ch[m] = (struct store_change){.task = t, .time = now, .result = &ends[m].result};
		m++;
	}
	return m;
}

/*
 * A written file's end: the twins that waited for it complete first (ch and ends get them and
 * then its own change; returns how many); its result keeps its key.  Without a file they run.
 */
static size_t written_keyed(struct scheduler *sc, struct result_job *job, struct task *t, struct store_change *ch,
			    struct ending *ends)
{
	struct twins_end te;
	bool keyed = twins_end(sc->twins, job->id, &te);
	size_t m = keyed && job->ok ? complete_waiters(sc, job, &te, ch, ends) : 0;

	if (keyed && !job->ok)
		requeue_waiters(sc, &te);
	ch[m] = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_END, .time = now_ms(sc)};
	ends[m].t = t;
	written(sc, job, &ends[m], &ch[m]);
	if (keyed && job->ok) {
		ends[m].result.cache_key = xstrdup(te.key);
		ends[m].result.parts = te.parts;
		ends[m].result.parts.created = ch[m].time;
		memset(&te.parts, 0, sizeof te.parts);
	}
	cachekey_parts_free(&te.parts);
	free(te.waiters);
	return m + 1;
}

/* The writer hands back written files (on the loop thread): their tasks' attempts end in one commit. */
static void writes_done(struct result_job *jobs)
{
	struct scheduler *sc = jobs->owner;
	size_t n = 0, m = 0;

	for (struct result_job *j = jobs; j; j = j->next)
		n += 1 + twins_waiting(sc->twins, j->id);
	struct store_change *ch = xcalloc(n, sizeof *ch);
	struct ending *ends = xcalloc(n, sizeof *ends);

	for (struct result_job *j = jobs; j; j = j->next) {
		bool mine = idmap_get(&sc->writing, j->id) == j;
		struct task *t = mine ? sc->host.task(sc->host.ud, j->id) : NULL;

		sc->writes--;
		sc->write_bytes -= j->bytes;
		if (mine)
			idmap_remove(&sc->writing, j->id);
		if (t == NULL) {
			/* Cancelled while written: no task will name the file, so it goes. */
			if (j->ok)
				unlink(j->result.path);
			continue;
		}
		m += written_keyed(sc, j, t, ch + m, ends + m);
	}
	save(sc, ch, m);
	after_changes(sc, ends, m, NULL);
	while (jobs) {
		struct result_job *next = jobs->next;

		result_job_free(&jobs);
		jobs = next;
	}
	free(ends);
	free(ch);
	sc->host.changed(sc->host.ud);
	scheduler_kick(sc);
}

void scheduler_drain(struct scheduler *sc)
{
	if (sc->writes > 0)
		sc->opt.writer_ops->drain(sc->opt.writer_impl);
	if (unsaved_count(sc->unsaved) > 0)
		commit(sc, NULL, 0);
}

/*
 * A call of bt's model ended: what b's PLECS holds.  A call that loaded the model checks that the
 * file still has the bytes it was planned (and keyed) with; if not, PLECS may have run other bytes,
 * so its results keep no cache key and the tasks that waited for them run themselves.
 */
static void model_call_ended(struct scheduler *sc, struct batch *bt)
{
	const struct backend_call *call = bt->call;
	char now[CACHEKEY_HEX] = "";
	int64_t mtime;
	bool verified = true;

	if (call->loaded) {
		model_hash(sc, call->model_path, now, &mtime);
		verified = *now && strcmp(now, bt->model_hash) == 0;
	}
	loaded_end(bt->b->models, call->model_name, call->model_path, bt->model_hash, call->loaded, verified);
	if (verified || !*bt->model_hash)
		return;
	say(sc, SEVERITY_WARNING, "the model %s changed while batch %lld loaded it: its results are kept but not "
	    "cached (which bytes PLECS ran is not known)", call->model_path, (long long)bt->id);
	for (size_t i = 0; i < bt->n; i++)
		release_twins(sc, bt->ids[i]);
}

/* PLECS is through with the call (the backend's slot is free for the next); the call ends. */
static void plecs_through(struct scheduler *sc, struct batch *bt)
{
	struct backend *b = bt->b;

	b->busy--;
	sc->clock->ops->timer_stop(bt->timeout);
	model_call_ended(sc, bt);
	if (b->busy == 0)
		b->idle_since = now_ms(sc);
}

/*
 * The answer is all in and carries results; only its decoding is left.  PLECS runs the next batch
 * while this one's is decoded: the slot is free now, and the call's timeout (PLECS's time) ends.
 */
static void call_received(struct backend_call *call)
{
	struct batch *bt = call->owner;
	struct scheduler *sc = bt->sc;

	bt->received = true;
	bt->b->decoding++;
	plecs_through(sc, bt);
	scheduler_kick(sc);
}

static void call_done(struct backend_call *call)
{
	struct batch *bt = call->owner;
	struct scheduler *sc = bt->sc;
	struct backend *b = bt->b;

	if (call->probe) {
		probe_done(sc, bt);
		reap(sc, b);
		scheduler_kick(sc);
		return;
	}
	if (bt->received)
		b->decoding--;
	else
		plecs_through(sc, bt);
	if (!answered(call)) {
		b->failures++;
	} else {
		b->failures = 0;
		learn_size(sc, bt);
		if (call->outcome != BACKEND_TOO_LARGE)
			learn(sc, call->model_path, call->seconds, bt->n, call->outcome == BACKEND_OK);
	}
	enum verdict v = judge(sc, bt);

	/*
	 * An answer puts no task back in the queue and keeps the backend UP, so the slot can take its
	 * next batch now: that call runs while this one's results are written and saved.
	 */
	if (v == VERDICT_OK)
		kick(sc);
	char *error = call_error(bt);

	end_attempts(sc, bt, v, error);
	if (!answered(call) && b->up && !b->removed && b->failures >= sc->opt.down_after)
		backend_down(b, error);
	free(error);
	free_batch(sc, bt);
	reap(sc, b);
	sc->host.changed(sc->host.ud);
	scheduler_kick(sc);
}

/* ---- setup -------------------------------------------------------------------------------- */

static struct backend *add_backend(struct scheduler *sc, const struct backend_config *c)
{
	struct backend *b = xcalloc(1, sizeof *b);

	sc->backends = xreallocarray(sc->backends, sc->nbackends + 1, sizeof *sc->backends);
	sc->backends[sc->nbackends++] = b;
	*b = (struct backend){.sc = sc, .name = xstrdup(c->name), .url = xstrdup(c->url), .slots = c->slots,
			      .max_batch = c->max_batch, .call_timeout = c->call_timeout,
			      .probe_timeout = c->probe_timeout > 0 ? c->probe_timeout : c->call_timeout,
			      .max_response = c->max_response, .matfile = c->matfile, .idle_since = now_ms(sc)};
	b->probe = clock_timer_new(sc->clock, probe_cb, b);
	b->models = loaded_new();
	say(sc, SEVERITY_INFO, "backend %s at %s: %d slot%s, batches of up to %d", b->name, b->url, b->slots,
	    b->slots == 1 ? "" : "s", b->max_batch);
	return b;
}

static struct backend *find_backend(const struct scheduler *sc, const char *name)
{
	for (size_t i = 0; i < sc->nbackends; i++)
		if (!sc->backends[i]->removed && strcmp(sc->backends[i]->name, name) == 0)
			return sc->backends[i];
	return NULL;
}

/* "no backend "x"; backends: a, b" (heap). */
static char *no_such_backend(const struct scheduler *sc, const char *name)
{
	struct buf names = BUF_INIT;
	char *shown = buf_shown(name), *text;

	for (size_t i = 0; i < sc->nbackends; i++)
		if (!sc->backends[i]->removed)
			buf_addf(&names, "%s%s", names.len ? ", " : "", sc->backends[i]->name);
	text = xasprintf("no backend \"%s\"; backends: %s", shown, names.len ? buf_str(&names) : "none");
	free(shown);
	buf_free(&names);
	return text;
}

static void backend_free(struct scheduler *sc, struct backend *b)
{
	clock_timer_free(sc->clock, &b->probe);
	if (b->probe_call) {
		clock_timer_free(sc->clock, &b->probe_call->timeout);
		backend_call_free(&b->probe_call->call);
		free(b->probe_call);
	}
	loaded_free(&b->models);
	free(b->name);
	free(b->url);
	free(b->gone);
	free(b);
}

/* A removed backend goes once nothing of it is in flight. */
static void reap(struct scheduler *sc, struct backend *b)
{
	if (!b->removed || b->busy > 0 || b->decoding > 0 || b->probing)
		return;
	for (size_t i = 0; i < sc->nbackends; i++) {
		if (sc->backends[i] == b) {
			memmove(&sc->backends[i], &sc->backends[i + 1], (sc->nbackends - i - 1) * sizeof *sc->backends);
			sc->nbackends--;
			break;
		}
	}
	sc->next_backend = 0;
	backend_free(sc, b);
}

bool scheduler_add_backend(struct scheduler *sc, const struct backend_config *c, char **err)
{
	for (size_t i = 0; i < sc->nbackends; i++) {
		const struct backend *b = sc->backends[i];

		/* One removed as gone answers nothing more: a new backend may take its name now. */
		if (strcmp(b->name, c->name) != 0 || (b->removed && b->gone))
			continue;
		if (b->removed) {
			int back = b->busy + b->decoding;

			*err = xasprintf("backend %s is being removed: %d call%s still to come back; add it again after",
					 b->name, back, back == 1 ? "" : "s");
			return false;
		}
		*err = xasprintf("there is a backend %s already, at %s; remove it first, or choose another name",
				 b->name, b->url);
		return false;
	}
	probe_cb(add_backend(sc, c));
	return true;
}

bool scheduler_remove_backend(struct scheduler *sc, const char *name, const char *gone, int *running, char **err)
{
	struct backend *b = NULL;

	/* A backend being removed may be found gone after all: its calls are cut short now. */
	for (size_t i = 0; i < sc->nbackends; i++)
		if (strcmp(sc->backends[i]->name, name) == 0 && (b == NULL || b->removed))
			b = sc->backends[i];
	if (b == NULL || (b->removed && gone == NULL)) {
		*err = no_such_backend(sc, name);
		return false;
	}
	b->removed = true;
	*running = b->busy + b->decoding;
	sc->clock->ops->timer_stop(b->probe);
	if (gone && b->gone == NULL) {
		b->gone = xstrdup(gone);
		for (struct batch *bt = sc->batches; bt; bt = bt->next)
			if (bt->b == b && !bt->received) /* an answer all in needs PLECS no more */
				sc->ops->interrupt(sc->impl, bt->call);
		if (b->probe_call)
			sc->ops->interrupt(sc->impl, b->probe_call->call);
	}
	reap(sc, b);
	return true;
}

struct scheduler *scheduler_new(const struct scheduler_options *opt, const struct backend_config *backends,
				size_t nbackends, const struct backend_ops *ops, void *impl, const struct clock *clock,
				struct queue *queue, struct store *store, const struct scheduler_host *host, char **err)
{
	struct scheduler *sc = xcalloc(1, sizeof *sc);

	sc->opt = *opt;
	sc->retry_faults = xstrdup(opt->retry_faults ? opt->retry_faults : "");
	sc->results_dir = xstrdup(opt->results_dir);
	sc->opt.retry_faults = sc->retry_faults;
	sc->opt.results_dir = sc->results_dir;
	sc->ops = ops;
	sc->impl = impl;
	sc->clock = clock;
	sc->queue = queue;
	sc->store = store;
	sc->host = *host;
	sc->twins = twins_new();
	if (opt->cache_files == NULL)
		sc->own_files = cachekey_files_new(CACHEKEY_RACY_MS);
	sc->files = opt->cache_files ? opt->cache_files : sc->own_files;
	sc->rng = (opt->seed ? opt->seed : (uint64_t)clock_now_ms(clock)) | 1;
	if (opt->writer_ops == NULL) {
		*err = xstrdup("the scheduler was given no result writer");
		scheduler_free(&sc);
		return NULL;
	}
	if (mkdir(sc->results_dir, 0700) != 0 && errno != EEXIST) {
		*err = xasprintf("cannot create %s: %s", sc->results_dir, strerror(errno));
		scheduler_free(&sc);
		return NULL;
	}
	for (size_t i = 0; i < nbackends; i++)
		add_backend(sc, &backends[i]);
	sc->linger = clock_timer_new(clock, linger_cb, sc);
	sc->unsaved = unsaved_new();
	sc->save_retry = clock_timer_new(clock, save_retry_cb, sc);
	return sc;
}

void scheduler_free(struct scheduler **scp)
{
	struct scheduler *sc = *scp;

	if (sc == NULL)
		return;
	/* No answer PLECS gave is lost: the files being written are written and saved. */
	scheduler_drain(sc);
	while (sc->batches)
		free_batch(sc, sc->batches);
	for (size_t i = 0; i < sc->waiters.cap; i++) {
		if (sc->waiters.keys && sc->waiters.keys[i]) {
			struct waiter *wt = sc->waiters.values[i];

			waiter_free(sc, &wt);
		}
	}
	idmap_free(&sc->waiters);
	idmap_free(&sc->in_flight);
	idmap_free(&sc->split);
	idmap_free(&sc->writing);
	twins_free(&sc->twins);
	cachekey_files_free(&sc->own_files);
	for (size_t i = 0; i < sc->nbackends; i++)
		backend_free(sc, sc->backends[i]);
	free(sc->backends);
	for (size_t i = 0; i < sc->nestimates; i++) {
		free(sc->estimates[i].model);
		free(sc->estimates[i].recent);
		free(sc->estimates[i].sizes);
	}
	free(sc->estimates);
	clock_timer_free(sc->clock, &sc->linger);
	if (unsaved_count(sc->unsaved) > 0)
		say(sc, SEVERITY_ERROR, "stopping with %zu changes the task database did not take: their tasks are where "
		    "it last had them, and run again at the next start", unsaved_count(sc->unsaved));
	unsaved_free(&sc->unsaved);
	clock_timer_free(sc->clock, &sc->save_retry);
	free(sc->starts);
	free(sc->results_dir);
	free(sc->retry_faults);
	free(sc);
	*scp = NULL;
}

bool scheduler_set_paused(struct scheduler *sc, const char *name, bool paused, char **err)
{
	struct backend *b = name ? find_backend(sc, name) : NULL;

	if (b) {
		b->paused = paused;
		return true;
	}
	if (name == NULL) {
		for (size_t i = 0; i < sc->nbackends; i++)
			sc->backends[i]->paused = paused;
		return true;
	}
	*err = no_such_backend(sc, name);
	return false;
}

/* ---- readers ------------------------------------------------------------------------------- */

void scheduler_each_backend(const struct scheduler *sc, void (*fn)(const struct sched_backend_info *b, void *ud),
			    void *ud)
{
	for (size_t i = 0; i < sc->nbackends; i++) {
		const struct backend *b = sc->backends[i];
		double now_down = b->up ? 0 : (double)(now_ms(sc) - b->down_since) / 1000;
		struct sched_backend_info info = {
			.name = b->name, .url = b->url, .up = b->up, .paused = b->paused, .busy = b->busy,
			.checking = !b->known,
			.slots = b->slots, .failures = b->failures, .downtime = b->downtime + now_down,
			.down_for = b->known ? now_down : 0,
			.probe_in = b->up ? 0 : sc->clock->ops->timer_remaining(b->probe),
			.max_batch = b->max_batch,
			.idle_for = b->busy ? 0 : (double)(now_ms(sc) - b->idle_since) / 1000,
		};

		if (!b->removed)
			fn(&info, ud);
	}
}

static void call_info(const struct scheduler *sc, const struct batch *bt, struct sched_call_info *out)
{
	double elapsed = (double)(now_ms(sc) - bt->started) / 1000;

	/* DESIGN 5: elapsed over the model's running mean, capped below 100 % until the call returns. */
	*out = (struct sched_call_info){
		.batch = bt->id, .backend = bt->b->name, .model = bt->call->model_path, .ids = bt->ids, .n = bt->n,
		.attempt = bt->attempt, .elapsed = elapsed, .estimate = bt->estimate, .timeout = bt->timeout_s,
		.progress = bt->estimate > 0 ? fmin(0.99, elapsed / bt->estimate) : -1,
	};
}

void scheduler_each_call(const struct scheduler *sc, void (*fn)(const struct sched_call_info *c, void *ud), void *ud)
{
	for (const struct batch *bt = sc->batches; bt; bt = bt->next) {
		struct sched_call_info info;

		call_info(sc, bt, &info);
		fn(&info, ud);
	}
}

bool scheduler_call_of(const struct scheduler *sc, int64_t id, struct sched_call_info *out)
{
	const struct batch *bt = idmap_get(&sc->in_flight, id);

	if (bt)
		call_info(sc, bt, out);
	return bt != NULL;
}

void scheduler_each_retry(const struct scheduler *sc, void (*fn)(const struct task *t, double retry_in, void *ud),
			  void *ud)
{
	int64_t now = now_ms(sc);

	for (size_t i = 0; i < sc->waiters.cap; i++) {
		const struct waiter *wt = sc->waiters.keys && sc->waiters.keys[i] ? sc->waiters.values[i] : NULL;
		const struct task *t = wt ? sc->host.task(sc->host.ud, wt->id) : NULL;

		if (t)
			fn(t, (double)(t->retry_due - now) / 1000, ud);
	}
}

static int by_seconds(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void scheduler_each_model(const struct scheduler *sc, void (*fn)(const struct sched_model_info *m, void *ud), void *ud)
{
	for (size_t i = 0; i < sc->nestimates; i++) {
		const struct estimate *e = &sc->estimates[i];
		double sorted[RECENT_CALLS], sum = 0;
		struct sched_model_info info = {.model = e->model, .calls = e->n, .duration_le = e->duration_le,
						.duration_sum = e->duration_sum};

		if (e->nrecent) {
			memcpy(sorted, e->recent, e->nrecent * sizeof *sorted);
			qsort(sorted, e->nrecent, sizeof *sorted, by_seconds);
			for (size_t k = 0; k < e->nrecent; k++)
				sum += sorted[k];
			info.mean = sum / (double)e->nrecent;
			info.p95 = sorted[e->nrecent * 95 / 100];
		} else {
			info.calls = 0;
		}
		fn(&info, ud);
	}
}

void scheduler_totals(const struct scheduler *sc, struct sched_totals *out)
{
	*out = (struct sched_totals){.calls = sc->calls, .cases = sc->cases, .batch_le = sc->batch_le,
				     .max_retries = sc->opt.max_retries};
}
