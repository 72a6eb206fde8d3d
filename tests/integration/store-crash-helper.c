/*
 * store-crash-helper DB ACKFILE SEED: submits and moves tasks through their
 * lifecycle in the store as fast as it can, forever, appending the id of
 * every acknowledged submit to ACKFILE.  test_store_crash kills it with
 * SIGKILL at random moments and checks what survived.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store.h"
#include "util/time.h"
#include "util/xalloc.h"

static uint64_t rng;
static struct task **active;
static size_t nactive, capactive;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void keep(struct task *t, void *ud)
{
	if (nactive == capactive) {
		capactive = capactive ? capactive * 2 : 1024;
		active = xreallocarray(active, capactive, sizeof *active);
	}
	active[nactive++] = t;
}

static void drop_final(void)
{
	size_t j = 0;

	for (size_t i = 0; i < nactive; i++) {
		if (task_state_is_final(active[i]->state))
			task_free(&active[i]);
		else
			active[j++] = active[i];
	}
	nactive = j;
}

static void die(struct store *s, const char *what)
{
	fprintf(stderr, "store-crash-helper: %s: %s\n", what, store_error(s));
	exit(2);
}

static void ack(int fd, const struct task *t)
{
	char line[32];
	int n = snprintf(line, sizeof line, "%lld\n", (long long)t->id);

	if (write(fd, line, (size_t)n) != n)
		exit(3);
}

static void submit(struct store *s, int fd)
{
	size_t n = next_rand() % 3 == 0 ? 1 + next_rand() % 40 : 1;
	struct task *batch[40];

	for (size_t i = 0; i < n; i++) {
		batch[i] = task_new("/lab/buck.plecs", "{\"D\":0.5}", NULL, (enum task_priority)(next_rand() % 4));
		task_set_text(&batch[i]->name, "crash-sweep");
	}
	if ((n == 1 ? store_submit(s, batch[0]) : store_submit_many(s, batch, n)) != STORE_OK)
		die(s, "submit");
	for (size_t i = 0; i < n; i++) {
		ack(fd, batch[i]);
		keep(batch[i], NULL);
	}
}

/* Picks up to max tasks matching pick(); returns how many. */
static size_t choose(struct task **out, size_t max, bool (*pick)(const struct task *))
{
	size_t n = 0, start = nactive ? next_rand() % nactive : 0;

	for (size_t k = 0; k < nactive && n < max; k++) {
		struct task *t = active[(start + k) % nactive];

		if (pick(t))
			out[n++] = t;
	}
	return n;
}

static bool is_queued(const struct task *t)
{
	return t->state == TASK_QUEUED;
}

static bool is_in_flight(const struct task *t)
{
	return t->state == TASK_RUNNING && t->retry_due == 0;
}

static bool is_waiting(const struct task *t)
{
	return t->state == TASK_RUNNING && t->retry_due != 0;
}

static bool is_cancellable(const struct task *t)
{
	return !task_state_is_final(t->state);
}

static void begin_attempts(struct store *s, bool (*pick)(const struct task *), int64_t now)
{
	struct task *ts[8];
	struct store_change ch[8];
	size_t n = choose(ts, 1 + next_rand() % 8, pick);

	for (size_t i = 0; i < n; i++) {
		task_transition(ts[i], TASK_RUNNING, now);
		ts[i]->retry_due = 0;
		ts[i]->attempts++;
		ts[i]->attempt_rows++;
		ch[i] = (struct store_change){.task = ts[i], .attempt = STORE_ATTEMPT_BEGIN, .backend = "emu",
					      .batch_id = now, .time = now};
	}
	if (n && store_commit(s, ch, n) != STORE_OK)
		die(s, "begin");
}

static void end_attempts(struct store *s, int64_t now)
{
	struct task *ts[8];
	struct store_change ch[8];
	size_t n = choose(ts, 1 + next_rand() % 8, is_in_flight);

	for (size_t i = 0; i < n; i++) {
		struct task *t = ts[i];
		unsigned r = (unsigned)(next_rand() % 10);

		ch[i] = (struct store_change){.task = t, .attempt = STORE_ATTEMPT_END, .time = now};
		if (r < 6) {
			task_transition(t, TASK_COMPLETED, now);
			ch[i].outcome = ATTEMPT_OK;
		} else if (r < 9) {
			t->failed_attempts++;
			t->had_transient = true;
			ch[i].outcome = ATTEMPT_TRANSIENT;
			ch[i].error = "connection refused";
			if (t->attempts > 3)
				task_transition(t, TASK_FAILED, now);
			else
				t->retry_due = now + 5000;
		} else {
			t->failed_attempts++;
			ch[i].outcome = ATTEMPT_PERMANENT;
			ch[i].error = "Simulation error";
			task_transition(t, TASK_FAILED, now);
		}
		task_set_text(&t->error, ch[i].error);
	}
	if (n && store_commit(s, ch, n) != STORE_OK)
		die(s, "end");
}

static void cancel(struct store *s, int64_t now)
{
	struct task *t;
	struct store_change ch;

	if (choose(&t, 1, is_cancellable) == 0)
		return;
	ch = (struct store_change){.task = t, .time = now};
	if (is_in_flight(t)) {
		ch.attempt = STORE_ATTEMPT_END;
		ch.outcome = ATTEMPT_DISCARDED;
	}
	task_transition(t, TASK_CANCELLED, now);
	if (store_commit(s, &ch, 1) != STORE_OK)
		die(s, "cancel");
}

int main(int argc, char **argv)
{
	struct store_open_options opt = {.durability = STORE_DURABILITY_NORMAL};
	char *err = NULL;
	struct store *s;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: store-crash-helper DB ACKFILE SEED\n");
		return 64;
	}
	rng = strtoull(argv[3], NULL, 10) * 2654435761u + 1;
	s = store_open(argv[1], &opt, NULL, &err);
	if (s == NULL) {
		fprintf(stderr, "store-crash-helper: %s\n", err);
		return 2;
	}
	fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || store_load_active(s, keep, NULL) != STORE_OK)
		return 2;
	for (;;) {
		int64_t now = time_wall_ns() / 1000000;
		unsigned op = (unsigned)(next_rand() % 10);

		if (op < 3)
			submit(s, fd);
		else if (op < 5)
			begin_attempts(s, is_queued, now);
		else if (op < 8)
			end_attempts(s, now);
		else if (op < 9)
			begin_attempts(s, is_waiting, now);
		else
			cancel(s, now);
		drop_final();
	}
}
