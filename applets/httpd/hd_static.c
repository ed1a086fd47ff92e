/* hd_static.c: the dashboard (docs/dashboard.md): the page and its files,
 * embedded in the binary gzip-compressed (hd_web.h), public to load (the
 * page asks for the token); and GET /api/v1/session, which tells the page
 * who it is (its cookie's role) and what it may do. Everything else the
 * page does goes through the API (hd_api.c) with its cookie. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hd.h"
#include "hd_web.h"
#include "jbuf.h"

#define WEB_HEADERS \
	"Cache-Control: no-cache\r\n" \
	"Vary: Accept-Encoding\r\n" \
	"Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; " \
	"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n" \
	"X-Frame-Options: DENY\r\n" \
	"Referrer-Policy: no-referrer\r\n"

/* Is `tok` one of the comma-separated tokens of header value v (a
 * parameter after ';' ignored, except q=0 which refuses it)? */
static int has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);
	while (v && *v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		const char *end = strchr(v, ',');
		size_t len = end ? (size_t)(end - v) : strlen(v);
		if (len >= n && !strncasecmp(v, tok, n) && (len == n || v[n] == ';' || v[n] == ' ')) {
			const char *q = memchr(v, ';', len);
			if (q && (size_t)(q - v) < len) {
				const char *qq = strstr(q, "q=");
				if (qq && qq < v + len && strtod(qq + 2, NULL) <= 0)
					return 0;
			}
			return 1;
		}
		if (!end)
			break;
		v = end + 1;
	}
	return 0;
}

/* If-None-Match: "*" or a list of ETags (weak ones compared weakly) */
static int etag_match(const char *inm, const char *etag)
{
	if (!inm)
		return 0;
	if (!strcmp(inm, "*"))
		return 1;
	return strstr(inm, etag) != NULL;
}

static void session(const struct httpsrv_req *r)
{
	const struct http_req *h = r->http;
	int login = HD.set.token || HD.set.read_token;
	int role = login ? 0 : HTTPAUTH_READ;
	const char *ck = http_header(h, "Cookie");
	const char *tok;
	size_t len;
	int rr = 0;
	if (login && ck && httpauth_cookie_get(ck, HD.tls_on ? "__Host-" HD_COOKIE : HD_COOKIE, &tok, &len) &&
	    httpauth_session_check(&HD.auth, tok, len, loop_now_ms() / 1000, &rr))
		role = rr;
	struct jbuf b = { 0 };
	jb_printf(&b, "{\"ok\":true,\"login\":%s,\"role\":%s,\"allow\":[", login ? "true" : "false",
		role == HTTPAUTH_ADMIN ? "\"admin\"" : role == HTTPAUTH_READ ? "\"read\"" : "null");
	static const char *const acts[] = { "start", "stop", "restart", "signal", "reload", "shutdown", "deploy",
		"rollback" };
	int k = 0;
	for (size_t i = 0; role == HTTPAUTH_ADMIN && i < sizeof acts / sizeof acts[0]; i++)
		if (HD.set.allow & proto_perm_of(acts[i]))
			jb_printf(&b, "%s\"%s\"", k++ ? "," : "", acts[i]);
	jb_puts(&b, "]}");
	if (b.oom)
		hd_error(r->id, 500, "out of memory", NULL);
	else
		hd_json(r->id, 200, b.p, b.len, NULL);
	jb_free(&b);
}

int hd_static(const struct httpsrv_req *r)
{
	const struct http_req *h = r->http;
	const char *path = h->path;
	int get = h->method == HTTP_GET || h->method == HTTP_HEAD;
	if (!strcmp(path, "/api/v1/session")) {
		if (get)
			session(r);
		else
			hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
		return 1;
	}
	if (!strcmp(path, "/index.html"))
		path = "/";
	const struct hd_web_file *f = NULL;
	for (int i = 0; i < hd_web_nfiles && !f; i++)
		if (!strcmp(path, hd_web_files[i].path))
			f = &hd_web_files[i];
	if (!f)
		return 0;
	if (!get) {
		hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
		return 1;
	}
	char hdr[HTTPSRV_MAX_EXTRA_HEADERS];
	struct httpsrv_resp resp = { .status = 200, .content_type = f->content_type, .headers = hdr };
	if (etag_match(http_header(h, "If-None-Match"), f->etag)) {
		snprintf(hdr, sizeof hdr, WEB_HEADERS "ETag: %s\r\n", f->etag);
		resp.status = 304;
		resp.content_type = NULL;
	} else if (has_token(http_header(h, "Accept-Encoding"), "gzip")) {
		snprintf(hdr, sizeof hdr, WEB_HEADERS "ETag: %s\r\nContent-Encoding: gzip\r\n", f->etag);
		resp.body = f->gz;
		resp.body_len = f->gz_len;
	} else {
		/* every browser takes gzip; the page is not kept uncompressed too */
		static const char msg[] =
			"406: the dashboard is served gzip-compressed only: open it in a browser, or curl --compressed\n";
		snprintf(hdr, sizeof hdr, "Cache-Control: no-store\r\nVary: Accept-Encoding\r\n");
		resp.status = 406;
		resp.content_type = "text/plain; charset=utf-8";
		resp.body = msg;
		resp.body_len = sizeof msg - 1;
	}
	httpsrv_respond(HD.srv, r->id, &resp);
	return 1;
}
