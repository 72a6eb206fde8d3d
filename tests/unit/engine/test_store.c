#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store.h"
#include "engine/unsaved.h"
#include "util/xalloc.h"

#define NOW INT64_C(1795842434000)

static char *db_path(const char *name)
{
	char *path = xasprintf("%s/%s", getenv("SIMQ_TEST_TMP"), name);

	unlink(path);
	return path;
}

static struct store *open_at(const char *path, struct store_recovery *rec)
{
	struct store_open_options opt = {.now_ms = NOW + 100000, .busy_timeout_ms = 200};
	char *err = NULL;
	struct store *s = store_open(path, &opt, rec, &err);

	if (s == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

static struct task *new_task(int i)
{
	char vars[64];
	struct task *t;

	snprintf(vars, sizeof vars, "{\"Vin\":%d}", 300 + i);
	t = task_new(i % 2 ? "/lab/buck.plecs" : "/lab/rc.plecs", vars, NULL, (enum task_priority)(i % 4));
	t->submitted = NOW + i;
	return t;
}

static void expect_same_counters(struct store *s)
{
	struct stats_counts kept, recount;

	assert_int_equal(store_counters(s, &kept), STORE_OK);
	assert_int_equal(store_recount(s, INT64_MIN, &recount), STORE_OK);
	assert_true(stats_counts_equal(&kept, &recount));
}

static void test_submit_and_read_back(void **state)
{
	char *path = db_path("submit.db");
	struct store *s = open_at(path, NULL);
	struct task *t = new_task(1), *back = NULL;

	task_set_text(&t->name, "sweep-7");
	task_set_text(&t->tags, "night,buck");
	t->timeout = 120;
	assert_int_equal(store_submit(s, t), STORE_OK);
	assert_true(t->id > 0);
	assert_int_equal(store_get(s, t->id, &back), STORE_OK);
	assert_string_equal(back->model, "/lab/buck.plecs");
	assert_string_equal(back->vars, "{\"Vin\":301}");
	assert_string_equal(back->solver, "{}");
	assert_string_equal(back->name, "sweep-7");
	assert_string_equal(back->tags, "night,buck");
	assert_int_equal(back->priority, PRIO_HIGH);
	assert_int_equal(back->state, TASK_QUEUED);
	assert_int_equal(back->submitted, NOW + 1);
	assert_true(back->timeout == 120);
	task_free(&back);
	assert_int_equal(store_get(s, 999, &back), STORE_NOTFOUND);
	assert_null(back);
	task_free(&t);
	store_close(&s);
	free(path);
}

static void test_submit_many_is_all_or_nothing(void **state)
{
	char *path = db_path("many.db");
	struct store *s = open_at(path, NULL);
	struct task *tasks[1000];
	int64_t counts[TASK_STATE_COUNT];

	for (int i = 0; i < 1000; i++)
		tasks[i] = new_task(i);
	tasks[500]->state = TASK_RUNNING;
	assert_int_equal(store_submit_many(s, tasks, 1000), STORE_STATE);
	assert_non_null(strstr(store_error(s), "must be queued"));
	assert_int_equal(tasks[0]->id, 0);
	assert_int_equal(store_count_states(s, counts), STORE_OK);
	assert_int_equal(counts[TASK_QUEUED], 0);
	tasks[500]->state = TASK_QUEUED;
	assert_int_equal(store_submit_many(s, tasks, 1000), STORE_OK);
	for (int i = 1; i < 1000; i++)
		assert_int_equal(tasks[i]->id, tasks[i - 1]->id + 1);
	assert_int_equal(store_count_states(s, counts), STORE_OK);
	assert_int_equal(counts[TASK_QUEUED], 1000);
	for (int i = 0; i < 1000; i++)
		task_free(&tasks[i]);
	store_close(&s);
	free(path);
}

/* Dispatch a batch of three: one completes, one waits to retry, one fails for good. */
static void test_batch_lifecycle_and_counters(void **state)
{
	char *path = db_path("life.db");
	struct store *s = open_at(path, NULL);
	struct task *t[3];
	struct store_change ch[3];

	for (int i = 0; i < 3; i++) {
		t[i] = new_task(i);
		assert_int_equal(store_submit(s, t[i]), STORE_OK);
	}
	for (int i = 0; i < 3; i++) {
		assert_true(task_transition(t[i], TASK_RUNNING, NOW + 10));
		t[i]->attempts++;
		t[i]->attempt_rows++;
		ch[i] = (struct store_change){.task = t[i], .attempt = STORE_ATTEMPT_BEGIN, .backend = "ws1",
					      .batch_id = 42, .time = NOW + 10};
	}
	assert_int_equal(store_commit(s, ch, 3), STORE_OK);

	assert_true(task_transition(t[0], TASK_COMPLETED, NOW + 20));
	ch[0] = (struct store_change){.task = t[0], .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_OK, .time = NOW + 20};
	t[1]->failed_attempts++;
	t[1]->had_transient = true;
	t[1]->retry_due = NOW + 5020;
	task_set_text(&t[1]->error, "connection refused");
	ch[1] = (struct store_change){.task = t[1], .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_TRANSIENT,
				      .error = "connection refused", .time = NOW + 20};
	t[2]->failed_attempts++;
	assert_true(task_transition(t[2], TASK_FAILED, NOW + 20));
	task_set_text(&t[2]->error, "Simulation error: D out of range");
	ch[2] = (struct store_change){.task = t[2], .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_PERMANENT,
				      .error = t[2]->error, .time = NOW + 20};
	assert_int_equal(store_commit(s, ch, 3), STORE_OK);
	expect_same_counters(s);

	struct stats_counts c;

	assert_int_equal(store_counters(s, &c), STORE_OK);
	assert_int_equal(c.completed_first, 1);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.failed_transient, 0);
	assert_int_equal(c.with_failed_attempt, 1);

	/* A final task cannot change again. */
	assert_true(task_transition(t[1], TASK_CANCELLED, NOW + 30));
	t[0]->priority = PRIO_LOW;
	ch[0] = (struct store_change){.task = t[0]};
	assert_int_equal(store_commit(s, ch, 1), STORE_STATE);
	assert_non_null(strstr(store_error(s), "cannot go from completed"));
	ch[0] = (struct store_change){.task = t[1]};
	assert_int_equal(store_commit(s, ch, 1), STORE_OK);
	expect_same_counters(s);

	/* Nothing was written for the refused change. */
	struct task *back;

	assert_int_equal(store_get(s, t[0]->id, &back), STORE_OK);
	assert_int_equal(back->priority, t[0]->id % 4 == 0 ? PRIO_CRITICAL : back->priority);
	assert_int_equal(back->state, TASK_COMPLETED);
	task_free(&back);
	for (int i = 0; i < 3; i++)
		task_free(&t[i]);
	store_close(&s);
	free(path);
}

static int64_t scalar(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void collect(struct task *t, void *ud)
{
	struct task **out = ud;

	for (int i = 0; i < 8; i++) {
		if (out[i] == NULL) {
			out[i] = t;
			return;
		}
	}
	task_free(&t);
}

static void test_recovery_after_a_crash(void **state)
{
	char *path = db_path("recover.db");
	struct store *s = open_at(path, NULL);
	struct task *inflight = new_task(1), *waiting = new_task(2), *queued = new_task(3);
	struct store_change ch[2];
	struct store_recovery rec;

	store_submit(s, inflight);
	store_submit(s, waiting);
	store_submit(s, queued);
	/* inflight: attempt 2 running (attempt 1 failed transient); waiting: attempt 1 failed, retry due. */
	task_transition(inflight, TASK_RUNNING, NOW);
	inflight->attempts = inflight->attempt_rows = 1;
	ch[0] = (struct store_change){.task = inflight, .attempt = STORE_ATTEMPT_BEGIN, .time = NOW};
	store_commit(s, ch, 1);
	inflight->failed_attempts = 1;
	inflight->had_transient = true;
	ch[0] = (struct store_change){.task = inflight, .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_TRANSIENT,
				      .time = NOW + 1};
	store_commit(s, ch, 1);
	inflight->attempts = inflight->attempt_rows = 2;
	ch[0] = (struct store_change){.task = inflight, .attempt = STORE_ATTEMPT_BEGIN, .time = NOW + 2};
	task_transition(waiting, TASK_RUNNING, NOW);
	waiting->attempts = waiting->attempt_rows = 1;
	ch[1] = (struct store_change){.task = waiting, .attempt = STORE_ATTEMPT_BEGIN, .time = NOW};
	assert_int_equal(store_commit(s, ch, 2), STORE_OK);
	waiting->failed_attempts = 1;
	waiting->retry_due = NOW + 10000;
	ch[0] = (struct store_change){.task = waiting, .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_TRANSIENT,
				      .time = NOW + 3};
	assert_int_equal(store_commit(s, ch, 1), STORE_OK);
	/* The server dies here: no close. Reopen from another handle. */
	struct store *again = open_at(path, &rec);

	assert_int_equal(rec.interrupted, 1);
	assert_int_equal(rec.waiting_retry, 1);
	struct task *loaded[8] = {NULL};

	assert_int_equal(store_load_active(again, collect, loaded), STORE_OK);
	assert_int_equal(loaded[0]->id, inflight->id);
	assert_int_equal(loaded[0]->state, TASK_QUEUED);
	assert_int_equal(loaded[0]->attempts, 1); /* the interrupted one is not a retry */
	assert_int_equal(loaded[0]->attempt_rows, 2);
	assert_int_equal(loaded[1]->id, waiting->id);
	assert_int_equal(loaded[1]->state, TASK_RUNNING);
	assert_int_equal(loaded[1]->retry_due, NOW + 10000);
	assert_int_equal(loaded[2]->id, queued->id);
	assert_null(loaded[3]);
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT outcome FROM attempts WHERE task_id = %lld AND n = 2", (long long)inflight->id);
	assert_int_equal(scalar(path, sql), ATTEMPT_INTERRUPTED);
	for (int i = 0; i < 8; i++)
		task_free(&loaded[i]);
	store_close(&again);
	store_close(&s);
	task_free(&inflight);
	task_free(&waiting);
	task_free(&queued);
	free(path);
}

static void test_results_and_log(void **state)
{
	char *path = db_path("results.db");
	struct store *s = open_at(path, NULL);
	struct task *t = new_task(1);
	char rpath[] = "results/1.csv", format[] = "csv", summary[] = "{\"Vout\":{\"mean\":200}}", key[] = "abc123";
	struct store_result r = {.path = rpath, .format = format, .points = 1001, .signals = 2, .summary = summary,
				 .cache_key = key},
			    back;
	int64_t seq1, seq2;

	store_submit(s, t);
	r.task_id = t->id;
	assert_int_equal(store_result_put(s, &r), STORE_OK);
	assert_int_equal(store_result_get(s, t->id, &back), STORE_OK);
	assert_string_equal(back.path, "results/1.csv");
	assert_int_equal(back.points, 1001);
	store_result_free(&back);
	/* A row answers by its key (rows are written with COMPLETED, and an archived task keeps its row). */
	assert_int_equal(store_result_by_key(s, "abc123", &back), STORE_OK);
	store_result_free(&back);
	assert_int_equal(store_result_by_key(s, "abc124", &back), STORE_NOTFOUND);
	task_transition(t, TASK_RUNNING, NOW);
	task_transition(t, TASK_COMPLETED, NOW);
	t->attempts = 1;
	struct store_change ch = {.task = t};

	assert_int_equal(store_commit(s, &ch, 1), STORE_OK);
	assert_int_equal(store_result_by_key(s, "abc123", &back), STORE_OK);
	assert_int_equal(back.task_id, t->id);
	store_result_free(&back);
	/*
	 * A second run of that key (--no-cache) refreshes the entry: the newest run comes first, then
	 * a row reusing a file; each keeps the size its file was written with.  A file dropped (gone,
	 * damaged) leaves the cache with every row naming it.
	 */
	struct task *again = new_task(1), *reuse = new_task(1);
	char rpath2[] = "results/2.csv", mdl[] = "/m.plecs", mb[] = "b";

	store_submit(s, again);
	store_submit(s, reuse);
	r.parts = (struct cachekey_parts){.model = mdl, .model_bytes = mb, .created = NOW};
	assert_int_equal(store_result_put(s, &r), STORE_OK);
	struct store_result r2 = r, r3 = r;

	r2.task_id = again->id;
	r2.path = rpath2;
	r2.parts.created = NOW + 1000;
	r2.size = 4321;
	r3.task_id = reuse->id;
	r3.path = rpath2;
	r3.source = again->id;
	r3.parts = (struct cachekey_parts){0};
	assert_int_equal(store_result_put(s, &r3), STORE_OK);
	assert_int_equal(store_result_put(s, &r2), STORE_OK);
	assert_int_equal(store_result_by_key(s, "abc123", &back), STORE_OK);
	assert_int_equal(back.task_id, again->id);
	assert_int_equal(back.size, 4321);
	store_result_free(&back);
	assert_int_equal(store_cache_drop(s, rpath2), STORE_OK);
	assert_int_equal(store_result_by_key(s, "abc123", &back), STORE_OK);
	assert_int_equal(back.task_id, t->id);
	store_result_free(&back);
	assert_int_equal(store_result_get(s, reuse->id, &back), STORE_OK);
	assert_null(back.cache_key);
	store_result_free(&back);
	task_free(&again);
	task_free(&reuse);
	assert_int_equal(store_log_append(s, NOW, t->id, "completed", &seq1), STORE_OK);
	assert_int_equal(store_log_append(s, NOW, 0, "server started", &seq2), STORE_OK);
	assert_int_equal(seq2, seq1 + 1);
	task_free(&t);
	store_close(&s);
	free(path);
}

static void test_cannot_open(void **state)
{
	char *err = NULL;
	struct store *s = store_open("/nonexistent/dir/simq.db", NULL, NULL, &err);

	assert_null(s);
	assert_non_null(strstr(err, "cannot open the task database /nonexistent/dir/simq.db"));
	free(err);
	s = store_open(getenv("SIMQ_TEST_TMP"), NULL, NULL, &err);
	assert_null(s);
	assert_non_null(err);
	free(err);
}

static void test_not_a_database(void **state)
{
	char *path = db_path("garbage.db");
	FILE *fp = fopen(path, "w");
	char *err = NULL;

	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database, just a text file someone put here\n", fp);
	fclose(fp);
	assert_null(store_open(path, NULL, NULL, &err));
	assert_non_null(strstr(err, "is damaged or is not a simq database"));
	free(err);
	free(path);
}

static void test_damaged_database_keeps_what_it_can(void **state)
{
	char *path = db_path("damaged.db");
	struct store *s = open_at(path, NULL);
	struct task *tasks[2000];
	char *err = NULL;

	for (int i = 0; i < 2000; i++)
		tasks[i] = new_task(i);
	assert_int_equal(store_submit_many(s, tasks, 2000), STORE_OK);
	store_close(&s);
	for (int i = 0; i < 2000; i++)
		task_free(&tasks[i]);
	/* Overwrite pages in the middle of the table with noise. */
	int fd = open(path, O_WRONLY);
	char noise[4096];

	memset(noise, 0xA5, sizeof noise);
	/* Ten pages well inside the tasks' leaves (the schema's tables take the first dozen), and the
	 * root of tasks_active. */
	for (int page = 20; page < 30; page++)
		assert_int_equal(pwrite(fd, noise, sizeof noise, 4096 * page), (ssize_t)sizeof noise);
	assert_int_equal(pwrite(fd, noise, sizeof noise, 4096 * 3), (ssize_t)sizeof noise);
	close(fd);
	s = store_open(path, NULL, NULL, &err);
	if (s) {
		struct task *loaded[8] = {NULL};
		enum store_status st = store_load_active(s, collect, loaded);

		for (int i = 0; i < 8; i++)
			task_free(&loaded[i]);
		assert_int_equal(st, STORE_CORRUPT);
		assert_non_null(strstr(store_error(s), "is damaged"));
		store_close(&s);
	} else {
		assert_non_null(strstr(err, "is damaged"));
		free(err);
	}
	free(path);
}

static void test_locked_database(void **state)
{
	char *path = db_path("locked.db");
	struct store *s = open_at(path, NULL);
	struct task *first = new_task(1), *second = new_task(2), *back = NULL;
	sqlite3 *other;

	assert_int_equal(store_submit(s, first), STORE_OK);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_submit(s, second), STORE_BUSY);
	assert_non_null(strstr(store_error(s), "is locked by another process (waited 200 ms)"));
	assert_int_equal(second->id, 0);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	/* The acknowledged task is there, and the store works again. */
	assert_int_equal(store_get(s, first->id, &back), STORE_OK);
	task_free(&back);
	assert_int_equal(store_submit(s, second), STORE_OK);
	task_free(&first);
	task_free(&second);
	store_close(&s);
	free(path);
}

/* A full disk is SQLITE_FULL; a page limit on the connection gives the same error without filling a disk. */
static void test_full_disk(void **state)
{
	char *path = db_path("full.db");
	struct store *s = open_at(path, NULL);
	struct task *tasks[200];
	int64_t counts[TASK_STATE_COUNT];
	int acked = 0;
	enum store_status st = STORE_OK;

	assert_int_equal(store_limit_pages(s, 40), STORE_OK);
	for (int round = 0; round < 50 && st == STORE_OK; round++) {
		for (int i = 0; i < 200; i++)
			tasks[i] = new_task(i);
		st = store_submit_many(s, tasks, 200);
		if (st == STORE_OK)
			acked += 200;
		for (int i = 0; i < 200; i++)
			task_free(&tasks[i]);
	}
	assert_int_equal(st, STORE_FULL);
	assert_non_null(strstr(store_error(s), "is full; this change was not saved, and nothing saved before is lost"));
	store_close(&s);
	s = open_at(path, NULL);
	assert_int_equal(store_count_states(s, counts), STORE_OK);
	assert_int_equal(counts[TASK_QUEUED], acked);
	assert_true(acked > 0);
	store_close(&s);
	free(path);
}

static void test_newer_schema_is_refused(void **state)
{
	char *path = db_path("newer.db");
	struct store *s = open_at(path, NULL);
	sqlite3 *db;
	char *err = NULL;

	store_close(&s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_null(store_open(path, NULL, NULL, &err));
	assert_non_null(strstr(err, "has schema version 99, written by a newer simq"));
	free(err);
	assert_int_equal(scalar(path, "SELECT COUNT(*) FROM counters"), 8);
	free(path);
}

/* DESIGN 20: a request key is stored with its tasks, in the same transaction, or not at all. */
static void test_request_keys(void **state)
{
	char *path = db_path("requests.db");
	struct store *s = open_at(path, NULL);
	struct task *tasks[3], *again[2];
	struct store_request req = {.key = "sweep-7", .fingerprint = "fnv1a64:0123", .many = true, .created = NOW};
	struct store_request found;

	for (int i = 0; i < 3; i++)
		tasks[i] = new_task(i);
	assert_int_equal(store_request_find(s, "sweep-7", &found), STORE_NOTFOUND);
	assert_int_equal(store_submit_request(s, tasks, 3, &req), STORE_OK);
	assert_int_equal(store_request_find(s, "sweep-7", &found), STORE_OK);
	assert_string_equal(found.key, "sweep-7");
	assert_string_equal(found.fingerprint, "fnv1a64:0123");
	assert_true(found.many);
	assert_int_equal(found.first_id, tasks[0]->id);
	assert_int_equal(found.count, 3);
	assert_int_equal(found.created, NOW);
	store_request_free(&found);
	/* The same key again stores nothing: not the key, not the tasks. */
	for (int i = 0; i < 2; i++)
		again[i] = new_task(10 + i);
	assert_int_equal(store_submit_request(s, again, 2, &req), STORE_STATE);
	assert_non_null(strstr(store_error(s), "request key \"sweep-7\" is stored already"));
	assert_int_equal(again[0]->id, 0);
	assert_int_equal(scalar(path, "SELECT COUNT(*) FROM tasks"), 3);
	assert_int_equal(scalar(path, "SELECT COUNT(*) FROM requests"), 1);
	/* Without a key, nothing is stored in requests. */
	assert_int_equal(store_submit_request(s, again, 2, NULL), STORE_OK);
	assert_int_equal(scalar(path, "SELECT COUNT(*) FROM requests"), 1);
	for (int i = 0; i < 3; i++)
		task_free(&tasks[i]);
	for (int i = 0; i < 2; i++)
		task_free(&again[i]);
	store_close(&s);
	free(path);
}

/* A database of schema 1 (before request keys) opens: it is migrated to the latest and keeps its tasks. */
static int64_t size_of(const char *path, void *ud)
{
	(void)path;
	(void)ud;
	return 1000;
}

static void note_gone(const char *path, void *ud)
{
	char *names = ud;

	strcat(names, strrchr(path, '/') + 1);
	strcat(names, " ");
}

static void count_task(struct task *t, void *ud)
{
	++*(int *)ud;
	task_free(&t);
}

/* Finished tasks (cache hits, as a submit stores them) with results; task 3's names task 1's file. */
static void finished_with_results(struct store *s, struct task *t[3])
{
	static const char *const paths[] = {"/r/0/1.mat", "/r/0/2.mat", "/r/0/1.mat"};

	for (int i = 0; i < 3; i++) {
		t[i] = new_task(i);
		t[i]->state = TASK_COMPLETED;
		t[i]->cached = true;
		t[i]->finished = NOW + i;
		assert_int_equal(store_submit(s, t[i]), STORE_OK);
		struct store_result r = {.task_id = t[i]->id, .path = (char *)paths[i], .format = (char *)"mat"};

		assert_int_equal(store_result_put(s, &r), STORE_OK);
	}
}

/* Archiving moves rows, readers find them; a file goes only with the last row that names it. */
static void test_archive_and_delete_shared_file(void **state)
{
	char *path = db_path("archive.db");
	struct store *s = open_at(path, NULL);
	struct task *t[3], *back = NULL;
	struct store_freed dry, done;
	char gone[256] = "";
	int64_t moved = 0, sized = 0, bytes = 0;
	int n = 0;

	finished_with_results(s, t);
	assert_int_equal(store_archive(s, NOW + 2, 1000, &moved), STORE_OK);
	assert_int_equal(moved, 2);
	assert_int_equal(store_get(s, t[0]->id, &back), STORE_OK);
	assert_true(back->archived);
	task_free(&back);
	assert_int_equal(store_list(s, STORE_ARCHIVE, -1, count_task, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_list(s, STORE_HOT | STORE_ARCHIVE, TASK_COMPLETED, count_task, &n), STORE_OK);
	assert_int_equal(n, 5);
	expect_same_counters(s);
	/* Each file counted once, on one of the rows naming it. */
	assert_int_equal(store_results_size(s, 100, size_of, NULL, &sized), STORE_OK);
	assert_int_equal(sized, 3);
	assert_int_equal(store_results_bytes(s, &bytes), STORE_OK);
	assert_int_equal(bytes, 2000);
	/* Task 1 goes, task 3 still names its file: no file is freed. */
	struct store_select one = {.from = STORE_HOT | STORE_ARCHIVE, .finished_before = NOW + 1};

	assert_int_equal(store_delete_finished(s, &one, true, size_of, note_gone, gone, &dry), STORE_OK);
	assert_int_equal(store_delete_finished(s, &one, false, size_of, note_gone, gone, &done), STORE_OK);
	assert_int_equal(dry.tasks, 1);
	assert_int_equal(done.tasks, 1);
	assert_int_equal(done.files, 0);
	assert_string_equal(gone, "");
	assert_int_equal(store_get(s, t[0]->id, &back), STORE_NOTFOUND);
	/* The rest, by state: both files go now, each once, with the dry run's figures. */
	struct store_select rest = {.from = STORE_HOT | STORE_ARCHIVE, .states = 1u << TASK_COMPLETED, .model = "*.plecs"};

	assert_int_equal(store_delete_finished(s, &rest, true, size_of, note_gone, gone, &dry), STORE_OK);
	assert_string_equal(gone, "");
	assert_int_equal(store_delete_finished(s, &rest, false, size_of, note_gone, gone, &done), STORE_OK);
	assert_int_equal(done.tasks, 2);
	assert_int_equal(done.by_state[TASK_COMPLETED], 2);
	assert_int_equal(done.files, 2);
	assert_int_equal(done.bytes, 2000);
	assert_memory_equal(&dry, &done, sizeof dry);
	assert_string_equal(gone, "1.mat 2.mat ");
	n = 0;
	assert_int_equal(store_list(s, STORE_HOT | STORE_ARCHIVE, -1, count_task, &n), STORE_OK);
	assert_int_equal(n, 0);
	for (int i = 0; i < 3; i++)
		task_free(&t[i]);
	store_close(&s);
	free(path);
}

static void test_schema_1_is_migrated(void **state)
{
	char *path = db_path("schema1.db");
	struct store *s = open_at(path, NULL);
	struct task *t = new_task(1), *back = NULL;
	struct store_request req = {.key = "k", .fingerprint = "f"}, found;
	sqlite3 *db;

	assert_int_equal(store_submit(s, t), STORE_OK);
	store_close(&s);
	/* Schema 1 is schema 7 without the requests table (2), the origin index and settings (3), the
	 * archive (4), the results' retention and cache columns (4, 5), the minutes' counts and deleted
	 * ranges (6) and the results' size (7): make the database what simq 1 left. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE requests; DROP INDEX tasks_origin; DROP TABLE settings; "
				      "DROP TABLE archived_tasks; DROP TABLE archived_attempts; DROP TABLE minute_counts; DROP TABLE deleted; "
				      "DROP TABLE results; CREATE TABLE results (task_id INTEGER PRIMARY KEY, path TEXT, "
				      "format TEXT, points INTEGER, signals INTEGER, summary TEXT, cache_key TEXT); "
				      "CREATE INDEX results_cache ON results(cache_key) WHERE cache_key IS NOT NULL; "
				      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(scalar(path, "PRAGMA user_version"), 1);
	s = open_at(path, NULL);
	assert_int_equal(scalar(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(STORE_SCHEMA_VERSION, 7);
	assert_int_equal(store_get(s, t->id, &back), STORE_OK);
	assert_string_equal(back->vars, t->vars);
	task_free(&back);
	task_free(&t);
	t = new_task(2);
	assert_int_equal(store_submit_request(s, &t, 1, &req), STORE_OK);
	assert_int_equal(store_request_find(s, "k", &found), STORE_OK);
	assert_int_equal(found.first_id, t->id);
	assert_false(found.many);
	store_request_free(&found);
	/* 4: a result keeps its cache key's parts and its source. */
	char rpath[] = "results/2.mat", mat[] = "mat", key[] = "k4", bytes[] = "b4", model[] = "/m.plecs";
	struct store_result r = {.task_id = t->id, .path = rpath, .format = mat, .cache_key = key, .source = 1,
				 .parts = {.model = model, .model_bytes = bytes, .created = NOW}},
			    got;

	assert_int_equal(store_result_put(s, &r), STORE_OK);
	assert_int_equal(store_result_by_key(s, "k4", &got), STORE_OK);
	assert_int_equal(got.source, 1);
	assert_string_equal(got.parts.model_bytes, "b4");
	assert_int_equal(got.parts.created, NOW);
	store_result_free(&got);
	task_free(&t);
	store_close(&s);
	free(path);
}

/* Issue 15: a task gets one retry copy however often it is retried, even twice in one call. */
static void test_retry_copy_once(void **state)
{
	char *path = db_path("retries.db");
	struct store *s = open_at(path, NULL);
	struct task *t = new_task(1), *copies[2], *back = NULL;
	int64_t existing[2], *ids;
	size_t n;

	(void)state;
	assert_int_equal(store_submit(s, t), STORE_OK);
	for (int i = 0; i < 2; i++) {
		copies[i] = new_task(2);
		copies[i]->origin = t->id;
	}
	assert_int_equal(store_submit_retries(s, copies, 2, existing), STORE_OK);
	assert_int_equal(existing[0], 0);
	assert_true(copies[0]->id > t->id);
	assert_int_equal(existing[1], copies[0]->id);
	assert_int_equal(copies[1]->id, 0);
	assert_int_equal(store_copies(s, t->id, &ids, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], copies[0]->id);
	free(ids);
	assert_int_equal(store_get(s, t->id, &back), STORE_OK);
	assert_int_equal(back->retried_as, copies[0]->id);
	task_free(&back);
	assert_int_equal(scalar(path, "SELECT count(*) FROM tasks"), 2);
	for (int i = 0; i < 2; i++)
		task_free(&copies[i]);
	task_free(&t);
	store_close(&s);
	free(path);
}

/* The seed figures of DESIGN 9 through the store: kept counters and a recount agree on them. */
static void add_minute(int64_t minute_ms, const struct stats_counts *c, void *ud)
{
	assert_true(minute_ms % 60000 == 0);
	stats_counts_add(ud, c);
}

static void test_seed_figures_through_the_store(void **state)
{
	char *path = db_path("seed.db");
	struct store *s = open_at(path, NULL);
	enum { N = 8547 + 453 + 50 };
	struct task **ts = calloc(N, sizeof *ts);
	struct store_change *ch = calloc(N, sizeof *ch);
	struct stats_counts kept, recount;
	char text[32];

	for (int i = 0; i < N; i++)
		ts[i] = new_task(i);
	assert_int_equal(store_submit_many(s, ts, N), STORE_OK);
	for (int i = 0; i < N; i++) {
		struct task *t = ts[i];
		/* 8,547 first time; 453 after 705 retries (252 twice, 201 once); 50 failed after 3 retries. */
		int retries = i < 8547 ? 0 : i < 8547 + 252 ? 2 : i < 9000 ? 1 : 3;

		task_transition(t, TASK_RUNNING, NOW);
		t->attempts = t->attempt_rows = 1 + retries;
		t->failed_attempts = i < 9000 ? retries : 4;
		t->had_transient = t->failed_attempts > 0;
		task_transition(t, i < 9000 ? TASK_COMPLETED : TASK_FAILED, NOW + i);
		ch[i] = (struct store_change){.task = t};
	}
	assert_int_equal(store_commit(s, ch, N), STORE_OK);
	assert_int_equal(store_counters(s, &kept), STORE_OK);
	assert_int_equal(store_recount(s, INT64_MIN, &recount), STORE_OK);
	assert_true(stats_counts_equal(&kept, &recount));
	assert_int_equal(kept.completed_first, 8547);
	assert_int_equal(kept.completed_retry, 453);
	assert_int_equal(kept.failed, 50);
	snprintf(text, sizeof text, "%.1f %%", 100 * stats_success_rate(&kept));
	assert_string_equal(text, "99.4 %");
	snprintf(text, sizeof text, "%.0f %%", 100 * stats_retry_effectiveness(&kept));
	assert_string_equal(text, "90 %");
	snprintf(text, sizeof text, "%.1f", stats_retries_per_failed(&kept));
	assert_string_equal(text, "1.7");
	/* The minutes' counts add up to the same, and stay when the tasks are deleted (simq clean). */
	struct stats_counts minutes = {0};
	struct store_select all = {.from = STORE_HOT | STORE_ARCHIVE};
	struct store_freed freed;

	assert_int_equal(store_minute_counts(s, NOW - 60000, add_minute, &minutes), STORE_OK);
	assert_true(stats_counts_equal(&kept, &minutes));
	assert_int_equal(store_delete_finished(s, &all, false, NULL, NULL, NULL, &freed), STORE_OK);
	assert_int_equal(freed.tasks, N);
	memset(&minutes, 0, sizeof minutes);
	assert_int_equal(store_minute_counts(s, NOW - 60000, add_minute, &minutes), STORE_OK);
	assert_true(stats_counts_equal(&kept, &minutes));
	/* A day on, the window starts after them: none are read. */
	memset(&minutes, 0, sizeof minutes);
	assert_int_equal(store_minute_counts(s, NOW + 24 * 3600 * 1000LL, add_minute, &minutes), STORE_OK);
	assert_int_equal(minutes.completed_first, 0);
	for (int i = 0; i < N; i++)
		task_free(&ts[i]);
	free(ts);
	free(ch);
	store_close(&s);
	free(path);
}

static void note_saved(const struct task *copy, void *ud)
{
	char *seen = ud;

	snprintf(seen + strlen(seen), 64, "%lld:%s ", (long long)copy->id, task_state_name(copy->state));
}

/* Starts t's next attempt as the scheduler does, into ch. */
static void begin(struct task *t, struct store_change *ch, int64_t when)
{
	task_transition(t, TASK_RUNNING, when);
	t->attempts++;
	t->attempt_rows++;
	*ch = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_BEGIN, .backend = "ws1", .batch_id = 7, .time = when};
}

/*
 * Changes the store cannot take (here: another process holds the lock) are kept with copies of
 * their tasks, and written first, in order, once it takes changes again: a task that finished and
 * was freed meanwhile still ends up COMPLETED with its attempt and result, and the counters agree.
 */
static void test_unsaved_changes_wait_for_the_store(void **state)
{
	char *path = db_path("unsaved.db");
	struct store *s = open_at(path, NULL);
	struct unsaved *u = unsaved_new();
	struct task *done = new_task(1), *failing = new_task(2), *back = NULL;
	struct store_change ch[2];
	char rpath[] = "results/0/1.mat", format[] = "mat", summary[] = "{}", seen[256] = "";
	struct store_result r = {.path = rpath, .format = format, .points = 1001, .signals = 1, .summary = summary};
	sqlite3 *other;

	assert_int_equal(store_submit(s, done), STORE_OK);
	assert_int_equal(store_submit(s, failing), STORE_OK);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	begin(done, &ch[0], NOW + 10);
	begin(failing, &ch[1], NOW + 10);
	assert_int_equal(unsaved_commit(u, s, ch, 2, NOW + 10, note_saved, seen), STORE_BUSY);
	assert_int_equal(unsaved_count(u), 2);
	assert_int_equal(unsaved_since(u), NOW + 10);
	assert_int_equal(done->stored_state, TASK_QUEUED);

	/* done's end, with its result: kept too; then the task leaves memory, as a retired one does. */
	task_transition(done, TASK_COMPLETED, NOW + 20);
	r.task_id = done->id;
	ch[0] = (struct store_change){.task = done, .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_OK, .time = NOW + 20,
				      .result = &r};
	assert_int_equal(unsaved_commit(u, s, ch, 1, NOW + 20, note_saved, seen), STORE_BUSY);
	assert_int_equal(unsaved_count(u), 3);
	int64_t ids[4];

	assert_int_equal(unsaved_ids(u, ids, 4), 3);
	assert_int_equal(ids[0], done->id);
	assert_int_equal(ids[1], failing->id);
	int64_t done_id = done->id;

	task_free(&done);
	/* Nothing of it reached the store. */
	assert_int_equal(store_get(s, done_id, &back), STORE_OK);
	assert_int_equal(back->state, TASK_QUEUED);
	task_free(&back);

	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	/* The store takes changes again: the kept ones go first, then failing's end (from RUNNING). */
	failing->failed_attempts++;
	task_transition(failing, TASK_FAILED, NOW + 30);
	ch[0] = (struct store_change){.task = failing, .attempt = STORE_ATTEMPT_END, .outcome = ATTEMPT_PERMANENT,
				      .error = "D out of range", .time = NOW + 30};
	assert_int_equal(unsaved_commit(u, s, ch, 1, NOW + 30, note_saved, seen), STORE_OK);
	assert_int_equal(unsaved_count(u), 0);
	assert_int_equal(unsaved_since(u), 0);
	assert_int_equal(failing->stored_state, TASK_FAILED);
	char expect[128];

	snprintf(expect, sizeof expect, "%lld:running %lld:running %lld:completed ", (long long)done_id,
		 (long long)failing->id, (long long)done_id);
	assert_string_equal(seen, expect);
	assert_int_equal(store_get(s, done_id, &back), STORE_OK);
	assert_int_equal(back->state, TASK_COMPLETED);
	assert_int_equal(back->attempts, 1);
	task_free(&back);
	assert_int_equal(store_result_get(s, done_id, &r), STORE_OK);
	assert_string_equal(r.path, "results/0/1.mat");
	store_result_free(&r);
	char *sql = xasprintf("SELECT count(*) FROM attempts WHERE task_id = %lld AND outcome = %d AND ended IS NOT NULL",
			      (long long)done_id, ATTEMPT_OK);

	assert_int_equal(scalar(path, sql), 1);
	free(sql);
	expect_same_counters(s);

	/* A refusal comes back at every try: nothing is kept for it, and what was kept goes with it. */
	struct task *again = new_task(3);

	assert_int_equal(store_submit(s, again), STORE_OK);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	begin(again, &ch[0], NOW + 40);
	assert_int_equal(unsaved_commit(u, s, ch, 1, NOW + 40, note_saved, seen), STORE_BUSY);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	ch[0] = (struct store_change){.task = failing}; /* FAILED is final: the store refuses to move it */
	assert_int_equal(unsaved_commit(u, s, ch, 1, NOW + 50, note_saved, seen), STORE_STATE);
	assert_int_equal(unsaved_count(u), 0);
	assert_int_equal(again->stored_state, TASK_QUEUED);

	task_free(&again);
	task_free(&failing);
	unsaved_free(&u);
	assert_null(u);
	store_close(&s);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_and_read_back),
		cmocka_unit_test(test_submit_many_is_all_or_nothing),
		cmocka_unit_test(test_batch_lifecycle_and_counters),
		cmocka_unit_test(test_recovery_after_a_crash),
		cmocka_unit_test(test_results_and_log),
		cmocka_unit_test(test_cannot_open),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_damaged_database_keeps_what_it_can),
		cmocka_unit_test(test_locked_database),
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_newer_schema_is_refused),
		cmocka_unit_test(test_request_keys),
		cmocka_unit_test(test_schema_1_is_migrated),
		cmocka_unit_test(test_archive_and_delete_shared_file),
		cmocka_unit_test(test_retry_copy_once),
		cmocka_unit_test(test_seed_figures_through_the_store),
		cmocka_unit_test(test_unsaved_changes_wait_for_the_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
