/* Unit tests for lib/metrics.c: metrics_render() on a real `status` reply
 * (captured from `mls supervise`: two healthy web instances, a crashing
 * one in backoff, one stopped by `ctl stop`, one running unhealthy, a
 * schedule: job and a runs: job), on odd label values, missing fields and
 * odd numbers; every text goes through the strict line check of
 * promlines.h and, when installed, `promtool check metrics` (a failure
 * under CI=true when it is missing). Then metrics_ready() on a table of
 * replies, and host_stats_read() on fake /proc trees and the real one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "metrics.h"
#include "promlines.h"
#include "tap.h"

#define OK(cond, ...) tap_ok(!!(cond), __LINE__, __VA_ARGS__)

/* `echo status | nc -N -U mls.sock` after `ctl stop stopme` (mls 9e26ff1) */
static const char real_status[] =
	"{\"ok\":true,\"supervisor\":{\"pid\":26082,\"uptime_s\":3,\"version\":\"9e26ff1\",\"config\":[\"m.yaml\"],"
	"\"state_dir\":\"/tmp/mcap/st\",\"log_dir\":null,\"shutting_down\":false},\"services\":["
	"{\"name\":\"web\",\"instance\":1,\"state\":\"running\",\"pid\":26087,\"port\":34055,\"uptime_s\":3,"
	"\"restarts\":0,\"exit_code\":null,\"signal\":null,\"health\":\"healthy\",\"health_failures\":0,"
	"\"health_message\":\"HTTP 200\",\"reason\":null,\"note\":null,\"notify_state\":null,\"cpu_percent\":1.1,"
	"\"cpu_seconds\":0.04,\"rss_bytes\":14503936,\"threads\":1,\"fds\":4,\"next_run\":null,\"next_start\":null,"
	"\"dropped_lines\":0,\"job\":false,\"runs_done\":null,\"waiting_for\":null},"
	"{\"name\":\"web\",\"instance\":2,\"state\":\"running\",\"pid\":26090,\"port\":58777,\"uptime_s\":3,"
	"\"restarts\":0,\"exit_code\":null,\"signal\":null,\"health\":\"healthy\",\"health_failures\":0,"
	"\"health_message\":\"HTTP 200\",\"reason\":null,\"note\":null,\"notify_state\":null,\"cpu_percent\":1.1,"
	"\"cpu_seconds\":0.04,\"rss_bytes\":14606336,\"threads\":1,\"fds\":4,\"next_run\":null,\"next_start\":null,"
	"\"dropped_lines\":0,\"job\":false,\"runs_done\":null,\"waiting_for\":null},"
	"{\"name\":\"bad\",\"instance\":1,\"state\":\"backoff\",\"pid\":null,\"port\":null,\"uptime_s\":null,"
	"\"restarts\":1,\"exit_code\":3,\"signal\":null,\"health\":null,\"reason\":\"exited with status 3\","
	"\"note\":null,\"notify_state\":null,\"cpu_percent\":null,\"cpu_seconds\":null,\"rss_bytes\":null,"
	"\"threads\":null,\"fds\":null,\"next_run\":null,\"next_start\":1796498589.8,\"dropped_lines\":0,"
	"\"job\":false,\"runs_done\":null,\"waiting_for\":null},"
	"{\"name\":\"stopme\",\"instance\":1,\"state\":\"stopped\",\"pid\":null,\"port\":null,\"uptime_s\":null,"
	"\"restarts\":0,\"exit_code\":null,\"signal\":\"SIGTERM\",\"health\":null,\"reason\":null,\"note\":null,"
	"\"notify_state\":null,\"cpu_percent\":null,\"cpu_seconds\":null,\"rss_bytes\":null,\"threads\":null,"
	"\"fds\":null,\"next_run\":null,\"next_start\":null,\"dropped_lines\":0,\"job\":false,\"runs_done\":null,"
	"\"waiting_for\":null},"
	"{\"name\":\"sick\",\"instance\":1,\"state\":\"running\",\"pid\":26109,\"port\":null,\"uptime_s\":3,"
	"\"restarts\":0,\"exit_code\":null,\"signal\":null,\"health\":\"unhealthy\",\"health_failures\":17,"
	"\"health_message\":\"connect: connection refused\",\"reason\":null,\"note\":null,\"notify_state\":null,"
	"\"cpu_percent\":0.0,\"cpu_seconds\":0.00,\"rss_bytes\":1867776,\"threads\":1,\"fds\":3,\"next_run\":null,"
	"\"next_start\":null,\"dropped_lines\":0,\"job\":false,\"runs_done\":null,\"waiting_for\":null},"
	"{\"name\":\"cron\",\"instance\":1,\"state\":\"waiting\",\"pid\":null,\"port\":null,\"uptime_s\":null,"
	"\"restarts\":0,\"exit_code\":null,\"signal\":null,\"health\":null,\"reason\":null,\"note\":null,"
	"\"notify_state\":null,\"cpu_percent\":null,\"cpu_seconds\":null,\"rss_bytes\":null,\"threads\":null,"
	"\"fds\":null,\"next_run\":1796526000,\"next_start\":null,\"dropped_lines\":0,\"job\":true,\"runs_done\":0,"
	"\"waiting_for\":null},"
	"{\"name\":\"once\",\"instance\":1,\"state\":\"exited\",\"pid\":null,\"port\":null,\"uptime_s\":null,"
	"\"restarts\":0,\"exit_code\":0,\"signal\":null,\"health\":null,\"reason\":null,\"note\":null,"
	"\"notify_state\":null,\"cpu_percent\":null,\"cpu_seconds\":null,\"rss_bytes\":null,\"threads\":null,"
	"\"fds\":null,\"next_run\":null,\"next_start\":null,\"dropped_lines\":0,\"job\":true,\"runs_done\":2,"
	"\"waiting_for\":null}]}";

