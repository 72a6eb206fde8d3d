/*
 * form — the submit form: a model path (Tab completes it), a priority
 * (Left/Right), vars and sweeps as on the command line ("Vin=400
 * D=0.1:0.9:0.1 L=1e-3,2e-3"), an optional name, and whether a stored result
 * of the same case may be reused (Space: "run anyway" sends no_cache).  Every change re-checks
 * the lot, so the count of tasks and what is wrong show while typing; Enter
 * submits them in one simq.submit_many call.
 *
 * The normal mode opens one into c->form and sets MODE_FORM; mode_form
 * (mode.h) takes its keys and draws it, and closes it when it is done.  Loop
 * thread only.
 */
#ifndef SIMQ_UI_FORM_H
#define SIMQ_UI_FORM_H

struct ui_form;

struct ui_form *form_new(void);
void form_free(struct ui_form **f);

#endif
