#include "autoconf.h"

#include "engine/loaded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cachekey.h"
#include "util/xalloc.h"

struct model {
	char *name, *path;
	char hash[CACHEKEY_HEX]; /* the bytes loaded or being loaded; "" when not known */
	bool confirmed;          /* a call loaded them, and they were still the file's after it */
	int users;               /* planned calls not ended */
};

struct loaded {
	struct model *models;
	size_t n;
};

struct loaded *loaded_new(void)
{
	return xcalloc(1, sizeof(struct loaded));
}

void loaded_free(struct loaded **lp)
{
	struct loaded *l = *lp;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->models[i].name);
		free(l->models[i].path);
	}
	free(l->models);
	xfree(lp);
}

void loaded_forget(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		l->models[i].confirmed = false;
}

static struct model *find(struct loaded *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->models[i].name, name) == 0)
			return &l->models[i];
	return NULL;
}

bool loaded_plan(struct loaded *l, const char *name, const char *path, const char *hash, bool *load, char **close_first)
{
	struct model *m = find(l, name);

	*load = true;
	*close_first = NULL;
	if (m == NULL) {
		l->models = xreallocarray(l->models, l->n + 1, sizeof *l->models);
		m = &l->models[l->n++];
		*m = (struct model){.name = xstrdup(name), .path = xstrdup(path)};
		snprintf(m->hash, sizeof m->hash, "%s", hash);
	} else if (strcmp(m->path, path) == 0 && strcmp(m->hash, hash) == 0) {
		*load = !(m->confirmed && *hash);
	} else if (m->users > 0) {
		return false;
	} else {
		/* Another file under this name: close it first; the same file with other bytes: load. */
		if (strcmp(m->path, path) != 0)
			*close_first = xstrdup(name);
		free(m->path);
		m->path = xstrdup(path);
		snprintf(m->hash, sizeof m->hash, "%s", hash);
		m->confirmed = false;
	}
	m->users++;
	return true;
}

void loaded_end(struct loaded *l, const char *name, const char *path, const char *hash, bool did_load, bool verified)
{
	struct model *m = find(l, name);

	if (m == NULL)
		return;
	if (m->users > 0)
		m->users--;
	if (strcmp(m->path, path) != 0 || strcmp(m->hash, hash) != 0 || !did_load)
		return;
	if (verified && *hash) {
		m->confirmed = true;
	} else {
		/* The file changed under the load: what PLECS holds is not known, the next call loads. */
		m->hash[0] = '\0';
		m->confirmed = false;
	}
}
