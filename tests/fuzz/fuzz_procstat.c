/* libFuzzer target: the /proc/PID/stat parser (lib/procstat.c) on
 * arbitrary bytes, with a reference check: when it accepts a line without
 * NUL, sscanf() after the last ')' reads the same pgrp and utime + stime. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	int pgrp;
	unsigned long long ticks;
	int r = procstat_parse_stat(buf, size, &pgrp, &ticks);
	free(buf);
	if (r != 0 && r != -1)
		abort();
	if (r || memchr(data, 0, size))
		return 0;

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	const char *close = strrchr(s, ')');
	int g;
	unsigned long long ut, st;
	if (!close || sscanf(close + 1, " %*s %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &g, &ut, &st) != 3 ||
		g != pgrp || ut + st != ticks)
		abort();
	free(s);
	return 0;
}
