/* sv_watch.c: `watch:`, a service restarted when its files change
 * (docs/config.md, "watch").
 *
 * One inotify fd for every service, made when the first service with
 * `watch:` appears. Each service watches the directories under its
 * working_dir that its patterns can match (lib/pathglob.h), found by a walk
 * that never follows a symlink; a directory created later (or moved in)
 * is added, with a look at what it already holds (files written before its
 * watch existed count as changes). A watch descriptor maps to (service,
 * directory); two services watching one directory share the kernel's
 * descriptor, which is removed with its last user.
 *
 * A change that matches arms one timer (watch_debounce): when it fires,
 * the instances that are wanted running restart through the normal stop
 * path, with the reason "watch: FILE changed" (the first file of the
 * window). Nothing else is armed: no change, no wakeup.
 *
 * Bounded: WATCH_MAX_DIRS directories per service, and the kernel's own
 * limit (max_user_watches: inotify_add_watch() fails with ENOSPC); either
 * stops the walk with one error naming the service and the limit, logged
 * and sent as the event `watch_limit`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pathglob.h"
#include "sv.h"

#define WATCH_MAX_DIRS 4096 /* directories watched per service */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ONLYDIR | \
	IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct svcwatch {
	uint64_t key;      /* of the patterns and the base: watched anew when it changes */
	char *base;        /* the directory the patterns are relative to */
	int ndirs;         /* directories watched */
	int full;          /* a limit was reached (logged once) */
	int64_t timer;     /* the debounce window, 0 = none */
	char file[256];    /* the first change of the window */
};

struct wdir {
	int wd;
	struct svc *svc;   /* NULL: dropped (compacted after the batch) */
	char *rel;         /* under the base, "" for the base itself */
};

static int ino_fd = -1;
static int64_t ino_id;
static struct wdir *dirs;
static int ndirs, capdirs;

static uint64_t key_of(const struct service *c)
{
	uint64_t h = 1469598103934665603ULL;
	for (int k = 0; k < c->watch.n; k++)
		for (const char *p = c->watch.v[k];; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			if (!*p)
				break;
		}
	for (const char *p = c->working_dir ? c->working_dir : "."; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ^ (uint64_t)!!c->git.url;
}

static void limit_reached(struct svc *s, const char *path, const char *what)
{
	struct svcwatch *w = s->watch;
	if (w->full)
		return;
	w->full = 1;
	char msg[600];
	snprintf(msg, sizeof msg, "%s: watch: %s: %.300s and what is under it are not watched", s->cfg->name, what, path);
	struct jbuf raw = { 0 };
	jb_puts(&raw, ",\"service\":");
	jb_str(&raw, s->cfg->name);
	jb_puts(&raw, ",\"error\":");
	jb_str(&raw, msg + strlen(s->cfg->name) + 2);
	sv_emit_service("watch_limit", LVL_ERROR, msg, raw.oom ? "" : raw.p, 0);
	jb_free(&raw);
}

/* The kernel's limit for this user (the user namespace's, which is
 * fs.inotify.max_user_watches outside one), or -1 */
static long kernel_limit(void)
{
	char buf[32];
	int fd = open("/proc/sys/user/max_inotify_watches", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/proc/sys/fs/inotify/max_user_watches", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10); /* no fscanf: it would pull musl's scanf in */
}

/* Watch base/rel for s: 0, or -1 (a limit, or it could not be watched) */
static int add_dir(struct svc *s, const char *rel)
{
	struct svcwatch *w = s->watch;
	char path[4096];
	snprintf(path, sizeof path, "%s%s%s", w->base, *rel ? "/" : "", rel);
	if (w->ndirs >= WATCH_MAX_DIRS) {
		char what[80];
		snprintf(what, sizeof what, "%d directories watched, the limit", WATCH_MAX_DIRS);
		limit_reached(s, path, what);
		return -1;
	}
	/* a symlink is followed for the base only (the walk never follows one) */
	int wd = inotify_add_watch(ino_fd, path, *rel ? WATCH_MASK : WATCH_MASK & ~(uint32_t)IN_DONT_FOLLOW);
	if (wd < 0) {
		if (errno == ENOSPC) {
			char what[160];
			snprintf(what, sizeof what, "the kernel's inotify watch limit is reached (max_user_watches %ld; "
				"raise fs.inotify.max_user_watches)", kernel_limit());
			limit_reached(s, path, what);
		} else if (!*rel)
			sv_log(LVL_WARN, NULL, "%s: watch: %s: %s", s->cfg->name, path, strerror(errno));
		return -1;
	}
	for (int k = 0; k < ndirs; k++)
		if (dirs[k].wd == wd && dirs[k].svc == s)
			return -1; /* already (the same directory under two names) */
	if (ndirs == capdirs) {
		int cap = capdirs ? 2 * capdirs : 16;
		struct wdir *p = realloc(dirs, (size_t)cap * sizeof *p);
		if (!p)
			return -1;
		dirs = p;
		capdirs = cap;
	}
	char *r = strdup(rel);
	if (!r)
		return -1;
	dirs[ndirs++] = (struct wdir){ wd, s, r };
	w->ndirs++;
	return 0;
}

static void changed(struct svc *s, const char *rel);

/* Adds rel and the directories under it that the patterns can reach,
 * breadth first (the entries appended are the queue). fresh: the
 * directory is new, so the files already in it are changes. */
static void add_tree(struct svc *s, const char *rel, int fresh)
{
	int first = ndirs;
	if (add_dir(s, rel) < 0)
		return;
	for (int q = first; q < ndirs; q++) {
		if (dirs[q].svc != s)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s%s%s", s->watch->base, *dirs[q].rel ? "/" : "", dirs[q].rel);
		DIR *d = opendir(path);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char sub[4096];
			if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", dirs[q].rel, *dirs[q].rel ? "/" : "", e->d_name) >=
			    sizeof sub)
				continue;
			int isdir = e->d_type == DT_DIR;
			if (e->d_type == DT_UNKNOWN) {
				struct stat st;
				char full[8192];
				snprintf(full, sizeof full, "%s/%s", path, e->d_name);
				isdir = lstat(full, &st) == 0 && S_ISDIR(st.st_mode);
			}
			const struct service *c = s->cfg;
			if (isdir) {
				if (glob_list_dir(c->watch.v, c->watch.n, sub) && add_dir(s, sub) < 0 && s->watch->full)
					break;
			} else if (fresh && glob_list_match(c->watch.v, c->watch.n, sub))
				changed(s, sub);
		}
		closedir(d);
		if (s->watch->full)
			break;
	}
}

