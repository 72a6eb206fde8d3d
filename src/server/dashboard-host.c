#include "autoconf.h"

#include "server/dashboard-host.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/xalloc.h"

struct dashboard_hosts {
	char **names; /* the listen address, "localhost", then allowed_hosts */
	size_t n;
	bool any_ip; /* it listens on every address */
	char *shown; /* "127.0.0.1, localhost, ..." for messages */
};

static bool is_ip(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static void add_name(struct dashboard_hosts *h, const char *name, size_t len)
{
	while (len > 0 && (*name == ' ' || *name == '\t'))
		name++, len--;
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	h->names = xreallocarray(h->names, h->n + 1, sizeof *h->names);
	h->names[h->n++] = xstrndup(name, len);
}

struct dashboard_hosts *dashboard_hosts_new(const char *listen, const char *allowed)
{
	struct dashboard_hosts *h = xcalloc(1, sizeof *h);
	struct buf shown = BUF_INIT;

	add_name(h, listen, strlen(listen));
	add_name(h, "localhost", 9);
	for (const char *p = allowed ? allowed : ""; *p;) {
		size_t len = strcspn(p, ",");

		add_name(h, p, len);
		p += len + (p[len] == ',');
	}
	h->any_ip = strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0;
	for (size_t i = 0; i < h->n; i++)
		buf_addf(&shown, "%s%s", i ? ", " : "", h->names[i]);
	if (h->any_ip)
		buf_adds(&shown, ", any IP address");
	h->shown = buf_detach(&shown);
	return h;
}

void dashboard_hosts_free(struct dashboard_hosts **hp)
{
	struct dashboard_hosts *h = *hp;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	free(h->shown);
	xfree(hp);
}

/* The name in a Host header: "[::1]:80" -> "::1", "example:80" -> "example", "example" -> "example". */
static char *host_name(const char *host)
{
	if (host[0] == '[') {
		const char *end = strchr(host, ']');

		return end ? xstrndup(host + 1, (size_t)(end - host - 1)) : xstrdup(host);
	}
	const char *colon = strchr(host, ':');

	/* Two colons and no brackets: a bare IPv6 address, no port. */
	if (colon && strchr(colon + 1, ':'))
		return xstrdup(host);
	return colon ? xstrndup(host, (size_t)(colon - host)) : xstrdup(host);
}

bool dashboard_host_ok(const struct dashboard_hosts *h, const char *host, char **why)
{
	char *name = host_name(host ? host : "");
	bool ok = name[0] && h->any_ip && is_ip(name);

	for (size_t i = 0; i < h->n && !ok; i++)
		ok = strcasecmp(name, h->names[i]) == 0;
	if (!ok && name[0]) {
		/* The client's bytes go to the log and to simq log's XML: shown escaped, never raw. */
		char *shown = buf_shown(host);

		*why = xasprintf("Host %s is not a name of the dashboard (allowed: %s; more in [dashboard] allowed_hosts)",
		                 shown, h->shown);
		free(shown);
	} else if (!ok) {
		*why = xasprintf("no Host (allowed: %s)", h->shown);
	}
	free(name);
	return ok;
}

bool dashboard_origin_ok(const char *host, const char *origin, char **why)
{
	bool ok = host && host[0] && origin && strncmp(origin, "http://", 7) == 0 && strcasecmp(origin + 7, host) == 0;

	if (!ok) {
		char *shown_host = buf_shown(host ? host : "");

		if (origin && origin[0]) {
			char *shown = buf_shown(origin);

			*why = xasprintf("Origin %s is not the page's own (http://%s)", shown, shown_host);
			free(shown);
		} else {
			*why = xasprintf("no Origin (a page's own is http://%s)", shown_host);
		}
		free(shown_host);
	}
	return ok;
}
