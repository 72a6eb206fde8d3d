#include "autoconf.h"

#include "engine/task.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

static const char *const state_names[] = {
#define X(id, name) name,
	TASK_STATES(X)
#undef X
};

static const char *const priority_names[] = {
#define X(id, name) name,
	TASK_PRIORITIES(X)
#undef X
};

static const char *const outcome_names[] = {
#define X(id, name) name,
	ATTEMPT_OUTCOMES(X)
#undef X
};

const char *task_state_name(enum task_state s)
{
	return (unsigned)s < TASK_STATE_COUNT ? state_names[s] : "?";
}

const char *task_priority_name(enum task_priority p)
{
	return (unsigned)p < PRIO_COUNT ? priority_names[p] : "?";
}

const char *attempt_outcome_name(enum attempt_outcome o)
{
	return (unsigned)o < ATTEMPT_OUTCOME_COUNT ? outcome_names[o] : "?";
}

static bool parse_name(const char *text, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (strcasecmp(text, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

bool task_state_parse(const char *text, enum task_state *s)
{
	int i;

	if (!parse_name(text, state_names, TASK_STATE_COUNT, &i))
		return false;
	*s = (enum task_state)i;
	return true;
}

bool task_priority_parse(const char *text, enum task_priority *p)
{
	int i;

	if (text[0] >= '0' && text[0] < '0' + PRIO_COUNT && text[1] == '\0') {
		*p = (enum task_priority)(text[0] - '0');
		return true;
	}
	/* Short forms as the console shows them: CRIT, NORM. */
	if (strcasecmp(text, "crit") == 0) {
		*p = PRIO_CRITICAL;
		return true;
	}
	if (strcasecmp(text, "norm") == 0) {
		*p = PRIO_NORMAL;
		return true;
	}
	if (!parse_name(text, priority_names, PRIO_COUNT, &i))
		return false;
	*p = (enum task_priority)i;
	return true;
}

bool attempt_outcome_parse(const char *text, enum attempt_outcome *o)
{
	int i;

	if (!parse_name(text, outcome_names, ATTEMPT_OUTCOME_COUNT, &i))
		return false;
	*o = (enum attempt_outcome)i;
	return true;
}

bool task_state_is_final(enum task_state s)
{
	return s == TASK_COMPLETED || s == TASK_FAILED || s == TASK_CANCELLED;
}

/*
 * The lifecycle of DESIGN 3.  QUEUED -> COMPLETED is a cache hit at submit;
 * QUEUED -> FAILED is bad input caught before dispatch; RUNNING -> RUNNING is
 * an attempt ending in a wait for retry, or the retry starting; RUNNING ->
 * QUEUED is recovery of an attempt the server did not see end.
 */
static const bool allowed[TASK_STATE_COUNT][TASK_STATE_COUNT] = {
	[TASK_QUEUED] = {[TASK_RUNNING] = true, [TASK_COMPLETED] = true, [TASK_FAILED] = true,
			 [TASK_CANCELLED] = true},
	[TASK_RUNNING] = {[TASK_QUEUED] = true, [TASK_RUNNING] = true, [TASK_COMPLETED] = true,
			  [TASK_FAILED] = true, [TASK_CANCELLED] = true},
};

bool task_transition_allowed(enum task_state from, enum task_state to)
{
	if ((unsigned)from >= TASK_STATE_COUNT || (unsigned)to >= TASK_STATE_COUNT)
		return false;
	return allowed[from][to];
}

bool task_transition(struct task *t, enum task_state to, int64_t now)
{
	if (!task_transition_allowed(t->state, to))
		return false;
	t->state = to;
	if (to == TASK_RUNNING && t->started == 0)
		t->started = now;
	if (task_state_is_final(to)) {
		t->finished = now;
		t->retry_due = 0;
	}
	if (to == TASK_QUEUED)
		t->retry_due = 0;
	return true;
}

struct task *task_new(const char *model, const char *vars, const char *solver, enum task_priority prio)
{
	struct task *t = xcalloc(1, sizeof *t);

	t->model = xstrdup(model);
	t->vars = xstrdup(vars ? vars : "{}");
	t->solver = xstrdup(solver ? solver : "{}");
	t->priority = prio;
	t->state = TASK_QUEUED;
	t->stored_state = TASK_QUEUED;
	return t;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct task *task_dup(const struct task *t)
{
	struct task *c = xmalloc(sizeof *c);

	*c = *t;
	c->model = xstrdup(t->model);
	c->vars = xstrdup(t->vars);
	c->solver = xstrdup(t->solver);
	c->name = dup_or_null(t->name);
	c->tags = dup_or_null(t->tags);
	c->error = dup_or_null(t->error);
	return c;
}

void task_free(struct task **tp)
{
	struct task *t = *tp;

	if (t == NULL)
		return;
	free(t->model);
	free(t->name);
	free(t->tags);
	free(t->vars);
	free(t->solver);
	free(t->error);
	free(t);
	*tp = NULL;
}

void task_set_text(char **field, const char *text)
{
	free(*field);
	*field = dup_or_null(text);
}

int task_retries(const struct task *t)
{
	return t->attempts > 1 ? t->attempts - 1 : 0;
}
