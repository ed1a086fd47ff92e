/* ctl_status.c: `status` (a table of instances) and `top` (the same,
 * live, with CPU and memory: the status reply's cpu_percent and rss_bytes
 * when the supervisor sends them, else read here from /proc). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "ctl.h"
#include "loop.h"

/* Appends "; PART" (or PART) to buf */
static void note_add(char *buf, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_add(char *buf, size_t sz, const char *fmt, ...)
{
	size_t n = strlen(buf);
	if (n && n + 2 < sz) {
		strcpy(buf + n, "; ");
		n += 2;
	}
	if (n + 1 >= sz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, sz - n, fmt, ap);
	va_end(ap);
}

/* NOTE: why it waits or failed, what it says (STATUS=), why it is
 * unhealthy, next run, backoff restart, dropped lines */
static char *status_note(const cJSON *s, char *buf, size_t sz)
{
	const char *reason = js_str(s, "reason"), *state = js_str(s, "state");
	const char *sig = js_str(s, "signal");
	double v;
	char t[64];
	buf[0] = 0;
	const char *dep = js_str(s, "deploy");
	if (dep && (!reason || strcmp(reason, dep)))
		note_add(buf, sz, "%s", dep); /* git: deployed 3f2a9c1, rolled back from ... */
	if (reason)
		note_add(buf, sz, "%s", reason);
	else if (state && (!strcmp(state, "exited") || !strcmp(state, "failed") || !strcmp(state, "backoff"))) {
		if (js_bool(s, "oom"))
			note_add(buf, sz, "killed by the OOM killer");
		else if (sig)
			note_add(buf, sz, "killed by %s", sig);
		else if (js_num(s, "exit_code", &v))
			note_add(buf, sz, "exited with status %.0f", v);
	}
	const char *ns = js_str(s, "notify_state"), *note = js_str(s, "note");
	if (ns)
		note_add(buf, sz, "%s", ns);
	if (note && js_str(s, "state") && strcmp(js_str(s, "state"), "stopped"))
		note_add(buf, sz, "%s", note); /* its STATUS= (sd_notify) */
	if (js_str(s, "health") && !strcmp(js_str(s, "health"), "unhealthy") && js_str(s, "health_message"))
		note_add(buf, sz, "check: %s", js_str(s, "health_message"));
	if (js_num(s, "next_run", &v))
		note_add(buf, sz, "next run %s", fmt_clock(v, 0, t, sizeof t));
	if (js_num(s, "next_start", &v)) {
		double in = v - now_wall();
		note_add(buf, sz, "restart in %.1fs", in > 0 ? in : 0);
	}
	if (js_bool(s, "job") && js_num(s, "runs_done", &v) && v > 0)
		note_add(buf, sz, "%.0f run%s done", v, v == 1 ? "" : "s");
	if (js_num(s, "dropped_lines", &v) && v > 0)
		note_add(buf, sz, "%.0f line%s dropped", v, v == 1 ? "" : "s");
	if (js_str(s, "entry"))
		note_add(buf, sz, "from %s", js_str(s, "entry")); /* servers_dir */
	return buf;
}

static const char *health_str(const cJSON *s)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(s, "health");
	if (cJSON_IsString(h))
		return h->valuestring;
	if (cJSON_IsBool(h))
		return cJSON_IsTrue(h) ? "healthy" : "unhealthy";
	if (cJSON_IsObject(h))
		return js_str(h, "status");
	return NULL;
}

/* "%.0f" of a number field, or NULL (printed "-") */
static const char *num_cell(const cJSON *s, const char *key, char *buf, size_t sz)
{
	double v;
	if (!js_num(s, key, &v))
		return NULL;
	snprintf(buf, sz, "%.0f", v);
	return buf;
}

static char *inst_name(const cJSON *s, char *buf, size_t sz)
{
	const char *name = js_str(s, "name");
	double inst;
	if (js_num(s, "instance", &inst))
		snprintf(buf, sz, "%s.%.0f", name ? name : "?", inst);
	else
		snprintf(buf, sz, "%s", name ? name : "?");
	return buf;
}

/* ---------------------------------------------------------- CPU, RSS */

