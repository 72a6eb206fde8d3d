/*
 * dashboard-files — the page's own files, the only things the dashboard serves over HTTP.
 *
 * `/` (index.html), /dashboard.js, /dashboard.css from share/dashboard, and /chart.js (Debian's
 * libjs-chart.js), each under a strict Content-Security-Policy; any other path is not one of
 * them.  dashboard.c checks the Host and the method first and answers the statuses.  Loop thread.
 */
#ifndef SIMQ_SERVER_DASHBOARD_FILES_H
#define SIMQ_SERVER_DASHBOARD_FILES_H

#include <stddef.h>

struct lws;

#define DASHBOARD_FILES_NONE (-2) /* not a file of the page: 404 */

/*
 * Starts sending url (len bytes: a path holding a NUL is none of them) from dir: as
 * lws_serve_http_file(), 0 while it is sent (LWS_CALLBACK_HTTP_FILE_COMPLETION follows), > 0 when
 * done, -1 when the connection is to close, or DASHBOARD_FILES_NONE.
 */
int dashboard_files_send(struct lws *wsi, const char *dir, const char *url, size_t len);

#endif
