/* hd_deploy.c: POST /api/v1/services/NAME/deploy and /rollback
 * (docs/api.md), and the mls_deploys_total counters of /metrics.
 *
 * supervise answers `deploy NAME [REF]` / `rollback NAME` as soon as it
 * has handed the request to gitwatch (the event deploy_request or
 * rollback_request, whose seq the reply carries); the outcome comes later
 * on the event stream httpd reads anyway: deployed, up_to_date,
 * rolled_back or deploy_failed, with the service's name. A wait is the
 * first such event of the service after the request's seq.
 *
 * The control reply and the events come on two connections: an outcome
 * that gitwatch sends at once (a bad ref, nothing new) may be read before
 * the reply. So a wait exists from before the request is sent, and while
 * its seq is unknown it keeps the outcome events of its service (at most
 * DW_EARLY; the one right after its seq is among the first few).
 *
 * Bounded: at most HD_MAX_DEPLOY_WAITS waits (503 past it), each with a
 * deadline; the counters hold at most DC_MAX services. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "hd.h"
#include "jbuf.h"

#define DW_EARLY 4
#define REF_MAX  200

struct hd_dwait {
	struct hd_dwait *next;
	uint64_t req;            /* 0: the client left */
	int rollback;
	int replied;             /* the control reply came: seq is known */
	uint64_t seq;
	int64_t deadline, timer;
	char name[128];
	int nearly;
	struct { uint64_t seq; char *line; size_t len; } early[DW_EARLY];
};

static struct hd_dwait *dwaits;
static int ndwaits;

