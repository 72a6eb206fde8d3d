/*
 * client — the API client the CLI and the console share.
 *
 * Speaks XML-RPC to the server's Unix socket with libcurl
 * (CURLOPT_UNIX_SOCKET_PATH), encoding with xmlrpc-c.  When no server answers
 * it starts one for the state dir, as tmux does, unless told not to.  One
 * client per thread.
 */
#ifndef SIMQ_CLIENT_CLIENT_H
#define SIMQ_CLIENT_CLIENT_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

#define CLIENT_TIMEOUT_CONFIGURED (-1L)

struct client_options {
	const char *state_dir;   /* --state, may be NULL */
	const char *config_path; /* -c, may be NULL */
	bool no_start;           /* --no-start: fail instead of starting a server */
	bool tell_start;         /* say on stderr that a server was started (the CLI; not under curses) */
	long timeout_ms;         /* per call; 0: none; CLIENT_TIMEOUT_CONFIGURED: [server] client_timeout */
};

/*
 * What a call ended with: a result, a fault from the server, no server (nothing was
 * sent), no answer within the timeout (the call was sent, and the server may still carry
 * it out), or an answer lost (the call was sent and the connection closed before a whole
 * answer came: the server stopped, or was killed, before or after carrying it out).
 */
enum client_status { CLIENT_OK, CLIENT_FAULT, CLIENT_UNREACHABLE, CLIENT_TIMEOUT, CLIENT_LOST };

struct buf;
struct client;

struct client *client_new(const struct client_options *opt);
void client_free(struct client **c);
const char *client_state_dir(const struct client *c);
const char *client_socket_path(const struct client *c);
/*
 * Calls method with params (an array; borrowed), starting a server when none answers
 * (unless no_start).  CLIENT_OK sets *result (caller decrefs); CLIENT_FAULT sets
 * *fault_code and *err; the others set *err.  *err is a heap string the caller frees.
 */
enum client_status client_call(struct client *c, const char *method, xmlrpc_value *params, xmlrpc_value **result,
			       int *fault_code, char **err);
/* The same with the call written already: body is a whole <methodCall> document. */
enum client_status client_call_xml(struct client *c, const struct buf *body, xmlrpc_value **result, int *fault_code,
				   char **err);
/* The calls from now on may wait at the server up to wait_ms (a long poll such as simq.wait): the
 * timeout is that plus the one the client was made with (none stays none). */
void client_set_wait(struct client *c, long wait_ms);
/* From now on a call that finds no server fails (CLIENT_UNREACHABLE) instead of starting one; why
 * (static, e.g. "it stopped while simq wait waited") ends the message. */
void client_set_no_start(struct client *c, const char *why);
/*
 * From any thread: ends the call in progress at once (CLIENT_UNREACHABLE) and
 * every later one.  For a thread that waits in a long poll while its owner quits.
 */
void client_abort(struct client *c);

#endif
