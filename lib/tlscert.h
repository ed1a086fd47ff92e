/* tlscert.h: the TLS server credentials of `mls httpd`: a certificate
 * chain and its private key, loaded from PEM files or, when there are
 * none, made once (a self-signed ECDSA P-256 certificate) and kept in a
 * directory so that a restart serves the same certificate.
 *
 * BearSSL does the cryptography (PEM and key decoding, X.509 decoding,
 * SHA-256, EC key generation, ECDSA); the one thing it lacks is an X.509
 * encoder, and tlscert.c has a small one for its one certificate
 * template. The documentation of the API is here; tlscert.c points back
 * to it.
 *
 * Conventions
 *  - Functions return 0 on success, -1 with errno set on failure: errno
 *    from the system call that failed (ENOENT, EACCES, ...), ENOMEM,
 *    EFBIG (a file over TLS_FILE_MAX), EINVAL (content that is not what it
 *    should be: bad PEM or DER, no certificate, a key that does not
 *    match, a bad name), ENOTSUP (a key type or curve not supported),
 *    EEXIST (tls_creds_auto(): one of the two files without the other).
 *  - They take `err, errsz`: on failure a message goes there
 *    (NUL-terminated, cut to errsz; 512 bytes hold it whole with paths of
 *    up to 200 bytes; err may be NULL when errsz is 0). It names the file
 *    concerned, has no program-name prefix and no newline, e.g.
 *    "/etc/mls/key.pem: key does not match the certificate
 *    /etc/mls/cert.pem".
 *  - Nothing here prints, exits or aborts. Private key bytes are wiped
 *    (explicit_bzero) from every buffer that held them, file text
 *    included, before it is freed or goes out of scope.
 *  - Bounded: a PEM file is read only up to TLS_FILE_MAX bytes, a chain
 *    has at most TLS_CHAIN_MAX certificates, a made certificate names at
 *    most TLS_NAMES_MAX names of at most TLS_NAME_MAX bytes each and is at
 *    most TLS_CERT_DER_MAX bytes of DER.
 *  - Built without TLS (MLS_HAVE_TLS 0) only the two formatting helpers
 *    exist.
 */
#ifndef MLS_TLSCERT_H
#define MLS_TLSCERT_H

#include <stddef.h>
#include <time.h>

#define TLS_FILE_MAX     (1024 * 1024) /* bytes of a PEM file (cert or key) */
#define TLS_CHAIN_MAX    8     /* certificates in the cert file */
#define TLS_NAMES_MAX    16    /* names in a made certificate's SAN */
#define TLS_NAME_MAX     253   /* bytes of one name (a DNS name's limit) */
#define TLS_CERT_DER_MAX 8192  /* bytes of a made certificate's DER */
#define TLS_FP_SIZE      96    /* tls_fingerprint_fmt(): 95 chars + NUL */
#define TLS_PIN_SIZE     53    /* tls_pin_fmt(): "sha256//" + 44 + NUL */

/* The SHA-256 hash h (32 bytes) as upper-case hex pairs joined by ':'
 * ("AB:CD:...", as `openssl x509 -fingerprint -sha256` shows it). Writes
 * at most sz bytes, always NUL-terminated when sz > 0 (cut short if sz <
 * TLS_FP_SIZE). */
void tls_fingerprint_fmt(const unsigned char h[32], char *buf, size_t sz);

/* "sha256//" and the base64 (standard alphabet, '=' padded) of h, the form
 * `curl --pinnedpubkey` takes for a SubjectPublicKeyInfo hash. Writes at
 * most sz bytes, always NUL-terminated when sz > 0 (cut short if sz <
 * TLS_PIN_SIZE). */
void tls_pin_fmt(const unsigned char h[32], char *buf, size_t sz);

#if MLS_HAVE_TLS
#include <bearssl.h>

