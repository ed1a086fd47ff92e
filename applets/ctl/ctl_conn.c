/* ctl_conn.c: the client side of the control socket (docs/protocol.md).
 * Blocking writes (requests are small), reads through poll() with a
 * deadline and a cap on the line length. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctl.h"
#include "loop.h"
#include "proto.h"

int conn_open(const struct ctl *c, struct conn *k)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memset(k, 0, sizeof *k);
	k->fd = -1;
	if (strlen(c->sock) >= sizeof sa.sun_path) {
		fprintf(stderr, "mls ctl: socket path too long (max %zu bytes): %s\n",
			sizeof sa.sun_path - 1, c->sock);
		return -1;
	}
	strcpy(sa.sun_path, c->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "mls ctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		fprintf(stderr, "mls ctl: cannot reach the supervisor at %s: %s "
			"(is mls supervise running? -s SOCKET or $MLS_SOCKET)\n",
			c->sock, strerror(errno));
		close(fd);
		return -1;
	}
	k->fd = fd;
	return 0;
}

void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->buf);
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int conn_send1(struct conn *k, const char *line)
{
	size_t n = strlen(line);
	if (n + 1 > PROTO_MAX_LINE) {
		fprintf(stderr, "mls ctl: request too long (max %d bytes)\n", PROTO_MAX_LINE);
		return -1;
	}
	char buf[PROTO_MAX_LINE + 1];
	memcpy(buf, line, n);
	buf[n++] = '\n';
	if (write_all(k->fd, buf, n)) {
		fprintf(stderr, "mls ctl: cannot send the request: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int conn_send(struct conn *k, char *const *words, int n)
{
	char line[PROTO_MAX_LINE + 1];
	size_t len = 0;
	if (n > PROTO_MAX_WORDS) {
		fprintf(stderr, "mls ctl: too many words in one request (max %d)\n", PROTO_MAX_WORDS);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t w = strlen(words[i]);
		if (len + w + 2 > PROTO_MAX_LINE) {
			fprintf(stderr, "mls ctl: request too long (max %d bytes)\n", PROTO_MAX_LINE);
			return -1;
		}
		if (i)
			line[len++] = ' ';
		memcpy(line + len, words[i], w);
		len += w;
	}
	line[len] = 0;
	return conn_send1(k, line);
}

/* A complete line in buf from off? Sets k->line and advances. */
static int take_line(struct conn *k)
{
	char *start = k->buf + k->off;
	char *nl = memchr(start, '\n', k->len - k->off);
	if (!nl)
		return 0;
	*nl = 0;
	if (nl > start && nl[-1] == '\r')
		nl[-1] = 0;
	k->line = start;
	k->off = (size_t)(nl - k->buf) + 1;
	return 1;
}

/* Room for at least 4 KiB more, dropping consumed bytes first */
static int make_room(struct conn *k)
{
	if (k->off) {
		memmove(k->buf, k->buf + k->off, k->len - k->off);
		k->len -= k->off;
		k->off = 0;
	}
	if (k->len >= CTL_MAX_REPLY) {
		errno = EMSGSIZE;
		return -1;
	}
	if (k->cap - k->len >= 4096)
		return 0;
	size_t cap = k->cap ? k->cap * 2 : 16384;
	if (cap > CTL_MAX_REPLY + 1)
		cap = CTL_MAX_REPLY + 1;
	char *b = realloc(k->buf, cap);
	if (!b)
		return -1;
	k->buf = b;
	k->cap = cap;
	return 0;
}

int conn_next_line(struct conn *k)
{
	return k->buf && take_line(k);
}

int conn_pump(struct conn *k)
{
	if (make_room(k))
		return -1;
	ssize_t n;
	do
		n = read(k->fd, k->buf + k->len, k->cap - k->len - 1);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		k->len += (size_t)n;
	return n < 0 ? -1 : (int)(n > 0);
}

int conn_read_line(struct conn *k, int64_t deadline)
{
	for (;;) {
		if (k->buf && take_line(k))
			return 1;
		if (make_room(k))
			return -1;
		int ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - loop_now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			ms = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = { .fd = k->fd, .events = POLLIN };
		int r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		/* leave one byte for a NUL at the cap */
		ssize_t n = read(k->fd, k->buf + k->len, k->cap - k->len - 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		k->len += (size_t)n;
	}
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

cJSON *conn_reply(struct conn *k, int *rc, int keep_failed)
{
	int r = conn_read_line(k, loop_now_ms() + CTL_REPLY_MS);
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
	struct conn k;
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
	conn_close(&k);
	return j;
}

int ctl_words_ok(char *const *words, int n)
{
	for (int i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)words[i];
		if (!*s) {
			fprintf(stderr, "mls ctl: empty argument\n");
			return -1;
		}
		for (; *s; s++)
			if (*s <= ' ' || *s == 0x7f) {
				fprintf(stderr, "mls ctl: '%s': no blanks or control characters in a name\n", words[i]);
				return -1;
			}
	}
	return 0;
}
