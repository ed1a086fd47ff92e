/* Unit tests for lib/ctlsrv.c over real Unix sockets in a temporary
 * directory: framing, abuse rules, backpressure, streams, idle timeout,
 * closing from the handler, many clients. Clients are non-blocking sockets
 * of this process; the server's loop is driven by pump(), which runs
 * loop_run_once() with a bounded wait until a condition holds or a
 * deadline passes (no fixed sleeps). alarm() is a watchdog. Output is TAP;
 * exit status 1 if any test failed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ctlsrv.h"
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 120  /* s: the whole run */
#define WAIT_MS 10000 /* longest wait for any one condition */

#define E_LONG "{\"ok\":false,\"error\":\"request too long (max 4096 bytes)\"}\n"
#define E_BINARY "{\"ok\":false,\"error\":\"binary data in request\"}\n"
#define E_WORDS "{\"ok\":false,\"error\":\"too many words (max 256)\"}\n"
#define E_CLIENTS "{\"ok\":false,\"error\":\"too many connections\"}\n"

static struct loop *L;
static struct ctlsrv *S;
static char dir[] = "/tmp/test_ctlsrv.XXXXXX";
static char path[sizeof ((struct sockaddr_un *)0)->sun_path];

/* ------------------------------------------------------------- handler */

static struct {
	int calls;           /* requests handled */
	int after_close_rc;  /* ctlsrv_reply() after ctlsrv_close() in "quit" */
} H;

/* Test commands; anything else is echoed as its words joined by '|':
 *   big N       a reply of N bytes (a pattern) and a newline
 *   sub TOPIC   stream mode on TOPIC, replies "subscribed"
 *   quit        replies "bye", closes the whole server, replies again
 *   peer        replies "PID UID"
 *   perm        replies the connection's permission, in hex
 *   twice       two replies */
static void handler(struct ctlsrv *s, struct ctlconn *c, int argc,
	char **argv, void *ctx)
{
	char buf[PROTO_MAX_LINE * 2];
	size_t n = 0;

	(void)ctx;
	H.calls++;
	if (!strcmp(argv[0], "big") && argc == 2) {
		size_t len = strtoul(argv[1], NULL, 10);
		char *p = malloc(len);
		for (size_t i = 0; i < len; i++)
			p[i] = (char)('a' + i % 26);
		ctlsrv_reply(c, p, len);
		free(p);
		return;
	}
	if (!strcmp(argv[0], "sub") && argc == 2) {
		ctlsrv_reply(c, "subscribed", 10);
		ctlsrv_subscribe(c, argv[1]);
		return;
	}
	if (!strcmp(argv[0], "quit")) {
		ctlsrv_reply(c, "bye\n", 4);
		ctlsrv_close(s);
		H.after_close_rc = ctlsrv_reply(c, "late", 4);
		return;
	}
	if (!strcmp(argv[0], "peer")) {
		int pid = -1, uid = -1;
		ctlsrv_peer(c, &pid, &uid);
		n = (size_t)snprintf(buf, sizeof buf, "%d %d", pid, uid);
		ctlsrv_reply(c, buf, n);
		return;
	}
	if (!strcmp(argv[0], "perm")) {
		n = (size_t)snprintf(buf, sizeof buf, "%x", ctlsrv_perm(c));
		ctlsrv_reply(c, buf, n);
		return;
	}
	if (!strcmp(argv[0], "twice")) {
		ctlsrv_reply(c, "one", 3);
		ctlsrv_reply(c, "two\n", 4);
		return;
	}
	for (int i = 0; i < argc; i++) {
		size_t w = strlen(argv[i]);
		if (i)
			buf[n++] = '|';
		memcpy(buf + n, argv[i], w);
		n += w;
	}
	ctlsrv_reply(c, buf, n);
}

/* ------------------------------------------------------------- clients */

struct client {
	int fd;
	char *buf;       /* everything read so far */
	size_t len, cap;
	int eof;         /* read gave 0 or ECONNRESET: the server closed */
};

static int cl_open(struct client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof *c);
	memcpy(sa.sun_path, path, sizeof path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void cl_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* Reads what is there (at most `max` bytes, 0 = no limit) */
static void cl_poll_max(struct client *c, size_t max)
{
	size_t got = 0;

	while (!c->eof && (!max || got < max)) {
		ssize_t n;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			c->buf = realloc(c->buf, c->cap + 1);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			c->buf[c->len] = '\0';
			got += (size_t)n;
		} else if (n == 0 || errno == ECONNRESET) {
			c->eof = 1;
		} else {
			break;
		}
	}
}

