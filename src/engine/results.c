#include "autoconf.h"

#include "engine/results.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <libdeflate.h>
#include <math.h>
#include <matio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/store.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/fds.h"
#include "util/xalloc.h"

/* Result files per folder under results/ (see results_write). */
#define RESULTS_PER_DIR 100

/* The MAT header's text: no date, so the same answer makes the same file. */
#define MAT_HEADER "MATLAB 5.0 MAT-file, written by simq"
/* A MAT v5 file's header: its text, subsystem offset, version and byte order. */
#define MAT_HEADER_BYTES 128
/*
 * libdeflate's level for result files.  Answers are doubles whose low bytes do not repeat: on a
 * 1,001-point answer level 1 makes files 1.4 % larger than level 6 (and than zlib -9) in half its
 * time, and level 12, the tightest, only 0.1 % smaller at three times level 6's.  The writer's CPU
 * is what a server serving several PLECS spends per task; 1.4 % of the disk is not.
 */
#define DEFLATE_LEVEL 1
/* Variables smaller than this are stored in their zlib stream, not deflated (compress_vars). */
#define SMALL_VARIABLE 256

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

void result_summary_finish(struct result_summary *s, const double *v, size_t n)
{
	double m = fmax(fabs(s->min), fabs(s->max));

	if (n == 0) {
		*s = (struct result_summary){0};
		return;
	}
	/* Plain sums that overflowed (|v| near 1e154 and up), or squares that fell below DBL_MIN: again,
	 * each number divided by the largest |v|, so every sum stays within n. */
	if ((!isfinite(s->mean) || !isfinite(s->rms) || s->rms < DBL_MIN) && m > 0 && isfinite(m)) {
		double sum = 0, sq = 0;

		for (size_t i = 0; i < n; i++) {
			double x = v[i] / m;

			sum += x;
			sq += x * x;
		}
		s->mean = sum / (double)n * m;
		s->rms = sqrt(sq / (double)n) * m;
		return;
	}
	s->mean = s->mean / (double)n;
	s->rms = sqrt(s->rms / (double)n);
}

void result_data_from_mat(struct result_data *out, double *time, size_t points, const double *values, size_t signals)
{
	out->points = points;
	out->signals = signals;
	out->time = time;
	out->values = xcalloc(signals * points + 1, sizeof *out->values);
	for (size_t s = 0; s < signals; s++)
		for (size_t i = 0; i < points; i++)
			out->values[s * points + i] = values[s + i * signals];
}

void result_summarize(const struct result_data *r, size_t signal, struct result_summary *out)
{
	const double *v = r->values + signal * r->points;

	*out = (struct result_summary){.min = INFINITY, .max = -INFINITY};
	for (size_t i = 0; i < r->points; i++) {
		if (v[i] < out->min)
			out->min = v[i];
		if (v[i] > out->max)
			out->max = v[i];
		out->mean += v[i];
		out->rms += v[i] * v[i];
		out->final = v[i];
	}
	result_summary_finish(out, v, r->points);
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

/*
 * Writes file to dir/name through a temporary name, so a reader never sees half a file.  The
 * temporary file is new (O_EXCL) and no link is followed, so nothing outside results/ is written.
 */
static bool write_atomically(const char *dir, const char *name, const struct buf *file, bool sync, char **path,
			     char **err)
{
	char *tmp = xasprintf(".%s.tmp", name);
	int dfd = open_shard(dir, err), fd = -1;

	*path = paths_join(dir, name);
	if (dfd >= 0)
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* fsync as the store does: with durability = full only (normal survives a crash of simq, not of power). */
	bool ok = fd >= 0 && fds_write_all(fd, file->data, file->len) && (!sync || fsync(fd) == 0);
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
	results_csv_head(r, out);
	results_csv_rows(r, 0, r->points, out);
}

void results_csv_head(const struct result_data *r, struct buf *out)
{
	buf_adds(out, "Time");
	for (size_t s = 0; s < r->signals; s++)
		buf_addf(out, ",sig%zu", s + 1);
	buf_addc(out, '\n');
}

void results_csv_rows(const struct result_data *r, size_t from, size_t to, struct buf *out)
{
	for (size_t i = from; i < to; i++) {
		add_number(out, r->time[i]);
		for (size_t s = 0; s < r->signals; s++) {
			buf_addc(out, ',');
			add_number(out, r->values[s * r->points + i]);
		}
		buf_addc(out, '\n');
	}
}

/* A figure of the summary: a number, or (JSON has none for them) the text "inf", "-inf" or "nan". */
static void add_figure(struct buf *b, double x)
{
	if (isfinite(x))
		add_number(b, x);
	else
		buf_adds(b, isnan(x) ? "\"nan\"" : x > 0 ? "\"inf\"" : "\"-inf\"");
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
		add_figure(&summary, m.min);
		buf_adds(&summary, ",\"max\":");
		add_figure(&summary, m.max);
		buf_adds(&summary, ",\"mean\":");
		add_figure(&summary, m.mean);
		buf_adds(&summary, ",\"rms\":");
		add_figure(&summary, m.rms);
		buf_adds(&summary, ",\"final\":");
		add_figure(&summary, m.final);
		buf_addc(&summary, '}');
	}
	buf_addc(&summary, '}');
	return buf_detach(&summary);
}

