/*
 * bench/emu-ceiling PORTFILE: the least an xmlrpc-c Abyss server can do.
 * It answers system.listMethods (the trivial call) and plecs.simulate with a
 * {Time, Values} result of 10,001 points and 2 signals built once at start,
 * so each call costs only the protocol: the ceiling plecs-emu is measured
 * against by bench/emu-throughput.
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

#define POINTS 10001

static xmlrpc_value *canned;

static xmlrpc_value *simulate(xmlrpc_env *env, xmlrpc_value *params, void *server, void *call)
{
	xmlrpc_INCREF(canned);
	return canned;
}

static xmlrpc_value *series(xmlrpc_env *env, double scale)
{
	xmlrpc_value *a = xmlrpc_array_new(env);

	for (int i = 0; i < POINTS; i++) {
		xmlrpc_value *x = xmlrpc_double_new(env, scale * i / (POINTS - 1.0));

		xmlrpc_array_append_item(env, a, x);
		xmlrpc_DECREF(x);
	}
	return a;
}

int main(int argc, char **argv)
{
	xmlrpc_env env;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct xmlrpc_method_info3 info = {.methodName = "plecs.simulate", .methodFunction = simulate};
	xmlrpc_server_abyss_parms parms = {0};
	FILE *fp;

	if (argc != 2 || fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0 || listen(fd, 128) != 0)
		return 1;
	xmlrpc_env_init(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 256u * 1024 * 1024);
	xmlrpc_value *time = series(&env, 1e-3), *values = xmlrpc_array_new(&env);
	xmlrpc_value *v1 = series(&env, 1), *v2 = series(&env, 2);

	xmlrpc_array_append_item(&env, values, v1);
	xmlrpc_array_append_item(&env, values, v2);
	canned = xmlrpc_struct_new(&env);
	xmlrpc_struct_set_value(&env, canned, "Time", time);
	xmlrpc_struct_set_value(&env, canned, "Values", values);
	parms.registryP = xmlrpc_registry_new(&env);
	xmlrpc_registry_add_method3(&env, parms.registryP, &info);
	parms.socket_bound = 1;
	parms.socket_handle = fd;
	parms.keepalive_timeout = 60;
	parms.keepalive_max_conn = 1000000;
	fp = fopen(argv[1], "w");
	if (fp == NULL || env.fault_occurred)
		return 1;
	fprintf(fp, "%d\n", ntohs(addr.sin_port));
	fclose(fp);
	xmlrpc_server_abyss(&env, &parms, XMLRPC_APSIZE(socket_handle));
	return env.fault_occurred ? 1 : 0;
}
