/* The /RPC2 handler: reads a call, applies injected transport faults, answers. */
#include "autoconf.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xmlrpc-c/abyss.h>

#include "emu/emu.h"
#include "proto/doubles.h"
#include "util/buf.h"
#include "util/fds.h"
#include "util/xalloc.h"

/* Calls larger than this are refused: a thousand optStructs are far smaller. */
#define MAX_CALL_BYTES (64u * 1024 * 1024)

static int port_of(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return -1;
}

/*
 * Abyss does not hand out a session's socket, so the faults that act on the
 * connection itself find it among the process's open sockets, by the port
 * it was accepted on and the peer's address.  Only fault injection and
 * stopping do this.
 */
struct find_peer {
	int port;
	const struct sockaddr *want;
	size_t want_len;
	int fd;
};

static bool match_peer(const struct fds_socket *s, void *ud)
{
	struct find_peer *f = ud;
	size_t n = f->want_len < s->peer_len ? f->want_len : s->peer_len;

	if (port_of(&s->local) == f->port && n > 0 && memcmp(&s->peer, f->want, n) == 0) {
		f->fd = s->fd;
		return false;
	}
	return true;
}

/* The socket of this session's connection, or -1. */
static int session_fd(struct emu *emu, TSession *session)
{
	void *info = NULL;
	struct find_peer f = {.port = emu->port, .fd = -1};

	SessionGetChannelInfo(session, &info);
	if (info == NULL)
		return -1;
	f.want = &((struct abyss_unix_chaninfo *)info)->peerAddr;
	f.want_len = ((struct abyss_unix_chaninfo *)info)->peerAddrLen;
	if (f.want_len > sizeof(struct sockaddr))
		f.want_len = sizeof(struct sockaddr);
	fds_each_connected(match_peer, &f);
	return f.fd;
}

static bool hang_up(const struct fds_socket *s, void *ud)
{
	const struct emu *emu = ud;

	if (port_of(&s->local) == emu->port)
		shutdown(s->fd, SHUT_RDWR);
	return true;
}

void emu_hang_up_all(struct emu *emu)
{
	fds_each_connected(hang_up, emu);
}

/* Resets the connection (RST) while leaving the descriptor to Abyss, which closes it. */
static void reset_connection(int fd)
{
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct linger hard = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
	if (connect(fd, &unspec, sizeof unspec) != 0)
		shutdown(fd, SHUT_RDWR);
}

static void send_text(TSession *session, int status, const char *text)
{
	ResponseStatus(session, (xmlrpc_uint16_t)status);
	ResponseContentType(session, "text/plain");
	ResponseContentLength(session, strlen(text));
	ResponseWriteStart(session);
	ResponseWriteBody(session, text, (xmlrpc_uint32_t)strlen(text));
	ResponseWriteEnd(session);
}

static bool read_body(TSession *session, struct buf *body, size_t *want, const char **problem)
{
	const char *length = RequestHeaderValue(session, "content-length");
	char *end;
	unsigned long long n;

	if (length == NULL) {
		*problem = "411 a Content-Length header is required";
		return false;
	}
	n = strtoull(length, &end, 10);
	if (*end != '\0' || n > MAX_CALL_BYTES) {
		*problem = "413 the call is too large";
		return false;
	}
	*want = (size_t)n;
	while (body->len < *want) {
		const char *chunk;
		size_t len;

		if (SessionReadDataAvail(session) == 0 && !SessionRefillBuffer(session)) {
			*problem = "400 the connection closed before the whole call arrived";
			return false;
		}
		SessionGetReadData(session, *want - body->len, &chunk, &len);
		buf_add(body, chunk, len);
	}
	return true;
}

/* The text between <methodName> and </methodName>, cheaply, to decide on faults before parsing. */
static char *method_name(const struct buf *body)
{
	const char *start = strstr(buf_str(body), "<methodName>"), *end;

	if (start == NULL)
		return xstrdup("");
	start += strlen("<methodName>");
	end = strstr(start, "</methodName>");
	return end ? xstrndup(start, (size_t)(end - start)) : xstrdup("");
}

