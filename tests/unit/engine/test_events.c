#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/events.h"
#include "util/xalloc.h"

#define NOW INT64_C(1795842434000)

struct seen {
	char log[512];
	int count;
	struct event_bus *bus;
	int unsubscribe;
};

static void record(const struct event *ev, void *ud)
{
	struct seen *s = ud;

	snprintf(s->log + strlen(s->log), sizeof s->log - strlen(s->log), "%s:%lld ", event_type_name(ev->type),
		 (long long)ev->task_id);
	s->count++;
	if (s->unsubscribe) {
		events_unsubscribe(s->bus, s->unsubscribe);
		s->unsubscribe = 0;
	}
}

static void test_order_and_unsubscribe(void **state)
{
	struct event_bus *bus = events_new();
	struct seen a = {.bus = bus}, b = {.bus = bus};
	int ha = events_subscribe(bus, record, &a);
	int hb = events_subscribe(bus, record, &b);
	struct event ev = {.type = EVENT_SUBMITTED, .task_id = 7};

	assert_int_not_equal(ha, 0);
	events_publish(bus, &ev);
	ev.type = EVENT_STARTED;
	events_publish(bus, &ev);
	ev.type = EVENT_COMPLETED;
	events_publish(bus, &ev);
	assert_string_equal(a.log, "submitted:7 started:7 completed:7 ");
	assert_string_equal(b.log, a.log);
	/* a unsubscribes b while an event is being delivered: b misses it. */
	a.unsubscribe = hb;
	ev.type = EVENT_FAILED;
	events_publish(bus, &ev);
	assert_int_equal(a.count, 4);
	assert_int_equal(b.count, 3);
	events_unsubscribe(bus, ha);
	events_publish(bus, &ev);
	assert_int_equal(a.count, 4);
	events_free(&bus);
	assert_null(bus);
}

static char *format(const struct event *ev)
{
	struct buf b = BUF_INIT;

	events_format(ev, &b);
	return buf_detach(&b);
}

static void test_lines_for_people(void **state)
{
	struct event ev = {.type = EVENT_ATTEMPT_FAILED, .time = NOW, .task_id = 9050, .attempt = 1,
			   .error = "connection refused", .error_class = "transient", .retry_at = NOW + 5000};
	char *s = format(&ev);

	assert_string_equal(s, "9050 attempt 1 failed: connection refused (transient); retry in 5s");
	free(s);
	ev = (struct event){.type = EVENT_SUBMITTED, .task_id = 9051, .priority = PRIO_CRITICAL,
			    .task_name = "design-verify", .model = "/lab/buck.plecs"};
	s = format(&ev);
	assert_string_equal(s, "9051 submitted critical design-verify (buck.plecs)");
	free(s);
	ev = (struct event){.type = EVENT_BACKEND_DOWN, .backend = "ws2", .detail = "after 3 connection failures"};
	s = format(&ev);
	assert_string_equal(s, "ws2 DOWN after 3 connection failures");
	free(s);
	ev = (struct event){.type = EVENT_CANCELLED, .task_id = 7188, .state = TASK_RUNNING};
	s = format(&ev);
	assert_string_equal(s, "7188 cancelled while running; PLECS finishes the run and its result is discarded");
	free(s);
	for (int t = 0; t < EVENT_TYPE_COUNT; t++) {
		enum event_type parsed;

		ev = (struct event){.type = (enum event_type)t, .task_id = 1};
		s = format(&ev);
		assert_true(strlen(s) > 0);
		free(s);
		assert_true(event_type_parse(event_type_name((enum event_type)t), &parsed));
		assert_int_equal(parsed, t);
	}
}

struct lines {
	char text[1024];
	uint64_t last;
};

static void collect(const struct log_entry *line, void *ud)
{
	struct lines *l = ud;

	snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "%llu|%s\n",
		 (unsigned long long)line->seq, line->text);
	l->last = line->seq;
}

/* The file's text (at most size - 1 bytes) in buf; fails the test when it cannot be read or is empty. */
static void read_text(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");

	memset(buf, 0, size);
	assert_non_null(fp);
	assert_true(fread(buf, 1, size - 1, fp) > 0);
	fclose(fp);
}

