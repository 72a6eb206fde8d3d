/*
 * sched — turns queued tasks into PLECS calls (DESIGN 4-6).
 *
 * While a backend is UP, not paused and has a free slot, the head of the
 * queue and its batch candidates go to it as one call.  Answers come back
 * on the loop thread: results are stored, transient failures wait their
 * backoff and retry, permanent ones fail with PLECS's message, a batch fault
 * that names no case splits the batch, and a backend that stops answering
 * goes DOWN and is probed until it is back.  Loop thread only.
 */
#ifndef SIMQ_SERVER_SCHED_H
#define SIMQ_SERVER_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

struct server;
struct sched;

/* Backends from [backend NAME] sections, or one at plecs_url when given, or "local". */
struct sched *sched_new(struct server *s, const char *plecs_url, char **err);
void sched_free(struct sched **sc);
/* Looks for work to send: call after anything that may free a slot or queue a task. */
void sched_kick(struct sched *sc);
/* Is this task's attempt in flight (PLECS is running it)? */
bool sched_in_flight(struct sched *sc, int64_t id);
/* Forget a task that just became final: its retry timer, its split size. */
void sched_forget(struct sched *sc, int64_t id);
/* Pauses or resumes one backend (name) or all (NULL); false and *err for an unknown name. */
bool sched_set_paused(struct sched *sc, const char *name, bool paused, char **err);
/* What runs and waits, for simq.view; and the backends. */
xmlrpc_value *sched_running_value(xmlrpc_env *env, struct sched *sc);
/*
 * A running task's call: its backend, seconds elapsed, the estimate (0 when
 * the model has no finished call yet) and progress (elapsed over estimate,
 * at most 0.99; -1 without an estimate). NULL when the task is in no call.
 */
xmlrpc_value *sched_call_value(xmlrpc_env *env, struct sched *sc, int64_t id);
xmlrpc_value *sched_backends_value(xmlrpc_env *env, struct sched *sc);
/* {calls, mean_batch, models: [{model, calls, mean, p95}]}: calls since start and each model's recent wall times. */
xmlrpc_value *sched_models_value(xmlrpc_env *env, struct sched *sc);
/* Each backend's name, whether it is UP, and its seconds DOWN since the server started. */
void sched_each_backend(struct sched *sc, void (*fn)(const char *name, bool up, double downtime, void *ud), void *ud);
struct buf;
/* Appends simq_backend_up, simq_batch_size and simq_task_duration_seconds in Prometheus text format. */
void sched_metrics(struct sched *sc, struct buf *out);

#endif
