/* sv.h: the state of mls supervise, shared by its files. Layers, each
 * calling only the ones below it (no file calls into a file that calls it
 * back):
 *
 *   sv_main.c    main: options, lock, daemon, socket, signals, the loop
 *   sv_ctl.c     control requests and their JSON replies
 *   sv_reload.c  config (re)load and apply, inotify
 *   sv_journal.c journal replay (restart counts and history across runs)
 *   sv_sdnotify.c mls under systemd (Type=notify): READY=1, RELOADING=1,
 *                STOPPING=1 to mls's own NOTIFY_SOCKET
 *   sv_watch.c   `watch:`: services restarted when their files change
 *                (inotify, the debounce window)
 *   sv_sched.c   the reconcile pass (dependencies, startup order,
 *                shutdown order), reaping, lookups by name and pid
 *   sv_git.c     services deployed from git: what gitwatch annotates,
 *                hooks.pre_deploy, the deploy events
 *   sv_health.c  health checks (tcp, http, exec) probed in the loop
 *   sv_step.c    the life of an instance: inst_step(), the one transition
 *                function, and the policy (backoff, restart limit, exits)
 *   sv_child.c   processes of an instance: spawn (main, hooks), output
 *                capture, readiness pipe and NOTIFY_SOCKET, ports, signals
 *   sv_event.c   the one outbound path: each engine event becomes mls's
 *                log line, a journal record and an `events` line
 *   sv_log.c     mls's own log line on stderr; the wall clock
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
#include "arena.h"
#include "cgroup.h"
#include "config.h"
#include "ctlsrv.h"
#include "jbuf.h"
#include "journal.h"
#include "logsink.h"
#include "loop.h"
#include "notify.h"
#include "procstat.h"
#include "proto.h"
#include "strmap.h"

enum inst_state {
#define X(e, s) ST_##e,
	PROTO_STATES(X)
#undef X
	ST__COUNT
};

/* What is wanted of an instance; the state says what is */
enum want {
	WANT_RUN,    /* keep it running (the default; also "start again after this stop") */
	WANT_STOP,   /* stopped by request: stays stopped until `start` */
	WANT_REMOVE, /* removed by a reload: stopped, then dropped */
};

/* One timer per purpose; each fires its own event */
enum inst_timer {
	T_RESTART, /* backoff over: start again */
	T_KILL,    /* stop grace (or a hook's time) over: SIGKILL */
	T_TIMEOUT, /* a job's `timeout:` reached: stop it */
	T_JOB,     /* a `schedule:` job's next run is due */
	T_WATCHDOG, /* no WATCHDOG=1 within `watchdog:` */
	T__COUNT
};

enum hook_kind { HOOK_NONE, HOOK_PRE, HOOK_POST };

/* The health of an instance with a healthcheck (status "health") */
enum health { H_NONE, H_STARTING, H_HEALTHY, H_UNHEALTHY };

/* Why mls stopped a process that was wanted running: its exit then
 * counts as a failure (backoff, restart limit) */
enum stop_cause { CAUSE_NONE, CAUSE_TIMEOUT, CAUSE_UNHEALTHY, CAUSE_WATCHDOG };

#define SV_HEALTH_LOG 5     /* check results kept per instance (`health NAME`) */
#define SV_HEALTH_MSG 4096  /* bytes of the last result's message (an exec check's output) */

struct hresult {
	int64_t time_ms;   /* wall clock */
	int64_t dur_ms;
	int ok;
	char msg[160];     /* cut; the whole last one is inst.hmsg */
};

struct hprobe;

