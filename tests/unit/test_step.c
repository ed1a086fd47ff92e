/* Unit tests for the engine's transition function and policy
 * (applets/supervise/sv_step.c, included here to reach its statics).
 *
 * Everything sv_step.c calls outside itself is faked below: the loop's
 * clock and timers (a driven clock; timers are fired by hand), the child
 * operations (they record what they were asked to do instead of spawning
 * or signalling) and the event path (it records the states emitted). The
 * table has one row per state x event pair that can happen, and some that
 * cannot (they must change nothing). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../applets/supervise/sv_step.c"
#include "tap.h"

struct sv SV;

/* ------------------------------------------------------------- fakes */

static char acts[512];  /* what was asked, space-separated */
static int64_t now_ms;  /* the driven monotonic clock */
static int64_t wall0 = 1800000000; /* the driven wall clock, s */
static int spawn_fails, group_alive;

static void act(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void act(const char *fmt, ...)
{
	size_t n = strlen(acts);
	if (n && n < sizeof acts - 1)
		acts[n++] = ' ';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(acts + n, sizeof acts - n, fmt, ap);
	va_end(ap);
}

struct ftimer {
	int64_t id, at;
	loop_timer_cb *cb;
	void *ctx;
};
static struct ftimer timers[64];
static int64_t next_id = 1;

int64_t loop_now_ms(void) { return now_ms; }

int64_t loop_timer_at(struct loop *l, int64_t at, loop_timer_cb *cb, void *ctx)
{
	(void)l;
	for (int k = 0; k < 64; k++)
		if (!timers[k].id) {
			timers[k] = (struct ftimer){ next_id++, at, cb, ctx };
			return timers[k].id;
		}
	return -1;
}

int loop_timer_cancel(struct loop *l, int64_t id)
{
	(void)l;
	for (int k = 0; k < 64; k++)
		if (timers[k].id == id) {
			timers[k].id = 0;
			return 0;
		}
	return -1;
}

int64_t loop_add_fd(struct loop *l, int fd, int ev, loop_fd_cb *cb, void *ctx)
{
	(void)l, (void)fd, (void)ev, (void)cb, (void)ctx;
	return -1;
}

int loop_close_fd(struct loop *l, int64_t id)
{
	(void)l, (void)id;
	return 0;
}

/* The armed timer with the id, or NULL */
static struct ftimer *ftimer(int64_t id)
{
	for (int k = 0; id && k < 64; k++)
		if (timers[k].id == id)
			return &timers[k];
	return NULL;
}

/* Fire timer t of i (as the loop would: removed first) */
static void fire(struct inst *i, enum inst_timer t)
{
	struct ftimer *f = ftimer(i->timer[t]);
	if (!f)
		return;
	struct ftimer c = *f;
	f->id = 0;
	now_ms = c.at > now_ms ? c.at : now_ms;
	c.cb(NULL, c.id, c.ctx);
}

void sv_log(enum log_level lv, const struct inst *i, const char *fmt, ...)
{
	(void)lv, (void)i, (void)fmt;
}
int64_t wall_ms(void) { return wall0 * 1000 + now_ms; }
time_t wall_s(void) { return (time_t)(wall_ms() / 1000); }

const char *state_name(enum inst_state s)
{
	static const char *const n[] = {
#define X(e, s) s,
		PROTO_STATES(X)
#undef X
	};
	return n[s];
}
void sv_emit_state(const struct inst *i) { act("=%s", state_name(i->state)); }
void sv_emit_start(const struct inst *i) { (void)i; }
void sv_emit_exit(const struct inst *i, pid_t pid, int64_t up) { (void)i, (void)pid, (void)up; act("exit"); }
void sv_emit_failed(const struct inst *i) { (void)i; act("journal-failed"); }
void sv_emit_shutdown(int hurry, const char *why) { (void)why; act(hurry ? "hurry" : "shutdown"); }
void sv_emit_health(const struct inst *i, const char *type, const char *msg) { (void)i, (void)msg; act("+%s", type); }

int child_output(struct inst *i) { (void)i; return 0; }
int child_port(struct inst *i) { (void)i; return 0; }
/* an image: service's CLI is "there" when its docker_cli is "found" */
int child_docker_cli(const struct inst *i)
{
	const struct service *c = i->svc->cfg;
	return !c->docker || (c->docker_cli && !strcmp(c->docker_cli, "found"));
}
int child_spawn(struct inst *i, const struct command *cmd, int with_ready, struct child *out, char *err, size_t errsz)
{
	(void)with_ready;
	const struct service *c = i->svc->cfg;
	out->ready_fd = out->notify_fd = -1;
	if (spawn_fails) {
		snprintf(err, errsz, "fork: fake failure");
		return -1;
	}
	act("spawn-%s", cmd == &c->command ? "main" : cmd == &c->pre_start ? "pre" : "post");
	out->pid = cmd == &c->command ? 2002 : 3003;
	return 0;
}
int child_ready_line(int fd) { (void)fd; return 0; }
int child_notify(int fd, struct notify_msg *m) { (void)fd, (void)m; return 0; }
void child_drain_output(struct inst *i) { (void)i; }
int child_signal(struct inst *i, int sig)
{
	if (i->pgid > 0) /* as the real one: no group, nothing to signal */
		act("signal:%d", sig);
	return 0;
}
void child_kill_main(struct inst *i) { (void)i; act("kill-main"); }
void child_signal_hook(struct inst *i, int sig) { (void)i; act("hook-signal:%d", sig); }
void child_kill_all(struct inst *i) { (void)i; act("kill-all"); }
int child_group_alive(const struct inst *i) { return i->pgid > 0 && group_alive; }
int child_oom_killed(struct inst *i) { (void)i; return 0; }
void child_cgroup_remove(const struct inst *i) { (void)i; }
void child_close_output(struct inst *i) { (void)i; }

/* ------------------------------------------------------------ fixture */

enum { /* service flavours */
	C_NOTIFY = 1 << 0, C_PRE = 1 << 1, C_POST = 1 << 2, C_NORESTART = 1 << 3, C_ONFAIL = 1 << 4,
	C_RUNS2 = 1 << 5, C_TIMEOUT = 1 << 6, C_CRITICAL = 1 << 7, C_SCHED = 1 << 8, C_LIMIT1 = 1 << 9,
	C_HEALTH = 1 << 10, C_READY_HEALTHY = 1 << 11, C_HC_NORESTART = 1 << 12, C_WATCHDOG = 1 << 13,
};
enum { /* set-up of the instance and the world */
	F_NEW = 1 << 0, F_GROUP_ALIVE = 1 << 1, F_SPAWN_FAILS = 1 << 2, F_LIMIT_HIT = 1 << 3,
	F_TIMED_OUT = 1 << 4, F_LAST_FAIL = 1 << 5, F_SHUTDOWN = 1 << 6, F_HURRY = 1 << 7, F_DONE1 = 1 << 8,
	F_DONE2 = 1 << 9,
};
enum proc { P_NONE, P_MAIN, P_PRE, P_POST, P_GROUP };

static char *argv_main[] = { "main", NULL }, *argv_hook[] = { "hook", NULL };
static struct service svc_cfg;
static struct svc svc;
static struct config cfg;

static void make_cfg(int c)
{
	memset(&svc_cfg, 0, sizeof svc_cfg);
	svc_cfg.name = "web";
	svc_cfg.command.argv = argv_main;
	svc_cfg.restart = c & C_NORESTART ? RESTART_NO : c & C_ONFAIL ? RESTART_ON_FAILURE : RESTART_ALWAYS;
	svc_cfg.backoff.initial_ms = 1000;
	svc_cfg.backoff.max_ms = 8000;
	svc_cfg.backoff.factor = 2;
	svc_cfg.backoff.reset_after_ms = 10000;
	svc_cfg.restart_limit.count = c & C_LIMIT1 ? 1 : 0;
	svc_cfg.restart_limit.window_ms = 60000;
	svc_cfg.stop_signal = SIGTERM;
	svc_cfg.stop_grace_ms = 5000;
	svc_cfg.ready = c & C_NOTIFY ? READY_NOTIFY : c & C_READY_HEALTHY ? READY_HEALTHY : READY_NONE;
	if (c & (C_HEALTH | C_READY_HEALTHY)) {
		svc_cfg.health.kind = HC_TCP;
		svc_cfg.health.interval_ms = 5000;
		svc_cfg.health.timeout_ms = 1000;
		svc_cfg.health.retries = 2;
		svc_cfg.health.success_threshold = 1;
		svc_cfg.health.restart = !(c & C_HC_NORESTART);
	}
	svc_cfg.ready_fd = 3;
	if (c & C_PRE)
		svc_cfg.pre_start.argv = argv_hook;
	if (c & C_POST)
		svc_cfg.post_stop.argv = argv_hook;
	if (c & C_RUNS2)
		svc_cfg.runs = 2, svc_cfg.is_job = 1;
	if (c & C_TIMEOUT)
		svc_cfg.timeout_ms = 5000;
	svc_cfg.critical = !!(c & C_CRITICAL);
	svc_cfg.watchdog_ms = c & C_WATCHDOG ? 3000 : 0;
	if (c & C_SCHED) {
		const char *err;
		int at;
		svc_cfg.schedule = "* * * * *";
		svc_cfg.is_job = 1;
		if (cron_parse(svc_cfg.schedule, &svc_cfg.cron, &err, &at))
			abort();
	}
	memset(&svc, 0, sizeof svc);
	svc.cfg = &svc_cfg;
	svc.owner = &cfg;
}

static struct inst *make(enum inst_state st, enum want w, enum proc p, int c, int f)
{
	memset(timers, 0, sizeof timers);
	memset(&SV, 0, sizeof SV);
	SV.cfg = &cfg;
	SV.shutting_down = f & F_HURRY ? 2 : f & F_SHUTDOWN ? 1 : 0;
	now_ms = 100000;
	spawn_fails = !!(f & F_SPAWN_FAILS);
	group_alive = !!(f & F_GROUP_ALIVE);
	make_cfg(c);
	struct inst *i = inst_new(&svc, 1);
	if (!i)
		abort();
	i->state = st;
	i->want = w;
	i->is_new = !!(f & F_NEW);
	i->spawned_ms = now_ms - 100; /* up 100 ms: a quick crash */
	if (p == P_MAIN || p == P_GROUP)
		i->pid = 2001, i->pgid = 2001;
	if (p == P_GROUP)
		i->pid = 0;
	if (p == P_PRE || p == P_POST)
		i->hook_pid = 3001, i->hook = p == P_PRE ? HOOK_PRE : HOOK_POST;
	if (p == P_PRE && st == ST_STARTING)
		snprintf(i->reason, sizeof i->reason, "pre_start");
	if (f & F_LIMIT_HIT)
		record_start(i, now_ms - 10);
	i->cause = f & F_TIMED_OUT ? CAUSE_TIMEOUT : CAUSE_NONE;
	if (svc_cfg.health.kind != HC_NONE && (p == P_MAIN))
		i->health = H_STARTING;
	if (f & (F_LAST_FAIL)) {
		i->has_exit = 1;
		i->last_code = 1;
	}
	i->runs_done = f & F_DONE2 ? 2 : f & F_DONE1 ? 1 : 0;
	if (st == ST_BACKOFF)
		timer_arm(i, T_RESTART, now_ms + 1000);
	if (st == ST_STOPPING)
		timer_arm(i, T_KILL, now_ms + 5000);
	if (c & C_SCHED && st != ST_STOPPED)
		i->next_run = wall_s(), timer_arm(i, T_JOB, now_ms);
	acts[0] = 0;
	return i;
}

static void timers_of(const struct inst *i, char *buf, size_t sz)
{
	static const char *const tn[T__COUNT] = { "restart", "kill", "timeout", "job", "watchdog" };
	buf[0] = 0;
	for (int t = 0; t < T__COUNT; t++)
		if (i->timer[t] && ftimer(i->timer[t]))
			snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s", buf[0] ? " " : "", tn[t]);
}

/* --------------------------------------------------------- the table */

#define EXIT(n) ((n) << 8)      /* wait status: exited with n */
#define SIG(n) (n)              /* wait status: killed by n */

static const struct row {
	int line;
	enum inst_state st;
	enum want want;
	enum proc proc;
	int cfg, flags;
	enum inst_event ev;
	int status;
	enum inst_state want_st;
	const char *acts;   /* what was asked, in order */
	const char *timers; /* the timers armed after */
} rows[] = {
	/* EV_START: the reconcile pass says its dependencies are met */
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, 0, 0, EV_START, 0, ST_RUNNING, "spawn-main =running", "" },
	{ __LINE__, ST_STOPPED, WANT_RUN, P_NONE, 0, F_NEW, EV_START, 0, ST_RUNNING, "spawn-main =running", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_NOTIFY, 0, EV_START, 0, ST_STARTING, "spawn-main =starting", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_PRE, 0, EV_START, 0, ST_STARTING, "=starting spawn-pre", "kill" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_TIMEOUT, 0, EV_START, 0, ST_RUNNING, "spawn-main =running", "timeout" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, 0, F_SPAWN_FAILS, EV_START, 0, ST_BACKOFF, "=backoff", "restart" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_NORESTART, F_SPAWN_FAILS, EV_START, 0, ST_FAILED, "=failed journal-failed", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_LIMIT1, F_LIMIT_HIT, EV_START, 0, ST_FAILED, "=failed journal-failed", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_START, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_STOPPED, WANT_RUN, P_NONE, 0, 0, EV_START, 0, ST_STOPPED, "", "" },
	{ __LINE__, ST_WAITING, WANT_STOP, P_NONE, 0, 0, EV_START, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_FAILED, WANT_RUN, P_NONE, 0, 0, EV_START, 0, ST_FAILED, "", "" },
	/* EV_WAIT: a dependency is not met */
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, 0, 0, EV_WAIT, 0, ST_WAITING, "=waiting", "" },
	{ __LINE__, ST_STOPPED, WANT_RUN, P_NONE, 0, F_NEW, EV_WAIT, 0, ST_WAITING, "=waiting", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_WAIT, 0, ST_RUNNING, "", "" },
	/* EV_JOB_ARM: a new scheduled job waits for its first time */
	{ __LINE__, ST_STOPPED, WANT_RUN, P_NONE, C_SCHED, F_NEW, EV_JOB_ARM, 0, ST_WAITING, "=waiting", "job" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_SCHED, 0, EV_JOB_ARM, 0, ST_RUNNING, "", "job" },
	/* EV_READY */
	{ __LINE__, ST_STARTING, WANT_RUN, P_MAIN, C_NOTIFY, 0, EV_READY, 0, ST_RUNNING, "=running", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_NOTIFY, 0, EV_READY, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, C_NOTIFY, 0, EV_READY, 0, ST_STOPPING, "", "kill" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_PRE, C_NOTIFY | C_PRE, 0, EV_READY, 0, ST_STARTING, "", "" },
	/* EV_EXIT: the main process ended on its own */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_EXIT, EXIT(1), ST_BACKOFF, "exit kill-main =backoff", "restart" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_MAIN, C_NOTIFY, 0, EV_EXIT, SIG(SIGSEGV), ST_BACKOFF, "exit kill-main =backoff", "restart" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_NORESTART, 0, EV_EXIT, EXIT(0), ST_EXITED, "exit kill-main =exited", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_NORESTART, 0, EV_EXIT, EXIT(3), ST_FAILED, "exit kill-main =failed journal-failed", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_NORESTART | C_CRITICAL, 0, EV_EXIT, EXIT(3), ST_FAILED,
	  "exit kill-main =failed journal-failed shutdown", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_ONFAIL, 0, EV_EXIT, EXIT(0), ST_EXITED, "exit kill-main =exited", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_ONFAIL, 0, EV_EXIT, EXIT(2), ST_BACKOFF, "exit kill-main =backoff", "restart" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_RUNS2, 0, EV_EXIT, EXIT(0), ST_RUNNING, "exit kill-main spawn-main =running", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_RUNS2, F_DONE1, EV_EXIT, EXIT(0), ST_EXITED, "exit kill-main =exited", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, F_GROUP_ALIVE, EV_EXIT, EXIT(1), ST_RUNNING, "exit kill-main", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_POST, 0, EV_EXIT, EXIT(1), ST_RUNNING, "exit kill-main spawn-post", "kill" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_SCHED, 0, EV_EXIT, EXIT(0), ST_WAITING, "exit kill-main =waiting", "job" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_TIMEOUT, 0, EV_EXIT, EXIT(0), ST_BACKOFF, "exit kill-main =backoff", "restart" },
	/* EV_EXIT after a stop */
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, 0, 0, EV_EXIT, SIG(SIGTERM), ST_STOPPED, "exit =stopped", "" },
	{ __LINE__, ST_STOPPING, WANT_REMOVE, P_MAIN, 0, 0, EV_EXIT, SIG(SIGTERM), ST_STOPPED, "exit =stopped", "" },
	{ __LINE__, ST_STOPPING, WANT_RUN, P_MAIN, 0, 0, EV_EXIT, SIG(SIGTERM), ST_WAITING, "exit", "" },
	{ __LINE__, ST_STOPPING, WANT_RUN, P_MAIN, 0, F_SHUTDOWN, EV_EXIT, SIG(SIGTERM), ST_STOPPED, "exit =stopped", "" },
	{ __LINE__, ST_STOPPING, WANT_RUN, P_MAIN, C_TIMEOUT | C_NORESTART, F_TIMED_OUT, EV_EXIT, SIG(SIGTERM), ST_FAILED,
	  "exit =failed journal-failed", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, 0, F_GROUP_ALIVE, EV_EXIT, SIG(SIGTERM), ST_STOPPING, "exit", "kill" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, 0, 0, EV_EXIT, EXIT(0), ST_WAITING, "", "" },
	/* EV_GROUP_GONE: the last member of a lingering group is gone */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_GROUP, 0, F_LAST_FAIL, EV_GROUP_GONE, 0, ST_BACKOFF, "=backoff", "restart" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_GROUP, 0, 0, EV_GROUP_GONE, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_GROUP, C_POST, 0, EV_GROUP_GONE, 0, ST_STOPPING, "spawn-post", "kill" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_GROUP_GONE, 0, ST_RUNNING, "", "" },
	/* EV_HOOK_EXIT */
	{ __LINE__, ST_STARTING, WANT_RUN, P_PRE, C_PRE, 0, EV_HOOK_EXIT, EXIT(0), ST_RUNNING, "spawn-main =running", "" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_PRE, C_PRE | C_NOTIFY, 0, EV_HOOK_EXIT, EXIT(0), ST_STARTING, "spawn-main =starting", "" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_PRE, C_PRE, 0, EV_HOOK_EXIT, EXIT(1), ST_BACKOFF, "=backoff", "restart" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_PRE, C_PRE, 0, EV_HOOK_EXIT, SIG(SIGTERM), ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_STOPPING, WANT_RUN, P_PRE, C_PRE, 0, EV_HOOK_EXIT, SIG(SIGTERM), ST_WAITING, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_POST, C_POST, 0, EV_HOOK_EXIT, EXIT(0), ST_BACKOFF, "=backoff", "restart" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_POST, C_POST | C_NORESTART, 0, EV_HOOK_EXIT, EXIT(1), ST_EXITED, "=exited", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_POST, C_POST, 0, EV_HOOK_EXIT, EXIT(0), ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, 0, 0, EV_HOOK_EXIT, EXIT(0), ST_WAITING, "", "" },
	/* timers */
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, 0, 0, EV_TIMER_RESTART, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, 0, F_SHUTDOWN, EV_TIMER_RESTART, 0, ST_BACKOFF, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_TIMER_RESTART, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, 0, 0, EV_TIMER_KILL, 0, ST_STOPPING, "kill-main", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_GROUP, 0, 0, EV_TIMER_KILL, 0, ST_STOPPING, "kill-main", "" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_PRE, C_PRE, 0, EV_TIMER_KILL, 0, ST_STARTING, "hook-signal:9", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_TIMER_KILL, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_TIMEOUT, 0, EV_TIMER_TIMEOUT, 0, ST_STOPPING, "signal:15 =stopping", "kill" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, C_TIMEOUT, 0, EV_TIMER_TIMEOUT, 0, ST_STOPPING, "", "kill" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_SCHED, 0, EV_TIMER_JOB, 0, ST_WAITING, "", "job" },
	{ __LINE__, ST_EXITED, WANT_RUN, P_NONE, C_SCHED, 0, EV_TIMER_JOB, 0, ST_WAITING, "", "job" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_SCHED, 0, EV_TIMER_JOB, 0, ST_RUNNING, "", "job" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_SCHED, F_SHUTDOWN, EV_TIMER_JOB, 0, ST_WAITING, "", "" },
	/* `start` */
	{ __LINE__, ST_FAILED, WANT_RUN, P_NONE, 0, 0, EV_CTL_START, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_STOPPED, WANT_STOP, P_NONE, 0, 0, EV_CTL_START, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, 0, 0, EV_CTL_START, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_EXITED, WANT_RUN, P_NONE, C_RUNS2, F_DONE2, EV_CTL_START, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, 0, 0, EV_CTL_START, 0, ST_STOPPING, "", "kill" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_CTL_START, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_STOPPING, WANT_REMOVE, P_MAIN, 0, 0, EV_CTL_START, 0, ST_STOPPING, "", "kill" },
	/* `stop` */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_CTL_STOP, 0, ST_STOPPING, "signal:15 =stopping", "kill" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_PRE, C_PRE, 0, EV_CTL_STOP, 0, ST_STOPPING, "hook-signal:15 =stopping", "kill" },
	{ __LINE__, ST_STOPPING, WANT_RUN, P_MAIN, 0, 0, EV_CTL_STOP, 0, ST_STOPPING, "", "kill" },
	{ __LINE__, ST_FAILED, WANT_RUN, P_NONE, 0, 0, EV_CTL_STOP, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_EXITED, WANT_RUN, P_NONE, 0, 0, EV_CTL_STOP, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, 0, 0, EV_CTL_STOP, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_SCHED, 0, EV_CTL_STOP, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_STOPPED, WANT_STOP, P_NONE, 0, 0, EV_CTL_STOP, 0, ST_STOPPED, "", "" },
	/* `restart` */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_RESTART, 0, ST_STOPPING, "signal:15 =stopping", "kill" },
	{ __LINE__, ST_FAILED, WANT_RUN, P_NONE, 0, 0, EV_RESTART, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_STOPPED, WANT_STOP, P_NONE, 0, 0, EV_RESTART, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, 0, 0, EV_RESTART, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, 0, 0, EV_RESTART, 0, ST_STOPPING, "", "kill" },
	/* a reload */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_CONFIG, 0, ST_STOPPING, "signal:15 =stopping", "kill" },
	{ __LINE__, ST_EXITED, WANT_RUN, P_NONE, 0, 0, EV_CONFIG, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_STOPPED, WANT_RUN, P_NONE, 0, 0, EV_CONFIG, 0, ST_STOPPED, "", "" },
	{ __LINE__, ST_STOPPED, WANT_STOP, P_NONE, 0, 0, EV_CONFIG, 0, ST_STOPPED, "", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_SCHED, 0, EV_CONFIG, 0, ST_WAITING, "", "job" },
	{ __LINE__, ST_FAILED, WANT_RUN, P_NONE, 0, 0, EV_RETRY, 0, ST_WAITING, "", "" },
	{ __LINE__, ST_FAILED, WANT_STOP, P_NONE, 0, 0, EV_RETRY, 0, ST_FAILED, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_RETRY, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_REMOVE, 0, ST_RUNNING, "", "" },
	/* shutdown and removal */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, F_SHUTDOWN, EV_TEARDOWN, 0, ST_STOPPING, "signal:15 =stopping", "kill" },
	{ __LINE__, ST_RUNNING, WANT_REMOVE, P_MAIN, 0, 0, EV_TEARDOWN, 0, ST_STOPPING, "signal:15 =stopping", "kill" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, F_HURRY, EV_TEARDOWN, 0, ST_STOPPING, "signal:15 =stopping kill-all", "kill" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, 0, F_SHUTDOWN, EV_TEARDOWN, 0, ST_STOPPING, "", "kill" },
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, 0, F_SHUTDOWN, EV_TEARDOWN, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, 0, F_SHUTDOWN, EV_TEARDOWN, 0, ST_STOPPED, "=stopped", "" },
	{ __LINE__, ST_EXITED, WANT_RUN, P_NONE, 0, F_SHUTDOWN, EV_TEARDOWN, 0, ST_EXITED, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, F_HURRY, EV_HURRY, 0, ST_RUNNING, "kill-all", "" },
	/* health: results without a check, or without a process, change nothing */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_HEALTH_OK, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, 0, 0, EV_HEALTH_FAIL, 0, ST_RUNNING, "", "" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, C_HEALTH, 0, EV_HEALTH_FAIL, 0, ST_STOPPING, "", "kill" },
	{ __LINE__, ST_BACKOFF, WANT_RUN, P_NONE, C_HEALTH, 0, EV_HEALTH_OK, 0, ST_BACKOFF, "", "restart" },
	/* the first pass ends the start; one failure is below retries (2) */
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_HEALTH, 0, EV_HEALTH_OK, 0, ST_RUNNING, "+healthy", "" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_HEALTH, 0, EV_HEALTH_FAIL, 0, ST_RUNNING, "", "" },
	/* ready: healthy: starting until the first pass */
	{ __LINE__, ST_STARTING, WANT_RUN, P_MAIN, C_READY_HEALTHY, 0, EV_HEALTH_OK, 0, ST_RUNNING, "+healthy =running", "" },
	{ __LINE__, ST_STARTING, WANT_RUN, P_MAIN, C_READY_HEALTHY, 0, EV_HEALTH_FAIL, 0, ST_STARTING, "", "" },
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_READY_HEALTHY, 0, EV_START, 0, ST_STARTING, "spawn-main =starting", "" },
	/* what it says on its NOTIFY_SOCKET: see test_notify_msgs() */
	/* watchdog */
	{ __LINE__, ST_WAITING, WANT_RUN, P_NONE, C_WATCHDOG, 0, EV_START, 0, ST_RUNNING, "spawn-main =running", "watchdog" },
	{ __LINE__, ST_RUNNING, WANT_RUN, P_MAIN, C_WATCHDOG, 0, EV_TIMER_WATCHDOG, 0, ST_STOPPING,
	  "+unhealthy +health_restart signal:15 =stopping", "kill" },
	{ __LINE__, ST_STOPPING, WANT_STOP, P_MAIN, C_WATCHDOG, 0, EV_TIMER_WATCHDOG, 0, ST_STOPPING, "", "kill" },
};

