#include "autoconf.h"

#include "util/secret.h"

#include <string.h>

bool secret_equal(const char *given, const char *expected)
{
	size_t n = strlen(expected), m = strlen(given);
	unsigned diff = (unsigned)(n ^ m);

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)expected[i] ^ (unsigned char)(i < m ? given[i] : 0);
	return diff == 0;
}
