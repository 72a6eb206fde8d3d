/*
 * The scheduler against real plecs-emu processes and a real simq server:
 * the batch rule, the 3 AM scenario, retry delays, permanent faults,
 * exhausted retries, an outage, a poisoned batch, cancel, two backends,
 * pausing one backend, progress of a running call,
 * and results checked against the analytic answer in CSV and MAT.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <matio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/client.h"
#include "emu_harness.h"
#include "engine/task.h"
#include "util/time.h"
#include "util/xalloc.h"

struct rig {
	struct emu_proc emu[2];
	int nemu;
	char *dir, *config;
	pid_t server;
	struct client *client;
	xmlrpc_client *emu_client;
};

static int serial;

/* Starts plecs-emu(s) and a server whose backends point at them. */
static void rig_start(struct rig *r, int nemu, const char *const *emu_args, int max_batch, const char *config_text)
{
	char *simq = xasprintf("%s/src/simq", getenv("SIMQ_BUILDDIR"));
	FILE *fp;

	memset(r, 0, sizeof *r);
	r->nemu = nemu;
	for (int i = 0; i < nemu; i++)
		emu_start(&r->emu[i], emu_args);
	r->dir = xasprintf("%s/state-%d", getenv("SIMQ_TEST_TMP"), serial);
	r->config = xasprintf("%s/simq-%d.ini", getenv("SIMQ_TEST_TMP"), serial++);
	fp = fopen(r->config, "w");
	assert_non_null(fp);
	for (int i = 0; i < nemu; i++)
		fprintf(fp, "[backend emu%d]\nurl = %s\nmax_batch = %d\n", i + 1, r->emu[i].url, max_batch);
	fprintf(fp, "%s", config_text ? config_text
				       : "[scheduler]\nbackoff_base = 0.2\nbackoff_max = 5s\ndown_after = 3\n");
	fclose(fp);
	r->server = fork();
	if (r->server == 0) {
		/* A failed assertion skips rig_stop: the server dies with the test rather than hold its log open. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(simq, simq, "server", "-f", "--home", r->dir, "-c", r->config, (char *)NULL);
		_exit(127);
	}
	struct client_options opt = {.state_dir = r->dir, .no_start = true};

	r->client = client_new(&opt);
	r->emu_client = emu_client(10000);
	for (int i = 0; i < 500; i++) {
		xmlrpc_env env;
		xmlrpc_value *p, *res = NULL;
		int fault;
		char *err = NULL;

		xmlrpc_env_init(&env);
		p = xmlrpc_build_value(&env, "(i)", 1);
		enum client_status st = client_call(r->client, "simq.echo", p, &res, &fault, &err);

		xmlrpc_DECREF(p);
		free(err);
		xmlrpc_env_clean(&env);
		if (st == CLIENT_OK) {
			xmlrpc_DECREF(res);
			break;
		}
		usleep(10000);
	}
	free(simq);
}

static xmlrpc_value *api(struct rig *r, const char *method, const char *format, ...)
{
	xmlrpc_env env;
	xmlrpc_value *params, *res = NULL;
	const char *tail;
	va_list ap;
	int fault;
	char *err = NULL;

	xmlrpc_env_init(&env);
	va_start(ap, format);
	xmlrpc_build_value_va(&env, format, ap, &params, &tail);
	va_end(ap);
	assert_false(env.fault_occurred);
	if (client_call(r->client, method, params, &res, &fault, &err) != CLIENT_OK)
		fail_msg("%s: %s", method, err);
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return res;
}

static void emu_call(struct rig *r, int which, const char *method, const char *format, ...)
{
	xmlrpc_env env;
	xmlrpc_value *params, *res = NULL;
	const char *tail;
	va_list ap;
	xmlrpc_server_info *server;

	xmlrpc_env_init(&env);
	va_start(ap, format);
	xmlrpc_build_value_va(&env, format, ap, &params, &tail);
	va_end(ap);
	server = xmlrpc_server_info_new(&env, r->emu[which].url);
	xmlrpc_client_call2(&env, r->emu_client, server, method, params, &res);
	if (env.fault_occurred)
		fail_msg("plecs-emu %s: %s", method, env.fault_string);
	xmlrpc_server_info_free(server);
	xmlrpc_DECREF(params);
	xmlrpc_DECREF(res);
	xmlrpc_env_clean(&env);
}

static void rig_stop(struct rig *r)
{
	int status;

	xmlrpc_DECREF(api(r, "simq.shutdown", "()"));
	assert_int_equal(waitpid(r->server, &status, 0), r->server);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	client_free(&r->client);
	xmlrpc_client_destroy(r->emu_client);
	for (int i = 0; i < r->nemu; i++)
		if (r->emu[i].pid > 0)
			emu_stop(&r->emu[i]);
	/* A sanitizer report from the server lands on its stderr, the test's log, and fails it by status. */
	free(r->dir);
	free(r->config);
}

static char *model(const char *name)
{
	return emu_model_path(name);
}

/*
 * Submits n tasks of a model with vars built by fn(i); returns the first id (ids are consecutive).
 * Each runs (no_cache): these tests count calls, and a case that ran would otherwise come from
 * the result cache.
 */
static int64_t submit(struct rig *r, const char *m, int n, const char *prio, const char *var, double (*value)(int))
{
	xmlrpc_env env;
	xmlrpc_value *tasks, *ids, *first;
	int64_t id = 0;

	xmlrpc_env_init(&env);
	tasks = xmlrpc_array_new(&env);
	for (int i = 0; i < n; i++) {
		xmlrpc_value *t = xmlrpc_build_value(&env, "{s:s,s:s,s:{s:d},s:b}", "model", m, "priority", prio, "vars",
						     var, value(i), "no_cache", 1);

		xmlrpc_array_append_item(&env, tasks, t);
		xmlrpc_DECREF(t);
	}
	ids = api(r, "simq.submit_many", "(V)", tasks);
	xmlrpc_array_read_item(&env, ids, 0, &first);
	if (xmlrpc_value_type(first) == XMLRPC_TYPE_INT) {
		int i;

		xmlrpc_read_int(&env, first, &i);
		id = i;
	} else {
		xmlrpc_int64 i;

		xmlrpc_read_i8(&env, first, &i);
		id = i;
	}
	xmlrpc_DECREF(first);
	xmlrpc_DECREF(ids);
	xmlrpc_DECREF(tasks);
	xmlrpc_env_clean(&env);
	return id;
}

static double duty(int i)
{
	return 0.1 + 0.8 * (i % 8) / 8.0;
}

static double vin(int i)
{
	return 100 + i;
}

/* A figure of simq.stats, e.g. "completed_first". */
static int64_t stat_of(struct rig *r, const char *key)
{
	xmlrpc_value *s = api(r, "simq.stats", "()"), *v = NULL;
	xmlrpc_env env;
	xmlrpc_int64 n = -1;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, s, key, &v);
	if (v) {
		xmlrpc_read_i8(&env, v, &n);
		xmlrpc_DECREF(v);
	}
	xmlrpc_DECREF(s);
	xmlrpc_env_clean(&env);
	return n;
}

