/* gw_deploy.c: the deploy state machine of one service (gw.h; the steps
 * are those of docs/gitwatch-protocol.md, "The state machine").
 *
 *   attempt     fetch, resolve, checkout, autoexec.txt, then pre_deploy
 *               (ST_PRE_DEPLOY until its event) or switch_to at once
 *   switch_to   flip current, annotate the revision, restart, ST_VERIFY
 *   verdicts    an event (crash twice, failed, unhealthy) or the window's
 *               end (`status NAME`): good() or bad(); bad rolls back to the
 *               last good one when it may
 *
 * config_git takes the same path up to the checkout, then `config-apply`
 * instead of pre_deploy, switch and verify. */
#include "applets.h"
#if MLS_HAVE_GIT

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cJSON.h"
#include "gw.h"
#include "proto.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 300000 /* 5 min */

static void attempt(struct gw_svc *s, const char *ref, int asked);

/* a deploy_request that found nothing to deploy: event up_to_date */
static void up_to_date(struct gw_svc *s, const char *name, const char *msg);
static void to_idle(struct gw_svc *s);
static void on_window(struct loop *l, int64_t id, void *ctx);

/* ------------------------------------------------------------ annotate */

struct ann {
	char line[PROTO_MAX_LINE];
	size_t n;
	int full;                    /* did not fit: not sent */
};

static void ann_add(struct ann *a, const char *key, const char *val)
{
	char enc[PROTO_MAX_LINE];
	if (!val || !val[0])
		return;
	int m = gitdeploy_pct_encode(val, enc, sizeof enc);
	int w = m < 0 ? -1 : snprintf(a->line + a->n, sizeof a->line - a->n, " %s=%s", key, enc);
	if (w < 0 || (size_t)w >= sizeof a->line - a->n - 1)
		a->full = 1;
	else
		a->n += (size_t)w;
}

static void ann_start(struct ann *a, const struct gw_svc *s)
{
	a->full = 0;
	a->n = (size_t)snprintf(a->line, sizeof a->line, "annotate %s", s->name);
}

/* revision=SHA, and the command of its autoexec.txt when there is none */
static void ann_revision(struct ann *a, struct gw_svc *s, const char *sha, const char *ref)
{
	ann_add(a, "revision", sha);
	ann_add(a, "ref", ref);
	if (s->has_command)
		return;
	struct autoexec ae;
	char err[256];
	if (gw_autoexec(s, sha, &ae, err, sizeof err) < 0) {
		gw_log(s, "%s", err);
		return;
	}
	for (int i = 0; i < ae.argc; i++)
		ann_add(a, "arg", ae.argv[i]);
}

/* the phase and its message; a message cut to GW_MSG_MAX bytes (on a
 * character boundary) */
static void ann_phase(struct ann *a, enum gw_phase p, const char *msg)
{
	char m[GW_MSG_MAX + 1];
	snprintf(m, sizeof m, "%s", msg ? msg : "");
	size_t n = strlen(m);
	if (n == GW_MSG_MAX)
		while (n && ((unsigned char)m[n] & 0xc0) == 0x80)
			m[--n] = 0;
	ann_add(a, "phase", gw_phase_name(p));
	ann_add(a, "message", m);
}

static int ann_send(struct ann *a, struct gw_svc *s)
{
	char err[256];
	if (a->full) {
		gw_log(s, "annotate: request longer than %d bytes: not sent", PROTO_MAX_LINE);
		return -1;
	}
	cJSON *r = gw_request(a->line);
	int ok = gw_reply_ok(r, err, sizeof err);
	if (r && !ok)
		gw_log(s, "annotate refused: %s", err);
	cJSON_Delete(r);
	return ok ? 0 : -1;
}

static void annotate_phase(struct gw_svc *s, enum gw_phase p, const char *msg)
{
	struct ann a;
	ann_start(&a, s);
	ann_phase(&a, p, msg);
	ann_send(&a, s);
}

