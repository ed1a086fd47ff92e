/* globref.h: a reference matcher for lib/pathglob.c, shared by its unit
 * test and its fuzz target: components split on '/', '**' tried at every
 * length (exponential, fine for short inputs), each component by
 * fnmatch(). p[0..np) is the pattern's components, s[0..ns) the path's. */
#ifndef MLS_GLOBREF_H
#define MLS_GLOBREF_H

#include <fnmatch.h>
#include <string.h>

static int naive(char **p, int np, char **s, int ns)
{
	if (!np)
		return !ns;
	if (!strcmp(p[0], "**")) {
		for (int k = 0; k <= ns; k++)
			if (naive(p + 1, np - 1, s + k, ns - k))
				return 1;
		return 0;
	}
	return ns && !fnmatch(p[0], s[0], 0) && naive(p + 1, np - 1, s + 1, ns - 1);
}

#endif
