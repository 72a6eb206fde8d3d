#include "autoconf.h"

#include "server/guesses.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "util/secret.h"
#include "util/time.h"

#define ADDRESSES 256 /* guessers remembered; a new one takes the place of the one quiet longest */

struct guesser {
	unsigned char key[16];
	size_t len; /* 0: a free place */
	double last;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double budget = GUESSES_BURST, budget_at;
static bool started;
static struct guesser guessers[ADDRESSES];
static uint64_t total_wrong, total_held;

/* The address's key: IPv4 (mapped ones too) whole, IPv6 by its /64, else the text's first bytes. */
static size_t key_of(const char *peer, unsigned char key[16])
{
	unsigned char a[16];

	if (inet_pton(AF_INET, peer, a) == 1) {
		memcpy(key, a, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, peer, a) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(a, mapped, sizeof mapped) == 0) {
			memcpy(key, a + 12, 4);
			return 4;
		}
		memcpy(key, a, 8);
		key[8] = 6; /* apart from any IPv4 key */
		return 9;
	}
	size_t n = strnlen(peer, 16);

	memcpy(key, peer, n);
	return n ? n : 1;
}

static struct guesser *find(const unsigned char *key, size_t len)
{
	for (size_t i = 0; i < ADDRESSES; i++)
		if (guessers[i].len == len && memcmp(guessers[i].key, key, len) == 0)
			return &guessers[i];
	return NULL;
}

/* Notes a wrong token from key at now, in its place or in that of the guesser quiet longest. */
static void note_wrong(const unsigned char *key, size_t len, double now)
{
	struct guesser *g = find(key, len);

	if (g == NULL) {
		g = &guessers[0];
		for (size_t i = 1; i < ADDRESSES && g->len; i++)
			if (guessers[i].len == 0 || guessers[i].last < g->last)
				g = &guessers[i];
		memcpy(g->key, key, len);
		g->len = len;
	}
	g->last = now;
	total_wrong++;
	budget = budget > 1 ? budget - 1 : 0;
}

enum guess_verdict guesses_check_at(const char *peer, const char *given, const char *expected, double now)
{
	unsigned char key[16];
	size_t len = key_of(peer ? peer : "?", key);
	enum guess_verdict v;

	pthread_mutex_lock(&lock);
	if (!started || now < budget_at) {
		started = true;
		budget_at = now;
	}
	budget += (now - budget_at) * GUESSES_RATE;
	if (budget > GUESSES_BURST)
		budget = GUESSES_BURST;
	budget_at = now;
	const struct guesser *g = find(key, len);

	if (budget < 1 - 1e-9 && g && now - g->last < GUESSES_MEMORY_S) {
		total_held++;
		v = GUESS_HELD;
	} else if (given && expected && secret_equal(given, expected)) {
		v = GUESS_RIGHT;
	} else {
		note_wrong(key, len, now);
		v = GUESS_WRONG;
	}
	pthread_mutex_unlock(&lock);
	return v;
}

enum guess_verdict guesses_check(const char *peer, const char *given, const char *expected)
{
	return guesses_check_at(peer, given, expected, time_mono());
}

void guesses_totals(uint64_t *wrong, uint64_t *held)
{
	pthread_mutex_lock(&lock);
	*wrong = total_wrong;
	*held = total_held;
	pthread_mutex_unlock(&lock);
}

void guesses_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(guessers, 0, sizeof guessers);
	budget = GUESSES_BURST;
	started = false;
	total_wrong = total_held = 0;
	pthread_mutex_unlock(&lock);
}
