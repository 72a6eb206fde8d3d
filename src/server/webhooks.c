#include "autoconf.h"

#include "server/webhooks.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "engine/events.h"
#include "engine/stats.h"
#include "engine/store.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/time.h"
#include "util/xalloc.h"

#define MAX_TRIES 5        /* the first POST and 4 retries: after 1, 2, 4 and 8 s */
#define QUIET_S 10.0       /* a held burst is summarised once it has been quiet this long */
#define HELD_LINES 3       /* lines of a held burst quoted in its summary */
#define DIGEST_FAILURES 10 /* failed tasks listed, with their errors, in a digest */

struct webhooks;

struct webhook {
	struct webhooks *all;
	char *name, *url;
	bool slack;
	bool events[EVENT_TYPE_COUNT];
	enum task_priority min_priority;
	long timeout_ms;
	int max_per_minute;
	int64_t window_start;      /* wall ms of the first post in the current minute */
	int sent;                  /* posts in that minute */
	int held, held_by_type[EVENT_TYPE_COUNT];
	char *held_lines[HELD_LINES];
	ev_timer quiet;            /* summarises a held burst */
	bool digest_on_drain;
	int digest_minute;         /* minutes after midnight, or -1 */
	ev_periodic digest;
};

struct post {
	struct webhook *w;
	char *body;
	int tries;
	CURL *easy;
	struct curl_slist *headers;
	ev_timer retry;
	char error[CURL_ERROR_SIZE];
	struct post *next;         /* in the list of posts in flight or waiting to retry */
};

struct sock {
	ev_io io;
	struct webhooks *all;
};

struct webhooks {
	struct ev_loop *loop;
	const struct config *cfg;
	struct engine *engine;
	int handle;
	CURLM *multi;
	ev_timer curl_timer;
	struct webhook *hooks;
	size_t n;
	struct post *posts;
};

/* ---- libcurl's multi interface on libev ------------------------------------------------ */

static void check_done(struct webhooks *all);

static void on_socket_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	/* The action may close the socket, and socket_cb frees k then: keep what comes after. */
	struct webhooks *all = ((struct sock *)w)->all;
	int running;

	curl_multi_socket_action(all->multi, w->fd,
				 (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0),
				 &running);
	check_done(all);
}

static void on_curl_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct webhooks *all = w->data;
	int running;

	curl_multi_socket_action(all->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(all);
}

/* libcurl says which sockets to watch, for what; an ev_io each. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct webhooks *all = userp;
	struct sock *k = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (k) {
			ev_io_stop(all->loop, &k->io);
			free(k);
			curl_multi_assign(all->multi, fd, NULL);
		}
		return 0;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->all = all;
		curl_multi_assign(all->multi, fd, k);
	} else {
		ev_io_stop(all->loop, &k->io);
	}
	ev_io_init(&k->io, on_socket_ready, fd, (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));
	ev_io_start(all->loop, &k->io);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct webhooks *all = userp;

	(void)multi;
	ev_timer_stop(all->loop, &all->curl_timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&all->curl_timer, (double)timeout_ms / 1000, 0);
		ev_timer_start(all->loop, &all->curl_timer);
	}
	return 0;
}

/* ---- posts ------------------------------------------------------------------------------------ */

static void post_free(struct post *p)
{
	struct webhooks *all = p->w->all;

	for (struct post **pp = &all->posts; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	ev_timer_stop(all->loop, &p->retry);
	if (p->easy) {
		curl_multi_remove_handle(all->multi, p->easy);
		curl_easy_cleanup(p->easy);
	}
	curl_slist_free_all(p->headers);
	free(p->body);
	free(p);
}

static size_t discard(char *data, size_t size, size_t n, void *ud)
{
	(void)data;
	(void)ud;
	return size * n;
}

static void send_post(struct post *p)
{
	struct webhook *w = p->w;

	p->tries++;
	p->error[0] = '\0';
	p->easy = curl_easy_init();
	curl_easy_setopt(p->easy, CURLOPT_URL, w->url);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(p->body));
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->error);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "simq/" PACKAGE_VERSION);
	curl_multi_add_handle(w->all->multi, p->easy);
}

