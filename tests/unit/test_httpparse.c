/* Unit tests for lib/httpparse.c: every refusal status, pipelined
 * requests in one buffer, a request split at every byte, the limits at
 * and one past their edge, the query helper. Output is TAP. */
#include "httpparse.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)

/* parses a copy of s; returns http_parse()'s value */
static long parse(const char *s, size_t n, struct http_req *r, char **keep)
{
	char *b = malloc(n + 1);
	long rc;

	memcpy(b, s, n);
	b[n] = '\0';
	rc = http_parse(b, n, r);
	if (keep)
		*keep = b;
	else
		free(b);
	return rc;
}

static const struct {
	int line;
	const char *in;
	long want; /* > 0: the whole input; 0 incomplete; < 0 status */
} cases[] = {
	{ __LINE__, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1 },
	{ __LINE__, "GET / HTTP/1.0\r\n\r\n", 1 },
	{ __LINE__, "GET / HTTP/1.1\nHost: a\n\n", 1 },
	{ __LINE__, "\r\n\r\nGET / HTTP/1.0\r\n\r\n", 1 },
	{ __LINE__, "HEAD /x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n", 1 },
	{ __LINE__, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 1 },
	{ __LINE__, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab", 0 },
	{ __LINE__, "GET / HTTP/1.1\r\nHost: a\r\n", 0 },
	{ __LINE__, "", 0 },
	{ __LINE__, "\r\n", 0 },
	/* 400 */
	{ __LINE__, "GET / HTTP/1.1\r\n\r\n", -400 },                 /* no Host */
	{ __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400 },
	{ __LINE__, "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.1\r\nHost a\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", -400 },
	{ __LINE__, "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTX/1.1\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "GET / HTTP/1.x\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", -400 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", -400 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", -400 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", -400 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", -400 },
	/* 405, 501, 505, 411, 413 */
	{ __LINE__, "PUT / HTTP/1.1\r\nHost: a\r\n\r\n", -405 },
	{ __LINE__, "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", -405 },
	{ __LINE__, "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", -501 },
	{ __LINE__, "get / HTTP/1.1\r\nHost: a\r\n\r\n", -501 },
	{ __LINE__, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505 },
	{ __LINE__, "GET / HTTP/1.2\r\nHost: a\r\n\r\n", -505 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", -411 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", -411 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n", -413 },
	{ __LINE__, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", -413 },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct http_req r;
		size_t n = strlen(cases[i].in);
		long want = cases[i].want > 0 ? (long)n : cases[i].want;
		long got = parse(cases[i].in, n, &r, NULL);
		if (!tap_ok(got == want, cases[i].line, "parse case %zu -> %ld", i, want))
			tap_diag("got %ld", got);
	}
}

static void test_fields(void)
{
	static const char in[] = "POST /a/b%20c?x=1&y=%41+b HTTP/1.0\r\n"
		"Host:  example  \r\nX-Empty:\r\nConnection: Keep-Alive, foo\r\n"
		"content-length: 4\r\n\r\nbodyGET";
	struct http_req r;
	char *b, out[32];
	long n = parse(in, sizeof in - 1, &r, &b);

	OK(n == (long)sizeof in - 1 - 3, "fields: length without the next request");
	OK(r.method == HTTP_POST && !strcmp(r.method_str, "POST"), "method");
	OK(r.minor == 0, "HTTP/1.0");
	OK(!strcmp(r.path, "/a/b%20c"), "path %s", r.path);
	OK(!strcmp(r.query, "x=1&y=%41+b"), "query %s", r.query);
	OK(r.nhdr == 4, "4 headers");
	OK(http_header(&r, "HOST") && !strcmp(http_header(&r, "HOST"), "example"), "Host trimmed, any case");
	OK(http_header(&r, "x-empty") && !*http_header(&r, "x-empty"), "empty value");
	OK(!http_header(&r, "X-None"), "absent header");
	OK(r.keep_alive == 1, "1.0 keep-alive token in a list");
	OK(r.content_length == 4 && r.body && !memcmp(r.body, "body", 4), "body");
	OK(!memcmp(b + n, "GET", 3), "next bytes untouched");
	OK(http_query_get(r.query, "y", out, sizeof out) == 3 && !strcmp(out, "A b"), "query y decoded");
	OK(http_query_get(r.query, "x", out, sizeof out) == 1 && !strcmp(out, "1"), "query x");
	free(b);

	n = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 46, &r, NULL);
	OK(n == 46 && r.keep_alive == 0, "1.1 Connection: close");
	n = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, &r, NULL);
	OK(n == 27 && r.keep_alive == 1 && !strcmp(r.query, ""), "1.1 keep-alive by default, empty query");
	n = parse("GET / HTTP/1.0\r\n\r\n", 18, &r, NULL);
	OK(n == 18 && r.keep_alive == 0, "1.0 closes by default");
}

static void test_incomplete_untouched(void)
{
	static const char in[] = "POST /p?q HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab";
	char b[sizeof in];
	struct http_req r;

	memcpy(b, in, sizeof in);
	OK(http_parse(b, sizeof in - 1, &r) == 0, "body incomplete: 0");
	OK(r.head_len == sizeof in - 3 && r.content_length == 5, "head_len and content_length known");
	OK(!memcmp(b, in, sizeof in), "buffer unchanged");
	memcpy(b, "PATCH", 5); /* "PATCH/p?q" */
	OK(http_parse(b, sizeof in - 1, &r) == -400, "refused");
	OK(!memcmp(b + 5, in + 5, sizeof in - 5), "buffer unchanged when refused");
}

static void test_pipelined(void)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
		"HEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n"
		"GET /4 HTTP/1.1\r\nHost: a\r\n";
	char b[sizeof in];
	const char *want[] = { "/1", "/2", "/3" };
	size_t off = 0;
	int k = 0;
	struct http_req r;

	memcpy(b, in, sizeof in);
	for (;;) {
		long n = http_parse(b + off, sizeof in - 1 - off, &r);
		if (n <= 0) {
			OK(n == 0, "pipelined: the last one incomplete");
			break;
		}
		OK(k < 3 && !strcmp(r.path, want[k]), "pipelined request %d is %s", k + 1, k < 3 ? want[k] : "?");
		k++;
		off += (size_t)n;
	}
	OK(k == 3, "pipelined: three requests");
}

