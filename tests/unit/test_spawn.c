/* Unit tests for lib/spawn.c: real children, real pipes and files. Output
 * is TAP; exit status 1 if any test failed. A child's output is read to
 * EOF with bounded poll() waits and then reaped, never slept on; alarm()
 * is a watchdog so a hang fails the run instead of blocking it.
 *
 * The exact list of open fds, which /bin/sh cannot report without opening
 * one of its own, comes from this program itself, exec'd again with
 * "--report fds" (see report()). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "spawn.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 60   /* s: the whole run */
#define WAIT_MS 10000 /* for one child's output */

#define SH(script) ((char *const[]){ "/bin/sh", "-c", script, NULL })

static char self[PATH_MAX];     /* this program, for --report */
static char tmpdir[] = "/tmp/test_spawn.XXXXXX";
static char *const env_std[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
	"FOO=bar baz", NULL };

/* --------------------------------------------------------- report mode */

/* Runs in a spawned copy of this program: prints what was asked */
static int report(const char *what)
{
	if (strcmp(what, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		int fds[64], n = 0;

		if (!d)
			return 1;
		while ((e = readdir(d)) && n < 64)
			if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
				fds[n++] = atoi(e->d_name);
		closedir(d);
		/* readdir order is ascending for /proc, but do not rely on it */
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
				if (fds[j] < fds[i]) {
					int t = fds[i];
					fds[i] = fds[j];
					fds[j] = t;
				}
		for (int i = 0; i < n; i++)
			printf("%s%d", i ? " " : "", fds[i]);
		printf("\n");
		return 0;
	}
	return 2;
}

/* ------------------------------------------------------------- helpers */

/* Reads fd to EOF into buf (NUL-terminated, truncated to sz - 1) */
static size_t drain(int fd, char *buf, size_t sz)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		char tmp[4096];
		ssize_t n;

		if (poll(&p, 1, WAIT_MS) <= 0) {
			tap_diag("no output and no EOF within %d ms", WAIT_MS);
			break;
		}
		n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && len + 1 < sz; i++)
			buf[len++] = tmp[i];
	}
	buf[len] = 0;
	return len;
}

/* The exit status as a number: the code, or 1000 + the signal */
static int reap(pid_t pid)
{
	int st;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

/* spawn(r) with stdout+stderr on a fresh pipe; `out` gets what the child
 * wrote (if r->out_fd is already >= 0, that is used and out is not
 * touched). Returns the exit status as reap(). */
static int run(struct spawn_req *r, char *out, size_t sz)
{
	int p[2];
	pid_t pid;

	if (r->out_fd >= 0) {
		pid = spawn(r);
		return reap(pid);
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		exit(1);
	r->out_fd = p[1];
	pid = spawn(r);
	close(p[1]);
	r->out_fd = -1;
	if (pid < 0) {
		close(p[0]);
		out[0] = 0;
		return -1;
	}
	drain(p[0], out, sz);
	close(p[0]);
	return reap(pid);
}

static struct spawn_req req(char *const *argv)
{
	struct spawn_req r;

	spawn_req_init(&r);
	r.argv = argv;
	r.envp = env_std;
	return r;
}

static int sh_out(const char *script, char *out, size_t sz)
{
	struct spawn_req r = req(SH((char *)script));
	return run(&r, out, sz);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		tap_diag("cannot write %s: %s", path, strerror(errno));
		exit(1);
	}
	close(fd);
	chmod(path, mode);
}

/* ---------------------------------------------------------------- init */

static void test_req_init(void)
{
	struct spawn_req r;

	memset(&r, 0x55, sizeof r);
	spawn_req_init(&r);
	OK(r.argv == NULL && r.envp == NULL && r.dir == NULL && r.user == NULL,
		"req_init: pointers NULL");
	OK(r.rlimit_as == -1 && r.rlimit_nofile == -1 && r.rlimit_core == -1 &&
		r.rlimit_nproc == -1 && r.has_nice == 0 && r.keep_session == 0,
		"req_init: rlimits -1, no nice, own session");
	OK(r.out_fd == -1 && r.in_fd == -1 && r.ready_fd == -1 &&
		r.ready_src == -1, "req_init: fds -1");

	errno = 0;
	OK(spawn(&r) == -1 && errno == EINVAL, "spawn without argv: EINVAL");
}

/* ------------------------------------------------------ env, exec, PATH */

static void test_env_and_exit(void)
{
	char out[4096];
	int rc;

	rc = sh_out("echo \"[$FOO]\"; echo \"${HOME-unset}\"; exit 3", out,
		sizeof out);
	OK(rc == 3 && strcmp(out, "[bar baz]\nunset\n") == 0,
		"child sees exactly envp, exit code passed on (got %d '%s')",
		rc, out);

	rc = sh_out("echo out; echo err >&2", out, sizeof out);
	OK(rc == 0 && strcmp(out, "out\nerr\n") == 0,
		"stdout and stderr both on out_fd");

	{
		char *const env[] = { "A=1", NULL };
		struct spawn_req r = req(SH("echo \"$PATH\""));
		r.envp = env;
		rc = run(&r, out, sizeof out);
		/* sh found through the default PATH; dash and bash export
		 * their own default PATH when none is set, so only check
		 * that the program ran */
		OK(rc == 0, "no PATH in envp: /bin/sh still runs");
	}
	{
		char *const argv[] = { "sh", "-c", "echo found", NULL };
		char *const env[] = { "A=1", NULL };
		struct spawn_req r = req(argv);
		r.envp = env;
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && strcmp(out, "found\n") == 0,
			"no PATH in envp: 'sh' found in the default PATH");
	}
}

