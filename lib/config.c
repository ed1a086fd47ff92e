/* The config loader: YAML files -> ynode trees -> merged -> checked and
 * converted into struct config. Every problem becomes a diagnostic with
 * the file, line and column of the value at fault; loading goes on after
 * an error so one run reports everything.
 *
 * Cost: linear in the size of the input (hash maps for service names,
 * anchors and duplicate keys; ports sorted once). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arena.h"
#include "config.h"
#include "docker.h"
#include "env.h"
#include "gitdeploy.h"
#include "parse.h"
#include "serversdir.h"
#include "strmap.h"
#include "ytree.h"

#ifndef MLS_HAVE_GIT
#define MLS_HAVE_GIT 1
#endif

/* ---- key paths, formatted only when a message needs one ---- */

struct kp {
	const struct kp *up;
	const char *seg;   /* a key, or NULL with idx >= 0 for a list item */
	int idx;
};

static size_t kp_fmt(const struct kp *k, char *buf, size_t sz)
{
	size_t n = 0;
	if (!k)
		return 0;
	if (k->up)
		n = kp_fmt(k->up, buf, sz);
	if (n >= sz)
		return n;
	if (k->seg)
		n += snprintf(buf + n, sz - n, "%s%s", n ? "." : "", k->seg);
	else
		n += snprintf(buf + n, sz - n, "[%d]", k->idx);
	return n;
}

#define KP(parent, name) (&(struct kp){ (parent), (name), -1 })
#define KPI(parent, i) (&(struct kp){ (parent), NULL, (i) })

/* ---- the loader's state ---- */

struct loader {
	struct config *cfg;
	struct arena *a;
	struct diags *d;
	const struct config_opts *opts;
	struct strmap svc_index;   /* name -> struct service* (during cross checks) */
	uint64_t *hash;            /* of the service being converted, or NULL */
	const char *instance_var;  /* set by lookup() when a field names ${PORT} &c. */
	int unmuted;               /* report at muted nodes too (rules between keys) */
	int in_defaults;           /* converting the `defaults` map itself */
	const char *defaults_key;  /* its name in messages: NULL = "defaults" */
	struct strmap exec_cache;  /* program path -> result of the PATH check */
};

static const char *fname(struct loader *L, const struct ynode *n)
{
	return n && n->file >= 0 && n->file < L->cfg->nfiles ? L->cfg->files[n->file] : NULL;
}

static void vreport(struct loader *L, enum diag_severity sev, const struct ynode *n,
		    int coloff, const struct kp *k, const char *fmt, va_list ap)
{
	char path[256], msg[768];
	if (n && n->muted && !L->unmuted)
		return; /* said once already, under defaults */
	path[0] = 0;
	kp_fmt(k, path, sizeof path);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (path[0])
		diag_add(L->d, sev, fname(L, n), n ? n->line : 0, n ? n->col + coloff : 0, path, "%s: %s", path, msg);
	else
		diag_add(L->d, sev, fname(L, n), n ? n->line : 0, n ? n->col + coloff : 0, NULL, "%s", msg);
}

__attribute__((format(printf, 6, 7)))
static void report_at(struct loader *L, enum diag_severity sev, const struct ynode *n, int coloff,
		      const struct kp *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(L, sev, n, coloff, k, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5)))
static int err(struct loader *L, const struct ynode *n, const struct kp *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(L, DIAG_ERROR, n, 0, k, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 4, 5)))
static void warn(struct loader *L, const struct ynode *n, const struct kp *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(L, DIAG_WARNING, n, 0, k, fmt, ap);
	va_end(ap);
}

static int oom(struct loader *L, const struct ynode *n)
{
	return err(L, n, NULL, "out of memory");
}

/* "did you mean" among a NULL-terminated list */
static const char *suggest(const char *word, const char *const *words)
{
	const char *best = NULL;
	int bestd = 3;
	size_t wl = strlen(word);
	for (; *words; words++) {
		int cap = wl > 4 ? 2 : 1;
		int dist = edit_distance(word, *words, cap);
		if (dist <= cap && dist < bestd) {
			bestd = dist;
			best = *words;
		}
	}
	return best;
}

static const char *tname(const struct ynode *n)
{
	if (!n || n->type == Y_NULL)
		return "nothing";
	return n->type == Y_MAP ? "a mapping" : n->type == Y_SEQ ? "a list" : "a value";
}

/* ---- scalars and ${VAR} expansion ---- */

static const char *lookup(const char *name, void *ctx)
{
	struct loader *L = ctx;
	if (env_is_instance_var(name)) {
		L->instance_var = name[0] == 'P' ? "PORT" : name[4] == 'I' ? "MLS_INSTANCE" : "MLS_SERVICE";
		return NULL;
	}
	return L->opts && L->opts->getenv ? L->opts->getenv(name, L->opts->getenv_ctx) : getenv(name);
}

/* Expanded text of a scalar; NULL after reporting. `inst`: keep ${PORT} &c.
 * for the per-instance expansion at start. */
static char *scalar(struct loader *L, const struct ynode *n, const struct kp *k, int inst)
{
	if (!n || n->type != Y_SCALAR) {
		err(L, n, k, "expected a value, got %s", tname(n));
		return NULL;
	}
	char *out = NULL;
	struct env_error e;
	L->instance_var = NULL;
	if (!memchr(n->s, '$', n->len)) {
		out = (char *)n->s;
	} else if (env_expand(n->s, lookup, L, inst ? ENV_KEEP_INSTANCE : 0, &out, &e)) {
		/* point at the '$' when the source maps 1:1 to the text */
		char msg[300];
		if (L->instance_var)
			snprintf(msg, sizeof msg, "${%s} is only expanded per instance, in command, environment, "
				 "working_dir, env_file, hooks and healthcheck", L->instance_var);
		else
			snprintf(msg, sizeof msg, "%s", e.msg);
		report_at(L, DIAG_ERROR, n, n->exact ? e.offset + n->quoted : 0, k, "%s", msg);
		return NULL;
	} else {
		char *c = arena_strdup(L->a, out);
		free(out);
		if (!c) {
			oom(L, n);
			return NULL;
		}
		out = c;
	}
	if (L->hash)
		*L->hash = hash_bytes(*L->hash, out, strlen(out) + 1);
	return out;
}

static int get_str(struct loader *L, const struct ynode *n, const struct kp *k, int inst, char **out)
{
	if (n->type == Y_NULL)
		return 0;
	if (n->type != Y_SCALAR)
		return err(L, n, k, "expected a string, got %s", tname(n));
	char *s = scalar(L, n, k, inst);
	if (!s)
		return -1;
	*out = s;
	return 0;
}

/* A path: relative ones are taken from the directory of the file that holds them */
static int get_path(struct loader *L, const struct ynode *n, const struct kp *k, int inst, char **out)
{
	char *s = NULL;
	if (get_str(L, n, k, inst, &s))
		return -1;
	if (!s)
		return 0;
	if (!*s)
		return err(L, n, k, "expected a path, got an empty string");
	const char *f = fname(L, n);
	const char *slash = f ? strrchr(f, '/') : NULL;
	if (s[0] == '/' || !slash) {
		*out = s;
		return 0;
	}
	*out = arena_printf(L->a, "%.*s/%s", (int)(slash - f), f, s);
	return *out ? 0 : oom(L, n);
}

static int get_dur(struct loader *L, const struct ynode *n, const struct kp *k, int64_t *out)
{
	if (n->type == Y_NULL)
		return 0;
	char *s = scalar(L, n, k, 0);
	if (!s)
		return -1;
	if (parse_duration(s, out))
		return err(L, n, k, "bad duration '%s' (use e.g. 250ms, 5s, 2m, 1h30m)", s);
	return 0;
}

static int get_size(struct loader *L, const struct ynode *n, const struct kp *k, int64_t *out)
{
	if (n->type == Y_NULL)
		return 0;
	char *s = scalar(L, n, k, 0);
	if (!s)
		return -1;
	if (parse_size(s, out))
		return err(L, n, k, "bad size '%s' (use e.g. 512, 64KiB, 256MiB, 1GiB)", s);
	return 0;
}

static int get_int(struct loader *L, const struct ynode *n, const struct kp *k,
		   int64_t min, int64_t max, int64_t *out)
{
	if (n->type == Y_NULL)
		return 0;
	char *s = scalar(L, n, k, 0);
	if (!s)
		return -1;
	if (parse_int(s, min, max, out))
		return err(L, n, k, "expected an integer from %lld to %lld, got '%s'", (long long)min, (long long)max, s);
	return 0;
}

