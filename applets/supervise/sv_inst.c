/* sv_inst.c: the life of an instance.
 *
 *   stopped/waiting --(deps met: reconcile)--> [pre_start hook] --> starting
 *   starting --(ready: none at once | notify line/READY=1)--> running
 *   running/starting --(exit)--> [post_stop hook] --> decide():
 *        backoff (timer) --> start again | exited | failed | waiting (job)
 *   any with a process --(stop)--> stopping --(group gone)--> stopped
 *
 * Every transition goes through inst_set_state(), which logs, journals,
 * emits the event and asks for a reconcile pass (dependencies, sequential
 * startup, shutdown order), run once per loop round from a 0 ms timer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "parse.h"
#include "spawn.h"
#include "svcexec.h"
#include "sv.h"

static const char *const state_names[] = {
#define X(e, s) s,
	PROTO_STATES(X)
#undef X
};

const char *state_name(enum inst_state s)
{
	return state_names[s];
}

static void on_output(struct loop *l, int64_t id, int fd, int revents, void *ctx);
static void start_now(struct inst *i);
static void after_exit(struct inst *i);

/* --------------------------------------------------------- lifetime */

struct inst *inst_new(struct svc *s, int idx)
{
	struct inst *i = calloc(1, sizeof *i);
	if (!i)
		return NULL;
	i->svc = s;
	i->idx = idx;
	snprintf(i->name, sizeof i->name, "%s.%d", s->cfg->name, idx);
	i->state = ST_STOPPED;
	i->out_r = i->out_w = i->ready_r = -1;
	i->log.fd = -1;
	i->is_new = 1;
	return i;
}

static void cancel_timer(int64_t *t)
{
	if (*t)
		loop_timer_cancel(SV.loop, *t);
	*t = 0;
}

void inst_free(struct inst *i)
{
	cancel_timer(&i->timer);
	cancel_timer(&i->job_timer);
	if (i->out_id)
		loop_close_fd(SV.loop, i->out_id);
	else if (i->out_r >= 0)
		close(i->out_r);
	if (i->out_w >= 0)
		close(i->out_w);
	if (i->ready_id)
		loop_close_fd(SV.loop, i->ready_id);
	if (i->notify_id)
		loop_close_fd(SV.loop, i->notify_id);
	logsink_close(&i->log); /* frees its strings too */
	free(i->starts);
	free(i->hist);
	free(i);
}

int inst_alive(const struct inst *i)
{
	return i->pid > 0 || i->hook_pid > 0 || i->pgid > 0;
}

void inst_set_state(struct inst *i, enum inst_state st, const char *reason)
{
	int changed = i->state != st;
	i->state = st;
	if (reason)
		snprintf(i->reason, sizeof i->reason, "%s", reason);
	else
		i->reason[0] = 0;
	if (st != ST_WAITING)
		i->waiting_for = NULL;
	if (changed || reason) {
		sv_log(st == ST_FAILED ? LVL_WARN : LVL_INFO, i, "%s%s%s%s", state_name(st),
			reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
		sv_event_state(i);
	}
	sv_reconcile_soon();
}

/* ------------------------------------------------------------ output */

/* Set up the output pipe and log sink, once per instance */
static int setup_output(struct inst *i)
{
	if (i->out_r >= 0)
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	i->out_id = loop_add_fd(SV.loop, p[0], POLLIN, on_output, i);
	if (i->out_id < 0) {
		i->out_id = 0;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	i->out_r = p[0];
	i->out_w = p[1];
	char path[4096];
	const struct service *c = i->svc->cfg;
	if (SV.log_dir)
		snprintf(path, sizeof path, "%s/%s.log", SV.log_dir, i->name);
	if (logsink_open(&i->log, SV.log_dir ? path : NULL, i->name, 1, c->log.max_size,
		c->log.keep, LOG_RING_DEFAULT) < 0)
		sv_log(LVL_WARN, i, "log: %s (its lines are counted as dropped)", strerror(errno));
	return 0;
}

static void on_output(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)id;
	(void)revents;
	struct inst *i = ctx;
	/* one bounded read per round: a service writing as fast as it can
	 * gets its turn like every other fd, never more */
	ssize_t n = read(fd, SV.scratch, sizeof SV.scratch);
	if (n <= 0)
		return; /* EAGAIN; EOF cannot happen: mls holds the write end */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t before = i->log.dropped;
	logsink_feed(&i->log, SV.scratch, (size_t)n, &now);
	if (i->log.dropped != before && before == 0)
		sv_log(LVL_WARN, i, "log lines dropped: %s", strerror(i->log.last_errno));
	sv_log_line(i, SV.scratch, (size_t)n);
}

/* ------------------------------------------------------------- ports */

static int port_taken(int port, const struct inst *self)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			const struct inst *o = SV.svcs[s]->inst[k];
			if (o != self && o->port == port)
				return 1;
		}
	return 0;
}

