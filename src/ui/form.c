#include "autoconf.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "cli/values.h"
#include "engine/task.h"
#include "proto/proto.h"
#include "ui/form.h"
#include "ui/mode.h"
#include "ui/screen.h"
#include "util/paths.h"
#include "util/xalloc.h"

enum field { FIELD_MODEL, FIELD_PRIORITY, FIELD_VARS, FIELD_NAME, FIELD_CACHE, FIELD_COUNT };

static const char *const field_labels[] = {"Model", "Priority", "Vars", "Name", "Cache"};

struct ui_form {
	char text[FIELD_COUNT][1024];
	enum task_priority priority;
	bool no_cache;  /* run even when a stored result has the same key (simq.submit's no_cache) */
	enum field at;
	char *problem;  /* what is wrong now, or NULL */
	size_t count;   /* tasks the vars make */
	char *completion; /* what Tab offered when there was more than one match */
};

struct ui_form *form_new(void)
{
	struct ui_form *f = xcalloc(1, sizeof *f);

	f->priority = PRIO_NORMAL;
	return f;
}

void form_free(struct ui_form **fp)
{
	struct ui_form *f = *fp;

	if (f == NULL)
		return;
	free(f->problem);
	free(f->completion);
	free(f);
	*fp = NULL;
}

/* Splits the vars line into fixed NAME=VALUE pairs and sweep axes; false with *err when one is neither. */
static bool parse_vars(xmlrpc_env *env, const char *text, xmlrpc_value **fixed, struct sweep_axis **axes,
		       size_t *naxes, char **err)
{
	char *copy = xstrdup(text), *save = NULL;
	bool ok = true;

	*fixed = xmlrpc_struct_new(env);
	*axes = NULL;
	*naxes = 0;
	for (char *tok = strtok_r(copy, " ", &save); tok && ok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL || eq == tok) {
			*err = xasprintf("\"%s\": expected NAME=VALUE, NAME=START:STOP:STEP or NAME=A,B,C", tok);
			ok = false;
			break;
		}
		/* A range or a list outside brackets is a sweep axis; anything else is one value. */
		bool axis = false;
		int depth = 0;

		for (const char *p = eq + 1; *p; p++) {
			depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
			if (depth == 0 && (*p == ':' || *p == ','))
				axis = true;
		}
		struct values_error why = {0};

		if (axis) {
			*axes = xreallocarray(*axes, *naxes + 1, sizeof **axes);
			if (!sweep_parse_axis(env, tok, &(*axes)[*naxes], &why)) {
				*err = xasprintf("%s: %s (at character %zu)", tok, why.message, why.at + 1);
				values_error_clear(&why);
				ok = false;
				break;
			}
			(*naxes)++;
		} else {
			char *name = xstrndup(tok, (size_t)(eq - tok));
			xmlrpc_value *v = cli_parse_value(eq + 1, &why);

			if (v == NULL) {
				*err = xasprintf("%s: %s (at character %zu)", tok, why.message, (size_t)(eq + 1 - tok) + why.at + 1);
				values_error_clear(&why);
				ok = false;
			} else {
				xmlrpc_struct_set_value(env, *fixed, name, v);
				xmlrpc_DECREF(v);
			}
			free(name);
		}
	}
	free(copy);
	return ok;
}

/* Re-checks everything after each key: the model file, the vars, the count. */
static void check(struct ui_form *f)
{
	xmlrpc_env env;
	xmlrpc_value *fixed;
	struct sweep_axis *axes;
	size_t naxes;
	char *err = NULL;
	struct stat st;

	free(f->problem);
	f->problem = NULL;
	f->count = 0;
	xmlrpc_env_init(&env);
	if (!parse_vars(&env, f->text[FIELD_VARS], &fixed, &axes, &naxes, &err)) {
		f->problem = err;
	} else {
		double total = 1;

		for (size_t i = 0; i < naxes; i++)
			total *= (double)axes[i].n;
		f->count = total > PROTO_MAX_BATCH ? 0 : (size_t)total;
		if (total > PROTO_MAX_BATCH)
			f->problem = xasprintf("%.0f tasks; at most %d go in one submit", total, PROTO_MAX_BATCH);
	}
	if (f->problem == NULL) {
		const char *m = f->text[FIELD_MODEL];

		if (m[0] == '\0')
			f->problem = xstrdup("give the model file (Tab completes the path)");
		else if (stat(m, &st) != 0)
			f->problem = xasprintf("%s: no such file", m);
		else if (S_ISDIR(st.st_mode))
			f->problem = xasprintf("%s: a directory; Tab completes a model file in it", m);
		else if (!S_ISREG(st.st_mode))
			f->problem = xasprintf("%s: not a regular file", m);
		else if (access(m, R_OK) != 0)
			f->problem = xasprintf("%s: cannot be read", m);
		else if (strlen(m) < 6 || strcmp(m + strlen(m) - 6, ".plecs") != 0)
			f->problem = xasprintf("%s: a PLECS model ends in .plecs", m);
	}
	xmlrpc_DECREF(fixed);
	sweep_axes_free(axes, naxes);
	xmlrpc_env_clean(&env);
}

