/* mls supervise: run the services of a config and keep them running.
 *
 *   mls supervise [-c FILE]... [--profile P]... [-d|--daemon] [--init|--no-init]
 *
 * PID 1 in a container, init's service manager, or a process started by
 * hand. It never exits on a runtime error: failures are logged and
 * retried or refused. It exits when asked (SIGTERM, SIGINT, `shutdown`),
 * after stopping every service in reverse dependency order, with 0 or the
 * status of a critical service that failed.
 *
 * The rest of the engine is in sv_*.c; the shared state and the layers
 * in sv.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "applets.h"
#include "sv.h"
#include "sv_upgrade.h"
#include "sv_init.h"

struct sv SV;
extern char **environ;

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void print_diags(const struct diags *d)
{
	for (int k = 0; k < d->n; k++) {
		char line[1024];
		fprintf(stderr, "%s\n", diag_format(&d->v[k], line, sizeof line));
	}
}

/* ----------------------------------------------------------- signals */

static void on_sigchld(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)l;
	(void)si;
	(void)ctx;
	sv_reap();
}

static void on_sigterm(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)l;
	(void)ctx;
	const char *sig = si->ssi_signo == SIGINT ? "INT" : "TERM";
	char why[96];
	if (SV.shutting_down == 0)
		snprintf(why, sizeof why, "SIG%s: stopping every service", sig);
	else
		snprintf(why, sizeof why, "second SIG%s: no more grace periods, SIGKILL", sig);
	sv_shutdown(SV.shutting_down > 0, why);
}

static void on_sighup(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)l;
	(void)si;
	(void)ctx;
	sv_log(LVL_INFO, NULL, "SIGHUP: reloading the config");
	sv_reload(NULL);
}

static void on_sigusr1(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)l;
	(void)si;
	(void)ctx;
	sv_log(LVL_INFO, NULL, "SIGUSR1: reopening log files");
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++)
			logsink_reopen(&SV.svcs[s]->inst[k]->log);
}

/* ------------------------------------------------------------ set-up */

/* A pipe or socket on stdout/stderr must never block PID 1: a reader that
 * stalls costs lines (counted), not supervision. A terminal or a file is
 * left as it is (O_NONBLOCK there would leak into the user's shell). */
static void nonblock_if_pipe(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int take_lock(void)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/lock", SV.state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "mls supervise: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		if (n > 0) {
			pid[n] = 0;
			pid[strcspn(pid, "\n")] = 0;
		}
		fprintf(stderr, "mls supervise: another supervisor%s%s runs with state_dir %s\n", n > 0 ? " (pid " : "",
			n > 0 ? strcat(pid, ")") : "", SV.state_dir);
		close(fd);
		return -1;
	}
	SV.lock_fd = fd;
	return 0;
}

static void write_pid(int fd, pid_t pid)
{
	char b[32];
	int n = snprintf(b, sizeof b, "%d\n", (int)pid);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, b, (size_t)n, 0) != n) {
		/* only informative */
	}
}

