/* mls import: print the mls config equivalent to another tool's setup.
 *
 *   mls import autoexec FILE|-
 *
 * AutoExec's services list (lib/autoexec_import.h) to YAML on stdout.
 * Exit: 0 every line converted, 1 some lines left out (each reported on
 * stderr; the rest is still printed), 2 usage or a file that cannot be
 * read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applets.h"
#include "autoexec_import.h"

#define MAX_INPUT (16 << 20) /* as mls validate: a services list is small */

/* The whole of f into *buf (NUL-terminated); its length, or -1 */
static long slurp(FILE *f, char **buf)
{
	size_t n = 0, cap = 0;
	char *b = NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(b, cap + 1);
			if (!nb) {
				free(b);
				errno = ENOMEM;
				return -1;
			}
			b = nb;
		}
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (n > MAX_INPUT) {
			free(b);
			errno = EFBIG;
			return -1;
		}
		if (r == 0) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				free(b);
				errno = e;
				return -1;
			}
			break;
		}
	}
	b[n] = 0;
	*buf = b;
	return (long)n;
}

int import_main(int argc, char **argv)
{
	if (argc < 2)
		return applet_usage("import", 1);
	if (strcmp(argv[1], "autoexec")) {
		fprintf(stderr, "mls import: unknown format '%s' (known: autoexec)\n", argv[1]);
		return applet_usage("import", 1);
	}
	if (argc != 3 || (argv[2][0] == '-' && argv[2][1])) {
		if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")))
			return applet_usage("import", 0);
		return applet_usage("import", 1);
	}
	const char *path = argv[2];
	int is_stdin = !strcmp(path, "-");
	const char *fname = is_stdin ? "(stdin)" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "mls import: %s: %s\n", path, strerror(errno));
		return 2;
	}
	errno = 0;
	char *text = NULL;
	long len = slurp(f, &text);
	int e = errno;
	if (!is_stdin)
		fclose(f);
	if (len < 0) {
		fprintf(stderr, "mls import: %s: %s\n", fname, e == EFBIG ? "over 16 MiB" : strerror(e));
		return 2;
	}
	struct autoexec_stats st;
	int rc = autoexec_import(text, (size_t)len, fname, stdout, stderr, &st);
	free(text);
	if (rc) {
		fprintf(stderr, "mls import: out of memory\n");
		return 1;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mls import: writing the output: %s\n", strerror(errno));
		return 1;
	}
	if (st.refused)
		fprintf(stderr, "mls import: %d line%s left out, %d service%s converted\n", st.refused,
			st.refused == 1 ? "" : "s", st.services, st.services == 1 ? "" : "s");
	return st.refused ? 1 : 0;
}
