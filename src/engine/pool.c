#include "autoconf.h"

#include "engine/pool.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/time.h"
#include "util/xalloc.h"

/* Seconds between looks at the queue and the backends. */
#define TICK_S 1.0
/* Outputs of failed jobs kept in the pool directory (older ones go). */
#define KEPT_OUTPUTS 5

struct instance {
	struct pool *p;
	char *job;     /* NULL while submitting */
	char *backend; /* POOL-JOB */
	enum pool_state state;
	int64_t since; /* wall ms it came to this state */
	char node[64];
	char reason[64];      /* why it is pending, as the last listing said */
	char how[32];         /* the cluster's word for its state when it was last listed ended */
	bool seen_running;    /* a listing showed it running ("job N started on NODE" said) */
	bool answered;        /* its backend has been UP since it registered */
	bool ever_registered; /* it registered at some point (its job did start PLECS) */
	uint64_t known;       /* the listings sent before its job id was known: later ones may judge it */
	uint64_t round;       /* the submitting round it was submitted in (0: adopted) */
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
	bool listing, listed;     /* a listing is out; one has come back */
	uint64_t listings;        /* listings sent */
	int64_t last_list;        /* wall ms the last listing went out */
	int64_t submit_after;     /* wall ms before which nothing is submitted (a submit failed) */
	char *list_error;         /* the last listing's error, said once; NULL once a listing is read */
	int64_t idle_since;       /* wall ms since nothing waits, 0 while something does */
	int failures;             /* failed submits and jobs ended before they registered, in a row */
	uint64_t rounds;          /* submitting rounds begun: the jobs a tick asks for at once */
	uint64_t failed_round;    /* the round whose failed submit counted: its others count no more */
	int early_ends;           /* of those, jobs that ended before they registered */
	char *problem;            /* the last of those, in words */
	char *output;             /* the output file of the last job that ended before it registered */
	char *kept[KEPT_OUTPUTS]; /* the jobs whose output is kept, oldest first */
};

static const char *const state_names[] = {
#define X(id, name) name,
    POOL_STATES(X)
#undef X
};

static const char *const health_names[] = {
#define X(id, name) name,
    POOL_HEALTH(X)
#undef X
};

const char *pool_state_name(enum pool_state s)
{
	return state_names[s];
}

const char *pool_health_name(enum pool_health h)
{
	return health_names[h];
}

void pool_job_output_clear(struct pool_job_output *o)
{
	free(o->path);
	free(o->tail);
	free(o->end);
	*o = (struct pool_job_output){0};
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
	bool found, up, checking;
	int busy;
	double idle_for, down_for;
	char url[256];
};

