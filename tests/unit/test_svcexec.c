/* Unit tests for lib/svcexec.c: argv, environment (base, env_file,
 * environment, instance variables), expansion, errors, the spawn request,
 * and one real start through spawn(). Output is TAP; exit status 1 if any
 * test failed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "svcexec.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define WATCHDOG 60

static char tmpdir[] = "/tmp/test_svcexec.XXXXXX";

/* ------------------------------------------------------------- helpers */

/* A service as the loader would leave it, with nothing but a command */
static struct service svc(char **argv)
{
	struct service s;

	memset(&s, 0, sizeof s);
	s.name = "web";
	s.command.argv = argv;
	while (argv && argv[s.command.argc])
		s.command.argc++;
	s.limits.memory = s.limits.pids = s.limits.nofile = s.limits.core = -1;
	s.limits.cpu = -1;
	return s;
}

static void strv_set(struct strv *v, char **items)
{
	v->v = items;
	v->n = 0;
	while (items[v->n])
		v->n++;
}

/* The value of NAME in envp, or NULL; *count = how many entries have it */
static const char *env_get(char *const *envp, const char *name, int *count)
{
	size_t n = strlen(name);
	const char *val = NULL;
	int c = 0;

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=') {
			val = *envp + n + 1;
			c++;
		}
	if (count)
		*count = c;
	return val;
}

/* The value, "(unset)" when missing, "(twice)" when duplicated */
static const char *env1(const struct svcexec *x, const char *name)
{
	int c;
	const char *v = env_get(x->envp, name, &c);

	return c == 0 ? "(unset)" : c > 1 ? "(twice)" : v;
}

static int env_count(char *const *envp)
{
	int n = 0;

	while (envp && envp[n])
		n++;
	return n;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static char *tmp_path(const char *name)
{
	static char buf[8][128];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
	return buf[i];
}

/* ------------------------------------------------------------- argv */

static void test_argv(void)
{
	char *argv[] = { "/bin/echo", "${PORT}", "${MLS_INSTANCE}",
		"${MLS_SERVICE}", "$$HOME", "a$$b", "$PLAIN", "${PORT:-x}$$",
		"$${NOT_EXPANDED}", NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256] = "";
	int rc;

	rc = svcexec_build(&x, &s, 2, 8080, NULL, err, sizeof err);
	OK(rc == 0, "build (err '%s')", err);
	if (rc)
		return;
	OK(!strcmp(x.argv[0], "/bin/echo") && !strcmp(x.argv[1], "8080") &&
		!strcmp(x.argv[2], "2") && !strcmp(x.argv[3], "web"),
		"argv: ${PORT} ${MLS_INSTANCE} ${MLS_SERVICE} expanded");
	OK(!strcmp(x.argv[4], "$HOME") && !strcmp(x.argv[5], "a$b"),
		"argv: $$ -> $ (got '%s' '%s')", x.argv[4], x.argv[5]);
	OK(!strcmp(x.argv[6], "$PLAIN") && !strcmp(x.argv[7], "8080$") &&
		!strcmp(x.argv[8], "${NOT_EXPANDED}"),
		"argv: $VAR kept, defaults, $${X} -> ${X} (got '%s' '%s' '%s')",
		x.argv[6], x.argv[7], x.argv[8]);
	OK(x.argv[9] == NULL, "argv NULL-terminated");
	OK(x.argv[1] != argv[1] && x.argv[0] != argv[0],
		"argv strings are copies");
	OK(x.dir == NULL && !x.user.set, "no working_dir, no user");
	svcexec_free(&x);
	OK(x.mem == NULL && x.argv == NULL, "svcexec_free clears");
	svcexec_free(&x); /* twice is harmless */

	/* a shell command as the loader stores it */
	{
		char *sh[] = { "/bin/sh", "-c", "exec app --port ${PORT} --id $$1", NULL };
		struct service t = svc(sh);
		t.command.shell = 1;
		rc = svcexec_build(&x, &t, 1, 9000, NULL, err, sizeof err);
		OK(rc == 0 && !strcmp(x.argv[2], "exec app --port 9000 --id $1"),
			"shell command string expanded (got '%s')",
			rc ? err : x.argv[2]);
		if (!rc)
			svcexec_free(&x);
	}
}

static void test_argv_errors(void)
{
	struct svcexec x;
	char err[256];
	int rc;

	{
		char *argv[] = { "app", "--port=${PORT}", NULL };
		struct service s = svc(argv);
		err[0] = 0;
		rc = svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err);
		OK(rc == -1 && !strcmp(err, "command: variable PORT is not set") &&
			x.mem == NULL,
			"no port: ${PORT} is an error (got '%s')", err);
	}
	{
		char *argv[] = { "app", "--port=${PORT:-80}", NULL };
		struct service s = svc(argv);
		rc = svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err);
		OK(rc == 0 && !strcmp(x.argv[1], "--port=80") &&
			!strcmp(env1(&x, "PORT"), "(unset)"),
			"no port: ${PORT:-80} works, PORT not set");
		if (!rc)
			svcexec_free(&x);
	}
	{
		char *argv[] = { "app", "${SOMETHING}", NULL };
		struct service s = svc(argv);
		err[0] = 0;
		rc = svcexec_build(&x, &s, 1, 80, NULL, err, sizeof err);
		OK(rc == -1 && strstr(err, "SOMETHING") && strstr(err, "command"),
			"unknown ${X} left by nobody: error naming it (got '%s')", err);
	}
	{
		char *argv[] = { "app", "${PORT", NULL };
		struct service s = svc(argv);
		err[0] = 0;
		rc = svcexec_build(&x, &s, 1, 80, NULL, err, sizeof err);
		OK(rc == -1 && !strcmp(err, "command: unterminated ${"),
			"syntax error (got '%s')", err);
	}
	{
		struct service s = svc(NULL);
		err[0] = 0;
		rc = svcexec_build(&x, &s, 1, 80, NULL, err, sizeof err);
		OK(rc == -1 && !strcmp(err, "no command"),
			"no command (got '%s')", err);
	}
}