struct sample {
	int pid;
	unsigned long long ticks; /* utime + stime */
	int64_t at_ms;
};

struct samples {
	struct sample *v;
	int n;
};

static int proc_read(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sz - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static int proc_ticks(int pid, unsigned long long *ticks)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (proc_read(path, buf, sizeof buf))
		return -1;
	const char *p = strrchr(buf, ')'); /* comm may hold spaces and ')' */
	if (!p)
		return -1;
	/* after ")": state, then fields 4..13; utime and stime are 14, 15 */
	for (int f = 0; f < 12; f++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	char *end;
	ut = strtoull(p + 1, &end, 10);
	if (end == p + 1 || *end != ' ')
		return -1;
	st = strtoull(end + 1, &end, 10);
	*ticks = ut + st;
	return 0;
}

static int proc_rss(int pid, long long *bytes)
{
	char path[64], buf[256];
	long long pages;
	snprintf(path, sizeof path, "/proc/%d/statm", pid);
	if (proc_read(path, buf, sizeof buf))
		return -1;
	const char *sp = strchr(buf, ' '); /* "size resident ..." */
	char *end;
	if (!sp || (pages = strtoll(sp + 1, &end, 10), end == sp + 1))
		return -1;
	*bytes = pages * sysconf(_SC_PAGESIZE);
	return 0;
}

static char *fmt_rss(long long b, char *buf, size_t sz)
{
	if (b < (1 << 20))
		snprintf(buf, sz, "%lldKiB", b >> 10);
	else if (b < (1ll << 30))
		snprintf(buf, sz, "%.1fMiB", b / 1048576.0);
	else
		snprintf(buf, sz, "%.2fGiB", b / 1073741824.0);
	return buf;
}

/* CPU % of pid since the previous sample of the same pid; records the new
 * sample in cur. NULL ("-") without a previous one. */
static const char *cpu_cell(int pid, const struct samples *prev, struct samples *cur, char *buf, size_t sz)
{
	unsigned long long t;
	if (proc_ticks(pid, &t))
		return NULL;
	int64_t now = loop_now_ms();
	cur->v[cur->n++] = (struct sample){ pid, t, now };
	for (int i = 0; i < prev->n; i++) {
		const struct sample *p = &prev->v[i];
		if (p->pid != pid || now <= p->at_ms || t < p->ticks)
			continue;
		double secs = (t - p->ticks) / (double)sysconf(_SC_CLK_TCK);
		snprintf(buf, sz, "%.1f", secs * 100000.0 / (double)(now - p->at_ms));
		return buf;
	}
	return NULL;
}

/* ------------------------------------------------------------- table */

/* One row per instance. With samples (top), CPU% and RSS columns too. */
static void status_table(struct table *t, const cJSON *svcs, const struct samples *prev, struct samples *cur)
{
	static const char *head[] = { "NAME", "STATE", "PID", "PORT", "UPTIME", "RESTARTS", "HEALTH", "NOTE" };
	static const char *head_top[] = { "NAME", "STATE", "PID", "CPU%", "RSS", "PORT", "UPTIME", "RESTARTS", "HEALTH", "NOTE" };
	const cJSON *s;
	int top = cur != NULL;
	table_init(t, top ? 10 : 8, top ? head_top : head);
	cJSON_ArrayForEach(s, svcs) {
		char name[96], pid[24], port[24], up[24], rs[24], cpu[24], rss[24], note[1024];
		const char *cells[10];
		double v;
		int i = 0;
		cells[i++] = inst_name(s, name, sizeof name);
		cells[i++] = js_str(s, "state");
		cells[i++] = num_cell(s, "pid", pid, sizeof pid);
		if (top) {
			/* the supervisor's figures (the whole process group, issue
			 * 8) when its reply has them, else the main process's, read
			 * here */
			const char *c = NULL, *r = NULL;
			long long b;
			double pct, rb;
			int pid = js_num(s, "pid", &v) && v > 0 ? (int)v : 0;
			if (js_num(s, "cpu_percent", &pct) && pct >= 0) {
				snprintf(cpu, sizeof cpu, "%.1f", pct);
				c = cpu;
			} else if (pid)
				c = cpu_cell(pid, prev, cur, cpu, sizeof cpu);
			if (js_num(s, "rss_bytes", &rb) && rb >= 0 && rb < 9e18)
				r = fmt_rss((long long)rb, rss, sizeof rss);
			else if (pid && !proc_rss(pid, &b))
				r = fmt_rss(b, rss, sizeof rss);
			cells[i++] = c;
			cells[i++] = r;
		}
		cells[i++] = num_cell(s, "port", port, sizeof port);
		cells[i++] = js_num(s, "uptime_s", &v) ? fmt_uptime((int64_t)v, up, sizeof up) : NULL;
		cells[i++] = num_cell(s, "restarts", rs, sizeof rs);
		cells[i++] = health_str(s);
		cells[i++] = status_note(s, note, sizeof note);
		table_row(t, cells);
	}
}

/* The health log of a `health` reply: for each instance with a check,
 * its health and its last results (Docker's health log) */
static void print_health(const cJSON *j)
{
	const cJSON *in;
	cJSON_ArrayForEach(in, js_arr(j, "health"))
	{
		const char *h = js_str(in, "health");
		if (!h)
			continue;
		double f = 0;
		js_num(in, "failures", &f);
		printf("\n%s: %s (%.0f failure%s in a row)\n", js_str(in, "name") ? js_str(in, "name") : "?", h, f,
			f == 1 ? "" : "s");
		const cJSON *r;
		cJSON_ArrayForEach(r, js_arr(in, "results"))
		{
			double t = 0, d = 0;
			char clock[32];
			js_num(r, "time", &t);
			js_num(r, "duration_ms", &d);
			const char *m = js_str(r, "message");
			printf("  %s  %5.0fms  %-4s  %s\n", fmt_clock(t / 1000.0, 0, clock, sizeof clock), d,
				js_bool(r, "ok") ? "ok" : "FAIL", m ? m : "");
		}
	}
}

int ctl_health(const struct ctl *c, int argc, char **argv)
{
	int rc;
	if (argc < 2)
		return ctl_usage("health NAME...");
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	print_health(j);
	cJSON_Delete(j);
	return CTL_OK;
}

int ctl_status(const struct ctl *c, int argc, char **argv)
{
	int rc;
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	struct table t;
	status_table(&t, js_arr(j, "services"), NULL, NULL);
	table_print(&t, stdout);
	table_free(&t);
	const cJSON *p, *sd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "supervisor"), "servers_dir");
	cJSON_ArrayForEach(p, js_arr(sd, "problems"))
		printf("%s: not run: %s\n", js_str(p, "entry") ? js_str(p, "entry") : "?",
		       js_str(p, "error") ? js_str(p, "error") : "?");
	cJSON_Delete(j);
	if (argc > 1) {
		/* status NAME...: the health log too, when there is one */
		argv[0] = "health";
		cJSON *h = ctl_call(c, argv, argc, &rc);
		if (h)
			print_health(h);
		cJSON_Delete(h);
		argv[0] = "status";
	}
	return CTL_OK;
}