/* The events of inst_step(). Each says what happened, not what to do. */
enum inst_event {
	EV_START,         /* reconcile: its dependencies are met: start now */
	EV_WAIT,          /* reconcile: a dependency is not met (arg: why, dep) */
	EV_JOB_ARM,       /* reconcile: a scheduled job is new: wait for its first time */
	EV_READY,         /* a line on its ready fd */
	EV_NOTIFY,        /* a datagram on its NOTIFY_SOCKET (arg: note) */
	EV_EXIT,          /* its main process ended (arg: status) */
	EV_GROUP_GONE,    /* no process is left in its group */
	EV_HOOK_EXIT,     /* its pre_start or post_stop hook ended (arg: status) */
	EV_TIMER_RESTART, /* the timers of enum inst_timer, in that order */
	EV_TIMER_KILL,
	EV_TIMER_TIMEOUT,
	EV_TIMER_JOB,
	EV_TIMER_WATCHDOG,
	EV_CTL_START,     /* `start` */
	EV_CTL_STOP,      /* `stop` */
	EV_RESTART,       /* `restart` (arg: why) */
	EV_CONFIG,        /* a reload changed its config: restart with the new one */
	EV_RETRY,         /* a reload: a failed instance gets a new chance */
	EV_REMOVE,        /* a reload removed it (stopped later, in order) */
	EV_TEARDOWN,      /* shutdown or removal: its dependents are down, stop it */
	EV_HURRY,         /* second SIGTERM: SIGKILL whatever it runs */
	EV_HEALTH_OK,     /* a health check passed (arg: why = its message) */
	EV_HEALTH_FAIL,   /* a health check failed (arg: why = what failed) */
	EV__COUNT
};

/* Optional arguments of an event */
struct step_arg {
	int status;        /* EV_EXIT, EV_HOOK_EXIT: the wait status */
	const char *why;   /* EV_WAIT, EV_RESTART: the reason shown; EV_HEALTH_*: the message */
	int64_t dur_ms;    /* EV_HEALTH_*: how long the check took */
	const struct notify_msg *note; /* EV_NOTIFY */
	const char *dep;   /* EV_WAIT: the dependency's name (in the config) */
};

#define SV_HISTORY 10 /* exits kept per instance for `history` */

struct exitrec {
	int64_t time_ms; /* wall clock */
	pid_t pid;
	int code, sig;   /* code -1 when killed by sig or not started */
	int64_t uptime_ms;
};

struct svc;

struct inst {
	struct svc *svc;
	int idx;                 /* 1-based */
	char name[CONFIG_NAME_MAX + 8]; /* "web.1" */
	/* state: written by sv_step.c only */
	enum inst_state state;
	enum want want;
	char reason[160];        /* shown with the state; "" = none */
	const char *waiting_for; /* dependency name (points into config) */
	/* processes */
	pid_t pid;               /* main process, 0 when none */
	pid_t pgid;              /* its process group while it may have members */
	pid_t hook_pid;          /* the hook running, 0 when none */
	enum hook_kind hook;     /* which one */
	int64_t spawned_ms;      /* monotonic, of the current/last process */
	int64_t timer[T__COUNT]; /* loop timer ids, 0 = not armed */
	int port;
	/* output: one pipe for the instance's whole life, so orphans and
	 * restarts never lose a line (sv_child.c) */
	int out_r, out_w;
	int64_t out_id;
	struct logsink log;
	int64_t ready_id;        /* readiness pipe (ready: notify) while starting */
	int64_t notify_id;       /* its NOTIFY_SOCKET while starting */
	/* facts of the last run */
	enum stop_cause cause;   /* mls stopped it for a failure (timeout, unhealthy) */
	/* health (sv_step.c decides, sv_health.c probes) */
	enum health health;
	int hfails, hoks;        /* consecutive failed / passed checks */
	int ever_healthy;        /* in this run */
	int unhealthy_runs;      /* runs in a row ended unhealthy, never healthy */
	struct hresult *hlog;    /* SV_HEALTH_LOG, oldest first; allocated at the first
	                          * check (most instances have none: 920 bytes saved each) */
	int nhlog;
	char *hmsg;              /* the last result's whole message (malloc'd), or NULL */
	struct hprobe *probe;    /* the check scheduled or running (sv_health.c) */
	/* what it says through NOTIFY_SOCKET (sd_notify) */
	char note[NOTIFY_STATUS_MAX]; /* STATUS=, "" none */
	const char *notify_state;     /* "stopping", "reloading" or NULL */
	pid_t mainpid;                /* MAINPID= accepted (a process of its group), 0 none */
	/* metrics, sampled on request at most once a second */
	int64_t stat_ms;              /* monotonic time of the sample, 0 none */
	struct procstat stat;
	double cpu_percent;           /* over the interval before stat_ms */
	int has_exit, last_code, last_sig;
	int last_oom;            /* the last exit was the OOM killer's (memory.events) */
	int64_t cg_oom;          /* its cgroup's oom_kill count at the spawn */
	/* counters */
	int quick;               /* crashes in a row sooner than reset_after */
	int64_t *starts;         /* ring of start times (restart_limit.count) */
	int nstarts, starts_cap;
	int restarts;            /* across mls restarts (journal) */
	int runs_done;
	int64_t last_success_ms; /* jobs: wall clock of the last successful run's end; 0 = none */
	int64_t next_start_ms;   /* backoff: monotonic */
	time_t next_run;         /* schedule: wall clock of the next run */
	int job_due;             /* schedule: a run is due (waits for deps) */
	struct exitrec *hist;    /* SV_HISTORY, on first exit */
	int nhist;
	int is_new;              /* created by this (re)load, not started yet */
	int ever_started;        /* by this mls process (journal: restart or not) */
};

