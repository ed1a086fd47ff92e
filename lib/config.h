/* The configuration schema: one loader, one set of structs, used by every
 * applet. lib never prints: problems are collected as diagnostics
 * (FILE:LINE:COL, severity, message, key) and the applet formats them.
 *
 * Limits (each with its own message when reached):
 *   CONFIG_MAX_FILE_SIZE   bytes per YAML file
 *   CONFIG_MAX_DEPTH       nesting of YAML collections
 *   CONFIG_MAX_NODES       nodes per file, counting alias expansion
 *                          (so an alias bomb stops here, linearly)
 *   CONFIG_MAX_SERVICES    services in one config
 *   CONFIG_MAX_DIAGS       diagnostics kept; one more says "too many"
 */
#ifndef MLS_CONFIG_H
#define MLS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "cron.h"
#include "diag.h"
#include "proto.h"

#define CONFIG_MAX_FILE_SIZE (16u << 20) /* 16 MiB */
#define CONFIG_MAX_DEPTH     64
#define CONFIG_MAX_NODES     1000000
#define CONFIG_MAX_SERVICES  10000
#define CONFIG_MAX_REPLICAS  1000
#define CONFIG_MAX_INCLUDES  256        /* files matched by all include globs */
#define CONFIG_NAME_MAX      63

#define CONFIG_DEFAULT_FILE "/etc/mls/mls.yaml"
#define CONFIG_DEFAULT_STATE_DIR "/run/mls"

/* A place in a config file; `file` points into config.files[] */
struct pos {
	const char *file;
	int line, col; /* 1-based; 0 = unknown */
};

/* A NULL-terminated list of strings, with the position of each */
struct strv {
	char **v;
	struct pos *pos;
	int n;
};

/* command / hook / healthcheck exec: a list is exec'd directly, a string
 * is run by /bin/sh -c (then argv = {"/bin/sh", "-c", STRING}) */
struct command {
	char **argv; /* NULL-terminated; NULL when unset */
	int argc;
	int shell;   /* 1 when given as a string */
	struct pos pos;
};

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NO };
enum ready_mode { READY_NONE, READY_NOTIFY, READY_HEALTHY };
enum dep_cond { DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED };
enum hc_kind { HC_NONE, HC_HTTP, HC_TCP, HC_EXEC };
enum log_level { LVL_DEBUG, LVL_INFO, LVL_WARN, LVL_ERROR };
enum log_format { LOGF_TEXT, LOGF_JSON };
enum startup_mode { STARTUP_PARALLEL, STARTUP_SEQUENTIAL };

#define PORT_NONE 0
#define PORT_AUTO (-1)

/* notify events, as a bit set (docs/config.md, "notify"); the order of
 * the bits is that of notify_event_names[] */
enum {
	NOTE_CRASH = 1 << 0, NOTE_RESTART = 1 << 1, NOTE_UNHEALTHY = 1 << 2,
	NOTE_FAILED = 1 << 3, NOTE_DEPLOYED = 1 << 4, NOTE_STARTED = 1 << 5,
	NOTE_STOPPED = 1 << 6, NOTE_HEALTHY = 1 << 7, NOTE_RELOAD = 1 << 8,
	NOTE_ROLLED_BACK = 1 << 9, NOTE_HEARTBEAT = 1 << 10, NOTE_DEPLOY_FAILED = 1 << 11,
	NOTE_CONFIG_REJECTED = 1 << 12,
};
#define NOTE_COUNT 13
#define NOTE_DEFAULT (NOTE_CRASH | NOTE_UNHEALTHY | NOTE_FAILED | NOTE_ROLLED_BACK | NOTE_DEPLOY_FAILED | NOTE_CONFIG_REJECTED)
/* "crash", "restart", ... "heartbeat", NULL: bit k is 1 << k */
extern const char *const notify_event_names[NOTE_COUNT + 1];

enum notify_format { NOTIFY_JSON, NOTIFY_SLACK };

#define NOTIFY_MAX_TARGETS   16       /* webhook targets (top-level notify:) */
#define NOTIFY_MAX_HEADERS   16       /* headers of one target */
#define NOTIFY_MAX_SERVICES  64       /* names or globs in one target's services */
#define NOTIFY_DEFAULT_CA    "/etc/ssl/certs/ca-certificates.crt"
#define NOTIFY_DEFAULT_TIMEOUT_MS   10000
#define NOTIFY_MAX_TIMEOUT_MS       300000
#define NOTIFY_DEFAULT_HEARTBEAT_MS 60000
#define NOTIFY_MIN_HEARTBEAT_MS     1000

