/* metrics.c: see metrics.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "metrics.h"

/* ------------------------------------------------------------ the host */

/* PROC_ROOT/NAME into buf (NUL-terminated, at most sz - 1 bytes).
 * 0, or -1 with errno. */
static int slurp(const char *root, const char *name, char *buf, size_t sz)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", root, name) >= sizeof path)
		return errno = ENAMETOOLONG, -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r = 1;
	while (n < sz - 1 && (r = read(fd, buf + n, sz - 1 - n)) != 0) {
		if (r < 0 && errno != EINTR)
			break;
		n += r > 0 ? (size_t)r : 0;
	}
	int e = errno;
	close(fd);
	buf[n] = 0;
	return r < 0 ? (errno = e, -1) : 0;
}

/* "KEY:   1234 kB" at the start of a line of meminfo, in bytes */
static int meminfo(const char *buf, const char *key, unsigned long long *out)
{
	size_t kl = strlen(key);
	for (const char *p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) || p[kl] != ':')
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p + kl + 1, &end, 10);
		if (errno || end == p + kl + 1 || strncmp(end, " kB", 3) || v > ~0ULL / 1024)
			return -1;
		*out = v * 1024;
		return 0;
	}
	return -1;
}

int host_stats_read(struct host_stats *h, const char *proc_root, const char *fs_root)
{
	char buf[4096];
	int err = 0;
	memset(h, 0, sizeof *h);
	if (slurp(proc_root, "loadavg", buf, 128) == 0) {
		char *p = buf, *end;
		int k = 0;
		for (; k < 3; k++, p = end) {
			h->load[k] = strtod(p, &end);
			if (end == p || *end != ' ')
				break;
		}
		if (k == 3)
			h->have |= HOST_LOAD;
		else
			err = EINVAL;
	} else
		err = errno;
	if (slurp(proc_root, "meminfo", buf, sizeof buf) == 0) {
		if (meminfo(buf, "MemTotal", &h->mem_total) == 0)
			h->have |= HOST_MEM_TOTAL;
		else
			err = EINVAL;
		if (meminfo(buf, "MemAvailable", &h->mem_avail) == 0)
			h->have |= HOST_MEM_AVAIL;
		else
			err = EINVAL;
	} else
		err = errno;
	struct statvfs st;
	if (statvfs(fs_root, &st) == 0) {
		unsigned long long f = st.f_frsize ? st.f_frsize : st.f_bsize;
		h->fs_size = (unsigned long long)st.f_blocks * f;
		h->fs_avail = (unsigned long long)st.f_bavail * f;
		h->have |= HOST_FS;
	} else
		err = errno;
	return err ? (errno = err, -1) : 0;
}

/* ------------------------------------------------------- the exposition */

/* A value as Prometheus reads it: integers as integers, else the shortest
 * of %.15g and %.17g that reads back the same (C locale: mls never calls
 * setlocale). No libm. */
static void num(struct jbuf *b, double v)
{
	char t[32];
	if (v != v)
		jb_puts(b, "NaN");
	else if (v - v != 0)
		jb_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		jb_printf(b, "%lld", (long long)v);
	else {
		snprintf(t, sizeof t, "%.15g", v);
		if (strtod(t, NULL) != v)
			snprintf(t, sizeof t, "%.17g", v);
		jb_puts(b, t);
	}
}

/* A label value between quotes: \\, \" and \n escaped, bytes that are not
 * UTF-8 as U+FFFD (Prometheus refuses invalid UTF-8) */
static void lval(struct jbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	jb_puts(b, "\"");
	for (size_t i = 0; i < n;) {
		int l = jb_utf8_len(p + i, n - i);
		if (p[i] == '\\' || p[i] == '"')
			jb_raw(b, p[i] == '"' ? "\\\"" : "\\\\", 2);
		else if (p[i] == '\n')
			jb_raw(b, "\\n", 2);
		else if (l)
			jb_raw(b, s + i, (size_t)l);
		else
			jb_raw(b, "\xef\xbf\xbd", 3);
		i += l ? (size_t)l : 1;
	}
	jb_puts(b, "\"");
}

