#include "autoconf.h"

#include "server/slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/child.h"
#include "util/buf.h"
#include "util/paths.h"
#include "util/xalloc.h"

extern char **environ;

/* A command of ours running: what to do with its answer. */
struct run {
	struct slurm *s;
	struct child *child;
	const char *what; /* "sbatch" */
	void (*answer)(struct run *r, const struct child_result *res, char *failure);
	void *done; /* the pool's callback */
	void *ud;
	struct run *next;
};

struct slurm {
	struct ev_loop *loop;
	char *pool, *job_name, *partition, *licenses, *script, *sbatch_args, *state_dir, *pool_dir, *comment;
	char **env; /* the commands' environment */
	int slots, max_batch;
	void (*log)(void *ud, const char *text);
	void *log_ud;
	struct run *runs;
};

/* ---- running the commands ------------------------------------------------------------------- */

static void forget_run(struct run *r)
{
	for (struct run **pp = &r->s->runs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	free(r);
}

static void ran(void *ud, const struct child_result *res)
{
	struct run *r = ud;
	char *failure = child_failure(r->what, res, SLURM_COMMAND_TIMEOUT);

	r->child = NULL;
	r->answer(r, res, failure);
	free(failure);
	forget_run(r);
}

/* Starts argv; on failure to start, answer() gets the reason at once. */
static void start(struct slurm *s, char **argv, void (*answer)(struct run *, const struct child_result *, char *),
                  void *done, void *ud)
{
	struct run *r = xcalloc(1, sizeof *r);
	char *err = NULL;

	*r = (struct run){.s = s, .what = argv[0], .answer = answer, .done = done, .ud = ud, .next = s->runs};
	s->runs = r;
	r->child = child_run(s->loop, argv, s->env, SLURM_COMMAND_TIMEOUT, ran, r, &err);
	if (r->child == NULL) {
		struct child_result none = {.out = "", .err = ""};

		r->answer(r, &none, err);
		free(err);
		forget_run(r);
	}
}

/* ---- sbatch ----------------------------------------------------------------------------------- */

static void submit_answer(struct run *r, const struct child_result *res, char *failure)
{
	pool_submitted_fn done = (pool_submitted_fn)r->done;
	char id[64] = "";

	/* --parsable: "JOBID" or "JOBID;CLUSTER". */
	if (failure == NULL)
		sscanf(res->out, "%63[0-9_]", id);
	if (failure)
		done(r->ud, NULL, failure);
	else if (id[0] == '\0')
		done(r->ud, NULL, "sbatch printed no job id");
	else
		done(r->ud, id, NULL);
}

static void slurm_submit(void *impl, pool_submitted_fn done, void *ud)
{
	struct slurm *s = impl;
	char *words[64];
	size_t n = 0;
	char *job_name = xasprintf("--job-name=%s", s->job_name), *lic = xasprintf("--licenses=%s", s->licenses);
	char *part = s->partition[0] ? xasprintf("--partition=%s", s->partition) : NULL;
	char *comment = xasprintf("--comment=%s", s->comment);
	char *output = xasprintf("--output=%s/%%x-%%j.out", s->pool_dir);
	char *extra = xstrdup(s->sbatch_args), *save = NULL, sbatch[] = "sbatch", parsable[] = "--parsable";

	words[n++] = sbatch;
	words[n++] = parsable;
	words[n++] = job_name;
	words[n++] = lic;
	if (part)
		words[n++] = part;
	words[n++] = comment;
	words[n++] = output;
	for (char *w = strtok_r(extra, " \t", &save); w && n < 62; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	words[n++] = s->script;
	words[n] = NULL;
	start(s, words, submit_answer, (void *)done, ud);
	free(job_name);
	free(lic);
	free(part);
	free(comment);
	free(output);
	free(extra);
}

/* ---- scancel ------------------------------------------------------------------------------------- */

static void cancel_answer(struct run *r, const struct child_result *res, char *failure)
{
	/* What came of it shows in the next listing; a failure is only said. */
	if (failure) {
		char *text = xasprintf("pool %s: %s", r->s->pool, failure);

		r->s->log(r->s->log_ud, text);
		free(text);
	}
}

static void slurm_cancel(void *impl, const char *id)
{
	struct slurm *s = impl;
	char scancel[] = "scancel", *argv[] = {scancel, (char *)id, NULL};

	start(s, argv, cancel_answer, NULL, NULL);
}

/* ---- squeue ----------------------------------------------------------------------------------------- */

/* Slurm's compact state: PD waits, R (and CF, S) runs, anything else (CG, CA, F, TO, ...) has ended. */
static enum pool_job_state job_state(const char *code)
{
	if (strcmp(code, "PD") == 0)
		return POOL_JOB_PENDING;
	if (strcmp(code, "R") == 0 || strcmp(code, "CF") == 0 || strcmp(code, "S") == 0)
		return POOL_JOB_RUNNING;
	return POOL_JOB_ENDED;
}

/* The URL a running job's script left for the server, or NULL (heap). */
static char *job_url(const struct slurm *s, const char *id)
{
	char *name = xasprintf("%s-%s.url", s->pool, id), *path = paths_join(s->pool_dir, name), line[512];
	FILE *f = fopen(path, "re");
	char *url = NULL;

	if (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "http://", 7) == 0)
			url = xstrdup(line);
	}
	if (f)
		fclose(f);
	free(path);
	free(name);
	return url;
}

