/* webhook.h: the pure parts of mls's webhooks (`notify:`, docs/config.md
 * "notify"; sent by mls httpd, applets/httpd/hd_notify.c).
 *
 *  - which webhook event an engine event is (wh_map(), with a small
 *    per-instance memory of stops and exits: struct wh_track);
 *  - whether a target wants a service (wh_services_match(): names or
 *    fnmatch(3) globs);
 *  - the bodies: `json` (the engine event's fields, its `event` renamed,
 *    plus host and mls) and `slack` ({"text": "..."}), the heartbeat's;
 *  - the signature X-Mls-Signature: sha256=HEX(HMAC-SHA256(secret, body));
 *  - the request bytes (POST, Host, User-Agent, Content-Type,
 *    Content-Length, the target's headers, the signature, the body);
 *  - the bounded queue of one target (WH_QUEUE_MAX bodies, the oldest
 *    dropped first) and the retry delays.
 *
 * Conventions
 *  - No I/O; nothing prints or exits. Output goes to a struct jbuf (check
 *    its `oom`); the queue holds items the caller allocated.
 *  - An engine event (docs/protocol.md, "Events") is trusted for nothing:
 *    a missing or mistyped field gives no webhook event, never a crash.
 *  - Bounded: the tracker holds at most WH_TRACK_MAX instances in the
 *    middle of a stop or a restart (past it they are forgotten: a stop of
 *    one of them may then be reported as a crash); the queue WH_QUEUE_MAX
 *    items.
 */
#ifndef MLS_WEBHOOK_H
#define MLS_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include "cJSON.h"
#include "config.h"
#include "httpcheck.h"
#include "jbuf.h"
#include "metrics.h"

#define WH_QUEUE_MAX  1000   /* events waiting per target */
#define WH_INFLIGHT   4      /* requests in flight per target */
#define WH_TRACK_MAX  4096   /* instances remembered between stopping/exit/running */
#define WH_RETRIES    3      /* retries after the first attempt */
#define WH_SIG_LEN    71     /* "sha256=" and 64 hex digits */

/* The delay before retry k (0-based, k < WH_RETRIES): 1 s, 5 s, 30 s */
extern const int wh_retry_ms[WH_RETRIES];

/* ---------------------------------------------------------- matching */

/* Does a target with services globs[0..n) want the event of `service`
 * (instance `name`, "web.1"; either may be NULL)? n 0: every event (the
 * supervisor's own, reload and heartbeat included). Otherwise a glob must
 * match the service or the instance name (fnmatch(3), no flags); events
 * with neither (reload, heartbeat) are sent to every target. 1 or 0. */
int wh_services_match(char *const *globs, int n, const char *service, const char *name);

/* ----------------------------------------------------------- mapping */

struct wh_track {
	struct { uint64_t h; unsigned f; } e[WH_TRACK_MAX];
	int n;
};

/* The webhook event (one NOTE_* bit, 0 for none) of one engine event
 * line, parsed. The rules (docs/config.md):
 *   exit    -> crash, unless the instance was stopping (a stop, restart
 *              or health restart asked for it) or exit_code is 0
 *   state   running -> started; and restart instead when the instance
 *              ended before (crash, ctl restart, health restart, config
 *              change) and was not stopped by request (ctl stop,
 *              shutdown, removed from the config): the caller asks for
 *              NOTE_RESTART | NOTE_STARTED then (both bits set)
 *           stopped -> stopped, failed -> failed
 *   healthy -> healthy, unhealthy -> unhealthy, reload -> reload
 *   anything else (health_restart, shutdown, other states) -> 0
 * t remembers which instances are stopping or ended (zero it to start). */
unsigned wh_map(struct wh_track *t, const cJSON *ev);

/* The name of a NOTE_* bit ("crash"), or NULL */
const char *wh_event_name(unsigned note);

/* ------------------------------------------------------------ bodies */

struct wh_origin {
	const char *host;     /* gethostname() */
	const char *version;  /* MLS_VERSION */
	const char *arch;     /* MLS_ARCH */
};