/* A free TCP port from the kernel, not one we already gave out */
static int pick_port(const struct inst *i)
{
	for (int tries = 0; tries < 64; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t al = sizeof a;
		int port = -1;
		if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
		    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
			port = ntohs(a.sin_port);
		close(fd);
		if (port > 0 && !port_taken(port, i))
			return port;
	}
	return -1;
}

static int assign_port(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	if (c->port == PORT_NONE) {
		i->port = 0;
		return 0;
	}
	if (c->port > 0) {
		i->port = c->port + i->idx - 1;
		return 0;
	}
	if (i->port > 0)
		return 0; /* auto: kept across restarts */
	i->port = pick_port(i);
	return i->port > 0 ? 0 : -1;
}

/* ------------------------------------------------------------ starting */

static void on_timer_start(struct loop *l, int64_t id, void *ctx);
static void on_timer_kill(struct loop *l, int64_t id, void *ctx);
static void on_ready(struct loop *l, int64_t id, int fd, int revents, void *ctx);

static int64_t restart_window_starts(struct inst *i, int64_t now)
{
	const struct service *c = i->svc->cfg;
	int n = 0;
	for (int k = 0; k < i->nstarts; k++)
		if (now - i->starts[k] < c->restart_limit.window_ms)
			n++;
	return n;
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

static void on_notify(struct loop *l, int64_t id, int fd, int revents, void *ctx);

static void close_notify(struct inst *i)
{
	if (i->notify_id)
		loop_close_fd(SV.loop, i->notify_id);
	i->notify_id = 0;
}

/* An abstract datagram socket "@mls/PID/NAME.N/K" for this start (no file:
 * works in a scratch root and for services running as other users) */
static int open_notify(struct inst *i, char *var, size_t varsz)
{
	static unsigned long long k;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	close_notify(i);
	int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "mls/%d/%s/%llu", (int)SV.pid, i->name, ++k);
	if (n <= 0 || (size_t)n >= sizeof a.sun_path - 1)
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		close(fd);
		return -1;
	}
	i->notify_id = loop_add_fd(SV.loop, fd, POLLIN, on_notify, i);
	if (i->notify_id < 0) {
		i->notify_id = 0;
		close(fd);
		return -1;
	}
	snprintf(var, varsz, "NOTIFY_SOCKET=@%s", a.sun_path + 1);
	return 0;
}

/* Spawn `cmd` (main or hook) for the instance. Returns the pid or -1 with
 * a message in err. */
static pid_t spawn_cmd(struct inst *i, const struct command *cmd, int with_ready, char *err, size_t errsz)
{
	const struct service *c = i->svc->cfg;
	struct svcexec x;
	int rc = cmd == &c->command
		? svcexec_build(&x, c, i->idx, i->port, SV.environ_base, err, errsz)
		: svcexec_build_cmd(&x, cmd, c, i->idx, i->port, SV.environ_base, err, errsz);
	if (rc)
		return -1;
	struct spawn_req r;
	spawn_req_init(&r);
	svcexec_req(&x, c, &r);
	r.out_fd = i->out_w;
	if (SV.orig_nofile > 0)
		r.nofile_soft = SV.orig_nofile; /* not the limit mls raised for itself */
	int rp[2] = { -1, -1 };
	char **envp = x.envp, **envx = NULL;
	if (with_ready && c->ready == READY_NOTIFY) {
		if (pipe2(rp, O_CLOEXEC) < 0) {
			snprintf(err, errsz, "cannot make the readiness pipe: %s", strerror(errno));
			svcexec_free(&x);
			return -1;
		}
		r.ready_fd = c->ready_fd;
		r.ready_src = rp[1];
		/* NOTIFY_SOCKET for daemons written for systemd: a socket of
		 * this instance's own, so a READY=1 counts whoever sent it
		 * (systemd-notify may be gone by the time it is read) */
		static char var[128];
		if (open_notify(i, var, sizeof var) == 0) {
			int n = 0;
			while (envp[n])
				n++;
			envx = malloc((size_t)(n + 2) * sizeof *envx);
			if (envx) {
				int m = 0;
				for (int k = 0; k < n; k++)
					if (strncmp(envp[k], "NOTIFY_SOCKET=", 14))
						envx[m++] = envp[k];
				envx[m++] = var;
				envx[m] = NULL;
				r.envp = envx;
			}
		}
	}
	pid_t pid = spawn(&r);
	int e = errno;
	free(envx);
	svcexec_free(&x);
	if (rp[1] >= 0)
		close(rp[1]);
	if (pid < 0) {
		if (rp[0] >= 0)
			close(rp[0]);
		snprintf(err, errsz, "fork: %s", strerror(e));
		return -1;
	}
	if (rp[0] >= 0) {
		fcntl(rp[0], F_SETFL, O_NONBLOCK);
		i->ready_id = loop_add_fd(SV.loop, rp[0], POLLIN, on_ready, i);
		if (i->ready_id < 0) {
			i->ready_id = 0;
			close(rp[0]);
		} else
			i->ready_r = rp[0];
	}
	return pid;
}

