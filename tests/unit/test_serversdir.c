/* Unit tests for lib/serversdir.c (servers_dir entries: names, kinds,
 * fingerprints), on real files in a temporary directory. Output is TAP. */
#include "serversdir.h"
#include "tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	int line;
	const char *entry;
	int isdir;
	const char *want; /* NULL: no name can be made */
} name_cases[] = {
	{ __LINE__, "app.py", 0, "app" },
	{ __LINE__, "App.PY", 0, "app" },
	{ __LINE__, "my server.sh", 0, "my-server" },
	{ __LINE__, "web.v2.py", 0, "web-v2" },           /* only the last extension goes */
	{ __LINE__, "api.v2", 1, "api-v2" },              /* a directory keeps its whole name */
	{ __LINE__, "_private.py", 0, "private" },        /* a name starts with a letter or digit */
	{ __LINE__, "--x", 0, "x" },
	{ __LINE__, "tool", 0, "tool" },
	{ __LINE__, "Ünïcode.py", 0, "n--code" },         /* each byte outside [a-z0-9_-] is '-' */
	{ __LINE__, "___.py", 0, NULL },
	{ __LINE__, "a_b-c", 0, "a_b-c" },
	{ __LINE__, "9lives", 0, "9lives" },
	{ __LINE__, "0123456789012345678901234567890123456789012345678901234567890123456789.py", 0,
	  "012345678901234567890123456789012345678901234567890123456789012" }, /* cut to 63 */
};

static const struct {
	int line;
	const char *name;
	int want;
} ignore_cases[] = {
	{ __LINE__, ".hidden", 1 },
	{ __LINE__, ".#app.py", 1 },     /* emacs lock */
	{ __LINE__, "app.py~", 1 },
	{ __LINE__, "app.py.swp", 1 },
	{ __LINE__, "app.swo", 1 },
	{ __LINE__, "4913.swx", 1 },
	{ __LINE__, "app.tmp", 1 },
	{ __LINE__, "app.bak", 1 },
	{ __LINE__, "app.orig", 1 },
	{ __LINE__, "app.py.disabled", 1 },
	{ __LINE__, "app.py", 0 },
	{ __LINE__, "README.md", 0 },    /* not ignored by name: classified (not executable) */
	{ __LINE__, "swp", 0 },
};

static int interp(const char *ext, void *ctx)
{
	(void)ctx;
	return !strcmp(ext, ".py") || !strcmp(ext, ".rb");
}

static char dir[64];

static void put(const char *name, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(p);
		exit(1);
	}
	close(fd);
	chmod(p, mode);
}

static void sub(const char *name)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	mkdir(p, 0755);
}

static enum srv_kind kind_of(const char *name, uint64_t *stamp, char *why)
{
	return srv_classify(dir, name, interp, NULL, stamp, why, 200);
}

