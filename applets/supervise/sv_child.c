/* sv_child.c: the processes of an instance, below the state machine:
 * spawning the command or a hook with the service's environment, user and
 * limits; the output pipe and its log sink; the readiness pipe and the
 * NOTIFY_SOCKET (made here, listened to by sv_step.c); ports; signals.
 * Nothing here changes an instance's state. */
#include <errno.h>
#include <limits.h>
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
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "docker.h"
#include "jbuf.h"
#include "notify.h"
#include "spawn.h"
#include "svcexec.h"
#include "sv.h"

/* ------------------------------------------------------------ output */

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
	sv_emit_output(i, SV.scratch, (size_t)n);
}

int child_output(struct inst *i)
{
	if (i->out_id)
		return 0;
	int p[2] = { i->out_r, i->out_w }; /* >= 0: inherited by a live upgrade */
	if (p[0] < 0 && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	i->out_id = loop_add_fd(SV.loop, p[0], POLLIN, on_output, i);
	if (i->out_id < 0) {
		i->out_id = 0;
		close(p[0]);
		close(p[1]);
		i->out_r = i->out_w = -1;
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

void child_drain_output(struct inst *i)
{
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
}

void child_close_output(struct inst *i)
{
	if (i->out_id)
		loop_close_fd(SV.loop, i->out_id);
	else if (i->out_r >= 0)
		close(i->out_r);
	if (i->out_w >= 0)
		close(i->out_w);
	i->out_id = 0;
	i->out_r = i->out_w = -1;
	logsink_close(&i->log); /* frees its strings too */
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

int child_port(struct inst *i)
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

/* ------------------------------------------------------------ spawning */

int child_docker_cli(const struct inst *i)
{
	const struct service *c = i->svc->cfg;
	const char *path = NULL;
	char found[PATH_MAX];
	if (!c->docker)
		return 1;
	for (char *const *e = SV.environ_base; e && *e && !path; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	for (int k = 0; k < c->environment.n; k++)
		if (!strncmp(c->environment.v[k], "PATH=", 5))
			path = c->environment.v[k] + 5;
	return docker_find_cli(c->docker_cli, path, found, sizeof found) == 0;
}

/* An abstract datagram socket "@mls/PID/NAME.N/K" for this start (no file:
 * works in a scratch root and for services running as other users).
 * Returns the fd, or -1. */
static int open_notify(const struct inst *i, char *var, size_t varsz)
{
	static unsigned long long k;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
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
	snprintf(var, varsz, "NOTIFY_SOCKET=@%s", a.sun_path + 1);
	return fd;
}

/* envp with the variables of vars (NAME=VALUE, NULL-terminated) set,
 * replacing those of the same name (malloc'd array, strings not copied),
 * or NULL */
static char **env_with(char **envp, char *const *vars)
{
	int n = 0, nv = 0;
	while (envp[n])
		n++;
	while (vars[nv])
		nv++;
	char **envx = malloc((size_t)(n + nv + 1) * sizeof *envx);
	if (!envx)
		return NULL;
	int m = 0;
	for (int k = 0; k < n; k++) {
		int dup = 0;
		for (int v = 0; v < nv && !dup; v++) {
			size_t l = strcspn(vars[v], "=") + 1;
			dup = !strncmp(envp[k], vars[v], l);
		}
		if (!dup)
			envx[m++] = envp[k];
	}
	for (int v = 0; v < nv; v++)
		envx[m++] = vars[v];
	envx[m] = NULL;
	return envx;
}

static int spawn_impl(struct inst *i, const struct command *cmd, int with_ready, int out_fd, const char *dir,
	const char *rev, struct child *out, char *err, size_t errsz);

int child_spawn(struct inst *i, const struct command *cmd, int with_ready, struct child *out,
	char *err, size_t errsz)
{
	return spawn_impl(i, cmd, with_ready, i->out_w, NULL, NULL, out, err, errsz);
}

int child_spawn_to(struct inst *i, const struct command *cmd, int out_fd, struct child *out, char *err,
	size_t errsz)
{
	return spawn_impl(i, cmd, 0, out_fd, NULL, NULL, out, err, errsz);
}

int child_spawn_git_hook(struct inst *i, const struct command *cmd, const char *dir, const char *rev,
	struct child *out, char *err, size_t errsz)
{
	return spawn_impl(i, cmd, 0, i->out_w, dir, rev, out, err, errsz);
}

/* The words of a bit set, as a JSON array's contents */
static void perm_words(struct jbuf *b, proto_perm p)
{
	int first = 1;
	for (int k = 0; proto_mutating[k]; k++)
		if (p & (1u << k)) {
			jb_puts(b, first ? "" : ",");
			jb_str(b, proto_mutating[k]);
			first = 0;
		}
}

/* The webhook targets for httpd (docs/config.md, "notify"), secrets
 * included: the line goes over the socketpair only */
static void notify_settings(struct jbuf *b, const struct notify_cfg *nc)
{
	static const char *const fmt[] = { "json", "slack" };
	jb_puts(b, ",\"notify\":[");
	for (int k = 0; k < nc->n; k++) {
		const struct notify_target *t = &nc->t[k];
		jb_puts(b, k ? ",{\"url\":" : "{\"url\":");
		jb_str(b, t->url);
		jb_puts(b, ",\"events\":[");
		for (int e = 0, first = 1; e < NOTE_COUNT; e++)
			if (t->events & (1u << e)) {
				jb_puts(b, first ? "" : ",");
				jb_str(b, notify_event_names[e]);
				first = 0;
			}
		jb_puts(b, "],\"services\":[");
		for (int i = 0; i < t->services.n; i++) {
			jb_puts(b, i ? "," : "");
			jb_str(b, t->services.v[i]);
		}
		jb_puts(b, "],\"headers\":[");
		for (int i = 0; i < t->headers.n; i++) {
			jb_puts(b, i ? "," : "");
			jb_str(b, t->headers.v[i]);
		}
		jb_printf(b, "],\"format\":\"%s\",\"secret\":", fmt[t->format == NOTIFY_SLACK]);
		jb_str(b, t->secret);
		jb_printf(b, ",\"timeout_ms\":%lld,\"heartbeat_ms\":%lld,\"ca_file\":", (long long)t->timeout_ms,
			(long long)t->heartbeat_ms);
		jb_str(b, t->ca_file ? t->ca_file : NOTIFY_DEFAULT_CA);
		jb_puts(b, "}");
	}
	jb_puts(b, "]");
}

/* mls httpd's control connection (docs/api.md, "Process model"): a
 * socketpair whose supervise end is served like an accepted connection
 * with the permission http.allow, and whose other end becomes the child's
 * fd 3. The first line on it, written before the end is adopted, is
 * httpd's settings (JSON: http: as loaded, and where tls: auto keeps its
 * key; the notify: targets), so httpd needs neither the config files
 * nor the socket file. Without `http:` (notify: alone) the listen list
 * is empty and httpd binds nothing.
 * Returns the child's end, or -1 with err. */
static void http_settings(struct jbuf *bp)
{
	const struct http_cfg *h = &SV.cfg->http;
	static const char *const tls[] = { "off", "auto", "files" };
#define b (*bp)
	jb_puts(&b, "{\"listen\":[");
	for (int k = 0; h->enabled && k < h->listen.n; k++) {
		jb_puts(&b, k ? "," : "");
		jb_str(&b, h->listen.v[k]);
	}
	jb_printf(&b, "],\"tls\":\"%s\",\"cert\":", tls[h->tls]);
	jb_str(&b, h->tls_cert);
	jb_puts(&b, ",\"key\":");
	jb_str(&b, h->tls_key);
	jb_puts(&b, ",\"tls_dir\":");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/tls", SV.state_dir);
	jb_str(&b, dir);
	jb_puts(&b, ",\"token\":");
	jb_str(&b, h->token);
	jb_puts(&b, ",\"token_file\":");
	jb_str(&b, h->token_file);
	jb_puts(&b, ",\"read_token\":");
	jb_str(&b, h->read_token);
	jb_puts(&b, ",\"read_token_file\":");
	jb_str(&b, h->read_token_file);
	jb_puts(&b, ",\"allow\":[");
	perm_words(&b, h->allow);
	jb_puts(&b, "],\"public\":[");
	static const char *const pubs[] = { "healthz", "readyz", "metrics" };
	for (int k = 0, first = 1; k < 3; k++)
		if (h->public_ & (1u << k)) {
			jb_puts(&b, first ? "" : ",");
			jb_str(&b, pubs[k]);
			first = 0;
		}
	jb_printf(&b, "],\"max_connections\":%d,\"user\":", h->max_connections);
	jb_str(&b, h->user);
	notify_settings(&b, &SV.cfg->notify);
	jb_puts(&b, "}\n");
#undef b
}

/* git settings: a path made absolute (gitwatch runs in /; a config
 * given as a relative -c has relative paths), or null */
static void jb_path(struct jbuf *b, const char *key, const char *v)
{
	char abs[PATH_MAX + 1];
	if (key)
		jb_printf(b, ",\"%s\":", key);
	if (v && v[0] != '/' && !strstr(v, "://") && getcwd(abs, sizeof abs - 1)) {
		size_t n = strlen(abs);
		snprintf(abs + n, sizeof abs - n, "/%s", v);
		v = abs;
	}
	jb_str(b, v);
}

static void git_fields(struct jbuf *b, const struct git_cfg *g)
{
	jb_puts(b, "{\"url\":");
	jb_path(b, NULL, g->url);
	jb_puts(b, ",\"ref\":");
	jb_str(b, g->ref);
	jb_printf(b, ",\"interval_ms\":%lld,\"depth\":%d", (long long)g->interval_ms, g->depth);
	jb_path(b, "token_file", g->token_file);
	jb_path(b, "username", g->username);
	jb_path(b, "password_file", g->password_file);
	jb_path(b, "ca_file", g->ca_file);
}

/* gitwatch's user: git_user, else the state directory's owner, never
 * root (nobody, 65534); supervise's own when it is not root */
static int git_user(uid_t *uid, gid_t *gid, char *err, size_t errsz)
{
	struct spawn_user u;
	struct stat st;
	if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	if (SV.cfg->git_user) {
		if (spawn_resolve_user(SV.cfg->git_user, &u, err, errsz))
			return -1;
		*uid = u.uid;
		*gid = u.gid;
		if (!u.uid) {
			snprintf(err, errsz, "git_user %s is root: gitwatch never runs as root", SV.cfg->git_user);
			return -1;
		}
		return 0;
	}
	if (stat(SV.state_dir, &st) == 0 && st.st_uid != 0) {
		*uid = st.st_uid;
		*gid = st.st_gid;
	} else if (spawn_resolve_user("nobody", &u, err, errsz) == 0 && u.uid) {
		*uid = u.uid;
		*gid = u.gid;
	} else {
		*uid = *gid = 65534;
	}
	return 0;
}

/* mls gitwatch's settings (docs/gitwatch-protocol.md) */
static int git_settings(struct jbuf *b, char *err, size_t errsz)
{
	uid_t uid;
	gid_t gid;
	if (git_user(&uid, &gid, err, errsz))
		return -1;
	/* absolute: gitwatch runs in / */
	char sd[PATH_MAX], dir[PATH_MAX + 8];
	if (!realpath(SV.state_dir, sd))
		snprintf(sd, sizeof sd, "%s", SV.state_dir);
	snprintf(dir, sizeof dir, "%s/git", sd);
	jb_puts(b, "{\"state_dir\":");
	jb_str(b, sd);
	jb_puts(b, ",\"git_dir\":");
	jb_str(b, dir);
	jb_printf(b, ",\"uid\":%u,\"gid\":%u,\"services\":[", (unsigned)uid, (unsigned)gid);
	int first = 1;
	for (int k = 0; k < SV.cfg->nsvcs; k++) {
		const struct service *c = &SV.cfg->svcs[k];
		if (!c->git.url || !c->active || c->internal)
			continue;
		jb_puts(b, first ? "" : ",");
		first = 0;
		git_fields(b, &c->git);
		jb_puts(b, ",\"name\":");
		jb_str(b, c->name);
		jb_printf(b, ",\"keep\":%d,\"rollback\":%s,\"verify_window_ms\":%lld,\"has_command\":%s,"
			"\"has_pre_deploy\":%s,\"has_health\":%s,\"replicas\":%d}", c->git.keep,
			c->git.rollback ? "true" : "false", (long long)c->git.verify_window_ms,
			c->command.argc ? "true" : "false", c->pre_deploy.argc ? "true" : "false",
			c->health.kind != HC_NONE ? "true" : "false", c->replicas);
	}
	jb_puts(b, "],\"config_git\":");
	if (SV.cfg->config_git.url) {
		git_fields(b, &SV.cfg->config_git);
		jb_puts(b, ",\"path\":");
		jb_str(b, SV.cfg->config_git.path);
		jb_puts(b, "}");
	} else
		jb_puts(b, "null");
	jb_puts(b, "}\n");
	return 0;
}

/* The control connection of an internal instance (mls httpd, mls
 * gitwatch): a socketpair whose supervise end is served like an accepted
 * connection with the permission perm, and whose other end becomes the
 * child's fd 3. The first line on it, written before the end is adopted,
 * is the settings. Returns the child's end, or -1 with err. */
static int internal_channel(const struct service *c, char *err, size_t errsz)
{
	int git = !strcmp(c->name, GIT_SERVICE);
	proto_perm perm = git ? PROTO_PERM_GITWATCH : SV.cfg->http.allow;
	const char *who = git ? "gitwatch" : "httpd";
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, errsz, "cannot make the control channel: %s", strerror(errno));
		return -1;
	}
	struct jbuf b = {0};
	if (git) {
		if (git_settings(&b, err, errsz)) {
			jb_free(&b);
			close(sp[0]);
			close(sp[1]);
			return -1;
		}
	} else
		http_settings(&b);
	/* a fresh socketpair takes far more than this line (its size is
	 * bounded by the config's: listen addresses, paths, tokens) */
	ssize_t n = b.oom ? -1 : send(sp[0], b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	int e = b.oom ? ENOMEM : errno;
	int whole = n >= 0 && (size_t)n == b.len;
	jb_free(&b);
	if (!whole) {
		snprintf(err, errsz, "cannot send %s its settings: %s", who, n < 0 ? strerror(e) : "line too long");
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (ctlsrv_adopt(SV.ctl, sp[0], perm) < 0) {
		snprintf(err, errsz, "cannot serve %s's control channel: %s", who,
			errno == EBUSY ? "too many connections" : strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	return sp[1];
}

void git_path(char *buf, size_t size, const char *svc, const char *leaf)
{
	snprintf(buf, size, "%s/git/%s%s%s", SV.state_dir, svc, leaf ? "/" : "", leaf ? leaf : "");
}

/* A git service runs in its checkout, with GIT_REVISION and GIT_REF, and
 * autoexec.txt's command when it has none: the main command and
 * pre_deploy (dir = the new checkout, rev = its commit). vars gets the
 * variables (into varbuf); *cmd may be replaced by gcmd. */
static int git_exec(struct inst *i, const struct command **cmd, struct command *gcmd, const char **dir,
	const char **rev, char *dirbuf, size_t dirsz, char **vars, char (*varbuf)[300], char *err, size_t errsz)
{
	const struct service *c = i->svc->cfg;
	const struct svcgit *g = i->svc->git;
	int n = 0;
	vars[0] = NULL;
	if (!c->git.url || c->internal)
		return 0;
	if (*cmd == &c->command && !c->command.argc) {
		if (!g || !g->argc) {
			snprintf(err, errsz, "no command: the revision's autoexec.txt gave none");
			return -1;
		}
		*gcmd = (struct command){ g->argv, g->argc, 0, c->pos };
		*cmd = gcmd;
	}
	if (!*dir) {
		char cur[4096];
		git_path(cur, sizeof cur, c->name, "current");
		if (c->working_dir && c->working_dir[0] == '/')
			snprintf(dirbuf, dirsz, "%s", c->working_dir);
		else
			snprintf(dirbuf, dirsz, "%s%s%s", cur, c->working_dir ? "/" : "", c->working_dir ? c->working_dir : "");
		*dir = dirbuf;
	}
	if (!*rev && g && g->revision[0])
		*rev = g->revision;
	if (*rev) {
		snprintf(varbuf[n], sizeof varbuf[n], "GIT_REVISION=%s", *rev);
		vars[n] = varbuf[n];
		n++;
	}
	if (g && g->ref) {
		snprintf(varbuf[n], sizeof varbuf[n], "GIT_REF=%s", g->ref);
		vars[n] = varbuf[n];
		n++;
	}
	vars[n] = NULL;
	return 0;
}

static int spawn_impl(struct inst *i, const struct command *cmd, int with_ready, int out_fd, const char *dir,
	const char *rev, struct child *out, char *err, size_t errsz)
{
	const struct service *c = i->svc->cfg;
	out->pid = 0;
	out->ready_fd = out->notify_fd = -1;
	struct svcexec x;
	struct command gcmd;
	char dirbuf[4096 + 256], gvar[2][300], *vars[4];
	if (git_exec(i, &cmd, &gcmd, &dir, &rev, dirbuf, sizeof dirbuf, vars, gvar, err, errsz))
		return -1;
	if (svcexec_build_cmd(&x, cmd, c, i->idx, i->port, SV.environ_base, err, errsz))
		return -1;
	struct spawn_req r;
	spawn_req_init(&r);
	svcexec_req(&x, c, &r);
	if (dir)
		r.dir = dir;
	r.out_fd = out_fd;
	if (SV.orig_nofile > 0)
		r.nofile_soft = SV.orig_nofile; /* not the limit mls raised for itself */
	int rp[2] = { -1, -1 };
	char **envx = NULL;
	/* a NOTIFY_SOCKET for ready: notify and for the watchdog's pings */
	char var[128]; /* in envx until the spawn */
	int nv = 0;
	while (vars[nv])
		nv++;
	if (with_ready && (c->ready == READY_NOTIFY || c->watchdog_ms > 0)) {
		out->notify_fd = open_notify(i, var, sizeof var);
		if (out->notify_fd >= 0) {
			vars[nv++] = var;
			vars[nv] = NULL;
		}
	}
	if (nv && (envx = env_with(x.envp, vars)))
		r.envp = envx;
	if (with_ready && c->ready == READY_NOTIFY) {
		if (pipe2(rp, O_CLOEXEC) < 0) {
			snprintf(err, errsz, "cannot make the readiness pipe: %s", strerror(errno));
			free(envx);
			if (out->notify_fd >= 0)
				close(out->notify_fd);
			out->notify_fd = -1;
			svcexec_free(&x);
			return -1;
		}
		r.ready_fd = c->ready_fd;
		r.ready_src = rp[1];
	}
	if (c->internal && cmd == &c->command) {
		/* the same fd slot readiness uses; an internal one has none */
		if ((rp[1] = internal_channel(c, err, errsz)) < 0) {
			svcexec_free(&x);
			return -1;
		}
		r.ready_fd = 3;
		r.ready_src = rp[1];
		/* this very binary: the path it had when mls started (emulators
		 * such as qemu-user cannot exec /proc/self/exe) */
		r.path = SV.self_exe ? SV.self_exe : "/proc/self/exe";
	} else if (c->docker && cmd == &c->command) {
		/* mls docker-run (a user service: no control channel) */
		r.path = SV.self_exe ? SV.self_exe : "/proc/self/exe";
	}
	int cgfd = -1;
	if (SV.cg.ok && cmd == &c->command) {
		/* its own cgroup (docs/cgroups.md): the limits its controllers
		 * take over are not set as rlimits too */
		char name[80];
		struct cgroup_limits cl = { c->limits.memory, c->limits.swap, c->limits.pids, c->limits.cpu,
			c->limits.io_weight };
		snprintf(name, sizeof name, "%s.%d", c->name, i->idx);
		cgfd = cgroup_prepare(&SV.cg, name, &cl, err, errsz);
		if (cgfd < 0) {
			free(envx);
			svcexec_free(&x);
			if (rp[0] >= 0)
				close(rp[0]);
			if (rp[1] >= 0)
				close(rp[1]);
			if (out->notify_fd >= 0)
				close(out->notify_fd);
			out->notify_fd = -1;
			return -1;
		}
		r.cgroup_fd = cgfd;
		if (SV.cg.ctrl & CG_MEMORY)
			r.rlimit_as = -1;
		if (SV.cg.ctrl & CG_PIDS)
			r.rlimit_nproc = -1;
		i->cg_oom = cgroup_oom_kills(&SV.cg, name);
	}
	pid_t pid = spawn(&r);
	int e = errno;
	if (cgfd >= 0)
		close(cgfd);
	free(envx);
	svcexec_free(&x);
	if (rp[1] >= 0)
		close(rp[1]); /* httpd's channel: supervise's end sees EOF if the fork failed */
	if (pid < 0) {
		if (rp[0] >= 0)
			close(rp[0]);
		if (out->notify_fd >= 0)
			close(out->notify_fd);
		out->notify_fd = -1;
		snprintf(err, errsz, "fork: %s", strerror(e));
		return -1;
	}
	if (rp[0] >= 0)
		fcntl(rp[0], F_SETFL, O_NONBLOCK);
	out->pid = pid;
	out->ready_fd = rp[0];
	return 0;
}

/* ----------------------------------------------------------- readiness */

int child_ready_line(int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n > 0)
		return memchr(buf, '\n', (size_t)n) ? 1 : 0;
	return -1; /* closed without a line: it may still notify by socket */
}

int child_notify(int fd, struct notify_msg *m)
{
	char buf[NOTIFY_MAX];
	char cbuf[CMSG_SPACE(16 * sizeof(int))];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int k = 0; k < nfd; k++) {
				int f;
				memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof f);
				close(f);
			}
		}
	if (mh.msg_flags & MSG_TRUNC)
		return 0; /* more than NOTIFY_MAX bytes: not a notify datagram */
	return notify_parse(buf, (size_t)n, m) == 0 ? 1 : 0;
}

/* ------------------------------------------------------------ signals */

/* "web.1": the name of its cgroup */
static const char *cg_name(const struct inst *i, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s.%d", i->svc->cfg->name, i->idx);
	return buf;
}

int child_signal(struct inst *i, int sig)
{
	int rc = -1;
	char n[80];
	if (SV.cg.ok && i->pgid > 0)
		cgroup_signal(&SV.cg, cg_name(i, n, sizeof n), sig); /* its daemons in other sessions too */
	if (i->pgid > 0) {
		rc = kill(-i->pgid, sig);
		if (rc < 0 && i->pid > 0)
			rc = kill(i->pid, sig);
		/* a stopped (SIGSTOP) process would never see the signal */
		kill(-i->pgid, SIGCONT);
	}
	return rc;
}

void child_kill_main(struct inst *i)
{
	char n[80];
	if (SV.cg.ok)
		cgroup_kill(&SV.cg, cg_name(i, n, sizeof n));
	if (i->pgid > 0)
		kill(-i->pgid, SIGKILL);
	if (i->pid > 0)
		kill(i->pid, SIGKILL);
}

void child_signal_hook(struct inst *i, int sig)
{
	if (i->hook_pid > 0) {
		kill(-i->hook_pid, sig);
		if (sig == SIGKILL)
			kill(i->hook_pid, sig);
	}
}

void child_kill_all(struct inst *i)
{
	child_kill_main(i);
	child_signal_hook(i, SIGKILL);
}

int child_group_alive(const struct inst *i)
{
	char n[80];
	if (i->pgid > 0 && kill(-i->pgid, 0) == 0)
		return 1;
	return SV.cg.ok && cgroup_populated(&SV.cg, cg_name(i, n, sizeof n)) > 0;
}

void child_cgroup_remove(const struct inst *i)
{
	char n[80];
	if (SV.cg.ok)
		cgroup_remove(&SV.cg, cg_name(i, n, sizeof n));
}

int child_oom_killed(struct inst *i)
{
	char n[80];
	if (!SV.cg.ok || !(SV.cg.ctrl & CG_MEMORY))
		return 0;
	int64_t now = cgroup_oom_kills(&SV.cg, cg_name(i, n, sizeof n));
	int oom = now > 0 && now > i->cg_oom;
	i->cg_oom = now;
	return oom;
}