/* The label of the 1-based index. Note that Prometheus attaches its own
 * `instance` (the scrape target) and, by default (honor_labels: false),
 * stores this one as `exported_instance`. */
#define INST_LABEL "instance"

/* The family being written: its HELP and TYPE go before its first sample */
struct fam {
	struct jbuf *b;
	const char *name, *type, *help;
	int headed;
};

static void fam_begin(struct fam *f, const char *name, const char *type, const char *help)
{
	f->name = name;
	f->type = type;
	f->help = help;
	f->headed = 0;
}

/* NAME{service="S",instance="N",K="V"...} VALUE: the instance labels when
 * svc is not NULL, then the pairs of kv (NULL-terminated, may be NULL) */
static void sample(struct fam *f, const char *svc, int inst, const char *const *kv, double v)
{
	struct jbuf *b = f->b;
	if (!f->headed)
		jb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
	f->headed = 1;
	jb_puts(b, f->name);
	const char *sep = "{";
	if (svc) {
		jb_puts(b, "{service=");
		lval(b, svc);
		jb_printf(b, "," INST_LABEL "=\"%d\"", inst);
		sep = ",";
	}
	for (; kv && kv[0]; kv += 2, sep = ",") {
		jb_printf(b, "%s%s=", sep, kv[0]);
		lval(b, kv[1] ? kv[1] : "");
	}
	jb_puts(b, *sep == ',' ? "} " : " ");
	num(b, v);
	jb_puts(b, "\n");
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int isnum(const cJSON *o, const char *key, double *v)
{
	const cJSON *j = get(o, key);
	if (!cJSON_IsNumber(j))
		return 0;
	*v = j->valuedouble;
	return 1;
}

static int streq(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* An entry of `services` we can label: its name and 1-based instance */
static const char *inst_id(const cJSON *s, int *idx)
{
	double v;
	if (!isnum(s, "instance", &v) || !(v >= 1 && v <= 1e6) || v != (int)v)
		return NULL;
	*idx = (int)v;
	return str(s, "name");
}

static const char *const states[] = {
	"waiting", "starting", "running", "stopping", "stopped", "backoff", "exited", "failed",
};

/* How a family's value comes out of an entry of `services` */
enum kind {
	K_NUM,    /* the number at key; none when not a number */
	K_UP,     /* state is running */
	K_STATE,  /* one sample per state, 1 for the current one */
	K_HEALTH, /* 1 healthy, 0 unhealthy, -1 starting; none without a check */
	K_SINCE,  /* now - key (a start time from an uptime) */
	K_INFO,   /* 1, labelled key="the string at key"; none when not a string */
};

static const struct {
	const char *name, *type, *key;
	enum kind kind;
	const char *help;
} per_inst[] = {
	{ "mls_service_up", "gauge", NULL, K_UP, "1 when the instance is running (ready), else 0." },
	{ "mls_service_state", "gauge", NULL, K_STATE, "The instance's state: 1 for the current one." },
	{ "mls_service_health_status", "gauge", NULL, K_HEALTH,
		"Health check verdict: 1 healthy, 0 unhealthy, -1 no verdict yet; absent without a check." },
	{ "mls_service_start_time_seconds", "gauge", "uptime_s", K_SINCE,
		"When the instance's current process started, seconds since the epoch." },
	{ "mls_service_restarts_total", "counter", "restarts", K_NUM,
		"Automatic restarts of the instance (after it crashed or ended)." },
	{ "mls_service_last_exit_code", "gauge", "exit_code", K_NUM,
		"Exit status of the instance's last exit; absent when none or killed by a signal." },
	{ "mls_service_cpu_seconds_total", "counter", "cpu_seconds", K_NUM,
		"User and system CPU time of the instance's process group." },
	{ "mls_service_memory_rss_bytes", "gauge", "rss_bytes", K_NUM,
		"Resident memory of the instance's process group." },
	{ "mls_service_threads", "gauge", "threads", K_NUM, "Threads of the instance's process group." },
	{ "mls_service_open_fds", "gauge", "fds", K_NUM, "Open file descriptors of the instance's process group." },
	{ "mls_service_log_dropped_lines_total", "counter", "dropped_lines", K_NUM,
		"Log lines of the instance lost (full disk, unwritable file)." },
	{ "mls_job_runs_succeeded_total", "counter", "runs_done", K_NUM, "Successful runs of the job." },
	{ "mls_job_next_run_time_seconds", "gauge", "next_run", K_NUM,
		"When the scheduled job runs next, seconds since the epoch." },
	{ "mls_job_last_success_time_seconds", "gauge", "last_success", K_NUM,
		"When the job last ended successfully, seconds since the epoch." },
	{ "mls_service_revision_info", "gauge", "revision", K_INFO,
		"The git commit the instance runs (services with git:); always 1." },
};

int metrics_render(struct jbuf *out, const cJSON *status, const struct host_stats *host,
	const char *version, const char *arch)
{
	struct fam f = { .b = out };
	double now = (double)time(NULL), v;
	const cJSON *svcs = get(status, "services"), *s;

	if (!cJSON_IsArray(svcs))
		svcs = NULL; /* an object's members would pass for entries */
	fam_begin(&f, "mls_build_info", "gauge", "The version and architecture of mls; always 1.");
	sample(&f, NULL, 0, (const char *const[]){ "version", version, "arch", arch, NULL }, 1);
	fam_begin(&f, "mls_supervisor_start_time_seconds", "gauge",
		"When the supervisor started, seconds since the epoch.");
	if (isnum(get(status, "supervisor"), "uptime_s", &v))
		sample(&f, NULL, 0, NULL, now - v);

	for (size_t k = 0; k < sizeof per_inst / sizeof *per_inst; k++) {
		fam_begin(&f, per_inst[k].name, per_inst[k].type, per_inst[k].help);
		cJSON_ArrayForEach(s, svcs) {
			int idx;
			const char *name = inst_id(s, &idx), *st = str(s, "state"), *hs = str(s, "health");
			if (!name)
				continue;
			switch (per_inst[k].kind) {
			case K_NUM:
				if (isnum(s, per_inst[k].key, &v))
					sample(&f, name, idx, NULL, v);
				break;
			case K_UP:
				sample(&f, name, idx, NULL, streq(st, "running"));
				break;
			case K_STATE:
				for (size_t j = 0; j < sizeof states / sizeof *states; j++)
					sample(&f, name, idx, (const char *const[]){ "state", states[j], NULL },
						streq(st, states[j]));
				break;
			case K_HEALTH:
				if (hs)
					sample(&f, name, idx, NULL, streq(hs, "healthy") ? 1 : streq(hs, "unhealthy") ? 0 : -1);
				break;
			case K_SINCE:
				if (isnum(s, per_inst[k].key, &v))
					sample(&f, name, idx, NULL, now - v);
				break;
			case K_INFO:
				if (str(s, per_inst[k].key))
					sample(&f, name, idx,
						(const char *const[]){ per_inst[k].key, str(s, per_inst[k].key), NULL }, 1);
				break;
			}
		}
	}

	static const struct {
		const char *name, *help;
		unsigned bit;
	} hf[] = {
		{ "mls_host_load1", "Load average of the host over 1 minute.", HOST_LOAD },
		{ "mls_host_load5", "Load average of the host over 5 minutes.", HOST_LOAD },
		{ "mls_host_load15", "Load average of the host over 15 minutes.", HOST_LOAD },
		{ "mls_host_memory_total_bytes", "Memory of the host (MemTotal).", HOST_MEM_TOTAL },
		{ "mls_host_memory_available_bytes", "Memory available for new work (MemAvailable).", HOST_MEM_AVAIL },
		{ "mls_host_root_filesystem_size_bytes", "Size of the root file system.", HOST_FS },
		{ "mls_host_root_filesystem_avail_bytes", "Space of the root file system free for unprivileged users.",
			HOST_FS },
	};
	const struct host_stats h0 = { 0 }, *h = host ? host : &h0;
	double hv[] = { h->load[0], h->load[1], h->load[2], (double)h->mem_total, (double)h->mem_avail,
		(double)h->fs_size, (double)h->fs_avail };
	for (size_t k = 0; k < sizeof hf / sizeof *hf; k++) {
		fam_begin(&f, hf[k].name, "gauge", hf[k].help);
		if (h->have & hf[k].bit)
			sample(&f, NULL, 0, NULL, hv[k]);
	}
	return out->oom ? -1 : 0;
}

/* ----------------------------------------------------------- readiness */

int metrics_ready(const cJSON *status, struct jbuf *culprits)
{
	const cJSON *svcs = get(status, "services"), *s;
	int n = 0;
	jb_puts(culprits, "[");
	if (!cJSON_IsArray(svcs)) {
		jb_puts(culprits, "]");
		return -1;
	}
	if (cJSON_IsTrue(get(get(status, "supervisor"), "shutting_down"))) {
		jb_puts(culprits, "{\"name\":\"mls\",\"state\":\"shutting_down\",\"reason\":\"mls is shutting down\"}");
		n++;
	}
	cJSON_ArrayForEach(s, svcs) {
		int idx;
		const char *name = inst_id(s, &idx), *st = str(s, "state");
		int unhealthy = streq(str(s, "health"), "unhealthy");
		if (!name || cJSON_IsTrue(get(s, "job")) || (streq(st, "running") && !unhealthy) ||
			(streq(st, "stopped") && !str(s, "reason")))
			continue;
		char id[96];
		snprintf(id, sizeof id, "%.80s.%d", name, idx);
		jb_puts(culprits, n++ ? ",{\"name\":" : "{\"name\":");
		jb_str(culprits, id);
		jb_puts(culprits, ",\"state\":");
		jb_str(culprits, st);
		if (streq(st, "running")) {
			jb_puts(culprits, ",\"health\":\"unhealthy\",\"health_message\":");
			jb_str(culprits, str(s, "health_message"));
		} else {
			jb_puts(culprits, ",\"reason\":");
			jb_str(culprits, str(s, "reason"));
		}
		jb_puts(culprits, "}");
	}
	jb_puts(culprits, "]");
	return n == 0;
}

int metrics_render_notify(struct jbuf *out, const struct metrics_notify *t, int n)
{
	static const struct { const char *name, *type, *help; } fams[] = {
		{ "mls_notify_sent_total", "counter", "Webhook requests the receiver accepted (2xx or 3xx)." },
		{ "mls_notify_failed_total", "counter", "Webhook events given up (4xx, retries spent, no address)." },
		{ "mls_notify_dropped_total", "counter", "Webhook events dropped from a full queue (1000 per target)." },
		{ "mls_notify_queued", "gauge", "Webhook events waiting or in flight." },
	};
	for (int k = 0; k < 4 && n > 0; k++) {
		struct fam f = { .b = out };
		fam_begin(&f, fams[k].name, fams[k].type, fams[k].help);
		for (int i = 0; i < n; i++) {
			char idx[16];
			snprintf(idx, sizeof idx, "%d", i + 1);
			const char *kv[] = { "target", idx, "host", t[i].host ? t[i].host : "", NULL };
			unsigned long long v = k == 0 ? t[i].sent : k == 1 ? t[i].failed : k == 2 ? t[i].dropped : t[i].queued;
			sample(&f, NULL, 0, kv, (double)v);
		}
	}
	return out->oom ? -1 : 0;
}
