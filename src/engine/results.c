#include "autoconf.h"

#include "engine/results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/store.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/xalloc.h"

/* Result files per folder under results/ (see results_write). */
#define RESULTS_PER_DIR 100

/* The MAT header's text: no date, so the same answer makes the same file. */
#define MAT_HEADER "MATLAB 5.0 MAT-file, written by simq"

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
void results_csv(const struct result_data *r, struct buf *out)
{
	buf_adds(out, "Time");
	for (size_t s = 0; s < r->signals; s++)
		buf_addf(out, ",sig%zu", s + 1);
	buf_addc(out, '\n');
	for (size_t i = 0; i < r->points; i++) {
		add_number(out, r->time[i]);
		for (size_t s = 0; s < r->signals; s++) {
			buf_addc(out, ',');
			add_number(out, r->values[s * r->points + i]);
		}
		buf_addc(out, '\n');
	}
}

/* {"sig1":{"min":..,"max":..,"mean":..,"rms":..,"final":..},...}: the decoder's summary when it made one. */
static char *summary_json(const struct result_data *r)
{
	struct buf summary = BUF_INIT;

	buf_addc(&summary, '{');
	for (size_t s = 0; s < r->signals; s++) {
		struct result_summary m;

		if (r->summary)
			m = r->summary[s];
		else
			result_summarize(r, s, &m);
		buf_addf(&summary, "%s\"sig%zu\":{\"min\":", s ? "," : "", s + 1);
		add_number(&summary, m.min);
		buf_adds(&summary, ",\"max\":");
		add_number(&summary, m.max);
		buf_adds(&summary, ",\"mean\":");
		add_number(&summary, m.mean);
		buf_adds(&summary, ",\"rms\":");
		add_number(&summary, m.rms);
		buf_adds(&summary, ",\"final\":");
		add_number(&summary, m.final);
		buf_addc(&summary, '}');
	}
	buf_addc(&summary, '}');
	return buf_detach(&summary);
}

static bool write_var(mat_t *mat, const char *name, size_t rows, size_t cols, double *data)
{
	size_t dims[2] = {rows, cols};
	matvar_t *var = Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, data, MAT_F_DONT_COPY_DATA);
	bool ok = var && Mat_VarWrite(mat, var, MAT_COMPRESSION_ZLIB) == 0;

	if (var)
		Mat_VarFree(var);
	return ok;
}

/* Reads all of fd (from offset 0) onto out. */
static bool read_all(int fd, struct buf *out)
{
	off_t off = 0;

	for (;;) {
		buf_reserve(out, 65536);
		ssize_t n = pread(fd, out->data + out->len, 65536, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			out->data[out->len] = '\0';
			return n == 0;
		}
		out->len += (size_t)n;
		off += n;
	}
}

/*
 * The MAT file of r: Time (1 x points) and Values (signals x points), as PLECS's MatFile has them,
 * each zlib-compressed.  matio writes only to a path, so it writes to a memfd through
 * /proc/self/fd (memory, never the disk); write_atomically() then puts the bytes in results/ with
 * the same O_EXCL, no-symlink and fsync rules as a CSV file, and sees a full disk itself.
 */
static bool mat_bytes(const struct result_data *r, struct buf *out, char **err)
{
	int fd = memfd_create("simq-result", MFD_CLOEXEC);
	double *values = r->values;
	char proc[64];
	bool ok = false;

	if (fd < 0) {
		*err = xasprintf("cannot make the MAT file in memory: %s", strerror(errno));
		return false;
	}
	/* MAT is column-major: Values(s, i) is at s + i * signals (one signal needs no copy). */
	if (r->signals > 1) {
		values = xcalloc(r->points * r->signals + 1, sizeof *values);
		for (size_t s = 0; s < r->signals; s++)
			for (size_t i = 0; i < r->points; i++)
				values[s + i * r->signals] = r->values[s * r->points + i];
	}
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	mat_t *mat = Mat_CreateVer(proc, MAT_HEADER, MAT_FT_MAT5);

	if (mat && write_var(mat, "Time", 1, r->points, r->time) &&
	    write_var(mat, "Values", r->signals, r->points, values))
		ok = true;
	if (mat && Mat_Close(mat) != 0)
		ok = false;
	if (ok && !read_all(fd, out))
		ok = false;
	if (!ok)
		*err = xasprintf("matio cannot write the MAT file (through %s; is /proc mounted?)", proc);
	if (values != r->values)
		free(values);
	close(fd);
	errno = ok ? 0 : EIO;
	return ok;
}