/* Waits until the stats figure key reaches at least n. */
static void until_stat(struct rig *r, const char *key, int64_t n, double seconds)
{
	int64_t give_up = time_mono_ns() + (int64_t)(seconds * 1e9);

	while (stat_of(r, key) < n) {
		if (time_mono_ns() > give_up)
			fail_msg("%s still under %lld after %.0f s", key, (long long)n, seconds);
		usleep(10000);
	}
}

/* Waits until no call is in flight or waiting to retry (dispatch paused, say). */
static void until_idle(struct rig *r, double seconds)
{
	int64_t give_up = time_mono_ns() + (int64_t)(seconds * 1e9);

	while (stat_of(r, "running") != 0) {
		if (time_mono_ns() > give_up)
			fail_msg("still running after %.0f s", seconds);
		usleep(10000);
	}
}

/* Waits until every task is final: polls stats until nothing is queued or running. */
static void drain(struct rig *r, double seconds)
{
	int64_t give_up = time_mono_ns() + (int64_t)(seconds * 1e9);

	for (;;) {
		/* Both from one answer: a task between retry and dispatch is in one or the other. */
		xmlrpc_value *s = api(r, "simq.stats", "()"), *q, *run;
		xmlrpc_env env;
		xmlrpc_int64 queued, running;

		xmlrpc_env_init(&env);
		xmlrpc_struct_find_value(&env, s, "queued", &q);
		xmlrpc_struct_find_value(&env, s, "running", &run);
		xmlrpc_read_i8(&env, q, &queued);
		xmlrpc_read_i8(&env, run, &running);
		xmlrpc_DECREF(q);
		xmlrpc_DECREF(run);
		xmlrpc_DECREF(s);
		xmlrpc_env_clean(&env);
		if (queued == 0 && running == 0)
			return;
		if (time_mono_ns() > give_up)
			fail_msg("still %lld queued and %lld running after %.0f s", (long long)queued, (long long)running,
				 seconds);
		/* Poll: the server's long-poll would do, but stats are cheap. */
		usleep(20000);
	}
}

/* Polls the file at path until it holds text (at most seconds); fails the test with its tail if not. */
static void until_in_log(const char *path, const char *text, double seconds)
{
	static char buf[1 << 20];
	size_t n = 0;

	for (int i = 0; i < (int)(seconds * 50); i++) {
		FILE *fp = fopen(path, "r");

		n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
		if (fp)
			fclose(fp);
		buf[n] = '\0';
		if (strstr(buf, text))
			return;
		usleep(20000);
	}
	fail_msg("no \"%s\" in %s within %g s; it ends: %s", text, path, seconds, n > 600 ? buf + n - 600 : buf);
}

