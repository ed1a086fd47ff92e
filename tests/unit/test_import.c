/* Unit tests for lib/autoexec_import.c: the name derivation, then whole
 * lists with their exact output and messages. Output is TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "autoexec_import.h"
#include "tap.h"

#define HDR "# converted from AutoExec s.txt by mls import\n"
#define SVC "services:\n"
#define TAIL "      interval: 30s\n      rollback: true\n"

static const struct {
	int line;
	const char *url, *name;
} name_cases[] = {
	{ __LINE__, "https://example.org/team/api.git", "api" },
	{ __LINE__, "https://example.org/team/api", "api" },
	{ __LINE__, "https://example.org/team/api.git/", "api" },
	{ __LINE__, "https://example.org/team/api//", "api" },
	{ __LINE__, "https://example.org/Team/My.Repo.GIT", "my-repo" },
	{ __LINE__, "https://example.org/x/My Repo", "my-repo" },
	{ __LINE__, "https://example.org/x/a++b", "a-b" },
	{ __LINE__, "https://example.org/x/snake_case-1", "snake_case-1" },
	{ __LINE__, "https://example.org/x/_hidden", "hidden" },
	{ __LINE__, "https://example.org/x/--x", "x" },
	{ __LINE__, "https://example.org/x/.git", "service" },
	{ __LINE__, "https://example.org/", "example-org" },
	{ __LINE__, "https://example.org/x/caf\xc3\xa9", "caf-" },
	{ __LINE__, "https://example.org/x/r?token=1#frag", "r" },
	{ __LINE__, "file:///srv/git/site.git", "site" },
	{ __LINE__, "file:///srv/git/a#b", "a-b" },
	{ __LINE__, "/srv/git/Site", "site" },
	{ __LINE__, "https://e.org/"
		    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz.git",
	  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk" },
};

static const struct {
	int line;
	const char *in, *out, *err;
	int services, refused;
} cases[] = {
	{ __LINE__, "", HDR "services: {}\n", "", 0, 0 },
	{ __LINE__, "# only a comment\n\n   \n\t# indented\n", HDR "services: {}\n", "", 0, 0 },
	{ __LINE__, "https://example.org/team/api.git\n",
	  HDR SVC "  api:\n    git:\n      url: \"https://example.org/team/api.git\"\n" TAIL, "", 1, 0 },
	/* no final newline, CRLF, a BOM, tabs, a trailing comment */
	{ __LINE__, "\xef\xbb\xbf" "https://e.org/a\tmain\t/opt/a # the api\r\nhttps://e.org/b",
	  HDR SVC "  a:\n    # AutoExec dir: /opt/a (mls checks out under state_dir/git/a)\n    git:\n"
		  "      url: \"https://e.org/a\"\n      ref: main\n" TAIL
		  "  b:\n    git:\n      url: \"https://e.org/b\"\n" TAIL,
	  "", 2, 0 },
	/* duplicates, and a repository named like a generated name */
	{ __LINE__, "https://e.org/x/api\nhttps://e.org/y/api.git\nhttps://e.org/api-2\nhttps://e.org/z/API\n",
	  HDR SVC "  api:\n    git:\n      url: \"https://e.org/x/api\"\n" TAIL
		  "  api-2:\n    git:\n      url: \"https://e.org/y/api.git\"\n" TAIL
		  "  api-2-2:\n    git:\n      url: \"https://e.org/api-2\"\n" TAIL
		  "  api-3:\n    git:\n      url: \"https://e.org/z/API\"\n" TAIL,
	  "", 4, 0 },
	/* mls's own names are taken */
	{ __LINE__, "/srv/mls-httpd\n/srv/mls-gitwatch.git\n",
	  HDR SVC "  mls-httpd-2:\n    git:\n      url: \"/srv/mls-httpd\"\n" TAIL
		  "  mls-gitwatch-2:\n    git:\n      url: \"/srv/mls-gitwatch.git\"\n" TAIL,
	  "", 2, 0 },
	/* quoting: a null name and ref, '#' and '"' in a URL, a ref that needs quotes */
	{ __LINE__, "https://e.org/null?a=\"b\"#c null\nfile:///r 1.0\n/s v2:x\n",
	  HDR SVC "  \"null\":\n    git:\n      url: \"https://e.org/null?a=\\\"b\\\"#c\"\n      ref: \"null\"\n" TAIL
		  "  r:\n    git:\n      url: \"file:///r\"\n      ref: 1.0\n" TAIL,
	  "mls import: s.txt:3: bad branch name: v2:x\n", 2, 1 },
	{ __LINE__, "/r feature/@x\n/s _x\n",
	  HDR SVC "  r:\n    git:\n      url: \"/r\"\n      ref: \"feature/@x\"\n" TAIL
		  "  s:\n    git:\n      url: \"/s\"\n      ref: \"_x\"\n" TAIL,
	  "", 2, 0 },
	/* a dir that is not printable ASCII is quoted in the comment */
	{ __LINE__, "/r main /opt/caf\xc3\xa9\xe2\x80\xa8x\n",
	  HDR SVC "  r:\n    # AutoExec dir: \"/opt/caf\xc3\xa9\\u2028x\" (mls checks out under state_dir/git/r)\n"
		  "    git:\n      url: \"/r\"\n      ref: main\n" TAIL,
	  "", 1, 0 },
	{ __LINE__, "/r main /opt/\xff\n",
	  HDR SVC "  r:\n    # AutoExec dir: \"/opt/\\xff\" (mls checks out under state_dir/git/r)\n"
		  "    git:\n      url: \"/r\"\n      ref: main\n" TAIL,
	  "", 1, 0 },
	/* ssh in every spelling, other schemes, bad URLs: reported, the rest kept */
	{ __LINE__,
	  "git@github.com:team/a.git\nssh://git@h/b.git main\ngit+ssh://h/c\nSSH+GIT://h/d\nh:e\n"
	  "https://e.org/ok\ngit://h/f\nrelative/g\nhttps:///nohost\nhttps://h:99999/x\nhttps://h/\xff\n",
	  HDR SVC "  ok:\n    git:\n      url: \"https://e.org/ok\"\n" TAIL,
	  "mls import: s.txt:1: ssh URL not supported by mls (use https:// or file://): git@github.com:team/a.git\n"
	  "mls import: s.txt:2: ssh URL not supported by mls (use https:// or file://): ssh://git@h/b.git\n"
	  "mls import: s.txt:3: ssh URL not supported by mls (use https:// or file://): git+ssh://h/c\n"
	  "mls import: s.txt:4: ssh URL not supported by mls (use https:// or file://): SSH+GIT://h/d\n"
	  "mls import: s.txt:5: ssh URL not supported by mls (use https:// or file://): h:e\n"
	  "mls import: s.txt:7: URL scheme not supported by mls (use https:// or file://): git://h/f\n"
	  "mls import: s.txt:8: relative path (mls needs https://HOST/PATH, file:///PATH or /PATH): relative/g\n"
	  "mls import: s.txt:9: bad URL (expected https://HOST[:PORT]/PATH): https:///nohost\n"
	  "mls import: s.txt:10: bad URL (expected https://HOST[:PORT]/PATH): https://h:99999/x\n"
	  "mls import: s.txt:11: URL is not valid UTF-8: \"https://h/\\xff\"\n",
	  1, 10 },
	/* bad lines */
	{ __LINE__, "/a b c d\n/ok\n",
	  HDR SVC "  ok:\n    git:\n      url: \"/ok\"\n" TAIL,
	  "mls import: s.txt:1: more than 3 words (expected URL [BRANCH] [DIR])\n",
	  1, 1 },
	{ __LINE__, "/a a..b\n/b \x01x\n",
	  HDR "services: {}\n",
	  "mls import: s.txt:1: bad branch name: a..b\n"
	  "mls import: s.txt:2: bad branch name: \"\\x01x\"\n",
	  0, 2 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
		char name[64];
		autoexec_name(name_cases[i].url, name);
		if (!tap_ok(!strcmp(name, name_cases[i].name), name_cases[i].line, "name of %s", name_cases[i].url))
			tap_diag("got '%s', want '%s'", name, name_cases[i].name);
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = NULL, *err = NULL;
		size_t olen = 0, elen = 0;
		FILE *fo = open_memstream(&out, &olen), *fe = open_memstream(&err, &elen);
		struct autoexec_stats st;
		if (!fo || !fe) {
			perror("open_memstream");
			return 1;
		}
		int rc = autoexec_import(cases[i].in, strlen(cases[i].in), "s.txt", fo, fe, &st);
		fclose(fo);
		fclose(fe);
		int line = cases[i].line;
		tap_ok(rc == 0, line, "case %zu: returns 0", i);
		if (!tap_ok(!strcmp(out, cases[i].out), line, "case %zu: the YAML", i))
			tap_diag("got:\n%s\nwant:\n%s", out, cases[i].out);
		if (!tap_ok(!strcmp(err, cases[i].err), line, "case %zu: the messages", i))
			tap_diag("got:\n%s\nwant:\n%s", err, cases[i].err);
		if (!tap_ok(st.services == cases[i].services && st.refused == cases[i].refused, line,
			    "case %zu: counts", i))
			tap_diag("got %d services, %d refused", st.services, st.refused);
		free(out);
		free(err);
	}
	/* a NUL byte: that line is refused, the others kept */
	static const char nul[] = "/x\0y\n/ok\n";
	char *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	FILE *fo = open_memstream(&out, &olen), *fe = open_memstream(&err, &elen);
	struct autoexec_stats st;
	if (!fo || !fe)
		return 1;
	int rc = autoexec_import(nul, sizeof nul - 1, "s.txt", fo, fe, &st);
	fclose(fo);
	fclose(fe);
	tap_ok(rc == 0 && st.services == 1 && st.refused == 1, __LINE__, "a NUL byte: counts");
	tap_ok(!strcmp(out, HDR SVC "  ok:\n    git:\n      url: \"/ok\"\n" TAIL), __LINE__, "a NUL byte: the YAML");
	tap_ok(!strcmp(err, "mls import: s.txt:1: a NUL byte in the line\n"), __LINE__, "a NUL byte: the message");
	free(out);
	free(err);
	return tap_done();
}
