/* hd.h: mls httpd, inside (docs/api.md).
 *
 * mls httpd is started by mls supervise as the instance `mls-httpd` when
 * the config has `http:`. fd 3 is its control connection (one end of a
 * socketpair, with the permission http.allow); the first line on it is
 * its settings. It reads its token files and TLS key, binds its
 * listeners, then drops to http.user with no new privileges, and from
 * then on only translates HTTP into control requests: nothing the control
 * socket cannot do, the API cannot do.
 *
 * Files:
 *  hd_main.c  settings, credentials, privileges, the loop
 *  hd_ctl.c   the control connection (requests in order, replies by
 *             callback), the event stream with its backlog, SSE clients
 *  hd_api.c   routes, auth, the JSON and text the API answers
 *  hd_deploy.c  deploy and rollback: the request, then its outcome from
 *             the event stream
 *  hd_notify.c  the webhooks of notify: (with no listener when the config
 *             has notify: and no http:)
 *
 * No threads, no fork, no exec: one poll loop (lib/loop.h). */
#ifndef MLS_HD_H
#define MLS_HD_H

#include <stddef.h>
#include <stdint.h>
#include "ctlclient.h"
#include "httpauth.h"
#include "httpsrv.h"
#include "loop.h"
#include "proto.h"

#define HD_MAX_INFLIGHT   64        /* control requests sent, not answered */
#define HD_MAX_QUEUED     4096      /* more wait in httpd (one per HTTP request at most) */
#define HD_MAX_LOG_TAILS  128       /* log followers at once: each holds one of
                                       supervise's PROTO_MAX_CLIENTS connections */
#define HD_BACKLOG_EVENTS 1024      /* events kept for Last-Event-ID */
#define HD_BACKLOG_BYTES  (512u << 10)
#define HD_FOLLOW_MAX_LINES 1000   /* lines a log tail starts with (?n= is cut to it) */
#define HD_KEEPALIVE_MS   25000     /* ": keepalive" to SSE clients */
#define HD_WAIT_DEFAULT_MS 30000    /* a mutation waits this long for its effect */
#define HD_WAIT_MAX_MS    300000
#define HD_DEPLOY_WAIT_DEFAULT_MS 300000 /* a deploy waits this long for its outcome */
#define HD_DEPLOY_WAIT_MAX_MS     600000
#define HD_MAX_DEPLOY_WAITS HD_MAX_INFLIGHT /* deploys waiting for their outcome at once */
#define HD_SETTLE_MS      500       /* running this long = started (as mls ctl) */
#define HD_SESSION_TTL_S  (12 * 3600)
#define HD_COOKIE         "mls_session"
#define HD_SETTINGS_MAX   (256u << 10)

/* What a request may do: its role (httpauth.h's HTTPAUTH_READ/ADMIN, 0
 * for none) */
struct hd_settings {
	char **listen;
	int nlisten;
	int tls;                /* 0 off, 1 auto, 2 files */
	char *cert, *key, *tls_dir;
	char *token, *read_token;
	proto_perm allow;       /* what the admin token may do */
	int public_healthz, public_readyz, public_metrics;
	int max_connections;
	char *user;
};

/* A control request in flight: when its reply comes, fn(p, line, len)
 * runs (line NULL when the connection to supervise is gone) and p is
 * freed. `req` is the HTTP request it serves (0: none); `arg` and `buf`
 * are the caller's. */
struct hd_pending;
typedef void hd_reply_fn(struct hd_pending *p, const char *line, size_t len);
struct hd_pending {
	struct hd_pending *next;
	hd_reply_fn *fn;
	uint64_t req;
	void *arg;
	char line[];             /* the request, sent when a slot is free */
};

/* One Server-Sent Events client */
struct hd_sse {
	struct hd_sse *prev, *next;
	uint64_t req;
	int kind;                /* HD_SSE_EVENTS or HD_SSE_LOGS */
	struct ctlclient logc;   /* HD_SSE_LOGS: its own `logs -f` connection */
	int64_t log_id;          /* its loop entry; 0 = none */
	int begun;               /* the stream's head went out */
	char name[128];          /* HD_SSE_LOGS: the service */
	int n;                   /* lines asked for first */
};
enum { HD_SSE_EVENTS = 1, HD_SSE_LOGS };

/* A mutation waiting for its effect (start, stop, restart) */
struct hd_mwait;

