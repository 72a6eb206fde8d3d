#include "autoconf.h"

#include "proto/doubles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define OPEN "<double>"

/* Markup whose text is not XML-RPC values: from its opening to just after its end, or NULL. */
static const char *skip_other(const char *p, const char *end)
{
	static const struct {
		const char *open, *close;
	} kinds[] = {{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].open);

		if ((size_t)(end - p) >= n && memcmp(p, kinds[i].open, n) == 0) {
			const char *c = memmem(p + n, (size_t)(end - p) - n, kinds[i].close, strlen(kinds[i].close));

			return c ? c + strlen(kinds[i].close) : end;
		}
	}
	return NULL;
}

/* The end of a plain decimal's text in [p, end) (surrounding blanks allowed), or NULL for anything else. */
static const char *decimal_end(const char *p, const char *end)
{
	const char *last = NULL;
	bool digit = false;

	for (; p < end; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p != '.' && *p != '-' && *p != '+' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return NULL;
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			last = p + 1;
	}
	return digit ? last : NULL;
}

bool proto_exact_doubles(struct buf *msg)
{
	const char *p, *end;
	struct buf out = BUF_INIT;
	size_t copied = 0;

	if (msg->data == NULL || memmem(msg->data, msg->len, OPEN, strlen(OPEN)) == NULL)
		return false;
	p = msg->data;
	end = msg->data + msg->len;
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *skip = skip_other(p, end), *text, *close, *stop;

		if (skip) {
			p = skip;
			continue;
		}
		if ((size_t)(end - p) < strlen(OPEN) || memcmp(p, OPEN, strlen(OPEN)) != 0) {
			p++;
			continue;
		}
		text = p + strlen(OPEN);
		close = memchr(text, '<', (size_t)(end - text));
		if (close == NULL)
			break;
		stop = decimal_end(text, close);
		if (stop) {
			buf_add(&out, msg->data + copied, (size_t)(stop - msg->data) - copied);
			buf_add(&out, "e0", 2);
			copied = (size_t)(stop - msg->data);
		}
		p = close;
	}
	if (out.data == NULL)
		return false;
	buf_add(&out, msg->data + copied, msg->len - copied);
	buf_free(msg);
	*msg = out;
	return true;
}

/* Appends the doubles of v to *all in the order xmlrpc-c writes them (arrays in order, struct members as added). */
static void collect(xmlrpc_env *env, xmlrpc_value *v, double **all, size_t *n, size_t *cap)
{
	switch (xmlrpc_value_type(v)) {
	case XMLRPC_TYPE_DOUBLE:
		if (*n == *cap)
			*all = xreallocarray(*all, *cap = *cap ? 2 * *cap : 16, sizeof **all);
		xmlrpc_read_double(env, v, &(*all)[(*n)++]);
		break;
	case XMLRPC_TYPE_ARRAY:
		for (int i = 0, size = xmlrpc_array_size(env, v); i < size && !env->fault_occurred; i++) {
			xmlrpc_value *item;

			xmlrpc_array_read_item(env, v, i, &item);
			if (!env->fault_occurred) {
				collect(env, item, all, n, cap);
				xmlrpc_DECREF(item);
			}
		}
		break;
	case XMLRPC_TYPE_STRUCT:
		for (int i = 0, size = xmlrpc_struct_size(env, v); i < size && !env->fault_occurred; i++) {
			xmlrpc_value *key, *item;

			xmlrpc_struct_read_member(env, v, (unsigned)i, &key, &item);
			if (!env->fault_occurred) {
				collect(env, item, all, n, cap);
				xmlrpc_DECREF(key);
				xmlrpc_DECREF(item);
			}
		}
		break;
	default:
		break;
	}
}

void proto_doubles_of(xmlrpc_value *v, struct proto_doubles *out)
{
	xmlrpc_env env;
	size_t cap = 0;

	xmlrpc_env_init(&env);
	out->all = NULL;
	out->n = 0;
	collect(&env, v, &out->all, &out->n, &cap);
	xmlrpc_env_clean(&env);
}

void proto_doubles_free(struct proto_doubles *d)
{
	free(d->all);
	d->all = NULL;
	d->n = 0;
}

void proto_add_double(struct buf *b, double x)
{
	char text[40];

	for (int digits = 15; digits <= 17; digits++) {
		snprintf(text, sizeof text, "%.*g", digits, x);
		if (strtod(text, NULL) == x)
			break;
	}
	buf_adds(b, text);
}

void proto_write_doubles(const char *xml, size_t len, const struct proto_doubles *d, struct buf *out)
{
	const char *p = xml, *end = xml + len;
	size_t next = 0;

	while (p < end) {
		/* xmlrpc-c writes no comment or CDATA, and escapes '<' in strings: each <double> is a value. */
		const char *open = next < d->n ? memmem(p, (size_t)(end - p), OPEN, strlen(OPEN)) : NULL;
		const char *text = open ? open + strlen(OPEN) : NULL;
		const char *close = text ? memchr(text, '<', (size_t)(end - text)) : NULL;

		if (close == NULL) {
			buf_add(out, p, (size_t)(end - p));
			break;
		}
		buf_add(out, p, (size_t)(text - p));
		proto_add_double(out, d->all[next++]);
		p = close;
	}
}
