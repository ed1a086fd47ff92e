/* tlscert.c: see tlscert.h for the contract. */
#include "tlscert.h"
#include "b64.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ formatting */

void tls_fingerprint_fmt(const unsigned char h[32], char *buf, size_t sz)
{
	static const char hex[] = "0123456789ABCDEF";
	char s[TLS_FP_SIZE];
	size_t n = 0;

	for (int i = 0; i < 32; i++) {
		if (i)
			s[n++] = ':';
		s[n++] = hex[h[i] >> 4];
		s[n++] = hex[h[i] & 15];
	}
	s[n] = 0;
	if (sz)
		snprintf(buf, sz, "%s", s);
}

void tls_pin_fmt(const unsigned char h[32], char *buf, size_t sz)
{
	char s[TLS_PIN_SIZE] = "sha256//";
	size_t n = 8 + b64_encode(h, 32, s + 8, 0, 1);

	s[n] = 0;
	if (sz)
		snprintf(buf, sz, "%s", s);
}

#if MLS_HAVE_TLS

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errsz, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return -1;
}

/* free() after wiping: every buffer that may have held key bytes */
static void free_wiped(void *p, size_t n)
{
	if (p) {
		explicit_bzero(p, n);
		free(p);
	}
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, p, n);
	br_sha256_out(&h, out);
}

/* ------------------------------------------------------------ reading */

/* The whole regular file path, at most TLS_FILE_MAX bytes, malloc'd,
 * without its CRs and with a '\n' appended (a last line without its
 * newline still ends). The caller frees it with free_wiped(*out,
 * *outlen). */
static int read_file(const char *path, unsigned char **out, size_t *outlen,
	char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return fail(err, errsz, errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return fail(err, errsz, e, "%s: cannot stat: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errsz, EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size > TLS_FILE_MAX) {
		close(fd);
		return fail(err, errsz, EFBIG, "%s: over %d MiB", path, TLS_FILE_MAX >> 20);
	}
	size_t size = (size_t)st.st_size, len = 0;
	unsigned char *text = malloc(size + 1);
	if (!text) {
		close(fd);
		return fail(err, errsz, ENOMEM, "%s: out of memory", path);
	}
	while (len < size) {
		ssize_t n = read(fd, text + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			free_wiped(text, size + 1);
			return fail(err, errsz, e, "%s: cannot read: %s", path, strerror(e));
		}
		if (n == 0)
			break; /* shrank meanwhile: what there is */
		len += (size_t)n;
	}
	close(fd);
	/* CRLF to LF: BearSSL 0.6's PEM decoder keeps a stray byte in the
	 * name of a "-----BEGIN X-----\r\n" line (it skips the CR but not its
	 * slot), so a CRLF file would have no recognisable object */
	size_t j = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] != '\r')
			text[j++] = text[i];
	explicit_bzero(text + j, len - j);
	len = j;
	text[len++] = '\n';
	*out = text;
	*outlen = len;
	return 0;
}

/* What a PEM walk does at each object; both return 0, or -1 to stop
 * (having written err) */
struct pem_ops {
	int (*begin)(void *ctx, br_pem_decoder_context *pc, const char *name);
	int (*end)(void *ctx);
};

/* Runs BearSSL's PEM decoder over text. Returns 0, -1 (a callback
 * stopped) or -2 (bad PEM: the decoder failed, or the text ends inside
 * an object). */
static int pem_walk(const unsigned char *text, size_t len,
	br_pem_decoder_context *pc, const struct pem_ops *ops, void *ctx)
{
	int inside = 0;

	br_pem_decoder_init(pc);
	while (len > 0) {
		size_t k = br_pem_decoder_push(pc, text, len);
		text += k;
		len -= k;
		switch (br_pem_decoder_event(pc)) {
		case BR_PEM_BEGIN_OBJ:
			inside = 1;
			if (ops->begin(ctx, pc, br_pem_decoder_name(pc)))
				return -1;
			break;
		case BR_PEM_END_OBJ:
			inside = 0;
			if (ops->end(ctx))
				return -1;
			break;
		case BR_PEM_ERROR:
			return -2;
		}
	}
	return inside ? -2 : 0;
}

/* --- the certificate file */

struct cert_rd {
	const char *path;
	char *err;
	size_t errsz;
	unsigned char *der;          /* every certificate's DER */
	size_t len, cap;
	size_t off[TLS_CHAIN_MAX + 1]; /* where certificate i starts in der */
	size_t n;                    /* certificates complete */
	int in_cert, nomem;
};

