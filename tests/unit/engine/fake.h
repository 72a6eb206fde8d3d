/*
 * fake — a clock and a PLECS backend the unit tests move by hand.
 *
 * The fake clock (engine/clock.h) has a now_ms the test sets and advances;
 * its timers are a list, and fake_clock_advance() fires the due ones in
 * order of their due time (then of arming), moving now_ms to each one's time
 * before it fires, so timers armed by callbacks fire too when they fall
 * within the step.  Nothing waits: a test of hours runs in microseconds.
 *
 * The fake backend (engine/backend.h) records every call the scheduler
 * starts as a struct fake_call (kept until fake_backend_free, in start
 * order) and runs none of them: the test ends each call it chooses with
 * fake_call_ok(), fake_call_fault(), fake_call_transport() or
 * fake_call_interrupted(), which fill the outcome and call call->done()
 * on the spot.  As the real pool does, interrupt() only records the request;
 * the call ends when the test ends it.
 *
 * The fake backend is also the scheduler's result writer (engine/writer.h):
 * it keeps the jobs the scheduler starts and writes them, for real, into the
 * test's results folder when a call has ended (after its done()), or, while
 * writes are held, when the test says so — so a test can look at a task
 * whose answer came while its file is not written yet.  Loop thread only,
 * like the engine.
 */
#ifndef SIMQ_TESTS_FAKE_H
#define SIMQ_TESTS_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend.h"
#include "engine/clock.h"
#include "engine/writer.h"

/* ---- clock ---------------------------------------------------------------------------- */

struct fake_clock;

struct fake_clock *fake_clock_new(int64_t now_ms);
/* Frees the clock; timers the engine did not free stay counted in fake_clock_live(). */
void fake_clock_free(struct fake_clock **fc);
/* The struct clock to hand to the engine; valid while fc lives. */
const struct clock *fake_clock_get(struct fake_clock *fc);
int64_t fake_clock_now(const struct fake_clock *fc);
/*
 * Moves time forward by ms, firing every timer that falls due on the way, in order; first it runs
 * the clock's wake (the newest made) if another thread sent it.
 */
void fake_clock_advance(struct fake_clock *fc, int64_t ms);
/*
 * Moves time forward by ms firing nothing, as when the process was stopped (SIGSTOP, a VM
 * freeze): the timers that fell due fire late, at the next fake_clock_advance().
 */
void fake_clock_stall(struct fake_clock *fc, int64_t ms);
/* Has the clock's wake been sent and not run yet? */
bool fake_clock_wake_pending(const struct fake_clock *fc);
/* Timers running now. */
size_t fake_clock_active(const struct fake_clock *fc);
/* Timers made and not freed yet. */
size_t fake_clock_live(const struct fake_clock *fc);
/* Timers fired so far. */
size_t fake_clock_fired(const struct fake_clock *fc);

/* ---- backend -------------------------------------------------------------------------- */

#define FAKE_MAX_CASES 64

/* One call the scheduler started, as the fake saw it. */
struct fake_call {
	size_t index;              /* 0 for the first call started */
	char *url;
	char *model_path;
	bool probe, as_list, load;
	size_t n;                  /* cases */
	int64_t ids[FAKE_MAX_CASES]; /* each case's task id, from its Name "task ID" */
	double timeout[FAKE_MAX_CASES]; /* each case's Timeout */
	int64_t started_ms;        /* fake time of start() */
	bool interrupt_requested;  /* interrupt() was called for it */
	bool received;             /* received() was called for it */
	bool ended;                /* the test ended it (done() was called) */
	struct backend_call *call; /* while it runs */
};

struct fake_backend;

struct fake_backend *fake_backend_new(struct fake_clock *fc);
/* Frees the records.  Calls still running are the scheduler's to free: end them first. */
void fake_backend_free(struct fake_backend **fb);
const struct backend_ops *fake_backend_ops(void);

/* Calls started so far. */
size_t fake_backend_count(const struct fake_backend *fb);
/* The i-th call started (0 first); fails the test when there is none. */
struct fake_call *fake_backend_call(struct fake_backend *fb, size_t i);
/* The newest call started, or NULL. */
struct fake_call *fake_backend_last(struct fake_backend *fb);
/* Calls running now (started and not ended). */
size_t fake_backend_running(const struct fake_backend *fb);
/* The oldest running call on url (NULL: any), or NULL. */
struct fake_call *fake_backend_running_on(struct fake_backend *fb, const char *url);

/* Ends c with BACKEND_OK, each case `points` points of `signals` signals; seconds: the fake time since start. */
void fake_call_ok(struct fake_backend *fb, struct fake_call *c, size_t points, size_t signals);
/* Answers every case as fake_call_ok (3 points, 1 signal) but case k, which gets error (permanent: the case's). */
void fake_call_case_error(struct fake_backend *fb, struct fake_call *c, size_t k, const char *error, bool permanent);
/* Ends c with BACKEND_FAULT and PLECS's message. */
void fake_call_fault(struct fake_backend *fb, struct fake_call *c, const char *message);
/* Ends c with BACKEND_TRANSPORT (an answer cut short, garbled, an HTTP error: PLECS may have run it). */
void fake_call_transport(struct fake_backend *fb, struct fake_call *c, const char *message);
/* Ends c with BACKEND_UNREACHABLE: no connection, or dropped before any answer (the backend's fault). */
void fake_call_unreachable(struct fake_backend *fb, struct fake_call *c, const char *message);
/* Ends c with BACKEND_TOO_LARGE: the answer passed the call's max_response. */
void fake_call_too_large(struct fake_backend *fb, struct fake_call *c);
/* Ends c with BACKEND_OK and an answer of `bytes` bytes (3 points, 1 signal a case). */
void fake_call_ok_bytes(struct fake_backend *fb, struct fake_call *c, size_t bytes);
/* Ends c with BACKEND_UNREACHABLE after the request reached PLECS whole (a reset, an empty reply). */
void fake_call_dropped(struct fake_backend *fb, struct fake_call *c, const char *message);
/* While on, probes answer at once (as a backend that is there) and are not recorded. */
void fake_backend_answer_probes(struct fake_backend *fb, bool on);
/* Says c's answer is all in, only its decoding left (call->received), as the pool does for a large one; c runs on. */
void fake_call_received(struct fake_backend *fb, struct fake_call *c);
/* Ends c as interrupted (BACKEND_TRANSPORT, interrupted set), as the pool does after interrupt(). */
void fake_call_interrupted(struct fake_backend *fb, struct fake_call *c);

/* ---- writer (its impl is the fake backend) ---------------------------------------------- */

const struct writer_ops *fake_writer_ops(void);
/* While on, started writes wait for fake_backend_finish_writes(); off, each ended call writes them. */
void fake_backend_hold_writes(struct fake_backend *fb, bool on);
/* Writes started and not written yet. */
size_t fake_backend_writes_pending(const struct fake_backend *fb);
/* Writes every started file and hands the jobs back to the scheduler. */
void fake_backend_finish_writes(struct fake_backend *fb);

#endif
