#include "autoconf.h"

#include "plecs/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <curl/curl.h>
#include <sys/socket.h>
#include <xmlrpc-c/base.h>

#include "plecs/answer.h"
#include "plecs/feed.h"
#include "plecs/wire.h"
#include "proto/xmlcall.h"
#include "proto/proto.h"
#include "proto/xmlscan.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

/* Answers at least this large (or of no stated length) are decoded by a feed's thread, not inline. */
#define FEED_FROM (64u << 10)
/* Of an HTTP error's body, only this much is kept (its start goes into the error message). */
#define ERROR_BODY_MAX (64u << 10)

/* A call while the pool holds it. */
struct job {
	struct plecs_pool *pool;
	struct backend_call *call;
	int interrupt;          /* xmlrpc-c's interrupt flag: a plain int it polls, so set and read with __atomic */
	atomic_int worker;      /* index of the worker holding it, -1 when none */
	int64_t t0;             /* when its worker took it */
	struct feed *feed;      /* handed to its decoder thread: the feed and decoder it finishes */
	struct plecs_answer *decoder;
	struct worker *reader;  /* the worker that read it, told when the decoder refuses it */
	struct job *next;
	struct job *next_received; /* in the pool's list of calls whose answer is all in */
};

struct worker {
	struct plecs_pool *pool;
	struct job *current;        /* under the pool's lock */
	pthread_t thread;
	CURLM *multi;               /* woken by curl_multi_wakeup to see an interrupt at once */
	CURL *easy;                 /* kept, so its connection to PLECS is kept alive */
	struct curl_slist *headers;
	int index;
	bool started;
	bool handed;                /* its call went to a decoder thread: the worker lets go of it */
	int fresh;                  /* an answer it read could not be used (refused, cut, too large, an
				       HTTP error): its next call opens a new connection, so bytes past that
				       answer's end are never read as the next one's; a decoder thread sets
				       it too, so with __atomic */
};

struct plecs_pool {
	struct ev_loop *loop;
	ev_async wake;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job *waiting, *waiting_tail; /* jobs no worker has taken yet, oldest first */
	struct job *finished;
	struct job *received;       /* answers all in, decoding on a feed's thread (linked by next_received) */
	bool stopping;
	struct feeds *feeds;
	struct worker *workers;
	int nworkers;
};

/* What a call's answer is being read into, and what it may not exceed. */
struct answer {
	char *data;             /* for xmlrpc-c, when there is no decoder; an HTTP error's body's start */
	size_t kept, cap;       /* data's length and room */
	size_t len, max;        /* bytes read, and the most that may be */
	bool too_large;
	bool refused;           /* the decoder or the scan stopped it: it is no XML-RPC simq reads */
	struct xmlscan scan;
	struct plecs_answer *decoder; /* plecs.simulate's: decodes the answer as it arrives */
	struct feed *feed;      /* a large answer's way to its decoder thread (feed.h) */
	bool sized;             /* whether to feed it was decided, at its first byte */
	struct job *job;
	CURL *easy;
};

static void decoded_alone(void *ud);

static size_t take_bytes(char *ptr, size_t size, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t len = size * n;

	if (a->len + len > a->max) {
		a->too_large = true;
		return 0; /* libcurl ends the transfer: nothing past the limit is read */
	}
	long status = 0;

	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && a->decoder && !a->sized) {
		curl_off_t length = -1;

		curl_easy_getinfo(a->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
		a->sized = true;
		if (length < 0 || (uint64_t)length >= FEED_FROM)
			a->feed = feed_open(a->job->pool->feeds, a->decoder, &a->job->interrupt, decoded_alone, a->job);
	}
	if (status == 200 && a->feed) {
		/* Read at the socket's speed, decoded on the feed's thread as the pieces come. */
		a->refused = !feed_put(a->feed, ptr, len);
		a->len += len;
		return a->refused ? 0 : len;
	}
	if (status == 200 && a->decoder) {
		/* Decoded as it arrives, on this worker: nothing of it is kept but the numbers. */
		a->refused = !plecs_answer_feed(a->decoder, ptr, len);
		a->len += len;
		return a->refused ? 0 : len;
	}
	/* An answer xmlrpc-c would parse, nested deeper than its recursion survives: stop reading it. */
	if (status == 200 && !xmlscan_feed(&a->scan, ptr, len)) {
		a->refused = true;
		return 0;
	}
	/* Of an HTTP error, its start says what it is: the rest is read and dropped. */
	size_t keep = status == 200 ? len : a->kept < ERROR_BODY_MAX ? ERROR_BODY_MAX - a->kept : 0;

	keep = keep < len ? keep : len;
	if (a->kept + keep + 1 > a->cap) {
		a->cap = 2 * (a->kept + keep) + 4096;
		a->data = xrealloc(a->data, a->cap);
	}
	memcpy(a->data + a->kept, ptr, keep);
	a->kept += keep;
	a->len += len;
	return len;
}

