/* sv_ctl.c: the control requests of docs/protocol.md, and the events.
 * Replies are built as JSON text with jbuf (no tree: a status of 1,000
 * instances is one pass and one buffer). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "parse.h"
#include "sv.h"
#include "sv_upgrade.h"
#include "sv_init.h"

#define MAX_TARGETS (CONFIG_MAX_SERVICES * 4)

static void reply_err(struct ctlconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_err(struct ctlconn *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct jbuf b = { 0 };
	jb_puts(&b, "{\"ok\":false,\"error\":");
	jb_str(&b, msg);
	jb_puts(&b, "}\n");
	if (!b.oom)
		ctlsrv_reply(c, b.p, b.len);
	jb_free(&b);
}

static void send_buf(struct ctlconn *c, struct jbuf *b)
{
	if (b->oom)
		reply_err(c, "out of memory");
	else
		ctlsrv_reply(c, b->p, b->len);
	jb_free(b);
}

/* NAME or NAME.N into instances; "all" when allowed. Returns the count
 * added, or -1 after replying with an error. */
static int resolve(struct ctlconn *c, int argc, char **argv, int allow_all, struct inst ***out, int *n)
{
	int cap = 0;
	*out = NULL;
	*n = 0;
	for (int a = 0; a < argc; a++) {
		const char *w = argv[a];
		int all = allow_all && !strcmp(w, "all");
		struct svc *v = NULL;
		int idx = 0;
		if (!all) {
			v = sv_find(w, strlen(w));
			const char *dot = strrchr(w, '.');
			if (!v && dot && dot[1]) {
				int64_t k;
				if (!parse_int(dot + 1, 1, CONFIG_MAX_REPLICAS, &k) && (v = sv_find(w, (size_t)(dot - w))))
					idx = (int)k;
				if (v && idx > v->ninst) {
					reply_err(c, "no such instance: %s (%s has %d)", w, v->cfg->name, v->ninst);
					free(*out);
					return -1;
				}
			}
			if (!v) {
				const char *best = NULL;
				int bd = 3;
				for (int s = 0; s < SV.nsvcs; s++) {
					int d = edit_distance(w, SV.svcs[s]->cfg->name, 3);
					if (d < bd)
						bd = d, best = SV.svcs[s]->cfg->name;
				}
				if (best)
					reply_err(c, "no such service: %s (did you mean %s?)", w, best);
				else
					reply_err(c, "no such service: %s", w);
				free(*out);
				return -1;
			}
		}
		for (int s = 0; s < SV.nsvcs; s++) {
			struct svc *sv = SV.svcs[s];
			if (sv->removed || (!all && sv != v))
				continue;
			for (int k = 0; k < sv->ninst; k++) {
				if (idx && k + 1 != idx)
					continue;
				if (*n == cap) {
					cap = cap ? cap * 2 : 16;
					struct inst **p = realloc(*out, (size_t)cap * sizeof *p);
					if (!p) {
						reply_err(c, "out of memory");
						free(*out);
						return -1;
					}
					*out = p;
				}
				(*out)[(*n)++] = sv->inst[k];
			}
		}
	}
	return *n;
}

/* ------------------------------------------------------------ status */

/* Metrics of every instance's process group from /proc: one scan for all
 * of them, when a `status` asks and the samples are a second old or more;
 * no timer reads them */
static void refresh_metrics(void)
{
	int64_t now = loop_now_ms();
	int n = 0, cap = 0;
	struct inst **v = NULL;
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			struct inst *i = SV.svcs[s]->inst[k];
			if (i->pid <= 0 || i->pgid <= 0 || (i->stat_ms && now - i->stat_ms < 1000))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				struct inst **p = realloc(v, (size_t)cap * sizeof *p);
				if (!p)
					goto out;
				v = p;
			}
			v[n++] = i;
		}
	if (!n)
		goto out;
	int *pg = malloc((size_t)n * sizeof *pg);
	struct procstat *st = malloc((size_t)n * sizeof *st);
	if (pg && st) {
		for (int k = 0; k < n; k++)
			pg[k] = v[k]->pgid;
		if (procstat_read_many(pg, n, st) == 0)
			for (int k = 0; k < n; k++) {
				struct inst *i = v[k];
				if (!st[k].nprocs)
					continue;
				if (SV.cg.ok) {
					/* its whole cgroup (docs/cgroups.md): more exact than /proc */
					char nm[80];
					int64_t us, mem;
					snprintf(nm, sizeof nm, "%s.%d", i->svc->cfg->name, i->idx);
					cgroup_usage(&SV.cg, nm, &us, &mem);
					if (us >= 0)
						st[k].cpu_ticks = (unsigned long long)us * (unsigned long long)sysconf(_SC_CLK_TCK) / 1000000ULL;
					if (mem >= 0)
						st[k].rss_bytes = mem;
				}
				/* the first sample: the average since it started */
				i->cpu_percent = i->stat_ms ? procstat_cpu_percent(i->stat.cpu_ticks, i->stat_ms, st[k].cpu_ticks, now)
							    : procstat_cpu_percent(0, i->spawned_ms, st[k].cpu_ticks, now);
				i->stat = st[k];
				i->stat_ms = now;
			}
	}
	free(pg);
	free(st);
