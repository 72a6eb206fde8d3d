#include "autoconf.h"

#include "plecs/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <xmlrpc-c/client.h>

#include "plecs/wire.h"
#include "util/time.h"
#include "util/xalloc.h"

/* A call while the pool holds it. */
struct job {
	struct backend_call *call;
	int interrupt;          /* xmlrpc-c's interrupt flag: a plain int it polls, so set and read with __atomic */
	atomic_int worker;      /* index of the worker holding it, -1 when none */
	int fault_code;
	struct job *next;
};

struct worker {
	struct plecs_pool *pool;
	struct job *current;        /* under the pool's lock */
	pthread_t thread;
	xmlrpc_client *client;
	int index;
	bool started;
};

struct plecs_pool {
	struct ev_loop *loop;
	ev_async wake;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job *waiting, *waiting_tail; /* jobs no worker has taken yet, oldest first */
	struct job *finished;
	bool stopping;
	struct worker *workers;
	int nworkers;
};

static void on_signal(int sig)
{
	(void)sig; /* Only to interrupt the worker's wait: the call's flag says why. */
}

/* Is this xmlrpc-c error a transport one (no usable answer) rather than PLECS's fault? */
static bool transport_fault(int code)
{
	return code == XMLRPC_NETWORK_ERROR || code == XMLRPC_PARSE_ERROR || code == XMLRPC_TIMEOUT_ERROR ||
	       code == XMLRPC_LIMIT_EXCEEDED_ERROR || code == XMLRPC_INTERNAL_ERROR;
}

/*
 * Did the call fail before PLECS could have seen it: no connection, or the connection dropped
 * before any byte of an answer?  libcurl's words, as xmlrpc-c passes them on.
 */
static bool unreachable(int code, const char *text)
{
	static const char *const before_answer[] = {
		"Failed to connect", "Couldn't connect", "Connection refused", "Could not resolve", "Couldn't resolve",
		"Connection reset", "Empty reply from server", "Server returned nothing",
	};

	if (code != XMLRPC_NETWORK_ERROR)
		return false;
	for (size_t i = 0; i < sizeof before_answer / sizeof before_answer[0]; i++)
		if (strstr(text, before_answer[i]))
			return true;
	return false;
}

/* One call; false with the call's outcome and error set when it fails. */
static bool call(struct worker *w, struct job *job, const char *method, xmlrpc_value *params, xmlrpc_value **result)
{
	struct backend_call *bc = job->call;
	xmlrpc_env env;
	xmlrpc_server_info *server;

	xmlrpc_env_init(&env);
	*result = NULL;
	server = xmlrpc_server_info_new(&env, bc->url);
	if (!env.fault_occurred)
		xmlrpc_client_call2(&env, w->client, server, method, params, result);
	if (server)
		xmlrpc_server_info_free(server);
	if (!env.fault_occurred) {
		xmlrpc_env_clean(&env);
		return true;
	}
	free(bc->error);
	bc->interrupted = __atomic_load_n(&job->interrupt, __ATOMIC_RELAXED) != 0;
	job->fault_code = env.fault_code;
	bc->outcome = bc->interrupted || transport_fault(env.fault_code) ? BACKEND_TRANSPORT : BACKEND_FAULT;
	if (bc->outcome == BACKEND_TRANSPORT && !bc->interrupted && unreachable(env.fault_code, env.fault_string))
		bc->outcome = BACKEND_UNREACHABLE;
	/* xmlrpc-c prefixes PLECS's own text; the operator wants PLECS's words only. */
	const char *text = env.fault_string;
	static const char prefix[] = "RPC failed at server.  ";

	if (bc->outcome == BACKEND_FAULT && strncmp(text, prefix, sizeof prefix - 1) == 0)
		text += sizeof prefix - 1;
	bc->error = xstrdup(text);
	*result = NULL;
	xmlrpc_env_clean(&env);
	return false;
}

static bool load(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;
	xmlrpc_env env;
	xmlrpc_value *params, *r;
	bool ok;

	xmlrpc_env_init(&env);
	if (bc->close_first) {
		params = xmlrpc_build_value(&env, "(s)", bc->close_first);
		/* Closing a model that is not there is no harm: its fault is ignored. */
		if (call(w, job, "plecs.close", params, &r))
			xmlrpc_DECREF(r);
		else if (bc->outcome != BACKEND_FAULT)
			return xmlrpc_DECREF(params), xmlrpc_env_clean(&env), false;
		xmlrpc_DECREF(params);
	}
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

/* The parameters of plecs.simulate: the model's name and one optStruct, or the list of them. */
static xmlrpc_value *simulate_params(xmlrpc_env *env, struct backend_call *bc, char **err)
{
	xmlrpc_value *cases = xmlrpc_array_new(env), *params = NULL;

	for (size_t i = 0; i < bc->ncases && *err == NULL; i++) {
		const struct backend_case *c = &bc->cases[i];
		xmlrpc_value *opt = plecs_opt_struct(env, c->vars, c->solver, c->timeout, bc->matfile, c->name, err);

		if (opt) {
			xmlrpc_array_append_item(env, cases, opt);
			xmlrpc_DECREF(opt);
		}
	}
	if (*err == NULL && bc->as_list) {
		params = xmlrpc_build_value(env, "(sA)", bc->model_name, cases);
	} else if (*err == NULL) {
		xmlrpc_value *one;

		xmlrpc_array_read_item(env, cases, 0, &one);
		params = xmlrpc_build_value(env, "(sV)", bc->model_name, one);
		xmlrpc_DECREF(one);
	}
	xmlrpc_DECREF(cases);
	return params;
}

/* One case's answer into columns of doubles (MAT bytes kept as PLECS sent them). */
static void decode_case(xmlrpc_value *value, struct result_data *out)
{
	char *err = NULL;

	if (value == NULL) {
		out->error = xstrdup("PLECS's answer holds fewer results than cases");
	} else if (xmlrpc_value_type(value) == XMLRPC_TYPE_BASE64) {
		const unsigned char *bytes;
		size_t len;
		xmlrpc_env env;

		xmlrpc_env_init(&env);
		xmlrpc_read_base64(&env, value, &len, &bytes);
		if (env.fault_occurred) {
			out->error = xasprintf("PLECS's MatFile result cannot be read: %s", env.fault_string);
		} else if (plecs_decode_mat(bytes, len, out, &err)) {
			out->mat = (unsigned char *)bytes;
			out->mat_len = len;
			bytes = NULL;
		} else {
			out->error = err;
		}
		free((void *)bytes);
		xmlrpc_env_clean(&env);
	} else if (!plecs_decode_plain(value, out, &err)) {
		out->error = err;
	}
}

/* Every case's result from PLECS's answer r: the struct, or the list in case order. */
static void decode(struct backend_call *bc, xmlrpc_value *r)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	bc->results = xcalloc(bc->ncases ? bc->ncases : 1, sizeof *bc->results);
	for (size_t i = 0; i < bc->ncases; i++) {
		xmlrpc_value *value = r;

		if (bc->as_list) {
			value = NULL;
			if (xmlrpc_value_type(r) == XMLRPC_TYPE_ARRAY && (int)i < xmlrpc_array_size(&env, r))
				xmlrpc_array_read_item(&env, r, (int)i, &value);
			if (env.fault_occurred) {
				value = NULL;
				xmlrpc_env_clean(&env);
				xmlrpc_env_init(&env);
			}
		}
		decode_case(value, &bc->results[i]);
		if (bc->as_list && value)
			xmlrpc_DECREF(value);
	}
	xmlrpc_env_clean(&env);
}

