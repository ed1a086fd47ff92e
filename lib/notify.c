/* notify.c: see notify.h */
#include <limits.h>
#include <string.h>
#include "notify.h"

int notify_says_ready(const char *buf, size_t n)
{
	const char *z = memchr(buf, 0, n);
	const char *p = buf, *end = z ? z : buf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len == 7 && !memcmp(p, "READY=1", 7))
			return 1;
		p += len + 1;
	}
	return 0;
}

/* ------------------------------------------------------ notify_parse */

/* A decimal of len > 0 digits, at most max: 0, or -1 */
static int parse_dec(const char *p, size_t len, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)p[i] - '0';
		if (d > 9 || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 when p[0] starts
 * none (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF) */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* STATUS= text for display: see notify.h. Stops at the first character
 * that does not fit, so the result is a prefix of the cleaned text. */
static void copy_status(char *dst, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0, i = 0;
	while (i < n) {
		size_t len = utf8_len(p + i, n - i);
		if (!len) { /* a stray byte: one '?' */
			if (o + 1 >= NOTIFY_STATUS_MAX)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		int control = (len == 1 && p[i] == 0x7f) || (len == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f);
		if (!control) {
			if (o + len >= NOTIFY_STATUS_MAX)
				break;
			memcpy(dst + o, p + i, len);
			o += len;
		}
		i += len;
	}
	dst[o] = 0;
}

/* The keys mls uses: a value that sets a flag (val) or one that is kept
 * (val NULL: STATUS=, MAINPID=, EXTEND_TIMEOUT_USEC=) */
static const struct {
	const char *key;
	const char *val;
	unsigned flag;
} keys[] = {
	{ "READY", "1", NOTIFY_READY },
	{ "STOPPING", "1", NOTIFY_STOPPING },
	{ "RELOADING", "1", NOTIFY_RELOADING },
	{ "WATCHDOG", "1", NOTIFY_WATCHDOG },
	{ "WATCHDOG", "trigger", NOTIFY_WATCHDOG_TRIGGER },
	{ "STATUS", NULL, NOTIFY_STATUS },
	{ "MAINPID", NULL, NOTIFY_MAINPID },
	{ "EXTEND_TIMEOUT_USEC", NULL, NOTIFY_EXTEND },
};

/* One line "KEY=VALUE" (klen bytes of key, vlen of value) into m: 0, or
 * -1 for a bad number */
static int parse_line(const char *k, size_t klen, const char *v, size_t vlen, struct notify_msg *m)
{
	int known = 0;
	for (size_t j = 0; j < sizeof keys / sizeof *keys; j++) {
		if (strlen(keys[j].key) != klen || memcmp(keys[j].key, k, klen))
			continue;
		known = 1;
		if (keys[j].val) {
			if (strlen(keys[j].val) == vlen && !memcmp(keys[j].val, v, vlen))
				m->has |= keys[j].flag;
			continue;
		}
		unsigned long long num;
		switch (keys[j].flag) {
		case NOTIFY_STATUS:
			if (!(m->has & NOTIFY_STATUS))
				copy_status(m->status, v, vlen);
			break;
		case NOTIFY_MAINPID:
			if (parse_dec(v, vlen, INT_MAX, &num) || num == 0)
				return -1;
			if (!(m->has & NOTIFY_MAINPID))
				m->mainpid = (long)num;
			break;
		case NOTIFY_EXTEND:
			if (parse_dec(v, vlen, ULLONG_MAX, &num))
				return -1;
			if (!(m->has & NOTIFY_EXTEND))
				m->extend_usec = num;
			break;
		}
		m->has |= keys[j].flag;
	}
	if (!known)
		m->unknown++;
	return 0;
}

int notify_parse(const char *buf, size_t n, struct notify_msg *m)
{
	memset(m, 0, sizeof *m);
	if (n == 0 || n > NOTIFY_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
			goto invalid; /* NUL included */
	const char *p = buf, *end = buf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len) {
			const char *eq = memchr(p, '=', len);
			if (!eq || eq == p)
				goto invalid;
			size_t klen = (size_t)(eq - p);
			if (parse_line(p, klen, eq + 1, len - klen - 1, m))
				goto invalid;
		}
		p += len + 1;
	}
	return 0;
invalid:
	memset(m, 0, sizeof *m);
	return -1;
}
