/* Unit tests for lib/parse.c: one table per parser, each row with the line
 * it is on. Output is TAP; exit status 1 if any case failed. */
#include "parse.h"
#include "tap.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define OK 0
#define ERR (-1)

/* ------------------------------------------------------------- duration */

static const struct {
	int line;
	const char *in;
	int rc;
	int64_t ms;
} dur_cases[] = {
	{ __LINE__, "0", OK, 0 },
	{ __LINE__, "0s", OK, 0 },
	{ __LINE__, "0ms", OK, 0 },
	{ __LINE__, "0h0m", OK, 0 },
	{ __LINE__, "250ms", OK, 250 },
	{ __LINE__, "5s", OK, 5000 },
	{ __LINE__, "2m", OK, 120000 },
	{ __LINE__, "1h", OK, 3600000 },
	{ __LINE__, "1d", OK, 86400000 },
	{ __LINE__, "1h30m", OK, 5400000 },
	{ __LINE__, "1m30s", OK, 90000 },
	{ __LINE__, "1s500ms", OK, 1500 },
	{ __LINE__, "1d2h3m4s5ms", OK, 93784005 },
	{ __LINE__, "1d5ms", OK, 86400005 },
	{ __LINE__, "90s", OK, 90000 },
	{ __LINE__, "100000ms", OK, 100000 },
	{ __LINE__, "007s", OK, 7000 },
	{ __LINE__, "1.5s", OK, 1500 },
	{ __LINE__, "0.25s", OK, 250 },
	{ __LINE__, "0.001s", OK, 1 },
	{ __LINE__, "1.5h", OK, 5400000 },
	{ __LINE__, "1.5h30m", OK, 7200000 },
	{ __LINE__, "2.50m", OK, 150000 },
	{ __LINE__, "9223372036854775807ms", OK, INT64_MAX },
	{ __LINE__, "106751991167d", OK, INT64_C(106751991167) * 86400000 },
	{ __LINE__, "106751991167d7h", OK,
	  INT64_C(106751991167) * 86400000 + 7 * 3600000 },
	/* overflow */
	{ __LINE__, "9223372036854775808ms", ERR, 0 },
	{ __LINE__, "99999999999999999999999s", ERR, 0 },
	{ __LINE__, "106751991168d", ERR, 0 },
	{ __LINE__, "106751991167d8h", ERR, 0 },
	{ __LINE__, "9223372036854775807ms1ms", ERR, 0 }, /* order too */
	{ __LINE__, "9223372036854775s", OK, INT64_C(9223372036854775000) },
	{ __LINE__, "9223372036854776s", ERR, 0 },
	/* bare numbers other than 0 are ambiguous */
	{ __LINE__, "5", ERR, 0 },
	{ __LINE__, "1000", ERR, 0 },
	{ __LINE__, "00", ERR, 0 },
	{ __LINE__, "1h30", ERR, 0 },
	/* order and repetition */
	{ __LINE__, "30m1h", ERR, 0 },
	{ __LINE__, "1h1h", ERR, 0 },
	{ __LINE__, "1ms1s", ERR, 0 },
	{ __LINE__, "1s1s", ERR, 0 },
	{ __LINE__, "1m1d", ERR, 0 },
	/* syntax */
	{ __LINE__, "", ERR, 0 },
	{ __LINE__, "s", ERR, 0 },
	{ __LINE__, "ms", ERR, 0 },
	{ __LINE__, "-1s", ERR, 0 },
	{ __LINE__, "+1s", ERR, 0 },
	{ __LINE__, " 1s", ERR, 0 },
	{ __LINE__, "1s ", ERR, 0 },
	{ __LINE__, "1 s", ERR, 0 },
	{ __LINE__, "1h 30m", ERR, 0 },
	{ __LINE__, "1S", ERR, 0 },
	{ __LINE__, "1H", ERR, 0 },
	{ __LINE__, "1x", ERR, 0 },
	{ __LINE__, "1us", ERR, 0 },
	{ __LINE__, "1ns", ERR, 0 },
	{ __LINE__, "1sec", ERR, 0 },
	{ __LINE__, "1sms", ERR, 0 },
	{ __LINE__, "1e3ms", ERR, 0 },
	{ __LINE__, "0x10s", ERR, 0 },
	{ __LINE__, "1.5ms", ERR, 0 },      /* not a whole number of ms */
	{ __LINE__, "0.0001s", ERR, 0 },
	{ __LINE__, "1.s", ERR, 0 },
	{ __LINE__, ".5s", ERR, 0 },
	{ __LINE__, "1..5s", ERR, 0 },
	{ __LINE__, "1.5.5s", ERR, 0 },
	{ __LINE__, "1.0000000001s", ERR, 0 }, /* more than 9 fraction digits */
	{ __LINE__, "1,5s", ERR, 0 },
};