static void cl_poll(struct client *c)
{
	cl_poll_max(c, 0);
}

static int lines(const struct client *c)
{
	int n = 0;

	for (size_t i = 0; i < c->len; i++)
		n += c->buf[i] == '\n';
	return n;
}

/* Runs the server's loop until cond(arg) or WAIT_MS; returns cond */
static int pump(int (*cond)(void *), void *arg)
{
	int64_t end = loop_now_ms() + WAIT_MS;

	while (!cond(arg)) {
		if (loop_now_ms() > end)
			return 0;
		loop_run_once(L, 20);
	}
	return 1;
}

static int want_lines;
static int has_lines(void *arg)
{
	struct client *c = arg;

	cl_poll(c);
	return c->eof || lines(c) >= want_lines;
}

static int has_eof(void *arg)
{
	struct client *c = arg;

	cl_poll(c);
	return c->eof;
}

static int want_conns;
static int has_conns(void *arg)
{
	(void)arg;
	return ctlsrv_nconns(S) == want_conns;
}

/* Sends all of buf (non-blocking: the loop runs while the socket is full) */
static int cl_send(struct client *c, const char *buf, size_t len)
{
	int64_t end = loop_now_ms() + WAIT_MS;

	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN && loop_now_ms() < end) {
			loop_run_once(L, 20);
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

/* Sends req, waits for n reply lines (or EOF); 1 if they came */
static int ask(struct client *c, const char *req, int n)
{
	if (req && cl_puts(c, req) < 0)
		return 0;
	want_lines = n;
	pump(has_lines, c);
	return lines(c) >= n;
}

/* ------------------------------------------------------------- server */

static int srv_open(void)
{
	S = ctlsrv_open(L, path, -1, handler, NULL);
	return S != NULL;
}

static void srv_close(void)
{
	ctlsrv_close(S);
	S = NULL;
	/* run the deferred closes */
	loop_run_once(L, 0);
}

/* --------------------------------------------------------------- tests */

static void test_open(void)
{
	char longp[200];
	struct stat st;
	struct ctlsrv *s2;
	struct client c;
	int fd;

	memset(longp, 'x', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	errno = 0;
	OK(!ctlsrv_open(L, longp, -1, handler, NULL) && errno == ENAMETOOLONG,
		"path longer than sun_path: ENAMETOOLONG");

	/* a regular file is not removed */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	close(fd);
	errno = 0;
	OK(!ctlsrv_open(L, path, -1, handler, NULL) && errno == EEXIST &&
		stat(path, &st) == 0 && S_ISREG(st.st_mode),
		"regular file at path: EEXIST, file left alone");
	unlink(path);

	/* a stale socket file: bound, never listened, closed */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		memcpy(sa.sun_path, path, sizeof path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		bind(fd, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
	}
	OK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "stale socket made");
	OK(srv_open(), "stale socket file replaced");
	OK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		(st.st_mode & 0777) == 0600, "socket is mode 0600");

	errno = 0;
	s2 = ctlsrv_open(L, path, -1, handler, NULL);
	OK(!s2 && errno == EADDRINUSE, "live socket: EADDRINUSE");
	OK(cl_open(&c) == 0 && ask(&c, "still here\n", 1) &&
		!strcmp(c.buf, "still|here\n"),
		"first server still answers after the refused open");
	cl_close(&c);
	srv_close();
	OK(stat(path, &st) < 0 && errno == ENOENT, "close unlinks the socket");

	S = ctlsrv_open(L, path, (long long)getgid(), handler, NULL);
	OK(S && stat(path, &st) == 0 && (st.st_mode & 0777) == 0660 &&
		st.st_gid == getgid(), "with a gid: mode 0660, group set");
	srv_close();
}

static void test_echo(void)
{
	struct client c;
	int n;

	srv_open();
	OK(cl_open(&c) == 0, "connect");
	OK(ask(&c, "hello  world\tand\r\n", 1) &&
		!strcmp(c.buf, "hello|world|and\n"),
		"words split on blanks, \\r\\n accepted");
	c.len = 0;
	OK(ask(&c, "a\nb c\n\n   \n\t\r\nd\n", 3) &&
		!strcmp(c.buf, "a\nb|c\nd\n"),
		"three requests in one write answered in order, empty lines ignored");
	c.len = 0;
	OK(ask(&c, "twice\nz\n", 3) && !strcmp(c.buf, "one\ntwo\nz\n"),
		"two replies to one request, newline added once");

	/* byte by byte, with loop rounds in between */
	c.len = 0;
	{
		const char *req = "x y\nlast one\n";
		for (const char *p = req; *p; p++) {
			cl_send(&c, p, 1);
			loop_run_once(L, 0);
			loop_run_once(L, 0);
		}
	}
	OK(ask(&c, NULL, 2) && !strcmp(c.buf, "x|y\nlast|one\n"),
		"requests sent byte by byte");

	/* many pipelined requests in one write */
	{
		char big[PROTO_MAX_LINE * 8], want[PROTO_MAX_LINE * 8];
		size_t bl = 0, wl = 0;
		for (n = 0; n < 2000; n++) {
			bl += (size_t)sprintf(big + bl, "r %d\n", n);
			wl += (size_t)sprintf(want + wl, "r|%d\n", n);
		}
		c.len = 0;
		OK(ask(&c, big, 2000) && c.len == wl && !memcmp(c.buf, want, wl),
			"2000 pipelined requests (%zu bytes) answered in order", bl);
	}
	OK(!c.eof && ctlsrv_nconns(S) == 1, "connection still open");
	cl_close(&c);
	want_conns = 0;
	OK(pump(has_conns, NULL), "client EOF closes the connection");
	srv_close();
}

static void test_long(void)
{
	char line[PROTO_MAX_LINE + 16];
	struct client c;

	srv_open();
	/* exactly PROTO_MAX_LINE bytes with the newline: accepted */
	memset(line, 'w', PROTO_MAX_LINE - 1);
	line[PROTO_MAX_LINE - 1] = '\n';
	line[PROTO_MAX_LINE] = '\0';
	cl_open(&c);
	OK(ask(&c, line, 1) && c.len == PROTO_MAX_LINE &&
		!memcmp(c.buf, line, PROTO_MAX_LINE),
		"line of %d bytes with its newline: accepted", PROTO_MAX_LINE);

	/* the same in two parts (the second read appends to the buffer) */
	c.len = 0;
	cl_send(&c, line, 100);
	loop_run_once(L, 0);
	OK(ask(&c, line + 100, 1) && c.len == PROTO_MAX_LINE,
		"max-size line in two writes: accepted");
	cl_close(&c);

	/* one more byte: refused, closed */
	memset(line, 'w', PROTO_MAX_LINE);
	line[PROTO_MAX_LINE] = '\n';
	line[PROTO_MAX_LINE + 1] = '\0';
	cl_open(&c);
	cl_puts(&c, line);
	pump(has_eof, &c);
	OK(c.eof && c.len == sizeof E_LONG - 1 && !strcmp(c.buf, E_LONG),
		"line of %d bytes: error, then closed", PROTO_MAX_LINE + 1);
	cl_close(&c);

	/* long without a newline at all, after a good request */
	cl_open(&c);
	cl_puts(&c, "ok\n");
	cl_send(&c, line, 3000);
	loop_run_once(L, 0);
	cl_send(&c, line, 3000);
	pump(has_eof, &c);
	OK(c.eof && !strcmp(c.buf, "ok\n" E_LONG),
		"6000 bytes without newline after a request: reply, error, closed");
	cl_close(&c);
	want_conns = 0;
	OK(pump(has_conns, NULL), "no connection left");
	srv_close();
}

static void test_binary(void)
{
	static const struct {
		int line;
		const char *req;
		size_t len;
		const char *want;
	} cases[] = {
		{ __LINE__, "a\x01" "b\n", 4, E_BINARY },
		{ __LINE__, "a\0b\n", 4, E_BINARY },
		{ __LINE__, "ok\n\x1b[31m\n", 9, "ok\n" E_BINARY },
		{ __LINE__, "\x7f caf\xc3\xa9\n", 8, "\x7f|caf\xc3\xa9\n" },
	};

	srv_open();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct client c;
		int closes = strstr(cases[i].want, "binary") != NULL;

		cl_open(&c);
		cl_send(&c, cases[i].req, cases[i].len);
		if (closes)
			pump(has_eof, &c);
		else
			ask(&c, NULL, 1);
		tap_ok(c.buf && !strcmp(c.buf, cases[i].want) && c.eof == closes,
			cases[i].line, "binary case %zu: %s", i,
			closes ? "error, closed" : "accepted");
		cl_close(&c);
	}
	srv_close();
}

