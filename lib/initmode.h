/* initmode.h: what mls supervise does as the system's init (PID 1 on bare
 * metal or in a VM), apart from supervising: the boot steps (mounts,
 * hostname, loopback, the random seed, the console) and the last steps of
 * a shutdown (kill what is left, save the seed, unmount, reboot(2)).
 * docs/init.md describes the whole; applets/supervise/sv_init.c drives it.
 *
 * The pure parts (container detection, /proc/self/mountinfo parsing, the
 * plan of the early mounts) take their inputs as arguments and are unit
 * tested (tests/unit/test_initmode.c); the steps act on this system and
 * run only in init mode (never on a host: tests/boot/ runs them in qemu).
 *
 * Conventions: a step returns INIT_DONE, INIT_SKIPPED (msg says why: it was
 * done already, the kernel lacks the feature, the file is absent) or
 * INIT_FAILED (msg says what failed and strerror); it never exits and
 * nothing in it is fatal. msg is always written (cut to its size). */
#ifndef MLS_INITMODE_H
#define MLS_INITMODE_H

#include <stddef.h>
#include <sys/types.h>

enum init_result { INIT_DONE, INIT_SKIPPED, INIT_FAILED };

/* ------------------------------------------------------------ detection */

/* What is known about this process and its system (init_probe_read fills
 * it from the real one; tests fill it by hand). Strings may be NULL. */
struct init_probe {
	int pid1;                  /* getpid() == 1 */
	const char *container_env; /* $container (systemd's convention: lxc, podman, docker set it) */
	int container_file;        /* /.dockerenv or /run/.containerenv exists */
	int proc_mounted;          /* /proc/self/mountinfo could be read */
	const char *pid2_comm;     /* /proc/2/comm, newline removed */
	const char *pid1_cgroup;   /* /proc/1/cgroup */
};

enum init_verdict {
	INIT_NOT_PID1,   /* not PID 1: never init mode */
	INIT_CONTAINER,  /* PID 1 of a container or PID namespace */
	INIT_SYSTEM,     /* PID 1 of the machine */
};

/* The verdict, and in why a sentence saying which test decided.
 * The tests, in order: not PID 1; $container set; /.dockerenv or
 * /run/.containerenv; no /proc mounted yet (a kernel's first process:
 * nothing mounted it, a container runtime always does) -> system; a
 * container's name in /proc/1/cgroup (docker, lxc, kubepods, libpod,
 * containerd); /proc/2 is the kernel's kthreadd (only the initial PID
 * namespace sees kernel threads) -> system; otherwise a PID namespace ->
 * container. */
enum init_verdict init_detect(const struct init_probe *p, char *why, size_t whysz);

/* Fills p from this process's system; buf (of size n) holds the strings */
void init_probe_read(struct init_probe *p, char *buf, size_t n);

/* ------------------------------------------------------ mountinfo */

#define INIT_PATH_MAX 256

/* One line of /proc/self/mountinfo (proc(5)): the fields mls uses, the
 * octal escapes (\040 for a space) decoded */
struct mountent {
	int id, parent;
	char target[INIT_PATH_MAX];
	char fstype[32];
	char source[INIT_PATH_MAX];
};

/* Parses one line (without or with its newline): 0, or -1 when it is not
 * a mountinfo line or a field does not fit */
int mountinfo_parse_line(const char *line, struct mountent *m);
/* Is something mounted on target (an exact mount point)? text is the
 * whole file; NULL text (no /proc) is never mounted */
int mountinfo_has(const char *text, const char *target);
/* The entries of text in file order (the order of mounting) into v[max];
 * returns how many (lines that do not parse are left out) */
int mountinfo_list(const char *text, struct mountent *v, int max);

/* ------------------------------------------------------ boot steps */

/* One early mount (the table init_early_mounts, in order) */
struct init_mount {
	const char *source, *target, *type;
	unsigned long flags;       /* MS_* */
	const char *data;          /* mount options for the filesystem */
	int if_fs;                 /* only when /proc/filesystems lists type (cgroup2) */
};

