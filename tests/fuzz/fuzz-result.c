/*
 * libFuzzer target: what PLECS sends back.  The input is decoded as the
 * answer to plecs.simulate (plecs/answer.c) for one case and for a list of
 * three, fed whole and fed in pieces of two sizes, and decoded as MAT bytes.
 * Nothing may crash or leak, whatever a broken server sends; and the
 * decoder must not depend on where the pieces break (the same outcome, the
 * same error, the same numbers bit for bit) and its running summaries must
 * equal result_summarize's.
 */
#include "autoconf.h"

#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plecs/answer.h"
#include "plecs/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes data for ncases cases, in pieces of at most piece bytes; *end says what it was. */
static struct plecs_answer *decode(const uint8_t *data, size_t size, size_t ncases, bool as_list, size_t piece,
				   enum plecs_answer_end *end)
{
	struct plecs_answer *a = plecs_answer_new(ncases, as_list);

	for (size_t off = 0; off < size;) {
		size_t n = size - off < piece ? size - off : piece;

		if (!plecs_answer_feed(a, (const char *)data + off, n))
			break;
		off += n;
	}
	*end = plecs_answer_finish(a);
	return a;
}

static void same_or_abort(bool same, const char *what)
{
	if (!same) {
		fprintf(stderr, "fuzz-result: fed whole and in pieces, the answer differs in %s\n", what);
		abort();
	}
}

/* One case's result as two feeds gave it: equal in every field and number. */
static void same_result(const struct result_data *x, const struct result_data *y)
{
	same_or_abort((x->error == NULL) == (y->error == NULL) && (!x->error || strcmp(x->error, y->error) == 0),
		      "a case's error");
	if (x->error)
		return;
	same_or_abort(x->points == y->points && x->signals == y->signals && x->mat_len == y->mat_len, "its shape");
	same_or_abort(memcmp(x->time, y->time, x->points * sizeof *x->time) == 0, "Time");
	same_or_abort(memcmp(x->values, y->values, x->points * x->signals * sizeof *x->values) == 0, "Values");
	same_or_abort(x->summary != NULL, "a summary (missing)");
	for (size_t s = 0; s < x->signals; s++) {
		struct result_summary m;

		result_summarize(x, s, &m);
		same_or_abort(memcmp(&m, &x->summary[s], sizeof m) == 0, "a summary (not result_summarize's)");
	}
}

/* Whether an error is one of expat's own, which may differ with the pieces (after the root element, say). */
static bool expat_error(const char *error)
{
	for (int code = 1; code < 64; code++) {
		const XML_LChar *text = XML_ErrorString((enum XML_Error)code);

		if (text && strstr(error, text))
			return true;
	}
	return false;
}

/*
 * Two decodes of the same input: the same outcome, and the same error, its byte included, unless
 * expat found it (where expat's errors depend on the pieces) or a NUL byte is in the input (which a
 * piece is searched for before it is read).
 */
static void same_end(struct plecs_answer *x, enum plecs_answer_end x_end, struct plecs_answer *y,
		     enum plecs_answer_end y_end, bool nul)
{
	const char *ex = plecs_answer_error(x), *ey = plecs_answer_error(y);

	same_or_abort(x_end == y_end, "its outcome");
	if (x_end == PLECS_ANSWER_FAULT || (x_end == PLECS_ANSWER_BROKEN && !nul && !expat_error(ex) && !expat_error(ey)))
		same_or_abort(strcmp(ex, ey) == 0, "its error");
}

/*
 * Whole; in pieces of 1 to 13 bytes, from the input's length (every boundary gets its turn, and no
 * piece holds a whole "<value><double>N</double></value>", so expat reads every number); and in
 * pieces of 40 to 135 bytes (read_points's items cut at every place).
 */
static void both_ways(const uint8_t *data, size_t size, size_t ncases, bool as_list)
{
	enum plecs_answer_end whole_end, split_end, mid_end;
	bool nul = memchr(data, '\0', size) != NULL;
	struct plecs_answer *whole = decode(data, size, ncases, as_list, size ? size : 1, &whole_end);
	struct plecs_answer *split = decode(data, size, ncases, as_list, 1 + size % 13, &split_end);
	struct plecs_answer *mid = decode(data, size, ncases, as_list, 40 + size % 96, &mid_end);

	same_end(whole, whole_end, split, split_end, nul);
	same_end(mid, mid_end, split, split_end, nul);
	if (whole_end == PLECS_ANSWER_RESULTS) {
		struct result_data *x = plecs_answer_take(whole), *y = plecs_answer_take(split), *z = plecs_answer_take(mid);

		for (size_t i = 0; i < ncases; i++) {
			same_result(&x[i], &y[i]);
			same_result(&z[i], &y[i]);
			result_data_free(&x[i]);
			result_data_free(&y[i]);
			result_data_free(&z[i]);
		}
		free(x);
		free(y);
		free(z);
	}
	plecs_answer_free(&whole);
	plecs_answer_free(&split);
	plecs_answer_free(&mid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result_data r = {0};
	char *err = NULL;

	both_ways(data, size, 1, false);
	both_ways(data, size, 3, true);
	if (plecs_decode_mat(data, size, &r, &err))
		result_data_free(&r);
	free(err);
	return 0;
}