out:
	free(v);
}

static void metrics_json(struct jbuf *b, const struct inst *i)
{
	if (i->pid <= 0 || !i->stat_ms) {
		jb_puts(b, ",\"cpu_percent\":null,\"cpu_seconds\":null,\"rss_bytes\":null,\"threads\":null,\"fds\":null");
		return;
	}
	static long hz;
	if (!hz)
		hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	jb_printf(b, ",\"cpu_percent\":%.1f,\"cpu_seconds\":%.2f,\"rss_bytes\":%lld,\"threads\":%d,\"fds\":%d",
		i->cpu_percent, (double)i->stat.cpu_ticks / (double)hz, i->stat.rss_bytes, i->stat.threads, i->stat.fds);
}

static void inst_json(struct jbuf *b, const struct inst *i)
{
	const struct service *c = i->svc->cfg;
	int64_t now = loop_now_ms();
	jb_puts(b, "{\"name\":");
	jb_str(b, c->name);
	jb_printf(b, ",\"instance\":%d,\"state\":\"%s\",\"pid\":", i->idx, state_name(i->state));
	if (i->pid > 0)
		jb_printf(b, "%d", (int)i->pid);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"port\":");
	if (i->port > 0)
		jb_printf(b, "%d", i->port);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"uptime_s\":");
	if (i->pid > 0)
		jb_printf(b, "%lld", (long long)((now - i->spawned_ms) / 1000));
	else
		jb_puts(b, "null");
	jb_printf(b, ",\"restarts\":%d,\"exit_code\":", i->restarts);
	if (i->has_exit && i->last_code >= 0 && !i->last_sig)
		jb_printf(b, "%d", i->last_code);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"signal\":");
	if (i->has_exit && i->last_sig) {
		const char *sn = signal_name(i->last_sig);
		jb_printf(b, "\"SIG%s\"", sn ? sn : "?");
	} else
		jb_puts(b, "null");
	jb_printf(b, ",\"oom\":%s", i->has_exit && i->last_oom ? "true" : "false");
	jb_puts(b, ",\"health\":");
	jb_str(b, health_name(i->health));
	if (i->health != H_NONE) {
		jb_printf(b, ",\"health_failures\":%d,\"health_message\":", i->hfails);
		jb_str(b, i->nhlog ? i->hlog[i->nhlog - 1].msg : NULL);
	}
	jb_puts(b, ",\"reason\":");
	jb_str(b, i->reason[0] ? i->reason : NULL);
	jb_puts(b, ",\"note\":");
	jb_str(b, i->note[0] ? i->note : NULL);
	jb_puts(b, ",\"notify_state\":");
	jb_str(b, i->pid > 0 ? i->notify_state : NULL);
	metrics_json(b, i);
	jb_puts(b, ",\"next_run\":");
	if (c->schedule && i->next_run > 0)
		jb_printf(b, "%lld", (long long)i->next_run);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"next_start\":");
	if (i->state == ST_BACKOFF)
		jb_printf(b, "%.1f", (double)(wall_ms() + (i->next_start_ms - now)) / 1000.0);
	else
		jb_puts(b, "null");
	jb_printf(b, ",\"dropped_lines\":%llu,\"job\":%s,\"runs_done\":", (unsigned long long)i->log.dropped,
		c->is_job ? "true" : "false");
	if (c->is_job)
		jb_printf(b, "%d", i->runs_done);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"last_success\":");
	if (i->last_success_ms)
		jb_printf(b, "%.3f", (double)i->last_success_ms / 1000.0);
	else
		jb_puts(b, "null");
	jb_puts(b, ",\"waiting_for\":");
	jb_str(b, i->state == ST_WAITING ? i->waiting_for : NULL);
	git_status_json(b, i->svc);
	jb_puts(b, ",\"source\":");
	jb_str(b, c->source ? "servers_dir" : c->internal ? "mls" : "config");
	if (c->source) {
		jb_puts(b, ",\"entry\":");
		jb_str(b, c->source);
	}
	jb_puts(b, "}");
}

