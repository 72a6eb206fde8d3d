/* libFuzzer target: the client's reader of XML-RPC answers (proto/xmlin.c) must read or refuse any bytes, never crash or leak. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <xmlrpc-c/base.h>

#include "proto/xmlin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlrpc_value *v = NULL;
	char *fault = NULL, *err = NULL;
	int code = 0;

	if (proto_parse_response((const char *)data, size, &v, &code, &fault, &err) && v == NULL && fault == NULL)
		abort(); /* read, and neither an answer nor a fault */
	if (v)
		xmlrpc_DECREF(v);
	free(fault);
	free(err);
	return 0;
}
