/* sv_event.c: the one outbound path of the engine.
 *
 * Every engine event is a struct sv_event. emit() turns it into up to
 * three outputs, all from the fields written by one function, fields():
 *
 *   mls's log line    text or JSON on stderr (sv_log.c), when it has one
 *   a journal record  {"t":MS,"ev":TYPE,FIELDS}, for what must survive a
 *                     restart of mls (starts, exits, failures)
 *   an events line    {"event":TYPE,"seq":N,"time":MS,FIELDS} to `events`
 *                     stream clients (ctl events; the HTTP API and webhooks
 *                     will consume the same lines)
 *
 * The schema is docs/protocol.md, "Events". Calls only sv_log.c and lib/. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "parse.h"
#include "sv.h"

static const char *const state_names[] = {
#define X(e, s) s,
	PROTO_STATES(X)
#undef X
};

const char *state_name(enum inst_state s)
{
	return (unsigned)s < ST__COUNT ? state_names[s] : "?";
}

enum { TO_LOG = 1, TO_JOURNAL = 2, TO_SYNC = 4, TO_EVENTS = 8 };

struct sv_event {
	const char *type;       /* "state", "start", "exit", "failed", "reload", "shutdown", "supervisor" */
	int to;                 /* TO_* */
	const struct inst *i;   /* or NULL */
	enum log_level level;
	const char *msg;        /* the log line's text */
	pid_t pid;              /* start, exit */
	int restart;            /* start: a restart (not the first start by this mls) */
	int code, sig;          /* exit: code -1 when killed or not started */
	int64_t uptime_ms;      /* exit */
	const char *raw;        /* more fields, as JSON text: ,"k":v... */
};

static void jb_signal(struct jbuf *b, int sig)
{
	if (sig) {
		const char *sn = signal_name(sig);
		jb_printf(b, "\"SIG%s\"", sn ? sn : "?");
	} else
		jb_puts(b, "null");
}

/* The fields of an event: one definition for the journal and the stream */
static void fields(struct jbuf *b, const struct sv_event *e)
{
	const struct inst *i = e->i;
	if (i) {
		jb_puts(b, ",\"name\":");
		jb_str(b, i->name);
		jb_puts(b, ",\"service\":");
		jb_str(b, i->svc->cfg->name);
		jb_printf(b, ",\"instance\":%d", i->idx);
	}
	if (!strcmp(e->type, "state")) {
		jb_printf(b, ",\"state\":\"%s\",\"pid\":", state_name(i->state));
		if (i->pid > 0)
			jb_printf(b, "%d", (int)i->pid);
		else
			jb_puts(b, "null");
		jb_puts(b, ",\"reason\":");
		jb_str(b, i->reason[0] ? i->reason : NULL);
	} else if (!strcmp(e->type, "start")) {
		jb_printf(b, ",\"pid\":%d%s", (int)e->pid, e->restart ? ",\"restart\":true" : "");
	} else if (!strcmp(e->type, "exit")) {
		jb_printf(b, ",\"pid\":%d,\"exit_code\":", (int)e->pid);
		if (e->sig || e->code < 0)
			jb_puts(b, "null");
		else
			jb_printf(b, "%d", e->code);
		jb_puts(b, ",\"signal\":");
		jb_signal(b, e->sig);
		jb_printf(b, ",\"uptime_ms\":%lld", (long long)e->uptime_ms);
	}
	if (e->raw)
		jb_puts(b, e->raw);
}

/* The journal record of an event: {"t":MS,"ev":TYPE,FIELDS} */
static void journal_write(const struct sv_event *e, int sync)
{
	if (SV.journal.fd < 0)
		return;
	struct jbuf b = { 0 };
	jb_printf(&b, "{\"t\":%lld,\"ev\":\"%s\"", (long long)wall_ms(), e->type);
	fields(&b, e);
	jb_puts(&b, "}");
	if (b.oom || b.len >= JOURNAL_LINE_MAX) {
		jb_free(&b);
		return;
	}
	if (journal_append(&SV.journal, b.p, b.len, sync) < 0) {
		static int64_t warned;
		if (!warned || loop_now_ms() - warned > 60000) {
			warned = loop_now_ms();
			sv_log(LVL_WARN, NULL, "journal %s: %s", SV.journal.path, strerror(errno));
		}
	}
	jb_free(&b);
}

static void emit(const struct sv_event *e)
{
	if (e->to & TO_LOG)
		sv_log(e->level, e->i, "%s", e->msg);
	if (e->to & TO_JOURNAL)
		journal_write(e, !!(e->to & TO_SYNC));
	if (!(e->to & TO_EVENTS))
		return;
	SV.seq++;
	if (!SV.ctl || ctlsrv_nsubscribers(SV.ctl) == 0)
		return;
	struct jbuf b = { 0 };
	jb_printf(&b, "{\"event\":\"%s\",\"seq\":%llu,\"time\":%lld", e->type, (unsigned long long)SV.seq,
		(long long)wall_ms());
	fields(&b, e);
	jb_puts(&b, "}\n");
	if (!b.oom)
		ctlsrv_broadcast(SV.ctl, "events", b.p, b.len);
	jb_free(&b);
}

/* --------------------------------------------------------------- events */

void sv_emit_state(const struct inst *i)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s%s%s%s", state_name(i->state), i->reason[0] ? " (" : "", i->reason,
		i->reason[0] ? ")" : "");
	emit(&(struct sv_event){ .type = "state", .to = TO_LOG | TO_EVENTS, .i = i,
		.level = i->state == ST_FAILED ? LVL_WARN : LVL_INFO, .msg = msg });
}