/* `restart NAME`; returns the reply's seq (events up to it came before) */
static uint64_t restart(struct gw_svc *s)
{
	char line[300], err[256];
	snprintf(line, sizeof line, "restart %s", s->name);
	cJSON *r = gw_request(line);
	uint64_t seq = 0;
	if (gw_reply_ok(r, err, sizeof err)) {
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(r, "seq");
		seq = cJSON_IsNumber(q) ? (uint64_t)q->valuedouble : 0;
	} else if (r) {
		gw_log(s, "restart refused: %s", err);
	}
	cJSON_Delete(r);
	return seq;
}

static void up_to_date(struct gw_svc *s, const char *name, const char *msg)
{
	gw_log(s, "%s: %s", name, msg);
	if (s->is_config)
		return;
	struct ann a;
	ann_start(&a, s);
	if (s->current[0]) {
		ann_revision(&a, s, s->current, s->sv.ref);
		ann_add(&a, "message", msg);
		ann_add(&a, "event", "up_to_date");
	} else {
		/* nothing runs (a commit marked bad before any good one): the
		 * deploy asked for ends all the same, as a failure */
		char m[300];
		snprintf(m, sizeof m, "%s: %s", name, msg);
		ann_add(&a, "message", m);
		ann_add(&a, "event", "deploy_failed");
	}
	ann_send(&a, s);
}

/* --------------------------------------------------------------- timers */

static void on_poll(struct loop *l, int64_t id, void *ctx)
{
	struct gw_svc *s = ctx;
	(void)l; (void)id;
	s->poll_timer = 0;
	if (s->stage != ST_IDLE)
		return; /* to_idle() polls again */
	int asked = s->pending;
	char *ref = s->pending_ref;
	s->pending = 0;
	s->pending_ref = NULL;
	attempt(s, ref, asked);
	free(ref);
}

static void poll_in(struct gw_svc *s, int64_t ms)
{
	if (s->poll_timer)
		loop_timer_cancel(GW.l, s->poll_timer);
	s->poll_timer = loop_timer_at(GW.l, loop_now_ms() + ms, on_poll, s);
	if (s->poll_timer < 0)
		s->poll_timer = 0;
}

/* back to idle: a deploy asked meanwhile now, else the next poll */
static void to_idle(struct gw_svc *s)
{
	s->stage = ST_IDLE;
	if (s->verify_timer)
		loop_timer_cancel(GW.l, s->verify_timer);
	s->verify_timer = 0;
	if (s->pending)
		poll_in(s, 0);
	else if (!s->current[0])
		poll_in(s, s->backoff_ms ? s->backoff_ms : BACKOFF_MIN_MS);
	else if (s->interval_ms > 0)
		poll_in(s, s->interval_ms);
	else if (s->poll_timer) {
		loop_timer_cancel(GW.l, s->poll_timer);
		s->poll_timer = 0;
	}
}

/* -------------------------------------------------------------- failures */

/* A deploy that failed before the switch: nothing changed. Shown as the
 * phase while nothing runs (retried with backoff), else only logged and
 * sent with the event (the phase stays). The event goes once per message
 * in a row, so a remote that stays down does not repeat it every poll. */
static void fail_early(struct gw_svc *s, const char *msg, int phase_changed)
{
	gw_log(s, "deploy failed: %s", msg);
	int again = !strcmp(s->last_fail, msg) && !s->asked;
	snprintf(s->last_fail, sizeof s->last_fail, "%s", msg);
	struct ann a;
	if (s->is_config) {
		/* nothing to annotate: supervise shows no service for it */
	} else if (!s->current[0] && again) {
		/* shown already */
	} else if (!s->current[0]) {
		s->sv.phase = PH_FAILED;
		snprintf(s->sv.message, sizeof s->sv.message, "%s", msg);
		ann_start(&a, s);
		ann_phase(&a, PH_FAILED, msg);
		ann_add(&a, "event", "deploy_failed");
		ann_send(&a, s);
	} else {
		if (phase_changed)
			annotate_phase(s, s->sv.phase, s->sv.message);
		if (!again) {
			ann_start(&a, s);
			ann_add(&a, "ref", s->cand_ref);
			ann_add(&a, "message", msg);
			ann_add(&a, "event", "deploy_failed");
			ann_send(&a, s);
		}
	}
	if (!s->current[0])
		s->backoff_ms = !s->backoff_ms ? BACKOFF_MIN_MS :
			s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
	to_idle(s);
}

