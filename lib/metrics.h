/* metrics.h: what `mls httpd` serves from the control protocol's `status`
 * reply (docs/protocol.md), parsed with cJSON: GET /metrics (Prometheus
 * text exposition format 0.0.4) and GET /readyz (are the services up?),
 * plus a few figures of the host read from /proc and statvfs().
 *
 * Conventions
 *  - Nothing here prints, exits or keeps state between calls. Output goes
 *    to a struct jbuf (jbuf.h): check its `oom` once at the end.
 *  - A status reply is trusted for nothing: a missing or mistyped field
 *    leaves out the samples that need it (never the whole page), an entry
 *    of `services` without a string `name` or an `instance` from 1 to
 *    1,000,000 is skipped.
 *  - Bounded: the text is O(instances) (about 2 KiB per instance); the
 *    caller bounds the reply it parses (ctlclient's line limit). Host
 *    files are read into fixed buffers of at most 4 KiB.
 *
 * The metric families, in this order (per-instance ones are labelled
 * service="NAME",instance="N", N the 1-based index as in `web.N`, also for
 * a service of one instance; a family without a sample is left out. Mind
 * that Prometheus sets its own `instance` label (the target) and keeps
 * ours as `exported_instance` unless the scrape has honor_labels: true):
 *
 *   mls_build_info{version,arch}           gauge    always 1
 *   mls_supervisor_start_time_seconds      gauge    now - supervisor.uptime_s
 *   mls_service_up                         gauge    1 when state is running, else 0
 *   mls_service_state{state}               gauge    one-hot over the 8 states
 *        (waiting starting running stopping stopped backoff exited failed)
 *   mls_service_health_status              gauge    1 healthy, 0 unhealthy,
 *        -1 starting (a check, no verdict yet); absent without a check
 *   mls_service_start_time_seconds         gauge    now - uptime_s, while a
 *        process exists (starting, running, stopping)
 *   mls_service_restarts_total             counter  restarts
 *   mls_service_last_exit_code             gauge    exit_code; absent when
 *        none (never exited, or killed by a signal)
 *   mls_service_cpu_seconds_total          counter  cpu_seconds  } while a
 *   mls_service_memory_rss_bytes           gauge    rss_bytes    } process
 *   mls_service_threads                    gauge    threads      } exists
 *   mls_service_open_fds                   gauge    fds          }
 *   mls_service_log_dropped_lines_total    counter  dropped_lines
 *   mls_job_runs_succeeded_total           counter  runs_done (jobs)
 *   mls_job_next_run_time_seconds          gauge    next_run (schedule: jobs)
 *   mls_job_last_success_time_seconds      gauge    last_success, when the
 *        reply has it (supervise does not send it yet)
 *   mls_service_revision_info{revision}    gauge    1, for an instance whose
 *        entry has a string `revision` (a service with git: that has one)
 *   mls_host_load1, _load5, _load15        gauge    /proc/loadavg
 *   mls_host_memory_total_bytes            gauge    MemTotal
 *   mls_host_memory_available_bytes        gauge    MemAvailable
 *   mls_host_root_filesystem_size_bytes    gauge    statvfs: blocks
 *   mls_host_root_filesystem_avail_bytes   gauge    statvfs: blocks for non-root
 *
 * "now" is the wall clock when metrics_render() runs, in whole seconds;
 * the reply's uptimes are whole seconds too, so start times may move by a
 * second between scrapes. */
#ifndef MLS_METRICS_H
#define MLS_METRICS_H

#include "cJSON.h"
#include "jbuf.h"

/* Bits of host_stats.have: which fields were read */
enum {
	HOST_LOAD = 1,      /* load[] */
	HOST_MEM_TOTAL = 2, /* mem_total */
	HOST_MEM_AVAIL = 4, /* mem_avail */
	HOST_FS = 8,        /* fs_size, fs_avail */
};

