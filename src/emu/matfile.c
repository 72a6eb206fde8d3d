/* MatFile output: a MAT v5 file with Time (1 x points) and Values (signals x points), written by matio. */
#include "autoconf.h"

#include <errno.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/circuits.h"
#include "emu/emu.h"
#include "util/buf.h"
#include "util/xalloc.h"

static bool write_var(mat_t *mat, const char *name, size_t rows, size_t cols, double *data)
{
	size_t dims[2] = {rows, cols};
	matvar_t *var = Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, data, MAT_F_DONT_COPY_DATA);
	bool ok = var && Mat_VarWrite(mat, var, MAT_COMPRESSION_NONE) == 0;

	if (var)
		Mat_VarFree(var);
	return ok;
}

bool emu_matfile(const struct emu_result *r, char **data, size_t *len, char **err)
{
	const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path = xasprintf("%s/plecs-emu-XXXXXX.mat", tmpdir);
	int fd = mkstemps(path, 4);
	double *values = NULL;
	mat_t *mat = NULL;
	bool ok = false;

	if (fd < 0) {
		*err = xasprintf("cannot create a temporary file in %s: %s", tmpdir, strerror(errno));
		free(path);
		return false;
	}
	close(fd);
	/* MAT files are column-major: Values(s, i) is at s + i * signals. */
	values = xcalloc(r->points * r->signals + 1, sizeof *values);
	for (size_t s = 0; s < r->signals; s++)
		for (size_t i = 0; i < r->points; i++)
			values[s + i * r->signals] = r->values[s * r->points + i];
	mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
	if (mat && write_var(mat, "Time", 1, r->points, r->time) &&
	    write_var(mat, "Values", r->signals, r->points, values)) {
		Mat_Close(mat);
		mat = NULL;
		FILE *fp = fopen(path, "rb");
		struct buf b = BUF_INIT;
		char chunk[65536];
		size_t n;

		while (fp && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
			buf_add(&b, chunk, n);
		if (fp && !ferror(fp)) {
			*len = b.len;
			*data = buf_detach(&b);
			ok = true;
		} else {
			*err = xasprintf("cannot read back %s", path);
			buf_free(&b);
		}
		if (fp)
			fclose(fp);
	} else {
		*err = xasprintf("matio could not write %s", path);
	}
	if (mat)
		Mat_Close(mat);
	unlink(path);
	free(path);
	free(values);
	return ok;
}
