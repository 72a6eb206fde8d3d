#include "autoconf.h"

#include "engine/queue.h"

#include <stdlib.h>
#include <string.h>

#include "util/idmap.h"
#include "util/xalloc.h"

/* Keys and children per node.  64 keeps a 1M-task tree four levels deep. */
#define NODE_MAX 64

struct qentry;
struct qinner;

struct qnode {
	struct qinner *parent;
	uint16_t n;
	bool leaf;
};

struct qleaf {
	struct qnode h;
	struct qleaf *prev, *next;
	uint64_t keys[NODE_MAX];
	struct qentry *e[NODE_MAX];
};

struct qinner {
	struct qnode h;
	uint64_t keys[NODE_MAX];   /* keys[i] <= every key under child[i] */
	uint32_t count[NODE_MAX];  /* entries under child[i] */
	struct qnode *child[NODE_MAX];
};

/* A counted B+tree; `which` selects the entry's back-pointer to its leaf. */
struct qtree {
	struct qnode *root;
	int which;
	size_t size;
};

struct qmodel {
	char *path;
	struct qtree tree;
};

struct qentry {
	int64_t id;
	uint64_t key;              /* priority << 56 | seq */
	struct qmodel *model;
	struct qleaf *leaf[2];     /* in the order tree, in the model's tree */
};

/*
 * What the queue keeps for as long as tasks wait — entries and tree nodes — comes from slabs:
 * 256 KB blocks carved into objects of one size, given back to a free list and kept for reuse
 * until the queue is freed.  A million such objects allocated one by one between the
 * short-lived allocations of submits would each pin a hole in the heap, and malloc would crawl
 * through the pieces on every later call.
 */
#define SLAB_BLOCK ((size_t)256 * 1024)

struct qslab {
	size_t size;               /* of an object, a multiple of 8 */
	void *free;                /* objects given back, linked through their first word */
	char *next, *end;          /* the rest of the newest block */
	void **blocks;
	size_t nblocks;
};

struct queue {
	struct qtree order;
	struct qslab entries, leaves, inners;
	struct idmap by_id;
	struct qmodel **models;    /* open-addressed by path hash */
	size_t models_cap, models_used;
	size_t per_prio[PRIO_COUNT];
	size_t bytes;              /* allocated by nodes, entries and models */
};

enum { TREE_ORDER = 0, TREE_MODEL = 1 };

/* ---- slabs -------------------------------------------------------------- */

static void *slab_alloc(struct queue *q, struct qslab *sl)
{
	void *p = sl->free;

	if (p) {
		sl->free = *(void **)p;
	} else {
		if (sl->next == NULL || (size_t)(sl->end - sl->next) < sl->size) {
			sl->blocks = xreallocarray(sl->blocks, sl->nblocks + 1, sizeof *sl->blocks);
			sl->next = sl->blocks[sl->nblocks++] = xmalloc(SLAB_BLOCK);
			sl->end = sl->next + SLAB_BLOCK;
			q->bytes += SLAB_BLOCK;
		}
		p = sl->next;
		sl->next += sl->size;
	}
	return memset(p, 0, sl->size);
}

static void slab_free(struct qslab *sl, void *p)
{
	*(void **)p = sl->free;
	sl->free = p;
}

static void slab_release(struct qslab *sl)
{
	for (size_t i = 0; i < sl->nblocks; i++)
		free(sl->blocks[i]);
	free(sl->blocks);
}

static uint64_t make_key(enum task_priority p, uint64_t seq)
{
	return (uint64_t)p << 56 | seq;
}

static enum task_priority key_priority(uint64_t key)
{
	return (enum task_priority)(key >> 56);
}

/* ---- counted B+tree ------------------------------------------------------ */

