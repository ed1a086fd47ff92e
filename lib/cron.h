/* 5-field cron expressions: minute hour day-of-month month day-of-week,
 * with ranges (1-5), steps ("*" "/15", 1-30/2), lists (1,15), names (jan-dec,
 * sun-sat), and @hourly @daily @midnight @weekly @monthly @yearly
 * @annually @reboot. Times are local time. Day-of-month and day-of-week
 * follow Vixie cron: when both are restricted, either may match. */
#ifndef MLS_CRON_H
#define MLS_CRON_H

#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t minute;   /* bits 0-59 */
	uint32_t hour;     /* bits 0-23 */
	uint32_t mday;     /* bits 1-31 */
	uint16_t month;    /* bits 1-12 */
	uint8_t wday;      /* bits 0-6, Sunday = 0 (7 is accepted as Sunday) */
	uint8_t flags;     /* CRON_* */
};

#define CRON_REBOOT     1 /* @reboot: once when the supervisor starts */
/* As in Vixie cron, a field that starts with "*" (so "*" + "/2" too) counts
 * as unrestricted for the day-of-month / day-of-week rule. */
#define CRON_MDAY_STAR  2 /* day-of-month field starts with "*" */
#define CRON_WDAY_STAR  4 /* day-of-week field starts with "*" */

/* Parse; returns 0, or -1 with a static message in *err and the 0-based
 * offset of the bad field in *at (may be NULL). */
int cron_parse(const char *s, struct cron *c, const char **err, int *at);

/* The first time strictly after `after` (seconds) that matches, in local
 * time; -1 for @reboot or when nothing matches within 5 years (e.g. Feb 30). */
time_t cron_next(const struct cron *c, time_t after);

#endif
