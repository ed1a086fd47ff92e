/* hd_ctl.c: httpd's side of the control protocol.
 *
 * One request connection (fd 3): requests go out in order, at most
 * HD_MAX_INFLIGHT at once (the rest wait here, at most HD_MAX_QUEUED),
 * and each reply goes to the callback of the oldest request sent (the
 * protocol answers in order). One `events` connection (opened with
 * `channel`): every event line is kept in a bounded backlog for
 * Last-Event-ID and written to each SSE client; a client that cannot take
 * it is dropped by httpsrv (its queue cap), never buffered here. Each log
 * follower has its own `logs -f` connection, opened with `channel` too. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cJSON.h"
#include "hd.h"
#include "jbuf.h"
#include "sse.h"

static void flush_queue(void);

/* ------------------------------------------------------------ requests */

static void fail_all(void)
{
	/* supervise is gone: every request gets a NULL reply */
	struct hd_pending *lists[2] = { HD.sent, HD.queue };
	HD.sent = HD.sent_tail = HD.queue = HD.queue_tail = NULL;
	HD.nsent = HD.nqueued = 0;
	for (int k = 0; k < 2; k++)
		for (struct hd_pending *p = lists[k], *n; p; p = n) {
			n = p->next;
			p->fn(p, NULL, 0);
			free(p);
		}
}

static void push(struct hd_pending **head, struct hd_pending **tail, int *n, struct hd_pending *p)
{
	p->next = NULL;
	if (*tail)
		(*tail)->next = p;
	else
		*head = p;
	*tail = p;
	(*n)++;
}

int hd_call(uint64_t req, const char *line, hd_reply_fn *fn, void *arg)
{
	size_t n = strlen(line);
	if (n + 1 > PROTO_MAX_LINE) {
		errno = E2BIG;
		return -1;
	}
	if (HD.nqueued >= HD_MAX_QUEUED) {
		errno = EAGAIN;
		return -1;
	}
	struct hd_pending *p = malloc(sizeof *p + n + 1);
	if (!p)
		return -1;
	p->next = NULL;
	p->fn = fn;
	p->req = req;
	p->arg = arg;
	memcpy(p->line, line, n + 1);
	push(&HD.queue, &HD.queue_tail, &HD.nqueued, p);
	flush_queue();
	return 0;
}

static void flush_queue(void)
{
	char err[CTLCLIENT_ERR_MAX];
	while (HD.queue && HD.nsent < HD_MAX_INFLIGHT && HD.ctl.fd >= 0) {
		struct hd_pending *p = HD.queue;
		HD.queue = p->next;
		if (!HD.queue)
			HD.queue_tail = NULL;
		HD.nqueued--;
		p->next = NULL;
		if (ctlclient_send_line(&HD.ctl, p->line, err, sizeof err) < 0) {
			if (errno == EPIPE || errno == ECONNRESET) {
				fprintf(stderr, "mls httpd: the supervisor is gone (%s)\n", err);
				free(p);
				fail_all();
				return;
			}
			/* refused before sending (a bad line): answer it as such */
			char r[CTLCLIENT_ERR_MAX + 64];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddBoolToObject(e, "ok", 0);
			cJSON_AddStringToObject(e, "error", err);
			char *t = cJSON_PrintUnformatted(e);
			snprintf(r, sizeof r, "%s", t ? t : "{\"ok\":false,\"error\":\"bad request\"}");
			free(t);
			cJSON_Delete(e);
			p->fn(p, r, strlen(r));
			free(p);
			continue;
		}
		push(&HD.sent, &HD.sent_tail, &HD.nsent, p);
	}
}

void hd_ctl_readable(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l; (void)id; (void)fd; (void)revents; (void)ctx;
	int rc = ctlclient_pump(&HD.ctl);
	int gone = rc == 0 || (rc < 0 && errno != EAGAIN);
	while (ctlclient_next_line(&HD.ctl) == 1) {
		struct hd_pending *p = HD.sent;
		if (!p)
			continue; /* nothing asked: not a reply of ours */
		HD.sent = p->next;
		if (!HD.sent)
			HD.sent_tail = NULL;
		HD.nsent--;
		p->fn(p, HD.ctl.line, HD.ctl.line_len);
		free(p);
	}
	if (gone) {
		fprintf(stderr, "mls httpd: the supervisor closed the control connection: exiting\n");
		loop_del_fd(HD.l, HD.ctl_id);
		ctlclient_close(&HD.ctl);
		fail_all();
		HD.stopping = 1;
		loop_stop(HD.l);
		return;
	}
	flush_queue();
}

