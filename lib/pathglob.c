/* pathglob.c: path patterns; the API is documented in pathglob.h.
 *
 * Two levels of the same linear wildcard algorithm: components against
 * pattern components (where "**" is the star), characters against a
 * component's pattern (where '*' is the star). Each level backtracks to
 * its last star only, which is enough because a star matches any sequence
 * and every other item matches exactly one. */
#include <string.h>
#include "pathglob.h"

/* The end of the component starting at x ('/' or NUL) */
static const char *comp_end(const char *x)
{
	while (*x && *x != '/')
		x++;
	return x;
}

/* The start of the next component after the one ending at e */
static const char *comp_next(const char *e)
{
	return *e ? e + 1 : e;
}

/* A class "[...]" at p (p < pe, *p == '['): does it take c? Sets *after to
 * the character after its ']'; returns -1 when there is no ']' (then '['
 * is literal) */
static int class_match(const char *p, const char *pe, char c, const char **after)
{
	const char *q = p + 1;
	int neg = 0, hit = 0;
	if (q < pe && (*q == '!' || *q == '^')) {
		neg = 1;
		q++;
	}
	const char *first = q;
	while (q < pe && (*q != ']' || q == first)) {
		char lo = *q, hi;
		if (lo == '\\' && q + 1 < pe)
			lo = *++q;
		hi = lo;
		if (q + 2 < pe && q[1] == '-' && q[2] != ']') {
			hi = q[2];
			q += 2;
		}
		if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
			hit = 1;
		q++;
	}
	if (q >= pe)
		return -1;
	*after = q + 1;
	return hit != neg;
}

/* One component: pattern [p, pe) against the string [s, se) */
static int seg_match(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star_p = NULL, *star_s = NULL;
	for (;;) {
		if (p < pe && *p == '*') {
			while (p < pe && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (p < pe && s < se) {
			const char *np = p + 1;
			int ok;
			if (*p == '?')
				ok = 1;
			else if (*p == '[' && (ok = class_match(p, pe, *s, &np)) >= 0)
				;
			else if (*p == '\\' && p + 1 < pe) {
				ok = p[1] == *s;
				np = p + 2;
			} else
				ok = *p == *s;
			if (ok) {
				p = np;
				s++;
				continue;
			}
		} else if (p >= pe && s >= se)
			return 1;
		if (!star_p || star_s >= se)
			return 0;
		p = star_p;
		s = ++star_s;
	}
}

static int is_globstar(const char *p, const char *pe)
{
	return pe - p == 2 && p[0] == '*' && p[1] == '*';
}

/* The component level. prefix: the question of glob_dir_may_match() */
static int comps_match(const char *p, const char *s, int prefix)
{
	const char *star_p = NULL, *star_s = NULL;
	for (;;) {
		if (*p) {
			const char *pe = comp_end(p);
			if (is_globstar(p, pe)) {
				p = comp_next(pe);
				star_p = p;
				star_s = s;
				continue;
			}
			if (*s) {
				const char *se = comp_end(s);
				if (seg_match(p, pe, s, se)) {
					p = comp_next(pe);
					s = comp_next(se);
					continue;
				}
			}
		} else if (!*s)
			return prefix ? star_p != NULL : 1;
		/* a mismatch, or one side is used up */
		if (prefix && !*s)
			return 1; /* what is left of the pattern may match below */
		if (!star_p || !*star_s)
			return 0;
		star_s = comp_next(comp_end(star_s));
		s = star_s;
		p = star_p;
	}
}

int glob_match(const char *pat, const char *path)
{
	return comps_match(pat, path, 0);
}

int glob_dir_may_match(const char *pat, const char *dir)
{
	return comps_match(pat, dir, 1);
}

int glob_list_match(char *const *pats, int n, const char *path)
{
	for (int k = n - 1; k >= 0; k--) {
		int neg = pats[k][0] == '!';
		if (glob_match(pats[k] + neg, path))
			return !neg;
	}
	return 0;
}

int glob_list_dir(char *const *pats, int n, const char *dir)
{
	for (int k = n - 1; k >= 0; k--) {
		const char *p = pats[k];
		if (p[0] != '!') {
			if (glob_dir_may_match(p, dir))
				return 1;
			continue;
		}
		/* "!DIR/ **" (no space) excludes the whole tree: nothing below is wanted,
		 * unless a later pattern (seen already) said otherwise */
		size_t len = strlen(p);
		if (len >= 3 && !strcmp(p + len - 3, "/**") && glob_match(p + 1, dir))
			return 0;
	}
	return 0;
}
