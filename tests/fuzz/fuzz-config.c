/* libFuzzer target: the config loader must report, never crash, on any bytes. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct config *cfg;

	if (fd < 0)
		fd = memfd_create("fuzz.ini", 0);
	if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	cfg = config_load(path, true);
	for (size_t i = 0; i < config_error_count(cfg); i++)
		(void)config_error(cfg, i);
	config_free(&cfg);
	return 0;
}
