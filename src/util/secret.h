/*
 * secret — comparing a secret someone sent with the one expected, in time
 * that does not depend on where they differ (the TCP API's token, the
 * dashboard's).  Safe on any thread.
 */
#ifndef SIMQ_UTIL_SECRET_H
#define SIMQ_UTIL_SECRET_H

#include <stdbool.h>

/* Whether given is exactly expected; the time taken depends on expected's length only. */
bool secret_equal(const char *given, const char *expected);

#endif