/*
 * Tab in the model field: the longest common completion of the path typed so far, and the choices
 * when there are several.  False when it has nothing to add, so Tab goes on to the next field.
 */
static bool complete(struct ui_form *f)
{
	char *text = f->text[FIELD_MODEL], *slash = strrchr(text, '/');
	char dir[1024], prefix[1024], common[1024] = "";
	size_t matches = 0;

	free(f->completion);
	f->completion = NULL;
	if (slash) {
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - text + 1), text);
		snprintf(prefix, sizeof prefix, "%s", slash + 1);
	} else {
		snprintf(dir, sizeof dir, "./");
		snprintf(prefix, sizeof prefix, "%s", text);
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	char shown[512] = "";

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		char full[2048];
		struct stat st;
		bool is_dir;

		snprintf(full, sizeof full, "%s%s", dir, e->d_name);
		is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
		if (!is_dir && (strlen(e->d_name) < 6 || strcmp(e->d_name + strlen(e->d_name) - 6, ".plecs") != 0))
			continue;
		char name[1024];

		snprintf(name, sizeof name, "%s%s", e->d_name, is_dir ? "/" : "");
		if (matches++ == 0) {
			snprintf(common, sizeof common, "%s", name);
		} else {
			size_t k = 0;

			while (common[k] && common[k] == name[k])
				k++;
			common[k] = '\0';
		}
		if (strlen(shown) + strlen(name) + 2 < sizeof shown)
			snprintf(shown + strlen(shown), sizeof shown - strlen(shown), "%s%s", shown[0] ? "  " : "", name);
	}
	closedir(d);
	if (matches == 0)
		return false;
	char before[sizeof f->text[FIELD_MODEL]];

	snprintf(before, sizeof before, "%s", text);
	snprintf(text, sizeof f->text[FIELD_MODEL], "%s%s", slash ? dir : "", common);
	if (matches > 1)
		f->completion = xstrdup(shown);
	return strcmp(before, text) != 0 || matches > 1;
}

static bool submit(struct console *c, struct ui_form *f)
{
	xmlrpc_env env;
	xmlrpc_value *fixed, *tasks;
	struct sweep_axis *axes;
	size_t naxes, count;
	char *err = NULL, *model = paths_absolute(f->text[FIELD_MODEL]);

	xmlrpc_env_init(&env);
	parse_vars(&env, f->text[FIELD_VARS], &fixed, &axes, &naxes, &err);
	free(err);
	xmlrpc_value **vars = sweep_expand(&env, fixed, axes, naxes, &count);

	tasks = xmlrpc_array_new(&env);
	for (size_t i = 0; i < count; i++) {
		xmlrpc_value *t = xmlrpc_build_value(&env, "{s:s,s:s,s:V}", "model", model, "priority",
						     task_priority_name(f->priority), "vars", vars[i]);

		if (f->text[FIELD_NAME][0]) {
			xmlrpc_value *n = xmlrpc_string_new(&env, f->text[FIELD_NAME]);

			xmlrpc_struct_set_value(&env, t, "name", n);
			xmlrpc_DECREF(n);
		}
		if (f->no_cache) {
			xmlrpc_value *b = xmlrpc_bool_new(&env, 1);

			xmlrpc_struct_set_value(&env, t, "no_cache", b);
			xmlrpc_DECREF(b);
		}
		xmlrpc_array_append_item(&env, tasks, t);
		xmlrpc_DECREF(t);
		xmlrpc_DECREF(vars[i]);
	}
	free(vars);
	xmlrpc_value *ids = ui_call(c, "simq.submit_many", "(V)", tasks);

	if (ids) {
		ui_message(c, false, "submitted %zu task%s (%s)", count, count == 1 ? "" : "s", task_priority_name(f->priority));
		xmlrpc_DECREF(ids);
	} else {
		/* The server's reason is in the message; the form stays so nothing typed is lost. */
		free(f->problem);
		f->problem = xstrdup(c->message ? c->message : "the server refused the tasks");
	}
	xmlrpc_DECREF(tasks);
	xmlrpc_DECREF(fixed);
	sweep_axes_free(axes, naxes);
	xmlrpc_env_clean(&env);
	free(model);
	return ids != NULL;
}