/* servers_dir's entries that are not run for a problem (a name clash, a
 * bad mls.yaml): status shows them, as validate does */
static void servers_json(struct jbuf *b)
{
	const struct config *cfg = SV.cfg;
	if (!cfg->servers_dir)
		return;
	jb_puts(b, ",\"servers_dir\":{\"path\":");
	jb_str(b, cfg->servers_dir);
	jb_puts(b, ",\"problems\":[");
	for (int k = 0, n = 0; k < cfg->nservers; k++)
		if (cfg->servers[k].problem) {
			jb_printf(b, "%s{\"entry\":", n++ ? "," : "");
			jb_str(b, cfg->servers[k].path);
			jb_puts(b, ",\"error\":");
			jb_str(b, cfg->servers[k].note);
			jb_puts(b, "}");
		}
	jb_puts(b, "]}");
}

static void do_status(struct ctlconn *c, int argc, char **argv)
{
	refresh_metrics();
	struct inst **t = NULL;
	int n = 0;
	if (argc > 1 && resolve(c, argc - 1, argv + 1, 1, &t, &n) < 0)
		return;
	struct jbuf b = { 0 };
	jb_printf(&b, "{\"ok\":true,\"supervisor\":{\"pid\":%d,\"uptime_s\":%lld,\"version\":\"%s\",\"config\":[",
		(int)SV.pid, (long long)((loop_now_ms() - SV.start_ms) / 1000), MLS_VERSION);
	for (int f = 0; f < SV.nfiles; f++) {
		if (f)
			jb_puts(&b, ",");
		jb_str(&b, SV.files[f]);
	}
	jb_puts(&b, "],\"state_dir\":");
	jb_str(&b, SV.state_dir);
	jb_puts(&b, ",\"log_dir\":");
	jb_str(&b, SV.log_dir);
	jb_printf(&b, ",\"shutting_down\":%s", SV.shutting_down ? "true" : "false");
	servers_json(&b);
	jb_puts(&b, "},\"services\":[");
	int first = 1;
	if (argc > 1) {
		for (int k = 0; k < n; k++) {
			if (!first)
				jb_puts(&b, ",");
			first = 0;
			inst_json(&b, t[k]);
		}
	} else {
		/* config order, which the user wrote (SV.svcs is in dependency
		 * order): index the live services by their place in the config */
		struct svc **by = calloc((size_t)SV.cfg->nsvcs + 1, sizeof *by);
		for (int s = 0; by && s < SV.nsvcs; s++) {
			struct svc *v = SV.svcs[s];
			if (!v->removed && v->owner == SV.cfg)
				by[v->cfg - SV.cfg->svcs] = v;
		}
		for (int o = 0; o < SV.cfg->nsvcs; o++) {
			struct svc *v = by ? by[o] : NULL;
			for (int k = 0; v && k < v->ninst; k++) {
				if (!first)
					jb_puts(&b, ",");
				first = 0;
				inst_json(&b, v->inst[k]);
			}
		}
		if (!by)
			b.oom = 1;
		free(by);
	}
	jb_puts(&b, "]}\n");
	free(t);
	send_buf(c, &b);
}

/* ------------------------------------------------------------ actions */

static void reply_instances(struct ctlconn *c, struct inst **t, int n, const char *key)
{
	struct jbuf b = { 0 };
	jb_printf(&b, "{\"ok\":true,\"seq\":%llu,\"%s\":[", (unsigned long long)SV.seq, key);
	for (int k = 0; k < n; k++) {
		if (k)
			jb_puts(&b, ",");
		jb_puts(&b, "{\"name\":");
		jb_str(&b, t[k]->name);
		jb_puts(&b, ",\"service\":");
		jb_str(&b, t[k]->svc->cfg->name);
		jb_printf(&b, ",\"instance\":%d,\"state\":\"%s\",\"pid\":", t[k]->idx, state_name(t[k]->state));
		/* what ctl prints when the state is final at once */
		if (t[k]->pid > 0)
			jb_printf(&b, "%d", (int)t[k]->pid);
		else
			jb_puts(&b, "null");
		jb_puts(&b, ",\"reason\":");
		jb_str(&b, t[k]->reason[0] ? t[k]->reason : NULL);
		jb_puts(&b, "}");
	}
	jb_puts(&b, "]}\n");
	send_buf(c, &b);
}

