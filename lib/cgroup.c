/* cgroup.c: cgroup v2 for service instances (cgroup.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "cgroup.h"

#define CGROUP2_MAGIC 0x63677270

static const char *const ctrl_name[] = { "memory", "cpu", "pids", "io" };

/* Writes s into dir/file; 0 or -1 with errno */
static int put(const char *dir, const char *file, const char *s)
{
	char p[CGROUP_PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Reads dir/file into buf (NUL-terminated); its length or -1 */
static ssize_t get(const char *dir, const char *file, char *buf, size_t sz)
{
	char p[CGROUP_PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sz - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* The value of "key N" in a flat-keyed file's text, or -1 */
static int64_t keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	return -1;
}

static unsigned read_ctrl(const char *dir, const char *file)
{
	char buf[256];
	unsigned c = 0;
	if (get(dir, file, buf, sizeof buf) < 0)
		return 0;
	for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n"))
		for (unsigned k = 0; k < 4; k++)
			if (!strcmp(w, ctrl_name[k]))
				c |= 1u << k;
	return c;
}

/* Enables in dir's subtree_control every controller of `want` it can;
 * returns what is enabled after, or (unsigned)-1 on EBUSY (processes in
 * dir while it is not the root) */
static unsigned enable(const char *dir, unsigned want)
{
	for (unsigned k = 0; k < 4; k++) {
		if (!(want & (1u << k)))
			continue;
		char w[16];
		snprintf(w, sizeof w, "+%s", ctrl_name[k]);
		if (put(dir, "cgroup.subtree_control", w) < 0 && errno == EBUSY)
			return (unsigned)-1;
	}
	return read_ctrl(dir, "cgroup.subtree_control");
}

const char *cgroup_ctrl_names(unsigned ctrl, char *buf, size_t sz)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned k = 0; k < 4; k++)
		if (ctrl & (1u << k))
			n += (size_t)snprintf(buf + n, n < sz ? sz - n : 0, "%s%s", n ? " " : "", ctrl_name[k]);
	if (!n)
		snprintf(buf, sz, "none");
	return buf;
}

/* mls's own cgroup directory under mnt, if it is a writable cgroup2 one:
 * 0, or -1 with why */
static int find_base(const char *mnt, char *base, size_t basesz, char *why, size_t whysz)
{
	if (!mnt)
		mnt = CGROUP_DEFAULT_MOUNT;
	struct statfs sf;
	if (statfs(mnt, &sf) < 0) {
		snprintf(why, whysz, "%s: %s", mnt, strerror(errno));
		return -1;
	}
	if ((unsigned long)sf.f_type != CGROUP2_MAGIC) {
		snprintf(why, whysz, "%s is not a cgroup2 mount (cgroup v1 or none)", mnt);
		return -1;
	}
	/* our own cgroup: "0::/PATH" */
	char self[CGROUP_PATH_MAX];
	if (get("/proc/self", "cgroup", self, sizeof self) < 0) {
		snprintf(why, whysz, "/proc/self/cgroup: %s", strerror(errno));
		return -1;
	}
	char *p = strstr(self, "0::");
	if (!p || (p != self && p[-1] != '\n')) {
		snprintf(why, whysz, "/proc/self/cgroup has no cgroup2 entry");
		return -1;
	}
	p += 3;
	p[strcspn(p, "\n")] = 0;
	if ((size_t)snprintf(base, basesz, "%s%s", mnt, strcmp(p, "/") ? p : "") >= basesz - 32) {
		snprintf(why, whysz, "the cgroup path is too long");
		return -1;
	}
	if (access(base, W_OK) < 0) {
		snprintf(why, whysz, "%s is not writable: %s", base, strerror(errno));
		return -1;
	}
	return 0;
}

int cgroup_probe(const char *mnt, char *why, size_t whysz)
{
	char base[CGROUP_PATH_MAX];
	return find_base(mnt, base, sizeof base, why, whysz);
}

int cgroup_init(struct cgroup_root *r, const char *mnt)
{
	char base[CGROUP_PATH_MAX];
	memset(r, 0, sizeof *r);
	if (find_base(mnt, base, sizeof base, r->why, sizeof r->why))
		return -1;
	unsigned want = read_ctrl(base, "cgroup.controllers") & (CG_MEMORY | CG_CPU | CG_PIDS | CG_IO);
	unsigned got = enable(base, want);
	if (got == (unsigned)-1) {
		/* processes here and not the root: move ourselves to a leaf */
		char leaf[CGROUP_PATH_MAX + 16], pid[24];
		snprintf(leaf, sizeof leaf, "%s/supervise", base);
		snprintf(pid, sizeof pid, "%d", (int)getpid());
		if ((mkdir(leaf, 0755) < 0 && errno != EEXIST) || put(leaf, "cgroup.procs", pid) < 0) {
			snprintf(r->why, sizeof r->why, "cannot move mls into %.120s: %s", leaf, strerror(errno));
			return -1;
		}
		got = enable(base, want);
		if (got == (unsigned)-1)
			got = 0; /* other processes are there too: no controllers */
	}
	if ((size_t)snprintf(r->base, sizeof r->base, "%s/mls", base) >= sizeof r->base - 80 ||
	    (mkdir(r->base, 0755) < 0 && errno != EEXIST)) {
		snprintf(r->why, sizeof r->why, "cannot make %.120s/mls: %s", base, strerror(errno));
		return -1;
	}
	got = enable(r->base, got);
	r->ctrl = got == (unsigned)-1 ? 0 : got;
	r->ok = 1;
	return 0;
}

static int path_of(const struct cgroup_root *r, const char *name, char *out, size_t sz)
{
	if (!r->ok || !*name || strchr(name, '/') || name[0] == '.')
		return -1;
	return (size_t)snprintf(out, sz, "%s/%s", r->base, name) < sz ? 0 : -1;
}

static int limit(const char *dir, const char *file, const char *val, unsigned have, unsigned need, const char *key,
		 char *err, size_t errsz)
{
	if (!(have & need)) {
		snprintf(err, errsz, "%s needs the cgroup %s controller, which is not enabled here", key,
			 ctrl_name[__builtin_ctz(need)]);
		return -1;
	}
	if (put(dir, file, val) < 0) {
		snprintf(err, errsz, "%s: cannot write %s: %s", key, file, strerror(errno));
		return -1;
	}
	return 0;
}

int cgroup_prepare(const struct cgroup_root *r, const char *name, const struct cgroup_limits *lim,
	char *err, size_t errsz)
{
	char dir[CGROUP_PATH_MAX + 80], v[64];
	if (path_of(r, name, dir, sizeof dir) < 0) {
		snprintf(err, errsz, "no cgroup for '%s'", name);
		return -1;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "cannot make the cgroup %s: %s", dir, strerror(errno));
		return -1;
	}
	/* each controller's file written, an unset limit as "max" (a reload
	 * may have removed it). memory and pids without their controller
	 * fall back to rlimits (the caller's); cpu, swap and io_weight have
	 * no fallback: asked for, they are an error. */
	if (r->ctrl & CG_MEMORY) {
		snprintf(v, sizeof v, lim->memory >= 0 ? "%lld" : "max", (long long)lim->memory);
		if (limit(dir, "memory.max", v, r->ctrl, CG_MEMORY, "limits.memory", err, errsz))
			return -1;
		snprintf(v, sizeof v, lim->swap >= 0 ? "%lld" : "max", (long long)lim->swap);
		if (put(dir, "memory.swap.max", v) < 0 && lim->swap >= 0) { /* absent without swap accounting */
			snprintf(err, errsz, "limits.swap: cannot write memory.swap.max: %s", strerror(errno));
			return -1;
		}
	} else if (lim->swap >= 0 && limit(dir, "memory.swap.max", "0", r->ctrl, CG_MEMORY, "limits.swap", err, errsz))
		return -1;
	if (lim->cpu > 0 || (r->ctrl & CG_CPU)) {
		long long q = (long long)(lim->cpu * 100000 + 0.5);
		if (lim->cpu > 0)
			snprintf(v, sizeof v, "%lld 100000", q < 1000 ? 1000 : q);
		else
			snprintf(v, sizeof v, "max 100000");
		if (limit(dir, "cpu.max", v, r->ctrl, CG_CPU, "limits.cpu", err, errsz))
			return -1;
	}
	if (r->ctrl & CG_PIDS) {
		snprintf(v, sizeof v, lim->pids >= 0 ? "%lld" : "max", (long long)lim->pids);
		if (limit(dir, "pids.max", v, r->ctrl, CG_PIDS, "limits.pids", err, errsz))
			return -1;
	}
	if (lim->io_weight > 0) {
		snprintf(v, sizeof v, "default %d", lim->io_weight);
		if (limit(dir, "io.weight", v, r->ctrl, CG_IO, "limits.io_weight", err, errsz))
			return -1;
	} else if (r->ctrl & CG_IO)
		put(dir, "io.weight", "default 100"); /* absent without a weight-based I/O scheduler */
	char p[CGROUP_PATH_MAX + 96];
	snprintf(p, sizeof p, "%s/cgroup.procs", dir);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errsz, "cannot open %s: %s", p, strerror(errno));
	return fd;
}

