/* logsink.h: capture of a service instance's output.
 *
 * Bytes read from the instance's pipe are cut into lines (at most
 * LOG_LINE_MAX bytes of content; a longer line is split there; a partial
 * last line is kept until more comes or logsink_flush()). Each line:
 *  - goes to a log file "PATH" with an ISO-8601 UTC timestamp:
 *        2026-11-22T10:04:05.123Z line\n
 *    rotated by size (when the next write would pass max_size: PATH.keep-1
 *    -> PATH.keep, ..., PATH -> PATH.1, reopen PATH; keep = 0 truncates
 *    instead), by rename within the process, so no line is lost or cut;
 *  - or, with no file, to an fd (mls's stdout) as "PREFIX | line\n";
 *  - and into the ring, in the file form "TIMESTAMP line" (24-char
 *    timestamp, one space, the line): the last lines, bounded by ring_max bytes,
 *    allocated on first use (an instance that never writes costs nothing).
 * One logsink_feed() call makes at most one write() per destination (lines
 * are gathered in a buffer first; one more per rotation the lines cross,
 * and a feed far beyond LOG_READ_MAX may be written in parts). A write that fails (ENOSPC, EIO, EAGAIN
 * on a full stdout pipe...) drops the lines it carried and counts them in
 * `dropped`; it never blocks longer than the write() itself and never
 * fails the caller. A file that cannot be opened is retried on the next
 * feed (at most once a second), lines meanwhile dropped and counted.
 *
 * Nothing here prints or exits. Not thread-safe: all sinks share one
 * gathering buffer and the timestamp cache. */
#ifndef MLS_LOGSINK_H
#define MLS_LOGSINK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LOG_LINE_MAX   65536          /* bytes of one line's content */
#define LOG_RING_DEFAULT 16384        /* bytes of ring per instance */
#define LOG_READ_MAX   65536          /* what the caller should read per event */

struct logsink {
	/* set before logsink_open(), or via it */
	char *path;          /* log file, NULL = write to out_fd with prefix */
	char *prefix;        /* "web.1" for the stdout form */
	int out_fd;          /* fd for the stdout form (1) */
	int64_t max_size;    /* rotate past this many bytes; 0 = never */
	int keep;            /* rotated files kept */
	size_t ring_max;     /* ring bytes; 0 = no ring */
	/* state */
	int fd;              /* log file fd, -1 when closed */
	int64_t size;        /* bytes in the current file; -1 if not a regular
	                        file (/dev/null...): never rotated */
	int64_t retry_at;    /* monotonic ms of the next open (or rotation)
	                        attempt after a failed one */
	char *part;          /* partial line (malloc'd on demand, grows up to
	                        LOG_LINE_MAX, freed when empty) */
	size_t plen;
	char *ring;          /* ring buffer (ring_max bytes, on demand) */
	size_t rhead, rlen;  /* start and length of the ring's content */
	uint64_t lines;      /* lines written (or dropped) */
	uint64_t dropped;    /* lines lost to write errors */
	int last_errno;      /* of the last failed write/open, 0 if none */
};

/* Set up `s`. path NULL = stdout form (to out_fd with "prefix | ").
 * Strings are copied. The file (O_APPEND|O_CREAT, 0640) is opened by the
 * first line that comes, not here, so a quiet instance costs no fd; a
 * failed open is retried (at most once a second) while lines are dropped
 * and counted. Returns 0, or -1 with ENOMEM (`s` is still usable: every
 * line is then dropped and counted). */
int logsink_open(struct logsink *s, const char *path, const char *prefix,
	int out_fd, int64_t max_size, int keep, size_t ring_max);

/* Open the file now instead of at the first line (with the retry rules
 * of a failed open). Returns 0, or -1 with errno. No-op in the stdout form. */
int logsink_open_file(struct logsink *s);

/* Take `n` bytes of output. `now` is the wall clock for the timestamp
 * (the caller reads it once per round). */
void logsink_feed(struct logsink *s, const char *buf, size_t n,
	const struct timespec *now);

/* The instance ended: a partial last line is written as a line. */
void logsink_flush(struct logsink *s, const struct timespec *now);

/* SIGUSR1: close and reopen the file (after an external logrotate). */
void logsink_reopen(struct logsink *s);

/* Change the rotation parameters (on reload), keeping the file. */
void logsink_set_limits(struct logsink *s, int64_t max_size, int keep);

/* Call fn for each of the last `n` lines in the ring, oldest first
 * (without the newline). Returns the number of lines given. */
int logsink_tail(const struct logsink *s, int n,
	void (*fn)(const char *line, size_t len, void *ctx), void *ctx);

/* Close the file, free buffers. `s` may be opened again. */
void logsink_close(struct logsink *s);

/* Format `now` as 2026-11-22T10:04:05.123Z into buf (>= 25 bytes);
 * returns the length (24). */
int logsink_timestamp(const struct timespec *now, char *buf);

#endif
