/* sv_journal.c: reading the state journal back when mls supervise starts
 * (restart counts and exit history survive a restart of mls). Records are
 * written by sv_event.c; their fields are the events' (docs/protocol.md).
 * Records of older mls versions ("svc", "inst", "code", a numeric
 * "signal") are read too. Calls sv_sched.c, sv_step.c, sv_log.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cJSON.h"
#include "parse.h"
#include "sv.h"

static const cJSON *get(const cJSON *o, const char *k, const char *old)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return v ? v : cJSON_GetObjectItemCaseSensitive(o, old);
}

static int num(const cJSON *v, double dflt)
{
	return cJSON_IsNumber(v) ? (int)v->valuedouble : (int)dflt;
}

static void replay_exit(struct inst *i, const cJSON *o)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(o, "uptime_ms");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "signal");
	int s = 0;
	if (cJSON_IsNumber(sig))
		s = sig->valueint;
	else if (cJSON_IsString(sig) && parse_signal(sig->valuestring, &s))
		s = 0;
	i->has_exit = 1;
	i->last_code = num(get(o, "exit_code", "code"), -1);
	i->last_sig = s;
	inst_add_exit(i, cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0,
		num(cJSON_GetObjectItemCaseSensitive(o, "pid"), 0), i->last_code, i->last_sig,
		cJSON_IsNumber(up) ? (int64_t)up->valuedouble : 0);
}

static void replay_line(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	cJSON *o = cJSON_ParseWithLength(line, len);
	if (!o)
		return;
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "ev");
	const cJSON *svc = get(o, "service", "svc");
	const cJSON *in = get(o, "instance", "inst");
	if (cJSON_IsString(ev) && cJSON_IsString(svc) && !in && (!strcmp(ev->valuestring, "deployed") ||
	    !strcmp(ev->valuestring, "rolled_back") || !strcmp(ev->valuestring, "deploy_failed"))) {
		struct svc *v = sv_find(svc->valuestring, strlen(svc->valuestring));
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
		if (v && v->cfg->git.url)
			git_add_deploy(v, cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0, ev->valuestring,
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "revision")),
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "from")),
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "message")));
	} else if (cJSON_IsString(ev) && cJSON_IsString(svc) && cJSON_IsNumber(in)) {
		struct svc *v = sv_find(svc->valuestring, strlen(svc->valuestring));
		int idx = in->valueint;
		if (v && idx >= 1 && idx <= v->ninst) {
			struct inst *i = v->inst[idx - 1];
			if (!strcmp(ev->valuestring, "start") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "restart")))
				i->restarts++;
			else if (!strcmp(ev->valuestring, "exit"))
				replay_exit(i, o);
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
