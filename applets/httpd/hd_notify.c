/* hd_notify.c: the webhooks of `notify:` (docs/config.md, "notify"),
 * sent by mls httpd, never by supervise.
 *
 * Every engine event from the `events` stream (hd_ctl.c) goes through
 * wh_map() (lib/webhook.h); each target that wants the webhook event and
 * the service gets a body in its queue (at most WH_QUEUE_MAX, the oldest
 * dropped and counted). A target sends at most WH_INFLIGHT requests at
 * once, each on its own non-blocking connection driven by the loop
 * (plain, or BearSSL's client engine with the target's CA file and the
 * URL's host as server name), one deadline (timeout) from connect to the
 * status line. 2xx/3xx: sent; other 4xx: failed; a connection error, a
 * timeout, 5xx, 408 or 429: the event goes back to the front of the queue
 * and the target waits 1 s, 5 s, then 30 s before its next request; after
 * the third retry the event is given up (failed).
 *
 * Host names are resolved once, at start-up (before the loop: a blocking
 * getaddrinfo, bounded by resolv.conf's timeouts); a target whose name did
 * not resolve tries again when it has something to send, at most once a
 * minute, and that lookup blocks httpd (never supervise). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cJSON.h"
#include "cafile.h"
#include "hd.h"
#include "metrics.h"
#include "webhook.h"
#if MLS_HAVE_TLS
#include <bearssl.h>
#include "tlsclient.h"
#endif

#define RESOLVE_RETRY_MS 60000
#define LOG_EVERY_MS     10000   /* one failure line per target this often */
#define READ_CHUNK       512

struct target {
	int idx;                 /* 1-based */
	struct http_url u;
	unsigned events;
	char **services, **headers;
	int nservices, nheaders;
	int format;
	char *secret, *ca_file;
	int64_t timeout_ms, heartbeat_ms;
	struct sockaddr_storage addr[4];  /* what the name resolved to */
	socklen_t alen[4];
	int naddr, cur;          /* a connection error moves on to the next */
	int resolved;
	int64_t resolve_at;
	struct ca_anchors *ca;   /* shared by targets with the same file */
	struct wh_queue q;
	int inflight;
	int64_t retry_at, retry_timer, hb_timer;
	int64_t last_log;
	unsigned long long sent, failed, dropped;
	int down;                /* the last attempt failed */
};

struct conn {
	struct target *t;
	struct wh_item *it;
	int fd;
	int64_t fd_id, timer;
	int connected;
	struct jbuf req;
	size_t off;
	struct http_status_rd rd;
#if MLS_HAVE_TLS
	struct {
		br_ssl_client_context sc;
		br_x509_minimal_context xc;
		unsigned char buf[BR_SSL_BUFSIZE_MONO];
	} *tls;
	int sent_all;
#endif
};

static struct target *targets;
static int ntargets;
static struct wh_track track;
static char hostname[256];
#if MLS_HAVE_TLS
static struct { char *path; struct ca_anchors a; } cas[NOTIFY_MAX_TARGETS];
static int ncas;
#endif

int hd_notify_count(void)
{
	return ntargets;
}

/* ------------------------------------------------------------ settings */

static char **str_list(const cJSON *arr, int *n)
{
	int cnt = cJSON_GetArraySize(arr), k = 0;
	char **v = calloc((size_t)cnt + 1, sizeof *v);
	const cJSON *it;
	if (!v)
		return NULL;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && k < cnt)
			v[k++] = strdup(it->valuestring);
	*n = k;
	return v;
}

static char *jdup(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int64_t jint(const cJSON *o, const char *k, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

int hd_notify_load(const cJSON *settings, char *err, size_t errsz)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(settings, "notify"), *o;
	int cnt = cJSON_GetArraySize(arr);
	if (cnt <= 0)
		return 0;
	if (cnt > NOTIFY_MAX_TARGETS)
		cnt = NOTIFY_MAX_TARGETS;
	targets = calloc((size_t)cnt, sizeof *targets);
	if (!targets) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(o, arr) {
		if (ntargets == cnt)
			break;
		struct target *t = &targets[ntargets];
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url"), *e;
		char uerr[256];
		if (!cJSON_IsString(url) || http_url_parse(url->valuestring, &t->u, uerr, sizeof uerr) < 0) {
			snprintf(err, errsz, "notify target %d: %s", ntargets + 1, cJSON_IsString(url) ? uerr : "no url");
			return -1;
		}
		t->idx = ntargets + 1;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "events"))
			for (int k = 0; cJSON_IsString(e) && k < NOTE_COUNT; k++)
				if (!strcmp(e->valuestring, notify_event_names[k]))
					t->events |= 1u << k;
		t->services = str_list(cJSON_GetObjectItemCaseSensitive(o, "services"), &t->nservices);
		t->headers = str_list(cJSON_GetObjectItemCaseSensitive(o, "headers"), &t->nheaders);
		char *fmt = jdup(o, "format");
		t->format = fmt && !strcmp(fmt, "slack") ? NOTIFY_SLACK : NOTIFY_JSON;
		free(fmt);
		t->secret = jdup(o, "secret");
		t->ca_file = jdup(o, "ca_file");
		t->timeout_ms = jint(o, "timeout_ms", NOTIFY_DEFAULT_TIMEOUT_MS);
		if (t->timeout_ms <= 0)
			t->timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
		t->heartbeat_ms = jint(o, "heartbeat_ms", 0);
		if (!t->services || !t->headers) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		ntargets++;
	}
	return 0;
}

