/* Unit tests for lib/cron.c. Output is TAP; exit status 1 if any failed.
 * Times in the tables are UTC ("YYYY-MM-DD HH:MM[:SS]"), whatever zone the
 * case runs in, so that each instant is unambiguous around DST. */
#include "cron.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define B(n) (UINT64_C(1) << (n))
#define MIN_ALL  (B(60) - 1)
#define HOUR_ALL 0xffffffu   /* bits 0-23 */
#define MDAY_ALL 0xfffffffeu /* bits 1-31 */
#define MON_ALL  0x1ffeu     /* bits 1-12 */
#define WDAY_ALL 0x7fu       /* bits 0-6 */
#define MSTAR CRON_MDAY_STAR
#define WSTAR CRON_WDAY_STAR
#define STARS (CRON_MDAY_STAR | CRON_WDAY_STAR)

/* ------------------------------------------------------ parse: accepted */

static const struct {
	int line;
	const char *in;
	uint64_t minute;
	uint32_t hour, mday;
	unsigned month, wday, flags;
} good_cases[] = {
	{ __LINE__, "* * * * *", MIN_ALL, HOUR_ALL, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, "0 0 1 1 *", B(0), 1, B(1), B(1), WDAY_ALL, WSTAR },
	{ __LINE__, "59 23 31 12 6", B(59), 1u << 23, 1u << 31, B(12), B(6), 0 },
	{ __LINE__, "*/15 * * * *", B(0) | B(15) | B(30) | B(45), HOUR_ALL,
	  MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, "1-30/2 * * * *", 0x2aaaaaaa, HOUR_ALL, MDAY_ALL, MON_ALL,
	  WDAY_ALL, STARS },
	{ __LINE__, "5/20 * * * *", B(5) | B(25) | B(45), HOUR_ALL, MDAY_ALL,
	  MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, "*/1 * * * *", MIN_ALL, HOUR_ALL, MDAY_ALL, MON_ALL,
	  WDAY_ALL, STARS },
	{ __LINE__, "*/60 * * * *", B(0), HOUR_ALL, MDAY_ALL, MON_ALL,
	  WDAY_ALL, STARS },
	{ __LINE__, "0005 * * * *", B(5), HOUR_ALL, MDAY_ALL, MON_ALL,
	  WDAY_ALL, STARS },
	{ __LINE__, "0,30 9-17 * * mon-fri", B(0) | B(30), 0x3fe00, MDAY_ALL,
	  MON_ALL, 0x3e, MSTAR },
	{ __LINE__, "1,2,3 0 1,15 * *", B(1) | B(2) | B(3), 1, B(1) | B(15),
	  MON_ALL, WDAY_ALL, WSTAR },
	{ __LINE__, "0 0 * jan-mar *", B(0), 1, MDAY_ALL, 0xe, WDAY_ALL, STARS },
	{ __LINE__, "0 0 * JUL,dec *", B(0), 1, MDAY_ALL, B(7) | B(12),
	  WDAY_ALL, STARS },
	{ __LINE__, "0 0 * Feb-Apr/2 *", B(0), 1, MDAY_ALL, B(2) | B(4),
	  WDAY_ALL, STARS },
	{ __LINE__, "0 0 * * sun", B(0), 1, MDAY_ALL, MON_ALL, 1, MSTAR },
	{ __LINE__, "0 0 * * 7", B(0), 1, MDAY_ALL, MON_ALL, 1, MSTAR },
	{ __LINE__, "0 0 * * 0,7", B(0), 1, MDAY_ALL, MON_ALL, 1, MSTAR },
	{ __LINE__, "0 0 * * 0-7", B(0), 1, MDAY_ALL, MON_ALL, 0x7f, MSTAR },
	{ __LINE__, "0 0 * * fri-sun", B(0), 1, MDAY_ALL, MON_ALL, 0x61, MSTAR },
	{ __LINE__, "0 0 * * 5-7", B(0), 1, MDAY_ALL, MON_ALL, 0x61, MSTAR },
	{ __LINE__, "0 0 * * sat-sun", B(0), 1, MDAY_ALL, MON_ALL, 0x41, MSTAR },
	{ __LINE__, "0 0 * * */2", B(0), 1, MDAY_ALL, MON_ALL, 0x55, STARS },
	{ __LINE__, "0 0 * * 1/2", B(0), 1, MDAY_ALL, MON_ALL, 0x2a, MSTAR },
	{ __LINE__, "0 0 * * Mon,WED", B(0), 1, MDAY_ALL, MON_ALL, 0x0a, MSTAR },
	/* Vixie: a field starting with '*' counts as unrestricted */
	{ __LINE__, "0 0 */2 * 1", B(0), 1, 0xaaaaaaaa, MON_ALL, B(1), MSTAR },
	{ __LINE__, "0-59 0-23 1-31 1-12 0-6", MIN_ALL, HOUR_ALL, MDAY_ALL,
	  MON_ALL, WDAY_ALL, 0 },
	{ __LINE__, "  0\t0  *   * *  ", B(0), 1, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	/* keywords */
	{ __LINE__, "@hourly", B(0), HOUR_ALL, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, "@daily", B(0), 1, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, "@midnight", B(0), 1, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, "@weekly", B(0), 1, MDAY_ALL, MON_ALL, 1, MSTAR },
	{ __LINE__, "@monthly", B(0), 1, B(1), MON_ALL, WDAY_ALL, WSTAR },
	{ __LINE__, "@yearly", B(0), 1, B(1), B(1), WDAY_ALL, WSTAR },
	{ __LINE__, "@annually", B(0), 1, B(1), B(1), WDAY_ALL, WSTAR },
	{ __LINE__, "@reboot", 0, 0, 0, 0, 0, CRON_REBOOT },
	{ __LINE__, "@DAILY", B(0), 1, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
	{ __LINE__, " @daily\t", B(0), 1, MDAY_ALL, MON_ALL, WDAY_ALL, STARS },
};

static void test_parse_good(void)
{
	for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
		struct cron c;
		const char *err = "?";
		int at = -1;
		int rc = cron_parse(good_cases[i].in, &c, &err, &at);
		int ok = rc == 0 && c.minute == good_cases[i].minute &&
			 c.hour == good_cases[i].hour && c.mday == good_cases[i].mday &&
			 c.month == good_cases[i].month && c.wday == good_cases[i].wday &&
			 c.flags == good_cases[i].flags;
		if (!tap_ok(ok, good_cases[i].line, "cron_parse(\"%s\")", good_cases[i].in))
			tap_diag("rc %d (%s at %d): %llx %x %x %x %x flags %x", rc,
				 rc ? err : "", at, (unsigned long long)c.minute,
				 c.hour, c.mday, c.month, c.wday, c.flags);
	}
}

/* ------------------------------------------------------ parse: refused */

#define E5 "expected 5 fields"
#define EMIN "bad minute field"
#define EHOUR "bad hour field"
#define EDOM "bad day-of-month field"
#define EMON "bad month field"
#define EDOW "bad day-of-week field"
#define EKW "unknown @keyword"

static const struct {
	int line;
	const char *in;
	const char *err;
	int at;
} bad_cases[] = {
	{ __LINE__, "", E5, 0 },
	{ __LINE__, "   ", E5, 3 },
	{ __LINE__, "* * * *", E5, 7 },
	{ __LINE__, "* * * * * *", E5, 10 },
	{ __LINE__, "* * * * * /bin/true", E5, 10 },
	{ __LINE__, "61 * * * *", "minute out of range 0-59", 0 },
	{ __LINE__, "60 * * * *", "minute out of range 0-59", 0 },
	{ __LINE__, "1,60 * * * *", "minute out of range 0-59", 0 },
	{ __LINE__, "00060 * * * *", "minute out of range 0-59", 0 },
	{ __LINE__, "99999999999 * * * *", "minute out of range 0-59", 0 },
	{ __LINE__, "* 24 * * *", "hour out of range 0-23", 2 },
	{ __LINE__, "* 0-24 * * *", "hour out of range 0-23", 2 },
	{ __LINE__, "* * 0 * *", "day-of-month out of range 1-31", 4 },
	{ __LINE__, "* * 32 * *", "day-of-month out of range 1-31", 4 },
	{ __LINE__, "* * * 13 *", "month out of range 1-12", 6 },
	{ __LINE__, "* * * 0 *", "month out of range 1-12", 6 },
	{ __LINE__, "* * * * 8", "day-of-week out of range 0-7", 8 },
	{ __LINE__, "* * * * 1-9", "day-of-week out of range 0-7", 8 },
	{ __LINE__, "0  0 *  *  8", "day-of-week out of range 0-7", 11 },
	{ __LINE__, "x * * * *", EMIN, 0 },
	{ __LINE__, "*/0 * * * *", EMIN, 0 },
	{ __LINE__, "*/61 * * * *", EMIN, 0 },
	{ __LINE__, "*/ * * * *", EMIN, 0 },
	{ __LINE__, "1/ * * * *", EMIN, 0 },
	{ __LINE__, "*/x * * * *", EMIN, 0 },
	{ __LINE__, "*/2/2 * * * *", EMIN, 0 },
	{ __LINE__, "5-1 * * * *", EMIN, 0 },
	{ __LINE__, "1, * * * *", EMIN, 0 },
	{ __LINE__, ",1 * * * *", EMIN, 0 },
	{ __LINE__, "1,,2 * * * *", EMIN, 0 },
	{ __LINE__, "*-5 * * * *", EMIN, 0 },
	{ __LINE__, "1-2-3 * * * *", EMIN, 0 },
	{ __LINE__, "** * * * *", EMIN, 0 },
	{ __LINE__, "-1 * * * *", EMIN, 0 },
	{ __LINE__, "+1 * * * *", EMIN, 0 },
	{ __LINE__, "1.5 * * * *", EMIN, 0 },
	{ __LINE__, "* mon * * *", EHOUR, 2 },
	{ __LINE__, "* 22-2 * * *", EHOUR, 2 },
	{ __LINE__, "* * L * *", EDOM, 4 },
	{ __LINE__, "* * 15W * *", EDOM, 4 },
	{ __LINE__, "* * ? * *", EDOM, 4 },
	{ __LINE__, "* * * foo *", EMON, 6 },
	{ __LINE__, "* * * mon *", EMON, 6 },
	{ __LINE__, "* * * jan-foo *", EMON, 6 },
	{ __LINE__, "* * * jan-dec/0 *", EMON, 6 },
	{ __LINE__, "* * * january *", EMON, 6 },
	{ __LINE__, "* * * ja *", EMON, 6 },
	{ __LINE__, "* * * * mon-", EDOW, 8 },
	{ __LINE__, "* * * * monday", EDOW, 8 },
	{ __LINE__, "* * * * 1#2", EDOW, 8 },
	{ __LINE__, "* * * * 5L", EDOW, 8 },
	{ __LINE__, "* * * * jan", EDOW, 8 },
	{ __LINE__, "* * * * */8", EDOW, 8 },
	{ __LINE__, "* * * * sun\n", EDOW, 8 },
	{ __LINE__, "@foo", EKW, 0 },
	{ __LINE__, "@", EKW, 0 },
	{ __LINE__, "@daily x", EKW, 0 },
	{ __LINE__, "@daily *", EKW, 0 },
	{ __LINE__, "  @reboot2", EKW, 2 },
};

static void test_parse_bad(void)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		struct cron c, before;
		const char *err = NULL;
		int at = -1;
		memset(&c, 0xab, sizeof c);
		before = c;
		int rc = cron_parse(bad_cases[i].in, &c, &err, &at);
		int ok = rc == -1 && err && strcmp(err, bad_cases[i].err) == 0 &&
			 at == bad_cases[i].at && memcmp(&c, &before, sizeof c) == 0;
		if (!tap_ok(ok, bad_cases[i].line, "cron_parse(\"%s\") fails", bad_cases[i].in))
			tap_diag("rc %d, err \"%s\" at %d", rc, err ? err : "(null)", at);
	}
	struct cron c;
	tap_ok(cron_parse("61 * * * *", &c, NULL, NULL) == -1 &&
	       cron_parse("* * * * *", &c, NULL, NULL) == 0, __LINE__,
	       "cron_parse: err and at may be NULL");
}

