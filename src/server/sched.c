#include "autoconf.h"

#include "server/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/retry.h"
#include "plecs/pool.h"
#include "plecs/wire.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/time.h"
#include "util/xalloc.h"

/* Result files per folder under results/ (see store_result). */
#define RESULTS_PER_DIR 100

/* A call's wait beyond the tasks' own Timeout, for PLECS to answer. */
#define TIMEOUT_MARGIN_S 10.0

struct loaded_model {
	char *name, *path;
	off_t size;
	struct timespec mtime;
};

struct backend {
	struct sched *sc;
	char *name, *url;
	int slots, busy, max_batch;
	double call_timeout;
	bool up, paused, probing;
	int failures;              /* consecutive calls without an answer */
	int probe_round;
	int64_t down_since;
	double downtime;           /* seconds DOWN since the server started, the current outage not yet counted */
	ev_timer probe;
	struct loaded_model *models;
	size_t nmodels;
};

/* One call in flight. */
struct batch {
	struct sched *sc;
	struct backend *b;
	struct plecs_job *job;
	int64_t id;
	int64_t *ids;
	size_t n;
	int attempt;               /* the head's attempt number */
	int64_t started;           /* wall ms */
	double estimate;           /* seconds, 0 when unknown */
	double timeout_s;          /* how long the call may take */
	struct stat model_stat;
	ev_timer timeout;
	struct batch *next;
};

/* A task waiting for its retry. */
struct waiter {
	struct sched *sc;
	int64_t id;
	ev_timer timer;
};

/* Calls kept per model for the statistics panel's mean and p95. */
#define RECENT_CALLS 256

/* Histogram bounds for /metrics: a task's call time in seconds, and a call's batch size. */
static const double duration_bounds[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600};
static const int batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NDURATION (sizeof duration_bounds / sizeof duration_bounds[0])
#define NBATCH (sizeof batch_bounds / sizeof batch_bounds[0])

struct estimate {
	char *model;
	double seconds;            /* running mean of a call's wall time */
	int n;
	double *recent;            /* the last RECENT_CALLS wall times, a ring */
	size_t nrecent, next;
	int64_t duration_le[NDURATION + 1]; /* tasks per bucket (not cumulative); the last is +Inf */
	double duration_sum;
};

struct sched {
	struct server *s;
	struct backend *backends;
	size_t nbackends, next_backend;
	struct plecs_pool *pool;
	struct batch *batches;
	struct idmap in_flight;    /* task id -> struct batch * */
	struct idmap waiters;      /* task id -> struct waiter * */
	struct idmap split;        /* task id -> largest batch it may join (intptr) */
	struct idmap ready;        /* task id -> its optStruct, built while PLECS ran the last call */
	int max_retries, down_after;
	double backoff_base, backoff_max, jitter, linger_s, max_batch_seconds;
	const char *retry_faults;
	bool matfile;
	bool sync;                 /* durability = full: fsync result files */
	int64_t next_batch;
	int64_t calls, cases;      /* answered calls since start and the cases they held: the mean batch */
	int64_t batch_le[NBATCH + 1];  /* answered calls per batch-size bucket (not cumulative) */
	char *results_dir;
	struct estimate *estimates;
	size_t nestimates;
	ev_timer linger;
	uint64_t rng;
	/* Batches started in this pass of the loop, saved with whatever else the pass saves. */
	struct store_change *starts;
	size_t nstarts, starts_cap;
};

static double random01(struct sched *sc)
{
	sc->rng ^= sc->rng << 13;
	sc->rng ^= sc->rng >> 7;
	sc->rng ^= sc->rng << 17;
	return (double)(sc->rng >> 11) / 9007199254740992.0;
}

/* ---- estimates (DESIGN 5) ---------------------------------------------------------- */

static struct estimate *estimate_for(struct sched *sc, const char *model)
{
	for (size_t i = 0; i < sc->nestimates; i++)
		if (strcmp(sc->estimates[i].model, model) == 0)
			return &sc->estimates[i];
	sc->estimates = xreallocarray(sc->estimates, sc->nestimates + 1, sizeof *sc->estimates);
	sc->estimates[sc->nestimates] = (struct estimate){.model = xstrdup(model)};
	return &sc->estimates[sc->nestimates++];
}

static void learn(struct sched *sc, const char *model, double seconds)
{
	struct estimate *e = estimate_for(sc, model);

	e->n++;
	e->seconds += (seconds - e->seconds) / (e->n < 20 ? e->n : 20);
	if (e->recent == NULL)
		e->recent = xcalloc(RECENT_CALLS, sizeof *e->recent);
	e->recent[e->next] = seconds;
	e->next = (e->next + 1) % RECENT_CALLS;
	if (e->nrecent < RECENT_CALLS)
		e->nrecent++;
}

/* ---- backends and the circuit breaker ------------------------------------------------ */

static void probe_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void backend_down(struct backend *b, const char *error)
{
	struct event ev = {.backend = b->name, .error = error};
	char detail[96];

	b->up = false;
	b->down_since = server_now_ms();
	b->probe_round = 0;
	snprintf(detail, sizeof detail, "after %d calls without an answer; probing", b->failures);
	ev.detail = detail;
	server_publish(b->sc->s, EVENT_BACKEND_DOWN, NULL, &ev);
	ev_timer_set(&b->probe, b->sc->backoff_base > 0 ? b->sc->backoff_base : 1, 0);
	ev_timer_start(b->sc->s->loop, &b->probe);
}

