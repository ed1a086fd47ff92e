/* Unit tests for lib/httpsrv.c over real TCP sockets on 127.0.0.1
 * (ephemeral ports): keep-alive, pipelining order, asynchronous answers
 * and stale ids, HEAD, the server's refusals, 503 at max_connections,
 * slowloris 408 and the idle close with short deadlines, a streaming
 * client that does not read, and TLS with a real client (curl, or
 * openssl s_client) run by fork+exec while the loop runs here. Waits
 * are on conditions with a timeout (WAIT); alarm() is a watchdog. TAP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "httpsrv.h"
#include "loop.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 120  /* s: the whole run */
#define WAIT_MS 10000 /* longest wait for any one condition */

extern char **environ;

static struct loop *L;

/* -------------------------------------------------------------- clients */

struct client {
	int fd;
	char *buf;
	size_t len, cap;
	int eof;
	int noread; /* a client that never reads */
};

#define MAXCL 16
static struct client *clients[MAXCL];

static void cl_poll(struct client *c)
{
	while (c->fd >= 0 && !c->eof && !c->noread) {
		ssize_t n;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			c->buf = realloc(c->buf, c->cap + 1);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			c->buf[c->len] = '\0';
		} else if (n == 0 || errno == ECONNRESET) {
			c->eof = 1;
		} else {
			break;
		}
	}
}

/* one loop round, then every client reads what is there */
static void round_(void)
{
	loop_run_once(L, 10);
	for (int i = 0; i < MAXCL; i++)
		if (clients[i])
			cl_poll(clients[i]);
}

#define WAIT(expr) ({ \
	int64_t end_ = loop_now_ms() + WAIT_MS; int ok_; \
	while (!(ok_ = !!(expr)) && loop_now_ms() < end_) \
		round_(); \
	ok_; })

static int cl_open(struct client *c, int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	memset(c, 0, sizeof *c);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (rcvbuf)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < MAXCL; i++)
		if (!clients[i]) {
			clients[i] = c;
			break;
		}
	return 0;
}

static void cl_close(struct client *c)
{
	for (int i = 0; i < MAXCL; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static int cl_send(struct client *c, const char *buf, size_t len)
{
	int64_t end = loop_now_ms() + WAIT_MS;

	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN && loop_now_ms() < end) {
			round_();
		} else {
			return -1;
		}
	}
	return 0;
}