/*
 * Task 12345's file is results/123/12345.mat (or .csv): a hundred to a folder, because creating a
 * file costs more the more names its folder holds (on ext4 it nearly doubles from 100 to 1,000),
 * and a night's sweep makes tens of thousands.
 */
bool results_write(const char *dir, int64_t id, const struct result_data *r, enum results_format format, bool sync,
		   struct store_result *out, char **err)
{
	bool mat = format == RESULTS_MAT;
	char *sub = xasprintf("%s/%lld", dir, (long long)(id / RESULTS_PER_DIR));
	char *name = xasprintf("%lld.%s", (long long)id, mat ? "mat" : "csv"), *path = NULL;
	struct buf file = BUF_INIT;
	bool ok = true;

	if (mat)
		ok = mat_bytes(r, &file, err);
	else
		results_csv(r, &file);
	ok = ok && write_atomically(sub, name, buf_str(&file), file.len, sync, &path, err);
	int saved = errno;

	buf_free(&file);
	if (ok) {
		*out = (struct store_result){.task_id = id, .path = path, .format = xstrdup(mat ? "mat" : "csv"),
					     .points = (int64_t)r->points, .signals = (int64_t)r->signals,
					     .summary = summary_json(r)};
		path = NULL;
	}
	free(path);
	free(name);
	free(sub);
	errno = saved;
	return ok;
}

/* A real matrix of doubles of rank 2 named name, copied out (heap), with its dimensions; NULL if none. */
static double *read_var(mat_t *mat, const char *name, size_t *rows, size_t *cols)
{
	matvar_t *var = Mat_VarRead(mat, name);
	double *data = NULL;

	if (var && var->rank == 2 && var->class_type == MAT_C_DOUBLE && var->data_type == MAT_T_DOUBLE &&
	    !var->isComplex && (var->data || var->dims[0] * var->dims[1] == 0)) {
		*rows = var->dims[0];
		*cols = var->dims[1];
		data = xcalloc(*rows * *cols + 1, sizeof *data);
		if (var->data)
			memcpy(data, var->data, *rows * *cols * sizeof *data);
	}
	if (var)
		Mat_VarFree(var);
	return data;
}

bool results_read_mat(const char *path, struct result_data *out, char **err)
{
	mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
	size_t trows = 0, tcols = 0, vrows = 0, vcols = 0;
	double *time = NULL, *values = NULL;

	memset(out, 0, sizeof *out);
	if (mat == NULL) {
		*err = xasprintf("cannot read %s: not a MAT file, or it cannot be opened", path);
		return false;
	}
	time = read_var(mat, "Time", &trows, &tcols);
	values = read_var(mat, "Values", &vrows, &vcols);
	Mat_Close(mat);
	if (time == NULL || values == NULL || trows != 1 || (vrows > 0 && vcols != tcols)) {
		*err = xasprintf("cannot read %s: it lacks Time (1 x n) and Values (signals x n)", path);
		free(time);
		free(values);
		return false;
	}
	out->points = tcols;
	out->signals = vrows;
	out->time = time;
	out->values = xcalloc(vrows * tcols + 1, sizeof *out->values);
	for (size_t s = 0; s < vrows; s++)
		for (size_t i = 0; i < tcols; i++)
			out->values[s * tcols + i] = values[s + i * vrows];
	free(values);
	return true;
}

bool results_csv_of_file(const char *path, const char *format, struct buf *out, char **err)
{
	if (strcmp(format, "mat") == 0) {
		struct result_data r;

		if (!results_read_mat(path, &r, err))
			return false;
		results_csv(&r, out);
		result_data_free(&r);
		return true;
	}
	/* A CSV result is served as simq wrote it (older state dirs keep theirs). */
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !read_all(fd, out)) {
		*err = xasprintf("cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}