/* ------------------------------------------------------------- backlog */

static void ring_drop_oldest(void)
{
	int i = HD.ring_start;
	HD.ring_bytes -= HD.ring[i].len;
	free(HD.ring[i].frame);
	HD.ring[i].frame = NULL;
	HD.ring_start = (i + 1) % HD_BACKLOG_EVENTS;
	HD.ring_n--;
}

static void ring_add(uint64_t seq, char *frame, size_t len)
{
	while (HD.ring_n && (HD.ring_n == HD_BACKLOG_EVENTS || HD.ring_bytes + len > HD_BACKLOG_BYTES))
		ring_drop_oldest();
	int i = (HD.ring_start + HD.ring_n) % HD_BACKLOG_EVENTS;
	HD.ring[i].seq = seq;
	HD.ring[i].frame = frame;
	HD.ring[i].len = len;
	HD.ring_bytes += len;
	HD.ring_n++;
}

/* ----------------------------------------------------------- SSE clients */

static struct hd_sse *sse_find(uint64_t req)
{
	for (struct hd_sse *c = HD.sse; c; c = c->next)
		if (c->req == req)
			return c;
	return NULL;
}

static void keepalive_cb(struct loop *l, int64_t id, void *ctx);

static void keepalive_arm(void)
{
	if (!HD.keepalive && HD.nsse > 0)
		HD.keepalive = loop_timer_at(HD.l, loop_now_ms() + HD_KEEPALIVE_MS, keepalive_cb, NULL);
	if (HD.keepalive < 0)
		HD.keepalive = 0;
}

static void sse_free(struct hd_sse *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		HD.sse = c->next;
	if (c->next)
		c->next->prev = c->prev;
	HD.nsse--;
	if (c->kind == HD_SSE_LOGS)
		HD.nlogtails--;
	if (c->log_id)
		loop_del_fd(HD.l, c->log_id);
	if (c->kind == HD_SSE_LOGS)
		ctlclient_close(&c->logc);
	free(c);
	if (HD.nsse == 0 && HD.keepalive) {
		loop_timer_cancel(HD.l, HD.keepalive);
		HD.keepalive = 0;
	}
}

/* Writes to one client; on a dropped one (ENOBUFS past its cap, or
 * gone) its state goes: httpsrv's close callback comes later with a
 * stale id, which finds nothing */
static int sse_write(struct hd_sse *c, const char *buf, size_t len)
{
	if (httpsrv_stream_write(HD.srv, c->req, buf, len) == 0)
		return 0;
	if (errno == ENOBUFS || errno == ENOMEM) {
		HD.sse_dropped++;
		fprintf(stderr, "mls httpd: an event stream client (%s) did not read: dropped (%llu so far)\n",
			c->kind == HD_SSE_LOGS ? c->name : "events", (unsigned long long)HD.sse_dropped);
	}
	sse_free(c);
	return -1;
}

static void keepalive_cb(struct loop *l, int64_t id, void *ctx)
{
	(void)l; (void)id; (void)ctx;
	HD.keepalive = 0;
	for (struct hd_sse *c = HD.sse, *n; c; c = n) {
		n = c->next;
		if (c->begun)
			sse_write(c, ": keepalive\n\n", 13);
	}
	keepalive_arm();
}

static struct hd_sse *sse_new(uint64_t req, int kind)
{
	struct hd_sse *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->req = req;
	c->kind = kind;
	c->logc.fd = -1;
	c->logc.passed_fd = -1;
	c->next = HD.sse;
	if (HD.sse)
		HD.sse->prev = c;
	HD.sse = c;
	HD.nsse++;
	if (kind == HD_SSE_LOGS)
		HD.nlogtails++;
	keepalive_arm();
	return c;
}

static const char SSE_HEADERS[] = "X-Accel-Buffering: no\r\n";

