/*
 * results — a decoded result, its per-signal summary, and its file under
 * results/ (DESIGN 7, 17).
 *
 * src/plecs/ decodes PLECS's answer into a struct result_data (columns of
 * doubles, and the MAT bytes as PLECS sent them when it answered MatFile);
 * results_write() stores it as task 12345's results/123/12345.csv or .mat,
 * written to a temporary name and renamed, and describes it for the store
 * (path, format, counts, a JSON summary of each signal's min, max, mean and
 * RMS).  Pure functions but for the file they write; any thread.
 */
#ifndef SIMQ_ENGINE_RESULTS_H
#define SIMQ_ENGINE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct result_data {
	size_t points;
	size_t signals;
	double *time;           /* points */
	double *values;         /* signals rows of points: values[s * points + i] */
	unsigned char *mat;     /* the MAT v5 bytes PLECS sent (MatFile), or NULL (Plain) */
	size_t mat_len;
	struct result_summary *summary; /* signals entries computed while decoding (plecs/), or NULL:
					   result_summarize then */
	char *error;            /* why this case has no usable result, or NULL */
};

struct result_summary {
	double min, max, mean, rms, final; /* final: the last point's value */
};

struct store_result;

void result_data_free(struct result_data *r);
/* Signal's summary from its column (all zero for no points): for a result decoded without one. */
void result_summarize(const struct result_data *r, size_t signal, struct result_summary *out);

/*
 * Writes task id's result under dir (results/ of the state dir) and fills *out for the store
 * (free with store_result_free).  fsyncs the file when sync.  False and *err (heap) on failure.
 */
bool results_write(const char *dir, int64_t id, const struct result_data *r, bool sync, struct store_result *out,
		   char **err);

#endif
