/* proto.h: the control protocol shared by mls supervise (server), mls ctl
 * and mls httpd (clients). The full description is docs/protocol.md.
 *
 * Requests: one line of words separated by blanks, at most
 * PROTO_MAX_LINE bytes and PROTO_MAX_WORDS words. Replies: one JSON object
 * per line, {"ok":true,...} or {"ok":false,"error":"..."}. `events` turns
 * the connection into a stream of JSON event lines. */
#ifndef MLS_PROTO_H
#define MLS_PROTO_H

#include <stddef.h>

#define PROTO_SOCKET_NAME   "mls.sock"          /* in state_dir */
#define PROTO_DEFAULT_SOCKET "/run/mls/mls.sock"
#define PROTO_MAX_LINE      4096    /* bytes per request line, newline included */
#define PROTO_MAX_WORDS     256     /* words per request */
#define PROTO_MAX_CLIENTS   1024    /* simultaneous connections; more are refused */
#define PROTO_MAX_OUT       (8u << 20) /* bytes queued for one client; past it the client is dropped */
#define PROTO_IDLE_TIMEOUT_MS 30000 /* a connection with a partial request or nothing for this long is closed (not `events`) */
#define PROTO_LOGS_DEFAULT  100     /* lines `logs NAME` returns by default */

/* ---- permissions (docs/protocol.md, "Who may do what") ----
 *
 * Every connection carries a permission: the set of mutating requests it
 * may make. Read-only requests (PROTO_READ_COMMANDS) are open to every
 * connection; each mutating one (PROTO_MUTATING) needs its bit. A request
 * refused for want of its bit is answered
 * {"ok":false,"error":"not allowed: CMD (allowed: ...)"} and nothing is done.
 * supervise grants PROTO_PERM_ALL to root and to its own uid (the socket's
 * owner), and to members of control_group what `control_allow:` says
 * (default PROTO_PERM_GROUP_DEFAULT). `run` never reaches the server: ctl
 * runs it itself. */
#define PROTO_READ_COMMANDS(X) X("status") X("logs") X("history") X("health") X("config") X("events") X("version") X("channel")
#define PROTO_COUNT_(name) + 1
enum { PROTO_NREAD = 0 PROTO_READ_COMMANDS(PROTO_COUNT_) }; /* how many */
#undef PROTO_COUNT_

/* X(ID, "name"): the bit PROTO_PERM_ID. debug-clock is a test hook
 * (MLS_TEST_CLOCK=1) and annotate is gitwatch's (it covers `annotate`,
 * `pre-deploy` and `config-apply`, docs/gitwatch-protocol.md): neither can
 * be named by control_allow or http.allow; only full access has them (and
 * gitwatch's channel, annotate). */
#define PROTO_MUTATING(X) \
	X(START, "start") X(STOP, "stop") X(RESTART, "restart") \
	X(SIGNAL, "signal") X(RELOAD, "reload") X(SHUTDOWN, "shutdown") \
	X(DEPLOY, "deploy") X(ROLLBACK, "rollback") \
	X(ANNOTATE, "annotate") X(DEBUG_CLOCK, "debug-clock")

typedef unsigned proto_perm; /* PROTO_PERM_* bits */

enum {
#define PROTO_X_(id, name) PROTO_PERM_BIT_##id,
	PROTO_MUTATING(PROTO_X_)
#undef PROTO_X_
	PROTO_PERM_NBITS
};

enum {
#define PROTO_X_(id, name) PROTO_PERM_##id = 1u << PROTO_PERM_BIT_##id,
	PROTO_MUTATING(PROTO_X_)
#undef PROTO_X_
};

#define PROTO_PERM_NONE 0u                                  /* read-only */
#define PROTO_PERM_ALL  ((1u << PROTO_PERM_NBITS) - 1)       /* root, the owner */
/* control_group members when control_allow is not set: all but shutdown */
#define PROTO_PERM_GROUP_DEFAULT \
	(PROTO_PERM_START | PROTO_PERM_STOP | PROTO_PERM_RESTART | \
	 PROTO_PERM_SIGNAL | PROTO_PERM_RELOAD | PROTO_PERM_DEPLOY | PROTO_PERM_ROLLBACK)
/* what no configuration can grant */
#define PROTO_PERM_UNGRANTABLE (PROTO_PERM_ANNOTATE | PROTO_PERM_DEBUG_CLOCK)
/* mls gitwatch's channel */
#define PROTO_PERM_GITWATCH (PROTO_PERM_START | PROTO_PERM_STOP | PROTO_PERM_RESTART | PROTO_PERM_ANNOTATE)

/* The names, NULL-terminated (lib/proto.c): the read-only requests, and
 * the mutating ones indexed by their PROTO_PERM_BIT_* */
extern const char *const proto_read_commands[];
extern const char *const proto_mutating[];

/* The bit of a mutating request; 0 for a read-only or unknown name */
proto_perm proto_perm_of(const char *cmd);

/* "status, logs, history, events, version" followed by the names of the
 * bits set in p, comma-separated, into buf (always NUL-terminated when
 * size > 0). Returns the length it needed, as snprintf. */
size_t proto_perm_fmt(proto_perm p, char *buf, size_t size);

/* Instance states, in this order in enum inst_state (supervise) */
#define PROTO_STATES(X) \
	X(WAITING, "waiting") X(STARTING, "starting") X(RUNNING, "running") \
	X(STOPPING, "stopping") X(STOPPED, "stopped") X(BACKOFF, "backoff") \
	X(EXITED, "exited") X(FAILED, "failed")

#endif
