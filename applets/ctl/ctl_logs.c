/* ctl_logs.c: logs (and logs -f), history, events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctl.h"
#include "parse.h"

/* "2026-11-22T10:04:05.123Z" (UTC) -> "2026-11-22 10:04:05.123" local;
 * anything else is printed as it is */
static const char *local_iso(const char *iso, char *buf, size_t sz)
{
	struct tm tm = { 0 };
	int ms = 0;
	if (!iso)
		return "-";
	/* fixed layout: digits at known offsets (no sscanf: it would pull
	 * musl's whole scanf into the binary for this one line) */
	static const unsigned char at[] = { 0, 5, 8, 11, 14, 17, 20 }, len[] = { 4, 2, 2, 2, 2, 2, 3 };
	int v[7];
	if (strlen(iso) < 23)
		return iso;
	for (int k = 0; k < 7; k++) {
		v[k] = 0;
		for (int d = 0; d < len[k]; d++) {
			char ch = iso[at[k] + d];
			if (ch < '0' || ch > '9')
				return iso;
			v[k] = v[k] * 10 + (ch - '0');
		}
	}
	tm.tm_year = v[0], tm.tm_mon = v[1], tm.tm_mday = v[2];
	tm.tm_hour = v[3], tm.tm_min = v[4], tm.tm_sec = v[5], ms = v[6];
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	struct tm lt;
	if (t == (time_t)-1 || !localtime_r(&t, &lt))
		return iso;
	size_t n = strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &lt);
	snprintf(buf + n, sz - n, ".%03d", ms);
	return buf;
}

static void print_log(const cJSON *l, int times)
{
	const char *inst = js_str(l, "instance"), *line = js_str(l, "line");
	char t[64];
	if (times)
		printf("%s ", local_iso(js_str(l, "time"), t, sizeof t));
	printf("%s | %s\n", inst ? inst : "?", line ? line : "");
}

struct logs_opts {
	int follow, times;
	const char *n, *name;
};

static int logs_args(int argc, char **argv, struct logs_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1]) {
			if (o->name)
				return ctl_usage("logs takes one NAME");
			o->name = a;
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			if (*p == 'f')
				o->follow = 1;
			else if (*p == 't')
				o->times = 1;
			else if (*p == 'n') {
				if (p[1])
					o->n = p + 1;
				else if (i + 1 < argc)
					o->n = argv[++i];
				else
					return ctl_usage("-n needs a number");
				break;
			} else
				return ctl_usage("logs: unknown option '%s'", a);
		}
	}
	int64_t v;
	if (!o->name)
		return ctl_usage("logs needs a NAME");
	if (o->n && parse_int(o->n, 1, 1000000000, &v))
		return ctl_usage("-n: '%s' is not a number of lines (1 or more)", o->n);
	char *w[] = { (char *)o->name };
	return ctl_words_ok(w, 1) ? CTL_USAGE : 0;
}

/* -f: the stream after the reply, until the supervisor closes it */
static int logs_stream(const struct ctl *c, struct ctlclient *k, int times)
{
	int r;
	while ((r = ctlclient_read_line(k, -1)) == 1) {
		if (c->json)
			printf("%s\n", k->line);
		else {
			cJSON *e = cJSON_Parse(k->line);
			const char *ev = js_str(e, "event");
			if (ev && !strcmp(ev, "log"))
				print_log(e, times);
			cJSON_Delete(e);
		}
		fflush(stdout);
	}
	if (r < 0) {
		fprintf(stderr, "mls ctl: reading logs: %s\n", strerror(errno));
		return CTL_FAIL;
	}
	return CTL_OK;
}

int ctl_logs(const struct ctl *c, int argc, char **argv)
{
	struct logs_opts o = { 0 };
	int rc = logs_args(argc, argv, &o);
	if (rc)
		return rc;
	char *words[4];
	int n = 0;
	words[n++] = "logs";
	if (o.follow)
		words[n++] = "-f";
	words[n++] = (char *)o.name;
	if (o.n)
		words[n++] = (char *)o.n;
	struct ctlclient k;
	if (conn_open(c, &k))
		return CTL_UNREACHABLE;
	cJSON *j = NULL;
	rc = CTL_UNREACHABLE;
	if (!conn_send(&k, words, n))
		j = conn_reply(&k, &rc, c->json);
	if (j && c->json)
		printf("%s\n", k.line);
	if (j && !js_bool(j, "ok"))
		rc = CTL_FAIL;
	else if (j) {
		const cJSON *l;
		if (!c->json)
			cJSON_ArrayForEach(l, js_arr(j, "lines"))
				print_log(l, o.times);
		fflush(stdout);
		if (o.follow)
			rc = logs_stream(c, &k, o.times);
	}
	cJSON_Delete(j);
	ctlclient_close(&k);
	return rc;
}

