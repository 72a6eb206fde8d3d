/*
 * The API's listeners: Abyss serves XML-RPC at /RPC2 on the Unix socket
 * (and on TCP with a token, when configured).  An Abyss thread never touches
 * engine state: it queues the call for the loop thread, wakes the loop with
 * ev_async, and waits until the loop hands the answer back.
 */
#include "autoconf.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

#include "proto/proto.h"
#include "server/api.h"
#include "server/server.h"
#include "util/xalloc.h"

struct http {
	struct server *server;
	xmlrpc_registry *registry;
	TServer unix_server;
	TChanSwitch *unix_switch;
	pthread_t unix_thread;
	bool unix_running;
	pthread_mutex_t lock;
	pthread_cond_t answered;
	struct api_call *incoming, *incoming_tail;
	bool stopped;
	ev_async wake;
};

/* The loop hands a call back to its waiting Abyss thread. */
static void deliver(struct api_call *c)
{
	struct http *h = c->server->http;

	pthread_mutex_lock(&h->lock);
	c->delivered = true;
	pthread_cond_broadcast(&h->answered);
	pthread_mutex_unlock(&h->lock);
}

/* Loop thread: runs every call the Abyss threads queued. */
static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct http *h = w->data;
	struct api_call *list;

	pthread_mutex_lock(&h->lock);
	list = h->incoming;
	h->incoming = h->incoming_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->next = NULL;
		c->server = h->server;
		if (h->server->stopping)
			api_fault(c, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
		else
			c->method->run(h->server, c);
		/* Not done: parked, answered later by api_wake_parked. */
		if (c->done)
			deliver(c);
	}
}

/* What each registered method carries: the listener and the API method. */
struct entry {
	struct http *http;
	const struct api_method *method;
};

/* Abyss thread: every API method enters here, and waits for the loop's answer. */
static xmlrpc_value *enter(xmlrpc_env *env, xmlrpc_value *params, void *server_info, void *call_info)
{
	const struct entry *e = server_info;
	struct http *h = e->http;
	struct api_call c = {.method = e->method, .params = params, .on_done = deliver, .server = h->server};

	pthread_mutex_lock(&h->lock);
	if (h->stopped) {
		pthread_mutex_unlock(&h->lock);
		xmlrpc_env_set_fault(env, PROTO_FAULT_SHUTTING_DOWN, "the server is shutting down");
		return NULL;
	}
	if (h->incoming_tail)
		h->incoming_tail->next = &c;
	else
		h->incoming = &c;
	h->incoming_tail = &c;
	pthread_mutex_unlock(&h->lock);
	ev_async_send(h->server->loop, &h->wake);
	pthread_mutex_lock(&h->lock);
	while (!c.delivered)
		pthread_cond_wait(&h->answered, &h->lock);
	pthread_mutex_unlock(&h->lock);
	if (c.fault_code) {
		xmlrpc_env_set_fault(env, c.fault_code, c.fault);
		free(c.fault);
		return NULL;
	}
	return c.result;
}

static void *run_abyss(void *arg)
{
	ServerRun(arg);
	return NULL;
}

/* Ends the reading side of accepted connections on the Unix socket: keep-alive waits end at
 * once, while an answer being written (simq.shutdown's own) still goes out whole. */
static void hang_up_unix(const char *path)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		int fd = atoi(de->d_name);
		struct sockaddr_un local, peer;
		socklen_t llen = sizeof local, plen = sizeof peer;

		if (fd <= 2 || fd == dirfd(dir))
			continue;
		if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0 || local.sun_family != AF_UNIX ||
		    strncmp(local.sun_path, path, sizeof local.sun_path) != 0)
			continue;
		if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
			shutdown(fd, SHUT_RD);
	}
	closedir(dir);
}

static struct entry *entries;

struct http *http_start(struct server *s, int unix_fd, int tcp_fd, const char *token, char **err)
{
	struct http *h = xcalloc(1, sizeof *h);
	xmlrpc_env env;
	const char *error = NULL;
	sigset_t all, old;

	xmlrpc_env_init(&env);
	xmlrpc_server_abyss_global_init(&env);
	/* submit_many of 100,000 tasks is some 30 MB of XML. */
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, PROTO_MAX_CALL_BYTES);
	h->server = s;
	s->http = h;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->answered, NULL);
	ev_async_init(&h->wake, on_wake);
	h->wake.data = h;
	ev_async_start(s->loop, &h->wake);
	h->registry = xmlrpc_registry_new(&env);
	entries = xcalloc(api_method_count, sizeof *entries);
	for (size_t i = 0; i < api_method_count && !env.fault_occurred; i++) {
		struct xmlrpc_method_info3 info = {.methodName = api_methods[i].name, .methodFunction = enter,
						   .serverInfo = &entries[i], .help = api_methods[i].help};

		entries[i] = (struct entry){h, &api_methods[i]};
		xmlrpc_registry_add_method3(&env, h->registry, &info);
	}
	if (!env.fault_occurred)
		ChanSwitchUnixCreateFd(unix_fd, &h->unix_switch, &error);
	if (!env.fault_occurred && error == NULL)
		ServerCreateSwitch(&h->unix_server, h->unix_switch, &error);
	if (!env.fault_occurred && error == NULL) {
		xmlrpc_server_abyss_set_handlers2(&h->unix_server, "/RPC2", h->registry);
		ServerSetKeepaliveTimeout(&h->unix_server, 60);
		ServerSetKeepaliveMaxConn(&h->unix_server, 1000000);
		ServerSetTimeout(&h->unix_server, 600);
		/* Consoles hold a connection each while they long-poll simq.view. */
		ServerSetMaxConn(&h->unix_server, 64);
		ServerInit2(&h->unix_server, &error);
	}
	if (env.fault_occurred || error) {
		*err = xasprintf("cannot serve the API: %s", error ? error : env.fault_string);
		free((void *)error);
		xmlrpc_env_clean(&env);
		return NULL;
	}
	xmlrpc_env_clean(&env);
	/* Abyss threads take no signals: the loop thread handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->unix_running = pthread_create(&h->unix_thread, NULL, run_abyss, &h->unix_server) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->unix_running) {
		*err = xstrdup("cannot start the API thread");
		return NULL;
	}
	(void)tcp_fd;
	(void)token;
	return h;
}

void http_stop(struct http *h)
{
	struct api_call *list;

	if (h == NULL)
		return;
	api_drop_parked(h->server);
	pthread_mutex_lock(&h->lock);
	h->stopped = true;
	list = h->incoming;
	h->incoming = h->incoming_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	while (list) {
		struct api_call *c = list;

		list = c->next;
		c->fault_code = PROTO_FAULT_SHUTTING_DOWN;
		c->fault = xstrdup("the server is shutting down");
		deliver(c);
	}
	if (h->unix_running) {
		ServerTerminate(&h->unix_server);
		hang_up_unix(h->server->socket_path);
	}
	ev_async_stop(h->server->loop, &h->wake);
}

void http_free(struct http **hp)
{
	struct http *h = *hp;

	if (h == NULL)
		return;
	/* Abyss looks every 2 s whether its connection threads are done. */
	if (h->unix_running) {
		pthread_join(h->unix_thread, NULL);
		ServerFree(&h->unix_server);
		ChanSwitchDestroy(h->unix_switch);
	}
	xmlrpc_registry_free(h->registry);
	free(entries);
	entries = NULL;
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->answered);
	free(h);
	*hp = NULL;
}