/*
 * What results_write keeps for the thread that writes MAT files (the writer), made at its first file:
 * libdeflate's compressor (some hundreds of KB, which would cost more to make than to use) and the
 * buffer a file is laid out in before it is compressed.
 */
struct mat_scratch {
	struct libdeflate_compressor *deflater, *storer; /* DEFLATE_LEVEL; level 0, for small variables */
	struct buf raw;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
	struct mat_scratch *s = p;

	if (s == NULL)
		return;
	libdeflate_free_compressor(s->deflater);
	libdeflate_free_compressor(s->storer);
	buf_free(&s->raw);
	free(s);
}

static void scratch_key_make(void)
{
	if (pthread_key_create(&scratch_key, scratch_free) != 0)
		abort();
}

static struct mat_scratch *scratch(void)
{
	struct mat_scratch *s;

	pthread_once(&scratch_once, scratch_key_make);
	s = pthread_getspecific(scratch_key);
	if (s)
		return s;
	s = xcalloc(1, sizeof *s);
	s->deflater = libdeflate_alloc_compressor(DEFLATE_LEVEL);
	s->storer = libdeflate_alloc_compressor(0);
	if (s->deflater == NULL || s->storer == NULL || pthread_setspecific(scratch_key, s) != 0) {
		fprintf(stderr, "simq: out of memory (libdeflate)\n");
		abort();
	}
	return s;
}

void results_thread_end(void)
{
	pthread_once(&scratch_once, scratch_key_make);
	scratch_free(pthread_getspecific(scratch_key));
	pthread_setspecific(scratch_key, NULL);
}

/* A MAT v5 data element's tag: its type and its length in bytes. */
static void mat_tag(struct buf *b, uint32_t type, uint32_t bytes)
{
	const uint32_t tag[2] = {type, bytes};

	buf_add(b, tag, sizeof tag);
}

/* The bytes a MAT v5 element of n bytes takes after its tag: n, padded to 8. */
static size_t mat_padded(size_t n)
{
	return (n + 7) / 8 * 8;
}

/*
 * A rows x cols matrix of doubles named name (at most 63 characters), as an uncompressed miMATRIX
 * element: array flags (class double), dimensions, name (in the small format when it fits in 4 bytes),
 * and the real part, column-major.
 */
static void mat_matrix(struct buf *b, const char *name, size_t rows, size_t cols, const double *data)
{
	static const char zeros[8];
	size_t name_len = strlen(name), data_bytes = rows * cols * sizeof *data;
	size_t name_bytes = name_len <= 4 ? 8 : 8 + mat_padded(name_len);
	const uint32_t flags[2] = {MAT_C_DOUBLE, 0};
	const int32_t dims[2] = {(int32_t)rows, (int32_t)cols};

	mat_tag(b, MAT_T_MATRIX, (uint32_t)(16 + 16 + name_bytes + 8 + data_bytes));
	mat_tag(b, MAT_T_UINT32, sizeof flags);
	buf_add(b, flags, sizeof flags);
	mat_tag(b, MAT_T_INT32, sizeof dims);
	buf_add(b, dims, sizeof dims);
	if (name_len <= 4) {
		const uint32_t small = (uint32_t)name_len << 16 | MAT_T_INT8;

		buf_add(b, &small, sizeof small);
		buf_add(b, name, name_len);
		buf_add(b, zeros, 4 - name_len);
	} else {
		mat_tag(b, MAT_T_INT8, (uint32_t)name_len);
		buf_add(b, name, name_len);
		buf_add(b, zeros, mat_padded(name_len) - name_len);
	}
	mat_tag(b, MAT_T_DOUBLE, (uint32_t)data_bytes);
	buf_add(b, data, data_bytes);
}

