/* httpauth.c: see httpauth.h for the contract. */
#include "httpauth.h"
#include "b64.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#if MLS_HAVE_TLS
#include <bearssl.h>
#endif

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
}

/* n random bytes; 0 or -1 with errno. Blocks only until the kernel's pool
 * is first initialised. */
static __attribute__((unused)) int random_bytes(void *buf, size_t n) /* unused without TLS */
{
	unsigned char *p = buf;

	while (n) {
		ssize_t k = getrandom(p, n, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* 1 when a[0..n) == b[0..n), in time depending only on n */
static int ct_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return (int)(1 & ((d - 1) >> 8)); /* d is 0..255 */
}

/* ------------------------------------------------------------ tokens */

int httpauth_token_eq(const char *given, size_t glen, const char *want,
	size_t wlen)
{
#if MLS_HAVE_TLS
	unsigned char hg[32], hw[32];
	br_sha256_context c;

	if (wlen == 0) /* the config's, not the client's: may branch */
		return 0;
	br_sha256_init(&c);
	if (glen) /* given may be NULL then */
		br_sha256_update(&c, given, glen);
	br_sha256_out(&c, hg);
	br_sha256_init(&c);
	br_sha256_update(&c, want, wlen);
	br_sha256_out(&c, hw);
	/* x | -x has its top bit set iff x != 0 */
	size_t x = glen ^ wlen;
	unsigned lendiff = (unsigned)((x | (0 - x)) >> (sizeof x * 8 - 1));
	return ct_eq(hg, hw, sizeof hg) & (int)(lendiff ^ 1);
#else
	(void)given, (void)glen, (void)want, (void)wlen;
	return 0;
#endif
}

static int is_token68(char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		c == '+' || c == '/';
}

int httpauth_bearer(const char *h, const char **tok, size_t *len)
{
	size_t i = 0, start, end;

	if (!h)
		return 0;
	while (h[i] == ' ' || h[i] == '\t')
		i++;
	if (strncasecmp(h + i, "bearer", 6) || h[i + 6] != ' ')
		return 0;
	i += 6;
	while (h[i] == ' ')
		i++;
	start = i;
	while (is_token68(h[i]) && i - start <= HTTPAUTH_TOKEN_MAX)
		i++;
	if (i == start)
		return 0;
	while (h[i] == '=' && i - start <= HTTPAUTH_TOKEN_MAX)
		i++;
	end = i;
	if (end - start > HTTPAUTH_TOKEN_MAX)
		return 0;
	while (h[i] == ' ' || h[i] == '\t')
		i++;
	if (h[i])
		return 0;
	*tok = h + start;
	*len = end - start;
	return 1;
}

/* ---------------------------------------------------------- sessions */

/* base64url of in[0..n) without padding into out; returns its length */
static size_t b64url_enc(const unsigned char *in, size_t n, char *out)
{
	return b64_encode(in, n, out, 1, 0);
}

#define NONCE_BYTES 12
#define NONCE_LEN 16 /* base64url of 12 bytes */
#define MAC_LEN 43   /* base64url of 32 bytes */

#if MLS_HAVE_TLS
/* base64url(HMAC-SHA256(key, payload[0..n) ".GEN")) into mac[MAC_LEN] */
static void session_mac(const struct httpauth *a, const char *payload,
	size_t n, char *mac)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char out[32];
	char gen[24];
	int gn = snprintf(gen, sizeof gen, ".%llu", (unsigned long long)a->gen);

	br_hmac_key_init(&kc, &br_sha256_vtable, a->key, sizeof a->key);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, payload, n);
	br_hmac_update(&hc, gen, (size_t)gn);
	br_hmac_out(&hc, out);
	b64url_enc(out, sizeof out, mac);
}
#endif

int httpauth_init(struct httpauth *a)
{
#if MLS_HAVE_TLS
	a->gen = 0;
	return random_bytes(a->key, sizeof a->key);
#else
	(void)a;
	errno = ENOSYS;
	return -1;
#endif
}

void httpauth_revoke_all(struct httpauth *a)
{
	a->gen++;
}

int httpauth_session_make(const struct httpauth *a, int role, int64_t now_s,
	int64_t ttl_s, char *out, size_t outsz)
{
#if MLS_HAVE_TLS
	unsigned char nonce[NONCE_BYTES];
	char buf[HTTPAUTH_SESSION_MAX];
	int n;

	if ((role != HTTPAUTH_READ && role != HTTPAUTH_ADMIN) || now_s < 0 ||
	    ttl_s <= 0 || ttl_s > INT64_MAX - now_s)
		return -1;
	if (random_bytes(nonce, sizeof nonce))
		return -1;
	n = snprintf(buf, sizeof buf, "v1.%lld.%d.",
		(long long)(now_s + ttl_s), role);
	n += (int)b64url_enc(nonce, sizeof nonce, buf + n);
	session_mac(a, buf, (size_t)n, buf + n + 1);
	buf[n] = '.';
	n += 1 + MAC_LEN;
	if ((size_t)n >= outsz)
		return -1;
	memcpy(out, buf, (size_t)n);
	out[n] = 0;
	return n;
#else
	(void)a, (void)role, (void)now_s, (void)ttl_s, (void)out, (void)outsz;
	return -1;
#endif
}