static void retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	send_post(t->data);
}

/* Queues body (taken) for w. */
static void post(struct webhook *w, char *body)
{
	struct post *p = xcalloc(1, sizeof *p);

	p->w = w;
	p->body = body;
	p->headers = curl_slist_append(NULL, "Content-Type: application/json");
	ev_timer_init(&p->retry, retry_cb, 0, 0);
	p->retry.data = p;
	p->next = w->all->posts;
	w->all->posts = p;
	send_post(p);
}

static void check_done(struct webhooks *all)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(all->multi, &left)) != NULL) {
		struct post *p = NULL;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		CURLcode rc = m->data.result;

		curl_multi_remove_handle(all->multi, p->easy);
		curl_easy_cleanup(p->easy);
		p->easy = NULL;
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			post_free(p);
			continue;
		}
		/* Connection errors and 5xx may pass; a 4xx says the message itself is wrong. */
		bool again = rc != CURLE_OK || status >= 500;
		char why[CURL_ERROR_SIZE + 64];

		if (rc != CURLE_OK)
			snprintf(why, sizeof why, "%s", p->error[0] ? p->error : curl_easy_strerror(rc));
		else
			snprintf(why, sizeof why, "HTTP %ld", status);
		if (again && p->tries < MAX_TRIES) {
			ev_timer_set(&p->retry, (double)(1 << (p->tries - 1)), 0);
			ev_timer_start(all->loop, &p->retry);
			continue;
		}
		engine_log(all->engine, SEVERITY_WARNING, 0, "webhook %s: gave up on a message after %d tries: %s", p->w->name, p->tries, why);
		post_free(p);
	}
}

/* ---- messages ------------------------------------------------------------------------------- */

static json_t *event_json(const struct event *ev)
{
	json_t *j = json_pack("{s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:i, s:s?, s:s?, s:s?, s:I}", "event",
			      event_type_name(ev->type), "task_id", (json_int_t)ev->task_id, "task_name", ev->task_name,
			      "model", ev->model, "priority", ev->task_id ? task_priority_name(ev->priority) : NULL,
			      "state", ev->task_id ? task_state_name(ev->state) : NULL, "attempt", ev->attempt, "error",
			      ev->error, "backend", ev->backend, "detail", ev->detail, "time_ms", (json_int_t)ev->time);

	/* A completion from the cache is a completion like any other, that says so. */
	if (j && ev->type == EVENT_COMPLETED)
		json_object_update_new(j, json_pack("{s:b, s:I}", "cached", ev->source != 0, "source", (json_int_t)ev->source));
	return j;
}

static void add_field(json_t *fields, const char *title, const char *value)
{
	if (value && value[0])
		json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "title", title, "value", value, "short",
							 strlen(value) < 40));
}

/* format = slack: one readable line, and the event's fields under it. */
static char *slack_message(const char *text, const char *color, json_t *fields)
{
	json_t *m = json_pack("{s:s, s:[{s:s, s:o}]}", "text", text, "attachments", "color", color, "fields", fields);
	char *out = json_dumps(m, JSON_COMPACT);

	json_decref(m);
	return out;
}

