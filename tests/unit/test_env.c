/* Unit tests for lib/env.c. Output is TAP; exit status 1 if any failed. */
#include "env.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define KEEP ENV_KEEP_INSTANCE

/* The environment the table sees; UNSET* and U are never defined */
static const char *const test_env[][2] = {
	{ "HOME", "/root" }, { "EMPTY", "" }, { "PORT", "8080" },
	{ "MLS_INSTANCE", "2" }, { "A", "a" }, { "B", "b" },
	{ "DOLLAR", "$x ${A}" }, { "_under1", "u" },
};

static const char *table_lookup(const char *name, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof test_env / sizeof test_env[0]; i++)
		if (strcmp(name, test_env[i][0]) == 0)
			return test_env[i][1];
	return NULL;
}

#define NEST8 "${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-x}}}}}}}}"
#define NEST9 "${U:-" NEST8 "}"

static const struct {
	int line;
	const char *in;
	int flags;
	int rc;
	const char *want; /* the output, or the error message */
	int offset;       /* of the error */
} cases[] = {
	/* plain text and $ that is not ours */
	{ __LINE__, "", 0, 0, "", 0 },
	{ __LINE__, "plain text", 0, 0, "plain text", 0 },
	{ __LINE__, "$HOME", 0, 0, "$HOME", 0 },
	{ __LINE__, "$", 0, 0, "$", 0 },
	{ __LINE__, "a$", 0, 0, "a$", 0 },
	{ __LINE__, "$1 $@ $(cmd)", 0, 0, "$1 $@ $(cmd)", 0 },
	{ __LINE__, "{A} }", 0, 0, "{A} }", 0 },
	/* ${VAR} */
	{ __LINE__, "${HOME}", 0, 0, "/root", 0 },
	{ __LINE__, "x${HOME}y", 0, 0, "x/rooty", 0 },
	{ __LINE__, "${A}${B}", 0, 0, "ab", 0 },
	{ __LINE__, "${EMPTY}", 0, 0, "", 0 },
	{ __LINE__, "${_under1}", 0, 0, "u", 0 },
	{ __LINE__, "${DOLLAR}", 0, 0, "$x ${A}", 0 }, /* values are not rescanned */
	/* $$ */
	{ __LINE__, "$$", 0, 0, "$", 0 },
	{ __LINE__, "$$$$", 0, 0, "$$", 0 },
	{ __LINE__, "$$$", 0, 0, "$$", 0 },
	{ __LINE__, "$${HOME}", 0, 0, "${HOME}", 0 },
	{ __LINE__, "$$HOME", 0, 0, "$HOME", 0 },
	/* defaults */
	{ __LINE__, "${UNSET:-def}", 0, 0, "def", 0 },
	{ __LINE__, "${EMPTY:-def}", 0, 0, "def", 0 },
	{ __LINE__, "${A:-def}", 0, 0, "a", 0 },
	{ __LINE__, "${UNSET-def}", 0, 0, "def", 0 },
	{ __LINE__, "${EMPTY-def}", 0, 0, "", 0 },
	{ __LINE__, "${UNSET:-}", 0, 0, "", 0 },
	{ __LINE__, "${UNSET-}", 0, 0, "", 0 },
	{ __LINE__, "${UNSET:-a b:c-d}", 0, 0, "a b:c-d", 0 },
	{ __LINE__, "${UNSET:-${HOME}/x}", 0, 0, "/root/x", 0 },
	{ __LINE__, "${UNSET:-${UNSET2:-${A}}}", 0, 0, "a", 0 },
	{ __LINE__, "${A:-${UNSET}}", 0, 0, "a", 0 }, /* unused default */
	{ __LINE__, "${UNSET:-$$}", 0, 0, "$", 0 },
	{ __LINE__, "${UNSET:-{x}}", 0, 0, "{x}", 0 },
	{ __LINE__, "${A:-}}", 0, 0, "a}", 0 },
	{ __LINE__, NEST8, 0, 0, "x", 0 },
	/* ${VAR:?msg} and ${VAR?msg} when set */
	{ __LINE__, "${A:?msg}", 0, 0, "a", 0 },
	{ __LINE__, "${EMPTY?msg}", 0, 0, "", 0 },
	/* ENV_KEEP_INSTANCE */
	{ __LINE__, "${PORT}", KEEP, 0, "${PORT}", 0 },
	{ __LINE__, "${PORT:-80}", KEEP, 0, "${PORT:-80}", 0 },
	{ __LINE__, "${PORT-80}", KEEP, 0, "${PORT-80}", 0 },
	{ __LINE__, "${PORT:?no port}", KEEP, 0, "${PORT:?no port}", 0 },
	{ __LINE__, "${MLS_INSTANCE}", KEEP, 0, "${MLS_INSTANCE}", 0 },
	{ __LINE__, "${MLS_SERVICE}", KEEP, 0, "${MLS_SERVICE}", 0 },
	{ __LINE__, "$$", KEEP, 0, "$$", 0 },
	{ __LINE__, "a$$$b", KEEP, 0, "a$$$b", 0 },
	{ __LINE__, "x${PORT}${A}", KEEP, 0, "x${PORT}a", 0 },
	{ __LINE__, "${UNSET:-${PORT}}", KEEP, 0, "${PORT}", 0 },
	{ __LINE__, "${PORT:-${UNSET}}", KEEP, 0, "${PORT:-${UNSET}}", 0 },
	{ __LINE__, "--port=${PORT} ${HOME}", KEEP, 0, "--port=${PORT} /root", 0 },
	/* without it, instance variables are variables like any other */
	{ __LINE__, "${PORT}", 0, 0, "8080", 0 },
	{ __LINE__, "${MLS_INSTANCE}", 0, 0, "2", 0 },
	{ __LINE__, "${PORT:-80}", 0, 0, "8080", 0 },
	{ __LINE__, "${MLS_SERVICE}", 0, -1, "variable MLS_SERVICE is not set", 0 },
	/* undefined */
	{ __LINE__, "${UNSET}", 0, -1, "variable UNSET is not set", 0 },
	{ __LINE__, "abc ${UNSET}", 0, -1, "variable UNSET is not set", 4 },
	{ __LINE__, "${UNSET:-${UNSET2}}", 0, -1, "variable UNSET2 is not set", 9 },
	{ __LINE__, "${home}", 0, -1, "variable home is not set", 0 },
	/* :? and ? */
	{ __LINE__, "${UNSET:?}", 0, -1, "UNSET is not set", 0 },
	{ __LINE__, "${UNSET?}", 0, -1, "UNSET is not set", 0 },
	{ __LINE__, "x ${EMPTY:?}", 0, -1, "EMPTY is not set", 2 },
	{ __LINE__, "${UNSET:?must be set}", 0, -1, "UNSET: must be set", 0 },
	{ __LINE__, "${UNSET?must be set}", 0, -1, "UNSET: must be set", 0 },
	{ __LINE__, "${EMPTY:?no ${A} here}", 0, -1, "EMPTY: no a here", 0 },
	{ __LINE__, "${EMPTY:?${UNSET2}}", 0, -1, "variable UNSET2 is not set", 9 },
	/* syntax */
	{ __LINE__, "${", 0, -1, "unterminated ${", 0 },
	{ __LINE__, "x${A", 0, -1, "unterminated ${", 1 },
	{ __LINE__, "${A:-x", 0, -1, "unterminated ${", 0 },
	{ __LINE__, "${A:-${B}", 0, -1, "unterminated ${", 0 },
	{ __LINE__, "${A:", 0, -1, "unterminated ${", 0 },
	{ __LINE__, "${A B", 0, -1, "unterminated ${", 0 },
	{ __LINE__, "${}", 0, -1, "bad variable name in ${...}", 0 },
	{ __LINE__, "${1A}", 0, -1, "bad variable name in ${...}", 0 },
	{ __LINE__, "${A B}", 0, -1, "bad variable name in ${...}", 0 },
	{ __LINE__, "${ A}", 0, -1, "bad variable name in ${...}", 0 },
	{ __LINE__, "${A-B.C}", 0, 0, "a", 0 },
	{ __LINE__, "${A.B}", 0, -1, "bad variable name in ${...}", 0 },
	{ __LINE__, "${A:x}", 0, -1, "expected :- or :? in ${...}", 0 },
	{ __LINE__, "${A:}", 0, -1, "expected :- or :? in ${...}", 0 },
	{ __LINE__, "${A:=x}", 0, -1, "expected :- or :? in ${...}", 0 },
	{ __LINE__, "${A:-${1}}", 0, -1, "bad variable name in ${...}", 5 },
	{ __LINE__, "ok ${A} ${", 0, -1, "unterminated ${", 8 },
	{ __LINE__, "${PORT:-${}", KEEP, -1, "unterminated ${", 0 },
	{ __LINE__, "${PORT:-${1}}", KEEP, -1, "bad variable name in ${...}", 8 },
	{ __LINE__, NEST9, 0, -1, "${...} nested too deeply (limit 8)", 40 },
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct env_error err = { .msg = "?", .offset = -1 };
		char *out = (char *)"?";
		int rc = env_expand(cases[i].in, table_lookup, NULL, cases[i].flags,
				    &out, &err);
		int ok = rc == cases[i].rc;
		if (ok && rc == 0)
			ok = out && strcmp(out, cases[i].want) == 0;
		else if (ok)
			ok = !out && strcmp(err.msg, cases[i].want) == 0 &&
			     err.offset == cases[i].offset;
		if (!tap_ok(ok, cases[i].line, "env_expand(\"%s\"%s)", cases[i].in,
			    cases[i].flags ? ", KEEP" : ""))
			tap_diag("rc %d, out \"%s\", err \"%s\" at %d", rc,
				 out ? out : "(null)", err.msg, err.offset);
		if (rc == 0)
			free(out);
	}
}