static void cert_append(void *ctx, const void *buf, size_t len)
{
	struct cert_rd *r = ctx;

	if (r->nomem)
		return;
	if (len > r->cap - r->len) {
		/* the DER is shorter than the file: TLS_FILE_MAX bounds it */
		size_t cap = r->cap ? r->cap : 4096;
		while (cap - r->len < len)
			cap *= 2;
		unsigned char *p = realloc(r->der, cap);
		if (!p) {
			r->nomem = 1;
			return;
		}
		r->der = p;
		r->cap = cap;
	}
	memcpy(r->der + r->len, buf, len);
	r->len += len;
}

static int cert_begin(void *ctx, br_pem_decoder_context *pc, const char *name)
{
	struct cert_rd *r = ctx;

	r->in_cert = !strcmp(name, "CERTIFICATE") || !strcmp(name, "X509 CERTIFICATE");
	if (r->in_cert && r->n == TLS_CHAIN_MAX)
		return fail(r->err, r->errsz, EINVAL, "%s: more than %d certificates",
			r->path, TLS_CHAIN_MAX);
	r->off[r->n] = r->len;
	br_pem_decoder_setdest(pc, r->in_cert ? cert_append : NULL, r);
	return 0;
}

static int cert_end(void *ctx)
{
	struct cert_rd *r = ctx;

	if (r->nomem)
		return fail(r->err, r->errsz, ENOMEM, "%s: out of memory", r->path);
	if (r->in_cert)
		r->off[++r->n] = r->len;
	r->in_cert = 0;
	return 0;
}

/* --- the key file */

struct key_rd {
	const char *path;
	char *err;
	size_t errsz;
	br_skey_decoder_context skc; /* holds the key: wiped after use */
	int in_key, have_key;
};

static void key_push(void *ctx, const void *buf, size_t len)
{
	br_skey_decoder_push(ctx, buf, len);
}

static int key_begin(void *ctx, br_pem_decoder_context *pc, const char *name)
{
	struct key_rd *r = ctx;
	size_t n = strlen(name);

	r->in_key = !strcmp(name, "RSA PRIVATE KEY") || !strcmp(name, "EC PRIVATE KEY") ||
		!strcmp(name, "PRIVATE KEY");
	if (r->in_key) {
		if (r->have_key)
			return fail(r->err, r->errsz, EINVAL, "%s: more than one private key",
				r->path);
		br_skey_decoder_init(&r->skc);
	} else if (!strcmp(name, "ENCRYPTED PRIVATE KEY")) {
		return fail(r->err, r->errsz, ENOTSUP,
			"%s: encrypted keys are not supported", r->path);
	} else if (n >= 11 && !strcmp(name + n - 11, "PRIVATE KEY")) {
		return fail(r->err, r->errsz, ENOTSUP, "%s: unsupported key type (%s)",
			r->path, name);
	}
	br_pem_decoder_setdest(pc, r->in_key ? key_push : NULL, &r->skc);
	return 0;
}

static int key_end(void *ctx)
{
	struct key_rd *r = ctx;

	if (!r->in_key)
		return 0;
	r->in_key = 0;
	r->have_key = 1;
	int e = br_skey_decoder_last_error(&r->skc);
	if (e == BR_ERR_X509_UNSUPPORTED)
		return fail(r->err, r->errsz, ENOTSUP,
			"%s: unsupported key type (only RSA and EC)", r->path);
	if (e)
		return fail(r->err, r->errsz, EINVAL, "%s: bad private key (BearSSL error %d)",
			r->path, e);
	return 0;
}

/* Copies the decoded key into c->key_buf */
static int key_take(struct tls_creds *c, const br_skey_decoder_context *skc,
	const char *path, char *err, size_t errsz)
{
	const br_rsa_private_key *rk = br_skey_decoder_get_rsa(skc);
	const br_ec_private_key *ek = br_skey_decoder_get_ec(skc);

	if (rk) {
		struct { unsigned char **dst; const unsigned char *src; size_t len; } el[] = {
			{ &c->rsa.p, rk->p, rk->plen }, { &c->rsa.q, rk->q, rk->qlen },
			{ &c->rsa.dp, rk->dp, rk->dplen }, { &c->rsa.dq, rk->dq, rk->dqlen },
			{ &c->rsa.iq, rk->iq, rk->iqlen },
		};
		c->rsa = *rk;
		c->key_len = rk->plen + rk->qlen + rk->dplen + rk->dqlen + rk->iqlen;
		if (!(c->key_buf = malloc(c->key_len)))
			return fail(err, errsz, ENOMEM, "%s: out of memory", path);
		size_t at = 0;
		for (size_t i = 0; i < sizeof el / sizeof el[0]; i++) {
			memcpy(c->key_buf + at, el[i].src, el[i].len);
			*el[i].dst = c->key_buf + at;
			at += el[i].len;
		}
		c->key_type = BR_KEYTYPE_RSA;
		return 0;
	}
	if (ek->curve != BR_EC_secp256r1 && ek->curve != BR_EC_secp384r1 &&
			ek->curve != BR_EC_secp521r1)
		return fail(err, errsz, ENOTSUP,
			"%s: unsupported EC curve (%d; P-256, P-384 and P-521 are)", path,
			ek->curve);
	c->ec = *ek;
	c->key_len = ek->xlen;
	if (!(c->key_buf = malloc(c->key_len)))
		return fail(err, errsz, ENOMEM, "%s: out of memory", path);
	memcpy(c->key_buf, ek->x, ek->xlen);
	c->ec.x = c->key_buf;
	c->key_type = BR_KEYTYPE_EC;
	return 0;
}

