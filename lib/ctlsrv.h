/* ctlsrv.h: the control socket server of mls supervise.
 *
 * A listening Unix stream socket (created by ctlsrv_open: an existing
 * socket file that no one answers on is removed first; one that answers
 * means another supervisor runs: EADDRINUSE) registered in the loop;
 * connections are non-blocking and registered too. Each connection reads
 * request lines (at most PROTO_MAX_LINE bytes, newline-terminated; "\r\n"
 * accepted), splits each into words (blanks separate; at most
 * PROTO_MAX_WORDS) and calls the handler once per request, in order.
 * Replies are queued per connection (at most PROTO_MAX_OUT bytes) and
 * written as the socket accepts them (POLLOUT), so a slow reader never
 * blocks the loop.
 *
 * Abuse handling, each answered with {"ok":false,"error":"..."} when the
 * connection can still take it, then closed where said:
 *  - a line longer than PROTO_MAX_LINE: error "request too long (max 4096 bytes)", closed
 *  - a NUL byte or bytes < 0x20 other than \t \r \n: error "binary data in request", closed
 *  - more than PROTO_MAX_WORDS words: error "too many words (max 256)" (not closed)
 *  - an empty line: ignored
 *  - no complete request for PROTO_IDLE_TIMEOUT_MS: closed (not `events`
 *    streams; a queued reply being read counts as activity)
 *  - more than PROTO_MAX_CLIENTS connections: the new one gets
 *    error "too many connections" and is closed at once
 *  - out queue past PROTO_MAX_OUT: the connection is closed (a stuck
 *    `events` reader loses its stream, never mls's memory)
 * While a connection has a reply queued that it does not read, its
 * further requests are not read either (backpressure), so one client
 * cannot make mls queue without bound.
 *
 * A connection can be put into stream mode (ctlsrv_subscribe); it then
 * receives every ctlsrv_broadcast() line and its further input is
 * discarded (but EOF still closes it).
 *
 * Nothing here prints or exits. */
#ifndef MLS_CTLSRV_H
#define MLS_CTLSRV_H

#include <stddef.h>
#include <stdint.h>
#include "loop.h"
#include "proto.h"

struct ctlsrv;
struct ctlconn;

/* One request: argv[0..argc) are the words (NUL-terminated, valid during
 * the call). Reply with ctlsrv_reply() (once or more; each call should be
 * one whole JSON line, newline included or added). `c` too is valid during
 * the call only: there is no notice when a connection closes, so a
 * handler must not keep it (streams are reached by topic). */
typedef void ctlsrv_handler(struct ctlsrv *s, struct ctlconn *c, int argc,
	char **argv, void *ctx);

/* Create the socket at `path` (mode 0600, or 0660 owned by group `gid`
 * when gid >= 0; -1 = none: a long long so every gid_t fits), listen,
 * register in `l`. Returns NULL with errno on failure (EADDRINUSE when a
 * live supervisor answers on path; EEXIST when path is not a socket: it is
 * left alone; ENAMETOOLONG for a path longer than sun_path). */
struct ctlsrv *ctlsrv_open(struct loop *l, const char *path, long long gid,
	ctlsrv_handler *h, void *ctx);

/* Close the listening socket and every connection, unlink the path (if
 * it is still the socket made by ctlsrv_open). May be called from the
 * handler: memory is freed when the server's callback returns. */
void ctlsrv_close(struct ctlsrv *s);

/* Idle timeout in ms for deadlines set from now on (default
 * PROTO_IDLE_TIMEOUT_MS). For tests; ms <= 0 is ignored. */
void ctlsrv_set_idle_timeout(struct ctlsrv *s, int ms);

/* Queue bytes for the connection (a newline is added if `len` bytes do
 * not end in one); they are sent at once if the socket takes them. Returns
 * 0, or -1 (connection being closed, the peer gone, or its queue full: it
 * is then closed). */
int ctlsrv_reply(struct ctlconn *c, const char *buf, size_t len);

/* Switch the connection to stream mode on `topic` (copied; e.g. "events",
 * or "log:web" for `logs -f web`). */
void ctlsrv_subscribe(struct ctlconn *c, const char *topic);

/* Queue a line for every stream connection subscribed to `topic`.
 * Cheap when there is none (a counter per topic is not needed: it checks
 * ctlsrv_nsubscribers() first). */
void ctlsrv_broadcast(struct ctlsrv *s, const char *topic, const char *buf,
	size_t len);

/* Number of open connections / of stream connections. */
int ctlsrv_nconns(const struct ctlsrv *s);
int ctlsrv_nsubscribers(const struct ctlsrv *s);

/* Peer credentials of the connection (SO_PEERCRED): pid, uid. */
int ctlsrv_peer(const struct ctlconn *c, int *pid, int *uid);

#endif
