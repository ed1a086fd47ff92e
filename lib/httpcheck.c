/* httpcheck.c: see httpcheck.h for the contract. */
#include "httpcheck.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Host name bytes: what DNS names and IPv4 addresses are made of */
static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* "1".."65535" in s[0..n), no sign, no blank; leading zeros allowed */
static int port_ok(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Parses the authority s[0..n): HOST, HOST:PORT, [V6] or [V6]:PORT, into
 * host (without brackets) and port (defport when not given; required when
 * defport is NULL). `what` is the whole input, for messages. */
static int authority(const char *s, size_t n, const char *defport,
	char *host, size_t hsz, char *port, size_t psz, const char *what,
	char *err, size_t errsz)
{
	const char *h, *p = NULL;
	size_t hn, pn = 0;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close) {
			seterr(err, errsz, "'%.150s': no ']' after an IPv6 address", what);
			return -1;
		}
		h = s + 1;
		hn = (size_t)(close - h);
		size_t rest = n - (size_t)(close + 1 - s);
		if (rest) {
			if (close[1] != ':') {
				seterr(err, errsz, "'%.150s': expected ':PORT' after ']'", what);
				return -1;
			}
			p = close + 2;
			pn = rest - 1;
		}
		char v6[64];
		if (hn == 0 || hn >= sizeof v6) {
			seterr(err, errsz, "'%.150s': bad IPv6 address", what);
			return -1;
		}
		memcpy(v6, h, hn);
		v6[hn] = 0;
		struct in6_addr a;
		if (inet_pton(AF_INET6, v6, &a) != 1) {
			seterr(err, errsz, "'%.150s': bad IPv6 address", what);
			return -1;
		}
	} else {
		const char *colon = memchr(s, ':', n);
		h = s;
		hn = colon ? (size_t)(colon - s) : n;
		if (colon) {
			p = colon + 1;
			pn = n - hn - 1;
		}
		if (hn == 0) {
			seterr(err, errsz, "'%.150s': no host", what);
			return -1;
		}
		for (size_t i = 0; i < hn; i++)
			if (!is_name_char(h[i])) {
				seterr(err, errsz, "'%.150s': bad character in the host name", what);
				return -1;
			}
	}
	if (hn + 1 > hsz) {
		seterr(err, errsz, "'%.150s': host name too long (max %zu bytes)",
			what, hsz ? hsz - 1 : 0);
		return -1;
	}
	if (p) {
		if (!port_ok(p, pn)) {
			seterr(err, errsz, "'%.150s': bad port (1-65535)", what);
			return -1;
		}
	} else if (!defport) {
		seterr(err, errsz, "'%.150s': expected HOST:PORT", what);
		return -1;
	} else {
		p = defport;
		pn = strlen(defport);
	}
	if (pn + 1 > psz) {
		seterr(err, errsz, "'%.150s': port too long", what);
		return -1;
	}
	memcpy(host, h, hn);
	host[hn] = 0;
	memcpy(port, p, pn);
	port[pn] = 0;
	return 0;
}

int http_url_parse(const char *url, struct http_url *u, char *err,
	size_t errsz)
{
	const char *s;

	if (!strncasecmp(url, "http://", 7)) {
		u->tls = 0;
		s = url + 7;
	} else if (!strncasecmp(url, "https://", 8)) {
		u->tls = 1;
		s = url + 8;
	} else {
		seterr(err, errsz, "'%.150s': not an http:// or https:// URL", url);
		return -1;
	}
	for (const char *q = url; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			seterr(err, errsz, "'%.150s': blank or control character in the URL", url);
			return -1;
		}
	size_t an = strcspn(s, "/?#");
	if (memchr(s, '@', an)) {
		seterr(err, errsz, "'%.150s': user info (user@host) is not supported", url);
		return -1;
	}
	if (authority(s, an, u->tls ? "443" : "80", u->host, sizeof u->host,
			u->port, sizeof u->port, url, err, errsz))
		return -1;
	const char *path = s + an;
	size_t pn = strcspn(path, "#"); /* the fragment is not sent */
	size_t need = pn + (path[0] != '/') + 1;
	if (need > sizeof u->path) {
		seterr(err, errsz, "'%.150s': path too long (max %zu bytes)", url,
			sizeof u->path - 1);
		return -1;
	}
	char *d = u->path;
	if (path[0] != '/') /* "" or "?q" */
		*d++ = '/';
	memcpy(d, path, pn);
	d[pn] = 0;
	return 0;
}