/* ----------------------------------------------------------- environment */

static void test_env_precedence(void)
{
	char *argv[] = { "app", NULL };
	char *base[] = { "A=base", "B=base", "C=base", "D=base",
		"MLS_INSTANCE=base", "PORT=1", "JUNK", "=x", NULL };
	char *files[3], *environment[] = { "C=env", "E=${MLS_SERVICE}-${MLS_INSTANCE}:${PORT}",
		"F=$$x", "MLS_SERVICE=env", NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256] = "";
	int rc;

	write_file(tmp_path("one.env"), "B=file1\nC=file1\nG=file1\n", 24);
	write_file(tmp_path("two.env"), "G=file2\nH=$$y\n", 14);
	files[0] = tmp_path("one.env");
	files[1] = tmp_path("two.env");
	files[2] = NULL;
	strv_set(&s.env_file, files);
	strv_set(&s.environment, environment);

	rc = svcexec_build(&x, &s, 3, 8080, base, err, sizeof err);
	OK(rc == 0, "build (err '%s')", err);
	if (rc)
		return;
	OK(!strcmp(env1(&x, "A"), "base") && !strcmp(env1(&x, "D"), "base"),
		"base kept");
	OK(!strcmp(env1(&x, "B"), "file1"), "env_file over base");
	OK(!strcmp(env1(&x, "C"), "env"), "environment over env_file and base");
	OK(!strcmp(env1(&x, "G"), "file2"), "later env_file over earlier");
	OK(!strcmp(env1(&x, "H"), "$$y"), "env_file values are not expanded");
	OK(!strcmp(env1(&x, "E"), "web-3:8080"),
		"environment values expanded (got '%s')", env1(&x, "E"));
	OK(!strcmp(env1(&x, "F"), "$x"), "environment: $$ -> $");
	OK(!strcmp(env1(&x, "MLS_SERVICE"), "web") &&
		!strcmp(env1(&x, "MLS_INSTANCE"), "3") &&
		!strcmp(env1(&x, "PORT"), "8080"),
		"instance variables win over everything");
	OK(!strcmp(env1(&x, "JUNK"), "(unset)") && env_count(x.envp) == 11,
		"entries without NAME= dropped; no duplicates (%d entries)",
		env_count(x.envp));
	svcexec_free(&x);

	/* without a port, PORT from the base environment stays */
	rc = svcexec_build(&x, &s, 1, 0, base, err, sizeof err);
	OK(rc == -1 && !strcmp(err, "environment E: variable PORT is not set"),
		"no port: ${PORT} in environment is an error (got '%s')", err);
	environment[1] = "E=x";
	rc = svcexec_build(&x, &s, 1, 0, base, err, sizeof err);
	OK(rc == 0 && !strcmp(env1(&x, "PORT"), "1"),
		"no port: PORT of the base environment kept");
	if (!rc)
		svcexec_free(&x);
}