static void close_ready_pipe(struct inst *i)
{
	if (i->ready_id)
		loop_close_fd(SV.loop, i->ready_id);
	i->ready_id = 0;
	i->ready_r = -1;
}

/* Readiness came, or the process ended: neither way is listened to more */
static void close_ready(struct inst *i)
{
	close_ready_pipe(i);
	close_notify(i);
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
	const struct command *cmd = k == HOOK_PRE ? &c->pre_start : &c->post_stop;
	char err[256];
	pid_t pid = spawn_cmd(i, cmd, 0, err, sizeof err);
	if (pid < 0) {
		sv_log(LVL_WARN, i, "cannot run %s: %s", k == HOOK_PRE ? "pre_start" : "post_stop", err);
		i->hook = HOOK_NONE;
		if (k == HOOK_PRE)
			start_failed(i, "pre_start could not run");
		else
			after_exit(i);
		return;
	}
	i->hook = k;
	i->hook_pid = pid;
	cancel_timer(&i->timer);
	i->timer = loop_timer_at(SV.loop, loop_now_ms() + c->stop_grace_ms, on_timer_kill, i);
	if (i->timer < 0)
		i->timer = 0;
}

/* Start now (dependencies already checked): pre_start or the command */
static void start_now(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	int64_t now = loop_now_ms();
	cancel_timer(&i->timer);
	i->is_new = 0;
	i->timed_out = 0;
	if (c->restart_limit.count > 0 && restart_window_starts(i, now) >= c->restart_limit.count) {
		char w[32], why[160];
		snprintf(w, sizeof w, "%llds", (long long)(c->restart_limit.window_ms / 1000));
		snprintf(why, sizeof why, "restart limit reached: %d starts in %s", c->restart_limit.count, w);
		i->quick = 0;
		inst_set_state(i, ST_FAILED, why);
		sv_journal("failed", i, NULL, 1);
		return;
	}
	if (setup_output(i) < 0) {
		start_failed(i, "cannot make the output pipe (out of file descriptors?)");
		return;
	}
	if (assign_port(i) < 0) {
		start_failed(i, "no free port for port: auto");
		return;
	}
	record_start(i, now);
	if (c->pre_start.argv && i->hook != HOOK_PRE) {
		inst_set_state(i, ST_STARTING, "pre_start");
		run_hook(i, HOOK_PRE);
		return;
	}
	char err[256];
	pid_t pid = spawn_cmd(i, &c->command, 1, err, sizeof err);
	if (pid < 0) {
		start_failed(i, err);
		return;
	}
	i->pid = pid;
	i->pgid = pid;
	i->spawned_ms = now;
	i->next_run = 0;
	char extra[64];
	snprintf(extra, sizeof extra, ",\"pid\":%d%s", (int)pid, i->ever_started ? ",\"restart\":true" : "");
	sv_journal("start", i, extra, 0);
	i->ever_started = 1;
	char why[64];
	snprintf(why, sizeof why, "pid %d", (int)pid);
	if (c->timeout_ms > 0) {
		i->timer = loop_timer_at(SV.loop, now + c->timeout_ms, on_timer_kill, i);
		if (i->timer < 0)
			i->timer = 0;
	}
	if (c->ready == READY_NOTIFY) {
		inst_set_state(i, ST_STARTING, NULL);
	} else {
		inst_set_state(i, ST_RUNNING, NULL);
	}
}

/* Readiness: a line on ready_fd */
static void on_ready(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)id;
	(void)revents;
	struct inst *i = ctx;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0 && memchr(buf, '\n', (size_t)n) && i->state == ST_STARTING && i->pid > 0) {
		close_ready(i);
		inst_set_state(i, ST_RUNNING, NULL);
		return;
	}
	if (n <= 0) /* closed without a line: it may still notify by socket */
		close_ready_pipe(i);
}

/* A datagram on the instance's NOTIFY_SOCKET (sd_notify: lines of
 * KEY=VALUE); READY=1 makes it running. Passed fds are closed: mls keeps
 * no fd store. */
