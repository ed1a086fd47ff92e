/* gw_state.c: what gitwatch keeps on disk (gw.h): DIR/state (JSON,
 * written to state.tmp and renamed), the DIR/current symlink (flipped by
 * symlink current.tmp + rename), the cleanup of old revisions and of what
 * a killed gitwatch left (*.tmp, stale lock files), autoexec.txt. */
#include "applets.h"
#if MLS_HAVE_GIT

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cJSON.h"
#include "gw.h"

#define STATE_MAX (256u << 10)
#define AUTOEXEC_READ 8192 /* of autoexec.txt: its first line is enough */

static const char *const phases[] = {
	"", "cloning", "updating", "verifying", "deployed", "rolled_back", "failed"
};

const char *gw_phase_name(enum gw_phase p)
{
	return phases[p];
}

enum gw_phase gw_phase_of(const char *name)
{
	for (int i = 1; i < (int)(sizeof phases / sizeof *phases); i++)
		if (name && !strcmp(name, phases[i]))
			return (enum gw_phase)i;
	return PH_NONE;
}

/* ----------------------------------------------------------- removal */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)f;
	return (flag == FTW_DP ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT ? -1 : 0;
}

int gw_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int rm_lock(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	size_t n = strlen(p);
	(void)st;
	if (flag == FTW_F && n > 5 && !strcmp(p + n - 5, ".lock"))
		unlink(p);
	(void)f;
	return 0;
}

void gw_clean_leftovers(struct gw_svc *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	char p[4400];
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 4 && !strcmp(e->d_name + n - 4, ".tmp")) {
			snprintf(p, sizeof p, "%s/%s", s->dir, e->d_name);
			gw_rmtree(p);
		}
	}
	if (d)
		closedir(d);
	/* a gitwatch killed in a fetch leaves refs and packed-refs locked */
	snprintf(p, sizeof p, "%s/repo", s->dir);
	nftw(p, rm_lock, 16, FTW_PHYS);
}

/* ------------------------------------------------------------ current */

void gw_current_read(struct gw_svc *s)
{
	char p[4200], t[64];
	snprintf(p, sizeof p, "%s/current", s->dir);
	ssize_t n = readlink(p, t, sizeof t - 1);
	s->current[0] = 0;
	if (n <= 4)
		return;
	t[n] = 0;
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", s->dir, t);
	if (!strncmp(t, "rev-", 4) && gitdeploy_is_sha(t + 4) && !stat(p, &st))
		memcpy(s->current, t + 4, GW_SHA_LEN + 1);
}

int gw_current_flip(struct gw_svc *s, const char *sha, char *err, size_t errsz)
{
	char p[4200], tmp[4200], t[64];
	snprintf(p, sizeof p, "%s/current", s->dir);
	snprintf(tmp, sizeof tmp, "%s/current.tmp", s->dir);
	snprintf(t, sizeof t, "rev-%s", sha);
	unlink(tmp);
	if (symlink(t, tmp) < 0 || rename(tmp, p) < 0) {
		snprintf(err, errsz, "cannot point %s at %s: %s", p, t, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------- bad, recent */

int gw_bad_find(const struct gw_svc *s, const char *sha)
{
	for (int i = 0; i < s->sv.nbad; i++)
		if (!strcmp(s->sv.bad[i].rev, sha))
			return i;
	return -1;
}

void gw_bad_add(struct gw_svc *s, const char *sha, const char *reason)
{
	if (gw_bad_find(s, sha) >= 0)
		return;
	struct gw_saved *v = &s->sv;
	if (v->nbad == GW_MAX_BAD) /* the oldest goes */
		memmove(v->bad, v->bad + 1, sizeof *v->bad * --v->nbad);
	snprintf(v->bad[v->nbad].rev, sizeof v->bad->rev, "%s", sha);
	snprintf(v->bad[v->nbad++].reason, sizeof v->bad->reason, "%s", reason);
}

void gw_recent_add(struct gw_svc *s, const char *sha)
{
	struct gw_saved *v = &s->sv;
	int i = 0;
	while (i < v->nrecent && strcmp(v->recent[i], sha))
		i++;
	if (i == v->nrecent && v->nrecent < GW_MAX_RECENT)
		v->nrecent++;
	if (i == GW_MAX_RECENT)
		i--;
	memmove(v->recent + 1, v->recent, sizeof *v->recent * (size_t)i);
	memcpy(v->recent[0], sha, GW_SHA_LEN + 1);
}

static int kept(const struct gw_svc *s, const char *sha)
{
	const struct gw_saved *v = &s->sv;
	if (!strcmp(sha, s->current) || !strcmp(sha, v->good) || !strcmp(sha, v->prev_good) ||
	    (s->stage != ST_IDLE && !strcmp(sha, s->cand)))
		return 1;
	/* the newest `keep` revisions that were not marked bad */
	for (int i = 0, n = 0; i < v->nrecent && n < s->keep; i++) {
		if (gw_bad_find(s, v->recent[i]) >= 0)
			continue;
		if (!strcmp(sha, v->recent[i]))
			return 1;
		n++;
	}
	return 0;
}

void gw_clean_revisions(struct gw_svc *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	char p[4400];
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "rev-", 4) || !gitdeploy_is_sha(e->d_name + 4) ||
		    kept(s, e->d_name + 4))
			continue;
		snprintf(p, sizeof p, "%s/%s", s->dir, e->d_name);
		if (gw_rmtree(p) < 0)
			gw_log(s, "cannot remove %s: %s", p, strerror(errno));
		else
			gw_log(s, "removed %.11s", e->d_name);
	}
	if (d)
		closedir(d);
}