static void test_path_lookup(void)
{
	char bin[64], noexec[64], path_env[256];
	char out[4096];
	int rc;

	snprintf(bin, sizeof bin, "%s/bin", tmpdir);
	mkdir(bin, 0755);
	snprintf(noexec, sizeof noexec, "%s/noexec", tmpdir);
	mkdir(noexec, 0755);
	{
		char f[128];
		snprintf(f, sizeof f, "%s/mls-test-prog", bin);
		write_file(f, "#!/bin/sh\necho \"prog $1\"\n", 0755);
		snprintf(f, sizeof f, "%s/mls-test-prog", noexec);
		write_file(f, "#!/bin/sh\necho wrong\n", 0644);
		snprintf(f, sizeof f, "%s/mls-test-noexec", noexec);
		write_file(f, "#!/bin/sh\necho wrong\n", 0644);
	}

	/* the PATH of envp, not ours: ours gets the dir, envp's does not */
	{
		char *old = getenv("PATH");
		char ours[PATH_MAX + 64];
		char *const argv[] = { "mls-test-prog", "x", NULL };
		char *const env[] = { "PATH=/nonexistent:/usr/bin:/bin", NULL };
		struct spawn_req r = req(argv);

		snprintf(ours, sizeof ours, "%s:%s", bin, old ? old : "/bin");
		setenv("PATH", ours, 1);
		r.envp = env;
		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_NOENT && strcmp(out,
			"mls: cannot exec 'mls-test-prog': No such file or directory\n") == 0,
			"PATH lookup ignores the parent's PATH: 127 (got %d '%s')",
			rc, out);
		if (old)
			setenv("PATH", old, 1);
		else
			unsetenv("PATH");
	}
	{
		/* the non-executable one comes first and is skipped */
		char *const argv[] = { "mls-test-prog", "x", NULL };
		char *env[] = { path_env, NULL };
		struct spawn_req r = req(argv);

		snprintf(path_env, sizeof path_env, "PATH=/nonexistent:%s:%s",
			noexec, bin);
		r.envp = env;
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && strcmp(out, "prog x\n") == 0,
			"PATH of envp searched in order, EACCES skipped (got %d '%s')",
			rc, out);
	}
	{
		char *const argv[] = { "mls-test-noexec", NULL };
		char *env[] = { path_env, NULL };
		struct spawn_req r = req(argv);

		r.envp = env;
		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_EXEC && strcmp(out,
			"mls: cannot exec 'mls-test-noexec': Permission denied\n") == 0,
			"only a non-executable match: 126, EACCES (got %d '%s')",
			rc, out);
	}
	{
		char *const argv[] = { "/nonexistent/prog", NULL };
		struct spawn_req r = req(argv);

		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_NOENT && strcmp(out,
			"mls: cannot exec '/nonexistent/prog': No such file or directory\n") == 0,
			"absolute path missing: 127 (got %d '%s')", rc, out);
	}
	{
		char *const argv[] = { tmpdir, NULL };
		struct spawn_req r = req(argv);

		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_EXEC && strstr(out, "mls: cannot exec '") == out &&
			strstr(out, "': Permission denied\n"),
			"exec of a directory: 126 (got %d '%s')", rc, out);
	}
	{
		/* relative program with a '/' resolves against dir */
		char *const argv[] = { "./bin/mls-test-prog", "rel", NULL };
		struct spawn_req r = req(argv);

		r.dir = tmpdir;
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && strcmp(out, "prog rel\n") == 0,
			"./relative program runs from dir (got %d '%s')", rc, out);
	}
	{
		char *const argv[] = { "", NULL };
		struct spawn_req r = req(argv);

		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_NOENT, "empty program name: 127 (got %d)", rc);
	}
}

