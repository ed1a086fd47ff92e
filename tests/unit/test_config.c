/* Unit test of the config loader (lib/config.c) through config_load_mem():
 * which findings a snippet gives (counts, first error, its place and key),
 * and the values it converts to (durations in ms, sizes in bytes, enums,
 * defaults, defaults: merging, environment, ${VAR} expansion).
 *
 * Tables; every row carries its __LINE__. The environment is a fixed table
 * given through config_opts.getenv, so nothing depends on the caller's.
 * Buffers are handed over without a terminating NUL, exactly `len` bytes
 * long, so that ASan catches any read past the end. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "tap.h"

/* ---- the environment the loader sees ---- */

static const char *const test_env[][2] = {
	{ "MLS_T_SET", "value" },
	{ "MLS_T_EMPTY", "" },
	{ "MLS_T_OTHER", "other" },
	{ "PATH", "/usr/bin:/bin" },
	{ NULL, NULL },
};

static const char *test_getenv(const char *name, void *ctx)
{
	const char *const (*env)[2] = ctx;
	for (int i = 0; env[i][0]; i++)
		if (!strcmp(env[i][0], name))
			return env[i][1];
	return NULL;
}

static const char *const no_profiles[] = { NULL };

/* The options validate uses, but with the table environment and no PATH
 * check (that looks at the machine) */
static struct config_opts test_opts(const char *const *profiles)
{
	struct config_opts o = {
		.profiles = profiles ? profiles : no_profiles,
		.getenv = test_getenv,
		.getenv_ctx = (void *)test_env,
		.check_commands = 0,
		.unsupported = DIAG_WARNING,
	};
	return o;
}

/* Load `yaml` (as file "test.yaml" unless name is given) into cfg and d */
static int load(struct config *cfg, struct diags *d, const char *name, const char *yaml,
		const struct config_opts *o)
{
	size_t len = strlen(yaml);
	char *buf = malloc(len ? len : 1); /* no NUL: over-reads trip ASan */
	if (!buf) {
		perror("malloc");
		exit(2);
	}
	memcpy(buf, yaml, len);
	memset(d, 0, sizeof *d);
	int rc = config_load_mem(cfg, name ? name : "test.yaml", buf, len, o, d);
	free(buf);
	diag_sort(d);
	return rc;
}

/* First diagnostic of a severity, NULL if none */
static const struct diag *first_of(const struct diags *d, enum diag_severity sev)
{
	for (int i = 0; i < d->n; i++)
		if (d->v[i].sev == sev)
			return &d->v[i];
	return NULL;
}

static void dump_diags(const struct diags *d)
{
	char buf[2048];
	for (int i = 0; i < d->n; i++)
		tap_diag("  %s  [key %s]", diag_format(&d->v[i], buf, sizeof buf), d->v[i].key ? d->v[i].key : "(null)");
}

/* ======================================================================
 * 1. Findings: counts, the first error (or warning) and where it is
 * ==================================================================== */

struct dcase {
	int line;
	const char *yaml;
	int errors, warnings;
	const char *msg;   /* substring of the first error, or of the first warning when no error; NULL: none */
	int eline, ecol;   /* its place; 0 = not checked */
	const char *key;   /* its key; NULL = not checked, "" = no key */
};

#define SVC "services:\n  web:\n    command: [\"sleep\", \"1\"]\n"