static void backend_up(struct backend *b)
{
	struct event ev = {.backend = b->name};
	char detail[64];
	char dur[32];

	b->up = true;
	b->failures = 0;
	b->downtime += (double)(server_now_ms() - b->down_since) / 1000;
	ev_timer_stop(b->sc->s->loop, &b->probe);
	snprintf(detail, sizeof detail, "again after %s down",
		 time_format_duration(dur, sizeof dur, (double)(server_now_ms() - b->down_since) / 1000));
	ev.detail = detail;
	server_publish(b->sc->s, EVENT_BACKEND_UP, NULL, &ev);
}

static struct plecs_job *new_job(struct backend *b, void *owner)
{
	struct plecs_job *job = xcalloc(1, sizeof *job);

	job->url = xstrdup(b->url);
	job->owner = owner;
	return job;
}

/* A probe is a batch with no tasks: system.listMethods. */
static void probe_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct backend *b = w->data;
	struct batch *p;

	if (b->probing || b->up)
		return;
	p = xcalloc(1, sizeof *p);
	p->sc = b->sc;
	p->b = b;
	p->job = new_job(b, p);
	p->job->probe = true;
	b->probing = true;
	plecs_pool_submit(b->sc->pool, p->job);
}

/* ---- results ---------------------------------------------------------------------------- */

/* 17 significant digits read back exactly; one snprintf keeps a 10,000-point result cheap. */
static void add_number(struct buf *b, double x)
{
	buf_reserve(b, 32);
	b->len += (size_t)snprintf(b->data + b->len, 32, "%.17g", x);
}

