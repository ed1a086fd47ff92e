/* gitstream.c: see gitstream.h */
#if MLS_HAVE_GIT
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include "cafile.h"
#include "loop.h"
#include "netconn.h"
#include "gitstream.h"
#if MLS_HAVE_TLS
#include <bearssl.h>
#include "tlsclient.h"
#endif

static int timeout_ms = GITSTREAM_DEFAULT_TIMEOUT_MS;

void gitstream_set_timeout(int ms)
{
	timeout_ms = ms > 0 ? ms : GITSTREAM_DEFAULT_TIMEOUT_MS;
}

/* libgit2's error message for the failing call; returns -1 */
static int fail(int klass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(int klass, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	git_error_set_str(klass, msg);
	return -1;
}

/* ------------------------------------------------------------ sockets */

/* Waits for fd to be ready for ev: 1 ready, 0 timed out, -1 error */
static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };
	for (;;) {
		int r = poll(&p, 1, timeout_ms);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -1;
	}
}

/* A non-blocking connected socket to host:port within the timeout, or
 * -1 with libgit2's error set */
static int tcp_connect(const char *host, const char *port)
{
	int gai;
	int fd = netconn_tcp(host, port, loop_now_ms() + timeout_ms, &gai);
	if (fd >= 0)
		return fd;
	if (gai)
		return fail(GIT_ERROR_NET, "cannot resolve %s: %s", host,
			gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	if (errno == ETIMEDOUT)
		return fail(GIT_ERROR_NET, "cannot connect to %s port %s: timed out after %d ms",
			host, port, timeout_ms);
	return fail(GIT_ERROR_NET, "cannot connect to %s port %s: %s", host, port, strerror(errno));
}

/* read/write with the timeout: bytes (0 at EOF for reads), or -1 with
 * errno (ETIMEDOUT when the peer was silent for the timeout) */
static ssize_t fd_io(int fd, void *buf, size_t len, int writing)
{
	for (;;) {
		ssize_t n = writing ? send(fd, buf, len, MSG_NOSIGNAL) : read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		int r = wait_fd(fd, writing ? POLLOUT : POLLIN);
		if (r == 0)
			errno = ETIMEDOUT;
		if (r <= 0)
			return -1;
	}
}

static int io_fail(const char *host, int writing, int err)
{
	if (err == ETIMEDOUT)
		return fail(GIT_ERROR_NET, "%s: timed out after %d ms (%s)", host, timeout_ms,
			writing ? "sending" : "waiting for the server");
	return fail(GIT_ERROR_NET, "%s: %s: %s", host, writing ? "send" : "receive",
		strerror(err));
}

/* -------------------------------------------------------- plain stream */

struct plain {
	git_stream parent;
	char *host, *port;
	int fd;
};

static int plain_connect(git_stream *st)
{
	struct plain *s = (struct plain *)st;
	s->fd = tcp_connect(s->host, s->port);
	return s->fd < 0 ? -1 : 0;
}

static ssize_t plain_read(git_stream *st, void *buf, size_t len)
{
	struct plain *s = (struct plain *)st;
	ssize_t n = fd_io(s->fd, buf, len, 0);
	return n < 0 ? io_fail(s->host, 0, errno) : n;
}

static ssize_t plain_write(git_stream *st, const char *buf, size_t len, int flags)
{
	struct plain *s = (struct plain *)st;
	(void)flags;
	size_t done = 0;
	while (done < len) {
		ssize_t n = fd_io(s->fd, (char *)buf + done, len - done, 1);
		if (n < 0)
			return io_fail(s->host, 1, errno);
		done += (size_t)n;
	}
	return (ssize_t)len;
}

static int plain_close(git_stream *st)
{
	struct plain *s = (struct plain *)st;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static void plain_free(git_stream *st)
{
	struct plain *s = (struct plain *)st;
	plain_close(st);
	free(s->host);
	free(s->port);
	free(s);
}

static int plain_init(git_stream **out, const char *host, const char *port)
{
	struct plain *s = calloc(1, sizeof *s);
	if (!s || !(s->host = strdup(host)) || !(s->port = strdup(port ? port : "80"))) {
		if (s)
			free(s->host);
		free(s);
		git_error_set_oom();
		return -1;
	}
	s->fd = -1;
	s->parent.version = GIT_STREAM_VERSION;
	s->parent.connect = plain_connect;
	s->parent.read = plain_read;
	s->parent.write = plain_write;
	s->parent.close = plain_close;
	s->parent.free = plain_free;
	*out = &s->parent;
	return 0;
}

/* ---------------------------------------------------------- TLS stream */

#if MLS_HAVE_TLS

static struct {
	char *want;              /* the path asked for; NULL: the default */
	char *loaded;            /* the path of anchors; NULL: none loaded */
	struct ca_anchors a;
} ca;

void gitstream_set_ca(const char *path)
{
	char *p = path ? strdup(path) : NULL;
	if (path && !p)
		return; /* keep the old one: the connect fails on the anchors, not here */
	free(ca.want);
	ca.want = p;
}

void gitstream_cleanup(void)
{
	ca_free(&ca.a);
	free(ca.loaded);
	free(ca.want);
	memset(&ca, 0, sizeof ca);
}

static const char *ca_path(void)
{
	return ca.want ? ca.want : GITSTREAM_DEFAULT_CA;
}

static int ca_ready(void)
{
	const char *path = ca_path();
	if (ca.loaded && !strcmp(ca.loaded, path))
		return 0;
	char err[256];
	struct ca_anchors a = { 0 };
	if (ca_load(path, &a, err, sizeof err))
		return fail(GIT_ERROR_SSL, "%s", err);
	char *p = strdup(path);
	if (!p) {
		ca_free(&a);
		git_error_set_oom();
		return -1;
	}
	ca_free(&ca.a);
	free(ca.loaded);
	ca.a = a;
	ca.loaded = p;
	return 0;
}

/* The X.509 engine: BearSSL's minimal validator decides; the end-entity
 * key is also decoded on the side, so that a failed verdict can be kept
 * for after the handshake (connect returns GIT_ECERTIFICATE, libgit2 asks
 * the application's certificate_check, if any). The certificate itself is
 * kept for that callback. */
struct xv {
	const br_x509_class *vtable;
	br_x509_minimal_context m;
	br_x509_decoder_context d;
	unsigned depth, err;
	unsigned char *ee;          /* DER of the server's certificate */
	size_t eelen, eecap;
	int nomem;
};

#define XV(ctx) ((struct xv *)(void *)(ctx))

static void xv_start_chain(const br_x509_class **ctx, const char *name)
{
	struct xv *x = XV(ctx);
	x->m.vtable->start_chain(&x->m.vtable, name);
	x->depth = 0;
	x->err = 0;
	x->eelen = 0;
}

static void xv_start_cert(const br_x509_class **ctx, uint32_t len)
{
	struct xv *x = XV(ctx);
	x->m.vtable->start_cert(&x->m.vtable, len);
	if (x->depth)
		return;
	br_x509_decoder_init(&x->d, NULL, NULL);
	if (len > x->eecap) {
		unsigned char *p = realloc(x->ee, len);
		if (!p) {
			x->nomem = 1;
			return;
		}
		x->ee = p;
		x->eecap = len;
	}
}

static void xv_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct xv *x = XV(ctx);
	x->m.vtable->append(&x->m.vtable, buf, len);
	if (x->depth)
		return;
	br_x509_decoder_push(&x->d, buf, len);
	if (!x->nomem && x->eelen + len <= x->eecap) {
		memcpy(x->ee + x->eelen, buf, len);
		x->eelen += len;
	}
}

static void xv_end_cert(const br_x509_class **ctx)
{
	struct xv *x = XV(ctx);
	x->m.vtable->end_cert(&x->m.vtable);
	x->depth++;
}

static unsigned xv_end_chain(const br_x509_class **ctx)
{
	struct xv *x = XV(ctx);
	x->err = x->m.vtable->end_chain(&x->m.vtable);
	if (!x->err)
		return 0;
	/* go on only with a key to go on with, and the certificate to show */
	return br_x509_decoder_get_pkey(&x->d) && !x->nomem ? 0 : x->err;
}

static const br_x509_pkey *xv_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct xv *x = XV(ctx);
	if (!x->err)
		return x->m.vtable->get_pkey(&x->m.vtable, usages);
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&x->d);
}