/* --------------------------------------------------------------- top */

static volatile sig_atomic_t top_quit;
static struct termios top_saved;
static int top_raw;

static void top_on_signal(int sig)
{
	top_quit = sig;
}

static void tty_restore(void)
{
	if (top_raw)
		tcsetattr(0, TCSANOW, &top_saved);
	top_raw = 0;
}

/* Non-canonical, no echo: q quits without Enter */
static void tty_raw(void)
{
	struct termios t;
	if (!isatty(0) || tcgetattr(0, &top_saved))
		return;
	t = top_saved;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(0, TCSANOW, &t) == 0)
		top_raw = 1;
}

static void top_signals(void)
{
	struct sigaction sa = { .sa_handler = top_on_signal }; /* no SA_RESTART: poll() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

struct top {
	struct ctl c;          /* a copy, json off: top reads status itself */
	struct samples prev;
	int tty;
	int64_t last;          /* of the last refresh, loop_now_ms() */
};

static void top_header(FILE *f, const cJSON *j, int n)
{
	const cJSON *sup = cJSON_GetObjectItemCaseSensitive(j, "supervisor");
	double pid = 0, up = 0;
	char u[32], now[64];
	js_num(sup, "pid", &pid);
	js_num(sup, "uptime_s", &up);
	fprintf(f, "mls top  %s  supervisor pid %.0f, up %s, %d instance%s%s  (q quits)\n\n",
		fmt_clock(now_wall(), 0, now, sizeof now), pid, fmt_uptime((int64_t)up, u, sizeof u),
		n, n == 1 ? "" : "s", js_bool(sup, "shutting_down") ? ", shutting down" : "");
}

