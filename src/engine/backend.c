#include "autoconf.h"

#include "engine/backend.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct backend_call *backend_call_new(size_t ncases)
{
	struct backend_call *call = xcalloc(1, sizeof *call);

	call->ncases = ncases;
	call->cases = ncases ? xcalloc(ncases, sizeof *call->cases) : NULL;
	return call;
}

void backend_call_free(struct backend_call **cp)
{
	struct backend_call *call = *cp;

	if (call == NULL)
		return;
	for (size_t i = 0; i < call->ncases; i++) {
		free(call->cases[i].vars);
		free(call->cases[i].solver);
		if (call->results)
			result_data_free(&call->results[i]);
	}
	free(call->cases);
	free(call->results);
	free(call->url);
	free(call->model_path);
	free(call->model_name);
	free(call->close_first);
	free(call->error);
	free(call);
	*cp = NULL;
}

char *backend_model_name(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');

	return xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}
