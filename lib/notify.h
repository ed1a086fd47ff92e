/* notify.h: the sd_notify datagram format, as services send it to their
 * NOTIFY_SOCKET (systemd's protocol: newline-separated KEY=VALUE
 * assignments; see sd_notify(3)).
 *
 * mls reads one datagram of at most NOTIFY_MAX bytes per read; what it acts
 * on today is READY=1 (the service is ready: `ready: notify`). Other
 * assignments (STATUS=, MAINPID=, WATCHDOG=1, ...) are accepted and
 * ignored. A NUL byte ends the text, as it ends a C string in systemd.
 *
 * Pure functions: nothing here allocates, prints or exits. */
#ifndef MLS_NOTIFY_H
#define MLS_NOTIFY_H

#include <stddef.h>

#define NOTIFY_MAX 4096 /* bytes of one datagram that are read */

/* Does the datagram buf[0..n) hold the line READY=1 (exactly, a line of
 * its own, before any NUL)? 1 or 0. Any bytes are safe. */
int notify_says_ready(const char *buf, size_t n);

#endif