static void on_notify(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)id;
	(void)revents;
	struct inst *i = ctx;
	char buf[4096];
	char cbuf[CMSG_SPACE(16 * sizeof(int))];
	struct iovec iov = { buf, sizeof buf - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return;
	buf[n] = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int k = 0; k < nfd; k++) {
				int f;
				memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof f);
				close(f);
			}
		}
	int ready = 0;
	for (char *p = buf; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == 7 && !memcmp(p, "READY=1", 7))
			ready = 1;
		p = nl ? nl + 1 : NULL;
	}
	if (ready && i->state == ST_STARTING && i->pid > 0) {
		close_ready(i);
		inst_set_state(i, ST_RUNNING, NULL);
	}
}

/* ------------------------------------------------------------ stopping */

static void on_timer_kill(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	struct inst *i = ctx;
	i->timer = 0;
	if (i->hook_pid > 0) {
		sv_log(LVL_WARN, i, "%s still running after %lldms: SIGKILL",
			i->hook == HOOK_PRE ? "pre_start" : "post_stop", (long long)i->svc->cfg->stop_grace_ms);
		kill(-i->hook_pid, SIGKILL);
		kill(i->hook_pid, SIGKILL);
		return;
	}
	if (i->state == ST_STOPPING) {
		if (i->pgid > 0) {
			sv_log(LVL_WARN, i, "still running %lldms after the stop signal: SIGKILL to its process group",
				(long long)i->svc->cfg->stop_grace_ms);
			kill(-i->pgid, SIGKILL);
			if (i->pid > 0)
				kill(i->pid, SIGKILL);
		}
		return;
	}
	/* a job's timeout */
	if (i->pid > 0 && i->svc->cfg->timeout_ms > 0) {
		sv_log(LVL_WARN, i, "timed out after %lldms: stopping it", (long long)i->svc->cfg->timeout_ms);
		i->timed_out = 1;
		inst_stop(i, "timeout");
	}
}

/* Send the stop signal to the group and wait for it, SIGKILL after the
 * grace period. With no process, the instance is just stopped. */
void inst_stop(struct inst *i, const char *why)
{
	const struct service *c = i->svc->cfg;
	/* already stopping: its SIGKILL timer stays armed (a second stop,
	 * a restart or a reload must not cancel the escalation) */
	if (i->state == ST_STOPPING && inst_alive(i))
		return;
	cancel_timer(&i->timer);
	if (i->pid <= 0 && i->pgid <= 0 && i->hook_pid <= 0) {
		/* a stop by request makes even a failed or exited one "stopped" */
		int req = why && !strcmp(why, "request");
		if (i->state != ST_STOPPED && (req || (i->state != ST_EXITED && i->state != ST_FAILED)))
			inst_set_state(i, ST_STOPPED, req ? NULL : why);
		return;
	}
	if (i->hook_pid > 0 && i->hook == HOOK_PRE) {
		/* stopping during pre_start: kill the hook, no start follows */
		kill(-i->hook_pid, c->stop_signal);
	}
	if (i->pgid > 0) {
		if (kill(-i->pgid, c->stop_signal) < 0 && i->pid > 0)
			kill(i->pid, c->stop_signal);
		/* a stopped (SIGSTOP) process would never see the signal */
		kill(-i->pgid, SIGCONT);
	}
	i->timer = loop_timer_at(SV.loop, loop_now_ms() + c->stop_grace_ms, on_timer_kill, i);
	if (i->timer < 0)
		i->timer = 0;
	inst_set_state(i, ST_STOPPING, why && strcmp(why, "request") ? why : NULL);
}

void inst_kill_now(struct inst *i)
{
	if (i->pgid > 0)
		kill(-i->pgid, SIGKILL);
	if (i->pid > 0)
		kill(i->pid, SIGKILL);
	if (i->hook_pid > 0) {
		kill(-i->hook_pid, SIGKILL);
		kill(i->hook_pid, SIGKILL);
	}
}

/* -------------------------------------------------------------- exits */

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

static void describe_exit(char *buf, size_t sz, int code, int sig)
{
	if (sig)
		snprintf(buf, sz, "killed by SIG%s", signal_name(sig) ? signal_name(sig) : "?");
	else if (code >= 0)
		snprintf(buf, sz, "exited with status %d", code);
	else
		snprintf(buf, sz, "could not start");
}

static int64_t backoff_delay(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	double d = (double)c->backoff.initial_ms;
	for (int k = 1; k < i->quick && d < (double)c->backoff.max_ms; k++)
		d *= c->backoff.factor; /* initial x factor^(quick-1), capped */
	if (d > (double)c->backoff.max_ms)
		d = (double)c->backoff.max_ms;
	if (c->backoff.jitter_pct > 0) {
		double j = d * c->backoff.jitter_pct / 100.0;
		d += j * (2.0 * ((double)random() / 2147483647.0) - 1.0);
	}
	return d < 0 ? 0 : (int64_t)d;
}

