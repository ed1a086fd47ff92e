/* sv_health.c: health checks, probed in the one loop.
 *
 * A check is scheduled only while its instance is starting or running
 * (health_sync(), from every reconcile pass); each probe's result goes to
 * inst_step() as EV_HEALTH_OK or EV_HEALTH_FAIL, where the verdict is made
 * (retries, start_period, success_threshold) and what it drives (ready:
 * healthy, restart). Between probes an instance costs one timer and
 * nothing else: no wakeup that is not a check.
 *
 *   tcp:  a non-blocking connect to a numeric address (or localhost)
 *   http: the same, then one GET; only the status line is read, at most
 *         HTTP_STATUS_MAX bytes (lib/httpcheck.c), the body never
 *   exec: the command with the service's environment, user and limits,
 *         its output (the first SV_HEALTH_MSG bytes) the result's message;
 *         its process group is killed at the timeout
 * An https:// URL, or a host name that would need a DNS lookup (which
 * blocks), is probed by a short-lived child, `mls health -t TIMEOUT
 * TARGET`, so PID 1 never parses TLS nor waits on a resolver.
 *
 * Calls sv_step.c, sv_child.c, sv_log.c and lib/. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "httpcheck.h"
#include "svcexec.h"
#include "sv.h"

struct hprobe {
	struct inst *i;
	const struct healthcheck *h; /* the config it was made for */
	int64_t timer;      /* the next check, or the deadline of the running one */
	int running;
	int64_t t0;         /* monotonic start of the running check */
	/* what a check does (prepare()) */
	enum { PM_BAD, PM_EXEC, PM_CONNECT, PM_CHILD } mode;
	char *target;       /* the expanded URL or HOST:PORT (malloc'd) */
	struct sockaddr_storage sa;
	socklen_t salen;
	char bad[256];      /* PM_BAD: why every check fails */
	/* tcp, http */
	int fd;
	int64_t fd_id;
	int http;
	char req[2600];
	size_t reqlen, sent;
	struct http_status_rd rd;
	/* exec, and `mls health` for https and host names */
	pid_t pid;
	int out_r;
	int64_t out_id;
	char out[SV_HEALTH_MSG];
	size_t outlen;
};

static void on_probe_timer(struct loop *l, int64_t id, void *ctx);

static int64_t period(const struct inst *i)
{
	const struct healthcheck *h = &i->svc->cfg->health;
	if (policy_in_start_period(h, i->health, loop_now_ms() - i->spawned_ms))
		return h->start_interval_ms > 0 ? h->start_interval_ms : h->interval_ms;
	return h->interval_ms;
}

static void arm(struct hprobe *p, int64_t at)
{
	if (p->timer)
		loop_timer_cancel(SV.loop, p->timer);
	p->timer = loop_timer_at(SV.loop, at, on_probe_timer, p);
	if (p->timer < 0)
		p->timer = 0; /* ENOMEM: the next reconcile pass makes a new probe */
}

/* End what runs: the socket, the output pipe, the exec's group */
static void probe_end(struct hprobe *p)
{
	if (p->fd_id)
		loop_close_fd(SV.loop, p->fd_id);
	else if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->fd_id = 0;
	if (p->out_id)
		loop_close_fd(SV.loop, p->out_id);
	else if (p->out_r >= 0)
		close(p->out_r);
	p->out_r = -1;
	p->out_id = 0;
	if (p->pid > 0) {
		kill(-p->pid, SIGKILL); /* reaped by sv_reap as an orphan */
		kill(p->pid, SIGKILL);
	}
	p->pid = 0;
	p->running = 0;
}

/* A result: the next check is armed first, since the step may stop the
 * instance (the next reconcile pass then frees the probe) */
static void verdict(struct hprobe *p, int ok, const char *msg)
{
	struct inst *i = p->i;
	int64_t dur = loop_now_ms() - p->t0;
	probe_end(p);
	arm(p, loop_now_ms() + period(i));
	inst_step(i, ok ? EV_HEALTH_OK : EV_HEALTH_FAIL, &(struct step_arg){ .why = msg, .dur_ms = dur });
}

static void fail_errno(struct hprobe *p, const char *what, int e)
{
	char msg[160];
	snprintf(msg, sizeof msg, "%s: %s", what, e == ECONNREFUSED ? "connection refused" : strerror(e));
	verdict(p, 0, msg);
}

/* --------------------------------------------------------- tcp, http */