static const br_x509_class xv_vtable = {
	sizeof(struct xv),
	xv_start_chain, xv_start_cert, xv_append, xv_end_cert, xv_end_chain,
	xv_get_pkey
};

struct tls {
	git_stream parent;
	char *host, *port;
	int fd;
	git_stream *inner;          /* wrap: over a proxy's stream, not fd */
	int io_err;                 /* errno of the last socket failure */
	int eof;                    /* the peer closed the connection */
	int connected;
	git_cert_x509 cert;
	br_ssl_client_context sc;
	struct xv x;
	br_sslio_context io;
	unsigned char buf[BR_SSL_BUFSIZE_BIDI];
};

static int tls_low(void *ctx, unsigned char *buf, size_t len, int writing)
{
	struct tls *s = ctx;
	ssize_t n;
	if (s->inner) {
		n = writing ? s->inner->write(s->inner, (const char *)buf, len, 0)
			: s->inner->read(s->inner, buf, len);
		if (n < 0)
			s->io_err = EIO;
	} else {
		n = fd_io(s->fd, buf, len, writing);
		if (n < 0)
			s->io_err = errno;
	}
	if (n == 0)
		s->eof = 1;
	return n > 0 ? (int)(n > 0x7fffffff ? 0x7fffffff : n) : -1;
}