static void on_timer_start(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	struct inst *i = ctx;
	i->timer = 0;
	if (i->state == ST_BACKOFF && !SV.shutting_down) {
		i->state = ST_WAITING; /* reconcile starts it when its deps allow */
		sv_reconcile();
	}
}

static void critical_failed(struct inst *i)
{
	if (!i->svc->cfg->critical || SV.shutting_down)
		return;
	SV.exit_status = i->last_sig ? 128 + i->last_sig : i->last_code > 0 ? i->last_code : 1;
	sv_log(LVL_ERROR, i, "critical service failed: stopping everything, exit status %d", SV.exit_status);
	SV.shutting_down = 1;
	sv_event_raw("shutdown", NULL); /* as on SIGTERM */
	sv_reconcile_soon();
}



#define NO_MATCH "schedule: no time matches in the next 5 years"

static void schedule_next(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	cancel_timer(&i->job_timer);
	if (!c->schedule || (c->cron.flags & CRON_REBOOT))
		return;
	time_t now = wall_s();
	time_t next = cron_next(&c->cron, now);
	i->next_run = next > 0 ? next : 0;
	if (next <= 0)
		return;
	int64_t due = loop_now_ms() + ((int64_t)next - now) * 1000 - (wall_ms() % 1000);
	i->job_timer = loop_timer_at(SV.loop, due, sv_job_due, i);
	if (i->job_timer < 0)
		i->job_timer = 0;
}

void sv_job_due(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	struct inst *i = ctx;
	i->job_timer = 0;
	time_t due = i->next_run;
	if (wall_s() < due) { /* woke early (clock changed): wait again */
		schedule_next(i);
		return;
	}
	if (SV.shutting_down || i->down)
		return;
	if (inst_alive(i)) {
		sv_log(LVL_WARN, i, "previous run still going at the next due time: this run is skipped");
		schedule_next(i);
		return;
	}
	schedule_next(i);
	time_t keep = i->next_run;
	i->state = ST_WAITING;
	i->reason[0] = 0;
	i->next_run = 0; /* due now: not "between runs" for sv_reconcile() */
	sv_reconcile();
	if (!i->next_run)
		i->next_run = keep;
}

/* Decide what follows an exit of the main process (after post_stop) */
static void after_exit(struct inst *i)
{
	const struct service *c = i->svc->cfg;
	int failed = i->last_sig != 0 || i->last_code != 0 || i->timed_out;
	char what[96];
	describe_exit(what, sizeof what, i->last_code, i->last_sig);
	if (i->last_code < 0 && !i->last_sig && i->reason[0])
		snprintf(what, sizeof what, "%.95s", i->reason); /* start_failed() said why */
	if (i->timed_out && c->timeout_ms % 1000)
		snprintf(what, sizeof what, "timed out after %lldms", (long long)c->timeout_ms);
	else if (i->timed_out)
		snprintf(what, sizeof what, "timed out after %llds", (long long)(c->timeout_ms / 1000));
	int64_t up = loop_now_ms() - i->spawned_ms;

	if (i->remove_after_stop || SV.shutting_down || i->down) {
		inst_set_state(i, ST_STOPPED, NULL);
		return;
	}
	if (i->restart_after_stop) {
		i->restart_after_stop = 0;
		i->quick = 0;
		i->state = ST_WAITING;
		sv_reconcile_soon();
		return;
	}
	if (i->state == ST_STOPPING && !i->timed_out) { /* stopped by request */
		inst_set_state(i, ST_STOPPED, NULL);
		return;
	}
	/* it ended on its own */
	if (c->schedule) {
		if (failed)
			sv_log(LVL_WARN, i, "run failed: %s", what);
		else
			i->runs_done++;
		if (c->cron.flags & CRON_REBOOT) {
			inst_set_state(i, failed ? ST_FAILED : ST_EXITED, failed ? what : NULL);
			return;
		}
		schedule_next(i);
		if (!i->next_run) {
			inst_set_state(i, ST_STOPPED, NO_MATCH);
			return;
		}
		char why[128];
		snprintf(why, sizeof why, "%s", failed ? what : "");
		inst_set_state(i, ST_WAITING, failed ? why : NULL);
		return;
	}
	if (c->runs > 0 && !failed) {
		i->runs_done++;
		i->quick = 0;
		/* the next run is no restart after a crash: the restart limit
		 * counts the starts since the last run that succeeded */
		i->nstarts = 0;
		if (i->runs_done >= c->runs) {
			inst_set_state(i, ST_EXITED, NULL);
			return;
		}
		i->state = ST_WAITING;
		start_now(i);
		return;
	}
	int restart = c->restart == RESTART_ALWAYS ||
		(c->restart == RESTART_ON_FAILURE && failed);
	if (!restart) {
		if (failed) {
			inst_set_state(i, ST_FAILED, what);
			sv_journal("failed", i, NULL, 1);
			critical_failed(i);
		} else
			inst_set_state(i, ST_EXITED, NULL);
		return;
	}
	if (up >= c->backoff.reset_after_ms && !(i->last_code < 0 && !i->last_sig))
		i->quick = 0; /* (a start that failed before exec is always quick) */
	else
		i->quick++;
	int64_t delay = i->quick ? backoff_delay(i) : 0;
	if (c->restart_limit.count > 0 && restart_window_starts(i, loop_now_ms()) >= c->restart_limit.count) {
		char why[160];
		snprintf(why, sizeof why, "restart limit reached: %d starts in %llds; last %s", c->restart_limit.count,
			(long long)(c->restart_limit.window_ms / 1000), what);
		i->quick = 0;
		inst_set_state(i, ST_FAILED, why);
		sv_journal("failed", i, NULL, 1);
		critical_failed(i);
		return;
	}
	i->restarts++;
	if (delay <= 0) {
		/* started by the reconcile pass later in this same loop round
		 * (a 0 ms timer), so the respawn costs no extra wakeup */
		i->state = ST_WAITING;
		i->reason[0] = 0;
		sv_reconcile_soon();
		return;
	}
	i->next_start_ms = loop_now_ms() + delay;
	i->timer = loop_timer_at(SV.loop, i->next_start_ms, on_timer_start, i);
	if (i->timer < 0)
		i->timer = 0;
	sv_log(LVL_INFO, i, "restarting in %.1fs (crash %d in a row)", (double)delay / 1000.0, i->quick);
	inst_set_state(i, ST_BACKOFF, what);
}