/* ------------------------------------------------------------ pre-exec */

static void test_dir(void)
{
	char out[4096], real[PATH_MAX];
	struct spawn_req r = req(SH("pwd -P"));
	int rc;

	r.dir = tmpdir;
	rc = run(&r, out, sizeof out);
	if (!realpath(tmpdir, real))
		real[0] = 0;
	OK(rc == 0 && strncmp(out, real, strlen(real)) == 0 &&
		strcmp(out + strlen(real), "\n") == 0,
		"dir: the child runs there (got '%s')", out);

	r.dir = "/nonexistent/dir";
	rc = run(&r, out, sizeof out);
	OK(rc == SPAWN_EXIT_PRE_EXEC && strcmp(out,
		"mls: cannot chdir '/nonexistent/dir': No such file or directory\n") == 0,
		"chdir fails: 125 and the error line (got %d '%s')", rc, out);
}

/* From a copy of /proc/PID/limits in `text`: the soft and hard value of
 * the line starting with `name` ("unlimited" = -1); -2 if not found */
static void limit_of(const char *text, const char *name, long long *soft,
	long long *hard)
{
	const char *p = strstr(text, name);
	char a[32], b[32];

	*soft = *hard = -2;
	if (!p || sscanf(p + strlen(name), "%31s %31s", a, b) != 2)
		return;
	*soft = strcmp(a, "unlimited") ? atoll(a) : -1;
	*hard = strcmp(b, "unlimited") ? atoll(b) : -1;
}

/* /proc/$$/limits and the nice value of a shell (not of a copy of this
 * program: a sanitizer build cannot start under a small RLIMIT_AS) */
#define LIMITS_SCRIPT "cat /proc/$$/limits; set -- $(cat /proc/$$/stat); " \
	"echo \"nice ${19}\""

