/* spawn.c: fork + child setup + execve. The contract is in spawn.h.
 *
 * The child side (child_setup() and exec_path()) is shared by spawn(),
 * which runs it in a fresh fork, and spawn_exec_here(), which runs it in
 * the calling process. It does no allocation and no stdio: between fork()
 * and execve() it only makes system calls and copies bytes into stack
 * buffers, so it is safe even if the parent ever had a second thread
 * holding a malloc lock. Supplementary groups are the one exception:
 * initgroups() reads /etc/group in the child, which is fine in our
 * single-threaded processes and keeps struct spawn_user small. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall(), initgroups(), F_DUPFD_CLOEXEC */
#endif

#include "spawn.h"
#include "loop.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/bin:/bin:/usr/bin"

/* ------------------------------------------------------------ users */

/* A decimal id in 0..4294967294 (-1 is "no change" to the kernel) */
static int parse_id(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 4294967294UL)
			return -1;
	}
	*out = v;
	return 0;
}

/* getpw*()/getgr*() return NULL with errno 0 (or one of these) when the
 * entry simply does not exist; anything else is a failure to read. */
static int not_found(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

static int resolve_uid(const char *name, struct spawn_user *u, char *err,
	size_t errsz)
{
	unsigned long id;
	struct passwd *pw;

	errno = 0;
	if (parse_id(name, &id) == 0) {
		/* A number needs no passwd entry; when there is one, its
		 * primary group is the natural gid. Without one, gid = uid
		 * (the usual per-user group) rather than root's group. */
		u->uid = (uid_t)id;
		pw = getpwuid(u->uid);
		u->gid = pw ? pw->pw_gid : (gid_t)id;
		return 0;
	}
	pw = getpwnam(name);
	if (!pw) {
		if (not_found(errno))
			snprintf(err, errsz, "no such user '%s'", name);
		else
			snprintf(err, errsz, "cannot look up user '%s': %s",
				name, strerror(errno));
		return -1;
	}
	if (strlen(name) >= sizeof u->name) {
		snprintf(err, errsz, "user name '%s' too long (limit %zu bytes)",
			name, sizeof u->name - 1);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	strcpy(u->name, name);
	return 0;
}

static int resolve_gid(const char *name, struct spawn_user *u, char *err,
	size_t errsz)
{
	unsigned long id;
	struct group *gr;

	if (parse_id(name, &id) == 0) {
		u->gid = (gid_t)id;
		return 0;
	}
	errno = 0;
	gr = getgrnam(name);
	if (!gr) {
		if (not_found(errno))
			snprintf(err, errsz, "no such group '%s'", name);
		else
			snprintf(err, errsz, "cannot look up group '%s': %s",
				name, strerror(errno));
		return -1;
	}
	u->gid = gr->gr_gid;
	return 0;
}

int spawn_resolve_user(const char *spec, struct spawn_user *u, char *err,
	size_t errsz)
{
	char user[256];
	const char *colon;
	size_t n;

	memset(u, 0, sizeof *u);
	if (!spec || !*spec)
		return 0;
	colon = strchr(spec, ':');
	n = colon ? (size_t)(colon - spec) : strlen(spec);
	if (n == 0 || n >= sizeof user || (colon && (!colon[1] ||
	    strchr(colon + 1, ':')))) {
		snprintf(err, errsz, "bad user '%s' (expected name, uid, "
			"uid:gid or name:group)", spec);
		return -1;
	}
	memcpy(user, spec, n);
	user[n] = 0;
	if (resolve_uid(user, u, err, errsz))
		return -1;
	if (colon && resolve_gid(colon + 1, u, err, errsz))
		return -1;
	u->set = 1;
	return 0;
}

/* ------------------------------------------------------ the child side */

void spawn_req_init(struct spawn_req *r)
{
	memset(r, 0, sizeof *r);
	r->rlimit_as = r->rlimit_nofile = r->rlimit_core = r->rlimit_nproc = -1;
	r->cgroup_fd = -1;
	r->nofile_soft = -1;
	r->out_fd = r->in_fd = r->err_fd = r->ready_fd = r->ready_src = -1;
}

/* Where the child stands when something fails: the step (for the
 * message and spawn_exec_here()'s *step), its argument if any, and the
 * fd an error line can be written to. */
struct child {
	const char *step;
	const char *arg;  /* e.g. the directory of chdir; NULL = none */
	int errfd;        /* out_fd until it has become fd 2 */
};

static int fail(struct child *c, const char *step, const char *arg)
{
	c->step = step;
	c->arg = arg;
	return -1;
}

/* close_range(lo, hi) by whatever means this kernel offers. The fallbacks
 * are for kernels before 5.9: the fds listed in /proc/self/fd (read with
 * getdents64 into a stack buffer: no malloc), else every number up to the
 * fd limit. */
static void close_fds(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
#ifdef SYS_getdents64
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
		_Alignas(8) char buf[4096];
		long n;

		while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
			for (long off = 0; off < n;) {
				unsigned short reclen;
				const char *name = buf + off + 19;
				unsigned long fd = 0;
				int num = *name != 0;

				memcpy(&reclen, buf + off + 16, sizeof reclen);
				for (const char *p = name; *p && num; p++) {
					num = *p >= '0' && *p <= '9';
					fd = fd * 10 + (unsigned long)(*p - '0');
				}
				/* /proc orders by number and resumes after
				 * the last one read, so closing is safe */
				if (num && fd >= lo && fd <= hi &&
				    fd != (unsigned long)dfd)
					close((int)fd);
				off += reclen;
			}
		}
		close(dfd);
		if (n == 0)
			return;
	}
#endif
	struct rlimit rl;
	unsigned long max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur;
	for (unsigned long fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
}

/* stdin, stdout+stderr and the readiness fd in place; nothing else open.
 * Every source is first copied above all the target numbers, so that no
 * dup2() can overwrite a source that is still needed (out_fd == 0,
 * ready_src == 1, ready_src == ready_fd, ...). */
static int setup_fds(const struct spawn_req *r, struct child *c)
{
	int floor = r->ready_fd >= 3 ? r->ready_fd + 1 : 3;
	int null = -1, in, out, err = -1, ready = -1;

	if (r->ready_fd >= 0 && r->ready_fd < 3) {
		errno = EINVAL; /* would clash with stdio */
		return fail(c, "set up the readiness fd", NULL);
	}
	if (r->in_fd < 0 || r->out_fd < 0) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0)
			return fail(c, "open", "/dev/null");
	}
	in = fcntl(r->in_fd >= 0 ? r->in_fd : null, F_DUPFD_CLOEXEC, floor);
	if (in < 0)
		return fail(c, "set up stdin", NULL);
	out = fcntl(r->out_fd >= 0 ? r->out_fd : null, F_DUPFD_CLOEXEC, floor);
	if (out < 0)
		return fail(c, "set up stdout", NULL);
	if (r->err_fd >= 0 && (err = fcntl(r->err_fd, F_DUPFD_CLOEXEC, floor)) < 0)
		return fail(c, "set up stderr", NULL);
	if (r->ready_fd >= 0) {
		ready = fcntl(r->ready_src, F_DUPFD_CLOEXEC, floor);
		if (ready < 0)
			return fail(c, "set up the readiness fd", NULL);
	}
	/* dup2() clears FD_CLOEXEC on the targets */
	if (dup2(err >= 0 ? err : out, 2) < 0)
		return fail(c, "set up stderr", NULL);
	c->errfd = 2;
	if (dup2(out, 1) < 0)
		return fail(c, "set up stdout", NULL);
	if (dup2(in, 0) < 0)
		return fail(c, "set up stdin", NULL);
	if (ready >= 0 && dup2(ready, r->ready_fd) < 0)
		return fail(c, "set up the readiness fd", NULL);
	/* the copies (all >= floor), /dev/null and whatever the parent had
	 * open without O_CLOEXEC */
	if (r->ready_fd >= 3) {
		close_fds(3, (unsigned)r->ready_fd - 1);
		close_fds((unsigned)r->ready_fd + 1, ~0U);
	} else {
		close_fds(3, ~0U);
	}
	return 0;
}

