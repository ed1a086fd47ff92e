/* httpsrv.h: the HTTP/1.1 server of mls httpd, on the event loop.
 *
 * One struct httpsrv has one handler and any number of listening sockets
 * (httpsrv_listen), each plain or TLS (BearSSL's server engine). Every
 * socket is non-blocking and close-on-exec, registered in the loop: a slow
 * client, a slow TLS handshake or a slow applet never blocks it.
 *
 * Requests (parsing and refusals: httpparse.h)
 *  - GET, HEAD and POST, HTTP/1.0 and 1.1; bodies by Content-Length only.
 *  - Refused by the server itself, each with a short text/plain body and
 *    "Connection: close", then closed: 400, 405, 411, 413, 414, 431, 501,
 *    505 (see httpparse.h), 408 (deadline), 503 (connection cap).
 *  - Keep-alive: HTTP/1.1 by default unless "Connection: close"; HTTP/1.0
 *    only with "Connection: keep-alive". Pipelining: the requests of one
 *    connection are handed to the handler one at a time, in order: the
 *    next one is parsed only when the previous response has been queued
 *    entirely and the queue has drained (so answers keep request order
 *    and one connection never has more than one request outstanding).
 *  - HEAD: the response carries the headers a GET would (Content-Length
 *    of the body given) and no body. The handler sees method HTTP_HEAD and
 *    may answer it like a GET.
 *
 * Asynchronous answers
 *  The handler gets a request id (uint64_t, never 0, never reused by the
 *  server: a slot number and a 64-bit generation) and may answer during
 *  the call or any time later with httpsrv_respond() or a stream. The
 *  request's strings (struct http_req) are valid during the handler call
 *  only: copy what is needed later. Every call taking an id is safe with a
 *  stale one: it returns -1 with errno ESRCH when the request's connection
 *  has closed (or the request was answered already).
 *
 *  The close callback (optional) is called exactly once for each request
 *  the handler got and that was still outstanding (not answered, or a
 *  stream not ended) when its connection went away: the client closed or
 *  reset, a deadline, a slow stream reader dropped, httpsrv_close(). So
 *  the applet can free per-request state. It is never called from inside
 *  an httpsrv_*() call the applet made (except httpsrv_close(), which
 *  calls it for every outstanding request before it returns): a close
 *  that such a call causes (a stream write past the cap) is reported from
 *  the loop, in the same or the next round. Requests answered completely
 *  get no close callback: the applet knows they are done.
 *
 * Responses carry: "HTTP/1.1 STATUS Reason", Content-Length (not for
 * streams), Content-Type when given, X-Content-Type-Options: nosniff,
 * Connection: close when the connection ends after it (Connection:
 * keep-alive for a kept HTTP/1.0 one), then the caller's extra header
 * lines, then the body (not for HEAD).
 *
 * Streams (Server-Sent Events): httpsrv_stream_begin() sends 200 with
 * Content-Type: text/event-stream, Cache-Control: no-store, no
 * Content-Length, Connection: close; the body is what
 * httpsrv_stream_write() gives; httpsrv_stream_end() closes the connection
 * once the queue is sent. Input after the request is read and dropped
 * (EOF ends the stream: close callback).
 *
 * Limits (each with what happens past it)
 *  - HTTPSRV_MAX_OUT (256 KiB): bytes queued per connection not yet taken
 *    by the socket (for TLS: not yet taken by the engine; the engine's
 *    own buffer is on top). A stream write that would go past it drops
 *    the connection (counted in stats.dropped_slow; close callback, reason
 *    HTTPSRV_END_SLOW; the write returns -1 ENOBUFS).
 *  - HTTPSRV_MAX_RESPONSE (1 MiB): head + body of one httpsrv_respond():
 *    larger is refused with EMSGSIZE, the request stays outstanding (so
 *    the applet can still answer 500).
 *  - max_connections (config, default HTTPSRV_DEFAULT_MAX_CONNS, at most
 *    HTTPSRV_HARD_MAX_CONNS): past it a new connection is accepted, sent
 *    "503 Service Unavailable" with Retry-After: 1 and Connection: close
 *    (one non-blocking send, after reading what the client sent already
 *    so the close does not reset the answer away), and closed (counted in
 *    stats.refused). On a TLS port the connection is closed without a
 *    word: a TLS client cannot read a plain-text 503, and a handshake
 *    just to refuse would cost the CPU the cap is there to save.
 *  - TLS connections: at most HTTPSRV_MAX_TLS_CONNS at once (refused
 *    past it as above), each holding a BearSSL server context with a
 *    BR_SSL_BUFSIZE_BIDI buffer: about 33 KiB + 4 KiB each, so at most
 *    ~4.7 MiB for TLS state.
 *  - Memory per connection: struct (~200 bytes) + loop entry + timer;
 *    while a request is being read an input buffer of HTTP_MAX_HEAD bytes,
 *    grown to head + Content-Length (at most HTTP_MAX_HEAD +
 *    HTTP_MAX_BODY) for a body; the out queue up to HTTPSRV_MAX_OUT (or
 *    one HTTPSRV_MAX_RESPONSE). Buffers are freed when empty. Worst case
 *    per connection ~ 72 KiB + 1 MiB; an idle keep-alive connection holds
 *    no buffer.
 *  - accept() failing with EMFILE/ENFILE/ENOBUFS/ENOMEM: the listener is
 *    paused for HTTPSRV_ACCEPT_PAUSE_MS (a timer), not spun on.
 *
 * Closing: after its last byte the server half-closes (SHUT_WR; for TLS
 * after a close_notify) and reads and drops what the client still sends
 * for up to 2 s (at most 128 KiB), then closes, so a client whose
 * request was refused mid-body reads the answer instead of a reset.
 *
 * Deadlines (loop timers on absolute monotonic times; no polling tick: an
 * idle server has no timer running but those of its open connections)
 *  - header_timeout_ms (10 s): the head of a request must be complete
 *    within it, counted from connect (after the TLS handshake: from its
 *    end) or, on a kept connection, from the first byte of the request.
 *    Past it: 408 and close (slowloris).
 *  - idle_timeout_ms (60 s): a kept connection with no byte of a next
 *    request for this long is closed silently. Also: a connection whose
 *    queued output makes no progress for this long is closed.
 *  - body_timeout_ms (30 s): the body must be complete within it from
 *    the end of the head: past it 408 and close.
 *  - handshake_timeout_ms (10 s): TLS handshake, from accept: past it
 *    the connection is closed (stats.tls_failed).
 *  - No deadline while the applet has a request outstanding: answering
 *    in time is the applet's business.
 *
 * Nothing here prints or exits. */