static void test_duration(void)
{
	for (size_t i = 0; i < sizeof dur_cases / sizeof dur_cases[0]; i++) {
		int64_t ms = -12345;
		int rc = parse_duration(dur_cases[i].in, &ms);
		int ok = rc == dur_cases[i].rc &&
			 (rc != OK || ms == dur_cases[i].ms);
		if (!tap_ok(ok, dur_cases[i].line, "parse_duration(\"%s\")",
			    dur_cases[i].in))
			tap_diag("rc %d, ms %lld", rc, (long long)ms);
	}
}

/* ----------------------------------------------------------------- size */

static const struct {
	int line;
	const char *in;
	int rc;
	int64_t bytes;
} size_cases[] = {
	{ __LINE__, "0", OK, 0 },
	{ __LINE__, "512", OK, 512 },
	{ __LINE__, "512B", OK, 512 },
	{ __LINE__, "0B", OK, 0 },
	{ __LINE__, "1K", OK, 1024 },
	{ __LINE__, "1k", OK, 1024 },
	{ __LINE__, "64KiB", OK, 65536 },
	{ __LINE__, "1M", OK, 1048576 },
	{ __LINE__, "1m", OK, 1048576 },
	{ __LINE__, "256MiB", OK, INT64_C(256) << 20 },
	{ __LINE__, "1G", OK, INT64_C(1) << 30 },
	{ __LINE__, "1g", OK, INT64_C(1) << 30 },
	{ __LINE__, "1GiB", OK, INT64_C(1) << 30 },
	{ __LINE__, "1T", OK, INT64_C(1) << 40 },
	{ __LINE__, "1t", OK, INT64_C(1) << 40 },
	{ __LINE__, "1TiB", OK, INT64_C(1) << 40 },
	{ __LINE__, "10KB", OK, 10000 },
	{ __LINE__, "10kB", OK, 10000 },
	{ __LINE__, "5MB", OK, 5000000 },
	{ __LINE__, "1GB", OK, 1000000000 },
	{ __LINE__, "1TB", OK, INT64_C(1000000000000) },
	{ __LINE__, "9223372036854775807", OK, INT64_MAX },
	{ __LINE__, "9223372036854775807B", OK, INT64_MAX },
	{ __LINE__, "8388607TiB", OK, INT64_C(8388607) << 40 },
	{ __LINE__, "9223372TB", OK, INT64_C(9223372) * 1000000000000 },
	/* overflow */
	{ __LINE__, "9223372036854775808", ERR, 0 },
	{ __LINE__, "8388608TiB", ERR, 0 },
	{ __LINE__, "8388608T", ERR, 0 },
	{ __LINE__, "9223373TB", ERR, 0 },
	{ __LINE__, "99999999999999999999999", ERR, 0 },
	/* syntax */
	{ __LINE__, "", ERR, 0 },
	{ __LINE__, "K", ERR, 0 },
	{ __LINE__, "B", ERR, 0 },
	{ __LINE__, "-1", ERR, 0 },
	{ __LINE__, "+1", ERR, 0 },
	{ __LINE__, "1.5G", ERR, 0 },
	{ __LINE__, "1 K", ERR, 0 },
	{ __LINE__, " 1K", ERR, 0 },
	{ __LINE__, "1KiB ", ERR, 0 },
	{ __LINE__, "1Ki", ERR, 0 },
	{ __LINE__, "1KIB", ERR, 0 },
	{ __LINE__, "1kib", ERR, 0 },
	{ __LINE__, "1Kb", ERR, 0 },  /* bits? */
	{ __LINE__, "1b", ERR, 0 },
	{ __LINE__, "1BB", ERR, 0 },
	{ __LINE__, "1PB", ERR, 0 },
	{ __LINE__, "1P", ERR, 0 },
	{ __LINE__, "1e3", ERR, 0 },
	{ __LINE__, "0x10", ERR, 0 },
	{ __LINE__, "1KK", ERR, 0 },
};

