/* httpsrv.c: the HTTP/1.1 server of mls httpd. The API, the limits and
 * the deadlines are in httpsrv.h; request parsing in httpparse.c.
 *
 * Layout
 *  - Each connection runs one state machine (enum cstate, step()):
 *      HANDSHAKE (TLS) -> READ -> WAIT (the applet has the request)
 *      -> SENT (answer queued) -> READ (kept) | CLOSING
 *      WAIT -> STREAM -> CLOSING;  CLOSING -> LINGER -> closed
 *    A request is parsed only in READ, which is entered again only when
 *    the previous answer has left the out queue: answers keep the order
 *    of pipelined requests and at most one request per connection is
 *    outstanding.
 *  - Transport: plaintext in (c->in) and out (c->out) buffers. A plain
 *    connection moves them with recv()/send(); a TLS one through the
 *    BearSSL engine, driven by its state (tls_io(), the pattern of
 *    BearSSL's tools/sslio.c without its blocking loop): SENDREC means
 *    wait for POLLOUT, RECVREC for POLLIN.
 *  - Answers from the applet only queue and push what the socket takes
 *    now; going on with the next pipelined request happens from the loop
 *    (the connection asks for POLLOUT, which is ready at once), so a
 *    handler is never called from inside httpsrv_respond().
 *  - Deadlines: one loop timer per connection at most, re-armed lazily
 *    (as in ctlsrv.c): c->deadline moves freely, the timer fires at its
 *    old time and re-arms if the deadline moved later.
 *  - Lifetime: the handler or the close callback may close the server
 *    while we stand in a connection's callback. Entry points count
 *    themselves in s->depth; closed connections wait on s->zombies (or on
 *    s->notify while their close callback is pending) and are freed when
 *    the outermost entry point returns (reap()).
 *  - Request ids: (generation << SLOT_BITS) | slot; s->slots[slot] is the
 *    connection, and c->req must equal the id, so a stale id never hits
 *    a newer request on the same slot.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif

#include "httpsrv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOT_BITS 11           /* 2048 slots > HTTPSRV_HARD_MAX_CONNS */
#define ACCEPT_BATCH 32        /* accepts per listener callback (fairness) */
#define BACKLOG 128
#define STEP_MAX 16            /* state steps per callback (pipelining fairness) */
#define TLS_ROUNDS 16          /* engine rounds per callback */
#define OUT_START 1024         /* first out queue allocation */
#define LINGER_MS 2000         /* after our last byte: read and drop the
                                * client's rest this long, so close() does
                                * not reset the connection (and lose our
                                * answer) while it still sends */
#define LINGER_MAX (128u << 10) /* bytes dropped while lingering at most */
#define SEND_FLAGS (MSG_NOSIGNAL | MSG_DONTWAIT)
#define HEAD_MAX (HTTPSRV_MAX_EXTRA_HEADERS + 512) /* response head bytes */

enum cstate { C_HANDSHAKE, C_READ, C_WAIT, C_SENT, C_STREAM, C_CLOSING, C_LINGER };
enum dlkind { DL_NONE, DL_HANDSHAKE, DL_IDLE, DL_HEADER, DL_BODY, DL_OUTPUT, DL_LINGER };

#if MLS_HAVE_TLS
struct tls {
	br_ssl_server_context sc;
	unsigned char buf[BR_SSL_BUFSIZE_BIDI];
};
#endif

struct conn {
	struct httpsrv *s;
	struct conn *prev, *next; /* s->conns; next: s->zombies or s->notify */
	int fd;
	int64_t id;            /* loop entry */
	int events;            /* what the loop entry waits for now */
	int slot;              /* in s->slots */
	uint64_t req;          /* outstanding request id; 0 = none */
	int st;                /* enum cstate */
	int dl;                /* enum dlkind: what the deadline does */
	int64_t deadline;      /* ms, loop_now_ms() clock; valid if dl */
	int64_t timer, timer_at; /* loop timer (0 = none) and its time */
	char *in;              /* plaintext input; NULL when empty */
	size_t inlen, incap;
	size_t scan;           /* http_head_end() resume point */
	size_t need;           /* head + body bytes, once the head is in; 0 before */
	size_t dropped;        /* bytes dropped while lingering */
	char *out;             /* out[outoff..outlen) not yet sent */
	size_t outoff, outlen, outcap;
	char peer[HTTPSRV_PEER_MAX];
	int port;
	int why;               /* enum httpsrv_end for the close callback */
	int minor;             /* HTTP/1.minor of the current request */
	unsigned char tls;     /* a TLS connection */
	unsigned char hs_done; /* TLS handshake over */
	unsigned char tls_closing; /* close_notify queued */
	unsigned char head;    /* the current request is HEAD */
	unsigned char keep;    /* keep the connection after this answer */
	unsigned char kept;    /* not the first request of the connection */
	unsigned char eof;     /* the client closed its side */
	unsigned char dead;    /* closed, waiting to be freed */
	unsigned char need_step; /* step() has work left: come back next round */
#if MLS_HAVE_TLS
	struct tls *t;
#endif
};

struct listener {
	int fd;
	int64_t id;
	int tls;
	int port;
};

struct httpsrv {
	struct loop *l;
	struct httpsrv_config cfg;
	httpsrv_handler *h;
	httpsrv_close_cb *onclose;
	void *ctx;
	struct listener ls[HTTPSRV_MAX_LISTENERS];
	int nls;
	int64_t resume;        /* timer ending an accept pause; 0 = none */
	struct conn *slots[1 << SLOT_BITS];
	int slot_hint;
	struct conn *conns;    /* open connections */
	struct conn *zombies;  /* closed, to free at reap() */
	struct conn *notify;   /* closed, close callback pending */
	int64_t notify_timer;
	uint64_t gen;          /* request generation */
	struct httpsrv_stats st;
	int depth;             /* entry points on the stack */
	unsigned char closed;
	unsigned char has_tls;
#if MLS_HAVE_TLS
	struct httpsrv_tls tlscfg;
#endif
};

