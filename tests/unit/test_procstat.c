/* Unit tests for lib/procstat.c: the /proc/PID/stat parser on a table of
 * lines (odd command names), procstat_cpu_percent() on a table, then
 * procstat_read() on a real process group of three children doing known
 * things (burning CPU, touching 8 MiB, holding 10 fds). The children say
 * when they are set up through a pipe (no sleep) and block on another one
 * until the test ends; if the test dies, that pipe closes and they exit.
 * alarm() is a watchdog so a hang fails the run instead of blocking it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "procstat.h"
#include "tap.h"

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 120    /* s: the whole run */
#define WAIT_MS 60000   /* for the children to be set up (a busy machine) */
#define BURN_MS 200     /* of CPU, child "cpu" */
#define MEM (8 << 20)   /* bytes touched, child "mem" */
#define NFDS 10         /* fds opened, child "fds" */

/* ------------------------------------------------------- the stat parser */

#define REST " 0 0 20 0 1 0 332296 3133440 393 18446744073709551615 0 0\n"
static const struct {
	int line;
	const char *in;
	int ret;
	int pgrp;
	unsigned long long ticks;
} stat_cases[] = {
	{ __LINE__, "4691 (cat) R 4689 4689 18790 0 -1 4194304 99 0 0 0 7 3" REST, 0, 4689, 10 },
	{ __LINE__, "1 (init) S 0 1 1 0 -1 4194560 5000 0 80 0 123456789012 98765" REST, 0, 1, 123456789012ULL + 98765 },
	{ __LINE__, "5 (a) b) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 ((x) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 (()) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 ()) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 (a b  c ) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 ( ) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 () S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	/* a name that looks like fields: the last ')' is the real end */
	{ __LINE__, "5 (x) R 1 99 99) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 (new\nline) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	{ __LINE__, "5 (\xc3\xa9t\xc3\xa9) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, 0, 77, 3 },
	/* exactly 15 fields, with and without a newline */
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 40 2", 0, 77, 42 },
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 40 2\n", 0, 77, 42 },
	{ __LINE__, "5 (x) Z 1 2147483647 77 0 -1 0 0 0 0 0 0 0\n", 0, 2147483647, 0 },
	/* not a stat line */
	{ __LINE__, "", -1, 0, 0 },
	{ __LINE__, "5", -1, 0, 0 },
	{ __LINE__, "5 (x", -1, 0, 0 },
	{ __LINE__, "(x) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 x) S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 1", -1, 0, 0 },     /* 14 fields */
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 1 \n", -1, 0, 0 },
	{ __LINE__, "5 (x)S 1 77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) SS 1 77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) \t 1 77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x)  1 77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) S 1  77 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) S 1 7x 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 -1 2" REST, -1, 0, 0 },  /* utime < 0 */
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 1 2x" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) S 1 2147483648 77 0 -1 0 0 0 0 0 1 2" REST, -1, 0, 0 },
	{ __LINE__, "5 (x) S 1 77 77 0 -1 0 0 0 0 0 18446744073709551616 2" REST, -1, 0, 0 },
};

static void test_parse_stat(void)
{
	for (size_t k = 0; k < sizeof stat_cases / sizeof *stat_cases; k++) {
		const char *in = stat_cases[k].in;
		size_t n = strlen(in);
		char *copy = malloc(n ? n : 1); /* exactly n bytes, no NUL: ASan sees a read past the end */
		int pgrp = -7;
		unsigned long long ticks = 7;

		memcpy(copy, in, n);
		errno = 0;
		int ret = procstat_parse_stat(copy, n, &pgrp, &ticks);
		free(copy);
		int ok = ret == stat_cases[k].ret &&
			(ret ? errno == EINVAL : pgrp == stat_cases[k].pgrp && ticks == stat_cases[k].ticks);
		if (!tap_ok(ok, stat_cases[k].line, "procstat_parse_stat '%.50s': %d", in, stat_cases[k].ret))
			tap_diag("got %d (errno %d) pgrp %d ticks %llu", ret, errno, pgrp, ticks);
	}
}

/* ------------------------------------------------------- cpu percent */

