/* mls ctl deploy NAME [REF], mls ctl rollback NAME: ask gitwatch (through
 * supervise) to deploy now or to go back to the last good revision, then
 * follow the events until the outcome: deployed (0), up to date (0),
 * rolled back (1 for a deploy, 0 for the rollback asked for) or failed (1). --no-wait: only the request. The wait is
 * --timeout, 10 minutes when not given (a verify window is 60s by
 * default, a fetch and a pre_deploy hook come before it). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ctl.h"
#include "loop.h"

#define DEPLOY_WAIT_MS (10 * 60 * 1000)

static const char *short_sha(const char *s, char *buf)
{
	snprintf(buf, 13, "%s", s ? s : "?");
	return buf;
}

/* One event of the service: prints it; returns the exit status when it
 * is the outcome, -1 otherwise. A rollback asked for (rb) that happened
 * is a success. */
static int deploy_event(const cJSON *e, const char *name, int rb)
{
	const char *ev = js_str(e, "event"), *svc = js_str(e, "service");
	const char *msg = js_str(e, "message");
	char a[16], b[16];
	if (!ev || !svc || strcmp(svc, name))
		return -1;
	if (!strcmp(ev, "state")) {
		const char *r = js_str(e, "reason");
		printf("%s: %s%s%s%s\n", js_str(e, "name") ? js_str(e, "name") : name, js_str(e, "state") ? js_str(e, "state") : "?",
			r ? " (" : "", r ? r : "", r ? ")" : "");
	} else if (!strcmp(ev, "pre_deploy")) {
		printf("%s: pre_deploy %s: %s\n", name, short_sha(js_str(e, "revision"), a), msg ? msg : "?");
	} else if (!strcmp(ev, "deployed")) {
		printf("%s: deployed %s\n", name, short_sha(js_str(e, "revision"), a));
		return CTL_OK;
	} else if (!strcmp(ev, "up_to_date")) {
		printf("%s: up to date (%s)\n", name, short_sha(js_str(e, "revision"), a));
		return CTL_OK;
	} else if (!strcmp(ev, "rolled_back")) {
		printf("%s: rolled back from %s to %s%s%s\n", name, short_sha(js_str(e, "from"), a),
			short_sha(js_str(e, "revision"), b), msg ? ": " : "", msg ? msg : "");
		return rb ? CTL_OK : CTL_FAIL;
	} else if (!strcmp(ev, "deploy_failed")) {
		printf("%s: deploy failed%s%s\n", name, msg ? ": " : "", msg ? msg : "");
		return CTL_FAIL;
	}
	fflush(stdout);
	return -1;
}

int ctl_deploy(const struct ctl *c, int argc, char **argv)
{
	int rb = !strcmp(argv[0], "rollback"), rc = CTL_UNREACHABLE, r;
	if (argc < 2 || argc > (rb ? 2 : 3))
		return ctl_usage(rb ? "usage: rollback NAME" : "usage: deploy NAME [REF]");
	if (c->no_wait) {
		cJSON *j = ctl_call(c, argv, argc, &rc);
		if (j && !c->json)
			printf("%s: %s requested\n", argv[1], argv[0]);
		cJSON_Delete(j);
		return rc;
	}
	/* follow the events from before the request on */
	struct ctlclient k;
	if (conn_events(c, &k, &rc))
		return rc;
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j) {
		ctlclient_close(&k);
		return rc;
	}
	cJSON_Delete(j);
	if (!c->json)
		printf("%s: %s requested\n", argv[1], argv[0]);
	fflush(stdout);
	int64_t wait = c->timeout_set ? c->timeout_ms : DEPLOY_WAIT_MS;
	int64_t deadline = wait > 0 ? loop_now_ms() + wait : -1;
	rc = -1;
	while (rc < 0 && (r = ctlclient_read_line(&k, deadline)) == 1) {
		cJSON *e = cJSON_Parse(k.line);
		if (c->json) {
			const char *svc = js_str(e, "service");
			if (svc && !strcmp(svc, argv[1]))
				printf("%s\n", k.line);
		}
		const char *ev = js_str(e, "event");
		if (ev && !strcmp(ev, "shutdown")) {
			fprintf(stderr, "mls ctl: the supervisor is shutting down\n");
			rc = CTL_FAIL;
		} else if (c->json) {
			const char *svc = js_str(e, "service");
			if (ev && svc && !strcmp(svc, argv[1]) && (!strcmp(ev, "deployed") || !strcmp(ev, "up_to_date")))
				rc = CTL_OK;
			else if (ev && svc && !strcmp(svc, argv[1]) && !strcmp(ev, "rolled_back"))
				rc = rb ? CTL_OK : CTL_FAIL;
			else if (ev && svc && !strcmp(svc, argv[1]) && !strcmp(ev, "deploy_failed"))
				rc = CTL_FAIL;
		} else
			rc = deploy_event(e, argv[1], rb);
		cJSON_Delete(e);
		fflush(stdout);
	}
	if (rc < 0) {
		if (r < 0 && errno == ETIMEDOUT)
			fprintf(stderr, "mls ctl: %s: no outcome within the timeout (mls ctl status %s)\n", argv[1], argv[1]);
		else
			fprintf(stderr, "mls ctl: reading events: %s\n", r < 0 ? strerror(errno) : "the supervisor closed the connection");
		rc = CTL_FAIL;
	}
	ctlclient_close(&k);
	return rc;
}