static sqlite3 *open_db(struct rig *r)
{
	char *path = xasprintf("%s/simq.db", r->dir);
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	free(path);
	return db;
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* What plecs-emu received: plecs.simulate calls, the most cases in one, the cases in all. */
static void emu_simulations(struct rig *r, int which, int *calls, int *most, int *cases)
{
	xmlrpc_env env;
	xmlrpc_value *params, *res = NULL;
	xmlrpc_server_info *server;

	*calls = *most = *cases = 0;
	xmlrpc_env_init(&env);
	params = xmlrpc_array_new(&env);
	server = xmlrpc_server_info_new(&env, r->emu[which].url);
	xmlrpc_client_call2(&env, r->emu_client, server, "emu.calls", params, &res);
	assert_false(env.fault_occurred);
	for (int i = 0; i < xmlrpc_array_size(&env, res); i++) {
		xmlrpc_value *c;
		const char *method, *outcome;
		int n;

		xmlrpc_array_read_item(&env, res, i, &c);
		xmlrpc_decompose_value(&env, c, "{s:s,s:i,s:s,*}", "method", &method, "cases", &n, "outcome", &outcome);
		if (strcmp(method, "plecs.simulate") == 0) {
			(*calls)++;
			*cases += n;
			if (n > *most)
				*most = n;
		}
		free((void *)method);
		free((void *)outcome);
		xmlrpc_DECREF(c);
	}
	xmlrpc_DECREF(res);
	xmlrpc_DECREF(params);
	xmlrpc_server_info_free(server);
	xmlrpc_env_clean(&env);
}

#define SCHED_PAUSED "[scheduler]\nbackoff_base = 0.2\nbackoff_max = 5s\ndown_after = 3\nstart_paused = true\n"

/* 40 tasks over two models and four priorities, dispatched from a full queue: every batch obeys DESIGN 4. */
static void test_batch_rule(void **state)
{
	static const char *const args[] = {"--cores", "4", NULL};
	struct rig r;
	char *rc = model("rc"), *buck = model("buck");
	sqlite3 *db;
	sqlite3_stmt *st;

	rig_start(&r, 1, args, 8, SCHED_PAUSED);
	submit(&r, rc, 8, "low", "Vin", vin);
	submit(&r, buck, 8, "normal", "D", duty);
	submit(&r, rc, 8, "high", "Vin", vin);
	submit(&r, buck, 8, "critical", "D", duty);
	submit(&r, rc, 8, "normal", "Vin", vin);
	xmlrpc_DECREF(api(&r, "simq.resume", "()"));
	drain(&r, 60);
	db = open_db(&r);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 2"), 40);
	/* Replay: each batch's head must be the most urgent task left, its members the same model and at most one
	 * level less urgent. */
	struct {
		int64_t id;
		int prio;
		char model[512];
		int64_t batch;
		bool done;
	} t[40];
	int n = 0;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT t.id, t.priority, t.model, a.batch_id FROM tasks t JOIN attempts a "
					    "ON a.task_id = t.id AND a.n = 1 ORDER BY a.batch_id, t.priority, t.id", -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < 40) {
		t[n].id = sqlite3_column_int64(st, 0);
		t[n].prio = sqlite3_column_int(st, 1);
		snprintf(t[n].model, sizeof t[n].model, "%s", (const char *)sqlite3_column_text(st, 2));
		t[n].batch = sqlite3_column_int64(st, 3);
		t[n].done = false;
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 40);
	int batches = 0;

	for (int i = 0; i < n;) {
		int j = i, head = i, best = -1;

		while (j < n && t[j].batch == t[i].batch)
			j++;
		batches++;
		assert_true(j - i <= 8);
		for (int k = 0; k < n; k++)
			if (!t[k].done && (best < 0 || t[k].prio < t[best].prio ||
					   (t[k].prio == t[best].prio && t[k].id < t[best].id)))
				best = k;
		if (t[head].id != t[best].id)
			fail_msg("batch %lld starts with task %lld, but task %lld (priority %d) was more urgent",
				 (long long)t[i].batch, (long long)t[head].id, (long long)t[best].id, t[best].prio);
		for (int k = i; k < j; k++) {
			assert_string_equal(t[k].model, t[head].model);
			assert_true(t[k].prio <= t[head].prio + 1);
			t[k].done = true;
		}
		i = j;
	}
	sqlite3_close(db);
	/* And plecs-emu saw exactly those calls, none larger than max_batch. */
	int calls, most, cases;

	emu_simulations(&r, 0, &calls, &most, &cases);
	assert_int_equal(calls, batches);
	assert_int_equal(cases, 40);
	assert_true(most <= 8);
	print_message("# 40 tasks in %d batches, the largest %d\n", batches, most);
	rig_stop(&r);
	free(rc);
	free(buck);
}