static int get_int32(struct loader *L, const struct ynode *n, const struct kp *k, int min, int max, int *out)
{
	int64_t v = *out;
	if (get_int(L, n, k, min, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int get_bool(struct loader *L, const struct ynode *n, const struct kp *k, int *out)
{
	if (n->type == Y_NULL)
		return 0;
	char *s = scalar(L, n, k, 0);
	if (!s)
		return -1;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		*out = 0;
	else
		return err(L, n, k, "expected true or false, got '%s'", s);
	return 0;
}

/* One of names[] (NULL-terminated); *out = its index */
static int get_enum(struct loader *L, const struct ynode *n, const struct kp *k,
		    const char *const *names, int *out)
{
	if (n->type == Y_NULL)
		return 0;
	char *s = scalar(L, n, k, 0);
	if (!s)
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	char list[256];
	size_t len = 0;
	list[0] = 0;
	for (int i = 0; names[i] && len < sizeof list; i++)
		len += snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
	const char *sug = suggest(s, names);
	if (sug)
		return err(L, n, k, "unknown value '%s' (did you mean '%s'?)", s, sug);
	return err(L, n, k, "unknown value '%s' (expected one of: %s)", s, list);
}

/* A string or a list of strings */
static int get_strv(struct loader *L, const struct ynode *n, const struct kp *k, int inst, int path,
		    struct strv *out)
{
	if (n->type == Y_NULL)
		return 0;
	int cnt = n->type == Y_SEQ ? n->n : 1;
	if (n->type == Y_MAP)
		return err(L, n, k, "expected a string or a list of strings, got a mapping");
	out->v = arena_alloc(L->a, (cnt + 1) * sizeof *out->v);
	out->pos = arena_alloc(L->a, (cnt + 1) * sizeof *out->pos);
	if (!out->v || !out->pos)
		return oom(L, n);
	out->n = 0;
	int rc = 0;
	for (int i = 0; i < cnt; i++) {
		const struct ynode *it = n->type == Y_SEQ ? n->kids[i] : n;
		const struct kp *ik = n->type == Y_SEQ ? KPI(k, i) : k;
		char *s = NULL;
		if (it->type != Y_SCALAR) {
			rc = err(L, it, ik, "expected a string, got %s", tname(it));
			continue;
		}
		if (path ? get_path(L, it, ik, inst, &s) : get_str(L, it, ik, inst, &s)) {
			rc = -1;
			continue;
		}
		out->pos[out->n] = (struct pos){ fname(L, it), it->line, it->col };
		out->v[out->n++] = s;
	}
	return rc;
}

static int get_command(struct loader *L, const struct ynode *n, const struct kp *k, struct command *c)
{
	memset(c, 0, sizeof *c);
	if (n->type == Y_NULL)
		return 0;
	c->pos = (struct pos){ fname(L, n), n->line, n->col };
	if (n->type == Y_SCALAR) {
		char *s = scalar(L, n, k, 1);
		if (!s)
			return -1;
		if (!*s)
			return err(L, n, k, "empty command");
		c->argv = arena_alloc(L->a, 4 * sizeof *c->argv);
		if (!c->argv)
			return oom(L, n);
		c->argv[0] = "/bin/sh";
		c->argv[1] = "-c";
		c->argv[2] = s;
		c->argc = 3;
		c->shell = 1;
		return 0;
	}
	if (n->type != Y_SEQ)
		return err(L, n, k, "expected a command: a string (run by /bin/sh -c) or a list, got %s", tname(n));
	if (n->n == 0)
		return err(L, n, k, "empty command");
	struct strv v = {0};
	if (get_strv(L, n, k, 1, 0, &v))
		return -1;
	if (!v.v[0][0])
		return err(L, n->kids[0], KPI(k, 0), "empty program name");
	c->argv = v.v;
	c->argc = v.n;
	return 0;
}

/* ---- checking keys ---- */

static int is_ext_key(const struct ynode *k)
{
	return k->len > 2 && k->s[0] == 'x' && k->s[1] == '-';
}

/* Report keys of map `m` not in `allowed`. Returns -1 if m is not a map. */
static int check_keys(struct loader *L, const struct ynode *m, const struct kp *k,
		      const char *const *allowed, int allow_ext)
{
	if (m->type != Y_MAP)
		return err(L, m, k, "expected a mapping, got %s", tname(m));
	for (int i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *key = m->kids[i];
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(key->s, *a);
		if (ok || (allow_ext && is_ext_key(key)))
			continue;
		if (key->muted)
			continue;
		/* the message names the parent, the JSON key the unknown key itself */
		const char *sug = suggest(key->s, allowed);
		char path[256], full[512];
		path[0] = 0;
		kp_fmt(k, path, sizeof path);
		snprintf(full, sizeof full, "%s%s%s", path, path[0] ? "." : "", key->s);
		diag_add(L->d, DIAG_ERROR, fname(L, key), key->line, key->col, full, "%s%sunknown key '%s'%s%s%s",
			 path, path[0] ? ": " : "", key->s, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
	}
	return 0;
}

#define FOR_KEYS(m, key, val) \
	for (int i_ = 0; (m)->type == Y_MAP && i_ + 1 < (m)->n; i_ += 2) \
		for (const struct ynode *key = (m)->kids[i_], *val = (m)->kids[i_ + 1]; key; key = NULL)
#define IS(key, name) (!strcmp((key)->s, (name)))

/* A key whose feature this build of supervise does not run yet */
static void unsupported(struct loader *L, const struct ynode *n, const struct kp *k, const char *value,
			const char *note)
{
	enum diag_severity sev = L->opts ? L->opts->unsupported : DIAG_WARNING;
	if (value)
		report_at(L, sev, n, 0, k, "'%s' is not supported yet by mls supervise%s", value, note ? note : "");
	else
		report_at(L, sev, n, 0, k, "not supported yet by mls supervise%s", note ? note : "");
}

/* ---- service sections ---- */

const char *const notify_event_names[NOTE_COUNT + 1] = {
	"crash", "restart", "unhealthy", "failed", "deployed", "started", "stopped", "healthy",
	"reload", "rolled_back", "heartbeat", "deploy_failed", "config_rejected", NULL
};

static void hash_tree(uint64_t *h, const struct ynode *n, int depth);

/* An HTTP header name (RFC 9110 token) that a target may set: not one
 * that mls writes itself or that would change the framing */
static const char *bad_header(const char *name)
{
	static const char *const own[] = { "host", "content-length", "content-type", "transfer-encoding",
		"connection", "x-mls-signature", "user-agent", NULL };
	if (!*name)
		return "an empty header name";
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", *p)))
			return "not a valid header name";
	for (int i = 0; own[i]; i++)
		if (!strcasecmp(name, own[i]))
			return "mls sets this header itself";
	return NULL;
}

static int conv_notify_target(struct loader *L, const struct ynode *n, const struct kp *k, struct notify_target *t)
{
	static const char *const keys[] = { "url", "events", "services", "format", "secret", "headers", "timeout",
		"heartbeat", "ca_file", NULL };
	memset(t, 0, sizeof *t);
	t->pos = (struct pos){ fname(L, n), n->line, n->col };
	t->events = NOTE_DEFAULT;
	t->timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
	if (check_keys(L, n, k, keys, 0))
		return -1;
	const struct ynode *hb = NULL;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "url")) {
			char host[256];
			int https, port;
			if (get_str(L, v, kk, 0, &t->url) == 0 && t->url &&
			    parse_url(t->url, &https, host, sizeof host, &port))
				err(L, v, kk, "bad URL '%s' (expected http:// or https://HOST[:PORT]/PATH)", t->url);
		} else if (IS(key, "events")) {
			struct strv ev = {0};
			if (get_strv(L, v, kk, 0, 0, &ev))
				continue;
			t->events = 0;
			for (int i = 0; i < ev.n; i++) {
				int j;
				for (j = 0; notify_event_names[j] && strcmp(notify_event_names[j], ev.v[i]); j++)
					;
				if (notify_event_names[j]) {
					t->events |= 1u << j;
					continue;
				}
				const struct ynode *it = v->type == Y_SEQ ? v->kids[i] : v;
				const char *sug = suggest(ev.v[i], notify_event_names);
				if (sug)
					err(L, it, kk, "unknown event '%s' (did you mean '%s'?)", ev.v[i], sug);
				else
					err(L, it, kk, "unknown event '%s' (expected some of: crash, restart, unhealthy, healthy, failed, started, stopped, reload, deployed, rolled_back, deploy_failed, config_rejected, heartbeat)", ev.v[i]);
			}
		} else if (IS(key, "services")) {
			if (get_strv(L, v, kk, 0, 0, &t->services) == 0 && t->services.n > NOTIFY_MAX_SERVICES)
				err(L, v, kk, "at most %d names or globs", NOTIFY_MAX_SERVICES);
			for (int i = 0; i < t->services.n; i++)
				if (!t->services.v[i][0]) {
					const struct pos *p = &t->services.pos[i];
					char path[256];
					path[0] = 0;
					kp_fmt(kk, path, sizeof path);
					diag_add(L->d, DIAG_ERROR, p->file, p->line, p->col, path, "%s: an empty name", path);
				}
		} else if (IS(key, "format")) {
			static const char *const fm[] = { "json", "slack", NULL };
			int f = NOTIFY_JSON;
			get_enum(L, v, kk, fm, &f);
			t->format = f;
		} else if (IS(key, "secret")) {
			if (get_str(L, v, kk, 0, &t->secret) == 0 && t->secret && !*t->secret)
				err(L, v, kk, "an empty secret (leave the key out for no signature)");
		} else if (IS(key, "headers")) {
			if (v->type == Y_NULL)
				continue;
			if (v->type != Y_MAP) {
				err(L, v, kk, "expected a mapping of header names to values, got %s", tname(v));
				continue;
			}
			int cnt = v->n / 2;
			if (cnt > NOTIFY_MAX_HEADERS) {
				err(L, v, kk, "at most %d headers", NOTIFY_MAX_HEADERS);
				continue;
			}
			t->headers.v = arena_alloc(L->a, (cnt + 1) * sizeof *t->headers.v);
			t->headers.pos = arena_alloc(L->a, (cnt + 1) * sizeof *t->headers.pos);
			if (!t->headers.v || !t->headers.pos) {
				oom(L, v);
				continue;
			}
			FOR_KEYS(v, hk, hv) {
				const struct kp *hkp = KP(kk, hk->s);
				const char *why = bad_header(hk->s);
				char *val = NULL;
				if (why) {
					err(L, hk, kk, "'%s': %s", hk->s, why);
					continue;
				}
				if (hv->type != Y_SCALAR) {
					err(L, hv, hkp, "expected a string, got %s", tname(hv));
					continue;
				}
				if (get_str(L, hv, hkp, 0, &val) || !val)
					continue;
				int ctl = 0;
				for (const unsigned char *p = (const unsigned char *)val; *p; p++)
					ctl |= (*p < 0x20 && *p != '\t') || *p == 0x7f;
				if (ctl) {
					err(L, hv, hkp, "a header value must not hold control characters (newlines)");
					continue;
				}
				char *h = arena_printf(L->a, "%s: %s", hk->s, val);
				if (!h) {
					oom(L, hv);
					continue;
				}
				t->headers.pos[t->headers.n] = (struct pos){ fname(L, hv), hv->line, hv->col };
				t->headers.v[t->headers.n++] = h;
			}
			t->headers.v[t->headers.n] = NULL;
		} else if (IS(key, "timeout")) {
			if (!get_dur(L, v, kk, &t->timeout_ms) && v->type != Y_NULL &&
			    (t->timeout_ms <= 0 || t->timeout_ms > NOTIFY_MAX_TIMEOUT_MS))
				err(L, v, kk, "must be more than 0 and at most 5m");
			if (v->type == Y_NULL)
				t->timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
		} else if (IS(key, "heartbeat")) {
			hb = v;
			if (!get_dur(L, v, kk, &t->heartbeat_ms) && v->type != Y_NULL && t->heartbeat_ms < NOTIFY_MIN_HEARTBEAT_MS)
				err(L, v, kk, "must be at least 1s");
		} else if (IS(key, "ca_file")) {
			get_path(L, v, kk, 0, &t->ca_file);
		}
	}
	/* heartbeat: DURATION turns the heartbeat event on; listing it in
	 * events alone gives the default period */
	if (hb && t->heartbeat_ms > 0)
		t->events |= NOTE_HEARTBEAT;
	if ((t->events & NOTE_HEARTBEAT) && t->heartbeat_ms <= 0)
		t->heartbeat_ms = NOTIFY_DEFAULT_HEARTBEAT_MS;
	if (!(t->events & NOTE_HEARTBEAT))
		t->heartbeat_ms = 0;
	if (!t->url)
		return err(L, n, k, "missing 'url'");
	if (t->ca_file && strncasecmp(t->url, "https://", 8))
		warn(L, n, KP(k, "ca_file"), "has no effect on an http:// URL");
	return 0;
}

/* notify: one target (a mapping) or a list of targets */
static int conv_notify(struct loader *L, const struct ynode *n, const struct kp *k, struct notify_cfg *nc)
{
	if (n->type == Y_NULL)
		return 0;
	nc->pos = (struct pos){ fname(L, n), n->line, n->col };
	nc->hash = HASH_INIT;
	hash_tree(&nc->hash, n, 0);
	if (n->type != Y_MAP && n->type != Y_SEQ)
		return err(L, n, k, "expected a mapping (one target) or a list of them, got %s", tname(n));
	int cnt = n->type == Y_SEQ ? n->n : 1;
	if (cnt > NOTIFY_MAX_TARGETS)
		return err(L, n, k, "at most %d targets", NOTIFY_MAX_TARGETS);
	nc->t = arena_alloc(L->a, (cnt ? cnt : 1) * sizeof *nc->t);
	if (!nc->t)
		return oom(L, n);
	int rc = 0;
	for (int i = 0; i < cnt; i++) {
		const struct ynode *it = n->type == Y_SEQ ? n->kids[i] : n;
		const struct kp *ik = n->type == Y_SEQ ? KPI(k, i) : k;
		if (it->type != Y_MAP) {
			rc = err(L, it, ik, "expected a mapping (url, events, ...), got %s", tname(it));
			continue;
		}
		if (conv_notify_target(L, it, ik, &nc->t[nc->n]) == 0)
			nc->n++;
		else
			rc = -1;
	}
	return rc;
}

/* The text of a value holding ${PORT}, ${MLS_INSTANCE} or ${MLS_SERVICE}
 * (known only per instance) with each of them replaced by "1", and "$$" by
 * "$", so that its shape can be checked at load time. -1 when it does not
 * fit in out. */
static int instance_standin(const char *in, char *out, size_t sz)
{
	size_t n = 0;
	while (*in) {
		if (n + 2 > sz)
			return -1;
		if (in[0] == '$' && in[1] == '$') {
			out[n++] = '$';
			in += 2;
		} else if (in[0] == '$' && in[1] == '{') {
			int depth = 0;
			in++;
			do { /* to the matching '}' (defaults may nest) */
				depth += *in == '{';
				depth -= *in == '}';
				in++;
			} while (*in && depth > 0);
			out[n++] = '1';
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = 0;
	return 0;
}

/* expect_status: one status code or a list of at most HC_MAX_EXPECT */
static int conv_expect(struct loader *L, const struct ynode *v, const struct kp *k, struct healthcheck *h)
{
	h->nexpect = 0;
	if (v->type == Y_NULL)
		return 0;
	if (v->type == Y_MAP)
		return err(L, v, k, "expected a status code or a list of status codes (100-599), got a mapping");
	if (v->type == Y_SEQ && v->n == 0)
		return err(L, v, k, "an empty list (leave expect_status out for any of 200-399)");
	if (v->type == Y_SEQ && v->n > HC_MAX_EXPECT)
		return err(L, v->kids[HC_MAX_EXPECT], KPI(k, HC_MAX_EXPECT), "more than %d status codes", HC_MAX_EXPECT);
	int cnt = v->type == Y_SEQ ? v->n : 1, rc = 0;
	for (int i = 0; i < cnt; i++) {
		const struct ynode *it = v->type == Y_SEQ ? v->kids[i] : v;
		const struct kp *ik = v->type == Y_SEQ ? KPI(k, i) : k;
		int code = 0;
		if (it->type != Y_SCALAR)
			rc = err(L, it, ik, "expected a status code (100-599), got %s", tname(it));
		else if (get_int32(L, it, ik, 100, 599, &code))
			rc = -1;
		else
			h->expect_status[h->nexpect++] = code;
	}
	return rc;
}

/* healthcheck: in `defaults` (in_defaults) it may hold the timing keys
 * alone, as a template; a service that gets such a map from defaults only
 * (its nodes muted) has no health check, silently */
static int conv_health(struct loader *L, const struct ynode *n, const struct kp *k, struct healthcheck *h,
		       int in_defaults)
{
	static const char *const keys[] = {
		"http", "tcp", "exec", "interval", "timeout", "retries", "start_period", "start_interval",
		"success_threshold", "expect_status", "restart", NULL
	};
	if (n->type == Y_NULL)
		return 0;
	if (check_keys(L, n, k, keys, 0))
		return -1;
	h->pos = (struct pos){ fname(L, n), n->line, n->col };
	const struct ynode *first = NULL, *expect = NULL, *start_interval = NULL;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "http") || IS(key, "tcp") || IS(key, "exec")) {
			if (v->type == Y_NULL)
				continue; /* reset (e.g. a kind from defaults) */
			if (first) {
				err(L, key, k, "'%s' and '%s' are mutually exclusive: a health check has exactly one of http, tcp, exec",
				    first->s, key->s);
				continue;
			}
			first = key;
		}
		if (IS(key, "http")) {
			h->kind = HC_HTTP;
			if (get_str(L, v, kk, 1, &h->http) || !h->http)
				continue;
			char chk[2048], host[256];
			int https, port;
			/* ${PORT} &c. are only known per instance: check the shape with a stand-in */
			if (instance_standin(h->http, chk, sizeof chk) || parse_url(chk, &https, host, sizeof host, &port))
				err(L, v, kk, "bad URL '%s' (expected http:// or https://HOST[:PORT]/PATH)", h->http);
		} else if (IS(key, "tcp")) {
			h->kind = HC_TCP;
			if (get_str(L, v, kk, 1, &h->tcp) || !h->tcp)
				continue;
			char chk[2048], host[256];
			int port;
			if (instance_standin(h->tcp, chk, sizeof chk) || parse_hostport(chk, host, sizeof host, &port))
				err(L, v, kk, "bad address '%s' (expected HOST:PORT)", h->tcp);
		} else if (IS(key, "exec")) {
			h->kind = HC_EXEC;
			get_command(L, v, kk, &h->exec);
		} else if (IS(key, "interval")) {
			if (!get_dur(L, v, kk, &h->interval_ms) && h->interval_ms <= 0)
				err(L, v, kk, "must be more than 0");
		} else if (IS(key, "timeout")) {
			if (!get_dur(L, v, kk, &h->timeout_ms) && h->timeout_ms <= 0)
				err(L, v, kk, "must be more than 0");
		} else if (IS(key, "start_period")) {
			get_dur(L, v, kk, &h->start_period_ms);
		} else if (IS(key, "start_interval")) {
			if (v->type == Y_NULL)
				continue;
			start_interval = v;
			if (!get_dur(L, v, kk, &h->start_interval_ms) && h->start_interval_ms <= 0)
				err(L, v, kk, "must be more than 0");
		} else if (IS(key, "retries")) {
			get_int32(L, v, kk, 1, 1000, &h->retries);
		} else if (IS(key, "success_threshold")) {
			get_int32(L, v, kk, 1, 1000, &h->success_threshold);
		} else if (IS(key, "expect_status")) {
			if (v->type != Y_NULL)
				expect = key;
			conv_expect(L, v, kk, h);
		} else if (IS(key, "restart")) {
			get_bool(L, v, kk, &h->restart);
		}
	}
	if (!start_interval)
		h->start_interval_ms = h->interval_ms;
	if (h->kind == HC_NONE)
		return in_defaults ? 0 : err(L, n, k, "a health check needs one of http, tcp, exec");
	if (expect && h->kind != HC_HTTP) {
		/* a rule between two keys: said here unless both came from defaults
		 * (then it was said once, under defaults) */
		int was = L->unmuted;
		L->unmuted = !(expect->muted && first->muted);
		err(L, expect, KP(k, "expect_status"), "applies only to an http check, not to '%s'", first->s);
		L->unmuted = was;
		h->nexpect = 0;
	}
	return 0;
}

static const char *const dep_conds[] = {
	"service_started", "service_healthy", "service_completed_successfully", NULL
};

static int add_dep(struct loader *L, struct service *s, const struct ynode *name, const struct kp *k,
		   enum dep_cond c, int *cap)
{
	char *nm = scalar(L, name, k, 0);
	if (!nm)
		return -1;
	struct dep *d = arena_grow(L->a, s->deps, s->ndeps, cap, sizeof *d);
	if (!d)
		return oom(L, name);
	s->deps = d;
	s->deps[s->ndeps++] = (struct dep){ nm, c, { fname(L, name), name->line, name->col } };
	return 0;
}

static int conv_depends(struct loader *L, const struct ynode *n, const struct kp *k, struct service *s)
{
	int cap = 0;
	if (n->type == Y_NULL)
		return 0;
	if (n->type == Y_SCALAR)
		return add_dep(L, s, n, k, DEP_STARTED, &cap);
	if (n->type == Y_SEQ) {
		for (int i = 0; i < n->n; i++)
			add_dep(L, s, n->kids[i], KPI(k, i), DEP_STARTED, &cap);
		return 0;
	}
	static const char *const keys[] = { "condition", "restart", "required", NULL };
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		int cond = DEP_STARTED;
		if (v->type == Y_MAP) {
			check_keys(L, v, kk, keys, 0);
			const struct ynode *c = ymap_get(v, "condition");
			if (c)
				get_enum(L, c, KP(kk, "condition"), dep_conds, &cond);
			const struct ynode *r = ymap_get(v, "restart"), *q = ymap_get(v, "required");
			if (r)
				err(L, r, KP(kk, "restart"), "is a docker compose option mls does not have");
			if (q)
				err(L, q, KP(kk, "required"), "is a docker compose option mls does not have");
		} else if (v->type != Y_NULL) {
			err(L, v, kk, "expected a mapping like {condition: service_started}, got %s", tname(v));
		}
		add_dep(L, s, key, k, cond, &cap);
	}
	return 0;
}

static int env_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(s[0] == '_' || ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
			return 0;
	return 1;
}

static int add_env(struct loader *L, struct service *s, const struct ynode *at, const struct kp *k,
		   const char *name, size_t nlen, const char *val, int *cap)
{
	if (!env_name_ok(name, nlen))
		return err(L, at, k, "bad variable name '%.*s'", (int)nlen, name);
	struct strv *e = &s->environment;
	char **v = arena_grow(L->a, e->v, e->n + 1, &cap[0], sizeof *v);
	struct pos *p = arena_grow(L->a, e->pos, e->n + 1, &cap[1], sizeof *p);
	char *kv = arena_printf(L->a, "%.*s=%s", (int)nlen, name, val);
	if (!v || !p || !kv)
		return oom(L, at);
	e->v = v;
	e->pos = p;
	p[e->n] = (struct pos){ fname(L, at), at->line, at->col };
	v[e->n++] = kv;
	v[e->n] = NULL;
	return 0;
}

/* environment: map, or list of KEY=VALUE. A key without a value takes
 * mls's own value (compose semantics) and is left out when that is unset. */
static int conv_environment(struct loader *L, const struct ynode *n, const struct kp *k, struct service *s)
{
	int cap[2] = { 0, 0 };
	if (n->type == Y_NULL)
		return 0;
	if (n->type == Y_MAP) {
		FOR_KEYS(n, key, v) {
			const struct kp *kk = KP(k, key->s);
			const char *val;
			if (v->type == Y_NULL) {
				val = lookup(key->s, L);
				if (!val)
					continue;
			} else if (!(val = scalar(L, v, kk, 1))) {
				continue;
			}
			if (!env_name_ok(key->s, key->len)) {
				err(L, key, k, "bad variable name '%s'", key->s);
				continue;
			}
			add_env(L, s, v->type == Y_NULL ? key : v, k, key->s, key->len, val, cap);
		}
		return 0;
	}
	if (n->type != Y_SEQ)
		return err(L, n, k, "expected a mapping or a list of KEY=VALUE, got %s", tname(n));
	for (int i = 0; i < n->n; i++) {
		const struct kp *ik = KPI(k, i);
		char *s1 = scalar(L, n->kids[i], ik, 1);
		if (!s1)
			continue;
		char *eq = strchr(s1, '=');
		if (!eq) {
			const char *val = lookup(s1, L);
			if (val)
				add_env(L, s, n->kids[i], ik, s1, strlen(s1), val, cap);
			else if (!env_name_ok(s1, strlen(s1)))
				err(L, n->kids[i], ik, "expected KEY=VALUE, got '%s'", s1);
			continue;
		}
		add_env(L, s, n->kids[i], ik, s1, eq - s1, eq + 1, cap);
	}
	return 0;
}

