/* libFuzzer target: plecs-emu's model file parser must reject, never crash, on any text. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *err = NULL;
	struct emu_model *m;

	memcpy(text, data, size);
	text[size] = '\0';
	m = emu_model_parse("/fuzz/model.plecs", text, &err);
	emu_model_free(&m);
	free(err);
	free(text);
	return 0;
}