/* Drops s's entries at rel and under it ("" and all: every one) */
static void drop_under(struct svc *s, const char *rel, int all)
{
	size_t n = strlen(rel);
	for (int k = 0; k < ndirs; k++) {
		struct wdir *d = &dirs[k];
		if (d->svc != s || (!all && strncmp(d->rel, rel, n)) || (!all && d->rel[n] && d->rel[n] != '/'))
			continue;
		int shared = 0;
		for (int j = 0; j < ndirs && !shared; j++)
			shared = j != k && dirs[j].svc && dirs[j].wd == d->wd;
		if (!shared)
			inotify_rm_watch(ino_fd, d->wd);
		d->svc = NULL;
		s->watch->ndirs--;
	}
}

static void compact(void)
{
	int m = 0;
	for (int k = 0; k < ndirs; k++) {
		if (dirs[k].svc)
			dirs[m++] = dirs[k];
		else
			free(dirs[k].rel);
	}
	ndirs = m;
}

static void on_window(struct loop *l, int64_t id, void *ctx)
{
	(void)l;
	(void)id;
	struct svc *s = ctx;
	s->watch->timer = 0;
	if (SV.shutting_down || s->removed)
		return;
	char why[300];
	snprintf(why, sizeof why, "watch: %s changed", s->watch->file);
	sv_log(LVL_INFO, NULL, "%s: %s: restarting", s->cfg->name, why);
	for (int k = 0; k < s->ninst; k++)
		if (s->inst[k]->want == WANT_RUN)
			inst_restart(s->inst[k], why);
	SV.reconcile_due = 1;
}

/* A matching file changed: the window opens (or is open already) */
static void changed(struct svc *s, const char *rel)
{
	struct svcwatch *w = s->watch;
	sv_log(LVL_DEBUG, NULL, "%s: watch: %s changed", s->cfg->name, rel);
	if (w->timer)
		return;
	snprintf(w->file, sizeof w->file, "%s", rel);
	w->timer = loop_timer_at(SV.loop, loop_now_ms() + s->cfg->watch_debounce_ms, on_window, s);
	if (w->timer < 0)
		w->timer = 0;
}

