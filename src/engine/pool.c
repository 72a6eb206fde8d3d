#include "autoconf.h"

#include "engine/pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/time.h"
#include "util/xalloc.h"

/* Seconds between looks at the queue and the backends. */
#define TICK_S 1.0
/* Seconds before a failed submit is tried again (at least one listing apart). */
#define SUBMIT_RETRY_S 10.0

struct instance {
	struct pool *p;
	char *job;     /* NULL while submitting */
	char *backend; /* POOL-JOB */
	enum pool_state state;
	int64_t since; /* wall ms it came to this state */
	char node[64];
	uint64_t known; /* the listings sent before its job id was known: later ones may judge it */
	struct instance *next;
};

struct pool {
	struct pool_options opt;
	char *name;
	const struct pool_launcher_ops *ops;
	void *impl;
	const struct clock *clock;
	struct pool_host host;
	struct clock_timer *tick;
	struct instance *instances;
	bool listing, listed; /* a listing is out; one has come back */
	uint64_t listings;    /* listings sent */
	int64_t last_list;    /* wall ms the last listing went out */
	int64_t submit_after; /* wall ms before which nothing is submitted (a submit failed) */
	char *list_error;     /* the last listing's error, said once */
};

static const char *const state_names[] = {
#define X(id, name) name,
    POOL_STATES(X)
#undef X
};

const char *pool_state_name(enum pool_state s)
{
	return state_names[s];
}

const char *pool_name(const struct pool *p)
{
	return p->name;
}

static int64_t now_ms(const struct pool *p)
{
	return clock_now_ms(p->clock);
}