static const struct dcase dcases[] = {
	/* valid */
	{ __LINE__, SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  web: {command: sleep 1}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    restart: no\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    x-anything: [1, {a: b}]\nx-top: 1\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "x-c: &c [\"sleep\", \"1\"]\nservices:\n  web: {command: *c}\n", 0, 0, NULL, 0, 0, NULL },

	/* empty and near-empty */
	{ __LINE__, "", 0, 1, "no services defined", 0, 0, "" },
	{ __LINE__, "# just a comment\n", 0, 1, "no services defined", 0, 0, "" },
	{ __LINE__, "services:\n", 0, 1, "no services defined", 1, 10, "" },
	{ __LINE__, "services: {}\n", 0, 1, "no services defined", 1, 11, "" },

	/* YAML level */
	{ __LINE__, "services:\n  web:\n    command: [a, b\n", 1, 0, "YAML syntax: did not find expected ',' or ']'", 4, 1, "" },
	{ __LINE__, "services:\n\tweb:\n", 1, 0, "YAML syntax: a tab cannot indent YAML (use spaces)", 2, 1, "" },
	{ __LINE__, SVC "    command: ls\n", 1, 0, "duplicate key 'command' (first at line 3:5)", 4, 5, "" },
	{ __LINE__, SVC "---\nservices: {}\n", 1, 0, "more than one YAML document", 4, 1, "" },
	{ __LINE__, "- a\n- b\n", 1, 0, "expected a mapping of keys at the top level, got a list", 1, 1, "" },
	{ __LINE__, "just a string\n", 1, 0, "expected a mapping of keys at the top level, got a value", 1, 1, "" },
	{ __LINE__, "services:\n  web: *nope\n", 1, 0, "unknown alias *nope", 2, 8, "" },
	{ __LINE__, "? [a]\n: b\n", 1, 0, "a mapping key must be a plain value, not a list", 1, 3, "" },
	{ __LINE__, "x: &a {b: 1}\ny: {<<: [*a, 1]}\n", 1, 0, "'<<' needs one mapping or a list of mappings", 2, 14, "" },
	{ __LINE__, "services:\n  web:\n    command: [\"a\\0b\"]\n", 1, 0, "a value holds a NUL character", 3, 15, "" },
	{ __LINE__, "a: \x80\n", 1, 0, "not valid UTF-8 (invalid leading UTF-8 octet): a config file must be UTF-8", 1, 4, "" },
	{ __LINE__, "x: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  1, 0, "nesting deeper than 64 levels", 1, 67, "" },
	{ __LINE__, "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
	  1, 0, "more than 1000000 YAML nodes (counting aliases)", 6, 0, "" },

	/* unknown keys */
	{ __LINE__, "servics: {}\n", 1, 1, "unknown key 'servics' (did you mean 'services'?)", 1, 1, "servics" },
	{ __LINE__, SVC "    comand: x\n", 1, 0, "services.web: unknown key 'comand' (did you mean 'command'?)", 4, 5, "services.web.comand" },
	{ __LINE__, SVC "    imag: nginx\n", 1, 0, "services.web: unknown key 'imag' (did you mean 'image'?)", 4, 5, "services.web.imag" },
	{ __LINE__, SVC "    healthcheck: {exec: x, intervl: 1s}\n", 1, 0, "services.web.healthcheck: unknown key 'intervl' (did you mean 'interval'?)", 4, 28, "services.web.healthcheck.intervl" },
	{ __LINE__, SVC "    healthcheck: {exec: x, start_intervl: 1s}\n", 1, 0, "unknown key 'start_intervl' (did you mean 'start_interval'?)", 4, 28, "services.web.healthcheck.start_intervl" },
	{ __LINE__, SVC "    watchdg: 5s\n", 1, 0, "services.web: unknown key 'watchdg' (did you mean 'watchdog'?)", 4, 5, "services.web.watchdg" },

	/* types */
	{ __LINE__, "services: [web]\n", 1, 0, "services: expected a mapping of service names, got a list", 1, 11, "services" },
	{ __LINE__, "services:\n  web: ls\n", 1, 0, "services.web: expected a mapping, got a value", 2, 8, "services.web" },
	{ __LINE__, SVC "    log: [a]\n", 1, 0, "services.web.log: expected a mapping, got a list", 4, 10, "services.web.log" },
	{ __LINE__, SVC "    working_dir: {a: b}\n", 1, 0, "services.web.working_dir: expected a string, got a mapping", 4, 18, "services.web.working_dir" },
	{ __LINE__, SVC "    tags: {a: b}\n", 1, 0, "expected a string or a list of strings, got a mapping", 4, 11, "services.web.tags" },
	{ __LINE__, SVC "    environment: A=1\n", 1, 0, "expected a mapping or a list of KEY=VALUE, got a value", 4, 18, "services.web.environment" },
	{ __LINE__, "services:\n  web:\n    command: {a: b}\n", 1, 0, "expected a command: a string (run by /bin/sh -c) or a list, got a mapping", 3, 14, "services.web.command" },
	{ __LINE__, SVC "    critical: yes\n", 1, 0, "services.web.critical: expected true or false, got 'yes'", 4, 15, NULL },
	{ __LINE__, SVC "    critical: True\n", 0, 0, NULL, 0, 0, NULL },

	/* commands */
	{ __LINE__, "services:\n  web: {}\n", 1, 0, "services.web: missing 'command'", 2, 3, "services.web" },
	{ __LINE__, "services:\n  web:\n", 1, 0, "services.web: missing 'command'", 2, 3, "services.web" },
	{ __LINE__, "services:\n  web: {command: []}\n", 1, 0, "empty command", 2, 18, "services.web.command" },
	{ __LINE__, "services:\n  web: {command: \"\"}\n", 1, 0, "empty command", 2, 18, "services.web.command" },
	{ __LINE__, "services:\n  web: {command: [\"\", x]}\n", 1, 0, "empty program name", 2, 19, "services.web.command[0]" },
	{ __LINE__, "services:\n  web: {command: [a, [b]]}\n", 1, 0, "expected a string, got a list", 2, 22, "services.web.command[1]" },

	/* service names */
	{ __LINE__, "services:\n  Web: {command: x}\n", 1, 0, "bad service name 'Web'", 2, 3, "services" },
	{ __LINE__, "services:\n  _a: {command: x}\n", 1, 0, "bad service name '_a'", 2, 3, "services" },
	{ __LINE__, "services:\n  a.b: {command: x}\n", 1, 0, "bad service name 'a.b'", 2, 3, "services" },
	{ __LINE__, "services:\n  0-a_b: {command: x}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  a23456789012345678901234567890123456789012345678901234567890123: {command: x}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  a234567890123456789012345678901234567890123456789012345678901234: {command: x}\n", 1, 0, "bad service name", 2, 3, "services" },

	/* durations, sizes, percentages, signals, numbers */
	{ __LINE__, SVC "    stop_grace_period: 10\n", 1, 0, "bad duration '10' (use e.g. 250ms, 5s, 2m, 1h30m)", 4, 24, "services.web.stop_grace_period" },
	{ __LINE__, SVC "    stop_grace_period: 30m1h\n", 1, 0, "bad duration '30m1h'", 4, 24, NULL },
	{ __LINE__, SVC "    stop_grace_period: -1s\n", 1, 0, "bad duration '-1s'", 4, 24, NULL },
	{ __LINE__, SVC "    stop_grace_period: 1.5ms\n", 1, 0, "bad duration '1.5ms'", 4, 24, NULL },
	{ __LINE__, SVC "    stop_grace_period: \"5 s\"\n", 1, 0, "bad duration '5 s'", 4, 24, NULL },
	{ __LINE__, SVC "    limits: {memory: 10QB}\n", 1, 0, "bad size '10QB' (use e.g. 512, 64KiB, 256MiB, 1GiB)", 4, 22, "services.web.limits.memory" },
	{ __LINE__, SVC "    limits: {memory: 1000KiB}\n", 1, 0, "less than 1MiB", 4, 22, NULL },
	{ __LINE__, SVC "    log: {max_size: 1023}\n", 1, 0, "must be at least 1KiB", 4, 21, "services.web.log.max_size" },
	{ __LINE__, SVC "    restart_backoff: {jitter: 101%}\n", 1, 0, "expected a percentage from 0% to 100%, got '101%'", 4, 31, "services.web.restart_backoff.jitter" },
	{ __LINE__, SVC "    restart_backoff: {jitter: 10}\n", 1, 0, "expected a percentage", 4, 31, NULL },
	{ __LINE__, SVC "    restart_backoff: {factor: 0.5}\n", 1, 0, "expected a number from 1 to 100, got '0.5'", 4, 31, NULL },
	{ __LINE__, SVC "    restart_backoff: {initial: 0s}\n", 1, 0, "restart_backoff.initial: must be more than 0", 4, 32, NULL },
	{ __LINE__, SVC "    restart_backoff: {initial: 2m, max: 1m}\n", 1, 0, "max (60000ms) is less than initial (120000ms)", 4, 22, "services.web.restart_backoff" },
	{ __LINE__, SVC "    restart_limit: {count: 0}\n", 1, 0, "expected an integer from 1 to 1000000, got '0'", 4, 28, "services.web.restart_limit.count" },
	{ __LINE__, SVC "    restart_limit: {window: 0s}\n", 1, 0, "restart_limit.window: must be more than 0", 4, 29, NULL },
	{ __LINE__, SVC "    stop_signal: SIGFOO\n", 1, 0, "unknown signal 'SIGFOO' (use a name like TERM, SIGINT or a number)", 4, 18, "services.web.stop_signal" },
	{ __LINE__, SVC "    stop_signal: 0\n", 1, 0, "unknown signal '0'", 4, 18, NULL },
	{ __LINE__, SVC "    replicas: 0\n", 1, 0, "expected an integer from 1 to 1000, got '0'", 4, 15, "services.web.replicas" },
	{ __LINE__, SVC "    replicas: 1001\n", 1, 0, "expected an integer from 1 to 1000, got '1001'", 4, 15, NULL },
	{ __LINE__, SVC "    replicas: 2.0\n", 1, 0, "expected an integer from 1 to 1000, got '2.0'", 4, 15, NULL },
	{ __LINE__, SVC "    port: 0\n", 1, 0, "expected auto or a TCP port from 1 to 65535, got '0'", 4, 11, "services.web.port" },
	{ __LINE__, SVC "    port: 65536\n", 1, 0, "got '65536'", 4, 11, NULL },
	{ __LINE__, SVC "    port: Auto\n", 1, 0, "got 'Auto'", 4, 11, NULL },
	{ __LINE__, SVC "    port: 65535\n    replicas: 2\n", 1, 0, "ports 65535 to 65536: past 65535", 4, 11, "services.web.port" },
	{ __LINE__, SVC "    nice: -21\n", 1, 0, "expected an integer from -20 to 19, got '-21'", 4, 11, NULL },
	{ __LINE__, SVC "    ready_fd: 2\n", 1, 0, "expected an integer from 3 to 1023, got '2'", 4, 15, NULL },
	{ __LINE__, SVC "    user: \"a b\"\n", 1, 0, "bad user 'a b' (expected a user name, or uid[:gid])", 4, 11, NULL },
	{ __LINE__, SVC "    user: \"1000:x\"\n", 1, 0, "bad user '1000:x'", 4, 11, NULL },
	{ __LINE__, SVC "    user: \"1000:1000\"\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    user: www-data\n", 0, 0, NULL, 0, 0, NULL },

	/* enums */
	{ __LINE__, SVC "    restart: On-Failure\n", 1, 0, "unknown value 'On-Failure' (did you mean 'on-failure'?)", 4, 14, "services.web.restart" },
	{ __LINE__, SVC "    restart: unless-stopped\n", 1, 0, "unknown value 'unless-stopped' (expected always, on-failure or no)", 4, 14, NULL },
	{ __LINE__, SVC "    restart: false\n", 1, 0, "unknown value 'false'", 4, 14, NULL },
	{ __LINE__, SVC "    ready: maybe\n", 1, 0, "unknown value 'maybe' (expected one of: none, notify, healthy)", 4, 12, NULL },
	{ __LINE__, "log_level: verbose\n" SVC, 1, 0, "log_level: unknown value 'verbose' (expected one of: debug, info, warn, error)", 1, 12, "log_level" },
	{ __LINE__, "log_format: jsn\n" SVC, 1, 0, "did you mean 'json'?", 1, 13, "log_format" },
	{ __LINE__, "startup: paralel\n" SVC, 1, 0, "did you mean 'parallel'?", 1, 10, "startup" },

	/* cron: one case per field (messages in detail: test_cron.c) */
	{ __LINE__, SVC "    schedule: \"60 * * * *\"\n", 1, 0, "bad cron expression '60 * * * *': minute out of range 0-59", 4, 16, "services.web.schedule" },
	{ __LINE__, SVC "    schedule: \"* 24 * * *\"\n", 1, 0, "hour out of range 0-23", 4, 18, NULL },
	{ __LINE__, SVC "    schedule: \"* * 32 * *\"\n", 1, 0, "day-of-month out of range 1-31", 4, 20, NULL },
	{ __LINE__, SVC "    schedule: \"* * * 0 *\"\n", 1, 0, "month out of range 1-12", 4, 22, NULL },
	{ __LINE__, SVC "    schedule: \"* * * * 8\"\n", 1, 0, "day-of-week out of range 0-7", 4, 24, NULL },
	{ __LINE__, SVC "    schedule: \"* * * *\"\n", 1, 0, "expected 5 fields", 4, 0, NULL },
	{ __LINE__, SVC "    schedule: \"@often\"\n", 1, 0, "bad cron expression '@often'", 4, 16, NULL },
	{ __LINE__, SVC "    schedule: \"0 12 * jan-mar mon-fri\"\n", 0, 0, NULL, 0, 0, NULL },

	/* URLs and addresses */
	{ __LINE__, SVC "    healthcheck: {http: \"localhost:80/\"}\n", 1, 0, "bad URL 'localhost:80/' (expected http:// or https://HOST[:PORT]/PATH)", 4, 25, "services.web.healthcheck.http" },
	{ __LINE__, SVC "    healthcheck: {http: \"ftp://127.0.0.1/\"}\n", 1, 0, "bad URL 'ftp://127.0.0.1/'", 4, 25, "services.web.healthcheck.http" },
	{ __LINE__, SVC "    port: auto\n    healthcheck: {http: \"http://127.0.0.1:${PORT}/h\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    port: auto\n    healthcheck: {http: \"https://${MLS_SERVICE}-${MLS_INSTANCE}.local:${PORT}/h?x=$$1\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    port: auto\n    healthcheck: {http: \"http://127.0.0.1:${PORT}x/h\"}\n", 1, 0, "bad URL 'http://127.0.0.1:${PORT}x/h'", 5, 25, NULL },
	{ __LINE__, SVC "    healthcheck: {tcp: \"localhost\"}\n", 1, 0, "bad address 'localhost' (expected HOST:PORT)", 4, 24, NULL },
	{ __LINE__, SVC "    healthcheck: {tcp: \"[::1]:80\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    port: auto\n    healthcheck: {tcp: \"127.0.0.1:${PORT}\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    port: auto\n    healthcheck: {tcp: \"localhost${PORT}\"}\n", 1, 0, "services.web.healthcheck.tcp: bad address 'localhost${PORT}' (expected HOST:PORT)", 5, 24, "services.web.healthcheck.tcp" },
	/* $$ is a literal '$': "127.0.0.1:${PORT}" as written is no address */
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:$${PORT}\"}\n", 1, 0, "bad address '127.0.0.1:$${PORT}'", 4, 24, NULL },
	{ __LINE__, "notify: {url: \"ftp://x/\"}\n" SVC, 1, 0, "notify.url: bad URL 'ftp://x/'", 1, 15, "notify.url" },
	{ __LINE__, "notify: [{url: \"http://h/\"}, {url: \"ftp://x/\"}]\n" SVC, 1, 0, "notify[1].url: bad URL 'ftp://x/'", 1, 36, "notify[1].url" },
	{ __LINE__, "http: {listen: \"9000\"}\n" SVC, 1, 0, "bad address '9000' (expected HOST:PORT, e.g. 127.0.0.1:9000 or [::1]:9000)", 1, 16, "http.listen" },
	{ __LINE__, "http: {listen: \"0.0.0.0:9000\"}\n" SVC, 1, 0, "'0.0.0.0:9000' is not on loopback: set http.token or http.token_file", 1, 16, "http.listen" },
	{ __LINE__, "http: {listen: \"[::]:9000\"}\n" SVC, 1, 0, "is not on loopback", 1, 16, NULL },
	{ __LINE__, "http: {listen: \"0.0.0.0:9000\", token: \"0123456789abcdef\"}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "http: {listen: \"0.0.0.0:9000\", token_file: /etc/mls/token}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "http: {listen: \"127.0.0.1:9000\"}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "http: {listen: \"localhost:9000\"}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "http: {listen: \"[::1]:9000\"}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "http: {listen: \"127.0.0.1:9000\", token: short}\n" SVC, 1, 0, "a token must be at least 16 characters", 1, 41, "http.token" },

	/* mutually exclusive keys, jobs */
	{ __LINE__, SVC "    schedule: \"@hourly\"\n    replicas: 2\n", 1, 0, "'replicas' greater than 1 and 'schedule' are mutually exclusive", 5, 15, "services.web.replicas" },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", exec: x}\n", 1, 0, "'http' and 'exec' are mutually exclusive", 4, 38, "services.web.healthcheck" },
	{ __LINE__, SVC "    healthcheck: {interval: 1s}\n", 1, 0, "a health check needs one of http, tcp, exec", 4, 18, "services.web.healthcheck" },
	{ __LINE__, SVC "    runs: 1\n    restart: always\n", 1, 0, "'restart: always' is not allowed for a job ('runs'); use on-failure or no", 5, 14, "services.web.restart" },
	{ __LINE__, SVC "    schedule: \"@daily\"\n    restart: always\n", 1, 0, "not allowed for a job ('schedule')", 5, 14, NULL },
	{ __LINE__, SVC "    schedule: \"@daily\"\n    runs: 1\n", 1, 0, "'runs' and 'schedule' are mutually exclusive", 5, 11, "services.web.runs" },
	{ __LINE__, SVC "    timeout: 5s\n", 1, 0, "'timeout' applies only to jobs (with 'schedule' or 'runs')", 4, 14, "services.web.timeout" },
	{ __LINE__, SVC "    runs: 1\n    timeout: 0s\n", 1, 0, "services.web.timeout: must be more than 0", 5, 14, NULL },
	{ __LINE__, SVC "    runs: 1\n    ready: notify\n", 1, 0, "a job ('runs') has no readiness; remove 'ready'", 5, 12, "services.web.ready" },
	{ __LINE__, SVC "    ready: healthy\n", 1, 0, "'ready: healthy' needs a 'healthcheck'", 4, 12, "services.web.ready" },
	{ __LINE__, "defaults: {restart: always}\n" SVC "    runs: 1\n", 0, 0, NULL, 0, 0, NULL },

	/* health checks: the keys' ranges */
	{ __LINE__, SVC "    healthcheck: {exec: x, start_interval: 0s}\n", 1, 0, "services.web.healthcheck.start_interval: must be more than 0", 4, 44, "services.web.healthcheck.start_interval" },
	{ __LINE__, SVC "    healthcheck: {exec: x, start_interval: 5}\n", 1, 0, "bad duration '5'", 4, 44, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, interval: 0s}\n", 1, 0, "services.web.healthcheck.interval: must be more than 0", 4, 38, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, timeout: 0}\n", 1, 0, "services.web.healthcheck.timeout: must be more than 0", 4, 37, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, retries: 0}\n", 1, 0, "services.web.healthcheck.retries: expected an integer from 1 to 1000, got '0'", 4, 37, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, start_period: -1s}\n", 1, 0, "services.web.healthcheck.start_period: bad duration '-1s'", 4, 42, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, success_threshold: 0}\n", 1, 0, "services.web.healthcheck.success_threshold: expected an integer from 1 to 1000, got '0'", 4, 47, "services.web.healthcheck.success_threshold" },
	{ __LINE__, SVC "    healthcheck: {exec: x, success_threshold: 1001}\n", 1, 0, "expected an integer from 1 to 1000, got '1001'", 4, 47, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, success_threshold: 1000}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    healthcheck: {exec: x, restart: no}\n", 1, 0, "services.web.healthcheck.restart: expected true or false, got 'no'", 4, 37, NULL },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: 99}\n", 1, 0, "services.web.healthcheck.expect_status: expected an integer from 100 to 599, got '99'", 4, 53, "services.web.healthcheck.expect_status" },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: 600}\n", 1, 0, "expected an integer from 100 to 599, got '600'", 4, 53, NULL },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: [200, 6000]}\n", 1, 0, "services.web.healthcheck.expect_status[1]: expected an integer from 100 to 599, got '6000'", 4, 59, "services.web.healthcheck.expect_status[1]" },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: [200, [301]]}\n", 1, 0, "expect_status[1]: expected a status code (100-599), got a list", 4, 59, NULL },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: []}\n", 1, 0, "services.web.healthcheck.expect_status: an empty list (leave expect_status out for any of 200-399)", 4, 53, NULL },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: {ok: 200}}\n", 1, 0, "expected a status code or a list of status codes (100-599), got a mapping", 4, 53, NULL },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 307]}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 307, 308]}\n",
	  1, 0, "services.web.healthcheck.expect_status[16]: more than 16 status codes", 4, 134, "services.web.healthcheck.expect_status[16]" },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", expect_status: 200}\n", 1, 0, "services.web.healthcheck.expect_status: applies only to an http check, not to 'tcp'", 4, 39, "services.web.healthcheck.expect_status" },
	{ __LINE__, SVC "    healthcheck: {expect_status: [204], exec: x}\n", 1, 0, "expect_status: applies only to an http check, not to 'exec'", 4, 19, NULL },
	/* ... in defaults: a template without a kind is fine; a rule between
	 * defaults and the service is the service's; within defaults, once */
	{ __LINE__, "defaults: {healthcheck: {interval: 10s, expect_status: 204}}\n" SVC "  api: {command: x, healthcheck: {http: \"http://a/\"}}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "defaults: {healthcheck: {interval: 10s}}\n" SVC "    healthcheck: {retries: 2}\n", 1, 0, "services.web.healthcheck: a health check needs one of http, tcp, exec", 5, 18, NULL },
	{ __LINE__, "defaults: {healthcheck: {expect_status: 204}}\n" SVC "    healthcheck: {tcp: \"127.0.0.1:1\"}\n", 1, 0,
	  "services.web.healthcheck.expect_status: applies only to an http check, not to 'tcp'", 1, 26, "services.web.healthcheck.expect_status" },
	{ __LINE__, "defaults: {healthcheck: {tcp: \"127.0.0.1:1\", expect_status: 204}}\n" SVC "  api: {command: x}\n", 1, 0,
	  "defaults.healthcheck.expect_status: applies only to an http check, not to 'tcp'", 1, 46, "defaults.healthcheck.expect_status" },
	{ __LINE__, "defaults: {healthcheck: {http: \"http://a/\"}}\n" SVC "    healthcheck: {http: ~, tcp: \"127.0.0.1:1\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "defaults: {healthcheck: {http: \"http://a/\"}}\n" SVC "    healthcheck: {tcp: \"127.0.0.1:1\"}\n", 1, 0, "'http' and 'tcp' are mutually exclusive", 5, 19, NULL },

	/* ready: healthy, healthcheck and watchdog with jobs */
	{ __LINE__, SVC "    ready: healthy\n    healthcheck: {exec: x}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    runs: 1\n    ready: healthy\n", 1, 0, "services.web.ready: a job ('runs') has no readiness; remove 'ready'", 5, 12, "services.web.ready" },
	{ __LINE__, SVC "    runs: 1\n    healthcheck: {exec: x}\n", 1, 0,
	  "services.web.healthcheck: a job ('runs') has no health check: it is not a long-running service; remove 'healthcheck'", 5, 18, "services.web.healthcheck" },
	{ __LINE__, SVC "    schedule: \"@daily\"\n    healthcheck: {exec: x}\n", 1, 0, "a job ('schedule') has no health check", 5, 18, NULL },
	{ __LINE__, "defaults: {healthcheck: {exec: x}}\n" SVC "  job: {command: x, runs: 1}\n", 1, 0,
	  "services.job.healthcheck: a job ('runs') has no health check", 1, 25, "services.job.healthcheck" },
	{ __LINE__, "defaults: {healthcheck: {interval: 2s}}\n" SVC "  job: {command: x, runs: 1}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    watchdog: 30s\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    watchdog: 0\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    watchdog: 30\n", 1, 0, "services.web.watchdog: bad duration '30' (use e.g. 250ms, 5s, 2m, 1h30m)", 4, 15, "services.web.watchdog" },
	{ __LINE__, SVC "    watchdog: -1s\n", 1, 0, "bad duration '-1s'", 4, 15, NULL },
	{ __LINE__, SVC "    schedule: \"@daily\"\n    watchdog: 1m\n", 1, 0,
	  "services.web.watchdog: a job ('schedule') has no watchdog: it is not a long-running service (use 'timeout' to bound a run)", 5, 15, "services.web.watchdog" },
	{ __LINE__, SVC "    runs: 2\n    watchdog: 0s\n", 0, 0, NULL, 0, 0, NULL },

	/* dependencies */
	{ __LINE__, SVC "    depends_on: [db]\n", 1, 0, "services.web.depends_on: unknown service 'db'", 4, 18, "services.web.depends_on" },
	{ __LINE__, SVC "    depends_on: [wep]\n  web2: {command: x}\n", 1, 0, "unknown service 'wep' (did you mean 'web'?)", 4, 18, NULL },
	{ __LINE__, SVC "    depends_on: web\n", 1, 0, "a service cannot depend on itself", 4, 17, "services.web.depends_on" },
	{ __LINE__, "services:\n  a: {command: x, depends_on: [b]}\n  b: {command: x, depends_on: [c]}\n  c: {command: x, depends_on: [a]}\n",
	  1, 0, "dependency cycle: a -> b -> c -> a", 4, 32, "services.c.depends_on" },
	{ __LINE__, "services:\n  a: {command: x, depends_on: [b]}\n  b: {command: x, depends_on: [a]}\n",
	  1, 0, "dependency cycle: a -> b -> a", 3, 32, NULL },
	{ __LINE__, "services:\n  a: {command: x, depends_on: [b, c]}\n  b: {command: x, depends_on: [c]}\n  c: {command: x}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_healthy}}\n  db: {command: x}\n", 1, 0,
	  "services.web.depends_on: 'db' has no healthcheck, so service_healthy would wait forever (give 'db' a healthcheck, or use service_started)", 4, 18, "services.web.depends_on" },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_healthy}}\n  db: {command: x, healthcheck: {tcp: \"127.0.0.1:5432\"}}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    depends_on: {mig: {condition: service_healthy}}\n  mig: {command: x, runs: 1}\n", 1, 0,
	  "services.web.depends_on: 'mig' is a job: it has no health check, so service_healthy would wait forever (use service_completed_successfully)", 4, 18, "services.web.depends_on" },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_helthy}}\n  db: {command: x}\n", 1, 0, "unknown value 'service_helthy' (did you mean 'service_healthy'?)", 4, 34, NULL },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_ready}}\n  db: {command: x}\n", 1, 0, "unknown value 'service_ready'", 4, 34, NULL },
	{ __LINE__, SVC "    depends_on: {db: {restart: true}}\n  db: {command: x}\n", 1, 0, "is a docker compose option mls does not have", 4, 32, "services.web.depends_on.db.restart" },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_completed_successfully}}\n  db: {command: x}\n",
	  0, 1, "'db' has restart: always, so it never completes", 4, 18, "services.web.depends_on" },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_completed_successfully}}\n  db: {command: x, runs: 1}\n", 0, 0, NULL, 0, 0, NULL },

	/* ports */
	{ __LINE__, "services:\n  a: {command: x, port: 8080}\n  b: {command: x, port: 8080}\n", 1, 0, "port 8080 of b.1 is also the port of a.1 (test.yaml:2)", 3, 25, "services.b.port" },
	{ __LINE__, "services:\n  a: {command: x, port: 8000, replicas: 3}\n  b: {command: x, port: 8002}\n", 1, 0, "port 8002 of b.1 is also the port of a.3", 3, 25, NULL },
	{ __LINE__, "services:\n  a: {command: x, port: 8000, replicas: 3}\n  b: {command: x, port: 8003}\n", 0, 0, NULL, 0, 0, NULL },
	/* one finding per pair of services, not per clashing instance */
	{ __LINE__, "services:\n  a: {command: x, port: 8000, replicas: 3}\n  b: {command: x, port: 8001, replicas: 3}\n", 1, 0, "port 8001 of b.1 is also the port of a.2", 3, 25, "services.b.port" },
	{ __LINE__, "services:\n  a: {command: x, port: auto}\n  b: {command: x, port: auto}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  a: {command: x, port: 80, profiles: [p]}\n  b: {command: x, port: 80}\n", 0, 0, NULL, 0, 0, NULL },

	/* ${VAR} */
	{ __LINE__, "state_dir: /run/${MLS_T_UNSET}\n" SVC, 1, 0, "state_dir: variable MLS_T_UNSET is not set", 1, 17, "state_dir" },
	{ __LINE__, "state_dir: \"/run/${MLS_T_UNSET}\"\n" SVC, 1, 0, "variable MLS_T_UNSET is not set", 1, 18, NULL },
	{ __LINE__, SVC "    environment: {A: \"x${MLS_T_UNSET:?give it}\"}\n", 1, 0, "services.web.environment.A: MLS_T_UNSET: give it", 4, 24, "services.web.environment.A" },
	{ __LINE__, SVC "    environment: {A: \"${MLS_T_EMPTY:?}\"}\n", 1, 0, "MLS_T_EMPTY", 4, 23, NULL },
	{ __LINE__, SVC "    environment: {A: \"${MLS_T_EMPTY?}\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    environment: {A: \"${MLS_T_UNSET:-${MLS_T_UNSET}}\"}\n", 1, 0, "variable MLS_T_UNSET is not set", 4, 38, NULL },
	{ __LINE__, SVC "    environment: {A: \"${MLS_T_SET:-${MLS_T_UNSET}}\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    environment: {A: \"${bad name}\"}\n", 1, 0, NULL, 4, 23, NULL },
	{ __LINE__, SVC "    environment: {A: \"${MLS_T_SET\"}\n", 1, 0, NULL, 4, 23, NULL },
	{ __LINE__, SVC "    user: \"${PORT}\"\n", 1, 0, "services.web.user: ${PORT} is only expanded per instance, in command, environment, working_dir, env_file, hooks and healthcheck", 4, 12, "services.web.user" },
	{ __LINE__, "log_dir: /x/${MLS_SERVICE}\n" SVC, 1, 0, "log_dir: ${MLS_SERVICE} is only expanded per instance", 1, 13, "log_dir" },
	{ __LINE__, SVC "    tags: [a, \"b-${MLS_INSTANCE}\"]\n", 1, 0, "services.web.tags[1]: ${MLS_INSTANCE} is only expanded per instance", 4, 18, "services.web.tags[1]" },
	/* the column of the '$' only when the source is the text; else the value's start */
	{ __LINE__, SVC "    user: \"\\t${PORT}\"\n", 1, 0, "${PORT} is only expanded per instance", 4, 11, NULL },
	{ __LINE__, "state_dir: /\xc3\xa9/${MLS_T_UNSET}\n" SVC, 1, 0, "state_dir: variable MLS_T_UNSET is not set", 1, 12, NULL },
	{ __LINE__, "state_dir: 'it''s/${MLS_T_UNSET}'\n" SVC, 1, 0, "state_dir: variable MLS_T_UNSET is not set", 1, 12, NULL },
	{ __LINE__, "state_dir: /run/a\n  ${MLS_T_UNSET}\n" SVC, 1, 0, "state_dir: variable MLS_T_UNSET is not set", 1, 12, NULL },
	{ __LINE__, SVC "    schedule: \"\\t60 * * * *\"\n", 1, 0, "minute out of range 0-59", 4, 15, NULL },
	{ __LINE__, SVC "    schedule: 0 0\n      * * 8\n", 1, 0, "day-of-week out of range 0-7", 4, 15, NULL },
	{ __LINE__, "services:\n  web: {command: \"run ${PORT}\"}\n", 1, 0, "services.web: uses ${PORT} but has no 'port' (set port: auto or a number)", 2, 18, "services.web" },
	{ __LINE__, "services:\n  web: {command: \"run ${PORT}\", port: auto}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  web: {command: \"run ${MLS_SERVICE}.${MLS_INSTANCE}\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  web: {command: \"run $PORT\"}\n", 0, 0, NULL, 0, 0, NULL },
	/* where ${PORT} is named; $$ escapes the '$' */
	{ __LINE__, SVC "    environment: [\"A=1\", \"B=${PORT}\"]\n", 1, 0, "services.web: uses ${PORT} but has no 'port'", 4, 26, "services.web" },
	{ __LINE__, SVC "    healthcheck:\n      tcp: \"127.0.0.1:${PORT}\"\n", 1, 0, "services.web: uses ${PORT} but has no 'port'", 5, 0, "services.web" },
	{ __LINE__, "services:\n  web: {command: \"echo $${PORT}\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    environment: {A: \"$${PORT}\"}\n    healthcheck: {http: \"http://127.0.0.1/?p=$${PORT}\"}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  web: {command: \"echo $$${PORT}\"}\n", 1, 0, "uses ${PORT} but has no 'port'", 2, 18, NULL },

	/* environment */
	{ __LINE__, SVC "    environment: {\"1A\": x}\n", 1, 0, "bad variable name '1A'", 4, 19, "services.web.environment" },
	{ __LINE__, SVC "    environment: [\"A-B=1\"]\n", 1, 0, "bad variable name 'A-B'", 4, 19, "services.web.environment[0]" },
	{ __LINE__, SVC "    environment: [\"not a pair\"]\n", 1, 0, "expected KEY=VALUE, got 'not a pair'", 4, 19, "services.web.environment[0]" },
	{ __LINE__, SVC "    environment: [MLS_T_UNSET, MLS_T_SET]\n", 0, 0, NULL, 0, 0, NULL },

	/* profiles */
	{ __LINE__, SVC "    profiles: [Dev]\n", 1, 0, "bad profile name 'Dev'", 4, 16, "services.web.profiles" },
	{ __LINE__, SVC "    depends_on: [dbg]\n  dbg: {command: x, profiles: [dev]}\n", 1, 0, "'dbg' is not enabled by the active profiles", 4, 18, "services.web.depends_on" },
	{ __LINE__, SVC "    profiles: [dev]\n    depends_on: [dbg]\n  dbg: {command: x, profiles: [dev]}\n", 0, 0, NULL, 0, 0, NULL },

	/* top level */
	{ __LINE__, "http: {token: \"0123456789abcdef\", read_token: \"0123456789abcdef\"}\n" SVC, 1, 0, "'read_token' must differ from 'token'", 1, 0, "http" },
	{ __LINE__, "http: {public: [healthz, metric]}\n" SVC, 1, 0, "unknown endpoint 'metric'", 1, 0, "http.public" },
	{ __LINE__, "http: {listen: [\"127.0.0.1:1\", \"0.0.0.0:2\"], token: \"0123456789abcdef\", tls: off}\n" SVC, 1, 0, "'off' only when every http.listen address is on loopback", 1, 0, "http.tls" },
	{ __LINE__, "http: {listen: [\"127.0.0.1:1\", \"127.0.0.1:1\"]}\n" SVC, 1, 0, "'127.0.0.1:1' is listed twice", 1, 0, "http.listen" },
	{ __LINE__, "http: {allow: [restart, shutdown], max_connections: 0}\n" SVC, 1, 0, "expected an integer from 1 to 4096", 1, 0, "http.max_connections" },
	{ __LINE__, "http: {listen: \"127.0.0.1:1\", tls: {cert: /c}}\n" SVC, 1, 0, "http.tls: needs both 'cert' and 'key'", 1, 0, "http.tls" },
	{ __LINE__, "http: {listen: \"127.0.0.1:1\", token: \"0123456789abcdef\", token_file: /t}\n" SVC, 1, 0, "'token' and 'token_file' are mutually exclusive", 1, 0, "http" },
	{ __LINE__, "notify: {events: [crash]}\n" SVC, 1, 0, "notify: missing 'url'", 1, 0, "notify" },
	{ __LINE__, "notify: {url: \"https://h/\", events: [crsh]}\n" SVC, 1, 0, "unknown event 'crsh' (did you mean 'crash'?)", 1, 38, "notify.events" },
	/* notify: a mapping or a list of them, active (no warning) */
	{ __LINE__, "notify: [{url: \"https://h/\", format: slack, secret: s, heartbeat: 30s, services: [\"w*\"]}]\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "notify: \"https://h/\"\n" SVC, 1, 0, "notify: expected a mapping (one target) or a list of them", 1, 9, "notify" },
	{ __LINE__, "notify: {url: \"https://h/\", format: teams}\n" SVC, 1, 0, "unknown value 'teams' (expected one of: json, slack)", 1, 37, "notify.format" },
	{ __LINE__, "notify: {url: \"https://h/\", headers: {Content-Length: \"1\"}}\n" SVC, 1, 0, "'Content-Length': mls sets this header itself", 0, 0, "notify.headers" },
	{ __LINE__, "notify: {url: \"https://h/\", headers: {X-A: [1]}}\n" SVC, 1, 0, "expected a string", 0, 0, "notify.headers.X-A" },
	{ __LINE__, "notify: {url: \"https://h/\", heartbeat: 500ms}\n" SVC, 1, 0, "must be at least 1s", 1, 40, "notify.heartbeat" },
	{ __LINE__, "notify: {url: \"https://h/\", timeout: 10m}\n" SVC, 1, 0, "must be more than 0 and at most 5m", 1, 38, "notify.timeout" },
	{ __LINE__, "notify: {url: \"http://h/\", ca_file: /x.pem}\n" SVC, 0, 1, "has no effect on an http:// URL", 1, 9, "notify.ca_file" },
	{ __LINE__, "servers_dir: /nonexistent/servers/\n", 0, 1, "servers_dir: '/nonexistent/servers' does not exist (yet)", 1, 14, "servers_dir" },
	{ __LINE__, "servers_defaults: {port_arg: true}\n" SVC, 0, 1, "has no effect without servers_dir", 1, 19, "servers_defaults" },
	{ __LINE__, "servers_dir: /nonexistent\nservers_defaults: {port_arg: yes}\n" SVC, 1, 1, "expected true or false", 2, 30, "servers_defaults.port_arg" },
	{ __LINE__, "servers_dir: /nonexistent\nservers_defaults: {interpreters: {rb: ruby}}\n" SVC, 1, 1, "'rb' is not an extension", 2, 35, "servers_defaults.interpreters.rb" },
	{ __LINE__, "servers_dir: /nonexistent\nservers_defaults: {interpreters: {.rb: []}}\n" SVC, 1, 1, "expected a program", 2, 40, "servers_defaults.interpreters..rb" },
	{ __LINE__, "servers_dir: /nonexistent\nservers_defaults: {replicas: 0}\n" SVC, 1, 1, "replicas", 2, 30, "servers_defaults.replicas" },
	/* control_allow: names of proto.h, checked like enum values */
	{ __LINE__, "control_group: mls\ncontrol_allow: [restart, stop]\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "control_group: mls\ncontrol_allow: [status, logs, history, events, version]\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "control_group: mls\ncontrol_allow: []\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "control_group: mls\ncontrol_allow: all\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "control_group: mls\ncontrol_allow: ~\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "control_group: mls\ncontrol_allow: [restart, shutdwon]\n" SVC, 1, 0, "control_allow: unknown command 'shutdwon' (did you mean 'shutdown'?)", 2, 26, "control_allow" },
	{ __LINE__, "control_group: mls\ncontrol_allow: strat\n" SVC, 1, 0, "control_allow: unknown command 'strat' (did you mean 'start'?)", 2, 16, "control_allow" },
	{ __LINE__, "control_group: mls\ncontrol_allow: [run]\n" SVC, 1, 0, "control_allow: unknown command 'run' (expected all, or some of: start, stop, restart, signal, reload, shutdown, deploy, rollback)", 2, 17, "control_allow" },
	{ __LINE__, "control_group: mls\ncontrol_allow: [debug-clock]\n" SVC, 1, 0, "unknown command 'debug-clock'", 2, 17, "control_allow" },
	{ __LINE__, "control_group: mls\ncontrol_allow: [\"\"]\n" SVC, 1, 0, "unknown command ''", 2, 17, "control_allow" },
	{ __LINE__, "control_group: mls\ncontrol_allow: {restart: true}\n" SVC, 1, 0, "control_allow: expected a string or a list of strings, got a mapping", 2, 16, "control_allow" },
	{ __LINE__, "control_group: mls\ncontrol_allow: [[restart]]\n" SVC, 1, 0, "control_allow[0]: expected a string, got a list", 2, 17, "control_allow[0]" },
	{ __LINE__, "control_allow: [restart]\n" SVC, 0, 1, "control_allow: has no effect without control_group", 1, 16, "control_allow" },
	{ __LINE__, "control_alow: [restart]\n" SVC, 1, 0, "unknown key 'control_alow' (did you mean 'control_allow'?)", 1, 1, NULL },
	{ __LINE__, "defaults: {command: x}\nservices:\n  web: {}\n", 0, 1, "a default command is given to every service that has none", 1, 21, "defaults.command" },
	{ __LINE__, "defaults: [a]\n" SVC, 1, 0, "defaults: expected a mapping, got a list", 1, 11, "defaults" },
	/* a finding inside defaults: once, under defaults.KEY, not again per service */
	{ __LINE__, "defaults: {stop_grace_period: 10x}\n" SVC "  api: {command: x}\n", 1, 0, "defaults.stop_grace_period: bad duration '10x'", 1, 31, "defaults.stop_grace_period" },
	{ __LINE__, "defaults: {comand: x}\n" SVC "  api: {command: x}\n", 1, 0, "defaults: unknown key 'comand' (did you mean 'command'?)", 1, 12, NULL },
	{ __LINE__, "defaults: {user: \"${MLS_INSTANCE}\"}\n" SVC "  api: {command: x}\n", 1, 0, "defaults.user: ${MLS_INSTANCE} is only expanded per instance", 1, 19, "defaults.user" },
	{ __LINE__, "defaults: {x-anything: {a: b}}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "include: \"/nonexistent-mls-dir-*/x.yaml\"\n" SVC, 0, 1, "matches no file", 1, 10, "include" },

	/* image: / build: (docs/docker.md) */
#define IMG "services:\n  web:\n    image: \"nginx:1\"\n"
	{ __LINE__, IMG, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, IMG "    command: [serve, \"${PORT}\"]\n    port: auto\n    environment: {A: b}\n    user: \"1000\"\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, IMG "    command: \"serve now\"\n", 1, 0, "services.web.command: with 'image', command is the container's and must be a list (for a shell: [sh, -c, '...'])", 4, 14, "services.web.command" },
	{ __LINE__, IMG "    ready: notify\n", 1, 0, "a container cannot reach NOTIFY_SOCKET", 4, 12, "services.web.ready" },
	{ __LINE__, IMG "    watchdog: 5s\n", 1, 0, "a container cannot reach NOTIFY_SOCKET", 4, 15, "services.web.watchdog" },
	{ __LINE__, IMG "    limits: {memory: 1GiB}\n", 1, 0, "would apply to the docker CLI, not to the container", 4, 13, "services.web.limits" },
	{ __LINE__, IMG "    git: {url: \"https://h/r\"}\n", 1, 0, "no 'image' or 'build' with 'git:'", 3, 12, "services.web.image" },
	{ __LINE__, "services:\n  web:\n    image: \"-x\"\n", 1, 0, "bad image name '-x'", 3, 12, "services.web.image" },
	{ __LINE__, "services:\n  web:\n    build: ./app\n    docker_cli: podman\n    runs: 1\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  web:\n    docker_cli: podman\n", 1, 0, "missing 'command' (or 'git:', whose autoexec.txt names it, or 'image')", 2, 3, "services.web" },
	{ __LINE__, "services:\n  web:\n    build: [a]\n", 1, 0, "expected a string, got a list", 3, 12, "services.web.build" },

	/* later features: warnings that name the key */
	{ __LINE__, SVC "    watch: [\"src/**\", \"!src/*.pyc\"]\n    watch_debounce: 50ms\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    watch: [\"/etc/x\"]\n", 1, 0, "services.web.watch: '/etc/x': patterns are relative to working_dir", 4, 13, "services.web.watch" },
	{ __LINE__, SVC "    watch: \"a/../b\"\n", 1, 0, "'a/../b': '..' is not allowed", 4, 12, NULL },
	{ __LINE__, SVC "    watch: [\"!\"]\n", 1, 0, "empty pattern '!'", 4, 13, NULL },
	{ __LINE__, SVC "    watch_debounce: 61s\n", 1, 0, "services.web.watch_debounce: at most 1m", 4, 21, NULL },
	{ __LINE__, SVC "    limits: {cpu: 0.5, swap: 0, io_weight: 500}\n", 0, 0, NULL, 0, 0, NULL }, /* cgroup v2 (docs/cgroups.md) */
	{ __LINE__, SVC "    limits: {cpu: 0}\n", 1, 0, "expected a number of CPUs > 0 like 0.5 or 2, got '0'", 4, 19, NULL },
	{ __LINE__, SVC "    limits: {io_weight: 0}\n", 1, 0, NULL, 4, 25, "services.web.limits.io_weight" },
	{ __LINE__, SVC "    limits: {io_weight: 10001}\n", 1, 0, NULL, 4, 25, "services.web.limits.io_weight" },
	{ __LINE__, SVC "    limits: {swap: 1x}\n", 1, 0, NULL, 4, 20, "services.web.limits.swap" },
	{ __LINE__, SVC "    notify: {url: \"https://h/\"}\n", 0, 1, "services.web.notify: not supported yet by mls supervise", 4, 5, "services.web.notify" },

	/* git: and config_git: (issue 11) */
	{ __LINE__, SVC "    git: {url: \"git@h:r.git\"}\n", 1, 0, "ssh is not supported", 4, 16, "services.web.git.url" },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", interval: 500ms}\n", 1, 0, "must be at least 1s", 4, 45, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", branch: \"a..b\"}\n", 1, 0, "bad ref 'a..b'", 4, 43, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", interval: 0}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", depth: 1}\n", 0, 1, "fetches are full in this build", 4, 42, "services.web.git.depth" },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", ref: a, branch: b}\n", 1, 0, "'branch' and 'ref' name the same thing", 4, 51, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", token_file: /t, username: u, password_file: /p}\n", 1, 0, "exclude each other", 4, 0, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", username: u}\n", 1, 0, "needs 'password_file'", 4, 45, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", keep: 0}\n", 1, 0, NULL, 4, 0, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", verify_window: 10ms}\n", 1, 0, "must be at least 1s", 4, 0, NULL },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", path: x.yaml}\n", 1, 0, "unknown key 'path'", 4, 0, NULL },
	{ __LINE__, SVC "    git: {rollback: true}\n", 1, 0, "missing 'url'", 4, 10, NULL },
	{ __LINE__, SVC "    hooks: {pre_deploy: [\"true\"]}\n", 1, 0, "the service has no 'git:'", 4, 0, NULL },
	{ __LINE__, SVC "    git: {url: /srv/r.git}\n    schedule: \"* * * * *\"\n", 1, 0, "a job cannot be deployed from git", 4, 0, NULL },
	{ __LINE__, "services:\n  api:\n    git: {url: /srv/r.git}\n", 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "services:\n  mls-gitwatch: {command: x}\n", 1, 0, "the name 'mls-gitwatch' is mls's own", 2, 0, NULL },
	{ __LINE__, "config_git: {url: /srv/fleet.git, path: /etc/x}\n" SVC, 1, 0, "bad path '/etc/x'", 1, 0, NULL },
	{ __LINE__, "config_git: {url: /srv/fleet.git, keep: 2}\n" SVC, 1, 0, "unknown key 'keep'", 1, 0, NULL },
	{ __LINE__, "config_git: {url: /srv/fleet.git, ref: ring/canary}\n" SVC, 0, 0, NULL, 0, 0, NULL },
	{ __LINE__, "git_user: root\n" SVC, 1, 0, "gitwatch never runs as root", 1, 11, "git_user" },
};