/* `what` is the whole step, e.g. "set limits.nofile" */
static int set_limit(int res, int64_t v, struct child *c, const char *what)
{
	struct rlimit rl;

	if (v < 0)
		return 0;
	/* soft and hard alike, as a service manager's limit is meant to
	 * hold for the whole service */
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (setrlimit(res, &rl) < 0)
		return fail(c, what, NULL);
	return 0;
}

static int set_user(const struct spawn_user *u, struct child *c)
{
	if (!u || !u->set)
		return 0;
	/* Already that user without privileges (mls run by a normal user
	 * with `user:` naming itself): nothing to change, and setgroups()
	 * would fail with EPERM. */
	if (geteuid() != 0 && u->uid == geteuid() && u->gid == getegid())
		return 0;
	if (u->name[0]) {
		if (initgroups(u->name, u->gid) < 0)
			return fail(c, "initgroups", u->name);
	} else if (setgroups(1, &u->gid) < 0) {
		return fail(c, "setgroups", NULL);
	}
	if (setgid(u->gid) < 0)
		return fail(c, "setgid", NULL);
	if (setuid(u->uid) < 0)
		return fail(c, "setuid", NULL);
	return 0;
}

/* The signals the C library keeps for itself (32 up to SIGRTMIN: thread
 * cancellation, the setxid broadcast) cannot be changed with sigaction(),
 * so loop_reset_signals_for_child() leaves them alone. But SIG_IGN
 * survives execve: one that mls inherited as ignored (some parents
 * ignore them all) would stay ignored in every service. The raw system
 * call can reset them; an all-zero kernel struct sigaction is SIG_DFL
 * with no flags and an empty mask on every architecture. 8 is the
 * kernel's sigset size on x86_64, aarch64 and arm. */