static void test_size(void)
{
	for (size_t i = 0; i < sizeof size_cases / sizeof size_cases[0]; i++) {
		int64_t b = -12345;
		int rc = parse_size(size_cases[i].in, &b);
		int ok = rc == size_cases[i].rc &&
			 (rc != OK || b == size_cases[i].bytes);
		if (!tap_ok(ok, size_cases[i].line, "parse_size(\"%s\")",
			    size_cases[i].in))
			tap_diag("rc %d, bytes %lld", rc, (long long)b);
	}
}

/* -------------------------------------------------------------- percent */

static const struct {
	int line;
	const char *in;
	int rc, pct;
} pct_cases[] = {
	{ __LINE__, "0%", OK, 0 },
	{ __LINE__, "10%", OK, 10 },
	{ __LINE__, "100%", OK, 100 },
	{ __LINE__, "007%", OK, 7 },
	{ __LINE__, "101%", ERR, 0 },
	{ __LINE__, "1000%", ERR, 0 },
	{ __LINE__, "99999999999999999999%", ERR, 0 },
	{ __LINE__, "10", ERR, 0 },
	{ __LINE__, "%", ERR, 0 },
	{ __LINE__, "", ERR, 0 },
	{ __LINE__, "-1%", ERR, 0 },
	{ __LINE__, "+1%", ERR, 0 },
	{ __LINE__, "10 %", ERR, 0 },
	{ __LINE__, "10%%", ERR, 0 },
	{ __LINE__, "10% ", ERR, 0 },
	{ __LINE__, "1.5%", ERR, 0 },
};

static void test_percent(void)
{
	for (size_t i = 0; i < sizeof pct_cases / sizeof pct_cases[0]; i++) {
		int p = -1;
		int rc = parse_percent(pct_cases[i].in, &p);
		int ok = rc == pct_cases[i].rc && (rc != OK || p == pct_cases[i].pct);
		if (!tap_ok(ok, pct_cases[i].line, "parse_percent(\"%s\")",
			    pct_cases[i].in))
			tap_diag("rc %d, pct %d", rc, p);
	}
}

/* --------------------------------------------------------------- signal */

static const struct {
	int line;
	const char *in;
	int rc, sig;
} sig_cases[] = {
	{ __LINE__, "TERM", OK, SIGTERM },
	{ __LINE__, "SIGTERM", OK, SIGTERM },
	{ __LINE__, "sigterm", OK, SIGTERM },
	{ __LINE__, "term", OK, SIGTERM },
	{ __LINE__, "SigKill", OK, SIGKILL },
	{ __LINE__, "HUP", OK, SIGHUP },
	{ __LINE__, "SIGHUP", OK, SIGHUP },
	{ __LINE__, "INT", OK, SIGINT },
	{ __LINE__, "QUIT", OK, SIGQUIT },
	{ __LINE__, "KILL", OK, SIGKILL },
	{ __LINE__, "USR1", OK, SIGUSR1 },
	{ __LINE__, "usr2", OK, SIGUSR2 },
	{ __LINE__, "ALRM", OK, SIGALRM },
	{ __LINE__, "CHLD", OK, SIGCHLD },
	{ __LINE__, "CONT", OK, SIGCONT },
	{ __LINE__, "STOP", OK, SIGSTOP },
	{ __LINE__, "TSTP", OK, SIGTSTP },
	{ __LINE__, "WINCH", OK, SIGWINCH },
	{ __LINE__, "PIPE", OK, SIGPIPE },
	{ __LINE__, "ABRT", OK, SIGABRT },
	{ __LINE__, "IOT", OK, SIGABRT },
	{ __LINE__, "SIGSEGV", OK, SIGSEGV },
	{ __LINE__, "SYS", OK, SIGSYS },
	{ __LINE__, "15", OK, 15 },
	{ __LINE__, "1", OK, 1 },
	{ __LINE__, "9", OK, 9 },
	{ __LINE__, "34", OK, 34 },  /* real-time: by number only */
	{ __LINE__, "64", OK, 64 },
	{ __LINE__, "0", ERR, 0 },
	{ __LINE__, "65", ERR, 0 },
	{ __LINE__, "99999999999999999999", ERR, 0 },
	{ __LINE__, "-15", ERR, 0 },
	{ __LINE__, "+15", ERR, 0 },
	{ __LINE__, "15x", ERR, 0 },
	{ __LINE__, "", ERR, 0 },
	{ __LINE__, "SIG", ERR, 0 },
	{ __LINE__, "SIGSIGTERM", ERR, 0 },
	{ __LINE__, "SIG15", ERR, 0 },
	{ __LINE__, " TERM", ERR, 0 },
	{ __LINE__, "TERM ", ERR, 0 },
	{ __LINE__, "TER", ERR, 0 },
	{ __LINE__, "TERMX", ERR, 0 },
	{ __LINE__, "FOO", ERR, 0 },
	{ __LINE__, "RTMIN", ERR, 0 },
	{ __LINE__, "SIG_TERM", ERR, 0 },
};

