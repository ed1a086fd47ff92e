/* svcexec.h: what one instance of a service is started with: argv,
 * environment and the spawn request. Shared by supervise and `ctl run`, so
 * both start a service the same way.
 *
 * Environment = base (mls's own environ) + each env_file (read now, at
 * every start: KEY=VALUE lines, '#' comments, blank lines, optional
 * "export ", single or double quotes stripped) + `environment` + MLS_SERVICE,
 * MLS_INSTANCE (1-based), PORT (when the service has a port) and
 * WATCHDOG_USEC and WATCHDOG_PID (the child's own pid, written by it
 * before the exec: spawn_req.pid_var) when it has a watchdog. Later
 * entries replace earlier ones of the same name. ${PORT}, ${MLS_INSTANCE},
 * ${MLS_SERVICE} and $$ (kept by the loader) are expanded here, in the
 * command, the environment values and working_dir.
 *
 * Nothing here prints or exits. */
#ifndef MLS_SVCEXEC_H
#define MLS_SVCEXEC_H

#include "config.h"
#include "spawn.h"

#define SVCEXEC_MAX_ENV 4096         /* variables */
#define SVCEXEC_MAX_ENV_FILE (1u << 20) /* bytes per env_file */

struct svcexec {
	char **argv;  /* NULL-terminated */
	char **envp;  /* NULL-terminated */
	char *dir;
	struct spawn_user user;
	/* everything above lives in one malloc'd block list; free with svcexec_free */
	void *mem;
};

/* Build for instance `inst` (1-based) with `port` (0 = none) from base
 * environment `base` (NULL-terminated, e.g. environ). Returns 0, or -1 with
 * a message in err ("env_file /x: No such file or directory", "no such
 * user 'bob'", "${PORT}: ..."). */
int svcexec_build(struct svcexec *x, const struct service *s, int inst,
	int port, char *const *base, char *err, size_t errsz);

/* Fill a spawn request (argv, envp, dir, user, limits, nice) from x and s;
 * the caller sets the fds. */
void svcexec_req(const struct svcexec *x, const struct service *s,
	struct spawn_req *r);

/* Same for a hook command (pre_start/post_stop): its argv with the
 * instance's environment. Returns 0 or -1 with err. */
int svcexec_build_cmd(struct svcexec *x, const struct command *cmd,
	const struct service *s, int inst, int port, char *const *base,
	char *err, size_t errsz);

void svcexec_free(struct svcexec *x);

/* What one env_file sets, read as svcexec_build reads it: x->envp gets
 * its KEY=VALUE entries (NULL-terminated; nothing else of x is set; free
 * with svcexec_free). For mls docker-run, which passes their names to the
 * container. Returns 0, or -1 with err. */
int svcexec_env_file(struct svcexec *x, const char *path, char *err, size_t errsz);

/* One value (a health check's URL or HOST:PORT) with ${PORT},
 * ${MLS_INSTANCE}, ${MLS_SERVICE} and $$ expanded for the instance: a
 * malloc'd string, or NULL with a message in err. */
char *svcexec_expand(const char *in, const struct service *s, int inst, int port, char *err, size_t errsz);

#endif