static void reset_reserved_signals(void)
{
#ifdef SYS_rt_sigaction
	for (int s = 32; s < SIGRTMIN; s++) {
		unsigned long k[8] = { 0 };
		syscall(SYS_rt_sigaction, s, k, NULL, (size_t)8);
	}
#endif
}

/* Everything before execve, in the order of spawn.h. Returns 0, or -1
 * with errno and c->step set. */
static int child_setup(const struct spawn_req *r, struct child *c)
{
	if (r->cgroup_fd >= 0 && write(r->cgroup_fd, "0", 1) != 1)
		return fail(c, "join its cgroup", NULL);
	if (r->pid_var) {
		/* the pid is known only here: digits by hand (no stdio in
		 * the child), into the room the caller left after '=' */
		char d[24], *v = strchr(r->pid_var, '=') + 1;
		int n = 0;
		for (unsigned long p = (unsigned long)getpid(); p || !n; p /= 10)
			d[n++] = (char)('0' + p % 10);
		while (n)
			*v++ = d[--n];
		*v = 0;
	}
	if (loop_reset_signals_for_child() < 0)
		return fail(c, "reset signals", NULL);
	reset_reserved_signals();
	if (!r->keep_session && setsid() < 0)
		return fail(c, "setsid", NULL);
	if (setup_fds(r, c))
		return -1;
	if (r->dir && chdir(r->dir) < 0)
		return fail(c, "chdir", r->dir);
	if (set_limit(RLIMIT_AS, r->rlimit_as, c, "set limits.memory") ||
	    set_limit(RLIMIT_NOFILE, r->rlimit_nofile, c, "set limits.nofile") ||
	    set_limit(RLIMIT_CORE, r->rlimit_core, c, "set limits.core") ||
	    set_limit(RLIMIT_NPROC, r->rlimit_nproc, c, "set limits.pids"))
		return -1;
	if (r->rlimit_nofile < 0 && r->nofile_soft >= 0) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur > (rlim_t)r->nofile_soft) {
			rl.rlim_cur = (rlim_t)r->nofile_soft;
			setrlimit(RLIMIT_NOFILE, &rl); /* lowering cannot fail */
		}
	}
	if (r->has_nice && setpriority(PRIO_PROCESS, 0, r->nice) < 0)
		return fail(c, "set nice", NULL);
	return set_user(r->user, c);
}

/* The value of PATH in envp, or the default */
static const char *env_path(char *const *envp)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return DEFAULT_PATH;
}

/* execve argv[0], searching the PATH of envp when it has no '/'. Like
 * execvp: a directory where the file is missing is skipped; EACCES is
 * remembered (a later hit still wins); any other error stops the search.
 * An empty PATH element is the current directory. Returns -1 with errno. */
static int exec_path(char *const *argv, char *const *envp)
{
	const char *name = argv[0], *p = env_path(envp);
	size_t nlen = strlen(name);
	int eacces = 0;
	char buf[PATH_MAX];

	if (!*name) {
		errno = ENOENT;
		return -1;
	}
	if (strchr(name, '/')) {
		execve(name, argv, envp);
		return -1;
	}
	for (;;) {
		const char *end = strchr(p, ':');
		size_t dlen = end ? (size_t)(end - p) : strlen(p);

		if (dlen + 1 + nlen < sizeof buf) {
			memcpy(buf, p, dlen);
			if (dlen)
				buf[dlen++] = '/';
			memcpy(buf + dlen, name, nlen + 1);
			execve(buf, argv, envp);
			if (errno == EACCES)
				eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return -1;
		}
		if (!end)
			break;
		p = end + 1;
	}
	errno = eacces ? EACCES : ENOENT;
	return -1;
}

