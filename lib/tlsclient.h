/* tlsclient.h: BearSSL client contexts for mls's TLS clients (mls health,
 * the webhooks of mls httpd, mls gitwatch's git stream), narrower than
 * br_ssl_client_init_full() (which links every suite, hash and cipher,
 * TLS 1.0 and 3DES included), and the same profile as mls httpd's server:
 * TLS 1.2 only, ECDHE (ECDSA or RSA certificates) with AES-GCM or
 * ChaCha20-Poly1305 (Mozilla's "intermediate" list minus DHE, which
 * BearSSL lacks). Certificates: RSA or EC (P-256, P-384, P-521) signed
 * with SHA-1 or SHA-2, checked by br_x509_minimal against the anchors. */
#ifndef MLS_TLSCLIENT_H
#define MLS_TLSCLIENT_H

#if MLS_HAVE_TLS
#include <bearssl.h>

void tls_client_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
	const br_x509_trust_anchor *ta, size_t n);
#endif

#endif
