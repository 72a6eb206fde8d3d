/*
 * request — one HTTP request on its connection's thread, around Abyss: its
 * header waited for whole before Abyss reads it, the body of POST /RPC2 read
 * under xmlscan's limits (doc/api.md, "Limits"), read by xmlin and run by
 * the method it names (xmlrpc-c's registry runs what xmlin does not take),
 * and the answers written.  http.c owns the listeners and hands the loop the
 * calls the methods make.
 */
#ifndef SIMQ_SERVER_REQUEST_H
#define SIMQ_SERVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>

struct buf;

/* The largest request header (Abyss reads one into a buffer of 4 KiB). */
#define REQUEST_MAX_HEADER 4000
#define REQUEST_MAX_HEADER_TEXT "4,000"

/* Waits until the header on fd has arrived whole (peeking: Abyss reads it after); false when the
 * request goes no further (answered 431 if its header is too large). */
bool request_wait_header(int fd, int header_s);
/*
 * The methods a listener answers: xmlrpc-c's registry, and methods[] (what was added to it), which a call
 * naming one of them reaches through simq's own reader (proto_parse_call) rather than xmlrpc-c's.
 */
struct request_api {
	xmlrpc_registry *registry;
	const struct xmlrpc_method_info3 *methods;
	size_t n;
};

/* Abyss handler (userdata: the struct request_api) for POST /RPC2; call_info of a method is the connection. */
void request_serve_rpc(void *api, TSession *session, abyss_bool *handled);
/* Answers the XML-RPC call of this request through api, whatever its path (the proxy's /RPC2/critical...). */
void request_answer_rpc(const struct request_api *api, TSession *session);
/* The peer's address as text (IPv4 or IPv6), "?" when unknown. */
void request_peer(TSession *session, char *out, size_t size);
/* Reads and drops a small body, so that a client reads the refusal that follows rather than a reset. */
void request_drop_small_body(TSession *session);
/* A method's, on the connection's thread: whether its call names it alone (not system.multicall), so that it
 * may write the whole answer itself. */
bool request_single_call(void);
/* A method's, in a call that names it alone: xml (heap, taken) is the whole methodResponse sent, instead of what
 * the registry writes of the method's result; xmlrpc-c's writing of thousands of doubles is slow. */
void request_answer_xml(struct buf *xml);
/* Keeps the doubles of a method's result for its answer (called by the method, on the connection's thread). */
void request_keep_doubles(xmlrpc_value *result);
void request_respond(TSession *session, int status, const char *type, const char *body, size_t len);
void request_respond_text(TSession *session, int status, const char *text);

#endif
