#include "autoconf.h"

#include "server/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/server.h>

#include "engine/engine.h"
#include "proto/proto.h"
#include "server/api.h"
#include "server/http.h"
#include "server/proxy-sim.h"
#include "server/request.h"
#include "server/validate.h"
#include "util/xalloc.h"

/* What the proxy keeps for its clients: a misbehaving one cannot make it hold more. */
#define MAX_PEERS  1024
#define MAX_MODELS 256 /* models one client has loaded */

/* A model loaded from a client: loaded as many times as it was not closed yet (two scripts on one machine). */
struct proxy_model {
	char *name, *path;
	size_t loads;
};

/* A client: an address, and the models loaded from it. */
struct proxy_peer {
	char address[64];
	struct proxy_model *models;
	size_t n;
	uint64_t used; /* when it last loaded, closed or simulated (struct proxy's clock) */
};

struct entry {
	struct proxy *proxy;
	const struct api_method *method;
};

struct proxy {
	struct http *http;
	enum task_priority priority;
	struct request_api methods;               /* the registry, and infos for proto_parse_call's calls */
	struct xmlrpc_method_info3 *infos;
	struct entry *entries;
	struct proxy_peer *peers; /* loop thread only */
	size_t npeers;
	uint64_t clock;           /* counts the peers' calls, for proxy_peer.used */
	char *models_path;        /* STATE/proxy-models.json: the loaded models, for the next server */
};

/* What the request being served on this connection's thread came with: its path's priority, its peer. */
static __thread struct {
	enum task_priority priority;
	char peer[64];
} here;

/* ---- the clients' models (loop thread) ------------------------------------------------------ */

static void forget_models(struct proxy_peer *peer)
{
	for (size_t j = 0; j < peer->n; j++) {
		free(peer->models[j].name);
		free(peer->models[j].path);
	}
	free(peer->models);
	peer->models = NULL;
	peer->n = 0;
}

/* A client's entry, found (and marked used), or added when add: with MAX_PEERS there, in the place of the
 * one that has not called for longest (its models forgotten, as a PLECS restarted would). */
static struct proxy_peer *find_peer(struct proxy *p, const char *address, bool add)
{
	struct proxy_peer *peer = NULL;

	for (size_t i = 0; i < p->npeers; i++)
		if (strcmp(p->peers[i].address, address) == 0) {
			p->peers[i].used = ++p->clock;
			return &p->peers[i];
		}
	if (!add)
		return NULL;
	if (p->npeers < MAX_PEERS) {
		p->peers = xreallocarray(p->peers, p->npeers + 1, sizeof *p->peers);
		peer = &p->peers[p->npeers++];
	} else {
		peer = &p->peers[0];
		for (size_t i = 1; i < p->npeers; i++)
			if (p->peers[i].used < peer->used)
				peer = &p->peers[i];
		forget_models(peer);
	}
	*peer = (struct proxy_peer){.used = ++p->clock};
	snprintf(peer->address, sizeof peer->address, "%s", address);
	return peer;
}

static struct proxy_model *find_model(struct proxy_peer *peer, const char *name)
{
	for (size_t i = 0; peer && i < peer->n; i++)
		if (strcmp(peer->models[i].name, name) == 0)
			return &peer->models[i];
	return NULL;
}

/* What is wrong with a model's resolved path for simq (heap), or NULL: what a submit refuses of it. */
static char *resolved_problem(const char *path)
{
	size_t len = strlen(path);
	char *rule;

	if (path[0] != '/' || len <= 6 || strcasecmp(path + len - 6, ".plecs") != 0)
		return xstrdup("is not an absolute path to a file whose name ends in .plecs (simq runs no other)");
	if ((rule = validate_path_rule(path)) == NULL)
		return NULL;
	char *problem = xasprintf("%s; rename the file or directory", rule);

	free(rule);
	return problem;
}