/* Holds the call until the client gives up and closes its end, or the emulator stops. */
static void hang(struct emu *emu, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	while (!atomic_load(&emu->stopping)) {
		int n = poll(&p, 1, 100);

		if (n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			break;
	}
}

/* One request on its way through the handler. */
struct call {
	struct emu *emu;
	TSession *session;
	struct buf body;
	char *method;
	bool plecs;                 /* a plecs.* method: it takes a call slot */
	struct emu_call_ctx ctx;
	double start;
};

static void record_until(const struct call *c, double end, const char *outcome)
{
	emu_record_call(c->emu, c->method, &c->ctx, c->start, end - c->start, outcome);
}

static void record(const struct call *c, const char *outcome)
{
	record_until(c, emu_now(), outcome);
}

/* Reads a POST to /RPC2 into c->body; anything else is answered here, and false. */
static bool read_call(struct call *c)
{
	const TRequestInfo *req;
	size_t want = 0;
	const char *problem = NULL;

	SessionGetRequestInfo(c->session, &req);
	if (strcmp(req->uri, "/RPC2") != 0) {
		send_text(c->session, 404, "plecs-emu answers XML-RPC at /RPC2 only\n");
		return false;
	}
	if (req->method != m_post) {
		send_text(c->session, 405, "XML-RPC calls are HTTP POST requests\n");
		return false;
	}
	if (!read_body(c->session, &c->body, &want, &problem)) {
		send_text(c->session, atoi(problem), problem + 4);
		return false;
	}
	return true;
}

/* A refused request: its connection is reset, new or kept alive.  True if this one is. */
static bool refuse_connection(struct call *c)
{
	int fd;

	if (!faults_may_refuse(&c->emu->faults))
		return false;
	fd = session_fd(c->emu, c->session);
	if (fd < 0 || !faults_next_connection(&c->emu->faults))
		return false;
	reset_connection(fd);
	/* Abyss finishes every session; its writes go nowhere now. */
	ResponseStatus(c->session, 500);
	emu_record_call(c->emu, "connection", NULL, c->start, emu_now() - c->start, "injected refuse");
	return true;
}

/* An injected hang: no answer until the client gives up; the call's slot is held meanwhile. */
static void hang_call(struct call *c)
{
	int fd = session_fd(c->emu, c->session);

	hang(c->emu, fd);
	emu_slot_release(c->emu);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	ResponseStatus(c->session, 500);
	record(c, "injected hang");
}

/* Writes the status and headers of a response that promises len bytes of XML. */
static void start_xml(TSession *session, size_t len)
{
	ResponseStatus(session, 200);
	ResponseContentType(session, "text/xml");
	ResponseContentLength(session, len);
	ResponseWriteStart(session);
}

/* Sends the registry's response (data, len) to the client: as it is, or spoilt by an injected fault. */
typedef void respond_fn(struct emu *emu, TSession *session, const char *data, size_t len);

static void respond_whole(struct emu *emu, TSession *session, const char *data, size_t len)
{
	start_xml(session, len);
	ResponseWriteBody(session, data, (xmlrpc_uint32_t)len);
	ResponseWriteEnd(session);
}

static void respond_http500(struct emu *emu, TSession *session, const char *data, size_t len)
{
	send_text(session, 500, "Internal Server Error\n");
}

/*
 * The response with its last bytes spoilt ("<</params>" where its end belongs): as long as the
 * answer, so a large one arrives whole and only its end is not XML, as a broken writer's would.
 */
static void respond_malformed(struct emu *emu, TSession *session, const char *data, size_t len)
{
	static const char spoilt[] = "<</params>";
	size_t keep = len > 64 ? len - 64 : 0;
	struct buf b = BUF_INIT;

	buf_add(&b, data, keep);
	buf_adds(&b, spoilt);
	start_xml(session, b.len);
	ResponseWriteBody(session, buf_str(&b), (xmlrpc_uint32_t)b.len);
	ResponseWriteEnd(session);
	buf_free(&b);
}

/* Well-formed XML-RPC nested 10,000 arrays deep: a client that parses it with xmlrpc-c unguarded crashes. */
static void respond_deep(struct emu *emu, TSession *session, const char *data, size_t len)
{
	static const char open[] = "<array><data><value>", close[] = "</value></data></array>";
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\"?>\r\n<methodResponse><params><param><value>");
	for (int i = 0; i < 10000; i++)
		buf_add(&b, open, sizeof open - 1);
	buf_adds(&b, "<int>1</int>");
	for (int i = 0; i < 10000; i++)
		buf_add(&b, close, sizeof close - 1);
	buf_adds(&b, "</value></param></params></methodResponse>\r\n");
	respond_whole(emu, session, buf_str(&b), b.len);
	buf_free(&b);
}