static void dw_free(struct hd_dwait *w)
{
	for (struct hd_dwait **pp = &dwaits; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			ndwaits--;
			break;
		}
	if (w->timer)
		loop_timer_cancel(HD.l, w->timer);
	for (int k = 0; k < w->nearly; k++)
		free(w->early[k].line);
	free(w);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The outcome types; *good: what the request asked for happened */
static int is_outcome(const char *type, int rollback, int *good)
{
	if (!type)
		return 0;
	if (!strcmp(type, "rolled_back") || !strcmp(type, "deploy_failed")) {
		*good = rollback && type[0] == 'r';
		return 1;
	}
	/* a rollback is not answered by a deploy that ends meanwhile (a
	 * poll's): its own rolled_back comes */
	if (!rollback && (!strcmp(type, "deployed") || !strcmp(type, "up_to_date"))) {
		*good = 1;
		return 1;
	}
	return 0;
}

/* The answer: 200 when it happened, 409 when not (rolled back, failed),
 * with the event as it came */
static void dw_answer(struct hd_dwait *w, const char *line, size_t len)
{
	cJSON *e = cJSON_ParseWithLength(line, len);
	const char *type = jstr(e, "event"), *msg = jstr(e, "message");
	const char *rev = jstr(e, "revision"), *from = jstr(e, "from");
	int good = 0;
	is_outcome(type, w->rollback, &good);
	struct jbuf b = {0};
	jb_printf(&b, "{\"ok\":%s,\"result\":", good ? "true" : "false");
	jb_str(&b, type);
	jb_puts(&b, ",\"service\":");
	jb_str(&b, w->name);
	jb_puts(&b, ",\"revision\":");
	jb_str(&b, rev);
	if (!good || (type && !strcmp(type, "rolled_back"))) {
		char m[600];
		if (type && !strcmp(type, "rolled_back"))
			snprintf(m, sizeof m, "rolled back from %.7s to %.7s%s%.500s", from ? from : "?", rev ? rev : "?",
				msg ? ": " : "", msg ? msg : "");
		else
			snprintf(m, sizeof m, "%s failed%s%.500s", w->rollback ? "rollback" : "deploy", msg ? ": " : "",
				msg ? msg : "");
		jb_puts(&b, good ? ",\"message\":" : ",\"error\":");
		jb_str(&b, m);
	}
	jb_puts(&b, ",\"event\":");
	jb_raw(&b, line, len);
	jb_puts(&b, "}");
	if (b.oom)
		hd_error(w->req, 500, "out of memory", NULL);
	else
		hd_json(w->req, good ? 200 : 409, b.p, b.len, NULL);
	jb_free(&b);
	cJSON_Delete(e);
	dw_free(w);
}

static void dw_timeout(struct loop *l, int64_t id, void *ctx)
{
	(void)l; (void)id;
	struct hd_dwait *w = ctx;
	w->timer = 0;
	struct jbuf b = {0};
	jb_puts(&b, "{\"ok\":false,\"error\":");
	char m[300];
	snprintf(m, sizeof m, "no outcome within the timeout: the %s goes on (GET /api/v1/services/%s)",
		w->rollback ? "rollback" : "deploy", w->name);
	jb_str(&b, m);
	jb_printf(&b, ",\"requested\":\"%s\",\"seq\":%llu}", w->rollback ? "rollback" : "deploy",
		(unsigned long long)w->seq);
	if (b.oom)
		hd_error(w->req, 504, "no outcome within the timeout", NULL);
	else
		hd_json(w->req, 504, b.p, b.len, NULL);
	jb_free(&b);
	dw_free(w);
}

/* The control reply: an error is the answer; else the outcome may have
 * come already, or the wait begins */
static void dw_reply(struct hd_pending *p, const char *line, size_t len)
{
	struct hd_dwait *w = p->arg;
	cJSON *j = line ? cJSON_ParseWithLength(line, len) : NULL;
	int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
	w->seq = cJSON_IsNumber(seq) ? (uint64_t)seq->valuedouble : 0;
	cJSON_Delete(j);
	w->replied = 1;
	if (!w->req || !httpsrv_peer(HD.srv, w->req)) {
		dw_free(w); /* the client left while the request waited */
		return;
	}
	if (!ok) {
		hd_api_pass(p->req, line, len);
		dw_free(w);
		return;
	}
	for (int k = 0; k < w->nearly; k++)
		if (w->early[k].seq > w->seq) {
			dw_answer(w, w->early[k].line, w->early[k].len);
			return;
		}
	for (int k = 0; k < w->nearly; k++)
		free(w->early[k].line);
	w->nearly = 0;
	w->timer = loop_timer_at(HD.l, w->deadline, dw_timeout, w);
	if (w->timer < 0) {
		w->timer = 0;
		hd_error(w->req, 503, "cannot wait (no timer)", NULL);
		dw_free(w);
	}
}

/* ?wait=0: 202 with the control reply once supervise accepted it */
static void accepted_reply(struct hd_pending *p, const char *line, size_t len)
{
	if (line && !strncmp(line, "{\"ok\":true", 10))
		hd_json(p->req, 202, line, len, NULL);
	else
		hd_api_pass(p->req, line, len);
}

/* ref: 1 to REF_MAX printable ASCII bytes, no blank (supervise checks
 * the rest: no "..", ":", "~", ...) */
static int ref_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > REF_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

void hd_deploy(const struct httpsrv_req *r, const char *name, int rollback, int64_t wait_ms)
{
	const struct http_req *h = r->http;
	char ref[REF_MAX + 2] = "", line[PROTO_MAX_LINE];
	int has_ref = 0;
	if (!rollback) {
		long n = http_query_get(h->query, "ref", ref, sizeof ref);
		if (n >= 0)
			has_ref = 1;
		else if (errno != ENOENT) {
			hd_error(r->id, 400, "ref: a bad or too long value", NULL);
			return;
		}
		if (h->body && h->content_length > 0) {
			cJSON *j = cJSON_ParseWithLength(h->body, h->content_length);
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "ref");
			if (!cJSON_IsObject(j) || (v && !cJSON_IsString(v) && !cJSON_IsNull(v))) {
				cJSON_Delete(j);
				hd_error(r->id, 400, "expected no body or a JSON body {\"ref\":\"v1.2\"}", NULL);
				return;
			}
			if (cJSON_IsString(v)) {
				if (strlen(v->valuestring) > REF_MAX) {
					cJSON_Delete(j);
					hd_error(r->id, 400, "ref: too long", NULL);
					return;
				}
				snprintf(ref, sizeof ref, "%s", v->valuestring);
				has_ref = 1;
			}
			cJSON_Delete(j);
		}
		if (has_ref && !ref_ok(ref)) {
			hd_error(r->id, 400, "bad ref (a branch, a tag or a commit: printable, no blank)", NULL);
			return;
		}
	}
	snprintf(line, sizeof line, "%s %s%s%s", rollback ? "rollback" : "deploy", name, has_ref ? " " : "",
		has_ref ? ref : "");
	if (wait_ms == 0) {
		if (hd_call(r->id, line, accepted_reply, NULL) < 0)
			hd_error(r->id, 503, "too many requests waiting for the supervisor", "Retry-After: 1\r\n");
		return;
	}
	if (ndwaits >= HD_MAX_DEPLOY_WAITS) {
		hd_error(r->id, 503, "too many deploys waiting for their outcome (use ?wait=0)", "Retry-After: 1\r\n");
		return;
	}
	struct hd_dwait *w = calloc(1, sizeof *w);
	if (!w) {
		hd_error(r->id, 503, "out of memory", NULL);
		return;
	}
	w->req = r->id;
	w->rollback = rollback;
	w->deadline = loop_now_ms() + wait_ms;
	snprintf(w->name, sizeof w->name, "%s", name);
	/* listed before the request goes: its outcome may be read first */
	w->next = dwaits;
	dwaits = w;
	ndwaits++;
	if (hd_call(r->id, line, dw_reply, w) < 0) {
		dw_free(w);
		hd_error(r->id, 503, "too many requests waiting for the supervisor", "Retry-After: 1\r\n");
	}
}

