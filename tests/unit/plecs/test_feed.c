/*
 * Unit tests for plecs/feed: an answer put piece by piece from this thread and decoded on the
 * feeds' threads, handed over once it is whole and carries results, never when it is a fault.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "plecs/feed.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* What the callbacks saw, in order. */
struct seen {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int handed, done;
	bool done_after_handed;
};

static void on_handed(void *ud)
{
	struct seen *s = ud;

	pthread_mutex_lock(&s->lock);
	s->handed++;
	pthread_mutex_unlock(&s->lock);
}

static void on_done(void *ud)
{
	struct seen *s = ud;

	pthread_mutex_lock(&s->lock);
	s->done++;
	s->done_after_handed = s->handed == 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void wait_done(struct seen *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->done == 0)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

/* A Plain answer of one case, points points of one signal: Time i / 7, Values i * 1.1 (about 50 bytes a number). */
static char *plain_answer(size_t points)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><struct><member><name>Time</name>"
		     "<value><array><data>");
	for (size_t i = 0; i < points; i++)
		buf_addf(&b, "<value><double>%.17g</double></value>", (double)i / 7);
	buf_adds(&b, "</data></array></value></member><member><name>Values</name><value><array><data><value><array><data>");
	for (size_t i = 0; i < points; i++)
		buf_addf(&b, "<value><double>%.17g</double></value>", (double)i * 1.1);
	buf_adds(&b, "</data></array></value></data></array></value></member></struct></value></param></params>"
		     "</methodResponse>\n");
	return buf_detach(&b);
}

/* Puts xml in pieces of 16 KB, as libcurl hands them over; false once the feed refused one. */
static bool put_all(struct feed *f, const char *xml, size_t len)
{
	for (size_t off = 0; off < len;) {
		size_t k = len - off > 16384 ? 16384 : len - off;

		if (!feed_put(f, xml + off, k))
			return false;
		off += k;
	}
	return true;
}

static struct seen *seen_new(void)
{
	struct seen *s = xcalloc(1, sizeof *s);

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	return s;
}

static void seen_free(struct seen *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/*
 * A whole answer with results goes on alone: done() comes after handed(), once, with every number
 * exact.  A decoder that caught up before the close finishes it there (FEED_DECODED, no callback);
 * on threads that run side by side that is rare, so of 20 answers at least one is handed.
 */
static void test_results_handed(void **state)
{
	struct feeds *fs = feeds_new(2);
	char *xml = plain_answer(20000);
	int handed_runs = 0;

	assert_non_null(fs);
	for (int run = 0; run < 20; run++) {
		struct seen *s = seen_new();
		struct plecs_answer *a = plecs_answer_new(1, false);
		int interrupt = 0;
		struct feed *f = feed_open(fs, a, &interrupt, on_done, s);

		assert_true(put_all(f, xml, strlen(xml)));
		enum feed_close how = feed_close(f, true, on_handed, s);

		if (how == FEED_HANDED) {
			wait_done(s);
			handed_runs++;
			assert_true(s->done_after_handed);
		}
		assert_int_equal(s->handed, how == FEED_HANDED);
		assert_int_equal(s->done, how == FEED_HANDED);
		assert_false(feed_refused(f));
		assert_false(feed_stopped(f));
		assert_int_equal(feed_end(f), PLECS_ANSWER_RESULTS);
		struct result_data *r = plecs_answer_take(a);

		assert_int_equal(r[0].points, 20000);
		assert_int_equal(r[0].signals, 1);
		for (size_t i = 0; i < 20000; i += 997)
			assert_true(r[0].time[i] == (double)i / 7 && r[0].values[i] == (double)i * 1.1);
		result_data_free(&r[0]);
		free(r);
		feed_free(&f);
		plecs_answer_free(&a);
		seen_free(s);
	}
	assert_true(handed_runs > 0);
	feeds_free(&fs);
	free(xml);
}

/* A fault is never handed: the worker must read it (to load the model and ask again). */
static void test_fault_stays(void **state)
{
	struct feeds *fs = feeds_new(1);
	struct seen *s = seen_new();
	struct plecs_answer *a = plecs_answer_new(1, false);
	int interrupt = 0;
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\"?>\n<methodResponse><fault><value><struct><member><name>faultCode</name>"
		     "<value><int>1</int></value></member><member><name>faultString</name><value><string>");
	for (int i = 0; i < 5000; i++)
		buf_adds(&b, "Model 'rc' is not loaded. ");
	buf_adds(&b, "</string></value></member></struct></value></fault></methodResponse>\n");
	struct feed *f = feed_open(fs, a, &interrupt, on_done, s);

	assert_true(put_all(f, buf_str(&b), b.len));
	assert_int_equal(feed_close(f, true, on_handed, s), FEED_DECODED);
	assert_int_equal(s->handed, 0);
	assert_int_equal(s->done, 0);
	assert_int_equal(feed_end(f), PLECS_ANSWER_FAULT);
	assert_non_null(strstr(plecs_answer_error(a), "is not loaded"));
	feed_free(&f);
	plecs_answer_free(&a);
	feeds_free(&fs);
	buf_free(&b);
	seen_free(s);
}