static void do_action(struct ctlconn *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	if (argc < 2) {
		reply_err(c, "usage: %s NAME...", cmd);
		return;
	}
	if (SV.shutting_down) {
		reply_err(c, "shutting down");
		return;
	}
	struct inst **t;
	int n;
	int is_restart = !strcmp(cmd, "restart");
	if (resolve(c, argc - 1, argv + 1, 1, &t, &n) < 0)
		return;
	/* restart all: every instance not stopped by request, and not mls's
	 * own (mls-httpd: the API that may have sent it); by name it may */
	int all = is_restart && argc == 2 && !strcmp(argv[1], "all");
	int m = 0;
	for (int k = 0; k < n; k++) {
		struct inst *i = t[k];
		if (all && (i->want == WANT_STOP || i->svc->cfg->internal))
			continue;
		t[m++] = i;
		if (!strcmp(cmd, "start"))
			inst_step(i, EV_CTL_START, NULL);
		else if (!strcmp(cmd, "stop"))
			inst_step(i, EV_CTL_STOP, NULL);
		else
			inst_restart(i, "restart");
	}
	/* now, so the reply shows what is final at once (a start with no
	 * dependency to wait for is running already) */
	sv_reconcile();
	sv_log(LVL_INFO, NULL, "%s %s (control request)", cmd, argv[1]);
	reply_instances(c, t, m, "instances");
	free(t);
}

static void do_signal(struct ctlconn *c, int argc, char **argv)
{
	int sig;
	if (argc < 3) {
		reply_err(c, "usage: signal SIG NAME...");
		return;
	}
	if (parse_signal(argv[1], &sig)) {
		reply_err(c, "unknown signal '%s' (use a name like TERM or SIGHUP, or a number)", argv[1]);
		return;
	}
	struct inst **t;
	int n;
	if (resolve(c, argc - 2, argv + 2, 0, &t, &n) < 0)
		return;
	int m = 0;
	for (int k = 0; k < n; k++)
		if (t[k]->pid > 0 && (kill(-t[k]->pgid, sig) == 0 || kill(t[k]->pid, sig) == 0))
			t[m++] = t[k];
	/* docs/protocol.md: "signalled" is a list of instance names */
	struct jbuf b = { 0 };
	jb_printf(&b, "{\"ok\":true,\"seq\":%llu,\"signalled\":[", (unsigned long long)SV.seq);
	for (int k = 0; k < m; k++) {
		if (k)
			jb_puts(&b, ",");
		jb_str(&b, t[k]->name);
	}
	jb_puts(&b, "]}\n");
	send_buf(c, &b);
	free(t);
}

/* -------------------------------------------------------------- logs */

/* the lines of every instance asked for, merged by time afterwards */
struct tailctx {
	const char *inst;
	char **lines;
	const char **owner;
	int n, cap;
};

static void collect(const char *line, size_t len, void *ctx)
{
	struct tailctx *t = ctx;
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		char **l = realloc(t->lines, (size_t)cap * sizeof *l);
		if (!l)
			return;
		t->lines = l;
		const char **o = realloc(t->owner, (size_t)cap * sizeof *o);
		if (!o)
			return;
		t->owner = o;
		t->cap = cap;
	}
	char *p = malloc(len + 1);
	if (!p)
		return;
	memcpy(p, line, len);
	p[len] = 0;
	t->lines[t->n] = p;
	t->owner[t->n] = t->inst;
	t->n++;
}

static struct tailctx *sort_ctx;
static int cmp_idx(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	/* lines start with a fixed-width UTC timestamp: text order is time order */
	int c = strncmp(sort_ctx->lines[x], sort_ctx->lines[y], 24);
	return c ? c : x - y;
}