static void raise_nofile(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	SV.orig_nofile = (long long)r.rlim_cur;
	/* 2 fds per instance (output pipe) + readiness + clients */
	rlim_t want = r.rlim_max == RLIM_INFINITY || r.rlim_max > 65536 ? 65536 : r.rlim_max;
	if (r.rlim_cur < want) {
		r.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* -d: detach. The parent returns once the child is set up (the pipe
 * closes), so errors before that are printed where the user looks. */
static int daemonize(int *report)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* the child's messages go to STATE_DIR/mls.log: read it from its
	 * current end, so a failure after detaching is shown here too */
	char lp[4200];
	snprintf(lp, sizeof lp, "%s/mls.log", SV.state_dir);
	int lf = open(lp, O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
	if (lf >= 0)
		lseek(lf, 0, SEEK_END);
	pid_t pid = fork();
	if (pid < 0) {
		if (lf >= 0)
			close(lf);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		char c;
		ssize_t n = read(p[0], &c, 1);
		if (n == 1 && c == 'k')
			_exit(0);
		char b[4096];
		ssize_t r;
		while (lf >= 0 && (r = read(lf, b, sizeof b)) > 0)
			if (write(2, b, (size_t)r) != r)
				break;
		snprintf(lp, sizeof lp, "%s/mls.pid", SV.state_dir);
		unlink(lp); /* ours: the lock is held, the child is gone */
		_exit(1);
	}
	if (lf >= 0)
		close(lf);
	close(p[0]);
	setsid();
	if (fork() > 0)
		_exit(0);
	*report = p[1];
	return 0;
}

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "mls supervise: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	applet_usage("supervise", 1);
}

#define MAX_FILES 64

struct opts {
	const char *files[MAX_FILES];
	const char *profiles[MAX_FILES + 1]; /* NULL-terminated */
	int nfiles, nprof, daemon;
};

/* Returns 0, or 2 after a usage message */
static int parse_args(struct opts *o, int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		const char *w = argv[a];
		if ((!strcmp(w, "-c") || !strcmp(w, "--config")) && a + 1 < argc) {
			if (o->nfiles == MAX_FILES)
				return usage_error("too many -c", NULL), 2;
			o->files[o->nfiles++] = argv[++a];
		} else if (!strcmp(w, "--profile") && a + 1 < argc) {
			if (o->nprof == MAX_FILES)
				return usage_error("too many --profile", NULL), 2;
			o->profiles[o->nprof++] = argv[++a];
		} else if (!strcmp(w, "-d") || !strcmp(w, "--daemon"))
			o->daemon = 1;
		else if (sv_init_option(w))
			continue;
		else {
			usage_error("unknown option", w);
			return 2;
		}
	}
	if (!o->nfiles)
		o->files[o->nfiles++] = CONFIG_DEFAULT_FILE;
	o->profiles[o->nprof] = NULL;
	return 0;
}