/* A loaded certificate chain and its private key, as BearSSL's server
 * takes them: br_ssl_server_set_single_rsa(..., chain, chain_len, &rsa,
 * ...) or br_ssl_server_set_single_ec(..., chain, chain_len, &ec, ...,
 * signer_key_type, ...). Everything the pointers reach is owned by the
 * struct (malloc'd) and released by tls_creds_free(); the struct may be
 * moved or copied by value (nothing points into it), but only one copy is
 * ever freed. A zeroed struct is empty. */
struct tls_creds {
	br_x509_certificate *chain; /* chain_len DER certificates; [0] is the
	                               server's, as in the cert file */
	size_t chain_len;           /* 1..TLS_CHAIN_MAX */
	int key_type;               /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC (0
	                               when empty) */
	br_rsa_private_key rsa;     /* when RSA (512-4096 bits) */
	br_ec_private_key ec;       /* when EC: P-256, P-384 or P-521 */
	int signer_key_type;        /* BR_KEYTYPE_RSA or _EC: the key type
	                               that signed chain[0] (BearSSL's
	                               cert_issuer_key_type, for ECDH suites) */
	unsigned char cert_sha256[32]; /* SHA-256 of chain[0]'s DER */
	unsigned char spki_sha256[32]; /* SHA-256 of chain[0]'s
	                                  SubjectPublicKeyInfo DER (curl's
	                                  --pinnedpubkey sha256//...) */
	/* storage */
	unsigned char *der;     /* every certificate's DER, one after another */
	unsigned char *key_buf; /* the key's elements (rsa or ec point here);
	                           wiped before it is freed */
	size_t key_len;         /* bytes in key_buf */
};

/* Loads a certificate chain and its private key from two PEM files (they
 * may be the same file).
 *
 * cert_path: every "CERTIFICATE" (or "X509 CERTIFICATE") block, in file
 * order, 1..TLS_CHAIN_MAX of them; the first is the server's. Other
 * blocks and text between blocks are ignored. Each must decode as X.509
 * (br_x509_decoder) with an RSA or EC public key; the chain's order and
 * signatures are not checked.
 *
 * key_path: exactly one "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY"
 * (SEC1) or "PRIVATE KEY" (PKCS#8, RSA or EC) block; other blocks
 * ("EC PARAMETERS", a certificate) are ignored. Refused: an encrypted key
 * ("ENCRYPTED PRIVATE KEY"), other key types (DSA, Ed25519, ...), EC
 * curves other than P-256/P-384/P-521.
 *
 * The key must be the one of the first certificate: its public key is
 * computed from the private key (the EC point; the RSA modulus, and the
 * RSA public exponent when BearSSL can recompute it, i.e. both primes are
 * 3 mod 4) and compared with the certificate's; otherwise "KEY_PATH: key
 * does not match the certificate CERT_PATH".
 *
 * Each file is read whole, at most TLS_FILE_MAX bytes (over it: EFBIG);
 * it must be a regular file. Errors name the file: "cannot open: ...",
 * "over 1 MiB", "bad PEM", "no certificate in it", "certificate 2: bad
 * DER (BearSSL error N)", "no private key in it", "bad private key
 * (BearSSL error N)", "unsupported key type ...".
 *
 * *c is overwritten without being freed first (give a zeroed or freed
 * struct; to reload, load into a new struct, then swap and free the old
 * one). Returns 0 with *c filled, or -1 with errno and err; *c is then
 * zeroed (nothing to free). */
int tls_creds_load(struct tls_creds *c, const char *cert_path,
	const char *key_path, char *err, size_t errsz);

