/* gitstream.h: libgit2's network streams for mls gitwatch: a plain TCP
 * stream and a TLS stream over BearSSL, both with timeouts, registered with
 * git_stream_register() (libgit2 is built with USE_HTTPS=OFF: without this
 * registration an https:// URL fails with "there is no TLS stream
 * available").
 *
 * TLS: TLS 1.2 (BearSSL speaks no 1.3), the server's chain is verified
 * against the trust anchors of a PEM CA file (lib/cafile) and its name
 * against the host of the URL (DNS names of the certificate only, as
 * BearSSL does: use a name, not an IP address). A certificate that fails
 * verification makes connect() fail with GIT_ECERTIFICATE and a message
 * ("certificate not trusted (CA file F)", "... does not match the host
 * name H", ...), libgit2's contract for a TLS stream: when the application
 * set a certificate_check callback, libgit2 then calls it with is_valid 0
 * and the server's certificate (git_cert_x509, DER) and goes on only if it
 * returns 0. For that the handshake is completed with an unverified key
 * (as libgit2's OpenSSL stream does) but no application byte is sent before
 * the verdict; without a callback the connection is closed.
 * HTTP CONNECT proxies: the TLS stream wraps libgit2's proxy stream.
 *
 * Timeouts: connecting (each address of the host) and every read or write
 * wait at most the timeout; libgit2 1.5.1 has none of its own.
 *
 * gitwatch is single-threaded: the settings are process-wide and read when
 * a stream is made. Built only with libgit2 (MLS_HAVE_GIT); the TLS stream
 * also needs BearSSL (MLS_HAVE_TLS), else https:// fails with a message. */
#ifndef MLS_GITSTREAM_H
#define MLS_GITSTREAM_H

#include <stddef.h>

#define GITSTREAM_DEFAULT_CA         "/etc/ssl/certs/ca-certificates.crt"
#define GITSTREAM_DEFAULT_TIMEOUT_MS 30000

/* Registers both streams (after git_libgit2_init()). 0, or -1 with err. */
int gitstream_register(char *err, size_t errsz);

/* The CA file for the next TLS connections (NULL: the default). Read when
 * a TLS stream connects, again only when the path changes. */
void gitstream_set_ca(const char *path);

/* The connect, read and write timeout in milliseconds (> 0). */
void gitstream_set_timeout(int ms);

/* Frees the loaded trust anchors (at exit, for leak checkers). */
void gitstream_cleanup(void);

#endif