struct hd {
	struct loop *l;
	struct httpsrv *srv;
	struct hd_settings set;
	struct httpauth auth;
	struct httpauth_rl rl;
	int tls_on;
	/* the request connection */
	struct ctlclient ctl;
	int64_t ctl_id;
	struct hd_pending *sent, *sent_tail;    /* in the order sent */
	struct hd_pending *queue, *queue_tail;  /* not sent yet */
	int nsent, nqueued;
	/* the event stream */
	struct ctlclient ev;
	int64_t ev_id;
	uint64_t last_seq;
	struct { uint64_t seq; char *frame; size_t len; } ring[HD_BACKLOG_EVENTS];
	int ring_start, ring_n;
	size_t ring_bytes;
	/* SSE clients */
	struct hd_sse *sse;
	int nsse, nlogtails;
	int64_t keepalive;
	uint64_t sse_dropped;
	/* mutations waiting */
	struct hd_mwait *waits;
	/* status requests sharing one `status` reply */
	struct hd_status_waiter *status_waiters;
	int status_inflight;
	int64_t start_ms;
	int stopping;
};

extern struct hd HD;

/* ---- hd_ctl.c ---- */
/* Queue a control request (one line, no newline) for HTTP request `req`;
 * fn gets its reply. Returns 0, or -1 (ENOMEM, E2BIG: too long,
 * EAGAIN: HD_MAX_QUEUED waiting) and fn is not called. */
int hd_call(uint64_t req, const char *line, hd_reply_fn *fn, void *arg);
/* The control connection's callback and the event stream's */
void hd_ctl_readable(struct loop *l, int64_t id, int fd, int revents, void *ctx);
void hd_ev_readable(struct loop *l, int64_t id, int fd, int revents, void *ctx);
/* Start serving request `req` as an SSE stream of engine events, after
 * `last` (0: only new ones; a `hello` event first) */
void hd_sse_events(uint64_t req, uint64_t last, int has_last);
/* Start serving request `req` as an SSE stream of a service's log lines */
void hd_sse_logs(uint64_t req, const char *name, int n);
/* The HTTP request `req` ended without an answer (client gone) */
void hd_req_gone(uint64_t req);
/* One event line from the stream (for the mutation waits) */
void hd_api_event(const char *line, size_t len, uint64_t seq);

/* ---- hd_api.c ---- */
void hd_handle(struct httpsrv *s, const struct httpsrv_req *r, void *ctx);
void hd_on_close(struct httpsrv *s, uint64_t id, int why, void *ctx);
/* answer `req` with a JSON body / a text body; extra headers may be NULL */
void hd_json(uint64_t req, int status, const char *body, size_t len, const char *headers);
void hd_text(uint64_t req, int status, const char *body);
void hd_error(uint64_t req, int status, const char *msg, const char *headers);
/* the HTTP status for a control error message */
int hd_status_of(const char *error);
void hd_api_gone(uint64_t req);
/* a control reply passed on: as it is when ok (200), else its error
 * with the status of hd_status_of() (503 when line is NULL) */
void hd_api_pass(uint64_t req, const char *line, size_t len);

/* ---- hd_deploy.c ---- */
/* POST .../NAME/deploy (rollback 0) or /rollback, allowed already;
 * wait_ms 0: 202 once supervise took it */
void hd_deploy(const struct httpsrv_req *r, const char *name, int rollback, int64_t wait_ms);
/* One engine event (parsed, and its line) for the waits and counters */
struct cJSON;
void hd_deploy_event(const struct cJSON *ev, const char *line, size_t len, uint64_t seq);
void hd_deploy_gone(uint64_t req);
/* mls_deploys_total for /metrics */
struct jbuf;
void hd_deploy_metrics(struct jbuf *b);

/* ---- hd_static.c ---- */
/* The dashboard's files and GET /api/v1/session: 1 when it answered r */
int hd_static(const struct httpsrv_req *r);

/* ---- hd_notify.c ---- */
struct cJSON;
struct jbuf;
/* The targets from the settings line ("notify": [...]); 0 or -1 with err */
int hd_notify_load(const struct cJSON *settings, char *err, size_t errsz);
/* Host names resolved, CA files read: before privileges are dropped */
int hd_notify_init(char *err, size_t errsz);
/* Heartbeat timers: once the loop runs */
void hd_notify_start(void);
/* One engine event (parsed), from the event stream */
void hd_notify_event(const struct cJSON *ev);
/* The mls_notify_* families for /metrics (nothing without targets) */
void hd_notify_metrics(struct jbuf *b);
int hd_notify_count(void);
/* Requests in flight or due now (the exit waits a little for them) */
int hd_notify_busy(void);

#endif
