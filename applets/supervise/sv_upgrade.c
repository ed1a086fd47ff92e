/* sv_upgrade.c: live upgrade (docs/upgrade.md). The old process checks
 * the new binary (`--version`, then a check run that reads the state and
 * the config), writes its state into a memfd (lib/upgradestate.h), clears
 * close-on-exec on the fds the new process adopts and execs it with the
 * same PID; the new one loads the config, adopts instance by instance
 * and answers the client that asked. Any failure before exec leaves the
 * old process as it was; after exec, a state the new binary cannot read
 * makes it exec the old binary again (an fd on it is passed along).
 * The API is in sv_upgrade.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cJSON.h"
#include "upgradestate.h"
#include "sv_upgrade.h"

#define VERSION_TIMEOUT_MS 5000 /* `NEW --version` */
#define CHECK_TIMEOUT_MS 10000  /* the check run: reads the state and the config */
#define ENV_EXE "MLS_UPGRADE_EXE"
#define ENV_CHECK "MLS_UPGRADE_CHECK"
#define ENV_ROLLBACK "MLS_UPGRADE_ROLLBACK"
#define ENV_REFUSE "MLS_TEST_UPGRADE_REFUSE" /* test hook: see docs/upgrade.md */
#define FDS_MAX 65536

extern char **environ;

static int g_argc;        /* supervise's own argv, for the check run */
static char **g_argv;
static cJSON *g_st;       /* the state being adopted */
static int g_mode;        /* sv_upgrade_begin()'s answer */
static int g_memfd = -1, g_exefd = -1, g_rollback;

/* ------------------------------------------------------------ helpers */

static int64_t jnum(const cJSON *o, const char *k, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static const char *jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* key (the text before the value, e.g. ,"note":) then the value as a JSON string (null for NULL) */
static void kstr(struct jbuf *b, const char *key, const char *v)
{
	jb_puts(b, key);
	jb_str(b, v);
}

static void jb_hex(struct jbuf *b, const char *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	if (!h) {
		b->oom = 1;
		return;
	}
	upst_hex((const unsigned char *)p, n, h);
	jb_puts(b, "\"");
	jb_raw(b, h, 2 * n);
	jb_puts(b, "\"");
	free(h);
}

/* The hex string o[k] decoded (malloc'd, *n bytes), or NULL */
static char *jhex(const cJSON *o, const char *k, size_t *n)
{
	const char *s = jstr(o, k);
	size_t l = s ? strlen(s) : 0;
	char *out = l ? malloc(l / 2 + 1) : NULL;
	if (!out || upst_unhex(s, l, (unsigned char *)out) < 0) {
		free(out);
		return NULL;
	}
	*n = l / 2;
	return out;
}

/* Sets (on 1) or clears close-on-exec; 0, or -1 when fd is not open */
static int cloexec(int fd, int on)
{
	return fd >= 0 && fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) == 0 ? 0 : -1;
}

/* This process's own argv from /proc/self/cmdline (argv[0] as started,
 * so init's dispatch by name stays), malloc'd in one block, or NULL */
static char **self_argv(void)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;
	while (buf && len < cap && (r = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (!buf || !len) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	int n = 0;
	for (size_t k = 0; k < len; k++)
		n += !buf[k];
	char **v = malloc((size_t)(n + 2) * sizeof *v + len + 1);
	if (v) {
		char *s = (char *)(v + n + 2);
		memcpy(s, buf, len + 1);
		int a = 0;
		for (size_t k = 0; k < len && a < n; k += strlen(s + k) + 1)
			v[a++] = s + k;
		v[a] = NULL;
	}
	free(buf);
	return v;
}

/* environ without MLS_UPGRADE_* and the test hook, plus up to 3 vars */
static char **env_plus(const char *a, const char *b, const char *c)
{
	int n = 0;
	while (environ[n])
		n++;
	char **e = malloc((size_t)(n + 4) * sizeof *e);
	if (!e)
		return NULL;
	int m = 0;
	for (int k = 0; k < n; k++)
		if (strncmp(environ[k], "MLS_UPGRADE_", 12))
			e[m++] = environ[k];
	if (a)
		e[m++] = (char *)a;
	if (b)
		e[m++] = (char *)b;
	if (c)
		e[m++] = (char *)c;
	e[m] = NULL;
	return e;
}

/* Runs path with argv/envp and waits for it at most timeout_ms (the loop
 * stands still meanwhile: a few ms normally). keep: an fd the child gets
 * without close-on-exec; quiet: stdout to /dev/null. The wait status, or
 * -1 with err (fork failed, timed out: then killed). */
static int run_wait(const char *path, char *const argv[], char *const envp[], int keep, int quiet,
	int timeout_ms, char *err, size_t errsz)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		loop_reset_signals_for_child();
		if (keep >= 0)
			cloexec(keep, 0);
		int nul = quiet ? open("/dev/null", O_WRONLY) : -1;
		if (nul >= 0)
			dup2(nul, 1);
		execve(path, argv, envp);
		_exit(127);
	}
	int status;
	for (int64_t end = loop_now_ms() + timeout_ms;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR) {
			snprintf(err, errsz, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (loop_now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(err, errsz, "%s did not answer within %d ms", path, timeout_ms);
			return -1;
		}
		nanosleep(&(struct timespec){ 0, 2 * 1000 * 1000 }, NULL);
	}
}