static char *event_message(struct webhook *w, const struct event *ev)
{
	if (!w->slack) {
		json_t *j = event_json(ev);
		char *out = json_dumps(j, JSON_COMPACT);

		json_decref(j);
		return out;
	}
	struct buf line = BUF_INIT;
	json_t *fields = json_array();
	char id[32], attempt[32];

	buf_adds(&line, "simq: ");
	events_format(ev, &line);
	snprintf(id, sizeof id, "%lld", (long long)ev->task_id);
	snprintf(attempt, sizeof attempt, "%d", ev->attempt);
	add_field(fields, "task", ev->task_id ? id : NULL);
	add_field(fields, "name", ev->task_name);
	add_field(fields, "priority", ev->task_id ? task_priority_name(ev->priority) : NULL);
	add_field(fields, "model", ev->model);
	add_field(fields, "attempt", ev->attempt ? attempt : NULL);
	add_field(fields, "backend", ev->backend);
	add_field(fields, "error", ev->error);
	bool bad = ev->type == EVENT_FAILED || ev->type == EVENT_BACKEND_DOWN || ev->type == EVENT_ATTEMPT_FAILED;
	char *out = slack_message(buf_str(&line), bad ? "danger" : "good", fields);

	buf_free(&line);
	return out;
}

/* The burst held back past max_per_minute, as one message. */
static void summarise(struct webhook *w)
{
	struct buf text = BUF_INIT;

	if (w->held == 0)
		return;
	buf_addf(&text, "simq: %d more event%s in the last minute than [webhook %s] max_per_minute = %d sends:", w->held,
		 w->held == 1 ? "" : "s", w->name, w->max_per_minute);
	for (int t = 0, first = 1; t < EVENT_TYPE_COUNT; t++) {
		if (w->held_by_type[t]) {
			buf_addf(&text, "%s %d %s", first ? "" : ",", w->held_by_type[t], event_type_name((enum event_type)t));
			first = 0;
		}
		w->held_by_type[t] = 0;
	}
	for (int i = 0; i < HELD_LINES && w->held_lines[i]; i++) {
		buf_addf(&text, "\n  %s", w->held_lines[i]);
		free(w->held_lines[i]);
		w->held_lines[i] = NULL;
	}
	if (w->held > HELD_LINES)
		buf_adds(&text, "\n  ...");
	json_t *j = w->slack ? json_pack("{s:s}", "text", buf_str(&text))
			     : json_pack("{s:s, s:i, s:s}", "event", "summary", "held", w->held, "text", buf_str(&text));
	char *body = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	buf_free(&text);
	w->held = 0;
	w->sent++;
	post(w, body);
}

static void quiet_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	summarise(t->data);
}

/* Sends or holds: at most max_per_minute posts in a minute, the rest summarised. */
static void offer(struct webhook *w, const struct event *ev)
{
	int64_t now = engine_now_ms(w->all->engine);

	if (now - w->window_start >= 60000) {
		summarise(w);
		w->window_start = now;
		w->sent = 0;
	}
	if (w->sent < w->max_per_minute && w->held == 0) {
		w->sent++;
		post(w, event_message(w, ev));
		return;
	}
	if (w->held < HELD_LINES) {
		struct buf line = BUF_INIT;

		events_format(ev, &line);
		w->held_lines[w->held] = buf_detach(&line);
	}
	w->held++;
	w->held_by_type[ev->type]++;
	/* Summarise once the burst is quiet, or when its minute ends, whichever is first. */
	double until_minute = (double)(w->window_start + 60000 - now) / 1000;

	ev_timer_stop(w->all->loop, &w->quiet);
	ev_timer_set(&w->quiet, until_minute < QUIET_S ? (until_minute > 0 ? until_minute : 0.001) : QUIET_S, 0);
	ev_timer_start(w->all->loop, &w->quiet);
}

/* ---- the digest --------------------------------------------------------------------------- */

struct failures {
	int n, total;
	struct buf *text;
	json_t *list;
};

static void add_failure(struct task *t, void *ud)
{
	struct failures *f = ud;

	f->total++;
	if (f->n < DIGEST_FAILURES) {
		f->n++;
		buf_addf(f->text, "\n  %lld %s (%s): %s", (long long)t->id, t->name ? t->name : "",
			 task_priority_name(t->priority), t->error ? t->error : "no error recorded");
		json_array_append_new(f->list, json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)t->id, "name",
							 t->name ? t->name : "", "priority", task_priority_name(t->priority),
							 "error", t->error ? t->error : ""));
	}
	task_free(&t);
}

