/*
 * dashboard-host — which requests the web dashboard answers.
 *
 * A request's Host must name the dashboard, exactly: NAME or NAME:PORT with the dashboard's port
 * and nothing after it, NAME its listen address, localhost, one of [dashboard] allowed_hosts
 * (names of this machine, or of a proxy in front of it; an entry NAME:PORT is that port alone),
 * or, when it listens on every address (0.0.0.0, ::), any IP address; and when it listens on
 * loopback (127.0.0.1, ::1, localhost) or every address, localhost, 127.0.0.1 or [::1] with any
 * port (a page reached through ssh -L 8080:127.0.0.1:7361 is at localhost:8080).  A page elsewhere whose
 * name an attacker points at this machine (DNS rebinding) sends its own name as Host, and is
 * refused; an IP address is never such a name.  A WebSocket's Origin must then be the page's own,
 * http:// and that Host, or one of [dashboard] allowed_origins (the https:// origin of a TLS proxy
 * in front of the page).  dashboard.c asks for each HTTP request and each upgrade.  Pure but for
 * what dashboard_hosts_new() keeps; any thread.
 */
#ifndef SIMQ_SERVER_DASHBOARD_HOST_H
#define SIMQ_SERVER_DASHBOARD_HOST_H

#include <stdbool.h>
#include <stddef.h>

struct dashboard_hosts;

/*
 * listen, port: [dashboard] listen and port; allowed, origins: [dashboard] allowed_hosts and
 * allowed_origins, comma-separated (may be empty or NULL).  NULL and *err (heap) for an origin
 * that is not one.
 */
struct dashboard_hosts *dashboard_hosts_new(const char *listen, int port, const char *allowed, const char *origins,
                                            char **err);
void dashboard_hosts_free(struct dashboard_hosts **h);
/* Whether host (a Host header of len bytes: a NUL among them is refused) names the dashboard; else *why (heap). */
bool dashboard_host_ok(const struct dashboard_hosts *h, const char *host, size_t len, char **why);
/* Whether origin (an Origin header, may be empty) is the page's own for host, or allowed; else *why (heap). */
bool dashboard_origin_ok(const struct dashboard_hosts *h, const char *host, const char *origin, char **why);

#endif
