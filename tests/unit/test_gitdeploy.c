/* Unit tests for lib/gitdeploy.c: autoexec.txt, percent-encoding, commit
 * ids. Output is TAP; exit status 1 if any failed. */
#include "gitdeploy.h"
#include "tap.h"

#include <string.h>

static const struct {
	int line;
	const char *in;
	const char *want; /* argv joined by '|', or the error message */
} cases[] = {
	{ __LINE__, "app.py\n", "python3|app.py" },
	{ __LINE__, "app.py", "python3|app.py" },
	{ __LINE__, "# comment\n\n  \t\nrun.sh a b\n", "sh|run.sh|a|b" },
	{ __LINE__, "  server.js --port 8080\r\n", "node|server.js|--port|8080" },
	{ __LINE__, "bin/server\targ\n", "./bin/server|arg" },
	{ __LINE__, "./bin/server x\n", "./bin/server|x" },
	{ __LINE__, "src/app.py\nother.py\n", "python3|src/app.py" },
	{ __LINE__, "   # indented comment\napp\n", "./app" },
	{ __LINE__, "a.py  b   c  \n", "python3|a.py|b|c" },
	{ __LINE__, ".py\n", "./.py" },           /* no name before the suffix */
	{ __LINE__, "x..py\n", "python3|x..py" },
	{ __LINE__, "", "autoexec.txt names no entry point" },
	{ __LINE__, "# only\n#comments\n\n", "autoexec.txt names no entry point" },
	{ __LINE__, "\r\n \t\n", "autoexec.txt names no entry point" },
	{ __LINE__, "/usr/bin/python3 app.py\n", "autoexec.txt: /usr/bin/python3 is not a path inside the repository" },
	{ __LINE__, "../up.sh\n", "autoexec.txt: ../up.sh is not a path inside the repository" },
	{ __LINE__, "a/../../b\n", "autoexec.txt: a/../../b is not a path inside the repository" },
	{ __LINE__, "a/..b/c.sh\n", "sh|a/..b/c.sh" },
};

static void join(const struct autoexec *a, char *out, size_t n)
{
	out[0] = 0;
	for (int i = 0; i < a->argc; i++) {
		if (i)
			strncat(out, "|", n - strlen(out) - 1);
		strncat(out, a->argv[i], n - strlen(out) - 1);
	}
}

static void test_autoexec(void)
{
	static struct autoexec a;
	char got[2048], err[256];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = autoexec_parse(&a, cases[i].in, strlen(cases[i].in), err, sizeof err);
		if (rc == 0)
			join(&a, got, sizeof got);
		tap_ok(!strcmp(rc ? err : got, cases[i].want) && (rc || a.argv[a.argc] == NULL),
			cases[i].line, "autoexec_parse(\"%s\"): %s", cases[i].in, rc ? err : got);
	}
	/* a NUL in the line; limits */
	int rc = autoexec_parse(&a, "ap\0p.py\n", 8, err, sizeof err);
	tap_ok(rc == -1 && !strcmp(err, "autoexec.txt names no entry point"), __LINE__, "NUL in the line: %s", err);
	rc = autoexec_parse(&a, "# x\0y\napp.py\n", 13, err, sizeof err);
	tap_ok(rc == 0 && !strcmp(a.file, "app.py"), __LINE__, "NUL in a comment is fine");
	char big[AUTOEXEC_MAX_LINE + 2];
	memset(big, 'a', sizeof big);
	rc = autoexec_parse(&a, big, AUTOEXEC_MAX_LINE, err, sizeof err);
	tap_ok(rc == 0 && a.argc == 1 && strlen(a.argv[0]) == AUTOEXEC_MAX_LINE + 2, __LINE__,
		"a line of exactly %d bytes", AUTOEXEC_MAX_LINE);
	rc = autoexec_parse(&a, big, AUTOEXEC_MAX_LINE + 1, err, sizeof err);
	tap_ok(rc == -1 && strstr(err, "longer than 1000"), __LINE__, "one byte more: %s", err);
	char words[200] = "";
	for (int i = 0; i < AUTOEXEC_MAX_ARGS; i++)
		strcat(words, "w ");
	rc = autoexec_parse(&a, words, strlen(words), err, sizeof err);
	tap_ok(rc == 0 && a.argc == AUTOEXEC_MAX_ARGS, __LINE__, "%d words", AUTOEXEC_MAX_ARGS);
	strcat(words, "x");
	rc = autoexec_parse(&a, words, strlen(words), err, sizeof err);
	tap_ok(rc == -1 && strstr(err, "more than 64 words"), __LINE__, "one word more: %s", err);
	rc = autoexec_parse(&a, "x.py a\n", 7, err, sizeof err); /* len excludes more text */
	tap_ok(rc == 0 && a.argc == 3, __LINE__, "len bounds the text");
}

