/*
 * xmlout — XML-RPC values written straight into a buffer.
 *
 * For the answers simq writes by the thousand (a console's queue page, its
 * history rows): building them as xmlrpc-c values and having the registry
 * write those cost a malloc and a mutex per value, and most of simq.view's
 * time.  These write the same XML as xmlrpc-c does, each <double> exact
 * (proto_add_double), and each character XML-RPC cannot carry as xmlrpc-c
 * carries it (bytes that are not UTF-8, characters beyond U+FFFF, U+FFFE and
 * U+FFFF, control characters other than tab, line feed and carriage return)
 * as U+FFFD: a reader gets the rest, never an answer it cannot read.  The
 * member writers append a whole <member> of a struct the caller opened with
 * PROTO_XML_STRUCT_OPEN.  Pure; any thread.
 */
#ifndef SIMQ_PROTO_XMLOUT_H
#define SIMQ_PROTO_XMLOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define PROTO_XML_STRUCT_OPEN "<value><struct>\n"
#define PROTO_XML_STRUCT_CLOSE "</struct></value>"
#define PROTO_XML_ARRAY_OPEN "<value><array><data>\n"
#define PROTO_XML_ARRAY_CLOSE "</data></array></value>"

/* Appends s escaped for XML text. */
void proto_xml_text(struct buf *b, const char *s, size_t len);
/* <value><string>s</string></value> */
void proto_xml_string(struct buf *b, const char *s);
/* A JSON value as XML-RPC, as proto_from_json makes it: objects structs, integers i4 or i8, null nil. */
void proto_xml_json(struct buf *b, const json_t *j);

void proto_xml_member_string(struct buf *b, const char *name, const char *s);
/* An <i4>, or an <i8> when v does not fit in 32 bits. */
void proto_xml_member_int(struct buf *b, const char *name, int64_t v);
void proto_xml_member_i8(struct buf *b, const char *name, int64_t v);
void proto_xml_member_bool(struct buf *b, const char *name, bool v);
/* "vars" of a row: the task's vars JSON text as proto_brief_vars shortens it; text that is not a JSON
 * object (or NULL) as an empty struct. */
void proto_xml_member_brief_vars(struct buf *b, const char *text);
/* Opens a member whose value the caller writes (a <value> element), then proto_xml_member_end. */
void proto_xml_member_open(struct buf *b, const char *name);
void proto_xml_member_end(struct buf *b);

#endif
