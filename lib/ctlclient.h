/* ctlclient.h: the client side of the control socket (docs/protocol.md,
 * lib/proto.h), shared by mls ctl, httpd, gitwatch and `mls health`.
 *
 * A connection is a struct ctlclient that the caller owns (on its stack or
 * in its own struct); only the read buffer is allocated. It is made by
 * ctlclient_connect() (a Unix socket path) or ctlclient_adopt() (a stream
 * socket already connected, such as one end of a socketpair handed over as
 * an fd), and ended by ctlclient_close().
 *
 * Requests go out with ctlclient_send() (words, joined by one space) or
 * ctlclient_send_line() (one line); both check the request against the
 * protocol's limits first and refuse it without sending anything rather
 * than let the server answer an error or close the connection. Replies and
 * event lines come in through one of two styles:
 *  - blocking: ctlclient_read_line() waits for one whole line, up to an
 *    absolute deadline;
 *  - in a poll loop: poll k->fd for POLLIN, call ctlclient_pump() (one
 *    read()) when it is readable, then ctlclient_next_line() until it
 *    returns 0.
 * Both styles may be mixed on one connection (e.g. read the reply to
 * `events` blocking, then follow the stream from a poll loop).
 *
 * Conventions
 *  - Functions return 0 (or 1 where said) on success, -1 with errno set on
 *    failure. Nothing here prints, exits or aborts.
 *  - Where a sentence helps the user, a function also takes `err, errsz`:
 *    on failure it writes a message there (NUL-terminated, cut to errsz;
 *    CTLCLIENT_ERR_MAX always fits; err may be NULL when errsz is 0). The
 *    message has no program-name prefix and no newline: callers print it
 *    as "PROG: MESSAGE". errno is set either way.
 *  - Bounded: a request is at most PROTO_MAX_LINE bytes and PROTO_MAX_WORDS
 *    words; an incoming line at most k->max_line bytes, its newline
 *    included (chosen by the caller; CTLCLIENT_MAX_LINE when 0). The read
 *    buffer starts at 16 KiB (less when max_line is smaller), doubles as a
 *    long line needs it and never passes max_line + 1 bytes. It is not
 *    shrunk before ctlclient_close().
 *  - Writes block (requests are small, see ctlclient_send()); reads never
 *    block past the deadline given, and ctlclient_pump() and
 *    ctlclient_next_line() do not wait at all beyond one read().
 *  - No threads: one struct ctlclient is used by one thread at a time.
 */
#ifndef MLS_CTLCLIENT_H
#define MLS_CTLCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

/* Default cap on one incoming line (max_line 0), newline included. The
 * largest line the server sends is a reply: it queues at most
 * PROTO_MAX_OUT (8 MiB) for a client beyond what the socket took at once,
 * so a real reply stays well under this; the cap is what bounds the
 * client's memory against a broken or hostile peer. mls ctl uses this
 * value (CTL_MAX_REPLY). */
#define CTLCLIENT_MAX_LINE (64u << 20)

/* Bytes in a socket path: sun_path less its terminating NUL (Linux) */
#define CTLCLIENT_MAX_PATH 107

/* An err buffer of this size holds every message whole */
#define CTLCLIENT_ERR_MAX 256

struct ctlclient {
	int fd;              /* the connected socket; -1 when there is none */
	int connect_failed;  /* after ctlclient_connect(): 1 if connect()
	                        itself failed (nothing answers at the path),
	                        0 otherwise (success, or a local failure) */
	size_t max_line;     /* bytes in one incoming line, newline included
	                        (at most SIZE_MAX / 2: larger is cut to it) */
	char *buf;           /* read buffer (malloc'd), NULL until the first read */
	size_t cap;          /* its size */
	size_t len;          /* bytes in it */
	size_t off;          /* where the bytes not yet returned start */
	size_t scanned;      /* bytes from off known to hold no newline (so
	                        a long line read in many pieces is scanned
	                        once, not once per read) */
	/* The last line returned by ctlclient_read_line() or
	 * ctlclient_next_line(): NUL-terminated, without its "\n" (or "\r\n"),
	 * inside buf. Valid until the next ctlclient_* call on k. A line may
	 * hold NUL bytes; line_len is its true length. */
	char *line;
	size_t line_len;
	int passed_fd;       /* an fd the server passed (SCM_RIGHTS) and
	                        ctlclient_take_fd() has not taken; -1 = none */
};

/* ---------------------------------------------------------- lifetime */

/* Connects *k to the Unix stream socket at `path` (blocking connect();
 * for a Unix socket it does not wait for the server to accept). *k is
 * set up from scratch in every case, so ctlclient_close() is safe after a
 * failure too. max_line: cap on one incoming line, 0 for
 * CTLCLIENT_MAX_LINE. Returns 0, or -1 with errno and err:
 *  - ENAMETOOLONG, "socket path too long (max 107 bytes)": path longer
 *    than CTLCLIENT_MAX_PATH; nothing was tried (the path is not in the
 *    message: it may be of any length);
 *  - socket()'s errno (EMFILE, ...), "socket: REASON";
 *  - connect()'s errno (ENOENT, ECONNREFUSED, EACCES, ...), "cannot reach
 *    the supervisor at PATH: REASON"; k->connect_failed is then 1.
 * The socket is SOCK_CLOEXEC and blocking. */
int ctlclient_connect(struct ctlclient *k, const char *path, size_t max_line,
	char *err, size_t errsz);

/* Sets *k up on `fd`, a connected stream socket (e.g. one end of a
 * socketpair()); *k owns it from now on: ctlclient_close() closes it. The
 * fd may be blocking or not (a non-blocking one is noted under each call).
 * max_line as for ctlclient_connect(). Returns 0, or -1 with EBADF (fd <
 * 0; *k is then set up closed, fd not touched). */
