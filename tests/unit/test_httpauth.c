/* Unit tests for lib/httpauth.c: the token check, the Bearer header,
 * session cookies (valid, expired, tampered byte by byte, another key,
 * revoked), the Cookie and Set-Cookie headers, the same-origin check and
 * the failed-attempt limiter. Tables where the cases are data, each row
 * with its line. Without BearSSL (a NO_TLS build) the crypto cases check
 * that everything fails closed. Output is TAP; exit status 1 on failure. */
#include "httpauth.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NOW 1700000000 /* s, an arbitrary wall-clock time */

/* --------------------------------------------------------- token_eq */

static void test_token_eq(void)
{
	static const struct {
		int line;
		const char *given, *want;
		int eq;
	} cases[] = {
		{ __LINE__, "s3cret-token", "s3cret-token", 1 },
		{ __LINE__, "X3cret-token", "s3cret-token", 0 }, /* first byte */
		{ __LINE__, "s3cret-tokeN", "s3cret-token", 0 }, /* last byte */
		{ __LINE__, "s3cret", "s3cret-token", 0 },       /* prefix */
		{ __LINE__, "s3cret-token-and-more", "s3cret-token", 0 },
		{ __LINE__, "", "s3cret-token", 0 },
		{ __LINE__, "s3cret-token", "", 0 }, /* no token: nobody */
		{ __LINE__, "", "", 0 },
		{ __LINE__, "S3CRET-TOKEN", "s3cret-token", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int want = MLS_HAVE_TLS ? cases[i].eq : 0;
		int got = httpauth_token_eq(cases[i].given, strlen(cases[i].given),
			cases[i].want, strlen(cases[i].want));
		tap_ok(got == want, cases[i].line, "token_eq(\"%s\", \"%s\") == %d",
			cases[i].given, cases[i].want, want);
	}

	/* long tokens, and bytes past the lengths are not read */
	char a[5000], b[5000];
	memset(a, 'k', sizeof a);
	memset(b, 'k', sizeof b);
	tap_ok(httpauth_token_eq(a, sizeof a, b, sizeof b) == MLS_HAVE_TLS,
		__LINE__, "token_eq: 5000 equal bytes");
	b[2500] = 'j';
	tap_ok(httpauth_token_eq(a, sizeof a, b, sizeof b) == 0,
		__LINE__, "token_eq: 5000 bytes, one differs in the middle");
	tap_ok(httpauth_token_eq(a, 2500, b, 2500) == MLS_HAVE_TLS,
		__LINE__, "token_eq: only the given lengths count");
	tap_ok(httpauth_token_eq(a, 4999, b, 5000) == 0,
		__LINE__, "token_eq: lengths 4999 and 5000");
	tap_ok(httpauth_token_eq(NULL, 0, "x", 1) == 0,
		__LINE__, "token_eq: NULL given of length 0");
	tap_ok(httpauth_token_eq("a\0b", 3, "a\0b", 3) == MLS_HAVE_TLS &&
		httpauth_token_eq("a\0b", 3, "a\0c", 3) == 0,
		__LINE__, "token_eq: NUL bytes are compared too");
}

/* ----------------------------------------------------------- bearer */

static void test_bearer(void)
{
	static const struct {
		int line;
		const char *in;
		const char *tok; /* NULL: refused */
	} cases[] = {
		{ __LINE__, "Bearer abc", "abc" },
		{ __LINE__, "bearer abc", "abc" },
		{ __LINE__, "BEARER abc", "abc" },
		{ __LINE__, "bEaReR abc", "abc" },
		{ __LINE__, "Bearer    abc", "abc" },
		{ __LINE__, "Bearer abc  \t ", "abc" },
		{ __LINE__, "  Bearer abc", "abc" },
		{ __LINE__, "Bearer A-Z.a_z~0+9/", "A-Z.a_z~0+9/" },
		{ __LINE__, "Bearer abc==", "abc==" },
		{ __LINE__, "Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM" },
		{ __LINE__, "Bearer x", "x" },
		/* refused */
		{ __LINE__, "", NULL },
		{ __LINE__, "Bearer", NULL },
		{ __LINE__, "Bearer ", NULL },
		{ __LINE__, "Bearer    ", NULL },
		{ __LINE__, "Bearerabc", NULL },
		{ __LINE__, "Bearer\tabc", NULL },
		{ __LINE__, "Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL },
		{ __LINE__, "Bear abc", NULL },
		{ __LINE__, "Bearer abc def", NULL },
		{ __LINE__, "Bearer ab=c", NULL },
		{ __LINE__, "Bearer =abc", NULL },
		{ __LINE__, "Bearer =", NULL },
		{ __LINE__, "Bearer abc,", NULL },
		{ __LINE__, "Bearer a\"b", NULL },
		{ __LINE__, "Bearer abc\r\n", NULL },
		{ __LINE__, "Bearer ab\x01", NULL },
		{ __LINE__, "Bearer \xc3\xa9t\xc3\xa9", NULL },
		{ __LINE__, "Token abc", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *tok = "unchanged";
		size_t len = 99;
		int r = httpauth_bearer(cases[i].in, &tok, &len);
		int ok;
		if (cases[i].tok)
			ok = r == 1 && len == strlen(cases[i].tok) &&
				!memcmp(tok, cases[i].tok, len) &&
				tok >= cases[i].in && tok < cases[i].in + strlen(cases[i].in);
		else
			ok = r == 0 && !strcmp(tok, "unchanged") && len == 99;
		if (!tap_ok(ok, cases[i].line, "bearer(\"%s\")", cases[i].in))
			tap_diag("got %d '%.*s'", r, r ? (int)len : 0, r ? tok : "");
	}
	const char *tok;
	size_t len;
	tap_ok(httpauth_bearer(NULL, &tok, &len) == 0, __LINE__, "bearer(NULL)");

	/* the length limit: HTTPAUTH_TOKEN_MAX bytes, '=' padding included */
	static char big[HTTPAUTH_TOKEN_MAX + 64];
	strcpy(big, "Bearer ");
	memset(big + 7, 't', HTTPAUTH_TOKEN_MAX);
	big[7 + HTTPAUTH_TOKEN_MAX] = 0;
	tap_ok(httpauth_bearer(big, &tok, &len) == 1 && len == HTTPAUTH_TOKEN_MAX,
		__LINE__, "bearer: a token of HTTPAUTH_TOKEN_MAX bytes");
	strcpy(big + 7 + HTTPAUTH_TOKEN_MAX, "t");
	tap_ok(httpauth_bearer(big, &tok, &len) == 0,
		__LINE__, "bearer: one byte longer is refused");
	strcpy(big + 7 + HTTPAUTH_TOKEN_MAX - 1, "=");
	tap_ok(httpauth_bearer(big, &tok, &len) == 1 && len == HTTPAUTH_TOKEN_MAX,
		__LINE__, "bearer: HTTPAUTH_TOKEN_MAX bytes ending in '='");
	strcpy(big + 7 + HTTPAUTH_TOKEN_MAX - 1, "==");
	tap_ok(httpauth_bearer(big, &tok, &len) == 0,
		__LINE__, "bearer: padding past the limit is refused");
}

/* --------------------------------------------------------- sessions */

#if MLS_HAVE_TLS
static int check(const struct httpauth *a, const char *v, int64_t now, int *role)
{
	return httpauth_session_check(a, v, strlen(v), now, role);
}

static void test_sessions(void)
{
	struct httpauth a, b;
	char v[HTTPAUTH_SESSION_MAX], w[HTTPAUTH_SESSION_MAX];
	int role, n;

	tap_ok(httpauth_init(&a) == 0 && httpauth_init(&b) == 0, __LINE__,
		"init: two keys");
	tap_ok(memcmp(a.key, b.key, sizeof a.key) != 0, __LINE__,
		"init: the two keys differ");

	n = httpauth_session_make(&a, HTTPAUTH_ADMIN, NOW, 3600, v, sizeof v);
	tap_ok(n > 0 && (size_t)n == strlen(v), __LINE__, "make: admin, 1 h: %s", v);
	tap_ok(!strncmp(v, "v1.1700003600.2.", 16) && n == 16 + 16 + 1 + 43,
		__LINE__, "make: v1.EXPIRY.ROLE.NONCE(16).MAC(43)");
	int clean = 1;
	for (int i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_.", v[i]))
			clean = 0;
	tap_ok(clean, __LINE__, "make: only base64url bytes and dots");
	const char *tok;
	size_t tlen;
	char hdr[200];
	snprintf(hdr, sizeof hdr, "Bearer %s", v);
	tap_ok(httpauth_bearer(hdr, &tok, &tlen) == 1 && tlen == (size_t)n,
		__LINE__, "make: the value is a token68 too");

	role = 0;
	tap_ok(check(&a, v, NOW, &role) == 1 && role == HTTPAUTH_ADMIN,
		__LINE__, "check: valid at once, role admin");
	role = 0;
	tap_ok(check(&a, v, NOW + 3599, &role) == 1 && role == HTTPAUTH_ADMIN,
		__LINE__, "check: valid 1 s before expiry");
	role = 7;
	tap_ok(check(&a, v, NOW + 3600, &role) == 0 && role == 7,
		__LINE__, "check: expired at expiry, role unchanged");
	tap_ok(check(&a, v, INT64_MAX, &role) == 0, __LINE__,
		"check: expired much later");
	tap_ok(check(&b, v, NOW, &role) == 0, __LINE__,
		"check: another key (another init) refuses it");
	tap_ok(httpauth_session_check(&a, v, (size_t)n - 1, NOW, &role) == 0,
		__LINE__, "check: the value without its last byte");

	n = httpauth_session_make(&a, HTTPAUTH_READ, NOW, 60, w, sizeof w);
	role = 0;
	tap_ok(n > 0 && check(&a, w, NOW + 10, &role) == 1 &&
		role == HTTPAUTH_READ, __LINE__, "check: a read session");
	tap_ok(strcmp(v + 16, w + 16) != 0, __LINE__, "make: nonces differ");
	char w2[HTTPAUTH_SESSION_MAX];
	httpauth_session_make(&a, HTTPAUTH_READ, NOW, 60, w2, sizeof w2);
	tap_ok(strcmp(w, w2) != 0, __LINE__,
		"make: same role and time, another value");

	/* every byte changed, to each other plausible byte: refused */
	int bad = 0, tries = 0;
	static const char alphabet[] = "0123456789Aaz-_.=/ \x01\xff";
	for (int i = 0; i < n; i++) {
		for (const char *c = alphabet; *c; c++) {
			char t[HTTPAUTH_SESSION_MAX];
			memcpy(t, w, (size_t)n + 1);
			if (t[i] == *c)
				continue;
			t[i] = *c;
			tries++;
			if (httpauth_session_check(&a, t, (size_t)n, NOW, &role))
				bad++, tap_diag("accepted: %s", t);
		}
		/* a bit flip too, covering bytes not in the alphabet */
		char t[HTTPAUTH_SESSION_MAX];
		memcpy(t, w, (size_t)n + 1);
		t[i] ^= 1;
		tries++;
		if (httpauth_session_check(&a, t, (size_t)n, NOW, &role))
			bad++, tap_diag("accepted: %s", t);
	}
	tap_ok(bad == 0, __LINE__, "check: %d tampered values (each byte of "
		"payload and MAC) all refused", tries);

	/* a payload re-signed with the wrong role needs the key: a role
	 * swapped into a valid value is refused (covered above); so is a
	 * longer expiry */
	char t[HTTPAUTH_SESSION_MAX];
	memcpy(t, w, (size_t)n + 1);
	memcpy(t + 3, "9999999999", 10);
	tap_ok(check(&a, t, NOW, &role) == 0, __LINE__,
		"check: a later expiry with the old MAC");

	/* format */
	static const struct {
		int line;
		const char *in;
	} fmt[] = {
		{ __LINE__, "" },
		{ __LINE__, "v1." },
		{ __LINE__, "v2.1700003600.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.01700003600.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.-1.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.99999999999999999999.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.3.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.0.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.22.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.2.AAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ __LINE__, "v1.1700003600.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
		{ __LINE__, "v1..2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
	};
	for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++)
		tap_ok(check(&a, fmt[i].in, NOW, &role) == 0, fmt[i].line,
			"check(\"%s\") refused", fmt[i].in);
	tap_ok(httpauth_session_check(&a, NULL, 0, NOW, &role) == 0, __LINE__,
		"check: NULL");
	char longv[300];
	memset(longv, 'A', sizeof longv);
	memcpy(longv, w, (size_t)n);
	tap_ok(httpauth_session_check(&a, longv, sizeof longv, NOW, &role) == 0,
		__LINE__, "check: a valid value followed by more bytes");

	/* a value that is not NUL-terminated, read by length only */
	char exact[HTTPAUTH_SESSION_MAX];
	memcpy(exact, w, (size_t)n);
	exact[n] = 'x';
	tap_ok(httpauth_session_check(&a, exact, (size_t)n, NOW, &role) == 1,
		__LINE__, "check: by length, no NUL needed");

	/* revoke_all: old values refused, new ones valid */
	httpauth_revoke_all(&a);
	tap_ok(check(&a, v, NOW, &role) == 0 && check(&a, w, NOW, &role) == 0,
		__LINE__, "revoke_all: sessions made before are refused");
	n = httpauth_session_make(&a, HTTPAUTH_ADMIN, NOW, 3600, v, sizeof v);
	role = 0;
	tap_ok(n > 0 && check(&a, v, NOW, &role) == 1 && role == HTTPAUTH_ADMIN,
		__LINE__, "revoke_all: a session made after is valid");
	struct httpauth c = a;
	httpauth_revoke_all(&c);
	httpauth_revoke_all(&c);
	tap_ok(check(&c, v, NOW, &role) == 0, __LINE__,
		"revoke_all twice: refused");

	/* make: bad arguments, sizes */
	static const struct {
		int line;
		int role;
		int64_t now, ttl;
	} badmake[] = {
		{ __LINE__, 0, NOW, 60 },
		{ __LINE__, 3, NOW, 60 },
		{ __LINE__, -1, NOW, 60 },
		{ __LINE__, HTTPAUTH_READ, NOW, 0 },
		{ __LINE__, HTTPAUTH_READ, NOW, -5 },
		{ __LINE__, HTTPAUTH_READ, -1, 60 },
		{ __LINE__, HTTPAUTH_READ, INT64_MAX - 10, 11 },
	};
	for (size_t i = 0; i < sizeof badmake / sizeof badmake[0]; i++)
		tap_ok(httpauth_session_make(&a, badmake[i].role, badmake[i].now,
			badmake[i].ttl, v, sizeof v) == -1, badmake[i].line,
			"make(role %d, now %lld, ttl %lld) == -1", badmake[i].role,
			(long long)badmake[i].now, (long long)badmake[i].ttl);
	n = httpauth_session_make(&a, HTTPAUTH_READ, INT64_MAX - 10, 10, v, sizeof v);
	role = 0;
	tap_ok(n == 3 + 19 + 3 + 16 + 1 + 43 && n < HTTPAUTH_SESSION_MAX &&
		check(&a, v, INT64_MAX - 1, &role) == 1 && role == HTTPAUTH_READ,
		__LINE__, "make: expiry INT64_MAX, the longest value (%d bytes)", n);
	tap_ok(httpauth_session_make(&a, HTTPAUTH_READ, INT64_MAX - 10, 10, v,
		(size_t)n + 1) == n, __LINE__, "make: outsz of length + 1");
	tap_ok(httpauth_session_make(&a, HTTPAUTH_READ, INT64_MAX - 10, 10, v,
		(size_t)n) == -1, __LINE__, "make: outsz of length is too small");
	n = httpauth_session_make(&a, HTTPAUTH_READ, 0, 1, v, sizeof v);
	tap_ok(n > 0 && check(&a, v, 0, &role) == 1 && check(&a, v, 1, &role) == 0,
		__LINE__, "make: now 0, ttl 1");
}
#else
static void test_sessions(void)
{
	struct httpauth a = { .gen = 0 };
	char v[HTTPAUTH_SESSION_MAX];
	int role = 0;

	tap_ok(httpauth_init(&a) == -1, __LINE__, "no TLS: init fails");
	tap_ok(httpauth_session_make(&a, HTTPAUTH_READ, NOW, 60, v, sizeof v) == -1,
		__LINE__, "no TLS: make fails");
	const char *s = "v1.1700003600.2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	tap_ok(httpauth_session_check(&a, s, strlen(s), NOW, &role) == 0,
		__LINE__, "no TLS: check refuses");
}
#endif

/* ---------------------------------------------------------- cookies */

static void test_cookie_get(void)
{
	static const struct {
		int line;
		const char *hdr, *name;
		const char *val; /* NULL: not found */
	} cases[] = {
		{ __LINE__, "mls=abc", "mls", "abc" },
		{ __LINE__, "a=1; mls=abc; b=2", "mls", "abc" },
		{ __LINE__, "a=1;mls=abc;b=2", "mls", "abc" },
		{ __LINE__, "a=1;   mls=abc  ;b=2", "mls", "abc" },
		{ __LINE__, "\tmls=abc\t", "mls", "abc" },
		{ __LINE__, "mls=\"abc\"", "mls", "abc" },
		{ __LINE__, "mls=\"\"", "mls", "" },
		{ __LINE__, "mls=\"", "mls", "\"" },
		{ __LINE__, "mls=", "mls", "" },
		{ __LINE__, "mls=; x=1", "mls", "" },
		{ __LINE__, "mls=a=b", "mls", "a=b" },
		{ __LINE__, "mls=first; mls=second", "mls", "first" },
		{ __LINE__, "xmls=1; mls=2", "mls", "2" },
		{ __LINE__, "mlsx=1; mls=2", "mls", "2" },
		{ __LINE__, ";;; mls=v ;;", "mls", "v" },
		{ __LINE__, "flag; mls=v", "mls", "v" },
		{ __LINE__, "mls", "mls", NULL },
		{ __LINE__, "mls ; a=b", "mls", NULL },
		{ __LINE__, "", "mls", NULL },
		{ __LINE__, "MLS=abc", "mls", NULL },
		{ __LINE__, "ml=abc", "mls", NULL },
		{ __LINE__, "a=mls=abc", "mls", NULL },
		{ __LINE__, "a=\"mls=abc; b=1", "mls", NULL },
		{ __LINE__, "=abc", "", NULL },
		{ __LINE__, "mls =abc", "mls", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *val = "unchanged";
		size_t len = 99;
		int r = httpauth_cookie_get(cases[i].hdr, cases[i].name, &val, &len);
		int ok;
		if (cases[i].val)
			ok = r == 1 && len == strlen(cases[i].val) &&
				!memcmp(val, cases[i].val, len);
		else
			ok = r == 0 && len == 99;
		if (!tap_ok(ok, cases[i].line, "cookie_get(\"%s\", \"%s\")",
		    cases[i].hdr, cases[i].name))
			tap_diag("got %d '%.*s'", r, r ? (int)len : 0, r ? val : "");
	}
	const char *val;
	size_t len;
	tap_ok(httpauth_cookie_get(NULL, "mls", &val, &len) == 0 &&
		httpauth_cookie_get("mls=1", NULL, &val, &len) == 0,
		__LINE__, "cookie_get: NULL header or name");

	/* the limit: HTTPAUTH_COOKIE_HDR_MAX bytes read, longer refused */
	static char big[HTTPAUTH_COOKIE_HDR_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	memcpy(big, "pad=", 4);
	memcpy(big + HTTPAUTH_COOKIE_HDR_MAX - 7, "; mls=1", 7);
	big[HTTPAUTH_COOKIE_HDR_MAX] = 0;
	tap_ok(httpauth_cookie_get(big, "mls", &val, &len) == 1 && len == 1 &&
		*val == '1', __LINE__, "cookie_get: a header of exactly the limit");
	memcpy(big + HTTPAUTH_COOKIE_HDR_MAX - 7, "; mls=12", 8);
	big[HTTPAUTH_COOKIE_HDR_MAX + 1] = 0;
	tap_ok(httpauth_cookie_get(big, "mls", &val, &len) == 0,
		__LINE__, "cookie_get: one byte over the limit is refused");
}

static void test_set_cookie(void)
{
	char out[600];
	int n;

	n = httpauth_set_cookie(out, sizeof out, "mls", "v1.x.y", 3600, 1);
	tap_ok(n > 0 && (size_t)n == strlen(out) && !strcmp(out,
		"Set-Cookie: mls=v1.x.y; Path=/; Max-Age=3600; HttpOnly; "
		"SameSite=Strict; Secure\r\n"), __LINE__, "set_cookie: secure");
	n = httpauth_set_cookie(out, sizeof out, "mls", "", 0, 0);
	tap_ok(n > 0 && !strcmp(out, "Set-Cookie: mls=; Path=/; Max-Age=0; "
		"HttpOnly; SameSite=Strict\r\n"), __LINE__,
		"set_cookie: logout, not secure");

	static const struct {
		int line;
		const char *name, *value;
		int64_t max_age;
	} bad[] = {
		{ __LINE__, "", "v", 1 },
		{ __LINE__, "a b", "v", 1 },
		{ __LINE__, "a=b", "v", 1 },
		{ __LINE__, "a;", "v", 1 },
		{ __LINE__, "a\r\nX-Evil: 1", "v", 1 },
		{ __LINE__, "mls", "v\r\nX-Evil: 1", 1 },
		{ __LINE__, "mls", "a;b", 1 },
		{ __LINE__, "mls", "a b", 1 },
		{ __LINE__, "mls", "a,b", 1 },
		{ __LINE__, "mls", "a\"b", 1 },
		{ __LINE__, "mls", "a\\b", 1 },
		{ __LINE__, "mls", "\xc3\xa9", 1 },
		{ __LINE__, "mls", "v", -1 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		tap_ok(httpauth_set_cookie(out, sizeof out, bad[i].name,
			bad[i].value, bad[i].max_age, 0) == -1, bad[i].line,
			"set_cookie(\"%s\", \"%s\", %lld) == -1", bad[i].name,
			bad[i].value, (long long)bad[i].max_age);

	/* sizes: 256-byte name and value, the largest max-age, fit in 600 */
	char name[258], value[258];
	memset(name, 'n', 256), name[256] = 0;
	memset(value, 'v', 256), value[256] = 0;
	n = httpauth_set_cookie(out, sizeof out, name, value, INT64_MAX, 1);
	tap_ok(n == 599, __LINE__, "set_cookie: the longest line fits 600 (%d)", n);
	tap_ok(httpauth_set_cookie(out, 599, name, value, INT64_MAX, 1) == -1,
		__LINE__, "set_cookie: outsz too small");
	name[256] = 'n', name[257] = 0;
	tap_ok(httpauth_set_cookie(out, sizeof out, name, "v", 1, 0) == -1,
		__LINE__, "set_cookie: a 257-byte name");
	value[256] = 'v', value[257] = 0;
	tap_ok(httpauth_set_cookie(out, sizeof out, "mls", value, 1, 0) == -1,
		__LINE__, "set_cookie: a 257-byte value");
	char tiny[4];
	tap_ok(httpauth_set_cookie(tiny, sizeof tiny, "mls", "v", 1, 0) == -1,
		__LINE__, "set_cookie: a 4-byte buffer");
}

/* ------------------------------------------------------ same origin */

static void test_same_origin(void)
{
	static const struct {
		int line;
		const char *origin, *host;
		int tls, same;
	} cases[] = {
		{ __LINE__, "http://example.com", "example.com", 0, 1 },
		{ __LINE__, "https://example.com", "example.com", 1, 1 },
		{ __LINE__, "HTTPS://Example.COM", "example.com", 1, 1 },
		{ __LINE__, "https://example.com", "EXAMPLE.com", 1, 1 },
		{ __LINE__, "https://h", "h:443", 1, 1 },
		{ __LINE__, "https://h:443", "h", 1, 1 },
		{ __LINE__, "http://h:80", "h", 0, 1 },
		{ __LINE__, "http://h", "h:80", 0, 1 },
		{ __LINE__, "http://h:8080", "h:8080", 0, 1 },
		{ __LINE__, "http://h:08080", "h:8080", 0, 1 },
		{ __LINE__, "http://127.0.0.1:9000", "127.0.0.1:9000", 0, 1 },
		{ __LINE__, "http://[::1]:9000", "[::1]:9000", 0, 1 },
		{ __LINE__, "https://[::1]", "[::1]:443", 1, 1 },
		{ __LINE__, "http://[2001:DB8::1]", "[2001:db8::1]", 0, 1 },
		{ __LINE__, "http://[::ffff:10.0.0.1]:81", "[::ffff:10.0.0.1]:81", 0, 1 },
		{ __LINE__, "http://my_host-1.local~x", "my_host-1.local~x", 0, 1 },
		/* not the same */
		{ __LINE__, "https://example.com", "example.com", 0, 0 },
		{ __LINE__, "http://example.com", "example.com", 1, 0 },
		{ __LINE__, "https://h", "h:80", 1, 0 },
		{ __LINE__, "http://h", "h:443", 0, 0 },
		{ __LINE__, "https://h:8443", "h", 1, 0 },
		{ __LINE__, "http://h:8080", "h:8081", 0, 0 },
		{ __LINE__, "http://evil.com", "example.com", 0, 0 },
		{ __LINE__, "http://example.com.evil.com", "example.com", 0, 0 },
		{ __LINE__, "http://example.co", "example.com", 0, 0 },
		{ __LINE__, "http://example.com", "example.co", 0, 0 },
		{ __LINE__, "http://[::1]:9000", "[::1]:9001", 0, 0 },
		{ __LINE__, "http://[::1]:9000", "[::2]:9000", 0, 0 },
		{ __LINE__, "http://[::1]", "::1", 0, 0 },
		{ __LINE__, "http://[::1]:9000", "[::1]", 0, 0 },
		{ __LINE__, "http://::1", "::1", 0, 0 },
		{ __LINE__, "null", "h", 0, 0 },
		{ __LINE__, "", "h", 0, 0 },
		{ __LINE__, "http://", "", 0, 0 },
		{ __LINE__, "http://h", "", 0, 0 },
		{ __LINE__, "http://h/", "h", 0, 0 },
		{ __LINE__, "http://h/path", "h", 0, 0 },
		{ __LINE__, "http://u@h", "h", 0, 0 },
		{ __LINE__, "http://h:", "h", 0, 0 },
		{ __LINE__, "http://h", "h:", 0, 0 },
		{ __LINE__, "http://h:0", "h:0", 0, 0 },
		{ __LINE__, "http://h:65536", "h:65536", 0, 0 },
		{ __LINE__, "http://h:99999999999999999999", "h:99999999999999999999", 0, 0 },
		{ __LINE__, "http://h:8x", "h:8x", 0, 0 },
		{ __LINE__, "http://h:+80", "h:+80", 0, 0 },
		{ __LINE__, "http://h:80:80", "h:80:80", 0, 0 },
		{ __LINE__, "http://h h", "h h", 0, 0 },
		{ __LINE__, "http:// h", " h", 0, 0 },
		{ __LINE__, "http://h\r\n", "h\r\n", 0, 0 },
		{ __LINE__, "http://[]", "[]", 0, 0 },
		{ __LINE__, "http://[::1", "[::1", 0, 0 },
		{ __LINE__, "http://[::1]x", "[::1]x", 0, 0 },
		{ __LINE__, "http://[fe80::1%25eth0]", "[fe80::1%25eth0]", 0, 0 },
		{ __LINE__, "ftp://h", "h", 0, 0 },
		{ __LINE__, "http:/h", "h", 0, 0 },
		{ __LINE__, "http:h", "h", 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = httpauth_same_origin(cases[i].origin, cases[i].host,
			cases[i].tls);
		tap_ok(r == cases[i].same, cases[i].line,
			"same_origin(\"%s\", \"%s\", tls %d) == %d", cases[i].origin,
			cases[i].host, cases[i].tls, cases[i].same);
	}
	tap_ok(httpauth_same_origin(NULL, "h", 0) == 0 &&
		httpauth_same_origin("http://h", NULL, 0) == 0,
		__LINE__, "same_origin: NULL origin or host");

	/* the 300-byte limit */
	char o[400], h[400];
	strcpy(o, "http://");
	memset(o + 7, 'a', 293), o[300] = 0;
	memcpy(h, o + 7, 294);
	tap_ok(httpauth_same_origin(o, h, 0) == 1, __LINE__,
		"same_origin: an origin of 300 bytes");
	strcat(o, "a"), strcat(h, "a");
	tap_ok(httpauth_same_origin(o, h, 0) == 0, __LINE__,
		"same_origin: an origin of 301 bytes is refused");
}

/* ------------------------------------------------------- rate limit */

static struct httpauth_rl rl; /* 256 slots: not on the stack */

static void test_rl(void)
{
	int retry = -1;
	unsigned unlogged = 99;
	int64_t t = 1000;
	int allowed = 0, logged = 0;

	memset(&rl, 0, sizeof rl);
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", t, &retry) == 0 && retry == -1,
		__LINE__, "rl: an unknown address is allowed");
	tap_ok(httpauth_rl_should_log(&rl, "10.0.0.1", &unlogged) == 0,
		__LINE__, "rl: should_log for an unknown address");

	/* HTTPAUTH_RL_MAX failures one second apart are allowed, then blocked */
	for (int i = 0; i < 20; i++, t += 1000) {
		if (httpauth_rl_check(&rl, "10.0.0.1", t, &retry))
			break;
		allowed++;
		httpauth_rl_fail(&rl, "10.0.0.1", t);
		if (httpauth_rl_should_log(&rl, "10.0.0.1", &unlogged))
			logged++;
	}
	tap_ok(allowed == HTTPAUTH_RL_MAX, __LINE__,
		"rl: %d failures allowed, then blocked", allowed);
	tap_ok(logged == 1 && unlogged == 0, __LINE__,
		"rl: one log for the window (%d), nothing unlogged before", logged);
	/* first failure at 1000, window closes at 61000; now t = 11000 */
	tap_ok(retry == 50, __LINE__, "rl: Retry-After 50 s (%d)", retry);
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", 60999, &retry) == 1 && retry == 1,
		__LINE__, "rl: blocked 1 ms before the window closes, Retry-After 1");
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", 60001, &retry) == 1 && retry == 1,
		__LINE__, "rl: Retry-After rounds up");
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", 1000, &retry) == 1 && retry == 60,
		__LINE__, "rl: Retry-After 60 at the window's start");
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", 500, &retry) == 1 && retry == 60,
		__LINE__, "rl: a clock gone back: Retry-After at most 60");
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", 61000, &retry) == 0,
		__LINE__, "rl: allowed once the window closes");
	tap_ok(httpauth_rl_check(&rl, "10.0.0.2", 20000, NULL) == 0,
		__LINE__, "rl: another address is allowed");
	tap_ok(httpauth_rl_check(&rl, "10.0.0.1", 20000, NULL) == 1,
		__LINE__, "rl: retry_after_s may be NULL");

	/* the next window: one log, with the 9 not logged before */
	httpauth_rl_fail(&rl, "10.0.0.1", 61000);
	tap_ok(httpauth_rl_should_log(&rl, "10.0.0.1", &unlogged) == 1 &&
		unlogged == HTTPAUTH_RL_MAX - 1, __LINE__,
		"rl: new window logged, %u not logged before", unlogged);
	httpauth_rl_fail(&rl, "10.0.0.1", 61001);
	tap_ok(httpauth_rl_should_log(&rl, "10.0.0.1", NULL) == 0 &&
		httpauth_rl_check(&rl, "10.0.0.1", 61002, NULL) == 0,
		__LINE__, "rl: 2 failures in the new window: allowed, not logged");

	/* a burst: 10 failures in one ms, blocked for the whole window */
	memset(&rl, 0, sizeof rl);
	for (int i = 0; i < HTTPAUTH_RL_MAX; i++)
		httpauth_rl_fail(&rl, "::1", 5000);
	tap_ok(httpauth_rl_check(&rl, "::1", 5000, &retry) == 1 && retry == 60,
		__LINE__, "rl: a burst blocks for 60 s");
	tap_ok(httpauth_rl_check(&rl, "::1", 5000 + HTTPAUTH_RL_WINDOW_MS, NULL) == 0,
		__LINE__, "rl: ... and no longer");

	/* addresses cut to 45 bytes */
	char a1[80], a2[80];
	memset(a1, 'f', 60), a1[60] = 0;
	memcpy(a2, a1, 61), a2[50] = 'e';
	memset(&rl, 0, sizeof rl);
	for (int i = 0; i < HTTPAUTH_RL_MAX; i++)
		httpauth_rl_fail(&rl, a1, 5000);
	tap_ok(httpauth_rl_check(&rl, a2, 5000, NULL) == 1 &&
		strlen(rl.slot[0].addr) == HTTPAUTH_RL_ADDR - 1,
		__LINE__, "rl: long addresses are cut to %d bytes", HTTPAUTH_RL_ADDR - 1);
	tap_ok(httpauth_rl_check(&rl, "", 5000, NULL) == 0 &&
		httpauth_rl_check(&rl, NULL, 5000, NULL) == 0,
		__LINE__, "rl: empty or NULL peer is allowed (never stored)");
	httpauth_rl_fail(&rl, "", 5000);
	httpauth_rl_fail(&rl, NULL, 5000);
	tap_ok(rl.slot[1].addr[0] == 0, __LINE__, "rl: empty or NULL peer not stored");

	/* many addresses: the table fills, the least recently failed goes */
	char addr[HTTPAUTH_RL_ADDR];
	memset(&rl, 0, sizeof rl);
	for (int i = 0; i < HTTPAUTH_RL_SLOTS; i++) {
		snprintf(addr, sizeof addr, "192.0.2.%d", i);
		for (int k = 0; k < HTTPAUTH_RL_MAX; k++)
			httpauth_rl_fail(&rl, addr, 1000 + i);
	}
	int blocked = 0;
	for (int i = 0; i < HTTPAUTH_RL_SLOTS; i++) {
		snprintf(addr, sizeof addr, "192.0.2.%d", i);
		blocked += httpauth_rl_check(&rl, addr, 2000, NULL);
	}
	tap_ok(blocked == HTTPAUTH_RL_SLOTS, __LINE__,
		"rl: %d addresses, all blocked", blocked);
	/* address 0 fails again, so 1 is now the least recent */
	httpauth_rl_fail(&rl, "192.0.2.0", 3000);
	httpauth_rl_fail(&rl, "2001:db8::new", 3001);
	tap_ok(httpauth_rl_check(&rl, "192.0.2.1", 3002, NULL) == 0,
		__LINE__, "rl: table full: the least recently failed is forgotten");
	tap_ok(httpauth_rl_check(&rl, "192.0.2.0", 3002, NULL) == 1 &&
		httpauth_rl_check(&rl, "192.0.2.2", 3002, NULL) == 1 &&
		httpauth_rl_check(&rl, "192.0.2.255", 3002, NULL) == 1,
		__LINE__, "rl: table full: the others stay blocked");
	tap_ok(httpauth_rl_should_log(&rl, "2001:db8::new", &unlogged) == 1 &&
		unlogged == 0, __LINE__, "rl: the new address is logged");
	for (int k = 1; k < HTTPAUTH_RL_MAX; k++)
		httpauth_rl_fail(&rl, "2001:db8::new", 3001 + k);
	tap_ok(httpauth_rl_check(&rl, "2001:db8::new", 4000, &retry) == 1 &&
		retry == 60, __LINE__, "rl: the new address is blocked after %d",
		HTTPAUTH_RL_MAX);

	/* 1000 addresses through 256 slots: the last 256 are remembered */
	memset(&rl, 0, sizeof rl);
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
		for (int k = 0; k < HTTPAUTH_RL_MAX; k++)
			httpauth_rl_fail(&rl, addr, 10000 + i);
	}
	blocked = 0;
	int first_kept = -1;
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
		int b = httpauth_rl_check(&rl, addr, 20000, NULL);
		blocked += b;
		if (b && first_kept < 0)
			first_kept = i;
	}
	tap_ok(blocked == HTTPAUTH_RL_SLOTS && first_kept == 1000 - HTTPAUTH_RL_SLOTS,
		__LINE__, "rl: 1000 addresses: the last %d kept (%d, from %d)",
		HTTPAUTH_RL_SLOTS, blocked, first_kept);
}

int main(void)
{
	test_token_eq();
	test_bearer();
	test_sessions();
	test_cookie_get();
	test_set_cookie();
	test_same_origin();
	test_rl();
	return tap_done();
}