static void test_words(void)
{
	char req[PROTO_MAX_LINE];
	struct client c;
	size_t n = 0;

	srv_open();
	cl_open(&c);
	for (int i = 0; i < PROTO_MAX_WORDS; i++)
		n += (size_t)sprintf(req + n, "%s%d", i ? " " : "", i % 10);
	req[n++] = '\n';
	req[n] = '\0';
	OK(ask(&c, req, 1) && c.len == n, "%d words: accepted",
		PROTO_MAX_WORDS);
	req[n - 1] = ' ';
	strcpy(req + n, "x\n");
	c.len = 0;
	OK(ask(&c, req, 1) && !strcmp(c.buf, E_WORDS),
		"%d words: error", PROTO_MAX_WORDS + 1);
	c.len = 0;
	OK(ask(&c, "next\n", 1) && !strcmp(c.buf, "next\n") && !c.eof,
		"too many words: connection stays open");
	cl_close(&c);
	srv_close();
}

/* Every client of the array has its reply (or EOF) */
struct crowd {
	struct client *c;
	int n;
	int want;        /* lines each */
};

static int crowd_done(void *arg)
{
	struct crowd *cr = arg;
	int done = 1;

	for (int i = 0; i < cr->n; i++) {
		if (cr->c[i].eof || lines(&cr->c[i]) >= cr->want)
			continue;
		cl_poll(&cr->c[i]);
		if (!cr->c[i].eof && lines(&cr->c[i]) < cr->want)
			done = 0;
	}
	return done;
}