static void test_pct(void)
{
	static const struct { int line; const char *in, *want; } pc[] = {
		{ __LINE__, "plain-text_1.2/x=y", "plain-text_1.2/x=y" },
		{ __LINE__, "a b", "a%20b" },
		{ __LINE__, "100%", "100%25" },
		{ __LINE__, "tab\tnl\n\x7f", "tab%09nl%0A%7F" },
		{ __LINE__, "\xc3\xa9", "%C3%A9" },
		{ __LINE__, "", "" },
	};
	char out[64];
	for (size_t i = 0; i < sizeof pc / sizeof *pc; i++) {
		int n = gitdeploy_pct_encode(pc[i].in, out, sizeof out);
		tap_ok(n == (int)strlen(pc[i].want) && !strcmp(out, pc[i].want), pc[i].line,
			"pct_encode(\"%s\") = %s", pc[i].in, out);
	}
	tap_ok(gitdeploy_pct_encode("abc", out, 4) == 3, __LINE__, "fits exactly");
	tap_ok(gitdeploy_pct_encode("abcd", out, 4) == -1, __LINE__, "one byte short");
	tap_ok(gitdeploy_pct_encode("a b", out, 5) == -1, __LINE__, "an escape does not fit");
	tap_ok(gitdeploy_pct_encode("a b", out, 6) == 5, __LINE__, "an escape fits");
	/* the decoder: supervise's reader of what gitwatch encodes */
	for (size_t i = 0; i < sizeof pc / sizeof *pc; i++) {
		char dec[64];
		tap_ok(gitdeploy_pct_decode(pc[i].want, dec, sizeof dec) == 0 && !strcmp(dec, pc[i].in), pc[i].line,
			"pct_decode(\"%s\") gives the input back", pc[i].want);
	}
	char d[8];
	tap_ok(gitdeploy_pct_decode("a%2fb%2F", d, sizeof d) == 0 && !strcmp(d, "a/b/"), __LINE__, "lower and upper hex");
	tap_ok(gitdeploy_pct_decode("a%2", d, sizeof d) == -1, __LINE__, "a cut escape is refused");
	tap_ok(gitdeploy_pct_decode("a%zz", d, sizeof d) == -1, __LINE__, "a bad escape is refused");
	tap_ok(gitdeploy_pct_decode("a%00b", d, sizeof d) == -1, __LINE__, "an encoded NUL is refused");
	tap_ok(gitdeploy_pct_decode("1234567", d, sizeof d) == 0, __LINE__, "fits exactly");
	tap_ok(gitdeploy_pct_decode("12345678", d, sizeof d) == -1, __LINE__, "one byte too long is refused");
}

static void test_sha(void)
{
	tap_ok(gitdeploy_is_sha("3f2a9c1e0b9d8c7a6f5e4d3c2b1a0f9e8d7c6b5a"), __LINE__, "40 hex");
	tap_ok(!gitdeploy_is_sha("3f2a9c1e0b9d8c7a6f5e4d3c2b1a0f9e8d7c6b5"), __LINE__, "39 hex");
	tap_ok(!gitdeploy_is_sha("3f2a9c1e0b9d8c7a6f5e4d3c2b1a0f9e8d7c6b5aa"), __LINE__, "41 hex");
	tap_ok(!gitdeploy_is_sha("3F2A9C1E0B9D8C7A6F5E4D3C2B1A0F9E8D7C6B5A"), __LINE__, "upper case");
	tap_ok(!gitdeploy_is_sha(""), __LINE__, "empty");
}

int main(void)
{
	test_autoexec();
	test_pct();
	test_sha();
	return tap_done();
}