/* "PLECS answered HTTP 400: " and the start of its body, shown safely: PLECS's reason, if it gave one. */
static char *http_error(long status, const struct answer *a)
{
	struct buf b = BUF_INIT;
	size_t n = a->kept;

	while (n > 0 && (a->data[n - 1] == '\n' || a->data[n - 1] == '\r' || a->data[n - 1] == ' '))
		n--;
	buf_addf(&b, "PLECS answered HTTP %ld", status);
	if (n > 0) {
		buf_adds(&b, ": ");
		buf_add_shown(&b, a->data, n);
	}
	return buf_detach(&b);
}

/* Every socket to PLECS close-on-exec: a child simq starts inherits none of them. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/*
 * Did the call fail before PLECS could have seen it: no connection, or the connection dropped
 * before any byte of an answer?  Then it is the backend's fault, never the case's.
 */
static bool unreachable(CURLcode rc, size_t received)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
		return true;
	case CURLE_RECV_ERROR:
		return received == 0;
	default:
		return false;
	}
}

static bool interrupted(struct job *job)
{
	return __atomic_load_n(&job->interrupt, __ATOMIC_RELAXED) != 0;
}

/* Runs the transfer on the worker's multi handle until it ends or the loop interrupts it. */
static CURLcode transfer(struct worker *w, struct job *job)
{
	CURLcode rc = CURLE_OK;
	int running = 1;

	curl_multi_add_handle(w->multi, w->easy);
	while (running && !interrupted(job)) {
		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
	for (CURLMsg *m; (m = curl_multi_info_read(w->multi, &(int){0})) != NULL;)
		if (m->msg == CURLMSG_DONE)
			rc = m->data.result;
	if (running)
		rc = CURLE_ABORTED_BY_CALLBACK;
	/* An interrupted transfer's connection is closed, so PLECS's side sees the client go. */
	curl_multi_remove_handle(w->multi, w->easy);
	return rc;
}

/* Sets the call's outcome and error: what went wrong, and whose fault it is. */
static void failed(struct job *job, enum backend_outcome outcome, char *error)
{
	struct backend_call *bc = job->call;

	bc->outcome = outcome;
	free(bc->error);
	bc->error = error;
}

/* What the transfer's end means, when it did not bring a whole answer; false then. */
static bool judge_transfer(struct worker *w, struct job *job, CURLcode rc, const struct answer *a,
			   const char *curl_error)
{
	struct backend_call *bc = job->call;
	long status = 0;

	if (interrupted(job)) {
		bc->interrupted = true;
		failed(job, BACKEND_TRANSPORT, xstrdup("the call was interrupted"));
	} else if (a->too_large) {
		failed(job, BACKEND_TOO_LARGE, xasprintf("PLECS's answer is larger than %zu bytes", a->max));
	} else if (a->refused && a->decoder) {
		failed(job, BACKEND_TRANSPORT, xstrdup(plecs_answer_error(a->decoder)));
	} else if (a->refused) {
		failed(job, BACKEND_TRANSPORT, xasprintf("PLECS's answer is not XML-RPC simq reads: it %s",
							 xmlscan_error(&a->scan)));
	} else if (rc != CURLE_OK) {
		failed(job, unreachable(rc, a->len) ? BACKEND_UNREACHABLE : BACKEND_TRANSPORT,
		       xasprintf("%s", curl_error[0] ? curl_error : curl_easy_strerror(rc)));
		/* Reset or empty reply after the request went out: PLECS had it, and may have died of it. */
		bc->sent = rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
	} else if (curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status), status != 200) {
		failed(job, BACKEND_TRANSPORT, http_error(status, a));
	} else if (a->len == 0) {
		/* Headers and not one byte more: PLECS went away with the case (a pool job ending), as a reset would. */
		failed(job, BACKEND_UNREACHABLE, xstrdup("PLECS's answer was empty (its process ended?)"));
		bc->sent = true;
	} else {
		return true;
	}
	return false;
}