#ifndef MLS_HTTPSRV_H
#define MLS_HTTPSRV_H

#include <stddef.h>
#include <stdint.h>
#include "httpparse.h"
#include "loop.h"

#ifndef MLS_HAVE_TLS
#define MLS_HAVE_TLS 0
#endif
#if MLS_HAVE_TLS
#include <bearssl.h>
#endif

#define HTTPSRV_DEFAULT_MAX_CONNS 256
#define HTTPSRV_HARD_MAX_CONNS    1024       /* max_connections is capped here */
#define HTTPSRV_MAX_TLS_CONNS     128        /* simultaneous TLS connections */
#define HTTPSRV_MAX_OUT           (256u << 10) /* bytes queued per connection */
#define HTTPSRV_MAX_RESPONSE      (1u << 20) /* bytes of one httpsrv_respond() */
#define HTTPSRV_MAX_EXTRA_HEADERS 4096       /* bytes of a response's extra headers */
#define HTTPSRV_MAX_LISTENERS     16
#define HTTPSRV_HEADER_TIMEOUT_MS 10000
#define HTTPSRV_IDLE_TIMEOUT_MS   60000
#define HTTPSRV_BODY_TIMEOUT_MS   30000
#define HTTPSRV_HANDSHAKE_TIMEOUT_MS 10000
#define HTTPSRV_ACCEPT_PAUSE_MS   100
#define HTTPSRV_PEER_MAX          46         /* INET6_ADDRSTRLEN: peer string */

struct httpsrv;