static void test_table(void)
{
	for (size_t k = 0; k < sizeof rows / sizeof *rows; k++) {
		const struct row *r = &rows[k];
		struct inst *i = make(r->st, r->want, r->proc, r->cfg, r->flags);
		if (r->ev >= EV_TIMER_RESTART && r->ev <= EV_TIMER_WATCHDOG) {
			/* as the loop does: a timer is removed before it fires */
			enum inst_timer t = (enum inst_timer)(r->ev - EV_TIMER_RESTART);
			loop_timer_cancel(NULL, i->timer[t]);
			i->timer[t] = 0;
		}
		inst_step(i, r->ev, &(struct step_arg){ .status = r->status, .why = "w", .dep = "db" });
		char tm[64];
		timers_of(i, tm, sizeof tm);
		int ok = i->state == r->want_st && !strcmp(acts, r->acts) && !strcmp(tm, r->timers);
		if (!tap_ok(ok, r->line, "%s + %s -> %s [%s] {%s}", state_name(r->st), event_names[r->ev],
			    state_name(r->want_st), r->acts, r->timers))
			tap_diag("got %s [%s] {%s}", state_name(i->state), acts, tm);
		inst_free(i);
	}
}

/* Facts the table's strings do not show */
static void test_details(void)
{
	struct inst *i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_NORESTART | C_CRITICAL, 0);
	inst_step(i, EV_EXIT, &(struct step_arg){ .status = EXIT(7) });
	tap_ok(SV.shutting_down == 1 && SV.exit_status == 7, __LINE__, "critical: shutdown, exit status 7 (%d)",
		SV.exit_status);
	inst_free(i);

	i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_NORESTART | C_CRITICAL, 0);
	inst_step(i, EV_EXIT, &(struct step_arg){ .status = SIG(SIGUSR1) });
	tap_ok(SV.exit_status == 128 + SIGUSR1, __LINE__, "critical killed by a signal: 128 + it (%d)", SV.exit_status);
	inst_free(i);

	i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_TIMEOUT, 0);
	inst_step(i, EV_TIMER_TIMEOUT, NULL);
	tap_ok(i->cause == CAUSE_TIMEOUT && !strcmp(i->reason, "timeout"), __LINE__, "timeout: marked timed out, reason '%s'",
		i->reason);
	inst_step(i, EV_EXIT, &(struct step_arg){ .status = SIG(SIGTERM) });
	tap_ok(i->state == ST_BACKOFF && !strcmp(i->reason, "timed out after 5s"), __LINE__,
		"... its exit is a failure: %s (%s)", state_name(i->state), i->reason);
	inst_free(i);

	i = make(ST_STOPPED, WANT_STOP, P_NONE, 0, 0);
	inst_step(i, EV_CTL_START, NULL);
	tap_ok(i->want == WANT_RUN, __LINE__, "start: wanted running again");
	inst_step(i, EV_CTL_STOP, NULL);
	tap_ok(i->want == WANT_STOP, __LINE__, "stop: wanted stopped");
	inst_free(i);

	i = make(ST_EXITED, WANT_RUN, P_NONE, C_RUNS2, F_DONE2);
	inst_step(i, EV_CTL_START, NULL);
	tap_ok(i->runs_done == 0, __LINE__, "start of a run-N job that is done: runs_done reset (%d)", i->runs_done);
	inst_free(i);

	i = make(ST_WAITING, WANT_RUN, P_NONE, 0, 0);
	inst_step(i, EV_WAIT, &(struct step_arg){ .why = "waiting for db", .dep = "db" });
	acts[0] = 0;
	inst_step(i, EV_WAIT, &(struct step_arg){ .why = "waiting for db", .dep = "db" });
	tap_ok(!acts[0] && !strcmp(i->waiting_for, "db"), __LINE__, "the same wait twice: emitted once ('%s')", acts);
	inst_step(i, EV_WAIT, &(struct step_arg){ .why = "db failed", .dep = "db" });
	tap_ok(!strcmp(acts, "=waiting") && !strcmp(i->reason, "db failed"), __LINE__,
		"a new reason: emitted again ('%s')", acts);
	inst_free(i);

	i = make(ST_WAITING, WANT_RUN, P_NONE, C_PRE, 0);
	svc_cfg.docker = 1;
	svc_cfg.docker_cli = "missing";
	inst_step(i, EV_START, NULL);
	char tm[64];
	timers_of(i, tm, sizeof tm);
	tap_ok(i->state == ST_FAILED && !strcmp(i->reason, "docker CLI not found") && !strstr(acts, "spawn") && !tm[0],
		__LINE__, "image: service without its CLI: failed (%s), nothing spawned ('%s'), no timer ('%s')", i->reason,
		acts, tm);
	svc_cfg.docker_cli = "found";
	inst_step(i, EV_CTL_START, NULL);
	inst_step(i, EV_START, NULL); /* (the reconcile pass's) */
	tap_ok(i->state == ST_STARTING && strstr(acts, "spawn-pre"), __LINE__,
		"... ctl start once it is there: started ('%s')", acts);
	inst_free(i);

	i = make(ST_STARTING, WANT_RUN, P_PRE, C_PRE, 0);
	record_start(i, now_ms);
	inst_step(i, EV_HOOK_EXIT, &(struct step_arg){ .status = EXIT(0) });
	tap_ok(i->nstarts == 1, __LINE__, "pre_start then the command: one start counted (%d)", i->nstarts);
	inst_free(i);
}

