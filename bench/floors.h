/*
 * floors — what issue 16's targets rest on (bench/throughput's realistic row):
 * expat's own cost and zlib's least size for one realistic answer.
 */
#ifndef SIMQ_BENCH_FLOORS_H
#define SIMQ_BENCH_FLOORS_H

/* Prints the floors for one answer of model (rc.plecs) from the plecs-emu at url, next to the row's cpu_ms and stored_kb. */
void bench_floors(const char *url, const char *model, double cpu_ms, double stored_kb);

#endif