bool results_mat_layout(const struct result_data *r, struct buf *out)
{
	char header[MAT_HEADER_BYTES];
	const uint16_t version = 0x0100, order = 'M' << 8 | 'I';
	double *values = r->values;

	/* Each variable's element must say its length in 32 bits, and its dimensions in 31. */
	if (r->points > INT32_MAX || r->signals > INT32_MAX || r->points * (r->signals + 1) > (UINT32_MAX - 256) / 8)
		return false;
	/* As matio writes it: the text and its NUL, blanks to 116 bytes, a blank subsystem offset. */
	memset(header, ' ', MAT_HEADER_BYTES - 4);
	memcpy(header, MAT_HEADER, sizeof MAT_HEADER);
	memcpy(header + MAT_HEADER_BYTES - 4, &version, sizeof version);
	memcpy(header + MAT_HEADER_BYTES - 2, &order, sizeof order);
	buf_add(out, header, sizeof header);
	/* MAT is column-major: Values(s, i) is at s + i * signals (one signal needs no copy). */
	if (r->signals > 1) {
		values = xcalloc(r->points * r->signals + 1, sizeof *values);
		for (size_t s = 0; s < r->signals; s++)
			for (size_t i = 0; i < r->points; i++)
				values[s + i * r->signals] = r->values[s * r->points + i];
	}
	mat_matrix(out, "Time", 1, r->points, r->time);
	mat_matrix(out, "Values", r->signals, r->points, values);
	if (values != r->values)
		free(values);
	return true;
}

/*
 * A MAT v5 file laid out uncompressed (raw: the 128-byte header, then one miMATRIX element per
 * variable), with each variable compressed: a miCOMPRESSED element holding the zlib stream of its
 * miMATRIX element, as matio and MATLAB write them.  A variable of less than SMALL_VARIABLE bytes
 * goes in a zlib stream of stored blocks: deflating it would save some bytes of a few hundred, and
 * cost 9 us (libdeflate sets up its tables for every call), as much as the rest of a small file.
 */
static bool compress_vars(struct mat_scratch *s, struct buf *out)
{
	const struct buf *raw = &s->raw;
	const unsigned char *bytes = (const unsigned char *)raw->data;
	size_t at = MAT_HEADER_BYTES, len = raw->len;

	buf_add(out, bytes, MAT_HEADER_BYTES);
	while (at < len) {
		uint32_t tag[2];

		memcpy(tag, bytes + at, sizeof tag);
		size_t whole = sizeof tag + tag[1];
		struct libdeflate_compressor *d = whole < SMALL_VARIABLE ? s->storer : s->deflater;
		size_t bound = libdeflate_zlib_compress_bound(d, whole);

		buf_reserve(out, sizeof tag + bound);
		size_t n = libdeflate_zlib_compress(d, bytes + at, whole, out->data + out->len + sizeof tag, bound);

		if (n == 0 || n > UINT32_MAX)
			return false;
		tag[0] = MAT_T_COMPRESSED;
		tag[1] = (uint32_t)n;
		memcpy(out->data + out->len, tag, sizeof tag);
		out->len += sizeof tag + n;
		at += whole;
	}
	return true;
}

/*
 * The MAT file of r, in file: Time (1 x points) and Values (signals x points), as PLECS's MatFile has
 * them, each compressed.  simq lays it out itself, byte for byte as matio does (test_results compares
 * them), and compresses with libdeflate: matio's writer costs some 30 system calls a file (it writes
 * only to a path, through stdio, and reads the file back to look for a variable of the same name),
 * most of the writer's time on small results, and its zlib costs twice libdeflate's at the same size.
 * matio still reads every file back (results-read.c).
 */
static bool mat_file(const struct result_data *r, struct buf *file, char **err)
{
	struct mat_scratch *s = scratch();

	buf_truncate(&s->raw, 0);
	if (!results_mat_layout(r, &s->raw)) {
		*err = xasprintf("a result of %zu points and %zu signals is too large for a MAT v5 file", r->points,
				 r->signals);
		errno = EFBIG;
		return false;
	}
	if (!compress_vars(s, file)) {
		*err = xstrdup("libdeflate cannot compress the MAT file");
		errno = EIO;
		return false;
	}
	return true;
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
		ok = mat_file(r, &file, err);
	else
		results_csv(r, &file);
	ok = ok && write_atomically(sub, name, &file, sync, &path, err);
	int saved = errno;

	if (ok) {
		*out = (struct store_result){.task_id = id, .path = path, .format = xstrdup(mat ? "mat" : "csv"),
					     .points = (int64_t)r->points, .signals = (int64_t)r->signals,
					     .summary = summary_json(r), .size = (int64_t)file.len};
		path = NULL;
	}
	buf_free(&file);
	free(path);
	free(name);
	free(sub);
	errno = saved;
	return ok;
}