/* Health: retries, the restart through the stop path counted as a
 * failure, start_period, success_threshold, and a service that is never
 * healthy ending in failed */
static void test_health(void)
{
	struct step_arg bad = { .why = "connect: connection refused", .dur_ms = 1 };
	struct step_arg good = { .why = "HTTP 200", .dur_ms = 1 };
	struct inst *i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_HEALTH, 0);
	inst_step(i, EV_HEALTH_OK, &good);
	tap_ok(i->health == H_HEALTHY, __LINE__, "a pass: healthy");
	inst_step(i, EV_HEALTH_FAIL, &bad);
	tap_ok(i->health == H_HEALTHY && i->hfails == 1, __LINE__, "one failure (retries 2): still healthy");
	acts[0] = 0;
	inst_step(i, EV_HEALTH_FAIL, &bad);
	tap_ok(i->health == H_UNHEALTHY && i->state == ST_STOPPING && i->cause == CAUSE_UNHEALTHY &&
		       !strcmp(acts, "+unhealthy +health_restart signal:15 =stopping"),
		__LINE__, "the second: unhealthy, restarted through the stop path (%s)", acts);
	now_ms += 40000; /* up longer than reset_after: the crash resets the backoff */
	inst_step(i, EV_EXIT, &(struct step_arg){ .status = SIG(SIGTERM) });
	tap_ok(i->state == ST_WAITING && i->restarts == 1, __LINE__,
		"its exit counts as a failure: restarted, restarts %d (%s)", i->restarts, state_name(i->state));
	tap_ok(i->nhlog == 3 && i->hlog[2].ok == 0 && !strcmp(i->hlog[2].msg, bad.why), __LINE__,
		"the health log keeps the results (%d)", i->nhlog);
	inst_free(i);

	i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_HEALTH | C_HC_NORESTART, 0);
	svc_cfg.health.success_threshold = 2;
	inst_step(i, EV_HEALTH_FAIL, &bad);
	inst_step(i, EV_HEALTH_FAIL, &bad);
	tap_ok(i->health == H_UNHEALTHY && i->state == ST_RUNNING, __LINE__, "restart: false: unhealthy, only reported");
	inst_step(i, EV_HEALTH_OK, &good);
	tap_ok(i->health == H_UNHEALTHY, __LINE__, "success_threshold 2: one pass is not enough");
	inst_step(i, EV_HEALTH_OK, &good);
	tap_ok(i->health == H_HEALTHY, __LINE__, "... two are");
	inst_free(i);

	i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_HEALTH, 0);
	svc_cfg.health.start_period_ms = 10000;
	for (int k = 0; k < 5; k++)
		inst_step(i, EV_HEALTH_FAIL, &bad);
	tap_ok(i->health == H_STARTING && i->hfails == 0, __LINE__, "start_period: failures do not count");
	now_ms += 10000;
	inst_step(i, EV_HEALTH_FAIL, &bad);
	inst_step(i, EV_HEALTH_FAIL, &bad);
	tap_ok(i->health == H_UNHEALTHY, __LINE__, "after it they do");
	inst_free(i);

	/* never healthy: the restart limit's count of runs in a row, however
	 * long each took */
	i = make(ST_WAITING, WANT_RUN, P_NONE, C_HEALTH, 0);
	svc_cfg.restart_limit.count = 3;
	for (int run = 1; run <= 3; run++) {
		inst_step(i, EV_START, NULL);
		now_ms += 20000;
		inst_step(i, EV_HEALTH_FAIL, &bad);
		inst_step(i, EV_HEALTH_FAIL, &bad);
		inst_step(i, EV_EXIT, &(struct step_arg){ .status = SIG(SIGTERM) });
		if (run < 3) {
			tap_ok(i->state == ST_BACKOFF, __LINE__, "never healthy, run %d: backoff (%s, %s)", run,
				state_name(i->state), i->reason);
			fire(i, T_RESTART);
		}
	}
	tap_ok(i->state == ST_FAILED && strstr(i->reason, "never healthy in 3 starts"), __LINE__,
		"never healthy 3 times: failed (%s)", i->reason);
	inst_free(i);
}

