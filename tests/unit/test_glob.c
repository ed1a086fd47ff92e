/* Unit tests for lib/pathglob.c (watch: patterns). Output is TAP; exit status
 * 1 if any failed. Tables of cases, each with its __LINE__. */
#include "globref.h"
#include "pathglob.h"
#include "tap.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	int line;
	const char *pat, *path;
	int want;
} match_cases[] = {
	{ __LINE__, "app.py", "app.py", 1 },
	{ __LINE__, "app.py", "app.pyc", 0 },
	{ __LINE__, "*.py", "app.py", 1 },
	{ __LINE__, "*.py", "src/app.py", 0 },          /* '*' stays in one component */
	{ __LINE__, "*.py", ".hidden.py", 1 },          /* a dot is ordinary */
	{ __LINE__, "src/*.py", "src/app.py", 1 },
	{ __LINE__, "src/*.py", "src/a/app.py", 0 },
	{ __LINE__, "src/**/*.py", "src/app.py", 1 },   /* '**' is zero or more */
	{ __LINE__, "src/**/*.py", "src/a/b/c/app.py", 1 },
	{ __LINE__, "src/**/*.py", "lib/app.py", 0 },
	{ __LINE__, "src/**/*.py", "src/a/app.pyc", 0 },
	{ __LINE__, "**/*.py", "app.py", 1 },
	{ __LINE__, "**/*.py", "a/b/app.py", 1 },
	{ __LINE__, "**", "a/b/c", 1 },
	{ __LINE__, "**", "x", 1 },
	{ __LINE__, "tests/**", "tests/a/b", 1 },
	{ __LINE__, "tests/**", "test/a", 0 },
	{ __LINE__, "a/**/b", "a/b", 1 },
	{ __LINE__, "a/**/b", "a/x/y/b", 1 },
	{ __LINE__, "a/**/b", "a/x/y/c", 0 },
	{ __LINE__, "a/**/b/**/c", "a/b/c", 1 },
	{ __LINE__, "a/**/b/**/c", "a/1/b/2/3/c", 1 },
	{ __LINE__, "a/**/b/**/c", "a/1/b/2/3/d", 0 },
	{ __LINE__, "a**b", "axxb", 1 },                /* '**' inside a component is '*' */
	{ __LINE__, "a**b", "ax/xb", 0 },
	{ __LINE__, "?.c", "a.c", 1 },
	{ __LINE__, "?.c", "ab.c", 0 },
	{ __LINE__, "a?b", "a/b", 0 },                  /* '?' never matches '/' */
	{ __LINE__, "[abc].txt", "b.txt", 1 },
	{ __LINE__, "[abc].txt", "d.txt", 0 },
	{ __LINE__, "[a-c].txt", "c.txt", 1 },
	{ __LINE__, "[!a-c].txt", "c.txt", 0 },
	{ __LINE__, "[!a-c].txt", "d.txt", 1 },
	{ __LINE__, "[^a-c].txt", "d.txt", 1 },
	{ __LINE__, "[]].txt", "].txt", 1 },            /* ']' first is literal */
	{ __LINE__, "[a-].txt", "-.txt", 1 },
	{ __LINE__, "[ab", "[ab", 1 },                  /* no ']': '[' is literal */
	{ __LINE__, "[ab", "a", 0 },
	{ __LINE__, "\\*.py", "*.py", 1 },
	{ __LINE__, "\\*.py", "a.py", 0 },
	{ __LINE__, "a*b*c", "abc", 1 },
	{ __LINE__, "a*b*c", "axxbyyc", 1 },
	{ __LINE__, "a*b*c", "axxbyy", 0 },
	{ __LINE__, "*", "", 0 },                       /* no component */
	{ __LINE__, "**", "", 1 },
	{ __LINE__, "", "", 1 },
	{ __LINE__, "", "a", 0 },
	{ __LINE__, "a/", "a", 1 },                     /* a trailing '/' is nothing */
	{ __LINE__, "*.py", "a.py/b", 0 },
};

static const struct {
	int line;
	const char *pat, *dir;
	int want;
} dir_cases[] = {
	{ __LINE__, "*.py", "", 1 },
	{ __LINE__, "*.py", "src", 0 },
	{ __LINE__, "src/*.py", "", 1 },
	{ __LINE__, "src/*.py", "src", 1 },
	{ __LINE__, "src/*.py", "lib", 0 },
	{ __LINE__, "src/*.py", "src/a", 0 },
	{ __LINE__, "src/**/*.py", "src/a/b", 1 },
	{ __LINE__, "src/**/*.py", "lib", 0 },
	{ __LINE__, "**/*.py", "any/where", 1 },
	{ __LINE__, "*/conf/*.yaml", "x", 1 },
	{ __LINE__, "*/conf/*.yaml", "x/conf", 1 },
	{ __LINE__, "*/conf/*.yaml", "x/other", 0 },
	{ __LINE__, "src/**", "src", 1 },
	{ __LINE__, "src/**", "src/deep/er", 1 },
};