int ctlclient_adopt(struct ctlclient *k, int fd, size_t max_line);

/* Closes the fd (if any) and frees the buffer; *k is left closed (fd -1),
 * so a second call does nothing. Only for a *k that ctlclient_connect()
 * or ctlclient_adopt() has set up (a zeroed struct has fd 0). */
void ctlclient_close(struct ctlclient *k);

/* ---------------------------------------------------------- requests */

/* Can these words be sent as they are? Each must be non-empty and hold no
 * byte <= ' ' (blank, control, NUL) nor 0x7f; there is no quoting in the
 * protocol. Returns 0, or -1 with EINVAL, *bad (if not NULL) the index of
 * the first bad word, and err: "empty word" or "'WORD': no blanks or
 * control characters in a word" (WORD cut to 200 bytes). Does not check the
 * counts and lengths that ctlclient_send() checks. */
int ctlclient_check_words(char *const *words, int n, int *bad,
	char *err, size_t errsz);

/* Sends words[0..n) joined by single spaces, and a newline, as one
 * request. Checked first, nothing sent when it fails:
 *  - n < 1: EINVAL, "empty request" (the server ignores an empty line: no
 *    reply would ever come);
 *  - n > PROTO_MAX_WORDS: E2BIG, "too many words in one request (max 256)";
 *  - a bad word (ctlclient_check_words()): EINVAL, its message (WORD
 *    cut to 200 bytes);
 *  - the line with its newline longer than PROTO_MAX_LINE: EMSGSIZE,
 *    "request too long (max 4096 bytes)".
 * Then writes the whole line, retrying on EINTR; on a non-blocking fd,
 * EAGAIN is waited out with poll(). That blocks only while the server
 * does not read this connection: it stops reading a client whose replies
 * are not read (backpressure), so a client that pipelines requests
 * without reading the replies can fill the socket buffer and then wait
 * here; a client that reads each reply before the next request leaves
 * far more room than PROTO_MAX_LINE. A write error gives its errno (EPIPE when the server is
 * gone: SIGPIPE is not raised) and "cannot send the request: REASON"; part
 * of the line may have gone out, so close the connection. Returns 0 or
 * -1. */
int ctlclient_send(struct ctlclient *k, char *const *words, int n,
	char *err, size_t errsz);

/* Sends `line` (without its newline; one is added) as one request, for a
 * request already in protocol form such as "events" or "logs -f web".
 * Checked first, nothing sent when it fails: EINVAL "empty request"
 * (nothing but blanks), EINVAL "control character in request" (a byte <
 * 0x20 other than tab, newline included: a line is one request), E2BIG
 * "too many words in one request (max 256)", EMSGSIZE "request too long
 * (max 4096 bytes)". Writes as ctlclient_send(). Returns 0 or -1. */
int ctlclient_send_line(struct ctlclient *k, const char *line,
	char *err, size_t errsz);

/* ----------------------------------------------------------- replies */

/* Returns the next line: one already buffered at once, else reads until
 * one is complete or `deadline` passes (absolute, in ms of the
 * loop_now_ms() clock of lib/loop.h; -1 = no deadline). A deadline already past reads nothing more (a buffered
 * line is still returned). Returns:
 *   1  k->line / k->line_len set;
 *   0  EOF: the server closed (a last partial line without its newline
 *      is dropped: every reply and event ends with one). Further calls
 *      return 0 again;
 *  -1  errno ETIMEDOUT (deadline passed: the connection is still usable,
 *      call again), EMSGSIZE (a line longer than k->max_line: the
 *      connection is out of step, close it), ENOMEM, or read()'s/poll()'s
 *      errno (ECONNRESET, ...). EINTR and EAGAIN are retried, not
 *      returned. */
int ctlclient_read_line(struct ctlclient *k, int64_t deadline);

/* Without reading: the next complete line already buffered (1, k->line
 * set), or 0 when there is none. Never fails. */
int ctlclient_next_line(struct ctlclient *k);

/* One read() into the buffer, for a poll loop once k->fd is readable (on
 * a blocking fd it would wait for data otherwise). It does not take lines
 * out: call ctlclient_next_line() until it returns 0 afterwards. Returns
 * 1 (bytes read, or lines already buffered fill the buffer: take them
 * first), 0 (EOF), or -1 with errno: EMSGSIZE (the buffered part of one
 * line already fills k->max_line: close), EAGAIN (a non-blocking fd had
 * nothing after all: poll again), ENOMEM, or read()'s errno. EINTR is
 * retried. */
int ctlclient_pump(struct ctlclient *k);

/* The fd that came with a reply (SCM_RIGHTS), e.g. the new connection of
 * `channel` (docs/protocol.md): read the reply line first, then take it.
 * The caller owns it from then on (close-on-exec). Only the first fd the
 * server passed is kept until taken; any more are closed as they arrive,
 * and ctlclient_close() closes one not taken. Returns the fd, or -1 with
 * ENOENT when none came. */
int ctlclient_take_fd(struct ctlclient *k);

/* An event stream beside k (how mls httpd and mls gitwatch, which hold
 * only supervise's socketpair, follow the events): asks k for a
 * `channel`, adopts the connection it carries into ev (max_line 0) and
 * sends `events` on it; both replies are waited for until deadline
 * (loop_now_ms() clock). *seq, when not NULL, gets the `events` reply's
 * seq (the events that follow are newer). 0, or -1 with err (ev is then
 * closed or untouched). */
int ctlclient_open_events(struct ctlclient *k, struct ctlclient *ev, int64_t deadline, uint64_t *seq,
	char *err, size_t errsz);

#endif