/* sd_notify datagrams, parsed by lib/notify.c, through EV_NOTIFY */
static void notify(struct inst *i, const char *text)
{
	struct notify_msg m;
	if (notify_parse(text, strlen(text), &m))
		abort();
	inst_step(i, EV_NOTIFY, &(struct step_arg){ .note = &m });
}

static void test_notify_msgs(void)
{
	struct inst *i = make(ST_STARTING, WANT_RUN, P_MAIN, C_NOTIFY, 0);
	notify(i, "STATUS=Loading the data\n");
	tap_ok(i->state == ST_STARTING && !strcmp(i->note, "Loading the data"), __LINE__,
		"STATUS=: the note (%s), still starting", i->note);
	notify(i, "READY=1\nSTATUS=Ready to accept connections\n");
	tap_ok(i->state == ST_RUNNING && !strcmp(i->note, "Ready to accept connections"), __LINE__,
		"READY=1: running, the new note (%s)", i->note);
	notify(i, "RELOADING=1");
	tap_ok(i->notify_state && !strcmp(i->notify_state, "reloading"), __LINE__, "RELOADING=1 shown");
	notify(i, "READY=1");
	tap_ok(!i->notify_state && i->state == ST_RUNNING, __LINE__, "... READY=1 ends it");
	notify(i, "STOPPING=1");
	tap_ok(i->notify_state && !strcmp(i->notify_state, "stopping"), __LINE__, "STOPPING=1 shown");
	notify(i, "MAINPID=1");
	tap_ok(i->mainpid == 0, __LINE__, "MAINPID= of a process outside its group: refused");
	inst_free(i);

	i = make(ST_RUNNING, WANT_RUN, P_MAIN, C_WATCHDOG, 0);
	timer_arm(i, T_WATCHDOG, now_ms + 3000);
	now_ms += 2000;
	notify(i, "WATCHDOG=1");
	struct ftimer *t = ftimer(i->timer[T_WATCHDOG]);
	tap_ok(t && t->at == now_ms + 3000, __LINE__, "WATCHDOG=1: the watchdog timer starts again");
	acts[0] = 0;
	notify(i, "WATCHDOG=trigger");
	tap_ok(i->state == ST_STOPPING && i->cause == CAUSE_WATCHDOG, __LINE__,
		"WATCHDOG=trigger: restarted at once, as a failure (%s)", acts);
	inst_free(i);
}