static size_t lower_bound(const uint64_t *keys, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t child_index(const struct qinner *in, const struct qnode *child)
{
	size_t i = 0;

	while (in->child[i] != child)
		i++;
	return i;
}

static uint32_t node_total(const struct qnode *node)
{
	const struct qinner *in;
	uint32_t sum = 0;

	if (node->leaf)
		return node->n;
	in = (const struct qinner *)node;
	for (size_t i = 0; i < node->n; i++)
		sum += in->count[i];
	return sum;
}

static uint64_t node_min_key(const struct qnode *node)
{
	return node->leaf ? ((const struct qleaf *)node)->keys[0] : ((const struct qinner *)node)->keys[0];
}

static void set_leaf_of(struct qtree *t, struct qleaf *leaf, size_t from)
{
	for (size_t i = from; i < leaf->h.n; i++)
		leaf->e[i]->leaf[t->which] = leaf;
}

/*
 * Where a full node of n splits after an insert at pos: in the middle, or, when the insert
 * went to its end (the next task of a priority, in submission order), just before the new
 * one, so the nodes that submits fill stay full and only the newest is half empty.
 */
static size_t split_point(size_t pos, size_t n)
{
	return pos == n - 1 ? n - 1 : NODE_MAX / 2;
}

/* Puts `right` just after `left` in left's parent, splitting parents that fill up. */
static void insert_sibling(struct queue *q, struct qtree *t, struct qnode *left, struct qnode *right)
{
	struct qinner *parent = left->parent;

	if (parent == NULL) {
		parent = slab_alloc(q, &q->inners);
		parent->h.n = 1;
		parent->keys[0] = node_min_key(left);
		parent->child[0] = left;
		left->parent = parent;
		t->root = &parent->h;
	}
	size_t i = child_index(parent, left);

	memmove(&parent->keys[i + 2], &parent->keys[i + 1], (parent->h.n - i - 1) * sizeof parent->keys[0]);
	memmove(&parent->count[i + 2], &parent->count[i + 1], (parent->h.n - i - 1) * sizeof parent->count[0]);
	memmove(&parent->child[i + 2], &parent->child[i + 1], (parent->h.n - i - 1) * sizeof parent->child[0]);
	parent->keys[i + 1] = node_min_key(right);
	parent->child[i + 1] = right;
	parent->count[i] = node_total(left);
	parent->count[i + 1] = node_total(right);
	right->parent = parent;
	parent->h.n++;
	if (parent->h.n < NODE_MAX)
		return;

	struct qinner *half = slab_alloc(q, &q->inners);
	size_t keep = split_point(i + 1, parent->h.n), move = parent->h.n - keep;

	memcpy(half->keys, &parent->keys[keep], move * sizeof half->keys[0]);
	memcpy(half->count, &parent->count[keep], move * sizeof half->count[0]);
	memcpy(half->child, &parent->child[keep], move * sizeof half->child[0]);
	half->h.n = (uint16_t)move;
	parent->h.n = (uint16_t)keep;
	for (size_t j = 0; j < move; j++)
		half->child[j]->parent = half;
	insert_sibling(q, t, &parent->h, &half->h);
}

static void tree_insert(struct queue *q, struct qtree *t, struct qentry *e)
{
	struct qnode *node = t->root;
	struct qleaf *leaf;
	size_t pos;

	if (node == NULL) {
		leaf = slab_alloc(q, &q->leaves);
		leaf->h.leaf = true;
		t->root = &leaf->h;
		node = t->root;
	}
	while (!node->leaf) {
		struct qinner *in = (struct qinner *)node;
		size_t i = lower_bound(in->keys, in->h.n, e->key);

		/* The last child whose smallest key is <= e->key, else the first. */
		if (i == in->h.n || in->keys[i] > e->key)
			i = i > 0 ? i - 1 : 0;
		if (e->key < in->keys[i])
			in->keys[i] = e->key;
		in->count[i]++;
		node = in->child[i];
	}
	leaf = (struct qleaf *)node;
	pos = lower_bound(leaf->keys, leaf->h.n, e->key);
	memmove(&leaf->keys[pos + 1], &leaf->keys[pos], (leaf->h.n - pos) * sizeof leaf->keys[0]);
	memmove(&leaf->e[pos + 1], &leaf->e[pos], (leaf->h.n - pos) * sizeof leaf->e[0]);
	leaf->keys[pos] = e->key;
	leaf->e[pos] = e;
	leaf->h.n++;
	e->leaf[t->which] = leaf;
	t->size++;
	if (leaf->h.n < NODE_MAX)
		return;

	struct qleaf *right = slab_alloc(q, &q->leaves);
	size_t keep = split_point(pos, leaf->h.n), move = leaf->h.n - keep;

	right->h.leaf = true;
	memcpy(right->keys, &leaf->keys[keep], move * sizeof right->keys[0]);
	memcpy(right->e, &leaf->e[keep], move * sizeof right->e[0]);
	right->h.n = (uint16_t)move;
	leaf->h.n = (uint16_t)keep;
	set_leaf_of(t, right, 0);
	right->next = leaf->next;
	right->prev = leaf;
	if (leaf->next)
		leaf->next->prev = right;
	leaf->next = right;
	insert_sibling(q, t, &leaf->h, &right->h);
}

/* Removes child i of `in`, freeing it; empties propagate upward. */
static void remove_child(struct queue *q, struct qtree *t, struct qinner *in, size_t i)
{
	struct qnode *child = in->child[i];

	if (child->leaf) {
		struct qleaf *lf = (struct qleaf *)child;

		if (lf->prev)
			lf->prev->next = lf->next;
		if (lf->next)
			lf->next->prev = lf->prev;
		slab_free(&q->leaves, lf);
	} else {
		slab_free(&q->inners, child);
	}
	memmove(&in->keys[i], &in->keys[i + 1], (in->h.n - i - 1) * sizeof in->keys[0]);
	memmove(&in->count[i], &in->count[i + 1], (in->h.n - i - 1) * sizeof in->count[0]);
	memmove(&in->child[i], &in->child[i + 1], (in->h.n - i - 1) * sizeof in->child[0]);
	in->h.n--;
	if (in->h.n == 0) {
		if (in->h.parent)
			remove_child(q, t, in->h.parent, child_index(in->h.parent, &in->h));
		else {
			slab_free(&q->inners, in);
			t->root = NULL;
		}
	}
}

/* Merges leaf `b` (the next leaf, same parent) into `a`. */
static void merge_leaves(struct queue *q, struct qtree *t, struct qleaf *a, struct qleaf *b)
{
	struct qinner *parent = a->h.parent;
	size_t ia = child_index(parent, &a->h);

	memcpy(&a->keys[a->h.n], b->keys, b->h.n * sizeof a->keys[0]);
	memcpy(&a->e[a->h.n], b->e, b->h.n * sizeof a->e[0]);
	size_t from = a->h.n;

	a->h.n = (uint16_t)(a->h.n + b->h.n);
	set_leaf_of(t, a, from);
	parent->count[ia] += parent->count[ia + 1];
	b->h.n = 0;
	remove_child(q, t, parent, ia + 1);
}

static void tree_remove(struct queue *q, struct qtree *t, struct qentry *e)
{
	struct qleaf *leaf = e->leaf[t->which];
	size_t pos = lower_bound(leaf->keys, leaf->h.n, e->key);
	struct qnode *node = &leaf->h;

	memmove(&leaf->keys[pos], &leaf->keys[pos + 1], (leaf->h.n - pos - 1) * sizeof leaf->keys[0]);
	memmove(&leaf->e[pos], &leaf->e[pos + 1], (leaf->h.n - pos - 1) * sizeof leaf->e[0]);
	leaf->h.n--;
	t->size--;
	while (node->parent) {
		struct qinner *p = node->parent;

		p->count[child_index(p, node)]--;
		node = &p->h;
	}
	if (leaf->h.n == 0) {
		if (leaf->h.parent) {
			remove_child(q, t, leaf->h.parent, child_index(leaf->h.parent, &leaf->h));
		} else {
			slab_free(&q->leaves, leaf);
			t->root = NULL;
		}
	} else if (leaf->h.n < NODE_MAX / 4 && leaf->h.parent) {
		/* Keep leaves at least a quarter full where a neighbour can take them. */
		if (leaf->next && leaf->next->h.parent == leaf->h.parent && leaf->h.n + leaf->next->h.n <= NODE_MAX / 2)
			merge_leaves(q, t, leaf, leaf->next);
		else if (leaf->prev && leaf->prev->h.parent == leaf->h.parent &&
			 leaf->h.n + leaf->prev->h.n <= NODE_MAX / 2)
			merge_leaves(q, t, leaf->prev, leaf);
	}
	/* A root with one child gives way to it. */
	while (t->root && !t->root->leaf && t->root->n == 1) {
		struct qinner *old = (struct qinner *)t->root;

		t->root = old->child[0];
		t->root->parent = NULL;
		slab_free(&q->inners, old);
	}
}

static struct qleaf *tree_at(const struct qtree *t, size_t offset, size_t *pos)
{
	const struct qnode *node = t->root;

	if (node == NULL || offset >= t->size)
		return NULL;
	while (!node->leaf) {
		const struct qinner *in = (const struct qinner *)node;
		size_t i = 0;

		while (offset >= in->count[i]) {
			offset -= in->count[i];
			i++;
		}
		node = in->child[i];
	}
	*pos = offset;
	return (struct qleaf *)node;
}

static size_t tree_position(const struct qtree *t, const struct qentry *e)
{
	const struct qleaf *leaf = e->leaf[t->which];
	size_t pos = lower_bound(leaf->keys, leaf->h.n, e->key);
	const struct qnode *node = &leaf->h;

	while (node->parent) {
		const struct qinner *p = node->parent;
		size_t i = child_index(p, node);

		for (size_t j = 0; j < i; j++)
			pos += p->count[j];
		node = &p->h;
	}
	return pos;
}


/* ---- models ------------------------------------------------------------- */

static size_t hash_path(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return (size_t)h;
}

static struct qmodel **model_slot(const struct queue *q, const char *path)
{
	size_t mask = q->models_cap - 1;

	for (size_t i = hash_path(path) & mask;; i = (i + 1) & mask)
		if (q->models[i] == NULL || strcmp(q->models[i]->path, path) == 0)
			return &q->models[i];
}

static void models_rehash(struct queue *q, size_t cap)
{
	struct qmodel **old = q->models;
	size_t old_cap = q->models_cap;

	q->bytes += (cap - old_cap) * sizeof *q->models;
	q->models = xcalloc(cap, sizeof *q->models);
	q->models_cap = cap;
	q->models_used = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i]) {
			*model_slot(q, old[i]->path) = old[i];
			q->models_used++;
		}
	}
	free(old);
}