static int conv_limits(struct loader *L, const struct ynode *n, const struct kp *k, struct limits *lim)
{
	static const char *const keys[] = { "memory", "cpu", "pids", "nofile", "core", "swap", "io_weight", NULL };
	if (n->type == Y_NULL)
		return 0;
	if (check_keys(L, n, k, keys, 0))
		return -1;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "memory")) {
			if (!get_size(L, v, kk, &lim->memory) && lim->memory < 1 << 20 && v->type != Y_NULL)
				err(L, v, kk, "less than 1MiB: the service could not even start");
		} else if (IS(key, "cpu")) {
			char *s = NULL;
			if (get_str(L, v, kk, 0, &s) || !s)
				continue;
			if (parse_number(s, &lim->cpu) || lim->cpu > 4096)
				err(L, v, kk, "expected a number of CPUs > 0 like 0.5 or 2, got '%s'", s);
			lim->cpu_pos = (struct pos){ fname(L, v), v->line, v->col };
			if (L->opts && L->opts->cgroup_why)
				warn(L, v, kk, "needs cgroup v2 with the cpu controller when mls runs, not here: %s",
				     L->opts->cgroup_why);
		} else if (IS(key, "swap")) {
			get_size(L, v, kk, &lim->swap);
		} else if (IS(key, "io_weight")) {
			get_int32(L, v, kk, 1, 10000, &lim->io_weight);
		} else if (IS(key, "pids")) {
			get_int(L, v, kk, 1, 4194304, &lim->pids);
		} else if (IS(key, "nofile")) {
			get_int(L, v, kk, 1, 1 << 30, &lim->nofile);
		} else if (IS(key, "core")) {
			get_size(L, v, kk, &lim->core);
		}
	}
	return 0;
}

/* git: of a service (top 0) or config_git: (top 1) */
static int conv_git(struct loader *L, const struct ynode *n, const struct kp *k, struct git_cfg *g, int top)
{
	static const char *const keys[] = { "url", "ref", "branch", "interval", "depth", "token_file",
		"username", "password_file", "ca_file", "keep", "rollback", "verify_window", NULL };
	static const char *const top_keys_[] = { "url", "ref", "branch", "path", "interval", "depth",
		"token_file", "username", "password_file", "ca_file", NULL };
	g->interval_ms = GIT_DEFAULT_INTERVAL_MS;
	g->depth = 1;
	g->keep = GIT_DEFAULT_KEEP;
	g->rollback = 1;
	g->verify_window_ms = GIT_DEFAULT_VERIFY_MS;
	if (n->type == Y_NULL)
		return 0;
	if (check_keys(L, n, k, top ? top_keys_ : keys, 0))
		return -1;
	g->pos = (struct pos){ fname(L, n), n->line, n->col };
	g->hash = HASH_INIT;
	hash_tree(&g->hash, n, 0);
	const struct ynode *branch = NULL, *ref = NULL, *depth = NULL;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "url")) {
			if (get_str(L, v, kk, 0, &g->url) || !g->url)
				continue;
			char host[256];
			int https, port;
			if (!strncmp(g->url, "file://", 7) || g->url[0] == '/')
				continue;
			if (!strstr(g->url, "://") && !strchr(g->url, ':') && !strchr(g->url, '@')) {
				/* a relative path: from the directory of its file */
				get_path(L, v, kk, 0, &g->url);
				continue;
			}
			if (!strncmp(g->url, "ssh://", 6) || !strncmp(g->url, "git+ssh://", 10) ||
			    (strchr(g->url, ':') && !strstr(g->url, "://")))
				err(L, v, kk, "'%s': ssh is not supported (no libssh2 in mls): use https://, http://, file:// or a path", g->url);
			else if (parse_url(g->url, &https, host, sizeof host, &port))
				err(L, v, kk, "bad URL '%s' (expected https://HOST/PATH, http://HOST/PATH, file:///PATH or /PATH)", g->url);
		} else if (IS(key, "ref") || IS(key, "branch")) {
			*(IS(key, "ref") ? &ref : &branch) = v;
			if (!get_str(L, v, kk, 0, &g->ref) && g->ref &&
			    (!*g->ref || g->ref[0] == '-' || strpbrk(g->ref, " ~^:?*[\\") || strstr(g->ref, "..")))
				err(L, v, kk, "bad ref '%s' (a branch, a tag or a commit)", g->ref);
		} else if (IS(key, "path")) {
			if (!get_str(L, v, kk, 0, &g->path) && g->path &&
			    (!*g->path || g->path[0] == '/' || strstr(g->path, "..")))
				err(L, v, kk, "bad path '%s' (a file of the repository, relative to its root)", g->path);
		} else if (IS(key, "interval")) {
			if (!get_dur(L, v, kk, &g->interval_ms) && g->interval_ms && g->interval_ms < 1000)
				err(L, v, kk, "must be at least 1s (or 0: only when asked, by mls ctl deploy or the API)");
		} else if (IS(key, "depth")) {
			depth = v;
			get_int32(L, v, kk, 0, 1 << 30, &g->depth);
		} else if (IS(key, "token_file")) {
			get_path(L, v, kk, 0, &g->token_file);
		} else if (IS(key, "username")) {
			get_str(L, v, kk, 0, &g->username);
		} else if (IS(key, "password_file")) {
			get_path(L, v, kk, 0, &g->password_file);
		} else if (IS(key, "ca_file")) {
			get_path(L, v, kk, 0, &g->ca_file);
		} else if (IS(key, "keep")) {
			get_int32(L, v, kk, 1, 100, &g->keep);
		} else if (IS(key, "rollback")) {
			get_bool(L, v, kk, &g->rollback);
		} else if (IS(key, "verify_window")) {
			if (!get_dur(L, v, kk, &g->verify_window_ms) && g->verify_window_ms < 1000)
				err(L, v, kk, "must be at least 1s");
		}
	}
	if (ref && branch)
		err(L, branch, KP(k, "branch"), "'branch' and 'ref' name the same thing: keep 'ref'");
	if (depth && g->depth != 0)
		warn(L, depth, KP(k, "depth"), "fetches are full in this build (libgit2 1.5.1 has no shallow fetch): depth %d is not applied", g->depth);
	if (g->token_file && (g->username || g->password_file)) {
		const struct ynode *u = ymap_get(n, "password_file") ? ymap_get(n, "password_file") : ymap_get(n, "username");
		err(L, u, KP(k, u == ymap_get(n, "username") ? "username" : "password_file"),
		    "'token_file' and 'username'/'password_file' exclude each other");
	} else if (g->username && !g->password_file) {
		err(L, ymap_get(n, "username"), KP(k, "username"), "needs 'password_file'");
	}
	if (top && !g->path)
		g->path = GIT_DEFAULT_CONFIG_PATH;
	if (!g->url)
		return err(L, n, k, "missing 'url'");
	return 0;
}

/* image: / build: (docs/docker.md): the service runs `mls docker-run`,
 * its command (a list) being the container's. Called once the service's
 * other keys are read (port, stop_grace_period, environment...). */
static void conv_docker(struct loader *L, const struct ynode *n, const struct kp *k, struct service *s)
{
	const struct ynode *at = ymap_get(n, ymap_get(n, "image") ? "image" : "build");
	const struct kp *ka = KP(k, ymap_get(n, "image") ? "image" : "build");
	if (s->git.url)
		err(L, at, ka, "a service deployed from git runs its checkout: no 'image' or 'build' with 'git:'");
	if (s->command.shell)
		err(L, ymap_get(n, "command"), KP(k, "command"), "with '%s', command is the container's and must be a list "
		    "(for a shell: [sh, -c, '...'])", s->image ? "image" : "build");
	if (s->ready == READY_NOTIFY || s->watchdog_ms > 0)
		err(L, ymap_get(n, s->ready == READY_NOTIFY ? "ready" : "watchdog"), KP(k, s->ready == READY_NOTIFY ? "ready" : "watchdog"),
		    "a container cannot reach NOTIFY_SOCKET: use a healthcheck (ready: healthy)");
	if (s->limits.memory >= 0 || s->limits.pids >= 0 || s->limits.nofile >= 0 || s->limits.core >= 0 || s->limits.cpu >= 0)
		err(L, ymap_get(n, "limits"), KP(k, "limits"), "would apply to the docker CLI, not to the container: "
		    "not supported with '%s'", s->image ? "image" : "build");
	if (s->image && (!*s->image || s->image[0] == '-' || strpbrk(s->image, " \t\n$")))
		err(L, at, ka, "bad image name '%s'", s->image);
	if (s->build && strchr(s->build, '$'))
		err(L, ymap_get(n, "build"), KP(k, "build"), "'%s': a build directory cannot name variables", s->build);
	int max = 24 + 2 * (s->environment.n + s->env_file.n) + s->command.argc;
	char **v = arena_alloc(L->a, (size_t)max * sizeof *v);
	char *name = arena_printf(L->a, "mls-%s-${MLS_INSTANCE}", s->name);
	/* docker stop's own grace ends before supervise's (SIGKILL to the CLI) */
	int64_t margin = s->stop_grace_ms / 5 < 2000 ? s->stop_grace_ms / 5 : 2000;
	char *secs = arena_printf(L->a, "%lld", (long long)((s->stop_grace_ms - margin) / 1000));
	const char *sn = signal_name(s->stop_signal);
	char *sig = sn ? arena_printf(L->a, "SIG%s", sn) : arena_printf(L->a, "%d", s->stop_signal);
	if (!v || !name || !secs || !sig) {
		oom(L, n);
		return;
	}
	int c = 0;
	v[c++] = "mls";
	v[c++] = "docker-run";
	v[c++] = "--name";
	v[c++] = name;
	v[c++] = "--image";
	v[c++] = s->image ? s->image : arena_printf(L->a, "mls-%s", s->name);
	if (s->build) {
		v[c++] = "--build";
		v[c++] = s->build;
	}
	if (s->port != PORT_NONE) {
		v[c++] = "--port";
		v[c++] = "${PORT}";
	}
	v[c++] = "--stop-timeout";
	v[c++] = secs;
	if (s->stop_signal != SIGTERM) {
		v[c++] = "--stop-signal";
		v[c++] = sig;
	}
	if (s->docker_cli) {
		v[c++] = "--cli";
		v[c++] = s->docker_cli;
	}
	for (int i = 0; i < s->environment.n; i++) {
		v[c++] = "-e";
		v[c++] = arena_strndup(L->a, s->environment.v[i], strcspn(s->environment.v[i], "="));
	}
	for (int i = 0; i < s->env_file.n; i++) {
		v[c++] = "--env-file";
		v[c++] = s->env_file.v[i];
	}
	v[c++] = "--";
	for (int i = 0; i < s->command.argc; i++)
		v[c++] = s->command.argv[i];
	v[c] = NULL;
	s->command = (struct command){ v, c, 0, s->image_pos };
	s->docker = 1;
}

/* A `watch:` pattern: relative to working_dir, never above it */
static void check_watch_pattern(struct loader *L, const struct ynode *n, const struct kp *k, const char *p)
{
	const char *q = p + (p[0] == '!');
	if (!*q) {
		err(L, n, k, "empty pattern '%s'", p);
		return;
	}
	if (q[0] == '/') {
		err(L, n, k, "'%s': patterns are relative to working_dir", p);
		return;
	}
	for (const char *c = q; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c))
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2])) {
			err(L, n, k, "'%s': '..' is not allowed (patterns stay under working_dir)", p);
			return;
		}
}

static const char *const service_keys[] = {
	"command", "working_dir", "environment", "env_file", "user", "replicas", "port",
	"restart", "restart_backoff", "restart_limit", "stop_signal", "stop_grace_period",
	"depends_on", "healthcheck", "ready", "ready_fd", "limits", "nice", "profiles",
	"watch", "git", "critical", "hooks", "notify", "log", "tags", "schedule",
	"timeout", "runs", "watchdog", "watch_debounce", "image", "build", "docker_cli", NULL
};