static const struct {
	int line;
	const char *pats[4];
	const char *path;
	int want;   /* match; for a path ending in '/', glob_list_dir of it */
} list_cases[] = {
	{ __LINE__, { "src/**", "!src/**/*.pyc" }, "src/a.py", 1 },
	{ __LINE__, { "src/**", "!src/**/*.pyc" }, "src/x/a.pyc", 0 },
	{ __LINE__, { "!src/**/*.pyc", "src/**" }, "src/x/a.pyc", 1 },   /* later wins */
	{ __LINE__, { "**/*.py", "!tests/**" }, "tests/t.py", 0 },
	{ __LINE__, { "**/*.py", "!tests/**", "tests/keep.py" }, "tests/keep.py", 1 },
	{ __LINE__, { "**/*.py" }, "README", 0 },
	{ __LINE__, { "!*.py" }, "a.py", 0 },
	/* directories worth watching */
	{ __LINE__, { "**/*.py", "!tests/**" }, "tests/", 0 },
	{ __LINE__, { "**/*.py", "!tests/**" }, "tests/sub/", 0 },
	{ __LINE__, { "**/*.py", "!tests/**" }, "src/", 1 },
	{ __LINE__, { "**/*.py", "!tests/**", "tests/keep.py" }, "tests/", 1 },
	{ __LINE__, { "*.py" }, "src/", 0 },
	{ __LINE__, { "*.py" }, "/", 1 },       /* "/" stands for the top here */
};


static int split(char *x, char **v)
{
	int n = 0;
	for (char *t = strtok(x, "/"); t; t = strtok(NULL, "/"))
		v[n++] = t;
	return n;
}

int main(void)
{
	for (size_t k = 0; k < sizeof match_cases / sizeof *match_cases; k++)
		tap_ok(glob_match(match_cases[k].pat, match_cases[k].path) == match_cases[k].want, match_cases[k].line,
			"'%s' %s '%s'", match_cases[k].pat, match_cases[k].want ? "matches" : "does not match",
			match_cases[k].path);
	for (size_t k = 0; k < sizeof dir_cases / sizeof *dir_cases; k++)
		tap_ok(glob_dir_may_match(dir_cases[k].pat, dir_cases[k].dir) == dir_cases[k].want, dir_cases[k].line,
			"'%s' %s under '%s'", dir_cases[k].pat, dir_cases[k].want ? "may match" : "cannot match",
			dir_cases[k].dir);
	for (size_t k = 0; k < sizeof list_cases / sizeof *list_cases; k++) {
		int n = 0;
		while (n < 4 && list_cases[k].pats[n])
			n++;
		const char *path = list_cases[k].path;
		size_t len = strlen(path);
		int got;
		if (len && path[len - 1] == '/') {
			char dir[64];
			snprintf(dir, sizeof dir, "%.*s", (int)len - 1, path);
			got = glob_list_dir((char *const *)list_cases[k].pats, n, dir);
		} else
			got = glob_list_match((char *const *)list_cases[k].pats, n, path);
		tap_ok(got == list_cases[k].want, list_cases[k].line, "list [%s, ...] on '%s': %d", list_cases[k].pats[0],
			path, list_cases[k].want);
	}

	/* random patterns and paths over a small alphabet, against the reference */
	static const char *const pat_parts[] = { "a", "b", "*", "**", "?", "a*", "*b", "[ab]", "[!a]" };
	static const char *const path_parts[] = { "a", "b", "ab", "ba", "c", "aab" };
	unsigned seed = 12345;
	int bad = 0, runs = 20000;
	for (int r = 0; r < runs && bad < 5; r++) {
		char pat[128] = "", path[128] = "";
		int np = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 5;
		for (int k = 0; k < np; k++) {
			seed = seed * 1103515245u + 12345u;
			strcat(pat, k ? "/" : "");
			strcat(pat, pat_parts[(seed >> 16) % (sizeof pat_parts / sizeof *pat_parts)]);
		}
		int ns = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;
		for (int k = 0; k < ns; k++) {
			seed = seed * 1103515245u + 12345u;
			strcat(path, k ? "/" : "");
			strcat(path, path_parts[(seed >> 16) % (sizeof path_parts / sizeof *path_parts)]);
		}
		char pc[128], sc[128], *pv[16], *sv[16];
		strcpy(pc, pat);
		strcpy(sc, path);
		int want = naive(pv, split(pc, pv), sv, split(sc, sv));
		if (glob_match(pat, path) != want) {
			bad++;
			tap_diag("'%s' on '%s': got %d, the reference %d", pat, path, !want, want);
		}
		/* a directory that a match lies under must be worth watching */
		if (want && strchr(path, '/')) {
			char dir[128];
			snprintf(dir, sizeof dir, "%s", path);
			*strrchr(dir, '/') = 0;
			if (!glob_dir_may_match(pat, dir)) {
				bad++;
				tap_diag("'%s' matches '%s' but not under '%s'", pat, path, dir);
			}
		}
	}
	tap_ok(!bad, __LINE__, "%d random cases agree with a reference matcher", runs);
	return tap_done();
}
