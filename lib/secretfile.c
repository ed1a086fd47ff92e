/* secretfile.c: a secret from its file (secretfile.h) */
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *secretfile_read(const char *path, const char *what, size_t min, char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char buf[SECRETFILE_MAX + 1];
	ssize_t n = read(fd, buf, sizeof buf);
	int e = errno;
	close(fd);
	if (n < 0 || n > SECRETFILE_MAX) {
		snprintf(err, errsz, n < 0 ? "cannot read %s: %s" : "%s is larger than 4 KiB", path, strerror(e));
		return NULL;
	}
	buf[n] = 0;
	char *s = buf + strspn(buf, " \t\r\n"), *end = s + strcspn(s, "\r\n");
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = 0;
	char *t = NULL;
	if (!*s)
		snprintf(err, errsz, "%s is empty", path);
	else if (strlen(s) < min)
		snprintf(err, errsz, "the %s in %s is shorter than %zu characters", what, path, min);
	else if (!(t = strdup(s)))
		snprintf(err, errsz, "out of memory");
	explicit_bzero(buf, sizeof buf);
	return t;
}