static int is_b64url(char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

int httpauth_session_check(const struct httpauth *a, const char *v,
	size_t len, int64_t now_s, int *role)
{
#if MLS_HAVE_TLS
	size_t i = 3, payload;
	int64_t expiry = 0;
	char mac[MAC_LEN];
	int r;

	if (!v || len >= HTTPAUTH_SESSION_MAX || len < 3 || memcmp(v, "v1.", 3))
		return 0;
	/* EXPIRY: 1-19 digits, no leading zero, at most INT64_MAX */
	if (i >= len || !is_digit(v[i]) || (v[i] == '0' && i + 1 < len &&
	    is_digit(v[i + 1])))
		return 0;
	for (; i < len && is_digit(v[i]); i++) {
		int d = v[i] - '0';
		if (expiry > (INT64_MAX - d) / 10)
			return 0;
		expiry = expiry * 10 + d;
	}
	/* .ROLE. */
	if (len - i < 3 || v[i] != '.' || v[i + 2] != '.')
		return 0;
	r = v[i + 1] - '0';
	if (r != HTTPAUTH_READ && r != HTTPAUTH_ADMIN)
		return 0;
	i += 3;
	/* NONCE.MAC: exactly */
	if (len - i != NONCE_LEN + 1 + MAC_LEN || v[i + NONCE_LEN] != '.')
		return 0;
	for (size_t k = i; k < len; k++)
		if (k != i + NONCE_LEN && !is_b64url(v[k]))
			return 0;
	payload = i + NONCE_LEN;
	session_mac(a, v, payload, mac);
	if (!ct_eq((const unsigned char *)mac,
	    (const unsigned char *)v + payload + 1, MAC_LEN))
		return 0;
	if (now_s >= expiry)
		return 0;
	*role = r;
	return 1;
#else
	(void)a, (void)v, (void)len, (void)now_s, (void)role;
	return 0;
#endif
}

/* ----------------------------------------------------------- cookies */

int httpauth_cookie_get(const char *h, const char *name, const char **val,
	size_t *len)
{
	size_t n, nlen;

	if (!h || !name || !(nlen = strlen(name)))
		return 0;
	n = strnlen(h, HTTPAUTH_COOKIE_HDR_MAX + 1);
	if (n > HTTPAUTH_COOKIE_HDR_MAX)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t s, e, eq;

		/* one pair: h[s..e), blanks around it dropped */
		while (i < n && (h[i] == ' ' || h[i] == '\t'))
			i++;
		s = i;
		while (i < n && h[i] != ';')
			i++;
		e = i++; /* past the ';' */
		while (e > s && (h[e - 1] == ' ' || h[e - 1] == '\t'))
			e--;
		eq = s;
		while (eq < e && h[eq] != '=')
			eq++;
		if (eq == e || eq - s != nlen || memcmp(h + s, name, nlen))
			continue;
		s = eq + 1;
		if (e - s >= 2 && h[s] == '"' && h[e - 1] == '"')
			s++, e--;
		*val = h + s;
		*len = e - s;
		return 1;
	}
	return 0;
}

/* RFC 9110 tchar */
static int is_tchar(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 6265 cookie-octet */
static int is_cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
		(c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
		(c >= 0x5d && c <= 0x7e);
}

int httpauth_set_cookie(char *out, size_t outsz, const char *name,
	const char *value, int64_t max_age_s, int secure)
{
	size_t i;
	int n;

	if (!name || !value || max_age_s < 0)
		return -1;
	for (i = 0; name[i] && i <= 256; i++)
		if (!is_tchar(name[i]))
			return -1;
	if (i == 0 || i > 256)
		return -1;
	for (i = 0; value[i] && i <= 256; i++)
		if (!is_cookie_octet((unsigned char)value[i]))
			return -1;
	if (i > 256)
		return -1;
	n = snprintf(out, outsz,
		"Set-Cookie: %s=%s; Path=/; Max-Age=%lld; HttpOnly; "
		"SameSite=Strict%s\r\n", name, value, (long long)max_age_s,
		secure ? "; Secure" : "");
	return n < 0 || (size_t)n >= outsz ? -1 : n;
}

/* -------------------------------------------------------------- CSRF */

/* The longest Origin or Host httpauth_same_origin() reads */
#define ORIGIN_MAX 300

/* Splits the authority s[0..n) into the host h[0..*hn) (brackets kept)
 * and the port (*port, the default when left out). 0, or -1 when bad. */
static int authority(const char *s, size_t n, long defport, size_t *hn,
	long *port)
{
	size_t i = 0;

	if (n && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
			    s[i] != '.')
				return -1;
		if (i == n || i < 3) /* no ']', or "[]", "[:]" */
			return -1;
		i++;
	} else {
		for (; i < n && s[i] != ':'; i++)
			if (!is_alnum(s[i]) && !strchr("-._~", s[i]))
				return -1;
		if (i == 0)
			return -1;
	}
	*hn = i;
	if (i == n) {
		*port = defport;
		return 0;
	}
	if (s[i] != ':' || ++i == n)
		return -1;
	for (*port = 0; i < n; i++) {
		if (!is_digit(s[i]) || *port > 65535)
			return -1;
		*port = *port * 10 + (s[i] - '0');
	}
	return *port >= 1 && *port <= 65535 ? 0 : -1;
}

