/* sv_sched.c: what may run, decided over all instances: the reconcile
 * pass (dependencies, `startup: sequential`, jobs' first arming, shutdown
 * and removal in reverse dependency order), reaping (SIGCHLD becomes
 * EV_EXIT, EV_HOOK_EXIT, EV_GROUP_GONE), the dependency order, and the
 * name index that keeps all of it linear in the number of services.
 *
 * The reconcile pass runs when SV.reconcile_due says a state changed (from
 * the main loop, before it sleeps) and at once after a control request. It
 * only sends events to inst_step(). Calls sv_step.c, sv_child.c, sv_log.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "sv.h"

/* ------------------------------------------------------------- index */

/* The first svc in svcs named name (removed or not), or NULL: an open
 * addressing table of pointers, sized 2x the services */
static struct svc *by_name(const char *name, size_t len)
{
	size_t m = SV.name_cap - 1;
	for (size_t h = hash_bytes(HASH_INIT, name, len) & m;; h = (h + 1) & m) {
		struct svc *v = SV.by_name[h];
		if (!v || (strlen(v->cfg->name) == len && !memcmp(v->cfg->name, name, len)))
			return v;
	}
}

/* by_name: the first svc in svcs with a name; same_name chains the rest
 * (removed twins of a shrink); dependents: who names a service in its
 * depends_on. O(services + dependencies), in two allocations (a table of
 * 2-4 pointers per service, one pointer per dependency); on ENOMEM the
 * lookups scan. */
void sv_index(void)
{
	SV.indexed = 0;
	free(SV.by_name);
	free(SV.dep_store);
	SV.by_name = NULL;
	SV.dep_store = NULL;
	size_t cap = 16;
	while (cap < 2 * (size_t)SV.nsvcs + 2)
		cap *= 2;
	SV.by_name = calloc(cap, sizeof *SV.by_name);
	SV.name_cap = cap;
	for (int s = 0; s < SV.nsvcs; s++) {
		struct svc *v = SV.svcs[s];
		v->dependents = NULL;
		v->ndependents = 0;
		v->same_name = NULL;
	}
	if (!SV.by_name)
		return;
	for (int s = SV.nsvcs - 1; s >= 0; s--) {
		struct svc *v = SV.svcs[s];
		const char *n = v->cfg->name;
		size_t len = strlen(n), m = cap - 1, h = hash_bytes(HASH_INIT, n, len) & m;
		while (SV.by_name[h] && strcmp(SV.by_name[h]->cfg->name, n))
			h = (h + 1) & m;
		v->same_name = SV.by_name[h]; /* later ones chain after the first */
		SV.by_name[h] = v;
	}
	/* count, then fill */
	size_t used = 0;
	for (int t = 0; t < SV.nsvcs; t++) {
		const struct service *c = SV.svcs[t]->cfg;
		for (int d = 0; d < c->ndeps; d++)
			for (struct svc *v = by_name(c->deps[d].name, strlen(c->deps[d].name)); v; v = v->same_name)
				v->ndependents++, used++;
	}
	SV.dep_store = malloc((used ? used : 1) * sizeof *SV.dep_store);
	if (!SV.dep_store)
		return;
	struct svc **p = SV.dep_store;
	for (int s = 0; s < SV.nsvcs; s++) {
		struct svc *v = SV.svcs[s];
		v->dependents = p;
		p += v->ndependents;
		v->ndependents = 0;
	}
	for (int t = 0; t < SV.nsvcs; t++) {
		const struct service *c = SV.svcs[t]->cfg;
		for (int d = 0; d < c->ndeps; d++)
			for (struct svc *v = by_name(c->deps[d].name, strlen(c->deps[d].name)); v; v = v->same_name)
				v->dependents[v->ndependents++] = SV.svcs[t];
	}
	SV.indexed = 1;
}

struct svc *sv_find(const char *name, size_t len)
{
	if (SV.indexed) {
		for (struct svc *v = by_name(name, len); v; v = v->same_name)
			if (!v->removed)
				return v;
		return NULL;
	}
	for (int s = 0; s < SV.nsvcs; s++) {
		const char *n = SV.svcs[s]->cfg->name;
		if (!SV.svcs[s]->removed && strlen(n) == len && !memcmp(n, name, len))
			return SV.svcs[s];
	}
	return NULL;
}

/* ------------------------------------------------------------- order */

