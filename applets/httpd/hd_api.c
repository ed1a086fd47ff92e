/* hd_api.c: the routes of mls httpd (docs/api.md): auth, then one or a
 * few control requests per HTTP request, and the answer made from their
 * replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cJSON.h"
#include "hd.h"
#include "jbuf.h"
#include "metrics.h"
#include "sse.h"

#ifndef MLS_VERSION
#define MLS_VERSION "0.0.0-unknown"
#endif
#ifndef MLS_ARCH
#define MLS_ARCH "unknown"
#endif

#define API_HEADERS "Cache-Control: no-store\r\n"
#define NAME_MAX_LEN 100

/* ------------------------------------------------------------ answers */

void hd_json(uint64_t req, int status, const char *body, size_t len, const char *headers)
{
	char h[HTTPSRV_MAX_EXTRA_HEADERS];
	snprintf(h, sizeof h, "%s%s", API_HEADERS, headers ? headers : "");
	struct httpsrv_resp r = { .status = status, .content_type = "application/json", .headers = h,
		.body = body, .body_len = len };
	if (httpsrv_respond(HD.srv, req, &r) < 0 && errno == EMSGSIZE) {
		static const char big[] = "{\"ok\":false,\"error\":\"answer too large\"}";
		r.status = 500;
		r.body = big;
		r.body_len = sizeof big - 1;
		httpsrv_respond(HD.srv, req, &r);
	}
}

void hd_text(uint64_t req, int status, const char *body)
{
	struct httpsrv_resp r = { .status = status, .content_type = "text/plain; charset=utf-8",
		.headers = API_HEADERS, .body = body, .body_len = strlen(body) };
	httpsrv_respond(HD.srv, req, &r);
}

void hd_error(uint64_t req, int status, const char *msg, const char *headers)
{
	struct jbuf b = {0};
	jb_puts(&b, "{\"ok\":false,\"error\":");
	jb_str(&b, msg);
	jb_puts(&b, "}");
	if (b.oom)
		hd_json(req, 500, "{\"ok\":false,\"error\":\"out of memory\"}", 36, NULL);
	else
		hd_json(req, status, b.p, b.len, headers);
	jb_free(&b);
}

int hd_status_of(const char *e)
{
	if (!strncmp(e, "no such ", 8))
		return 404;
	if (!strncmp(e, "not allowed", 11))
		return 403;
	if (!strncmp(e, "usage:", 6) || !strncmp(e, "unknown signal", 14))
		return 400;
	if (!strcmp(e, "shutting down"))
		return 503;
	if (!strncmp(e, "invalid config", 14))
		return 422;
	if (!strncmp(e, "bad ref", 7))
		return 400;
	/* deploy: not a service with git:, or mls-gitwatch is not running */
	if (strstr(e, "is not deployed from git") || strstr(e, "no deploy can be made now"))
		return 409;
	return 500;
}

/* A reply passed on as it is when ok, else its error with its status */
static void pass_reply(struct hd_pending *p, const char *line, size_t len)
{
	if (!line) {
		hd_error(p->req, 503, "the supervisor is not reachable", NULL);
		return;
	}
	cJSON *j = NULL;
	if (strncmp(line, "{\"ok\":true", 10)) {
		j = cJSON_ParseWithLength(line, len);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		int st = cJSON_IsString(e) ? hd_status_of(e->valuestring) : 502;
		hd_json(p->req, st, line, len, NULL);
		cJSON_Delete(j);
		return;
	}
	hd_json(p->req, 200, line, len, NULL);
}

void hd_api_pass(uint64_t req, const char *line, size_t len)
{
	struct hd_pending p = { .req = req };
	pass_reply(&p, line, len);
}

static void call(uint64_t req, const char *line, hd_reply_fn *fn, void *arg)
{
	if (hd_call(req, line, fn, arg) < 0)
		hd_error(req, 503, errno == E2BIG ? "request too long" : "too many requests waiting for the supervisor",
			"Retry-After: 1\r\n");
}

/* ----------------------------------------------- status, shared by many */

enum { ST_API, ST_METRICS, ST_READYZ, ST_HEALTHZ };

struct hd_status_waiter {
	struct hd_status_waiter *next;
	uint64_t req;
	int kind;
};

