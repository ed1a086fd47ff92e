/* httpcheck.h: the pure parts of an HTTP health check, shared by the
 * supervisor's in-loop checker and `mls health`: parse the target (a URL
 * or HOST:PORT), build the GET request, read the status line
 * incrementally, and decide whether a status code is healthy.
 *
 * There is no I/O here: the caller connects, writes the request, and feeds
 * whatever bytes it reads to http_status_feed() until it has an answer.
 * The documentation of the API is here; httpcheck.c points back to it.
 *
 * Conventions
 *  - Functions return 0 (or a length / a boolean where said) on success,
 *    -1 on failure. Nothing here prints, exits, allocates or aborts, and
 *    errno is not used.
 *  - Where a sentence helps the user, a function takes `err, errsz`: on
 *    failure it writes a message there (NUL-terminated, cut to errsz; 256
 *    bytes always hold it whole; err may be NULL when errsz is 0). The
 *    message has no program-name prefix and no newline.
 *  - Bounded: a URL's host is at most 255 bytes, its path (with the
 *    query) at most 2047; the status line must end within HTTP_STATUS_MAX
 *    bytes; the body is never read.
 */
#ifndef MLS_HTTPCHECK_H
#define MLS_HTTPCHECK_H

#include <stddef.h>

/* Bytes read before the status line must have ended (its "\n" included):
 * past it the response is bad, whatever follows. */
#define HTTP_STATUS_MAX 1024

/* A parsed http:// or https:// URL */
struct http_url {
	int tls;         /* 1 for https:// */
	char host[256];  /* a name, an IPv4 address, or an IPv6 address
	                    WITHOUT its brackets (as getaddrinfo() takes it) */
	char port[8];    /* decimal, 1-65535; "80" or "443" when not given */
	char path[2048]; /* starts with '/'; "/" when not given; the query
	                    ("?a=b") is kept, a fragment ("#x") dropped */
};

/* Parses `url`: "http://" or "https://" (scheme case-insensitive), then
 * the host: a name (letters, digits, '-', '.', '_'), an IPv4 address, or
 * an IPv6 address in brackets ("[::1]"); then an optional ":PORT"
 * (1-65535), then the path (default "/"), query kept, fragment dropped.
 * Refused: other schemes, user info ("user@host"), an empty host, a bad
 * port, blanks or control bytes anywhere, a host or path too long for
 * struct http_url. Returns 0 with *u filled, or -1 with err (e.g.
 * "'ftp://x': not an http:// or https:// URL"; *u is then unspecified). */
int http_url_parse(const char *url, struct http_url *u, char *err,
	size_t errsz);

/* Writes the request for u into buf (NUL-terminated):
 *   GET PATH HTTP/1.1\r\n
 *   Host: HOST[:PORT]\r\n        (":PORT" only when not the scheme's
 *                                  default; an IPv6 host in brackets)
 *   User-Agent: mls/VERSION\r\n
 *   Connection: close\r\n
 *   \r\n
 * Returns its length (without the NUL), or -1 if it does not fit in sz
 * bytes (buf is then unspecified). 4,400 bytes always fit a VERSION of up
 * to 64 bytes. */
int http_request(const struct http_url *u, const char *version, char *buf,
	size_t sz);

/* The state of one status-line read. A zeroed struct is a fresh reader;
 * zero it again to read another response. */
struct http_status_rd {
	char line[HTTP_STATUS_MAX]; /* the bytes of the status line so far */
	size_t len;                 /* how many; SIZE_MAX once it has failed */
};

/* Feeds the next n bytes of the response (any split: one byte at a time
 * gives the same answers as everything at once). Returns:
 *   0  more bytes are needed (nothing is wrong so far);
 *   1  the status line is complete: *code is its code (100-599). Bytes
 *      after the line's "\n" are ignored (headers and body never parsed);
 *  -1  a bad response, err "bad response: ...": the bytes do not start as
 *      "HTTP/1.x NNN" (x one digit, NNN three digits, then a blank, "\r\n"
 *      or "\n"), the code is not 100-599, or there is no "\n" within
 *      HTTP_STATUS_MAX bytes. The check is made as the bytes arrive, so
 *      garbage fails at once, without waiting for a line end.
 * Once it has returned 1 or -1 the reader is finished: further calls
 * return the same (1 with the same *code; -1) and read nothing. n may be
 * 0 (buf may then be NULL). The reason phrase is not checked. */
int http_status_feed(struct http_status_rd *r, const char *buf, size_t n,
	int *code, char *err, size_t errsz);

/* Is `code` healthy? nexpect 0: 200-399 (Kubernetes' rule, redirects
 * count as healthy); otherwise it must be one of expect[0..nexpect).
 * Returns 1 or 0. */
int http_status_ok(int code, const int *expect, int nexpect);

/* Parses "HOST:PORT" or "[IPV6]:PORT" (the port is required, 1-65535;
 * the host as in http_url_parse()). host gets the host without brackets,
 * port the decimal port. Returns 0, or -1 with err (e.g. "'db': expected
 * HOST:PORT"). hsz of 256 and psz of 8 always suffice. */
int hostport_parse(const char *s, char *host, size_t hsz, char *port,
	size_t psz, char *err, size_t errsz);

#endif
