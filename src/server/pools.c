#include "autoconf.h"

#include "server/pools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/pool.h"
#include "server/slurm.h"
#include "util/paths.h"
#include "util/xalloc.h"

struct one_pool {
	struct slurm *launcher;
	struct pool *pool;
};

struct pools {
	struct engine *engine;
	struct one_pool *list;
	size_t n;
};

/* ---- the pool's host: the engine ------------------------------------------------------------ */

static void count_retry(const struct task *t, double retry_in, void *ud)
{
	(*(size_t *)ud)++;
}

/* Queued, or waiting to retry: either wants a backend soon. */
static size_t host_waiting(void *ud)
{
	struct pools *ps = ud;
	size_t retrying = 0;

	scheduler_each_retry(engine_scheduler(ps->engine), count_retry, &retrying);
	return queue_size(engine_queue(ps->engine)) + retrying;
}

static void host_each_backend(void *ud, void (*fn)(const struct sched_backend_info *b, void *arg), void *arg)
{
	struct pools *ps = ud;

	scheduler_each_backend(engine_scheduler(ps->engine), fn, arg);
}

static bool host_add(void *ud, const struct backend_config *c, char **err)
{
	struct pools *ps = ud;

	return engine_backend_add(ps->engine, c, err) == ENGINE_OK;
}

static bool host_remove(void *ud, const char *name, const char *gone, char **err)
{
	struct pools *ps = ud;

	return engine_backend_remove(ps->engine, name, gone, err) == ENGINE_OK;
}

static void host_log(void *ud, enum log_severity severity, const char *text)
{
	struct pools *ps = ud;

	engine_log(ps->engine, severity, 0, "%s", text);
}

static void launcher_log(void *ud, const char *text)
{
	host_log(ud, SEVERITY_WARNING, text);
}

/* ---- setup ------------------------------------------------------------------------------------ */

/* The state dir's own id, made once and kept in pool/id: the comment on its jobs (simq:ID). */
static char *state_id(const char *pool_dir, char **err)
{
	char *path = paths_join(pool_dir, "id"), text[40] = "";
	unsigned char raw[8];
	FILE *f = fopen(path, "re");

	if (f) {
		if (fgets(text, sizeof text, f) == NULL)
			text[0] = '\0';
		fclose(f);
		text[strcspn(text, "\r\n")] = '\0';
	}
	if (strlen(text) != 16) {
		int fd;

		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
			memset(raw, 0, sizeof raw);
		for (size_t i = 0; i < sizeof raw; i++)
			snprintf(text + 2 * i, 3, "%02x", raw[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, text, 16) != 16) {
			*err = xasprintf("cannot write %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(path);
			return NULL;
		}
		close(fd);
	}
	free(path);
	return xasprintf("simq:%s", text);
}

static const struct pool_host host_ops = {.waiting = host_waiting,
                                          .each_backend = host_each_backend,
                                          .add = host_add,
                                          .remove = host_remove,
                                          .log = host_log};

static void open_pool(struct pools *ps, struct ev_loop *loop, const struct config_section *sec,
                      const struct clock *clock, const char *state_dir, const char *comment)
{
	const char *name = config_section_name(sec);
	char *job_name =
	    config_sec_str(sec, "job_name")[0] ? xstrdup(config_sec_str(sec, "job_name")) : xasprintf("simq-%s", name);
	char *script = config_sec_str(sec, "script")[0] ? xstrdup(config_sec_str(sec, "script")) : NULL;
	struct one_pool *op = &ps->list[ps->n++];

	if (script == NULL) {
		char *dir = paths_data_dir("slurm", PKGDATADIR "/slurm");

		script = paths_join(dir, "plecs-backend.sh");
		free(dir);
	}
	struct slurm_options so = {
	    .pool = name,
	    .job_name = job_name,
	    .partition = config_sec_str(sec, "partition"),
	    .licenses = config_sec_str(sec, "licenses"),
	    .script = script,
	    .sbatch_args = config_sec_str(sec, "sbatch_args"),
	    .slurm_conf = config_sec_str(sec, "slurm_conf"),
	    .state_dir = state_dir,
	    .comment = comment,
	    .slots = (int)config_sec_int(sec, "slots"),
	    .max_batch = (int)config_sec_int(sec, "max_batch"),
	    .timeout = config_sec_double(sec, "command_timeout"),
	    .log = launcher_log,
	    .log_ud = ps,
	};
	struct pool_options po = {
	    .name = name,
	    .min = (int)config_sec_int(sec, "min"),
	    .max = (int)config_sec_int(sec, "max"),
	    .idle_after = config_sec_double(sec, "idle_after"),
	    .poll = config_sec_double(sec, "poll"),
	    .backoff = config_sec_double(sec, "backoff"),
	    .answer_within = config_sec_double(sec, "answer_within"),
	    .backend = SCHED_BACKEND_DEFAULTS,
	};
	struct pool_host host = host_ops;

	po.backend.slots = so.slots;
	po.backend.max_batch = so.max_batch;

	host.ud = ps;
	op->launcher = slurm_new(loop, &so);
	op->pool = pool_new(&po, &slurm_launcher_ops, op->launcher, clock, &host);
	engine_add_pool(ps->engine, op->pool);
	free(job_name);
	free(script);
}

struct pools *pools_new(struct ev_loop *loop, const struct config *cfg, struct engine *e, const struct clock *clock,
                        const char *state_dir, char **err)
{
	size_t n = 0;
	char *pool_dir, *comment;

	while (config_section_nth(cfg, "pool", n))
		n++;
	if (n == 0)
		return NULL;
	pool_dir = paths_join(state_dir, "pool");
	if (mkdir(pool_dir, 0700) != 0 && errno != EEXIST) {
		*err = xasprintf("cannot create %s: %s", pool_dir, strerror(errno));
		free(pool_dir);
		return NULL;
	}
	comment = state_id(pool_dir, err);
	free(pool_dir);
	if (comment == NULL)
		return NULL;
	struct pools *ps = xcalloc(1, sizeof *ps);

	ps->engine = e;
	ps->list = xcalloc(n, sizeof *ps->list);
	for (size_t i = 0; i < n; i++)
		open_pool(ps, loop, config_section_nth(cfg, "pool", i), clock, state_dir, comment);
	free(comment);
	return ps;
}

void pools_start(struct pools *ps)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		pool_start(ps->list[i].pool);
}

void pools_free(struct pools **psp)
{
	struct pools *ps = *psp;

	if (ps == NULL)
		return;
	/* The launchers first: none of their answers may reach a pool that is gone. */
	for (size_t i = 0; i < ps->n; i++) {
		slurm_free(&ps->list[i].launcher);
		pool_free(&ps->list[i].pool);
	}
	free(ps->list);
	free(ps);
	*psp = NULL;
}

int pools_max_slots(const struct config *cfg)
{
	const struct config_section *sec;
	int total = 0;

	for (size_t i = 0; (sec = config_section_nth(cfg, "pool", i)) != NULL; i++)
		total += (int)(config_sec_int(sec, "max") * config_sec_int(sec, "slots"));
	return total;
}