static void test_env_file_syntax(void)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"   \t\n"
		"  # indented comment\n"
		"PLAIN=value\n"
		"export EXPORTED=1\n"
		"export\tTABBED=2\n"
		"SPACED = around  \n"
		"  LEAD=x\n"
		"SQ='single quoted # not a comment'\n"
		"DQ=\"double quoted\"\n"
		"HALF=\"not closed\n"
		"MIXED='a\"\n"
		"EMPTY=\n"
		"EMPTYQ=\"\"\n"
		"EQ=a=b=c\n"
		"HASH=a # b\n"
		"CRLF=dos\r\n"
		"_U9=underscore\n"
		"exported=lower\n"
		"export=is a name too\n"
		"LAST=no newline";
	char *argv[] = { "app", NULL }, *files[] = { tmp_path("syntax.env"), NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256] = "";
	static const struct {
		int line;
		const char *name, *want;
	} cases[] = {
		{ __LINE__, "PLAIN", "value" },
		{ __LINE__, "EXPORTED", "1" },
		{ __LINE__, "TABBED", "2" },
		{ __LINE__, "SPACED", "around" },
		{ __LINE__, "LEAD", "x" },
		{ __LINE__, "SQ", "single quoted # not a comment" },
		{ __LINE__, "DQ", "double quoted" },
		{ __LINE__, "HALF", "\"not closed" },
		{ __LINE__, "MIXED", "'a\"" },
		{ __LINE__, "EMPTY", "" },
		{ __LINE__, "EMPTYQ", "" },
		{ __LINE__, "EQ", "a=b=c" },
		{ __LINE__, "HASH", "a # b" },
		{ __LINE__, "CRLF", "dos" },
		{ __LINE__, "_U9", "underscore" },
		{ __LINE__, "exported", "lower" },
		{ __LINE__, "export", "is a name too" },
		{ __LINE__, "LAST", "no newline" },
	};

	write_file(files[0], text, sizeof text - 1);
	strv_set(&s.env_file, files);
	if (svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err)) {
		OK(0, "env_file syntax: build failed: %s", err);
		return;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = env1(&x, cases[i].name);
		if (!tap_ok(!strcmp(got, cases[i].want), cases[i].line,
		    "env_file: %s", cases[i].name))
			tap_diag("got '%s', want '%s'", got, cases[i].want);
	}
	/* 18 variables + MLS_SERVICE + MLS_INSTANCE */
	OK(env_count(x.envp) == 20, "env_file: nothing else set (%d)",
		env_count(x.envp));
	svcexec_free(&x);
}

