#include "autoconf.h"

#include "plecs/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <jansson.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "proto/proto.h"
#include "util/xalloc.h"

static xmlrpc_value *from_text(xmlrpc_env *env, const char *json, char **err)
{
	json_t *j = json_loads(json ? json : "{}", JSON_DECODE_ANY, NULL);
	xmlrpc_value *v;

	if (j == NULL || !json_is_object(j)) {
		*err = xasprintf("stored options are not a JSON object: %.60s", json ? json : "");
		json_decref(j);
		return NULL;
	}
	v = proto_from_json(env, j);
	json_decref(j);
	if (v == NULL)
		*err = xasprintf("stored options cannot be sent: %s", env->fault_string);
	return v;
}

xmlrpc_value *plecs_opt_struct(xmlrpc_env *env, const char *vars_json, const char *solver_json, double timeout,
			       bool matfile, const char *name, char **err)
{
	xmlrpc_value *opt = xmlrpc_struct_new(env), *vars, *solver, *v;

	vars = from_text(env, vars_json, err);
	if (vars == NULL) {
		xmlrpc_DECREF(opt);
		return NULL;
	}
	solver = from_text(env, solver_json, err);
	if (solver == NULL) {
		xmlrpc_DECREF(vars);
		xmlrpc_DECREF(opt);
		return NULL;
	}
	if (timeout > 0) {
		v = xmlrpc_double_new(env, timeout);
		xmlrpc_struct_set_value(env, solver, "Timeout", v);
		xmlrpc_DECREF(v);
	}
	if (xmlrpc_struct_size(env, vars) > 0)
		xmlrpc_struct_set_value(env, opt, "ModelVars", vars);
	if (xmlrpc_struct_size(env, solver) > 0)
		xmlrpc_struct_set_value(env, opt, "SolverOpts", solver);
	v = xmlrpc_string_new(env, matfile ? "MatFile" : "Plain");
	xmlrpc_struct_set_value(env, opt, "OutputFormat", v);
	xmlrpc_DECREF(v);
	if (name) {
		v = xmlrpc_string_new(env, name);
		xmlrpc_struct_set_value(env, opt, "Name", v);
		xmlrpc_DECREF(v);
	}
	xmlrpc_DECREF(vars);
	xmlrpc_DECREF(solver);
	if (env->fault_occurred) {
		*err = xasprintf("cannot build the simulation options: %s", env->fault_string);
		xmlrpc_DECREF(opt);
		return NULL;
	}
	return opt;
}

/*
 * Reads variable name as doubles of the expected shape; NULL if it is not there or not so.
 * mat_implausible has already checked the headers matio will allocate from.
 */
