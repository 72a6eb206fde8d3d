/*
 * loopclock — the engine's clock (engine/clock.h) on the server's libev
 * loop: the wall clock, and ev_timers.  Loop thread only.
 */
#ifndef SIMQ_SERVER_LOOPCLOCK_H
#define SIMQ_SERVER_LOOPCLOCK_H

#include <ev.h>

#include "engine/clock.h"

/* A clock whose timers run on loop. */
struct clock loopclock_new(struct ev_loop *loop);

#endif
