/* docker.h: a service with `image:` or `build:` (docs/docker.md) runs
 * `mls docker-run`, which drives the Docker CLI (or podman's, which takes
 * the same arguments): these are its pieces that need no process, shared
 * by the wrapper, supervise (is the CLI there before a start?) and
 * validate. Nothing here prints or exits. */
#ifndef MLS_DOCKER_H
#define MLS_DOCKER_H

#include <stddef.h>

#define DOCKER_MAX_ENV  256 /* -e KEY options of one run (environment and env_file names) */
#define DOCKER_MAX_CMD  256 /* words of the container's command */
/* argv of `CLI run`: CLI run --rm --init=false --name N --stop-signal S
 * -p P:P (10), then -e K pairs (PORT, MLS_SERVICE, MLS_INSTANCE and
 * DOCKER_MAX_ENV more), the image, the command, NULL */
#define DOCKER_MAX_ARGV (10 + 2 * (3 + DOCKER_MAX_ENV) + 1 + DOCKER_MAX_CMD + 1)
#define DOCKER_EXIT_NO_CLI 127 /* mls docker-run: no CLI found */

/* What `CLI run` is given */
struct docker_run {
	const char *cli;          /* the program: a path, or a name for PATH */
	const char *name;         /* the container's: mls-SERVICE-N */
	const char *image;
	const char *port;         /* published as PORT:PORT with -e PORT; NULL: none */
	const char *stop_signal;  /* --stop-signal; NULL: the image's (TERM) */
	const char *const *env;   /* names passed with -e (values from our environment) */
	int nenv;
	char *const *cmd;         /* the container's command; ncmd 0: the image's */
	int ncmd;
};

/* The CLI: `want` (a path, or a name looked up in `path`), else docker,
 * else podman in `path` (a PATH value; NULL: the usual directories).
 * Its path goes to out. Returns 0, or -1 when none is an executable file. */
int docker_find_cli(const char *want, const char *path, char *out, size_t outsz);

/* The argv of `CLI run --rm --init=false --name NAME [--stop-signal SIG]
 * [-p PORT:PORT -e PORT] -e MLS_SERVICE -e MLS_INSTANCE [-e KEY]... IMAGE
 * [CMD...]` into argv[0..max): argv[0] is r->cli; portmap (at least 16
 * bytes) holds "PORT:PORT". Returns argc, or -1 when it does not fit (or a
 * port is longer than 5 digits). */
int docker_run_argv(const struct docker_run *r, const char **argv, int max, char *portmap, size_t pmsz);

#endif