static void service_defaults(struct service *s)
{
	s->replicas = 1;
	s->restart = RESTART_ALWAYS;
	s->backoff.initial_ms = 1000;
	s->backoff.max_ms = 60000;
	s->backoff.factor = 2;
	s->backoff.jitter_pct = 10;
	s->backoff.reset_after_ms = 30000;
	s->restart_limit.count = 5;
	s->restart_limit.window_ms = 60000;
	s->stop_signal = 15;
	s->stop_grace_ms = 10000;
	s->ready = READY_NONE;
	s->ready_fd = 3;
	s->health.interval_ms = 5000;
	s->health.timeout_ms = 1000;
	s->health.start_interval_ms = 5000; /* = interval unless set */
	s->health.retries = 3;
	s->health.success_threshold = 1;
	s->health.restart = 1;
	s->limits.memory = s->limits.pids = s->limits.nofile = s->limits.core = -1;
	s->limits.cpu = -1;
	s->limits.swap = -1;
	s->log.max_size = 10 << 20;
	s->log.keep = 5;
	s->pre_deploy_timeout_ms = GIT_DEFAULT_PRE_DEPLOY_TIMEOUT_MS;
	s->watch_debounce_ms = WATCH_DEFAULT_DEBOUNCE_MS;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONFIG_NAME_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static void hash_tree(uint64_t *h, const struct ynode *n, int depth)
{
	*h = hash_bytes(*h, &n->type, sizeof n->type);
	if (n->type == Y_SCALAR)
		*h = hash_bytes(*h, n->s, n->len + 1);
	if (depth > CONFIG_MAX_DEPTH)
		return;
	for (int i = 0; i < n->n; i++)
		hash_tree(h, n->kids[i], depth + 1);
}

static int conv_fields(struct loader *L, const struct kp *k, const struct ynode *n, struct service *s);
static int check_service_rules(struct loader *L, const struct ynode *namenode, const struct kp *k,
			       const struct ynode *n, struct service *s, int have_cmd);
static int check_service(struct loader *L, const struct ynode *namenode, const struct kp *k,
			 const struct ynode *n, struct service *s, int have_cmd);

/* Convert one service definition (defaults already merged in). With
 * namenode NULL it checks the `defaults` map itself, once. */
static int conv_service(struct loader *L, const struct ynode *namenode, const struct ynode *n, struct service *s)
{
	const struct kp *k0 = KP(NULL, "services");
	const struct kp *k = namenode ? KP(k0, namenode->s) : KP(NULL, L->defaults_key ? L->defaults_key : "defaults");
	service_defaults(s);
	s->name = namenode ? (char *)namenode->s : "defaults";
	s->pos = namenode ? (struct pos){ fname(L, namenode), namenode->line, namenode->col }
			  : (struct pos){ fname(L, n), n->line, n->col };
	if (!namenode) {
		L->in_defaults = 1;
		conv_fields(L, k, n, s);
		L->in_defaults = 0;
		return 0;
	}
	if (!strcmp(s->name, HTTP_SERVICE) || !strcmp(s->name, GIT_SERVICE))
		err(L, namenode, k0, "the name '%s' is mls's own (it runs %s): choose another", s->name,
		    !strcmp(s->name, HTTP_SERVICE) ? "http: and notify:" : "git: and config_git:");
	else if (!name_ok(s->name))
		err(L, namenode, k0, "bad service name '%s' (use a-z, 0-9, '_' and '-', starting with a letter or digit, at most 63)",
		    s->name);
	if (n->type == Y_NULL)
		return err(L, namenode, k, "missing 'command'");
	if (check_keys(L, n, k, service_keys, 1))
		return -1;

	s->hash = HASH_INIT;
	hash_tree(&s->hash, n, 0);
	/* the same without `replicas` and `healthcheck`: a reload that
	 * changes only those adds or removes instances, or checks them anew,
	 * instead of restarting them */
	s->hash_shape = HASH_INIT;
	for (int i = 0; n->type == Y_MAP && i + 1 < n->n; i += 2)
		if (strcmp(n->kids[i]->s, "replicas") && strcmp(n->kids[i]->s, "healthcheck")) {
			hash_tree(&s->hash_shape, n->kids[i], 0);
			hash_tree(&s->hash_shape, n->kids[i + 1], 0);
		}
	const char *f = fname(L, n);
	if (f) {
		s->hash = hash_bytes(s->hash, f, strlen(f) + 1);
		s->hash_shape = hash_bytes(s->hash_shape, f, strlen(f) + 1);
	}
	L->hash = &s->hash;
	int have_cmd = conv_fields(L, k, n, s);
	L->hash = NULL;
	return check_service(L, namenode, k, n, s, have_cmd);
}

static void conv_user(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	if (get_str(L, v, kk, 0, &s->user) || !s->user)
		return;
	const char *u = s->user;
	int okname = *u && (u[0] == '_' || (u[0] >= 'a' && u[0] <= 'z'));
	for (const char *p = u; okname && *p; p++)
		okname = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			 *p == '.' || (*p == '$' && !p[1]);
	int64_t id;
	char buf[64];
	const char *colon = strchr(u, ':');
	int okid = 0;
	if (colon && (size_t)(colon - u) < sizeof buf) {
		snprintf(buf, sizeof buf, "%.*s", (int)(colon - u), u);
		okid = !parse_int(buf, 0, 4294967294, &id) && !parse_int(colon + 1, 0, 4294967294, &id);
	} else if (!colon) {
		okid = !parse_int(u, 0, 4294967294, &id);
	}
	if (!okname && !okid)
		err(L, v, kk, "bad user '%s' (expected a user name, or uid[:gid])", u);
}

static void conv_port(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	s->port_pos = (struct pos){ fname(L, v), v->line, v->col };
	if (yscalar_is(v, "auto"))
		s->port = PORT_AUTO;
	else if (v->type != Y_NULL) {
		char *p = scalar(L, v, kk, 0);
		int64_t x;
		if (p && parse_int(p, 1, 65535, &x))
			err(L, v, kk, "expected auto or a TCP port from 1 to 65535, got '%s'", p);
		else if (p)
			s->port = (int)x;
	}
}

static void conv_restart(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	static const char *const names[] = { "always", "on-failure", "no", NULL };
	int r = s->restart;
	if (v->type == Y_SCALAR && (!strcmp(v->s, "false") || !strcmp(v->s, "unless-stopped"))) {
		err(L, v, kk, "unknown value '%s' (expected always, on-failure or no)", v->s);
		return;
	}
	get_enum(L, v, kk, names, &r);
	s->restart = r;
}

static void conv_backoff(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	static const char *const bk[] = { "initial", "max", "factor", "jitter", "reset_after", NULL };
	if (v->type == Y_NULL || check_keys(L, v, kk, bk, 0))
		return;
	FOR_KEYS(v, bkey, bv) {
		const struct kp *bkk = KP(kk, bkey->s);
		if (IS(bkey, "initial")) {
			if (!get_dur(L, bv, bkk, &s->backoff.initial_ms) && s->backoff.initial_ms <= 0)
				err(L, bv, bkk, "must be more than 0");
		} else if (IS(bkey, "max")) {
			get_dur(L, bv, bkk, &s->backoff.max_ms);
		} else if (IS(bkey, "reset_after")) {
			get_dur(L, bv, bkk, &s->backoff.reset_after_ms);
		} else if (IS(bkey, "jitter")) {
			char *p = NULL;
			if (!get_str(L, bv, bkk, 0, &p) && p && parse_percent(p, &s->backoff.jitter_pct))
				err(L, bv, bkk, "expected a percentage from 0%% to 100%%, got '%s'", p);
		} else if (IS(bkey, "factor")) {
			char *p = NULL;
			if (!get_str(L, bv, bkk, 0, &p) && p &&
			    (parse_number(p, &s->backoff.factor) || s->backoff.factor < 1 || s->backoff.factor > 100))
				err(L, bv, bkk, "expected a number from 1 to 100, got '%s'", p);
		}
	}
	if (s->backoff.max_ms < s->backoff.initial_ms)
		err(L, v, kk, "max (%lldms) is less than initial (%lldms)",
		    (long long)s->backoff.max_ms, (long long)s->backoff.initial_ms);
}

static void conv_restart_limit(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	static const char *const lk[] = { "count", "window", NULL };
	if (v->type == Y_NULL || check_keys(L, v, kk, lk, 0))
		return;
	FOR_KEYS(v, lkey, lv) {
		const struct kp *lkk = KP(kk, lkey->s);
		if (IS(lkey, "count"))
			get_int32(L, lv, lkk, 1, 1000000, &s->restart_limit.count);
		else if (IS(lkey, "window") && !get_dur(L, lv, lkk, &s->restart_limit.window_ms) &&
			 s->restart_limit.window_ms <= 0)
			err(L, lv, lkk, "must be more than 0");
	}
}

static void conv_hooks(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	static const char *const hk[] = { "pre_start", "post_stop", "pre_deploy", "pre_deploy_timeout", NULL };
	if (v->type == Y_NULL || check_keys(L, v, kk, hk, 0))
		return;
	FOR_KEYS(v, hkey, hv) {
		if (IS(hkey, "pre_start"))
			get_command(L, hv, KP(kk, "pre_start"), &s->pre_start);
		else if (IS(hkey, "pre_deploy"))
			get_command(L, hv, KP(kk, "pre_deploy"), &s->pre_deploy);
		else if (IS(hkey, "pre_deploy_timeout")) {
			if (!get_dur(L, hv, KP(kk, "pre_deploy_timeout"), &s->pre_deploy_timeout_ms) &&
			    s->pre_deploy_timeout_ms <= 0)
				err(L, hv, KP(kk, "pre_deploy_timeout"), "must be more than 0");
		}
		else if (IS(hkey, "post_stop"))
			get_command(L, hv, KP(kk, "post_stop"), &s->post_stop);
	}
}

static void conv_log(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	static const char *const lk[] = { "max_size", "keep", NULL };
	if (v->type == Y_NULL || check_keys(L, v, kk, lk, 0))
		return;
	FOR_KEYS(v, lkey, lv) {
		const struct kp *lkk = KP(kk, lkey->s);
		if (IS(lkey, "max_size")) {
			if (!get_size(L, lv, lkk, &s->log.max_size) && s->log.max_size < 1024)
				err(L, lv, lkk, "must be at least 1KiB");
		} else if (IS(lkey, "keep")) {
			get_int32(L, lv, lkk, 0, 1000, &s->log.keep);
		}
	}
}

static void conv_schedule(struct loader *L, const struct ynode *v, const struct kp *kk, struct service *s)
{
	if (get_str(L, v, kk, 0, &s->schedule) || !s->schedule)
		return;
	const char *why;
	int at = 0;
	if (cron_parse(s->schedule, &s->cron, &why, &at))
		report_at(L, DIAG_ERROR, v, v->exact ? at + v->quoted : 0, kk,
			  "bad cron expression '%s': %s", s->schedule, why);
}

/* The keys of a service map into s; returns whether a command was given */
static int conv_fields(struct loader *L, const struct kp *k, const struct ynode *n, struct service *s)
{

	int have_cmd = 0;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "command")) {
			have_cmd = v->type != Y_NULL;
			get_command(L, v, kk, &s->command);
		} else if (IS(key, "working_dir")) {
			s->working_dir_pos = (struct pos){ fname(L, v), v->line, v->col };
			get_path(L, v, kk, 1, &s->working_dir);
		} else if (IS(key, "environment")) {
			conv_environment(L, v, kk, s);
		} else if (IS(key, "env_file")) {
			get_strv(L, v, kk, 1, 1, &s->env_file);
		} else if (IS(key, "user")) {
			conv_user(L, v, kk, s);
		} else if (IS(key, "replicas")) {
			get_int32(L, v, kk, 1, CONFIG_MAX_REPLICAS, &s->replicas);
		} else if (IS(key, "port")) {
			conv_port(L, v, kk, s);
		} else if (IS(key, "restart")) {
			conv_restart(L, v, kk, s);
		} else if (IS(key, "restart_backoff")) {
			conv_backoff(L, v, kk, s);
		} else if (IS(key, "restart_limit")) {
			conv_restart_limit(L, v, kk, s);
		} else if (IS(key, "stop_signal")) {
			char *p = NULL;
			if (!get_str(L, v, kk, 0, &p) && p && parse_signal(p, &s->stop_signal))
				err(L, v, kk, "unknown signal '%s' (use a name like TERM, SIGINT or a number)", p);
		} else if (IS(key, "stop_grace_period")) {
			get_dur(L, v, kk, &s->stop_grace_ms);
		} else if (IS(key, "depends_on")) {
			conv_depends(L, v, kk, s);
		} else if (IS(key, "healthcheck")) {
			conv_health(L, v, kk, &s->health, L->in_defaults);
		} else if (IS(key, "watchdog")) {
			get_dur(L, v, kk, &s->watchdog_ms); /* 0: none */
		} else if (IS(key, "ready")) {
			static const char *const names[] = { "none", "notify", "healthy", NULL };
			int r = s->ready;
			s->ready_pos = (struct pos){ fname(L, v), v->line, v->col };
			get_enum(L, v, kk, names, &r);
			s->ready = r;
		} else if (IS(key, "ready_fd")) {
			get_int32(L, v, kk, 3, 1023, &s->ready_fd);
		} else if (IS(key, "limits")) {
			conv_limits(L, v, kk, &s->limits);
		} else if (IS(key, "nice")) {
			s->has_nice = v->type != Y_NULL;
			get_int32(L, v, kk, -20, 19, &s->nice);
		} else if (IS(key, "profiles")) {
			if (!get_strv(L, v, kk, 0, 0, &s->profiles))
				for (int i = 0; i < s->profiles.n; i++)
					if (!name_ok(s->profiles.v[i]))
						err(L, v->type == Y_SEQ ? v->kids[i] : v, kk, "bad profile name '%s'", s->profiles.v[i]);
		} else if (IS(key, "watch")) {
			if (!get_strv(L, v, kk, 0, 0, &s->watch))
				for (int i = 0; i < s->watch.n; i++)
					check_watch_pattern(L, v->type == Y_SEQ ? v->kids[i] : v, kk, s->watch.v[i]);
		} else if (IS(key, "watch_debounce")) {
			if (!get_dur(L, v, kk, &s->watch_debounce_ms) && v->type == Y_NULL)
				s->watch_debounce_ms = WATCH_DEFAULT_DEBOUNCE_MS;
			else if (s->watch_debounce_ms > WATCH_MAX_DEBOUNCE_MS)
				err(L, v, kk, "at most 1m (a change restarts the service after this long)");
		} else if (IS(key, "git")) {
			if (v->type != Y_NULL && !MLS_HAVE_GIT)
				unsupported(L, key, kk, NULL, " (this build has no git: built with NO_GIT=1)");
			conv_git(L, v, kk, &s->git, 0);
		} else if (IS(key, "critical")) {
			get_bool(L, v, kk, &s->critical);
		} else if (IS(key, "hooks")) {
			conv_hooks(L, v, kk, s);
		} else if (IS(key, "notify")) {
			if (v->type != Y_NULL)
				unsupported(L, key, kk, NULL, NULL);
			conv_notify(L, v, kk, &s->notify);
		} else if (IS(key, "log")) {
			conv_log(L, v, kk, s);
		} else if (IS(key, "tags")) {
			get_strv(L, v, kk, 0, 0, &s->tags);
		} else if (IS(key, "schedule")) {
			conv_schedule(L, v, kk, s);
		} else if (IS(key, "timeout")) {
			if (!get_dur(L, v, kk, &s->timeout_ms) && v->type != Y_NULL && s->timeout_ms <= 0)
				err(L, v, kk, "must be more than 0");
		} else if (IS(key, "runs")) {
			get_int32(L, v, kk, 1, 1000000, &s->runs);
		} else if (IS(key, "image") || IS(key, "build")) {
			if (v->type != Y_NULL)
				s->image_pos = (struct pos){ fname(L, v), v->line, v->col };
			if (IS(key, "image"))
				get_str(L, v, kk, 0, &s->image);
			else
				get_path(L, v, kk, 0, &s->build);
		} else if (IS(key, "docker_cli")) {
			/* a path is taken from its file's directory, a name from PATH */
			if (v->type == Y_SCALAR && strchr(v->s, '/'))
				get_path(L, v, kk, 0, &s->docker_cli);
			else
				get_str(L, v, kk, 0, &s->docker_cli);
		}
	}
	return have_cmd;
}

/* Rules between the keys of one service */
static int check_service(struct loader *L, const struct ynode *namenode, const struct kp *k,
			 const struct ynode *n, struct service *s, int have_cmd)
{
	/* a clash between a default and the service's own keys is the service's */
	L->unmuted = 1;
	int rc = check_service_rules(L, namenode, k, n, s, have_cmd);
	L->unmuted = 0;
	return rc;
}

static int check_service_rules(struct loader *L, const struct ynode *namenode, const struct kp *k,
			       const struct ynode *n, struct service *s, int have_cmd)
{
	const struct ynode *restart = ymap_get(n, "restart"), *replicas = ymap_get(n, "replicas");
	const struct ynode *timeout = ymap_get(n, "timeout"), *port = ymap_get(n, "port");
	const struct ynode *img = ymap_get(n, "image") ? ymap_get(n, "image") : ymap_get(n, "build");
	if (s->image || s->build)
		conv_docker(L, n, k, s);
	else if (!have_cmd && !s->git.url && !(img && img->type != Y_NULL)) /* (a bad image: said) */
		err(L, namenode, k, "missing 'command' (or 'git:', whose autoexec.txt names it, or 'image')");
	if (s->pre_deploy.argc && !s->git.url)
		err(L, ymap_get(ymap_get(n, "hooks"), "pre_deploy"), KP(KP(k, "hooks"), "pre_deploy"),
		    "runs before a deploy from git: the service has no 'git:'");
	if (s->git.url) {
		/* it runs in its checkout (STATE_DIR/git/NAME/current): a
		 * relative working_dir is taken from there, by supervise */
		const struct ynode *wd = ymap_get(n, "working_dir");
		if (wd && wd->type == Y_SCALAR && wd->s[0] != '/' && s->working_dir)
			s->working_dir = arena_strdup(L->a, wd->s);
		if (s->is_job || s->schedule || s->runs)
			err(L, ymap_get(n, "git"), KP(k, "git"), "a job cannot be deployed from git (no 'schedule' or 'runs' with 'git:')");
	}
	/* relative commands and paths run from the directory of their file */
	const char *slash = s->pos.file ? strrchr(s->pos.file, '/') : NULL;
	if (!s->working_dir && slash && !s->git.url)
		s->working_dir = arena_strndup(L->a, s->pos.file, slash == s->pos.file ? 1 : slash - s->pos.file);
	s->is_job = s->schedule || s->runs;
	const struct ynode *runs = ymap_get(n, "runs");
	if (s->schedule && s->runs)
		err(L, runs, KP(k, "runs"), "'runs' and 'schedule' are mutually exclusive");
	if (s->schedule && s->replicas > 1)
		err(L, replicas, KP(k, "replicas"), "'replicas' greater than 1 and 'schedule' are mutually exclusive: a cron job runs one instance");
	if (s->is_job) {
		if (!restart)
			s->restart = RESTART_ON_FAILURE;
		else if (s->restart == RESTART_ALWAYS)
			err(L, restart, KP(k, "restart"), "'restart: always' is not allowed for a job ('%s'); use on-failure or no",
			    s->schedule ? "schedule" : "runs");
		const char *why = s->schedule ? "schedule" : "runs";
		if (s->ready != READY_NONE)
			err(L, ymap_get(n, "ready"), KP(k, "ready"), "a job ('%s') has no readiness; remove 'ready'", why);
		if (s->health.kind != HC_NONE)
			err(L, ymap_get(n, "healthcheck"), KP(k, "healthcheck"),
			    "a job ('%s') has no health check: it is not a long-running service; remove 'healthcheck'", why);
		if (s->watchdog_ms > 0)
			err(L, ymap_get(n, "watchdog"), KP(k, "watchdog"),
			    "a job ('%s') has no watchdog: it is not a long-running service (use 'timeout' to bound a run)", why);
	} else {
		if (timeout)
			err(L, timeout, KP(k, "timeout"), "'timeout' applies only to jobs (with 'schedule' or 'runs'); a service uses stop_grace_period");
		if (s->ready == READY_HEALTHY && s->health.kind == HC_NONE)
			err(L, ymap_get(n, "ready"), KP(k, "ready"), "'ready: healthy' needs a 'healthcheck'");
	}
	if (s->port > 0 && s->port + s->replicas - 1 > 65535)
		err(L, port, KP(k, "port"), "ports %d to %d: past 65535", s->port, s->port + s->replicas - 1);
	return 0;
}

/* ---- cross checks over all services ---- */

