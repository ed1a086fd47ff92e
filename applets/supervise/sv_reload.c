/* sv_reload.c: loading the config (first time and reloads), applying a new
 * one to the running services, watching the files with inotify, and the
 * state journal.
 *
 * A reload builds the new config completely first; if it has any error,
 * nothing changes. Otherwise services are matched by name: same hash =
 * untouched (same processes), only `replicas` changed = instances added
 * or removed, anything else changed = restarted, gone = stopped in
 * reverse dependency order and then dropped. Failed instances get a new
 * chance (the restart limit is reset), as after `ctl start`. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "cJSON.h"
#include "sv.h"

#define DEBOUNCE_MS 250

int sv_load(struct config **out, struct diags *d)
{
	struct config *c = calloc(1, sizeof *c);
	if (!c) {
		diag_add(d, DIAG_ERROR, NULL, 0, 0, NULL, "out of memory");
		return -1;
	}
	struct config_opts o = {
		.profiles = SV.profiles,
		.unsupported = DIAG_ERROR,
	};
	int rc = config_load(c, SV.files, SV.nfiles, &o, d);
	diag_sort(d);
	if (rc) {
		config_free(c);
		free(c);
		return -1;
	}
	config_compact(c); /* on ENOMEM it stays as loaded: bigger, still right */
	*out = c;
	return 0;
}

static void oldcfg_ref(struct config *c, int delta)
{
	for (struct oldcfg **p = &SV.old; *p; p = &(*p)->next)
		if ((*p)->cfg == c) {
			(*p)->refs += delta;
			if ((*p)->refs <= 0) {
				struct oldcfg *o = *p;
				*p = o->next;
				config_free(o->cfg);
				free(o->cfg);
				free(o);
			}
			return;
		}
	if (delta > 0) {
		struct oldcfg *o = calloc(1, sizeof *o);
		if (!o)
			return; /* leaked, not freed under a live pointer */
		o->cfg = c;
		o->refs = delta;
		o->next = SV.old;
		SV.old = o;
	}
}

static struct svc *svc_new(struct service *c, struct config *owner)
{
	struct svc *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = c;
	s->owner = owner;
	return s;
}

static int svc_grow(struct svc *s, int n)
{
	/* never below ninst: a shrink() that failed (ENOMEM) keeps them all */
	if (n < s->ninst)
		n = s->ninst;
	struct inst **p = realloc(s->inst, (size_t)(n ? n : 1) * sizeof *p);
	if (!p)
		return -1;
	s->inst = p;
	while (s->ninst < n) {
		struct inst *i = inst_new(s, s->ninst + 1);
		if (!i)
			return -1;
		s->inst[s->ninst++] = i;
	}
	return 0;
}

static void svc_free(struct svc *s)
{
	for (int k = 0; k < s->ninst; k++)
		inst_free(s->inst[k]);
	free(s->inst);
	free(s);
}

/* Drop removed services whose instances are all down */
void sv_sweep(void)
{
	int m = 0;
	for (int s = 0; s < SV.nsvcs; s++) {
		struct svc *v = SV.svcs[s];
		int alive = 0;
		for (int k = 0; k < v->ninst && !alive; k++)
			alive = inst_alive(v->inst[k]);
		if (v->removed && !alive) {
			if (v->owner != SV.cfg)
				oldcfg_ref(v->owner, -1);
			svc_free(v);
			continue;
		}
		SV.svcs[m++] = v;
	}
	SV.nsvcs = m;
}

static struct svc *live_svc(const char *name)
{
	for (int s = 0; s < SV.nsvcs; s++)
		if (!SV.svcs[s]->removed && !strcmp(SV.svcs[s]->cfg->name, name))
			return SV.svcs[s];
	return NULL;
}

static void list_add(struct jbuf *b, int *first, const char *name)
{
	if (!*first)
		jb_puts(b, ",");
	*first = 0;
	jb_str(b, name);
}

/* Mark a service's instances above `n` as removed: they move into a
 * removed twin that keeps the old config alive until they are down */
