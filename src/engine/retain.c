#include "autoconf.h"

#include "engine/retain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xalloc.h"

struct retain {
	struct retain_options opt;
	struct store *store;
	const struct clock *clock;
	struct retain_host host;
	struct clock_timer *timer;
	int64_t results_bytes;      /* the kept result files' bytes, when known */
	bool bytes_known;
};

/* A result file's size, -1 when it is not there (a symlink is not followed: it is not simq's file). */
static int64_t file_size(const char *path, void *ud)
{
	struct stat st;

	(void)ud;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

static void remove_file(const char *path, void *ud)
{
	struct retain *r = ud;

	if (unlink(path) != 0 && errno != ENOENT) {
		char *text = xasprintf("cannot delete the result file %s: %s", path, strerror(errno));

		r->host.log(r->host.ud, SEVERITY_WARNING, text);
		free(text);
	}
}

static void fire(void *arg)
{
	struct retain *r = arg;

	r->clock->ops->timer_start(r->timer, retain_step(r) ? 0.01 : RETAIN_PERIOD);
}

struct retain *retain_new(const struct retain_options *opt, struct store *store, const struct clock *clock,
			  const struct retain_host *host)
{
	struct retain *r = xcalloc(1, sizeof *r);

	r->opt = *opt;
	if (r->opt.grace_ms <= 0)
		r->opt.grace_ms = RETAIN_GRACE_MS;
	r->store = store;
	r->clock = clock;
	r->host = *host;
	r->timer = clock_timer_new(clock, fire, r);
	clock->ops->timer_start(r->timer, 0);
	return r;
}

void retain_free(struct retain **rp)
{
	if (*rp == NULL)
		return;
	clock_timer_free((*rp)->clock, &(*rp)->timer);
	xfree(rp);
}

const struct retain_options *retain_options(const struct retain *r)
{
	return &r->opt;
}

/* A store failure in a step: logged, and the step ends (the next one tries again). */
static bool failed(struct retain *r, enum store_status st)
{
	if (st == STORE_OK)
		return false;
	char *text = xasprintf("retention: %s", store_error(r->store));

	r->host.log(r->host.ud, SEVERITY_ERROR, text);
	free(text);
	return true;
}

/* Keeps results/ under results_max_size: sizes new entries, then evicts the oldest used. */
static bool keep_results_under(struct retain *r, int64_t now, struct store_freed *evicted)
{
	int64_t sized = 0, need;

	if (failed(r, store_results_size(r->store, RETAIN_STEP, file_size, r, &sized)))
		return false;
	if ((sized > 0 || !r->bytes_known) && failed(r, store_results_bytes(r->store, &r->results_bytes)))
		return false;
	r->bytes_known = true;
	need = r->results_bytes - r->opt.results_max_size;
	if (need > 0 && !failed(r, store_evict(r->store, need, now - r->opt.grace_ms, now, RETAIN_STEP, remove_file, r,
					      evicted)))
		r->results_bytes -= evicted->bytes;
	return sized == RETAIN_STEP || (need > 0 && evicted->files == RETAIN_STEP);
}

/* The step's one line: "retention: archived 2000 finished tasks; purged 10 archived tasks (3 files, 1.2 MiB); ...". */
static void log_step(struct retain *r, int64_t archived, const struct store_freed *purged,
		     const struct store_freed *evicted)
{
	struct buf b = BUF_INIT;

	if (archived == 0 && purged->tasks == 0 && evicted->files == 0)
		return;
	/* Only what was done: a step that archived 2,000 tasks says nothing of 0 files evicted. */
	buf_adds(&b, "retention:");
	if (archived > 0)
		buf_addf(&b, " archived %lld finished tasks;", (long long)archived);
	if (purged->tasks > 0) {
		buf_addf(&b, " purged %lld archived tasks (%lld result files, ", (long long)purged->tasks,
			 (long long)purged->files);
		buf_add_bytes(&b, purged->bytes);
		buf_adds(&b, ");");
	}
	if (evicted->files > 0) {
		buf_addf(&b, " evicted %lld result files (", (long long)evicted->files);
		buf_add_bytes(&b, evicted->bytes);
		buf_adds(&b, ") to keep results/ under ");
		buf_add_bytes(&b, r->opt.results_max_size);
		buf_adds(&b, ";");
	}
	buf_truncate(&b, b.len - 1); /* the last ";" */
	r->host.log(r->host.ud, SEVERITY_INFO, buf_str(&b));
	buf_free(&b);
}

bool retain_step(struct retain *r)
{
	int64_t now = clock_now_ms(r->clock), archived = 0;
	struct store_freed purged = {0}, evicted = {0};
	bool more = false;

	if (r->opt.archive_after > 0 &&
	    !failed(r, store_archive(r->store, now - (int64_t)(r->opt.archive_after * 1000), RETAIN_STEP, &archived)))
		more |= archived == RETAIN_STEP;
	if (archived > 0)
		r->host.archived(r->host.ud, now - (int64_t)(r->opt.archive_after * 1000));
	if (r->opt.purge_after > 0) {
		struct store_select sel = {.from = STORE_ARCHIVE,
					   .finished_before = now - (int64_t)(r->opt.purge_after * 1000),
					   .limit = RETAIN_STEP, .purge = true, .now_ms = now};

		if (!failed(r, store_delete_finished(r->store, &sel, false, file_size, remove_file, r, &purged)))
			more |= purged.tasks == RETAIN_STEP;
		if (purged.tasks > 0) {
			r->bytes_known = false;
			r->host.deleted(r->host.ud);
		}
	}
	if (r->opt.results_max_size > 0)
		more |= keep_results_under(r, now, &evicted);
	log_step(r, archived, &purged, &evicted);
	return more;
}

enum store_status retain_clean(struct retain *r, const struct store_select *sel, bool dry_run, struct store_freed *out)
{
	enum store_status st = store_delete_finished(r->store, sel, dry_run, file_size, remove_file, r, out);

	if (st == STORE_OK && !dry_run && out->tasks > 0) {
		r->bytes_known = false;
		r->host.deleted(r->host.ud);
	}
	return st;
}
