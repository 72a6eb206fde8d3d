#include "autoconf.h"

#include "emu/circuits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define TWO_PI (2.0 * M_PI)

static const char *positive(const double *p, const char *const *names, size_t n, char *msg, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		if (!(p[i] > 0) || !isfinite(p[i])) {
			snprintf(msg, size, "%s = %g must be a positive number", names[i], p[i]);
			return msg;
		}
	}
	return NULL;
}

/* ---- rc: Vin -> R -> C ------------------------------------------------------------ */
enum { RC_VIN, RC_R, RC_C };

static const char *rc_check(const double *p, char *msg, size_t size)
{
	static const char *const names[] = {"R", "C"};

	if (!isfinite(p[RC_VIN])) {
		snprintf(msg, size, "Vin = %g is not a finite number", p[RC_VIN]);
		return msg;
	}
	return positive(p + RC_R, names, 2, msg, size);
}

static double rc_span(const double *p)
{
	return 5 * p[RC_R] * p[RC_C];
}

static double rc_step(const double *p)
{
	return p[RC_R] * p[RC_C] / 50;
}

static void rc_deriv(const double *p, const double *x, double *dx)
{
	dx[0] = (p[RC_VIN] - x[0]) / (p[RC_R] * p[RC_C]);
}

static void rc_output(const double *p, const double *x, double *y)
{
	y[0] = x[0];
}

static const struct circuit circuit_rc = {
	.name = "rc",
	.description = "first-order RC charging from a step Vin",
	.params = {"Vin", "R", "C", NULL},
	.signals = {"Vc", NULL},
	.nstates = 1,
	.check = rc_check,
	.default_span = rc_span,
	.max_step = rc_step,
	.deriv = rc_deriv,
	.output = rc_output,
};

/*
 * ---- buck: averaged buck converter, CCM and DCM ------------------------------
 * The full-order averaged model: the diode conducts for d2 of the period,
 * d2 = 2 L iL / (D T (Vin - v)) - D, at most 1 - D (CCM).  Its steady state
 * is D Vin in CCM and Vin 2 / (1 + sqrt(1 + 4 K / D^2)), K = 2 L / (R T), in DCM.
 */
enum { BUCK_VIN, BUCK_D, BUCK_L, BUCK_C, BUCK_R, BUCK_FSW };

static const char *buck_check(const double *p, char *msg, size_t size)
{
	static const char *const names[] = {"L", "C", "R", "fsw"};

	if (!(p[BUCK_VIN] > 0) || !isfinite(p[BUCK_VIN])) {
		snprintf(msg, size, "Vin = %g must be a positive number", p[BUCK_VIN]);
		return msg;
	}
	if (!(p[BUCK_D] >= 0 && p[BUCK_D] <= 1)) {
		snprintf(msg, size, "D = %g is out of range [0, 1]", p[BUCK_D]);
		return msg;
	}
	return positive(p + BUCK_L, names, 4, msg, size);
}

static double buck_span(const double *p)
{
	double t = TWO_PI * sqrt(p[BUCK_L] * p[BUCK_C]), rc = p[BUCK_R] * p[BUCK_C];

	return 30 * (t > rc ? t : rc);
}

static double buck_step(const double *p)
{
	double h = TWO_PI * sqrt(p[BUCK_L] * p[BUCK_C]) / 200, rc = p[BUCK_R] * p[BUCK_C] / 50;
	double d = p[BUCK_D] > 0.05 ? p[BUCK_D] : 0.05;
	double sw = d / p[BUCK_FSW] / 8;

	if (rc < h)
		h = rc;
	return sw < h ? sw : h;
}

static void buck_deriv(const double *p, const double *x, double *dx)
{
	double vin = p[BUCK_VIN], d = p[BUCK_D], l = p[BUCK_L], period = 1 / p[BUCK_FSW];
	double il = x[0], v = x[1], across = vin - v, d2 = 1 - d;

	if (across > 1e-12 * vin && d > 0) {
		double dcm = 2 * l * il / (d * period * across) - d;

		if (dcm < d2)
			d2 = dcm > 0 ? dcm : 0;
	}
	dx[0] = (d * across - d2 * v) / l;
	/* The diode keeps the inductor current from going negative. */
	if (il <= 0 && dx[0] < 0)
		dx[0] = 0;
	dx[1] = (il - v / p[BUCK_R]) / p[BUCK_C];
}

/* buck and rlc show their second state (a voltage) first, then the current. */
static void output_voltage_then_current(const double *p, const double *x, double *y)
{
	y[0] = x[1];
	y[1] = x[0];
}

static const struct circuit circuit_buck = {
	.name = "buck",
	.description = "averaged buck converter (CCM and DCM)",
	.params = {"Vin", "D", "L", "C", "R", "fsw", NULL},
	.signals = {"Vout", "iL", NULL},
	.nstates = 2,
	.check = buck_check,
	.default_span = buck_span,
	.max_step = buck_step,
	.deriv = buck_deriv,
	.output = output_voltage_then_current,
};

/* ---- rlc: series RLC driven by a step Vin ------------------------------------------ */
enum { RLC_VIN, RLC_R, RLC_L, RLC_C };

static const char *rlc_check(const double *p, char *msg, size_t size)
{
	static const char *const names[] = {"L", "C"};

	if (!(p[RLC_R] >= 0) || !isfinite(p[RLC_R])) {
		snprintf(msg, size, "R = %g must be zero or positive", p[RLC_R]);
		return msg;
	}
	if (!isfinite(p[RLC_VIN])) {
		snprintf(msg, size, "Vin = %g is not a finite number", p[RLC_VIN]);
		return msg;
	}
	return positive(p + RLC_L, names, 2, msg, size);
}

