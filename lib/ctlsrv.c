/* ctlsrv.c: the control socket server. The API and the abuse rules are in
 * ctlsrv.h; the protocol in docs/protocol.md.
 *
 * Layout
 *  - Each connection is on one of two lists: s->conns (request/reply) or
 *    s->subs (stream mode), so a broadcast walks only the subscribers.
 *  - Input: one recv() of at most PROTO_MAX_LINE bytes per callback into a
 *    stack buffer; complete lines are handled from there. Only what is
 *    left over (a partial line, or lines held back by backpressure) is
 *    copied into c->in, a PROTO_MAX_LINE buffer freed again once empty.
 *  - Output: a reply is sent at once when nothing is queued (no copy, no
 *    allocation in the common case); what the socket does not take goes to
 *    c->out, which grows by doubling up to PROTO_MAX_OUT and is freed when
 *    drained. An idle connection thus holds only struct ctlconn, its loop
 *    entry and its timer.
 *  - Idle timeout: c->deadline is moved on each complete request (and on
 *    each write that makes progress, so a client reading a big reply is
 *    not idle); the loop timer is not moved with it but re-armed lazily
 *    when it fires early, so a busy connection costs no heap work.
 *  - Permission: read from SO_PEERCRED through the authz callback once,
 *    in conn_new(), and kept in c->perm; adopted connections get theirs
 *    from ctlsrv_adopt(). Nothing here checks it: the handler does.
 *  - Lifetime: the handler may close a connection or the whole server
 *    (ctlsrv_close) while we still stand in that connection's callback.
 *    Every entry point counts itself in s->depth; a close at depth > 0
 *    unregisters at once (loop_close_fd defers the close() itself) but
 *    frees only when the outermost entry point returns (reap()).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, struct ucred; the Makefile sets it too */
#endif

#include "ctlsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define XSTR(x) STR(x)
#define STR(x) #x

#define ERR_LONG "{\"ok\":false,\"error\":\"request too long (max " \
	XSTR(PROTO_MAX_LINE) " bytes)\"}\n"
#define ERR_BINARY "{\"ok\":false,\"error\":\"binary data in request\"}\n"
#define ERR_WORDS "{\"ok\":false,\"error\":\"too many words (max " \
	XSTR(PROTO_MAX_WORDS) ")\"}\n"
#define ERR_CLIENTS "{\"ok\":false,\"error\":\"too many connections\"}\n"

#define BACKLOG PROTO_MAX_CLIENTS
#define ACCEPT_BATCH 32     /* accepts per listener callback (fairness) */
#define ACCEPT_PAUSE_MS 100 /* listener pause after EMFILE and the like */
#define SEND_BATCH 4        /* send() calls per flush */
#define OUT_START 256       /* first out queue allocation */
#define SEND_FLAGS (MSG_NOSIGNAL | MSG_DONTWAIT)

struct ctlconn {
	struct ctlsrv *s;
	struct ctlconn *prev, *next; /* s->conns or s->subs; next: zombies */
	int fd;
	int events;          /* what the loop entry waits for now */
	int64_t id;          /* loop entry */
	int64_t timer;       /* idle timer id; 0 = none (stream mode) */
	int64_t timer_at;    /* its deadline */
	int64_t deadline;    /* idle close time */
	char *in;            /* PROTO_MAX_LINE bytes, or NULL when inlen 0 */
	size_t inlen;
	char *out;           /* queue: out[outoff..outlen) is unsent */
	size_t outoff, outlen, outcap;
	char *topic;         /* stream mode: the subscribed topic */
	proto_perm perm;     /* mutating requests it may make (proto.h) */
	unsigned char noidle; /* adopted: never idle-closed */
	unsigned char dead;  /* closed, waiting for reap() */
	unsigned char eof;   /* the client closed its side: close once drained */
};

struct ctlsrv {
	struct loop *l;
	ctlsrv_handler *h;
	void *ctx;
	ctlsrv_authz *authz; /* NULL: every accepted connection is read-only */
	void *authz_ctx;
	int fd;
	int64_t id;          /* listener entry */
	int64_t resume;      /* timer ending an accept pause; 0 = none */
	char *path;
	dev_t dev;           /* of the socket file we made, so close */
	ino_t ino;           /* unlinks only that one */
	struct ctlconn *conns, *subs, *zombies;
	int nconns, nsubs;
	int depth;           /* entry points on the stack */
	int idle_ms;
	unsigned char closed;
};

