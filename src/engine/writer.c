#include "autoconf.h"

#include "engine/writer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/time.h"
#include "util/xalloc.h"

void result_job_run(struct result_job *job)
{
	job->ok = results_write(job->dir, job->id, &job->data, job->format, job->sync, &job->result, &job->error);
	job->error_errno = job->ok ? 0 : errno;
	result_data_free(&job->data);
}

void result_job_free(struct result_job **jp)
{
	struct result_job *job = *jp;

	if (job == NULL)
		return;
	result_data_free(&job->data);
	store_result_free(&job->result);
	free(job->error);
	free(job);
	*jp = NULL;
}

void result_jobs_hand_back(struct result_job *list)
{
	while (list) {
		struct result_job *run = list, **tail = &list->next;

		/* The longest run of list's head owner and callback: one done() for it. */
		while (*tail && (*tail)->owner == run->owner && (*tail)->done == run->done)
			tail = &(*tail)->next;
		list = *tail;
		*tail = NULL;
		run->done(run);
	}
}

/* ---- the threaded writer ------------------------------------------------------------------- */

struct writer {
	const struct clock *clock;
	struct clock_wake *wake;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t work, written;
	struct result_job *queued, **queued_tail;   /* in start order */
	struct result_job *done, **done_tail;   /* written, not handed back yet */
	size_t writing;                          /* taken by the thread, not in done yet */
	size_t unannounced;                      /* written since the last wake of the loop */
	int64_t first_unannounced_ns;            /* when the first of those was written */
	bool stop;
};

/*
 * The loop is woken for written jobs when the queue is empty, or WAKE_JOBS are written, or the
 * first of them waited WAKE_NS: the ends of one answer's results are saved in one commit, not a
 * commit each, and none waits long behind a queue of large files.
 */
#define WAKE_JOBS 64
#define WAKE_NS   (100 * INT64_C(1000000))

/* A job was written (lock held): does the loop hear of it now? */
static bool wake_now(struct writer *w)
{
	int64_t now = time_mono_ns();

	if (w->unannounced++ == 0)
		w->first_unannounced_ns = now;
	if (w->queued != NULL && w->unannounced < WAKE_JOBS && now - w->first_unannounced_ns < WAKE_NS)
		return false;
	w->unannounced = 0;
	return true;
}

static void *write_loop(void *arg)
{
	struct writer *w = arg;

	pthread_setname_np(pthread_self(), "simq-writer");
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->queued == NULL && !w->stop)
			pthread_cond_wait(&w->work, &w->lock);
		if (w->queued == NULL)
			break;
		struct result_job *job = w->queued;

		w->queued = job->next;
		if (w->queued == NULL)
			w->queued_tail = &w->queued;
		job->next = NULL;
		w->writing++;
		pthread_mutex_unlock(&w->lock);
		result_job_run(job);
		pthread_mutex_lock(&w->lock);
		w->writing--;
		*w->done_tail = job;
		w->done_tail = &job->next;
		pthread_cond_broadcast(&w->written);
		/* One wake for what piles up meanwhile: the loop takes every written job. */
		if (wake_now(w))
			w->clock->ops->wake_send(w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The jobs written so far, taken from w (lock held). */
static struct result_job *take_done(struct writer *w)
{
	struct result_job *list = w->done;

	w->done = NULL;
	w->done_tail = &w->done;
	return list;
}

static void on_wake(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->lock);
	struct result_job *list = take_done(w);

	pthread_mutex_unlock(&w->lock);
	result_jobs_hand_back(list);
}

static void thread_start(void *impl, struct result_job *job)
{
	struct writer *w = impl;

	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	*w->queued_tail = job;
	w->queued_tail = &job->next;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

static void thread_drain(void *impl)
{
	struct writer *w = impl;

	pthread_mutex_lock(&w->lock);
	while (w->queued || w->writing)
		pthread_cond_wait(&w->written, &w->lock);
	struct result_job *list = take_done(w);

	pthread_mutex_unlock(&w->lock);
	result_jobs_hand_back(list);
}

const struct writer_ops writer_thread_ops = {.start = thread_start, .drain = thread_drain};

struct writer *writer_new(const struct clock *clock, char **err)
{
	struct writer *w = xcalloc(1, sizeof *w);
	sigset_t all, old;

	w->clock = clock;
	w->queued_tail = &w->queued;
	w->done_tail = &w->done;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->written, NULL);
	w->wake = clock->ops->wake_new(clock->impl, on_wake, w);
	/* Signals are the loop's: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&w->thread, NULL, write_loop, w);

	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->started = rc == 0;
	if (!w->started) {
		*err = xasprintf("cannot start the result writer's thread: %s", strerror(rc));
		writer_free(&w);
	}
	return w;
}

void writer_free(struct writer **wp)
{
	struct writer *w = *wp;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	/* The owner drained before: whatever is left has no one to take it. */
	for (struct result_job *list = take_done(w), *next; list; list = next) {
		next = list->next;
		result_job_free(&list);
	}
	for (struct result_job *list = w->queued, *next; list; list = next) {
		next = list->next;
		result_job_free(&list);
	}
	w->clock->ops->wake_free(w->wake);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->written);
	free(w);
	*wp = NULL;
}
