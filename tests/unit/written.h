/*
 * written — a value as xmlrpc-c writes it, for unit tests that compare what simq writes or reads
 * with what xmlrpc-c makes of the same values.  Header only: each test includes it once.
 */
#ifndef SIMQ_TESTS_WRITTEN_H
#define SIMQ_TESTS_WRITTEN_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

#include "util/xalloc.h"

/* v as xmlrpc-c writes it, as a value or as a whole methodResponse (heap). */
static inline char *serialized(xmlrpc_value *v, bool answer)
{
	xmlrpc_env env;
	xmlrpc_mem_block *mem;
	char *out;

	xmlrpc_env_init(&env);
	mem = xmlrpc_mem_block_new(&env, 0);
	if (answer)
		xmlrpc_serialize_response2(&env, mem, v, xmlrpc_dialect_i8);
	else
		xmlrpc_serialize_value(&env, mem, v);
	assert_false(env.fault_occurred);
	out = xstrndup(xmlrpc_mem_block_contents(mem), xmlrpc_mem_block_size(mem));
	xmlrpc_mem_block_free(mem);
	xmlrpc_env_clean(&env);
	return out;
}

/* v as xmlrpc-c writes it (heap). */
static inline char *written(xmlrpc_value *v)
{
	return serialized(v, false);
}

#endif