/* Writes data to dir/name through a temporary name, so a reader never sees half a file. */
static bool write_atomically(const char *dir, const char *name, const void *data, size_t len, bool sync, char **path,
			     char **err)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	/* The first file of its folder: make the folder (no mkdir for the other 99). */
	if (fd < 0 && errno == ENOENT && (mkdir(dir, 0700) == 0 || errno == EEXIST))
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	/* fsync as the store does: with durability = full only (normal survives a crash of simq, not of power). */
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && (!sync || fsync(fd) == 0);

	if (fd >= 0)
		close(fd);
	*path = paths_join(dir, name);
	if (ok && rename(tmp, *path) != 0)
		ok = false;
	if (!ok) {
		*err = xasprintf("cannot write %s: %s", *path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

/*
 * Writes one task's result file and fills *out for the store (caller frees its strings).  Task 12345's
 * file is results/123/12345.csv: a hundred to a folder, because creating a file costs more the more
 * names its folder holds (on ext4 it nearly doubles from 100 to 1,000), and a night's sweep makes
 * tens of thousands.
 */
static bool store_result(struct sched *sc, struct task *t, xmlrpc_value *value, struct store_result *out, char **err)
{
	struct plecs_result r;
	struct buf file = BUF_INIT, summary = BUF_INIT;
	char *path = NULL, *name, *dir = xasprintf("%s/%lld", sc->results_dir, (long long)(t->id / RESULTS_PER_DIR));
	bool ok;

	if (xmlrpc_value_type(value) == XMLRPC_TYPE_BASE64) {
		const unsigned char *bytes;
		size_t len;
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		xmlrpc_read_base64(&env, value, &len, &bytes);
		if (env.fault_occurred) {
			*err = xasprintf("PLECS's MatFile result cannot be read: %s", env.fault_string);
			xmlrpc_env_clean(&env);
			return false;
		}
		xmlrpc_env_clean(&env);
		ok = plecs_decode_mat(bytes, len, &r, err);
		if (ok) {
			name = xasprintf("%lld.mat", (long long)t->id);
			ok = write_atomically(dir, name, bytes, len, sc->sync, &path, err);
			free(name);
		}
		free((void *)bytes);
	} else {
		ok = plecs_decode_plain(value, &r, err);
		if (ok) {
			/* CSV: Time, then the signals; PLECS names none, so sig1, sig2, ... */
			buf_adds(&file, "Time");
			for (size_t s = 0; s < r.signals; s++)
				buf_addf(&file, ",sig%zu", s + 1);
			buf_addc(&file, '\n');
			for (size_t i = 0; i < r.points; i++) {
				add_number(&file, r.time[i]);
				for (size_t s = 0; s < r.signals; s++) {
					buf_addc(&file, ',');
					add_number(&file, r.values[s * r.points + i]);
				}
				buf_addc(&file, '\n');
			}
			name = xasprintf("%lld.csv", (long long)t->id);
			ok = write_atomically(dir, name, buf_str(&file), file.len, sc->sync, &path, err);
			free(name);
		}
	}
	if (ok) {
		buf_addc(&summary, '{');
		for (size_t s = 0; s < r.signals; s++) {
			struct plecs_signal_summary m;

			plecs_summarize(&r, s, &m);
			buf_addf(&summary, "%s\"sig%zu\":{\"min\":", s ? "," : "", s + 1);
			add_number(&summary, m.min);
			buf_adds(&summary, ",\"max\":");
			add_number(&summary, m.max);
			buf_adds(&summary, ",\"mean\":");
			add_number(&summary, m.mean);
			buf_adds(&summary, ",\"rms\":");
			add_number(&summary, m.rms);
			buf_addc(&summary, '}');
		}
		buf_addc(&summary, '}');
		*out = (struct store_result){.task_id = t->id, .path = path,
					     .format = xstrdup(xmlrpc_value_type(value) == XMLRPC_TYPE_BASE64 ? "mat" : "csv"),
					     .points = (int64_t)r.points, .signals = (int64_t)r.signals,
					     .summary = buf_detach(&summary)};
		path = NULL;
		plecs_result_free(&r);
	}
	buf_free(&file);
	buf_free(&summary);
	free(path);
	free(dir);
	return ok;
}

/* ---- retries ------------------------------------------------------------------------------ */

static void waiter_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct waiter *wt = w->data;
	struct sched *sc = wt->sc;
	struct task *t = server_task(sc->s, wt->id);

	idmap_remove(&sc->waiters, wt->id);
	/* Due: back in the queue at its priority and submission order, still RUNNING in the store. */
	if (t && t->state == TASK_RUNNING)
		queue_push(sc->s->queue, t->id, (uint64_t)t->id, t->priority, t->model, t);
	free(wt);
	server_changed(sc->s);
	sched_kick(sc);
}

static void wait_for_retry(struct sched *sc, struct task *t, double delay)
{
	struct waiter *wt = xcalloc(1, sizeof *wt);

	wt->sc = sc;
	wt->id = t->id;
	ev_timer_init(&wt->timer, waiter_cb, delay > 0 ? delay : 0.001, 0);
	wt->timer.data = wt;
	ev_timer_start(sc->s->loop, &wt->timer);
	idmap_put(&sc->waiters, t->id, wt);
}

void sched_forget(struct sched *sc, int64_t id)
{
	struct waiter *wt = idmap_remove(&sc->waiters, id);

	if (wt) {
		ev_timer_stop(sc->s->loop, &wt->timer);
		free(wt);
	}
	idmap_remove(&sc->split, id);
	xmlrpc_value *opt = idmap_remove(&sc->ready, id);

	if (opt)
		xmlrpc_DECREF(opt);
}

bool sched_in_flight(struct sched *sc, int64_t id)
{
	return idmap_get(&sc->in_flight, id) != NULL;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct batch *bt = w->data;

	plecs_pool_interrupt(bt->sc->pool, bt->job);
}

/* The job's load instructions for this backend: what it has loaded under the model's name. */
static void plan_load(struct backend *b, struct plecs_job *job, const struct stat *st)
{
	for (size_t i = 0; i < b->nmodels; i++) {
		struct loaded_model *m = &b->models[i];

		if (strcmp(m->name, job->model_name) != 0)
			continue;
		if (strcmp(m->path, job->model_path) == 0 && m->size == st->st_size &&
		    m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return;
		/* Another file with this name, or this file changed: close, then load. */
		job->load = true;
		if (strcmp(m->path, job->model_path) != 0)
			job->close_first = xstrdup(m->name);
		return;
	}
	job->load = true;
}

static void note_loaded(struct backend *b, const char *name, const char *path, const struct stat *st)
{
	size_t i;

	for (i = 0; i < b->nmodels; i++)
		if (strcmp(b->models[i].name, name) == 0)
			break;
	if (i == b->nmodels) {
		b->models = xreallocarray(b->models, b->nmodels + 1, sizeof *b->models);
		b->models[b->nmodels++] = (struct loaded_model){.name = xstrdup(name)};
	} else {
		free(b->models[i].path);
	}
	b->models[i].path = xstrdup(path);
	b->models[i].size = st->st_size;
	b->models[i].mtime = st->st_mtim;
}

static bool linger(struct sched *sc, const struct queue_item *head, size_t have, size_t want)
{
	const struct task *t = head->data;
	double waited = (double)(server_now_ms() - t->submitted) / 1000;

	if (sc->linger_s <= 0 || have >= want || waited >= sc->linger_s)
		return false;
	if (!ev_is_active(&sc->linger)) {
		ev_timer_set(&sc->linger, sc->linger_s - waited + 0.001, 0);
		ev_timer_start(sc->s->loop, &sc->linger);
	}
	return true;
}

static xmlrpc_value *opt_struct(struct sched *sc, xmlrpc_env *env, const struct task *t, char **err)
{
	char name[32];

	snprintf(name, sizeof name, "task %lld", (long long)t->id);
	return plecs_opt_struct(env, t->vars, t->solver, t->timeout, sc->matfile, name, err);
}

/*
 * While PLECS runs a call, builds the optStructs of the batch most likely to go next, so that
 * sending it costs the loop no more than a lookup.  Whatever the queue does meanwhile, a task's
 * optStruct stays right: it depends only on what was submitted.
 */
static void build_ahead(struct sched *sc)
{
	struct queue_item items[64];
	size_t n = queue_batch(sc->s->queue, sizeof items / sizeof *items, items);
	xmlrpc_env env;

	if (sc->ready.size > 4 * sizeof items / sizeof *items)
		return; /* the head moved on and left some behind: they are used when their turn comes */
	xmlrpc_env_init(&env);
	for (size_t i = 0; i < n; i++) {
		const struct task *t = items[i].data;
		char *err = NULL;
		xmlrpc_value *opt;

		if (idmap_get(&sc->ready, t->id))
			continue;
		opt = opt_struct(sc, &env, t, &err);
		if (opt == NULL) {
			free(err); /* dispatch builds it again and says why */
			xmlrpc_env_clean(&env);
			xmlrpc_env_init(&env);
			continue;
		}
		idmap_put(&sc->ready, t->id, opt);
	}
	xmlrpc_env_clean(&env);
}

/* Sends the head's batch to b; false when there is nothing to send or it must wait. */
static bool dispatch_one(struct sched *sc, struct backend *b)
{
	struct server *s = sc->s;
	struct queue_item items[1000], head;
	size_t k = (size_t)b->max_batch, n;
	int64_t now = server_now_ms();

	if (!queue_head(s->queue, &head))
		return false;
	intptr_t limit = (intptr_t)idmap_get(&sc->split, head.id);

	if (limit > 0 && (size_t)limit < k)
		k = (size_t)limit;
	if (k > 1000)
		k = 1000;
	struct estimate *est = estimate_for(sc, head.model);

	/* max_batch_seconds: a long batch must not hold a slot while urgent work waits. */
	if (sc->max_batch_seconds > 0 && est->n > 0 && est->seconds > 0) {
		size_t cap = (size_t)(sc->max_batch_seconds / est->seconds);

		if (cap < k)
			k = cap ? cap : 1;
	}
	n = queue_batch(s->queue, k, items);
	if (linger(sc, &head, n, k))
		return false;

	struct batch *bt = xcalloc(1, sizeof *bt);
	struct store_change *ch = xcalloc(n, sizeof *ch);
	xmlrpc_env env;
	double timeout = 0;

	xmlrpc_env_init(&env);
	bt->sc = sc;
	bt->b = b;
	bt->id = ++sc->next_batch;
	bt->ids = xcalloc(n, sizeof *bt->ids);
	bt->n = n;
	bt->started = now;
	bt->job = new_job(b, bt);
	bt->job->model_path = xstrdup(head.model);
	bt->job->model_name = plecs_model_name(head.model);
	bt->job->as_list = n > 1;
	bt->job->cases = xmlrpc_array_new(&env);
	bt->estimate = est->n ? est->seconds : 0;
	if (stat(head.model, &bt->model_stat) != 0)
		memset(&bt->model_stat, 0, sizeof bt->model_stat);
	plan_load(b, bt->job, &bt->model_stat);
	for (size_t i = 0; i < n; i++) {
		struct task *t = items[i].data;
		char *err = NULL;
		xmlrpc_value *opt;

		queue_remove(s->queue, t->id, NULL);
		if (t->state == TASK_QUEUED) {
			task_transition(t, TASK_RUNNING, now);
			s->running++;
		}
		t->retry_due = 0;
		t->attempts++;
		t->attempt_rows++;
		bt->ids[i] = t->id;
		ch[i] = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_BEGIN, .backend = b->name,
					      .batch_id = bt->id, .time = now};
		opt = idmap_remove(&sc->ready, t->id);
		if (opt == NULL)
			opt = opt_struct(sc, &env, t, &err);
		if (opt) {
			xmlrpc_array_append_item(&env, bt->job->cases, opt);
			xmlrpc_DECREF(opt);
		} else {
			/* Cannot happen for a validated task; still, never send a batch with a hole. */
			server_log(sc->s, 0, "%lld: %s", (long long)t->id, err);
			free(err);
		}
		if (t->timeout > 0 && t->timeout + TIMEOUT_MARGIN_S > timeout)
			timeout = t->timeout + TIMEOUT_MARGIN_S;
		idmap_put(&sc->in_flight, t->id, bt);
	}
	xmlrpc_env_clean(&env);
	if (timeout <= 0 || timeout > b->call_timeout)
		timeout = b->call_timeout;
	bt->timeout_s = timeout;
	ev_timer_init(&bt->timeout, timeout_cb, timeout, 0);
	bt->timeout.data = bt;
	ev_timer_start(s->loop, &bt->timeout);
	bt->next = sc->batches;
	sc->batches = bt;
	bt->attempt = n ? ch[0].task->attempts : 0;
	b->busy++;
	/*
	 * The call starts before the start is saved, so PLECS works while the loop writes.  A crash in
	 * between leaves the tasks QUEUED in the store, and they run again after a restart: the same
	 * as any call a crash cuts short.
	 */
	plecs_pool_submit(sc->pool, bt->job);
	if (sc->nstarts + n > sc->starts_cap) {
		sc->starts_cap = 2 * (sc->nstarts + n);
		sc->starts = xreallocarray(sc->starts, sc->starts_cap, sizeof *sc->starts);
	}
	memcpy(sc->starts + sc->nstarts, ch, n * sizeof *ch);
	sc->nstarts += n;
	free(ch);
	return true;
}

/*
 * Saves the batches started in this pass and the changes in more (may be NULL) in one transaction,
 * then tells the bus which tasks started.  One commit for a batch's end and the next one's start
 * halves the store's work per call.
 */
static void save(struct sched *sc, struct store_change *more, size_t nmore)
{
	struct server *s = sc->s;
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
	if (store_commit(s->store, sc->starts, n + nmore) != STORE_OK)
		server_log(sc->s, 0, "cannot save the start or end of %zu attempts: %s", n + nmore, store_error(s->store));
	sc->nstarts = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_change *ch = &sc->starts[i];
		const struct batch *bt = idmap_get(&sc->in_flight, ch->task->id);
		struct event ev = {.backend = ch->backend, .batch_id = ch->batch_id,
				   .batch_size = bt ? (int)bt->n : 1};

		server_publish(s, EVENT_STARTED, ch->task, &ev);
	}
}

