/* sv_config.c: a service's config as mls sees it (after defaults, merges
 * and ${VAR} expansion), as JSON for the `config NAME` request
 * (docs/protocol.md). The value of every environment variable whose name
 * looks like a secret (*TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*, *KEY*,
 * case-insensitive) is replaced here, so it never leaves PID 1. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "parse.h"
#include "sv.h"

#define MASK "********"

/* does KEY (up to '=') look like it holds a secret? */
static int secret_key(const char *k, size_t n)
{
	static const char *const words[] = { "TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY" };
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t m = strlen(words[w]);
		for (size_t i = 0; i + m <= n; i++)
			if (!strncasecmp(k + i, words[w], m))
				return 1;
	}
	return 0;
}

/* ,"key":"2s" (key NULL: the value alone) */
static void dur(struct jbuf *b, const char *key, int64_t ms)
{
	if (key)
		jb_printf(b, ",\"%s\":", key);
	if (ms % 60000 == 0 && ms)
		jb_printf(b, "\"%lldm\"", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		jb_printf(b, "\"%llds\"", (long long)(ms / 1000));
	else
		jb_printf(b, "\"%lldms\"", (long long)ms);
}

static void strs(struct jbuf *b, const char *key, char *const *v, int n)
{
	if (n <= 0)
		return;
	jb_printf(b, ",\"%s\":[", key);
	for (int i = 0; i < n; i++) {
		jb_puts(b, i ? "," : "");
		jb_str(b, v[i]);
	}
	jb_puts(b, "]");
}

static void cmd(struct jbuf *b, const char *key, const struct command *c)
{
	if (!c->argv)
		return;
	if (c->shell && c->argc >= 3) {
		jb_printf(b, ",\"%s\":", key);
		jb_str(b, c->argv[2]);
	} else
		strs(b, key, c->argv, c->argc);
}

void sv_config_json(struct jbuf *b, const struct service *c)
{
	static const char *const restart[] = { "always", "on-failure", "no" };
	static const char *const ready[] = { "none", "notify", "healthy" };
	static const char *const cond[] = { "service_started", "service_healthy", "service_completed_successfully" };
	jb_puts(b, "{\"name\":");
	jb_str(b, c->name);
	if (c->pos.file) {
		char at[600];
		snprintf(at, sizeof at, "%s:%d:%d", c->pos.file, c->pos.line, c->pos.col);
		jb_puts(b, ",\"defined_at\":");
		jb_str(b, at);
	}
	cmd(b, "command", &c->command);
	if (c->working_dir) {
		jb_puts(b, ",\"working_dir\":");
		jb_str(b, c->working_dir);
	}
	if (c->user) {
		jb_puts(b, ",\"user\":");
		jb_str(b, c->user);
	}
	jb_printf(b, ",\"replicas\":%d", c->replicas);
	if (c->port == PORT_AUTO)
		jb_puts(b, ",\"port\":\"auto\"");
	else if (c->port > 0)
		jb_printf(b, ",\"port\":%d", c->port);
	if (c->environment.n > 0) {
		jb_puts(b, ",\"environment\":{");
		for (int i = 0; i < c->environment.n; i++) {
			const char *kv = c->environment.v[i];
			const char *eq = strchr(kv, '=');
			size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
			jb_puts(b, i ? "," : "");
			jb_strn(b, kv, kl);
			jb_puts(b, ":");
			jb_str(b, secret_key(kv, kl) ? MASK : eq ? eq + 1 : "");
		}
		jb_puts(b, "}");
	}
	strs(b, "env_file", c->env_file.v, c->env_file.n);
	if (c->ndeps > 0) {
		jb_puts(b, ",\"depends_on\":{");
		for (int i = 0; i < c->ndeps; i++) {
			jb_puts(b, i ? "," : "");
			jb_str(b, c->deps[i].name);
			jb_printf(b, ":\"%s\"", cond[c->deps[i].cond]);
		}
		jb_puts(b, "}");
	}
	jb_printf(b, ",\"ready\":\"%s\"", ready[c->ready]);
	jb_printf(b, ",\"restart\":\"%s\"", restart[c->restart]);
	jb_puts(b, ",\"restart_backoff\":{\"initial\":");
	dur(b, NULL, c->backoff.initial_ms);
	dur(b, "max", c->backoff.max_ms);
	jb_printf(b, ",\"factor\":%g,\"jitter\":\"%d%%\"", c->backoff.factor, c->backoff.jitter_pct);
	dur(b, "reset_after", c->backoff.reset_after_ms);
	jb_printf(b, "},\"restart_limit\":{\"count\":%d", c->restart_limit.count);
	dur(b, "window", c->restart_limit.window_ms);
	const char *sn = signal_name(c->stop_signal);
	jb_printf(b, "},\"stop_signal\":\"SIG%s\"", sn ? sn : "?");
	dur(b, "stop_grace_period", c->stop_grace_ms);
	if (c->health.kind != HC_NONE) {
		const struct healthcheck *h = &c->health;
		jb_puts(b, ",\"healthcheck\":{");
		if (h->kind == HC_HTTP) {
			jb_puts(b, "\"http\":");
			jb_str(b, h->http);
		} else if (h->kind == HC_TCP) {
			jb_puts(b, "\"tcp\":");
			jb_str(b, h->tcp);
		} else {
			jb_puts(b, "\"exec\":");
			if (h->exec.shell && h->exec.argc >= 3)
				jb_str(b, h->exec.argv[2]);
			else {
				jb_puts(b, "[");
				for (int i = 0; i < h->exec.argc; i++) {
					jb_puts(b, i ? "," : "");
					jb_str(b, h->exec.argv[i]);
				}
				jb_puts(b, "]");
			}
		}
		dur(b, "interval", h->interval_ms);
		dur(b, "timeout", h->timeout_ms);
		dur(b, "start_period", h->start_period_ms);
		jb_printf(b, ",\"retries\":%d,\"restart\":%s}", h->retries, h->restart ? "true" : "false");
	}
	if (c->schedule) {
		jb_puts(b, ",\"schedule\":");
		jb_str(b, c->schedule);
	}
	if (c->runs)
		jb_printf(b, ",\"runs\":%d", c->runs);
	if (c->timeout_ms)
		dur(b, "timeout", c->timeout_ms);
	cmd(b, "pre_start", &c->pre_start);
	cmd(b, "post_stop", &c->post_stop);
	strs(b, "watch", c->watch.v, c->watch.n);
	if (c->watch.n)
		dur(b, "watch_debounce", c->watch_debounce_ms);
	strs(b, "profiles", c->profiles.v, c->profiles.n);
	strs(b, "tags", c->tags.v, c->tags.n);
	if (c->critical)
		jb_puts(b, ",\"critical\":true");
	jb_puts(b, "}");
}
