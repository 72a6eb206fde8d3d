#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "util/idmap.h"

/* Random puts and removes against a direct-indexed array. */
static void test_matches_an_array_under_churn(void **state)
{
	enum { N = 5000 };
	static intptr_t ref[N];
	struct idmap m = IDMAP_INIT;
	uint64_t x = 12345;
	size_t size = 0;

	for (int i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		int64_t id = (int64_t)(x >> 33) % (N - 1) + 1;

		if ((x >> 20) & 1) {
			size += ref[id] == 0;
			ref[id] = i + 1;
			idmap_put(&m, id, (void *)(intptr_t)(i + 1));
		} else {
			void *v = idmap_remove(&m, id);

			assert_int_equal((intptr_t)v, ref[id]);
			size -= ref[id] != 0;
			ref[id] = 0;
		}
		assert_int_equal(m.size, size);
	}
	for (int64_t id = 1; id < N; id++)
		assert_int_equal((intptr_t)idmap_get(&m, id), ref[id]);
	assert_true(idmap_memory(&m) > 0);
	idmap_free(&m);
	assert_null(idmap_get(&m, 1));
	assert_null(idmap_remove(&m, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_an_array_under_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
