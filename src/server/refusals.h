/*
 * refusals — TCP requests refused for want of the token, in the log one line per interval.
 *
 * A flood of requests without the token once wrote a line each, replacing
 * the log lines kept for consoles and growing simulation.log (issue 14).
 * The first refusal is logged at once; those in the next interval ([server]
 * refusal_log_interval) are counted and logged as one line when it ends, and
 * so on while they go on.  refusals_note runs on any thread (an Abyss thread) and never
 * waits for the loop; the rest run on the loop thread, which owns the log.
 */
#ifndef SIMQ_SERVER_REFUSALS_H
#define SIMQ_SERVER_REFUSALS_H

#include <ev.h>
#include <stdint.h>

struct engine;
struct refusals;

/*
 * interval_s: seconds between two lines.  what names a refused one in the log, for its first
 * line ("refused a TCP client from ...") and, with an "s", for the count ("refused 7 more TCP
 * requests"): {"TCP client", "TCP request"} for the API, {"dashboard page", "dashboard request"}.
 */
struct refusals_words {
	const char *client, *request;
};
struct refusals *refusals_new(struct ev_loop *loop, struct engine *e, double interval_s,
                              const struct refusals_words *what);
/* Any thread: one refused request, from peer (an address), why ("no token", "a wrong token"; cut at 159 bytes). */
void refusals_note(struct refusals *r, const char *peer, const char *why);
/* Refusals since the server started (any thread). */
uint64_t refusals_total(struct refusals *r);
/* Logs what is counted and not yet logged, and stops; no more lines after. */
void refusals_stop(struct refusals *r);
/* Frees r (after refusals_stop); clears the pointer. */
void refusals_free(struct refusals **r);

#endif