/* Services in dependency order (dependencies first), config order
 * otherwise (Kahn's algorithm, a FIFO seeded in the current order); cycles
 * were refused by the loader, and whatever is left goes last. */
void sv_compute_order(void)
{
	int n = SV.nsvcs;
	sv_index();
	struct svc **out = malloc((size_t)(n ? n : 1) * sizeof *out);
	int *indeg = calloc((size_t)(n ? n : 1), sizeof *indeg);
	int *pos = malloc((size_t)(n ? n : 1) * sizeof *pos);
	if (!out || !indeg || !pos || !SV.indexed) {
		free(out);
		free(indeg);
		free(pos);
		return; /* keep the order it has */
	}
	for (int s = 0; s < n; s++)
		SV.svcs[s]->order = s;
	/* indegree: the services (all with that name) each one waits for */
	for (int s = 0; s < n; s++)
		for (int k = 0; k < SV.svcs[s]->ndependents; k++)
			if (SV.svcs[s]->dependents[k] != SV.svcs[s])
				indeg[SV.svcs[s]->dependents[k]->order]++;
	int head = 0, tail = 0;
	for (int s = 0; s < n; s++)
		if (!indeg[s])
			out[tail++] = SV.svcs[s];
	while (head < tail) {
		struct svc *v = out[head++];
		for (int k = 0; k < v->ndependents; k++) {
			struct svc *w = v->dependents[k];
			if (w != v && --indeg[w->order] == 0)
				out[tail++] = w;
		}
	}
	char *done = (char *)pos; /* reuse: which are placed */
	memset(done, 0, (size_t)n);
	for (int k = 0; k < tail; k++)
		done[out[k]->order] = 1;
	for (int s = 0; s < n; s++)
		if (!done[s])
			out[tail++] = SV.svcs[s];
	for (int s = 0; s < n; s++) {
		SV.svcs[s] = out[s];
		out[s]->order = s;
	}
	free(out);
	free(indeg);
	free(pos);
}

/* ------------------------------------------------------------- reaping */

/* Whose is pid: 0 main, 1 hook, 2 health check */
static struct inst *find_pid(pid_t pid, int *kind)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			struct inst *i = SV.svcs[s]->inst[k];
			*kind = i->pid == pid ? 0 : i->hook_pid == pid ? 1 : health_owns(i, pid) ? 2 : -1;
			if (*kind >= 0)
				return i;
		}
	return NULL;
}

void sv_reap(void)
{
	int status, any = 0;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int kind;
		struct inst *i = find_pid(pid, &kind);
		any = 1;
		if (!i) {
			struct svc *g = git_hook_owner(pid);
			if (g)
				git_hook_exited(g, status);
			continue; /* else an orphan we adopted: reaped, nothing more */
		}
		if (kind == 2)
			health_exited(i, status);
		else
			inst_step(i, kind ? EV_HOOK_EXIT : EV_EXIT, &(struct step_arg){ .status = status });
	}
	if (!any)
		return;
	/* instances whose main process is gone but whose group lingered */
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++) {
			struct inst *i = SV.svcs[s]->inst[k];
			if (i->pid <= 0 && i->pgid > 0 && !child_group_alive(i))
				inst_step(i, EV_GROUP_GONE, NULL);
		}
}

/* ---------------------------------------------------------- reconcile */

/* Is dependency `d` of a service met? Sets *why when not. */
static int dep_met(const struct dep *d, const char **why)
{
	struct svc *dep = sv_find(d->name, strlen(d->name));
	if (!dep) {
		*why = "is not in the config";
		return 0;
	}
	for (int k = 0; k < dep->ninst; k++) {
		enum inst_state st = dep->inst[k]->state;
		if (d->cond == DEP_COMPLETED ? st != ST_EXITED : st != ST_RUNNING) {
			*why = st == ST_FAILED ? "failed" : d->cond == DEP_COMPLETED ? "has not completed" : "is not running";
			return 0;
		}
		if (d->cond == DEP_HEALTHY && dep->inst[k]->health != H_HEALTHY) {
			*why = "is not healthy";
			return 0;
		}
	}
	return 1;
}

int sv_all_down(void)
{
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++)
			if (inst_alive(SV.svcs[s]->inst[k]))
				return 0;
	return 1;
}

static int svc_alive(const struct svc *v)
{
	for (int k = 0; k < v->ninst; k++)
		if (inst_alive(v->inst[k]))
			return 1;
	return 0;
}