/* Raises the soft fd limit to at least n; 0 if it cannot */
static int fds_at_least(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= n)
		return 1;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		return 0;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

static void test_crowd(void)
{
	enum { N = 500 };
	struct client *c = calloc(N, sizeof *c);
	struct crowd cr = { c, N, 1 };
	char req[32];
	int good = 0, connected = 0;

	if (!fds_at_least(2 * N + 64)) {
		tap_skip("500 clients: fd limit too low");
		free(c);
		return;
	}
	srv_open();
	for (int i = 0; i < N; i++)
		connected += cl_open(&c[i]) == 0;
	for (int i = 0; i < N; i++) {
		snprintf(req, sizeof req, "hi %d\n", i);
		if (c[i].fd >= 0)
			cl_puts(&c[i], req);
	}
	OK(connected == N, "500 clients connected at once");
	OK(pump(crowd_done, &cr), "500 clients all answered");
	for (int i = 0; i < N; i++) {
		snprintf(req, sizeof req, "hi|%d\n", i);
		good += c[i].buf && !strcmp(c[i].buf, req);
	}
	OK(good == N, "each got its own reply (%d of %d)", good, N);
	OK(ctlsrv_nconns(S) == N, "500 connections open");
	for (int i = 0; i < N; i++)
		cl_close(&c[i]);
	want_conns = 0;
	OK(pump(has_conns, NULL), "all closed after their EOF");
	free(c);
	srv_close();
}

static void test_max_clients(void)
{
	enum { N = PROTO_MAX_CLIENTS };
	struct client *c = calloc(N, sizeof *c);
	struct client extra;
	int connected = 0;

	if (!fds_at_least(2 * N + 64)) {
		tap_skip("%d clients: fd limit too low", N + 1);
		free(c);
		return;
	}
	srv_open();
	/* connect in batches: the backlog is finite */
	for (int i = 0; i < N; i++) {
		connected += cl_open(&c[i]) == 0;
		if (i % 64 == 63) {
			want_conns = i + 1;
			pump(has_conns, NULL);
		}
	}
	want_conns = N;
	OK(connected == N && pump(has_conns, NULL),
		"%d connections accepted", N);
	OK(cl_open(&extra) == 0, "connection %d connects", N + 1);
	pump(has_eof, &extra);
	OK(extra.eof && extra.buf && !strcmp(extra.buf, E_CLIENTS),
		"connection %d: \"too many connections\", closed", N + 1);
	OK(ctlsrv_nconns(S) == N, "still %d connections", N);
	cl_close(&extra);
	{
		int sp[2];
		OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
			ctlsrv_adopt(S, sp[0], 0) < 0 && errno == EBUSY &&
			fcntl(sp[0], F_GETFD) >= 0 && !(fcntl(sp[0], F_GETFL) & O_NONBLOCK),
			"ctlsrv_adopt at %d connections: EBUSY, the fd left as it was", N);
		close(sp[0]);
		close(sp[1]);
	}
	OK(ask(&c[N - 1], "alive\n", 1) && !strcmp(c[N - 1].buf, "alive\n"),
		"the others still served");
	/* one leaves: a new one fits */
	cl_close(&c[0]);
	want_conns = N - 1;
	pump(has_conns, NULL);
	OK(cl_open(&c[0]) == 0 && ask(&c[0], "fits\n", 1) &&
		!strcmp(c[0].buf, "fits\n"), "after one left, a new one is served");
	for (int i = 0; i < N; i++)
		cl_close(&c[i]);
	free(c);
	srv_close();
}

