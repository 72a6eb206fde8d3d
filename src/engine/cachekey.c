#include "autoconf.h"

#include "engine/cachekey.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "util/buf.h"
#include "util/xalloc.h"

/* JSON nested deeper than this is hashed as its exact text (the API allows 64 levels). */
#define MAX_DEPTH 200

void cachekey_parts_free(struct cachekey_parts *p)
{
	xfree(&p->model);
	xfree(&p->model_bytes);
	xfree(&p->vars);
	xfree(&p->solver);
	xfree(&p->output);
	xfree(&p->plecs);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void cachekey_parts_copy(struct cachekey_parts *to, const struct cachekey_parts *from)
{
	*to = (struct cachekey_parts){.model = dup_or_null(from->model), .model_bytes = dup_or_null(from->model_bytes),
				      .model_mtime = from->model_mtime, .vars = dup_or_null(from->vars),
				      .solver = dup_or_null(from->solver), .output = dup_or_null(from->output),
				      .plecs = dup_or_null(from->plecs), .created = from->created};
}

static void hex128(XXH128_hash_t h, char out[CACHEKEY_HEX])
{
	snprintf(out, CACHEKEY_HEX, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* Each part goes in with its name and a NUL after it, so no two lists of parts hash alike. */
static void add_part(XXH3_state_t *st, const char *name, const char *value)
{
	XXH3_128bits_update(st, name, strlen(name) + 1);
	XXH3_128bits_update(st, value ? value : "", strlen(value ? value : "") + 1);
}

void cachekey_of(const struct cachekey_parts *p, char out[CACHEKEY_HEX])
{
	XXH3_state_t *st = XXH3_createState();
	char format[16];

	if (st == NULL)
		abort();
	XXH3_128bits_reset(st);
	snprintf(format, sizeof format, "%d", CACHEKEY_FORMAT);
	add_part(st, "simq-cache", format);
	add_part(st, "model", p->model_bytes);
	add_part(st, "vars", p->vars);
	add_part(st, "solver", p->solver);
	add_part(st, "output", p->output);
	add_part(st, "plecs", p->plecs);
	hex128(XXH3_128bits_digest(st), out);
	XXH3_freeState(st);
}

/* ---- canonical JSON ------------------------------------------------------------------------- */

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The end of the string token at p (its opening quote), or NULL. */
static const char *string_end(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && *++p == '\0')
			return NULL;
	return *p == '"' ? p + 1 : NULL;
}

/* The shortest text that reads back as exactly x: "0.42", "1e+20"; a whole number below 2^53 in digits, "400". */
static void add_number(struct buf *out, double x)
{
	char text[40];

	if (x == trunc(x) && fabs(x) < 9007199254740992.0) {
		buf_addf(out, "%.0f", x);
		return;
	}
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(text, sizeof text, "%.*g", digits, x);
		if (strtod(text, NULL) == x)
			break;
	}
	buf_adds(out, text);
}

static const char *canon_value(const char *p, struct buf *out, int depth);

struct member_text {
	char *name;   /* the name's token, quotes included */
	char *value;  /* its canonical value */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct member_text *)a)->name, ((const struct member_text *)b)->name);
}

static void free_members(struct member_text *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].value);
	}
	free(m);
}

/* An object at p ('{'): its members sorted by name.  The end of it, or NULL. */
static const char *canon_object(const char *p, struct buf *out, int depth)
{
	struct member_text *m = NULL;
	size_t n = 0, cap = 0;

	p = skip_blanks(p + 1);
	while (p && *p != '}') {
		const char *name = p, *end = *p == '"' ? string_end(p) : NULL;
		struct buf v = BUF_INIT;

		if (end == NULL || *(p = skip_blanks(end)) != ':' || !(p = canon_value(skip_blanks(p + 1), &v, depth))) {
			buf_free(&v);
			free_members(m, n);
			return NULL;
		}
		if (n == cap)
			m = xreallocarray(m, cap = cap ? 2 * cap : 8, sizeof *m);
		m[n].name = xstrndup(name, (size_t)(end - name));
		m[n++].value = buf_detach(&v);
		p = skip_blanks(p);
		if (*p == ',')
			p = skip_blanks(p + 1);
		else if (*p != '}')
			p = NULL;
	}
	if (p) {
		if (n > 1)
			qsort(m, n, sizeof *m, by_name);
		buf_addc(out, '{');
		for (size_t i = 0; i < n; i++)
			buf_addf(out, "%s%s:%s", i ? "," : "", m[i].name, m[i].value);
		buf_addc(out, '}');
		p++;
	}
	free_members(m, n);
	return p;
}