/* Unsigned big-endian bytes without their leading zeros */
static void strip0(const unsigned char **p, size_t *n)
{
	while (*n > 0 && !**p) {
		(*p)++;
		(*n)--;
	}
}

/* Is the certificate's public key pk the one of c's private key? */
static int key_matches(const br_x509_pkey *pk, const struct tls_creds *c)
{
	if (pk->key_type != c->key_type)
		return 0;
	if (c->key_type == BR_KEYTYPE_EC) {
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		size_t n;
		if (pk->key.ec.curve != c->ec.curve)
			return 0;
		n = br_ec_compute_pub(&br_ec_all_m31, NULL, q, &c->ec);
		return n && n == pk->key.ec.qlen && !memcmp(q, pk->key.ec.q, n);
	}
	unsigned char mod[512]; /* 4096 bits: BearSSL's RSA limit */
	const unsigned char *a = mod, *b = pk->key.rsa.n;
	size_t an = br_rsa_i31_compute_modulus(NULL, &c->rsa), bn = pk->key.rsa.nlen;
	if (!an || an > sizeof mod || br_rsa_i31_compute_modulus(mod, &c->rsa) != an)
		return 0;
	strip0(&a, &an);
	strip0(&b, &bn);
	if (an != bn || memcmp(a, b, an))
		return 0;
	/* the exponent too when BearSSL can tell it (both primes 3 mod 4) */
	uint32_t e = br_rsa_i31_compute_pubexp(&c->rsa), ce = 0;
	const unsigned char *ep = pk->key.rsa.e;
	size_t en = pk->key.rsa.elen;
	if (!e)
		return 1;
	strip0(&ep, &en);
	if (en > 4)
		return 0;
	for (size_t i = 0; i < en; i++)
		ce = ce << 8 | ep[i];
	return ce == e;
}

/* One DER TLV at p (n bytes): its tag, header length and value length.
 * Definite lengths of up to 4 bytes; low tag numbers only. 0 or -1. */
static int der_read(const unsigned char *p, size_t n, unsigned *tag, size_t *hdr,
	size_t *vlen)
{
	size_t len, h = 2;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = p[0];
	len = p[1];
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 4 || n - 2 < k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		h += k;
	}
	if (len > n - h)
		return -1;
	*hdr = h;
	*vlen = len;
	return 0;
}

/* The SubjectPublicKeyInfo TLV inside a certificate's DER: the 7th
 * element of the TBSCertificate (6th without the [0] version) */
static int find_spki(const unsigned char *der, size_t n, const unsigned char **spki,
	size_t *len)
{
	unsigned tag;
	size_t h, v;
	int skip = 5;

	for (int depth = 0; depth < 2; depth++) { /* Certificate, TBSCertificate */
		if (der_read(der, n, &tag, &h, &v) || tag != 0x30)
			return -1;
		der += h;
		n = v;
	}
	for (int i = 0; i <= skip; i++) {
		if (der_read(der, n, &tag, &h, &v))
			return -1;
		if (i == skip) {
			if (tag != 0x30)
				return -1;
			*spki = der;
			*len = h + v;
			return 0;
		}
		if (i == 0 && tag == 0xa0)
			skip++;
		der += h + v;
		n -= h + v;
	}
	return -1;
}

