/* webhook.c: see webhook.h */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strmap.h"
#include "webhook.h"
#if MLS_HAVE_TLS
#include <bearssl.h>
#endif

const int wh_retry_ms[WH_RETRIES] = { 1000, 5000, 30000 };

/* ---------------------------------------------------------- matching */

int wh_services_match(char *const *globs, int n, const char *service, const char *name)
{
	if (n <= 0 || (!service && !name))
		return 1;
	for (int k = 0; k < n; k++) {
		if (!globs[k])
			continue;
		if ((service && !fnmatch(globs[k], service, 0)) || (name && !fnmatch(globs[k], name, 0)))
			return 1;
	}
	return 0;
}

/* ----------------------------------------------------------- mapping */

enum { TR_STOPPING = 1, TR_BY_REQUEST = 2, TR_ENDED = 4 };

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int tr_find(const struct wh_track *t, uint64_t h)
{
	for (int k = 0; k < t->n; k++)
		if (t->e[k].h == h)
			return k;
	return -1;
}

static unsigned tr_get(const struct wh_track *t, uint64_t h)
{
	int k = tr_find(t, h);
	return k < 0 ? 0 : t->e[k].f;
}

static void tr_set(struct wh_track *t, uint64_t h, unsigned f)
{
	int k = tr_find(t, h);
	if (!f) {
		if (k >= 0)
			t->e[k] = t->e[--t->n];
		return;
	}
	if (k < 0) {
		if (t->n >= WH_TRACK_MAX)
			return; /* full: forgotten (see webhook.h) */
		k = t->n++;
		t->e[k].h = h;
	}
	t->e[k].f = f;
}

unsigned wh_map(struct wh_track *t, const cJSON *ev)
{
	const char *type = jstr(ev, "event");
	if (!type)
		return 0;
	if (!strcmp(type, "reload"))
		return NOTE_RELOAD;
	if (!strcmp(type, "healthy"))
		return NOTE_HEALTHY;
	if (!strcmp(type, "unhealthy"))
		return NOTE_UNHEALTHY;
	if (!strcmp(type, "deployed"))
		return NOTE_DEPLOYED;
	if (!strcmp(type, "rolled_back"))
		return NOTE_ROLLED_BACK;
	if (!strcmp(type, "deploy_failed"))
		return NOTE_DEPLOY_FAILED;
	if (!strcmp(type, "config_rejected"))
		return NOTE_CONFIG_REJECTED;
	const char *name = jstr(ev, "name");
	if (!name)
		return 0;
	uint64_t h = hash_bytes(HASH_INIT, name, strlen(name) + 1);
	unsigned f = tr_get(t, h);
	if (!strcmp(type, "exit")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(ev, "exit_code");
		int clean = cJSON_IsNumber(code) && code->valuedouble == 0;
		unsigned note = !(f & TR_STOPPING) && !clean ? NOTE_CRASH : 0;
		tr_set(t, h, (f & TR_BY_REQUEST) | TR_ENDED);
		return note;
	}
	if (strcmp(type, "state"))
		return 0;
	const char *st = jstr(ev, "state");
	if (!st)
		return 0;
	if (!strcmp(st, "stopping")) {
		/* stop(i, why): no reason is a stop by request; "shutdown" and
		 * "removed" end it for good too; every other reason (restart,
		 * unhealthy, config changed, a watchdog, a job's timeout) is
		 * followed by a start */
		const char *why = jstr(ev, "reason");
		int final = !why || !strcmp(why, "shutdown") || !strcmp(why, "removed");
		tr_set(t, h, TR_STOPPING | (final ? TR_BY_REQUEST : 0) | (f & TR_ENDED));
		return 0;
	}
	if (!strcmp(st, "running")) {
		tr_set(t, h, 0);
		return (f & TR_ENDED) && !(f & TR_BY_REQUEST) ? NOTE_RESTART | NOTE_STARTED : NOTE_STARTED;
	}
	if (!strcmp(st, "stopped")) {
		tr_set(t, h, 0);
		return NOTE_STOPPED;
	}
	if (!strcmp(st, "failed")) {
		tr_set(t, h, 0);
		return NOTE_FAILED;
	}
	if (!strcmp(st, "exited"))
		tr_set(t, h, 0);
	return 0;
}

