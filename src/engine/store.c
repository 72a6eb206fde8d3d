#include "autoconf.h"

#include "engine/store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store-private.h"
#include "util/match.h"
#include "util/time.h"
#include "util/xalloc.h"

/* The figures of stats_add_task(), in SQL; keep the two in step. */
#define RECOUNT_SUMS                                                                     \
	"COALESCE(SUM(state = 2 AND attempts = 1), 0),"                                  \
	"COALESCE(SUM(state = 2 AND attempts > 1), 0),"                                  \
	"COALESCE(SUM(state = 3 AND attempts >= 1), 0),"                                 \
	"COALESCE(SUM(state = 3 AND attempts >= 1 AND had_transient), 0),"               \
	"COALESCE(SUM(state = 4), 0),"                                                   \
	"COALESCE(SUM(state = 2 AND cached), 0),"                                        \
	"COALESCE(SUM(CASE WHEN failed_attempts > 0 AND attempts > 1 THEN attempts - 1 ELSE 0 END), 0)," \
	"COALESCE(SUM(failed_attempts > 0), 0)"

/* The columns of a minute's statistics (migration 6), one per counter of engine/stats.h. */
#define MINUTE_COLUMN(name) ", " #name " INTEGER NOT NULL DEFAULT 0"
#define MINUTE_NAME(name) ", " #name
#define MINUTE_PARAM(name) ", ?"
#define MINUTE_ADD(name) ", " #name " = " #name " + excluded." #name
#define MINUTE_NAMES "minute" STATS_COUNTERS(MINUTE_NAME)

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  model TEXT NOT NULL, name TEXT, tags TEXT,"
	"  vars TEXT NOT NULL, solver TEXT NOT NULL,"
	"  priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  failed_attempts INTEGER NOT NULL DEFAULT 0,"
	"  attempt_rows INTEGER NOT NULL DEFAULT 0,"
	"  had_transient INTEGER NOT NULL DEFAULT 0,"
	"  cached INTEGER NOT NULL DEFAULT 0,"
	"  no_cache INTEGER NOT NULL DEFAULT 0,"
	"  timeout REAL NOT NULL DEFAULT 0,"
	"  origin INTEGER,"
	"  submitted INTEGER NOT NULL, started INTEGER, finished INTEGER, retry_due INTEGER,"
	"  error TEXT);"
	"CREATE INDEX tasks_active ON tasks(state) WHERE state < 2;"
	"CREATE INDEX tasks_finished ON tasks(finished) WHERE finished IS NOT NULL;"
	"CREATE TABLE attempts ("
	"  task_id INTEGER NOT NULL, n INTEGER NOT NULL,"
	"  backend TEXT, batch_id INTEGER,"
	"  started INTEGER NOT NULL, ended INTEGER,"
	"  outcome INTEGER NOT NULL, error TEXT,"
	"  PRIMARY KEY (task_id, n)) WITHOUT ROWID;"
	"CREATE TABLE results ("
	"  task_id INTEGER PRIMARY KEY, path TEXT, format TEXT,"
	"  points INTEGER, signals INTEGER, summary TEXT, cache_key TEXT);"
	"CREATE INDEX results_cache ON results(cache_key) WHERE cache_key IS NOT NULL;"
	"CREATE TABLE log ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, task_id INTEGER, text TEXT NOT NULL);"
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO counters VALUES ('completed_first', 0), ('completed_retry', 0), ('failed', 0),"
	"  ('failed_transient', 0), ('cancelled', 0), ('cached', 0), ('retries', 0),"
	"  ('with_failed_attempt', 0);",
	/* 2: request keys (DESIGN 20).  A submit's ids are consecutive (it holds the write lock), so
	 * one row keeps them all; fingerprint tells a repeat from another request under the same key. */
	"CREATE TABLE requests ("
	"  key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, many INTEGER NOT NULL,"
	"  first_id INTEGER NOT NULL, count INTEGER NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;",
	/* 3: a task's retry copies found by their origin (one copy per task: store_submit_retries), and
	 * settings that outlive a server (the operator's pause). */
	"CREATE INDEX tasks_origin ON tasks(origin) WHERE origin IS NOT NULL;"
	"CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
	/* 4: the archive (DESIGN 7): finished tasks and their attempts moved out of the hot tables, the
	 * same columns; results rows stay where they are, with what retention needs: the file's size
	 * (bytes, counted once per file), when the entry was last made or served (used, ms) and when
	 * its file was evicted to keep results/ under results_max_size (evicted, ms). */
	"CREATE TABLE archived_tasks ("
	"  id INTEGER PRIMARY KEY,"
	"  model TEXT NOT NULL, name TEXT, tags TEXT, vars TEXT NOT NULL, solver TEXT NOT NULL,"
	"  priority INTEGER NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	"  failed_attempts INTEGER NOT NULL DEFAULT 0, attempt_rows INTEGER NOT NULL DEFAULT 0,"
	"  had_transient INTEGER NOT NULL DEFAULT 0, cached INTEGER NOT NULL DEFAULT 0,"
	"  no_cache INTEGER NOT NULL DEFAULT 0, timeout REAL NOT NULL DEFAULT 0, origin INTEGER,"
	"  submitted INTEGER NOT NULL, started INTEGER, finished INTEGER, retry_due INTEGER, error TEXT);"
	"CREATE INDEX archived_finished ON archived_tasks(finished);"
	"CREATE INDEX archived_origin ON archived_tasks(origin) WHERE origin IS NOT NULL;"
	"CREATE TABLE archived_attempts ("
	"  task_id INTEGER NOT NULL, n INTEGER NOT NULL, backend TEXT, batch_id INTEGER,"
	"  started INTEGER NOT NULL, ended INTEGER, outcome INTEGER NOT NULL, error TEXT,"
	"  PRIMARY KEY (task_id, n)) WITHOUT ROWID;"
	"ALTER TABLE results ADD COLUMN bytes INTEGER;"
	"ALTER TABLE results ADD COLUMN used INTEGER;"
	"ALTER TABLE results ADD COLUMN evicted INTEGER;"
	"CREATE INDEX results_path ON results(path);"
	"CREATE INDEX results_unsized ON results(task_id) WHERE bytes IS NULL;",
	/* 5: the result cache (DESIGN 7).  source: the task whose run made the file a cached result
	 * reuses (NULL: this task ran).  A run's row keeps its key's parts (engine/cachekey.h) for
	 * simq cache why, which looks for the nearest entry of the same model path or bytes. */
	"ALTER TABLE results ADD COLUMN source INTEGER;"
	"ALTER TABLE results ADD COLUMN model TEXT;"
	"ALTER TABLE results ADD COLUMN model_bytes TEXT;"
	"ALTER TABLE results ADD COLUMN model_mtime INTEGER;"
	"ALTER TABLE results ADD COLUMN vars TEXT;"
	"ALTER TABLE results ADD COLUMN solver TEXT;"
	"ALTER TABLE results ADD COLUMN output TEXT;"
	"ALTER TABLE results ADD COLUMN plecs TEXT;"
	"ALTER TABLE results ADD COLUMN created INTEGER;"
	"CREATE INDEX results_model ON results(model) WHERE model IS NOT NULL;"
	"CREATE INDEX results_model_bytes ON results(model_bytes) WHERE model_bytes IS NOT NULL;",
	/* 6: what outlives deleted tasks.  minute_counts: the statistics of the tasks that finished in
	 * each minute (ms / 60000), written with the transitions, so the 24 h window a server reads at
	 * start keeps tasks simq clean or purge_after deleted since (the rows of minutes older than a day
	 * are dropped).  deleted: the ranges of task ids those deleted, when and how, so that show says
	 * "purged" rather than "no task".  Both start from the tasks stored now. */
	"CREATE TABLE minute_counts (minute INTEGER PRIMARY KEY" STATS_COUNTERS(MINUTE_COLUMN) ") WITHOUT ROWID;"
	"INSERT INTO minute_counts (" MINUTE_NAMES ") SELECT finished / 60000," RECOUNT_SUMS " FROM "
	"(SELECT state, attempts, failed_attempts, had_transient, cached, finished FROM tasks WHERE state >= 2 "
	"AND finished IS NOT NULL UNION ALL SELECT state, attempts, failed_attempts, had_transient, cached, finished "
	"FROM archived_tasks WHERE finished IS NOT NULL) GROUP BY finished / 60000;"
	"CREATE TABLE deleted (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, time INTEGER NOT NULL,"
	"  how INTEGER NOT NULL) WITHOUT ROWID;",
	/* 7: a result file's size as it was written (bytes), on every row naming it: a cache hit whose
	 * file holds another size (truncated, damaged) is no hit.  NULL on rows written before. */
	"ALTER TABLE results ADD COLUMN size INTEGER;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
	       "STORE_SCHEMA_VERSION is the number of migrations");

