#include "autoconf.h"

#include "engine/stats.h"

#include <math.h>
#include <string.h>

#define MINUTE_MS INT64_C(60000)

static const char *const window_names[] = {
#define X(id, name) name,
	STATS_WINDOWS(X)
#undef X
};

const char *stats_window_name(enum stats_window w)
{
	return (unsigned)w < STATS_WINDOW_COUNT ? window_names[w] : "?";
}

void stats_add_task(struct stats_counts *c, const struct task *t, int sign)
{
	switch (t->state) {
	case TASK_COMPLETED:
		if (t->cached)
			c->cached += sign;
		if (t->attempts == 1)
			c->completed_first += sign;
		else if (t->attempts > 1)
			c->completed_retry += sign;
		break;
	case TASK_FAILED:
		if (t->attempts >= 1) {
			c->failed += sign;
			if (t->had_transient)
				c->failed_transient += sign;
		}
		break;
	case TASK_CANCELLED:
		c->cancelled += sign;
		break;
	default:
		return;
	}
	if (t->failed_attempts > 0) {
		c->with_failed_attempt += sign;
		c->retries += sign * task_retries(t);
	}
}

void stats_counts_add(struct stats_counts *into, const struct stats_counts *c)
{
#define X(name) into->name += c->name;
	STATS_COUNTERS(X)
#undef X
}

bool stats_counts_equal(const struct stats_counts *a, const struct stats_counts *b)
{
#define X(name)                    \
	if (a->name != b->name)    \
		return false;
	STATS_COUNTERS(X)
#undef X
	return true;
}

static double ratio(int64_t num, int64_t den)
{
	return den > 0 ? (double)num / (double)den : NAN;
}

double stats_success_rate(const struct stats_counts *c)
{
	int64_t completed = c->completed_first + c->completed_retry;

	return ratio(completed, completed + c->failed);
}

double stats_retry_effectiveness(const struct stats_counts *c)
{
	return ratio(c->completed_retry, c->completed_retry + c->failed_transient);
}

double stats_retries_per_failed(const struct stats_counts *c)
{
	return ratio(c->retries, c->with_failed_attempt);
}

void stats_init(struct stats *s, int64_t start_ms, const struct stats_counts *all)
{
	memset(s, 0, sizeof *s);
	s->start_ms = start_ms;
	if (all)
		s->all = *all;
	for (size_t i = 0; i < STATS_MINUTES; i++)
		s->minute_of[i] = -1;
}

static struct stats_counts *minute_slot(struct stats *s, int64_t ms)
{
	int64_t minute = ms / MINUTE_MS;
	size_t i = (size_t)(minute % STATS_MINUTES);

	/* The slot already holds a later minute: this one is older than the 24 h window. */
	if (s->minute_of[i] > minute)
		return NULL;
	if (s->minute_of[i] != minute) {
		memset(&s->minute[i], 0, sizeof s->minute[i]);
		s->minute_of[i] = minute;
	}
	return &s->minute[i];
}

void stats_seed_minute(struct stats *s, int64_t minute_ms, const struct stats_counts *c)
{
	struct stats_counts *slot = minute_slot(s, minute_ms);

	if (slot)
		stats_counts_add(slot, c);
}

void stats_record(struct stats *s, const struct task *t)
{
	struct stats_counts *slot = minute_slot(s, t->finished);

	stats_add_task(&s->all, t, 1);
	if (slot)
		stats_add_task(slot, t, 1);
	if (t->finished >= s->start_ms)
		stats_add_task(&s->since_start, t, 1);
}

int64_t stats_day_start(int64_t now_ms)
{
	return (now_ms / MINUTE_MS - (STATS_MINUTES - 1)) * MINUTE_MS;
}

void stats_window(const struct stats *s, enum stats_window w, int64_t now_ms, struct stats_counts *out)
{
	int64_t now_minute = now_ms / MINUTE_MS;

	memset(out, 0, sizeof *out);
	switch (w) {
	case STATS_SINCE_START:
		*out = s->since_start;
		break;
	case STATS_ALL:
		*out = s->all;
		break;
	case STATS_DAY:
		for (size_t i = 0; i < STATS_MINUTES; i++)
			if (s->minute_of[i] > now_minute - STATS_MINUTES && s->minute_of[i] <= now_minute)
				stats_counts_add(out, &s->minute[i]);
		break;
	default:
		break;
	}
}

void stats_minutes(const struct stats *s, int64_t now_ms, size_t n, int64_t *out, int64_t *cached)
{
	int64_t now_minute = now_ms / MINUTE_MS;

	for (size_t k = 0; k < n; k++) {
		int64_t minute = now_minute - (int64_t)(n - 1 - k);
		size_t i = (size_t)(((minute % STATS_MINUTES) + STATS_MINUTES) % STATS_MINUTES);
		const struct stats_counts *c = &s->minute[i];

		bool kept = k < STATS_MINUTES && s->minute_of[i] == minute;

		out[k] = kept ? c->completed_first + c->completed_retry + c->failed : 0;
		if (cached)
			cached[k] = kept ? c->cached : 0;
	}
}