static const char *const states[] = { "waiting", "starting", "running", "stopping", "stopped", "backoff", "exited",
	"failed" };

/* ------------------------------------------------------------- helpers */

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* The value of the sample whose line starts with prefix ("NAME{...} "), or -1e300 */
static double value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; (p = strstr(p, prefix)); p++)
		if (p == text || p[-1] == '\n')
			return strtod(p + n, NULL);
	return -1e300;
}

static int count(const char *text, const char *s)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, s)); p++)
		n++;
	return n;
}

/* Renders status (JSON text; NULL for none); the text is checked by
 * promlines.h. The caller frees. */
static char *render(int line, const char *json, const struct host_stats *h, const char *ver, const char *arch)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	if (json && !j)
		tap_diag("line %d: bad fixture", line);
	struct jbuf b = { 0 };
	int r = metrics_render(&b, j, h, ver, arch);
	cJSON_Delete(j);
	char why[256] = "";
	int ok = r == 0 && b.p && prom_lines_ok(b.p, why, sizeof why);
	if (!tap_ok(ok, line, "render: valid exposition text"))
		tap_diag("%s\n%s", why, b.p ? b.p : "(none)");
	return b.p ? b.p : strdup("");
}

/* promtool check metrics < text: exit 0 and nothing said (no lint) */
static void promtool(int line, const char *what, const char *text)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		tap_skip("promtool check metrics (%s): no promtool (Debian package prometheus)", what);
		return;
	}
	char in[] = "/tmp/test_metrics.XXXXXX", cmd[128];
	int fd = mkstemp(in);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		tap_ok(0, line, "promtool (%s): cannot write %s", what, in);
		return;
	}
	snprintf(cmd, sizeof cmd, "promtool check metrics <%s >%s.out 2>&1", in, in);
	int st = system(cmd);
	snprintf(cmd, sizeof cmd, "%s.out", in);
	FILE *o = fopen(cmd, "r");
	char said[2048] = "";
	size_t n = o ? fread(said, 1, sizeof said - 1, o) : 0;
	said[n] = 0;
	if (o)
		fclose(o);
	if (!tap_ok(st == 0 && n == 0, line, "promtool check metrics accepts the %s text", what))
		tap_diag("status %d: %s", st, said);
	unlink(cmd);
	unlink(in);
}