/* ---------------------------------------------------------------- verdicts */

static void begin_verify(struct gw_svc *s, uint64_t seq)
{
	s->stage = ST_VERIFY;
	s->verify_seq = seq;
	s->crashes = 0;
	gw_log(s, "verifying %.7s for %lldms", s->cand, (long long)s->verify_window_ms);
	s->verify_timer = loop_timer_at(GW.l, loop_now_ms() + s->verify_window_ms, on_window, s);
}

static void good(struct gw_svc *s)
{
	struct gw_saved *v = &s->sv;
	if (strcmp(v->good, s->cand)) {
		memcpy(v->prev_good, v->good, sizeof v->good);
		memcpy(v->prev_good_ref, v->good_ref, sizeof v->good_ref);
		memcpy(v->good, s->cand, sizeof v->good);
		snprintf(v->good_ref, sizeof v->good_ref, "%s", s->cand_ref);
	}
	v->verifying[0] = v->from[0] = v->message[0] = 0;
	v->phase = PH_DEPLOYED;
	gw_state_save(s);
	gw_log(s, "deployed %.7s (%s)", s->cand, s->cand_ref);
	struct ann a;
	ann_start(&a, s);
	ann_revision(&a, s, s->cand, s->cand_ref);
	ann_phase(&a, PH_DEPLOYED, NULL);
	ann_add(&a, "event", "deployed");
	ann_send(&a, s);
	to_idle(s);
	gw_clean_revisions(s);
}

/* Goes back to target (a good revision) from bad, for reason */
static int roll_back(struct gw_svc *s, const char *bad, const char *target,
	const char *target_ref, const char *reason)
{
	char err[512];
	if (gw_repo_checkout(s, target, err, sizeof err) < 0 ||
	    gw_current_flip(s, target, err, sizeof err) < 0) {
		gw_log(s, "cannot roll back to %.7s: %s", target, err);
		return -1;
	}
	struct gw_saved *v = &s->sv;
	memcpy(s->current, target, sizeof s->current);
	snprintf(v->ref, sizeof v->ref, "%s", target_ref);
	memcpy(v->from, bad, sizeof v->from);
	snprintf(v->message, sizeof v->message, "%s", reason);
	v->verifying[0] = 0;
	v->phase = PH_ROLLED_BACK;
	gw_state_save(s);
	gw_log(s, "rolled back from %.7s to %.7s: %s", bad, target, reason);
	struct ann a;
	ann_start(&a, s);
	ann_revision(&a, s, target, target_ref);
	ann_phase(&a, PH_ROLLED_BACK, reason);
	ann_add(&a, "from", bad);
	ann_add(&a, "event", "rolled_back");
	ann_send(&a, s);
	restart(s);
	return 0;
}

static void bad(struct gw_svc *s, const char *reason, int by_hand)
{
	struct gw_saved *v = &s->sv;
	gw_bad_add(s, s->cand, reason);
	gw_log(s, "%.7s is bad: %s", s->cand, reason);
	if ((s->rollback || by_hand) && v->good[0] && strcmp(v->good, s->cand) &&
	    !roll_back(s, s->cand, v->good, v->good_ref, reason)) {
		to_idle(s);
		gw_clean_revisions(s);
		return;
	}
	v->verifying[0] = 0;
	v->phase = PH_FAILED;
	snprintf(v->message, sizeof v->message, "%s", reason);
	gw_state_save(s);
	struct ann a;
	ann_start(&a, s);
	ann_revision(&a, s, s->cand, s->cand_ref);
	ann_phase(&a, PH_FAILED, reason);
	ann_add(&a, "event", "deploy_failed");
	ann_send(&a, s);
	to_idle(s);
	gw_clean_revisions(s);
}