static void simulate(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;
	xmlrpc_env env;
	xmlrpc_value *params, *r = NULL;
	char *err = NULL;

	xmlrpc_env_init(&env);
	if (bc->load && !load(w, job))
		goto out;
	params = simulate_params(&env, bc, &err);
	if (params == NULL) {
		/* Cannot happen for a validated task; still, never send a batch with a hole. */
		bc->outcome = BACKEND_FAULT;
		bc->error = err ? err : xstrdup(env.fault_string ? env.fault_string : "cannot build the optStruct");
		goto out;
	}
	if (!call(w, job, "plecs.simulate", params, &r) && bc->outcome == BACKEND_FAULT && !bc->loaded && bc->error &&
	    strstr(bc->error, "not loaded")) {
		/* PLECS restarted and forgot the model: load it and ask again; not an attempt. */
		bc->outcome = BACKEND_OK;
		if (load(w, job) && !call(w, job, "plecs.simulate", params, &r))
			r = NULL;
	}
	xmlrpc_DECREF(params);
	if (bc->outcome == BACKEND_OK)
		decode(bc, r);
	if (r)
		xmlrpc_DECREF(r);
out:
	xmlrpc_env_clean(&env);
}

static void run(struct worker *w, struct job *job)
{
	struct backend_call *bc = job->call;
	int64_t t0 = time_mono_ns();

	xmlrpc_client_set_interrupt(w->client, &job->interrupt);
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
	xmlrpc_client_set_interrupt(w->client, NULL);
	bc->seconds = (double)(time_mono_ns() - t0) / 1e9;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct plecs_pool *p = w->pool;
	sigset_t usr1;

	/* SIGUSR1 reaches workers only; it interrupts curl's wait without restarting it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
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
		pthread_mutex_unlock(&p->lock);
		run(w, job);
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
	struct job *list, *rev = NULL;

	pthread_mutex_lock(&p->lock);
	list = p->finished;
	p->finished = NULL;
	pthread_mutex_unlock(&p->lock);
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

struct plecs_pool *plecs_pool_new(struct ev_loop *loop, int workers, char **err)
{
	struct plecs_pool *p = xcalloc(1, sizeof *p);
	struct sigaction sa = {.sa_handler = on_signal};
	xmlrpc_env env;
	sigset_t block, old;
	static bool global_done;

	p->loop = loop;
	p->nworkers = workers;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	ev_async_init(&p->wake, on_wake);
	p->wake.data = p;
	ev_async_start(loop, &p->wake);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: the wait returns */
	xmlrpc_env_init(&env);
	if (!global_done) {
		/* Not thread-safe: once, before any worker starts. */
		xmlrpc_client_setup_global_const(&env);
		global_done = true;
	}
	/* Every client before any thread: concurrent creation races inside libcurl. */
	p->workers = xcalloc((size_t)workers, sizeof *p->workers);
	for (int i = 0; i < workers && !env.fault_occurred; i++) {
		p->workers[i] = (struct worker){.pool = p, .index = i};
		xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "simq", PACKAGE_VERSION, NULL, 0, &p->workers[i].client);
	}
	if (env.fault_occurred) {
		*err = xasprintf("cannot create the PLECS clients: %s", env.fault_string);
		xmlrpc_env_clean(&env);
		plecs_pool_free(&p);
		return NULL;
	}
	xmlrpc_env_clean(&env);
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

	if (w >= 0 && p->workers[w].started)
		pthread_kill(p->workers[w].thread, SIGUSR1);
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
		if (p->workers[i].started)
			pthread_kill(p->workers[i].thread, SIGUSR1);
	}
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nworkers; i++) {
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
		if (p->workers[i].client)
			xmlrpc_client_destroy(p->workers[i].client);
	}
	drop_jobs(p->finished);
	p->finished = NULL;
	ev_async_stop(p->loop, &p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	free(p->workers);
	free(p);
	*pp = NULL;
}