/* DESIGN 6 with the seed's 3 AM: a LOW sweep runs; a CRITICAL task takes the next slot, meets a licence
 * checkout failure (transient, and PLECS's to give: a refused connection would be the backend's and
 * cost no retry), waits its backoff, retries and completes. */
static void test_three_am(void **state)
{
	static const char *const args[] = {"--cores", "4", "--speed", "10", NULL};
	struct rig r;
	char *rc = model("rc"), *buck = model("buck");
	sqlite3 *db;
	char sql[256];

	rig_start(&r, 1, args, 8, NULL);
	int64_t low = submit(&r, rc, 200, "low", "Vin", vin);

	(void)low;
	/* Let the sweep run (some of it done), then hold dispatch while the scene is set.  The
	 * call in flight finishes first: injected before it sends, the refusal would meet LOW. */
	until_stat(&r, "completed_first", 8, 30);
	xmlrpc_DECREF(api(&r, "simq.pause", "()"));
	until_idle(&r, 30);
	emu_call(&r, 0, "emu.inject", "(si)", "license", 1);
	int64_t critical = submit(&r, buck, 1, "critical", "D", duty);

	xmlrpc_DECREF(api(&r, "simq.resume", "()"));
	drain(&r, 120);
	db = open_db(&r);
	snprintf(sql, sizeof sql, "SELECT attempts FROM tasks WHERE id = %lld AND state = 2", (long long)critical);
	assert_int_equal(scalar(db, sql), 2);
	/* Its first attempt took the first slot after the resume: no LOW batch started between. */
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM attempts WHERE task_id < %lld AND started > (SELECT submitted FROM tasks WHERE id = "
		 "%lld) AND batch_id < (SELECT batch_id FROM attempts WHERE task_id = %lld AND n = 1)",
		 (long long)critical, (long long)critical, (long long)critical);
	assert_int_equal(scalar(db, sql), 0);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 2"), 201);
	sqlite3_close(db);
	xmlrpc_value *stats = api(&r, "simq.stats", "()"), *v;
	xmlrpc_env env;
	xmlrpc_int64 retry;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, stats, "completed_retry", &v);
	xmlrpc_read_i8(&env, v, &retry);
	assert_int_equal(retry, 1);
	xmlrpc_DECREF(v);
	xmlrpc_DECREF(stats);
	xmlrpc_env_clean(&env);
	rig_stop(&r);
	free(rc);
	free(buck);
}

static void test_retry_delays_permanent_and_exhausted(void **state)
{
	struct rig r;
	char *rc = model("rc");
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[256];

	rig_start(&r, 1, NULL, 8, NULL);
	emu_call(&r, 0, "emu.inject", "(si)", "license", 3);
	int64_t a = submit(&r, rc, 1, "normal", "Vin", vin);

	drain(&r, 30);
	db = open_db(&r);
	snprintf(sql, sizeof sql, "SELECT started, ended FROM attempts WHERE task_id = %lld ORDER BY n", (long long)a);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	int64_t prev_end = 0;
	int k = 0;

	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t started = sqlite3_column_int64(st, 0), ended = sqlite3_column_int64(st, 1);

		if (k > 0) {
			double want = 0.2 * ldexp(1, k - 1), got = (double)(started - prev_end) / 1000;

			print_message("# retry %d waited %.3f s (base x 2^%d = %.3f s)\n", k, got, k - 1, want);
			assert_true(fabs(got - want) <= 0.1 * want);
		}
		prev_end = ended;
		k++;
	}
	sqlite3_finalize(st);
	assert_int_equal(k, 4);
	snprintf(sql, sizeof sql, "SELECT state FROM tasks WHERE id = %lld", (long long)a);
	assert_int_equal(scalar(db, sql), 2);

	emu_call(&r, 0, "emu.inject", "(si)", "fault", 1);
	int64_t b = submit(&r, rc, 1, "normal", "Vin", vin);

	drain(&r, 30);
	snprintf(sql, sizeof sql, "SELECT error FROM tasks WHERE id = %lld AND state = 3 AND attempts = 1", (long long)b);
	char *err = text(db, sql);

	assert_non_null(err);
	assert_non_null(strstr(err, "Simulation error: the solver failed to converge"));
	free(err);

	emu_call(&r, 0, "emu.inject", "(si)", "license", 4);
	int64_t c = submit(&r, rc, 1, "normal", "Vin", vin);

	drain(&r, 30);
	snprintf(sql, sizeof sql, "SELECT error FROM tasks WHERE id = %lld AND state = 3 AND attempts = 4", (long long)c);
	err = text(db, sql);
	assert_non_null(err);
	assert_non_null(strstr(err, "retries exhausted: No free license"));
	free(err);
	sqlite3_close(db);
	rig_stop(&r);
	free(rc);
}