/* The credentials kept in directory dir: DIR/cert.pem and DIR/key.pem.
 *
 *  - Both exist: they are loaded with tls_creds_load() and *created = 0.
 *    If that fails the error is returned and nothing is changed: a broken
 *    or mismatched file is never replaced (the user removes both files to
 *    have new ones made).
 *  - Only one exists: -1, EEXIST, "DIR/key.pem exists but DIR/cert.pem
 *    does not ..." (nothing is made: that would replace the user's file).
 *  - Neither exists: a new ECDSA P-256 key (from getrandom() through an
 *    HMAC-DRBG) and a self-signed certificate for it are made, see
 *    tls_cert_selfsigned() with names and the current time. dir is
 *    created (mode 0700; its parent must exist) if missing; key.pem
 *    ("EC PRIVATE KEY", SEC1 DER with the curve and public key, mode
 *    0600) and cert.pem (mode 0644) are each written to a temporary file
 *    in dir, fsync'd and renamed into place (key first; if the cert's
 *    rename fails the new key.pem is removed again), then dir is fsync'd.
 *    Then both are loaded back with tls_creds_load(), so *c is exactly
 *    what the next start will read, and *created = 1.
 *
 * One process at a time per dir: two making files at once may each rename
 * one of the pair (the loser's load then fails with the mismatch error).
 * A crash between the two renames leaves key.pem alone: the next call then
 * fails with EEXIST as above. dir is at most 200 bytes (ENAMETOOLONG).
 * names: as tls_cert_selfsigned() takes them. created may be NULL. *c as
 * for tls_creds_load(). Returns 0, or -1 with errno and err. */
int tls_creds_auto(struct tls_creds *c, const char *dir,
	const char *const *names, int *created, char *err, size_t errsz);

/* Frees what c owns, wiping the key first, and zeroes *c. Safe on a zeroed
 * struct and when called twice. */
void tls_creds_free(struct tls_creds *c);

/* Makes the DER of a self-signed X.509 v3 certificate for the P-256 key
 * sk (the public key is computed from it):
 *   serial      16 random bytes (from rng), positive, first byte non-zero
 *   subject     O=mls, CN=the first name kept in the SAN ("localhost" if
 *               none; "mls" if that name is over 64 bytes); issuer the same
 *   validity    now - 1 day .. now + 10 years (same month, day and time;
 *               29 February becomes 1 March), UTCTime for years before
 *               2050, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). A now
 *               before 2020 (a board without a real-time clock, before
 *               NTP) ends the validity 10 years after 2020-01-01 instead,
 *               so the certificate is still valid once the clock is set
 *   public key  id-ecPublicKey, prime256v1, uncompressed point
 *   extensions  subjectAltName: each name: an IPv4 or IPv6 literal (as
 *                 inet_pton() takes it, no brackets) as an iPAddress,
 *                 anything else as a dNSName; skipped: NULL, "" and
 *                 duplicates (addresses compared as bytes, DNS names
 *                 case-insensitively), the wildcard addresses (0.0.0.0,
 *                 ::); if no name is left: DNS:localhost
 *               basicConstraints CA:FALSE, critical
 *               keyUsage digitalSignature, critical
 *               extendedKeyUsage serverAuth
 *               subjectKeyIdentifier: the leftmost 160 bits of the
 *                 SHA-256 of the public key (RFC 7093, method 1)
 *   signature   ecdsa-with-SHA256 by sk over the TBSCertificate
 * names: NULL-terminated (names itself may be NULL: no names); at most
 * TLS_NAMES_MAX names are kept (more: EINVAL, "too many names"); a name
 * over TLS_NAME_MAX bytes or with a byte outside printable ASCII
 * (0x21-0x7e) is refused (EINVAL). rng: an initialised PRNG (for the
 * serial and ECDSA). Writes at most outsz bytes to out (TLS_CERT_DER_MAX
 * always suffices), the length in *outlen. Returns 0, or -1 with errno
 * and err (ENOTSUP: sk is not a P-256 key; ENOSPC: out is too small). */
int tls_cert_selfsigned(const br_ec_private_key *sk,
	const char *const *names, time_t now, const br_prng_class **rng,
	unsigned char *out, size_t outsz, size_t *outlen, char *err,
	size_t errsz);

#endif /* MLS_HAVE_TLS */
#endif
