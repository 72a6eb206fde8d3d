#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/queue.h"

/* The reference model: a plain sorted array, obviously right and slow. */
struct ref {
	int64_t id;
	uint64_t seq;
	int prio;
	int model;
};

static struct ref *refs;
static size_t nref;
static uint64_t rng = 88172645463325252ULL;

static const char *const models[] = {
	"/m/buck.plecs", "/m/rc.plecs", "/other/buck.plecs", "/m/rlc.plecs", "/m/llc.plecs",
};

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int ref_cmp(const struct ref *a, const struct ref *b)
{
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void ref_insert(struct ref r)
{
	size_t i = 0;

	while (i < nref && ref_cmp(&refs[i], &r) < 0)
		i++;
	memmove(&refs[i + 1], &refs[i], (nref - i) * sizeof *refs);
	refs[i] = r;
	nref++;
}

static void ref_delete(size_t i)
{
	memmove(&refs[i], &refs[i + 1], (nref - i - 1) * sizeof *refs);
	nref--;
}

static void check_item(const struct queue_item *it, const struct ref *r)
{
	assert_int_equal(it->id, r->id);
	assert_int_equal(it->priority, r->prio);
	assert_int_equal(it->seq, r->seq);
	assert_string_equal(it->model, models[r->model]);
}

static void check_page(struct queue *q, size_t offset, size_t limit)
{
	struct queue_item items[64];
	size_t n = queue_page(q, offset, limit, items);
	size_t want = offset >= nref ? 0 : (nref - offset < limit ? nref - offset : limit);

	assert_int_equal(n, want);
	for (size_t i = 0; i < n; i++)
		check_item(&items[i], &refs[offset + i]);
}

static void check_batch(struct queue *q, size_t k)
{
	struct queue_item items[32];
	size_t n = queue_batch(q, k, items), want = 0;

	for (size_t i = 0; nref > 0 && i < nref && want < k; i++) {
		if (refs[i].model != refs[0].model || refs[i].prio > refs[0].prio + 1)
			continue;
		assert_true(want < n);
		check_item(&items[want], &refs[i]);
		want++;
	}
	assert_int_equal(n, want);
}

static void check_all(struct queue *q)
{
	assert_int_equal(queue_size(q), nref);
	for (size_t off = 0; off < nref; off += 50)
		check_page(q, off, 50);
	for (size_t i = 0; i < nref; i++)
		assert_int_equal(queue_position(q, refs[i].id), (int64_t)i);
}

static void check_counts(struct queue *q)
{
	size_t per[PRIO_COUNT] = {0};

	for (size_t i = 0; i < nref; i++)
		per[refs[i].prio]++;
	for (int p = 0; p < PRIO_COUNT; p++)
		assert_int_equal(queue_count(q, (enum task_priority)p), per[p]);
	assert_int_equal(queue_size(q), nref);
}

/* One random operation on both the queue and the reference, then spot checks. */
static void random_op(struct queue *q, int64_t *next_id, unsigned grow_bias)
{
	unsigned op = (unsigned)(next_rand() % 100);
	struct queue_item it;

	if (op < grow_bias || nref == 0) {
		struct ref r = {.id = *next_id, .seq = (uint64_t)*next_id, .prio = (int)(next_rand() % PRIO_COUNT),
				.model = (int)(next_rand() % 5)};

		(*next_id)++;
		assert_true(queue_push(q, r.id, r.seq, (enum task_priority)r.prio, models[r.model]));
		ref_insert(r);
	} else if (op < grow_bias + 15) {
		assert_true(queue_pop(q, &it));
		assert_int_equal(it.id, refs[0].id);
		assert_null(it.model);
		ref_delete(0);
	} else if (op < grow_bias + 30) {
		size_t i = next_rand() % nref;

		assert_true(queue_remove(q, refs[i].id, &it));
		assert_int_equal(it.id, refs[i].id);
		ref_delete(i);
	} else if (op < grow_bias + 45) {
		size_t i = next_rand() % nref;
		struct ref r = refs[i];

		r.prio = (int)(next_rand() % PRIO_COUNT);
		assert_true(queue_reprioritize(q, r.id, (enum task_priority)r.prio));
		ref_delete(i);
		ref_insert(r);
	} else if (op < grow_bias + 48) {
		/* Operations on ids that are not queued change nothing. */
		assert_false(queue_remove(q, *next_id + 5, NULL));
		assert_false(queue_reprioritize(q, -3, PRIO_LOW));
		assert_int_equal(queue_position(q, *next_id + 1), -1);
		assert_false(queue_push(q, refs[0].id, 1, PRIO_LOW, models[0]));
	} else {
		size_t i = next_rand() % nref;

		assert_true(queue_get(q, refs[i].id, &it));
		check_item(&it, &refs[i]);
	}
	check_counts(q);
	if (nref) {
		size_t i = next_rand() % nref;

		assert_true(queue_head(q, &it));
		check_item(&it, &refs[0]);
		assert_int_equal(queue_position(q, refs[i].id), (int64_t)i);
		check_page(q, next_rand() % (nref + 10), 1 + next_rand() % 50);
		check_batch(q, 1 + next_rand() % 20);
	} else {
		assert_false(queue_head(q, &it));
		assert_false(queue_pop(q, &it));
		assert_int_equal(queue_batch(q, 5, NULL), 0);
	}
}

/* 100,000 random operations around a small queue, checked after every one. */
static void test_random_operations_match_reference(void **state)
{
	struct queue *q = queue_new();
	int64_t next_id = 1;

	refs = calloc(200000, sizeof *refs);
	nref = 0;
	for (int i = 0; i < 100000; i++) {
		random_op(q, &next_id, nref < 300 ? 60 : 40);
		if (i % 10000 == 0)
			check_all(q);
	}
	check_all(q);
	queue_free(&q);
	assert_null(q);
	free(refs);
}

/* Grow to 30,000 (inner nodes split), then drain (leaves merge, the root collapses). */
static void test_grow_and_drain_deep_tree(void **state)
{
	struct queue *q = queue_new();
	int64_t next_id = 1;

	refs = calloc(200000, sizeof *refs);
	nref = 0;
	while (nref < 30000)
		random_op(q, &next_id, 90);
	check_all(q);
	size_t bytes = queue_memory(q);

	assert_true(bytes > 30000 * 40);
	while (nref > 0)
		random_op(q, &next_id, 5);
	check_all(q);
	assert_int_equal(queue_size(q), 0);
	queue_free(&q);
	free(refs);
}

static void test_batch_rules(void **state)
{
	struct queue *q = queue_new();
	struct queue_item it[8];

	/* head: HIGH buck; same model NORMAL joins, LOW does not; another model never. */
	queue_push(q, 1, 1, PRIO_NORMAL, "/a/buck.plecs");
	queue_push(q, 2, 2, PRIO_HIGH, "/a/buck.plecs");
	queue_push(q, 3, 3, PRIO_LOW, "/a/buck.plecs");
	queue_push(q, 4, 4, PRIO_HIGH, "/b/buck.plecs");
	queue_push(q, 5, 5, PRIO_NORMAL, "/a/buck.plecs");
	assert_int_equal(queue_batch(q, 8, it), 3);
	assert_int_equal(it[0].id, 2);
	assert_int_equal(it[1].id, 1);
	assert_int_equal(it[2].id, 5);
	assert_int_equal(queue_batch(q, 2, it), 2);
	/* Reprioritizing keeps submission order within the new level. */
	assert_true(queue_reprioritize(q, 5, PRIO_HIGH));
	assert_int_equal(queue_page(q, 0, 8, it), 5);
	assert_int_equal(it[0].id, 2);
	assert_int_equal(it[1].id, 4);
	assert_int_equal(it[2].id, 5);
	assert_int_equal(it[3].id, 1);
	assert_int_equal(it[4].id, 3);
	queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_rules),
		cmocka_unit_test(test_random_operations_match_reference),
		cmocka_unit_test(test_grow_and_drain_deep_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