/* A finding about service s at p; the key is "services.NAME.KEY" */
__attribute__((format(printf, 6, 7)))
static void sdiag(struct loader *L, enum diag_severity sev, const struct pos *p, const struct service *s,
		  const char *key, const char *fmt, ...)
{
	char path[256], msg[768];
	va_list ap;
	snprintf(path, sizeof path, "services.%s%s%s", s->name, key ? "." : "", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(L->d, sev, p->file, p->line, p->col, path, "%s: %s", path, msg);
}


/* Does s name ${PORT} (in any form; "$$" is an escaped '$')? */
static int names_port(const char *s)
{
	for (; s && *s; s++) {
		if (s[0] == '$' && s[1] == '$')
			s++;
		else if (!strncmp(s, "${PORT", 6) && strchr("}:-?", s[6]))
			return 1;
	}
	return 0;
}

/* Where a service names ${PORT}, or NULL */
static const struct pos *port_var_at(const struct service *s)
{
	for (int i = 0; i < s->command.argc; i++)
		if (names_port(s->command.argv[i]))
			return &s->command.pos;
	for (int i = 0; i < s->environment.n; i++)
		if (names_port(s->environment.v[i]))
			return &s->environment.pos[i];
	if (names_port(s->health.http) || names_port(s->health.tcp))
		return &s->health.pos;
	return NULL;
}

static void check_deps(struct loader *L)
{
	struct config *c = L->cfg;
	/* names known; inactive dependencies of active services */
	const char **names = arena_alloc(L->a, (c->nsvcs + 1) * sizeof *names);
	for (int i = 0; names && i < c->nsvcs; i++)
		names[i] = c->svcs[i].name;
	for (int i = 0; i < c->nsvcs; i++) {
		struct service *s = &c->svcs[i];
		for (int j = 0; j < s->ndeps; j++) {
			struct dep *d = &s->deps[j];
			struct service *t = strmap_get(&L->svc_index, d->name, strlen(d->name));
			const char *sug = !t && names ? suggest(d->name, names) : NULL;
			if (!t && sug)
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "unknown service '%s' (did you mean '%s'?)", d->name, sug);
			else if (!t)
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "unknown service '%s'", d->name);
			else if (t == s)
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "a service cannot depend on itself");
			else if (s->active && !t->active)
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "'%s' is not enabled by the active profiles", d->name);
			else if (d->cond == DEP_HEALTHY && t->is_job)
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "'%s' is a job: it has no health check, so service_healthy "
				      "would wait forever (use service_completed_successfully)", d->name);
			else if (d->cond == DEP_HEALTHY && t->health.kind == HC_NONE)
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "'%s' has no healthcheck, so service_healthy would wait forever "
				      "(give '%s' a healthcheck, or use service_started)", d->name, d->name);
			else if (d->cond == DEP_COMPLETED && !t->is_job && t->restart == RESTART_ALWAYS)
				sdiag(L, DIAG_WARNING, &d->pos, s, "depends_on", "'%s' has restart: always, so it never completes; "
				      "service_completed_successfully would wait forever", d->name);
		}
	}
	/* cycles: iterative DFS, colour 0 white, 1 on the stack, 2 done */
	int n = c->nsvcs;
	unsigned char *col = calloc(n ? n : 1, 1);
	int *stack = malloc((n ? n : 1) * sizeof *stack), *edge = malloc((n ? n : 1) * sizeof *edge);
	if (!col || !stack || !edge)
		goto out;
	for (int root = 0; root < n; root++) {
		if (col[root])
			continue;
		int sp = 0;
		stack[sp] = root;
		edge[sp] = 0;
		col[root] = 1;
		while (sp >= 0) {
			struct service *s = &c->svcs[stack[sp]];
			if (edge[sp] >= s->ndeps) {
				col[stack[sp]] = 2;
				sp--;
				continue;
			}
			struct dep *d = &s->deps[edge[sp]++];
			struct service *t = strmap_get(&L->svc_index, d->name, strlen(d->name));
			if (!t || t == s)
				continue;
			int ti = (int)(t - c->svcs);
			if (col[ti] == 0) {
				col[ti] = 1;
				stack[++sp] = ti;
				edge[sp] = 0;
			} else if (col[ti] == 1) {
				/* the cycle is the stack from ti up */
				char buf[900];
				size_t len = 0;
				int from = sp;
				while (from > 0 && stack[from] != ti)
					from--;
				for (int x = from; x <= sp && len < sizeof buf; x++)
					len += snprintf(buf + len, sizeof buf - len, "%s -> ", c->svcs[stack[x]].name);
				if (len < sizeof buf)
					snprintf(buf + len, sizeof buf - len, "%s", t->name);
				sdiag(L, DIAG_ERROR, &d->pos, s, "depends_on", "dependency cycle: %s", buf);
			}
		}
	}
out:
	free(col);
	free(stack);
	free(edge);
}

struct portuse { int port; struct service *s; int inst; };

static int portcmp(const void *a, const void *b)
{
	const struct portuse *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->s < y->s ? -1 : x->s > y->s ? 1 : x->inst - y->inst;
}

static void check_ports(struct loader *L)
{
	struct config *c = L->cfg;
	long total = 0;
	for (int i = 0; i < c->nsvcs; i++)
		if (c->svcs[i].active && c->svcs[i].port > 0)
			total += c->svcs[i].replicas;
	if (!total)
		return;
	struct portuse *u = malloc(total * sizeof *u);
	if (!u)
		return;
	long n = 0;
	for (int i = 0; i < c->nsvcs; i++) {
		struct service *s = &c->svcs[i];
		if (s->active && s->port > 0)
			for (int r = 0; r < s->replicas; r++)
				u[n++] = (struct portuse){ s->port + r, s, r + 1 };
	}
	qsort(u, n, sizeof *u, portcmp);
	/* one finding per pair of services, not per clashing instance: the
	 * first clash of each pair, found by sorting the clashes by pair */
	struct portuse (*cl)[2] = malloc(n * sizeof *cl);
	long ncl = 0;
	for (long i = 1; cl && i < n; i++)
		if (u[i].port == u[i - 1].port) {
			cl[ncl][0] = u[i];
			cl[ncl++][1] = u[i - 1];
		}
	for (long i = 0; i < ncl; i++) {
		int seen = 0;
		/* clashes are few in any real config; quadratic in them only */
		for (long j = 0; j < i && !seen && j < 10000; j++)
			seen = cl[j][0].s == cl[i][0].s && cl[j][1].s == cl[i][1].s;
		if (seen)
			continue;
		struct service *s = cl[i][0].s, *t = cl[i][1].s;
		sdiag(L, DIAG_ERROR, &s->port_pos, s, "port", "port %d of %s.%d is also the port of %s.%d (%s:%d)", cl[i][0].port,
		      s->name, cl[i][0].inst, t->name, cl[i][1].inst, t->port_pos.file ? t->port_pos.file : "?",
		      t->port_pos.line);
	}
	free(cl);
	free(u);
}

/* A program in PATH (or a path), executable? Cached per name. */
static void check_program(struct loader *L, const struct service *s, const struct command *cmd, const char *what)
{
	if (!cmd->argv || !cmd->argc)
		return;
	const char *prog = cmd->argv[0];
	char word[256];
	if (cmd->shell) {
		/* first word of a simple shell command; skip anything with shell syntax */
		const char *p = cmd->argv[2];
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t\n;|&<>()");
		if (n == 0 || n >= sizeof word)
			return;
		memcpy(word, p, n);
		word[n] = 0;
		if (strpbrk(word, "$=\"'`\\*?[{~"))
			return;
		static const char *const builtins[] = {
			"cd", "exec", "echo", "test", "[", "export", "set", "if", "for", "while", "until",
			"case", "true", "false", ":", ".", "source", "trap", "ulimit", "umask", "wait",
			"read", "printf", "kill", "eval", "exit", "sleep", "command", "type", "!", NULL
		};
		for (int i = 0; builtins[i]; i++)
			if (!strcmp(word, builtins[i]))
				return;
		prog = word;
	}
	if (strchr(prog, '$'))
		return;
	char full[PATH_MAX + 300];
	int found = 0;
	if (strchr(prog, '/')) {
		const char *dir = s->working_dir;
		char cfgdir[PATH_MAX];
		if (!dir && s->pos.file && strrchr(s->pos.file, '/')) {
			snprintf(cfgdir, sizeof cfgdir, "%.*s", (int)(strrchr(s->pos.file, '/') - s->pos.file), s->pos.file);
			dir = cfgdir;
		}
		if (dir && strchr(dir, '$'))
			return;
		if (prog[0] == '/' || !dir)
			snprintf(full, sizeof full, "%s", prog);
		else
			snprintf(full, sizeof full, "%s/%s", dir, prog);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return;
		sdiag(L, DIAG_WARNING, &cmd->pos, s, what, "'%s' %s", prog,
		      stat(full, &st) == 0 ? "is not an executable file" : "does not exist");
		return;
	}
	void *cached = strmap_get(&L->exec_cache, prog, strlen(prog));
	if (cached) {
		found = cached == (void *)2;
	} else {
		const char *path = lookup("PATH", L);
		if (!path)
			path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
		while (*path && !found) {
			size_t n = strcspn(path, ":");
			snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? path : ".", prog);
			struct stat st;
			found = stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0;
			path += n + (path[n] == ':');
		}
		char *key = arena_strdup(L->a, prog);
		if (key)
			strmap_put(&L->exec_cache, key, strlen(key), (void *)(intptr_t)(found ? 2 : 1));
	}
	if (!found)
		sdiag(L, DIAG_WARNING, &cmd->pos, s, what, "program '%s' not found in PATH", prog);
}

static void check_files(struct loader *L, struct service *s)
{
	struct stat st;
	if (s->working_dir && !strchr(s->working_dir, '$') && (stat(s->working_dir, &st) || !S_ISDIR(st.st_mode)))
		sdiag(L, DIAG_WARNING, &s->working_dir_pos, s, "working_dir", "'%s' is not a directory", s->working_dir);
	for (int i = 0; i < s->env_file.n; i++)
		if (!strchr(s->env_file.v[i], '$') && stat(s->env_file.v[i], &st))
			sdiag(L, DIAG_WARNING, &s->env_file.pos[i], s, "env_file", "'%s' does not exist (it is read at every start)",
			      s->env_file.v[i]);
	if (s->git.url)
		return; /* its files are in its checkout, made later */
	char cli[PATH_MAX];
	if (s->docker && docker_find_cli(s->docker_cli, lookup("PATH", L), cli, sizeof cli))
		sdiag(L, DIAG_WARNING, &s->image_pos, s, s->docker_cli ? "docker_cli" : s->image ? "image" : "build", "docker CLI not found%s%s%s",
		      s->docker_cli ? ": '" : " in PATH", s->docker_cli ? s->docker_cli : "", s->docker_cli ? "'" : "");
	if (s->build && (snprintf(cli, sizeof cli, "%s/Dockerfile", s->build), stat(cli, &st)))
		sdiag(L, DIAG_WARNING, &s->image_pos, s, "build", "'%s' has no Dockerfile", s->build);
	if (!s->docker)
		check_program(L, s, &s->command, "command");
	check_program(L, s, &s->pre_start, "hooks.pre_start");
	check_program(L, s, &s->post_stop, "hooks.post_stop");
}

/* ---- top level ---- */

static const char *const top_keys[] = {
	"state_dir", "log_dir", "log_level", "log_format", "include", "servers_dir", "startup",
	"control_group", "control_allow", "http", "notify", "config_git", "git_user", "defaults", "services",
	"servers_defaults", "profiles", "init", NULL
};

/* control_allow: a command name or a list of them, or `all`. Read-only
 * commands are always allowed: naming them is accepted and changes
 * nothing (so `[status]` says "read-only" as clearly as `[]`).
 * debug-clock, a test hook, cannot be granted. */
static int conv_control_allow(struct loader *L, const struct ynode *n, const struct kp *k, proto_perm *out)
{
	const char *words[PROTO_PERM_NBITS + PROTO_NREAD + 2]; /* every name accepted, "all", NULL */
	char grantable[128];                     /* for the message */
	size_t gl = 0;
	int nw = 0;
	if (n->type == Y_NULL)
		return 0; /* reset to the default */
	grantable[0] = 0;
	for (int i = 0; proto_mutating[i]; i++)
		if (!((1u << i) & PROTO_PERM_UNGRANTABLE)) {
			words[nw++] = proto_mutating[i];
			if (gl < sizeof grantable)
				gl += snprintf(grantable + gl, sizeof grantable - gl, "%s%s", gl ? ", " : "", proto_mutating[i]);
		}
	for (int i = 0; proto_read_commands[i]; i++)
		words[nw++] = proto_read_commands[i];
	words[nw++] = "all";
	words[nw] = NULL;

	if (n->type == Y_MAP)
		return err(L, n, k, "expected a string or a list of strings, got a mapping");
	proto_perm p = PROTO_PERM_NONE;
	int rc = 0;
	int cnt = n->type == Y_SEQ ? n->n : 1;
	for (int i = 0; i < cnt; i++) {
		const struct ynode *it = n->type == Y_SEQ ? n->kids[i] : n;
		const struct kp *ik = n->type == Y_SEQ ? KPI(k, i) : k;
		char *w = NULL;
		if (it->type != Y_SCALAR) {
			rc = err(L, it, ik, "expected a string, got %s", tname(it));
			continue;
		}
		if (get_str(L, it, ik, 0, &w) || !w) {
			rc = -1;
			continue;
		}
		int known = 0;
		for (int j = 0; words[j] && !known; j++)
			known = !strcmp(w, words[j]);
		if (known && !strcmp(w, "all")) {
			p = PROTO_PERM_ALL & ~(proto_perm)PROTO_PERM_UNGRANTABLE;
		} else if (known) {
			p |= proto_perm_of(w); /* 0 for a read-only one */
		} else {
			const char *sug = suggest(w, words);
			if (sug)
				rc = err(L, it, k, "unknown command '%s' (did you mean '%s'?)", w, sug);
			else
				rc = err(L, it, k, "unknown command '%s' (expected all, or some of: %s)", w, grantable);
		}
	}
	if (rc == 0)
		*out = p;
	return rc;
}

/* one token: inline or from a file (read by mls httpd), never both */
static void conv_token(struct loader *L, const struct ynode *key, const struct ynode *v, const struct kp *k,
	const struct ynode **seen, char **out, int file)
{
	if (file)
		get_path(L, v, KP(k, key->s), 0, out);
	else if (!get_str(L, v, KP(k, key->s), 0, out) && *out && strlen(*out) < HTTP_MIN_TOKEN)
		err(L, v, KP(k, key->s), "a token must be at least %d characters", HTTP_MIN_TOKEN);
	if (*seen)
		err(L, key, k, "'%s' and '%s' are mutually exclusive", (*seen)->s, key->s);
	*seen = key;
}

