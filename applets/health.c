/* mls health: the curl-less probe for FROM-scratch images (issue 8, item 5).
 *
 *   mls health [-t TIMEOUT] [--expect CODE[,CODE]] [--ca FILE | --insecure] URL|HOST:PORT
 *       one HTTP(S) GET or one TCP connect, everything within TIMEOUT
 *   mls health [-t TIMEOUT] [-s SOCKET] [NAME...]
 *       asks the running supervisor (`status` over its control socket)
 *
 * Exit: 0 healthy, 1 unhealthy (one line on stderr per reason), 2 usage
 * (or a CA file that cannot be read), 3 the supervisor cannot be reached
 * (supervisor mode only, as mls ctl).
 *
 * Every wait is a poll() on a non-blocking socket against one absolute
 * deadline, TLS included (BearSSL's sslio with callbacks that poll). The
 * one wait without a deadline is getaddrinfo() for a name (musl's resolver
 * has its own timeouts, from resolv.conf); numeric hosts do not wait. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "applets.h"
#include "cafile.h"
#include "netconn.h"
#include "ctlclient.h"
#include "httpcheck.h"
#include "loop.h"
#include "parse.h"
#include "proto.h"

#if MLS_HAVE_TLS
#include <bearssl.h>
#include "tlsclient.h"
#endif

enum { H_OK = 0, H_UNHEALTHY = 1, H_USAGE = 2, H_UNREACHABLE = 3 };

#define HEALTH_TIMEOUT_MS 10000 /* default -t */
#define HEALTH_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define HEALTH_MAX_EXPECT 16     /* codes in --expect */

struct health {
	const char *target;   /* URL or HOST:PORT; NULL in supervisor mode */
	const char *timeout;  /* -t as given, for messages ("2s") */
	int64_t deadline;     /* absolute, loop_now_ms() clock */
	const char *ca;       /* --ca, NULL for the default */
	int insecure;         /* --insecure */
	int expect[HEALTH_MAX_EXPECT];
	int nexpect;          /* 0: 200-399 */
	const char *sock;     /* -s */
};

__attribute__((format(printf, 1, 2)))
static int usage(const char *fmt, ...)
{
	va_list ap;
	fputs("mls health: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return applet_usage("health", 1);
}

/* One line "mls health: TARGET: WHY"; returns H_UNHEALTHY */
__attribute__((format(printf, 2, 3)))
static int fail(const struct health *h, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "mls health: %s: ", h->target);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return H_UNHEALTHY;
}

/* ------------------------------------------------------------ waiting */

/* Waits until fd has `ev` or the deadline passes: 1 ready, 0 timed out,
 * -1 poll() failed (errno) */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - loop_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = ev };
		int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* --------------------------------------------------------------- TCP */

/* Connects to host:port within the deadline, trying each address in
 * turn. Returns a non-blocking socket, or -1 after printing why. */
static int tcp_connect(const struct health *h, const char *host, const char *port)
{
	int gai;
	int fd = netconn_tcp(host, port, h->deadline, &gai);
	if (fd >= 0)
		return fd;
	if (gai == EAI_NONAME || gai == EAI_NODATA)
		fail(h, "name not resolved: %s", host);
	else if (gai == EAI_SYSTEM)
		fail(h, "cannot resolve %s: %s", host, strerror(errno));
	else if (gai)
		fail(h, "cannot resolve %s: %s", host, gai_strerror(gai));
	else if (errno == ETIMEDOUT)
		fail(h, "timed out after %s (connecting)", h->timeout);
	else if (errno == ECONNREFUSED)
		fail(h, "connection refused");
	else
		fail(h, "cannot connect: %s", strerror(errno));
	return -1;
}

/* ---------------------------------------------------------- responses */

/* A status line read to its end: judge it */
static int judge(const struct health *h, int code)
{
	if (http_status_ok(code, h->expect, h->nexpect))
		return H_OK;
	return fail(h, "status %d", code);
}

/* n more bytes of the response: -1 to read on, or the exit status once
 * the status line has ended (judged) or is bad */
static int feed(const struct health *h, struct http_status_rd *rd, const char *buf, size_t n)
{
	char err[256];
	int code;
	int r = http_status_feed(rd, buf, n, &code, err, sizeof err);
	if (r > 0)
		return judge(h, code);
	if (r < 0)
		return fail(h, "%s", err);
	return -1;
}

/* The peer closed before the status line ended */
static int closed_early(const struct health *h, size_t got)
{
	if (!got)
		return fail(h, "connection closed without a response");
	return fail(h, "bad response: connection closed before the end of the status line");
}

