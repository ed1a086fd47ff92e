/* test_webhook: lib/webhook.h (event mapping, service globs, bodies,
 * signature, request, queue) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "webhook.h"

static struct wh_track tr;

/* wh_map of one event line */
static unsigned map(const char *line)
{
	cJSON *j = cJSON_Parse(line);
	unsigned n = wh_map(&tr, j);
	cJSON_Delete(j);
	return n;
}

#define EXIT(name, code, sig) "{\"event\":\"exit\",\"seq\":1,\"name\":\"" name "\",\"service\":\"web\",\"instance\":1,\"pid\":9,\"exit_code\":" code ",\"signal\":" sig ",\"uptime_ms\":5030}"
#define STATE(name, st, reason) "{\"event\":\"state\",\"seq\":1,\"name\":\"" name "\",\"service\":\"web\",\"instance\":1,\"state\":\"" st "\",\"pid\":null,\"reason\":" reason "}"

static void test_map(void)
{
	memset(&tr, 0, sizeof tr);
	/* a crash, then the restart after backoff */
	tap_ok(map(STATE("web.1", "running", "null")) == NOTE_STARTED, __LINE__, "first running: started");
	tap_ok(map(EXIT("web.1", "1", "null")) == NOTE_CRASH, __LINE__, "exit 1 while running: crash");
	tap_ok(map(STATE("web.1", "backoff", "\"exited with status 1\"")) == 0, __LINE__, "backoff: nothing");
	tap_ok(map(STATE("web.1", "running", "null")) == (NOTE_RESTART | NOTE_STARTED), __LINE__,
	       "running after a crash: restart and started");
	tap_ok(tr.n == 0, __LINE__, "the tracker forgets a running instance");
	/* a kill by signal */
	tap_ok(map(EXIT("web.1", "null", "\"SIGKILL\"")) == NOTE_CRASH, __LINE__, "killed by a signal: crash");
	tap_ok(map(STATE("web.1", "failed", "\"restart limit reached\"")) == NOTE_FAILED, __LINE__, "failed: failed");
	/* exit 0 */
	tap_ok(map(EXIT("job.1", "0", "null")) == 0, __LINE__, "exit 0: no crash");
	tap_ok(map(STATE("job.1", "exited", "null")) == 0, __LINE__, "exited: nothing");
	/* a stop by request: no crash, no restart */
	map(STATE("web.2", "running", "null"));
	tap_ok(map(STATE("web.2", "stopping", "null")) == 0, __LINE__, "stopping: nothing");
	tap_ok(map(EXIT("web.2", "null", "\"SIGTERM\"")) == 0, __LINE__, "killed while stopping: no crash");
	tap_ok(map(STATE("web.2", "stopped", "null")) == NOTE_STOPPED, __LINE__, "stopped: stopped");
	tap_ok(map(STATE("web.2", "running", "null")) == NOTE_STARTED, __LINE__, "started again after a stop: started only");
	/* a restart by request */
	map(STATE("web.3", "stopping", "\"restart\""));
	tap_ok(map(EXIT("web.3", "null", "\"SIGTERM\"")) == 0, __LINE__, "restart request: the exit is no crash");
	tap_ok(map(STATE("web.3", "running", "null")) == (NOTE_RESTART | NOTE_STARTED), __LINE__,
	       "restart request: restart");
	/* a health restart */
	map(STATE("web.4", "stopping", "\"unhealthy\""));
	map(EXIT("web.4", "143", "null"));
	tap_ok(map(STATE("web.4", "running", "null")) == (NOTE_RESTART | NOTE_STARTED), __LINE__,
	       "health restart: restart");
	/* shutdown */
	map(STATE("web.5", "stopping", "\"shutdown\""));
	tap_ok(map(EXIT("web.5", "null", "\"SIGTERM\"")) == 0, __LINE__, "shutdown: no crash");
	tap_ok(map(STATE("web.5", "stopped", "\"shutdown\"")) == NOTE_STOPPED, __LINE__, "shutdown: stopped");
	/* the others */
	tap_ok(map("{\"event\":\"healthy\",\"seq\":2,\"name\":\"web.1\",\"message\":\"HTTP 200\"}") == NOTE_HEALTHY, __LINE__, "healthy");
	tap_ok(map("{\"event\":\"unhealthy\",\"seq\":2,\"name\":\"web.1\",\"message\":\"HTTP 503\"}") == NOTE_UNHEALTHY, __LINE__, "unhealthy");
	tap_ok(map("{\"event\":\"reload\",\"seq\":2,\"ok\":true,\"added\":[],\"removed\":[],\"changed\":[]}") == NOTE_RELOAD, __LINE__, "reload");
	tap_ok(map("{\"event\":\"health_restart\",\"seq\":2,\"name\":\"web.1\"}") == 0, __LINE__, "health_restart: nothing of its own");
	tap_ok(map("{\"event\":\"shutdown\",\"seq\":2}") == 0, __LINE__, "shutdown: nothing");
	tap_ok(map("{\"seq\":2}") == 0 && map("[1]") == 0 && map("{\"event\":\"exit\"}") == 0, __LINE__,
	       "malformed events: nothing");
	tap_ok(wh_event_name(NOTE_CRASH) && !strcmp(wh_event_name(NOTE_CRASH), "crash") &&
	       !strcmp(wh_event_name(NOTE_HEARTBEAT), "heartbeat") && !wh_event_name(3), __LINE__, "event names");
	/* bounded: more instances stopping at once than it holds */
	memset(&tr, 0, sizeof tr);
	char line[256];
	for (int k = 0; k < WH_TRACK_MAX + 10; k++) {
		snprintf(line, sizeof line, STATE("w.%d", "stopping", "null"), k);
		map(line);
	}
	tap_ok(tr.n == WH_TRACK_MAX, __LINE__, "the tracker stops at %d instances", WH_TRACK_MAX);
}