static void shrink(struct svc *v, int n, struct config *old)
{
	if (v->ninst <= n)
		return;
	struct svc *twin = svc_new(v->cfg, old);
	if (!twin)
		return;
	twin->removed = 1;
	twin->inst = calloc((size_t)(v->ninst - n), sizeof *twin->inst);
	if (!twin->inst) {
		free(twin);
		return;
	}
	for (int k = n; k < v->ninst; k++) {
		struct inst *i = v->inst[k];
		i->svc = twin;
		i->remove_after_stop = 1;
		twin->inst[twin->ninst++] = i;
	}
	v->ninst = n;
	struct svc **p = realloc(SV.svcs, (size_t)(SV.nsvcs + 1) * sizeof *p);
	if (!p) {
		/* cannot track it: stop the instances now and keep them */
		v->ninst += twin->ninst;
		for (int k = 0; k < twin->ninst; k++)
			twin->inst[k]->svc = v;
		free(twin->inst);
		free(twin);
		return;
	}
	SV.svcs = p;
	SV.svcs[SV.nsvcs++] = twin;
	/* always: shrink() runs in sv_apply() before SV.cfg becomes the new
	 * config, so old == SV.cfg here, and sv_sweep() drops this ref */
	oldcfg_ref(old, 1);
	/* the twin's cfg must outlive the new config swap: point it into old */
	for (int t = 0; t < old->nsvcs; t++)
		if (!strcmp(old->svcs[t].name, v->cfg->name))
			twin->cfg = &old->svcs[t];
}

/* Apply ncfg (valid) to the running state; with SV.cfg NULL it is the
 * first load. Fills reply (when not NULL) with the protocol's reload
 * answer. Takes ownership of ncfg. */
