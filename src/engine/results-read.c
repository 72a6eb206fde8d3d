/* results, the read path: a stored result opened as simq wrote it, checked, and given as CSV. */
#include "autoconf.h"

#include "engine/results.h"

#include <errno.h>
#include <fcntl.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/store.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* Points converted to CSV between two looks at its length. */
#define ROWS_PER_LOOK 4096

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

/* The MAT file matio opens at open_path, named shown in messages. */
static bool read_mat(const char *open_path, const char *shown, struct result_data *out, char **err)
{
	mat_t *mat = Mat_Open(open_path, MAT_ACC_RDONLY);
	size_t trows = 0, tcols = 0, vrows = 0, vcols = 0;
	double *time = NULL, *values = NULL;

	memset(out, 0, sizeof *out);
	if (mat == NULL) {
		*err = xasprintf("cannot read %s: not a MAT file, or it cannot be opened", shown);
		errno = EINVAL;
		return false;
	}
	time = read_var(mat, "Time", &trows, &tcols);
	values = read_var(mat, "Values", &vrows, &vcols);
	Mat_Close(mat);
	if (time == NULL || values == NULL || trows != 1 || (vrows > 0 && vcols != tcols)) {
		*err = xasprintf("cannot read %s: it lacks Time (1 x n) and Values (signals x n)", shown);
		free(time);
		free(values);
		errno = EINVAL;
		return false;
	}
	result_data_from_mat(out, time, tcols, values, vrows);
	free(values);
	return true;
}

bool results_read_mat(const char *path, struct result_data *out, char **err)
{
	return read_mat(path, path, out, err);
}

/*
 * The most bytes r's file can take as simq writes it: a MAT file about 8 bytes a number (zlib adds
 * at most 0.03 %) and its headers; a CSV file at most 25 characters a number ("%.17g" and a comma)
 * and a header line (other signal names allowed: 256 bytes each).
 */
static double size_bound(const struct store_result *r)
{
	double numbers = (double)(r->points > 0 ? r->points : 0) * (double)(r->signals > 0 ? r->signals + 1 : 1);

	if (strcmp(r->format, "mat") == 0)
		return numbers * 8.1 + 65536;
	return numbers * 25 + (double)(r->signals > 0 ? r->signals + 1 : 1) * 256 + 4096;
}

static const char *kind_of(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device"
	     : S_ISSOCK(mode) ? "a socket" : S_ISDIR(mode) ? "a folder" : "not a regular file";
}

/* What an open of r's file (or of its folder, dir) that failed with err_no means. */
static char *open_error(const char *path, const char *dir, int err_no)
{
	if (err_no == ENOENT)
		return xasprintf("cannot read %s: it is gone (moved or deleted since simq wrote it)", path);
	if (err_no == ELOOP && dir)
		return xasprintf("cannot read %s: its folder %s is a symlink, which simq did not make; simq reads no "
				 "result through a link: move it away", path, dir);
	if (err_no == ELOOP)
		return xasprintf("cannot read %s: it is a symlink, which simq did not write (another task's file?); "
				 "simq reads no result through a link: move it away", path);
	return xasprintf("cannot read %s: %s", path, strerror(err_no));
}

/*
 * Opens r's file read-only, following no symlink (neither the file nor its shard folder), and
 * checks that it is a regular file within size_bound; its size in *size.  -1, errno and *err.
 */