static void on_event(const struct inotify_event *e)
{
	if (e->mask & IN_Q_OVERFLOW) {
		for (int k = 0; k < SV.nsvcs; k++)
			if (SV.svcs[k]->watch)
				changed(SV.svcs[k], "(many files: the kernel's event queue overflowed)");
		return;
	}
	int n = ndirs; /* entries added by this event are not its targets */
	for (int k = 0; k < n; k++) {
		if (dirs[k].wd != e->wd || !dirs[k].svc)
			continue;
		struct svc *s = dirs[k].svc;
		if (e->mask & IN_IGNORED) {
			/* the directory is gone (or no longer watched) */
			dirs[k].svc = NULL;
			s->watch->ndirs--;
			continue;
		}
		if (!e->len)
			continue;
		char rel[4096];
		if ((size_t)snprintf(rel, sizeof rel, "%s%s%s", dirs[k].rel, *dirs[k].rel ? "/" : "", e->name) >= sizeof rel)
			continue;
		const struct service *c = s->cfg;
		if (e->mask & IN_ISDIR) {
			if ((e->mask & (IN_CREATE | IN_MOVED_TO)) && !s->watch->full &&
			    glob_list_dir(c->watch.v, c->watch.n, rel))
				add_tree(s, rel, 1);
			else if (e->mask & IN_MOVED_FROM)
				drop_under(s, rel, 0);
		} else if (glob_list_match(c->watch.v, c->watch.n, rel))
			changed(s, rel);
	}
}

static void on_inotify(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l;
	(void)id;
	(void)revents;
	(void)ctx;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof buf); /* one read per round: bounded */
	for (char *p = buf; n > 0 && p < buf + n;) {
		const struct inotify_event *e = (const struct inotify_event *)p;
		p += sizeof *e + e->len;
		on_event(e);
	}
	compact();
}

void watch_free(struct svc *s)
{
	if (!s->watch)
		return;
	drop_under(s, "", 1);
	compact();
	if (s->watch->timer)
		loop_timer_cancel(SV.loop, s->watch->timer);
	free(s->watch->base);
	free(s->watch);
	s->watch = NULL;
}

static int watch_open(void)
{
	if (ino_fd >= 0)
		return 0;
	ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino_fd < 0) {
		sv_log(LVL_ERROR, NULL, "watch: inotify: %s: no service is restarted on file changes", strerror(errno));
		return -1;
	}
	ino_id = loop_add_fd(SV.loop, ino_fd, POLLIN, on_inotify, NULL);
	if (ino_id < 0) {
		sv_log(LVL_ERROR, NULL, "watch: %s: no service is restarted on file changes", strerror(errno));
		close(ino_fd);
		ino_fd = -1;
		ino_id = 0;
		return -1;
	}
	return 0;
}

static char *base_of(const struct service *c)
{
	char buf[4096];
	if (c->git.url && !(c->working_dir && c->working_dir[0] == '/')) {
		git_path(buf, sizeof buf, c->name, "current");
		if (c->working_dir)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "/%s", c->working_dir);
	} else
		snprintf(buf, sizeof buf, "%s", c->working_dir ? c->working_dir : ".");
	return strdup(buf);
}

void watch_sync(void)
{
	for (int k = 0; k < SV.nsvcs; k++) {
		struct svc *s = SV.svcs[k];
		int want = !s->removed && s->cfg->watch.n > 0;
		uint64_t key = want ? key_of(s->cfg) : 0;
		if (s->watch && (!want || s->watch->key != key))
			watch_free(s);
		if (!want || s->watch || watch_open() < 0)
			continue;
		if (strstr(s->cfg->working_dir ? s->cfg->working_dir : "", "${")) {
			sv_log(LVL_WARN, NULL, "%s: watch: a working_dir that differs per instance is not watched",
				s->cfg->name);
			continue;
		}
		s->watch = calloc(1, sizeof *s->watch);
		if (!s->watch || !(s->watch->base = base_of(s->cfg))) {
			free(s->watch);
			s->watch = NULL;
			sv_log(LVL_ERROR, NULL, "%s: watch: out of memory", s->cfg->name);
			continue;
		}
		s->watch->key = key;
		add_tree(s, "", 0);
		sv_log(LVL_DEBUG, NULL, "%s: watch: %d director%s under %s", s->cfg->name, s->watch->ndirs,
			s->watch->ndirs == 1 ? "y" : "ies", s->watch->base);
	}
}