static int conv_http(struct loader *L, const struct ynode *n, const struct kp *k, struct http_cfg *h)
{
	static const char *const keys[] = { "listen", "tls", "token", "token_file", "read_token", "read_token_file",
		"allow", "public", "max_connections", "user", NULL };
	static const char *const pubs[] = { "healthz", "readyz", "metrics", NULL };
	h->allow = PROTO_PERM_GROUP_DEFAULT;
	h->public_ = HTTP_PUBLIC_HEALTHZ;
	h->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
	h->pos = (struct pos){ fname(L, n), n->line, n->col };
	h->enabled = 1;
	h->hash = HASH_INIT;
	hash_tree(&h->hash, n, 0);
	if (n->type != Y_NULL && check_keys(L, n, k, keys, 0))
		return -1;
	const struct ynode *tok = NULL, *rtok = NULL, *tlsn = NULL, *listen = NULL;
	int tls_set = 0;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "listen")) {
			listen = v;
			get_strv(L, v, kk, 0, 0, &h->listen);
			if (h->listen.n > HTTP_MAX_LISTEN)
				err(L, v, kk, "at most %d addresses", HTTP_MAX_LISTEN);
		} else if (IS(key, "tls")) {
			tlsn = v;
			if (v->type == Y_SCALAR) {
				static const char *const modes[] = { "off", "auto", NULL };
				int m = -1;
				if (!get_enum(L, v, kk, modes, &m) && m >= 0) {
					h->tls = m == 0 ? HTTP_TLS_OFF : HTTP_TLS_AUTO;
					tls_set = 1;
				}
				continue;
			}
			static const char *const tk[] = { "cert", "key", NULL };
			if (v->type == Y_NULL || check_keys(L, v, kk, tk, 0))
				continue;
			FOR_KEYS(v, tkey, tv) {
				if (IS(tkey, "cert"))
					get_path(L, tv, KP(kk, "cert"), 0, &h->tls_cert);
				else
					get_path(L, tv, KP(kk, "key"), 0, &h->tls_key);
			}
			if (!h->tls_cert != !h->tls_key)
				err(L, v, kk, "needs both 'cert' and 'key'");
			h->tls = HTTP_TLS_FILES;
			tls_set = 1;
		} else if (IS(key, "token") || IS(key, "token_file")) {
			conv_token(L, key, v, k, &tok, IS(key, "token") ? &h->token : &h->token_file, IS(key, "token_file"));
		} else if (IS(key, "read_token") || IS(key, "read_token_file")) {
			conv_token(L, key, v, k, &rtok, IS(key, "read_token") ? &h->read_token : &h->read_token_file,
				IS(key, "read_token_file"));
		} else if (IS(key, "allow")) {
			conv_control_allow(L, v, kk, &h->allow);
			h->allow &= ~(proto_perm)PROTO_PERM_UNGRANTABLE;
		} else if (IS(key, "public")) {
			struct strv pv = {0};
			h->public_ = 0;
			get_strv(L, v, kk, 0, 0, &pv);
			for (int i = 0; i < pv.n; i++) {
				int j = 0;
				while (pubs[j] && strcmp(pubs[j], pv.v[i]))
					j++;
				if (pubs[j])
					h->public_ |= 1u << j;
				else
					diag_add(L->d, DIAG_ERROR, pv.pos[i].file, pv.pos[i].line, pv.pos[i].col, "http.public",
						"http.public: unknown endpoint '%s' (expected some of: healthz, readyz, metrics)",
						pv.v[i]);
			}
		} else if (IS(key, "max_connections")) {
			get_int32(L, v, kk, 1, HTTP_MAX_MAX_CONNECTIONS, &h->max_connections);
		} else if (IS(key, "user")) {
			get_str(L, v, kk, 0, &h->user);
		}
	}
	if (h->listen.n == 0) {
		static char *def[] = { HTTP_DEFAULT_LISTEN };
		static struct pos defpos[1];
		defpos[0] = h->pos;
		h->listen = (struct strv){ def, defpos, 1 };
	}
	h->loopback = 1;
	for (int i = 0; i < h->listen.n; i++) {
		char host[256];
		int port;
		const struct pos *p = &h->listen.pos[i];
		if (parse_hostport(h->listen.v[i], host, sizeof host, &port)) {
			diag_add(L->d, DIAG_ERROR, p->file, p->line, p->col, "http.listen",
				"http.listen: bad address '%s' (expected HOST:PORT, e.g. 127.0.0.1:9000 or [::1]:9000)",
				h->listen.v[i]);
			continue;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(h->listen.v[j], h->listen.v[i]))
				diag_add(L->d, DIAG_ERROR, p->file, p->line, p->col, "http.listen",
					"http.listen: '%s' is listed twice", h->listen.v[i]);
		if (!host_is_loopback(host)) {
			h->loopback = 0;
			if (!tok && !rtok)
				diag_add(L->d, DIAG_ERROR, p->file, p->line, p->col, "http.listen",
					"http.listen: '%s' is not on loopback: set http.token or http.token_file",
					h->listen.v[i]);
		}
	}
	(void)listen;
	if (!tls_set)
		h->tls = h->loopback ? HTTP_TLS_OFF : HTTP_TLS_AUTO;
	else if (h->tls == HTTP_TLS_OFF && !h->loopback)
		err(L, tlsn, KP(k, "tls"), "'off' only when every http.listen address is on loopback (use auto, or cert and key)");
	if (h->token && h->read_token && !strcmp(h->token, h->read_token))
		err(L, rtok, k, "'read_token' must differ from 'token'");
	return 0;
}

static int read_file(struct loader *L, const char *path, int fileidx, const struct ynode *from, char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (from)
			err(L, from, NULL, "cannot open '%s': %s", path, strerror(e));
		else
			diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "cannot open: %s", strerror(e));
		L->d->io_error = 1;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "is a directory");
		L->d->io_error = 1;
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)CONFIG_MAX_FILE_SIZE) {
		close(fd);
		diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "file is larger than 16 MiB (%lld bytes)", (long long)st.st_size);
		return -1;
	}
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	char *buf = malloc(cap);
	size_t n = 0;
	for (;;) {
		if (!buf) {
			close(fd);
			diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "out of memory");
			return -1;
		}
		if (n == cap) {
			if (cap > CONFIG_MAX_FILE_SIZE) {
				free(buf);
				close(fd);
				diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "file is larger than 16 MiB");
				return -1;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
			continue;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "cannot read: %s", strerror(e));
			L->d->io_error = 1;
			return -1;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	if (n > CONFIG_MAX_FILE_SIZE) {
		free(buf);
		diag_add(L->d, DIAG_ERROR, path, 0, 0, NULL, "file is larger than 16 MiB");
		return -1;
	}
	(void)fileidx;
	*data = buf;
	*len = n;
	return 0;
}

static int add_file(struct loader *L, const char *path)
{
	struct config *c = L->cfg;
	char **f = arena_alloc(L->a, (c->nfiles + 1) * sizeof *f);
	if (!f)
		return -1;
	if (c->nfiles)
		memcpy(f, c->files, c->nfiles * sizeof *f);
	f[c->nfiles] = arena_strdup(L->a, path);
	if (!f[c->nfiles])
		return -1;
	c->files = f;
	return c->nfiles++;
}

/* Parse one buffer into a tree; reports YAML errors. */
static int parse_buf(struct loader *L, int idx, const char *data, size_t len, struct ynode **root)
{
	struct yerror ye;
	if (ytree_parse(L->a, data, len, idx, root, &ye)) {
		diag_add(L->d, DIAG_ERROR, L->cfg->files[idx], ye.line, ye.col, NULL, "%s", ye.msg);
		return -1;
	}
	if (*root && (*root)->type != Y_MAP) {
		err(L, *root, NULL, "expected a mapping of keys at the top level, got %s", tname(*root));
		return -1;
	}
	return 0;
}

/* Collected (name, definition) pairs, in order */
struct svcdef {
	const struct ynode *name, *def;
	int srv;          /* 1 + its index in config.servers; 0: from the config */
	uint64_t stamp;   /* srv: what a change of the entry's files changes */
};
struct svclist { struct svcdef *v; int n, cap; struct strmap idx; };

static int collect_services(struct loader *L, const struct ynode *svcs, struct svclist *out)
{
	if (!svcs || svcs->type == Y_NULL)
		return 0;
	if (svcs->type != Y_MAP)
		return err(L, svcs, KP(NULL, "services"), "expected a mapping of service names, got %s", tname(svcs));
	for (int i = 0; i + 1 < svcs->n; i += 2) {
		const struct ynode *nm = svcs->kids[i];
		intptr_t pi = (intptr_t)strmap_get(&out->idx, nm->s, nm->len);
		if (pi) {
			const struct svcdef *prev = &out->v[pi - 1];
			err(L, nm, KP(NULL, "services"), "service '%s' is already defined at %s:%d:%d", nm->s,
			    fname(L, prev->name), prev->name->line, prev->name->col);
			continue;
		}
		if (out->n >= CONFIG_MAX_SERVICES)
			return err(L, nm, KP(NULL, "services"), "more than %d services", CONFIG_MAX_SERVICES);
		struct svcdef *v = arena_grow(L->a, out->v, out->n, &out->cap, sizeof *v);
		if (!v)
			return oom(L, nm);
		out->v = v;
		/* strmap values point into v, which may move: store the index + 1 */
		out->v[out->n++] = (struct svcdef){ nm, svcs->kids[i + 1], 0, 0 };
		if (strmap_put(&out->idx, nm->s, nm->len, (void *)(intptr_t)out->n))
			return oom(L, nm);
	}
	return 0;
}

static int include_files(struct loader *L, const struct ynode *inc, struct svclist *svcs)
{
	struct strv pats = {0};
	if (!inc || get_strv(L, inc, KP(NULL, "include"), 0, 1, &pats))
		return 0;
	L->cfg->include = pats;
	int total = 0;
	for (int i = 0; i < pats.n; i++) {
		const struct ynode *at = inc->type == Y_SEQ ? inc->kids[i] : inc;
		glob_t g;
		/* a missing directory is "no match" too (no GLOB_ERR) */
		int rc = glob(pats.v[i], 0, NULL, &g);
		if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
			warn(L, at, KP(NULL, "include"), "'%s' matches no file", pats.v[i]);
			if (rc == 0)
				globfree(&g);
			continue;
		}
		if (rc) {
			err(L, at, KP(NULL, "include"), "cannot read the files of '%s'", pats.v[i]);
			continue;
		}
		for (size_t j = 0; j < g.gl_pathc; j++) {
			if (++total > CONFIG_MAX_INCLUDES) {
				err(L, at, KP(NULL, "include"), "more than %d included files", CONFIG_MAX_INCLUDES);
				break;
			}
			int idx = add_file(L, g.gl_pathv[j]);
			char *data;
			size_t len;
			struct ynode *root = NULL;
			if (idx < 0) {
				oom(L, at);
				break;
			}
			if (read_file(L, g.gl_pathv[j], idx, at, &data, &len))
				continue;
			int prc = parse_buf(L, idx, data, len, &root);
			free(data);
			if (prc || !root)
				continue;
			for (int k = 0; k + 1 < root->n; k += 2) {
				const struct ynode *key = root->kids[k];
				if (!IS(key, "services") && !is_ext_key(key))
					err(L, key, NULL, "'%s' is not allowed in an included file (only 'services')", key->s);
			}
			collect_services(L, ymap_get(root, "services"), svcs);
		}
		globfree(&g);
	}
	return 0;
}

static int profile_active(const struct config_opts *o, const struct service *s)
{
	if (s->profiles.n == 0)
		return 1;
	for (int i = 0; o && o->profiles && o->profiles[i]; i++)
		for (int j = 0; j < s->profiles.n; j++)
			if (!strcmp(o->profiles[i], s->profiles.v[j]))
				return 1;
	return 0;
}

/* Defaults merged under a service; a job keeps on-failure when the only
 * 'restart' is defaults' always (documented in docs/config.md). */
static struct ynode *apply_defaults(struct loader *L, const struct ynode *defs, const struct ynode *def)
{
	if (!defs || defs->type != Y_MAP || def->type != Y_MAP)
		return (struct ynode *)def;
	struct ynode *base = (struct ynode *)defs;
	if ((ymap_get(def, "schedule") || ymap_get(def, "runs")) && !ymap_get(def, "restart") &&
	    yscalar_is(ymap_get(defs, "restart"), "always")) {
		base = arena_alloc(L->a, sizeof *base);
		if (!base)
			return NULL;
		*base = *defs;
		base->kids = arena_alloc(L->a, defs->n * sizeof *base->kids);
		if (!base->kids)
			return NULL;
		base->n = 0;
		for (int i = 0; i + 1 < defs->n; i += 2)
			if (!IS(defs->kids[i], "restart")) {
				base->kids[base->n++] = defs->kids[i];
				base->kids[base->n++] = defs->kids[i + 1];
			}
	}
	return ytree_merge(L->a, base, (struct ynode *)def);
}

static void mute_tree(const struct ynode *n)
{
	if (n->muted)
		return;
	((struct ynode *)n)->muted = 1;
	for (int i = 0; i < n->n; i++)
		mute_tree(n->kids[i]);
}

/* The service keys of `defaults` (not its x- keys, which it never checks) */
static void mute(const struct ynode *defs)
{
	for (int i = 0; defs->type == Y_MAP && i + 1 < defs->n; i += 2)
		if (!is_ext_key(defs->kids[i])) {
			mute_tree(defs->kids[i]);
			mute_tree(defs->kids[i + 1]);
		}
}

/* `http:` (and `notify:`: httpd sends the webhooks, with no listener
 * when there is no `http:`) is served by `mls httpd`, an instance supervise runs like a
 * service (restarted with backoff, in status, its output in its log) and
 * hands its control connection as fd 3. supervise runs its own binary
 * for it (argv[0] "mls" names the multi-call binary, whatever the file is
 * called); a change of `http:` (or of state_dir, where tls: auto keeps
 * its key) or of `notify:` restarts it. */
static void add_http_service(struct loader *L, struct service *s)
{
	static char *argv[] = { "mls", "httpd", NULL };
	const struct config *c = L->cfg;
	memset(s, 0, sizeof *s);
	service_defaults(s);
	s->name = HTTP_SERVICE;
	s->pos = c->http.enabled ? c->http.pos : c->notify.pos;
	s->command = (struct command){ argv, 2, 0, s->pos };
	s->working_dir = "/";
	s->stop_grace_ms = 5000;
	s->active = 1;
	s->internal = 1;
	s->hash = hash_bytes(c->http.enabled ? c->http.hash : 0, HTTP_SERVICE, sizeof HTTP_SERVICE);
	s->hash = hash_bytes(s->hash, &c->notify.hash, sizeof c->notify.hash);
	if (c->state_dir)
		s->hash = hash_bytes(s->hash, c->state_dir, strlen(c->state_dir) + 1);
	s->hash_shape = s->hash;
}

/* `git:` of any service and `config_git:` are served by `mls gitwatch`,
 * an internal instance like mls-httpd (docs/gitwatch-protocol.md): it
 * starts as root, reads its secrets and drops to git_user itself. A change
 * of any git: mapping, of config_git, git_user or state_dir restarts it. */
static void add_git_service(struct loader *L, struct service *s)
{
	static char *argv[] = { "mls", "gitwatch", NULL };
	const struct config *c = L->cfg;
	memset(s, 0, sizeof *s);
	service_defaults(s);
	s->name = GIT_SERVICE;
	s->pos = c->config_git.url ? c->config_git.pos : (struct pos){ 0 };
	s->command = (struct command){ argv, 2, 0, s->pos };
	s->working_dir = "/";
	s->stop_grace_ms = 5000;
	s->active = 1;
	s->internal = 1;
	uint64_t h = hash_bytes(c->config_git.hash, GIT_SERVICE, sizeof GIT_SERVICE);
	for (int i = 0; i < c->nsvcs; i++) {
		const struct service *t = &c->svcs[i];
		if (t->git.url && t->active && !t->internal) {
			if (!s->pos.file)
				s->pos = t->git.pos;
			h = hash_bytes(h, t->name, strlen(t->name) + 1);
			h = hash_bytes(h, &t->git.hash, sizeof t->git.hash);
			/* what it is told about the service (has_command, ...) */
			int facts[3] = { t->command.argc > 0, t->pre_deploy.argc > 0, t->health.kind != HC_NONE };
			h = hash_bytes(h, facts, sizeof facts);
		}
	}
	if (c->git_user)
		h = hash_bytes(h, c->git_user, strlen(c->git_user) + 1);
	if (c->state_dir)
		h = hash_bytes(h, c->state_dir, strlen(c->state_dir) + 1);
	s->hash = s->hash_shape = h;
}

static int uses_git(const struct config *c)
{
	if (c->config_git.url)
		return 1;
	for (int i = 0; i < c->nsvcs; i++)
		if (c->svcs[i].git.url && c->svcs[i].active)
			return 1;
	return 0;
}

/* ---- servers_dir (docs/servers-dir.md) ---- */

/* servers_defaults, split: its own keys, and the service keys merged
 * under every discovered service */
struct srvdefs {
	const struct ynode *svc;     /* service keys (with port: auto when it has none) */
	int port_arg;
	const char *ext[64];         /* interpreters: extension -> argv */
	struct strv interp[64];
	int ninterp;
};

static struct ynode *ynew(struct loader *L, enum ynode_type t, int file, const char *s)
{
	struct ynode *n = arena_alloc(L->a, sizeof *n);
	if (!n)
		return NULL;
	n->type = t;
	n->file = file;
	n->size = 1;
	n->quoted = s != NULL;
	if (s && !(n->s = arena_strdup(L->a, s)))
		return NULL;
	n->len = s ? strlen(s) : 0;
	return n;
}

/* Appends kid (and, for a map, its value) to n; NULL kid = out of memory */
static int yput(struct loader *L, struct ynode *n, struct ynode *kid, struct ynode *val)
{
	struct ynode **k = arena_alloc(L->a, (size_t)(n->n + 2) * sizeof *k);
	if (!k || !kid || (n->type == Y_MAP && !val))
		return -1;
	if (n->n)
		memcpy(k, n->kids, (size_t)n->n * sizeof *k);
	k[n->n++] = kid;
	if (n->type == Y_MAP)
		k[n->n++] = val;
	n->kids = k;
	return 0;
}