void sv_emit_start(const struct inst *i)
{
	/* journal only: the state change that follows is the event */
	emit(&(struct sv_event){ .type = "start", .to = TO_JOURNAL, .i = i, .pid = i->pid,
		.restart = i->ever_started });
}

void sv_emit_exit(const struct inst *i, pid_t pid, int64_t up)
{
	char what[96], msg[160];
	if (i->last_oom)
		snprintf(what, sizeof what, "killed by the OOM killer (its cgroup's memory.max)");
	else if (i->last_sig)
		snprintf(what, sizeof what, "killed by SIG%s", signal_name(i->last_sig) ? signal_name(i->last_sig) : "?");
	else if (i->last_code >= 0)
		snprintf(what, sizeof what, "exited with status %d", i->last_code);
	else
		snprintf(what, sizeof what, "could not start");
	snprintf(msg, sizeof msg, "pid %d %s after %lldms", (int)pid, what, (long long)up);
	emit(&(struct sv_event){ .type = "exit", .to = TO_LOG | TO_JOURNAL | TO_EVENTS, .i = i, .msg = msg,
		.level = i->state == ST_STOPPING || (!i->last_code && !i->last_sig) ? LVL_INFO : LVL_WARN,
		.pid = pid, .code = i->last_code, .sig = i->last_sig, .uptime_ms = up,
		.raw = i->last_oom ? ",\"oom\":true" : NULL });
}

void sv_emit_failed(const struct inst *i)
{
	emit(&(struct sv_event){ .type = "failed", .to = TO_JOURNAL | TO_SYNC, .i = i });
}

void sv_emit_shutdown(int hurry, const char *why)
{
	emit(&(struct sv_event){ .type = "shutdown", .to = (why ? TO_LOG : 0) | (hurry ? 0 : TO_EVENTS),
		.level = hurry ? LVL_WARN : LVL_INFO, .msg = why });
}

void sv_emit_reload(int ok, const char *added, const char *removed, const char *changed, int unchanged,
	const char *errors)
{
	struct jbuf raw = { 0 };
	char msg[1024] = "";
	if (ok) {
		jb_printf(&raw, ",\"ok\":true,\"added\":[%s],\"removed\":[%s],\"changed\":[%s]", added, removed, changed);
		snprintf(msg, sizeof msg, "config reloaded: added [%s], removed [%s], changed [%s], %d unchanged", added,
			removed, changed, unchanged);
	} else
		jb_printf(&raw, ",\"ok\":false,\"errors\":[%s]", errors);
	/* jb_printf cuts nothing: long lists go through its heap path */
	if (!raw.oom)
		emit(&(struct sv_event){ .type = "reload", .to = (ok ? TO_LOG : 0) | TO_EVENTS, .level = LVL_INFO,
			.msg = msg, .raw = raw.p });
	jb_free(&raw);
}

const char *health_name(enum health h)
{
	return h == H_STARTING ? "starting" : h == H_HEALTHY ? "healthy" : h == H_UNHEALTHY ? "unhealthy" : NULL;
}

void sv_emit_health(const struct inst *i, const char *type, const char *msg)
{
	char text[300];
	snprintf(text, sizeof text, "%s%s%.200s", !strcmp(type, "health_restart") ? "restarting: unhealthy" : type,
		msg && *msg ? ": " : "", msg ? msg : "");
	struct jbuf raw = { 0 };
	jb_puts(&raw, ",\"message\":");
	jb_str(&raw, msg);
	if (!raw.oom)
		emit(&(struct sv_event){ .type = type, .to = TO_LOG | TO_EVENTS, .i = i,
			.level = strcmp(type, "healthy") ? LVL_WARN : LVL_INFO, .msg = text, .raw = raw.p });
	jb_free(&raw);
}

void sv_emit_supervisor(const char *action)
{
	char raw[64];
	snprintf(raw, sizeof raw, ",\"action\":\"%s\"", action);
	emit(&(struct sv_event){ .type = "supervisor", .to = TO_JOURNAL | TO_SYNC, .raw = raw });
}

void sv_emit_service(const char *type, enum log_level lv, const char *msg, const char *raw, int journal)
{
	emit(&(struct sv_event){ .type = type, .to = (msg ? TO_LOG : 0) | TO_EVENTS | (journal ? TO_JOURNAL : 0),
		.level = lv, .msg = msg, .raw = raw });
}

/* Output for `logs -f` followers: whole lines of this read; a line cut by
 * the read boundary is sent in two parts (the file gets it whole) */
void sv_emit_output(const struct inst *i, const char *buf, size_t n)
{
	if (!SV.ctl || ctlsrv_nsubscribers(SV.ctl) == 0)
		return;
	char topic[CONFIG_NAME_MAX + 8];
	snprintf(topic, sizeof topic, "log:%s", i->svc->cfg->name);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[32];
	logsink_timestamp(&now, ts);
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) : n;
		struct jbuf b = { 0 };
		jb_puts(&b, "{\"event\":\"log\",\"instance\":");
		jb_str(&b, i->name);
		jb_printf(&b, ",\"time\":\"%s\",\"line\":", ts);
		jb_strn(&b, buf, len);
		jb_puts(&b, "}\n");
		if (!b.oom)
			ctlsrv_broadcast(SV.ctl, topic, b.p, b.len);
		jb_free(&b);
		buf += len + (nl != NULL);
		n -= len + (nl != NULL);
	}
}