/* An array at p ('['): its elements canonical, in order.  The end of it, or NULL. */
static const char *canon_array(const char *p, struct buf *out, int depth)
{
	bool first = true;

	buf_addc(out, '[');
	p = skip_blanks(p + 1);
	while (p && *p != ']') {
		if (!first)
			buf_addc(out, ',');
		first = false;
		p = canon_value(p, out, depth);
		if (p == NULL)
			return NULL;
		p = skip_blanks(p);
		if (*p == ',')
			p = skip_blanks(p + 1);
		else if (*p != ']')
			return NULL;
	}
	if (p)
		buf_addc(out, ']');
	return p ? p + 1 : NULL;
}

/* A number at p: the shortest text of its double.  The end of it, or NULL. */
static const char *canon_number(const char *p, struct buf *out)
{
	size_t len = strspn(p, "+-0123456789.eE");
	char *text = xstrndup(p, len), *end;
	double x;

	errno = 0;
	x = strtod(text, &end);
	if (len == 0 || *end != '\0' || errno == ERANGE) {
		free(text);
		return NULL;
	}
	free(text);
	add_number(out, x);
	return p + len;
}

/* The value at p in canonical form appended to out; the end of it, or NULL when it is not JSON. */
static const char *canon_value(const char *p, struct buf *out, int depth)
{
	static const char *const words[] = {"true", "false", "null"};
	const char *end;

	if (depth >= MAX_DEPTH)
		return NULL;
	if (*p == '{')
		return canon_object(p, out, depth + 1);
	if (*p == '[')
		return canon_array(p, out, depth + 1);
	if (*p == '"') {
		if ((end = string_end(p)) != NULL)
			buf_add(out, p, (size_t)(end - p));
		return end;
	}
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i]);

		if (strncmp(p, words[i], n) == 0) {
			buf_add(out, p, n);
			return p + n;
		}
	}
	return canon_number(p, out);
}

char *cachekey_canonical(const char *json)
{
	struct buf out = BUF_INIT;
	const char *end = canon_value(skip_blanks(json), &out, 0);

	if (end == NULL || *skip_blanks(end) != '\0') {
		buf_free(&out);
		return xstrdup(json);
	}
	return buf_detach(&out);
}

size_t cachekey_members(const char *json, struct cachekey_member **out)
{
	const char *p = skip_blanks(json);
	size_t n = 0, cap = 0;

	*out = NULL;
	if (*p != '{')
		return 0;
	p = skip_blanks(p + 1);
	while (*p == '"') {
		const char *name_end = string_end(p), *value;
		struct buf ignored = BUF_INIT;

		if (name_end == NULL || *(value = skip_blanks(name_end)) != ':')
			break;
		value = skip_blanks(value + 1);
		const char *end = canon_value(value, &ignored, 0);

		buf_free(&ignored);
		if (end == NULL)
			break;
		if (n == cap)
			*out = xreallocarray(*out, cap = cap ? 2 * cap : 8, sizeof **out);
		(*out)[n++] = (struct cachekey_member){.name = p + 1, .name_len = (size_t)(name_end - p - 2),
						       .value = value, .value_len = (size_t)(end - value)};
		p = skip_blanks(end);
		if (*p == ',')
			p = skip_blanks(p + 1);
	}
	return n;
}

/* ---- model files ------------------------------------------------------------------------------ */

struct known_file {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char hash[CACHEKEY_HEX];
};

struct cachekey_files {
	struct known_file known[CACHEKEY_FILES];
	size_t n, next;              /* entries in use; the one replaced next when all are */
	uint64_t reads;
	int64_t racy_ns;             /* a file changed this recently when read is not remembered */
};

struct cachekey_files *cachekey_files_new(int64_t racy_ms)
{
	struct cachekey_files *f = xcalloc(1, sizeof *f);

	f->racy_ns = racy_ms * 1000000;
	return f;
}

void cachekey_files_free(struct cachekey_files **f)
{
	xfree(f);
}

