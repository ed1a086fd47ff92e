/* mls gitwatch: follow git repositories and deploy new commits.
 *
 * With no argument it is the instance mls-gitwatch that supervise runs
 * (fd 3 its control connection): gw_main.c and gw.h. Its git core is also
 * reachable as developer commands:
 *
 *   mls gitwatch --clone URL DIR [--ref REF] [OPTIONS]
 *   mls gitwatch --fetch DIR [--ref REF] [OPTIONS]
 *
 * --clone makes DIR a clone of URL (https://, http://, file:// or a path;
 * ssh is refused: no libssh2 here); --fetch fetches DIR's origin. Both then
 * check out REF (a branch of the remote, a tag, or a commit; default: the
 * remote's HEAD) detached, with the work tree forced to it, and print the
 * commit's id. Options: --ca FILE (trust anchors for https, default
 * /etc/ssl/certs/ca-certificates.crt), --timeout DURATION (connect, read
 * and write; default 30s), --token-file FILE (https credentials, sent as
 * basic auth with --user NAME, default "git").
 *
 * libgit2 1.5.1 cannot fetch shallow (depth arrived in 1.7): every clone
 * and fetch is full. */
#include <stdio.h>
#include "applets.h"

#if !MLS_HAVE_GIT

int gitwatch_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mls gitwatch: this build has no git support (built with NO_GIT=1)\n");
	return 1;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <git2.h>
#include "gitexport.h"
#include "secretfile.h"
#include "gitstream.h"
#include "gw.h"
#include "parse.h"

struct dev {
	struct gw_cred cred;      /* secret from --token-file, or NULL */
};

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "mls gitwatch: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	applet_usage("gitwatch", 1);
	return 2;
}

static int git_fail(const char *what, const char *arg)
{
	const git_error *e = git_error_last();
	fprintf(stderr, "mls gitwatch: %s %s: %s\n", what, arg, e && e->message ? e->message : "failed");
	return 1;
}

/* ssh URLs ("ssh://", "git+ssh://", scp-like "host:path") need libssh2 */
static int is_ssh(const char *url)
{
	if (!strncmp(url, "ssh://", 6) || !strncmp(url, "git+ssh://", 10) ||
			!strncmp(url, "ssh+git://", 10))
		return 1;
	const char *colon = strchr(url, ':');
	const char *slash = strchr(url, '/');
	return url[0] != '/' && colon && !strstr(url, "://") && (!slash || colon < slash);
}



/* The commit REF names: a branch of origin, a tag, or anything rev-parse
 * takes (a commit id, a full ref name); default: origin's HEAD. */
static int resolve(git_repository *repo, const char *ref, git_commit **out, char *name, size_t namesz)
{
	static const char *const forms[] = {
		"refs/remotes/origin/%s^{commit}", "refs/tags/%s^{commit}", "%s^{commit}"
	};
	const char *want = ref ? ref : "HEAD";
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		git_object *obj;
		snprintf(name, namesz, forms[i], want);
		if (!git_revparse_single(&obj, repo, name)) {
			*out = (git_commit *)obj;
			name[strlen(name) - strlen("^{commit}")] = 0;
			return 0;
		}
	}
	git_error_set_str(GIT_ERROR_REFERENCE, ref ? "no branch, tag or commit of that name"
		: "the remote has no HEAD: give --ref");
	snprintf(name, namesz, "%s", want);
	return -1;
}

