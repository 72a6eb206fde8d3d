/*
 * xmlcall — an XML-RPC call written straight into a buffer, as the CLI
 * sends it to simq's server and plecs/ sends it to PLECS.
 *
 * xmlrpc-c's writer takes a lock and a malloc per value and writes some
 * doubles a unit off; this writes the same bytes, but for each <double>,
 * which is the shortest text that reads back as the same double
 * (proto_add_double).  Pure; any thread.
 */
#ifndef SIMQ_PROTO_XMLCALL_H
#define SIMQ_PROTO_XMLCALL_H

#include <stdbool.h>
#include <stdint.h>
#include <xmlrpc-c/base.h>

struct buf;

/*
 * The call method(params) appended to out, byte for byte as xmlrpc-c 1.33 writes it: strings and names
 * with only &, < and > escaped and each CR LF or lone CR made a LF, CR LF between elements.  False (out
 * as it was) and env's fault when params is not an array.
 */
bool proto_serialize_call(xmlrpc_env *env, struct buf *out, const char *method, xmlrpc_value *params);
/* <value><i4>v</i4></value>, or <i8> when i8; without snprintf, for answers that write thousands. */
void proto_xml_int(struct buf *b, int64_t v, bool i8);

#endif
