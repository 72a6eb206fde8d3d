#include "autoconf.h"

#include "server/metrics.h"

#include <math.h>
#include <stdio.h>

#include "engine/queue.h"
#include "engine/stats.h"
#include "engine/store.h"
#include "server/sched.h"
#include "server/server.h"
#include "util/buf.h"

static void gauge_help(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NaN until something finished: Prometheus's own word for "undefined". */
static void add_ratio(struct buf *b, const char *name, double v)
{
	if (isnan(v))
		buf_addf(b, "%s NaN\n", name);
	else
		buf_addf(b, "%s %.17g\n", name, v);
}

char *metrics_text(struct server *s)
{
	struct buf b = BUF_INIT;
	struct stats_counts k;
	int64_t ended[ATTEMPT_OUTCOME_COUNT];

	/* All time, as simq stats prints it: the figures agree at any moment. */
	stats_window(&s->stats, STATS_ALL, server_now_ms(), &k);
	gauge_help(&b, "simq_tasks_total", "counter", "Tasks that reached a final state, all time.");
	buf_addf(&b, "simq_tasks_total{state=\"completed\"} %lld\n", (long long)(k.completed_first + k.completed_retry));
	buf_addf(&b, "simq_tasks_total{state=\"failed\"} %lld\n", (long long)k.failed);
	buf_addf(&b, "simq_tasks_total{state=\"cancelled\"} %lld\n", (long long)k.cancelled);
	buf_addf(&b, "simq_tasks_total{state=\"cached\"} %lld\n", (long long)k.cached);
	store_attempt_counts(s->store, ended);
	gauge_help(&b, "simq_attempts_total", "counter",
		   "PLECS attempts that ended, all time, by outcome and, for failures, class.");
	buf_addf(&b, "simq_attempts_total{outcome=\"ok\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_OK]);
	buf_addf(&b, "simq_attempts_total{outcome=\"failed\",class=\"transient\"} %lld\n", (long long)ended[ATTEMPT_TRANSIENT]);
	buf_addf(&b, "simq_attempts_total{outcome=\"failed\",class=\"permanent\"} %lld\n", (long long)ended[ATTEMPT_PERMANENT]);
	buf_addf(&b, "simq_attempts_total{outcome=\"interrupted\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_INTERRUPTED]);
	buf_addf(&b, "simq_attempts_total{outcome=\"discarded\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_DISCARDED]);
	buf_addf(&b, "simq_attempts_total{outcome=\"split\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_SPLIT]);
	gauge_help(&b, "simq_queue_depth", "gauge", "Tasks queued, by priority.");
	for (int p = 0; p < PRIO_COUNT; p++)
		buf_addf(&b, "simq_queue_depth{priority=\"%s\"} %zu\n", task_priority_name((enum task_priority)p),
			 queue_count(s->queue, (enum task_priority)p));
	gauge_help(&b, "simq_running", "gauge", "Tasks in a PLECS call or waiting for a retry.");
	buf_addf(&b, "simq_running %zu\n", s->running);
	if (s->sched)
		sched_metrics(s->sched, &b);
	gauge_help(&b, "simq_success_ratio", "gauge", "completed / (completed + failed), all time (DESIGN 9).");
	add_ratio(&b, "simq_success_ratio", stats_success_rate(&k));
	gauge_help(&b, "simq_retry_effectiveness", "gauge",
		   "completed after retry / (that + failed with a transient error), all time (DESIGN 9).");
	add_ratio(&b, "simq_retry_effectiveness", stats_retry_effectiveness(&k));
	return buf_detach(&b);
}