/* -------------------------------------------------------------- HTTP */

static int http_plain(const struct health *h, const struct http_url *u,
	const char *req, size_t reqlen)
{
	int fd = tcp_connect(h, u->host, u->port);
	if (fd < 0)
		return H_UNHEALTHY;
	int rc = H_UNHEALTHY;
	size_t off = 0;
	while (off < reqlen) {
		/* send(), not write(): a peer that has closed gives EPIPE, not
		 * a SIGPIPE that would end mls health without a word */
		ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(fd, POLLOUT, h->deadline);
			if (r > 0)
				continue;
			if (r == 0)
				fail(h, "timed out after %s (sending the request)", h->timeout);
			else
				fail(h, "poll: %s", strerror(errno));
			goto out;
		}
		fail(h, "cannot send the request: %s", strerror(errno));
		goto out;
	}

	struct http_status_rd rd = { .len = 0 };
	char buf[HTTP_STATUS_MAX];
	size_t got = 0;
	for (;;) {
		int r = wait_fd(fd, POLLIN, h->deadline);
		if (r == 0) {
			fail(h, "timed out after %s (%s)", h->timeout,
				got ? "the status line did not end" : "no response");
			goto out;
		}
		if (r < 0) {
			fail(h, "poll: %s", strerror(errno));
			goto out;
		}
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail(h, errno == ECONNRESET ? "connection reset by the server"
				: "cannot read the response: %s", strerror(errno));
			goto out;
		}
		if (n == 0) {
			closed_early(h, got);
			goto out;
		}
		got += (size_t)n;
		int done = feed(h, &rd, buf, (size_t)n);
		if (done >= 0) {
			rc = done;
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* --------------------------------------------------------------- TLS */

#if MLS_HAVE_TLS

/* sslio's transport: a non-blocking socket polled against the deadline */
struct tls_io {
	int fd;
	int64_t deadline;
	int timed_out;   /* the deadline passed in a read or write */
	int err;         /* errno of a failed read or write, 0 for none */
	int eof;         /* the peer closed */
};

/* Wait for fd to be ready before the deadline; -1 with timed_out or err set */
static int io_wait(struct tls_io *io, int events)
{
	int r = wait_fd(io->fd, events, io->deadline);
	if (r > 0)
		return 0;
	if (r == 0)
		io->timed_out = 1;
	else
		io->err = errno;
	return -1;
}

static int tls_read(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_io *io = ctx;
	for (;;) {
		ssize_t n = read(io->fd, buf, len);
		if (n > 0)
			return (int)n;
		if (n == 0) {
			io->eof = 1;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			io->err = errno;
			return -1;
		}
		if (io_wait(io, POLLIN) < 0)
			return -1;
	}
}

static int tls_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_io *io = ctx;
	for (;;) {
		ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL); /* no SIGPIPE */
		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			io->err = errno;
			return -1;
		}
		if (io_wait(io, POLLOUT) < 0)
			return -1;
	}
}

/* --insecure: an X.509 "validator" that takes the server's key from its
 * first certificate and checks nothing else (chain, name, dates) */
struct x509_insecure {
	const br_x509_class *vtable;
	br_x509_decoder_context dc;
	int ncert;
};

static void xi_start_chain(const br_x509_class **ctx, const char *server_name)
{
	(void)server_name;
	((struct x509_insecure *)(void *)ctx)->ncert = 0;
}

static void xi_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct x509_insecure *x = (struct x509_insecure *)(void *)ctx;
	(void)length;
	if (x->ncert == 0)
		br_x509_decoder_init(&x->dc, NULL, NULL);
}

static void xi_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct x509_insecure *x = (struct x509_insecure *)(void *)ctx;
	if (x->ncert == 0)
		br_x509_decoder_push(&x->dc, buf, len);
}

static void xi_end_cert(const br_x509_class **ctx)
{
	((struct x509_insecure *)(void *)ctx)->ncert++;
}

static unsigned xi_end_chain(const br_x509_class **ctx)
{
	struct x509_insecure *x = (struct x509_insecure *)(void *)ctx;
	if (x->ncert == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	return br_x509_decoder_get_pkey(&x->dc) ? 0 : BR_ERR_X509_BAD_SIGNATURE;
}

static const br_x509_pkey *xi_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct x509_insecure *x = (struct x509_insecure *)(void *)ctx;
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&x->dc);
}