static void conn_close(struct ctlconn *c);
static void conn_take(struct ctlconn *c, char *buf, size_t len, int from_in);

/* ------------------------------------------------------------- lifetime */

static void enter(struct ctlsrv *s)
{
	s->depth++;
}

static void conn_free(struct ctlconn *c)
{
	free(c->in);
	free(c->out);
	free(c->topic);
	free(c);
}

static void srv_free(struct ctlsrv *s)
{
	free(s->path);
	free(s);
}

/* Frees what was closed while entry points were running */
static void reap(struct ctlsrv *s)
{
	while (s->zombies) {
		struct ctlconn *c = s->zombies;
		s->zombies = c->next;
		conn_free(c);
	}
	if (s->closed)
		srv_free(s);
}

/* The last thing an entry point does: s may be gone afterwards */
static void leave(struct ctlsrv *s)
{
	if (--s->depth == 0)
		reap(s);
}

/* ----------------------------------------------------------------- lists */

static struct ctlconn **list_of(struct ctlconn *c)
{
	return c->topic ? &c->s->subs : &c->s->conns;
}

static void list_add(struct ctlconn **head, struct ctlconn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void list_del(struct ctlconn **head, struct ctlconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* ------------------------------------------------------------ idle timer */

static void idle_cb(struct loop *l, int64_t id, void *ctx);

static int arm(struct ctlconn *c, int64_t at)
{
	c->timer = loop_timer_at(c->s->l, at, idle_cb, c);
	if (c->timer < 0) {
		c->timer = 0;
		return -1;
	}
	c->timer_at = at;
	return 0;
}

static void disarm(struct ctlconn *c)
{
	if (c->timer)
		loop_timer_cancel(c->s->l, c->timer);
	c->timer = 0;
}

/* Activity: the idle deadline moves on. The timer is re-armed only if it
 * would fire too late (the timeout was shortened); otherwise idle_cb
 * re-arms it when it fires early. Never closes (callers go on using c):
 * if no new timer can be had, the old one stays. */
static void touch(struct ctlconn *c)
{
	int64_t old = c->timer;

	if (c->topic || c->noidle)
		return;
	c->deadline = loop_now_ms() + c->s->idle_ms;
	if (old && c->deadline < c->timer_at) {
		int64_t old_at = c->timer_at;
		if (arm(c, c->deadline) == 0) {
			loop_timer_cancel(c->s->l, old);
		} else {
			c->timer = old;
			c->timer_at = old_at;
		}
	}
}

static void idle_cb(struct loop *l, int64_t id, void *ctx)
{
	struct ctlconn *c = ctx;
	struct ctlsrv *s = c->s;

	(void)l;
	(void)id;
	c->timer = 0; /* already removed by the loop */
	enter(s);
	if (loop_now_ms() >= c->deadline || arm(c, c->deadline) < 0)
		conn_close(c);
	leave(s);
}

/* --------------------------------------------------------------- output */

static int queued(const struct ctlconn *c)
{
	return c->outoff < c->outlen;
}

/* What the loop should wait for: writability while a reply is queued
 * (and then not input: backpressure), else input */
static void update_events(struct ctlconn *c)
{
	int ev;

	if (c->dead)
		return;
	ev = queued(c) ? POLLOUT : POLLIN;
	if (ev != c->events && loop_mod_fd(c->s->l, c->id, ev) == 0)
		c->events = ev;
}

static int would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* Sends buf[0..len) and a newline if nl; returns bytes sent (0 if the
 * socket is full) or -1 on a real error */
static ssize_t send_line(int fd, const char *buf, size_t len, int nl)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)buf, .iov_len = len },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = nl ? 2 : 1 };
	ssize_t n = sendmsg(fd, &m, SEND_FLAGS);

	if (n < 0 && would_block(errno))
		return 0;
	return n;
}