static void say(struct pool *p, enum log_severity severity, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(struct pool *p, enum log_severity severity, const char *fmt, ...)
{
	va_list ap;
	char *text, *line;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("pool %s: %s", p->name, text);
	p->host.log(p->host.ud, severity, line);
	free(line);
	free(text);
}

static void set_state(struct pool *p, struct instance *in, enum pool_state s)
{
	in->state = s;
	in->since = now_ms(p);
}

static struct instance *add_instance(struct pool *p, const char *job, enum pool_state s)
{
	struct instance *in = xcalloc(1, sizeof *in);

	in->p = p;
	in->known = p->listings;
	if (job) {
		in->job = xstrdup(job);
		in->backend = xasprintf("%s-%s", p->name, job);
	}
	set_state(p, in, s);
	in->next = p->instances;
	p->instances = in;
	return in;
}

static void drop_instance(struct pool *p, struct instance *in)
{
	for (struct instance **pp = &p->instances; *pp; pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	}
	free(in->job);
	free(in->backend);
	free(in);
}

static struct instance *find_job(const struct pool *p, const char *job)
{
	for (struct instance *in = p->instances; in; in = in->next)
		if (in->job && strcmp(in->job, job) == 0)
			return in;
	return NULL;
}

/* ---- the backends as the scheduler has them ------------------------------------------------- */

struct seen_backend {
	const char *name;
	bool found;
	int busy;
	double idle_for;
	char url[256];
};

static void look_for(const struct sched_backend_info *b, void *arg)
{
	struct seen_backend *s = arg;

	if (strcmp(b->name, s->name) == 0) {
		s->found = true;
		s->busy = b->busy;
		s->idle_for = b->idle_for;
		snprintf(s->url, sizeof s->url, "%s", b->url);
	}
}

static struct seen_backend backend_of(struct pool *p, const struct instance *in)
{
	struct seen_backend s = {.name = in->backend};

	if (in->backend)
		p->host.each_backend(p->host.ud, look_for, &s);
	return s;
}

/* An instance's backend came (its job registered it) or went (its job removed it on the way out). */
static void follow_backend(struct pool *p, struct instance *in)
{
	struct seen_backend s = backend_of(p, in);
	char *err = NULL;

	if (s.found && in->state == POOL_RELEASED) {
		/* Registered again after it was released: it is going, so it gets no work. */
		if (!p->host.remove(p->host.ud, in->backend, NULL, &err))
			free(err);
	} else if (s.found && in->state != POOL_REGISTERED) {
		set_state(p, in, POOL_REGISTERED);
		say(p, SEVERITY_INFO, "%s registered at %s (job %s)", in->backend, s.url, in->job);
	} else if (!s.found && in->state == POOL_REGISTERED) {
		/* Its backend was removed (by its job as it ends, or by hand): the job may still be listed. */
		set_state(p, in, POOL_STARTED);
		say(p, SEVERITY_INFO, "%s unregistered (job %s)", in->backend, in->job);
	}
}

/* ---- submitting and releasing --------------------------------------------------------------------------- */

static void submitted(void *ud, const char *id, const char *err);

static void submit(struct pool *p)
{
	p->ops->submit(p->impl, submitted, add_instance(p, NULL, POOL_SUBMITTING));
}

static void submitted(void *ud, const char *id, const char *err)
{
	struct instance *in = ud;
	struct pool *p = in->p;

	if (id == NULL) {
		say(p, SEVERITY_WARNING, "cannot submit a job: %s; trying again in %.0fs",
		    err ? err : "no reason given", SUBMIT_RETRY_S);
		p->submit_after = now_ms(p) + (int64_t)(SUBMIT_RETRY_S * 1000);
		drop_instance(p, in);
		return;
	}
	/* A listing that went out meanwhile may have found it already. */
	if (find_job(p, id)) {
		drop_instance(p, in);
		return;
	}
	/* A listing out now was asked before this job existed: it is not for it to say the job is gone. */
	in->known = p->listings;
	in->job = xstrdup(id);
	in->backend = xasprintf("%s-%s", p->name, id);
	set_state(p, in, POOL_PENDING);
	say(p, SEVERITY_INFO, "job %s submitted (instance %s)", id, in->backend);
}

static void release(struct pool *p, struct instance *in, double idle)
{
	char *err = NULL, dur[32];

	if (in->state == POOL_REGISTERED && !p->host.remove(p->host.ud, in->backend, NULL, &err))
		free(err);
	p->ops->cancel(p->impl, in->job);
	say(p, SEVERITY_INFO, "%s released after %s without work (job %s cancelled)", in->backend,
	    time_format_duration(dur, sizeof dur, idle), in->job);
	set_state(p, in, POOL_RELEASED);
}

/* ---- the policy -------------------------------------------------------------------------------- */

struct census {
	int total;  /* every job submitted and not yet gone: never more than max */
	int active; /* those not released */
	int registered;
};

static struct census count(const struct pool *p)
{
	struct census c = {0};

	for (const struct instance *in = p->instances; in; in = in->next) {
		c.total++;
		c.active += in->state != POOL_RELEASED;
		c.registered += in->state == POOL_REGISTERED;
	}
	return c;
}

/* How many instances the queue wants: those at work, and one per full batch waiting, within min and max. */
static int wanted(const struct pool *p, size_t waiting, int registered)
{
	size_t per = (size_t)(p->opt.backend.max_batch > 0 ? p->opt.backend.max_batch : 1) *
	             (size_t)(p->opt.backend.slots > 0 ? p->opt.backend.slots : 1);
	size_t want = waiting ? (size_t)registered + (waiting + per - 1) / per : 0;

	if (want > (size_t)p->opt.max)
		want = (size_t)p->opt.max;
	return (int)want < p->opt.min ? p->opt.min : (int)want;
}

static void scale_up(struct pool *p, size_t waiting)
{
	struct census c = count(p);
	int want = wanted(p, waiting, c.registered);

	if (!p->listed || now_ms(p) < p->submit_after)
		return;
	while (c.active < want && c.total < p->opt.max) {
		submit(p);
		c.active++;
		c.total++;
	}
}

/* Nothing waits: instances without a call for idle_after go, down to min. */
static void scale_down(struct pool *p)
{
	struct census c = count(p);

	for (struct instance *in = p->instances; in && c.active > p->opt.min; in = in->next) {
		if (in->state == POOL_SUBMITTING || in->state == POOL_RELEASED)
			continue;
		struct seen_backend s = backend_of(p, in);
		double idle = s.found ? (s.busy ? 0 : s.idle_for) : (double)(now_ms(p) - in->since) / 1000;

		if (idle >= p->opt.idle_after) {
			release(p, in, idle);
			c.active--;
		}
	}
}

static void list_jobs(struct pool *p);

static void tick(struct pool *p)
{
	size_t waiting = p->host.waiting(p->host.ud);

	for (struct instance *in = p->instances; in; in = in->next)
		if (in->job)
			follow_backend(p, in);
	if (waiting > 0)
		scale_up(p, waiting);
	else if (p->listed)
		scale_down(p);
	/* Below min with nothing waiting: instances to have at hand. */
	if (waiting == 0)
		scale_up(p, 0);
	if (!p->listing && now_ms(p) - p->last_list >= (int64_t)(p->opt.poll * 1000))
		list_jobs(p);
}

static void tick_cb(void *arg)
{
	struct pool *p = arg;

	tick(p);
	p->clock->ops->timer_start(p->tick, TICK_S);
}

/* ---- listings: what became of the jobs -------------------------------------------------------- */

/* A running job's instance that has no backend: its URL (a restarted server's adoption) makes it one. */
static void register_from_url(struct pool *p, struct instance *in, const char *url)
{
	struct backend_config c = p->opt.backend;
	char *err = NULL;

	if (url == NULL || backend_of(p, in).found)
		return;
	c.name = in->backend;
	c.url = url;
	if (p->host.add(p->host.ud, &c, &err)) {
		set_state(p, in, POOL_REGISTERED);
		say(p, SEVERITY_INFO, "%s registered at %s (job %s, from the URL it left)", in->backend, url, in->job);
	} else {
		say(p, SEVERITY_WARNING, "%s: cannot add it at %s: %s", in->backend, url, err);
		free(err);
	}
}

/* The job is gone: as asked (released), or lost — its backend goes as gone and its tasks back to the queue. */
static void job_gone(struct pool *p, struct instance *in)
{
	char *err = NULL, *why;

	if (in->state == POOL_RELEASED) {
		say(p, SEVERITY_INFO, "job %s ended (%s released)", in->job, in->backend);
		drop_instance(p, in);
		return;
	}
	why = xasprintf("its job %s ended", in->job);
	say(p, SEVERITY_WARNING, "%s lost: Slurm no longer runs job %s (it was %s); %s", in->backend, in->job,
	    pool_state_name(in->state), "a replacement is submitted while work waits");
	if (!p->host.remove(p->host.ud, in->backend, why, &err))
		free(err);
	free(why);
	drop_instance(p, in);
}

/* A job the listing shows: its instance follows it, or a job the pool did not know (a restart's) is adopted. */
static void job_listed(struct pool *p, const struct pool_job *j)
{
	struct instance *in = find_job(p, j->id);

	if (in == NULL) {
		in = add_instance(p, j->id, j->state == POOL_JOB_PENDING ? POOL_PENDING : POOL_STARTED);
		snprintf(in->node, sizeof in->node, "%s", j->node ? j->node : "");
		say(p, SEVERITY_INFO, "adopted job %s (%s%s%s)", j->id,
		    j->state == POOL_JOB_PENDING ? "pending" : "running", in->node[0] ? " on " : "", in->node);
		follow_backend(p, in);
	} else if (j->state == POOL_JOB_RUNNING && in->state == POOL_PENDING) {
		snprintf(in->node, sizeof in->node, "%s", j->node ? j->node : "");
		set_state(p, in, POOL_STARTED);
		say(p, SEVERITY_INFO, "job %s started%s%s", j->id, in->node[0] ? " on " : "", in->node);
		follow_backend(p, in);
	}
	if (j->state == POOL_JOB_RUNNING && in->state == POOL_STARTED)
		register_from_url(p, in, j->url);
}

static void listed(void *ud, const struct pool_job *jobs, size_t n, const char *err)
{
	struct pool *p = ud;

	p->listing = false;
	if (err) {
		/* Said once until it changes: a cluster that is down for an hour writes one line. */
		if (p->list_error == NULL || strcmp(p->list_error, err) != 0)
			say(p, SEVERITY_WARNING, "cannot list its jobs: %s; nothing is submitted until it can", err);
		free(p->list_error);
		p->list_error = xstrdup(err);
		return;
	}
	free(p->list_error);
	p->list_error = NULL;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].state != POOL_JOB_ENDED)
			job_listed(p, &jobs[i]);
	for (struct instance *in = p->instances, *next; in; in = next) {
		bool found = false;

		next = in->next;
		for (size_t i = 0; i < n && in->job && !found; i++)
			found = strcmp(jobs[i].id, in->job) == 0 && jobs[i].state != POOL_JOB_ENDED;
		if (in->job && !found && in->known < p->listings)
			job_gone(p, in);
	}
	if (!p->listed) {
		struct census c = count(p);

		p->listed = true;
		say(p, SEVERITY_INFO, "%d job%s of a previous server adopted; min %d, max %d, idle_after %gs", c.total,
		    c.total == 1 ? "" : "s", p->opt.min, p->opt.max, p->opt.idle_after);
	}
	tick(p);
}

