/*
 * bench/archive [SIMQ]: a server over a big archive (issue 17, Done-when 5).  Builds a store
 * directly (its schema by store_open, then rows by plain SQL in one transaction, not through a
 * million submits): 1,000,000 archived tasks, each with an attempt and a result row, finished over
 * the last year, and 10,000 queued tasks.  Then times the server's start, from exec to its first
 * answer (three starts, the median), and simq.view as a console asks it, the queue page and the
 * log and holding the rows it was sent (queue_since, history_since), with and without the history
 * pane's 200 rows (median of 300 each); then the same with every row sent, as after a change.
 * Targets: start <= 2 s; simq.view <= 2 ms median.
 * With BENCH_ARCHIVE_DIR set, the store is built there once, kept, and reused by later runs.
 */
#include "autoconf.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/lib.h"
#include "client/client.h"
#include "engine/store.h"
#include "util/time.h"
#include "util/xalloc.h"

#ifndef ARCHIVED
#define ARCHIVED 1000000
#endif
#define QUEUED 10000
#define SAMPLES 300
#define STARTS 3

static void sql_or_die(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench/archive: %s: %s\n", sql, err);
		exit(1);
	}
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench/archive: %s: %s\n", sql, sqlite3_errmsg(db));
		exit(1);
	}
	return st;
}

static void step_or_die(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "bench/archive: filling the store: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_reset(st);
}