/* Makes room for `need` more bytes in the queue; -1 past PROTO_MAX_OUT
 * or without memory */
static int out_reserve(struct ctlconn *c, size_t need)
{
	size_t pending = c->outlen - c->outoff;
	size_t cap;
	char *p;

	if (need > PROTO_MAX_OUT - pending)
		return -1;
	if (c->outcap - c->outlen >= need)
		return 0;
	if (c->outoff) {
		memmove(c->out, c->out + c->outoff, pending);
		c->outoff = 0;
		c->outlen = pending;
		if (c->outcap - c->outlen >= need)
			return 0;
	}
	cap = c->outcap ? c->outcap : OUT_START;
	while (cap < pending + need)
		cap *= 2;
	if (cap > PROTO_MAX_OUT)
		cap = PROTO_MAX_OUT;
	p = realloc(c->out, cap);
	if (!p)
		return -1;
	c->out = p;
	c->outcap = cap;
	return 0;
}

/* Sends what is queued, as much as the socket takes; frees the queue once
 * empty. Returns -1 if the connection was closed. */
static int flush(struct ctlconn *c)
{
	for (int i = 0; i < SEND_BATCH && queued(c); i++) {
		ssize_t n = send(c->fd, c->out + c->outoff,
			c->outlen - c->outoff, SEND_FLAGS);
		if (n < 0) {
			if (would_block(errno))
				break;
			conn_close(c);
			return -1;
		}
		c->outoff += (size_t)n;
		touch(c);
	}
	if (!queued(c)) {
		free(c->out);
		c->out = NULL;
		c->outoff = c->outlen = c->outcap = 0;
	}
	return 0;
}

/* ctlsrv_reply() without the entry point bookkeeping */
static int reply(struct ctlconn *c, const char *buf, size_t len)
{
	int nl = len == 0 || buf[len - 1] != '\n';
	size_t sent = 0;

	if (c->dead || c->s->closed) {
		errno = EPIPE;
		return -1;
	}
	if (!queued(c)) {
		/* the common case: straight to the socket, no copy */
		ssize_t n = send_line(c->fd, buf, len, nl);
		if (n < 0) {
			conn_close(c);
			return -1;
		}
		sent = (size_t)n;
		if (sent == len + (size_t)nl)
			return 0;
	}
	if (out_reserve(c, len + (size_t)nl - sent) < 0) {
		conn_close(c);
		errno = ENOBUFS;
		return -1;
	}
	if (sent < len) {
		memcpy(c->out + c->outlen, buf + sent, len - sent);
		c->outlen += len - sent;
	}
	if (nl)
		c->out[c->outlen++] = '\n';
	update_events(c);
	return 0;
}

/* An error that ends the connection: one attempt to send it, then close
 * without waiting (the queue is empty here: input is read only then) */
static void fail(struct ctlconn *c, const char *msg)
{
	if (reply(c, msg, strlen(msg)) == 0)
		conn_close(c);
}

/* ---------------------------------------------------------------- close */

static void conn_close(struct ctlconn *c)
{
	struct ctlsrv *s = c->s;

	if (c->dead)
		return;
	c->dead = 1;
	list_del(list_of(c), c);
	s->nconns--;
	if (c->topic)
		s->nsubs--;
	disarm(c);
	/* deferred during dispatch: the fd number stays ours for the round */
	loop_close_fd(s->l, c->id);
	if (s->depth > 0) {
		c->next = s->zombies;
		s->zombies = c;
	} else {
		conn_free(c);
	}
}

/* ----------------------------------------------------------------- input */

/* May the connection's next request be handled now? */
static int can_take(const struct ctlconn *c)
{
	return !c->dead && !c->s->closed && !c->topic && !queued(c);
}

/* One complete line (newline cut off, NUL-terminated in its place) */
static void request(struct ctlconn *c, char *line, size_t len)
{
	char *argv[PROTO_MAX_WORDS + 1];
	int argc = 0;
	struct ctlsrv *s = c->s;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch < 0x20 && ch != '\t' && ch != '\r') {
			fail(c, ERR_BINARY);
			return;
		}
	}
	/* blanks: space, tab, and CR (so "\r\n" ends a line) */
	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == PROTO_MAX_WORDS) {
			touch(c);
			reply(c, ERR_WORDS, sizeof ERR_WORDS - 1);
			return;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
	if (argc == 0)
		return; /* an empty line is no request */
	argv[argc] = NULL;
	touch(c);
	s->h(s, c, argc, argv, s->ctx);
}