/* ENV_MAX_OUT: a big value once fits, twice does not */
struct big {
	char *value;
};

static const char *big_lookup(const char *name, void *ctx)
{
	struct big *b = ctx;
	return strcmp(name, "BIG") == 0 ? b->value : table_lookup(name, NULL);
}

static void test_limits(void)
{
	struct big b = { malloc(ENV_MAX_OUT / 2 + 2) };
	struct env_error err;
	char *out, *in;
	size_t n = ENV_MAX_OUT / 2 + 1;

	memset(b.value, 'v', n);
	b.value[n] = '\0';
	tap_ok(env_expand("${BIG}", big_lookup, &b, 0, &out, &err) == 0 &&
	       strlen(out) == n, __LINE__, "env_expand: half the limit fits");
	free(out);
	tap_ok(env_expand("${BIG}${BIG}", big_lookup, &b, 0, &out, &err) < 0 &&
	       !out && strstr(err.msg, "too long") && err.offset == 6, __LINE__,
	       "env_expand: past ENV_MAX_OUT: %s at %d", err.msg, err.offset);
	free(b.value);

	/* exactly ENV_MAX_OUT bytes of input fit; one more does not */
	in = malloc(ENV_MAX_OUT + 2);
	memset(in, 'x', ENV_MAX_OUT + 1);
	in[ENV_MAX_OUT] = '\0';
	tap_ok(env_expand(in, table_lookup, NULL, 0, &out, &err) == 0 &&
	       strlen(out) == ENV_MAX_OUT, __LINE__,
	       "env_expand: output of exactly ENV_MAX_OUT bytes");
	free(out);
	in[ENV_MAX_OUT] = 'x';
	in[ENV_MAX_OUT + 1] = '\0';
	tap_ok(env_expand(in, table_lookup, NULL, 0, &out, &err) < 0 && !out,
	       __LINE__, "env_expand: ENV_MAX_OUT + 1 bytes is too long");
	free(in);
}

