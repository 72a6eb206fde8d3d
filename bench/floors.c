/*
 * bench/floors: what issue 16's targets rest on, measured on the answer the
 * realistic row gets (one rc.plecs case, 1,001 points, one signal), in the
 * same run as that row.  Not simq's cost but the floor under it:
 *  - expat reading the answer with no handlers at all: what a decoder that
 *    gives every byte to expat spends at least (simq's reads the numbers of a
 *    column without it, so it is no floor of simq's);
 *  - simq's decoder (plecs/answer.c) on the same bytes;
 *  - libdeflate at level 12, its tightest, over the result's doubles alone,
 *    with no MAT header or tag: the least a MAT v5 file (whose only
 *    compression is zlib's deflate) can hold them in; next to it the MAT
 *    file simq stores for them.
 */
#include "autoconf.h"

#include "bench/floors.h"

#include <curl/curl.h>
#include <expat.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/results.h"
#include "engine/store.h"
#include "plecs/answer.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

#define PARSES 300

static size_t keep(char *ptr, size_t size, size_t n, void *ud)
{
	buf_add(ud, ptr, size * n);
	return size * n;
}

/* The answer to one XML-RPC call (body) at url, whole; exits on failure. */
static void post(const char *url, const char *body, struct buf *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/xml");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(c) != CURLE_OK) {
		fprintf(stderr, "bench/floors: no answer from %s\n", url);
		exit(1);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ms of PARSES runs of f over the answer. */
static double timed(void (*f)(const struct buf *), const struct buf *answer)
{
	double ms[PARSES];

	for (int i = 0; i < PARSES; i++) {
		int64_t t0 = time_mono_ns();

		f(answer);
		ms[i] = (double)(time_mono_ns() - t0) / 1e6;
	}
	qsort(ms, PARSES, sizeof ms[0], by_value);
	return ms[PARSES / 2];
}

static void expat_bare(const struct buf *answer)
{
	XML_Parser p = XML_ParserCreate(NULL);

	if (XML_Parse(p, answer->data, (int)answer->len, XML_TRUE) != XML_STATUS_OK) {
		fprintf(stderr, "bench/floors: expat refused the answer: %s\n", XML_ErrorString(XML_GetErrorCode(p)));
		exit(1);
	}
	XML_ParserFree(p);
}

static struct result_data *decode(const struct buf *answer)
{
	struct plecs_answer *a = plecs_answer_new(1, false);
	struct result_data *r = NULL;

	if (plecs_answer_feed(a, answer->data, answer->len) && plecs_answer_finish(a) == PLECS_ANSWER_RESULTS)
		r = plecs_answer_take(a);
	if (r == NULL || r[0].error) {
		fprintf(stderr, "bench/floors: simq's decoder refused the answer: %s\n",
			r ? r[0].error : plecs_answer_error(a));
		exit(1);
	}
	plecs_answer_free(&a);
	return r;
}

static void decode_and_free(const struct buf *answer)
{
	struct result_data *r = decode(answer);

	result_data_free(&r[0]);
	free(r);
}

/* libdeflate -12 over n doubles: the bytes of the zlib stream alone. */
static size_t deflated(const double *v, size_t n)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(12);
	size_t bound = c ? libdeflate_zlib_compress_bound(c, n * sizeof *v) : 0;
	unsigned char *out = xmalloc(bound + 1);
	size_t len = c ? libdeflate_zlib_compress(c, v, n * sizeof *v, out, bound) : 0;

	if (len == 0) {
		fprintf(stderr, "bench/floors: libdeflate failed\n");
		exit(1);
	}
	libdeflate_free_compressor(c);
	free(out);
	return len;
}

/* The MAT file simq writes for r (results_write, as the writer thread does): its size. */
static size_t stored_mat(const struct result_data *r)
{
	char dir[] = "/tmp/simq-bench-floors.XXXXXX", *err = NULL; /* XXXXXX: mkdtemp's template */
	struct store_result stored = {0};
	size_t bytes = 0;
	struct stat st;

	if (mkdtemp(dir) == NULL || !results_write(dir, 1, r, RESULTS_MAT, false, &stored, &err)) {
		fprintf(stderr, "bench/floors: cannot write the MAT file: %s\n", err ? err : "mkdtemp failed");
		exit(1);
	}
	if (stat(stored.path, &st) == 0)
		bytes = (size_t)st.st_size;
	char *rm = xasprintf("rm -rf '%s'", dir);

	if (system(rm) != 0)
		fprintf(stderr, "bench/floors: could not remove %s\n", dir);
	free(rm);
	store_result_free(&stored);
	return bytes;
}

void bench_floors(const char *url, const char *model, double cpu_ms, double stored_kb)
{
	struct buf answer = BUF_INIT, load = BUF_INIT, body = BUF_INIT;

	buf_addf(&body, "<?xml version=\"1.0\"?><methodCall><methodName>plecs.load</methodName><params><param>"
		 "<value><string>%s</string></value></param></params></methodCall>", model);
	post(url, buf_str(&body), &load);
	post(url, "<?xml version=\"1.0\"?><methodCall><methodName>plecs.simulate</methodName><params><param>"
		  "<value><string>rc</string></value></param></params></methodCall>", &answer);

	double bare = timed(expat_bare, &answer), ours = timed(decode_and_free, &answer);
	struct result_data *r = decode(&answer);
	size_t zlib = deflated(r[0].time, r[0].points) + deflated(r[0].values, r[0].points * r[0].signals);
	size_t mat = stored_mat(&r[0]);

	printf("\nFloors under those targets, on one answer of that row (%zu bytes of XML, %zu points, %zu signal%s):\n",
	       answer.len, r[0].points, r[0].signals, r[0].signals == 1 ? "" : "s");
	printf("%-46s %9.3fms %10s %8.2fx  (simq's decoder reads numbers without it)\n",
	       "  expat alone, no handlers", bare, "<=0.5ms", 0.5 / bare);
	printf("%-46s %9.3fms %10s %8.2fx  (all of it: %.3fms)\n", "  simq's decoder (expat + numbers + summary)", ours,
	       "<=0.5ms", 0.5 / ours, cpu_ms);
	printf("%-46s %9.1fKB %10s %8.2fx  of any zlib MAT v5\n", "  libdeflate -12 of the doubles, no headers",
	       (double)zlib / 1024, "<=12KB", 12.0 / ((double)zlib / 1024));
	printf("%-46s %9.1fKB %10s %8.2fx  (per result in the row: %.1fKB)\n", "  the MAT file simq stores for it",
	       (double)mat / 1024, "<=12KB", 12.0 / ((double)mat / 1024), stored_kb);
	result_data_free(&r[0]);
	free(r);
	buf_free(&answer);
	buf_free(&load);
	buf_free(&body);
}