static struct qmodel *model_get(struct queue *q, const char *path)
{
	struct qmodel **slot;

	if ((q->models_used + 1) * 2 > q->models_cap)
		models_rehash(q, q->models_cap ? q->models_cap * 2 : 16);
	slot = model_slot(q, path);
	if (*slot == NULL) {
		size_t len = strlen(path);

		*slot = xcalloc(1, sizeof **slot);
		(*slot)->path = xstrdup(path);
		(*slot)->tree.which = TREE_MODEL;
		q->bytes += sizeof **slot + len + 1;
		q->models_used++;
	}
	return *slot;
}

/* Drops a model with no queued task left; open addressing needs a re-insert of its run. */
static void model_release(struct queue *q, struct qmodel *m)
{
	if (m->tree.size > 0)
		return;
	size_t mask = q->models_cap - 1;
	struct qmodel **slot = model_slot(q, m->path);
	size_t i = (size_t)(slot - q->models);

	q->bytes -= sizeof *m + strlen(m->path) + 1;
	free(m->path);
	free(m);
	q->models[i] = NULL;
	q->models_used--;
	for (i = (i + 1) & mask; q->models[i]; i = (i + 1) & mask) {
		struct qmodel *move = q->models[i];

		q->models[i] = NULL;
		*model_slot(q, move->path) = move;
	}
}

