/* sv_log.c: mls supervise's own log lines (stderr, text or JSON) and the
 * wall clock with its test offset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sv.h"

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + SV.wall_offset_s * 1000;
}

time_t wall_s(void)
{
	return (time_t)(wall_ms() / 1000);
}

/* One line per event, written with one write() so lines of mls and of its
 * services never interleave mid-line. stderr may be a full pipe: the write
 * is attempted once and the line dropped on failure (never block PID 1 on
 * a log reader: stderr is made non-blocking at start when it is a pipe). */
void sv_log(enum log_level lv, const struct inst *i, const char *fmt, ...)
{
	if (lv < SV.level)
		return;
	char msg[1024], line[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char stamp[32];
	logsink_timestamp(&ts, stamp);
	int n;
	if (SV.format == LOGF_JSON) {
		struct jbuf b = { 0 };
		jb_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", stamp, level_names[lv]);
		jb_str(&b, msg);
		if (i) {
			jb_puts(&b, ",\"service\":");
			jb_str(&b, i->svc->cfg->name);
			jb_printf(&b, ",\"instance\":%d", i->idx);
		}
		jb_puts(&b, "}\n");
		if (!b.oom && write(2, b.p, b.len) < 0) {
			/* dropped: nowhere to report it */
		}
		jb_free(&b);
		return;
	}
	n = snprintf(line, sizeof line, "%s mls: %s%s%s%s\n", stamp,
		lv >= LVL_WARN ? level_names[lv] : "", lv >= LVL_WARN ? ": " : "",
		i ? i->name : "", i ? ": " : "");
	if (n < 0)
		return;
	/* the message last, so a long one is cut, not the prefix */
	size_t room = sizeof line - (size_t)n - 1;
	size_t ml = strlen(msg);
	if (ml > room - 1)
		ml = room - 1;
	memcpy(line + n - 1, msg, ml);
	line[n - 1 + ml] = '\n';
	if (write(2, line, (size_t)n + ml) < 0) {
		/* dropped */
	}
}
