/*
 * doubles — XML-RPC <double> values read exactly.
 *
 * xmlrpc-c 1.33 reads a <double> written without an exponent ("0.42") with
 * its own digit arithmetic, one to three units in the last place off
 * (0.42 arrives as 0.42000000000000004), but hands a value with an exponent
 * to strtod, which is exact.  proto_exact_doubles() rewrites a message
 * before xmlrpc-c parses it so that every such <double> carries "e0": the
 * value a client wrote is the value simq stores, shows and sends on.  The
 * server runs it on each call, the CLI on each answer, plecs-emu on each
 * call.
 *
 * xmlrpc-c also writes some doubles a unit off (0.30000000000000004 as
 * "0.30000000000000006"): proto_serialize_call() (xmlout.h) writes a call with each
 * double as the shortest of 15, 16 or 17 significant digits that reads
 * back as the same double, so PLECS and simq's server get the values the
 * caller holds.  Pure functions; any thread.
 */
#ifndef SIMQ_PROTO_DOUBLES_H
#define SIMQ_PROTO_DOUBLES_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

struct buf;

/*
 * Rewrites msg (a whole XML-RPC call or response) in place: "<double>0.42</double>" becomes
 * "<double>0.42e0</double>".  Text in comments, CDATA sections and processing instructions is
 * left alone, and so is anything but plain decimal text.  True when it changed msg.
 */
bool proto_exact_doubles(struct buf *msg);

/* The doubles of a value, in the order xmlrpc-c writes them. */
struct proto_doubles {
	double *all;
	size_t n;
};

void proto_doubles_of(xmlrpc_value *v, struct proto_doubles *out);
void proto_doubles_free(struct proto_doubles *d);
/* Appends x as the shortest of 15, 16 or 17 significant digits that reads back as x. */
void proto_add_double(struct buf *b, double x);
/* Appends xml (xmlrpc-c's writing of the value d was taken from) to out with each <double> exact. */
void proto_write_doubles(const char *xml, size_t len, const struct proto_doubles *d, struct buf *out);

#endif