/* The window passed with no bad event: good if every instance runs (and
 * is healthy, with a health check) now */
static void on_window(struct loop *l, int64_t id, void *ctx)
{
	struct gw_svc *s = ctx;
	char line[300], err[256], why[GW_MSG_MAX + 1] = "";
	(void)l; (void)id;
	s->verify_timer = 0;
	snprintf(line, sizeof line, "status %s", s->name);
	cJSON *r = gw_request(line);
	if (!r)
		return; /* supervise gone: stopping */
	const cJSON *i;
	if (!gw_reply_ok(r, err, sizeof err))
		gw_log(s, "status: %s: judged on the events alone", err);
	cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(r, "services")) {
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(i, "state"));
		const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(i, "health"));
		const char *re = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(i, "reason"));
		const char *hm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(i, "health_message"));
		if (!st || strcmp(st, "running")) {
			snprintf(why, sizeof why, "%s at the end of the verify window%s%.100s",
				st ? st : "not running", re ? ": " : "", re ? re : "");
			break;
		}
		if (s->has_health && (!h || strcmp(h, "healthy"))) {
			snprintf(why, sizeof why, "not healthy at the end of the verify window%s%.100s",
				hm ? ": " : "", hm ? hm : "");
			break;
		}
	}
	cJSON_Delete(r);
	if (why[0])
		bad(s, why, 0);
	else
		good(s);
}

/* --------------------------------------------------------------- deploy */

static void switch_to(struct gw_svc *s)
{
	char err[512];
	struct gw_saved *v = &s->sv;
	int first = !s->current[0];
	/* the state first: a gitwatch killed between the two finds
	 * verifying != current and knows the flip did not happen */
	memcpy(v->verifying, s->cand, sizeof v->verifying);
	gw_recent_add(s, s->cand);
	gw_state_save(s);
	if (gw_current_flip(s, s->cand, err, sizeof err) < 0) {
		v->verifying[0] = 0;
		fail_early(s, err, !first);
		return;
	}
	memcpy(s->current, s->cand, sizeof s->current);
	snprintf(v->ref, sizeof v->ref, "%s", s->cand_ref);
	v->phase = PH_VERIFYING;
	v->message[0] = v->from[0] = 0;
	s->backoff_ms = 0;
	s->last_fail[0] = 0;
	gw_state_save(s);
	struct ann a;
	ann_start(&a, s);
	ann_revision(&a, s, s->cand, s->cand_ref);
	ann_phase(&a, PH_VERIFYING, NULL);
	ann_send(&a, s);
	begin_verify(s, first ? 0 : restart(s));
}

/* config_git: `current` is flipped first, so supervise always loads the
 * same path (.config/current/PATH: a service's hash, which includes the
 * file's name, does not change with each revision, and nothing restarts
 * for it); a rejected revision flips it back. */