static struct inst *find_pid(pid_t pid, int *is_hook)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			struct inst *i = SV.svcs[s]->inst[k];
			if (i->pid == pid) {
				*is_hook = 0;
				return i;
			}
			if (i->hook_pid == pid) {
				*is_hook = 1;
				return i;
			}
		}
	return NULL;
}

/* The main process is gone; members of its group may remain */
static void main_exited(struct inst *i, int status)
{
	pid_t pid = i->pid;
	i->pid = 0;
	i->has_exit = 1;
	i->last_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	i->last_sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	int64_t up = loop_now_ms() - i->spawned_ms;
	close_ready(i);
	/* its last output may still be in the pipe (SIGCHLD can come first):
	 * read it before the partial line is flushed; bounded, so a writer
	 * left in its group cannot hold the loop */
	for (int k = 0; k < 16 && i->out_r >= 0; k++) {
		int avail = 0;
		if (ioctl(i->out_r, FIONREAD, &avail) < 0 || avail <= 0)
			break;
		on_output(SV.loop, i->out_id, i->out_r, POLLIN, i);
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	logsink_flush(&i->log, &now);
	char what[96];
	describe_exit(what, sizeof what, i->last_code, i->last_sig);
	sv_log(i->state == ST_STOPPING || (!i->last_code && !i->last_sig) ? LVL_INFO : LVL_WARN, i,
		"pid %d %s after %lldms", (int)pid, what, (long long)up);
	inst_add_exit(i, wall_ms(), pid, i->last_code, i->last_sig, up);
	char extra[128];
	snprintf(extra, sizeof extra, ",\"pid\":%d,\"code\":%d,\"signal\":%d,\"uptime_ms\":%lld", (int)pid,
		i->last_code, i->last_sig, (long long)up);
	sv_journal("exit", i, extra, 0);
	sv_event_exit(i, pid, i->last_code, i->last_sig, up);
	if (i->state != ST_STOPPING) {
		/* crashed or ended: what is left of its group goes too, as
		 * systemd does, so a restart never meets the old children */
		cancel_timer(&i->timer);
		kill(-i->pgid, SIGKILL);
	}
	if (kill(-i->pgid, 0) < 0)
		i->pgid = 0;
	if (i->pgid > 0)
		return; /* members left: check_groups() goes on when they are gone */
	cancel_timer(&i->timer);
	if (i->svc->cfg->post_stop.argv) {
		run_hook(i, HOOK_POST);
		return;
	}
	after_exit(i);
}

static void hook_exited(struct inst *i, int status)
{
	enum hook_kind k = i->hook;
	i->hook_pid = 0;
	i->hook = HOOK_NONE;
	cancel_timer(&i->timer);
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
	if (i->state == ST_STOPPING || SV.shutting_down || i->down) {
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
	i->hook = HOOK_PRE; /* tells start_now the hook ran */
	if (i->nstarts > 0)
		i->nstarts--; /* the hook's start was counted already */
	start_now(i);
	i->hook = HOOK_NONE;
}

/* Instances whose main process is gone but whose group lingered */
static void check_groups(void)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			struct inst *i = SV.svcs[s]->inst[k];
			if (i->pid <= 0 && i->pgid > 0 && kill(-i->pgid, 0) < 0) {
				i->pgid = 0;
				if (i->hook_pid > 0)
					continue;
				cancel_timer(&i->timer);
				if (i->svc->cfg->post_stop.argv)
					run_hook(i, HOOK_POST);
				else
					after_exit(i);
			}
		}
}