/* A result row's columns, as result_row() takes them. */
#define RESULT_COLUMNS                                                                                       \
	"task_id, path, format, points, signals, summary, cache_key, source, model, model_bytes, model_mtime, " \
	"vars, solver, output, plecs, created, evicted, size"

/* The fields RECOUNT_SUMS reads of every task, hot or archived, finished at or after ?1. */
#define FINISHED_ROWS                                                                                     \
	"(SELECT state, attempts, failed_attempts, had_transient, cached, finished FROM tasks "           \
	"WHERE state >= 2 AND finished >= ?1 UNION ALL "                                                  \
	"SELECT state, attempts, failed_attempts, had_transient, cached, finished FROM archived_tasks "   \
	"WHERE finished >= ?1)"

#define STATEMENTS(X)                                                                                       \
	X(INSERT_TASK, "INSERT INTO tasks (model, vars, solver, no_cache, timeout, origin, submitted, "     \
		       "name, tags, priority, state, attempts, failed_attempts, attempt_rows, had_transient, " \
		       "cached, started, finished, retry_due, error) "                                       \
		       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")                                     \
	X(UPDATE_TASK, "UPDATE tasks SET name = ?, tags = ?, priority = ?, state = ?, attempts = ?, "       \
		       "failed_attempts = ?, attempt_rows = ?, had_transient = ?, cached = ?, started = ?, " \
		       "finished = ?, retry_due = ?, error = ? WHERE id = ?")                                \
	X(BEGIN_ATTEMPT, "INSERT INTO attempts (task_id, n, backend, batch_id, started, outcome) "          \
			 "VALUES (?, ?, ?, ?, ?, 0)")                                                       \
	X(END_ATTEMPT, "UPDATE attempts SET ended = ?, outcome = ?, error = ? WHERE task_id = ? AND n = ?") \
	X(ADD_COUNTER, "UPDATE counters SET value = value + ? WHERE name = ?")                              \
	X(ADD_MINUTE, "INSERT INTO minute_counts (" MINUTE_NAMES ") VALUES (?" STATS_COUNTERS(MINUTE_PARAM) ") " \
		      "ON CONFLICT (minute) DO UPDATE SET minute = minute" STATS_COUNTERS(MINUTE_ADD))          \
	X(FORGET_MINUTES, "DELETE FROM minute_counts WHERE minute < ?")                                     \
	X(GET_MINUTES, "SELECT " MINUTE_NAMES " FROM minute_counts WHERE minute >= ? ORDER BY minute")     \
	X(GET_TASK, "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?")                                      \
	X(GET_HOT, "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?")                                       \
	X(LOAD_ACTIVE, "SELECT " TASK_COLUMNS " FROM tasks WHERE state < 2 ORDER BY id")                    \
	X(GET_ARCHIVED, "SELECT " ARCHIVED_COLUMNS " FROM archived_tasks WHERE id = ?")                     \
	X(GET_DELETED, "SELECT time, how FROM deleted WHERE first_id <= ?1 AND last_id >= ?1 "              \
		       "ORDER BY first_id DESC LIMIT 1")                                                     \
	X(FINISHED_SINCE, "SELECT " TASK_COLUMNS " FROM tasks WHERE finished >= ?1 AND state = ?2 UNION ALL " \
			  "SELECT " ARCHIVED_COLUMNS " FROM archived_tasks WHERE finished >= ?1 AND state = ?2 " \
			  "ORDER BY finished")                                                              \
	X(LOG_APPEND, "INSERT INTO log (time, task_id, text) VALUES (?, ?, ?)")                            \
	X(PUT_RESULT, "INSERT OR REPLACE INTO results (task_id, path, format, points, signals, summary, "   \
		      "cache_key, source, model, model_bytes, model_mtime, vars, solver, output, plecs, created, " \
		      "size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")                       \
	X(GET_RESULT, "SELECT " RESULT_COLUMNS " FROM results WHERE task_id = ?")                            \
	X(PUT_REQUEST, "INSERT INTO requests (key, fingerprint, many, first_id, count, created) "            \
		       "VALUES (?, ?, ?, ?, ?, ?)")                                                          \
	X(LAST_ID, "SELECT MAX(COALESCE((SELECT MAX(id) FROM tasks), 0), "                                  \
		   "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0))")                   \
	X(COPY_OF, "SELECT NULLIF(MAX(COALESCE((SELECT MAX(id) FROM tasks WHERE origin = ?1), 0), "          \
		   "COALESCE((SELECT MAX(id) FROM archived_tasks WHERE origin = ?1), 0)), 0)")               \
	X(COPIES_OF, "SELECT id FROM tasks WHERE origin = ?1 UNION ALL "                                     \
		     "SELECT id FROM archived_tasks WHERE origin = ?1 ORDER BY id")                         \
	X(GET_SETTING, "SELECT value FROM settings WHERE name = ?")                                         \
	X(PUT_SETTING, "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)")                       \
	X(DELETE_SETTING, "DELETE FROM settings WHERE name = ?")                                            \
	X(GET_REQUEST, "SELECT fingerprint, many, first_id, count, created FROM requests WHERE key = ?")    \
	X(RESULT_BY_KEY, "SELECT " RESULT_COLUMNS " FROM results WHERE cache_key = ?1 AND evicted IS NULL " \
			 "ORDER BY source IS NOT NULL, created DESC, task_id DESC LIMIT ?2")                   \
	X(CACHE_DROP, "UPDATE results SET cache_key = NULL WHERE path = ?")                               \
	X(RESULT_USED, "UPDATE results SET used = ?2 WHERE task_id = ?1")                                  \
	X(HAS_MODEL_BYTES, "SELECT 1 FROM results WHERE model_bytes = ? LIMIT 1")                           \
	X(CACHE_ENTRIES, "SELECT " RESULT_COLUMNS " FROM results WHERE model = ?1 AND created < ?4 "         \
			 "UNION SELECT " RESULT_COLUMNS " FROM results WHERE model_bytes = ?2 AND created < ?4 " \
			 "ORDER BY created DESC LIMIT ?3")