static const br_x509_class x509_insecure_vtable = {
	sizeof(struct x509_insecure),
	xi_start_chain, xi_start_cert, xi_append, xi_end_cert, xi_end_chain,
	xi_get_pkey
};

/* Why the TLS exchange failed, in words */
static int tls_fail(const struct health *h, const struct http_url *u,
	const struct tls_io *io, int brerr, size_t got, const char *ca)
{
	if (io->timed_out)
		return fail(h, "timed out after %s (%s)", h->timeout,
			got ? "the status line did not end" : "TLS handshake or no response");
	switch (brerr) {
	case BR_ERR_OK:
		break;
	case BR_ERR_X509_NOT_TRUSTED:
		return fail(h, "certificate not trusted (CA file %s)", ca);
	case BR_ERR_X509_BAD_SERVER_NAME:
		return fail(h, "certificate does not match the server name %s%s", u->host,
			strchr(u->host, ':') || strspn(u->host, "0123456789.") == strlen(u->host)
			? " (only DNS names in the certificate are checked: use the name)" : "");
	case BR_ERR_X509_EXPIRED:
		return fail(h, "certificate expired or not yet valid");
	case BR_ERR_UNSUPPORTED_VERSION:
		return fail(h, "TLS handshake failed: the server does not speak TLS 1.2");
	case BR_ERR_IO:
		break;
	default:
		if (brerr >= BR_ERR_SEND_FATAL_ALERT)
			return fail(h, "TLS handshake failed (sent alert %d)", brerr - BR_ERR_SEND_FATAL_ALERT);
		if (brerr >= BR_ERR_RECV_FATAL_ALERT)
			return fail(h, "TLS handshake failed: the server sent alert %d",
				brerr - BR_ERR_RECV_FATAL_ALERT);
		if (brerr >= 32 && brerr < 64)
			return fail(h, "certificate refused (BearSSL X.509 error %d)", brerr);
		return fail(h, "TLS failed (BearSSL error %d)", brerr);
	}
	if (io->err == ECONNRESET)
		return fail(h, "connection reset by the server");
	if (io->err)
		return fail(h, "TLS: %s", strerror(io->err));
	if (io->eof)
		return closed_early(h, got);
	return fail(h, "TLS failed");
}