/* An answer refused after it was handed over says so in done(); the decoder's error says why. */
static void test_refused_after_handover(void **state)
{
	struct feeds *fs = feeds_new(1);
	struct seen *s = seen_new();
	struct plecs_answer *a = plecs_answer_new(1, false);
	int interrupt = 0;
	char *xml = plain_answer(5000);
	char *bad = strstr(xml, "</data></array></value></member><member><name>Values");

	assert_non_null(bad);
	memcpy(bad, "<data>", 6); /* a <data> where its </data> belongs */
	struct feed *f = feed_open(fs, a, &interrupt, on_done, s);

	put_all(f, xml, strlen(xml));
	/* The refusal may come before the close (then nothing is handed) or after it. */
	enum feed_close how = feed_close(f, true, on_handed, s);

	if (how == FEED_HANDED)
		wait_done(s);
	assert_true(feed_refused(f));
	assert_int_equal(s->done, how == FEED_HANDED);
	assert_non_null(strstr(plecs_answer_error(a), "<data>"));
	feed_free(&f);
	plecs_answer_free(&a);
	feeds_free(&fs);
	free(xml);
	seen_free(s);
}

/* An answer cut short is neither finished nor handed; an interrupted one stops at the next piece. */
static void test_cut_and_interrupted(void **state)
{
	struct feeds *fs = feeds_new(1);
	struct seen *s = seen_new();
	struct plecs_answer *a = plecs_answer_new(1, false);
	int interrupt = 0;
	char *xml = plain_answer(5000);
	size_t len = strlen(xml);
	struct feed *f = feed_open(fs, a, &interrupt, on_done, s);

	assert_true(put_all(f, xml, len / 2));
	assert_int_equal(feed_close(f, false, on_handed, s), FEED_DECODED);
	assert_false(feed_refused(f));
	assert_int_equal(s->handed + s->done, 0);
	feed_free(&f);
	plecs_answer_free(&a);

	a = plecs_answer_new(1, false);
	f = feed_open(fs, a, &interrupt, on_done, s);
	__atomic_store_n(&interrupt, 1, __ATOMIC_RELAXED);
	/* The decoder sees the flag at its first piece and lets go: puts fail from then on. */
	bool refused = false;

	for (int i = 0; i < 10000 && !refused; i++) {
		refused = !feed_put(f, xml, 64);
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	assert_true(refused);
	assert_int_equal(feed_close(f, true, on_handed, s), FEED_DECODED);
	assert_true(feed_stopped(f));
	assert_false(feed_refused(f));
	assert_int_equal(s->handed + s->done, 0);
	feed_free(&f);
	plecs_answer_free(&a);
	feeds_free(&fs);
	free(xml);
	seen_free(s);
}

/* An answer of points of one value, longer than a feed holds (FEED_MAX_LAG), made fast. */
static char *long_answer(void)
{
	static const char point[] = "<value><double>0.14285714285714285</double></value>";
	size_t points = FEED_MAX_LAG / (sizeof point - 1) / 2 + 1000;
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><struct><member><name>Time</name>"
		     "<value><array><data>");
	for (size_t i = 0; i < points; i++)
		buf_add(&b, point, sizeof point - 1);
	buf_adds(&b, "</data></array></value></member><member><name>Values</name><value><array><data>"
		     "<value><array><data>");
	for (size_t i = 0; i < points; i++)
		buf_add(&b, point, sizeof point - 1);
	buf_adds(&b, "</data></array></value></data></array></value></member></struct></value></param></params>"
		     "</methodResponse>\n");
	return buf_detach(&b);
}

/*
 * Stopping the decoders ends every handed feed with done(), decoded or stopped: none is lost.  Each
 * answer is longer than a feed holds, so its last puts wait until a decoder has read its first
 * pieces (and seen its results begin): each is handed, however fast the decoder runs.
 */
static void test_stop_ends_handed(void **state)
{
	struct feeds *fs = feeds_new(2);
	struct seen *s[3];
	struct plecs_answer *a[3];
	struct feed *f[3];
	int interrupt = 0;
	char *xml = long_answer();

	for (int i = 0; i < 3; i++) {
		s[i] = seen_new();
		a[i] = plecs_answer_new(1, false);
		f[i] = feed_open(fs, a[i], &interrupt, on_done, s[i]);
	}
	/* The third waits for a decoder: it is handed once its first pieces are read. */
	for (int i = 0; i < 3; i++) {
		assert_true(put_all(f[i], xml, strlen(xml)));
		assert_int_equal(feed_close(f[i], true, on_handed, s[i]), FEED_HANDED);
	}
	feeds_free(&fs);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s[i]->done, 1);
		assert_true(feed_stopped(f[i]) || feed_end(f[i]) == PLECS_ANSWER_RESULTS);
		if (!feed_stopped(f[i])) {
			struct result_data *r = plecs_answer_take(a[i]);

			result_data_free(&r[0]);
			free(r);
		}
		feed_free(&f[i]);
		plecs_answer_free(&a[i]);
		seen_free(s[i]);
	}
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_handed),
		cmocka_unit_test(test_fault_stays),
		cmocka_unit_test(test_refused_after_handover),
		cmocka_unit_test(test_cut_and_interrupted),
		cmocka_unit_test(test_stop_ends_handed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