/*
 * The clients' loaded models, kept in the state directory: a script that loaded its model once and
 * simulates all night goes on after simq restarts, as it would if PLECS had not.  Written whole after each
 * load and close (a small file: at most MAX_PEERS clients); a file that cannot be written is logged.
 */
static void save_models(struct proxy *p, struct engine *e)
{
	json_t *all = json_array();
	char *tmp = xasprintf("%s.tmp", p->models_path), *text;
	int fd;

	for (size_t i = 0; i < p->npeers; i++)
		for (size_t j = 0; j < p->peers[i].n; j++)
			json_array_append_new(all, json_pack("{s:s,s:s,s:s,s:I}", "address", p->peers[i].address, "name",
							     p->peers[i].models[j].name, "path", p->peers[i].models[j].path,
							     "loads", (json_int_t)p->peers[i].models[j].loads));
	text = json_dumps(all, JSON_COMPACT);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && text && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	ok = fd >= 0 && close(fd) == 0 && ok && rename(tmp, p->models_path) == 0;
	if (!ok) {
		engine_log(e, SEVERITY_WARNING, 0, "proxy: cannot keep the loaded models in %s (%s): a restart forgets "
			   "them", p->models_path, strerror(errno));
		unlink(tmp);
	}
	free(text);
	free(tmp);
	json_decref(all);
}

/* The models the last server kept (save_models); a file that is not there leaves none, one that cannot be read
 * (or an entry that is not a model simq would load) is logged and left out. */
static void load_models(struct proxy *p, struct engine *e)
{
	json_error_t error;
	struct stat st;
	/* A regular file only: a FIFO put there would hold the server's start for ever. */
	bool regular = stat(p->models_path, &st) == 0 && S_ISREG(st.st_mode);
	json_t *all = regular ? json_load_file(p->models_path, 0, &error) : NULL, *m;
	size_t i, skipped = 0;

	if (!regular && access(p->models_path, F_OK) == 0)
		engine_log(e, SEVERITY_WARNING, 0, "proxy: %s is not a regular file: the models scripts loaded before are "
			   "not loaded", p->models_path);
	else if (all == NULL && regular)
		engine_log(e, SEVERITY_WARNING, 0, "proxy: %s cannot be read (%s, line %d): the models scripts loaded before "
			   "are not loaded", p->models_path, error.text, error.line);
	if (all && !json_is_array(all))
		engine_log(e, SEVERITY_WARNING, 0, "proxy: %s is not a list of models: none is loaded", p->models_path);

	json_array_foreach(all, i, m)
	{
		const char *address = json_string_value(json_object_get(m, "address"));
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *path = json_string_value(json_object_get(m, "path"));
		json_int_t loads = json_integer_value(json_object_get(m, "loads"));
		char *problem = path ? resolved_problem(path) : NULL;
		struct proxy_peer *peer =
			address && name && path && !problem && loads > 0 ? find_peer(p, address, true) : NULL;

		skipped += peer == NULL;
		free(problem);
		if (peer && peer->n < MAX_MODELS && find_model(peer, name) == NULL) {
			peer->models = xreallocarray(peer->models, peer->n + 1, sizeof *peer->models);
			peer->models[peer->n++] = (struct proxy_model){xstrdup(name), xstrdup(path), (size_t)loads};
		}
	}
	if (skipped)
		engine_log(e, SEVERITY_WARNING, 0, "proxy: %zu entries of %s are not models simq loads: left out",
			   skipped, p->models_path);
	json_decref(all);
}

/* A client that closed its last model is forgotten. */
static void drop_peer_if_idle(struct proxy *p, struct proxy_peer *peer)
{
	if (peer->n > 0)
		return;
	forget_models(peer);
	*peer = p->peers[--p->npeers];
}

/* ---- arguments, in plecs-emu's words (which are PLECS's) ----------------------------------- */