static int http_tls(const struct health *h, const struct http_url *u,
	const char *req, size_t reqlen)
{
	/* about 33 KiB of engine buffers and 4 KiB of X.509 state: static,
	 * mls health runs one check and exits */
	static br_ssl_client_context sc;
	static br_x509_minimal_context xc;
	static struct x509_insecure xi;
	static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
	static struct ca_anchors anchors; /* lives until exit: mls health is short-lived */
	const char *ca = h->ca ? h->ca : HEALTH_CA_FILE;

	char caerr[512];
	if (!h->insecure && ca_load(ca, &anchors, caerr, sizeof caerr)) {
		fprintf(stderr, "mls health: %s (--ca FILE or --insecure)\n", caerr);
		return H_USAGE;
	}
	tls_client_init(&sc, &xc, (const br_x509_trust_anchor *)anchors.ta, anchors.n);
	if (h->insecure) {
		fprintf(stderr, "mls health: %s: --insecure: the server's certificate is not verified\n",
			h->target);
		xi.vtable = &x509_insecure_vtable;
		br_ssl_engine_set_x509(&sc.eng, &xi.vtable);
	}
	br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
	if (!br_ssl_client_reset(&sc, u->host, 0))
		return fail(h, "TLS setup failed (BearSSL error %d)", br_ssl_engine_last_error(&sc.eng));

	int fd = tcp_connect(h, u->host, u->port);
	if (fd < 0)
		return H_UNHEALTHY;
	struct tls_io io = { .fd = fd, .deadline = h->deadline };
	br_sslio_context ioc;
	br_sslio_init(&ioc, &sc.eng, tls_read, &io, tls_write, &io);

	int rc = H_UNHEALTHY;
	size_t got = 0;
	if (br_sslio_write_all(&ioc, req, reqlen) || br_sslio_flush(&ioc)) {
		tls_fail(h, u, &io, br_ssl_engine_last_error(&sc.eng), 0, ca);
		goto out;
	}
	struct http_status_rd rd = { .len = 0 };
	char buf[HTTP_STATUS_MAX];
	for (;;) {
		int n = br_sslio_read(&ioc, buf, sizeof buf);
		if (n < 0) {
			tls_fail(h, u, &io, br_ssl_engine_last_error(&sc.eng), got, ca);
			goto out;
		}
		got += (size_t)n;
		int done = feed(h, &rd, buf, (size_t)n);
		if (done >= 0) {
			rc = done;
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

#endif /* MLS_HAVE_TLS */

/* ------------------------------------------------------------- probes */

static int probe_url(const struct health *h)
{
	struct http_url u;
	char err[256], req[4400];

	if (http_url_parse(h->target, &u, err, sizeof err))
		return usage("%s", err);
	if (!u.tls && (h->ca || h->insecure))
		return usage("--ca and --insecure are for https:// URLs");
	int n = http_request(&u, MLS_VERSION, req, sizeof req);
	if (n < 0)
		return usage("%s: request too long", h->target);
#if MLS_HAVE_TLS
	if (u.tls)
		return http_tls(h, &u, req, (size_t)n);
#else
	if (u.tls)
		return fail(h, "this build has no TLS (built with NO_TLS=1)");
#endif
	return http_plain(h, &u, req, (size_t)n);
}

static int probe_tcp(const struct health *h)
{
	char host[256], port[8], err[256];

	if (hostport_parse(h->target, host, sizeof host, port, sizeof port, err, sizeof err))
		return usage("%s", err);
	if (h->ca || h->insecure || h->nexpect)
		return usage("--ca, --insecure and --expect are for http(s):// URLs");
	int fd = tcp_connect(h, host, port);
	if (fd < 0)
		return H_UNHEALTHY;
	close(fd);
	return H_OK;
}

/* --------------------------------------------------------- supervisor */

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Asks the supervisor for `status NAMES...` and judges each instance:
 * healthy when `running` and its health is not "unhealthy". Without
 * names, jobs and instances stopped by request are left out; a job named
 * explicitly is unhealthy only when it has failed or backs off. */
static int ask_supervisor(const struct health *h, char **names, int nnames)
{
	struct ctlclient k;
	char err[CTLCLIENT_ERR_MAX];
	const char *sock = h->sock;
	if (!sock || !*sock)
		sock = getenv("MLS_SOCKET");
	if (!sock || !*sock)
		sock = PROTO_DEFAULT_SOCKET;

	char **words = calloc((size_t)nnames + 1, sizeof *words);
	if (!words) {
		fprintf(stderr, "mls health: out of memory\n");
		return H_UNHEALTHY;
	}
	words[0] = "status";
	for (int i = 0; i < nnames; i++)
		words[i + 1] = names[i];
	int bad;
	if (ctlclient_check_words(words, nnames + 1, &bad, NULL, 0)) {
		free(words);
		return usage("'%s': not a service name", names[bad - 1]);
	}
	if (ctlclient_connect(&k, sock, 0, err, sizeof err)) {
		if (k.connect_failed)
			fprintf(stderr, "mls health: %s (is mls supervise running? -s SOCKET or $MLS_SOCKET)\n", err);
		else if (errno == ENAMETOOLONG)
			fprintf(stderr, "mls health: %s: %s\n", err, sock);
		else
			fprintf(stderr, "mls health: %s\n", err);
		free(words);
		return H_UNREACHABLE;
	}
	int rc = ctlclient_send(&k, words, nnames + 1, err, sizeof err);
	free(words);
	if (rc) {
		fprintf(stderr, "mls health: %s\n", err);
		ctlclient_close(&k);
		return errno == E2BIG || errno == EMSGSIZE || errno == EINVAL ? H_USAGE : H_UNREACHABLE;
	}
	int r = ctlclient_read_line(&k, h->deadline);
	if (r <= 0) {
		if (r == 0)
			fprintf(stderr, "mls health: the supervisor closed the connection without a reply\n");
		else if (errno == ETIMEDOUT)
			fprintf(stderr, "mls health: no reply from the supervisor within %s\n", h->timeout);
		else
			fprintf(stderr, "mls health: cannot read the reply: %s\n", strerror(errno));
		ctlclient_close(&k);
		return H_UNREACHABLE;
	}
	cJSON *j = cJSON_Parse(k.line);
	ctlclient_close(&k);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		fprintf(stderr, "mls health: the supervisor sent a reply that is not a JSON object\n");
		return H_UNHEALTHY;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
		const char *msg = jstr(j, "error");
		fprintf(stderr, "mls health: %s\n", msg ? msg : "the supervisor refused (no message)");
		cJSON_Delete(j);
		return H_UNHEALTHY;
	}
	rc = H_OK;
	const cJSON *sv = cJSON_GetObjectItemCaseSensitive(j, "supervisor");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sv, "shutting_down"))) {
		fprintf(stderr, "mls health: the supervisor is shutting down\n");
		rc = H_UNHEALTHY;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "services")) {
		const char *name = jstr(e, "name"), *state = jstr(e, "state");
		const char *health = jstr(e, "health"), *reason = jstr(e, "reason");
		const cJSON *inst = cJSON_GetObjectItemCaseSensitive(e, "instance");
		int job = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "job"));
		if (!name || !state)
			continue;
		if (!nnames && (job || !strcmp(state, "stopped")))
			continue;
		const char *why = NULL;
		if (job) {
			if (!strcmp(state, "failed") || !strcmp(state, "backoff"))
				why = state;
		} else if (strcmp(state, "running"))
			why = state;
		if (!why && health && !strcmp(health, "unhealthy"))
			why = "unhealthy";
		if (!why)
			continue;
		rc = H_UNHEALTHY;
		fprintf(stderr, "mls health: %s.%d: %s", name,
			cJSON_IsNumber(inst) ? inst->valueint : 1, why);
		if (reason && *reason)
			fprintf(stderr, " (%s)", reason);
		fputc('\n', stderr);
	}
	cJSON_Delete(j);
	return rc;
}