static void describe_status(char *buf, size_t sz, int st)
{
	if (WIFEXITED(st))
		snprintf(buf, sz, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(buf, sz, "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ---------------------------------------------------------- the state */

/* The fds passed on (close-on-exec cleared before exec, set again if
 * exec fails) */
struct keep {
	int *fd;
	int n, cap;
};

static int keep_fd(struct keep *k, int fd)
{
	if (fd < 0)
		return fd;
	if (k->n == k->cap) {
		int c = k->cap ? 2 * k->cap : 64;
		int *p = realloc(k->fd, (size_t)c * sizeof *p);
		if (!p)
			return -1;
		k->fd = p;
		k->cap = c;
	}
	k->fd[k->n++] = fd;
	return fd;
}

static void dump_inst(struct jbuf *b, const struct inst *i, struct keep *k)
{
	jb_printf(b, "{\"idx\":%d,\"state\":%d,\"want\":%d,\"reason\":", i->idx, (int)i->state, (int)i->want);
	jb_str(b, i->reason);
	jb_printf(b, ",\"pid\":%d,\"pgid\":%d,\"hook_pid\":%d,\"hook\":%d,\"spawned_ms\":%lld,\"port\":%d,\"timers\":[",
		(int)i->pid, (int)i->pgid, (int)i->hook_pid, (int)i->hook, (long long)i->spawned_ms, i->port);
	for (int t = 0; t < T__COUNT; t++)
		jb_printf(b, "%s%lld", t ? "," : "",
			(long long)(i->timer[t] ? loop_timer_deadline(SV.loop, i->timer[t]) : -1));
	int rfd = i->ready_id ? loop_fd_of(SV.loop, i->ready_id) : -1;
	int nfd = i->notify_id ? loop_fd_of(SV.loop, i->notify_id) : -1;
	jb_printf(b, "],\"out_r\":%d,\"out_w\":%d,\"ready_fd\":%d,\"notify_fd\":%d,\"part\":", keep_fd(k, i->out_r),
		keep_fd(k, i->out_w), keep_fd(k, rfd), keep_fd(k, nfd));
	const struct logsink *l = &i->log;
	jb_hex(b, l->part ? l->part : "", l->plen);
	/* the ring, oldest byte first */
	jb_puts(b, ",\"ring\":");
	size_t first = l->ring ? l->rlen : 0;
	if (l->ring && l->rhead + l->rlen > l->ring_max)
		first = l->ring_max - l->rhead;
	char *lin = malloc(l->rlen + 1);
	if (lin && l->ring) {
		memcpy(lin, l->ring + l->rhead, first);
		memcpy(lin + first, l->ring, l->rlen - first);
	}
	jb_hex(b, lin ? lin : "", lin && l->ring ? l->rlen : 0);
	free(lin);
	jb_printf(b, ",\"lines\":%llu,\"dropped\":%llu,\"cause\":%d,\"health\":%d,\"hfails\":%d,\"hoks\":%d,"
		"\"ever_healthy\":%d,\"unhealthy_runs\":%d,\"hlog\":[", (unsigned long long)l->lines,
		(unsigned long long)l->dropped, (int)i->cause, (int)i->health, i->hfails, i->hoks, i->ever_healthy,
		i->unhealthy_runs);
	for (int h = 0; h < i->nhlog; h++) {
		jb_printf(b, "%s[%lld,%lld,%d,", h ? "," : "", (long long)i->hlog[h].time_ms,
			(long long)i->hlog[h].dur_ms, i->hlog[h].ok);
		jb_str(b, i->hlog[h].msg);
		jb_puts(b, "]");
	}
	kstr(b, "],\"hmsg\":", i->hmsg);
	kstr(b, ",\"note\":", i->note);
	kstr(b, ",\"notify_state\":", i->notify_state);
	jb_printf(b, ",\"mainpid\":%d,\"has_exit\":%d,\"last_code\":%d,\"last_sig\":%d,\"last_oom\":%d,\"cg_oom\":%lld,"
		"\"quick\":%d,\"starts\":[",
		(int)i->mainpid, i->has_exit, i->last_code, i->last_sig, i->last_oom, (long long)i->cg_oom, i->quick);
	for (int s = 0; s < i->nstarts; s++)
		jb_printf(b, "%s%lld", s ? "," : "", (long long)i->starts[s]);
	jb_printf(b, "],\"restarts\":%d,\"runs_done\":%d,\"last_success_ms\":%lld,\"next_start_ms\":%lld,"
		"\"next_run\":%lld,\"job_due\":%d,\"is_new\":%d,\"ever_started\":%d,\"hist\":[", i->restarts,
		i->runs_done, (long long)i->last_success_ms, (long long)i->next_start_ms, (long long)i->next_run,
		i->job_due, i->is_new, i->ever_started);
	for (int h = 0; h < i->nhist; h++) {
		const struct exitrec *e = &i->hist[h];
		jb_printf(b, "%s[%lld,%d,%d,%d,%lld]", h ? "," : "", (long long)e->time_ms, (int)e->pid, e->code,
			e->sig, (long long)e->uptime_ms);
	}
	jb_puts(b, "]}");
}

static void dump_git(struct jbuf *b, const struct svcgit *g)
{
	kstr(b, ",\"git\":{\"revision\":", g->revision);
	kstr(b, ",\"from\":", g->from);
	kstr(b, ",\"phase\":", g->phase);
	kstr(b, ",\"ref\":", g->ref);
	kstr(b, ",\"message\":", g->message);
	jb_puts(b, ",\"argv\":[");
	for (int k = 0; k < g->argc; k++) {
		jb_puts(b, k ? "," : "");
		jb_str(b, g->argv[k]);
	}
	jb_puts(b, "],\"deploys\":[");
	for (int k = 0; k < g->ndeploys; k++) {
		const struct deployrec *d = &g->deploys[k];
		jb_printf(b, "%s[%lld,", k ? "," : "", (long long)d->time_ms);
		jb_str(b, d->type);
		kstr(b, ",", d->revision);
		kstr(b, ",", d->from);
		kstr(b, ",", d->message);
		jb_puts(b, "]");
	}
	jb_puts(b, "]}");
}

/* The whole state (docs/upgrade.md, "Format") */
static void dump(struct jbuf *b, int64_t t0, int exefd, int client, proto_perm perm, struct keep *k)
{
	kstr(b, "{\"mls_version\":", MLS_VERSION);
	jb_printf(b, ",\"pid\":%d,\"request_ms\":%lld,\"seq\":%llu,\"wall_offset_s\":%lld,\"state_dir\":", (int)SV.pid,
		(long long)t0, (unsigned long long)SV.seq, (long long)SV.wall_offset_s);
	jb_str(b, SV.state_dir);
	jb_printf(b, ",\"fds\":{\"lock\":%d,\"ctl\":%d,\"client\":%d,\"exe\":%d},\"client_perm\":%u,\"services\":[",
		keep_fd(k, SV.lock_fd), keep_fd(k, ctlsrv_listen_fd(SV.ctl)), keep_fd(k, client), exefd,
		(unsigned)perm);
	for (int s = 0; s < SV.nsvcs; s++) {
		const struct svc *v = SV.svcs[s];
		jb_puts(b, s ? ",{\"name\":" : "{\"name\":");
		jb_str(b, v->cfg->name);
		jb_printf(b, ",\"hash\":\"%016llx\"", (unsigned long long)v->cfg->hash);
		if (v->git)
			dump_git(b, v->git);
		jb_puts(b, ",\"instances\":[");
		for (int n = 0; n < v->ninst; n++) {
			jb_puts(b, n ? "," : "");
			dump_inst(b, v->inst[n], k);
		}
		jb_puts(b, "]}");
	}
	jb_puts(b, "]}");
}

/* -------------------------------------------------------- the old side */

/* Why an upgrade cannot happen now, or NULL */
static const char *not_now(void)
{
	if (SV.shutting_down)
		return "shutting down";
	for (int s = 0; s < SV.nsvcs; s++) {
		if (SV.svcs[s]->removed)
			return "a reload is still stopping removed services: try again";
		if (SV.svcs[s]->git && SV.svcs[s]->git->hook_pid > 0)
			return "a pre_deploy hook runs: try again";
	}
	return NULL;
}

/* The upgrade itself: returns only when it did not happen (-1, err);
 * everything is then as it was */
static int upgrade(const char *path, struct ctlconn *c, char *err, size_t errsz)
{
	int64_t t0 = loop_now_ms();
	const char *why = not_now();
	if (why) {
		snprintf(err, errsz, "cannot upgrade now: %s", why);
		return -1;
	}
	if (access(path, X_OK) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	char st[64], **env = env_plus(NULL, NULL, NULL);
	char *vargv[] = { "mls", "--version", NULL };
	int rc = env ? run_wait(path, vargv, env, -1, 1, VERSION_TIMEOUT_MS, err, errsz) : -1;
	free(env);
	if (rc == -1 && !env)
		snprintf(err, errsz, "out of memory");
	if (rc == -1)
		return -1;
	if (rc != 0) {
		describe_status(st, sizeof st, rc);
		snprintf(err, errsz, "%s --version: %s: not upgraded", path, st);
		return -1;
	}
	/* an fd on this binary: a new one that cannot adopt the state
	 * execs it back (it may be replaced on disk by then) */
	int exefd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct keep k = { 0 };
	struct jbuf b = { 0 };
	dump(&b, t0, exefd, ctlsrv_conn_fd(c), c ? ctlsrv_perm(c) : 0, &k);
	int memfd = b.oom ? -1 : upst_write(b.p, b.len, UPST_VERSION);
	size_t size = b.len;
	jb_free(&b);
	if (memfd < 0) {
		snprintf(err, errsz, "cannot write the state: %s", b.oom ? "out of memory" : strerror(errno));
		goto fail;
	}
	/* the check run: the new binary reads the state and the config,
	 * with supervise's own arguments, and exits 0 */
	char var[3][64];
	snprintf(var[0], sizeof var[0], "%s=%d", UPST_ENV, memfd);
	snprintf(var[1], sizeof var[1], "%s=1", ENV_CHECK);
	snprintf(var[2], sizeof var[2], "%s=%d", ENV_EXE, exefd);
	char **cargv = calloc((size_t)g_argc + 2, sizeof *cargv);
	env = env_plus(var[0], var[1], NULL);
	rc = -1;
	if (cargv && env) {
		cargv[0] = "mls";
		for (int a = 0; a < g_argc; a++)
			cargv[a + 1] = g_argv[a];
		rc = run_wait(path, cargv, env, memfd, 1, CHECK_TIMEOUT_MS, err, errsz);
	} else
		snprintf(err, errsz, "out of memory");
	free(cargv);
	free(env);
	if (rc > 0) {
		describe_status(st, sizeof st, rc);
		snprintf(err, errsz, "%s refused the state or the config (%s; its messages are in mls's log): not upgraded",
			path, st);
	}
	if (rc != 0)
		goto fail;
	char **argv = self_argv();
	env = env_plus(var[0], var[2], NULL);
	if (!argv || !env) {
		snprintf(err, errsz, "cannot read /proc/self/cmdline or out of memory");
		free(argv);
		free(env);
		goto fail;
	}
	keep_fd(&k, memfd);
	keep_fd(&k, exefd);
	int nk = 0;
	while (nk < k.n && cloexec(k.fd[nk], 0) == 0)
		nk++;
	if (nk == k.n) {
		sv_log(LVL_INFO, NULL, "upgrade: exec %s (state: %zu bytes, %d fds) after %lld ms of checks", path, size, k.n,
			(long long)(loop_now_ms() - t0));
		execve(path, argv, env);
		snprintf(err, errsz, "exec %s: %s: not upgraded", path, strerror(errno));
	} else
		snprintf(err, errsz, "fd %d of the state is not open: not upgraded", k.fd[nk]);
	for (int n = 0; n < nk; n++)
		cloexec(k.fd[n], 1);
	free(argv);
	free(env);
fail:
	if (memfd >= 0)
		close(memfd);
	if (exefd >= 0)
		close(exefd);
	free(k.fd);
	return -1;
}

static const char *default_path(char *buf, size_t sz)
{
	if (SV.self_exe)
		return SV.self_exe;
	ssize_t n = readlink("/proc/self/exe", buf, sz - 1);
	if (n <= 0)
		return "/proc/self/exe";
	buf[n] = 0;
	char *del = strstr(buf, " (deleted)"); /* replaced by rename: the new file has the name */
	if (del && !del[10])
		*del = 0;
	return buf;
}

void sv_upgrade_request(struct ctlconn *c, int argc, char **argv)
{
	char err[512], buf[4096];
	if (argc > 2) {
		ctlsrv_reply(c, "{\"ok\":false,\"error\":\"usage: upgrade [PATH]\"}\n", 44);
		return;
	}
	const char *path = argc == 2 ? argv[1] : default_path(buf, sizeof buf);
	sv_log(LVL_INFO, NULL, "upgrade to %s requested over the control socket", path);
	upgrade(path, c, err, sizeof err); /* returns only when it failed */
	sv_log(LVL_ERROR, NULL, "upgrade: %s", err);
	struct jbuf b = { 0 };
	jb_puts(&b, "{\"ok\":false,\"error\":");
	jb_str(&b, err);
	jb_puts(&b, "}\n");
	if (!b.oom)
		ctlsrv_reply(c, b.p, b.len);
	jb_free(&b);
}

void sv_upgrade_signal(void)
{
	char err[512], buf[4096];
	const char *path = default_path(buf, sizeof buf);
	sv_log(LVL_INFO, NULL, "SIGUSR2: upgrading to %s", path);
	upgrade(path, NULL, err, sizeof err);
	sv_log(LVL_ERROR, NULL, "upgrade: %s", err);
}

void sv_upgrade_on_sigusr2(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)l;
	(void)si;
	(void)ctx;
	sv_upgrade_signal();
}

/* -------------------------------------------------------- the new side */

/* Exec the old binary again with the state (it reads its own version);
 * returns only when that is impossible */
static void rollback_exec(void)
{
	if (g_rollback || g_exefd < 0 || g_memfd < 0)
		return;
	char var[3][64];
	snprintf(var[0], sizeof var[0], "%s=%d", UPST_ENV, g_memfd);
	snprintf(var[1], sizeof var[1], "%s=%d", ENV_EXE, g_exefd);
	snprintf(var[2], sizeof var[2], "%s=1", ENV_ROLLBACK);
	char **argv = self_argv(), **env = env_plus(var[0], var[1], var[2]);
	if (argv && env) {
		sv_log(LVL_ERROR, NULL, "upgrade: going back to the old binary (fd %d)", g_exefd);
		cloexec(g_memfd, 0);
		cloexec(g_exefd, 0);
		fexecve(g_exefd, argv, env);
		sv_log(LVL_ERROR, NULL, "upgrade: cannot exec the old binary: %s", strerror(errno));
	}
	free(argv);
	free(env);
}

/* Nothing can be adopted: every child is killed by its process group
 * (they are started again from the config) and the inherited fds are
 * closed, so the lock and the socket can be taken afresh */
static void last_resort(void)
{
	sv_log(LVL_ERROR, NULL, "upgrade: THE STATE IS LOST: killing every child and starting the services afresh");
	pid_t self = getpid(), grp = getpgrp();
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char p[64], buf[512];
		snprintf(p, sizeof p, "/proc/%.20s/stat", e->d_name);
		int fd = e->d_name[0] >= '1' && e->d_name[0] <= '9' ? open(p, O_RDONLY | O_CLOEXEC) : -1;
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		int pid = atoi(e->d_name), ppid = -1, pgrp = -1;
		/* ") S PPID PGRP ...": no sscanf (it would pull musl's scanf in) */
		if (rp && rp[1] == ' ' && rp[2] && rp[3] == ' ') {
			char *q;
			ppid = (int)strtol(rp + 4, &q, 10);
			pgrp = *q == ' ' ? (int)strtol(q + 1, NULL, 10) : -1;
		}
		if (rp && ppid == self) {
			if (pgrp > 0 && pgrp != grp)
				kill(-pgrp, SIGKILL);
			kill(pid, SIGKILL);
		}
	}
	if (d)
		closedir(d);
	for (int fd = 3; fd < FDS_MAX; fd++)
		close(fd);
	g_memfd = g_exefd = -1;
}

int sv_upgrade_begin(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	const char *e = getenv(UPST_ENV);
	if (!e)
		return 0;
	g_memfd = atoi(e);
	g_exefd = getenv(ENV_EXE) ? atoi(getenv(ENV_EXE)) : -1;
	int check = getenv(ENV_CHECK) != NULL;
	g_rollback = getenv(ENV_ROLLBACK) != NULL;
	const char *hook = g_rollback ? NULL : getenv(ENV_REFUSE);
	unsetenv(UPST_ENV);
	unsetenv(ENV_EXE);
	unsetenv(ENV_CHECK);
	unsetenv(ENV_ROLLBACK);
	char err[300];
	size_t len = 0;
	int ver = 0;
	char *body = upst_read(g_memfd, &len, &ver, err, sizeof err);
	if (body && ver != UPST_VERSION)
		snprintf(err, sizeof err, "state version %d, this mls (%s) reads version %d", ver, MLS_VERSION, UPST_VERSION);
	else if (body && hook && *hook && (strcmp(hook, "exec") || !check))
		snprintf(err, sizeof err, "state refused (test hook %s=%s)", ENV_REFUSE, hook);
	else if (body && !(g_st = cJSON_ParseWithLength(body, len)))
		snprintf(err, sizeof err, "the state is not valid JSON");
	free(body);
	if (g_st) {
		g_mode = check ? 2 : 1;
		return g_mode;
	}
	sv_log(LVL_ERROR, NULL, "upgrade: cannot adopt the state: %s", err);
	if (check)
		return 3;
	rollback_exec();
	last_resort();
	return 0;
}

struct config *sv_upgrade_bad_config(struct diags *d)
{
	if (g_mode != 1)
		return NULL;
	struct config *cfg = NULL;
	for (int tries = 0;; tries++) {
		for (int k = 0; k < d->n; k++) {
			char line[1024];
			sv_log(LVL_ERROR, NULL, "%s", diag_format(&d->v[k], line, sizeof line));
		}
		diags_free(d);
		sv_log(LVL_ERROR, NULL, "upgrade: the config no longer loads; the services keep running%s",
			tries ? ", trying again in 5 s" : "");
		if (!tries)
			rollback_exec();
		nanosleep(&(struct timespec){ 5, 0 }, NULL);
		if (sv_load(&cfg, d) == 0)
			return cfg;
	}
}

int sv_upgrade_lock(void)
{
	const cJSON *fds = cJSON_GetObjectItemCaseSensitive(g_st, "fds");
	SV.lock_fd = (int)jnum(fds, "lock", -1);
	if (cloexec(SV.lock_fd, 1) < 0) {
		sv_log(LVL_ERROR, NULL, "upgrade: the state_dir lock (fd %d) was not passed on: running without it",
			SV.lock_fd);
		SV.lock_fd = -1;
	}
	return 0;
}

int sv_upgrade_listen_fd(void)
{
	int fd = g_mode == 1 ? (int)jnum(cJSON_GetObjectItemCaseSensitive(g_st, "fds"), "ctl", -1) : -1;
	return cloexec(fd, 1) == 0 ? fd : -1;
}

/* Kill what an instance of the state runs when no instance of the config
 * takes it (its service was removed from the files, or has fewer replicas) */
static void kill_stray(const char *svc, const cJSON *j)
{
	int pgid = (int)jnum(j, "pgid", 0), pid = (int)jnum(j, "pid", 0), hook = (int)jnum(j, "hook_pid", 0);
	sv_log(LVL_WARN, NULL, "upgrade: %s.%d is not in the config any more: stopping pid %d (SIGTERM to its group)", svc,
		(int)jnum(j, "idx", 0), pid);
	if (pgid > 0)
		kill(-pgid, SIGTERM), kill(-pgid, SIGCONT);
	if (pid > 0)
		kill(pid, SIGTERM);
	if (hook > 0)
		kill(-hook, SIGKILL);
	static const char *const fdk[] = { "out_r", "out_w", "ready_fd", "notify_fd" };
	for (int k = 0; k < 4; k++)
		if (jnum(j, fdk[k], -1) >= 0)
			close((int)jnum(j, fdk[k], -1));
}

static void adopt_git(struct svc *s, const cJSON *g)
{
	if (!cJSON_IsObject(g) || !s->cfg->git.url)
		return;
	if (!s->git && !(s->git = calloc(1, sizeof *s->git)))
		return;
	struct svcgit *v = s->git;
	snprintf(v->revision, sizeof v->revision, "%s", jstr(g, "revision") ? jstr(g, "revision") : "");
	snprintf(v->from, sizeof v->from, "%s", jstr(g, "from") ? jstr(g, "from") : "");
	snprintf(v->phase, sizeof v->phase, "%s", jstr(g, "phase") ? jstr(g, "phase") : "");
	v->ref = jstr(g, "ref") ? strdup(jstr(g, "ref")) : NULL;
	v->message = jstr(g, "message") ? strdup(jstr(g, "message")) : NULL;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(g, "argv"), *x;
	int n = cJSON_GetArraySize(a);
	if (n > 0 && (v->argv = calloc((size_t)n + 1, sizeof *v->argv))) {
		cJSON_ArrayForEach(x, a)
			if (cJSON_IsString(x) && (v->argv[v->argc] = strdup(x->valuestring)))
				v->argc++;
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(g, "deploys"))
		if (cJSON_GetArraySize(x) == 5)
			git_add_deploy(s, (int64_t)cJSON_GetArrayItem(x, 0)->valuedouble,
				cJSON_GetStringValue(cJSON_GetArrayItem(x, 1)), cJSON_GetStringValue(cJSON_GetArrayItem(x, 2)),
				cJSON_GetStringValue(cJSON_GetArrayItem(x, 3)), cJSON_GetStringValue(cJSON_GetArrayItem(x, 4)));
}

/* The log sink's partial line and ring, after child_output() set it up */
static void adopt_log(struct inst *i, const cJSON *j)
{
	size_t n = 0;
	char *p = jhex(j, "part", &n);
	if (p && n) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		logsink_feed(&i->log, p, n, &now); /* no newline in it: kept as the partial line */
	}
	free(p);
	p = jhex(j, "ring", &n);
	if (p && n && i->log.ring_max && n <= i->log.ring_max && (i->log.ring = malloc(i->log.ring_max))) {
		memcpy(i->log.ring, p, n);
		i->log.rhead = 0;
		i->log.rlen = n;
	}
	free(p);
	i->log.lines = (uint64_t)jnum(j, "lines", 0);
	i->log.dropped = (uint64_t)jnum(j, "dropped", 0);
}

static void adopt_counters(struct inst *i, const cJSON *j)
{
	const cJSON *x;
	i->cause = (enum stop_cause)jnum(j, "cause", 0);
	i->health = (enum health)jnum(j, "health", 0);
	i->hfails = (int)jnum(j, "hfails", 0);
	i->hoks = (int)jnum(j, "hoks", 0);
	i->ever_healthy = (int)jnum(j, "ever_healthy", 0);
	i->unhealthy_runs = (int)jnum(j, "unhealthy_runs", 0);
	const cJSON *hl = cJSON_GetObjectItemCaseSensitive(j, "hlog");
	if (cJSON_GetArraySize(hl) > 0 && (i->hlog = calloc(SV_HEALTH_LOG, sizeof *i->hlog)))
		cJSON_ArrayForEach(x, hl)
			if (i->nhlog < SV_HEALTH_LOG && cJSON_GetArraySize(x) == 4) {
				struct hresult *h = &i->hlog[i->nhlog++];
				h->time_ms = (int64_t)cJSON_GetArrayItem(x, 0)->valuedouble;
				h->dur_ms = (int64_t)cJSON_GetArrayItem(x, 1)->valuedouble;
				h->ok = cJSON_GetArrayItem(x, 2)->valueint;
				snprintf(h->msg, sizeof h->msg, "%s", cJSON_GetStringValue(cJSON_GetArrayItem(x, 3)) ?
					cJSON_GetStringValue(cJSON_GetArrayItem(x, 3)) : "");
			}
	i->hmsg = jstr(j, "hmsg") ? strdup(jstr(j, "hmsg")) : NULL;
	snprintf(i->note, sizeof i->note, "%s", jstr(j, "note") ? jstr(j, "note") : "");
	const char *ns = jstr(j, "notify_state");
	i->notify_state = ns && !strcmp(ns, "stopping") ? "stopping" : ns && !strcmp(ns, "reloading") ? "reloading" : NULL;
	i->mainpid = (pid_t)jnum(j, "mainpid", 0);
	i->has_exit = (int)jnum(j, "has_exit", 0);
	i->last_code = (int)jnum(j, "last_code", 0);
	i->last_sig = (int)jnum(j, "last_sig", 0);
	i->last_oom = (int)jnum(j, "last_oom", 0);
	i->cg_oom = (int64_t)jnum(j, "cg_oom", -1);
	i->quick = (int)jnum(j, "quick", 0);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "starts");
	int ns2 = cJSON_GetArraySize(st);
	if (ns2 > 0 && (i->starts = calloc((size_t)ns2, sizeof *i->starts))) {
		i->starts_cap = ns2;
		cJSON_ArrayForEach(x, st)
			i->starts[i->nstarts++] = (int64_t)x->valuedouble;
	}
	i->restarts = (int)jnum(j, "restarts", 0);
	i->runs_done = (int)jnum(j, "runs_done", 0);
	i->last_success_ms = jnum(j, "last_success_ms", 0);
	i->next_start_ms = jnum(j, "next_start_ms", 0);
	i->next_run = (time_t)jnum(j, "next_run", 0);
	i->job_due = (int)jnum(j, "job_due", 0);
	i->is_new = (int)jnum(j, "is_new", 0);
	i->ever_started = (int)jnum(j, "ever_started", 0);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "hist"))
		if (cJSON_GetArraySize(x) == 5)
			inst_add_exit(i, (int64_t)cJSON_GetArrayItem(x, 0)->valuedouble, cJSON_GetArrayItem(x, 1)->valueint,
				cJSON_GetArrayItem(x, 2)->valueint, cJSON_GetArrayItem(x, 3)->valueint,
				(int64_t)cJSON_GetArrayItem(x, 4)->valuedouble);
}

