/* Unit tests for lib/ctlclient.c over real sockets: socketpairs (the
 * "peer" end is written and read by the test directly), a listening Unix
 * socket in a temporary directory, and lib/ctlsrv on its loop for a round
 * trip with the real server. Requests: the checks, what goes on the wire,
 * nothing sent when refused, EPIPE without SIGPIPE. Replies: tables of
 * byte chunks written by the peer, read both through ctlclient_pump() +
 * ctlclient_next_line() and through ctlclient_read_line(), with each chunk
 * read before the next is written (so lines really are split across
 * reads); the cap on a line (EMSGSIZE), EOF, deadlines (ETIMEDOUT).
 * Waits are on conditions or on the deadlines under test, never fixed
 * sleeps; alarm() is a watchdog. Output is TAP; exit status 1 if any test
 * failed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ctlclient.h"
#include "ctlsrv.h"
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 60   /* s: the whole run */
#define WAIT_MS 10000 /* longest wait for any one condition */
#define SHORT_MS 30   /* a deadline meant to pass */

static char dir[] = "/tmp/test_ctlclient.XXXXXX";
static char path[sizeof ((struct sockaddr_un *)0)->sun_path];

/* ------------------------------------------------------------- helpers */

/* A client on one end of a socketpair; *peer is the other end */
static int pair(struct ctlclient *k, int *peer, size_t max_line)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*peer = sv[1];
	return ctlclient_adopt(k, sv[0], max_line);
}

