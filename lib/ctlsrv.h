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
 * Each connection carries a permission (proto_perm, proto.h), fixed when
 * it is made: for an accepted one, what the ctlsrv_authz callback returns
 * for the peer's SO_PEERCRED credentials, read once at accept (so a
 * process that connects and then drops privileges or passes the fd on
 * keeps what it had at connect(), as with open() and file modes); for an
 * adopted one (ctlsrv_adopt), what its creator says. ctlsrv only carries
 * it: the handler reads it with ctlsrv_perm() and decides.
 *
 * Nothing here prints or exits. */
#ifndef MLS_CTLSRV_H
#define MLS_CTLSRV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
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

/* The same on a listening socket `fd` that is already bound at `path`
 * and listening (a live upgrade: inherited from the process before exec,
 * so the address never goes away). fd becomes the server's (made
 * non-blocking and close-on-exec). NULL with errno (fd left open). */
struct ctlsrv *ctlsrv_open_fd(struct loop *l, const char *path, int fd,
	ctlsrv_handler *h, void *ctx);

/* The listening fd, and a connection's fd (a live upgrade passes them
 * on across exec); -1 for NULL */
int ctlsrv_listen_fd(const struct ctlsrv *s);
int ctlsrv_conn_fd(const struct ctlconn *c);

/* The permission of an accepted connection, from its peer's credentials
 * (SO_PEERCRED at accept). Called once per connection, before any request
 * of it is read; must not call back into the server. */
typedef proto_perm ctlsrv_authz(pid_t pid, uid_t uid, gid_t gid, void *ctx);

/* Set the callback for connections accepted from now on (NULL: none).
 * Without one, or when SO_PEERCRED fails, a connection gets
 * PROTO_PERM_NONE (read-only): a server that says nothing grants
 * nothing. Call it right after ctlsrv_open, before the loop runs. */
void ctlsrv_set_authz(struct ctlsrv *s, ctlsrv_authz *fn, void *ctx);

/* Serve an already-connected stream socket `fd` as a connection of `s`
 * with permission `perm`: for a process started with one end of a
 * socketpair(AF_UNIX, SOCK_STREAM) (mls httpd), which cannot or need not
 * connect to the socket file. Its credentials are not asked: the peer of
 * a socketpair end is the process that made the pair (supervise itself,
 * often root), not the one holding the other end.
 *
 * Framing, replies, abuse rules, backpressure, streams and the
 * PROTO_MAX_CLIENTS count are those of an accepted connection, with one
 * difference: no idle timeout (the process at the other end keeps it open
 * for its lifetime; its EOF closes it). May be called from a handler.
 *
 * Returns 0: fd is the server's from then on (made non-blocking and
 * close-on-exec; closed at EOF, on abuse, at ctlsrv_close). Or -1 with
 * errno, fd left open and still the caller's: EINVAL (no server, a closed
 * one, fd < 0), ENOTSOCK or EPROTOTYPE (not a stream socket), EBUSY
 * (PROTO_MAX_CLIENTS connections open), ENOMEM, or an error of fcntl or
 * loop_add_fd. */
int ctlsrv_adopt(struct ctlsrv *s, int fd, proto_perm perm);

/* The connection's permission (PROTO_PERM_NONE for NULL) */
proto_perm ctlsrv_perm(const struct ctlconn *c);

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

/* One reply line buf[0..len) (without its newline: one is added) with
 * the fd `fd` passed along (SCM_RIGHTS; the peer gets its own copy, the
 * caller still owns and closes `fd`). Only when nothing is queued for the
 * connection (as in a handler: requests are read only then): EBUSY
 * otherwise. Returns 0 (sent, or the fd and the first bytes sent and the
 * rest queued), or -1 with errno: EINVAL, EPIPE (closed), EBUSY, or
 * sendmsg()'s (EAGAIN: the socket is full, nothing was sent, the
 * connection stays open). */
int ctlsrv_reply_fd(struct ctlconn *c, const char *buf, size_t len, int fd);

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

/* Peer credentials of the connection (SO_PEERCRED): pid, uid. For an
 * adopted socketpair end these are of the pair's creator (see
 * ctlsrv_adopt). */
int ctlsrv_peer(const struct ctlconn *c, int *pid, int *uid);

#endif