void hd_sse_events(uint64_t req, uint64_t last, int has_last)
{
	if (httpsrv_stream_begin(HD.srv, req, SSE_HEADERS) < 0)
		return;
	struct hd_sse *c = sse_new(req, HD_SSE_EVENTS);
	if (!c) {
		httpsrv_stream_end(HD.srv, req);
		return;
	}
	c->begun = 1;
	char hello[160];
	int n = snprintf(hello, sizeof hello, "retry: 2000\nevent: hello\ndata: {\"seq\":%llu,\"backlog_from\":%llu}\n\n",
		(unsigned long long)HD.last_seq,
		(unsigned long long)(HD.ring_n ? HD.ring[HD.ring_start].seq : HD.last_seq + 1));
	if (sse_write(c, hello, (size_t)n) < 0)
		return;
	if (!has_last)
		return;
	/* resume: everything after `last` that the backlog still holds; a
	 * gap (last older than the backlog) is said, so the client reloads
	 * the status instead of trusting a partial history */
	uint64_t oldest = HD.ring_n ? HD.ring[HD.ring_start].seq : HD.last_seq + 1;
	/* the replay must fit the client's queue with room to spare (httpsrv
	 * drops a client past HTTPSRV_MAX_OUT): only the newest events that
	 * take at most half of it, the rest is a gap too */
	int from = 0;
	size_t bytes = 0;
	for (int k = HD.ring_n - 1; k >= 0; k--) {
		int i = (HD.ring_start + k) % HD_BACKLOG_EVENTS;
		if (HD.ring[i].seq <= last)
			break;
		if (bytes + HD.ring[i].len > HTTPSRV_MAX_OUT / 2) {
			from = k + 1;
			oldest = HD.ring[(HD.ring_start + from) % HD_BACKLOG_EVENTS].seq;
			break;
		}
		bytes += HD.ring[i].len;
	}
	if (last + 1 < oldest) {
		n = snprintf(hello, sizeof hello, "event: gap\ndata: {\"after\":%llu,\"oldest\":%llu}\n\n",
			(unsigned long long)last, (unsigned long long)oldest);
		if (sse_write(c, hello, (size_t)n) < 0)
			return;
	}
	for (int k = from; k < HD.ring_n; k++) {
		int i = (HD.ring_start + k) % HD_BACKLOG_EVENTS;
		if (HD.ring[i].seq > last && sse_write(c, HD.ring[i].frame, HD.ring[i].len) < 0)
			return;
	}
}

/* An SSE frame for one line (malloc'd; lib/sse.c frames any bytes) */
static char *frame_of(const char *line, size_t len, uint64_t seq, const char *type, size_t *flen)
{
	struct jbuf b = {0};
	sse_frame(&b, seq, type, line, len);
	if (b.oom) {
		jb_free(&b);
		return NULL;
	}
	*flen = b.len;
	return b.p;
}

void hd_ev_readable(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l; (void)id; (void)fd; (void)revents; (void)ctx;
	int rc = ctlclient_pump(&HD.ev);
	int gone = rc == 0 || (rc < 0 && errno != EAGAIN);
	while (ctlclient_next_line(&HD.ev) == 1) {
		const char *line = HD.ev.line;
		size_t len = HD.ev.line_len;
		cJSON *j = cJSON_ParseWithLength(line, len);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "event");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seq");
		if (!cJSON_IsString(t) || !cJSON_IsNumber(s)) {
			cJSON_Delete(j);
			continue; /* the reply to `events`, or not an event */
		}
		uint64_t seq = (uint64_t)s->valuedouble;
		HD.last_seq = seq;
		size_t flen;
		char *f = frame_of(line, len, seq, t->valuestring, &flen);
		hd_api_event(line, len, seq);
		hd_deploy_event(j, line, len, seq);
		hd_notify_event(j);
		cJSON_Delete(j);
		if (!f)
			continue;
		for (struct hd_sse *c = HD.sse, *n; c; c = n) {
			n = c->next;
			if (c->kind == HD_SSE_EVENTS && c->begun)
				sse_write(c, f, flen);
		}
		ring_add(seq, f, flen);
	}
	if (gone) {
		fprintf(stderr, "mls httpd: the event stream ended: exiting\n");
		loop_del_fd(HD.l, HD.ev_id);
		ctlclient_close(&HD.ev);
		HD.stopping = 1;
		loop_stop(HD.l);
	}
}

/* ------------------------------------------------------------ log tails */

