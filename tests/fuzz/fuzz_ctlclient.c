/* libFuzzer target: the client side of the control socket (lib/ctlclient.c)
 * on arbitrary bytes, over a real socketpair.
 *
 * Byte 0 picks the cap on a line (1..64 bytes, or the default) and the
 * read style; byte 1 the size of the pieces the peer writes. The rest is:
 *  - sent by the peer as the server's output, then the peer closes; the
 *    client reads it all (ctlclient_pump() + ctlclient_next_line() after
 *    each piece, or ctlclient_read_line() at the end). Every line returned
 *    must be the next bytes of the input up to a "\n" (or "\r\n"), hold no
 *    newline, fit the cap; the end must be EOF with no complete line left,
 *    or EMSGSIZE exactly when the next line does not fit;
 *  - also given to ctlclient_send_line() (up to its first NUL): it is
 *    refused with nothing sent, or sent as that line and a newline, which
 *    must then obey the protocol (docs/protocol.md: at most 4096 bytes,
 *    1..256 words, no control byte but tab).
 * Never a crash, a leak, a hang or a broken rule: abort() marks one. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ctlclient.h"

/* Is line/len (returned at input position *pos) the next line there? */
static void check_line(const uint8_t *d, size_t size, size_t *pos,
	const struct ctlclient *k)
{
	size_t p = *pos, n = k->line_len;

	if (n > size - p || memcmp(k->line, d + p, n) || memchr(k->line, '\n', n) ||
			k->line[n] != '\0')
		abort();
	if (p + n < size && d[p + n] == '\n')
		*pos = p + n + 1;
	else if (p + n + 1 < size && d[p + n] == '\r' && d[p + n + 1] == '\n')
		*pos = p + n + 2;
	else
		abort();
	if (*pos - p > k->max_line)
		abort(); /* longer than the cap */
}

/* How it ended: r (0 EOF, -1 errno e) after the lines up to pos */
static void check_end(const uint8_t *d, size_t size, size_t pos,
	size_t max_line, int r, int e)
{
	const uint8_t *nl = memchr(d + pos, '\n', size - pos);

	if (r == 0 && nl)
		abort(); /* a complete line left unread at EOF */
	if (r == 0 && size - pos >= max_line)
		abort(); /* EOF reported where the cap was passed */
	if (r < 0 && (e != EMSGSIZE || (nl && (size_t)(nl - (d + pos)) + 1 <= max_line) ||
			(!nl && size - pos < max_line)))
		abort(); /* an error, or EMSGSIZE for a line that fits */
	if (r > 0)
		abort();
}

static void fuzz_read(const uint8_t *d, size_t size, size_t max_line,
	int style, size_t piece)
{
	struct ctlclient k;
	size_t off = 0, pos = 0;
	int sv[2], r = 1, e = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	ctlclient_adopt(&k, sv[0], max_line);
	if (style) {
		/* all of it, then read_line() to the end (the socket holds it:
		 * inputs are at most 64 KiB) */
		while (off < size) {
			ssize_t w = send(sv[1], d + off, size - off, MSG_NOSIGNAL);
			if (w <= 0)
				abort();
			off += (size_t)w;
		}
		close(sv[1]);
		while ((r = ctlclient_read_line(&k, -1)) == 1)
			check_line(d, size, &pos, &k);
		e = errno;
	} else {
		/* piece by piece, each pumped and drained */
		while (r > 0) {
			if (off < size) {
				size_t n = size - off < piece ? size - off : piece;
				ssize_t w = send(sv[1], d + off, n, MSG_NOSIGNAL);
				if (w > 0)
					off += (size_t)w;
				if (off == size) {
					close(sv[1]);
					sv[1] = -1;
				}
			} else if (sv[1] >= 0) {
				close(sv[1]); /* size 0 */
				sv[1] = -1;
			}
			struct pollfd p = { .fd = k.fd, .events = POLLIN };
			if (poll(&p, 1, 1000) <= 0)
				abort(); /* data or EOF is always there by now */
			r = ctlclient_pump(&k);
			e = errno;
			while (ctlclient_next_line(&k))
				check_line(d, size, &pos, &k);
		}
	}
	check_end(d, size, pos, k.max_line, r, e);
	ctlclient_close(&k);
	if (sv[1] >= 0 && style == 0)
		close(sv[1]);
}

static void fuzz_send(const uint8_t *d, size_t size)
{
	static char line[PROTO_MAX_LINE * 2 + 2], got[PROTO_MAX_LINE * 2 + 2];
	size_t n = size < sizeof line - 1 ? size : sizeof line - 1, len = 0;
	struct ctlclient k;
	int sv[2], rc;

	memcpy(line, d, n);
	line[n] = '\0';
	n = strlen(line);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	ctlclient_adopt(&k, sv[0], 0);
	rc = ctlclient_send_line(&k, line, NULL, 0);
	for (;;) {
		ssize_t r = recv(sv[1], got + len, sizeof got - len, MSG_DONTWAIT);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (rc < 0 && len)
		abort(); /* refused, yet something went out */
	if (rc == 0) {
		int words = 0, in_word = 0;
		if (len != n + 1 || memcmp(got, line, n) || got[n] != '\n' || len > PROTO_MAX_LINE)
			abort();
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)got[i];
			int blank = c == ' ' || c == '\t';
			if (c < 0x20 && c != '\t')
				abort();
			words += !blank && !in_word;
			in_word = !blank;
		}
		if (words < 1 || words > PROTO_MAX_WORDS)
			abort();
	}
	ctlclient_close(&k);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max_line = data[0] % 65; /* 0: the default cap */
	int style = data[0] >> 7;
	size_t piece = (size_t)data[1] % 32 + 1;

	fuzz_read(data + 2, size - 2, max_line, style, piece);
	fuzz_send(data + 2, size - 2);
	return 0;
}
