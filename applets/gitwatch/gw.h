/* gw.h: mls gitwatch's supervised mode (docs/gitwatch-protocol.md).
 *
 *   gw_main.c    settings from fd 3, directories and secrets as root, the
 *                privilege drop, requests to supervise, the event stream,
 *                the loop
 *   gw_repo.c    libgit2: bare repository, fetch, resolve, checkout into
 *                rev-<sha>.tmp then rename
 *   gw_deploy.c  the per-service state machine
 *   gw_state.c   the persisted state file, the current symlink, disk
 *                cleanup, autoexec.txt
 *
 * Single-threaded. A fetch or a checkout blocks the loop (libgit2 1.5.1 has
 * no asynchronous API); lib/gitstream bounds each connect, read and write
 * by its timeout (30 s), so a dead remote holds gitwatch at most that long
 * per stall, and events wait in the channel's socket meanwhile. */
#ifndef MLS_GW_H
#define MLS_GW_H

#include <stdint.h>
#include "ctlclient.h"
#include "gitdeploy.h"
#include "loop.h"

#define GW_SHA_LEN 40
#define GW_MAX_BAD 64         /* bad commits remembered per service */
#define GW_MAX_RECENT 32      /* revisions remembered in deploy order */
#define GW_MAX_INSTANCES 64   /* instances whose state verify follows */
#define GW_MSG_MAX 200        /* bytes of a message sent in a request */

enum gw_phase {
	PH_NONE, PH_CLONING, PH_UPDATING, PH_VERIFYING, PH_DEPLOYED,
	PH_ROLLED_BACK, PH_FAILED
};

/* What a service is doing between loop rounds */
enum gw_stage {
	ST_IDLE,       /* waiting for its poll timer or a request */
	ST_PRE_DEPLOY, /* pre_deploy runs in rev-<cand>: waiting for its event */
	ST_VERIFY      /* cand runs: watching events until the window ends */
};

typedef char gw_sha[GW_SHA_LEN + 1]; /* "" = none */

struct gw_bad {
	gw_sha rev;
	char reason[GW_MSG_MAX + 1];
};

/* What survives a restart of gitwatch (NAME/state, JSON) */
struct gw_saved {
	gw_sha good;                 /* last revision verified good */
	char good_ref[256];
	gw_sha prev_good;            /* the good one before it (manual rollback) */
	char prev_good_ref[256];
	char ref[256];               /* the ref current came from */
	gw_sha verifying;            /* current, not judged yet */
	enum gw_phase phase;
	char message[GW_MSG_MAX + 1];
	gw_sha from;                 /* rolled_back: the bad commit */
	gw_sha hold;                 /* after `deploy NAME REF`: the configured
	                                ref's commit then; polls deploy again
	                                once it moves */
	int nbad;
	struct gw_bad bad[GW_MAX_BAD];       /* oldest first */
	int nrecent;
	gw_sha recent[GW_MAX_RECENT];        /* deployed, newest first */
};

struct gw_svc {
	/* settings */
	char *name;
	char *url, *ref;             /* ref NULL: the remote's HEAD */
	char *ca_file;               /* NULL: GITSTREAM_DEFAULT_CA */
	char *username;
	char *secret;                /* token or password, read as root */
	int64_t interval_ms;         /* 0: only on deploy_request */
	int keep, rollback, has_command, has_pre_deploy, has_health, replicas;
	int64_t verify_window_ms;
	int is_config;               /* config_git: dir .config, config-apply */
	char *path;                  /* config_git: the file in the repository */
	char *dir;                   /* git_dir/NAME (or git_dir/.config) */

	/* state */
	struct gw_saved sv;
	gw_sha current;              /* what `current` points to; "" = none */
	enum gw_stage stage;
	gw_sha cand, cand_prev;      /* being deployed; current before it */
	char cand_ref[256];
	int64_t poll_timer, verify_timer; /* loop timer ids, 0 = none */
	int64_t backoff_ms;          /* next retry while nothing runs */
	uint64_t verify_seq;         /* events up to it predate the deploy */
	int crashes;                 /* failed exits in the window */
	char inst_stopping[GW_MAX_INSTANCES]; /* 1: its last state: stopping */
	int pending;                 /* a deploy_request waits for idle */
	int asked;                   /* the attempt under way was asked for */
	char *pending_ref;           /* its ref, or NULL */
	void *repo;                  /* git_repository *, open after a fetch */
	char head[256];              /* the remote's HEAD branch, after a fetch */
	gw_sha skipped;              /* last bad commit seen (logged once) */
	char last_fail[GW_MSG_MAX + 1]; /* its event sent once */
};