static void test_match(void)
{
	char *g[] = { "web", "api-*", "db.2" };
	tap_ok(wh_services_match(NULL, 0, "x", "x.1"), __LINE__, "no globs: every service");
	tap_ok(wh_services_match(g, 3, "web", "web.1"), __LINE__, "a name");
	tap_ok(wh_services_match(g, 3, "api-eu", "api-eu.3"), __LINE__, "a glob");
	tap_ok(!wh_services_match(g, 3, "db", "db.1"), __LINE__, "another instance");
	tap_ok(wh_services_match(g, 3, "db", "db.2"), __LINE__, "an instance name");
	tap_ok(!wh_services_match(g, 3, "webx", "webx.1"), __LINE__, "no partial match");
	tap_ok(wh_services_match(g, 3, NULL, NULL), __LINE__, "events of no service (reload) go to every target");
}

static void test_bodies(void)
{
	struct wh_origin o = { "pi-7", "1.2.3", "aarch64" };
	cJSON *ev = cJSON_Parse(EXIT("web.1", "1", "null"));
	struct jbuf b = {0};
	tap_ok(wh_body(&b, NOTIFY_JSON, NOTE_CRASH, ev, &o) == 0, __LINE__, "json body");
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "event");
	const cJSON *ee = cJSON_GetObjectItemCaseSensitive(j, "engine_event");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "host");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mls");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "exit_code");
	tap_ok(cJSON_IsString(e) && !strcmp(e->valuestring, "crash") && cJSON_IsString(ee) &&
	       !strcmp(ee->valuestring, "exit") && cJSON_IsString(h) && !strcmp(h->valuestring, "pi-7") &&
	       cJSON_IsNumber(code) && code->valueint == 1 &&
	       !strcmp(cJSON_GetObjectItemCaseSensitive(m, "version")->valuestring, "1.2.3"),
	       __LINE__, "json body: event, engine_event, host, mls, the event's fields: %.*s", (int)b.len, b.p);
	tap_ok(!strncmp(b.p, "{\"event\":\"crash\",\"seq\":1,", 25), __LINE__, "json body: event first, then the fields in order");
	cJSON_Delete(j);
	jb_free(&b);

	memset(&b, 0, sizeof b);
	tap_ok(wh_body(&b, NOTIFY_SLACK, NOTE_CRASH, ev, &o) == 0 && b.len &&
	       !strcmp(b.p, "{\"text\":\"[pi-7] web.1 crashed: exited with status 1 after 5.0s\"}"), __LINE__,
	       "slack body: %s", b.p ? b.p : "");
	jb_free(&b);
	cJSON_Delete(ev);

	ev = cJSON_Parse("{\"event\":\"unhealthy\",\"seq\":4,\"name\":\"web.2\",\"service\":\"web\",\"instance\":2,\"message\":\"HTTP \\\"503\\\"\"}");
	memset(&b, 0, sizeof b);
	wh_body(&b, NOTIFY_SLACK, NOTE_UNHEALTHY, ev, &o);
	tap_ok(b.p && !strcmp(b.p, "{\"text\":\"[pi-7] web.2 unhealthy: HTTP \\\"503\\\"\"}"), __LINE__,
	       "slack body escapes: %s", b.p ? b.p : "");
	jb_free(&b);
	cJSON_Delete(ev);

	ev = cJSON_Parse("{\"event\":\"reload\",\"seq\":5,\"ok\":false,\"errors\":[\"mls.yaml:1:1: error: x\"]}");
	memset(&b, 0, sizeof b);
	wh_body(&b, NOTIFY_SLACK, NOTE_RELOAD, ev, &o);
	tap_ok(b.p && strstr(b.p, "config reload failed (1 error): mls.yaml:1:1: error: x"), __LINE__,
	       "slack reload failure: %s", b.p ? b.p : "");
	jb_free(&b);
	tap_ok(wh_body(&b, NOTIFY_JSON, 3, ev, &o) < 0, __LINE__, "two events at once: refused");
	jb_free(&b);
	cJSON_Delete(ev);

	/* the deploy events (service-level: no name) */
	static const struct {
		unsigned note;
		const char *ev, *slack;
	} dep[] = {
		{ NOTE_DEPLOYED,
		  "{\"event\":\"deployed\",\"seq\":7,\"time\":1,\"service\":\"api\",\"revision\":\"3f2a9c1e0000000000000000000000000000beef\","
		  "\"from\":null,\"ref\":\"main\",\"message\":null}",
		  "{\"text\":\"[pi-7] api deployed 3f2a9c1 (main)\"}" },
		{ NOTE_ROLLED_BACK,
		  "{\"event\":\"rolled_back\",\"seq\":8,\"time\":1,\"service\":\"api\",\"revision\":\"3f2a9c1e0000000000000000000000000000beef\","
		  "\"from\":\"9ad0958f0000000000000000000000000000cafe\",\"ref\":\"main\",\"message\":\"crashed twice: exited with status 1\"}",
		  "{\"text\":\"[pi-7] api rolled back from 9ad0958 to 3f2a9c1: crashed twice: exited with status 1\"}" },
		{ NOTE_DEPLOY_FAILED,
		  "{\"event\":\"deploy_failed\",\"seq\":9,\"time\":1,\"service\":\"api\",\"revision\":null,\"from\":null,"
		  "\"ref\":\"v2\",\"message\":\"no branch, tag or commit 'v2'\"}",
		  "{\"text\":\"[pi-7] api deploy failed (ref v2): no branch, tag or commit 'v2'\"}" },
		{ NOTE_CONFIG_REJECTED,
		  "{\"event\":\"config_rejected\",\"seq\":10,\"time\":1,\"revision\":\"77aa0011000000000000000000000000000000ff\","
		  "\"errors\":[\"mls.yaml:3:5: error: unknown key 'comand'\",\"mls.yaml:9:1: error: x\"]}",
		  "{\"text\":\"[pi-7] config from git rejected (77aa001), nothing changed (2 errors): mls.yaml:3:5: error: unknown key 'comand'\"}" },
	};
	for (size_t k = 0; k < sizeof dep / sizeof dep[0]; k++) {
		memset(&tr, 0, sizeof tr);
		ev = cJSON_Parse(dep[k].ev);
		tap_ok(map(dep[k].ev) == dep[k].note, __LINE__, "%s: mapped to %s", cJSON_GetObjectItemCaseSensitive(ev, "event")->valuestring,
		       wh_event_name(dep[k].note));
		memset(&b, 0, sizeof b);
		tap_ok(wh_body(&b, NOTIFY_SLACK, dep[k].note, ev, &o) == 0 && !strcmp(b.p, dep[k].slack), __LINE__,
		       "slack %s: %s", wh_event_name(dep[k].note), b.p ? b.p : "");
		jb_free(&b);
		memset(&b, 0, sizeof b);
		tap_ok(wh_body(&b, NOTIFY_JSON, dep[k].note, ev, &o) == 0, __LINE__, "json %s", wh_event_name(dep[k].note));
		j = cJSON_ParseWithLength(b.p, b.len);
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "event");
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(j, "engine_event");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "revision");
		const cJSON *sv = cJSON_GetObjectItemCaseSensitive(j, "service");
		int isconf = dep[k].note == NOTE_CONFIG_REJECTED;
		tap_ok(cJSON_IsString(x) && !strcmp(x->valuestring, wh_event_name(dep[k].note)) && cJSON_IsString(y) &&
		       !strcmp(y->valuestring, cJSON_GetObjectItemCaseSensitive(ev, "event")->valuestring) &&
		       (dep[k].note == NOTE_DEPLOY_FAILED ? cJSON_IsNull(r) : cJSON_IsString(r) && strlen(r->valuestring) == 40) &&
		       (isconf ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors")) == 2
		               : cJSON_IsString(sv) && !strcmp(sv->valuestring, "api")),
		       __LINE__, "json %s: event, engine_event, revision, service/errors: %.*s", wh_event_name(dep[k].note),
		       (int)b.len, b.p);
		cJSON_Delete(j);
		jb_free(&b);
		cJSON_Delete(ev);
	}
	/* missing fields: a sentence all the same */
	ev = cJSON_Parse("{\"event\":\"rolled_back\",\"seq\":11}");
	memset(&b, 0, sizeof b);
	tap_ok(wh_body(&b, NOTIFY_SLACK, NOTE_ROLLED_BACK, ev, &o) == 0 && !strcmp(b.p, "{\"text\":\"[pi-7] mls rolled back from ? to ?\"}"),
	       __LINE__, "slack rolled_back without fields: %s", b.p ? b.p : "");
	jb_free(&b);
	cJSON_Delete(ev);

	/* heartbeat */
	cJSON *st = cJSON_Parse("{\"ok\":true,\"supervisor\":{\"pid\":1},\"services\":["
		"{\"name\":\"web\",\"instance\":1,\"state\":\"running\",\"restarts\":2,\"health\":\"unhealthy\"},"
		"{\"name\":\"web\",\"instance\":2,\"state\":\"running\",\"restarts\":1},"
		"{\"name\":\"db\",\"instance\":1,\"state\":\"failed\",\"restarts\":0}]}");
	struct host_stats hs = { .have = HOST_LOAD | HOST_MEM_TOTAL | HOST_MEM_AVAIL | HOST_FS,
		.load = { 0.5, 0.25, 1 }, .mem_total = 4ull << 30, .mem_avail = 1ull << 30,
		.fs_size = 32ull << 30, .fs_avail = 8ull << 30 };
	memset(&b, 0, sizeof b);
	tap_ok(wh_heartbeat_body(&b, NOTIFY_JSON, st, &hs, 1700000000000, &o) == 0, __LINE__, "heartbeat json");
	j = cJSON_ParseWithLength(b.p, b.len);
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(j, "summary");
	tap_ok(j && cJSON_GetObjectItemCaseSensitive(sum, "instances")->valueint == 3 &&
	       cJSON_GetObjectItemCaseSensitive(sum, "running")->valueint == 2 &&
	       cJSON_GetObjectItemCaseSensitive(sum, "unhealthy")->valueint == 1 &&
	       cJSON_GetObjectItemCaseSensitive(sum, "failed")->valueint == 1 &&
	       cJSON_GetObjectItemCaseSensitive(sum, "restarts")->valueint == 3 &&
	       cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "load"), 0)->valuedouble == 0.5 &&
	       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "disk"), "available")->valuedouble ==
		       (double)(8ull << 30), __LINE__, "heartbeat json: summary, load, disk: %.*s", (int)b.len, b.p);
	cJSON_Delete(j);
	jb_free(&b);
	memset(&b, 0, sizeof b);
	wh_heartbeat_body(&b, NOTIFY_SLACK, st, &hs, 0, &o);
	tap_ok(b.p && !strcmp(b.p, "{\"text\":\"[pi-7] heartbeat: 3 instances, 2 running, 1 failed, 1 unhealthy; "
		"load 0.50 0.25 1.00; memory 1.0 GiB available of 4.0 GiB; disk 8.0 GiB available of 32.0 GiB\"}"),
	       __LINE__, "heartbeat slack: %s", b.p ? b.p : "");
	jb_free(&b);
	memset(&b, 0, sizeof b);
	wh_heartbeat_body(&b, NOTIFY_JSON, NULL, NULL, 5, &o);
	tap_ok(b.p && !strcmp(b.p, "{\"event\":\"heartbeat\",\"time\":5,\"host\":\"pi-7\",\"mls\":{\"version\":\"1.2.3\",\"arch\":\"aarch64\"}}"),
	       __LINE__, "heartbeat without status or host figures: %s", b.p ? b.p : "");
	jb_free(&b);
	cJSON_Delete(st);
}

