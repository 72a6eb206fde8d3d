/*
 * cachekey — what makes two runs the same: the result cache's key (DESIGN 7).
 *
 * A key is XXH3-128 (libxxhash) over a format version and the parts of a
 * run that decide its result: the model file's bytes (not its path), the
 * ModelVars and SolverOpts in canonical form, the OutputFormat the backend
 * asks for ("plain" or "matfile") and the backend's PLECS version ("none":
 * neither PLECS's RPC methods of DESIGN 13 nor plecs-emu report one).  The
 * canonical form sorts an object's names and writes every number as the
 * shortest text that reads back as the same double, an integer and a real
 * of one value alike (PLECS takes both as that double): 0.42, 0.42e0 and
 * 0.41999999999999998 are one value; 0.42000000000000004 is the next double
 * up, another value and another key.  A task's own Timeout is not part of
 * the key (it bounds the wall time, not the result), nor its Name.
 *
 * A model file is hashed once per identity (device, inode, size, mtime and
 * ctime in ns): struct cachekey_files remembers the last CACHEKEY_FILES
 * files, so a 10,000-task sweep reads its model once.  An edit that keeps
 * the size and puts the mtime back (cp -p, rsync -a, touch -d) still moves
 * ctime, which no call but a change of the system clock can set; a file
 * whose ctime was less than CACHEKEY_RACY_MS old when it was read is not
 * remembered (a second change in the same tick of the ctime clock could
 * keep all five), so it is read again until it is older.  Loop thread only
 * (struct cachekey_files); the other functions are pure.
 */
#ifndef SIMQ_ENGINE_CACHEKEY_H
#define SIMQ_ENGINE_CACHEKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Bumped when what the key covers changes: old entries then simply miss. */
#define CACHEKEY_FORMAT 1
/* A key or a file's hash: 32 lower-case hex digits and a NUL. */
#define CACHEKEY_HEX 33
/* The PLECS version of a backend that reports none. */
#define CACHEKEY_NO_VERSION "none"
/* Model files whose hash is remembered. */
#define CACHEKEY_FILES 64
/* A file changed less than this long before it was read is read again next time. */
#define CACHEKEY_RACY_MS 2000

/* The parts of a run's key, kept with its result for simq cache why. */
struct cachekey_parts {
	char *model;          /* the model file's path when it ran (not in the key) */
	char *model_bytes;    /* XXH3-128 of the file's bytes, hex */
	int64_t model_mtime;  /* the file's mtime, wall ms (not in the key) */
	char *vars;           /* canonical ModelVars */
	char *solver;         /* canonical SolverOpts */
	char *output;         /* "plain" or "matfile" */
	char *plecs;          /* the backend's PLECS version, or CACHEKEY_NO_VERSION */
	int64_t created;      /* when the result was made, wall ms (not in the key) */
};

void cachekey_parts_free(struct cachekey_parts *p);
/* A deep copy of from into to. */
void cachekey_parts_copy(struct cachekey_parts *to, const struct cachekey_parts *from);
/* The key of p (model_bytes, vars, solver, output and plecs set): 32 hex digits in out. */
void cachekey_of(const struct cachekey_parts *p, char out[CACHEKEY_HEX]);

/*
 * The canonical form of JSON text (heap): names sorted, no blanks, numbers as above.  Text that
 * is not JSON comes back as it is (a key of its exact bytes).
 */
char *cachekey_canonical(const char *json);
/* One member of a canonical object: its name and value as text (pointers into the object). */
struct cachekey_member {
	const char *name, *value;
	size_t name_len, value_len;
};
/* The members of canonical object text, in order (*out heap, NULL when none); their count. */
size_t cachekey_members(const char *json, struct cachekey_member **out);

struct cachekey_files;

/* racy_ms: CACHEKEY_RACY_MS (a test of files just written gives 0). */
struct cachekey_files *cachekey_files_new(int64_t racy_ms);
void cachekey_files_free(struct cachekey_files **f);
/* Files hashed (read whole) so far: a test's and a benchmark's check that a sweep reads its model once. */
uint64_t cachekey_files_reads(const struct cachekey_files *f);
/*
 * The hash of model's bytes (stat in st, or NULL: stat here), read from the file or remembered,
 * and its mtime; false and *err (heap) when it cannot be read.
 */
bool cachekey_file(struct cachekey_files *f, const char *model, const struct stat *st, char hash[CACHEKEY_HEX],
		   int64_t *mtime_ms, char **err);
/* The parts of running model (its bytes' hash and mtime known) with vars, solver, output and plecs. */
void cachekey_parts_of(const char *model, const char *hash, int64_t mtime_ms, const char *vars, const char *solver,
		       const char *output, const char *plecs, struct cachekey_parts *out);
/*
 * The parts of running model (stat in st, or NULL: stat here) with vars, solver, output and plecs;
 * model_bytes is read from the file or remembered.  False and *err (heap) when the file cannot be
 * read: such a task has no key, and runs.
 */
bool cachekey_parts_for(struct cachekey_files *f, const char *model, const struct stat *st, const char *vars,
			const char *solver, const char *output, const char *plecs, struct cachekey_parts *out,
			char **err);

#endif