/* Sends batches while a backend has a free slot; their starts wait in sc->starts for save(). */
static void kick(struct sched *sc)
{
	struct server *s = sc->s;
	bool sent = true;

	if (s->paused || s->stopping)
		return;
	/* Round robin over the backends, one batch at a time, so work spreads. */
	while (sent && queue_size(s->queue) > 0) {
		sent = false;
		for (size_t k = 0; k < sc->nbackends && queue_size(s->queue) > 0; k++) {
			struct backend *b = &sc->backends[(sc->next_backend + k) % sc->nbackends];

			if (!b->up || b->paused || b->busy >= b->slots)
				continue;
			if (dispatch_one(sc, b)) {
				sent = true;
				sc->next_backend = (sc->next_backend + k + 1) % sc->nbackends;
				break;
			}
		}
	}
}

void sched_kick(struct sched *sc)
{
	kick(sc);
	save(sc, NULL, 0);
}

static void linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sched_kick(w->data);
}

/* ---- answers -------------------------------------------------------------------------------- */

/* A transient failure: wait and retry while retries remain, else fail. */
static void attempt_failed(struct sched *sc, struct task *t, const char *error, struct store_change *ch,
			   bool *final)
{
	int64_t now = server_now_ms();

	t->failed_attempts++;
	t->had_transient = true;
	task_set_text(&t->error, error);
	ch->outcome = ATTEMPT_TRANSIENT;
	ch->error = t->error;
	if (task_retries(t) < sc->max_retries) {
		double delay = retry_delay_for(task_retries(t), sc->backoff_base, sc->backoff_max, sc->jitter, random01(sc));

		t->retry_due = now + (int64_t)(delay * 1000);
		*final = false;
	} else {
		char *text = xasprintf("retries exhausted after %d attempts: %s", t->attempts, error);

		task_set_text(&t->error, text);
		ch->error = t->error;
		free(text);
		task_transition(t, TASK_FAILED, now);
		*final = true;
	}
}