/* ------------------------------------------------------------ policy */

static void test_policy(void)
{
	static const struct {
		int line, quick, jitter;
		double rnd;
		int64_t ms;
	} b[] = {
		{ __LINE__, 1, 0, 0.5, 1000 }, { __LINE__, 2, 0, 0.5, 2000 }, { __LINE__, 3, 0, 0.5, 4000 },
		{ __LINE__, 4, 0, 0.5, 8000 }, { __LINE__, 5, 0, 0.5, 8000 }, { __LINE__, 60, 0, 0.5, 8000 },
		{ __LINE__, 1, 10, 0.0, 900 }, { __LINE__, 1, 10, 0.5, 1000 }, { __LINE__, 1, 10, 0.999, 1099 },
		{ __LINE__, 4, 50, 0.0, 4000 }, { __LINE__, 4, 50, 0.75, 10000 },
	};
	make_cfg(0);
	for (size_t k = 0; k < sizeof b / sizeof *b; k++) {
		svc_cfg.backoff.jitter_pct = b[k].jitter;
		int64_t got = policy_backoff_ms(&svc_cfg, b[k].quick, b[k].rnd);
		tap_ok(got == b[k].ms, b[k].line, "backoff: crash %d, jitter %d%%, rnd %.3f: %lld ms (%lld)", b[k].quick,
			b[k].jitter, b[k].rnd, (long long)b[k].ms, (long long)got);
	}
	static const int64_t starts[] = { 0, 1000, 2000, 9000 };
	static const struct {
		int line, n;
		int64_t now, window;
		int want;
	} w[] = {
		{ __LINE__, 0, 5000, 1000, 0 },   { __LINE__, 3, 2000, 1500, 2 },  { __LINE__, 3, 2999, 1000, 1 },
		{ __LINE__, 3, 3000, 1000, 0 },   { __LINE__, 4, 9500, 10000, 4 }, { __LINE__, 4, 10000, 10000, 3 },
		{ __LINE__, 4, 70000, 10000, 0 },
	};
	for (size_t k = 0; k < sizeof w / sizeof *w; k++) {
		int got = policy_window_starts(starts, w[k].n, w[k].now, w[k].window);
		tap_ok(got == w[k].want, w[k].line, "window: %d starts, now %lld, window %lld: %d (%d)", w[k].n,
			(long long)w[k].now, (long long)w[k].window, w[k].want, got);
	}
	static const struct {
		int line, code, sig, to, failed;
	} f[] = {
		{ __LINE__, 0, 0, 0, 0 }, { __LINE__, 1, 0, 0, 1 }, { __LINE__, -1, 9, 0, 1 },
		{ __LINE__, -1, 0, 0, 1 }, { __LINE__, 0, 0, 1, 1 },
	};
	for (size_t k = 0; k < sizeof f / sizeof *f; k++)
		tap_ok(policy_failed(f[k].code, f[k].sig, f[k].to) == f[k].failed, f[k].line,
			"failed(code %d, sig %d, timed out %d) = %d", f[k].code, f[k].sig, f[k].to, f[k].failed);
	static const struct {
		int line;
		enum restart_policy p;
		int failed, restarts;
	} r[] = {
		{ __LINE__, RESTART_ALWAYS, 0, 1 },     { __LINE__, RESTART_ALWAYS, 1, 1 },
		{ __LINE__, RESTART_ON_FAILURE, 0, 0 }, { __LINE__, RESTART_ON_FAILURE, 1, 1 },
		{ __LINE__, RESTART_NO, 0, 0 },         { __LINE__, RESTART_NO, 1, 0 },
	};
	for (size_t k = 0; k < sizeof r / sizeof *r; k++)
		tap_ok(policy_restarts(r[k].p, r[k].failed) == r[k].restarts, r[k].line, "restart %s, failed %d: %d",
			restart_name(r[k].p), r[k].failed, r[k].restarts);
}