/* Promises the whole response, sends half of it, and hangs up. */
static void respond_drop(struct emu *emu, TSession *session, const char *data, size_t len)
{
	start_xml(session, len);
	ResponseWriteBody(session, data, (xmlrpc_uint32_t)(len / 2));
	shutdown(session_fd(emu, session), SHUT_RDWR);
}

/* The faults that spoil the response; the others act in the methods (or, hang, before the call). */
static respond_fn *const responders[FAULT_KIND_COUNT] = {
	[FAULT_HTTP500] = respond_http500,
	[FAULT_MALFORMED] = respond_malformed,
	[FAULT_DEEP] = respond_deep,
	[FAULT_DROP] = respond_drop,
};

/* Puts "ok" or "fault: " and its faultString in outcome; true for a fault response. */
static bool describe_response(const char *data, size_t len, char *outcome, size_t size)
{
	const char *fault = memmem(data, len > 200 ? 200 : len, "<fault>", 7);
	const char *msg, *open, *close;

	if (fault == NULL) {
		snprintf(outcome, size, "ok");
		return false;
	}
	msg = memmem(data, len, "<name>faultString</name>", 24);
	open = msg ? memmem(msg, (size_t)(data + len - msg), "<string>", 8) : NULL;
	close = open ? memmem(open, (size_t)(data + len - open), "</string>", 9) : NULL;
	snprintf(outcome, size, "fault: %.*s", close ? (int)(close - open - 8) : 0, close ? open + 8 : "");
	return true;
}

/* Sends the registry's response as the call's injected fault has it, and records the call. */
static void respond(struct call *c, const char *data, size_t len)
{
	respond_fn *spoil = c->ctx.fault != FAULT_NONE ? responders[c->ctx.fault] : NULL;
	char outcome[256];
	bool faulted = describe_response(data, len, outcome, sizeof outcome);
	/* The call ends as its answer goes out: the client's next call may start before this thread runs
	 * again, and calls in flight are counted from the record. */
	double end = emu_now();

	(spoil ? spoil : respond_whole)(c->emu, c->session, data, len);
	if (c->ctx.fault != FAULT_NONE && (spoil || !faulted))
		snprintf(outcome, sizeof outcome, "injected %s", fault_kind_name(c->ctx.fault));
	record_until(c, end, outcome);
}

/* Runs the call through the registry and answers it; the call's slot is released first. */
static void answer_call(struct call *c)
{
	xmlrpc_env env;
	xmlrpc_mem_block *output = NULL;

	xmlrpc_env_init(&env);
	proto_exact_doubles(&c->body);
	xmlrpc_registry_process_call2(&env, c->emu->registry, buf_str(&c->body), c->body.len, &c->ctx, &output);
	if (c->plecs)
		emu_slot_release(c->emu);
	if (env.fault_occurred) {
		/* Only a call that cannot be parsed at all gets here; method faults are in the response. */
		send_text(c->session, 400, env.fault_string);
		record(c, "bad request");
	} else if (c->ctx.doubles.n > 0) {
		struct buf exact = BUF_INIT;

		proto_write_doubles(xmlrpc_mem_block_contents(output), xmlrpc_mem_block_size(output), &c->ctx.doubles,
				    &exact);
		respond(c, buf_str(&exact), exact.len);
		buf_free(&exact);
	} else {
		respond(c, xmlrpc_mem_block_contents(output), xmlrpc_mem_block_size(output));
	}
	proto_doubles_free(&c->ctx.doubles);
	xmlrpc_env_clean(&env);
	if (output)
		xmlrpc_mem_block_free(output);
}

void emu_http_handle(void *ud, TSession *session, abyss_bool *handled)
{
	struct emu *emu = ud;
	struct call c = {.emu = emu, .session = session, .ctx = {.emu = emu, .fault = FAULT_NONE}, .start = emu_now()};

	*handled = true;
	if (!read_call(&c))
		goto out;
	c.method = method_name(&c.body);
	c.plecs = strncmp(c.method, "plecs.", 6) == 0;
	if (c.plecs && refuse_connection(&c))
		goto out;
	if (strcmp(c.method, "plecs.simulate") == 0)
		c.ctx.fault = faults_next_call(&emu->faults);
	if (c.plecs && !emu_slot_acquire(emu))
		send_text(session, 503, "plecs-emu is stopping\n");
	else if (c.ctx.fault == FAULT_HANG)
		hang_call(&c);
	else
		answer_call(&c);
out:
	free(c.ctx.model);
	if (c.ctx.opts)
		xmlrpc_DECREF(c.ctx.opts);
	free(c.method);
	buf_free(&c.body);
}