static void line_json(struct jbuf *b, const char *inst, const char *line)
{
	size_t len = strlen(line);
	jb_puts(b, "{\"instance\":");
	jb_str(b, inst);
	if (len >= 25 && line[24] == ' ') {
		jb_puts(b, ",\"time\":");
		jb_strn(b, line, 24);
		line += 25;
		len -= 25;
	}
	jb_puts(b, ",\"line\":");
	jb_strn(b, line, len);
	jb_puts(b, "}");
}

static void do_logs(struct ctlconn *c, int argc, char **argv)
{
	int follow = argc > 1 && !strcmp(argv[1], "-f");
	int a = 1 + follow;
	int64_t nl = PROTO_LOGS_DEFAULT;
	if (argc < a + 1 || argc > a + 2 || (argc == a + 2 && parse_int(argv[a + 1], 1, 1000000, &nl))) {
		reply_err(c, "usage: logs [-f] NAME [N]");
		return;
	}
	struct inst **t;
	int n;
	if (resolve(c, 1, argv + a, 0, &t, &n) < 0)
		return;
	struct tailctx tc = { 0 };
	for (int k = 0; k < n; k++) {
		tc.inst = t[k]->name;
		logsink_tail(&t[k]->log, (int)nl, collect, &tc);
	}
	int *idx = malloc((size_t)(tc.n ? tc.n : 1) * sizeof *idx);
	struct jbuf b = { 0 };
	jb_puts(&b, "{\"ok\":true,\"lines\":[");
	if (idx) {
		for (int k = 0; k < tc.n; k++)
			idx[k] = k;
		sort_ctx = &tc;
		qsort(idx, (size_t)tc.n, sizeof *idx, cmp_idx);
		int from = tc.n > nl ? tc.n - (int)nl : 0;
		for (int k = from; k < tc.n; k++) {
			if (k > from)
				jb_puts(&b, ",");
			line_json(&b, tc.owner[idx[k]], tc.lines[idx[k]]);
		}
	}
	jb_puts(&b, "]}\n");
	for (int k = 0; k < tc.n; k++)
		free(tc.lines[k]);
	free(tc.lines);
	free(tc.owner);
	free(idx);
	send_buf(c, &b);
	if (follow) {
		char topic[CONFIG_NAME_MAX + 8];
		snprintf(topic, sizeof topic, "log:%s", t[0]->svc->cfg->name);
		ctlsrv_subscribe(c, topic);
	}
	free(t);
}

/* ----------------------------------------------------------- history */

static void do_history(struct ctlconn *c, int argc, char **argv)
{
	if (argc != 2) {
		reply_err(c, "usage: history NAME");
		return;
	}
	struct inst **t;
	int n;
	if (resolve(c, 1, argv + 1, 0, &t, &n) < 0)
		return;
	struct jbuf b = { 0 };
	jb_puts(&b, "{\"ok\":true,\"history\":[");
	int first = 1;
	for (int k = 0; k < n; k++)
		for (int h = 0; h < t[k]->nhist; h++) {
			const struct exitrec *e = &t[k]->hist[h];
			if (!first)
				jb_puts(&b, ",");
			first = 0;
			jb_puts(&b, "{\"instance\":");
			jb_str(&b, t[k]->name);
			jb_printf(&b, ",\"time\":%lld,\"pid\":%d,\"exit_code\":", (long long)e->time_ms, (int)e->pid);
			if (e->sig || e->code < 0)
				jb_puts(&b, "null");
			else
				jb_printf(&b, "%d", e->code);
			jb_puts(&b, ",\"signal\":");
			if (e->sig) {
				const char *sn = signal_name(e->sig);
				jb_printf(&b, "\"SIG%s\"", sn ? sn : "?");
			} else
				jb_puts(&b, "null");
			jb_printf(&b, ",\"uptime_ms\":%lld,\"restarts\":%d}", (long long)e->uptime_ms, t[k]->restarts);
		}
	jb_puts(&b, "]");
	if (n)
		git_history_json(&b, t[0]->svc);
	jb_puts(&b, "}\n");
	free(t);
	send_buf(c, &b);
}

/* ------------------------------------------------------------ health */

/* health NAME...: the last check results of each instance (Docker's
 * health log) */