static void test_signal(void)
{
	for (size_t i = 0; i < sizeof sig_cases / sizeof sig_cases[0]; i++) {
		int s = -1;
		int rc = parse_signal(sig_cases[i].in, &s);
		int ok = rc == sig_cases[i].rc && (rc != OK || s == sig_cases[i].sig);
		if (!tap_ok(ok, sig_cases[i].line, "parse_signal(\"%s\")",
			    sig_cases[i].in))
			tap_diag("rc %d, sig %d", rc, s);
	}
}

static const struct {
	int line;
	int sig;
	const char *name; /* NULL: unknown */
} signame_cases[] = {
	{ __LINE__, SIGTERM, "TERM" },
	{ __LINE__, SIGKILL, "KILL" },
	{ __LINE__, SIGHUP, "HUP" },
	{ __LINE__, SIGABRT, "ABRT" }, /* not its alias IOT */
	{ __LINE__, SIGCHLD, "CHLD" },
	{ __LINE__, SIGWINCH, "WINCH" },
	{ __LINE__, SIGUSR2, "USR2" },
	{ __LINE__, 0, NULL },
	{ __LINE__, -1, NULL },
	{ __LINE__, 34, NULL },
	{ __LINE__, 65, NULL },
};

static void test_signal_name(void)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof signame_cases / sizeof signame_cases[0]; i++) {
		const char *got = signal_name(signame_cases[i].sig);
		const char *want = signame_cases[i].name;
		int ok = (!got && !want) || (got && want && strcmp(got, want) == 0);
		tap_ok(ok, signame_cases[i].line, "signal_name(%d) = %s",
		       signame_cases[i].sig, want ? want : "NULL");
	}
	/* every name given back parses to the same number */
	for (int s = 1; s <= 64; s++) {
		const char *n = signal_name(s);
		int back = -1;
		if (n && (parse_signal(n, &back) != 0 || back != s)) {
			tap_diag("signal %d: name %s parses to %d", s, n, back);
			bad++;
		}
	}
	tap_ok(bad == 0, __LINE__, "signal_name round-trips through parse_signal");
}

/* ------------------------------------------------------------ host:port */

