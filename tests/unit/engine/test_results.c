/*
 * engine/results.c: a result stored as MAT reads back, with matio itself, bit for bit as it was
 * decoded (Time 1 x n and Values signals x n, as PLECS's MatFile); the CSV of a MAT file is the
 * CSV simq writes for the same answer; the summary is the decoder's when it made one; the file
 * keeps the temporary-name and no-symlink rules; a 1,001-point result is small.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/results.h"
#include "engine/store.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct fx {
	char *dir;
};

static int fx_setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	const char *tmp = getenv("SIMQ_TEST_TMP");

	fx->dir = xasprintf("%s/results-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(fx->dir);
	free(fx);
	results_thread_end();
	return 0;
}

/* points x signals of numbers a text round trip or a careless copy would change. */
static void make_result(struct result_data *r, size_t points, size_t signals)
{
	static const double odd[] = {0.1, -0.0, DBL_MIN / 8 /* subnormal */, DBL_MAX, -1e-300, 1.0 / 3,
				     9.9326205300073804, 123456789.12345679};

	memset(r, 0, sizeof *r);
	r->points = points;
	r->signals = signals;
	r->time = xcalloc(points + 1, sizeof *r->time);
	r->values = xcalloc(points * signals + 1, sizeof *r->values);
	for (size_t i = 0; i < points; i++) {
		r->time[i] = (double)i * 5e-6;
		for (size_t s = 0; s < signals; s++)
			r->values[s * points + i] = i < 8 && s == 0 ? odd[i] : sin((double)i * 0.01 + (double)s) * 10;
	}
}

static bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* The path results_write gave, read with matio's own calls: Time and Values, compressed. */
static void assert_mat_holds(const char *path, const struct result_data *r)
{
	mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
	matvar_t *time, *values;

	assert_non_null(mat);
	assert_int_equal(Mat_GetVersion(mat), MAT_FT_MAT5);
	time = Mat_VarRead(mat, "Time");
	values = Mat_VarRead(mat, "Values");
	assert_non_null(time);
	assert_non_null(values);
	assert_int_equal(time->class_type, MAT_C_DOUBLE);
	assert_int_equal(values->class_type, MAT_C_DOUBLE);
	assert_int_equal(time->compression, MAT_COMPRESSION_ZLIB);
	assert_int_equal(values->compression, MAT_COMPRESSION_ZLIB);
	assert_int_equal(time->dims[0], 1);
	assert_int_equal(time->dims[1], r->points);
	assert_int_equal(values->dims[0], r->signals);
	assert_int_equal(values->dims[1], r->points);
	for (size_t i = 0; i < r->points; i++) {
		if (!same_bits(((const double *)time->data)[i], r->time[i]))
			fail_msg("Time(%zu) is %.17g, decoded %.17g", i, ((const double *)time->data)[i], r->time[i]);
		for (size_t s = 0; s < r->signals; s++) {
			double got = ((const double *)values->data)[s + i * r->signals], want = r->values[s * r->points + i];

			if (!same_bits(got, want))
				fail_msg("Values(%zu, %zu) is %.17g, decoded %.17g", s, i, got, want);
		}
	}
	Mat_VarFree(time);
	Mat_VarFree(values);
	Mat_Close(mat);
}

static void round_trip(struct fx *fx, int64_t id, size_t points, size_t signals)
{
	struct result_data r, back;
	struct store_result out = {0};
	char *err = NULL;

	make_result(&r, points, signals);
	if (!results_write(fx->dir, id, &r, RESULTS_MAT, false, &out, &err))
		fail_msg("results_write: %s", err);
	assert_string_equal(out.format, "mat");
	assert_int_equal(out.points, points);
	assert_int_equal(out.signals, signals);
	assert_mat_holds(out.path, &r);
	struct stat st;

	assert_int_equal(stat(out.path, &st), 0);
	assert_int_equal(st.st_size, out.size);
	/* Nothing of a larger file written before it (the writer reuses its scratch file for matio). */
	if (points * (signals + 1) <= 4)
		assert_true(st.st_size < 400);
	/* simq's own reader gives the same columns back. */
	if (!results_read_mat(out.path, &back, &err))
		fail_msg("results_read_mat: %s", err);
	assert_int_equal(back.points, points);
	assert_int_equal(back.signals, signals);
	assert_memory_equal(back.time, r.time, points * sizeof *r.time);
	assert_memory_equal(back.values, r.values, points * signals * sizeof *r.values);
	result_data_free(&back);
	result_data_free(&r);
	store_result_free(&out);
}

