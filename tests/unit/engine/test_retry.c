/*
 * engine/retry.c: the backoff formula (base * 2^retry, at most max, stretched by up to jitter) and
 * which PLECS faults are transient.  Pure functions, exact numbers.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

#include "engine/retry.h"

#define assert_near(a, b)                                                                               \
	do {                                                                                            \
		double a_ = (a), b_ = (b);                                                              \
		if (!(fabs(a_ - b_) <= 1e-9))                                                           \
			fail_msg("%s is %.17g, expected %.17g", #a, a_, b_);                            \
	} while (0)

/* 5 s doubling: 5, 10, 20, 40, 80, then the cap of 60; a negative retry counts as the first. */
static void test_doubling_and_cap(void **state)
{
	const double want[] = {5, 10, 20, 40, 60, 60, 60};

	for (int n = 0; n < 7; n++)
		assert_near(retry_delay_for(n, 5, 60, 0, 0.5), want[n]);
	assert_near(retry_delay_for(-3, 5, 60, 0, 0.5), 5);
	/* Far past the cap: no overflow to inf or NaN, still the cap. */
	assert_near(retry_delay_for(1000, 5, 300, 0, 0), 300);
	/* A cap below the base wins (the config refuses it, the formula does not care). */
	assert_near(retry_delay_for(0, 5, 2, 0, 0), 2);
	assert_near(retry_delay_for(3, 0, 60, 0, 0), 0);
}

/* Jitter stretches the capped delay by jitter * random01: never shorter, at most (1 + jitter) times. */
static void test_jitter(void **state)
{
	assert_near(retry_delay_for(1, 5, 60, 0.1, 0), 10);
	assert_near(retry_delay_for(1, 5, 60, 0.1, 0.5), 10.5);
	assert_near(retry_delay_for(1, 5, 60, 0.1, 0.999), 10.999);
	/* The stretch applies after the cap: a capped delay still spreads. */
	assert_near(retry_delay_for(10, 5, 60, 0.5, 0.5), 75);
	assert_near(retry_delay_for(10, 5, 60, 1, 0.25), 75);
	/* No jitter: random01 changes nothing. */
	assert_near(retry_delay_for(2, 5, 60, 0, 0.9), 20);
}

static void test_transient_faults(void **state)
{
	/* Any piece, in any case, anywhere in the message; spaces around pieces do not count. */
	assert_true(retry_fault_is_transient("License checkout failed", "license"));
	assert_true(retry_fault_is_transient("no free LICENSE available", "timeout, License "));
	assert_true(retry_fault_is_transient("solver timeout reached", " timeout ,license"));
	assert_false(retry_fault_is_transient("Error evaluating parameter 'L'", "license,timeout"));
	/* Empty pieces match nothing (an empty setting is not "everything is transient"). */
	assert_false(retry_fault_is_transient("anything", ""));
	assert_false(retry_fault_is_transient("anything", " , ,"));
	assert_false(retry_fault_is_transient(NULL, "license"));
	assert_false(retry_fault_is_transient("license", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_and_cap),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_transient_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