enum statement {
#define X(id, sql) STMT_##id,
	STATEMENTS(X)
#undef X
	STMT_COUNT
};

static const char *const statement_sql[] = {
#define X(id, sql) sql,
	STATEMENTS(X)
#undef X
};

static const char *const status_text[] = {
#define X(id, text) text,
	STORE_STATUSES(X)
#undef X
};

static const char *const counter_names[] = {
#define X(name) #name,
	STATS_COUNTERS(X)
#undef X
};

struct store {
	sqlite3 *db;
	char *path;
	char *error;
	int busy_timeout_ms;
	sqlite3_stmt *stmt[STMT_COUNT];
	int64_t ended[ATTEMPT_OUTCOME_COUNT]; /* closed attempts by outcome: counted at open, then kept */
	int64_t forgot_before;      /* minute_counts holds no minute before this one (minute number) */
};

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

const char *store_status_text(enum store_status st)
{
	return (unsigned)st < sizeof status_text / sizeof status_text[0] ? status_text[st] : "?";
}

const char *store_error(const struct store *s)
{
	return s->error ? s->error : "";
}

void store_set_error(struct store *s, const char *fmt, ...)
{
	va_list ap;

	free(s->error);
	va_start(ap, fmt);
	s->error = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Turns an SQLite failure into a status and a message that says what to do. */
enum store_status store_fail(struct store *s, int rc, const char *doing)
{
	const char *detail = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		store_set_error(s, "%s: the task database %s is locked by another process (waited %d ms); is another simq "
			     "server using this state directory?", doing, s->path, s->busy_timeout_ms);
		return STORE_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		store_set_error(s, "%s: the task database %s is damaged or is not a simq database (%s); simq will not write "
			     "to it. Move it aside, start with a fresh one, and recover its tasks with "
			     "sqlite3 OLD.db .recover", doing, s->path, detail);
		return STORE_CORRUPT;
	case SQLITE_FULL:
		store_set_error(s, "%s: the disk holding %s is full; this change was not saved, and nothing saved before "
			     "is lost. Free some space and try again", doing, s->path);
		return STORE_FULL;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
		store_set_error(s, "%s: cannot open the task database %s: %s", doing, s->path, detail);
		return STORE_CANTOPEN;
	default:
		store_set_error(s, "%s: the task database %s: %s", doing, s->path, detail);
		return STORE_IO;
	}
}

static int exec(struct store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static sqlite3_stmt *stmt(struct store *s, enum statement which)
{
	sqlite3_stmt *st = s->stmt[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
	if (text)
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Binds v, or NULL for 0 (times and ids where 0 means "not yet"). */
static void bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

struct task *store_row_task(sqlite3_stmt *st)
{
	struct task *t = xcalloc(1, sizeof *t);

	t->id = sqlite3_column_int64(st, 0);
	t->model = column_text(st, 1);
	t->name = column_text(st, 2);
	t->tags = column_text(st, 3);
	t->vars = column_text(st, 4);
	t->solver = column_text(st, 5);
	t->priority = (enum task_priority)sqlite3_column_int(st, 6);
	t->state = (enum task_state)sqlite3_column_int(st, 7);
	t->stored_state = t->state;
	t->attempts = sqlite3_column_int(st, 8);
	t->failed_attempts = sqlite3_column_int(st, 9);
	t->attempt_rows = sqlite3_column_int(st, 10);
	t->had_transient = sqlite3_column_int(st, 11) != 0;
	t->cached = sqlite3_column_int(st, 12) != 0;
	t->no_cache = sqlite3_column_int(st, 13) != 0;
	t->timeout = sqlite3_column_double(st, 14);
	t->origin = sqlite3_column_int64(st, 15);
	t->submitted = sqlite3_column_int64(st, 16);
	t->started = sqlite3_column_int64(st, 17);
	t->finished = sqlite3_column_int64(st, 18);
	t->retry_due = sqlite3_column_int64(st, 19);
	t->error = column_text(st, 20);
	t->retried_as = sqlite3_column_int64(st, 21);
	t->archived = sqlite3_column_int(st, 22) != 0;
	t->source = sqlite3_column_int64(st, 23);
	if (t->model == NULL)
		t->model = xstrdup("");
	if (t->vars == NULL)
		t->vars = xstrdup("{}");
	if (t->solver == NULL)
		t->solver = xstrdup("{}");
	return t;
}

static enum store_status migrate(struct store *s)
{
	sqlite3_stmt *st;
	int version, rc;
	const int latest = (int)(sizeof migrations / sizeof migrations[0]);

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "reading the schema version");
	rc = sqlite3_step(st);
	version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, rc, "reading the schema version");
	if (version > latest) {
		store_set_error(s, "the task database %s has schema version %d, written by a newer simq; this simq knows "
			     "versions up to %d. Run the newer simq, or use another state directory",
			  s->path, version, latest);
		return STORE_SCHEMA;
	}
	for (; version < latest; version++) {
		char *sql = xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;", migrations[version],
				      version + 1);

		rc = exec(s, sql);
		free(sql);
		if (rc != SQLITE_OK) {
			enum store_status status = store_fail(s, rc, "creating the database schema");

			exec(s, "ROLLBACK");
			return status;
		}
	}
	return STORE_OK;
}

