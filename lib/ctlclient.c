/* ctlclient.c: the client side of the control socket. The API is
 * documented in ctlclient.h; the protocol in docs/protocol.md.
 *
 * The read buffer holds the bytes not yet returned from off to len; a
 * line handed out is NUL-terminated in place (its '\n' overwritten), so
 * k->line points into buf and stays valid until the next call moves the
 * bytes down (compaction happens only when more room is needed). */
#include "ctlclient.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "loop.h"

#define XSTR(x) STR(x)
#define STR(x) #x

#define BUF_START 16384 /* first read buffer */
#define MIN_READ 4096   /* grow the buffer when less room than this is left */
#define POLL_MAX_MS 60000 /* longest single poll() (deadlines are int64) */

_Static_assert(sizeof ((struct sockaddr_un *)0)->sun_path == CTLCLIENT_MAX_PATH + 1,
	"CTLCLIENT_MAX_PATH is sun_path less its NUL");

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------- lifetime */

static void setup(struct ctlclient *k, int fd, size_t max_line)
{
	memset(k, 0, sizeof *k);
	k->fd = fd;
	k->passed_fd = -1;
	k->max_line = max_line ? max_line : CTLCLIENT_MAX_LINE;
	if (k->max_line > SIZE_MAX / 2)
		k->max_line = SIZE_MAX / 2; /* cap + 1 and doubling cannot overflow */
}