static void test_cpu_percent(void)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	const struct {
		int line;
		unsigned long long k0;
		long long t0;
		unsigned long long k1;
		long long t1;
		double want; /* in ticks per second: % = want * 100 / hz */
	} c[] = {
		{ __LINE__, 0, 0, 0, 1000, 0 },
		{ __LINE__, 0, 0, 100, 1000, 100 },         /* hz ticks/s: one core */
		{ __LINE__, 50, 5000, 100, 5500, 100 },
		{ __LINE__, 0, 0, 200, 1000, 200 },         /* two cores */
		{ __LINE__, 1000, 0, 1010, 2000, 5 },
		{ __LINE__, 0, 1000, 100, 1000, 0 },        /* interval 0 */
		{ __LINE__, 0, 2000, 100, 1000, 0 },        /* negative */
		{ __LINE__, 100, 0, 50, 1000, 0 },          /* ticks went down */
		{ __LINE__, 0, -1000, 100, 0, 100 },        /* any clock origin */
	};
	for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
		double got = procstat_cpu_percent(c[k].k0, c[k].t0, c[k].k1, c[k].t1);
		double want = c[k].want * 100.0 / hz;
		tap_ok(got > want - 1e-9 && got < want + 1e-9, c[k].line,
			"procstat_cpu_percent(%llu, %lld, %llu, %lld) = %.3f (got %.3f)", c[k].k0, c[k].t0, c[k].k1,
			c[k].t1, want, got);
	}
}

/* ------------------------------------------------- a real process group */

static int hold[2];  /* children block reading hold[0]; the test keeps hold[1] */
static int ready[2]; /* each child writes one byte there when set up */