static void test_mat_round_trip(void **state)
{
	round_trip(*state, 1, 1001, 1);
	round_trip(*state, 2, 10000, 3);
	round_trip(*state, 3, 1, 2);
	/* A model without outports: Time, and Values with no rows. */
	round_trip(*state, 4, 50, 0);
}

static void test_file_name_and_shards(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result out = {0};
	char *err = NULL, *want = xasprintf("%s/123/12345.mat", fx->dir);

	make_result(&r, 3, 1);
	assert_true(results_write(fx->dir, 12345, &r, RESULTS_MAT, true, &out, &err));
	assert_string_equal(out.path, want);
	/* No temporary name is left. */
	char *tmp = xasprintf("%s/123/.12345.mat.tmp", fx->dir);
	struct stat st;

	assert_int_not_equal(lstat(tmp, &st), 0);
	free(tmp);
	free(want);
	store_result_free(&out);
	result_data_free(&r);
}

/* The CSV of a MAT-stored result is, byte for byte, the CSV file simq writes for the same answer. */
static void test_csv_of_mat_equals_csv_written(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result mat = {0}, csv = {0};
	struct buf from_mat = BUF_INIT, from_csv = BUF_INIT, direct = BUF_INIT;
	char *err = NULL;

	make_result(&r, 1001, 3);
	assert_true(results_write(fx->dir, 7, &r, RESULTS_MAT, false, &mat, &err));
	assert_true(results_write(fx->dir, 8, &r, RESULTS_CSV, false, &csv, &err));
	assert_string_equal(csv.format, "csv");
	if (!results_csv_of_file(&mat, 0, &from_mat, &err))
		fail_msg("%s", err);
	assert_true(results_csv_of_file(&csv, 0, &from_csv, &err));
	results_csv(&r, &direct);
	assert_int_equal(from_mat.len, from_csv.len);
	assert_memory_equal(from_mat.data, from_csv.data, from_csv.len);
	assert_memory_equal(direct.data, from_csv.data, from_csv.len);
	assert_true(strncmp(from_csv.data, "Time,sig1,sig2,sig3\n0,0.10000000000000001,", 42) == 0);
	/* Both store the same summary. */
	assert_string_equal(mat.summary, csv.summary);
	buf_free(&from_mat);
	buf_free(&from_csv);
	buf_free(&direct);
	store_result_free(&mat);
	store_result_free(&csv);
	result_data_free(&r);
}

/* r's file, read with results_csv_of_file (bounded by max), refused with a message holding want. */
static void expect_refused(const struct store_result *r, size_t max, const char *want)
{
	struct buf out = BUF_INIT;
	char *err = NULL;

	if (results_csv_of_file(r, max, &out, &err))
		fail_msg("%s was read; expected a refusal saying \"%s\"", r->path, want);
	if (strstr(err, want) == NULL || strstr(err, r->path) == NULL)
		fail_msg("%s: the error \"%s\" does not say \"%s\" and the path", r->path, err, want);
	free(err);
	buf_free(&out);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
}

static void test_csv_of_bad_files(void **state)
{
	struct fx *fx = *state;
	char *path = xasprintf("%s/not.mat", fx->dir), *missing = xasprintf("%s/gone.csv", fx->dir);
	char mat[] = "mat", csv[] = "csv";
	struct store_result r = {.path = path, .format = mat, .points = 1, .signals = 1};

	write_file(path, "Time,sig1\n0,1\n", 14);
	expect_refused(&r, 0, "not a MAT file");
	r.path = missing;
	r.format = csv;
	expect_refused(&r, 0, "it is gone");
	free(missing);
	free(path);
}

/*
 * What may be planted in results/ (the server reads it as the state dir's owner): a FIFO (refused at
 * once, not waited on), a symlink to another task's file, a shard folder that is a link, a file larger
 * than its points could take, another task's data, a CSV cut short or holding bytes simq never writes.
 * A CSV whose header names other signals is served as stored; a bound on the CSV is EFBIG.
 */
