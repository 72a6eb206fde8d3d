#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/paths.h"

/* The test harness gives every test a scratch dir of its own. */
static const char *scratch(void)
{
	const char *t = getenv("SIMQ_TEST_TMP");

	assert_non_null(t);
	return t;
}

static void test_join_avoids_double_slashes(void **state)
{
	char *p = paths_join("/a/b/", "/c");

	assert_string_equal(p, "/a/b/c");
	free(p);
	p = paths_join("/", "x");
	assert_string_equal(p, "/x");
	free(p);
}

static void test_config_file_follows_xdg(void **state)
{
	char *p;

	setenv("XDG_CONFIG_HOME", "/etc/xdg-test", 1);
	p = paths_config_file();
	assert_string_equal(p, "/etc/xdg-test/simq/simq.ini");
	free(p);
	setenv("XDG_CONFIG_HOME", "relative/ignored", 1);
	setenv("HOME", "/home/op", 1);
	p = paths_config_file();
	assert_string_equal(p, "/home/op/.config/simq/simq.ini");
	free(p);
}

static void test_state_dir_order(void **state)
{
	char *p;

	setenv("HOME", "/home/op", 1);
	unsetenv("SIMQ_HOME");
	unsetenv("XDG_STATE_HOME");
	p = paths_state_dir(NULL);
	assert_string_equal(p, "/home/op/.local/state/simq");
	free(p);
	setenv("XDG_STATE_HOME", "/var/xdg", 1);
	p = paths_state_dir(NULL);
	assert_string_equal(p, "/var/xdg/simq");
	free(p);
	setenv("SIMQ_HOME", "/srv/simq", 1);
	p = paths_state_dir(NULL);
	assert_string_equal(p, "/srv/simq");
	free(p);
	p = paths_state_dir("/tmp/override");
	assert_string_equal(p, "/tmp/override");
	free(p);
	unsetenv("SIMQ_HOME");
}

static void test_private_dir_is_created_0700(void **state)
{
	char *dir = paths_join(scratch(), "deep/er/state");
	char *err = NULL;
	struct stat st;

	assert_true(paths_make_private_dir(dir, &err));
	assert_null(err);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* An existing, too open dir is tightened. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_true(paths_make_private_dir(dir, &err));
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(dir);
}

static void test_private_dir_refuses_a_file(void **state)
{
	char *file = paths_join(scratch(), "plainfile");
	char *err = NULL;
	FILE *fp = fopen(file, "w");

	assert_non_null(fp);
	fclose(fp);
	assert_false(paths_make_private_dir(file, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "not a directory"));
	free(err);
	free(file);
}

static void test_absolute_paths(void **state)
{
	char *cwd = getcwd(NULL, 0), *p = paths_absolute("models/buck.plecs"), *want;

	want = paths_join(cwd, "models/buck.plecs");
	assert_string_equal(p, want);
	free(p);
	free(want);
	free(cwd);
	p = paths_absolute("/abs/x");
	assert_string_equal(p, "/abs/x");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_avoids_double_slashes),
	    cmocka_unit_test(test_config_file_follows_xdg),
	    cmocka_unit_test(test_state_dir_order),
	    cmocka_unit_test(test_private_dir_is_created_0700),
	    cmocka_unit_test(test_private_dir_refuses_a_file),
	    cmocka_unit_test(test_absolute_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