static void conn_close(struct conn *c, int why);
static void update(struct conn *c);
static int flush(struct conn *c);

/* ------------------------------------------------------------- lifetime */

static void enter(struct httpsrv *s)
{
	s->depth++;
}

static void conn_free(struct conn *c)
{
	free(c->in);
	free(c->out);
#if MLS_HAVE_TLS
	free(c->t);
#endif
	free(c);
}

static void reap(struct httpsrv *s)
{
	while (s->zombies) {
		struct conn *c = s->zombies;
		s->zombies = c->next;
		conn_free(c);
	}
	if (s->closed && !s->notify)
		free(s);
}

static void leave(struct httpsrv *s)
{
	if (--s->depth == 0)
		reap(s);
}

/* Delivers the pending close callbacks. Each is popped before its call,
 * so a callback that closes the server finds only the others. */
static void deliver(struct httpsrv *s)
{
	while (s->notify) {
		struct conn *c = s->notify;
		s->notify = c->next;
		if (s->onclose)
			s->onclose(s, c->req, c->why, s->ctx);
		c->next = s->zombies;
		s->zombies = c;
	}
}

static void notify_cb(struct loop *l, int64_t id, void *ctx)
{
	struct httpsrv *s = ctx;

	(void)l;
	(void)id;
	s->notify_timer = 0;
	enter(s);
	deliver(s);
	leave(s);
}

/* ------------------------------------------------------------ deadlines */

static void deadline_cb(struct loop *l, int64_t id, void *ctx);

static int arm(struct conn *c, int64_t at)
{
	c->timer = loop_timer_at(c->s->l, at, deadline_cb, c);
	if (c->timer < 0) {
		c->timer = 0;
		return -1;
	}
	c->timer_at = at;
	return 0;
}

static void disarm(struct conn *c)
{
	if (c->timer)
		loop_timer_cancel(c->s->l, c->timer);
	c->timer = 0;
}

/* The connection's deadline becomes `kind` at now + ms (DL_NONE: none).
 * If no timer can be had the connection is closed: a connection without
 * its deadline would be a slowloris hole. Returns -1 then. */
static int set_deadline(struct conn *c, int kind, int ms)
{
	int64_t at = loop_now_ms() + ms;

	c->dl = kind;
	if (kind == DL_NONE) {
		disarm(c);
		return 0;
	}
	c->deadline = at;
	if (c->timer && c->timer_at <= at)
		return 0; /* fires early and re-arms */
	disarm(c);
	if (arm(c, at) < 0) {
		conn_close(c, HTTPSRV_END_GONE);
		return -1;
	}
	return 0;
}

static void fail(struct conn *c, int status);

static void deadline_cb(struct loop *l, int64_t id, void *ctx)
{
	struct conn *c = ctx;
	struct httpsrv *s = c->s;

	(void)l;
	(void)id;
	c->timer = 0;
	if (c->dl == DL_NONE)
		return;
	enter(s);
	if (loop_now_ms() < c->deadline) {
		if (arm(c, c->deadline) < 0)
			conn_close(c, HTTPSRV_END_GONE);
		leave(s);
		return;
	}
	switch (c->dl) {
	case DL_HANDSHAKE:
		s->st.tls_failed++;
		conn_close(c, HTTPSRV_END_GONE);
		break;
	case DL_HEADER:
	case DL_BODY:
		fail(c, 408);
		break;
	case DL_OUTPUT:
		conn_close(c, HTTPSRV_END_TIMEOUT);
		break;
	default: /* DL_IDLE, DL_LINGER */
		conn_close(c, HTTPSRV_END_GONE);
		break;
	}
	if (!c->dead)
		update(c);
	leave(s);
}

/* ---------------------------------------------------------------- close */

static void conn_close(struct conn *c, int why)
{
	struct httpsrv *s = c->s;

	if (c->dead)
		return;
	c->dead = 1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->slots[c->slot] = NULL;
	s->st.open--;
	if (c->tls)
		s->st.open_tls--;
	disarm(c);
	loop_close_fd(s->l, c->id); /* deferred during dispatch */
	free(c->in);
	c->in = NULL;
	free(c->out);
	c->out = NULL;
	if (c->req && why) {
		/* the applet hears of it from the loop, never from inside one
		 * of its own calls */
		c->why = why;
		c->next = s->notify;
		s->notify = c;
		if (!s->notify_timer && !s->closed) {
			s->notify_timer = loop_timer_at(s->l, loop_now_ms(),
				notify_cb, s);
			if (s->notify_timer < 0)
				s->notify_timer = 0; /* delivered at the next entry */
		}
		return;
	}
	c->next = s->zombies;
	s->zombies = c;
	if (s->depth == 0)
		reap(s);
}

/* --------------------------------------------------------------- output */

static size_t pending(const struct conn *c)
{
	return c->outlen - c->outoff;
}

/* Appends len bytes to the queue if it stays within cap; -1 ENOBUFS or
 * ENOMEM otherwise (nothing appended) */
static int out_append(struct conn *c, const void *p, size_t len, size_t cap)
{
	size_t have = pending(c), ncap;
	char *q;

	if (len > cap || have > cap - len) {
		errno = ENOBUFS;
		return -1;
	}
	if (c->outoff && c->outcap - c->outlen < len) {
		memmove(c->out, c->out + c->outoff, have);
		c->outoff = 0;
		c->outlen = have;
	}
	if (c->outcap - c->outlen < len) {
		ncap = c->outcap ? c->outcap : OUT_START;
		while (ncap < have + len)
			ncap *= 2;
		q = realloc(c->out, ncap);
		if (!q) {
			errno = ENOMEM;
			return -1;
		}
		c->out = q;
		c->outcap = ncap;
	}
	memcpy(c->out + c->outlen, p, len);
	c->outlen += len;
	return 0;
}