static void test_env_file_errors(void)
{
	char *argv[] = { "app", NULL }, *files[] = { NULL, NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256], want[256];
	static const struct {
		int line;
		const char *text, *msg; /* msg after "env_file PATH" */
	} cases[] = {
		{ __LINE__, "A=1\nno equals sign\n", ":2: expected KEY=VALUE" },
		{ __LINE__, "=1\n", ":1: expected KEY=VALUE" },
		{ __LINE__, "1A=1\n", ":1: expected KEY=VALUE" },
		{ __LINE__, "A-B=1\n", ":1: expected KEY=VALUE" },
		{ __LINE__, "# ok\n\nexport \n", ":3: expected KEY=VALUE" },
		{ __LINE__, "A B=1\n", ":1: expected KEY=VALUE" },
	};

	files[0] = tmp_path("bad.env");
	strv_set(&s.env_file, files);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;
		write_file(files[0], cases[i].text, strlen(cases[i].text));
		snprintf(want, sizeof want, "env_file %s%s", files[0], cases[i].msg);
		err[0] = 0;
		rc = svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err);
		if (!tap_ok(rc == -1 && !strcmp(err, want), cases[i].line,
		    "env_file error '%s'", cases[i].msg))
			tap_diag("got %d '%s'", rc, err);
		if (rc == 0)
			svcexec_free(&x);
	}

	write_file(files[0], "A=1\0B=2\n", 8);
	snprintf(want, sizeof want, "env_file %s: contains a NUL byte", files[0]);
	OK(svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err) == -1 &&
		!strcmp(err, want), "NUL byte refused (got '%s')", err);

	files[0] = tmp_path("missing.env");
	snprintf(want, sizeof want, "env_file %s: No such file or directory",
		files[0]);
	OK(svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err) == -1 &&
		!strcmp(err, want), "missing env_file (got '%s')", err);

	files[0] = tmpdir;
	snprintf(want, sizeof want, "env_file %s: Is a directory", tmpdir);
	OK(svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err) == -1 &&
		!strcmp(err, want), "env_file a directory (got '%s')", err);

	/* a FIFO without a writer: refused at once, not a blocking open() */
	files[0] = tmp_path("fifo.env");
	if (mkfifo(files[0], 0600) == 0) {
		snprintf(want, sizeof want, "env_file %s: not a regular file", files[0]);
		OK(svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err) == -1 &&
			!strcmp(err, want), "env_file a FIFO: refused, without blocking (got '%s')", err);
		unlink(files[0]);
	} else {
		OK(0, "mkfifo: %s", strerror(errno));
	}

	/* size: exactly the limit is fine, one byte more is not */
	{
		size_t n = SVCEXEC_MAX_ENV_FILE;
		char *big = malloc(n + 1);
		int rc;

		if (!big)
			exit(1);
		memset(big, '#', n + 1);
		memcpy(big, "BIG=1\n", 6);
		big[n - 1] = '\n';
		files[0] = tmp_path("big.env");
		write_file(files[0], big, n);
		rc = svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err);
		OK(rc == 0 && !strcmp(env1(&x, "BIG"), "1"),
			"env_file of exactly %zu bytes (got '%s')", n, rc ? err : "");
		if (!rc)
			svcexec_free(&x);
		big[n - 1] = '#';
		big[n] = '\n';
		write_file(files[0], big, n + 1);
		snprintf(want, sizeof want, "env_file %s: larger than %u bytes",
			files[0], SVCEXEC_MAX_ENV_FILE);
		OK(svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err) == -1 &&
			!strcmp(err, want), "env_file one byte over (got '%s')", err);
		free(big);
	}
}

static void test_env_file_every_start(void)
{
	char *argv[] = { "app", NULL };
	char *files[] = { tmp_path("${MLS_SERVICE}-${MLS_INSTANCE}.env"), NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256] = "";

	strv_set(&s.env_file, files);
	write_file(tmp_path("web-2.env"), "V=first\n", 8);
	OK(svcexec_build(&x, &s, 2, 0, NULL, err, sizeof err) == 0 &&
		!strcmp(env1(&x, "V"), "first"),
		"env_file path expanded per instance (err '%s')", err);
	svcexec_free(&x);
	write_file(tmp_path("web-2.env"), "V=second\n", 9);
	OK(svcexec_build(&x, &s, 2, 0, NULL, err, sizeof err) == 0 &&
		!strcmp(env1(&x, "V"), "second"),
		"env_file read again at the next start");
	svcexec_free(&x);
	err[0] = 0;
	OK(svcexec_build(&x, &s, 3, 0, NULL, err, sizeof err) == -1 &&
		strstr(err, "web-3.env: No such file or directory"),
		"another instance reads its own file (got '%s')", err);
}