/* --------------------------------------------------------- the file */

static void get_str(const cJSON *o, const char *key, char *out, size_t outsz)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	snprintf(out, outsz, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void get_sha(const cJSON *o, const char *key, gw_sha out)
{
	get_str(o, key, out, GW_SHA_LEN + 1);
	if (!gitdeploy_is_sha(out))
		out[0] = 0;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *b = malloc(max + 1);
	ssize_t n = b ? read(fd, b, max) : -1;
	int e = errno;
	close(fd);
	if (n < 0) {
		free(b);
		errno = e;
		return NULL;
	}
	b[n] = 0;
	*len = (size_t)n;
	return b;
}

int gw_state_load(struct gw_svc *s)
{
	char p[4200];
	size_t n;
	snprintf(p, sizeof p, "%s/state", s->dir);
	char *b = read_file(p, STATE_MAX, &n);
	cJSON *j = b ? cJSON_ParseWithLength(b, n) : NULL, *v;
	free(b);
	struct gw_saved *sv = &s->sv;
	if (!cJSON_IsObject(j)) {
		if (b || errno != ENOENT)
			gw_log(s, "%s unreadable: starting afresh", p);
		cJSON_Delete(j);
		return -1;
	}
	get_sha(j, "good", sv->good);
	get_str(j, "good_ref", sv->good_ref, sizeof sv->good_ref);
	get_sha(j, "prev_good", sv->prev_good);
	get_str(j, "prev_good_ref", sv->prev_good_ref, sizeof sv->prev_good_ref);
	get_str(j, "ref", sv->ref, sizeof sv->ref);
	get_sha(j, "verifying", sv->verifying);
	get_sha(j, "from", sv->from);
	get_str(j, "message", sv->message, sizeof sv->message);
	get_sha(j, "hold", sv->hold);
	char ph[32];
	get_str(j, "phase", ph, sizeof ph);
	sv->phase = gw_phase_of(ph);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "bad")) {
		gw_sha r;
		char why[GW_MSG_MAX + 1];
		get_sha(v, "rev", r);
		get_str(v, "reason", why, sizeof why);
		if (r[0])
			gw_bad_add(s, r, why);
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "recent"))
		if (cJSON_IsString(v) && gitdeploy_is_sha(v->valuestring) && sv->nrecent < GW_MAX_RECENT)
			memcpy(sv->recent[sv->nrecent++], v->valuestring, GW_SHA_LEN + 1);
	cJSON_Delete(j);
	return 0;
}

int gw_state_save(struct gw_svc *s)
{
	const struct gw_saved *sv = &s->sv;
	cJSON *j = cJSON_CreateObject(), *bad = cJSON_CreateArray(), *rec = cJSON_CreateArray();
	cJSON_AddStringToObject(j, "good", sv->good);
	cJSON_AddStringToObject(j, "good_ref", sv->good_ref);
	cJSON_AddStringToObject(j, "prev_good", sv->prev_good);
	cJSON_AddStringToObject(j, "prev_good_ref", sv->prev_good_ref);
	cJSON_AddStringToObject(j, "ref", sv->ref);
	cJSON_AddStringToObject(j, "verifying", sv->verifying);
	cJSON_AddStringToObject(j, "phase", gw_phase_name(sv->phase));
	cJSON_AddStringToObject(j, "message", sv->message);
	cJSON_AddStringToObject(j, "from", sv->from);
	cJSON_AddStringToObject(j, "hold", sv->hold);
	for (int i = 0; i < sv->nbad; i++) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "rev", sv->bad[i].rev);
		cJSON_AddStringToObject(b, "reason", sv->bad[i].reason);
		cJSON_AddItemToArray(bad, b);
	}
	for (int i = 0; i < sv->nrecent; i++)
		cJSON_AddItemToArray(rec, cJSON_CreateString(sv->recent[i]));
	cJSON_AddItemToObject(j, "bad", bad);
	cJSON_AddItemToObject(j, "recent", rec);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	char p[4200], tmp[4200];
	snprintf(p, sizeof p, "%s/state", s->dir);
	snprintf(tmp, sizeof tmp, "%s/state.tmp", s->dir);
	int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	size_t len = text ? strlen(text) : 0;
	int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
		fsync(fd) == 0;
	if (fd >= 0)
		ok = !close(fd) && ok;
	free(text);
	if (!ok || rename(tmp, p) < 0) {
		gw_log(s, "cannot write %s: %s", p, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------- autoexec */

int gw_autoexec(struct gw_svc *s, const char *sha, struct autoexec *a,
	char *err, size_t errsz)
{
	char p[4400];
	size_t n;
	snprintf(p, sizeof p, "%s/rev-%s/autoexec.txt", s->dir, sha);
	char *b = read_file(p, AUTOEXEC_READ, &n);
	if (!b) {
		snprintf(err, errsz, "autoexec.txt: %s in %.7s", errno == ENOENT ? "no such file" :
			strerror(errno), sha);
		return -1;
	}
	int rc = autoexec_parse(a, b, n, err, errsz);
	free(b);
	struct stat st;
	if (!rc) {
		snprintf(p, sizeof p, "%s/rev-%s/%s", s->dir, sha, a->file);
		int missing = lstat(p, &st) < 0;
		if (missing || S_ISDIR(st.st_mode)) {
			snprintf(err, errsz, "autoexec.txt names %.200s, which is %s", a->file,
				missing ? "not in the repository" : "a directory");
			rc = -1;
		}
	}
	return rc;
}

#endif /* MLS_HAVE_GIT */
