/* jbuf.c: see jbuf.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jbuf.h"

static int jb_reserve(struct jbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void jb_puts(struct jbuf *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

void jb_printf(struct jbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		jb_raw(b, tmp, (size_t)n);
		return;
	}
	if (jb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void jb_str(struct jbuf *b, const char *s)
{
	if (!s)
		jb_raw(b, "null", 4);
	else
		jb_strn(b, s, strlen(s));
}

int jb_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	int len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if ((size_t)len > n)
		return 0;
	unsigned cp = c & (0x7f >> len);
	for (int k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void jb_strn(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (jb_reserve(b, n + 2))
		return;
	jb_raw(b, "\"", 1);
	size_t i = 0, run = 0;
	while (i < n) {
		unsigned c = p[i];
		int l = c >= 0x20 && c != '"' && c != '\\' && c < 0x80 ? 1 : 0;
		if (l) {
			i++;
			run++;
			continue;
		}
		jb_raw(b, (const char *)p + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			jb_raw(b, e, 2);
			i++;
		} else if (c < 0x20) {
			const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
			if (e)
				jb_raw(b, e, 2);
			else
				jb_printf(b, "\\u%04x", c);
			i++;
		} else {
			int ul = jb_utf8_len(p + i, n - i);
			if (ul) {
				jb_raw(b, (const char *)p + i, (size_t)ul);
				i += (size_t)ul;
			} else {
				jb_raw(b, "\\ufffd", 6);
				i++;
			}
		}
	}
	jb_raw(b, (const char *)p + i - run, run);
	jb_raw(b, "\"", 1);
}

void jb_free(struct jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
