#include <string.h>
#include "strmap.h"

uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	while (n--) {
		h ^= *s++;
		h *= 1099511628211ull;
	}
	return h;
}

void strmap_init(struct strmap *m, struct arena *a)
{
	memset(m, 0, sizeof *m);
	m->a = a;
}

static struct strmap_slot *find(struct strmap_slot *slot, size_t cap, const char *k, size_t len)
{
	size_t i = hash_bytes(HASH_INIT, k, len) & (cap - 1);
	for (;;) {
		struct strmap_slot *s = &slot[i];
		if (!s->k || (s->len == len && !memcmp(s->k, k, len)))
			return s;
		i = (i + 1) & (cap - 1);
	}
}

void *strmap_get(const struct strmap *m, const char *k, size_t len)
{
	if (!m->cap)
		return NULL;
	struct strmap_slot *s = find(m->slot, m->cap, k, len);
	return s->k ? s->v : NULL;
}

static int grow(struct strmap *m, size_t ncap)
{
	struct strmap_slot *ns = arena_alloc(m->a, ncap * sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].k)
			*find(ns, ncap, m->slot[i].k, m->slot[i].len) = m->slot[i];
	m->slot = ns;
	m->cap = ncap;
	return 0;
}

int strmap_reserve(struct strmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;
	while (2 * (n + 1) > cap)
		cap *= 2;
	return cap > m->cap ? grow(m, cap) : 0;
}

int strmap_put(struct strmap *m, const char *k, size_t len, void *v)
{
	if (2 * (m->n + 1) > m->cap && grow(m, m->cap ? m->cap * 2 : 16))
		return -1;
	struct strmap_slot *s = find(m->slot, m->cap, k, len);
	if (!s->k) {
		s->k = k;
		s->len = len;
		m->n++;
	}
	s->v = v;
	return 0;
}
