/* b64.h: base64 (RFC 4648), for the public key pin httpd logs
 * ("sha256//BASE64", padded) and the session cookie's MAC (base64url,
 * unpadded). Nothing here prints or exits. */
#ifndef MLS_B64_H
#define MLS_B64_H

#include <stddef.h>

/* The characters b64_encode() writes for n bytes: 4 per 3, rounded up
 * (padded), or without the padding */
#define B64_LEN(n) (((n) + 2) / 3 * 4)

/* in[0..n) as base64 into out (no NUL): url 1 for the URL-safe alphabet
 * ('-', '_'), pad 1 for '=' padding. out must hold B64_LEN(n) bytes.
 * Returns the number written. */
size_t b64_encode(const unsigned char *in, size_t n, char *out, int url, int pad);

#endif
