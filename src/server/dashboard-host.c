#include "autoconf.h"

#include "server/dashboard-host.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/xalloc.h"

struct allowed {
	char *name;
	long port; /* -1: the dashboard's, or none */
};

struct dashboard_hosts {
	struct allowed *names; /* the listen address, "localhost", then allowed_hosts */
	size_t n;
	char **origins; /* allowed_origins */
	size_t norigins;
	long port;
	bool any_ip;   /* it listens on every address */
	bool loopback; /* it listens on loopback (or every address): a loopback name with any port is its */
	char *shown; /* "127.0.0.1, localhost, ..." for messages */
};

static bool is_ip(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* localhost, 127.0.0.1 or ::1: names that are this machine's for every browser, never a rebound name. */
static bool is_loopback(const char *name)
{
	return strcasecmp(name, "localhost") == 0 || strcmp(name, "127.0.0.1") == 0 || strcmp(name, "::1") == 0;
}

/*
 * Splits s (len bytes) into its name and port (-1: none), as a Host header has them: NAME,
 * NAME:PORT, [V6] or [V6]:PORT, or a bare IPv6 address; PORT 1 to 5 digits.  false for anything
 * else: a NUL, something after the port, a port that is not one.
 */
static bool split_host(const char *s, size_t len, char **name, long *port)
{
	const char *end = s + len, *colon;

	*name = NULL;
	*port = -1;
	if (len == 0 || memchr(s, '\0', len))
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL || close == s + 1)
			return false;
		unsigned char v6[16];

		*name = xstrndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1 < end ? close + 1 : NULL;
		if ((colon && *colon != ':') || inet_pton(AF_INET6, *name, v6) != 1)
			goto bad;
	} else {
		colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			*name = xstrndup(s, len); /* a bare IPv6 address */
			if (!is_ip(*name))
				goto bad;
			return true;
		}
		*name = xstrndup(s, colon ? (size_t)(colon - s) : len);
	}
	if ((*name)[0] == '\0')
		goto bad;
	if (colon) {
		size_t digits = (size_t)(end - colon - 1);

		if (digits == 0 || digits > 5)
			goto bad;
		*port = 0;
		for (const char *d = colon + 1; d < end; d++) {
			if (*d < '0' || *d > '9')
				goto bad;
			*port = *port * 10 + (*d - '0');
		}
		if (*port < 1 || *port > 65535)
			goto bad;
	}
	return true;
bad:
	xfree(name);
	return false;
}

static void add_name(struct dashboard_hosts *h, const char *name, size_t len)
{
	char *entry;
	long port;

	while (len > 0 && (*name == ' ' || *name == '\t'))
		name++, len--;
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (!split_host(name, len, &entry, &port)) {
		entry = xstrndup(name, len); /* never matches a Host that splits */
		port = 0;
	}
	h->names = xreallocarray(h->names, h->n + 1, sizeof *h->names);
	h->names[h->n++] = (struct allowed){entry, port};
}

/* Adds an allowed origin: http:// or https://, a host and maybe a port, nothing else; false and *err. */
static bool add_origin(struct dashboard_hosts *h, const char *origin, size_t len, char **err)
{
	while (len > 0 && (*origin == ' ' || *origin == '\t'))
		origin++, len--;
	while (len > 0 && (origin[len - 1] == ' ' || origin[len - 1] == '\t'))
		len--;
	if (len == 0)
		return true;
	size_t scheme = len > 8 && strncasecmp(origin, "https://", 8) == 0  ? 8
	                : len > 7 && strncasecmp(origin, "http://", 7) == 0 ? 7
	                                                                    : 0;
	char *name = NULL;
	long port;

	if (scheme == 0 || memchr(origin, '@', len) || memchr(origin + scheme, '/', len - scheme) ||
	    !split_host(origin + scheme, len - scheme, &name, &port)) {
		char *copy = xstrndup(origin, len), *shown = buf_shown(copy);

		*err = xasprintf("[dashboard] allowed_origins: %s is not an origin; allowed: https://NAME or "
		                 "https://NAME:PORT (as the browser sends it, no path), comma-separated",
		                 shown);
		free(shown);
		free(copy);
		return false;
	}
	free(name);
	h->origins = xreallocarray(h->origins, h->norigins + 1, sizeof *h->origins);
	h->origins[h->norigins++] = xstrndup(origin, len);
	return true;
}