/* A message past the 256 bytes of env_error.msg is cut, not overflowed;
 * a name past 255 bytes is refused. */
static void test_long_text(void)
{
	char in[600];
	struct env_error err;
	char *out;

	strcpy(in, "${UNSET:?");
	memset(in + 9, 'm', 400);
	strcpy(in + 409, "}");
	tap_ok(env_expand(in, table_lookup, NULL, 0, &out, &err) < 0 &&
	       strlen(err.msg) == sizeof err.msg - 1 &&
	       strncmp(err.msg, "UNSET: mmm", 10) == 0, __LINE__,
	       "env_expand: long :? message is cut to fit");

	strcpy(in, "${");
	memset(in + 2, 'N', 300);
	strcpy(in + 302, "}");
	tap_ok(env_expand(in, table_lookup, NULL, 0, &out, &err) < 0 &&
	       strstr(err.msg, "too long") && err.offset == 0, __LINE__,
	       "env_expand: a 300-byte name is refused");
	in[2 + 255] = '}';
	in[2 + 256] = '\0';
	tap_ok(env_expand(in, table_lookup, NULL, 0, &out, &err) < 0 &&
	       strncmp(err.msg, "variable NNN", 12) == 0, __LINE__,
	       "env_expand: a 255-byte name is looked up");
}

static void test_misc(void)
{
	char *out;
	struct env_error err;

	setenv("MLS_TEST_ENV_X", "from-getenv", 1);
	tap_ok(env_expand("${MLS_TEST_ENV_X}", NULL, NULL, 0, &out, &err) == 0 &&
	       strcmp(out, "from-getenv") == 0, __LINE__,
	       "env_expand: NULL lookup uses getenv");
	free(out);
	tap_ok(env_expand("${UNSET}", table_lookup, NULL, 0, &out, NULL) < 0 &&
	       !out, __LINE__, "env_expand: NULL err is allowed");

	tap_ok(env_is_instance_var("PORT"), __LINE__, "instance var PORT");
	tap_ok(env_is_instance_var("MLS_INSTANCE"), __LINE__,
	       "instance var MLS_INSTANCE");
	tap_ok(env_is_instance_var("MLS_SERVICE"), __LINE__,
	       "instance var MLS_SERVICE");
	tap_ok(!env_is_instance_var("port"), __LINE__, "not instance var port");
	tap_ok(!env_is_instance_var("PORTS"), __LINE__, "not instance var PORTS");
	tap_ok(!env_is_instance_var("MLS_"), __LINE__, "not instance var MLS_");
	tap_ok(!env_is_instance_var(""), __LINE__, "not instance var \"\"");
	tap_ok(!env_is_instance_var(NULL), __LINE__, "not instance var NULL");
}

int main(void)
{
	test_table();
	test_limits();
	test_long_text();
	test_misc();
	return tap_done();
}