/* Asks for the status and draws it; returns 0 or the exit status */
static int top_refresh(struct top *tp)
{
	char *words[] = { "status" };
	int rc;
	cJSON *j = ctl_call(&tp->c, words, 1, &rc);
	if (!j)
		return rc;
	const cJSON *svcs = js_arr(j, "services");
	int n = cJSON_GetArraySize(svcs);
	struct samples cur = { calloc((size_t)n + 1, sizeof *cur.v), 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!cur.v || !f) {
		fprintf(stderr, "mls ctl: out of memory\n");
		free(cur.v);
		if (f)
			fclose(f);
		free(out);
		cJSON_Delete(j);
		return CTL_FAIL;
	}
	struct table t;
	status_table(&t, svcs, &tp->prev, &cur);
	if (tp->tty)
		fputs("\033[H\033[2J", f);
	top_header(f, j, n);
	table_print(&t, f);
	if (!tp->tty)
		fputc('\n', f);
	fclose(f);
	fwrite(out, 1, len, stdout);
	fflush(stdout);
	free(out);
	table_free(&t);
	free(tp->prev.v);
	tp->prev = cur;
	tp->last = loop_now_ms();
	cJSON_Delete(j);
	return 0;
}

/* Reads what the event stream has; -1 when it ended (rc set) */
static int top_events(struct ctlclient *ev, int *dirty, int *rc)
{
	int r = ctlclient_pump(ev);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "mls ctl: reading events: %s\n", strerror(errno));
		else
			fprintf(stderr, "mls ctl: the supervisor closed the connection\n");
		*rc = CTL_FAIL;
		return -1;
	}
	while (ctlclient_next_line(ev))
		*dirty = 1;
	return 0;
}

/* 'q' quits; stdin at EOF is no longer watched */
static int top_key(int *in_fd)
{
	char b[64];
	ssize_t n = read(0, b, sizeof b);
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			*in_fd = -1;
		return 0;
	}
	return memchr(b, 'q', (size_t)n) || memchr(b, 'Q', (size_t)n);
}

static int top_loop(struct top *tp, struct ctlclient *ev)
{
	int in_fd = 0, dirty = 1, rc = CTL_OK;
	while (!top_quit) {
		int64_t now = loop_now_ms();
		/* on an event, at most 5 redraws a second; at least one per 2 s */
		int64_t due = dirty ? tp->last + 200 : tp->last + CTL_TOP_MS;
		if (now >= due) {
			if ((rc = top_refresh(tp)))
				return rc;
			dirty = 0;
			continue;
		}
		struct pollfd p[2] = { { ev->fd, POLLIN, 0 }, { in_fd, POLLIN, 0 } };
		int r = poll(p, 2, (int)(due - now));
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "mls ctl: poll: %s\n", strerror(errno));
			return CTL_FAIL;
		}
		if (r <= 0)
			continue;
		if (p[0].revents && top_events(ev, &dirty, &rc))
			return rc;
		if (p[1].revents && top_key(&in_fd))
			break;
	}
	return CTL_OK;
}

int ctl_top(const struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ctl_usage("top takes no arguments");
	if (c->json)
		return ctl_usage("top has no --json (try status --json or events --json)");
	struct top tp = { .c = *c, .tty = isatty(1) };
	tp.c.json = 0;
	struct ctlclient ev;
	int rc;
	if (conn_events(c, &ev, &rc))
		return rc;
	top_signals();
	tty_raw();
	tp.last = loop_now_ms() - CTL_TOP_MS;
	rc = top_loop(&tp, &ev);
	tty_restore();
	if (tp.tty && top_quit != SIGHUP)
		fputs("\n", stdout);
	free(tp.prev.v);
	ctlclient_close(&ev);
	return rc;
}
