/* procstat.c: see procstat.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procstat.h"

/* ------------------------------------------------------------ parsing */

/* A decimal integer field p[0..len), optionally negative: 0, or -1 */
static int field_num(const char *p, size_t len, int neg_ok, unsigned long long *v, int *neg)
{
	unsigned long long x = 0;
	size_t i = 0;
	*neg = 0;
	if (neg_ok && len && p[0] == '-')
		*neg = 1, i = 1;
	if (i == len)
		return -1;
	for (; i < len; i++) {
		unsigned d = (unsigned char)p[i] - '0';
		if (d > 9 || x > (~0ULL - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int procstat_parse_stat(const char *line, size_t n, int *pgrp, unsigned long long *ticks)
{
	const char *end = line + n, *p = line, *close = NULL;
	unsigned long long v, utime = 0;
	int neg;

	/* "PID (" */
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == line || end - p < 2 || p[0] != ' ' || p[1] != '(')
		goto bad;
	for (const char *q = p + 2; q < end; q++)
		if (*q == ')')
			close = q;
	if (!close)
		goto bad;
	/* fields 3 (state) to 15 (stime), separated by one space */
	p = close + 1;
	for (int field = 3; field <= 15; field++) {
		if (p >= end || *p != ' ')
			goto bad;
		const char *f = ++p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		size_t len = (size_t)(p - f);
		if (!len)
			goto bad;
		if (field == 3) { /* state: one letter (R, S, D, Z, ...), not used */
			if (len != 1 || !((*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z')))
				goto bad;
			continue;
		}
		if (field_num(f, len, field <= 8, &v, &neg)) /* 4..8: ppid pgrp session tty_nr tpgid */
			goto bad;
		if (field == 5) {
			if (v > (unsigned long long)(neg ? 2147483648ULL : 2147483647ULL))
				goto bad;
			*pgrp = neg ? (int)-(long long)v : (int)v;
		} else if (field == 14)
			utime = v;
		else if (field == 15)
			*ticks = utime + v;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* "\nKEY:   N" in a /proc/PID/status text: N, or -1 when absent */
static long long status_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);
	unsigned long long v = 0;
	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && v < (1ULL << 53))
		v = v * 10 + (unsigned)(*p++ - '0');
	return (long long)v;
}

/* ------------------------------------------------------------ reading */

/* Up to sz - 1 bytes of a /proc file, NUL-terminated: the length, or -1 */
static ssize_t read_proc(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	if (fd < 0)
		return -1;
	while (got < sz - 1) {
		ssize_t r = read(fd, buf + got, sz - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	return (ssize_t)got;
}

/* Open fds of pid: the entries of /proc/PID/fd, 0 when unreadable */
static int count_fds(int pid)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Adds pid, whose stat gave ticks, to out: memory and threads from its
 * status, its fds */
static void add_proc(int pid, unsigned long long ticks, struct procstat *out)
{
	char path[64], buf[4096];
	long long v;

	out->nprocs++;
	out->cpu_ticks += ticks;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_proc(path, buf, sizeof buf) > 0) {
		if ((v = status_field(buf, "\nVmRSS:")) > 0)
			out->rss_bytes += v * 1024; /* kB */
		if ((v = status_field(buf, "\nThreads:")) > 0)
			out->threads += (int)v;
	}
	out->fds += count_fds(pid);
}

/* pid's stat: 0 with its pgrp and ticks, or -1 (gone, or unreadable) */
static int read_stat(int pid, int *pgrp, unsigned long long *ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	ssize_t n = read_proc(path, buf, sizeof buf);
	if (n < 0)
		return -1;
	return procstat_parse_stat(buf, (size_t)n, pgrp, ticks);
}

int procstat_read(int pgid, int pid, struct procstat *out)
{
	int pgrp;
	unsigned long long ticks;

	memset(out, 0, sizeof *out);
	if (pgid <= 0) {
		if (pid <= 0) {
			errno = EINVAL;
			return -1;
		}
		if (read_stat(pid, &pgrp, &ticks)) {
			errno = ESRCH;
			return -1;
		}
		add_proc(pid, ticks, out);
		return 0;
	}

	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	for (struct dirent *e; out->nprocs < PROCSTAT_MAX_PROCS && (e = readdir(d));) {
		const char *s = e->d_name;
		int p = 0;
		if (*s < '1' || *s > '9')
			continue; /* not a process: self, sys, ... */
		for (; *s >= '0' && *s <= '9' && p <= 99999999; s++)
			p = p * 10 + (*s - '0');
		if (*s)
			continue;
		if (read_stat(p, &pgrp, &ticks))
			continue; /* gone since readdir */
		if (pgrp == pgid || p == pid)
			add_proc(p, ticks, out);
	}
	closedir(d);
	if (!out->nprocs) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

static const int *many_keys;
static int cmp_idx(const void *a, const void *b)
{
	int x = many_keys[*(const int *)a], y = many_keys[*(const int *)b];
	return (x > y) - (x < y);
}

int procstat_read_many(const int *pgids, int n, struct procstat *outs)
{
	if (n <= 0)
		return 0;
	int *idx = malloc((size_t)n * sizeof *idx);
	if (!idx)
		return -1;
	for (int k = 0; k < n; k++) {
		idx[k] = k;
		memset(&outs[k], 0, sizeof outs[k]);
	}
	many_keys = pgids;
	qsort(idx, (size_t)n, sizeof *idx, cmp_idx);
	DIR *d = opendir("/proc");
	if (!d) {
		free(idx);
		return -1;
	}
	int pgrp;
	unsigned long long ticks;
	for (struct dirent *e; (e = readdir(d));) {
		const char *s = e->d_name;
		int p = 0;
		if (*s < '1' || *s > '9')
			continue;
		for (; *s >= '0' && *s <= '9' && p <= 99999999; s++)
			p = p * 10 + (*s - '0');
		if (*s || read_stat(p, &pgrp, &ticks))
			continue;
		/* binary search for pgrp among the groups asked for */
		int lo = 0, hi = n - 1, at = -1;
		while (lo <= hi) {
			int mid = (lo + hi) / 2, v = pgids[idx[mid]];
			if (v == pgrp) {
				at = idx[mid];
				break;
			}
			if (v < pgrp)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		if (at >= 0 && outs[at].nprocs < PROCSTAT_MAX_PROCS)
			add_proc(p, ticks, &outs[at]);
	}
	closedir(d);
	free(idx);
	return 0;
}

double procstat_cpu_percent(unsigned long long ticks0, long long t0_ms, unsigned long long ticks1, long long t1_ms)
{
	long hz = sysconf(_SC_CLK_TCK);
	if (t1_ms <= t0_ms || ticks1 < ticks0 || hz <= 0)
		return 0;
	/* ticks / hz seconds of CPU over (t1 - t0) / 1000 seconds */
	return (double)(ticks1 - ticks0) * 1000.0 * 100.0 / ((double)hz * (double)(t1_ms - t0_ms));
}