static void out_sent(struct conn *c, size_t n)
{
	c->outoff += n;
	if (c->dl == DL_OUTPUT)
		c->deadline = loop_now_ms() + c->s->cfg.idle_timeout_ms;
	if (!pending(c)) {
		free(c->out);
		c->out = NULL;
		c->outoff = c->outlen = c->outcap = 0;
	}
}

static int would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* ----------------------------------------------------------------- input */

/* Reading into c->in (READ, WAIT, SENT) while it has room; dropping what
 * comes (STREAM, LINGER); not at all otherwise */
static int reads(const struct conn *c)
{
	if (c->eof)
		return 0;
	switch (c->st) {
	case C_READ:
	case C_WAIT:
	case C_SENT:
		return c->incap == 0 || c->inlen < c->incap;
	case C_STREAM:
	case C_LINGER:
		return 1;
	default:
		return 0;
	}
}

static int discards(const struct conn *c)
{
	return c->st == C_STREAM || c->st == C_LINGER;
}

/* Room in c->in (allocated on first use); 0 if none or no memory */
static size_t in_room(struct conn *c)
{
	if (!c->in) {
		c->in = malloc(HTTP_MAX_HEAD);
		if (!c->in)
			return 0;
		c->incap = HTTP_MAX_HEAD;
		c->inlen = 0;
	}
	return c->incap - c->inlen;
}

static void got_input(struct conn *c, size_t n)
{
	if (c->st == C_READ && c->inlen == 0 && c->kept && n)
		set_deadline(c, DL_HEADER, c->s->cfg.header_timeout_ms);
	c->inlen += n;
}

static void got_eof(struct conn *c)
{
	c->eof = 1;
	switch (c->st) {
	case C_WAIT:
	case C_SENT:
		c->keep = 0; /* answer, then close */
		break;
	case C_STREAM:
	case C_LINGER:
	case C_READ:
	case C_HANDSHAKE:
		conn_close(c, HTTPSRV_END_GONE);
		break;
	default:
		break;
	}
}

static void dropped(struct conn *c, size_t n)
{
	c->dropped += n;
	if (c->st == C_LINGER && c->dropped > LINGER_MAX)
		conn_close(c, HTTPSRV_END_GONE);
}

/* ----------------------------------------------------------- plain I/O */

static int plain_send(struct conn *c)
{
	while (pending(c)) {
		ssize_t n = send(c->fd, c->out + c->outoff, pending(c), SEND_FLAGS);
		if (n < 0) {
			if (would_block(errno))
				return 0;
			conn_close(c, HTTPSRV_END_GONE);
			return -1;
		}
		out_sent(c, (size_t)n);
	}
	return 0;
}

static int plain_recv(struct conn *c)
{
	char junk[4096];
	ssize_t n;

	if (discards(c)) {
		n = recv(c->fd, junk, sizeof junk, 0);
	} else {
		size_t room = in_room(c);
		if (!room) {
			if (!c->in) /* no memory */
				conn_close(c, HTTPSRV_END_GONE);
			return c->dead ? -1 : 0;
		}
		n = recv(c->fd, c->in + c->inlen, room, 0);
	}
	if (n < 0) {
		if (would_block(errno))
			return 0;
		conn_close(c, HTTPSRV_END_GONE);
		return -1;
	}
	if (n == 0) {
		got_eof(c);
		return c->dead ? -1 : 0;
	}
	if (discards(c))
		dropped(c, (size_t)n);
	else
		got_input(c, (size_t)n);
	return c->dead ? -1 : 0;
}

/* ------------------------------------------------------------- TLS I/O */

#if MLS_HAVE_TLS
static void handshake_done(struct conn *c)
{
	c->hs_done = 1;
	c->st = C_READ;
	set_deadline(c, DL_HEADER, c->s->cfg.header_timeout_ms);
}

/* Moves bytes between the socket, the engine and c->in / c->out until
 * nothing moves (or TLS_ROUNDS rounds: then need_step brings us back).
 * Returns -1 if the connection was closed. */
static int tls_io(struct conn *c)
{
	br_ssl_engine_context *eng = &c->t->sc.eng;
	struct httpsrv *s = c->s;

	for (int round = 0; round < TLS_ROUNDS; round++) {
		unsigned st = br_ssl_engine_current_state(eng);
		int moved = 0;
		unsigned char *buf;
		size_t len;
		ssize_t n;

		if (st & BR_SSL_CLOSED) {
			if (!c->hs_done)
				s->st.tls_failed++;
			conn_close(c, HTTPSRV_END_GONE);
			return -1;
		}
		if (!c->hs_done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
			handshake_done(c);
			if (c->dead)
				return -1;
		}
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			n = send(c->fd, buf, len, SEND_FLAGS);
			if (n > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)n);
				if (c->dl == DL_OUTPUT)
					c->deadline = loop_now_ms() +
						s->cfg.idle_timeout_ms;
				moved = 1;
			} else if (n < 0 && !would_block(errno)) {
				conn_close(c, HTTPSRV_END_GONE);
				return -1;
			}
		}
		if (st & BR_SSL_RECVAPP) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			if (discards(c)) {
				br_ssl_engine_recvapp_ack(eng, len);
				dropped(c, len);
				moved = 1;
			} else if (reads(c)) {
				size_t room = in_room(c);
				if (!c->in) {
					conn_close(c, HTTPSRV_END_GONE);
					return -1;
				}
				if (len > room)
					len = room;
				if (len) {
					memcpy(c->in + c->inlen, buf, len);
					br_ssl_engine_recvapp_ack(eng, len);
					got_input(c, len);
					moved = 1;
				}
			}
			if (c->dead)
				return -1;
		}
		if ((st & BR_SSL_SENDAPP) && pending(c) && !c->tls_closing) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			if (len > pending(c))
				len = pending(c);
			memcpy(buf, c->out + c->outoff, len);
			br_ssl_engine_sendapp_ack(eng, len);
			out_sent(c, len);
			if (!pending(c))
				br_ssl_engine_flush(eng, 0);
			moved = 1;
		}
		if ((st & BR_SSL_RECVREC) && !c->eof &&
				(!c->hs_done || reads(c))) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			n = recv(c->fd, buf, len, 0);
			if (n > 0) {
				br_ssl_engine_recvrec_ack(eng, (size_t)n);
				moved = 1;
			} else if (n == 0) {
				if (!c->hs_done)
					s->st.tls_failed++;
				got_eof(c);
				if (c->dead)
					return -1;
			} else if (!would_block(errno)) {
				if (!c->hs_done)
					s->st.tls_failed++;
				conn_close(c, HTTPSRV_END_GONE);
				return -1;
			}
		}
		if (!moved)
			return 0;
	}
	c->need_step = 1;
	return 0;
}

