/* mls ctl: control a running supervisor over its socket.
 *
 *   mls ctl [-s SOCKET] [--json] [--timeout DURATION] [--no-wait] COMMAND [ARGS...]
 *
 * The socket is -s, else $MLS_SOCKET, else /run/mls/mls.sock. The global
 * options may also follow the command. Exit: 0 done, 1 refused or failed,
 * 2 usage, 3 supervisor not reachable. The commands are described in
 * docs/cli.md; the protocol in docs/protocol.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applets.h"
#include "ctl.h"
#include "parse.h"
#include "proto.h"

#ifndef MLS_VERSION
#define MLS_VERSION "0.0.0-unknown"
#endif

int ctl_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("mls ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return applet_usage("ctl", 1);
}

/* signal SIG NAME... */
static int ctl_signal(const struct ctl *c, int argc, char **argv)
{
	int sig, rc;
	if (argc < 3)
		return ctl_usage("signal needs a signal and at least one NAME");
	if (parse_signal(argv[1], &sig))
		return ctl_usage("unknown signal '%s' (TERM, SIGTERM or a number)", argv[1]);
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	const cJSON *arr = js_arr(j, "signalled"), *e;
	int n = 0;
	/* names, or instance objects {"name":...} */
	cJSON_ArrayForEach(e, arr) {
		const char *name = cJSON_IsString(e) ? e->valuestring : js_str(e, "name");
		if (name && ++n)
			printf("%s: sent %s\n", name, argv[1]);
	}
	if (!n)
		printf("no instance has a process: nothing sent\n");
	cJSON_Delete(j);
	return CTL_OK;
}

static void print_names(const char *label, const cJSON *arr)
{
	const cJSON *e;
	int n = 0;
	printf("%s", label);
	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsString(e))
			printf("%s%s", n++ ? ", " : " ", e->valuestring);
	printf("%s\n", n ? "" : " -");
}

