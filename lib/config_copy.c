/* config_compact: move a loaded config into a fresh arena holding only
 * what the structs point to, so the loader's YAML tree, hash maps and
 * scratch go away. supervise keeps its config for its whole life: at
 * 1,000 services this takes its size from about 2 MB to about 1 MB. */
#include <string.h>
#include "arena.h"
#include "config.h"

struct cp {
	struct arena *a;
	const struct config *from;
	char **files; /* the new files[] */
	int oom;
};

static char *str(struct cp *c, const char *s)
{
	if (!s)
		return NULL;
	char *p = arena_strdup(c->a, s);
	if (!p)
		c->oom = 1;
	return p;
}

/* positions point into files[]: map them to the new copies */
static struct pos pos(struct cp *c, struct pos p)
{
	for (int k = 0; k < c->from->nfiles; k++)
		if (p.file == c->from->files[k]) {
			p.file = c->files[k];
			return p;
		}
	if (p.file)
		p.file = str(c, p.file);
	return p;
}

static void *mem(struct cp *c, const void *src, size_t n)
{
	if (!src || !n)
		return NULL;
	void *p = arena_alloc(c->a, n);
	if (!p) {
		c->oom = 1;
		return NULL;
	}
	memcpy(p, src, n);
	return p;
}

static char **strs(struct cp *c, char **v, int n)
{
	if (!v)
		return NULL;
	char **r = arena_alloc(c->a, (size_t)(n + 1) * sizeof *r);
	if (!r) {
		c->oom = 1;
		return NULL;
	}
	for (int k = 0; k < n; k++)
		r[k] = str(c, v[k]);
	return r;
}

static void strv(struct cp *c, struct strv *s)
{
	struct pos *ps = s->pos;
	s->v = strs(c, s->v, s->n);
	s->pos = mem(c, ps, (size_t)s->n * sizeof *ps);
	for (int k = 0; ps && s->pos && k < s->n; k++)
		s->pos[k] = pos(c, ps[k]);
}

static void notify(struct cp *c, struct notify_cfg *nc)
{
	nc->t = mem(c, nc->t, (size_t)nc->n * sizeof *nc->t);
	for (int k = 0; nc->t && k < nc->n; k++) {
		struct notify_target *t = &nc->t[k];
		t->url = str(c, t->url);
		strv(c, &t->services);
		t->secret = str(c, t->secret);
		strv(c, &t->headers);
		t->ca_file = str(c, t->ca_file);
		t->pos = pos(c, t->pos);
	}
	nc->pos = pos(c, nc->pos);
}

static void git(struct cp *c, struct git_cfg *g)
{
	g->url = str(c, g->url);
	g->ref = str(c, g->ref);
	g->token_file = str(c, g->token_file);
	g->username = str(c, g->username);
	g->password_file = str(c, g->password_file);
	g->ca_file = str(c, g->ca_file);
	g->path = str(c, g->path);
	g->pos = pos(c, g->pos);
}

static void command(struct cp *c, struct command *m)
{
	m->argv = strs(c, m->argv, m->argc);
	m->pos = pos(c, m->pos);
}

static void init_cfg(struct cp *c, struct init_cfg *in)
{
	in->mounts = mem(c, in->mounts, (size_t)in->nmounts * sizeof *in->mounts);
	for (int k = 0; in->mounts && k < in->nmounts; k++) {
		struct init_mnt *m = &in->mounts[k];
		m->source = str(c, m->source);
		m->target = str(c, m->target);
		m->type = str(c, m->type);
		m->options = str(c, m->options);
		m->pos = pos(c, m->pos);
	}
	strv(c, &in->sysctl_keys);
	strv(c, &in->sysctl_values);
	strv(c, &in->modules);
	in->pos = pos(c, in->pos);
}

static void service(struct cp *c, struct service *s)
{
	s->name = str(c, s->name);
	s->pos = pos(c, s->pos);
	command(c, &s->command);
	s->working_dir = str(c, s->working_dir);
	s->working_dir_pos = pos(c, s->working_dir_pos);
	strv(c, &s->environment);
	strv(c, &s->env_file);
	s->user = str(c, s->user);
	s->port_pos = pos(c, s->port_pos);
	struct dep *d = s->deps;
	s->deps = mem(c, d, (size_t)s->ndeps * sizeof *d);
	for (int k = 0; s->deps && k < s->ndeps; k++) {
		s->deps[k].name = str(c, d[k].name);
		s->deps[k].pos = pos(c, d[k].pos);
	}
	s->health.http = str(c, s->health.http);
	s->health.tcp = str(c, s->health.tcp);
	command(c, &s->health.exec);
	s->health.pos = pos(c, s->health.pos);
	s->ready_pos = pos(c, s->ready_pos);
	s->limits.cpu_pos = pos(c, s->limits.cpu_pos);
	strv(c, &s->profiles);
	strv(c, &s->watch);
	git(c, &s->git);
	command(c, &s->pre_start);
	command(c, &s->pre_deploy);
	command(c, &s->post_stop);
	notify(c, &s->notify);
	strv(c, &s->tags);
	s->schedule = str(c, s->schedule);
	s->source = str(c, s->source);
	s->image = str(c, s->image);
	s->build = str(c, s->build);
	s->docker_cli = str(c, s->docker_cli);
	s->image_pos = pos(c, s->image_pos);
}

int config_compact(struct config *cfg)
{
	struct cp c = { .a = arena_new(), .from = cfg };
	if (!c.a)
		return -1;
	struct config n = *cfg;
	c.files = strs(&c, cfg->files, cfg->nfiles);
	n.files = c.files;
	n.state_dir = str(&c, cfg->state_dir);
	n.log_dir = str(&c, cfg->log_dir);
	strv(&c, &n.include);
	n.servers_dir = str(&c, cfg->servers_dir);
	n.servers_dir_pos = pos(&c, cfg->servers_dir_pos);
	n.servers = mem(&c, cfg->servers, (size_t)cfg->nservers * sizeof *cfg->servers);
	for (int k = 0; n.servers && k < cfg->nservers; k++) {
		struct servers_entry *e = &n.servers[k];
		e->path = str(&c, e->path);
		e->name = str(&c, e->name);
		e->note = str(&c, e->note);
		e->trigger = str(&c, e->trigger);
	}
	n.control_group = str(&c, cfg->control_group);
	strv(&c, &n.http.listen);
	n.http.tls_cert = str(&c, cfg->http.tls_cert);
	n.http.tls_key = str(&c, cfg->http.tls_key);
	n.http.token_file = str(&c, cfg->http.token_file);
	n.http.token = str(&c, cfg->http.token);
	n.http.read_token_file = str(&c, cfg->http.read_token_file);
	n.http.read_token = str(&c, cfg->http.read_token);
	n.http.user = str(&c, cfg->http.user);
	n.http.pos = pos(&c, cfg->http.pos);
	notify(&c, &n.notify);
	git(&c, &n.config_git);
	n.git_user = str(&c, cfg->git_user);
	n.git_user_pos = pos(&c, cfg->git_user_pos);
	init_cfg(&c, &n.init);
	n.svcs = mem(&c, cfg->svcs, (size_t)cfg->nsvcs * sizeof *cfg->svcs);
	for (int k = 0; n.svcs && k < cfg->nsvcs; k++)
		service(&c, &n.svcs[k]);
	if (c.oom || (cfg->nsvcs && !n.svcs) || (cfg->nservers && !n.servers)) {
		arena_free(c.a);
		return -1; /* cfg is untouched and still valid */
	}
	n.arena = c.a;
	arena_free(cfg->arena);
	*cfg = n;
	return 0;
}