/* One instance: 0 adopted whole, -1 its fds are not all there (its
 * processes are taken, so it can be stopped and started again) */
static int adopt_inst(struct inst *i, const cJSON *j)
{
	int st = (int)jnum(j, "state", ST_STOPPED);
	i->state = st >= 0 && st < ST__COUNT ? (enum inst_state)st : ST_STOPPED;
	i->want = (enum want)jnum(j, "want", WANT_RUN);
	snprintf(i->reason, sizeof i->reason, "%s", jstr(j, "reason") ? jstr(j, "reason") : "");
	i->pid = (pid_t)jnum(j, "pid", 0);
	i->pgid = (pid_t)jnum(j, "pgid", 0);
	i->hook_pid = (pid_t)jnum(j, "hook_pid", 0);
	i->hook = (enum hook_kind)jnum(j, "hook", 0);
	i->spawned_ms = jnum(j, "spawned_ms", 0);
	i->port = (int)jnum(j, "port", 0);
	if (i->state == ST_WAITING) /* points into the config: the new one's */
		for (int d = 0; d < i->svc->cfg->ndeps; d++)
			if (strstr(i->reason, i->svc->cfg->deps[d].name))
				i->waiting_for = i->svc->cfg->deps[d].name;
	adopt_counters(i, j);
	int ok = 0;
	int r = (int)jnum(j, "out_r", -1), w = (int)jnum(j, "out_w", -1);
	if (r >= 0 && cloexec(r, 1) == 0 && cloexec(w, 1) == 0) {
		i->out_r = r;
		i->out_w = w;
		if (child_output(i) == 0)
			adopt_log(i, j);
		else
			ok = -1;
	} else if (r >= 0)
		ok = -1;
	int rfd = (int)jnum(j, "ready_fd", -1), nfd = (int)jnum(j, "notify_fd", -1);
	if ((rfd >= 0 && cloexec(rfd, 1) < 0) || (nfd >= 0 && cloexec(nfd, 1) < 0))
		ok = -1;
	int64_t dl[T__COUNT];
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "timers");
	for (int k = 0; k < T__COUNT; k++) {
		const cJSON *x = cJSON_GetArrayItem(t, k);
		dl[k] = cJSON_IsNumber(x) ? (int64_t)x->valuedouble : -1;
	}
	inst_adopt(i, cloexec(rfd, 1) == 0 ? rfd : -1, cloexec(nfd, 1) == 0 ? nfd : -1, dl);
	return ok;
}