/* ------------------------------------------------------- the real reply */

static void test_real(void)
{
	struct host_stats h;
	host_stats_read(&h, "/proc", "/");
	long long t0 = (long long)time(NULL);
	char *t = render(__LINE__, real_status, &h, "0.1.0", "x86_64");

	OK(has_line(t, "mls_build_info{version=\"0.1.0\",arch=\"x86_64\"} 1"), "build info");
	OK(has_line(t, "# TYPE mls_build_info gauge"), "build info typed");
	double v = value_of(t, "mls_supervisor_start_time_seconds ");
	OK(v >= t0 - 3 && v <= (double)time(NULL) - 3, "supervisor start time is now - uptime_s (%.0f)", v);
	OK(has_line(t, "mls_service_up{service=\"web\",instance=\"1\"} 1"), "web.1 up");
	OK(has_line(t, "mls_service_up{service=\"web\",instance=\"2\"} 1"), "web.2 up");
	OK(has_line(t, "mls_service_up{service=\"bad\",instance=\"1\"} 0"), "bad.1 down");
	OK(has_line(t, "mls_service_up{service=\"cron\",instance=\"1\"} 0"), "a waiting job is not up");

	/* one-hot: 8 samples per instance, exactly one of them 1 */
	static const struct { const char *svc, *state; } cur[] = {
		{ "web", "running" }, { "bad", "backoff" }, { "stopme", "stopped" }, { "sick", "running" },
		{ "cron", "waiting" }, { "once", "exited" },
	};
	for (size_t k = 0; k < sizeof cur / sizeof *cur; k++) {
		int ones = 0, all = 0;
		for (size_t s = 0; s < 8; s++) {
			char pre[128];
			snprintf(pre, sizeof pre, "mls_service_state{service=\"%s\",instance=\"1\",state=\"%s\"} ",
				cur[k].svc, states[s]);
			double x = value_of(t, pre);
			all += x == 0 || x == 1;
			ones += x == 1;
			if (x == 1 && strcmp(states[s], cur[k].state))
				ones = 99;
		}
		OK(all == 8 && ones == 1, "state of %s.1 one-hot on %s", cur[k].svc, cur[k].state);
	}
	OK(count(t, "mls_service_state{") == 7 * 8, "7 instances x 8 states");

	OK(has_line(t, "mls_service_health_status{service=\"web\",instance=\"1\"} 1"), "healthy: 1");
	OK(has_line(t, "mls_service_health_status{service=\"sick\",instance=\"1\"} 0"), "unhealthy: 0");
	OK(!strstr(t, "mls_service_health_status{service=\"bad\""), "no check: no health sample");
	v = value_of(t, "mls_service_start_time_seconds{service=\"sick\",instance=\"1\"} ");
	OK(v >= t0 - 3 && v <= (double)time(NULL) - 3, "start time from uptime_s");
	OK(!strstr(t, "mls_service_start_time_seconds{service=\"bad\""), "no process: no start time");
	OK(has_line(t, "# TYPE mls_service_restarts_total counter"), "restarts: a counter");
	OK(has_line(t, "mls_service_restarts_total{service=\"bad\",instance=\"1\"} 1"), "restarts");
	OK(has_line(t, "mls_service_last_exit_code{service=\"bad\",instance=\"1\"} 3"), "last exit code");
	OK(has_line(t, "mls_service_last_exit_code{service=\"once\",instance=\"1\"} 0"), "last exit code 0");
	OK(!strstr(t, "mls_service_last_exit_code{service=\"stopme\""), "killed by a signal: no exit code");
	OK(has_line(t, "mls_service_cpu_seconds_total{service=\"web\",instance=\"1\"} 0.04"), "cpu seconds");
	OK(has_line(t, "mls_service_cpu_seconds_total{service=\"sick\",instance=\"1\"} 0"), "cpu seconds 0.00 as 0");
	OK(has_line(t, "mls_service_memory_rss_bytes{service=\"web\",instance=\"2\"} 14606336"), "rss bytes");
	OK(has_line(t, "mls_service_open_fds{service=\"web\",instance=\"1\"} 4"), "fds");
	OK(has_line(t, "mls_service_threads{service=\"sick\",instance=\"1\"} 1"), "threads");
	OK(count(t, "mls_service_memory_rss_bytes{") == 3, "rss only while a process exists");
	OK(has_line(t, "mls_service_log_dropped_lines_total{service=\"once\",instance=\"1\"} 0"), "dropped lines");
	OK(has_line(t, "mls_job_next_run_time_seconds{service=\"cron\",instance=\"1\"} 1796526000"), "next run");
	OK(count(t, "mls_job_next_run_time_seconds{") == 1, "next run only for the schedule: job");
	OK(has_line(t, "mls_job_runs_succeeded_total{service=\"once\",instance=\"1\"} 2"), "runs done");
	OK(count(t, "mls_job_runs_succeeded_total{") == 2, "runs done only for jobs");
	OK(!strstr(t, "mls_job_last_success_time_seconds"), "no last_success in the reply: no family");
	OK(strstr(t, "\nmls_host_load1 ") && strstr(t, "\nmls_host_load15 ") && strstr(t, "\nmls_host_memory_total_bytes ") &&
			strstr(t, "\nmls_host_memory_available_bytes ") &&
			strstr(t, "\nmls_host_root_filesystem_size_bytes ") &&
			strstr(t, "\nmls_host_root_filesystem_avail_bytes "),
		"host families from this machine");
	promtool(__LINE__, "real status", t);
	free(t);
}

