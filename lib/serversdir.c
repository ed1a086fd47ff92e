/* serversdir.c: the kinds and names of servers_dir entries (serversdir.h) */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gitdeploy.h"
#include "serversdir.h"

#define DOCKER_MAX_FILES 10000 /* files fingerprinted under a Docker directory */
#define DOCKER_MAX_DEPTH 16

const char *srv_kind_name(enum srv_kind k)
{
	static const char *const names[] = { "ignored", "executable", "script", "mls.yaml", "autoexec.txt",
		"Dockerfile", "run" };
	return names[k];
}

static int ends(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

int srv_ignored_name(const char *name)
{
	static const char *const sufs[] = { "~", ".swp", ".swo", ".swx", ".tmp", ".bak", ".orig", ".disabled", NULL };
	if (name[0] == '.' || !*name)
		return 1;
	for (int k = 0; sufs[k]; k++)
		if (ends(name, sufs[k]))
			return 1;
	return 0;
}

const char *srv_ext(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && dot != name && dot[1] ? dot : NULL;
}

int srv_service_name(const char *entry, int isdir, char *out, size_t outsz)
{
	size_t n = strlen(entry), o = 0;
	const char *ext = isdir ? NULL : srv_ext(entry);
	if (ext)
		n = (size_t)(ext - entry);
	for (size_t k = 0; k < n && o + 1 < outsz && o < 63; k++) {
		unsigned char c = (unsigned char)entry[k];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			c = '-';
		if (o == 0 && (c == '-' || c == '_'))
			continue;
		out[o++] = (char)c;
	}
	if (outsz)
		out[o < outsz ? o : outsz - 1] = 0;
	return o ? 0 : -1;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t k = 0; k < n; k++)
		h = (h ^ b[k]) * 1099511628211ULL;
	return h;
}

/* Mixes what a change of the file at path would change; 0 when it is
 * there, -1 when not */
static int stamp_file(uint64_t *h, const char *path, struct stat *out)
{
	struct stat st;
	if (stat(path, &st))
		return -1;
	int64_t v[6] = { (int64_t)st.st_dev, (int64_t)st.st_ino, (int64_t)st.st_size, (int64_t)st.st_mode,
		(int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec };
	*h = mix(*h, v, sizeof v);
	*h = mix(*h, path, strlen(path) + 1);
	if (out)
		*out = st;
	return 0;
}

/* Every file under dir (sorted order does not matter: the mix of each
 * entry is summed, so readdir's order changes nothing) */
static void stamp_tree(uint64_t *sum, const char *dir, int depth, int *left)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && *left > 0) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[4096];
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
			continue;
		struct stat st;
		uint64_t h = 1469598103934665603ULL;
		if (lstat(path, &st))
			continue;
		(*left)--;
		int64_t v[4] = { (int64_t)st.st_size, (int64_t)st.st_mode, (int64_t)st.st_mtim.tv_sec,
			(int64_t)st.st_mtim.tv_nsec };
		h = mix(mix(h, v, sizeof v), path, strlen(path));
		*sum += h;
		if (S_ISDIR(st.st_mode) && depth < DOCKER_MAX_DEPTH)
			stamp_tree(sum, path, depth + 1, left);
	}
	closedir(d);
}

/* The entry point autoexec.txt names, relative to dir, into out */
static int autoexec_target(const char *dir, char *out, size_t outsz)
{
	char path[4200], text[AUTOEXEC_MAX_LINE + 64];
	snprintf(path, sizeof path, "%s/autoexec.txt", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0)
		return -1;
	static struct autoexec a; /* 2 KiB: not on the stack of PID 1 */
	char err[128];
	if (autoexec_parse(&a, text, (size_t)n, err, sizeof err))
		return -1;
	snprintf(out, outsz, "%s", a.file);
	return 0;
}

int srv_defining_name(const char *name)
{
	return !strcmp(name, "mls.yaml") || !strcmp(name, "autoexec.txt") || !strcmp(name, "Dockerfile") ||
	       !strcmp(name, "run");
}

enum srv_kind srv_classify(const char *dir, const char *name,
	int (*has_interp)(const char *ext, void *ctx), void *ctx,
	uint64_t *stamp, char *why, size_t whysz)
{
	char path[4096], sub[4200];
	struct stat st;
	uint64_t h = 1469598103934665603ULL;
	*why = 0;
	if (srv_ignored_name(name)) {
		snprintf(why, whysz, "a hidden, temporary or disabled file");
		return SRV_SKIP;
	}
	if (strlen(name) > SERVERS_MAX_NAME ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path - 32) {
		snprintf(why, whysz, "its name is too long");
		return SRV_SKIP;
	}
	if (stamp_file(&h, path, &st)) {
		snprintf(why, whysz, "cannot be read (a dangling symlink?)");
		return SRV_SKIP;
	}
	enum srv_kind kind = SRV_SKIP;
	if (S_ISDIR(st.st_mode)) {
		/* not the directory's own times: any file made in it changes them */
		struct stat t;
		h = mix(1469598103934665603ULL, path, strlen(path) + 1);
		snprintf(sub, sizeof sub, "%s/mls.yaml", path);
		if (stamp_file(&h, sub, &t) == 0 && S_ISREG(t.st_mode)) {
			kind = SRV_YAML;
		} else if (snprintf(sub, sizeof sub, "%s/autoexec.txt", path), stamp_file(&h, sub, &t) == 0) {
			char target[AUTOEXEC_MAX_LINE + 1];
			kind = SRV_AUTOEXEC;
			if (autoexec_target(path, target, sizeof target) == 0 &&
			    (size_t)snprintf(sub, sizeof sub, "%s/%s", path, target) < sizeof sub)
				stamp_file(&h, sub, NULL);
		} else if (snprintf(sub, sizeof sub, "%s/Dockerfile", path), stamp_file(&h, sub, &t) == 0) {
			int left = DOCKER_MAX_FILES;
			uint64_t sum = 0;
			stamp_tree(&sum, path, 0, &left);
			h = mix(h, &sum, sizeof sum);
			kind = SRV_DOCKER;
		} else if (snprintf(sub, sizeof sub, "%s/run", path), stamp_file(&h, sub, &t) == 0 &&
			   S_ISREG(t.st_mode) && (t.st_mode & 0111)) {
			kind = SRV_RUN;
		} else {
			snprintf(why, whysz, "a directory with no mls.yaml, autoexec.txt, Dockerfile or executable run");
		}
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file or a directory");
	} else if (srv_ext(name) && has_interp && has_interp(srv_ext(name), ctx)) {
		kind = SRV_SCRIPT;
	} else if (st.st_mode & 0111) {
		kind = SRV_EXEC;
	} else if (srv_ext(name)) {
		snprintf(why, whysz, "not executable, and no interpreter for '%.32s'", srv_ext(name));
	} else {
		snprintf(why, whysz, "not executable");
	}
	*stamp = h;
	return kind;
}