/* One deploy for `history` (deployed, rolled_back, deploy_failed) */
struct deployrec {
	int64_t time_ms;         /* wall clock */
	char type[16];
	char revision[41], from[41];
	char message[120];
};

/* A service deployed from git: what mls gitwatch said (annotate) */
struct svcgit {
	struct deployrec deploys[SV_HISTORY]; /* oldest first */
	int ndeploys;
	char revision[41];       /* the commit in `current`; "" until the first checkout */
	char from[41];           /* rolled_back: the bad commit */
	char phase[16];          /* cloning updating verifying deployed rolled_back failed; "" */
	char *ref, *message;     /* malloc'd or NULL */
	char **argv;             /* autoexec.txt's command (no `command:`), malloc'd */
	int argc;
	/* hooks.pre_deploy, run on gitwatch's request */
	pid_t hook_pid;
	int64_t hook_timer, hook_started;
	int hook_timed_out;      /* 1 its timeout, 2 the shutdown killed it */
	char hook_rev[41];
};

struct svcwatch;

struct svc {
	struct service *cfg;     /* in sv.cfg, or in an old config while removed */
	struct svcgit *git;      /* NULL until gitwatch annotates it */
	struct svcwatch *watch;  /* its `watch:` directories (sv_watch.c), NULL none */
	struct config *owner;    /* the config cfg lives in */
	struct inst **inst;
	int ninst;
	int removed;             /* by reload: deleted once all its instances stopped */
	int order;               /* topological position (dependencies first) */
	/* sv_index(): rebuilt whenever svcs changes */
	struct svc **dependents; /* services (removed ones too) with a depends_on naming this one */
	int ndependents;         /* (the arrays live in SV.dep_store) */
	struct svc *same_name;   /* the next in svcs with this name (a removed twin) */
};

struct oldcfg {                  /* configs kept alive for removed services */
	struct config *cfg;
	int refs;
	struct oldcfg *next;
};

struct sv {
	struct loop *loop;
	struct config *cfg;
	struct cgroup_root cg;   /* cgroup v2 for the instances (cg.ok), docs/cgroups.md */
	struct oldcfg *old;
	const char **files;      /* -c files, as given */
	int nfiles;
	const char **profiles;   /* NULL-terminated */
	struct svc **svcs;       /* in dependency order (sv_compute_order) */
	int nsvcs;
	/* services by name and their dependents, rebuilt by sv_index()
	 * after every change of svcs; without it (ENOMEM) lookups scan */
	struct svc **by_name;    /* open addressing by name: the first in svcs */
	size_t name_cap;         /* its slots, a power of two >= 2 x nsvcs */
	struct svc **dep_store;  /* the dependents arrays of every svc */
	int indexed;
	char *state_dir, *log_dir;
	char *sock_path;
	struct ctlsrv *ctl;
	struct journal journal;
	int lock_fd;
	pid_t pid;
	int64_t start_ms;        /* monotonic */
	uint64_t seq;            /* event sequence number */
	int reconcile_due;       /* a state changed: run sv_reconcile() before sleeping */
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
	char *self_exe;          /* the path of this mls binary (for `mls health`), or NULL */
	char *git_config;        /* config_git's file in STATE_DIR/git/.config, or NULL */
	char scratch[LOG_READ_MAX];
};