struct downtime {
	struct buf *text;
	json_t *list;
};

static void add_downtime(const struct sched_backend_info *b, void *ud)
{
	struct downtime *d = ud;
	const char *name = b->name;
	bool up = b->up;
	double seconds = b->downtime;
	char dur[32];

	buf_addf(d->text, "%s %s %s", json_array_size(d->list) ? "," : "", name,
		 seconds > 0 ? time_format_duration(dur, sizeof dur, seconds) : "never");
	if (!up)
		buf_adds(d->text, " (DOWN now)");
	json_array_append_new(d->list, json_pack("{s:s, s:b, s:f}", "backend", name, "up", up, "down_seconds", seconds));
}

/* The night since the server started: what finished, what failed and why, retries, throughput, downtime. */
static void send_digest(struct webhook *w, const char *why)
{
	struct engine *e = w->all->engine;
	struct stats_counts k;
	struct buf text = BUF_INIT, fails = BUF_INIT, down = BUF_INIT;
	int64_t now = engine_now_ms(e), started = engine_started_ms(e);
	double hours = (double)(now - started) / 3600000.0;
	struct failures f = {.text = &fails, .list = json_array()};
	struct downtime d = {.text = &down, .list = json_array()};
	double rate;

	engine_stats(e, STATS_SINCE_START, &k);
	rate = stats_success_rate(&k);
	engine_finished_since(e, TASK_FAILED, started, add_failure, &f);
	scheduler_each_backend(engine_scheduler(e), add_downtime, &d);
	int64_t done = k.completed_first + k.completed_retry;
	double per_hour = hours > 0 ? (double)(done + k.failed) / hours : 0;

	char success[32] = "-";

	if (!isnan(rate))
		snprintf(success, sizeof success, "%.1f %%", 100 * rate);
	buf_addf(&text, "simq digest (%s): %lld completed (%lld first try, %lld after retry), %lld failed, %lld "
		 "cancelled, %lld retries; success %s; %.0f tasks/h; downtime:%s",
		 why, (long long)done, (long long)k.completed_first, (long long)k.completed_retry, (long long)k.failed,
		 (long long)k.cancelled, (long long)k.retries, success, per_hour, buf_str(&down));
	if (f.total)
		buf_addf(&text, "\nfailed:%s%s", buf_str(&fails), f.total > f.n ? "\n  ..." : "");
	json_t *j = w->slack ? json_pack("{s:s}", "text", buf_str(&text))
			     : json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:O, s:O, s:s}", "event", "digest",
					 "why", why, "completed", (json_int_t)done, "completed_first",
					 (json_int_t)k.completed_first, "completed_retry", (json_int_t)k.completed_retry,
					 "failed", (json_int_t)k.failed, "cancelled", (json_int_t)k.cancelled, "retries",
					 (json_int_t)k.retries, "success_rate", isnan(rate) ? -1.0 : rate, "per_hour",
					 per_hour, "failures", f.list, "backends", d.list, "text", buf_str(&text));
	char *body = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	json_decref(f.list);
	json_decref(d.list);
	buf_free(&text);
	buf_free(&fails);
	buf_free(&down);
	post(w, body);
}

static ev_tstamp next_digest(ev_periodic *p, ev_tstamp now)
{
	struct webhook *w = p->data;
	time_t t = (time_t)now;
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = w->digest_minute / 60;
	tm.tm_min = w->digest_minute % 60;
	tm.tm_sec = 0;
	time_t at = mktime(&tm);

	if ((double)at <= now + 1) {
		tm.tm_mday++;
		at = mktime(&tm);
	}
	return (ev_tstamp)at;
}

static void digest_cb(struct ev_loop *loop, ev_periodic *p, int revents)
{
	send_digest(p->data, "daily");
}

/* ---- the sink ---------------------------------------------------------------------------------- */