/* ------------------------------------------- labels, numbers, missing */

static void test_odd(void)
{
	/* a name with \, ", a newline, a tab, UTF-8 and a byte that is not */
	char *t = render(__LINE__,
		"{\"services\":[{\"name\":\"a\\\\b\\\"c\\nd\\te \xc3\xa9 \xff\",\"instance\":1,\"state\":\"running\"}]}",
		NULL, "1.0\"x\\y\nz", "");
	OK(has_line(t, "mls_service_up{service=\"a\\\\b\\\"c\\nd\te \xc3\xa9 \xef\xbf\xbd\",instance=\"1\"} 1"),
		"label value escaped, invalid UTF-8 replaced");
	OK(has_line(t, "mls_build_info{version=\"1.0\\\"x\\\\y\\nz\",arch=\"\"} 1"), "version escaped, empty arch");
	OK(!strstr(t, "mls_host_"), "no host: no host family");
	promtool(__LINE__, "odd labels", t);
	free(t);

	/* numbers: integral, fractions, large, negative, overflowing to Inf */
	t = render(__LINE__,
		"{\"services\":[{\"name\":\"n\",\"instance\":3,\"rss_bytes\":1e20,\"cpu_seconds\":0.1,"
		"\"restarts\":123456789012,\"exit_code\":-1,\"threads\":1e999,\"fds\":-1e999,\"dropped_lines\":2.5e-7,"
		"\"next_run\":1796526000.25}]}",
		NULL, NULL, NULL);
	OK(has_line(t, "mls_service_memory_rss_bytes{service=\"n\",instance=\"3\"} 1e+20"), "1e20");
	OK(has_line(t, "mls_service_cpu_seconds_total{service=\"n\",instance=\"3\"} 0.1"), "0.1 (shortest)");
	OK(has_line(t, "mls_service_restarts_total{service=\"n\",instance=\"3\"} 123456789012"), "a large integer");
	OK(has_line(t, "mls_service_last_exit_code{service=\"n\",instance=\"3\"} -1"), "negative");
	OK(has_line(t, "mls_service_threads{service=\"n\",instance=\"3\"} +Inf"), "+Inf");
	OK(has_line(t, "mls_service_open_fds{service=\"n\",instance=\"3\"} -Inf"), "-Inf");
	OK(has_line(t, "mls_service_log_dropped_lines_total{service=\"n\",instance=\"3\"} 2.5e-07"), "small");
	OK(has_line(t, "mls_job_next_run_time_seconds{service=\"n\",instance=\"3\"} 1796526000.25"), "fraction");
	OK(has_line(t, "mls_build_info{version=\"\",arch=\"\"} 1"), "NULL version and arch");
	free(t);

	/* missing and mistyped fields */
	t = render(__LINE__,
		"{\"supervisor\":{\"uptime_s\":\"3\"},\"services\":[{\"name\":\"bare\",\"instance\":1},"
		"{\"instance\":2,\"state\":\"running\"},{\"name\":\"x\",\"instance\":0},{\"name\":\"y\",\"instance\":1.5},"
		"{\"name\":7,\"instance\":1},\"junk\",{\"name\":\"z\",\"instance\":2,\"state\":\"nonsense\",\"health\":\"starting\","
		"\"restarts\":\"1\",\"uptime_s\":null}]}",
		NULL, "v", "a");
	OK(!strstr(t, "mls_supervisor_start_time_seconds"), "uptime_s not a number: no supervisor start time");
	OK(has_line(t, "mls_service_up{service=\"bare\",instance=\"1\"} 0"), "bare entry: up 0");
	OK(count(t, "mls_service_state{service=\"bare\"") == 8 && !strstr(t, "\"bare\",instance=\"1\",state=\"running\"} 1"),
		"bare entry: 8 states, all 0");
	OK(count(t, "mls_service_up{") == 2, "entries without a name or a good instance skipped");
	OK(has_line(t, "mls_service_health_status{service=\"z\",instance=\"2\"} -1"), "health starting: -1");
	OK(!strstr(t, "restarts_total{") && !strstr(t, "mls_service_start_time_seconds"),
		"mistyped and null fields: no sample, no family");
	promtool(__LINE__, "sparse", t);
	free(t);

	/* no services, no status, not ok */
	static const char *const empty[] = { "{\"ok\":true,\"services\":[]}", NULL, "{\"ok\":false,\"error\":\"x\"}",
		"[]", "{\"services\":{}}" };
	for (size_t k = 0; k < sizeof empty / sizeof *empty; k++) {
		t = render(__LINE__, empty[k], NULL, "v", "a");
		OK(count(t, "# TYPE") == 1 && has_line(t, "mls_build_info{version=\"v\",arch=\"a\"} 1"),
			"%s: only the build info", empty[k] ? empty[k] : "NULL");
		free(t);
	}

	/* a job with the last success, should supervise send it */
	t = render(__LINE__, "{\"services\":[{\"name\":\"j\",\"instance\":1,\"job\":true,\"last_success\":1796500000}]}",
		NULL, "v", "a");
	OK(has_line(t, "mls_job_last_success_time_seconds{service=\"j\",instance=\"1\"} 1796500000"), "last success");
	OK(has_line(t, "# TYPE mls_job_last_success_time_seconds gauge"), "last success typed");
	free(t);

	/* a service with git: its revision as an info gauge; null: none */
	t = render(__LINE__, "{\"services\":[{\"name\":\"api\",\"instance\":1,\"state\":\"running\","
		"\"revision\":\"3f2a9c1e0000000000000000000000000000beef\"},{\"name\":\"api\",\"instance\":2,"
		"\"revision\":null},{\"name\":\"web\",\"instance\":1}]}", NULL, "v", "a");
	OK(has_line(t, "mls_service_revision_info{service=\"api\",instance=\"1\",revision=\"3f2a9c1e0000000000000000000000000000beef\"} 1"),
		"revision info");
	OK(has_line(t, "# TYPE mls_service_revision_info gauge") && count(t, "mls_service_revision_info{") == 1,
		"revision info: typed, only for the instance with a revision");
	free(t);

	/* host: a field missing is left out, the others stay */
	struct host_stats h = { .have = HOST_LOAD | HOST_FS, .load = { 0.5, 1.25, 2 }, .fs_size = 1ULL << 40,
		.fs_avail = 12345, .mem_total = 99 };
	t = render(__LINE__, NULL, &h, "v", "a");
	OK(has_line(t, "mls_host_load1 0.5") && has_line(t, "mls_host_load5 1.25") && has_line(t, "mls_host_load15 2"),
		"loads");
	OK(has_line(t, "mls_host_root_filesystem_size_bytes 1099511627776") &&
			has_line(t, "mls_host_root_filesystem_avail_bytes 12345"),
		"file system");
	OK(!strstr(t, "mls_host_memory"), "memory not read: not rendered");
	free(t);
}

