#include "autoconf.h"

#include "client/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "proto/xmlcall.h"
#include "proto/proto.h"
#include "proto/xmlin.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/time.h"
#include "util/xalloc.h"

/* How long to wait for a server we started to answer. */
#define START_WAIT_MS 10000

struct client {
	struct client_options opt;
	char *state_dir;
	char *socket_path;
	char *dashboard; /* what to say of the dashboard when this client starts a server; NULL: off */
	CURL *curl;
	/* For client_abort() from another thread: the socket in use, under sock_lock. */
	pthread_mutex_t sock_lock;
	curl_socket_t sock;
	bool aborted;
	long made_timeout_ms; /* the timeout the client was made with (client_set_wait adds to it) */
	const char *no_start_why; /* client_set_no_start's words; NULL: --no-start's */
};

struct client *client_new(const struct client_options *opt)
{
	struct client *c = xcalloc(1, sizeof *c);
	char *config_path = opt->config_path ? xstrdup(opt->config_path) : paths_config_file();
	struct config *cfg = config_load(config_path, false);
	const char *configured = config_str(cfg, "server", "state_dir");
	const char *sock = config_str(cfg, "server", "socket");

	c->opt = *opt;
	if (opt->timeout_ms == CLIENT_TIMEOUT_CONFIGURED)
		c->opt.timeout_ms = (long)(config_double(cfg, "server", "client_timeout") * 1000);
	c->made_timeout_ms = c->opt.timeout_ms;
	c->state_dir = paths_state_dir(opt->state_dir ? opt->state_dir : configured[0] ? configured : NULL);
	c->socket_path = sock[0] == '/' ? xstrdup(sock) : paths_join(c->state_dir, sock);
	c->dashboard = config_dashboard_line(cfg, c->state_dir);
	config_free(&cfg);
	free(config_path);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Answers carry pages of tasks and results: more than xmlrpc-c's 512 KiB default. */
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, PROTO_MAX_ANSWER_BYTES);
	c->curl = curl_easy_init();
	pthread_mutex_init(&c->sock_lock, NULL);
	c->sock = CURL_SOCKET_BAD;
	return c;
}

void client_set_wait(struct client *c, long wait_ms)
{
	c->opt.timeout_ms = c->made_timeout_ms > 0 ? c->made_timeout_ms + wait_ms : c->made_timeout_ms;
}

void client_set_no_start(struct client *c, const char *why)
{
	c->opt.no_start = true;
	c->no_start_why = why;
}

void client_free(struct client **cp)
{
	struct client *c = *cp;

	if (c == NULL)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	pthread_mutex_destroy(&c->sock_lock);
	free(c->state_dir);
	free(c->socket_path);
	free(c->dashboard);
	free(c);
	*cp = NULL;
}

const char *client_state_dir(const struct client *c)
{
	return c->state_dir;
}

const char *client_socket_path(const struct client *c)
{
	return c->socket_path;
}

/*
 * The most of an answer the client holds: far above any answer simq gives (a result's CSV is at most
 * a few times [backend] max_response, 64 MiB by default), far below what would exhaust memory when
 * something else answers on the socket without end.
 */
#define ANSWER_MAX ((size_t)1 << 30)

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
	struct buf *reply = ud;

	/* Returning less than was given makes curl stop with CURLE_WRITE_ERROR. */
	if (reply->len + size * n > ANSWER_MAX)
		return 0;
	buf_add(reply, data, size * n);
	return size * n;
}

/* One HTTP POST over the Unix socket; CURLE_OK with the body in *reply, or the curl error. */
/* curl's sockets go through these two, so client_abort() can shut the one in use and no other. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct client *c = ud;
	curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);

	(void)purpose;
	pthread_mutex_lock(&c->sock_lock);
	c->sock = fd;
	if (c->aborted && fd != CURL_SOCKET_BAD)
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->sock_lock);
	return fd;
}

static int close_socket(void *ud, curl_socket_t fd)
{
	struct client *c = ud;

	pthread_mutex_lock(&c->sock_lock);
	if (c->sock == fd)
		c->sock = CURL_SOCKET_BAD;
	pthread_mutex_unlock(&c->sock_lock);
	return close(fd);
}

void client_abort(struct client *c)
{
	pthread_mutex_lock(&c->sock_lock);
	c->aborted = true;
	if (c->sock != CURL_SOCKET_BAD)
		shutdown(c->sock, SHUT_RDWR);
	pthread_mutex_unlock(&c->sock_lock);
}

static CURLcode post(struct client *c, const struct buf *body, struct buf *reply, long *http_status)
{
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: text/xml");
	CURLcode rc;

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	curl_easy_setopt(c->curl, CURLOPT_URL, "http://localhost/RPC2");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, buf_str(body));
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
	curl_easy_setopt(c->curl, CURLOPT_CLOSESOCKETDATA, c);
	if (c->opt.timeout_ms > 0)
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->opt.timeout_ms);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http_status);
	curl_slist_free_all(headers);
	return rc;
}

/* Starts `simq server` for our state dir: it detaches and returns once the server listens. */
static bool start_server(struct client *c, char **err)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	pid_t pid;
	int status;

	if (n <= 0) {
		*err = xasprintf("cannot find the simq program to start a server: %s", strerror(errno));
		return false;
	}
	self[n] = '\0';
	pid = fork();
	if (pid < 0) {
		*err = xasprintf("cannot start a server: %s", strerror(errno));
		return false;
	}
	if (pid == 0) {
		const char *argv[8] = {self, "server", "--state", c->state_dir, NULL, NULL, NULL};

		if (c->opt.config_path) {
			argv[4] = "-c";
			argv[5] = c->opt.config_path;
		}
		/* The server's "running" line is not the command's output. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(self, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		*err = xstrdup("the server did not start");
		return false;
	}
	/* Exit 1 may be another client's server winning the race: the caller tries to connect again. */
	if (c->opt.tell_start && WEXITSTATUS(status) == 0)
		fprintf(stderr, "simq: no server was running for %s; started one (its log: simulation.log there; "
				"simq shutdown stops it)\n%s%s%s", c->state_dir, c->dashboard ? "simq: " : "",
			c->dashboard ? c->dashboard : "", c->dashboard ? "\n" : "");
	return true;
}

