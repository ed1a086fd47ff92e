/* libFuzzer target: the sd_notify datagram parsers (lib/notify.c) on
 * arbitrary bytes, with checks:
 *  - notify_says_ready() gives the same answer as a plain line-by-line
 *    reading of the text before the first NUL;
 *  - notify_parse() keeps its contract (notify.h): refused datagrams leave
 *    *m cleared, accepted ones have no NUL or control byte, only known
 *    bits, MAINPID= in range, and a STATUS= that is valid UTF-8 without
 *    control characters and shorter than NOTIFY_STATUS_MAX;
 *  - when notify_parse() accepts a datagram, it agrees with
 *    notify_says_ready() on READY=1. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"

static int reference(const uint8_t *d, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++)
		if (i == n || d[i] == '\n' || d[i] == 0) {
			if (i - start == 7 && !memcmp(d + start, "READY=1", 7))
				return 1;
			if (i < n && d[i] == 0)
				return 0;
			start = i + 1;
		}
	return 0;
}

/* s is valid UTF-8 with no C0/C1 control and no DEL (a plain decoder,
 * independent of notify.c's) */
static int clean_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, cp, len;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			s++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		s += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t n = size > NOTIFY_MAX ? NOTIFY_MAX : size;
	int ready = notify_says_ready(buf, n);
	if (ready != reference(data, n))
		abort();

	struct notify_msg m, zero;
	memset(&zero, 0, sizeof zero);
	memset(&m, 0x5a, sizeof m);
	int r = notify_parse(buf, size, &m);
	if (r != 0 && r != -1)
		abort();
	if (r == -1) {
		if (memcmp(&m, &zero, sizeof m))
			abort();
	} else {
		if (size == 0 || size > NOTIFY_MAX)
			abort();
		for (size_t i = 0; i < size; i++)
			if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
				abort();
		if (!!(m.has & NOTIFY_READY) != ready) /* no NUL: says_ready read it all */
			abort();
		if (m.has & ~0xffu || m.unknown < 0)
			abort();
		if (!memchr(m.status, 0, sizeof m.status) || !clean_utf8((const unsigned char *)m.status))
			abort();
		if (!(m.has & NOTIFY_STATUS) && m.status[0])
			abort();
		if ((m.has & NOTIFY_MAINPID) ? m.mainpid < 1 || m.mainpid > INT_MAX : m.mainpid != 0)
			abort();
		if (!(m.has & NOTIFY_EXTEND) && m.extend_usec)
			abort();
	}
	free(buf);
	return 0;
}
