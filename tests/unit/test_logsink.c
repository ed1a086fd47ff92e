/* Unit tests for lib/logsink.c: line cutting, timestamps, rotation, the
 * ring, write errors, reopening. Real files in a mkdtemp directory; no
 * sleeps (the open retry is driven through retry_at). The throughput is
 * printed as a comment, not checked. Output is TAP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "logsink.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define TS 24

static char dir[PATH_MAX - 64];
static const struct timespec T0 = { 1763800000, 123456789 };

/* ------------------------------------------------------------- helpers */

/* dir/name, in one of a few rotating buffers */
static const char *P(const char *fmt, ...)
{
	static char bufs[4][sizeof dir + 256 + 2];
	static int i;
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof bufs[i], "%s/%s", dir, name);
	return bufs[i];
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	r = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[r] = '\0';
	*len = (size_t)r;
	return buf;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int64_t fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* 2026-11-22T10:04:05.123Z followed by a space */
static int ts_ok(const char *p, size_t len)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ ";

	if (len < sizeof pat - 1)
		return 0;
	for (size_t i = 0; i < sizeof pat - 1; i++) {
		if (pat[i] == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != pat[i])
			return 0;
	}
	return 1;
}

/* Calls fn for each line's content (after the timestamp) of a log file;
 * the number of lines, or -1 if a line is malformed or the file does not
 * end with a newline */
typedef void line_fn(const char *c, size_t len, void *ctx);

static long file_lines(const char *path, line_fn *fn, void *ctx)
{
	size_t len;
	char *buf = slurp(path, &len), *p, *end;
	long n = 0;

	if (!buf)
		return -1;
	p = buf;
	end = buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || !ts_ok(p, (size_t)(nl - p))) {
			n = -1;
			break;
		}
		if (fn)
			fn(p + TS + 1, (size_t)(nl - p) - TS - 1, ctx);
		n++;
		p = nl + 1;
	}
	free(buf);
	return n;
}

/* Lines of the form "L<seq> ..." must come in order */
struct seq {
	long next;
	int bad;
};

static void seq_fn(const char *c, size_t len, void *ctx)
{
	struct seq *q = ctx;
	char num[16];

	if (len < 7 || c[0] != 'L') {
		q->bad++;
		return;
	}
	memcpy(num, c + 1, 6);
	num[6] = '\0';
	if (strtol(num, NULL, 10) != q->next)
		q->bad++;
	q->next++;
}

/* Content lengths of a file's lines */
struct lens {
	size_t v[16];
	int n;
};

static void lens_fn(const char *c, size_t len, void *ctx)
{
	struct lens *l = ctx;

	(void)c;
	if (l->n < 16)
		l->v[l->n] = len;
	l->n++;
}

/* Contents of a file's lines, joined by '|' */
struct join {
	char buf[512];
	size_t len;
};

static void join_fn(const char *c, size_t len, void *ctx)
{
	struct join *j = ctx;

	if (j->len && j->len < sizeof j->buf - 1)
		j->buf[j->len++] = '|';
	for (size_t i = 0; i < len && j->len < sizeof j->buf - 1; i++)
		j->buf[j->len++] = c[i];
	j->buf[j->len] = '\0';
}

static const char *joined(const char *path)
{
	static struct join j;

	j.len = 0;
	j.buf[0] = '\0';
	if (file_lines(path, join_fn, &j) < 0)
		return "(malformed)";
	return j.buf;
}

static void feed_str(struct logsink *s, const char *str)
{
	logsink_feed(s, str, strlen(str), &T0);
}

/* n lines "L000000 xx..." (pad of varying length) into a new buffer */
static char *make_lines(long n, size_t *len)
{
	char *buf = malloc((size_t)n * 128), *p = buf;

	if (!buf)
		exit(1);
	for (long i = 0; i < n; i++) {
		int pad = (int)(i * 7919 % 97);
		p += sprintf(p, "L%06ld ", i);
		memset(p, 'a' + (int)(i % 26), (size_t)pad);
		p += pad;
		*p++ = '\n';
	}
	*len = (size_t)(p - buf);
	return buf;
}

/* A small deterministic generator */
static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[PATH_MAX];

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