/* One webhook target */
struct notify_target {
	char *url;              /* http:// or https:// */
	unsigned events;        /* NOTE_* (NOTE_DEFAULT when not given) */
	struct strv services;   /* names or fnmatch(3) globs; n 0 = every service */
	enum notify_format format;
	char *secret;           /* NULL: no X-Mls-Signature */
	struct strv headers;    /* "Name: value", checked */
	int64_t timeout_ms;     /* one request, connect to status line */
	int64_t heartbeat_ms;   /* 0 unless NOTE_HEARTBEAT is in events */
	char *ca_file;          /* https: trust anchors (NOTIFY_DEFAULT_CA) */
	struct pos pos;
};

/* `notify:`: one target (a mapping) or a list of them */
struct notify_cfg {
	struct notify_target *t;
	int n;
	uint64_t hash;          /* of the whole `notify:` value (0: none) */
	struct pos pos;
};

struct dep {
	char *name;
	enum dep_cond cond;
	struct pos pos;
};

#define HC_MAX_EXPECT 16   /* codes in healthcheck.expect_status */

struct healthcheck {
	enum hc_kind kind;
	char *http;          /* URL (may hold ${PORT}) */
	char *tcp;           /* host:port */
	struct command exec;
	int64_t interval_ms, timeout_ms, start_period_ms;
	int64_t start_interval_ms; /* probe period during start_period (default: interval_ms) */
	int retries;         /* consecutive failures before unhealthy */
	int success_threshold; /* consecutive successes before healthy again (default 1) */
	int expect_status[HC_MAX_EXPECT]; /* http: healthy codes; nexpect 0 = 200-399 */
	int nexpect;
	int restart;         /* bool */
	struct pos pos;
};

/* limits.*: a field < 0 is unset */
struct limits {
	int64_t memory;  /* bytes: memory.max with cgroup v2, else RLIMIT_AS */
	double cpu;      /* cores; < 0 unset (cgroup v2 only: cpu.max) */
	int64_t pids, nofile, core;
	int64_t swap;    /* bytes: memory.swap.max (cgroup v2 only) */
	int io_weight;   /* io.weight 1-10000, 0 unset (cgroup v2 only) */
	struct pos cpu_pos;
};

/* git: (a service's) and config_git: (top level), docs/config.md */
#define GIT_DEFAULT_INTERVAL_MS 30000
#define GIT_DEFAULT_KEEP 3
#define GIT_DEFAULT_VERIFY_MS 60000
#define GIT_DEFAULT_PRE_DEPLOY_TIMEOUT_MS 300000
#define GIT_DEFAULT_CONFIG_PATH "mls.yaml"
#define WATCH_DEFAULT_DEBOUNCE_MS 300
#define WATCH_MAX_DEBOUNCE_MS 60000
#define GIT_SERVICE "mls-gitwatch"   /* the internal instance running gitwatch */
struct git_cfg {
	char *url;                   /* NULL when unset */
	char *ref;                   /* branch, tag or commit; NULL: the remote's HEAD */
	int64_t interval_ms;         /* 0: only on request */
	int depth;                   /* accepted; libgit2 1.5.1 fetches in full (a warning) */
	char *token_file, *username, *password_file, *ca_file;
	int keep;                    /* revisions kept on disk */
	int rollback;
	int64_t verify_window_ms;
	char *path;                  /* config_git: the file in the repository */
	uint64_t hash;               /* of the whole mapping */
	struct pos pos;
};