static void config_apply(struct gw_svc *s)
{
	char line[300], err[512], ferr[512];
	if (gw_current_flip(s, s->cand, err, sizeof err) < 0) {
		gw_log(s, "%s", err);
		to_idle(s);
		return;
	}
	snprintf(line, sizeof line, "config-apply %s", s->cand);
	cJSON *r = gw_request(line);
	int ok = r && gw_reply_ok(r, err, sizeof err);
	cJSON_Delete(r);
	if (!ok) {
		/* back to what runs (or none) */
		char cur[4200];
		snprintf(cur, sizeof cur, "%s/current", s->dir);
		if (s->current[0] ? gw_current_flip(s, s->current, ferr, sizeof ferr) < 0 : unlink(cur) < 0 && errno != ENOENT)
			gw_log(s, "%s", s->current[0] ? ferr : strerror(errno));
		if (!r)
			return;
		gw_bad_add(s, s->cand, err);
		gw_state_save(s);
		gw_log(s, "%.7s rejected: %s", s->cand, err);
		to_idle(s);
		return;
	}
	memcpy(s->current, s->cand, sizeof s->current);
	memcpy(s->sv.good, s->cand, sizeof s->sv.good);
	snprintf(s->sv.ref, sizeof s->sv.ref, "%s", s->cand_ref);
	gw_recent_add(s, s->cand);
	gw_state_save(s);
	gw_log(s, "applied %.7s (%s)", s->cand, s->cand_ref);
	s->last_fail[0] = 0;
	to_idle(s);
	gw_clean_revisions(s);
}

/* Fetch, and deploy what ref (NULL: the configured one) names when it is
 * new and not bad. asked: by a deploy_request (ref only then). */
static void attempt(struct gw_svc *s, const char *ref, int asked)
{
	char err[512];
	gw_sha sha, conf;
	char name[256];
	struct gw_saved *v = &s->sv;
	if (s->stage != ST_IDLE)
		return;
	s->asked = asked;
	if (!s->current[0] && v->phase != PH_FAILED && !s->is_config)
		annotate_phase(s, PH_CLONING, NULL);
	snprintf(s->cand_ref, sizeof s->cand_ref, "%s", ref ? ref : s->ref ? s->ref : "");
	if (gw_repo_fetch(s, err, sizeof err) < 0 ||
	    gw_repo_resolve(s, s->ref, conf, name, sizeof name, err, sizeof err) < 0 ||
	    (ref && gw_repo_resolve(s, ref, sha, name, sizeof name, err, sizeof err) < 0)) {
		fail_early(s, err, 0);
		return;
	}
	if (!ref)
		memcpy(sha, conf, sizeof sha);
	snprintf(s->cand_ref, sizeof s->cand_ref, "%s", name);
	/* `deploy NAME REF` holds the configured ref until it moves */
	if (ref && strcmp(sha, conf))
		memcpy(v->hold, conf, sizeof v->hold);
	else if (!ref && v->hold[0] && strcmp(conf, v->hold))
		v->hold[0] = 0;
	if (!strcmp(sha, s->current) || (!ref && !strcmp(sha, v->hold))) {
		if (asked)
			up_to_date(s, name, "already deployed");
		s->last_fail[0] = 0;
		to_idle(s);
		return;
	}
	if (gw_bad_find(s, sha) >= 0) {
		if (asked || strcmp(s->skipped, sha))
			gw_log(s, "%.7s (%s) is marked bad (%s): not deployed", sha, name,
				v->bad[gw_bad_find(s, sha)].reason);
		memcpy(s->skipped, sha, sizeof s->skipped);
		if (asked)
			up_to_date(s, name, v->bad[gw_bad_find(s, sha)].reason);
		to_idle(s);
		return;
	}
	gw_log(s, "fetched %.7s (%s)", sha, name);
	memcpy(s->cand, sha, sizeof s->cand);
	memcpy(s->cand_prev, s->current, sizeof s->cand_prev);
	int changed = s->current[0] && !s->is_config;
	if (changed)
		annotate_phase(s, PH_UPDATING, NULL);
	struct autoexec ae;
	if (gw_repo_checkout(s, sha, err, sizeof err) < 0 ||
	    (!s->has_command && !s->is_config && gw_autoexec(s, sha, &ae, err, sizeof err) < 0)) {
		fail_early(s, err, changed);
		return;
	}
	if (s->is_config) {
		config_apply(s);
		return;
	}
	if (s->has_pre_deploy) {
		char line[300];
		snprintf(line, sizeof line, "pre-deploy %s %s", s->name, sha);
		cJSON *r = gw_request(line);
		int ok = gw_reply_ok(r, err, sizeof err);
		cJSON_Delete(r);
		if (!ok) {
			char m[600];
			snprintf(m, sizeof m, "pre_deploy: %s", err);
			fail_early(s, m, changed);
			return;
		}
		gw_log(s, "pre_deploy runs in rev-%.7s", sha);
		s->stage = ST_PRE_DEPLOY;
		return;
	}
	switch_to(s);
}

