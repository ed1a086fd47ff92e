/* procstat.h: per-instance metrics (CPU, memory, threads, fds) read from
 * /proc, for `status`, `ctl top` and later the HTTP API and Prometheus.
 *
 * An instance is its process group (each instance runs in its own session
 * and group), so the figures are sums over every process whose pgrp is the
 * instance's: a shell's children, a server's workers, a pre-fork pool.
 *
 * Cost: procstat_read() of a group is one scan of /proc: a readdir of it
 * and one read of /proc/PID/stat (about 400 bytes) for every process of
 * the machine, then /proc/PID/status and a readdir of /proc/PID/fd for each
 * process of the group. Callers sample at most once a second and only on
 * demand (someone asked for status), never on a timer. A process that
 * exits during the scan is skipped.
 *
 * Linux only (/proc must be mounted). Nothing here prints or exits; no
 * allocation other than what opendir() does (freed before returning).
 * Functions return 0 or -1 with errno. */
#ifndef MLS_PROCSTAT_H
#define MLS_PROCSTAT_H

#include <stddef.h>

#define PROCSTAT_MAX_PROCS 1024 /* processes summed per call; more are not counted */

struct procstat {
	unsigned long long cpu_ticks;  /* utime+stime of every process of the group, clock ticks (sysconf(_SC_CLK_TCK)) */
	long long rss_bytes;           /* sum of VmRSS */
	int threads;                   /* sum of Threads */
	int fds;                       /* sum of open fds (entries of /proc/PID/fd; unreadable -> not counted) */
	int nprocs;                    /* processes counted */
};

/* Samples the process group pgid (every /proc/PID whose stat field pgrp ==
 * pgid), or just pid when pgid <= 0. With pgid > 0 and pid > 0, pid is
 * counted too when it has left the group (a daemon's setsid()); it is
 * never counted twice. *out is cleared first.
 *
 * Returns 0, or -1 with errno: ESRCH when no process was found (the group
 * is gone), EINVAL when pgid <= 0 and pid <= 0, or the errno of opening
 * /proc (ENOENT: not mounted; EMFILE). Bounded: reads at most
 * PROCSTAT_MAX_PROCS processes of the group (nprocs ==
 * PROCSTAT_MAX_PROCS says the figures may be short).
 *
 * Figures are what /proc shows to this process: fds of another user's
 * process are unreadable without root and count 0; a zombie counts with
 * its CPU and one thread, no memory, no fds. cpu_ticks is not monotonic:
 * it drops when a process of the group exits (its time goes to its
 * parent's cutime, which is not summed). */
int procstat_read(int pgid, int pid, struct procstat *out);

/* The same for n process groups in one scan of /proc (a status of 1,000
 * instances costs one scan, not 1,000): outs[k] gets the sums of the group
 * pgids[k] (nprocs 0: none found). Groups must be > 0 and distinct.
 * Returns 0, or -1 with errno (ENOMEM, or opening /proc). */
int procstat_read_many(const int *pgids, int n, struct procstat *outs);

/* CPU use over an interval, in % of one core (200 = two cores busy): from
 * cpu_ticks ticks0 at t0_ms to ticks1 at t1_ms (any one clock in ms,
 * CLOCK_MONOTONIC). 0 when the interval is 0 or negative, or when ticks
 * went down (a process of the group exited in between). */
double procstat_cpu_percent(unsigned long long ticks0, long long t0_ms, unsigned long long ticks1, long long t1_ms);

/* For tests: parses the text of /proc/PID/stat, line[0..n) (no NUL
 * needed). The command name (field 2) may hold any byte, spaces, '(' and
 * ')' included: the fields are read after the LAST ')'. Sets *pgrp
 * (field 5) and *ticks (utime + stime, fields 14 and 15). 0, or -1 with
 * EINVAL (no ')' after "PID (", fewer than 15 fields, fields not separated
 * by exactly one space, a state that is not one letter, a field that is
 * not a decimal number). */
int procstat_parse_stat(const char *line, size_t n, int *pgrp, unsigned long long *ticks);

#endif