/* plecs-emu goes away: the backend is DOWN after down_after refused calls, no task fails or spends a
 * retry, and all complete once it is back. */
static void test_outage(void **state)
{
	struct rig r;
	char *rc = model("rc");
	char port[16], sql[160];
	sqlite3 *db;

	rig_start(&r, 1, NULL, 8, NULL);
	snprintf(port, sizeof port, "%d", r.emu[0].port);
	/* One task first, so the backend is known UP before PLECS goes away (not DOWN at start). */
	submit(&r, rc, 1, "normal", "Vin", vin);
	drain(&r, 60);
	emu_stop(&r.emu[0]);
	r.emu[0].pid = 0;
	submit(&r, rc, 50, "normal", "Vin", vin);
	/* DOWN after exactly down_after (3) refused calls, and then probed: waited for, never slept. */
	char *log = xasprintf("%s/simulation.log", r.dir);

	until_in_log(log, "emu1 DOWN after 3 failed calls", 60);
	db = open_db(&r);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 3"), 0);
	snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT batch_id) FROM attempts WHERE outcome = %d", ATTEMPT_BACKEND);
	assert_int_equal(scalar(db, sql), 3);
	sqlite3_close(db);
	const char *const args[] = {"--port", port, NULL};

	emu_start(&r.emu[0], args);
	until_in_log(log, "emu1 UP", 60);
	drain(&r, 60);
	db = open_db(&r);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 2"), 51);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 3"), 0);
	/* The outage spent no retry: every task completed on its first counted attempt. */
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE attempts != 1"), 0);
	sqlite3_close(db);
	free(log);
	rig_stop(&r);
	free(rc);
}

static double poisoned(int i)
{
	return i == 5 ? 1.5 : 0.1 + 0.05 * i;
}

/* A batch of 16 with one bad case: 15 complete, 1 fails, in at most 2 log2(16) + 1 = 9 calls. */
static void test_poisoned_batch(void **state)
{
	static const char *const args[] = {"--cores", "4", NULL};
	struct rig r;
	char *buck = model("buck");
	sqlite3 *db;
	int calls, most, cases;

	rig_start(&r, 1, args, 16, SCHED_PAUSED);
	int64_t first = submit(&r, buck, 16, "normal", "D", poisoned);

	xmlrpc_DECREF(api(&r, "simq.resume", "()"));
	drain(&r, 60);
	db = open_db(&r);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 2"), 15);
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM tasks WHERE state = 3 AND id = %lld AND attempts = 1",
		 (long long)first + 5);
	assert_int_equal(scalar(db, sql), 1);
	sqlite3_close(db);
	emu_simulations(&r, 0, &calls, &most, &cases);
	print_message("# the poisoned batch took %d calls\n", calls);
	assert_true(calls <= 9);
	assert_int_equal(most, 16);
	rig_stop(&r);
	free(buck);
}

static char *task_state(struct rig *r, int64_t id)
{
	xmlrpc_value *t = api(r, "simq.get", "(I)", (xmlrpc_int64)id), *v;
	xmlrpc_env env;
	const char *s;
	char *copy;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, t, "state", &v);
	xmlrpc_read_string(&env, v, &s);
	copy = xstrdup(s);
	free((void *)s);
	xmlrpc_DECREF(v);
	xmlrpc_DECREF(t);
	xmlrpc_env_clean(&env);
	return copy;
}

static bool in_flight(struct rig *r, int64_t id)
{
	char *s = task_state(r, id);
	bool running = strcmp(s, "running") == 0;
	char sql[160];
	sqlite3 *db = open_db(r);

	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM attempts WHERE task_id = %lld AND outcome = 0", (long long)id);
	running = running && scalar(db, sql) == 1;
	sqlite3_close(db);
	free(s);
	return running;
}