/* --------------------------------------------------------------- events */

static struct gw_svc *find(const char *name)
{
	for (int i = 0; name && i < GW.nsvc; i++)
		if (!GW.svc[i].is_config && !strcmp(GW.svc[i].name, name))
			return &GW.svc[i];
	return NULL;
}

/* `mls ctl rollback NAME`: to the last good revision, or the one before
 * it when the good one runs; the one running is marked bad */
static void rollback_request(struct gw_svc *s)
{
	struct gw_saved *v = &s->sv;
	if (s->stage == ST_VERIFY) {
		bad(s, "rolled back by hand", 1);
		return;
	}
	s->stage = ST_IDLE; /* a pre_deploy under way: its result is ignored */
	int cur_good = !strcmp(s->current, v->good);
	const char *t = cur_good ? v->prev_good : v->good;
	const char *tref = cur_good ? v->prev_good_ref : v->good_ref;
	if (!s->current[0] || !t[0] || !strcmp(t, s->current)) {
		gw_log(s, "rollback: no earlier good revision");
		/* its outcome all the same: mls ctl rollback and the API wait for one */
		struct ann a;
		ann_start(&a, s);
		ann_add(&a, "message", "no earlier good revision to roll back to");
		ann_add(&a, "event", "deploy_failed");
		ann_send(&a, s);
		to_idle(s);
		return;
	}
	gw_sha was, target;
	char target_ref[256];
	memcpy(was, s->current, sizeof was);
	memcpy(target, t, sizeof target);
	snprintf(target_ref, sizeof target_ref, "%s", tref);
	gw_bad_add(s, was, "rolled back by hand");
	if (cur_good) {
		/* the good one is bad now: the one before it is the good one */
		memcpy(v->good, target, sizeof v->good);
		memcpy(v->good_ref, target_ref, sizeof v->good_ref);
		v->prev_good[0] = v->prev_good_ref[0] = 0;
	}
	roll_back(s, was, target, target_ref, "rolled back by hand");
	to_idle(s);
	gw_clean_revisions(s);
}

static const char *str(const cJSON *ev, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, key));
}

/* What an event of a verified service says: "" nothing, else why bad */
static void verdict(struct gw_svc *s, const cJSON *ev, const char *type, uint64_t seq,
	char *why, size_t whysz)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(ev, "instance");
	int k = cJSON_IsNumber(in) ? in->valueint - 1 : -1;
	int inst = k >= 0 && k < GW_MAX_INSTANCES;
	const char *msg = str(ev, "message");
	if (!strcmp(type, "state")) {
		const char *st = str(ev, "state");
		/* followed always, so the exit of a stop asked for is known */
		if (inst)
			s->inst_stopping[k] = st && !strcmp(st, "stopping");
		if (seq > s->verify_seq && st && !strcmp(st, "failed"))
			snprintf(why, whysz, "failed: %.150s", str(ev, "reason") ? str(ev, "reason") : "");
		return;
	}
	if (seq <= s->verify_seq)
		return;
	if (!strcmp(type, "exit")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(ev, "exit_code");
		const char *sig = str(ev, "signal");
		if ((inst && s->inst_stopping[k]) || (!sig && !(cJSON_IsNumber(code) && code->valueint)))
			return;
		if (++s->crashes >= 2) {
			if (sig)
				snprintf(why, whysz, "crashed twice: killed by %.20s", sig);
			else
				snprintf(why, whysz, "crashed twice: exited with status %d", code->valueint);
		}
	} else if (!strcmp(type, "unhealthy") || !strcmp(type, "health_restart")) {
		snprintf(why, whysz, "unhealthy: %.150s", msg ? msg : "");
	}
}

