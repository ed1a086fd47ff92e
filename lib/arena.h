/* A bump allocator: everything a loaded config owns lives in one arena and
 * goes with one arena_free(). Allocation failure returns NULL (callers
 * report ENOMEM); nothing here exits. */
#ifndef MLS_ARENA_H
#define MLS_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void *arena_alloc(struct arena *a, size_t n);          /* zeroed, 16-aligned */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Grow an array of `*cap` elements of `size` bytes to hold n+1; old memory
 * stays in the arena. Returns the (possibly new) array or NULL. */
void *arena_grow(struct arena *a, void *v, int n, int *cap, size_t size);
size_t arena_used(const struct arena *a);
void arena_free(struct arena *a);

#endif