int cgroup_signal(const struct cgroup_root *r, const char *name, int sig)
{
	char dir[CGROUP_PATH_MAX + 80], buf[8192];
	if (path_of(r, name, dir, sizeof dir) < 0)
		return -1;
	if (get(dir, "cgroup.procs", buf, sizeof buf) < 0)
		return errno == ENOENT ? 0 : -1;
	for (char *w = strtok(buf, "\n"); w; w = strtok(NULL, "\n"))
		if (atoi(w) > 0)
			kill((pid_t)atoi(w), sig);
	return 0;
}

int cgroup_kill(const struct cgroup_root *r, const char *name)
{
	char dir[CGROUP_PATH_MAX + 80];
	if (path_of(r, name, dir, sizeof dir) < 0)
		return -1;
	if (put(dir, "cgroup.kill", "1") == 0)
		return 0;
	if (errno == ENOENT && access(dir, F_OK) < 0)
		return 0; /* no cgroup: nothing in it */
	/* before Linux 5.14: each pid (a fork racing this is caught by the
	 * next call: the caller kills again until it is empty) */
	return cgroup_signal(r, name, SIGKILL);
}

int cgroup_populated(const struct cgroup_root *r, const char *name)
{
	char dir[CGROUP_PATH_MAX + 80], buf[256];
	if (path_of(r, name, dir, sizeof dir) < 0)
		return 0;
	if (get(dir, "cgroup.events", buf, sizeof buf) < 0)
		return errno == ENOENT ? 0 : -1;
	int64_t v = keyed(buf, "populated");
	return v < 0 ? -1 : v > 0;
}

int64_t cgroup_oom_kills(const struct cgroup_root *r, const char *name)
{
	char dir[CGROUP_PATH_MAX + 80], buf[512];
	if (path_of(r, name, dir, sizeof dir) < 0 || get(dir, "memory.events", buf, sizeof buf) < 0)
		return -1;
	return keyed(buf, "oom_kill");
}

void cgroup_usage(const struct cgroup_root *r, const char *name, int64_t *cpu_usec, int64_t *mem_bytes)
{
	char dir[CGROUP_PATH_MAX + 80], buf[1024];
	*cpu_usec = *mem_bytes = -1;
	if (path_of(r, name, dir, sizeof dir) < 0)
		return;
	if (get(dir, "cpu.stat", buf, sizeof buf) > 0)
		*cpu_usec = keyed(buf, "usage_usec");
	if (get(dir, "memory.current", buf, sizeof buf) > 0)
		*mem_bytes = strtoll(buf, NULL, 10);
}

int cgroup_remove(const struct cgroup_root *r, const char *name)
{
	char dir[CGROUP_PATH_MAX + 80];
	if (path_of(r, name, dir, sizeof dir) < 0)
		return -1;
	return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}
