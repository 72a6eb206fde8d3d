/*
 * engine/cachekey.c and engine/twins.c: the cache key's canonical form (every text of one double
 * is one value, names sorted, an integer and a real of one value alike), which parts the key
 * covers, the model file read once per identity, the twins' bookkeeping, and what a backend has
 * loaded (engine/loaded.c), by the bytes.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cachekey.h"
#include "engine/loaded.h"
#include "engine/twins.h"

static void assert_canonical(const char *in, const char *want)
{
	char *got = cachekey_canonical(in);

	if (strcmp(got, want) != 0)
		fail_msg("canonical(%s) is %s, expected %s", in, got, want);
	free(got);
}

/* Every text of the double 0.42 is "0.42"; the next double up is not. */
static void test_numbers(void **state)
{
	assert_canonical("{\"D\":0.42}", "{\"D\":0.42}");
	assert_canonical("{\"D\":0.42e0}", "{\"D\":0.42}");
	assert_canonical("{\"D\":4.2e-1}", "{\"D\":0.42}");
	/* %.17g of 0.42, as a client that prints 17 digits sends it. */
	assert_canonical("{\"D\":0.41999999999999998}", "{\"D\":0.42}");
	/* The shortest text of the next double up: another value, kept as it is. */
	assert_canonical("{\"D\":0.42000000000000004}", "{\"D\":0.42000000000000004}");
	/* An integer and a real of one value: PLECS takes both as that double. */
	assert_canonical("{\"V\":400}", "{\"V\":400}");
	assert_canonical("{\"V\":400.0}", "{\"V\":400}");
	assert_canonical("{\"V\":4e2}", "{\"V\":400}");
	assert_canonical("{\"L\":1e-3}", "{\"L\":0.001}");
	assert_canonical("{\"L\":0.30000000000000004}", "{\"L\":0.30000000000000004}");
	assert_canonical("{\"x\":-0.0,\"y\":1e300}", "{\"x\":-0,\"y\":1e+300}");
}

/* Names sorted, blanks gone, strings, vectors and matrices kept (their numbers canonical). */
static void test_structure(void **state)
{
	assert_canonical("{ \"b\" : 1 , \"a\" : [1.0, 2.50, [3e0]] }", "{\"a\":[1,2.5,[3]],\"b\":1}");
	assert_canonical("{\"s\":\"0.420 \\\" x\",\"t\":true,\"n\":null}", "{\"n\":null,\"s\":\"0.420 \\\" x\",\"t\":true}");
	assert_canonical("{}", "{}");
	assert_canonical("{\"m\":{\"z\":1,\"a\":2}}", "{\"m\":{\"a\":2,\"z\":1}}");
	/* Not JSON: the text as it is. */
	assert_canonical("{\"a\":", "{\"a\":");
	assert_canonical("{\"a\":1} x", "{\"a\":1} x");
}

static void parts(struct cachekey_parts *p, const char *bytes, const char *vars, const char *solver, const char *output,
		  const char *plecs)
{
	*p = (struct cachekey_parts){.model_bytes = (char *)bytes, .vars = (char *)vars, .solver = (char *)solver,
				     .output = (char *)output, .plecs = (char *)plecs};
}

