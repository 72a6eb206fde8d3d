/*
 * queue — the tasks waiting to run, in (priority, submission) order.
 *
 * Two counted B+trees hold the waiting tasks: one over the whole queue, one
 * per model file.  The first gives push, pop, remove, reprioritize, the
 * position of a task and a page at any offset in O(log n); the second gives
 * the batch candidates of DESIGN 4 (same model as the head, priority within
 * one level of it, in queue order) without scanning other models' work.
 * The queue keeps what ordering needs and nothing else: a task's id, its
 * submission order, its priority and its model (one copy of each path,
 * shared by that model's tasks); the engine and the store hold the rest.
 * Appends in submission order leave leaves full, so a queued task costs
 * about 100 bytes here.  Entries and nodes come from the queue's own 256 KB
 * slabs, kept for reuse until queue_free(): they never pin holes among the
 * heap's short-lived allocations.  Single-threaded: the server's loop thread
 * owns it.
 */
#ifndef SIMQ_ENGINE_QUEUE_H
#define SIMQ_ENGINE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/task.h"

struct queue;

struct queue_item {
	int64_t id;
	uint64_t seq;                 /* submission order; the id serves */
	enum task_priority priority;
	const char *model;            /* valid while the task is queued; NULL from pop/remove */
};

/* Largest seq the queue accepts: it shares a 64-bit key with the priority. */
#define QUEUE_SEQ_MAX ((UINT64_C(1) << 56) - 1)

struct queue *queue_new(void);
void queue_free(struct queue **q);

/* Adds a task; false if id is already queued, id is 0 or seq is out of range. */
bool queue_push(struct queue *q, int64_t id, uint64_t seq, enum task_priority prio, const char *model);
bool queue_head(const struct queue *q, struct queue_item *out);
bool queue_pop(struct queue *q, struct queue_item *out);
/* Removes a task wherever it is; false if it is not queued.  out may be NULL. */
bool queue_remove(struct queue *q, int64_t id, struct queue_item *out);
/* Moves a task to its place among prio's tasks, by submission order. */
bool queue_reprioritize(struct queue *q, int64_t id, enum task_priority prio);
bool queue_get(const struct queue *q, int64_t id, struct queue_item *out);

/* Fills out with up to limit tasks from position offset (0 = head); returns how many. */
size_t queue_page(const struct queue *q, size_t offset, size_t limit, struct queue_item *out);
/* 0-based position of a task, or -1 if it is not queued. */
int64_t queue_position(const struct queue *q, int64_t id);
/*
 * The head's batch: the head first, then queued tasks of the same model whose
 * priority is at most one level below the head's, in queue order, up to k in
 * all.  Returns how many (0 for an empty queue).  Removes nothing.
 */
size_t queue_batch(const struct queue *q, size_t k, struct queue_item *out);

size_t queue_size(const struct queue *q);
size_t queue_count(const struct queue *q, enum task_priority prio);
/* Bytes the queue has allocated (its slabs whole), for benchmarks. */
size_t queue_memory(const struct queue *q);

#endif
