/*
 * api-backend — the API's backend methods (DESIGN 19): simq.backend_add,
 * simq.backend_remove and simq.backends, and simq.pause and simq.resume of
 * dispatch or of one backend: a table of methods that http.c
 * serves after api.c's (api.c's file stays short enough to read).  Each
 * checks its arguments, makes one engine call and answers; the pools'
 * instances (engine/pool.h) show in simq.backends with their job.  Loop
 * thread.
 */
#ifndef SIMQ_SERVER_API_BACKEND_H
#define SIMQ_SERVER_API_BACKEND_H

#include "server/api.h"

extern const struct api_method api_backend_methods[];
extern const size_t api_backend_method_count;

#endif
