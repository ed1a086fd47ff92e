/* mls httpd: the HTTP(S) API, SSE and metrics of mls, in its own
 * unprivileged process (applets/httpd/hd.h, docs/api.md).
 *
 * Start-up, in this order: the settings line from fd 3; the token files
 * and the TLS credentials (tls: auto makes them on first start); every
 * listener bound (ports below 1024 work); privileges dropped for good
 * (http.user, default nobody under root; no new privileges; not dumpable;
 * RLIMIT_NOFILE for its connection cap); a `channel` for the event
 * stream. Then the loop, until SIGTERM or supervise closes fd 3.
 * With `notify:` and no `http:` the settings have no listen address:
 * httpd binds nothing and only sends the webhooks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "applets.h"
#include "cJSON.h"
#include "hd.h"
#include "parse.h"
#include "privdrop.h"
#include "secretfile.h"
#include "spawn.h"
#if MLS_HAVE_TLS
#include "tlscert.h"
#endif

struct hd HD;

#define CTL_FD 3
#define SETUP_TIMEOUT_MS 10000
#define NOTIFY_DRAIN_MS 2000 /* at exit, for webhooks in flight */

static int die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "mls httpd: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* ----------------------------------------------------------- settings */

static char *dup_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int has_word(const cJSON *arr, const char *w)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, arr)
		if (cJSON_IsString(v) && !strcmp(v->valuestring, w))
			return 1;
	return 0;
}

/* Zero every string of a parsed JSON tree before it is freed */
static void wipe_json(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		if (j->string)
			explicit_bzero(j->string, strlen(j->string));
		wipe_json(j->child);
	}
}

static int load_settings(const char *line, size_t len, char *err, size_t errsz)
{
	struct hd_settings *s = &HD.set;
	cJSON *j = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		snprintf(err, errsz, "bad settings from the supervisor");
		return -1;
	}
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "listen"), *v;
	s->listen = calloc((size_t)cJSON_GetArraySize(l) + 1, sizeof *s->listen);
	cJSON_ArrayForEach(v, l)
		if (cJSON_IsString(v) && s->listen)
			s->listen[s->nlisten++] = strdup(v->valuestring);
	char *tls = dup_str(j, "tls");
	s->tls = !tls || !strcmp(tls, "off") ? 0 : !strcmp(tls, "auto") ? 1 : 2;
	free(tls);
	s->cert = dup_str(j, "cert");
	s->key = dup_str(j, "key");
	s->tls_dir = dup_str(j, "tls_dir");
	s->token = dup_str(j, "token");
	s->read_token = dup_str(j, "read_token");
	s->user = dup_str(j, "user");
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(j, "allow");
	cJSON_ArrayForEach(v, allow)
		if (cJSON_IsString(v))
			s->allow |= proto_perm_of(v->valuestring);
	const cJSON *pub = cJSON_GetObjectItemCaseSensitive(j, "public");
	s->public_healthz = has_word(pub, "healthz");
	s->public_readyz = has_word(pub, "readyz");
	s->public_metrics = has_word(pub, "metrics");
	const cJSON *mc = cJSON_GetObjectItemCaseSensitive(j, "max_connections");
	s->max_connections = cJSON_IsNumber(mc) ? mc->valueint : 256;
	int rc = 0;
	char *tf = dup_str(j, "token_file"), *rtf = dup_str(j, "read_token_file");
	if (tf && !(s->token = secretfile_read(tf, "token", 16, err, errsz)))
		rc = -1;
	if (!rc && rtf && !(s->read_token = secretfile_read(rtf, "token", 16, err, errsz)))
		rc = -1;
	free(tf);
	free(rtf);
	if (!rc)
		rc = hd_notify_load(j, err, errsz);
	if (!rc && s->nlisten == 0 && hd_notify_count() == 0) {
		snprintf(err, errsz, "no listen address and no notify target in the settings");
		rc = -1;
	}
	/* the settings line held the tokens: do not leave them in the heap */
	wipe_json(j);
	cJSON_Delete(j);
	return rc;
}