static const struct {
	int line;
	const char *in;
	int rc;
	const char *host;
	int port;
} hp_cases[] = {
	{ __LINE__, "localhost:8080", OK, "localhost", 8080 },
	{ __LINE__, "127.0.0.1:80", OK, "127.0.0.1", 80 },
	{ __LINE__, "0.0.0.0:9000", OK, "0.0.0.0", 9000 },
	{ __LINE__, ":8080", OK, "", 8080 },
	{ __LINE__, "[::1]:443", OK, "::1", 443 },
	{ __LINE__, "[::]:1", OK, "::", 1 },
	{ __LINE__, "[2001:db8::1]:65535", OK, "2001:db8::1", 65535 },
	{ __LINE__, "[::ffff:10.0.0.1]:22", OK, "::ffff:10.0.0.1", 22 },
	{ __LINE__, "my_host-1.example.com:1", OK, "my_host-1.example.com", 1 },
	{ __LINE__, "web:08080", OK, "web", 8080 },
	{ __LINE__, "localhost", ERR, NULL, 0 },
	{ __LINE__, "localhost:", ERR, NULL, 0 },
	{ __LINE__, "host:0", ERR, NULL, 0 },
	{ __LINE__, "host:65536", ERR, NULL, 0 },
	{ __LINE__, "host:99999999999999999999", ERR, NULL, 0 },
	{ __LINE__, "host:-1", ERR, NULL, 0 },
	{ __LINE__, "host:+80", ERR, NULL, 0 },
	{ __LINE__, "host:80x", ERR, NULL, 0 },
	{ __LINE__, "host: 80", ERR, NULL, 0 },
	{ __LINE__, "host:80 ", ERR, NULL, 0 },
	{ __LINE__, " host:80", ERR, NULL, 0 },
	{ __LINE__, "ho st:80", ERR, NULL, 0 },
	{ __LINE__, "host/x:80", ERR, NULL, 0 },
	{ __LINE__, "user@host:80", ERR, NULL, 0 },
	{ __LINE__, "a:b:80", ERR, NULL, 0 },
	{ __LINE__, "::1:80", ERR, NULL, 0 },  /* v6 needs brackets */
	{ __LINE__, "[::1:80", ERR, NULL, 0 },
	{ __LINE__, "[::1]80", ERR, NULL, 0 },
	{ __LINE__, "[::1]", ERR, NULL, 0 },
	{ __LINE__, "[::1]:", ERR, NULL, 0 },
	{ __LINE__, "[]:80", ERR, NULL, 0 },
	{ __LINE__, "[zz::1]:80", ERR, NULL, 0 },
	{ __LINE__, "[127.0.0.1]:80", ERR, NULL, 0 },
	{ __LINE__, "[fe80::1%eth0]:80", ERR, NULL, 0 },
	{ __LINE__, "", ERR, NULL, 0 },
	{ __LINE__, ":", ERR, NULL, 0 },
	{ __LINE__, "host:80\n", ERR, NULL, 0 },
};

static void test_hostport(void)
{
	char host[64], tiny[5];
	int port, rc;

	for (size_t i = 0; i < sizeof hp_cases / sizeof hp_cases[0]; i++) {
		strcpy(host, "?");
		port = -1;
		rc = parse_hostport(hp_cases[i].in, host, sizeof host, &port);
		int ok = rc == hp_cases[i].rc &&
			 (rc != OK || (strcmp(host, hp_cases[i].host) == 0 &&
				       port == hp_cases[i].port));
		if (!tap_ok(ok, hp_cases[i].line, "parse_hostport(\"%s\")",
			    hp_cases[i].in))
			tap_diag("rc %d, host \"%s\", port %d", rc, host, port);
	}
	/* the host buffer's size is respected, the NUL included */
	rc = parse_hostport("abcd:1", tiny, sizeof tiny, &port);
	tap_ok(rc == OK && strcmp(tiny, "abcd") == 0, __LINE__,
	       "parse_hostport: host fills the buffer exactly");
	tap_ok(parse_hostport("abcde:1", tiny, sizeof tiny, &port) == ERR,
	       __LINE__, "parse_hostport: host too long for the buffer");
	tap_ok(parse_hostport("abcd:1", tiny, 0, &port) == ERR, __LINE__,
	       "parse_hostport: zero-size buffer");
	tap_ok(parse_hostport("[::1]:80", NULL, 0, NULL) == OK, __LINE__,
	       "parse_hostport: NULL host and port only validate");
}

/* ------------------------------------------------------------------ url */