/* After a change is saved: timers, statistics, events, and the active set for final tasks. */
static void after_change(struct sched *sc, struct task *t, const char *error)
{
	struct server *s = sc->s;

	if (task_state_is_final(t->state)) {
		server_retired(s, t, TASK_RUNNING);
	} else if (t->state == TASK_QUEUED) {
		queue_push(s->queue, t->id, (uint64_t)t->id, t->priority, t->model, t);
	} else if (t->retry_due) {
		struct event ev = {.error = error, .error_class = "transient", .retry_at = t->retry_due,
				   .attempt = t->attempts, .max_attempts = sc->max_retries + 1};

		wait_for_retry(sc, t, (double)(t->retry_due - server_now_ms()) / 1000);
		server_publish(s, EVENT_ATTEMPT_FAILED, t, &ev);
	}
}

static void free_batch(struct sched *sc, struct batch *bt)
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
	ev_timer_stop(sc->s->loop, &bt->timeout);
	plecs_job_free(&bt->job);
	free(bt->ids);
	free(bt);
}

static void probe_done(struct sched *sc, struct batch *p)
{
	struct backend *b = p->b;

	b->probing = false;
	if (p->job->outcome != PLECS_TRANSPORT) {
		/* It answers: whatever it had loaded before it went away may be gone. */
		for (size_t i = 0; i < b->nmodels; i++) {
			free(b->models[i].name);
			free(b->models[i].path);
		}
		b->nmodels = 0;
		backend_up(b);
	} else {
		double next = sc->backoff_base * ldexp(1.0, ++b->probe_round);

		if (next > sc->backoff_max)
			next = sc->backoff_max;
		ev_timer_set(&b->probe, next > 0 ? next : 1, 0);
		ev_timer_start(sc->s->loop, &b->probe);
	}
	plecs_job_free(&p->job);
	free(p);
}

static void job_done(struct plecs_job *job, void *ud)
{
	struct sched *sc = ud;
	struct batch *bt = job->owner;
	struct backend *b = bt->b;
	struct server *s = sc->s;
	struct store_change *ch;
	bool *final;
	bool split = false, transient;
	xmlrpc_env env;

	if (job->probe) {
		probe_done(sc, bt);
		sched_kick(sc);
		return;
	}
	b->busy--;
	ev_timer_stop(s->loop, &bt->timeout);
	if (job->loaded)
		note_loaded(b, job->model_name, job->model_path, &bt->model_stat);
	if (job->outcome == PLECS_TRANSPORT) {
		b->failures++;
	} else {
		b->failures = 0;
		learn(sc, job->model_path, job->seconds);
		sc->calls++;
		sc->cases += (int64_t)bt->n;
		size_t k = 0, d = 0;
		struct estimate *e = estimate_for(sc, job->model_path);

		while (k < NBATCH && (int)bt->n > batch_bounds[k])
			k++;
		sc->batch_le[k]++;
		while (d < NDURATION && job->seconds > duration_bounds[d])
			d++;
		e->duration_le[d] += (int64_t)bt->n;
		e->duration_sum += job->seconds * (double)bt->n;
	}
	transient = job->outcome == PLECS_TRANSPORT ||
		    (job->outcome == PLECS_FAULT && retry_fault_is_transient(job->error, sc->retry_faults));
	/* A fault for the whole batch names no case: split it, so the bad case fails alone. */
	split = job->outcome == PLECS_FAULT && !transient && bt->n > 1;
	/*
	 * An answer puts no task back in the queue and keeps the backend UP, so the slot can take its
	 * next batch now: that call runs while this one's results are written and saved.
	 */
	if (job->outcome == PLECS_OK)
		kick(sc);

	char *error = job->interrupted ? xasprintf("no answer within %g s (the call timed out)", bt->timeout_s)
				       : xstrdup(job->error ? job->error : "PLECS gave no reason");

	ch = xcalloc(bt->n, sizeof *ch);
	final = xcalloc(bt->n, sizeof *final);
	struct store_result *results = xcalloc(bt->n, sizeof *results);
	xmlrpc_env_init(&env);
	size_t m = 0;
	struct task **tasks = xcalloc(bt->n, sizeof *tasks);

	for (size_t i = 0; i < bt->n; i++) {
		struct task *t = server_task(s, bt->ids[i]);
		int64_t now = server_now_ms();

		/* Cancelled while PLECS ran it: the attempt was closed then, the result is dropped. */
		if (t == NULL || idmap_get(&sc->in_flight, t->id) != bt)
			continue;
		ch[m] = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_END, .time = now};
		if (job->outcome == PLECS_OK) {
			xmlrpc_value *value = job->result;
			char *err = NULL;

			if (bt->job->as_list)
				xmlrpc_array_read_item(&env, job->result, (int)i, &value);
			if (env.fault_occurred || !store_result(sc, t, value, &results[m], &err)) {
				attempt_failed(sc, t, err ? err : "PLECS's answer holds fewer results than cases",
					       &ch[m], &final[m]);
				free(err);
				xmlrpc_env_clean(&env);
				xmlrpc_env_init(&env);
			} else {
				ch[m].outcome = ATTEMPT_OK;
				ch[m].result = &results[m];
				task_set_text(&t->error, NULL);
				task_transition(t, TASK_COMPLETED, now);
				final[m] = true;
			}
			if (bt->job->as_list && value)
				xmlrpc_DECREF(value);
		} else if (split) {
			/* Not an attempt against the task: it goes back to the queue in a smaller batch. */
			ch[m].outcome = ATTEMPT_SPLIT;
			t->attempts--;
			task_transition(t, TASK_QUEUED, now);
			s->running--;
			idmap_put(&sc->split, t->id, (void *)(intptr_t)((bt->n + 1) / 2));
		} else if (transient) {
			attempt_failed(sc, t, error, &ch[m], &final[m]);
		} else {
			t->failed_attempts++;
			task_set_text(&t->error, error);
			ch[m].outcome = ATTEMPT_PERMANENT;
			ch[m].error = t->error;
			task_transition(t, TASK_FAILED, now);
			final[m] = true;
		}
		tasks[m++] = t;
	}
	xmlrpc_env_clean(&env);
	save(sc, ch, m);
	if (split)
		server_log(sc->s, 0, "batch %lld of %zu failed as a whole (%s): splitting it in two", (long long)bt->id, bt->n,
			 error);
	for (size_t i = 0; i < m; i++)
		after_change(sc, tasks[i], error);
	if (job->outcome == PLECS_TRANSPORT && b->up && b->failures >= sc->down_after)
		backend_down(b, error);
	for (size_t i = 0; i < bt->n; i++)
		store_result_free(&results[i]);
	free(results);
	free(tasks);
	free(ch);
	free(final);
	free(error);
	free_batch(sc, bt);
	server_changed(s);
	sched_kick(sc);
	if (sc->batches)
		build_ahead(sc);
}

