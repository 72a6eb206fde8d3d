/*
 * results — a decoded result, its per-signal summary, and its file under
 * results/ (DESIGN 7, 17).
 *
 * src/plecs/ decodes PLECS's answer, Plain or MatFile, into a struct
 * result_data (columns of doubles).  results_write() stores it once as task
 * 12345's results/123/12345.mat — a compressed MAT v5 file written by
 * matio, holding Time (1 x points) and Values (signals x points), the
 * variables and shapes of PLECS's own MatFile output — or, with
 * results_format = csv, as results/123/12345.csv; either is written to a
 * temporary name and renamed, and described for the store (path, format,
 * counts, a JSON summary of each signal's min, max, mean, RMS and final
 * value, a figure that is not finite as the text "inf", "-inf" or "nan").
 * results_csv() is the CSV simq writes, and results_csv_of_file() gives
 * any stored result as that CSV (a MAT file converted, a CSV file as
 * it is), checked, for simq result --csv and simq.result.  A file may be
 * named by several results rows: a task completed from the result cache
 * (engine/cache.h) reuses the file of the task that ran (its row's source)
 * and has no file of its own, so a file may go only when no row names its
 * path.  Pure functions but for
 * the files they read and write; any thread (engine/writer.h runs
 * results_write on its own).
 */
#ifndef SIMQ_ENGINE_RESULTS_H
#define SIMQ_ENGINE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

struct result_summary {
	double min, max, mean, rms, final;
};

struct result_data {
	size_t points;
	size_t signals;
	double *time;           /* points */
	double *values;         /* signals rows of points: values[s * points + i] */
	unsigned char *mat;     /* the MAT v5 bytes PLECS sent (MatFile), or NULL (Plain); not stored as such */
	size_t mat_len;
	struct result_summary *summary; /* signals entries computed while decoding (plecs/), or NULL:
					   result_summarize then */
	char *error;            /* why this case has no usable result, or NULL */
	bool permanent;         /* error is in what PLECS computed for the case (a number that is not finite):
				   the case's own, as running it again answers the same (DESIGN 6) */
};

/* How results are stored: [store] results_format. */
enum results_format { RESULTS_MAT, RESULTS_CSV };

struct store_result;

void result_data_free(struct result_data *r);
/*
 * Fills out from a MAT file's Time (points, ownership taken) and Values (signals x points,
 * column-major as MAT keeps it: Values(s, i) at s + i * signals; copied into signal rows).
 */
void result_data_from_mat(struct result_data *out, double *time, size_t points, const double *values, size_t signals);
/* Signal's summary from its column (all zero for no points): for a result decoded without one. */
void result_summarize(const struct result_data *r, size_t signal, struct result_summary *out);
/*
 * Ends a summary summed as v's n numbers came (min, max and final set; mean and rms holding the sum
 * and the sum of squares, in v's order): the mean and RMS, summed again scaled by the largest |v|
 * when a plain sum overflowed or the squares underflowed, so a finite column has finite figures.
 * result_summarize and the decoder (plecs/answer.c) both end with it, so they agree bit for bit.
 */
void result_summary_finish(struct result_summary *s, const double *v, size_t n);

/*
 * Writes task id's result under dir (results/ of the state dir) in format and fills *out for
 * the store (free with store_result_free).  fsyncs the file when sync.  False, errno and *err
 * (heap) on failure.
 */
bool results_write(const char *dir, int64_t id, const struct result_data *r, enum results_format format, bool sync,
		   struct store_result *out, char **err);
/*
 * Appends r's MAT v5 file, uncompressed, as results_write lays it out before compressing each
 * variable (and as matio writes it); false if r is too large for MAT v5.
 */
bool results_mat_layout(const struct result_data *r, struct buf *out);
/* Lets go of what results_write keeps for the calling thread (its compressors and buffer); a thread's end does it too. */
void results_thread_end(void);
/* Appends the CSV simq stores for r: a header "Time,sig1,...", then one line per point, %.17g numbers. */
void results_csv(const struct result_data *r, struct buf *out);
/* results_csv in parts: the header line, and the lines of points from to to - 1. */
void results_csv_head(const struct result_data *r, struct buf *out);
void results_csv_rows(const struct result_data *r, size_t from, size_t to, struct buf *out);
/* Reads a MAT file simq (or PLECS) wrote: Time (1 x n) and Values (signals x n).  False and *err. */
bool results_read_mat(const char *path, struct result_data *out, char **err);

/*
 * Reading a stored result back (results-read.c).  results/ should hold only what simq wrote, but
 * the server reads it as the state dir's owner: a file is opened without following a symlink (nor
 * its shard folder), must be a regular file no larger than r's points and signals could make it,
 * and must hold r's points and signals (and, as CSV, only text); anything else is an error naming
 * the path, never served.  The file opened and checked is the one read (matio reads it through
 * /proc/self/fd).  Any thread.
 */
/* Whether r's file is there and may be read (cheap: open and fstat).  False, errno and *err (heap). */
bool results_check(const struct store_result *r, char **err);
/*
 * Whether r's file may be reused by the cache (cheap: open, fstat, two small reads): results_check,
 * its size the one written (when known), a MAT v5 header or a CSV that begins with simq's header
 * line and ends with a whole line.  False, errno (ENOENT: gone; EINVAL: damaged) and *err (heap).
 */
bool results_reusable(const struct store_result *r, char **err);
/*
 * Appends r's file as CSV (a MAT file converted, a CSV file as stored); with max > 0, fails with
 * errno EFBIG once the CSV would be longer than max bytes.  False, errno and *err (heap).
 */
bool results_csv_of_file(const struct store_result *r, size_t max, struct buf *out, char **err);
/*
 * r's result back as columns (out, free with result_data_free), read as results_csv_of_file reads it,
 * bit for bit as stored; with raw, a MAT file's bytes as well (appended).  False, errno and *err.
 */
bool results_read_stored(const struct store_result *r, struct result_data *out, struct buf *raw, char **err);

#endif
