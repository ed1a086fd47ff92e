/* gw_repo.c: gitwatch's libgit2 operations (gw.h).
 *
 * Each service has a bare repository DIR/repo whose remote origin is its
 * url (changed in place when the url changes), fetched in full (libgit2
 * 1.5.1 cannot fetch shallow: `depth` is ignored), every branch into
 * refs/remotes/origin/ (forced, pruned: a force-push is followed) and every
 * tag. A revision is checked out with checkout's target_directory into
 * DIR/rev-SHA.tmp, renamed to DIR/rev-SHA when complete. Submodules are
 * not checked out. */
#include "applets.h"
#if MLS_HAVE_GIT

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <git2.h>
#include "gitexport.h"
#include "gitstream.h"
#include "gw.h"

static void git_err(char *err, size_t errsz, const char *what)
{
	const git_error *e = git_error_last();
	snprintf(err, errsz, "%s: %s", what, e && e->message ? e->message : "failed");
}

int gw_repo_init(char *err, size_t errsz)
{
	if (git_libgit2_init() < 0) {
		snprintf(err, errsz, "libgit2 failed to start");
		return -1;
	}
	/* no system, global or XDG git config: a deploy depends on the
	 * settings alone (and $HOME may be root's, unreadable now) */
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
		GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/* a local remote (a path, file://) is someone else's repository by
	 * design: its owner is not checked (there is no safe.directory to
	 * read either, with no config) */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	gitstream_set_timeout(GITSTREAM_DEFAULT_TIMEOUT_MS);
	return gitstream_register(err, errsz);
}

void gw_repo_shutdown(void)
{
	for (int i = 0; i < GW.nsvc; i++)
		git_repository_free(GW.svc[i].repo);
	gitstream_cleanup();
	git_libgit2_shutdown();
}

/* ----------------------------------------------------------- the repo */

