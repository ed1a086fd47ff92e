/* initmode.c: init mode's boot and shutdown steps. See initmode.h. */
#include "initmode.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEED_BYTES 512

static enum init_result say(enum init_result r, char *msg, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum init_result say(enum init_result r, char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (n)
		vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	return r;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ detection */

static int has_word(const char *text, const char *word)
{
	return text && strstr(text, word);
}

enum init_verdict init_detect(const struct init_probe *p, char *why, size_t whysz)
{
	static const char *const runtimes[] = { "docker", "lxc", "kubepods", "libpod", "containerd", NULL };
	if (!p->pid1)
		return say(0, why, whysz, "not PID 1"), INIT_NOT_PID1;
	if (p->container_env && *p->container_env)
		return say(0, why, whysz, "$container is '%s'", p->container_env), INIT_CONTAINER;
	if (p->container_file)
		return say(0, why, whysz, "/.dockerenv or /run/.containerenv exists"), INIT_CONTAINER;
	if (!p->proc_mounted)
		return say(0, why, whysz, "PID 1 with no /proc mounted yet: the kernel's first process"), INIT_SYSTEM;
	for (int k = 0; runtimes[k]; k++)
		if (has_word(p->pid1_cgroup, runtimes[k]))
			return say(0, why, whysz, "/proc/1/cgroup names %s", runtimes[k]), INIT_CONTAINER;
	if (p->pid2_comm && !strcmp(p->pid2_comm, "kthreadd"))
		return say(0, why, whysz, "PID 2 is kthreadd: the initial PID namespace"), INIT_SYSTEM;
	return say(0, why, whysz, "PID 1 of a PID namespace (no kthreadd as PID 2)"), INIT_CONTAINER;
}

/* Reads up to n - 1 bytes of path into buf; NULL when it cannot */
static char *read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || n == 0)
		return fd >= 0 ? (close(fd), NULL) : NULL;
	size_t len = 0;
	ssize_t r;
	while (len + 1 < n && (r = read(fd, buf + len, n - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = 0;
	return buf;
}

void init_probe_read(struct init_probe *p, char *buf, size_t n)
{
	memset(p, 0, sizeof *p);
	p->pid1 = getpid() == 1;
	p->container_env = getenv("container");
	p->container_file = access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0;
	p->proc_mounted = access("/proc/self/mountinfo", R_OK) == 0;
	size_t half = n / 2;
	if (p->proc_mounted && half > 1) {
		p->pid2_comm = read_small("/proc/2/comm", buf, 64 < half ? 64 : half);
		if (p->pid2_comm)
			buf[strcspn(buf, "\n")] = 0;
		p->pid1_cgroup = read_small("/proc/1/cgroup", buf + half, n - half);
	}
}

/* ------------------------------------------------------------ mountinfo */

/* Copies one space-separated field, decoding \NNN octal escapes */
static const char *field(const char *s, char *out, size_t n, int *ok)
{
	size_t k = 0;
	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		*ok = 0;
	while (*s && *s != ' ' && *s != '\n') {
		char c = *s++;
		if (c == '\\' && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
			s += 3;
		}
		if (k + 1 >= n)
			*ok = 0;
		else
			out[k++] = c;
	}
	if (n)
		out[k] = 0;
	return s;
}

/* 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * (1)(2)(3)   (4)   (5)      (6)     (7)   (8) (9)   (10)         (11) */
int mountinfo_parse_line(const char *line, struct mountent *m)
{
	char tmp[INIT_PATH_MAX];
	int ok = 1;
	memset(m, 0, sizeof *m);
	char *end;
	m->id = (int)strtol(line, &end, 10);
	if (end == line || *end != ' ')
		return -1;
	const char *s = end;
	m->parent = (int)strtol(s, &end, 10);
	if (end == s || *end != ' ')
		return -1;
	s = field(end, tmp, sizeof tmp, &ok);          /* major:minor */
	s = field(s, tmp, sizeof tmp, &ok);            /* root */
	s = field(s, m->target, sizeof m->target, &ok);
	s = field(s, tmp, sizeof tmp, &ok);            /* mount options */
	for (;;) {                                     /* optional fields, then "-" */
		s = field(s, tmp, sizeof tmp, &ok);
		if (!ok || !strcmp(tmp, "-"))
			break;
	}
	s = field(s, m->fstype, sizeof m->fstype, &ok);
	field(s, m->source, sizeof m->source, &ok);
	return ok && m->target[0] == '/' ? 0 : -1;
}

/* Calls fn for each parsed line until it returns nonzero */
static int each_line(const char *text, int (*fn)(const struct mountent *m, void *ctx), void *ctx)
{
	struct mountent m;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		if (mountinfo_parse_line(p, &m) == 0 && fn(&m, ctx))
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int is_target(const struct mountent *m, void *ctx)
{
	return !strcmp(m->target, ctx);
}

int mountinfo_has(const char *text, const char *target)
{
	return each_line(text, is_target, (void *)target);
}

struct listctx {
	struct mountent *v;
	int n, max;
};

static int add_ent(const struct mountent *m, void *ctx)
{
	struct listctx *l = ctx;
	if (l->n < l->max)
		l->v[l->n++] = *m;
	return l->n >= l->max;
}

int mountinfo_list(const char *text, struct mountent *v, int max)
{
	struct listctx l = { v, 0, max };
	if (max > 0)
		each_line(text, add_ent, &l);
	return l.n;
}

/* ------------------------------------------------------------ boot steps */

#define NSD (MS_NOSUID | MS_NODEV)
const struct init_mount init_early_mounts[] = {
	{ "proc", "/proc", "proc", NSD | MS_NOEXEC, NULL, 0 },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0 },
	{ "sysfs", "/sys", "sysfs", NSD | MS_NOEXEC, NULL, 0 },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666", 0 },
	{ "tmpfs", "/dev/shm", "tmpfs", NSD, "mode=1777", 0 },
	{ "tmpfs", "/run", "tmpfs", NSD, "mode=0755", 0 },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", NSD | MS_NOEXEC, NULL, 1 },
};
const int init_nearly_mounts = sizeof init_early_mounts / sizeof init_early_mounts[0];

/* Is type a line of /proc/filesystems ("nodev\tcgroup2" or "\text4")? */
static int fs_listed(const char *fs, const char *type)
{
	size_t tl = strlen(type);
	for (const char *p = fs; p && *p;) {
		const char *nl = strchr(p, '\n'), *tab = strchr(p, '\t');
		const char *name = tab && (!nl || tab < nl) ? tab + 1 : p;
		size_t len = (size_t)((nl ? nl : name + strlen(name)) - name);
		if (len == tl && !memcmp(name, type, tl))
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

enum init_result init_mount_plan(const struct init_mount *m, const char *mountinfo, const char *filesystems,
	char *why, size_t whysz)
{
	if (mountinfo_has(mountinfo, m->target))
		return say(INIT_SKIPPED, why, whysz, "%s: mounted already", m->target);
	if (m->if_fs && filesystems && !fs_listed(filesystems, m->type))
		return say(INIT_SKIPPED, why, whysz, "%s: the kernel has no %s", m->target, m->type);
	return say(INIT_DONE, why, whysz, "%s: to mount", m->target);
}

char *init_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	ssize_t r;
	while (b && (r = read(fd, b + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (cap - len < 2) {
			char *nb = cap < (64u << 20) ? realloc(b, cap * 2) : NULL;
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (b)
		b[len] = 0;
	return b;
}

/* mkdir -p dir (0755); errors show up in the step that needs it */
static void mkdir_p(const char *dir)
{
	char d[INIT_PATH_MAX];
	struct stat st;
	if (stat(dir, &st) == 0 || snprintf(d, sizeof d, "%s", dir) >= (int)sizeof d)
		return;
	for (char *p = d + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(d, 0755);
			*p = '/';
		}
	mkdir(d, 0755);
}

static enum init_result do_mount(const char *source, const char *target, const char *type, unsigned long flags,
	const char *data, char *msg, size_t n)
{
	mkdir_p(target);
	if (mount(source, target, type, flags, data) < 0)
		return say(INIT_FAILED, msg, n, "cannot mount %s (%s) on %s: %s", source, type, target, strerror(errno));
	return say(INIT_DONE, msg, n, "mounted %s on %s%s%s", type, target, data ? " " : "", data ? data : "");
}

enum init_result init_mount(const struct init_mount *m, char *msg, size_t n)
{
	char *mi = init_read_file("/proc/self/mountinfo");
	char *fs = m->if_fs ? init_read_file("/proc/filesystems") : NULL;
	enum init_result r = init_mount_plan(m, mi, fs, msg, n);
	free(mi);
	free(fs);
	if (r != INIT_DONE)
		return r;
	return do_mount(m->source, m->target, m->type, m->flags, m->data, msg, n);
}

enum init_result init_mount_opts(const char *source, const char *target, const char *type, const char *options,
	char *msg, size_t n)
{
	static const struct { const char *name; unsigned long flag; } fl[] = {
		{ "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
		{ "noatime", MS_NOATIME }, { "relatime", MS_RELATIME }, { "sync", MS_SYNCHRONOUS },
		{ "bind", MS_BIND }, { "rbind", MS_BIND | MS_REC }, { "rw", 0 }, { "defaults", 0 },
	};
	char data[512] = "", opts[512];
	unsigned long flags = 0;
	snprintf(opts, sizeof opts, "%s", options ? options : "");
	for (char *save, *w = strtok_r(opts, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t k = 0, nf = sizeof fl / sizeof fl[0];
		while (k < nf && strcmp(fl[k].name, w))
			k++;
		if (k < nf)
			flags |= fl[k].flag;
		else
			snprintf(data + strlen(data), sizeof data - strlen(data), "%s%s", data[0] ? "," : "", w);
	}
	char *mi = init_read_file("/proc/self/mountinfo");
	int there = mountinfo_has(mi, target);
	free(mi);
	if (there)
		return say(INIT_SKIPPED, msg, n, "%s: mounted already", target);
	return do_mount(source, target, type, flags, data[0] ? data : NULL, msg, n);
}

enum init_result init_remount_root(int rw, char *msg, size_t n)
{
	if (mount(NULL, "/", NULL, MS_REMOUNT | (rw ? 0 : MS_RDONLY), NULL) < 0)
		return say(INIT_FAILED, msg, n, "cannot remount / %s: %s", rw ? "read-write" : "read-only",
			strerror(errno));
	return say(INIT_DONE, msg, n, "remounted / %s", rw ? "read-write" : "read-only");
}

enum init_result init_hostname(const char *path, char *msg, size_t n)
{
	char b[256];
	if (!read_small(path, b, sizeof b))
		return say(errno == ENOENT ? INIT_SKIPPED : INIT_FAILED, msg, n, "hostname: cannot read %s: %s", path,
			strerror(errno));
	char *h = b + strspn(b, " \t\r\n");
	h[strcspn(h, " \t\r\n#")] = 0;
	if (!*h)
		return say(INIT_SKIPPED, msg, n, "hostname: %s is empty", path);
	if (sethostname(h, strlen(h)) < 0)
		return say(INIT_FAILED, msg, n, "cannot set the hostname to '%s': %s", h, strerror(errno));
	return say(INIT_DONE, msg, n, "hostname set to '%s' (from %s)", h, path);
}

enum init_result init_loopback(char *msg, size_t n)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return say(INIT_FAILED, msg, n, "lo: no socket: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	enum init_result r;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = say(INIT_FAILED, msg, n, "lo: SIOCGIFFLAGS: %s", strerror(errno));
	else if (ifr.ifr_flags & IFF_UP)
		r = say(INIT_SKIPPED, msg, n, "lo: up already");
	else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			r = say(INIT_FAILED, msg, n, "lo: SIOCSIFFLAGS: %s", strerror(errno));
		else
			r = say(INIT_DONE, msg, n, "lo is up");
	}
	close(s);
	return r;
}

enum init_result init_seed_load(const char *path, char *msg, size_t n)
{
	char b[SEED_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return say(errno == ENOENT ? INIT_SKIPPED : INIT_FAILED, msg, n, "random seed: %s: %s", path,
			strerror(errno));
	ssize_t r = read(fd, b, sizeof b);
	close(fd);
	if (r <= 0)
		return say(INIT_SKIPPED, msg, n, "random seed: %s is empty", path);
	int u = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (u < 0)
		return say(INIT_FAILED, msg, n, "random seed: /dev/urandom: %s", strerror(errno));
	ssize_t w = write(u, b, (size_t)r);
	close(u);
	explicit_bzero(b, sizeof b);
	if (w != r)
		return say(INIT_FAILED, msg, n, "random seed: writing /dev/urandom: %s", strerror(errno));
	return say(INIT_DONE, msg, n, "random seed: %zd bytes of %s mixed into /dev/urandom (not credited)", r, path);
}

enum init_result init_seed_save(const char *path, int nonblock, char *msg, size_t n)
{
	char b[SEED_BYTES], tmp[INIT_PATH_MAX + 8], dir[INIT_PATH_MAX];
	size_t got = 0;
	while (got < sizeof b) {
		ssize_t r = getrandom(b + got, sizeof b - got, nonblock ? GRND_NONBLOCK : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return say(INIT_SKIPPED, msg, n, "random seed: the kernel's pool is not ready yet (getrandom "
				"would block): %s is refreshed at shutdown", path);
		if (r <= 0)
			return say(INIT_FAILED, msg, n, "random seed: getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	snprintf(dir, sizeof dir, "%s", path);
	char *sl = strrchr(dir, '/');
	if (sl && sl != dir) {
		*sl = 0;
		mkdir_p(dir);
	}
	snprintf(tmp, sizeof tmp, "%s.new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return say(INIT_FAILED, msg, n, "random seed: cannot write %s: %s", tmp, strerror(errno));
	ssize_t w = write(fd, b, sizeof b);
	explicit_bzero(b, sizeof b);
	int e = w == (ssize_t)sizeof b ? 0 : (w < 0 ? errno : EIO);
	if (!e && fsync(fd) < 0)
		e = errno;
	close(fd);
	if (e || rename(tmp, path) < 0) {
		e = e ? e : errno;
		unlink(tmp);
		return say(INIT_FAILED, msg, n, "random seed: cannot write %s: %s", path, strerror(e));
	}
	return say(INIT_DONE, msg, n, "random seed: %d fresh bytes saved to %s", SEED_BYTES, path);
}

enum init_result init_console(char *msg, size_t n)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		for (int k = 0; k < 3; k++)
			if (fcntl(k, F_GETFD) < 0) {
				int nul = open("/dev/null", O_RDWR);
				if (nul >= 0 && nul != k) {
					dup2(nul, k);
					close(nul);
				}
			}
		return say(INIT_FAILED, msg, n, "cannot open /dev/console: %s", strerror(e));
	}
	for (int k = 0; k < 3; k++)
		dup2(fd, k); /* dup2 clears FD_CLOEXEC: services inherit the console */
	if (fd > 2)
		close(fd);
	return say(INIT_DONE, msg, n, "stdin, stdout and stderr on /dev/console");
}

enum init_result init_sysctl(const char *key, const char *value, char *msg, size_t n)
{
	char path[INIT_PATH_MAX];
	int k = snprintf(path, sizeof path, "/proc/sys/%s", key);
	if (k < 0 || (size_t)k >= sizeof path || strstr(key, ".."))
		return say(INIT_FAILED, msg, n, "sysctl %s: not a key", key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return say(INIT_FAILED, msg, n, "sysctl %s: %s: %s", key, path, strerror(errno));
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int e = errno;
	close(fd);
	if (w != (ssize_t)len)
		return say(INIT_FAILED, msg, n, "sysctl %s = %s: %s", key, value, w < 0 ? strerror(e) : "short write");
	return say(INIT_DONE, msg, n, "sysctl %s = %s", key, value);
}

enum init_result init_modprobe(const char *name, char *msg, size_t n)
{
	static const char *const dirs[] = { "/sbin/modprobe", "/usr/sbin/modprobe", "/bin/modprobe",
		"/usr/bin/modprobe", NULL };
	const char *prog = NULL;
	for (int k = 0; dirs[k] && !prog; k++)
		if (access(dirs[k], X_OK) == 0)
			prog = dirs[k];
	if (!prog)
		return say(INIT_SKIPPED, msg, n, "module %s: no modprobe in /sbin, /usr/sbin, /bin or /usr/bin", name);
	pid_t pid = fork();
	if (pid < 0)
		return say(INIT_FAILED, msg, n, "module %s: fork: %s", name, strerror(errno));
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execl(prog, "modprobe", "--", name, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	int64_t end = mono_ms() + 10000;
	pid_t r;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && mono_ms() < end)
		sleep_ms(10);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return say(INIT_FAILED, msg, n, "module %s: modprobe took more than 10 s: killed", name);
	}
	if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return say(INIT_FAILED, msg, n, "module %s: %s failed (status %d)", name, prog,
			r > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return say(INIT_DONE, msg, n, "module %s loaded", name);
}

/* ------------------------------------------------------------ shutdown */

const char *init_action_name(enum init_action a)
{
	switch (a) {
	case INIT_ACT_POWEROFF: return "poweroff";
	case INIT_ACT_REBOOT: return "reboot";
	case INIT_ACT_HALT: return "halt";
	default: return "none";
	}
}

/* Reaps every child that ended; 1 when none is left (ECHILD) */
static int reap_all(void)
{
	for (;;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r < 0 && errno == ECHILD)
			return 1;
		if (r <= 0)
			return 0;
	}
}

/* Is a user process other than PID 1 left? kill(-1, 0) cannot say: it
 * succeeds on kernel threads too (they ignore signals). /proc/PID/stat's
 * ppid tells them apart: kthreadd is PID 2 with ppid 0, the kernel's
 * threads are its children. Without /proc: -1 (unknown). */
static int others_left(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	struct dirent *e;
	int found = 0;
	char path[64], b[512];
	while (!found && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		if (!read_small(path, b, sizeof b))
			continue;
		/* "PID (COMM) STATE PPID ...": comm may hold spaces and parens */
		const char *rp = strrchr(b, ')');
		if (!rp || rp[1] != ' ' || !rp[2] || rp[3] != ' ')
			continue;
		long ppid = strtol(rp + 4, NULL, 10);
		if (ppid != 0 && ppid != 2 && rp[2] != 'Z')
			found = 1;
	}
	closedir(d);
	return found;
}

int init_kill_all(int grace_ms, int *any)
{
	reap_all();
	*any = others_left() != 0;
	if (!*any)
		return 0;
	kill(-1, SIGTERM);
	kill(-1, SIGCONT);
	int64_t end = mono_ms() + grace_ms;
	while (mono_ms() < end) {
		reap_all();
		if (!others_left())
			return 0;
		sleep_ms(20);
	}
	kill(-1, SIGKILL);
	end = mono_ms() + 2000;
	while (mono_ms() < end && others_left()) {
		reap_all();
		sleep_ms(20);
	}
	reap_all();
	return 1;
}

void init_unmount_all(void (*report)(enum init_result r, const char *msg, void *ctx), void *ctx)
{
	enum { MAX_MOUNTS = 256 };
	char msg[INIT_PATH_MAX + 128];
	struct mountent *v = malloc(MAX_MOUNTS * sizeof *v);
	char *mi = init_read_file("/proc/self/mountinfo");
	int n = v && mi ? mountinfo_list(mi, v, MAX_MOUNTS) : 0;
	free(mi);
	for (int k = n - 1; k >= 0; k--) {
		const char *t = v[k].target;
		if (!strcmp(t, "/"))
			continue;
		if (umount2(t, 0) == 0) {
			snprintf(msg, sizeof msg, "unmounted %s", t);
			report(INIT_DONE, msg, ctx);
		} else if (mount(NULL, t, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0) {
			snprintf(msg, sizeof msg, "%s is busy: remounted read-only", t);
			report(INIT_DONE, msg, ctx);
		} else {
			snprintf(msg, sizeof msg, "%s: cannot unmount (%s) nor remount read-only", t, strerror(errno));
			report(INIT_FAILED, msg, ctx);
		}
	}
	free(v);
	enum init_result r = init_remount_root(0, msg, sizeof msg);
	report(r, msg, ctx);
}

int init_reboot(enum init_action a)
{
	int how = a == INIT_ACT_POWEROFF ? RB_POWER_OFF : a == INIT_ACT_HALT ? RB_HALT_SYSTEM : RB_AUTOBOOT;
	return reboot(how);
}