/* every split: the prefix is incomplete (0), the whole is complete; with
 * http_head_end() fed byte by byte finding the same end */
static void test_splits(void)
{
	static const char in[] = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz";
	size_t n = sizeof in - 1, scan = 0;
	int bad = 0;
	long end = 0;
	struct http_req r;

	for (size_t k = 0; k < n; k++) {
		char b[sizeof in];
		memcpy(b, in, n);
		if (http_parse(b, k, &r) != 0)
			bad++;
	}
	OK(!bad, "every proper prefix incomplete");
	OK(parse(in, n, &r, NULL) == (long)n, "whole complete");
	for (size_t k = 1; k <= n && end == 0; k++)
		end = http_head_end(in, k, &scan);
	OK(end == (long)n - 3, "head end found incrementally (%ld)", end);
}

/* limits: exactly at the edge and one past */
static void test_limits(void)
{
	struct http_req r;
	char *b = malloc(HTTP_MAX_HEAD + HTTP_MAX_BODY + 256);
	const char *pre = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t pl = strlen(pre), n, scan;
	char hdr[64];

	if (!b)
		return;
	/* head of exactly HTTP_MAX_HEAD bytes */
	n = HTTP_MAX_HEAD;
	memcpy(b, pre, pl);
	memset(b + pl, 'v', n - pl - 4);
	memcpy(b + n - 4, "\r\n\r\n", 4);
	OK(http_parse(b, n, &r) == (long)n, "head of %d bytes accepted", HTTP_MAX_HEAD);
	memcpy(b, pre, pl);
	memset(b + pl, 'v', n - pl - 3);
	memcpy(b + n - 3, "\r\n\r\n", 4);
	OK(http_parse(b, n + 1, &r) == -431, "head of %d bytes: 431", HTTP_MAX_HEAD + 1);
	scan = 0;
	OK(http_head_end(b, HTTP_MAX_HEAD, &scan) == -431, "no end within the limit: 431 at once");
	memset(b, '\n', HTTP_MAX_HEAD);
	scan = 0;
	OK(http_head_end(b, HTTP_MAX_HEAD, &scan) == -431, "endless empty lines: 431");

	/* header count */
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
		for (int i = 0; i < HTTP_MAX_HEADERS + extra; i++)
			n += (size_t)sprintf(b + n, i ? "H%d: v\r\n" : "Host: a\r\n", i);
		n += (size_t)sprintf(b + n, "\r\n");
		OK(http_parse(b, n, &r) == (extra ? -431 : (long)n),
			"%d header fields", HTTP_MAX_HEADERS + extra);
	}

	/* body */
	for (int extra = 0; extra <= 1; extra++) {
		size_t bl = HTTP_MAX_BODY + (size_t)extra;
		n = (size_t)sprintf(b, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", bl);
		memset(b + n, 'b', bl);
		OK(http_parse(b, n + bl, &r) == (extra ? -413 : (long)(n + bl)),
			"body of %zu bytes", bl);
	}

	/* target */
	for (int extra = 0; extra <= 1; extra++) {
		size_t tl = HTTP_MAX_TARGET + (size_t)extra;
		n = (size_t)sprintf(b, "GET /");
		memset(b + n, 't', tl - 1);
		n += tl - 1;
		n += (size_t)sprintf(b + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
		OK(http_parse(b, n, &r) == (extra ? -414 : (long)n), "target of %zu bytes", tl);
	}
	snprintf(hdr, sizeof hdr, "%d", HTTP_MAX_BODY);
	free(b);
}

static void test_query(void)
{
	char out[8];

	OK(http_query_get("a=1&b=2", "c", out, sizeof out) == -1 && errno == ENOENT, "no key");
	OK(http_query_get("a&b=2", "a", out, sizeof out) == 0 && !*out, "key without =");
	OK(http_query_get("a=1;b=%7e", "b", out, sizeof out) == 1 && !strcmp(out, "~"), "; separates, %%7e");
	OK(http_query_get("a=%4", "a", out, sizeof out) == -1 && errno == EINVAL, "short escape");
	OK(http_query_get("a=%zz", "a", out, sizeof out) == -1 && errno == EINVAL, "bad hex");
	OK(http_query_get("a=%00", "a", out, sizeof out) == -1 && errno == EINVAL, "%%00 refused");
	OK(http_query_get("a=1234567", "a", out, sizeof out) == 7, "fits exactly");
	OK(http_query_get("a=12345678", "a", out, sizeof out) == -1 && errno == ENOSPC && !*out, "one past: ENOSPC");
	OK(http_query_get("", "a", out, sizeof out) == -1 && errno == ENOENT, "empty query");
	OK(http_pct_decode("a+b", 3, 0, out, sizeof out) == 3 && !strcmp(out, "a+b"), "plus kept when not asked");
	OK(!strcmp(http_reason(431), "Request Header Fields Too Large") && !*http_reason(299), "reasons");
}

int main(void)
{
	test_cases();
	test_fields();
	test_incomplete_untouched();
	test_pipelined();
	test_splits();
	test_limits();
	test_query();
	return tap_done();
}
