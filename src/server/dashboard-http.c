#include "autoconf.h"

#include "server/dashboard-http.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "server/dashboard-conn.h"
#include "server/dashboard-files.h"
#include "server/dashboard-host.h"
#include "server/refusals.h"
#include "util/xalloc.h"

unsigned dashboard_http_host_status(const struct dashboard_http *h, struct lws *wsi, char *host, size_t size)
{
	char peer[64] = "?", *why = NULL;
	int len = lws_hdr_total_length(wsi, WSI_TOKEN_HOST);
	unsigned status = 403;

	host[0] = '\0';
	if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HOST, 1) > 0) {
		why = xstrdup("two Host headers (one is allowed)");
		status = 400;
	} else if (len >= (int)size) {
		why = xasprintf("a Host of %d bytes (at most %zu)", len, size - 1);
	} else {
		len = lws_hdr_copy(wsi, host, (int)size, WSI_TOKEN_HOST);
		if (dashboard_host_ok(h->hosts, host, len > 0 ? (size_t)len : 0, &why))
			return 0;
	}
	lws_get_peer_simple(wsi, peer, sizeof peer);
	refusals_note(h->refusals, peer, why);
	free(why);
	return status;
}

bool dashboard_http_room(const struct dashboard_http *h, const struct lws_filter_network_conn_args *a)
{
	char peer[64] = "?";

	if (dashboard_conns_room(h->conns))
		return true;
	if (a && a->cli_addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->cli_addr)->sin_addr, peer, sizeof peer);
	else if (a && a->cli_addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->cli_addr)->sin6_addr, peer, sizeof peer);
	refusals_note(h->refusals, peer,
	              "connections at the limit (three times [dashboard] max_viewers, at most half of ulimit -n)");
	return false;
}

int dashboard_http_completed(const struct dashboard_http *h, struct lws *wsi)
{
	if (lws_http_transaction_completed(wsi))
		return -1;
	dashboard_conns_idle(h->conns, wsi);
	return 0;
}

static int http_status(const struct dashboard_http *h, struct lws *wsi, unsigned code, const char *text)
{
	if (lws_return_http_status(wsi, code, text))
		return -1;
	return dashboard_http_completed(h, wsi);
}

int dashboard_http_request(const struct dashboard_http *h, struct lws *wsi, const char *url)
{
	char host[256];
	unsigned status;

	dashboard_conns_answering(h->conns, wsi);
	status = dashboard_http_host_status(h, wsi, host, sizeof host);
	if (status)
		return http_status(h, wsi, status,
		                   status == 400 ? "two Host headers: one is allowed"
		                                 : "this Host is not a name of the dashboard, alone or with its port; "
		                                   "add it to [dashboard] allowed_hosts");
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return http_status(h, wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "only GET (HEAD, POST and the others: 405)");
	int rc = dashboard_files_send(wsi, h->dir, url, strlen(url));

	if (rc == DASHBOARD_FILES_NONE)
		return http_status(h, wsi, HTTP_STATUS_NOT_FOUND, "not a file of the dashboard");
	if (rc < 0)
		return -1;
	return rc > 0 ? dashboard_http_completed(h, wsi) : 0;
}
