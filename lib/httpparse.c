/* httpparse.c: the HTTP/1.x request parser. The API, what is accepted and
 * the statuses refused requests get are in httpparse.h.
 *
 * http_parse() works in two passes over a complete head: the first reads
 * and checks everything without writing (so a head whose body has not
 * arrived yet, or a refused one, leaves the buffer as it was), the second
 * NUL-terminates the tokens in place once the whole request is there. */
#include "httpparse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- bytes */

/* tchar of RFC 9110 5.6.2 */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a field value: VCHAR, obs-text, SP, HTAB */
static int is_vbyte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ------------------------------------------------------------ head end */

long http_head_end(const char *buf, size_t len, size_t *scan)
{
	size_t i = *scan;

	/* empty lines before the request line belong to the head */
	if (i == 0) {
		while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
			i++;
		if (i == len) {
			/* all blank so far: the request line is yet to come;
			 * scan stays 0 so this skip runs again */
			return len >= HTTP_MAX_HEAD ? -431 : 0;
		}
	}
	for (; i < len && i < HTTP_MAX_HEAD; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 >= len)
			break;
		if (buf[i + 1] == '\n') {
			i += 2;
			return i > HTTP_MAX_HEAD ? -431 : (long)i;
		}
		if (buf[i + 1] == '\r') {
			if (i + 2 >= len)
				break;
			if (buf[i + 2] == '\n') {
				i += 3;
				return i > HTTP_MAX_HEAD ? -431 : (long)i;
			}
		}
	}
	/* a head end within HTTP_MAX_HEAD bytes would have been found */
	if (len >= HTTP_MAX_HEAD)
		return -431;
	*scan = i; /* a '\n' whose follower is not here yet, or len */
	return 0;
}

/* ---------------------------------------------------------------- parse */

/* A token's place in the buffer: written as a NUL-terminated string only
 * once the whole request is there */
struct span {
	size_t off, len;
};

struct scratch {
	struct span method, path, query;
	int has_query;
	struct span name[HTTP_MAX_HEADERS], value[HTTP_MAX_HEADERS];
};

/* Does the comma-separated list v[0..n) contain token tok (any case)? */
static int list_has(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		size_t a, b;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		b = i;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (b - a == tl && strncasecmp(v + a, tok, tl) == 0)
			return 1;
	}
	return 0;
}

static int span_is(const char *buf, struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(buf + s.off, lit, n) == 0;
}

/* Checks the request line; returns 0 or -status */
static int parse_request_line(const char *buf, size_t a, size_t e,
	struct scratch *x, struct http_req *req)
{
	size_t i = a, t0, t1;
	const char *v;

	while (i < e && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == a || i >= e || buf[i] != ' ')
		return -400;
	x->method = (struct span){ a, i - a };
	t0 = ++i;
	while (i < e && buf[i] != ' ') {
		unsigned char c = (unsigned char)buf[i];
		if (c <= 0x20 || c >= 0x7f)
			return -400;
		i++;
	}
	t1 = i;
	if (t1 == t0 || i >= e)
		return -400;
	i++;
	/* "HTTP/D.D" and nothing after it */
	if (e - i != 8 || memcmp(buf + i, "HTTP/", 5) != 0)
		return -400;
	v = buf + i + 5;
	if (v[0] < '0' || v[0] > '9' || v[1] != '.' || v[2] < '0' || v[2] > '9')
		return -400;
	if (v[0] != '1' || (v[2] != '0' && v[2] != '1'))
		return -505;
	req->minor = v[2] - '0';
	if (t1 - t0 > HTTP_MAX_TARGET)
		return -414;
	if (buf[t0] != '/')
		return -400; /* only origin-form: no "*", no absolute-form */
	x->path = (struct span){ t0, t1 - t0 };
	x->has_query = 0;
	for (size_t k = t0; k < t1; k++) {
		if (buf[k] == '?') {
			x->path.len = k - t0;
			x->query = (struct span){ k + 1, t1 - k - 1 };
			x->has_query = 1;
			break;
		}
	}
	return 0;
}

static int method_of(const char *buf, struct span m)
{
	static const char *const not_here[] = {
		"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
	};
	const char *p = buf + m.off;

	/* methods are case-sensitive (RFC 9110 9.1) */
	if (m.len == 3 && !memcmp(p, "GET", 3))
		return HTTP_GET;
	if (m.len == 4 && !memcmp(p, "HEAD", 4))
		return HTTP_HEAD;
	if (m.len == 4 && !memcmp(p, "POST", 4))
		return HTTP_POST;
	for (size_t k = 0; k < sizeof not_here / sizeof *not_here; k++)
		if (m.len == strlen(not_here[k]) && !memcmp(p, not_here[k], m.len))
			return -405;
	return -501;
}

/* Content-Length value: 0..HTTP_MAX_BODY, or -400 / -413 */
static long parse_length(const char *v, size_t n)
{
	size_t val = 0;

	if (n == 0)
		return -400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -400;
		if (val <= HTTP_MAX_BODY)
			val = val * 10 + (size_t)(v[i] - '0');
	}
	return val > HTTP_MAX_BODY ? -413 : (long)val;
}