/* The decoded answer's end: PLECS's fault, or an answer that is no XML-RPC, fails the call. */
static void decoded(struct job *job, enum plecs_answer_end end, struct plecs_answer *decoder)
{
	switch (end) {
	case PLECS_ANSWER_FAULT:
		/* PLECS's own words. */
		failed(job, BACKEND_FAULT, xstrdup(plecs_answer_error(decoder)));
		break;
	case PLECS_ANSWER_BROKEN:
		failed(job, BACKEND_TRANSPORT, xstrdup(plecs_answer_error(decoder)));
		break;
	case PLECS_ANSWER_RESULTS:
		break;
	}
}

/*
 * Under the feed's lock, on the worker: the call's answer is all in and carries results, so only
 * decoding is left; the loop hears of it at once, and the slot takes its next call while the
 * feed's thread decodes this one.  The worker touches the call no more.
 */
static void handed(void *ud)
{
	struct worker *w = ud;
	struct job *job = w->current;
	struct plecs_pool *p = w->pool;

	job->call->seconds = (double)(time_mono_ns() - job->t0) / 1e9;
	pthread_mutex_lock(&p->lock);
	w->current = NULL;
	atomic_store(&job->worker, -1);
	job->next_received = p->received;
	p->received = job;
	pthread_mutex_unlock(&p->lock);
	ev_async_send(p->loop, &p->wake);
	w->handed = true;
}

/* On the feed's thread, once a handed answer is decoded: the call's outcome, then back to the loop. */
static void decoded_alone(void *ud)
{
	struct job *job = ud;
	struct plecs_pool *p = job->pool;
	struct backend_call *bc = job->call;

	if (feed_stopped(job->feed)) {
		bc->interrupted = true;
		failed(job, BACKEND_TRANSPORT, xstrdup("the call was interrupted"));
	} else if (feed_refused(job->feed)) {
		failed(job, BACKEND_TRANSPORT, xstrdup(plecs_answer_error(job->decoder)));
		__atomic_store_n(&job->reader->fresh, 1, __ATOMIC_RELAXED);
	} else {
		decoded(job, feed_end(job->feed), job->decoder);
		if (bc->outcome == BACKEND_OK)
			bc->results = plecs_answer_take(job->decoder);
	}
	plecs_answer_free(&job->decoder);
	feed_free(&job->feed);
	pthread_mutex_lock(&p->lock);
	job->next = p->finished;
	p->finished = job;
	pthread_mutex_unlock(&p->lock);
	ev_async_send(p->loop, &p->wake);
}

/* Did the transfer bring an answer whole: all of it read, nothing refused on the way? */
static bool came_whole(struct worker *w, struct job *job, CURLcode rc, const struct answer *a)
{
	long status = 0;

	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
	return rc == CURLE_OK && status == 200 && !a->too_large && !a->refused && !interrupted(job);
}

/*
 * Ends a's feed.  A whole answer that carries results is handed to the feed's thread (FEED_HANDED:
 * the worker lets go of the call); else the decoder lets go of it first, and a refusal of its
 * comes out as the answer's.
 */
static enum feed_close close_feed(struct worker *w, struct job *job, bool whole, struct answer *a)
{
	job->feed = a->feed;
	job->decoder = a->decoder;
	job->reader = w;
	if (feed_close(a->feed, whole, handed, w) == FEED_HANDED) {
		a->feed = NULL;
		return FEED_HANDED;
	}
	job->feed = NULL;
	job->decoder = NULL;
	a->refused |= feed_refused(a->feed);
	return FEED_DECODED;
}

/*
 * One XML-RPC call of the written body; false with the call's outcome and error set when it fails.
 * Its answer goes to decoder when there is one (result is then not set), else through xmlrpc-c into
 * *result.  True and w->handed when the decoder went on alone (close_feed): the call is no longer
 * the worker's.
 */
static bool call_body(struct worker *w, struct job *job, const struct buf *body, xmlrpc_value **result,
		      struct plecs_answer *decoder)
{
	struct backend_call *bc = job->call;
	struct answer a = {.max = bc->max_response ? bc->max_response : SIZE_MAX / 2, .easy = w->easy,
			   .decoder = decoder, .job = job};
	const struct xmlscan_limits limits = {.max_bytes = SIZE_MAX, .max_nesting = PROTO_MAX_NESTING,
					      .max_depth = PROTO_MAX_XML_DEPTH};
	char curl_error[CURL_ERROR_SIZE] = "";
	xmlrpc_env env;
	int fault_code = 0;
	const char *fault = NULL;