static void logf_target(struct target *t, int always, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_target(struct target *t, int always, const char *fmt, ...)
{
	int64_t now = loop_now_ms();
	if (!always && t->last_log && now - t->last_log < LOG_EVERY_MS)
		return;
	t->last_log = now;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "mls httpd: notify %d (%s): %s\n", t->idx, t->u.host, msg);
}

static int resolve(struct target *t, char *err, size_t errsz)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	t->resolve_at = loop_now_ms() + RESOLVE_RETRY_MS;
	int r = getaddrinfo(t->u.host, t->u.port, &hints, &res);
	if (r) {
		snprintf(err, errsz, "cannot resolve %s: %s", t->u.host,
			r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	t->naddr = 0;
	for (struct addrinfo *ai = res; ai && t->naddr < 4; ai = ai->ai_next)
		if (ai->ai_addrlen <= sizeof t->addr[0]) {
			memcpy(&t->addr[t->naddr], ai->ai_addr, ai->ai_addrlen);
			t->alen[t->naddr++] = ai->ai_addrlen;
		}
	t->cur = 0;
	t->resolved = t->naddr > 0;
	freeaddrinfo(res);
	return 0;
}

int hd_notify_init(char *err, size_t errsz)
{
	if (gethostname(hostname, sizeof hostname) < 0)
		snprintf(hostname, sizeof hostname, "mls");
	hostname[sizeof hostname - 1] = 0;
	for (int k = 0; k < ntargets; k++) {
		struct target *t = &targets[k];
		char e[300];
#if !MLS_HAVE_TLS
		if (t->secret) {
			snprintf(err, errsz, "notify target %d: a secret needs HMAC-SHA256, and this build has no BearSSL (NO_TLS=1)",
				t->idx);
			return -1;
		}
#endif
		if (resolve(t, e, sizeof e) < 0)
			logf_target(t, 1, "%s (tried again when an event is due, at most once a minute)", e);
		if (!t->u.tls)
			continue;
#if MLS_HAVE_TLS
		const char *path = t->ca_file ? t->ca_file : NOTIFY_DEFAULT_CA;
		for (int c = 0; c < ncas && !t->ca; c++)
			if (!strcmp(cas[c].path, path))
				t->ca = &cas[c].a;
		if (!t->ca) {
			if (ca_load(path, &cas[ncas].a, e, sizeof e) < 0) {
				snprintf(err, errsz, "notify target %d: %s", t->idx, e);
				return -1;
			}
			cas[ncas].path = strdup(path);
			t->ca = &cas[ncas++].a;
		}
#else
		snprintf(err, errsz, "notify target %d: https:// needs TLS, and this build has none (NO_TLS=1)", t->idx);
		return -1;
#endif
	}
	return 0;
}

/* ---------------------------------------------------------- requests */

static void pump(struct target *t);

static void retry_cb(struct loop *l, int64_t id, void *ctx)
{
	(void)l; (void)id;
	struct target *t = ctx;
	t->retry_timer = 0;
	pump(t);
}

static void conn_free(struct conn *c)
{
	if (c->timer)
		loop_timer_cancel(HD.l, c->timer);
	if (c->fd_id)
		loop_close_fd(HD.l, c->fd_id);
	else if (c->fd >= 0)
		close(c->fd);
	jb_free(&c->req);
#if MLS_HAVE_TLS
	free(c->tls);
#endif
	c->t->inflight--;
	free(c);
}

enum { A_OK, A_FAIL, A_RETRY };

/* The end of one attempt */
static void finish(struct conn *c, int how, const char *why)
{
	struct target *t = c->t;
	struct wh_item *it = c->it;
	c->it = NULL;
	conn_free(c);
	if (how == A_OK) {
		t->sent++;
		if (t->down)
			logf_target(t, 1, "delivering again");
		t->down = 0;
		free(it);
	} else if (how == A_FAIL || it->attempts > WH_RETRIES) {
		t->failed++;
		t->down = how != A_OK;
		logf_target(t, 0, "%s event seq %llu given up: %s", wh_event_name(it->note) ? wh_event_name(it->note) : "an",
			(unsigned long long)it->seq, why);
		free(it);
	} else {
		int64_t delay = wh_retry_ms[it->attempts - 1];
		t->down = 1;
		logf_target(t, 0, "%s: retrying in %llds", why, (long long)(delay / 1000));
		struct wh_item *old = wh_queue_unshift(&t->q, it);
		if (old) {
			t->dropped++;
			free(old);
		}
		int64_t at = loop_now_ms() + delay;
		if (at > t->retry_at)
			t->retry_at = at;
	}
	pump(t);
}

static void conn_timeout(struct loop *l, int64_t id, void *ctx)
{
	(void)l; (void)id;
	struct conn *c = ctx;
	c->timer = 0;
	char why[64];
	snprintf(why, sizeof why, "no answer within %lldms", (long long)c->t->timeout_ms);
	finish(c, A_RETRY, why);
}

/* A status line is in: the outcome */
static void got_status(struct conn *c, int code)
{
	char why[64];
	snprintf(why, sizeof why, "HTTP %d", code);
	if (code >= 200 && code < 400)
		finish(c, A_OK, why);
	else
		finish(c, wh_status_retry(code) ? A_RETRY : A_FAIL, why);
}

/* Bytes of the response: 1 when the attempt ended (c is gone) */
static int feed(struct conn *c, const char *buf, size_t n)
{
	int code;
	char e[128];
	int r = http_status_feed(&c->rd, buf, n, &code, e, sizeof e);
	if (r == 1) {
		got_status(c, code);
		return 1;
	}
	if (r < 0) {
		finish(c, A_RETRY, e);
		return 1;
	}
	return 0;
}

static void plain_io(struct conn *c, int revents)
{
	if (c->off < c->req.len) {
		ssize_t n = send(c->fd, c->req.p + c->off, c->req.len - c->off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			finish(c, A_RETRY, strerror(errno));
			return;
		}
		if (n > 0)
			c->off += (size_t)n;
		loop_mod_fd(HD.l, c->fd_id, c->off < c->req.len ? POLLOUT : POLLIN);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	char buf[READ_CHUNK];
	ssize_t n = recv(c->fd, buf, sizeof buf, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		finish(c, A_RETRY, n < 0 ? strerror(errno) : "closed before the status line");
		return;
	}
	feed(c, buf, (size_t)n);
}

#if MLS_HAVE_TLS
static const char *tls_why(int e, char *buf, size_t sz)
{
	switch (e) {
	case BR_ERR_X509_NOT_TRUSTED: return "certificate not trusted (ca_file)";
	case BR_ERR_X509_BAD_SERVER_NAME: return "certificate does not match the host name";
	case BR_ERR_X509_EXPIRED: return "certificate expired or not yet valid";
	case BR_ERR_UNSUPPORTED_VERSION: return "the server does not speak TLS 1.2";
	}
	snprintf(buf, sz, "TLS failed (BearSSL error %d)", e);
	return buf;
}

/* Drive the engine as far as the socket lets it */
static void tls_io(struct conn *c)
{
	br_ssl_engine_context *eng = &c->tls->sc.eng;
	char eb[64];
	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED) {
			int e = br_ssl_engine_last_error(eng);
			finish(c, e == BR_ERR_X509_NOT_TRUSTED || e == BR_ERR_X509_BAD_SERVER_NAME ? A_FAIL : A_RETRY,
				e ? tls_why(e, eb, sizeof eb) : "closed before the status line");
			return;
		}
		size_t len;
		unsigned char *buf;
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				loop_mod_fd(HD.l, c->fd_id, POLLOUT);
				return;
			}
			if (n <= 0) {
				finish(c, A_RETRY, n < 0 ? strerror(errno) : "connection closed");
				return;
			}
			br_ssl_engine_sendrec_ack(eng, (size_t)n);
			continue;
		}
		if (st & BR_SSL_RECVAPP) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			br_ssl_engine_recvapp_ack(eng, len);
			if (feed(c, (const char *)buf, len))
				return;
			continue;
		}
		if ((st & BR_SSL_SENDAPP) && !c->sent_all) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			size_t k = c->req.len - c->off < len ? c->req.len - c->off : len;
			memcpy(buf, c->req.p + c->off, k);
			br_ssl_engine_sendapp_ack(eng, k);
			c->off += k;
			if (c->off == c->req.len) {
				c->sent_all = 1;
				br_ssl_engine_flush(eng, 0);
			}
			continue;
		}
		if (st & BR_SSL_RECVREC) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			ssize_t n = recv(c->fd, buf, len, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				loop_mod_fd(HD.l, c->fd_id, POLLIN);
				return;
			}
			if (n <= 0) {
				finish(c, A_RETRY, n < 0 ? strerror(errno) : "closed before the status line");
				return;
			}
			br_ssl_engine_recvrec_ack(eng, (size_t)n);
			continue;
		}
		/* nothing to do: wait for the peer */
		loop_mod_fd(HD.l, c->fd_id, POLLIN);
		return;
	}
}
#endif

