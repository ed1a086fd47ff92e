/* Unit tests for lib/tlscert.c: the formatting helpers; a certificate and
 * key made by tls_creds_auto() (files, modes, made once, read back) and
 * checked by OpenSSL (x509 -text, verify, ec -check, the public key, curl's
 * pin); the self-signed template (times around 2050, names, limits);
 * loading keys and chains OpenSSL makes (RSA and EC, PKCS#1, SEC1,
 * PKCS#8); refusals (missing, too big, broken, mismatched files, which
 * tls_creds_auto() must never replace); garbage and mutated PEM.
 *
 * Everything happens in a mkdtemp() directory, removed at the end. The
 * OpenSSL checks are skipped when there is no `openssl` (a failure under
 * CI=true). Output is TAP; exit status 1 if any case failed. */
#include "tlscert.h"
#include "tap.h"

#if !MLS_HAVE_TLS
int main(void)
{
	printf("1..0 # SKIP built without TLS\n");
	return 0;
}
#else

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmp[64];  /* the test's directory; also the cwd */
static int have_openssl;

/* ------------------------------------------------------------ helpers */

/* A path (or any short string) from a format; 8 in use at a time */
__attribute__((format(printf, 1, 2)))
static const char *P(const char *fmt, ...)
{
	static char ring[8][512];
	static int next;
	char *s = ring[next++ & 7];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof ring[0], fmt, ap);
	va_end(ap);
	return s;
}

/* Runs a shell command (stderr with stdout), its output in out (cut to
 * outsz, NUL-terminated; out may be NULL); returns its exit status, or
 * -1 if it could not run or was killed */
__attribute__((format(printf, 3, 4)))
static int sh(char *out, size_t outsz, const char *fmt, ...)
{
	char body[2048], cmd[2100], junk[256];
	size_t len = 0, n;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "( %s ) 2>&1", body);
	if (!(f = popen(cmd, "r")))
		return -1;
	if (!out) {
		out = junk;
		outsz = sizeof junk;
	}
	while (len + 1 < outsz && (n = fread(out + len, 1, outsz - 1 - len, f)) > 0)
		len += n;
	out[len] = 0;
	while (fread(junk, 1, sizeof junk, f) > 0)
		;
	st = pclose(f);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Is OpenSSL here for the next check? If not, that check is a SKIP (a
 * failure under CI=true) */
static int need_openssl(const char *what)
{
	if (!have_openssl)
		tap_skip("no openssl command: %s", what);
	return have_openssl;
}

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		tap_diag("cannot write %s: %s", path, strerror(errno));
		exit(1);
	}
}

static void puts_file(const char *path, const char *s)
{
	put(path, s, strlen(s));
}

/* A whole file, malloc'd and NUL-terminated; NULL if unreadable */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *p = NULL;
	size_t n = 0, cap = 0, k;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			p = realloc(p, cap + 1);
			if (!p)
				exit(1);
		}
		k = fread(p + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	p[n] = 0;
	if (len)
		*len = n;
	return p;
}

static int same_file(const char *path, const char *before, size_t blen)
{
	size_t n;
	char *now = slurp(path, &n);
	int same = now && n == blen && !memcmp(now, before, n);

	free(now);
	return same;
}

static int mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, p, n);
	br_sha256_out(&h, out);
}

/* der as a PEM file */
static void put_pem(const char *path, const void *der, size_t n, const char *banner)
{
	size_t len = br_pem_encode(NULL, der, n, banner, BR_PEM_LINE64);
	char *s = malloc(len + 1);

	br_pem_encode(s, der, n, banner, BR_PEM_LINE64);
	put(path, s, len);
	free(s);
}

/* A one-line command output without its newline */
static char *chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi, .tm_sec = s };
	return timegm(&tm);
}

/* "notBefore=Dec  4 19:26:39 2026 GMT" (after the '=') as a time */
static time_t ossl_date(const char *s)
{
	struct tm tm = { 0 };
	const char *eq = strchr(s, '=');

	if (!eq || !strptime(eq + 1, "%b %d %H:%M:%S %Y GMT", &tm))
		return (time_t)-1;
	return timegm(&tm);
}

/* -------------------------------------------------------- formatting */

static void test_fmt(void)
{
	unsigned char h[32];
	char buf[128];

	for (int i = 0; i < 32; i++)
		h[i] = (unsigned char)(i * 8 + 7);
	tls_fingerprint_fmt(h, buf, sizeof buf);
	tap_ok(!strcmp(buf, "07:0F:17:1F:27:2F:37:3F:47:4F:57:5F:67:6F:77:7F:"
		"87:8F:97:9F:A7:AF:B7:BF:C7:CF:D7:DF:E7:EF:F7:FF") && strlen(buf) == 95,
		__LINE__, "tls_fingerprint_fmt: upper-case pairs joined by ':' (%s)", buf);
	tls_fingerprint_fmt(h, buf, 6);
	tap_ok(!strcmp(buf, "07:0F"), __LINE__, "tls_fingerprint_fmt: cut to sz, NUL-terminated");

	for (int i = 0; i < 32; i++)
		h[i] = (unsigned char)i;
	tls_pin_fmt(h, buf, sizeof buf);
	/* python3 -c 'import base64; print(base64.b64encode(bytes(range(32))))' */
	tap_ok(!strcmp(buf, "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") &&
		strlen(buf) + 1 == TLS_PIN_SIZE,
		__LINE__, "tls_pin_fmt: sha256// and base64 (%s)", buf);
	memset(h, 0xff, sizeof h);
	tls_pin_fmt(h, buf, sizeof buf);
	tap_ok(!strcmp(buf, "sha256////////////////////////////////////////////8="),
		__LINE__, "tls_pin_fmt: all bits set (%s)", buf);
	tls_pin_fmt(h, buf, 9);
	tap_ok(!strcmp(buf, "sha256//"), __LINE__, "tls_pin_fmt: cut to sz");
}

/* ------------------------------------------------ made by tls_creds_auto */

static struct tls_creds made; /* tmp/auto's, kept for later tests */

/* A DER certificate through BearSSL's decoder */
static int decode(const void *der, size_t n, int *type, int *curve, int *ca, int *signer)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der, n);
	if (br_x509_decoder_last_error(&dc) || !(pk = br_x509_decoder_get_pkey(&dc)))
		return -1;
	*type = pk->key_type;
	*curve = pk->key_type == BR_KEYTYPE_EC ? pk->key.ec.curve : 0;
	*ca = br_x509_decoder_isCA(&dc);
	*signer = br_x509_decoder_get_signer_key_type(&dc);
	return 0;
}