void sv_reap(void)
{
	int status, any = 0;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int is_hook;
		struct inst *i = find_pid(pid, &is_hook);
		any = 1;
		if (!i)
			continue; /* an orphan we adopted: reaped, nothing more */
		if (is_hook)
			hook_exited(i, status);
		else
			main_exited(i, status);
	}
	if (any)
		check_groups();
}

/* ------------------------------------------------------ control actions */

void inst_ctl_start(struct inst *i)
{
	i->down = 0;
	if (i->state == ST_STOPPING && !i->remove_after_stop) {
		/* a stop still going: start again once it is done */
		i->restart_after_stop = 1;
		i->nstarts = 0;
		i->quick = 0;
		return;
	}
	if (i->state == ST_FAILED || i->state == ST_STOPPED || i->state == ST_EXITED || i->state == ST_BACKOFF) {
		cancel_timer(&i->timer);
		i->nstarts = 0; /* a start by hand resets the restart limit */
		i->quick = 0;
		if (i->svc->cfg->runs > 0 && i->state == ST_EXITED)
			i->runs_done = 0;
		i->state = ST_WAITING;
		i->reason[0] = 0;
		sv_reconcile();
	}
}

void inst_ctl_stop(struct inst *i)
{
	i->down = 1;
	i->restart_after_stop = 0;
	cancel_timer(&i->job_timer);
	i->next_run = 0;
	if (i->state == ST_BACKOFF || i->state == ST_WAITING)
		cancel_timer(&i->timer);
	inst_stop(i, "request");
}

void inst_ctl_restart(struct inst *i)
{
	i->down = 0;
	i->nstarts = 0;
	i->quick = 0;
	if (inst_alive(i)) {
		i->restart_after_stop = 1;
		inst_stop(i, "restart");
	} else {
		cancel_timer(&i->timer);
		i->state = ST_WAITING;
		sv_reconcile();
	}
}

/* ---------------------------------------------------------- reconcile */

/* Is dependency `d` of a service met? Sets *why when not. */
static int dep_met(const struct dep *d, const char **why)
{
	struct svc *dep = NULL;
	for (int s = 0; s < SV.nsvcs; s++)
		if (!SV.svcs[s]->removed && !strcmp(SV.svcs[s]->cfg->name, d->name))
			dep = SV.svcs[s];
	if (!dep) {
		*why = "is not in the config";
		return 0;
	}
	for (int k = 0; k < dep->ninst; k++) {
		enum inst_state st = dep->inst[k]->state;
		if (d->cond == DEP_COMPLETED ? st != ST_EXITED : st != ST_RUNNING) {
			*why = st == ST_FAILED ? "failed" : d->cond == DEP_COMPLETED ? "has not completed" : "is not running";
			return 0;
		}
	}
	return 1;
}

static void on_reconcile(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	(void)ctx;
	SV.reconcile_timer = 0;
	sv_reconcile();
}

void sv_reconcile_soon(void)
{
	if (SV.reconcile_timer)
		return;
	SV.reconcile_timer = loop_timer_at(SV.loop, 0, on_reconcile, NULL);
	if (SV.reconcile_timer < 0)
		SV.reconcile_timer = 0;
}

int sv_all_down(void)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++)
			if (inst_alive(SV.svcs[s]->inst[k]))
				return 0;
	return 1;
}

/* Does any live instance of a service that depends on `s` remain? */
static int has_live_dependent(const struct svc *s)
{
	/* instances removed by a `replicas` shrink: the service itself stays
	 * (its other instances serve the dependents), so they go at once */
	if (s->removed)
		for (int t = 0; t < SV.nsvcs; t++)
			if (SV.svcs[t] != s && !SV.svcs[t]->removed && !strcmp(SV.svcs[t]->cfg->name, s->cfg->name))
				return 0;
	for (int t = 0; t < SV.nsvcs; t++) {
		const struct svc *o = SV.svcs[t];
		for (int d = 0; d < o->cfg->ndeps; d++)
			if (!strcmp(o->cfg->deps[d].name, s->cfg->name))
				for (int k = 0; k < o->ninst; k++)
					if (inst_alive(o->inst[k]))
						return 1;
	}
	return 0;
}

