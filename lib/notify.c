/* notify.c: see notify.h */
#include <string.h>
#include "notify.h"

int notify_says_ready(const char *buf, size_t n)
{
	const char *z = memchr(buf, 0, n);
	const char *p = buf, *end = z ? z : buf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len == 7 && !memcmp(p, "READY=1", 7))
			return 1;
		p += len + 1;
	}
	return 0;
}
