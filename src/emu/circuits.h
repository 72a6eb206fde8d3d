/*
 * circuits — the built-in circuits plecs-emu simulates, and their integrator.
 *
 * Each circuit is one descriptor in circuit_table: its parameters (scalar
 * ModelVars), output signals, state equations and a bound on the step that
 * keeps classical RK4 accurate and stable.  circuit_simulate() integrates
 * from StartTime over TimeSpan and samples the outputs every output step.
 * Pure and re-entrant: cases of one list simulate run on several threads.
 */
#ifndef SIMQ_EMU_CIRCUITS_H
#define SIMQ_EMU_CIRCUITS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CIRCUIT_MAX_PARAMS 8
#define CIRCUIT_MAX_STATES 4

struct circuit {
	const char *name;
	const char *description;
	const char *params[CIRCUIT_MAX_PARAMS];  /* NULL-terminated */
	const char *signals[CIRCUIT_MAX_STATES]; /* NULL-terminated */
	size_t nstates;
	/* NULL when the parameters are valid, else a message (into msg). */
	const char *(*check)(const double *p, char *msg, size_t size);
	double (*default_span)(const double *p);
	double (*max_step)(const double *p);
	void (*deriv)(const double *p, const double *x, double *dx);
	void (*output)(const double *p, const double *x, double *y);
};

extern const struct circuit *const circuit_table[];

const struct circuit *circuit_find(const char *name);
/* "rc, buck and rlc": every circuit's name, for messages (heap; caller frees). */
char *circuit_names(void);
size_t circuit_param_count(const struct circuit *c);
size_t circuit_signal_count(const struct circuit *c);

struct emu_result {
	size_t points;
	size_t signals;
	double *time;     /* points */
	double *values;   /* signals rows of points: values[s * points + i] */
};

/* Refuses runs that would take more integration steps than this. */
#define CIRCUIT_MAX_STEPS 200000000.0
#define CIRCUIT_MAX_POINTS 10000000.0

/*
 * Integrates c with parameters p.  out_step <= 0 gives 1,000 intervals.  On
 * failure returns false with *err (heap).  Stops early, returning false with
 * *err NULL, when *cancel becomes true.
 */
bool circuit_simulate(const struct circuit *c, const double *p, double start, double span, double out_step,
		      struct emu_result *out, atomic_bool *cancel, char **err);
void emu_result_free(struct emu_result *r);

#endif
