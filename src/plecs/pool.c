#include "autoconf.h"

#include "plecs/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/client.h>

#include "util/time.h"
#include "util/xalloc.h"

struct worker {
	struct plecs_pool *pool;
	struct plecs_job *current;  /* under the pool's lock */
	pthread_t thread;
	xmlrpc_client *client;
	int index;
	bool started;
};

struct plecs_pool {
	struct ev_loop *loop;
	ev_async wake;
	plecs_done_fn done_fn;
	void *ud;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct plecs_job *waiting, *waiting_tail; /* jobs no worker has taken yet, oldest first */
	struct plecs_job *finished;
	bool stopping;
	struct worker *workers;
	int nworkers;
};

static void on_signal(int sig)
{
	(void)sig; /* Only to interrupt the worker's wait: the job's flag says why. */
}

/* Is this xmlrpc-c error a transport one (no usable answer) rather than PLECS's fault? */
static bool transport_fault(int code)
{
	return code == XMLRPC_NETWORK_ERROR || code == XMLRPC_PARSE_ERROR || code == XMLRPC_TIMEOUT_ERROR ||
	       code == XMLRPC_LIMIT_EXCEEDED_ERROR || code == XMLRPC_INTERNAL_ERROR;
}

/* One call; false with the job's outcome and error set when it fails. */
static bool call(struct worker *w, struct plecs_job *job, const char *method, xmlrpc_value *params,
		 xmlrpc_value **result)
{
	xmlrpc_env env;
	xmlrpc_server_info *server;

	xmlrpc_env_init(&env);
	*result = NULL;
	server = xmlrpc_server_info_new(&env, job->url);
	if (!env.fault_occurred)
		xmlrpc_client_call2(&env, w->client, server, method, params, result);
	if (server)
		xmlrpc_server_info_free(server);
	if (!env.fault_occurred) {
		xmlrpc_env_clean(&env);
		return true;
	}
	free(job->error);
	job->interrupted = __atomic_load_n(&job->interrupt, __ATOMIC_RELAXED) != 0;
	job->fault_code = env.fault_code;
	job->outcome = job->interrupted || transport_fault(env.fault_code) ? PLECS_TRANSPORT : PLECS_FAULT;
	/* xmlrpc-c prefixes PLECS's own text; the operator wants PLECS's words only. */
	const char *text = env.fault_string;
	static const char prefix[] = "RPC failed at server.  ";

	if (job->outcome == PLECS_FAULT && strncmp(text, prefix, sizeof prefix - 1) == 0)
		text += sizeof prefix - 1;
	job->error = xstrdup(text);
	*result = NULL;
	xmlrpc_env_clean(&env);
	return false;
}

static bool load(struct worker *w, struct plecs_job *job)
{
	xmlrpc_env env;
	xmlrpc_value *params, *r;
	bool ok;

	xmlrpc_env_init(&env);
	if (job->close_first) {
		params = xmlrpc_build_value(&env, "(s)", job->close_first);
		/* Closing a model that is not there is no harm: its fault is ignored. */
		if (call(w, job, "plecs.close", params, &r))
			xmlrpc_DECREF(r);
		else if (job->outcome == PLECS_TRANSPORT)
			return xmlrpc_DECREF(params), xmlrpc_env_clean(&env), false;
		xmlrpc_DECREF(params);
	}
	params = xmlrpc_build_value(&env, "(s)", job->model_path);
	ok = call(w, job, "plecs.load", params, &r);
	if (ok) {
		xmlrpc_DECREF(r);
		job->loaded = true;
	}
	xmlrpc_DECREF(params);
	xmlrpc_env_clean(&env);
	return ok;
}

