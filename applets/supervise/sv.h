/* sv.h: the state of mls supervise, shared by its files:
 *   sv_main.c    main, options, signals, shutdown, daemon mode
 *   sv_inst.c    instances: start, exit, stop, backoff, dependencies, jobs
 *   sv_ctl.c     control requests and their JSON replies, events
 *   sv_reload.c  config (re)load, inotify, journal replay
 *   sv_log.c     mls's own event log on stderr, JSON string building
 *
 * One process, one loop, no threads. Everything is bounded by the config
 * (services x replicas) and the limits in lib/. */
#ifndef MLS_SV_H
#define MLS_SV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "config.h"
#include "ctlsrv.h"
#include "jbuf.h"
#include "journal.h"
#include "logsink.h"
#include "loop.h"
#include "proto.h"

enum inst_state {
#define X(e, s) ST_##e,
	PROTO_STATES(X)
#undef X
	ST__COUNT
};
const char *state_name(enum inst_state s);

enum hook_kind { HOOK_NONE, HOOK_PRE, HOOK_POST };

#define SV_HISTORY 10 /* exits kept per instance for `history` */

struct exitrec {
	int64_t time_ms; /* wall clock */
	pid_t pid;
	int code, sig;   /* code -1 when killed by sig */
	int64_t uptime_ms;
};

struct svc;

struct inst {
	struct svc *svc;
	int idx;                 /* 1-based */
	char name[CONFIG_NAME_MAX + 8]; /* "web.1" */
	enum inst_state state;
	pid_t pid;               /* main process, 0 when none */
	pid_t pgid;              /* its process group while it may have members */
	pid_t hook_pid;
	enum hook_kind hook;
	int64_t spawned_ms;      /* monotonic, of the current/last process */
	int64_t timer;           /* backoff, stop-kill, hook or job timeout timer */
	int64_t job_timer;       /* schedule: next due time; runs: none */
	int port;
	/* output: one pipe for the instance's whole life, so orphans and
	 * restarts never lose a line */
	int out_r, out_w;
	int64_t out_id;
	struct logsink log;
	int ready_r;             /* readiness pipe (ready: notify) */
	int64_t ready_id;
	int64_t notify_id;       /* its NOTIFY_SOCKET while starting */
	/* what is wanted */
	int down;                /* stopped by request: stays stopped */
	int restart_after_stop;  /* restart: start again when stopped */
	int remove_after_stop;   /* reload removed it */
	int timed_out;           /* job killed by its timeout */
	/* counters */
	int quick;               /* crashes in a row sooner than reset_after */
	int64_t *starts;         /* ring of start times (restart_limit.count) */
	int nstarts, starts_cap;
	int restarts;            /* across mls restarts (journal) */
	int runs_done;
	int has_exit, last_code, last_sig;
	int64_t next_start_ms;   /* backoff: monotonic */
	time_t next_run;         /* schedule: wall clock */
	char reason[160];
	const char *waiting_for; /* dependency name (points into config) */
	struct exitrec *hist;    /* SV_HISTORY, on first exit */
	int nhist;
	int is_new;              /* created by this (re)load, not started yet */
	int ever_started;        /* by this mls process (journal: restart or not) */
};

struct svc {
	struct service *cfg;     /* in sv.cfg, or in an old config while removed */
	struct config *owner;    /* the config cfg lives in */
	struct inst **inst;
	int ninst;
	int removed;             /* by reload: deleted once all its instances stopped */
	int order;               /* topological position (dependencies first) */
};

struct oldcfg {                  /* configs kept alive for removed services */
	struct config *cfg;
	int refs;
	struct oldcfg *next;
};

struct sv {
	struct loop *loop;
	struct config *cfg;
	struct oldcfg *old;
	const char **files;      /* -c files, as given */
	int nfiles;
	const char **profiles;   /* NULL-terminated */
	struct svc **svcs;
	int nsvcs;
	char *state_dir, *log_dir;
	char *sock_path;
	struct ctlsrv *ctl;
	struct journal journal;
	int lock_fd;
	pid_t pid;
	int64_t start_ms;        /* monotonic */
	uint64_t seq;            /* event sequence number */
	int64_t reconcile_timer;
	int shutting_down;       /* 1 graceful, 2 hurry (second signal) */
	int exit_status;
	int64_t wall_offset_s;   /* test hook: MLS_TEST_CLOCK=1 and `debug-clock` */
	int test_hooks;
	/* inotify reload */
	int ino_fd;
	int64_t ino_id, ino_timer;
	int *ino_wd;
	int nino;
	/* event log */
	enum log_level level;
	enum log_format format;
	char **environ_base;
	long long orig_nofile;   /* RLIMIT_NOFILE soft limit services get */
	char scratch[LOG_READ_MAX];
};

extern struct sv SV;

/* sv_log.c: mls's own log, to stderr, at cfg log_level/log_format */
void sv_log(enum log_level lv, const struct inst *i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t wall_ms(void);   /* wall clock in ms, with the test offset */
time_t wall_s(void);


/* sv_inst.c */
struct inst *inst_new(struct svc *s, int idx);
void inst_free(struct inst *i);
void inst_start(struct inst *i);           /* honours deps via reconcile */
void inst_stop(struct inst *i, const char *why);
void inst_kill_now(struct inst *i);        /* SIGKILL group (hurry) */
void inst_set_state(struct inst *i, enum inst_state st, const char *reason);
int inst_alive(const struct inst *i);      /* process, hook or group left */
void inst_ctl_start(struct inst *i);       /* `start` request */
void inst_ctl_restart(struct inst *i);
void inst_ctl_stop(struct inst *i);
void sv_reap(void);                        /* SIGCHLD */
void sv_reconcile_soon(void);
void sv_reconcile(void);
void sv_compute_order(void);
void sv_job_due(struct loop *l, int64_t id, void *ctx);
void inst_add_exit(struct inst *i, int64_t t, pid_t pid, int code, int sig, int64_t up);
int sv_all_down(void);

/* sv_ctl.c */
void sv_ctl_handle(struct ctlsrv *s, struct ctlconn *c, int argc, char **argv, void *ctx);
void sv_event_state(struct inst *i);
void sv_event_exit(struct inst *i, pid_t pid, int code, int sig, int64_t up);
void sv_event_raw(const char *type, const char *body); /* body: ,"k":v... */
void sv_log_line(struct inst *i, const char *buf, size_t n);

/* sv_reload.c */
int sv_load(struct config **out, struct diags *d);
int sv_apply(struct config *ncfg, struct jbuf *reply); /* first load too */
int sv_reload(struct jbuf *reply);          /* 0 ok, -1 invalid (reply says why) */
void sv_watch_files(void);
void sv_sweep(void);
void sv_journal_replay(void);
void sv_journal(const char *ev, struct inst *i, const char *extra, int sync);

#endif
