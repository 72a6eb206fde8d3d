/* The /RPC2 handler: reads a call, applies injected transport faults, answers. */
#include "autoconf.h"

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

__thread int emu_conn_fd = -1;

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
static void hang(struct emu *emu)
{
	struct pollfd p = {.fd = emu_conn_fd, .events = POLLRDHUP};

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
	plecs_call = strncmp(method, "plecs.", 6) == 0;
	if (strcmp(method, "plecs.simulate") == 0)
		ctx.fault = faults_next_call(&emu->faults);
	if (plecs_call && !emu_slot_acquire(emu)) {
		send_text(session, 503, "plecs-emu is stopping\n");
		goto out;
	}
	if (ctx.fault == FAULT_HANG) {
		hang(emu);
		emu_slot_release(emu);
		shutdown(emu_conn_fd, SHUT_RDWR);
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
		shutdown(emu_conn_fd, SHUT_RDWR);
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
