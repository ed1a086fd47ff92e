/* Unit tests for lib/httpcheck.c: URL and HOST:PORT parsing, the request,
 * the incremental status-line reader (whole, byte by byte, at every split)
 * and the healthy-code rule. One table per function, each row with the
 * line it is on. Output is TAP; exit status 1 if any case failed. */
#include "httpcheck.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OK 0
#define ERR (-1)

/* ------------------------------------------------------------------ url */

static const struct {
	int line;
	const char *in;
	int rc;
	int tls;
	const char *host, *port, *path;
	const char *err; /* a substring of the message */
} url_cases[] = {
	{ __LINE__, "http://127.0.0.1:8080/health", OK, 0, "127.0.0.1", "8080", "/health", 0 },
	{ __LINE__, "http://example.com", OK, 0, "example.com", "80", "/", 0 },
	{ __LINE__, "https://example.com", OK, 1, "example.com", "443", "/", 0 },
	{ __LINE__, "HTTPS://Example.COM/X", OK, 1, "Example.COM", "443", "/X", 0 },
	{ __LINE__, "http://h/a/b?x=1&y=2", OK, 0, "h", "80", "/a/b?x=1&y=2", 0 },
	{ __LINE__, "http://h?x=1", OK, 0, "h", "80", "/?x=1", 0 },
	{ __LINE__, "http://h/p#frag", OK, 0, "h", "80", "/p", 0 },
	{ __LINE__, "http://h#frag", OK, 0, "h", "80", "/", 0 },
	{ __LINE__, "http://h:1/", OK, 0, "h", "1", "/", 0 },
	{ __LINE__, "http://h:65535/", OK, 0, "h", "65535", "/", 0 },
	{ __LINE__, "http://h:00080/", OK, 0, "h", "00080", "/", 0 },
	{ __LINE__, "http://[::1]:8080/x", OK, 0, "::1", "8080", "/x", 0 },
	{ __LINE__, "https://[2001:db8::1]/", OK, 1, "2001:db8::1", "443", "/", 0 },
	{ __LINE__, "http://[::ffff:10.0.0.1]", OK, 0, "::ffff:10.0.0.1", "80", "/", 0 },
	{ __LINE__, "http://my_host-1.local:81", OK, 0, "my_host-1.local", "81", "/", 0 },
	/* refused */
	{ __LINE__, "ftp://h/", ERR, 0, 0, 0, 0, "not an http:// or https:// URL" },
	{ __LINE__, "h:80", ERR, 0, 0, 0, 0, "not an http:// or https:// URL" },
	{ __LINE__, "", ERR, 0, 0, 0, 0, "not an http" },
	{ __LINE__, "http:/h", ERR, 0, 0, 0, 0, "not an http" },
	{ __LINE__, "http://", ERR, 0, 0, 0, 0, "no host" },
	{ __LINE__, "http:///x", ERR, 0, 0, 0, 0, "no host" },
	{ __LINE__, "http://:80/", ERR, 0, 0, 0, 0, "no host" },
	{ __LINE__, "http://h:/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://h:0/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://h:65536/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://h:123456/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://h:-1/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://h:8x/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://h:80:81/", ERR, 0, 0, 0, 0, "bad port" },
	{ __LINE__, "http://u:p@h/", ERR, 0, 0, 0, 0, "user info" },
	{ __LINE__, "http://h/a b", ERR, 0, 0, 0, 0, "blank or control" },
	{ __LINE__, "http://h/a\r\nX: y", ERR, 0, 0, 0, 0, "blank or control" },
	{ __LINE__, "http://h\x7f/", ERR, 0, 0, 0, 0, "blank or control" },
	{ __LINE__, "http://h%41/", ERR, 0, 0, 0, 0, "bad character" },
	{ __LINE__, "http://[::1/", ERR, 0, 0, 0, 0, "no ']'" },
	{ __LINE__, "http://[::1]x/", ERR, 0, 0, 0, 0, "expected ':PORT'" },
	{ __LINE__, "http://[]/", ERR, 0, 0, 0, 0, "bad IPv6" },
	{ __LINE__, "http://[zz::1]/", ERR, 0, 0, 0, 0, "bad IPv6" },
	{ __LINE__, "http://[127.0.0.1]/", ERR, 0, 0, 0, 0, "bad IPv6" },
	{ __LINE__, "http://::1/", ERR, 0, 0, 0, 0, "no host" },
};

