/*
 * feed — a large answer on its way from the worker that receives it to a
 * thread that decodes it (DESIGN 17).
 *
 * A worker decoding an answer as it reads it reads no faster than it
 * decodes; PLECS has long written the answer into the sockets' buffers by
 * then, and would wait idle for its next call until the decoding is done.
 * So a large answer is read at the socket's speed and handed, piece by
 * piece, to one of the pool's decoder threads, which feeds the call's
 * decoder (answer.c) as the pieces come.  Once the last byte is in and the
 * answer is known to carry results (never a fault, which the worker must
 * see to load the model and ask again), the worker hands the rest over and
 * goes back for the next call: PLECS works on it while this one is decoded.
 *
 * Bounded: a feed holds at most FEED_MAX_LAG bytes not yet decoded (the
 * worker waits for the decoder beyond that), and the decoders are a fixed
 * set of threads.  A feed whose call is interrupted, or whose decoders are
 * stopping, stops decoding at the next piece.
 */
#ifndef SIMQ_PLECS_FEED_H
#define SIMQ_PLECS_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "plecs/answer.h"

#define FEED_MAX_LAG (16u << 20)

struct feeds;
struct feed;

enum feed_close {
	FEED_DECODED, /* the decoder is done with every byte fed (or was stopped): the worker goes on */
	FEED_HANDED,  /* the decoder goes on alone and calls the feed's done() when it is through */
};

/* n decoder threads; NULL when none could start. */
struct feeds *feeds_new(int n);
/* Stops the decoders: each feed still open ends at its next piece, and its done() is called. */
void feeds_free(struct feeds **fs);

/*
 * A feed for decoder (which it now uses, on a decoder thread, until closed).  interrupt is the
 * call's flag, read atomically.  done(ud) is called on the decoder thread once a handed feed is
 * through; the feed is then the callee's to free.
 */
struct feed *feed_open(struct feeds *fs, struct plecs_answer *decoder, const int *interrupt,
		       void (*done)(void *ud), void *ud);
/* Queues the next len bytes; false once the decoder refused the answer or was stopped. */
bool feed_put(struct feed *f, const char *data, size_t len);
/*
 * No more bytes.  whole: the answer came whole, so the decoder may finish it.  When it is whole
 * and has begun its results, handed(ud) is called (under the feed's lock, so before done() can
 * be) and the feed goes on alone: FEED_HANDED.  Otherwise this waits for the decoder to let go.
 */
enum feed_close feed_close(struct feed *f, bool whole, void (*handed)(void *ud), void *ud);
/* After FEED_DECODED or done(): did the decoder refuse the answer (its error says why), was it stopped? */
bool feed_refused(const struct feed *f);
bool feed_stopped(const struct feed *f);
/* After FEED_DECODED or done() on a whole answer, not refused: what plecs_answer_finish said. */
enum plecs_answer_end feed_end(const struct feed *f);
void feed_free(struct feed **f);

#endif