static void rm_logs(const char *base)
{
	char p[PATH_MAX];

	unlink(P("%s", base));
	for (int i = 1; i < 100; i++) {
		snprintf(p, sizeof p, "%s/%s.%d", dir, base, i);
		unlink(p);
	}
}

/* ---------------------------------------------------------- timestamps */

static void test_timestamp(void)
{
	static const struct {
		int line;
		struct timespec t;
		const char *want;
	} cases[] = {
		{ __LINE__, { 1763800000, 123456789 }, "2025-11-22T08:26:40.123Z" },
		{ __LINE__, { 0, 0 }, "1970-01-01T00:00:00.000Z" },
		{ __LINE__, { 951782400, 999999999 }, "2000-02-29T00:00:00.999Z" },
		{ __LINE__, { 951782400, 1000000 }, "2000-02-29T00:00:00.001Z" },
		{ __LINE__, { 1763800000, 5000000 }, "2025-11-22T08:26:40.005Z" },
		{ __LINE__, { 1763800001, 0 }, "2025-11-22T08:26:41.000Z" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		memset(buf, 'x', sizeof buf);
		int n = logsink_timestamp(&cases[i].t, buf);
		OK(n == 24 && !strcmp(buf, cases[i].want),
			"timestamp %lld.%09ld = %s", (long long)cases[i].t.tv_sec,
			cases[i].t.tv_nsec, cases[i].want);
		if (strcmp(buf, cases[i].want))
			tap_diag("got %s", buf);
	}
	if (sizeof(time_t) >= 8) {
		struct timespec t = { (time_t)253402300799LL, 0 };
		logsink_timestamp(&t, buf);
		OK(!strcmp(buf, "9999-12-31T23:59:59.000Z"), "year 9999");
		t.tv_sec += 1;
		logsink_timestamp(&t, buf);
		OK(strlen(buf) == 24, "year 10000 keeps the width (%s)", buf);
	}
}

/* ----------------------------------------------------------- the lines */

static void test_stdout_form(void)
{
	struct logsink s;
	char buf[256];
	int p[2];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		exit(1);
	OK(logsink_open(&s, NULL, "web.1", p[1], 0, 0, 0) == 0,
		"open the stdout form");
	feed_str(&s, "a\nb\npart");
	n = read(p[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	OK(!strcmp(buf, "web.1 | a\nweb.1 | b\n"), "two lines with prefix");
	OK(s.plen == 4 && s.part, "partial line kept");
	feed_str(&s, "ial\r\n");
	n = read(p[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	OK(!strcmp(buf, "web.1 | partial\r\n"), "partial completed, CR kept");
	OK(s.plen == 0 && !s.part, "partial buffer freed when empty");
	OK(s.lines == 3 && s.dropped == 0, "3 lines, none dropped");
	OK(!s.ring, "ring_max 0: no ring");
	logsink_close(&s);
	close(p[0]);
	close(p[1]);
}

static void test_split_feeds(void)
{
	const char *path = P("split.log");
	const char *text = "hello\nworld\r\nx\ry\n\nlast";
	struct logsink s;

	OK(logsink_open(&s, path, "x", -1, 0, 0, 0) == 0, "open %s", "split.log");
	for (const char *c = text; *c; c++)
		logsink_feed(&s, c, 1, &T0);
	OK(!strcmp(joined(path), "hello|world\r|x\ry|"),
		"byte-by-byte feeds: lines cut at \\n only, CR kept (%s)",
		joined(path));
	OK(file_lines(path, NULL, NULL) == 4 && s.lines == 4,
		"4 lines, well-formed timestamps");
	{
		size_t len;
		char *buf = slurp(path, &len);
		OK(buf && !strncmp(buf, "2025-11-22T08:26:40.123Z hello\n", 31),
			"file form: TIMESTAMP line");
		free(buf);
	}
	logsink_flush(&s, &T0);
	OK(!strcmp(joined(path), "hello|world\r|x\ry||last"),
		"flush writes the partial line");
	OK(!s.part && s.plen == 0, "partial freed after flush");
	logsink_flush(&s, &T0);
	OK(file_lines(path, NULL, NULL) == 5, "flush with nothing pending: no line");
	logsink_close(&s);
}

static void test_long_lines(void)
{
	const char *path = P("long.log");
	size_t big = 3 * LOG_LINE_MAX + 5;
	char *buf = malloc(big + 1);
	struct logsink s;
	struct lens l;

	if (!buf)
		exit(1);
	memset(buf, 'x', big);
	buf[big] = '\n';

	/* one feed: LOG_LINE_MAX + 10 */
	logsink_open(&s, path, "x", -1, 0, 0, 0);
	logsink_feed(&s, buf, LOG_LINE_MAX + 10, &T0);
	logsink_feed(&s, "\n", 1, &T0);
	memset(&l, 0, sizeof l);
	OK(file_lines(path, lens_fn, &l) == 2 && l.v[0] == LOG_LINE_MAX &&
		l.v[1] == 10, "LOG_LINE_MAX + 10 in one feed: split in 2");
	logsink_close(&s);
	unlink(path);

	/* the same in 1000-byte feeds */
	logsink_open(&s, path, "x", -1, 0, 0, 0);
	for (size_t o = 0; o < LOG_LINE_MAX + 10; o += 1000) {
		size_t n = LOG_LINE_MAX + 10 - o;
		logsink_feed(&s, buf + o, n < 1000 ? n : 1000, &T0);
	}
	logsink_feed(&s, "\n", 1, &T0);
	memset(&l, 0, sizeof l);
	OK(file_lines(path, lens_fn, &l) == 2 && l.v[0] == LOG_LINE_MAX &&
		l.v[1] == 10, "LOG_LINE_MAX + 10 in 1000-byte feeds: split in 2");
	logsink_close(&s);
	unlink(path);

	/* exactly LOG_LINE_MAX, its newline in the next feed: one line */
	logsink_open(&s, path, "x", -1, 0, 0, 0);
	logsink_feed(&s, buf, LOG_LINE_MAX, &T0);
	OK(file_lines(path, NULL, NULL) <= 0, "LOG_LINE_MAX bytes: kept");
	logsink_feed(&s, "\n", 1, &T0);
	memset(&l, 0, sizeof l);
	OK(file_lines(path, lens_fn, &l) == 1 && l.v[0] == LOG_LINE_MAX,
		"then its newline: one line, no empty one after");
	/* exactly LOG_LINE_MAX with its newline in one feed */
	buf[LOG_LINE_MAX] = '\n';
	logsink_feed(&s, buf, LOG_LINE_MAX + 1, &T0);
	buf[LOG_LINE_MAX] = 'x';
	OK(file_lines(path, NULL, NULL) == 2, "LOG_LINE_MAX + \\n in one feed: one line");
	logsink_close(&s);
	unlink(path);

	/* 3 x LOG_LINE_MAX + 5 without newline in 4 KiB feeds, then flush */
	logsink_open(&s, path, "x", -1, 0, 0, 0);
	for (size_t o = 0; o < big; o += 4096) {
		size_t n = big - o;
		logsink_feed(&s, buf + o, n < 4096 ? n : 4096, &T0);
	}
	OK(s.plen == 5 || s.plen == LOG_LINE_MAX,
		"a partial line is kept up to LOG_LINE_MAX (%zu)", s.plen);
	logsink_flush(&s, &T0);
	memset(&l, 0, sizeof l);
	OK(file_lines(path, lens_fn, &l) == 4 && l.v[0] == LOG_LINE_MAX &&
		l.v[1] == LOG_LINE_MAX && l.v[2] == LOG_LINE_MAX && l.v[3] == 5,
		"3 x LOG_LINE_MAX + 5 unterminated: 4 lines after flush");
	/* one big feed with many tiny lines (the gathering buffer grows) */
	{
		char *nls = malloc(LOG_READ_MAX);
		if (!nls)
			exit(1);
		memset(nls, '\n', LOG_READ_MAX);
		logsink_feed(&s, nls, LOG_READ_MAX, &T0);
		OK(file_lines(path, NULL, NULL) == 4 + LOG_READ_MAX &&
			s.dropped == 0, "64 KiB of empty lines: %d lines",
			LOG_READ_MAX);
		free(nls);
	}
	logsink_close(&s);
	unlink(path);
	free(buf);
}

/* ------------------------------------------------------------ rotation */

/* Every file of the set is well-formed, within max (if max > 0), and the
 * lines run in order from the oldest file to PATH; returns the count */
static long check_set(const char *base, int keep, int64_t max, int *bad)
{
	struct seq q = { -1, 0 };
	long total = 0;
	int first = 1;

	*bad = 0;
	for (int i = keep; i >= 0; i--) {
		const char *f = i ? P("%s.%d", base, i) : P("%s", base);
		long n;
		if (!exists(f))
			continue;
		if (max > 0 && fsize(f) > max) {
			tap_diag("%s: %lld bytes > %lld", f,
				(long long)fsize(f), (long long)max);
			(*bad)++;
		}
		if (first) {
			/* the oldest kept line gives the start */
			size_t len;
			char *b = slurp(f, &len);
			if (b && len > TS + 2)
				q.next = strtol(b + TS + 2, NULL, 10);
			free(b);
			first = 0;
		}
		n = file_lines(f, seq_fn, &q);
		if (n < 0) {
			tap_diag("%s: malformed", f);
			(*bad)++;
		} else {
			total += n;
		}
	}
	*bad += q.bad;
	return total;
}

static void test_rotation(void)
{
	const long N = 5000;
	const int64_t max = 16384;
	const int keep = 60;
	size_t len;
	char *text = make_lines(N, &len);
	struct logsink s;
	int bad, files = 0;
	long total;

	OK(logsink_open(&s, P("rot.log"), "x", -1, max, keep, 0) == 0,
		"open with max_size 16 KiB, keep 60");
	/* feeds of 1 byte to 30000 bytes: many cut lines, some batches
	 * bigger than max_size */
	for (size_t o = 0; o < len;) {
		size_t n = 1 + rnd(30000);
		if (n > len - o)
			n = len - o;
		logsink_feed(&s, text + o, n, &T0);
		o += n;
	}
	total = check_set("rot.log", keep, max, &bad);
	for (int i = 1; i <= keep; i++)
		files += exists(P("rot.log.%d", i));
	OK(total == N && bad == 0 && exists(P("rot.log.%d", files)),
		"%ld lines through %d rotations: all there, in order, "
		"each file <= max_size, none cut", total, files);
	OK(files > 20 && files < keep, "rotations happened (%d)", files);
	OK(s.lines == (uint64_t)N && s.dropped == 0, "lines %llu, dropped %llu",
		(unsigned long long)s.lines, (unsigned long long)s.dropped);
	OK(s.size == fsize(P("rot.log")), "size tracks the file");
	logsink_close(&s);
	rm_logs("rot.log");
	free(text);
}

static void test_rotation_big_line(void)
{
	char big[3001];
	struct logsink s;
	struct lens l;
	int bad;

	memset(big, 'B', 3000);
	big[3000] = '\n';
	logsink_open(&s, P("big.log"), "x", -1, 1000, 5, 0);
	feed_str(&s, "L000000 a\nL000001 a\nL000002 a\n");
	logsink_feed(&s, big, sizeof big, &T0);
	feed_str(&s, "L000004 a\nL000005 a\n");
	memset(&l, 0, sizeof l);
	OK(file_lines(P("big.log.1"), lens_fn, &l) == 1 && l.v[0] == 3000,
		"a line bigger than max_size goes alone into a file");
	OK(file_lines(P("big.log.2"), NULL, NULL) == 3 &&
		file_lines(P("big.log"), NULL, NULL) == 2 &&
		!exists(P("big.log.3")), "lines before and after it in their own files");
	logsink_close(&s);
	rm_logs("big.log");

	/* The big line in the middle of one batch */
	logsink_open(&s, P("big.log"), "x", -1, 1000, 5, 0);
	{
		char batch[4000];
		int n = sprintf(batch, "L000000 a\nL000001 a\n");
		memcpy(batch + n, big, sizeof big);
		n += (int)sizeof big;
		n += sprintf(batch + n, "L000003 a\n");
		logsink_feed(&s, batch, (size_t)n, &T0);
	}
	memset(&l, 0, sizeof l);
	OK(file_lines(P("big.log.1"), lens_fn, &l) == 1 && l.v[0] == 3000 &&
		file_lines(P("big.log.2"), NULL, NULL) == 2 &&
		file_lines(P("big.log"), NULL, NULL) == 1,
		"in one batch: before / big / after in three files");
	(void)bad;
	logsink_close(&s);
	rm_logs("big.log");
}

static void test_rotation_existing(void)
{
	struct logsink s;
	char line[200];
	int fd = open(P("old.log"), O_WRONLY | O_CREAT | O_TRUNC, 0640);

	memset(line, 'o', sizeof line);
	for (int i = 0; i < 4; i++)
		if (write(fd, line, sizeof line) != sizeof line)
			tap_diag("write: %s", strerror(errno));
	close(fd);
	logsink_open(&s, P("old.log"), "x", -1, 1000, 2, 0);
	OK(s.fd == -1, "the file is not opened before the first line");
	logsink_open_file(&s);
	OK(s.size == 800, "an existing file's size is counted (%lld)",
		(long long)s.size);
	logsink_feed(&s, line, 200, &T0);
	logsink_feed(&s, line, 50, &T0);
	logsink_feed(&s, "\n", 1, &T0);
	OK(fsize(P("old.log.1")) == 800 && fsize(P("old.log")) == 276,
		"it is rotated before the write that would pass max_size");
	logsink_set_limits(&s, 100, 2);
	feed_str(&s, "next\n");
	OK(fsize(P("old.log")) == 30 && fsize(P("old.log.1")) == 276 &&
		fsize(P("old.log.2")) == 800, "set_limits: smaller max rotates at once");
	logsink_close(&s);
	rm_logs("old.log");
}

static void test_keep0_keep1(void)
{
	size_t len;
	char *text = make_lines(100, &len);
	struct logsink s;
	int bad;
	long n;

	for (int keep = 0; keep <= 1; keep++) {
		logsink_open(&s, P("k.log"), "x", -1, 1000, keep, 0);
		for (size_t o = 0; o < len; o += 333)
			logsink_feed(&s, text + o, len - o < 333 ? len - o : 333, &T0);
		n = check_set("k.log", 3, 1000, &bad);
		OK(bad == 0 && n > 0 && fsize(P("k.log")) <= 1000,
			"keep=%d: files well-formed, within max_size, in order", keep);
		OK(keep ? exists(P("k.log.1")) && !exists(P("k.log.2")) :
			!exists(P("k.log.1")), "keep=%d: %s", keep,
			keep ? "PATH.1 only" : "no rotated file");
		{
			/* the last line written is the file's last */
			size_t fl;
			char *b = slurp(P("k.log"), &fl);
			OK(b && fl > 10 && strstr(b, "L000099 ") &&
				b[fl - 1] == '\n', "keep=%d: the newest line is in PATH", keep);
			free(b);
		}
		OK(s.lines == 100 && s.dropped == 0, "keep=%d: 100 lines, none dropped", keep);
		logsink_close(&s);
		rm_logs("k.log");
	}
	free(text);
}

/* ---------------------------------------------------------------- ring */

struct tail {
	char **v;
	int n;
};

static void tail_fn(const char *line, size_t len, void *ctx)
{
	struct tail *t = ctx;
	char *c = malloc(len + 1);

	if (!c)
		exit(1);
	memcpy(c, line, len);
	c[len] = '\0';
	t->v[t->n++] = c;
}

static void tail_free(struct tail *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->v[i]);
	t->n = 0;
}

/* Model: the ring holds the newest records whose sizes (len + 1, a record
 * bigger than the ring counting as the whole ring) add up to ring_max;
 * the newest is always there, cut to ring_max - 1 if need be */
static int model_check(struct logsink *s, char **hist, int nh, size_t rmax,
	struct tail *t)
{
	int first = nh, bad = 0;
	size_t total = 0;

	while (first > 0) {
		size_t sz = strlen(hist[first - 1]) + 1;
		if (sz > rmax)
			sz = rmax;
		if (total + sz > rmax)
			break;
		total += sz;
		first--;
	}
	t->n = 0;
	if (logsink_tail(s, 1 << 30, tail_fn, t) != nh - first || t->n != nh - first)
		bad++;
	for (int i = 0; !bad && i < t->n; i++) {
		const char *want = hist[first + i];
		size_t wl = strlen(want);
		if (wl > rmax - 1)
			wl = rmax - 1;
		if (strlen(t->v[i]) != wl || memcmp(t->v[i], want, wl))
			bad++;
	}
	tail_free(t);
	return !bad;
}

static void ring_model(const char *path, size_t rmax)
{
	enum { NH = 3000 };
	char **hist = calloc(NH, sizeof *hist);
	struct tail t = { calloc(NH, sizeof(char *)), 0 };
	char *batch = malloc(30 * (2 * rmax + 64));
	struct logsink s;
	int nh = 0, fails = 0, rounds = 0;
	struct timespec now = T0;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (!hist || !t.v || !batch)
		exit(1);
	logsink_open(&s, path, "w.1", fd, 0, 0, rmax);
	OK(!s.ring, "%s: ring not allocated before the first line",
		path ? "file" : "stdout");
	while (nh < NH - 40) {
		int lines = 1 + (int)rnd(rnd(4) ? 5 : 30);
		size_t blen = 0;
		char ts[32];

		now.tv_nsec = (long)rnd(1000) * 1000000;
		logsink_timestamp(&now, ts);
		for (int i = 0; i < lines; i++) {
			size_t clen = rnd(8) ? rnd(40) : rnd((uint32_t)rmax * 2);
			char *rec = malloc(TS + 1 + clen + 1);
			if (!rec)
				exit(1);
			memcpy(rec, ts, TS);
			rec[TS] = ' ';
			for (size_t k = 0; k < clen; k++)
				rec[TS + 1 + k] = (char)('a' + (nh + k) % 26);
			rec[TS + 1 + clen] = '\0';
			memcpy(batch + blen, rec + TS + 1, clen);
			blen += clen;
			batch[blen++] = '\n';
			hist[nh++] = rec;
		}
		logsink_feed(&s, batch, blen, &now);
		rounds++;
		if (!model_check(&s, hist, nh, rmax, &t))
			fails++;
	}
	OK(fails == 0, "%s form, ring_max %zu: tail = the newest lines that "
		"fit, oldest first, after each of %d feeds (%d wrong)",
		path ? "file" : "stdout", rmax, rounds, fails);

	/* tail(n) gives the last n */
	t.n = 0;
	{
		int got = logsink_tail(&s, 3, tail_fn, &t);
		int ok = got >= 1 && got <= 3;
		for (int i = 0; ok && i < got; i++) {
			size_t wl = strlen(hist[nh - got + i]);
			if (wl > rmax - 1)
				wl = rmax - 1;
			ok = !memcmp(t.v[i], hist[nh - got + i], wl);
		}
		OK(ok, "tail(3): the last ones, oldest first (%d)", got);
		tail_free(&t);
	}
	OK(logsink_tail(&s, 0, tail_fn, &t) == 0, "tail(0) = 0");
	{
		size_t sum = 0;
		logsink_tail(&s, 1 << 30, tail_fn, &t);
		for (int i = 0; i < t.n; i++)
			sum += strlen(t.v[i]) + 1;
		OK(sum <= rmax && s.rlen <= rmax, "ring within ring_max (%zu)", sum);
		tail_free(&t);
	}
	logsink_close(&s);
	close(fd);
	if (path)
		unlink(path);
	for (int i = 0; i < nh; i++)
		free(hist[i]);
	free(hist);
	free(t.v);
	free(batch);
}

static void test_ring(void)
{
	struct logsink s;
	struct tail t = { calloc(64, sizeof(char *)), 0 };
	char big[500];

	if (!t.v)
		exit(1);
	/* basic order and eviction */
	logsink_open(&s, NULL, "w", -1, 0, 0, 200);
	for (int i = 0; i < 20; i++) {
		char l[16];
		snprintf(l, sizeof l, "l%02d\n", i);
		feed_str(&s, l);
	}
	OK(logsink_tail(&s, 5, tail_fn, &t) == 5 &&
		!strcmp(t.v[0], "2025-11-22T08:26:40.123Z l15") &&
		!strcmp(t.v[4], "2025-11-22T08:26:40.123Z l19"),
		"tail(5): l15..l19, TIMESTAMP line");
	tail_free(&t);
	OK(logsink_tail(&s, 100, tail_fn, &t) == 6 &&
		!strcmp(t.v[0] + TS + 1, "l14") && !strcmp(t.v[5] + TS + 1, "l19"),
		"200 bytes hold 6 lines of 29+1: the oldest were evicted");
	tail_free(&t);
	OK(s.dropped == 20 && s.lines == 20, "out_fd -1: lines dropped, ring kept");

	/* a line longer than the ring */
	memset(big, 'B', sizeof big);
	logsink_feed(&s, big, sizeof big, &T0);
	feed_str(&s, "\n");
	OK(logsink_tail(&s, 10, tail_fn, &t) == 1 && strlen(t.v[0]) == 199 &&
		ts_ok(t.v[0], 199) && t.v[0][198] == 'B',
		"a line longer than the ring: cut to fit, alone");
	tail_free(&t);
	feed_str(&s, "after\n");
	OK(logsink_tail(&s, 10, tail_fn, &t) == 1 &&
		!strcmp(t.v[0] + TS + 1, "after"), "then evicted by the next line");
	tail_free(&t);
	logsink_close(&s);
	free(t.v);

	/* The file gets the long line whole */
	logsink_open(&s, P("ring.log"), "w", -1, 0, 0, 100);
	logsink_feed(&s, big, sizeof big, &T0);
	logsink_flush(&s, &T0);
	{
		struct lens l = { { 0 }, 0 };
		OK(file_lines(P("ring.log"), lens_fn, &l) == 1 && l.v[0] == sizeof big,
			"... while the file has it whole");
	}
	logsink_close(&s);
	unlink(P("ring.log"));

	ring_model(NULL, 333);
	ring_model(P("ringm.log"), 333);
	ring_model(NULL, 4096);
	ring_model(P("ringm.log"), LOG_RING_DEFAULT);
}

/* --------------------------------------------------------------- errors */

static void test_enospc(void)
{
	struct logsink s;
	struct tail t = { calloc(16, sizeof(char *)), 0 };
	int fd;

	if (access("/dev/full", W_OK) < 0) {
		tap_skip("no writable /dev/full");
		free(t.v);
		return;
	}
	OK(logsink_open(&s, "/dev/full", "x", -1, 100, 3, 1000) == 0 && logsink_open_file(&s) == 0,
		"open /dev/full as the log file");
	OK(s.size == -1, "not a regular file: size -1 (never rotated)");
	for (int i = 0; i < 10; i++)
		feed_str(&s, "a line of text\n");
	OK(s.dropped == 10 && s.lines == 10 && s.last_errno == ENOSPC,
		"ENOSPC: 10 lines dropped, errno kept (%llu, %s)",
		(unsigned long long)s.dropped, strerror(s.last_errno));
	OK(logsink_tail(&s, 20, tail_fn, &t) == 10, "the ring still has them");
	tail_free(&t);
	OK(exists("/dev/full") && !exists("/dev/full.1"), "no rotation of a device");
	logsink_close(&s);

	/* the stdout form */
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	logsink_open(&s, NULL, "x", fd, 0, 0, 0);
	feed_str(&s, "a\nb\n");
	OK(s.dropped == 2 && s.last_errno == ENOSPC, "stdout form: ENOSPC drops");
	logsink_close(&s);
	close(fd);
	free(t.v);
}

static void test_eagain(void)
{
	struct logsink s;
	char fill[4096], buf[64];
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		exit(1);
	memset(fill, 'f', sizeof fill);
	while (write(p[1], fill, sizeof fill) > 0)
		;
	while (write(p[1], fill, 1) > 0)
		;
	logsink_open(&s, NULL, "w", p[1], 0, 0, 0);
	feed_str(&s, "a\nb\nc\n");
	OK(s.dropped == 3 && s.last_errno == EAGAIN,
		"full non-blocking stdout: 3 lines dropped, no blocking");
	while (read(p[0], fill, sizeof fill) > 0)
		;
	feed_str(&s, "d\n");
	OK(read(p[0], buf, sizeof buf) == 6 && !memcmp(buf, "w | d\n", 6) &&
		s.dropped == 3, "drained: the next line goes out");
	logsink_close(&s);
	close(p[0]);
	close(p[1]);
}

static void test_retry_open(void)
{
	const char *sub = P("nodir");
	const char *path = P("nodir/x.log");
	struct logsink s;
	int r;

	errno = 0;
	r = logsink_open(&s, path, "x", -1, 0, 0, 0);
	if (r == 0)
		r = logsink_open_file(&s);
	OK(r == -1 && errno == ENOENT && s.fd == -1 && s.last_errno == ENOENT,
		"open in a missing directory: -1 ENOENT, usable");
	feed_str(&s, "one\n");
	OK(s.dropped == 1 && s.lines == 1, "lines dropped meanwhile");
	mkdir(sub, 0755);
	feed_str(&s, "two\n");
	OK(s.fd == -1 && s.dropped == 2 && !exists(path),
		"not retried within a second");
	s.retry_at = 0; /* as if a second had passed */
	feed_str(&s, "three\n");
	OK(s.fd >= 0 && s.dropped == 2 && !strcmp(joined(path), "three"),
		"retried after: opened, the line written");
	logsink_close(&s);
	rm_tree(sub);

	/* a rotation whose new file cannot be opened */
	mkdir(sub, 0755);
	logsink_open(&s, path, "x", -1, 100, 1, 0);
	feed_str(&s, "0123456789012345678901234567890123456789\n");
	rm_tree(sub); /* PATH -> PATH.1 and the new open both fail now */
	feed_str(&s, "0123456789012345678901234567890123456789\n");
	feed_str(&s, "0123456789012345678901234567890123456789\n");
	OK(s.lines == 3 && s.dropped <= 2 && s.last_errno == ENOENT,
		"rotation failing: errno kept, no crash (dropped %llu)",
		(unsigned long long)s.dropped);
	logsink_close(&s);
}

static void test_reopen(void)
{
	struct logsink s;

	logsink_open(&s, P("re.log"), "x", -1, 0, 0, 0);
	feed_str(&s, "a\n");
	rename(P("re.log"), P("re.log.old"));
	feed_str(&s, "b\n");
	logsink_reopen(&s);
	feed_str(&s, "c\n");
	OK(!strcmp(joined(P("re.log.old")), "a|b") &&
		!strcmp(joined(P("re.log")), "c"),
		"renamed away: writes follow the old file until reopen");
	OK(s.size == fsize(P("re.log")), "size of the new file");
	logsink_close(&s);
	OK(s.fd == -1 && !s.path && !s.ring && !s.part, "close resets");
	/* opened again after close */
	OK(logsink_open(&s, P("re.log"), "x", -1, 0, 0, 64) == 0, "open again");
	feed_str(&s, "d\n");
	OK(!strcmp(joined(P("re.log")), "c|d"), "appends to the existing file");
	logsink_reopen(&s);
	logsink_close(&s);
	unlink(P("re.log"));
	unlink(P("re.log.old"));
}

/* --------------------------------------------------------- throughput */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void bench(const char *what, const char *path, int fd, size_t total)
{
	char *buf = malloc(LOG_READ_MAX);
	size_t n = 0, lines = 0;
	struct logsink s;
	struct timespec now = T0;
	double t0, dt;

	if (!buf)
		exit(1);
	/* lines of 60..140 bytes; 64 KiB feeds that cut lines anywhere */
	while (n < LOG_READ_MAX) {
		int len = 60 + (int)rnd(80);
		for (int i = 0; i < len && n < LOG_READ_MAX; i++)
			buf[n++] = (char)(i == len - 1 ? '\n' : 'a' + i % 26);
		lines++;
	}
	logsink_open(&s, path, "web.1", fd, 16 << 20, 1, LOG_RING_DEFAULT);
	t0 = now_s();
	for (size_t done = 0; done < total; done += LOG_READ_MAX) {
		now.tv_nsec = (long)(done / LOG_READ_MAX % 1000) * 1000000;
		logsink_feed(&s, buf, LOG_READ_MAX, &now);
	}
	dt = now_s() - t0;
	OK(s.dropped == 0 && s.lines > 0, "%s: %llu lines, none dropped", what,
		(unsigned long long)s.lines);
	tap_diag("%s: %zu MiB in %.3f s: %.0f MiB/s, %.1f M lines/s", what,
		total >> 20, dt, (double)(total >> 20) / dt,
		(double)s.lines / dt / 1e6);
	logsink_close(&s);
	free(buf);
	(void)lines;
}

static void test_throughput(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	bench("file form, 16 MiB rotation", P("bench.log"), -1, 128u << 20);
	rm_logs("bench.log");
	bench("stdout form to /dev/null", NULL, fd, 128u << 20);
	close(fd);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/mls-logsink-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_timestamp();
	test_stdout_form();
	test_split_feeds();
	test_long_lines();
	test_rotation();
	test_rotation_big_line();
	test_rotation_existing();
	test_keep0_keep1();
	test_ring();
	test_enospc();
	test_eagain();
	test_retry_open();
	test_reopen();
	test_throughput();
	rm_tree(dir);
	return tap_done();
}