const char *wh_event_name(unsigned note)
{
	for (int k = 0; k < NOTE_COUNT; k++)
		if (note == 1u << k)
			return notify_event_names[k];
	return NULL;
}

/* ------------------------------------------------------------ bodies */

static void origin_fields(struct jbuf *b, const struct wh_origin *o)
{
	jb_puts(b, ",\"host\":");
	jb_str(b, o && o->host ? o->host : "");
	jb_puts(b, ",\"mls\":{\"version\":");
	jb_str(b, o && o->version ? o->version : "");
	jb_puts(b, ",\"arch\":");
	jb_str(b, o && o->arch ? o->arch : "");
	jb_puts(b, "}");
}

/* The sentence of a slack body, without the host prefix */
static void slack_sentence(struct jbuf *t, unsigned note, const cJSON *ev)
{
	const char *name = jstr(ev, "name");
	const char *who = name ? name : "mls";
	const char *reason = jstr(ev, "reason"), *msg = jstr(ev, "message");
	const cJSON *v;
	switch (note) {
	case NOTE_CRASH: {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(ev, "exit_code");
		const char *sig = jstr(ev, "signal");
		const cJSON *up = cJSON_GetObjectItemCaseSensitive(ev, "uptime_ms");
		if (sig)
			jb_printf(t, "%s crashed: killed by %s", who, sig);
		else if (cJSON_IsNumber(code))
			jb_printf(t, "%s crashed: exited with status %d", who, code->valueint);
		else
			jb_printf(t, "%s crashed: could not start", who);
		if (cJSON_IsNumber(up))
			jb_printf(t, " after %.1fs", up->valuedouble / 1000);
		break;
	}
	case NOTE_RESTART:
		jb_printf(t, "%s restarted", who);
		break;
	case NOTE_STARTED:
		jb_printf(t, "%s started", who);
		break;
	case NOTE_STOPPED:
		jb_printf(t, "%s stopped%s%s", who, reason ? ": " : "", reason ? reason : "");
		break;
	case NOTE_FAILED:
		jb_printf(t, "%s failed%s%s", who, reason ? ": " : "", reason ? reason : "");
		break;
	case NOTE_HEALTHY:
	case NOTE_UNHEALTHY:
		jb_printf(t, "%s %s%s%s", who, note == NOTE_HEALTHY ? "healthy" : "unhealthy", msg ? ": " : "",
			msg ? msg : "");
		break;
	case NOTE_RELOAD:
		v = cJSON_GetObjectItemCaseSensitive(ev, "ok");
		if (cJSON_IsTrue(v)) {
			jb_puts(t, "config reloaded");
			static const char *const parts[] = { "added", "removed", "changed" };
			for (int k = 0; k < 3; k++) {
				const cJSON *a = cJSON_GetObjectItemCaseSensitive(ev, parts[k]), *it;
				if (!cJSON_GetArraySize(a))
					continue;
				jb_printf(t, "; %s:", parts[k]);
				int first = 1;
				cJSON_ArrayForEach(it, a)
					if (cJSON_IsString(it)) {
						jb_printf(t, "%s%s", first ? " " : ", ", it->valuestring);
						first = 0;
					}
			}
		} else {
			const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "errors");
			const cJSON *e0 = cJSON_GetArrayItem(e, 0);
			jb_printf(t, "config reload failed (%d error%s)%s%s", cJSON_GetArraySize(e),
				cJSON_GetArraySize(e) == 1 ? "" : "s", cJSON_IsString(e0) ? ": " : "",
				cJSON_IsString(e0) ? e0->valuestring : "");
		}
		break;
	case NOTE_DEPLOYED:
	case NOTE_ROLLED_BACK:
	case NOTE_DEPLOY_FAILED: {
		/* service-level: "api deployed 3f2a9c1 (main)", "api rolled
		 * back from 9ad0958 to 3f2a9c1: crashed twice", "api deploy
		 * failed (ref v2): MESSAGE" */
		const char *svc = jstr(ev, "service"), *rev = jstr(ev, "revision"), *from = jstr(ev, "from");
		const char *ref = jstr(ev, "ref");
		who = svc ? svc : who;
		if (note == NOTE_DEPLOYED)
			jb_printf(t, "%s deployed %.7s", who, rev ? rev : "?");
		else if (note == NOTE_ROLLED_BACK)
			jb_printf(t, "%s rolled back from %.7s to %.7s", who, from ? from : "?", rev ? rev : "?");
		else
			jb_printf(t, "%s deploy failed", who);
		if (ref && note != NOTE_ROLLED_BACK)
			jb_printf(t, note == NOTE_DEPLOYED ? " (%s)" : " (ref %s)", ref);
		if (msg && note != NOTE_DEPLOYED)
			jb_printf(t, ": %s", msg);
		break;
	}
	case NOTE_CONFIG_REJECTED: {
		const char *rev = jstr(ev, "revision");
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "errors");
		const cJSON *e0 = cJSON_GetArrayItem(e, 0);
		int n = cJSON_GetArraySize(e);
		jb_printf(t, "config from git rejected (%.7s), nothing changed", rev ? rev : "?");
		if (n)
			jb_printf(t, " (%d error%s)", n, n == 1 ? "" : "s");
		if (cJSON_IsString(e0))
			jb_printf(t, ": %s", e0->valuestring);
		break;
	}
	default: {
		const char *n = wh_event_name(note);
		jb_printf(t, "%s: %s", who, n ? n : "event");
	}
	}
}