static void list_answer(struct run *r, const struct child_result *res, char *failure)
{
	pool_listed_fn done = (pool_listed_fn)r->done;
	struct pool_job *jobs = NULL;
	char **urls = NULL;
	size_t n = 0;
	char *copy = failure ? NULL : xstrdup(res->out), *save = NULL;

	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {line, NULL, NULL, NULL};

		for (int k = 1; k < 4 && f[k - 1]; k++) {
			f[k] = strchr(f[k - 1], '|');
			if (f[k])
				*f[k]++ = '\0';
		}
		/* Another server's job of the same name (another state dir): not ours. */
		if (f[3] == NULL || strcmp(f[2], r->s->comment) != 0)
			continue;
		jobs = xreallocarray(jobs, n + 1, sizeof *jobs);
		urls = xreallocarray(urls, n + 1, sizeof *urls);
		jobs[n] = (struct pool_job){.id = f[0], .state = job_state(f[1]), .node = f[3]};
		urls[n] = jobs[n].state == POOL_JOB_RUNNING ? job_url(r->s, f[0]) : NULL;
		jobs[n].url = urls[n];
		n++;
	}
	done(r->ud, jobs, n, failure);
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(jobs);
	free(copy);
}

static void slurm_list(void *impl, pool_listed_fn done, void *ud)
{
	struct slurm *s = impl;
	char squeue[] = "squeue", me[] = "--me", h[] = "-h", n[] = "-n", o[] = "-o", format[] = "%i|%t|%k|%N";
	char *argv[] = {squeue, me, h, n, s->job_name, o, format, NULL};

	start(s, argv, list_answer, (void *)done, ud);
}

const struct pool_launcher_ops slurm_launcher_ops = {
    .submit = slurm_submit,
    .cancel = slurm_cancel,
    .list = slurm_list,
};

/* ---- setup ---------------------------------------------------------------------------------------- */

/* The server's environment and what the job reads: SIMQ_POOL, SIMQ_HOME, SIMQ_BIN, SIMQ_SLOTS, ... */
static char **command_env(const struct slurm *s, const char *slurm_conf)
{
	static const char *const ours[] = {
	    "SIMQ_POOL=", "SIMQ_HOME=", "SIMQ_BIN=", "SIMQ_SLOTS=", "SIMQ_MAX_BATCH=", "SIMQ_POOL_DIR="};
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t n = 0, k = 0;

	exe[len > 0 ? len : 0] = '\0';
	while (environ[n])
		n++;
	char **env = xcalloc(n + 8, sizeof *env);

	for (size_t i = 0; i < n; i++) {
		bool replaced = slurm_conf[0] && strncmp(environ[i], "SLURM_CONF=", 11) == 0;

		for (size_t o = 0; o < sizeof ours / sizeof ours[0]; o++)
			replaced = replaced || strncmp(environ[i], ours[o], strlen(ours[o])) == 0;
		if (!replaced)
			env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xasprintf("SIMQ_POOL=%s", s->pool);
	env[k++] = xasprintf("SIMQ_HOME=%s", s->state_dir);
	env[k++] = xasprintf("SIMQ_BIN=%s", exe[0] ? exe : "simq");
	env[k++] = xasprintf("SIMQ_SLOTS=%d", s->slots);
	env[k++] = xasprintf("SIMQ_MAX_BATCH=%d", s->max_batch);
	env[k++] = xasprintf("SIMQ_POOL_DIR=%s", s->pool_dir);
	if (slurm_conf[0])
		env[k++] = xasprintf("SLURM_CONF=%s", slurm_conf);
	env[k] = NULL;
	return env;
}

struct slurm *slurm_new(struct ev_loop *loop, const struct slurm_options *opt)
{
	struct slurm *s = xcalloc(1, sizeof *s);

	s->loop = loop;
	s->pool = xstrdup(opt->pool);
	s->job_name = xstrdup(opt->job_name);
	s->partition = xstrdup(opt->partition);
	s->licenses = xstrdup(opt->licenses);
	s->script = xstrdup(opt->script);
	s->sbatch_args = xstrdup(opt->sbatch_args);
	s->state_dir = xstrdup(opt->state_dir);
	s->pool_dir = paths_join(opt->state_dir, "pool");
	s->comment = xstrdup(opt->comment);
	s->slots = opt->slots;
	s->max_batch = opt->max_batch;
	s->log = opt->log;
	s->log_ud = opt->log_ud;
	s->env = command_env(s, opt->slurm_conf);
	return s;
}

void slurm_free(struct slurm **sp)
{
	struct slurm *s = *sp;

	if (s == NULL)
		return;
	while (s->runs) {
		struct run *r = s->runs;

		child_abandon(&r->child);
		forget_run(r);
	}
	for (char **e = s->env; *e; e++)
		free(*e);
	free(s->env);
	free(s->pool);
	free(s->job_name);
	free(s->partition);
	free(s->licenses);
	free(s->script);
	free(s->sbatch_args);
	free(s->state_dir);
	free(s->pool_dir);
	free(s->comment);
	free(s);
	*sp = NULL;
}
