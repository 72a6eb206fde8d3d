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
	char what[16]; /* "sbatch": a copy, as argv[0] is the caller's and gone once start() returns */
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
	double timeout; /* seconds a command may take */
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
	char *failure = child_failure(r->what, res, r->s->timeout);

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

	*r = (struct run){.s = s, .answer = answer, .done = done, .ud = ud, .next = s->runs};
	snprintf(r->what, sizeof r->what, "%s", argv[0]);
	s->runs = r;
	r->child = child_run(s->loop, argv, s->env, s->timeout, ran, r, &err);
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

/* The listing's format, and the header squeue prints for it: an answer without the header is not read. */
#define LIST_FORMAT "%i|%T|%k|%N|%r"
#define LIST_HEADER "JOBID|STATE|COMMENT|NODELIST|REASON"

/* Slurm's state: PENDING waits; RUNNING (and CONFIGURING, SUSPENDED, RESIZING) runs; anything else has ended. */
static enum pool_job_state job_state(const char *word)
{
	static const char *const running[] = {"RUNNING", "CONFIGURING", "SUSPENDED", "RESIZING"};

	if (strcmp(word, "PENDING") == 0 || strcmp(word, "REQUEUED") == 0)
		return POOL_JOB_PENDING;
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
		if (strcmp(word, running[i]) == 0)
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

/*
 * One line "ID|STATE|COMMENT|NODE|REASON" into f[5] (the comment may hold '|': the fields around
 * it are counted from both ends); false when it is not one.
 */
static bool split_line(char *line, char *f[5])
{
	char *first = strchr(line, '|'), *second = first ? strchr(first + 1, '|') : NULL;
	char *last = strrchr(line, '|'), *before = NULL;

	if (second == NULL || last <= second)
		return false;
	*last = '\0';
	before = strrchr(second + 1, '|');
	if (before == NULL)
		return false;
	*first = *second = *before = '\0';
	f[0] = line, f[1] = first + 1, f[2] = second + 1, f[3] = before + 1, f[4] = last + 1;
	return f[0][0] && strspn(f[0], "0123456789") == strlen(f[0]) && f[1][0] &&
	       strspn(f[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(f[1]);
}

/* squeue's answer as jobs of this server (jobs[], urls[] heap); NULL, or why it cannot be read (heap). */
static char *read_listing(const struct slurm *s, char *text, struct pool_job **jobs, char ***urls, size_t *n)
{
	char *save = NULL, *line = strtok_r(text, "\n", &save);

	/* Exit status 0 and no header: not squeue's answer to our format (empty, or something else). */
	if (line == NULL || strcmp(line, LIST_HEADER) != 0)
		return line ? xasprintf("squeue's answer cannot be read: its first line is \"%.80s\", not " LIST_HEADER,
		                        line)
		            : xstrdup("squeue's answer cannot be read: it was empty (not even its header " LIST_HEADER
		                      ")");
	for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5], shown[96];

		snprintf(shown, sizeof shown, "%s", line);
		if (!split_line(line, f))
			return xasprintf("squeue's answer cannot be read: the line \"%s\" is not %s", shown,
			                 LIST_HEADER);
		/* Another server's job of the same name (another state dir): not ours. */
		if (strcmp(f[2], s->comment) != 0)
			continue;
		*jobs = xreallocarray(*jobs, *n + 1, sizeof **jobs);
		*urls = xreallocarray(*urls, *n + 1, sizeof **urls);
		(*jobs)[*n] = (struct pool_job){.id = f[0],
		                                .state = job_state(f[1]),
		                                .node = f[3],
		                                .how = f[1],
		                                .reason = strcmp(f[4], "None") == 0 ? "" : f[4]};
		(*urls)[*n] = (*jobs)[*n].state == POOL_JOB_RUNNING ? job_url(s, f[0]) : NULL;
		(*jobs)[*n].url = (*urls)[*n];
		(*n)++;
	}
	return NULL;
}

static void list_answer(struct run *r, const struct child_result *res, char *failure)
{
	pool_listed_fn done = (pool_listed_fn)r->done;
	struct pool_job *jobs = NULL;
	char **urls = NULL, *copy = failure ? NULL : xstrdup(res->out), *unread = NULL;
	size_t n = 0;

	if (copy)
		unread = read_listing(r->s, copy, &jobs, &urls, &n);
	if (unread)
		done(r->ud, NULL, 0, unread);
	else
		done(r->ud, jobs, n, failure);
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(jobs);
	free(copy);
	free(unread);
}

static void slurm_list(void *impl, pool_listed_fn done, void *ud)
{
	struct slurm *s = impl;
	char squeue[] = "squeue", me[] = "--me", t[] = "-t", all[] = "all", n[] = "-n", o[] = "-o",
	     format[] = LIST_FORMAT;
	char *argv[] = {squeue, me, t, all, n, s->job_name, o, format, NULL};

	start(s, argv, list_answer, (void *)done, ud);
}

/* ---- what a job left ------------------------------------------------------------------------------ */

/* STATE/pool/NAME-ID.SUFFIX (heap). */
static char *pool_file(const struct slurm *s, const char *name_part, const char *id, const char *suffix)
{
	char *name = xasprintf("%s-%s.%s", name_part, id, suffix), *path = paths_join(s->pool_dir, name);

	free(name);
	return path;
}

/* Its output file (sbatch --output STATE/pool/%x-%j.out): the last lines, and slurmstepd's word on its end. */
static void slurm_output(void *impl, const char *id, struct pool_job_output *out)
{
	struct slurm *s = impl;
	char line[1024], *lines[3] = {NULL, NULL, NULL};
	FILE *f;
	struct buf tail = BUF_INIT;

	*out = (struct pool_job_output){.path = pool_file(s, s->job_name, id, "out")};
	f = fopen(out->path, "re");
	while (f && fgets(line, sizeof line, f)) {
		char *end = strstr(line, " ***"), *at = strstr(line, "*** JOB ");

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		/* "slurmstepd: error: *** JOB 5 ON node CANCELLED AT 2026-... DUE TO TIME LIMIT ***" */
		if (at && end && end > at && strstr(at, " ON ")) {
			char *word = strchr(strstr(at, " ON ") + 4, ' ');

			*end = '\0';
			free(out->end);
			out->end = xstrdup(word ? word + 1 : at);
			continue;
		}
		free(lines[0]);
		memmove(lines, lines + 1, 2 * sizeof *lines);
		lines[2] = xstrdup(line);
	}
	if (f)
		fclose(f);
	for (int i = 0; i < 3; i++) {
		if (lines[i])
			buf_addf(&tail, "%s%.200s", tail.len ? " / " : "", lines[i]);
		free(lines[i]);
	}
	if (f)
		out->tail = xstrdup(buf_str(&tail));
	buf_free(&tail);
}

/* The job is over: its URL and port files go, and its output unless it is kept. */
static void slurm_forget(void *impl, const char *id, bool keep_output)
{
	struct slurm *s = impl;
	static const char *const left[] = {"url", "url.tmp", "port"};

	for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
		char *path = pool_file(s, s->pool, id, left[i]);

		unlink(path);
		free(path);
	}
	if (!keep_output) {
		char *path = pool_file(s, s->job_name, id, "out");

		unlink(path);
		free(path);
	}
}

const struct pool_launcher_ops slurm_launcher_ops = {
    .submit = slurm_submit,
    .cancel = slurm_cancel,
    .list = slurm_list,
    .output = slurm_output,
    .forget = slurm_forget,
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
	s->timeout = opt->timeout > 0 ? opt->timeout : SLURM_COMMAND_TIMEOUT;
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
