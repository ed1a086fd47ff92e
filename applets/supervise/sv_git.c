/* sv_git.c: what supervise does for services deployed from git.
 *
 * libgit2 and the deploy state machine live in mls gitwatch (an internal
 * instance, docs/gitwatch-protocol.md); supervise only keeps what gitwatch
 * tells it through `annotate` (the revision in `current`, its ref, the
 * deploy phase, autoexec.txt's command), holds a git service `waiting`
 * until it has a revision, runs hooks.pre_deploy when gitwatch asks, and
 * sends the deploy events down the one event path. Nothing here reads git
 * data: the values are bounded words of the control protocol.
 *
 * Calls sv_child.c, sv_event.c, sv_log.c and lib/. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "gitdeploy.h"
#include "parse.h"
#include "sv.h"

#define GIT_ARGS_MAX 64        /* words of autoexec.txt's command */
#define GIT_VALUE_MAX 1024     /* bytes of one decoded value */

static const char *const phases[] = {
	"cloning", "updating", "verifying", "deployed", "rolled_back", "failed", NULL
};

static struct svcgit *git_of(struct svc *s)
{
	if (!s->git)
		s->git = calloc(1, sizeof *s->git);
	return s->git;
}

static void free_args(struct svcgit *g)
{
	for (int k = 0; k < g->argc; k++)
		free(g->argv[k]);
	free(g->argv);
	g->argv = NULL;
	g->argc = 0;
}

void git_free(struct svc *s)
{
	struct svcgit *g = s->git;
	if (!g)
		return;
	if (g->hook_pid > 0)
		kill(-g->hook_pid, SIGKILL); /* reaped as an orphan */
	if (g->hook_timer)
		loop_timer_cancel(SV.loop, g->hook_timer);
	free_args(g);
	free(g->ref);
	free(g->message);
	free(g);
	s->git = NULL;
}

int git_has_revision(const struct svc *s)
{
	return s->git && s->git->revision[0];
}

/* "deployed 3f2a9c1", "rolled back from 9b1e0d2: crashed twice",
 * "failed: MESSAGE", "cloning"...; "" when gitwatch said nothing yet */
const char *git_display(const struct svc *s, char *buf, size_t size)
{
	const struct svcgit *g = s->git;
	buf[0] = 0;
	if (!g || !g->phase[0])
		return buf;
	const char *m = g->message ? g->message : "";
	if (!strcmp(g->phase, "deployed") || !strcmp(g->phase, "verifying"))
		snprintf(buf, size, "%s %.7s", g->phase, g->revision);
	else if (!strcmp(g->phase, "rolled_back"))
		snprintf(buf, size, "rolled back from %.7s%s%s", g->from, *m ? ": " : "", m);
	else if (!strcmp(g->phase, "failed"))
		snprintf(buf, size, "failed%s%s", *m ? ": " : "", m);
	else
		snprintf(buf, size, "%s", g->phase);
	return buf;
}

/* mls-gitwatch's instance is running (it reads deploy requests) */
int git_watcher_up(void)
{
	for (int k = 0; k < SV.nsvcs; k++) {
		const struct svc *v = SV.svcs[k];
		if (v->cfg->internal && !v->removed && !strcmp(v->cfg->name, GIT_SERVICE))
			return v->ninst > 0 && v->inst[0]->state == ST_RUNNING;
	}
	return 0;
}

const char *git_wait_reason(const struct svc *s, char *buf, size_t size)
{
	if (!git_watcher_up())
		snprintf(buf, size, "waiting for %s", GIT_SERVICE);
	else if (!git_display(s, buf, size)[0])
		snprintf(buf, size, "cloning");
	return buf;
}

void git_status_json(struct jbuf *b, const struct svc *s)
{
	const struct svcgit *g = s->git;
	if (!s->cfg->git.url)
		return;
	char d[512];
	jb_puts(b, ",\"revision\":");
	jb_str(b, g && g->revision[0] ? g->revision : NULL);
	jb_puts(b, ",\"deploy\":");
	jb_str(b, git_display(s, d, sizeof d)[0] ? d : NULL);
	jb_puts(b, ",\"git\":{\"phase\":");
	jb_str(b, g && g->phase[0] ? g->phase : NULL);
	jb_puts(b, ",\"ref\":");
	jb_str(b, g ? g->ref : NULL);
	jb_puts(b, ",\"from\":");
	jb_str(b, g && g->from[0] ? g->from : NULL);
	jb_puts(b, ",\"message\":");
	jb_str(b, g ? g->message : NULL);
	jb_puts(b, ",\"url\":");
	jb_str(b, s->cfg->git.url);
	jb_puts(b, "}");
}