static void test_slow_reader(void)
{
	enum { BIG = 4000000 };
	struct client a, b;
	char req[64];
	int calls, ok = 1;

	srv_open();
	cl_open(&a);
	cl_open(&b);
	snprintf(req, sizeof req, "big %d\nafter\n", BIG);
	H.calls = 0;
	cl_puts(&a, req);
	/* let a's request be handled: its reply fills the socket and queues */
	for (int i = 0; i < 5; i++)
		loop_run_once(L, 20);
	calls = H.calls;
	OK(ask(&b, "quick\n", 1) && !strcmp(b.buf, "quick\n"),
		"another client answered while a big reply waits");
	OK(calls == 1 && H.calls == 2,
		"the slow reader's next request is held back (backpressure)");
	/* now read it all, slowly: 64 KiB per round */
	{
		int64_t end = loop_now_ms() + WAIT_MS;
		while (!a.eof && lines(&a) < 2 && loop_now_ms() < end) {
			cl_poll_max(&a, 65536);
			loop_run_once(L, 20);
		}
	}
	OK(a.len == BIG + 1 + 6, "all %d bytes and the next reply read",
		BIG + 1);
	for (size_t i = 0; i < BIG && i < a.len; i++)
		if (a.buf[i] != 'a' + (char)(i % 26)) {
			ok = 0;
			break;
		}
	OK(ok && a.len == BIG + 7 && !strcmp(a.buf + BIG, "\nafter\n"),
		"big reply intact, then the held-back request's reply");
	OK(H.calls == 3, "held-back request handled after the drain");
	cl_close(&a);
	cl_close(&b);

	/* a client that vanishes with a reply queued: no SIGPIPE */
	cl_open(&a);
	cl_puts(&a, "big 3000000\n");
	for (int i = 0; i < 3; i++)
		loop_run_once(L, 20);
	cl_close(&a);
	want_conns = 0;
	OK(pump(has_conns, NULL), "vanished reader: closed, no SIGPIPE");
	srv_close();
}

