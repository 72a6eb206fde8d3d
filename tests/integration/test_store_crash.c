/*
 * Kills a process that is writing the store with SIGKILL at random moments,
 * 25 times, and checks after each reopen: every acknowledged submit is there
 * exactly once, no task is in an impossible state, and the kept statistics
 * equal a recount from the tasks.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/store.h"
#include "util/idmap.h"
#include "util/xalloc.h"

#define ROUNDS 25

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Invariants of DESIGN 3 and 6 that hold in the database after recovery. */
static const struct {
	const char *what;
	const char *sql;
} impossible[] = {
	{"attempts still running after recovery", "SELECT COUNT(*) FROM attempts WHERE outcome = 0"},
	{"queued tasks with a retry time or finish time",
	 "SELECT COUNT(*) FROM tasks WHERE state = 0 AND (retry_due IS NOT NULL OR finished IS NOT NULL)"},
	{"final tasks without a finish time or still waiting",
	 "SELECT COUNT(*) FROM tasks WHERE state >= 2 AND (finished IS NULL OR retry_due IS NOT NULL)"},
	{"running tasks neither in flight nor waiting (in flight is impossible after recovery)",
	 "SELECT COUNT(*) FROM tasks WHERE state = 1 AND retry_due IS NULL"},
	{"attempts that disagree with the attempt records",
	 "SELECT COUNT(*) FROM tasks t WHERE attempts != (SELECT COUNT(*) FROM attempts a "
	 "WHERE a.task_id = t.id AND a.outcome != 4)"},
	{"attempt_rows that disagree with the attempt records",
	 "SELECT COUNT(*) FROM tasks t WHERE attempt_rows != (SELECT COUNT(*) FROM attempts a WHERE a.task_id = t.id)"},
	{"failed_attempts that disagree with the attempt records",
	 "SELECT COUNT(*) FROM tasks t WHERE failed_attempts != (SELECT COUNT(*) FROM attempts a "
	 "WHERE a.task_id = t.id AND a.outcome IN (2, 3))"},
	{"completed tasks that never ran", "SELECT COUNT(*) FROM tasks WHERE state = 2 AND attempts = 0 AND NOT cached"},
	{"attempts for tasks that do not exist",
	 "SELECT COUNT(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.task_id)"},
};

static void check_round(const char *db_path, const char *ack_path, int round)
{
	struct store_recovery rec;
	char *err = NULL;
	struct store *s = store_open(db_path, NULL, &rec, &err);
	struct idmap seen = IDMAP_INIT;
	struct stats_counts kept, recount;
	FILE *fp;
	char line[64];
	int64_t acked = 0;
	sqlite3 *db;

	if (s == NULL)
		fail_msg("round %d: reopen failed: %s", round, err);
	/* Every acknowledged id, once: a line cut by the kill has no newline and was never acknowledged. */
	fp = fopen(ack_path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof line, fp)) {
		struct task *t = NULL;
		int64_t id;

		if (strchr(line, '\n') == NULL)
			break;
		id = strtoll(line, NULL, 10);
		if (idmap_get(&seen, id))
			fail_msg("round %d: id %lld acknowledged twice: an id was reused", round, (long long)id);
		idmap_put(&seen, id, (void *)1);
		if (store_get(s, id, &t) != STORE_OK)
			fail_msg("round %d: acknowledged task %lld is lost", round, (long long)id);
		task_free(&t);
		acked++;
	}
	fclose(fp);
	assert_int_equal(store_counters(s, &kept), STORE_OK);
	assert_int_equal(store_recount(s, INT64_MIN, &recount), STORE_OK);
	if (!stats_counts_equal(&kept, &recount))
		fail_msg("round %d: kept statistics differ from a recount (completed_first %lld vs %lld, failed %lld vs %lld)",
			 round, (long long)kept.completed_first, (long long)recount.completed_first,
			 (long long)kept.failed, (long long)recount.failed);
	store_close(&s);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof impossible / sizeof impossible[0]; i++) {
		int64_t bad = count(db, impossible[i].sql);

		if (bad != 0)
			fail_msg("round %d: %lld %s", round, (long long)bad, impossible[i].what);
	}
	assert_true(count(db, "SELECT COUNT(*) FROM tasks") >= acked);
	sqlite3_close(db);
	idmap_free(&seen);
	print_message("# round %d: %lld acknowledged, %lld recovered in flight, %lld waiting to retry\n", round,
		      (long long)acked, (long long)rec.interrupted, (long long)rec.waiting_retry);
}

static void test_survives_sigkill(void **state)
{
	const char *tmp = getenv("SIMQ_TEST_TMP");
	char *helper = xasprintf("%s/tests/integration/store-crash-helper", getenv("SIMQ_BUILDDIR"));
	char *db_path = xasprintf("%s/crash.db", tmp);
	char *ack_path = xasprintf("%s/acked", tmp);
	unsigned seed = (unsigned)time(NULL);

	print_message("# seed %u\n", seed);
	srand(seed);
	unlink(db_path);
	unlink(ack_path);
	for (int round = 1; round <= ROUNDS; round++) {
		off_t before = file_size(ack_path);
		char seed_arg[32];
		int status;
		pid_t pid;

		snprintf(seed_arg, sizeof seed_arg, "%u", seed + (unsigned)round);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			execl(helper, helper, db_path, ack_path, seed_arg, (char *)NULL);
			_exit(127);
		}
		/* Let it acknowledge something (a round where it acknowledged nothing would test nothing),
		 * then kill it at a random moment within 40 ms. */
		for (int i = 0; i < 60000 && file_size(ack_path) == before; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				fail_msg("round %d: the helper exited early (status %d)", round, status);
			usleep(1000);
		}
		if (file_size(ack_path) == before)
			fail_msg("round %d: the helper acknowledged no submit within 60 s", round);
		usleep((useconds_t)(rand() % 40000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		check_round(db_path, ack_path, round);
	}
	free(helper);
	free(db_path);
	free(ack_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_survives_sigkill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
