/* libFuzzer target: simq status --format must expand or report, never crash, on any text. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct summary s = {.queued = 1842, .running = 3, .failed = 2, .unseen = 1, .down = "lab#2"};
	char *fmt = malloc(size + 1), *err = NULL;

	memcpy(fmt, data, size);
	fmt[size] = '\0';
	for (unsigned flags = 0; flags < 4; flags++) {
		char *line = summary_format(&s, fmt, flags, &err);

		free(line);
		free(err);
		err = NULL;
	}
	free(fmt);
	return 0;
}