static const struct {
	int line;
	const char *in;
	int rc, https;
	const char *host;
	int port;
} url_cases[] = {
	{ __LINE__, "http://localhost/", OK, 0, "localhost", 80 },
	{ __LINE__, "http://localhost", OK, 0, "localhost", 80 },
	{ __LINE__, "https://example.com", OK, 1, "example.com", 443 },
	{ __LINE__, "http://127.0.0.1:8080/health", OK, 0, "127.0.0.1", 8080 },
	{ __LINE__, "http://[::1]:9000/x?y=1", OK, 0, "::1", 9000 },
	{ __LINE__, "https://[::1]/", OK, 1, "::1", 443 },
	{ __LINE__, "HTTPS://Example.COM:8443?q", OK, 1, "Example.COM", 8443 },
	{ __LINE__, "http://host#frag", OK, 0, "host", 80 },
	{ __LINE__, "http://host:1", OK, 0, "host", 1 },
	{ __LINE__, "https://h:65535/a/b?c=d&e=%20#f", OK, 1, "h", 65535 },
	{ __LINE__, "http://host/a:b@c", OK, 0, "host", 80 }, /* ':' in path */
	{ __LINE__, "ftp://host/", ERR, 0, NULL, 0 },
	{ __LINE__, "host/", ERR, 0, NULL, 0 },
	{ __LINE__, "http//host", ERR, 0, NULL, 0 },
	{ __LINE__, "https:/host", ERR, 0, NULL, 0 },
	{ __LINE__, "http://", ERR, 0, NULL, 0 },
	{ __LINE__, "http:///path", ERR, 0, NULL, 0 },
	{ __LINE__, "http://:80/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host:/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host:0/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host:65536/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host:80:81/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host:8a/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host:99999999999/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://user@host/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://ho st/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host/a b", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host/\t", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host/\x7f", ERR, 0, NULL, 0 },
	{ __LINE__, "http://host/\n", ERR, 0, NULL, 0 },
	{ __LINE__, " http://host/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://[::1/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://[::1]x/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://[::1]:/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://::1/", ERR, 0, NULL, 0 },
	{ __LINE__, "http://${PORT}/", ERR, 0, NULL, 0 },
	{ __LINE__, "", ERR, 0, NULL, 0 },
};

static void test_url(void)
{
	char host[64], tiny[4];
	int https, port, rc;

	for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
		strcpy(host, "?");
		https = port = -1;
		rc = parse_url(url_cases[i].in, &https, host, sizeof host, &port);
		int ok = rc == url_cases[i].rc &&
			 (rc != OK || (strcmp(host, url_cases[i].host) == 0 &&
				       https == url_cases[i].https &&
				       port == url_cases[i].port));
		if (!tap_ok(ok, url_cases[i].line, "parse_url(\"%s\")",
			    url_cases[i].in))
			tap_diag("rc %d, https %d, host \"%s\", port %d", rc,
				 https, host, port);
	}
	rc = parse_url("http://abcd/", &https, tiny, sizeof tiny, &port);
	tap_ok(rc == ERR, __LINE__, "parse_url: host too long for the buffer");
	rc = parse_url("http://abc/", NULL, tiny, sizeof tiny, NULL);
	tap_ok(rc == OK && strcmp(tiny, "abc") == 0, __LINE__,
	       "parse_url: NULL is_https and port");
}

/* ------------------------------------------------------------------ int */

static const struct {
	int line;
	const char *in;
	int64_t min, max;
	int rc;
	int64_t out;
} int_cases[] = {
	{ __LINE__, "0", INT64_MIN, INT64_MAX, OK, 0 },
	{ __LINE__, "-0", INT64_MIN, INT64_MAX, OK, 0 },
	{ __LINE__, "42", INT64_MIN, INT64_MAX, OK, 42 },
	{ __LINE__, "-42", INT64_MIN, INT64_MAX, OK, -42 },
	{ __LINE__, "007", INT64_MIN, INT64_MAX, OK, 7 },
	{ __LINE__, "9223372036854775807", INT64_MIN, INT64_MAX, OK, INT64_MAX },
	{ __LINE__, "-9223372036854775808", INT64_MIN, INT64_MAX, OK, INT64_MIN },
	{ __LINE__, "9223372036854775808", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "-9223372036854775809", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "18446744073709551616", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "99999999999999999999999", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "1", 1, 10, OK, 1 },
	{ __LINE__, "10", 1, 10, OK, 10 },
	{ __LINE__, "0", 1, 10, ERR, 0 },
	{ __LINE__, "11", 1, 10, ERR, 0 },
	{ __LINE__, "-20", -20, -10, OK, -20 },
	{ __LINE__, "-21", -20, -10, ERR, 0 },
	{ __LINE__, "-9", -20, -10, ERR, 0 },
	{ __LINE__, "19", 19, 19, OK, 19 },
	{ __LINE__, "", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "-", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "--1", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "+1", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, " 1", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "1 ", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "1a", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "0x10", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "1.0", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "1e3", INT64_MIN, INT64_MAX, ERR, 0 },
	{ __LINE__, "- 1", INT64_MIN, INT64_MAX, ERR, 0 },
};

