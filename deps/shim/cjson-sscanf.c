/* cjson-sscanf.c: compiled into libcjson.a by scripts/build-dep.sh, with
 * cJSON.c built as -Dsscanf=mls_cjson_sscanf. cJSON's print_number checks
 * its "%1.15g" text with sscanf(buf, "%lg", &d), the only scanf in mls: it
 * pulled musl's whole vfscanf (about 4 KiB) into the binary. This does that
 * one conversion with strtod, as sscanf would (leading blanks skipped, 1
 * when a number was read, 0 when not). Any other format reads nothing. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int mls_cjson_sscanf(const char *s, const char *fmt, ...);

int mls_cjson_sscanf(const char *s, const char *fmt, ...)
{
	if (strcmp(fmt, "%lg"))
		return 0;
	va_list ap;
	va_start(ap, fmt);
	double *d = va_arg(ap, double *);
	va_end(ap);
	char *end;
	double v = strtod(s, &end);
	if (end == s)
		return 0;
	*d = v;
	return 1;
}
