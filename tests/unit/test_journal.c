/* Unit tests for lib/journal.c: append and replay, compaction keeping the
 * newest whole lines within the bound, torn and over-long lines, the tail
 * of a big file. Real files in a mkdtemp directory. Output is TAP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "journal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)

static char dir[PATH_MAX - 64];
static char path[PATH_MAX];
static char tmppath[PATH_MAX + 8];

/* ------------------------------------------------------------- helpers */

/* What replay gave: the lines, kept for checking */
struct got {
	int n;
	char *last;          /* copy of the last line */
	char first[128];     /* its start */
	long first_seq, last_seq;
	int out_of_order;    /* seq lines not consecutive */
	int not_string;      /* line[len] was not NUL */
	size_t longest;
};

static long seq_of(const char *line)
{
	const char *p = strstr(line, "\"seq\":");

	return p ? strtol(p + 6, NULL, 10) : -1;
}

static void got_fn(const char *line, size_t len, void *ctx)
{
	struct got *g = ctx;
	long seq = seq_of(line);

	if (line[len] != '\0')
		g->not_string++;
	if (!g->n) {
		snprintf(g->first, sizeof g->first, "%.*s", (int)len, line);
		g->first_seq = seq;
	} else if (seq >= 0 && seq != g->last_seq + 1) {
		g->out_of_order++;
	}
	g->last_seq = seq;
	if (len > g->longest)
		g->longest = len;
	free(g->last);
	g->last = strndup(line, len);
	g->n++;
}

static int replay(struct got *g)
{
	memset(g, 0, sizeof *g);
	g->first_seq = g->last_seq = -1;
	return journal_replay(path, got_fn, g);
}

static void got_free(struct got *g)
{
	free(g->last);
	g->last = NULL;
}