static void test_log_sink_ring_and_file(void **state)
{
	char *path = xasprintf("%s/simulation.log", getenv("SIMQ_TEST_TMP"));
	char *moved = xasprintf("%s.1", path);
	char *err = NULL;
	struct event_bus *bus = events_new();
	struct event_log *log = event_log_new(path, 3, &err);
	struct lines l = {.last = 0};

	assert_non_null(log);
	event_log_attach(log, bus);
	for (int i = 1; i <= 5; i++) {
		struct event ev = {.type = EVENT_COMPLETED, .time = NOW + i, .task_id = i};

		events_publish(bus, &ev);
	}
	struct event progress = {.type = EVENT_PROGRESS, .task_id = 9, .progress = 0.5};

	events_publish(bus, &progress);
	assert_int_equal(event_log_last_seq(log), 5);
	/* Only the last three are kept; a console that saw seq 3 gets 4 and 5. */
	assert_int_equal(event_log_since(log, 0, collect, &l), 3);
	assert_string_equal(l.text, "3|3 completed\n4|4 completed\n5|5 completed\n");
	memset(&l, 0, sizeof l);
	assert_int_equal(event_log_since(log, 3, collect, &l), 2);
	assert_int_equal(l.last, 5);
	/* logrotate moves the file; after reopen new lines go to a new file. */
	assert_int_equal(rename(path, moved), 0);
	event_log_add(log, NOW, 0, SEVERITY_INFO, "before reopen");
	assert_true(event_log_reopen(log, &err));
	event_log_add(log, NOW, 0, SEVERITY_INFO, "after reopen");
	event_log_free(&log);
	events_free(&bus);

	char buf[1024];

	read_text(moved, buf, sizeof buf);
	assert_non_null(strstr(buf, "2026-11-28T05:07:14.001Z 1 completed\n"));
	assert_non_null(strstr(buf, "before reopen"));
	assert_null(strstr(buf, "after reopen"));
	read_text(path, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-28T05:07:14.000Z after reopen\n");
	free(path);
	free(moved);
}

/* Whatever text reaches simulation.log (a client's Host, a hook, PLECS's error) is kept and written
 * printable: simq log's XML and a terminal running tail -f get no escapes. */
static void test_log_lines_are_printable(void **state)
{
	char *path = xasprintf("%s/printable.log", getenv("SIMQ_TEST_TMP"));
	char *err = NULL;
	struct event_log *log = event_log_new(path, 3, &err);
	struct lines l = {.last = 0};
	static const char want[] = "refused Host \\x1b]0;T\\x07\\x1b[31mFAKE \\xff\\xfe caf\xc3\xa9 \\u202e";

	assert_non_null(log);
	event_log_add(log, NOW, 0, SEVERITY_WARNING, "refused Host \x1b]0;T\x07\x1b[31mFAKE \xff\xfe caf\xc3\xa9 \xe2\x80\xae");
	event_log_add(log, NOW, 0, SEVERITY_INFO, "plain line");
	assert_int_equal(event_log_since(log, 0, collect, &l), 2);
	assert_non_null(strstr(l.text, want));
	event_log_free(&log);

	char buf[1024];

	read_text(path, buf, sizeof buf);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "Z plain line\n"));
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("byte 0x%02x written raw: %s", *p, buf);
	free(path);
}

/*
 * A disk that takes no line (/dev/full): no line is written half or run into the next, the ring
 * keeps them for simq log, and the first write that works says how many were lost, and when.
 */
static void test_log_on_a_full_disk(void **state)
{
	char *path = xasprintf("%s/full.log", getenv("SIMQ_TEST_TMP"));
	char *err = NULL;
	struct lines l = {.last = 0};

	unlink(path);
	assert_int_equal(symlink("/dev/full", path), 0);
	struct event_log *log = event_log_new(path, 10, &err);

	assert_non_null(log);
	event_log_add(log, NOW + 1000, 0, SEVERITY_INFO, "lost one");
	event_log_flush(log);
	event_log_add(log, NOW + 2000, 0, SEVERITY_INFO, "lost two");
	event_log_flush(log);
	/* Room again: the name is a file of its own now, as after logrotate. */
	assert_int_equal(unlink(path), 0);
	assert_true(event_log_reopen(log, &err));
	event_log_add(log, NOW + 3000, 0, SEVERITY_INFO, "kept");
	event_log_flush(log);
	assert_int_equal(event_log_since(log, 0, collect, &l), 3);
	event_log_free(&log);

	char buf[1024];

	read_text(path, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-28T05:07:17.000Z 2 lines of this log from 2026-11-28T05:07:15.000Z to "
				 "2026-11-28T05:07:16.000Z could not be written: No space left on device\n"
				 "2026-11-28T05:07:17.000Z kept\n");
	free(path);
}

static void test_log_that_cannot_open(void **state)
{
	char *err = NULL;
	struct event_log *log = event_log_new("/nonexistent/dir/simulation.log", 10, &err);

	assert_null(log);
	assert_non_null(err);
	assert_non_null(strstr(err, "cannot open the log /nonexistent/dir/simulation.log"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_unsubscribe),
		cmocka_unit_test(test_lines_for_people),
		cmocka_unit_test(test_log_sink_ring_and_file),
		cmocka_unit_test(test_log_on_a_full_disk),
		cmocka_unit_test(test_log_that_cannot_open),
		cmocka_unit_test(test_log_lines_are_printable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
