/*
 * store-retain: the archive and retention half of the store (DESIGN 7), declared in
 * engine/store.h.  Every call is one transaction over a set of ids gathered first in a temporary
 * table, so that a crash at any point leaves each task exactly once, hot or archived.
 */
#include "autoconf.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store.h"
#include "engine/store-private.h"
#include "util/time.h"
#include "util/xalloc.h"

/* The ids a step works on, gathered at its start (one connection's temporary table). */
#define IDS "temp.retain_ids"

/* Files a step frees, named to the caller after its commit. */
struct gone_list {
	char **paths;
	size_t n, cap;
};

static void gone_add(struct gone_list *g, const char *path)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->paths = xreallocarray(g->paths, g->cap, sizeof *g->paths);
	}
	g->paths[g->n++] = xstrdup(path);
}

/* Names each file to gone (when the step committed), and frees the list. */
static void gone_flush(struct gone_list *g, bool committed, store_gone_fn gone, void *ud)
{
	for (size_t i = 0; i < g->n; i++) {
		if (committed && gone)
			gone(g->paths[i], ud);
		free(g->paths[i]);
	}
	free(g->paths);
	*g = (struct gone_list){0};
}

static int run(struct store *s, const char *sql)
{
	return sqlite3_exec(store_db(s), sql, NULL, NULL, NULL);
}

/* Opens a step's transaction (a dry run's reads too) with the id table empty. */
static enum store_status begin(struct store *s, bool write, const char *doing)
{
	int rc = run(s, write ? "BEGIN IMMEDIATE" : "BEGIN");

	if (rc == SQLITE_OK)
		rc = run(s, "CREATE TEMP TABLE IF NOT EXISTS retain_ids (id INTEGER PRIMARY KEY); DELETE FROM " IDS);
	if (rc != SQLITE_OK) {
		enum store_status st = store_fail(s, rc, doing);

		run(s, "ROLLBACK");
		return st;
	}
	return STORE_OK;
}

/* Commits (or, after a failure or for a dry run, rolls back); status as it ends. */
static enum store_status end(struct store *s, enum store_status st, bool commit, const char *doing)
{
	if (st == STORE_OK && commit) {
		int rc = run(s, "COMMIT");

		if (rc != SQLITE_OK)
			st = store_fail(s, rc, doing);
	}
	if (st != STORE_OK || !commit)
		run(s, "ROLLBACK");
	return st;
}

/* Runs each statement of sqls (NULL-terminated) with ?1 and ?2 bound to a and b where used. */
static enum store_status run_all(struct store *s, const char *const *sqls, int64_t a, int64_t b, const char *doing)
{
	for (size_t i = 0; sqls[i]; i++) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(store_db(s), sqls[i], -1, &st, NULL);

		if (rc == SQLITE_OK) {
			if (sqlite3_bind_parameter_count(st) >= 1)
				sqlite3_bind_int64(st, 1, a);
			if (sqlite3_bind_parameter_count(st) >= 2)
				sqlite3_bind_int64(st, 2, b);
			rc = sqlite3_step(st);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			return store_fail(s, rc, doing);
	}
	return STORE_OK;
}