static void test_url(void)
{
	for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
		struct http_url u;
		char err[256] = "";
		int rc = http_url_parse(url_cases[i].in, &u, err, sizeof err);
		int ok = rc == url_cases[i].rc;
		if (ok && rc == OK)
			ok = u.tls == url_cases[i].tls &&
				!strcmp(u.host, url_cases[i].host) &&
				!strcmp(u.port, url_cases[i].port) &&
				!strcmp(u.path, url_cases[i].path);
		if (ok && rc == ERR)
			ok = strstr(err, url_cases[i].err) != NULL;
		if (!tap_ok(ok, url_cases[i].line, "http_url_parse(\"%s\")", url_cases[i].in)) {
			if (rc == OK)
				tap_diag("got rc 0 tls %d host '%s' port '%s' path '%s'",
					u.tls, u.host, u.port, u.path);
			else
				tap_diag("got rc %d err '%s'", rc, err);
		}
	}

	/* limits: host of 255 bytes fits, 256 does not; path of 2047 fits */
	char big[4200];
	struct http_url u;
	char err[256];
	strcpy(big, "http://");
	memset(big + 7, 'a', 255);
	strcpy(big + 7 + 255, "/");
	tap_ok(http_url_parse(big, &u, err, sizeof err) == OK && strlen(u.host) == 255,
		__LINE__, "http_url_parse: a host of 255 bytes");
	memset(big + 7, 'a', 256);
	strcpy(big + 7 + 256, "/");
	tap_ok(http_url_parse(big, &u, err, sizeof err) == ERR && strstr(err, "too long"),
		__LINE__, "http_url_parse: a host of 256 bytes is refused");
	strcpy(big, "http://h/");
	memset(big + 9, 'p', 2046);
	big[9 + 2046] = 0;
	tap_ok(http_url_parse(big, &u, err, sizeof err) == OK && strlen(u.path) == 2047,
		__LINE__, "http_url_parse: a path of 2047 bytes");
	strcpy(big + 9 + 2046, "p");
	tap_ok(http_url_parse(big, &u, err, sizeof err) == ERR && strstr(err, "path too long"),
		__LINE__, "http_url_parse: a path of 2048 bytes is refused");
	/* the message is cut to errsz, NUL-terminated */
	char tiny[8];
	memset(tiny, 'x', sizeof tiny);
	tap_ok(http_url_parse("ftp://x", &u, tiny, sizeof tiny) == ERR &&
		tiny[7] == 0, __LINE__, "http_url_parse: err cut to errsz");
	tap_ok(http_url_parse("ftp://x", &u, NULL, 0) == ERR, __LINE__,
		"http_url_parse: err NULL with errsz 0");
}

/* ------------------------------------------------------------- request */

