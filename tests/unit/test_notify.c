/* Unit tests for lib/notify.c: sd_notify datagrams, one row per case. */
#include <string.h>
#include "notify.h"
#include "tap.h"

static const struct {
	int line;
	const char *in;
	size_t len; /* 0: strlen(in) */
	int ready;
} cases[] = {
	{ __LINE__, "READY=1", 0, 1 },
	{ __LINE__, "READY=1\n", 0, 1 },
	{ __LINE__, "STATUS=up\nREADY=1", 0, 1 },
	{ __LINE__, "STATUS=up\nREADY=1\nMAINPID=7\n", 0, 1 },
	{ __LINE__, "", 0, 0 },
	{ __LINE__, "\n\n", 0, 0 },
	{ __LINE__, "READY=0", 0, 0 },
	{ __LINE__, "READY=10", 0, 0 },
	{ __LINE__, "READY=", 0, 0 },
	{ __LINE__, "XREADY=1", 0, 0 },
	{ __LINE__, " READY=1", 0, 0 },
	{ __LINE__, "READY=1 ", 0, 0 },
	{ __LINE__, "ready=1", 0, 0 },
	{ __LINE__, "READY=1\r", 0, 0 },  /* no CR trimming: systemd has none */
	{ __LINE__, "STATUS=x\0READY=1", 16, 0 }, /* after a NUL: not read */
	{ __LINE__, "READY=1\0junk", 12, 1 },
	{ __LINE__, "READY=", 7, 0 }, /* "READY=\0" */
	{ __LINE__, "READY=1", 6, 0 }, /* cut: "READY=" */
};

int main(void)
{
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t n = cases[k].len ? cases[k].len : strlen(cases[k].in);
		int got = notify_says_ready(cases[k].in, n);
		tap_ok(got == cases[k].ready, cases[k].line, "notify '%.*s' (%zu bytes): %d", (int)n, cases[k].in, n,
			cases[k].ready);
	}
	return tap_done();
}