static int open_stored(const struct store_result *r, off_t *size, char **err)
{
	const char *slash = strrchr(r->path, '/');
	char *dir = slash ? xstrndup(r->path, (size_t)(slash - r->path) + (slash == r->path)) : xstrdup(".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd = -1, saved;
	struct stat st;

	if (dfd < 0) {
		saved = errno == ENOTDIR ? ELOOP : errno;
		*err = open_error(r->path, dir, saved);
	} else if ((fd = openat(dfd, slash ? slash + 1 : r->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		saved = errno;
		*err = open_error(r->path, NULL, saved);
	} else if (fstat(fd, &st) != 0) {
		saved = errno;
		*err = open_error(r->path, NULL, saved);
	} else if (!S_ISREG(st.st_mode)) {
		saved = EINVAL;
		*err = xasprintf("cannot read %s: it is %s, which simq did not write: move it away", r->path,
				 kind_of(st.st_mode));
	} else if ((double)st.st_size > size_bound(r)) {
		saved = EFBIG;
		*err = xasprintf("cannot read %s: it holds %lld bytes, more than %lld points of %lld signals could take "
				 "(%.0f): not the file simq wrote; read it directly if you trust it", r->path,
				 (long long)st.st_size, (long long)r->points, (long long)r->signals, size_bound(r));
	} else {
		*size = st.st_size;
		saved = 0;
	}
	if (saved && fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (dfd >= 0)
		close(dfd);
	free(dir);
	errno = saved;
	return fd;
}

bool results_check(const struct store_result *r, char **err)
{
	off_t size;
	int fd = open_stored(r, &size, err);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* MAT v5's header: its text, and at 126 the byte order ("IM" little-endian, "MI" big). */
#define MAT_HEADER 128
#define MAT_TEXT "MATLAB 5.0 MAT-file"

/* Whether the open file fd of size bytes begins (and for CSV, ends) as simq writes it; *why when not. */
static bool looks_whole(int fd, off_t size, bool mat, const char **why)
{
	char head[MAT_HEADER], last = 0;
	size_t want = mat ? MAT_HEADER : 5;
	ssize_t got = size >= (off_t)want ? pread(fd, head, want, 0) : 0;

	if (got != (ssize_t)want) {
		*why = mat ? "shorter than a MAT file's header" : "shorter than a CSV header";
		return false;
	}
	if (mat && (memcmp(head, MAT_TEXT, strlen(MAT_TEXT)) != 0 ||
		    (memcmp(head + 126, "IM", 2) != 0 && memcmp(head + 126, "MI", 2) != 0))) {
		*why = "its header is not a MAT v5 file's";
		return false;
	}
	if (!mat && (memcmp(head, "Time", 4) != 0 || (head[4] != ',' && head[4] != '\n'))) {
		*why = "its first line is not the CSV header simq writes (Time,...)";
		return false;
	}
	if (!mat && (pread(fd, &last, 1, size - 1) != 1 || last != '\n')) {
		*why = "its last line is cut short";
		return false;
	}
	return true;
}

bool results_reusable(const struct store_result *r, char **err)
{
	off_t size;
	int fd = open_stored(r, &size, err);
	const char *why = NULL;

	if (fd < 0)
		return false;
	if (r->size > 0 && size != r->size) {
		*err = xasprintf("%s holds %lld bytes, %lld when it was written: damaged or cut short", r->path,
				 (long long)size, (long long)r->size);
	} else if (!looks_whole(fd, size, strcmp(r->format, "mat") == 0, &why)) {
		*err = xasprintf("%s is damaged: %s", r->path, why);
	}
	close(fd);
	errno = *err ? EINVAL : 0;
	return *err == NULL;
}

/* Reads size bytes of fd onto out: fewer (the file shrank) is an error. */
static bool read_exactly(int fd, const char *path, off_t size, struct buf *out, char **err)
{
	size_t want = (size_t)size, got = 0;

	buf_reserve(out, want + 1);
	while (got < want) {
		ssize_t n = read(fd, out->data + out->len + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n < 0 ? errno : EIO;

			*err = xasprintf("cannot read %s: %s", path, n < 0 ? strerror(saved) : "it shrank while it was read");
			errno = saved;
			return false;
		}
		got += (size_t)n;
	}
	out->len += got;
	out->data[out->len] = '\0';
	return true;
}

/* A CSV file as simq wrote it: text (UTF-8, no control character but tab and line ends), r's signals
 * in its header and one line per point, the last one ended. */
static bool csv_as_stored(const struct store_result *r, const char *csv, size_t len, char **err)
{
	size_t lines = 0, fields = 1, bad;
	const char *nl = memchr(csv, '\n', len);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)csv[i];

		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) {
			*err = xasprintf("cannot read %s: line %zu holds the byte 0x%02x, which simq never writes in a CSV "
					 "result: not the file simq wrote; read it directly if you trust it", r->path, lines + 1, c);
			errno = EINVAL;
			return false;
		}
		lines += c == '\n';
		fields += nl && csv + i < nl && c == ',';
	}
	if (!utf8_validate(csv, len, &bad)) {
		*err = xasprintf("cannot read %s: the bytes at offset %zu are not UTF-8, which simq never writes in a "
				 "CSV result: not the file simq wrote; read it directly if you trust it", r->path, bad);
		errno = EINVAL;
		return false;
	}
	if (lines != (size_t)r->points + 1 || (len > 0 && csv[len - 1] != '\n') || fields != (size_t)r->signals + 1) {
		*err = xasprintf("cannot read %s: it holds %zu lines, %zu columns in its header%s; simq stored %lld "
				 "points (a line each, after the header) of %lld signals: not the file simq wrote (cut "
				 "short, or another task's?)", r->path, lines, fields,
				 len > 0 && csv[len - 1] != '\n' ? ", the last cut short" : "", (long long)r->points,
				 (long long)r->signals);
		errno = EINVAL;
		return false;
	}
	return true;
}

/* r's MAT file, open at fd, as CSV: r's counts, and no more than max bytes (0: no bound). */
static bool mat_as_csv(const struct store_result *r, int fd, size_t max, struct buf *out, char **err)
{
	struct result_data d;
	char proc[64];
	bool ok = true;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (!read_mat(proc, r->path, &d, err))
		return false;
	if (d.points != (size_t)r->points || d.signals != (size_t)r->signals) {
		*err = xasprintf("cannot read %s: it holds %zu points of %zu signals, not the %lld points of %lld signals "
				 "simq stored for it: not the file simq wrote (another task's?)", r->path, d.points,
				 d.signals, (long long)r->points, (long long)r->signals);
		errno = EINVAL;
		ok = false;
	}
	size_t start = out->len;

	if (ok)
		results_csv_head(&d, out);
	for (size_t i = 0; ok && i < d.points; i += ROWS_PER_LOOK) {
		results_csv_rows(&d, i, i + ROWS_PER_LOOK < d.points ? i + ROWS_PER_LOOK : d.points, out);
		if (max && out->len - start > max) {
			*err = xasprintf("%s is more than %zu bytes as CSV", r->path, max);
			errno = EFBIG;
			ok = false;
		}
	}
	result_data_free(&d);
	return ok;
}

bool results_csv_of_file(const struct store_result *r, size_t max, struct buf *out, char **err)
{
	off_t size;
	int fd = open_stored(r, &size, err), saved;
	bool ok;

	if (fd < 0)
		return false;
	if (strcmp(r->format, "mat") == 0) {
		ok = mat_as_csv(r, fd, max, out, err);
	} else if (max && (size_t)size > max) {
		*err = xasprintf("%s is more than %zu bytes as CSV", r->path, max);
		errno = EFBIG;
		ok = false;
	} else {
		/* A CSV result is served as simq wrote it (older state dirs keep theirs), once checked. */
		size_t start = out->len;

		ok = read_exactly(fd, r->path, size, out, err) &&
		     csv_as_stored(r, out->data + start, out->len - start, err);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

/* A CSV file simq wrote (checked by csv_as_stored) back into columns: "%.17g" reads back exactly. */
static bool csv_as_data(const struct store_result *r, const char *csv, struct result_data *out, char **err)
{
	const char *p = strchr(csv, '\n') + 1;

	memset(out, 0, sizeof *out);
	out->points = (size_t)r->points;
	out->signals = (size_t)r->signals;
	out->time = xcalloc(out->points + 1, sizeof *out->time);
	out->values = xcalloc(out->points * out->signals + 1, sizeof *out->values);
	for (size_t i = 0; i < out->points; i++) {
		for (size_t s = 0; s <= out->signals; s++) {
			char *end;
			double v = strtod(p, &end);

			if (end == p || *end != (s == out->signals ? '\n' : ',')) {
				*err = xasprintf("cannot read %s: line %zu, column %zu is not a number", r->path, i + 2, s + 1);
				result_data_free(out);
				errno = EINVAL;
				return false;
			}
			*(s == 0 ? &out->time[i] : &out->values[(s - 1) * out->points + i]) = v;
			p = end + 1;
		}
	}
	return true;
}

bool results_read_stored(const struct store_result *r, struct result_data *out, struct buf *raw, char **err)
{
	off_t size;
	int fd = open_stored(r, &size, err), saved = 0;
	struct buf text = BUF_INIT;
	char proc[64];
	bool ok;

	memset(out, 0, sizeof *out);
	if (fd < 0)
		return false;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (strcmp(r->format, "mat") == 0) {
		ok = read_mat(proc, r->path, out, err);
		if (ok && (out->points != (size_t)r->points || out->signals != (size_t)r->signals)) {
			*err = xasprintf("cannot read %s: it holds %zu points of %zu signals, not the %lld points of %lld "
					 "signals simq stored for it", r->path, out->points, out->signals,
					 (long long)r->points, (long long)r->signals);
			result_data_free(out);
			errno = EINVAL;
			ok = false;
		}
		ok = ok && (raw == NULL || (lseek(fd, 0, SEEK_SET) == 0 && read_exactly(fd, r->path, size, raw, err)));
	} else {
		ok = read_exactly(fd, r->path, size, &text, err) && csv_as_stored(r, text.data, text.len, err) &&
		     csv_as_data(r, text.data, out, err);
	}
	saved = errno;
	if (!ok)
		result_data_free(out);
	buf_free(&text);
	close(fd);
	errno = saved;
	return ok;
}