static int tls_low_read(void *ctx, unsigned char *buf, size_t len)
{
	return tls_low(ctx, buf, len, 0);
}

static int tls_low_write(void *ctx, const unsigned char *buf, size_t len)
{
	return tls_low(ctx, (unsigned char *)buf, len, 1);
}

/* libgit2's error for a failed TLS exchange; returns -1 (or
 * GIT_ECERTIFICATE for a certificate libgit2 may still let the
 * application accept) */
static int tls_fail(struct tls *s, int writing)
{
	int e = br_ssl_engine_last_error(&s->sc.eng);
	if (e == BR_ERR_IO || e == BR_ERR_OK) {
		if (s->io_err)
			return io_fail(s->host, writing, s->io_err);
		return fail(GIT_ERROR_SSL, "%s: the server closed the TLS connection%s", s->host,
			s->connected ? "" : " during the handshake");
	}
	if (e == BR_ERR_UNSUPPORTED_VERSION)
		return fail(GIT_ERROR_SSL, "%s: TLS handshake failed: the server does not speak TLS 1.2",
			s->host);
	if (e >= BR_ERR_SEND_FATAL_ALERT)
		return fail(GIT_ERROR_SSL, "%s: TLS failed (sent alert %d)", s->host,
			e - BR_ERR_SEND_FATAL_ALERT);
	if (e >= BR_ERR_RECV_FATAL_ALERT)
		return fail(GIT_ERROR_SSL, "%s: TLS failed: the server sent alert %d", s->host,
			e - BR_ERR_RECV_FATAL_ALERT);
	if (e >= 32 && e < 64)   /* a certificate BearSSL could not even use */
		return fail(GIT_ERROR_SSL, "%s: certificate refused (BearSSL X.509 error %d)", s->host, e);
	return fail(GIT_ERROR_SSL, "%s: TLS failed (BearSSL error %d)", s->host, e);
}

static int cert_verdict(struct tls *s)
{
	switch (s->x.err) {
	case 0: /* end_chain's success (BR_ERR_X509_OK is its inner value) */
		return 0;
	case BR_ERR_X509_NOT_TRUSTED:
		fail(GIT_ERROR_SSL, "%s: certificate not trusted (CA file %s)", s->host, ca.loaded);
		break;
	case BR_ERR_X509_BAD_SERVER_NAME:
		fail(GIT_ERROR_SSL, "%s: certificate does not match the host name%s", s->host,
			strchr(s->host, ':') || strspn(s->host, "0123456789.") == strlen(s->host)
			? " (only DNS names of a certificate are checked: use the name)" : "");
		break;
	case BR_ERR_X509_EXPIRED:
		fail(GIT_ERROR_SSL, "%s: certificate expired or not yet valid", s->host);
		break;
	default:
		fail(GIT_ERROR_SSL, "%s: certificate refused (BearSSL X.509 error %u)", s->host, s->x.err);
		break;
	}
	return GIT_ECERTIFICATE;
}

static int tls_connect(git_stream *st)
{
	struct tls *s = (struct tls *)st;
	if (ca_ready())
		return -1;
	tls_client_init(&s->sc, &s->x.m, ca.a.ta, ca.a.n);
	s->x.vtable = &xv_vtable;
	br_ssl_engine_set_x509(&s->sc.eng, &s->x.vtable);
	br_ssl_engine_set_buffer(&s->sc.eng, s->buf, sizeof s->buf, 1);
	if (!br_ssl_client_reset(&s->sc, s->host, 0))
		return tls_fail(s, 1);
	if (!s->inner && (s->fd = tcp_connect(s->host, s->port)) < 0)
		return -1;
	br_sslio_init(&s->io, &s->sc.eng, tls_low_read, s, tls_low_write, s);
	/* the handshake: done when application data can be sent */
	if (br_sslio_flush(&s->io)) {
		/* a refused certificate without a usable key: no connection
		 * is left for a certificate_check callback to accept */
		if (s->x.err) {
			cert_verdict(s);
			return -1;
		}
		return tls_fail(s, 1);
	}
	s->connected = 1;
	s->cert.parent.cert_type = GIT_CERT_X509;
	s->cert.data = s->x.ee;
	s->cert.len = s->x.eelen;
	return cert_verdict(s);
}

