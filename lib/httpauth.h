/* httpauth.h: the authentication pieces of `mls httpd` (a token-
 * authenticated HTTP API and a browser dashboard): the constant-time token
 * check, the "Authorization: Bearer" header, signed session cookies for the
 * dashboard, the Cookie and Set-Cookie headers, the same-origin check that
 * guards cookie-authenticated mutations against CSRF, and a limiter of
 * failed attempts per client address.
 *
 * There is no I/O here but getrandom(2) (for the session key and nonces).
 * The documentation of the API is here; httpauth.c points back to it.
 *
 * Conventions
 *  - Predicates return 1 or 0; other functions 0 (or a length) on success,
 *    -1 on failure. Nothing here prints, exits, allocates or aborts.
 *  - Bounded: every input is read up to a stated limit (the *_MAX below);
 *    longer inputs are refused, never read further.
 *  - Crypto is BearSSL's (SHA-256, HMAC-SHA256). A build without BearSSL
 *    (NO_TLS, MLS_HAVE_TLS 0) fails closed: httpauth_init() and
 *    httpauth_session_make() return -1, httpauth_token_eq() and
 *    httpauth_session_check() return 0. The parsers and the limiter work
 *    the same in every build.
 */
#ifndef MLS_HTTPAUTH_H
#define MLS_HTTPAUTH_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ tokens */

/* Is `given` (glen bytes, from the client) the token `want` (wlen bytes,
 * from the config)? Returns 1 or 0. Both are hashed with SHA-256 and the
 * digests compared in constant time, with the lengths' equality folded in
 * without a branch: the time depends neither on where the two differ nor,
 * beyond the hashing of each, on their lengths. An empty `want` never
 * matches (a server without a token authenticates nobody). The bytes need
 * not be NUL-terminated; a pointer may be NULL when its length is 0. */
int httpauth_token_eq(const char *given, size_t glen, const char *want,
	size_t wlen);

/* The longest token httpauth_bearer() takes, in bytes */
#define HTTPAUTH_TOKEN_MAX 1024

/* Parses an Authorization header's value (NUL-terminated): "Bearer" (any
 * case), one or more spaces, then a token68 (RFC 9110: letters, digits,
 * "-._~+/", then optional trailing '='s) of 1 to HTTPAUTH_TOKEN_MAX bytes;
 * blanks (space, tab) before "Bearer" and after the token are ignored.
 * Returns 1 with *tok pointing into header_value and *len its length, or
 * 0 (another scheme, no token, a bad byte, too long; *tok, *len then
 * unchanged). */
int httpauth_bearer(const char *header_value, const char **tok, size_t *len);

/* ---------------------------------------------------------- sessions */

/* Roles a session carries */
enum { HTTPAUTH_READ = 1, HTTPAUTH_ADMIN = 2 };

/* A session cookie value, its NUL included, always fits in this */
#define HTTPAUTH_SESSION_MAX 128

/* The server's session secret. httpauth_init() makes the key from
 * getrandom(2) and it lives only in memory: sessions end when httpd
 * restarts (the browser posts the token again). */
struct httpauth {
	unsigned char key[32]; /* HMAC-SHA256 key */
	uint64_t gen;          /* session generation, see revoke_all */
};

/* Fills a with a new random key, generation 0. Waits for the kernel's
 * entropy pool to be ready (only at early boot can that take time).
 * Returns 0, or -1 with errno (getrandom failed; or ENOSYS without
 * BearSSL). */
int httpauth_init(struct httpauth *a);

/* Writes a session cookie value for `role` (HTTPAUTH_READ or
 * HTTPAUTH_ADMIN), valid from now_s until now_s + ttl_s (seconds, of the
 * wall clock, the same one httpauth_session_check() is given):
 *     v1.EXPIRY.ROLE.NONCE.MAC
 * EXPIRY in decimal seconds, ROLE one digit, NONCE 12 random bytes and
 * MAC = HMAC-SHA256(key, "v1.EXPIRY.ROLE.NONCE.GEN") (GEN the current
 * generation in decimal, not part of the value), both in base64url
 * without padding (16 and 43 characters). Every byte of it is a cookie
 * octet and a token68 byte. Returns its length (NUL not counted; it is
 * written), or -1: a bad role, now_s < 0, ttl_s <= 0, an expiry past
 * INT64_MAX, outsz too small (HTTPAUTH_SESSION_MAX always suffices) or
 * getrandom failed. */
int httpauth_session_make(const struct httpauth *a, int role, int64_t now_s,
	int64_t ttl_s, char *out, size_t outsz);

/* Checks a cookie value (len bytes, need not be NUL-terminated): returns 1
 * with *role set when it is exactly the format above, its MAC (compared in
 * constant time) is right for this key and generation, and now_s < EXPIRY;
 * 0 otherwise (bad format, longer than HTTPAUTH_SESSION_MAX - 1, wrong
 * key, an older generation, tampered, expired; *role then unchanged).
 *
 * There is no server-side state per session: logging out one browser is
 * only deleting its cookie (httpauth_set_cookie() with max_age_s 0); a
 * copy of the value stays valid until its expiry. Only
 * httpauth_revoke_all() (or a restart) ends every session. */
int httpauth_session_check(const struct httpauth *a, const char *value,
	size_t len, int64_t now_s, int *role);

/* Logout everywhere: every session made so far stops being valid (the
 * generation, part of the MAC'd text, moves on); later ones are valid. */
void httpauth_revoke_all(struct httpauth *a);

/* ----------------------------------------------------------- cookies */