static int64_t count_ids(struct store *s)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (sqlite3_prepare_v2(store_db(s), "SELECT COUNT(*) FROM " IDS, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

enum store_status store_archive(struct store *s, int64_t before_ms, int64_t limit, int64_t *moved)
{
	static const char *const steps[] = {
		"INSERT INTO " IDS " SELECT id FROM tasks WHERE state >= 2 AND finished < ?1 ORDER BY finished LIMIT ?2",
		"INSERT INTO archived_tasks (" TASK_FIELDS ") SELECT " TASK_FIELDS " FROM tasks WHERE id IN " IDS,
		"INSERT INTO archived_attempts (" ATTEMPT_FIELDS ") SELECT " ATTEMPT_FIELDS " FROM attempts "
		"WHERE task_id IN " IDS,
		"DELETE FROM attempts WHERE task_id IN " IDS,
		"DELETE FROM tasks WHERE id IN " IDS,
		NULL,
	};
	enum store_status st = begin(s, true, "archiving finished tasks");

	*moved = 0;
	if (st != STORE_OK)
		return st;
	st = run_all(s, steps, before_ms, limit > 0 ? limit : -1, "archiving finished tasks");
	if (st == STORE_OK)
		*moved = count_ids(s);
	return end(s, st, true, "archiving finished tasks");
}

/* The condition on a task row that sel takes (:before, :states, :model, :name bound by name); the
 * model and the name match as the selectors' do (util/match.h). */
#define SELECT_COND                                                                                        \
	"state >= 2 AND (:before = 0 OR finished < :before) AND (:states = 0 OR ((1 << state) & :states) != 0) " \
	"AND (:model IS NULL OR simq_model_matches(model, :model)) "                                            \
	"AND (:name IS NULL OR simq_text_matches(name, :name))"

/* Fills the id table with the tasks sel takes, oldest finished first. */
static enum store_status gather(struct store *s, const struct store_select *sel)
{
	static const char *const hot = "SELECT id, finished FROM tasks WHERE " SELECT_COND;
	static const char *const archived = "SELECT id, finished FROM archived_tasks WHERE " SELECT_COND;
	char *sql = xasprintf("INSERT INTO " IDS " SELECT id FROM (%s%s%s) ORDER BY finished LIMIT :limit",
			      sel->from & STORE_HOT ? hot : "",
			      (sel->from & STORE_HOT) && (sel->from & STORE_ARCHIVE) ? " UNION ALL " : "",
			      sel->from & STORE_ARCHIVE ? archived : "");
	sqlite3_stmt *st = NULL;
	int rc = sel->from & (STORE_HOT | STORE_ARCHIVE) ? sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) : SQLITE_DONE;

	free(sql);
	if (st) {
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":before"), sel->finished_before);
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":states"), sel->states);
		if (sel->model)
			sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":model"), sel->model, -1, SQLITE_STATIC);
		if (sel->name)
			sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":name"), sel->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), sel->limit > 0 ? sel->limit : -1);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "choosing the tasks to delete");
}

/* The gathered tasks by state, into out. */
static enum store_status count_states(struct store *s, struct store_freed *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store_db(s),
				    "SELECT state, COUNT(*) FROM (SELECT state FROM tasks WHERE id IN " IDS
				    " UNION ALL SELECT state FROM archived_tasks WHERE id IN " IDS ") GROUP BY state",
				    -1, &st, NULL);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0);

		if (state >= 0 && state < TASK_STATE_COUNT)
			out->by_state[state] = sqlite3_column_int64(st, 1);
		out->tasks += sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "counting the tasks to delete");
}

/* The kept files that only gathered tasks name: counted in out and listed in g. */
static enum store_status freed_files(struct store *s, store_size_fn size, void *ud, struct store_freed *out,
				     struct gone_list *g)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store_db(s),
				    "SELECT r.path, MAX(COALESCE(r.bytes, -1)) FROM results r WHERE r.task_id IN " IDS
				    " AND r.path IS NOT NULL AND r.evicted IS NULL GROUP BY r.path HAVING NOT EXISTS "
				    "(SELECT 1 FROM results o WHERE o.path = r.path AND o.task_id NOT IN " IDS ")",
				    -1, &st, NULL);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		int64_t bytes = sqlite3_column_int64(st, 1);

		if (bytes <= 0 && size)
			bytes = size(path, ud);
		rc = SQLITE_OK;
		if (bytes < 0)
			continue; /* no file there any more */
		out->files++;
		out->bytes += bytes;
		gone_add(g, path);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "finding the result files to delete");
}

