/* Unit tests for lib/docker.c: `CLI run`'s argv and finding the CLI.
 * Output is TAP; exit status 1 if any failed. */
#include "docker.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* argv joined by spaces */
static const char *joined(const char **v)
{
	static char buf[4096];
	size_t n = 0;
	buf[0] = 0;
	for (int k = 0; v[k] && n < sizeof buf; k++)
		n += snprintf(buf + n, sizeof buf - n, "%s%s", k ? " " : "", v[k]);
	return buf;
}

static char dir[] = "/tmp/mls-docker-XXXXXX";

static void put(const char *name, int mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f)
		fclose(f);
	chmod(p, mode);
}

int main(void)
{
	const char *argv[DOCKER_MAX_ARGV], *env[] = { "A", "B" };
	char *cmd[] = { "serve", "--port", "8080" }, pm[16];
	struct docker_run r = { "/bin/docker", "mls-web-1", "nginx:1", "8080", NULL, env, 2, cmd, 3 };
	int n = docker_run_argv(&r, argv, DOCKER_MAX_ARGV, pm, sizeof pm);
	tap_ok(n == 22 && !strcmp(joined(argv), "/bin/docker run --rm --init=false --name mls-web-1 -p 8080:8080 -e PORT "
		"-e MLS_SERVICE -e MLS_INSTANCE -e A -e B nginx:1 serve --port 8080"), __LINE__, "full: %s", joined(argv));
	r = (struct docker_run){ "podman", "mls-b-2", "mls-b", NULL, "2", NULL, 0, NULL, 0 };
	n = docker_run_argv(&r, argv, DOCKER_MAX_ARGV, pm, sizeof pm);
	tap_ok(n == 13 && !strcmp(joined(argv), "podman run --rm --init=false --name mls-b-2 --stop-signal 2 "
		"-e MLS_SERVICE -e MLS_INSTANCE mls-b"), __LINE__, "no port, no command, a stop signal: %s", joined(argv));
	tap_ok(docker_run_argv(&r, argv, 13, pm, sizeof pm) == -1, __LINE__, "one slot short: -1");
	tap_ok(docker_run_argv(&r, argv, 14, pm, sizeof pm) == 13, __LINE__, "exactly enough: fits");
	r.port = "123456";
	tap_ok(docker_run_argv(&r, argv, DOCKER_MAX_ARGV, pm, sizeof pm) == -1, __LINE__, "a port of six digits: -1");
	/* the largest: every env and command slot used */
	static const char *many[DOCKER_MAX_ENV];
	static char *words[DOCKER_MAX_CMD];
	for (int k = 0; k < DOCKER_MAX_ENV; k++)
		many[k] = "K";
	for (int k = 0; k < DOCKER_MAX_CMD; k++)
		words[k] = "w";
	r = (struct docker_run){ "docker", "n", "i", "1", "TERM", many, DOCKER_MAX_ENV, words, DOCKER_MAX_CMD };
	tap_ok(docker_run_argv(&r, argv, DOCKER_MAX_ARGV, pm, sizeof pm) == DOCKER_MAX_ARGV - 1, __LINE__,
		"DOCKER_MAX_ARGV holds the largest run");

	char out[512], want[512];
	if (!mkdtemp(dir))
		return 1;
	put("docker", 0755);
	put("podman", 0755);
	put("plain", 0644);
	char path[300];
	snprintf(path, sizeof path, "/nonexistent:%s", dir);
	snprintf(want, sizeof want, "%s/docker", dir);
	tap_ok(docker_find_cli(NULL, path, out, sizeof out) == 0 && !strcmp(out, want), __LINE__, "docker first: %s", out);
	snprintf(want, sizeof want, "%s/podman", dir);
	tap_ok(docker_find_cli("podman", path, out, sizeof out) == 0 && !strcmp(out, want), __LINE__, "a name: %s", out);
	tap_ok(docker_find_cli(want, "/nonexistent", out, sizeof out) == 0 && !strcmp(out, want), __LINE__, "a path");
	snprintf(want, sizeof want, "%s/docker", dir);
	unlink(want);
	snprintf(want, sizeof want, "%s/podman", dir);
	tap_ok(docker_find_cli(NULL, path, out, sizeof out) == 0 && !strcmp(out, want), __LINE__, "no docker: podman");
	tap_ok(docker_find_cli("plain", path, out, sizeof out) == -1, __LINE__, "not executable: -1");
	tap_ok(docker_find_cli(NULL, "/nonexistent", out, sizeof out) == -1, __LINE__, "neither: -1");
	char cmdl[300];
	snprintf(cmdl, sizeof cmdl, "rm -rf %s", dir);
	if (system(cmdl)) {
	}
	return tap_done();
}