static int srv_has_interp(const char *ext, void *ctx)
{
	const struct srvdefs *sd = ctx;
	for (int k = 0; k < sd->ninterp; k++)
		if (!strcmp(sd->ext[k], ext))
			return sd->interp[k].n > 0;
	return 0;
}

static const struct strv *srv_interp(const struct srvdefs *sd, const char *ext)
{
	for (int k = 0; ext && k < sd->ninterp; k++)
		if (!strcmp(sd->ext[k], ext))
			return sd->interp[k].n ? &sd->interp[k] : NULL;
	return NULL;
}

static void conv_srvdefs(struct loader *L, const struct ynode *n, struct srvdefs *sd)
{
	static char *py[] = { "python3" }, *sh[] = { "sh" }, *js[] = { "node" };
	const struct kp *k = KP(NULL, "servers_defaults");
	sd->ext[0] = ".py", sd->interp[0] = (struct strv){ py, NULL, 1 };
	sd->ext[1] = ".sh", sd->interp[1] = (struct strv){ sh, NULL, 1 };
	sd->ext[2] = ".js", sd->interp[2] = (struct strv){ js, NULL, 1 };
	sd->ninterp = 3;
	struct ynode *svc = ynew(L, Y_MAP, -1, NULL), *port = ynew(L, Y_SCALAR, -1, "auto");
	if (!svc || yput(L, svc, ynew(L, Y_SCALAR, -1, "port"), port))
		return (void)oom(L, n);
	sd->svc = svc;
	if (!n || n->type == Y_NULL)
		return;
	if (n->type != Y_MAP)
		return (void)err(L, n, k, "expected a mapping of service keys, got %s", tname(n));
	struct ynode *keys = ynew(L, Y_MAP, n->file, NULL);
	if (!keys)
		return (void)oom(L, n);
	*keys = *n;
	keys->n = 0;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "port_arg")) {
			get_bool(L, v, kk, &sd->port_arg);
		} else if (IS(key, "interpreters")) {
			if (v->type != Y_MAP && v->type != Y_NULL) {
				err(L, v, kk, "expected a mapping of extensions to programs (\".rb\": ruby), got %s", tname(v));
				continue;
			}
			FOR_KEYS(v, ext, prog) {
				const struct kp *ek = KP(kk, ext->s);
				const char *e = ext->s;
				int ok = e[0] == '.' && e[1] && strlen(e) < 32 && !strchr(e + 1, '.') && !strchr(e, '/');
				if (!ok) {
					err(L, ext, ek, "'%s' is not an extension (a dot, then up to 30 characters, e.g. \".rb\")", e);
					continue;
				}
				int at = 0;
				while (at < sd->ninterp && strcmp(sd->ext[at], e))
					at++;
				if (at == (int)(sizeof sd->ext / sizeof *sd->ext)) {
					err(L, ext, ek, "more than %d interpreters", (int)(sizeof sd->ext / sizeof *sd->ext));
					break;
				}
				struct strv argv = { 0 };
				if (prog->type == Y_NULL) {
					/* null: not run (a default removed) */
				} else if (get_strv(L, prog, ek, 0, 0, &argv) || argv.n == 0 || !*argv.v[0]) {
					if (argv.n == 0 || !*argv.v[0])
						err(L, prog, ek, "expected a program (a name or a list: program and its first arguments)");
					continue;
				}
				sd->ext[at] = e;
				sd->interp[at] = argv;
				if (at == sd->ninterp)
					sd->ninterp++;
			}
		} else if (yput(L, keys, (struct ynode *)key, (struct ynode *)v)) {
			return (void)oom(L, n);
		}
	}
	/* the service keys: checked once here, like defaults */
	struct service tmp = { 0 };
	L->defaults_key = "servers_defaults";
	if (check_keys(L, keys, k, service_keys, 1) == 0)
		conv_service(L, NULL, keys, &tmp);
	L->defaults_key = NULL;
	mute(keys);
	sd->svc = ytree_merge(L->a, svc, keys);
	if (!sd->svc)
		oom(L, n);
}

/* The command of a file entry or autoexec line: interpreter, file, args */
static struct ynode *srv_command(struct loader *L, int file, const struct srvdefs *sd,
				 const char *entry, char *const *args, int nargs, int use_interp)
{
	struct ynode *cmd = ynew(L, Y_SEQ, file, NULL);
	const struct strv *in = use_interp ? srv_interp(sd, srv_ext(entry)) : NULL;
	if (!cmd)
		return NULL;
	for (int k = 0; in && k < in->n; k++)
		if (yput(L, cmd, ynew(L, Y_SCALAR, file, in->v[k]), NULL))
			return NULL;
	char *p = arena_printf(L->a, "%s%s", in || strchr(entry, '/') ? "" : "./", entry);
	if (!p || yput(L, cmd, ynew(L, Y_SCALAR, file, p), NULL))
		return NULL;
	for (int k = 0; k < nargs; k++)
		if (yput(L, cmd, ynew(L, Y_SCALAR, file, args[k]), NULL))
			return NULL;
	if (sd->port_arg && yput(L, cmd, ynew(L, Y_SCALAR, file, "${PORT}"), NULL))
		return NULL;
	return cmd;
}

/* A finding about entry e: an error (validate) or, in supervise, a
 * warning, and the entry does not run */
__attribute__((format(printf, 3, 4)))
static void srv_problem(struct loader *L, struct servers_entry *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	enum diag_severity sev = L->opts && L->opts->servers_soft ? DIAG_WARNING : DIAG_ERROR;
	diag_add(L->d, sev, e->path, 0, 0, "servers_dir", "%s%s", msg,
		 sev == DIAG_WARNING ? " (not run)" : "");
	e->note = arena_strdup(L->a, msg);
	e->problem = 1;
	e->runs = 0;
}

/* Findings made while reading or converting entry e (collected in tmp,
 * then freed) into the loader's: errors are e's problems (not run) */
static int srv_absorb(struct loader *L, struct servers_entry *e, struct diags *tmp)
{
	int soft = L->opts && L->opts->servers_soft, bad = tmp->errors > 0;
	for (int k = 0; k < tmp->n; k++) {
		const struct diag *x = &tmp->v[k];
		int error = x->sev == DIAG_ERROR;
		diag_add(L->d, error && !soft ? DIAG_ERROR : DIAG_WARNING, x->file ? x->file : e->path, x->line, x->col,
			 x->key, "%s%s", x->msg, error && soft ? " (not run)" : "");
		if (error && !e->problem) {
			e->note = arena_strdup(L->a, x->msg);
			e->problem = 1;
		}
	}
	if (tmp->errors > tmp->n && !e->problem) { /* counted, not kept (ENOMEM) */
		e->note = "out of memory";
		e->problem = 1;
	}
	if (bad)
		e->runs = 0;
	diags_free(tmp);
	return bad;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One entry: its (name, definition) pairs appended to svcs, with srv set */
static void srv_entry(struct loader *L, struct servers_entry *e, int ei, const char *entry, enum srv_kind kind,
		      const struct srvdefs *sd, struct svclist *svcs)
{
	const char *defining[] = { NULL, entry, entry, "mls.yaml", "autoexec.txt", "Dockerfile", "run" };
	char *fpath = kind == SRV_EXEC || kind == SRV_SCRIPT ? e->path
			: arena_printf(L->a, "%s/%s", e->path, defining[kind]);
	int file = fpath ? add_file(L, fpath) : -1;
	struct ynode *def = NULL;
	if (file < 0)
		return (void)oom(L, NULL);
	struct diags *saved = L->d, tmp = { 0 };
	L->d = &tmp;
	if (kind == SRV_YAML) {
		char *data;
		size_t len;
		struct ynode *root = NULL;
		if (read_file(L, fpath, file, NULL, &data, &len) == 0) {
			int rc = parse_buf(L, file, data, len, &root);
			free(data);
			if (rc == 0 && !root)
				diag_add(L->d, DIAG_ERROR, fpath, 0, 0, NULL, "empty: it defines no service");
			else if (rc == 0)
				def = root;
		}
	} else {
		def = ynew(L, Y_MAP, file, NULL);
		struct ynode *cmd = NULL;
		if (kind == SRV_EXEC || kind == SRV_SCRIPT || kind == SRV_RUN) {
			cmd = srv_command(L, file, sd, kind == SRV_RUN ? "run" : entry, NULL, 0, kind == SRV_SCRIPT);
		} else if (kind == SRV_AUTOEXEC) {
			static struct autoexec a; /* 2 KiB, off PID 1's stack */
			char *data, msg[160];
			size_t len;
			if (read_file(L, fpath, file, NULL, &data, &len) == 0) {
				if (autoexec_parse(&a, data, len, msg, sizeof msg))
					diag_add(L->d, DIAG_ERROR, fpath, 0, 0, NULL, "%s", msg);
				else {
					/* the words after the entry point are its arguments */
					int skip = 0;
					while (skip < a.argc && a.argv[skip] != a.file && strcmp(a.argv[skip], a.dotfile))
						skip++;
					cmd = srv_command(L, file, sd, a.file, (char *const *)a.argv + skip + 1,
							  a.argc - skip - 1, srv_interp(sd, srv_ext(a.file)) != NULL);
					if (!strchr(a.file, '/'))
						e->trigger = arena_strdup(L->a, a.file);
				}
				free(data);
			}
		} else if (kind == SRV_DOCKER) {
			e->any_file = 1;
			if (def && yput(L, def, ynew(L, Y_SCALAR, file, "build"), ynew(L, Y_SCALAR, file, ".")))
				def = NULL;
		}
		if (def && cmd && yput(L, def, ynew(L, Y_SCALAR, file, "command"), cmd))
			def = NULL;
		if (!def && !tmp.errors)
			diag_add(L->d, DIAG_ERROR, fpath, 0, 0, NULL, "out of memory");
	}
	L->d = saved;
	if (srv_absorb(L, e, &tmp))
		return;
	if (kind == SRV_YAML && def->type != Y_MAP)
		return srv_problem(L, e, "mls.yaml: expected a mapping of service keys");
	const struct ynode *list = kind == SRV_YAML ? ymap_get(def, "services") : NULL;
	if (list && list->type != Y_MAP)
		return srv_problem(L, e, "mls.yaml: 'services' is not a mapping of service names");
	if (list) {
		for (int k = 0; k + 1 < def->n; k += 2)
			if (!IS(def->kids[k], "services") && !is_ext_key(def->kids[k]))
				return srv_problem(L, e, "mls.yaml: '%s' is not allowed here (service keys, or 'services')",
						   def->kids[k]->s);
	}
	int n = list ? list->n / 2 : 1;
	for (int k = 0; k < n; k++) {
		const struct ynode *nm = list ? list->kids[2 * k] : ynew(L, Y_SCALAR, file, e->name);
		const struct ynode *d = list ? list->kids[2 * k + 1] : def;
		struct ynode *full = nm && d->type == Y_MAP ? ytree_merge(L->a, (struct ynode *)sd->svc, (struct ynode *)d)
							     : (struct ynode *)d;
		if (!nm || !full)
			return (void)oom(L, NULL);
		struct svcdef *v = arena_grow(L->a, svcs->v, svcs->n, &svcs->cap, sizeof *v);
		if (!v)
			return (void)oom(L, NULL);
		svcs->v = v;
		svcs->v[svcs->n++] = (struct svcdef){ nm, full, ei + 1, 0 };
	}
}

/* Reads servers_dir: every entry into c->servers, the runnable ones into
 * svcs (after the configured services). Names are checked against the
 * configured services and each other: a clash runs neither entry. */
static void scan_servers(struct loader *L, const struct ynode *sdefs_node, struct svclist *svcs)
{
	struct config *c = L->cfg;
	static struct srvdefs sd;
	memset(&sd, 0, sizeof sd);
	conv_srvdefs(L, sdefs_node, &sd);
	if (!c->servers_dir || !sd.svc)
		return;
	const struct pos *at = &c->servers_dir_pos;
	DIR *d = opendir(c->servers_dir);
	if (!d && errno == ENOENT) {
		/* supervise watches for it to appear */
		diag_add(L->d, DIAG_WARNING, at->file, at->line, at->col, "servers_dir",
			 "servers_dir: '%s' does not exist (yet): no service comes from it", c->servers_dir);
		return;
	}
	if (!d) {
		diag_add(L->d, L->opts && L->opts->servers_soft ? DIAG_WARNING : DIAG_ERROR, at->file, at->line, at->col,
			 "servers_dir", "servers_dir: cannot read the directory '%s': %s", c->servers_dir, strerror(errno));
		return;
	}
	char **names = NULL;
	int n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == SERVERS_MAX_ENTRIES) {
			diag_add(L->d, DIAG_WARNING, at->file, at->line, at->col, "servers_dir",
				 "servers_dir: more than %d entries in '%s': the rest are not looked at", SERVERS_MAX_ENTRIES,
				 c->servers_dir);
			break;
		}
		char **v = arena_grow(L->a, names, n, &cap, sizeof *v);
		if (!v || !(v[n] = arena_strdup(L->a, de->d_name))) {
			oom(L, NULL);
			break;
		}
		names = v;
		n++;
	}
	closedir(d);
	if (n == 0)
		return;
	qsort(names, (size_t)n, sizeof *names, cmp_names);
	c->servers = arena_alloc(L->a, (size_t)n * sizeof *c->servers);
	enum srv_kind *kinds = arena_alloc(L->a, (size_t)n * sizeof *kinds);
	uint64_t *stamps = arena_alloc(L->a, (size_t)n * sizeof *stamps);
	struct strmap seen;
	strmap_init(&seen, L->a);
	if (!c->servers || !kinds || !stamps)
		return (void)oom(L, NULL);
	c->nservers = n;
	for (int k = 0; k < n; k++) {
		struct servers_entry *e = &c->servers[k];
		char why[200], name[64];
		e->path = arena_printf(L->a, "%s/%s", c->servers_dir, names[k]);
		kinds[k] = srv_classify(c->servers_dir, names[k], srv_has_interp, &sd, &stamps[k], why, sizeof why);
		e->kind = srv_kind_name(kinds[k]);
		int isdir = kinds[k] != SRV_EXEC && kinds[k] != SRV_SCRIPT;
		e->name = arena_strdup(L->a, srv_service_name(names[k], isdir, name, sizeof name) ? "" : name);
		if (!e->path || !e->name)
			return (void)oom(L, NULL);
		if (kinds[k] == SRV_SKIP) {
			e->note = arena_strdup(L->a, why);
			continue;
		}
		e->runs = 1;
		if (!*e->name) {
			srv_problem(L, e, "no service name can be made of '%s' (letters or digits needed)", names[k]);
			continue;
		}
		/* a second entry with this name: both out, never a silent pick */
		intptr_t prev = (intptr_t)strmap_get(&seen, e->name, strlen(e->name));
		if (prev) {
			struct servers_entry *p = &c->servers[prev - 1];
			if (p->runs)
				srv_problem(L, p, "the service name '%s' comes from both %s and %s", p->name, p->path, e->path);
			srv_problem(L, e, "the service name '%s' comes from both %s and %s", e->name, p->path, e->path);
			continue;
		}
		if (strmap_put(&seen, e->name, strlen(e->name), (void *)(intptr_t)(k + 1)))
			return (void)oom(L, NULL);
		intptr_t pi = (intptr_t)strmap_get(&svcs->idx, e->name, strlen(e->name));
		if (pi) {
			const struct ynode *nm = svcs->v[pi - 1].name;
			srv_problem(L, e, "the service name '%s' is taken by the service defined at %s:%d:%d", e->name,
				    fname(L, nm), nm->line, nm->col);
		}
	}
	for (int k = 0; k < n; k++) {
		struct servers_entry *e = &c->servers[k];
		if (!e->runs)
			continue;
		int first = svcs->n;
		srv_entry(L, e, k, names[k], kinds[k], &sd, svcs);
		for (int j = first; j < svcs->n; j++) {
			const struct ynode *nm = svcs->v[j].name;
			intptr_t pi = (intptr_t)strmap_get(&svcs->idx, nm->s, nm->len);
			if (pi) {
				srv_problem(L, e, "the service name '%s' is taken by the service defined at %s:%d:%d", nm->s,
					    fname(L, svcs->v[pi - 1].name), svcs->v[pi - 1].name->line, svcs->v[pi - 1].name->col);
				svcs->n = first;
				break;
			}
		}
		for (int j = first; e->runs && j < svcs->n; j++) {
			svcs->v[j].stamp = stamps[k];
			if (strmap_put(&svcs->idx, svcs->v[j].name->s, svcs->v[j].name->len, (void *)(intptr_t)(j + 1)))
				return (void)oom(L, NULL);
		}
	}
}