static void answer_status(uint64_t req, int kind, const char *line, size_t len, cJSON **j)
{
	if (!line) {
		if (kind == ST_HEALTHZ || kind == ST_READYZ)
			hd_text(req, 503, "the supervisor is not reachable\n");
		else
			hd_error(req, 503, "the supervisor is not reachable", NULL);
		return;
	}
	if (kind == ST_API) {
		hd_json(req, strncmp(line, "{\"ok\":true", 10) ? 502 : 200, line, len, NULL);
		return;
	}
	if (!*j)
		*j = cJSON_ParseWithLength(line, len);
	struct jbuf b = {0};
	if (kind == ST_METRICS) {
		struct host_stats h;
		host_stats_read(&h, "/proc", "/");
		if (metrics_render(&b, *j, &h, MLS_VERSION, MLS_ARCH) < 0 ||
		    (hd_deploy_metrics(&b), hd_notify_metrics(&b), b.oom)) {
			hd_text(req, 500, "cannot render the metrics\n");
		} else {
			struct httpsrv_resp r = { .status = 200, .content_type = "text/plain; version=0.0.4; charset=utf-8",
				.headers = API_HEADERS, .body = b.p, .body_len = b.len };
			httpsrv_respond(HD.srv, req, &r);
		}
	} else {
		struct jbuf c = {0};
		int ready = metrics_ready(*j, &c) == 1; /* -1: not a status reply, not ready */
		jb_printf(&b, "{\"ok\":%s,\"ready\":%s,\"not_ready\":%s}", ready ? "true" : "false",
			ready ? "true" : "false", c.p && !c.oom ? c.p : "[]");
		jb_free(&c);
		hd_json(req, ready ? 200 : 503, b.p, b.len, NULL);
	}
	jb_free(&b);
}

static void status_reply(struct hd_pending *p, const char *line, size_t len)
{
	(void)p;
	struct hd_status_waiter *w = HD.status_waiters;
	HD.status_waiters = NULL;
	HD.status_inflight = 0;
	cJSON *j = NULL;
	while (w) {
		struct hd_status_waiter *n = w->next;
		answer_status(w->req, w->kind, line, len, &j);
		free(w);
		w = n;
	}
	cJSON_Delete(j);
}

/* Every request for the whole status that comes while one `status` is
 * on its way shares its reply: a burst of scrapes or dashboards costs
 * supervise one status */
static void healthz_reply(struct hd_pending *p, const char *line, size_t len)
{
	(void)len;
	if (line && !strncmp(line, "{\"ok\":true", 10))
		hd_text(p->req, 200, "ok\n");
	else
		hd_text(p->req, 503, "the supervisor is not reachable\n");
}

static void want_status(uint64_t req, int kind)
{
	if (kind == ST_HEALTHZ) {
		call(req, "version", healthz_reply, NULL);
		return;
	}
	struct hd_status_waiter *w = malloc(sizeof *w);
	if (!w) {
		hd_error(req, 503, "out of memory", NULL);
		return;
	}
	w->req = req;
	w->kind = kind;
	w->next = HD.status_waiters;
	HD.status_waiters = w;
	if (HD.status_inflight)
		return;
	/* set first: a supervisor gone during the call answers (and clears
	 * it) from inside hd_call() */
	HD.status_inflight = 1;
	if (hd_call(0, "status", status_reply, NULL) < 0) {
		HD.status_inflight = 0;
		HD.status_waiters = w->next;
		free(w);
		hd_error(req, 503, "too many requests waiting for the supervisor", "Retry-After: 1\r\n");
	}
}


/* ---------------------------------------------------- one service */

struct svc_q {
	uint64_t req;
	int got;
	cJSON *status, *health, *history;
	char name[NAME_MAX_LEN + 1];
	struct svc_q *next;
};
static struct svc_q *svc_qs;

