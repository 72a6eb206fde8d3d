/*
 * xmlin — an XML-RPC answer or call read into xmlrpc-c values, with expat.
 *
 * xmlrpc-c's own reader builds a tree of every element before it makes a
 * value of it: a console's view (60 KB, a thousand values) took 1.9 ms to
 * read, most of simq.view's budget.  This reader makes the values as expat
 * reports the elements, in one pass, and reads each <double> with strtod
 * (exact, so proto_exact_doubles has nothing to do for answers read here).
 * It takes every XML-RPC type xmlrpc-c writes, with the i8 and nil
 * extensions, and refuses what XML-RPC does not allow: a DOCTYPE, an element
 * out of place, a number out of range, values nested deeper than
 * PROTO_XMLIN_MAX_DEPTH.  The server reads each call to its own methods
 * with it (a submit_many of 1,000 tasks took xmlrpc-c's reader 5.3 ms and
 * takes this one 4.3), clients and plecs/ each answer.  Pure; any thread.
 */
#ifndef SIMQ_PROTO_XMLIN_H
#define SIMQ_PROTO_XMLIN_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

/* Arrays and structs nested in one answer, at most (xmlrpc-c's default limit is 64). */
#define PROTO_XMLIN_MAX_DEPTH 64

/*
 * Reads a methodResponse.  An answer: true, *result set (the caller's), *fault_string NULL.  A fault:
 * true, *result NULL, *fault_code and *fault_string (malloc'd) set.  Not XML-RPC: false and *err
 * (malloc'd) says what is wrong and where.
 */
bool proto_parse_response(const char *xml, size_t len, xmlrpc_value **result, int *fault_code, char **fault_string,
			  char **err);

/*
 * Reads a methodCall.  True: *method (malloc'd) and *params (an array, the caller's) set.  Not
 * XML-RPC, or not the XML-RPC this reader takes: false and *err (malloc'd) says what is wrong.
 */
bool proto_parse_call(const char *xml, size_t len, char **method, xmlrpc_value **params, char **err);

#endif