struct dashboard_hosts *dashboard_hosts_new(const char *listen, int port, const char *allowed, const char *origins,
                                            char **err)
{
	struct dashboard_hosts *h = xcalloc(1, sizeof *h);
	struct buf shown = BUF_INIT;

	h->port = port;
	add_name(h, listen, strlen(listen));
	add_name(h, "localhost", 9);
	for (const char *p = allowed ? allowed : ""; *p;) {
		size_t len = strcspn(p, ",");

		add_name(h, p, len);
		p += len + (p[len] == ',');
	}
	for (const char *p = origins ? origins : ""; *p;) {
		size_t len = strcspn(p, ",");

		if (!add_origin(h, p, len, err)) {
			dashboard_hosts_free(&h);
			return NULL;
		}
		p += len + (p[len] == ',');
	}
	h->any_ip = strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0;
	h->loopback = h->any_ip || is_loopback(listen);
	for (size_t i = 0; i < h->n; i++)
		buf_addf(&shown, "%s%s", i ? ", " : "", h->names[i].name);
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
		free(h->names[i].name);
	for (size_t i = 0; i < h->norigins; i++)
		free(h->origins[i]);
	free(h->names);
	free(h->origins);
	free(h->shown);
	xfree(hp);
}

/* Whether name:port (port -1: none) is one of the allowed, exactly. */
static bool host_allowed(const struct dashboard_hosts *h, const char *name, long port)
{
	/* ssh -L 8080:127.0.0.1:7361: the page is at localhost:8080.  No other site can be. */
	if (h->loopback && is_loopback(name))
		return true;
	if (h->any_ip && is_ip(name) && (port == -1 || port == h->port))
		return true;
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(name, h->names[i].name) == 0 &&
		    (h->names[i].port == -1 ? port == -1 || port == h->port : port == h->names[i].port))
			return true;
	return false;
}

bool dashboard_host_ok(const struct dashboard_hosts *h, const char *host, size_t len, char **why)
{
	char *name = NULL;
	long port;
	bool ok = host && split_host(host, len, &name, &port) && host_allowed(h, name, port);

	if (host && len > 0 && !ok) {
		/* The client's bytes go to the log and to simq log's XML: shown escaped, never raw. */
		struct buf shown = BUF_INIT;

		buf_add_shown(&shown, host, len);
		*why = xasprintf("Host %s is not a name of the dashboard, alone or with its port %ld (allowed: %s; "
		                 "more in [dashboard] allowed_hosts)",
		                 buf_str(&shown), h->port, h->shown);
		buf_free(&shown);
	} else if (!ok) {
		*why = xasprintf("no Host (allowed: %s)", h->shown);
	}
	free(name);
	return ok;
}

bool dashboard_origin_ok(const struct dashboard_hosts *h, const char *host, const char *origin, char **why)
{
	bool ok = host && host[0] && origin && strncmp(origin, "http://", 7) == 0 && strcasecmp(origin + 7, host) == 0;

	for (size_t i = 0; h && origin && !ok && i < h->norigins; i++)
		ok = strcasecmp(origin, h->origins[i]) == 0;
	if (!ok) {
		char *shown_host = buf_shown(host ? host : "");
		const char *more = h && h->norigins ? ", or one of [dashboard] allowed_origins" : "";

		if (origin && origin[0]) {
			char *shown = buf_shown(origin);

			*why = xasprintf("Origin %s is not the page's own (http://%s%s)", shown, shown_host, more);
			free(shown);
		} else {
			*why = xasprintf("no Origin (a page's own is http://%s%s)", shown_host, more);
		}
		free(shown_host);
	}
	return ok;
}