enum client_status client_call(struct client *c, const char *method, xmlrpc_value *params, xmlrpc_value **result,
			       int *fault_code, char **err)
{
	xmlrpc_env env;
	struct buf body = BUF_INIT;
	enum client_status status;

	xmlrpc_env_init(&env);
	if (proto_serialize_call(&env, &body, method, params)) {
		status = client_call_xml(c, &body, result, fault_code, err);
	} else {
		*result = NULL;
		*fault_code = 0;
		*err = xasprintf("cannot encode the call: %s", env.fault_string);
		status = CLIENT_UNREACHABLE;
	}
	xmlrpc_env_clean(&env);
	buf_free(&body);
	return status;
}

enum client_status client_call_xml(struct client *c, const struct buf *body, xmlrpc_value **result, int *fault_code,
				   char **err)
{
	struct buf reply = BUF_INIT;
	enum client_status status = CLIENT_UNREACHABLE;
	int64_t give_up = time_mono_ns() + (int64_t)START_WAIT_MS * 1000000;
	long http_status = 0;
	bool started = false; /* a server, once per call: one killed since the last call is started again */
	CURLcode rc;

	*result = NULL;
	*err = NULL;
	*fault_code = 0;
	for (;;) {
		pthread_mutex_lock(&c->sock_lock);
		bool aborted = c->aborted;

		pthread_mutex_unlock(&c->sock_lock);
		if (aborted) {
			*err = xstrdup("the call was abandoned");
			goto out;
		}
		buf_truncate(&reply, 0);
		rc = post(c, body, &reply, &http_status);
		if (rc == CURLE_OK)
			break;
		bool no_server = rc == CURLE_COULDNT_CONNECT;

		if (!no_server || c->opt.no_start || time_mono_ns() > give_up) {
			if (no_server) {
				*err = xasprintf("no simq server answers on %s%s%s%s", c->socket_path,
						 c->opt.no_start ? " (" : "",
						 c->opt.no_start ? c->no_start_why ? c->no_start_why : "--no-start: not starting one" : "",
						 c->opt.no_start ? ")" : "");
			} else if (rc == CURLE_WRITE_ERROR) {
				*err = xasprintf("the answer on %s is larger than %zu MiB, more than any simq server gives: "
						 "it is not a simq server, or it is broken", c->socket_path, ANSWER_MAX >> 20);
			} else if (rc == CURLE_OPERATION_TIMEDOUT) {
				*err = xasprintf("the simq server on %s did not answer within %.0f s: it is stopped or "
						 "stuck", c->socket_path, (double)c->opt.timeout_ms / 1000);
				status = CLIENT_TIMEOUT;
			} else if (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
				   rc == CURLE_PARTIAL_FILE) {
				*err = xasprintf("the simq server on %s closed the connection before answering (%s): it "
						 "stopped or was killed", c->socket_path, curl_easy_strerror(rc));
				status = CLIENT_LOST;
			} else {
				*err = xasprintf("the call to the server on %s failed: %s", c->socket_path,
						 curl_easy_strerror(rc));
			}
			goto out;
		}
		if (!started && !start_server(c, err))
			goto out;
		started = true;
		usleep(20000);
	}
	if (http_status != 200) {
		/* Shown as text, cut short: what answers may not be simq, and a terminal reads escapes. */
		char *shown = buf_shown(buf_str(&reply));

		*err = xasprintf("the server answered HTTP %ld: %s", http_status, shown);
		free(shown);
		goto out;
	}
	char *fault = NULL, *why = NULL;

	if (!proto_parse_response(buf_str(&reply), reply.len, result, fault_code, &fault, &why)) {
		/* Cut short (the server died while it wrote): as ambiguous as no answer at all. */
		*err = xasprintf("the server's answer cannot be read (%s): it stopped or was killed while it answered, "
				 "or what answers on %s is not a simq server", why, c->socket_path);
		free(why);
		status = CLIENT_LOST;
	} else if (fault) {
		*err = fault;
		status = CLIENT_FAULT;
	} else {
		status = CLIENT_OK;
	}
out:
	buf_free(&reply);
	return status;
}