int ctl_history(const struct ctl *c, int argc, char **argv)
{
	int rc;
	if (argc != 2)
		return ctl_usage("history takes one NAME");
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	static const char *head[] = { "TIME", "INSTANCE", "PID", "EXIT", "UPTIME" };
	struct table t;
	const cJSON *h;
	table_init(&t, 5, head);
	cJSON_ArrayForEach(h, js_arr(j, "history")) {
		char tm[64], pid[24], ex[32], up[32];
		const char *cells[5] = { NULL, js_str(h, "instance"), NULL, js_str(h, "signal"), NULL };
		double v;
		if (js_num(h, "time", &v))
			cells[0] = fmt_clock(v / 1000, 1, tm, sizeof tm);
		if (js_num(h, "pid", &v))
			snprintf(pid, sizeof pid, "%.0f", v), cells[2] = pid;
		if (!cells[3] && js_num(h, "exit_code", &v))
			snprintf(ex, sizeof ex, "%.0f", v), cells[3] = ex;
		if (js_num(h, "uptime_ms", &v))
			cells[4] = fmt_uptime_ms((int64_t)v, up, sizeof up);
		table_row(&t, cells);
	}
	table_print(&t, stdout);
	table_free(&t);
	/* a service deployed from git: its deploys */
	const cJSON *deps = js_arr(j, "deploys");
	if (deps) {
		static const char *dhead[] = { "TIME", "DEPLOY", "REVISION", "FROM", "MESSAGE" };
		table_init(&t, 5, dhead);
		cJSON_ArrayForEach(h, deps) {
			char tm[64], rev[16], from[16];
			double v;
			const char *cells[5] = { NULL, js_str(h, "event"), NULL, NULL, js_str(h, "message") };
			if (js_num(h, "time", &v))
				cells[0] = fmt_clock(v / 1000, 1, tm, sizeof tm);
			if (js_str(h, "revision"))
				snprintf(rev, sizeof rev, "%.12s", js_str(h, "revision")), cells[2] = rev;
			if (js_str(h, "from"))
				snprintf(from, sizeof from, "%.12s", js_str(h, "from")), cells[3] = from;
			table_row(&t, cells);
		}
		putchar('\n');
		table_print(&t, stdout);
		table_free(&t);
	}
	cJSON_Delete(j);
	return CTL_OK;
}

static void print_names(const char *label, const cJSON *arr, int *first)
{
	const cJSON *e;
	int n = 0;
	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsString(e)) {
			printf("%s%s%s", n ? ", " : *first ? ": " : "; ", n ? "" : label, e->valuestring);
			n++;
			*first = 0;
		}
}

/* "10:04:05 web.1 running pid 123" */
static void event_human(const cJSON *e, const char *raw)
{
	const char *ev = js_str(e, "event"), *name = js_str(e, "name");
	const char *s, *r;
	double v;
	char t[64], up[32];
	if (!ev) {
		printf("%s\n", raw);
		return;
	}
	if (!strcmp(ev, "log")) {
		print_log(e, 0);
		return;
	}
	fmt_clock(js_num(e, "time", &v) ? v / 1000 : now_wall(), 0, t, sizeof t);
	if (!strcmp(ev, "state") && (s = js_str(e, "state"))) {
		printf("%s %s %s", t, name ? name : "?", s);
		if (js_num(e, "pid", &v))
			printf(" pid %.0f", v);
		if ((r = js_str(e, "reason")))
			printf(" (%s)", r);
		putchar('\n');
	} else if (!strcmp(ev, "exit")) {
		printf("%s %s", t, name ? name : "?");
		if (js_num(e, "pid", &v))
			printf(" pid %.0f", v);
		if ((s = js_str(e, "signal")))
			printf(" killed by %s", s);
		else if (js_num(e, "exit_code", &v))
			printf(" exited with status %.0f", v);
		else
			printf(" exited");
		if (js_num(e, "uptime_ms", &v))
			printf(" after %s", fmt_uptime_ms((int64_t)v, up, sizeof up));
		putchar('\n');
	} else if (!strcmp(ev, "reload")) {
		int first = 1;
		printf("%s reload", t);
		if (!js_bool(e, "ok")) {
			printf(" failed%s%s\n", js_str(e, "error") ? ": " : "", js_str(e, "error") ? js_str(e, "error") : "");
			return;
		}
		print_names("added ", js_arr(e, "added"), &first);
		print_names("removed ", js_arr(e, "removed"), &first);
		print_names("changed ", js_arr(e, "changed"), &first);
		printf("%s\n", first ? ": nothing changed" : "");
	} else if (!strcmp(ev, "shutdown"))
		printf("%s supervisor shutting down\n", t);
	else
		printf("%s\n", raw);
}

int ctl_events(const struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ctl_usage("events takes no arguments");
	struct ctlclient k;
	int rc, r, shutdown = 0;
	if (conn_events(c, &k, &rc))
		return rc;
	if (c->json)
		printf("%s\n", k.line);
	fflush(stdout);
	while ((r = ctlclient_read_line(&k, -1)) == 1) {
		cJSON *e = cJSON_Parse(k.line);
		const char *ev = js_str(e, "event");
		if (ev && !strcmp(ev, "shutdown"))
			shutdown = 1;
		if (c->json)
			printf("%s\n", k.line);
		else
			event_human(e, k.line);
		cJSON_Delete(e);
		fflush(stdout);
	}
	if (r < 0)
		fprintf(stderr, "mls ctl: reading events: %s\n", strerror(errno));
	else if (!shutdown)
		fprintf(stderr, "mls ctl: the supervisor closed the connection\n");
	ctlclient_close(&k);
	return r == 0 && shutdown ? CTL_OK : CTL_FAIL;
}