static bool form_key(struct console *c, struct ui_form *f, int key)
{
	char *text = f->text[f->at];
	size_t len = strlen(text);

	if (key == UI_KEY_ESC)
		return false;
	if (key == '\n' || key == '\r' || key == (UI_KEY_FN | KEY_ENTER)) {
		check(f);
		if (f->problem == NULL && submit(c, f))
			return false;
		return true;
	}
	if (key == '\t' && f->at == FIELD_MODEL && complete(f)) {
		/* completed: stay in the field */
	} else if (key == '\t' || key == (UI_KEY_FN | KEY_DOWN)) {
		f->at = (enum field)((f->at + 1) % FIELD_COUNT);
	} else if (key == (UI_KEY_FN | KEY_BTAB) || key == (UI_KEY_FN | KEY_UP)) {
		f->at = (enum field)((f->at + FIELD_COUNT - 1) % FIELD_COUNT);
	} else if (f->at == FIELD_PRIORITY) {
		/* Left: less urgent, which is the higher number; 0-3 as the priority keys. */
		if (key == (UI_KEY_FN | KEY_LEFT) || key == '-')
			f->priority = f->priority + 1 < PRIO_COUNT ? f->priority + 1 : PRIO_COUNT - 1;
		else if (key == (UI_KEY_FN | KEY_RIGHT) || key == '+')
			f->priority = f->priority > 0 ? f->priority - 1 : 0;
		else if (key >= '0' && key < '0' + PRIO_COUNT)
			f->priority = (enum task_priority)(key - '0');
	} else if (f->at == FIELD_CACHE) {
		if (key == ' ' || key == (UI_KEY_FN | KEY_LEFT) || key == (UI_KEY_FN | KEY_RIGHT))
			f->no_cache = !f->no_cache;
	} else if (key == 127 || key == 8 || key == (UI_KEY_FN | KEY_BACKSPACE)) {
		while (len > 0 && ((unsigned char)text[--len] & 0xc0) == 0x80)
			;
		text[len] = '\0';
	} else if (key >= ' ' && key < UI_KEY_FN) {
		char mb[8];
		int n = wctomb(mb, (wchar_t)key);

		if (n > 0 && len + (size_t)n + 1 < sizeof f->text[0]) {
			memcpy(text + len, mb, (size_t)n);
			text[len + (size_t)n] = '\0';
		}
	}
	check(f);
	return true;
}

/* The form in a box over the panes, as the help and the details are. */
static void form_draw(struct console *c, struct ui_form *f)
{
	struct screen_area in = screen_modal(13, 100, "Submit");
	char line[1200];

	if (f->problem == NULL && f->count == 0)
		check(f);
	for (int i = 0; i < FIELD_COUNT; i++) {
		const char *value = i == FIELD_PRIORITY ? task_priority_name(f->priority)
				    : i != FIELD_CACHE ? f->text[i]
				    : f->no_cache    ? "run anyway (no_cache)"
						     : "reuse a stored result of the same case";
		bool at = i == (int)f->at;

		screen_putf(in.y + 1 + i, in.x, 11, A_NORMAL, 0, " %-9s", field_labels[i]);
		snprintf(line, sizeof line, "%s%s", value, at ? "_" : "");
		screen_put(in.y + 1 + i, in.x + 11, in.w - 12, at ? A_REVERSE : A_NORMAL, 0, line);
	}
	if (f->completion)
		screen_putf(in.y + 6, in.x, in.w, A_NORMAL, 0, " %s", f->completion);
	if (f->problem)
		screen_putf(in.y + 7, in.x, in.w, A_BOLD, PAIR_BAD, " %s", f->problem);
	else
		screen_putf(in.y + 7, in.x, in.w, A_BOLD, PAIR_GOOD, " %zu task%s to submit", f->count,
		            f->count == 1 ? "" : "s");
	screen_put(in.y + 9, in.x, in.w, A_DIM, 0, " Enter submits  Tab next field (completes the model)");
	screen_put(in.y + 10, in.x, in.w, A_DIM, 0, " Left/Right or 0-3 priority  Space: Cache reuse or run anyway");
}

/* The form takes every key until it is submitted or abandoned; then the page is fetched again. */
static void mode_key(struct console *c, int k)
{
	if (!form_key(c, c->form, k)) {
		form_free(&c->form);
		c->mode = MODE_NORMAL;
		c->refresh = true;
	}
}

static void mode_draw(struct console *c)
{
	if (c->form)
		form_draw(c, c->form);
}

const struct mode_ops mode_form = {
	.key = mode_key,
	.draw = mode_draw,
};
