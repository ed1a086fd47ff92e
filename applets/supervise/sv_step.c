/* sv_step.c: the life of an instance, as one transition function.
 *
 *   waiting/stopped(new) --EV_START--> [pre_start hook] --> starting
 *   starting --(ready: none at once | EV_READY)--> running
 *   starting/running --EV_EXIT--> (group gone) [post_stop hook] --> exit policy:
 *        backoff --EV_TIMER_RESTART--> waiting | exited | failed | waiting (job)
 *   any with a process --stop--> stopping --(group gone)--> stopped,
 *        or waiting again when it is still wanted (a restart)
 *
 * inst_step() is a switch on the event, then on the state (nitro's
 * process_step is the model). It is the only writer of i->state: set_state()
 * emits the change (sv_event.c) and asks for a reconcile pass; set_due()
 * marks an instance due to start, silently, since the reconcile pass of the
 * same loop round starts it (or says what it waits for). What an exit
 * means (backoff, restart limit, jobs) is in the pure policy_*() functions.
 *
 * Calls only sv_child.c, sv_event.c, sv_log.c and lib/. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "parse.h"
#include "sv.h"

#define NO_MATCH "schedule: no time matches in the next 5 years"

static const char *const event_names[EV__COUNT] = {
	"start", "wait", "job-arm", "ready", "notify", "exit", "group-gone", "hook-exit", "timer-restart",
	"timer-kill", "timer-timeout", "timer-job", "timer-watchdog", "ctl-start", "ctl-stop", "restart", "config",
	"retry", "remove", "teardown", "hurry", "health-ok", "health-fail",
};

/* ------------------------------------------------------------- policy */

int policy_failed(int code, int sig, int stopped_for_failure)
{
	return sig != 0 || code != 0 || stopped_for_failure;
}

int policy_restarts(enum restart_policy p, int failed)
{
	return p == RESTART_ALWAYS || (p == RESTART_ON_FAILURE && failed);
}

/* initial x factor^(quick-1), capped at max, then +- jitter% (rnd in [0,1)) */
int64_t policy_backoff_ms(const struct service *c, int quick, double rnd)
{
	double d = (double)c->backoff.initial_ms;
	for (int k = 1; k < quick && d < (double)c->backoff.max_ms; k++)
		d *= c->backoff.factor;
	if (d > (double)c->backoff.max_ms)
		d = (double)c->backoff.max_ms;
	if (c->backoff.jitter_pct > 0) {
		double j = d * c->backoff.jitter_pct / 100.0;
		d += j * (2.0 * rnd - 1.0);
	}
	return d < 0 ? 0 : (int64_t)d;
}

/* Starts within the restart window ending now */
int policy_window_starts(const int64_t *starts, int n, int64_t now, int64_t window_ms)
{
	int k = 0;
	for (int j = 0; j < n; j++)
		if (now - starts[j] < window_ms)
			k++;
	return k;
}

static int limit_reached(const struct inst *i, int64_t now)
{
	const struct service *c = i->svc->cfg;
	return c->restart_limit.count > 0 &&
		policy_window_starts(i->starts, i->nstarts, now, c->restart_limit.window_ms) >= c->restart_limit.count;
}

static void record_start(struct inst *i, int64_t now)
{
	const struct service *c = i->svc->cfg;
	int cap = c->restart_limit.count > 0 ? c->restart_limit.count : 1;
	if (i->starts_cap != cap) {
		int64_t *p = realloc(i->starts, (size_t)cap * sizeof *p);
		if (!p)
			return;
		i->starts = p;
		i->starts_cap = cap;
		i->nstarts = 0;
	}
	if (i->nstarts < cap)
		i->starts[i->nstarts++] = now;
	else {
		memmove(i->starts, i->starts + 1, (size_t)(cap - 1) * sizeof *i->starts);
		i->starts[cap - 1] = now;
	}
}

static void describe_exit(char *buf, size_t sz, int code, int sig)
{
	if (sig)
		snprintf(buf, sz, "killed by SIG%s", signal_name(sig) ? signal_name(sig) : "?");
	else if (code >= 0)
		snprintf(buf, sz, "exited with status %d", code);
	else
		snprintf(buf, sz, "could not start");
}

/* ------------------------------------------------------------ lifetime */

struct inst *inst_new(struct svc *s, int idx)
{
	struct inst *i = calloc(1, sizeof *i);
	if (!i)
		return NULL;
	i->svc = s;
	i->idx = idx;
	snprintf(i->name, sizeof i->name, "%s.%d", s->cfg->name, idx);
	i->state = ST_STOPPED;
	i->want = WANT_RUN;
	i->out_r = i->out_w = -1;
	i->log.fd = -1;
	i->is_new = 1;
	return i;
}