	if (result)
		*result = NULL;
	xmlscan_init(&a.scan, &limits);
	xmlrpc_env_init(&env);
	curl_easy_setopt(w->easy, CURLOPT_URL, bc->url);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, buf_str(body));
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(w->easy, CURLOPT_FRESH_CONNECT, (long)__atomic_exchange_n(&w->fresh, 0, __ATOMIC_RELAXED));
	CURLcode rc = transfer(w, job);
	bool whole = came_whole(w, job, rc, &a);

	/* Counted before a hand-over, after which the call is not the worker's to touch. */
	if (whole)
		bc->bytes += a.len;
	if (a.feed && close_feed(w, job, whole, &a) == FEED_HANDED)
		goto out;
	if (!judge_transfer(w, job, rc, &a, curl_error))
		goto out;
	if (decoder) {
		decoded(job, a.feed ? feed_end(a.feed) : plecs_answer_finish(decoder), decoder);
		goto out;
	}
	xmlrpc_parse_response2(&env, a.data ? a.data : "", a.kept, result, &fault_code, &fault);
	if (env.fault_occurred) {
		failed(job, BACKEND_TRANSPORT, xasprintf("PLECS's answer is not XML-RPC: %s", env.fault_string));
	} else if (fault) {
		/* PLECS's own words. */
		failed(job, BACKEND_FAULT, xstrdup(fault));
		free((void *)fault);
	}
out:
	/* After an answer simq could not use, its connection is not trusted with the next call. */
	if (!w->handed && (bc->outcome == BACKEND_TRANSPORT || bc->outcome == BACKEND_TOO_LARGE))
		__atomic_store_n(&w->fresh, 1, __ATOMIC_RELAXED);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, NULL);
	feed_free(&a.feed);
	free(a.data);
	xmlrpc_env_clean(&env);
	return w->handed || (bc->outcome == BACKEND_OK && (decoder || *result != NULL));
}

/* A call of method(params) that is not plecs.simulate (whose body plecs_simulate_body writes). */
static bool call(struct worker *w, struct job *job, const char *method, xmlrpc_value *params, xmlrpc_value **result)
{
	struct buf body = BUF_INIT;
	xmlrpc_env env;
	bool ok;

	xmlrpc_env_init(&env);
	ok = proto_serialize_call(&env, &body, method, params);
	if (ok)
		ok = call_body(w, job, &body, result, NULL);
	else
		failed(job, BACKEND_FAULT, xasprintf("cannot write the call: %s", env.fault_string));
	buf_free(&body);
	xmlrpc_env_clean(&env);
	return ok;
}

/* plecs.close(name); a fault (nothing of that name is loaded) is no harm.  False when PLECS did not answer. */
static bool close_model(struct worker *w, struct job *job, const char *name)
{
	struct backend_call *bc = job->call;
	xmlrpc_env env;
	xmlrpc_value *params, *r;

	xmlrpc_env_init(&env);
	params = xmlrpc_build_value(&env, "(s)", name);
	if (call(w, job, "plecs.close", params, &r)) {
		xmlrpc_DECREF(r);
	} else if (bc->outcome == BACKEND_FAULT) {
		bc->outcome = BACKEND_OK;
		xfree(&bc->error);
	}
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return bc->outcome == BACKEND_OK;
}

static bool load_once(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;
	xmlrpc_env env;
	xmlrpc_value *params, *r;
	bool ok;

	xmlrpc_env_init(&env);
	params = xmlrpc_build_value(&env, "(s)", bc->model_path);
	ok = call(w, job, "plecs.load", params, &r);
	if (ok) {
		xmlrpc_DECREF(r);
		bc->loaded = true;
	}
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return ok;
}

/*
 * Loads the model, closing first what the scheduler knows holds its name.  PLECS may also hold the
 * name from before this server started (or from another client): then close it and load again.
 */
static bool load(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;

	if (bc->close_first && !close_model(w, job, bc->close_first))
		return false;
	if (load_once(w, job))
		return true;
	if (bc->outcome != BACKEND_FAULT || bc->error == NULL || strstr(bc->error, "already loaded") == NULL)
		return false;
	bc->outcome = BACKEND_OK;
	xfree(&bc->error);
	return close_model(w, job, bc->model_name) && load_once(w, job);
}