/* Once known problems (reported, then fixed in the loader): kept as rows */
static const struct dcase dcases_fixed[] = {
	{ __LINE__, "a: \x01\n", 1, 0, "YAML syntax: control characters are not allowed", 1, 4, "" },
	{ __LINE__, "services: web\n", 1, 0, "services: expected a mapping of service names, got a value", 1, 11, "services" },
	{ __LINE__, "defaults: {replicas: 2}\n" SVC "    schedule: \"@daily\"\n", 1, 0, "'replicas' greater than 1 and 'schedule'", 1, 22, "services.web.replicas" },
	{ __LINE__, "services:\n  a: {command: x, port: 8000, replicas: 3}\n  b: {command: x, port: 8001}\n  c: {command: x, port: 8000, replicas: 3}\n",
	  3, 0, "port 8001 of b.1 is also the port of a.2", 3, 25, NULL },
	{ __LINE__, "state_dir: \"\xc3\xa9${MLS_T_UNSET}\\t\"\n" SVC, 1, 0, "state_dir: variable MLS_T_UNSET is not set", 1, 12, NULL },
	{ __LINE__, SVC "    environment: {A: \":${PORT}\"}\n", 1, 0, "services.web: uses ${PORT} but has no 'port'", 4, 22, "services.web" },
	{ __LINE__, "defaults: {ready: notify}\n" SVC "    runs: 1\n", 1, 0, "services.web.ready: a job ('runs') has no readiness", 1, 19, "services.web.ready" },
	{ __LINE__, "x-e: &e {A: \"${MLS_T_UNSET}\"}\ndefaults: {x-s: *e}\n" SVC "    environment: *e\n", 1, 0, "services.web.environment.A: variable MLS_T_UNSET is not set", 1, 14, NULL },
};

/* One row; todo: NULL, or why it is a known problem */
static void run_dcase(const struct dcase *c, const char *todo)
{
	struct config cfg;
	struct diags d;
	struct config_opts o = test_opts(NULL);
	int rc = load(&cfg, &d, NULL, c->yaml, &o);
	const struct diag *f = c->errors ? first_of(&d, DIAG_ERROR) : first_of(&d, DIAG_WARNING);
	int good = d.errors == c->errors && (c->warnings < 0 || d.warnings == c->warnings) &&
		   rc == (c->errors ? -1 : 0) && d.io_error == 0;
	if (c->msg)
		good = good && f && strstr(f->msg, c->msg);
	if (c->eline)
		good = good && f && f->line == c->eline && (c->ecol == 0 || f->col == c->ecol);
	else if (c->ecol)
		good = good && f && f->col == c->ecol;
	if (c->key)
		good = good && f && (c->key[0] ? f->key && !strcmp(f->key, c->key) : !f->key);
	if (f && (c->errors || c->msg))
		good = good && f->file && !strcmp(f->file, "test.yaml");
	tap_todo(todo);
	if (!tap_ok(good, c->line, "findings: %d error(s), %d warning(s)%s%s", c->errors, c->warnings,
		    c->msg ? ": " : "", c->msg ? c->msg : "")) {
		tap_diag("rc %d, %d errors, %d warnings:", rc, d.errors, d.warnings);
		dump_diags(&d);
	}
	config_free(&cfg);
	diags_free(&d);
}

static void run_dcases(void)
{
	for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++)
		run_dcase(&dcases[i], NULL);
	for (size_t i = 0; i < sizeof dcases_fixed / sizeof dcases_fixed[0]; i++)
		run_dcase(&dcases_fixed[i], NULL);
}

/* ======================================================================
 * 2. Converted values
 * ==================================================================== */

enum field {
	F_NSVCS, F_REPLICAS, F_PORT, F_RESTART, F_BO_INITIAL, F_BO_MAX, F_BO_FACTOR_X1000, F_BO_JITTER,
	F_BO_RESET, F_RL_COUNT, F_RL_WINDOW, F_STOP_SIGNAL, F_STOP_GRACE, F_READY, F_READY_FD,
	F_LOG_MAX, F_LOG_KEEP, F_MEMORY, F_CORE, F_PIDS, F_NOFILE, F_CPU_X1000, F_NICE, F_HAS_NICE,
	F_HC_KIND, F_HC_INTERVAL, F_HC_TIMEOUT, F_HC_RETRIES, F_HC_START, F_HC_RESTART, F_CRITICAL,
	F_IS_JOB, F_RUNS, F_TIMEOUT, F_ACTIVE, F_NDEPS, F_DEP0_COND, F_DEP1_COND, F_ARGC, F_SHELL,
	F_NENV, F_LINE, F_COL, F_PORT_LINE, F_PORT_COL, F_LOG_LEVEL, F_LOG_FORMAT, F_STARTUP,
	F_NOTIFY_EVENTS, F_NOTIFY_N, F_NOTIFY_FORMAT, F_NOTIFY_HEARTBEAT, F_NOTIFY_TIMEOUT, F_NOTIFY_HEADERS, F_GIT_INTERVAL, F_GIT_ROLLBACK, F_CONTROL_ALLOW, F_HC_START_INTERVAL,
	F_HC_SUCCESS, F_HC_NEXPECT, F_HC_EXPECT0, F_HC_EXPECT1, F_WATCHDOG, F_WATCH_DEBOUNCE,
};

static int64_t get_field(const struct config *c, const struct service *s, enum field f)
{
	switch (f) {
	case F_NSVCS: return c->nsvcs;
	case F_REPLICAS: return s->replicas;
	case F_PORT: return s->port;
	case F_RESTART: return s->restart;
	case F_BO_INITIAL: return s->backoff.initial_ms;
	case F_BO_MAX: return s->backoff.max_ms;
	case F_BO_FACTOR_X1000: return (int64_t)(s->backoff.factor * 1000 + 0.5);
	case F_BO_JITTER: return s->backoff.jitter_pct;
	case F_BO_RESET: return s->backoff.reset_after_ms;
	case F_RL_COUNT: return s->restart_limit.count;
	case F_RL_WINDOW: return s->restart_limit.window_ms;
	case F_STOP_SIGNAL: return s->stop_signal;
	case F_STOP_GRACE: return s->stop_grace_ms;
	case F_READY: return s->ready;
	case F_READY_FD: return s->ready_fd;
	case F_LOG_MAX: return s->log.max_size;
	case F_LOG_KEEP: return s->log.keep;
	case F_MEMORY: return s->limits.memory;
	case F_CORE: return s->limits.core;
	case F_PIDS: return s->limits.pids;
	case F_NOFILE: return s->limits.nofile;
	case F_CPU_X1000: return s->limits.cpu < 0 ? -1 : (int64_t)(s->limits.cpu * 1000 + 0.5);
	case F_NICE: return s->nice;
	case F_HAS_NICE: return s->has_nice;
	case F_HC_KIND: return s->health.kind;
	case F_HC_INTERVAL: return s->health.interval_ms;
	case F_HC_TIMEOUT: return s->health.timeout_ms;
	case F_HC_RETRIES: return s->health.retries;
	case F_HC_START: return s->health.start_period_ms;
	case F_HC_RESTART: return s->health.restart;
	case F_CRITICAL: return s->critical;
	case F_IS_JOB: return s->is_job;
	case F_RUNS: return s->runs;
	case F_TIMEOUT: return s->timeout_ms;
	case F_ACTIVE: return s->active;
	case F_NDEPS: return s->ndeps;
	case F_DEP0_COND: return s->ndeps > 0 ? (int64_t)s->deps[0].cond : -1;
	case F_DEP1_COND: return s->ndeps > 1 ? (int64_t)s->deps[1].cond : -1;
	case F_ARGC: return s->command.argc;
	case F_SHELL: return s->command.shell;
	case F_NENV: return s->environment.n;
	case F_LINE: return s->pos.line;
	case F_COL: return s->pos.col;
	case F_PORT_LINE: return s->port_pos.line;
	case F_PORT_COL: return s->port_pos.col;
	case F_LOG_LEVEL: return c->log_level;
	case F_LOG_FORMAT: return c->log_format;
	case F_STARTUP: return c->startup;
	case F_NOTIFY_EVENTS: /* the service's targets, else the top level's */
		return s && s->notify.n ? s->notify.t[0].events : c->notify.n ? c->notify.t[0].events : 0;
	case F_NOTIFY_N: return c->notify.n;
	case F_NOTIFY_FORMAT: return c->notify.n ? (int)c->notify.t[c->notify.n - 1].format : -1;
	case F_NOTIFY_HEARTBEAT: return c->notify.n ? c->notify.t[0].heartbeat_ms : -1;
	case F_NOTIFY_TIMEOUT: return c->notify.n ? c->notify.t[0].timeout_ms : -1;
	case F_NOTIFY_HEADERS: return c->notify.n ? c->notify.t[0].headers.n : -1;
	case F_GIT_INTERVAL: return s->git.interval_ms;
	case F_GIT_ROLLBACK: return s->git.rollback;
	case F_CONTROL_ALLOW: return c->control_allow;
	case F_HC_START_INTERVAL: return s->health.start_interval_ms;
	case F_HC_SUCCESS: return s->health.success_threshold;
	case F_HC_NEXPECT: return s->health.nexpect;
	case F_HC_EXPECT0: return s->health.nexpect > 0 ? s->health.expect_status[0] : -1;
	case F_HC_EXPECT1: return s->health.nexpect > 1 ? s->health.expect_status[1] : -1;
	case F_WATCHDOG: return s->watchdog_ms;
	case F_WATCH_DEBOUNCE: return s->watch_debounce_ms;
	}
	return INT64_MIN;
}