static void svc_q_free(struct svc_q *q)
{
	for (struct svc_q **pp = &svc_qs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	cJSON_Delete(q->status);
	cJSON_Delete(q->health);
	cJSON_Delete(q->history);
	free(q);
}

static void svc_part(struct hd_pending *p, const char *line, size_t len)
{
	struct svc_q *q = p->arg;
	cJSON *j = line ? cJSON_ParseWithLength(line, len) : NULL;
	if (!q->status)
		q->status = j ? j : cJSON_CreateNull();
	else if (!q->health)
		q->health = j ? j : cJSON_CreateNull();
	else
		q->history = j ? j : cJSON_CreateNull();
	if (++q->got < 3)
		return;
	if (!line) {
		hd_error(q->req, 503, "the supervisor is not reachable", NULL);
		svc_q_free(q);
		return;
	}
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(q->status, "ok");
	if (!cJSON_IsTrue(ok)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(q->status, "error");
		const char *m = cJSON_IsString(e) ? e->valuestring : "bad reply from the supervisor";
		hd_error(q->req, hd_status_of(m), m, NULL);
		svc_q_free(q);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "service", q->name);
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(q->status, "services");
	cJSON_AddItemToObject(o, "instances", v ? v : cJSON_CreateArray());
	v = cJSON_DetachItemFromObjectCaseSensitive(q->health, "health");
	cJSON_AddItemToObject(o, "health", v ? v : cJSON_CreateArray());
	v = cJSON_DetachItemFromObjectCaseSensitive(q->history, "history");
	cJSON_AddItemToObject(o, "history", v ? v : cJSON_CreateArray());
	char *t = cJSON_PrintUnformatted(o);
	if (t)
		hd_json(q->req, 200, t, strlen(t), NULL);
	else
		hd_error(q->req, 500, "out of memory", NULL);
	free(t);
	cJSON_Delete(o);
	svc_q_free(q);
}

static void get_service(uint64_t req, const char *name)
{
	struct svc_q *q = calloc(1, sizeof *q);
	if (!q) {
		hd_error(req, 503, "out of memory", NULL);
		return;
	}
	q->req = req;
	snprintf(q->name, sizeof q->name, "%s", name);
	q->next = svc_qs;
	svc_qs = q;
	char l1[PROTO_MAX_LINE], l2[PROTO_MAX_LINE], l3[PROTO_MAX_LINE];
	snprintf(l1, sizeof l1, "status %s", name);
	snprintf(l2, sizeof l2, "health %s", name);
	snprintf(l3, sizeof l3, "history %s", name);
	/* all three or none: HD_MAX_QUEUED leaves room for them or refuses the first */
	if (hd_call(req, l1, svc_part, q) < 0) {
		svc_q_free(q);
		hd_error(req, 503, "too many requests waiting for the supervisor", "Retry-After: 1\r\n");
		return;
	}
	if (hd_call(req, l2, svc_part, q) < 0)
		q->got++, q->health = cJSON_CreateNull();
	if (hd_call(req, l3, svc_part, q) < 0)
		q->got++, q->history = cJSON_CreateNull();
}

/* -------------------------------------------------------- mutations */

struct winst {
	char name[NAME_MAX_LEN + 16];
	char state[16];
	char reason[256];
	double pid;
	int done;
	int64_t settle_at;
};

struct hd_mwait {
	struct hd_mwait *next;
	uint64_t req;
	int stop;              /* stop's idea of final */
	uint64_t seq;
	struct winst *v;
	int n;
	int64_t deadline;
	int64_t timer;         /* the next of deadline and the settle times */
	char what[16];
};

static void mw_free(struct hd_mwait *w)
{
	for (struct hd_mwait **pp = &HD.waits; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->timer)
		loop_timer_cancel(HD.l, w->timer);
	free(w->v);
	free(w);
}

/* Final as mls ctl judges it (applets/ctl/ctl_wait.c): a stop ends in
 * stopped, exited or failed; a start in running for HD_SETTLE_MS, or in
 * failed, exited (a job's run), backoff (it crashed) or stopped */
static void judge(struct hd_mwait *w, struct winst *in, int64_t now)
{
	const char *s = in->state;
	in->settle_at = 0;
	if (w->stop)
		in->done = !strcmp(s, "stopped") || !strcmp(s, "exited") || !strcmp(s, "failed");
	else if (!strcmp(s, "running")) {
		in->done = 0;
		in->settle_at = now + HD_SETTLE_MS;
	} else
		in->done = !strcmp(s, "failed") || !strcmp(s, "exited") || !strcmp(s, "backoff") ||
			   !strcmp(s, "stopped");
}

static int inst_ok(const struct hd_mwait *w, const struct winst *in)
{
	if (w->stop)
		return strcmp(in->state, "failed") != 0;
	return !strcmp(in->state, "running") || !strcmp(in->state, "exited");
}

static void mw_answer(struct hd_mwait *w, int timed_out)
{
	struct jbuf b = {0};
	int ok = !timed_out;
	for (int k = 0; k < w->n; k++)
		if (!inst_ok(w, &w->v[k]))
			ok = 0;
	jb_printf(&b, "{\"ok\":%s", ok ? "true" : "false");
	if (timed_out)
		jb_puts(&b, ",\"error\":\"timed out waiting for the change\"");
	else if (!ok)
		jb_printf(&b, ",\"error\":\"%s did not complete\"", w->what);
	jb_puts(&b, ",\"instances\":[");
	for (int k = 0; k < w->n; k++) {
		const struct winst *in = &w->v[k];
		jb_puts(&b, k ? ",{\"name\":" : "{\"name\":");
		jb_str(&b, in->name);
		jb_puts(&b, ",\"state\":");
		jb_str(&b, in->state);
		jb_puts(&b, ",\"reason\":");
		jb_str(&b, in->reason[0] ? in->reason : NULL);
		if (in->pid >= 0)
			jb_printf(&b, ",\"pid\":%.0f}", in->pid);
		else
			jb_puts(&b, ",\"pid\":null}");
	}
	jb_puts(&b, "]}");
	if (b.oom)
		hd_error(w->req, 500, "out of memory", NULL);
	else
		hd_json(w->req, timed_out ? 504 : ok ? 200 : 500, b.p, b.len, NULL);
	jb_free(&b);
	mw_free(w);
}

static void mw_timer_cb(struct loop *l, int64_t id, void *ctx);

/* Answer when every instance is final; else wait for the nearest of the
 * deadline and the settle times */
static void mw_check(struct hd_mwait *w)
{
	int64_t now = loop_now_ms();
	int64_t next = w->deadline;
	int all = 1;
	for (int k = 0; k < w->n; k++) {
		struct winst *in = &w->v[k];
		if (in->settle_at && in->settle_at <= now) {
			in->settle_at = 0;
			in->done = 1;
		}
		if (!in->done) {
			all = 0;
			if (in->settle_at && in->settle_at < next)
				next = in->settle_at;
		}
	}
	if (all) {
		mw_answer(w, 0);
		return;
	}
	if (now >= w->deadline) {
		mw_answer(w, 1);
		return;
	}
	if (w->timer)
		loop_timer_cancel(HD.l, w->timer);
	w->timer = loop_timer_at(HD.l, next, mw_timer_cb, w);
	if (w->timer < 0)
		w->timer = 0;
}

static void mw_timer_cb(struct loop *l, int64_t id, void *ctx)
{
	(void)l; (void)id;
	struct hd_mwait *w = ctx;
	w->timer = 0;
	mw_check(w);
}

static void set_str(char *dst, size_t sz, const cJSON *v)
{
	snprintf(dst, sz, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

void hd_api_event(const char *line, size_t len, uint64_t seq)
{
	if (!HD.waits)
		return;
	cJSON *j = cJSON_ParseWithLength(line, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "event");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	if (cJSON_IsString(t) && cJSON_IsString(name) && !strcmp(t->valuestring, "state")) {
		int64_t now = loop_now_ms();
		for (struct hd_mwait *w = HD.waits, *n; w; w = n) {
			n = w->next;
			if (seq <= w->seq)
				continue;
			for (int k = 0; k < w->n; k++) {
				struct winst *in = &w->v[k];
				if (strcmp(in->name, name->valuestring))
					continue;
				set_str(in->state, sizeof in->state, cJSON_GetObjectItemCaseSensitive(j, "state"));
				set_str(in->reason, sizeof in->reason, cJSON_GetObjectItemCaseSensitive(j, "reason"));
				const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");
				in->pid = cJSON_IsNumber(pid) ? pid->valuedouble : -1;
				judge(w, in, now);
				mw_check(w);
				break;
			}
		}
	}
	cJSON_Delete(j);
}

/* The reply of start/stop/restart: the states right after acting */
static void mutation_reply(struct hd_pending *p, const char *line, size_t len)
{
	struct hd_mwait *w = p->arg;
	cJSON *j = line ? cJSON_ParseWithLength(line, len) : NULL;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
		cJSON_Delete(j);
		pass_reply(p, line, len);
		free(w);
		return;
	}
	if (!httpsrv_peer(HD.srv, p->req)) {
		/* the client left while the request waited: hd_api_gone() found
		 * no wait then, so none may start now (it would live until its
		 * deadline, up to HD_WAIT_MAX_MS, answering nobody) */
		cJSON_Delete(j);
		free(w);
		return;
	}
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
	const cJSON *insts = cJSON_GetObjectItemCaseSensitive(j, "instances");
	w->seq = cJSON_IsNumber(seq) ? (uint64_t)seq->valuedouble : 0;
	w->n = cJSON_GetArraySize(insts);
	w->v = calloc((size_t)(w->n ? w->n : 1), sizeof *w->v);
	if (!w->v) {
		cJSON_Delete(j);
		free(w);
		hd_error(p->req, 503, "out of memory", NULL);
		return;
	}
	int64_t now = loop_now_ms();
	int k = 0;
	const cJSON *in;
	cJSON_ArrayForEach(in, insts) {
		struct winst *x = &w->v[k++];
		set_str(x->name, sizeof x->name, cJSON_GetObjectItemCaseSensitive(in, "name"));
		set_str(x->state, sizeof x->state, cJSON_GetObjectItemCaseSensitive(in, "state"));
		set_str(x->reason, sizeof x->reason, cJSON_GetObjectItemCaseSensitive(in, "reason"));
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(in, "pid");
		x->pid = cJSON_IsNumber(pid) ? pid->valuedouble : -1;
		judge(w, x, now);
	}
	cJSON_Delete(j);
	w->next = HD.waits;
	HD.waits = w;
	mw_check(w);
}

static void mutate(uint64_t req, const char *what, const char *name, int64_t wait_ms)
{
	char line[PROTO_MAX_LINE];
	snprintf(line, sizeof line, "%s %s", what, name);
	if (wait_ms == 0) {
		call(req, line, pass_reply, NULL);
		return;
	}
	struct hd_mwait *w = calloc(1, sizeof *w);
	if (!w) {
		hd_error(req, 503, "out of memory", NULL);
		return;
	}
	w->req = req;
	w->stop = !strcmp(what, "stop");
	w->deadline = loop_now_ms() + wait_ms;
	snprintf(w->what, sizeof w->what, "%s", what);
	if (hd_call(req, line, mutation_reply, w) < 0) {
		free(w);
		hd_error(req, 503, "too many requests waiting for the supervisor", "Retry-After: 1\r\n");
	}
}

void hd_api_gone(uint64_t req)
{
	for (struct hd_mwait *w = HD.waits, *n; w; w = n) {
		n = w->next;
		if (w->req == req)
			mw_free(w);
	}
	struct hd_status_waiter **pp = (struct hd_status_waiter **)&HD.status_waiters;
	while (*pp) {
		if ((*pp)->req == req) {
			struct hd_status_waiter *d = *pp;
			*pp = d->next;
			free(d);
		} else
			pp = &(*pp)->next;
	}
	for (struct svc_q *q = svc_qs; q; q = q->next)
		if (q->req == req)
			q->req = 0; /* answered into the void; freed with its last part */
	hd_deploy_gone(req);
}

/* reload: ok, or the new config's errors (422) */
static void reload_reply(struct hd_pending *p, const char *line, size_t len)
{
	if (line && strncmp(line, "{\"ok\":true", 10) && strstr(line, "\"errors\"")) {
		hd_json(p->req, 422, line, len, NULL);
		return;
	}
	pass_reply(p, line, len);
}

/* ------------------------------------------------------------- auth */

/* Under TLS the __Host- prefix makes browsers refuse the cookie unless
 * it is Secure, Path=/ and without Domain: no subdomain can plant one */
static const char *cookie_name(void)
{
	return HD.tls_on ? "__Host-" HD_COOKIE : HD_COOKIE;
}

enum { ROLE_NONE = 0, ROLE_READ = HTTPAUTH_READ, ROLE_ADMIN = HTTPAUTH_ADMIN };

/* The role of a request: a Bearer token, else a session cookie (then
 * *by_cookie). Without any token configured everyone reads. -1: a token
 * was given and is wrong. */
static int role_of(const struct http_req *h, int *by_cookie)
{
	*by_cookie = 0;
	if (!HD.set.token && !HD.set.read_token)
		return ROLE_READ;
	const char *a = http_header(h, "Authorization");
	const char *tok;
	size_t len;
	if (a) {
		if (!httpauth_bearer(a, &tok, &len))
			return -1;
		/* both compared, whichever matches: the time does not say which */
		int admin = HD.set.token && httpauth_token_eq(tok, len, HD.set.token, strlen(HD.set.token));
		int read = HD.set.read_token && httpauth_token_eq(tok, len, HD.set.read_token, strlen(HD.set.read_token));
		return admin ? ROLE_ADMIN : read ? ROLE_READ : -1;
	}
	const char *ck = http_header(h, "Cookie");
	if (ck && httpauth_cookie_get(ck, cookie_name(), &tok, &len)) {
		int role = 0;
		if (httpauth_session_check(&HD.auth, tok, len, loop_now_ms() / 1000 + 0, &role)) {
			*by_cookie = 1;
			return role;
		}
		return ROLE_NONE; /* an expired session: log in again (not an attack) */
	}
	return ROLE_NONE;
}

/* Without a token anyone who reaches the loopback listener reads. A web
 * page can reach it too, by DNS rebinding (its own name resolving to
 * 127.0.0.1): its requests then carry that name in Host. So without a
 * token, Host must be an address or localhost (or absent: HTTP/1.0). */
static int host_is_local_name(const char *host)
{
	char h[64];
	size_t n;
	if (!host)
		return 1;
	if (host[0] == '[') {
		const char *e = strchr(host, ']');
		n = e ? (size_t)(e - host - 1) : 0;
		if (!e || n == 0 || n >= sizeof h || (e[1] && e[1] != ':'))
			return 0;
		memcpy(h, host + 1, n);
		h[n] = 0;
		struct in6_addr a6;
		return inet_pton(AF_INET6, h, &a6) == 1;
	}
	n = strcspn(host, ":");
	if (n == 0 || n >= sizeof h)
		return 0;
	memcpy(h, host, n);
	h[n] = 0;
	if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost."))
		return 1;
	struct in_addr a4;
	return inet_pton(AF_INET, h, &a4) == 1;
}

/* 401, or 429 once an address failed too often */
static int check_rate(uint64_t req, const char *peer)
{
	int retry = 0;
	if (httpauth_rl_check(&HD.rl, peer, loop_now_ms(), &retry)) {
		char h[64];
		snprintf(h, sizeof h, "Retry-After: %d\r\n", retry > 0 ? retry : 1);
		hd_error(req, 429, "too many failed attempts: wait", h);
		return 1;
	}
	return 0;
}

static void unauthorized(uint64_t req, const char *peer, const char *path, int bad)
{
	if (bad) {
		/* one line per address a minute, and one a second in all: a
		 * guessing client cannot fill the log, with many addresses
		 * (an IPv6 prefix) either */
		static int64_t last_line;
		static unsigned quiet_all;
		unsigned quiet = 0;
		int64_t now = loop_now_ms();
		httpauth_rl_fail(&HD.rl, peer, now);
		if (httpauth_rl_should_log(&HD.rl, peer, &quiet)) {
			if (last_line && now - last_line < 1000) {
				quiet_all += quiet + 1;
			} else {
				char more[96] = "";
				if (quiet || quiet_all)
					snprintf(more, sizeof more, " (%u more before, not logged)", quiet + quiet_all);
				fprintf(stderr, "mls httpd: bad token from %s for %s%s\n", peer, path, more);
				last_line = now;
				quiet_all = 0;
			}
		}
	}
	hd_error(req, 401, bad ? "bad token" : "a token is needed (Authorization: Bearer TOKEN)",
		"WWW-Authenticate: Bearer realm=\"mls\"\r\n");
}

/* POST /api/v1/login {"token":"..."}: a session cookie for its role */
static void login(const struct httpsrv_req *r)
{
	const struct http_req *h = r->http;
	if (check_rate(r->id, r->peer))
		return;
	/* a browser on another site must not log this one in (login CSRF);
	 * clients that send no Origin (curl) are not browsers */
	const char *origin = http_header(h, "Origin");
	if (origin && !httpauth_same_origin(origin, http_header(h, "Host"), r->tls)) {
		hd_error(r->id, 403, "cross-origin request refused (Origin does not match Host)", NULL);
		return;
	}
	cJSON *j = cJSON_ParseWithLength(h->body ? h->body : "", h->content_length);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
	int role = ROLE_NONE;
	if (cJSON_IsString(t)) {
		size_t len = strlen(t->valuestring);
		int admin = HD.set.token && httpauth_token_eq(t->valuestring, len, HD.set.token, strlen(HD.set.token));
		int read = HD.set.read_token &&
			   httpauth_token_eq(t->valuestring, len, HD.set.read_token, strlen(HD.set.read_token));
		role = admin ? ROLE_ADMIN : read ? ROLE_READ : ROLE_NONE;
	}
	cJSON_Delete(j);
	if (!HD.set.token && !HD.set.read_token) {
		hd_error(r->id, 400, "no token is configured: the API is open read-only, no login needed", NULL);
		return;
	}
	if (role == ROLE_NONE) {
		unauthorized(r->id, r->peer, h->path, 1);
		return;
	}
	char val[256], hdr[512];
	if (httpauth_session_make(&HD.auth, role, loop_now_ms() / 1000, HD_SESSION_TTL_S, val, sizeof val) < 0 ||
	    httpauth_set_cookie(hdr, sizeof hdr, cookie_name(), val, HD_SESSION_TTL_S, r->tls) < 0) {
		hd_error(r->id, 500, "cannot make a session", NULL);
		return;
	}
	char body[96];
	int n = snprintf(body, sizeof body, "{\"ok\":true,\"role\":\"%s\",\"expires_in\":%d}",
		role == ROLE_ADMIN ? "admin" : "read", HD_SESSION_TTL_S);
	hd_json(r->id, 200, body, (size_t)n, hdr);
}

static void logout(const struct httpsrv_req *r)
{
	char hdr[256];
	httpauth_set_cookie(hdr, sizeof hdr, cookie_name(), "", 0, r->tls);
	hd_json(r->id, 200, "{\"ok\":true}", 11, hdr);
}

/* ------------------------------------------------------------ routing */

/* a service or instance name as the protocol takes it (no blanks, no
 * control bytes, no '/'), or "all" */
static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* wait=0 answers at once; timeout=N (seconds) bounds the wait: def
 * when absent, at most max */
static int64_t wait_ms_of(const char *query, int64_t def, int64_t max)
{
	char v[32];
	if (http_query_get(query, "wait", v, sizeof v) >= 0 && (!strcmp(v, "0") || !strcmp(v, "false")))
		return 0;
	if (http_query_get(query, "timeout", v, sizeof v) > 0) {
		char *end;
		double s = strtod(v, &end);
		if (end != v && s > 0)
			return s * 1000 > max ? max : (int64_t)(s * 1000);
	}
	return def;
}

/* ?KEY=N: def when absent; -1 when not a number from min to max */
static int query_int(const char *query, const char *key, int def, int min, int max)
{
	char v[32];
	long r = http_query_get(query, key, v, sizeof v);
	if (r < 0)
		return errno == ENOENT ? def : -1;
	char *end;
	long x = strtol(v, &end, 10);
	if (r == 0 || *end || end == v || x < min || x > max)
		return -1;
	return (int)x;
}

static int query_true(const char *query, const char *key)
{
	char v[16];
	return http_query_get(query, key, v, sizeof v) >= 0 && strcmp(v, "0") && strcmp(v, "false");
}

/* /api/v1/services/NAME[/ACTION] -> name, action */
static int split_service(const char *path, char *name, size_t nsz, const char **action)
{
	const char *p = path + strlen("/api/v1/services/");
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	if (!name_ok(p, n) || n >= nsz)
		return -1;
	memcpy(name, p, n);
	name[n] = 0;
	*action = slash ? slash + 1 : "";
	return 0;
}

static void signal_svc(const struct httpsrv_req *r, const char *name)
{
	const struct http_req *h = r->http;
	cJSON *j = cJSON_ParseWithLength(h->body ? h->body : "", h->content_length);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "signal");
	char line[PROTO_MAX_LINE];
	if (!cJSON_IsString(s) || !name_ok(s->valuestring, strlen(s->valuestring))) {
		cJSON_Delete(j);
		hd_error(r->id, 400, "expected a JSON body {\"signal\":\"HUP\"}", NULL);
		return;
	}
	snprintf(line, sizeof line, "signal %s %s", s->valuestring, name);
	cJSON_Delete(j);
	call(r->id, line, pass_reply, NULL);
}

/* The permission bit an action needs from http.allow */
static proto_perm perm_of(const char *action)
{
	return proto_perm_of(action);
}

void hd_handle(struct httpsrv *s, const struct httpsrv_req *r, void *ctx)
{
	(void)s; (void)ctx;
	const struct http_req *h = r->http;
	const char *path = h->path;
	int get = h->method == HTTP_GET || h->method == HTTP_HEAD;
	int post = h->method == HTTP_POST;

	if (HD.stopping) {
		hd_error(r->id, 503, "shutting down", NULL);
		return;
	}
	if (hd_static(r)) /* the dashboard's files, /api/v1/session (hd_static.c) */
		return;
	/* the public ones first */
	int pub = -1;
	if (!strcmp(path, "/healthz"))
		pub = HD.set.public_healthz ? ST_HEALTHZ : -2;
	else if (!strcmp(path, "/readyz"))
		pub = HD.set.public_readyz ? ST_READYZ : -3;
	else if (!strcmp(path, "/metrics"))
		pub = HD.set.public_metrics ? ST_METRICS : -4;
	if (pub >= 0) {
		if (!get)
			hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
		else
			want_status(r->id, pub);
		return;
	}
	if (!strcmp(path, "/api/v1/logout") && post) {
		logout(r);
		return;
	}
	if (!strcmp(path, "/api/v1/login")) {
		if (post)
			login(r);
		else
			hd_error(r->id, 405, "method not allowed (use POST)", "Allow: POST\r\n");
		return;
	}

	/* an address that guessed wrong too often gets 429 whatever it sends
	 * now, so the answer cannot tell a right guess from a wrong one */
	if (http_header(h, "Authorization") && check_rate(r->id, r->peer))
		return;
	if (!HD.set.token && !HD.set.read_token && !host_is_local_name(http_header(h, "Host"))) {
		hd_error(r->id, 403,
			"no token is configured: the API answers only to Host 127.0.0.1, [::1] or localhost (DNS rebinding)",
			NULL);
		return;
	}
	int by_cookie;
	int role = role_of(h, &by_cookie);
	if (role <= 0) {
		unauthorized(r->id, r->peer, path, role < 0);
		return;
	}
	if (pub < -1) { /* a non-public /healthz, /readyz or /metrics with a token */
		if (!get)
			hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
		else
			want_status(r->id, pub == -2 ? ST_HEALTHZ : pub == -3 ? ST_READYZ : ST_METRICS);
		return;
	}
	if (post) {
		/* a browser's session must come from our own page (CSRF) */
		if (by_cookie && !httpauth_same_origin(http_header(h, "Origin"), http_header(h, "Host"), r->tls)) {
			hd_error(r->id, 403, "cross-origin request refused (Origin does not match Host)", NULL);
			return;
		}
	}

	if (!strcmp(path, "/api/v1/status") || !strcmp(path, "/api/v1/status/")) {
		if (!get)
			hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
		else
			want_status(r->id, ST_API);
		return;
	}
	if (!strcmp(path, "/api/v1/events")) {
		if (!get) {
			hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
			return;
		}
		const char *le = http_header(h, "Last-Event-ID");
		char q[32];
		if (!le && http_query_get(h->query, "last_event_id", q, sizeof q) > 0)
			le = q;
		uint64_t last = 0;
		int has = sse_last_id(le, &last);
		hd_sse_events(r->id, last, has);
		return;
	}
	if (!strcmp(path, "/api/v1/reload") || !strcmp(path, "/api/v1/shutdown")) {
		const char *what = path + strlen("/api/v1/");
		if (!post) {
			hd_error(r->id, 405, "method not allowed (use POST)", "Allow: POST\r\n");
			return;
		}
		if (role != ROLE_ADMIN || !(HD.set.allow & perm_of(what))) {
			char m[160];
			snprintf(m, sizeof m, "not allowed: %s (%s)", what,
				role != ROLE_ADMIN ? "this token is read-only" : "not in http.allow");
			hd_error(r->id, 403, m, NULL);
			return;
		}
		call(r->id, what, strcmp(what, "reload") ? pass_reply : reload_reply, NULL);
		return;
	}
	if (!strncmp(path, "/api/v1/services/", 17)) {
		char name[NAME_MAX_LEN + 1];
		const char *action;
		if (split_service(path, name, sizeof name, &action) < 0) {
			hd_error(r->id, 404, "no such service (bad name)", NULL);
			return;
		}
		if (!*action) {
			if (get)
				get_service(r->id, name);
			else
				hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
			return;
		}
		if (!strcmp(action, "config") && get) { /* the config as mls sees it, secrets masked */
			char line[PROTO_MAX_LINE];
			snprintf(line, sizeof line, "config %s", name);
			call(r->id, line, pass_reply, NULL);
			return;
		}
		if (!strcmp(action, "logs")) {
			if (!get) {
				hd_error(r->id, 405, "method not allowed (use GET)", "Allow: GET, HEAD\r\n");
				return;
			}
			int n = query_int(h->query, "n", PROTO_LOGS_DEFAULT, 1, 100000);
			if (n < 0) {
				hd_error(r->id, 400, "n: expected a number of lines from 1 to 100000", NULL);
				return;
			}
			if (query_true(h->query, "follow")) {
				/* the first batch must fit the client's queue */
				hd_sse_logs(r->id, name, n > HD_FOLLOW_MAX_LINES ? HD_FOLLOW_MAX_LINES : n);
				return;
			}
			char line[PROTO_MAX_LINE];
			snprintf(line, sizeof line, "logs %s %d", name, n);
			call(r->id, line, pass_reply, NULL);
			return;
		}
		if (!strcmp(action, "start") || !strcmp(action, "stop") || !strcmp(action, "restart") ||
		    !strcmp(action, "signal") || !strcmp(action, "deploy") || !strcmp(action, "rollback")) {
			if (!post) {
				hd_error(r->id, 405, "method not allowed (use POST)", "Allow: POST\r\n");
				return;
			}
			if (role != ROLE_ADMIN || !(HD.set.allow & perm_of(action))) {
				char m[160];
				snprintf(m, sizeof m, "not allowed: %s (%s)", action,
					role != ROLE_ADMIN ? "this token is read-only" : "not in http.allow");
				hd_error(r->id, 403, m, NULL);
				return;
			}
			if (!strcmp(action, "signal"))
				signal_svc(r, name);
			else if (!strcmp(action, "deploy") || !strcmp(action, "rollback"))
				hd_deploy(r, name, action[0] == 'r',
					wait_ms_of(h->query, HD_DEPLOY_WAIT_DEFAULT_MS, HD_DEPLOY_WAIT_MAX_MS));
			else
				mutate(r->id, action, name, wait_ms_of(h->query, HD_WAIT_DEFAULT_MS, HD_WAIT_MAX_MS));
			return;
		}
		hd_error(r->id, 404, "not found", NULL);
		return;
	}
	hd_error(r->id, 404, "not found", NULL);
}

void hd_on_close(struct httpsrv *s, uint64_t id, int why, void *ctx)
{
	(void)s; (void)why; (void)ctx;
	hd_req_gone(id);
}
