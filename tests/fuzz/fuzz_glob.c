/* libFuzzer target: lib/pathglob.c on arbitrary patterns and paths, with
 * checks:
 *  - no crash, no read past either string, and quick (the matcher is
 *    O(pattern x path): a pattern of many '*' and '**' must not blow up,
 *    which libFuzzer's -timeout catches);
 *  - glob_match() agrees with a plain recursive reference (components
 *    split on '/', '**' tried at every length, each component by
 *    fnmatch()) when the inputs are small and free of the places where the
 *    two are allowed to differ ('[' and '\\', empty components);
 *  - a path that matches lies under directories glob_dir_may_match() says
 *    may match;
 *  - glob_list_match() is the verdict of the last matching pattern.
 * Input: pattern NUL path (no NUL: the whole input is both). */
#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "globref.h"
#include "pathglob.h"


/* split on '/', refusing empty components; -1 when there is one or too many */
static int split(char *x, char **v, int max)
{
	int n = 0;
	if (!*x)
		return 0;
	for (char *t = x;; ) {
		char *e = strchr(t, '/');
		if (e)
			*e = 0;
		if (!*t || n == max)
			return -1;
		v[n++] = t;
		if (!e)
			return n;
		t = e + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > 4096)
		return 0;
	char *buf = malloc(n + 2);
	if (!buf)
		return 0;
	memcpy(buf, d, n);
	buf[n] = buf[n + 1] = 0;
	const char *pat = buf;
	const char *path = memchr(buf, 0, n) ? buf + strlen(buf) + 1 : buf;

	int m = glob_match(pat, path);
	(void)glob_dir_may_match(pat, path);
	char *const list[2] = { (char *)pat, (char *)path };
	int n1 = path[0] == '!', n0 = pat[0] == '!', want;
	if (glob_match(path + n1, path))
		want = !n1;
	else
		want = glob_match(pat + n0, path) ? !n0 : 0;
	if (glob_list_match(list, 2, path) != want)
		abort();
	(void)glob_list_dir(list, 2, path);

	if (strlen(pat) < 40 && strlen(path) < 40 && !strpbrk(pat, "[\\") && !strpbrk(path, "[\\")) {
		char pc[48], sc[48], *pv[24], *sv[24];
		strcpy(pc, pat);
		strcpy(sc, path);
		int np = split(pc, pv, 24), ns = split(sc, sv, 24);
		if (np >= 0 && ns >= 0 && pat[0] && naive(pv, np, sv, ns) != m)
			abort();
		if (np >= 0 && ns > 1 && m) {
			char dir[48];
			strcpy(dir, path);
			*strrchr(dir, '/') = 0;
			if (!glob_dir_may_match(pat, dir))
				abort();
		}
	}
	free(buf);
	return 0;
}