/* Removes everything in the work tree dir but .git */
static int clear_workdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".git"))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (gw_rmtree(p) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* Checks out REF detached, the work tree forced to it; prints its id
 * and the name it was found under */
static int deploy(git_repository *repo, const char *ref)
{
	git_commit *c;
	char name[512];
	if (resolve(repo, ref, &c, name, sizeof name))
		return git_fail("ref", name);
	/* the work tree made anew: everything but .git removed, the tree
	 * written (lib/gitexport) */
	int rc = 0;
	char err[512];
	git_tree *tree = NULL;
	const char *wd = git_repository_workdir(repo);
	if (!wd || clear_workdir(wd) < 0) {
		fprintf(stderr, "mls gitwatch: cannot empty the work tree %s: %s\n", wd ? wd : "?", strerror(errno));
		rc = 1;
	} else if (git_commit_tree(&tree, c)) {
		rc = git_fail("tree of", name);
	} else if (gitexport_tree(repo, tree, wd, err, sizeof err)) {
		fprintf(stderr, "mls gitwatch: checkout %s: %s\n", name, err);
		rc = 1;
	} else if (git_repository_set_head_detached(repo, git_commit_id(c)))
		rc = git_fail("set HEAD to", name);
	git_tree_free(tree);
	if (!rc) {
		char id[GIT_OID_HEXSZ + 1];
		git_oid_tostr(id, sizeof id, git_commit_id(c));
		printf("%s %s\n", id, name);
	}
	git_commit_free(c);
	return rc;
}

static void fetch_options(git_fetch_options *fo, struct dev *g)
{
	g->cred.tries = 0;
	fo->callbacks.credentials = gw_credentials;
	fo->callbacks.payload = &g->cred;
	fo->prune = GIT_FETCH_PRUNE;
	fo->download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
}

/* Fetches origin; the remote's HEAD branch into head (or "") */
static int fetch_origin(struct dev *g, git_repository *repo, const char *what, char *head, size_t headsz)
{
	git_remote *remote;
	git_fetch_options fo;
	git_buf b = { 0 };
	int rc = 0;
	head[0] = 0;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if (git_remote_lookup(&remote, repo, "origin"))
		return git_fail("remote origin of", git_repository_path(repo));
	fetch_options(&fo, g);
	if (git_remote_fetch(remote, NULL, &fo, "fetch"))
		rc = git_fail(what, git_remote_url(remote));
	else if (!git_remote_default_branch(&b, remote))
		snprintf(head, headsz, "%s", !strncmp(b.ptr, "refs/heads/", 11) ? b.ptr + 11 : b.ptr);
	git_buf_dispose(&b);
	git_remote_free(remote);
	return rc;
}

/* A clone without libgit2's git_clone (which links its checkout): a new
 * repository, origin, a fetch, then deploy() */
static int do_clone(struct dev *g, const char *url, const char *dir, const char *ref)
{
	git_repository *repo;
	git_remote *remote;
	char head[256];
	if (git_repository_init(&repo, dir, 0))
		return git_fail("clone", url);
	int rc = git_remote_create(&remote, repo, "origin", url) ? git_fail("clone", url) : 0;
	if (!rc) {
		git_remote_free(remote);
		rc = fetch_origin(g, repo, "clone", head, sizeof head);
	}
	if (!rc)
		rc = deploy(repo, ref ? ref : head[0] ? head : NULL);
	git_repository_free(repo);
	return rc;
}

static int do_fetch(struct dev *g, const char *dir, const char *ref)
{
	git_repository *repo;
	char head[256];
	if (git_repository_open(&repo, dir))
		return git_fail("open", dir);
	int rc = fetch_origin(g, repo, "fetch", head, sizeof head);
	if (!rc)
		rc = deploy(repo, ref ? ref : head[0] ? head : NULL);
	git_repository_free(repo);
	return rc;
}

int gitwatch_main(int argc, char **argv)
{
	const char *clone_url = NULL, *fetch_dir = NULL, *dir = NULL, *ref = NULL;
	const char *ca = NULL, *token_file = NULL;
	struct dev g = { .cred = { NULL, NULL, "--token-file", 0 } };
	int64_t timeout = GITSTREAM_DEFAULT_TIMEOUT_MS;

	if (argc == 1)
		return gw_main();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return applet_usage("gitwatch", 0);
		int takes = !strcmp(a, "--clone") || !strcmp(a, "--fetch") || !strcmp(a, "--ref") ||
			!strcmp(a, "--ca") || !strcmp(a, "--timeout") || !strcmp(a, "--token-file") ||
			!strcmp(a, "--user");
		if (!takes) {
			if (a[0] == '-')
				return usage("unknown option %s", a);
			if (!clone_url || dir)
				return usage("unexpected argument %s", a);
			dir = a;
			continue;
		}
		if (!v)
			return usage("%s needs a value", a);
		i++;
		if (!strcmp(a, "--clone"))
			clone_url = v;
		else if (!strcmp(a, "--fetch"))
			fetch_dir = v;
		else if (!strcmp(a, "--ref"))
			ref = v;
		else if (!strcmp(a, "--ca"))
			ca = v;
		else if (!strcmp(a, "--token-file"))
			token_file = v;
		else if (!strcmp(a, "--user"))
			g.cred.user = v;
		else if (parse_duration(v, &timeout) || timeout <= 0 || timeout > INT32_MAX)
			return usage("--timeout: not a duration > 0: %s", v);
	}
	if (!clone_url && !fetch_dir)
		return usage("%s", "--clone URL DIR or --fetch DIR");
	if (clone_url && fetch_dir)
		return usage("%s", "--clone and --fetch exclude each other");
	if (clone_url && !dir)
		return usage("--clone %s: no directory", clone_url);
	if (clone_url && is_ssh(clone_url)) {
		fprintf(stderr, "mls gitwatch: %s: ssh is not supported (mls has no libssh2): "
			"use https://, http://, file:// or a path\n", clone_url);
		return 1;
	}
	char err[256];
	char *secret = NULL;
	if (token_file && !(g.cred.secret = secret = secretfile_read(token_file, "token", 0, err, sizeof err))) {
		fprintf(stderr, "mls gitwatch: --token-file: %s\n", err);
		return 1;
	}

	if (git_libgit2_init() < 0) {
		fprintf(stderr, "mls gitwatch: libgit2 failed to start\n");
		return 1;
	}
	if (gitstream_register(err, sizeof err)) {
		fprintf(stderr, "mls gitwatch: %s\n", err);
		git_libgit2_shutdown();
		return 1;
	}
	gitstream_set_ca(ca);
	gitstream_set_timeout((int)timeout);
	int rc = clone_url ? do_clone(&g, clone_url, dir, ref) : do_fetch(&g, fetch_dir, ref);
	gitstream_cleanup();
	git_libgit2_shutdown();
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return rc;
}

#endif /* MLS_HAVE_GIT */
