/*
 * complete — the command table as data, for the shell completions the build
 * generates (share/completions/gen-completions.sh turns it into simq.bash and _simq).
 *
 * simq --complete-table prints, one record a line, fields separated by tabs:
 *   command  NAME  OPERANDS  SUMMARY         OPERANDS: a CLI_OPERANDS name (cli.h)
 *   option   COMMAND  LONG  SHORT  VALUE     COMMAND "-": before the command word;
 *                                            LONG "--state" or "", SHORT "-p" or "";
 *                                            VALUE "" for a flag, else state, priority,
 *                                            file, dir or text
 *   state    NAME                            the task states
 *   priority NAME                            the priorities
 * Main thread; reads only the const tables.
 */
#ifndef SIMQ_CLI_COMPLETE_H
#define SIMQ_CLI_COMPLETE_H

#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"

/* Prints the table of commands[0..n) on out; 0, or -1 when out could not be written. */
int complete_table(FILE *out, const struct cli_command *const *commands, size_t n);

#endif