static int set_str(char **p, const char *v)
{
	char *d = *v ? strdup(v) : NULL;
	if (*v && !d)
		return -1;
	free(*p);
	*p = d;
	return 0;
}

void git_add_deploy(struct svc *s, int64_t time_ms, const char *type, const char *rev, const char *from,
	const char *msg)
{
	struct svcgit *g = git_of(s);
	if (!g)
		return;
	if (g->ndeploys == SV_HISTORY) {
		memmove(g->deploys, g->deploys + 1, (SV_HISTORY - 1) * sizeof *g->deploys);
		g->ndeploys--;
	}
	struct deployrec *d = &g->deploys[g->ndeploys++];
	d->time_ms = time_ms;
	snprintf(d->type, sizeof d->type, "%s", type);
	snprintf(d->revision, sizeof d->revision, "%s", rev ? rev : "");
	snprintf(d->from, sizeof d->from, "%s", from ? from : "");
	snprintf(d->message, sizeof d->message, "%s", msg ? msg : "");
}

void git_history_json(struct jbuf *b, const struct svc *s)
{
	const struct svcgit *g = s->git;
	if (!s->cfg->git.url)
		return;
	jb_puts(b, ",\"deploys\":[");
	for (int k = 0; g && k < g->ndeploys; k++) {
		const struct deployrec *d = &g->deploys[k];
		jb_printf(b, "%s{\"time\":%lld,\"event\":\"%s\",\"revision\":", k ? "," : "", (long long)d->time_ms, d->type);
		jb_str(b, d->revision[0] ? d->revision : NULL);
		jb_puts(b, ",\"from\":");
		jb_str(b, d->from[0] ? d->from : NULL);
		jb_puts(b, ",\"message\":");
		jb_str(b, d->message[0] ? d->message : NULL);
		jb_puts(b, "}");
	}
	jb_puts(b, "]");
}

/* The deploy events: service-level, with the fields of this annotate */
static void emit_deploy(const struct svc *s, const char *type)
{
	const struct svcgit *g = s->git;
	const char *m = g->message ? g->message : "";
	char msg[700];
	if (!strcmp(type, "deployed"))
		snprintf(msg, sizeof msg, "%s: deployed %.12s%s%s", s->cfg->name, g->revision, g->ref ? " from " : "",
			g->ref ? g->ref : "");
	else if (!strcmp(type, "up_to_date"))
		snprintf(msg, sizeof msg, "%s: up to date (%.12s)", s->cfg->name, g->revision);
	else if (!strcmp(type, "rolled_back"))
		snprintf(msg, sizeof msg, "%s: rolled back from %.12s to %.12s: %s", s->cfg->name, g->from, g->revision, m);
	else
		snprintf(msg, sizeof msg, "%s: deploy failed: %s", s->cfg->name, m);
	struct jbuf raw = { 0 };
	jb_puts(&raw, ",\"service\":");
	jb_str(&raw, s->cfg->name);
	jb_puts(&raw, ",\"revision\":");
	jb_str(&raw, g->revision[0] ? g->revision : NULL);
	jb_puts(&raw, ",\"from\":");
	jb_str(&raw, g->from[0] ? g->from : NULL);
	jb_puts(&raw, ",\"ref\":");
	jb_str(&raw, g->ref);
	jb_puts(&raw, ",\"message\":");
	jb_str(&raw, g->message);
	if (strcmp(type, "up_to_date"))
		git_add_deploy((struct svc *)s, wall_ms(), type, g->revision, g->from, g->message);
	if (!raw.oom)
		sv_emit_service(type, strcmp(type, "deployed") && strcmp(type, "up_to_date") ? LVL_WARN : LVL_INFO, msg,
			raw.p, strcmp(type, "up_to_date") != 0);
	jb_free(&raw);
}