/* Handles the complete lines at the start of buf[0..len) while the
 * connection may take them; returns the bytes used up */
static size_t take_lines(struct ctlconn *c, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len && can_take(c)) {
		char *p = buf + done;
		size_t n = len - done;
		char *nl = memchr(p, '\n', n < PROTO_MAX_LINE ? n : PROTO_MAX_LINE);

		if (!nl) {
			if (n >= PROTO_MAX_LINE)
				fail(c, ERR_LONG);
			break; /* a partial line: wait for the rest */
		}
		*nl = '\0';
		done += (size_t)(nl - p) + 1;
		request(c, p, (size_t)(nl - p));
		/* a reply the socket did not take stops us (backpressure):
		 * send what we can now so in-order pipelining goes on */
		if (!c->dead && queued(c) && flush(c) < 0)
			break;
	}
	return done;
}

/* Handles lines in buf (the stack buffer, or c->in itself if from_in) and
 * keeps the rest in c->in */
static void conn_take(struct ctlconn *c, char *buf, size_t len, int from_in)
{
	size_t done = take_lines(c, buf, len);
	size_t rest = len - done;

	if (c->dead)
		return; /* reap() frees c->in: argv may have pointed there */
	if (c->topic)
		rest = 0; /* stream mode: what follows is ignored */
	if (rest && !from_in) {
		c->in = malloc(PROTO_MAX_LINE);
		if (!c->in) {
			conn_close(c);
			return;
		}
		memcpy(c->in, buf + done, rest);
	} else if (rest && done) {
		memmove(c->in, c->in + done, rest);
	}
	c->inlen = rest;
	if (!rest) {
		free(c->in);
		c->in = NULL;
	}
}

/* The partial line left at EOF, as a request */
static void take_last(struct ctlconn *c)
{
	size_t len = c->inlen;
	char *line = c->in;
	c->inlen = 0;
	request(c, line, len);
	if (!c->dead) {
		free(c->in);
		c->in = NULL;
	}
}

static void on_readable(struct ctlconn *c)
{
	char buf[PROTO_MAX_LINE];
	char *dst = buf;
	size_t room = sizeof buf;
	ssize_t n;

	/* stream mode reads into buf only to see EOF, and drops it */
	if (c->in && !c->topic) {
		dst = c->in + c->inlen;
		room = PROTO_MAX_LINE - c->inlen;
		if (room == 0) { /* cannot be: a full c->in was refused */
			fail(c, ERR_LONG);
			return;
		}
	}
	n = recv(c->fd, dst, room, 0);
	if (n < 0 && would_block(errno))
		return;
	if (n == 0 && c->inlen && !c->topic) {
		/* EOF after a last line without its newline (`printf status |
		 * nc -N -U`): that line is a request too; close once its reply
		 * is sent */
		c->in[c->inlen] = '\0';
		c->eof = 1;
		take_last(c);
		if (!c->dead && !queued(c))
			conn_close(c);
		return;
	}
	if (n <= 0) {
		conn_close(c); /* EOF or error */
		return;
	}
	if (c->topic)
		return;
	if (dst != buf) {
		c->inlen += (size_t)n;
		conn_take(c, c->in, c->inlen, 1);
	} else {
		conn_take(c, buf, (size_t)n, 0);
	}
}

static void on_writable(struct ctlconn *c)
{
	if (flush(c) < 0 || queued(c))
		return;
	if (c->eof) {
		conn_close(c);
		return;
	}
	/* drained: requests held back by backpressure come now */
	if (c->inlen)
		conn_take(c, c->in, c->inlen, 1);
}

