/*
 * model — plecs-emu's model files and their variables.
 *
 * A model file is a small text file in PLECS's `Plecs { ... }` syntax:
 * top-level keys with quoted values, nested blocks ignored.  plecs-emu reads
 * Name, EmuCircuit (which built-in circuit simulates it), TimeSpan and the
 * variables that InitializationCommands assigns: numbers, 'strings',
 * [vectors] and [matrices; rows].  Pure functions; a struct emu_model is
 * read-only once loaded and may be shared by threads.
 */
#ifndef SIMQ_EMU_MODEL_H
#define SIMQ_EMU_MODEL_H

#include <stdbool.h>
#include <stddef.h>

enum emu_value_type { EMU_NUMBER, EMU_STRING, EMU_MATRIX };

struct emu_value {
	enum emu_value_type type;
	double number;
	char *string;
	size_t rows, cols;       /* EMU_MATRIX; a vector is 1 x n */
	double *data;            /* row-major */
};

struct emu_var {
	char *name;
	struct emu_value value;
};

struct emu_vars {
	struct emu_var *v;
	size_t n;
};

struct emu_model {
	char *path;              /* as loaded, absolute */
	char *name;              /* the file's base name without extension: PLECS's model name */
	char *title;             /* the Name key, may be NULL */
	char *circuit;           /* the EmuCircuit key */
	double time_span;        /* the TimeSpan key, 0 when absent */
	struct emu_vars vars;    /* InitializationCommands */
};

/* Parses a model file's text; NULL and *err (heap, caller frees) when it is not a usable model. */
struct emu_model *emu_model_parse(const char *path, const char *text, char **err);
/* Reads and parses the file at path. */
struct emu_model *emu_model_load(const char *path, char **err);
void emu_model_free(struct emu_model **m);

/* Parses "Vin = 400; D = 0.5; K = [1 2; 3 4]; tag = 'x';" into vars. */
bool emu_vars_parse(const char *text, struct emu_vars *vars, char **err);
struct emu_var *emu_vars_find(const struct emu_vars *vars, const char *name);
/* Sets name to a copy of value, adding it when absent. */
void emu_vars_set(struct emu_vars *vars, const char *name, const struct emu_value *value);
void emu_vars_copy(struct emu_vars *dst, const struct emu_vars *src);
void emu_vars_free(struct emu_vars *vars);
/* "Vin, D, L" for messages; heap string. */
char *emu_vars_names(const struct emu_vars *vars);

void emu_value_copy(struct emu_value *dst, const struct emu_value *src);
void emu_value_free(struct emu_value *v);
const char *emu_value_type_name(enum emu_value_type t);

#endif
