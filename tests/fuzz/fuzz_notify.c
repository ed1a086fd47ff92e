/* libFuzzer target: the sd_notify datagram parser (lib/notify.c) on
 * arbitrary bytes, with a reference check: the answer must be the same as
 * a plain line-by-line reading of the text before the first NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"

static int reference(const uint8_t *d, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++)
		if (i == n || d[i] == '\n' || d[i] == 0) {
			if (i - start == 7 && !memcmp(d + start, "READY=1", 7))
				return 1;
			if (i < n && d[i] == 0)
				return 0;
			start = i + 1;
		}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > NOTIFY_MAX)
		size = NOTIFY_MAX;
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (notify_says_ready(buf, size) != reference(data, size))
		abort();
	free(buf);
	return 0;
}
