/* cafile.c: see cafile.h (the reader of applets/health.c, without its
 * printing) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cafile.h"
#if MLS_HAVE_TLS
#include <bearssl.h>

struct blob {
	unsigned char *p;
	size_t len, cap;
	int nomem;
};

static void blob_append(void *ctx, const void *buf, size_t len)
{
	struct blob *b = ctx;
	if (b->nomem)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->nomem = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);
	if (d)
		memcpy(d, p, n);
	return d;
}

static void ta_free(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
		free(ta->pkey.key.ec.q);
	}
}

static int add_anchor(struct ca_anchors *a, const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	struct blob dn = { 0 };
	br_x509_decoder_init(&dc, blob_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.nomem) {
		free(dn.p);
		return -1;
	}
	br_x509_trust_anchor ta = { .dn = { dn.p, dn.len } };
	ta.flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta.pkey.key_type = pk->key_type;
	switch (pk->key_type) {
	case BR_KEYTYPE_RSA:
		ta.pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta.pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta.pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta.pkey.key.rsa.elen = pk->key.rsa.elen;
		if (!ta.pkey.key.rsa.n || !ta.pkey.key.rsa.e) {
			ta_free(&ta);
			return -1;
		}
		break;
	case BR_KEYTYPE_EC:
		ta.pkey.key.ec.curve = pk->key.ec.curve;
		ta.pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta.pkey.key.ec.qlen = pk->key.ec.qlen;
		if (!ta.pkey.key.ec.q) {
			ta_free(&ta);
			return -1;
		}
		break;
	default:
		free(dn.p);
		return -1;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		br_x509_trust_anchor *p = realloc(a->ta, cap * sizeof *p);
		if (!p) {
			ta_free(&ta);
			return -1;
		}
		a->ta = p;
		a->cap = cap;
	}
	((br_x509_trust_anchor *)a->ta)[a->n++] = ta;
	return 0;
}

int ca_load(const char *path, struct ca_anchors *a, char *err, size_t errsz)
{
	memset(a, 0, sizeof *a);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errsz, "cannot read the CA file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size > (off_t)CA_FILE_MAX) {
		snprintf(err, errsz, "the CA file %s is over %u MiB", path, CA_FILE_MAX >> 20);
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	unsigned char *text = malloc(size + 1);
	size_t len = 0;
	while (text && len < size) {
		ssize_t n = read(fd, text + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	int rerr = errno;
	close(fd);
	if (!text || len < size) {
		snprintf(err, errsz, "cannot read the CA file %s: %s", path, text ? strerror(rerr) : "out of memory");
		free(text);
		return -1;
	}
	/* CRLF to LF: BearSSL 0.6's PEM decoder misreads the name of a
	 * "-----BEGIN X-----\r\n" line, so a CRLF bundle (made on Windows)
	 * would hold no certificate (as in lib/tlscert.c) */
	size_t j = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] != '\r')
			text[j++] = text[i];
	len = j;
	text[len++] = '\n';
	br_pem_decoder_context pc;
	struct blob der = { 0 };
	int in_cert = 0, bad = 0;
	const unsigned char *p = text;
	br_pem_decoder_init(&pc);
	while (len > 0 && !bad) {
		size_t k = br_pem_decoder_push(&pc, p, len);
		p += k;
		len -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ: {
			const char *name = br_pem_decoder_name(&pc);
			in_cert = !strcmp(name, "CERTIFICATE") || !strcmp(name, "X509 CERTIFICATE");
			der.len = 0;
			br_pem_decoder_setdest(&pc, in_cert ? blob_append : NULL, &der);
			break;
		}
		case BR_PEM_END_OBJ:
			if (in_cert && !der.nomem)
				add_anchor(a, der.p, der.len);
			in_cert = 0;
			break;
		case BR_PEM_ERROR:
			bad = 1;
			break;
		}
	}
	free(der.p);
	free(text);
	if (bad || !a->n) {
		snprintf(err, errsz, "the CA file %s: %s", path, bad ? "invalid PEM" : "no usable certificate in it");
		ca_free(a);
		return -1;
	}
	return 0;
}

void ca_free(struct ca_anchors *a)
{
	for (size_t k = 0; k < a->n; k++)
		ta_free(&((br_x509_trust_anchor *)a->ta)[k]);
	free(a->ta);
	memset(a, 0, sizeof *a);
}

#else

int ca_load(const char *path, struct ca_anchors *a, char *err, size_t errsz)
{
	memset(a, 0, sizeof *a);
	snprintf(err, errsz, "cannot use %s: this build has no TLS (NO_TLS=1)", path);
	return -1;
}

void ca_free(struct ca_anchors *a)
{
	memset(a, 0, sizeof *a);
}

#endif