static void test_limits(void)
{
	struct spawn_req r = req(SH(LIMITS_SCRIPT));
	long long soft, hard, nice = -100;
	char out[8192];
	const char *p;
	int rc;

	rc = run(&r, out, sizeof out);
	OK(rc == 0, "report limits runs (got %d)", rc);
	{
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		limit_of(out, "Max open files", &soft, &hard);
		OK(soft == (long long)rl.rlim_cur && hard == (long long)rl.rlim_max,
			"unset rlimits are inherited (nofile %lld %lld)", soft, hard);
	}

	r.rlimit_as = 4LL << 30;
	r.rlimit_nofile = 100;
	r.rlimit_core = 0;
	r.rlimit_nproc = 5000;
	r.has_nice = 1;
	r.nice = 7;
	rc = run(&r, out, sizeof out);
	OK(rc == 0, "report limits with limits set (got %d '%s')", rc, out);
	limit_of(out, "Max address space", &soft, &hard);
	OK(soft == 4LL << 30 && hard == 4LL << 30, "rlimit_as: soft and hard");
	limit_of(out, "Max open files", &soft, &hard);
	OK(soft == 100 && hard == 100, "rlimit_nofile: soft and hard");
	limit_of(out, "Max core file size", &soft, &hard);
	OK(soft == 0 && hard == 0, "rlimit_core");
	limit_of(out, "Max processes", &soft, &hard);
	OK(soft == 5000 && hard == 5000, "rlimit_nproc");
	p = strstr(out, "\nnice ");
	if (p)
		nice = atoll(p + 6);
	OK(nice == 7, "nice (got %lld)", nice);

	/* a shell sees them too */
	{
		struct spawn_req s = req(SH("ulimit -n; ulimit -c"));
		s.rlimit_nofile = 123;
		s.rlimit_core = 0;
		rc = run(&s, out, sizeof out);
		OK(rc == 0 && strcmp(out, "123\n0\n") == 0,
			"ulimit -n / -c in the child (got '%s')", out);
	}

	/* past the kernel's nr_open even root gets EPERM: a pre-exec error */
	{
		long long nr_open = 0;
		FILE *f = fopen("/proc/sys/fs/nr_open", "r");
		struct spawn_req s = req(SH("echo ran"));

		if (f) {
			if (fscanf(f, "%lld", &nr_open) != 1)
				nr_open = 0;
			fclose(f);
		}
		if (nr_open <= 0) {
			tap_skip("no /proc/sys/fs/nr_open");
		} else {
			s.rlimit_nofile = nr_open + 1;
			rc = run(&s, out, sizeof out);
			OK(rc == SPAWN_EXIT_PRE_EXEC && strcmp(out,
				"mls: cannot set limits.nofile: Operation not permitted\n") == 0,
				"rlimit refused: 125 and the error line (got %d '%s')",
				rc, out);
		}
	}
}

static void test_session(void)
{
	const char *script = "set -- $(cat /proc/$$/stat); echo $1 $5 $6";
	long pid, pgrp, sid;
	char out[4096];
	int rc;

	rc = sh_out(script, out, sizeof out);
	OK(rc == 0 && sscanf(out, "%ld %ld %ld", &pid, &pgrp, &sid) == 3 &&
		pid == pgrp && pid == sid,
		"own session: sid == pgid == pid (got '%s')", out);

	{
		struct spawn_req r = req(SH((char *)script));
		r.keep_session = 1;
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && sscanf(out, "%ld %ld %ld", &pid, &pgrp, &sid) == 3 &&
			sid == (long)getsid(0) && pgrp == (long)getpgrp(),
			"keep_session: our session and group (got '%s')", out);
	}
}

static void test_signals(void)
{
	sigset_t set, old;
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldint, oldpipe;
	unsigned long oldres[8][8];
	char out[4096];
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigaction(SIGINT, &ign, &oldint);
	sigaction(SIGPIPE, &ign, &oldpipe);
	/* the C library's own signals too (sigaction() refuses them): a
	 * parent may hand them down ignored */
	for (int s = 32; s < SIGRTMIN && s < 40; s++) {
		unsigned long k[8] = { (unsigned long)SIG_IGN };
		syscall(SYS_rt_sigaction, s, k, oldres[s - 32], (size_t)8);
	}

	rc = sh_out("exec grep -E '^Sig(Blk|Ign):' /proc/self/status", out,
		sizeof out);
	OK(rc == 0 && strcmp(out, "SigBlk:\t0000000000000000\n"
		"SigIgn:\t0000000000000000\n") == 0,
		"child: empty mask, nothing ignored (got '%s')", out);

	for (int s = 32; s < SIGRTMIN && s < 40; s++)
		syscall(SYS_rt_sigaction, s, oldres[s - 32], NULL, (size_t)8);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGPIPE, &oldpipe, NULL);
}

/* ----------------------------------------------------------------- fds */