static void test_streams(void)
{
	struct client ev, lw, plain;
	char line[65536];
	size_t total = 0;

	srv_open();
	cl_open(&ev);
	cl_open(&lw);
	cl_open(&plain);
	OK(ask(&ev, "sub events\nignored\n", 1) &&
		ask(&lw, "sub log:web\n", 1) && ask(&plain, "x\n", 1),
		"two subscribers and a plain connection");
	OK(ctlsrv_nsubscribers(S) == 2 && ctlsrv_nconns(S) == 3,
		"nsubscribers 2, nconns 3");
	ev.len = lw.len = plain.len = 0;
	ctlsrv_broadcast(S, "events", "{\"event\":\"state\"}", 17);
	ctlsrv_broadcast(S, "log:web", "{\"event\":\"log\"}\n", 16);
	ctlsrv_broadcast(S, "log:db", "nobody", 6);
	OK(ask(&ev, NULL, 1) && !strcmp(ev.buf, "{\"event\":\"state\"}\n"),
		"events subscriber gets the events line");
	OK(ask(&lw, NULL, 1) && !strcmp(lw.buf, "{\"event\":\"log\"}\n"),
		"log:web subscriber gets only its line");
	OK(ask(&plain, "y\n", 1) && !strcmp(plain.buf, "y\n"),
		"plain connection gets no broadcast");

	/* input on a stream is ignored */
	H.calls = 0;
	ev.len = 0;
	cl_puts(&ev, "echo me\n");
	for (int i = 0; i < 3; i++)
		loop_run_once(L, 10);
	cl_poll(&ev);
	OK(H.calls == 0 && ev.len == 0, "a stream's input is ignored");

	/* EOF closes a stream */
	cl_close(&lw);
	want_conns = 2;
	OK(pump(has_conns, NULL) && ctlsrv_nsubscribers(S) == 1,
		"subscriber EOF closes it");

	/* a subscriber that does not read is dropped past PROTO_MAX_OUT */
	memset(line, 'e', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	while (ctlsrv_nsubscribers(S) == 1 && total < 4 * PROTO_MAX_OUT) {
		ctlsrv_broadcast(S, "events", line, sizeof line);
		total += sizeof line;
	}
	OK(ctlsrv_nsubscribers(S) == 0 && total > PROTO_MAX_OUT &&
		total < PROTO_MAX_OUT + (4u << 20),
		"stuck subscriber dropped after %zu bytes", total);
	pump(has_eof, &ev);
	OK(ev.eof, "its client sees the end");
	OK(ask(&plain, "z\n", 2) && !strcmp(plain.buf, "y\nz\n"),
		"plain connection unaffected");
	cl_close(&ev);
	cl_close(&plain);
	srv_close();
}

static void test_idle(void)
{
	struct client quiet, partial, stream, busy;
	int64_t t0;
	int alive = 1;

	srv_open();
	ctlsrv_set_idle_timeout(S, 200);
	t0 = loop_now_ms();
	cl_open(&quiet);
	cl_open(&partial);
	cl_open(&stream);
	cl_open(&busy);
	cl_puts(&partial, "half a req");
	ask(&stream, "sub events\n", 1);
	/* busy sends a request every 100 ms for 600 ms */
	for (int i = 0; i < 6; i++) {
		int64_t next = loop_now_ms() + 100;
		busy.len = 0;
		alive &= ask(&busy, "ping\n", 1) && !busy.eof;
		while (loop_now_ms() < next)
			loop_run_once(L, (int)(next - loop_now_ms()));
	}
	pump(has_eof, &quiet);
	pump(has_eof, &partial);
	OK(quiet.eof && loop_now_ms() - t0 >= 200,
		"silent connection closed after the idle timeout");
	OK(partial.eof && partial.len == 0,
		"connection with a partial request closed");
	OK(alive && !busy.eof, "connection with a request every 100 ms kept");
	cl_poll(&stream);
	OK(!stream.eof && ctlsrv_nsubscribers(S) == 1,
		"stream not closed for idleness");
	pump(has_eof, &busy);
	OK(busy.eof, "busy connection closed once it goes quiet");
	cl_close(&quiet);
	cl_close(&partial);
	cl_close(&stream);
	cl_close(&busy);
	srv_close();
}

static void test_close_in_handler(void)
{
	struct client a, b, c;
	struct stat st;

	srv_open();
	cl_open(&a);
	cl_open(&b);
	cl_open(&c);
	ask(&c, "sub events\n", 1);
	ask(&b, "first\n", 1);
	b.len = 0;
	/* b's request waits in the same round as a's quit */
	cl_puts(&b, "second\n");
	cl_puts(&a, "quit\nnever\n");
	H.after_close_rc = 0;
	H.calls = 0;
	pump(has_eof, &a);
	OK(a.eof && a.buf && !strcmp(a.buf, "bye\n"),
		"handler closed the server: its reply, then EOF");
	OK(H.after_close_rc == -1, "reply after ctlsrv_close: -1");
	pump(has_eof, &b);
	pump(has_eof, &c);
	OK(b.eof && c.eof, "other connections closed too");
	OK(H.calls <= 2 && !(a.buf && strstr(a.buf, "never")),
		"no request handled after the close");
	OK(stat(path, &st) < 0, "socket unlinked");
	S = NULL;
	cl_close(&a);
	cl_close(&b);
	cl_close(&c);
	loop_run_once(L, 0);
}

static void test_peer(void)
{
	struct client c;
	char want[64];

	srv_open();
	cl_open(&c);
	snprintf(want, sizeof want, "%d %d\n", (int)getpid(), (int)getuid());
	OK(ask(&c, "peer\n", 1) && !strcmp(c.buf, want),
		"ctlsrv_peer: pid and uid of the client");
	cl_close(&c);
	srv_close();
}

/* ------------------------------------------------------- permissions */

static struct {
	int calls;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	void *ctx;
} A;

static proto_perm authz(pid_t pid, uid_t uid, gid_t gid, void *ctx)
{
	A.calls++;
	A.pid = pid;
	A.uid = uid;
	A.gid = gid;
	A.ctx = ctx;
	return PROTO_PERM_RESTART | PROTO_PERM_STOP;
}

static void test_authz(void)
{
	struct client a, b;
	char want[32];
	int ctx;

	/* no callback: nothing granted (fail closed) */
	srv_open();
	cl_open(&a);
	OK(ask(&a, "perm\n", 1) && !strcmp(a.buf, "0\n"),
		"no authz callback: the connection is read-only (perm 0)");
	cl_close(&a);
	srv_close();

	srv_open();
	A.calls = 0;
	ctlsrv_set_authz(S, authz, &ctx);
	cl_open(&a);
	snprintf(want, sizeof want, "%x\n", PROTO_PERM_RESTART | PROTO_PERM_STOP);
	OK(ask(&a, "perm\n", 1) && !strcmp(a.buf, want),
		"authz callback: its result is the connection's permission");
	OK(A.calls == 1 && A.pid == getpid() && A.uid == geteuid() &&
		A.gid == getegid() && A.ctx == &ctx,
		"authz callback: called once, with the peer's pid, uid, gid and the ctx");
	a.len = 0;
	OK(ask(&a, "perm\n", 1) && !strcmp(a.buf, want) && A.calls == 1,
		"authz callback: not called again for a second request");
	cl_open(&b);
	OK(ask(&b, "perm\n", 1) && A.calls == 2,
		"authz callback: called for each new connection");
	cl_close(&a);
	cl_close(&b);
	srv_close();
	OK(ctlsrv_perm(NULL) == PROTO_PERM_NONE, "ctlsrv_perm(NULL): PROTO_PERM_NONE");
}

/* proto.h's names and the refusal text of supervise */
static void test_proto_perm(void)
{
	char buf[256];

	OK(proto_perm_of("restart") == PROTO_PERM_RESTART &&
		proto_perm_of("shutdown") == PROTO_PERM_SHUTDOWN &&
		proto_perm_of("debug-clock") == PROTO_PERM_DEBUG_CLOCK &&
		proto_perm_of("status") == 0 && proto_perm_of("nope") == 0 &&
		proto_perm_of(NULL) == 0,
		"proto_perm_of: the bit of a mutating request, 0 otherwise");
	proto_perm_fmt(PROTO_PERM_NONE, buf, sizeof buf);
	OK(!strcmp(buf, "status, logs, history, health, config, events, version, channel"),
		"proto_perm_fmt(NONE): the read-only requests (%s)", buf);
	proto_perm_fmt(PROTO_PERM_GROUP_DEFAULT, buf, sizeof buf);
	OK(!strcmp(buf, "status, logs, history, health, config, events, version, channel, start, stop, restart, signal, reload, deploy, rollback"),
		"proto_perm_fmt(GROUP_DEFAULT): all but shutdown (%s)", buf);
	OK(!(PROTO_PERM_GROUP_DEFAULT & (PROTO_PERM_SHUTDOWN | PROTO_PERM_DEBUG_CLOCK)) &&
		(PROTO_PERM_ALL & PROTO_PERM_SHUTDOWN) && (PROTO_PERM_ALL & PROTO_PERM_DEBUG_CLOCK),
		"PROTO_PERM_ALL has shutdown and debug-clock, GROUP_DEFAULT neither");
	size_t need = proto_perm_fmt(PROTO_PERM_ALL, buf, 10);
	OK(need == strlen("status, logs, history, health, config, events, version, channel, start, stop, restart, signal, reload, shutdown, deploy, rollback, annotate, debug-clock") &&
		!strcmp(buf, "status, l"),
		"proto_perm_fmt: truncates, NUL-terminated, returns the length needed");
}

static int adopted_gone(void *arg)
{
	(void)arg;
	return ctlsrv_nconns(S) == 0;
}

static void test_adopt(void)
{
	struct client a, idle;
	int sp[2], pp[2], dg[2];
	int fl;
	char want[32];

	srv_open();
	ctlsrv_set_idle_timeout(S, 200);

	/* refusals leave the fd as it was */
	OK(ctlsrv_adopt(S, -1, 0) < 0 && errno == EINVAL, "adopt fd -1: EINVAL");
	OK(ctlsrv_adopt(NULL, 0, 0) < 0 && errno == EINVAL, "adopt without a server: EINVAL");
	OK(pipe(pp) == 0 && ctlsrv_adopt(S, pp[0], 0) < 0 && errno == ENOTSOCK &&
		fcntl(pp[0], F_GETFD) >= 0, "adopt a pipe: ENOTSOCK, still open");
	close(pp[0]);
	close(pp[1]);
	OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) == 0 && ctlsrv_adopt(S, dg[0], 0) < 0 &&
		errno == EPROTOTYPE && fcntl(dg[0], F_GETFD) >= 0, "adopt a datagram socket: EPROTOTYPE, still open");
	close(dg[0]);
	close(dg[1]);
	OK(ctlsrv_nconns(S) == 0, "refused adoptions add no connection");

	/* a socketpair end, served with the permission given */
	OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
		ctlsrv_adopt(S, sp[0], PROTO_PERM_RESTART) == 0 && ctlsrv_nconns(S) == 1,
		"adopt a socketpair end: 0, one connection");
	fl = fcntl(sp[0], F_GETFL);
	OK(fl >= 0 && (fl & O_NONBLOCK) && (fcntl(sp[0], F_GETFD) & FD_CLOEXEC),
		"the adopted fd is made non-blocking and close-on-exec");
	memset(&a, 0, sizeof a);
	a.fd = sp[1];
	fcntl(a.fd, F_SETFL, O_NONBLOCK);
	snprintf(want, sizeof want, "%x\n", PROTO_PERM_RESTART);
	OK(ask(&a, "perm\n", 1) && !strcmp(a.buf, want),
		"adopted: the permission given (restart = 0x%x), not the peer's", PROTO_PERM_RESTART);
	a.len = 0;
	OK(ask(&a, "hello world\n", 1) && !strcmp(a.buf, "hello|world\n"),
		"adopted: requests and replies as on an accepted connection");

	/* no idle timeout: an accepted connection with the same 200 ms closes,
	 * the adopted one stays */
	cl_open(&idle);
	pump(has_eof, &idle);
	cl_poll(&a);
	OK(idle.eof && !a.eof && ctlsrv_nconns(S) == 1,
		"adopted: not closed when an accepted one is closed for idleness");
	cl_close(&idle);
	a.len = 0;
	OK(ask(&a, "still\n", 1) && !strcmp(a.buf, "still\n"), "adopted: still served afterwards");

	/* its peer's EOF closes it */
	cl_close(&a);
	OK(pump(adopted_gone, NULL), "adopted: closed when the other end closes");

	/* ctlsrv_close closes adopted fds too */
	OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 && ctlsrv_adopt(S, sp[0], 0) == 0,
		"adopt a second pair");
	srv_close();
	memset(&a, 0, sizeof a);
	a.fd = sp[1];
	fcntl(a.fd, F_SETFL, O_NONBLOCK);
	pump(has_eof, &a);
	OK(a.eof, "ctlsrv_close: the adopted connection is closed");
	cl_close(&a);
}

