/* sv_sdnotify.c: mls supervise as a systemd `Type=notify` service
 * (dist/systemd/mls.service, docs/systemd.md). When NOTIFY_SOCKET is in
 * mls's own environment, supervise tells its manager:
 *
 *   READY=1 + STATUS=   once the first start round is over: every
 *                       instance wanted running has started (state
 *                       running: ready per its `ready:`, so healthy for
 *                       `ready: healthy`), or a job has exited, or it is
 *                       backing off, failed, or waiting (a dependency, a
 *                       schedule, a git revision). Nothing is `starting`.
 *   RELOADING=1 + MONOTONIC_USEC=   when a reload begins after READY=1,
 *                       then READY=1 when its changes are over (same
 *                       rule); a reload before that sends nothing
 *   STOPPING=1          when the shutdown begins
 *
 * The variable is removed from the environment at startup, so services do
 * not inherit mls's socket (each still gets its own per-instance
 * NOTIFY_SOCKET, sv_child.c). Paths and abstract names ("@...") work.
 * Datagrams are sent non-blocking: a manager that does not read never
 * holds PID 1 up (a lost datagram is logged at debug level).
 *
 * A layer below sv_main.c and sv_reload.c: reads SV's instances, calls
 * sv_log only. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "sv.h"

static struct {
	int fd;                  /* datagram socket, -1 when not under a manager */
	struct sockaddr_un addr;
	socklen_t addrlen;
	int ready_sent;          /* READY=1 sent for the current round */
	int stopping_sent;
} N = { .fd = -1 };

static void send_msg(const char *msg)
{
	if (N.fd < 0)
		return;
	if (sendto(N.fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&N.addr, N.addrlen) < 0)
		sv_log(LVL_DEBUG, NULL, "NOTIFY_SOCKET: cannot send '%.40s': %s", msg, strerror(errno));
}

void sdnotify_init(void)
{
	const char *v = getenv("NOTIFY_SOCKET");
	if (!v)
		return;
	size_t n = strlen(v);
	N.addr.sun_family = AF_UNIX;
	if ((v[0] == '/' || v[0] == '@') && n >= 2 && n < sizeof N.addr.sun_path) {
		memcpy(N.addr.sun_path, v, n);
		if (v[0] == '@')
			N.addr.sun_path[0] = 0; /* abstract: no terminating NUL counted */
		N.addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (v[0] == '/'));
		N.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (N.fd < 0)
		fprintf(stderr, "mls supervise: NOTIFY_SOCKET=%s cannot be used: %s\n", v,
			errno ? strerror(errno) : "not an absolute path or @name");
	/* the manager's socket is mls's, not its services' */
	unsetenv("NOTIFY_SOCKET");
}

/* Is the start round over? (the rule above) Counts for STATUS= */
static int settled(int *running, int *waiting, int *failed)
{
	*running = *waiting = *failed = 0;
	for (int s = 0; s < SV.nsvcs; s++) {
		const struct svc *v = SV.svcs[s];
		if (v->removed)
			continue;
		for (int k = 0; k < v->ninst; k++) {
			const struct inst *i = v->inst[k];
			if (i->want != WANT_RUN)
				continue;
			switch (i->state) {
			case ST_RUNNING:
			case ST_EXITED:
				++*running;
				break;
			case ST_WAITING:
				++*waiting;
				break;
			case ST_BACKOFF:
			case ST_FAILED:
				++*failed;
				break;
			case ST_STOPPED:
				if (i->is_new)
					return 0; /* not considered yet */
				break;            /* stopped for good */
			default:
				return 0; /* starting, or stopping to restart */
			}
		}
	}
	return 1;
}

void sdnotify_tick(void)
{
	if (N.fd < 0)
		return;
	if (SV.shutting_down) {
		if (!N.stopping_sent) {
			N.stopping_sent = 1;
			send_msg("STOPPING=1\nSTATUS=stopping every service");
		}
		return;
	}
	int r, w, f;
	if (N.ready_sent || !settled(&r, &w, &f))
		return;
	char msg[160];
	snprintf(msg, sizeof msg, "READY=1\nSTATUS=%d started, %d waiting, %d failed or backing off", r, w, f);
	send_msg(msg);
	N.ready_sent = 1;
	sv_log(LVL_DEBUG, NULL, "NOTIFY_SOCKET: %s", msg + 8);
}

void sdnotify_reloading(void)
{
	/* not ready yet (starting, or an earlier reload not over): the READY=1
	 * to come covers this reload too */
	if (N.fd < 0 || SV.shutting_down || !N.ready_sent)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char msg[96];
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%lld",
		(long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	send_msg(msg);
	N.ready_sent = 0; /* READY=1 again once the reload's changes are over */
}