/* DESIGN 6: cancel a queued, a retry-waiting and a running task. */
static void test_cancel(void **state)
{
	static const char *const args[] = {"--speed", "20", NULL};
	struct rig r;
	char *rc = model("rc");
	sqlite3 *db;
	char sql[160], *s;

	rig_start(&r, 1, args, 1, "[scheduler]\nbackoff_base = 30s\nbackoff_max = 1m\n");
	/* Running: rc's 5 ms TimeSpan at speed 20 would be quick; 0.05 s of it takes a second. */
	xmlrpc_value *t = api(&r, "simq.submit", "({s:s,s:{s:d}})", "model", rc, "solver", "TimeSpan", 0.05);
	xmlrpc_env env;
	int running_id, queued_id, waiting_id;

	xmlrpc_env_init(&env);
	xmlrpc_read_int(&env, t, &running_id);
	xmlrpc_DECREF(t);
	for (int i = 0; i < 500 && !in_flight(&r, running_id); i++)
		usleep(10000);
	assert_true(in_flight(&r, running_id));
	t = api(&r, "simq.submit", "({s:s})", "model", rc);
	xmlrpc_read_int(&env, t, &queued_id);
	xmlrpc_DECREF(t);
	xmlrpc_DECREF(api(&r, "simq.cancel", "(i)", queued_id));
	s = task_state(&r, queued_id);
	assert_string_equal(s, "cancelled");
	free(s);
	xmlrpc_DECREF(api(&r, "simq.cancel", "(i)", running_id));
	s = task_state(&r, running_id);
	assert_string_equal(s, "cancelled");
	free(s);
	/*
	 * Waiting to retry: a licence fault, then 30 s of backoff. The fault is
	 * injected once plecs-emu has answered the cancelled call, which would
	 * otherwise take it if its request were still on the way.
	 */
	int calls = 0, most, cases;

	for (int i = 0; i < 500 && calls == 0; i++) {
		emu_simulations(&r, 0, &calls, &most, &cases);
		if (calls == 0)
			usleep(10000);
	}
	assert_int_equal(calls, 1);
	emu_call(&r, 0, "emu.inject", "(si)", "license", 1);
	t = api(&r, "simq.submit", "({s:s})", "model", rc);
	xmlrpc_read_int(&env, t, &waiting_id);
	xmlrpc_DECREF(t);
	for (int i = 0; i < 500; i++) {
		db = open_db(&r);
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM tasks WHERE id = %d AND retry_due IS NOT NULL", waiting_id);
		int64_t waiting = scalar(db, sql);

		sqlite3_close(db);
		if (waiting == 1)
			break;
		assert_true(i < 499);
		usleep(10000);
	}
	xmlrpc_DECREF(api(&r, "simq.cancel", "(i)", waiting_id));
	s = task_state(&r, waiting_id);
	assert_string_equal(s, "cancelled");
	free(s);
	drain(&r, 30);
	/* The running one's call came back: its result was not stored, its attempt was discarded. */
	db = open_db(&r);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM results WHERE task_id = %d", running_id);
	assert_int_equal(scalar(db, sql), 0);
	snprintf(sql, sizeof sql, "SELECT outcome FROM attempts WHERE task_id = %d", running_id);
	assert_int_equal(scalar(db, sql), 5); /* ATTEMPT_DISCARDED */
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 4"), 3);
	sqlite3_close(db);
	xmlrpc_env_clean(&env);
	rig_stop(&r);
	free(rc);
}

/* Two backends share the work; one going DOWN moves it to the other. */
static void test_two_backends(void **state)
{
	static const char *const args[] = {"--speed", "5", NULL};
	struct rig r;
	char *rc = model("rc");
	int calls1, calls2, most, cases;
	sqlite3 *db;

	rig_start(&r, 2, args, 1, NULL);
	submit(&r, rc, 20, "normal", "Vin", vin);
	drain(&r, 60);
	emu_simulations(&r, 0, &calls1, &most, &cases);
	emu_simulations(&r, 1, &calls2, &most, &cases);
	print_message("# 20 tasks: %d calls on emu1, %d on emu2\n", calls1, calls2);
	assert_true(calls1 > 0 && calls2 > 0);
	assert_int_equal(calls1 + calls2, 20);
	emu_stop(&r.emu[1]);
	r.emu[1].pid = 0;
	submit(&r, rc, 10, "normal", "Vin", vin);
	drain(&r, 60);
	db = open_db(&r);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 2"), 30);
	sqlite3_close(db);
	rig_stop(&r);
	free(rc);
}

/* Calls method expecting a fault; returns its text (caller frees). */
static char *api_fault_text(struct rig *r, const char *method, const char *arg)
{
	xmlrpc_env env;
	xmlrpc_value *params, *res = NULL;
	int fault = 0;
	char *err = NULL;

	xmlrpc_env_init(&env);
	params = xmlrpc_build_value(&env, "(s)", arg);
	assert_int_equal(client_call(r->client, method, params, &res, &fault, &err), CLIENT_FAULT);
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return err;
}

/*
 * simq pause emu2: emu1 runs everything while emu2 gets no call; after
 * simq resume emu2 both run again. Pausing a backend that does not exist
 * names the ones that do.
 */