void sv_upgrade_adopt(void)
{
	if (g_mode != 1)
		return;
	char path[4200];
	snprintf(path, sizeof path, "%s/journal", SV.state_dir);
	if (journal_open(&SV.journal, path) < 0)
		sv_log(LVL_WARN, NULL, "journal %s: %s", path, strerror(errno));
	SV.seq = (uint64_t)jnum(g_st, "seq", 0);
	SV.wall_offset_s = jnum(g_st, "wall_offset_s", 0);
	int adopted = 0, restarted = 0, stray = 0;
	const cJSON *v, *j;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_st, "services")) {
		const char *name = jstr(v, "name");
		struct svc *s = name ? sv_find(name, strlen(name)) : NULL;
		if (s)
			adopt_git(s, cJSON_GetObjectItemCaseSensitive(v, "git"));
		char hash[24];
		snprintf(hash, sizeof hash, "%016llx", s ? (unsigned long long)s->cfg->hash : 0ULL);
		int changed = !jstr(v, "hash") || strcmp(hash, jstr(v, "hash"));
		cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(v, "instances")) {
			int idx = (int)jnum(j, "idx", 0);
			struct inst *i = s && idx >= 1 && idx <= s->ninst ? s->inst[idx - 1] : NULL;
			if (!i) {
				kill_stray(name ? name : "?", j);
				stray++;
				continue;
			}
			int ok = adopt_inst(i, j);
			adopted++;
			const char *why = ok < 0 ? "upgrade: its fds were not passed on" :
				s->cfg->internal ? "upgrade: mls's own instance starts with the new binary" :
				changed ? "config changed" : NULL;
			if (ok < 0)
				sv_log(LVL_ERROR, i, "upgrade: NOT ADOPTED whole: restarting it");
			if (why && inst_alive(i)) {
				inst_restart(i, why);
				restarted++;
			}
		}
	}
	const cJSON *fds = cJSON_GetObjectItemCaseSensitive(g_st, "fds");
	int client = (int)jnum(fds, "client", -1);
	int64_t ms = loop_now_ms() - jnum(g_st, "request_ms", 0);
	const char *from = jstr(g_st, "mls_version");
	sv_log(LVL_INFO, NULL, "upgrade: from mls %s to %s: %d instance%s adopted, %d restarted, %d stray stopped, in %lld ms",
		from ? from : "?", MLS_VERSION, adopted, adopted == 1 ? "" : "s", restarted, stray, (long long)ms);
	if (client >= 0) {
		struct jbuf b = { 0 };
		jb_printf(&b, "{\"ok\":true,\"pid\":%d,\"version\":\"%s\",\"from\":", (int)SV.pid, MLS_VERSION);
		jb_str(&b, from);
		jb_printf(&b, ",\"adopted\":%d,\"restarted\":%d,\"stray\":%d,\"ms\":%lld}\n", adopted, restarted, stray,
			(long long)ms);
		if (!b.oom && send(client, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			sv_log(LVL_WARN, NULL, "upgrade: cannot answer the client: %s", strerror(errno));
		jb_free(&b);
		close(client);
	}
	if (g_memfd >= 0)
		close(g_memfd);
	if (g_exefd >= 0)
		close(g_exefd);
	g_memfd = g_exefd = -1;
	cJSON_Delete(g_st);
	g_st = NULL;
	g_mode = 0;
	SV.reconcile_due = 1;
	sv_reap(); /* what exited while the exec ran, with its status */
}
