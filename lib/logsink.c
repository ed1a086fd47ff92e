/* logsink.c: a service instance's output -> lines -> log file (rotated)
 * or mls's stdout, and the ring. The API is documented in logsink.h.
 *
 * Speed: the caller reads up to LOG_READ_MAX bytes per event. A feed is
 * cut into lines with memchr and every line copied once into a gathering
 * buffer, behind its timestamp (formatted once per feed: every line of a
 * feed has the same `now`) or its "prefix | ", then the buffer goes out
 * with one write() (one per file when the batch crosses a rotation). The
 * ring takes only what it can keep: the newest records of the batch,
 * found by walking back from its end, so its cost does not grow with the
 * batch.
 *
 * Memory: the gathering buffer and the timestamp cache are shared by all
 * sinks (mls is single-threaded; nothing here is reentrant). The buffer
 * grows to what one feed needs (at most OBUF_MAX, or the batch is written
 * in parts) and is freed after a feed that took it past OBUF_KEEP, so a
 * burst of tiny lines does not pin megabytes. Per sink, the partial line
 * is sized to its content (power-of-two steps) and freed when empty; the
 * ring is allocated by the first line it takes.
 *
 * No line is cut in a file: rotation happens between lines, and a write
 * that fails half-way has its cut line truncated off again.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memrchr; the Makefile sets it too */
#endif

#include "fdio.h"
#include "logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TS_LEN     24            /* 2026-11-22T10:04:05.123Z */
#define OBUF_MIN   (64u << 10)   /* first size of the gathering buffer */
#define OBUF_MAX   (2u << 20)    /* a batch is written in parts past this */
#define OBUF_KEEP  (256u << 10)  /* freed after a feed that grew it beyond */
#define PART_MIN   256           /* first size of a partial line buffer */
#define RETRY_MS   1000          /* between two failed opens (or rotations) */

/* The batch being gathered: records "TS line\n" or "prefix | line\n" */
static struct {
	char *buf;
	size_t len, cap;
	size_t skip;          /* bytes before a record's content */
	uint64_t lines;       /* records in buf */
	char ts[TS_LEN + 1];  /* this feed's timestamp */
} ob;

/* The formatted second of the last timestamp */
static struct {
	int valid;
	time_t sec;
	char date[19];        /* 2026-11-22T10:04:05, no NUL */
} tsc;

