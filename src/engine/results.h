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
 * value).  results_csv() is the CSV simq writes, and results_csv_of_file()
 * gives any stored result as that CSV (a MAT file converted, a CSV file as
 * it is), for simq result --csv and simq.result.  Pure functions but for
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
};

/* How results are stored: [store] results_format. */
enum results_format { RESULTS_MAT, RESULTS_CSV };

struct store_result;

void result_data_free(struct result_data *r);
/* Signal's summary from its column (all zero for no points): for a result decoded without one. */
void result_summarize(const struct result_data *r, size_t signal, struct result_summary *out);

/*
 * Writes task id's result under dir (results/ of the state dir) in format and fills *out for
 * the store (free with store_result_free).  fsyncs the file when sync.  False, errno and *err
 * (heap) on failure.
 */
bool results_write(const char *dir, int64_t id, const struct result_data *r, enum results_format format, bool sync,
		   struct store_result *out, char **err);
/* Appends the CSV simq stores for r: a header "Time,sig1,...", then one line per point, %.17g numbers. */
void results_csv(const struct result_data *r, struct buf *out);
/* Reads a MAT file simq (or PLECS) wrote: Time (1 x n) and Values (signals x n).  False and *err. */
bool results_read_mat(const char *path, struct result_data *out, char **err);
/* Appends the stored result at path, of format "mat" or "csv", as CSV.  False and *err. */
bool results_csv_of_file(const char *path, const char *format, struct buf *out, char **err);

#endif