static void timer_cancel(struct inst *i, enum inst_timer t)
{
	if (i->timer[t])
		loop_timer_cancel(SV.loop, i->timer[t]);
	i->timer[t] = 0;
}

static void close_ready(struct inst *i)
{
	if (i->ready_id)
		loop_close_fd(SV.loop, i->ready_id);
	if (i->notify_id)
		loop_close_fd(SV.loop, i->notify_id);
	i->ready_id = i->notify_id = 0;
}

void inst_free(struct inst *i)
{
	for (int t = 0; t < T__COUNT; t++)
		timer_cancel(i, (enum inst_timer)t);
	close_ready(i);
	child_close_output(i);
	free(i->hmsg);
	free(i->hlog);
	free(i->starts);
	free(i->hist);
	free(i);
}

int inst_alive(const struct inst *i)
{
	return i->pid > 0 || i->hook_pid > 0 || i->pgid > 0;
}

void inst_add_exit(struct inst *i, int64_t t, pid_t pid, int code, int sig, int64_t up)
{
	if (!i->hist) {
		i->hist = calloc(SV_HISTORY, sizeof *i->hist);
		if (!i->hist)
			return;
	}
	if (i->nhist == SV_HISTORY) {
		memmove(i->hist, i->hist + 1, (SV_HISTORY - 1) * sizeof *i->hist);
		i->nhist--;
	}
	i->hist[i->nhist++] = (struct exitrec){ t, pid, code, sig, up };
}

/* -------------------------------------------------------- the writers */

static void set_state(struct inst *i, enum inst_state st, const char *reason)
{
	int changed = i->state != st || (!reason && i->reason[0]); /* a reason cleared is news too */
	i->state = st;
	if (reason)
		snprintf(i->reason, sizeof i->reason, "%s", reason);
	else
		i->reason[0] = 0;
	if (st != ST_WAITING)
		i->waiting_for = NULL;
	if (changed || reason)
		sv_emit_state(i);
	SV.reconcile_due = 1;
}

/* Due to start: waiting, no reason, not emitted (the reconcile pass of
 * this loop round starts it, or says what it waits for) */
static void set_due(struct inst *i)
{
	i->state = ST_WAITING;
	i->reason[0] = 0;
	SV.reconcile_due = 1;
}

/* ------------------------------------------------------------- timers */

static void on_timer(struct loop *l, int64_t id, void *ctx, enum inst_timer t)
{
	(void)l;
	(void)id;
	struct inst *i = ctx;
	i->timer[t] = 0;
	inst_step(i, (enum inst_event)(EV_TIMER_RESTART + t), NULL);
}

static void on_t_restart(struct loop *l, int64_t id, void *ctx) { on_timer(l, id, ctx, T_RESTART); }
static void on_t_kill(struct loop *l, int64_t id, void *ctx) { on_timer(l, id, ctx, T_KILL); }
static void on_t_timeout(struct loop *l, int64_t id, void *ctx) { on_timer(l, id, ctx, T_TIMEOUT); }
static void on_t_job(struct loop *l, int64_t id, void *ctx) { on_timer(l, id, ctx, T_JOB); }
static void on_t_watchdog(struct loop *l, int64_t id, void *ctx) { on_timer(l, id, ctx, T_WATCHDOG); }

static loop_timer_cb *const timer_cb[T__COUNT] = { on_t_restart, on_t_kill, on_t_timeout, on_t_job, on_t_watchdog };

static void timer_arm(struct inst *i, enum inst_timer t, int64_t at)
{
	timer_cancel(i, t);
	i->timer[t] = loop_timer_at(SV.loop, at, timer_cb[t], i);
	if (i->timer[t] < 0)
		i->timer[t] = 0; /* ENOMEM: logged by nobody; the next event moves it on */
}

/* A scheduled job's next run: i->next_run and its timer (none: 0) */
static void schedule_next(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	timer_cancel(i, T_JOB);
	if (!c->schedule || (c->cron.flags & CRON_REBOOT))
		return;
	time_t now = wall_s();
	time_t next = cron_next(&c->cron, now);
	i->next_run = next > 0 ? next : 0;
	if (next <= 0)
		return;
	timer_arm(i, T_JOB, loop_now_ms() + ((int64_t)next - now) * 1000 - (wall_ms() % 1000));
}

/* --------------------------------------------------------- readiness */

static void close_ready_pipe(struct inst *i)
{
	if (i->ready_id)
		loop_close_fd(SV.loop, i->ready_id);
	i->ready_id = 0;
}

static void on_ready_fd(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)revents;
	struct inst *i = ctx;
	int r = child_ready_line(fd);
	if (r > 0) {
		inst_step(i, EV_READY, NULL);
	} else if (r < 0 && i->ready_id == id) {
		loop_close_fd(SV.loop, id);
		i->ready_id = 0;
	}
}