static void test_auto(void)
{
	const char *names[] = { "localhost", "127.0.0.1", "::1", "example.test",
		"LOCALHOST", "", "0.0.0.0", "::", "127.0.0.1", "0:0::1", NULL };
	struct tls_creds c;
	char err[512] = "";
	unsigned char h[32];
	int created = -1, rc, type, curve, ca, signer;
	time_t t0 = time(NULL);

	rc = tls_creds_auto(&made, "auto", names, &created, err, sizeof err);
	if (!tap_ok(rc == 0 && created == 1, __LINE__, "auto: made in a new directory"))
		tap_diag("rc %d created %d: %s", rc, created, err);
	if (rc)
		exit(tap_done());
	tap_ok(mode_of("auto") == 0700, __LINE__, "auto: directory mode 0700 (%o)", mode_of("auto"));
	tap_ok(mode_of("auto/key.pem") == 0600, __LINE__, "auto: key.pem mode 0600 (%o)",
		mode_of("auto/key.pem"));
	tap_ok(mode_of("auto/cert.pem") == 0644, __LINE__, "auto: cert.pem mode 0644 (%o)",
		mode_of("auto/cert.pem"));
	tap_ok(entries("auto") == 2, __LINE__, "auto: no temporary file left (%d entries)",
		entries("auto"));
	char *key = slurp("auto/key.pem", NULL), *cert = slurp("auto/cert.pem", NULL);
	tap_ok(key && !strncmp(key, "-----BEGIN EC PRIVATE KEY-----\n", 31), __LINE__,
		"auto: key.pem is an EC PRIVATE KEY");
	tap_ok(cert && !strncmp(cert, "-----BEGIN CERTIFICATE-----\n", 28) &&
		strstr(cert, "\n-----END CERTIFICATE-----\n"), __LINE__,
		"auto: cert.pem is one CERTIFICATE");
	free(key);
	free(cert);

	tap_ok(made.key_type == BR_KEYTYPE_EC && made.ec.curve == BR_EC_secp256r1 &&
		made.ec.xlen == 32 && made.chain_len == 1 &&
		made.signer_key_type == BR_KEYTYPE_EC, __LINE__,
		"auto: an EC P-256 key, one certificate, signed by EC");
	sha256(made.chain[0].data, made.chain[0].data_len, h);
	tap_ok(!memcmp(h, made.cert_sha256, 32), __LINE__, "auto: cert_sha256 is the DER's");
	rc = decode(made.chain[0].data, made.chain[0].data_len, &type, &curve, &ca, &signer);
	tap_ok(!rc && type == BR_KEYTYPE_EC && curve == 23 && !ca && signer == BR_KEYTYPE_EC,
		__LINE__, "auto: br_x509_decoder: EC key, curve 23, not a CA (rc %d type %d curve %d ca %d)",
		rc, type, curve, ca);

	/* made once: the second call reads the same files */
	rc = tls_creds_auto(&c, "auto", names, &created, err, sizeof err);
	tap_ok(rc == 0 && created == 0 && !memcmp(c.cert_sha256, made.cert_sha256, 32) &&
		!memcmp(c.spki_sha256, made.spki_sha256, 32) && c.ec.xlen == made.ec.xlen &&
		!memcmp(c.ec.x, made.ec.x, c.ec.xlen), __LINE__,
		"auto again: read back (created 0), same certificate and key");
	tls_creds_free(&c);
	tls_creds_free(&c);
	tap_ok(!c.chain && !c.key_buf && !c.key_type, __LINE__, "tls_creds_free twice: zeroed");
	rc = tls_creds_auto(&c, "auto", NULL, NULL, err, sizeof err);
	tap_ok(rc == 0 && !memcmp(c.cert_sha256, made.cert_sha256, 32), __LINE__,
		"auto: created may be NULL; names do not matter once made");
	tls_creds_free(&c);
	memset(&c, 0, sizeof c);
	tls_creds_free(&c);
	tap_ok(1, __LINE__, "tls_creds_free on a zeroed struct");

	if (!need_openssl("the made certificate and key"))
		return;
	static char out[16384];
	rc = sh(out, sizeof out, "openssl x509 -in auto/cert.pem -noout -text");
	static const char *const want[] = {
		"Version: 3 (0x2)",
		"Signature Algorithm: ecdsa-with-SHA256",
		"Issuer: O = mls, CN = localhost\n",
		"Subject: O = mls, CN = localhost\n",
		"Public Key Algorithm: id-ecPublicKey",
		"NIST CURVE: P-256",
		/* in the order given; LOCALHOST, 127.0.0.1 and 0:0::1 again,
		 * "", 0.0.0.0 and :: left out */
		"X509v3 Subject Alternative Name: \n                DNS:localhost, "
			"IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:example.test\n",
		"X509v3 Basic Constraints: critical\n                CA:FALSE\n",
		"X509v3 Key Usage: critical\n                Digital Signature\n",
		"X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n",
		"X509v3 Subject Key Identifier",
	};
	tap_ok(rc == 0, __LINE__, "openssl x509 -text: parses (exit %d)", rc);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!tap_ok(strstr(out, want[i]) != NULL, __LINE__, "openssl x509 -text shows '%s'",
				want[i]))
			tap_diag("got:\n%s", out);
	tap_ok(!strstr(out, "0.0.0.0") && !strstr(out, "LOCALHOST") &&
		!strstr(out, "Certificate Sign"), __LINE__,
		"openssl x509 -text: no wildcard address, no duplicate, no certificate signing");

	/* validity: now - 1 day .. now + 10 years */
	rc = sh(out, sizeof out, "openssl x509 -in auto/cert.pem -noout -startdate");
	time_t nb = ossl_date(chomp(out));
	rc |= sh(out, sizeof out, "openssl x509 -in auto/cert.pem -noout -enddate");
	time_t na = ossl_date(chomp(out));
	struct tm tm;
	gmtime_r(&na, &tm);
	tm.tm_year -= 10;
	time_t back = timegm(&tm);
	tap_ok(rc == 0 && nb != (time_t)-1 && llabs((long long)(nb - (t0 - 86400))) <= 120,
		__LINE__, "openssl: notBefore is a day ago (%lld s off)",
		(long long)(nb - (t0 - 86400)));
	tap_ok(rc == 0 && na != (time_t)-1 && llabs((long long)(back - (nb + 86400))) <= 86400,
		__LINE__, "openssl: notAfter is 10 years on (%s)", out);
	rc = sh(out, sizeof out, "openssl x509 -in auto/cert.pem -noout -checkend %d",
		(10 * 365 - 2) * 86400);
	tap_ok(rc == 0, __LINE__, "openssl x509 -checkend: valid for 10 years less 2 days (%s)",
		chomp(out));

	/* It verifies as its own trust anchor, as a TLS server's certificate,
	 * for each SAN name, with -x509_strict; with no flag weakening
	 * anything (no -partial_chain: OpenSSL 3 accepts a certificate that
	 * is itself in the trust store) */
	static const char *const vfy[] = {
		"", "-x509_strict -purpose sslserver", "-verify_hostname localhost",
		"-verify_hostname example.test", "-verify_ip 127.0.0.1", "-verify_ip ::1",
	};
	for (size_t i = 0; i < sizeof vfy / sizeof vfy[0]; i++) {
		rc = sh(out, sizeof out, "openssl verify %s -CAfile auto/cert.pem auto/cert.pem",
			vfy[i]);
		chomp(out);
		tap_ok(rc == 0 && !strcmp(out, "auto/cert.pem: OK"), __LINE__,
			"openssl verify %s -CAfile cert.pem cert.pem: OK (%s)", vfy[i], out);
	}
	/* and it is the trust that makes it pass: a name not in it, or no
	 * trust anchor, fail */
	rc = sh(out, sizeof out, "openssl verify -verify_hostname other.test "
		"-CAfile auto/cert.pem auto/cert.pem");
	tap_ok(rc != 0 && strstr(out, "hostname mismatch"), __LINE__,
		"openssl verify -verify_hostname other.test: hostname mismatch");
	rc = sh(out, sizeof out, "openssl verify -no-CAfile -no-CApath -no-CAstore auto/cert.pem");
	tap_ok(rc != 0 && strstr(out, "self-signed certificate"), __LINE__,
		"openssl verify without trusting it: self-signed certificate error");

	rc = sh(out, sizeof out, "openssl ec -in auto/key.pem -noout -check");
	tap_ok(rc == 0 && strstr(out, "EC Key valid."), __LINE__, "openssl ec -check: %s",
		chomp(out));
	rc = sh(out, sizeof out, "openssl ec -in auto/key.pem -noout -text");
	tap_ok(rc == 0 && strstr(out, "ASN1 OID: prime256v1"), __LINE__,
		"openssl ec -text: the key names its curve");

	static char pub1[4096], pub2[4096];
	int r1 = sh(pub1, sizeof pub1, "openssl x509 -in auto/cert.pem -noout -pubkey");
	int r2 = sh(pub2, sizeof pub2, "openssl pkey -in auto/key.pem -pubout");
	tap_ok(!r1 && !r2 && strstr(pub1, "BEGIN PUBLIC KEY") && !strcmp(pub1, pub2), __LINE__,
		"the certificate's public key is the key's (x509 -pubkey, pkey -pubout)");

	char pin[TLS_PIN_SIZE], fp[TLS_FP_SIZE];
	tls_pin_fmt(made.spki_sha256, pin, sizeof pin);
	rc = sh(out, sizeof out, "openssl x509 -in auto/cert.pem -pubkey -noout | "
		"openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
	tap_ok(rc == 0 && !strcmp(chomp(out), pin + 8), __LINE__,
		"spki_sha256 is curl's pin: %s = %s", pin, out);
	tls_fingerprint_fmt(made.cert_sha256, fp, sizeof fp);
	rc = sh(out, sizeof out, "openssl x509 -in auto/cert.pem -noout -fingerprint -sha256");
	tap_ok(rc == 0 && strstr(out, fp), __LINE__, "cert_sha256 is openssl's fingerprint (%s)",
		chomp(out));
}