int wh_body(struct jbuf *out, int format, unsigned note, const cJSON *ev, const struct wh_origin *o)
{
	const char *nn = wh_event_name(note);
	if (!cJSON_IsObject(ev) || !nn)
		return -1;
	if (format == NOTIFY_SLACK) {
		struct jbuf t = {0};
		jb_printf(&t, "[%s] ", o && o->host ? o->host : "mls");
		slack_sentence(&t, note, ev);
		jb_puts(out, "{\"text\":");
		jb_strn(out, t.p ? t.p : "", t.oom ? 0 : t.len);
		jb_puts(out, "}");
		int bad = t.oom;
		jb_free(&t);
		return bad || out->oom ? -1 : 0;
	}
	jb_puts(out, "{\"event\":");
	jb_str(out, nn);
	const cJSON *it;
	cJSON_ArrayForEach(it, ev) {
		if (!it->string || !strcmp(it->string, "event") || !strcmp(it->string, "engine_event") ||
		    !strcmp(it->string, "host") || !strcmp(it->string, "mls"))
			continue;
		char *v = cJSON_PrintUnformatted(it);
		if (!v) {
			out->oom = 1;
			break;
		}
		jb_puts(out, ",");
		jb_str(out, it->string);
		jb_puts(out, ":");
		jb_puts(out, v);
		free(v);
	}
	jb_puts(out, ",\"engine_event\":");
	jb_str(out, jstr(ev, "event"));
	origin_fields(out, o);
	jb_puts(out, "}");
	return out->oom ? -1 : 0;
}

static const char *const states[] = { "waiting", "starting", "running", "stopping", "stopped", "backoff",
	"exited", "failed", NULL };

/* bytes as "1.2 GiB" */
static void human(struct jbuf *b, unsigned long long v)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int k = 0;
	while (d >= 1024 && k < 4) {
		d /= 1024;
		k++;
	}
	if (k)
		jb_printf(b, "%.1f %s", d, u[k]);
	else
		jb_printf(b, "%llu B", v);
}

