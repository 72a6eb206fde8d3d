/*
 * guesses — wrong tokens, limited server-wide: one limiter for the TCP API and the dashboard.
 *
 * Every token a client sends (the TCP API's HTTP Basic password, the dashboard's {"auth"}) is
 * checked here.  Wrong ones are counted against one budget for the whole server: GUESSES_RATE a
 * second, GUESSES_BURST at once, however many connections or listeners they come over.  While the
 * budget is spent, a token from an address that sent a wrong one in the last GUESSES_MEMORY_S
 * seconds is not checked at all (GUESS_HELD: the client is told to try again), so a guesser gets
 * at most about GUESSES_RATE tries a second; a token from any other address is checked (a right
 * one gets in at once; a wrong one marks that address too).  So an operator's right token gets in
 * at once during someone else's guessing, unless it comes from the guesser's own address (the
 * same machine, or behind the same proxy): that one waits until the guessing stops.  IPv6
 * addresses count by their /64.  Process-wide, like util/log; any thread.
 */
#ifndef SIMQ_SERVER_GUESSES_H
#define SIMQ_SERVER_GUESSES_H

#include <stdint.h>

#define GUESSES_RATE      10   /* wrong tokens a second, for the whole server */
#define GUESSES_RATE_TEXT "10" /* the same, for messages */
#define GUESSES_BURST     10   /* of which at once */
#define GUESSES_MEMORY_S  60   /* an address that sent a wrong token is a guesser this long */

enum guess_verdict {
	GUESS_RIGHT, /* it is the token */
	GUESS_WRONG, /* checked, and it is not */
	GUESS_HELD,  /* not checked: too many wrong tokens lately, from this address among others */
};

/* Checks given against expected (secret_equal) unless it is held; peer: the client's address as text. */
enum guess_verdict guesses_check(const char *peer, const char *given, const char *expected);
/* As guesses_check(), at now (monotonic seconds): for tests. */
enum guess_verdict guesses_check_at(const char *peer, const char *given, const char *expected, double now);
/* Wrong tokens checked, and tokens held, since the server started. */
void guesses_totals(uint64_t *wrong, uint64_t *held);
/* Forgets everything (tests). */
void guesses_reset(void);

#endif