uint64_t cachekey_files_reads(const struct cachekey_files *f)
{
	return f->reads;
}

static bool same_file(const struct known_file *k, const struct stat *st)
{
	return k->dev == st->st_dev && k->ino == st->st_ino && k->size == st->st_size &&
	       k->mtime.tv_sec == st->st_mtim.tv_sec && k->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       k->ctime.tv_sec == st->st_ctim.tv_sec && k->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* XXH3-128 of the file's bytes into out; false and *err. */
static bool hash_file(const char *path, char out[CACHEKEY_HEX], char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	XXH3_state_t *st;
	char block[65536];
	ssize_t got;

	if (fd < 0) {
		*err = xasprintf("cannot read the model %s: %s", path, strerror(errno));
		return false;
	}
	st = XXH3_createState();
	if (st == NULL)
		abort();
	XXH3_128bits_reset(st);
	while ((got = read(fd, block, sizeof block)) > 0 || (got < 0 && errno == EINTR))
		if (got > 0)
			XXH3_128bits_update(st, block, (size_t)got);
	if (got < 0)
		*err = xasprintf("cannot read the model %s: %s", path, strerror(errno));
	else
		hex128(XXH3_128bits_digest(st), out);
	XXH3_freeState(st);
	close(fd);
	return got == 0;
}

/* The hash of the file path as it is in *st: remembered, or read now. */
static bool file_hash(struct cachekey_files *f, const char *path, const struct stat *st, char out[CACHEKEY_HEX],
		      char **err)
{
	struct known_file *k;

	for (size_t i = 0; i < f->n; i++) {
		if (same_file(&f->known[i], st)) {
			memcpy(out, f->known[i].hash, CACHEKEY_HEX);
			return true;
		}
	}
	if (!S_ISREG(st->st_mode)) {
		*err = xasprintf("the model %s is not a regular file", path);
		return false;
	}
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!hash_file(path, out, err))
		return false;
	f->reads++;
	/*
	 * A change stamps ctime from a clock that ticks in milliseconds (seconds on some file
	 * systems): one made just after this read, in the tick of the change before it, could leave
	 * size, mtime (touch -d) and ctime all as they are.  Such a file is read again next time.
	 */
	if ((int64_t)(now.tv_sec - st->st_ctim.tv_sec) * 1000000000 + (now.tv_nsec - st->st_ctim.tv_nsec) < f->racy_ns)
		return true;
	k = f->n < CACHEKEY_FILES ? &f->known[f->n++] : &f->known[f->next++ % CACHEKEY_FILES];
	*k = (struct known_file){.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim,
				 .ctime = st->st_ctim};
	memcpy(k->hash, out, CACHEKEY_HEX);
	return true;
}

bool cachekey_file(struct cachekey_files *f, const char *model, const struct stat *st, char hash[CACHEKEY_HEX],
		   int64_t *mtime_ms, char **err)
{
	struct stat own;

	if (st == NULL || st->st_ino == 0) {
		if (stat(model, &own) != 0) {
			*err = xasprintf("cannot read the model %s: %s", model, strerror(errno));
			return false;
		}
		st = &own;
	}
	*mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
	return file_hash(f, model, st, hash, err);
}

void cachekey_parts_of(const char *model, const char *hash, int64_t mtime_ms, const char *vars, const char *solver,
		       const char *output, const char *plecs, struct cachekey_parts *out)
{
	memset(out, 0, sizeof *out);
	out->model = xstrdup(model);
	out->model_bytes = xstrdup(hash);
	out->model_mtime = mtime_ms;
	out->vars = cachekey_canonical(vars ? vars : "{}");
	out->solver = cachekey_canonical(solver ? solver : "{}");
	out->output = xstrdup(output);
	out->plecs = xstrdup(plecs ? plecs : CACHEKEY_NO_VERSION);
}

bool cachekey_parts_for(struct cachekey_files *f, const char *model, const struct stat *st, const char *vars,
			const char *solver, const char *output, const char *plecs, struct cachekey_parts *out,
			char **err)
{
	char hash[CACHEKEY_HEX];
	int64_t mtime;

	memset(out, 0, sizeof *out);
	if (!cachekey_file(f, model, st, hash, &mtime, err))
		return false;
	cachekey_parts_of(model, hash, mtime, vars, solver, output, plecs, out);
	return true;
}
