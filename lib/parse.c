/* Small pure parsers for config values; the API is documented in parse.h.
 *
 * Every parser is strict: no leading or trailing whitespace, no sign unless
 * the value may be negative, and the whole string must be consumed. None of
 * them allocates, prints or touches errno on purpose. */
#include "parse.h"

#include <arpa/inet.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- helpers */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads one or more decimal digits at *p into *v, advancing *p. Fails on
 * no digit or when the value exceeds `limit` (so it cannot overflow). */
static int take_digits(const char **p, uint64_t limit, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (limit - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

/* a + b into *sum unless it would pass INT64_MAX (both are >= 0) */
static int add_checked(int64_t a, int64_t b, int64_t *sum)
{
	if (a > INT64_MAX - b)
		return -1;
	*sum = a + b;
	return 0;
}

/* --------------------------------------------------------------- duration */

/* Units, longest name first so that "ms" is not read as "m". A duration
 * uses them in decreasing rank, each at most once ("1h30m", not "30m1h"). */
static const struct {
	const char *name;
	int64_t ms;
	int rank; /* d=5 h=4 m=3 s=2 ms=1 */
} dur_units[] = {
	{ "ms", 1, 1 }, { "d", 86400000, 5 }, { "h", 3600000, 4 },
	{ "m", 60000, 3 }, { "s", 1000, 2 },
};

/* Index into dur_units of the unit at *p (advanced past it), -1 if none */
static int take_dur_unit(const char **p)
{
	for (int i = 0; i < (int)(sizeof dur_units / sizeof dur_units[0]); i++) {
		size_t n = strlen(dur_units[i].name);
		if (strncmp(*p, dur_units[i].name, n) == 0) {
			*p += n;
			return i;
		}
	}
	return -1;
}

/* Fraction digits ".5" -> num 5, den 10. At most 9 digits: finer than a
 * nanosecond of a day would not be a whole number of ms anyway. */
static int take_fraction(const char **p, uint64_t *num, uint64_t *den)
{
	const char *s = *p;
	int k = 0;

	*num = 0;
	*den = 1;
	if (*s != '.')
		return 0;
	for (s++; is_digit(*s); s++, k++) {
		if (k == 9)
			return -1;
		*num = *num * 10 + (uint64_t)(*s - '0');
		*den *= 10;
	}
	if (k == 0)
		return -1; /* "1.s" */
	*p = s;
	return 0;
}

/* One "<digits>[.<digits>]<unit>" segment, in ms */
static int take_dur_segment(const char **p, int *unit, int64_t *ms)
{
	uint64_t whole, num, den;
	int64_t u;

	if (take_digits(p, INT64_MAX, &whole) < 0 ||
	    take_fraction(p, &num, &den) < 0)
		return -1;
	*unit = take_dur_unit(p);
	if (*unit < 0)
		return -1; /* a bare number: seconds or ms? ambiguous */
	u = dur_units[*unit].ms;
	if (whole > (uint64_t)(INT64_MAX / u))
		return -1;
	/* num < 10^9 and u <= 8.64e7: the product fits in 64 bits */
	if ((num * (uint64_t)u) % den != 0)
		return -1; /* not a whole number of ms ("1.5ms") */
	return add_checked((int64_t)whole * u, (int64_t)(num * (uint64_t)u / den), ms);
}

int parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0;
	int last_rank = 6;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	/* Bounded: each round consumes input, and the rank strictly drops, so
	 * there are at most 5 rounds. */
	while (*s != '\0') {
		int unit;
		int64_t seg;
		if (take_dur_segment(&s, &unit, &seg) < 0)
			return -1;
		if (dur_units[unit].rank >= last_rank)
			return -1;
		last_rank = dur_units[unit].rank;
		if (add_checked(total, seg, &total) < 0)
			return -1;
	}
	*ms = total;
	return 0;
}

/* ------------------------------------------------------------------- size */

static const struct {
	const char *suffix;
	int64_t mult;
} size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1LL << 10 }, { "k", 1LL << 10 }, { "KiB", 1LL << 10 },
	{ "M", 1LL << 20 }, { "m", 1LL << 20 }, { "MiB", 1LL << 20 },
	{ "G", 1LL << 30 }, { "g", 1LL << 30 }, { "GiB", 1LL << 30 },
	{ "T", 1LL << 40 }, { "t", 1LL << 40 }, { "TiB", 1LL << 40 },
	{ "KB", 1000LL }, { "kB", 1000LL }, { "MB", 1000000LL },
	{ "GB", 1000000000LL }, { "TB", 1000000000000LL },
};

