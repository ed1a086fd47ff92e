/* A string -> pointer hash map living in an arena (open addressing,
 * power-of-two capacity, grows at 1/2 load). Keys are not copied. */
#ifndef MLS_STRMAP_H
#define MLS_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include "arena.h"

struct strmap_slot { const char *k; size_t len; void *v; };

struct strmap {
	struct arena *a;
	struct strmap_slot *slot;
	size_t cap, n;
};

uint64_t hash_bytes(uint64_t h, const void *p, size_t n); /* FNV-1a; start with HASH_INIT */
#define HASH_INIT 1469598103934665603ull

void strmap_init(struct strmap *m, struct arena *a);
void *strmap_get(const struct strmap *m, const char *k, size_t len);
/* Room for n keys without growing (growing leaves the old slots in the
 * arena: reserve when n is known). 0, or -1 on ENOMEM. */
int strmap_reserve(struct strmap *m, size_t n);
/* Insert or replace; returns 0, -1 on ENOMEM */
int strmap_put(struct strmap *m, const char *k, size_t len, void *v);

#endif
