/*
 * slurm — a pool's launcher on Slurm (DESIGN 19): the engine's pool ops
 * (engine/pool.h) as sbatch, squeue and scancel, each a child process off
 * the loop (server/child.h) with a bounded time.
 *
 * A job is `sbatch --parsable --job-name JOB_NAME --licenses LICENSES
 * [--partition P] --comment simq:ID --output STATE/pool/%x-%j.out [ARGS]
 * SCRIPT`, with SIMQ_POOL, SIMQ_HOME, SIMQ_BIN, SIMQ_SLOTS and
 * SIMQ_MAX_BATCH in its environment (and SLURM_CONF when slurm_conf is set);
 * ID names the state dir, so two servers on one account tell their jobs
 * apart.  The listing is `squeue --me -t all -n JOB_NAME -o
 * %i|%T|%k|%N|%r` with its header line (an answer without it, or with a line
 * that does not parse, is an error, never "no jobs"), kept to this comment;
 * a running job's URL is read from STATE/pool/POOL-JOB.url, which the job
 * script writes; what an ended job left is read from STATE/pool/JOB_NAME-
 * JOB.out, and its files there are removed when the pool forgets it.  Each
 * command is killed after `timeout`.  Loop thread only.
 */
#ifndef SIMQ_SERVER_SLURM_H
#define SIMQ_SERVER_SLURM_H

#include <ev.h>

#include "engine/pool.h"

/* Seconds an sbatch, squeue or scancel may take before it is killed ([pool] command_timeout's default). */
#define SLURM_COMMAND_TIMEOUT 30.0

struct slurm_options {
	const char *pool; /* the [pool NAME] */
	const char *job_name, *partition, *licenses, *script;
	const char *sbatch_args; /* more words for sbatch, split at blanks; "" none */
	const char *slurm_conf;  /* SLURM_CONF for the commands and the job; "" as the environment has it */
	const char *state_dir;
	const char *comment;  /* simq:ID */
	int slots, max_batch; /* what the job registers with */
	double timeout;       /* seconds a command may take; 0: SLURM_COMMAND_TIMEOUT */
	void (*log)(void *ud, const char *text); /* a scancel that failed, for the log */
	void *log_ud;
};

extern const struct pool_launcher_ops slurm_launcher_ops;

struct slurm;

struct slurm *slurm_new(struct ev_loop *loop, const struct slurm_options *opt);
/* Kills its commands still running (their callbacks never come) and frees it; clears the pointer. */
void slurm_free(struct slurm **s);

#endif