/* The key covers the bytes, vars, solver, output and version, and nothing else (path, mtime). */
static void test_key_parts(void **state)
{
	struct cachekey_parts a, b;
	char ka[CACHEKEY_HEX], kb[CACHEKEY_HEX];

	parts(&a, "00ff", "{\"D\":0.42}", "{}", "plain", "none");
	cachekey_of(&a, ka);
	assert_int_equal(strlen(ka), 32);
	b = a;
	b.model = (char *)"/elsewhere.plecs";
	b.model_mtime = 12345;
	cachekey_of(&b, kb);
	assert_string_equal(ka, kb);
	/* Change any one part: the key changes. */
	struct cachekey_parts changed[5];

	for (size_t i = 0; i < 5; i++)
		changed[i] = a;
	changed[0].model_bytes = (char *)"00fe";
	changed[1].vars = (char *)"{\"D\":0.42000000000000004}";
	changed[2].solver = (char *)"{\"RelTol\":0.001}";
	changed[3].output = (char *)"matfile";
	changed[4].plecs = (char *)"4.7.5";
	for (size_t i = 0; i < 5; i++) {
		char kc[CACHEKEY_HEX];

		cachekey_of(&changed[i], kc);
		if (strcmp(ka, kc) == 0)
			fail_msg("part %zu does not change the key", i);
	}
	/* Parts do not run into each other: "ab"+"c" is not "a"+"bc". */
	parts(&a, "x", "ab", "c", "plain", "none");
	parts(&b, "x", "a", "bc", "plain", "none");
	cachekey_of(&a, ka);
	cachekey_of(&b, kb);
	assert_string_not_equal(ka, kb);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A model file is read once per identity; its bytes, not its path, make its hash. */
static void test_files(void **state)
{
	char dir[] = "/tmp/test_cachekey.XXXXXX", a[64], b[64];
	struct cachekey_files *f = cachekey_files_new(0); /* files just written are remembered */
	struct cachekey_parts p1, p2, p3;
	char *err = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.plecs", dir);
	snprintf(b, sizeof b, "%s/b.plecs", dir);
	write_file(a, "Plecs { Name \"a\" }\n");
	write_file(b, "Plecs { Name \"a\" }\n");
	for (int i = 0; i < 100; i++) {
		assert_true(cachekey_parts_for(f, a, NULL, "{\"x\":1}", "{}", "plain", NULL, &p1, &err));
		cachekey_parts_free(&p1);
	}
	assert_int_equal(cachekey_files_reads(f), 1);
	assert_true(cachekey_parts_for(f, a, NULL, "{\"x\":1.0}", NULL, "plain", NULL, &p1, &err));
	assert_true(cachekey_parts_for(f, b, NULL, "{\"x\":1}", "{}", "plain", "none", &p2, &err));
	assert_int_equal(cachekey_files_reads(f), 2);
	assert_string_equal(p1.model_bytes, p2.model_bytes);
	assert_string_equal(p1.vars, "{\"x\":1}");
	assert_string_equal(p1.plecs, CACHEKEY_NO_VERSION);
	char k1[CACHEKEY_HEX], k2[CACHEKEY_HEX], k3[CACHEKEY_HEX];

	cachekey_of(&p1, k1);
	cachekey_of(&p2, k2);
	assert_string_equal(k1, k2);
	/* Edited in place (size changes): read again, another hash. */
	write_file(a, "Plecs { Name \"a\" } \n");
	assert_true(cachekey_parts_for(f, a, NULL, "{\"x\":1}", "{}", "plain", NULL, &p3, &err));
	assert_int_equal(cachekey_files_reads(f), 3);
	cachekey_of(&p3, k3);
	assert_string_not_equal(k1, k3);
	cachekey_parts_free(&p3);
	assert_false(cachekey_parts_for(f, "/nonexistent/m.plecs", NULL, "{}", "{}", "plain", NULL, &p3, &err));
	assert_non_null(strstr(err, "/nonexistent/m.plecs"));
	free(err);
	cachekey_parts_free(&p1);
	cachekey_parts_free(&p2);
	unlink(a);
	unlink(b);
	rmdir(dir);
	cachekey_files_free(&f);
	assert_null(f);
}

/* Same size, mtime put back (cp -p, touch -d) at once after a read: the memo is not fooled. */
static void test_files_mtime_restored(void **state)
{
	char dir[] = "/tmp/test_cachekey.XXXXXX", a[64], h1[CACHEKEY_HEX], h2[CACHEKEY_HEX], h3[CACHEKEY_HEX];
	struct cachekey_files *f = cachekey_files_new(CACHEKEY_RACY_MS);
	struct timespec times[2] = {{.tv_sec = 1700000000}, {.tv_sec = 1700000000}};
	int64_t mtime;
	char *err = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.plecs", dir);
	write_file(a, "TimeSpan \"5e-3\"\n");
	assert_int_equal(utimensat(AT_FDCWD, a, times, 0), 0);
	assert_true(cachekey_file(f, a, NULL, h1, &mtime, &err));
	assert_int_equal(mtime, 1700000000000LL);
	/* Within the same tick of the ctime clock as the first write, most likely: */
	write_file(a, "TimeSpan \"2e-3\"\n");
	assert_int_equal(utimensat(AT_FDCWD, a, times, 0), 0);
	assert_true(cachekey_file(f, a, NULL, h2, &mtime, &err));
	assert_string_not_equal(h1, h2);
	assert_int_equal(cachekey_files_reads(f), 2);
	/* Read again while it is new; once read, the same bytes hash alike. */
	assert_true(cachekey_file(f, a, NULL, h3, &mtime, &err));
	assert_string_equal(h2, h3);
	assert_int_equal(cachekey_files_reads(f), 3);
	unlink(a);
	rmdir(dir);
	cachekey_files_free(&f);
}

/* Members of a canonical object, in order, for cache why's comparisons. */
static void test_members(void **state)
{
	struct cachekey_member *m;
	size_t n = cachekey_members("{\"C\":[1,2],\"L\":0.001,\"s\":\"a,b\"}", &m);

	assert_int_equal(n, 3);
	assert_int_equal(m[0].name_len, 1);
	assert_memory_equal(m[0].name, "C", 1);
	assert_int_equal(m[0].value_len, 5);
	assert_memory_equal(m[1].value, "0.001", 5);
	assert_memory_equal(m[2].value, "\"a,b\"", 5);
	free(m);
	assert_int_equal(cachekey_members("{}", &m), 0);
	assert_null(m);
}

/* One runner per key; waiters come back when it ends, or go when they are forgotten. */
static void test_twins(void **state)
{
	struct twins *tw = twins_new();
	struct cachekey_parts p = {.model = strdup("/m.plecs")};
	struct twins_end end;
	const char *key = "0123456789abcdef0123456789abcdef";

	assert_int_equal(twins_runner(tw, key), 0);
	twins_run(tw, 7, key, &p);
	assert_null(p.model);
	assert_int_equal(twins_runner(tw, key), 7);
	assert_int_equal(twins_runner(tw, "0123456789abcdefffffffffffffffff"), 0); /* same first 64 bits */
	twins_wait(tw, 7, 8);
	twins_wait(tw, 7, 9);
	twins_wait(tw, 7, 10);
	assert_int_equal(twins_waiting(tw, 7), 3);
	assert_int_equal(twins_waits_for(tw, 9), 7);
	assert_true(twins_forget(tw, 9));
	assert_false(twins_forget(tw, 9));
	assert_false(twins_end(tw, 8, &end));
	assert_true(twins_end(tw, 7, &end));
	assert_string_equal(end.key, key);
	assert_string_equal(end.parts.model, "/m.plecs");
	assert_int_equal(end.nwaiters, 2);
	assert_int_equal(end.waiters[0], 8);
	assert_int_equal(end.waiters[1], 10);
	assert_int_equal(twins_runner(tw, key), 0);
	assert_int_equal(twins_waits_for(tw, 8), 0);
	cachekey_parts_free(&end.parts);
	free(end.waiters);
	/* A second runner of a key (no_cache) is kept by id, and its end leaves the first findable. */
	struct cachekey_parts q = {0}, r = {0};

	twins_run(tw, 20, key, &q);
	twins_run(tw, 21, key, &r);
	assert_int_equal(twins_runner(tw, key), 20);
	assert_true(twins_end(tw, 21, &end));
	assert_int_equal(twins_runner(tw, key), 20);
	/* The first ends: the second runner of the key is the one to wait for now. */
	struct cachekey_parts u = {0};

	twins_run(tw, 22, key, &u);
	assert_true(twins_end(tw, 20, &end));
	assert_int_equal(twins_runner(tw, key), 22);
	assert_true(twins_end(tw, 22, &end));
	assert_int_equal(twins_runner(tw, key), 0);
	twins_free(&tw);
	assert_null(tw);
}

/* A backend loads by the bytes: the same bytes once confirmed are not loaded again; others are. */
static void test_loaded(void **state)
{
	struct loaded *l = loaded_new();
	const char *h1 = "11111111111111111111111111111111", *h2 = "22222222222222222222222222222222";
	char *close = NULL;
	bool load;

	assert_true(loaded_plan(l, "rc", "/a/rc.plecs", h1, &load, &close));
	assert_true(load);
	assert_null(close);
	/* A second call while the first loads: it loads too (the first may not have loaded yet). */
	assert_true(loaded_plan(l, "rc", "/a/rc.plecs", h1, &load, &close));
	assert_true(load);
	/* Other bytes (same size and mtime or not) while those run: refused, the call waits. */
	assert_false(loaded_plan(l, "rc", "/a/rc.plecs", h2, &load, &close));
	assert_false(loaded_plan(l, "rc", "/b/rc.plecs", h1, &load, &close));
	loaded_end(l, "rc", "/a/rc.plecs", h1, true, true);
	loaded_end(l, "rc", "/a/rc.plecs", h1, true, true);
	assert_true(loaded_plan(l, "rc", "/a/rc.plecs", h1, &load, &close));
	assert_false(load);
	loaded_end(l, "rc", "/a/rc.plecs", h1, false, true);
	/* The file's bytes changed: loaded again, not closed (the same file). */
	assert_true(loaded_plan(l, "rc", "/a/rc.plecs", h2, &load, &close));
	assert_true(load);
	assert_null(close);
	/* It changed again during the load: what PLECS holds is unknown; the next call loads. */
	loaded_end(l, "rc", "/a/rc.plecs", h2, true, false);
	assert_true(loaded_plan(l, "rc", "/a/rc.plecs", h2, &load, &close));
	assert_true(load);
	loaded_end(l, "rc", "/a/rc.plecs", h2, true, true);
	/* Another file of that name: closed first. */
	assert_true(loaded_plan(l, "rc", "/b/rc.plecs", h2, &load, &close));
	assert_true(load);
	assert_string_equal(close, "rc");
	free(close);
	loaded_end(l, "rc", "/b/rc.plecs", h2, true, true);
	/* PLECS restarted: loaded again; a file simq cannot read ("") is never taken as loaded. */
	loaded_forget(l);
	assert_true(loaded_plan(l, "rc", "/b/rc.plecs", h2, &load, &close));
	assert_true(load);
	loaded_end(l, "rc", "/b/rc.plecs", h2, true, true);
	assert_true(loaded_plan(l, "x", "/x.plecs", "", &load, &close));
	loaded_end(l, "x", "/x.plecs", "", true, true);
	assert_true(loaded_plan(l, "x", "/x.plecs", "", &load, &close));
	assert_true(load);
	loaded_end(l, "x", "/x.plecs", "", true, true);
	loaded_free(&l);
	assert_null(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers),   cmocka_unit_test(test_structure), cmocka_unit_test(test_key_parts),
	    cmocka_unit_test(test_files),     cmocka_unit_test(test_files_mtime_restored),
	    cmocka_unit_test(test_members),   cmocka_unit_test(test_twins),     cmocka_unit_test(test_loaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
