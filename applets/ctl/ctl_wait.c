/* ctl_wait.c: start, stop, restart and shutdown, waiting for the result.
 *
 * As docs/protocol.md says: subscribe to `events` on a first connection,
 * send the request on a second one, take the states of its reply, then
 * follow the state events with a seq above the reply's until each
 * instance is in a final state (or --timeout). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "loop.h"

/* One instance of the reply, as far as ctl has followed it (the
 * supervisor's own instance is struct inst, in applets/supervise/sv.h) */
struct waited {
	char name[96];
	char state[16];
	char reason[512];    /* of the last state event; "" = none */
	double pid;          /* < 0: none */
	char exit_info[64];  /* of the last exit event: "status 1", "SIGKILL" */
	char next_run[64];   /* "" = none (only looked up in waiting) */
	int done;
	int64_t settle_at;   /* running, not done yet: final at this time */
};

/* A start is a success only if the instance is still running this long
 * after ctl saw it running: `ready: none` makes a program running the
 * moment it is spawned, and one that exits at once (bad config, missing
 * file) must be reported as failed, not as running. */
#define CTL_SETTLE_MS 500

struct wait {
	const struct ctl *c;
	int stop;            /* stop's idea of final */
	struct waited *v;
	int n, pending, failed;
	double seq;          /* of the request's reply */
};

static void set_str(char *dst, size_t sz, const char *s)
{
	snprintf(dst, sz, "%s", s ? s : "");
}

/* A waiting instance: is it a job between runs (next_run set)? Also
 * takes the reason (why it waits), which the reply does not carry. */
static void lookup_next_run(const struct wait *w, struct waited *in)
{
	struct ctl c = *w->c;
	char *words[] = { "status", in->name };
	int rc;
	double v;
	c.json = 0;
	in->next_run[0] = 0;
	cJSON *j = ctl_call(&c, words, 2, &rc);
	const cJSON *s;
	cJSON_ArrayForEach(s, js_arr(j, "services")) {
		if (js_num(s, "next_run", &v))
			fmt_clock(v, 0, in->next_run, sizeof in->next_run);
		if (!in->reason[0])
			set_str(in->reason, sizeof in->reason, js_str(s, "reason"));
	}
	cJSON_Delete(j);
}

/* 1 success, -1 failure, 0 not final yet */
static int verdict(const struct wait *w, const struct waited *in)
{
	const char *s = in->state;
	if (w->stop)
		return !strcmp(s, "stopped") || !strcmp(s, "exited") || !strcmp(s, "failed");
	if (!strcmp(s, "running") || !strcmp(s, "exited"))
		return 1;
	if (!strcmp(s, "failed") || !strcmp(s, "backoff"))
		return -1;
	if (!strcmp(s, "waiting") && in->next_run[0])
		return 1;
	return 0;
}

static void say_done(const struct waited *in, int ok)
{
	const char *why = in->reason[0] ? in->reason : in->exit_info[0] ? in->exit_info : NULL;
	if (!strcmp(in->state, "running") && in->pid >= 0)
		printf("%s: running (pid %.0f)\n", in->name, in->pid);
	else if (!strcmp(in->state, "waiting") && in->next_run[0])
		printf("%s: waiting (next run %s)\n", in->name, in->next_run);
	else if (!strcmp(in->state, "exited") && !in->reason[0] && in->exit_info[0])
		printf("%s: exited (%s)\n", in->name, in->exit_info);
	else if (why && (!ok || strcmp(in->state, "stopped")))
		printf("%s: %s: %s\n", in->name, in->state, why);
	else
		printf("%s: %s\n", in->name, in->state);
	fflush(stdout);
}

/* A new state for in: print it when final */
static void update(struct wait *w, struct waited *in)
{
	if (in->done)
		return;
	if (!strcmp(in->state, "waiting") && !w->stop)
		lookup_next_run(w, in);
	int v = verdict(w, in);
	in->settle_at = 0;
	if (!v)
		return;
	if (v > 0 && !w->stop && !strcmp(in->state, "running")) {
		in->settle_at = loop_now_ms() + CTL_SETTLE_MS;
		return;
	}
	in->done = 1;
	w->pending--;
	if (v < 0)
		w->failed = 1;
	if (!w->c->json)
		say_done(in, v > 0);
}

static struct waited *find(struct wait *w, const char *name)
{
	for (int i = 0; name && i < w->n; i++)
		if (!strcmp(w->v[i].name, name))
			return &w->v[i];
	return NULL;
}

/* One line of the event stream; returns 1 on shutdown */
static int on_event(struct wait *w, const char *line)
{
	cJSON *e = cJSON_Parse(line);
	const char *ev = js_str(e, "event");
	double seq, v;
	int rc = 0;
	if (!ev || (js_num(e, "seq", &seq) && seq <= w->seq))
		goto out;
	if (!strcmp(ev, "shutdown")) {
		rc = 1;
		goto out;
	}
	struct waited *in = find(w, js_str(e, "name"));
	if (!in || in->done)
		goto out;
	if (w->c->json && (!strcmp(ev, "state") || !strcmp(ev, "exit")))
		printf("%s\n", line);
	if (!strcmp(ev, "exit")) {
		const char *sig = js_str(e, "signal");
		if (sig)
			snprintf(in->exit_info, sizeof in->exit_info, "killed by %s", sig);
		else if (js_num(e, "exit_code", &v))
			snprintf(in->exit_info, sizeof in->exit_info, "status %.0f", v);
	} else if (!strcmp(ev, "state") && js_str(e, "state")) {
		set_str(in->state, sizeof in->state, js_str(e, "state"));
		set_str(in->reason, sizeof in->reason, js_str(e, "reason"));
		in->pid = js_num(e, "pid", &v) ? v : -1;
		update(w, in);
	}
out:
	cJSON_Delete(e);
	return rc;
}

