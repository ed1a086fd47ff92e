/* gitexport.h: writes a commit's tree into a new directory, as `git
 * archive | tar x` would: directories 0755, files 0644 or 0755 (git's
 * executable bit), symbolic links as links, submodules as empty
 * directories. No index, no work tree state, no merge or diff: mls
 * gitwatch writes every revision into a directory of its own, so
 * libgit2's checkout machinery (about 40 KB of the static binary) is not
 * needed.
 *
 * Names are checked as git's checkout does for the dangerous ones: an
 * entry named "", ".", "..", ".git" (any case) or holding '/' refuses the
 * whole tree. Depth is bounded by GITEXPORT_MAX_DEPTH.
 *
 * Nothing here prints or exits. Built only with libgit2 (MLS_HAVE_GIT). */
#ifndef MLS_GITEXPORT_H
#define MLS_GITEXPORT_H

#include <stddef.h>

#define GITEXPORT_MAX_DEPTH 64

struct git_repository;
struct git_tree;

/* Writes tree into dir, which must exist and be empty. 0, or -1 with a
 * message in err ("write app.py: No space left on device"); what was
 * written is left for the caller to remove. */
int gitexport_tree(struct git_repository *repo, const struct git_tree *tree, const char *dir,
	char *err, size_t errsz);

#endif