static int tls_wants_out(struct conn *c)
{
	return (br_ssl_engine_current_state(&c->t->sc.eng) & BR_SSL_SENDREC) != 0;
}
#endif

/* Pushes queued output as far as the socket takes it now */
static int flush(struct conn *c)
{
#if MLS_HAVE_TLS
	if (c->tls)
		return tls_io(c);
#endif
	return plain_send(c);
}

/* Everything sent: our queue and, for TLS, the engine's records */
static int all_sent(struct conn *c)
{
	if (pending(c))
		return 0;
#if MLS_HAVE_TLS
	if (c->tls && tls_wants_out(c))
		return 0;
#endif
	return 1;
}

/* ---------------------------------------------------------------- events */

static void update(struct conn *c)
{
	int ev = 0;

	if (c->dead)
		return;
#if MLS_HAVE_TLS
	if (c->tls) {
		unsigned st = br_ssl_engine_current_state(&c->t->sc.eng);
		if (st & BR_SSL_SENDREC)
			ev |= POLLOUT;
		if ((st & BR_SSL_RECVREC) && !c->eof && (!c->hs_done || reads(c)))
			ev |= POLLIN;
		/* app data the engine holds for us but we could not take:
		 * taken when reads() allows, after a step */
		if ((st & BR_SSL_RECVAPP) && reads(c))
			c->need_step = 1;
	} else
#endif
	{
		if (pending(c))
			ev |= POLLOUT;
		if (reads(c))
			ev |= POLLIN;
	}
	if (c->need_step)
		ev |= POLLOUT; /* writable at once: step() again next round */
	/* output stalled: the idle deadline watches for progress */
	if ((c->st == C_SENT || c->st == C_STREAM || c->st == C_CLOSING) &&
			!all_sent(c) && c->dl != DL_OUTPUT)
		set_deadline(c, DL_OUTPUT, c->s->cfg.idle_timeout_ms);
	else if (c->st == C_STREAM && all_sent(c) && c->dl == DL_OUTPUT)
		set_deadline(c, DL_NONE, 0);
	if (c->dead)
		return;
	if (ev != c->events && loop_mod_fd(c->s->l, c->id, ev) == 0)
		c->events = ev;
}

/* ------------------------------------------------------------ responses */

static int bad_text(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Extra header lines: "Name: value\r\n"*, no reserved names */
static int check_headers(const char *h)
{
	static const char *const reserved[] = {
		"content-length", "transfer-encoding", "connection",
	};

	if (!h)
		return 0;
	if (strlen(h) > HTTPSRV_MAX_EXTRA_HEADERS)
		return -1;
	while (*h) {
		const char *a = h, *colon;
		while (is_tchar((unsigned char)*h))
			h++;
		if (h == a || *h != ':')
			return -1;
		colon = h;
		for (size_t k = 0; k < sizeof reserved / sizeof *reserved; k++)
			if ((size_t)(colon - a) == strlen(reserved[k]) &&
					!strncasecmp(a, reserved[k], (size_t)(colon - a)))
				return -1;
		for (h++; *h && *h != '\r'; h++)
			if (((unsigned char)*h < 0x20 && *h != '\t') || *h == 0x7f)
				return -1;
		if (h[0] != '\r' || h[1] != '\n')
			return -1;
		h += 2;
	}
	return 0;
}

/* The head of a response into h (HEAD_MAX bytes); its length or -1 */
static int build_head(const struct conn *c, char *h, int status,
	const char *ctype, int with_len, size_t clen, const char *extra)
{
	int n = snprintf(h, HEAD_MAX, "HTTP/1.1 %d %s\r\n", status,
		http_reason(status));

	if (ctype)
		n += snprintf(h + n, HEAD_MAX - (size_t)n, "Content-Type: %s\r\n", ctype);
	if (with_len)
		n += snprintf(h + n, HEAD_MAX - (size_t)n, "Content-Length: %zu\r\n", clen);
	n += snprintf(h + n, HEAD_MAX - (size_t)n,
		"X-Content-Type-Options: nosniff\r\n%s%s\r\n",
		!c->keep ? "Connection: close\r\n" :
		c->minor == 0 ? "Connection: keep-alive\r\n" : "",
		extra ? extra : "");
	return n >= HEAD_MAX ? -1 : n;
}

/* The server's own refusal: text, Connection: close, then linger */
static void fail(struct conn *c, int status)
{
	char head[HEAD_MAX], body[80];
	int bn = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));
	const char *extra = status == 405 ? "Allow: GET, HEAD, POST\r\n" :
		status == 503 ? "Retry-After: 1\r\n" : NULL;
	int hn;

	c->s->st.rejected++;
	c->keep = 0;
	c->minor = 1;
	hn = build_head(c, head, status, "text/plain; charset=utf-8", 1,
		(size_t)bn, extra);
	if (hn < 0 || out_append(c, head, (size_t)hn, HTTPSRV_MAX_RESPONSE) < 0 ||
			out_append(c, body, (size_t)bn, HTTPSRV_MAX_RESPONSE) < 0) {
		conn_close(c, HTTPSRV_END_GONE);
		return;
	}
	c->st = C_CLOSING;
	set_deadline(c, DL_NONE, 0);
	if (c->dead)
		return;
	c->need_step = 1;
	flush(c);
}