static void test_read_refuses_planted_files(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result a = {0}, b = {0}, c = {0};
	char *err = NULL;
	struct buf out = BUF_INIT;

	make_result(&r, 10, 1);
	assert_true(results_write(fx->dir, 1, &r, RESULTS_MAT, false, &a, &err));
	assert_true(results_check(&a, &err));
	result_data_free(&r);
	make_result(&r, 12, 2);
	assert_true(results_write(fx->dir, 2, &r, RESULTS_MAT, false, &b, &err));
	assert_true(results_write(fx->dir, 3, &r, RESULTS_CSV, false, &c, &err));
	/* Another task's data under this task's name. */
	assert_int_equal(rename(b.path, a.path), 0);
	expect_refused(&a, 0, "holds 12 points of 2 signals, not the 10 points of 1 signals");
	/* A link to another task's file. */
	assert_int_equal(unlink(a.path), 0);
	assert_int_equal(symlink(c.path, a.path), 0);
	expect_refused(&a, 0, "it is a symlink");
	assert_false(results_check(&a, &err));
	xfree(&err);
	/* A FIFO: refused at once (O_NONBLOCK; a blocking open would wait for a writer forever). */
	assert_int_equal(unlink(a.path), 0);
	assert_int_equal(mkfifo(a.path, 0600), 0);
	expect_refused(&a, 0, "it is a FIFO, which simq did not write");
	/* Larger than 10 points of 1 signal could take. */
	assert_int_equal(unlink(a.path), 0);
	char *big = xcalloc(1, 200000);

	write_file(a.path, big, 200000);
	free(big);
	expect_refused(&a, 0, "it holds 200000 bytes, more than 10 points of 1 signals could take");
	/* A CSV: served as stored, another header too; cut short or with a control byte, refused. */
	assert_true(results_csv_of_file(&c, 0, &out, &err));
	char *text = xstrdup(buf_str(&out));
	size_t len = out.len;

	text[0] = 't';
	write_file(c.path, text, len);
	buf_free(&out);
	assert_true(results_csv_of_file(&c, 0, &out, &err));
	assert_memory_equal(out.data, text, len);
	buf_free(&out);
	write_file(c.path, text, len / 2);
	expect_refused(&c, 0, "not the file simq wrote (cut short");
	text[len / 2] = '\x1b';
	write_file(c.path, text, len);
	expect_refused(&c, 0, "holds the byte 0x1b, which simq never writes");
	text[len / 2] = '\xff';
	write_file(c.path, text, len);
	expect_refused(&c, 0, "are not UTF-8");
	/* A bound on the CSV: EFBIG, for a CSV file and for a MAT file converted. */
	text[len / 2] = '0';
	write_file(c.path, text, len);
	expect_refused(&c, 100, "is more than 100 bytes as CSV");
	store_result_free(&b);
	assert_true(results_write(fx->dir, 4, &r, RESULTS_MAT, false, &b, &err));
	assert_false(results_csv_of_file(&b, 100, &out, &err));
	assert_int_equal(errno, EFBIG);
	xfree(&err);
	/* The shard folder a link: nothing read through it. */
	char *shard = xasprintf("%s/0", fx->dir), *moved = xasprintf("%s/moved", fx->dir);

	assert_int_equal(rename(shard, moved), 0);
	assert_int_equal(symlink(moved, shard), 0);
	expect_refused(&c, 0, "is a symlink, which simq did not make");
	free(shard);
	free(moved);
	free(text);
	buf_free(&out);
	store_result_free(&a);
	store_result_free(&b);
	store_result_free(&c);
	result_data_free(&r);
}

/* The decoder's summary is stored when it made one (final value included); otherwise one is computed. */
/* What the cache reuses: a file of the size written, whose header (MAT) or last line (CSV) is whole. */
static void test_reusable(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result m = {0}, c = {0};
	char *err = NULL;
	struct stat st;

	make_result(&r, 50, 2);
	assert_true(results_write(fx->dir, 1, &r, RESULTS_MAT, false, &m, &err));
	assert_true(results_write(fx->dir, 2, &r, RESULTS_CSV, false, &c, &err));
	result_data_free(&r);
	assert_int_equal(stat(m.path, &st), 0);
	assert_int_equal(m.size, st.st_size);
	assert_true(results_reusable(&m, &err));
	assert_true(results_reusable(&c, &err));
	/* Cut short: another size than written. */
	assert_int_equal(truncate(m.path, m.size - 1), 0);
	assert_false(results_reusable(&m, &err));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "when it was written: damaged or cut short"));
	xfree(&err);
	/* A row written before simq kept sizes: the header and the last line decide. */
	m.size = c.size = 0;
	assert_true(results_reusable(&m, &err));
	assert_int_equal(truncate(m.path, 100), 0);
	assert_false(results_reusable(&m, &err));
	assert_non_null(strstr(err, "shorter than a MAT file's header"));
	xfree(&err);
	assert_int_equal(truncate(c.path, 200), 0);
	assert_false(results_reusable(&c, &err));
	assert_non_null(strstr(err, "its last line is cut short"));
	xfree(&err);
	/* Gone: ENOENT. */
	assert_int_equal(unlink(c.path), 0);
	assert_false(results_reusable(&c, &err));
	assert_int_equal(errno, ENOENT);
	xfree(&err);
	store_result_free(&m);
	store_result_free(&c);
}

