/* ctl_run.c: `mls ctl run NAME[.N] [-c FILE]...`: start one instance of a
 * service in the foreground, the way supervise would (same environment,
 * working dir, user, limits: lib/svcexec.h), without a supervisor. mls
 * becomes the program (exec), so its exit status is the program's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config.h"
#include "ctl.h"
#include "parse.h"
#include "spawn.h"
#include "svcexec.h"

#define RUN_MAX_ARGS 256

extern char **environ;

struct run_opts {
	const char *files[RUN_MAX_ARGS + 1];
	const char *profiles[RUN_MAX_ARGS + 1];
	int nfiles, nprofiles;
	const char *name;
};

static int run_args(int argc, char **argv, struct run_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		int is_c = !strcmp(a, "-c") || !strcmp(a, "--config");
		if (is_c || !strcmp(a, "--profile")) {
			if (i + 1 >= argc)
				return ctl_usage("%s needs a value", a);
			val = argv[++i];
		} else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--profile=", 10)) {
			val = strchr(a, '=') + 1;
			is_c = a[2] == 'c';
		} else if (a[0] == '-' && a[1])
			return ctl_usage("run: unknown option '%s'", a);
		if (!val) {
			if (o->name)
				return ctl_usage("run takes one NAME");
			o->name = a;
		} else if ((is_c ? o->nfiles : o->nprofiles) == RUN_MAX_ARGS)
			return ctl_usage("more than %d -c or --profile", RUN_MAX_ARGS);
		else if (is_c)
			o->files[o->nfiles++] = val;
		else
			o->profiles[o->nprofiles++] = val;
	}
	if (!o->name)
		return ctl_usage("run needs a NAME (or NAME.N for instance N)");
	if (!o->nfiles) {
		const char *env = getenv("MLS_CONFIG");
		o->files[o->nfiles++] = env && *env ? env : CONFIG_DEFAULT_FILE;
	}
	return 0;
}

static int load(struct config *cfg, const struct run_opts *o)
{
	struct diags d = { 0 };
	struct config_opts co = {
		.profiles = o->nprofiles ? o->profiles : NULL,
		.unsupported = DIAG_WARNING,
	};
	int rc = config_load(cfg, o->files, o->nfiles, &co, &d);
	diag_sort(&d);
	for (int i = 0; i < d.n; i++) {
		char buf[2048];
		if (d.v[i].sev == DIAG_ERROR)
			fprintf(stderr, "%s\n", diag_format(&d.v[i], buf, sizeof buf));
	}
	if (rc || d.errors || d.io_error) {
		fprintf(stderr, "mls ctl run: the config is invalid (%d error%s; mls validate shows them all)\n",
			d.errors, d.errors == 1 ? "" : "s");
		rc = -1;
	}
	diags_free(&d);
	return rc;
}

/* NAME or NAME.N (service names have no dots) */
static const struct service *find_service(const struct config *cfg, const char *arg, int *inst)
{
	char name[CONFIG_NAME_MAX + 1];
	const char *dot = strchr(arg, '.');
	size_t n = dot ? (size_t)(dot - arg) : strlen(arg);
	int64_t v = 1;
	if (n > CONFIG_NAME_MAX || (dot && parse_int(dot + 1, 1, CONFIG_MAX_REPLICAS, &v))) {
		fprintf(stderr, "mls ctl run: '%s' is not NAME or NAME.N\n", arg);
		return NULL;
	}
	memcpy(name, arg, n);
	name[n] = 0;
	const struct service *s = config_find(cfg, name);
	if (!s) {
		const char *best = NULL;
		for (int i = 0, bd = 3; i < cfg->nsvcs; i++) {
			int d = edit_distance(name, cfg->svcs[i].name, 2);
			if (d < bd)
				bd = d, best = cfg->svcs[i].name;
		}
		fprintf(stderr, "mls ctl run: no such service: %s%s%s%s\n", name,
			best ? " (did you mean " : "", best ? best : "", best ? "?)" : "");
		return NULL;
	}
	if (v > s->replicas) {
		fprintf(stderr, "mls ctl run: %s has %d instance%s; no instance %d\n",
			s->name, s->replicas, s->replicas == 1 ? "" : "s", (int)v);
		return NULL;
	}
	*inst = (int)v;
	return s;
}

/* port: auto -> a port free right now on 127.0.0.1 (the kernel's pick) */
static int pick_port(const struct service *s, int inst)
{
	if (s->port == PORT_NONE)
		return 0;
	if (s->port > 0)
		return s->port + inst - 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	if (port)
		fprintf(stderr, "mls ctl run: port: auto; PORT=%d\n", port);
	else
		fprintf(stderr, "mls ctl run: port: auto, but no free port found; PORT is not set\n");
	return port;
}

int ctl_run(const struct ctl *c, int argc, char **argv)
{
	(void)c;
	static struct run_opts o;
	int rc = run_args(argc, argv, &o), inst = 1;
	if (rc)
		return rc;
	struct config cfg;
	if (load(&cfg, &o)) {
		config_free(&cfg);
		return CTL_FAIL;
	}
	const struct service *s = find_service(&cfg, o.name, &inst);
	if (!s) {
		config_free(&cfg);
		return CTL_FAIL;
	}
	if (!s->active)
		fprintf(stderr, "mls ctl run: note: %s is not in the active profiles; running it anyway\n", s->name);
	struct svcexec x;
	char err[512];
	if (svcexec_build(&x, s, inst, pick_port(s, inst), environ, err, sizeof err)) {
		fprintf(stderr, "mls ctl run: %s.%d: %s\n", s->name, inst, err);
		config_free(&cfg);
		return CTL_FAIL;
	}
	struct spawn_req r;
	const char *step = "exec";
	spawn_req_init(&r);
	svcexec_req(&x, s, &r);
	r.in_fd = 0;       /* the terminal's stdin */
	r.out_fd = 1;      /* stdout */
	r.err_fd = 2;      /* and stderr, kept apart */
	r.keep_session = 1;
	if (s->docker)
		r.path = "/proc/self/exe"; /* mls docker-run: this binary */
	fflush(stdout);
	fflush(stderr);
	spawn_exec_here(&r, &step);
	int e = errno;
	if (!strcmp(step, "exec"))
		fprintf(stderr, "mls ctl run: %s.%d: cannot exec '%s': %s\n", s->name, inst, x.argv[0], strerror(e));
	else
		fprintf(stderr, "mls ctl run: %s.%d: cannot %s: %s\n", s->name, inst, step, strerror(e));
	svcexec_free(&x);
	config_free(&cfg);
	if (!strcmp(step, "exec"))
		return e == ENOENT ? SPAWN_EXIT_NOENT : SPAWN_EXIT_EXEC;
	return SPAWN_EXIT_PRE_EXEC;
}
