#include "autoconf.h"

#include "engine/retry.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

double retry_delay_for(int retry, double base, double max, double jitter, double random01)
{
	double delay = base * ldexp(1.0, retry < 0 ? 0 : retry > 60 ? 60 : retry);

	if (delay > max)
		delay = max;
	return delay * (1 + jitter * random01);
}

bool retry_fault_is_transient(const char *message, const char *pieces)
{
	char *copy, *save = NULL;
	bool found = false;

	if (message == NULL || pieces == NULL)
		return false;
	copy = xstrdup(pieces);
	for (char *piece = strtok_r(copy, ",", &save); piece && !found; piece = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*piece))
			piece++;
		size_t n = strlen(piece);

		while (n > 0 && isspace((unsigned char)piece[n - 1]))
			piece[--n] = '\0';
		if (n > 0 && strcasestr(message, piece))
			found = true;
	}
	free(copy);
	return found;
}