/* Top-level `profiles:` (docs/config.md, "Profiles"): NAME -> a piece of
 * config merged over the rest, key by key, when --profile NAME is active
 * (as a later -c file would be); for `watch:` in development only, say.
 * Every override is checked for its keys, active or not. Returns the root
 * to convert (NULL: out of memory). */
static struct ynode *apply_profiles(struct loader *L, struct ynode *root)
{
	const struct ynode *p = ymap_get(root, "profiles");
	const struct kp *k = KP(NULL, "profiles");
	if (!p || p->type == Y_NULL)
		return root;
	if (p->type != Y_MAP) {
		err(L, p, k, "expected a mapping of profile names to the keys they override, got %s", tname(p));
		return root;
	}
	FOR_KEYS(p, name, v) {
		const struct kp *kk = KP(k, name->s);
		if (!name_ok(name->s)) {
			err(L, name, k, "bad profile name '%s'", name->s);
			continue;
		}
		if (v->type == Y_NULL)
			continue;
		if (v->type != Y_MAP) {
			err(L, v, kk, "expected a mapping of the keys it overrides (services, defaults, ...), got %s", tname(v));
			continue;
		}
		if (check_keys(L, v, kk, top_keys, 1))
			continue;
		const struct ynode *nested = ymap_get(v, "profiles");
		if (nested) {
			err(L, nested, KP(kk, "profiles"), "a profile cannot define profiles");
			continue;
		}
		int on = 0;
		for (int i = 0; L->opts && L->opts->profiles && L->opts->profiles[i]; i++)
			on |= !strcmp(L->opts->profiles[i], name->s);
		if (on && !(root = ytree_merge(L->a, root, (struct ynode *)v))) {
			oom(L, v);
			return NULL;
		}
	}
	return root;
}

/* init: a bool, or a mapping of root_ro, tmp, mounts, sysctl, modules
 * and enabled (docs/init.md) */
static void conv_init(struct loader *L, const struct ynode *n, const struct kp *k, struct init_cfg *in)
{
	static const char *const keys[] = { "enabled", "root_ro", "tmp", "mounts", "sysctl", "modules", NULL };
	static const char *const mkeys[] = { "source", "target", "type", "options", NULL };
	in->set = 1;
	in->pos = (struct pos){ fname(L, n), n->line, n->col };
	if (!(L->opts && L->opts->init_mode) && n->type != Y_NULL)
		warn(L, n, k, "applies only when mls supervise is the system's init (PID 1 outside a container, "
			      "or --init): ignored otherwise (docs/init.md)");
	if (n->type == Y_SCALAR) {
		get_bool(L, n, k, &in->enabled);
		return;
	}
	if (n->type == Y_NULL || check_keys(L, n, k, keys, 1))
		return;
	FOR_KEYS(n, key, v) {
		const struct kp *kk = KP(k, key->s);
		if (IS(key, "enabled"))
			get_bool(L, v, kk, &in->enabled);
		else if (IS(key, "root_ro"))
			get_bool(L, v, kk, &in->root_ro);
		else if (IS(key, "tmp"))
			get_bool(L, v, kk, &in->tmp);
		else if (IS(key, "modules"))
			get_strv(L, v, kk, 0, 0, &in->modules);
		else if (IS(key, "sysctl")) {
			if (v->type == Y_NULL)
				continue;
			if (v->type != Y_MAP) {
				err(L, v, kk, "expected a mapping of keys to values (net.ipv4.ip_forward: 1), got %s", tname(v));
				continue;
			}
			int cnt = v->n / 2;
			struct strv *sk = &in->sysctl_keys, *sv = &in->sysctl_values;
			sk->v = arena_alloc(L->a, (cnt + 1) * sizeof *sk->v);
			sv->v = arena_alloc(L->a, (cnt + 1) * sizeof *sv->v);
			sk->pos = arena_alloc(L->a, (cnt + 1) * sizeof *sk->pos);
			sv->pos = arena_alloc(L->a, (cnt + 1) * sizeof *sv->pos);
			if (!sk->v || !sv->v || !sk->pos || !sv->pos)
				return (void)oom(L, v);
			FOR_KEYS(v, sy, sval) {
				char *val = NULL;
				const char *ks = sy->s;
				if (!*ks || strstr(ks, "..") || ks[0] == '/' || ks[0] == '.' || strpbrk(ks, " \t")) {
					err(L, sy, KP(kk, ks), "not a sysctl key (like net.ipv4.ip_forward)");
					continue;
				}
				if (sval->type != Y_SCALAR || get_str(L, sval, KP(kk, ks), 0, &val) || !val) {
					if (sval->type != Y_SCALAR)
						err(L, sval, KP(kk, ks), "expected a value, got %s", tname(sval));
					continue;
				}
				sk->pos[sk->n] = (struct pos){ fname(L, sy), sy->line, sy->col };
				sv->pos[sv->n] = (struct pos){ fname(L, sval), sval->line, sval->col };
				sk->v[sk->n++] = (char *)ks;
				sv->v[sv->n++] = val;
			}
		} else if (IS(key, "mounts")) {
			if (v->type == Y_NULL)
				continue;
			if (v->type != Y_SEQ) {
				err(L, v, kk, "expected a list of {source, target, type, options}, got %s", tname(v));
				continue;
			}
			in->mounts = arena_alloc(L->a, ((size_t)v->n + 1) * sizeof *in->mounts);
			if (!in->mounts)
				return (void)oom(L, v);
			for (int i = 0; i < v->n; i++) {
				const struct ynode *e = v->kids[i];
				const struct kp *ek = KPI(kk, i);
				struct init_mnt m = { .pos = { fname(L, e), e->line, e->col } };
				if (check_keys(L, e, ek, mkeys, 1))
					continue;
				FOR_KEYS(e, mk, mv) {
					const struct kp *mkk = KP(ek, mk->s);
					if (IS(mk, "source"))
						get_str(L, mv, mkk, 0, &m.source);
					else if (IS(mk, "target"))
						get_str(L, mv, mkk, 0, &m.target);
					else if (IS(mk, "type"))
						get_str(L, mv, mkk, 0, &m.type);
					else if (IS(mk, "options"))
						get_str(L, mv, mkk, 0, &m.options);
				}
				if (!m.target || m.target[0] != '/')
					err(L, e, ek, "needs target: an absolute path");
				else if (!m.type)
					err(L, e, ek, "needs type: a filesystem type (tmpfs, ext4, 9p, ...)");
				else {
					if (!m.source)
						m.source = m.type;
					in->mounts[in->nmounts++] = m;
				}
			}
		}
	}
}

static void convert(struct loader *L, struct ynode *root)
{
	struct config *c = L->cfg;
	c->log_level = LVL_INFO;
	c->log_format = LOGF_TEXT;
	c->startup = STARTUP_PARALLEL;
	c->state_dir = CONFIG_DEFAULT_STATE_DIR;
	c->control_allow = PROTO_PERM_GROUP_DEFAULT;
	c->init.enabled = -1;
	if (!root) {
		diag_add(L->d, DIAG_WARNING, c->nfiles ? c->files[0] : NULL, 0, 0, NULL, "no services defined");
		return;
	}
	root = apply_profiles(L, root);
	if (!root)
		return;
	check_keys(L, root, NULL, top_keys, 1);
	const struct ynode *defs = NULL, *allow = NULL, *sdefs = ymap_get(root, "servers_defaults");
	FOR_KEYS(root, key, v) {
		const struct kp *kk = KP(NULL, key->s);
		if (IS(key, "state_dir")) {
			get_path(L, v, kk, 0, &c->state_dir);
		} else if (IS(key, "log_dir")) {
			get_path(L, v, kk, 0, &c->log_dir);
		} else if (IS(key, "log_level")) {
			static const char *const names[] = { "debug", "info", "warn", "error", NULL };
			int x = c->log_level;
			get_enum(L, v, kk, names, &x);
			c->log_level = x;
		} else if (IS(key, "log_format")) {
			static const char *const names[] = { "text", "json", NULL };
			int x = c->log_format;
			get_enum(L, v, kk, names, &x);
			c->log_format = x;
		} else if (IS(key, "startup")) {
			static const char *const names[] = { "parallel", "sequential", NULL };
			int x = c->startup;
			get_enum(L, v, kk, names, &x);
			c->startup = x;
		} else if (IS(key, "servers_dir")) {
			c->servers_dir_pos = (struct pos){ fname(L, v), v->line, v->col };
			if (!get_path(L, v, kk, 0, &c->servers_dir) && c->servers_dir) {
				size_t n = strlen(c->servers_dir);
				while (n > 1 && c->servers_dir[n - 1] == '/')
					c->servers_dir[--n] = 0;
			}
		} else if (IS(key, "control_group")) {
			get_str(L, v, kk, 0, &c->control_group);
		} else if (IS(key, "control_allow")) {
			allow = v;
			conv_control_allow(L, v, kk, &c->control_allow);
		} else if (IS(key, "http")) {
			conv_http(L, v, kk, &c->http);
		} else if (IS(key, "notify")) {
			conv_notify(L, v, kk, &c->notify);
		} else if (IS(key, "config_git")) {
			if (v->type != Y_NULL && !MLS_HAVE_GIT)
				unsupported(L, key, kk, NULL, " (this build has no git: built with NO_GIT=1)");
			conv_git(L, v, kk, &c->config_git, 1);
		} else if (IS(key, "git_user")) {
			c->git_user_pos = (struct pos){ fname(L, v), v->line, v->col };
			if (!get_str(L, v, kk, 0, &c->git_user) && c->git_user &&
			    (!*c->git_user || !strcmp(c->git_user, "root") || !strcmp(c->git_user, "0") ||
			     !strncmp(c->git_user, "0:", 2)))
				err(L, v, kk, "gitwatch never runs as root: name another user");
		} else if (IS(key, "init")) {
			conv_init(L, v, kk, &c->init);
		} else if (IS(key, "defaults")) {
			defs = v;
			if (v->type == Y_MAP && ymap_get(v, "command"))
				warn(L, ymap_get(v, "command"), KP(kk, "command"), "a default command is given to every service that has none");
		}
	}

	if (allow && allow->type != Y_NULL && !c->control_group)
		warn(L, allow, KP(NULL, "control_allow"),
		     "has no effect without control_group (only root and the socket's owner can connect)");

	/* defaults: checked once here; what they hold is muted when it shows
	 * up again merged into each service */
	if (defs && defs->type != Y_NULL) {
		struct service tmp = { 0 };
		if (check_keys(L, defs, KP(NULL, "defaults"), service_keys, 1) == 0)
			conv_service(L, NULL, defs, &tmp);
		mute(defs);
	}

	struct svclist svcs = {0};
	strmap_init(&svcs.idx, L->a);
	collect_services(L, ymap_get(root, "services"), &svcs);
	include_files(L, ymap_get(root, "include"), &svcs);
	if (c->servers_dir && !(L->opts && L->opts->no_servers_scan))
		scan_servers(L, sdefs, &svcs);
	else if (sdefs)
		warn(L, sdefs, KP(NULL, "servers_defaults"), "has no effect without servers_dir");
	const struct ynode *sn = ymap_get(root, "services");
	if (svcs.n == 0 && !c->servers_dir && (!sn || sn->type == Y_NULL || sn->type == Y_MAP)) {
		diag_add(L->d, DIAG_WARNING, c->files[0], sn ? sn->line : 0, sn ? sn->col : 0, NULL, "no services defined");
	}

	c->svcs = arena_alloc(L->a, (svcs.n + 2) * sizeof *c->svcs); /* + HTTP_SERVICE, GIT_SERVICE */
	if (!c->svcs) {
		oom(L, root);
		return;
	}
	strmap_init(&L->svc_index, L->a);
	for (int i = 0; i < svcs.n; i++) {
		struct service *s = &c->svcs[c->nsvcs++];
		const struct ynode *def = svcs.v[i].def;
		if (defs && def->type == Y_MAP)
			def = apply_defaults(L, defs, def);
		if (!def) {
			oom(L, root);
			return;
		}
		if (svcs.v[i].srv) {
			/* a servers_dir entry: its problems are its own */
			struct servers_entry *e = &c->servers[svcs.v[i].srv - 1];
			struct diags *saved = L->d, tmp = { 0 };
			L->d = &tmp;
			conv_service(L, svcs.v[i].name, def, s);
			L->d = saved;
			if (srv_absorb(L, e, &tmp)) {
				c->nsvcs--;
				continue;
			}
			s->source = e->path;
			s->hash = hash_bytes(s->hash, &svcs.v[i].stamp, sizeof svcs.v[i].stamp);
			s->hash_shape = hash_bytes(s->hash_shape, &svcs.v[i].stamp, sizeof svcs.v[i].stamp);
		} else {
			conv_service(L, svcs.v[i].name, def, s);
		}
		s->active = profile_active(L->opts, s);
		strmap_put(&L->svc_index, s->name, strlen(s->name), s);
	}
	check_deps(L);
	check_ports(L);
	int git = uses_git(c);
	if (c->http.enabled || c->notify.n > 0)
		add_http_service(L, &c->svcs[c->nsvcs++]);
	if (git)
		add_git_service(L, &c->svcs[c->nsvcs++]);
	for (int i = 0; i < c->nsvcs; i++) {
		struct service *s = &c->svcs[i];
		const struct pos *pp = s->port == PORT_NONE ? port_var_at(s) : NULL;
		if (pp)
			sdiag(L, DIAG_ERROR, pp, s, NULL, "uses ${PORT} but has no 'port' (set port: auto or a number)");
		if (L->opts && L->opts->check_commands && s->active && !s->internal)
			check_files(L, s);
	}
}

static void loader_init(struct loader *L, struct config *cfg, const struct config_opts *opts, struct diags *d)
{
	memset(cfg, 0, sizeof *cfg);
	memset(L, 0, sizeof *L);
	cfg->arena = arena_new();
	L->cfg = cfg;
	L->a = cfg->arena;
	L->d = d;
	L->opts = opts;
	if (L->a)
		strmap_init(&L->exec_cache, L->a);
}

int config_load(struct config *cfg, const char *const *files, int nfiles,
		const struct config_opts *opts, struct diags *d)
{
	struct loader L;
	int errors0 = d->errors;
	loader_init(&L, cfg, opts, d);
	if (!L.a) {
		diag_add(d, DIAG_ERROR, NULL, 0, 0, NULL, "out of memory");
		return -1;
	}
	struct ynode *root = NULL;
	int ok = 1;
	for (int i = 0; i < nfiles; i++) {
		int idx = add_file(&L, files[i]);
		char *data;
		size_t len;
		struct ynode *t = NULL;
		if (idx < 0) {
			diag_add(d, DIAG_ERROR, files[i], 0, 0, NULL, "out of memory");
			return -1;
		}
		if (read_file(&L, files[i], idx, NULL, &data, &len)) {
			ok = 0;
			continue;
		}
		int rc = parse_buf(&L, idx, data, len, &t);
		free(data);
		if (rc) {
			ok = 0;
			continue;
		}
		root = ytree_merge(L.a, root, t);
	}
	if (ok)
		convert(&L, root);
	return d->errors > errors0 ? -1 : 0;
}

int config_load_mem(struct config *cfg, const char *name, const char *data, size_t len,
		    const struct config_opts *opts, struct diags *d)
{
	struct loader L;
	int errors0 = d->errors;
	loader_init(&L, cfg, opts, d);
	if (!L.a) {
		diag_add(d, DIAG_ERROR, NULL, 0, 0, NULL, "out of memory");
		return -1;
	}
	int idx = add_file(&L, name);
	struct ynode *root = NULL;
	if (idx < 0)
		return -1;
	if (len > CONFIG_MAX_FILE_SIZE)
		diag_add(d, DIAG_ERROR, name, 0, 0, NULL, "file is larger than 16 MiB");
	else if (parse_buf(&L, idx, data, len, &root) == 0)
		convert(&L, root);
	return d->errors > errors0 ? -1 : 0;
}

void config_free(struct config *cfg)
{
	arena_free(cfg->arena);
	memset(cfg, 0, sizeof *cfg);
}

struct service *config_find(const struct config *cfg, const char *name)
{
	for (int i = 0; i < cfg->nsvcs; i++)
		if (!strcmp(cfg->svcs[i].name, name))
			return &cfg->svcs[i];
	return NULL;
}

const char *restart_name(enum restart_policy r)
{
	return r == RESTART_ALWAYS ? "always" : r == RESTART_ON_FAILURE ? "on-failure" : "no";
}

const char *ready_name(enum ready_mode r)
{
	return r == READY_NONE ? "none" : r == READY_NOTIFY ? "notify" : "healthy";
}

const char *dep_cond_name(enum dep_cond c)
{
	return dep_conds[c];
}