/* ---------------------------------------------------------------- TLS */

#if MLS_HAVE_TLS
static struct tls_creds creds;

static int setup_tls(char *err, size_t errsz)
{
	const struct hd_settings *s = &HD.set;
	if (s->tls == 2) {
		if (tls_creds_load(&creds, s->cert, s->key, err, errsz) < 0)
			return -1;
	} else {
		/* SAN: every listen host, localhost, this host's name */
		const char *names[HTTPSRV_MAX_LISTENERS + 3];
		char hosts[HTTPSRV_MAX_LISTENERS][256], hn[256];
		int n = 0;
		for (int k = 0; k < s->nlisten && k < HTTPSRV_MAX_LISTENERS; k++) {
			int port;
			if (parse_hostport(s->listen[k], hosts[k], sizeof hosts[k], &port) == 0)
				names[n++] = hosts[k];
		}
		names[n++] = "localhost";
		if (gethostname(hn, sizeof hn) == 0) {
			hn[sizeof hn - 1] = 0;
			names[n++] = hn;
		}
		names[n] = NULL;
		int created = 0;
		if (tls_creds_auto(&creds, s->tls_dir, names, &created, err, errsz) < 0)
			return -1;
		if (created)
			fprintf(stderr, "mls httpd: made a self-signed certificate in %s\n", s->tls_dir);
	}
	char fp[128], pin[128];
	tls_fingerprint_fmt(creds.cert_sha256, fp, sizeof fp);
	tls_pin_fmt(creds.spki_sha256, pin, sizeof pin);
	fprintf(stderr, "mls httpd: certificate SHA-256 fingerprint %s\n", fp);
	fprintf(stderr, "mls httpd: public key pin %s (curl --pinnedpubkey)\n", pin);
	struct httpsrv_tls t = { .chain = creds.chain, .chain_len = creds.chain_len, .key_type = creds.key_type,
		.ec = &creds.ec, .rsa = &creds.rsa };
	if (httpsrv_set_tls(HD.srv, &t) < 0) {
		snprintf(err, errsz, "cannot use the TLS credentials: %s", strerror(errno));
		return -1;
	}
	return 0;
}
#endif

/* --------------------------------------------------------- privileges */

static int drop_privileges(char *err, size_t errsz)
{
	const struct hd_settings *s = &HD.set;
	/* every fd it may hold: connections, their log streams, listeners */
	rlim_t nofile = (rlim_t)s->max_connections * 2 + 64;
	struct rlimit rl = { nofile, nofile };
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		struct rlimit cur;
		if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max < nofile) {
			rl.rlim_cur = rl.rlim_max = cur.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (geteuid() == 0) {
		struct spawn_user u;
		const char *who = s->user ? s->user : "nobody";
		if (spawn_resolve_user(who, &u, err, errsz) < 0) {
			if (s->user)
				return -1;
			/* no passwd entry (FROM scratch): nobody's usual ids */
			u.uid = u.gid = 65534;
		}
		if (u.uid == 0) {
			snprintf(err, errsz, "http.user must not be root");
			return -1;
		}
		return privdrop(u.uid, u.gid, err, errsz);
	}
	if (s->user) {
		struct spawn_user u;
		if (spawn_resolve_user(s->user, &u, err, errsz) < 0)
			return -1;
		if (u.uid != geteuid()) {
			snprintf(err, errsz, "http.user %s needs mls to run as root", s->user);
			return -1;
		}
	}
	/* not root: nothing to drop; no_new_privs, and not dumpable (tokens
	 * in memory: no ptrace by the same uid) */
	return privdrop(geteuid(), getegid(), err, errsz);
}

/* ------------------------------------------------------------ the loop */

static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)si; (void)ctx;
	HD.stopping = 1;
	loop_stop(l);
}

/* The event stream: a second connection, asked for over the first */
static int open_events(char *err, size_t errsz)
{
	uint64_t seq;
	if (ctlclient_open_events(&HD.ctl, &HD.ev, loop_now_ms() + SETUP_TIMEOUT_MS, &seq, err, errsz) < 0)
		return -1;
	HD.last_seq = seq;
	return 0;
}

