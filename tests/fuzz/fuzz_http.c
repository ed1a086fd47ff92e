/* libFuzzer target: the HTTP request parser (lib/httpparse.c) and the
 * query-string helpers on arbitrary bytes. The input is parsed as a
 * stream of pipelined requests, fed in growing prefixes whose steps come
 * from the first byte (as the server sees them arrive), with invariants:
 * a result is a refusal status of the documented set, 0 (then the buffer
 * is unchanged) or a length within the input; every string of a parsed
 * request lies inside the buffer and the head; http_head_end() fed
 * incrementally agrees with a one-shot call. Then every parameter of each
 * parsed query is looked up and decoded, and the raw input is decoded as
 * a query value. Never a crash, a leak or an out-of-bounds read. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "httpparse.h"

static int known_status(long rc)
{
	static const long ok[] = { 400, 405, 411, 413, 414, 431, 501, 505 };
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (-rc == ok[i])
			return 1;
	return 0;
}

static void inside(const char *p, const char *lo, const char *hi)
{
	if (p < lo || p > hi || memchr(p, '\0', (size_t)(hi - p) + 1) == NULL)
		abort();
}

static void query_all(const char *q)
{
	char out[256];
	const char *p = q;

	while (*p) {
		size_t kl = strcspn(p, "=&;");
		char key[64];
		if (kl < sizeof key) {
			memcpy(key, p, kl);
			key[kl] = '\0';
			long n = http_query_get(q, key, out, sizeof out);
			if (n >= 0 && (size_t)n != strlen(out) && !memchr(out, 0, (size_t)n))
				abort();
			if (n < 0 && errno != EINVAL && errno != ENOSPC && errno != ENOENT)
				abort();
		}
		p += strcspn(p, "&;");
		if (*p)
			p++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t stepsz, off = 0;
	char *buf, *copy;

	if (size < 1)
		return 0;
	stepsz = (size_t)(data[0] % 64) + 1;
	data++;
	size--;
	buf = malloc(size + 1);
	copy = malloc(size + 1);
	if (!buf || !copy)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';

	/* incremental head end == one-shot */
	{
		size_t scan = 0;
		long inc = 0, one;
		for (size_t k = 0; k <= size && inc == 0; k += stepsz) {
			size_t n = k < size ? k : size;
			inc = http_head_end(buf, n, &scan);
			if (n == size)
				break;
		}
		if (inc == 0) {
			size_t s2 = 0;
			inc = http_head_end(buf, size, &s2);
		}
		{
			size_t s3 = 0;
			one = http_head_end(buf, size, &s3);
		}
		if (inc != one)
			abort();
	}

	while (off < size) {
		struct http_req r;
		long rc = 0;
		size_t have = 0;

		/* growing prefixes, as reads would deliver them */
		while (have < size - off) {
			have += stepsz;
			if (have > size - off)
				have = size - off;
			memcpy(copy, buf + off, have);
			rc = http_parse(buf + off, have, &r);
			if (rc == 0 && memcmp(copy, buf + off, have) != 0)
				abort(); /* 0 must leave the buffer as it was */
			if (rc != 0)
				break;
		}
		if (rc < 0) {
			if (!known_status(rc))
				abort();
			break;
		}
		if (rc == 0)
			break;
		if ((size_t)rc > have || r.head_len > (size_t)rc ||
				r.head_len + r.content_length != (size_t)rc ||
				r.content_length > HTTP_MAX_BODY || r.head_len > HTTP_MAX_HEAD ||
				r.nhdr < 0 || r.nhdr > HTTP_MAX_HEADERS ||
				r.method < HTTP_GET || r.method > HTTP_POST ||
				(r.minor != 0 && r.minor != 1))
			abort();
		{
			const char *lo = buf + off, *hi = buf + off + r.head_len - 1;
			inside(r.method_str, lo, hi);
			inside(r.path, lo, hi);
			if (*r.query)
				inside(r.query, lo, hi);
			if (r.path[0] != '/')
				abort();
			for (int i = 0; i < r.nhdr; i++) {
				inside(r.hdr[i].name, lo, hi);
				inside(r.hdr[i].value, lo, hi);
				if (http_header(&r, r.hdr[i].name) == NULL)
					abort();
			}
			if (r.content_length && r.body != buf + off + r.head_len)
				abort();
			query_all(r.query);
		}
		off += (size_t)rc;
	}

	/* the raw bytes as a query value, with and without '+' */
	{
		char out[512];
		long n = http_pct_decode((const char *)data, size, 1, out, sizeof out);
		if (n >= 0 && (size_t)n >= sizeof out)
			abort();
		n = http_pct_decode((const char *)data, size, 0, out, sizeof out);
		(void)n;
		memcpy(copy, data, size);
		copy[size] = '\0';
		query_all(copy);
	}
	free(buf);
	free(copy);
	return 0;
}