static void do_health(struct ctlconn *c, int argc, char **argv)
{
	struct inst **t;
	int n;
	if (argc < 2) {
		reply_err(c, "usage: health NAME...");
		return;
	}
	if (resolve(c, argc - 1, argv + 1, 1, &t, &n) < 0)
		return;
	struct jbuf b = { 0 };
	jb_puts(&b, "{\"ok\":true,\"health\":[");
	for (int k = 0; k < n; k++) {
		const struct inst *i = t[k];
		jb_puts(&b, k ? ",{\"name\":" : "{\"name\":");
		jb_str(&b, i->name);
		jb_puts(&b, ",\"health\":");
		jb_str(&b, health_name(i->health));
		jb_printf(&b, ",\"failures\":%d,\"message\":", i->hfails);
		jb_str(&b, i->hmsg);
		jb_puts(&b, ",\"results\":[");
		for (int r = 0; r < i->nhlog; r++) {
			const struct hresult *h = &i->hlog[r];
			jb_printf(&b, "%s{\"time\":%lld,\"duration_ms\":%lld,\"ok\":%s,\"message\":", r ? "," : "",
				(long long)h->time_ms, (long long)h->dur_ms, h->ok ? "true" : "false");
			jb_str(&b, h->msg);
			jb_puts(&b, "}");
		}
		jb_puts(&b, "]}");
	}
	jb_puts(&b, "]}\n");
	free(t);
	send_buf(c, &b);
}

/* config NAME: the service's config as mls sees it, secrets masked
 * (sv_config.c) */
static void do_config(struct ctlconn *c, int argc, char **argv)
{
	struct inst **t = NULL;
	int n = 0;
	if (argc != 2) {
		reply_err(c, "usage: config NAME");
		return;
	}
	if (resolve(c, 1, argv + 1, 0, &t, &n) < 0)
		return;
	struct jbuf b = { 0 };
	jb_puts(&b, "{\"ok\":true,\"config\":");
	if (n > 0)
		sv_config_json(&b, t[0]->svc->cfg);
	else
		jb_puts(&b, "null");
	jb_puts(&b, "}\n");
	free(t);
	send_buf(c, &b);
}

/* ----------------------------------------------------------- dispatch */

static void do_events(struct ctlconn *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char r[64];
	int n = snprintf(r, sizeof r, "{\"ok\":true,\"seq\":%llu}\n", (unsigned long long)SV.seq);
	ctlsrv_reply(c, r, (size_t)n);
	ctlsrv_subscribe(c, "events");
}

static void do_reload(struct ctlconn *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct jbuf b = { 0 };
	sv_reload(&b);
	send_buf(c, &b);
}

static void do_shutdown(struct ctlconn *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctlsrv_reply(c, "{\"ok\":true}\n", 12);
	sv_shutdown(0, "shutdown requested over the control socket");
}

static void do_version(struct ctlconn *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char r[128];
	int n = snprintf(r, sizeof r, "{\"ok\":true,\"version\":\"%s\",\"pid\":%d}\n", MLS_VERSION, (int)SV.pid);
	ctlsrv_reply(c, r, (size_t)n);
}

/* test hook (MLS_TEST_CLOCK=1): move the wall clock by N seconds so cron
 * jobs can be tested without waiting a real minute */
static void do_debug_clock(struct ctlconn *c, int argc, char **argv)
{
	int64_t d;
	if (argc != 2 || parse_int(argv[1], -100000000, 100000000, &d)) {
		reply_err(c, "usage: debug-clock SECONDS");
		return;
	}
	SV.wall_offset_s += d;
	sv_clock_moved();
	char r[64];
	int n = snprintf(r, sizeof r, "{\"ok\":true,\"offset_s\":%lld}\n", (long long)SV.wall_offset_s);
	ctlsrv_reply(c, r, (size_t)n);
}

/* channel: a new connection with this one's permission, its other end
 * passed back with the reply (SCM_RIGHTS): how mls httpd, which holds one
 * connection and no access to the socket file, opens more (an `events`
 * stream, a `logs -f` per client). Counted against PROTO_MAX_CLIENTS. */
