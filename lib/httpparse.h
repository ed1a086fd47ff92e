/* httpparse.h: a pure, bounded HTTP/1.x request parser (no I/O, no
 * allocation), for lib/httpsrv.c and for the fuzz target
 * tests/fuzz/fuzz_http.c.
 *
 * What is accepted (RFC 9112, restricted on purpose):
 *  - request line "METHOD SP request-target SP HTTP/1.0|HTTP/1.1" ended by
 *    CRLF (a bare LF is accepted too, as most servers do); one or more
 *    empty lines before it are skipped (RFC 9112 2.2);
 *  - at most HTTP_MAX_HEADERS header fields "name: value", name a token,
 *    value without control bytes except HTAB (obs-fold, i.e. a line
 *    starting with a blank, is refused: 400);
 *  - request line + header fields + the empty line: at most HTTP_MAX_HEAD
 *    bytes;
 *  - a body only by Content-Length, at most HTTP_MAX_BODY bytes.
 *
 * Statuses a request is refused with (the negative return value):
 *   400 bad syntax; a control byte or NUL; an origin-form target not
 *       starting with '/' (absolute-form "http://h/p" and "*" too); a
 *       header line without ':' or with a blank before it; obs-fold;
 *       Content-Length not all digits, two of them (even equal), or
 *       one with a list value "5, 5"; no Host in HTTP/1.1, two Hosts
 *   405 a known method the server does not serve here (PUT, DELETE,
 *       PATCH, OPTIONS, TRACE, CONNECT): only GET, HEAD and POST are
 *   411 Transfer-Encoding present (chunked request bodies are refused;
 *       411 "Length Required" tells the client to send Content-Length)
 *   413 Content-Length > HTTP_MAX_BODY (known as soon as the head is in)
 *   414 request-target longer than HTTP_MAX_TARGET
 *   431 head longer than HTTP_MAX_HEAD, or more than HTTP_MAX_HEADERS
 *       header fields
 *   501 any other method token (unknown method)
 *   505 a version other than HTTP/1.0 and HTTP/1.1 ("HTTP/2.0", "HTTP/1.2")
 * After any of these the connection cannot be resynchronised: the server
 * answers and closes.
 *
 * Nothing here prints or exits. */
#ifndef MLS_HTTPPARSE_H
#define MLS_HTTPPARSE_H

#include <stddef.h>

#define HTTP_MAX_HEAD    8192  /* bytes: request line + headers + empty line */
#define HTTP_MAX_BODY    65536 /* bytes of a Content-Length body */
#define HTTP_MAX_HEADERS 64    /* header fields per request */
#define HTTP_MAX_TARGET  4096  /* bytes of the request-target */

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
	HTTP_POST,
};

struct http_header {
	const char *name;   /* NUL-terminated, as sent (compare without case) */
	const char *value;  /* NUL-terminated, blanks around it removed */
};

/* A parsed request. Every string points into the caller's buffer (which
 * http_parse() NUL-terminates in place) and lives as long as it does. */
struct http_req {
	int method;            /* enum http_method */
	const char *method_str;/* "GET", "HEAD", "POST" */
	int minor;             /* HTTP/1.minor: 0 or 1 */
	const char *path;      /* target up to '?', not decoded, starts with '/' */
	const char *query;     /* after '?', not decoded; "" if none */
	struct http_header hdr[HTTP_MAX_HEADERS];
	int nhdr;
	int keep_alive;        /* 1.1 without "Connection: close", or 1.0 with
	                        * "Connection: keep-alive" (tokens of a list
	                        * count: "keep-alive, Upgrade") */
	size_t head_len;       /* bytes of the head, empty line included */
	size_t content_length; /* body bytes (0 without Content-Length) */
	const char *body;      /* content_length bytes after the head, not
	                        * NUL-terminated; NULL when content_length 0 */
};

/* Where the head at the start of buf[0..len) ends: its length (the empty
 * line included, leading empty lines too), or 0 if it is not complete yet,
 * or -431 if no end is found within HTTP_MAX_HEAD bytes. *scan (start it
 * at 0; the caller keeps it between calls on the same growing buffer) is
 * where to resume, so feeding a head byte by byte costs O(n), not O(n^2). */
long http_head_end(const char *buf, size_t len, size_t *scan);

/* Parses the request at the start of buf[0..len). Returns
 *  > 0  a complete request of that many bytes (head + body): *req is
 *       filled and its strings are NUL-terminated in place in buf (the
 *       delimiters after the tokens are overwritten, so buf no longer
 *       reads as the original text); bytes after it (a pipelined next
 *       request) are untouched;
 *    0  not complete: buf is unchanged. If the head is complete but not
 *       the body, req->head_len and req->content_length are set (the
 *       caller can wait for head_len + content_length bytes without
 *       calling again for every read); otherwise req->head_len is 0;
 *  < 0  minus the HTTP status to refuse the request with (list above);
 *       buf is unchanged.
 * Cost: O(len) per call, at most O(HTTP_MAX_HEAD) for the head. */
long http_parse(char *buf, size_t len, struct http_req *req);

/* The value of the first header field `name` (case-insensitive), or
 * NULL */
const char *http_header(const struct http_req *req, const char *name);

/* The value of parameter `key` of a query string "a=1&b=x%20y" (keys are
 * compared as sent, not decoded; '&' and ';' separate), percent-decoded
 * and '+' read as a space, into out (at most outlen bytes including the
 * NUL). Returns its length (a parameter without '=' has value ""), or -1
 * with errno ENOENT (no such key), EINVAL (a bad %-escape, or a decoded
 * NUL byte), ENOSPC (does not fit: out then holds "" ). */
long http_query_get(const char *query, const char *key, char *out,
	size_t outlen);

/* Percent-decodes src[0..len) ('+' as a space if plus) into out
 * (outlen bytes including the NUL). Returns the decoded length, or -1
 * with EINVAL (a '%' not followed by two hex digits, or %00) or ENOSPC. */
long http_pct_decode(const char *src, size_t len, int plus, char *out,
	size_t outlen);

/* The reason phrase of a status ("Not Found"), "" for an unknown one */
const char *http_reason(int status);

#endif