/* ---- queue -------------------------------------------------------------- */

struct queue *queue_new(void)
{
	struct queue *q = xcalloc(1, sizeof *q);

	q->order.which = TREE_ORDER;
	q->entries.size = sizeof(struct qentry);
	q->leaves.size = sizeof(struct qleaf);
	q->inners.size = sizeof(struct qinner);
	q->bytes = sizeof *q;
	return q;
}

void queue_free(struct queue **qp)
{
	struct queue *q = *qp;

	if (q == NULL)
		return;
	for (size_t i = 0; i < q->models_cap; i++) {
		if (q->models[i]) {
			free(q->models[i]->path);
			free(q->models[i]);
		}
	}
	free(q->models);
	/* Entries and nodes go with their slabs. */
	slab_release(&q->entries);
	slab_release(&q->leaves);
	slab_release(&q->inners);
	idmap_free(&q->by_id);
	free(q);
	*qp = NULL;
}

static void fill_item(const struct qentry *e, struct queue_item *out, bool with_model)
{
	out->id = e->id;
	out->seq = e->key & QUEUE_SEQ_MAX;
	out->priority = key_priority(e->key);
	out->model = with_model ? e->model->path : NULL;
}

bool queue_push(struct queue *q, int64_t id, uint64_t seq, enum task_priority prio, const char *model)
{
	struct qentry *e;

	if (id == 0 || seq > QUEUE_SEQ_MAX || (unsigned)prio >= PRIO_COUNT || idmap_get(&q->by_id, id))
		return false;
	e = slab_alloc(q, &q->entries);
	e->id = id;
	e->key = make_key(prio, seq);
	e->model = model_get(q, model);
	tree_insert(q, &q->order, e);
	tree_insert(q, &e->model->tree, e);
	idmap_put(&q->by_id, id, e);
	q->per_prio[prio]++;
	return true;
}