int sv_apply(struct config *ncfg, struct jbuf *reply)
{
	struct config *old = SV.cfg;
	struct jbuf added = { 0 }, removed = { 0 }, changed = { 0 };
	int fa = 1, fr = 1, fc = 1, unchanged = 0;
	int old_refs = 0;

	/* existing services: keep, change or remove */
	int n0 = SV.nsvcs;
	for (int s = 0; s < n0; s++) {
		struct svc *v = SV.svcs[s];
		if (v->removed)
			continue;
		struct service *nc = config_find(ncfg, v->cfg->name);
		if (nc && !nc->active)
			nc = NULL;
		if (!nc) {
			v->removed = 1;
			for (int k = 0; k < v->ninst; k++)
				v->inst[k]->remove_after_stop = 1;
			old_refs++;
			list_add(&removed, &fr, v->cfg->name);
			continue;
		}
		uint64_t oh = v->cfg->hash, os = v->cfg->hash_shape;
		int oport = v->cfg->port;
		const char *name = nc->name;
		if (oh == nc->hash) {
			v->cfg = nc;
			v->owner = ncfg;
			unchanged++;
		} else if (os == nc->hash_shape) {
			shrink(v, nc->replicas, old);
			v->cfg = nc;
			v->owner = ncfg;
			svc_grow(v, nc->replicas);
			list_add(&changed, &fc, name);
		} else {
			shrink(v, nc->replicas, old);
			v->cfg = nc;
			v->owner = ncfg;
			svc_grow(v, nc->replicas);
			for (int k = 0; k < v->ninst; k++) {
				struct inst *i = v->inst[k];
				if (oport != nc->port || nc->port != PORT_AUTO)
					i->port = 0;
				logsink_set_limits(&i->log, nc->log.max_size, nc->log.keep);
				if (i->down)
					continue;
				if (inst_alive(i)) {
					i->restart_after_stop = 1;
					i->nstarts = 0;
					i->quick = 0;
					inst_stop(i, "config changed");
				} else if (i->state != ST_STOPPED || i->is_new || nc->schedule) {
					i->nstarts = 0;
					i->quick = 0;
					i->state = ST_WAITING;
					i->reason[0] = 0;
					/* a job: its new schedule, from now (and not a
					 * run at once) */
					if (nc->schedule)
						i->is_new = 1;
				}
			}
			list_add(&changed, &fc, name);
		}
		/* a reload gives failed instances a new chance */
		for (int k = 0; k < v->ninst; k++) {
			struct inst *i = v->inst[k];
			/* waiting_for points into the old config, freed below:
			 * the same dependency in the new one, or none */
			if (i->waiting_for) {
				const char *w = NULL;
				for (int d = 0; d < nc->ndeps && !w; d++)
					if (!strcmp(nc->deps[d].name, i->waiting_for))
						w = nc->deps[d].name;
				i->waiting_for = w;
			}
			if (i->state == ST_FAILED && !i->down) {
				i->nstarts = 0;
				i->quick = 0;
				i->state = ST_WAITING;
			}
		}
	}
	if (old && old_refs)
		oldcfg_ref(old, old_refs);
	/* removed twins made by shrink() point into old already */

	/* new services */
	for (int k = 0; k < ncfg->nsvcs; k++) {
		struct service *c = &ncfg->svcs[k];
		if (!c->active || live_svc(c->name))
			continue;
		struct svc *v = svc_new(c, ncfg);
		struct svc **p = v ? realloc(SV.svcs, (size_t)(SV.nsvcs + 1) * sizeof *p) : NULL;
		if (!p || svc_grow(v, c->replicas)) {
			if (v)
				svc_free(v);
			sv_log(LVL_ERROR, NULL, "out of memory adding service %s", c->name);
			continue;
		}
		SV.svcs = p;
		SV.svcs[SV.nsvcs++] = v;
		if (old)
			list_add(&added, &fa, c->name);
	}
	/* never silently: these two are fixed for the life of the process */
	if (old && (strcmp(ncfg->state_dir ? ncfg->state_dir : CONFIG_DEFAULT_STATE_DIR, SV.state_dir) ||
		    (!ncfg->log_dir != !SV.log_dir) || (ncfg->log_dir && strcmp(ncfg->log_dir, SV.log_dir))))
		sv_log(LVL_WARN, NULL, "state_dir and log_dir changes take effect when mls supervise starts again "
			"(still %s, %s)", SV.state_dir, SV.log_dir ? SV.log_dir : "stdout");
	SV.cfg = ncfg;
	if (old && !old_refs) {
		/* nothing points into it any more unless shrink() took a ref */
		int refd = 0;
		for (struct oldcfg *o = SV.old; o; o = o->next)
			refd |= o->cfg == old;
		if (!refd) {
			config_free(old);
			free(old);
		}
	}
	SV.level = ncfg->log_level;
	SV.format = ncfg->log_format;
	sv_compute_order();
	if (reply) {
		jb_puts(reply, "{\"ok\":true,\"added\":[");
		jb_raw(reply, added.p ? added.p : "", added.len);
		jb_puts(reply, "],\"removed\":[");
		jb_raw(reply, removed.p ? removed.p : "", removed.len);
		jb_puts(reply, "],\"changed\":[");
		jb_raw(reply, changed.p ? changed.p : "", changed.len);
		jb_printf(reply, "],\"unchanged\":%d}\n", unchanged);
	}
	if (old) {
		sv_log(LVL_INFO, NULL, "config reloaded: added [%s], removed [%s], changed [%s], %d unchanged",
			added.p ? added.p : "", removed.p ? removed.p : "", changed.p ? changed.p : "", unchanged);
		struct jbuf ev = { 0 };
		jb_puts(&ev, ",\"ok\":true,\"added\":[");
		jb_raw(&ev, added.p ? added.p : "", added.len);
		jb_puts(&ev, "],\"removed\":[");
		jb_raw(&ev, removed.p ? removed.p : "", removed.len);
		jb_puts(&ev, "],\"changed\":[");
		jb_raw(&ev, changed.p ? changed.p : "", changed.len);
		jb_puts(&ev, "]");
		if (!ev.oom)
			sv_event_raw("reload", ev.p);
		jb_free(&ev);
	}
	jb_free(&added);
	jb_free(&removed);
	jb_free(&changed);
	sv_reconcile_soon();
	return 0;
}

