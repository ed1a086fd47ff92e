/* cafile.h: trust anchors (CA certificates) from a PEM file, for BearSSL's
 * X.509 validation of a server (the webhooks of mls httpd; mls health
 * uses it too).
 *
 * Conventions: 0 or -1 with err (no program name, no newline); nothing
 * prints or exits. Bounded: the file is read up to CA_FILE_MAX bytes.
 * Certificates BearSSL cannot use (an undecodable one, an unknown key
 * type) are skipped; a file with none left is an error. A build without
 * BearSSL (NO_TLS) has only ca_free() and a ca_load() that fails. */
#ifndef MLS_CAFILE_H
#define MLS_CAFILE_H

#include <stddef.h>

#define CA_FILE_MAX (16u << 20)

struct ca_anchors {
	void *ta;       /* br_x509_trust_anchor[n], malloc'd with what they point to */
	size_t n, cap;
};

int ca_load(const char *path, struct ca_anchors *a, char *err, size_t errsz);
void ca_free(struct ca_anchors *a);

#endif