static int peer_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What the peer has received so far, without waiting (NUL-terminated) */
static size_t peer_take(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static int is_closed_fd(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* A growing byte string: the lines a test got, each with '\n' after it */
struct got {
	char buf[1024];
	size_t len;
	int n;           /* lines */
};

static void got_line(struct got *g, const struct ctlclient *k)
{
	if (g->len + k->line_len + 1 > sizeof g->buf)
		return;
	memcpy(g->buf + g->len, k->line, k->line_len);
	g->len += k->line_len;
	g->buf[g->len++] = '\n';
	g->n++;
}

/* Lines in a "want" string: its newlines */
static int count_nl(const char *p, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* ---------------------------------------------------------- lifetime */

static void test_connect(void)
{
	char err[CTLCLIENT_ERR_MAX], longp[300], want[CTLCLIENT_ERR_MAX + 64];
	struct ctlclient k;
	int lfd, sfd;

	memset(longp, 'x', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	errno = 0;
	OK(ctlclient_connect(&k, longp, 0, err, sizeof err) == -1 &&
		errno == ENAMETOOLONG && k.fd == -1 && !k.connect_failed &&
		!strcmp(err, "socket path too long (max 107 bytes)"),
		"path of 299 bytes: ENAMETOOLONG, not a connect failure");
	ctlclient_close(&k);
	ctlclient_close(&k);
	OK(k.fd == -1 && !k.buf, "close after a failed connect, twice: harmless");

	/* 107 bytes fits sun_path: it is tried (and not there) */
	memset(longp, 'y', CTLCLIENT_MAX_PATH);
	memcpy(longp, "/tmp/", 5);
	longp[CTLCLIENT_MAX_PATH] = '\0';
	errno = 0;
	OK(ctlclient_connect(&k, longp, 0, err, sizeof err) == -1 &&
		errno == ENOENT && k.connect_failed,
		"path of exactly 107 bytes: tried (ENOENT)");
	ctlclient_close(&k);

	errno = 0;
	snprintf(want, sizeof want, "cannot reach the supervisor at %s: %s",
		path, strerror(ENOENT));
	OK(ctlclient_connect(&k, path, 0, err, sizeof err) == -1 &&
		errno == ENOENT && k.connect_failed && k.fd == -1 &&
		!strcmp(err, want), "no socket file: ENOENT, connect_failed, \"%s\"", err);
	ctlclient_close(&k);

	/* bound, never listening: refused */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		memcpy(sa.sun_path, path, sizeof path);
		sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		OK(sfd >= 0 && bind(sfd, (struct sockaddr *)&sa, sizeof sa) == 0,
			"a socket bound at the path, not listening");
		errno = 0;
		OK(ctlclient_connect(&k, path, 0, NULL, 0) == -1 &&
			errno == ECONNREFUSED && k.connect_failed,
			"not listening: ECONNREFUSED (no err buffer given)");
		ctlclient_close(&k);
		OK(listen(sfd, 4) == 0, "now listening");
		lfd = sfd;
	}

	/* a real listening socket: connect, send, read the reply */
	OK(ctlclient_connect(&k, path, 0, err, sizeof err) == 0 && k.fd >= 0 &&
		!k.connect_failed && k.max_line == CTLCLIENT_MAX_LINE,
		"connect to a listening socket (max_line 0: the default)");
	OK((fcntl(k.fd, F_GETFD) & FD_CLOEXEC) && !(fcntl(k.fd, F_GETFL) & O_NONBLOCK),
		"the socket is close-on-exec and blocking");
	sfd = accept(lfd, NULL, NULL);
	{
		char *words[] = { "status", "web", "db.2" };
		char buf[64];
		OK(ctlclient_send(&k, words, 3, err, sizeof err) == 0 &&
			peer_take(sfd, buf, sizeof buf) == 16 &&
			!strcmp(buf, "status web db.2\n"),
			"send: words joined by spaces, one newline");
		OK(ctlclient_send_line(&k, "logs -f\tweb", err, sizeof err) == 0 &&
			peer_take(sfd, buf, sizeof buf) == 12 &&
			!strcmp(buf, "logs -f\tweb\n"), "send_line: the line as it is, a newline");
	}
	peer_write(sfd, "{\"ok\":true,\"seq\":3}\n", 20);
	OK(ctlclient_read_line(&k, loop_now_ms() + WAIT_MS) == 1 &&
		!strcmp(k.line, "{\"ok\":true,\"seq\":3}") && k.line_len == 19,
		"the reply is read");
	{
		int fd = k.fd;
		ctlclient_close(&k);
		OK(k.fd == -1 && !k.buf && is_closed_fd(fd), "close closes the fd, frees the buffer");
	}
	close(sfd);
	close(lfd);
	unlink(path);
}

static void test_adopt(void)
{
	struct ctlclient k;
	int peer, fd;

	errno = 0;
	OK(ctlclient_adopt(&k, -1, 0) == -1 && errno == EBADF && k.fd == -1,
		"adopt(-1): EBADF, left closed");
	ctlclient_close(&k);
	OK(pair(&k, &peer, 100) == 0 && k.max_line == 100, "adopt a socketpair end, max_line 100");
	fd = k.fd;
	peer_write(peer, "x\n", 2);
	OK(ctlclient_read_line(&k, -1) == 1 && !strcmp(k.line, "x"), "adopted fd is read");
	ctlclient_close(&k);
	OK(is_closed_fd(fd), "the adopted fd is owned: close closes it");
	close(peer);

	OK(pair(&k, &peer, (size_t)-1) == 0 && k.max_line == (size_t)-1 / 2,
		"a max_line of SIZE_MAX is cut to SIZE_MAX / 2");
	ctlclient_close(&k);
	close(peer);
}

/* ---------------------------------------------------------- requests */

static void test_check_words(void)
{
	static const struct {
		int line;
		const char *w[4];
		int rc, bad;
		const char *err;
	} cases[] = {
		{ __LINE__, { "status", "web.1", "caf\xc3\xa9" }, 0, -1, "" },
		{ __LINE__, { "a", "" }, -1, 1, "empty word" },
		{ __LINE__, { "a b" }, -1, 0, "'a b': no blanks or control characters in a word" },
		{ __LINE__, { "ok", "tab\there" }, -1, 1, "'tab\there': no blanks or control characters in a word" },
		{ __LINE__, { "ok", "ok", "nl\n" }, -1, 2, "'nl\n': no blanks or control characters in a word" },
		{ __LINE__, { "del\x7f" }, -1, 0, "'del\x7f': no blanks or control characters in a word" },
		{ __LINE__, { "esc\x1b[0m" }, -1, 0, "'esc\x1b[0m': no blanks or control characters in a word" },
		{ __LINE__, { "", "a b" }, -1, 0, "empty word" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[CTLCLIENT_ERR_MAX] = "";
		int n = 0, bad = -1, rc;
		while (n < 4 && cases[i].w[n])
			n++;
		errno = 0;
		rc = ctlclient_check_words((char *const *)cases[i].w, n, &bad, err, sizeof err);
		if (!OK(rc == cases[i].rc && bad == cases[i].bad && !strcmp(err, cases[i].err) &&
				(rc == 0 || errno == EINVAL),
				"check_words row %zu: %s", i, cases[i].rc ? cases[i].err : "all good"))
			tap_diag("got rc %d bad %d err '%s'", rc, bad, err);
	}
	{
		char word[400], err[CTLCLIENT_ERR_MAX];
		char *w[] = { word };
		memset(word, 'x', sizeof word - 1);
		word[sizeof word - 1] = '\0';
		word[300] = ' ';
		OK(ctlclient_check_words(w, 1, NULL, err, sizeof err) == -1 &&
			strlen(err) == 2 + 200 + strlen(": no blanks or control characters in a word"),
			"a long bad word is cut to 200 bytes in err");
		OK(ctlclient_check_words(w, 1, NULL, err, 10) == -1 && strlen(err) == 9,
			"err is cut to errsz");
	}
}

/* Words for the send rows: `n` words of `len` bytes ('a'...), or the row's */
static char genbuf[PROTO_MAX_WORDS + 1][PROTO_MAX_LINE + 2];

static void test_send(void)
{
	static const struct {
		int line;
		const char *desc;
		int n;            /* generated words, or -1: the row's words */
		size_t len;       /* bytes in each generated word */
		size_t last;      /* bytes more in the last one */
		const char *w[3];
		int rc, err_no;
		const char *err;
	} cases[] = {
		{ __LINE__, "two words", -1, 0, 0, { "restart", "web" }, 0, 0, "" },
		{ __LINE__, "no word", 0, 1, 0, { 0 }, -1, EINVAL, "empty request" },
		{ __LINE__, "256 words", 256, 1, 0, { 0 }, 0, 0, "" },
		{ __LINE__, "257 words", 257, 1, 0, { 0 }, -1, E2BIG,
			"too many words in one request (max 256)" },
		{ __LINE__, "one word of 4095 bytes: 4096 with the newline", 1, 4095, 0, { 0 }, 0, 0, "" },
		{ __LINE__, "one word of 4096 bytes", 1, 4096, 0, { 0 }, -1, EMSGSIZE,
			"request too long (max 4096 bytes)" },
		{ __LINE__, "two words of 2047: 4096 with space and newline", 2, 2047, 0, { 0 }, 0, 0, "" },
		{ __LINE__, "two words of 2048", 2, 2048, 0, { 0 }, -1, EMSGSIZE,
			"request too long (max 4096 bytes)" },
		{ __LINE__, "words of 2047 and 2048: one over with the space", 2, 2047, 1, { 0 }, -1,
			EMSGSIZE, "request too long (max 4096 bytes)" },
		{ __LINE__, "words of 1 and 4093: 4096 in all", 2, 1, 4092, { 0 }, 0, 0, "" },
		{ __LINE__, "a word with a blank", -1, 0, 0, { "status", "a b" }, -1, EINVAL,
			"'a b': no blanks or control characters in a word" },
		{ __LINE__, "an empty word", -1, 0, 0, { "status", "" }, -1, EINVAL, "empty word" },
		{ __LINE__, "a newline in a word: not a second request", -1, 0, 0,
			{ "status", "x\nshutdown" }, -1, EINVAL,
			"'x\nshutdown': no blanks or control characters in a word" },
	};
	char *words[PROTO_MAX_WORDS + 1];
	static char want[PROTO_MAX_LINE * 2], sent[PROTO_MAX_LINE * 2];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[CTLCLIENT_ERR_MAX] = "";
		struct ctlclient k;
		size_t wl = 0, got;
		int n = cases[i].n, peer, rc;

		if (n < 0)
			for (n = 0; n < 3 && cases[i].w[n]; n++)
				words[n] = (char *)cases[i].w[n];
		else
			for (int j = 0; j < n; j++) {
				size_t len = cases[i].len + (j == n - 1 ? cases[i].last : 0);
				memset(genbuf[j], 'a' + j % 26, len);
				genbuf[j][len] = '\0';
				words[j] = genbuf[j];
			}
		for (int j = 0; j < n; j++)
			wl += (size_t)sprintf(want + wl, "%s%s", j ? " " : "", words[j]);
		want[wl++] = '\n';
		pair(&k, &peer, 0);
		errno = 0;
		rc = ctlclient_send(&k, words, n, err, sizeof err);
		int e = errno;
		got = peer_take(peer, sent, sizeof sent);
		if (cases[i].rc == 0)
			OK(rc == 0 && got == wl && !memcmp(sent, want, wl),
				"send %s: sent as one line", cases[i].desc);
		else if (!OK(rc == -1 && e == cases[i].err_no && !strcmp(err, cases[i].err) && got == 0,
				"send %s: refused (%s), nothing sent", cases[i].desc, cases[i].err))
			tap_diag("got rc %d errno %d err '%s', %zu bytes sent", rc, e, err, got);
		ctlclient_close(&k);
		close(peer);
	}
}

static void test_send_line(void)
{
	enum { AS_IS, LONG_OK, LONG_BAD, WORDS_OK, WORDS_BAD };
	static const struct {
		int line;
		int gen;
		const char *in;
		int rc, err_no;
		const char *err;
	} cases[] = {
		{ __LINE__, AS_IS, "events", 0, 0, "" },
		{ __LINE__, AS_IS, "  logs\t-f web ", 0, 0, "" },
		{ __LINE__, AS_IS, "", -1, EINVAL, "empty request" },
		{ __LINE__, AS_IS, " \t ", -1, EINVAL, "empty request" },
		{ __LINE__, AS_IS, "status\nshutdown", -1, EINVAL, "control character in request" },
		{ __LINE__, AS_IS, "status\r", -1, EINVAL, "control character in request" },
		{ __LINE__, AS_IS, "st\x01" "atus", -1, EINVAL, "control character in request" },
		{ __LINE__, AS_IS, "caf\xc3\xa9 \x7f", 0, 0, "" },
		{ __LINE__, LONG_OK, "4095 bytes", 0, 0, "" },
		{ __LINE__, LONG_BAD, "4096 bytes", -1, EMSGSIZE, "request too long (max 4096 bytes)" },
		{ __LINE__, WORDS_OK, "256 words", 0, 0, "" },
		{ __LINE__, WORDS_BAD, "257 words", -1, E2BIG, "too many words in one request (max 256)" },
	};
	static char in[PROTO_MAX_LINE + 2], sent[PROTO_MAX_LINE * 2];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[CTLCLIENT_ERR_MAX] = "";
		struct ctlclient k;
		size_t len = 0, got;
		int peer, rc, e;

		switch (cases[i].gen) {
		case AS_IS:
			len = strlen(cases[i].in);
			memcpy(in, cases[i].in, len + 1);
			break;
		case LONG_OK:
		case LONG_BAD:
			len = cases[i].gen == LONG_OK ? PROTO_MAX_LINE - 1 : PROTO_MAX_LINE;
			memset(in, 'L', len);
			in[len] = '\0';
			break;
		default:
			for (int w = 0; w < (cases[i].gen == WORDS_OK ? 256 : 257); w++)
				len += (size_t)sprintf(in + len, "%sw", w ? " " : "");
		}
		pair(&k, &peer, 0);
		errno = 0;
		rc = ctlclient_send_line(&k, in, err, sizeof err);
		e = errno;
		got = peer_take(peer, sent, sizeof sent);
		if (cases[i].rc == 0)
			OK(rc == 0 && got == len + 1 && !memcmp(sent, in, len) && sent[len] == '\n',
				"send_line '%.20s': sent with a newline", cases[i].in);
		else if (!OK(rc == -1 && e == cases[i].err_no && !strcmp(err, cases[i].err) && got == 0,
				"send_line '%.20s': refused (%s), nothing sent", cases[i].in, cases[i].err))
			tap_diag("got rc %d errno %d err '%s', %zu bytes sent", rc, e, err, got);
		ctlclient_close(&k);
		close(peer);
	}
}

static void test_send_closed(void)
{
	char err[CTLCLIENT_ERR_MAX], want[CTLCLIENT_ERR_MAX];
	struct ctlclient k;
	char *w[] = { "status" };
	int peer;

	/* SIGPIPE is at its default (main): if it were raised, we would die */
	pair(&k, &peer, 0);
	close(peer);
	errno = 0;
	snprintf(want, sizeof want, "cannot send the request: %s", strerror(EPIPE));
	OK(ctlclient_send(&k, w, 1, err, sizeof err) == -1 && errno == EPIPE &&
		!strcmp(err, want), "peer gone: EPIPE, \"%s\", no SIGPIPE", err);
	OK(ctlclient_send_line(&k, "status", err, sizeof err) == -1 && errno == EPIPE,
		"send_line to a peer gone: EPIPE");
	ctlclient_close(&k);
}

/* ----------------------------------------------------------- replies */

#define B(s) { s, sizeof s - 1 }
struct bytes {
	const char *p;
	size_t len;
};

static const struct rd_case {
	int line;
	const char *desc;
	size_t max_line;           /* 0: the default */
	struct bytes chunk[4];     /* written one by one, each read before the next */
	int close;                 /* then the peer closes */
	struct bytes want;         /* the lines got, each followed by '\n' */
	int end;                   /* last result: 0 EOF, -1 with end_errno */
	int end_errno;
} rd_cases[] = {
	{ __LINE__, "one reply", 0, { B("{\"ok\":true}\n") }, 1,
		B("{\"ok\":true}\n"), 0, 0 },
	{ __LINE__, "a reply split across three reads", 0,
		{ B("{\"ok\""), B(":tr"), B("ue}\n") }, 1, B("{\"ok\":true}\n"), 0, 0 },
	{ __LINE__, "three lines in one read", 0, { B("a\nbb\nccc\n") }, 1,
		B("a\nbb\nccc\n"), 0, 0 },
	{ __LINE__, "lines cut anywhere", 0, { B("a\nb"), B("c\nd"), B("\n"), B("e\n") }, 1,
		B("a\nbc\nd\ne\n"), 0, 0 },
	{ __LINE__, "\\r\\n: the \\r goes too; a \\r inside stays", 0, { B("x\r\ny\rz\n") }, 1,
		B("x\ny\rz\n"), 0, 0 },
	{ __LINE__, "empty lines", 0, { B("\n\n") }, 1, B("\n\n"), 0, 0 },
	{ __LINE__, "a NUL inside a line: line_len counts it", 0, { B("a\0b\n") }, 1,
		B("a\0b\n"), 0, 0 },
	{ __LINE__, "a partial line at EOF is dropped", 0, { B("a\nb") }, 1, B("a\n"), 0, 0 },
	{ __LINE__, "EOF at once", 0, { B("") }, 1, B(""), 0, 0 },
	{ __LINE__, "peer still open: the wait times out", 0, { B("a\n"), B("part") }, 0,
		B("a\n"), -1, ETIMEDOUT },
	{ __LINE__, "max_line 8: 7 bytes and the newline fit", 8, { B("1234567\n") }, 1,
		B("1234567\n"), 0, 0 },
	{ __LINE__, "max_line 8: 8 bytes and the newline do not", 8, { B("12345678\n") }, 1,
		B(""), -1, EMSGSIZE },
	{ __LINE__, "max_line 8: the \\r counts", 8, { B("123456\r\n") }, 1, B("123456\n"), 0, 0 },
	{ __LINE__, "max_line 8: \\r\\n one over", 8, { B("1234567\r\n") }, 1, B(""), -1, EMSGSIZE },
	{ __LINE__, "max_line 8: too long in pieces", 8, { B("1234"), B("5678"), B("9\n") }, 0,
		B(""), -1, EMSGSIZE },
	{ __LINE__, "max_line 8: good lines, then one too long", 8,
		{ B("ab\ncd\n"), B("12345678\n") }, 1, B("ab\ncd\n"), -1, EMSGSIZE },
	{ __LINE__, "max_line 8: 16 bytes of short lines in one write", 8,
		{ B("abc\ndef\nghi\njkl\n") }, 1, B("abc\ndef\nghi\njkl\n"), 0, 0 },
	{ __LINE__, "max_line 1: only empty lines", 1, { B("\n\n"), B("x\n") }, 1,
		B("\n\n"), -1, EMSGSIZE },
};

/* What one row gives through pump() + next_line() */
static void rd_pump(const struct rd_case *c, struct got *g, int *end, int *end_errno)
{
	struct ctlclient k;
	int peer, r = 1;

	pair(&k, &peer, c->max_line);
	for (int i = 0; i < 4 && c->chunk[i].p && r > 0; i++) {
		peer_write(peer, c->chunk[i].p, c->chunk[i].len);
		if (c->close && (i == 3 || !c->chunk[i + 1].p)) {
			close(peer);
			peer = -1;
		}
		/* everything the socket has, each read drained of its lines */
		while (readable(k.fd) && (r = ctlclient_pump(&k)) > 0)
			while (ctlclient_next_line(&k))
				got_line(g, &k);
	}
	if (r == 0)
		*end = 0;
	else if (r < 0)
		*end = -1, *end_errno = errno;
	else
		*end = -1, *end_errno = ETIMEDOUT; /* nothing more to read */
	ctlclient_close(&k);
	if (peer >= 0)
		close(peer);
}

/* What one row gives through read_line() with a short deadline */
static void rd_line(const struct rd_case *c, struct got *g, int *end, int *end_errno)
{
	struct ctlclient k;
	int peer, r = 1;

	pair(&k, &peer, c->max_line);
	for (int i = 0; i < 4 && c->chunk[i].p; i++) {
		peer_write(peer, c->chunk[i].p, c->chunk[i].len);
		if (c->close && (i == 3 || !c->chunk[i + 1].p)) {
			close(peer);
			peer = -1;
		}
		/* this chunk is read before the next is written: the deadline
		 * passes once it is all in */
		while ((r = ctlclient_read_line(&k, loop_now_ms() + SHORT_MS)) == 1)
			got_line(g, &k);
		if (r == 0 || errno != ETIMEDOUT)
			break;
	}
	*end = r;
	*end_errno = r < 0 ? errno : 0;
	ctlclient_close(&k);
	if (peer >= 0)
		close(peer);
}

static void test_read_table(void)
{
	for (size_t i = 0; i < sizeof rd_cases / sizeof rd_cases[0]; i++) {
		const struct rd_case *c = &rd_cases[i];
		for (int mode = 0; mode < 2; mode++) {
			struct got g = { .len = 0 };
			int end = 9, end_errno = 0;
			if (mode)
				rd_line(c, &g, &end, &end_errno);
			else
				rd_pump(c, &g, &end, &end_errno);
			if (!OK(g.len == c->want.len && !memcmp(g.buf, c->want.p, g.len) &&
					g.n == count_nl(c->want.p, c->want.len) &&
					end == c->end && (end == 0 || end_errno == c->end_errno),
					"%s: %s", mode ? "read_line" : "pump", c->desc))
				tap_diag("got %d lines, %zu bytes '%.*s', end %d errno %d (%s)",
					g.n, g.len, (int)g.len, g.buf, end, end_errno, strerror(end_errno));
		}
	}
}

/* After EOF, again EOF; after EMSGSIZE, again EMSGSIZE */
static void test_sticky(void)
{
	struct ctlclient k;
	int peer;

	pair(&k, &peer, 0);
	peer_write(peer, "a\n", 2);
	close(peer);
	OK(ctlclient_read_line(&k, -1) == 1 && ctlclient_read_line(&k, -1) == 0 &&
		ctlclient_read_line(&k, -1) == 0 && ctlclient_pump(&k) == 0 &&
		!ctlclient_next_line(&k), "EOF stays EOF");
	ctlclient_close(&k);

	pair(&k, &peer, 4);
	peer_write(peer, "abcdef\n", 7);
	errno = 0;
	OK(ctlclient_read_line(&k, -1) == -1 && errno == EMSGSIZE, "line over the cap: EMSGSIZE");
	errno = 0;
	OK(ctlclient_read_line(&k, -1) == -1 && errno == EMSGSIZE &&
		ctlclient_pump(&k) == -1 && errno == EMSGSIZE, "and again on the next calls");
	ctlclient_close(&k);
	close(peer);
}

/* A full buffer of complete lines: pump() returns 1 without reading */
static void test_pump_full(void)
{
	struct ctlclient k;
	int peer;

	pair(&k, &peer, 8);
	peer_write(peer, "ab\ncd\nef\n", 9);
	OK(ctlclient_pump(&k) == 1 && k.len == 8, "pump reads 8 bytes (the cap)");
	OK(ctlclient_pump(&k) == 1 && k.len == 8 && readable(k.fd),
		"buffer full of lines: pump returns 1 and leaves the socket alone");
	OK(ctlclient_next_line(&k) && !strcmp(k.line, "ab") &&
		ctlclient_next_line(&k) && !strcmp(k.line, "cd") && !ctlclient_next_line(&k),
		"the two whole lines are taken");
	OK(ctlclient_pump(&k) == 1 && ctlclient_next_line(&k) && !strcmp(k.line, "ef"),
		"then the rest is read");
	ctlclient_close(&k);
	close(peer);
}

static void test_deadline(void)
{
	struct ctlclient k;
	int peer;
	int64_t t0, dt;

	pair(&k, &peer, 0);
	t0 = loop_now_ms();
	errno = 0;
	OK(ctlclient_read_line(&k, t0 + 100) == -1 && errno == ETIMEDOUT,
		"nothing comes: ETIMEDOUT");
	dt = loop_now_ms() - t0;
	OK(dt >= 100 && dt < WAIT_MS, "after the deadline (%lld ms for 100)", (long long)dt);

	peer_write(peer, "late\n", 5);
	OK(ctlclient_read_line(&k, loop_now_ms() + WAIT_MS) == 1 && !strcmp(k.line, "late"),
		"after a timeout the connection still works");

	peer_write(peer, "a\nb\n", 4);
	OK(ctlclient_read_line(&k, loop_now_ms() + WAIT_MS) == 1 && !strcmp(k.line, "a"),
		"two lines sent, one taken");
	OK(ctlclient_read_line(&k, loop_now_ms() - 1) == 1 && !strcmp(k.line, "b"),
		"deadline already past: a buffered line is still returned");
	peer_write(peer, "c\n", 2);
	errno = 0;
	OK(ctlclient_read_line(&k, loop_now_ms() - 1) == -1 && errno == ETIMEDOUT,
		"deadline already past: nothing more is read (ETIMEDOUT)");
	OK(ctlclient_read_line(&k, -1) == 1 && !strcmp(k.line, "c"),
		"no deadline: it is read");
	ctlclient_close(&k);
	close(peer);
}

static void test_nonblocking(void)
{
	struct ctlclient k;
	int peer;

	pair(&k, &peer, 0);
	fcntl(k.fd, F_SETFL, fcntl(k.fd, F_GETFL) | O_NONBLOCK);
	errno = 0;
	OK(ctlclient_pump(&k) == -1 && errno == EAGAIN, "non-blocking fd, nothing there: pump EAGAIN");
	errno = 0;
	OK(ctlclient_read_line(&k, loop_now_ms() + SHORT_MS) == -1 && errno == ETIMEDOUT,
		"non-blocking fd: read_line waits for the deadline, ETIMEDOUT");
	{
		char *w[] = { "version" };
		char buf[32];
		OK(ctlclient_send(&k, w, 1, NULL, 0) == 0 &&
			peer_take(peer, buf, sizeof buf) == 8 && !strcmp(buf, "version\n"),
			"non-blocking fd: send");
	}
	peer_write(peer, "{}\n", 3);
	OK(ctlclient_read_line(&k, loop_now_ms() + WAIT_MS) == 1 && !strcmp(k.line, "{}"),
		"non-blocking fd: read_line");
	ctlclient_close(&k);
	close(peer);
}

/* A 3 MiB line (past the 16 KiB start, many reads, the socket buffer full
 * many times): the peer writes without blocking while the client pumps */
static void test_big_line(void)
{
	const size_t big = 3u << 20;
	char *data = malloc(big + 1);
	struct ctlclient k;
	size_t off = 0;
	int peer, r = 1, lines = 0, ok = 1;
	int64_t end = loop_now_ms() + WAIT_MS;

	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	data[big] = '\n';
	pair(&k, &peer, 0);
	fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) | O_NONBLOCK);
	while (r > 0 && !lines && loop_now_ms() < end) {
		if (off <= big) {
			ssize_t n = send(peer, data + off, big + 1 - off, MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
		}
		struct pollfd p = { .fd = k.fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			r = ctlclient_pump(&k);
		while (ctlclient_next_line(&k)) {
			lines++;
			ok = k.line_len == big && !memcmp(k.line, data, big);
		}
	}
	OK(lines == 1 && ok, "a 3 MiB line read whole (%d line, buffer %zu bytes)", lines, k.cap);
	OK(k.cap <= 4u << 20, "the buffer grew by doubling, not past what the line needs");

	/* the same with a 1 MiB cap: EMSGSIZE, memory stays at the cap */
	ctlclient_close(&k);
	close(peer);
	pair(&k, &peer, 1u << 20);
	fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) | O_NONBLOCK);
	off = 0;
	r = 1;
	end = loop_now_ms() + WAIT_MS;
	while (r > 0 && loop_now_ms() < end) {
		if (off <= big) {
			ssize_t n = send(peer, data + off, big + 1 - off, MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
		}
		struct pollfd p = { .fd = k.fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			r = ctlclient_pump(&k);
		while (ctlclient_next_line(&k))
			lines++;
	}
	OK(r == -1 && errno == EMSGSIZE && k.cap == (1u << 20) + 1 && k.len == 1u << 20,
		"3 MiB line, cap 1 MiB: EMSGSIZE, buffer of cap + 1 bytes");
	ctlclient_close(&k);
	close(peer);
	free(data);
}

/* ------------------------------------------- with the real server */

static void srv_handler(struct ctlsrv *s, struct ctlconn *c, int argc,
	char **argv, void *ctx)
{
	char buf[64];
	int n;

	(void)s, (void)argv, (void)ctx;
	n = snprintf(buf, sizeof buf, "{\"ok\":true,\"words\":%d}\n", argc);
	ctlsrv_reply(c, buf, (size_t)n);
}

/* Runs the server's loop until the client has a line (or WAIT_MS) */
static int srv_reply(struct loop *l, struct ctlclient *k)
{
	int64_t end = loop_now_ms() + WAIT_MS;

	while (loop_now_ms() < end) {
		if (ctlclient_next_line(k))
			return 1;
		loop_run_once(l, 10);
		if (readable(k->fd) && ctlclient_pump(k) <= 0)
			return 0;
	}
	return 0;
}

static void test_with_ctlsrv(void)
{
	struct loop *l = loop_new();
	struct ctlsrv *s = l ? ctlsrv_open(l, path, -1, srv_handler, NULL) : NULL;
	char err[CTLCLIENT_ERR_MAX];
	static char line[PROTO_MAX_LINE];
	char *words[PROTO_MAX_WORDS];
	struct ctlclient k;

	if (!OK(s != NULL, "ctlsrv listening")) {
		loop_free(l);
		return;
	}
	OK(ctlclient_connect(&k, path, 0, err, sizeof err) == 0, "connect to ctlsrv");
	for (int i = 0; i < PROTO_MAX_WORDS; i++)
		words[i] = "w";
	OK(ctlclient_send(&k, words, PROTO_MAX_WORDS, err, sizeof err) == 0 && srv_reply(l, &k) &&
		!strcmp(k.line, "{\"ok\":true,\"words\":256}"),
		"the most words ctlclient sends, the server takes");
	memset(line, 'm', PROTO_MAX_LINE - 1);
	line[PROTO_MAX_LINE - 1] = '\0';
	OK(ctlclient_send_line(&k, line, err, sizeof err) == 0 && srv_reply(l, &k) &&
		!strcmp(k.line, "{\"ok\":true,\"words\":1}"),
		"the longest line ctlclient sends, the server takes");
	ctlclient_close(&k);
	ctlsrv_close(s);
	loop_run_once(l, 0);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test */
	alarm(WATCHDOG);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/mls.sock", dir) >= sizeof path)
		return 1;

	test_connect();
	test_adopt();
	test_check_words();
	test_send();
	test_send_line();
	test_send_closed();
	test_read_table();
	test_sticky();
	test_pump_full();
	test_deadline();
	test_nonblocking();
	test_big_line();
	test_with_ctlsrv();

	unlink(path);
	rmdir(dir);
	return tap_done();
}
