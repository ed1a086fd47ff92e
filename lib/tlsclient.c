/* tlsclient.c: see tlsclient.h (br_ssl_client_init_full() cut down) */
#if MLS_HAVE_TLS
#include "tlsclient.h"

void tls_client_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
	const br_x509_trust_anchor *ta, size_t n)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	static const br_hash_class *const hashes[] = {
		&br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
		&br_sha384_vtable, &br_sha512_vtable
	};
	br_ssl_engine_context *eng = &cc->eng;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_x509_minimal_init(xc, &br_sha256_vtable, ta, n);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof *suites);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(eng), br_ssl_engine_get_ecdsa(eng));
	for (int id = br_sha1_ID; id <= br_sha512_ID; id++) {
		br_ssl_engine_set_hash(eng, id, hashes[id - br_sha1_ID]);
		br_x509_minimal_set_hash(xc, id, hashes[id - br_sha1_ID]);
	}
	br_ssl_engine_set_x509(eng, &xc->vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
}
#endif
