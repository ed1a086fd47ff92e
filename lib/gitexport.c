/* gitexport.c: a commit's tree into a directory (gitexport.h) */
#include "gitexport.h"

#if MLS_HAVE_GIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <git2.h>

struct ex {
	git_repository *repo;
	char *err;
	size_t errsz;
	char path[4096];   /* of the entry, for messages */
};

static int fail(struct ex *x, const char *what, int e)
{
	snprintf(x->err, x->errsz, "%s %s: %s", what, x->path, e ? strerror(e) :
		git_error_last() && git_error_last()->message ? git_error_last()->message : "failed");
	return -1;
}

static int name_ok(const char *n)
{
	return *n && strcmp(n, ".") && strcmp(n, "..") && strcasecmp(n, ".git") && !strchr(n, '/');
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int export_dir(struct ex *x, const git_tree *t, int dfd, size_t plen, int depth)
{
	size_t n = git_tree_entrycount(t);
	if (depth > GITEXPORT_MAX_DEPTH)
		return fail(x, "tree deeper than 64 directories at", ELOOP);
	for (size_t k = 0; k < n; k++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, k);
		const char *name = git_tree_entry_name(e);
		git_filemode_t mode = git_tree_entry_filemode(e);
		snprintf(x->path + plen, sizeof x->path - plen, "%s%s", plen ? "/" : "", name);
		size_t l = strlen(x->path);
		if (!name_ok(name))
			return fail(x, "refused: unsafe name", EINVAL);
		if (mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_COMMIT) {
			if (mkdirat(dfd, name, 0755) < 0)
				return fail(x, "mkdir", errno);
			if (mode == GIT_FILEMODE_COMMIT)
				continue; /* a submodule: an empty directory, as git leaves it */
			git_tree *sub;
			if (git_tree_lookup(&sub, x->repo, git_tree_entry_id(e)))
				return fail(x, "read tree", 0);
			int sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int rc = sfd < 0 ? fail(x, "open", errno) : export_dir(x, sub, sfd, l, depth + 1);
			if (sfd >= 0)
				close(sfd);
			git_tree_free(sub);
			if (rc)
				return -1;
			continue;
		}
		git_blob *b;
		if (git_blob_lookup(&b, x->repo, git_tree_entry_id(e)))
			return fail(x, "read", 0);
		const char *data = git_blob_rawcontent(b);
		size_t size = (size_t)git_blob_rawsize(b);
		int rc = 0;
		if (mode == GIT_FILEMODE_LINK) {
			char target[4096];
			if (size >= sizeof target || memchr(data, 0, size))
				rc = fail(x, "refused: bad symbolic link", EINVAL);
			else {
				memcpy(target, data, size);
				target[size] = 0;
				if (symlinkat(target, dfd, name) < 0)
					rc = fail(x, "symlink", errno);
			}
		} else {
			int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
			if (fd < 0)
				rc = fail(x, "create", errno);
			else {
				if (write_all(fd, data, size) < 0)
					rc = fail(x, "write", errno ? errno : EIO);
				if (close(fd) < 0 && !rc)
					rc = fail(x, "write", errno);
			}
		}
		git_blob_free(b);
		if (rc)
			return -1;
	}
	return 0;
}

int gitexport_tree(struct git_repository *repo, const struct git_tree *tree, const char *dir,
	char *err, size_t errsz)
{
	struct ex x = { repo, err, errsz, "" };
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(x.path, sizeof x.path, "%s", dir);
		return fail(&x, "open", errno);
	}
	mode_t old = umask(022);
	int rc = export_dir(&x, tree, dfd, 0, 0);
	umask(old);
	close(dfd);
	return rc;
}
#endif