/* Settings; a zero field means its default. Timeouts in ms. */
struct httpsrv_config {
	int max_connections;      /* HTTPSRV_DEFAULT_MAX_CONNS */
	int header_timeout_ms;    /* HTTPSRV_HEADER_TIMEOUT_MS */
	int idle_timeout_ms;      /* HTTPSRV_IDLE_TIMEOUT_MS */
	int body_timeout_ms;      /* HTTPSRV_BODY_TIMEOUT_MS */
	int handshake_timeout_ms; /* HTTPSRV_HANDSHAKE_TIMEOUT_MS */
	size_t max_out;           /* HTTPSRV_MAX_OUT; tests set it lower
	                           * (larger values are capped to it) */
};

/* What the handler sees; valid during the handler call only. */
struct httpsrv_req {
	uint64_t id;                /* for httpsrv_respond() etc.; never 0 */
	const struct http_req *http;/* method, path, query, headers, body */
	const char *peer;           /* client address: "192.0.2.1", "::1"
	                             * (IPv4-mapped IPv6 shown as IPv4) */
	int peer_port;
	int tls;                    /* 1 if it came over TLS */
};

/* A request. Answer now or later (see "Asynchronous answers"). */
typedef void httpsrv_handler(struct httpsrv *s, const struct httpsrv_req *r,
	void *ctx);

/* Why an outstanding request ended without a complete answer */
enum httpsrv_end {
	HTTPSRV_END_GONE = 1, /* the client closed, reset, or a send failed */
	HTTPSRV_END_SLOW,     /* its queue passed max_out (dropped for slowness) */
	HTTPSRV_END_TIMEOUT,  /* idle_timeout_ms without output progress */
	HTTPSRV_END_SHUTDOWN, /* httpsrv_close() */
};

/* Called once per outstanding request whose connection went away (see
 * above). The id is already stale: calls with it give ESRCH. */
typedef void httpsrv_close_cb(struct httpsrv *s, uint64_t id, int why,
	void *ctx);

/* A new server on loop l, listening nowhere yet. cfg may be NULL (all
 * defaults); it is copied. onclose may be NULL. Returns NULL with errno
 * EINVAL (no loop or handler) or ENOMEM. */
struct httpsrv *httpsrv_new(struct loop *l, const struct httpsrv_config *cfg,
	httpsrv_handler *h, httpsrv_close_cb *onclose, void *ctx);

/* TLS credentials, as BearSSL types (lib's PEM loader makes them). The
 * server keeps the pointers: everything they point to must outlive it. */
#if MLS_HAVE_TLS
struct httpsrv_tls {
	const br_x509_certificate *chain; /* end-entity first */
	size_t chain_len;
	int key_type;                     /* BR_KEYTYPE_EC or BR_KEYTYPE_RSA */
	const br_ec_private_key *ec;      /* for BR_KEYTYPE_EC */
	const br_rsa_private_key *rsa;    /* for BR_KEYTYPE_RSA */
};
#endif
struct httpsrv_tls;

/* Sets the credentials for listeners opened with tls = 1 (call before
 * those). TLS 1.2 only; ECDHE_ECDSA or ECDHE_RSA (by key_type) with
 * AES-128-GCM-SHA256, AES-256-GCM-SHA384 or CHACHA20-POLY1305-SHA256;
 * curves as BearSSL's default EC implementation (P-256, P-384, P-521,
 * X25519). Returns 0, or -1 with EINVAL (no chain, wrong key type or
 * missing key) or ENOTSUP (built without TLS: MLS_HAVE_TLS 0). */
int httpsrv_set_tls(struct httpsrv *s, const struct httpsrv_tls *t);

/* Listens on addr: "HOST:PORT" with a numeric IPv4 host ("127.0.0.1",
 * "0.0.0.0"), an IPv6 one in brackets ("[::1]:9000", "[::]:443"; IPV6_V6ONLY
 * is set so [::] and 0.0.0.0 can both be used), "localhost" (127.0.0.1), or
 * "*" (0.0.0.0); or ":PORT" for 0.0.0.0. Port 0 picks an ephemeral port
 * (httpsrv_port() tells it). SO_REUSEADDR, non-blocking, close-on-exec,
 * registered in the loop. tls: 1 for HTTPS (httpsrv_set_tls() first).
 * Returns the listener's index (>= 0), or -1 with errno and, if err is not
 * NULL, a message in err (errlen bytes, NUL-terminated) that names the
 * address: "cannot listen on 127.0.0.1:9000: Address in use",
 * "bad address '1.2.3:80': expected HOST:PORT with a numeric host".
 * errno: EINVAL (syntax, tls without credentials), ENOSPC
 * (HTTPSRV_MAX_LISTENERS), or that of socket/bind/listen/loop_add_fd. */
