/* cgroup.h: cgroup v2 for service instances (docs/cgroups.md).
 *
 * When the cgroup2 mount (normally /sys/fs/cgroup) is writable by mls —
 * init mode, a container with a delegated cgroup, a systemd unit with
 * Delegate=yes — each instance runs in its own cgroup BASE/mls/NAME.N,
 * where BASE is mls's own cgroup (from /proc/self/cgroup). If BASE may not
 * hold processes and enable controllers at once (cgroup v2's "no internal
 * processes" rule, EBUSY), mls moves itself into BASE/supervise first.
 *
 * The child of spawn() joins its cgroup before the exec (it writes "0" to
 * the cgroup.procs fd it is given), so everything it forks stays in it:
 * a stop or an exit kills the whole cgroup (cgroup.kill), which a
 * double-forked daemon cannot escape, and "no process left" is read from
 * cgroup.events. limits.memory -> memory.max (and limits.swap ->
 * memory.swap.max), limits.cpu -> cpu.max, limits.pids -> pids.max,
 * limits.io_weight -> io.weight, each when its controller is enabled.
 *
 * Nothing here prints or exits; errors come back as messages. Paths are
 * bounded by CGROUP_PATH_MAX. */
#ifndef MLS_CGROUP_H
#define MLS_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define CGROUP_PATH_MAX 512
#define CGROUP_DEFAULT_MOUNT "/sys/fs/cgroup"

enum { CG_MEMORY = 1, CG_CPU = 2, CG_PIDS = 4, CG_IO = 8 };

struct cgroup_root {
	int ok;                       /* instances get cgroups */
	unsigned ctrl;                /* CG_* enabled for them */
	char base[CGROUP_PATH_MAX];   /* BASE/mls */
	char why[200];                /* !ok: why not ("not a cgroup2 mount", ...) */
};

/* Limits for one instance's cgroup; < 0 = unset */
struct cgroup_limits {
	int64_t memory, swap, pids;
	double cpu;       /* CPUs; <= 0 unset */
	int io_weight;    /* 1-10000; <= 0 unset */
};

/* Would cgroup_init() find a writable cgroup2 mount for mls's own
 * cgroup? Changes nothing (validate). 0, or -1 with why. */
int cgroup_probe(const char *mnt, char *why, size_t whysz);

/* Probe mnt (NULL: CGROUP_DEFAULT_MOUNT) and set up BASE/mls with every
 * controller it can enable. Returns 0 (r->ok), or -1 with r->why. */
int cgroup_init(struct cgroup_root *r, const char *mnt);

/* "memory cpu pids io" as enabled, for messages */
const char *cgroup_ctrl_names(unsigned ctrl, char *buf, size_t sz);

/* Make (or reuse) the cgroup of instance `name` ("web.1"), write its
 * limits, and return an O_WRONLY|O_CLOEXEC fd on its cgroup.procs for the
 * child to join, or -1 with err ("memory.max: Invalid argument"). A
 * limit whose controller is not enabled is an error naming it. */
int cgroup_prepare(const struct cgroup_root *r, const char *name, const struct cgroup_limits *lim,
	char *err, size_t errsz);

/* Send sig to every process of the cgroup (cgroup.procs), for the stop
 * signal: 0, or -1 when it cannot be read */
int cgroup_signal(const struct cgroup_root *r, const char *name, int sig);

/* Kill every process of the cgroup (cgroup.kill; on kernels before 5.14,
 * SIGKILL to each pid of cgroup.procs). Returns 0 or -1. */
int cgroup_kill(const struct cgroup_root *r, const char *name);

/* 1: processes left, 0: none (or no such cgroup), -1: unreadable */
int cgroup_populated(const struct cgroup_root *r, const char *name);

/* memory.events' oom_kill count, or -1 */
int64_t cgroup_oom_kills(const struct cgroup_root *r, const char *name);

/* cpu.stat usage_usec and memory.current; -1 each when unknown */
void cgroup_usage(const struct cgroup_root *r, const char *name, int64_t *cpu_usec, int64_t *mem_bytes);

/* rmdir (only when empty); 0 or -1 */
int cgroup_remove(const struct cgroup_root *r, const char *name);

#endif