extern struct sv SV;

/* ------------------------------------------------------------ sv_log.c */

/* One line of mls's own log on stderr (text or JSON per log_format),
 * dropped below SV.level; `i` names the instance or is NULL. One write(),
 * never blocks (stderr is non-blocking when it is a pipe): a line that
 * does not fit is dropped. */
void sv_log(enum log_level lv, const struct inst *i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t wall_ms(void);   /* wall clock in ms, with the test offset */
time_t wall_s(void);

/* ---------------------------------------------------------- sv_event.c */

/* The one outbound path. Each call is one engine event: it writes mls's
 * log line (when the event has one), the journal record (when it must
 * survive a restart of mls) and the `events` line for stream clients, all
 * three from the same fields (docs/protocol.md, "Events"). Each bumps
 * SV.seq. None fails: a journal write error is logged (at most once a
 * minute), a client that cannot take a line loses its stream. */
const char *state_name(enum inst_state s);
void sv_emit_state(const struct inst *i);         /* after a state change */
void sv_emit_start(const struct inst *i);         /* main process spawned (journal) */
void sv_emit_exit(const struct inst *i, pid_t pid, int64_t up); /* from i->last_code/sig */
void sv_emit_failed(const struct inst *i);        /* gave up: journal, synced */
/* shutdown begins (hurry 0; the `events` line) or hurries (1); why is
 * the log line, none when NULL */
void sv_emit_shutdown(int hurry, const char *why);
/* reload: ok with the lists (JSON arrays' contents: "a","b") and the
 * number unchanged, or failed with `errors` (a JSON array's contents) */
void sv_emit_reload(int ok, const char *added, const char *removed, const char *changed,
	int unchanged, const char *errors);
void sv_emit_supervisor(const char *action);      /* "start", "stop" (journal) */
/* health: type "healthy", "unhealthy" or "health_restart", with the
 * check's message */
void sv_emit_health(const struct inst *i, const char *type, const char *msg);
const char *health_name(enum health h);           /* null for H_NONE */
/* A service-level event (deployed, rolled_back, deploy_failed,
 * pre_deploy, deploy_request, rollback_request, config_rejected): the log
 * line msg (none when NULL), raw = its fields as JSON text (,"k":v...),
 * journaled when `journal` */
void sv_emit_service(const char *type, enum log_level lv, const char *msg, const char *raw, int journal);
/* Output lines of an instance for `logs -f` followers of its service */
void sv_emit_output(const struct inst *i, const char *buf, size_t n);

/* ---------------------------------------------------------- sv_child.c */

/* What child_spawn() made */
struct child {
	pid_t pid;
	int ready_fd;     /* readiness pipe's read end (non-blocking), or -1 */
	int notify_fd;    /* the NOTIFY_SOCKET datagram socket, or -1 */
};

/* Sets up the instance's output pipe and log sink, once per instance
 * (they live as long as the instance). 0, or -1 (out of fds). */
int child_output(struct inst *i);
/* Its port for this start: fixed, configured + idx - 1, or a free one
 * kept across restarts (port: auto). 0, or -1 (none free). */
int child_port(struct inst *i);
/* An image: service's docker CLI is there (found as mls docker-run will
 * find it, with the service's PATH): 1, else 0; 1 for any other service */
int child_docker_cli(const struct inst *i);
/* Spawns `cmd` (the service's command or a hook) for the instance, its
 * output to the instance's pipe. With `with_ready` and ready: notify, also
 * the readiness pipe on the configured fd and a NOTIFY_SOCKET of this
 * start's own; the caller owns the returned fds. Returns 0 with *out
 * filled, or -1 with a message in err. */
int child_spawn(struct inst *i, const struct command *cmd, int with_ready, struct child *out,
	char *err, size_t errsz);
/* The same with the output to out_fd instead of the instance's log, and
 * no readiness (a health check's exec) */
int child_spawn_to(struct inst *i, const struct command *cmd, int out_fd, struct child *out, char *err,
	size_t errsz);
/* STATE_DIR/git/SVC[/leaf] */
void git_path(char *buf, size_t size, const char *svc, const char *leaf);
/* A git service's hooks.pre_deploy in dir (the new checkout) with
 * GIT_REVISION=rev, its output to the instance's log; in its own process
 * group. 0, or -1 with err. */
int child_spawn_git_hook(struct inst *i, const struct command *cmd, const char *dir, const char *rev,
	struct child *out, char *err, size_t errsz);
/* Reads a readiness fd once: 1 a line came (ready), 0 nothing yet, -1
 * closed or failed (stop listening). */
int child_ready_line(int fd);
/* Reads one datagram from a NOTIFY_SOCKET into m: 1 a valid datagram,
 * 0 an invalid one (ignored: logged at debug level), -1 nothing to read.
 * Passed fds are closed (no fd store). */
int child_notify(int fd, struct notify_msg *m);
/* Reads what is left in the output pipe (bounded) and flushes the
 * partial line: the main process is gone. */
void child_drain_output(struct inst *i);
/* Signals: to the group (and the pid when the group is gone), SIGCONT
 * after so a stopped process sees it; 0 if delivered. */
int child_signal(struct inst *i, int sig);
/* SIGKILL the main group and the main process (none: nothing) */
void child_kill_main(struct inst *i);
/* sig to the hook's group (SIGKILL: to the hook process too) */
void child_signal_hook(struct inst *i, int sig);
/* both of the above, SIGKILL */
void child_kill_all(struct inst *i);
/* Does any process of its group (or, with cgroups, of its cgroup) remain? */
int child_group_alive(const struct inst *i);
/* 1 when the OOM killer killed in its cgroup since the spawn (or the last
 * call): memory.events' oom_kill grew */
int child_oom_killed(struct inst *i);
/* Removes its cgroup (when empty: a removed instance, or at exit) */
void child_cgroup_remove(const struct inst *i);
/* Free the fds and memory of an instance's output */
void child_close_output(struct inst *i);

/* ------------------------------------------------------- sv_sdnotify.c */

/* Reads NOTIFY_SOCKET (mls's manager, e.g. systemd) and removes it from
 * the environment services inherit; before anything is spawned. A bad
 * value is reported on stderr and ignored. */
void sdnotify_init(void);
/* Once per loop pass: READY=1 when the start round (or a reload) is over,
 * STOPPING=1 when the shutdown began. Nothing without NOTIFY_SOCKET. */
void sdnotify_tick(void);
/* A reload begins: RELOADING=1 and MONOTONIC_USEC= */
void sdnotify_reloading(void);

/* ----------------------------------------------------------- sv_step.c */

/* The one transition function: every change of an instance's state goes
 * through it (or the helpers it calls, in the same file). `a` may be NULL.
 * An event that cannot happen in the current state is logged at debug
 * level and ignored, never a crash. A change of state emits the event
 * (sv_emit_state) and sets SV.reconcile_due. */
void inst_step(struct inst *i, enum inst_event ev, const struct step_arg *a);
/* EV_RESTART with a reason ("restart", "config changed"): stop what
 * runs and start again, the restart limit and backoff reset */
void inst_restart(struct inst *i, const char *why);
/* A new instance idx (1-based) of s: stopped, wanted running, new (the
 * next reconcile pass starts it or arms its job). NULL on ENOMEM. */
struct inst *inst_new(struct svc *s, int idx);
/* Frees it: its timers, fds and log sink. Its processes must be gone. */
void inst_free(struct inst *i);
/* Live upgrade (sv_upgrade.c): listen to inherited readiness fds (-1
 * none) and arm the timers whose deadline (monotonic ms) is >= 0 */
void inst_adopt(struct inst *i, int ready_fd, int notify_fd, const int64_t *deadline);
/* Does a process of it remain: main, hook, or a member of its group? */
int inst_alive(const struct inst *i);
/* Appends an exit to its history (the last SV_HISTORY kept); silently
 * nothing on ENOMEM */
void inst_add_exit(struct inst *i, int64_t t, pid_t pid, int code, int sig, int64_t up);
/* Stop everything: hurry 0 = graceful (stop signals, grace periods, in
 * reverse dependency order, driven by the reconcile pass), 1 = SIGKILL
 * now. why is logged. The status mls exits with is SV.exit_status. */
void sv_shutdown(int hurry, const char *why);
/* The wall clock moved (test hook): re-arm scheduled jobs that are due */
void sv_clock_moved(void);

/* Policy: pure functions (tests/unit/test_step.c) */
int64_t policy_backoff_ms(const struct service *c, int quick, double rnd); /* rnd in [0,1) */
int policy_window_starts(const int64_t *starts, int n, int64_t now, int64_t window_ms);
int policy_failed(int code, int sig, int timed_out);
int policy_restarts(enum restart_policy p, int failed);
int policy_in_start_period(const struct healthcheck *h, enum health st, int64_t up_ms);

/* ------------------------------------------------------------ sv_git.c */

/* Is mls-gitwatch running (deploy requests reach it)? */
int git_watcher_up(void);
/* Has gitwatch given it a revision (it may start)? */
int git_has_revision(const struct svc *s);
/* Why it waits for gitwatch ("cloning", "failed: ...") into buf */
const char *git_wait_reason(const struct svc *s, char *buf, size_t size);
/* "deployed 3f2a9c1", "rolled back from ...", "" when nothing said */
const char *git_display(const struct svc *s, char *buf, size_t size);
/* ,"revision":...,"deploy":...,"git":{...} for status (git services only) */
void git_status_json(struct jbuf *b, const struct svc *s);
/* `annotate NAME KEY=VALUE...` (docs/gitwatch-protocol.md): 0, or -1
 * with err and nothing changed */
int git_annotate(struct svc *s, int argc, char **argv, char *err, size_t errsz);
/* `pre-deploy NAME SHA`: runs hooks.pre_deploy; its end is the event
 * pre_deploy. 0, or -1 with err. */
int git_pre_deploy(struct svc *s, const char *rev, char *err, size_t errsz);
/* Shutdown: SIGKILL every pre_deploy hook still running */
void git_kill_hooks(void);
/* The service whose pre_deploy hook is pid, or NULL; then its exit */
struct svc *git_hook_owner(pid_t pid);
void git_hook_exited(struct svc *s, int status);
/* A deploy record of the journal (replay), its fields as the event's */
void git_add_deploy(struct svc *s, int64_t time_ms, const char *type, const char *rev, const char *from,
	const char *msg);
/* ,"deploys":[...] for history (git services only) */
void git_history_json(struct jbuf *b, const struct svc *s);
/* Frees s->git (a running hook is killed) */
void git_free(struct svc *s);

/* --------------------------------------------------------- sv_health.c */

/* Makes the instance's probe match its state: scheduled while it is
 * starting or running with a process and a healthcheck, gone otherwise
 * (and made anew when a reload changed the check). From every reconcile
 * pass. */
void health_sync(struct inst *i);
/* Frees its probe (before inst_free) */
void health_free(struct inst *i);
/* Is pid the process of its running exec check? Then health_exited()
 * takes its wait status. */
int health_owns(const struct inst *i, pid_t pid);
void health_exited(struct inst *i, int status);

/* ---------------------------------------------------------- sv_sched.c */

/* SIGCHLD: reaps every child that ended; each of an instance becomes its
 * EV_EXIT or EV_HOOK_EXIT, then each instance whose group emptied gets
 * EV_GROUP_GONE. Orphans (mls as PID 1 or subreaper) are reaped silently. */
void sv_reap(void);
/* The pass: shutdown and removal in reverse dependency order
 * (EV_TEARDOWN once no dependent is alive), then, unless shutting down,
 * each instance that may start in dependency order (EV_JOB_ARM, EV_WAIT or
 * EV_START; one at a time with startup: sequential). Clears
 * SV.reconcile_due; O(instances + dependencies). */
void sv_reconcile(void);
/* SV.svcs in dependency order (dependencies first, config order
 * otherwise), and the index rebuilt. O(services + dependencies). */
void sv_compute_order(void);
/* Rebuilds the name index and the dependents lists; after any change to
 * SV.svcs. On ENOMEM, lookups fall back to scans (SV.indexed 0). */
void sv_index(void);
/* The live (not removed) service with that name, or NULL */
struct svc *sv_find(const char *name, size_t len);
/* sv_config.c: a service's config as JSON (`config NAME`), secrets masked */
void sv_config_json(struct jbuf *b, const struct service *c);
/* No process of any instance left (shutdown may end) */
int sv_all_down(void);

/* ---------------------------------------------------------- sv_reload.c */

/* Loads and compacts the config of SV.files and SV.profiles with
 * validate's rules (keys of later work are errors). 0 with *out (the
 * caller owns it), or -1 with the messages in d. */
int sv_load(struct config **out, struct diags *d);
/* Applies a valid config, taking ownership of it: services matched by
 * name are kept (same hash), resized (only replicas changed) or restarted
 * (EV_CONFIG); new ones added; gone ones removed (EV_REMOVE, stopped by
 * the pass, dropped by sv_sweep). With SV.cfg NULL it is the first load.
 * Fills reply (when not NULL) with the protocol's answer; emits `reload`.
 * Returns 0. */
int sv_apply(struct config *ncfg, struct jbuf *reply);
/* Loads the files again and applies them: 0, or -1 when the new config
 * is invalid (nothing changed; the messages logged, in reply and in the
 * `reload` event) */
int sv_reload(struct jbuf *reply);
/* config_git: loads the files plus STATE_DIR/git/.config/rev-REV/PATH and
 * applies them when valid (SV.git_config becomes .config/current/PATH);
 * when invalid nothing changes and config_rejected is emitted. The reply
 * is the reload's. 0 or -1. */
int sv_config_apply(const char *rev, struct jbuf *reply);
/* Watches the directories of the config files and include globs with
 * inotify; a change reloads after DEBOUNCE_MS. Without inotify: a warning,
 * SIGHUP and `reload` still work. */
void sv_watch_files(void);
/* Frees removed services whose instances are all gone (each loop round) */
void sv_sweep(void);

/* ----------------------------------------------------------- sv_watch.c */

/* Makes every service's inotify watches match its config: a service with
 * `watch:` (new, or with other patterns or working_dir) gets them, a
 * removed one or one without `watch:` loses them. After every apply. */
void watch_sync(void);
/* Drops a service's watches and its pending window (before it is freed) */
void watch_free(struct svc *s);

/* --------------------------------------------------------- sv_journal.c */

/* Reads STATE_DIR/journal (restart counts, exit history) into the
 * instances of the first config, then opens it for appending; errors are
 * logged, never fatal (the journal is only history) */
void sv_journal_replay(void);

/* ------------------------------------------------------------ sv_ctl.c */

/* One control request (docs/protocol.md): replies on c; actions go to
 * inst_step() and a reconcile pass runs before the reply, so the reply
 * shows what is final at once */
void sv_ctl_handle(struct ctlsrv *s, struct ctlconn *c, int argc, char **argv, void *ctx);

#endif
