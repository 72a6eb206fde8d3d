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
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "proto/doubles.h"
#include "proto/xmlout.h"
#include "util/buf.h"
#include "util/fds.h"
#include "util/xalloc.h"

/* A case's stored options (vars or solver) as JSON, or NULL and *err when they are not an object. */
static json_t *stored_object(const char *json, char **err)
{
	json_t *j = json_loads(json ? json : "{}", JSON_DECODE_ANY, NULL);

	if (j == NULL || !json_is_object(j)) {
		*err = xasprintf("stored options are not a JSON object: %.60s", json ? json : "");
		json_decref(j);
		return NULL;
	}
	return j;
}

static void add_double_member(struct buf *b, const char *name, double v)
{
	proto_xml_member_open(b, name);
	buf_adds(b, "<value><double>");
	proto_add_double(b, v);
	buf_adds(b, "</double></value>");
	proto_xml_member_end(b);
}

/* SolverOpts: the stored ones, with Timeout in its place or after them; nothing when that is nothing. */
static void add_solver(struct buf *b, json_t *solver, double timeout)
{
	bool timed = timeout > 0, put = false;
	const char *key;
	json_t *val;

	if (json_object_size(solver) == 0 && !timed)
		return;
	proto_xml_member_open(b, "SolverOpts");
	buf_adds(b, PROTO_XML_STRUCT_OPEN);
	json_object_foreach(solver, key, val)
	{
		if (timed && strcmp(key, "Timeout") == 0) {
			add_double_member(b, key, timeout);
			put = true;
			continue;
		}
		proto_xml_member_open(b, key);
		proto_xml_json(b, val);
		proto_xml_member_end(b);
	}
	if (timed && !put)
		add_double_member(b, "Timeout", timeout);
	buf_adds(b, PROTO_XML_STRUCT_CLOSE);
	proto_xml_member_end(b);
}

/* One case's optStruct: ModelVars (when there are any), SolverOpts, OutputFormat, Name. */
static bool add_opt_struct(struct buf *b, const struct backend_case *c, bool matfile, char **err)
{
	json_t *vars = stored_object(c->vars, err), *solver = vars ? stored_object(c->solver, err) : NULL;

	if (solver == NULL) {
		json_decref(vars);
		return false;
	}
	buf_adds(b, PROTO_XML_STRUCT_OPEN);
	if (json_object_size(vars) > 0) {
		proto_xml_member_open(b, "ModelVars");
		proto_xml_json(b, vars);
		proto_xml_member_end(b);
	}
	add_solver(b, solver, c->timeout);
	proto_xml_member_string(b, "OutputFormat", matfile ? "MatFile" : "Plain");
	if (c->name[0])
		proto_xml_member_string(b, "Name", c->name);
	buf_adds(b, PROTO_XML_STRUCT_CLOSE);
	json_decref(vars);
	json_decref(solver);
	return true;
}

bool plecs_simulate_body(struct buf *out, const struct backend_call *bc, char **err)
{
	size_t n = bc->as_list ? bc->ncases : 1;

	buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall>\n"
		      "<methodName>plecs.simulate</methodName>\n<params>\n<param>");
	proto_xml_string(out, bc->model_name);
	buf_adds(out, "</param>\n<param>");
	if (bc->as_list)
		buf_adds(out, PROTO_XML_ARRAY_OPEN);
	for (size_t i = 0; i < n; i++) {
		if (!add_opt_struct(out, &bc->cases[i], bc->matfile, err))
			return false;
		if (bc->as_list)
			buf_addc(out, '\n');
	}
	if (bc->as_list)
		buf_adds(out, PROTO_XML_ARRAY_CLOSE);
	buf_adds(out, "</param>\n</params>\n</methodCall>\n");
	return true;
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

/*
 * matio reads only from a path: the bytes go to a memfd (memory, never a file on disk to make and
 * remove for every case) that matio opens through /proc/self/fd.
 */
bool plecs_decode_mat(const unsigned char *bytes, size_t len, struct result_data *out, char **err)
{
	int fd = -1;
	char path[64];
	mat_t *mat = NULL;
	double *time = NULL, *values = NULL;
	size_t trows = 0, tcols = 0, vrows = 0, vcols = 0;
	bool ok = false;

	const char *why;

	memset(out, 0, sizeof *out);
	if ((why = mat_implausible(bytes, len))) {
		*err = xasprintf("PLECS's MatFile result is not a MAT v5 file of Time and Values: %s", why);
		return false;
	}
	fd = memfd_create("simq-answer", MFD_CLOEXEC);
	if (fd < 0 || !fds_write_all(fd, bytes, len)) {
		*err = xasprintf("cannot hold PLECS's MAT file in memory: %s", strerror(errno));
		goto out;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	mat = len >= 128 ? Mat_Open(path, MAT_ACC_RDONLY) : NULL;
	if (mat == NULL) {
		*err = xasprintf("PLECS's MatFile result is not a MAT file (or matio cannot open %s: is /proc mounted?)",
				 path);
		goto out;
	}
	time = read_mat_var(mat, "Time", &trows, &tcols);
	values = read_mat_var(mat, "Values", &vrows, &vcols);
	if (time == NULL || values == NULL || trows != 1 || vcols != tcols) {
		*err = xstrdup("PLECS's MAT file lacks Time (1 x n) and Values (signals x n)");
		goto out;
	}
	result_data_from_mat(out, time, tcols, values, vrows);
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
	free(time);
	free(values);
	return ok;
}