static void do_channel(struct ctlconn *c, int argc, char **argv)
{
	(void)argv;
	int sp[2];
	if (argc != 1) {
		reply_err(c, "usage: channel");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		reply_err(c, "cannot make a channel: %s", strerror(errno));
		return;
	}
	if (ctlsrv_adopt(SV.ctl, sp[0], ctlsrv_perm(c)) < 0) {
		reply_err(c, "cannot make a channel: %s", errno == EBUSY ? "too many connections" : strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return;
	}
	static const char ok[] = "{\"ok\":true}";
	if (ctlsrv_reply_fd(c, ok, sizeof ok - 1, sp[1]) < 0 && errno != EPIPE)
		reply_err(c, "cannot pass the channel: %s", strerror(errno));
	close(sp[1]); /* the adopted end sees EOF if it did not go */
}

/* ------------------------------------------------------------------ git */

/* The live service NAME deployed from git, or NULL with the reply sent */
static struct svc *git_service(struct ctlconn *c, const char *name)
{
	struct svc *s = sv_find(name, strlen(name));
	if (!s) {
		reply_err(c, "no such service: %.64s", name);
		return NULL;
	}
	if (!s->cfg->git.url) {
		reply_err(c, "%s is not deployed from git (it has no 'git:')", s->cfg->name);
		return NULL;
	}
	return s;
}

/* annotate NAME KEY=VALUE... (mls gitwatch; docs/gitwatch-protocol.md) */
static void do_annotate(struct ctlconn *c, int argc, char **argv)
{
	char err[256];
	struct svc *s;
	if (argc < 3) {
		reply_err(c, "usage: annotate NAME KEY=VALUE...");
		return;
	}
	if (!(s = git_service(c, argv[1])))
		return;
	if (git_annotate(s, argc - 2, argv + 2, err, sizeof err))
		reply_err(c, "%s", err);
	else
		ctlsrv_reply(c, "{\"ok\":true}\n", 12);
}

/* pre-deploy NAME SHA (mls gitwatch) */
static void do_pre_deploy(struct ctlconn *c, int argc, char **argv)
{
	char err[256];
	struct svc *s;
	if (argc != 3) {
		reply_err(c, "usage: pre-deploy NAME COMMIT");
		return;
	}
	if (!(s = git_service(c, argv[1])))
		return;
	if (git_pre_deploy(s, argv[2], err, sizeof err))
		reply_err(c, "%s", err);
	else
		ctlsrv_reply(c, "{\"ok\":true}\n", 12);
}

/* config-apply SHA (mls gitwatch) */
static void do_config_apply(struct ctlconn *c, int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) != 40 || strspn(argv[1], "0123456789abcdef") != 40) {
		reply_err(c, "usage: config-apply COMMIT (40 hex digits)");
		return;
	}
	struct jbuf b = { 0 };
	sv_config_apply(argv[1], &b);
	send_buf(c, &b);
}

/* deploy NAME [REF], rollback NAME: handed to gitwatch as an event (it
 * reads the events stream); answered once it is sent. The outcome comes
 * as the events deployed, rolled_back or deploy_failed. */
static void do_deploy(struct ctlconn *c, int argc, char **argv)
{
	int rb = !strcmp(argv[0], "rollback");
	struct svc *s;
	if (argc < 2 || argc > (rb ? 2 : 3)) {
		reply_err(c, rb ? "usage: rollback NAME" : "usage: deploy NAME [REF]");
		return;
	}
	if (!(s = git_service(c, argv[1])))
		return;
	if (!git_watcher_up()) {
		reply_err(c, "%s is not running: no deploy can be made now (mls ctl status %s)", GIT_SERVICE, GIT_SERVICE);
		return;
	}
	const char *ref = argc == 3 ? argv[2] : NULL;
	if (ref && (!*ref || ref[0] == '-' || strpbrk(ref, "~^:?*[\\") || strstr(ref, ".."))) {
		reply_err(c, "bad ref '%.64s' (a branch, a tag or a commit)", ref);
		return;
	}
	struct jbuf raw = { 0 };
	jb_puts(&raw, ",\"service\":");
	jb_str(&raw, s->cfg->name);
	if (!rb) {
		jb_puts(&raw, ",\"ref\":");
		jb_str(&raw, ref);
	}
	char msg[200];
	snprintf(msg, sizeof msg, "%s: %s requested%s%s", s->cfg->name, rb ? "rollback" : "deploy", ref ? " of " : "",
		ref ? ref : "");
	if (raw.oom) {
		reply_err(c, "out of memory");
	} else {
		sv_emit_service(rb ? "rollback_request" : "deploy_request", LVL_INFO, msg, raw.p, 0);
		char r[128];
		int n = snprintf(r, sizeof r, "{\"ok\":true,\"requested\":\"%s\",\"seq\":%llu}\n", rb ? "rollback" : "deploy",
			(unsigned long long)SV.seq);
		ctlsrv_reply(c, r, (size_t)n);
	}
	jb_free(&raw);
}