static double *read_mat_var(mat_t *mat, const char *name, size_t *rows, size_t *cols)
{
	matvar_t *info = Mat_VarReadInfo(mat, name), *var = NULL;
	double *data = NULL;

	if (info == NULL || info->rank != 2 || info->class_type != MAT_C_DOUBLE || info->isComplex ||
	    info->dims == NULL) {
		if (info)
			Mat_VarFree(info);
		return NULL;
	}
	bool empty = info->dims[0] == 0 || info->dims[1] == 0;

	Mat_VarFree(info);
	if (empty)
		return NULL;
	var = Mat_VarRead(mat, name);

	if (var && var->rank == 2 && var->class_type == MAT_C_DOUBLE && var->data_type == MAT_T_DOUBLE &&
	    !var->isComplex && var->data) {
		*rows = var->dims[0];
		*cols = var->dims[1];
		data = xcalloc(*rows * *cols + 1, sizeof *data);
		memcpy(data, var->data, *rows * *cols * sizeof *data);
	}
	if (var)
		Mat_VarFree(var);
	return data;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum { MI_INT32 = 5, MI_UINT32 = 6, MI_MATRIX = 14, MI_COMPRESSED = 15 };

/*
 * An miMATRIX's first sub-elements: flags, rank-2 dimensions whose numbers fit
 * in size bytes, then a name that fits too. Returns what is wrong, or NULL.
 */
static const char *matrix_implausible(const unsigned char *p, size_t avail, uint64_t size)
{
	if (avail < 40 || size < 40 || rd32(p) != MI_UINT32 || rd32(p + 4) != 8)
		return "a matrix lacks its array flags";
	if (rd32(p + 16) != MI_INT32 || rd32(p + 20) != 8)
		return "a matrix is not two-dimensional";
	if ((uint64_t)rd32(p + 24) * rd32(p + 28) * 8 > size)
		return "a matrix declares more numbers than its bytes hold";
	if (!(rd32(p + 32) >> 16) && rd32(p + 36) > size - 40)
		return "a matrix's name is longer than the matrix";
	return NULL;
}

/*
 * A cheap look at MAT v5 bytes before matio reads them: matio allocates what
 * the headers declare, so each element must fit in the file and each matrix
 * be of rank 2 with no more numbers, or name bytes, than it holds (zlib
 * included). Returns what is wrong, or NULL.
 */
static const char *mat_implausible(const unsigned char *b, size_t len)
{
	size_t off = 128;
	const char *why;

	if (len < 136 || b[126] != 'I' || b[127] != 'M')
		return "it lacks the 128-byte MAT v5 header";
	while (off + 8 <= len) {
		uint32_t type = rd32(b + off), size = rd32(b + off + 4);

		if (type >> 16) { /* a small element: its data sits in the tag */
			off += 8;
			continue;
		}
		if (size > len - off - 8)
			return "an element runs past the end of the file";
		if (type == MI_MATRIX && (why = matrix_implausible(b + off + 8, size, size)))
			return why;
		if (type == MI_COMPRESSED) {
			unsigned char head[48];
			z_stream z = {.next_in = (unsigned char *)b + off + 8, .avail_in = size, .next_out = head,
				      .avail_out = sizeof head};

			if (inflateInit(&z) != Z_OK)
				return "zlib cannot start";
			int rc = inflate(&z, Z_SYNC_FLUSH);

			inflateEnd(&z);
			if ((rc != Z_OK && rc != Z_STREAM_END) || z.avail_out != 0 || rd32(head) != MI_MATRIX)
				return "a compressed element does not inflate to a matrix";
			/* zlib shrinks by at most about a thousand times. */
			if ((uint64_t)rd32(head + 4) > (uint64_t)size * 1100)
				return "a compressed matrix declares more than zlib could hold";
			if ((why = matrix_implausible(head + 8, sizeof head - 8, rd32(head + 4))))
				return why;
			off += 8 + size;
			continue;
		}
		off += 8 + ((size + 7) & ~(size_t)7);
	}
	return NULL;
}

bool plecs_decode_mat(const unsigned char *bytes, size_t len, struct result_data *out, char **err)
{
	const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path = xasprintf("%s/simq-result-XXXXXX", tmpdir);
	int fd = mkostemp(path, O_CLOEXEC);
	mat_t *mat = NULL;
	double *time = NULL, *values = NULL;
	size_t trows = 0, tcols = 0, vrows = 0, vcols = 0;
	bool ok = false;

	const char *why;

	memset(out, 0, sizeof *out);
	if ((why = mat_implausible(bytes, len))) {
		*err = xasprintf("PLECS's MatFile result is not a MAT v5 file of Time and Values: %s", why);
		if (fd >= 0)
			close(fd);
		unlink(path);
		free(path);
		return false;
	}
	if (fd < 0 || write(fd, bytes, len) != (ssize_t)len) {
		*err = xasprintf("cannot write a temporary file in %s: %s", tmpdir, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	mat = len >= 128 ? Mat_Open(path, MAT_ACC_RDONLY) : NULL;
	if (mat == NULL) {
		*err = xstrdup("PLECS's MatFile result is not a MAT file");
		goto out;
	}
	time = read_mat_var(mat, "Time", &trows, &tcols);
	values = read_mat_var(mat, "Values", &vrows, &vcols);
	if (time == NULL || values == NULL || trows != 1 || vcols != tcols) {
		*err = xstrdup("PLECS's MAT file lacks Time (1 x n) and Values (signals x n)");
		goto out;
	}
	out->points = tcols;
	out->signals = vrows;
	out->time = time;
	out->values = xcalloc(vrows * vcols + 1, sizeof *out->values);
	/* MAT is column-major: Values(s, i) is at s + i * signals. */
	for (size_t s = 0; s < vrows; s++)
		for (size_t i = 0; i < vcols; i++)
			out->values[s * vcols + i] = values[s + i * vrows];
	out->summary = xcalloc(vrows + 1, sizeof *out->summary);
	for (size_t s = 0; s < vrows; s++)
		result_summarize(out, s, &out->summary[s]);
	time = NULL;
	ok = true;
out:
	if (mat)
		Mat_Close(mat);
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(path);
	free(time);
	free(values);
	return ok;
}