void gw_deploy_event(const void *evp)
{
	const cJSON *ev = evp;
	const char *type = str(ev, "event");
	struct gw_svc *s = find(str(ev, "service"));
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	uint64_t seq = cJSON_IsNumber(q) ? (uint64_t)q->valuedouble : 0;
	if (!type || !s)
		return;
	if (!strcmp(type, "deploy_request")) {
		const char *ref = str(ev, "ref");
		gw_log(s, "deploy asked%s%s", ref ? ": " : "", ref ? ref : "");
		free(s->pending_ref);
		s->pending = 1;
		s->pending_ref = ref ? strdup(ref) : NULL;
		if (s->stage == ST_IDLE)
			poll_in(s, 0);
		return;
	}
	if (!strcmp(type, "rollback_request")) {
		gw_log(s, "rollback asked");
		rollback_request(s);
		return;
	}
	if (!strcmp(type, "pre_deploy")) {
		const char *rev = str(ev, "revision");
		if (s->stage != ST_PRE_DEPLOY || !rev || strcmp(rev, s->cand))
			return;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "ok"))) {
			switch_to(s);
		} else {
			char m[300];
			snprintf(m, sizeof m, "pre_deploy failed: %.200s", str(ev, "message") ?
				str(ev, "message") : "");
			fail_early(s, m, s->current[0] != 0);
		}
		return;
	}
	char why[GW_MSG_MAX + 1] = "";
	verdict(s, ev, type, seq, why, sizeof why);
	if (why[0] && s->stage == ST_VERIFY)
		bad(s, why, 0);
}

/* ---------------------------------------------------------------- start */

/* What runs is shown at once from disk (no network needed to start the
 * service), then the first poll: now */
void gw_deploy_start(struct gw_svc *s)
{
	struct gw_saved *v = &s->sv;
	gw_clean_leftovers(s);
	gw_state_load(s);
	gw_current_read(s);
	if (v->verifying[0] && strcmp(v->verifying, s->current))
		v->verifying[0] = 0; /* killed before the flip */
	if (s->current[0] && !s->is_config) {
		if (v->verifying[0] || v->phase == PH_NONE || v->phase == PH_CLONING ||
		    v->phase == PH_UPDATING || v->phase == PH_VERIFYING)
			v->phase = !strcmp(s->current, v->good) ? PH_DEPLOYED : PH_VERIFYING;
		if (!v->ref[0])
			snprintf(v->ref, sizeof v->ref, "%s", s->ref ? s->ref : "");
		gw_log(s, "runs %.7s (%s), %s", s->current, v->ref, gw_phase_name(v->phase));
		struct ann a;
		ann_start(&a, s);
		ann_revision(&a, s, s->current, v->ref);
		ann_phase(&a, v->phase, v->message);
		if (v->phase == PH_ROLLED_BACK)
			ann_add(&a, "from", v->from);
		ann_send(&a, s);
		if (v->phase == PH_VERIFYING) {
			/* judged again from the start of a new window */
			memcpy(s->cand, s->current, sizeof s->cand);
			snprintf(s->cand_ref, sizeof s->cand_ref, "%s", v->ref);
			memcpy(v->verifying, s->current, sizeof v->verifying);
			begin_verify(s, 0);
			if (s->interval_ms > 0)
				poll_in(s, s->interval_ms);
			return;
		}
	}
	if (s->is_config && s->current[0])
		gw_log(s, "runs %.7s", s->current);
	poll_in(s, 0);
}

#endif /* MLS_HAVE_GIT */