/* ----------------------------------------------------------------- steps */

/* Hands a parsed request of n bytes to the handler */
static void dispatch(struct conn *c, const struct http_req *req, size_t n)
{
	struct httpsrv *s = c->s;
	struct httpsrv_req r;

	c->req = (++s->gen << SLOT_BITS) | (uint64_t)c->slot;
	c->head = req->method == HTTP_HEAD;
	c->keep = req->keep_alive && !c->eof;
	c->minor = req->minor;
	c->st = C_WAIT;
	set_deadline(c, DL_NONE, 0);
	s->st.requests++;
	r.id = c->req;
	r.http = req;
	r.peer = c->peer;
	r.peer_port = c->port;
	r.tls = c->tls;
	s->h(s, &r, s->ctx);
	if (c->dead)
		return;
	c->scan = 0;
	c->need = 0;
	if (!c->in)
		return; /* a stream began: its input is dropped */
	/* the request's strings are no longer needed: drop its bytes */
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
	if (!c->inlen) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
}

/* READ: a request if one is complete. 1 if the state changed. */
static int try_request(struct conn *c)
{
	struct http_req req;
	long n;

	if (c->inlen == 0)
		return 0;
	if (!c->need) {
		long h = http_head_end(c->in, c->inlen, &c->scan);
		if (h == 0)
			return 0;
		if (h < 0) {
			fail(c, (int)-h);
			return 1;
		}
	} else if (c->inlen < c->need) {
		return 0;
	}
	n = http_parse(c->in, c->inlen, &req);
	if (n < 0) {
		fail(c, (int)-n);
		return 1;
	}
	if (n == 0) {
		/* head in, body not: wait for all of it without parsing again */
		if (!c->need) {
			char *p;
			c->need = req.head_len + req.content_length;
			if (c->incap < c->need) {
				p = realloc(c->in, c->need);
				if (!p) {
					conn_close(c, HTTPSRV_END_GONE);
					return 1;
				}
				c->in = p;
				c->incap = c->need;
			}
			set_deadline(c, DL_BODY, c->s->cfg.body_timeout_ms);
		}
		return 0;
	}
	dispatch(c, &req, (size_t)n);
	return 1;
}

/* After our last byte: half-close and read what the client still sends
 * for a while, so that close() does not reset the connection under an
 * answer it has not read yet */
static void linger(struct conn *c)
{
	c->st = C_LINGER;
	c->dropped = 0;
	if (shutdown(c->fd, SHUT_WR) < 0 || c->eof) {
		conn_close(c, HTTPSRV_END_GONE);
		return;
	}
	set_deadline(c, DL_LINGER, LINGER_MS);
}

static void step(struct conn *c)
{
	for (int i = 0; i < STEP_MAX && !c->dead; i++) {
		switch (c->st) {
		case C_READ:
			if (!try_request(c))
				return;
			break;
		case C_SENT:
			if (!all_sent(c))
				return;
			if (!c->keep || c->eof) {
				c->st = C_CLOSING;
				break;
			}
			c->st = C_READ;
			c->kept = 1;
			if (c->inlen)
				set_deadline(c, DL_HEADER, c->s->cfg.header_timeout_ms);
			else
				set_deadline(c, DL_IDLE, c->s->cfg.idle_timeout_ms);
			break;
		case C_STREAM:
			/* HEAD of a stream: the head alone, then the end */
			if (c->head && all_sent(c))
				conn_close(c, HTTPSRV_END_GONE);
			return;
		case C_CLOSING:
#if MLS_HAVE_TLS
			if (c->tls && !pending(c) && !c->tls_closing && c->hs_done) {
				c->tls_closing = 1;
				br_ssl_engine_close(&c->t->sc.eng); /* close_notify */
				if (tls_io(c) < 0)
					return;
			}
#endif
			if (!all_sent(c))
				return;
			linger(c);
			return;
		default: /* HANDSHAKE, WAIT, LINGER: the loop brings news */
			return;
		}
	}
	if (!c->dead)
		c->need_step = 1;
}

static void conn_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	struct conn *c = ctx;
	struct httpsrv *s = c->s;

	(void)l;
	(void)id;
	(void)fd;
	enter(s);
	if (s->notify && !s->notify_timer)
		deliver(s); /* the timer could not be had */
	if (revents & POLLNVAL) {
		conn_close(c, HTTPSRV_END_GONE);
		leave(s);
		return;
	}
	c->need_step = 0;
#if MLS_HAVE_TLS
	if (c->tls) {
		if (tls_io(c) == 0)
			step(c);
		if (!c->dead) {
			/* what the handler queued; it may bring the client's next
			 * request in too (it sent it as soon as it had our
			 * answer): step() must see it, or the connection waits
			 * for input that has already come */
			size_t before = c->inlen;
			if (tls_io(c) == 0 && c->inlen != before)
				c->need_step = 1;
		}
	} else