/* Out of fds: accept fails with EMFILE; the listener pauses instead of
 * spinning and accepts once fds are back */
static void test_emfile(void)
{
	struct rlimit old, rl;
	struct client c;
	int calls = 0, rounds = 0, lowest;
	int64_t end;

	srv_open();
	if (getrlimit(RLIMIT_NOFILE, &old) < 0) {
		tap_skip("getrlimit");
		srv_close();
		return;
	}
	cl_open(&c);
	cl_puts(&c, "late\n");
	lowest = dup(0);
	close(lowest);
	rl = old;
	rl.rlim_cur = (rlim_t)lowest; /* no new fd at all */
	setrlimit(RLIMIT_NOFILE, &rl);
	end = loop_now_ms() + 350;
	while (loop_now_ms() < end) {
		int n = loop_run_once(L, 50);
		calls += n > 0 ? n : 0;
		rounds++;
	}
	setrlimit(RLIMIT_NOFILE, &old);
	OK(ctlsrv_nconns(S) == 0 && calls <= 12,
		"EMFILE: listener paused, %d callbacks in 350 ms", calls);
	OK(ask(&c, NULL, 1) && !strcmp(c.buf, "late\n"),
		"fds back: the pending client is served");
	cl_close(&c);
	srv_close();
}

/* a last line without its newline, then EOF (printf status | nc -N -U):
 * answered, then the server closes */
static void test_eof_line(void)
{
	struct client c;

	srv_open();
	OK(cl_open(&c) == 0, "eof: connect");
	OK(cl_send(&c, "first\nlast words", 16) == 0 && shutdown(c.fd, SHUT_WR) == 0,
		"eof: a line, a partial line, then shutdown(SHUT_WR)");
	OK(pump(has_eof, &c) && !strcmp(c.buf ? c.buf : "", "first\nlast|words\n"),
		"eof: both answered, in order, then closed");
	cl_close(&c);
	srv_close();
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test */
	alarm(WATCHDOG);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/mls.sock", dir) >=
			sizeof path)
		return 1;
	L = loop_new();
	if (!L)
		return 1;

	test_open();
	test_echo();
	test_eof_line();
	test_long();
	test_binary();
	test_words();
	test_crowd();
	test_max_clients();
	test_slow_reader();
	test_streams();
	test_idle();
	test_close_in_handler();
	test_peer();
	test_authz();
	test_proto_perm();
	test_adopt();
	test_emfile();

	loop_free(L);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