static void on_notify_fd(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)id;
	(void)revents;
	struct notify_msg m;
	int r = child_notify(fd, &m);
	if (r > 0)
		inst_step(ctx, EV_NOTIFY, &(struct step_arg){ .note = &m });
	else if (r == 0)
		sv_log(LVL_DEBUG, ctx, "NOTIFY_SOCKET: an invalid datagram, ignored");
}

static void listen_ready(struct inst *i, const struct child *ch)
{
	close_ready(i);
	if (ch->ready_fd >= 0) {
		i->ready_id = loop_add_fd(SV.loop, ch->ready_fd, POLLIN, on_ready_fd, i);
		if (i->ready_id < 0) {
			i->ready_id = 0;
			close(ch->ready_fd);
		}
	}
	if (ch->notify_fd >= 0) {
		i->notify_id = loop_add_fd(SV.loop, ch->notify_fd, POLLIN, on_notify_fd, i);
		if (i->notify_id < 0) {
			i->notify_id = 0;
			close(ch->notify_fd);
		}
	}
}

/* A live upgrade (sv_upgrade.c) hands an instance its inherited readiness
 * fds and timers back */
void inst_adopt(struct inst *i, int ready_fd, int notify_fd, const int64_t *deadline)
{
	listen_ready(i, &(struct child){ 0, ready_fd, notify_fd });
	for (int t = 0; t < T__COUNT; t++)
		if (deadline[t] >= 0)
			timer_arm(i, (enum inst_timer)t, deadline[t]);
}

/* ------------------------------------------------------------ actions */

static void after_exit(struct inst *i);

static void critical_failed(struct inst *i)
{
	if (!i->svc->cfg->critical || SV.shutting_down)
		return;
	SV.exit_status = i->last_sig ? 128 + i->last_sig : i->last_code > 0 ? i->last_code : 1;
	char why[96];
	snprintf(why, sizeof why, "critical service failed: stopping everything, exit status %d", SV.exit_status);
	sv_log(LVL_ERROR, i, "%s", why);
	sv_shutdown(0, NULL);
}

static void give_up(struct inst *i, const char *why)
{
	i->quick = 0;
	set_state(i, ST_FAILED, why);
	sv_emit_failed(i);
	critical_failed(i);
}

/* A failure to start (hook failed, fork failed, bad env_file): treated as a
 * crash, so the backoff and the restart limit apply and mls never spins */
static void start_failed(struct inst *i, const char *why)
{
	sv_log(LVL_WARN, i, "cannot start: %s", why);
	i->has_exit = 1;
	i->last_code = -1;
	i->last_sig = 0;
	snprintf(i->reason, sizeof i->reason, "%s", why);
	i->spawned_ms = loop_now_ms();
	after_exit(i);
}

static void run_hook(struct inst *i, enum hook_kind k)
{
	const struct service *c = i->svc->cfg;
	struct child ch;
	char err[256];
	if (child_spawn(i, k == HOOK_PRE ? &c->pre_start : &c->post_stop, 0, &ch, err, sizeof err) < 0) {
		sv_log(LVL_WARN, i, "cannot run %s: %s", k == HOOK_PRE ? "pre_start" : "post_stop", err);
		i->hook = HOOK_NONE;
		if (k == HOOK_PRE)
			start_failed(i, "pre_start could not run");
		else
			after_exit(i);
		return;
	}
	i->hook = k;
	i->hook_pid = ch.pid;
	timer_arm(i, T_KILL, loop_now_ms() + c->stop_grace_ms);
}

/* The main process, its pre_start done (or none) */
static void spawn_main(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	int64_t now = loop_now_ms();
	struct child ch;
	char err[256];
	if (child_spawn(i, &c->command, 1, &ch, err, sizeof err) < 0) {
		start_failed(i, err);
		return;
	}
	listen_ready(i, &ch);
	i->pid = ch.pid;
	i->pgid = ch.pid;
	i->spawned_ms = now;
	sv_emit_start(i); /* (a job's next_run stays: the time after this run) */
	i->ever_started = 1;
	if (c->timeout_ms > 0)
		timer_arm(i, T_TIMEOUT, now + c->timeout_ms);
	if (c->watchdog_ms > 0)
		timer_arm(i, T_WATCHDOG, now + c->watchdog_ms);
	i->note[0] = 0;
	i->notify_state = NULL;
	i->mainpid = 0;
	i->stat_ms = 0;
	i->health = c->health.kind != HC_NONE ? H_STARTING : H_NONE;
	i->hfails = i->hoks = 0;
	i->ever_healthy = 0;
	set_state(i, c->ready == READY_NONE ? ST_RUNNING : ST_STARTING, NULL);
}

/* Start now (dependencies met): the restart limit, then pre_start or the
 * command */