static void detach(struct queue *q, struct qentry *e, struct queue_item *out)
{
	if (out)
		fill_item(e, out, false);
	tree_remove(q, &q->order, e);
	tree_remove(q, &e->model->tree, e);
	model_release(q, e->model);
	idmap_remove(&q->by_id, e->id);
	q->per_prio[key_priority(e->key)]--;
	slab_free(&q->entries, e);
}

static struct qentry *head_entry(const struct queue *q)
{
	size_t pos;
	struct qleaf *leaf = tree_at(&q->order, 0, &pos);

	return leaf ? leaf->e[pos] : NULL;
}

bool queue_head(const struct queue *q, struct queue_item *out)
{
	struct qentry *e = head_entry(q);

	if (e == NULL)
		return false;
	fill_item(e, out, true);
	return true;
}

bool queue_pop(struct queue *q, struct queue_item *out)
{
	struct qentry *e = head_entry(q);

	if (e == NULL)
		return false;
	detach(q, e, out);
	return true;
}

bool queue_remove(struct queue *q, int64_t id, struct queue_item *out)
{
	struct qentry *e = idmap_get(&q->by_id, id);

	if (e == NULL)
		return false;
	detach(q, e, out);
	return true;
}

bool queue_reprioritize(struct queue *q, int64_t id, enum task_priority prio)
{
	struct qentry *e = idmap_get(&q->by_id, id);

	if (e == NULL || (unsigned)prio >= PRIO_COUNT)
		return false;
	if (key_priority(e->key) == prio)
		return true;
	tree_remove(q, &q->order, e);
	tree_remove(q, &e->model->tree, e);
	q->per_prio[key_priority(e->key)]--;
	e->key = make_key(prio, e->key & QUEUE_SEQ_MAX);
	q->per_prio[prio]++;
	tree_insert(q, &q->order, e);
	tree_insert(q, &e->model->tree, e);
	return true;
}

bool queue_get(const struct queue *q, int64_t id, struct queue_item *out)
{
	struct qentry *e = idmap_get(&q->by_id, id);

	if (e == NULL)
		return false;
	fill_item(e, out, true);
	return true;
}

size_t queue_page(const struct queue *q, size_t offset, size_t limit, struct queue_item *out)
{
	size_t pos, n = 0;
	struct qleaf *leaf = tree_at(&q->order, offset, &pos);

	while (leaf && n < limit) {
		for (; pos < leaf->h.n && n < limit; pos++)
			fill_item(leaf->e[pos], &out[n++], true);
		leaf = leaf->next;
		pos = 0;
	}
	return n;
}

int64_t queue_position(const struct queue *q, int64_t id)
{
	struct qentry *e = idmap_get(&q->by_id, id);

	return e ? (int64_t)tree_position(&q->order, e) : -1;
}

size_t queue_batch(const struct queue *q, size_t k, struct queue_item *out)
{
	struct qentry *head = head_entry(q);
	size_t pos, n = 0;
	struct qleaf *leaf;
	enum task_priority limit;

	if (head == NULL || k == 0)
		return 0;
	limit = key_priority(head->key) + 1;
	/* The head is the first of its model's tasks, so its model tree starts with it. */
	leaf = tree_at(&head->model->tree, 0, &pos);
	while (leaf && n < k) {
		for (; pos < leaf->h.n && n < k; pos++) {
			if (key_priority(leaf->keys[pos]) > limit)
				return n;
			fill_item(leaf->e[pos], &out[n++], true);
		}
		leaf = leaf->next;
		pos = 0;
	}
	return n;
}

size_t queue_size(const struct queue *q)
{
	return q->order.size;
}

size_t queue_count(const struct queue *q, enum task_priority prio)
{
	return (unsigned)prio < PRIO_COUNT ? q->per_prio[prio] : 0;
}

size_t queue_memory(const struct queue *q)
{
	return q->bytes + idmap_memory(&q->by_id);
}
