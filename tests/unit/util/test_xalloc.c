#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/xalloc.h"

static void test_zero_sizes_give_usable_pointers(void **state)
{
	void *a = xmalloc(0), *b = xcalloc(0, 8);

	assert_non_null(a);
	assert_non_null(b);
	xfree(&a);
	xfree(&b);
	assert_null(a);
	assert_null(b);
}

static void test_strings_are_copied(void **state)
{
	char *s = xstrdup("queue"), *n = xstrndup("scheduler", 5), *f = xasprintf("%s-%03d", "task", 7);

	assert_string_equal(s, "queue");
	assert_string_equal(n, "sched");
	assert_string_equal(f, "task-007");
	xfree(&s);
	xfree(&n);
	xfree(&f);
}

static void test_reallocarray_keeps_contents(void **state)
{
	int *v = NULL;

	for (int i = 0; i < 100; i++) {
		v = xreallocarray(v, (size_t)i + 1, sizeof *v);
		v[i] = i * i;
	}
	assert_int_equal(v[99], 9801);
	assert_int_equal(v[10], 100);
	xfree(&v);
}

static void test_overflowing_array_exits_71(void **state)
{
	/* xreallocarray must refuse nmemb * size overflow rather than allocate too little. */
	pid_t pid = fork();

	if (pid == 0) {
		fclose(stderr);
		xreallocarray(NULL, SIZE_MAX / 2, 4);
		_exit(0);
	}
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 71);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zero_sizes_give_usable_pointers),
	    cmocka_unit_test(test_strings_are_copied),
	    cmocka_unit_test(test_reallocarray_keeps_contents),
	    cmocka_unit_test(test_overflowing_array_exits_71),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