int httpauth_same_origin(const char *origin, const char *host, int tls)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme), on, hn, ohn, hhn;
	long def = tls ? 443 : 80, op, hp;

	if (!origin || !host)
		return 0;
	on = strnlen(origin, ORIGIN_MAX + 1);
	hn = strnlen(host, ORIGIN_MAX + 1);
	if (on > ORIGIN_MAX || hn > ORIGIN_MAX || on < sl ||
	    strncasecmp(origin, scheme, sl))
		return 0;
	origin += sl, on -= sl;
	if (authority(origin, on, def, &ohn, &op) ||
	    authority(host, hn, def, &hhn, &hp))
		return 0;
	return ohn == hhn && !strncasecmp(origin, host, ohn) && op == hp;
}

/* ------------------------------------------------------- rate limit */

/* The slot of peer (cut to HTTPAUTH_RL_ADDR - 1 bytes), or NULL */
static struct httpauth_rl_slot *rl_find(const struct httpauth_rl *r,
	const char *peer)
{
	if (!peer || !*peer)
		return NULL;
	for (size_t i = 0; i < HTTPAUTH_RL_SLOTS; i++)
		if (r->slot[i].addr[0] && !strncmp(r->slot[i].addr, peer,
		    HTTPAUTH_RL_ADDR - 1))
			return (struct httpauth_rl_slot *)&r->slot[i];
	return NULL;
}

/* Is the slot's window still open at now_ms? */
static int rl_open(const struct httpauth_rl_slot *s, int64_t now_ms)
{
	return now_ms - s->start_ms < HTTPAUTH_RL_WINDOW_MS;
}

int httpauth_rl_check(const struct httpauth_rl *r, const char *peer,
	int64_t now_ms, int *retry_after_s)
{
	const struct httpauth_rl_slot *s = rl_find(r, peer);
	int64_t left;

	if (!s || !rl_open(s, now_ms) || s->fails < HTTPAUTH_RL_MAX)
		return 0;
	left = s->start_ms + HTTPAUTH_RL_WINDOW_MS - now_ms;
	if (left > HTTPAUTH_RL_WINDOW_MS) /* the clock went back */
		left = HTTPAUTH_RL_WINDOW_MS;
	if (retry_after_s)
		*retry_after_s = (int)((left + 999) / 1000);
	return 1;
}

void httpauth_rl_fail(struct httpauth_rl *r, const char *peer,
	int64_t now_ms)
{
	struct httpauth_rl_slot *s = rl_find(r, peer);

	if (!peer || !*peer)
		return;
	if (!s) {
		/* a free slot, else the least recently failed */
		s = &r->slot[0];
		for (size_t i = 0; i < HTTPAUTH_RL_SLOTS && s->addr[0]; i++)
			if (!r->slot[i].addr[0] ||
			    r->slot[i].last_ms < s->last_ms)
				s = &r->slot[i];
		memset(s, 0, sizeof *s);
		strncpy(s->addr, peer, HTTPAUTH_RL_ADDR - 1);
		s->start_ms = now_ms;
	} else if (!rl_open(s, now_ms)) {
		s->start_ms = now_ms;
		s->fails = 0;
		s->logged = 0;
	}
	if (s->fails < UINT32_MAX)
		s->fails++;
	if (s->unlogged < UINT32_MAX)
		s->unlogged++;
	s->last_ms = now_ms;
}

int httpauth_rl_should_log(struct httpauth_rl *r, const char *peer,
	unsigned *unlogged)
{
	struct httpauth_rl_slot *s = rl_find(r, peer);

	if (!s || s->logged)
		return 0;
	s->logged = 1;
	if (unlogged)
		*unlogged = s->unlogged ? s->unlogged - 1 : 0;
	s->unlogged = 0;
	return 1;
}
