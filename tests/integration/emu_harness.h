/*
 * emu_harness — starts a real plecs-emu process on a free port for a test,
 * and an xmlrpc-c client to talk to it over TCP.
 */
#ifndef SIMQ_TESTS_EMU_HARNESS_H
#define SIMQ_TESTS_EMU_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>
#include <xmlrpc-c/client.h>

struct emu_proc {
	pid_t pid;
	int port;
	char url[64];
	char *port_file;
};

/* Starts src/plecs-emu with the extra arguments (NULL-terminated); waits until it listens. */
void emu_start(struct emu_proc *emu, const char *const *args);
/* SIGTERM, then checks that it stopped cleanly with status 0. */
void emu_stop(struct emu_proc *emu);

/* A client whose calls give up after timeout_ms. */
xmlrpc_client *emu_client(int timeout_ms);
/* Path of a model in share/models. */
char *emu_model_path(const char *name);

#endif