struct gw {
	struct loop *l;
	struct ctlclient ctl;        /* fd 3: requests */
	struct ctlclient ev;         /* the channel: events */
	char *state_dir, *git_dir;
	unsigned uid, gid;
	int nsvc;
	struct gw_svc *svc;          /* services, then config_git (is_config) */
	int stopping;
};

extern struct gw GW;

/* ---- gw_main.c */
int gw_main(void);                /* mls gitwatch with no argument */
/* Sends one request line on fd 3 and waits (30 s) for its reply; returns
 * the parsed reply (cJSON *, caller frees with cJSON_Delete) or NULL when
 * supervise is gone (then gitwatch stops) or the reply is not JSON. */
void *gw_request(const char *line);
/* 1 when reply (cJSON *) says "ok":true; else copies its error to err */
int gw_reply_ok(const void *reply, char *err, size_t errsz);
/* printf to stderr as "mls gitwatch: NAME: ..." */
void gw_log(const struct gw_svc *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- gw_repo.c */
int gw_repo_init(char *err, size_t errsz);
/* Fetches s's origin into DIR/repo (a bare repository, made on first use;
 * one that cannot be opened is made again). 0 or -1 with err. */
int gw_repo_fetch(struct gw_svc *s, char *err, size_t errsz);
/* The commit ref names after a fetch (a branch of origin, a tag, a commit
 * id; NULL: the remote's HEAD) into sha, and the name it was found under
 * (the branch for HEAD) into refname. 0 or -1 with err. */
int gw_repo_resolve(struct gw_svc *s, const char *ref, gw_sha sha,
	char *refname, size_t refsz, char *err, size_t errsz);
/* Checks commit sha out into DIR/rev-SHA (through rev-SHA.tmp); does
 * nothing when rev-SHA exists. 0 or -1 with err. */
int gw_repo_checkout(struct gw_svc *s, const char *sha, char *err, size_t errsz);
void gw_repo_shutdown(void);
/* https credentials for one fetch: user (NULL: the URL's, else "git") and
 * secret (NULL: none); asked twice, the server refused them */
struct gw_cred {
	const char *user, *secret;
	const char *what;            /* for the refusal: "--token-file", "token_file" */
	int tries;
};
/* libgit2's git_credential_acquire_cb, payload a struct gw_cred */
struct git_credential;
int gw_credentials(struct git_credential **out, const char *url, const char *user_from_url,
	unsigned int allowed, void *payload);
/* rm -rf path (no symlink followed); 0 when gone, -1 with errno */
int gw_rmtree(const char *path);

/* ---- gw_state.c */
int gw_state_load(struct gw_svc *s);
int gw_state_save(struct gw_svc *s);
int gw_bad_find(const struct gw_svc *s, const char *sha);
void gw_bad_add(struct gw_svc *s, const char *sha, const char *reason);
void gw_recent_add(struct gw_svc *s, const char *sha);
/* readlink DIR/current into s->current ("" when none or not rev-<sha>) */
void gw_current_read(struct gw_svc *s);
/* points DIR/current at rev-SHA (symlink current.tmp + rename) */
int gw_current_flip(struct gw_svc *s, const char *sha, char *err, size_t errsz);
/* removes DIR/ *.tmp and stale lock files of DIR/repo (at start) */
void gw_clean_leftovers(struct gw_svc *s);
/* keeps the newest `keep` of recent plus current, good and cand */
void gw_clean_revisions(struct gw_svc *s);
/* reads DIR/rev-SHA/autoexec.txt into *a; 0 or -1 with err */
int gw_autoexec(struct gw_svc *s, const char *sha, struct autoexec *a,
	char *err, size_t errsz);
const char *gw_phase_name(enum gw_phase p);
enum gw_phase gw_phase_of(const char *name);

/* ---- gw_deploy.c */
void gw_deploy_start(struct gw_svc *s);   /* restore and first actions */
void gw_deploy_event(const void *ev);     /* one event (cJSON *) */

#endif