#endif
	{
		if (pending(c) && plain_send(c) < 0)
			goto out;
		if (reads(c) && (revents & (POLLIN | POLLHUP | POLLERR)) &&
				plain_recv(c) < 0)
			goto out;
		step(c);
	}
out:
	update(c);
	leave(s);
}

/* --------------------------------------------------------------- accept */

static void resume_cb(struct loop *l, int64_t id, void *ctx)
{
	struct httpsrv *s = ctx;

	(void)id;
	s->resume = 0;
	for (int i = 0; i < s->nls; i++)
		loop_mod_fd(l, s->ls[i].id, POLLIN);
}

/* Out of fds or memory: accept() would fail again at once and the
 * pending connection keeps the listener readable. Pause them all. */
static void pause_accept(struct httpsrv *s)
{
	if (s->resume)
		return;
	s->resume = loop_timer_at(s->l, loop_now_ms() + HTTPSRV_ACCEPT_PAUSE_MS,
		resume_cb, s);
	if (s->resume < 0) {
		s->resume = 0;
		return;
	}
	for (int i = 0; i < s->nls; i++)
		loop_mod_fd(s->l, s->ls[i].id, 0);
}

static void peer_string(struct conn *c, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, c->peer, sizeof c->peer);
		c->port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, c->peer,
				sizeof c->peer);
		else
			inet_ntop(AF_INET6, &a->sin6_addr, c->peer, sizeof c->peer);
		c->port = ntohs(a->sin6_port);
	} else {
		strcpy(c->peer, "?");
	}
}

/* Past the cap: 503 on a fresh socket (one try), then close. What the
 * client sent already is read first, so the close does not reset the
 * connection under the answer. TLS clients cannot read plain text: they
 * get the close alone. */
static void refuse(struct httpsrv *s, int fd, int tls)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 24\r\n"
		"X-Content-Type-Options: nosniff\r\n"
		"Retry-After: 1\r\n"
		"Connection: close\r\n\r\n"
		"503 Service Unavailable\n";
	char junk[2048];

	s->st.refused++;
	if (!tls) {
		(void)recv(fd, junk, sizeof junk, MSG_DONTWAIT);
		(void)send(fd, msg, sizeof msg - 1, SEND_FLAGS);
		shutdown(fd, SHUT_WR);
	}
	close(fd);
}

#if MLS_HAVE_TLS
static const uint16_t suites_ec[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
};
static const uint16_t suites_rsa[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

/* A server context for one connection: narrower than
 * br_ssl_server_init_full_*() (which links every suite, hash and cipher):
 * TLS 1.2, ECDHE with GCM or ChaCha20-Poly1305, i31/m31 code. */
static int tls_setup(struct httpsrv *s, struct conn *c)
{
	const struct httpsrv_tls *k = &s->tlscfg;
	br_ssl_engine_context *eng;

	c->t = malloc(sizeof *c->t);
	if (!c->t)
		return -1;
	br_ssl_server_zero(&c->t->sc);
	eng = &c->t->sc.eng;
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_ec(eng, &br_ec_all_m31);
	if (k->key_type == BR_KEYTYPE_EC) {
		br_ssl_engine_set_suites(eng, suites_ec,
			sizeof suites_ec / sizeof *suites_ec);
		br_ssl_server_set_single_ec(&c->t->sc, k->chain, k->chain_len,
			k->ec, BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, &br_ec_all_m31,
			br_ecdsa_i31_sign_asn1);
	} else {
		br_ssl_engine_set_suites(eng, suites_rsa,
			sizeof suites_rsa / sizeof *suites_rsa);
		br_ssl_server_set_single_rsa(&c->t->sc, k->chain, k->chain_len,
			k->rsa, BR_KEYTYPE_SIGN, br_rsa_i31_private,
			br_rsa_i31_pkcs1_sign);
	}
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_buffer(eng, c->t->buf, sizeof c->t->buf, 1);
	if (!br_ssl_server_reset(&c->t->sc)) {
		free(c->t);
		c->t = NULL;
		errno = EPROTO;
		return -1;
	}
	return 0;
}
#endif

static void conn_new(struct httpsrv *s, int fd, int tls,
	const struct sockaddr_storage *ss)
{
	struct conn *c = calloc(1, sizeof *c);
	int slot = -1;

	for (int k = 0; k < (1 << SLOT_BITS); k++) {
		int i = (s->slot_hint + k) & ((1 << SLOT_BITS) - 1);
		if (!s->slots[i]) {
			slot = i;
			break;
		}
	}
	if (!c || slot < 0)
		goto fail;
	c->s = s;
	c->fd = fd;
	c->slot = slot;
	c->tls = (unsigned char)tls;
	c->minor = 1;
	peer_string(c, ss);
#if MLS_HAVE_TLS
	if (tls && tls_setup(s, c) < 0)
		goto fail;
#endif
	c->events = POLLIN;
	c->id = loop_add_fd(s->l, fd, POLLIN, conn_cb, c);
	if (c->id < 0)
		goto fail;
	c->st = tls ? C_HANDSHAKE : C_READ;
	c->dl = tls ? DL_HANDSHAKE : DL_HEADER;
	c->deadline = loop_now_ms() + (tls ? s->cfg.handshake_timeout_ms :
		s->cfg.header_timeout_ms);
	if (arm(c, c->deadline) < 0) {
		loop_del_fd(s->l, c->id);
		goto fail;
	}
	s->slots[slot] = c;
	s->slot_hint = slot + 1;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->st.open++;
	if (tls)
		s->st.open_tls++;
	return;

fail:
	if (c) {
#if MLS_HAVE_TLS
		free(c->t);
#endif
		free(c);
	}
	close(fd);
}

static void listen_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	struct httpsrv *s = ctx;
	int tls = 0;

	(void)l;
	for (int i = 0; i < s->nls; i++)
		if (s->ls[i].id == id)
			tls = s->ls[i].tls;
	if (revents & (POLLNVAL | POLLERR)) {
		pause_accept(s);
		return;
	}
	enter(s);
	for (int i = 0; i < ACCEPT_BATCH && !s->closed; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl,
			SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (!would_block(errno))
				pause_accept(s); /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
			break;
		}
		s->st.accepted++;
		/* answers leave in several send()s (TLS records, SSE events):
		 * without it each after the first waits for the client's
		 * delayed ACK, ~40 ms (measured: 1.1k -> 11k TLS req/s) */
		int one = 1;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (s->st.open >= s->cfg.max_connections ||
				(tls && s->st.open_tls >= HTTPSRV_MAX_TLS_CONNS))
			refuse(s, cfd, tls);
		else
			conn_new(s, cfd, tls, &ss);
	}
	leave(s);
}