/* DESIGN 6: attempts in flight when the server died become `interrupted`; their tasks queue again. */
static enum store_status recover(struct store *s, int64_t now, struct store_recovery *rec)
{
	sqlite3_stmt *sel = NULL, *end = NULL, *requeue = NULL, *waiting = NULL;
	int rc;

	rc = exec(s, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "recovering after a restart");
	rc = sqlite3_prepare_v2(s->db, "SELECT id FROM tasks WHERE state = 1 AND retry_due IS NULL", -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "UPDATE attempts SET outcome = ?, ended = ? WHERE task_id = ? AND outcome = 0",
					-1, &end, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "UPDATE tasks SET state = 0, attempts = MAX(attempts - ?, 0) WHERE id = ?",
					-1, &requeue, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "SELECT COUNT(*) FROM tasks WHERE state = 1 AND retry_due IS NOT NULL",
					-1, &waiting, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(sel, 0);

		sqlite3_reset(end);
		sqlite3_bind_int(end, 1, ATTEMPT_INTERRUPTED);
		sqlite3_bind_int64(end, 2, now);
		sqlite3_bind_int64(end, 3, id);
		rc = sqlite3_step(end);
		if (rc != SQLITE_DONE)
			break;
		sqlite3_reset(requeue);
		sqlite3_bind_int(requeue, 1, sqlite3_changes(s->db));
		sqlite3_bind_int64(requeue, 2, id);
		rc = sqlite3_step(requeue);
		if (rc != SQLITE_DONE)
			break;
		rc = SQLITE_OK;
		if (rec)
			rec->interrupted++;
	}
	if (rc == SQLITE_DONE && sqlite3_step(waiting) == SQLITE_ROW) {
		if (rec)
			rec->waiting_retry = sqlite3_column_int64(waiting, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(end);
	sqlite3_finalize(requeue);
	sqlite3_finalize(waiting);
	if (rc == SQLITE_OK)
		rc = exec(s, "COMMIT");
	if (rc != SQLITE_OK) {
		enum store_status status = store_fail(s, rc, "recovering after a restart");

		exec(s, "ROLLBACK");
		return status;
	}
	return STORE_OK;
}

/* The closed attempts by outcome, once at open; store_commit keeps them from then on. */
static enum store_status count_ended(struct store *s)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT outcome, COUNT(*) FROM attempts WHERE ended IS NOT NULL GROUP BY outcome",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store_fail(s, rc, "counting attempts");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int o = sqlite3_column_int(st, 0);

		if (o >= 0 && o < ATTEMPT_OUTCOME_COUNT)
			s->ended[o] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "counting attempts");
}

void store_attempt_counts(const struct store *s, int64_t out[ATTEMPT_OUTCOME_COUNT])
{
	memcpy(out, s->ended, sizeof s->ended);
}

/* simq_model_matches(model, want) and simq_text_matches(text, want): util/match.h's rules in SQL. */
struct matcher {
	bool (*fn)(const char *field, const char *want);
};

static const struct matcher model_matcher = {match_model}, text_matcher = {match_text};

static void sql_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct matcher *m = sqlite3_user_data(ctx);
	const char *field = (const char *)sqlite3_value_text(argv[0]);
	const char *want = (const char *)sqlite3_value_text(argv[1]);

	(void)argc;
	sqlite3_result_int(ctx, field && want && m->fn(field, want));
}

static void register_matchers(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;

	sqlite3_create_function(db, "simq_model_matches", 2, flags, (void *)&model_matcher, sql_match, NULL, NULL);
	sqlite3_create_function(db, "simq_text_matches", 2, flags, (void *)&text_matcher, sql_match, NULL, NULL);
}

struct store *store_open(const char *path, const struct store_open_options *opt, struct store_recovery *rec,
			 char **err)
{
	struct store *s = xcalloc(1, sizeof *s);
	struct store_open_options defaults = {.durability = STORE_DURABILITY_NORMAL};
	enum store_status status = STORE_OK;
	int rc;

	if (opt == NULL)
		opt = &defaults;
	if (rec)
		memset(rec, 0, sizeof *rec);
	s->path = xstrdup(path);
	s->busy_timeout_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		status = store_fail(s, rc, "opening");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
	register_matchers(s->db);
	rc = exec(s, "PRAGMA journal_mode = WAL");
	if (rc == SQLITE_OK)
		rc = exec(s, opt->durability == STORE_DURABILITY_FULL ? "PRAGMA synchronous = FULL"
								       : "PRAGMA synchronous = NORMAL");
	if (rc != SQLITE_OK) {
		status = store_fail(s, rc, "opening");
		goto out;
	}
	status = migrate(s);
	if (status != STORE_OK)
		goto out;
	for (int i = 0; i < STMT_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			status = store_fail(s, rc, "preparing statements");
			goto out;
		}
	}
	if (!opt->read_only_recovery)
		status = recover(s, opt->now_ms ? opt->now_ms : time_wall_ns() / 1000000, rec);
	if (status == STORE_OK)
		status = count_ended(s);
out:
	if (status != STORE_OK) {
		*err = s->error ? xstrdup(s->error) : xstrdup(store_status_text(status));
		store_close(&s);
		return NULL;
	}
	return s;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;

	if (s == NULL)
		return;
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s->error);
	free(s);
	*sp = NULL;
}

/* Binds the fields a task's life changes, name to error, from parameter `first` on;
 * INSERT_TASK and UPDATE_TASK list them in this order.  Returns the next index. */
static int bind_changing(sqlite3_stmt *st, int first, const struct task *t)
{
	bind_text(st, first, t->name);
	bind_text(st, first + 1, t->tags);
	sqlite3_bind_int(st, first + 2, t->priority);
	sqlite3_bind_int(st, first + 3, t->state);
	sqlite3_bind_int(st, first + 4, t->attempts);
	sqlite3_bind_int(st, first + 5, t->failed_attempts);
	sqlite3_bind_int(st, first + 6, t->attempt_rows);
	sqlite3_bind_int(st, first + 7, t->had_transient);
	sqlite3_bind_int(st, first + 8, t->cached);
	bind_opt(st, first + 9, t->started);
	bind_opt(st, first + 10, t->finished);
	bind_opt(st, first + 11, t->retry_due);
	bind_text(st, first + 12, t->error);
	return first + 13;
}

static enum store_status insert_task(struct store *s, struct task *t)
{
	sqlite3_stmt *st = stmt(s, STMT_INSERT_TASK);
	int rc;