static bool arg_count(struct api_call *c, const char *method, int min, int max)
{
	xmlrpc_env env;
	int n;

	xmlrpc_env_init(&env);
	n = xmlrpc_array_size(&env, c->params);
	xmlrpc_env_clean(&env);
	if (n >= min && n <= max)
		return true;
	if (min == max)
		api_fault(c, PROXY_FAULT_PLECS, "%s takes %d argument%s, not %d", method, min, min == 1 ? "" : "s", n);
	else
		api_fault(c, PROXY_FAULT_PLECS, "%s takes %d to %d arguments, not %d", method, min, max, n);
	return false;
}

/* Argument i as a string (heap); NULL after a fault naming it. */
static char *arg_string(struct api_call *c, int i, const char *method, const char *what)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;
	const char *s = NULL;

	xmlrpc_env_init(&env);
	xmlrpc_array_read_item(&env, c->params, i, &v);
	if (v && xmlrpc_value_type(v) == XMLRPC_TYPE_STRING)
		xmlrpc_read_string(&env, v, &s);
	else
		api_fault(c, PROXY_FAULT_PLECS, "%s: the %s must be a string, not %s", method, what,
		          v ? proto_type_name(xmlrpc_value_type(v)) : "nothing");
	if (v)
		xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	return (char *)s;
}

/* ---- the methods (loop thread) ---------------------------------------------------------------- */

/* Why path is no model PLECS would load (heap), or NULL; reads its first bytes only. */
static char *model_problem(const char *path)
{
	char head[64] = "";
	const char *p = head;
	int fd;
	ssize_t n;

	size_t len = strlen(path);

	if (path[0] != '/')
		return xstrdup("simq's proxy takes an absolute path (it cannot know the script's working directory)");
	/* simq runs only .plecs files (a submit refuses others): refused here, not at every simulate. */
	if (len <= 6 || strcasecmp(path + len - 6, ".plecs") != 0)
		return xstrdup("simq's proxy loads model files whose name ends in .plecs");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return xstrdup(strerror(errno));
	n = read(fd, head, sizeof head - 1);
	close(fd);
	if (n < 0)
		return xstrdup(strerror(errno));
	head[n] = '\0';
	p += strspn(p, " \t\r\n");
	if (strncmp(p, "Plecs", 5) != 0 || (p += 5, p += strspn(p, " \t\r\n"), *p != '{'))
		return xstrdup("not a PLECS model file (it does not start with \"Plecs {\")");
	return NULL;
}