/* ----------------------------------------------------------- readiness */

#define SVC(name, inst, rest) "{\"name\":\"" name "\",\"instance\":" #inst "," rest "}"
static const struct {
	int line;
	const char *status;
	int ready;
	const char *culprits;
} ready_cases[] = {
	{ __LINE__, real_status, 0,
		"[{\"name\":\"bad.1\",\"state\":\"backoff\",\"reason\":\"exited with status 3\"},"
		"{\"name\":\"sick.1\",\"state\":\"running\",\"health\":\"unhealthy\",\"health_message\":\"connect: connection refused\"}]" },
	{ __LINE__, "{\"ok\":true,\"services\":[]}", 1, "[]" },
	{ __LINE__, "{\"services\":[" SVC("a", 1, "\"state\":\"running\",\"health\":null") "," SVC("a", 2, "\"state\":\"running\",\"health\":\"starting\"") "]}", 1, "[]" },
	{ __LINE__, "{\"services\":[" SVC("a", 1, "\"state\":\"running\",\"health\":\"healthy\"") "," SVC("s", 1, "\"state\":\"stopped\",\"reason\":null") "]}", 1, "[]" },
	{ __LINE__, "{\"services\":[" SVC("s", 1, "\"state\":\"stopped\",\"reason\":\"removed\"") "]}", 0,
		"[{\"name\":\"s.1\",\"state\":\"stopped\",\"reason\":\"removed\"}]" },
	{ __LINE__, "{\"services\":[" SVC("s", 1, "\"state\":\"stopping\"") "," SVC("w", 4, "\"state\":\"waiting\",\"reason\":\"waiting for db (service_started)\"") "]}", 0,
		"[{\"name\":\"s.1\",\"state\":\"stopping\",\"reason\":null},{\"name\":\"w.4\",\"state\":\"waiting\",\"reason\":\"waiting for db (service_started)\"}]" },
	{ __LINE__, "{\"services\":[" SVC("f", 1, "\"state\":\"failed\",\"reason\":\"restart limit reached: 5 starts in 1m\",\"job\":false") "]}", 0,
		"[{\"name\":\"f.1\",\"state\":\"failed\",\"reason\":\"restart limit reached: 5 starts in 1m\"}]" },
	/* jobs never count, whatever their state */
	{ __LINE__, "{\"services\":[" SVC("j", 1, "\"state\":\"failed\",\"job\":true") "," SVC("k", 1, "\"state\":\"waiting\",\"job\":true") "]}", 1, "[]" },
	{ __LINE__, "{\"services\":[" SVC("u", 1, "\"state\":\"running\",\"health\":\"unhealthy\"") "]}", 0,
		"[{\"name\":\"u.1\",\"state\":\"running\",\"health\":\"unhealthy\",\"health_message\":null}]" },
	{ __LINE__, "{\"services\":[" SVC("x", 1, "\"health\":\"healthy\"") "]}", 0, "[{\"name\":\"x.1\",\"state\":null,\"reason\":null}]" },
	{ __LINE__, "{\"supervisor\":{\"shutting_down\":true},\"services\":[" SVC("s", 1, "\"state\":\"stopped\"") "]}", 0,
		"[{\"name\":\"mls\",\"state\":\"shutting_down\",\"reason\":\"mls is shutting down\"}]" },
	{ __LINE__, "{\"ok\":false,\"error\":\"out of memory\"}", -1, "[]" },
	{ __LINE__, "{\"services\":7}", -1, "[]" },
	{ __LINE__, NULL, -1, "[]" },
};