/* ------------------------------------------------------------- cron_next */

/* "YYYY-MM-DD HH:MM[:SS]" in UTC */
static time_t utc(const char *s)
{
	struct tm tm = { 0 };

	if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) < 5)
		abort(); /* a typo in the table */
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void fmt_utc(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (t == -1 || !gmtime_r(&t, &tm))
		snprintf(buf, n, "none");
	else
		strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Sets TZ; 0 when the zone is unknown here (no tzdata), tested by its
 * offset at a known instant. */
static int use_zone(const char *zone, const char *probe, long want_off)
{
	char path[256];
	struct tm tm;
	time_t t = utc(probe);

	if (strcmp(zone, "UTC") != 0) {
		snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
		if (access(path, R_OK) != 0)
			return 0;
	}
	setenv("TZ", zone, 1);
	tzset();
	return localtime_r(&t, &tm) && tm.tm_gmtoff == want_off;
}

static const struct {
	int line;
	const char *zone, *expr, *after;
	const char *want; /* NULL: none (-1) */
} next_cases[] = {
	/* strictly after; seconds are dropped */
	{ __LINE__, "UTC", "* * * * *", "2024-01-01 00:00:00", "2024-01-01 00:01" },
	{ __LINE__, "UTC", "* * * * *", "2024-01-01 00:00:30", "2024-01-01 00:01" },
	{ __LINE__, "UTC", "* * * * *", "2024-01-01 00:00:59", "2024-01-01 00:01" },
	{ __LINE__, "UTC", "* * * * *", "2023-12-31 23:59:59", "2024-01-01 00:00" },
	{ __LINE__, "UTC", "0 * * * *", "2024-01-01 00:00:00", "2024-01-01 01:00" },
	{ __LINE__, "UTC", "30 2 * * *", "2024-01-01 02:30:00", "2024-01-02 02:30" },
	{ __LINE__, "UTC", "30 2 * * *", "2024-01-01 02:29:59", "2024-01-01 02:30" },
	{ __LINE__, "UTC", "*/15 * * * *", "2024-01-01 10:07:00", "2024-01-01 10:15" },
	{ __LINE__, "UTC", "*/15 * * * *", "2024-01-01 10:45:00", "2024-01-01 11:00" },
	{ __LINE__, "UTC", "0 */6 * * *", "2024-01-01 19:00:00", "2024-01-02 00:00" },
	{ __LINE__, "UTC", "5/20 9 * * *", "2024-01-01 09:45:00", "2024-01-02 09:05" },
	/* month and year ends */
	{ __LINE__, "UTC", "0 0 1 * *", "2024-01-31 12:00:00", "2024-02-01 00:00" },
	{ __LINE__, "UTC", "0 0 31 * *", "2024-01-31 00:00:00", "2024-03-31 00:00" },
	{ __LINE__, "UTC", "0 0 31 * *", "2024-03-31 00:00:00", "2024-05-31 00:00" },
	{ __LINE__, "UTC", "0 0 31 * *", "2024-07-31 00:00:00", "2024-08-31 00:00" },
	{ __LINE__, "UTC", "59 23 31 12 *", "2023-12-31 23:59:00", "2024-12-31 23:59" },
	{ __LINE__, "UTC", "0 0 1 1 *", "2023-12-31 23:59:59", "2024-01-01 00:00" },
	{ __LINE__, "UTC", "0 0 1 */3 *", "2024-02-01 00:00:00", "2024-04-01 00:00" },
	{ __LINE__, "UTC", "59 23 * * *", "2024-02-29 23:59:00", "2024-03-01 23:59" },
	/* leap years */
	{ __LINE__, "UTC", "0 12 29 2 *", "2023-01-01 00:00:00", "2024-02-29 12:00" },
	{ __LINE__, "UTC", "0 12 29 2 *", "2024-03-01 00:00:00", "2028-02-29 12:00" },
	{ __LINE__, "UTC", "0 0 28 2 *", "2023-02-28 00:00:00", "2024-02-28 00:00" },
	{ __LINE__, "UTC", "0 0 * 3 *", "2024-02-28 23:59:00", "2024-03-01 00:00" },
	{ __LINE__, "UTC", "0 0 1 1 *", "2099-06-01 00:00:00", "2100-01-01 00:00" },
	{ __LINE__, "UTC", "0 0 29 2 *", "2099-03-01 00:00:00", "2104-02-29 00:00" },
	/* never, and past the 5-year horizon (2100 is not a leap year) */
	{ __LINE__, "UTC", "0 0 30 2 *", "2024-01-01 00:00:00", NULL },
	{ __LINE__, "UTC", "0 0 31 4 *", "2024-01-01 00:00:00", NULL },
	{ __LINE__, "UTC", "0 0 31 2,4,6,9,11 *", "2024-01-01 00:00:00", NULL },
	{ __LINE__, "UTC", "0 0 29 2 *", "2096-03-01 00:00:00", NULL },
	/* day of week; 2024-01-01 is a Monday */
	{ __LINE__, "UTC", "0 9 * * mon-fri", "2024-01-05 09:00:00", "2024-01-08 09:00" },
	{ __LINE__, "UTC", "0 9 * * mon-fri", "2024-01-05 08:59:59", "2024-01-05 09:00" },
	{ __LINE__, "UTC", "0 0 * * 0", "2024-01-01 00:00:00", "2024-01-07 00:00" },
	{ __LINE__, "UTC", "0 0 * * 7", "2024-01-01 00:00:00", "2024-01-07 00:00" },
	{ __LINE__, "UTC", "5 4 * * sun", "2024-12-29 04:05:00", "2025-01-05 04:05" },
	/* both restricted: either matches (Vixie OR) */
	{ __LINE__, "UTC", "0 0 13 * 5", "2024-01-01 00:00:00", "2024-01-05 00:00" },
	{ __LINE__, "UTC", "0 0 13 * 5", "2024-01-12 00:00:00", "2024-01-13 00:00" },
	{ __LINE__, "UTC", "0 0 1 * mon", "2024-01-01 00:00:00", "2024-01-08 00:00" },
	{ __LINE__, "UTC", "0 0 1-31/2 * 1", "2024-01-01 00:00:00", "2024-01-03 00:00" },
	{ __LINE__, "UTC", "0 0 29 2 1", "2025-03-01 00:00:00", "2026-02-02 00:00" },
	/* one is "*": the other alone decides; "*" + "/2" counts as "*" */
	{ __LINE__, "UTC", "0 0 15 * *", "2024-01-01 00:00:00", "2024-01-15 00:00" },
	{ __LINE__, "UTC", "0 0 */2 * 1", "2024-01-01 00:00:00", "2024-01-15 00:00" },
	/* keywords */
	{ __LINE__, "UTC", "@hourly", "2024-01-01 10:59:59", "2024-01-01 11:00" },
	{ __LINE__, "UTC", "@daily", "2024-01-01 10:00:00", "2024-01-02 00:00" },
	{ __LINE__, "UTC", "@weekly", "2024-01-01 00:00:00", "2024-01-07 00:00" },
	{ __LINE__, "UTC", "@monthly", "2024-02-15 00:00:00", "2024-03-01 00:00" },
	{ __LINE__, "UTC", "@yearly", "2024-06-01 00:00:00", "2025-01-01 00:00" },
	{ __LINE__, "UTC", "@reboot", "2024-06-01 00:00:00", NULL },
	/* before 1970 */
	{ __LINE__, "UTC", "0 0 1 1 *", "1969-06-01 00:00:00", "1970-01-01 00:00" },

	/* Europe/Berlin, spring forward 2024-03-31: 02:00 CET -> 03:00 CEST
	 * (01:00 UTC). A fixed-time job in the gap runs right after it. */
	{ __LINE__, "Europe/Berlin", "30 2 * * *", "2024-03-31 00:00:00", "2024-03-31 01:00" },
	{ __LINE__, "Europe/Berlin", "30 2 * * *", "2024-03-31 01:00:00", "2024-04-01 00:30" },
	{ __LINE__, "Europe/Berlin", "30 2 31 3 *", "2024-01-01 00:00:00", "2024-03-31 01:00" },
	{ __LINE__, "Europe/Berlin", "0 3 * * *", "2024-03-31 00:30:00", "2024-03-31 01:00" },
	{ __LINE__, "Europe/Berlin", "* * * * *", "2024-03-31 00:59:00", "2024-03-31 01:00" },
	/* ... an hourly one is not caught up */
	{ __LINE__, "Europe/Berlin", "30 * * * *", "2024-03-31 00:00:00", "2024-03-31 00:30" },
	{ __LINE__, "Europe/Berlin", "30 * * * *", "2024-03-31 00:30:00", "2024-03-31 01:30" },
	/* fall back 2024-10-27: 03:00 CEST -> 02:00 CET (01:00 UTC); 02:xx
	 * comes twice. A fixed-time job runs the first time only. */
	{ __LINE__, "Europe/Berlin", "30 2 * * *", "2024-10-26 23:00:00", "2024-10-27 00:30" },
	{ __LINE__, "Europe/Berlin", "30 2 * * *", "2024-10-27 00:30:00", "2024-10-28 01:30" },
	{ __LINE__, "Europe/Berlin", "*/20 2 * * *", "2024-10-27 00:40:00", "2024-10-28 01:00" },
	{ __LINE__, "Europe/Berlin", "0 3 * * *", "2024-10-26 23:00:00", "2024-10-27 02:00" },
	/* ... an hourly one runs every real hour */
	{ __LINE__, "Europe/Berlin", "30 * * * *", "2024-10-27 00:30:00", "2024-10-27 01:30" },
	{ __LINE__, "Europe/Berlin", "0 0 * * *", "2024-06-01 12:00:00", "2024-06-01 22:00" },

	/* America/Sao_Paulo 2018-11-04: midnight does not exist (00:00 -03
	 * -> 01:00 -02, 03:00 UTC) */
	{ __LINE__, "America/Sao_Paulo", "0 0 * * *", "2018-11-03 15:00:00", "2018-11-04 03:00" },
	{ __LINE__, "America/Sao_Paulo", "0 0 * * *", "2018-11-04 03:00:00", "2018-11-05 02:00" },
	{ __LINE__, "America/Sao_Paulo", "0 12 5 11 *", "2018-11-03 15:00:00", "2018-11-05 14:00" },

	/* Australia/Lord_Howe 2024-10-06: a half-hour jump, 02:00 -> 02:30
	 * (+10:30 -> +11, 15:30 UTC) */
	{ __LINE__, "Australia/Lord_Howe", "15 2 * * *", "2024-10-05 14:00:00", "2024-10-05 15:30" },
	{ __LINE__, "Australia/Lord_Howe", "45 2 * * *", "2024-10-05 14:00:00", "2024-10-05 15:45" },
	{ __LINE__, "Australia/Lord_Howe", "15 2 * * *", "2024-10-05 15:30:00", "2024-10-06 15:15" },
};

/* The probe instant and offset that show a zone's tzdata is really there */
static int zone_ready(const char *zone)
{
	if (strcmp(zone, "Europe/Berlin") == 0)
		return use_zone(zone, "2024-07-01 00:00", 7200);
	if (strcmp(zone, "America/Sao_Paulo") == 0)
		return use_zone(zone, "2018-07-01 00:00", -3 * 3600);
	if (strcmp(zone, "Australia/Lord_Howe") == 0)
		return use_zone(zone, "2024-07-01 00:00", 10 * 3600 + 1800);
	return use_zone(zone, "2024-07-01 00:00", 0);
}

static void test_next(void)
{
	for (size_t i = 0; i < sizeof next_cases / sizeof next_cases[0]; i++) {
		struct cron c;
		char got_s[64];

		if (!zone_ready(next_cases[i].zone)) {
			tap_skip("no tzdata for %s (line %d)", next_cases[i].zone,
				 next_cases[i].line);
			continue;
		}
		if (cron_parse(next_cases[i].expr, &c, NULL, NULL) != 0) {
			tap_ok(0, next_cases[i].line, "cron_parse(\"%s\")",
			       next_cases[i].expr);
			continue;
		}
		time_t want = next_cases[i].want ? utc(next_cases[i].want) : -1;
		time_t got = cron_next(&c, utc(next_cases[i].after));
		fmt_utc(got, got_s, sizeof got_s);
		if (!tap_ok(got == want, next_cases[i].line,
			    "cron_next(\"%s\", %s) in %s = %s", next_cases[i].expr,
			    next_cases[i].after, next_cases[i].zone,
			    next_cases[i].want ? next_cases[i].want : "none"))
			tap_diag("got %s", got_s);
	}
}

/* ---------------------------------------- cron_next against brute force */

/* The rule, written the plain way: every minute checked in turn */
static int brute_match(const struct cron *c, const struct tm *tm)
{
	int dom = (c->mday >> tm->tm_mday) & 1, dow = (c->wday >> tm->tm_wday) & 1;
	int day = (c->flags & (CRON_MDAY_STAR | CRON_WDAY_STAR)) ? dom && dow
								 : dom || dow;
	return ((c->month >> (tm->tm_mon + 1)) & 1) && day &&
	       ((c->hour >> tm->tm_hour) & 1) && ((c->minute >> tm->tm_min) & 1);
}

/* The first match in (after, after + window], or -1 */
static time_t brute_next(const struct cron *c, time_t after, time_t window)
{
	time_t t = after - after % 60 + 60;

	for (; t <= after + window; t += 60) {
		struct tm tm;
		gmtime_r(&t, &tm);
		if (brute_match(c, &tm))
			return t;
	}
	return -1;
}

static const struct {
	int line;
	const char *expr;
} brute_cases[] = {
	{ __LINE__, "* * * * *" },
	{ __LINE__, "*/7 */5 * * *" },
	{ __LINE__, "59 23 * * *" },
	{ __LINE__, "0 0 31 * *" },
	{ __LINE__, "15 10 * * 1-5" },
	{ __LINE__, "0 12 1,15 * 3" },
	{ __LINE__, "30 6 */3 * *" },
	{ __LINE__, "0 0 */2 * 0" },
	{ __LINE__, "1-5,50-55 0,12 10-20 * sat,sun" },
	{ __LINE__, "0 0 29 2 *" },
	{ __LINE__, "0 0 1 1,7 *" },
	{ __LINE__, "45 23 31 12 *" },
	{ __LINE__, "0 4 8-14 * 2" },
};

/* In UTC, 20 consecutive results from several starts equal brute force
 * over a 62-day window. */
static void test_brute(void)
{
	static const char *const starts[] = {
		"2023-12-30 22:58:13", "2024-02-27 00:00:00", "2024-06-30 23:59:59",
		"2025-02-28 12:34:56", "2099-12-31 00:00:00",
	};
	const time_t window = 62 * 86400;

	use_zone("UTC", "2024-07-01 00:00", 0);
	for (size_t i = 0; i < sizeof brute_cases / sizeof brute_cases[0]; i++) {
		struct cron c;
		int bad = 0;

		if (cron_parse(brute_cases[i].expr, &c, NULL, NULL) != 0) {
			tap_ok(0, brute_cases[i].line, "cron_parse(\"%s\")",
			       brute_cases[i].expr);
			continue;
		}
		for (size_t s = 0; s < sizeof starts / sizeof starts[0] && !bad; s++) {
			time_t t = utc(starts[s]);
			for (int k = 0; k < 20 && !bad; k++) {
				time_t want = brute_next(&c, t, window);
				time_t got = cron_next(&c, t);
				/* beyond the window brute force knows nothing */
				if (want == -1 ? (got != -1 && got <= t + window)
					       : got != want) {
					char a[64], b[64];
					fmt_utc(got, a, sizeof a);
					fmt_utc(want, b, sizeof b);
					tap_diag("after %lld: got %s, want %s",
						 (long long)t, a, b);
					bad = 1;
				}
				if (got == -1)
					break;
				t = got;
			}
		}
		tap_ok(!bad, brute_cases[i].line, "cron_next(\"%s\") = brute force",
		       brute_cases[i].expr);
	}
}

/* Across a whole DST year, a job every minute sees every real minute
 * once, and a daily job fires once per day (never twice, never skipped). */
static void test_dst_year(void)
{
	struct cron every, daily;
	time_t t, end;
	int bad = 0, days = 0;

	if (!zone_ready("Europe/Berlin")) {
		tap_skip("no tzdata for Europe/Berlin");
		tap_skip("no tzdata for Europe/Berlin");
		return;
	}
	cron_parse("* * * * *", &every, NULL, NULL);
	cron_parse("30 2 * * *", &daily, NULL, NULL);
	t = utc("2024-03-30 00:00:00");
	end = utc("2024-04-01 00:00:00");
	for (; t < end && !bad; ) {
		time_t n = cron_next(&every, t);
		bad = n != t + 60;
		t = n;
	}
	tap_ok(!bad, __LINE__, "Europe/Berlin: every minute, spring 2024");

	t = utc("2024-01-01 00:00:00");
	end = utc("2025-01-01 00:00:00");
	for (time_t prev = 0; !bad && (t = cron_next(&daily, t)) != -1 && t < end; days++) {
		bad = prev && (t - prev < 23 * 3600 || t - prev > 25 * 3600);
		prev = t;
	}
	tap_ok(!bad && days == 366, __LINE__,
	       "Europe/Berlin: a daily 02:30 job runs 366 times in 2024 (got %d)",
	       days);
}

int main(void)
{
	test_parse_good();
	test_parse_bad();
	test_next();
	test_brute();
	test_dst_year();
	return tap_done();
}
