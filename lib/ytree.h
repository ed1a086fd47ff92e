/* YAML to a small tree of nodes with positions, built with libyaml's event
 * parser. Aliases share the anchored node (a DAG) and count its size
 * against CONFIG_MAX_NODES, so a "billion laughs" file is refused after a
 * bounded amount of work. `<<` merge keys are resolved while loading. */
#ifndef MLS_YTREE_H
#define MLS_YTREE_H

#include <stddef.h>
#include "arena.h"

enum ynode_type { Y_NULL, Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ynode_type type;
	int line, col;   /* 1-based */
	int file;        /* index into the loader's file list */
	int quoted;      /* scalar was quoted or block (never null/bool) */
	int exact;       /* scalar: one line, and its source is its text (+ quotes),
			    so byte offsets in s map to columns */
	int muted;       /* findings here were already reported (in defaults) */
	int height;      /* levels below this node */
	long size;       /* nodes in this subtree */
	const char *s;   /* scalar text (Y_SCALAR) */
	size_t len;
	/* Y_MAP: kids[2i] is a key (Y_SCALAR), kids[2i+1] its value; Y_SEQ: items */
	struct ynode **kids;
	int n;
};

struct yerror {
	int line, col;      /* 1-based; 0 when unknown */
	char msg[256];
};

/* Parse data (len bytes) into *root (NULL for an empty document).
 * `file` is stored in every node. Returns 0, or -1 with *err filled. */
int ytree_parse(struct arena *a, const char *data, size_t len, int file,
		struct ynode **root, struct yerror *err);

/* Value for key in a map, NULL if absent (or if m is not a map) */
struct ynode *ymap_get(const struct ynode *m, const char *key);
int yscalar_is(const struct ynode *n, const char *s);

/* Deep merge: maps merge key by key (b wins), anything else is replaced by
 * b. Returns a new node where needed; inputs are not modified. */
struct ynode *ytree_merge(struct arena *a, struct ynode *base, struct ynode *over);

#endif