static void conn_ready(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l; (void)id; (void)fd;
	struct conn *c = ctx;
	if (!c->connected) {
		int e = 0;
		socklen_t el = sizeof e;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e) {
			c->t->cur = c->t->naddr ? (c->t->cur + 1) % c->t->naddr : 0;
			finish(c, A_RETRY, strerror(e));
			return;
		}
		if (!(revents & POLLOUT))
			return;
		c->connected = 1;
	}
#if MLS_HAVE_TLS
	if (c->tls) {
		tls_io(c);
		return;
	}
#endif
	plain_io(c, revents);
}

static void start(struct target *t, struct wh_item *it)
{
	char why[400];
	t->inflight++;
	it->attempts++;
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		t->inflight--;
		t->failed++;
		free(it);
		return;
	}
	c->t = t;
	c->it = it;
	c->fd = -1;
	if (!t->resolved && (loop_now_ms() < t->resolve_at || resolve(t, why, sizeof why) < 0)) {
		if (loop_now_ms() < t->resolve_at)
			snprintf(why, sizeof why, "cannot resolve %s (tried again within a minute)", t->u.host);
		finish(c, A_RETRY, why);
		return;
	}
	char sig[WH_SIG_LEN + 1];
	int has_sig = t->secret && wh_sign(t->secret, strlen(t->secret), it->body, it->len, sig) == 0;
	if (wh_request(&c->req, &t->u, t->headers, t->nheaders, has_sig ? sig : NULL, MLS_VERSION, it->body,
		    it->len) < 0) {
		finish(c, A_FAIL, "out of memory");
		return;
	}