/* plecs.simulate of the written body; its answer decoded into the call's results as it arrives. */
static bool simulate_once(struct worker *w, struct job *job, const struct buf *body)
{
	struct backend_call *bc = job->call;
	struct plecs_answer *decoder = plecs_answer_new(bc->ncases, bc->as_list);
	bool ok = call_body(w, job, body, NULL, decoder);

	if (w->handed)
		return true; /* the decoder is the feed's thread's now */
	if (ok)
		bc->results = plecs_answer_take(decoder);
	plecs_answer_free(&decoder);
	return ok;
}

static void simulate(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;
	struct buf body = BUF_INIT;
	char *err = NULL;

	if (bc->load && !load(w, job))
		return;
	if (!plecs_simulate_body(&body, bc, &err)) {
		/* Cannot happen for a validated task; still, never send a batch with a hole. */
		bc->outcome = BACKEND_FAULT;
		bc->error = err;
	} else if (!simulate_once(w, job, &body) && bc->outcome == BACKEND_FAULT && !bc->loaded && bc->error &&
		   strstr(bc->error, "not loaded")) {
		/* PLECS restarted and forgot the model: load it and ask again; not an attempt. */
		bc->outcome = BACKEND_OK;
		if (load(w, job))
			simulate_once(w, job, &body);
	}
	buf_free(&body);
}

static void run(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;
	int64_t t0 = job->t0 = time_mono_ns();

	bc->outcome = BACKEND_OK;
	if (bc->probe) {
		xmlrpc_env env;
		xmlrpc_value *params, *r;

		xmlrpc_env_init(&env);
		params = xmlrpc_array_new(&env);
		if (call(w, job, "system.listMethods", params, &r))
			xmlrpc_DECREF(r);
		xmlrpc_DECREF(params);
		xmlrpc_env_clean(&env);
	} else {
		simulate(w, job);
	}
	if (!w->handed)
		bc->seconds = (double)(time_mono_ns() - t0) / 1e9;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct plecs_pool *p = w->pool;

	/* Named, so top -H and perf tell the PLECS calls from the loop. */
	pthread_setname_np(pthread_self(), "simq-plecs");
	for (;;) {
		struct job *job;

		pthread_mutex_lock(&p->lock);
		while (p->waiting == NULL && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->waiting == NULL) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		job = p->waiting;
		p->waiting = job->next;
		if (p->waiting == NULL)
			p->waiting_tail = NULL;
		atomic_store(&job->worker, w->index);
		w->current = job;
		w->handed = false;
		pthread_mutex_unlock(&p->lock);
		run(w, job);
		if (w->handed)
			continue; /* handed() told the loop; decoded_alone() hands it back */
		pthread_mutex_lock(&p->lock);
		w->current = NULL;
		atomic_store(&job->worker, -1);
		job->next = p->finished;
		p->finished = job;
		pthread_mutex_unlock(&p->lock);
		ev_async_send(p->loop, &p->wake);
	}
	return NULL;
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct plecs_pool *p = w->data;
	struct job *list, *rev = NULL, *received, *in_order = NULL;

	pthread_mutex_lock(&p->lock);
	list = p->finished;
	p->finished = NULL;
	received = p->received;
	p->received = NULL;
	pthread_mutex_unlock(&p->lock);
	/* First the answers that are all in (a call's comes before its end), oldest first. */
	while (received) {
		struct job *next = received->next_received;

		received->next_received = in_order;
		in_order = received;
		received = next;
	}
	for (struct job *job = in_order; job; job = job->next_received)
		if (job->call->received)
			job->call->received(job->call);
	/* Hand them back in the order they finished. */
	while (list) {
		struct job *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct job *next = rev->next;
		struct backend_call *bc = rev->call;

		bc->impl = NULL;
		free(rev);
		bc->done(bc);
		rev = next;
	}
}

/* A worker's libcurl handles, made before any thread starts (their creation is not thread-safe). */
static bool worker_init(struct worker *w)
{
	w->multi = curl_multi_init();
	w->easy = curl_easy_init();
	if (w->multi == NULL || w->easy == NULL)
		return false;
	/* One connection kept: a fresh one (after a refused answer) closes the one it replaces. */
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, 1L);
	/* No Expect: 100-continue round trip before a large batch. */
	w->headers = curl_slist_append(curl_slist_append(NULL, "Content-Type: text/xml"), "Expect:");
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(w->easy, CURLOPT_USERAGENT, "simq/" PACKAGE_VERSION);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, take_bytes);
	curl_easy_setopt(w->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_NODELAY, 1L);
	/* An answer read in pieces of up to 256 KB, not curl's 16 KB: a 1.6 MB answer in 7 reads and feed pieces, not 100. */
	curl_easy_setopt(w->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
	return true;
}