static void test_fds(void)
{
	char *const argv[] = { self, "--report", "fds", NULL };
	char out[4096];
	int leak1 = fcntl(0, F_DUPFD, 40);      /* no CLOEXEC */
	int leak2 = fcntl(0, F_DUPFD, 900);
	int rc;

	OK(leak1 >= 40, "a leaked fd at %d", leak1);
	{
		struct spawn_req r = req(argv);
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && strcmp(out, "0 1 2\n") == 0,
			"only 0 1 2 open in the child (got '%s')", out);
	}
	{
		int p[2];
		char ready[256];
		struct spawn_req r = req(argv);

		if (pipe2(p, O_CLOEXEC) < 0)
			exit(1);
		r.ready_fd = 3;
		r.ready_src = p[1];
		rc = run(&r, out, sizeof out);
		close(p[1]);
		drain(p[0], ready, sizeof ready);
		close(p[0]);
		OK(rc == 0 && strcmp(out, "0 1 2 3\n") == 0,
			"ready_fd 3: 0 1 2 3 open (got '%s')", out);
	}
	{
		int p[2];
		char ready[256];
		struct spawn_req r = req(argv);

		if (pipe2(p, O_CLOEXEC) < 0)
			exit(1);
		r.ready_fd = 9;
		r.ready_src = p[1];
		rc = run(&r, out, sizeof out);
		close(p[1]);
		drain(p[0], ready, sizeof ready);
		close(p[0]);
		OK(rc == 0 && strcmp(out, "0 1 2 9\n") == 0,
			"ready_fd 9: 0 1 2 9 open (got '%s')", out);
	}
	if (leak1 >= 0)
		close(leak1);
	if (leak2 >= 0)
		close(leak2);

	/* stdin: /dev/null by default, or in_fd */
	rc = sh_out("readlink /proc/self/fd/0; cat", out, sizeof out);
	OK(rc == 0 && strcmp(out, "/dev/null\n") == 0,
		"stdin is /dev/null by default (got '%s')", out);
	{
		int p[2];
		struct spawn_req r = req(SH("cat"));

		if (pipe2(p, O_CLOEXEC) < 0)
			exit(1);
		if (write(p[1], "from stdin\n", 11) != 11)
			exit(1);
		close(p[1]);
		r.in_fd = p[0];
		rc = run(&r, out, sizeof out);
		close(p[0]);
		OK(rc == 0 && strcmp(out, "from stdin\n") == 0,
			"stdin from in_fd (got '%s')", out);
	}
}

/* Runs `script` with out_fd and ready_src placed at the given numbers in
 * this process (moving whatever was there aside and back), reads both
 * pipes; returns the exit status. */
static int run_at(const char *script, int in_at, int out_at, int ready_at,
	int ready_fd, char *out, size_t osz, char *ready, size_t rsz)
{
	int po[2], pr[2], pi[2] = { -1, -1 };
	int at[3] = { out_at, ready_at, in_at }, saved[3];
	struct spawn_req r = req(SH((char *)script));
	pid_t pid;

	fflush(stdout);
	/* save what is at the target numbers, somewhere high, before any
	 * pipe can take one of those numbers */
	for (int i = 0; i < 3; i++)
		saved[i] = at[i] >= 0 ? fcntl(at[i], F_DUPFD_CLOEXEC, 100) : -1;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pr, O_CLOEXEC) < 0 ||
	    (in_at >= 0 && pipe2(pi, O_CLOEXEC) < 0))
		exit(1);
	if (in_at >= 0) {
		if (write(pi[1], "in\n", 3) != 3)
			exit(1);
		close(pi[1]);
	}
	/* the sources at their numbers; the pipe ends themselves were
	 * opened low and may sit on one of the numbers, so copy them up
	 * first */
	{
		int src[3] = { fcntl(po[1], F_DUPFD_CLOEXEC, 100),
			fcntl(pr[1], F_DUPFD_CLOEXEC, 100),
			in_at >= 0 ? fcntl(pi[0], F_DUPFD_CLOEXEC, 100) : -1 };
		int keep_r = fcntl(pr[0], F_DUPFD_CLOEXEC, 100);
		int keep_o = fcntl(po[0], F_DUPFD_CLOEXEC, 100);

		close(po[0]);
		close(po[1]);
		close(pr[0]);
		close(pr[1]);
		if (in_at >= 0)
			close(pi[0]);
		po[0] = keep_o;
		pr[0] = keep_r;
		for (int i = 0; i < 3; i++)
			if (at[i] >= 0) {
				dup2(src[i], at[i]);
				close(src[i]);
			}
	}
	r.out_fd = out_at;
	r.ready_fd = ready_fd;
	r.ready_src = ready_at;
	r.in_fd = in_at;
	pid = spawn(&r);
	/* put everything back before anything is printed */
	for (int i = 0; i < 3; i++)
		if (at[i] >= 0) {
			if (saved[i] >= 0) {
				dup2(saved[i], at[i]);
				close(saved[i]);
			} else {
				close(at[i]);
			}
		}
	drain(po[0], out, osz);
	drain(pr[0], ready, rsz);
	close(po[0]);
	close(pr[0]);
	return reap(pid);
}