int tls_creds_load(struct tls_creds *c, const char *cert_path,
	const char *key_path, char *err, size_t errsz)
{
	static const struct pem_ops cert_ops = { cert_begin, cert_end };
	static const struct pem_ops key_ops = { key_begin, key_end };
	br_pem_decoder_context pc;
	struct cert_rd cr = { .path = cert_path, .err = err, .errsz = errsz };
	struct key_rd *kr = NULL;
	br_x509_decoder_context *dc = NULL;
	unsigned char *text = NULL;
	size_t len = 0;
	int rc, e;

	memset(c, 0, sizeof *c);

	/* the certificates */
	if (read_file(cert_path, &text, &len, err, errsz))
		return -1;
	rc = pem_walk(text, len, &pc, &cert_ops, &cr);
	free_wiped(text, len); /* may be a key file too */
	text = NULL;
	if (rc == -2) {
		fail(err, errsz, EINVAL, "%s: bad PEM", cert_path);
		goto out;
	}
	if (rc)
		goto out;
	if (!cr.n) {
		fail(err, errsz, EINVAL, "%s: no certificate in it", cert_path);
		goto out;
	}
	c->chain = calloc(cr.n, sizeof *c->chain);
	dc = malloc(sizeof *dc);
	if (!c->chain || !dc) {
		fail(err, errsz, ENOMEM, "%s: out of memory", cert_path);
		goto out;
	}
	c->der = cr.der;
	cr.der = NULL;
	c->chain_len = cr.n;
	for (size_t i = cr.n; i-- > 0;) { /* the first last: its decoder is used below */
		c->chain[i].data = c->der + cr.off[i];
		c->chain[i].data_len = cr.off[i + 1] - cr.off[i];
		br_x509_decoder_init(dc, NULL, NULL);
		br_x509_decoder_push(dc, c->chain[i].data, c->chain[i].data_len);
		e = br_x509_decoder_last_error(dc);
		if (e == BR_ERR_X509_UNSUPPORTED) {
			fail(err, errsz, ENOTSUP,
				"%s: certificate %zu: unsupported key type or algorithm (only RSA and EC keys)",
				cert_path, i + 1);
			goto out;
		}
		if (e) {
			fail(err, errsz, EINVAL, "%s: certificate %zu: bad DER (BearSSL error %d)",
				cert_path, i + 1, e);
			goto out;
		}
		if (!br_x509_decoder_get_pkey(dc)) {
			fail(err, errsz, ENOTSUP,
				"%s: certificate %zu: unsupported key type (only RSA and EC)",
				cert_path, i + 1);
			goto out;
		}
	}
	c->signer_key_type = br_x509_decoder_get_signer_key_type(dc);
	sha256(c->chain[0].data, c->chain[0].data_len, c->cert_sha256);
	const unsigned char *spki;
	size_t spki_len;
	if (find_spki(c->chain[0].data, c->chain[0].data_len, &spki, &spki_len)) {
		fail(err, errsz, EINVAL, "%s: certificate 1: bad DER (no public key)", cert_path);
		goto out;
	}
	sha256(spki, spki_len, c->spki_sha256);

	/* the key */
	if (!(kr = calloc(1, sizeof *kr))) {
		fail(err, errsz, ENOMEM, "%s: out of memory", key_path);
		goto out;
	}
	*kr = (struct key_rd){ .path = key_path, .err = err, .errsz = errsz };
	if (read_file(key_path, &text, &len, err, errsz))
		goto out;
	rc = pem_walk(text, len, &pc, &key_ops, kr);
	free_wiped(text, len);
	text = NULL;
	if (rc == -2) {
		fail(err, errsz, EINVAL, "%s: bad PEM", key_path);
		goto out;
	}
	if (rc)
		goto out;
	if (!kr->have_key) {
		fail(err, errsz, EINVAL, "%s: no private key in it", key_path);
		goto out;
	}
	if (key_take(c, &kr->skc, key_path, err, errsz))
		goto out;
	if (!key_matches(br_x509_decoder_get_pkey(dc), c)) {
		fail(err, errsz, EINVAL, "%s: key does not match the certificate %s",
			key_path, cert_path);
		goto out;
	}
	rc = 0;
	goto done;
out:
	rc = -1;
	e = errno;
	tls_creds_free(c);
	errno = e;
done:
	e = errno;
	free(cr.der);
	free(dc);
	free_wiped(kr, sizeof *kr);
	explicit_bzero(&pc, sizeof pc); /* its buffer held key bytes */
	errno = e;
	return rc;
}

void tls_creds_free(struct tls_creds *c)
{
	free_wiped(c->key_buf, c->key_len);
	free(c->chain);
	free(c->der);
	explicit_bzero(c, sizeof *c);
}

/* ------------------------------------------------------------ the encoder */

/* DER written forwards into a fixed buffer: der_begin() writes a tag and a
 * one-byte length placeholder and remembers where; der_end() fills in the
 * length, moving the contents up when it needs the long form. The first
 * overflow (of the buffer or of the nesting) sets err; everything after
 * it does nothing, so a template is written straight through and err
 * checked once. */
#define DER_DEPTH 8

struct der {
	unsigned char *buf;
	size_t len, cap;
	size_t open[DER_DEPTH]; /* where each open TLV's tag is */
	int depth;
	int err;
};

