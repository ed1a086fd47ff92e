/* docker.c: finding the Docker CLI and building `CLI run`'s argv; the
 * contract is in docker.h. */
#include "docker.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int executable(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* name in the directories of path */
static int in_path(const char *name, const char *path, char *out, size_t outsz)
{
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
	while (*path) {
		size_t n = strcspn(path, ":");
		int w = snprintf(out, outsz, "%.*s/%s", (int)n, n ? path : ".", name);
		if (w > 0 && (size_t)w < outsz && executable(out))
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

int docker_find_cli(const char *want, const char *path, char *out, size_t outsz)
{
	if (want && *want) {
		if (!strchr(want, '/'))
			return in_path(want, path, out, outsz);
		if ((size_t)snprintf(out, outsz, "%s", want) >= outsz)
			return -1;
		return executable(out) ? 0 : -1;
	}
	return in_path("docker", path, out, outsz) == 0 ? 0 : in_path("podman", path, out, outsz);
}

int docker_run_argv(const struct docker_run *r, const char **argv, int max, char *portmap, size_t pmsz)
{
	int n = 0;
#define ADD(s) do { if (n >= max - 1) return -1; argv[n++] = (s); } while (0)
	ADD(r->cli);
	ADD("run");
	ADD("--rm");
	/* the image's own entrypoint is PID 1 in it, as without mls */
	ADD("--init=false");
	ADD("--name");
	ADD(r->name);
	if (r->stop_signal) {
		ADD("--stop-signal");
		ADD(r->stop_signal);
	}
	if (r->port) {
		if (strlen(r->port) > 5 || pmsz < 16)
			return -1;
		snprintf(portmap, pmsz, "%s:%s", r->port, r->port);
		ADD("-p");
		ADD(portmap);
		ADD("-e");
		ADD("PORT");
	}
	ADD("-e");
	ADD("MLS_SERVICE");
	ADD("-e");
	ADD("MLS_INSTANCE");
	for (int k = 0; k < r->nenv; k++) {
		ADD("-e");
		ADD(r->env[k]);
	}
	ADD(r->image);
	for (int k = 0; k < r->ncmd; k++)
		ADD(r->cmd[k]);
#undef ADD
	argv[n] = NULL;
	return n;
}