/* ---- setup and views ----------------------------------------------------------------------- */

static void add_backend(struct sched *sc, const char *name, const char *url, int slots, int max_batch,
			double call_timeout)
{
	struct backend *b;

	sc->backends = xreallocarray(sc->backends, sc->nbackends + 1, sizeof *sc->backends);
	b = &sc->backends[sc->nbackends++];
	*b = (struct backend){.sc = sc, .name = xstrdup(name), .url = xstrdup(url), .slots = slots,
			      .max_batch = max_batch, .call_timeout = call_timeout, .up = true};
}

struct sched *sched_new(struct server *s, const char *plecs_url, char **err)
{
	struct sched *sc = xcalloc(1, sizeof *sc);
	const struct config_section *sec;
	int workers = 0;

	sc->s = s;
	sc->rng = (uint64_t)time_wall_ns() | 1;
	s->paused = config_bool(s->cfg, "scheduler", "start_paused");
	sc->max_retries = (int)config_int(s->cfg, "scheduler", "max_retries");
	sc->backoff_base = config_double(s->cfg, "scheduler", "backoff_base");
	sc->backoff_max = config_double(s->cfg, "scheduler", "backoff_max");
	sc->jitter = config_double(s->cfg, "scheduler", "jitter");
	sc->retry_faults = config_str(s->cfg, "scheduler", "retry_faults");
	sc->down_after = (int)config_int(s->cfg, "scheduler", "down_after");
	sc->linger_s = (double)config_int(s->cfg, "scheduler", "batch_linger_ms") / 1000;
	sc->max_batch_seconds = config_double(s->cfg, "scheduler", "max_batch_seconds");
	sc->matfile = strcmp(config_str(s->cfg, "store", "results_format"), "mat") == 0;
	sc->sync = strcmp(config_str(s->cfg, "store", "durability"), "full") == 0;
	sc->results_dir = paths_join(s->state_dir, "results");
	if (mkdir(sc->results_dir, 0700) != 0 && errno != EEXIST) {
		*err = xasprintf("cannot create %s: %s", sc->results_dir, strerror(errno));
		sched_free(&sc);
		return NULL;
	}
	if (plecs_url) {
		add_backend(sc, "plecs", plecs_url, 1, 16, 3600);
	} else {
		for (size_t i = 0; (sec = config_section_nth(s->cfg, "backend", i)) != NULL; i++)
			add_backend(sc, config_section_name(sec), config_sec_str(sec, "url"), (int)config_sec_int(sec, "slots"),
				    (int)config_sec_int(sec, "max_batch"), config_sec_double(sec, "call_timeout"));
		if (sc->nbackends == 0) {
			/* No [backend] section: the defaults the table documents, named "local". */
			struct config *defaults = config_new();

			(void)defaults;
			add_backend(sc, "local", "http://127.0.0.1:1080/RPC2", 1, 16, 3600);
			config_free(&defaults);
		}
	}
	for (size_t i = 0; i < sc->nbackends; i++) {
		struct backend *b = &sc->backends[i];

		ev_timer_init(&b->probe, probe_cb, 1, 0);
		b->probe.data = b;
		workers += b->slots;
		server_log(sc->s, 0, "backend %s at %s: %d slot%s, batches of up to %d", b->name, b->url, b->slots,
			 b->slots == 1 ? "" : "s", b->max_batch);
	}
	/* One worker per slot, and one more for probes while every slot is busy. */
	sc->pool = plecs_pool_new(s->loop, workers + 1, job_done, sc, err);
	if (sc->pool == NULL) {
		sched_free(&sc);
		return NULL;
	}
	ev_timer_init(&sc->linger, linger_cb, 1, 0);
	sc->linger.data = sc;
	/* Tasks that were waiting to retry when the server stopped keep their due time. */
	for (size_t i = 0; i < s->active.cap; i++) {
		struct task *t = s->active.keys && s->active.keys[i] ? s->active.values[i] : NULL;

		if (t && t->state == TASK_RUNNING && t->retry_due)
			wait_for_retry(sc, t, (double)(t->retry_due - server_now_ms()) / 1000);
		else if (t && t->state == TASK_RUNNING)
			queue_push(s->queue, t->id, (uint64_t)t->id, t->priority, t->model, t);
	}
	return sc;
}