	if (t->submitted == 0)
		t->submitted = time_wall_ns() / 1000000;
	bind_text(st, 1, t->model);
	bind_text(st, 2, t->vars);
	bind_text(st, 3, t->solver);
	sqlite3_bind_int(st, 4, t->no_cache);
	sqlite3_bind_double(st, 5, t->timeout);
	bind_opt(st, 6, t->origin);
	sqlite3_bind_int64(st, 7, t->submitted);
	bind_changing(st, 8, t);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "submitting a task");
	t->id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

static enum store_status add_counters(struct store *s, const struct stats_counts *delta)
{
	const int64_t *v = (const int64_t *)delta;

	for (size_t i = 0; i < sizeof counter_names / sizeof counter_names[0]; i++) {
		if (v[i] == 0)
			continue;
		sqlite3_stmt *st = stmt(s, STMT_ADD_COUNTER);
		int rc;

		sqlite3_bind_int64(st, 1, v[i]);
		sqlite3_bind_text(st, 2, counter_names[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, "updating the statistics");
	}
	return STORE_OK;
}

/* What one transaction's final tasks add to the statistics: the all-time counters and the rows
 * of the minutes they finished in (a batch's tasks mostly share one), written before it commits. */
struct tally {
	struct stats_counts all;
	int64_t minute; /* the minute in_minute counts; -1: none yet */
	struct stats_counts in_minute;
};

#define TALLY_INIT {.minute = -1}

/* The minutes older than a day before minute go: the 24 h window never reads them. */
static enum store_status forget_minutes(struct store *s, int64_t minute)
{
	sqlite3_stmt *st = stmt(s, STMT_FORGET_MINUTES);
	int64_t before = minute - STATS_MINUTES;
	int rc;

	if (before <= s->forgot_before)
		return STORE_OK;
	sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "updating the statistics");
	s->forgot_before = before;
	return STORE_OK;
}

static enum store_status add_minute(struct store *s, int64_t minute, const struct stats_counts *c)
{
	sqlite3_stmt *st = stmt(s, STMT_ADD_MINUTE);
	const int64_t *v = (const int64_t *)c;
	int rc;

	sqlite3_bind_int64(st, 1, minute);
	for (size_t i = 0; i < sizeof counter_names / sizeof counter_names[0]; i++)
		sqlite3_bind_int64(st, (int)i + 2, v[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "updating the statistics");
	/* Once an hour or so, not at every write. */
	return minute - STATS_MINUTES > s->forgot_before + 60 ? forget_minutes(s, minute) : STORE_OK;
}

/* Counts t, which has just reached a final state, in the tally. */
static enum store_status tally_task(struct store *s, struct tally *y, const struct task *t)
{
	int64_t minute = t->finished / 60000;

	if (y->minute != minute && y->minute >= 0) {
		enum store_status status = add_minute(s, y->minute, &y->in_minute);

		if (status != STORE_OK)
			return status;
		memset(&y->in_minute, 0, sizeof y->in_minute);
	}
	y->minute = minute;
	stats_add_task(&y->all, t, 1);
	stats_add_task(&y->in_minute, t, 1);
	return STORE_OK;
}

static enum store_status tally_write(struct store *s, const struct tally *y)
{
	enum store_status status = y->minute >= 0 ? add_minute(s, y->minute, &y->in_minute) : STORE_OK;

	return status == STORE_OK ? add_counters(s, &y->all) : status;
}

/* Runs body inside BEGIN IMMEDIATE ... COMMIT, rolling back if anything fails. */
static enum store_status in_transaction(struct store *s, const char *doing,
					enum store_status (*body)(struct store *s, void *arg), void *arg)
{
	enum store_status status;
	int rc = exec(s, "BEGIN IMMEDIATE");

	if (rc != SQLITE_OK)
		return store_fail(s, rc, doing);
	status = body(s, arg);
	if (status == STORE_OK) {
		rc = exec(s, "COMMIT");
		if (rc != SQLITE_OK)
			status = store_fail(s, rc, doing);
	}
	if (status != STORE_OK)
		exec(s, "ROLLBACK");
	return status;
}

struct submit_args {
	struct task **tasks;
	size_t n;
	const struct store_request *req;
	const struct store_result *const *hits; /* may be NULL */
};

/* Task t completes from the cache: a results row naming hit's file and the task that made it. */
enum store_status store_result_used(struct store *s, int64_t task_id, int64_t now_ms)
{
	sqlite3_stmt *st = stmt(s, STMT_RESULT_USED);
	int rc;

	sqlite3_bind_int64(st, 1, task_id);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "noting a result's use");
}

static enum store_status put_hit(struct store *s, const struct task *t, const struct store_result *hit)
{
	struct store_result r = {.task_id = t->id, .path = hit->path, .format = hit->format, .points = hit->points,
				 .signals = hit->signals, .summary = hit->summary, .cache_key = hit->cache_key,
				 .source = hit->source ? hit->source : hit->task_id, .size = hit->size};
	enum store_status status = store_result_put(s, &r);

	/* The file was just used: the last to be evicted for results_max_size (least recently used first). */
	if (status == STORE_OK)
		status = store_result_used(s, hit->task_id, t->finished ? t->finished : time_wall_ns() / 1000000);
	return status;
}

/* The request row of a submit's tasks, just inserted (their ids are consecutive). */
static enum store_status put_request(struct store *s, const struct store_request *req, struct task **tasks, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	if (n == 0 || tasks[n - 1]->id - tasks[0]->id != (int64_t)n - 1) {
		store_set_error(s, "request %s: the ids of its %zu tasks are not consecutive", req->key, n);
		return STORE_STATE;
	}
	st = stmt(s, STMT_PUT_REQUEST);
	bind_text(st, 1, req->key);
	bind_text(st, 2, req->fingerprint);
	sqlite3_bind_int(st, 3, req->many);
	sqlite3_bind_int64(st, 4, tasks[0]->id);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)n);
	sqlite3_bind_int64(st, 6, req->created ? req->created : time_wall_ns() / 1000000);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		store_set_error(s, "request key \"%s\" is stored already", req->key);
		return STORE_STATE;
	}
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "saving a request key");
}

static enum store_status submit_body(struct store *s, void *arg)
{
	struct submit_args *a = arg;
	struct tally tally = TALLY_INIT;
	enum store_status status;

	for (size_t i = 0; i < a->n; i++) {
		struct task *t = a->tasks[i];

		if (t->state != TASK_QUEUED && t->state != TASK_COMPLETED) {
			store_set_error(s, "a new task must be queued or completed from the cache, not %s",
				  task_state_name(t->state));
			return STORE_STATE;
		}
		status = insert_task(s, t);
		if (status == STORE_OK && a->hits && a->hits[i])
			status = put_hit(s, t, a->hits[i]);
		if (status == STORE_OK && task_state_is_final(t->state))
			status = tally_task(s, &tally, t);
		if (status != STORE_OK)
			return status;
	}
	if (a->req && (status = put_request(s, a->req, a->tasks, a->n)) != STORE_OK)
		return status;
	return tally_write(s, &tally);
}