static void test_int(void)
{
	for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
		int64_t v = 12345;
		int rc = parse_int(int_cases[i].in, int_cases[i].min,
				   int_cases[i].max, &v);
		int ok = rc == int_cases[i].rc && (rc != OK || v == int_cases[i].out);
		if (!tap_ok(ok, int_cases[i].line, "parse_int(\"%s\", %lld, %lld)",
			    int_cases[i].in, (long long)int_cases[i].min,
			    (long long)int_cases[i].max))
			tap_diag("rc %d, out %lld", rc, (long long)v);
	}
}

/* --------------------------------------------------------------- number */

static const struct {
	int line;
	const char *in;
	int rc;
	double out;
} num_cases[] = {
	{ __LINE__, "2", OK, 2.0 },
	{ __LINE__, "1.5", OK, 1.5 },
	{ __LINE__, "0.25", OK, 0.25 },
	{ __LINE__, "0.001", OK, 0.001 },
	{ __LINE__, "100", OK, 100.0 },
	{ __LINE__, "007.50", OK, 7.5 },
	{ __LINE__, "99999999999999999999999", OK, 1e23 },
	{ __LINE__, "0", ERR, 0 },
	{ __LINE__, "0.0", ERR, 0 },
	{ __LINE__, "000", ERR, 0 },
	{ __LINE__, "-1", ERR, 0 },
	{ __LINE__, "+1", ERR, 0 },
	{ __LINE__, "", ERR, 0 },
	{ __LINE__, ".5", ERR, 0 },
	{ __LINE__, "5.", ERR, 0 },
	{ __LINE__, "1e3", ERR, 0 },
	{ __LINE__, "inf", ERR, 0 },
	{ __LINE__, "nan", ERR, 0 },
	{ __LINE__, "0x1p3", ERR, 0 },
	{ __LINE__, "1,5", ERR, 0 },
	{ __LINE__, "1.2.3", ERR, 0 },
	{ __LINE__, " 1", ERR, 0 },
	{ __LINE__, "1 ", ERR, 0 },
	{ __LINE__, "1x", ERR, 0 },
};

static void test_number(void)
{
	char huge[402];

	for (size_t i = 0; i < sizeof num_cases / sizeof num_cases[0]; i++) {
		double v = -1;
		int rc = parse_number(num_cases[i].in, &v);
		int ok = rc == num_cases[i].rc && (rc != OK || v == num_cases[i].out);
		if (!tap_ok(ok, num_cases[i].line, "parse_number(\"%s\")",
			    num_cases[i].in))
			tap_diag("rc %d, out %g", rc, v);
	}
	/* 1e400 written out is infinite as a double */
	huge[0] = '1';
	memset(huge + 1, '0', sizeof huge - 2);
	huge[sizeof huge - 1] = '\0';
	double v;
	tap_ok(parse_number(huge, &v) == ERR, __LINE__,
	       "parse_number: 1 and 400 zeros is not finite");
}

/* ------------------------------------------------------------- loopback */