struct vcase {
	int line;
	const char *yaml;
	const char *svc;   /* the service to look at ("web") */
	enum field f;
	int64_t want;
};

#define MIB (1024LL * 1024)

static const struct vcase vcases[] = {
	/* defaults of a service */
	{ __LINE__, SVC, "web", F_NSVCS, 1 },
	{ __LINE__, SVC, "web", F_REPLICAS, 1 },
	{ __LINE__, SVC, "web", F_PORT, PORT_NONE },
	{ __LINE__, SVC, "web", F_RESTART, RESTART_ALWAYS },
	{ __LINE__, SVC, "web", F_BO_INITIAL, 1000 },
	{ __LINE__, SVC, "web", F_BO_MAX, 60000 },
	{ __LINE__, SVC, "web", F_BO_FACTOR_X1000, 2000 },
	{ __LINE__, SVC, "web", F_BO_JITTER, 10 },
	{ __LINE__, SVC, "web", F_BO_RESET, 30000 },
	{ __LINE__, SVC, "web", F_RL_COUNT, 5 },
	{ __LINE__, SVC, "web", F_RL_WINDOW, 60000 },
	{ __LINE__, SVC, "web", F_STOP_SIGNAL, 15 },
	{ __LINE__, SVC, "web", F_STOP_GRACE, 10000 },
	{ __LINE__, SVC, "web", F_READY, READY_NONE },
	{ __LINE__, SVC, "web", F_READY_FD, 3 },
	{ __LINE__, SVC, "web", F_LOG_MAX, 10 * MIB },
	{ __LINE__, SVC, "web", F_LOG_KEEP, 5 },
	{ __LINE__, SVC, "web", F_MEMORY, -1 },
	{ __LINE__, SVC, "web", F_CORE, -1 },
	{ __LINE__, SVC, "web", F_PIDS, -1 },
	{ __LINE__, SVC, "web", F_NOFILE, -1 },
	{ __LINE__, SVC, "web", F_CPU_X1000, -1 },
	{ __LINE__, SVC, "web", F_HAS_NICE, 0 },
	{ __LINE__, SVC, "web", F_HC_KIND, HC_NONE },
	{ __LINE__, SVC, "web", F_CRITICAL, 0 },
	{ __LINE__, SVC, "web", F_IS_JOB, 0 },
	{ __LINE__, SVC, "web", F_TIMEOUT, 0 },
	{ __LINE__, SVC, "web", F_ACTIVE, 1 },
	{ __LINE__, SVC, "web", F_NDEPS, 0 },
	{ __LINE__, SVC, "web", F_ARGC, 2 },
	{ __LINE__, SVC, "web", F_SHELL, 0 },
	{ __LINE__, SVC, "web", F_NENV, 0 },
	{ __LINE__, SVC, "web", F_LINE, 2 },
	{ __LINE__, SVC, "web", F_COL, 3 },
	/* top-level defaults */
	{ __LINE__, SVC, "web", F_LOG_LEVEL, LVL_INFO },
	{ __LINE__, SVC, "web", F_LOG_FORMAT, LOGF_TEXT },
	{ __LINE__, SVC, "web", F_STARTUP, STARTUP_PARALLEL },
	{ __LINE__, "log_level: error\nlog_format: json\nstartup: sequential\n" SVC, "web", F_LOG_LEVEL, LVL_ERROR },
	{ __LINE__, "log_level: debug\n" SVC, "web", F_LOG_LEVEL, LVL_DEBUG },
	{ __LINE__, "log_format: json\n" SVC, "web", F_LOG_FORMAT, LOGF_JSON },
	{ __LINE__, "startup: sequential\n" SVC, "web", F_STARTUP, STARTUP_SEQUENTIAL },

	/* healthcheck defaults, once there is one */
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_KIND, HC_EXEC },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_INTERVAL, 5000 },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_TIMEOUT, 1000 },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_RETRIES, 3 },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_START, 0 },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_RESTART, 1 },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 2m, timeout: 250ms, retries: 7, start_period: 1h, restart: false}\n", "web", F_HC_KIND, HC_TCP },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 2m, timeout: 250ms, retries: 7, start_period: 1h, restart: false}\n", "web", F_HC_INTERVAL, 120000 },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 2m, timeout: 250ms, retries: 7, start_period: 1h, restart: false}\n", "web", F_HC_TIMEOUT, 250 },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 2m, timeout: 250ms, retries: 7, start_period: 1h, restart: false}\n", "web", F_HC_RETRIES, 7 },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 2m, timeout: 250ms, retries: 7, start_period: 1h, restart: false}\n", "web", F_HC_START, 3600000 },
	{ __LINE__, SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 2m, timeout: 250ms, retries: 7, start_period: 1h, restart: false}\n", "web", F_HC_RESTART, 0 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://127.0.0.1/\"}\n", "web", F_HC_KIND, HC_HTTP },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_START_INTERVAL, 5000 },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_SUCCESS, 1 },
	{ __LINE__, SVC "    healthcheck: {exec: [\"true\"]}\n", "web", F_HC_NEXPECT, 0 },
	{ __LINE__, SVC, "web", F_HC_START_INTERVAL, 5000 },
	{ __LINE__, SVC, "web", F_HC_SUCCESS, 1 },
	{ __LINE__, SVC, "web", F_WATCHDOG, 0 },
	/* start_interval: the interval unless set */
	{ __LINE__, SVC "    healthcheck: {exec: x, interval: 2m}\n", "web", F_HC_START_INTERVAL, 120000 },
	{ __LINE__, SVC "    healthcheck: {exec: x, start_interval: 500ms, interval: 2m}\n", "web", F_HC_START_INTERVAL, 500 },
	{ __LINE__, SVC "    healthcheck: {exec: x, start_interval: 500ms, interval: 2m}\n", "web", F_HC_INTERVAL, 120000 },
	{ __LINE__, SVC "    healthcheck: {exec: x, start_interval: ~, interval: 3s}\n", "web", F_HC_START_INTERVAL, 3000 },
	{ __LINE__, SVC "    healthcheck: {exec: x, success_threshold: 3}\n", "web", F_HC_SUCCESS, 3 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: 204}\n", "web", F_HC_NEXPECT, 1 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: 204}\n", "web", F_HC_EXPECT0, 204 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: [200, 301]}\n", "web", F_HC_NEXPECT, 2 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: [200, 301]}\n", "web", F_HC_EXPECT1, 301 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: \"503\"}\n", "web", F_HC_EXPECT0, 503 },
	{ __LINE__, SVC "    healthcheck: {http: \"http://a/\", expect_status: ~}\n", "web", F_HC_NEXPECT, 0 },
	/* defaults: a healthcheck map merges key by key; without a kind it is a
	 * template that gives no service a check */
	{ __LINE__, "defaults: {healthcheck: {interval: 10s, start_interval: 1s, success_threshold: 2}}\n" SVC "    healthcheck: {tcp: \"127.0.0.1:1\"}\n", "web", F_HC_INTERVAL, 10000 },
	{ __LINE__, "defaults: {healthcheck: {interval: 10s, start_interval: 1s, success_threshold: 2}}\n" SVC "    healthcheck: {tcp: \"127.0.0.1:1\"}\n", "web", F_HC_START_INTERVAL, 1000 },
	{ __LINE__, "defaults: {healthcheck: {interval: 10s, start_interval: 1s, success_threshold: 2}}\n" SVC "    healthcheck: {tcp: \"127.0.0.1:1\"}\n", "web", F_HC_SUCCESS, 2 },
	{ __LINE__, "defaults: {healthcheck: {interval: 10s}}\n" SVC "    healthcheck: {tcp: \"127.0.0.1:1\", interval: 1s}\n", "web", F_HC_START_INTERVAL, 1000 },
	{ __LINE__, "defaults: {healthcheck: {interval: 10s}}\n" SVC, "web", F_HC_KIND, HC_NONE },
	{ __LINE__, "defaults: {healthcheck: {exec: x}}\n" SVC, "web", F_HC_KIND, HC_EXEC },
	{ __LINE__, "defaults: {healthcheck: {http: \"http://a/\"}}\n" SVC "    healthcheck: {http: ~, tcp: \"127.0.0.1:1\"}\n", "web", F_HC_KIND, HC_TCP },
	{ __LINE__, "defaults: {healthcheck: {exec: x}}\n" SVC "    healthcheck: ~\n", "web", F_HC_KIND, HC_NONE },
	/* ready: healthy; watchdog */
	{ __LINE__, SVC "    ready: healthy\n    healthcheck: {exec: x}\n", "web", F_READY, READY_HEALTHY },
	{ __LINE__, SVC "    watchdog: 30s\n", "web", F_WATCHDOG, 30000 },
	{ __LINE__, SVC, "web", F_WATCH_DEBOUNCE, 300 },
	{ __LINE__, SVC "    watch_debounce: 1s\n", "web", F_WATCH_DEBOUNCE, 1000 },
	{ __LINE__, SVC "    watch_debounce: 0\n", "web", F_WATCH_DEBOUNCE, 0 },
	{ __LINE__, "defaults: {watch_debounce: 2s}\n" SVC "    watch_debounce: ~\n", "web", F_WATCH_DEBOUNCE, 300 },
	{ __LINE__, SVC "    watchdog: 1500ms\n", "web", F_WATCHDOG, 1500 },
	{ __LINE__, SVC "    watchdog: 0\n", "web", F_WATCHDOG, 0 },
	{ __LINE__, "defaults: {watchdog: 20s}\n" SVC, "web", F_WATCHDOG, 20000 },
	{ __LINE__, "defaults: {watchdog: 20s}\n" SVC "    watchdog: ~\n", "web", F_WATCHDOG, 0 },

	/* durations in ms, every form */
	{ __LINE__, SVC "    stop_grace_period: 250ms\n", "web", F_STOP_GRACE, 250 },
	{ __LINE__, SVC "    stop_grace_period: 5s\n", "web", F_STOP_GRACE, 5000 },
	{ __LINE__, SVC "    stop_grace_period: 2m\n", "web", F_STOP_GRACE, 120000 },
	{ __LINE__, SVC "    stop_grace_period: 1h\n", "web", F_STOP_GRACE, 3600000 },
	{ __LINE__, SVC "    stop_grace_period: 1h30m\n", "web", F_STOP_GRACE, 5400000 },
	{ __LINE__, SVC "    stop_grace_period: 1h30m15s500ms\n", "web", F_STOP_GRACE, 5415500 },
	{ __LINE__, SVC "    stop_grace_period: 1d\n", "web", F_STOP_GRACE, 86400000 },
	{ __LINE__, SVC "    stop_grace_period: 1.5s\n", "web", F_STOP_GRACE, 1500 },
	{ __LINE__, SVC "    stop_grace_period: 0\n", "web", F_STOP_GRACE, 0 },
	{ __LINE__, SVC "    stop_grace_period: 0s\n", "web", F_STOP_GRACE, 0 },
	{ __LINE__, SVC "    stop_grace_period: \"90s\"\n", "web", F_STOP_GRACE, 90000 },
	{ __LINE__, SVC "    restart_backoff: {initial: 100ms, max: 10m, factor: 1.5, jitter: 0%, reset_after: 1h}\n", "web", F_BO_INITIAL, 100 },
	{ __LINE__, SVC "    restart_backoff: {initial: 100ms, max: 10m, factor: 1.5, jitter: 0%, reset_after: 1h}\n", "web", F_BO_MAX, 600000 },
	{ __LINE__, SVC "    restart_backoff: {initial: 100ms, max: 10m, factor: 1.5, jitter: 0%, reset_after: 1h}\n", "web", F_BO_FACTOR_X1000, 1500 },
	{ __LINE__, SVC "    restart_backoff: {initial: 100ms, max: 10m, factor: 1.5, jitter: 0%, reset_after: 1h}\n", "web", F_BO_JITTER, 0 },
	{ __LINE__, SVC "    restart_backoff: {initial: 100ms, max: 10m, factor: 1.5, jitter: 0%, reset_after: 1h}\n", "web", F_BO_RESET, 3600000 },
	{ __LINE__, SVC "    restart_backoff: {jitter: 100%}\n", "web", F_BO_JITTER, 100 },
	{ __LINE__, SVC "    restart_backoff: {jitter: 25%}\n", "web", F_BO_INITIAL, 1000 }, /* the others keep their defaults */
	{ __LINE__, SVC "    restart_limit: {count: 3, window: 2m}\n", "web", F_RL_COUNT, 3 },
	{ __LINE__, SVC "    restart_limit: {count: 3, window: 2m}\n", "web", F_RL_WINDOW, 120000 },
	{ __LINE__, SVC "    restart_limit: {count: 3}\n", "web", F_RL_WINDOW, 60000 },

	/* sizes in bytes, every form */
	{ __LINE__, SVC "    limits: {memory: 1048576}\n", "web", F_MEMORY, 1048576 },
	{ __LINE__, SVC "    limits: {memory: 256MiB}\n", "web", F_MEMORY, 256 * MIB },
	{ __LINE__, SVC "    limits: {memory: 1GiB}\n", "web", F_MEMORY, 1024 * MIB },
	{ __LINE__, SVC "    limits: {memory: 2G}\n", "web", F_MEMORY, 2048 * MIB },
	{ __LINE__, SVC "    limits: {memory: 5MB}\n", "web", F_MEMORY, 5000000 },
	{ __LINE__, SVC "    limits: {memory: 1GB}\n", "web", F_MEMORY, 1000000000 },
	{ __LINE__, SVC "    limits: {core: 0}\n", "web", F_CORE, 0 },
	{ __LINE__, SVC "    limits: {core: 512}\n", "web", F_CORE, 512 },
	{ __LINE__, SVC "    limits: {core: 64KiB}\n", "web", F_CORE, 65536 },
	{ __LINE__, SVC "    limits: {core: 10KB}\n", "web", F_CORE, 10000 },
	{ __LINE__, SVC "    limits: {core: 1TiB}\n", "web", F_CORE, 1024 * 1024 * MIB },
	{ __LINE__, SVC "    limits: {pids: 64, nofile: 4096}\n", "web", F_PIDS, 64 },
	{ __LINE__, SVC "    limits: {pids: 64, nofile: 4096}\n", "web", F_NOFILE, 4096 },
	{ __LINE__, SVC "    limits: {cpu: 0.5}\n", "web", F_CPU_X1000, 500 },
	{ __LINE__, SVC "    limits: {cpu: 2}\n", "web", F_CPU_X1000, 2000 },
	{ __LINE__, SVC "    log: {max_size: 1MiB, keep: 0}\n", "web", F_LOG_MAX, MIB },
	{ __LINE__, SVC "    log: {max_size: 1MiB, keep: 0}\n", "web", F_LOG_KEEP, 0 },
	{ __LINE__, SVC "    log: {keep: 9}\n", "web", F_LOG_MAX, 10 * MIB },

	/* ports, replicas, signals, numbers */
	{ __LINE__, SVC "    port: auto\n", "web", F_PORT, PORT_AUTO },
	{ __LINE__, SVC "    port: 8080\n", "web", F_PORT, 8080 },
	{ __LINE__, SVC "    port: \"8080\"\n", "web", F_PORT, 8080 },
	{ __LINE__, SVC "    port: 8080\n", "web", F_PORT_LINE, 4 },
	{ __LINE__, SVC "    port: 8080\n", "web", F_PORT_COL, 11 },
	{ __LINE__, SVC "    replicas: 3\n", "web", F_REPLICAS, 3 },
	{ __LINE__, SVC "    replicas: 1000\n", "web", F_REPLICAS, 1000 },
	{ __LINE__, SVC "    stop_signal: TERM\n", "web", F_STOP_SIGNAL, 15 },
	{ __LINE__, SVC "    stop_signal: SIGINT\n", "web", F_STOP_SIGNAL, 2 },
	{ __LINE__, SVC "    stop_signal: KILL\n", "web", F_STOP_SIGNAL, 9 },
	{ __LINE__, SVC "    stop_signal: HUP\n", "web", F_STOP_SIGNAL, 1 },
	{ __LINE__, SVC "    stop_signal: QUIT\n", "web", F_STOP_SIGNAL, 3 },
	{ __LINE__, SVC "    stop_signal: 3\n", "web", F_STOP_SIGNAL, 3 },
	{ __LINE__, SVC "    stop_signal: \"9\"\n", "web", F_STOP_SIGNAL, 9 },
	{ __LINE__, SVC "    nice: -5\n", "web", F_NICE, -5 },
	{ __LINE__, SVC "    nice: -5\n", "web", F_HAS_NICE, 1 },
	{ __LINE__, SVC "    nice: 0\n", "web", F_HAS_NICE, 1 },
	{ __LINE__, SVC "    ready: notify\n    ready_fd: 5\n", "web", F_READY, READY_NOTIFY },
	{ __LINE__, SVC "    ready: notify\n    ready_fd: 5\n", "web", F_READY_FD, 5 },
	{ __LINE__, SVC "    ready: none\n", "web", F_READY, READY_NONE },
	{ __LINE__, SVC "    critical: true\n", "web", F_CRITICAL, 1 },
	{ __LINE__, SVC "    critical: false\n", "web", F_CRITICAL, 0 },

	/* restart policies; jobs default to on-failure */
	{ __LINE__, SVC "    restart: always\n", "web", F_RESTART, RESTART_ALWAYS },
	{ __LINE__, SVC "    restart: on-failure\n", "web", F_RESTART, RESTART_ON_FAILURE },
	{ __LINE__, SVC "    restart: no\n", "web", F_RESTART, RESTART_NO },
	{ __LINE__, SVC "    restart: \"no\"\n", "web", F_RESTART, RESTART_NO },
	{ __LINE__, SVC "    runs: 1\n", "web", F_RESTART, RESTART_ON_FAILURE },
	{ __LINE__, SVC "    runs: 1\n", "web", F_IS_JOB, 1 },
	{ __LINE__, SVC "    runs: 3\n", "web", F_RUNS, 3 },
	{ __LINE__, SVC "    runs: 1\n    restart: no\n", "web", F_RESTART, RESTART_NO },
	{ __LINE__, SVC "    schedule: \"@hourly\"\n", "web", F_RESTART, RESTART_ON_FAILURE },
	{ __LINE__, SVC "    schedule: \"@hourly\"\n", "web", F_IS_JOB, 1 },
	{ __LINE__, SVC "    schedule: \"@hourly\"\n    timeout: 5m\n", "web", F_TIMEOUT, 300000 },
	{ __LINE__, SVC "    schedule: \"@hourly\"\n    replicas: 1\n", "web", F_REPLICAS, 1 },
	/* defaults' 'restart: always' does not reach a job; a job's own restart stays */
	{ __LINE__, "defaults: {restart: always}\n" SVC "    runs: 1\n", "web", F_RESTART, RESTART_ON_FAILURE },
	{ __LINE__, "defaults: {restart: always}\n" SVC, "web", F_RESTART, RESTART_ALWAYS },
	{ __LINE__, "defaults: {restart: no}\n" SVC "    runs: 1\n", "web", F_RESTART, RESTART_NO },
	{ __LINE__, "defaults: {restart: on-failure}\n" SVC, "web", F_RESTART, RESTART_ON_FAILURE },

	/* defaults merge under every service; service keys win; maps merge */
	{ __LINE__, "defaults: {stop_grace_period: 5s}\n" SVC, "web", F_STOP_GRACE, 5000 },
	{ __LINE__, "defaults: {stop_grace_period: 5s}\n" SVC "    stop_grace_period: 7s\n", "web", F_STOP_GRACE, 7000 },
	{ __LINE__, "defaults: {replicas: 2}\n" SVC "  api: {command: x, replicas: 4}\n", "web", F_REPLICAS, 2 },
	{ __LINE__, "defaults: {replicas: 2}\n" SVC "  api: {command: x, replicas: 4}\n", "api", F_REPLICAS, 4 },
	{ __LINE__, "defaults: {restart_backoff: {initial: 2s, max: 5m}}\n" SVC "    restart_backoff: {max: 1m}\n", "web", F_BO_INITIAL, 2000 },
	{ __LINE__, "defaults: {restart_backoff: {initial: 2s, max: 5m}}\n" SVC "    restart_backoff: {max: 1m}\n", "web", F_BO_MAX, 60000 },
	{ __LINE__, "defaults: {log: {keep: 2}}\n" SVC "    log: {max_size: 1MiB}\n", "web", F_LOG_KEEP, 2 },
	{ __LINE__, "defaults: {environment: {A: \"1\", B: \"2\"}}\n" SVC "    environment: {B: \"3\", C: \"4\"}\n", "web", F_NENV, 3 },
	{ __LINE__, "defaults: {environment: {A: \"1\"}}\n" SVC "    environment: [\"B=2\"]\n", "web", F_NENV, 1 }, /* a list replaces */
	{ __LINE__, "defaults: {command: [\"sleep\", \"1\", \"2\"]}\nservices:\n  web: {}\n", "web", F_ARGC, 3 },

	/* commands */
	{ __LINE__, "services:\n  web: {command: \"sleep 1 && echo hi\"}\n", "web", F_SHELL, 1 },
	{ __LINE__, "services:\n  web: {command: \"sleep 1 && echo hi\"}\n", "web", F_ARGC, 3 },
	{ __LINE__, "services:\n  web: {command: [a, b, c, d]}\n", "web", F_ARGC, 4 },

	/* dependencies */
	{ __LINE__, SVC "    depends_on: db\n  db: {command: x}\n", "web", F_NDEPS, 1 },
	{ __LINE__, SVC "    depends_on: db\n  db: {command: x}\n", "web", F_DEP0_COND, DEP_STARTED },
	{ __LINE__, SVC "    depends_on: [db, mig]\n  db: {command: x}\n  mig: {command: x, runs: 1}\n", "web", F_NDEPS, 2 },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_healthy}, mig: {condition: service_completed_successfully}}\n"
		    "  db: {command: x, healthcheck: {exec: x}}\n  mig: {command: x, runs: 1}\n", "web", F_DEP0_COND, DEP_HEALTHY },
	{ __LINE__, SVC "    depends_on: {db: {condition: service_healthy}, mig: {condition: service_completed_successfully}}\n"
		    "  db: {command: x, healthcheck: {exec: x}}\n  mig: {command: x, runs: 1}\n", "web", F_DEP1_COND, DEP_COMPLETED },
	{ __LINE__, SVC "    depends_on: {db: }\n  db: {command: x}\n", "web", F_DEP0_COND, DEP_STARTED },

	/* anchors and merge keys */
	{ __LINE__, "x-b: &b {replicas: 3, stop_grace_period: 1s}\nservices:\n  web: {<<: *b, command: x}\n", "web", F_REPLICAS, 3 },
	{ __LINE__, "x-b: &b {replicas: 3, stop_grace_period: 1s}\nservices:\n  web: {<<: *b, command: x, replicas: 2}\n", "web", F_REPLICAS, 2 },
	{ __LINE__, "x-b: &b {replicas: 3}\nx-c: &c {replicas: 4, nice: 1}\nservices:\n  web: {<<: [*b, *c], command: x}\n", "web", F_REPLICAS, 3 },
	{ __LINE__, "x-b: &b {replicas: 3}\nx-c: &c {replicas: 4, nice: 1}\nservices:\n  web: {<<: [*b, *c], command: x}\n", "web", F_NICE, 1 },

	/* notify events; git */
	{ __LINE__, SVC "    notify: {url: \"https://h/\"}\n", "web", F_NOTIFY_EVENTS, NOTE_CRASH | NOTE_UNHEALTHY | NOTE_FAILED | NOTE_ROLLED_BACK | NOTE_DEPLOY_FAILED | NOTE_CONFIG_REJECTED },
	{ __LINE__, "notify: {url: \"https://h/\"}\n" SVC, "web", F_NOTIFY_EVENTS, NOTE_DEFAULT },
	{ __LINE__, "notify: {url: \"https://h/\", heartbeat: 30s}\n" SVC, "web", F_NOTIFY_EVENTS, NOTE_DEFAULT | NOTE_HEARTBEAT },
	{ __LINE__, "notify: {url: \"https://h/\", heartbeat: 30s}\n" SVC, "web", F_NOTIFY_HEARTBEAT, 30000 },
	{ __LINE__, "notify: {url: \"https://h/\", events: [heartbeat]}\n" SVC, "web", F_NOTIFY_HEARTBEAT, 60000 },
	{ __LINE__, "notify: {url: \"https://h/\", heartbeat: 30s, events: [crash]}\n" SVC, "web", F_NOTIFY_EVENTS, NOTE_CRASH | NOTE_HEARTBEAT },
	{ __LINE__, "notify: {url: \"https://h/\"}\n" SVC, "web", F_NOTIFY_HEARTBEAT, 0 },
	{ __LINE__, "notify: {url: \"https://h/\"}\n" SVC, "web", F_NOTIFY_TIMEOUT, 10000 },
	{ __LINE__, "notify: {url: \"https://h/\", timeout: 2s}\n" SVC, "web", F_NOTIFY_TIMEOUT, 2000 },
	{ __LINE__, "notify: [{url: \"https://h/\"}, {url: \"http://g/\", format: slack}]\n" SVC, "web", F_NOTIFY_N, 2 },
	{ __LINE__, "notify: [{url: \"https://h/\"}, {url: \"http://g/\", format: slack}]\n" SVC, "web", F_NOTIFY_FORMAT, NOTIFY_SLACK },
	{ __LINE__, "notify: {url: \"https://h/\", headers: {X-A: b, X-C: d}}\n" SVC, "web", F_NOTIFY_HEADERS, 2 },
	{ __LINE__, "notify: {url: \"https://h/\", events: [reload, rolled_back, deployed]}\n" SVC, "web", F_NOTIFY_EVENTS, NOTE_RELOAD | NOTE_ROLLED_BACK | NOTE_DEPLOYED },
	{ __LINE__, SVC "    notify: {url: \"https://h/\", events: [started, healthy]}\n", "web", F_NOTIFY_EVENTS, NOTE_STARTED | NOTE_HEALTHY },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", interval: 30s, rollback: true}\n", "web", F_GIT_INTERVAL, 30000 },
	{ __LINE__, SVC "    git: {url: \"https://h/r.git\", interval: 30s, rollback: true}\n", "web", F_GIT_ROLLBACK, 1 },

	/* control_allow: a mask of proto.h's bits; read-only names add none */
	{ __LINE__, SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_START | PROTO_PERM_STOP | PROTO_PERM_RESTART | PROTO_PERM_SIGNAL | PROTO_PERM_RELOAD | PROTO_PERM_DEPLOY | PROTO_PERM_ROLLBACK },
	{ __LINE__, "control_group: g\ncontrol_allow: [restart, start]\n" SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_RESTART | PROTO_PERM_START },
	{ __LINE__, "control_group: g\ncontrol_allow: shutdown\n" SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_SHUTDOWN },
	{ __LINE__, "control_group: g\ncontrol_allow: [status, logs]\n" SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_NONE },
	{ __LINE__, "control_group: g\ncontrol_allow: []\n" SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_NONE },
	{ __LINE__, "control_group: g\ncontrol_allow: [stop, all]\n" SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_ALL & ~PROTO_PERM_UNGRANTABLE },
	{ __LINE__, "control_group: g\ncontrol_allow: ~\n" SVC, "web", F_CONTROL_ALLOW, PROTO_PERM_GROUP_DEFAULT },

	/* profiles: checked always, active only with --profile */
	{ __LINE__, SVC "    profiles: [dev]\n", "web", F_ACTIVE, 0 },
	{ __LINE__, SVC "    profiles: [test, dev]\n", "web", F_NSVCS, 1 },
};