/* ---------------------------------------------------------------- setup */

struct httpsrv *httpsrv_new(struct loop *l, const struct httpsrv_config *cfg,
	httpsrv_handler *h, httpsrv_close_cb *onclose, void *ctx)
{
	struct httpsrv *s;

	if (!l || !h) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	if (cfg)
		s->cfg = *cfg;
#define DEF(f, v) if (s->cfg.f <= 0) s->cfg.f = (v)
	DEF(max_connections, HTTPSRV_DEFAULT_MAX_CONNS);
	DEF(header_timeout_ms, HTTPSRV_HEADER_TIMEOUT_MS);
	DEF(idle_timeout_ms, HTTPSRV_IDLE_TIMEOUT_MS);
	DEF(body_timeout_ms, HTTPSRV_BODY_TIMEOUT_MS);
	DEF(handshake_timeout_ms, HTTPSRV_HANDSHAKE_TIMEOUT_MS);
#undef DEF
	if (s->cfg.max_connections > HTTPSRV_HARD_MAX_CONNS)
		s->cfg.max_connections = HTTPSRV_HARD_MAX_CONNS;
	if (s->cfg.max_out == 0 || s->cfg.max_out > HTTPSRV_MAX_OUT)
		s->cfg.max_out = HTTPSRV_MAX_OUT;
	s->l = l;
	s->h = h;
	s->onclose = onclose;
	s->ctx = ctx;
	return s;
}

int httpsrv_set_tls(struct httpsrv *s, const struct httpsrv_tls *t)
{
#if MLS_HAVE_TLS
	if (!s || !t || !t->chain || !t->chain_len ||
			(t->key_type == BR_KEYTYPE_EC ? !t->ec :
			 t->key_type == BR_KEYTYPE_RSA ? !t->rsa : 1)) {
		errno = EINVAL;
		return -1;
	}
	s->tlscfg = *t;
	s->has_tls = 1;
	return 0;
#else
	(void)s;
	(void)t;
	errno = ENOTSUP;
	return -1;
#endif
}

/* "HOST:PORT" into ss; 0 or -1 */
static int parse_addr(const char *addr, struct sockaddr_storage *ss,
	socklen_t *sl)
{
	char host[64];
	const char *colon, *p;
	unsigned long port = 0;
	size_t hl;

	memset(ss, 0, sizeof *ss);
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - addr - 1);
		colon = rb + 1;
		if (hl >= sizeof host)
			return -1;
		memcpy(host, addr + 1, hl);
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - addr);
		if (hl >= sizeof host || memchr(addr, ':', hl))
			return -1;
		memcpy(host, addr, hl);
	}
	host[hl] = '\0';
	p = colon + 1;
	if (!*p || strlen(p) > 5)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535)
		return -1;
	if (addr[0] == '[') {
		struct sockaddr_in6 *a = (void *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		*sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (void *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		else if (!*host || !strcmp(host, "*"))
			strcpy(host, "0.0.0.0");
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*sl = sizeof *a;
	}
	return 0;
}

int httpsrv_listen(struct httpsrv *s, const char *addr, int tls, char *err,
	size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct listener *L;
	int fd, one = 1, e;

	if (err && errlen)
		err[0] = '\0';
	if (!s || s->closed || !addr) {
		errno = EINVAL;
		return -1;
	}
	if (parse_addr(addr, &ss, &sl) < 0) {
		if (err)
			snprintf(err, errlen, "bad address '%s': expected HOST:PORT "
				"with a numeric host ([::1]:PORT for IPv6)", addr);
		errno = EINVAL;
		return -1;
	}
	if (tls && !s->has_tls) {
		if (err)
			snprintf(err, errlen, "cannot listen on %s: %s", addr,
				MLS_HAVE_TLS ? "no TLS certificate and key set" :
				"built without TLS");
		errno = MLS_HAVE_TLS ? EINVAL : ENOTSUP;
		return -1;
	}
	if (s->nls == HTTPSRV_MAX_LISTENERS) {
		errno = ENOSPC;
		goto fail_msg;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail_msg;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
			(ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
				IPV6_V6ONLY, &one, sizeof one) < 0) ||
			bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
			listen(fd, BACKLOG) < 0)
		goto fail_close;
	L = &s->ls[s->nls];
	L->fd = fd;
	L->tls = tls;
	L->port = -1;
	sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		L->port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	L->id = loop_add_fd(s->l, fd, s->resume ? 0 : POLLIN, listen_cb, s);
	if (L->id < 0)
		goto fail_close;
	return s->nls++;

fail_close:
	e = errno;
	close(fd);
	errno = e;
fail_msg:
	if (err)
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
			strerror(errno));
	return -1;
}

int httpsrv_port(const struct httpsrv *s, int index)
{
	if (!s || index < 0 || index >= s->nls)
		return -1;
	return s->ls[index].port;
}

/* -------------------------------------------------------------- answers */

