/* tap.h: a tiny TAP producer for the C unit tests (header only).
 *
 * Tests are tables; each row carries __LINE__ so that a failure names the
 * line of its row:
 *     tap_ok(got == want, c->line, "parse_size(\"%s\")", c->in);
 *     ...
 *     return tap_done();
 * prints "ok N - DESC" or "not ok N - DESC (line L)", then the plan "1..N"
 * at the end (allowed by TAP), and tap_done() returns the exit status:
 * 0 when all passed, 1 otherwise.
 *
 * A known problem (reported, not fixed yet) is marked with tap_todo(REASON)
 * before its result: it prints "# TODO REASON" and a failure does not count
 * (prove reports it as "TODO passed" once it is fixed: remove the mark).
 *
 * A test that cannot run on this machine (no tzdata, not root, a low fd
 * limit) calls tap_skip(REASON) instead of tap_ok: "ok N # SKIP REASON",
 * but under CI=true a failure (see tap_in_ci).
 *
 * Everything is static so that each test program has its own copy and no
 * symbol can clash with lib/. */
#ifndef MLS_TAP_H
#define MLS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	int n;            /* results printed so far */
	int failed;       /* of which "not ok" (TODO results not counted) */
	const char *todo; /* reason the next result is a TODO, or NULL */
} tap_state;

/* The next result is a known problem; NULL or "" for none */
static inline void tap_todo(const char *reason)
{
	tap_state.todo = reason && *reason ? reason : NULL;
}

/* Prints a description: '#' (a TAP directive) and '\' are escaped and
 * control bytes written as \xHH, so an input with a newline in it cannot
 * break the stream. Long descriptions are cut at 511 bytes. */
static inline void tap_vdesc(const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof buf, fmt, ap);
	for (const char *p = buf; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '#' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* One result; returns ok so a caller may print more on failure */
__attribute__((format(printf, 3, 4)))
static inline int tap_ok(int ok, int line, const char *fmt, ...)
{
	va_list ap;
	const char *todo = tap_state.todo;

	tap_state.todo = NULL;
	tap_state.n++;
	if (!ok && !todo)
		tap_state.failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_state.n);
	va_start(ap, fmt);
	tap_vdesc(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (line %d)", line);
	if (todo) {
		/* the reason as a directive: '#' and control bytes left out */
		fputs(" # TODO ", stdout);
		for (const char *p = todo; *p; p++)
			if (*p != '#' && (unsigned char)*p >= 0x20)
				putchar(*p);
	}
	putchar('\n');
	fflush(stdout);
	return ok;
}

/* Under CI=true (as CI services set it; 1 and yes count too), as in
 * tests/lib.sh: a CI machine is root and has every tool, so a test that
 * cannot run there is a failure */
static inline int tap_in_ci(void)
{
	const char *ci = getenv("CI");
	return ci && (!strcmp(ci, "true") || !strcmp(ci, "1") || !strcmp(ci, "yes"));
}

/* A test that cannot run here (e.g. no tzdata, not root, a low fd limit):
 * counts as passed, except under CI=true where it is
 * "not ok N - skipped under CI=true: REASON" */
__attribute__((format(printf, 1, 2)))
static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;
	int ci = tap_in_ci();

	tap_state.n++;
	if (ci) {
		tap_state.failed++;
		printf("not ok %d - skipped under CI=true: ", tap_state.n);
	} else {
		printf("ok %d # SKIP ", tap_state.n);
	}
	va_start(ap, fmt);
	tap_vdesc(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A comment line, e.g. what a failed case got */
__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout); /* seen even if the test crashes next */
}

/* Prints the plan; the exit status for main() */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_state.n);
	if (tap_state.failed)
		tap_diag("%d of %d failed", tap_state.failed, tap_state.n);
	return tap_state.failed ? 1 : 0;
}

#endif
