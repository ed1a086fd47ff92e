/* libFuzzer target: the autoexec.txt parser (lib/gitdeploy.c) on arbitrary
 * bytes. Checks: 0 or -1; on success argv is NULL-terminated, every word
 * non-empty without blanks, the entry point relative with no ".." part;
 * the percent-encoding of each word holds no byte <= ' ' nor >= 0x7f and
 * decodes back to the word; the decoder on the raw input never overruns
 * and returns 0 or -1. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gitdeploy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	static struct autoexec a;
	char err[256], enc[3 * AUTOEXEC_MAX_LINE + 8], dec[AUTOEXEC_MAX_LINE + 8];
	/* the decoder (supervise's reader of annotate values) on the raw bytes */
	char *z = malloc(size + 1), small[8];
	if (z) {
		memcpy(z, data, size);
		z[size] = 0;
		int d = gitdeploy_pct_decode(z, small, sizeof small);
		if (d != 0 && d != -1)
			abort();
		if (!d && strlen(small) >= sizeof small)
			abort();
		free(z);
	}
	int r = autoexec_parse(&a, buf, size, err, sizeof err);
	free(buf);
	if (r != 0 && r != -1)
		abort();
	if (r)
		return 0;
	if (a.argc < 1 || a.argc > AUTOEXEC_MAX_ARGS + 1 || a.argv[a.argc] || !a.file ||
	    a.file[0] == '/')
		abort();
	for (const char *p = a.file; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			abort();
		p += n + (p[n] == '/');
	}
	for (int i = 0; i < a.argc; i++) {
		if (!a.argv[i][0] || strpbrk(a.argv[i], " \t\r\n"))
			abort();
		if (gitdeploy_pct_encode(a.argv[i], enc, sizeof enc) < 0)
			abort();
		for (const unsigned char *p = (const unsigned char *)enc; *p; p++)
			if (*p <= ' ' || *p >= 0x7f)
				abort();
		if (gitdeploy_pct_decode(enc, dec, sizeof dec) || strcmp(dec, a.argv[i]))
			abort();
	}
	return 0;
}
