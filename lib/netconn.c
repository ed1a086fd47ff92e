/* netconn.c: connect with a deadline (netconn.h) */
#include "netconn.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "loop.h"

/* 1 writable, 0 deadline passed, -1 error */
static int wait_writable(int fd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - loop_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

int netconn_tcp(const char *host, const char *port, int64_t deadline, int *gai_err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	*gai_err = getaddrinfo(host, port, &hints, &res);
	if (*gai_err)
		return -1;
	int err = ENOENT;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			freeaddrinfo(res);
			return fd;
		}
		err = errno;
		if (err == EINPROGRESS) {
			socklen_t len = sizeof err;
			int r = wait_writable(fd, deadline);
			if (r == 0)
				err = ETIMEDOUT;
			else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
				err = errno;
			else if (!err) {
				freeaddrinfo(res);
				return fd;
			}
		}
		close(fd);
		if (err == ETIMEDOUT)
			break; /* the deadline is for them all */
	}
	freeaddrinfo(res);
	errno = err;
	return -1;
}