/* state_dir and log_dir, fixed for the life of the process */
static int make_dirs(const struct config *cfg)
{
	SV.state_dir = strdup(cfg->state_dir ? cfg->state_dir : CONFIG_DEFAULT_STATE_DIR);
	SV.log_dir = cfg->log_dir ? strdup(cfg->log_dir) : NULL;
	if (!SV.state_dir || mkdir_p(SV.state_dir, 0755) < 0) {
		fprintf(stderr, "mls supervise: cannot create state_dir %s: %s\n",
			SV.state_dir ? SV.state_dir : "?", strerror(errno));
		return -1;
	}
	if (SV.log_dir && mkdir_p(SV.log_dir, 0755) < 0) {
		fprintf(stderr, "mls supervise: cannot create log_dir %s: %s\n", SV.log_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void state_file(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, "%s/%s", SV.state_dir, name);
}

/* -d: detached, stdio on STATE_DIR/mls.log, the pid in STATE_DIR/mls.pid */
static int detach(int *report)
{
	if (daemonize(report) < 0) {
		fprintf(stderr, "mls supervise: cannot detach: %s\n", strerror(errno));
		return -1;
	}
	char lp[4200];
	state_file(lp, sizeof lp, "mls.log");
	int fd = open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0)
		dup2(nul, 0);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if (nul > 2)
		close(nul);
	char pp[4200];
	state_file(pp, sizeof pp, "mls.pid");
	int pf = open(pp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (pf >= 0) {
		write_pid(pf, getpid());
		close(pf);
	}
	return 0;
}

/* Who may do what on the control socket (docs/protocol.md, "Who may do
 * what"). Root and our own uid (the socket's owner) everything. Anyone
 * else got through the socket's mode: with control_group it is 0660 for
 * that group, so a member, who gets what control_allow grants (read at
 * accept: a reload that changes it applies to connections made after
 * it). Without a group (at startup, or in the config now: a reload does
 * not change the socket's mode) read-only: no config granted anything,
 * and with 0600 only a process that may ignore file modes got in. */
static int ctl_group_set; /* the socket is 0660 for control_group */
static proto_perm ctl_authz(pid_t pid, uid_t uid, gid_t gid, void *ctx)
{
	(void)pid;
	(void)gid;
	(void)ctx;
	if (uid == 0 || uid == geteuid())
		return PROTO_PERM_ALL;
	if (!ctl_group_set || !SV.cfg->control_group)
		return PROTO_PERM_NONE;
	return SV.cfg->control_allow;
}

/* The control socket, 0600 or 0660 with control_group */
static int open_socket(const struct config *cfg)
{
	char sock[4200];
	state_file(sock, sizeof sock, PROTO_SOCKET_NAME);
	SV.sock_path = strdup(sock);
	long long gid = -1;
	if (cfg->control_group) {
		struct group *g = getgrnam(cfg->control_group);
		char *end;
		long v = strtol(cfg->control_group, &end, 10);
		if (g)
			gid = g->gr_gid;
		else if (!*end && v >= 0)
			gid = v;
		else
			fprintf(stderr, "mls supervise: control_group: no such group '%s' (the socket stays 0600)\n",
				cfg->control_group);
	}
	int lfd = sv_upgrade_listen_fd(); /* a live upgrade: the same socket, never re-bound */
	SV.ctl = lfd >= 0 ? ctlsrv_open_fd(SV.loop, sock, lfd, sv_ctl_handle, NULL) : NULL;
	if (!SV.ctl)
		SV.ctl = ctlsrv_open(SV.loop, sock, gid, sv_ctl_handle, NULL);
	if (!SV.ctl) {
		if (errno == EADDRINUSE)
			fprintf(stderr, "mls supervise: another supervisor answers on %s\n", sock);
		else
			fprintf(stderr, "mls supervise: cannot listen on %s: %s\n", sock, strerror(errno));
		return -1;
	}
	ctl_group_set = gid >= 0;
	ctlsrv_set_authz(SV.ctl, ctl_authz, NULL);
	/* test hook: a shorter idle timeout for control connections */
	if (getenv("MLS_TEST_CTL_IDLE_MS"))
		ctlsrv_set_idle_timeout(SV.ctl, atoi(getenv("MLS_TEST_CTL_IDLE_MS")));
	return 0;
}

/* The process as PID 1 or a subreaper; the loop and its signals */
static int setup_process(void)
{
	SV.pid = getpid();
	write_pid(SV.lock_fd, SV.pid);
	if (SV.pid != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	nonblock_if_pipe(1);
	nonblock_if_pipe(2);
	raise_nofile();
	SV.loop = loop_new();
	if (!SV.loop) {
		fprintf(stderr, "mls supervise: out of memory\n");
		return -1;
	}
	SV.start_ms = loop_now_ms();
	loop_add_signal(SV.loop, SIGCHLD, on_sigchld, NULL);
	loop_add_signal(SV.loop, SIGTERM, on_sigterm, NULL);
	loop_add_signal(SV.loop, SIGINT, on_sigterm, NULL);
	loop_add_signal(SV.loop, SIGHUP, on_sighup, NULL);
	loop_add_signal(SV.loop, SIGUSR1, on_sigusr1, NULL);
	if (!sv_init_active()) /* in init mode SIGUSR2 is poweroff (sv_init.c, docs/init.md) */
		loop_add_signal(SV.loop, SIGUSR2, sv_upgrade_on_sigusr2, NULL); /* see sv_upgrade.h */
	sv_init_signals(SV.loop); /* init mode: SIGUSR2, SIGTERM, SIGINT differ */
	return 0;
}

/* Until shutdown is over. A reconcile pass runs before every sleep when a
 * state changed; poll() failing (ENOMEM) must not kill PID 1. */
static void run(void)
{
	for (;;) {
		if (SV.reconcile_due)
			sv_reconcile();
		sdnotify_tick();
		if (SV.shutting_down && sv_all_down())
			break;
		if (loop_run_once(SV.loop, SV.reconcile_due ? 0 : -1) < 0 && errno != EINTR) {
			sv_log(LVL_ERROR, NULL, "poll: %s", strerror(errno));
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		sv_sweep();
	}
}

static int supervise(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_args(&o, argc, argv);
	if (rc)
		return rc;
	memset(&SV, 0, sizeof SV);
	int up = sv_upgrade_begin(argc, argv); /* 1: exec'd by a live upgrade (docs/upgrade.md) */
	if (up == 3)
		return 1;
	SV.files = o.files;
	SV.nfiles = o.nfiles;
	SV.profiles = o.nprof ? o.profiles : NULL;
	sdnotify_init(); /* before environ is shared with services */
	SV.environ_base = environ;
	SV.lock_fd = -1;
	SV.journal.fd = -1;
	SV.level = LVL_INFO;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	SV.test_hooks = getenv("MLS_TEST_CLOCK") && !strcmp(getenv("MLS_TEST_CLOCK"), "1");
	/* for health checks run as `mls health` (https, host names) */
	char exe[4096];
	ssize_t xn = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (xn > 0) {
		exe[xn] = 0;
		SV.self_exe = strdup(exe);
	}
	sv_init_early(up == 1); /* PID 1 of the machine: /proc, /dev, ... (docs/init.md); 1 after a live upgrade */
	if (o.daemon && sv_init_active()) { /* detaching would end PID 1: a kernel panic */
		sv_log(LVL_WARN, NULL, "-d: ignored in init mode (PID 1 never detaches)");
		o.daemon = 0;
	}

	/* cgroup v2 for the instances, when mls may write it (docs/cgroups.md) */
	cgroup_init(&SV.cg, getenv("MLS_CGROUP_MOUNT"));

	struct diags d = { 0 };
	struct config *cfg;
	if (sv_load(&cfg, &d) && !(cfg = sv_upgrade_bad_config(&d))) {
		print_diags(&d);
		fprintf(stderr, "mls supervise: invalid config, not starting (%d error%s)\n", d.errors,
			d.errors == 1 ? "" : "s");
		diags_free(&d);
		return 1;
	}
	print_diags(&d); /* warnings */
	diags_free(&d);
	if (up == 2) { /* the check run of an upgrade: state and config read */
		config_free(cfg);
		free(cfg);
		return 0;
	}
	sv_init_config(cfg);
	/* config_git: the last applied revision's file, when it is there
	 * (docs/git-deploy.md); if it no longer loads, the files alone */
	if (cfg->config_git.url) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof p, "%s/git/.config/current/%s", cfg->state_dir ? cfg->state_dir : CONFIG_DEFAULT_STATE_DIR,
			cfg->config_git.path);
		struct config *gcfg;
		if (stat(p, &st) == 0 && (SV.git_config = strdup(p))) {
			if (sv_load(&gcfg, &d) == 0) {
				config_free(cfg);
				free(cfg);
				cfg = gcfg;
			} else {
				print_diags(&d);
				fprintf(stderr, "mls supervise: %s (config_git) is invalid: running on the files alone\n", p);
				free(SV.git_config);
				SV.git_config = NULL;
			}
			diags_free(&d);
		}
	}
	int report = -1;
	if (make_dirs(cfg) < 0 || (up ? sv_upgrade_lock() : take_lock()) < 0 || (o.daemon && !up && detach(&report) < 0) || setup_process() < 0 ||
	    open_socket(cfg) < 0)
		return 1;

	SV.level = cfg->log_level;
	SV.format = cfg->log_format;
	sv_log(LVL_INFO, NULL, "mls %s supervise starting, pid %d, %d service%s, state_dir %s", MLS_VERSION, (int)SV.pid,
		cfg->nsvcs, cfg->nsvcs == 1 ? "" : "s", SV.state_dir);
	if (SV.cg.ok) {
		char names[64];
		sv_log(LVL_INFO, NULL, "cgroups: each instance in %s/NAME.N (controllers: %s)", SV.cg.base,
			cgroup_ctrl_names(SV.cg.ctrl, names, sizeof names));
	} else
		sv_log(LVL_DEBUG, NULL, "cgroups: not used (%s): limits are rlimits", SV.cg.why);
	sv_apply(cfg, NULL);
	if (up)
		sv_upgrade_adopt();
	else
		sv_journal_replay();
	sv_emit_supervisor(up ? "upgrade" : "start");
	sv_watch_files();
	sv_reconcile();
	if (report >= 0) {
		if (write(report, "k", 1) != 1) {
			/* the parent exits 1; we go on */
		}
		close(report);
	}
	run();
	for (int s = 0; SV.cg.ok && s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++)
			child_cgroup_remove(SV.svcs[s]->inst[k]);
	if (SV.cg.ok)
		rmdir(SV.cg.base); /* fails while another mls uses it: fine */
	sv_log(LVL_INFO, NULL, "all services stopped, exiting with status %d", SV.exit_status);
	sv_emit_supervisor("stop");
	journal_close(&SV.journal);
	ctlsrv_close(SV.ctl);
	if (o.daemon) {
		char pp[4200];
		state_file(pp, sizeof pp, "mls.pid");
		unlink(pp);
	}
	return SV.exit_status;
}

int supervise_main(int argc, char **argv)
{
	int rc = supervise(argc, argv);
	sv_init_finish(rc); /* init mode: the last steps and reboot(2), no return */
	return rc;
}
