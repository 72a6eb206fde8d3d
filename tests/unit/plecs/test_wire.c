#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plecs/wire.h"
#include "util/xalloc.h"

/* Reads tests/fuzz/corpus/result/name from the source tree. */
static unsigned char *corpus(const char *name, size_t *len)
{
	char *path = xasprintf("%s/tests/fuzz/corpus/result/%s", getenv("SIMQ_SRCDIR"), name);
	FILE *fp = fopen(path, "rb");
	unsigned char *b;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	rewind(fp);
	b = xmalloc(*len);
	assert_int_equal(fread(b, 1, *len, fp), *len);
	fclose(fp);
	free(path);
	return b;
}

/* A MAT file plecs-emu wrote decodes to Time rising and finite Values. */
static void test_good_mat_decodes(void **state)
{
	size_t len;
	unsigned char *b = corpus("result.mat", &len);
	struct result_data r = {0};
	char *err = NULL;

	(void)state;
	assert_true(plecs_decode_mat(b, len, &r, &err));
	assert_null(err);
	assert_true(r.points > 1);
	assert_true(r.signals >= 1);
	for (size_t i = 1; i < r.points; i++)
		assert_true(r.time[i] > r.time[i - 1]);
	/* Each signal's summary comes with it, as result_summarize has it. */
	assert_non_null(r.summary);
	for (size_t s = 0; s < r.signals; s++) {
		struct result_summary m;

		result_summarize(&r, s, &m);
		assert_memory_equal(&m, &r.summary[s], sizeof m);
		assert_true(m.min <= m.final && m.final <= m.max);
		assert_true(memcmp(&m.final, &r.values[s * r.points + r.points - 1], sizeof m.final) == 0);
	}
	result_data_free(&r);
	free(b);
}

static void expect_rejected(const unsigned char *b, size_t len, const char *why)
{
	struct result_data r = {0};
	char *err = NULL;

	assert_false(plecs_decode_mat(b, len, &r, &err));
	assert_non_null(err);
	if (strstr(err, why) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", why, err);
	free(err);
}

/*
 * A header that declares a 4 GB variable name (found by fuzz-result): matio
 * would allocate it before noticing the file is 512 bytes; the pre-check
 * refuses it and says why.
 */
static void test_huge_name_refused_before_matio(void **state)
{
	size_t len;
	unsigned char *b = corpus("mat-huge-name.mat", &len);

	(void)state;
	expect_rejected(b, len, "a matrix's name is longer than the matrix");
	free(b);
}

/* Every cut of a good file is refused with a reason, never read past its end. */
static void test_truncated_mat_refused(void **state)
{
	size_t len;
	unsigned char *b = corpus("result.mat", &len);

	(void)state;
	expect_rejected(b, 100, "lacks the 128-byte MAT v5 header");
	for (size_t cut = 136; cut < len; cut += 8) {
		unsigned char *part = xmalloc(cut);
		struct result_data r = {0};
		char *err = NULL;

		memcpy(part, b, cut);
		assert_false(plecs_decode_mat(part, cut, &r, &err));
		assert_non_null(err);
		free(err);
		free(part);
	}
	expect_rejected(b, len - 8, "an element runs past the end of the file");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_mat_decodes),
		cmocka_unit_test(test_huge_name_refused_before_matio),
		cmocka_unit_test(test_truncated_mat_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