int main(void)
{
	char out[64];
	for (size_t i = 0; i < sizeof name_cases / sizeof *name_cases; i++) {
		int rc = srv_service_name(name_cases[i].entry, name_cases[i].isdir, out, sizeof out);
		const char *w = name_cases[i].want;
		tap_ok(w ? rc == 0 && !strcmp(out, w) : rc == -1 && !*out, name_cases[i].line, "name of '%s' is %s (got '%s')",
		       name_cases[i].entry, w ? w : "none", out);
	}
	char tiny[4];
	tap_ok(srv_service_name("abcdef", 0, tiny, sizeof tiny) == 0 && !strcmp(tiny, "abc"), __LINE__,
	       "a small buffer is filled, NUL-terminated");
	for (size_t i = 0; i < sizeof ignore_cases / sizeof *ignore_cases; i++)
		tap_ok(srv_ignored_name(ignore_cases[i].name) == ignore_cases[i].want, ignore_cases[i].line,
		       "'%s' is %s by name", ignore_cases[i].name, ignore_cases[i].want ? "ignored" : "not ignored");

	snprintf(dir, sizeof dir, "/tmp/mls-srvtest.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	put("app.py", "print(1)\n", 0644);
	put("tool", "#!/bin/sh\n", 0755);
	put("exec.py", "#!/usr/bin/env python3\n", 0755);
	put("README.md", "x\n", 0644);
	put("notes", "x\n", 0644);
	sub("yml");
	put("yml/mls.yaml", "command: x\n", 0644);
	put("yml/run", "#!/bin/sh\n", 0755);
	sub("ax");
	put("ax/autoexec.txt", "# entry\nmain.py --flag\n", 0644);
	put("ax/main.py", "print(1)\n", 0644);
	sub("dk");
	put("dk/Dockerfile", "FROM scratch\n", 0644);
	sub("dk/src");
	put("dk/src/a.c", "int x;\n", 0644);
	sub("rn");
	put("rn/run", "#!/bin/sh\n", 0755);
	sub("rx");
	put("rx/run", "#!/bin/sh\n", 0644);
	sub("empty");
	char p[256];
	snprintf(p, sizeof p, "%s/dangling", dir);
	if (symlink("/nonexistent/x", p))
		perror("symlink");

	static const struct {
		int line;
		const char *name;
		enum srv_kind want;
		const char *why;
	} kinds[] = {
		{ __LINE__, "app.py", SRV_SCRIPT, NULL },
		{ __LINE__, "tool", SRV_EXEC, NULL },
		{ __LINE__, "exec.py", SRV_SCRIPT, NULL }, /* the extension wins over the exec bit */
		{ __LINE__, "README.md", SRV_SKIP, "not executable, and no interpreter for '.md'" },
		{ __LINE__, "notes", SRV_SKIP, "not executable" },
		{ __LINE__, "yml", SRV_YAML, NULL },       /* mls.yaml wins over run */
		{ __LINE__, "ax", SRV_AUTOEXEC, NULL },
		{ __LINE__, "dk", SRV_DOCKER, NULL },
		{ __LINE__, "rn", SRV_RUN, NULL },
		{ __LINE__, "rx", SRV_SKIP, "a directory with no mls.yaml" }, /* run not executable */
		{ __LINE__, "empty", SRV_SKIP, "a directory with no mls.yaml" },
		{ __LINE__, "dangling", SRV_SKIP, "cannot be read" },
		{ __LINE__, ".hidden", SRV_SKIP, "hidden" },
	};
	uint64_t st[sizeof kinds / sizeof *kinds];
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		char why[200];
		enum srv_kind k = kind_of(kinds[i].name, &st[i], why);
		tap_ok(k == kinds[i].want && (!kinds[i].why || strstr(why, kinds[i].why)), kinds[i].line,
		       "'%s' is %s (got %s: %s)", kinds[i].name, srv_kind_name(kinds[i].want), srv_kind_name(k), why);
	}

	/* fingerprints: unchanged when nothing changed; changed by what
	 * the service runs, not by other files */
	uint64_t a, b;
	char why[200];
	kind_of("app.py", &a, why);
	kind_of("app.py", &b, why);
	tap_ok(a == b, __LINE__, "the same file, the same stamp");
	put("app.py", "print(22)\n", 0644);
	kind_of("app.py", &b, why);
	tap_ok(a != b, __LINE__, "new content: a new stamp");
	kind_of("tool", &a, why);
	chmod(strcat(strcpy(p, dir), "/tool"), 0700);
	kind_of("tool", &b, why);
	tap_ok(a != b, __LINE__, "a new mode: a new stamp");
	kind_of("ax", &a, why);
	put("ax/notes.txt", "x\n", 0644);
	kind_of("ax", &b, why);
	tap_ok(a == b, __LINE__, "autoexec: another file of the directory changes nothing");
	put("ax/main.py", "print(333)\n", 0644);
	kind_of("ax", &b, why);
	tap_ok(a != b, __LINE__, "autoexec: its entry point changed: a new stamp");
	kind_of("yml", &a, why);
	put("yml/mls.yaml", "command: y\n", 0644);
	kind_of("yml", &b, why);
	tap_ok(a != b, __LINE__, "mls.yaml changed: a new stamp");
	kind_of("dk", &a, why);
	put("dk/src/a.c", "int yy;\n", 0644);
	kind_of("dk", &b, why);
	tap_ok(a != b, __LINE__, "Docker: a file deep in the directory changed: a new stamp");
	kind_of("rn", &a, why);
	put("rn/data", "x\n", 0644);
	kind_of("rn", &b, why);
	tap_ok(a == b, __LINE__, "run: another file of the directory changes nothing");

	tap_ok(srv_defining_name("mls.yaml") && srv_defining_name("run") && !srv_defining_name("data"), __LINE__,
	       "defining names");
	tap_ok(!strcmp(srv_ext("a.tar.gz"), ".gz") && !srv_ext(".profile") && !srv_ext("x.") && !srv_ext("Makefile"),
	       __LINE__, "extensions");
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
	return tap_done();
}
