#include "autoconf.h"

#include "emu/faults.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

static const char *const names[] = {
#define X(id, name, text) name,
	FAULT_KINDS(X)
#undef X
};

static const char *const helps[] = {
#define X(id, name, text) text,
	FAULT_KINDS(X)
#undef X
};

const char *fault_kind_name(enum fault_kind k)
{
	return k >= 0 && k < FAULT_KIND_COUNT ? names[k] : "none";
}

const char *fault_kind_help(enum fault_kind k)
{
	return k >= 0 && k < FAULT_KIND_COUNT ? helps[k] : "";
}

bool fault_kind_parse(const char *name, enum fault_kind *k)
{
	for (int i = 0; i < FAULT_KIND_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*k = (enum fault_kind)i;
			return true;
		}
	}
	return false;
}

char *fault_kind_list(void)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < FAULT_KIND_COUNT; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", names[i]);
	return buf_detach(&b);
}

void faults_init(struct faults *f, uint64_t seed)
{
	memset(f, 0, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	f->rng = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	if (f->rng == 0)
		f->rng = 1;
}

void faults_destroy(struct faults *f)
{
	xfree(&f->script);
	pthread_mutex_destroy(&f->lock);
}

bool faults_parse_rate(struct faults *f, const char *spec, char **err)
{
	const char *eq = strchr(spec, '=');
	char *kind, *end;
	enum fault_kind k;
	double rate;

	if (eq == NULL) {
		*err = xasprintf("--fault %s: expected KIND=RATE, e.g. --fault license=0.05", spec);
		return false;
	}
	kind = xstrndup(spec, (size_t)(eq - spec));
	if (!fault_kind_parse(kind, &k)) {
		char *kinds = fault_kind_list();

		*err = xasprintf("--fault %s: unknown kind \"%s\"; kinds are %s", spec, kind, kinds);
		free(kinds);
		free(kind);
		return false;
	}
	free(kind);
	errno = 0;
	rate = strtod(eq + 1, &end);
	if (end == eq + 1 || *end != '\0' || errno != 0 || !(rate >= 0 && rate <= 1)) {
		*err = xasprintf("--fault %s: the rate must be a number from 0 to 1", spec);
		return false;
	}
	f->rate[k] = rate;
	return true;
}

void faults_inject(struct faults *f, enum fault_kind k, uint64_t count)
{
	pthread_mutex_lock(&f->lock);
	if (k == FAULT_REFUSE) {
		f->refuse_pending += count;
	} else {
		for (uint64_t i = 0; i < count; i++) {
			if (f->nscript == f->capscript) {
				f->capscript = f->capscript ? f->capscript * 2 : 16;
				f->script = xreallocarray(f->script, f->capscript, sizeof *f->script);
			}
			f->script[f->nscript++] = k;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

/* A uniform number in [0, 1) from xorshift64*; call with the lock held. */
static double roll(struct faults *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (double)((f->rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

enum fault_kind faults_next_call(struct faults *f)
{
	enum fault_kind k = FAULT_NONE;

	pthread_mutex_lock(&f->lock);
	if (f->nscript > 0) {
		k = f->script[0];
		memmove(f->script, f->script + 1, (f->nscript - 1) * sizeof *f->script);
		f->nscript--;
	} else {
		for (int i = 0; i < FAULT_KIND_COUNT && k == FAULT_NONE; i++)
			if (i != FAULT_REFUSE && f->rate[i] > 0 && roll(f) < f->rate[i])
				k = (enum fault_kind)i;
	}
	pthread_mutex_unlock(&f->lock);
	return k;
}

bool faults_may_refuse(struct faults *f)
{
	bool may;

	pthread_mutex_lock(&f->lock);
	may = f->refuse_pending > 0 || f->rate[FAULT_REFUSE] > 0;
	pthread_mutex_unlock(&f->lock);
	return may;
}

bool faults_next_connection(struct faults *f)
{
	bool refuse = false;

	pthread_mutex_lock(&f->lock);
	if (f->refuse_pending > 0) {
		f->refuse_pending--;
		refuse = true;
	} else if (f->rate[FAULT_REFUSE] > 0) {
		refuse = roll(f) < f->rate[FAULT_REFUSE];
	}
	pthread_mutex_unlock(&f->lock);
	return refuse;
}

void faults_reset(struct faults *f)
{
	pthread_mutex_lock(&f->lock);
	f->nscript = 0;
	f->refuse_pending = 0;
	pthread_mutex_unlock(&f->lock);
}

uint64_t faults_pending(struct faults *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->lock);
	n = f->nscript + f->refuse_pending;
	pthread_mutex_unlock(&f->lock);
	return n;
}
