/*
 * answer — what plecs.simulate sends back, decoded as it streams in (DESIGN 13, 17).
 *
 * A worker (pool.c) makes one decoder per call and feeds it the bytes of
 * PLECS's answer in pieces of any size, as libcurl hands them over; expat
 * reads them (all but the plain <value><double> items of a column, which the
 * decoder reads itself, to the same effect) and the decoder writes each
 * number straight into its case's columns of doubles (struct result_data),
 * with each signal's summary (min, max, mean, RMS, final value) as it goes:
 * no tree of values, no second pass.
 * It takes every shape of DESIGN 13: the {Time: [...], Values: [[...], ...]}
 * struct of a Plain case (numbers as <double>, <i4>, <int> or <i8>, Values
 * empty for a model without outports), MAT bytes in <base64> (MatFile,
 * handed to plecs_decode_mat), the list of them for a list call, and a
 * fault.  A case of the wrong shape (ragged signals, a number that is not
 * one, Time or Values missing) gets its own error and the others still
 * count; an answer that is not XML-RPC is refused as a whole.
 *
 * It guards itself as xmlscan guards xmlrpc-c: no DOCTYPE (so no entities
 * beyond XML's own), no NUL byte, elements at most PROTO_MAX_XML_DEPTH deep
 * and arrays and structs at most PROTO_MAX_NESTING, no number longer than
 * 64 characters, PLECS's fault text cut at PROTO_MAX_STRING bytes; the
 * caller bounds the answer's size.  Nothing recursive: a hostile answer
 * costs its bytes' scan and stops at the first one past a limit.
 *
 * Order: plecs_answer_new, plecs_answer_feed for each piece until it
 * returns false or the answer ends, plecs_answer_finish once, then
 * plecs_answer_error or plecs_answer_take, and plecs_answer_free.  A
 * decoder belongs to one thread.
 */
#ifndef SIMQ_PLECS_ANSWER_H
#define SIMQ_PLECS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/results.h"

struct plecs_answer;

enum plecs_answer_end {
	PLECS_ANSWER_RESULTS, /* one result per case (a case PLECS gave no usable result for has its error) */
	PLECS_ANSWER_FAULT,   /* PLECS answered a fault: the error is its faultString */
	PLECS_ANSWER_BROKEN,  /* the answer is not XML-RPC, or not one simq reads: the error says why */
};

/* A decoder for the answer to a call of ncases cases, sent as a list (as_list) or as one optStruct. */
struct plecs_answer *plecs_answer_new(size_t ncases, bool as_list);
/* Reads the answer's next len bytes; false, now and after, once it is refused (plecs_answer_error says why). */
bool plecs_answer_feed(struct plecs_answer *a, const char *data, size_t len);
/* Has the answer begun its results (so it is no fault), with nothing refused so far? */
bool plecs_answer_has_results(const struct plecs_answer *a);
/* Ends the answer (every byte was fed) and says what it was. */
enum plecs_answer_end plecs_answer_finish(struct plecs_answer *a);
/* FAULT: PLECS's text; BROKEN or refused: a sentence saying what is wrong and where; else "". */
const char *plecs_answer_error(const struct plecs_answer *a);
/* RESULTS: the ncases results, handed over (free each with result_data_free, then the array). */
struct result_data *plecs_answer_take(struct plecs_answer *a);
void plecs_answer_free(struct plecs_answer **a);

#endif