/* The schema as simq writes it, then the rows: what a year of nights leaves. */
static void fill(const char *dir, const char *model)
{
	char *path = xasprintf("%s/simq.db", dir), *err = NULL;
	struct store *s = store_open(path, NULL, NULL, &err);
	int64_t now = time_wall_ns() / 1000000, year = 365LL * 86400 * 1000;
	sqlite3 *db;

	if (s == NULL) {
		fprintf(stderr, "bench/archive: %s\n", err);
		exit(1);
	}
	store_close(&s);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sql_or_die(db, "BEGIN");
	sqlite3_stmt *task = prepare(db, "INSERT INTO archived_tasks (id, model, vars, solver, priority, state, attempts, "
					 "attempt_rows, submitted, started, finished) VALUES (?1, ?2, ?3, '{}', 2, 2, 1, 1, "
					 "?4 - 9000, ?4 - 5000, ?4)");
	sqlite3_stmt *att = prepare(db, "INSERT INTO archived_attempts (task_id, n, backend, batch_id, started, ended, "
					"outcome) VALUES (?1, 1, 'local', ?1, ?2 - 5000, ?2, 1)");
	sqlite3_stmt *res = prepare(db, "INSERT INTO results (task_id, path, format, points, signals, summary, bytes, used) "
					"VALUES (?1, ?2, 'mat', 1001, 1, '{\"sig1\":{\"min\":0,\"max\":1}}', 5700, ?3)");
	for (int64_t i = 1; i <= ARCHIVED; i++) {
		char vars[64], file[96];
		int64_t finished = now - year + i * (year - 86400000LL * 8) / ARCHIVED;

		snprintf(vars, sizeof vars, "{\"D\":0.5,\"K\":%lld}", (long long)i);
		snprintf(file, sizeof file, "%s/results/%lld/%lld.mat", dir, (long long)(i / 100), (long long)i);
		sqlite3_bind_int64(task, 1, i);
		sqlite3_bind_text(task, 2, model, -1, SQLITE_STATIC);
		sqlite3_bind_text(task, 3, vars, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(task, 4, finished);
		step_or_die(db, task);
		sqlite3_bind_int64(att, 1, i);
		sqlite3_bind_int64(att, 2, finished);
		step_or_die(db, att);
		sqlite3_bind_int64(res, 1, i);
		sqlite3_bind_text(res, 2, file, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(res, 3, finished);
		step_or_die(db, res);
	}
	sqlite3_stmt *queued = prepare(db, "INSERT INTO tasks (id, model, vars, solver, priority, state, submitted) "
					   "VALUES (?1, ?2, '{\"D\":0.5}', '{}', ?1 % 4, 0, ?3)");
	for (int64_t i = ARCHIVED + 1; i <= ARCHIVED + QUEUED; i++) {
		sqlite3_bind_int64(queued, 1, i);
		sqlite3_bind_text(queued, 2, model, -1, SQLITE_STATIC);
		sqlite3_bind_int64(queued, 3, now);
		step_or_die(db, queued);
	}
	sqlite3_finalize(task);
	sqlite3_finalize(att);
	sqlite3_finalize(res);
	sqlite3_finalize(queued);
	sql_or_die(db, "COMMIT");
	sqlite3_close(db);
	free(path);
}

/* Starts a paused server (nothing dispatched: no backend to reach) and times it to its first answer. */
static double start_server(const char *simq, const char *dir, struct client *conn, pid_t *pid)
{
	xmlrpc_env env;
	xmlrpc_value *one;
	int64_t t0 = time_mono_ns();

	*pid = fork();
	if (*pid == 0) {
		execl(simq, simq, "server", "-f", "--home", dir, (char *)NULL);
		_exit(127);
	}
	xmlrpc_env_init(&env);
	one = xmlrpc_build_value(&env, "(i)", 1);
	for (;;) {
		xmlrpc_value *r = NULL;
		int fault;
		char *err = NULL;

		if (client_call(conn, "simq.echo", one, &r, &fault, &err) == CLIENT_OK) {
			xmlrpc_DECREF(r);
			break;
		}
		free(err);
		if (time_mono_ns() - t0 > 60 * 1000000000LL) {
			fprintf(stderr, "bench/archive: the server did not answer within 60 s\n");
			exit(1);
		}
		usleep(2000);
	}
	xmlrpc_DECREF(one);
	xmlrpc_env_clean(&env);
	return (double)(time_mono_ns() - t0) / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double ms, double target)
{
	printf("%-48s %10.3fms %10.3fms %7.1fx  %s\n", what, ms, target, target / ms, ms <= target ? "meets" : "MISSES");
}

int main(int argc, char **argv)
{
	const char *keep = getenv("BENCH_ARCHIVE_DIR");
	char *dir = keep && *keep ? xstrdup(keep)
				  : xasprintf("%s/simq-bench-archive.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
					      (int)getpid());
	char *self = xstrdup(argv[0]), *slash = strrchr(self, '/');
	struct client_options opt = {.state_dir = dir, .no_start = true};
	double starts[STARTS];
	pid_t pid;

	if (slash)
		*slash = '\0';
	char *simq = argc > 1 ? xstrdup(argv[1]) : xasprintf("%s/../src/simq", slash ? self : ".");
	char *model = realpath(xasprintf("%s/../share/models/buck.plecs", slash ? self : "."), NULL);
	char *mk = xasprintf("mkdir -p -m 700 '%s'", dir);

	if (model == NULL || system(mk) != 0) {
		fprintf(stderr, "bench/archive: cannot find share/models/buck.plecs or make %s\n", dir);
		return 1;
	}
	int64_t t0 = time_mono_ns();
	char *db = xasprintf("%s/simq.db", dir);

	if (keep && *keep && access(db, F_OK) == 0) {
		printf("reusing the store in %s\n", dir);
	} else {
		fill(dir, model);
		printf("built the store: %d archived tasks (attempts, results), %d queued, in %.1f s\n", ARCHIVED,
		       QUEUED, (double)(time_mono_ns() - t0) / 1e9);
	}
	free(db);
	/* Paused, so the queued tasks stay queued (the server has no backend that answers). */
	setenv("XDG_CONFIG_HOME", dir, 1);
	free(mk);
	mk = xasprintf("mkdir -p '%s/simq' && printf '[scheduler]\\nstart_paused = true\\n' >'%s/simq/simq.ini'", dir, dir);
	if (system(mk) != 0)
		return 1;
	struct client *conn = client_new(&opt);

	printf("%-48s %12s %12s %8s\n", "", "measured", "target", "ratio");
	for (int i = 0; i < STARTS; i++) {
		starts[i] = start_server(simq, dir, conn, &pid);
		if (i < STARTS - 1) {
			xmlrpc_DECREF(bench_callf(conn, "simq.shutdown", "()"));
			waitpid(pid, NULL, 0);
		}
	}
	qsort(starts, STARTS, sizeof starts[0], cmp_double);
	printf("%-48s %11.3fs %11.3fs %7.1fx  %s\n", "server start to first answer (median of 3)", starts[STARTS / 2], 2.0,
	       2.0 / starts[STARTS / 2], starts[STARTS / 2] <= 2 ? "meets" : "MISSES");
	report("simq.view, 10,000 queued, 1,000,000 archived", bench_view_ms(conn, 0, true, SAMPLES), 2.0);
	report("  the same with the history pane's 200 rows", bench_view_ms(conn, 200, true, SAMPLES), 2.0);
	printf("%-48s %10.3fms   (every row sent: the first view, or a page that changed)\n", "  its queue page sent whole",
	       bench_view_ms(conn, 0, false, SAMPLES));
	printf("%-48s %10.3fms\n", "  its queue and 200 history rows sent whole", bench_view_ms(conn, 200, false, SAMPLES));
	printf("%-48s %10.3fms   (the same server, a bare method)\n", "simq.echo (median)", bench_echo_ms(conn, SAMPLES));
	xmlrpc_DECREF(bench_callf(conn, "simq.shutdown", "()"));
	waitpid(pid, NULL, 0);
	client_free(&conn);
	free(mk);
	mk = xasprintf("rm -rf '%s'", dir);
	if (!(keep && *keep) && system(mk) != 0)
		fprintf(stderr, "bench/archive: could not remove %s\n", dir);
	free(mk);
	return 0;
}
