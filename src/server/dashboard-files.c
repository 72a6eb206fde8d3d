#include "autoconf.h"

#include "server/dashboard-files.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "util/paths.h"
#include "util/xalloc.h"

#ifndef CHARTJS_PATH
#define CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"
#endif

struct page_file {
	const char *url, *name, *type; /* name NULL: Chart.js */
};

static const struct page_file page_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/dashboard.css", "dashboard.css", "text/css; charset=utf-8"},
    {"/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"},
    {"/chart.js", NULL, "text/javascript; charset=utf-8"},
};

/* The page's script and styles come from here, its data over its own WebSocket, nothing from elsewhere. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
	                                   (int)strlen(value), p, end);
}

int dashboard_files_send(struct lws *wsi, const char *dir, const char *url, size_t len)
{
	unsigned char headers[1024], *p = headers, *end = headers + sizeof headers;
	const struct page_file *f = NULL;

	for (size_t i = 0; i < sizeof page_files / sizeof page_files[0]; i++)
		if (strlen(page_files[i].url) == len && memcmp(page_files[i].url, url, len) == 0)
			f = &page_files[i];
	if (f == NULL)
		return DASHBOARD_FILES_NONE;
	if (add_header(wsi, "content-security-policy:", csp, &p, end) ||
	    add_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
	    add_header(wsi, "referrer-policy:", "no-referrer", &p, end) ||
	    add_header(wsi, "cache-control:", "no-cache", &p, end))
		return -1;
	char *path = f->name ? paths_join(dir, f->name) : xstrdup(CHARTJS_PATH);
	int rc = lws_serve_http_file(wsi, path, f->type, (const char *)headers, (int)(p - headers));

	free(path);
	return rc;
}