static void run_vcases(void)
{
	for (size_t i = 0; i < sizeof vcases / sizeof vcases[0]; i++) {
		const struct vcase *c = &vcases[i];
		struct config cfg;
		struct diags d;
		struct config_opts o = test_opts(NULL);
		int rc = load(&cfg, &d, NULL, c->yaml, &o);
		const struct service *s = config_find(&cfg, c->svc);
		int64_t got = s ? get_field(&cfg, s, c->f) : INT64_MIN;
		int good = rc == 0 && d.errors == 0 && s && got == c->want;
		if (!tap_ok(good, c->line, "value of field #%d of '%s' is %lld", (int)c->f, c->svc, (long long)c->want)) {
			tap_diag("got %lld (service %s, rc %d)", (long long)got, s ? "found" : "not found", rc);
			dump_diags(&d);
		}
		config_free(&cfg);
		diags_free(&d);
	}
}

/* ======================================================================
 * 3. Strings: environment, command arguments, paths, expansion
 * ==================================================================== */

enum sfield { S_ENV, S_ARGV, S_WORKDIR, S_ENV_FILE, S_STATE_DIR, S_LOG_DIR, S_USER, S_SCHEDULE,
	      S_DEP, S_PROFILE, S_TAG, S_HC_HTTP, S_PRE_START, S_POST_STOP, S_TOKEN, S_HTTP_LISTEN,
	      S_WATCH, S_GIT_URL, S_CONTROL_GROUP };

struct scase {
	int line;
	const char *name;  /* file name for config_load_mem; NULL = "test.yaml" */
	const char *yaml;
	const char *svc;
	enum sfield f;
	int idx;
	const char *want;  /* NULL: absent (index past the end, or unset) */
};

static const char *get_sfield(const struct config *c, const struct service *s, enum sfield f, int i)
{
#define AT(strv) (i < (strv).n ? (strv).v[i] : NULL)
	switch (f) {
	case S_ENV: return AT(s->environment);
	case S_ARGV: return i < s->command.argc ? s->command.argv[i] : NULL;
	case S_WORKDIR: return s->working_dir;
	case S_ENV_FILE: return AT(s->env_file);
	case S_STATE_DIR: return c->state_dir;
	case S_LOG_DIR: return c->log_dir;
	case S_USER: return s->user;
	case S_SCHEDULE: return s->schedule;
	case S_DEP: return i < s->ndeps ? s->deps[i].name : NULL;
	case S_PROFILE: return AT(s->profiles);
	case S_TAG: return AT(s->tags);
	case S_HC_HTTP: return s->health.http;
	case S_PRE_START: return i < s->pre_start.argc ? s->pre_start.argv[i] : NULL;
	case S_POST_STOP: return i < s->post_stop.argc ? s->post_stop.argv[i] : NULL;
	case S_TOKEN: return c->http.token;
	case S_HTTP_LISTEN: return c->http.listen.n ? c->http.listen.v[0] : NULL;
	case S_WATCH: return AT(s->watch);
	case S_GIT_URL: return s->git.url;
	case S_CONTROL_GROUP: return c->control_group;
	}
	return NULL;
#undef AT
}

static const struct scase scases[] = {
	/* image: the command runs mls docker-run (docs/docker.md) */
#define DK "services:\n  web:\n    image: \"nginx:1\"\n    port: auto\n    stop_grace_period: 5s\n    environment: {A: b}\n    env_file: e.env\n    command: [serve, \"${PORT}\"]\n"
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 0, "mls" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 1, "docker-run" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 3, "mls-web-${MLS_INSTANCE}" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 5, "nginx:1" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 6, "--port" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 7, "${PORT}" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 8, "--stop-timeout" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 9, "4" },   /* 5s less a fifth */
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 10, "-e" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 11, "A" },  /* the name only: the value is in the CLI's environment */
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 13, "/cfg/e.env" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 14, "--" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 16, "${PORT}" },
	{ __LINE__, "/cfg/mls.yaml", DK, "web", S_ARGV, 17, NULL },
	{ __LINE__, "/cfg/mls.yaml", "services:\n  b:\n    build: app\n    stop_grace_period: 30s\n    stop_signal: INT\n    docker_cli: ./bin/podman\n", "b", S_ARGV, 5, "mls-b" },
	{ __LINE__, "/cfg/mls.yaml", "services:\n  b:\n    build: app\n    stop_grace_period: 30s\n    stop_signal: INT\n    docker_cli: ./bin/podman\n", "b", S_ARGV, 7, "/cfg/app" },
	{ __LINE__, "/cfg/mls.yaml", "services:\n  b:\n    build: app\n    stop_grace_period: 30s\n    stop_signal: INT\n    docker_cli: ./bin/podman\n", "b", S_ARGV, 9, "28" },
	{ __LINE__, "/cfg/mls.yaml", "services:\n  b:\n    build: app\n    stop_grace_period: 30s\n    stop_signal: INT\n    docker_cli: ./bin/podman\n", "b", S_ARGV, 11, "SIGINT" },
	{ __LINE__, "/cfg/mls.yaml", "services:\n  b:\n    build: app\n    stop_grace_period: 30s\n    stop_signal: INT\n    docker_cli: ./bin/podman\n", "b", S_ARGV, 13, "/cfg/./bin/podman" },
	{ __LINE__, "/cfg/mls.yaml", "services:\n  b:\n    build: app\n    stop_grace_period: 30s\n    stop_signal: INT\n    docker_cli: ./bin/podman\n", "b", S_ARGV, 14, "--" },
	/* environment: a map, in file order, as KEY=VALUE */
	{ __LINE__, NULL, SVC "    environment: {DEBUG: \"1\", EMPTY: \"\", NUM: 8080, B: true}\n", "web", S_ENV, 0, "DEBUG=1" },
	{ __LINE__, NULL, SVC "    environment: {DEBUG: \"1\", EMPTY: \"\", NUM: 8080, B: true}\n", "web", S_ENV, 1, "EMPTY=" },
	{ __LINE__, NULL, SVC "    environment: {DEBUG: \"1\", EMPTY: \"\", NUM: 8080, B: true}\n", "web", S_ENV, 2, "NUM=8080" },
	{ __LINE__, NULL, SVC "    environment: {DEBUG: \"1\", EMPTY: \"\", NUM: 8080, B: true}\n", "web", S_ENV, 3, "B=true" },
	{ __LINE__, NULL, SVC "    environment: {DEBUG: \"1\", EMPTY: \"\", NUM: 8080, B: true}\n", "web", S_ENV, 4, NULL },
	/* ... or a list of KEY=VALUE (the first '=' splits) */
	{ __LINE__, NULL, SVC "    environment: [\"A=1\", \"B=x=y\", \"C=\"]\n", "web", S_ENV, 0, "A=1" },
	{ __LINE__, NULL, SVC "    environment: [\"A=1\", \"B=x=y\", \"C=\"]\n", "web", S_ENV, 1, "B=x=y" },
	{ __LINE__, NULL, SVC "    environment: [\"A=1\", \"B=x=y\", \"C=\"]\n", "web", S_ENV, 2, "C=" },
	{ __LINE__, NULL, SVC "    environment: [\"A=1\", \"B=x=y\", \"C=\"]\n", "web", S_ENV, 3, NULL },
	/* a name alone takes mls's own value, and is left out when unset (compose) */
	{ __LINE__, NULL, SVC "    environment: {MLS_T_UNSET: , MLS_T_SET: }\n", "web", S_ENV, 0, "MLS_T_SET=value" },
	{ __LINE__, NULL, SVC "    environment: {MLS_T_UNSET: , MLS_T_SET: }\n", "web", S_ENV, 1, NULL },
	{ __LINE__, NULL, SVC "    environment: [MLS_T_UNSET, MLS_T_EMPTY]\n", "web", S_ENV, 0, "MLS_T_EMPTY=" },
	{ __LINE__, NULL, SVC "    environment: [MLS_T_UNSET, MLS_T_EMPTY]\n", "web", S_ENV, 1, NULL },
	/* defaults' environment merges with the service's, the service winning */
	{ __LINE__, NULL, "defaults: {environment: {A: \"1\", B: \"2\"}}\n" SVC "    environment: {B: \"3\", C: \"4\"}\n", "web", S_ENV, 0, "A=1" },
	{ __LINE__, NULL, "defaults: {environment: {A: \"1\", B: \"2\"}}\n" SVC "    environment: {B: \"3\", C: \"4\"}\n", "web", S_ENV, 1, "B=3" },
	{ __LINE__, NULL, "defaults: {environment: {A: \"1\", B: \"2\"}}\n" SVC "    environment: {B: \"3\", C: \"4\"}\n", "web", S_ENV, 2, "C=4" },
	{ __LINE__, NULL, "defaults: {environment: {A: \"1\"}}\n" SVC "    environment: [\"B=2\"]\n", "web", S_ENV, 0, "B=2" },

	/* ${VAR} from the environment when the config is loaded */
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_SET}\"}\n", "web", S_ENV, 0, "A=value" },
	{ __LINE__, NULL, SVC "    environment: {A: \"<${MLS_T_SET}>\"}\n", "web", S_ENV, 0, "A=<value>" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_UNSET:-x}\"}\n", "web", S_ENV, 0, "A=x" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_SET:-x}\"}\n", "web", S_ENV, 0, "A=value" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_EMPTY:-x}\"}\n", "web", S_ENV, 0, "A=x" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_EMPTY-x}\"}\n", "web", S_ENV, 0, "A=" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_UNSET-x}\"}\n", "web", S_ENV, 0, "A=x" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_UNSET:-}\"}\n", "web", S_ENV, 0, "A=" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_UNSET:-${MLS_T_OTHER}}\"}\n", "web", S_ENV, 0, "A=other" },
	{ __LINE__, NULL, SVC "    environment: {A: \"${MLS_T_SET:?needed}\"}\n", "web", S_ENV, 0, "A=value" },
	{ __LINE__, NULL, SVC, "web", S_STATE_DIR, 0, CONFIG_DEFAULT_STATE_DIR },
	{ __LINE__, NULL, SVC, "web", S_LOG_DIR, 0, NULL },
	{ __LINE__, NULL, SVC, "web", S_WORKDIR, 0, NULL },
	{ __LINE__, NULL, SVC, "web", S_USER, 0, NULL },
	{ __LINE__, NULL, SVC, "web", S_SCHEDULE, 0, NULL },
	{ __LINE__, NULL, "state_dir: /run/${MLS_T_SET}\n" SVC, "web", S_STATE_DIR, 0, "/run/value" },
	{ __LINE__, NULL, "control_group: ${MLS_T_UNSET:-mls}\n" SVC, "web", S_CONTROL_GROUP, 0, "mls" },
	{ __LINE__, NULL, "http: {listen: \"127.0.0.1:9000\", token: \"${MLS_T_UNSET:-0123456789abcdef}\"}\n" SVC, "web", S_TOKEN, 0, "0123456789abcdef" },
	{ __LINE__, NULL, SVC "    user: ${MLS_T_UNSET:-nobody}\n", "web", S_USER, 0, "nobody" },
	/* $VAR without braces is left for the shell */
	{ __LINE__, NULL, SVC "    environment: {A: \"$HOME/x\"}\n", "web", S_ENV, 0, "A=$HOME/x" },
	{ __LINE__, NULL, "services:\n  web: {command: \"echo $HOME\"}\n", "web", S_ARGV, 2, "echo $HOME" },

	/* $$: in the fields expanded per instance at start (command, environment,
	 * working_dir, env_file, hooks, healthcheck) it is KEPT as "$$", and the
	 * per-instance expansion turns it into "$" later; in the others (loaded
	 * once) it becomes "$" now. */
	{ __LINE__, NULL, "services:\n  web: {command: [\"echo\", \"$$HOME\", \"a$$b\"]}\n", "web", S_ARGV, 1, "$$HOME" },
	{ __LINE__, NULL, "services:\n  web: {command: [\"echo\", \"$$HOME\", \"a$$b\"]}\n", "web", S_ARGV, 2, "a$$b" },
	{ __LINE__, NULL, "services:\n  web: {command: \"echo $$HOME\"}\n", "web", S_ARGV, 2, "echo $$HOME" },
	{ __LINE__, NULL, SVC "    environment: {PRICE: \"$$5\"}\n", "web", S_ENV, 0, "PRICE=$$5" },
	{ __LINE__, NULL, SVC "    hooks: {pre_start: [\"echo\", \"$$1\"]}\n", "web", S_PRE_START, 1, "$$1" },
	{ __LINE__, NULL, "state_dir: \"/run/a$$b\"\n" SVC, "web", S_STATE_DIR, 0, "/run/a$b" },
	{ __LINE__, NULL, SVC "    tags: [\"cost$$\"]\n", "web", S_TAG, 0, "cost$" },

	/* ${PORT}, ${MLS_INSTANCE}, ${MLS_SERVICE}: kept for the per-instance expansion */
	{ __LINE__, NULL, "services:\n  web: {command: [srv, \"--port=${PORT}\"], port: auto}\n", "web", S_ARGV, 1, "--port=${PORT}" },
	{ __LINE__, NULL, "services:\n  web: {command: [srv, \"${MLS_SERVICE}.${MLS_INSTANCE}\"]}\n", "web", S_ARGV, 1, "${MLS_SERVICE}.${MLS_INSTANCE}" },
	{ __LINE__, NULL, "services:\n  web: {command: [srv, \"${PORT:-80}\"], port: 8000}\n", "web", S_ARGV, 1, "${PORT:-80}" },
	{ __LINE__, NULL, SVC "    port: auto\n    environment: {LISTEN: \":${PORT}\", SET: \"${MLS_T_SET}\"}\n", "web", S_ENV, 0, "LISTEN=:${PORT}" },
	{ __LINE__, NULL, SVC "    port: auto\n    environment: {LISTEN: \":${PORT}\", SET: \"${MLS_T_SET}\"}\n", "web", S_ENV, 1, "SET=value" },
	{ __LINE__, NULL, SVC "    port: auto\n    healthcheck: {http: \"http://127.0.0.1:${PORT}/health\"}\n", "web", S_HC_HTTP, 0, "http://127.0.0.1:${PORT}/health" },
	{ __LINE__, NULL, SVC "    working_dir: /srv/${MLS_INSTANCE}\n", "web", S_WORKDIR, 0, "/srv/${MLS_INSTANCE}" },

	/* commands */
	{ __LINE__, NULL, "services:\n  web: {command: \"sleep 1 && echo hi\"}\n", "web", S_ARGV, 0, "/bin/sh" },
	{ __LINE__, NULL, "services:\n  web: {command: \"sleep 1 && echo hi\"}\n", "web", S_ARGV, 1, "-c" },
	{ __LINE__, NULL, "services:\n  web: {command: \"sleep 1 && echo hi\"}\n", "web", S_ARGV, 2, "sleep 1 && echo hi" },
	{ __LINE__, NULL, "services:\n  web: {command: [sleep, 1, true, 1.5]}\n", "web", S_ARGV, 1, "1" },
	{ __LINE__, NULL, "services:\n  web: {command: [sleep, 1, true, 1.5]}\n", "web", S_ARGV, 2, "true" },
	{ __LINE__, NULL, "services:\n  web: {command: [sleep, 1, true, 1.5]}\n", "web", S_ARGV, 3, "1.5" },
	{ __LINE__, NULL, "services:\n  web:\n    command: |\n      echo a\n      echo b\n", "web", S_ARGV, 2, "echo a\necho b\n" },
	{ __LINE__, NULL, SVC "    hooks: {pre_start: [make, assets], post_stop: \"echo stopped\"}\n", "web", S_PRE_START, 1, "assets" },
	{ __LINE__, NULL, SVC "    hooks: {pre_start: [make, assets], post_stop: \"echo stopped\"}\n", "web", S_POST_STOP, 2, "echo stopped" },

	/* relative paths are taken from the directory of the file holding them */
	{ __LINE__, "conf/mls.yaml", SVC "    working_dir: srv\n", "web", S_WORKDIR, 0, "conf/srv" },
	{ __LINE__, "conf/mls.yaml", SVC "    working_dir: /srv\n", "web", S_WORKDIR, 0, "/srv" },
	{ __LINE__, "conf/mls.yaml", SVC "    env_file: [.env, /etc/x.env]\n", "web", S_ENV_FILE, 0, "conf/.env" },
	{ __LINE__, "conf/mls.yaml", SVC "    env_file: [.env, /etc/x.env]\n", "web", S_ENV_FILE, 1, "/etc/x.env" },
	{ __LINE__, "conf/mls.yaml", SVC "    env_file: app.env\n", "web", S_ENV_FILE, 0, "conf/app.env" },
	{ __LINE__, "/etc/mls/mls.yaml", "state_dir: run\nlog_dir: /var/log/mls\n" SVC, "web", S_STATE_DIR, 0, "/etc/mls/run" },
	{ __LINE__, "/etc/mls/mls.yaml", "state_dir: run\nlog_dir: /var/log/mls\n" SVC, "web", S_LOG_DIR, 0, "/var/log/mls" },
	{ __LINE__, NULL, SVC "    working_dir: srv\n", "web", S_WORKDIR, 0, "srv" },
	/* without working_dir: the directory of the file defining the service
	 * (none for a name without '/', as "test.yaml" above) */
	{ __LINE__, "conf/mls.yaml", SVC, "web", S_WORKDIR, 0, "conf" },
	{ __LINE__, "/etc/mls/mls.yaml", SVC, "web", S_WORKDIR, 0, "/etc/mls" },
	{ __LINE__, "/mls.yaml", SVC, "web", S_WORKDIR, 0, "/" },
	{ __LINE__, "conf/mls.yaml", "defaults: {working_dir: /srv}\n" SVC, "web", S_WORKDIR, 0, "/srv" },

	/* everything else as written */
	{ __LINE__, NULL, SVC "    user: \"1000:1000\"\n", "web", S_USER, 0, "1000:1000" },
	{ __LINE__, NULL, SVC "    schedule: \"*/5 * * * *\"\n", "web", S_SCHEDULE, 0, "*/5 * * * *" },
	{ __LINE__, NULL, SVC "    depends_on: [db, cache]\n  db: {command: x}\n  cache: {command: x}\n", "web", S_DEP, 1, "cache" },
	{ __LINE__, NULL, SVC "    depends_on: {db: {condition: service_started}}\n  db: {command: x}\n", "web", S_DEP, 0, "db" },
	{ __LINE__, NULL, SVC "    profiles: [dev, test]\n", "web", S_PROFILE, 1, "test" },
	{ __LINE__, NULL, SVC "    profiles: dev\n", "web", S_PROFILE, 0, "dev" },
	{ __LINE__, NULL, SVC "    tags: [frontend, http]\n", "web", S_TAG, 1, "http" },
	{ __LINE__, NULL, SVC "    watch: [\"src/**/*.py\", \"!tests/**\"]\n", "web", S_WATCH, 1, "!tests/**" },
	{ __LINE__, NULL, SVC "    git: {url: \"https://h/app.git\"}\n", "web", S_GIT_URL, 0, "https://h/app.git" },
	{ __LINE__, NULL, "http: {listen: \"127.0.0.1:9000\"}\n" SVC, "web", S_HTTP_LISTEN, 0, "127.0.0.1:9000" },
	{ __LINE__, NULL, "x-u: &u nobody\n" SVC "    user: *u\n", "web", S_USER, 0, "nobody" },
};

