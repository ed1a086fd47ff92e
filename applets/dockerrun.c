/* mls docker-run: one container of a service with `image:` or `build:`,
 * run by supervise in the instance's place (docs/docker.md). It stays the
 * parent of the `CLI run` process, so supervise's signals, logs and exit
 * codes keep their meaning:
 *
 *   CLI rm -f NAME                 a container left by a crashed run (output dropped)
 *   CLI build -t IMAGE DIR         with --build (output to the log; failure ends here)
 *   CLI run --rm --init=false ...  in its own process group, killed if we die
 *
 * A stop signal (TERM, INT, or --stop-signal's) runs `CLI stop -t SECS
 * NAME` once; HUP, USR1, USR2 and QUIT go to the run CLI, which passes
 * them to the container. The exit status is the run's (128 + N when it
 * was killed by signal N). Signals are read from a signalfd: no handler,
 * no thread, no polling. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "applets.h"
#include "docker.h"
#include "parse.h"
#include "svcexec.h"

#define ME "mls docker-run"

static sigset_t orig_mask;
static int sfd = -1;
static int stop_sig;             /* --stop-signal, 0: none */
static const char *cli, *name, *stop_secs = "10";

enum quiet { Q_NONE, Q_STDOUT, Q_ALL };

/* Start argv[0] (a path) with our mask restored; own: in its own process
 * group (supervise's signals reach us only) and killed when we die */
static pid_t start(const char *const *argv, enum quiet q, int own)
{
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		fprintf(stderr, ME ": fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid)
		return pid;
	if (own) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	if (q != Q_NONE) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			if (q == Q_ALL)
				dup2(fd, 2);
		}
	}
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, ME ": cannot exec %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int is_stop(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == stop_sig;
}

/* Wait for pid, serving signals meanwhile; *stopped set when a stop
 * signal came. run: pid is `CLI run` (else rm or build: no container
 * yet, a stop ends it). Returns its wait status. */
static int wait_for(pid_t pid, int run, int *stopped)
{
	int stop_sent = 0;
	for (;;) {
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, ME ": cannot read signals: %s\n", strerror(errno));
			exit(1);
		}
		int sig = (int)si.ssi_signo, st;
		if (sig == SIGCHLD) {
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0)
				if (p == pid)
					return st;
		} else if (is_stop(sig)) {
			*stopped = sig;
			if (!run)
				kill(pid, SIGTERM);
			else if (!stop_sent++)
				start((const char *const[]){ cli, "stop", "-t", stop_secs, name, NULL }, Q_STDOUT, 0);
		} else if (run) {
			kill(pid, sig);
		}
	}
}

static int code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

/* name not already in v[0..n) */
static int add_env(const char **v, int *n, const char *k)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(v[i], k))
			return 0;
	if (*n >= DOCKER_MAX_ENV) {
		fprintf(stderr, ME ": more than %d variables for the container\n", DOCKER_MAX_ENV);
		return -1;
	}
	v[(*n)++] = k;
	return 0;
}

/* The names an env_file sets (copied: the file's entries are freed) */
static int env_file_names(const char *path, const char **v, int *n)
{
	struct svcexec x;
	char err[512];
	if (svcexec_env_file(&x, path, err, sizeof err)) {
		fprintf(stderr, ME ": %s\n", err);
		return -1;
	}
	int rc = 0;
	for (char **e = x.envp; *e && !rc; e++) {
		char *k = strndup(*e, strcspn(*e, "="));
		rc = !k || add_env(v, n, k);
	}
	svcexec_free(&x);
	return rc ? -1 : 0;
}

int docker_run_main(int argc, char **argv)
{
	static const char *env[DOCKER_MAX_ENV];
	struct docker_run r = { .env = env };
	const char *want = NULL, *build = NULL;
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!v)
			return applet_usage("docker-run", 1);
		i++;
		if (!strcmp(a, "--name"))
			name = v;
		else if (!strcmp(a, "--image"))
			r.image = v;
		else if (!strcmp(a, "--build"))
			build = v;
		else if (!strcmp(a, "--port"))
			r.port = v;
		else if (!strcmp(a, "--stop-timeout"))
			stop_secs = v;
		else if (!strcmp(a, "--stop-signal")) {
			r.stop_signal = v;
			if (parse_signal(v, &stop_sig)) {
				fprintf(stderr, ME ": unknown signal '%s'\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--cli"))
			want = v;
		else if (!strcmp(a, "-e")) {
			if (add_env(env, &r.nenv, v))
				return 2;
		} else if (!strcmp(a, "--env-file")) {
			if (env_file_names(v, env, &r.nenv))
				return 1;
		} else
			return applet_usage("docker-run", 1);
	}
	if (!name || !r.image || argc - i > DOCKER_MAX_CMD)
		return applet_usage("docker-run", 1);
	r.name = name;
	r.cmd = argv + i;
	r.ncmd = argc - i;

	static char path[PATH_MAX];
	if (docker_find_cli(want, getenv("PATH"), path, sizeof path)) {
		fprintf(stderr, ME ": docker CLI not found (%s%s)\n", want ? want : "docker or podman in PATH",
			want && !strchr(want, '/') ? " in PATH" : "");
		return DOCKER_EXIT_NO_CLI;
	}
	cli = r.cli = path;

	sigset_t set;
	sigemptyset(&set);
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, stop_sig };
	for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
		if (sigs[k] > 0)
			sigaddset(&set, sigs[k]);
	sigprocmask(SIG_BLOCK, &set, &orig_mask);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, ME ": signalfd: %s\n", strerror(errno));
		return 1;
	}

	int st, stopped = 0;
	/* a container of this name from a run that died with us */
	st = wait_for(start((const char *const[]){ cli, "rm", "-f", name, NULL }, Q_ALL, 0), 0, &stopped);
	if (!stopped && build) {
		st = wait_for(start((const char *const[]){ cli, "build", "-t", r.image, build, NULL }, Q_NONE, 0), 0,
			&stopped);
		if (!stopped && code(st)) {
			fprintf(stderr, ME ": %s build -t %s %s failed: exit status %d\n", cli, r.image, build, code(st));
			return code(st);
		}
	}
	if (stopped)
		return 128 + stopped;

	const char *rargv[DOCKER_MAX_ARGV];
	char portmap[16];
	if (docker_run_argv(&r, rargv, DOCKER_MAX_ARGV, portmap, sizeof portmap) < 0) {
		fprintf(stderr, ME ": too many arguments for %s run\n", cli);
		return 2;
	}
	return code(wait_for(start(rargv, Q_NONE, 1), 1, &stopped));
}