enum {
	DER_BOOL = 0x01, DER_INT = 0x02, DER_BITS = 0x03, DER_OCTETS = 0x04,
	DER_OID = 0x06, DER_UTF8 = 0x0c, DER_UTCTIME = 0x17, DER_GENTIME = 0x18,
	DER_SEQ = 0x30, DER_SET = 0x31,
};

static void der_bytes(struct der *d, const void *p, size_t n)
{
	if (!n)
		return;
	if (d->err || n > d->cap - d->len) {
		d->err = 1;
		return;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static void der_begin(struct der *d, unsigned tag)
{
	unsigned char h[2] = { (unsigned char)tag, 0 };

	if (d->err || d->depth == DER_DEPTH) {
		d->err = 1;
		return;
	}
	d->open[d->depth++] = d->len;
	der_bytes(d, h, 2);
}

static void der_end(struct der *d)
{
	size_t at, n, k;

	if (d->err || d->depth == 0) {
		d->err = 1;
		return;
	}
	at = d->open[--d->depth];
	n = d->len - at - 2;
	if (n < 0x80) {
		d->buf[at + 1] = (unsigned char)n;
		return;
	}
	k = n < 0x100 ? 1 : n < 0x10000 ? 2 : 3; /* the buffer is < 16 MiB */
	if (k > d->cap - d->len) {
		d->err = 1;
		return;
	}
	memmove(d->buf + at + 2 + k, d->buf + at + 2, n);
	d->buf[at + 1] = (unsigned char)(0x80 | k);
	for (size_t i = 0; i < k; i++)
		d->buf[at + 2 + i] = (unsigned char)(n >> (8 * (k - 1 - i)));
	d->len += k;
}

static void der_tlv(struct der *d, unsigned tag, const void *p, size_t n)
{
	der_begin(d, tag);
	der_bytes(d, p, n);
	der_end(d);
}

/* An OID from its encoded content bytes, given as a string literal */
#define DER_OID_LIT(d, s) der_tlv(d, DER_OID, s, sizeof s - 1)

#define OID_ECDSA_SHA256 "\x2a\x86\x48\xce\x3d\x04\x03\x02" /* 1.2.840.10045.4.3.2 */
#define OID_EC_PUBKEY    "\x2a\x86\x48\xce\x3d\x02\x01"     /* 1.2.840.10045.2.1 */
#define OID_P256         "\x2a\x86\x48\xce\x3d\x03\x01\x07" /* 1.2.840.10045.3.1.7 */
#define OID_CN           "\x55\x04\x03"                     /* 2.5.4.3 */
#define OID_O            "\x55\x04\x0a"                     /* 2.5.4.10 */
#define OID_SKI          "\x55\x1d\x0e"                     /* 2.5.29.14 */
#define OID_KEY_USAGE    "\x55\x1d\x0f"                     /* 2.5.29.15 */
#define OID_SAN          "\x55\x1d\x11"                     /* 2.5.29.17 */
#define OID_BASIC        "\x55\x1d\x13"                     /* 2.5.29.19 */
#define OID_EXT_KEY_USE  "\x55\x1d\x25"                     /* 2.5.29.37 */
#define OID_SERVER_AUTH  "\x2b\x06\x01\x05\x05\x07\x03\x01" /* 1.3.6.1.5.5.7.3.1 */

/* O=mls, CN=cn: two RDNs of one attribute each */
static void der_name(struct der *d, const char *cn)
{
	der_begin(d, DER_SEQ);
	der_begin(d, DER_SET);
	der_begin(d, DER_SEQ);
	DER_OID_LIT(d, OID_O);
	der_tlv(d, DER_UTF8, "mls", 3);
	der_end(d);
	der_end(d);
	der_begin(d, DER_SET);
	der_begin(d, DER_SEQ);
	DER_OID_LIT(d, OID_CN);
	der_tlv(d, DER_UTF8, cn, strlen(cn));
	der_end(d);
	der_end(d);
	der_end(d);
}

#define CLOCK_SANE ((time_t)1577836800) /* 2020-01-01T00:00:00Z */

/* UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5) */
static int der_time(struct der *d, time_t t)
{
	struct tm tm;
	char s[64]; /* 16 bytes used; room for what gcc fears */
	int y;

	if (!gmtime_r(&t, &tm))
		return -1;
	y = tm.tm_year + 1900;
	if (y < 0 || y > 9999)
		return -1;
	if (y >= 1950 && y < 2050)
		snprintf(s, sizeof s, "%02d%02d%02d%02d%02d%02dZ", y % 100, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(s, sizeof s, "%04d%02d%02d%02d%02d%02dZ", y, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	der_tlv(d, y >= 1950 && y < 2050 ? DER_UTCTIME : DER_GENTIME, s, strlen(s));
	return 0;
}

/* An extension: SEQUENCE { OID, [critical TRUE], OCTET STRING { ... } };
 * ext_end() closes it */
static void ext_begin(struct der *d, const char *oid, size_t oidlen, int critical)
{
	der_begin(d, DER_SEQ);
	der_tlv(d, DER_OID, oid, oidlen);
	if (critical)
		der_tlv(d, DER_BOOL, "\xff", 1);
	der_begin(d, DER_OCTETS);
}

static void ext_end(struct der *d)
{
	der_end(d);
	der_end(d);
}

/* A subjectAltName entry */
struct gname {
	unsigned char tag;  /* 0x82 dNSName, 0x87 iPAddress */
	unsigned char ip[16];
	size_t len;         /* of the DNS name or the address */
	const char *text;   /* the name as given */
};

static int gname_same(const struct gname *a, const struct gname *b)
{
	if (a->tag != b->tag || a->len != b->len)
		return 0;
	return a->tag == 0x87 ? !memcmp(a->ip, b->ip, a->len) :
		!strncasecmp(a->text, b->text, a->len);
}

/* The names kept for the SAN, as tls_cert_selfsigned() says */
static int collect_names(const char *const *names, struct gname *g, size_t *ng,
	char *err, size_t errsz)
{
	static const unsigned char zero[16];
	size_t n = 0;

	for (size_t i = 0; names && names[i]; i++) {
		struct gname x = { .text = names[i], .len = strlen(names[i]) };
		int dup = 0;
		if (!x.len)
			continue;
		if (x.len > TLS_NAME_MAX)
			return fail(err, errsz, EINVAL, "name '%.32s...' is over %d bytes",
				x.text, TLS_NAME_MAX);
		for (size_t j = 0; j < x.len; j++)
			if ((unsigned char)x.text[j] < 0x21 || (unsigned char)x.text[j] > 0x7e)
				return fail(err, errsz, EINVAL,
					"name '%.64s': a byte outside printable ASCII", x.text);
		if (inet_pton(AF_INET, x.text, x.ip) == 1) {
			x.tag = 0x87;
			x.len = 4;
		} else if (inet_pton(AF_INET6, x.text, x.ip) == 1) {
			x.tag = 0x87;
			x.len = 16;
		} else {
			x.tag = 0x82;
		}
		if (x.tag == 0x87 && !memcmp(x.ip, zero, x.len))
			continue; /* 0.0.0.0, :: */
		for (size_t j = 0; j < n && !dup; j++)
			dup = gname_same(&g[j], &x);
		if (dup)
			continue;
		if (n == TLS_NAMES_MAX)
			return fail(err, errsz, EINVAL, "too many names (more than %d)",
				TLS_NAMES_MAX);
		g[n++] = x;
	}
	if (!n)
		g[n++] = (struct gname){ .tag = 0x82, .len = 9, .text = "localhost" };
	*ng = n;
	return 0;
}

int tls_cert_selfsigned(const br_ec_private_key *sk,
	const char *const *names, time_t now, const br_prng_class **rng,
	unsigned char *out, size_t outsz, size_t *outlen, char *err,
	size_t errsz)
{
	struct gname g[TLS_NAMES_MAX];
	size_t ng = 0;
	unsigned char q[65], serial[16], h[32], sig[80];
	br_ec_public_key pk;
	struct der d = { .buf = out, .cap = outsz };
	struct tm tm;
	time_t until;
	size_t tbs, siglen;

	if (sk->curve != BR_EC_secp256r1)
		return fail(err, errsz, ENOTSUP, "not a P-256 key (curve %d)", sk->curve);
	if (br_ec_compute_pub(&br_ec_p256_m31, &pk, q, sk) != sizeof q)
		return fail(err, errsz, EINVAL, "bad P-256 key");
	if (collect_names(names, g, &ng, err, errsz))
		return -1;
	const char *cn = g[0].text && strlen(g[0].text) <= 64 ? g[0].text : "mls";

	/* 10 years on: the same date and time (timegm() normalises 29 Feb).
	 * A clock before 2020 is a board without a real-time clock before
	 * NTP: the 10 years count from 2020, so the certificate is still
	 * valid once the clock is right. */
	time_t from = now < CLOCK_SANE ? CLOCK_SANE : now;
	if (!gmtime_r(&from, &tm))
		return fail(err, errsz, EINVAL, "bad time");
	tm.tm_year += 10;
	until = timegm(&tm);

	(*rng)->generate(rng, serial, sizeof serial);
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40); /* > 0, 16 bytes */

	der_begin(&d, DER_SEQ); /* Certificate */
	tbs = d.len;
	der_begin(&d, DER_SEQ); /* TBSCertificate */
	der_begin(&d, 0xa0);    /* [0] version: v3 */
	der_tlv(&d, DER_INT, "\x02", 1);
	der_end(&d);
	der_tlv(&d, DER_INT, serial, sizeof serial);
	der_begin(&d, DER_SEQ);
	DER_OID_LIT(&d, OID_ECDSA_SHA256);
	der_end(&d);
	der_name(&d, cn); /* issuer */
	der_begin(&d, DER_SEQ);
	if (der_time(&d, now - 86400) || der_time(&d, until))
		return fail(err, errsz, EINVAL, "time out of range");
	der_end(&d);
	der_name(&d, cn); /* subject */
	der_begin(&d, DER_SEQ); /* SubjectPublicKeyInfo */
	der_begin(&d, DER_SEQ);
	DER_OID_LIT(&d, OID_EC_PUBKEY);
	DER_OID_LIT(&d, OID_P256);
	der_end(&d);
	der_begin(&d, DER_BITS);
	der_bytes(&d, "", 1); /* no unused bits */
	der_bytes(&d, q, sizeof q);
	der_end(&d);
	der_end(&d);
	der_begin(&d, 0xa3); /* [3] extensions */
	der_begin(&d, DER_SEQ);
	ext_begin(&d, OID_SAN, sizeof OID_SAN - 1, 0);
	der_begin(&d, DER_SEQ);
	for (size_t i = 0; i < ng; i++)
		der_tlv(&d, g[i].tag, g[i].tag == 0x87 ? (const void *)g[i].ip :
			(const void *)g[i].text, g[i].len);
	der_end(&d);
	ext_end(&d);
	ext_begin(&d, OID_BASIC, sizeof OID_BASIC - 1, 1);
	der_tlv(&d, DER_SEQ, NULL, 0); /* cA FALSE is the default: left out */
	ext_end(&d);
	ext_begin(&d, OID_KEY_USAGE, sizeof OID_KEY_USAGE - 1, 1);
	der_tlv(&d, DER_BITS, "\x07\x80", 2); /* bit 0 only: digitalSignature */
	ext_end(&d);
	ext_begin(&d, OID_EXT_KEY_USE, sizeof OID_EXT_KEY_USE - 1, 0);
	der_begin(&d, DER_SEQ);
	DER_OID_LIT(&d, OID_SERVER_AUTH);
	der_end(&d);
	ext_end(&d);
	ext_begin(&d, OID_SKI, sizeof OID_SKI - 1, 0);
	sha256(q, sizeof q, h);
	der_tlv(&d, DER_OCTETS, h, 20);
	ext_end(&d);
	der_end(&d); /* SEQUENCE of extensions */
	der_end(&d); /* [3] */
	der_end(&d); /* TBSCertificate */
	if (d.err)
		return fail(err, errsz, ENOSPC, "certificate over %zu bytes", outsz);

	sha256(d.buf + tbs, d.len - tbs, h);
	siglen = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, h, sk, sig);
	if (!siglen)
		return fail(err, errsz, EINVAL, "ECDSA signing failed");
	der_begin(&d, DER_SEQ);
	DER_OID_LIT(&d, OID_ECDSA_SHA256);
	der_end(&d);
	der_begin(&d, DER_BITS);
	der_bytes(&d, "", 1);
	der_bytes(&d, sig, siglen);
	der_end(&d);
	der_end(&d); /* Certificate */
	if (d.err || d.depth)
		return fail(err, errsz, ENOSPC, "certificate over %zu bytes", outsz);
	*outlen = d.len;
	return 0;
}

/* ------------------------------------------------------------ making files */

/* 1 if path exists (as anything, a dangling symlink too), 0 if not */
static int exists(const char *path, char *err, size_t errsz)
{
	struct stat st;

	if (!lstat(path, &st))
		return 1;
	if (errno == ENOENT)
		return 0;
	return fail(err, errsz, errno, "%s: cannot stat: %s", path, strerror(errno));
}

/* data into a new temporary file DIR/.NAME.XXXXXX with mode, fsync'd;
 * its path in tmp (PATH_MAX bytes) */
static int write_temp(const char *dir, const char *name, const void *data,
	size_t len, mode_t mode, char *tmp, size_t tmpsz, char *err, size_t errsz)
{
	const unsigned char *p = data;
	int fd, e;

	snprintf(tmp, tmpsz, "%s/.%s.XXXXXX", dir, name);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return fail(err, errsz, errno, "%s/%s: cannot create: %s", dir, name,
			strerror(errno));
	if (fchmod(fd, mode))
		goto bad;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto bad;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd))
		goto bad;
	if (close(fd)) {
		fd = -1;
		goto bad;
	}
	return 0;
bad:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return fail(err, errsz, e, "%s: cannot write: %s", tmp, strerror(e));
}

