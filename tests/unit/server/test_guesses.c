/* guesses: wrong tokens limited server-wide, a right one from elsewhere checked at once (issue 18). */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/guesses.h"

static const char token[] = "the-right-token";

static int setup(void **state)
{
	guesses_reset();
	return 0;
}

static void test_budget_then_held(void **state)
{
	uint64_t wrong, held;

	/* A burst of GUESSES_BURST is checked; the next guess from the same address is not. */
	for (int i = 0; i < GUESSES_BURST; i++)
		assert_int_equal(guesses_check_at("10.0.0.9", "guess", token, 100.0), GUESS_WRONG);
	assert_int_equal(guesses_check_at("10.0.0.9", "guess", token, 100.0), GUESS_HELD);
	/* Even the right token, from the guesser's address: nothing is learned from it. */
	assert_int_equal(guesses_check_at("10.0.0.9", token, token, 100.0), GUESS_HELD);
	/* A tenth of a second later one more is checked, then held again. */
	assert_int_equal(guesses_check_at("10.0.0.9", "guess", token, 100.1), GUESS_WRONG);
	assert_int_equal(guesses_check_at("10.0.0.9", "guess", token, 100.1), GUESS_HELD);
	guesses_totals(&wrong, &held);
	assert_int_equal(wrong, GUESSES_BURST + 1);
	assert_int_equal(held, 3);
}

static void test_rate_over_a_minute(void **state)
{
	int checked = 0;

	/* 1,000 guesses a second for 60 s from one address (a v4-mapped IPv6 one is the same). */
	for (int ms = 0; ms < 60000; ms++)
		checked += guesses_check_at(ms % 2 ? "::ffff:10.0.0.9" : "10.0.0.9", "guess", token,
		                            1000 + ms / 1000.0) == GUESS_WRONG;
	assert_in_range(checked, 60 * GUESSES_RATE, 60 * GUESSES_RATE + GUESSES_BURST + 1);
}

static void test_other_address_gets_in(void **state)
{
	for (int i = 0; i < 100; i++)
		guesses_check_at("10.0.0.9", "guess", token, 200.0);
	/* Another address's right token is checked while the budget is spent, and gets in. */
	assert_int_equal(guesses_check_at("192.0.2.1", token, token, 200.0), GUESS_RIGHT);
	/* Its wrong one is checked once and makes it a guesser; then it is held too. */
	assert_int_equal(guesses_check_at("192.0.2.1", "typo", token, 200.0), GUESS_WRONG);
	assert_int_equal(guesses_check_at("192.0.2.1", token, token, 200.0), GUESS_HELD);
	/* A minute after its last wrong token an address is no guesser. */
	assert_int_equal(guesses_check_at("192.0.2.1", token, token, 200.0 + GUESSES_MEMORY_S + 1), GUESS_RIGHT);
	/* IPv6 addresses count by their /64. */
	assert_int_equal(guesses_check_at("2001:db8::1", "guess", token, 300.0), GUESS_WRONG);
	for (int i = 0; i < 20; i++)
		guesses_check_at("2001:db8::1", "guess", token, 300.0);
	assert_int_equal(guesses_check_at("2001:db8::2", token, token, 300.0), GUESS_HELD);
	assert_int_equal(guesses_check_at("2001:db8:0:1::2", token, token, 300.0), GUESS_RIGHT);
	/* No token at all is a wrong one. */
	assert_int_equal(guesses_check_at("198.51.100.7", NULL, token, 400.0), GUESS_WRONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_budget_then_held, setup),
	    cmocka_unit_test_setup(test_rate_over_a_minute, setup),
	    cmocka_unit_test_setup(test_other_address_gets_in, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
