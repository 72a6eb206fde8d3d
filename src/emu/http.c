/* The /RPC2 handler: reads a call, applies injected transport faults, answers. */
#include "autoconf.h"

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xmlrpc-c/abyss.h>

#include "emu/emu.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Calls larger than this are refused: a thousand optStructs are far smaller. */
#define MAX_CALL_BYTES (64u * 1024 * 1024)

struct emu_peer {
	socklen_t len;
	struct sockaddr_storage addr;
};

static int port_of(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return -1;
}

/*
 * Calls fn for each accepted connection to our port: Abyss does not hand out
 * a session's socket, so the faults that act on the connection itself find
 * it among the process's open files.  Only fault injection and stopping do this.
 */
static void each_connection(struct emu *emu, bool (*fn)(struct emu *emu, int fd, const struct emu_peer *peer, void *ud),
			    void *ud)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		int fd = atoi(de->d_name);
		struct sockaddr_storage local;
		socklen_t llen = sizeof local;
		struct emu_peer peer = {.len = sizeof peer.addr};

		if (fd <= 2 || fd == dirfd(dir))
			continue;
		if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0 || port_of(&local) != emu->port)
			continue;
		if (getpeername(fd, (struct sockaddr *)&peer.addr, &peer.len) != 0)
			continue;
		if (!fn(emu, fd, &peer, ud))
			break;
	}
	closedir(dir);
}

struct find_peer {
	const struct sockaddr *want;
	size_t want_len;
	int fd;
};

static bool match_peer(struct emu *emu, int fd, const struct emu_peer *peer, void *ud)
{
	struct find_peer *f = ud;
	size_t n = f->want_len < peer->len ? f->want_len : peer->len;

	if (n > 0 && memcmp(&peer->addr, f->want, n) == 0) {
		f->fd = fd;
		return false;
	}
	return true;
}

/* The socket of this session's connection, or -1. */
static int session_fd(struct emu *emu, TSession *session)
{
	void *info = NULL;
	struct find_peer f = {.fd = -1};

	SessionGetChannelInfo(session, &info);
	if (info == NULL)
		return -1;
	f.want = &((struct abyss_unix_chaninfo *)info)->peerAddr;
	f.want_len = ((struct abyss_unix_chaninfo *)info)->peerAddrLen;
	if (f.want_len > sizeof(struct sockaddr))
		f.want_len = sizeof(struct sockaddr);
	each_connection(emu, match_peer, &f);
	return f.fd;
}

static bool hang_up(struct emu *emu, int fd, const struct emu_peer *peer, void *ud)
{
	shutdown(fd, SHUT_RDWR);
	return true;
}