int http_request(const struct http_url *u, const char *version, char *buf,
	size_t sz)
{
	int v6 = strchr(u->host, ':') != NULL;
	int dflt = !strcmp(u->port, u->tls ? "443" : "80");
	int n = snprintf(buf, sz,
		"GET %s HTTP/1.1\r\n"
		"Host: %s%s%s%s%s\r\n"
		"User-Agent: mls/%s\r\n"
		"Connection: close\r\n"
		"\r\n",
		u->path, v6 ? "[" : "", u->host, v6 ? "]" : "",
		dflt ? "" : ":", dflt ? "" : u->port, version);
	if (n < 0 || (size_t)n >= sz)
		return -1;
	return n;
}

/* Can byte i of a status line be c, given the bytes before it (l[0..i))?
 * "HTTP/1.x NNN" then ' ', "\r\n" or '\n'; anything after that. */
static int status_byte_ok(const char *l, size_t i, char c)
{
	static const char lead[] = "HTTP/1.";

	if (i < 7)
		return c == lead[i];
	switch (i) {
	case 7: case 9: case 10: case 11:
		return is_digit(c);
	case 8:
		return c == ' ';
	case 12:
		return c == ' ' || c == '\r' || c == '\n';
	case 13:
		return l[12] != '\r' || c == '\n';
	default:
		return 1;
	}
}

static int status_code(const char *l)
{
	return (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
}

int http_status_feed(struct http_status_rd *r, const char *buf, size_t n,
	int *code, char *err, size_t errsz)
{
	if (r->len == SIZE_MAX) {
		seterr(err, errsz, "bad response: (the reader has already failed)");
		return -1;
	}
	if (r->len && r->line[r->len - 1] == '\n') {
		*code = status_code(r->line);
		return 1;
	}
	for (size_t k = 0; k < n; k++) {
		char c = buf[k];
		size_t i = r->len;
		if (!status_byte_ok(r->line, i, c)) {
			r->len = SIZE_MAX;
			seterr(err, errsz, "bad response: not an HTTP/1.x status line");
			return -1;
		}
		r->line[i] = c;
		r->len = i + 1;
		if (i == 11) {
			int v = status_code(r->line);
			if (v < 100 || v > 599) {
				r->len = SIZE_MAX;
				seterr(err, errsz, "bad response: status code %03d (not 100-599)", v);
				return -1;
			}
		}
		if (c == '\n') {
			*code = status_code(r->line);
			return 1;
		}
		if (r->len == HTTP_STATUS_MAX) {
			r->len = SIZE_MAX;
			seterr(err, errsz, "bad response: no end of the status line within %d bytes",
				HTTP_STATUS_MAX);
			return -1;
		}
	}
	return 0;
}

int http_status_ok(int code, const int *expect, int nexpect)
{
	if (nexpect <= 0)
		return code >= 200 && code <= 399;
	for (int i = 0; i < nexpect; i++)
		if (expect[i] == code)
			return 1;
	return 0;
}

int hostport_parse(const char *s, char *host, size_t hsz, char *port,
	size_t psz, char *err, size_t errsz)
{
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			seterr(err, errsz, "'%.150s': blank or control character", s);
			return -1;
		}
	return authority(s, strlen(s), NULL, host, hsz, port, psz, s, err, errsz);
}
