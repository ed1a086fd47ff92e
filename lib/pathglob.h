/* pathglob.h: path patterns of a service's `watch:` (docs/config.md, "watch").
 *
 * A pattern is matched against a path relative to the service's
 * working_dir, components separated by '/':
 *   *       any characters within one component (not '/')
 *   ?       one character (not '/')
 *   [a-z]   one character of the class; [!a-z] or [^a-z] negated
 *   **      as a whole component: zero or more components
 *           (elsewhere it is a '*')
 *   \c      c itself
 * A dot is an ordinary character ('*' matches ".env"). A list of patterns
 * is read in order and the last one that matches decides: a pattern that
 * starts with '!' excludes. A path no pattern matches is not watched.
 *
 * Pure functions, no allocation. Time: O(pattern x path) per call (each
 * '*' and '**' backtracks to its last position only), so a hostile
 * pattern cannot make it exponential (tests/fuzz/fuzz_glob.c). */
#ifndef MLS_PATHGLOB_H
#define MLS_PATHGLOB_H

/* Does the whole path match pat (a single pattern, without '!')? 1 or 0 */
int glob_match(const char *pat, const char *path);

/* Could a path under the directory dir ("" for the top) match pat: is the
 * directory worth watching? Errs on the side of yes. 1 or 0 */
int glob_dir_may_match(const char *pat, const char *dir);

/* The list's verdict for path: 1 the last matching pattern includes it,
 * 0 it excludes it or none matches */
int glob_list_match(char *const *pats, int n, const char *path);

/* Could a path under dir be included by the list (some pattern without
 * '!' may match below it)? 1 or 0 */
int glob_list_dir(char *const *pats, int n, const char *dir);

#endif
