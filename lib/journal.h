/* journal.h: the state journal, STATE_DIR/journal.
 *
 * Append-only JSON lines, one object per event, written by supervise:
 *   {"t":1763800000123,"ev":"start","svc":"web","inst":1,"pid":123}
 *   {"t":...,"ev":"exit","svc":"web","inst":1,"pid":123,"code":1,"signal":null,"uptime_ms":5030}
 *   {"t":...,"ev":"failed","svc":"web","inst":1,"reason":"restart limit reached"}
 *   {"t":...,"ev":"supervisor","pid":1,"action":"start"|"stop"}
 * ("t" is wall-clock milliseconds since the epoch.) The journal does not
 * interpret lines: the caller formats them (cJSON) and replays them.
 *
 * Bounded: when an append would take the file past JOURNAL_MAX bytes, it
 * is compacted first: its last JOURNAL_KEEP bytes' worth of whole lines
 * are written to "PATH.tmp", fsync'd, renamed over PATH (so a crash
 * leaves one or the other, whole). A line longer than JOURNAL_LINE_MAX is refused (EMSGSIZE),
 * one with a newline in it too (EINVAL). A torn last line (crash
 * mid-write) is skipped by the reader and cut off by journal_open().
 *
 * Nothing here prints or exits; errors return -1 with errno. */
#ifndef MLS_JOURNAL_H
#define MLS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAX      (1u << 20)   /* 1 MiB, then compact */
#define JOURNAL_KEEP     (256u << 10) /* kept by compaction */
#define JOURNAL_LINE_MAX 4096

struct journal {
	int fd;         /* -1 when closed */
	char *path;     /* malloc'd */
	int64_t size;
};

/* Open (create, mode 0600) for appending. Returns 0 or -1 with errno. */
int journal_open(struct journal *j, const char *path);

/* Append one line (`line` without the newline; one is added) with one
 * write(); with sync != 0 fdatasync() after it. Compacts first when the
 * file is past JOURNAL_MAX. Returns 0 or -1 with errno (the journal stays
 * usable: the next append tries again). */
int journal_append(struct journal *j, const char *line, size_t len, int sync);

void journal_close(struct journal *j);

/* Read PATH and call fn for each complete line (without the newline, but
 * NUL-terminated; valid during the call only), oldest first; lines longer than JOURNAL_LINE_MAX and a last line without
 * a newline are skipped. Reads at most JOURNAL_MAX + JOURNAL_LINE_MAX
 * bytes (the tail if the file is bigger). Returns the number of lines, or
 * -1 with errno (ENOENT when there is no journal yet). */
int journal_replay(const char *path,
	void (*fn)(const char *line, size_t len, void *ctx), void *ctx);

#endif