static void run_scases(void)
{
	for (size_t i = 0; i < sizeof scases / sizeof scases[0]; i++) {
		const struct scase *c = &scases[i];
		struct config cfg;
		struct diags d;
		struct config_opts o = test_opts(NULL);
		int rc = load(&cfg, &d, c->name, c->yaml, &o);
		const struct service *s = config_find(&cfg, c->svc);
		const char *got = s ? get_sfield(&cfg, s, c->f, c->idx) : NULL;
		int same = c->want ? got && !strcmp(got, c->want) : !got;
		if (!tap_ok(rc == 0 && d.errors == 0 && s && same, c->line, "string field #%d[%d] of '%s' is %s%s%s",
			    (int)c->f, c->idx, c->svc, c->want ? "'" : "", c->want ? c->want : "absent", c->want ? "'" : "")) {
			tap_diag("got %s%s%s (rc %d)", got ? "'" : "", got ? got : "NULL", got ? "'" : "", rc);
			dump_diags(&d);
		}
		config_free(&cfg);
		diags_free(&d);
	}
}

/* ======================================================================
 * 4. Single checks that do not fit a table row
 * ==================================================================== */

static void test_profiles(void)
{
	static const char yaml[] = SVC "    profiles: [dev, debug]\n"
				   "  tools: {command: x, profiles: [dev]}\n"
				   "  always: {command: x}\n";
	static const char *const dev[] = { "dev", NULL }, *const debug[] = { "debug", NULL },
			  *const other[] = { "other", NULL };
	const struct { int line; const char *const *p; int web, tools, always; } t[] = {
		{ __LINE__, NULL, 0, 0, 1 },
		{ __LINE__, dev, 1, 1, 1 },
		{ __LINE__, debug, 1, 0, 1 },
		{ __LINE__, other, 0, 0, 1 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct config cfg;
		struct diags d;
		struct config_opts o = test_opts(t[i].p);
		load(&cfg, &d, NULL, yaml, &o);
		const struct service *w = config_find(&cfg, "web"), *tl = config_find(&cfg, "tools"),
				     *a = config_find(&cfg, "always");
		tap_ok(d.errors == 0 && w && tl && a && w->active == t[i].web && tl->active == t[i].tools &&
			       a->active == t[i].always,
		       t[i].line, "profiles: --profile %s activates web=%d tools=%d always=%d",
		       t[i].p ? t[i].p[0] : "(none)", t[i].web, t[i].tools, t[i].always);
		config_free(&cfg);
		diags_free(&d);
	}
}

/* Top-level profiles: a profile's keys merged over the rest when active */
static void test_profile_overrides(void)
{
	static const char yaml[] = SVC "profiles:\n"
				   "  dev:\n"
				   "    log_level: debug\n"
				   "    services:\n"
				   "      web: {watch: [\"**/*.py\", \"!tests/**\"], watch_debounce: 500ms}\n"
				   "      extra: {command: x}\n"
				   "  prod: {services: {web: {replicas: 3}}}\n";
	static const char *const dev[] = { "dev", NULL }, *const both[] = { "dev", "prod", NULL };
	const struct { int line; const char *const *p; int watch, extra, replicas, level; } t[] = {
		{ __LINE__, NULL, 0, 0, 1, LVL_INFO },
		{ __LINE__, dev, 2, 1, 1, LVL_DEBUG },
		{ __LINE__, both, 2, 1, 3, LVL_DEBUG },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct config cfg;
		struct diags d;
		struct config_opts o = test_opts(t[i].p);
		load(&cfg, &d, NULL, yaml, &o);
		const struct service *w = config_find(&cfg, "web");
		int ok = d.errors == 0 && w && w->watch.n == t[i].watch && !!config_find(&cfg, "extra") == t[i].extra &&
			 w->replicas == t[i].replicas && (int)cfg.log_level == t[i].level &&
			 w->watch_debounce_ms == (t[i].watch ? 500 : WATCH_DEFAULT_DEBOUNCE_MS);
		if (!tap_ok(ok, t[i].line, "profile overrides: %s gives watch %d, extra %d, replicas %d",
			    t[i].p ? t[i].p[0] : "(none)", t[i].watch, t[i].extra, t[i].replicas))
			dump_diags(&d);
		config_free(&cfg);
		diags_free(&d);
	}
	static const struct { int line; const char *yaml, *msg; int eline, ecol; } bad[] = {
		{ __LINE__, SVC "profiles: [dev]\n", "profiles: expected a mapping of profile names", 4, 11 },
		{ __LINE__, SVC "profiles: {Dev: {}}\n", "bad profile name 'Dev'", 4, 12 },
		{ __LINE__, SVC "profiles: {dev: [x]}\n", "profiles.dev: expected a mapping of the keys it overrides", 4, 17 },
		{ __LINE__, SVC "profiles: {dev: {servics: {}}}\n", "profiles.dev: unknown key 'servics' (did you mean 'services'?)", 4, 18 },
		{ __LINE__, SVC "profiles: {dev: {profiles: {x: {}}}}\n", "a profile cannot define profiles", 4, 28 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct config cfg;
		struct diags d;
		struct config_opts o = test_opts(NULL);
		load(&cfg, &d, NULL, bad[i].yaml, &o);
		const struct diag *f = first_of(&d, DIAG_ERROR);
		if (!tap_ok(d.errors == 1 && f && strstr(f->msg, bad[i].msg) && f->line == bad[i].eline && f->col == bad[i].ecol,
			    bad[i].line, "profile overrides: %s", bad[i].msg))
			dump_diags(&d);
		config_free(&cfg);
		diags_free(&d);
	}
}

/* opts.unsupported decides the severity of later-feature keys: a warning
 * for validate, an error for supervise. A zeroed config_opts means
 * DIAG_ERROR (== 0); opts == NULL means a warning. */
static void test_unsupported(void)
{
	static const char yaml[] = SVC "    notify: {url: \"https://h/\"}\n";
	struct config cfg;
	struct diags d;
	struct config_opts o = test_opts(NULL);

	o.unsupported = DIAG_ERROR;
	load(&cfg, &d, NULL, yaml, &o);
	tap_ok(d.errors == 1 && d.warnings == 0 && d.n == 1 && strstr(d.v[0].msg, "services.web.notify: not supported yet by mls supervise"),
	       __LINE__, "unsupported = DIAG_ERROR: a later-feature key is an error (supervise)");
	config_free(&cfg);
	diags_free(&d);

	o.unsupported = DIAG_WARNING;
	load(&cfg, &d, NULL, yaml, &o);
	tap_ok(d.errors == 0 && d.warnings == 1, __LINE__, "unsupported = DIAG_WARNING: a warning (validate)");
	config_free(&cfg);
	diags_free(&d);

	memset(&d, 0, sizeof d);
	config_load_mem(&cfg, "test.yaml", yaml, strlen(yaml), NULL, &d);
	tap_ok(d.errors == 0 && d.warnings == 1, __LINE__, "opts NULL: a warning");
	config_free(&cfg);
	diags_free(&d);

	/* limits.cpu where validate found no usable cgroup v2: a warning naming why */
	static const char cpu[] = SVC "    limits: {cpu: 0.5}\n";
	o.cgroup_why = "/sys/fs/cgroup is not a cgroup2 mount (cgroup v1 or none)";
	load(&cfg, &d, NULL, cpu, &o);
	tap_ok(d.errors == 0 && d.warnings == 1 && d.n == 1 &&
		       strstr(d.v[0].msg, "limits.cpu: needs cgroup v2 with the cpu controller when mls runs, not here: /sys/fs/cgroup is not"),
	       __LINE__, "limits.cpu without cgroup v2 here: validate warns and says why");
	config_free(&cfg);
	diags_free(&d);
}

/* The hash: equal for the same definition, different when anything that
 * reaches the service changes (a value, an expanded ${VAR}, defaults) */
static uint64_t hash_of(const char *yaml, const char *const (*env)[2], const char *svc)
{
	struct config cfg;
	struct diags d;
	struct config_opts o = test_opts(NULL);
	o.getenv_ctx = (void *)env;
	load(&cfg, &d, NULL, yaml, &o);
	const struct service *s = config_find(&cfg, svc);
	uint64_t h = s && d.errors == 0 ? s->hash : 0;
	config_free(&cfg);
	diags_free(&d);
	return h;
}

static void test_hash(void)
{
	static const char *const env2[][2] = { { "MLS_T_SET", "changed" }, { NULL, NULL } };
	const char *a = SVC "    environment: {A: \"${MLS_T_SET}\"}\n  api: {command: x}\n";
	const char *b = SVC "    environment: {A: \"${MLS_T_SET}\"}\n  api: {command: y}\n";
	const char *c = SVC "    environment: {A: \"${MLS_T_SET}\"}\n    replicas: 2\n  api: {command: x}\n";
	const char *dflt = "defaults: {stop_grace_period: 3s}\n" SVC "    environment: {A: \"${MLS_T_SET}\"}\n  api: {command: x}\n";
	uint64_t h = hash_of(a, test_env, "web");

	tap_ok(h != 0 && h == hash_of(a, test_env, "web"), __LINE__, "hash: the same text gives the same hash");
	tap_ok(h == hash_of(b, test_env, "web"), __LINE__, "hash: another service's change leaves it alone");
	tap_ok(h != hash_of(c, test_env, "web"), __LINE__, "hash: a changed key changes it");
	tap_ok(h != hash_of(a, env2, "web"), __LINE__, "hash: a changed ${VAR} value changes it");
	tap_ok(h != hash_of(dflt, test_env, "web"), __LINE__, "hash: a change in defaults changes it");
	tap_ok(hash_of(a, test_env, "api") != hash_of(b, test_env, "api"), __LINE__, "hash: the other service's hash changes");
}

/* Places kept for messages: file, line and column of values */
static void test_positions(void)
{
	static const char yaml[] = "services:\n"
				   "  web:\n"
				   "    command: [\"sleep\", \"1\"]\n"
				   "    port: 8080\n"
				   "    env_file: [a.env, b.env]\n"
				   "    depends_on: [db]\n"
				   "  db: {command: x}\n";
	struct config cfg;
	struct diags d;
	struct config_opts o = test_opts(NULL);
	load(&cfg, &d, "dir/m.yaml", yaml, &o);
	const struct service *s = config_find(&cfg, "web");
	tap_ok(cfg.nfiles == 1 && !strcmp(cfg.files[0], "dir/m.yaml"), __LINE__, "positions: the file list holds the name");
	tap_ok(s && s->pos.file && !strcmp(s->pos.file, "dir/m.yaml") && s->pos.line == 2 && s->pos.col == 3,
	       __LINE__, "positions: the service at its name (2:3)");
	tap_ok(s && s->command.pos.line == 3 && s->command.pos.col == 14, __LINE__, "positions: command at 3:14");
	tap_ok(s && s->port_pos.line == 4 && s->port_pos.col == 11, __LINE__, "positions: port at 4:11");
	tap_ok(s && s->env_file.n == 2 && s->env_file.pos[1].line == 5 && s->env_file.pos[1].col == 23,
	       __LINE__, "positions: env_file[1] at 5:23");
	tap_ok(s && s->ndeps == 1 && s->deps[0].pos.line == 6 && s->deps[0].pos.col == 18, __LINE__,
	       "positions: depends_on[0] at 6:18");
	tap_ok(s && s->env_file.v[2] == NULL && s->command.argv[2] == NULL, __LINE__,
	       "lists are NULL-terminated (env_file, command argv)");
	config_free(&cfg);
	diags_free(&d);
}

/* config_load over files: several -c files merge (later scalars win, maps
 * merge, lists replace); a missing file sets io_error */
static void test_load_files(void)
{
	char dir[] = "/tmp/mls-test-config.XXXXXX";
	if (!mkdtemp(dir)) {
		tap_skip("config_load: cannot make a temporary directory");
		return;
	}
	char a[sizeof dir + 16], b[sizeof dir + 16], missing[sizeof dir + 16];
	snprintf(a, sizeof a, "%s/a.yaml", dir);
	snprintf(b, sizeof b, "%s/b.yaml", dir);
	snprintf(missing, sizeof missing, "%s/none.yaml", dir);
	FILE *f = fopen(a, "w");
	if (f) {
		fputs("services:\n  web:\n    command: [\"sleep\", \"1\"]\n    replicas: 0\n"
		      "    environment: {A: \"1\", B: \"2\"}\n    tags: [x, y]\n", f);
		fclose(f);
	}
	f = fopen(b, "w");
	if (f) {
		fputs("services:\n  web:\n    replicas: 3\n    environment: {B: \"3\"}\n    tags: [z]\n"
		      "  api:\n    command: x\n", f);
		fclose(f);
	}
	struct config_opts o = test_opts(NULL);
	struct config cfg;
	struct diags d = {0};
	const char *both[] = { a, b };

	int rc = config_load(&cfg, both, 1, &o, &d);
	tap_ok(rc == -1 && d.errors == 1 && d.n == 1 && d.v[0].line == 4 && !strcmp(d.v[0].file, a),
	       __LINE__, "config_load: a.yaml alone has replicas: 0 (at a.yaml:4)");
	config_free(&cfg);
	diags_free(&d);

	rc = config_load(&cfg, both, 2, &o, &d);
	const struct service *s = config_find(&cfg, "web");
	tap_ok(rc == 0 && d.errors == 0 && cfg.nfiles == 2, __LINE__, "config_load: a.yaml + b.yaml is valid");
	tap_ok(s && s->replicas == 3, __LINE__, "config_load: the later scalar wins (replicas 3)");
	tap_ok(s && s->environment.n == 2 && !strcmp(s->environment.v[0], "A=1") && !strcmp(s->environment.v[1], "B=3"),
	       __LINE__, "config_load: maps merge (environment A=1 B=3)");
	tap_ok(s && s->tags.n == 1 && !strcmp(s->tags.v[0], "z"), __LINE__, "config_load: lists replace (tags [z])");
	tap_ok(cfg.nsvcs == 2 && config_find(&cfg, "api"), __LINE__, "config_load: services of both files");
	tap_ok(s && s->command.pos.file && !strcmp(s->command.pos.file, a), __LINE__,
	       "config_load: a value keeps the file it came from");
	config_free(&cfg);
	diags_free(&d);

	const char *withmissing[] = { a, missing };
	rc = config_load(&cfg, withmissing, 2, &o, &d);
	tap_ok(rc == -1 && d.io_error == 1 && d.n >= 1 && strstr(d.v[d.n - 1].msg, "cannot open"), __LINE__,
	       "config_load: a missing file sets io_error and says 'cannot open'");
	config_free(&cfg);
	diags_free(&d);

	unlink(a);
	unlink(b);
	rmdir(dir);
}

/* The 16 MiB limit on a buffer */
static void test_size_limit(void)
{
	size_t n = CONFIG_MAX_FILE_SIZE + 1;
	char *big = malloc(n);
	if (!big) {
		tap_skip("cannot allocate 16 MiB");
		return;
	}
	memset(big, '#', n);
	struct config cfg;
	struct diags d = {0};
	struct config_opts o = test_opts(NULL);
	int rc = config_load_mem(&cfg, "big.yaml", big, n, &o, &d);
	tap_ok(rc == -1 && d.errors == 1 && d.n == 1 && strstr(d.v[0].msg, "larger than 16 MiB") && d.v[0].line == 0,
	       __LINE__, "a buffer over 16 MiB: one error, 'file is larger than 16 MiB'");
	config_free(&cfg);
	diags_free(&d);

	/* exactly at the limit: parsed (a comment) */
	big[0] = '#';
	big[n - 2] = '\n';
	rc = config_load_mem(&cfg, "big.yaml", big, n - 1, &o, &d);
	tap_ok(rc == 0 && d.errors == 0, __LINE__, "a buffer of exactly 16 MiB is read");
	config_free(&cfg);
	diags_free(&d);
	free(big);
}

/* More findings than DIAG_MAX: all counted, DIAG_MAX kept, truncated set */
static void test_many_findings(void)
{
	size_t cap = 80 * 1200 + 64, len = 0;
	char *y = malloc(cap);
	if (!y) {
		tap_skip("malloc");
		return;
	}
	len += snprintf(y + len, cap - len, "services:\n");
	for (int i = 0; i < 1100; i++)
		len += snprintf(y + len, cap - len, "  s%d: {command: x, replicas: 0}\n", i);
	struct config cfg;
	struct diags d = {0};
	struct config_opts o = test_opts(NULL);
	config_load_mem(&cfg, "many.yaml", y, len, &o, &d);
	tap_ok(d.errors == 1100 && d.n == DIAG_MAX && d.truncated, __LINE__,
	       "1,100 errors: all counted, %d kept, truncated", DIAG_MAX);
	config_free(&cfg);
	diags_free(&d);
	free(y);
}

/* init: (docs/init.md): a bool or a mapping; outside init mode a warning */
static void test_init(void)
{
	struct config cfg;
	struct diags d;
	struct config_opts o = test_opts(NULL);
	load(&cfg, &d, NULL, "init:\n  root_ro: true\n  tmp: true\n  mounts:\n"
		"    - {source: /dev/vdb, target: /data, type: ext4, options: \"noatime,ro\"}\n    - {target: /mnt/t, type: tmpfs}\n"
		"  sysctl: {net.ipv4.ip_forward: 1, vm.swappiness: \"10\"}\n  modules: loop\n"
		"services:\n  a: {command: x}\n", &o);
	const struct init_cfg *in = &cfg.init;
	tap_ok(d.errors == 0 && d.warnings == 1 && d.n && strstr(d.v[0].msg, "applies only when mls supervise is the system's init"),
	       __LINE__, "init: accepted, one warning outside init mode (%s)", d.n ? d.v[0].msg : "");
	tap_ok(in->set && in->enabled == -1 && in->root_ro && in->tmp && in->nmounts == 2 &&
		       !strcmp(in->mounts[0].source, "/dev/vdb") && !strcmp(in->mounts[0].options, "noatime,ro") &&
		       !strcmp(in->mounts[1].source, "tmpfs") && !in->mounts[1].options && in->sysctl_keys.n == 2 &&
		       !strcmp(in->sysctl_keys.v[0], "net.ipv4.ip_forward") && !strcmp(in->sysctl_values.v[0], "1") &&
		       in->modules.n == 1 && !strcmp(in->modules.v[0], "loop"),
	       __LINE__, "init: every key read (a mount's source defaults to its type)");
	config_free(&cfg);
	diags_free(&d);

	o.init_mode = 1;
	load(&cfg, &d, NULL, "init: true\nservices:\n  a: {command: x}\n", &o);
	tap_ok(d.errors == 0 && d.warnings == 0 && cfg.init.enabled == 1, __LINE__, "init: true, in init mode: no warning");
	config_free(&cfg);
	diags_free(&d);
	load(&cfg, &d, NULL, "services:\n  a: {command: x}\n", &o);
	tap_ok(!cfg.init.set && cfg.init.enabled == -1, __LINE__, "no init: detection decides (enabled -1)");
	config_free(&cfg);
	diags_free(&d);

	static const struct { int line; const char *yaml, *msg; } bad[] = {
		{ __LINE__, "init: {nosuch: 1}", "init: unknown key 'nosuch'" },
		{ __LINE__, "init: {mounts: {a: b}}", "init.mounts: expected a list" },
		{ __LINE__, "init: {mounts: [{type: tmpfs}]}", "init.mounts[0]: needs target" },
		{ __LINE__, "init: {mounts: [{target: x, type: tmpfs}]}", "needs target: an absolute path" },
		{ __LINE__, "init: {mounts: [{target: /x}]}", "init.mounts[0]: needs type" },
		{ __LINE__, "init: {sysctl: [a]}", "init.sysctl: expected a mapping" },
		{ __LINE__, "init: {sysctl: {../x: 1}}", "not a sysctl key" },
		{ __LINE__, "init: {root_ro: maybe}", "init.root_ro" },
		{ __LINE__, "init: yes-please", "init" },
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char y[256];
		snprintf(y, sizeof y, "%s\nservices:\n  a: {command: x}\n", bad[k].yaml);
		load(&cfg, &d, NULL, y, &o);
		int found = 0;
		for (int i = 0; i < d.n; i++)
			found |= d.v[i].sev == DIAG_ERROR && strstr(d.v[i].msg, bad[k].msg) != NULL;
		tap_ok(d.errors >= 1 && found, bad[k].line, "init error: %s -> %s (%s)", bad[k].yaml, bad[k].msg,
		       d.n ? d.v[0].msg : "no message");
		config_free(&cfg);
		diags_free(&d);
	}
}

static void test_names(void)
{
	tap_ok(!strcmp(restart_name(RESTART_ALWAYS), "always") && !strcmp(restart_name(RESTART_ON_FAILURE), "on-failure") &&
		       !strcmp(restart_name(RESTART_NO), "no"),
	       __LINE__, "restart_name");
	tap_ok(!strcmp(ready_name(READY_NONE), "none") && !strcmp(ready_name(READY_NOTIFY), "notify") &&
		       !strcmp(ready_name(READY_HEALTHY), "healthy"),
	       __LINE__, "ready_name");
	tap_ok(!strcmp(dep_cond_name(DEP_STARTED), "service_started") && !strcmp(dep_cond_name(DEP_HEALTHY), "service_healthy") &&
		       !strcmp(dep_cond_name(DEP_COMPLETED), "service_completed_successfully"),
	       __LINE__, "dep_cond_name");

	struct config cfg;
	struct diags d;
	struct config_opts o = test_opts(NULL);
	load(&cfg, &d, NULL, "services:\n  a: {command: x}\n  b: {command: y}\n", &o);
	tap_ok(config_find(&cfg, "b") == &cfg.svcs[1] && config_find(&cfg, "c") == NULL && cfg.nsvcs == 2,
	       __LINE__, "config_find: by name, NULL when absent; services in file order");
	config_free(&cfg);
	diags_free(&d);
}

/* diag_format, as validate prints it */
static void test_diag_format(void)
{
	char buf[256];
	struct diag x = { "f.yaml", 3, 7, DIAG_ERROR, "k", "boom" };
	tap_ok(!strcmp(diag_format(&x, buf, sizeof buf), "f.yaml:3:7: error: boom"), __LINE__, "diag_format: FILE:LINE:COL");
	x.col = 0;
	tap_ok(!strcmp(diag_format(&x, buf, sizeof buf), "f.yaml:3: error: boom"), __LINE__, "diag_format: no column");
	x.line = 0;
	x.sev = DIAG_WARNING;
	tap_ok(!strcmp(diag_format(&x, buf, sizeof buf), "f.yaml: warning: boom"), __LINE__, "diag_format: no line");
	x.file = NULL;
	tap_ok(!strcmp(diag_format(&x, buf, sizeof buf), "mls: warning: boom"), __LINE__, "diag_format: no file");
}


/* ---- config_compact ----
 *
 * supervise compacts its config (lib/config_copy.c) and keeps only the
 * copy, so every field a later feature reads must survive the move. The
 * check: load the same config twice, compact one, and compare the two
 * field by field, every field of struct config and of every struct it
 * holds. A mismatch names the field ("services.web.git.branch").
 *
 * A pointer that config_compact forgot to copy still points into the old
 * arena, which config_compact frees: reading it is a use-after-free (ASan
 * reports it in build/dev/unit; without ASan it may even read the old,
 * equal bytes). So every pointer of the config is recorded before the
 * compaction, and after it each one is checked against that record before
 * it is followed: one left behind is named, not read.
 *
 * A field added to one of these structs must be compared here too, and
 * copied in lib/config_copy.c if it points into the arena: the sizes below
 * stop the build until someone looks (a field that fits into padding is not
 * caught; x86_64 only, where they were measured). */
#if defined(__x86_64__)
_Static_assert(sizeof(struct pos) == 16, "struct pos changed: update cmp_pos() in tests/unit/test_config.c");
_Static_assert(sizeof(struct strv) == 24, "struct strv changed: update cmp_strv() in tests/unit/test_config.c");
_Static_assert(sizeof(struct command) == 32, "struct command changed: update cmp_command() in tests/unit/test_config.c");
_Static_assert(sizeof(struct cron) == 24, "struct cron changed: update cmp_cron() in tests/unit/test_config.c");
_Static_assert(sizeof(struct notify_cfg) == 40, "struct notify_cfg changed: update cmp_notify() in tests/unit/test_config.c");
_Static_assert(sizeof(struct notify_target) == 120, "struct notify_target changed: update cmp_notify() in tests/unit/test_config.c");
_Static_assert(sizeof(struct dep) == 32, "struct dep changed: update cmp_service() in tests/unit/test_config.c");
_Static_assert(sizeof(struct healthcheck) == 184, "struct healthcheck changed: update cmp_health() in tests/unit/test_config.c");
_Static_assert(sizeof(struct limits) == 72, "struct limits changed: update cmp_limits() in tests/unit/test_config.c");
_Static_assert(sizeof(struct git_cfg) == 112, "struct git_cfg changed: update cmp_git() in tests/unit/test_config.c");
_Static_assert(sizeof(struct http_cfg) == 144, "struct http_cfg changed: update cmp_http() in tests/unit/test_config.c");
_Static_assert(sizeof(struct service) == 1048, "struct service changed: update cmp_service() in tests/unit/test_config.c");
_Static_assert(sizeof(struct servers_entry) == 56, "struct servers_entry changed: update cmp_config() in tests/unit/test_config.c");
_Static_assert(sizeof(struct init_cfg) == 120, "struct init_cfg changed: update cmp_init() in tests/unit/test_config.c");
_Static_assert(sizeof(struct init_mnt) == 48, "struct init_mnt changed: update cmp_init() in tests/unit/test_config.c");
_Static_assert(sizeof(struct config) == 584, "struct config changed: update cmp_config() in tests/unit/test_config.c");
#endif

/* The pointers of a config before its compaction */
struct ptrs {
	const void **v;
	int n, cap;
};

struct cmp {
	const struct config *to; /* the compacted one: its positions must point into its files[] */
	const char *at;          /* dotted path of the struct being compared */
	struct ptrs *old;        /* pointers before compaction */
	int record;              /* 1: the pass before compaction, filling *old */
	int bad;                 /* fields that differ */
	char first[200];         /* the first of them */
};

static void cmp_bad(struct cmp *c, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cmp_bad(struct cmp *c, const char *field, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (!c->bad++)
		snprintf(c->first, sizeof c->first, "%s.%s", c->at, field);
	if (c->bad <= 20)
		tap_diag("%s.%s: %s", c->at, field, what);
}

/* Whether y's pointer p may be followed. The pass before compaction
 * (x == y) records it; after compaction a pointer seen before was not
 * copied: it points into the freed arena and is reported, not followed.
 * (The new arena is allocated while the old one still lives, so a new
 * pointer cannot equal an old one.) */
static int cmp_fresh(struct cmp *c, const char *field, const void *p)
{
	if (!p)
		return 1;
	if (c->record) {
		if (c->old->n == c->old->cap) {
			c->old->cap = c->old->cap ? 2 * c->old->cap : 256;
			c->old->v = realloc(c->old->v, (size_t)c->old->cap * sizeof *c->old->v);
			if (!c->old->v) {
				perror("realloc");
				exit(2);
			}
		}
		c->old->v[c->old->n++] = p;
		return 1;
	}
	for (int k = 0; k < c->old->n; k++)
		if (c->old->v[k] == p) {
			cmp_bad(c, field, "not copied: still points into the arena freed by config_compact");
			return 0;
		}
	return 1;
}

static void cmp_i(struct cmp *c, const char *field, long long x, long long y)
{
	if (x != y)
		cmp_bad(c, field, "%lld before, %lld after compaction", x, y);
}

static void cmp_u(struct cmp *c, const char *field, unsigned long long x, unsigned long long y)
{
	if (x != y)
		cmp_bad(c, field, "%#llx before, %#llx after compaction", x, y);
}

static void cmp_d(struct cmp *c, const char *field, double x, double y)
{
	if (x != y)
		cmp_bad(c, field, "%g before, %g after compaction", x, y);
}

/* Returns whether y may be read (see cmp_fresh) */
static int cmp_s(struct cmp *c, const char *field, const char *x, const char *y)
{
	if (!cmp_fresh(c, field, y))
		return 0;
	if (!x != !y || (x && strcmp(x, y)))
		cmp_bad(c, field, "'%s' before, '%s' after compaction", x ? x : "(null)", y ? y : "(null)");
	return 1;
}

static void cmp_pos(struct cmp *c, const char *field, struct pos x, struct pos y)
{
	char f[128];

	snprintf(f, sizeof f, "%s.line", field);
	cmp_i(c, f, x.line, y.line);
	snprintf(f, sizeof f, "%s.col", field);
	cmp_i(c, f, x.col, y.col);
	snprintf(f, sizeof f, "%s.file", field);
	if (!cmp_s(c, f, x.file, y.file) || !y.file)
		return;
	for (int k = 0; k < c->to->nfiles; k++)
		if (y.file == c->to->files[k])
			return;
	cmp_bad(c, f, "file '%s' does not point into the compacted files[]", y.file);
}

static void cmp_strv(struct cmp *c, const char *field, const struct strv *x, const struct strv *y)
{
	char f[128];

	snprintf(f, sizeof f, "%s.n", field);
	cmp_i(c, f, x->n, y->n);
	if (x->n != y->n)
		return;
	if (!x->v != !y->v) {
		cmp_bad(c, field, "v is %s before, %s after compaction", x->v ? "set" : "NULL", y->v ? "set" : "NULL");
		return;
	}
	if (!x->pos != !y->pos) {
		cmp_bad(c, field, "pos is %s before, %s after compaction", x->pos ? "set" : "NULL", y->pos ? "set" : "NULL");
		return;
	}
	snprintf(f, sizeof f, "%s.v", field);
	int vok = cmp_fresh(c, f, y->v);
	snprintf(f, sizeof f, "%s.pos", field);
	if (!vok || !cmp_fresh(c, f, y->pos))
		return;
	for (int k = 0; x->v && k < x->n; k++) {
		snprintf(f, sizeof f, "%s.v[%d]", field, k);
		cmp_s(c, f, x->v[k], y->v[k]);
		snprintf(f, sizeof f, "%s.pos[%d]", field, k);
		if (x->pos)
			cmp_pos(c, f, x->pos[k], y->pos[k]);
	}
	if (x->v && !x->v[x->n] && y->v[y->n])
		cmp_bad(c, field, "not NULL-terminated after compaction");
}

static void cmp_command(struct cmp *c, const char *field, const struct command *x, const struct command *y)
{
	char f[128];

	snprintf(f, sizeof f, "%s.argc", field);
	cmp_i(c, f, x->argc, y->argc);
	snprintf(f, sizeof f, "%s.shell", field);
	cmp_i(c, f, x->shell, y->shell);
	snprintf(f, sizeof f, "%s.pos", field);
	cmp_pos(c, f, x->pos, y->pos);
	if (!x->argv != !y->argv) {
		cmp_bad(c, field, "argv is %s before, %s after compaction", x->argv ? "set" : "NULL",
			y->argv ? "set" : "NULL");
		return;
	}
	snprintf(f, sizeof f, "%s.argv", field);
	if (!x->argv || x->argc != y->argc || !cmp_fresh(c, f, y->argv))
		return;
	for (int k = 0; k < x->argc; k++) {
		snprintf(f, sizeof f, "%s.argv[%d]", field, k);
		cmp_s(c, f, x->argv[k], y->argv[k]);
	}
	if (!x->argv[x->argc] && y->argv[y->argc])
		cmp_bad(c, field, "argv is not NULL-terminated after compaction");
}

/* Compare x->FIELD and y->FIELD, named FIELD (nested: "backoff.max_ms") */
#define CI(f) cmp_i(c, #f, x->f, y->f)
#define CU(f) cmp_u(c, #f, x->f, y->f)
#define CD(f) cmp_d(c, #f, x->f, y->f)
#define CS(f) cmp_s(c, #f, x->f, y->f)
#define CP(f) cmp_pos(c, #f, x->f, y->f)
#define CV(f) cmp_strv(c, #f, &x->f, &y->f)
#define CC(f) cmp_command(c, #f, &x->f, &y->f)

static void cmp_notify_target(struct cmp *c, const struct notify_target *x, const struct notify_target *y)
{
	CS(url);
	CU(events);
	CV(services);
	CU(format);
	CS(secret);
	CV(headers);
	CU(timeout_ms);
	CU(heartbeat_ms);
	CS(ca_file);
	CP(pos);
}

static void cmp_notify(struct cmp *c, const struct notify_cfg *x, const struct notify_cfg *y)
{
	CU(n);
	CU(hash);
	CP(pos);
	for (int k = 0; k < x->n && k < y->n; k++)
		cmp_notify_target(c, &x->t[k], &y->t[k]);
}

static void cmp_cron(struct cmp *c, const struct cron *x, const struct cron *y)
{
	CU(minute);
	CU(hour);
	CU(mday);
	CU(month);
	CU(wday);
	CU(flags);
}

static void cmp_health(struct cmp *c, const struct healthcheck *x, const struct healthcheck *y)
{
	CI(kind);
	CS(http);
	CS(tcp);
	CC(exec);
	CI(interval_ms);
	CI(timeout_ms);
	CI(start_period_ms);
	CI(start_interval_ms);
	CI(retries);
	CI(success_threshold);
	CI(nexpect);
	for (int k = 0; k < HC_MAX_EXPECT; k++)
		CI(expect_status[k]);
	CI(restart);
	CP(pos);
}

static void cmp_limits(struct cmp *c, const struct limits *x, const struct limits *y)
{
	CI(memory);
	CD(cpu);
	CI(pids);
	CI(nofile);
	CI(core);
	CI(swap);
	CI(io_weight);
	CP(cpu_pos);
}

static void cmp_git(struct cmp *c, const struct git_cfg *x, const struct git_cfg *y)
{
	CS(url);
	CS(ref);
	CI(interval_ms);
	CI(depth);
	CS(token_file);
	CS(username);
	CS(password_file);
	CS(ca_file);
	CI(keep);
	CI(rollback);
	CI(verify_window_ms);
	CS(path);
	CU(hash);
	CP(pos);
}

/* cmp_s on the field ARR[K].FIELD of an array of structs */
static void cmp_s_at(struct cmp *c, const char *arr, int k, const char *field, const char *x, const char *y)
{
	char f[64];
	snprintf(f, sizeof f, "%s[%d].%s", arr, k, field);
	cmp_s(c, f, x, y);
}

static void cmp_init(struct cmp *c, const struct init_cfg *x, const struct init_cfg *y)
{
	CI(set);
	CI(enabled);
	CI(root_ro);
	CI(tmp);
	CI(nmounts);
	for (int k = 0; cmp_fresh(c, "mounts", y->mounts) && k < x->nmounts && k < y->nmounts; k++) {
		const struct init_mnt *a = &x->mounts[k], *b = &y->mounts[k];
		cmp_s_at(c, "mounts", k, "source", a->source, b->source);
		cmp_s_at(c, "mounts", k, "target", a->target, b->target);
		cmp_s_at(c, "mounts", k, "type", a->type, b->type);
		cmp_s_at(c, "mounts", k, "options", a->options, b->options);
		cmp_pos(c, "mounts[].pos", a->pos, b->pos);
	}
	CV(sysctl_keys);
	CV(sysctl_values);
	CV(modules);
	CP(pos);
}

static void cmp_http(struct cmp *c, const struct http_cfg *x, const struct http_cfg *y)
{
	CI(enabled);
	CV(listen);
	CI(tls);
	CS(tls_cert);
	CS(tls_key);
	CS(token_file);
	CS(token);
	CS(read_token_file);
	CS(read_token);
	CU(allow);
	CU(public_);
	CI(max_connections);
	CS(user);
	CI(loopback);
	CU(hash);
	CP(pos);
}

/* Run a nested compare with c->at extended by `name` */
#define CNEST(fn, name, px, py) do { \
		const char *at0_ = c->at; \
		char at_[160]; \
		snprintf(at_, sizeof at_, "%s.%s", at0_, name); \
		c->at = at_; \
		fn(c, px, py); \
		c->at = at0_; \
	} while (0)

static void cmp_service(struct cmp *c, const struct service *x, const struct service *y)
{
	CS(name);
	CP(pos);
	CC(command);
	CS(working_dir);
	CP(working_dir_pos);
	CV(environment);
	CV(env_file);
	CS(user);
	CI(replicas);
	CI(port);
	CP(port_pos);
	CI(restart);
	CI(backoff.initial_ms);
	CI(backoff.max_ms);
	CI(backoff.reset_after_ms);
	CD(backoff.factor);
	CI(backoff.jitter_pct);
	CI(restart_limit.count);
	CI(restart_limit.window_ms);
	CI(stop_signal);
	CI(stop_grace_ms);
	CI(ndeps);
	if (!x->deps != !y->deps)
		cmp_bad(c, "deps", "%s before, %s after compaction", x->deps ? "set" : "NULL", y->deps ? "set" : "NULL");
	int deps_ok = cmp_fresh(c, "deps", y->deps);
	for (int k = 0; deps_ok && x->deps && y->deps && k < x->ndeps && k < y->ndeps; k++) {
		char f[64];
		snprintf(f, sizeof f, "deps[%d].name", k);
		cmp_s(c, f, x->deps[k].name, y->deps[k].name);
		snprintf(f, sizeof f, "deps[%d].cond", k);
		cmp_i(c, f, x->deps[k].cond, y->deps[k].cond);
		snprintf(f, sizeof f, "deps[%d].pos", k);
		cmp_pos(c, f, x->deps[k].pos, y->deps[k].pos);
	}
	CNEST(cmp_health, "health", &x->health, &y->health);
	CI(ready);
	CI(watchdog_ms);
	CP(ready_pos);
	CI(ready_fd);
	CNEST(cmp_limits, "limits", &x->limits, &y->limits);
	CI(nice);
	CI(has_nice);
	CV(profiles);
	CV(watch);
	CI(watch_debounce_ms);
	CNEST(cmp_git, "git", &x->git, &y->git);
	CI(critical);
	CC(pre_start);
	CC(post_stop);
	CC(pre_deploy);
	CI(pre_deploy_timeout_ms);
	CNEST(cmp_notify, "notify", &x->notify, &y->notify);
	CI(log.max_size);
	CI(log.keep);
	CV(tags);
	CS(schedule);
	CNEST(cmp_cron, "cron", &x->cron, &y->cron);
	CI(timeout_ms);
	CI(runs);
	CI(is_job);
	CI(active);
	CI(internal);
	CS(image);
	CS(build);
	CS(docker_cli);
	CP(image_pos);
	CI(docker);
	CS(source);
	CU(hash);
	CU(hash_shape);
}

/* The top level only; services are compared one by one by the caller */
static void cmp_config(struct cmp *c, const struct config *x, const struct config *y)
{
	CI(nfiles);
	for (int k = 0; cmp_fresh(c, "files", y->files) && k < x->nfiles && k < y->nfiles; k++) {
		char f[32];
		snprintf(f, sizeof f, "files[%d]", k);
		cmp_s(c, f, x->files[k], y->files[k]);
	}
	CS(state_dir);
	CS(log_dir);
	CI(log_level);
	CI(log_format);
	CV(include);
	CS(servers_dir);
	CP(servers_dir_pos);
	CI(nservers);
	for (int k = 0; cmp_fresh(c, "servers", y->servers) && k < x->nservers && k < y->nservers; k++) {
		cmp_s_at(c, "servers", k, "path", x->servers[k].path, y->servers[k].path);
		cmp_s_at(c, "servers", k, "name", x->servers[k].name, y->servers[k].name);
		cmp_s_at(c, "servers", k, "note", x->servers[k].note, y->servers[k].note);
		cmp_s_at(c, "servers", k, "trigger", x->servers[k].trigger, y->servers[k].trigger);
		if (x->servers[k].kind != y->servers[k].kind || x->servers[k].runs != y->servers[k].runs ||
		    x->servers[k].problem != y->servers[k].problem || x->servers[k].any_file != y->servers[k].any_file)
			cmp_bad(c, "servers", "an entry's kind or flags differ");
	}
	CI(startup);
	CS(control_group);
	CU(control_allow);
	CNEST(cmp_http, "http", &x->http, &y->http);
	CNEST(cmp_notify, "notify", &x->notify, &y->notify);
	CNEST(cmp_git, "config_git", &x->config_git, &y->config_git);
	CS(git_user);
	CP(git_user_pos);
	CNEST(cmp_init, "init", &x->init, &y->init);
	CI(nsvcs);
	if (y->arena == x->arena && !c->record)
		cmp_bad(c, "arena", "the same arena before and after compaction");
}

#undef CI
#undef CU
#undef CD
#undef CS
#undef CP
#undef CV
#undef CC
#undef CNEST

/* Compare x (a) and y (b), or record b's pointers (c->record, x == y):
 * one result for the top level, one per service when reporting */
static void cmp_all(struct cmp *c, const struct config *x, const struct config *y, const char *what)
{
	c->at = "config";
	c->bad = 0;
	c->first[0] = 0;
	cmp_config(c, x, y);
	int fresh = cmp_fresh(c, "svcs", y->svcs);
	if (!c->record)
		tap_ok(!c->bad, __LINE__, "compact %s: every top-level field equal%s%s", what,
		       c->bad ? "; first mismatch: " : "", c->first);
	for (int k = 0; fresh && k < x->nsvcs && k < y->nsvcs; k++) {
		char at[96];
		snprintf(at, sizeof at, "services.%s", x->svcs[k].name);
		c->at = at;
		c->bad = 0;
	c->first[0] = 0;
		cmp_service(c, &x->svcs[k], &y->svcs[k]);
		if (!c->record)
			tap_ok(!c->bad, __LINE__, "compact %s: %s: every field equal%s%s", what, at,
			       c->bad ? "; first mismatch: " : "", c->first);
	}
}

/* Compact b (loaded like a) and compare it with a, field by field */
static void compact_and_compare(struct config *a, struct config *b, const char *what)
{
	struct ptrs old = { 0 };
	struct cmp c = { .to = b, .old = &old, .record = 1 };

	cmp_all(&c, b, b, what);
	tap_ok(old.n > 50 && config_compact(b) == 0, __LINE__, "compact %s: returns 0 (%d pointers before)", what, old.n);
	c = (struct cmp){ .to = b, .old = &old };
	cmp_all(&c, a, b, what);
	free(old.v);
}

/* config/full-reference.yaml.example: every key the loader knows, the
 * LATER ones (notify, servers_dir, limits.cpu) too,
 * accepted with warnings as validate accepts them. Found through $TESTS_DIR (make test sets it) or from the
 * top of the repository. */
static void test_compact_reference(void)
{
	static const char *const debug[] = { "debug", NULL };
	const char *td = getenv("TESTS_DIR");
	char path[4096];
	struct config a, b;
	struct diags d = { 0 };
	struct config_opts o = test_opts(debug); /* console (profiles: [debug]) active too */

	o.unsupported = DIAG_WARNING;
	snprintf(path, sizeof path, "%s%s", td && *td ? td : ".",
		 td && *td ? "/../config/full-reference.yaml.example" : "/config/full-reference.yaml.example");
	const char *const files[] = { path };
	config_load(&a, files, 1, &o, &d);
	config_load(&b, files, 1, &o, &d);
	tap_ok(!d.io_error && d.errors == 0 && d.warnings > 0 && a.nsvcs == 7 /* 5 + mls-httpd, mls-gitwatch */, __LINE__,
	       "compact reference: %s loads (%d errors, %d warnings for the LATER keys, %d services)", path,
	       d.errors, d.warnings, a.nsvcs);
	for (int i = 0; i < d.n && d.errors; i++)
		if (d.v[i].sev == DIAG_ERROR)
			tap_diag("%s:%d: %s", d.v[i].file ? d.v[i].file : "", d.v[i].line, d.v[i].msg);

	/* the comparison is only worth something where the fields are set */
	const struct service *web = config_find(&a, "web"), *db = config_find(&a, "db"),
			     *report = config_find(&a, "report"), *migrate = config_find(&a, "migrate");
	tap_ok(a.servers_dir && a.http.listen.n && a.http.tls_cert && a.http.tls_key && a.http.token_file &&
		       a.http.user && a.notify.n == 1 && a.notify.t[0].url && a.notify.t[0].events && a.include.n == 1 && a.log_dir &&
		       a.control_group && a.control_allow != PROTO_PERM_GROUP_DEFAULT,
	       __LINE__, "compact reference: the top-level keys are set (servers_dir, http.*, notify.*, include ...)");
	tap_ok(web && web->health.kind == HC_HTTP && web->health.http && web->health.start_period_ms == 0 &&
		       web->health.start_interval_ms == 1000 && web->health.nexpect == 2 &&
		       web->health.expect_status[1] == 204 && web->health.success_threshold == 1 && web->watchdog_ms == 30000 &&
		       web->git.url && web->git.ref && web->git.rollback && web->git.keep == 3 && web->git.token_file && web->pre_deploy.argc && a.config_git.url && a.git_user && web->watch.n == 2 &&
		       web->limits.cpu == 0.5 && web->limits.memory > 0 && web->limits.core == 0 &&
		       web->notify.n && web->notify.t[0].url && web->ready == READY_HEALTHY && web->ndeps == 2 && web->has_nice &&
		       web->pre_start.argv && web->post_stop.argv && web->env_file.n == 1 && web->environment.n == 2 &&
		       web->tags.n == 1 && web->user && web->working_dir && db && db->health.kind == HC_TCP &&
		       db->health.tcp && report && report->schedule && report->is_job && migrate && migrate->runs == 1,
	       __LINE__, "compact reference: the service keys are set (healthcheck, watchdog, git, watch, limits.cpu, notify ...)");

	compact_and_compare(&a, &b, "reference");
	config_free(&a);
	config_free(&b);
	diags_free(&d);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(text, f) >= 0;
	if (f && fclose(f))
		ok = 0;
	return ok;
}

/* What the reference does not hold: shell commands, an exec healthcheck,
 * http.token, a list environment, defaults and anchors, an inactive
 * profile; and three files (a second config file and an include), so that
 * positions must be mapped to the right one of the new files[] */
static void test_compact_more(void)
{
	static const char main_yaml[] =
		"state_dir: /tmp/s\nlog_dir: /tmp/l\ncontrol_group: wheel\ncontrol_allow: [status, shutdown]\nstartup: sequential\n"
		"log_level: debug\nlog_format: json\ninclude: [\"inc/*.yaml\"]\n"
		"http: {listen: \"0.0.0.0:9000\", token: \"0123456789abcdef0\"}\n"
		"notify: [{url: \"https://h.example/x\", events: [healthy, stopped]},\n"
		"  {url: \"http://h.example/y\", services: [db, \"w*\"], format: slack, secret: s3, headers: {X-A: b},\n"
		"   timeout: 3s, heartbeat: 1m}]\n"
		"x-e: &e {A: \"1\"}\n"
		"defaults: {stop_grace_period: 3s, restart_limit: {count: 7}}\n"
		"init: {root_ro: true, tmp: true, mounts: [{source: tmpfs, target: /mnt/x, type: tmpfs, options: \"size=1m\"}],\n"
		"  sysctl: {vm.swappiness: \"10\", kernel.printk: \"4 4 1 7\"}, modules: [loop, 9p]}\n"
		"services:\n"
		"  db:\n    command: \"exec sleep 1\"\n    ready: notify\n    ready_fd: 5\n    tags: [a, b]\n"
		"    env_file: [/dev/null]\n    stop_signal: INT\n    nice: -3\n    critical: true\n"
		"    healthcheck: {exec: \"test -e /tmp\", interval: 2s, timeout: 500ms, retries: 7, start_period: 9s, restart: false,\n"
		"                  start_interval: 250ms, success_threshold: 4}\n    watchdog: 2m\n"
		"    log: {max_size: 2MiB, keep: 9}\n"
		"  web:\n    command: [\"/bin/echo\", \"${PORT}\"]\n    replicas: 3\n    port: auto\n"
		"    environment: {<<: *e, B: \"$$x\"}\n    depends_on: {db: {condition: service_started}}\n"
		"    hooks: {pre_start: \"true\", post_stop: [\"/bin/true\"]}\n    user: \"0:0\"\n"
		"    working_dir: /tmp\n    restart_backoff: {initial: 250ms, factor: 3, jitter: 0%, reset_after: 1m}\n"
		"    restart: on-failure\n    restart_limit: {window: 2m}\n"
		"    limits: {memory: 64MiB, pids: 10, nofile: 100, core: 1MiB}\n"
		"    git: {url: /srv/app.git, interval: 1m}\n"
		"  job: {command: [\"date\"], schedule: \"@reboot\", timeout: 3s, environment: [\"C=3\", \"D=4\"]}\n";
	static const char second_yaml[] =
		"services:\n"
		"  web: {replicas: 2, tags: [from-second]}\n"
		"  cron: {command: [\"date\"], schedule: \"1-5 2 */3 jan sun\"}\n";
	static const char included_yaml[] =
		"services:\n"
		"  dbg: {command: \"env\", profiles: [debug, x], watch: [\"*.c\"]}\n";
	const char *tmp = getenv("TMPDIR");
	char dir[4096], inc[4200], f1[4200], f2[4200], f3[4300];

	snprintf(dir, sizeof dir, "%s/mls-test-compact-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		tap_ok(0, __LINE__, "compact more: mkdtemp %s: %s", dir, strerror(errno));
		return;
	}
	snprintf(inc, sizeof inc, "%s/inc", dir);
	snprintf(f1, sizeof f1, "%s/c.yaml", dir);
	snprintf(f2, sizeof f2, "%s/c2.yaml", dir);
	snprintf(f3, sizeof f3, "%s/i.yaml", inc);
	int wrote = mkdir(inc, 0700) == 0 && write_file(f1, main_yaml) && write_file(f2, second_yaml) &&
		    write_file(f3, included_yaml);
	tap_ok(wrote, __LINE__, "compact more: wrote the config files in %s", dir);

	struct config a, b;
	struct diags d = { 0 };
	struct config_opts o = test_opts(NULL);
	const char *const files[] = { f1, f2 };
	config_load(&a, files, 2, &o, &d);
	config_load(&b, files, 2, &o, &d);
	tap_ok(d.errors == 0 && a.nsvcs == 7 /* 5 + mls-httpd, mls-gitwatch */ && a.nfiles == 3, __LINE__,
	       "compact more: the config loads (%d errors, %d services, %d files)", d.errors, a.nsvcs, a.nfiles);
	for (int i = 0; i < d.n && d.errors; i++)
		if (d.v[i].sev == DIAG_ERROR)
			tap_diag("%s:%d: %s", d.v[i].file ? d.v[i].file : "", d.v[i].line, d.v[i].msg);
	const struct service *db = config_find(&a, "db"), *dbg = config_find(&a, "dbg"),
			     *cron = config_find(&a, "cron");
	tap_ok(a.http.token && db && db->health.kind == HC_EXEC && db->health.exec.argv && db->health.exec.shell &&
		       db->health.start_interval_ms == 250 && db->health.success_threshold == 4 && db->watchdog_ms == 120000 &&
		       dbg && !dbg->active && a.nfiles == 3 && cron && cron->pos.file == a.files[1] &&
		       dbg->pos.file == a.files[2],
	       __LINE__, "compact more: http.token, an exec healthcheck, an inactive service, 3 files are set");
	compact_and_compare(&a, &b, "more");
	config_free(&a);
	config_free(&b);
	diags_free(&d);
	unlink(f3);
	rmdir(inc);
	unlink(f2);
	unlink(f1);
	rmdir(dir);
}

int main(void)
{
	run_dcases();
	run_vcases();
	run_scases();
	test_profiles();
	test_profile_overrides();
	test_unsupported();
	test_hash();
	test_positions();
	test_load_files();
	test_size_limit();
	test_many_findings();
	test_names();
	test_diag_format();
	test_compact_reference();
	test_compact_more();
	test_init();
	return tap_done();
}