static void conn_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	struct ctlconn *c = ctx;
	struct ctlsrv *s = c->s;

	(void)l;
	(void)id;
	(void)fd;
	enter(s);
	if (revents & POLLNVAL)
		conn_close(c);
	else if (c->events & POLLOUT)
		on_writable(c); /* POLLHUP/POLLERR: send() fails, we close */
	else
		on_readable(c); /* POLLHUP/POLLERR: recv() says so */
	update_events(c);
	leave(s);
}

/* --------------------------------------------------------------- accept */

static void resume_cb(struct loop *l, int64_t id, void *ctx)
{
	struct ctlsrv *s = ctx;

	(void)id;
	s->resume = 0;
	loop_mod_fd(l, s->id, POLLIN);
}

/* Out of fds or memory: accept() would fail again at once, and the
 * pending connection keeps the listener readable, so polling it now would
 * spin. Stop listening for a while instead. */
static void pause_accept(struct ctlsrv *s)
{
	if (s->resume)
		return;
	s->resume = loop_timer_at(s->l, loop_now_ms() + ACCEPT_PAUSE_MS,
		resume_cb, s);
	if (s->resume < 0) {
		s->resume = 0;
		return; /* cannot pause: keep polling rather than go deaf */
	}
	loop_mod_fd(s->l, s->id, 0);
}

/* A connection on fd (registered, listed, counted), or NULL with errno
 * and fd untouched (not closed, not registered) */
static struct ctlconn *conn_add(struct ctlsrv *s, int fd, proto_perm perm,
	int idle)
{
	struct ctlconn *c = calloc(1, sizeof *c);

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->s = s;
	c->fd = fd;
	c->perm = perm;
	c->noidle = !idle;
	c->events = POLLIN;
	c->deadline = loop_now_ms() + s->idle_ms;
	c->id = loop_add_fd(s->l, fd, POLLIN, conn_cb, c);
	if (c->id < 0) {
		free(c);
		return NULL;
	}
	if (idle && arm(c, c->deadline) < 0) {
		int err = errno;
		loop_del_fd(s->l, c->id);
		free(c);
		errno = err;
		return NULL;
	}
	list_add(&s->conns, c);
	s->nconns++;
	return c;
}