struct plecs_pool *plecs_pool_new(struct ev_loop *loop, int workers, size_t max_response, char **err)
{
	struct plecs_pool *p = xcalloc(1, sizeof *p);
	sigset_t block, old;
	static bool global_done;
	bool ok = true;

	p->loop = loop;
	p->nworkers = workers;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	ev_async_init(&p->wake, on_wake);
	p->wake.data = p;
	ev_async_start(loop, &p->wake);
	if (!global_done) {
		/* Not thread-safe: once, before any worker starts. */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = true;
	}
	/* xmlrpc-c reads no document larger than its limit: one for the whole process. */
	if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < max_response)
		xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, max_response);
	/* xmlrpc-c counts the parameter list as a level: what the scan lets through, it parses. */
	xmlrpc_limit_set(XMLRPC_NESTING_LIMIT_ID, PROTO_MAX_NESTING + 1);
	p->workers = xcalloc((size_t)workers, sizeof *p->workers);
	for (int i = 0; i < workers && ok; i++) {
		p->workers[i] = (struct worker){.pool = p, .index = i};
		ok = worker_init(&p->workers[i]);
	}
	/* Two per worker: one decoding an answer handed over while the next one comes in. */
	p->feeds = ok ? feeds_new(2 * workers) : NULL;
	if (!ok || p->feeds == NULL) {
		*err = xstrdup(ok ? "cannot start the threads that decode PLECS's answers"
				  : "cannot create the PLECS clients (libcurl)");
		plecs_pool_free(&p);
		return NULL;
	}
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < workers; i++)
		p->workers[i].started = pthread_create(&p->workers[i].thread, NULL, work, &p->workers[i]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

static void pool_start(void *impl, struct backend_call *bc)
{
	struct plecs_pool *p = impl;
	struct job *job = xcalloc(1, sizeof *job);

	job->pool = p;
	job->call = bc;
	bc->impl = job;
	atomic_store(&job->worker, -1);
	pthread_mutex_lock(&p->lock);
	if (p->waiting_tail)
		p->waiting_tail->next = job;
	else
		p->waiting = job;
	p->waiting_tail = job;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

static void pool_interrupt(void *impl, struct backend_call *bc)
{
	struct plecs_pool *p = impl;
	struct job *job = bc->impl;

	if (job == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&job->interrupt, 1, __ATOMIC_RELAXED);
	int w = atomic_load(&job->worker);

	/* curl_multi_wakeup is safe from another thread: the worker's poll returns at once. */
	if (w >= 0)
		curl_multi_wakeup(p->workers[w].multi);
	pthread_mutex_unlock(&p->lock);
}

const struct backend_ops plecs_backend_ops = {
	.start = pool_start,
	.interrupt = pool_interrupt,
};

/* Lets go of jobs: their calls stay with the scheduler, which frees them. */
static void drop_jobs(struct job *list)
{
	while (list) {
		struct job *next = list->next;

		list->call->impl = NULL;
		free(list);
		list = next;
	}
}

void plecs_pool_free(struct plecs_pool **pp)
{
	struct plecs_pool *p = *pp;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	/* Jobs not started are dropped; running calls are cut short. */
	drop_jobs(p->waiting);
	p->waiting = p->waiting_tail = NULL;
	pthread_cond_broadcast(&p->work);
	for (int i = 0; i < p->nworkers; i++) {
		if (p->workers[i].current)
			__atomic_store_n(&p->workers[i].current->interrupt, 1, __ATOMIC_RELAXED);
		if (p->workers[i].multi)
			curl_multi_wakeup(p->workers[i].multi);
	}
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->easy)
			curl_easy_cleanup(w->easy);
		if (w->multi)
			curl_multi_cleanup(w->multi);
		curl_slist_free_all(w->headers);
	}
	/* Answers handed to the decoders end now, each on the finished list. */
	feeds_free(&p->feeds);
	p->received = NULL; /* each of them is on the finished list too */
	drop_jobs(p->finished);
	p->finished = NULL;
	ev_async_stop(p->loop, &p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	free(p->workers);
	free(p);
	*pp = NULL;
}