/* a double as JSON (integers plainly; no NaN/Inf) */
static void jnum(struct jbuf *b, double d)
{
	if (!isfinite(d))
		jb_puts(b, "null");
	else if (d == floor(d) && fabs(d) < 1e15)
		jb_printf(b, "%.0f", d);
	else
		jb_printf(b, "%.17g", d);
}

int wh_heartbeat_body(struct jbuf *out, int format, const cJSON *status, const struct host_stats *hs,
	int64_t now_ms, const struct wh_origin *o)
{
	int counts[8] = {0}, total = 0, unhealthy = 0;
	double restarts = 0;
	const cJSON *svcs = cJSON_GetObjectItemCaseSensitive(status, "services"), *s;
	int have = cJSON_IsArray(svcs);
	cJSON_ArrayForEach(s, svcs) {
		const char *st = jstr(s, "state"), *h = jstr(s, "health");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "restarts");
		total++;
		for (int k = 0; st && states[k]; k++)
			if (!strcmp(st, states[k]))
				counts[k]++;
		unhealthy += h && !strcmp(h, "unhealthy");
		if (cJSON_IsNumber(r))
			restarts += r->valuedouble;
	}
	if (format == NOTIFY_SLACK) {
		struct jbuf t = {0};
		jb_printf(&t, "[%s] heartbeat", o && o->host ? o->host : "mls");
		if (have) {
			jb_printf(&t, ": %d instance%s, %d running", total, total == 1 ? "" : "s", counts[2]);
			for (int k = 0; states[k]; k++)
				if (k != 2 && counts[k] && (k == 5 || k == 7 || k == 0 || k == 1))
					jb_printf(&t, ", %d %s", counts[k], states[k]);
			if (unhealthy)
				jb_printf(&t, ", %d unhealthy", unhealthy);
		} else {
			jb_puts(&t, ": the supervisor did not answer");
		}
		if (hs && (hs->have & HOST_LOAD))
			jb_printf(&t, "; load %.2f %.2f %.2f", hs->load[0], hs->load[1], hs->load[2]);
		if (hs && (hs->have & HOST_MEM_AVAIL) && (hs->have & HOST_MEM_TOTAL)) {
			jb_puts(&t, "; memory ");
			human(&t, hs->mem_avail);
			jb_puts(&t, " available of ");
			human(&t, hs->mem_total);
		}
		if (hs && (hs->have & HOST_FS)) {
			jb_puts(&t, "; disk ");
			human(&t, hs->fs_avail);
			jb_puts(&t, " available of ");
			human(&t, hs->fs_size);
		}
		jb_puts(out, "{\"text\":");
		jb_strn(out, t.p ? t.p : "", t.oom ? 0 : t.len);
		jb_puts(out, "}");
		int bad = t.oom;
		jb_free(&t);
		return bad || out->oom ? -1 : 0;
	}
	jb_printf(out, "{\"event\":\"heartbeat\",\"time\":%lld", (long long)now_ms);
	origin_fields(out, o);
	if (have) {
		jb_printf(out, ",\"summary\":{\"instances\":%d,\"running\":%d,\"unhealthy\":%d,\"failed\":%d,\"states\":{",
			total, counts[2], unhealthy, counts[7]);
		for (int k = 0; states[k]; k++)
			jb_printf(out, "%s\"%s\":%d", k ? "," : "", states[k], counts[k]);
		jb_puts(out, "},\"restarts\":");
		jnum(out, restarts);
		jb_puts(out, "}");
		const cJSON *sup = cJSON_GetObjectItemCaseSensitive(status, "supervisor");
		if (cJSON_IsObject(sup)) {
			char *v = cJSON_PrintUnformatted(sup);
			if (v) {
				jb_puts(out, ",\"supervisor\":");
				jb_puts(out, v);
				free(v);
			} else
				out->oom = 1;
		}
	}
	if (hs && (hs->have & HOST_LOAD)) {
		jb_puts(out, ",\"load\":[");
		for (int k = 0; k < 3; k++) {
			jb_puts(out, k ? "," : "");
			jnum(out, hs->load[k]);
		}
		jb_puts(out, "]");
	}
	if (hs && (hs->have & (HOST_MEM_TOTAL | HOST_MEM_AVAIL))) {
		jb_puts(out, ",\"memory\":{");
		if (hs->have & HOST_MEM_TOTAL)
			jb_printf(out, "\"total\":%llu%s", hs->mem_total, hs->have & HOST_MEM_AVAIL ? "," : "");
		if (hs->have & HOST_MEM_AVAIL)
			jb_printf(out, "\"available\":%llu", hs->mem_avail);
		jb_puts(out, "}");
	}
	if (hs && (hs->have & HOST_FS))
		jb_printf(out, ",\"disk\":{\"size\":%llu,\"available\":%llu}", hs->fs_size, hs->fs_avail);
	jb_puts(out, "}");
	return out->oom ? -1 : 0;
}