/* A crash loop driven through the clock: backoff doubles, the restart
 * limit parks it in failed, a start by hand resets it; a crash after
 * reset_after restarts at once. */
static void test_crash_loop(void)
{
	struct inst *i = make(ST_WAITING, WANT_RUN, P_NONE, 0, 0);
	svc_cfg.backoff.initial_ms = 100;
	svc_cfg.restart_limit.count = 3;
	svc_cfg.restart_limit.window_ms = 10000;
	static const int64_t delays[] = { 100, 200 };
	for (int k = 0; k < 3; k++) {
		inst_step(i, EV_START, NULL);
		tap_ok(i->state == ST_RUNNING && i->pid > 0, __LINE__, "crash loop: start %d runs at %lld ms", k + 1,
			(long long)now_ms);
		now_ms += 50;
		inst_step(i, EV_EXIT, &(struct step_arg){ .status = EXIT(1) });
		if (k == 2)
			break;
		struct ftimer *t = ftimer(i->timer[T_RESTART]);
		tap_ok(i->state == ST_BACKOFF && t && t->at == now_ms + delays[k], __LINE__,
			"... crash %d: backoff %lld ms (%lld)", k + 1, (long long)delays[k], t ? (long long)(t->at - now_ms) : -1LL);
		fire(i, T_RESTART);
		tap_ok(i->state == ST_WAITING, __LINE__, "... the timer fires: waiting to start");
	}
	tap_ok(i->state == ST_FAILED && !strncmp(i->reason, "restart limit reached: 3 starts in 10s", 38), __LINE__,
		"... the third crash in the window: failed (%s)", i->reason);
	tap_ok(i->restarts == 2, __LINE__, "... restarts counted: 2 (%d)", i->restarts);
	inst_step(i, EV_CTL_START, NULL);
	inst_step(i, EV_START, NULL);
	tap_ok(i->state == ST_RUNNING && i->quick == 0 && i->nstarts == 1, __LINE__,
		"start by hand: runs, the limit and the backoff reset (quick %d, starts %d)", i->quick, i->nstarts);
	now_ms += 20000; /* up longer than reset_after */
	inst_step(i, EV_EXIT, &(struct step_arg){ .status = EXIT(1) });
	tap_ok(i->state == ST_WAITING && !i->timer[T_RESTART] && i->quick == 0, __LINE__,
		"a crash after reset_after: restarted at once (%s)", state_name(i->state));
	inst_free(i);
}

int main(void)
{
	test_table();
	test_details();
	test_health();
	test_notify_msgs();
	test_policy();
	test_crash_loop();
	return tap_done();
}