#if MLS_HAVE_TLS
	if (t->u.tls) {
		c->tls = malloc(sizeof *c->tls);
		if (!c->tls) {
			finish(c, A_RETRY, "out of memory");
			return;
		}
		tls_client_init(&c->tls->sc, &c->tls->xc, t->ca->ta, t->ca->n);
		br_ssl_engine_set_buffer(&c->tls->sc.eng, c->tls->buf, sizeof c->tls->buf, 0);
		if (!br_ssl_client_reset(&c->tls->sc, t->u.host, 0)) {
			finish(c, A_FAIL, "TLS setup failed");
			return;
		}
	}
#endif
	c->fd = socket(t->addr[t->cur].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		finish(c, A_RETRY, strerror(errno));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&t->addr[t->cur], t->alen[t->cur]) < 0 && errno != EINPROGRESS) {
		t->cur = (t->cur + 1) % t->naddr;
		finish(c, A_RETRY, strerror(errno));
		return;
	}
	c->fd_id = loop_add_fd(HD.l, c->fd, POLLOUT, conn_ready, c);
	c->timer = loop_timer_at(HD.l, loop_now_ms() + t->timeout_ms, conn_timeout, c);
	if (c->fd_id < 0 || c->timer < 0) {
		if (c->fd_id < 0)
			c->fd_id = 0;
		if (c->timer < 0)
			c->timer = 0;
		finish(c, A_RETRY, strerror(errno));
	}
}

static void pump(struct target *t)
{
	/* retry_at is checked before each start: an attempt that fails at
	 * once (a name that does not resolve) sets it from inside start() */
	while (t->q.n && t->inflight < WH_INFLIGHT) {
		if (loop_now_ms() < t->retry_at) {
			if (!t->retry_timer)
				t->retry_timer = loop_timer_at(HD.l, t->retry_at, retry_cb, t);
			if (t->retry_timer < 0)
				t->retry_timer = 0;
			return;
		}
		start(t, wh_queue_pop(&t->q));
	}
}

