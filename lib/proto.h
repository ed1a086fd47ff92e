/* proto.h: the control protocol shared by mls supervise (server), mls ctl
 * and mls httpd (clients). The full description is docs/protocol.md.
 *
 * Requests: one line of words separated by blanks, at most
 * PROTO_MAX_LINE bytes and PROTO_MAX_WORDS words. Replies: one JSON object
 * per line, {"ok":true,...} or {"ok":false,"error":"..."}. `events` turns
 * the connection into a stream of JSON event lines. */
#ifndef MLS_PROTO_H
#define MLS_PROTO_H

#define PROTO_SOCKET_NAME   "mls.sock"          /* in state_dir */
#define PROTO_DEFAULT_SOCKET "/run/mls/mls.sock"
#define PROTO_MAX_LINE      4096    /* bytes per request line, newline included */
#define PROTO_MAX_WORDS     256     /* words per request */
#define PROTO_MAX_CLIENTS   1024    /* simultaneous connections; more are refused */
#define PROTO_MAX_OUT       (8u << 20) /* bytes queued for one client; past it the client is dropped */
#define PROTO_IDLE_TIMEOUT_MS 30000 /* a connection with a partial request or nothing for this long is closed (not `events`) */
#define PROTO_LOGS_DEFAULT  100     /* lines `logs NAME` returns by default */

/* Instance states, in this order in enum inst_state (supervise) */
#define PROTO_STATES(X) \
	X(WAITING, "waiting") X(STARTING, "starting") X(RUNNING, "running") \
	X(STOPPING, "stopping") X(STOPPED, "stopped") X(BACKOFF, "backoff") \
	X(EXITED, "exited") X(FAILED, "failed")

#endif