/* Does any live instance of a service that depends on `s` remain? */
static int has_live_dependent(const struct svc *s)
{
	/* instances removed by a `replicas` shrink: the service itself stays
	 * (its other instances serve the dependents), so they go at once */
	if (s->removed && sv_find(s->cfg->name, strlen(s->cfg->name)))
		return 0;
	/* mls's own (mls-httpd) go last at shutdown: the API and the event
	 * stream show the others stopping */
	if (SV.shutting_down && s->cfg->internal) {
		for (int t = 0; t < SV.nsvcs; t++)
			if (!SV.svcs[t]->cfg->internal && svc_alive(SV.svcs[t]))
				return 1;
		return 0;
	}
	if (SV.indexed) {
		for (int k = 0; k < s->ndependents; k++)
			if (svc_alive(s->dependents[k]))
				return 1;
		return 0;
	}
	for (int t = 0; t < SV.nsvcs; t++) {
		const struct svc *o = SV.svcs[t];
		for (int d = 0; d < o->cfg->ndeps; d++)
			if (!strcmp(o->cfg->deps[d].name, s->cfg->name) && svc_alive(o))
				return 1;
	}
	return 0;
}

/* Shutdown and removal: stop in reverse dependency order */
static void reconcile_down(void)
{
	if (SV.shutting_down)
		git_kill_hooks(); /* a deploy's hook does not hold the shutdown up */
	for (int s = SV.nsvcs - 1; s >= 0; s--) {
		struct svc *v = SV.svcs[s];
		if (!SV.shutting_down && !v->removed)
			continue;
		if (has_live_dependent(v))
			continue;
		for (int k = 0; k < v->ninst; k++)
			inst_step(v->inst[k], EV_TEARDOWN, NULL);
	}
}

/* One instance that may start: its first job arming, or its dependencies.
 * Returns 1 when it was started, -1 when it may start but `busy` (startup:
 * sequential) holds it, 0 otherwise. */
static int reconcile_inst(struct inst *i, int busy)
{
	const struct service *c = i->svc->cfg;
	/* scheduled jobs wait for their time; @reboot runs once */
	if (c->schedule && !(c->cron.flags & CRON_REBOOT)) {
		if (i->is_new) {
			inst_step(i, EV_JOB_ARM, NULL);
			return 0;
		}
		if (!i->job_due)
			return 0; /* between runs */
	}
	if (c->git.url && !git_has_revision(i->svc)) {
		char r[160];
		inst_step(i, EV_WAIT, &(struct step_arg){ .why = git_wait_reason(i->svc, r, sizeof r) });
		return 0;
	}
	for (int d = 0; d < c->ndeps; d++) {
		const char *why = NULL;
		if (!dep_met(&c->deps[d], &why)) {
			char r[160];
			snprintf(r, sizeof r, "waiting for %s (%s): it %s", c->deps[d].name, dep_cond_name(c->deps[d].cond),
				why);
			inst_step(i, EV_WAIT, &(struct step_arg){ .why = r, .dep = c->deps[d].name });
			return 0;
		}
	}
	if (busy)
		return -1;
	inst_step(i, EV_START, NULL);
	return 1;
}

void sv_reconcile(void)
{
	SV.reconcile_due = 0;
	for (int s = 0; s < SV.nsvcs; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++)
			health_sync(SV.svcs[s]->inst[k]);
	reconcile_down();
	if (SV.shutting_down)
		return;
	int seq = SV.cfg->startup == STARTUP_SEQUENTIAL;
	int busy = 0; /* startup: sequential: one instance starting at a time */
	for (int s = 0; seq && s < SV.nsvcs && !busy; s++)
		for (int k = 0; k < SV.svcs[s]->ninst; k++)
			if (SV.svcs[s]->inst[k]->state == ST_STARTING)
				busy = 1;
	for (int s = 0; s < SV.nsvcs; s++) {
		struct svc *v = SV.svcs[s];
		if (v->removed)
			continue;
		for (int k = 0; k < v->ninst; k++) {
			struct inst *i = v->inst[k];
			if (i->want != WANT_RUN || inst_alive(i))
				continue;
			if (i->state != ST_WAITING && !(i->state == ST_STOPPED && i->is_new))
				continue;
			/* sequential: the first that may start while another
			 * one is starting ends the pass */
			int r = reconcile_inst(i, busy);
			if (r < 0)
				return;
			if (r > 0 && seq && i->state == ST_STARTING)
				busy = 1;
		}
	}
}