/* The body for webhook event `note` of engine event `ev`:
 *   NOTIFY_JSON   the engine event's fields in its order, "event" set to
 *                 the webhook event's name, then "engine_event" (the
 *                 engine's type), "host" and "mls":{"version","arch"}
 *   NOTIFY_SLACK  {"text":"[HOST] web.1 crashed: exited with status 1
 *                 after 5.0s"} (one sentence per event; the deploy
 *                 events: "api deployed 3f2a9c1 (main)", "api rolled back
 *                 from 9ad0958 to 3f2a9c1: REASON", "api deploy failed
 *                 (ref v2): MESSAGE", "config from git rejected (3f2a9c1),
 *                 nothing changed (2 errors): FIRST ERROR")
 * Returns 0, or -1 (out->oom, or ev not an object). */
int wh_body(struct jbuf *out, int format, unsigned note, const cJSON *ev, const struct wh_origin *o);

/* The heartbeat body from a `status` reply (may be NULL or not ok: then
 * no summary) and host figures (may be NULL):
 *   NOTIFY_JSON   {"event":"heartbeat","time":MS,"host":..,"mls":{..},
 *                  "summary":{"instances":N,"running":N,"unhealthy":N,
 *                  "failed":N,"states":{"running":N,...},"restarts":N},
 *                  "load":[1,5,15],"memory":{"total":B,"available":B},
 *                  "disk":{"size":B,"available":B}}
 *   NOTIFY_SLACK  {"text":"[HOST] heartbeat: 5 instances, 4 running,
 *                  1 failed; load 0.10 0.20 0.30; memory 1.2 GiB
 *                  available of 3.8 GiB; disk 12.0 GiB available of
 *                  29.0 GiB"}
 * Returns 0, or -1 on out->oom. */
int wh_heartbeat_body(struct jbuf *out, int format, const cJSON *status, const struct host_stats *hs,
	int64_t now_ms, const struct wh_origin *o);

/* ------------------------------------------------------- signature */

/* out = "sha256=" + lowercase hex of HMAC-SHA256(secret, body), as
 * GitHub's X-Hub-Signature-256 (NUL-terminated, WH_SIG_LEN chars).
 * Returns 0, or -1 in a build without BearSSL (NO_TLS). */
int wh_sign(const char *secret, size_t slen, const void *body, size_t len, char out[WH_SIG_LEN + 1]);

/* --------------------------------------------------------- request */

/* The whole request for url u:
 *   POST PATH HTTP/1.1, Host, User-Agent: mls/VERSION, Content-Type:
 *   application/json, Content-Length, Connection: close, each of
 *   headers[0..nheaders) ("Name: value", checked by the config loader),
 *   X-Mls-Signature when sig is not NULL, then the body.
 * Returns 0, or -1 on out->oom. */
int wh_request(struct jbuf *out, const struct http_url *u, char *const *headers, int nheaders,
	const char *sig, const char *version, const void *body, size_t len);

/* Is an HTTP status worth a retry? 5xx and 408, 429: 1; else 0 (2xx and
 * 3xx are done, other 4xx fail for good). */
int wh_status_retry(int code);

/* ----------------------------------------------------------- queue */

struct wh_item {
	uint64_t seq;       /* the engine event's (0 for a heartbeat) */
	unsigned note;      /* NOTE_* */
	int attempts;       /* made so far */
	size_t len;
	char body[];
};

/* A ring of at most WH_QUEUE_MAX items, oldest first. Zero it to start. */
struct wh_queue {
	struct wh_item *v[WH_QUEUE_MAX];
	int head, n;
};

/* Appends it; when the queue is full the oldest item is taken out first
 * and returned (the caller counts and frees it), else NULL. */
struct wh_item *wh_queue_push(struct wh_queue *q, struct wh_item *it);
/* Puts it back in front (a retry keeps its place); when full, `it`
 * itself is the oldest and is returned, not queued; else NULL. */
struct wh_item *wh_queue_unshift(struct wh_queue *q, struct wh_item *it);
/* The oldest item, taken out; NULL when empty */
struct wh_item *wh_queue_pop(struct wh_queue *q);

#endif
