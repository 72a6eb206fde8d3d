#include "autoconf.h"

#include "server/view-rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "proto/doubles.h"
#include "proto/xmlout.h"
#include "server/request.h"
#include "util/time.h"
#include "util/xalloc.h"

static void member_time(struct buf *b, const char *name, int64_t ms)
{
	char stamp[TIME_ISO8601_MAX];

	proto_xml_member_string(b, name, ms ? time_iso8601(stamp, ms * 1000000, true) : "");
}

/* The members of a brief task row: what a console draws of a task (view_task has the whole record). */
static void brief_members(struct buf *b, const struct task *t)
{
	proto_xml_member_int(b, "id", t->id);
	proto_xml_member_string(b, "name", t->name ? t->name : "");
	proto_xml_member_string(b, "model", t->model);
	proto_xml_member_string(b, "priority", task_priority_name(t->priority));
	proto_xml_member_string(b, "state", task_state_name(t->state));
	proto_xml_member_int(b, "attempts", t->attempts);
	member_time(b, "submitted", t->submitted);
	member_time(b, "retry_due", t->retry_due);
	proto_xml_member_string(b, "error", t->error ? t->error : "");
	proto_xml_member_brief_vars(b, t->vars);
	/* A cached task's source, even on brief rows: lists say "completed (cached from 12)". */
	if (t->cached)
		proto_xml_member_int(b, "source", t->source);
	proto_xml_member_open(b, "tags");
	buf_adds(b, PROTO_XML_ARRAY_OPEN);
	for (const char *tag = t->tags; tag && *tag;) {
		const char *end = strchr(tag, ',');
		size_t len = end ? (size_t)(end - tag) : strlen(tag);

		if (len) {
			buf_adds(b, "<value><string>");
			proto_xml_text(b, tag, len);
			buf_adds(b, "</string></value>\n");
		}
		tag = end ? end + 1 : NULL;
	}
	buf_adds(b, PROTO_XML_ARRAY_CLOSE);
	proto_xml_member_end(b);
}