static void begin_start(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	int64_t now = loop_now_ms();
	timer_cancel(i, T_RESTART);
	i->is_new = 0;
	i->cause = CAUSE_NONE;
	i->job_due = 0;
	if (limit_reached(i, now)) {
		char why[160];
		snprintf(why, sizeof why, "restart limit reached: %d starts in %llds", c->restart_limit.count,
			(long long)(c->restart_limit.window_ms / 1000));
		i->quick = 0;
		set_state(i, ST_FAILED, why);
		sv_emit_failed(i);
		return;
	}
	if (!child_docker_cli(i)) {
		/* no restart loop: nothing changes until PATH does (a reload,
		 * ctl start) */
		sv_log(LVL_ERROR, i, "cannot start: docker CLI not found");
		give_up(i, "docker CLI not found");
		return;
	}
	if (child_output(i) < 0) {
		start_failed(i, "cannot make the output pipe (out of file descriptors?)");
		return;
	}
	if (child_port(i) < 0) {
		start_failed(i, "no free port for port: auto");
		return;
	}
	record_start(i, now);
	if (c->pre_start.argv) {
		set_state(i, ST_STARTING, "pre_start");
		run_hook(i, HOOK_PRE);
		return;
	}
	spawn_main(i);
}

/* Send the stop signal to the group and wait for it, SIGKILL after the
 * grace period. With no process, the instance is just stopped. */
static void stop(struct inst *i, const char *why)
{
	const struct service *c = i->svc->cfg;
	/* already stopping: its SIGKILL timer stays armed (a second stop,
	 * a restart or a reload must not cancel the escalation) */
	if (i->state == ST_STOPPING && inst_alive(i))
		return;
	timer_cancel(i, T_RESTART);
	timer_cancel(i, T_TIMEOUT);
	timer_cancel(i, T_WATCHDOG);
	if (!inst_alive(i)) {
		/* a stop by request makes even a failed or exited one "stopped" */
		int req = why && !strcmp(why, "request");
		if (i->state != ST_STOPPED && (req || (i->state != ST_EXITED && i->state != ST_FAILED)))
			set_state(i, ST_STOPPED, req ? NULL : why);
		return;
	}
	if (i->hook_pid > 0 && i->hook == HOOK_PRE)
		child_signal_hook(i, c->stop_signal); /* no start follows */
	child_signal(i, c->stop_signal);
	timer_arm(i, T_KILL, loop_now_ms() + c->stop_grace_ms);
	set_state(i, ST_STOPPING, why && strcmp(why, "request") ? why : NULL);
}

/* The main process and its group are gone: post_stop, then the policy */
static void main_gone(struct inst *i)
{
	timer_cancel(i, T_KILL);
	timer_cancel(i, T_TIMEOUT);
	timer_cancel(i, T_WATCHDOG);
	if (i->svc->cfg->post_stop.argv)
		run_hook(i, HOOK_POST);
	else
		after_exit(i);
}

static void on_exit_status(struct inst *i, int status)
{
	pid_t pid = i->pid;
	i->pid = 0;
	i->has_exit = 1;
	i->last_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	i->last_sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	i->last_oom = i->last_sig == SIGKILL && child_oom_killed(i);
	int64_t up = loop_now_ms() - i->spawned_ms;
	close_ready(i);
	child_drain_output(i);
	inst_add_exit(i, wall_ms(), pid, i->last_code, i->last_sig, up);
	sv_emit_exit(i, pid, up);
	if (i->state != ST_STOPPING) {
		/* crashed or ended: what is left of its group goes too, as
		 * systemd does, so a restart never meets the old children */
		timer_cancel(i, T_TIMEOUT);
		child_kill_main(i);
	}
	if (!child_group_alive(i))
		i->pgid = 0;
	if (i->pgid > 0)
		return; /* members left: EV_GROUP_GONE when they are gone */
	main_gone(i);
}