/* Appends s to buf (of size sz, holding *len bytes), truncating */
static void put(char *buf, size_t sz, size_t *len, const char *s)
{
	while (*s && *len + 1 < sz)
		buf[(*len)++] = *s++;
	buf[*len] = 0;
}

/* The one error line, then _exit. One write(), so it arrives whole in a
 * log pipe shared with others (lines up to PIPE_BUF are atomic). */
static _Noreturn void child_die(const struct child *c, int err, int code)
{
	char line[512];
	size_t len = 0;

	put(line, sizeof line - 1, &len, "mls: cannot ");
	put(line, sizeof line - 1, &len, c->step);
	if (c->arg) {
		put(line, sizeof line - 1, &len, " '");
		put(line, sizeof line - 1, &len, c->arg);
		put(line, sizeof line - 1, &len, "'");
	}
	put(line, sizeof line - 1, &len, ": ");
	put(line, sizeof line - 1, &len, strerror(err));
	line[len++] = '\n';
	if (c->errfd >= 0) {
		ssize_t n;
		do
			n = write(c->errfd, line, len);
		while (n < 0 && errno == EINTR);
	}
	_exit(code);
}

static _Noreturn void child_run(const struct spawn_req *r, struct child *c)
{
	if (child_setup(r, c) < 0)
		child_die(c, errno, SPAWN_EXIT_PRE_EXEC);
	if (r->path)
		execve(r->path, r->argv, r->envp);
	else
		exec_path(r->argv, r->envp);
	c->step = "exec";
	c->arg = r->path ? r->path : r->argv[0];
	child_die(c, errno, errno == ENOENT ? SPAWN_EXIT_NOENT : SPAWN_EXIT_EXEC);
}

/* ASan keeps its own books on stacks (shadow memory, shared with a
 * CLONE_VM child): the sanitizer builds take the fork() path */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_FORK_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_FORK_ONLY 1
#endif
#endif
#ifndef SPAWN_FORK_ONLY
#define SPAWN_FORK_ONLY 0
#endif

/* The stack of a CLONE_VM child: the parent is suspended until the child
 * execs or exits (CLONE_VFORK) and there are no threads, so one static
 * stack serves every spawn. The child's deepest frames are the PATH
 * lookup's buffers (a few KiB). */
static _Alignas(16) char vf_stack[64 * 1024];

struct vfarg {
	const struct spawn_req *r;
	struct child *c;
};

static int vf_child(void *arg)
{
	struct vfarg *a = arg;
	child_run(a->r, a->c);
}

pid_t spawn(const struct spawn_req *r)
{
	struct child c = { NULL, NULL, r->out_fd };
	pid_t pid;

	if (!r->argv || !r->argv[0]) {
		errno = EINVAL;
		return -1;
	}
	/* A user given by name needs initgroups(), which reads /etc/group
	 * with malloc: only a real fork may do that. Otherwise the child
	 * shares our memory until it execs (vfork semantics, what musl's
	 * posix_spawn does): no page tables to copy, no copy-on-write faults
	 * afterwards, which was most of mls's CPU when starting 1,000
	 * services. The child then only makes system calls and writes to its
	 * own stack. */
	if (SPAWN_FORK_ONLY || (r->user && r->user->set && r->user->name[0])) {
		pid = fork();
		if (pid != 0)
			return pid; /* the parent, or -1 with fork's errno */
		child_run(r, &c);
	}
	struct vfarg a = { r, &c };
	pid = clone(vf_child, vf_stack + sizeof vf_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	return pid; /* the child has exec'd or _exit()ed by now; -1: errno */
}

int spawn_exec_here(const struct spawn_req *r, const char **step)
{
	struct child c = { NULL, NULL, r->out_fd };

	if (!r->argv || !r->argv[0]) {
		*step = "exec";
		errno = EINVAL;
		return -1;
	}
	if (child_setup(r, &c) == 0) {
		if (r->path)
			execve(r->path, r->argv, r->envp);
		else
			exec_path(r->argv, r->envp);
		c.step = "exec";
	}
	*step = c.step;
	return -1;
}