int sv_reload(struct jbuf *reply)
{
	struct diags d = { 0 };
	struct config *n;
	if (sv_load(&n, &d)) {
		sv_log(LVL_ERROR, NULL, "reload: the new config is invalid, nothing changed:");
		struct jbuf ev = { 0 };
		if (reply)
			jb_puts(reply, "{\"ok\":false,\"error\":\"invalid config, nothing changed\",\"errors\":[");
		jb_puts(&ev, ",\"ok\":false,\"errors\":[");
		int first = 1;
		for (int k = 0; k < d.n; k++) {
			char line[1024];
			diag_format(&d.v[k], line, sizeof line);
			sv_log(d.v[k].sev == DIAG_ERROR ? LVL_ERROR : LVL_WARN, NULL, "%s", line);
			if (d.v[k].sev != DIAG_ERROR)
				continue;
			if (!first) {
				jb_puts(&ev, ",");
				if (reply)
					jb_puts(reply, ",");
			}
			first = 0;
			jb_str(&ev, line);
			if (reply)
				jb_str(reply, line);
		}
		if (reply)
			jb_puts(reply, "]}\n");
		jb_puts(&ev, "]");
		if (!ev.oom)
			sv_event_raw("reload", ev.p);
		jb_free(&ev);
		diags_free(&d);
		return -1;
	}
	for (int k = 0; k < d.n; k++) {
		char line[1024];
		sv_log(LVL_WARN, NULL, "%s", diag_format(&d.v[k], line, sizeof line));
	}
	diags_free(&d);
	sv_apply(n, reply);
	sv_watch_files();
	return 0;
}

/* ------------------------------------------------------------ inotify */

static void on_debounce(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	(void)ctx;
	SV.ino_timer = 0;
	sv_log(LVL_INFO, NULL, "config files changed: reloading");
	sv_reload(NULL);
}

static int watched_name(const char *dir_of_wd, const char *name)
{
	for (int f = 0; f < SV.cfg->nfiles; f++) {
		char a[4096], b[4096];
		snprintf(a, sizeof a, "%s", SV.cfg->files[f]);
		snprintf(b, sizeof b, "%s", SV.cfg->files[f]);
		if (!strcmp(basename(a), name) && !strcmp(dirname(b), dir_of_wd))
			return 1;
	}
	/* a file added to (or removed from) an include glob's directory */
	for (int p = 0; p < SV.cfg->include.n; p++) {
		char a[4096], b[4096];
		snprintf(a, sizeof a, "%s", SV.cfg->include.v[p]);
		snprintf(b, sizeof b, "%s", SV.cfg->include.v[p]);
		if (!strcmp(dirname(b), dir_of_wd) && !fnmatch(basename(a), name, FNM_PERIOD))
			return 1;
	}
	return 0;
}

static char **ino_dirs;

static void on_inotify(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)id;
	(void)revents;
	(void)ctx;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof buf);
	if (n <= 0)
		return;
	int hit = 0;
	for (char *p = buf; p < buf + n;) {
		struct inotify_event *e = (struct inotify_event *)p;
		p += sizeof *e + e->len;
		if (e->mask & IN_Q_OVERFLOW) {
			hit = 1;
			continue;
		}
		for (int w = 0; w < SV.nino; w++)
			if (SV.ino_wd[w] == e->wd && e->len && watched_name(ino_dirs[w], e->name))
				hit = 1;
	}
	if (hit) {
		if (SV.ino_timer)
			loop_timer_cancel(l, SV.ino_timer);
		SV.ino_timer = loop_timer_at(l, loop_now_ms() + DEBOUNCE_MS, on_debounce, NULL);
		if (SV.ino_timer < 0)
			SV.ino_timer = 0;
	}
}

/* Watch the directories of every config file (a file's own watch would be
 * lost when an editor replaces it by rename) */