static void on_hook_exit(struct inst *i, int status)
{
	enum hook_kind k = i->hook;
	i->hook_pid = 0;
	i->hook = HOOK_NONE;
	timer_cancel(i, T_KILL);
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char what[96];
	describe_exit(what, sizeof what, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (k == HOOK_POST) {
		if (!ok)
			sv_log(LVL_WARN, i, "post_stop %s", what);
		after_exit(i);
		return;
	}
	if (i->state == ST_STOPPING || SV.shutting_down || i->want != WANT_RUN) {
		/* stopped during pre_start: after_exit() knows whether it was
		 * a restart (ctl restart, config changed) or a stop */
		after_exit(i);
		return;
	}
	if (!ok) {
		char why[128];
		snprintf(why, sizeof why, "pre_start failed: %s", what);
		start_failed(i, why);
		return;
	}
	spawn_main(i);
}

/* What the last run's end is called in the state's reason */
static void exit_words(const struct inst *i, char *what, size_t sz)
{
	const struct service *c = i->svc->cfg;
	describe_exit(what, sz, i->last_code, i->last_sig);
	if (i->last_code < 0 && !i->last_sig && i->reason[0])
		snprintf(what, sz, "%.95s", i->reason); /* start_failed() said why */
	if (i->cause == CAUSE_TIMEOUT && c->timeout_ms % 1000)
		snprintf(what, sz, "timed out after %lldms", (long long)c->timeout_ms);
	else if (i->cause == CAUSE_TIMEOUT)
		snprintf(what, sz, "timed out after %llds", (long long)(c->timeout_ms / 1000));
	else if (i->cause == CAUSE_UNHEALTHY)
		snprintf(what, sz, "unhealthy: %.80s", i->nhlog ? i->hlog[i->nhlog - 1].msg : "?");
	else if (i->cause == CAUSE_WATCHDOG)
		snprintf(what, sz, "watchdog timeout");
}

/* A scheduled job's run ended: wait for the next time */
static void run_ended(struct inst *i, int failed, const char *what)
{
	const struct service *c = i->svc->cfg;
	if (failed) {
		sv_log(LVL_WARN, i, "run failed: %s", what);
	} else {
		i->runs_done++;
		i->last_success_ms = wall_ms();
	}
	if (c->cron.flags & CRON_REBOOT) {
		set_state(i, failed ? ST_FAILED : ST_EXITED, failed ? what : NULL);
		return;
	}
	schedule_next(i);
	if (!i->next_run)
		set_state(i, ST_STOPPED, NO_MATCH);
	else
		set_state(i, ST_WAITING, failed ? what : NULL);
}

/* It ended on its own and may restart: backoff, the restart limit */
static void crashed(struct inst *i, const char *what)
{
	const struct service *c = i->svc->cfg;
	int64_t up = loop_now_ms() - i->spawned_ms;
	if (up >= c->backoff.reset_after_ms && !(i->last_code < 0 && !i->last_sig) &&
	    !(i->cause == CAUSE_UNHEALTHY && !i->ever_healthy))
		i->quick = 0; /* (a start that failed before exec is always quick) */
	else
		i->quick++;
	int64_t delay = i->quick ? policy_backoff_ms(c, i->quick, (double)random() / 2147483648.0) : 0;
	if (c->restart_limit.count > 0 && i->unhealthy_runs >= c->restart_limit.count) {
		char why[200];
		snprintf(why, sizeof why, "never healthy in %d starts in a row; last %s", i->unhealthy_runs, what);
		give_up(i, why);
		return;
	}
	if (limit_reached(i, loop_now_ms())) {
		char why[160];
		snprintf(why, sizeof why, "restart limit reached: %d starts in %llds; last %s", c->restart_limit.count,
			(long long)(c->restart_limit.window_ms / 1000), what);
		give_up(i, why);
		return;
	}
	i->restarts++;
	if (delay <= 0) {
		/* started by the reconcile pass of this same loop round, so
		 * the respawn costs no extra wakeup */
		set_due(i);
		return;
	}
	i->next_start_ms = loop_now_ms() + delay;
	timer_arm(i, T_RESTART, i->next_start_ms);
	sv_log(LVL_INFO, i, "restarting in %.1fs (crash %d in a row)", (double)delay / 1000.0, i->quick);
	set_state(i, ST_BACKOFF, what);
}

/* What follows an end of the main process (after post_stop): the policy */
static void after_exit(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	int failed = policy_failed(i->last_code, i->last_sig, i->cause != CAUSE_NONE);
	char what[96];
	exit_words(i, what, sizeof what);
	if (i->want != WANT_RUN || SV.shutting_down) {
		set_state(i, ST_STOPPED, NULL);
		return;
	}
	if (i->state == ST_STOPPING && !i->cause) {
		/* stopped while still wanted: a restart */
		i->quick = 0;
		set_due(i);
		return;
	}
	/* it ended on its own */
	if (c->schedule) {
		run_ended(i, failed, what);
		return;
	}
	if (c->runs > 0 && !failed) {
		i->runs_done++;
		i->last_success_ms = wall_ms();
		i->quick = 0;
		/* the next run is no restart after a crash: the restart limit
		 * counts the starts since the last run that succeeded */
		i->nstarts = 0;
		if (i->runs_done >= c->runs) {
			set_state(i, ST_EXITED, NULL);
		} else {
			set_due(i);
			begin_start(i); /* its dependencies were met a run ago */
		}
		return;
	}
	if (policy_restarts(c->restart, failed))
		crashed(i, what);
	else if (failed)
		give_up(i, what);
	else
		set_state(i, ST_EXITED, NULL);
}

/* A start by hand or a reload resets the restart limit and the backoff */
static void fresh_chance(struct inst *i)
{
	i->nstarts = 0;
	i->quick = 0;
}

/* `start` or `restart` of one with no process: due now (a stopped job
 * runs now; one between runs waits for its time) */
static void start_again(struct inst *i)
{
	timer_cancel(i, T_RESTART);
	fresh_chance(i);
	if (!i->timer[T_JOB])
		i->job_due = 1;
	set_due(i);
}

/* The stop grace (or a hook's time) is over */
static void grace_over(struct inst *i)
{
	if (i->hook_pid > 0) {
		sv_log(LVL_WARN, i, "%s still running after %lldms: SIGKILL", i->hook == HOOK_PRE ? "pre_start" : "post_stop",
			(long long)i->svc->cfg->stop_grace_ms);
		child_signal_hook(i, SIGKILL);
	} else if (i->state == ST_STOPPING && i->pgid > 0) {
		sv_log(LVL_WARN, i, "still running %lldms after the stop signal: SIGKILL to its process group",
			(long long)i->svc->cfg->stop_grace_ms);
		child_kill_main(i);
	}
}

/* A scheduled job's time came */
static void job_due(struct inst *i)
{
	if (wall_s() < i->next_run) { /* woke early (clock changed): wait again */
		schedule_next(i);
		return;
	}
	if (SV.shutting_down || i->want != WANT_RUN)
		return;
	schedule_next(i);
	if (inst_alive(i)) {
		sv_log(LVL_WARN, i, "previous run still going at the next due time: this run is skipped");
		return;
	}
	i->job_due = 1;
	set_due(i);
}

/* Shutdown or removal, its dependents down: stop it, or drop what waits */
static void teardown(struct inst *i)
{
	timer_cancel(i, T_JOB);
	i->job_due = 0;
	if (inst_alive(i)) {
		if (i->state != ST_STOPPING)
			stop(i, SV.shutting_down ? "shutdown" : "removed");
		if (SV.shutting_down > 1)
			child_kill_all(i);
	} else if (i->state == ST_BACKOFF || i->state == ST_WAITING) {
		timer_cancel(i, T_RESTART);
		set_state(i, ST_STOPPED, NULL);
	}
}

/* -------------------------------------------------------------- health */

/* In its start_period: failures do not count yet */
int policy_in_start_period(const struct healthcheck *h, enum health st, int64_t up_ms)
{
	return st == H_STARTING && up_ms < h->start_period_ms;
}

static void health_log(struct inst *i, int ok, const struct step_arg *a)
{
	if (!i->hlog && !(i->hlog = calloc(SV_HEALTH_LOG, sizeof *i->hlog)))
		return; /* ENOMEM: the verdict still counts, the log misses it */
	if (i->nhlog == SV_HEALTH_LOG) {
		memmove(i->hlog, i->hlog + 1, (SV_HEALTH_LOG - 1) * sizeof *i->hlog);
		i->nhlog--;
	}
	struct hresult *r = &i->hlog[i->nhlog++];
	r->time_ms = wall_ms();
	r->dur_ms = a->dur_ms;
	r->ok = ok;
	snprintf(r->msg, sizeof r->msg, "%s", a->why ? a->why : "");
	free(i->hmsg);
	i->hmsg = a->why ? strndup(a->why, SV_HEALTH_MSG) : NULL;
}

/* One check's result: the verdict (retries, success_threshold,
 * start_period) and what it drives (ready: healthy, restart) */
static void health_result(struct inst *i, int ok, const struct step_arg *a)
{
	const struct healthcheck *h = &i->svc->cfg->health;
	health_log(i, ok, a);
	if (ok) {
		i->hfails = 0;
		i->hoks++;
		/* the first success ends the start period */
		if (i->health != H_HEALTHY && (i->health == H_STARTING || i->hoks >= h->success_threshold)) {
			i->health = H_HEALTHY;
			i->ever_healthy = 1;
			i->unhealthy_runs = 0;
			sv_emit_health(i, "healthy", a->why);
			if (i->state == ST_STARTING && i->svc->cfg->ready == READY_HEALTHY)
				set_state(i, ST_RUNNING, NULL);
		}
		return;
	}
	i->hoks = 0;
	if (policy_in_start_period(h, i->health, loop_now_ms() - i->spawned_ms))
		return;
	i->hfails++;
	if (i->health == H_UNHEALTHY || i->hfails < h->retries)
		return;
	i->health = H_UNHEALTHY;
	sv_emit_health(i, "unhealthy", a->why);
	if (!h->restart || i->state == ST_STOPPING)
		return;
	sv_emit_health(i, "health_restart", a->why);
	if (!i->ever_healthy)
		i->unhealthy_runs++;
	i->cause = CAUSE_UNHEALTHY;
	stop(i, "unhealthy");
}

/* No WATCHDOG=1 in time, or WATCHDOG=trigger: unhealthy, restarted, and
 * the exit counts as a failure */
static void watchdog_expired(struct inst *i, const char *why)
{
	sv_emit_health(i, "unhealthy", why);
	sv_emit_health(i, "health_restart", why);
	i->cause = CAUSE_WATCHDOG;
	stop(i, why);
}

/* What a service says through its NOTIFY_SOCKET (sd_notify(3)) */
static void on_notify_msg(struct inst *i, const struct notify_msg *m)
{
	const struct service *c = i->svc->cfg;
	if (m->has & NOTIFY_STATUS)
		snprintf(i->note, sizeof i->note, "%s", m->status);
	if (m->has & NOTIFY_STOPPING)
		i->notify_state = "stopping";
	else if (m->has & NOTIFY_RELOADING)
		i->notify_state = "reloading";
	else if (m->has & NOTIFY_READY)
		i->notify_state = NULL; /* RELOADING=1 ends with READY=1 */
	if (m->has & NOTIFY_MAINPID) {
		/* only a process of its own group: a pid of another service
		 * (or of nobody's) is refused */
		if (getpgid((pid_t)m->mainpid) == i->pgid)
			i->mainpid = (pid_t)m->mainpid;
		else
			sv_log(LVL_DEBUG, i, "MAINPID=%ld refused: not a process of its group", m->mainpid);
	}
	if ((m->has & NOTIFY_EXTEND) && i->timer[T_TIMEOUT]) {
		/* there is no start timeout in mls: it extends a job's timeout */
		timer_arm(i, T_TIMEOUT, loop_now_ms() + (int64_t)(m->extend_usec / 1000));
	}
	if (m->has & NOTIFY_WATCHDOG_TRIGGER) {
		if (i->state == ST_STARTING || i->state == ST_RUNNING)
			watchdog_expired(i, "watchdog triggered (WATCHDOG=trigger)");
		return;
	}
	if ((m->has & NOTIFY_WATCHDOG) && c->watchdog_ms > 0 && i->timer[T_WATCHDOG])
		timer_arm(i, T_WATCHDOG, loop_now_ms() + c->watchdog_ms);
	if ((m->has & NOTIFY_READY) && i->state == ST_STARTING && c->ready == READY_NOTIFY) {
		close_ready_pipe(i);
		set_state(i, ST_RUNNING, NULL);
	}
}

/* ------------------------------------------------- the transition function */

void inst_step(struct inst *i, enum inst_event ev, const struct step_arg *a)
{
	static const struct step_arg none;
	if (!a)
		a = &none;
	switch (ev) {
	case EV_START:
		if (i->want == WANT_RUN && !inst_alive(i) &&
		    (i->state == ST_WAITING || (i->state == ST_STOPPED && i->is_new))) {
			begin_start(i);
			return;
		}
		break;
	case EV_WAIT:
		if (i->want == WANT_RUN && !inst_alive(i) &&
		    (i->state == ST_WAITING || (i->state == ST_STOPPED && i->is_new))) {
			/* again when the why changes ("is not running" -> "failed") */
			if (i->state != ST_WAITING || i->waiting_for != a->dep || strcmp(i->reason, a->why ? a->why : "")) {
				set_state(i, ST_WAITING, a->why);
				i->waiting_for = a->dep;
			}
			return;
		}
		break;
	case EV_JOB_ARM:
		if (i->is_new && !inst_alive(i)) {
			i->is_new = 0;
			i->job_due = 0;
			schedule_next(i);
			/* no time matches (Feb 30): it never runs, rather than
			 * running at once as if due */
			set_state(i, i->next_run ? ST_WAITING : ST_STOPPED, i->next_run ? NULL : NO_MATCH);
			return;
		}
		break;
	case EV_READY:
		/* (the NOTIFY_SOCKET stays open: systemd keeps it for the
		 * service's whole life, and daemons send to it until they exit) */
		if (i->state == ST_STARTING && i->pid > 0 && i->svc->cfg->ready == READY_NOTIFY) {
			close_ready_pipe(i);
			set_state(i, ST_RUNNING, NULL);
		}
		return; /* late or repeated: nothing to do */
	case EV_NOTIFY:
		if (i->pid > 0 && a->note) {
			on_notify_msg(i, a->note);
			return;
		}
		break;
	case EV_EXIT:
		if (i->pid > 0) {
			on_exit_status(i, a->status);
			return;
		}
		break;
	case EV_GROUP_GONE:
		if (i->pid <= 0 && i->pgid > 0) {
			i->pgid = 0;
			if (i->hook_pid <= 0)
				main_gone(i);
			return;
		}
		break;
	case EV_HOOK_EXIT:
		if (i->hook_pid > 0) {
			on_hook_exit(i, a->status);
			return;
		}
		break;
	case EV_TIMER_RESTART:
		if (i->state == ST_BACKOFF && !SV.shutting_down)
			set_due(i);
		return;
	case EV_TIMER_KILL:
		grace_over(i);
		return;
	case EV_TIMER_TIMEOUT:
		if (i->pid > 0 && i->state != ST_STOPPING) {
			sv_log(LVL_WARN, i, "timed out after %lldms: stopping it", (long long)i->svc->cfg->timeout_ms);
			i->cause = CAUSE_TIMEOUT;
			stop(i, "timeout");
		}
		return;
	case EV_TIMER_JOB:
		job_due(i);
		return;
	case EV_TIMER_WATCHDOG:
		if ((i->state == ST_STARTING || i->state == ST_RUNNING) && i->pid > 0) {
			watchdog_expired(i, "watchdog timeout");
			return;
		}
		break;
	case EV_CTL_START:
		if (i->want == WANT_REMOVE)
			break;
		i->want = WANT_RUN;
		switch (i->state) {
		case ST_STOPPING: /* a stop still going: start again once it is done */
			fresh_chance(i);
			i->cause = CAUSE_NONE;
			return;
		case ST_FAILED:
		case ST_STOPPED:
		case ST_EXITED:
		case ST_BACKOFF:
			if (i->svc->cfg->runs > 0 && i->state == ST_EXITED)
				i->runs_done = 0;
			start_again(i);
			return;
		case ST_WAITING:
		case ST_STARTING:
		case ST_RUNNING:
			return; /* already */
		default:
			break;
		}
		break;
	case EV_CTL_STOP:
		if (i->want == WANT_REMOVE)
			break;
		i->want = WANT_STOP;
		timer_cancel(i, T_JOB);
		i->next_run = 0;
		i->job_due = 0;
		stop(i, "request");
		return;
	case EV_RESTART:
		if (i->want == WANT_REMOVE)
			break;
		i->want = WANT_RUN;
		fresh_chance(i);
		if (inst_alive(i)) {
			i->cause = CAUSE_NONE;
			stop(i, a->why ? a->why : "restart");
		} else
			start_again(i);
		return;
	case EV_CONFIG:
		if (i->want != WANT_RUN)
			return; /* stopped by request: the new config at its next start */
		fresh_chance(i);
		if (inst_alive(i)) {
			i->cause = CAUSE_NONE;
			stop(i, "config changed");
		} else if (i->state != ST_STOPPED || i->is_new || i->svc->cfg->schedule) {
			timer_cancel(i, T_RESTART);
			/* a job: its new schedule, from now (and not a run at once) */
			if (i->svc->cfg->schedule)
				i->is_new = 1;
			set_due(i);
		}
		return;
	case EV_RETRY:
		if (i->state == ST_FAILED && i->want == WANT_RUN) {
			fresh_chance(i);
			set_due(i);
		}
		return;
	case EV_REMOVE:
		i->want = WANT_REMOVE;
		return;
	case EV_TEARDOWN:
		teardown(i);
		return;
	case EV_HURRY:
		child_kill_all(i);
		return;
	case EV_HEALTH_OK:
	case EV_HEALTH_FAIL:
		if ((i->state == ST_STARTING || i->state == ST_RUNNING) && i->pid > 0 && i->health != H_NONE) {
			health_result(i, ev == EV_HEALTH_OK, a);
			return;
		}
		break; /* a result that came after its process: dropped */
	case EV__COUNT:
		break;
	}
	sv_log(LVL_DEBUG, i, "event %s ignored in state %s", ev < EV__COUNT ? event_names[ev] : "?",
		state_name(i->state));
}

void inst_restart(struct inst *i, const char *why)
{
	inst_step(i, EV_RESTART, &(struct step_arg){ .why = why });
}

/* ----------------------------------------------------------- shutdown */

void sv_shutdown(int hurry, const char *why)
{
	if (!SV.shutting_down) {
		SV.shutting_down = 1;
		sv_emit_shutdown(0, why);
	} else if (hurry && SV.shutting_down == 1) {
		SV.shutting_down = 2;
		sv_emit_shutdown(1, why);
		for (int s = 0; s < SV.nsvcs; s++)
			for (int k = 0; k < SV.svcs[s]->ninst; k++)
				inst_step(SV.svcs[s]->inst[k], EV_HURRY, NULL);
	}
	SV.reconcile_due = 1; /* the pass stops them in reverse dependency order */
}

void sv_clock_moved(void)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			struct inst *i = SV.svcs[s]->inst[k];
			if (i->svc->cfg->schedule && i->timer[T_JOB] && i->next_run && i->next_run <= wall_s())
				timer_arm(i, T_JOB, 0);
		}
}