static void test_env_limit(void)
{
	char *argv[] = { "app", NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256] = "";
	int n = SVCEXEC_MAX_ENV - 2; /* + MLS_SERVICE + MLS_INSTANCE */
	char **base = calloc((size_t)n + 2, sizeof *base);
	char *store = malloc((size_t)(n + 1) * 32);
	int rc;

	if (!base || !store)
		exit(1);
	for (int i = 0; i <= n; i++) {
		snprintf(store + i * 32, 32, "V%d=%d", i, i);
		base[i] = store + i * 32;
	}
	base[n] = NULL;
	rc = svcexec_build(&x, &s, 1, 0, base, err, sizeof err);
	OK(rc == 0 && env_count(x.envp) == SVCEXEC_MAX_ENV,
		"exactly %d variables (got %d, '%s')", SVCEXEC_MAX_ENV,
		rc ? -1 : env_count(x.envp), err);
	if (!rc)
		svcexec_free(&x);
	base[n] = store + n * 32;
	rc = svcexec_build(&x, &s, 1, 0, base, err, sizeof err);
	OK(rc == -1 && !strcmp(err, "too many environment variables (limit 4096)"),
		"one more: error (got '%s')", err);
	/* a replacement does not count */
	base[n] = "V0=again";
	rc = svcexec_build(&x, &s, 1, 0, base, err, sizeof err);
	OK(rc == 0 && !strcmp(env1(&x, "V0"), "again"),
		"a replaced variable does not count against the limit");
	if (!rc)
		svcexec_free(&x);
	free(base);
	free(store);
}

/* ------------------------------------------------- dir, user, request */

static void test_dir_user(void)
{
	char *argv[] = { "app", NULL };
	struct service s = svc(argv);
	struct svcexec x;
	char err[256] = "";
	int rc;

	s.working_dir = "/srv/${MLS_SERVICE}/${MLS_INSTANCE}/$$";
	rc = svcexec_build(&x, &s, 4, 0, NULL, err, sizeof err);
	OK(rc == 0 && !strcmp(x.dir, "/srv/web/4/$"),
		"working_dir expanded (got '%s')", rc ? err : x.dir);
	if (!rc)
		svcexec_free(&x);

	s.working_dir = "/srv/${PORT}";
	rc = svcexec_build(&x, &s, 4, 0, NULL, err, sizeof err);
	OK(rc == -1 && !strcmp(err, "working_dir: variable PORT is not set"),
		"working_dir error (got '%s')", err);

	s.working_dir = NULL;
	s.user = "nosuchuser";
	rc = svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err);
	OK(rc == -1 && !strcmp(err, "no such user 'nosuchuser'"),
		"unknown user (got '%s')", err);

	s.user = "nobody";
	rc = svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err);
	OK(rc == 0 && x.user.set && x.user.uid == 65534 &&
		!strcmp(x.user.name, "nobody"), "user nobody resolved");
	if (!rc)
		svcexec_free(&x);
}

static void test_req(void)
{
	char *argv[] = { "app", NULL };
	struct service s = svc(argv);
	struct svcexec x;
	struct spawn_req r;
	char err[256] = "";

	s.working_dir = "/tmp";
	if (svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err)) {
		OK(0, "build: %s", err);
		return;
	}
	memset(&r, 0x55, sizeof r);
	svcexec_req(&x, &s, &r);
	OK(r.argv == x.argv && r.envp == x.envp && r.dir == x.dir &&
		r.user == NULL, "req: argv, envp, dir; no user");
	OK(r.rlimit_as == -1 && r.rlimit_nofile == -1 && r.rlimit_core == -1 &&
		r.rlimit_nproc == -1 && !r.has_nice, "req: unset limits stay unset");
	OK(r.out_fd == -1 && r.in_fd == -1 && r.ready_fd == -1 &&
		r.ready_src == -1 && !r.keep_session, "req: fds -1");
	svcexec_free(&x);

	s.limits.memory = 256 << 20;
	s.limits.nofile = 1024;
	s.limits.core = 0;
	s.limits.pids = 64;
	s.has_nice = 1;
	s.nice = -5;
	s.user = "nobody";
	if (svcexec_build(&x, &s, 1, 0, NULL, err, sizeof err)) {
		OK(0, "build: %s", err);
		return;
	}
	svcexec_req(&x, &s, &r);
	OK(r.rlimit_as == 256 << 20 && r.rlimit_nofile == 1024 &&
		r.rlimit_core == 0 && r.rlimit_nproc == 64,
		"req: memory -> AS, nofile, core, pids -> NPROC");
	OK(r.has_nice && r.nice == -5, "req: nice");
	OK(r.user == &x.user && r.user->uid == 65534, "req: user");
	svcexec_free(&x);
}