static const struct {
	int line;
	const char *host;
	int want;
} lo_cases[] = {
	{ __LINE__, "localhost", 1 },
	{ __LINE__, "LocalHost", 1 },
	{ __LINE__, "localhost.", 1 },
	{ __LINE__, "127.0.0.1", 1 },
	{ __LINE__, "127.1.2.3", 1 },
	{ __LINE__, "127.255.255.255", 1 },
	{ __LINE__, "::1", 1 },
	{ __LINE__, "[::1]", 1 },
	{ __LINE__, "0:0:0:0:0:0:0:1", 1 },
	{ __LINE__, "::ffff:127.0.0.1", 1 },
	{ __LINE__, "", 0 },
	{ __LINE__, "128.0.0.1", 0 },
	{ __LINE__, "126.255.255.255", 0 },
	{ __LINE__, "0.0.0.0", 0 },
	{ __LINE__, "10.0.0.1", 0 },
	{ __LINE__, "127.0.0.256", 0 },
	{ __LINE__, "::", 0 },
	{ __LINE__, "::2", 0 },
	{ __LINE__, "[::1", 0 },
	{ __LINE__, "::ffff:10.0.0.1", 0 },
	{ __LINE__, "localhost.example.com", 0 },
	{ __LINE__, "mylocalhost", 0 },
	{ __LINE__, "example.com", 0 },
	{ __LINE__, NULL, 0 },
};

static void test_loopback(void)
{
	for (size_t i = 0; i < sizeof lo_cases / sizeof lo_cases[0]; i++) {
		const char *h = lo_cases[i].host;
		tap_ok(host_is_loopback(h) == lo_cases[i].want, lo_cases[i].line,
		       "host_is_loopback(%s) = %d", h ? h : "NULL",
		       lo_cases[i].want);
	}
}

/* -------------------------------------------------------- edit distance */

static const struct {
	int line;
	const char *a, *b;
	int cap, want;
} ed_cases[] = {
	{ __LINE__, "", "", 3, 0 },
	{ __LINE__, "abc", "abc", 3, 0 },
	{ __LINE__, "kitten", "sitting", 5, 3 },
	{ __LINE__, "kitten", "sitting", 3, 3 },
	{ __LINE__, "kitten", "sitting", 2, 3 },   /* cap + 1 */
	{ __LINE__, "restart", "restrat", 3, 2 },
	{ __LINE__, "comand", "command", 2, 1 },
	{ __LINE__, "helthcheck", "healthcheck", 2, 1 },
	{ __LINE__, "flaw", "lawn", 3, 2 },
	{ __LINE__, "", "abc", 5, 3 },
	{ __LINE__, "abc", "", 5, 3 },
	{ __LINE__, "abc", "", 1, 2 },             /* length alone says */
	{ __LINE__, "a", "b", 0, 1 },
	{ __LINE__, "a", "a", 0, 0 },
	{ __LINE__, "a", "a", -1, 0 },             /* cap < 0 acts as 0 */
	{ __LINE__, "abcdef", "ghijkl", 3, 4 },    /* stops early */
	{ __LINE__, "Port", "port", 2, 1 },        /* case counts */
};

static void test_edit_distance(void)
{
	char a[300], b[300];

	for (size_t i = 0; i < sizeof ed_cases / sizeof ed_cases[0]; i++) {
		int got = edit_distance(ed_cases[i].a, ed_cases[i].b, ed_cases[i].cap);
		if (!tap_ok(got == ed_cases[i].want, ed_cases[i].line,
			    "edit_distance(\"%s\", \"%s\", %d) = %d", ed_cases[i].a,
			    ed_cases[i].b, ed_cases[i].cap, ed_cases[i].want))
			tap_diag("got %d", got);
	}
	/* past the length limit (255), strings are "far apart" */
	memset(a, 'x', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	tap_ok(edit_distance(a, b, 3) == 4, __LINE__,
	       "edit_distance: 299-byte strings count as far apart");
	a[255] = b[255] = '\0';
	b[100] = 'y';
	tap_ok(edit_distance(a, b, 3) == 1, __LINE__,
	       "edit_distance: 255-byte strings are compared");
}

int main(void)
{
	test_duration();
	test_size();
	test_percent();
	test_signal();
	test_signal_name();
	test_hostport();
	test_url();
	test_int();
	test_number();
	test_loopback();
	test_edit_distance();
	return tap_done();
}