static void test_sign_request(void)
{
	char sig[WH_SIG_LEN + 1];
#if MLS_HAVE_TLS
	/* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" */
	tap_ok(wh_sign("Jefe", 4, "what do ya want for nothing?", 28, sig) == 0 &&
	       !strcmp(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), __LINE__,
	       "HMAC-SHA256 (RFC 4231 case 2): %s", sig);
#else
	tap_ok(wh_sign("Jefe", 4, "x", 1, sig) < 0, __LINE__, "no TLS: no signature");
#endif
	struct http_url u;
	http_url_parse("https://hooks.example:8443/a/b?c=d", &u, NULL, 0);
	char *hdr[] = { "X-A: b", "Authorization: Bearer t" };
	struct jbuf b = {0};
	wh_request(&b, &u, hdr, 2, "sha256=00", "9.9", "{}", 2);
	tap_ok(b.p && !strcmp(b.p, "POST /a/b?c=d HTTP/1.1\r\nHost: hooks.example:8443\r\nUser-Agent: mls/9.9\r\n"
		"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\nX-A: b\r\n"
		"Authorization: Bearer t\r\nX-Mls-Signature: sha256=00\r\n\r\n{}"), __LINE__, "the request");
	jb_free(&b);
	memset(&b, 0, sizeof b);
	http_url_parse("http://[::1]/", &u, NULL, 0);
	wh_request(&b, &u, NULL, 0, NULL, "9.9", "", 0);
	tap_ok(b.p && !strncmp(b.p, "POST / HTTP/1.1\r\nHost: [::1]\r\n", 30) && !strstr(b.p, "X-Mls-Signature"), __LINE__,
	       "IPv6 host in brackets, default port left out, no signature");
	jb_free(&b);
	tap_ok(wh_status_retry(500) && wh_status_retry(503) && wh_status_retry(429) && wh_status_retry(408) &&
	       !wh_status_retry(200) && !wh_status_retry(404) && !wh_status_retry(301), __LINE__, "what is retried");
}

