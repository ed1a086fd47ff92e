#include <errno.h>
#include <unistd.h>
#include "fdio.h"

int write_all(int fd, const char *buf, size_t len, size_t *done)
{
	*done = 0;
	while (*done < len) {
		ssize_t w = write(fd, buf + *done, len - *done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		*done += (size_t)w;
	}
	return 0;
}