static void enqueue(struct target *t, unsigned note, uint64_t seq, const struct jbuf *b)
{
	struct wh_item *it = malloc(sizeof *it + b->len + 1);
	if (!it) {
		t->dropped++;
		return;
	}
	it->seq = seq;
	it->note = note;
	it->attempts = 0;
	it->len = b->len;
	memcpy(it->body, b->p, b->len);
	it->body[b->len] = 0;
	struct wh_item *old = wh_queue_push(&t->q, it);
	if (old) {
		t->dropped++;
		if (t->dropped == 1 || t->dropped % 1000 == 0)
			logf_target(t, 1, "queue full (%d events): the oldest dropped (%llu so far)", WH_QUEUE_MAX,
				t->dropped);
		free(old);
	}
	pump(t);
}

/* -------------------------------------------------------------- events */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void hd_notify_event(const cJSON *ev)
{
	if (!ntargets)
		return;
	unsigned notes = wh_map(&track, ev);
	if (!notes)
		return;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	uint64_t seq = cJSON_IsNumber(s) ? (uint64_t)s->valuedouble : 0;
	const char *svc = jstr(ev, "service"), *name = jstr(ev, "name");
	struct wh_origin o = { hostname, MLS_VERSION, MLS_ARCH };
	for (int bit = 0; bit < NOTE_COUNT; bit++) {
		unsigned note = 1u << bit;
		if (!(notes & note))
			continue;
		for (int k = 0; k < ntargets; k++) {
			struct target *t = &targets[k];
			if (!(t->events & note) || !wh_services_match(t->services, t->nservices, svc, name))
				continue;
			struct jbuf b = {0};
			if (wh_body(&b, t->format, note, ev, &o) == 0)
				enqueue(t, note, seq, &b);
			else
				t->dropped++;
			jb_free(&b);
		}
	}
}

/* ----------------------------------------------------------- heartbeat */

static void hb_arm(struct target *t);

static void hb_reply(struct hd_pending *p, const char *line, size_t len)
{
	struct target *t = p->arg;
	cJSON *st = line ? cJSON_ParseWithLength(line, len) : NULL;
	struct host_stats hs;
	host_stats_read(&hs, "/proc", "/");
	struct wh_origin o = { hostname, MLS_VERSION, MLS_ARCH };
	struct jbuf b = {0};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (wh_heartbeat_body(&b, t->format, st, &hs, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &o) == 0)
		enqueue(t, NOTE_HEARTBEAT, 0, &b);
	jb_free(&b);
	cJSON_Delete(st);
}

static void hb_cb(struct loop *l, int64_t id, void *ctx)
{
	(void)l; (void)id;
	struct target *t = ctx;
	t->hb_timer = 0;
	if (hd_call(0, "status", hb_reply, t) < 0)
		logf_target(t, 0, "heartbeat skipped: too many requests waiting for the supervisor");
	hb_arm(t);
}

static void hb_arm(struct target *t)
{
	if (t->heartbeat_ms > 0 && !t->hb_timer) {
		t->hb_timer = loop_timer_at(HD.l, loop_now_ms() + t->heartbeat_ms, hb_cb, t);
		if (t->hb_timer < 0)
			t->hb_timer = 0;
	}
}

void hd_notify_start(void)
{
	for (int k = 0; k < ntargets; k++) {
		struct target *t = &targets[k];
		fprintf(stderr, "mls httpd: notify %d: %s://%s:%s%s, %s%s\n", t->idx, t->u.tls ? "https" : "http",
			t->u.host, t->u.port, t->secret ? " (signed)" : "", t->format == NOTIFY_SLACK ? "slack" : "json",
			t->heartbeat_ms ? ", heartbeat" : "");
		hb_arm(t);
	}
}

int hd_notify_busy(void)
{
	for (int k = 0; k < ntargets; k++)
		if (targets[k].inflight || (targets[k].q.n && loop_now_ms() >= targets[k].retry_at))
			return 1;
	return 0;
}

/* ------------------------------------------------------------- metrics */

void hd_notify_metrics(struct jbuf *b)
{
	struct metrics_notify m[NOTIFY_MAX_TARGETS];
	for (int k = 0; k < ntargets; k++) {
		const struct target *t = &targets[k];
		m[k] = (struct metrics_notify){ t->u.host, t->sent, t->failed, t->dropped,
			(unsigned long long)(t->q.n + t->inflight) };
	}
	metrics_render_notify(b, m, ntargets);
}