void sched_free(struct sched **scp)
{
	struct sched *sc = *scp;

	if (sc == NULL)
		return;
	plecs_pool_free(&sc->pool);
	while (sc->batches) {
		struct batch *bt = sc->batches;

		sc->batches = bt->next;
		ev_timer_stop(sc->s->loop, &bt->timeout);
		free(bt->ids);
		free(bt);
	}
	for (size_t i = 0; i < sc->waiters.cap; i++) {
		if (sc->waiters.keys && sc->waiters.keys[i]) {
			struct waiter *wt = sc->waiters.values[i];

			ev_timer_stop(sc->s->loop, &wt->timer);
			free(wt);
		}
	}
	idmap_free(&sc->waiters);
	idmap_free(&sc->in_flight);
	idmap_free(&sc->split);
	for (size_t i = 0; i < sc->ready.cap; i++)
		if (sc->ready.keys && sc->ready.keys[i])
			xmlrpc_DECREF((xmlrpc_value *)sc->ready.values[i]);
	idmap_free(&sc->ready);
	for (size_t i = 0; i < sc->nbackends; i++) {
		struct backend *b = &sc->backends[i];

		ev_timer_stop(sc->s->loop, &b->probe);
		for (size_t k = 0; k < b->nmodels; k++) {
			free(b->models[k].name);
			free(b->models[k].path);
		}
		free(b->models);
		free(b->name);
		free(b->url);
	}
	free(sc->backends);
	for (size_t i = 0; i < sc->nestimates; i++) {
		free(sc->estimates[i].model);
		free(sc->estimates[i].recent);
	}
	free(sc->estimates);
	ev_timer_stop(sc->s->loop, &sc->linger);
	free(sc->starts);
	free(sc->results_dir);
	free(sc);
	*scp = NULL;
}

bool sched_set_paused(struct sched *sc, const char *name, bool paused, char **err)
{
	for (size_t i = 0; i < sc->nbackends; i++) {
		if (name == NULL || strcmp(sc->backends[i].name, name) == 0) {
			sc->backends[i].paused = paused;
			if (name)
				return true;
		}
	}
	if (name == NULL)
		return true;
	struct buf names = BUF_INIT;

	for (size_t i = 0; i < sc->nbackends; i++)
		buf_addf(&names, "%s%s", i ? ", " : "", sc->backends[i].name);
	*err = xasprintf("no backend \"%s\"; backends: %s", name, buf_str(&names));
	buf_free(&names);
	return false;
}

static int by_seconds(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

xmlrpc_value *sched_models_value(xmlrpc_env *env, struct sched *sc)
{
	xmlrpc_value *models = xmlrpc_array_new(env);

	for (size_t i = 0; i < sc->nestimates; i++) {
		const struct estimate *e = &sc->estimates[i];
		double sorted[RECENT_CALLS], sum = 0;

		if (e->nrecent == 0)
			continue;
		memcpy(sorted, e->recent, e->nrecent * sizeof *sorted);
		qsort(sorted, e->nrecent, sizeof *sorted, by_seconds);
		for (size_t k = 0; k < e->nrecent; k++)
			sum += sorted[k];
		xmlrpc_value *v = xmlrpc_build_value(env, "{s:s,s:i,s:d,s:d}", "model", e->model, "calls", e->n, "mean",
						     sum / (double)e->nrecent, "p95", sorted[e->nrecent * 95 / 100]);

		xmlrpc_array_append_item(env, models, v);
		xmlrpc_DECREF(v);
	}
	xmlrpc_value *v = xmlrpc_build_value(env, "{s:I,s:d,s:A}", "calls", (xmlrpc_int64)sc->calls, "mean_batch",
					     sc->calls ? (double)sc->cases / (double)sc->calls : 0.0, "models", models);

	xmlrpc_DECREF(models);
	return v;
}

void sched_each_backend(struct sched *sc, void (*fn)(const char *name, bool up, double downtime, void *ud), void *ud)
{
	for (size_t i = 0; i < sc->nbackends; i++) {
		const struct backend *b = &sc->backends[i];
		double now_down = b->up ? 0 : (double)(server_now_ms() - b->down_since) / 1000;

		fn(b->name, b->up, b->downtime + now_down, ud);
	}
}

/* Prometheus label values: backslash, double quote and newline escaped. */
static void add_label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_addc(b, '\\');
		if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *v);
	}
}