static void on_sock(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)id;
	struct hprobe *p = ctx;
	if (!p->sent && !p->reqlen) {
		/* the connect finished */
		int e = 0;
		socklen_t el = sizeof e;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e) {
			fail_errno(p, "connect", e);
			return;
		}
		if (!p->http) {
			verdict(p, 1, "connected");
			return;
		}
		p->reqlen = strlen(p->req);
	}
	if (p->sent < p->reqlen) {
		ssize_t n = send(fd, p->req + p->sent, p->reqlen - p->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			fail_errno(p, "send", errno);
			return;
		}
		if (n > 0)
			p->sent += (size_t)n;
		if (p->sent == p->reqlen)
			loop_mod_fd(l, p->fd_id, POLLIN);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) {
		fail_errno(p, "read", errno);
		return;
	}
	if (n == 0) {
		verdict(p, 0, "bad response: the connection closed before the status line");
		return;
	}
	int code = 0;
	char err[160];
	int r = http_status_feed(&p->rd, buf, (size_t)n, &code, err, sizeof err);
	if (r < 0) {
		verdict(p, 0, err);
	} else if (r > 0) {
		const struct healthcheck *h = p->h;
		char msg[64];
		snprintf(msg, sizeof msg, "HTTP %d", code);
		verdict(p, http_status_ok(code, h->expect_status, h->nexpect), msg);
	}
}

/* A numeric address (or localhost) into sa; 0, or -1 when it needs a
 * lookup */
static int numeric(const char *host, const char *port, struct sockaddr_storage *sa, socklen_t *len)
{
	char *end;
	long pn = strtol(port, &end, 10);
	if (*end || pn <= 0 || pn > 65535)
		return -1;
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
	memset(sa, 0, sizeof *sa);
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)pn);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)pn);
		*len = sizeof *a6;
		return 0;
	}
	return -1;
}

static void start_connect(struct hprobe *p, const struct sockaddr_storage *sa, socklen_t len)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail_errno(p, "socket", errno);
		return;
	}
	if (connect(fd, (const struct sockaddr *)sa, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		fail_errno(p, "connect", e);
		return;
	}
	p->fd = fd;
	p->fd_id = loop_add_fd(SV.loop, fd, POLLOUT, on_sock, p);
	if (p->fd_id < 0) {
		p->fd_id = 0;
		fail_errno(p, "poll", ENOMEM);
	}
}

/* --------------------------------------------------------- exec, child */

static void on_out(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)id;
	(void)revents;
	struct hprobe *p = ctx;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n <= 0)
		return; /* EOF: the exit is what ends the check */
	size_t room = sizeof p->out - 1 - p->outlen;
	size_t take = (size_t)n < room ? (size_t)n : room;
	memcpy(p->out + p->outlen, buf, take); /* the rest is read and dropped */
	p->outlen += take;
}

static void start_child(struct hprobe *p, const struct command *cmd)
{
	struct inst *i = p->i;
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0) {
		fail_errno(p, "pipe", errno);
		return;
	}
	fcntl(pp[0], F_SETFL, O_NONBLOCK);
	struct child ch;
	char err[256];
	int rc = child_spawn_to(i, cmd, pp[1], &ch, err, sizeof err);
	close(pp[1]);
	if (rc < 0) {
		close(pp[0]);
		verdict(p, 0, err);
		return;
	}
	p->pid = ch.pid;
	p->out_r = pp[0];
	p->outlen = 0;
	p->out_id = loop_add_fd(SV.loop, pp[0], POLLIN, on_out, p);
	if (p->out_id < 0)
		p->out_id = 0;
}

/* `mls health -t TIMEOUT TARGET` */
static void start_mls_health(struct hprobe *p, const char *target)
{
	if (!SV.self_exe) {
		verdict(p, 0, "cannot run mls health: the path of mls is unknown");
		return;
	}
	char t[32];
	snprintf(t, sizeof t, "%lldms", (long long)p->h->timeout_ms);
	char *argv[] = { SV.self_exe, "health", "-t", t, (char *)target, NULL };
	struct command cmd = { .argv = argv, .argc = 5 };
	start_child(p, &cmd);
}

/* -------------------------------------------------------------- probing */

/* What each check of this probe does, worked out once when the probe is
 * made (the instance's port is fixed while it runs): no expansion, parse
 * or allocation per check */