/* The model's name: the file's base name without its extension, as PLECS names it. */
static char *model_name(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *dot = strrchr(base, '.');

	return xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* Records the model for the client's address, as PLECS keeps it loaded; false after a fault. */
static bool remember(struct api_call *c, struct proxy_peer *peer, const char *given, char *path, char *name)
{
	struct proxy_model *m = find_model(peer, name);

	if (m && strcmp(m->path, path) != 0) {
		char *shown = buf_shown(m->path);

		api_fault(c, PROXY_FAULT_PLECS,
		          "Cannot load model '%s': a model named '%s' is already loaded from '%s'; "
		          "close it first",
		          given, name, shown);
		free(shown);
	} else if (m == NULL && peer->n >= MAX_MODELS) {
		api_fault(c, PROXY_FAULT_PLECS,
		          "Cannot load model '%s': simq's proxy keeps at most %d models loaded for "
		          "one client (%s); close some first",
		          given, MAX_MODELS, peer->address);
	} else if (m == NULL) {
		peer->models = xreallocarray(peer->models, peer->n + 1, sizeof *peer->models);
		peer->models[peer->n++] = (struct proxy_model){name, path, 1};
		return true;
	} else {
		m->loads++;
	}
	free(path);
	free(name);
	return c->fault_code == 0;
}

static void proxy_load(struct api *a, struct api_call *c)
{
	struct proxy_call *pc = c->data;
	char *given, *problem, *path, *name;
	struct proxy_peer *peer;

	if (!arg_count(c, "plecs.load", 1, 1) || (given = arg_string(c, 0, "plecs.load", "model path")) == NULL)
		return;
	if ((problem = model_problem(given)) != NULL) {
		api_fault(c, PROXY_FAULT_PLECS, "Cannot load model '%s': %s", given, problem);
	} else if ((path = realpath(given, NULL)) != NULL && (problem = resolved_problem(path)) != NULL) {
		char *shown = buf_shown(path);

		/* Tasks keep the resolved path: simq runs it, and every answer names it. */
		api_fault(c, PROXY_FAULT_PLECS, "Cannot load model '%s': it resolves to %s, which %s", given, shown, problem);
		free(shown);
		free(path);
	} else {
		peer = find_peer(pc->proxy, pc->peer, true);
		name = model_name(path ? path : given);
		if (remember(c, peer, given, path ? path : xstrdup(given), xstrdup(name))) {
			xmlrpc_env env;

			xmlrpc_env_init(&env);
			api_result(c, xmlrpc_string_new(&env, name));
			xmlrpc_env_clean(&env);
			save_models(pc->proxy, api_engine(a));
		} else {
			drop_peer_if_idle(pc->proxy, peer);
		}
		free(name);
	}
	free(problem);
	free(given);
}

static void proxy_close(struct api *a, struct api_call *c)
{
	struct proxy_call *pc = c->data;
	struct proxy_peer *peer = find_peer(pc->proxy, pc->peer, false);
	struct proxy_model *m;
	char *name;
	xmlrpc_env env;

	if (!arg_count(c, "plecs.close", 1, 1) || (name = arg_string(c, 0, "plecs.close", "model name")) == NULL)
		return;
	if ((m = find_model(peer, name)) == NULL) {
		api_fault(c, PROXY_FAULT_PLECS, "Model '%s' is not loaded", name);
	} else {
		if (--m->loads == 0) {
			free(m->name);
			free(m->path);
			*m = peer->models[--peer->n];
			drop_peer_if_idle(pc->proxy, peer);
		}
		save_models(pc->proxy, api_engine(a));
		xmlrpc_env_init(&env);
		api_result(c, xmlrpc_int_new(&env, 0));
		xmlrpc_env_clean(&env);
	}
	free(name);
}

static void proxy_simulate(struct api *a, struct api_call *c)
{
	struct proxy_call *pc = c->data;
	struct proxy_model *m;
	char *name;

	if (pc->sim) {
		proxy_sim_run(api_engine(a), c, NULL);
		return;
	}
	if (!arg_count(c, "plecs.simulate", 1, 2) ||
	    (name = arg_string(c, 0, "plecs.simulate", "first argument (the model name)")) == NULL)
		return;
	if ((m = find_model(find_peer(pc->proxy, pc->peer, false), name)) == NULL)
		api_fault(c, PROXY_FAULT_PLECS, "Simulation error: model '%s' is not loaded", name);
	else
		proxy_sim_run(api_engine(a), c, m->path);
	free(name);
}

/* plecs.get and plecs.set: a component's parameter lives in one PLECS, and simq runs each case on whichever is free. */
static void proxy_unsupported(struct api *a, struct api_call *c)
{
	api_fault(c, PROXY_FAULT_PLECS,
	          "simq's proxy does not support %s: simq runs each case on whichever PLECS is "
	          "free, so no one PLECS holds a setting between calls; pass the values as ModelVars in "
	          "plecs.simulate's options instead",
	          c->method->name);
}

static const struct api_method proxy_methods[] = {
    {"plecs.load", "plecs.load(path): load a model file; answers its name", proxy_load},
    {"plecs.close", "plecs.close(name): close a model", proxy_close},
    {"plecs.simulate",
     "plecs.simulate(name[, optStruct | [optStruct...]]): run a simulation, or several; each "
     "case is a task in simq's queue",
     proxy_simulate},
    {"plecs.get", "plecs.get: not supported by simq's proxy", proxy_unsupported},
    {"plecs.set", "plecs.set: not supported by simq's proxy", proxy_unsupported},
};
#define NMETHODS (sizeof proxy_methods / sizeof proxy_methods[0])

/* ---- the listener (connection threads) ------------------------------------------------------- */

/* Connection thread: a method of the registry; it runs on the loop, with what this request came with. */
static xmlrpc_value *enter(xmlrpc_env *env, xmlrpc_value *params, void *server_info, void *call_info)
{
	const struct entry *e = server_info;
	struct proxy_call pc = {.proxy = e->proxy, .priority = here.priority};
	xmlrpc_value *result;

	snprintf(pc.peer, sizeof pc.peer, "%s", here.peer);
	result = http_call(e->proxy->http, e->method, params, &pc, call_info, env);
	proxy_sim_free(&pc.sim);
	return result;
}

/* The priority of a call at path: /RPC2 at [proxy] priority, /RPC2/critical ... /RPC2/low; false for any other. */
static bool path_priority(const char *path, enum task_priority *prio)
{
	if (strcmp(path, "/RPC2") == 0)
		return true;
	for (int i = 0; i < PRIO_COUNT; i++) {
		if (strncmp(path, "/RPC2/", 6) == 0 &&
		    strcmp(path + 6, task_priority_name((enum task_priority)i)) == 0) {
			*prio = (enum task_priority)i;
			return true;
		}
	}
	return false;
}

/* Abyss handler: every request to the proxy, on its connection's thread. */
static void serve(void *ud, TSession *session, abyss_bool *handled)
{
	struct proxy *p = ud;
	const TRequestInfo *info = NULL;

	*handled = true;
	SessionGetRequestInfo(session, &info);
	here.priority = p->priority;
	if (info == NULL || !path_priority(info->uri, &here.priority)) {
		request_drop_small_body(session);
		request_respond_text(session, 404,
		                     "simq's proxy: PLECS's RPC is at /RPC2, or at /RPC2/critical, "
		                     "/RPC2/high, /RPC2/normal or /RPC2/low for that priority\n");
		return;
	}
	request_peer(session, here.peer, sizeof here.peer);
	request_answer_rpc(&p->methods, session);
}

struct proxy *proxy_start(struct http *h, struct engine *e, const struct proxy_options *o, char **err)
{
	struct proxy *p = xcalloc(1, sizeof *p);
	xmlrpc_env env;

	p->http = h;
	p->priority = o->priority;
	p->models_path = xasprintf("%s/proxy-models.json", o->state_dir);
	load_models(p, e);
	xmlrpc_env_init(&env);
	p->infos = xcalloc(NMETHODS, sizeof *p->infos);
	p->methods = (struct request_api){xmlrpc_registry_new(&env), p->infos, NMETHODS};
	p->entries = xcalloc(NMETHODS, sizeof *p->entries);
	for (size_t i = 0; i < NMETHODS && !env.fault_occurred; i++) {
		p->infos[i] = (struct xmlrpc_method_info3){.methodName = proxy_methods[i].name,
		                                           .methodFunction = enter,
		                                           .serverInfo = &p->entries[i],
		                                           .help = proxy_methods[i].help};
		p->entries[i] = (struct entry){p, &proxy_methods[i]};
		xmlrpc_registry_add_method3(&env, p->methods.registry, &p->infos[i]);
	}
	if (env.fault_occurred)
		*err = xasprintf("cannot serve the proxy: %s", env.fault_string);
	xmlrpc_env_clean(&env);
	if (*err == NULL && http_add_rpc(h, "proxy", o->fd, o->token, serve, p, err))
		return p;
	proxy_free(&p);
	return NULL;
}

void proxy_free(struct proxy **pp)
{
	struct proxy *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->npeers; i++)
		forget_models(&p->peers[i]);
	free(p->peers);
	free(p->models_path);
	if (p->methods.registry)
		xmlrpc_registry_free(p->methods.registry);
	free(p->infos);
	free(p->entries);
	xfree(pp);
}