static long long now_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The end of every child: say it is set up, block until the test ends */
static _Noreturn void child_done(void)
{
	char c = 1;
	if (write(ready[1], &c, 1) != 1)
		_exit(1);
	while (read(hold[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void child_cpu(void)
{
	long long wall0 = now_ms(CLOCK_MONOTONIC);
	volatile unsigned long x = 0;
	while (now_ms(CLOCK_PROCESS_CPUTIME_ID) < BURN_MS && now_ms(CLOCK_MONOTONIC) - wall0 < WAIT_MS / 2)
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
}

static void child_mem(void)
{
	char *p = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	memset(p, 0x5a, MEM); /* every page touched: resident */
}

static void child_fds(void)
{
	for (int i = 0; i < NFDS; i++)
		if (open("/dev/null", O_RDONLY) < 0)
			_exit(1);
}

/* Forks a child into group pgid (0: a new group of its own) running fn */
static pid_t spawn(int pgid, void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, pgid);
		close(hold[1]);
		close(ready[0]);
		fn();
		child_done();
	}
	if (pid > 0)
		setpgid(pid, pgid ? pgid : pid); /* both sides: no race with what follows */
	return pid;
}

/* Waits for n bytes on ready[0]: 0, or -1 at the timeout */
static int wait_ready(int n)
{
	long long deadline = now_ms(CLOCK_MONOTONIC) + WAIT_MS;
	while (n > 0) {
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		long long left = deadline - now_ms(CLOCK_MONOTONIC);
		char buf[8];
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		ssize_t r = read(ready[0], buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf);
		if (r <= 0)
			return -1;
		n -= (int)r;
	}
	return 0;
}

static void test_group(void)
{
	struct procstat st;
	if (pipe2(hold, O_CLOEXEC) || pipe2(ready, O_CLOEXEC)) {
		OK(0, "pipes: %s", strerror(errno));
		return;
	}
	pid_t cpu = spawn(0, child_cpu);
	pid_t mem = cpu > 0 ? spawn(cpu, child_mem) : -1;
	pid_t fds = cpu > 0 ? spawn(cpu, child_fds) : -1;
	close(hold[0]);
	close(ready[1]);
	if (!OK(cpu > 0 && mem > 0 && fds > 0, "fork three children into one process group"))
		return;
	OK(wait_ready(3) == 0, "the children are set up within %d ms", WAIT_MS);

	/* the group */
	int r = procstat_read(cpu, 0, &st);
	OK(r == 0, "procstat_read(group): %d (%s)", r, r ? strerror(errno) : "ok");
	tap_diag("group: nprocs %d cpu_ticks %llu rss %lld threads %d fds %d", st.nprocs, st.cpu_ticks, st.rss_bytes,
		st.threads, st.fds);
	OK(st.nprocs == 3, "group: 3 processes (%d)", st.nprocs);
	OK(st.rss_bytes >= MEM, "group: rss >= 8 MiB (%lld)", st.rss_bytes);
	OK(st.fds >= NFDS, "group: fds >= %d (%d)", NFDS, st.fds);
	OK(st.threads >= st.nprocs, "group: threads >= nprocs (%d)", st.threads);

	/* several groups in one scan: the same sums, and a gone group empty */
	{
		int pg[3] = { getpgrp(), cpu, 999999999 };
		struct procstat many[3];
		r = procstat_read_many(pg, 3, many);
		OK(r == 0 && many[1].nprocs == 3 && many[1].fds >= NFDS && many[1].rss_bytes >= MEM,
			"read_many: the children's group as read alone (%d procs, %d fds)", many[1].nprocs, many[1].fds);
		OK(many[0].nprocs >= 1, "read_many: the test's own group too (%d)", many[0].nprocs);
		OK(many[2].nprocs == 0, "read_many: no such group: nothing (%d)", many[2].nprocs);
	}
	OK(st.cpu_ticks > 0, "group: cpu_ticks > 0 (%llu)", st.cpu_ticks);

	/* each child alone: the figures are its own */
	struct procstat one;
	r = procstat_read(0, cpu, &one);
	OK(r == 0 && one.nprocs == 1 && one.cpu_ticks > 0 && one.cpu_ticks <= st.cpu_ticks,
		"cpu child alone: 1 process, cpu_ticks %llu > 0", one.cpu_ticks);
	r = procstat_read(0, mem, &one);
	OK(r == 0 && one.nprocs == 1 && one.rss_bytes >= MEM && one.threads >= 1,
		"mem child alone: rss %lld >= 8 MiB", one.rss_bytes);
	struct procstat cpu_one;
	procstat_read(0, cpu, &cpu_one);
	OK(r == 0 && one.rss_bytes >= cpu_one.rss_bytes + MEM / 2,
		"mem child's rss (%lld) is that of the cpu child (%lld) and more", one.rss_bytes, cpu_one.rss_bytes);
	r = procstat_read(0, fds, &one);
	OK(r == 0 && one.nprocs == 1 && one.fds >= NFDS + 2,
		"fds child alone: %d fds >= %d (its own, plus the pipes)", one.fds, NFDS + 2);
	struct procstat mem_one;
	procstat_read(0, mem, &mem_one);
	OK(one.fds == mem_one.fds + NFDS, "fds child has %d fds more than the mem child (%d vs %d)", NFDS, one.fds,
		mem_one.fds);

	/* the group and a pid outside it (this test): counted once each */
	r = procstat_read(cpu, getpid(), &one);
	OK(r == 0 && one.nprocs == 4, "group + a pid outside it: 4 processes (%d)", one.nprocs);
	r = procstat_read(cpu, mem, &one);
	OK(r == 0 && one.nprocs == 3, "group + a pid of it: 3 processes, none twice (%d)", one.nprocs);
	r = procstat_read(0, getpid(), &one);
	OK(r == 0 && one.nprocs == 1 && one.threads >= 1 && one.fds >= 3 && one.rss_bytes > 0,
		"this process: 1 process, %d threads, %d fds, rss %lld", one.threads, one.fds, one.rss_bytes);

	/* gone */
	kill(-cpu, SIGKILL);
	close(hold[1]);
	close(ready[0]);
	int reaped = 0;
	for (int i = 0; i < 3; i++)
		reaped += waitpid(-cpu, NULL, 0) > 0;
	OK(reaped == 3, "the three children reaped");
	errno = 0;
	r = procstat_read(cpu, 0, &st);
	OK(r == -1 && errno == ESRCH && st.nprocs == 0, "procstat_read(gone group): -1 ESRCH (%d, %s)", r,
		strerror(errno));
	errno = 0;
	r = procstat_read(0, fds, &st);
	OK(r == -1 && errno == ESRCH, "procstat_read(gone pid): -1 ESRCH (%d, %s)", r, strerror(errno));
	errno = 0;
	r = procstat_read(0, 0, &st);
	OK(r == -1 && errno == EINVAL, "procstat_read(0, 0): -1 EINVAL (%d, %s)", r, strerror(errno));
}

int main(void)
{
	alarm(WATCHDOG);
	test_parse_stat();
	test_cpu_percent();
	test_group();
	return tap_done();
}