static void prepare(struct hprobe *p)
{
	struct inst *i = p->i;
	const struct healthcheck *h = p->h;
	if (h->kind == HC_EXEC) {
		p->mode = PM_EXEC;
		return;
	}
	p->mode = PM_BAD;
	p->target = svcexec_expand(h->kind == HC_HTTP ? h->http : h->tcp, i->svc->cfg, i->idx, i->port, p->bad,
		sizeof p->bad);
	if (!p->target)
		return;
	if (h->kind == HC_TCP) {
		char host[256], port[16];
		if (hostport_parse(p->target, host, sizeof host, port, sizeof port, p->bad, sizeof p->bad) == 0)
			p->mode = numeric(host, port, &p->sa, &p->salen) < 0 ? PM_CHILD : PM_CONNECT;
		return;
	}
	struct http_url u;
	if (http_url_parse(p->target, &u, p->bad, sizeof p->bad) < 0)
		return;
	if (u.tls || numeric(u.host, u.port, &p->sa, &p->salen) < 0)
		p->mode = PM_CHILD;
	else if (http_request(&u, MLS_VERSION, p->req, sizeof p->req) < 0)
		snprintf(p->bad, sizeof p->bad, "the request does not fit (URL too long)");
	else {
		p->http = 1;
		p->mode = PM_CONNECT;
	}
}

static void start_check(struct hprobe *p)
{
	p->t0 = loop_now_ms();
	p->running = 1;
	p->fd = p->out_r = -1;
	p->sent = p->reqlen = 0;
	memset(&p->rd, 0, sizeof p->rd);
	arm(p, p->t0 + p->h->timeout_ms);
	switch (p->mode) {
	case PM_EXEC:
		start_child(p, &p->h->exec);
		break;
	case PM_CHILD:
		start_mls_health(p, p->target);
		break;
	case PM_CONNECT:
		start_connect(p, &p->sa, p->salen);
		break;
	case PM_BAD:
		verdict(p, 0, p->bad);
		break;
	}
}

static void on_probe_timer(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	struct hprobe *p = ctx;
	p->timer = 0;
	if (!p->running) {
		start_check(p);
		return;
	}
	char msg[64];
	if (p->h->timeout_ms % 1000)
		snprintf(msg, sizeof msg, "timed out after %lldms", (long long)p->h->timeout_ms);
	else
		snprintf(msg, sizeof msg, "timed out after %llds", (long long)(p->h->timeout_ms / 1000));
	verdict(p, 0, msg);
}

/* ------------------------------------------------------------ the API */

static void probe_free(struct inst *i)
{
	struct hprobe *p = i->probe;
	if (!p)
		return;
	probe_end(p);
	if (p->timer)
		loop_timer_cancel(SV.loop, p->timer);
	free(p->target);
	free(p);
	i->probe = NULL;
}

void health_sync(struct inst *i)
{
	const struct healthcheck *h = &i->svc->cfg->health;
	int want = h->kind != HC_NONE && (i->state == ST_STARTING || i->state == ST_RUNNING) && i->pid > 0 &&
		!SV.shutting_down;
	if (i->probe && (!want || i->probe->h != h))
		probe_free(i); /* gone, or a reload gave it a new check */
	if (!want || i->probe)
		return;
	struct hprobe *p = calloc(1, sizeof *p);
	if (!p)
		return; /* the next pass tries again */
	p->i = i;
	p->h = h;
	p->fd = p->out_r = -1;
	prepare(p);
	i->probe = p;
	arm(p, loop_now_ms() + period(i));
}

void health_free(struct inst *i)
{
	probe_free(i);
}

int health_owns(const struct inst *i, pid_t pid)
{
	return i->probe && i->probe->pid == pid;
}

void health_exited(struct inst *i, int status)
{
	struct hprobe *p = i->probe;
	p->pid = 0; /* reaped */
	/* what is left in the pipe, bounded */
	for (int k = 0; k < 4 && p->out_r >= 0; k++) {
		int avail = 0;
		if (ioctl(p->out_r, FIONREAD, &avail) < 0 || avail <= 0)
			break;
		on_out(SV.loop, p->out_id, p->out_r, POLLIN, p);
	}
	while (p->outlen && (p->out[p->outlen - 1] == '\n' || p->out[p->outlen - 1] == '\r'))
		p->outlen--;
	p->out[p->outlen] = 0;
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char msg[64];
	if (!p->outlen) {
		if (WIFEXITED(status))
			snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
		else
			snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
	}
	verdict(p, ok, p->outlen ? p->out : msg);
}