static void list_jobs(struct pool *p)
{
	p->listing = true;
	p->listings++;
	p->last_list = now_ms(p);
	p->ops->list(p->impl, listed, p);
}

/* ---- setup and readers ---------------------------------------------------------------------------- */

struct pool *pool_new(const struct pool_options *opt, const struct pool_launcher_ops *ops, void *impl,
                      const struct clock *clock, const struct pool_host *host)
{
	struct pool *p = xcalloc(1, sizeof *p);

	p->opt = *opt;
	p->name = xstrdup(opt->name);
	p->opt.name = p->name;
	p->opt.backend.name = p->opt.backend.url = NULL;
	p->ops = ops;
	p->impl = impl;
	p->clock = clock;
	p->host = *host;
	p->tick = clock_timer_new(clock, tick_cb, p);
	return p;
}

void pool_start(struct pool *p)
{
	list_jobs(p);
	p->clock->ops->timer_start(p->tick, TICK_S);
}

void pool_free(struct pool **pp)
{
	struct pool *p = *pp;

	if (p == NULL)
		return;
	clock_timer_free(p->clock, &p->tick);
	while (p->instances)
		drop_instance(p, p->instances);
	free(p->list_error);
	free(p->name);
	free(p);
	*pp = NULL;
}

void pool_each_instance(const struct pool *p, void (*fn)(const struct pool_instance_info *i, void *ud), void *ud)
{
	for (const struct instance *in = p->instances; in; in = in->next) {
		struct pool_instance_info info = {.pool = p->name,
		                                  .job = in->job ? in->job : "",
		                                  .backend = in->backend ? in->backend : "",
		                                  .state = in->state,
		                                  .node = in->node,
		                                  .age = (double)(now_ms(p) - in->since) / 1000};

		fn(&info, ud);
	}
}