static void test_hook(void)
{
	char *argv[] = { "app", NULL };
	char *hook[] = { "/bin/sh", "-c", "prepare ${MLS_INSTANCE} ${PORT}", NULL };
	char *environment[] = { "X=1", NULL };
	struct service s = svc(argv);
	struct command cmd = { hook, 3, 1, { NULL, 0, 0 } };
	struct svcexec x;
	char err[256] = "";
	int rc;

	strv_set(&s.environment, environment);
	s.working_dir = "/w/${MLS_INSTANCE}";
	rc = svcexec_build_cmd(&x, &cmd, &s, 5, 7000, NULL, err, sizeof err);
	OK(rc == 0 && !strcmp(x.argv[0], "/bin/sh") &&
		!strcmp(x.argv[2], "prepare 5 7000"),
		"hook: its own argv, expanded (got '%s')", rc ? err : x.argv[2]);
	OK(rc == 0 && !strcmp(env1(&x, "X"), "1") &&
		!strcmp(env1(&x, "PORT"), "7000") && !strcmp(x.dir, "/w/5"),
		"hook: the instance's environment and dir");
	if (!rc)
		svcexec_free(&x);
	{
		struct command none = { NULL, 0, 0, { NULL, 0, 0 } };
		rc = svcexec_build_cmd(&x, &none, &s, 1, 0, NULL, err, sizeof err);
		OK(rc == -1 && !strcmp(err, "no command"), "hook unset: error");
	}
}

/* One real start: what the program sees */
static void test_spawned(void)
{
	char *argv[] = { "/bin/sh", "-c",
		"echo \"$MLS_SERVICE $MLS_INSTANCE $PORT $FROM_FILE $FROM_ENV\"; pwd", NULL };
	char *environment[] = { "FROM_ENV=e${MLS_INSTANCE}", NULL };
	char *files[] = { tmp_path("run.env"), NULL };
	char *base[] = { "PATH=/usr/bin:/bin", NULL };
	struct service s = svc(argv);
	struct svcexec x;
	struct spawn_req r;
	char err[256] = "", out[4096], want[256];
	size_t len = 0;
	int p[2], st = -1;
	pid_t pid;

	write_file(files[0], "FROM_FILE=f\n", 12);
	strv_set(&s.environment, environment);
	strv_set(&s.env_file, files);
	s.working_dir = tmpdir;
	if (svcexec_build(&x, &s, 2, 8002, base, err, sizeof err) ||
	    pipe2(p, O_CLOEXEC)) {
		OK(0, "build: %s", err);
		return;
	}
	svcexec_req(&x, &s, &r);
	r.out_fd = p[1];
	pid = spawn(&r);
	close(p[1]);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		ssize_t n;
		if (poll(&pf, 1, 10000) <= 0)
			break;
		n = read(p[0], out + len, sizeof out - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = 0;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	snprintf(want, sizeof want, "web 2 8002 f e2\n%s\n", tmpdir);
	OK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(out, want),
		"spawned with svcexec_req (got '%s')", out);
	svcexec_free(&x);
}

int main(void)
{
	alarm(WATCHDOG);
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_argv();
	test_argv_errors();
	test_env_precedence();
	test_env_file_syntax();
	test_env_file_errors();
	test_env_file_every_start();
	test_env_limit();
	test_dir_user();
	test_req();
	test_hook();
	test_spawned();
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
