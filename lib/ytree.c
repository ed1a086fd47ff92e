/* YAML -> ynode tree. See ytree.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include "config.h"
#include "strmap.h"
#include "ytree.h"

struct frame {
	struct ynode *node;
	struct ynode **kids;
	int n, cap;
	const char *anchor;
};

struct builder {
	struct arena *a;
	int file;
	long nodes;                       /* counting alias expansion */
	struct frame stack[CONFIG_MAX_DEPTH + 1];
	int depth;
	struct strmap anchors;
	struct ynode *root;
	int docs;
	struct yerror *err;
};

static int fail(struct builder *b, int line, int col, const char *fmt, const char *arg)
{
	b->err->line = line;
	b->err->col = col;
	snprintf(b->err->msg, sizeof b->err->msg, fmt, arg ? arg : "");
	return -1;
}

static struct ynode *new_node(struct builder *b, enum ynode_type t, const yaml_mark_t *m)
{
	struct ynode *n = arena_alloc(b->a, sizeof *n);
	if (!n)
		return NULL;
	n->type = t;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	n->file = b->file;
	n->size = 1;
	return n;
}

/* YAML 1.2 core schema null: "", ~, null, Null, NULL (plain only) */
static int is_null_plain(const char *s, size_t len)
{
	return len == 0 || (len == 1 && *s == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static int remember_anchor(struct builder *b, const char *anchor, struct ynode *n)
{
	if (!anchor)
		return 0;
	char *k = arena_strdup(b->a, anchor);
	if (!k || strmap_put(&b->anchors, k, strlen(k), n))
		return fail(b, n->line, n->col, "out of memory%s", NULL);
	return 0;
}

/* Attach a finished node to the collection on top of the stack (or make it
 * the root). */
static int attach(struct builder *b, struct ynode *n)
{
	if (b->depth == 0) {
		if (b->root)
			return fail(b, n->line, n->col, "more than one YAML document in a file is not supported%s", NULL);
		b->root = n;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->node->type == Y_MAP && f->n % 2 == 0 && n->type != Y_SCALAR)
		return fail(b, n->line, n->col, "a mapping key must be a plain value, not a %s",
			    n->type == Y_MAP ? "mapping" : n->type == Y_SEQ ? "list" : "null");
	struct ynode **k = arena_grow(b->a, f->kids, f->n, &f->cap, sizeof *k);
	if (!k)
		return fail(b, n->line, n->col, "out of memory%s", NULL);
	f->kids = k;
	f->kids[f->n++] = n;
	return 0;
}

static int open_collection(struct builder *b, enum ynode_type t, const yaml_event_t *ev, const char *anchor)
{
	struct ynode *n = new_node(b, t, &ev->start_mark);
	if (!n)
		return fail(b, 0, 0, "out of memory%s", NULL);
	if (b->depth >= CONFIG_MAX_DEPTH)
		return fail(b, n->line, n->col, "nesting deeper than 64 levels%s", NULL);
	if (++b->nodes > CONFIG_MAX_NODES)
		return fail(b, n->line, n->col, "more than 1000000 YAML nodes (counting aliases)%s", NULL);
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof *f);
	f->node = n;
	f->anchor = anchor ? arena_strdup(b->a, anchor) : NULL;
	return 0;
}

static int key_eq(const struct ynode *k, const char *s)
{
	return k->type == Y_SCALAR && strlen(s) == k->len && !memcmp(k->s, s, k->len);
}

static int is_merge_key(const struct ynode *k)
{
	return k->type == Y_SCALAR && !k->quoted && key_eq(k, "<<");
}

/* Keys seen so far in a map being finished: a linear scan of out[] for
 * small maps (most of them; no allocation), a hash map past SMALL_MAP keys. */
#define SMALL_MAP 16

struct seen {
	struct strmap map;
	struct ynode **out;
	int n;           /* entries in out (keys and values) */
};

static struct ynode *seen_get(const struct seen *s, const struct ynode *k)
{
	if (s->n / 2 <= SMALL_MAP) {
		for (int i = 0; i < s->n; i += 2)
			if (s->out[i]->len == k->len && !memcmp(s->out[i]->s, k->s, k->len))
				return s->out[i];
		return NULL;
	}
	return strmap_get(&s->map, k->s, k->len);
}

/* after out[] got k at s->n - 2 */
static int seen_add(struct seen *s)
{
	if (s->n / 2 < SMALL_MAP)
		return 0;
	if (s->n / 2 == SMALL_MAP) /* switching over: index what is there */
		for (int i = 0; i < s->n; i += 2)
			if (strmap_put(&s->map, s->out[i]->s, s->out[i]->len, s->out[i]))
				return -1;
	return strmap_put(&s->map, s->out[s->n - 2]->s, s->out[s->n - 2]->len, s->out[s->n - 2]);
}

/* Add kids[] of a finished map, resolving `<<` and refusing duplicate keys */
static int finish_map(struct builder *b, struct frame *f)
{
	struct ynode *m = f->node;
	struct seen seen = {0};
	strmap_init(&seen.map, b->a);
	struct ynode **out = NULL;
	int n = 0, cap = 0;
	struct ynode *merges[2] = {0};
	int nmerge = 0;

	for (int i = 0; i + 1 < f->n; i += 2) {
		struct ynode *k = f->kids[i], *v = f->kids[i + 1];
		if (is_merge_key(k)) {
			if (nmerge == 1 || (v->type != Y_MAP && v->type != Y_SEQ))
				return fail(b, k->line, k->col, "'<<' needs one mapping or a list of mappings%s", NULL);
			merges[nmerge++] = v;
			continue;
		}
		seen.out = out;
		seen.n = n;
		struct ynode *prev = seen_get(&seen, k);
		if (prev) {
			char where[64];
			snprintf(where, sizeof where, "%d:%d", prev->line, prev->col);
			b->err->line = k->line;
			b->err->col = k->col;
			snprintf(b->err->msg, sizeof b->err->msg, "duplicate key '%.*s' (first at line %s)",
				 (int)(k->len > 100 ? 100 : k->len), k->s, where);
			return -1;
		}
		if (!(out = arena_grow(b->a, out, n, &cap, sizeof *out)) ||
		    !(out = arena_grow(b->a, out, n + 1, &cap, sizeof *out)))
			return fail(b, k->line, k->col, "out of memory%s", NULL);
		out[n++] = k;
		out[n++] = v;
		seen.out = out;
		seen.n = n;
		if (seen_add(&seen))
			return fail(b, k->line, k->col, "out of memory%s", NULL);
	}
	/* merged mappings: earlier ones and the map's own keys win */
	if (nmerge) {
		struct ynode *src = merges[0];
		int ns = src->type == Y_SEQ ? src->n : 1;
		for (int s = 0; s < ns; s++) {
			struct ynode *mm = src->type == Y_SEQ ? src->kids[s] : src;
			if (mm->type != Y_MAP)
				return fail(b, mm->line, mm->col, "'<<' needs one mapping or a list of mappings%s", NULL);
			for (int i = 0; i + 1 < mm->n; i += 2) {
				struct ynode *k = mm->kids[i];
				seen.out = out;
				seen.n = n;
				if (seen_get(&seen, k))
					continue;
				if (!(out = arena_grow(b->a, out, n, &cap, sizeof *out)) ||
				    !(out = arena_grow(b->a, out, n + 1, &cap, sizeof *out)))
					return fail(b, k->line, k->col, "out of memory%s", NULL);
				out[n++] = k;
				out[n++] = mm->kids[i + 1];
				seen.out = out;
				seen.n = n;
				if (seen_add(&seen))
					return fail(b, k->line, k->col, "out of memory%s", NULL);
			}
		}
	}
	m->kids = out;
	m->n = n;
	return 0;
}

static int close_collection(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct ynode *n = f->node;
	if (n->type == Y_MAP) {
		if (finish_map(b, f))
			return -1;
	} else {
		n->kids = f->kids;
		n->n = f->n;
	}
	for (int i = 0; i < n->n; i++) {
		n->size += n->kids[i]->size;
		if (n->kids[i]->height + 1 > n->height)
			n->height = n->kids[i]->height + 1;
	}
	b->depth--;
	if (remember_anchor(b, f->anchor, n))
		return -1;
	return attach(b, n);
}

static int on_event(struct builder *b, yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1)
			return fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
				    "more than one YAML document in a file is not supported%s", NULL);
		return 0;
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t len = ev->data.scalar.length;
		int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		struct ynode *n = new_node(b, plain && is_null_plain(s, len) ? Y_NULL : Y_SCALAR, &ev->start_mark);
		if (!n)
			return fail(b, 0, 0, "out of memory%s", NULL);
		if (++b->nodes > CONFIG_MAX_NODES)
			return fail(b, n->line, n->col, "more than 1000000 YAML nodes (counting aliases)%s", NULL);
		if (memchr(s, 0, len))
			return fail(b, n->line, n->col, "a value holds a NUL character%s", NULL);
		n->s = arena_strndup(b->a, s, len);
		n->len = len;
		n->quoted = !plain;
		/* source columns == text (+2 quotes): no escapes, folding or
		 * multi-byte characters, so an offset in s is a column offset */
		int ascii = 1;
		for (size_t i = 0; i < len && ascii; i++)
			ascii = (unsigned char)s[i] < 0x80;
		/* ASCII and as long as its source: no escape (escapes only
		 * shorten), no folding, so offsets in s are column offsets */
		n->exact = ascii && ev->start_mark.line == ev->end_mark.line &&
			   ev->end_mark.column - ev->start_mark.column == len + (plain ? 0 : 2) &&
			   (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		if (!n->s)
			return fail(b, n->line, n->col, "out of memory%s", NULL);
		if (remember_anchor(b, (const char *)ev->data.scalar.anchor, n))
			return -1;
		return attach(b, n);
	}
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		struct ynode *n = strmap_get(&b->anchors, name, strlen(name));
		int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
		if (!n)
			return fail(b, line, col, "unknown alias *%s", name);
		b->nodes += n->size;
		if (b->nodes > CONFIG_MAX_NODES)
			return fail(b, line, col, "more than 1000000 YAML nodes (counting aliases)%s", NULL);
		if (b->depth + n->height > CONFIG_MAX_DEPTH)
			return fail(b, line, col, "nesting deeper than 64 levels%s", NULL);
		return attach(b, n);
	}
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(b, Y_SEQ, ev, (const char *)ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return open_collection(b, Y_MAP, ev, (const char *)ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_collection(b);
	default:
		return 0;
	}
}