static void test_pause_one_backend(void **state)
{
	static const char *const args[] = {"--speed", "5", NULL};
	struct rig r;
	char *rc = model("rc"), *err;
	int calls1, calls2, most, cases;
	sqlite3 *db;

	(void)state;
	rig_start(&r, 2, args, 1, NULL);
	xmlrpc_DECREF(api(&r, "simq.pause", "(s)", "emu2"));
	submit(&r, rc, 20, "normal", "Vin", vin);
	drain(&r, 60);
	emu_simulations(&r, 0, &calls1, &most, &cases);
	emu_simulations(&r, 1, &calls2, &most, &cases);
	print_message("# emu2 paused: %d calls on emu1, %d on emu2\n", calls1, calls2);
	assert_int_equal(calls1, 20);
	assert_int_equal(calls2, 0);

	xmlrpc_DECREF(api(&r, "simq.resume", "(s)", "emu2"));
	submit(&r, rc, 20, "normal", "Vin", vin);
	drain(&r, 60);
	emu_simulations(&r, 0, &calls1, &most, &cases);
	emu_simulations(&r, 1, &calls2, &most, &cases);
	print_message("# emu2 resumed: %d calls on emu1, %d on emu2\n", calls1, calls2);
	assert_true(calls2 > 0);
	assert_int_equal(calls1 + calls2, 40);

	err = api_fault_text(&r, "simq.pause", "emu3");
	assert_non_null(strstr(err, "no backend \"emu3\"; backends: emu1, emu2"));
	free(err);

	db = open_db(&r);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM tasks WHERE state = 2"), 40);
	sqlite3_close(db);
	rig_stop(&r);
	free(rc);
}

/* simq.get's "call" member of a running task; false while the task is in no call. */
static bool get_call(struct rig *r, int64_t id, double *elapsed, double *estimate, double *progress)
{
	xmlrpc_value *t = api(r, "simq.get", "(I)", (xmlrpc_int64)id), *call = NULL;
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, t, "call", &call);
	if (call) {
		xmlrpc_decompose_value(&env, call, "{s:d,s:d,s:d,*}", "elapsed", elapsed, "estimate", estimate,
				       "progress", progress);
		assert_false(env.fault_occurred);
		xmlrpc_DECREF(call);
	}
	xmlrpc_DECREF(t);
	xmlrpc_env_clean(&env);
	return call != NULL;
}

static double fixed(int i)
{
	(void)i;
	return 10;
}

/*
 * DESIGN 5 in simq.get and simq show: the first call of a model has no
 * estimate; the next one's progress is elapsed over the first's wall time,
 * below 100 % while PLECS runs.
 */
static void test_progress(void **state)
{
	/* rc simulates 5 ms: 300 wall seconds per simulated second make a 1.5 s call. */
	static const char *const args[] = {"--speed", "300", NULL};
	struct rig r;
	char *rc = model("rc"), *cmd, line[512];
	double elapsed = 0, estimate = -1, progress = 0;
	int64_t first, second, give_up;
	bool shown = false;
	FILE *p;

	(void)state;
	rig_start(&r, 1, args, 1, NULL);
	first = submit(&r, rc, 1, "normal", "Vin", fixed);
	give_up = time_mono_ns() + 20 * INT64_C(1000000000);
	while (!get_call(&r, first, &elapsed, &estimate, &progress) && time_mono_ns() < give_up)
		usleep(20000);
	assert_true(estimate == 0 && progress == -1);
	drain(&r, 30);

	second = submit(&r, rc, 1, "normal", "Vin", fixed);
	give_up = time_mono_ns() + 20 * INT64_C(1000000000);
	while ((!get_call(&r, second, &elapsed, &estimate, &progress) || elapsed < 0.3) && time_mono_ns() < give_up)
		usleep(20000);
	print_message("# second call: %.2f s elapsed of an estimated %.2f s, progress %.2f\n", elapsed, estimate,
		      progress);
	assert_true(estimate >= 1.4 && estimate < 10);
	assert_true(progress > 0 && progress <= 0.99);
	assert_true(fabs(progress - fmin(0.99, elapsed / estimate)) < 0.05);

	cmd = xasprintf("'%s/src/simq' show %lld --home '%s' --no-start", getenv("SIMQ_BUILDDIR"), (long long)second,
			r.dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof line, p))
		if (strncmp(line, "progress", 8) == 0) {
			print_message("# simq show: %s", line);
			shown = strstr(line, "% (an estimate: ") && strstr(line, "), on emu1");
		}
	assert_int_equal(pclose(p), 0);
	assert_true(shown);
	drain(&r, 30);
	rig_stop(&r);
	free(cmd);
	free(rc);
}

/* Mean of signal 1 over the last tenth of a CSV result. */
static double csv_tail_mean(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	double *v = xcalloc(200000, sizeof *v), sum = 0;
	size_t n = 0;

	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof line, fp));
	assert_string_equal(line, "Time,sig1,sig2\n");
	while (fgets(line, sizeof line, fp) && n < 200000) {
		double t, a, b;

		assert_int_equal(sscanf(line, "%lf,%lf,%lf", &t, &a, &b), 3);
		v[n++] = a;
	}
	fclose(fp);
	for (size_t i = n - n / 10; i < n; i++)
		sum += v[i];
	free(v);
	return sum / (double)(n / 10);
}