/* Makes DIR/repo: init into repo.tmp, origin = url, then renamed */
static int make_repo(struct gw_svc *s, const char *path, char *err, size_t errsz)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	gw_rmtree(tmp);
	git_repository *r;
	git_remote *o;
	git_repository_init_options io;
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	if (git_repository_init_ext(&r, tmp, &io)) {
		git_err(err, errsz, "cannot make a repository");
		return -1;
	}
	int rc = git_remote_create(&o, r, "origin", s->url);
	if (rc)
		git_err(err, errsz, "bad url");
	else
		git_remote_free(o);
	git_repository_free(r);
	if (!rc && rename(tmp, path) < 0) {
		snprintf(err, errsz, "cannot rename %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	return rc ? -1 : 0;
}

static int open_repo(struct gw_svc *s, char *err, size_t errsz)
{
	if (s->repo)
		return 0;
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/repo", s->dir);
	git_repository *r;
	if (git_repository_open_bare(&r, path)) {
		if (!stat(path, &st)) {
			gw_log(s, "repository %s unusable (%s): made again", path,
				git_error_last() ? git_error_last()->message : "?");
			gw_rmtree(path);
		}
		if (make_repo(s, path, err, errsz) < 0)
			return -1;
		if (git_repository_open_bare(&r, path)) {
			git_err(err, errsz, "cannot open the repository");
			return -1;
		}
	}
	s->repo = r;
	/* the url of the settings, even if the config changed it */
	git_remote *o;
	if (!git_remote_lookup(&o, r, "origin")) {
		int same = git_remote_url(o) && !strcmp(git_remote_url(o), s->url);
		git_remote_free(o);
		if (same)
			return 0;
	}
	if (git_remote_set_url(r, "origin", s->url)) {
		git_err(err, errsz, "bad url");
		return -1;
	}
	return 0;
}

int gw_credentials(git_credential **out, const char *url, const char *user_from_url,
	unsigned int allowed, void *payload)
{
	struct gw_cred *c = payload;
	(void)url;
	if (!c->secret || !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_PASSTHROUGH;
	/* asked again: the server refused them */
	if (c->tries++) {
		char m[128];
		snprintf(m, sizeof m, "the server refused the credentials of %s", c->what);
		git_error_set_str(GIT_ERROR_HTTP, m);
		return GIT_EAUTH;
	}
	return git_credential_userpass_plaintext_new(out,
		c->user ? c->user : user_from_url ? user_from_url : "git", c->secret);
}

int gw_repo_fetch(struct gw_svc *s, char *err, size_t errsz)
{
	if (open_repo(s, err, errsz) < 0)
		return -1;
	git_remote *o;
	if (git_remote_lookup(&o, s->repo, "origin")) {
		git_err(err, errsz, "no remote origin");
		return -1;
	}
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	struct gw_cred cred = { s->username, s->secret, s->username ? "password_file" : "token_file", 0 };
	fo.callbacks.credentials = gw_credentials;
	fo.callbacks.payload = &cred;
	fo.prune = GIT_FETCH_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	gitstream_set_ca(s->ca_file);
	int rc = 0;
	git_buf b = { 0 };
	if (git_remote_fetch(o, NULL, &fo, NULL)) {
		git_err(err, errsz, "fetch");
		/* a local path that is not there: libgit2 says "unsupported URL
		 * protocol", which sends one looking in the wrong place */
		const char *lp = !strncmp(s->url, "file://", 7) ? s->url + 7 : s->url[0] == '/' ? s->url : NULL;
		struct stat st;
		if (lp && stat(lp, &st) < 0)
			snprintf(err, errsz, "fetch: no repository at %s: %s", lp, strerror(errno));
		rc = -1;
	} else if (!git_remote_default_branch(&b, o)) {
		/* refs/heads/main: main */
		const char *h = b.ptr;
		if (!strncmp(h, "refs/heads/", 11))
			h += 11;
		snprintf(s->head, sizeof s->head, "%s", h);
	} else {
		s->head[0] = 0;
	}
	git_buf_dispose(&b);
	git_remote_free(o);
	return rc;
}

int gw_repo_resolve(struct gw_svc *s, const char *ref, gw_sha sha,
	char *refname, size_t refsz, char *err, size_t errsz)
{
	static const char *const forms[] = {
		"refs/remotes/origin/%s^{commit}", "refs/tags/%s^{commit}", "%s^{commit}"
	};
	if (!ref && !s->head[0]) {
		snprintf(err, errsz, "the remote has no HEAD branch: set git.ref");
		return -1;
	}
	const char *want = ref ? ref : s->head;
	snprintf(refname, refsz, "%s", want);
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		char spec[600];
		git_object *obj;
		snprintf(spec, sizeof spec, forms[i], want);
		if (!git_revparse_single(&obj, s->repo, spec)) {
			git_oid_tostr(sha, GW_SHA_LEN + 1, git_object_id(obj));
			git_object_free(obj);
			return 0;
		}
	}
	snprintf(err, errsz, "no branch, tag or commit '%.200s' in %.300s", want, s->url);
	return -1;
}

int gw_repo_checkout(struct gw_svc *s, const char *sha, char *err, size_t errsz)
{
	char path[4096], tmp[4200];
	struct stat st;
	snprintf(path, sizeof path, "%s/rev-%s", s->dir, sha);
	if (!stat(path, &st))
		return 0;
	if (open_repo(s, err, errsz) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	gw_rmtree(tmp);
	git_oid id;
	git_commit *c;
	if (git_oid_fromstr(&id, sha) || git_commit_lookup(&c, s->repo, &id)) {
		git_err(err, errsz, "checkout");
		return -1;
	}
	/* the tree written into a directory of its own (lib/gitexport:
	 * no index, no libgit2 checkout machinery) */
	git_tree *tree = NULL;
	int rc = 0;
	if (mkdir(tmp, 0755) < 0) {
		snprintf(err, errsz, "checkout: cannot make %s: %s", tmp, strerror(errno));
		rc = -1;
	} else if (git_commit_tree(&tree, c)) {
		git_err(err, errsz, "checkout");
		rc = -1;
	} else if (gitexport_tree(s->repo, tree, tmp, err, errsz)) {
		rc = -1;
	} else if (rename(tmp, path) < 0) {
		snprintf(err, errsz, "checkout: cannot rename %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	git_tree_free(tree);
	git_commit_free(c);
	if (rc)
		gw_rmtree(tmp); /* a full disk: give the space back */
	return rc;
}

#endif /* MLS_HAVE_GIT */