/* Every request, and the permission bit it needs (docs/protocol.md, "Who
 * may do what"): 0 for the read-only ones, which every connection may
 * make. The names are those of lib/proto.h (PROTO_READ_COMMANDS,
 * PROTO_MUTATING), which control_allow is checked against. */
static const struct ctlcmd {
	const char *name;
	void (*fn)(struct ctlconn *c, int argc, char **argv);
	proto_perm mutates;
} ctlcmds[] = {
	{ "status", do_status, 0 },
	{ "start", do_action, PROTO_PERM_START },
	{ "stop", do_action, PROTO_PERM_STOP },
	{ "restart", do_action, PROTO_PERM_RESTART },
	{ "signal", do_signal, PROTO_PERM_SIGNAL },
	{ "reload", do_reload, PROTO_PERM_RELOAD },
	{ "logs", do_logs, 0 },
	{ "history", do_history, 0 },
	{ "events", do_events, 0 },
	{ "shutdown", do_shutdown, PROTO_PERM_SHUTDOWN },
	{ "upgrade", sv_upgrade_request, PROTO_PERM_SHUTDOWN }, /* docs/upgrade.md */
	{ "poweroff", sv_init_ctl, PROTO_PERM_SHUTDOWN }, /* init mode only (sv_init.c) */
	{ "reboot", sv_init_ctl, PROTO_PERM_SHUTDOWN },
	{ "halt", sv_init_ctl, PROTO_PERM_SHUTDOWN },
	{ "health", do_health, 0 },
	{ "config", do_config, 0 },
	{ "version", do_version, 0 },
	{ "channel", do_channel, 0 },
	{ "deploy", do_deploy, PROTO_PERM_DEPLOY },
	{ "rollback", do_deploy, PROTO_PERM_ROLLBACK },
	{ "annotate", do_annotate, PROTO_PERM_ANNOTATE },
	{ "pre-deploy", do_pre_deploy, PROTO_PERM_ANNOTATE },
	{ "config-apply", do_config_apply, PROTO_PERM_ANNOTATE },
	{ "debug-clock", do_debug_clock, PROTO_PERM_DEBUG_CLOCK }, /* only with SV.test_hooks */
};

#define NCTLCMDS (sizeof ctlcmds / sizeof ctlcmds[0])

void sv_ctl_handle(struct ctlsrv *s, struct ctlconn *c, int argc, char **argv, void *ctx)
{
	(void)s;
	(void)ctx;
	const char *cmd = argv[0];
	const struct ctlcmd *k = NULL;
	for (size_t i = 0; i < NCTLCMDS && !k; i++)
		if (!strcmp(cmd, ctlcmds[i].name))
			k = &ctlcmds[i];
	if (k && k->mutates == PROTO_PERM_DEBUG_CLOCK && !SV.test_hooks)
		k = NULL;
	if (!k) {
		reply_err(c, "unknown command '%.64s' (try: status, start, stop, restart, signal, reload, deploy, rollback, logs, history, health, config, events, shutdown, poweroff, reboot, halt, upgrade, version, channel)",
			cmd);
		return;
	}
	proto_perm have = ctlsrv_perm(c);
	if (k->mutates & ~have) {
		char allowed[256];
		int pid = -1, uid = -1;
		proto_perm_fmt(have, allowed, sizeof allowed);
		ctlsrv_peer(c, &pid, &uid);
		/* bounded: a member sending refused requests in a loop costs
		 * one log line a second, with the count of those not logged */
		static int64_t last_ms;
		static unsigned quiet;
		int64_t now = loop_now_ms();
		if (last_ms && now - last_ms < 1000)
			quiet++;
		else {
			char more[64] = "";
			if (quiet)
				snprintf(more, sizeof more, " (%u more refused before, not logged)", quiet);
			sv_log(LVL_WARN, NULL, "control request '%s' refused: not allowed for uid %d (pid %d)%s", k->name,
				uid, pid, more);
			last_ms = now;
			quiet = 0;
		}
		reply_err(c, "not allowed: %s (allowed: %s)", k->name, allowed);
		return;
	}
	k->fn(c, argc, argv);
}