static void log_readable(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l; (void)id; (void)fd; (void)revents;
	uint64_t req = (uint64_t)(uintptr_t)ctx;
	struct hd_sse *c = sse_find(req);
	if (!c)
		return;
	int rc = ctlclient_pump(&c->logc);
	int gone = rc == 0 || (rc < 0 && errno != EAGAIN);
	while (ctlclient_next_line(&c->logc) == 1) {
		const char *line = c->logc.line;
		size_t len = c->logc.line_len;
		if (!c->begun) {
			/* the reply: an error (no such service) is the answer */
			cJSON *j = cJSON_ParseWithLength(line, len);
			const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
			if (!cJSON_IsTrue(ok)) {
				const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
				const char *msg = cJSON_IsString(e) ? e->valuestring : "bad reply";
				hd_error(req, hd_status_of(msg), msg, NULL);
				cJSON_Delete(j);
				sse_free(c);
				return;
			}
			if (httpsrv_stream_begin(HD.srv, req, SSE_HEADERS) < 0) {
				cJSON_Delete(j);
				sse_free(c);
				return;
			}
			c->begun = 1;
			const cJSON *ln;
			cJSON_ArrayForEach(ln, cJSON_GetObjectItemCaseSensitive(j, "lines")) {
				char *t = cJSON_PrintUnformatted(ln);
				size_t flen;
				char *f = t ? frame_of(t, strlen(t), 0, "log", &flen) : NULL;
				free(t);
				int bad = f && sse_write(c, f, flen) < 0;
				free(f);
				if (bad) {
					cJSON_Delete(j);
					return;
				}
			}
			cJSON_Delete(j);
			continue;
		}
		size_t flen;
		char *f = frame_of(line, len, 0, "log", &flen);
		int bad = f && sse_write(c, f, flen) < 0;
		free(f);
		if (bad)
			return;
	}
	if (gone) {
		if (c->begun)
			httpsrv_stream_end(HD.srv, req);
		else
			hd_error(req, 503, "the supervisor closed the log stream", NULL);
		sse_free(c);
	}
}

/* The reply to `channel` for a log tail: its fd is the new connection */
static void log_channel(struct hd_pending *p, const char *line, size_t len)
{
	(void)len;
	struct hd_sse *c = sse_find(p->req);
	int fd = line ? ctlclient_take_fd(&HD.ctl) : -1;
	if (!c || !line || !strstr(line, "\"ok\":true")) {
		if (fd >= 0)
			close(fd); /* the client left meanwhile, or no channel */
		if (c) {
			hd_error(p->req, 503, "cannot open a log stream to the supervisor", NULL);
			sse_free(c);
		}
		return;
	}
	char err[CTLCLIENT_ERR_MAX];
	char req[PROTO_MAX_LINE];
	snprintf(req, sizeof req, "logs -f %s %d", c->name, c->n);
	if (fd < 0 || ctlclient_adopt(&c->logc, fd, 0) < 0 ||
	    ctlclient_send_line(&c->logc, req, err, sizeof err) < 0 ||
	    (c->log_id = loop_add_fd(HD.l, c->logc.fd, POLLIN, log_readable, (void *)(uintptr_t)p->req)) < 0) {
		c->log_id = 0;
		hd_error(p->req, 503, "cannot open a log stream to the supervisor", NULL);
		sse_free(c);
	}
}

void hd_sse_logs(uint64_t req, const char *name, int n)
{
	/* each tail is a connection of supervise's (`channel`): HTTP clients
	 * must not take all of them from mls ctl and from httpd's restart */
	if (HD.nlogtails >= HD_MAX_LOG_TAILS) {
		hd_error(req, 503, "too many log streams open", "Retry-After: 1\r\n");
		return;
	}
	struct hd_sse *c = sse_new(req, HD_SSE_LOGS);
	if (!c) {
		hd_error(req, 503, "out of memory", NULL);
		return;
	}
	snprintf(c->name, sizeof c->name, "%s", name);
	c->n = n;
	if (hd_call(req, "channel", log_channel, NULL) < 0) {
		hd_error(req, 503, "too many requests waiting for the supervisor", "Retry-After: 1\r\n");
		sse_free(c);
	}
}

void hd_req_gone(uint64_t req)
{
	struct hd_sse *c = sse_find(req);
	if (c)
		sse_free(c);
	hd_api_gone(req);
}
