/* notify.h: the sd_notify datagram format, as services send it to their
 * NOTIFY_SOCKET (systemd's protocol: newline-separated KEY=VALUE
 * assignments; see sd_notify(3)).
 *
 * mls reads one datagram of at most NOTIFY_MAX bytes per read. Two
 * readings of it:
 *  - notify_says_ready(): the one question `ready: notify` asks during
 *    start, lenient (any bytes; a NUL ends the text as it ends a C string
 *    in systemd).
 *  - notify_parse(): the whole datagram, strict, for an instance's notify
 *    socket kept open for its whole life (STATUS=, STOPPING=1, WATCHDOG=1,
 *    ...). A datagram it refuses is ignored as a whole.
 * The two agree on READY=1 for every datagram that notify_parse() accepts
 * (it accepts none with a NUL byte).
 *
 * Pure functions: nothing here allocates, prints or exits. */
#ifndef MLS_NOTIFY_H
#define MLS_NOTIFY_H

#include <stddef.h>

#define NOTIFY_MAX 4096 /* bytes of one datagram that are read */

/* Does the datagram buf[0..n) hold the line READY=1 (exactly, a line of
 * its own, before any NUL)? 1 or 0. Any bytes are safe. */
int notify_says_ready(const char *buf, size_t n);

/* ------------------------------------------------------ notify_parse */

/* What a datagram said, as bits of notify_msg.has. A flag is set only for
 * the exact assignment shown (systemd's reading): READY=0, STOPPING=yes or
 * WATCHDOG=2 set nothing and are not errors. */
enum {
	NOTIFY_READY = 1 << 0,            /* READY=1 */
	NOTIFY_STOPPING = 1 << 1,         /* STOPPING=1 */
	NOTIFY_RELOADING = 1 << 2,        /* RELOADING=1 */
	NOTIFY_STATUS = 1 << 3,           /* STATUS=text (may be empty: clears the note) */
	NOTIFY_MAINPID = 1 << 4,          /* MAINPID=N */
	NOTIFY_EXTEND = 1 << 5,           /* EXTEND_TIMEOUT_USEC=N */
	NOTIFY_WATCHDOG = 1 << 6,         /* WATCHDOG=1: the keep-alive ping */
	NOTIFY_WATCHDOG_TRIGGER = 1 << 7  /* WATCHDOG=trigger: fail now */
};

#define NOTIFY_STATUS_MAX 256 /* bytes of STATUS= kept (cut at a UTF-8 boundary) */

struct notify_msg {
	unsigned has;                     /* NOTIFY_* seen in this datagram */
	char status[NOTIFY_STATUS_MAX];   /* STATUS=, NUL-terminated, control bytes dropped */
	long mainpid;                     /* MAINPID= (> 0) */
	unsigned long long extend_usec;   /* EXTEND_TIMEOUT_USEC= */
	int unknown;                      /* lines with keys mls does not use (ignored) */
};

/* Parses one datagram buf[0..n) into *m (always cleared first). Returns 0,
 * or -1 when it is not a valid notify datagram: the caller ignores it as a
 * whole (and logs at debug level). Invalid are:
 *  - an empty datagram (n == 0) or one of more than NOTIFY_MAX bytes;
 *  - a NUL byte, or any byte below 0x20 other than '\n' (so "\r\n" line
 *    ends, tabs and escape sequences are refused);
 *  - a non-empty line without '=', or with an empty key ("=x");
 *  - MAINPID= that is not a decimal in 1..INT_MAX (a pid_t), or
 *    EXTEND_TIMEOUT_USEC= that is not a decimal in 0..ULLONG_MAX: digits
 *    only, no sign, no space (systemd ignores such a line; mls refuses the
 *    datagram, so a garbled one cannot half-apply).
 * Empty lines are skipped ("READY=1\n" ends with one); a datagram of
 * newlines only is valid and says nothing (has == 0).
 *
 * Keys are case-sensitive and the value is everything after the first
 * '='. When a key repeats, the first STATUS=, MAINPID= and
 * EXTEND_TIMEOUT_USEC= count (as systemd reads them; later ones are still
 * checked), and a flag is set if any of its lines says so.
 *
 * STATUS= text is kept for display: bytes 0x7f and the C1 controls
 * (U+0080..U+009F) are dropped, every byte that is not part of a valid
 * UTF-8 sequence becomes '?', and the result is cut to at most
 * NOTIFY_STATUS_MAX - 1 bytes without splitting a character. So
 * m->status is always valid UTF-8 without control characters.
 *
 * Lines with any other key (ERRNO=, BUSERROR=, EXIT_STATUS=, FDSTORE=1,
 * MONOTONIC_USEC=, WATCHDOG_USEC=, X_FOO=, ...) count in m->unknown; they
 * do not make the datagram invalid. Lines of known keys with other values
 * (READY=0) count nowhere. Any bytes are safe; reads only buf[0..n). */
int notify_parse(const char *buf, size_t n, struct notify_msg *m);

#endif