struct service {
	char *name;
	struct pos pos;          /* of the name key */
	struct command command;
	char *working_dir;       /* default: the directory of the file defining the service */
	struct pos working_dir_pos;
	struct strv environment; /* KEY=VALUE, in file order */
	struct strv env_file;
	char *user;              /* name or uid[:gid]; resolved at start */
	int replicas;
	int port;                /* PORT_NONE, PORT_AUTO or the first port */
	struct pos port_pos;
	enum restart_policy restart;
	struct {
		int64_t initial_ms, max_ms, reset_after_ms;
		double factor;
		int jitter_pct;
	} backoff;
	struct { int count; int64_t window_ms; } restart_limit;
	int stop_signal;
	int64_t stop_grace_ms;
	struct dep *deps;
	int ndeps;
	struct healthcheck health;   /* kind HC_NONE when unset */
	int64_t watchdog_ms;         /* systemd's WatchdogSec: WATCHDOG=1 at least this often; 0 = none */
	enum ready_mode ready;
	struct pos ready_pos;
	int ready_fd;
	struct limits limits;
	int nice;
	int has_nice;
	struct strv profiles;
	struct strv watch;           /* patterns (lib/pathglob.h), relative to working_dir */
	int64_t watch_debounce_ms;   /* a change restarts this long after it (one restart per window) */
	struct git_cfg git;          /* url NULL when unset */
	int critical;
	struct command pre_start, post_stop, pre_deploy;
	int64_t pre_deploy_timeout_ms;
	struct notify_cfg notify;
	struct { int64_t max_size; int keep; } log;
	struct strv tags;
	/* jobs */
	char *schedule;              /* NULL: not a cron job */
	struct cron cron;
	int64_t timeout_ms;          /* 0 = none */
	int runs;                    /* 0 = not a run-N job */
	int is_job;                  /* schedule or runs */
	int active;                  /* selected by the active profiles */
	int internal;                /* mls's own (HTTP_SERVICE), not from the config's services */
	/* image: / build: (docs/docker.md): command is then `mls docker-run
	 * ...`, run from supervise's own binary like an internal one's */
	char *image, *build;         /* build: an absolute directory */
	char *docker_cli;            /* NULL: docker, else podman, in PATH */
	struct pos image_pos;        /* of image: (or build:) */
	int docker;                  /* image or build given */
	char *source;                /* the servers_dir entry it comes from ("servers/app.py"), or NULL */
	uint64_t hash;               /* of every field; equal hash = unchanged on reload */
	uint64_t hash_shape;         /* the same without `replicas` and `healthcheck` */
};

/* http.tls */
enum http_tls { HTTP_TLS_OFF, HTTP_TLS_AUTO, HTTP_TLS_FILES };

/* endpoints served without a token (http.public), as a bit set */
enum { HTTP_PUBLIC_HEALTHZ = 1 << 0, HTTP_PUBLIC_READYZ = 1 << 1, HTTP_PUBLIC_METRICS = 1 << 2 };

#define HTTP_MAX_LISTEN 8            /* addresses in http.listen */
#define HTTP_DEFAULT_LISTEN "127.0.0.1:9000"
#define HTTP_DEFAULT_MAX_CONNECTIONS 256
#define HTTP_MAX_MAX_CONNECTIONS 4096
#define HTTP_MIN_TOKEN 16            /* characters in a token */
#define HTTP_SERVICE "mls-httpd"     /* the internal instance serving it */

struct http_cfg {
	int enabled;                 /* `http:` is there (even empty) */
	struct strv listen;          /* HOST:PORT; HTTP_DEFAULT_LISTEN when unset */
	enum http_tls tls;           /* default: AUTO unless every address is loopback */
	char *tls_cert, *tls_key;    /* HTTP_TLS_FILES */
	char *token, *token_file;    /* admin */
	char *read_token, *read_token_file; /* read-only */
	proto_perm allow;            /* what the admin token may do (PROTO_PERM_*) */
	unsigned public_;            /* HTTP_PUBLIC_* */
	int max_connections;
	char *user;                  /* NULL: nobody when mls runs as root */
	int loopback;                /* every listen address is on loopback */
	uint64_t hash;               /* of the whole `http:` mapping */
	struct pos pos;
};

/* One entry of servers_dir, as the loader saw it (docs/servers-dir.md) */
struct servers_entry {
	char *path;          /* servers_dir/NAME */
	char *name;          /* the service it runs (or would); "" when none */
	const char *kind;    /* srv_kind_name() */
	char *note;          /* why it is ignored or not run; NULL when it runs */
	int runs;            /* it became a service */
	int problem;         /* not run for a problem (a clash, a bad mls.yaml, ...), not a plain skip */
	char *trigger;       /* a directory entry: one more file whose change restarts it (autoexec's entry), or NULL */
	int any_file;        /* a directory entry whose every file counts (Docker) */
};

