/* ctl.h: what the files of `mls ctl` share (applets/ctl*.c).
 *
 * ctl.c        options, dispatch, the one-request commands
 * ctl_conn.c   the socket (lib/ctlclient) with ctl's messages: connect,
 *              send a request, read and check the reply
 * ctl_fmt.c    durations, times and tables for the terminal
 * ctl_status.c status and top
 * ctl_wait.c   start, stop, restart (waiting for the result), shutdown
 * ctl_logs.c   logs, history, events
 * ctl_run.c    run: one instance in the foreground, no supervisor
 *
 * Commands print and return the exit status (CTL_*). */
#ifndef MLS_CTL_H
#define MLS_CTL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "cJSON.h"
#include "ctlclient.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2, CTL_UNREACHABLE = 3 };

#define CTL_MAX_REPLY    (64u << 20) /* bytes in one reply or event line (the
                                         cap ctl gives lib/ctlclient) */
#define CTL_REPLY_MS     10000       /* a reply must arrive within this */
#define CTL_WAIT_MS      90000       /* --timeout default */
#define CTL_TOP_MS       2000        /* top refreshes at least this often */

/* Global options */
struct ctl {
	const char *sock;
	int json;           /* print raw replies */
	int no_wait;
	int64_t timeout_ms; /* 0 = no limit */
	int timeout_set;    /* --timeout given */
};

/* --- ctl_conn.c: lib/ctlclient with ctl's messages and exit codes ---
 * Connections are struct ctlclient (lib/ctlclient.h): read lines with
 * ctlclient_read_line(), ctlclient_pump(), ctlclient_next_line() (nothing
 * printed), close with ctlclient_close(). */

/* Connects (lines up to CTL_MAX_REPLY); on failure prints "cannot reach
 * the supervisor" (or why no connection was tried) and returns -1 (the
 * command then exits CTL_UNREACHABLE). k can be closed either way. */
int conn_open(const struct ctl *c, struct ctlclient *k);
/* Sends words[0..n) joined by spaces as one request. Returns 0 or -1
 * (printed). */
int conn_send(struct ctlclient *k, char *const *words, int n);
int conn_send1(struct ctlclient *k, const char *line);
/* Reads the reply to a request sent on k (within CTL_REPLY_MS) and parses
 * it. Returns the object, or NULL with *rc set and a message printed:
 * CTL_UNREACHABLE for no reply (EOF, timeout), CTL_FAIL for a reply that
 * is not JSON or says ok:false (its "error" is printed, and "errors"
 * lines when there are). With `keep_failed`, an ok:false reply is
 * returned instead (nothing printed). k->line is the reply's line. */
cJSON *conn_reply(struct ctlclient *k, int *rc, int keep_failed);
/* A new connection subscribed to `events` (its reply is k->line); 0, or
 * -1 with *rc (the connection closed) */
int conn_events(const struct ctl *c, struct ctlclient *ev, int *rc);
/* One request on a new connection: connect, send, read the reply.
 * With c->json the raw reply line is printed on stdout. */
cJSON *ctl_call(const struct ctl *c, char *const *words, int n, int *rc);
/* Checks that each word can be sent (non-empty, no blank or control
 * byte); prints and returns -1 if not. */
int ctl_words_ok(char *const *words, int n);

/* --- ctl_fmt.c --- */

/* JSON accessors: NULL / fallback when absent or of another type */
const char *js_str(const cJSON *o, const char *key);
int js_num(const cJSON *o, const char *key, double *out);
int js_bool(const cJSON *o, const char *key);
cJSON *js_arr(const cJSON *o, const char *key);

/* 5s, 3m12s, 2h04m, 3d02h */
char *fmt_uptime(int64_t s, char *buf, size_t sz);
/* like fmt_uptime, but "0.4s"/"12.3s" under a minute */
char *fmt_uptime_ms(int64_t ms, char *buf, size_t sz);
/* local time: "HH:MM:SS" today, else "YYYY-MM-DD HH:MM:SS" (always the
 * date with `date`) */
char *fmt_clock(double epoch_s, int date, char *buf, size_t sz);
double now_wall(void);

/* A table sized to its content; the last column is not padded */
struct table {
	int ncols, nrows, cap;
	char **cells;      /* nrows * ncols, malloc'd */
};
void table_init(struct table *t, int ncols, const char *const *header);
void table_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

/* --- commands --- */
int ctl_status(const struct ctl *c, int argc, char **argv);
int ctl_health(const struct ctl *c, int argc, char **argv);
int ctl_top(const struct ctl *c, int argc, char **argv);
int ctl_change(const struct ctl *c, int argc, char **argv); /* start|stop|restart */
int ctl_shutdown(const struct ctl *c, int argc, char **argv);
/* ctl_power.c: poweroff, reboot, halt (the supervisor in init mode) */
int ctl_power(const struct ctl *c, int argc, char **argv);
int ctl_logs(const struct ctl *c, int argc, char **argv);
int ctl_history(const struct ctl *c, int argc, char **argv);
int ctl_events(const struct ctl *c, int argc, char **argv);
int ctl_run(const struct ctl *c, int argc, char **argv);
int ctl_deploy(const struct ctl *c, int argc, char **argv); /* deploy|rollback */

/* Usage error for a command: prints msg and the usage, returns CTL_USAGE */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