static double mat_tail_mean(const char *path)
{
	mat_t *m = Mat_Open(path, MAT_ACC_RDONLY);
	matvar_t *values;
	double sum = 0;
	size_t n, signals;

	assert_non_null(m);
	values = Mat_VarRead(m, "Values");
	assert_non_null(values);
	signals = values->dims[0];
	n = values->dims[1];
	for (size_t i = n - n / 10; i < n; i++)
		sum += ((const double *)values->data)[0 + i * signals];
	Mat_VarFree(values);
	Mat_Close(m);
	return sum / (double)(n / 10);
}

static char *result_path(struct rig *r, int64_t id)
{
	xmlrpc_value *res = api(r, "simq.result", "(I)", (xmlrpc_int64)id), *v;
	xmlrpc_env env;
	const char *p;
	char *copy;

	xmlrpc_env_init(&env);
	xmlrpc_struct_find_value(&env, res, "path", &v);
	xmlrpc_read_string(&env, v, &p);
	copy = xstrdup(p);
	free((void *)p);
	xmlrpc_DECREF(v);
	xmlrpc_DECREF(res);
	xmlrpc_env_clean(&env);
	return copy;
}

static void test_results_csv_and_mat(void **state)
{
	struct rig r;
	char *buck = model("buck"), *path;
	xmlrpc_env env;
	xmlrpc_value *t;
	int id;

	xmlrpc_env_init(&env);
	for (int mat = 0; mat <= 1; mat++) {
		/* Plain answers stored as CSV; MatFile answers stored as MAT (the default).  The text follows
		 * rig_start's [backend emu1] section, so a key without a section header is the backend's. */
		rig_start(&r, 1, NULL, 8, mat ? "output_format = matfile\n" : "[store]\nresults_format = csv\n");
		t = api(&r, "simq.submit", "({s:s,s:{s:d,s:d},s:{s:d}})", "model", buck, "vars", "Vin", 400.0, "D", 0.42,
			"solver", "TimeSpan", 0.05);
		xmlrpc_read_int(&env, t, &id);
		xmlrpc_DECREF(t);
		drain(&r, 30);
		path = result_path(&r, id);
		double vout = mat ? mat_tail_mean(path) : csv_tail_mean(path);

		print_message("# buck through %s: Vout %.3f, D*Vin %.3f\n", mat ? "MatFile" : "CSV", vout, 0.42 * 400);
		assert_true(fabs(vout - 168) / 168 < 0.01);
		assert_non_null(strstr(path, mat ? ".mat" : ".csv"));
		free(path);
		rig_stop(&r);
	}
	xmlrpc_env_clean(&env);
	free(buck);
}

/* Counts a folder's entries (not . and ..); -1 when it cannot be read. */
static int entries(const char *dir, bool *tmp_left)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strstr(e->d_name, ".tmp"))
			*tmp_left = true;
		n++;
	}
	closedir(d);
	return n;
}

/* 150 results: task N's file is results/(N / 100)/N.mat, a hundred to a folder, with no temporary left. */
static void test_result_folders(void **state)
{
	static const char *const args[] = {"--speed", "0", NULL};
	struct rig r;
	char *rc = model("rc");
	bool tmp_left = false;

	rig_start(&r, 1, args, 16, NULL);
	int64_t first = submit(&r, rc, 150, "normal", "R", vin);

	drain(&r, 60);
	for (int64_t id = first; id < first + 150; id += 149) {
		char *path = result_path(&r, id), *want = xasprintf("%s/results/%lld/%lld.mat", r.dir,
									(long long)(id / 100), (long long)id);

		assert_string_equal(path, want);
		assert_int_equal(access(path, R_OK), 0);
		free(path);
		free(want);
	}
	int total = 0;

	for (int64_t folder = first / 100; folder <= (first + 149) / 100; folder++) {
		char *dir = xasprintf("%s/results/%lld", r.dir, (long long)folder);
		int n = entries(dir, &tmp_left);

		print_message("# %s: %d files\n", dir, n);
		assert_in_range(n, 1, 100);
		total += n;
		free(dir);
	}
	assert_int_equal(total, 150);
	assert_false(tmp_left);
	rig_stop(&r);
	free(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_rule),
		cmocka_unit_test(test_three_am),
		cmocka_unit_test(test_retry_delays_permanent_and_exhausted),
		cmocka_unit_test(test_outage),
		cmocka_unit_test(test_poisoned_batch),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_two_backends),
		cmocka_unit_test(test_pause_one_backend),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_results_csv_and_mat),
		cmocka_unit_test(test_result_folders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
