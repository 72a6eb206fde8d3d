#include "autoconf.h"

#include "plecs/feed.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct piece {
	struct piece *next;
	size_t len;
	char data[];
};

struct feed {
	struct feeds *fs;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* a piece came or went, the feed closed, the decoder let go */
	struct piece *head, *tail;    /* not decoded yet, oldest first */
	size_t lag;                   /* their bytes */
	struct plecs_answer *decoder;
	const int *interrupt;
	void (*done)(void *ud);
	void *ud;
	bool closed, whole;           /* the worker's */
	bool handed;                  /* the worker went on: done() ends it */
	bool has_results;             /* the decoder saw the results begin */
	bool refused, stopped, through; /* the decoder's: it let go of the feed */
	enum plecs_answer_end end;
	struct feed *next;            /* in the decoders' queue */
};

struct feeds {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct feed *queue, *queue_tail; /* feeds no decoder took yet */
	int stopping;                 /* read by decoders between pieces, with __atomic */
	pthread_t *threads;
	int n;
};

static bool halted(const struct feed *f)
{
	return __atomic_load_n(f->interrupt, __ATOMIC_RELAXED) || __atomic_load_n(&f->fs->stopping, __ATOMIC_RELAXED);
}

static void drop_pieces(struct feed *f)
{
	while (f->head) {
		struct piece *p = f->head;

		f->head = p->next;
		free(p);
	}
	f->tail = NULL;
	f->lag = 0;
}

/* Decodes f's pieces as they come until it is closed and drained, or refused, or stopped. */
static void serve(struct feed *f)
{
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (f->head == NULL && !f->closed)
			pthread_cond_wait(&f->cond, &f->lock);
		struct piece *p = f->head;

		if (p == NULL)
			break;
		f->head = p->next;
		if (f->head == NULL)
			f->tail = NULL;
		/* A cut answer is not decoded further: nothing of it will be used. */
		bool stop = halted(f) || (f->closed && !f->whole);

		pthread_mutex_unlock(&f->lock);
		bool ok = !stop && plecs_answer_feed(f->decoder, p->data, p->len);
		bool results = ok && plecs_answer_has_results(f->decoder);

		pthread_mutex_lock(&f->lock);
		f->lag -= p->len;
		free(p);
		f->has_results |= results;
		pthread_cond_broadcast(&f->cond);
		if (!ok) {
			f->stopped = stop;
			f->refused = !stop;
			drop_pieces(f);
			break;
		}
	}
	if (!f->refused && !f->stopped && f->closed && f->whole)
		f->end = plecs_answer_finish(f->decoder);
	f->through = true;
	bool handed = f->handed;

	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (handed)
		f->done(f->ud);
}

static void *decode(void *arg)
{
	struct feeds *fs = arg;

	/* Named, so top -H and bench/throughput tell decoding from receiving. */
	pthread_setname_np(pthread_self(), "simq-decode");
	for (;;) {
		pthread_mutex_lock(&fs->lock);
		/* Stopping, the queue is still served: every feed left in it was handed and waits for done(). */
		while (fs->queue == NULL && !fs->stopping)
			pthread_cond_wait(&fs->work, &fs->lock);
		struct feed *f = fs->queue;

		if (f)
			fs->queue = f->next;
		if (fs->queue == NULL)
			fs->queue_tail = NULL;
		pthread_mutex_unlock(&fs->lock);
		if (f == NULL)
			break;
		serve(f);
	}
	return NULL;
}

struct feeds *feeds_new(int n)
{
	struct feeds *fs = xcalloc(1, sizeof *fs);
	sigset_t block, old;

	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->work, NULL);
	fs->threads = xcalloc((size_t)n, sizeof *fs->threads);
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; fs->n < n; fs->n++)
		if (pthread_create(&fs->threads[fs->n], NULL, decode, fs) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (fs->n == 0)
		feeds_free(&fs);
	return fs;
}

void feeds_free(struct feeds **pfs)
{
	struct feeds *fs = *pfs;

	if (fs == NULL)
		return;
	pthread_mutex_lock(&fs->lock);
	__atomic_store_n(&fs->stopping, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&fs->work);
	pthread_mutex_unlock(&fs->lock);
	for (int i = 0; i < fs->n; i++)
		pthread_join(fs->threads[i], NULL);
	pthread_mutex_destroy(&fs->lock);
	pthread_cond_destroy(&fs->work);
	free(fs->threads);
	free(fs);
	*pfs = NULL;
}

struct feed *feed_open(struct feeds *fs, struct plecs_answer *decoder, const int *interrupt,
		       void (*done)(void *ud), void *ud)
{
	struct feed *f = xcalloc(1, sizeof *f);

	*f = (struct feed){.fs = fs, .decoder = decoder, .interrupt = interrupt, .done = done, .ud = ud};
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	pthread_mutex_lock(&fs->lock);
	if (fs->queue_tail)
		fs->queue_tail->next = f;
	else
		fs->queue = f;
	fs->queue_tail = f;
	pthread_cond_signal(&fs->work);
	pthread_mutex_unlock(&fs->lock);
	return f;
}

bool feed_put(struct feed *f, const char *data, size_t len)
{
	struct piece *p = xmalloc(sizeof *p + len);

	p->next = NULL;
	p->len = len;
	memcpy(p->data, data, len);
	pthread_mutex_lock(&f->lock);
	/* The decoder takes a piece at a time and sees an interrupt at the next: the wait ends either way. */
	while (f->lag >= FEED_MAX_LAG && !f->through)
		pthread_cond_wait(&f->cond, &f->lock);
	bool open = !f->through;

	if (open) {
		if (f->tail)
			f->tail->next = p;
		else
			f->head = p;
		f->tail = p;
		f->lag += len;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	if (!open)
		free(p);
	return open;
}

enum feed_close feed_close(struct feed *f, bool whole, void (*handed)(void *ud), void *ud)
{
	enum feed_close r = FEED_DECODED;

	pthread_mutex_lock(&f->lock);
	f->closed = true;
	f->whole = whole;
	pthread_cond_broadcast(&f->cond);
	while (!f->through && !(whole && f->has_results))
		pthread_cond_wait(&f->cond, &f->lock);
	if (!f->through) {
		f->handed = true;
		handed(ud);
		r = FEED_HANDED;
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

bool feed_refused(const struct feed *f)
{
	return f->refused;
}

bool feed_stopped(const struct feed *f)
{
	return f->stopped;
}

enum plecs_answer_end feed_end(const struct feed *f)
{
	return f->end;
}

void feed_free(struct feed **pf)
{
	struct feed *f = *pf;

	if (f == NULL)
		return;
	drop_pieces(f);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
	*pf = NULL;
}