static void test_fd_collisions(void)
{
	char out[4096], ready[256];
	int rc;

	rc = run_at("echo out; echo ready >&3", -1, 10, 11, 3, out, sizeof out,
		ready, sizeof ready);
	OK(rc == 0 && !strcmp(out, "out\n") && !strcmp(ready, "ready\n"),
		"ready_fd 3 from fd 11 (got %d '%s' '%s')", rc, out, ready);

	rc = run_at("echo out; echo ready >&5", -1, 5, 6, 5, out, sizeof out,
		ready, sizeof ready);
	OK(rc == 0 && !strcmp(out, "out\n") && !strcmp(ready, "ready\n"),
		"out_fd sits on ready_fd's number (got %d '%s' '%s')", rc, out,
		ready);

	rc = run_at("echo out; echo ready >&7", -1, 8, 7, 7, out, sizeof out,
		ready, sizeof ready);
	OK(rc == 0 && !strcmp(out, "out\n") && !strcmp(ready, "ready\n"),
		"ready_src already at ready_fd (got %d '%s' '%s')", rc, out, ready);

	rc = run_at("echo out; echo ready >&3", -1, 3, 4, 3, out, sizeof out,
		ready, sizeof ready);
	OK(rc == 0 && !strcmp(out, "out\n") && !strcmp(ready, "ready\n"),
		"out_fd at 3 and ready_fd 3 (got %d '%s' '%s')", rc, out, ready);

	/* the sources on the stdio numbers: out at 0, ready at 1, stdin at 2 */
	rc = run_at("read x; echo \"out $x\"; echo ready >&3", 2, 0, 1, 3,
		out, sizeof out, ready, sizeof ready);
	OK(rc == 0 && !strcmp(out, "out in\n") && !strcmp(ready, "ready\n"),
		"sources at 0 1 2 shuffled into place (got %d '%s' '%s')", rc, out,
		ready);

	/* stdin's source at ready_fd's number, ready's at stdout's */
	rc = run_at("read x; echo \"out $x\"; echo ready >&4", 4, 3, 1, 4,
		out, sizeof out, ready, sizeof ready);
	OK(rc == 0 && !strcmp(out, "out in\n") && !strcmp(ready, "ready\n"),
		"in at 4 = ready_fd, ready_src at 1 (got %d '%s' '%s')", rc, out,
		ready);

	/* out_fd -1: stdout and stderr on /dev/null; ready still works */
	{
		int p[2];
		struct spawn_req r = req(SH("echo lost; "
			/* dash moves fd 1 aside while redirecting: ask from
			 * a subshell, with the shell's own fds unchanged */
			"o=$(readlink /proc/$$/fd/1); e=$(readlink /proc/$$/fd/2); "
			"echo \"$o $e\" >&3"));
		if (pipe2(p, O_CLOEXEC) < 0)
			exit(1);
		r.ready_fd = 3;
		r.ready_src = p[1];
		r.out_fd = -1;
		rc = reap(spawn(&r));
		close(p[1]);
		drain(p[0], ready, sizeof ready);
		close(p[0]);
		OK(rc == 0 && !strcmp(ready, "/dev/null /dev/null\n"),
			"out_fd -1: stdout and stderr are /dev/null (got '%s')", ready);
	}

	/* a bad ready_src is a pre-exec failure on out_fd */
	{
		struct spawn_req r = req(SH("echo ran"));
		r.ready_fd = 3;
		r.ready_src = 999;
		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_PRE_EXEC && !strcmp(out,
			"mls: cannot set up the readiness fd: Bad file descriptor\n"),
			"bad ready_src: 125 (got %d '%s')", rc, out);
		r.ready_fd = 1;
		r.ready_src = 0;
		rc = run(&r, out, sizeof out);
		OK(rc == SPAWN_EXIT_PRE_EXEC && strstr(out, "Invalid argument"),
			"ready_fd 1 refused: 125 (got %d '%s')", rc, out);
	}
}