/* --------------------------------------------------------------- main */

/* "200,204" into h->expect */
static int parse_expect(struct health *h, const char *s)
{
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, ",");
		char one[8];
		int64_t v;
		if (n == 0 || n >= sizeof one)
			return -1;
		memcpy(one, p, n);
		one[n] = 0;
		if (parse_int(one, 100, 599, &v) || h->nexpect == HEALTH_MAX_EXPECT)
			return -1;
		h->expect[h->nexpect++] = (int)v;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int health_main(int argc, char **argv)
{
	struct health h = { .timeout = "10s" };
	int64_t timeout_ms = HEALTH_TIMEOUT_MS;
	char **names = calloc((size_t)argc + 1, sizeof *names);
	int nnames = 0, dashdash = 0, rc;
	const char *target = NULL;

	if (!names) {
		fprintf(stderr, "mls health: out of memory\n");
		return H_UNHEALTHY;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!dashdash && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--")) {
				dashdash = 1;
				continue;
			}
			if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
				free(names);
				return applet_usage("health", 0);
			}
			if (!strcmp(a, "--insecure")) {
				h.insecure = 1;
				continue;
			}
			int takes = !strcmp(a, "-t") || !strcmp(a, "--timeout") ||
				!strcmp(a, "--ca") || !strcmp(a, "--expect") ||
				!strcmp(a, "-s") || !strcmp(a, "--socket");
			if (!takes) {
				rc = usage("unknown option '%s'", a);
				goto done;
			}
			if (!val) {
				rc = usage("%s needs a value", a);
				goto done;
			}
			i++;
			if (a[1] == 't' || !strcmp(a, "--timeout")) {
				if (parse_duration(val, &timeout_ms) || timeout_ms <= 0) {
					rc = usage("-t: '%s' is not a duration above 0 (e.g. 2s, 500ms)", val);
					goto done;
				}
				h.timeout = val;
			} else if (!strcmp(a, "--ca"))
				h.ca = val;
			else if (!strcmp(a, "--expect")) {
				if (parse_expect(&h, val)) {
					rc = usage("--expect: '%s' is not a list of status codes (e.g. 200,204; each 100-599, at most %d)",
						val, HEALTH_MAX_EXPECT);
					goto done;
				}
			} else
				h.sock = val;
			continue;
		}
		/* a URL or HOST:PORT (a name holds neither "://" nor ':') */
		if (strchr(a, ':')) {
			if (target) {
				rc = usage("one URL or HOST:PORT at a time");
				goto done;
			}
			target = a;
		} else
			names[nnames++] = argv[i];
	}
	if (h.ca && h.insecure) {
		rc = usage("--ca and --insecure exclude each other");
		goto done;
	}
	h.deadline = loop_now_ms() + timeout_ms;
	if (target) {
		if (nnames || h.sock) {
			rc = usage("a URL or HOST:PORT goes without NAMEs and -s");
			goto done;
		}
		h.target = target;
		rc = strstr(target, "://") ? probe_url(&h) : probe_tcp(&h);
	} else {
		if (h.ca || h.insecure || h.nexpect) {
			rc = usage("--ca, --insecure and --expect need a URL");
			goto done;
		}
		rc = ask_supervisor(&h, names, nnames);
	}
done:
	free(names);
	return rc;
}