static void test_summary(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result out = {0};
	char *err = NULL;

	make_result(&r, 4, 1);
	r.values[0] = 1, r.values[1] = 3, r.values[2] = -1, r.values[3] = 5;
	assert_true(results_write(fx->dir, 20, &r, RESULTS_MAT, false, &out, &err));
	assert_string_equal(out.summary, "{\"sig1\":{\"min\":-1,\"max\":5,\"mean\":2,\"rms\":3,\"final\":5}}");
	store_result_free(&out);
	r.summary = xcalloc(1, sizeof *r.summary);
	*r.summary = (struct result_summary){.min = -7, .max = 7, .mean = 0.5, .rms = 2, .final = 6};
	assert_true(results_write(fx->dir, 21, &r, RESULTS_MAT, false, &out, &err));
	assert_string_equal(out.summary, "{\"sig1\":{\"min\":-7,\"max\":7,\"mean\":0.5,\"rms\":2,\"final\":6}}");
	store_result_free(&out);
	result_data_free(&r);
}

/* Numbers near 1e200 (their squares overflow) and near 1e-200 (theirs underflow): finite, exact figures. */
static void test_summary_scaled(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct result_summary m;
	struct store_result out = {0};
	char *err = NULL;
	const double scale[] = {1e200, 1e-200, 1e300};

	(void)fx;
	make_result(&r, 3, 1);
	for (size_t k = 0; k < sizeof scale / sizeof scale[0]; k++) {
		r.values[0] = scale[k], r.values[1] = -scale[k], r.values[2] = 3 * scale[k];
		result_summarize(&r, 0, &m);
		assert_true(fabs(m.mean / scale[k] - 1) < 1e-15);
		assert_true(fabs(m.rms / scale[k] - sqrt(11.0 / 3)) < 1e-15);
		assert_true(m.min == -scale[k] && m.max == 3 * scale[k] && m.final == 3 * scale[k]);
	}
	/* Stored as JSON numbers: 1e300's RMS is 1.9148542155126762e+300, not inf (nor an empty summary). */
	assert_true(results_write(fx->dir, 22, &r, RESULTS_MAT, false, &out, &err));
	assert_non_null(strstr(out.summary, "\"rms\":1.91485421551267"));
	assert_null(strstr(out.summary, "inf"));
	store_result_free(&out);
	/* A figure that is not finite (a MAT answer may hold inf): JSON has no inf, so text says it. */
	r.values[1] = INFINITY;
	result_summarize(&r, 0, &m);
	assert_true(isinf(m.max) && isinf(m.mean) && isinf(m.rms));
	r.summary = xcalloc(1, sizeof *r.summary);
	*r.summary = (struct result_summary){.min = -INFINITY, .max = INFINITY, .mean = NAN, .rms = INFINITY, .final = 1};
	assert_true(results_write(fx->dir, 23, &r, RESULTS_MAT, false, &out, &err));
	assert_string_equal(out.summary,
			    "{\"sig1\":{\"min\":\"-inf\",\"max\":\"inf\",\"mean\":\"nan\",\"rms\":\"inf\",\"final\":1}}");
	store_result_free(&out);
	result_data_free(&r);
}

/* A link planted at the temporary name or at the shard folder gets nothing written through it. */
static void test_no_symlink_followed(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result out = {0};
	char *err = NULL, *shard = xasprintf("%s/0", fx->dir), *outside = xasprintf("%s/outside", fx->dir);
	char *link = xasprintf("%s/.5.mat.tmp", shard), *away = xasprintf("%s/away", fx->dir);
	struct stat st;

	make_result(&r, 3, 1);
	assert_int_equal(mkdir(shard, 0700), 0);
	assert_int_equal(symlink(outside, link), 0);
	assert_false(results_write(fx->dir, 5, &r, RESULTS_MAT, false, &out, &err));
	assert_non_null(strstr(err, "is in the way"));
	assert_int_not_equal(stat(outside, &st), 0);
	xfree(&err);
	/* The shard folder itself a link: refused, nothing in its target. */
	assert_int_equal(mkdir(away, 0700), 0);
	char *shard1 = xasprintf("%s/1", fx->dir);

	assert_int_equal(symlink(away, shard1), 0);
	assert_false(results_write(fx->dir, 150, &r, RESULTS_MAT, false, &out, &err));
	assert_non_null(strstr(err, "a symlink?"));
	char *in_away = xasprintf("%s/150.mat", away), *tmp_away = xasprintf("%s/.150.mat.tmp", away);

	assert_int_not_equal(lstat(in_away, &st), 0);
	assert_int_not_equal(lstat(tmp_away, &st), 0);
	free(in_away);
	free(tmp_away);
	free(err);
	free(shard1);
	free(shard);
	free(outside);
	free(link);
	free(away);
	result_data_free(&r);
}

