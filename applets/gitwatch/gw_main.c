/* gw_main.c: mls gitwatch supervised (gw.h, docs/gitwatch-protocol.md).
 *
 * Start-up, in this order: the settings line from fd 3; git_dir made and
 * given to uid:gid, the token and password files read, both as root; the
 * privileges dropped for good (lib/privdrop); the service directories;
 * libgit2; a `channel` for the event stream; then each service restored
 * from disk and the loop, until SIGTERM or supervise closes fd 3. */
#include "applets.h"
#if MLS_HAVE_GIT

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cJSON.h"
#include "gw.h"
#include "privdrop.h"
#include "secretfile.h"

struct gw GW;

#define CTL_FD 3
#define SETUP_TIMEOUT_MS 10000
#define REQUEST_TIMEOUT_MS 30000
#define SETTINGS_MAX (1u << 20)

static int die(const char *fmt, const char *a)
{
	fprintf(stderr, "mls gitwatch: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

void gw_log(const struct gw_svc *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", s->is_config ? "config_git" : s->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ------------------------------------------------------------ requests */

static void gone(const char *why)
{
	if (!GW.stopping)
		fprintf(stderr, "mls gitwatch: %s: stopping\n", why);
	GW.stopping = 1;
	if (GW.l)
		loop_stop(GW.l);
}

void *gw_request(const char *line)
{
	char err[CTLCLIENT_ERR_MAX];
	if (GW.stopping)
		return NULL;
	if (ctlclient_send_line(&GW.ctl, line, err, sizeof err) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			gone("the supervisor is gone");
		else
			fprintf(stderr, "mls gitwatch: request not sent: %s\n", err);
		return NULL;
	}
	int rc = ctlclient_read_line(&GW.ctl, loop_now_ms() + REQUEST_TIMEOUT_MS);
	if (rc != 1) {
		/* no reply: the connection is out of step, start again */
		gone(rc == 0 ? "the supervisor is gone" : "no reply from the supervisor");
		return NULL;
	}
	cJSON *j = cJSON_ParseWithLength(GW.ctl.line, GW.ctl.line_len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		fprintf(stderr, "mls gitwatch: a reply that is no JSON object\n");
		return NULL;
	}
	return j;
}

int gw_reply_ok(const void *reply, char *err, size_t errsz)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	if (cJSON_IsTrue(ok))
		return 1;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	snprintf(err, errsz, "%s", cJSON_IsString(e) ? e->valuestring : reply ? "refused" : "no reply");
	return 0;
}

/* ------------------------------------------------------------ settings */

static char *dup_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int64_t num(const cJSON *o, const char *key, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static int flag(const cJSON *o, const char *key, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}


static int load_svc(struct gw_svc *s, const cJSON *o, int is_config, char *err, size_t errsz)
{
	s->is_config = is_config;
	s->name = is_config ? strdup("config_git") : dup_str(o, "name");
	s->url = dup_str(o, "url");
	s->ref = dup_str(o, "ref");
	s->ca_file = dup_str(o, "ca_file");
	s->username = dup_str(o, "username");
	s->path = dup_str(o, "path");
	s->interval_ms = num(o, "interval_ms", 30000);
	s->keep = (int)num(o, "keep", 3);
	s->rollback = flag(o, "rollback", 1);
	s->verify_window_ms = num(o, "verify_window_ms", 60000);
	s->has_command = flag(o, "has_command", 1);
	s->has_pre_deploy = flag(o, "has_pre_deploy", 0);
	s->has_health = flag(o, "has_health", 0);
	s->replicas = (int)num(o, "replicas", 1);
	if (!s->name || !s->url || (is_config && !s->path)) {
		snprintf(err, errsz, "bad settings from the supervisor: a git entry without %s",
			!s->name ? "name" : !s->url ? "url" : "path");
		return -1;
	}
	/* a directory name under git_dir (config names are checked by the
	 * loader; this only keeps a bad one from leaving git_dir) */
	if (!is_config && (strchr(s->name, '/') || s->name[0] == '.')) {
		snprintf(err, errsz, "bad service name in the settings: %s", s->name);
		return -1;
	}
	if (asprintf(&s->dir, "%s/%s", GW.git_dir, is_config ? ".config" : s->name) < 0)
		return -1;
	char *tf = dup_str(o, "token_file"), *pf = dup_str(o, "password_file");
	int rc = 0;
	if (tf || pf) {
		if (!(s->secret = secretfile_read(tf ? tf : pf, tf ? "token" : "password", 0, err, errsz)))
			rc = -1;
		if (tf && !s->username)
			s->username = strdup("git");
	}
	free(tf);
	free(pf);
	return rc;
}

static int load_settings(const char *line, size_t len, char *err, size_t errsz)
{
	cJSON *j = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		snprintf(err, errsz, "bad settings from the supervisor");
		return -1;
	}
	GW.state_dir = dup_str(j, "state_dir");
	GW.git_dir = dup_str(j, "git_dir");
	GW.uid = (unsigned)num(j, "uid", (int64_t)geteuid());
	GW.gid = (unsigned)num(j, "gid", (int64_t)getegid());
	const cJSON *svcs = cJSON_GetObjectItemCaseSensitive(j, "services");
	const cJSON *cg = cJSON_GetObjectItemCaseSensitive(j, "config_git"), *v;
	int n = cJSON_GetArraySize(svcs) + cJSON_IsObject(cg);
	int rc = 0;
	GW.svc = calloc((size_t)n + 1, sizeof *GW.svc);
	if (!GW.git_dir || !GW.svc) {
		snprintf(err, errsz, "bad settings from the supervisor: %s", GW.svc ? "no git_dir" : "out of memory");
		rc = -1;
	}
	cJSON_ArrayForEach(v, svcs)
		if (!rc && cJSON_IsObject(v))
			rc = load_svc(&GW.svc[GW.nsvc++], v, 0, err, errsz);
	if (!rc && cJSON_IsObject(cg))
		rc = load_svc(&GW.svc[GW.nsvc++], cg, 1, err, errsz);
	cJSON_Delete(j);
	return rc;
}

/* git_dir (0755) given to uid:gid, as root: only it, its contents are
 * gitwatch's own already */
static int make_git_dir(char *err, size_t errsz)
{
	if (mkdir(GW.git_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "cannot make %s: %s", GW.git_dir, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && chown(GW.git_dir, GW.uid, GW.gid) < 0) {
		snprintf(err, errsz, "cannot chown %s: %s", GW.git_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the loop */

static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	(void)si; (void)ctx;
	GW.stopping = 1;
	loop_stop(l);
}

/* fd 3 between requests: only its end (EOF) can come */
static void on_ctl(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l; (void)fd; (void)revents; (void)ctx;
	int rc = ctlclient_pump(&GW.ctl);
	if (rc == 1) {
		while (ctlclient_next_line(&GW.ctl) == 1)
			; /* a stray line: ignored */
		return;
	}
	if (rc < 0 && errno == EAGAIN)
		return;
	loop_del_fd(GW.l, id);
	gone("the supervisor closed the control connection");
}

static void take_events(void)
{
	while (!GW.stopping && ctlclient_next_line(&GW.ev) == 1) {
		cJSON *j = cJSON_ParseWithLength(GW.ev.line, GW.ev.line_len);
		if (cJSON_IsObject(j))
			gw_deploy_event(j);
		cJSON_Delete(j);
	}
}

static void on_events(struct loop *l, int64_t id, int fd, int revents, void *ctx)
{
	(void)l; (void)fd; (void)revents; (void)ctx;
	int rc = ctlclient_pump(&GW.ev);
	if (rc < 0 && errno == EAGAIN)
		return;
	take_events();
	if (rc <= 0) {
		loop_del_fd(GW.l, id);
		gone("the event stream ended");
	}
}

/* The event stream: a second connection, asked for over the first */
static int open_events(char *err, size_t errsz)
{
	return ctlclient_open_events(&GW.ctl, &GW.ev, loop_now_ms() + SETUP_TIMEOUT_MS, NULL, err, errsz);
}

int gw_main(void)
{
	char err[512];
	signal(SIGPIPE, SIG_IGN);
	int type = 0, dom = 0;
	socklen_t tl = sizeof type, dl = sizeof dom;
	if (getsockopt(CTL_FD, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
	    getsockopt(CTL_FD, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_UNIX)
		return die("%s", "no control connection on fd 3: mls supervise starts mls gitwatch "
			"when the config has git: (developer commands: --clone URL DIR, --fetch DIR)");
	fcntl(CTL_FD, F_SETFD, FD_CLOEXEC);
	ctlclient_adopt(&GW.ctl, CTL_FD, SETTINGS_MAX + 1);
	GW.ev.fd = GW.ev.passed_fd = -1;
	if (ctlclient_read_line(&GW.ctl, loop_now_ms() + SETUP_TIMEOUT_MS) != 1)
		return die("%s", "no settings from the supervisor on fd 3");
	if (load_settings(GW.ctl.line, GW.ctl.line_len, err, sizeof err) < 0)
		return die("%s", err);
	explicit_bzero(GW.ctl.line, GW.ctl.line_len);
	if (make_git_dir(err, sizeof err) < 0 || privdrop(GW.uid, GW.gid, err, sizeof err) < 0)
		return die("%s", err);
	umask(022); /* checkouts readable by the services' users */
	for (int i = 0; i < GW.nsvc; i++)
		if (mkdir(GW.svc[i].dir, 0755) < 0 && errno != EEXIST)
			return die("cannot make %s", GW.svc[i].dir);
	if (gw_repo_init(err, sizeof err) < 0)
		return die("%s", err);
	if (open_events(err, sizeof err) < 0)
		return die("%s", err);
	GW.l = loop_new();
	if (!GW.l)
		return die("%s", "out of memory");
	fcntl(GW.ev.fd, F_SETFL, fcntl(GW.ev.fd, F_GETFL) | O_NONBLOCK);
	loop_add_fd(GW.l, GW.ctl.fd, POLLIN, on_ctl, NULL);
	int64_t ev_id = loop_add_fd(GW.l, GW.ev.fd, POLLIN, on_events, NULL);
	loop_add_signal(GW.l, SIGTERM, on_signal, NULL);
	loop_add_signal(GW.l, SIGINT, on_signal, NULL);
	for (int i = 0; i < GW.nsvc && !GW.stopping; i++)
		gw_deploy_start(&GW.svc[i]);
	/* events already buffered with the reply to `events` */
	(void)ev_id;
	take_events();
	if (!GW.stopping)
		loop_run(GW.l);
	gw_repo_shutdown();
	return 0;
}

#endif /* MLS_HAVE_GIT */