static void hash_text(XXH3_state_t *h, const char *s)
{
	/* With its NUL: "ab","c" and "a","bc" differ. */
	XXH3_64bits_update(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* Everything brief_members writes of t, and extra (its position, or when it finished), into h. */
static void hash_task(XXH3_state_t *h, const struct task *t, int64_t extra)
{
	int64_t numbers[] = {t->id, t->priority, t->state, t->attempts, t->submitted, t->retry_due, t->cached,
			     t->source, t->archived, extra};

	XXH3_64bits_update(h, numbers, sizeof numbers);
	hash_text(h, t->name);
	hash_text(h, t->model);
	hash_text(h, t->error);
	hash_text(h, t->vars);
	hash_text(h, t->tags);
}

/* One pass over the rows: each hashed (h set), written (out set), or both. */
struct rows_pass {
	XXH3_state_t *h;
	struct buf *out;
	int64_t room; /* the history's rows still to take */
};

/* Whether the pass writes another row: it writes, and what it wrote is under VIEW_ROWS_BYTES. */
static bool room_for_row(const struct rows_pass *x)
{
	return x->out != NULL && x->out->len < VIEW_ROWS_BYTES;
}

static void queue_row(const struct task *t, int64_t position, void *ud)
{
	struct rows_pass *x = ud;

	if (x->h)
		hash_task(x->h, t, position);
	if (!room_for_row(x))
		return;
	buf_adds(x->out, PROTO_XML_STRUCT_OPEN);
	brief_members(x->out, t);
	proto_xml_member_i8(x->out, "position", position);
	buf_adds(x->out, PROTO_XML_STRUCT_CLOSE "\n");
}

/* A finished task, as the console's history shows it: brief, with when it finished. */
static void history_row(const struct task *t, void *ud)
{
	struct rows_pass *x = ud;

	if (x->room-- <= 0)
		return;
	if (x->h)
		hash_task(x->h, t, t->finished);
	if (!room_for_row(x))
		return;
	buf_adds(x->out, PROTO_XML_STRUCT_OPEN);
	brief_members(x->out, t);
	member_time(x->out, "finished", t->finished);
	proto_xml_member_bool(x->out, "archived", t->archived);
	buf_adds(x->out, PROTO_XML_STRUCT_CLOSE "\n");
}

/* How a page is read: the queue's, or the history's. */
struct rows_source {
	struct engine *e;
	int64_t offset, limit;
	int state;   /* the history's: only tasks in this final state (-1: any) */
	bool queue;
};

static bool read_rows(const struct rows_source *src, struct rows_pass *x, char **err)
{
	x->room = src->limit;
	if (src->queue)
		return engine_queue_page(src->e, (size_t)src->offset, (size_t)src->limit, queue_row, x, err) == ENGINE_OK;
	return engine_history(src->e, src->state, src->offset, src->limit, history_row, x, err) == ENGINE_OK;
}

/*
 * The rows' hash into hash; then, unless since is that hash, the rows written into *out (heap).  The
 * hash is of what the rows are made of, so rows a console holds cost one read and no writing.
 */
static bool rows(const struct rows_source *src, const char *since, char hash[VIEW_HASH_SIZE], struct buf **out,
		 char **err)
{
	XXH3_state_t *h = XXH3_createState();
	/* A console that holds no rows gets them in one pass, hashed as they are written. */
	struct rows_pass x = {.h = h, .out = since[0] ? NULL : xcalloc(1, sizeof *x.out)};
	bool ok;

	XXH3_64bits_reset(h);
	if (x.out)
		buf_adds(x.out, PROTO_XML_ARRAY_OPEN);
	ok = read_rows(src, &x, err);
	snprintf(hash, VIEW_HASH_SIZE, "%016llx", (unsigned long long)XXH3_64bits_digest(h));
	XXH3_freeState(h);
	*out = x.out;
	if (ok && *out == NULL && strcmp(since, hash) == 0)
		return true;
	if (ok && *out == NULL) {
		*out = xcalloc(1, sizeof **out);
		x = (struct rows_pass){.out = *out};
		buf_adds(*out, PROTO_XML_ARRAY_OPEN);
		ok = read_rows(src, &x, err);
	} else if (*out == NULL) {
		*out = xcalloc(1, sizeof **out);
	}
	if (!ok) {
		/* No rows this once, under a hash no console holds. */
		buf_truncate(*out, 0);
		buf_adds(*out, PROTO_XML_ARRAY_OPEN);
		hash[0] = '\0';
	}
	buf_adds(*out, PROTO_XML_ARRAY_CLOSE);
	return ok;
}

bool view_rows_queue(struct engine *e, int64_t offset, int64_t limit, const char *since, char hash[VIEW_HASH_SIZE],
		     struct buf **out, char **err)
{
	struct rows_source src = {.e = e, .offset = offset, .limit = limit, .queue = true};

	return rows(&src, since, hash, out, err);
}

bool view_rows_history(struct engine *e, int state, int64_t offset, int64_t limit, const char *since,
		       char hash[VIEW_HASH_SIZE], struct buf **out, char **err)
{
	struct rows_source src = {.e = e, .offset = offset, .limit = limit, .state = state};

	return rows(&src, since, hash, out, err);
}

void view_rows_free(struct view_rows *rows)
{
	if (rows == NULL)
		return;
	for (struct buf **part = &rows->queue; part <= &rows->history; part++)
		if (*part) {
			buf_free(*part);
			free(*part);
			*part = NULL;
		}
	free(rows);
}

/* A member of rows' written XML, for a tree: a system.multicall's answer is made of values. */
static void set_parsed(xmlrpc_value *tree, const char *name, struct buf *xml)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;

	/* xmlrpc-c reads "0.42" a unit off; "0.42e0" it reads exactly (proto/doubles.h). */
	proto_exact_doubles(xml);
	xmlrpc_env_init(&env);
	xmlrpc_parse_value_xml(&env, xml->data, xml->len, &v);
	if (env.fault_occurred) {
		/* Never: the rows are written as xmlrpc-c reads them.  Were it to happen: no rows, under a hash
		 * no client holds, rather than none at all. */
		char *hash_name = xasprintf("%s_hash", name);
		xmlrpc_value *none;

		xmlrpc_env_clean(&env);
		xmlrpc_env_init(&env);
		v = xmlrpc_array_new(&env);
		none = xmlrpc_string_new(&env, "");
		xmlrpc_struct_set_value(&env, tree, hash_name, none);
		xmlrpc_DECREF(none);
		free(hash_name);
	}
	xmlrpc_struct_set_value(&env, tree, name, v);
	xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
}

/* The whole answer: the tree as xmlrpc-c writes it (each double exact), the rows spliced in before its end. */
static bool write_answer(xmlrpc_value *tree, const struct view_rows *rows, struct buf *out)
{
	xmlrpc_env env;
	xmlrpc_mem_block *mem;
	struct proto_doubles d;
	struct buf value = BUF_INIT;
	static const char end[] = "</struct></value>";
	bool ok;

	xmlrpc_env_init(&env);
	mem = xmlrpc_mem_block_new(&env, 0);
	if (mem)
		xmlrpc_serialize_value2(&env, mem, tree, xmlrpc_dialect_i8);
	ok = !env.fault_occurred;
	if (ok) {
		proto_doubles_of(tree, &d);
		proto_write_doubles(xmlrpc_mem_block_contents(mem), xmlrpc_mem_block_size(mem), &d, &value);
		proto_doubles_free(&d);
	}
	/* The tree is a struct: its text ends with the struct's close. */
	ok = ok && value.len >= sizeof end - 1 && memcmp(value.data + value.len - (sizeof end - 1), end, sizeof end - 1) == 0;
	if (ok) {
		buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param>");
		buf_add(out, value.data, value.len - (sizeof end - 1));
		const char *names[] = {"queue", "history"};
		const struct buf *parts[] = {rows->queue, rows->history};

		for (int i = 0; i < 2; i++)
			if (parts[i]) {
				proto_xml_member_open(out, names[i]);
				buf_add(out, parts[i]->data, parts[i]->len);
				proto_xml_member_end(out);
			}
		buf_adds(out, end);
		buf_adds(out, "</param>\r\n</params>\r\n</methodResponse>\r\n");
	}
	buf_free(&value);
	if (mem)
		xmlrpc_mem_block_free(mem);
	xmlrpc_env_clean(&env);
	return ok;
}

xmlrpc_value *view_rows_finish(xmlrpc_value *result, struct view_rows *rows)
{
	struct buf *xml = xcalloc(1, sizeof *xml);
	xmlrpc_env env;

	if (result && request_single_call() && write_answer(result, rows, xml)) {
		request_answer_xml(xml);
		/* What the registry writes of it is not sent. */
		xmlrpc_DECREF(result);
		xmlrpc_env_init(&env);
		result = xmlrpc_nil_new(&env);
		xmlrpc_env_clean(&env);
	} else {
		buf_free(xml);
		free(xml);
		if (result && rows && rows->queue)
			set_parsed(result, "queue", rows->queue);
		if (result && rows && rows->history)
			set_parsed(result, "history", rows->history);
	}
	view_rows_free(rows);
	return result;
}