/* ----------------------------------------------------------- helpers */

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t count_nl(const char *p, size_t len)
{
	const char *end = p + len;
	size_t n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/* ------------------------------------------------------- timestamps */

static void put_num(char *p, int v, int digits)
{
	while (digits--) {
		p[digits] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYY-MM-DDTHH:MM:SS" of a second; years outside 0..9999 (which would
 * not fit the fixed width) are shown as the epoch */
static void fmt_date(time_t sec, char *d)
{
	struct tm tm;

	if (!gmtime_r(&sec, &tm) || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		sec = 0;
		gmtime_r(&sec, &tm);
	}
	put_num(d, tm.tm_year + 1900, 4);
	d[4] = '-';
	put_num(d + 5, tm.tm_mon + 1, 2);
	d[7] = '-';
	put_num(d + 8, tm.tm_mday, 2);
	d[10] = 'T';
	put_num(d + 11, tm.tm_hour, 2);
	d[13] = ':';
	put_num(d + 14, tm.tm_min, 2);
	d[16] = ':';
	put_num(d + 17, tm.tm_sec, 2);
}

int logsink_timestamp(const struct timespec *now, char *buf)
{
	long ms = now->tv_nsec / 1000000;

	if (ms < 0)
		ms = 0;
	else if (ms > 999)
		ms = 999;
	/* gmtime_r only when the second changes */
	if (!tsc.valid || tsc.sec != now->tv_sec) {
		fmt_date(now->tv_sec, tsc.date);
		tsc.sec = now->tv_sec;
		tsc.valid = 1;
	}
	memcpy(buf, tsc.date, 19);
	buf[19] = '.';
	put_num(buf + 20, (int)ms, 3);
	buf[23] = 'Z';
	buf[24] = '\0';
	return TS_LEN;
}

/* ------------------------------------------------------------- file */

/* Opens PATH; unless forced, not before retry_at. Takes the size of an
 * existing file; a non-regular one (/dev/null, a FIFO) gets size -1 and
 * is never rotated. O_NONBLOCK: a FIFO without a reader must not hang
 * the supervisor (no effect on regular files). */
static int try_open(struct logsink *s, int force)
{
	struct stat st;
	int64_t now = mono_ms();
	int fd;

	if (!force && now < s->retry_at) {
		errno = s->last_errno ? s->last_errno : EAGAIN;
		return -1;
	}
	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0) {
		s->last_errno = errno;
		s->retry_at = now + RETRY_MS;
		return -1;
	}
	s->fd = fd;
	s->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
	return 0;
}

/* Makes room at PATH: truncates (keep 0) or shifts PATH.i -> PATH.i+1 and
 * opens a new PATH. 0 when done (the new open may have failed: fd -1,
 * retried later); -1 when nothing changed (the caller then writes past
 * max_size rather than lose lines), tried again after RETRY_MS. */
static int rotate(struct logsink *s)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	int64_t now = mono_ms();

	if (now < s->retry_at)
		return -1;
	if (s->keep <= 0) {
		if (ftruncate(s->fd, 0) < 0)
			goto fail;
		s->size = 0;
		return 0;
	}
	if (strlen(s->path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	/* Oldest first; a missing one (ENOENT) is normal while the set
	 * fills, and any other failure only loses an old file */
	for (int i = s->keep - 1; i >= 1; i--) {
		snprintf(from, sizeof from, "%s.%d", s->path, i);
		snprintf(to, sizeof to, "%s.%d", s->path, i + 1);
		rename(from, to);
	}
	snprintf(to, sizeof to, "%s.1", s->path);
	if (rename(s->path, to) < 0)
		goto fail;
	close(s->fd);
	s->fd = -1;
	s->size = 0;
	try_open(s, 1);
	return 0;
fail:
	s->last_errno = errno;
	s->retry_at = now + RETRY_MS;
	return -1;
}

/* Writes whole lines to the file. On an error the lines not written whole
 * are dropped, and a line cut by a short write is truncated off again so
 * the next write does not glue onto it. */
static int file_write(struct logsink *s, const char *buf, size_t len)
{
	size_t done;
	int err = write_all(s->fd, buf, len, &done) < 0 ? errno : 0;

	if (s->size >= 0)
		s->size += (int64_t)done;
	if (!err)
		return 0;
	if (done && buf[done - 1] != '\n' && s->size >= 0) {
		const char *nl = memrchr(buf, '\n', done);
		size_t cut = done - (nl ? (size_t)(nl + 1 - buf) : 0);
		if (ftruncate(s->fd, s->size - (int64_t)cut) == 0)
			s->size -= (int64_t)cut;
	}
	s->dropped += count_nl(buf + done, len - done);
	s->last_errno = err;
	return -1;
}

/* How much of buf (whole lines) fits in room bytes; 0 if not one line */
static size_t fit(const char *buf, size_t len, int64_t room)
{
	const char *nl;

	if (room <= 0)
		return 0;
	if ((uint64_t)room >= len)
		return len;
	nl = memrchr(buf, '\n', (size_t)room);
	return nl ? (size_t)(nl + 1 - buf) : 0;
}

/* The batch to the file, in groups of lines that keep each file within
 * max_size: one write() per file. A line bigger than max_size goes alone
 * into a file. */
static void out_file(struct logsink *s, const char *buf, size_t len)
{
	size_t o = 0;

	while (o < len) {
		size_t chunk = len - o;

		if (s->fd < 0 && try_open(s, 0) < 0)
			break;
		if (s->size >= 0 && s->max_size > 0 &&
		    s->size + (int64_t)chunk > s->max_size) {
			chunk = fit(buf + o, len - o, s->max_size - s->size);
			if (!chunk && s->size > 0 && rotate(s) == 0)
				continue;
			if (!chunk && s->size > 0) {
				chunk = len - o; /* cannot rotate now */
			} else if (!chunk) {
				const char *nl = memchr(buf + o, '\n', len - o);
				chunk = nl ? (size_t)(nl + 1 - (buf + o)) : len - o;
			}
		}
		if (file_write(s, buf + o, chunk) < 0) {
			o += chunk;
			break;
		}
		o += chunk;
	}
	s->dropped += count_nl(buf + o, len - o);
}

static void out_fd(struct logsink *s, const char *buf, size_t len)
{
	size_t done = 0;
	int err = s->out_fd < 0 ? EBADF : write_all(s->out_fd, buf, len, &done) < 0 ? errno : 0;

	if (!err)
		return;
	/* A pipe cannot take a cut line back: it counts as dropped */
	s->dropped += count_nl(buf + done, len - done);
	s->last_errno = err;
}

/* ------------------------------------------------------------- ring */

/* The ring holds records "TS line\n" from logical offset 0 (at rhead) to
 * rlen; the newlines separate records (a line never contains one). */

static size_t rpos(const struct logsink *s, size_t i)
{
	size_t p = s->rhead + i;

	return p >= s->ring_max ? p - s->ring_max : p;
}

/* Appends at the end of the content; the caller made room */
static void ring_put(struct logsink *s, const char *d, size_t len)
{
	size_t at = rpos(s, s->rlen), first = min_sz(s->ring_max - at, len);

	memcpy(s->ring + at, d, first);
	if (len > first)
		memcpy(s->ring, d + first, len - first);
	s->rlen += len;
}

/* First logical offset >= from holding '\n', or rlen */
static size_t ring_find_nl(const struct logsink *s, size_t from)
{
	while (from < s->rlen) {
		size_t p = rpos(s, from);
		size_t seg = min_sz(s->ring_max - p, s->rlen - from);
		const char *nl = memchr(s->ring + p, '\n', seg);
		if (nl)
			return from + (size_t)(nl - (s->ring + p));
		from += seg;
	}
	return s->rlen;
}

/* Last logical offset < before holding '\n', or SIZE_MAX */
static size_t ring_rfind_nl(const struct logsink *s, size_t before)
{
	while (before > 0) {
		size_t p = rpos(s, before - 1);
		size_t seg = min_sz(p + 1, before);
		const char *nl = memrchr(s->ring + p + 1 - seg, '\n', seg);
		if (nl)
			return before - (size_t)(s->ring + p + 1 - nl);
		before -= seg;
	}
	return SIZE_MAX;
}

/* Evicts the oldest records until need bytes are free (need <= ring_max) */
static void ring_evict(struct logsink *s, size_t need)
{
	size_t excess, nl, drop;

	if (s->rlen + need <= s->ring_max)
		return;
	excess = s->rlen + need - s->ring_max;
	/* the record holding byte excess-1 goes, and all before it */
	nl = ring_find_nl(s, excess - 1);
	drop = nl < s->rlen ? nl + 1 : s->rlen;
	s->rhead = rpos(s, drop);
	s->rlen -= drop;
	if (!s->rlen)
		s->rhead = 0;
}

/* A record bigger than the whole ring: its start, alone */
static void ring_put_cut(struct logsink *s, const char *content, size_t clen)
{
	size_t room = s->ring_max - 1;
	size_t h = min_sz(room, TS_LEN + 1);
	size_t c = min_sz(room - h, clen);

	memcpy(s->ring, ob.ts, h); /* ts[TS_LEN] is replaced by ' ' below */
	if (h == TS_LEN + 1)
		s->ring[TS_LEN] = ' ';
	memcpy(s->ring + h, content, c);
	s->ring[h + c] = '\n';
	s->rhead = 0;
	s->rlen = h + c + 1;
}

/* The newest records of the batch that fit, into the ring */
static void ring_take(struct logsink *s)
{
	const char *buf = ob.buf;
	size_t end = ob.len, start = end, total = 0;

	if (!s->ring_max || !end)
		return;
	if (!s->ring && !(s->ring = malloc(s->ring_max)))
		return; /* the ring is a convenience: no error for it */
	while (start > 0) {
		const char *nl = start > 1 ? memrchr(buf, '\n', start - 1) : NULL;
		size_t rs = nl ? (size_t)(nl + 1 - buf) : 0;
		size_t rsize = TS_LEN + 1 + (start - rs - ob.skip);
		if (total + rsize > s->ring_max)
			break;
		total += rsize;
		start = rs;
	}
	if (start == end) {
		const char *nl = end > 1 ? memrchr(buf, '\n', end - 1) : NULL;
		size_t rs = nl ? (size_t)(nl + 1 - buf) : 0;
		ring_put_cut(s, buf + rs + ob.skip, end - rs - ob.skip - 1);
		return;
	}
	if (start > 0) {
		/* a line of the batch did not fit: what the ring holds is
		 * older still and must not show as if it came just before */
		s->rhead = 0;
		s->rlen = 0;
	}
	ring_evict(s, total);
	if (s->path) { /* the file form is the ring's form */
		ring_put(s, buf + start, end - start);
		return;
	}
	while (start < end) {
		const char *nl = memchr(buf + start, '\n', end - start);
		size_t next = (size_t)(nl + 1 - buf);
		ring_put(s, ob.ts, TS_LEN);
		ring_put(s, " ", 1);
		ring_put(s, buf + start + ob.skip, next - start - ob.skip);
		start = next;
	}
}

int logsink_tail(const struct logsink *s, int n,
	void (*fn)(const char *line, size_t len, void *ctx), void *ctx)
{
	size_t from;
	char *tmp = NULL;
	int k = 0, given = 0;

	if (!s->ring || !s->rlen || n <= 0)
		return 0;
	/* back from the end to the start of the n-th last record */
	from = s->rlen;
	while (k < n && from > 0) {
		size_t nl = ring_rfind_nl(s, from - 1);
		from = nl == SIZE_MAX ? 0 : nl + 1;
		k++;
	}
	for (; given < k; given++) {
		size_t nl = ring_find_nl(s, from);
		size_t len = nl - from, p = rpos(s, from);
		if (p + len <= s->ring_max) {
			fn(s->ring + p, len, ctx);
		} else {
			/* the one record that wraps around the end */
			size_t first = s->ring_max - p;
			if (!tmp && !(tmp = malloc(s->ring_max)))
				break;
			memcpy(tmp, s->ring + p, first);
			memcpy(tmp + first, s->ring, len - first);
			fn(tmp, len, ctx);
		}
		from = nl + 1;
	}
	free(tmp);
	return given;
}

/* ------------------------------------------------------------ batch */

static void batch_begin(struct logsink *s, const struct timespec *now)
{
	logsink_timestamp(now, ob.ts);
	ob.skip = s->path ? TS_LEN + 1 :
		(s->prefix ? strlen(s->prefix) : 0) + 3;
	ob.len = 0;
	ob.lines = 0;
}

/* The gathered lines to the ring and their destination */
static void batch_out(struct logsink *s)
{
	if (!ob.len)
		return;
	ring_take(s);
	if (s->path)
		out_file(s, ob.buf, ob.len);
	else
		out_fd(s, ob.buf, ob.len);
	s->lines += ob.lines;
	ob.len = 0;
	ob.lines = 0;
}

static void batch_end(struct logsink *s)
{
	batch_out(s);
	if (ob.cap > OBUF_KEEP) {
		free(ob.buf);
		ob.buf = NULL;
		ob.cap = 0;
	}
}

static int ob_reserve(size_t need)
{
	size_t cap;
	char *p;

	if (ob.cap - ob.len >= need)
		return 0;
	cap = ob.cap ? ob.cap : OBUF_MIN;
	while (cap - ob.len < need)
		cap *= 2;
	if (!(p = realloc(ob.buf, cap)))
		return -1;
	ob.buf = p;
	ob.cap = cap;
	return 0;
}

/* One line, a then b (a partial line's start and its end), to the batch */
static void emit_line(struct logsink *s, const char *a, size_t alen,
	const char *b, size_t blen)
{
	size_t need = ob.skip + alen + blen + 1;
	char *p;

	if (ob.len && ob.len + need > OBUF_MAX)
		batch_out(s);
	if (ob_reserve(need) < 0) {
		s->lines++;
		s->dropped++;
		s->last_errno = ENOMEM;
		return;
	}
	p = ob.buf + ob.len;
	if (s->path) {
		memcpy(p, ob.ts, TS_LEN);
		p[TS_LEN] = ' ';
	} else {
		if (ob.skip > 3)
			memcpy(p, s->prefix, ob.skip - 3);
		memcpy(p + ob.skip - 3, " | ", 3);
	}
	p += ob.skip;
	if (alen)
		memcpy(p, a, alen);
	if (blen)
		memcpy(p + alen, b, blen);
	p[alen + blen] = '\n';
	ob.len += need;
	ob.lines++;
}

/* ------------------------------------------------------ partial line */

/* The allocation that holds len bytes: a function of the length alone,
 * so no capacity needs to be stored */
static size_t part_cap(size_t len)
{
	size_t c = PART_MIN;

	while (c < len)
		c <<= 1;
	return c > LOG_LINE_MAX ? LOG_LINE_MAX : c;
}

static int part_append(struct logsink *s, const char *d, size_t len)
{
	size_t nlen = s->plen + len;

	if (!s->part || part_cap(nlen) > part_cap(s->plen)) {
		char *p = realloc(s->part, part_cap(nlen));
		if (!p)
			return -1;
		s->part = p;
	}
	memcpy(s->part + s->plen, d, len);
	s->plen = nlen;
	return 0;
}

static void part_free(struct logsink *s)
{
	free(s->part);
	s->part = NULL;
	s->plen = 0;
}

/* --------------------------------------------------------------- API */

int logsink_open(struct logsink *s, const char *path, const char *prefix,
	int out_fd, int64_t max_size, int keep, size_t ring_max)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->out_fd = out_fd;
	s->max_size = max_size;
	s->keep = keep < 0 ? 0 : keep;
	s->ring_max = ring_max;
	if (!(s->prefix = strdup(prefix ? prefix : "")) ||
	    (path && !(s->path = strdup(path)))) {
		/* usable still: every line is dropped (and counted) */
		free(s->prefix);
		s->prefix = NULL;
		s->out_fd = -1;
		s->last_errno = errno = ENOMEM;
		return -1;
	}
	/* the file is opened by the first line: an instance that never
	 * writes costs no fd and no inode (1,000 quiet services start
	 * without creating 1,000 files) */
	return 0;
}

int logsink_open_file(struct logsink *s)
{
	return s->path ? try_open(s, 1) : 0;
}

void logsink_feed(struct logsink *s, const char *buf, size_t n,
	const struct timespec *now)
{
	const char *p = buf, *end = buf + n;

	if (!n)
		return;
	batch_begin(s, now);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t room = LOG_LINE_MAX - s->plen;

		if (len > room) {
			/* too long: split at LOG_LINE_MAX, the rest goes on */
			emit_line(s, s->part, s->plen, p, room);
			s->plen = 0;
			p += room;
		} else if (nl) {
			emit_line(s, s->part, s->plen, p, len);
			s->plen = 0;
			p = nl + 1;
		} else {
			if (part_append(s, p, len) < 0) {
				/* no memory to wait for the rest: a split line
				 * rather than a lost one */
				emit_line(s, s->part, s->plen, p, len);
				s->plen = 0;
			}
			p = end;
		}
	}
	batch_end(s);
	if (!s->plen)
		part_free(s);
}

void logsink_flush(struct logsink *s, const struct timespec *now)
{
	if (!s->plen)
		return;
	batch_begin(s, now);
	emit_line(s, s->part, s->plen, NULL, 0);
	batch_end(s);
	part_free(s);
}

void logsink_reopen(struct logsink *s)
{
	if (!s->path)
		return;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	try_open(s, 1);
}

void logsink_set_limits(struct logsink *s, int64_t max_size, int keep)
{
	s->max_size = max_size;
	s->keep = keep < 0 ? 0 : keep;
}

void logsink_close(struct logsink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s->prefix);
	free(s->part);
	free(s->ring);
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->out_fd = -1;
}
