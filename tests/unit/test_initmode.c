/* Unit tests for lib/initmode.c's pure parts: container detection, the
 * parsing of /proc/self/mountinfo, the plan of the early mounts. The
 * steps themselves act on the system: they run only in a VM
 * (tests/boot/boot.t), never here. Output is TAP. */
#include "initmode.h"
#include "tap.h"

#include <string.h>

/* ------------------------------------------------------------ detection */

static const struct {
	int line;
	struct init_probe p;
	enum init_verdict want;
	const char *why; /* a word of the reason */
} det_cases[] = {
	{ __LINE__, { 0, NULL, 0, 0, NULL, NULL }, INIT_NOT_PID1, "not PID 1" },
	{ __LINE__, { 0, NULL, 0, 1, "kthreadd", "0::/\n" }, INIT_NOT_PID1, "not PID 1" },
	/* a kernel's first process: nothing mounted /proc */
	{ __LINE__, { 1, NULL, 0, 0, NULL, NULL }, INIT_SYSTEM, "no /proc" },
	/* $container wins over everything else */
	{ __LINE__, { 1, "podman", 0, 0, NULL, NULL }, INIT_CONTAINER, "podman" },
	{ __LINE__, { 1, "lxc", 0, 1, "kthreadd", NULL }, INIT_CONTAINER, "lxc" },
	{ __LINE__, { 1, "", 0, 0, NULL, NULL }, INIT_SYSTEM, "no /proc" }, /* empty: unset */
	{ __LINE__, { 1, NULL, 1, 0, NULL, NULL }, INIT_CONTAINER, "dockerenv" },
	/* cgroup v1 paths of container runtimes */
	{ __LINE__, { 1, NULL, 0, 1, NULL, "12:pids:/docker/3f2a\n0::/docker/3f2a\n" }, INIT_CONTAINER, "docker" },
	{ __LINE__, { 1, NULL, 0, 1, "kthreadd", "0::/kubepods/burstable/pod1\n" }, INIT_CONTAINER, "kubepods" },
	{ __LINE__, { 1, NULL, 0, 1, NULL, "0::/machine.slice/libpod-1.scope\n" }, INIT_CONTAINER, "libpod" },
	/* /proc mounted (switch_root moved it): kthreadd as PID 2 says system */
	{ __LINE__, { 1, NULL, 0, 1, "kthreadd", "0::/\n" }, INIT_SYSTEM, "kthreadd" },
	{ __LINE__, { 1, NULL, 0, 1, "kthreadd", "0::/init.scope\n" }, INIT_SYSTEM, "kthreadd" },
	/* unshare --pid --fork --mount-proc: PID 1, /proc mounted, no kthreadd */
	{ __LINE__, { 1, NULL, 0, 1, NULL, "0::/user.slice\n" }, INIT_CONTAINER, "PID namespace" },
	{ __LINE__, { 1, NULL, 0, 1, "sh", "0::/\n" }, INIT_CONTAINER, "PID namespace" },
};

static void test_detect(void)
{
	for (size_t k = 0; k < sizeof det_cases / sizeof det_cases[0]; k++) {
		char why[160];
		enum init_verdict v = init_detect(&det_cases[k].p, why, sizeof why);
		tap_ok(v == det_cases[k].want && strstr(why, det_cases[k].why), det_cases[k].line,
			"init_detect: %d (%s), want %d (%s)", v, why, det_cases[k].want, det_cases[k].why);
	}
}

/* ------------------------------------------------------------ mountinfo */

static const char MI[] =
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
	"23 1 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=120k\n"
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
	"25 23 0:23 / /dev/pts rw,nosuid,noexec,relatime shared:3 master:1 - devpts devpts rw,mode=620\n"
	"40 1 0:40 / /mnt/my\\040disk rw,relatime - tmpfs my\\040tmp rw\n"
	"garbage line\n"
	"41 1 8:1 / /data rw,relatime shared:9 propagate_from:2 unbindable - ext4 /dev/sda1 rw\n"
	"42 24 0:41 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw";

static const struct {
	int line;
	const char *target;
	int want;
} has_cases[] = {
	{ __LINE__, "/proc", 1 },
	{ __LINE__, "/dev", 1 },
	{ __LINE__, "/dev/pts", 1 },
	{ __LINE__, "/dev/shm", 0 },
	{ __LINE__, "/mnt/my disk", 1 },   /* \040 decoded */
	{ __LINE__, "/mnt/my\\040disk", 0 },
	{ __LINE__, "/data", 1 },         /* several optional fields */
	{ __LINE__, "/sys/fs/cgroup", 1 }, /* the last line, no newline */
	{ __LINE__, "/sys/fs", 0 },
	{ __LINE__, "/", 0 },
	{ __LINE__, "/pro", 0 },           /* exact mount points only */
};

static const struct {
	int line;
	const char *in;
	int rc;
	const char *target, *fstype, *source;
} line_cases[] = {
	{ __LINE__, "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue", 0, "/mnt2",
	  "ext3", "/dev/root" },
	{ __LINE__, "1 0 0:1 / / rw - rootfs rootfs rw\n", 0, "/", "rootfs", "rootfs" },
	{ __LINE__, "7 1 0:2 / /a\\011b rw - tmpfs x\\134y rw", 0, "/a\tb", "tmpfs", "x\\y" },
	{ __LINE__, "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw", -1, NULL, NULL, NULL }, /* no "-" */
	{ __LINE__, "x 35 98:0 / /mnt2 rw - ext3 /dev/root rw", -1, NULL, NULL, NULL },
	{ __LINE__, "36 35 98:0 / mnt2 rw - ext3 /dev/root rw", -1, NULL, NULL, NULL }, /* not absolute */
	{ __LINE__, "36 35", -1, NULL, NULL, NULL },
	{ __LINE__, "", -1, NULL, NULL, NULL },
};

