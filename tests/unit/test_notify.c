/* Unit tests for lib/notify.c: sd_notify datagrams, one row per case:
 * notify_says_ready() (cases), then notify_parse() (parse_cases), then
 * the two against each other on every row of both tables. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
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

#define R NOTIFY_READY
#define ST NOTIFY_STATUS
#define BAD -1

/* 256 'a' then "b": STATUS= cut to 255 bytes */
#define A16 "aaaaaaaaaaaaaaaa"
#define A64 A16 A16 A16 A16
#define A255 A64 A64 A64 A16 A16 A16 "aaaaaaaaaaaaaaa"

static const struct {
	int line;
	const char *in;
	size_t len;      /* 0: strlen(in) */
	int ret;         /* 0 or BAD (-1) */
	unsigned has;
	const char *status; /* NULL: "" */
	long mainpid;
	unsigned long long extend;
	int unknown;
} parse_cases[] = {
	/* what real daemons send (redis-server --supervised systemd, sd_notify(3)'s examples) */
	{ __LINE__, "READY=1\n", 0, 0, R, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1", 0, 0, R, NULL, 0, 0, 0 },
	{ __LINE__, "STATUS=Ready to accept connections\n", 0, 0, ST, "Ready to accept connections", 0, 0, 0 },
	{ __LINE__, "STATUS=MASTER <-> REPLICA sync: Finished with success. Ready to accept connections in read-write mode.\n",
		0, 0, ST, "MASTER <-> REPLICA sync: Finished with success. Ready to accept connections in read-write mode.", 0, 0, 0 },
	{ __LINE__, "STOPPING=1\n", 0, 0, NOTIFY_STOPPING, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1\nSTATUS=Processing requests...\nMAINPID=4711", 0, 0, R | ST | NOTIFY_MAINPID,
		"Processing requests...", 4711, 0, 0 },
	{ __LINE__, "RELOADING=1\nMONOTONIC_USEC=123456789\n", 0, 0, NOTIFY_RELOADING, NULL, 0, 0, 1 },
	{ __LINE__, "WATCHDOG=1\n", 0, 0, NOTIFY_WATCHDOG, NULL, 0, 0, 0 },
	{ __LINE__, "WATCHDOG=trigger\n", 0, 0, NOTIFY_WATCHDOG_TRIGGER, NULL, 0, 0, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=5000000\n", 0, 0, NOTIFY_EXTEND, NULL, 0, 5000000, 0 },
	{ __LINE__, "STATUS=Failed to start up: Bad file descriptor\nERRNO=9\n", 0, 0, ST,
		"Failed to start up: Bad file descriptor", 0, 0, 1 },
	{ __LINE__, "BUSERROR=org.freedesktop.DBus.Error.TimedOut\n", 0, 0, 0, NULL, 0, 0, 1 },
	{ __LINE__, "FDSTORE=1\nFDNAME=listen\n", 0, 0, 0, NULL, 0, 0, 2 },
	{ __LINE__, "X_FOO=bar\nNOTIFYACCESS=all\nWATCHDOG_USEC=20000000\nEXIT_STATUS=3\n", 0, 0, 0, NULL, 0, 0, 4 },
	/* other values of known keys: no flag, not unknown, not an error */
	{ __LINE__, "READY=0", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=10", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1 ", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "STOPPING=yes\nRELOADING=0", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "WATCHDOG=2", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "WATCHDOG=Trigger", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "WATCHDOG=1\nWATCHDOG=trigger", 0, 0, NOTIFY_WATCHDOG | NOTIFY_WATCHDOG_TRIGGER, NULL, 0, 0, 0 },
	{ __LINE__, "READY=0\nREADY=1", 0, 0, R, NULL, 0, 0, 0 },
	/* keys: case-sensitive, no trimming; a key with spaces is only unknown */
	{ __LINE__, "ready=1", 0, 0, 0, NULL, 0, 0, 1 },
	{ __LINE__, " READY=1", 0, 0, 0, NULL, 0, 0, 1 },
	{ __LINE__, "READY =1", 0, 0, 0, NULL, 0, 0, 1 },
	{ __LINE__, "XREADY=1", 0, 0, 0, NULL, 0, 0, 1 },
	{ __LINE__, "READY==1", 0, 0, 0, NULL, 0, 0, 0 },
	/* empty lines are skipped */
	{ __LINE__, "\n", 0, 0, 0, NULL, 0, 0, 0 },
	{ __LINE__, "\n\nREADY=1\n\n", 0, 0, R, NULL, 0, 0, 0 },
	/* STATUS=: empty (clears), '=' inside, first one counts, cut at 255 bytes */
	{ __LINE__, "STATUS=", 0, 0, ST, "", 0, 0, 0 },
	{ __LINE__, "STATUS=a=b==c", 0, 0, ST, "a=b==c", 0, 0, 0 },
	{ __LINE__, "STATUS=one\nSTATUS=two", 0, 0, ST, "one", 0, 0, 0 },
	{ __LINE__, "STATUS=" A255 "b", 0, 0, ST, A255, 0, 0, 0 },
	{ __LINE__, "STATUS=" A255, 0, 0, ST, A255, 0, 0, 0 },
	/* 254 bytes then a 2-byte character: it does not fit, it is not split */
	{ __LINE__, "STATUS=" A64 A64 A64 A16 A16 A16 "aaaaaaaaaaaaaa" "\xc3\xa9", 0, 0, ST,
		A64 A64 A64 A16 A16 A16 "aaaaaaaaaaaaaa", 0, 0, 0 },
	/* UTF-8 kept; DEL and C1 controls dropped; stray bytes become '?' */
	{ __LINE__, "STATUS=caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80", 0, 0, ST, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80", 0, 0, 0 },
	{ __LINE__, "STATUS=a\x7f" "b\xc2\x85" "c\xc2\x9f" "d\xc2\xa0" "e", 0, 0, ST, "abcd\xc2\xa0" "e", 0, 0, 0 },
	{ __LINE__, "STATUS=\xff" "x\xc3" "y\xe2\x9c" "z\x80", 0, 0, ST, "?x?y??z?", 0, 0, 0 },
	{ __LINE__, "STATUS=\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 0, 0, ST, "?????????", 0, 0, 0 },
	{ __LINE__, "STATUS=\xc3", 0, 0, ST, "?", 0, 0, 0 },
	/* MAINPID= and EXTEND_TIMEOUT_USEC=: decimals, or the datagram is refused */
	{ __LINE__, "MAINPID=1", 0, 0, NOTIFY_MAINPID, NULL, 1, 0, 0 },
	{ __LINE__, "MAINPID=2147483647", 0, 0, NOTIFY_MAINPID, NULL, INT_MAX, 0, 0 },
	{ __LINE__, "MAINPID=2147483648", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID=0", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID=", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID=-5", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID=+5", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID= 5", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID=5x", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1\nMAINPID=abc", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "MAINPID=12\nMAINPID=13", 0, 0, NOTIFY_MAINPID, NULL, 12, 0, 0 },
	{ __LINE__, "MAINPID=12\nMAINPID=x", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=0", 0, 0, NOTIFY_EXTEND, NULL, 0, 0, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=18446744073709551615", 0, 0, NOTIFY_EXTEND, NULL, 0, ULLONG_MAX, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=18446744073709551616", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=99999999999999999999999", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=1.5", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "EXTEND_TIMEOUT_USEC=", 0, BAD, 0, NULL, 0, 0, 0 },
	/* not a notify datagram */
	{ __LINE__, "", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1\nhello", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "=1", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1\r\n", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1\r", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "STATUS=a\tb", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "STATUS=\x1b[31mred", 0, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1\0junk", 12, BAD, 0, NULL, 0, 0, 0 },
	{ __LINE__, "READY=1", 8, BAD, 0, NULL, 0, 0, 0 }, /* trailing NUL */
	{ __LINE__, "\0", 1, BAD, 0, NULL, 0, 0, 0 },
};

/* The rows' text checked against a copy of exactly n bytes, so ASan sees
 * a read past the end */
static int check_parse(size_t k)
{
	const char *in = parse_cases[k].in;
	size_t n = parse_cases[k].len ? parse_cases[k].len : strlen(in);
	const char *want_status = parse_cases[k].status ? parse_cases[k].status : "";
	char *copy = malloc(n ? n : 1);
	struct notify_msg m;

	memset(&m, 0x5a, sizeof m); /* cleared by notify_parse either way */
	memcpy(copy, in, n);
	int ret = notify_parse(copy, n, &m);
	free(copy);
	int ok = ret == parse_cases[k].ret && m.has == parse_cases[k].has && !strcmp(m.status, want_status) &&
		m.mainpid == parse_cases[k].mainpid && m.extend_usec == parse_cases[k].extend &&
		m.unknown == parse_cases[k].unknown;
	if (!tap_ok(ok, parse_cases[k].line, "notify_parse '%.60s' (%zu bytes): %d has %#x", in, n,
		parse_cases[k].ret, parse_cases[k].has))
		tap_diag("got %d has %#x status '%s' mainpid %ld extend %llu unknown %d", ret, m.has, m.status,
			m.mainpid, m.extend_usec, m.unknown);
	return ok;
}

/* notify_parse accepts a datagram: it then agrees with notify_says_ready */
static void check_agree(int line, const char *in, size_t n)
{
	struct notify_msg m;
	if (notify_parse(in, n, &m))
		return;
	int ready = notify_says_ready(in, n), parsed = !!(m.has & NOTIFY_READY);
	tap_ok(ready == parsed, line, "notify_parse and notify_says_ready agree on '%.40s': %d", in, ready);
}

int main(void)
{
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t n = cases[k].len ? cases[k].len : strlen(cases[k].in);
		int got = notify_says_ready(cases[k].in, n);
		tap_ok(got == cases[k].ready, cases[k].line, "notify '%.*s' (%zu bytes): %d", (int)n, cases[k].in, n,
			cases[k].ready);
	}
	for (size_t k = 0; k < sizeof parse_cases / sizeof *parse_cases; k++)
		check_parse(k);
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
		check_agree(cases[k].line, cases[k].in, cases[k].len ? cases[k].len : strlen(cases[k].in));
	for (size_t k = 0; k < sizeof parse_cases / sizeof *parse_cases; k++)
		check_agree(parse_cases[k].line, parse_cases[k].in,
			parse_cases[k].len ? parse_cases[k].len : strlen(parse_cases[k].in));

	/* sizes: NOTIFY_MAX bytes are accepted, one more is not */
	static char big[NOTIFY_MAX + 1];
	struct notify_msg m;
	memset(big, '\n', sizeof big);
	memcpy(big, "READY=1", 7);
	tap_ok(notify_parse(big, NOTIFY_MAX, &m) == 0 && m.has == R, __LINE__, "notify_parse: %d bytes accepted",
		NOTIFY_MAX);
	tap_ok(notify_parse(big, NOTIFY_MAX + 1, &m) == -1 && m.has == 0, __LINE__,
		"notify_parse: %d bytes refused", NOTIFY_MAX + 1);
	/* a long STATUS= in a full datagram: cut, the line after it still read */
	memset(big, 'x', sizeof big);
	memcpy(big, "STATUS=", 7);
	memcpy(big + NOTIFY_MAX - 9, "\nREADY=1", 8);
	tap_ok(notify_parse(big, NOTIFY_MAX - 1, &m) == 0 && m.has == (R | ST) &&
		strlen(m.status) == NOTIFY_STATUS_MAX - 1, __LINE__, "notify_parse: long STATUS= cut, READY=1 after it");
	return tap_done();
}