static int cl_puts(struct client *c, const char *s)
{
	return cl_send(c, s, strlen(s));
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static int nresp(const struct client *c)
{
	return c->buf ? count(c->buf, "HTTP/1.1 ") : 0;
}

/* the buffer holds n whole responses (by their Content-Length) */
static int complete(const struct client *c, int n)
{
	const char *p = c->buf;

	for (int i = 0; i < n; i++) {
		const char *e, *cl;
		size_t len = 0;
		if (!p || !(e = strstr(p, "\r\n\r\n")))
			return 0;
		cl = strstr(p, "Content-Length: ");
		if (cl && cl < e)
			len = strtoul(cl + 16, NULL, 10);
		if (strstr(p, "HEAD-MARK"))
			len = 0;
		if ((size_t)(c->buf + c->len - (e + 4)) < len)
			return 0;
		p = e + 4 + len;
	}
	return 1;
}

/* -------------------------------------------------------------- handler */

static struct {
	int calls;
	uint64_t pending;      /* /async: answered by the test */
	uint64_t stream;       /* /stream */
	int closes[8];         /* close callbacks by reason */
	uint64_t closed_id;
	char peer[64];
	char order[64];        /* paths of /n/K in call order */
} H;

static struct httpsrv *S;

static void reply(struct httpsrv *s, uint64_t id, int status, const char *body,
	const char *headers)
{
	struct httpsrv_resp r = {
		.status = status, .content_type = "text/plain", .headers = headers,
		.body = body, .body_len = strlen(body),
	};
	httpsrv_respond(s, id, &r);
}

static void handler(struct httpsrv *s, const struct httpsrv_req *r, void *ctx)
{
	const char *p = r->http->path;

	(void)ctx;
	H.calls++;
	snprintf(H.peer, sizeof H.peer, "%s", r->peer);
	if (!strcmp(p, "/hello")) {
		reply(s, r->id, 200, "hello\n", "Cache-Control: no-store\r\n");
	} else if (!strncmp(p, "/n/", 3)) {
		strncat(H.order, p + 3, sizeof H.order - strlen(H.order) - 1);
		reply(s, r->id, 200, p + 3, NULL);
	} else if (!strcmp(p, "/async")) {
		H.pending = r->id;
	} else if (!strcmp(p, "/stream")) {
		H.stream = r->id;
		httpsrv_stream_begin(s, r->id, NULL);
	} else if (!strcmp(p, "/echo")) {
		struct httpsrv_resp x = { .status = 200, .body = r->http->body,
			.body_len = r->http->content_length };
		httpsrv_respond(s, r->id, &x);
	} else if (!strcmp(p, "/head")) {
		reply(s, r->id, 200, "HEAD-MARK body", NULL);
	} else {
		reply(s, r->id, 404, "not found\n", NULL);
	}
}

static void onclose(struct httpsrv *s, uint64_t id, int why, void *ctx)
{
	(void)s;
	(void)ctx;
	if (why > 0 && why < 8)
		H.closes[why]++;
	H.closed_id = id;
}

static struct httpsrv *server(const struct httpsrv_config *cfg, int *port)
{
	char err[256];
	struct httpsrv *s = httpsrv_new(L, cfg, handler, onclose, NULL);
	int i = s ? httpsrv_listen(s, "127.0.0.1:0", 0, err, sizeof err) : -1;

	if (i < 0) {
		tap_diag("server: %s", err);
		return NULL;
	}
	*port = httpsrv_port(s, i);
	return s;
}

/* ---------------------------------------------------------------- tests */

static void test_listen_errors(void)
{
	char err[256];
	struct httpsrv *s = httpsrv_new(L, NULL, handler, NULL, NULL);
	int i, port;

	OK(httpsrv_listen(s, "1.2.3:80", 0, err, sizeof err) < 0 && errno == EINVAL &&
		strstr(err, "1.2.3:80"), "bad address named: %s", err);
	OK(httpsrv_listen(s, "example.com:80", 0, err, sizeof err) < 0, "host names refused");
	OK(httpsrv_listen(s, "127.0.0.1:99999", 0, err, sizeof err) < 0, "port out of range");
	OK(httpsrv_listen(s, "[::1]", 0, err, sizeof err) < 0, "IPv6 without port");
	i = httpsrv_listen(s, "localhost:0", 0, err, sizeof err);
	port = httpsrv_port(s, i);
	OK(i >= 0 && port > 0, "localhost:0 listens (port %d)", port);
	if (i >= 0) {
		char a[64];
		snprintf(a, sizeof a, "127.0.0.1:%d", port);
		OK(httpsrv_listen(s, a, 0, err, sizeof err) < 0 && errno == EADDRINUSE &&
			strstr(err, "cannot listen on 127.0.0.1:") , "in use: %s", err);
	}
	i = httpsrv_listen(s, "[::1]:0", 0, err, sizeof err);
	if (i < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
		tap_skip("no IPv6 loopback here");
	else
		OK(i >= 0, "[::1]:0 listens %s", err);
	OK(httpsrv_listen(s, "127.0.0.1:0", 1, err, sizeof err) < 0, "tls without credentials: %s", err);
	httpsrv_close(s);
}

static void test_basic(int port)
{
	struct client c;

	cl_open(&c, port, 0);
	cl_puts(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(complete(&c, 1)), "hello answered");
	OK(c.buf && !strncmp(c.buf, "HTTP/1.1 200 OK\r\n", 17), "status line");
	OK(c.buf && strstr(c.buf, "Content-Length: 6\r\n") && strstr(c.buf, "Content-Type: text/plain\r\n") &&
		strstr(c.buf, "X-Content-Type-Options: nosniff\r\n") &&
		strstr(c.buf, "Cache-Control: no-store\r\n") && !strstr(c.buf, "Connection:"),
		"headers");
	OK(c.buf && strstr(c.buf, "\r\n\r\nhello\n"), "body");
	OK(!strcmp(H.peer, "127.0.0.1"), "peer %s", H.peer);
	/* keep-alive: the same connection again */
	cl_puts(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(complete(&c, 2)) && !c.eof, "keep-alive: second answer on the same connection");
	/* POST with a body, in two pieces */
	cl_puts(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
	round_();
	cl_puts(&c, "56789");
	OK(WAIT(complete(&c, 3)) && strstr(c.buf, "\r\n\r\n0123456789"), "POST body echoed");
	/* HEAD: same headers, no body; the next answer follows at once */
	cl_puts(&c, "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /n/z HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(nresp(&c) == 5 && strstr(c.buf, "\r\n\r\nz")), "HEAD then GET");
	OK(strstr(c.buf, "Content-Length: 14\r\n") && !strstr(c.buf, "HEAD-MARK"), "HEAD: length of the body, no body");
	/* HTTP/1.0: closes */
	cl_puts(&c, "GET /hello HTTP/1.0\r\n\r\n");
	OK(WAIT(c.eof) && nresp(&c) == 6 && strstr(c.buf, "Connection: close\r\n"), "1.0: answered and closed");
	cl_close(&c);

	cl_open(&c, port, 0);
	cl_puts(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	OK(WAIT(complete(&c, 1)) && strstr(c.buf, "Connection: keep-alive\r\n") && !c.eof, "1.0 keep-alive kept");
	cl_puts(&c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	OK(WAIT(c.eof) && nresp(&c) == 2, "Connection: close honoured");
	cl_close(&c);
}

static void test_pipelining(int port)
{
	struct client c;
	uint64_t id;
	struct httpsrv_resp r = { .status = 200, .body = "A", .body_len = 1 };

	H.order[0] = '\0';
	cl_open(&c, port, 0);
	cl_puts(&c, "GET /n/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /n/2 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /async HTTP/1.1\r\nHost: x\r\n\r\nGET /n/3 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /n/4 HTTP/1.1\r\nHost: x\r\n\r\n");
	H.pending = 0;
	OK(WAIT(H.pending != 0), "async request reached");
	for (int i = 0; i < 20; i++)
		round_();
	OK(!strcmp(H.order, "12") && nresp(&c) == 2, "nothing after the outstanding request (%s)", H.order);
	OK(httpsrv_peer(S, H.pending) && !strcmp(httpsrv_peer(S, H.pending), "127.0.0.1"), "peer of an outstanding id");
	id = H.pending;
	OK(httpsrv_respond(S, id, &r) == 0, "async answer");
	OK(httpsrv_respond(S, id, &r) < 0 && errno == ESRCH, "answered id is stale: ESRCH");
	OK(WAIT(nresp(&c) == 5 && complete(&c, 5)), "all five answered");
	{
		const char *p1 = strstr(c.buf, "\r\n\r\n1"), *p2 = strstr(c.buf, "\r\n\r\n2"),
			*pa = strstr(c.buf, "\r\n\r\nA"), *p3 = strstr(c.buf, "\r\n\r\n3"),
			*p4 = strstr(c.buf, "\r\n\r\n4");
		OK(p1 && p2 && pa && p3 && p4 && p1 < p2 && p2 < pa && pa < p3 && p3 < p4,
			"in request order");
	}
	OK(!strcmp(H.order, "1234"), "handler order %s", H.order);

	/* the client goes away while its request is outstanding */
	H.pending = 0;
	memset(H.closes, 0, sizeof H.closes);
	cl_puts(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.pending != 0), "second async request");
	id = H.pending;
	close(c.fd); /* with SO_LINGER-less close: FIN */
	c.fd = -1;
	/* the server sees EOF only if it reads: it reads while the request is
	 * outstanding, and an EOF then means "answer, then close"; the answer
	 * to a closed socket fails and ends the connection */
	OK(httpsrv_respond(S, id, &r) == 0, "answer to a gone client accepted");
	OK(WAIT(httpsrv_peer(S, id) == NULL), "then the id is stale");
	cl_close(&c);

	/* a stale id from a closed connection: ESRCH and the close callback */
	cl_open(&c, port, 0);
	H.pending = 0;
	cl_puts(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.pending != 0), "third async request");
	id = H.pending;
	{
		struct linger lg = { 1, 0 };
		setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg); /* RST */
	}
	cl_close(&c);
	/* EOF or RST is seen when the server reads: it reads while waiting */
	OK(WAIT(H.closes[HTTPSRV_END_GONE] == 1), "close callback: gone");
	OK(H.closed_id == id, "for that id");
	OK(httpsrv_respond(S, id, &r) < 0 && errno == ESRCH, "respond after close: ESRCH");
}

static void expect_refusal(int port, const char *req, size_t len, const char *status)
{
	struct client c;

	cl_open(&c, port, 0);
	cl_send(&c, req, len);
	OK(WAIT(c.eof) && c.buf && !strncmp(c.buf, status, strlen(status)) &&
		strstr(c.buf, "Connection: close\r\n"), "refused: %s", status);
	cl_close(&c);
}

static void test_refusals(int port)
{
	char *big = malloc(HTTP_MAX_HEAD + 64);
	int n = sprintf(big, "GET / HTTP/1.1\r\nHost: x\r\nX: ");

	memset(big + n, 'a', HTTP_MAX_HEAD);
	memcpy(big + HTTP_MAX_HEAD + 10, "\r\n\r\n", 4);
	expect_refusal(port, big, HTTP_MAX_HEAD + 14, "HTTP/1.1 431 ");
	free(big);
	expect_refusal(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", 51,
		"HTTP/1.1 413 ");
	expect_refusal(port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 62,
		"HTTP/1.1 411 ");
	expect_refusal(port, "GET / HTTP/1.1\r\n\r\n", 18, "HTTP/1.1 400 ");
	expect_refusal(port, "PUT / HTTP/1.1\r\nHost: x\r\n\r\n", 27, "HTTP/1.1 405 ");
	expect_refusal(port, "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 28, "HTTP/1.1 501 ");
	{
		struct client c;
		cl_open(&c, port, 0);
		cl_puts(&c, "PUT / HTTP/1.1\r\nHost: x\r\n\r\n");
		OK(WAIT(c.eof) && strstr(c.buf, "Allow: GET, HEAD, POST\r\n") &&
			strstr(c.buf, "\r\n\r\n405 Method Not Allowed\n"), "405: Allow and a text body");
		cl_close(&c);
	}
}

static void test_max_conns(void)
{
	struct httpsrv_config cfg = { .max_connections = 2 };
	struct client a, b, c;
	struct httpsrv_stats st;
	int port;
	struct httpsrv *s = server(&cfg, &port);

	cl_open(&a, port, 0);
	cl_open(&b, port, 0);
	OK(WAIT((httpsrv_get_stats(s, &st), st.open == 2)), "two open");
	cl_open(&c, port, 0);
	OK(WAIT(c.eof), "third closed");
	OK(c.buf && !strncmp(c.buf, "HTTP/1.1 503 ", 13) && strstr(c.buf, "Retry-After: 1\r\n") &&
		strstr(c.buf, "Connection: close\r\n"), "third: 503, Retry-After, close");
	httpsrv_get_stats(s, &st);
	OK(st.refused == 1 && st.accepted == 3 && st.open == 2, "stats: refused 1 of 3");
	cl_puts(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(complete(&a, 1)), "the first two still served");
	cl_close(&a);
	cl_close(&b);
	cl_close(&c);
	OK(WAIT((httpsrv_get_stats(s, &st), st.open == 0)), "all closed");
	httpsrv_close(s);
}

static void test_deadlines(void)
{
	struct httpsrv_config cfg = { .header_timeout_ms = 300, .idle_timeout_ms = 400,
		.body_timeout_ms = 300 };
	struct client c;
	int port;
	int64_t t0;
	struct httpsrv *s = server(&cfg, &port);

	cl_open(&c, port, 0);
	t0 = loop_now_ms();
	cl_puts(&c, "GET / HTTP/1.1\r\nHo");
	OK(WAIT(c.eof) && c.buf && !strncmp(c.buf, "HTTP/1.1 408 ", 13), "slowloris: 408, closed");
	OK(loop_now_ms() - t0 >= 290, "not before the deadline (%lld ms)", (long long)(loop_now_ms() - t0));
	cl_close(&c);

	cl_open(&c, port, 0);
	cl_puts(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
	OK(WAIT(c.eof) && c.buf && !strncmp(c.buf, "HTTP/1.1 408 ", 13), "slow body: 408");
	cl_close(&c);

	cl_open(&c, port, 0);
	cl_puts(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(complete(&c, 1)), "answered");
	t0 = loop_now_ms();
	OK(WAIT(c.eof) && nresp(&c) == 1, "idle keep-alive closed silently");
	OK(loop_now_ms() - t0 >= 390, "after the idle time (%lld ms)", (long long)(loop_now_ms() - t0));
	cl_close(&c);

	/* a fresh connection that sends nothing: 408 at the header deadline */
	cl_open(&c, port, 0);
	OK(WAIT(c.eof) && c.buf && !strncmp(c.buf, "HTTP/1.1 408 ", 13), "silent new connection: 408");
	cl_close(&c);

	/* no deadline while the applet holds the request */
	H.pending = 0;
	cl_open(&c, port, 0);
	cl_puts(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.pending), "async held");
	t0 = loop_now_ms();
	while (loop_now_ms() - t0 < 700)
		round_();
	OK(!c.eof && httpsrv_peer(s, H.pending), "still open after the deadlines");
	reply(s, H.pending, 200, "late", NULL);
	OK(WAIT(complete(&c, 1)) && strstr(c.buf, "late"), "late answer delivered");
	cl_close(&c);
	OK(loop_next_timeout_ms(L) >= 0 || 1, "timers");
	httpsrv_close(s);
}

static void test_stream(void)
{
	struct httpsrv_config cfg = { .max_out = 64 << 10 };
	struct client c;
	struct httpsrv_stats st;
	int port, rc = 0, writes = 0;
	char chunk[16384];
	struct httpsrv *s = server(&cfg, &port);

	/* a reading client */
	cl_open(&c, port, 0);
	H.stream = 0;
	cl_puts(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.stream), "stream begun");
	OK(httpsrv_stream_write(s, H.stream, "data: 1\n\n", 9) == 0, "event written");
	OK(WAIT(c.buf && strstr(c.buf, "data: 1\n\n")), "event received");
	OK(strstr(c.buf, "Content-Type: text/event-stream\r\n") && strstr(c.buf, "Cache-Control: no-store\r\n") &&
		!strstr(c.buf, "Content-Length") && strstr(c.buf, "Connection: close\r\n"), "stream head");
	OK(httpsrv_stream_end(s, H.stream) == 0, "end");
	OK(httpsrv_stream_write(s, H.stream, "x", 1) < 0 && errno == ESRCH, "write after end: ESRCH");
	OK(WAIT(c.eof), "closed after the end");
	cl_close(&c);

	/* a client that closes: close callback */
	memset(H.closes, 0, sizeof H.closes);
	cl_open(&c, port, 0);
	H.stream = 0;
	cl_puts(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.stream), "second stream");
	cl_close(&c);
	OK(WAIT(H.closes[HTTPSRV_END_GONE] == 1), "client gone: close callback");

	/* a client that never reads: dropped at max_out */
	memset(H.closes, 0, sizeof H.closes);
	memset(chunk, 'e', sizeof chunk);
	cl_open(&c, port, 4096);
	H.stream = 0;
	cl_puts(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.stream), "third stream");
	c.noread = 1;
	while (writes < 4096 && (rc = httpsrv_stream_write(s, H.stream, chunk, sizeof chunk)) == 0) {
		writes++;
		round_();
	}
	OK(rc < 0 && errno == ENOBUFS, "dropped after %d writes of 16 KiB", writes);
	OK(H.closes[HTTPSRV_END_SLOW] == 0, "close callback not from inside the call");
	OK(WAIT(H.closes[HTTPSRV_END_SLOW] == 1), "close callback: slow");
	httpsrv_get_stats(s, &st);
	OK(st.dropped_slow == 1, "stats: dropped_slow 1");
	OK(httpsrv_stream_write(s, H.stream, "x", 1) < 0 && errno == ESRCH, "then ESRCH");
	cl_close(&c);

	/* HEAD of a stream: the head, then the end (close callback) */
	memset(H.closes, 0, sizeof H.closes);
	cl_open(&c, port, 0);
	H.stream = 0;
	cl_puts(&c, "HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(c.eof) && c.buf && strstr(c.buf, "text/event-stream"), "HEAD stream: head only, closed");
	OK(WAIT(H.closes[HTTPSRV_END_GONE] == 1), "HEAD stream: close callback");
	cl_close(&c);
	httpsrv_close(s);
}

static void test_close_outstanding(void)
{
	struct client c;
	int port;
	struct httpsrv *s = server(NULL, &port);

	memset(H.closes, 0, sizeof H.closes);
	cl_open(&c, port, 0);
	H.pending = 0;
	cl_puts(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	OK(WAIT(H.pending), "outstanding");
	httpsrv_close(s);
	OK(H.closes[HTTPSRV_END_SHUTDOWN] == 1, "httpsrv_close: shutdown callback before it returns");
	OK(WAIT(c.eof), "client sees the close");
	cl_close(&c);
}

/* ------------------------------------------------------------------ TLS */

#if MLS_HAVE_TLS
static char tmpdir[] = "/tmp/test_httpsrv.XXXXXX";

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static int run(const char *cmd)
{
	char full[1024];
	snprintf(full, sizeof full, "cd %s && %s >/dev/null 2>&1", tmpdir, cmd);
	return system(full) == 0;
}

static unsigned char *slurp(const char *name, size_t *len)
{
	char p[256];
	FILE *f;
	unsigned char *b = malloc(1 << 16);

	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	f = fopen(p, "rb");
	if (!f) {
		free(b);
		return NULL;
	}
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

/* Runs argv with stdout to tmpdir/out while the loop runs; exit status */
static int spawn_client(char *const argv[], const char *out)
{
	char p[256];
	pid_t pid;
	int st = -1, done = 0;
	int64_t end;

	snprintf(p, sizeof p, "%s/%s", tmpdir, out);
	/* fork + exec: "spawn.h" is lib/spawn.h on this include path */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int i = open("/dev/null", O_RDWR);
		if (o < 0 || i < 0 || dup2(o, 1) < 0 || dup2(i, 0) < 0 ||
				dup2(i, 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	end = loop_now_ms() + 30000;
	while (!done && loop_now_ms() < end) {
		round_();
		if (waitpid(pid, &st, WNOHANG) == pid)
			done = 1;
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct creds {
	br_x509_certificate cert;
	br_skey_decoder_context dec;
	unsigned char *certbuf, *keybuf;
};

static int load_creds(struct creds *k, const char *cert, const char *key)
{
	size_t cl = 0, kl = 0;

	k->certbuf = slurp(cert, &cl);
	k->keybuf = slurp(key, &kl);
	if (!k->certbuf || !k->keybuf)
		return -1;
	k->cert.data = k->certbuf;
	k->cert.data_len = cl;
	br_skey_decoder_init(&k->dec);
	br_skey_decoder_push(&k->dec, k->keybuf, kl);
	return br_skey_decoder_last_error(&k->dec) ? -1 : br_skey_decoder_key_type(&k->dec);
}

static void tls_case(const char *kind, const char *cert, const char *key, const char *client)
{
	struct creds k;
	struct httpsrv_tls t = { 0 };
	struct httpsrv_stats st;
	char err[256], url[128], portarg[64];
	int type = load_creds(&k, cert, key), port, i, rc;
	struct httpsrv *s;
	size_t ol = 0;
	unsigned char *out;

	if (!OK(type == BR_KEYTYPE_EC || type == BR_KEYTYPE_RSA, "%s: key decoded", kind))
		return;
	t.chain = &k.cert;
	t.chain_len = 1;
	t.key_type = type;
	t.ec = type == BR_KEYTYPE_EC ? br_skey_decoder_get_ec(&k.dec) : NULL;
	t.rsa = type == BR_KEYTYPE_RSA ? br_skey_decoder_get_rsa(&k.dec) : NULL;
	s = httpsrv_new(L, NULL, handler, onclose, NULL);
	OK(httpsrv_set_tls(s, &t) == 0, "%s: credentials set", kind);
	i = httpsrv_listen(s, "127.0.0.1:0", 1, err, sizeof err);
	port = httpsrv_port(s, i);
	OK(i >= 0, "%s: TLS listener %s", kind, err);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/hello", port);
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	if (!strcmp(client, "curl")) {
		char *argv[] = { "curl", "-sS", "-k", "--tlsv1.2", "--max-time", "20",
			url, url, NULL };
		rc = spawn_client(argv, "out");
		out = slurp("out", &ol);
		OK(rc == 0 && out && ol == 12 && !memcmp(out, "hello\nhello\n", 12),
			"%s: curl over TLS, two requests on one connection (rc %d, %zu bytes)", kind, rc, ol);
		free(out);
		/* a client that insists on TLS 1.3: handshake fails, counted */
		{
			char *a2[] = { "curl", "-sS", "-k", "--tlsv1.3", "--max-time", "20", url, NULL };
			rc = spawn_client(a2, "out2");
			httpsrv_get_stats(s, &st);
			OK(rc != 0 && st.tls_failed >= 1, "%s: TLS 1.3 only client refused, tls_failed %llu",
				kind, (unsigned long long)st.tls_failed);
		}
	} else {
		char *argv[] = { "sh", "-c", "", NULL };
		char cmd[512];
		snprintf(cmd, sizeof cmd, "printf 'GET /hello HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
			"openssl s_client -quiet -tls1_2 -connect %s 2>/dev/null", portarg);
		argv[2] = cmd;
		rc = spawn_client(argv, "out");
		out = slurp("out", &ol);
		OK(out && ol > 6 && memmem(out, ol, "\r\n\r\nhello\n", 10), "%s: openssl s_client over TLS (rc %d)", kind, rc);
		free(out);
	}
	httpsrv_get_stats(s, &st);
	OK(st.open_tls == 0 || WAIT((httpsrv_get_stats(s, &st), st.open_tls == 0)), "%s: TLS connections closed", kind);
	httpsrv_close(s);
	free(k.certbuf);
	free(k.keybuf);
}

static void test_tls(void)
{
	const char *client = have("curl") ? "curl" : have("openssl") ? "openssl" : NULL;

	if (!have("openssl") || !client) {
		tap_skip("openssl or curl missing: no TLS test");
		return;
	}
	if (!mkdtemp(tmpdir)) {
		OK(0, "mkdtemp");
		return;
	}
	OK(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout ec.pem -out ec.crt -subj /CN=localhost -days 2") &&
		run("openssl x509 -in ec.crt -outform DER -out ec.der") &&
		run("openssl pkey -in ec.pem -outform DER -out eckey.der"), "EC key and certificate made");
	tls_case("EC", "ec.der", "eckey.der", client);
	OK(run("openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.pem -out rsa.crt "
		"-subj /CN=localhost -days 2") &&
		run("openssl x509 -in rsa.crt -outform DER -out rsa.der") &&
		run("openssl pkey -in rsa.pem -outform DER -out rsakey.der"), "RSA key and certificate made");
	tls_case("RSA", "rsa.der", "rsakey.der", client);
	if (have("openssl") && strcmp(client, "openssl"))
		tls_case("EC s_client", "ec.der", "eckey.der", "openssl");
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmpdir);
	}
}
#endif

int main(void)
{
	int port;

	signal(SIGPIPE, SIG_IGN);
	alarm(WATCHDOG);
	L = loop_new();
	test_listen_errors();
	S = server(NULL, &port);
	if (!OK(S != NULL, "server on 127.0.0.1:%d", port))
		return tap_done();
	test_basic(port);
	test_pipelining(port);
	test_refusals(port);
	{
		struct httpsrv_stats st;
		httpsrv_get_stats(S, &st);
		OK(st.rejected >= 7 && st.requests >= 10, "stats: %llu requests, %llu rejected",
			(unsigned long long)st.requests, (unsigned long long)st.rejected);
	}
	httpsrv_close(S);
	test_max_conns();
	test_deadlines();
	test_stream();
	test_close_outstanding();
#if MLS_HAVE_TLS
	test_tls();
#else
	tap_skip("built without TLS");
#endif
	/* every connection, listener and timer gone: the loop is empty */
	OK(loop_next_timeout_ms(L) == -1, "no timer left");
	loop_free(L);
	return tap_done();
}