int httpd_main(int argc, char **argv)
{
	char err[512];
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return applet_usage("httpd", 0);
	if (argc > 1)
		return applet_usage("httpd", 1);
	signal(SIGPIPE, SIG_IGN);
	int type = 0, dom = 0;
	socklen_t tl = sizeof type, dl = sizeof dom;
	if (getsockopt(CTL_FD, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
	    getsockopt(CTL_FD, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_UNIX)
		return die("%s%s", "no control connection on fd 3: mls supervise starts mls httpd when the config has http:",
			"");
	fcntl(CTL_FD, F_SETFD, FD_CLOEXEC);
	ctlclient_adopt(&HD.ctl, CTL_FD, 0);
	HD.ev.fd = HD.ev.passed_fd = -1;
	if (ctlclient_read_line(&HD.ctl, loop_now_ms() + SETUP_TIMEOUT_MS) != 1)
		return die("%s%s", "no settings from the supervisor on fd 3", "");
	if (load_settings(HD.ctl.line, HD.ctl.line_len, err, sizeof err) < 0)
		return die("%s%s", err, "");
	explicit_bzero(HD.ctl.line, HD.ctl.line_len);
	if (httpauth_init(&HD.auth) < 0)
		return die("%s%s", "cannot seed the session key", "");
	memset(&HD.rl, 0, sizeof HD.rl);

	HD.l = loop_new();
	struct httpsrv_config sc = { .max_connections = HD.set.max_connections };
	HD.srv = HD.l ? httpsrv_new(HD.l, &sc, hd_handle, hd_on_close, NULL) : NULL;
	if (!HD.srv)
		return die("%s%s", "out of memory", "");
	HD.tls_on = HD.set.tls != 0;
	if (HD.tls_on) {
#if MLS_HAVE_TLS
		if (setup_tls(err, sizeof err) < 0)
			return die("%s%s", err, "");
#else
		return die("%s%s", "this build has no TLS (NO_TLS=1): set http.tls: off (loopback only)", "");
#endif
	}
	for (int k = 0; k < HD.set.nlisten; k++) {
		if (httpsrv_listen(HD.srv, HD.set.listen[k], HD.tls_on, err, sizeof err) < 0)
			return die("%s%s", err, "");
		fprintf(stderr, "mls httpd: listening on %s://%s\n", HD.tls_on ? "https" : "http", HD.set.listen[k]);
	}
	if (hd_notify_init(err, sizeof err) < 0)
		return die("%s%s", err, "");
	if (drop_privileges(err, sizeof err) < 0)
		return die("%s%s", err, "");
	if (open_events(err, sizeof err) < 0)
		return die("%s%s", err, "");
	fcntl(HD.ctl.fd, F_SETFL, fcntl(HD.ctl.fd, F_GETFL) | O_NONBLOCK);
	fcntl(HD.ev.fd, F_SETFL, fcntl(HD.ev.fd, F_GETFL) | O_NONBLOCK);
	HD.ctl_id = loop_add_fd(HD.l, HD.ctl.fd, POLLIN, hd_ctl_readable, NULL);
	HD.ev_id = loop_add_fd(HD.l, HD.ev.fd, POLLIN, hd_ev_readable, NULL);
	loop_add_signal(HD.l, SIGTERM, on_signal, NULL);
	loop_add_signal(HD.l, SIGINT, on_signal, NULL);
	HD.start_ms = loop_now_ms();
	/* events already buffered with the reply to `events` */
	hd_ev_readable(HD.l, HD.ev_id, HD.ev.fd, POLLIN, NULL);
	hd_notify_start();
	if (!HD.stopping)
		loop_run(HD.l);
	httpsrv_close(HD.srv);
	/* webhooks on their way (the `stopped` of a shutdown) get a moment */
	for (int64_t end = loop_now_ms() + NOTIFY_DRAIN_MS; hd_notify_busy() && loop_now_ms() < end;)
		loop_run_once(HD.l, (int)(end - loop_now_ms()));
	return 0;
}
