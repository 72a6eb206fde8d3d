/*
 * proto — what the server and its clients agree on: fault codes, limits,
 * the conversion between XML-RPC values and JSON (jansson), and the names
 * messages give XML-RPC types (plecs-emu's messages use them too).
 *
 * ModelVars and SolverOpts travel as XML-RPC structs and are stored as
 * canonical JSON (sorted keys, compact), so equal variable sets have equal
 * text.  Pure functions, safe on any thread.
 */
#ifndef SIMQ_PROTO_PROTO_H
#define SIMQ_PROTO_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <xmlrpc-c/base.h>

/* XML-RPC fault codes of simq's API; the CLI maps them to exit statuses. */
#define PROTO_FAULTS(X)                                      \
	X(INVALID, 1, "bad input")                           \
	X(NOT_FOUND, 2, "no such task")                      \
	X(STATE, 3, "not allowed in the task's state")       \
	X(STORE, 4, "the server could not save or read")     \
	X(SHUTTING_DOWN, 5, "the server is shutting down")   \
	X(AUTH, 6, "not authorised")                         \
	X(BUSY, 7, "the server holds as many waiting calls as it keeps") \
	X(FILE, 8, "a result file could not be read")

enum proto_fault {
#define X(id, code, text) PROTO_FAULT_##id = code,
	PROTO_FAULTS(X)
#undef X
};

/* Limits on what one call may carry. */
#define PROTO_MAX_NAME 200          /* task name, tag, backend name */
#define PROTO_MAX_TAGS 32
#define PROTO_MAX_VARS 256
#define PROTO_MAX_VAR_NAME 63
#define PROTO_MAX_STRING 4096
#define PROTO_MAX_ELEMENTS 1000000  /* numbers in one vector or matrix */
#define PROTO_MAX_BATCH 100000      /* tasks in one submit_many */
#define PROTO_MAX_CALL_BYTES (64u * 1024 * 1024)
/* What a client reads of an answer: a task's record written out again (simq.get) can be a little longer
 * than the call that carried it, and xmlrpc-c writes no answer over 128 MiB. */
#define PROTO_MAX_ANSWER_BYTES (128u * 1024 * 1024)
/* simq.wait answers within this many seconds, finished or not: a caller that waits longer calls again. */
#define PROTO_WAIT_SLICE_S 10.0
/* What xmlscan lets through to xmlrpc-c (doc/api.md, "Limits"): arrays and structs inside one
 * another, in a call or in PLECS's answer; elements (three a level: array, data, value); and the
 * text of one element of a call (a string, a name). */
#define PROTO_MAX_NESTING 64
#define PROTO_MAX_XML_DEPTH (3 * PROTO_MAX_NESTING + 8)
#define PROTO_MAX_TEXT (1024u * 1024)

/* What messages call a value of type t: "an integer", "a struct", ... */
const char *proto_type_name(xmlrpc_type t);
/* An XML-RPC value as JSON (caller decrefs); NULL and *err (heap) for types JSON lacks. */
json_t *proto_to_json(xmlrpc_value *v, char **err);
/* Whether proto_to_json() takes every type in v; false and *err (heap) as it would say, if not. */
bool proto_json_takes(xmlrpc_value *v, char **err);
/*
 * The value as a message shows what was given (heap): a string in quotes, a number, JSON for
 * an array or struct (NaN and infinities as nan, inf, -inf); escaped as buf_add_shown() does
 * and cut to 80 characters ("..." follows, and a string's length).  Reads no more of a big
 * value than it shows.
 */
char *proto_shown(xmlrpc_value *v);
/* Is v the string want? */
bool proto_is_string(xmlrpc_value *v, const char *want);
/*
 * Calls fn with each member of the struct v, in order, until fn returns false.  True when every
 * member was seen and fn took it; false when fn said no, or (with *err, heap) when v cannot be read.
 */
bool proto_each_member(xmlrpc_value *v, bool (*fn)(const char *key, xmlrpc_value *value, void *ud), void *ud,
		       char **err);
/* JSON as an XML-RPC value; integers that fit stay int, others become i8 or double.
 * NULL with env's fault when a value cannot be one (xmlrpc-c takes UTF-8 up to U+FFFF only). */
xmlrpc_value *proto_from_json(xmlrpc_env *env, const json_t *j);
/* s as an XML-RPC string, each character xmlrpc-c cannot carry (proto/xmlout.h) as U+FFFD: text from a
 * file name, say, is shown rather than refused. */
xmlrpc_value *proto_string_new(xmlrpc_env *env, const char *s);
/* An int, an i8 or a whole double (below 9e15 in size) as a 64-bit integer; false for anything else. */
bool proto_read_int64(xmlrpc_value *v, int64_t *out);
/* Canonical JSON text (sorted keys, compact, shortest round-trip numbers); heap string. */
char *proto_canonical(const json_t *j);
/* JSON text with shortest round-trip numbers: compact and sorted, or indented in insertion order. */
char *proto_json_text(const json_t *j, bool pretty);
/* Indented text as an item depth levels down writes it: an array written a part at a time. */
char *proto_json_text_at(const json_t *j, int depth);

/* The most numbers a vector or matrix of vars keeps in a row of a view (proto_brief_vars); the longest
 * string (bytes of its JSON text) it keeps, and how much of a longer one. */
#define PROTO_BRIEF_NUMBERS 16
#define PROTO_BRIEF_TEXT 64
#define PROTO_BRIEF_KEEP 48
/*
 * vars as a row of a list shows them (the console's panes, the dashboard's tables): the canonical
 * JSON text with each vector or matrix of more than PROTO_BRIEF_NUMBERS numbers as a string of its
 * size, "[1000000 numbers]" or "[3x400 matrix]", and each string of more than PROTO_BRIEF_TEXT bytes
 * as its first PROTO_BRIEF_KEEP or so (whole characters) and "…", so that a row costs little whatever
 * a task carries.  Reads the text, never its numbers; heap, or NULL when nothing is shortened (use
 * text as it is).
 */
char *proto_brief_vars(const char *text);
/* The same read as a JSON object; NULL when text is not one. */
json_t *proto_brief_vars_json(const char *text);


#endif