void emu_hang_up_all(struct emu *emu)
{
	each_connection(emu, hang_up, NULL);
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

void emu_http_handle(void *ud, TSession *session, abyss_bool *handled)
{
	struct emu *emu = ud;
	const TRequestInfo *req;
	struct buf body = BUF_INIT;
	size_t want = 0;
	const char *problem = NULL;
	char *method;
	struct emu_call_ctx ctx = {.emu = emu, .fault = FAULT_NONE};
	xmlrpc_env env;
	xmlrpc_mem_block *output = NULL;
	double start = emu_now();
	bool plecs_call;

	*handled = true;
	SessionGetRequestInfo(session, &req);
	if (strcmp(req->uri, "/RPC2") != 0) {
		send_text(session, 404, "plecs-emu answers XML-RPC at /RPC2 only\n");
		return;
	}
	if (req->method != m_post) {
		send_text(session, 405, "XML-RPC calls are HTTP POST requests\n");
		return;
	}
	if (!read_body(session, &body, &want, &problem)) {
		send_text(session, atoi(problem), problem + 4);
		buf_free(&body);
		return;
	}
	method = method_name(&body);
	/* A refused request: its connection is reset, new or kept alive. */
	if (strncmp(method, "plecs.", 6) == 0 && faults_may_refuse(&emu->faults)) {
		int fd = session_fd(emu, session);

		if (fd >= 0 && faults_next_connection(&emu->faults)) {
			reset_connection(fd);
			/* Abyss finishes every session; its writes go nowhere now. */
			ResponseStatus(session, 500);
			emu_record_call(emu, "connection", NULL, start, emu_now() - start, "injected refuse");
			goto out;
		}
	}
	plecs_call = strncmp(method, "plecs.", 6) == 0;
	if (strcmp(method, "plecs.simulate") == 0)
		ctx.fault = faults_next_call(&emu->faults);
	if (plecs_call && !emu_slot_acquire(emu)) {
		send_text(session, 503, "plecs-emu is stopping\n");
		goto out;
	}
	if (ctx.fault == FAULT_HANG) {
		int fd = session_fd(emu, session);

		hang(emu, fd);
		emu_slot_release(emu);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		ResponseStatus(session, 500);
		emu_record_call(emu, method, &ctx, start, emu_now() - start, "injected hang");
		goto out;
	}
	xmlrpc_env_init(&env);
	xmlrpc_registry_process_call2(&env, emu->registry, buf_str(&body), body.len, &ctx, &output);
	if (plecs_call)
		emu_slot_release(emu);
	if (env.fault_occurred) {
		/* Only a call that cannot be parsed at all gets here; method faults are in the response. */
		send_text(session, 400, env.fault_string);
		emu_record_call(emu, method, &ctx, start, emu_now() - start, "bad request");
		xmlrpc_env_clean(&env);
		goto out;
	}
	xmlrpc_env_clean(&env);

	const char *data = xmlrpc_mem_block_contents(output);
	size_t len = xmlrpc_mem_block_size(output);
	char outcome[256] = "ok";
	const char *fault = memmem(data, len > 200 ? 200 : len, "<fault>", 7);

	if (fault) {
		const char *msg = memmem(data, len, "<name>faultString</name>", 24);
		const char *open = msg ? memmem(msg, (size_t)(data + len - msg), "<string>", 8) : NULL;
		const char *close = open ? memmem(open, (size_t)(data + len - open), "</string>", 9) : NULL;

		snprintf(outcome, sizeof outcome, "fault: %.*s", close ? (int)(close - open - 8) : 0,
			 close ? open + 8 : "");
	}
	switch (ctx.fault) {
	case FAULT_HTTP500:
		send_text(session, 500, "Internal Server Error\n");
		snprintf(outcome, sizeof outcome, "injected http500");
		break;
	case FAULT_MALFORMED: {
		static const char garbage[] = "<?xml version=\"1.0\"?>\r\n<methodResponse><params><param><value>"
					      "<struct><member><name>Time</name><value><array><data><value><double>0"
					      "</double></value></data></array></value></member><member><name>Values"
					      "</name><value><array><data><value><double>4.2e1</double><</params>";

		ResponseStatus(session, 200);
		ResponseContentType(session, "text/xml");
		ResponseContentLength(session, sizeof garbage - 1);
		ResponseWriteStart(session);
		ResponseWriteBody(session, garbage, sizeof garbage - 1);
		ResponseWriteEnd(session);
		snprintf(outcome, sizeof outcome, "injected malformed");
		break;
	}
	case FAULT_DROP:
		/* Promise the whole response, send half of it, and hang up. */
		ResponseStatus(session, 200);
		ResponseContentType(session, "text/xml");
		ResponseContentLength(session, len);
		ResponseWriteStart(session);
		ResponseWriteBody(session, data, (xmlrpc_uint32_t)(len / 2));
		shutdown(session_fd(emu, session), SHUT_RDWR);
		snprintf(outcome, sizeof outcome, "injected drop");
		break;
	default:
		ResponseStatus(session, 200);
		ResponseContentType(session, "text/xml");
		ResponseContentLength(session, len);
		ResponseWriteStart(session);
		ResponseWriteBody(session, data, (xmlrpc_uint32_t)len);
		ResponseWriteEnd(session);
		if (ctx.fault != FAULT_NONE && !fault)
			snprintf(outcome, sizeof outcome, "injected %s", fault_kind_name(ctx.fault));
		break;
	}
	emu_record_call(emu, method, &ctx, start, emu_now() - start, outcome);
out:
	if (output)
		xmlrpc_mem_block_free(output);
	free(ctx.model);
	free(method);
	buf_free(&body);
}
