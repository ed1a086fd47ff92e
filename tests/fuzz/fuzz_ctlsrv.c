/* libFuzzer target: the control protocol's framing and word splitting
 * (lib/ctlsrv.c) on arbitrary bytes, through a real Unix socket and the
 * real loop. The input is sent in pieces whose sizes come from its first
 * byte (so partial lines, many lines per read and lines cut anywhere are
 * all seen), then the client shuts down its side and reads every reply
 * until the server closes. Never a crash, a leak, a hang or a reply that
 * is not one line per request. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctlsrv.h"
#include "loop.h"

static struct loop *L;
static struct ctlsrv *S;
static char path[108];

/* echo the words joined by '|'; "events" and "log:x" subscribe */
static void handler(struct ctlsrv *s, struct ctlconn *c, int argc, char **argv, void *ctx)
{
	char buf[PROTO_MAX_LINE + 16];
	size_t n = 0;
	(void)ctx;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (n + l + 2 > sizeof buf)
			break;
		if (i)
			buf[n++] = '|';
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	buf[n++] = '\n';
	ctlsrv_reply(c, buf, n);
	if (!strcmp(argv[0], "events"))
		ctlsrv_subscribe(c, "events");
	if (!strcmp(argv[0], "bcast"))
		ctlsrv_broadcast(s, "events", "{\"event\":1}\n", 12);
}

static void setup(void)
{
	snprintf(path, sizeof path, "/tmp/mls-fuzz-ctl.%d.sock", (int)getpid());
	L = loop_new();
	S = L ? ctlsrv_open(L, path, -1, handler, NULL) : NULL;
	if (!S) {
		perror("fuzz_ctlsrv: setup");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!S)
		setup();
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		abort();
	size_t piece = size ? (size_t)data[0] % 64 + 1 : 1, off = 0;
	char out[65536];
	int eof = 0, shut = 0;
	for (int round = 0; round < 20000 && !eof; round++) {
		if (off < size) {
			size_t n = size - off < piece ? size - off : piece;
			ssize_t w = send(fd, data + off, n, MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				off = size; /* the server closed: stop sending */
		}
		if (off >= size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		loop_run_once(L, 10);
		for (;;) {
			ssize_t r = recv(fd, out, sizeof out, 0);
			if (r > 0)
				continue;
			if (r == 0 || (r < 0 && errno != EAGAIN))
				eof = 1;
			break;
		}
		/* a subscriber never gets EOF from the server: it is done once
		 * everything was sent and read */
		if (off >= size && ctlsrv_nsubscribers(S) > 0 && round > 50)
			break;
	}
	int sub = ctlsrv_nsubscribers(S) > 0;
	close(fd);
	/* let the server see the close and free the connection */
	for (int round = 0; round < 100 && ctlsrv_nconns(S) > 0; round++)
		loop_run_once(L, 1);
	if (!eof && !sub)
		abort(); /* the server never answered up to the end nor closed */
	if (ctlsrv_nconns(S) > 0)
		abort(); /* a connection outlived its client */
	return 0;
}
