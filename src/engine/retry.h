/*
 * retry — which failures are worth another attempt, and when (DESIGN 6).
 *
 * Transient: no usable answer (refused, reset, timed out, HTTP error,
 * garbled), or a PLECS fault whose message holds one of the configured
 * retry_faults pieces (a licence checkout, say).  Any other PLECS fault is
 * permanent: the model or its parameters are wrong, and trying again changes
 * nothing.  Pure functions.
 */
#ifndef SIMQ_ENGINE_RETRY_H
#define SIMQ_ENGINE_RETRY_H

#include <stdbool.h>

/*
 * The wait before retry number `retry` (0 for the first): base * 2^retry,
 * at most max, then stretched by up to jitter (a fraction) using random01
 * in [0, 1).
 */
double retry_delay_for(int retry, double base, double max, double jitter, double random01);
/* True if message holds one of the comma-separated pieces, in any case. */
bool retry_fault_is_transient(const char *message, const char *pieces);

#endif