int git_annotate(struct svc *s, int argc, char **argv, char *err, size_t errsz)
{
	struct svcgit *g = git_of(s);
	if (!g) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	char v[GIT_VALUE_MAX];
	const char *event = NULL;
	char *args[GIT_ARGS_MAX];
	int nargs = 0, had_rev = g->revision[0] != 0, rc = 0;
	/* check everything first: a bad request changes nothing */
	for (int k = 0; k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		if (!eq || gitdeploy_pct_decode(eq + 1, v, sizeof v)) {
			snprintf(err, errsz, "annotate: bad word '%.64s' (KEY=VALUE, %%XX-encoded)", argv[k]);
			return -1;
		}
		size_t kl = (size_t)(eq - argv[k]);
#define KEY(name) (kl == sizeof name - 1 && !strncmp(argv[k], name, kl))
		if ((KEY("revision") || KEY("from")) && !gitdeploy_is_sha(v)) {
			snprintf(err, errsz, "annotate: %.*s: not a commit id (40 hex digits)", (int)kl, argv[k]);
			return -1;
		} else if (KEY("phase")) {
			int p = 0;
			while (phases[p] && strcmp(phases[p], v))
				p++;
			if (!phases[p]) {
				snprintf(err, errsz, "annotate: unknown phase '%.32s'", v);
				return -1;
			}
		} else if (KEY("event")) {
			if (strcmp(v, "deployed") && strcmp(v, "rolled_back") && strcmp(v, "deploy_failed") &&
			    strcmp(v, "up_to_date")) {
				snprintf(err, errsz, "annotate: unknown event '%.32s'", v);
				return -1;
			}
			event = argv[k] + kl + 1;
		} else if (KEY("arg")) {
			if (s->cfg->command.argc) {
				snprintf(err, errsz, "annotate: %s has a command: arg= is for autoexec.txt's", s->cfg->name);
				return -1;
			}
			if (nargs == GIT_ARGS_MAX) {
				snprintf(err, errsz, "annotate: more than %d args", GIT_ARGS_MAX);
				return -1;
			}
			nargs++;
		} else if (!KEY("ref") && !KEY("message") && !KEY("revision") && !KEY("from")) {
			snprintf(err, errsz, "annotate: unknown key '%.*s'", (int)kl, argv[k]);
			return -1;
		}
	}
	if (nargs) {
		for (int k = 0, a = 0; k < argc; k++)
			if (!strncmp(argv[k], "arg=", 4)) {
				gitdeploy_pct_decode(argv[k] + 4, v, sizeof v);
				if (!(args[a++] = strdup(v))) {
					while (--a >= 0)
						free(args[a]);
					snprintf(err, errsz, "out of memory");
					return -1;
				}
			}
		char **nv = malloc(((size_t)nargs + 1) * sizeof *nv);
		if (!nv) {
			for (int a = 0; a < nargs; a++)
				free(args[a]);
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		free_args(g);
		memcpy(nv, args, (size_t)nargs * sizeof *nv);
		nv[nargs] = NULL;
		g->argv = nv;
		g->argc = nargs;
	}
	for (int k = 0; k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		size_t kl = (size_t)(eq - argv[k]);
		gitdeploy_pct_decode(eq + 1, v, sizeof v);
		if (KEY("revision"))
			memcpy(g->revision, v, sizeof g->revision);
		else if (KEY("from"))
			memcpy(g->from, v, sizeof g->from);
		else if (KEY("phase"))
			snprintf(g->phase, sizeof g->phase, "%.*s", (int)sizeof g->phase - 1, v);
		else if (KEY("ref"))
			rc |= set_str(&g->ref, v);
		else if (KEY("message"))
			rc |= set_str(&g->message, v);
#undef KEY
	}
	/* a phase without a message clears the old one (but not the other way) */
	int has_msg = 0;
	for (int k = 0; k < argc; k++)
		has_msg |= !strncmp(argv[k], "message=", 8);
	/* a new phase without a message or a from clears the old ones */
	int has_from = 0, has_phase = 0;
	for (int k = 0; k < argc; k++) {
		has_from |= !strncmp(argv[k], "from=", 5);
		has_phase |= !strncmp(argv[k], "phase=", 6);
	}
	if (has_phase && !has_msg) {
		free(g->message);
		g->message = NULL;
	}
	if (has_phase && !has_from)
		g->from[0] = 0;
	if (rc) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (event) {
		gitdeploy_pct_decode(event, v, sizeof v);
		emit_deploy(s, v);
	}
	if (!had_rev && g->revision[0])
		sv_log(LVL_INFO, NULL, "%s: revision %.12s checked out: it may start", s->cfg->name, g->revision);
	SV.reconcile_due = 1; /* the waiting reason, or a first start */
	return 0;
}

/* ------------------------------------------------------------ pre_deploy */

static void hook_timeout(struct loop *l, int64_t id, void *arg)
{
	(void)l;
	(void)id;
	struct svc *s = arg;
	struct svcgit *g = s->git;
	if (!g)
		return;
	g->hook_timer = 0;
	if (g->hook_pid > 0) {
		g->hook_timed_out = 1;
		kill(-g->hook_pid, SIGKILL);
		kill(g->hook_pid, SIGKILL);
	}
}

int git_pre_deploy(struct svc *s, const char *rev, char *err, size_t errsz)
{
	const struct service *c = s->cfg;
	struct svcgit *g = git_of(s);
	if (!g) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (!c->pre_deploy.argc) {
		snprintf(err, errsz, "%s has no hooks.pre_deploy", c->name);
		return -1;
	}
	if (!gitdeploy_is_sha(rev)) {
		snprintf(err, errsz, "pre-deploy: '%.64s' is not a commit id (40 hex digits)", rev);
		return -1;
	}
	if (g->hook_pid > 0) {
		snprintf(err, errsz, "%s: a pre_deploy hook is already running (revision %.12s)", c->name, g->hook_rev);
		return -1;
	}
	if (s->ninst < 1 || child_output(s->inst[0]) < 0) {
		snprintf(err, errsz, "%s: cannot set up its output: %s", c->name, strerror(errno));
		return -1;
	}
	char dir[4096 + 64], leaf[64];
	snprintf(leaf, sizeof leaf, "rev-%s", rev);
	git_path(dir, sizeof dir, c->name, leaf);
	struct child ch;
	if (child_spawn_git_hook(s->inst[0], &c->pre_deploy, dir, rev, &ch, err, errsz) < 0)
		return -1;
	g->hook_pid = ch.pid;
	g->hook_started = loop_now_ms();
	g->hook_timed_out = 0;
	memcpy(g->hook_rev, rev, sizeof g->hook_rev);
	g->hook_timer = loop_timer_at(SV.loop, loop_now_ms() + c->pre_deploy_timeout_ms, hook_timeout, s);
	if (g->hook_timer < 0)
		g->hook_timer = 0;
	sv_log(LVL_INFO, s->inst[0], "pre_deploy for %.12s: pid %d", rev, (int)ch.pid);
	return 0;
}

void git_kill_hooks(void)
{
	for (int k = 0; k < SV.nsvcs; k++) {
		struct svcgit *g = SV.svcs[k]->git;
		if (g && g->hook_pid > 0 && !g->hook_timed_out) {
			g->hook_timed_out = 2; /* reported as killed by the shutdown, once */
			kill(-g->hook_pid, SIGKILL);
			kill(g->hook_pid, SIGKILL);
		}
	}
}

struct svc *git_hook_owner(pid_t pid)
{
	for (int k = 0; k < SV.nsvcs; k++)
		if (SV.svcs[k]->git && SV.svcs[k]->git->hook_pid == pid)
			return SV.svcs[k];
	return NULL;
}

void git_hook_exited(struct svc *s, int status)
{
	struct svcgit *g = s->git;
	char what[128];
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (g->hook_timed_out == 2)
		snprintf(what, sizeof what, "killed: mls is shutting down");
	else if (g->hook_timed_out)
		snprintf(what, sizeof what, "timed out after %llds", (long long)(s->cfg->pre_deploy_timeout_ms / 1000));
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof what, "killed by SIG%s", signal_name(WTERMSIG(status)) ? signal_name(WTERMSIG(status)) : "?");
	else
		snprintf(what, sizeof what, "exited with status %d", WEXITSTATUS(status));
	if (g->hook_timer)
		loop_timer_cancel(SV.loop, g->hook_timer);
	g->hook_timer = 0;
	g->hook_pid = 0;
	struct jbuf raw = { 0 };
	jb_puts(&raw, ",\"service\":");
	jb_str(&raw, s->cfg->name);
	jb_puts(&raw, ",\"revision\":");
	jb_str(&raw, g->hook_rev);
	jb_printf(&raw, ",\"ok\":%s,\"exit_code\":", ok ? "true" : "false");
	if (WIFEXITED(status))
		jb_printf(&raw, "%d", WEXITSTATUS(status));
	else
		jb_puts(&raw, "null");
	jb_puts(&raw, ",\"signal\":");
	if (WIFSIGNALED(status) && signal_name(WTERMSIG(status)))
		jb_printf(&raw, "\"SIG%s\"", signal_name(WTERMSIG(status)));
	else
		jb_puts(&raw, "null");
	jb_puts(&raw, ",\"message\":");
	jb_str(&raw, what);
	char msg[256];
	snprintf(msg, sizeof msg, "%s: pre_deploy for %.12s %s", s->cfg->name, g->hook_rev, what);
	if (!raw.oom)
		sv_emit_service("pre_deploy", ok ? LVL_INFO : LVL_WARN, msg, raw.p, 0);
	jb_free(&raw);
}