enum store_status store_submit_many(struct store *s, struct task **tasks, size_t n)
{
	return store_submit_request(s, tasks, n, NULL);
}

enum store_status store_submit_request(struct store *s, struct task **tasks, size_t n, const struct store_request *req)
{
	return store_submit_cached(s, tasks, n, req, NULL);
}

enum store_status store_submit_cached(struct store *s, struct task **tasks, size_t n, const struct store_request *req,
				      const struct store_result *const *hits)
{
	struct submit_args a = {tasks, n, req, hits};
	enum store_status status = in_transaction(s, "submitting tasks", submit_body, &a);

	for (size_t i = 0; i < n; i++) {
		if (status == STORE_OK)
			tasks[i]->stored_state = tasks[i]->state;
		else
			tasks[i]->id = 0;
	}
	return status;
}

enum store_status store_submit(struct store *s, struct task *t)
{
	return store_submit_many(s, &t, 1);
}

/* The newest task whose origin is origin, in *copy (0: none). */
static enum store_status copy_of(struct store *s, int64_t origin, int64_t *copy)
{
	sqlite3_stmt *st = stmt(s, STMT_COPY_OF);
	int rc;

	sqlite3_bind_int64(st, 1, origin);
	rc = sqlite3_step(st);
	*copy = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading a task's retry copies");
}

struct retries_args {
	struct task **copies;
	size_t n;
	int64_t *existing;
};

static enum store_status retries_body(struct store *s, void *arg)
{
	struct retries_args *a = arg;
	enum store_status status = STORE_OK;

	for (size_t i = 0; i < a->n && status == STORE_OK; i++) {
		a->existing[i] = 0;
		if (a->copies[i] == NULL)
			continue;
		/* One at a time: a second copy of one origin in the same call finds the first. */
		status = copy_of(s, a->copies[i]->origin, &a->existing[i]);
		if (status == STORE_OK && a->existing[i] == 0) {
			struct submit_args sub = {&a->copies[i], 1, NULL, NULL};

			status = submit_body(s, &sub);
		}
	}
	return status;
}

enum store_status store_submit_retries(struct store *s, struct task **copies, size_t n, int64_t *existing)
{
	struct retries_args a = {copies, n, existing};
	enum store_status status = in_transaction(s, "submitting retries", retries_body, &a);

	for (size_t i = 0; i < n; i++) {
		if (copies[i] == NULL)
			continue;
		if (status == STORE_OK && existing[i] == 0)
			copies[i]->stored_state = copies[i]->state;
		else
			copies[i]->id = 0;
	}
	return status;
}

enum store_status store_setting_get(struct store *s, const char *name, char **value)
{
	sqlite3_stmt *st = stmt(s, STMT_GET_SETTING);
	int rc;

	*value = NULL;
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*value = column_text(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(s, rc, "reading a setting");
}

enum store_status store_setting_put(struct store *s, const char *name, const char *value)
{
	sqlite3_stmt *st = stmt(s, value ? STMT_PUT_SETTING : STMT_DELETE_SETTING);
	int rc;

	bind_text(st, 1, name);
	if (value)
		bind_text(st, 2, value);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "saving a setting");
}

enum store_status store_last_id(struct store *s, int64_t *id)
{
	sqlite3_stmt *st = stmt(s, STMT_LAST_ID);
	int rc = sqlite3_step(st);

	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc, "reading the last task id");
}

enum store_status store_copies(struct store *s, int64_t origin, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = stmt(s, STMT_COPIES_OF);
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, origin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*ids = xreallocarray(*ids, cap, sizeof **ids);
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading a task's retry copies");
}

enum store_status store_request_find(struct store *s, const char *key, struct store_request *out)
{
	sqlite3_stmt *st = stmt(s, STMT_GET_REQUEST);
	int rc;

	memset(out, 0, sizeof *out);
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->key = xstrdup(key);
		out->fingerprint = column_text(st, 0);
		out->many = sqlite3_column_int(st, 1) != 0;
		out->first_id = sqlite3_column_int64(st, 2);
		out->count = sqlite3_column_int64(st, 3);
		out->created = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(s, rc, "reading a request key");
}

void store_request_free(struct store_request *r)
{
	free((void *)r->key);
	free((void *)r->fingerprint);
	r->key = r->fingerprint = NULL;
}

static enum store_status write_change(struct store *s, struct store_change *c, struct tally *tally)
{
	struct task *t = c->task;
	sqlite3_stmt *st;
	int rc;

	if (t->id == 0 || (t->stored_state != t->state && !task_transition_allowed(t->stored_state, t->state)) ||
	    task_state_is_final(t->stored_state)) {
		store_set_error(s, "task %lld cannot go from %s to %s", (long long)t->id, task_state_name(t->stored_state),
			  task_state_name(t->state));
		return STORE_STATE;
	}
	st = stmt(s, STMT_UPDATE_TASK);
	sqlite3_bind_int64(st, bind_changing(st, 1, t), t->id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "saving a task");
	if (sqlite3_changes(s->db) != 1) {
		store_set_error(s, "task %lld is not in the database", (long long)t->id);
		return STORE_NOTFOUND;
	}
	if (c->attempt == STORE_ATTEMPT_BEGIN) {
		st = stmt(s, STMT_BEGIN_ATTEMPT);
		sqlite3_bind_int64(st, 1, t->id);
		sqlite3_bind_int(st, 2, t->attempt_rows);
		bind_text(st, 3, c->backend);
		bind_opt(st, 4, c->batch_id);
		sqlite3_bind_int64(st, 5, c->time);
	} else if (c->attempt == STORE_ATTEMPT_END) {
		st = stmt(s, STMT_END_ATTEMPT);
		sqlite3_bind_int64(st, 1, c->time);
		sqlite3_bind_int(st, 2, c->outcome);
		bind_text(st, 3, c->error);
		sqlite3_bind_int64(st, 4, t->id);
		sqlite3_bind_int(st, 5, t->attempt_rows);
	} else {
		st = NULL;
	}
	if (st) {
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, "saving an attempt");
	}
	if (c->result && store_result_put(s, c->result) != STORE_OK)
		return STORE_IO;
	return task_state_is_final(t->state) ? tally_task(s, tally, t) : STORE_OK;
}

struct commit_args {
	struct store_change *changes;
	size_t n;
};

static enum store_status commit_body(struct store *s, void *arg)
{
	struct commit_args *a = arg;
	struct tally tally = TALLY_INIT;

	for (size_t i = 0; i < a->n; i++) {
		enum store_status status = write_change(s, &a->changes[i], &tally);

		if (status != STORE_OK)
			return status;
	}
	return tally_write(s, &tally);
}

