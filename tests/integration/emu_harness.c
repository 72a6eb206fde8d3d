#include "autoconf.h"

#include "emu_harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/xalloc.h"

void emu_start(struct emu_proc *emu, const char *const *args)
{
	const char *argv[32];
	size_t n = 0;
	char *bin = xasprintf("%s/src/plecs-emu", getenv("SIMQ_BUILDDIR"));
	static int serial;

	emu->port_file = xasprintf("%s/emu-%d-%d.port", getenv("SIMQ_TEST_TMP"), (int)getpid(), serial++);
	unlink(emu->port_file);
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--port-file";
	argv[n++] = emu->port_file;
	for (size_t i = 0; args && args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	emu->pid = fork();
	assert_true(emu->pid >= 0);
	if (emu->pid == 0) {
		/* A test that fails before emu_stop must not leave plecs-emu holding the test's output open. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	free(bin);
	/* Poll for the port file: plecs-emu writes it once it listens. */
	for (int i = 0; i < 1000; i++) {
		FILE *fp = fopen(emu->port_file, "r");
		int status;

		if (fp) {
			int ok = fscanf(fp, "%d", &emu->port);

			fclose(fp);
			if (ok == 1 && emu->port > 0)
				break;
		}
		if (waitpid(emu->pid, &status, WNOHANG) == emu->pid)
			fail_msg("plecs-emu exited at start with status %d", status);
		usleep(10000);
	}
	assert_true(emu->port > 0);
	snprintf(emu->url, sizeof emu->url, "http://127.0.0.1:%d/RPC2", emu->port);
}

void emu_stop(struct emu_proc *emu)
{
	int status;

	assert_int_equal(kill(emu->pid, SIGTERM), 0);
	assert_int_equal(waitpid(emu->pid, &status, 0), emu->pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("plecs-emu did not stop cleanly: status 0x%x", status);
	unlink(emu->port_file);
	free(emu->port_file);
}

xmlrpc_client *emu_client(int timeout_ms)
{
	static bool global_done;
	xmlrpc_env env;
	xmlrpc_client *client = NULL;
	struct xmlrpc_curl_xportparms curl = {.timeout = (unsigned)timeout_ms};
	struct xmlrpc_clientparms parms = {.transport = "curl", .transportparmsP = &curl,
					   .transportparm_size = XMLRPC_CXPSIZE(timeout)};

	xmlrpc_env_init(&env);
	if (!global_done) {
		xmlrpc_client_setup_global_const(&env);
		xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 256u * 1024 * 1024);
		global_done = true;
	}
	xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "simq-tests", PACKAGE_VERSION, &parms,
			     XMLRPC_CPSIZE(transportparm_size), &client);
	if (env.fault_occurred)
		fail_msg("xmlrpc_client_create: %s", env.fault_string);
	xmlrpc_env_clean(&env);
	return client;
}

char *emu_model_path(const char *name)
{
	return xasprintf("%s/share/models/%s.plecs", getenv("SIMQ_SRCDIR"), name);
}