static void test_ready(void)
{
	for (size_t k = 0; k < sizeof ready_cases / sizeof *ready_cases; k++) {
		cJSON *j = ready_cases[k].status ? cJSON_Parse(ready_cases[k].status) : NULL;
		struct jbuf b = { 0 };
		int r = metrics_ready(j, &b);
		int ok = r == ready_cases[k].ready && !b.oom && !strcmp(b.p, ready_cases[k].culprits);
		if (!tap_ok(ok, ready_cases[k].line, "metrics_ready case %zu: %d", k, ready_cases[k].ready))
			tap_diag("got %d %s", r, b.p ? b.p : "(null)");
		cJSON *c = cJSON_Parse(b.p);
		tap_ok(cJSON_IsArray(c), ready_cases[k].line, "culprits are a JSON array");
		cJSON_Delete(c);
		cJSON_Delete(j);
		jb_free(&b);
	}
}

/* ---------------------------------------------------------------- host */

static void put(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_host(void)
{
	struct host_stats h;
	char dir[] = "/tmp/test_metrics.proc.XXXXXX";
	if (!mkdtemp(dir)) {
		tap_ok(0, __LINE__, "mkdtemp: %s", strerror(errno));
		return;
	}
	put(dir, "loadavg", "0.52 1.58 10.00 1/467 12345\n");
	put(dir, "meminfo", "MemTotal:       16318436 kB\nMemFree:         1234 kB\nMemAvailable:    8123456 kB\n");
	int r = host_stats_read(&h, dir, dir);
	OK(r == 0 && h.have == (HOST_LOAD | HOST_MEM_TOTAL | HOST_MEM_AVAIL | HOST_FS), "fake /proc: all read");
	OK(h.load[0] == 0.52 && h.load[1] == 1.58 && h.load[2] == 10, "loads");
	OK(h.mem_total == 16318436ULL * 1024 && h.mem_avail == 8123456ULL * 1024, "memory in bytes");
	OK(h.fs_size > 0 && h.fs_avail <= h.fs_size, "statvfs of the temp dir");

	/* an old kernel (no MemAvailable), a bad loadavg, no such fs root */
	put(dir, "loadavg", "0.52 x 1\n");
	put(dir, "meminfo", "MemTotal:       16318436 kB\nXMemAvailable: 1 kB\nMemAvailable 5 kB\n");
	errno = 0;
	r = host_stats_read(&h, dir, "/nonexistent/dir");
	OK(r == -1 && h.have == HOST_MEM_TOTAL && h.mem_total == 16318436ULL * 1024, "what parses is kept (have %#x)", h.have);
	put(dir, "meminfo", "MemTotal: 5 MB\n");
	r = host_stats_read(&h, dir, dir);
	OK(r == -1 && errno == EINVAL && h.have == HOST_FS, "bad files: EINVAL, only the fs (have %#x)", h.have);

	char p[256];
	snprintf(p, sizeof p, "%s/loadavg", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/meminfo", dir);
	unlink(p);
	rmdir(dir);
	r = host_stats_read(&h, dir, "/");
	OK(r == -1 && errno == ENOENT && h.have == HOST_FS, "no /proc: ENOENT, the fs still read");

	r = host_stats_read(&h, "/proc", "/");
	OK(r == 0 && h.have == (HOST_LOAD | HOST_MEM_TOTAL | HOST_MEM_AVAIL | HOST_FS) && h.mem_avail <= h.mem_total &&
			h.mem_total > 0,
		"the real /proc and /");
}

int main(void)
{
	test_real();
	test_odd();
	test_ready();
	test_host();
	return tap_done();
}