static void on_event(const struct event *ev, void *ud)
{
	struct webhooks *all = ud;

	for (size_t i = 0; i < all->n; i++) {
		struct webhook *w = &all->hooks[i];

		if (ev->type == EVENT_QUEUE_DRAINED && w->digest_on_drain)
			send_digest(w, "queue drained");
		if (!w->events[ev->type])
			continue;
		/* Task events only for urgent enough tasks; backend and queue events always. */
		if (ev->task_id && ev->priority > w->min_priority)
			continue;
		offer(w, ev);
	}
}

struct webhooks *webhooks_new(struct ev_loop *loop, const struct config *cfg, struct engine *e)
{
	const struct config_section *sec;
	size_t n = 0;

	while (config_section_nth(cfg, "webhook", n))
		n++;
	if (n == 0)
		return NULL;
	struct webhooks *all = xcalloc(1, sizeof *all);

	all->loop = loop;
	all->cfg = cfg;
	all->engine = e;
	all->n = n;
	all->hooks = xcalloc(n, sizeof *all->hooks);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	all->multi = curl_multi_init();
	curl_multi_setopt(all->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(all->multi, CURLMOPT_SOCKETDATA, all);
	curl_multi_setopt(all->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(all->multi, CURLMOPT_TIMERDATA, all);
	ev_timer_init(&all->curl_timer, on_curl_timer, 0, 0);
	all->curl_timer.data = all;
	for (size_t i = 0; (sec = config_section_nth(cfg, "webhook", i)) != NULL; i++) {
		struct webhook *w = &all->hooks[i];
		char *events = xstrdup(config_sec_str(sec, "events")), *save = NULL;
		const char *clock = config_sec_str(sec, "digest");
		enum event_type t;

		w->all = all;
		w->name = xstrdup(config_section_name(sec));
		w->url = xstrdup(config_sec_str(sec, "url"));
		w->slack = strcmp(config_sec_str(sec, "format"), "slack") == 0;
		for (char *name = strtok_r(events, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
			while (*name == ' ')
				name++;
			if (event_type_parse(name, &t))
				w->events[t] = true;
		}
		free(events);
		task_priority_parse(config_sec_str(sec, "min_priority"), &w->min_priority);
		w->timeout_ms = (long)(config_sec_double(sec, "timeout") * 1000);
		w->max_per_minute = (int)config_sec_int(sec, "max_per_minute");
		w->window_start = engine_now_ms(e);
		ev_timer_init(&w->quiet, quiet_cb, QUIET_S, 0);
		w->quiet.data = w;
		w->digest_on_drain = config_sec_bool(sec, "digest_on_drain");
		w->digest_minute = -1;
		if (clock[0]) {
			w->digest_minute = atoi(clock) * 60 + atoi(clock + 3);
			ev_periodic_init(&w->digest, digest_cb, 0, 0, next_digest);
			w->digest.data = w;
			ev_periodic_start(loop, &w->digest);
		}
	}
	all->handle = events_subscribe(engine_bus(e), on_event, all);
	return all;
}

void webhooks_free(struct webhooks **wp)
{
	struct webhooks *all = *wp;

	if (all == NULL)
		return;
	events_unsubscribe(engine_bus(all->engine), all->handle);
	while (all->posts)
		post_free(all->posts);
	for (size_t i = 0; i < all->n; i++) {
		struct webhook *w = &all->hooks[i];

		ev_timer_stop(all->loop, &w->quiet);
		if (w->digest_minute >= 0)
			ev_periodic_stop(all->loop, &w->digest);
		for (int k = 0; k < HELD_LINES; k++)
			free(w->held_lines[k]);
		free(w->name);
		free(w->url);
	}
	free(all->hooks);
	ev_timer_stop(all->loop, &all->curl_timer);
	curl_multi_cleanup(all->multi);
	curl_global_cleanup();
	free(all);
	*wp = NULL;
}