enum store_status store_delete_finished(struct store *s, const struct store_select *sel, bool dry_run,
					store_size_fn size, store_gone_fn gone, void *ud, struct store_freed *out)
{
	static const char *const deletes[] = {
		/*
		 * A run that goes while other rows still name its file hands its cache entry (the key's
		 * parts) to the newest of them, so the file stays a cache entry as long as a row names it.
		 */
		"UPDATE results SET (model, model_bytes, model_mtime, vars, solver, output, plecs, created) = "
		"(SELECT d.model, d.model_bytes, d.model_mtime, d.vars, d.solver, d.output, d.plecs, d.created "
		"FROM results d WHERE d.task_id IN " IDS " AND d.path = results.path AND d.model_bytes IS NOT NULL "
		"ORDER BY d.created DESC LIMIT 1) WHERE model_bytes IS NULL AND task_id IN (SELECT (SELECT "
		"MAX(o.task_id) FROM results o WHERE o.path = d.path AND o.task_id NOT IN " IDS ") FROM results d "
		"WHERE d.task_id IN " IDS " AND d.model_bytes IS NOT NULL AND d.cache_key IS NOT NULL)",
		/* A file whose counted row goes but that other rows still name is sized again on them. */
		"UPDATE results SET bytes = NULL WHERE task_id NOT IN " IDS " AND path IN "
		"(SELECT path FROM results WHERE task_id IN " IDS " AND bytes > 0)",
		"DELETE FROM results WHERE task_id IN " IDS,
		"DELETE FROM attempts WHERE task_id IN " IDS,
		"DELETE FROM archived_attempts WHERE task_id IN " IDS,
		"DELETE FROM tasks WHERE id IN " IDS,
		"DELETE FROM archived_tasks WHERE id IN " IDS,
		/* The deleted ids as ranges of consecutive ones, with when and how (?1, ?2). */
		"INSERT OR REPLACE INTO deleted (first_id, last_id, time, how) SELECT MIN(id), MAX(id), ?1, ?2 FROM "
		"(SELECT id, id - ROW_NUMBER() OVER (ORDER BY id) AS run FROM " IDS ") GROUP BY run",
		NULL,
	};
	struct gone_list g = {0};
	enum store_status st = begin(s, !dry_run, "deleting finished tasks");

	memset(out, 0, sizeof *out);
	if (st != STORE_OK)
		return st;
	st = gather(s, sel);
	if (st == STORE_OK)
		st = count_states(s, out);
	if (st == STORE_OK)
		st = freed_files(s, size, ud, out, &g);
	if (st == STORE_OK && !dry_run)
		st = run_all(s, deletes, sel->now_ms ? sel->now_ms : time_wall_ns() / 1000000, sel->purge,
			     "deleting finished tasks");
	st = end(s, st, !dry_run, "deleting finished tasks");
	gone_flush(&g, st == STORE_OK && !dry_run, gone, ud);
	return st;
}

/* Sizes one row: its file's bytes once per file (0 on the other rows naming it), used from its finish. */
static int size_row(struct store *s, sqlite3_stmt *upd, int64_t id, int64_t bytes, int64_t now)
{
	sqlite3_reset(upd);
	sqlite3_bind_int64(upd, 1, id);
	sqlite3_bind_int64(upd, 2, bytes);
	sqlite3_bind_int64(upd, 3, now);
	return sqlite3_step(upd);
}

enum store_status store_results_size(struct store *s, int64_t limit, store_size_fn size, void *ud, int64_t *sized)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int64_t now = time_wall_ns() / 1000000;
	enum store_status st = begin(s, true, "sizing results");
	int rc;

	*sized = 0;
	if (st != STORE_OK)
		return st;
	rc = sqlite3_prepare_v2(store_db(s), "SELECT task_id, path, evicted FROM results WHERE bytes IS NULL LIMIT ?1",
				-1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store_db(s),
					"UPDATE results SET bytes = CASE WHEN ?2 < 0 OR evicted IS NOT NULL OR EXISTS "
					"(SELECT 1 FROM results o WHERE o.path = results.path AND o.task_id <> ?1 AND "
					"o.bytes > 0 AND o.evicted IS NULL) THEN 0 ELSE ?2 END, used = COALESCE(used, "
					"(SELECT finished FROM tasks WHERE id = ?1), (SELECT finished FROM archived_tasks "
					"WHERE id = ?1), ?3) WHERE task_id = ?1",
					-1, &upd, NULL);
	if (rc == SQLITE_OK)
		sqlite3_bind_int64(sel, 1, limit);
	while (rc == SQLITE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(sel, 1);
		int64_t bytes = path && sqlite3_column_type(sel, 2) == SQLITE_NULL ? size(path, ud) : -1;

		rc = size_row(s, upd, sqlite3_column_int64(sel, 0), bytes, now);
		if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
			++*sized;
		}
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (rc != SQLITE_DONE)
		st = store_fail(s, rc, "sizing results");
	return end(s, st, true, "sizing results");
}