int httpsrv_listen(struct httpsrv *s, const char *addr, int tls, char *err,
	size_t errlen);

/* The local port of listener `index` (from httpsrv_listen), or -1 */
int httpsrv_port(const struct httpsrv *s, int index);

/* A response to answer a request with. */
struct httpsrv_resp {
	int status;               /* 200..599 */
	const char *content_type; /* NULL: no Content-Type header */
	const char *headers;      /* extra header lines, each "Name: value\r\n"
	                           * ("Cache-Control: no-store\r\nETag: \"x\"\r\n"),
	                           * or NULL; at most HTTPSRV_MAX_EXTRA_HEADERS
	                           * bytes; must not set Content-Length,
	                           * Transfer-Encoding or Connection */
	const void *body;         /* body_len bytes (not sent for HEAD) */
	size_t body_len;
	int close;                /* 1: close the connection after it */
};

/* Answers request id. The response is queued whole (sent at once as far
 * as the socket takes it); the request is then done (no close callback)
 * and the connection goes on with its next request or closes. Returns 0,
 * or -1 with errno ESRCH (stale id: the connection closed, or the request
 * was answered), EINVAL (status out of range, malformed extra headers:
 * a line without ':' or with a control byte, or one of the reserved
 * names), EMSGSIZE (more than HTTPSRV_MAX_RESPONSE), ENOMEM. On EINVAL,
 * EMSGSIZE and ENOMEM the request stays outstanding. */
int httpsrv_respond(struct httpsrv *s, uint64_t id,
	const struct httpsrv_resp *r);

/* Starts a Server-Sent Events stream as the answer to request id: queues
 * the head (see above) plus `headers` (extra lines as in struct
 * httpsrv_resp, or NULL). Input the client sends after the request is
 * dropped. For HEAD the writes are accepted and dropped, and the
 * connection closes once the head is sent: the close callback
 * (HTTPSRV_END_GONE) ends it as for any stream the client leaves, so the
 * applet has one way to learn that a stream is over. Returns 0, or -1
 * with ESRCH, EINVAL, ENOMEM (the request then stays outstanding). */
int httpsrv_stream_begin(struct httpsrv *s, uint64_t id, const char *headers);

/* Queues len bytes of the stream (the caller frames the events). Returns
 * 0, or -1 with errno ESRCH (stale id, stream not begun or ended),
 * ENOBUFS (the queue would pass max_out: the connection is dropped, the
 * close callback comes from the loop with HTTPSRV_END_SLOW), ENOMEM (the
 * same, as the stream cannot go on). */
int httpsrv_stream_write(struct httpsrv *s, uint64_t id, const void *buf,
	size_t len);

/* Ends the stream: the connection closes once its queue is sent (or at
 * the idle deadline if the client does not read it). The request is then
 * done (no close callback). Returns 0, or -1 with ESRCH. */
int httpsrv_stream_end(struct httpsrv *s, uint64_t id);

/* The peer address string of an outstanding request, or NULL (ESRCH);
 * valid until the request ends. */
const char *httpsrv_peer(const struct httpsrv *s, uint64_t id);

/* Counters since httpsrv_new() */
struct httpsrv_stats {
	int open;                /* connections open now (TLS included) */
	int open_tls;            /* of which TLS */
	uint64_t accepted;       /* connections accepted, refused ones included */
	uint64_t refused;        /* answered 503 at max_connections (or the TLS cap) */
	uint64_t dropped_slow;   /* dropped: queue past max_out */
	uint64_t tls_failed;     /* TLS handshakes failed or timed out */
	uint64_t requests;       /* requests handed to the handler */
	uint64_t rejected;       /* requests refused by the server (4xx/5xx) */
};
void httpsrv_get_stats(const struct httpsrv *s, struct httpsrv_stats *st);

/* Closes every listener and connection (close callback with
 * HTTPSRV_END_SHUTDOWN for each outstanding request, before it returns)
 * and frees the server. May be called from the handler or a close
 * callback: the memory is then freed when the server's loop callback
 * returns; any other call with s after httpsrv_close() is undefined. */
void httpsrv_close(struct httpsrv *s);

#endif