void sv_watch_files(void)
{
	if (SV.ino_id)
		loop_close_fd(SV.loop, SV.ino_id);
	SV.ino_id = 0;
	for (int w = 0; w < SV.nino; w++)
		free(ino_dirs[w]);
	free(ino_dirs);
	free(SV.ino_wd);
	ino_dirs = NULL;
	SV.ino_wd = NULL;
	SV.nino = 0;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		sv_log(LVL_WARN, NULL, "inotify: %s: config changes are not watched (SIGHUP or ctl reload still work)",
			strerror(errno));
		return;
	}
	/* the files' directories, then the include globs' (new files) */
	int nw = SV.cfg->nfiles + SV.cfg->include.n;
	SV.ino_wd = calloc((size_t)nw + 1, sizeof *SV.ino_wd);
	ino_dirs = calloc((size_t)nw + 1, sizeof *ino_dirs);
	if (!SV.ino_wd || !ino_dirs) {
		close(fd);
		return;
	}
	for (int f = 0; f < nw; f++) {
		char b[4096];
		snprintf(b, sizeof b, "%s", f < SV.cfg->nfiles ? SV.cfg->files[f] : SV.cfg->include.v[f - SV.cfg->nfiles]);
		char *dir = dirname(b);
		if (f >= SV.cfg->nfiles && strpbrk(dir, "*?["))
			continue; /* a glob in the directory part: not watched for new files */
		int seen = 0;
		for (int w = 0; w < SV.nino; w++)
			seen |= !strcmp(ino_dirs[w], dir);
		if (seen)
			continue;
		int wd = inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM);
		if (wd < 0)
			continue;
		ino_dirs[SV.nino] = strdup(dir);
		if (!ino_dirs[SV.nino])
			continue;
		SV.ino_wd[SV.nino++] = wd;
	}
	SV.ino_id = loop_add_fd(SV.loop, fd, POLLIN, on_inotify, NULL);
	if (SV.ino_id < 0) {
		SV.ino_id = 0;
		close(fd);
	}
}

/* ------------------------------------------------------------ journal */

void sv_journal(const char *ev, struct inst *i, const char *extra, int sync)
{
	if (SV.journal.fd < 0)
		return;
	char line[JOURNAL_LINE_MAX];
	int n;
	if (i)
		n = snprintf(line, sizeof line, "{\"t\":%lld,\"ev\":\"%s\",\"svc\":\"%s\",\"inst\":%d%s}",
			(long long)wall_ms(), ev, i->svc->cfg->name, i->idx, extra ? extra : "");
	else
		n = snprintf(line, sizeof line, "{\"t\":%lld,\"ev\":\"%s\"%s}", (long long)wall_ms(), ev,
			extra ? extra : "");
	if (n <= 0 || n >= (int)sizeof line)
		return;
	if (journal_append(&SV.journal, line, (size_t)n, sync) < 0) {
		static int64_t warned;
		if (loop_now_ms() - warned > 60000) {
			warned = loop_now_ms();
			sv_log(LVL_WARN, NULL, "journal %s: %s", SV.journal.path, strerror(errno));
		}
	}
}

static void replay_line(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	cJSON *o = cJSON_ParseWithLength(line, len);
	if (!o)
		return;
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "ev");
	const cJSON *svc = cJSON_GetObjectItemCaseSensitive(o, "svc");
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "inst");
	if (cJSON_IsString(ev) && cJSON_IsString(svc) && cJSON_IsNumber(in)) {
		struct svc *v = live_svc(svc->valuestring);
		int idx = in->valueint;
		if (v && idx >= 1 && idx <= v->ninst) {
			struct inst *i = v->inst[idx - 1];
			if (!strcmp(ev->valuestring, "start") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "restart")))
				i->restarts++;
			else if (!strcmp(ev->valuestring, "exit")) {
				const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
				const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
				const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
				const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "signal");
				const cJSON *up = cJSON_GetObjectItemCaseSensitive(o, "uptime_ms");
				i->has_exit = 1;
				i->last_code = cJSON_IsNumber(code) ? code->valueint : -1;
				i->last_sig = cJSON_IsNumber(sig) ? sig->valueint : 0;
				inst_add_exit(i, cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0,
					cJSON_IsNumber(pid) ? pid->valueint : 0, i->last_code, i->last_sig,
					cJSON_IsNumber(up) ? (int64_t)up->valuedouble : 0);
			}
		}
	}
	cJSON_Delete(o);
}

void sv_journal_replay(void)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/journal", SV.state_dir);
	int n = journal_replay(path, replay_line, NULL);
	if (n > 0)
		sv_log(LVL_INFO, NULL, "journal: %d entries read from %s", n, path);
	if (journal_open(&SV.journal, path) < 0)
		sv_log(LVL_WARN, NULL, "journal %s: %s (restart counts will not survive a restart of mls)", path,
			strerror(errno));
}