enum store_status store_commit(struct store *s, struct store_change *changes, size_t n)
{
	struct commit_args a = {changes, n};
	enum store_status status = in_transaction(s, "saving a change", commit_body, &a);

	if (status == STORE_OK) {
		for (size_t i = 0; i < n; i++) {
			changes[i].task->stored_state = changes[i].task->state;
			if (changes[i].attempt == STORE_ATTEMPT_END && changes[i].outcome < ATTEMPT_OUTCOME_COUNT)
				s->ended[changes[i].outcome]++;
		}
	}
	return status;
}

enum store_status store_load_active(struct store *s, void (*fn)(struct task *t, void *ud), void *ud)
{
	sqlite3_stmt *st = stmt(s, STMT_LOAD_ACTIVE);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(store_row_task(st), ud);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "loading the queue");
}

enum store_status store_list(struct store *s, unsigned from, int state, void (*fn)(struct task *t, void *ud), void *ud)
{
	static const char *const hot = "SELECT " TASK_COLUMNS " FROM tasks WHERE ?1 < 0 OR state = ?1";
	static const char *const archived = "SELECT " ARCHIVED_COLUMNS " FROM archived_tasks WHERE ?1 < 0 OR state = ?1";
	char *sql = xasprintf("%s%s%s ORDER BY id", from & STORE_HOT ? hot : "",
			      (from & STORE_HOT) && (from & STORE_ARCHIVE) ? " UNION ALL " : "",
			      from & STORE_ARCHIVE ? archived : "");
	sqlite3_stmt *st = NULL;
	int rc = from & (STORE_HOT | STORE_ARCHIVE) ? sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) : SQLITE_DONE;

	free(sql);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int(st, 1, state);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(store_row_task(st), ud);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "listing tasks");
}

enum store_status store_finished_since(struct store *s, int state, int64_t since_ms,
				      void (*fn)(struct task *t, void *ud), void *ud)
{
	sqlite3_stmt *st = stmt(s, STMT_FINISHED_SINCE);
	int rc;

	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int(st, 2, state);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(store_row_task(st), ud);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "listing finished tasks");
}

/* "no task 374", or, for an id simq clean or purge_after deleted, when and how. */
static void say_not_found(struct store *s, int64_t id)
{
	sqlite3_stmt *st = stmt(s, STMT_GET_DELETED);
	char when[TIME_ISO8601_MAX];

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		time_iso8601(when, sqlite3_column_int64(st, 0) * 1000000, false);
		if (sqlite3_column_int(st, 1))
			store_set_error(s, "task %lld was purged on %s ([store] purge_after): its record and result are gone",
					(long long)id, when);
		else
			store_set_error(s, "task %lld was removed by simq clean on %s: its record and result are gone",
					(long long)id, when);
	} else {
		store_set_error(s, "no task %lld", (long long)id);
	}
	sqlite3_reset(st);
}

enum store_status store_get(struct store *s, int64_t id, struct task **out)
{
	sqlite3_stmt *st = stmt(s, STMT_GET_TASK);
	int rc;

	*out = NULL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		/* Not hot: an archived task, read the same way. */
		sqlite3_reset(st);
		st = stmt(s, STMT_GET_ARCHIVED);
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW)
		*out = store_row_task(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE) {
		say_not_found(s, id);
		return STORE_NOTFOUND;
	}
	return store_fail(s, rc, "reading a task");
}

enum store_status store_get_many(struct store *s, const int64_t *ids, size_t n,
				 void (*fn)(struct task *t, void *ud), void *ud)
{
	/* One lookup by key each: an IN list of them made SQLite build a table of the ids every call,
	 * a page of memory each time.  In one read transaction: alone, each lookup took and let go of
	 * the database's locks (two fcntl calls and a look at the WAL), most of its cost. */
	sqlite3_stmt *st = stmt(s, STMT_GET_HOT);
	bool own = n > 1 && sqlite3_get_autocommit(s->db) && exec(s, "BEGIN") == SQLITE_OK;
	int rc = SQLITE_DONE;

	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 1, ids[i]);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(store_row_task(st), ud);
		sqlite3_reset(st);
	}
	if (own)
		exec(s, "COMMIT");
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading tasks");
}

enum store_status store_counters(struct store *s, struct stats_counts *out)
{
	sqlite3_stmt *st;
	int64_t *v = (int64_t *)out;
	int rc = sqlite3_prepare_v2(s->db, "SELECT name, value FROM counters", -1, &st, NULL);

	memset(out, 0, sizeof *out);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "reading the statistics");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		for (size_t i = 0; name && i < sizeof counter_names / sizeof counter_names[0]; i++)
			if (strcmp(name, counter_names[i]) == 0)
				v[i] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading the statistics");
}

static void read_sums(sqlite3_stmt *st, int first, struct stats_counts *out)
{
	int64_t *v = (int64_t *)out;

	for (size_t i = 0; i < sizeof counter_names / sizeof counter_names[0]; i++)
		v[i] = sqlite3_column_int64(st, first + (int)i);
}

enum store_status store_recount(struct store *s, int64_t since_ms, struct stats_counts *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT " RECOUNT_SUMS " FROM " FINISHED_ROWS, -1, &st, NULL);

	memset(out, 0, sizeof *out);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "recounting the statistics");
	sqlite3_bind_int64(st, 1, since_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_sums(st, 0, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc, "recounting the statistics");
}

enum store_status store_minute_counts(struct store *s, int64_t since_ms,
				       void (*fn)(int64_t minute_ms, const struct stats_counts *c, void *ud), void *ud)
{
	sqlite3_stmt *st = stmt(s, STMT_GET_MINUTES);
	enum store_status status = forget_minutes(s, since_ms / 60000 + STATS_MINUTES);
	int rc;

	if (status != STORE_OK)
		return status;
	sqlite3_bind_int64(st, 1, since_ms / 60000);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stats_counts c;

		read_sums(st, 1, &c);
		fn(sqlite3_column_int64(st, 0) * 60000, &c, ud);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading the statistics of the last 24 h");
}

enum store_status store_log_append(struct store *s, int64_t time_ms, int64_t task_id, const char *text, int64_t *seq)
{
	sqlite3_stmt *st = stmt(s, STMT_LOG_APPEND);
	int rc;

	sqlite3_bind_int64(st, 1, time_ms);
	bind_opt(st, 2, task_id);
	bind_text(st, 3, text);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "writing the log");
	if (seq)
		*seq = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

enum store_status store_result_put(struct store *s, const struct store_result *r)
{
	sqlite3_stmt *st = stmt(s, STMT_PUT_RESULT);
	const struct cachekey_parts *k = &r->parts;
	int rc;

