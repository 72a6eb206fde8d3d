/*
 * view-rows — the rows of simq.view (the queue page, the history pane) written
 * as XML, and the view's answer put together from them and the rest.
 *
 * A console asks for its view several times a second, and its 50 queue rows
 * were most of the answer's bytes and of its cost: as xmlrpc-c values they
 * took a malloc and a mutex per member, to build and again to write.  Here
 * the loop thread writes them straight into a buffer (proto/xmlout.h).  It
 * hashes what they are made of first: a console that sends back the hash of
 * the rows it holds (queue_since, history_since) gets them left out when
 * they are the same, and the server writes nothing of them.
 * The connection's thread then writes the answer: the rest of the view as
 * xmlrpc-c writes it, these rows after it (view_rows_finish).  Declares no
 * API type: server/api.c hands these over.
 */
#ifndef SIMQ_SERVER_VIEW_ROWS_H
#define SIMQ_SERVER_VIEW_ROWS_H

#include <stdbool.h>
#include <xmlrpc-c/base.h>

#include "engine/engine.h"
#include "util/buf.h"

/* Room for a hash of rows as the answer gives it (16 hex digits) and its NUL. */
#define VIEW_HASH_SIZE 17
/* The rows a page writes end once they pass this many bytes (brief rows are a few hundred each; a page of
 * tasks with hundreds of long string vars comes shorter than asked, never hundreds of MB). */
#define VIEW_ROWS_BYTES (8u * 1024 * 1024)

/* A view's rows, written; NULL parts were not asked for or are left out. */
struct view_rows {
	struct buf *queue;   /* <value><array>...</array></value> */
	struct buf *history;
};

/*
 * A page of the queue in its order, as the console's queue pane shows it: its hash into hash and, unless
 * since is that hash, its rows written into *out (heap; NULL when left out).  False and *err when the
 * store cannot be read (*out then holds no rows).
 */
bool view_rows_queue(struct engine *e, int64_t offset, int64_t limit, const char *since, char hash[VIEW_HASH_SIZE],
		     struct buf **out, char **err);
/* The newest finished tasks (engine_history's), as view_rows_queue gives the queue's. */
bool view_rows_history(struct engine *e, int state, int64_t offset, int64_t limit, const char *since,
		       char hash[VIEW_HASH_SIZE], struct buf **out, char **err);
/*
 * Connection thread: the answer to give for the view tree result (NULL after a fault) and its rows
 * (freed).  For a call of simq.view alone the answer is written here, the tree's members and then
 * the rows (request_answer_xml), and the tree is given back as nil; in a system.multicall the rows
 * join the tree as values.
 */
xmlrpc_value *view_rows_finish(xmlrpc_value *result, struct view_rows *rows);
void view_rows_free(struct view_rows *rows);

#endif
