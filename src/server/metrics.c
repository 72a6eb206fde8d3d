#include "autoconf.h"

#include "server/metrics.h"

#include <math.h>
#include <stdio.h>

#include "engine/engine.h"
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

static void add_backend(const struct sched_backend_info *info, void *ud)
{
	struct buf *b = ud;

	buf_adds(b, "simq_backend_up{backend=\"");
	add_label(b, info->name);
	buf_addf(b, "\"} %d\n", info->up ? 1 : 0);
}

static void add_model(const struct sched_model_info *m, void *ud)
{
	struct buf *b = ud;
	int64_t cum = 0;

	for (size_t d = 0; d <= SCHED_NDURATION; d++) {
		cum += m->duration_le[d];
		buf_adds(b, "simq_task_duration_seconds_bucket{model=\"");
		add_label(b, m->model);
		if (d < SCHED_NDURATION)
			buf_addf(b, "\",le=\"%g\"} %lld\n", sched_duration_bounds[d], (long long)cum);
		else
			buf_addf(b, "\",le=\"+Inf\"} %lld\n", (long long)cum);
	}
	buf_adds(b, "simq_task_duration_seconds_sum{model=\"");
	add_label(b, m->model);
	buf_addf(b, "\"} %.17g\nsimq_task_duration_seconds_count{model=\"", m->duration_sum);
	add_label(b, m->model);
	buf_addf(b, "\"} %lld\n", (long long)cum);
}

/* simq_backend_up, simq_batch_size and simq_task_duration_seconds, from the scheduler. */
static void scheduler_metrics(const struct scheduler *sc, struct buf *out)
{
	struct sched_totals tot;
	int64_t cum = 0;

	buf_adds(out, "# HELP simq_backend_up 1 while the backend answers, 0 while it is DOWN.\n"
		      "# TYPE simq_backend_up gauge\n");
	scheduler_each_backend(sc, add_backend, out);
	scheduler_totals(sc, &tot);
	buf_adds(out, "# HELP simq_batch_size Cases per PLECS call answered since the server started.\n"
		      "# TYPE simq_batch_size histogram\n");
	for (size_t k = 0; k <= SCHED_NBATCH; k++) {
		cum += tot.batch_le[k];
		if (k < SCHED_NBATCH)
			buf_addf(out, "simq_batch_size_bucket{le=\"%d\"} %lld\n", sched_batch_bounds[k], (long long)cum);
		else
			buf_addf(out, "simq_batch_size_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
	}
	buf_addf(out, "simq_batch_size_sum %lld\nsimq_batch_size_count %lld\n", (long long)tot.cases,
		 (long long)tot.calls);
	buf_adds(out, "# HELP simq_task_duration_seconds A task's PLECS call time (its batch's wall time), by model, "
		      "since the server started.\n# TYPE simq_task_duration_seconds histogram\n");
	scheduler_each_model(sc, add_model, out);
}

char *metrics_text(struct engine *e)
{
	struct buf b = BUF_INIT;
	struct stats_counts k;
	int64_t ended[ATTEMPT_OUTCOME_COUNT];

	/* All time, as simq stats prints it: the figures agree at any moment. */
	engine_stats(e, STATS_ALL, &k);
	gauge_help(&b, "simq_tasks_total", "counter", "Tasks that reached a final state, all time.");
	buf_addf(&b, "simq_tasks_total{state=\"completed\"} %lld\n", (long long)(k.completed_first + k.completed_retry));
	buf_addf(&b, "simq_tasks_total{state=\"failed\"} %lld\n", (long long)k.failed);
	buf_addf(&b, "simq_tasks_total{state=\"cancelled\"} %lld\n", (long long)k.cancelled);
	buf_addf(&b, "simq_tasks_total{state=\"cached\"} %lld\n", (long long)k.cached);
	engine_attempt_counts(e, ended);
	gauge_help(&b, "simq_attempts_total", "counter",
		   "PLECS attempts that ended, all time, by outcome and, for failures, class.");
	buf_addf(&b, "simq_attempts_total{outcome=\"ok\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_OK]);
	buf_addf(&b, "simq_attempts_total{outcome=\"failed\",class=\"transient\"} %lld\n", (long long)ended[ATTEMPT_TRANSIENT]);
	buf_addf(&b, "simq_attempts_total{outcome=\"failed\",class=\"permanent\"} %lld\n", (long long)ended[ATTEMPT_PERMANENT]);
	buf_addf(&b, "simq_attempts_total{outcome=\"interrupted\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_INTERRUPTED]);
	buf_addf(&b, "simq_attempts_total{outcome=\"discarded\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_DISCARDED]);
	buf_addf(&b, "simq_attempts_total{outcome=\"split\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_SPLIT]);
	buf_addf(&b, "simq_attempts_total{outcome=\"backend\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_BACKEND]);
	buf_addf(&b, "simq_attempts_total{outcome=\"local\",class=\"\"} %lld\n", (long long)ended[ATTEMPT_LOCAL]);
	size_t by_prio[PRIO_COUNT];

	engine_queued(e, by_prio);
	gauge_help(&b, "simq_queue_depth", "gauge", "Tasks queued, by priority (a retry due and in line for a slot is running).");
	for (int p = 0; p < PRIO_COUNT; p++)
		buf_addf(&b, "simq_queue_depth{priority=\"%s\"} %zu\n", task_priority_name((enum task_priority)p),
			 by_prio[p]);
	gauge_help(&b, "simq_running", "gauge", "Tasks in a PLECS call or waiting for a retry.");
	buf_addf(&b, "simq_running %zu\n", engine_running(e));
	scheduler_metrics(engine_scheduler(e), &b);
	gauge_help(&b, "simq_success_ratio", "gauge", "completed / (completed + failed), all time.");
	add_ratio(&b, "simq_success_ratio", stats_success_rate(&k));
	gauge_help(&b, "simq_retry_effectiveness", "gauge",
		   "completed after retry / (that + failed with a transient error), all time.");
	add_ratio(&b, "simq_retry_effectiveness", stats_retry_effectiveness(&k));
	return buf_detach(&b);
}
