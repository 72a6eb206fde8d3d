#include "autoconf.h"

#include "server/request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xmlrpc-c/server.h>

#include "proto/doubles.h"
#include "proto/proto.h"
#include "proto/xmlin.h"
#include "proto/xmlscan.h"
#include "server/conns.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

/* Writes a whole response on fd itself, for a connection Abyss never sees. */
static void respond_raw(int fd, int status, const char *reason, const char *text)
{
	char head[256];
	int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, reason, strlen(text));

	char drain[4096];
	size_t dropped = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
		send(fd, text, strlen(text), MSG_NOSIGNAL);
	/* Closing with unread bytes would reset the connection, and the client might lose the answer:
	 * read a little of what it still sends, for a moment. */
	shutdown(fd, SHUT_WR);
	while (dropped < 65536 && poll(&p, 1, 200) > 0) {
		ssize_t got = recv(fd, drain, sizeof drain, MSG_DONTWAIT);

		if (got <= 0)
			break;
		dropped += (size_t)got;
	}
}

/*
 * Waits, peeking, until the request's header has arrived whole, so that Abyss reads it after in
 * one go: Abyss 1.33 never frees what it parsed of a header that did not end (the method and URI
 * of a client cut off mid-header, or of a header larger than its buffer), a leak any client could
 * repeat.  A header larger than REQUEST_MAX_HEADER is answered 431 here.  False when the request
 * goes no further: the connection ended (closed, or cut at its deadline), header_s passed, or
 * the header was too large.
 */
