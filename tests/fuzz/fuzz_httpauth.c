/* libFuzzer target: the parsers of lib/httpauth.c on arbitrary bytes,
 * with checks. The input is split at '\n' into fields:
 *   0  an Authorization value   -> httpauth_bearer(), then the token (and
 *                                  the raw field) to httpauth_session_check()
 *   1  a Cookie header          -> httpauth_cookie_get(.., field 2, ..),
 *   2  a cookie name               the value to httpauth_session_check()
 *                                  and httpauth_set_cookie()
 *   3  an Origin header         -> httpauth_same_origin(3, 4, tls 0 and 1)
 *   4  a Host header
 *   5  edits of a valid session -> each byte pair (position, xor) changes a
 *                                  freshly made cookie; any change must be
 *                                  refused, no change accepted
 * Checks (httpauth.h's contract): results point inside their input and
 * are well formed; no made-up value passes session_check; set_cookie never
 * writes a CR or LF but the final one; same_origin is consistent (an
 * accepted pair makes both hosts acceptable with themselves). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "httpauth.h"

#define NFIELDS 6

static struct httpauth key;

static int is_token68(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (c && strchr("-._~+/=", c));
}

static int same_self(const char *hostport, int tls)
{
	char o[400];
	snprintf(o, sizeof o, "%s%s", tls ? "HTTPS://" : "http://", hostport);
	return httpauth_same_origin(o, hostport, tls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[NFIELDS];
	size_t flen[NFIELDS];
	size_t pos = 0;
	int role;

	if (!key.key[0] && !key.key[1]) /* a fixed key: reproducible runs */
		memset(key.key, 0x42, sizeof key.key);

	/* each field in its own buffer of exactly its length + NUL */
	for (int i = 0; i < NFIELDS; i++) {
		const uint8_t *nl = pos < size ? memchr(data + pos, '\n', size - pos) : NULL;
		size_t end = nl ? (size_t)(nl - data) : size;
		if (pos > size)
			end = pos = size;
		flen[i] = end - pos;
		f[i] = malloc(flen[i] + 1);
		if (!f[i])
			abort();
		memcpy(f[i], data + pos, flen[i]);
		f[i][flen[i]] = 0;
		pos = end + 1;
	}

	/* bearer */
	const char *tok;
	size_t tlen;
	if (httpauth_bearer(f[0], &tok, &tlen)) {
		if (tok < f[0] || tok + tlen > f[0] + strlen(f[0]) || tlen == 0 ||
		    tlen > HTTPAUTH_TOKEN_MAX)
			abort();
		for (size_t i = 0; i < tlen; i++)
			if (!is_token68(tok[i]))
				abort();
		if (httpauth_session_check(&key, tok, tlen, 0, &role))
			abort(); /* no forgery */
	}
	if (httpauth_session_check(&key, f[0], flen[0], 0, &role))
		abort();
	httpauth_token_eq(f[0], flen[0], f[1], flen[1]);

	/* cookies */
	const char *val;
	size_t vlen;
	if (httpauth_cookie_get(f[1], f[2], &val, &vlen)) {
		size_t hl = strlen(f[1]);
		if (!*f[2] || val < f[1] || val + vlen > f[1] + hl ||
		    memchr(val, ';', vlen) || hl > HTTPAUTH_COOKIE_HDR_MAX)
			abort();
		if (httpauth_session_check(&key, val, vlen, 0, &role))
			abort();
		char v[300], out[600];
		if (vlen < sizeof v) {
			memcpy(v, val, vlen);
			v[vlen] = 0;
			int n = httpauth_set_cookie(out, sizeof out, f[2], v, 60, 1);
			if (n >= 0) {
				if ((size_t)n != strlen(out) || n < 2 ||
				    strcmp(out + n - 2, "\r\n"))
					abort();
				for (int i = 0; i < n - 2; i++)
					if (out[i] == '\r' || out[i] == '\n')
						abort();
			}
		}
	}

	/* same origin */
	for (int tls = 0; tls < 2; tls++) {
		if (!httpauth_same_origin(f[3], f[4], tls))
			continue;
		size_t sl = tls ? 8 : 7;
		if (strlen(f[3]) < sl || !same_self(f[4], tls) ||
		    !same_self(f[3] + sl, tls) ||
		    httpauth_same_origin(f[3], f[4], !tls))
			abort();
	}

	/* a valid session, edited */
	char s[HTTPAUTH_SESSION_MAX], t[HTTPAUTH_SESSION_MAX];
	int n = httpauth_session_make(&key, HTTPAUTH_ADMIN, 1000, 60, s, sizeof s);
	if (n <= 0 || !httpauth_session_check(&key, s, (size_t)n, 1000, &role) ||
	    role != HTTPAUTH_ADMIN || httpauth_session_check(&key, s, (size_t)n, 1060, &role))
		abort();
	memcpy(t, s, sizeof t);
	for (size_t i = 0; i + 1 < flen[5]; i += 2)
		t[(unsigned char)f[5][i] % n] ^= f[5][i + 1];
	if (httpauth_session_check(&key, t, (size_t)n, 1000, &role) !=
	    !memcmp(s, t, (size_t)n))
		abort();

	for (int i = 0; i < NFIELDS; i++)
		free(f[i]);
	return 0;
}