void sched_metrics(struct sched *sc, struct buf *out)
{
	int64_t cum = 0;

	buf_adds(out, "# HELP simq_backend_up 1 while the backend answers, 0 while it is DOWN.\n"
		      "# TYPE simq_backend_up gauge\n");
	for (size_t i = 0; i < sc->nbackends; i++) {
		buf_adds(out, "simq_backend_up{backend=\"");
		add_label(out, sc->backends[i].name);
		buf_addf(out, "\"} %d\n", sc->backends[i].up ? 1 : 0);
	}
	buf_adds(out, "# HELP simq_batch_size Cases per PLECS call answered since the server started.\n"
		      "# TYPE simq_batch_size histogram\n");
	for (size_t k = 0; k <= NBATCH; k++) {
		cum += sc->batch_le[k];
		if (k < NBATCH)
			buf_addf(out, "simq_batch_size_bucket{le=\"%d\"} %lld\n", batch_bounds[k], (long long)cum);
		else
			buf_addf(out, "simq_batch_size_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
	}
	buf_addf(out, "simq_batch_size_sum %lld\nsimq_batch_size_count %lld\n", (long long)sc->cases, (long long)sc->calls);
	buf_adds(out, "# HELP simq_task_duration_seconds A task's PLECS call time (its batch's wall time), by model, "
		      "since the server started.\n# TYPE simq_task_duration_seconds histogram\n");
	for (size_t i = 0; i < sc->nestimates; i++) {
		const struct estimate *e = &sc->estimates[i];

		cum = 0;
		for (size_t d = 0; d <= NDURATION; d++) {
			cum += e->duration_le[d];
			buf_adds(out, "simq_task_duration_seconds_bucket{model=\"");
			add_label(out, e->model);
			if (d < NDURATION)
				buf_addf(out, "\",le=\"%g\"} %lld\n", duration_bounds[d], (long long)cum);
			else
				buf_addf(out, "\",le=\"+Inf\"} %lld\n", (long long)cum);
		}
		buf_adds(out, "simq_task_duration_seconds_sum{model=\"");
		add_label(out, e->model);
		buf_addf(out, "\"} %.17g\nsimq_task_duration_seconds_count{model=\"", e->duration_sum);
		add_label(out, e->model);
		buf_addf(out, "\"} %lld\n", (long long)cum);
	}
}

xmlrpc_value *sched_backends_value(xmlrpc_env *env, struct sched *sc)
{
	xmlrpc_value *list = xmlrpc_array_new(env);

	for (size_t i = 0; i < sc->nbackends; i++) {
		struct backend *b = &sc->backends[i];
		double probe_in = b->up ? 0 : ev_timer_remaining(sc->s->loop, &b->probe);
		xmlrpc_value *v = xmlrpc_build_value(env, "{s:s,s:s,s:b,s:b,s:i,s:i,s:i,s:d}", "name", b->name, "url",
						     b->url, "up", (xmlrpc_bool)b->up, "paused", (xmlrpc_bool)b->paused,
						     "busy", b->busy, "slots", b->slots, "failures", b->failures,
						     "probe_in", probe_in);

		xmlrpc_array_append_item(env, list, v);
		xmlrpc_DECREF(v);
	}
	return list;
}

/* DESIGN 5: elapsed over the model's running mean, capped below 100 % until the call returns. */
static double batch_progress(const struct batch *bt, double elapsed)
{
	return bt->estimate > 0 ? fmin(0.99, elapsed / bt->estimate) : -1;
}

xmlrpc_value *sched_call_value(xmlrpc_env *env, struct sched *sc, int64_t id)
{
	struct batch *bt = idmap_get(&sc->in_flight, id);

	if (bt == NULL)
		return NULL;
	double elapsed = (double)(server_now_ms() - bt->started) / 1000;

	return xmlrpc_build_value(env, "{s:s,s:I,s:i,s:d,s:d,s:d}", "backend", bt->b->name, "batch", (xmlrpc_int64)bt->id,
				  "batch_size", (int)bt->n, "elapsed", elapsed, "estimate", bt->estimate, "progress",
				  batch_progress(bt, elapsed));
}

xmlrpc_value *sched_running_value(xmlrpc_env *env, struct sched *sc)
{
	xmlrpc_value *list = xmlrpc_array_new(env);
	int64_t now = server_now_ms();

	/* Calls in flight: progress is elapsed over the model's running mean, an estimate below 100 %. */
	for (struct batch *bt = sc->batches; bt; bt = bt->next) {
		xmlrpc_value *ids = xmlrpc_array_new(env), *v;
		double elapsed = (double)(now - bt->started) / 1000, progress = batch_progress(bt, elapsed);
		int cancelled = 0;

		for (size_t i = 0; i < bt->n; i++) {
			xmlrpc_value *id = xmlrpc_i8_new(env, bt->ids[i]);

			xmlrpc_array_append_item(env, ids, id);
			xmlrpc_DECREF(id);
			cancelled += server_task(sc->s, bt->ids[i]) == NULL;
		}
		/* The head (first id) is the batch's most urgent task: its priority and name stand for the call. */
		const struct task *head = NULL;

		for (size_t i = 0; i < bt->n && head == NULL; i++)
			head = server_task(sc->s, bt->ids[i]);
		v = xmlrpc_build_value(env, "{s:s,s:A,s:I,s:s,s:i,s:d,s:d,s:d,s:i,s:s,s:s,s:s}", "kind", "call", "ids", ids,
				       "batch", (xmlrpc_int64)bt->id, "backend", bt->b->name, "attempt", bt->attempt,
				       "elapsed", elapsed, "estimate", bt->estimate, "progress", progress, "cancelled",
				       cancelled, "model", bt->job->model_path, "priority",
				       task_priority_name(head ? head->priority : PRIO_LOW), "name",
				       head && head->name ? head->name : "");
		xmlrpc_DECREF(ids);
		xmlrpc_array_append_item(env, list, v);
		xmlrpc_DECREF(v);
	}
	/* Tasks waiting for their retry: "retry 2/3 in 8s". */
	for (size_t i = 0; i < sc->waiters.cap; i++) {
		struct waiter *wt = sc->waiters.keys && sc->waiters.keys[i] ? sc->waiters.values[i] : NULL;
		struct task *t = wt ? server_task(sc->s, wt->id) : NULL;

		if (t == NULL)
			continue;
		xmlrpc_value *v = xmlrpc_build_value(env, "{s:s,s:I,s:i,s:i,s:d,s:s,s:s,s:s,s:s}", "kind", "retry", "id",
						     (xmlrpc_int64)t->id, "retry", task_retries(t) + 1, "max_retries",
						     sc->max_retries, "retry_in", (double)(t->retry_due - now) / 1000,
						     "error", t->error ? t->error : "", "model", t->model, "priority",
						     task_priority_name(t->priority), "name", t->name ? t->name : "");

		xmlrpc_array_append_item(env, list, v);
		xmlrpc_DECREF(v);
	}
	return list;
}
