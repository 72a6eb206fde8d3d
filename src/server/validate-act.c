/*
 * validate-act: the options of simq.cancel, simq.reprioritize and simq.retry ({states}, {each}), read
 * from XML-RPC, each bad one refused by name with what is allowed.  Declared in server/validate.h.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "server/validate.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct act_reader {
	struct validate_act_options *o;
	unsigned takes; /* VALIDATE_ACT_* */
	char **err;
};

/* states: ["queued", ...], each a state's name; the mask of them. */
static bool read_states(xmlrpc_value *v, unsigned *mask, char **err)
{
	xmlrpc_env env;
	int n;
	bool ok = xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY;

	xmlrpc_env_init(&env);
	n = ok ? xmlrpc_array_size(&env, v) : 0;
	*mask = 0;
	for (int i = 0; ok && i < n; i++) {
		xmlrpc_value *item = NULL;
		const char *name;
		enum task_state st;

		xmlrpc_array_read_item(&env, v, i, &item);
		name = NULL;
		if (item && xmlrpc_value_type(item) == XMLRPC_TYPE_STRING)
			xmlrpc_read_string(&env, item, &name);
		ok = name && task_state_parse(name, &st);
		if (ok)
			*mask |= 1u << st;
		free((char *)name);
		if (item)
			xmlrpc_DECREF(item);
	}
	xmlrpc_env_clean(&env);
	if (!ok || n == 0) {
		char *shown = proto_shown(v);

		*err = xasprintf("options.states %s: allowed: an array of one or more of queued, running, completed, "
				 "failed, cancelled", shown);
		free(shown);
		return false;
	}
	return true;
}

static bool act_member(const char *key, xmlrpc_value *v, void *ud)
{
	struct act_reader *r = ud;
	xmlrpc_env env;
	xmlrpc_bool b = 0;

	if (strcmp(key, "states") == 0 && (r->takes & VALIDATE_ACT_STATES)) {
		r->o->has_states = true;
		return read_states(v, &r->o->states, r->err);
	}
	if (strcmp(key, "each") == 0 && (r->takes & VALIDATE_ACT_EACH)) {
		xmlrpc_env_init(&env);
		if (xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL)
			xmlrpc_read_bool(&env, v, &b);
		xmlrpc_env_clean(&env);
		r->o->each = b;
		if (xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL)
			return true;
		char *shown = proto_shown(v);

		*r->err = xasprintf("options.each %s: allowed: a boolean", shown);
		free(shown);
		return false;
	}
	char *shown = buf_shown(key);

	*r->err = xasprintf("options.%s: not an option here; allowed: %s", shown,
			    r->takes & VALIDATE_ACT_STATES ? "states" : "each");
	free(shown);
	return false;
}

bool validate_act_options(xmlrpc_value *v, unsigned takes, struct validate_act_options *o, char **err)
{
	struct act_reader r = {o, takes, err};
	char *why = NULL;

	memset(o, 0, sizeof *o);
	if (v == NULL)
		return true;
	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
		char *shown = proto_shown(v);

		*err = xasprintf("options %s: allowed: a struct {%s}", shown,
				 takes & VALIDATE_ACT_STATES ? "states: [\"queued\", ...]" : "each: true");
		free(shown);
		return false;
	}
	*err = NULL;
	if (proto_each_member(v, act_member, &r, &why))
		return true;
	if (*err == NULL)
		*err = why ? xasprintf("options: %s", why) : xstrdup("options: cannot be read");
	else
		free(why);
	return false;
}