int parse_size(const char *s, int64_t *bytes)
{
	uint64_t n;

	if (take_digits(&s, INT64_MAX, &n) < 0)
		return -1;
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
		if (strcmp(s, size_units[i].suffix) != 0)
			continue;
		if (n > (uint64_t)(INT64_MAX / size_units[i].mult))
			return -1;
		*bytes = (int64_t)n * size_units[i].mult;
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- percent */

int parse_percent(const char *s, int *pct)
{
	uint64_t n;

	if (take_digits(&s, 100, &n) < 0 || strcmp(s, "%") != 0)
		return -1;
	*pct = (int)n;
	return 0;
}

/* ----------------------------------------------------------------- signal */

/* The first name of a number is the one signal_name() gives. The numbers
 * come from <signal.h>, so they are right on every architecture. */
static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "IOT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO },
#ifdef SIGPOLL
	{ "POLL", SIGPOLL },
#endif
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
};

#define SIGNAL_MAX 64 /* numbers above the named ones are real-time signals */

int parse_signal(const char *s, int *sig)
{
	uint64_t n;
	const char *p = s;

	if (take_digits(&p, SIGNAL_MAX, &n) == 0) {
		if (*p != '\0' || n < 1)
			return -1;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	return -1;
}

const char *signal_name(int sig)
{
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

/* ------------------------------------------------------- hosts and ports */

/* Copies len bytes at s into buf as a string; NULL buf = validate only */
static int copy_out(const char *s, size_t len, char *buf, size_t bufsz)
{
	if (!buf)
		return 0;
	if (len >= bufsz)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* A host name or IPv4 address: letters, digits, '.', '-', '_' */
static int is_name_host(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && !strchr(".-_", s[i]))
			return 0;
	return 1;
}

/* "[v6]" of len bytes: a literal inet_pton accepts (so no "%zone") */
static int is_bracket_v6(const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' || len - 2 >= sizeof tmp)
		return 0;
	memcpy(tmp, s + 1, len - 2);
	tmp[len - 2] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* Checks a host of len bytes and copies it out, brackets stripped */
static int take_host(const char *s, size_t len, char *host, size_t hostsz)
{
	if (len > 0 && s[0] == '[') {
		if (!is_bracket_v6(s, len))
			return -1;
		return copy_out(s + 1, len - 2, host, hostsz);
	}
	if (!is_name_host(s, len))
		return -1;
	return copy_out(s, len, host, hostsz);
}

/* The whole of s is a port 1-65535 */
static int take_port(const char *s, int *port)
{
	uint64_t n;

	if (take_digits(&s, 65535, &n) < 0 || *s != '\0' || n == 0)
		return -1;
	if (port)
		*port = (int)n;
	return 0;
}

/* Length of the host part at the start of s: up to the ']' of a bracketed
 * literal, else up to the first ':' or the end of the first `max` bytes. */
static size_t host_span(const char *s, size_t max)
{
	if (max > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', max);
		return end ? (size_t)(end - s) + 1 : max;
	}
	const char *colon = memchr(s, ':', max);
	return colon ? (size_t)(colon - s) : max;
}

int parse_hostport(const char *s, char *host, size_t hostsz, int *port)
{
	size_t n = host_span(s, strlen(s));

	if (s[n] != ':')
		return -1;
	if (take_host(s, n, host, hostsz) < 0)
		return -1;
	return take_port(s + n + 1, port);
}

/* Space, control characters and DEL are never part of a URL */
static int has_space_or_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 1;
	return 0;
}

/* "scheme://": 1 for https, 0 for http, -1 otherwise; *p advanced */
static int take_scheme(const char **p)
{
	if (strncasecmp(*p, "http://", 7) == 0) {
		*p += 7;
		return 0;
	}
	if (strncasecmp(*p, "https://", 8) == 0) {
		*p += 8;
		return 1;
	}
	return -1;
}

int parse_url(const char *s, int *is_https, char *host, size_t hostsz, int *port)
{
	int tls = take_scheme(&s);
	size_t auth, n;
	char portbuf[8];
	int p;

	if (tls < 0 || has_space_or_ctl(s))
		return -1;
	auth = strcspn(s, "/?#"); /* the authority ends the path/query starts */
	n = host_span(s, auth);
	if (n == 0 || take_host(s, n, host, hostsz) < 0)
		return -1;
	p = tls ? 443 : 80;
	if (n < auth) {
		/* s[n] is ':' (host_span stops there); the rest is the port */
		if (s[n] != ':' || copy_out(s + n + 1, auth - n - 1, portbuf,
					    sizeof portbuf) < 0 ||
		    take_port(portbuf, &p) < 0)
			return -1;
	}
	if (is_https)
		*is_https = tls;
	if (port)
		*port = p;
	return 0;
}

int host_is_loopback(const char *host)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in_addr a4;
	struct in6_addr a6;
	size_t len;

	if (!host)
		return 0;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		if (len - 2 >= sizeof tmp)
			return 0;
		memcpy(tmp, host + 1, len - 2);
		tmp[len - 2] = '\0';
		host = tmp;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return 1;
	/* ::ffff:127.x.y.z is IPv4 loopback seen through an IPv6 socket */
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

/* -------------------------------------------------------------- numbers */

int parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int neg = (*s == '-');
	uint64_t mag;
	int64_t v;

	if (neg)
		s++;
	/* the magnitude of INT64_MIN is INT64_MAX + 1 */
	if (take_digits(&s, (uint64_t)INT64_MAX + neg, &mag) < 0 || *s != '\0')
		return -1;
	if (neg)
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else
		v = (int64_t)mag;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_number(const char *s, double *out)
{
	const char *p = s;
	double v;

	/* Check the syntax ourselves ("1.5": no sign, exponent, hex, inf or
	 * nan), then let strtod do the correctly rounded conversion. */
	if (!is_digit(*p))
		return -1;
	while (is_digit(*p))
		p++;
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return -1;
		while (is_digit(*p))
			p++;
	}
	if (*p != '\0')
		return -1;
	v = strtod(s, NULL);
	if (!isfinite(v) || !(v > 0))
		return -1;
	*out = v;
	return 0;
}

/* --------------------------------------------------------- edit distance */

#define EDIT_MAX_LEN 255 /* longer strings are simply "far apart" */

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;
	return m < c ? m : c;
}

/* Levenshtein with two rows on the stack. Cost O(|a| * |b|), at most
 * 255 * 255 steps; stops early once a whole row is past the cap. */
int edit_distance(const char *a, const char *b, int cap)
{
	int prev[EDIT_MAX_LEN + 1], cur[EDIT_MAX_LEN + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (cap < 0)
		cap = 0;
	if (la > EDIT_MAX_LEN || lb > EDIT_MAX_LEN)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int row_min = cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int subst = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, subst);
			if (cur[j] < row_min)
				row_min = cur[j];
		}
		if (row_min > cap)
			return cap + 1;
		memcpy(prev, cur, (lb + 1) * sizeof cur[0]);
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}