/* The connection with outstanding request id in state st, or NULL */
static struct conn *lookup(const struct httpsrv *s, uint64_t id, int st)
{
	struct conn *c;

	if (!s || s->closed || !id)
		return NULL;
	c = s->slots[id & ((1u << SLOT_BITS) - 1)];
	if (!c || c->dead || c->req != id || c->st != st)
		return NULL;
	return c;
}

/* Sends what the socket takes now and makes the loop come back for the
 * rest and for the next step */
static void kick(struct conn *c)
{
	c->need_step = 1;
	if (flush(c) == 0)
		update(c);
}

int httpsrv_respond(struct httpsrv *s, uint64_t id,
	const struct httpsrv_resp *r)
{
	struct conn *c = lookup(s, id, C_WAIT);
	char head[HEAD_MAX];
	int hn, nobody;
	unsigned char keep;
	size_t blen;

	if (!c) {
		errno = ESRCH;
		return -1;
	}
	if (!r || r->status < 200 || r->status > 599 ||
			(r->body_len && !r->body) ||
			(r->content_type && bad_text(r->content_type)) ||
			check_headers(r->headers) < 0) {
		errno = EINVAL;
		return -1;
	}
	nobody = r->status == 204 || r->status == 304;
	blen = nobody || c->head ? 0 : r->body_len;
	keep = c->keep;
	if (r->close)
		c->keep = 0;
	hn = build_head(c, head, r->status, r->content_type, !nobody,
		nobody ? 0 : r->body_len, r->headers);
	if (hn < 0 || (size_t)hn + blen > HTTPSRV_MAX_RESPONSE) {
		c->keep = keep; /* still outstanding, as it was */
		errno = EMSGSIZE;
		return -1;
	}
	if (out_append(c, head, (size_t)hn, HTTPSRV_MAX_RESPONSE) < 0) {
		c->keep = keep;
		return -1;
	}
	if (blen && out_append(c, r->body, blen, HTTPSRV_MAX_RESPONSE) < 0) {
		c->outlen -= (size_t)hn; /* back out the head */
		c->keep = keep;
		return -1;
	}
	enter(s);
	c->req = 0;
	c->st = C_SENT;
	kick(c);
	leave(s);
	return 0;
}

int httpsrv_stream_begin(struct httpsrv *s, uint64_t id, const char *headers)
{
	struct conn *c = lookup(s, id, C_WAIT);
	char head[HEAD_MAX];
	int hn;

	if (!c) {
		errno = ESRCH;
		return -1;
	}
	if (check_headers(headers) < 0) {
		errno = EINVAL;
		return -1;
	}
	c->keep = 0;
	hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n"
		"Content-Type: text/event-stream\r\n"
		"Cache-Control: no-store\r\n"
		"X-Content-Type-Options: nosniff\r\n"
		"Connection: close\r\n%s\r\n", headers ? headers : "");
	if (hn < 0 || hn >= (int)sizeof head) {
		errno = EINVAL;
		return -1;
	}
	if (out_append(c, head, (size_t)hn, s->cfg.max_out) < 0)
		return -1;
	enter(s);
	c->st = C_STREAM;
	/* input after the request is dropped from now on */
	free(c->in);
	c->in = NULL;
	c->inlen = c->incap = 0;
	kick(c);
	leave(s);
	return 0;
}

int httpsrv_stream_write(struct httpsrv *s, uint64_t id, const void *buf,
	size_t len)
{
	struct conn *c = lookup(s, id, C_STREAM);
	int rc = 0;

	if (!c) {
		errno = ESRCH;
		return -1;
	}
	if (c->head || len == 0)
		return 0;
	if (!buf) {
		errno = EINVAL;
		return -1;
	}
	enter(s);
	if (out_append(c, buf, len, s->cfg.max_out) < 0) {
		int e = errno;
		if (e == ENOBUFS)
			s->st.dropped_slow++;
		conn_close(c, e == ENOBUFS ? HTTPSRV_END_SLOW : HTTPSRV_END_GONE);
		errno = e;
		rc = -1;
	} else if (flush(c) == 0) {
		update(c);
	}
	leave(s);
	return rc;
}

int httpsrv_stream_end(struct httpsrv *s, uint64_t id)
{
	struct conn *c = lookup(s, id, C_STREAM);

	if (!c) {
		errno = ESRCH;
		return -1;
	}
	enter(s);
	c->req = 0;
	c->st = C_CLOSING;
	kick(c);
	leave(s);
	return 0;
}

const char *httpsrv_peer(const struct httpsrv *s, uint64_t id)
{
	struct conn *c = NULL;

	if (s && !s->closed && id)
		c = s->slots[id & ((1u << SLOT_BITS) - 1)];
	if (!c || c->dead || c->req != id) {
		errno = ESRCH;
		return NULL;
	}
	return c->peer;
}

void httpsrv_get_stats(const struct httpsrv *s, struct httpsrv_stats *st)
{
	if (!st)
		return;
	if (!s) {
		memset(st, 0, sizeof *st);
		return;
	}
	*st = s->st;
}

/* ---------------------------------------------------------------- close */

void httpsrv_close(struct httpsrv *s)
{
	if (!s || s->closed)
		return;
	enter(s);
	s->closed = 1;
	for (int i = 0; i < s->nls; i++)
		loop_close_fd(s->l, s->ls[i].id);
	s->nls = 0;
	if (s->resume)
		loop_timer_cancel(s->l, s->resume);
	s->resume = 0;
	while (s->conns)
		conn_close(s->conns, HTTPSRV_END_SHUTDOWN);
	if (s->notify_timer)
		loop_timer_cancel(s->l, s->notify_timer);
	s->notify_timer = 0;
	deliver(s);
	leave(s); /* frees s unless an entry point is running */
}