static void say_pending(const struct wait *w, const char *what)
{
	fprintf(stderr, "mls ctl: %s; still waiting for", what);
	for (int i = 0, k = 0; i < w->n; i++) {
		const struct waited *in = &w->v[i];
		if (in->done)
			continue;
		fprintf(stderr, "%s %s (%s%s%s)", k++ ? "," : "", in->name, in->state,
			in->reason[0] ? ": " : "", in->reason);
	}
	fputc('\n', stderr);
}

/* The instances of the reply, each maybe final already */
static int take_reply(struct wait *w, const cJSON *reply)
{
	const cJSON *arr = js_arr(reply, "instances"), *s;
	double v;
	w->n = cJSON_GetArraySize(arr);
	w->v = calloc((size_t)w->n + 1, sizeof *w->v);
	if (!w->v)
		return -1;
	w->pending = w->n;
	js_num(reply, "seq", &w->seq);
	int i = 0;
	cJSON_ArrayForEach(s, arr) {
		struct waited *in = &w->v[i++];
		set_str(in->name, sizeof in->name, js_str(s, "name"));
		set_str(in->state, sizeof in->state, js_str(s, "state"));
		set_str(in->reason, sizeof in->reason, js_str(s, "reason"));
		in->pid = js_num(s, "pid", &v) ? v : -1;
	}
	for (i = 0; i < w->n; i++)
		update(w, &w->v[i]);
	return 0;
}

static int follow(struct wait *w, struct ctlclient *ev)
{
	int64_t deadline = w->c->timeout_ms ? loop_now_ms() + w->c->timeout_ms : -1;
	char what[96], t[32];
	while (w->pending > 0) {
		/* instances running long enough are done */
		int64_t now = loop_now_ms(), until = deadline;
		for (int i = 0; i < w->n; i++) {
			struct waited *in = &w->v[i];
			if (in->done || !in->settle_at)
				continue;
			if (in->settle_at <= now) {
				in->settle_at = 0;
				in->done = 1;
				w->pending--;
				if (!w->c->json)
					say_done(in, 1);
			} else if (until < 0 || in->settle_at < until)
				until = in->settle_at;
		}
		if (w->pending == 0)
			break;
		int r = ctlclient_read_line(ev, until);
		if (r < 0 && errno == ETIMEDOUT && until != deadline)
			continue;
		if (r == 1 && on_event(w, ev->line)) {
			say_pending(w, "the supervisor is shutting down");
			return CTL_FAIL;
		}
		if (r == 1)
			continue;
		if (r == 0)
			say_pending(w, "the supervisor closed the connection");
		else if (errno == ETIMEDOUT) {
			snprintf(what, sizeof what, "timed out after %s", fmt_uptime(w->c->timeout_ms / 1000, t, sizeof t));
			say_pending(w, what);
		} else {
			snprintf(what, sizeof what, "reading events: %s", strerror(errno));
			say_pending(w, what);
		}
		return CTL_FAIL;
	}
	return w->failed ? CTL_FAIL : CTL_OK;
}

/* --no-wait: the reply's states, as they are */
static int no_wait(const struct ctl *c, int argc, char **argv)
{
	int rc;
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	const cJSON *s;
	cJSON_ArrayForEach(s, js_arr(j, "instances")) {
		const char *n = js_str(s, "name"), *st = js_str(s, "state");
		printf("%s: %s\n", n ? n : "?", st ? st : "?");
	}
	cJSON_Delete(j);
	return CTL_OK;
}

int ctl_change(const struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("%s needs at least one NAME (or all)", argv[0]);
	if (c->no_wait)
		return no_wait(c, argc, argv);
	struct ctlclient ev;
	int rc;
	if (conn_events(c, &ev, &rc))
		return rc;
	struct wait w = { .c = c, .stop = !strcmp(argv[0], "stop") };
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (j && take_reply(&w, j)) {
		fprintf(stderr, "mls ctl: out of memory\n");
		rc = CTL_FAIL;
	} else if (j)
		rc = follow(&w, &ev);
	cJSON_Delete(j);
	free(w.v);
	ctlclient_close(&ev);
	return rc;
}

/* shutdown: waits until the supervisor closes the event stream */
int ctl_shutdown(const struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage("shutdown takes no arguments");
	struct ctlclient ev;
	int rc;
	if (c->no_wait) {
		cJSON *j = ctl_call(c, argv, 1, &rc);
		if (j && !c->json)
			printf("the supervisor is shutting down\n");
		cJSON_Delete(j);
		return rc;
	}
	if (conn_events(c, &ev, &rc))
		return rc;
	cJSON *j = ctl_call(c, argv, 1, &rc);
	if (!j) {
		ctlclient_close(&ev);
		return rc;
	}
	cJSON_Delete(j);
	if (!c->json)
		printf("the supervisor is shutting down\n");
	fflush(stdout);
	int64_t deadline = c->timeout_ms ? loop_now_ms() + c->timeout_ms : -1;
	int r;
	while ((r = ctlclient_read_line(&ev, deadline)) == 1)
		if (c->json)
			printf("%s\n", ev.line);
	if (r == 0) {
		if (!c->json)
			printf("the supervisor has stopped\n");
		rc = CTL_OK;
	} else {
		char t[32];
		if (errno == ETIMEDOUT)
			fprintf(stderr, "mls ctl: timed out after %s; the supervisor is still shutting down\n",
				fmt_uptime(c->timeout_ms / 1000, t, sizeof t));
		else
			fprintf(stderr, "mls ctl: reading events: %s\n", strerror(errno));
		rc = CTL_FAIL;
	}
	ctlclient_close(&ev);
	return rc;
}