/* The longest Cookie header httpauth_cookie_get() reads, in bytes */
#define HTTPAUTH_COOKIE_HDR_MAX 8192

/* Finds cookie `name` (case-sensitive) in a Cookie header's value
 * (NUL-terminated; RFC 6265 "a=b; c=d", blanks around pairs tolerated, an
 * empty pair or one without '=' skipped). The first pair of that name
 * wins. A value in double quotes is given without them. Returns 1 with
 * *val pointing into cookie_header and *len its length (maybe 0), or 0:
 * no such cookie, an empty name, or a header longer than
 * HTTPAUTH_COOKIE_HDR_MAX (*val, *len then unchanged). The value's bytes
 * are not checked here: whoever parses it (httpauth_session_check) does. */
int httpauth_cookie_get(const char *cookie_header, const char *name,
	const char **val, size_t *len);

/* Writes the header line setting cookie NAME (NUL-terminated):
 *   Set-Cookie: NAME=VALUE; Path=/; Max-Age=N; HttpOnly; SameSite=Strict\r\n
 * with "; Secure" before the CRLF when `secure`. max_age_s 0 expires the
 * cookie at once (logout: VALUE may be ""). Returns the length (NUL not
 * counted; it is written), or -1: an empty NAME or one not an RFC 9110
 * token, a VALUE byte that is not a cookie octet (RFC 6265: no control,
 * blank, '"', ',', ';', '\'), a name or value over 256 bytes, max_age_s
 * < 0, or outsz too small (600 bytes always suffice). */
int httpauth_set_cookie(char *out, size_t outsz, const char *name,
	const char *value, int64_t max_age_s, int secure);

/* -------------------------------------------------------------- CSRF */

/* Is the Origin header `origin` this server, as reached through the Host
 * header `host` over TLS or not? Both NUL-terminated, either may be NULL.
 * Returns 1 when origin is "http://" (tls 0) or "https://" (tls 1)
 * followed by the same host and port as `host`: scheme and host compared
 * without regard to case, a port left out being the scheme's default
 * ("https://h" is Host "h:443"), leading zeros in a port ignored. Hosts are
 * a name or IPv4 address (letters, digits, "-._~") or an IPv6 address in
 * brackets ("[::1]:9000"), compared as text (IPv6 addresses are not
 * normalised: browsers send both in the same canonical form). Returns 0
 * otherwise: a missing origin or host, "null", a path or user info in
 * origin, a bad port, either longer than 300 bytes. The caller decides
 * when 0 matters: a mutation authenticated by cookie needs 1. */
int httpauth_same_origin(const char *origin, const char *host, int tls);

/* ------------------------------------------------------- rate limit */

#define HTTPAUTH_RL_SLOTS 256        /* client addresses remembered */
#define HTTPAUTH_RL_MAX 10           /* failures allowed per window */
#define HTTPAUTH_RL_WINDOW_MS 60000  /* the window, ms */
#define HTTPAUTH_RL_ADDR 46          /* INET6_ADDRSTRLEN: an address's
                                        bytes kept, NUL included */

/* Failed attempts per client address, in fixed windows: an address's
 * window opens at its first failure and lasts HTTPAUTH_RL_WINDOW_MS; after
 * HTTPAUTH_RL_MAX failures in it the address is blocked until it closes.
 * (Fixed, not sliding: up to twice HTTPAUTH_RL_MAX can fail around the end
 * of one window and the start of the next; the rate stays at most
 * HTTPAUTH_RL_MAX per window.)
 *
 * No allocation: a zeroed struct is empty and ready. Addresses are
 * compared as text (the caller's inet_ntop() form), cut to
 * HTTPAUTH_RL_ADDR - 1 bytes. When all HTTPAUTH_RL_SLOTS are taken, the
 * address that failed least recently is forgotten for a new one: a client
 * that owns many addresses (an IPv6 /64) can flush the table, so the
 * limiter slows guessing down, the token's entropy is what stops it.
 * Times are milliseconds of a monotonic clock. Lookups are a linear scan
 * of the table (256 string compares). */
struct httpauth_rl {
	struct httpauth_rl_slot {
		char addr[HTTPAUTH_RL_ADDR]; /* "" for a free slot */
		int64_t start_ms;    /* the window opened */
		int64_t last_ms;     /* the last failure */
		uint32_t fails;      /* in the window */
		uint32_t unlogged;   /* failures not logged yet */
		int logged;          /* one of this window's was logged */
	} slot[HTTPAUTH_RL_SLOTS];
};

/* May `peer` try to authenticate at now_ms? Returns 0 (allowed), or 1
 * (blocked) with *retry_after_s (if not NULL) the whole seconds, 1 to
 * HTTPAUTH_RL_WINDOW_MS / 1000, until the window closes (for a Retry-After
 * header). Changes nothing. */
int httpauth_rl_check(const struct httpauth_rl *r, const char *peer,
	int64_t now_ms, int *retry_after_s);

/* Counts a failed attempt by `peer` at now_ms (a window that has closed
 * starts again at 1). */
void httpauth_rl_fail(struct httpauth_rl *r, const char *peer,
	int64_t now_ms);

/* Called after httpauth_rl_fail(): should that failure be logged? At most
 * one per address per window is: returns 1 for the first failure of a
 * window, with *unlogged (if not NULL) the failures of this address that
 * were not logged before it (0 for none; the count is reported only with
 * the next logged one), or 0 (already logged in this window, or peer
 * unknown). */
int httpauth_rl_should_log(struct httpauth_rl *r, const char *peer,
	unsigned *unlogged);

#endif