int ytree_parse(struct arena *a, const char *data, size_t len, int file,
		struct ynode **root, struct yerror *err)
{
	yaml_parser_t p;
	struct builder b;
	memset(&b, 0, sizeof b);
	b.a = a;
	b.file = file;
	b.err = err;
	strmap_init(&b.anchors, a);
	memset(err, 0, sizeof *err);
	*root = NULL;

	if (!yaml_parser_initialize(&p)) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	int rc = 0, done = 0;
	while (!done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			const yaml_mark_t *m = p.problem ? &p.problem_mark : &p.mark;
			err->line = (int)m->line + 1;
			err->col = (int)m->column + 1;
			int utf8 = p.error == YAML_READER_ERROR && p.problem &&
				   (strstr(p.problem, "UTF-8") || strstr(p.problem, "Unicode"));
			if (p.error == YAML_READER_ERROR && p.problem_offset <= len) {
				/* reader errors carry a byte offset, not a mark; a bad
				 * trailing octet is reported at its lead byte */
				size_t off = p.problem_offset;
				if (utf8 && strstr(p.problem, "trailing"))
					for (size_t back = 1; back <= 3 && back <= off; back++)
						if ((unsigned char)data[off - back] >= 0xC0) {
							off -= back;
							break;
						}
				err->line = 1;
				err->col = 1;
				for (size_t i = 0; i < off; i++) {
					if (data[i] == '\n')
						err->line++, err->col = 1;
					else if (((unsigned char)data[i] & 0xC0) != 0x80)
						err->col++;
				}
			}
			if (utf8)
				snprintf(err->msg, sizeof err->msg, "not valid UTF-8 (%s): a config file must be UTF-8",
					 p.problem ? p.problem : "bad byte");
			else if (p.error == YAML_SCANNER_ERROR && m->index < len && data[m->index] == '\t')
				snprintf(err->msg, sizeof err->msg, "YAML syntax: a tab cannot indent YAML (use spaces)");
			else if (p.context)
				snprintf(err->msg, sizeof err->msg, "YAML syntax: %s %s", p.problem ? p.problem : "error", p.context);
			else
				snprintf(err->msg, sizeof err->msg, "YAML syntax: %s", p.problem ? p.problem : "error");
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (on_event(&b, &ev))
			rc = -1, done = 1;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc == 0)
		*root = b.root;
	return rc;
}

