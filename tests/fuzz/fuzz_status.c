/* libFuzzer target: the incremental HTTP status-line reader
 * (http_status_feed() of lib/httpcheck.c). The first input byte seeds the
 * split of the rest into pieces; the answer (result, code, message) must be
 * the same fed all at once, one byte at a time and in those pieces, and
 * the same as a plain whole-buffer reading (reference() below). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "httpcheck.h"

struct answer {
	int rc;
	int code;
	char err[256];
};

/* The contract of httpcheck.h read literally, on the whole input */
static int reference(const uint8_t *d, size_t n, int *code)
{
	static const char lead[] = "HTTP/1.";
	size_t lim = n < HTTP_STATUS_MAX ? n : HTTP_STATUS_MAX;

	for (size_t i = 0; i < lim; i++) {
		char c = (char)d[i];
		int ok;
		if (i < 7)
			ok = c == lead[i];
		else if (i == 7 || (i >= 9 && i <= 11))
			ok = c >= '0' && c <= '9';
		else if (i == 8)
			ok = c == ' ';
		else if (i == 12)
			ok = c == ' ' || c == '\r' || c == '\n';
		else if (i == 13)
			ok = d[12] != '\r' || c == '\n';
		else
			ok = 1;
		if (!ok)
			return -1;
		if (i == 11) {
			int v = (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
			if (v < 100 || v > 599)
				return -1;
		}
		if (c == '\n') {
			*code = (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
			return 1;
		}
	}
	return n >= HTTP_STATUS_MAX ? -1 : 0;
}

/* Feeds d[0..n) in pieces: sizes from the seed (0: all at once, 1: bytes) */
static void feed(const uint8_t *d, size_t n, unsigned seed, struct answer *a)
{
	struct http_status_rd *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	uint32_t x = seed * 2654435761u + 1;
	size_t off = 0;
	memset(a, 0, sizeof *a);
	a->code = -1;
	do {
		size_t k;
		if (seed == 0)
			k = n;
		else if (seed == 1)
			k = n - off < 1 ? n - off : 1;
		else {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			k = x % 64; /* pieces of 0..63 bytes, 0 included */
			if (k > n - off)
				k = n - off;
		}
		/* an exact-size copy: ASan sees any read past the piece */
		char *piece = malloc(k ? k : 1);
		if (!piece)
			abort();
		memcpy(piece, d + off, k);
		a->rc = http_status_feed(r, piece, k, &a->code, a->err, sizeof a->err);
		free(piece);
		off += k;
	} while (a->rc == 0 && off < n);
	/* a finished reader repeats itself and reads nothing */
	if (a->rc != 0) {
		struct answer again;
		again.code = -1;
		again.rc = http_status_feed(r, "HTTP/1.1 200\r\n", 14, &again.code,
			again.err, sizeof again.err);
		if (again.rc != a->rc || (a->rc == 1 && again.code != a->code))
			abort();
	}
	free(r);
}

/* The same bytes as a health check's target (from the config): the URL
 * and HOST:PORT parsers, and the request built from a parsed URL */
static void urls(const uint8_t *d, size_t n)
{
	if (n > 4096)
		return;
	char *t = malloc(n + 1);
	if (!t)
		return;
	memcpy(t, d, n);
	t[n] = 0;
	struct http_url u;
	char err[256], req[4400], host[256], port[16];
	if (http_url_parse(t, &u, err, sizeof err) == 0) {
		if (!u.host[0] || !u.port[0] || u.path[0] != '/')
			abort();
		int len = http_request(&u, "fuzz", req, sizeof req);
		if (len >= 0 && (len < 4 || memcmp(req, "GET ", 4) || memcmp(req + len - 4, "\r\n\r\n", 4)))
			abort();
	} else if (!err[0])
		abort();
	if (hostport_parse(t, host, sizeof host, port, sizeof port, err, sizeof err) == 0) {
		if (!host[0] || !port[0])
			abort();
	} else if (!err[0])
		abort();
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned seed = data[0];
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	struct answer whole, bytes, pieces;
	int refcode = -1;

	feed(d, n, 0, &whole);
	feed(d, n, 1, &bytes);
	feed(d, n, seed < 2 ? 2 : seed, &pieces);
	int ref = reference(d, n, &refcode);

	if (whole.rc != ref || bytes.rc != ref || pieces.rc != ref)
		abort();
	if (ref == 1) {
		if (whole.code != refcode || bytes.code != refcode || pieces.code != refcode)
			abort();
		if (refcode < 100 || refcode > 599)
			abort();
	}
	if (ref == -1) {
		if (strncmp(whole.err, "bad response: ", 14) ||
		    strcmp(whole.err, bytes.err) || strcmp(whole.err, pieces.err))
			abort();
	}
	urls(d, n);
	return 0;
}