static void look_for(const struct sched_backend_info *b, void *arg)
{
	struct seen_backend *s = arg;

	if (strcmp(b->name, s->name) == 0) {
		s->found = true;
		s->up = b->up;
		s->checking = b->checking;
		s->down_for = b->down_for;
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

/* An instance registered: the failures in a row are over. */
static void registered(struct pool *p, struct instance *in, const char *url, const char *how)
{
	set_state(p, in, POOL_REGISTERED);
	in->answered = false;
	in->ever_registered = true;
	say(p, SEVERITY_INFO, "%s registered at %s (job %s%s)", in->backend, url, in->job, how);
	if (p->failures >= POOL_FAILING_AFTER)
		say(p, SEVERITY_INFO, "back to work after %d failures in a row: %s registered", p->failures,
		    in->backend);
	p->failures = p->early_ends = 0;
	p->submit_after = 0;
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
		registered(p, in, s.url, "");
	} else if (s.found && s.up) {
		in->answered = true;
	} else if (!s.found && in->state == POOL_REGISTERED) {
		/* Its backend was removed (by its job as it ends, or by hand): the job may still be listed. */
		set_state(p, in, POOL_STARTED);
		say(p, SEVERITY_INFO, "%s unregistered (job %s)", in->backend, in->job);
	}
}

/* ---- failures in a row: backoff ---------------------------------------------------------------- */

/* One more failure in a row: the next submit waits backoff doubled per failure, up to POOL_BACKOFF_MAX. */
static double failed_once(struct pool *p, const char *problem)
{
	double wait = p->opt.backoff * ldexp(1.0, p->failures < 20 ? p->failures : 20);

	if (wait > POOL_BACKOFF_MAX)
		wait = POOL_BACKOFF_MAX;
	p->failures++;
	p->submit_after = now_ms(p) + (int64_t)(wait * 1000);
	free(p->problem);
	p->problem = xstrdup(problem);
	return wait;
}

/* The job's output is kept (it says why the job failed); the oldest kept beyond KEPT_OUTPUTS goes. */
static void keep_output(struct pool *p, const char *job)
{
	if (p->kept[0] && p->kept[KEPT_OUTPUTS - 1]) {
		p->ops->forget(p->impl, p->kept[0], false);
		free(p->kept[0]);
		memmove(p->kept, p->kept + 1, (KEPT_OUTPUTS - 1) * sizeof *p->kept);
		p->kept[KEPT_OUTPUTS - 1] = NULL;
	}
	for (size_t i = 0; i < KEPT_OUTPUTS; i++) {
		if (p->kept[i] == NULL) {
			p->kept[i] = xstrdup(job);
			break;
		}
	}
	p->ops->forget(p->impl, job, true);
}

/* ---- submitting and releasing --------------------------------------------------------------------------- */

static void submitted(void *ud, const char *id, const char *err);

static void submit(struct pool *p)
{
	struct instance *in = add_instance(p, NULL, POOL_SUBMITTING);

	in->round = p->rounds;
	p->ops->submit(p->impl, submitted, in);
}

static void submitted(void *ud, const char *id, const char *err)
{
	struct instance *in = ud;
	struct pool *p = in->p;

	/* The jobs of one round fail for one reason: the first failure counts, the others of its round not. */
	if (id == NULL && in->round != 0 && in->round == p->failed_round) {
		drop_instance(p, in);
		return;
	}
	if (id == NULL) {
		char *problem = xasprintf("cannot submit a job: %s", err ? err : "no reason given"), dur[32];
		double wait = failed_once(p, problem);

		p->failed_round = in->round;
		say(p, SEVERITY_WARNING, "%s; %d failure%s in a row, next try in %s", problem, p->failures,
		    p->failures == 1 ? "" : "s", time_format_duration(dur, sizeof dur, wait));
		free(problem);
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

/* Removes the instance's backend (as gone when gone is given) and cancels its job. */
static void cancel(struct pool *p, struct instance *in, const char *gone)
{
	char *err = NULL;

	if (in->state == POOL_REGISTERED && !p->host.remove(p->host.ud, in->backend, gone, &err))
		free(err);
	p->ops->cancel(p->impl, in->job);
	set_state(p, in, POOL_RELEASED);
}

static void release(struct pool *p, struct instance *in, double idle)
{
	char dur[32];

	time_format_duration(dur, sizeof dur, idle);
	if (in->state == POOL_PENDING)
		say(p, SEVERITY_INFO, "job %s cancelled while pending: nothing has waited for %s", in->job, dur);
	else
		say(p, SEVERITY_INFO, "%s released after %s without work (job %s cancelled)", in->backend, dur,
		    in->job);
	cancel(p, in, NULL);
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

/* Registered instances with a call running: those at work. */
static int busy_instances(struct pool *p)
{
	int n = 0;

	for (struct instance *in = p->instances; in; in = in->next) {
		struct seen_backend s = in->state == POOL_REGISTERED ? backend_of(p, in) : (struct seen_backend){0};

		n += s.found && s.busy > 0;
	}
	return n;
}

/*
 * How many instances the queue wants: those at work, and one per full batch waiting, within min and
 * max.  An idle instance is not at work: the tasks waiting are its (a task waiting for its retry
 * waits for time, not for an instance — counting idle ones at work asked for one more each tick).
 */
static int wanted(const struct pool *p, size_t waiting, int busy)
{
	size_t per = (size_t)(p->opt.backend.max_batch > 0 ? p->opt.backend.max_batch : 1) *
	             (size_t)(p->opt.backend.slots > 0 ? p->opt.backend.slots : 1);
	size_t want = waiting ? (size_t)busy + (waiting + per - 1) / per : 0;

	if (want > (size_t)p->opt.max)
		want = (size_t)p->opt.max;
	return (int)want < p->opt.min ? p->opt.min : (int)want;
}

static void scale_up(struct pool *p, size_t waiting)
{
	struct census c = count(p);
	int want = wanted(p, waiting, busy_instances(p));

	/* Not before the first listing, nor while the jobs cannot be listed, nor in a backoff. */
	if (!p->listed || p->list_error || now_ms(p) < p->submit_after)
		return;
	if (c.active < want && c.total < p->opt.max)
		p->rounds++;
	while (c.active < want && c.total < p->opt.max) {
		submit(p);
		c.active++;
		c.total++;
	}
}

/* Nothing waits: registered instances without a call for idle_after go, and pending jobs, down to min. */
static void scale_down(struct pool *p)
{
	struct census c = count(p);
	double quiet = (double)(now_ms(p) - p->idle_since) / 1000;

	for (struct instance *in = p->instances; in && c.active > p->opt.min; in = in->next) {
		struct seen_backend s = backend_of(p, in);
		double idle = -1;

		/* Idle counts from registration: a job still starting is not idle. */
		if (in->state == POOL_REGISTERED && s.found)
			idle = s.busy ? 0 : s.idle_for;
		else if (in->state == POOL_PENDING)
			idle = quiet;
		if (idle >= p->opt.idle_after) {
			release(p, in, idle);
			c.active--;
		}
	}
}

/* A registered instance that has not answered for twice answer_within: given up, its job cancelled. */
static void give_up_silent(struct pool *p)
{
	double limit = 2 * p->opt.answer_within;

	for (struct instance *in = p->instances; in; in = in->next) {
		struct seen_backend s = backend_of(p, in);
		double silent = 0;
		char dur[32], *gone;

		if (in->state != POOL_REGISTERED || !s.found || s.up)
			continue;
		silent = s.checking || !in->answered ? (double)(now_ms(p) - in->since) / 1000 : s.down_for;
		if (silent < limit)
			continue;
		time_format_duration(dur, sizeof dur, silent);
		gone = xasprintf("it did not answer for %s: job %s cancelled", dur, in->job);
		say(p, SEVERITY_WARNING,
		    "%s at %s did not answer for %s (answer_within %gs, twice): given up, job %s "
		    "cancelled; a replacement is submitted while work waits",
		    in->backend, s.url, dur, p->opt.answer_within, in->job);
		if (!in->answered) {
			char *problem = xasprintf("%s at %s never answered", in->backend, s.url);

			failed_once(p, problem);
			free(problem);
		}
		cancel(p, in, gone);
		free(gone);
	}
}

static void list_jobs(struct pool *p);

static void tick(struct pool *p)
{
	size_t waiting = p->host.waiting(p->host.ud);

	for (struct instance *in = p->instances; in; in = in->next)
		if (in->job)
			follow_backend(p, in);
	give_up_silent(p);
	if (waiting > 0)
		p->idle_since = 0;
	else if (p->idle_since == 0)
		p->idle_since = now_ms(p);
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
	c.probe_timeout = p->opt.answer_within;
	if (p->host.add(p->host.ud, &c, &err)) {
		registered(p, in, url, ", from the URL it left");
	} else {
		say(p, SEVERITY_WARNING, "%s: cannot add it at %s: %s", in->backend, url, err);
		free(err);
	}
}

/* A job that ran and ended before its instance registered: a failure in a row, with its last words. */
static void ended_unregistered(struct pool *p, struct instance *in, const char *how, struct pool_job_output *o)
{
	char *problem, dur[32];
	double wait;

	problem = xasprintf("job %s ended before its instance registered (%s); last output: %s", in->job, how,
	                    o->tail ? o->tail : "none");
	wait = failed_once(p, problem);
	p->early_ends++;
	free(p->output);
	p->output = xstrdup(o->path ? o->path : "");
	time_format_duration(dur, sizeof dur, wait);
	if (p->early_ends >= POOL_FAILING_AFTER)
		say(p, SEVERITY_ERROR,
		    "%d jobs in a row ended before they registered; last output: %s; next try in %s "
		    "(job %s's output: %s)",
		    p->early_ends, o->tail ? o->tail : "none", dur, in->job, p->output);
	else
		say(p, SEVERITY_WARNING, "%s; next try in %s (its output: %s)", problem, dur, p->output);
	free(problem);
	keep_output(p, in->job);
}

/* The job is gone: as asked (released), or lost — its backend goes as gone and its tasks back to the queue. */
static void job_gone(struct pool *p, struct instance *in)
{
	struct pool_job_output o = {0};
	char *err = NULL, *why, how[160];

	p->ops->output(p->impl, in->job, &o);
	/* Slurm's own line in the output says more than a listing caught while the job was COMPLETING. */
	snprintf(how, sizeof how, "%s",
	         o.end && (!in->how[0] || strcmp(in->how, "COMPLETING") == 0) ? o.end
	         : in->how[0]                                                 ? in->how
	                                                                      : "squeue no longer lists it");
	if (in->state == POOL_RELEASED) {
		say(p, SEVERITY_INFO, "job %s ended (%s released; %s)", in->job, in->backend, how);
		p->ops->forget(p->impl, in->job, false);
	} else if (!in->ever_registered && o.tail) {
		ended_unregistered(p, in, how, &o);
	} else if (!in->ever_registered) {
		/* It never ran (cancelled while pending, by hand or the cluster). */
		say(p, SEVERITY_WARNING, "job %s ended while pending (%s); a replacement is submitted while work waits",
		    in->job, how);
		p->ops->forget(p->impl, in->job, false);
	} else {
		why = xasprintf("its job %s ended (%s)", in->job, how);
		say(p, SEVERITY_WARNING, "%s lost: job %s ended (%s); a replacement is submitted while work waits",
		    in->backend, in->job, how);
		if (!p->host.remove(p->host.ud, in->backend, why, &err))
			free(err);
		free(why);
		keep_output(p, in->job);
	}
	pool_job_output_clear(&o);
	drop_instance(p, in);
}

/* A job the listing shows: its instance follows it, or a job the pool did not know (a restart's) is adopted. */
static void job_listed(struct pool *p, const struct pool_job *j)
{
	struct instance *in = find_job(p, j->id);

	if (in == NULL) {
		in = add_instance(p, j->id, j->state == POOL_JOB_PENDING ? POOL_PENDING : POOL_STARTED);
		snprintf(in->node, sizeof in->node, "%s", j->node ? j->node : "");
		in->seen_running = j->state == POOL_JOB_RUNNING;
		say(p, SEVERITY_INFO, "adopted job %s (%s%s%s)", j->id,
		    j->state == POOL_JOB_PENDING ? "pending" : "running", in->node[0] ? " on " : "", in->node);
		follow_backend(p, in);
	} else if (j->state == POOL_JOB_RUNNING && !in->seen_running) {
		/* Said once, whether or not it has registered meanwhile. */
		snprintf(in->node, sizeof in->node, "%s", j->node ? j->node : "");
		in->seen_running = true;
		if (in->state == POOL_PENDING)
			set_state(p, in, POOL_STARTED);
		say(p, SEVERITY_INFO, "job %s started%s%s", j->id, in->node[0] ? " on " : "", in->node);
		follow_backend(p, in);
	}
	snprintf(in->reason, sizeof in->reason, "%s", j->state == POOL_JOB_PENDING && j->reason ? j->reason : "");
	if (j->state == POOL_JOB_RUNNING && in->state == POOL_STARTED)
		register_from_url(p, in, j->url);
}

/* Numeric job ids: is a newer than b? */
static bool newer(const struct instance *a, const struct instance *b)
{
	size_t la = strlen(a->job), lb = strlen(b->job);

	return la != lb ? la > lb : strcmp(a->job, b->job) > 0;
}

/* Which instance goes first when there are too many: pending before started before registered, newest first. */
static struct instance *first_to_cancel(struct pool *p)
{
	struct instance *pick = NULL;

	for (struct instance *in = p->instances; in; in = in->next) {
		if (in->job == NULL || in->state == POOL_RELEASED)
			continue;
		if (pick == NULL || in->state < pick->state || (in->state == pick->state && newer(in, pick)))
			pick = in;
	}
	return pick;
}

/* More jobs than max (a previous server's, or ones Slurm showed again): the excess is cancelled. */
static void trim_to_max(struct pool *p)
{
	struct census c = count(p);

	while (c.active > p->opt.max) {
		struct instance *in = first_to_cancel(p);

		if (in == NULL)
			break;
		say(p, SEVERITY_WARNING, "%d jobs alive, more than max = %d: job %s (%s) cancelled", c.active,
		    p->opt.max, in->job, pool_state_name(in->state));
		cancel(p, in, "its job was cancelled: the pool had more than max jobs");
		c.active--;
	}
}

static void listed(void *ud, const struct pool_job *jobs, size_t n, const char *err)
{
	struct pool *p = ud;

	p->listing = false;
	if (err) {
		/* Said once until it changes: a cluster that is down for an hour writes one line. */
		if (p->list_error == NULL || strcmp(p->list_error, err) != 0)
			say(p, SEVERITY_WARNING,
			    "cannot list its jobs: %s; its instances are kept, and nothing is "
			    "submitted until it can",
			    err);
		free(p->list_error);
		p->list_error = xstrdup(err);
		return;
	}
	if (p->list_error)
		say(p, SEVERITY_INFO, "its jobs can be listed again");
	free(p->list_error);
	p->list_error = NULL;
	for (size_t i = 0; i < n; i++) {
		struct instance *in = find_job(p, jobs[i].id);

		if (jobs[i].state != POOL_JOB_ENDED)
			job_listed(p, &jobs[i]);
		else if (in)
			snprintf(in->how, sizeof in->how, "%s", jobs[i].how ? jobs[i].how : "ended");
	}
	for (struct instance *in = p->instances, *next; in; in = next) {
		bool found = false;

		next = in->next;
		for (size_t i = 0; i < n && in->job && !found; i++)
			found = strcmp(jobs[i].id, in->job) == 0 && jobs[i].state != POOL_JOB_ENDED;
		if (in->job && !found && in->known < p->listings)
			job_gone(p, in);
	}
	trim_to_max(p);
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
	free(p->problem);
	free(p->output);
	for (size_t i = 0; i < KEPT_OUTPUTS; i++)
		free(p->kept[i]);
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
		                                  .reason = in->reason,
		                                  .age = (double)(now_ms(p) - in->since) / 1000};

		fn(&info, ud);
	}
}

void pool_get_status(const struct pool *p, struct pool_status *out)
{
	int64_t wait = p->submit_after - now_ms(p);

	*out = (struct pool_status){.name = p->name,
	                            .health = p->list_error                       ? POOL_HEALTH_UNLISTED
	                                      : p->failures >= POOL_FAILING_AFTER ? POOL_HEALTH_FAILING
	                                                                          : POOL_HEALTH_OK,
	                            .failures = p->failures,
	                            .next_try = wait > 0 ? (double)wait / 1000 : 0,
	                            .problem = p->list_error ? p->list_error
	                                       : p->problem  ? p->problem
	                                                     : "",
	                            .output = p->output ? p->output : "",
	                            .pending_reason = ""};
	for (const struct instance *in = p->instances; in; in = in->next) {
		if (in->state == POOL_PENDING && in->reason[0] && !out->pending_reason[0])
			out->pending_reason = in->reason;
		out->pending += in->state == POOL_PENDING || in->state == POOL_SUBMITTING;
		out->started += in->state == POOL_STARTED;
		out->registered += in->state == POOL_REGISTERED;
	}
}

bool pool_claims(const struct pool *p, const char *backend, const char **job)
{
	size_t n = strlen(p->name);
	const char *digits = backend + n + 1;

	if (strncmp(backend, p->name, n) != 0 || backend[n] != '-' || digits[0] == '\0' ||
	    strspn(digits, "0123456789") != strlen(digits))
		return false;
	*job = digits;
	return true;
}

bool pool_backend_removed(struct pool *p, const char *backend)
{
	for (struct instance *in = p->instances; in; in = in->next) {
		if (in->backend && strcmp(in->backend, backend) == 0 && in->state != POOL_RELEASED) {
			say(p, SEVERITY_INFO, "%s removed by hand (simq backend remove): job %s cancelled", backend,
			    in->job);
			/* Its backend is gone already: removing it again is refused, and nothing comes of it. */
			cancel(p, in, NULL);
			return true;
		}
	}
	return false;
}

double pool_answer_within(const struct pool *p)
{
	return p->opt.answer_within;
}

void pool_instance_registered(struct pool *p, const char *job, const char *url)
{
	struct instance *in = find_job(p, job);

	/* Known at once, not at the next tick: a job that ends within the second has still served. */
	if (in && in->state != POOL_RELEASED && in->state != POOL_REGISTERED)
		registered(p, in, url, "");
}
