#include "autoconf.h"

#include "engine/results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/store.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/xalloc.h"

/* Result files per folder under results/ (see results_write). */
#define RESULTS_PER_DIR 100

void result_data_free(struct result_data *r)
{
	xfree(&r->time);
	xfree(&r->values);
	xfree(&r->summary);
	free(r->mat);
	r->mat = NULL;
	xfree(&r->error);
	r->points = r->signals = r->mat_len = 0;
}

void result_summarize(const struct result_data *r, size_t signal, struct result_summary *out)
{
	const double *v = r->values + signal * r->points;
	double sum = 0, sq = 0;

	out->min = INFINITY;
	out->max = -INFINITY;
	for (size_t i = 0; i < r->points; i++) {
		if (v[i] < out->min)
			out->min = v[i];
		if (v[i] > out->max)
			out->max = v[i];
		sum += v[i];
		sq += v[i] * v[i];
	}
	out->mean = r->points ? sum / (double)r->points : 0;
	out->rms = r->points ? sqrt(sq / (double)r->points) : 0;
	out->final = r->points ? v[r->points - 1] : 0;
	if (r->points == 0)
		out->min = out->max = 0;
}

/* 17 significant digits read back exactly; one snprintf keeps a 10,000-point result cheap. */
static void add_number(struct buf *b, double x)
{
	buf_reserve(b, 32);
	b->len += (size_t)snprintf(b->data + b->len, 32, "%.17g", x);
}

/*
 * The shard folder, made by simq and never followed when it is a symlink (or anything but a
 * folder): a planted link must not put results outside the state dir.  -1 and *err on failure.
 */
static int open_shard(const char *dir, char **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	/* The first file of its folder: make the folder (no mkdir for the other 99). */
	if (fd < 0 && errno == ENOENT && (mkdir(dir, 0700) == 0 || errno == EEXIST))
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		*err = xasprintf("cannot write into %s: it is not a folder simq made (a symlink?); simq writes no "
				 "result through it: move it away", dir);
	else if (fd < 0)
		*err = xasprintf("cannot open %s: %s", dir, strerror(errno));
	return fd;
}

/* Writes all of data; a disk that fills midway says so (a short write leaves errno as it was). */
static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Writes data to dir/name through a temporary name, so a reader never sees half a file.  The
 * temporary file is new (O_EXCL) and no link is followed, so nothing outside results/ is written.
 */
static bool write_atomically(const char *dir, const char *name, const void *data, size_t len, bool sync, char **path,
			     char **err)
{
	char *tmp = xasprintf(".%s.tmp", name);
	int dfd = open_shard(dir, err), fd = -1;

	*path = paths_join(dir, name);
	if (dfd >= 0)
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* fsync as the store does: with durability = full only (normal survives a crash of simq, not of power). */
	bool ok = fd >= 0 && write_all(fd, data, len) && (!sync || fsync(fd) == 0);
	int saved = errno;

	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && renameat(dfd, tmp, dfd, name) != 0) {
		ok = false;
		saved = errno;
	}
	if (!ok && dfd >= 0 && fd < 0 && saved == EEXIST)
		*err = xasprintf("cannot write %s: %s/%s is in the way (a file or link simq did not make): move it away",
				 *path, dir, tmp);
	else if (!ok && dfd >= 0)
		*err = xasprintf("cannot write %s: %s", *path, strerror(saved));
	if (!ok && fd >= 0)
		unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	errno = saved;
	return ok;
}

/* CSV: Time, then the signals; PLECS names none, so sig1, sig2, ... */
static void csv_text(const struct result_data *r, struct buf *file)
{
	buf_adds(file, "Time");
	for (size_t s = 0; s < r->signals; s++)
		buf_addf(file, ",sig%zu", s + 1);
	buf_addc(file, '\n');
	for (size_t i = 0; i < r->points; i++) {
		add_number(file, r->time[i]);
		for (size_t s = 0; s < r->signals; s++) {
			buf_addc(file, ',');
			add_number(file, r->values[s * r->points + i]);
		}
		buf_addc(file, '\n');
	}
}

/* {"sig1":{"min":..,"max":..,"mean":..,"rms":..},...} */
static char *summary_json(const struct result_data *r)
{
	struct buf summary = BUF_INIT;

	buf_addc(&summary, '{');
	for (size_t s = 0; s < r->signals; s++) {
		struct result_summary m;

		result_summarize(r, s, &m);
		buf_addf(&summary, "%s\"sig%zu\":{\"min\":", s ? "," : "", s + 1);
		add_number(&summary, m.min);
		buf_adds(&summary, ",\"max\":");
		add_number(&summary, m.max);
		buf_adds(&summary, ",\"mean\":");
		add_number(&summary, m.mean);
		buf_adds(&summary, ",\"rms\":");
		add_number(&summary, m.rms);
		buf_addc(&summary, '}');
	}
	buf_addc(&summary, '}');
	return buf_detach(&summary);
}

/*
 * Task 12345's file is results/123/12345.csv: a hundred to a folder, because creating a file costs
 * more the more names its folder holds (on ext4 it nearly doubles from 100 to 1,000), and a night's
 * sweep makes tens of thousands.  MAT results are stored as PLECS sent them.
 */
bool results_write(const char *dir, int64_t id, const struct result_data *r, bool sync, struct store_result *out,
		   char **err)
{
	char *sub = xasprintf("%s/%lld", dir, (long long)(id / RESULTS_PER_DIR));
	char *name = xasprintf("%lld.%s", (long long)id, r->mat ? "mat" : "csv"), *path = NULL;
	bool ok;

	if (r->mat) {
		ok = write_atomically(sub, name, r->mat, r->mat_len, sync, &path, err);
	} else {
		struct buf file = BUF_INIT;

		csv_text(r, &file);
		ok = write_atomically(sub, name, buf_str(&file), file.len, sync, &path, err);
		buf_free(&file);
	}
	if (ok) {
		*out = (struct store_result){.task_id = id, .path = path, .format = xstrdup(r->mat ? "mat" : "csv"),
					     .points = (int64_t)r->points, .signals = (int64_t)r->signals,
					     .summary = summary_json(r)};
		path = NULL;
	}
	free(path);
	free(name);
	free(sub);
	return ok;
}
