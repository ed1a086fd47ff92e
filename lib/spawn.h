/* spawn.h: start one program the way a supervisor does.
 *
 * fork(), then in the child: own session (setsid) unless told otherwise,
 * stdin from /dev/null, stdout+stderr onto out_fd, an optional readiness
 * fd, every other fd closed, default signal dispositions and an empty
 * mask (loop_reset_signals_for_child), working dir, rlimits, nice, then
 * groups/gid/uid, then execve. PATH lookup of argv[0] (when it has no '/')
 * uses the PATH of `envp` (falling back to "/usr/local/bin:/bin:/usr/bin").
 *
 * If anything in the child fails, it writes one line
 *   "mls: cannot STEP: strerror\n"  (e.g. "mls: cannot exec 'foo': No such file or directory")
 * to out_fd (so it lands in the service's log) and _exit()s with 127 for
 * exec ENOENT, 126 for other exec errors, 125 for failures before exec.
 * The parent does not wait for the exec: spawn() returns as soon as fork()
 * did (no blocking on the child).
 *
 * Nothing here prints or exits in the parent. */
#ifndef MLS_SPAWN_H
#define MLS_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#define SPAWN_EXIT_PRE_EXEC 125
#define SPAWN_EXIT_EXEC     126
#define SPAWN_EXIT_NOENT    127

/* A resolved user: from "name", "uid" or "uid:gid" (or "name:group") */
struct spawn_user {
	uid_t uid;
	gid_t gid;
	int set;       /* 0: do not change user */
	char name[64]; /* for initgroups(); "" for numeric uids -> setgroups(1, &gid) */
};

/* Resolve `spec` (NULL or "" = no change) with getpwnam/getgrnam (musl reads
 * /etc/passwd, /etc/group). A bare numeric uid takes its passwd entry's
 * gid, or gid = uid when it has none. Returns 0, or -1 with `err` filled
 * ("no such user 'x'", ...). */
int spawn_resolve_user(const char *spec, struct spawn_user *u, char *err, size_t errsz);

struct spawn_req {
	char *const *argv;     /* NULL-terminated, argv[0] = program */
	const char *path;      /* NULL: run argv[0] (PATH lookup when it has
	                          no '/'); else this file, argv given as is */
	char *const *envp;     /* NULL-terminated, the whole environment */
	const char *dir;       /* NULL = do not chdir */
	const struct spawn_user *user;  /* NULL or !set = keep */
	/* rlimits (soft and hard both set), < 0 = leave as is */
	int64_t rlimit_as, rlimit_nofile, rlimit_core, rlimit_nproc;
	int64_t nofile_soft;   /* soft RLIMIT_NOFILE when rlimit_nofile < 0
	                          (the one the supervisor was given before
	                          raising its own); < 0 = leave as is */
	int nice, has_nice;
	int out_fd;            /* becomes fd 1 and 2 in the child; -1 = /dev/null */
	int in_fd;             /* becomes fd 0; -1 = /dev/null */
	int err_fd;            /* becomes fd 2 instead of out_fd; -1 = out_fd */
	int ready_fd;          /* child fd number for readiness (e.g. 3); -1 = none */
	int ready_src;         /* our fd that becomes ready_fd in the child */
	int keep_session;      /* 1: no setsid (ctl run, foreground) */
	int cgroup_fd;         /* -1, or a cgroup.procs fd the child writes "0"
	                          to first: it and all it forks live there */
	char *pid_var;         /* NULL, or a string of envp "NAME=" followed by
	                          at least 20 bytes of room: the child writes its
	                          own pid there before the exec (WATCHDOG_PID) */
};

/* Initialise *r with every field "unset" (fds -1, rlimits -1). */
void spawn_req_init(struct spawn_req *r);

/* Fork and start the program. Returns the child's pid, or -1 with errno
 * (fork's: EAGAIN, ENOMEM; EINVAL when argv or argv[0] is NULL). */
pid_t spawn(const struct spawn_req *r);

/* The same steps as the child of spawn(), in the current process, ending
 * in execve (for `mls ctl run`). Returns only on failure: -1 with errno
 * and `step` naming what failed ("exec", "chdir", "setuid", ...). */
int spawn_exec_here(const struct spawn_req *r, const char **step);

#endif