long http_parse(char *buf, size_t len, struct http_req *req)
{
	struct scratch x;
	size_t scan = 0, i, e, total;
	long head, cl = -1;
	int hosts = 0, te = 0, conn_close = 0, conn_keep = 0, rc, nh = 0;

	x.method = x.path = x.query = (struct span){ 0, 0 };
	x.has_query = 0;
	req->nhdr = 0;
	req->head_len = 0;
	req->content_length = 0;
	req->body = NULL;
	head = http_head_end(buf, len, &scan);
	if (head <= 0)
		return head;

	/* pass 1: check and measure, no writes */
	i = 0;
	while (buf[i] == '\r' || buf[i] == '\n')
		i++;
	/* lines: [i, e) without the line end; a CR is allowed only right
	 * before the LF */
	for (int line = 0;; line++) {
		size_t a = i, end;
		while (buf[i] != '\n') {
			unsigned char c = (unsigned char)buf[i];
			if (c == '\r' && buf[i + 1] == '\n')
				break;
			if (!is_vbyte(c))
				return -400;
			i++;
		}
		end = i;
		e = end;
		i += buf[i] == '\r' ? 2 : 1;
		if (end == a)
			break; /* the empty line: end of head */
		if (line == 0) {
			rc = parse_request_line(buf, a, e, &x, req);
			if (rc < 0)
				return rc;
			continue;
		}
		/* field line: token ':' OWS value OWS */
		size_t k = a, va, vb;
		if (buf[a] == ' ' || buf[a] == '\t')
			return -400; /* obs-fold */
		while (k < e && is_tchar((unsigned char)buf[k]))
			k++;
		if (k == a || k >= e || buf[k] != ':')
			return -400;
		if (nh == HTTP_MAX_HEADERS)
			return -431;
		va = k + 1;
		while (va < e && (buf[va] == ' ' || buf[va] == '\t'))
			va++;
		vb = e;
		while (vb > va && (buf[vb - 1] == ' ' || buf[vb - 1] == '\t'))
			vb--;
		x.name[nh] = (struct span){ a, k - a };
		x.value[nh] = (struct span){ va, vb - va };
		nh++;
	}
	if ((size_t)head != i)
		return -400; /* cannot be: the head ends at the first empty line */

	rc = method_of(buf, x.method);
	if (rc < 0)
		return rc;
	req->method = rc;
	for (int h = 0; h < nh; h++) {
		const char *v = buf + x.value[h].off;
		size_t vn = x.value[h].len;
		if (span_is(buf, x.name[h], "host")) {
			hosts++;
		} else if (span_is(buf, x.name[h], "transfer-encoding")) {
			te = 1;
		} else if (span_is(buf, x.name[h], "content-length")) {
			if (cl >= 0)
				return -400; /* two, even equal: refused */
			cl = parse_length(v, vn);
			if (cl == -400)
				return -400;
		} else if (span_is(buf, x.name[h], "connection")) {
			conn_close |= list_has(v, vn, "close");
			conn_keep |= list_has(v, vn, "keep-alive");
		}
	}
	if (hosts > 1 || (req->minor == 1 && hosts == 0))
		return -400;
	if (te)
		return -411;
	if (cl == -413)
		return -413;
	if (cl < 0)
		cl = 0;
	req->keep_alive = req->minor == 1 ? !conn_close : conn_keep && !conn_close;
	req->head_len = (size_t)head;
	req->content_length = (size_t)cl;
	total = (size_t)head + (size_t)cl;
	if (len < total)
		return 0;

	/* pass 2: NUL-terminate in place (each delimiter is a byte of the
	 * head that no token includes) */
	req->method_str = buf + x.method.off;
	buf[x.method.off + x.method.len] = '\0';
	req->path = buf + x.path.off;
	if (x.has_query) {
		req->query = buf + x.query.off;
		buf[x.query.off + x.query.len] = '\0';
	} else {
		req->query = "";
	}
	buf[x.path.off + x.path.len] = '\0';
	for (int h = 0; h < nh; h++) {
		req->hdr[h].name = buf + x.name[h].off;
		buf[x.name[h].off + x.name[h].len] = '\0';
		req->hdr[h].value = buf + x.value[h].off;
		buf[x.value[h].off + x.value[h].len] = '\0';
	}
	req->nhdr = nh;
	req->body = cl ? buf + head : NULL;
	return (long)total;
}

const char *http_header(const struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nhdr; i++)
		if (strcasecmp(req->hdr[i].name, name) == 0)
			return req->hdr[i].value;
	return NULL;
}

/* --------------------------------------------------------------- query */

long http_pct_decode(const char *src, size_t len, int plus, char *out,
	size_t outlen)
{
	size_t o = 0;

	if (outlen == 0) {
		errno = ENOSPC;
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '%') {
			int hi, lo;
			if (len - i < 3) { /* fewer than two bytes follow */
				errno = EINVAL;
				return -1;
			}
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0) {
				errno = EINVAL;
				return -1;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		} else if (c == '\0') {
			errno = EINVAL;
			return -1;
		}
		if (o + 1 >= outlen) {
			out[0] = '\0';
			errno = ENOSPC;
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

long http_query_get(const char *query, const char *key, char *out,
	size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = query;

	if (outlen)
		out[0] = '\0';
	while (p && *p) {
		const char *end = p + strcspn(p, "&;");
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *kend = eq ? eq : end;
		if ((size_t)(kend - p) == kl && memcmp(p, key, kl) == 0) {
			if (!eq)
				return http_pct_decode("", 0, 1, out, outlen);
			return http_pct_decode(eq + 1, (size_t)(end - eq - 1), 1,
				out, outlen);
		}
		p = *end ? end + 1 : end;
	}
	errno = ENOENT;
	return -1;
}

/* -------------------------------------------------------------- reasons */

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}