static void run(struct worker *w, struct plecs_job *job)
{
	xmlrpc_env env;
	xmlrpc_value *params = NULL, *r = NULL;
	int64_t t0 = time_mono_ns();

	xmlrpc_env_init(&env);
	xmlrpc_client_set_interrupt(w->client, &job->interrupt);
	job->outcome = PLECS_OK;
	if (job->probe) {
		params = xmlrpc_array_new(&env);
		if (call(w, job, "system.listMethods", params, &r))
			xmlrpc_DECREF(r);
		goto out;
	}
	if (job->load && !load(w, job))
		goto out;
	if (job->as_list) {
		params = xmlrpc_build_value(&env, "(sV)", job->model_name, job->cases);
	} else {
		xmlrpc_value *one;

		xmlrpc_array_read_item(&env, job->cases, 0, &one);
		params = xmlrpc_build_value(&env, "(sV)", job->model_name, one);
		xmlrpc_DECREF(one);
	}
	if (!call(w, job, "plecs.simulate", params, &r) && job->outcome == PLECS_FAULT && !job->loaded &&
	    job->error && strstr(job->error, "not loaded")) {
		/* PLECS restarted and forgot the model: load it and ask again; not an attempt. */
		job->outcome = PLECS_OK;
		if (load(w, job) && !call(w, job, "plecs.simulate", params, &r))
			r = NULL;
	}
	job->result = r;
out:
	if (params)
		xmlrpc_DECREF(params);
	xmlrpc_client_set_interrupt(w->client, NULL);
	job->seconds = (double)(time_mono_ns() - t0) / 1e9;
	xmlrpc_env_clean(&env);
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
		struct plecs_job *job;

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
	struct plecs_job *list, *rev = NULL;

	pthread_mutex_lock(&p->lock);
	list = p->finished;
	p->finished = NULL;
	pthread_mutex_unlock(&p->lock);
	/* Hand them back in the order they finished. */
	while (list) {
		struct plecs_job *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct plecs_job *next = rev->next;

		rev->next = NULL;
		p->done_fn(rev, p->ud);
		rev = next;
	}
}

struct plecs_pool *plecs_pool_new(struct ev_loop *loop, int workers, plecs_done_fn done, void *ud, char **err)
{
	struct plecs_pool *p = xcalloc(1, sizeof *p);
	struct sigaction sa = {.sa_handler = on_signal};
	xmlrpc_env env;
	sigset_t block, old;
	static bool global_done;

	p->loop = loop;
	p->done_fn = done;
	p->ud = ud;
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

void plecs_pool_submit(struct plecs_pool *p, struct plecs_job *job)
{
	job->next = NULL;
	__atomic_store_n(&job->interrupt, 0, __ATOMIC_RELAXED);
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

void plecs_pool_interrupt(struct plecs_pool *p, struct plecs_job *job)
{
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&job->interrupt, 1, __ATOMIC_RELAXED);
	int w = atomic_load(&job->worker);

	if (w >= 0 && p->workers[w].started)
		pthread_kill(p->workers[w].thread, SIGUSR1);
	pthread_mutex_unlock(&p->lock);
}

void plecs_job_free(struct plecs_job **jp)
{
	struct plecs_job *job = *jp;

	if (job == NULL)
		return;
	free(job->url);
	free(job->model_path);
	free(job->model_name);
	free(job->close_first);
	free(job->error);
	if (job->cases)
		xmlrpc_DECREF(job->cases);
	if (job->result)
		xmlrpc_DECREF(job->result);
	free(job);
	*jp = NULL;
}

void plecs_pool_free(struct plecs_pool **pp)
{
	struct plecs_pool *p = *pp;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	/* Jobs not started are dropped; running calls are cut short. */
	while (p->waiting) {
		struct plecs_job *job = p->waiting;

		p->waiting = job->next;
		plecs_job_free(&job);
	}
	p->waiting_tail = NULL;
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
	while (p->finished) {
		struct plecs_job *job = p->finished;

		p->finished = job->next;
		plecs_job_free(&job);
	}
	ev_async_stop(p->loop, &p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	free(p->workers);
	free(p);
	*pp = NULL;
}
