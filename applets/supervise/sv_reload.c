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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "serversdir.h"
#include "sv.h"
#include "sv_init.h"

#define DEBOUNCE_MS 250

/* limits.cpu, limits.swap and limits.io_weight exist only as cgroup v2
 * controllers: refused when this supervisor has none (docs/cgroups.md) */
static int check_cgroup_limits(const struct config *c, struct diags *d)
{
	int bad = 0;
	for (int k = 0; k < c->nsvcs; k++) {
		const struct service *s = &c->svcs[k];
		const struct limits *l = &s->limits;
		struct { int asked; unsigned ctrl; const char *key, *name; } need[] = {
			{ l->cpu > 0, CG_CPU, "cpu", "cpu" },
			{ l->swap >= 0, CG_MEMORY, "swap", "memory" },
			{ l->io_weight > 0, CG_IO, "io_weight", "io" },
		};
		for (size_t j = 0; s->active && j < sizeof need / sizeof *need; j++) {
			if (!need[j].asked || (SV.cg.ok && (SV.cg.ctrl & need[j].ctrl)))
				continue;
			const struct pos *p = j == 0 ? &l->cpu_pos : &s->pos;
			diag_add(d, DIAG_ERROR, p->file, p->line, p->col, NULL,
				"services.%s.limits.%s: needs the cgroup v2 %s controller, and this mls has %s%s", s->name,
				need[j].key, need[j].name, SV.cg.ok ? "not that one: " : "no cgroups: ",
				SV.cg.ok ? SV.cg.base : SV.cg.why);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

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
		.servers_soft = 1,
		.init_mode = sv_init_possible(),
	};
	/* the files given, then config_git's file (docs/git-deploy.md) */
	const char **files = malloc(((size_t)SV.nfiles + 1) * sizeof *files);
	if (!files) {
		free(c);
		diag_add(d, DIAG_ERROR, NULL, 0, 0, NULL, "out of memory");
		return -1;
	}
	memcpy(files, SV.files, (size_t)SV.nfiles * sizeof *files);
	if (SV.git_config)
		files[SV.nfiles] = SV.git_config;
	int rc = config_load(c, files, SV.nfiles + !!SV.git_config, &o, d);
	free(files);
	if (rc == 0)
		rc = check_cgroup_limits(c, d);
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
	for (int k = 0; k < s->ninst; k++) {
		health_free(s->inst[k]);
		child_cgroup_remove(s->inst[k]);
		inst_free(s->inst[k]);
	}
	free(s->inst);
	git_free(s);
	watch_free(s);
	free(s);
}

/* Drop removed services whose instances are all down */
void sv_sweep(void)
{
	int m = 0;
	for (int s = 0; s < SV.nsvcs; s++) {
		struct svc *v = SV.svcs[s];
		int alive = 0;
		for (int k = 0; v->removed && k < v->ninst && !alive; k++)
			alive = inst_alive(v->inst[k]);
		if (v->removed && !alive) {
			if (v->owner != SV.cfg)
				oldcfg_ref(v->owner, -1);
			svc_free(v);
			continue;
		}
		SV.svcs[m++] = v;
	}
	if (m != SV.nsvcs) {
		SV.nsvcs = m;
		sv_index();
	}
}

/* The names a reload added, removed and changed, as JSON arrays' contents */
struct changes {
	struct jbuf added, removed, changed;
	int fa, fr, fc, unchanged;
};

static void list_add(struct jbuf *b, int *notfirst, const char *name)
{
	if (*notfirst)
		jb_puts(b, ",");
	*notfirst = 1;
	jb_str(b, name);
}

static const char *text(const struct jbuf *b)
{
	return b->p ? b->p : "";
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
	struct svc **p = twin->inst ? realloc(SV.svcs, (size_t)(SV.nsvcs + 1) * sizeof *p) : NULL;
	if (!p) {
		/* cannot track it: the instances stay (the service keeps them) */
		free(twin->inst);
		free(twin);
		return;
	}
	for (int k = n; k < v->ninst; k++) {
		struct inst *i = v->inst[k];
		i->svc = twin;
		inst_step(i, EV_REMOVE, NULL);
		twin->inst[twin->ninst++] = i;
	}
	v->ninst = n;
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

/* A service of the running config, against its new version nc (NULL:
 * gone). Returns 1 when it was removed (the old config must live on). */
static int apply_one(struct svc *v, struct service *nc, struct config *ncfg, struct config *old,
	struct changes *ch)
{
	if (!nc) {
		v->removed = 1;
		for (int k = 0; k < v->ninst; k++)
			inst_step(v->inst[k], EV_REMOVE, NULL);
		list_add(&ch->removed, &ch->fr, v->cfg->name);
		return 1;
	}
	int same = v->cfg->hash == nc->hash;
	/* only replicas or healthcheck changed: no restart (health_sync
	 * makes its probe anew: the check points into the new config) */
	int replicas_only = !same && v->cfg->hash_shape == nc->hash_shape;
	int oport = v->cfg->port;
	if (!same)
		shrink(v, nc->replicas, old);
	v->cfg = nc;
	v->owner = ncfg;
	if (!nc->git.url)
		git_free(v); /* no longer from git */
	if (same)
		ch->unchanged++;
	else {
		svc_grow(v, nc->replicas);
		list_add(&ch->changed, &ch->fc, nc->name);
	}
	for (int k = 0; k < v->ninst; k++) {
		struct inst *i = v->inst[k];
		if (!same && !replicas_only) {
			if (oport != nc->port || nc->port != PORT_AUTO)
				i->port = 0;
			logsink_set_limits(&i->log, nc->log.max_size, nc->log.keep);
			inst_step(i, EV_CONFIG, NULL);
		}
		/* waiting_for points into the old config, freed below: the
		 * same dependency in the new one, or none */
		if (i->waiting_for) {
			const char *w = NULL;
			for (int d = 0; d < nc->ndeps && !w; d++)
				if (!strcmp(nc->deps[d].name, i->waiting_for))
					w = nc->deps[d].name;
			i->waiting_for = w;
		}
		/* a reload gives failed instances a new chance */
		inst_step(i, EV_RETRY, NULL);
	}
	return 0;
}

/* Services new in ncfg */
static void apply_added(struct config *ncfg, int first, struct changes *ch)
{
	for (int k = 0; k < ncfg->nsvcs; k++) {
		struct service *c = &ncfg->svcs[k];
		if (!c->active || sv_find(c->name, strlen(c->name)))
			continue;
		struct svc *v = svc_new(c, ncfg);
		struct svc **p = v ? realloc(SV.svcs, (size_t)(SV.nsvcs + 1) * sizeof *p) : NULL;
		if (p)
			SV.svcs = p;
		if (!p || svc_grow(v, c->replicas)) {
			if (v)
				svc_free(v);
			sv_log(LVL_ERROR, NULL, "out of memory adding service %s", c->name);
			continue;
		}
		SV.svcs[SV.nsvcs++] = v;
		if (!first)
			list_add(&ch->added, &ch->fa, c->name);
	}
}

/* Free the old config unless removed services still point into it */
static void drop_old(struct config *old, int old_refs)
{
	if (old_refs) {
		oldcfg_ref(old, old_refs);
		return;
	}
	for (struct oldcfg *o = SV.old; o; o = o->next)
		if (o->cfg == old)
			return; /* shrink() took a ref */
	config_free(old);
	free(old);
}

/* Apply ncfg (valid) to the running state; with SV.cfg NULL it is the
 * first load. Fills reply (when not NULL) with the protocol's reload
 * answer. Takes ownership of ncfg. */
int sv_apply(struct config *ncfg, struct jbuf *reply)
{
	struct config *old = SV.cfg;
	struct changes ch = { 0 };
	int old_refs = 0;

	/* the new config's services by name, for one lookup each */
	struct arena *a = arena_new();
	struct strmap nidx;
	strmap_init(&nidx, a);
	int indexed = a != NULL && !strmap_reserve(&nidx, (size_t)ncfg->nsvcs);
	for (int k = 0; indexed && k < ncfg->nsvcs; k++)
		if (ncfg->svcs[k].active && strmap_put(&nidx, ncfg->svcs[k].name, strlen(ncfg->svcs[k].name), &ncfg->svcs[k]))
			indexed = 0;
	int n0 = SV.nsvcs;
	for (int s = 0; s < n0; s++) {
		struct svc *v = SV.svcs[s];
		if (v->removed)
			continue;
		struct service *nc = indexed ? strmap_get(&nidx, v->cfg->name, strlen(v->cfg->name))
					     : config_find(ncfg, v->cfg->name);
		if (nc && !nc->active)
			nc = NULL;
		old_refs += apply_one(v, nc, ncfg, old, &ch);
	}
	arena_free(a);
	sv_index(); /* the removed ones are not found by name any more */
	apply_added(ncfg, !old, &ch);

	/* never silently: these two are fixed for the life of the process */
	if (old && (strcmp(ncfg->state_dir ? ncfg->state_dir : CONFIG_DEFAULT_STATE_DIR, SV.state_dir) ||
		    (!ncfg->log_dir != !SV.log_dir) || (ncfg->log_dir && strcmp(ncfg->log_dir, SV.log_dir))))
		sv_log(LVL_WARN, NULL, "state_dir and log_dir changes take effect when mls supervise starts again "
			"(still %s, %s)", SV.state_dir, SV.log_dir ? SV.log_dir : "stdout");
	SV.cfg = ncfg;
	if (old)
		drop_old(old, old_refs);
	SV.level = ncfg->log_level;
	SV.format = ncfg->log_format;
	sv_compute_order();
	watch_sync();
	if (reply)
		jb_printf(reply, "{\"ok\":true,\"added\":[%s],\"removed\":[%s],\"changed\":[%s],\"unchanged\":%d}\n",
			text(&ch.added), text(&ch.removed), text(&ch.changed), ch.unchanged);
	if (old)
		sv_emit_reload(1, text(&ch.added), text(&ch.removed), text(&ch.changed), ch.unchanged, NULL);
	jb_free(&ch.added);
	jb_free(&ch.removed);
	jb_free(&ch.changed);
	SV.reconcile_due = 1;
	return 0;
}

int sv_reload(struct jbuf *reply)
{
	struct diags d = { 0 };
	struct config *n;
	sdnotify_reloading();
	if (sv_load(&n, &d)) {
		sv_log(LVL_ERROR, NULL, "reload: the new config is invalid, nothing changed:");
		struct jbuf errs = { 0 };
		int notfirst = 0;
		for (int k = 0; k < d.n; k++) {
			char line[1024];
			diag_format(&d.v[k], line, sizeof line);
			sv_log(d.v[k].sev == DIAG_ERROR ? LVL_ERROR : LVL_WARN, NULL, "%s", line);
			if (d.v[k].sev == DIAG_ERROR)
				list_add(&errs, &notfirst, line);
		}
		if (reply)
			jb_printf(reply, "{\"ok\":false,\"error\":\"invalid config, nothing changed\",\"errors\":[%s]}\n",
				text(&errs));
		sv_emit_reload(0, NULL, NULL, NULL, 0, text(&errs));
		jb_free(&errs);
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

int sv_config_apply(const char *rev, struct jbuf *reply)
{
	char cur[4096], link[128], want[64];
	const char *path = SV.cfg->config_git.path;
	if (!SV.cfg->config_git.url || !path) {
		jb_puts(reply, "{\"ok\":false,\"error\":\"the config has no config_git\"}\n");
		return -1;
	}
	/* always the same path (gitwatch flips `current` first): a service's
	 * hash includes its file's name, so no revision restarts it for that */
	snprintf(cur, sizeof cur, "%s/git/.config/current", SV.state_dir);
	snprintf(want, sizeof want, "rev-%s", rev);
	ssize_t n = readlink(cur, link, sizeof link - 1);
	if (n < 0 || (link[n] = 0, strcmp(link, want))) {
		jb_printf(reply, "{\"ok\":false,\"error\":\"%s does not point at %s\"}\n", ".config/current", want);
		return -1;
	}
	snprintf(cur, sizeof cur, "%s/git/.config/current/%s", SV.state_dir, path);
	char *old = SV.git_config, *nc = strdup(cur);
	if (!nc) {
		jb_puts(reply, "{\"ok\":false,\"error\":\"out of memory\"}\n");
		return -1;
	}
	SV.git_config = nc;
	struct jbuf r = { 0 };
	int rc = sv_reload(&r);
	if (rc) {
		free(nc);
		SV.git_config = old;
		/* the reply's "errors":[...] are the event's */
		const char *e = r.p ? strstr(r.p, ",\"errors\":") : NULL;
		struct jbuf raw = { 0 };
		jb_printf(&raw, ",\"revision\":\"%s\"%.*s", rev, e ? (int)(strlen(e) - 2) : 0, e ? e : "");
		char msg[200];
		snprintf(msg, sizeof msg, "config_git: revision %.12s rejected: the config is invalid, nothing changed", rev);
		if (!raw.oom)
			sv_emit_service("config_rejected", LVL_ERROR, msg, raw.p, 1);
		jb_free(&raw);
	} else {
		free(old);
		sv_log(LVL_INFO, NULL, "config_git: revision %.12s applied", rev);
	}
	jb_puts(reply, r.p ? r.p : "{\"ok\":false,\"error\":\"out of memory\"}\n");
	jb_free(&r);
	return rc;
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

/* A file read for a servers_dir entry (its mls.yaml, autoexec.txt, ...):
 * watched by the servers_dir watcher, with its own rules, not here */
static int in_servers_dir(const char *file)
{
	const char *d = SV.cfg->servers_dir;
	size_t n = d ? strlen(d) : 0;
	return d && !strncmp(file, d, n) && file[n] == '/';
}

static int watched_name(const char *dir_of_wd, const char *name)
{
	for (int f = 0; f < SV.cfg->nfiles; f++) {
		char a[4096], b[4096];
		if (in_servers_dir(SV.cfg->files[f]))
			continue;
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
static void servers_sync(void);


/* Reads what inotify has for fd and calls fn on each event */
static void ino_read(int fd, void (*fn)(const struct inotify_event *e, void *ctx), void *ctx)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof buf);
	for (char *p = buf; n > 0 && p < buf + n;) {
		const struct inotify_event *e = (const struct inotify_event *)p;
		p += sizeof *e + e->len;
		fn(e, ctx);
	}
}

/* (Re)arms *timer ms from now (a debounce window pushed back) */
static void rearm(struct loop *l, int64_t *timer, int64_t ms, loop_timer_cb *cb)
{
	if (*timer)
		loop_timer_cancel(l, *timer);
	*timer = loop_timer_at(l, loop_now_ms() + ms, cb, NULL);
	if (*timer < 0)
		*timer = 0;
}

static void config_event(const struct inotify_event *e, void *ctx)
{
	int *hit = ctx;
	if (e->mask & IN_Q_OVERFLOW)
		*hit = 1;
	for (int w = 0; w < SV.nino; w++)
		if (SV.ino_wd[w] == e->wd && e->len && watched_name(ino_dirs[w], e->name))
			*hit = 1;
}

static void on_inotify(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)id;
	(void)revents;
	(void)ctx;
	int hit = 0;
	ino_read(fd, config_event, &hit);
	if (hit)
		rearm(l, &SV.ino_timer, DEBOUNCE_MS, on_debounce);
}

/* Watch the directories of every config file (a file's own watch would be
 * lost when an editor replaces it by rename) */
void sv_watch_files(void)
{
	servers_sync();
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
		if (f < SV.cfg->nfiles && in_servers_dir(SV.cfg->files[f]))
			continue;
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

/* ------------------------------------------------------------ servers_dir */

/* servers_dir (docs/servers-dir.md) is read by the loader at every load;
 * here it is watched so that a change is applied like a reload: an added
 * entry starts, a removed one stops, a changed one (its stamp is in the
 * service's hash) restarts, the others are untouched. One inotify fd for
 * as long as servers_dir is set (events that come during a reload wait in
 * it): the directory, each directory entry (their defining files), and the
 * parent while the directory does not exist. A change opens a window of
 * SERVERS_DEBOUNCE_MS, pushed back by every further event (a file copied
 * in several writes starts once) and while an entry's mtime is younger
 * than the window (a file still being written), SERVERS_SETTLE_MAX_MS at
 * most. */
#define SERVERS_DEBOUNCE_MS 300
#define SERVERS_SETTLE_MAX_MS 10000
#define SERVERS_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | \
	IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct srvwd {
	int wd;
	int what;      /* 0: servers_dir, 1: an entry directory, 2: the parent */
	char *name;    /* entry: its file name; parent: servers_dir's name */
};

static struct {
	int fd;
	int64_t id, timer, first_ms;
	char *dir;             /* what the watches are for */
	struct srvwd *w;
	int n;
	char why[300];         /* the first change of the window */
} srv = { .fd = -1 };

static const struct servers_entry *srv_find(const char *name)
{
	size_t dl = strlen(SV.cfg->servers_dir);
	for (int k = 0; k < SV.cfg->nservers; k++)
		if (!strcmp(SV.cfg->servers[k].path + dl + 1, name))
			return &SV.cfg->servers[k];
	return NULL;
}

/* 1 when an entry of the directory was modified less than a window ago */
static int srv_unsettled(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	for (int k = 0; k < SV.cfg->nservers; k++) {
		struct stat st;
		const char *path = SV.cfg->servers[k].path;
		if (srv_ignored_name(basename((char *)(path + strlen(SV.cfg->servers_dir) + 1))) ||
		    stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		int64_t m = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		if (m > now_ms - SERVERS_DEBOUNCE_MS && m <= now_ms + 1000)
			return 1;
	}
	return 0;
}

static void srv_due(struct loop *l, int64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	srv.timer = 0;
	if (srv_unsettled() && loop_now_ms() - srv.first_ms < SERVERS_SETTLE_MAX_MS) {
		srv.timer = loop_timer_at(l, loop_now_ms() + SERVERS_DEBOUNCE_MS, srv_due, NULL);
		if (srv.timer > 0)
			return;
		srv.timer = 0;
	}
	srv.first_ms = 0;
	sv_log(LVL_INFO, NULL, "servers_dir: %s: reloading", srv.why);
	sv_reload(NULL);
}

static void srv_one(const struct inotify_event *e, void *ctx)
{
	struct loop *l = ctx;
	const char *dir = SV.cfg->servers_dir;
	const struct srvwd *w = NULL;
	for (int k = 0; k < srv.n && !w; k++)
		if (srv.w[k].wd == e->wd)
			w = &srv.w[k];
	char why[300];
	why[0] = 0;
	if (e->mask & IN_Q_OVERFLOW) {
		snprintf(why, sizeof why, "events were lost (inotify queue overflow)");
	} else if (!w || !dir) {
		return;
	} else if (w->what == 2) {
		if (e->len && !strcmp(e->name, w->name))
			snprintf(why, sizeof why, "%s appeared", dir);
	} else if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		snprintf(why, sizeof why, "%s%s%s is gone", dir, w->what ? "/" : "", w->what ? w->name : "");
	} else if (w->what == 0 && e->len && !srv_ignored_name(e->name)) {
		snprintf(why, sizeof why, "%s/%s changed", dir, e->name);
	} else if (w->what == 1 && e->len && !srv_ignored_name(e->name)) {
		const struct servers_entry *se = srv_find(w->name);
		if (srv_defining_name(e->name) || (se && se->any_file) ||
		    (se && se->trigger && !strcmp(se->trigger, e->name)))
			snprintf(why, sizeof why, "%s/%s/%s changed", dir, w->name, e->name);
	}
	if (!why[0])
		return;
	if (!srv.first_ms) {
		srv.first_ms = loop_now_ms();
		snprintf(srv.why, sizeof srv.why, "%s", why);
	}
	rearm(l, &srv.timer, SERVERS_DEBOUNCE_MS, srv_due);
}

static void srv_event(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)id;
	(void)revents;
	(void)ctx;
	ino_read(fd, srv_one, l);
}

static void srv_unwatch_all(void)
{
	for (int k = 0; k < srv.n; k++) {
		if (srv.fd >= 0)
			inotify_rm_watch(srv.fd, srv.w[k].wd);
		free(srv.w[k].name);
	}
	free(srv.w);
	srv.w = NULL;
	srv.n = 0;
}

static void srv_add(struct srvwd *v, int *n, const char *path, int what, const char *name)
{
	int wd = inotify_add_watch(srv.fd, path, SERVERS_MASK);
	if (wd < 0) {
		if (what != 1)
			sv_log(LVL_WARN, NULL, "servers_dir: cannot watch %s: %s (changes apply at the next reload)", path,
				strerror(errno));
		return;
	}
	v[*n] = (struct srvwd){ wd, what, name ? strdup(name) : NULL };
	if (!name || v[*n].name)
		(*n)++;
}

/* Makes the watches match SV.cfg->servers_dir and its entries (after
 * every load). A watch kept across a reload keeps its descriptor (the
 * kernel gives the same one for the same directory), so events that came
 * during the reload are not lost. */
static void servers_sync(void)
{
	const char *dir = SV.cfg->servers_dir;
	if (!dir) {
		srv_unwatch_all();
		if (srv.id)
			loop_close_fd(SV.loop, srv.id);
		if (srv.timer)
			loop_timer_cancel(SV.loop, srv.timer);
		srv.id = srv.timer = 0;
		srv.fd = -1;
		free(srv.dir);
		srv.dir = NULL;
		return;
	}
	if (srv.fd < 0) {
		srv.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (srv.fd < 0) {
			sv_log(LVL_WARN, NULL, "servers_dir: inotify: %s: changes apply at the next reload", strerror(errno));
			return;
		}
		srv.id = loop_add_fd(SV.loop, srv.fd, POLLIN, srv_event, NULL);
		if (srv.id < 0) {
			close(srv.fd);
			srv.fd = -1;
			srv.id = 0;
			return;
		}
	}
	for (int k = 0; k < SV.cfg->nservers; k++)
		if (!SV.cfg->servers[k].runs && !SV.cfg->servers[k].problem)
			sv_log(LVL_DEBUG, NULL, "servers_dir: %s ignored: %s", SV.cfg->servers[k].path,
				SV.cfg->servers[k].note ? SV.cfg->servers[k].note : "?");
	struct srvwd *v = calloc((size_t)SV.cfg->nservers + 2, sizeof *v);
	int n = 0;
	if (!v)
		return; /* the old watches stay */
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		srv_add(v, &n, dir, 0, NULL);
		size_t dl = strlen(dir);
		for (int k = 0; k < SV.cfg->nservers; k++) {
			const char *path = SV.cfg->servers[k].path;
			if (!srv_ignored_name(path + dl + 1) && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				srv_add(v, &n, path, 1, path + dl + 1);
		}
	} else {
		char a[4096], b[4096];
		snprintf(a, sizeof a, "%s", dir);
		snprintf(b, sizeof b, "%s", dir);
		srv_add(v, &n, dirname(a), 2, basename(b));
	}
	/* the watches no longer wanted go (the same wd may now be a new one's) */
	for (int k = 0; k < srv.n; k++) {
		int kept = 0;
		for (int j = 0; j < n && !kept; j++)
			kept = v[j].wd == srv.w[k].wd;
		if (!kept)
			inotify_rm_watch(srv.fd, srv.w[k].wd);
		free(srv.w[k].name);
	}
	free(srv.w);
	srv.w = v;
	srv.n = n;
}