struct ynode *ymap_get(const struct ynode *m, const char *key)
{
	if (!m || m->type != Y_MAP)
		return NULL;
	for (int i = 0; i + 1 < m->n; i += 2)
		if (key_eq(m->kids[i], key))
			return m->kids[i + 1];
	return NULL;
}

int yscalar_is(const struct ynode *n, const char *s)
{
	return n && n->type == Y_SCALAR && key_eq(n, s);
}

static int index_keys(struct strmap *idx, struct arena *a, const struct ynode *m)
{
	strmap_init(idx, a);
	for (int i = 0; i + 1 < m->n; i += 2)
		if (strmap_put(idx, m->kids[i]->s, m->kids[i]->len, (void *)(intptr_t)(i + 1)))
			return -1;
	return 0;
}

struct ynode *ytree_merge(struct arena *a, struct ynode *base, struct ynode *over)
{
	if (!base)
		return over;
	if (!over || over->type != Y_MAP || base->type != Y_MAP)
		return over ? over : base;
	struct ynode *m = arena_alloc(a, sizeof *m);
	struct strmap bidx, oidx;
	if (!m || index_keys(&bidx, a, base) || index_keys(&oidx, a, over))
		return NULL;
	*m = *over;
	m->kids = arena_alloc(a, (size_t)(base->n + over->n) * sizeof *m->kids);
	if (!m->kids)
		return NULL;
	m->n = 0;
	/* base's keys in base order (merged with over's value), then over's new keys */
	for (int i = 0; i + 1 < base->n; i += 2) {
		struct ynode *k = base->kids[i], *v = base->kids[i + 1];
		intptr_t j = (intptr_t)strmap_get(&oidx, k->s, k->len);
		if (j) {
			if (!(v = ytree_merge(a, v, over->kids[j])))
				return NULL;
			k = over->kids[j - 1];
		}
		m->kids[m->n++] = k;
		m->kids[m->n++] = v;
	}
	for (int j = 0; j + 1 < over->n; j += 2) {
		if (strmap_get(&bidx, over->kids[j]->s, over->kids[j]->len))
			continue;
		m->kids[m->n++] = over->kids[j];
		m->kids[m->n++] = over->kids[j + 1];
	}
	return m;
}
