/* 5-field cron expressions; the syntax is documented in cron.h.
 *
 * cron_next walks forward over real time (time_t), reading the wall clock
 * with localtime_r at each step and skipping a whole month, day or hour
 * when that part does not match, so a search takes at most a few thousand
 * steps. Daylight saving time is handled in the spirit of Vixie cron:
 *   - a job with fixed hours whose time falls in a skipped hour (spring
 *     forward) runs right after the jump;
 *   - such a job whose time comes again in a repeated hour (fall back)
 *     runs only the first time;
 *   - a job that runs every hour keeps running every real hour and is not
 *     caught up or repeated. */
#include "cron.h"

#include <string.h>
#include <strings.h>

/* -------------------------------------------------------------- parsing */

struct field {
	int min, max;
	int top;                  /* where "*" and "a/n" end: 7 is only an alias */
	const char *const *names; /* 3-letter names for min.., or NULL */
	const char *bad, *range;  /* the two error messages */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL,
};

static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL,
};

enum { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, NFIELDS };

static const struct field fields[NFIELDS] = {
	{ 0, 59, 59, NULL, "bad minute field", "minute out of range 0-59" },
	{ 0, 23, 23, NULL, "bad hour field", "hour out of range 0-23" },
	{ 1, 31, 31, NULL, "bad day-of-month field",
	  "day-of-month out of range 1-31" },
	{ 1, 12, 12, month_names, "bad month field", "month out of range 1-12" },
	{ 0, 7, 6, day_names, "bad day-of-week field",
	  "day-of-week out of range 0-7" },
};

/* Why an item failed: syntax (f->bad) or a value out of range (f->range) */
enum { BAD = -1, RANGE = -2 };

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number or a name at *p, advanced past it. Numbers are read up to 4
 * digits; anything longer is out of range anyway. */
static int take_value(const struct field *f, const char **p, const char *end,
		      int *v)
{
	const char *s = *p;
	int n = 0;

	if (s < end && is_digit(*s)) {
		for (; s < end && is_digit(*s); s++) {
			if (s - *p >= 4)
				return RANGE;
			n = n * 10 + (*s - '0');
		}
		*p = s;
		*v = n;
		return n < f->min || n > f->max ? RANGE : 0;
	}
	for (int i = 0; f->names && f->names[i]; i++) {
		if (end - s >= 3 && strncasecmp(s, f->names[i], 3) == 0) {
			*p = s + 3;
			*v = f->min + i;
			return 0;
		}
	}
	return BAD;
}

/* "/n" after a range; *step stays 1 without it */
static int take_step(const struct field *f, const char **p, const char *end,
		     int *step)
{
	const char *s = *p + 1;
	int n = 0;

	if (*p == end || **p != '/')
		return 0;
	/* a step larger than the field's span would only ever match its start */
	for (; s < end && is_digit(*s) && n <= f->top; s++)
		n = n * 10 + (*s - '0');
	if (s == *p + 1 || n < 1 || n > f->top - f->min + 1)
		return BAD;
	*p = s;
	*step = n;
	return 0;
}

/* Low and high bounds of one item: "*", "a", "a-b"; "a/n" means a-max/n */
static int take_range(const struct field *f, const char **p, const char *end,
		      int *lo, int *hi)
{
	int rc;

	if (*p < end && **p == '*') {
		(*p)++;
		*lo = f->min;
		*hi = f->top;
		return 0;
	}
	if ((rc = take_value(f, p, end, lo)) < 0)
		return rc;
	*hi = *lo;
	if (*p < end && **p == '-') {
		(*p)++;
		if ((rc = take_value(f, p, end, hi)) < 0)
			return rc;
		/* "fri-sun": a range may end on Sunday written as 0 */
		if (f == &fields[F_WDAY] && *hi == 0 && *lo > 0)
			*hi = 7;
		if (*hi < *lo)
			return BAD; /* no wrap-around ("22-2"): use a list */
	} else if (*p < end && **p == '/') {
		*hi = f->top;
	}
	return 0;
}

