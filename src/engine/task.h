/*
 * task — one simulation: its record, states, priorities and transitions.
 *
 * A task moves QUEUED -> RUNNING -> COMPLETED | FAILED, or to CANCELLED from
 * QUEUED or RUNNING; COMPLETED, FAILED and CANCELLED are final.  While a
 * RUNNING task waits for its next attempt it keeps state RUNNING with
 * retry_due set.  task_transition() is the only code that changes state and
 * refuses every move the table does not allow.  ModelVars and SolverOpts are
 * kept as canonical JSON text the engine does not interpret.  Owned and
 * changed by the server's loop thread only.
 */
#ifndef SIMQ_ENGINE_TASK_H
#define SIMQ_ENGINE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#define TASK_STATES(X)                   \
	X(QUEUED, "queued")              \
	X(RUNNING, "running")            \
	X(COMPLETED, "completed")        \
	X(FAILED, "failed")              \
	X(CANCELLED, "cancelled")

enum task_state {
#define X(id, name) TASK_##id,
	TASK_STATES(X)
#undef X
	TASK_STATE_COUNT
};

#define TASK_PRIORITIES(X)        \
	X(CRITICAL, "critical")   \
	X(HIGH, "high")           \
	X(NORMAL, "normal")       \
	X(LOW, "low")

enum task_priority {
#define X(id, name) PRIO_##id,
	TASK_PRIORITIES(X)
#undef X
	PRIO_COUNT
};

/* How an attempt ended.  INTERRUPTED: the server died while it ran; SPLIT: its batch failed as
 * a whole and was split; BACKEND: the backend could not be reached or dropped the connection
 * before answering; LOCAL: PLECS answered but simq could not keep the result (a full disk).  None
 * of them is a retry.  DISCARDED: cancelled while PLECS ran it. */
#define ATTEMPT_OUTCOMES(X)              \
	X(RUNNING, "running")            \
	X(OK, "ok")                      \
	X(TRANSIENT, "transient")        \
	X(PERMANENT, "permanent")        \
	X(INTERRUPTED, "interrupted")    \
	X(DISCARDED, "discarded")        \
	X(SPLIT, "split")                \
	X(BACKEND, "backend")            \
	X(LOCAL, "local")

enum attempt_outcome {
#define X(id, name) ATTEMPT_##id,
	ATTEMPT_OUTCOMES(X)
#undef X
	ATTEMPT_OUTCOME_COUNT
};

struct task {
	int64_t id;             /* assigned by the store at submit; never reused */
	char *model;            /* absolute path of the .plecs file */
	char *name;             /* optional, may be NULL */
	char *tags;             /* optional comma-separated tags, may be NULL */
	char *vars;             /* ModelVars as canonical JSON, "{}" when none */
	char *solver;           /* SolverOpts as canonical JSON, "{}" when none */
	enum task_priority priority;
	enum task_state state;
	int attempts;           /* attempts started and not interrupted; retries = attempts - 1 */
	int failed_attempts;    /* attempts that ended transient or permanent */
	int attempt_rows;       /* attempt records, interrupted ones included */
	bool had_transient;     /* some attempt failed with a transient error */
	bool cached;            /* completed from the result cache without running */
	int64_t source;         /* cached: the task whose run made the result it reused (0: not known) */
	bool no_cache;
	double timeout;         /* seconds; 0 = none */
	int64_t origin;         /* the task this one retries, or 0 */
	int64_t retried_as;     /* read from the store: this task's newest retry copy, or 0 */
	bool archived;          /* read from the store: the task is in the archive (DESIGN 7) */
	int64_t submitted;      /* wall clock, milliseconds since the epoch */
	int64_t started;        /* first attempt's start, 0 before */
	int64_t finished;       /* when it reached a final state, 0 before */
	int64_t retry_due;      /* waiting to retry until then; 0 when not waiting */
	char *error;            /* last error text, may be NULL */
	enum task_state stored_state; /* the state last written to the store */
	int dropped;            /* calls in a row whose connection dropped after PLECS had the case (not stored) */
};

const char *task_state_name(enum task_state s);
const char *task_priority_name(enum task_priority p);
const char *attempt_outcome_name(enum attempt_outcome o);
/* Names in any case, or the digits 0-3 for priorities. */
bool task_state_parse(const char *text, enum task_state *s);
bool task_priority_parse(const char *text, enum task_priority *p);
bool attempt_outcome_parse(const char *text, enum attempt_outcome *o);

bool task_state_is_final(enum task_state s);
bool task_transition_allowed(enum task_state from, enum task_state to);
/* Moves t to state `to` at time now (ms); false, and t unchanged, if not allowed. */
bool task_transition(struct task *t, enum task_state to, int64_t now);

/* A new QUEUED task; model, vars and solver are copied ("{}" for NULL vars or solver). */
struct task *task_new(const char *model, const char *vars, const char *solver, enum task_priority prio);
/* A deep copy. */
struct task *task_dup(const struct task *t);
void task_free(struct task **t);
/* Replaces *field with a copy of text (NULL allowed). */
void task_set_text(char **field, const char *text);
int task_retries(const struct task *t);

#endif