static struct wh_item *item(uint64_t seq)
{
	struct wh_item *it = calloc(1, sizeof *it + 1);
	it->seq = seq;
	return it;
}

static void test_queue(void)
{
	static struct wh_queue q;
	int dropped = 0;
	for (uint64_t k = 1; k <= WH_QUEUE_MAX + 5; k++) {
		struct wh_item *old = wh_queue_push(&q, item(k));
		if (old) {
			dropped++;
			tap_ok(old->seq == (uint64_t)dropped, __LINE__, "full: the oldest (%llu) goes",
			       (unsigned long long)old->seq);
			free(old);
		}
	}
	tap_ok(dropped == 5 && q.n == WH_QUEUE_MAX, __LINE__, "1,005 pushed: 5 dropped, 1,000 kept");
	struct wh_item *first = wh_queue_pop(&q);
	tap_ok(first && first->seq == 6, __LINE__, "pop: the oldest kept");
	tap_ok(wh_queue_unshift(&q, first) == NULL && q.n == WH_QUEUE_MAX, __LINE__, "unshift: back in front");
	struct wh_item *again = item(99);
	tap_ok(wh_queue_unshift(&q, again) == again, __LINE__, "unshift into a full queue: refused");
	free(again);
	uint64_t prev = 0;
	int order = 1, n = 0;
	struct wh_item *it;
	while ((it = wh_queue_pop(&q))) {
		order &= it->seq > prev;
		prev = it->seq;
		n++;
		free(it);
	}
	tap_ok(order && n == WH_QUEUE_MAX && !wh_queue_pop(&q), __LINE__, "drained in order");
}

int main(void)
{
	test_map();
	test_match();
	test_bodies();
	test_sign_request();
	test_queue();
	return tap_done();
}