/* --------------------------------------------------------------- users */

static void test_resolve_user(void)
{
	struct spawn_user u;
	char err[256];

	memset(&u, 0x55, sizeof u);
	OK(spawn_resolve_user(NULL, &u, err, sizeof err) == 0 && !u.set,
		"user NULL: no change");
	OK(spawn_resolve_user("", &u, err, sizeof err) == 0 && !u.set,
		"user \"\": no change");
	OK(spawn_resolve_user("root", &u, err, sizeof err) == 0 && u.set &&
		u.uid == 0 && u.gid == 0 && !strcmp(u.name, "root"),
		"user root");
	OK(spawn_resolve_user("0", &u, err, sizeof err) == 0 && u.set &&
		u.uid == 0 && u.gid == 0 && u.name[0] == 0,
		"user 0: numeric, gid from passwd, no name");
	OK(spawn_resolve_user("nobody", &u, err, sizeof err) == 0 &&
		u.uid == 65534 && u.gid == 65534 && !strcmp(u.name, "nobody"),
		"user nobody");
	OK(spawn_resolve_user("1234", &u, err, sizeof err) == 0 &&
		u.uid == 1234 && u.gid == 1234 && u.name[0] == 0,
		"user 1234 without passwd entry: gid = uid");
	OK(spawn_resolve_user("1234:5678", &u, err, sizeof err) == 0 &&
		u.uid == 1234 && u.gid == 5678 && u.name[0] == 0,
		"user 1234:5678");
	OK(spawn_resolve_user("nobody:root", &u, err, sizeof err) == 0 &&
		u.uid == 65534 && u.gid == 0 && !strcmp(u.name, "nobody"),
		"user name:group");
	OK(spawn_resolve_user("nobody:100", &u, err, sizeof err) == 0 &&
		u.uid == 65534 && u.gid == 100, "user name:gid");
	OK(spawn_resolve_user("4294967294", &u, err, sizeof err) == 0 &&
		u.uid == 4294967294U, "largest uid");

	static const struct {
		int line;
		const char *spec, *err;
	} bad[] = {
		{ __LINE__, "nosuchuser", "no such user 'nosuchuser'" },
		{ __LINE__, "nosuchuser:0", "no such user 'nosuchuser'" },
		{ __LINE__, "root:nosuchgroup", "no such group 'nosuchgroup'" },
		{ __LINE__, "root:", "bad user 'root:' (expected name, uid, uid:gid or name:group)" },
		{ __LINE__, ":0", "bad user ':0' (expected name, uid, uid:gid or name:group)" },
		{ __LINE__, "1:2:3", "bad user '1:2:3' (expected name, uid, uid:gid or name:group)" },
		{ __LINE__, "4294967295", "no such user '4294967295'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc;
		err[0] = 0;
		rc = spawn_resolve_user(bad[i].spec, &u, err, sizeof err);
		if (!tap_ok(rc == -1 && !strcmp(err, bad[i].err), bad[i].line,
		    "user '%s' refused", bad[i].spec))
			tap_diag("got %d '%s'", rc, err);
	}
}

static void test_run_as_user(void)
{
	struct spawn_user u;
	char out[4096], err[256];
	int rc;

	if (geteuid() != 0) {
		tap_skip("not root: cannot change user");
		tap_skip("not root: cannot change user");
		tap_skip("not root: cannot change user");
		return;
	}
	{
		struct spawn_req r = req(SH("id -u; id -g; id -G"));
		spawn_resolve_user("nobody", &u, err, sizeof err);
		r.user = &u;
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && !strcmp(out, "65534\n65534\n65534\n"),
			"runs as nobody with nobody's groups (got %d '%s')", rc, out);
	}
	{
		struct spawn_req r = req(SH("id -u; id -g; id -G"));
		spawn_resolve_user("1234:5678", &u, err, sizeof err);
		r.user = &u;
		rc = run(&r, out, sizeof out);
		OK(rc == 0 && !strcmp(out, "1234\n5678\n5678\n"),
			"numeric uid:gid, groups = the gid only (got %d '%s')", rc, out);
	}
	{
		/* dir and limits are applied before the user changes: a
		 * root-only dir is entered, nofile raised as root */
		char priv[PATH_MAX + 16];
		struct spawn_req r = req(SH("pwd; ulimit -n"));

		snprintf(priv, sizeof priv, "%s/priv", tmpdir);
		mkdir(priv, 0700);
		spawn_resolve_user("nobody", &u, err, sizeof err);
		r.user = &u;
		r.dir = priv;
		r.rlimit_nofile = 4321;
		rc = run(&r, out, sizeof out);
		{
			char want[PATH_MAX + 64];
			snprintf(want, sizeof want, "%s\n4321\n", priv);
			OK(rc == 0 && !strcmp(out, want),
				"chdir and rlimits before setuid (got %d '%s')", rc, out);
		}
	}
}