	sqlite3_bind_int64(st, 1, r->task_id);
	bind_text(st, 2, r->path);
	bind_text(st, 3, r->format);
	sqlite3_bind_int64(st, 4, r->points);
	sqlite3_bind_int64(st, 5, r->signals);
	bind_text(st, 6, r->summary);
	bind_text(st, 7, r->cache_key);
	bind_opt(st, 8, r->source);
	bind_text(st, 9, k->model);
	bind_text(st, 10, k->model_bytes);
	bind_opt(st, 11, k->model ? k->model_mtime : 0);
	bind_text(st, 12, k->vars);
	bind_text(st, 13, k->solver);
	bind_text(st, 14, k->output);
	bind_text(st, 15, k->plecs);
	bind_opt(st, 16, k->model ? k->created : 0);
	bind_opt(st, 17, r->size);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "saving a result");
}

/* The result row st stands on (its columns RESULT_COLUMNS) into *out. */
static void result_row(sqlite3_stmt *st, struct store_result *out)
{
	struct cachekey_parts *k = &out->parts;

	out->task_id = sqlite3_column_int64(st, 0);
	out->path = column_text(st, 1);
	out->format = column_text(st, 2);
	out->points = sqlite3_column_int64(st, 3);
	out->signals = sqlite3_column_int64(st, 4);
	out->summary = column_text(st, 5);
	out->cache_key = column_text(st, 6);
	out->source = sqlite3_column_int64(st, 7);
	k->model = column_text(st, 8);
	k->model_bytes = column_text(st, 9);
	k->model_mtime = sqlite3_column_int64(st, 10);
	k->vars = column_text(st, 11);
	k->solver = column_text(st, 12);
	k->output = column_text(st, 13);
	k->plecs = column_text(st, 14);
	k->created = sqlite3_column_int64(st, 15);
	out->evicted = sqlite3_column_int64(st, 16);
	out->size = sqlite3_column_int64(st, 17);
}

static enum store_status read_result(struct store *s, sqlite3_stmt *st, struct store_result *out)
{
	int rc = sqlite3_step(st);

	memset(out, 0, sizeof *out);
	if (rc == SQLITE_ROW)
		result_row(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE) {
		store_set_error(s, "no stored result");
		return STORE_NOTFOUND;
	}
	return store_fail(s, rc, "reading a result");
}

enum store_status store_result_get(struct store *s, int64_t task_id, struct store_result *out)
{
	sqlite3_stmt *st = stmt(s, STMT_GET_RESULT);

	sqlite3_bind_int64(st, 1, task_id);
	return read_result(s, st, out);
}

enum store_status store_result_by_key(struct store *s, const char *cache_key, struct store_result *out)
{
	sqlite3_stmt *st = stmt(s, STMT_RESULT_BY_KEY);

	bind_text(st, 1, cache_key);
	sqlite3_bind_int(st, 2, 1);
	return read_result(s, st, out);
}

enum store_status store_cache_hits(struct store *s, const char *cache_key, int limit,
				   bool (*fn)(const struct store_result *r, void *ud), void *ud)
{
	sqlite3_stmt *st = stmt(s, STMT_RESULT_BY_KEY);
	bool more = true;
	int rc;

	bind_text(st, 1, cache_key);
	sqlite3_bind_int(st, 2, limit);
	while (more && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_result r = {0};

		result_row(st, &r);
		more = fn(&r, ud);
		store_result_free(&r);
	}
	sqlite3_reset(st);
	return !more || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading the result cache");
}

enum store_status store_cache_drop(struct store *s, const char *path)
{
	sqlite3_stmt *st = stmt(s, STMT_CACHE_DROP);
	int rc;

	bind_text(st, 1, path);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "dropping a cache entry");
}

void store_result_free(struct store_result *r)
{
	xfree(&r->path);
	xfree(&r->format);
	xfree(&r->summary);
	xfree(&r->cache_key);
	cachekey_parts_free(&r->parts);
}

enum store_status store_cache_has_bytes(struct store *s, const char *model_bytes, bool *has)
{
	sqlite3_stmt *st = stmt(s, STMT_HAS_MODEL_BYTES);
	int rc;

	bind_text(st, 1, model_bytes);
	rc = sqlite3_step(st);
	*has = rc == SQLITE_ROW;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading the result cache");
}

enum store_status store_cache_entries(struct store *s, const char *model, const char *model_bytes, int64_t before_ms,
				      int limit, void (*fn)(const struct store_result *r, void *ud), void *ud)
{
	sqlite3_stmt *st = stmt(s, STMT_CACHE_ENTRIES);
	int rc;

	bind_text(st, 1, model);
	bind_text(st, 2, model_bytes);
	sqlite3_bind_int(st, 3, limit);
	sqlite3_bind_int64(st, 4, before_ms > 0 ? before_ms : INT64_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_result r = {0};

		result_row(st, &r);
		fn(&r, ud);
		store_result_free(&r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading the result cache");
}

enum store_status store_attempts(struct store *s, int64_t task_id, void (*fn)(const struct store_attempt *a, void *ud),
				 void *ud)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT n, backend, batch_id, started, ended, outcome, error FROM attempts "
				    "WHERE task_id = ?1 UNION ALL SELECT n, backend, batch_id, started, ended, outcome, "
				    "error FROM archived_attempts WHERE task_id = ?1 ORDER BY n",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store_fail(s, rc, "reading attempts");
	sqlite3_bind_int64(st, 1, task_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_attempt a = {
		    .n = sqlite3_column_int(st, 0),
		    .backend = (const char *)sqlite3_column_text(st, 1),
		    .batch_id = sqlite3_column_int64(st, 2),
		    .started = sqlite3_column_int64(st, 3),
		    .ended = sqlite3_column_int64(st, 4),
		    .outcome = (enum attempt_outcome)sqlite3_column_int(st, 5),
		    .error = (const char *)sqlite3_column_text(st, 6),
		};

		fn(&a, ud);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading attempts");
}

enum store_status store_count_states(struct store *s, int64_t counts[TASK_STATE_COUNT])
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT state, COUNT(*) FROM tasks GROUP BY state", -1, &st, NULL);

	memset(counts, 0, sizeof(int64_t) * TASK_STATE_COUNT);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "counting tasks");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0);

		if (state >= 0 && state < TASK_STATE_COUNT)
			counts[state] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "counting tasks");
}

enum store_status store_limit_pages(struct store *s, int64_t pages)
{
	char sql[64];
	int rc;

	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)(pages > 0 ? pages : 4294967294LL));
	rc = exec(s, sql);
	return rc == SQLITE_OK ? STORE_OK : store_fail(s, rc, "limiting the database size");
}