struct host_stats {
	unsigned have;                 /* HOST_* bits; a field without its bit is not rendered */
	double load[3];                /* load averages over 1, 5 and 15 minutes */
	unsigned long long mem_total;  /* bytes (MemTotal) */
	unsigned long long mem_avail;  /* bytes (MemAvailable: Linux 3.14 and later) */
	unsigned long long fs_size;    /* bytes of the file system at fs_root */
	unsigned long long fs_avail;   /* bytes free for unprivileged users */
};

/* Reads PROC_ROOT/loadavg, PROC_ROOT/meminfo (MemTotal, MemAvailable) and
 * statvfs(fs_root) into *h (cleared first). Costs two reads of small
 * files (at most 4 KiB each) and one statvfs(): call it per scrape. A
 * field that cannot be read or parsed keeps its bit clear in h->have.
 * Returns 0 when everything was read, else -1 with errno of the last
 * failure (EINVAL: a file that does not parse); *h is usable either way. */
int host_stats_read(struct host_stats *h, const char *proc_root, const char *fs_root);

/* Appends the exposition of the families above to out: status is the
 * parsed `status` reply (NULL, or one without `services`: only the build
 * info and host families), host may be NULL (no host families), version
 * and arch label mls_build_info (NULL gives ""). Every family has its
 * # HELP and # TYPE lines; label values are escaped (\\, \", \n) and bytes
 * that are not UTF-8 become U+FFFD; values are integers when integral
 * (below 1e15), else shortest round-trip decimals, NaN, +Inf or -Inf;
 * never locale-dependent. Serve it as
 * "text/plain; version=0.0.4; charset=utf-8".
 * Returns 0, or -1 when out->oom (the text is incomplete). */
int metrics_render(struct jbuf *out, const cJSON *status, const struct host_stats *host,
	const char *version, const char *arch);

/* Readiness (Kubernetes' "can serve") from a `status` reply. Ready when
 * the supervisor is not shutting down and every instance that is not a
 * job (`"job":true`: runs: or schedule:; jobs are never culprits) either
 *  - is `running` with a health other than "unhealthy" (no check, or a
 *    check with no verdict yet, counts as ready), or
 *  - is `stopped` with a null `reason`: stopped on purpose (`ctl stop`).
 *    The reply has no "stopped by request" flag; a null reason on a
 *    stopped instance means a stop by request (or, for a moment at
 *    startup, not started yet); other stops carry a reason ("removed",
 *    "shutdown") or come with shutting_down, itself not ready.
 * Everything else is a culprit: waiting, starting, stopping (a `ctl stop`
 * in progress too), backoff, exited, failed, stopped with a reason,
 * running but unhealthy.
 *
 * Appends to culprits a JSON array (always, "[]" when ready) of
 *   {"name":"web.1","state":"backoff","reason":"exited with status 1"}
 *   {"name":"web.2","state":"running","health":"unhealthy","health_message":"HTTP 503"}
 *   {"name":"mls","state":"shutting_down","reason":"mls is shutting down"}
 * (reason and health_message null when the reply has none).
 * Returns 1 ready, 0 not ready, -1 when status has no `services` array
 * (not a status reply, or {"ok":false,...}): not ready either. */
int metrics_ready(const cJSON *status, struct jbuf *culprits);

/* The webhook counters of mls httpd (docs/api.md), one entry per target
 * of `notify:`, each labelled target="N" (1-based, the order of the
 * config's list) and host="HOST" (of its URL; never the URL itself, whose
 * path may hold a secret):
 *   mls_notify_sent_total       counter  requests answered 2xx/3xx
 *   mls_notify_failed_total     counter  events given up (4xx, or the
 *        retries spent, or no address)
 *   mls_notify_dropped_total    counter  events dropped from a full queue
 *   mls_notify_queued           gauge    events waiting or in flight
 * Nothing is written for n 0. Returns 0, or -1 when out->oom. */
struct metrics_notify {
	const char *host;
	unsigned long long sent, failed, dropped, queued;
};
int metrics_render_notify(struct jbuf *out, const struct metrics_notify *t, int n);

#endif
