/*
 * writer — result files written off the loop thread (DESIGN 7, 17).
 *
 * When PLECS answers, the scheduler hands each case's decoded result to a
 * writer as a struct result_job through a small ops struct (the threaded
 * writer below, or a fake in the unit tests), and goes on; the task stays
 * RUNNING until its job comes back.  The writer runs result_job_run()
 * (engine/results.h's results_write) wherever it likes and, back on the
 * loop thread, hands finished jobs back through done(), several at once as
 * a chain (job->next) of one owner's jobs, so their ends are saved in one
 * commit.  drain() waits until every job started has been written and
 * hands them back before it returns: a server that stops drains first, so
 * no answer PLECS gave is lost.  The job belongs to the writer from
 * start() to done(), to its owner otherwise.
 *
 * writer_new() makes the threaded writer: one thread ("simq-writer") that
 * takes jobs in order and wakes the loop through the clock (engine/clock.h)
 * when some are written.  Its queue is as long as the scheduler lets it be
 * (scheduler.h: write_backlog).  Loop thread only, but for its own thread.
 */
#ifndef SIMQ_ENGINE_WRITER_H
#define SIMQ_ENGINE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/clock.h"
#include "engine/results.h"
#include "engine/store.h"

struct result_job {
	/* Set by the owner before start(). */
	const char *dir;             /* results/ of the state dir; outlives the job */
	int64_t id;                  /* the task's */
	struct result_data data;     /* the decoded answer, the job's own */
	enum results_format format;
	bool sync;                   /* fsync the file (durability = full) */
	size_t bytes;                /* the owner's count of data's size (what it holds in memory) */
	void (*done)(struct result_job *jobs); /* jobs, jobs->next, ...: one owner's finished jobs */
	void *owner;
	/* Set by the writer before done(). */
	bool ok;
	struct store_result result;  /* ok: the file, for the store */
	char *error;                 /* not ok: why, for a person */
	int error_errno;             /* not ok: errno (ENOSPC: the disk is full) */
	struct result_job *next;     /* the writer's while it holds the job */
};

struct writer_ops {
	void (*start)(void *impl, struct result_job *job);
	void (*drain)(void *impl);
};

/* Writes job's file and fills its outcome; frees its data (the numbers are on disk or lost). */
void result_job_run(struct result_job *job);
/* Frees a job, its data and outcome (a written file stays); clears the pointer. */
void result_job_free(struct result_job **job);
/* Hands list (chained by next) back to its owners, a run of one owner's jobs at a time. */
void result_jobs_hand_back(struct result_job *list);

struct writer;

extern const struct writer_ops writer_thread_ops;

/* Starts the writer's thread, waking clock's loop; NULL and *err (heap) on failure. */
struct writer *writer_new(const struct clock *clock, char **err);
/* Stops the thread after its queue is written; jobs not handed back are freed.  Clears the pointer. */
void writer_free(struct writer **w);

#endif