/* `init:` (docs/init.md): what supervise does as the system's init. A
 * bool (init: true / false) or a mapping; read at boot only (a reload
 * does not run the steps again). Outside init mode it is accepted and
 * ignored with a warning. */
struct init_mnt {                 /* one of init.mounts */
	char *source, *target, *type, *options; /* options NULL: none */
	struct pos pos;
};
struct init_cfg {
	int set;                      /* the config has init: */
	int enabled;                  /* -1 detect (default), 0 never (init: false), 1 always (init: true) */
	int root_ro;                  /* leave / read-only */
	int tmp;                      /* tmpfs on /tmp */
	struct init_mnt *mounts;
	int nmounts;
	struct strv sysctl_keys, sysctl_values; /* same n, in file order */
	struct strv modules;
	struct pos pos;
};

struct config {
	/* every file read, in order; struct pos.file points here */
	char **files;
	int nfiles;
	char *state_dir, *log_dir;
	enum log_level log_level;
	enum log_format log_format;
	struct strv include;
	char *servers_dir;
	struct pos servers_dir_pos;
	struct servers_entry *servers; /* every entry looked at, in name order */
	int nservers;
	enum startup_mode startup;
	char *control_group;
	/* mutating control requests control_group members may make
	 * (PROTO_PERM_* of proto.h); PROTO_PERM_GROUP_DEFAULT when unset */
	proto_perm control_allow;
	struct http_cfg http;
	struct notify_cfg notify;
	struct git_cfg config_git;   /* url NULL when unset */
	char *git_user;              /* NULL: the state directory's owner, nobody for root */
	struct pos git_user_pos;
	struct service *svcs;
	int nsvcs;
	struct init_cfg init;
	struct arena *arena;  /* owns every string and array above */
};

/* What the loader is asked to do */
struct config_opts {
	const char *const *profiles; /* active profiles, NULL-terminated or NULL */
	/* environment lookup for ${VAR}; NULL = getenv */
	const char *(*getenv)(const char *name, void *ctx);
	void *getenv_ctx;
	int check_commands;          /* warn when a command's program is not found */
	/* severity for keys supervise does not implement yet:
	 * DIAG_WARNING (validate) or DIAG_ERROR (supervise) */
	enum diag_severity unsupported;
	/* a servers_dir entry that cannot run (a name clash, a bad mls.yaml)
	 * is left out with a warning instead of an error (supervise: one bad
	 * file dropped in must not stop the others) */
	int servers_soft;
	/* servers_dir is not read (fuzz_config: the loader on arbitrary text
	 * must not wander through this machine's directories) */
	int no_servers_scan;
	/* validate: why this machine has no usable cgroup v2 (limits.cpu is
	 * then a warning); NULL: not checked */
	const char *cgroup_why;
	/* init: will take effect (supervise as the system's init, or PID 1
	 * that may become it); 0: init: gets a warning that it applies only
	 * in init mode (validate, supervise as a plain process) */
	int init_mode;
};

/* Load and check the config made of files[0..nfiles) merged in order
 * (later files override keys of earlier ones, maps merge, lists replace).
 * Fills *cfg even when there are errors (as far as it got).
 * Returns 0 when no error diagnostics were added, -1 otherwise;
 * d->io_error is set when a file could not be opened or read. */
int config_load(struct config *cfg, const char *const *files, int nfiles,
		const struct config_opts *opts, struct diags *d);

/* The same on a buffer (for tests and the fuzzer); `name` is used in
 * positions. Includes are resolved relative to the current directory. */
int config_load_mem(struct config *cfg, const char *name, const char *data,
		size_t len, const struct config_opts *opts, struct diags *d);

void config_free(struct config *cfg);

/* Move a loaded config into a fresh arena that holds only what its structs
 * point to (the loader's tree and maps are freed). Returns 0, or -1 on
 * ENOMEM with cfg unchanged and still valid. (lib/config_copy.c) */
int config_compact(struct config *cfg);

/* Find a service by name; NULL if none */
struct service *config_find(const struct config *cfg, const char *name);

/* Names for enums, for messages and status */
const char *restart_name(enum restart_policy r);
const char *ready_name(enum ready_mode r);
const char *dep_cond_name(enum dep_cond c);

#endif
