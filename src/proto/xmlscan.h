/*
 * xmlscan — a cheap look at XML-RPC bytes before xmlrpc-c parses them.
 *
 * xmlrpc-c builds a tree of every element and frees it recursively, so a
 * document nested some thousands deep overflows a thread's stack before any
 * limit of its own applies (issue 14).  A scan reads a document as it
 * arrives, in pieces of any size, and stops at the first byte past one of
 * its limits: the size, how deep elements nest, how deep arrays and structs
 * nest, and how much text one element holds.  It also refuses what XML-RPC
 * never carries: a DOCTYPE or any other <!...> declaration but comments and
 * CDATA (so no entities beyond XML's own), NUL bytes (UTF-16 text), and an
 * <i8> whose text is not a 64-bit integer (xmlrpc-c 1.33 crashes formatting
 * its own message about one).
 *
 * It is no parser and never under-counts what xmlrpc-c would build: what it
 * lets through, xmlrpc-c still checks.  The server scans each request body
 * (http.c) and plecs/ each answer (pool.c) with it.  No allocation; a scan
 * belongs to one thread.
 */
#ifndef SIMQ_PROTO_XMLSCAN_H
#define SIMQ_PROTO_XMLSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The deepest max_depth a scan takes: its per-element text counts are a fixed array. */
#define XMLSCAN_DEPTH_CAP 256

struct xmlscan_limits {
	size_t max_bytes;   /* the whole document */
	int max_nesting;    /* <array> and <struct> elements open at once */
	int max_depth;      /* elements open at once, up to XMLSCAN_DEPTH_CAP */
	size_t max_text;    /* bytes of text (blanks aside) in one element; 0: no limit */
};

struct xmlscan {
	struct xmlscan_limits limits;
	size_t bytes;
	int depth, nesting;
	int state;          /* where in the markup the last byte left the scan */
	size_t run;         /* progress through "<![CDATA[", or the run of '-', ']' or '?' before a '>' */
	char quote;         /* the quote an attribute value is in */
	bool slash;         /* the tag's last byte so far was '/' */
	bool container;     /* the tag being read opens or closes an array or struct */
	bool name_done;     /* an end tag's name has ended */
	int name_len;
	char name[8];       /* the tag's name, enough of it to tell array and struct */
	size_t text[XMLSCAN_DEPTH_CAP + 1];
	int i8_depth;       /* the depth of the <i8> element open, or 0 */
	char i8[24];        /* its text so far */
	size_t i8_len;
	char error[128];    /* set once a limit is passed: what, and at which byte */
};

void xmlscan_init(struct xmlscan *s, const struct xmlscan_limits *limits);
/* Reads the document's next len bytes; false, now and for every later piece, once it is past a limit. */
bool xmlscan_feed(struct xmlscan *s, const char *data, size_t len);
/* Why the scan stopped ("nests arrays and structs deeper than 64 (byte 812)"), or "" while it has not. */
const char *xmlscan_error(const struct xmlscan *s);

#endif
