/*
 * view-args: what simq.view and simq.list take, read from XML-RPC — the filter (state, model,
 * name, tag) and the console's request (version, wait_ms, queue page, log_since, focus, history),
 * each bad member refused by name with what is allowed.  Declared in server/view.h.
 */
#include "autoconf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "server/view.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Reads one filter field; false with *err for a bad one, showing it. */
static bool filter_field(struct view_filter *f, const char *key, xmlrpc_value *v, char **err)
{
	enum task_state st;
	char *value = NULL, *shown_key = buf_shown(key), *shown = proto_shown(v);
	xmlrpc_env env;
	bool ok = true;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRING)
		xmlrpc_read_string(&env, v, (const char **)&value);
	bool flag = strcmp(key, "retried") == 0 || strcmp(key, "archived") == 0 || strcmp(key, "all") == 0 ||
		    strcmp(key, "brief") == 0;
	xmlrpc_bool b = 0;

	if (flag && xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL)
		xmlrpc_read_bool(&env, v, &b);
	xmlrpc_env_clean(&env);
	if (flag) {
		ok = xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL;
		if (!ok)
			*err = xasprintf("simq.list: filter.%s %s: allowed: a boolean", key, shown);
		else if (key[0] == 'r')
			f->retried = b ? 1 : 0;
		else if (key[0] == 'b')
			f->brief = b;
		/* archived: the archive only; all: the hot tables and the archive (it wins over archived). */
		else if (key[1] == 'l' && b)
			f->from = STORE_HOT | STORE_ARCHIVE;
		else if (key[1] == 'r' && f->from != (STORE_HOT | STORE_ARCHIVE))
			f->from = b ? STORE_ARCHIVE : STORE_HOT;
	} else if (strcmp(key, "state") != 0 && strcmp(key, "model") != 0 && strcmp(key, "name") != 0 &&
		   strcmp(key, "tag") != 0) {
		*err = xasprintf("simq.list: filter.%s %s: not a filter; allowed: state, model, name, tag, retried, "
				 "archived, all, brief", shown_key, shown);
		ok = false;
	} else if (value == NULL) {
		*err = xasprintf("simq.list: filter.%s %s: allowed: a string", key, shown);
		ok = false;
	} else if (value[0] == '\0') {
		/* an empty filter field matches everything */
	} else if (strcmp(key, "state") == 0) {
		ok = task_state_parse(value, &st);
		if (ok)
			f->state = (int)st;
		else
			*err = xasprintf("simq.list: filter.state %s: allowed: queued, running, completed, failed, cancelled",
					 shown);
	} else {
		char **field = key[0] == 'm' ? &f->model : key[0] == 'n' ? &f->name : &f->tag;

		free(*field);
		*field = xstrdup(value);
	}
	free(value);
	free(shown);
	free(shown_key);
	return ok;
}

struct filter_ctx {
	struct view_filter *f;
	char **err;
};

static bool filter_member(const char *key, xmlrpc_value *value, void *ud)
{
	struct filter_ctx *x = ud;

	return filter_field(x->f, key, value, x->err);
}

bool view_read_filter(xmlrpc_value *v, struct view_filter *f, char **err)
{
	memset(f, 0, sizeof *f);
	f->state = -1;
	f->retried = -1;
	f->from = STORE_HOT;
	if (v == NULL)
		return true;
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
		char *shown = proto_shown(v);

		*err = xasprintf("simq.list: filter %s: allowed: a struct with state, model, name or tag", shown);
		free(shown);
		return false;
	}
	struct filter_ctx x = {.f = f, .err = err};
	char *why = NULL;

	bool ok = proto_each_member(v, filter_member, &x, &why);

	if (!ok && why) {
		*err = xasprintf("simq.list: filter: %s", why);
		free(why);
	}
	return ok;
}

bool view_read_request(xmlrpc_value *v, struct view_request *r, int64_t *version, double *wait_ms, char **err)
{
	char *why = NULL;
	json_t *req = proto_to_json(v, &why), *x;
	const char *key;

	if (req == NULL || !json_is_object(req)) {
		char *shown = proto_shown(v);

		*err = xasprintf("simq.view: request %s: %s%sallowed: a struct of version, wait_ms, queue_offset, "
				 "queue_limit, log_since, focus, history, history_offset, history_state, queue_since, "
				 "history_since", shown, why ? why : "",
				 why ? "; " : "");
		free(shown);
		free(why);
		json_decref(req);
		return false;
	}
	json_object_foreach(req, key, x)
	{
		int64_t *target = strcmp(key, "version") == 0	    ? version
				  : strcmp(key, "queue_offset") == 0 ? &r->queue_offset
				  : strcmp(key, "queue_limit") == 0  ? &r->queue_limit
				  : strcmp(key, "log_since") == 0    ? &r->log_since
				  : strcmp(key, "focus") == 0	     ? &r->focus
				  : strcmp(key, "history") == 0	     ? &r->history
				  : strcmp(key, "history_offset") == 0 ? &r->history_offset
								     : NULL;

		enum task_state st;

		char *since = strcmp(key, "queue_since") == 0	 ? r->queue_since
			      : strcmp(key, "history_since") == 0 ? r->history_since
								  : NULL;

		if (strcmp(key, "wait_ms") == 0 && json_is_number(x)) {
			*wait_ms = json_number_value(x);
		} else if (since && json_is_string(x) && json_string_length(x) < VIEW_HASH_SIZE) {
			memcpy(since, json_string_value(x), json_string_length(x) + 1);
		} else if (strcmp(key, "history_state") == 0 && json_is_string(x) &&
			   (json_string_length(x) == 0 ||
			    (task_state_parse(json_string_value(x), &st) && task_state_is_final(st)))) {
			r->history_state = json_string_length(x) ? (int)st : -1;
		} else if (target && json_is_number(x)) {
			*target = (int64_t)json_number_value(x);
		} else {
			char *text = proto_json_text(x, false), *shown_key = buf_shown(key), *shown = buf_shown(text);

			*err = xasprintf("simq.view: request.%s %s: %s; allowed: numbers in version, wait_ms, queue_offset, "
					 "queue_limit, log_since, focus, history, history_offset, history_state: completed, "
					 "failed, cancelled or \"\", and queue_since, history_since: the queue_hash or "
					 "history_hash of an earlier answer", shown_key, shown,
					 target || strcmp(key, "wait_ms") == 0 ? "not a number"
					 : strcmp(key, "history_state") == 0 ? "not a final state"
					 : since				     ? "not a hash simq gave"
									     : "not a field of the request");
			free(text);
			free(shown_key);
			free(shown);
			json_decref(req);
			return false;
		}
	}
	json_decref(req);
	if (r->queue_offset < 0 || r->queue_limit < 0 || r->queue_limit > VIEW_MAX_PAGE || *wait_ms < 0 ||
	    *wait_ms > VIEW_MAX_WAIT_S * 1000 || r->history < 0 || r->history > ENGINE_RECENT || r->history_offset < 0) {
		*err = xasprintf("simq.view: queue_offset %lld, queue_limit %lld, wait_ms %g, history %lld, history_offset "
				 "%lld: allowed: queue_offset from 0, queue_limit from 0 to %d, wait_ms from 0 to %.0f, history "
				 "from 0 to %d, history_offset from 0", (long long)r->queue_offset, (long long)r->queue_limit,
				 *wait_ms, (long long)r->history, (long long)r->history_offset, VIEW_MAX_PAGE,
				 VIEW_MAX_WAIT_S * 1000, ENGINE_RECENT);
		return false;
	}
	return true;
}