static int64_t fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Appends raw bytes behind the journal's back */
static void raw_append(const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		tap_diag("raw append: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int seq_line(char *buf, size_t sz, long seq, int pad)
{
	char p[256];

	memset(p, 'p', (size_t)pad);
	p[pad] = '\0';
	return snprintf(buf, sz, "{\"t\":1763800000123,\"ev\":\"start\",\"seq\":%ld,\"pad\":\"%s\"}", seq, p);
}

/* ---------------------------------------------------------------- tests */

static void test_basic(void)
{
	static const char *lines[] = {
		"{\"t\":1,\"ev\":\"supervisor\",\"pid\":1,\"action\":\"start\"}",
		"{\"t\":2,\"ev\":\"start\",\"svc\":\"web\",\"inst\":1,\"pid\":123}",
		"{\"t\":3,\"ev\":\"exit\",\"svc\":\"web\",\"inst\":1,\"pid\":123,\"code\":1}",
	};
	struct journal j;
	struct got g;
	struct stat st;

	errno = 0;
	OK(replay(&g) == -1 && errno == ENOENT, "replay without a journal: ENOENT");
	OK(journal_open(&j, path) == 0 && j.fd >= 0 && j.size == 0,
		"open creates an empty journal");
	OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	for (int i = 0; i < 3; i++)
		OK(journal_append(&j, lines[i], strlen(lines[i]), i == 2) == 0,
			"append line %d%s", i + 1, i == 2 ? " with sync" : "");
	OK(j.size == fsize(path), "size tracks the file");
	OK(replay(&g) == 3 && g.n == 3 && !strcmp(g.first, lines[0]) &&
		!strcmp(g.last, lines[2]) && !g.not_string,
		"replay: 3 lines, oldest first, NUL-terminated");
	got_free(&g);
	OK(journal_append(&j, "", 0, 0) == 0, "an empty line is accepted");
	journal_close(&j);
	OK(j.fd == -1 && !j.path, "close resets");
	errno = 0;
	OK(journal_append(&j, "x", 1, 0) == -1 && errno == EBADF,
		"append after close: EBADF");
	journal_close(&j);
	OK(journal_open(&j, path) == 0 && j.size == fsize(path),
		"reopen: size of the existing file");
	journal_close(&j);
	OK(replay(&g) == 4, "replay: 4 lines");
	got_free(&g);
	unlink(path);

	{
		char bad[PATH_MAX + 16];
		snprintf(bad, sizeof bad, "%s/no/such/dir", dir);
		errno = 0;
		OK(journal_open(&j, bad) == -1 && errno == ENOENT && !j.path &&
			j.fd == -1, "open in a missing directory: -1 ENOENT");
		journal_close(&j);
	}
}

static void test_long_lines(void)
{
	struct journal j;
	struct got g;
	char *big = malloc(JOURNAL_LINE_MAX + 2);

	if (!big)
		exit(1);
	memset(big, 'x', JOURNAL_LINE_MAX + 1);
	journal_open(&j, path);
	errno = 0;
	OK(journal_append(&j, big, JOURNAL_LINE_MAX + 1, 0) == -1 &&
		errno == EMSGSIZE && j.size == 0, "JOURNAL_LINE_MAX + 1: EMSGSIZE");
	OK(journal_append(&j, big, JOURNAL_LINE_MAX, 0) == 0,
		"JOURNAL_LINE_MAX: accepted");
	errno = 0;
	OK(journal_append(&j, "a\nb", 3, 0) == -1 && errno == EINVAL,
		"a newline inside: EINVAL");
	journal_append(&j, "{\"after\":1}", 11, 0);
	journal_close(&j);

	/* an over-long line written behind its back is skipped */
	big[JOURNAL_LINE_MAX + 1] = '\n';
	raw_append(big, JOURNAL_LINE_MAX + 2);
	raw_append("{\"end\":1}\n", 10);
	OK(replay(&g) == 3 && g.longest == JOURNAL_LINE_MAX &&
		!strcmp(g.last, "{\"end\":1}"),
		"replay skips the over-long line, keeps the rest");
	got_free(&g);
	/* one much longer than the read buffer */
	{
		size_t huge = 200000;
		char *h = malloc(huge);
		if (!h)
			exit(1);
		memset(h, 'h', huge);
		h[huge - 1] = '\n';
		raw_append(h, huge);
		raw_append("{\"end\":2}\n", 10);
		free(h);
	}
	OK(replay(&g) == 4 && !strcmp(g.last, "{\"end\":2}"),
		"a 200 KB line is skipped too");
	got_free(&g);
	free(big);
	unlink(path);
}

static void test_torn(void)
{
	struct journal j;
	struct got g;

	journal_open(&j, path);
	journal_append(&j, "{\"a\":1}", 7, 0);
	journal_append(&j, "{\"a\":2}", 7, 0);
	journal_close(&j);
	raw_append("{\"a\":3,\"ev\":\"ex", 15);
	OK(replay(&g) == 2 && !strcmp(g.last, "{\"a\":2}"),
		"a torn last line is skipped");
	got_free(&g);
	OK(journal_open(&j, path) == 0 && j.size == 16 && fsize(path) == 16,
		"open cuts the torn line off");
	journal_append(&j, "{\"a\":4}", 7, 0);
	journal_close(&j);
	OK(replay(&g) == 3 && !strcmp(g.last, "{\"a\":4}"),
		"the next line is whole, not glued to the torn one");
	got_free(&g);
	unlink(path);

	/* a file that is only a torn line */
	raw_append("{\"tor", 5);
	OK(journal_open(&j, path) == 0 && j.size == 0, "only a torn line: emptied");
	journal_close(&j);
	unlink(path);

	/* a torn tail longer than any line: ended, then skipped */
	{
		char *junk = malloc(3 * JOURNAL_LINE_MAX);
		if (!junk)
			exit(1);
		raw_append("{\"a\":1}\n", 8);
		memset(junk, 'j', 3 * JOURNAL_LINE_MAX);
		raw_append(junk, 3 * JOURNAL_LINE_MAX);
		free(junk);
	}
	journal_open(&j, path);
	journal_append(&j, "{\"a\":2}", 7, 0);
	journal_close(&j);
	OK(replay(&g) == 2 && !strcmp(g.first, "{\"a\":1}") &&
		!strcmp(g.last, "{\"a\":2}"),
		"a torn tail longer than a line: ended and skipped");
	got_free(&g);
	unlink(path);
}

static void test_compaction(void)
{
	struct journal j;
	struct got g;
	char line[512];
	long n = 0, over = 0, compactions = 0;
	int64_t prev = 0, written = 0;

	journal_open(&j, path);
	/* three times the bound, lines of varying length */
	while (written < 3 * (int64_t)JOURNAL_MAX) {
		int len = seq_line(line, sizeof line, n, (int)(n * 37 % 200));
		if (journal_append(&j, line, (size_t)len, 0) < 0) {
			tap_diag("append: %s", strerror(errno));
			break;
		}
		if (j.size < prev)
			compactions++;
		if (j.size > (int64_t)JOURNAL_MAX)
			over++;
		prev = j.size;
		written += len + 1;
		n++;
	}
	OK(over == 0 && compactions >= 3, "%ld lines: the file never passed "
		"JOURNAL_MAX (%ld compactions)", n, compactions);
	OK(j.size == fsize(path), "size tracks the file after compaction");
	OK(fsize(tmppath) == -1, "no PATH.tmp left");
	journal_close(&j);
	replay(&g); /* not inside OK(): its arguments read g */
	OK(g.n > 0 && g.out_of_order == 0 && g.last_seq == n - 1 &&
		g.first_seq > 0 && !g.not_string,
		"replay: consecutive newest lines, up to the last (%ld..%ld)",
		g.first_seq, g.last_seq);
	OK(strncmp(g.first, "{\"t\":", 5) == 0, "the first kept line is whole");
	OK(fsize(path) >= (int64_t)JOURNAL_KEEP - 512,
		"at least JOURNAL_KEEP's worth kept (%lld)", (long long)fsize(path));
	got_free(&g);

	/* compaction right after open, keeping what is there */
	journal_open(&j, path);
	while (j.size + 300 < (int64_t)JOURNAL_MAX) {
		int len = seq_line(line, sizeof line, n++, 200);
		journal_append(&j, line, (size_t)len, 0);
	}
	{
		int len = seq_line(line, sizeof line, n++, 250);
		OK(journal_append(&j, line, (size_t)len, 1) == 0 &&
			j.size < (int64_t)JOURNAL_KEEP + 400,
			"the append that would pass JOURNAL_MAX compacts first");
	}
	journal_close(&j);
	OK(replay(&g) > 0 && g.out_of_order == 0 && g.last_seq == n - 1,
		"replay after it: consecutive to the last");
	got_free(&g);
	unlink(path);
}

static void test_big_file(void)
{
	char line[512];
	struct got g;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	long n = 0;
	int64_t size = 0;
	int r;

	/* 3 MiB written by something else (or an old version) */
	while (size < (3 << 20)) {
		int len = seq_line(line, sizeof line, n++, 100);
		line[len++] = '\n';
		if (write(fd, line, (size_t)len) != len)
			break;
		size += len;
	}
	close(fd);
	r = replay(&g);
	OK(r > 0 && r < n / 2 && g.last_seq == n - 1 && g.out_of_order == 0,
		"a 3 MiB journal: only its tail is read (%d of %ld lines)", r, n);
	OK(strncmp(g.first, "{\"t\":", 5) == 0 && g.first_seq > 0,
		"the tail starts at a whole line");
	OK((int64_t)r * 100 <= (int64_t)JOURNAL_MAX + JOURNAL_LINE_MAX,
		"within JOURNAL_MAX + JOURNAL_LINE_MAX bytes");
	got_free(&g);
	unlink(path);
}

static void test_unwritable_tmp(void)
{
	struct journal j;
	char line[512];
	long n = 0;
	int failed = 0;

	/* PATH.tmp is a directory: compaction cannot happen, appends go on */
	if (mkdir(tmppath, 0700) < 0) {
		tap_skip("mkdir %s", tmppath);
		return;
	}
	journal_open(&j, path);
	while (j.size < (int64_t)JOURNAL_MAX + 2000) {
		int len = seq_line(line, sizeof line, n++, 100);
		if (journal_append(&j, line, (size_t)len, 0) < 0)
			failed++;
	}
	OK(failed == 0 && j.size > (int64_t)JOURNAL_MAX,
		"compaction failing: appends still succeed");
	rmdir(tmppath);
	{
		int len = seq_line(line, sizeof line, n++, 100);
		OK(journal_append(&j, line, (size_t)len, 0) == 0 &&
			j.size < (int64_t)JOURNAL_MAX, "and it compacts once it can");
	}
	journal_close(&j);
	unlink(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/mls-journal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/journal", dir);
	snprintf(tmppath, sizeof tmppath, "%s.tmp", path);
	test_basic();
	test_long_lines();
	test_torn();
	test_compaction();
	test_big_file();
	test_unwritable_tmp();
	unlink(tmppath);
	rmdir(tmppath);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
