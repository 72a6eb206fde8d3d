/*
 * dashboard-host — which requests the web dashboard answers.
 *
 * A request's Host must name the dashboard: its listen address, localhost, one of
 * [dashboard] allowed_hosts (names of this machine, or of a proxy in front of it), or, when
 * it listens on every address (0.0.0.0, ::), any IP address.  A page elsewhere whose name an
 * attacker points at this machine (DNS rebinding) sends its own name as Host, and is refused;
 * an IP address is never such a name.  A WebSocket's Origin must then be the page's own,
 * http:// and that Host.  dashboard.c asks for each HTTP request and each upgrade.  Pure but
 * for what dashboard_hosts_new() keeps; any thread.
 */
#ifndef SIMQ_SERVER_DASHBOARD_HOST_H
#define SIMQ_SERVER_DASHBOARD_HOST_H

#include <stdbool.h>

struct dashboard_hosts;

/* listen: [dashboard] listen; allowed: [dashboard] allowed_hosts, comma-separated (may be empty). */
struct dashboard_hosts *dashboard_hosts_new(const char *listen, const char *allowed);
void dashboard_hosts_free(struct dashboard_hosts **h);
/* Whether host (a Host header: name, name:port or [v6]:port) names the dashboard; else *why (heap). */
bool dashboard_host_ok(const struct dashboard_hosts *h, const char *host, char **why);
/* Whether origin (an Origin header, may be empty) is the page's own for host; else *why (heap). */
bool dashboard_origin_ok(const char *host, const char *origin, char **why);

#endif