static int tls_certificate(git_cert **out, git_stream *st)
{
	struct tls *s = (struct tls *)st;
	if (!s->connected)
		return fail(GIT_ERROR_SSL, "%s: no certificate: not connected", s->host);
	*out = &s->cert.parent;
	return 0;
}

static ssize_t tls_read(git_stream *st, void *buf, size_t len)
{
	struct tls *s = (struct tls *)st;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	int n = br_sslio_read(&s->io, buf, len);
	if (n >= 0)
		return n;
	/* the end: the server's close_notify, or its TCP close without one
	 * (common; HTTP says where a body ends, and the git protocol has its
	 * own framing and pack checksums, so a cut is still seen) */
	int e = br_ssl_engine_last_error(&s->sc.eng);
	if (e == BR_ERR_OK || (e == BR_ERR_IO && s->eof && !s->io_err))
		return 0;
	return tls_fail(s, 0);
}

static ssize_t tls_write(git_stream *st, const char *buf, size_t len, int flags)
{
	struct tls *s = (struct tls *)st;
	(void)flags;
	if (br_sslio_write_all(&s->io, buf, len) || br_sslio_flush(&s->io))
		return tls_fail(s, 1);
	return (ssize_t)len;
}

static int tls_close(git_stream *st)
{
	struct tls *s = (struct tls *)st;
	/* no close_notify exchange: it could wait for the timeout */
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static void tls_free(git_stream *st)
{
	struct tls *s = (struct tls *)st;
	tls_close(st);
	free(s->x.ee);
	free(s->host);
	free(s->port);
	free(s);
}

static int tls_new(git_stream **out, git_stream *inner, const char *host, const char *port)
{
	struct tls *s = calloc(1, sizeof *s);
	if (!s || !(s->host = strdup(host)) || !(s->port = strdup(port ? port : "443"))) {
		if (s)
			free(s->host);
		free(s);
		git_error_set_oom();
		return -1;
	}
	s->fd = -1;
	s->inner = inner;
	s->parent.version = GIT_STREAM_VERSION;
	s->parent.encrypted = 1;
	s->parent.connect = tls_connect;
	s->parent.certificate = tls_certificate;
	s->parent.read = tls_read;
	s->parent.write = tls_write;
	s->parent.close = tls_close;
	s->parent.free = tls_free;
	*out = &s->parent;
	return 0;
}

static int tls_init(git_stream **out, const char *host, const char *port)
{
	return tls_new(out, NULL, host, port);
}

/* Over an HTTP CONNECT proxy: the inner stream is connected, closed and
 * freed by libgit2 (as its OpenSSL stream, this one does not own it). */
static int tls_wrap(git_stream **out, git_stream *in, const char *host)
{
	return tls_new(out, in, host, "443");
}

#else /* !MLS_HAVE_TLS */

void gitstream_set_ca(const char *path)
{
	(void)path;
}

void gitstream_cleanup(void)
{
}

static int tls_init(git_stream **out, const char *host, const char *port)
{
	(void)out;
	(void)host;
	(void)port;
	return fail(GIT_ERROR_SSL, "this build has no TLS (built with NO_TLS=1): https:// is not available");
}

#define tls_wrap NULL

#endif /* MLS_HAVE_TLS */

int gitstream_register(char *err, size_t errsz)
{
	git_stream_registration plain = { GIT_STREAM_VERSION, plain_init, NULL };
	git_stream_registration tls = { GIT_STREAM_VERSION, tls_init, tls_wrap };
	if (git_stream_register(GIT_STREAM_STANDARD, &plain) ||
			git_stream_register(GIT_STREAM_TLS, &tls)) {
		const git_error *e = git_error_last();
		snprintf(err, errsz, "cannot register the network streams: %s",
			e ? e->message : "libgit2 error");
		return -1;
	}
	return 0;
}

#endif /* MLS_HAVE_GIT */
