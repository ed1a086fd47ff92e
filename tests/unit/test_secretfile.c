/* Unit tests for lib/secretfile.c: a token or password from its file.
 * Output is TAP; exit status 1 if any failed. */
#include "secretfile.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/mls-secretfile-XXXXXX";

static const char *put(const char *name, const char *text, size_t len)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
	return p;
}

int main(void)
{
	char err[512], *s;
	if (!mkdtemp(dir))
		return 1;
	s = secretfile_read(put("a", "  tok-0123456789abcdef \t\r\nsecond line\n", 38), "token", 16, err, sizeof err);
	tap_ok(s && !strcmp(s, "tok-0123456789abcdef"), __LINE__, "the first line, blanks around it cut (%s)", s ? s : err);
	free(s);
	s = secretfile_read(put("b", "short\n", 6), "token", 16, err, sizeof err);
	tap_ok(!s && strstr(err, "shorter than 16 characters"), __LINE__, "too short for min: %s", err);
	s = secretfile_read(put("c", "short\n", 6), "password", 0, err, sizeof err);
	tap_ok(s && !strcmp(s, "short"), __LINE__, "no minimum: taken");
	free(s);
	s = secretfile_read(put("d", " \n\n", 3), "token", 0, err, sizeof err);
	tap_ok(!s && strstr(err, "is empty"), __LINE__, "blank: %s", err);
	char *big = malloc(SECRETFILE_MAX + 1);
	memset(big, 'x', SECRETFILE_MAX + 1);
	s = secretfile_read(put("e", big, SECRETFILE_MAX + 1), "token", 0, err, sizeof err);
	tap_ok(!s && strstr(err, "larger than 4 KiB"), __LINE__, "over the limit: %s", err);
	s = secretfile_read(put("f", big, SECRETFILE_MAX), "token", 0, err, sizeof err);
	tap_ok(s && strlen(s) == SECRETFILE_MAX, __LINE__, "exactly the limit: taken");
	free(s);
	free(big);
	s = secretfile_read("/nonexistent/mls-secret", "token", 0, err, sizeof err);
	tap_ok(!s && strstr(err, "cannot read /nonexistent/mls-secret: No such file"), __LINE__, "missing: %s", err);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {
	}
	return tap_done();
}