/* ----------------------------------------------------- spawn_exec_here */

/* Forks; the child runs spawn_exec_here(r) and, if that returns, exits
 * 50 + index of its step in steps[] (49 if unknown) when errno matches
 * want_errno, else 1. */
static int exec_here(struct spawn_req *r, int want_errno, char *out, size_t sz)
{
	static const char *const steps[] = { "exec", "chdir", "set limits.nofile", NULL };
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		exit(1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		const char *step = NULL;
		r->out_fd = p[1];
		spawn_exec_here(r, &step);
		if (errno != want_errno)
			_exit(1);
		for (int i = 0; steps[i]; i++)
			if (step && !strcmp(step, steps[i]))
				_exit(50 + i);
		_exit(49);
	}
	close(p[1]);
	drain(p[0], out, sz);
	close(p[0]);
	return reap(pid);
}

static void test_exec_here(void)
{
	char out[4096];
	int rc;

	{
		struct spawn_req r = req(SH("echo \"here $FOO\"; "
			"set -- $(cat /proc/$$/stat); [ $6 = $PPID_SID ] && echo same"));
		char sid[64];
		char *env[] = { "FOO=1", sid, NULL };

		snprintf(sid, sizeof sid, "PPID_SID=%ld", (long)getsid(0));
		r.envp = env;
		r.keep_session = 1;
		rc = exec_here(&r, 0, out, sizeof out);
		OK(rc == 0 && !strcmp(out, "here 1\nsame\n"),
			"exec_here: execs in place, keeps the session (got %d '%s')",
			rc, out);
	}
	{
		char *const argv[] = { "no-such-program-mls", NULL };
		struct spawn_req r = req(argv);
		r.keep_session = 1;
		rc = exec_here(&r, ENOENT, out, sizeof out);
		OK(rc == 50 && out[0] == 0,
			"exec_here: exec fails -> -1, step exec, ENOENT, nothing written (got %d '%s')",
			rc, out);
	}
	{
		struct spawn_req r = req(SH("echo ran"));
		r.keep_session = 1;
		r.dir = "/nonexistent";
		rc = exec_here(&r, ENOENT, out, sizeof out);
		OK(rc == 51, "exec_here: chdir fails -> step chdir (got %d)", rc);
	}
}

/* ---------------------------------------------------------------- main */

static void cleanup(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc == 3 && strcmp(argv[1], "--report") == 0)
		return report(argv[2]);
	alarm(WATCHDOG);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0 || !mkdtemp(tmpdir)) {
		printf("Bail out! no /proc/self/exe or mkdtemp: %s\n",
			strerror(errno));
		return 1;
	}
	self[n] = 0;
	/* our stdin may be closed or a tty under prove: make fd 0 something */
	if (fcntl(0, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != 0)
		return 1;

	test_req_init();
	test_env_and_exit();
	test_path_lookup();
	test_dir();
	test_limits();
	test_session();
	test_signals();
	test_fds();
	test_fd_collisions();
	test_resolve_user();
	test_run_as_user();
	test_exec_here();
	cleanup();
	return tap_done();
}