/* What the authz callback grants the peer; read-only without one */
static proto_perm peer_perm(struct ctlsrv *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (!s->authz ||
			getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return PROTO_PERM_NONE;
	return s->authz(cr.pid, cr.uid, cr.gid, s->authz_ctx);
}

/* A freshly accepted fd: a connection, or refused and closed */
static void conn_new(struct ctlsrv *s, int fd)
{
	if (s->nconns >= PROTO_MAX_CLIENTS) {
		/* a fresh socket buffer takes the line; if not, too bad */
		(void)send(fd, ERR_CLIENTS, sizeof ERR_CLIENTS - 1, SEND_FLAGS);
		close(fd);
		return;
	}
	if (!conn_add(s, fd, peer_perm(s, fd), 1))
		close(fd);
}

static void listen_cb(struct loop *l, int64_t id, int fd, int revents,
	void *ctx)
{
	struct ctlsrv *s = ctx;

	(void)l;
	(void)id;
	if (revents & (POLLNVAL | POLLERR)) {
		pause_accept(s);
		return;
	}
	enter(s);
	for (int i = 0; i < ACCEPT_BATCH && !s->closed; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd >= 0) {
			conn_new(s, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue; /* that one is gone; others may wait */
		if (!would_block(errno))
			pause_accept(s); /* EMFILE, ENFILE, ENOBUFS, ENOMEM... */
		break;
	}
	leave(s);
}

/* ---------------------------------------------------------------- open */

/* A socket file at path: is a supervisor answering? 0 = no (removed),
 * -1 with errno (EADDRINUSE: yes) */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc, err;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST; /* not ours to remove */
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* non-blocking: a live server with a full backlog says EAGAIN
	 * instead of keeping us waiting */
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
		errno = EADDRINUSE;
		return -1;
	}
	if (err == ENOENT)
		return 0;
	if (err != ECONNREFUSED) {
		errno = err;
		return -1;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* socket, bind (0600 from the start), group, listen; the fd or -1 */
static int make_listener(struct ctlsrv *s, const struct sockaddr_un *sa,
	long long gid)
{
	struct stat st;
	mode_t old;
	int fd, rc, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* the umask makes bind() create it 0600: no moment where others
	 * could connect */
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)sa, sizeof *sa);
	umask(old);
	if (rc < 0)
		goto fail_close;
	if (gid >= 0 && (chown(sa->sun_path, (uid_t)-1, (gid_t)gid) < 0 ||
			chmod(sa->sun_path, 0660) < 0))
		goto fail_unlink;
	if (stat(sa->sun_path, &st) < 0 || listen(fd, BACKLOG) < 0)
		goto fail_unlink;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return fd;

fail_unlink:
	err = errno;
	unlink(sa->sun_path);
	errno = err;
fail_close:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* A server with no listener yet, or NULL (ENOMEM) */
static struct ctlsrv *srv_new(struct loop *l, const char *path,
	ctlsrv_handler *h, void *ctx)
{
	struct ctlsrv *s = calloc(1, sizeof *s);

	if (!s || !(s->path = strdup(path))) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->l = l;
	s->h = h;
	s->ctx = ctx;
	s->idle_ms = PROTO_IDLE_TIMEOUT_MS;
	return s;
}

struct ctlsrv *ctlsrv_open(struct loop *l, const char *path, long long gid,
	ctlsrv_handler *h, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctlsrv *s;
	size_t len;
	int err;

	if (!l || !path || !*path || !h) {
		errno = EINVAL;
		return NULL;
	}
	len = strlen(path);
	if (len >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, len + 1);
	if (clear_stale(&sa) < 0)
		return NULL;
	s = srv_new(l, path, h, ctx);
	if (!s)
		return NULL;
	s->fd = make_listener(s, &sa, gid);
	if (s->fd < 0)
		goto fail;
	s->id = loop_add_fd(l, s->fd, POLLIN, listen_cb, s);
	if (s->id < 0) {
		err = errno;
		close(s->fd);
		unlink(path);
		errno = err;
		goto fail;
	}
	return s;

fail:
	err = errno;
	srv_free(s);
	errno = err;
	return NULL;
}

struct ctlsrv *ctlsrv_open_fd(struct loop *l, const char *path, int fd,
	ctlsrv_handler *h, void *ctx)
{
	struct ctlsrv *s;
	struct stat st;
	int fl;

	if (!l || !path || fd < 0 || !h) {
		errno = EINVAL;
		return NULL;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
			fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return NULL;
	s = srv_new(l, path, h, ctx);
	if (!s)
		return NULL;
	s->fd = fd;
	if (stat(path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	s->id = loop_add_fd(l, fd, POLLIN, listen_cb, s);
	if (s->id < 0) {
		fl = errno;
		srv_free(s);
		errno = fl;
		return NULL;
	}
	return s;
}

int ctlsrv_listen_fd(const struct ctlsrv *s)
{
	return s && !s->closed ? s->fd : -1;
}

int ctlsrv_conn_fd(const struct ctlconn *c)
{
	return c && !c->dead ? c->fd : -1;
}

/* ---------------------------------------------------------------- close */

void ctlsrv_close(struct ctlsrv *s)
{
	struct stat st;

	if (!s || s->closed)
		return;
	enter(s);
	while (s->conns)
		conn_close(s->conns);
	while (s->subs)
		conn_close(s->subs);
	if (s->resume)
		loop_timer_cancel(s->l, s->resume);
	loop_close_fd(s->l, s->id);
	/* only our own socket file: a successor may have made a new one */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev &&
			st.st_ino == s->ino)
		unlink(s->path);
	s->closed = 1;
	leave(s); /* frees s unless an entry point is running */
}

void ctlsrv_set_authz(struct ctlsrv *s, ctlsrv_authz *fn, void *ctx)
{
	if (!s)
		return;
	s->authz = fn;
	s->authz_ctx = ctx;
}

int ctlsrv_adopt(struct ctlsrv *s, int fd, proto_perm perm)
{
	int type, fl, fdfl, err;
	socklen_t len = sizeof type;
	struct ctlconn *c;

	if (!s || s->closed || fd < 0) {
		errno = EINVAL;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -1; /* ENOTSOCK, EBADF */
	if (type != SOCK_STREAM) {
		errno = EPROTOTYPE;
		return -1;
	}
	if (s->nconns >= PROTO_MAX_CLIENTS) {
		errno = EBUSY;
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || (fdfl = fcntl(fd, F_GETFD)) < 0)
		return -1;
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
			fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
		c = NULL;
	else
		c = conn_add(s, fd, perm, 0);
	if (c)
		return 0;
	/* the fd goes back as it was given */
	err = errno;
	fcntl(fd, F_SETFL, fl);
	fcntl(fd, F_SETFD, fdfl);
	errno = err;
	return -1;
}

proto_perm ctlsrv_perm(const struct ctlconn *c)
{
	return c ? c->perm : PROTO_PERM_NONE;
}

void ctlsrv_set_idle_timeout(struct ctlsrv *s, int ms)
{
	if (s && ms > 0)
		s->idle_ms = ms;
}

/* ------------------------------------------------------------- replies */

int ctlsrv_reply_fd(struct ctlconn *c, const char *buf, size_t len, int fd)
{
	union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(int))]; } cbuf;
	struct iovec iov[2] = {
		{ .iov_base = (void *)buf, .iov_len = len },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2,
		.msg_control = cbuf.b, .msg_controllen = sizeof cbuf.b };
	struct cmsghdr *cm;
	ssize_t n;

	if (!c || !buf || !len || buf[len - 1] == '\n' || fd < 0) {
		errno = EINVAL;
		return -1;
	}
	if (c->dead || c->s->closed) {
		errno = EPIPE;
		return -1;
	}
	if (queued(c)) {
		errno = EBUSY;
		return -1;
	}
	memset(&cbuf, 0, sizeof cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	n = sendmsg(c->fd, &m, SEND_FLAGS);
	if (n < 0)
		return -1; /* EAGAIN: nothing went, the connection stays */
	if ((size_t)n < len + 1) {
		/* the fd went with the first byte; the rest is queued */
		struct ctlsrv *s = c->s;
		int rc;
		enter(s);
		rc = (size_t)n < len ? reply(c, buf + n, len - (size_t)n) : reply(c, "", 0);
		leave(s);
		return rc;
	}
	touch(c);
	return 0;
}

int ctlsrv_reply(struct ctlconn *c, const char *buf, size_t len)
{
	struct ctlsrv *s;
	int rc;

	if (!c || (!buf && len)) {
		errno = EINVAL;
		return -1;
	}
	s = c->s;
	enter(s);
	rc = reply(c, buf, len);
	leave(s);
	return rc;
}

void ctlsrv_subscribe(struct ctlconn *c, const char *topic)
{
	char *t;

	if (!c || c->dead || !topic)
		return;
	t = strdup(topic);
	if (!t) {
		conn_close(c); /* it asked for a stream it cannot get */
		return;
	}
	if (c->topic) {
		free(c->topic);
		c->topic = t;
		return;
	}
	list_del(&c->s->conns, c);
	c->topic = t;
	list_add(&c->s->subs, c);
	c->s->nsubs++;
	disarm(c); /* streams are not idle-closed */
}

void ctlsrv_broadcast(struct ctlsrv *s, const char *topic, const char *buf,
	size_t len)
{
	struct ctlconn *c, *next;

	if (!s || s->closed || s->nsubs == 0 || !topic)
		return;
	enter(s);
	for (c = s->subs; c; c = next) {
		next = c->next; /* a failed reply unlinks c, only c */
		if (strcmp(c->topic, topic) == 0)
			reply(c, buf, len);
	}
	leave(s);
}

/* ---------------------------------------------------------------- info */

int ctlsrv_nconns(const struct ctlsrv *s)
{
	return s ? s->nconns : 0;
}

int ctlsrv_nsubscribers(const struct ctlsrv *s)
{
	return s ? s->nsubs : 0;
}

int ctlsrv_peer(const struct ctlconn *c, int *pid, int *uid)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (!c || c->dead) {
		errno = EBADF;
		return -1;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -1;
	if (pid)
		*pid = (int)cr.pid;
	if (uid)
		*uid = (int)cr.uid;
	return 0;
}
