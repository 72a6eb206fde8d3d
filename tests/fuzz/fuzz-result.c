/*
 * libFuzzer target: what PLECS sends back.  The input is parsed as an
 * XML-RPC response and decoded as a {Time, Values} result, and decoded as
 * MAT bytes.  Neither may crash or leak, whatever a broken server sends.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>

#include "plecs/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int limit_set;
	xmlrpc_env env;
	xmlrpc_value *v = NULL;
	int fault = 0;
	const char *fault_string = NULL;
	struct result_data r = {0};
	char *err = NULL;

	if (!limit_set) {
		xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 64u * 1024 * 1024);
		limit_set = 1;
	}
	xmlrpc_env_init(&env);
	xmlrpc_parse_response2(&env, (const char *)data, size, &v, &fault, &fault_string);
	if (!env.fault_occurred && v) {
		if (plecs_decode_plain(v, &r, &err))
			result_data_free(&r);
		free(err);
		err = NULL;
		xmlrpc_DECREF(v);
	}
	free((void *)fault_string);
	xmlrpc_env_clean(&env);
	if (plecs_decode_mat(data, size, &r, &err))
		result_data_free(&r);
	free(err);
	return 0;
}
