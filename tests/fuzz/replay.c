/*
 * replay — a fuzz target built as a plain program (without libFuzzer): it feeds the target every
 * file of its corpus, tests/fuzz/corpus/CORPUS (or the directories and files given), and prints
 * one TAP line each, so that make check replays the corpora as regression tests.  A crash, a
 * sanitizer report or a leak fails the test; each input is in a buffer of its exact size, so a
 * read past its end is caught under ASan as it would be by libFuzzer.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_run;

/* Reads path whole into a buffer of its exact size (at least 1 byte, never read). */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data;
	struct stat st;

	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		if (fp)
			fclose(fp);
		return NULL;
	}
	*size = (size_t)st.st_size;
	data = malloc(*size ? *size : 1);
	if (data && *size && fread(data, 1, *size, fp) != *size) {
		free(data);
		data = NULL;
	}
	fclose(fp);
	return data;
}

static int replay_file(const char *path)
{
	size_t size = 0;
	uint8_t *data = slurp(path, &size);

	n_run++;
	if (data == NULL) {
		printf("not ok %d - %s: cannot read it: %s\n", n_run, path, strerror(errno));
		return 1;
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	printf("ok %d - %s (%zu bytes)\n", n_run, path, size);
	fflush(stdout);
	return 0;
}

/* The regular files of dir, by name; *n gets how many.  NULL when dir cannot be read. */
static char **files_of(const char *dir, int *n)
{
	struct dirent **names;
	int m = scandir(dir, &names, NULL, alphasort);
	char **out;

	*n = 0;
	if (m < 0)
		return NULL;
	out = calloc((size_t)m + 1, sizeof *out);
	for (int i = 0; i < m; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(len);
		struct stat st;

		snprintf(path, len, "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			out[(*n)++] = path;
		else
			free(path);
		free(names[i]);
	}
	free(names);
	return out;
}

int main(int argc, char **argv)
{
	const char *src = getenv("SIMQ_SRCDIR");
	char corpus[4096];
	int failed = 0, total = 0, n;
	char **files[64] = {NULL};
	int counts[64] = {0};
	const char *dirs[64];
	int ndirs = 0;

	if (argc > 1) {
		for (int i = 1; i < argc && ndirs < 64; i++)
			dirs[ndirs++] = argv[i];
	} else {
		snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus/%s", src && *src ? src : ".", CORPUS);
		dirs[ndirs++] = corpus;
	}
	/* The plan first: count every input. */
	for (int i = 0; i < ndirs; i++) {
		struct stat st;

		if (stat(dirs[i], &st) == 0 && S_ISREG(st.st_mode)) {
			files[i] = calloc(2, sizeof *files[i]);
			files[i][0] = strdup(dirs[i]);
			counts[i] = 1;
		} else if ((files[i] = files_of(dirs[i], &n)) == NULL || n == 0) {
			printf("1..1\nnot ok 1 - %s: no corpus there\n", dirs[i]);
			return 1;
		} else {
			counts[i] = n;
		}
		total += counts[i];
	}
	printf("1..%d\n", total);
	for (int i = 0; i < ndirs; i++) {
		for (int k = 0; k < counts[i]; k++) {
			failed += replay_file(files[i][k]);
			free(files[i][k]);
		}
		free(files[i]);
	}
	return failed ? 1 : 0;
}
