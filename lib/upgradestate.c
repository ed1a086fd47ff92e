/* upgradestate.c: the framing of a live upgrade's state; see
 * upgradestate.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include "upgradestate.h"
#include "fdio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAGIC "mls-upgrade-state "
#define HDR_MAX 64

int upst_write(const char *body, size_t len, int version)
{
	char hdr[HDR_MAX];
	size_t done;
	int fd, e;

	if (len > UPST_MAX) {
		errno = EFBIG;
		return -1;
	}
	fd = memfd_create("mls-upgrade", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	int n = snprintf(hdr, sizeof hdr, MAGIC "%d %zu\n", version, len);
	if (write_all(fd, hdr, (size_t)n, &done) < 0 || write_all(fd, body, len, &done) < 0 ||
			lseek(fd, 0, SEEK_SET) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

char *upst_read(int fd, size_t *len, int *version, char *err, size_t errsz)
{
	char hdr[HDR_MAX + 1];
	ssize_t n = pread(fd, hdr, HDR_MAX, 0);
	if (n < 0) {
		snprintf(err, errsz, "cannot read the state (fd %d): %s", fd, strerror(errno));
		return NULL;
	}
	hdr[n] = 0;
	char *nl = strchr(hdr, '\n');
	long v = 0;
	unsigned long long l = 0;
	if (!nl || strncmp(hdr, MAGIC, sizeof MAGIC - 1)) {
		snprintf(err, errsz, "fd %d is not an upgrade state", fd);
		return NULL;
	}
	*nl = 0;
	/* "VERSION LEN": digits, one space, digits, the end (no sscanf: it
	 * would pull musl's scanf into the binary) */
	char *q = hdr + sizeof MAGIC - 1, *e;
	int good = *q >= '0' && *q <= '9';
	v = good ? strtol(q, &e, 10) : 0;
	good = good && *e == ' ' && e[1] >= '0' && e[1] <= '9';
	l = good ? strtoull(e + 1, &q, 10) : 0;
	if (!good || *q || v < 1) {
		snprintf(err, errsz, "bad upgrade state header");
		return NULL;
	}
	if (l > UPST_MAX) {
		snprintf(err, errsz, "upgrade state too long (%llu bytes, max %u)", l, UPST_MAX);
		return NULL;
	}
	off_t off = nl - hdr + 1;
	char *body = malloc((size_t)l + 1);
	if (!body) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	size_t got = 0;
	while (got < l) {
		ssize_t r = pread(fd, body + got, (size_t)l - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errsz, "upgrade state truncated (%zu of %llu bytes)", got, l);
			free(body);
			return NULL;
		}
		got += (size_t)r;
	}
	body[l] = 0;
	*len = (size_t)l;
	*version = v;
	return body;
}

void upst_hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t k = 0; k < n; k++) {
		out[2 * k] = d[in[k] >> 4];
		out[2 * k + 1] = d[in[k] & 15];
	}
}

static int nib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int upst_unhex(const char *in, size_t n2, unsigned char *out)
{
	if (n2 % 2)
		return -1;
	for (size_t k = 0; k < n2 / 2; k++) {
		int h = nib(in[2 * k]), l = nib(in[2 * k + 1]);
		if (h < 0 || l < 0)
			return -1;
		out[k] = (unsigned char)(h << 4 | l);
	}
	return 0;
}