extern const struct init_mount init_early_mounts[];
extern const int init_nearly_mounts;

/* The plan for one mount, pure: INIT_SKIPPED with why (mounted already,
 * or the kernel has no such filesystem: filesystems is /proc/filesystems'
 * text, NULL when unknown) or INIT_DONE (it is to be done) */
enum init_result init_mount_plan(const struct init_mount *m, const char *mountinfo, const char *filesystems,
	char *why, size_t whysz);

/* Reads a whole small file (a /proc file: size 0 in stat) into a malloc'd
 * NUL-terminated string; NULL when it cannot */
char *init_read_file(const char *path);

/* Mounts m unless the plan skips it; creates target (0755) when missing */
enum init_result init_mount(const struct init_mount *m, char *msg, size_t n);
/* Mounts source on target with type and comma-separated options (mount(8)
 * style: ro, nosuid, nodev, noexec, noatime, relatime, sync, bind, rbind;
 * the rest are the filesystem's data), unless something is mounted there */
enum init_result init_mount_opts(const char *source, const char *target, const char *type, const char *options,
	char *msg, size_t n);
/* / read-write (rw 1) or read-only (rw 0), by MS_REMOUNT */
enum init_result init_remount_root(int rw, char *msg, size_t n);
/* sethostname() from the first line of path (/etc/hostname) */
enum init_result init_hostname(const char *path, char *msg, size_t n);
/* lo up: SIOCGIFFLAGS then SIOCSIFFLAGS with IFF_UP, on a datagram socket */
enum init_result init_loopback(char *msg, size_t n);
/* The random seed: path's bytes (up to 512) written to /dev/urandom,
 * which mixes them into the pool without crediting entropy (no
 * RNDADDENTROPY: a seed file restored from a backup or an image is not
 * secret, so crediting it could make getrandom() trust known bytes). */
enum init_result init_seed_load(const char *path, char *msg, size_t n);
/* Writes 512 fresh getrandom() bytes to path (mode 0600, through a
 * temporary file and rename; its directory created): at boot, right after
 * loading, so a crash never replays the same seed, and at shutdown */
enum init_result init_seed_save(const char *path, int nonblock, char *msg, size_t n);
/* fds 0, 1 and 2 on /dev/console (O_NOCTTY); when it cannot be opened,
 * the closed ones on /dev/null so that no later fd takes their numbers */
enum init_result init_console(char *msg, size_t n);
/* value written to /proc/sys/KEY (dots become slashes) */
enum init_result init_sysctl(const char *key, const char *value, char *msg, size_t n);
/* `modprobe NAME` when modprobe is in /sbin, /usr/sbin, /bin or /usr/bin;
 * waits for it (at most 10 s, then SIGKILL) */
enum init_result init_modprobe(const char *name, char *msg, size_t n);

/* ------------------------------------------------------ shutdown */

enum init_action { INIT_ACT_NONE, INIT_ACT_POWEROFF, INIT_ACT_REBOOT, INIT_ACT_HALT };
const char *init_action_name(enum init_action a); /* "poweroff", "reboot", "halt" */

/* SIGTERM (and SIGCONT) to every process but PID 1 (kill(-1)), reaping,
 * until none is left or grace_ms passes; then SIGKILL and reap (at most
 * 2 s more). Returns 1 when SIGKILL was needed, else 0; *any is set when
 * kill(-1) found a process at all. */
int init_kill_all(int grace_ms, int *any);
/* Unmounts what mountinfo lists, in reverse order, / excepted; what
 * cannot be unmounted (busy: the console on /dev) is remounted read-only.
 * Each result goes to report (one line each). Then / read-only. */
void init_unmount_all(void (*report)(enum init_result r, const char *msg, void *ctx), void *ctx);
/* reboot(2) for the action (RB_POWER_OFF, RB_AUTOBOOT, RB_HALT_SYSTEM);
 * returns only when it failed (-1, errno) */
int init_reboot(enum init_action a);

#endif