/* PEM of der, malloc'd; its length in *len */
static char *pem_of(const void *der, size_t n, const char *banner, size_t *len)
{
	size_t pl = br_pem_encode(NULL, der, n, banner, BR_PEM_LINE64);
	char *p = malloc(pl + 1);

	if (p)
		br_pem_encode(p, der, n, banner, BR_PEM_LINE64);
	*len = pl;
	return p;
}

/* A new key and certificate into dir, as tls_creds_auto() says */
static int make_files(const char *dir, const char *cert_path, const char *key_path,
	const char *const *names, char *err, size_t errsz)
{
	unsigned char seed[32], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], q[65];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned char *cder = NULL, *kder = NULL;
	char *cpem = NULL, *kpem = NULL;
	size_t clen = 0, klen = 0, cplen = 0, kplen = 0;
	char ktmp[256], ctmp[256];
	int rc = -1, e;

	for (size_t got = 0; got < sizeof seed;) {
		ssize_t n = getrandom(seed + got, sizeof seed - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(err, errsz, errno, "getrandom: %s", strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	if (!br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, kbuf, BR_EC_secp256r1) ||
			br_ec_compute_pub(&br_ec_p256_m31, &pk, q, &sk) != sizeof q) {
		fail(err, errsz, EINVAL, "EC key generation failed");
		goto out;
	}
	if (!(cder = malloc(TLS_CERT_DER_MAX))) {
		fail(err, errsz, ENOMEM, "out of memory");
		goto out;
	}
	if (tls_cert_selfsigned(&sk, names, time(NULL), &rng.vtable, cder,
			TLS_CERT_DER_MAX, &clen, err, errsz))
		goto out;
	klen = br_encode_ec_raw_der(NULL, &sk, &pk);
	if (!klen || !(kder = malloc(klen)) || br_encode_ec_raw_der(kder, &sk, &pk) != klen ||
			!(kpem = pem_of(kder, klen, BR_ENCODE_PEM_EC_RAW, &kplen)) ||
			!(cpem = pem_of(cder, clen, "CERTIFICATE", &cplen))) {
		fail(err, errsz, ENOMEM, "out of memory");
		goto out;
	}

	if (mkdir(dir, 0700) && errno != EEXIST) {
		fail(err, errsz, errno, "%s: cannot create the directory: %s", dir,
			strerror(errno));
		goto out;
	}
	if (write_temp(dir, "key.pem", kpem, kplen, 0600, ktmp, sizeof ktmp, err, errsz))
		goto out;
	if (write_temp(dir, "cert.pem", cpem, cplen, 0644, ctmp, sizeof ctmp, err, errsz)) {
		unlink(ktmp);
		goto out;
	}
	if (rename(ktmp, key_path)) {
		e = errno;
		unlink(ktmp);
		unlink(ctmp);
		fail(err, errsz, e, "%s: cannot rename into place: %s", key_path, strerror(e));
		goto out;
	}
	if (rename(ctmp, cert_path)) {
		e = errno;
		unlink(key_path);
		unlink(ctmp);
		fail(err, errsz, e, "%s: cannot rename into place: %s", cert_path, strerror(e));
		goto out;
	}
	/* the renames themselves to disk; a file system that cannot fsync a
	 * directory (EINVAL) still has the files */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	e = errno;
	explicit_bzero(seed, sizeof seed);
	explicit_bzero(kbuf, sizeof kbuf);
	explicit_bzero(&rng, sizeof rng);
	free(cder);
	free(cpem);
	free_wiped(kder, klen);
	free_wiped(kpem, kplen + 1);
	errno = e;
	return rc;
}

int tls_creds_auto(struct tls_creds *c, const char *dir,
	const char *const *names, int *created, char *err, size_t errsz)
{
	char cert_path[256], key_path[256];
	int hc, hk;

	memset(c, 0, sizeof *c);
	if (created)
		*created = 0;
	if (strlen(dir) > 200)
		return fail(err, errsz, ENAMETOOLONG, "%.40s...: directory name over 200 bytes",
			dir);
	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
	if ((hc = exists(cert_path, err, errsz)) < 0 || (hk = exists(key_path, err, errsz)) < 0)
		return -1;
	if (hc && hk)
		return tls_creds_load(c, cert_path, key_path, err, errsz);
	if (hc || hk)
		return fail(err, errsz, EEXIST,
			"%s exists but %s does not: give both, or remove it to have both made",
			hc ? cert_path : key_path, hc ? key_path : cert_path);
	if (make_files(dir, cert_path, key_path, names, err, errsz) ||
			tls_creds_load(c, cert_path, key_path, err, errsz))
		return -1;
	if (created)
		*created = 1;
	return 0;
}

#endif /* MLS_HAVE_TLS */