enum store_status store_results_bytes(struct store *s, int64_t *bytes)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store_db(s), "SELECT COALESCE(SUM(bytes), 0) FROM results WHERE evicted IS NULL", -1,
				    &st, NULL);

	*bytes = 0;
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*bytes = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc, "adding up the results' sizes");
}

/* The least recently used files first, each with its bytes, until need bytes: into g and out. */
static enum store_status choose_evicted(struct store *s, int64_t need, int64_t keep_after, int64_t limit,
					struct store_freed *out, struct gone_list *g)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store_db(s),
				    "SELECT path, MAX(COALESCE(used, 0)) AS u, SUM(COALESCE(bytes, 0)) FROM results "
				    "WHERE evicted IS NULL AND path IS NOT NULL AND bytes IS NOT NULL GROUP BY path "
				    "HAVING u < ?1 ORDER BY u LIMIT ?2",
				    -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, keep_after);
		sqlite3_bind_int64(st, 2, limit);
	}
	while (rc == SQLITE_OK && out->bytes < need && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		gone_add(g, (const char *)sqlite3_column_text(st, 0));
		out->files++;
		out->bytes += sqlite3_column_int64(st, 2);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "choosing results to evict");
}

enum store_status store_evict(struct store *s, int64_t need, int64_t keep_after, int64_t now_ms, int64_t limit,
			      store_gone_fn gone, void *ud, struct store_freed *out)
{
	struct gone_list g = {0};
	sqlite3_stmt *upd = NULL;
	enum store_status st = begin(s, true, "evicting results");
	int rc = SQLITE_OK;

	memset(out, 0, sizeof *out);
	if (st != STORE_OK)
		return st;
	st = choose_evicted(s, need, keep_after, limit, out, &g);
	if (st == STORE_OK)
		rc = sqlite3_prepare_v2(store_db(s), "UPDATE results SET evicted = ?1 WHERE path = ?2", -1, &upd, NULL);
	for (size_t i = 0; st == STORE_OK && rc == SQLITE_OK && i < g.n; i++) {
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, now_ms);
		sqlite3_bind_text(upd, 2, g.paths[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(upd) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(store_db(s));
	}
	sqlite3_finalize(upd);
	if (st == STORE_OK && rc != SQLITE_OK)
		st = store_fail(s, rc, "evicting results");
	st = end(s, st, true, "evicting results");
	gone_flush(&g, st == STORE_OK, gone, ud);
	return st;
}

enum store_status store_finished_page(struct store *s, int state, int64_t offset, int64_t limit,
				      void (*fn)(struct task *t, void *ud), void *ud)
{
	/* Each table's newest offset + limit by its finished-time index, then the page of the two. */
	static const char *const sql =
		"SELECT * FROM (SELECT " TASK_COLUMNS " FROM tasks WHERE state >= 2 AND finished IS NOT NULL AND "
		"(?1 < 0 OR state = ?1) ORDER BY finished DESC LIMIT ?2) UNION ALL "
		"SELECT * FROM (SELECT " ARCHIVED_COLUMNS " FROM archived_tasks WHERE (?1 < 0 OR state = ?1) "
		"ORDER BY finished DESC LIMIT ?2) ORDER BY 19 DESC, 1 DESC LIMIT ?3 OFFSET ?4";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int(st, 1, state);
		sqlite3_bind_int64(st, 2, offset + limit);
		sqlite3_bind_int64(st, 3, limit);
		sqlite3_bind_int64(st, 4, offset);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(store_row_task(st), ud);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "reading the history");
}
