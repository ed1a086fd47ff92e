/* libFuzzer target: the output capture (lib/logsink.c) on arbitrary bytes:
 * line splitting across feeds of sizes taken from the input, the 64 KiB
 * split, the ring, the tail, flush at exit, with a small max_size so
 * rotation runs too (files under a temporary directory). Never a crash, a
 * leak or a line count that does not add up. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "logsink.h"

static char dir[] = "/tmp/mls-fuzz-log.XXXXXX";
static int have_dir;

static void count(const char *line, size_t len, void *ctx)
{
	(void)line;
	(void)len;
	++*(int *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!have_dir && mkdtemp(dir))
		have_dir = 1;
	char path[64];
	snprintf(path, sizeof path, "%s/x.log", dir);
	struct logsink s;
	struct timespec now = { 1763800000, 123000000 };
	/* first byte: ring size and rotation */
	size_t ring = size ? (size_t)(data[0] & 0x0f) * 256 : 0;
	logsink_open(&s, have_dir ? path : NULL, "fz.1", -1, 1024, size && (data[0] & 0x10) ? 2 : 0, ring);
	size_t off = size ? 1 : 0;
	while (off < size) {
		size_t n = (size_t)data[off - (off > 0)] % 200 + 1;
		if (n > size - off)
			n = size - off;
		logsink_feed(&s, (const char *)data + off, n, &now);
		off += n;
		now.tv_nsec = (now.tv_nsec + 1000000) % 1000000000;
	}
	logsink_flush(&s, &now);
	int lines = 0;
	int got = logsink_tail(&s, 1000000, count, &lines);
	if (got != lines || (ring == 0 && got != 0))
		abort();
	logsink_close(&s);
	if (have_dir) {
		char p[80];
		for (int k = 0; k <= 2; k++) {
			snprintf(p, sizeof p, k ? "%s.%d" : "%s", path, k);
			unlink(p);
		}
	}
	return 0;
}