/* ------------------------------------------------------------- counters */

#define DC_MAX 256
static const char *const results[] = { "deployed", "up_to_date", "rolled_back", "deploy_failed" };
static struct { char *service; double n[4]; } counts[DC_MAX];
static int ncounts;

static void count(const char *service, const char *type)
{
	int r = -1;
	for (int k = 0; k < 4; k++)
		if (!strcmp(type, results[k]))
			r = k;
	/* a service name is [A-Za-z0-9._-] (config.c): a label value as it is */
	if (r < 0 || !service || !*service || strspn(service, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789._-") != strlen(service))
		return;
	int i;
	for (i = 0; i < ncounts && strcmp(counts[i].service, service); i++)
		;
	if (i == ncounts) {
		if (ncounts == DC_MAX || !(counts[i].service = strdup(service)))
			return;
		ncounts++;
	}
	counts[i].n[r]++;
}

void hd_deploy_metrics(struct jbuf *b)
{
	if (!ncounts)
		return;
	jb_puts(b, "# HELP mls_deploys_total Deploy outcomes of services with git: seen by this mls httpd.\n"
		"# TYPE mls_deploys_total counter\n");
	for (int i = 0; i < ncounts; i++)
		for (int k = 0; k < 4; k++) {
			jb_printf(b, "mls_deploys_total{service=\"%s\",result=\"%s\"} %.0f\n", counts[i].service,
				results[k], counts[i].n[k]);
		}
}

/* ------------------------------------------------------------- events */

void hd_deploy_event(const cJSON *ev, const char *line, size_t len, uint64_t seq)
{
	const char *type = jstr(ev, "event"), *svc = jstr(ev, "service");
	int good;
	if (!type || !svc)
		return;
	count(svc, type);
	for (struct hd_dwait *w = dwaits, *n; w; w = n) {
		n = w->next;
		if (!w->req || strcmp(w->name, svc) || !is_outcome(type, w->rollback, &good))
			continue;
		if (w->replied) {
			if (seq > w->seq)
				dw_answer(w, line, len);
		} else if (w->nearly < DW_EARLY) {
			char *c = malloc(len + 1);
			if (!c)
				continue;
			memcpy(c, line, len);
			c[len] = 0;
			w->early[w->nearly].seq = seq;
			w->early[w->nearly].line = c;
			w->early[w->nearly].len = len;
			w->nearly++;
		}
	}
}

void hd_deploy_gone(uint64_t req)
{
	for (struct hd_dwait *w = dwaits, *n; w; w = n) {
		n = w->next;
		if (w->req != req)
			continue;
		if (w->replied)
			dw_free(w);
		else
			w->req = 0; /* freed by its reply */
	}
}