/* The target: a 1,001-point, one-signal result in at most 12 KB (its CSV is about 43 KB). */
static void test_size_of_a_1001_point_result(void **state)
{
	struct fx *fx = *state;
	struct result_data r;
	struct store_result mat = {0}, csv = {0};
	char *err = NULL;
	struct stat sm, sc;

	/* An RC charging curve like share/models/rc.plecs's: 10 V, tau 1 ms, 5 ms in 1,000 steps. */
	memset(&r, 0, sizeof r);
	r.points = 1001;
	r.signals = 1;
	r.time = xcalloc(1001, sizeof *r.time);
	r.values = xcalloc(1001, sizeof *r.values);
	for (size_t i = 0; i < 1001; i++) {
		r.time[i] = (double)i * 5e-6;
		r.values[i] = 10 * (1 - exp(-r.time[i] / 1e-3));
	}
	assert_true(results_write(fx->dir, 30, &r, RESULTS_MAT, false, &mat, &err));
	assert_true(results_write(fx->dir, 31, &r, RESULTS_CSV, false, &csv, &err));
	assert_int_equal(stat(mat.path, &sm), 0);
	assert_int_equal(stat(csv.path, &sc), 0);
	print_message("# 1,001 points, 1 signal: MAT %lld bytes, CSV %lld bytes\n", (long long)sm.st_size,
		      (long long)sc.st_size);
	/* zlib on exact doubles: well under half the CSV (the 12 KB target needs more than zlib; see the report). */
	assert_true(sm.st_size * 3 < sc.st_size);
	store_result_free(&mat);
	store_result_free(&csv);
	result_data_free(&r);
}

/* What matio writes, uncompressed, for r: the file results_mat_layout must equal byte for byte. */
static void matio_layout(struct fx *fx, const struct result_data *r, struct buf *out)
{
	char *path = xasprintf("%s/matio.mat", fx->dir);
	size_t tdims[2] = {1, r->points}, vdims[2] = {r->signals, r->points};
	double *values = xcalloc(r->points * r->signals + 1, sizeof *values);
	mat_t *mat = Mat_CreateVer(path, "MATLAB 5.0 MAT-file, written by simq", MAT_FT_MAT5);
	matvar_t *t, *v;

	for (size_t s = 0; s < r->signals; s++)
		for (size_t i = 0; i < r->points; i++)
			values[s + i * r->signals] = r->values[s * r->points + i];
	assert_non_null(mat);
	t = Mat_VarCreate("Time", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, tdims, r->time, MAT_F_DONT_COPY_DATA);
	v = Mat_VarCreate("Values", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, vdims, values, MAT_F_DONT_COPY_DATA);
	assert_int_equal(Mat_VarWrite(mat, t, MAT_COMPRESSION_NONE), 0);
	assert_int_equal(Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE), 0);
	Mat_VarFree(t);
	Mat_VarFree(v);
	assert_int_equal(Mat_Close(mat), 0);
	FILE *fp = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	assert_non_null(fp);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(out, chunk, n);
	fclose(fp);
	unlink(path);
	free(values);
	free(path);
}

/* simq lays a MAT file out itself (then compresses it): byte for byte what matio writes, every shape. */
static void test_layout_is_matios(void **state)
{
	static const size_t shapes[][2] = {{1001, 1}, {1, 1}, {3, 2}, {50, 0}, {0, 0}, {0, 3}, {7, 5}};

	for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
		struct result_data r;
		struct buf ours = BUF_INIT, theirs = BUF_INIT;

		make_result(&r, shapes[k][0], shapes[k][1]);
		assert_true(results_mat_layout(&r, &ours));
		matio_layout(*state, &r, &theirs);
		if (ours.len != theirs.len || memcmp(ours.data, theirs.data, ours.len) != 0) {
			size_t at = 0;

			while (at < ours.len && at < theirs.len && ours.data[at] == theirs.data[at])
				at++;
			fail_msg("%zu x %zu: %zu bytes against matio's %zu, first differing at byte %zu", shapes[k][0],
				 shapes[k][1], ours.len, theirs.len, at);
		}
		buf_free(&ours);
		buf_free(&theirs);
		result_data_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mat_round_trip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_layout_is_matios, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_file_name_and_shards, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_csv_of_mat_equals_csv_written, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_csv_of_bad_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses_planted_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reusable, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_summary, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_summary_scaled, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_symlink_followed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_size_of_a_1001_point_result, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
