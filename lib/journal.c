/* journal.c: the append-only state journal. The API is documented in
 * journal.h.
 *
 * Every line goes out with one write() of "line\n" (O_APPEND), so lines
 * from one writer never interleave. What a crash can leave is a torn last
 * line: the reader skips it, and journal_open() cuts it off so the next
 * line does not glue onto it. A write that fails half-way is cut off the
 * same way at once.
 *
 * Compaction copies the newest JOURNAL_KEEP bytes' worth of whole lines
 * to PATH.tmp, fsyncs it and renames it over PATH; the tmp file's fd
 * becomes the journal's, so there is no reopen that could fail after the
 * rename. A crash leaves either the old file or the new one, whole (plus
 * perhaps a stale PATH.tmp, truncated by the next compaction).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memrchr; the Makefile sets it too */
#endif

#include "fdio.h"
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_BUF (64u << 10) /* read size of journal_replay(); > a line */
#define REPLAY_MAX ((int64_t)JOURNAL_MAX + JOURNAL_LINE_MAX)

/* ---------------------------------------------------------- helpers */

/* pread() up to len bytes at off; the count, or -1 */
static ssize_t pread_all(int fd, char *buf, size_t len, int64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + (int64_t)got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* fsync the directory holding path, so a rename in it is durable; best
 * effort (some file systems refuse it) */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;
	int fd;

	if (len >= sizeof dir)
		return;
	if (!slash)
		memcpy(dir, ".", 1);
	else if (len == 0)
		memcpy(dir, "/", (len = 1));
	else
		memcpy(dir, path, len);
	dir[len] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* --------------------------------------------------------- the file */

/* A file not ending in a newline has a torn last line: cut it off. If no
 * newline is found in the last JOURNAL_LINE_MAX + 1 bytes, the tail is
 * longer than any line written here and is ended with a newline instead
 * (the reader skips it as over-long). */
static int repair(struct journal *j)
{
	char buf[JOURNAL_LINE_MAX + 1];
	int64_t off;
	ssize_t got;
	const char *nl;
	size_t done;

	if (j->size == 0)
		return 0;
	off = j->size > (int64_t)sizeof buf ? j->size - (int64_t)sizeof buf : 0;
	got = pread_all(j->fd, buf, (size_t)(j->size - off), off);
	if (got < 0)
		return -1;
	if (got > 0 && buf[got - 1] == '\n')
		return 0;
	nl = got > 0 ? memrchr(buf, '\n', (size_t)got) : NULL;
	if (nl || off == 0) {
		int64_t keep = nl ? off + (nl + 1 - buf) : 0;
		if (ftruncate(j->fd, keep) < 0)
			return -1;
		j->size = keep;
		return 0;
	}
	if (write_all(j->fd, "\n", 1, &done) < 0)
		return -1;
	j->size++;
	return 0;
}

/* O_RDWR: compaction and repair read the file back */
static int jopen(struct journal *j)
{
	struct stat st;
	int err;

	j->fd = open(j->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return -1;
	if (fstat(j->fd, &st) < 0)
		goto fail;
	j->size = st.st_size;
	if (repair(j) < 0)
		goto fail;
	return 0;
fail:
	err = errno;
	close(j->fd);
	j->fd = -1;
	errno = err;
	return -1;
}

/* The newest JOURNAL_KEEP bytes' worth of whole lines replace the file */
static int compact(struct journal *j)
{
	char tmp[PATH_MAX];
	char *buf = NULL;
	int64_t off;
	ssize_t got;
	size_t start = 0, end, done;
	const char *nl;
	int tfd, err;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", j->path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* first, so a directory that refuses it costs no reading */
	tfd = open(tmp, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (tfd < 0)
		return -1;
	/* one byte more than kept: it says whether the first line is whole */
	off = j->size > (int64_t)JOURNAL_KEEP ? j->size - JOURNAL_KEEP - 1 : 0;
	if (!(buf = malloc((size_t)(j->size - off) + 1)))
		goto fail;
	got = pread_all(j->fd, buf, (size_t)(j->size - off), off);
	if (got < 0)
		goto fail;
	if (off > 0) {
		nl = memchr(buf, '\n', (size_t)got);
		start = nl ? (size_t)(nl + 1 - buf) : (size_t)got;
	}
	nl = got > 0 ? memrchr(buf, '\n', (size_t)got) : NULL;
	end = nl && (size_t)(nl + 1 - buf) > start ? (size_t)(nl + 1 - buf) : start;
	if (write_all(tfd, buf + start, end - start, &done) < 0 ||
	    fsync(tfd) < 0 || rename(tmp, j->path) < 0)
		goto fail;
	free(buf);
	sync_dir(j->path);
	close(j->fd);
	j->fd = tfd;
	j->size = (int64_t)(end - start);
	return 0;
fail:
	err = errno;
	free(buf);
	close(tfd);
	unlink(tmp);
	errno = err;
	return -1;
}

/* -------------------------------------------------------------- API */

int journal_open(struct journal *j, const char *path)
{
	j->fd = -1;
	j->size = 0;
	if (!(j->path = strdup(path))) {
		errno = ENOMEM;
		return -1;
	}
	if (jopen(j) < 0) {
		int err = errno;
		free(j->path);
		j->path = NULL;
		errno = err;
		return -1;
	}
	return 0;
}

int journal_append(struct journal *j, const char *line, size_t len, int sync)
{
	char buf[JOURNAL_LINE_MAX + 1];
	size_t done;
	int err;

	if (len > JOURNAL_LINE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* a newline inside would make two lines of one event */
	if (len && memchr(line, '\n', len)) {
		errno = EINVAL;
		return -1;
	}
	if (!j->path) {
		errno = EBADF;
		return -1;
	}
	if (j->fd < 0 && jopen(j) < 0)
		return -1;
	/* A failed compaction is not this line's failure: the file grows a
	 * little past the bound and the next append tries again */
	if (j->size + (int64_t)len + 1 > (int64_t)JOURNAL_MAX)
		compact(j);
	if (len)
		memcpy(buf, line, len);
	buf[len] = '\n';
	if (write_all(j->fd, buf, len + 1, &done) < 0) {
		err = errno;
		/* a torn line must not stay for the next one to glue onto */
		if (done && ftruncate(j->fd, j->size) < 0) {
			close(j->fd);
			j->fd = -1; /* the next append reopens and repairs */
		}
		errno = err;
		return -1;
	}
	j->size += (int64_t)len + 1;
	if (sync && fdatasync(j->fd) < 0)
		return -1;
	return 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	j->fd = -1;
	j->path = NULL;
	j->size = 0;
}

int journal_replay(const char *path,
	void (*fn)(const char *line, size_t len, void *ctx), void *ctx)
{
	struct stat st;
	char *buf;
	int64_t off = 0, left;
	size_t have = 0;
	int fd, n = 0, skipping = 0, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !(buf = malloc(REPLAY_BUF))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	left = st.st_size;
	if (st.st_size > REPLAY_MAX) {
		/* the tail; from one byte before it, to skip a cut first line
		 * but not a whole one */
		off = st.st_size - REPLAY_MAX - 1;
		left = REPLAY_MAX + 1;
		skipping = 1;
	}
	while (left > 0) {
		size_t want = REPLAY_BUF - have;
		ssize_t r;
		char *p, *end, *nl;

		if ((int64_t)want > left)
			want = (size_t)left;
		r = pread(fd, buf + have, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			free(buf);
			close(fd);
			errno = err;
			return -1;
		}
		if (r == 0)
			break; /* shrank meanwhile */
		off += r;
		left -= r;
		have += (size_t)r;
		p = buf;
		end = buf + have;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			size_t len = (size_t)(nl - p);
			if (!skipping && len <= JOURNAL_LINE_MAX) {
				*nl = '\0'; /* a string too, for parsers */
				fn(p, len, ctx);
				n++;
			}
			skipping = 0;
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have > JOURNAL_LINE_MAX) {
			/* over-long: dropped up to its newline */
			skipping = 1;
			have = 0;
		} else {
			memmove(buf, p, have);
		}
	}
	/* what is left has no newline: a torn last line */
	free(buf);
	close(fd);
	return n;
}
