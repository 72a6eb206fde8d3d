/*
 * reply — reading the server's answers: the members of an XML-RPC struct and
 * the items of an array as C values, with a default where one is absent or of
 * another type, and the lines of simq.view's log.
 *
 * The one set of readers the CLI and the console share.  Pure functions of
 * the value they are given; any thread.  Values returned as xmlrpc_value are
 * borrowed: they live as long as the answer they came from.
 */
#ifndef SIMQ_CLIENT_REPLY_H
#define SIMQ_CLIENT_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

#include "util/log.h"

/* Member key of struct v (borrowed), or NULL when v is no struct or has no such member. */
xmlrpc_value *reply_member(xmlrpc_value *v, const char *key);
/* A string member copied into buf ("" when absent or not a string); returns buf. */
const char *reply_str(xmlrpc_value *v, const char *key, char *buf, size_t size);
/* Any member as text: numbers in decimal, booleans yes/no, arrays and structs as JSON; returns buf. */
const char *reply_text(xmlrpc_value *v, const char *key, char *buf, size_t size);
/* An integer (int, i8, double or boolean) member, or def. */
int64_t reply_int(xmlrpc_value *v, const char *key, int64_t def);
/* A number member, or def. */
double reply_num(xmlrpc_value *v, const char *key, double def);

/* How many items array a has; 0 when it is no array. */
int reply_count(xmlrpc_value *a);
/* Item i of array a (borrowed), or NULL. */
xmlrpc_value *reply_item(xmlrpc_value *a, int i);
/* Item i of array a as an integer, or def. */
int64_t reply_item_int(xmlrpc_value *a, int i, int64_t def);
/* Is backend b (an item of `backends`) DOWN: asked and not answering?  One not asked yet (checking) is not. */
bool reply_backend_down(xmlrpc_value *b);

/* One line of simq.view's `log` array. */
struct reply_log_line {
	int64_t seq;
	char time[64]; /* "2026-11-28T03:00:05.123Z" */
	char text[4096];
	enum log_level severity; /* its `severity` member: info (when absent), warning or error */
};

/* Line i of view's log; false when there is none. */
bool reply_log_line(xmlrpc_value *view, int i, struct reply_log_line *line);

#endif