/* Shutdown and removal: stop in reverse dependency order */
static void reconcile_down(void)
{
	for (int s = SV.nsvcs - 1; s >= 0; s--) {
		struct svc *v = SV.svcs[s];
		if (!SV.shutting_down && !v->removed)
			continue;
		if (has_live_dependent(v))
			continue;
		for (int k = 0; k < v->ninst; k++) {
			struct inst *i = v->inst[k];
			cancel_timer(&i->job_timer);
			if (inst_alive(i)) {
				if (i->state != ST_STOPPING)
					inst_stop(i, SV.shutting_down ? "shutdown" : "removed");
				if (SV.shutting_down > 1)
					inst_kill_now(i);
			} else if (i->state == ST_BACKOFF || i->state == ST_WAITING) {
				cancel_timer(&i->timer);
				inst_set_state(i, ST_STOPPED, NULL);
			}
		}
	}
}

/* The pass that starts what may start: run after every change */
void sv_reconcile(void)
{
	if (SV.reconcile_timer) {
		loop_timer_cancel(SV.loop, SV.reconcile_timer);
		SV.reconcile_timer = 0;
	}
	reconcile_down();
	if (SV.shutting_down)
		return;
	int busy = 0; /* startup: sequential: one instance starting at a time */
	if (SV.cfg->startup == STARTUP_SEQUENTIAL)
		for (int s = 0; s < SV.nsvcs && !busy; s++)
			for (int k = 0; k < SV.svcs[s]->ninst; k++)
				if (SV.svcs[s]->inst[k]->state == ST_STARTING)
					busy = 1;
	for (int s = 0; s < SV.nsvcs; s++) {
		struct svc *v = SV.svcs[s];
		if (v->removed)
			continue;
		const struct service *c = v->cfg;
		for (int k = 0; k < v->ninst; k++) {
			struct inst *i = v->inst[k];
			if (i->down || inst_alive(i))
				continue;
			if (i->state != ST_WAITING && !(i->state == ST_STOPPED && i->is_new))
				continue;
			/* scheduled jobs wait for their time; @reboot runs once */
			if (c->schedule && i->is_new && !(c->cron.flags & CRON_REBOOT)) {
				i->is_new = 0;
				schedule_next(i);
				/* no time matches (Feb 30): it never runs, rather
				 * than running at once as if due */
				inst_set_state(i, i->next_run ? ST_WAITING : ST_STOPPED, i->next_run ? NULL : NO_MATCH);
				continue;
			}
			/* between runs (a run that ended, failed or not); a due run
			 * waiting for its dependencies has waiting_for set */
			if (c->schedule && i->state == ST_WAITING && i->job_timer && !i->waiting_for && i->next_run)
				continue;
			const char *why = NULL;
			int ok = 1;
			for (int d = 0; d < c->ndeps && ok; d++)
				if (!dep_met(&c->deps[d], &why)) {
					ok = 0;
					char r[160];
					snprintf(r, sizeof r, "waiting for %s (%s): it %s", c->deps[d].name,
						dep_cond_name(c->deps[d].cond), why);
					/* again when the why changes (e.g. "is not running" -> "failed") */
					if (i->state != ST_WAITING || i->waiting_for != c->deps[d].name || strcmp(i->reason, r)) {
						inst_set_state(i, ST_WAITING, r);
						i->waiting_for = c->deps[d].name;
					}
				}
			if (!ok)
				continue;
			if (busy)
				return;
			start_now(i);
			if (SV.cfg->startup == STARTUP_SEQUENTIAL && i->state == ST_STARTING)
				busy = 1;
		}
	}
}

/* Services in dependency order (dependencies first), config order
 * otherwise; cycles were refused by the loader */
void sv_compute_order(void)
{
	int n = SV.nsvcs;
	struct svc **out = malloc((size_t)(n ? n : 1) * sizeof *out);
	char *done = calloc((size_t)(n ? n : 1), 1);
	if (!out || !done) {
		free(out);
		free(done);
		return; /* keep config order */
	}
	int m = 0;
	for (int pass = 0; m < n && pass <= n; pass++)
		for (int s = 0; s < n; s++) {
			if (done[s])
				continue;
			const struct service *c = SV.svcs[s]->cfg;
			int ready = 1;
			for (int d = 0; d < c->ndeps && ready; d++)
				for (int t = 0; t < n; t++)
					if (!done[t] && t != s && !strcmp(SV.svcs[t]->cfg->name, c->deps[d].name))
						ready = 0;
			if (ready) {
				done[s] = 1;
				out[m++] = SV.svcs[s];
			}
		}
	for (int s = 0; s < n; s++)
		if (!done[s])
			out[m++] = SV.svcs[s];
	for (int s = 0; s < n; s++) {
		SV.svcs[s] = out[s];
		out[s]->order = s;
	}
	free(out);
	free(done);
}