static double rlc_span(const double *p)
{
	return 10 * TWO_PI * sqrt(p[RLC_L] * p[RLC_C]);
}

static double rlc_step(const double *p)
{
	double h = TWO_PI * sqrt(p[RLC_L] * p[RLC_C]) / 200;

	if (p[RLC_R] > 0 && p[RLC_L] / p[RLC_R] / 20 < h)
		h = p[RLC_L] / p[RLC_R] / 20;
	return h;
}

static void rlc_deriv(const double *p, const double *x, double *dx)
{
	dx[0] = (p[RLC_VIN] - p[RLC_R] * x[0] - x[1]) / p[RLC_L];
	dx[1] = x[0] / p[RLC_C];
}

static const struct circuit circuit_rlc = {
	.name = "rlc",
	.description = "series RLC step response",
	.params = {"Vin", "R", "L", "C", NULL},
	.signals = {"Vc", "i", NULL},
	.nstates = 2,
	.check = rlc_check,
	.default_span = rlc_span,
	.max_step = rlc_step,
	.deriv = rlc_deriv,
	.output = output_voltage_then_current,
};

const struct circuit *const circuit_table[] = {&circuit_rc, &circuit_buck, &circuit_rlc, NULL};

const struct circuit *circuit_find(const char *name)
{
	for (size_t i = 0; circuit_table[i]; i++)
		if (strcmp(circuit_table[i]->name, name) == 0)
			return circuit_table[i];
	return NULL;
}

char *circuit_names(void)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; circuit_table[i]; i++)
		buf_addf(&b, "%s%s", i == 0 ? "" : circuit_table[i + 1] ? ", " : " and ", circuit_table[i]->name);
	return buf_detach(&b);
}

size_t circuit_param_count(const struct circuit *c)
{
	size_t n = 0;

	while (c->params[n])
		n++;
	return n;
}

size_t circuit_signal_count(const struct circuit *c)
{
	size_t n = 0;

	while (c->signals[n])
		n++;
	return n;
}

static void rk4_step(const struct circuit *c, const double *p, double *x, double h)
{
	double k1[CIRCUIT_MAX_STATES], k2[CIRCUIT_MAX_STATES], k3[CIRCUIT_MAX_STATES], k4[CIRCUIT_MAX_STATES];
	double tmp[CIRCUIT_MAX_STATES];
	size_t n = c->nstates;

	c->deriv(p, x, k1);
	for (size_t i = 0; i < n; i++)
		tmp[i] = x[i] + h / 2 * k1[i];
	c->deriv(p, tmp, k2);
	for (size_t i = 0; i < n; i++)
		tmp[i] = x[i] + h / 2 * k2[i];
	c->deriv(p, tmp, k3);
	for (size_t i = 0; i < n; i++)
		tmp[i] = x[i] + h * k3[i];
	c->deriv(p, tmp, k4);
	for (size_t i = 0; i < n; i++)
		x[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

bool circuit_simulate(const struct circuit *c, const double *p, double start, double span, double out_step,
		      struct emu_result *out, atomic_bool *cancel, char **err)
{
	char msg[160];
	double x[CIRCUIT_MAX_STATES] = {0}, y[CIRCUIT_MAX_STATES];
	size_t nsig = circuit_signal_count(c), intervals, substeps;
	double h;

	memset(out, 0, sizeof *out);
	*err = NULL;
	if (c->check(p, msg, sizeof msg)) {
		*err = xstrdup(msg);
		return false;
	}
	if (!(span > 0) || !isfinite(span) || !isfinite(start)) {
		*err = xasprintf("TimeSpan = %g must be a positive number", span);
		return false;
	}
	if (out_step <= 0)
		out_step = span / 1000;
	if (span / out_step > CIRCUIT_MAX_POINTS) {
		*err = xasprintf("TimeSpan / step = %.0f output points is more than %.0f", span / out_step,
				 CIRCUIT_MAX_POINTS);
		return false;
	}
	intervals = (size_t)ceil(span / out_step - 1e-9);
	h = c->max_step(p);
	substeps = (size_t)ceil(out_step / h - 1e-9);
	if (substeps < 1)
		substeps = 1;
	if ((double)intervals * (double)substeps > CIRCUIT_MAX_STEPS) {
		*err = xasprintf("the run needs %.3g integration steps, more than %.3g; shorten TimeSpan",
				 (double)intervals * (double)substeps, CIRCUIT_MAX_STEPS);
		return false;
	}
	out->points = intervals + 1;
	out->signals = nsig;
	out->time = xcalloc(out->points, sizeof *out->time);
	out->values = xcalloc(out->points * nsig, sizeof *out->values);
	for (size_t i = 0; i < out->points; i++) {
		double t_here = i == intervals ? span : (double)i * out_step;

		if (i > 0) {
			double dt = (t_here - (double)(i - 1) * out_step) / (double)substeps;

			for (size_t k = 0; k < substeps; k++)
				rk4_step(c, p, x, dt);
		}
		out->time[i] = start + t_here;
		c->output(p, x, y);
		for (size_t s = 0; s < nsig; s++)
			out->values[s * out->points + i] = y[s];
		if (cancel && (i & 1023) == 0 && atomic_load(cancel)) {
			emu_result_free(out);
			return false;
		}
	}
	return true;
}

void emu_result_free(struct emu_result *r)
{
	xfree(&r->time);
	xfree(&r->values);
	r->points = r->signals = 0;
}