int ctlclient_connect(struct ctlclient *k, const char *path, size_t max_line,
	char *err, size_t errsz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd, e;

	setup(k, -1, max_line);
	if (n > CTLCLIENT_MAX_PATH) {
		set_err(err, errsz, "socket path too long (max %d bytes)", CTLCLIENT_MAX_PATH);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		set_err(err, errsz, "socket: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = errno;
		close(fd);
		k->connect_failed = 1;
		set_err(err, errsz, "cannot reach the supervisor at %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	k->fd = fd;
	return 0;
}

int ctlclient_adopt(struct ctlclient *k, int fd, size_t max_line)
{
	setup(k, -1, max_line);
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	k->fd = fd;
	return 0;
}

void ctlclient_close(struct ctlclient *k)
{
	if (k->fd >= 0)
		close(k->fd);
	if (k->passed_fd >= 0)
		close(k->passed_fd);
	free(k->buf);
	setup(k, -1, k->max_line);
}

/* ---------------------------------------------------------- requests */

static int bad_byte(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

int ctlclient_check_words(char *const *words, int n, int *bad,
	char *err, size_t errsz)
{
	for (int i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)words[i];
		int ok = *s != 0;
		for (; ok && *s; s++)
			ok = !bad_byte(*s);
		if (ok)
			continue;
		if (bad)
			*bad = i;
		if (!*words[i])
			set_err(err, errsz, "empty word");
		else
			set_err(err, errsz, "'%.200s': no blanks or control characters in a word",
				words[i]);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Writes all of buf; EAGAIN (non-blocking fd) waits for POLLOUT */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* buf[0..n) is a checked request without its newline; room for one more
 * byte at buf[n] */
static int send_request(struct ctlclient *k, char *buf, size_t n,
	char *err, size_t errsz)
{
	buf[n++] = '\n';
	if (send_all(k->fd, buf, n)) {
		int e = errno;
		set_err(err, errsz, "cannot send the request: %s", strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

static int too_long(char *err, size_t errsz)
{
	set_err(err, errsz, "request too long (max %d bytes)", PROTO_MAX_LINE);
	errno = EMSGSIZE;
	return -1;
}

static int too_many(char *err, size_t errsz)
{
	set_err(err, errsz, "too many words in one request (max %d)", PROTO_MAX_WORDS);
	errno = E2BIG;
	return -1;
}

static int empty(char *err, size_t errsz)
{
	set_err(err, errsz, "empty request");
	errno = EINVAL;
	return -1;
}

int ctlclient_send(struct ctlclient *k, char *const *words, int n,
	char *err, size_t errsz)
{
	char line[PROTO_MAX_LINE];
	size_t len = 0;

	if (n < 1)
		return empty(err, errsz);
	if (n > PROTO_MAX_WORDS)
		return too_many(err, errsz);
	if (ctlclient_check_words(words, n, NULL, err, errsz))
		return -1;
	for (int i = 0; i < n; i++) {
		size_t w = strlen(words[i]);
		/* the space before it (not the first), the word, the newline */
		if ((i > 0) + w + 1 > sizeof line - len)
			return too_long(err, errsz);
		if (i)
			line[len++] = ' ';
		memcpy(line + len, words[i], w);
		len += w;
	}
	return send_request(k, line, len, err, errsz);
}

int ctlclient_send_line(struct ctlclient *k, const char *line,
	char *err, size_t errsz)
{
	char buf[PROTO_MAX_LINE];
	int words = 0, in_word = 0;
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)line; *p; p++, n++) {
		if (*p < 0x20 && *p != '\t') {
			set_err(err, errsz, "control character in request");
			errno = EINVAL;
			return -1;
		}
		int blank = *p == ' ' || *p == '\t';
		words += !blank && !in_word;
		in_word = !blank;
	}
	if (!words)
		return empty(err, errsz);
	if (words > PROTO_MAX_WORDS)
		return too_many(err, errsz);
	if (n + 1 > sizeof buf)
		return too_long(err, errsz);
	memcpy(buf, line, n);
	return send_request(k, buf, n, err, errsz);
}

/* ----------------------------------------------------------- replies */

/* A complete line from off? Sets k->line and moves off past it. */
static int take_line(struct ctlclient *k)
{
	char *start, *nl;

	if (!k->buf || k->off + k->scanned >= k->len)
		return 0;
	start = k->buf + k->off;
	nl = memchr(start + k->scanned, '\n', k->len - k->off - k->scanned);
	if (!nl) {
		k->scanned = k->len - k->off;
		return 0;
	}
	*nl = '\0';
	k->line_len = (size_t)(nl - start);
	if (k->line_len && nl[-1] == '\r')
		nl[-1] = '\0', k->line_len--;
	k->line = start;
	k->off = (size_t)(nl - k->buf) + 1;
	k->scanned = 0;
	return 1;
}

/* Room for more bytes: at least MIN_READ, or what is left under the cap.
 * Drops returned bytes first (k->line is then stale: callers have moved
 * on). Returns 0; 1 when the buffer is full but holds a complete line (no
 * room is needed: take it first); -1 with EMSGSIZE when the unreturned
 * bytes already fill max_line without a newline, or ENOMEM. */
static int make_room(struct ctlclient *k)
{
	size_t cap;
	char *b;

	if (k->off) {
		memmove(k->buf, k->buf + k->off, k->len - k->off);
		k->len -= k->off;
		k->off = 0;
		k->line = NULL;
		k->line_len = 0;
	}
	if (k->len >= k->max_line) {
		if (memchr(k->buf + k->scanned, '\n', k->len - k->scanned))
			return 1;
		k->scanned = k->len;
		errno = EMSGSIZE;
		return -1;
	}
	if (k->buf && k->cap - k->len >= MIN_READ + 1)
		return 0;
	if (k->cap == k->max_line + 1)
		return 0; /* less than MIN_READ left, but as much as allowed */
	/* one byte over the cap: a read never fills the last byte, so len
	 * stays <= max_line */
	cap = k->cap ? k->cap : BUF_START;
	while (cap - k->len < MIN_READ + 1 && cap <= k->max_line / 2)
		cap *= 2;
	if (cap - k->len < MIN_READ + 1 || cap > k->max_line)
		cap = k->max_line + 1;
	if (cap == k->cap)
		return 0;
	b = realloc(k->buf, cap);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	k->buf = b;
	k->cap = cap;
	return 0;
}

/* Keeps the fd the server passed (SCM_RIGHTS), closing any more */
static void take_fds(struct ctlclient *k, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof f, sizeof f);
			if (k->passed_fd < 0)
				k->passed_fd = f;
			else
				close(f);
		}
	}
}

/* One recvmsg() into the free space: > 0 bytes, 0 EOF, -1 errno */
static ssize_t read_some(struct ctlclient *k)
{
	ssize_t n;
	union { struct cmsghdr align; char b[CMSG_SPACE(4 * sizeof(int))]; } cbuf;
	struct iovec iov = { k->buf + k->len, k->cap - k->len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	do {
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof cbuf.b;
		n = recvmsg(k->fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		k->len += (size_t)n;
		take_fds(k, &mh);
	}
	return n;
}

int ctlclient_take_fd(struct ctlclient *k)
{
	int f = k->passed_fd;
	k->passed_fd = -1;
	if (f < 0)
		errno = ENOENT;
	return f;
}

int ctlclient_next_line(struct ctlclient *k)
{
	return take_line(k);
}

int ctlclient_pump(struct ctlclient *k)
{
	int r = make_room(k);
	ssize_t n;

	if (r)
		return r;
	n = read_some(k);
	return n < 0 ? -1 : n > 0;
}

int ctlclient_read_line(struct ctlclient *k, int64_t deadline)
{
	for (;;) {
		int ms = -1, r;
		ssize_t n;

		if (take_line(k))
			return 1;
		/* (make_room()'s 1, a full buffer holding a line, cannot
		 * happen here: take_line() just found none) */
		if (make_room(k) < 0)
			return -1;
		if (deadline >= 0) {
			int64_t left = deadline - loop_now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			ms = left > POLL_MAX_MS ? POLL_MAX_MS : (int)left;
		}
		struct pollfd pf = { .fd = k->fd, .events = POLLIN };
		r = poll(&pf, 1, ms);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		n = read_some(k);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return (int)n;
	}
}

int ctlclient_open_events(struct ctlclient *k, struct ctlclient *ev, int64_t deadline, uint64_t *seq,
	char *err, size_t errsz)
{
	if (ctlclient_send_line(k, "channel", err, errsz) < 0)
		return -1;
	int rc = ctlclient_read_line(k, deadline);
	if (rc != 1 || strncmp(k->line, "{\"ok\":true", 10)) {
		set_err(err, errsz, "the supervisor gave no channel: %s", rc == 1 ? k->line : "no reply");
		return -1;
	}
	int fd = ctlclient_take_fd(k);
	if (fd < 0 || ctlclient_adopt(ev, fd, 0) < 0) {
		if (fd >= 0)
			close(fd);
		set_err(err, errsz, "no event stream from the supervisor");
		return -1;
	}
	if (ctlclient_send_line(ev, "events", err, errsz) < 0 || (rc = ctlclient_read_line(ev, deadline)) != 1 ||
	    strncmp(ev->line, "{\"ok\":true", 10)) {
		set_err(err, errsz, "the supervisor refused the event stream");
		ctlclient_close(ev);
		return -1;
	}
	const char *s = strstr(ev->line, "\"seq\":");
	if (seq)
		*seq = s ? strtoull(s + 6, NULL, 10) : 0;
	return 0;
}
