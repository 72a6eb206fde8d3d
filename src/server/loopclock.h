/*
 * loopclock — the engine's clock (engine/clock.h) on the server's libev
 * loop: the wall clock, ev_timers, and ev_async for wakes from other
 * threads.  Loop thread only, but for a wake's send.
 */
#ifndef SIMQ_SERVER_LOOPCLOCK_H
#define SIMQ_SERVER_LOOPCLOCK_H

#include <ev.h>

#include "engine/clock.h"

/* A clock whose timers run on loop. */
struct clock loopclock_new(struct ev_loop *loop);

#endif