bool request_wait_header(int fd, int header_s)
{
	char peek[REQUEST_MAX_HEADER + 1];
	int64_t deadline = time_mono_ns() + (int64_t)header_s * 1000000000;
	int backoff_ms = 5;

	for (;;) {
		ssize_t n = recv(fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
		int64_t left_ms = (deadline - time_mono_ns()) / 1000000;
		struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return false;
		if (n > 0 && (memmem(peek, (size_t)n, "\r\n\r\n", 4) || memmem(peek, (size_t)n, "\n\n", 2)))
			return true;
		if (n == (ssize_t)sizeof peek) {
			respond_raw(fd, 431, "Request Header Fields Too Large",
				    "simq: a request header is at most " REQUEST_MAX_HEADER_TEXT " bytes\n");
			return false;
		}
		if (left_ms <= 0)
			return false;
		/* Nothing yet: wait for it.  Part of it: the rest, looking again a little later each time. */
		if (n > 0) {
			p.events = POLLRDHUP;
			left_ms = left_ms < backoff_ms ? left_ms : backoff_ms;
			backoff_ms = backoff_ms < 200 ? 2 * backoff_ms : 200;
		}
		if (poll(&p, 1, (int)left_ms) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return false;
	}
}

void request_respond(TSession *session, int status, const char *type, const char *body, size_t len)
{
	ResponseStatus(session, (uint16_t)status);
	ResponseContentType(session, type);
	ResponseContentLength(session, len);
	ResponseWriteStart(session);
	ResponseWriteBody(session, body, (uint32_t)len);
	ResponseWriteEnd(session);
}

void request_respond_text(TSession *session, int status, const char *text)
{
	request_respond(session, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* An XML-RPC fault, as xmlrpc-c would answer a method's. */
static void respond_fault(TSession *session, int code, const char *text)
{
	xmlrpc_env env, fault;
	xmlrpc_mem_block *out;

	xmlrpc_env_init(&env);
	xmlrpc_env_init(&fault);
	xmlrpc_env_set_fault(&fault, code, text);
	out = xmlrpc_mem_block_new(&env, 0);
	if (out)
		xmlrpc_serialize_fault(&env, out, &fault);
	if (out && !env.fault_occurred)
		request_respond(session, 200, "text/xml; charset=\"utf-8\"", xmlrpc_mem_block_contents(out),
			xmlrpc_mem_block_size(out));
	else
		request_respond_text(session, 500, text);
	if (out)
		xmlrpc_mem_block_free(out);
	xmlrpc_env_clean(&fault);
	xmlrpc_env_clean(&env);
}

/*
 * Reads and drops a small body before a refusal: closing a socket with unread bytes resets the
 * connection, and the client may lose the answer.  A client that waits for "100 Continue" has
 * sent nothing yet, and a large body is not worth reading.
 */
/* Reads and drops the body when it is at most max bytes and the client sends it unasked (no Expect). */
static void drop_body(TSession *session, uint64_t max)
{
	const char *length = RequestHeaderValue(session, "content-length");
	const char *expect = RequestHeaderValue(session, "expect");
	unsigned long long n = length ? strtoull(length, NULL, 10) : 0;

	if (expect || n > max)
		return;
	for (uint64_t got = 0; got < n;) {
		const char *chunk;
		size_t len;

		if (SessionReadDataAvail(session) == 0 && !SessionRefillBuffer(session))
			return;
		SessionGetReadData(session, (size_t)(n - got), &chunk, &len);
		got += len;
	}
}

void request_drop_small_body(TSession *session)
{
	drop_body(session, 65536);
}

/* The request body's length from Content-Length, or 0 after answering why there is none. */
static uint64_t body_length(TSession *session)
{
	const char *type = RequestHeaderValue(session, "content-type");
	const char *length = RequestHeaderValue(session, "content-length");
	char *end;
	unsigned long long n;

	if (type == NULL || strncmp(type, "text/xml", 8) != 0 || (type[8] != '\0' && type[8] != ';')) {
		request_drop_small_body(session);
		request_respond_text(session, 400, "simq: an XML-RPC call is Content-Type text/xml\n");
		return 0;
	}
	if (length == NULL) {
		request_respond_text(session, 411, "simq: an XML-RPC call needs a Content-Length header\n");
		return 0;
	}
	n = strtoull(length, &end, 10);
	if (end == length || *end != '\0' || n == 0 || length[0] == '-') {
		request_respond_text(session, 400, "simq: the Content-Length header is not a positive number\n");
		return 0;
	}
	return n;
}

/* The longest a request's body may take to arrive, whole. */
#define BODY_DEADLINE_S 60

/*
 * Reads a body of n bytes into *body while the scan passes it; past a limit the rest is read and
 * dropped, so the client reads the fault.  False when the connection ended first.
 */
static bool read_body(TSession *session, uint64_t n, struct buf *body, struct xmlscan *scan)
{
	bool scanning = true;
	int64_t deadline = time_mono_ns() + (int64_t)BODY_DEADLINE_S * 1000000000;

	for (uint64_t got = 0; got < n;) {
		const char *chunk;
		size_t len;

		/* A body trickled in a byte at a time must not hold its thread (and a large one's turn) for ever. */
		if (time_mono_ns() > deadline)
			return false;
		/* Sends "100 Continue" first, when the client asked for it. */
		if (SessionReadDataAvail(session) == 0 && !SessionRefillBuffer(session))
			return false;
		SessionGetReadData(session, (size_t)(n - got), &chunk, &len);
		got += len;
		scanning = scanning && xmlscan_feed(scan, chunk, len);
		if (scanning)
			buf_add(body, chunk, len);
	}
	return true;
}

/*
 * The doubles of the answer the method being run on this connection's thread returned, so that
 * answer_call writes them exactly (xmlrpc-c's registry writes some a unit off).
 */
static __thread struct proto_doubles answer_doubles;

void request_keep_doubles(xmlrpc_value *result)
{
	struct proto_doubles more;

	if (result == NULL)
		return;
	/* system.multicall runs several methods for one answer: their doubles follow in order. */
	proto_doubles_of(result, &more);
	answer_doubles.all = xreallocarray(answer_doubles.all, answer_doubles.n + more.n + 1, sizeof(double));
	if (more.n)
		memcpy(answer_doubles.all + answer_doubles.n, more.all, more.n * sizeof(double));
	answer_doubles.n += more.n;
	proto_doubles_free(&more);
}

/* Whether the call being answered on this thread names one method (not system.multicall), and the
 * answer one of them wrote itself (request_answer_xml). */
static __thread bool single_call;
static __thread struct buf *own_answer;

bool request_single_call(void)
{
	return single_call;
}

void request_answer_xml(struct buf *xml)
{
	if (own_answer)
		buf_free(own_answer);
	free(own_answer);
	own_answer = xml;
}

/* Whether body calls one method by its plain name, not system.multicall (whose answer holds several). */
static bool names_one_method(const struct buf *body)
{
	const char *open = memmem(body->data, body->len, "<methodName>", 12), *name, *close;

	if (open == NULL)
		return false;
	name = open + 12;
	close = memchr(name, '<', body->len - (size_t)(name - body->data));
	return close && memchr(name, '&', (size_t)(close - name)) == NULL &&
	       !(close - name >= 16 && memmem(name, (size_t)(close - name), "system.multicall", 16));
}

/* How many <double> values xml holds. */
static size_t doubles_in(const char *xml, size_t len)
{
	size_t n = 0;

	for (const char *p = xml, *end = xml + len; (p = memmem(p, (size_t)(end - p), "<double>", 8)) != NULL; p += 8)
		n++;
	return n;
}

/* The method of api's table that name is; NULL when only the registry has it (the system methods). */
static const struct xmlrpc_method_info3 *find_method(const struct request_api *api, const char *name)
{
	for (size_t i = 0; i < api->n; i++)
		if (strcmp(api->methods[i].methodName, name) == 0)
			return &api->methods[i];
	return NULL;
}

/*
 * Reads the call with xmlin and runs the method it names, writing its answer to out as the registry
 * would.  False, nothing done, when the registry is to run it: a call xmlin does not take (*why says
 * why) or a method of the registry's own, such as system.multicall.
 * xmlrpc-c's reader builds a tree of every element before it makes a value: it was most of what a
 * submit_many of 1,000 tasks cost the server.
 */
static bool run_method(const struct request_api *api, const struct buf *body, xmlrpc_env *env, xmlrpc_mem_block **out,
		       char **why)
{
	const struct xmlrpc_method_info3 *m = NULL;
	char *method = NULL;
	xmlrpc_value *params = NULL, *result;
	xmlrpc_env fault;

	if (!proto_parse_call(buf_str(body), body->len, &method, &params, why) ||
	    (m = find_method(api, method)) == NULL) {
		free(method);
		if (params)
			xmlrpc_DECREF(params);
		return false;
	}
	xmlrpc_env_init(&fault);
	single_call = true;
	result = m->methodFunction(&fault, params, m->serverInfo, conns_current());
	single_call = false;
	*out = XMLRPC_MEMBLOCK_NEW(char, env, 0);
	if (!env->fault_occurred && !fault.fault_occurred && result == NULL)
		xmlrpc_env_set_fault(env, XMLRPC_INTERNAL_ERROR, "the method gave no result");
	if (!env->fault_occurred && fault.fault_occurred)
		xmlrpc_serialize_fault(env, *out, &fault);
	else if (!env->fault_occurred)
		xmlrpc_serialize_response2(env, *out, result, xmlrpc_dialect_i8);
	if (result)
		xmlrpc_DECREF(result);
	xmlrpc_DECREF(params);
	free(method);
	xmlrpc_env_clean(&fault);
	return true;
}

/* Whether xmlrpc-c's reader takes the call in body. */
static bool xmlrpc_c_reads(const struct buf *body)
{
	xmlrpc_env env;
	const char *method = NULL;
	xmlrpc_value *params = NULL;
	bool ok;

	xmlrpc_env_init(&env);
	xmlrpc_parse_call(&env, buf_str(body), body->len, &method, &params);
	ok = !env.fault_occurred;
	if (ok) {
		free((void *)method);
		xmlrpc_DECREF(params);
	}
	xmlrpc_env_clean(&env);
	return ok;
}

/* Runs a scanned call (call_info: the connection) and answers it. */
static void answer_call(const struct request_api *api, TSession *session, struct buf *body)
{
	xmlrpc_env env;
	xmlrpc_mem_block *out = NULL;
	struct buf exact = BUF_INIT;
	char *why = NULL;

	xmlrpc_env_init(&env);
	if (!run_method(api, body, &env, &out, &why)) {
		proto_exact_doubles(body);
		if (why && !xmlrpc_c_reads(body)) {
			/* Neither reader takes it: xmlin's reason names the value and what is allowed. */
			char *text = xasprintf("the request cannot be read: %s", why);

			respond_fault(session, PROTO_FAULT_INVALID, text);
			free(text);
			free(why);
			xmlrpc_env_clean(&env);
			return;
		}
		single_call = names_one_method(body);
		xmlrpc_registry_process_call2(&env, api->registry, buf_str(body), body->len, conns_current(), &out);
		single_call = false;
	}
	free(why);
	if (env.fault_occurred) {
		request_respond_text(session, 500, env.fault_string);
	} else if (own_answer) {
		request_respond(session, 200, "text/xml; charset=\"utf-8\"", buf_str(own_answer), own_answer->len);
	} else if (answer_doubles.n > 0 &&
		   doubles_in(xmlrpc_mem_block_contents(out), xmlrpc_mem_block_size(out)) == answer_doubles.n) {
		proto_write_doubles(xmlrpc_mem_block_contents(out), xmlrpc_mem_block_size(out), &answer_doubles, &exact);
		request_respond(session, 200, "text/xml; charset=\"utf-8\"", buf_str(&exact), exact.len);
	} else {
		request_respond(session, 200, "text/xml; charset=\"utf-8\"", xmlrpc_mem_block_contents(out),
			xmlrpc_mem_block_size(out));
	}
	buf_free(&exact);
	request_answer_xml(NULL);
	proto_doubles_free(&answer_doubles);
	if (out)
		xmlrpc_mem_block_free(out);
	xmlrpc_env_clean(&env);
}

/*
 * xmlrpc-c holds some 30 times a request's size while it parses it: a large request (a submit_many of
 * tens of thousands of tasks) takes its turn, one at a time, so a few clients cannot make the server
 * hold gigabytes.  Small calls never wait.
 */
#define LARGE_BODY (4u * 1024 * 1024)
/* The largest body read only to be dropped before the fault that says it is too large. */
#define DROP_MAX (UINT64_C(1) << 30)

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t large_free = PTHREAD_COND_INITIALIZER;
static bool large_busy;

static void large_take(void)
{
	pthread_mutex_lock(&large_lock);
	while (large_busy)
		pthread_cond_wait(&large_free, &large_lock);
	large_busy = true;
	pthread_mutex_unlock(&large_lock);
}

static void large_give(void)
{
	pthread_mutex_lock(&large_lock);
	large_busy = false;
	pthread_cond_signal(&large_free);
	pthread_mutex_unlock(&large_lock);
}

/* POST /RPC2: the body goes to xmlrpc-c only after the scan passed it whole (doc/api.md, "Limits"). */
void request_serve_rpc(void *api, TSession *session, abyss_bool *handled)
{
	const TRequestInfo *info = NULL;

	SessionGetRequestInfo(session, &info);
	*handled = info && strcmp(info->uri, "/RPC2") == 0;
	if (*handled)
		request_answer_rpc(api, session);
}

void request_answer_rpc(const struct request_api *api, TSession *session)
{
	const TRequestInfo *info = NULL;
	static const struct xmlscan_limits limits = {.max_bytes = PROTO_MAX_CALL_BYTES,
						     .max_nesting = PROTO_MAX_NESTING,
						     .max_depth = PROTO_MAX_XML_DEPTH,
						     .max_text = PROTO_MAX_TEXT};
	struct xmlscan scan;
	struct buf body = BUF_INIT;
	uint64_t n;

	SessionGetRequestInfo(session, &info);
	if (info->method != m_post) {
		request_respond_text(session, 405, "simq: XML-RPC calls are HTTP POST requests\n");
		return;
	}
	if ((n = body_length(session)) == 0)
		return;
	if (n > PROTO_MAX_CALL_BYTES) {
		char *why = xasprintf("the request is %" PRIu64 " bytes; at most %u: send its tasks in several calls", n,
				      PROTO_MAX_CALL_BYTES);

		/* A client that sent Expect: 100-continue reads this before it sends the body.  One that sends it
		 * unasked (Python's xmlrpc.client) would get a reset, never the fault, were it not read: it is
		 * read and dropped, up to DROP_MAX, holding nothing. */
		drop_body(session, DROP_MAX);
		respond_fault(session, PROTO_FAULT_INVALID, why);
		free(why);
		return;
	}
	xmlscan_init(&scan, &limits);
	if (n > LARGE_BODY)
		large_take();
	if (!read_body(session, n, &body, &scan)) {
		ResponseStatus(session, 408);
	} else if (xmlscan_error(&scan)[0]) {
		char *why = xasprintf("the request %s; see Limits in " SIMQ_DOCDIR "/api.md", xmlscan_error(&scan));

		respond_fault(session, PROTO_FAULT_INVALID, why);
		free(why);
	} else {
		answer_call(api, session, &body);
	}
	buf_free(&body);
	if (n > LARGE_BODY)
		large_give();
}

void request_peer(TSession *session, char *out, size_t size)
{
	void *info = NULL;

	snprintf(out, size, "?");
	SessionGetChannelInfo(session, &info);
	if (info == NULL)
		return;
	const struct sockaddr *sa = &((struct abyss_unix_chaninfo *)info)->peerAddr;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}