/* ------------------------------------------------------- signature */

int wh_sign(const char *secret, size_t slen, const void *body, size_t len, char out[WH_SIG_LEN + 1])
{
#if MLS_HAVE_TLS
	static const char hex[] = "0123456789abcdef";
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char mac[32];
	br_hmac_key_init(&kc, &br_sha256_vtable, secret, slen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, body, len);
	br_hmac_out(&hc, mac);
	memcpy(out, "sha256=", 7);
	for (int k = 0; k < 32; k++) {
		out[7 + 2 * k] = hex[mac[k] >> 4];
		out[8 + 2 * k] = hex[mac[k] & 15];
	}
	out[WH_SIG_LEN] = 0;
	return 0;
#else
	(void)secret; (void)slen; (void)body; (void)len;
	out[0] = 0;
	return -1;
#endif
}

/* --------------------------------------------------------- request */

int wh_request(struct jbuf *out, const struct http_url *u, char *const *headers, int nheaders,
	const char *sig, const char *version, const void *body, size_t len)
{
	int v6 = strchr(u->host, ':') != NULL;
	int defport = !strcmp(u->port, u->tls ? "443" : "80");
	jb_printf(out, "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n", u->path, v6 ? "[" : "", u->host, v6 ? "]" : "",
		defport ? "" : ":", defport ? "" : u->port);
	jb_printf(out, "User-Agent: mls/%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n", version ? version : "0", len);
	for (int k = 0; k < nheaders; k++)
		if (headers[k])
			jb_printf(out, "%s\r\n", headers[k]);
	if (sig)
		jb_printf(out, "X-Mls-Signature: %s\r\n", sig);
	jb_puts(out, "\r\n");
	jb_raw(out, body, len);
	return out->oom ? -1 : 0;
}

int wh_status_retry(int code)
{
	return code >= 500 || code == 408 || code == 429;
}

/* ----------------------------------------------------------- queue */

struct wh_item *wh_queue_push(struct wh_queue *q, struct wh_item *it)
{
	struct wh_item *old = NULL;
	if (q->n == WH_QUEUE_MAX)
		old = wh_queue_pop(q);
	q->v[(q->head + q->n) % WH_QUEUE_MAX] = it;
	q->n++;
	return old;
}

struct wh_item *wh_queue_unshift(struct wh_queue *q, struct wh_item *it)
{
	if (q->n == WH_QUEUE_MAX)
		return it;
	q->head = (q->head + WH_QUEUE_MAX - 1) % WH_QUEUE_MAX;
	q->v[q->head] = it;
	q->n++;
	return NULL;
}

struct wh_item *wh_queue_pop(struct wh_queue *q)
{
	if (!q->n)
		return NULL;
	struct wh_item *it = q->v[q->head];
	q->v[q->head] = NULL;
	q->head = (q->head + 1) % WH_QUEUE_MAX;
	q->n--;
	return it;
}