static const struct {
	int line;
	const char *url;
	const char *want;
} req_cases[] = {
	{ __LINE__, "http://127.0.0.1:8080/health",
	  "GET /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
	{ __LINE__, "http://example.com",
	  "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
	{ __LINE__, "https://example.com:443/a?b=c",
	  "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
	{ __LINE__, "https://example.com:80/",
	  "GET / HTTP/1.1\r\nHost: example.com:80\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
	{ __LINE__, "http://example.com:443/",
	  "GET / HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
	{ __LINE__, "http://[::1]:81/x",
	  "GET /x HTTP/1.1\r\nHost: [::1]:81\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
	{ __LINE__, "http://[::1]/",
	  "GET / HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: mls/1.2\r\n"
	  "Connection: close\r\n\r\n" },
};

static void test_request(void)
{
	for (size_t i = 0; i < sizeof req_cases / sizeof req_cases[0]; i++) {
		struct http_url u;
		char buf[512];
		int ok = http_url_parse(req_cases[i].url, &u, NULL, 0) == OK;
		int n = ok ? http_request(&u, "1.2", buf, sizeof buf) : -1;
		ok = n == (int)strlen(req_cases[i].want) && !strcmp(buf, req_cases[i].want);
		if (!tap_ok(ok, req_cases[i].line, "http_request(%s)", req_cases[i].url))
			tap_diag("got %d '%s'", n, n >= 0 ? buf : "");
	}
	/* exactly fitting, and one byte short */
	struct http_url u;
	char buf[512];
	http_url_parse("http://h/", &u, NULL, 0);
	int n = http_request(&u, "v", buf, sizeof buf);
	tap_ok(n > 0 && http_request(&u, "v", buf, (size_t)n + 1) == n, __LINE__,
		"http_request: fits in length + 1 bytes");
	tap_ok(http_request(&u, "v", buf, (size_t)n) == -1, __LINE__,
		"http_request: -1 when one byte short");
	/* the documented bound: the longest URL and a 64-byte version */
	static char big[4400], url[2400];
	strcpy(url, "https://");
	memset(url + 8, 'h', 255);
	strcpy(url + 8 + 255, ":65535/");
	memset(url + 8 + 255 + 7, 'p', 2046);
	url[8 + 255 + 7 + 2046] = 0;
	char ver[65];
	memset(ver, 'v', 64);
	ver[64] = 0;
	tap_ok(http_url_parse(url, &u, NULL, 0) == OK &&
		http_request(&u, ver, big, sizeof big) > 0, __LINE__,
		"http_request: the longest URL fits in 4,400 bytes");
}

/* -------------------------------------------------------------- status */

static const struct {
	int line;
	const char *in; /* fed whole (strlen) */
	int rc;
	int code;
	const char *err;
} st_cases[] = {
	{ __LINE__, "HTTP/1.1 200 OK\r\n", 1, 200, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\n", 1, 200, 0 },
	{ __LINE__, "HTTP/1.0 503 x\r\n", 1, 503, 0 },
	{ __LINE__, "HTTP/1.1 200\r\n", 1, 200, 0 },
	{ __LINE__, "HTTP/1.1 200\n", 1, 200, 0 },
	{ __LINE__, "HTTP/1.1 204 \r\n", 1, 204, 0 },
	{ __LINE__, "HTTP/1.1 100 Continue\r\n", 1, 100, 0 },
	{ __LINE__, "HTTP/1.1 599 Custom\r\n", 1, 599, 0 },
	{ __LINE__, "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\n\r\n", 1, 301, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 1, 200, 0 },
	{ __LINE__, "HTTP/1.9 404 Not \r Found\r\n", 1, 404, 0 },
	{ __LINE__, "HTTP/1.1 500 reason with\0nul\r\n", 0, 0, 0 }, /* cut by strlen: needs more */
	/* incomplete: need more */
	{ __LINE__, "", 0, 0, 0 },
	{ __LINE__, "H", 0, 0, 0 },
	{ __LINE__, "HTTP/1.1", 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200", 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200\r", 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK", 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r", 0, 0, 0 },
	/* bad */
	{ __LINE__, "HTTP/2 200\r\n", -1, 0, "not an HTTP/1.x status line" },
	{ __LINE__, "HTTP/1.1 099 x\r\n", -1, 0, "status code 099" },
	{ __LINE__, "HTTP/1.1 600 x\r\n", -1, 0, "status code 600" },
	{ __LINE__, "HTTP/1.1 000\r\n", -1, 0, "status code 000" },
	{ __LINE__, "HTTP/1.1 20\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.1 2000\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.1 20x\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.1  200\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.1 -20\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.1 200\rX\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.1\t200\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "http/1.1 200\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "HTTP/1.x 200\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, " HTTP/1.1 200\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "\r\nHTTP/1.1 200\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "SSH-2.0-OpenSSH_9.2p1\r\n", -1, 0, "not an HTTP/1.x" },
	{ __LINE__, "X", -1, 0, "not an HTTP/1.x" }, /* garbage fails at once */
	{ __LINE__, "\x16\x03\x01", -1, 0, "not an HTTP/1.x" }, /* a TLS record */
};

/* Feeds s[0..n) in pieces of `step` bytes (0: all at once) */
static int feed_steps(const char *s, size_t n, size_t step, int *code,
	char *err, size_t errsz)
{
	struct http_status_rd r;
	memset(&r, 0, sizeof r);
	if (!step)
		return http_status_feed(&r, s, n, code, err, errsz);
	int rc = 0;
	for (size_t off = 0; off < n && rc == 0; off += step) {
		size_t k = n - off < step ? n - off : step;
		rc = http_status_feed(&r, s + off, k, code, err, errsz);
	}
	return rc;
}

static void test_status(void)
{
	for (size_t i = 0; i < sizeof st_cases / sizeof st_cases[0]; i++) {
		const char *s = st_cases[i].in;
		size_t n = strlen(s);
		static const size_t steps[] = { 0, 1, 2, 3, 7, 13 };
		for (size_t j = 0; j < sizeof steps / sizeof steps[0]; j++) {
			int code = -7;
			char err[256] = "";
			int rc = feed_steps(s, n, steps[j], &code, err, sizeof err);
			int ok = rc == st_cases[i].rc;
			if (ok && rc == 1)
				ok = code == st_cases[i].code;
			if (ok && rc == -1)
				ok = !strncmp(err, "bad response: ", 14) &&
					strstr(err, st_cases[i].err) != NULL;
			if (!tap_ok(ok, st_cases[i].line, "http_status_feed(\"%s\") in pieces of %zu",
					s, steps[j]))
				tap_diag("got rc %d code %d err '%s'", rc, code, err);
		}
	}

	/* every split in two of a full response gives the same answer */
	const char *resp = "HTTP/1.1 503 Service Unavailable\r\nX: y\r\n\r\nbody";
	size_t n = strlen(resp);
	int bad = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		struct http_status_rd r;
		int code = 0, rc;
		memset(&r, 0, sizeof r);
		rc = http_status_feed(&r, resp, cut, &code, NULL, 0);
		if (rc == 0)
			rc = http_status_feed(&r, resp + cut, n - cut, &code, NULL, 0);
		if (rc != 1 || code != 503)
			bad++;
	}
	tap_ok(!bad, __LINE__, "http_status_feed: every split in two gives 503");

	/* finished readers repeat their answer and read nothing */
	struct http_status_rd r;
	int code = 0;
	char err[256];
	memset(&r, 0, sizeof r);
	http_status_feed(&r, "HTTP/1.1 204\r\n", 14, &code, NULL, 0);
	code = 0;
	tap_ok(http_status_feed(&r, "garbage", 7, &code, NULL, 0) == 1 && code == 204,
		__LINE__, "http_status_feed: after 1, 1 again with the same code");
	memset(&r, 0, sizeof r);
	http_status_feed(&r, "nope", 4, &code, NULL, 0);
	tap_ok(http_status_feed(&r, "HTTP/1.1 200\r\n", 14, &code, err, sizeof err) == -1 &&
		!strncmp(err, "bad response", 12),
		__LINE__, "http_status_feed: after -1, -1 again");
	memset(&r, 0, sizeof r);
	tap_ok(http_status_feed(&r, NULL, 0, &code, NULL, 0) == 0, __LINE__,
		"http_status_feed: n 0, buf NULL");
	/* a NUL byte in the reason phrase is not looked at */
	static const char nul[] = "HTTP/1.1 500 reason\0with nul\r\n";
	memset(&r, 0, sizeof r);
	tap_ok(http_status_feed(&r, nul, sizeof nul - 1, &code, NULL, 0) == 1 && code == 500,
		__LINE__, "http_status_feed: a NUL in the reason phrase");

	/* the bound: "\n" as byte 1024 is fine, byte 1025 is too late */
	static char big[1 << 20];
	memcpy(big, "HTTP/1.1 200 ", 13);
	memset(big + 13, 'r', HTTP_STATUS_MAX - 13);
	big[HTTP_STATUS_MAX - 1] = '\n';
	code = 0;
	tap_ok(feed_steps(big, HTTP_STATUS_MAX, 0, &code, NULL, 0) == 1 && code == 200,
		__LINE__, "http_status_feed: a line of exactly %d bytes", HTTP_STATUS_MAX);
	big[HTTP_STATUS_MAX - 1] = 'r';
	big[HTTP_STATUS_MAX] = '\n';
	for (size_t step = 0; step <= 1; step++) {
		int rc = feed_steps(big, HTTP_STATUS_MAX + 1, step, &code, err, sizeof err);
		tap_ok(rc == -1 && strstr(err, "no end of the status line within 1024 bytes"),
			__LINE__, "http_status_feed: a line of %d bytes is bad (pieces of %zu)",
			HTTP_STATUS_MAX + 1, step);
	}
	big[HTTP_STATUS_MAX - 1] = 'r';
	big[HTTP_STATUS_MAX] = 'r';
	tap_ok(feed_steps(big, HTTP_STATUS_MAX - 1, 0, &code, NULL, 0) == 0, __LINE__,
		"http_status_feed: %d bytes without a line end need more", HTTP_STATUS_MAX - 1);
	tap_ok(feed_steps(big, HTTP_STATUS_MAX, 0, &code, err, sizeof err) == -1,
		__LINE__, "http_status_feed: %d bytes without a line end are bad", HTTP_STATUS_MAX);

	/* 1 MiB of garbage, and 1 MiB of header without a line end, both
	 * fail without reading past the bound */
	srand(8);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(rand() & 0xff);
	big[0] = 'G'; /* not 'H': garbage for sure */
	for (size_t step = 0; step <= 4096; step += 4096) {
		memset(&r, 0, sizeof r);
		int rc = 0;
		size_t off;
		for (off = 0; off < sizeof big && rc == 0; off += step ? step : sizeof big)
			rc = http_status_feed(&r, big + off, step ? step : sizeof big, &code, err, sizeof err);
		tap_ok(rc == -1 && strstr(err, "not an HTTP/1.x"), __LINE__,
			"http_status_feed: 1 MiB of garbage (pieces of %zu)", step);
	}
	memcpy(big, "HTTP/1.1 200 ", 13);
	memset(big + 13, 'A', sizeof big - 13);
	for (size_t step = 0; step <= 4096; step += 4096) {
		memset(&r, 0, sizeof r);
		int rc = 0;
		size_t off, fed = 0;
		for (off = 0; off < sizeof big && rc == 0; off += step ? step : sizeof big) {
			rc = http_status_feed(&r, big + off, step ? step : sizeof big, &code, err, sizeof err);
			fed++;
		}
		tap_ok(rc == -1 && strstr(err, "within 1024 bytes") && (!step || fed == 1),
			__LINE__, "http_status_feed: 1 MiB of one header line (pieces of %zu)", step);
	}
}

/* ------------------------------------------------------------------ ok */

static const int exp1[] = { 200 };
static const int exp3[] = { 204, 418, 503 };

static const struct {
	int line;
	int code;
	const int *expect;
	int n;
	int want;
} ok_cases[] = {
	{ __LINE__, 200, NULL, 0, 1 },
	{ __LINE__, 204, NULL, 0, 1 },
	{ __LINE__, 301, NULL, 0, 1 },
	{ __LINE__, 399, NULL, 0, 1 },
	{ __LINE__, 199, NULL, 0, 0 },
	{ __LINE__, 100, NULL, 0, 0 },
	{ __LINE__, 400, NULL, 0, 0 },
	{ __LINE__, 404, NULL, 0, 0 },
	{ __LINE__, 503, NULL, 0, 0 },
	{ __LINE__, 200, exp1, 1, 1 },
	{ __LINE__, 204, exp1, 1, 0 },
	{ __LINE__, 503, exp3, 3, 1 },
	{ __LINE__, 418, exp3, 3, 1 },
	{ __LINE__, 200, exp3, 3, 0 },
};

static void test_ok(void)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++)
		tap_ok(http_status_ok(ok_cases[i].code, ok_cases[i].expect, ok_cases[i].n) ==
			ok_cases[i].want, ok_cases[i].line, "http_status_ok(%d, %d expected)",
			ok_cases[i].code, ok_cases[i].n);
}

/* ------------------------------------------------------------ hostport */

static const struct {
	int line;
	const char *in;
	int rc;
	const char *host, *port, *err;
} hp_cases[] = {
	{ __LINE__, "127.0.0.1:5432", OK, "127.0.0.1", "5432", 0 },
	{ __LINE__, "localhost:1", OK, "localhost", "1", 0 },
	{ __LINE__, "db.internal:65535", OK, "db.internal", "65535", 0 },
	{ __LINE__, "[::1]:80", OK, "::1", "80", 0 },
	{ __LINE__, "[fe80::1]:8080", OK, "fe80::1", "8080", 0 },
	{ __LINE__, "db", ERR, 0, 0, "expected HOST:PORT" },
	{ __LINE__, "[::1]", ERR, 0, 0, "expected HOST:PORT" },
	{ __LINE__, "db:", ERR, 0, 0, "bad port" },
	{ __LINE__, ":80", ERR, 0, 0, "no host" },
	{ __LINE__, "", ERR, 0, 0, "no host" },
	{ __LINE__, "db:0", ERR, 0, 0, "bad port" },
	{ __LINE__, "db:65536", ERR, 0, 0, "bad port" },
	{ __LINE__, "db:http", ERR, 0, 0, "bad port" },
	{ __LINE__, "::1:80", ERR, 0, 0, "no host" },
	{ __LINE__, "[::1]80", ERR, 0, 0, "expected ':PORT'" },
	{ __LINE__, "[::1:80", ERR, 0, 0, "no ']'" },
	{ __LINE__, "[nope]:80", ERR, 0, 0, "bad IPv6" },
	{ __LINE__, "d b:80", ERR, 0, 0, "blank or control" },
	{ __LINE__, "db/x:80", ERR, 0, 0, "bad character" },
	{ __LINE__, "http://db:80", ERR, 0, 0, "bad port" },
};

static void test_hostport(void)
{
	for (size_t i = 0; i < sizeof hp_cases / sizeof hp_cases[0]; i++) {
		char host[256] = "", port[8] = "", err[256] = "";
		int rc = hostport_parse(hp_cases[i].in, host, sizeof host, port, sizeof port,
			err, sizeof err);
		int ok = rc == hp_cases[i].rc;
		if (ok && rc == OK)
			ok = !strcmp(host, hp_cases[i].host) && !strcmp(port, hp_cases[i].port);
		if (ok && rc == ERR)
			ok = strstr(err, hp_cases[i].err) != NULL;
		if (!tap_ok(ok, hp_cases[i].line, "hostport_parse(\"%s\")", hp_cases[i].in))
			tap_diag("got rc %d host '%s' port '%s' err '%s'", rc, host, port, err);
	}
	char host[5], port[8], err[256];
	tap_ok(hostport_parse("abcd:1", host, sizeof host, port, sizeof port, err, sizeof err) == OK,
		__LINE__, "hostport_parse: host fills hsz exactly");
	tap_ok(hostport_parse("abcde:1", host, sizeof host, port, sizeof port, err, sizeof err) == ERR &&
		strstr(err, "too long"), __LINE__, "hostport_parse: host one byte too long");
	char p2[2];
	tap_ok(hostport_parse("h:80", host, sizeof host, p2, sizeof p2, err, sizeof err) == ERR,
		__LINE__, "hostport_parse: port too long for psz");
}

int main(void)
{
	test_url();
	test_request();
	test_status();
	test_ok();
	test_hostport();
	return tap_done();
}