/* One comma-separated item, its values added to *bits */
static int take_item(const struct field *f, const char **p, const char *end,
		     uint64_t *bits)
{
	int lo, hi, step = 1, rc;

	if ((rc = take_range(f, p, end, &lo, &hi)) < 0 ||
	    (rc = take_step(f, p, end, &step)) < 0)
		return rc;
	for (int v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << (v == 7 && f == &fields[F_WDAY] ? 0 : v);
	return 0;
}

/* A whole field [p, end) into *bits; BAD, RANGE or 0 */
static int parse_field(const struct field *f, const char *p, const char *end,
		       uint64_t *bits)
{
	int rc;

	*bits = 0;
	/* Bounded: each item consumes at least one byte */
	for (;;) {
		if ((rc = take_item(f, &p, end, bits)) < 0)
			return rc;
		if (p == end)
			return 0;
		if (*p != ',' || ++p == end)
			return BAD;
	}
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits s into fields at blanks; returns how many were seen (up to
 * NFIELDS + 1, to tell "too many" apart). */
static int split_fields(const char *s, const char *start[], const char *end[])
{
	int n = 0;

	while (n <= NFIELDS) {
		while (is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		start[n] = s;
		while (*s && !is_blank(*s))
			s++;
		end[n++] = s;
	}
	return n;
}

static const struct {
	const char *name, *expr;
} keywords[] = {
	{ "@hourly", "0 * * * *" },  { "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" }, { "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" }, { "@reboot", NULL },
};

static int parse_fields(const char *s, struct cron *c, const char **err, int *at);

/* "@daily" and friends (blanks around are allowed) */
static int parse_keyword(const char *s, struct cron *c, const char **err, int *at)
{
	const char *start[NFIELDS + 1], *end[NFIELDS + 1];
	int n = split_fields(s, start, end);

	for (size_t i = 0; n == 1 && i < sizeof keywords / sizeof keywords[0]; i++) {
		size_t len = strlen(keywords[i].name);
		if ((size_t)(end[0] - start[0]) != len ||
		    strncasecmp(start[0], keywords[i].name, len) != 0)
			continue;
		if (keywords[i].expr)
			return parse_fields(keywords[i].expr, c, err, at);
		memset(c, 0, sizeof *c);
		c->flags = CRON_REBOOT;
		return 0;
	}
	*err = "unknown @keyword";
	*at = (int)(start[0] - s);
	return -1;
}

static int parse_fields(const char *s, struct cron *c, const char **err, int *at)
{
	const char *start[NFIELDS + 1], *end[NFIELDS + 1];
	uint64_t bits[NFIELDS];
	int n = split_fields(s, start, end);

	if (n != NFIELDS) {
		*err = "expected 5 fields";
		*at = n > NFIELDS ? (int)(start[NFIELDS] - s) : (int)strlen(s);
		return -1;
	}
	for (int i = 0; i < NFIELDS; i++) {
		int rc = parse_field(&fields[i], start[i], end[i], &bits[i]);
		if (rc < 0) {
			*err = rc == RANGE ? fields[i].range : fields[i].bad;
			*at = (int)(start[i] - s);
			return -1;
		}
	}
	c->minute = bits[F_MINUTE];
	c->hour = (uint32_t)bits[F_HOUR];
	c->mday = (uint32_t)bits[F_MDAY];
	c->month = (uint16_t)bits[F_MONTH];
	c->wday = (uint8_t)bits[F_WDAY];
	c->flags = (uint8_t)((*start[F_MDAY] == '*' ? CRON_MDAY_STAR : 0) |
			     (*start[F_WDAY] == '*' ? CRON_WDAY_STAR : 0));
	return 0;
}

int cron_parse(const char *s, struct cron *c, const char **err, int *at)
{
	const char *e_dummy;
	int at_dummy;
	struct cron tmp;
	const char *p = s;

	if (!err)
		err = &e_dummy;
	if (!at)
		at = &at_dummy;
	while (is_blank(*p))
		p++;
	/* parse into tmp so that *c is left alone on error */
	if ((*p == '@' ? parse_keyword(s, &tmp, err, at)
		       : parse_fields(s, &tmp, err, at)) < 0)
		return -1;
	*c = tmp;
	return 0;
}

/* ------------------------------------------------------------ next time */

/* How far cron_next looks: 5 years and a day (Feb 29 can be 4 years off) */
#define CRON_HORIZON ((int64_t)(5 * 366 + 1) * 86400)
/* A safety net only: a real search takes a few thousand steps at most */
#define CRON_MAX_STEPS 200000

#define ALL_HOURS ((UINT32_C(1) << 24) - 1)

static int bit(uint64_t set, int i)
{
	return (int)((set >> i) & 1);
}

static int day_matches(const struct cron *c, const struct tm *tm)
{
	int dom = bit(c->mday, tm->tm_mday), dow = bit(c->wday, tm->tm_wday);

	/* Vixie: if either field starts with "*", both must match (the
	 * unrestricted one always does); otherwise either may. */
	if (c->flags & (CRON_MDAY_STAR | CRON_WDAY_STAR))
		return dom && dow;
	return dom || dow;
}

static int tm_matches(const struct cron *c, const struct tm *tm)
{
	return bit(c->month, tm->tm_mon + 1) && day_matches(c, tm) &&
	       bit(c->hour, tm->tm_hour) && bit(c->minute, tm->tm_min);
}

/* Local midnight `days` days after the day of tm, month `months` later
 * (day 1 then); must be after t, else the start of the next hour. */
static time_t jump_to_day(const struct tm *tm, time_t t, int months, int days)
{
	struct tm n = *tm;
	time_t r;

	n.tm_mon += months;
	n.tm_mday = months ? 1 : n.tm_mday + days;
	n.tm_hour = n.tm_min = n.tm_sec = 0;
	n.tm_isdst = -1;
	r = mktime(&n);
	/* mktime fails past the range of time_t; a midnight inside a DST gap
	 * may come back before t: step an hour instead, which always moves on */
	if (r == (time_t)-1 || r <= t)
		return t + (60 - tm->tm_min) * 60;
	return r;
}

/* The next minute at or after tm:min that the minute field allows, as a
 * step from t; or the step to the next hour when none is left. */
static time_t next_minute(const struct cron *c, const struct tm *tm, time_t t)
{
	for (int m = tm->tm_min; m < 60; m++)
		if (bit(c->minute, m))
			return t + (m - tm->tm_min) * 60;
	return t + (60 - tm->tm_min) * 60;
}

/* Spring forward: is t the first second after a jump of the clock, with a
 * skipped wall-clock minute that the job wanted? */
static int missed_in_gap(const struct cron *c, time_t t, const struct tm *tm)
{
	struct tm before, w;
	time_t prev = t - 1;
	long gap;

	if (!localtime_r(&prev, &before))
		return 0;
	gap = tm->tm_gmtoff - before.tm_gmtoff;
	if (gap <= 0 || gap > 86400)
		return 0;
	/* The skipped wall-clock times are [wall(t) - gap, wall(t)). gmtime
	 * of a wall-clock count of seconds gives its fields. At most 1440
	 * minutes (a whole day, Samoa 2011). */
	for (long s = gap; s >= 60; s -= 60) {
		time_t wall = t + tm->tm_gmtoff - s;
		if (gmtime_r(&wall, &w) && tm_matches(c, &w))
			return 1;
	}
	return 0;
}

/* Fall back: did the wall-clock time of t already happen (an hour, or
 * whatever the shift was, earlier)? Looks for a shift within 3 hours. */
static int is_repeat(time_t t, const struct tm *tm)
{
	struct tm early, x;
	time_t e = t - 3 * 3600, back;
	long shift;

	if (!localtime_r(&e, &early))
		return 0;
	shift = early.tm_gmtoff - tm->tm_gmtoff;
	if (shift <= 0)
		return 0;
	back = t - shift;
	return localtime_r(&back, &x) && x.tm_gmtoff == tm->tm_gmtoff + shift;
}

/* The start of the minute after `after`, by the wall clock */
static time_t first_candidate(time_t after)
{
	struct tm tm;

	if (!localtime_r(&after, &tm))
		return (time_t)-1;
	return after + 60 - tm.tm_sec;
}

time_t cron_next(const struct cron *c, time_t after)
{
	int fixed_hours = (c->hour & ALL_HOURS) != ALL_HOURS;
	time_t t = first_candidate(after);
	int64_t limit = (int64_t)after + CRON_HORIZON;
	struct tm tm;

	if (c->flags & CRON_REBOOT || t == (time_t)-1)
		return -1;
	for (int steps = 0; steps < CRON_MAX_STEPS && (int64_t)t <= limit; steps++) {
		if (!localtime_r(&t, &tm))
			return -1;
		if (fixed_hours && missed_in_gap(c, t, &tm))
			return t;
		if (!bit(c->month, tm.tm_mon + 1))
			t = jump_to_day(&tm, t, 1, 0);
		else if (!day_matches(c, &tm))
			t = jump_to_day(&tm, t, 0, 1);
		else if (!bit(c->hour, tm.tm_hour))
			t += (60 - tm.tm_min) * 60;
		else if (!bit(c->minute, tm.tm_min))
			t = next_minute(c, &tm, t);
		else if (fixed_hours && is_repeat(t, &tm))
			t += 60;
		else
			return t;
	}
	return -1;
}