/* -------------------------------------------------- the template itself */

/* A P-256 key from a DRBG seeded with seed: the same seed, the same key */
static void p256(br_hmac_drbg_context *rng, const char *seed, br_ec_private_key *sk,
	unsigned char *kbuf)
{
	br_hmac_drbg_init(rng, &br_sha256_vtable, seed, strlen(seed));
	br_ec_keygen(&rng->vtable, &br_ec_p256_m31, sk, kbuf, BR_EC_secp256r1);
}

static int has(const unsigned char *der, size_t n, const void *what, size_t wn)
{
	return memmem(der, n, what, wn) != NULL;
}

static void test_selfsigned(void)
{
	static unsigned char der[TLS_CERT_DER_MAX], der2[TLS_CERT_DER_MAX];
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	char err[512] = "", out[4096];
	size_t len = 0, len2 = 0;
	int rc, type, curve, ca, signer;
	const char *one[] = { "h.test", NULL };

	/* around 2050: UTCTime before, GeneralizedTime from 2050; 29 February
	 * ten years on is 1 March */
	p256(&rng, "seed 1", &sk, kbuf);
	rc = tls_cert_selfsigned(&sk, one, utc(2040, 2, 29, 12, 0, 0), &rng.vtable, der,
		sizeof der, &len, err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x17\x0d" "400228120000Z", 15) &&
		has(der, len, "\x18\x0f" "20500301120000Z", 17), __LINE__,
		"2040-02-29: notBefore UTCTime 400228120000Z, notAfter GeneralizedTime 20500301120000Z");
	if (need_openssl("a notAfter in 2050")) {
		put("t2050.der", der, len);
		rc = sh(out, sizeof out, "openssl x509 -inform DER -in t2050.der -noout -startdate -enddate");
		tap_ok(rc == 0 && !strcmp(out, "notBefore=Feb 28 12:00:00 2040 GMT\n"
			"notAfter=Mar  1 12:00:00 2050 GMT\n"), __LINE__,
			"openssl reads both times (%s)", out);
	}
	rc = tls_cert_selfsigned(&sk, one, utc(2045, 6, 1, 8, 9, 10), &rng.vtable, der,
		sizeof der, &len, err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x17\x0d" "450531080910Z", 15) &&
		has(der, len, "\x18\x0f" "20550601080910Z", 17), __LINE__,
		"2045-06-01: UTCTime 450531080910Z, GeneralizedTime 20550601080910Z");
	rc = tls_cert_selfsigned(&sk, one, utc(2030, 1, 1, 0, 0, 0), &rng.vtable, der,
		sizeof der, &len, err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x17\x0d" "291231000000Z", 15) &&
		has(der, len, "\x17\x0d" "400101000000Z", 15), __LINE__,
		"2030-01-01: two UTCTimes, the first in 2029");
	rc = tls_cert_selfsigned(&sk, one, utc(2049, 12, 31, 0, 0, 0) + 86399, &rng.vtable,
		der, sizeof der, &len, err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x17\x0d" "491230235959Z", 15) &&
		has(der, len, "\x18\x0f" "20591231235959Z", 17), __LINE__,
		"2049-12-31: UTCTime and GeneralizedTime");

	/* a clock not set yet (1970): valid from then until 2030 */
	rc = tls_cert_selfsigned(&sk, one, 3600, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x17\x0d" "691231010000Z", 15) &&
		has(der, len, "\x17\x0d" "300101000000Z", 15), __LINE__,
		"a clock in 1970: 1969-12-31 .. 2030-01-01");

	/* the same DRBG state gives the same certificate (serial from it,
	 * ECDSA deterministic) */
	p256(&rng, "seed 2", &sk, kbuf);
	rc = tls_cert_selfsigned(&sk, one, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	p256(&rng, "seed 2", &sk, kbuf);
	rc |= tls_cert_selfsigned(&sk, one, 1800000000, &rng.vtable, der2, sizeof der2, &len2,
		err, sizeof err);
	tap_ok(rc == 0 && len == len2 && !memcmp(der, der2, len), __LINE__,
		"deterministic for a given DRBG state");
	rc = decode(der, len, &type, &curve, &ca, &signer);
	tap_ok(!rc && type == BR_KEYTYPE_EC && curve == 23 && !ca, __LINE__,
		"br_x509_decoder reads it");
	/* the serial: INTEGER of 16 bytes, positive, first byte 0x40-0x7f */
	tap_ok(der[13] == 0x02 && der[14] == 16 && der[15] >= 0x40 && der[15] < 0x80, __LINE__,
		"serial: 16 bytes, positive (%02x %02x %02x)", der[13], der[14], der[15]);

	/* names */
	rc = tls_cert_selfsigned(&sk, NULL, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x82\x09localhost", 11) &&
		has(der, len, "\x55\x04\x03\x0c\x09localhost", 14), __LINE__,
		"no names: DNS:localhost, CN=localhost");
	const char *wild[] = { "", "0.0.0.0", "::", NULL };
	rc = tls_cert_selfsigned(&sk, wild, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x82\x09localhost", 11), __LINE__,
		"only wildcard addresses: DNS:localhost");
	const char *ip[] = { "10.1.2.3", "fe80::1", NULL };
	rc = tls_cert_selfsigned(&sk, ip, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x87\x04\x0a\x01\x02\x03", 6) &&
		has(der, len, "\x87\x10\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 18) &&
		has(der, len, "\x55\x04\x03\x0c\x08" "10.1.2.3", 13), __LINE__,
		"addresses as iPAddress (4 and 16 bytes); CN the first, as written");
	char longname[100];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	const char *lng[] = { longname, NULL };
	rc = tls_cert_selfsigned(&sk, lng, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0 && has(der, len, "\x55\x04\x03\x0c\x03mls", 8) &&
		has(der, len, longname, 99), __LINE__,
		"a first name over 64 bytes: CN=mls, the name in the SAN");

	/* limits: 16 names of 253 bytes fit TLS_CERT_DER_MAX; a 17th does not go */
	static char big[TLS_NAMES_MAX + 1][TLS_NAME_MAX + 1];
	const char *many[TLS_NAMES_MAX + 2];
	for (int i = 0; i <= TLS_NAMES_MAX; i++) {
		memset(big[i], 'a' + i, TLS_NAME_MAX);
		many[i] = big[i];
	}
	many[TLS_NAMES_MAX] = NULL;
	rc = tls_cert_selfsigned(&sk, many, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0 && len <= TLS_CERT_DER_MAX, __LINE__,
		"%d names of %d bytes fit (%zu bytes of DER)", TLS_NAMES_MAX, TLS_NAME_MAX, len);
	if (rc == 0 && need_openssl("the biggest certificate")) {
		static char out2[16384];
		put("big.der", der, len);
		rc = sh(out2, sizeof out2, "openssl x509 -inform DER -in big.der -noout -ext subjectAltName");
		tap_ok(rc == 0 && strstr(out2, big[TLS_NAMES_MAX - 1]), __LINE__,
			"openssl reads the biggest certificate");
	}
	many[TLS_NAMES_MAX] = big[TLS_NAMES_MAX];
	many[TLS_NAMES_MAX + 1] = NULL;
	errno = 0;
	rc = tls_cert_selfsigned(&sk, many, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == -1 && errno == EINVAL && strstr(err, "too many names"), __LINE__,
		"%d names: %s", TLS_NAMES_MAX + 1, err);
	many[TLS_NAMES_MAX] = big[0]; /* a duplicate does not count */
	rc = tls_cert_selfsigned(&sk, many, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == 0, __LINE__, "%d names with one duplicate: fine", TLS_NAMES_MAX + 1);

	static const struct {
		int line;
		const char *name, *err;
	} bad[] = {
		{ __LINE__, "a b", "printable ASCII" },
		{ __LINE__, "tab\there", "printable ASCII" },
		{ __LINE__, "caf\xc3\xa9.test", "printable ASCII" },
		{ __LINE__, "x\x7f", "printable ASCII" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *n[] = { "ok.test", bad[i].name, NULL };
		errno = 0;
		rc = tls_cert_selfsigned(&sk, n, 1800000000, &rng.vtable, der, sizeof der, &len,
			err, sizeof err);
		tap_ok(rc == -1 && errno == EINVAL && strstr(err, bad[i].err), bad[i].line,
			"bad name refused: %s", err);
	}
	char toolong[TLS_NAME_MAX + 2];
	memset(toolong, 'x', TLS_NAME_MAX + 1);
	toolong[TLS_NAME_MAX + 1] = 0;
	const char *tl[] = { toolong, NULL };
	rc = tls_cert_selfsigned(&sk, tl, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == -1 && errno == EINVAL && strstr(err, "over 253 bytes"), __LINE__,
		"a name of 254 bytes: %s", err);

	/* the buffer: exactly the length fits, one byte less does not (the
	 * same DRBG state each time: the serial and the signature's length
	 * depend on it) */
	p256(&rng, "seed 3", &sk, kbuf);
	rc = tls_cert_selfsigned(&sk, one, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	size_t need = len;
	p256(&rng, "seed 3", &sk, kbuf);
	rc |= tls_cert_selfsigned(&sk, one, 1800000000, &rng.vtable, der, need, &len,
		err, sizeof err);
	tap_ok(rc == 0 && len == need, __LINE__, "out of exactly %zu bytes: fits", need);
	errno = 0;
	p256(&rng, "seed 3", &sk, kbuf);
	rc = tls_cert_selfsigned(&sk, one, 1800000000, &rng.vtable, der, need - 1, &len,
		err, sizeof err);
	tap_ok(rc == -1 && errno == ENOSPC, __LINE__, "out of %zu bytes: ENOSPC (%s)", need - 1, err);
	rc = tls_cert_selfsigned(&sk, many, 1800000000, &rng.vtable, der, 300, &len,
		err, sizeof err);
	tap_ok(rc == -1 && errno == ENOSPC, __LINE__, "big names into 300 bytes: ENOSPC");

	/* only P-256 */
	br_ec_private_key sk384;
	unsigned char k384[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_ec_keygen(&rng.vtable, &br_ec_all_m31, &sk384, k384, BR_EC_secp384r1);
	errno = 0;
	rc = tls_cert_selfsigned(&sk384, one, 1800000000, &rng.vtable, der, sizeof der, &len,
		err, sizeof err);
	tap_ok(rc == -1 && errno == ENOTSUP, __LINE__, "a P-384 key: ENOTSUP (%s)", err);
}

/* --------------------------------------------------------- refusals */

static void test_load_errors(void)
{
	struct tls_creds c;
	char err[512];
	int rc;

	errno = 0;
	rc = tls_creds_load(&c, "nothere.pem", "auto/key.pem", err, sizeof err);
	tap_ok(rc == -1 && errno == ENOENT && !strcmp(err,
		"nothere.pem: cannot open: No such file or directory") && !c.chain, __LINE__,
		"missing cert file: %s", err);
	errno = 0;
	rc = tls_creds_load(&c, "auto/cert.pem", "nokey.pem", err, sizeof err);
	tap_ok(rc == -1 && errno == ENOENT && strstr(err, "nokey.pem: cannot open") &&
		!c.chain && !c.key_buf, __LINE__, "missing key file: %s (nothing kept)", err);
	errno = 0;
	rc = tls_creds_load(&c, "auto", "auto/key.pem", err, sizeof err);
	tap_ok(rc == -1 && errno == EINVAL && !strcmp(err, "auto: not a regular file"),
		__LINE__, "a directory: %s", err);

	/* TLS_FILE_MAX exactly is fine; one byte more is not */
	size_t n;
	char *cert = slurp("auto/cert.pem", &n);
	char *big = malloc(TLS_FILE_MAX + 1);
	memcpy(big, cert, n);
	for (size_t i = n; i < TLS_FILE_MAX + 1; i++)
		big[i] = (i - n) % 64 == 63 ? '\n' : '#';
	big[TLS_FILE_MAX - 1] = '\n';
	put("max.pem", big, TLS_FILE_MAX);
	rc = tls_creds_load(&c, "max.pem", "auto/key.pem", err, sizeof err);
	tap_ok(rc == 0 && !memcmp(c.cert_sha256, made.cert_sha256, 32), __LINE__,
		"a cert file of exactly 1 MiB (text after the PEM) loads");
	tls_creds_free(&c);
	big[TLS_FILE_MAX] = '\n';
	put("big.pem", big, TLS_FILE_MAX + 1);
	errno = 0;
	rc = tls_creds_load(&c, "big.pem", "auto/key.pem", err, sizeof err);
	tap_ok(rc == -1 && errno == EFBIG && !strcmp(err, "big.pem: over 1 MiB"), __LINE__,
		"a cert file of 1 MiB + 1: %s", err);
	errno = 0;
	rc = tls_creds_load(&c, "auto/cert.pem", "big.pem", err, sizeof err);
	tap_ok(rc == -1 && errno == EFBIG && !strcmp(err, "big.pem: over 1 MiB"), __LINE__,
		"a key file of 1 MiB + 1: %s", err);
	free(big);
	free(cert);

	/* one file holding both */
	char *key = slurp("auto/key.pem", NULL);
	cert = slurp("auto/cert.pem", NULL);
	FILE *f = fopen("both.pem", "w");
	fprintf(f, "%s%s", key, cert);
	fclose(f);
	rc = tls_creds_load(&c, "both.pem", "both.pem", err, sizeof err);
	tap_ok(rc == 0 && c.chain_len == 1 && !memcmp(c.cert_sha256, made.cert_sha256, 32),
		__LINE__, "key and certificate in one file");
	tls_creds_free(&c);
	free(key);
	free(cert);
}

/* Garbage where PEM should be: each row is a file's text, loaded as the
 * cert file (with auto/key.pem) or as the key file (with auto/cert.pem) */
static void test_garbage(void)
{
	static const char C[] = "-----BEGIN CERTIFICATE-----\n", CE[] = "-----END CERTIFICATE-----\n";
	static const struct {
		int line;
		int as_key;
		const char *text;
		int err_no;
		const char *err;
	} rows[] = {
		{ __LINE__, 0, "", EINVAL, "no certificate in it" },
		{ __LINE__, 0, "hello world\n", EINVAL, "no certificate in it" },
		{ __LINE__, 0, "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", EINVAL, "no certificate in it" },
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\nAAAA", EINVAL, "bad PEM" },
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\n", EINVAL, "bad PEM" },
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", EINVAL, "bad PEM" },
		/* BearSSL does not compare the END line's label */
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END FOO-----\n", EINVAL, "certificate 1: bad DER" },
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", EINVAL, "certificate 1: bad DER" },
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", EINVAL, "certificate 1: bad DER" },
		{ __LINE__, 0, "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", EINVAL, "certificate 1: bad DER" },
		{ __LINE__, 0, "\x01\x02\xff\xfe\x80-----", EINVAL, "no certificate in it" },
		{ __LINE__, 1, "", EINVAL, "no private key in it" },
		{ __LINE__, 1, "garbage\n", EINVAL, "no private key in it" },
		{ __LINE__, 1, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", EINVAL, "bad private key" },
		{ __LINE__, 1, "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n", EINVAL, "bad private key" },
		{ __LINE__, 1, "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n", EINVAL, "bad private key" },
		{ __LINE__, 1, "-----BEGIN EC PRIVATE KEY-----\nAAAA", EINVAL, "bad PEM" },
		{ __LINE__, 1, "-----BEGIN EC PRIVATE KEY-----\n%%%%\n-----END EC PRIVATE KEY-----\n", EINVAL, "bad PEM" },
		{ __LINE__, 1, "-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n", ENOTSUP, "unsupported key type (DSA PRIVATE KEY)" },
		{ __LINE__, 1, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", ENOTSUP, "unsupported key type (OPENSSH PRIVATE KEY)" },
		{ __LINE__, 1, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", ENOTSUP, "encrypted keys are not supported" },
	};
	struct tls_creds c;
	char err[512];

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		puts_file("g.pem", rows[i].text);
		errno = 0;
		int rc = rows[i].as_key ?
			tls_creds_load(&c, "auto/cert.pem", "g.pem", err, sizeof err) :
			tls_creds_load(&c, "g.pem", "auto/key.pem", err, sizeof err);
		tap_ok(rc == -1 && errno == rows[i].err_no && !strncmp(err, "g.pem: ", 7) &&
			strstr(err, rows[i].err) && !c.chain && !c.key_buf, rows[i].line,
			"garbage %s: %s", rows[i].as_key ? "key" : "cert", err);
	}

	/* a good certificate after a bad one, two keys, a certificate without
	 * its key */
	char *cert = slurp("auto/cert.pem", NULL), *key = slurp("auto/key.pem", NULL);
	FILE *f = fopen("g.pem", "w");
	fprintf(f, "%sMAA=\n%s%s", C, CE, cert);
	fclose(f);
	int rc = tls_creds_load(&c, "g.pem", "auto/key.pem", err, sizeof err);
	tap_ok(rc == -1 && strstr(err, "g.pem: certificate 1: bad DER"), __LINE__,
		"a bad first certificate: %s", err);
	f = fopen("g.pem", "w");
	fprintf(f, "%s%sMAA=\n%s", cert, C, CE);
	fclose(f);
	rc = tls_creds_load(&c, "g.pem", "auto/key.pem", err, sizeof err);
	tap_ok(rc == -1 && strstr(err, "g.pem: certificate 2: bad DER"), __LINE__,
		"a bad second certificate: %s", err);
	f = fopen("g.pem", "w");
	fprintf(f, "%s%s", key, key);
	fclose(f);
	rc = tls_creds_load(&c, "auto/cert.pem", "g.pem", err, sizeof err);
	tap_ok(rc == -1 && !strcmp(err, "g.pem: more than one private key"), __LINE__,
		"two keys: %s", err);
	rc = tls_creds_load(&c, "auto/cert.pem", "auto/cert.pem", err, sizeof err);
	tap_ok(rc == -1 && !strcmp(err, "auto/cert.pem: no private key in it"), __LINE__,
		"the cert file as the key file: %s", err);
	rc = tls_creds_load(&c, "auto/key.pem", "auto/key.pem", err, sizeof err);
	tap_ok(rc == -1 && !strcmp(err, "auto/key.pem: no certificate in it"), __LINE__,
		"the key file as the cert file: %s", err);
	/* CRLF line ends (BearSSL's PEM decoder alone gets the BEGIN line's
	 * name wrong), text around the blocks, no final newline: fine */
	f = fopen("g.pem", "w");
	fputs("Bag Attributes\r\n", f);
	for (const char *p = cert; *p; p++)
		fputs(*p == '\n' ? "\r\n" : (char[]){ *p, 0 }, f);
	fputs("trailing words", f); /* no newline at the end */
	fclose(f);
	f = fopen("g.key", "w");
	for (const char *p = key; *p; p++)
		fputs(*p == '\n' ? "\r\n" : (char[]){ *p, 0 }, f);
	fclose(f);
	rc = tls_creds_load(&c, "g.pem", "g.key", err, sizeof err);
	tap_ok(rc == 0 && !memcmp(c.cert_sha256, made.cert_sha256, 32), __LINE__,
		"CRLF, text around the block, no final newline: loads (%s)", rc ? err : "");
	tls_creds_free(&c);

	/* random bytes, and random changes to good DER: no crash, and an
	 * answer every time (a changed signature or serial still loads) */
	br_hmac_drbg_context rng;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, "garbage", 7);
	int ok_random = 1, ok_cert = 1, ok_key = 1, loaded = 0;
	unsigned char buf[2048];
	for (int i = 0; i < 50; i++) {
		br_hmac_drbg_generate(&rng, buf, sizeof buf);
		if (i & 1)
			memcpy(buf, "-----BEGIN CERTIFICATE-----\n", 28);
		put("g.pem", buf, sizeof buf);
		rc = tls_creds_load(&c, "g.pem", "auto/key.pem", err, sizeof err);
		ok_random &= rc == -1 && *err;
	}
	tap_ok(ok_random, __LINE__, "50 files of random bytes: refused");
	const br_x509_certificate *x = &made.chain[0];
	unsigned char *der = malloc(x->data_len);
	for (int i = 0; i < 300; i++) {
		unsigned char r[4];
		memcpy(der, x->data, x->data_len);
		br_hmac_drbg_generate(&rng, r, sizeof r);
		der[(r[0] << 8 | r[1]) % x->data_len] ^= r[2] ? r[2] : 1;
		if (r[3] & 1) /* and sometimes cut short */
			put_pem("g.pem", der, (r[0] << 8 | r[3]) % x->data_len, "CERTIFICATE");
		else
			put_pem("g.pem", der, x->data_len, "CERTIFICATE");
		err[0] = 0;
		rc = tls_creds_load(&c, "g.pem", "auto/key.pem", err, sizeof err);
		ok_cert &= rc == 0 ? c.chain_len == 1 : rc == -1 && *err && !c.chain;
		loaded += rc == 0;
		tls_creds_free(&c);
	}
	free(der);
	tap_ok(ok_cert, __LINE__, "300 changed certificates: loaded or refused (%d loaded)",
		loaded);
	/* the key: one base64 character of its body changed to another */
	loaded = 0;
	for (int i = 0; i < 300; i++) {
		unsigned char r[3];
		size_t n;
		char *k = slurp("auto/key.pem", &n);
		br_hmac_drbg_generate(&rng, r, sizeof r);
		size_t body = 31, end = n - 30;
		size_t at = body + (r[0] << 8 | r[1]) % (end - body);
		if (k[at] != '\n')
			k[at] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[r[2] % 64];
		put("g.pem", k, n);
		free(k);
		err[0] = 0;
		rc = tls_creds_load(&c, "auto/cert.pem", "g.pem", err, sizeof err);
		ok_key &= rc == 0 ? c.key_type == BR_KEYTYPE_EC : rc == -1 && *err && !c.key_buf;
		loaded += rc == 0;
		tls_creds_free(&c);
	}
	tap_ok(ok_key, __LINE__, "300 changed keys: loaded or refused (%d loaded)", loaded);
	free(cert);
	free(key);
}

/* ----------------------------------- tls_creds_auto never replaces a file */

/* A directory holding cert.pem and/or key.pem with the given texts (NULL:
 * no such file); tls_creds_auto() must fail with err_no and a message
 * containing want, and leave both as they were */
static void refuse(int line, const char *dir, const char *cert, const char *key,
	int err_no, const char *want)
{
	struct tls_creds c;
	char err[512] = "";
	int created = -1;

	mkdir(dir, 0700);
	if (cert)
		puts_file(P("%s/cert.pem", dir), cert);
	if (key)
		puts_file(P("%s/key.pem", dir), key);
	errno = 0;
	int rc = tls_creds_auto(&c, dir, NULL, &created, err, sizeof err);
	int e = errno;
	int kept = (cert ? same_file(P("%s/cert.pem", dir), cert, strlen(cert)) :
		mode_of(P("%s/cert.pem", dir)) == -1) &&
		(key ? same_file(P("%s/key.pem", dir), key, strlen(key)) :
		mode_of(P("%s/key.pem", dir)) == -1) &&
		entries(dir) == !!cert + !!key;
	tap_ok(rc == -1 && e == err_no && strstr(err, want) && kept && created == 0 &&
		!c.chain, line, "auto refuses, changes nothing: %s", err);
}

static void test_auto_refuses(void)
{
	char *cert = slurp("auto/cert.pem", NULL), *key = slurp("auto/key.pem", NULL);
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	struct tls_creds c;
	char err[512];
	int rc;

	refuse(__LINE__, "r1", junk, key, EINVAL, "r1/cert.pem: certificate 1: bad DER");
	refuse(__LINE__, "r2", cert, "not a key\n", EINVAL, "r2/key.pem: no private key in it");
	refuse(__LINE__, "r3", "", key, EINVAL, "r3/cert.pem: no certificate in it");
	refuse(__LINE__, "r4", NULL, key, EEXIST,
		"r4/key.pem exists but r4/cert.pem does not");
	refuse(__LINE__, "r5", cert, NULL, EEXIST,
		"r5/cert.pem exists but r5/key.pem does not");

	/* another key: the pair does not match */
	struct tls_creds other;
	rc = tls_creds_auto(&other, "other", NULL, NULL, err, sizeof err);
	char *okey = slurp("other/key.pem", NULL);
	tap_ok(rc == 0 && memcmp(other.cert_sha256, made.cert_sha256, 32) &&
		memcmp(other.ec.x, made.ec.x, 32), __LINE__,
		"another directory: another key and certificate");
	tls_creds_free(&other);
	errno = 0;
	rc = tls_creds_load(&c, "auto/cert.pem", "other/key.pem", err, sizeof err);
	tap_ok(rc == -1 && errno == EINVAL && !strcmp(err,
		"other/key.pem: key does not match the certificate auto/cert.pem"), __LINE__,
		"mismatched pair: %s", err);
	refuse(__LINE__, "r6", cert, okey, EINVAL,
		"r6/key.pem: key does not match the certificate r6/cert.pem");

	/* a dangling symlink is a file there: not replaced */
	mkdir("r7", 0700);
	rc = symlink("nowhere.pem", "r7/cert.pem");
	errno = 0;
	rc |= tls_creds_auto(&c, "r7", NULL, NULL, err, sizeof err) != -1;
	tap_ok(!rc && errno == EEXIST && mode_of("r7/key.pem") == -1, __LINE__,
		"a dangling symlink cert.pem: %s", err);
	puts_file("r7/key.pem", key);
	rc = tls_creds_auto(&c, "r7", NULL, NULL, err, sizeof err);
	tap_ok(rc == -1 && errno == ENOENT && strstr(err, "r7/cert.pem: cannot open"), __LINE__,
		"a dangling symlink and a key: %s", err);

	/* no parent, a file in the way, a name too long */
	errno = 0;
	rc = tls_creds_auto(&c, "no/such/dir", NULL, NULL, err, sizeof err);
	tap_ok(rc == -1 && errno == ENOENT && mode_of("no") == -1, __LINE__,
		"no parent directory: %s", err);
	puts_file("afile", "x");
	errno = 0;
	rc = tls_creds_auto(&c, "afile", NULL, NULL, err, sizeof err);
	tap_ok(rc == -1 && errno == ENOTDIR && same_file("afile", "x", 1), __LINE__,
		"a file where the directory should be: %s", err);
	char longdir[260];
	memset(longdir, 'd', sizeof longdir - 1);
	longdir[sizeof longdir - 1] = 0;
	errno = 0;
	rc = tls_creds_auto(&c, longdir, NULL, NULL, err, sizeof err);
	tap_ok(rc == -1 && errno == ENAMETOOLONG, __LINE__, "a directory name of 259 bytes: %s",
		err);
	/* an existing empty directory is used; its mode is left alone */
	mkdir("r8", 0755);
	rc = tls_creds_auto(&c, "r8", NULL, NULL, err, sizeof err);
	tap_ok(rc == 0 && mode_of("r8") == 0755 && mode_of("r8/key.pem") == 0600, __LINE__,
		"an existing empty directory: used as it is");
	tls_creds_free(&c);
	free(cert);
	free(key);
	free(okey);
}

/* --------------------------------------- keys and chains made by OpenSSL */

/* OpenSSL's pin of a certificate's public key (curl --pinnedpubkey) */
static int ossl_pin(const char *cert, char *out, size_t sz)
{
	int rc = sh(out, sz, "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin "
		"-outform der | openssl dgst -sha256 -binary | base64", cert);
	chomp(out);
	return rc;
}

static void test_openssl_keys(void)
{
	static const struct {
		int line;
		const char *name, *make, *banner;
		int type, curve, bits;
	} keys[] = {
		{ __LINE__, "rsa-pkcs1", "openssl genrsa -traditional -out K 2048",
			"RSA PRIVATE KEY", BR_KEYTYPE_RSA, 0, 2048 },
		{ __LINE__, "rsa-pkcs8", "openssl pkcs8 -topk8 -nocrypt -in rsa-pkcs1.key -out K",
			"PRIVATE KEY", BR_KEYTYPE_RSA, 0, 2048 },
		{ __LINE__, "rsa3-pkcs1", "openssl genrsa -traditional -3 -out K 1024",
			"RSA PRIVATE KEY", BR_KEYTYPE_RSA, 0, 1024 },
		{ __LINE__, "ec-sec1", "openssl ecparam -name prime256v1 -genkey -out K",
			"EC PARAMETERS", BR_KEYTYPE_EC, 23, 0 },
		{ __LINE__, "ec-pkcs8", "openssl pkcs8 -topk8 -nocrypt -in ec-sec1.key -out K",
			"PRIVATE KEY", BR_KEYTYPE_EC, 23, 0 },
		{ __LINE__, "ec384-sec1", "openssl ecparam -name secp384r1 -genkey -noout -out K",
			"EC PRIVATE KEY", BR_KEYTYPE_EC, 24, 0 },
		{ __LINE__, "ec521-pkcs8", "openssl genpkey -algorithm EC -pkeyopt "
			"ec_paramgen_curve:P-521 -out K", "PRIVATE KEY", BR_KEYTYPE_EC, 25, 0 },
	};
	struct tls_creds c;
	char err[512], out[4096], pin[TLS_PIN_SIZE], fp[TLS_FP_SIZE];
	int rc;

	if (!need_openssl("keys and certificates made by openssl"))
		return;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *k = P("%s.key", keys[i].name), *crt = P("%s.pem", keys[i].name);
		char cmd[512], *s, *text;
		snprintf(cmd, sizeof cmd, "%s", keys[i].make);
		s = strstr(cmd, " K");
		memmove(s + 1 + strlen(k), s + 2, strlen(s + 2) + 1);
		memcpy(s + 1, k, strlen(k));
		rc = sh(out, sizeof out, "%s && openssl req -new -x509 -key %s -subj /CN=t "
			"-days 2 -out %s", cmd, k, crt);
		text = slurp(k, NULL);
		if (!tap_ok(rc == 0 && text && !strncmp(text, P("-----BEGIN %s-----\n",
				keys[i].banner), 16 + strlen(keys[i].banner)), keys[i].line,
				"openssl made a %s key", keys[i].name)) {
			tap_diag("%s", out);
			free(text);
			continue;
		}
		free(text);
		rc = tls_creds_load(&c, crt, k, err, sizeof err);
		ossl_pin(crt, out, sizeof out);
		tls_pin_fmt(c.spki_sha256, pin, sizeof pin);
		int ok = rc == 0 && c.key_type == keys[i].type && c.chain_len == 1 &&
			!strcmp(pin + 8, out);
		if (ok && keys[i].type == BR_KEYTYPE_EC)
			ok = c.ec.curve == keys[i].curve;
		if (ok && keys[i].type == BR_KEYTYPE_RSA)
			ok = c.rsa.n_bitlen == (uint32_t)keys[i].bits;
		tls_fingerprint_fmt(c.cert_sha256, fp, sizeof fp);
		sh(out, sizeof out, "openssl x509 -in %s -noout -fingerprint -sha256", crt);
		ok = ok && strstr(out, fp);
		if (!tap_ok(ok, keys[i].line, "load a %s key and its certificate (pin, fingerprint)",
				keys[i].name))
			tap_diag("rc %d: %s; pin %s", rc, err, pin);
		tls_creds_free(&c);
	}

	/* mismatches across types and within one */
	static const struct {
		int line;
		const char *cert, *key;
	} mis[] = {
		{ __LINE__, "rsa-pkcs1.pem", "rsa3-pkcs1.key" },
		{ __LINE__, "rsa-pkcs1.pem", "ec-sec1.key" },
		{ __LINE__, "ec-sec1.pem", "rsa-pkcs8.key" },
		{ __LINE__, "ec-sec1.pem", "auto/key.pem" },
		{ __LINE__, "ec384-sec1.pem", "ec-pkcs8.key" },
	};
	for (size_t i = 0; i < sizeof mis / sizeof mis[0]; i++) {
		errno = 0;
		rc = tls_creds_load(&c, mis[i].cert, mis[i].key, err, sizeof err);
		tap_ok(rc == -1 && errno == EINVAL && strstr(err, "key does not match the certificate"),
			mis[i].line, "%s with %s: %s", mis[i].cert, mis[i].key, err);
	}
	/* the same modulus, another exponent: a certificate for n with e = 3
	 * cannot be made by openssl req; the exponent check is what BearSSL
	 * can recompute (primes 3 mod 4), see tlscert.h */

	/* unsupported and encrypted keys */
	rc = sh(out, sizeof out, "openssl genpkey -algorithm ed25519 -out ed.key && "
		"openssl req -new -x509 -key ed.key -subj /CN=t -days 2 -out ed.pem && "
		"openssl pkcs8 -topk8 -in ec-sec1.key -passout pass:x -out enc.key");
	tap_ok(rc == 0, __LINE__, "openssl made an Ed25519 key and an encrypted key");
	errno = 0;
	rc = tls_creds_load(&c, "ec-sec1.pem", "ed.key", err, sizeof err);
	tap_ok(rc == -1 && errno == ENOTSUP && !strcmp(err,
		"ed.key: unsupported key type (only RSA and EC)"), __LINE__,
		"an Ed25519 key: %s", err);
	errno = 0;
	rc = tls_creds_load(&c, "ed.pem", "ed.key", err, sizeof err);
	tap_ok(rc == -1 && errno == ENOTSUP && strstr(err, "ed.pem: certificate 1: unsupported"),
		__LINE__, "an Ed25519 certificate: %s", err);
	errno = 0;
	rc = tls_creds_load(&c, "ec-sec1.pem", "enc.key", err, sizeof err);
	tap_ok(rc == -1 && errno == ENOTSUP && !strcmp(err,
		"enc.key: encrypted keys are not supported"), __LINE__, "an encrypted key: %s", err);
}

static void test_chain(void)
{
	struct tls_creds c;
	char err[512], out[4096];
	int rc;

	if (!need_openssl("a certificate chain made by openssl"))
		return;
	/* root (EC) -> intermediate (EC) -> leaf (RSA, signed by EC) */
	puts_file("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n");
	rc = sh(out, sizeof out,
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout root.key -out root.pem -subj /CN=root -days 2 && "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-keyout int.key -out int.csr -subj /CN=int && "
		"openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 "
		"-extfile ca.ext -days 2 -out int.pem && "
		"openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=leaf && "
		"openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -set_serial 3 "
		"-days 2 -out leaf.pem && "
		"cat leaf.pem int.pem root.pem > chain.pem && "
		"openssl verify -CAfile root.pem -untrusted int.pem leaf.pem && "
		"for f in leaf int root; do openssl x509 -in $f.pem -outform der -out $f.der; done");
	if (!tap_ok(rc == 0, __LINE__, "openssl made a chain of three")) {
		tap_diag("%s", out);
		return;
	}
	rc = tls_creds_load(&c, "chain.pem", "leaf.key", err, sizeof err);
	int ok = rc == 0 && c.chain_len == 3 && c.key_type == BR_KEYTYPE_RSA &&
		c.signer_key_type == BR_KEYTYPE_EC;
	static const char *const der[] = { "leaf.der", "int.der", "root.der" };
	for (int i = 0; ok && i < 3; i++) {
		size_t n;
		char *d = slurp(der[i], &n);
		ok = d && c.chain[i].data_len == n && !memcmp(c.chain[i].data, d, n);
		free(d);
	}
	if (!tap_ok(ok, __LINE__, "chain: three certificates in file order, an RSA key signed by EC"))
		tap_diag("rc %d: %s", rc, err);
	tls_creds_free(&c);

	/* TLS_CHAIN_MAX certificates load, one more does not */
	char *leaf = slurp("leaf.pem", NULL);
	FILE *f = fopen("eight.pem", "w");
	for (int i = 0; i < TLS_CHAIN_MAX; i++)
		fputs(leaf, f);
	fclose(f);
	rc = tls_creds_load(&c, "eight.pem", "leaf.key", err, sizeof err);
	tap_ok(rc == 0 && c.chain_len == TLS_CHAIN_MAX, __LINE__, "%d certificates: loaded",
		TLS_CHAIN_MAX);
	tls_creds_free(&c);
	f = fopen("eight.pem", "a");
	fputs(leaf, f);
	fclose(f);
	errno = 0;
	rc = tls_creds_load(&c, "eight.pem", "leaf.key", err, sizeof err);
	tap_ok(rc == -1 && errno == EINVAL && !strcmp(err, "eight.pem: more than 8 certificates"),
		__LINE__, "%d certificates: %s", TLS_CHAIN_MAX + 1, err);
	free(leaf);

	/* the first certificate is the server's */
	rc = sh(out, sizeof out, "cat int.pem leaf.pem > wrong.pem");
	rc |= tls_creds_load(&c, "wrong.pem", "leaf.key", err, sizeof err) != -1;
	tap_ok(!rc && strstr(err, "key does not match the certificate wrong.pem"), __LINE__,
		"the leaf second: %s", err);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "%s", "/tmp/mls-tlscert-XXXXXX");
	if (!mkdtemp(tmp) || chdir(tmp)) {
		perror("mls-tlscert temporary directory");
		return 1;
	}
	have_openssl = sh(NULL, 0, "openssl version") == 0;
	if (!have_openssl)
		tap_diag("no openssl command: its checks are skipped");

	test_fmt();
	test_auto();
	test_selfsigned();
	test_load_errors();
	test_garbage();
	test_auto_refuses();
	test_openssl_keys();
	test_chain();

	tls_creds_free(&made);
	if (chdir("/") == 0 && strncmp(tmp, "/tmp/mls-tlscert-", 17) == 0)
		sh(NULL, 0, "rm -rf '%s'", tmp);
	return tap_done();
}

#endif