/* reload: the new config's errors, or what changed */
static int ctl_reload(const struct ctl *c, int argc, char **argv)
{
	int rc;
	if (argc != 1)
		return ctl_usage("reload takes no arguments");
	cJSON *j = ctl_call(c, argv, 1, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	double unchanged = 0;
	js_num(j, "unchanged", &unchanged);
	print_names("added:    ", js_arr(j, "added"));
	print_names("removed:  ", js_arr(j, "removed"));
	print_names("changed:  ", js_arr(j, "changed"));
	printf("unchanged: %.0f\n", unchanged);
	cJSON_Delete(j);
	return CTL_OK;
}

static int ctl_version(const struct ctl *c, int argc, char **argv)
{
	int rc;
	if (argc != 1)
		return ctl_usage("version takes no arguments");
	cJSON *j = ctl_call(c, argv, 1, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	const char *v = js_str(j, "version");
	double pid = 0;
	js_num(j, "pid", &pid);
	printf("supervisor: mls %s (pid %.0f)\n", v ? v : "?", pid);
	printf("client:     mls %s\n", MLS_VERSION);
	cJSON_Delete(j);
	return CTL_OK;
}

/* upgrade [PATH]: re-exec supervise (docs/upgrade.md); the reply comes
 * from the new process */
static int ctl_upgrade(const struct ctl *c, int argc, char **argv)
{
	int rc;
	if (argc > 2)
		return ctl_usage("upgrade takes at most one argument: the path of the new binary");
	cJSON *j = ctl_call(c, argv, argc, &rc);
	if (!j || c->json) {
		cJSON_Delete(j);
		return rc;
	}
	double pid = 0, ms = 0, adopted = 0, restarted = 0;
	js_num(j, "pid", &pid);
	js_num(j, "ms", &ms);
	js_num(j, "adopted", &adopted);
	js_num(j, "restarted", &restarted);
	printf("upgraded: mls %s -> %s (pid %.0f), %.0f instances adopted, %.0f restarted, in %.0f ms\n",
		js_str(j, "from") ? js_str(j, "from") : "?", js_str(j, "version") ? js_str(j, "version") : "?", pid,
		adopted, restarted, ms);
	cJSON_Delete(j);
	return CTL_OK;
}

static const struct cmd {
	const char *name;
	int (*fn)(const struct ctl *, int, char **);
	int raw; /* its arguments are sent as they are: check the words */
} cmds[] = {
	{ "status", ctl_status, 1 },
	{ "start", ctl_change, 1 },
	{ "stop", ctl_change, 1 },
	{ "restart", ctl_change, 1 },
	{ "signal", ctl_signal, 1 },
	{ "logs", ctl_logs, 0 },
	{ "history", ctl_history, 1 },
	{ "health", ctl_health, 1 },
	{ "events", ctl_events, 1 },
	{ "top", ctl_top, 1 },
	{ "reload", ctl_reload, 1 },
	{ "shutdown", ctl_shutdown, 1 },
	{ "upgrade", ctl_upgrade, 1 },
	{ "poweroff", ctl_power, 1 },
	{ "reboot", ctl_power, 1 },
	{ "halt", ctl_power, 1 },
	{ "version", ctl_version, 1 },
	{ "run", ctl_run, 0 },
	{ "deploy", ctl_deploy, 1 },
	{ "rollback", ctl_deploy, 1 },
};

/* Is argv[*i] a global option? Consumes its value; returns 1 (taken), 0
 * (not one), 2 (--help), or -1 on a bad value (printed). */
static int global_opt(struct ctl *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *val = NULL;
	int takes = !strcmp(a, "-s") || !strcmp(a, "--socket") || !strcmp(a, "--timeout");
	if (!strcmp(a, "--help") || !strcmp(a, "-h"))
		return 2;
	if (!strcmp(a, "--json")) {
		c->json = 1;
		return 1;
	}
	if (!strcmp(a, "--no-wait")) {
		c->no_wait = 1;
		return 1;
	}
	if (takes) {
		if (*i + 1 >= argc) {
			ctl_usage("%s needs a value", a);
			return -1;
		}
		val = argv[++*i];
	} else if (!strncmp(a, "--socket=", 9) || !strncmp(a, "--timeout=", 10))
		val = strchr(a, '=') + 1;
	else
		return 0;
	if (!strncmp(a, "--timeout", 9)) {
		c->timeout_set = 1;
		if (parse_duration(val, &c->timeout_ms) || c->timeout_ms < 0) {
			ctl_usage("--timeout: '%s' is not a duration (90s, 2m, 0 for none)", val);
			return -1;
		}
	} else
		c->sock = val;
	return 1;
}

/* Commands that send their arguments as they are take no options */
static int unknown_opt(char **words, int n)
{
	for (int i = 1; i < n; i++)
		if (words[i][0] == '-') {
			ctl_usage("%s: unknown option '%s'", words[0], words[i]);
			return 1;
		}
	return 0;
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = { .sock = getenv("MLS_SOCKET"), .timeout_ms = CTL_WAIT_MS };
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int nrest = 0, dashdash = 0;
	if (!rest) {
		fprintf(stderr, "mls ctl: out of memory\n");
		return CTL_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = 1;
			continue;
		}
		int r = dashdash ? 0 : global_opt(&c, argc, argv, &i);
		if (r < 0 || r == 2) {
			free(rest);
			return r < 0 ? CTL_USAGE : applet_usage("ctl", 0);
		}
		if (!r)
			rest[nrest++] = argv[i];
	}
	if (!c.sock || !*c.sock)
		c.sock = PROTO_DEFAULT_SOCKET;
	int rc;
	if (nrest == 0)
		rc = ctl_usage("no command");
	else {
		const struct cmd *cmd = NULL;
		for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
			if (!strcmp(cmds[i].name, rest[0]))
				cmd = &cmds[i];
		if (!cmd)
			rc = ctl_usage("unknown command '%s'", rest[0]);
		else if (cmd->raw && (ctl_words_ok(rest, nrest) || unknown_opt(rest, nrest)))
			rc = CTL_USAGE;
		else
			rc = cmd->fn(&c, nrest, rest);
	}
	free(rest);
	fflush(stdout);
	return rc;
}
