/* ctl_conn.c: mls ctl's side of the control socket: lib/ctlclient (which
 * connects, sends and reads lines, and never prints) with ctl's messages
 * and exit codes, and the reply checks every command shares. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ctl.h"
#include "loop.h"

int conn_open(const struct ctl *c, struct ctlclient *k)
{
	char err[CTLCLIENT_ERR_MAX];

	if (!ctlclient_connect(k, c->sock, CTL_MAX_REPLY, err, sizeof err))
		return 0;
	if (k->connect_failed)
		fprintf(stderr, "mls ctl: %s (is mls supervise running? -s SOCKET or $MLS_SOCKET)\n", err);
	else if (errno == ENAMETOOLONG) /* the path is not in err: any length */
		fprintf(stderr, "mls ctl: %s: %s\n", err, c->sock);
	else
		fprintf(stderr, "mls ctl: %s\n", err);
	return -1;
}

int conn_send1(struct ctlclient *k, const char *line)
{
	char err[CTLCLIENT_ERR_MAX];

	if (!ctlclient_send_line(k, line, err, sizeof err))
		return 0;
	fprintf(stderr, "mls ctl: %s\n", err);
	return -1;
}

int conn_send(struct ctlclient *k, char *const *words, int n)
{
	char err[CTLCLIENT_ERR_MAX];

	if (!ctlclient_send(k, words, n, err, sizeof err))
		return 0;
	fprintf(stderr, "mls ctl: %s\n", err);
	return -1;
}

static void print_failed(const cJSON *j)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
	const cJSON *e;
	cJSON_ArrayForEach(e, errs)
		if (cJSON_IsString(e))
			fprintf(stderr, "%s\n", e->valuestring);
	const char *msg = js_str(j, "error");
	fprintf(stderr, "mls ctl: %s\n", msg ? msg : "the supervisor refused (no message)");
}

cJSON *conn_reply(struct ctlclient *k, int *rc, int keep_failed)
{
	int r = ctlclient_read_line(k, loop_now_ms() + CTL_REPLY_MS);
	if (r <= 0) {
		if (r == 0)
			fprintf(stderr, "mls ctl: the supervisor closed the connection without a reply\n");
		else if (errno == ETIMEDOUT)
			fprintf(stderr, "mls ctl: no reply from the supervisor within %ds\n", CTL_REPLY_MS / 1000);
		else if (errno == EMSGSIZE)
			fprintf(stderr, "mls ctl: reply longer than %u MiB, not read\n", CTL_MAX_REPLY >> 20);
		else
			fprintf(stderr, "mls ctl: cannot read the reply: %s\n", strerror(errno));
		*rc = errno == EMSGSIZE && r < 0 ? CTL_FAIL : CTL_UNREACHABLE;
		return NULL;
	}
	cJSON *j = cJSON_Parse(k->line);
	if (!j || !cJSON_IsObject(j)) {
		fprintf(stderr, "mls ctl: the supervisor sent a reply that is not a JSON object\n");
		cJSON_Delete(j);
		*rc = CTL_FAIL;
		return NULL;
	}
	if (!js_bool(j, "ok") && !keep_failed) {
		print_failed(j);
		cJSON_Delete(j);
		*rc = CTL_FAIL;
		return NULL;
	}
	*rc = CTL_OK;
	return j;
}

cJSON *ctl_call(const struct ctl *c, char *const *words, int n, int *rc)
{
	struct ctlclient k;
	if (conn_open(c, &k)) {
		*rc = CTL_UNREACHABLE;
		return NULL;
	}
	cJSON *j = NULL;
	if (conn_send(&k, words, n))
		*rc = CTL_UNREACHABLE;
	else if (c->json) {
		/* raw reply on stdout, then the same checks */
		j = conn_reply(&k, rc, 1);
		if (j) {
			printf("%s\n", k.line);
			if (!js_bool(j, "ok")) {
				cJSON_Delete(j);
				j = NULL;
				*rc = CTL_FAIL;
			}
		}
	} else
		j = conn_reply(&k, rc, 0);
	ctlclient_close(&k);
	return j;
}

int ctl_words_ok(char *const *words, int n)
{
	int bad;
	if (!ctlclient_check_words(words, n, &bad, NULL, 0))
		return 0;
	/* ctl's own words: the whole argument, and it is a name to the user */
	if (!*words[bad])
		fprintf(stderr, "mls ctl: empty argument\n");
	else
		fprintf(stderr, "mls ctl: '%s': no blanks or control characters in a name\n", words[bad]);
	return -1;
}

int conn_events(const struct ctl *c, struct ctlclient *ev, int *rc)
{
	cJSON *j = NULL;
	*rc = CTL_UNREACHABLE;
	if (conn_open(c, ev))
		return -1;
	if (conn_send1(ev, "events") || !(j = conn_reply(ev, rc, 0))) {
		ctlclient_close(ev);
		return -1;
	}
	cJSON_Delete(j);
	return 0;
}