static void test_mountinfo(void)
{
	for (size_t k = 0; k < sizeof has_cases / sizeof has_cases[0]; k++)
		tap_ok(mountinfo_has(MI, has_cases[k].target) == has_cases[k].want, has_cases[k].line,
			"mountinfo_has(\"%s\")", has_cases[k].target);
	tap_ok(!mountinfo_has(NULL, "/proc"), __LINE__, "mountinfo_has: no /proc text, nothing mounted");
	for (size_t k = 0; k < sizeof line_cases / sizeof line_cases[0]; k++) {
		struct mountent m;
		int rc = mountinfo_parse_line(line_cases[k].in, &m);
		int ok = rc == line_cases[k].rc;
		if (ok && rc == 0)
			ok = !strcmp(m.target, line_cases[k].target) && !strcmp(m.fstype, line_cases[k].fstype) &&
			     !strcmp(m.source, line_cases[k].source);
		tap_ok(ok, line_cases[k].line, "mountinfo_parse_line(\"%s\"): rc %d target '%s' type '%s' source '%s'",
			line_cases[k].in, rc, rc ? "" : m.target, rc ? "" : m.fstype, rc ? "" : m.source);
	}
	/* a target longer than INIT_PATH_MAX does not fit: refused, not cut */
	char longl[600];
	snprintf(longl, sizeof longl, "1 0 0:1 / /%0400d rw - tmpfs t rw", 0);
	struct mountent m;
	tap_ok(mountinfo_parse_line(longl, &m) == -1, __LINE__, "mountinfo_parse_line: a 401-byte target is refused");
	/* the list, in file order (unmounting goes backwards) */
	struct mountent v[16];
	int n = mountinfo_list(MI, v, 16);
	tap_ok(n == 7, __LINE__, "mountinfo_list: 7 entries (the garbage line left out), got %d", n);
	tap_ok(n == 7 && !strcmp(v[0].target, "/proc") && !strcmp(v[6].target, "/sys/fs/cgroup") &&
		v[6].parent == 24 && v[6].id == 42, __LINE__, "mountinfo_list: in file order, ids and parents");
	tap_ok(mountinfo_list(MI, v, 3) == 3, __LINE__, "mountinfo_list: at most max entries");
}

/* ------------------------------------------------------------ the plan */

static const char FS[] = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n\text4\nnodev\tdevpts\n";
static const char FS2[] = "nodev\tsysfs\nnodev\tcgroup2\nnodev\tcgroup\n";

static void test_plan(void)
{
	static const char *const order[] = { "/proc", "/dev", "/sys", "/dev/pts", "/dev/shm", "/run",
		"/sys/fs/cgroup" };
	int n = (int)(sizeof order / sizeof order[0]);
	tap_ok(init_nearly_mounts == n, __LINE__, "the early mounts: %d steps", init_nearly_mounts);
	for (int k = 0; k < n && k < init_nearly_mounts; k++)
		tap_ok(!strcmp(init_early_mounts[k].target, order[k]), __LINE__, "early mount %d is %s (got %s)", k,
			order[k], init_early_mounts[k].target);
	const struct init_mount *cg = &init_early_mounts[n - 1];
	char why[160];
	/* nothing mounted: every step is to be done */
	for (int k = 0; k < init_nearly_mounts; k++)
		tap_ok(init_mount_plan(&init_early_mounts[k], NULL, FS2, why, sizeof why) == INIT_DONE, __LINE__,
			"plan with nothing mounted: %s is done (%s)", init_early_mounts[k].target, why);
	/* mounted already: skipped, each named */
	tap_ok(init_mount_plan(&init_early_mounts[0], MI, FS, why, sizeof why) == INIT_SKIPPED &&
		strstr(why, "mounted already"), __LINE__, "plan: /proc mounted already is skipped (%s)", why);
	tap_ok(init_mount_plan(&init_early_mounts[4], MI, FS, why, sizeof why) == INIT_DONE, __LINE__,
		"plan: /dev/shm not mounted is done");
	/* cgroup2 only when the kernel has it */
	tap_ok(init_mount_plan(cg, NULL, FS, why, sizeof why) == INIT_SKIPPED && strstr(why, "no cgroup2"), __LINE__,
		"plan: no cgroup2 in /proc/filesystems: skipped (%s)", why);
	tap_ok(init_mount_plan(cg, NULL, "nodev\tcgroup\n", why, sizeof why) == INIT_SKIPPED, __LINE__,
		"plan: cgroup (v1) is not cgroup2");
	tap_ok(init_mount_plan(cg, NULL, FS2, why, sizeof why) == INIT_DONE, __LINE__,
		"plan: cgroup2 listed: done");
	tap_ok(init_mount_plan(cg, MI, FS2, why, sizeof why) == INIT_SKIPPED, __LINE__,
		"plan: cgroup2 mounted already: skipped");
	tap_ok(init_mount_plan(&init_early_mounts[0], NULL, NULL, why, sizeof why) == INIT_DONE, __LINE__,
		"plan: /proc with no /proc/filesystems known: done");
	tap_ok(!strcmp(init_action_name(INIT_ACT_POWEROFF), "poweroff") &&
		!strcmp(init_action_name(INIT_ACT_REBOOT), "reboot") && !strcmp(init_action_name(INIT_ACT_HALT), "halt"),
		__LINE__, "action names");
}

int main(void)
{
	test_detect();
	test_mountinfo();
	test_plan();
	return tap_done();
}
